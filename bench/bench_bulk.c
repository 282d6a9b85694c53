/*
 * bench_bulk.c — appending 1 MiB blocks into the page cache.
 *
 * usage: bench_bulk mksrc SRC MIB       write MIB MiB of payload bytes to SRC
 *        bench_bulk run SRC DIR REPS     append SRC as 1 MiB blocks, REPS times
 *
 * The source bytes are prefilled by `mksrc` and read into memory before the
 * clock starts, so the figure is what the writer costs (hashing, framing,
 * write()) and not where the bytes came from. Each repetition creates a
 * fresh artifact in DIR (creation, which syncs the empty header, is not
 * timed), adds every 1 MiB block, commits once, and is timed up to the
 * return of the commit; the artifact is deleted afterwards. One warm-up run
 * of each kind comes first and is discarded (the first gigabyte written
 * after a pause runs slower here, for dd too). Repetitions
 * alternate between maif_writer_add_borrowed (the headline figure: the
 * data is in memory until the commit anyway, so the writer may hash the
 * whole batch on both cores) and maif_writer_add (the payload consumed
 * before the call returns: copied into the writer's buffer, written and
 * hashed when that fills), reported on a second line. The median
 * rate is printed beside the dd rate that run.sh measured on the same
 * bytes and filesystem in this run ($BASE_DD_MBS). MB = 10^6 bytes.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "benchutil.h"

#define MIB (1u << 20)

static int mksrc(const char *path, long mib)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        perror(path);
        return 2;
    }
    uint8_t *buf = malloc(MIB);
    if (!buf) return 2;
    for (long i = 0; i < mib; i++) {
        bu_fill(buf, MIB, 1000 + (uint64_t)i);
        if (write(fd, buf, MIB) != (ssize_t)MIB) {
            perror("write");
            return 2;
        }
    }
    free(buf);
    return close(fd) == 0 ? 0 : 2;
}

static int run(const char *src, const char *dir, int reps)
{
    uint64_t size = bu_file_size(src);
    uint64_t nblocks = size / MIB;
    uint8_t *data = malloc((size_t)size);
    if (!data || nblocks == 0) return 2;
    int fd = open(src, O_RDONLY);
    if (fd < 0) {
        perror(src);
        return 2;
    }
    for (uint64_t got = 0; got < size;) {
        ssize_t k = read(fd, data + got, (size_t)(size - got));
        if (k <= 0) {
            perror("read");
            return 2;
        }
        got += (uint64_t)k;
    }
    close(fd);
    maif_key *key = bu_key();
    char *path = bu_path(dir, "bulk.maif");
    double rates[2][16];
    if (reps > 16) reps = 16;
    for (int r = -2; r < 2 * reps; r++) { /* r < 0: one warm-up of each, discarded */
        int borrow = (r + 2) % 2 == 0;
        maif_writer *w = NULL;
        bu_check(maif_writer_create(&w, path, key, "bench", bu_writer_options(0)), "writer create", maif_last_errmsg());
        maif_block_spec s = {.type = MAIF_TYPE_BINARY, .payload_size = MIB};
        sync(); /* start clean: no writeback of earlier runs competing (run.sh does the same for dd) */
        double t0 = bu_now();
        for (uint64_t i = 0; i < nblocks; i++) {
            s.payload = data + i * MIB;
            bu_check((borrow ? maif_writer_add_borrowed : maif_writer_add)(w, &s, NULL), "add",
                     maif_writer_errmsg(w));
        }
        bu_check(maif_writer_commit(w), "commit", maif_writer_errmsg(w));
        double t1 = bu_now();
        bu_check(maif_writer_close(w), "close", NULL);
        unlink(path);
        double rate = (double)(nblocks * MIB) / (t1 - t0) / 1e6;
        if (getenv("BENCH_VERBOSE"))
            fprintf(stderr, "  %s run %d: %.0f MB/s%s\n", borrow ? "borrowed" : "copying", r < 0 ? 0 : r / 2 + 1, rate,
                    r < 0 ? " (warm-up)" : "");
        if (r >= 0) rates[!borrow][r / 2] = rate;
    }
    char label[64], target[64];
    snprintf(label, sizeof label, "append 1MiB blocks (%llu MiB)", (unsigned long long)nblocks);
    double dd = bu_env_double("BASE_DD_MBS");
    snprintf(target, sizeof target, ">=0.8x dd (%.0f)", dd > 0 ? 0.8 * dd : 0.0);
    bu_report(label, bu_median(rates[0], (size_t)reps), "MB/s", "dd bs=1M", dd, target);
    bu_report("  same, maif_writer_add (copying)", bu_median(rates[1], (size_t)reps), "MB/s", "dd bs=1M", dd,
              "(information)");
    maif_key_free(key);
    free(path);
    free(data);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 4 && !strcmp(argv[1], "mksrc")) return mksrc(argv[2], atol(argv[3]));
    if (argc == 5 && !strcmp(argv[1], "run")) return run(argv[2], argv[3], atoi(argv[4]));
    fprintf(stderr, "usage: %s mksrc SRC MIB | run SRC DIR REPS\n", argv[0]);
    return 2;
}
