/*
 * bench_proof.c — what gathering a proof costs: an artifact of N blocks
 * (default 1 000 000, committed every 10 000), then inclusion proofs of its
 * first, middle and last block and a consistency proof from commit 1 to the
 * last, each timed through the public API, with the block records read
 * counted through the same leaf function the library uses. Not part of
 * bench/run.sh (it writes a large artifact); run it by hand:
 *   build/release/bench/bench_proof [N] [DIR]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "format/native/native_proof.h"
#include "maif.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static uint64_t reads;
static int counting_leaf(void *ctx, uint64_t i, uint8_t out[32])
{
    reads++;
    return nat_proof_image_leaf(ctx, i, out);
}

int main(int argc, char **argv)
{
    uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
    const char *dir = argc > 2 ? argv[2] : "/var/tmp";
    char path[512];
    snprintf(path, sizeof path, "%s/bench_proof.maif", dir);
    maif_key *key = NULL;
    maif_writer *w = NULL;
    maif_options *opt = NULL;
    if (maif_key_generate(&key) || maif_options_create(&opt) || maif_options_set(opt, MAIF_OPT_OVERWRITE, 1) ||
        maif_writer_create(&w, path, key, NULL, opt)) {
        fprintf(stderr, "bench_proof: %s\n", maif_last_errmsg());
        return 1;
    }
    double t0 = now();
    for (uint64_t i = 0; i < n; i++) {
        char text[32];
        int len = snprintf(text, sizeof text, "block %llu", (unsigned long long)i);
        maif_block_spec s = {MAIF_TYPE_TEXT, text, (size_t)len, NULL, 0, NULL, NULL, 0};
        if (maif_writer_add(w, &s, NULL) || ((i + 1) % 10000 == 0 && maif_writer_commit(w))) {
            fprintf(stderr, "bench_proof: %s\n", maif_last_errmsg());
            return 1;
        }
    }
    if (maif_writer_commit(w) || maif_writer_close(w)) return 1;
    printf("wrote %llu blocks in %.1f s\n", (unsigned long long)n, now() - t0);

    maif_reader *r = NULL;
    if (maif_reader_open(&r, path)) return 1;
    uint64_t blocks[3] = {0, n / 2, n - 1};
    for (int k = 0; k < 3; k++) {
        maif_proof *p = NULL;
        double a = now();
        int rc = maif_reader_prove_inclusion(r, blocks[k], MAIF_COMMIT_LAST, &p);
        double b = now();
        int ok = rc == 0 && maif_proof_check(p, NULL) == 0;
        double c = now();
        printf("inclusion of block %llu: gathered in %.3f s, checked in %.6f s (%s)\n",
               (unsigned long long)blocks[k], b - a, c - b, ok ? "ok" : "FAILED");
        maif_proof_free(p);
    }
    maif_proof *p = NULL;
    double a = now();
    int rc = maif_reader_prove_consistency(r, 1, MAIF_COMMIT_LAST, &p);
    double b = now();
    int ok = rc == 0 && maif_proof_check(p, NULL) == 0;
    printf("consistency from commit 1: gathered in %.3f s (%s)\n", b - a, ok ? "ok" : "FAILED");
    maif_proof_free(p);
    maif_reader_close(r);

    /* records read: the same gathering through a counting leaf function */
    FILE *f = fopen(path, "rb");
    if (!f) return 1;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *img = malloc((size_t)size);
    if (!img || fread(img, 1, (size_t)size, f) != (size_t)size) return 1;
    fclose(f);
    nat_view v;
    char err[200];
    if (nat_view_open(&v, img, (uint64_t)size, err, sizeof err)) return 1;
    nat_proof_image im = {&v, img, (uint64_t)size};
    nat_merkle fr;
    if (nat_merkle_load(&fr, v.last.blocks, (const uint8_t(*)[32])v.last.frontier, v.last.nfrontier)) return 1;
    uint8_t path_h[NAT_PROOF_MAX_CONSISTENCY][32];
    uint32_t len;
    for (int k = 0; k < 3; k++) {
        reads = 0;
        if (nat_proof_inclusion_path(counting_leaf, &im, &fr, blocks[k], v.last.blocks, path_h, &len)) return 1;
        printf("inclusion of block %llu: %llu block records read, path %u hashes\n",
               (unsigned long long)blocks[k], (unsigned long long)reads, len);
    }
    nat_view_free(&v);
    free(img);
    maif_key_free(key);
    maif_options_free(opt);
    remove(path);
    return 0;
}
