/*
 * cmd_search.c — `maif search`: a query by text (vector, text or hybrid
 * mode) or by a raw float32 vector, with filters, over the artifact's
 * index and the embeddings added after it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define VEC_MAX_FLOATS 65536
#define WHERE_MAX 16

/* ISO-8601 UTC date or date-time ("2026-01-31", "2026-01-31T12:00:00Z",
 * fractions of a second allowed), or an age before now: "90s", "30m",
 * "24h", "7d". 1 and *us on success. */
static int parse_time(const char *s, uint64_t *us)
{
    char unit = 0;
    uint64_t n;
    size_t len = strlen(s);
    if (len >= 2 && strchr("smhd", s[len - 1])) {
        char num[24];
        if (len - 1 >= sizeof num) return 0;
        memcpy(num, s, len - 1);
        num[len - 1] = 0;
        unit = s[len - 1];
        if (!cli_parse_u64(num, &n)) return 0;
        uint64_t mul = unit == 's' ? 1 : unit == 'm' ? 60 : unit == 'h' ? 3600 : 86400;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t now = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
        if (n > UINT64_MAX / mul / 1000000u) return 0;
        uint64_t age = n * mul * 1000000u;
        *us = now > age ? now - age : 1;
        return 1;
    }
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *e = strptime(s, "%Y-%m-%d", &tm);
    if (!e) return 0;
    uint64_t frac = 0;
    if (*e == 'T' || *e == ' ') {
        e = strptime(e + 1, "%H:%M:%S", &tm);
        if (!e) return 0;
        if (*e == '.') {
            uint64_t scale = 100000;
            for (e++; *e >= '0' && *e <= '9'; e++, scale /= 10) frac += (uint64_t)(*e - '0') * scale;
        }
    }
    if (*e == 'Z') e++;
    if (*e) return 0;
    time_t t = timegm(&tm);
    if (t < 0) return 0;
    *us = (uint64_t)t * 1000000u + frac;
    return 1;
}

static int read_vector(const char *vpath, float **out, size_t *dim)
{
    char err[256];
    cli_fd_src src = {-1, 0};
    if (cli_open_input(vpath, &src.fd, err, sizeof err)) {
        cli_err(vpath, "%s", err);
        return CLI_EXIT_USAGE;
    }
    uint8_t *bytes = NULL;
    size_t n = 0;
    int rc = cli_read_all(&src, (uint64_t)VEC_MAX_FLOATS * 4 + 1, &bytes, &n);
    if (src.fd > 0) close(src.fd);
    if (rc || n == 0 || n % 4 || n > (size_t)VEC_MAX_FLOATS * 4) {
        cli_err(vpath, "expected raw little-endian float32 values (1 to %d of them)", VEC_MAX_FLOATS);
        free(bytes);
        return CLI_EXIT_USAGE;
    }
    *out = (float *)(void *)bytes; /* malloc'd: aligned for float */
    *dim = n / 4;
    return 0;
}

static const char *mode_name(int mode)
{
    return mode == MAIF_MODE_VECTOR ? "vector" : mode == MAIF_MODE_TEXT ? "text" : "hybrid";
}

/* --cross-modal: blocks of one type ranked through what is said about
 * them in text, fused by ACAM (docs/ACAM.md). */
