/*
 * bench_open.c — open latency and random block reads at 1 000 000 blocks.
 *
 * usage: bench_open DIR [BLOCKS]
 *
 * Writes two artifacts of BLOCKS (default 1 000 000) blocks of 64 bytes:
 * one committed once, one committed every 1000 blocks (so its index is
 * spread over many segments). Both are read once to warm the page cache.
 *
 * Open: maif_reader_open + maif_reader_block of one random block + reading
 * its payload, timed per iteration (close is not timed); median and p99.
 * Baseline: open() + fstat() + mmap() of the same file and reading 64 bytes
 * at a random offset, the least any memory-mapped reader must do.
 *
 * Random read: one open reader; 100 000 random block numbers, each timed:
 * maif_reader_block + summing the payload bytes; median and mean.
 * Baseline: pread() of 64 bytes at the same blocks' offsets.
 *
 * Also, for information: the overhead per block of the commit/1000 file
 * (its size less the payload bytes, per block) beside the single-commit one.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "benchutil.h"

#define PAYLOAD 64
#define OPENS   3000
#define READS   100000

static volatile unsigned g_sink;
static uint64_t g_rng = 88172645463325252ull;
static uint64_t rnd(void)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return g_rng;
}

static void make(const char *path, uint64_t n, uint64_t batch, maif_key *key)
{
    maif_writer *w = NULL;
    bu_check(maif_writer_create(&w, path, key, "bench", bu_writer_options(0)), "writer create", maif_last_errmsg());
    uint8_t p[PAYLOAD];
    maif_block_spec s = {.type = MAIF_TYPE_TEXT, .payload = p, .payload_size = PAYLOAD};
    for (uint64_t i = 0; i < n; i++) {
        bu_fill(p, sizeof p, i);
        bu_check(maif_writer_add(w, &s, NULL), "add", maif_writer_errmsg(w));
        if ((i + 1) % batch == 0) bu_check(maif_writer_commit(w), "commit", maif_writer_errmsg(w));
    }
    bu_check(maif_writer_commit(w), "commit", maif_writer_errmsg(w));
    bu_check(maif_writer_close(w), "close", NULL);
    bu_warm(path);
}

static unsigned touch(const uint8_t *p, size_t n)
{
    unsigned s = 0;
    for (size_t i = 0; i < n; i++) s += p[i];
    return s;
}

/* Median and p99 of the open + first-read latency, in µs. */
static void time_opens(const char *path, uint64_t n, double *med, double *p99)
{
    static double t[OPENS];
    for (int i = 0; i < OPENS; i++) {
        uint64_t idx = rnd() % n;
        maif_reader *r = NULL;
        maif_block b;
        double t0 = bu_now();
        bu_check(maif_reader_open(&r, path), "reader open", maif_last_errmsg());
        bu_check(maif_reader_block(r, idx, &b), "reader block", maif_reader_errmsg(r));
        g_sink += touch(b.payload, b.payload_size);
        t[i] = (bu_now() - t0) * 1e6;
        maif_reader_close(r);
    }
    *p99 = bu_quantile(t, OPENS, 0.99);
    *med = bu_median(t, OPENS);
}

