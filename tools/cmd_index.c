/*
 * cmd_index.c — `maif index`: builds the HNSW vector index over the
 * embeddings (maif_index_build) and the BM25 full-text index over the
 * plain texts (maif_index_build_text), and stores them in the artifact.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static int run(int argc, char **argv)
{
    const char *threads_s = NULL, *pqm_s = NULL;
    const char *m_s = NULL, *efc_s = NULL, *metric_s = NULL, *quant_s = NULL, *model = NULL, *keyfile = NULL;
    int no_text = 0, text_only = 0;
    const cli_opt opts[] = {
        {"--no-text", CLI_FLAG, &no_text, NULL, NULL, 0, NULL},
        {"--text-only", CLI_FLAG, &text_only, NULL, NULL, 0, NULL},
        {"--m", CLI_VALUE, NULL, &m_s, NULL, 0, NULL},
        {"--ef-construction", CLI_VALUE, NULL, &efc_s, NULL, 0, NULL},
        {"--metric", CLI_VALUE, NULL, &metric_s, NULL, 0, NULL},
        {"--quantize", CLI_VALUE, NULL, &quant_s, NULL, 0, NULL},
        {"--pq-m", CLI_VALUE, NULL, &pqm_s, NULL, 0, NULL},
        {"--model", CLI_VALUE, NULL, &model, NULL, 0, NULL},
        {"--threads", CLI_VALUE, NULL, &threads_s, NULL, 0, NULL},
        {"--key", CLI_VALUE, NULL, &keyfile, NULL, 0, NULL},
        {0},
    };
    const char *pos[1];
    int np;
    const cli_command *me = &cli_cmd_index;
    int pr = cli_parse(me, argc, argv, opts, pos, 1, 1, &np);
    if (pr == CLI_PARSE_HELP) return cli_help(me);
    if (pr != CLI_PARSE_OK) return CLI_EXIT_USAGE;
    const char *path = pos[0];
    uint64_t m = 0, efc = 0, threads = 0, pqm = 0;
    if (threads_s && (!cli_parse_u64(threads_s, &threads) || threads > 1024))
        return cli_usage_err(me, "--threads: a number from 0 (one per CPU) to 1024");
    int metric = MAIF_METRIC_COSINE, quant = MAIF_QUANTIZE_NONE;
    if (m_s && (!cli_parse_u64(m_s, &m) || m < 2 || m > 128)) return cli_usage_err(me, "--m: a number from 2 to 128");
    if (efc_s && (!cli_parse_u64(efc_s, &efc) || efc < 1 || efc > 4096))
        return cli_usage_err(me, "--ef-construction: a number from 1 to 4096");
    if (metric_s) {
        if (strcmp(metric_s, "cosine") == 0) metric = MAIF_METRIC_COSINE;
        else if (strcmp(metric_s, "l2") == 0) metric = MAIF_METRIC_L2;
        else if (strcmp(metric_s, "ip") == 0) metric = MAIF_METRIC_IP;
        else return cli_usage_err(me, "--metric: cosine, l2 or ip");
    }
    if (quant_s) {
        if (strcmp(quant_s, "none") == 0) quant = MAIF_QUANTIZE_NONE;
        else if (strcmp(quant_s, "int8") == 0) quant = MAIF_QUANTIZE_INT8;
        else if (strcmp(quant_s, "pq") == 0) quant = MAIF_QUANTIZE_PQ;
        else return cli_usage_err(me, "--quantize: none, int8 or pq");
    }
    if (pqm_s && (!cli_parse_u64(pqm_s, &pqm) || pqm < 1 || pqm > 1024))
        return cli_usage_err(me, "--pq-m: a number from 1 to 1024");
    if (pqm_s && quant != MAIF_QUANTIZE_PQ) return cli_usage_err(me, "--pq-m needs --quantize pq");
    if (no_text && text_only) return cli_usage_err(me, "--no-text and --text-only exclude each other");
    int ex = cli_check_file(path);
    if (ex) return ex;
    maif_key *key = NULL;
    if ((ex = cli_load_key(keyfile, &key))) return ex;
    maif_options *o = NULL;
    int rc = cli_options_durable(&o);
    if (!rc) rc = maif_options_set(o, MAIF_OPT_LOCK_WAIT_MS, CLI_LOCK_WAIT_MS);
    if (!rc) rc = maif_options_set(o, MAIF_OPT_INDEX_M, (int64_t)m);
    if (!rc) rc = maif_options_set(o, MAIF_OPT_INDEX_EF_CONSTRUCTION, (int64_t)efc);
    if (!rc) rc = maif_options_set(o, MAIF_OPT_INDEX_METRIC, metric);
    if (!rc) rc = maif_options_set(o, MAIF_OPT_INDEX_QUANTIZE, quant);
    if (!rc) rc = maif_options_set(o, MAIF_OPT_INDEX_THREADS, (int64_t)threads);
    if (!rc) rc = maif_options_set(o, MAIF_OPT_INDEX_PQ_M, (int64_t)pqm);
    /* the vector index, then the text index; with no embeddings, a text
       index alone is a success (and the reverse) */
    uint64_t n = 0, nt = 0;
    int vec_rc = MAIF_ENOTFOUND, text_rc = MAIF_ENOTFOUND;
    char vec_err[512] = "";
    if (!rc && !text_only) {
        rc = vec_rc = maif_index_build(path, model, key, o, &n);
        if (rc == MAIF_ENOTFOUND && !no_text) {
            snprintf(vec_err, sizeof vec_err, "%s", maif_last_errmsg());
            rc = MAIF_OK;
        }
    }
    if (!rc && !no_text) {
        rc = text_rc = maif_index_build_text(path, key, o, &nt);
        if (rc == MAIF_ENOTFOUND && vec_rc == MAIF_OK) rc = MAIF_OK; /* embeddings but no plain text */
    }
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", rc ? maif_last_errmsg() : "");
    if (rc == MAIF_ENOTFOUND && text_rc == MAIF_ENOTFOUND && *vec_err)
        snprintf(msg, sizeof msg, "%.500s, and no plain text blocks to index", vec_err);
    maif_options_free(o);
    maif_key_free(key);
    if (rc) {
        ex = cli_fail(path, rc, msg);
        return ex == CLI_EXIT_VERIFY && rc != MAIF_EFORMAT ? CLI_EXIT_USAGE : ex;
    }
    /* report what was stored, as a reader now sees it */
    maif_reader *r = NULL;
    maif_index *ix = NULL;
    maif_index_info info;
    if ((ex = cli_open_reader(path, &r))) return ex;
    if ((rc = maif_index_open(&ix, r, vec_rc == MAIF_OK ? model : NULL)) || (rc = maif_index_get_info(ix, &info))) {
        ex = cli_fail(path, rc, maif_last_errmsg());
        maif_index_close(ix);
        maif_reader_close(r);
        return ex;
    }
    if (vec_rc == MAIF_OK)
        printf("indexed %llu vectors of %zu dimensions (model %s, metric %s, M %u, ef-construction %u%s) in block %lld, "
               "%llu bytes\n",
               (unsigned long long)n, info.dimensions, *info.model ? info.model : "(none)",
               info.metric == MAIF_METRIC_L2 ? "l2" : info.metric == MAIF_METRIC_IP ? "ip" : "cosine", info.m,
               info.ef_construction,
               info.quantize == MAIF_QUANTIZE_INT8 ? ", int8" : info.quantize == MAIF_QUANTIZE_PQ ? ", pq" : "",
               (long long)info.index_block, (unsigned long long)info.index_bytes);
    else if (!text_only)
        printf("no embeddings: no vector index (run `maif embed` first)\n");
    if (text_rc == MAIF_OK)
        printf("indexed %llu texts for full-text search (BM25, Snowball English) in block %lld, %llu bytes\n",
               (unsigned long long)nt, (long long)info.text_index_block, (unsigned long long)info.text_index_bytes);
    else if (!no_text)
        printf("no plain text blocks: no text index\n");
    maif_index_close(ix);
    maif_reader_close(r);
    return cli_finish(CLI_EXIT_OK);
}