static int cross_modal(const char *path, const char *query, uint32_t type, const char *model, size_t k, int json)
{
    maif_reader *r = NULL;
    int ex = cli_open_reader(path, &r);
    if (ex) return ex;
    maif_acam_hit *hits = malloc(k * sizeof *hits);
    size_t n = 0;
    int rc = hits ? maif_acam_search(r, model, query, strlen(query), type, MAIF_ACAM_FUSED, NULL, hits, k, &n) : MAIF_ENOMEM;
    if (rc) {
        ex = cli_fail(path, rc, maif_last_errmsg());
    } else if (json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++) {
            maif_block b;
            char hex[2 * MAIF_ID_BYTES + 1];
            if (maif_reader_block(r, hits[i].block, &b)) continue;
            json_array_append_new(arr, json_pack("{s:I, s:s, s:f, s:I}", "block", (json_int_t)hits[i].block, "id",
                                                 maif_hex(b.id, MAIF_ID_BYTES, hex), "score", (double)hits[i].score,
                                                 "sources", (json_int_t)hits[i].sources));
        }
        json_t *doc = json_pack("{s:s, s:o}", "mode", "cross-modal", "results", arr);
        ex = cli_print_json(doc);
        json_decref(doc);
    } else {
        for (size_t i = 0; i < n; i++) {
            maif_block b;
            char hex[2 * MAIF_ID_BYTES + 1];
            if (maif_reader_block(r, hits[i].block, &b)) continue;
            printf("%llu %s %.6f (%zu texts)\n", (unsigned long long)hits[i].block, maif_hex(b.id, MAIF_ID_BYTES, hex),
                   (double)hits[i].score, hits[i].sources);
        }
        ex = cli_finish(CLI_EXIT_OK);
    }
    free(hits);
    maif_reader_close(r);
    return ex;
}

