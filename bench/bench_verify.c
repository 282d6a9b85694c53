/*
 * bench_verify.c — full verification of a large native artifact.
 *
 * usage: bench_verify prepare FILE MIB [blake3]   write FILE: MIB blocks of 1 MiB
 *                                                 (content hashes: SHA-256, or BLAKE3)
 *        bench_verify run FILE REPS      verify FILE REPS times
 *
 * `prepare` writes the artifact with a commit every 64 blocks. run.sh then
 * times `openssl dgst -sha256 FILE` on the same file (warm) and passes its
 * rate as $BASE_OPENSSL_MBS. `run` reads the file once to warm the page
 * cache, then times maif_verify_file() (threads = 0: one per online CPU)
 * REPS times and prints the median rate (file bytes / wall time, MB = 10^6
 * bytes); it also times one single-threaded verify, for information. Every
 * run must end with an intact verdict, or the benchmark fails. A BLAKE3
 * artifact is reported beside `b3sum` on the same file ($BASE_B3SUM_MBS,
 * all cores) as well as beside openssl's SHA-256.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "benchutil.h"

#define MIB (1u << 20)

static int prepare(const char *path, long mib, int hash)
{
    uint8_t *buf = malloc(MIB);
    if (!buf) return 2;
    maif_key *key = bu_key();
    maif_writer *w = NULL;
    maif_options *o = NULL;
    bu_check(maif_options_create(&o), "options", maif_last_errmsg());
    bu_check(maif_options_set(o, MAIF_OPT_OVERWRITE, 1), "options", maif_last_errmsg());
    bu_check(maif_options_set(o, MAIF_OPT_CONTENT_HASH, hash), "options", maif_last_errmsg());
    bu_check(maif_writer_create(&w, path, key, "bench", o), "writer create", maif_last_errmsg());
    maif_options_free(o);
    maif_block_spec s = {.type = MAIF_TYPE_BINARY, .payload = buf, .payload_size = MIB};
    for (long i = 0; i < mib; i++) {
        bu_fill(buf, MIB, 5000 + (uint64_t)i);
        bu_check(maif_writer_add(w, &s, NULL), "add", maif_writer_errmsg(w));
        if ((i + 1) % 64 == 0) bu_check(maif_writer_commit(w), "commit", maif_writer_errmsg(w));
    }
    bu_check(maif_writer_commit(w), "commit", maif_writer_errmsg(w));
    bu_check(maif_writer_close(w), "close", NULL);
    maif_key_free(key);
    free(buf);
    return 0;
}

static double verify_once(const char *path, unsigned threads)
{
    maif_options *opt = NULL;
    bu_check(maif_options_create(&opt), "options", maif_last_errmsg());
    bu_check(maif_options_set(opt, MAIF_OPT_THREADS, threads), "options", maif_last_errmsg());
    maif_report *rep = NULL;
    double t0 = bu_now();
    bu_check(maif_verify_file(path, opt, &rep), "verify", maif_last_errmsg());
    double t1 = bu_now();
    maif_options_free(opt);
    if (!maif_report_ok(rep)) {
        const maif_finding *f = maif_report_finding(rep, 0);
        fprintf(stderr, "bench: %s does not verify: %s\n", path, f ? f->message : "?");
        exit(2);
    }
    maif_report_free(rep);
    return t1 - t0;
}

static int run(const char *path, int reps)
{
    uint64_t size = bu_file_size(path);
    double t[16];
    if (reps > 16) reps = 16;
    bu_warm(path);
    verify_once(path, 0); /* warm-up, discarded */
    for (int i = 0; i < reps; i++) t[i] = verify_once(path, 0);
    double mbs = (double)size / bu_median(t, (size_t)reps) / 1e6;
    double one = (double)size / verify_once(path, 1) / 1e6;
    double ossl = bu_env_double("BASE_OPENSSL_MBS");
    maif_reader *r = NULL;
    bu_check(maif_reader_open(&r, path), "open", maif_last_errmsg());
    int b3 = maif_reader_content_hash(r) == MAIF_HASH_BLAKE3;
    maif_reader_close(r);
    char label[80], target[64];
    const char *h = b3 ? ", BLAKE3" : "";
    snprintf(label, sizeof label, "verify native %.0f MiB%s, all cores", (double)size / MIB, h);
    snprintf(target, sizeof target, ">=0.9x openssl (%.0f)", ossl > 0 ? 0.9 * ossl : 0.0);
    bu_report(label, mbs, "MB/s", "openssl dgst -sha256", ossl, b3 ? "(information)" : target);
    if (b3) bu_report(label, mbs, "MB/s", "b3sum, all cores", bu_env_double("BASE_B3SUM_MBS"), "(information)");
    snprintf(label, sizeof label, "verify native %.0f MiB%s, 1 thread", (double)size / MIB, h);
    bu_report(label, one, "MB/s", "openssl dgst -sha256", ossl, "(information)");
    return 0;
}

int main(int argc, char **argv)
{
    if ((argc == 4 || (argc == 5 && !strcmp(argv[4], "blake3"))) && !strcmp(argv[1], "prepare"))
        return prepare(argv[2], atol(argv[3]), argc == 5 ? MAIF_HASH_BLAKE3 : MAIF_HASH_SHA256);
    if (argc == 4 && !strcmp(argv[1], "run")) return run(argv[2], atoi(argv[3]));
    fprintf(stderr, "usage: %s prepare FILE MIB [blake3] | run FILE REPS\n", argv[0]);
    return 2;
}