const cli_command cli_cmd_index = {
    "index", run, "build the vector (HNSW) and full-text (BM25) indexes inside the artifact",
    "usage: maif index FILE [--m M] [--ef-construction N] [--metric cosine|l2|ip]\n"
    "                  [--quantize none|int8|pq] [--pq-m M] [--model MODEL] [--threads N]\n"
    "                  [--no-text | --text-only] [--key KEYFILE]\n"
    "\n"
    "Builds an HNSW graph over every embedding of MODEL (default: the model of\n"
    "the last embedding block) and appends it to FILE as one VIDX block in a\n"
    "commit signed with KEYFILE, covered by the chain like any block. Readers\n"
    "search it in place from the memory map: opening costs the same at any\n"
    "size. Embeddings added later are still found (searched exactly) until the\n"
    "next `maif index`.\n"
    "\n"
    "When FILE has text blocks it also builds the full-text index (a TIDX\n"
    "block, its own signed commit): the Snowball English stems of every plain\n"
    "text with their posting lists and the texts' lengths, so that text and\n"
    "hybrid searches read BM25 statistics from the map instead of scanning\n"
    "every text. Encrypted texts are never put in it (it is public, and\n"
    "permanent); a reader holding their key still scans them. Texts added\n"
    "later are scanned until the next `maif index`. Either index alone is\n"
    "enough: with no embeddings only the text index is built. Prints what\n"
    "was stored.\n"
    "\n"
    "--m M                links per node and layer (2M at layer 0), 2..128 (16)\n"
    "--ef-construction N  beam width while building, 1..4096 (200)\n"
    "--metric             cosine (default), l2 (squared Euclidean), ip (inner product)\n"
    "--quantize           none (default: float vectors in the index); int8 (one byte a\n"
    "                     dimension: the graph is walked on the codes and the best ef\n"
    "                     re-ranked exactly from the embedding blocks); pq (product\n"
    "                     quantisation: k-means codebooks of 256 centroids a\n"
    "                     sub-space trained on these vectors and stored in the\n"
    "                     index, one byte a sub-space; the graph is walked with\n"
    "                     distance tables and the best max(ef, 10k) re-ranked\n"
    "                     exactly from the embedding blocks)\n"
    "--pq-m M             with pq: sub-spaces (bytes a vector), 1..1024 and at most\n"
    "                     the dimensions (default: dimensions / 4, rounded up: 16x\n"
    "                     smaller than float32)\n"
    "--threads N          threads inserting nodes (default 0: one per CPU, at most 16);\n"
    "                     with 1 the same input always gives the same graph\n"
    "--no-text            build the vector index only\n"
    "--text-only          build the full-text index only\n"
    "\n"
    "exit codes: 0 built; 1 FILE is damaged; 2 usage error, missing file,\n"
    "nothing to index (no embeddings and no plain text, or none of the kind\n"
    "asked for), bad key, or a 2.1 file.\n",
};
