/*
 * bench_readers.c — readers while a writer appends (SWMR), and the
 * reader's cache of decoded blocks.
 *
 * usage: bench_readers DIR [SECONDS]
 *
 * 1. An artifact of 20 000 blocks of 1 KiB. A reader loops for SECONDS
 *    (default 2): maif_reader_refresh, then one random block read and its
 *    payload summed; the latency of each loop is recorded. First with no
 *    writer (the baseline), then while a child process appends batches of
 *    16 blocks and commits them as fast as it can. p50 and p99 of each,
 *    and how many commits the reader followed.
 * 2. 16 KiB zstd blocks (text-like), decoded with maif_reader_block_decode:
 *    median latency with a cache that holds them (hits) beside the same
 *    decodes without a cache; then a mixed workload (a hot set of 64
 *    blocks read 80% of the time, scans of all blocks the rest) with a
 *    cache of a quarter of the blocks, giving the hit ratio.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "benchutil.h"

#define NBLK  20000
#define BS    1024
#define BATCH 16

static uint64_t xs(uint64_t *s)
{
    *s ^= *s << 13, *s ^= *s >> 7, *s ^= *s << 17;
    return *s;
}

static void make(const char *path, maif_key *key)
{
    maif_writer *w = NULL;
    bu_check(maif_writer_create(&w, path, key, "bench", bu_writer_options(0)), "create", maif_last_errmsg());
    uint8_t p[BS];
    for (uint64_t i = 0; i < NBLK; i++) {
        bu_fill(p, BS, i);
        maif_block_spec s = {.type = MAIF_TYPE_BINARY, .payload = p, .payload_size = BS};
        bu_check(maif_writer_add(w, &s, NULL), "add", maif_writer_errmsg(w));
    }
    bu_check(maif_writer_commit(w), "commit", maif_writer_errmsg(w));
    bu_check(maif_writer_close(w), "close", maif_last_errmsg());
}

/* Appends batches until killed. */
static void writer_child(const char *path, maif_key *key)
{
    maif_writer *w = NULL;
    if (maif_writer_open(&w, path, key, NULL) != MAIF_OK) _exit(3);
    uint8_t p[BS];
    for (uint64_t b = 0;; b++) {
        for (int j = 0; j < BATCH; j++) {
            bu_fill(p, BS, b * BATCH + (uint64_t)j);
            maif_block_spec s = {.type = MAIF_TYPE_BINARY, .payload = p, .payload_size = BS};
            if (maif_writer_add(w, &s, NULL) != MAIF_OK) _exit(4);
        }
        if (maif_writer_commit(w) != MAIF_OK) _exit(5);
    }
}

/* The reader loop; fills lat (us) and returns how many loops ran. */
static size_t read_loop(const char *path, double secs, double *lat, size_t cap, uint64_t *switches, uint64_t *grew)
{
    maif_reader *r = NULL;
    bu_check(maif_reader_open(&r, path), "open", maif_last_errmsg());
    uint64_t first = maif_reader_count(r), seed = 88172645463325252ull, sum = 0;
    size_t n = 0;
    *switches = 0;
    double t_end = bu_now() + secs;
    while (n < cap) {
        double t0 = bu_now();
        if (t0 >= t_end) break;
        int changed = 0;
        bu_check(maif_reader_refresh(r, &changed), "refresh", maif_reader_errmsg(r));
        *switches += (uint64_t)changed;
        uint64_t i = xs(&seed) % maif_reader_count(r);
        maif_block b;
        bu_check(maif_reader_block(r, i, &b), "block", maif_reader_errmsg(r));
        for (size_t k = 0; k < b.payload_size; k += 64) sum += b.payload[k];
        lat[n++] = (bu_now() - t0) * 1e6;
    }
    *grew = maif_reader_count(r) - first;
    maif_reader_close(r);
    if (sum == 42) fprintf(stderr, " "); /* keep the reads */
    return n;
}

static void swmr(const char *dir, double secs, maif_key *key)
{
    char *path = bu_path(dir, "swmr.maif");
    make(path, key);
    size_t cap = 20u << 20;
    double *a = malloc(cap * sizeof *a), *b = malloc(cap * sizeof *b);
    if (!a || !b) exit(2);
    uint64_t sw0, sw1, g0, g1;
    size_t na = read_loop(path, secs, a, cap, &sw0, &g0);
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) exit(2);
    if (pid == 0) writer_child(path, key);
    usleep(50000); /* the writer is under way */
    size_t nb = read_loop(path, secs, b, cap, &sw1, &g1);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    bu_report("read while writing, p50 (refresh+read)", bu_quantile(b, nb, 0.5), "us", "no writer, p50",
              bu_quantile(a, na, 0.5), "");
    bu_report("read while writing, p99 (refresh+read)", bu_quantile(b, nb, 0.99), "us", "no writer, p99",
              bu_quantile(a, na, 0.99), "");
    bu_note("swmr: %zu reads in %.1f s followed %llu commits (+%llu blocks); without a writer %zu reads", nb, secs,
            (unsigned long long)sw1, (unsigned long long)g1, na);
    free(a);
    free(b);
    unlink(path);
    free(path);
}

