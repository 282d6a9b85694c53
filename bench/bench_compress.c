/*
 * bench_compress.c — compressed appends of a real text corpus.
 *
 * usage: bench_compress CORPUS DIR REPS [BLOCK_KIB]
 *
 * CORPUS is built by bench/run.sh from text every Debian system carries
 * (/usr/share/common-licenses, the packages' /usr/share/doc/…/copyright
 * files). It is cut into blocks of BLOCK_KIB KiB (default 16) and appended
 * to a fresh artifact with one commit at the end, with no codec, zstd
 * level 3 and lz4; each run is timed over the adds and the commit (not the
 * file creation), REPS times, and the median rate is printed as MB/s of
 * payload (10^6 bytes of uncompressed input per second), with the ratio
 * (payload bytes / stored payload bytes).
 *
 * Baselines, measured in the same run on the same bytes: the `zstd -T0 -3`
 * and `lz4` command-line tools on the whole corpus file (run.sh times them
 * and passes BASE_{ZSTD,LZ4}_{MBS,RATIO}); and, in process, libzstd /
 * liblz4 compressing the same blocks one by one into memory (the codec's
 * own cost, without hashing, signing or writing). A whole-file compressor
 * sees the corpus as one stream, so its ratio bounds what independent
 * blocks can reach.
 */
#include <lz4.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "benchutil.h"

static uint8_t *g_corpus;
static size_t g_size, g_block;
static maif_key *g_key;

/* Appends the corpus in blocks with codec; returns MB/s and sets *stored. */
static double run_maif(const char *path, int codec, int level, uint64_t *stored)
{
    maif_options *o = NULL;
    bu_check(maif_options_create(&o), "options", maif_last_errmsg());
    bu_check(maif_options_set(o, MAIF_OPT_OVERWRITE, 1), "options", maif_last_errmsg());
    bu_check(maif_options_set(o, MAIF_OPT_CODEC, codec), "options", maif_last_errmsg());
    bu_check(maif_options_set(o, MAIF_OPT_CODEC_LEVEL, level), "options", maif_last_errmsg());
    maif_writer *w = NULL;
    bu_check(maif_writer_create(&w, path, g_key, "bench", o), "writer create", maif_last_errmsg());
    maif_options_free(o);
    double t0 = bu_now();
    for (size_t off = 0; off < g_size; off += g_block) {
        size_t n = g_size - off < g_block ? g_size - off : g_block;
        maif_block_spec s = {.type = MAIF_TYPE_TEXT, .payload = g_corpus + off, .payload_size = n};
        bu_check(maif_writer_add(w, &s, NULL), "add", maif_writer_errmsg(w));
    }
    bu_check(maif_writer_commit(w), "commit", maif_writer_errmsg(w));
    double t = bu_now() - t0;
    bu_check(maif_writer_close(w), "close", maif_last_errmsg());
    maif_reader *r = NULL;
    bu_check(maif_reader_open(&r, path), "reader", maif_last_errmsg());
    *stored = 0;
    for (uint64_t i = 0; i < maif_reader_count(r); i++) {
        maif_block b;
        bu_check(maif_reader_block(r, i, &b), "block", maif_reader_errmsg(r));
        *stored += b.payload_size;
    }
    maif_reader_close(r);
    return (double)g_size / t / 1e6;
}

/* The codec alone on the same blocks, into memory. */
static double run_lib(int codec, uint64_t *stored)
{
    size_t cap = (size_t)ZSTD_compressBound(g_block) + (size_t)LZ4_compressBound((int)g_block);
    uint8_t *dst = malloc(cap);
    ZSTD_CCtx *cc = ZSTD_createCCtx();
    if (!dst || !cc) exit(1);
    *stored = 0;
    double t0 = bu_now();
    for (size_t off = 0; off < g_size; off += g_block) {
        size_t n = g_size - off < g_block ? g_size - off : g_block, e;
        if (codec == MAIF_CODEC_ZSTD) e = ZSTD_compressCCtx(cc, dst, cap, g_corpus + off, n, 3);
        else e = (size_t)LZ4_compress_default((const char *)g_corpus + off, (char *)dst, (int)n, (int)cap);
        *stored += e;
    }
    double t = bu_now() - t0;
    ZSTD_freeCCtx(cc);
    free(dst);
    return (double)g_size / t / 1e6;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: bench_compress CORPUS DIR REPS [BLOCK_KIB]\n");
        return 2;
    }
    int reps = atoi(argv[3]);
    g_block = (argc > 4 ? (size_t)atoi(argv[4]) : 16) * 1024;
    if (reps < 1 || g_block == 0) return 2;
    FILE *f = fopen(argv[1], "rb");
    if (!f) return 2;
    g_size = bu_file_size(argv[1]);
    g_corpus = malloc(g_size ? g_size : 1);
    if (!g_corpus || fread(g_corpus, 1, g_size, f) != g_size) return 2;
    fclose(f);
    g_key = bu_key();
    char *path = bu_path(argv[2], "compress.maif");
    printf("corpus: %zu bytes in %zu-byte blocks (%zu blocks)\n", g_size, g_block, (g_size + g_block - 1) / g_block);

    const struct { const char *name; int codec, level; const char *base; } c[] = {
        {"none", MAIF_CODEC_NONE, 0, NULL},
        {"zstd-3", MAIF_CODEC_ZSTD, 3, "ZSTD"},
        {"lz4", MAIF_CODEC_LZ4, 0, "LZ4"},
    };
    double none_mbs = -1;
    for (int k = 0; k < 3; k++) {
        double *m = calloc((size_t)reps, sizeof *m), *l = calloc((size_t)reps, sizeof *l);
        uint64_t stored = 0, lib_stored = 0;
        for (int i = 0; i < reps; i++) { /* alternated with the in-process baseline */
            m[i] = run_maif(path, c[k].codec, c[k].level, &stored);
            if (c[k].codec) l[i] = run_lib(c[k].codec, &lib_stored);
        }
        double mbs = bu_median(m, (size_t)reps);
        char label[96], blabel[96], env[64];
        if (!c[k].codec) {
            none_mbs = mbs;
            bu_report("append 16 KiB text blocks, no codec", mbs, "MB/s", "", -1, "");
        } else {
            snprintf(env, sizeof env, "BASE_%s_MBS", c[k].base);
            snprintf(label, sizeof label, "append text blocks, %s", c[k].name);
            int z = c[k].codec == MAIF_CODEC_ZSTD;
            snprintf(blabel, sizeof blabel, "%s CLI, whole corpus", z ? "zstd -T0 -3" : "lz4");
            bu_report(label, mbs, "MB/s", blabel, bu_env_double(env), "");
            snprintf(label, sizeof label, "  same, vs appending uncompressed");
            bu_report(label, mbs, "MB/s", "no codec (above)", none_mbs, "");
            snprintf(label, sizeof label, "  lib%s alone, same blocks", z ? "zstd -3" : "lz4");
            bu_report(label, bu_median(l, (size_t)reps), "MB/s", "", -1, "");
            snprintf(env, sizeof env, "BASE_%s_RATIO", c[k].base);
            snprintf(label, sizeof label, "ratio, %s per block", c[k].name);
            bu_report(label, (double)g_size / (double)stored, "x", blabel, bu_env_double(env), "");
        }
        free(m);
        free(l);
    }
    free(path);
    free(g_corpus);
    maif_key_free(g_key);
    return 0;
}
