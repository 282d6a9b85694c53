/*
 * cmd_append.c — `maif append FILE [JSONL|-]`: many blocks, one commit.
 *
 * Every line of one call belongs to one transaction: the first bad line
 * rolls the whole batch back, so the artifact either gains all the lines or
 * nothing. Line numbers in errors count every physical line from 1,
 * including the blank ones that are skipped.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "util/buf.h"

static int is_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r') return 0;
    return 1;
}

static int b64_decode(const char *s, size_t n, uint8_t **out, size_t *outn)
{
    size_t cap = n / 4 * 3 + 3;
    uint8_t *bin = malloc(cap ? cap : 1);
    if (!bin) return -1;
    const int variants[] = {sodium_base64_VARIANT_ORIGINAL, sodium_base64_VARIANT_ORIGINAL_NO_PADDING};
    for (size_t v = 0; v < 2; v++) {
        size_t len = 0;
        const char *end = NULL;
        if (sodium_base642bin(bin, cap, s, n, " \t\r\n", &len, &end, variants[v]) == 0 && end == s + n) {
            *out = bin;
            *outn = len;
            return 0;
        }
    }
    free(bin);
    return -1;
}

/* One JSONL line to a block; data_out receives storage to free after the
 * block has been added. Returns 0 or -1 with err set. */
static int line_to_block(const char *line, size_t len, cli_block *b, uint8_t **data_out, char *err, size_t errcap)
{
    *data_out = NULL;
    json_error_t je;
    json_t *o = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
    if (!o) {
        snprintf(err, errcap, "invalid JSON: %s (column %d)", je.text, je.column);
        return -1;
    }
    int rc = -1;
    if (!json_is_object(o)) {
        snprintf(err, errcap, "expected a JSON object");
        goto out;
    }
    const char *k;
    json_t *v;
    const char *src_key = NULL;
    json_object_foreach(o, k, v)
    {
        if (strcmp(k, "text") == 0 || strcmp(k, "file") == 0 || strcmp(k, "base64") == 0 ||
            strcmp(k, "vector") == 0) {
            if (src_key) {
                snprintf(err, errcap, "give exactly one of \"text\", \"file\", \"base64\", \"vector\" (got \"%s\" and \"%s\")",
                         src_key, k);
                goto out;
            }
            src_key = k;
        } else if (strcmp(k, "type") != 0 && strcmp(k, "meta") != 0) {
            snprintf(err, errcap, "unknown key \"%.64s\"", k);
            goto out;
        }
    }
    json_t *jt = json_object_get(o, "type");
    if (!jt) {
        snprintf(err, errcap, "missing \"type\"");
        goto out;
    }
    uint32_t type;
    if (!json_is_string(jt) || maif_type_parse(json_string_value(jt), &type) != MAIF_OK) {
        snprintf(err, errcap, "unknown type %s", json_is_string(jt) ? json_string_value(jt) : "(not a string)");
        goto out;
    }
    if (!src_key) {
        snprintf(err, errcap, "missing payload: give one of \"text\", \"file\", \"base64\", \"vector\"");
        goto out;
    }
    json_t *meta = json_object_get(o, "meta");
    if (meta && !json_is_object(meta)) {
        snprintf(err, errcap, "\"meta\" must be a JSON object");
        goto out;
    }
    json_t *src = json_object_get(o, src_key);
    int kind = CLI_SRC_BYTES;
    const uint8_t *bytes = NULL;
    size_t n = 0;
    if (strcmp(src_key, "vector") == 0) {
        if (!json_is_array(src)) {
            snprintf(err, errcap, "\"vector\" must be an array");
            goto out;
        }
        kind = CLI_SRC_VECTOR;
    } else if (!json_is_string(src)) {
        snprintf(err, errcap, "\"%s\" must be a string", src_key);
        goto out;
    } else if (strcmp(src_key, "text") == 0) {
        bytes = (const uint8_t *)json_string_value(src);
        n = json_string_length(src);
    } else if (strcmp(src_key, "file") == 0) {
        char ferr[256];
        const char *fp = json_string_value(src);
        if (strlen(fp) != json_string_length(src) || !*fp) {
            snprintf(err, errcap, "\"file\" is not a usable path");
            goto out;
        }
        if (cli_read_input_err(fp, data_out, &n, ferr, sizeof ferr)) {
            snprintf(err, errcap, "%.200s: %s", fp, ferr);
            goto out;
        }
        bytes = *data_out;
    } else {
        if (b64_decode(json_string_value(src), json_string_length(src), data_out, &n)) {
            snprintf(err, errcap, "\"base64\" is not valid base64");
            goto out;
        }
        bytes = *data_out;
        kind = CLI_SRC_RAW;
    }
    if (cli_block_build(b, type, kind, bytes, n, kind == CLI_SRC_VECTOR ? src : NULL, meta, err, errcap)) goto out;
    /* b may borrow bytes that live inside o ("text"): keep a private copy. */
    if (kind == CLI_SRC_BYTES && !*data_out && !b->owned) {
        uint8_t *copy = malloc(n ? n : 1);
        if (!copy) {
            snprintf(err, errcap, "out of memory");
            cli_block_free(b);
            goto out;
        }
        memcpy(copy, bytes, n);
        b->payload = copy;
        *data_out = copy;
    }
    rc = 0;
out:
    json_decref(o);
    if (rc) {
        free(*data_out);
        *data_out = NULL;
    }
    return rc;
}

