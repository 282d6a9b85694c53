/*
 * bench_commit.c — durable commits per second with 1, 8 and 32 committing
 * threads sharing one writer (group commit), beside write()+fdatasync per
 * commit from the same number of threads on one file in the same run.
 *
 * usage: bench_commit DIR [SECONDS] [THREADS...]
 *
 * Every commit is one 128-byte text block, committed with MAIF_OPT_DURABLE
 * through maif_writer_commit_batch; the baseline appends a 128-byte record
 * at a shared offset with pwrite and calls fdatasync, per commit. First it
 * measures the cost of one fdatasync after a small append (median and p99
 * of 500), the figure group commit is built to amortise. The report also
 * gives the mean group size (commits per commit record on disk).
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "benchutil.h"

#define REC 128

typedef struct shared {
    maif_writer *w;       /* maif runs */
    int fd;               /* baseline runs */
    _Atomic uint64_t off; /* baseline: next append offset */
    _Atomic int stop;
    _Atomic uint64_t commits;
} shared;

static void *maif_thread(void *arg)
{
    shared *s = arg;
    char text[REC];
    memset(text, 'm', sizeof text);
    maif_block_spec spec = {.type = MAIF_TYPE_TEXT, .payload = text, .payload_size = sizeof text};
    uint64_t n = 0;
    while (!atomic_load(&s->stop)) {
        bu_check(maif_writer_commit_batch(s->w, &spec, 1, NULL), "commit_batch", maif_last_errmsg());
        n++;
    }
    atomic_fetch_add(&s->commits, n);
    return NULL;
}

static void *base_thread(void *arg)
{
    shared *s = arg;
    char rec[REC];
    memset(rec, 'b', sizeof rec);
    uint64_t n = 0;
    while (!atomic_load(&s->stop)) {
        uint64_t at = atomic_fetch_add(&s->off, REC);
        if (pwrite(s->fd, rec, REC, (off_t)at) != REC || fdatasync(s->fd) != 0) {
            perror("baseline write/fdatasync");
            exit(2);
        }
        n++;
    }
    atomic_fetch_add(&s->commits, n);
    return NULL;
}

/* Runs threads threads of fn for secs seconds; returns commits/s. */
static double run(shared *s, unsigned threads, void *(*fn)(void *), double secs)
{
    pthread_t t[256];
    atomic_store(&s->stop, 0);
    atomic_store(&s->commits, 0);
    double t0 = bu_now();
    for (unsigned i = 0; i < threads; i++)
        if (pthread_create(&t[i], NULL, fn, s) != 0) {
            fprintf(stderr, "pthread_create failed\n");
            exit(2);
        }
    while (bu_now() - t0 < secs) usleep(10000);
    atomic_store(&s->stop, 1);
    for (unsigned i = 0; i < threads; i++) pthread_join(t[i], NULL);
    return (double)atomic_load(&s->commits) / (bu_now() - t0);
}

/* Median and p99 of one fdatasync after a REC-byte append, in us. */
static void fsync_cost(const char *path, double *med, double *p99)
{
    enum { N = 500 };
    double v[N];
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        perror(path);
        exit(2);
    }
    char rec[REC];
    memset(rec, 'f', sizeof rec);
    for (int i = 0; i < N; i++) {
        if (write(fd, rec, REC) != REC) exit(2);
        double t0 = bu_now();
        if (fdatasync(fd) != 0) exit(2);
        v[i] = (bu_now() - t0) * 1e6;
    }
    close(fd);
    *med = bu_median(v, N);
    *p99 = bu_quantile(v, N, 0.99);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s DIR [SECONDS] [THREADS...]\n", argv[0]);
        return 2;
    }
    double secs = argc > 2 ? atof(argv[2]) : 2.0;
    if (secs <= 0) secs = 2.0;
    unsigned counts[16] = {1, 8, 32}, ncounts = 3;
    if (argc > 3) {
        ncounts = 0;
        for (int i = 3; i < argc && ncounts < 16; i++) {
            int c = atoi(argv[i]);
            if (c >= 1 && c <= 256) counts[ncounts++] = (unsigned)c;
        }
    }
    char *fpath = bu_path(argv[1], "fsync.bin"), *bpath = bu_path(argv[1], "base.bin"),
         *mpath = bu_path(argv[1], "commit.maif");
    double med, p99;
    fsync_cost(fpath, &med, &p99);
    unlink(fpath);
    bu_report("fdatasync after a 128 B append, p50", med, "us", "", -1, "");
    bu_report("fdatasync after a 128 B append, p99", p99, "us", "", -1, "");

    maif_key *key = bu_key();
    for (unsigned c = 0; c < ncounts; c++) {
        unsigned threads = counts[c];
        shared s = {0};
        s.fd = open(bpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (s.fd < 0) {
            perror(bpath);
            return 2;
        }
        double base = run(&s, threads, base_thread, secs);
        close(s.fd);
        unlink(bpath);

        bu_check(maif_writer_create(&s.w, mpath, key, "bench", bu_writer_options(1)), "writer create",
                 maif_last_errmsg());
        double rate = run(&s, threads, maif_thread, secs);
        bu_check(maif_writer_close(s.w), "close", maif_last_errmsg());
        maif_reader *r = NULL;
        maif_info info;
        bu_check(maif_reader_open(&r, mpath), "reader open", maif_last_errmsg());
        bu_check(maif_reader_info(r, &info), "info", maif_reader_errmsg(r));
        double group = info.commit_count > 1 ? (double)info.block_count / (double)(info.commit_count - 1) : 0;
        maif_reader_close(r);
        unlink(mpath);

        char label[96], blabel[96];
        snprintf(label, sizeof label, "durable commits, %u thread%s", threads, threads == 1 ? "" : "s");
        snprintf(blabel, sizeof blabel, "write+fdatasync x%u", threads);
        bu_report(label, rate, "commits/s", blabel, base, threads == 8 ? ">= 5000/s" : "");
        bu_note("group commit, %u thread%s: %.1f commits per fsync pair (mean group)", threads,
                threads == 1 ? "" : "s", group);
    }
    maif_key_free(key);
    free(fpath);
    free(bpath);
    free(mpath);
    return 0;
}