static int run(int argc, char **argv)
{
    const char *k_s = NULL, *mode_s = NULL, *type_s = NULL, *since_s = NULL, *until_s = NULL, *ef_s = NULL;
    const char *vec_s = NULL, *model = NULL, *privacy_s = NULL, *half_s = NULL, *vw_s = NULL, *fusion_s = NULL;
    const char *where[WHERE_MAX];
    size_t nwhere = 0;
    int json = 0, exact = 0, all_versions = 0, cross = 0;
    const cli_opt opts[] = {
        {"--cross-modal", CLI_FLAG, &cross, NULL, NULL, 0, NULL},
        {"-k", CLI_VALUE, NULL, &k_s, NULL, 0, NULL},
        {"--mode", CLI_VALUE, NULL, &mode_s, NULL, 0, NULL},
        {"--type", CLI_VALUE, NULL, &type_s, NULL, 0, NULL},
        {"--where", CLI_MULTI, NULL, NULL, where, WHERE_MAX, &nwhere},
        {"--since", CLI_VALUE, NULL, &since_s, NULL, 0, NULL},
        {"--until", CLI_VALUE, NULL, &until_s, NULL, 0, NULL},
        {"--ef", CLI_VALUE, NULL, &ef_s, NULL, 0, NULL},
        {"--vector", CLI_VALUE, NULL, &vec_s, NULL, 0, NULL},
        {"--model", CLI_VALUE, NULL, &model, NULL, 0, NULL},
        {"--privacy", CLI_VALUE, NULL, &privacy_s, NULL, 0, NULL},
        {"--half-life", CLI_VALUE, NULL, &half_s, NULL, 0, NULL},
        {"--vector-weight", CLI_VALUE, NULL, &vw_s, NULL, 0, NULL},
        {"--fusion", CLI_VALUE, NULL, &fusion_s, NULL, 0, NULL},
        {"--json", CLI_FLAG, &json, NULL, NULL, 0, NULL},
        {"--exact", CLI_FLAG, &exact, NULL, NULL, 0, NULL},
        {"--all-versions", CLI_FLAG, &all_versions, NULL, NULL, 0, NULL},
        {0},
    };
    const char *pos[2];
    int np;
    const cli_command *me = &cli_cmd_search;
    int pr = cli_parse(me, argc, argv, opts, pos, 1, 2, &np);
    if (pr == CLI_PARSE_HELP) return cli_help(me);
    if (pr != CLI_PARSE_OK) return CLI_EXIT_USAGE;
    const char *path = pos[0], *query = np == 2 ? pos[1] : NULL;
    if ((query != NULL) == (vec_s != NULL)) return cli_usage_err(me, "give a query text or --vector VEC.f32 (one of them)");
    uint64_t k = 10, ef = 0, since = 0, until = 0, half = 0, vw = 0;
    int mode = 0;
    uint32_t type = 0;
    int privacy = 0;
    if (k_s && (!cli_parse_u64(k_s, &k) || k < 1 || k > 10000)) return cli_usage_err(me, "-k: a number from 1 to 10000");
    if (ef_s && (!cli_parse_u64(ef_s, &ef) || ef < 1 || ef > 100000)) return cli_usage_err(me, "--ef: a number from 1 to 100000");
    if (half_s && (!cli_parse_u64(half_s, &half) || half < 1 || half > 1000000000000ULL))
        return cli_usage_err(me, "--half-life: a number of seconds");
    if (vw_s && (!cli_parse_u64(vw_s, &vw) || vw < 1 || vw > 10000))
        return cli_usage_err(me, "--vector-weight: a percentage from 1 to 10000");
    int fusion = 0;
    if (fusion_s) {
        if (strcmp(fusion_s, "dbsf") == 0) fusion = MAIF_FUSION_DBSF;
        else if (strcmp(fusion_s, "rrf") == 0) fusion = MAIF_FUSION_RRF;
        else return cli_usage_err(me, "--fusion: dbsf or rrf");
    }
    if (mode_s) {
        if (strcmp(mode_s, "vector") == 0) mode = MAIF_MODE_VECTOR;
        else if (strcmp(mode_s, "text") == 0) mode = MAIF_MODE_TEXT;
        else if (strcmp(mode_s, "hybrid") == 0) mode = MAIF_MODE_HYBRID;
        else return cli_usage_err(me, "--mode: vector, text or hybrid");
        if (vec_s && mode != MAIF_MODE_VECTOR) return cli_usage_err(me, "--vector searches in vector mode only");
    }
    if (type_s && maif_type_parse(type_s, &type) != MAIF_OK) return cli_usage_err(me, "--type: unknown type '%s'", type_s);
    if (since_s && !parse_time(since_s, &since))
        return cli_usage_err(me, "--since: a date (2026-01-31), date-time (2026-01-31T12:00:00Z) or age (24h, 7d)");
    if (until_s && !parse_time(until_s, &until))
        return cli_usage_err(me, "--until: a date (2026-01-31), date-time (2026-01-31T12:00:00Z) or age (24h, 7d)");
    if (privacy_s) {
        static const char *const lv[] = {"public", "internal", "confidential", "restricted"};
        for (int i = 0; i < 4; i++)
            if (strcmp(privacy_s, lv[i]) == 0) privacy = i + 1;
        if (!privacy) return cli_usage_err(me, "--privacy: public, internal, confidential or restricted");
    }
    if (cross) {
        if (!query) return cli_usage_err(me, "--cross-modal needs a query text");
        if (!type || type == MAIF_TYPE_TEXT) return cli_usage_err(me, "--cross-modal needs --type (image, audio, ...)");
        if (mode_s || nwhere || since_s || until_s || ef_s || privacy_s || half_s || exact || all_versions || vw_s ||
            fusion_s)
            return cli_usage_err(me, "--cross-modal takes -k, --type, --model and --json only");
        return cross_modal(path, query, type, model, (size_t)k, json);
    }
    maif_search *s = NULL;
    int rc = maif_search_create(&s);
    if (rc) return cli_fail(path, rc, maif_last_errmsg());
    for (size_t i = 0; i < nwhere; i++)
        if (maif_search_where(s, where[i]) != MAIF_OK) {
            maif_search_free(s);
            return cli_usage_err(me, "--where %s", maif_last_errmsg());
        }
    float *vec = NULL;
    size_t dim = 0;
    int ex = 0;
    if (vec_s && (ex = read_vector(vec_s, &vec, &dim))) {
        maif_search_free(s);
        return ex;
    }
    rc = vec ? maif_search_set_vector(s, vec, dim) : maif_search_set_text(s, query, strlen(query));
    free(vec);
    if (!rc) rc = maif_search_set(s, MAIF_SEARCH_K, (int64_t)k);
    if (!rc) rc = maif_search_set(s, MAIF_SEARCH_MODE, mode);
    if (!rc) rc = maif_search_set(s, MAIF_SEARCH_EF, (int64_t)ef);
    if (!rc) rc = maif_search_set(s, MAIF_SEARCH_TYPE, type);
    if (!rc) rc = maif_search_set(s, MAIF_SEARCH_SINCE_US, (int64_t)since);
    if (!rc) rc = maif_search_set(s, MAIF_SEARCH_UNTIL_US, (int64_t)until);
    if (!rc) rc = maif_search_set(s, MAIF_SEARCH_PRIVACY, privacy);
    if (!rc) rc = maif_search_set(s, MAIF_SEARCH_SUPERSEDED, all_versions);
    if (!rc) rc = maif_search_set(s, MAIF_SEARCH_HALF_LIFE_S, (int64_t)half);
    if (!rc) rc = maif_search_set(s, MAIF_SEARCH_VECTOR_WEIGHT, (int64_t)vw);
    if (!rc) rc = maif_search_set(s, MAIF_SEARCH_FUSION, fusion);
    if (!rc) rc = maif_search_set(s, MAIF_SEARCH_EXACT, exact);
    if (rc) {
        maif_search_free(s);
        return cli_usage_err(me, "%s", maif_last_errmsg());
    }
    maif_reader *r = NULL;
    maif_index *ix = NULL;
    if ((ex = cli_open_reader(path, &r))) {
        maif_search_free(s);
        return ex;
    }
    if ((rc = maif_index_open(&ix, r, model)) || (rc = maif_search_run(s, ix))) {
        ex = cli_fail(path, rc, maif_last_errmsg());
        goto out;
    }
    maif_index_info info;
    if ((rc = maif_index_get_info(ix, &info))) {
        ex = cli_fail(path, rc, maif_last_errmsg());
        goto out;
    }
    int used = mode ? mode : vec_s ? MAIF_MODE_VECTOR : info.dimensions ? MAIF_MODE_HYBRID : MAIF_MODE_TEXT;
    if (info.text_error && used != MAIF_MODE_VECTOR) /* the results stand: every text was scanned instead */
        fprintf(stderr, "maif: %s: warning: %s; text scored by a scan of every text\n", path, info.text_error);
    size_t n = maif_search_count(s);
    char hex[2 * MAIF_ID_BYTES + 1], tb[5];
    if (json) {
        json_t *doc = json_object(), *arr = json_array();
        json_object_set_new(doc, "mode", json_string(mode_name(used)));
        json_object_set_new(doc, "model", json_string(info.model));
        json_object_set_new(doc, "indexed", json_integer((json_int_t)info.indexed));
        json_object_set_new(doc, "tail", json_integer((json_int_t)info.tail));
        json_object_set_new(doc, "text_index_block", json_integer((json_int_t)info.text_index_block));
        json_object_set_new(doc, "text_indexed", json_integer((json_int_t)info.text_indexed));
        json_object_set_new(doc, "text_error", info.text_error ? json_string(info.text_error) : json_null());
        for (size_t i = 0; i < n; i++) {
            maif_search_hit h;
            if (maif_search_result(s, i, &h) != MAIF_OK) break;
            json_t *o = json_object();
            char ts[40];
            cli_format_time(h.timestamp_us, ts, sizeof ts);
            json_object_set_new(o, "block", json_integer((json_int_t)h.block));
            json_object_set_new(o, "id", json_string(maif_hex(h.id, MAIF_ID_BYTES, hex)));
            json_object_set_new(o, "type", json_string(cli_type_label(h.type, tb)));
            json_object_set_new(o, "score", json_real(h.score));
            json_object_set_new(o, "embedding_block",
                                h.embedding_block >= 0 ? json_integer((json_int_t)h.embedding_block) : json_null());
            json_object_set_new(o, "timestamp", json_string(ts));
            json_object_set_new(o, "snippet", cli_json_string(h.snippet, h.snippet_size));
            json_array_append_new(arr, o);
        }
        json_object_set_new(doc, "results", arr);
        ex = cli_print_json(doc);
        json_decref(doc);
    } else {
        for (size_t i = 0; i < n; i++) {
            maif_search_hit h;
            if (maif_search_result(s, i, &h) != MAIF_OK) break;
            printf("%llu %s %.6f ", (unsigned long long)h.block, maif_hex(h.id, MAIF_ID_BYTES, hex), h.score);
            for (size_t j = 0; j < h.snippet_size; j++) { /* one line per result */
                char c = h.snippet[j];
                putchar(c == '\n' || c == '\r' || c == '\t' ? ' ' : c);
            }
            putchar('\n');
        }
        if (n == 0) fprintf(stderr, "maif: %s: no results\n", path);
        ex = cli_finish(CLI_EXIT_OK);
    }
out:
    maif_index_close(ix);
    maif_reader_close(r);
    maif_search_free(s);
    return ex;
}

