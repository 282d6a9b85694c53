/*
 * bench_overhead.c — bytes of overhead per block.
 *
 * usage: bench_overhead DIR [BLOCKS]
 *
 * Writes BLOCKS (default 100 000) blocks of 1 KiB, without metadata, with a
 * commit every 1, 100 and 10 000 blocks, and reports
 *   (file size - payload bytes - metadata bytes) / blocks,
 * with payload and metadata bytes summed through the reader. The baseline is
 * the same formula applied to a MAIF 2.1 file (the original format) holding
 * 10 000 such blocks, written by maif_convert in this run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "benchutil.h"

#define BLOCK 1024

static double overhead(const char *path)
{
    maif_reader *r = NULL;
    bu_check(maif_reader_open(&r, path), "reader open", maif_last_errmsg());
    uint64_t n = maif_reader_count(r), bytes = 0;
    for (uint64_t i = 0; i < n; i++) {
        maif_block b;
        bu_check(maif_reader_block(r, i, &b), "reader block", maif_reader_errmsg(r));
        bytes += b.payload_size + b.meta_size;
    }
    maif_reader_close(r);
    return ((double)bu_file_size(path) - (double)bytes) / (double)n;
}

static void make(const char *path, uint64_t n, uint64_t batch, maif_key *key)
{
    uint8_t *p = malloc(BLOCK);
    if (!p) exit(2);
    maif_writer *w = NULL;
    bu_check(maif_writer_create(&w, path, key, "bench", bu_writer_options(0)), "writer create", maif_last_errmsg());
    maif_block_spec s = {.type = MAIF_TYPE_BINARY, .payload = p, .payload_size = BLOCK};
    for (uint64_t i = 0; i < n; i++) {
        bu_fill(p, BLOCK, i);
        bu_check(maif_writer_add(w, &s, NULL), "add", maif_writer_errmsg(w));
        if ((i + 1) % batch == 0) bu_check(maif_writer_commit(w), "commit", maif_writer_errmsg(w));
    }
    bu_check(maif_writer_commit(w), "commit", maif_writer_errmsg(w));
    bu_check(maif_writer_close(w), "close", NULL);
    free(p);
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s DIR [BLOCKS]\n", argv[0]);
        return 2;
    }
    uint64_t n = argc == 3 ? (uint64_t)atoll(argv[2]) : 100000;
    if (n < 10000) n = 10000;
    maif_key *key = bu_key();
    char *path = bu_path(argv[1], "overhead.maif"), *p21src = bu_path(argv[1], "overhead21.maif"),
         *p21 = bu_path(argv[1], "overhead.maif21");

    make(p21src, 10000, 10000, key);
    bu_check(maif_convert(p21src, p21, MAIF_FORMAT_V21, key, NULL, NULL), "convert to 2.1", maif_last_errmsg());
    double base = overhead(p21);
    unlink(p21src);
    unlink(p21);

    static const uint64_t batches[] = {1, 100, 10000};
    for (size_t i = 0; i < sizeof batches / sizeof batches[0]; i++) {
        make(path, n, batches[i], key);
        char label[64];
        snprintf(label, sizeof label, "overhead 1KiB, commit/%llu", (unsigned long long)batches[i]);
        bu_report(label, overhead(path), "B/block", "MAIF 2.1 same blocks", base, "<=128");
        unlink(path);
    }
    maif_key_free(key);
    free(path);
    free(p21src);
    free(p21);
    return 0;
}