static void fill_text(uint8_t *p, size_t n, uint64_t seed)
{
    static const char *words[] = {"agent", "memory", "block", "the", "of", "artifact", "signed", "chain"};
    uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
    size_t i = 0;
    while (i < n) {
        const char *w = words[xs(&x) % 8];
        for (; *w && i < n; w++) p[i++] = (uint8_t)*w;
        if (i < n) p[i++] = ' ';
    }
}

static void cache(const char *dir, maif_key *key)
{
    enum { N = 1024, CS = 16384 };
    char *path = bu_path(dir, "cache.maif");
    maif_options *o = NULL;
    bu_check(maif_options_create(&o), "options", "");
    bu_check(maif_options_set(o, MAIF_OPT_OVERWRITE, 1), "options", "");
    bu_check(maif_options_set(o, MAIF_OPT_CODEC, MAIF_CODEC_ZSTD), "options", "");
    maif_writer *w = NULL;
    bu_check(maif_writer_create(&w, path, key, "bench", o), "create", maif_last_errmsg());
    maif_options_free(o);
    uint8_t *p = malloc(CS), *dst = malloc(CS);
    for (uint64_t i = 0; i < N; i++) {
        fill_text(p, CS, i);
        maif_block_spec s = {.type = MAIF_TYPE_TEXT, .payload = p, .payload_size = CS};
        bu_check(maif_writer_add(w, &s, NULL), "add", maif_writer_errmsg(w));
    }
    bu_check(maif_writer_commit(w), "commit", maif_writer_errmsg(w));
    bu_check(maif_writer_close(w), "close", maif_last_errmsg());

    maif_reader *r = NULL;
    bu_check(maif_reader_open(&r, path), "open", maif_last_errmsg());
    double miss[N], hit[N];
    size_t wr;
    for (int pass = 0; pass < 2; pass++) /* pass 0 warms the page cache */
        for (uint64_t i = 0; i < N; i++) {
            double t0 = bu_now();
            bu_check(maif_reader_block_decode(r, i, dst, CS, &wr), "decode", maif_reader_errmsg(r));
            miss[i] = (bu_now() - t0) * 1e6;
        }
    bu_check(maif_reader_set_cache(r, (size_t)N * (CS + 64) * 2), "cache", maif_reader_errmsg(r));
    for (uint64_t i = 0; i < N; i++)
        bu_check(maif_reader_block_decode(r, i, dst, CS, &wr), "decode", maif_reader_errmsg(r)); /* fill */
    for (uint64_t i = 0; i < N; i++) {
        double t0 = bu_now();
        bu_check(maif_reader_block_decode(r, i, dst, CS, &wr), "decode", maif_reader_errmsg(r));
        hit[i] = (bu_now() - t0) * 1e6;
    }
    bu_report("decode 16 KiB zstd, cache hit, p50", bu_median(hit, N), "us", "no cache, p50", bu_median(miss, N), "");

    /* mixed: hot set of 64, scans, a cache of a quarter of the blocks */
    bu_check(maif_reader_set_cache(r, (size_t)N / 4 * (CS + 64)), "cache", maif_reader_errmsg(r));
    uint64_t seed = 7;
    for (int k = 0; k < 20000; k++) {
        uint64_t i = xs(&seed) % 10 < 8 ? xs(&seed) % 64 : 64 + (uint64_t)k % (N - 64);
        bu_check(maif_reader_block_decode(r, i, dst, CS, &wr), "decode", maif_reader_errmsg(r));
    }
    maif_cache_stats st;
    bu_check(maif_reader_cache_stats(r, &st), "stats", "");
    bu_report("cache hit ratio, hot 64 + scan, 1/4 cached", (double)st.hits / (double)(st.hits + st.misses), "",
              "hot-set share of reads", 0.8, "");
    bu_note("cache: %llu hits, %llu misses, %llu evictions, %zu of %zu bytes", (unsigned long long)st.hits,
            (unsigned long long)st.misses, (unsigned long long)st.evictions, st.bytes, st.capacity);
    maif_reader_close(r);
    free(p);
    free(dst);
    unlink(path);
    free(path);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s DIR [SECONDS]\n", argv[0]);
        return 2;
    }
    double secs = argc > 2 ? atof(argv[2]) : 2.0;
    if (secs <= 0) secs = 2.0;
    maif_key *key = bu_key();
    swmr(argv[1], secs, key);
    cache(argv[1], key);
    return 0;
}