const cli_command cli_cmd_search = {
    "search", run, "search blocks by meaning, by words, or both",
    "usage: maif search FILE \"query text\" [-k 10] [--mode vector|text|hybrid] [--type T]\n"
    "                   [--where key=value]... [--since T] [--until T] [--ef N] [--json]\n"
    "                   [--privacy LEVEL] [--half-life SECONDS] [--all-versions] [--exact]\n"
    "                   [--vector-weight PCT] [--fusion dbsf|rrf] [--model MODEL]\n"
    "       maif search FILE --vector VEC.f32 [-k 10] [filters as above]\n"
    "       maif search FILE \"query text\" --cross-modal --type T [-k 10] [--model MODEL] [--json]\n"
    "\n"
    "--cross-modal ranks the blocks of type T (image, audio, ...) by what is\n"
    "said about them in text: their caption, their other metadata, and the\n"
    "text blocks linked to them by relationships, each embedded by MODEL\n"
    "(default hashed) and fused by ACAM with its trust (docs/ACAM.md). Lines:\n"
    "  BLOCK ID32HEX SCORE (N texts)\n"
    "\n"
    "Prints the k best results, best first, one line each:\n"
    "  BLOCK ID32HEX SCORE SNIPPET\n"
    "BLOCK is the block number of the result (the text an embedding embeds),\n"
    "SCORE is higher for better (cosine similarity, inner product, or minus the\n"
    "squared L2 distance; BM25 in text mode; the fused score in hybrid mode),\n"
    "SNIPPET the first 160 bytes of its text (line breaks as spaces).\n"
    "No result is not an error (exit 0, \"no results\" on stderr).\n"
    "\n"
    "--mode      vector: nearest embeddings (the query is embedded with the\n"
    "            index's model); text: BM25 over text blocks, English stemming;\n"
    "            hybrid (the default for a text query): both, fused by\n"
    "            --fusion. Without embeddings hybrid is text alone.\n"
    "--vector F  the query as raw little-endian float32 values (vector mode)\n"
    "--type T    only results of block type T (text, json, ... or a code)\n"
    "--where     only results whose metadata has key=value (string or number),\n"
    "            or key>=N, key<=N, key>N, key<N; repeatable (all must hold)\n"
    "--since, --until T   only results written in that time: a UTC date\n"
    "            (2026-01-31), date-time (2026-01-31T12:00:00Z) or an age (24h, 7d)\n"
    "--privacy L only results whose \"privacy\" is at most L (public < internal <\n"
    "            confidential < restricted; none counts as public)\n"
    "--half-life S  multiply scores by 2^(-age/S): recent memories first\n"
    "--fusion R  hybrid: dbsf (default) maps each list's scores by its own mean\n"
    "            +- 3 standard deviations to [0, 1] and adds them; rrf adds\n"
    "            1/(60 + rank) from each list\n"
    "--vector-weight P  hybrid: weight of the vector list in percent of the text\n"
    "            list's (default 100: equal weights), under either rule\n"
    "--all-versions include versions that a later block supersedes (hidden by default)\n"
    "--ef N      HNSW beam width (default max(4k, 64)): larger is slower, more exact\n"
    "--exact     scan every vector instead of walking the graph\n"
    "--model M   search the embeddings of model M (default: the index's)\n"
    "--json      {\"mode\", \"model\", \"indexed\", \"tail\", \"results\": [{\"block\", \"id\",\n"
    "            \"type\", \"score\", \"embedding_block\", \"timestamp\", \"snippet\"}]}\n"
    "Filters are applied during the graph search, not after it.\n"
    "\n"
    "exit codes: 0 searched; 1 FILE or its index is damaged; 2 usage error,\n"
    "missing file, no embeddings for vector mode, a vector of the wrong size.\n",
};