static void time_opens_baseline(const char *path, double *med, double *p99)
{
    static double t[OPENS];
    uint64_t size = bu_file_size(path);
    for (int i = 0; i < OPENS; i++) {
        uint64_t off = rnd() % (size - PAYLOAD);
        double t0 = bu_now();
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) != 0) exit(2);
        uint8_t *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
        if (m == MAP_FAILED) exit(2);
        g_sink += touch(m + off, PAYLOAD);
        t[i] = (bu_now() - t0) * 1e6;
        munmap(m, (size_t)st.st_size);
        close(fd);
    }
    *p99 = bu_quantile(t, OPENS, 0.99);
    *med = bu_median(t, OPENS);
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s DIR [BLOCKS]\n", argv[0]);
        return 2;
    }
    uint64_t n = argc == 3 ? (uint64_t)atoll(argv[2]) : 1000000;
    if (n < 1000) n = 1000;
    char *one = bu_path(argv[1], "open1.maif"), *many = bu_path(argv[1], "open1000.maif");
    maif_key *key = bu_key();
    make(one, n, n, key);
    make(many, n, 1000, key);

    double med, p99, bmed, bp99;
    char label[80];
    time_opens_baseline(one, &bmed, &bp99); /* warm-up, discarded */
    time_opens(one, n, &med, &p99);
    time_opens_baseline(one, &bmed, &bp99);
    snprintf(label, sizeof label, "open+1st read, %lluk blocks, median", (unsigned long long)(n / 1000));
    bu_report(label, med, "us", "open+fstat+mmap+read", bmed, "<=1000 us");
    snprintf(label, sizeof label, "open+1st read, %lluk blocks, p99", (unsigned long long)(n / 1000));
    bu_report(label, p99, "us", "open+fstat+mmap+read", bp99, "<=1000 us");
    time_opens(many, n, &med, &p99);
    time_opens_baseline(many, &bmed, &bp99);
    snprintf(label, sizeof label, "open+1st read, commit/1000, median");
    bu_report(label, med, "us", "open+fstat+mmap+read", bmed, "<=1000 us");
    snprintf(label, sizeof label, "open+1st read, commit/1000, p99");
    bu_report(label, p99, "us", "open+fstat+mmap+read", bp99, "<=1000 us");

    /* For information: overhead at this size, where the log-structured
     * index has rewritten each offset more often than at 100 000 blocks. */
    double o1 = ((double)bu_file_size(one) - (double)(n * PAYLOAD)) / (double)n;
    double o1000 = ((double)bu_file_size(many) - (double)(n * PAYLOAD)) / (double)n;
    snprintf(label, sizeof label, "overhead %lluk x 64B, commit/1000", (unsigned long long)(n / 1000));
    bu_report(label, o1000, "B/block", "same blocks, 1 commit", o1, "<=128");

    /* Random reads on one open reader. */
    maif_reader *r = NULL;
    bu_check(maif_reader_open(&r, one), "reader open", maif_last_errmsg());
    uint64_t *idx = malloc(READS * sizeof *idx), *off = malloc(READS * sizeof *off);
    double *t = malloc(READS * sizeof *t);
    if (!idx || !off || !t) return 2;
    for (int i = 0; i < READS; i++) {
        maif_block b;
        idx[i] = rnd() % n;
        bu_check(maif_reader_block(r, idx[i], &b), "reader block", maif_reader_errmsg(r));
        off[i] = b.offset;
    }
    double sum = 0;
    for (int i = 0; i < READS; i++) {
        maif_block b;
        double t0 = bu_now();
        bu_check(maif_reader_block(r, idx[i], &b), "reader block", maif_reader_errmsg(r));
        g_sink += touch(b.payload, b.payload_size);
        t[i] = (bu_now() - t0) * 1e6;
        sum += t[i];
    }
    double rmed = bu_median(t, READS), rmean = sum / READS;
    int fd = open(one, O_RDONLY);
    uint8_t buf[PAYLOAD];
    double bsum = 0;
    for (int i = 0; i < READS; i++) {
        double t0 = bu_now();
        if (pread(fd, buf, PAYLOAD, (off_t)off[i]) != PAYLOAD) return 2;
        g_sink += touch(buf, PAYLOAD);
        t[i] = (bu_now() - t0) * 1e6;
        bsum += t[i];
    }
    close(fd);
    double bmedr = bu_median(t, READS);
    bu_report("random block read, median", rmed, "us", "pread() 64 B", bmedr, "<=5 us");
    bu_report("random block read, mean", rmean, "us", "pread() 64 B", bsum / READS, "<=5 us");
    maif_reader_close(r);
    maif_key_free(key);
    unlink(one);
    unlink(many);
    free(one);
    free(many);
    free(idx);
    free(off);
    free(t);
    return 0;
}