static int run(int argc, char **argv)
{
    const char *keyfile = NULL;
    const cli_opt opts[] = {
        {"--key", CLI_VALUE, NULL, &keyfile, NULL, 0, NULL},
        {0},
    };
    const char *pos[2];
    int np;
    const cli_command *me = &cli_cmd_append;
    int pr = cli_parse(me, argc, argv, opts, pos, 1, 2, &np);
    if (pr == CLI_PARSE_HELP) return cli_help(me);
    if (pr != CLI_PARSE_OK) return CLI_EXIT_USAGE;
    const char *path = pos[0];
    const char *input = np == 2 ? pos[1] : "-";
    const char *input_name = strcmp(input, "-") == 0 ? "<stdin>" : input;
    if (strcmp(path, "-") == 0) return cli_usage_err(me, "FILE must be a file name");

    uint8_t *text = NULL;
    size_t tn = 0;
    int ex = cli_read_input(input, &text, &tn);
    if (ex) return ex;
    maif_key *key = NULL;
    maif_writer *w = NULL;
    maif_buf ids = {0};
    ex = cli_load_key(keyfile, &key);
    if (ex) goto out;
    ex = cli_open_writer(path, key, &w);
    if (ex) goto out;
    uint64_t first = maif_writer_count(w);

    const char *p = (const char *)text, *end = p + tn;
    unsigned long long lineno = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        lineno++;
        const char *line = p;
        p = nl ? nl + 1 : end;
        if (is_blank(line, len)) continue;
        char err[512];
        cli_block b;
        uint8_t *data = NULL;
        if (line_to_block(line, len, &b, &data, err, sizeof err)) {
            cli_err(input_name, "line %llu: %s (nothing committed)", lineno, err);
            ex = CLI_EXIT_USAGE;
            break;
        }
        uint8_t id[MAIF_ID_BYTES];
        maif_block_spec spec = {
            .type = b.type,
            .payload = b.payload,
            .payload_size = b.payload_size,
            .meta_json = b.meta,
            .meta_size = b.meta ? strlen(b.meta) : 0,
        };
        int rc = maif_writer_add(w, &spec, id);
        cli_block_free(&b);
        free(data);
        if (rc != MAIF_OK) {
            const char *d = maif_writer_errmsg(w);
            cli_err(input_name, "line %llu: %s (nothing committed)", lineno, d && *d ? d : maif_strerror(rc));
            ex = CLI_EXIT_USAGE;
            break;
        }
        if (maif_buf_append(&ids, id, sizeof id)) {
            cli_err(input_name, "out of memory (nothing committed)");
            ex = CLI_EXIT_USAGE;
            break;
        }
    }
    if (ex) {
        (void)!maif_writer_rollback(w); /* the error at hand is reported; close rolls back too */
        goto out;
    }
    size_t nblocks = ids.len / MAIF_ID_BYTES;
    if (nblocks > 0) {
        int rc = maif_writer_commit(w);
        if (rc != MAIF_OK) {
            ex = cli_fail(path, rc, maif_writer_errmsg(w));
            if (ex == CLI_EXIT_VERIFY) ex = CLI_EXIT_USAGE;
            (void)!maif_writer_rollback(w); /* as above */
            goto out;
        }
    }
    int rc = maif_writer_close(w);
    w = NULL;
    if (rc != MAIF_OK) {
        ex = cli_fail(path, rc, maif_last_errmsg());
        goto out;
    }
    for (size_t i = 0; i < nblocks; i++) {
        char hex[2 * MAIF_ID_BYTES + 1];
        printf("%llu %s\n", (unsigned long long)(first + i), maif_hex(ids.data + i * MAIF_ID_BYTES, MAIF_ID_BYTES, hex));
    }
    ex = cli_finish(CLI_EXIT_OK);
out:
    maif_writer_close(w);
    maif_key_free(key);
    maif_buf_free(&ids);
    free(text);
    return ex;
}

const cli_command cli_cmd_append = {
    "append", run, "add many blocks from JSON lines, in one transaction",
    "usage: maif append FILE [JSONL|-] [--key KEYFILE]\n"
    "\n"
    "Reads one JSON object per line from JSONL (default: stdin, at most 4 GiB)\n"
    "and appends every line as a block of FILE, all in one commit signed with\n"
    "KEYFILE (default: the default key). Blank lines are skipped. Each line:\n"
    "  \"type\"   required: a type as for `maif add --type`\n"
    "  exactly one of:\n"
    "  \"text\"   a string, stored as UTF-8\n"
    "  \"file\"   a path (relative to the current directory) whose bytes are stored\n"
    "  \"base64\" bytes in base64 (for embeddings: raw float32 little-endian)\n"
    "  \"vector\" embeddings only: an array of numbers, or of equal-length rows\n"
    "  \"meta\"   optional: a JSON object of metadata\n"
    "Any other key is an error. For example:\n"
    "  {\"type\":\"text\",\"text\":\"hello\",\"meta\":{\"source\":\"chat\"}}\n"
    "  {\"type\":\"embedding\",\"vector\":[0.1,0.2]}\n"
    "On success prints \"INDEX ID32HEX\" for every block added. If any line is\n"
    "bad, nothing is committed: the error names the line (counting from 1).\n"
    "\n"
    "exit codes: 0 committed; 1 FILE is too damaged to open; 2 usage error,\n"
    "missing file, a bad line, bad key, or a 2.1 file (convert first).\n",
};
