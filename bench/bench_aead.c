/*
 * bench_aead.c — encryption at rest: encrypt+append and read+decrypt
 * throughput per cipher on 4 KiB and 1 MiB blocks, each beside the raw
 * AEAD (libsodium; for AES-256-GCM also OpenSSL EVP) sealing and opening
 * the same buffers in the same run; and the cost of the passphrase KDFs at
 * their defaults.
 *
 * usage: bench_aead DIR
 *
 * Each figure is the median of BENCH_REPS runs (default 3) over
 * BENCH_AEAD_MIB MiB of payload (default 256), alternating with its
 * baseline. Append timing covers maif_writer_add of every block and one
 * commit (the chain hash runs on the writer's helper thread); read timing
 * covers maif_reader_block_decode of every block (page cache warm). The
 * raw baselines seal/open the same payloads with the same key and a
 * nonce per block, without the commitment, the file or the hash: the
 * appends take their payloads from 4 buffers in turn, and so does the raw
 * seal (the raw open from 4 ciphertexts); each is also printed beside the
 * raw AEAD on one buffer, which stays in the core's cache (the figure
 * this bench compared against before 2026-12-01). For
 * encrypt+append and read+decrypt the MB per CPU-second (all threads) is
 * reported beside the raw seal's and open's too: the work per byte, which a loaded machine disturbs
 * far less than the wall-clock rates.
 * A 1 MiB block is stored in the STREAM form of its cipher (4, 5 or 6:
 * 16 chunks of 64 KiB, FORMAT.md §5.7), so its rows are also printed
 * beside the raw AEAD sealing and opening the same buffer in 64 KiB
 * pieces (what the chunking itself costs), and read+decrypt is also timed
 * through maif_reader_block_decode_to (chunk by chunk into the caller's
 * sink, the path of `maif cat` on large blocks).
 *
 * 1 MiB blocks are appended both ways: maif_writer_add (the payload is
 * copied into the writer's buffer, then sealed) and
 * maif_writer_add_borrowed (sealed straight from the caller's bytes at
 * the commit). Beside them is the bound of a writer that keeps the
 * format: every stored byte must be sealed, and hashed with SHA-256 for
 * the chain and written, as the plain writer does, so with P usable cores
 * (at most 2 here) encrypt+append can go no faster than
 * P / (seal + plain append) in CPU-seconds per byte: the raw seal's and
 * the plain borrowed append's CPU time (user + system, all threads) over
 * the same blocks in the same run. Its ratio to the raw seal is the best
 * ratio any pipeline could show on this machine; SHA-256 alone is printed
 * too. The 1 MiB rows are repeated for artifacts whose content hash is
 * BLAKE3 (MAIF_OPT_CONTENT_HASH), with their own bound (the plain writer
 * hashing with BLAKE3) and BLAKE3's cost per CPU-second beside SHA-256's.
 * Each bound is also measured with both cores busy at once ("both busy",
 * contended_bound): the seal on one thread, the content hash and the file
 * append of stored bytes on the other, for a second each run.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "benchutil.h"
#include "codec/codec.h"
#include "crypto/aead.h"
#include "crypto/crypto.h"
#include "util/pool.h"
#include "privacy/privacy.h"

static const char *alg_name[4] = {"", "xchacha20", "chacha20", "aes256gcm"};

/* CPU seconds of the process (every thread, user + system). The machine
 * is shared: wall-clock rates move with the load, MB per CPU-second much
 * less, and with two free cores the wall rate of a run is at most twice
 * its CPU rate. */
static double cpu_now(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_utime.tv_sec + (double)u.ru_stime.tv_sec +
           ((double)u.ru_utime.tv_usec + (double)u.ru_stime.tv_usec) * 1e-6;
}
static double g_cpu_rate; /* MB per CPU-second of the last raw(), append_run() or read_run() */

#define NSRC 4 /* the appends take their payloads from NSRC buffers in turn */
#define CT_ROOM(bs) ((bs) + 64 + 16 * 32) /* a ciphertext buffer */

/* raw: engine 0 = maif_aead_* (libsodium; for AES the size-chosen engine),
 * 1 = libsodium forced, 2 = EVP forced (AES only). The input of block i
 * is buffer i % rot of src (seal) or of ct (open: rot ciphertexts sealed
 * first), the output one buffer: rot = NSRC reads the same buffers as the
 * appends, in the same turn; rot = 1 reads one buffer, which stays in the
 * core's cache. */
static double raw(int alg, int engine, int open, const uint8_t *src, uint8_t *ct, uint8_t *pt, size_t bs, size_t n,
                  size_t rot)
{
    uint8_t key[32], nonce[24] = {0}, ad[64] = {0};
    memset(key, 7, sizeof key);
    if (open)
        for (size_t j = 0; j < rot; j++) /* valid ciphertexts */
            bu_check(maif_aead_seal(alg, ct + j * CT_ROOM(bs), src + j * bs, bs, ad, sizeof ad, nonce, key), "raw seal",
                     "");
    double c0 = cpu_now(), t0 = bu_now();
    for (size_t i = 0; i < n; i++) {
        if (!open) nonce[0] = (uint8_t)i;
        int rc;
        const uint8_t *in = open ? ct + (i % rot) * CT_ROOM(bs) : src + (i % rot) * bs;
        if (!open) {
            if (alg == MAIF_AEAD_AES256GCM && engine)
                rc = maif_aead_aes_seal_with(engine == 2, ct, in, bs, ad, sizeof ad, nonce, key);
            else rc = maif_aead_seal(alg, ct, in, bs, ad, sizeof ad, nonce, key);
        } else {
            if (alg == MAIF_AEAD_AES256GCM && engine)
                rc = maif_aead_aes_open_with(engine == 2, pt, in, bs + 16, ad, sizeof ad, nonce, key);
            else rc = maif_aead_open(alg, pt, in, bs + 16, ad, sizeof ad, nonce, key);
        }
        bu_check(rc, "raw aead", "");
    }
    double dt = bu_now() - t0;
    g_cpu_rate = (double)bs * (double)n / (cpu_now() - c0 + 1e-9) / 1e6;
    return (double)bs * (double)n / dt / 1e6;
}

/* The raw AEAD over each buffer in STREAM-sized pieces: chunk sealing
 * and opening without the commitment, subkey, file or hash. */
static double raw_chunked(int alg, int open, const uint8_t *src, uint8_t *ct, uint8_t *pt, size_t bs, size_t n)
{
    const size_t C = MAIF_STREAM_CHUNK_PLAIN;
    uint8_t key[32], nonce[24] = {0}, ad[64] = {0};
    memset(key, 7, sizeof key);
    size_t pieces = (bs + C - 1) / C;
    if (open)
        for (size_t j = 0; j < pieces; j++) {
            size_t m = bs - j * C < C ? bs - j * C : C;
            nonce[1] = (uint8_t)j;
            bu_check(maif_aead_seal(alg, ct + j * (C + 16), src + j * C, m, ad, sizeof ad, nonce, key), "raw seal", "");
        }
    double t0 = bu_now();
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < pieces; j++) {
            size_t m = bs - j * C < C ? bs - j * C : C;
            nonce[1] = (uint8_t)j;
            int rc = open ? maif_aead_open(alg, pt + j * C, ct + j * (C + 16), m + 16, ad, sizeof ad, nonce, key)
                          : maif_aead_seal(alg, ct + j * (C + 16), src + j * C, m, ad, sizeof ad, nonce, key);
            bu_check(rc, "raw aead", "");
        }
    return (double)bs * (double)n / (bu_now() - t0) / 1e6;
}

/* ---- the bound measured with both cores busy at once. The bound above
 * adds CPU-seconds measured one thing at a time; but the two cores of this
 * machine do not deliver twice one core's work when both are busy (shared
 * caches and memory, and a host that may place both on one physical
 * core). So the two halves of the work also run at the same time for a
 * while: one thread seals the payloads (the raw AEAD), the other hashes
 * stored bytes with the content hash and appends them to a file (what the
 * writer must also do with every byte); each thread's CPU time over what
 * it did gives its rate under contention, and 2 / (1/seal + 1/hash+write)
 * is what two such cores could do for the whole job. */
typedef struct busy {
    int kind; /* 0 seal, 1 hash and write */
    int alg, hash, fd;
    const uint8_t *src;
    uint8_t *out;
    size_t bs, stored;
    _Atomic int *stop;
    uint64_t bytes;
    double cpu;
} busy;

static double thread_cpu(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void *busy_run(void *arg)
{
    busy *b = arg;
    uint8_t key[32], nonce[24] = {0}, ad[64] = {0}, h[32];
    memset(key, 7, sizeof key);
    uint64_t off = 0;
    double c0 = thread_cpu();
    for (size_t i = 0; !atomic_load_explicit(b->stop, memory_order_relaxed); i++) {
        const uint8_t *in = b->src + (i % NSRC) * (b->kind ? b->stored : b->bs);
        if (b->kind == 0) {
            nonce[0] = (uint8_t)i;
            bu_check(maif_aead_seal(b->alg, b->out, in, b->bs, ad, sizeof ad, nonce, key), "busy seal", "");
        } else {
            maif_chash(b->hash, in, b->stored, h);
            bu_check(pwrite(b->fd, in, b->stored, (off_t)off) == (ssize_t)b->stored ? 0 : MAIF_EIO, "busy write", "");
            off += b->stored;
            if (off >= (256u << 20)) { /* new pages, as an append makes, without filling the disk */
                bu_check(ftruncate(b->fd, 0), "busy truncate", "");
                off = 0;
            }
        }
        b->bytes += b->bs;
    }
    b->cpu = thread_cpu() - c0;
    return NULL;
}

/* The two-core bound under contention, MB/s; seconds of overlap. */
static double contended_bound(const char *dir, int alg, int hash, const uint8_t *src, size_t bs, size_t stored,
                              double seconds)
{
    uint8_t *out = malloc(CT_ROOM(bs)), *st = malloc(stored * NSRC);
    bu_check(out && st ? 0 : MAIF_ENOMEM, "busy buffers", "");
    for (size_t j = 0; j < NSRC; j++) bu_fill(st + j * stored, stored, 900 + j);
    char *path = bu_path(dir, "busy.bin");
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    bu_check(fd >= 0 ? 0 : MAIF_EIO, "busy file", path);
    _Atomic int stop = 0;
    busy a = {0, alg, hash, -1, src, out, bs, stored, &stop, 0, 0}, b = {1, alg, hash, fd, st, NULL, bs, stored, &stop, 0, 0};
    pthread_t ta, tb;
    bu_check(pthread_create(&ta, NULL, busy_run, &a) || pthread_create(&tb, NULL, busy_run, &b) ? MAIF_EIO : 0,
             "busy threads", "");
    struct timespec d = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
    nanosleep(&d, NULL);
    atomic_store(&stop, 1);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    close(fd);
    unlink(path);
    free(path);
    free(out);
    free(st);
    double s = (double)a.bytes / (a.cpu + 1e-9), h = (double)b.bytes / (b.cpu + 1e-9); /* bytes per CPU-second */
    return 2.0 / (1.0 / s + 1.0 / h) / 1e6;
}

typedef struct into {
    uint8_t *dst;
    size_t at;
} into;
static int into_write(void *ctx, const void *p, size_t k)
{
    into *t = ctx;
    memcpy(t->dst + t->at, p, k);
    t->at += k;
    return 0;
}

/* The content hash (MAIF_HASH_*) of n blocks of `stored` bytes (bs of
 * payload each) on one core: MB of payload per CPU-second. */
static double hash_run(const uint8_t *buf, size_t stored, size_t bs, size_t n, int hash)
{
    uint8_t h[32];
    double c0 = cpu_now();
    for (size_t i = 0; i < n; i++) maif_chash(hash, buf, stored, h);
    return (double)bs * (double)n / (cpu_now() - c0 + 1e-9) / 1e6;
}

static double append_run(const char *path, maif_keyring *kr, int alg, const uint8_t *src, size_t bs, size_t n,
                         int borrow, int hash)
{
    maif_writer *w = NULL;
    unlink(path);
    maif_options *o = NULL;
    bu_check(maif_options_create(&o), "options", "");
    bu_check(maif_options_set(o, MAIF_OPT_CONTENT_HASH, hash), "options", maif_last_errmsg());
    bu_check(maif_writer_create(&w, path, bu_key(), "bench", o), "create", maif_last_errmsg());
    maif_options_free(o);
    if (alg) bu_check(maif_writer_encrypt(w, kr, alg), "encrypt", maif_last_errmsg());
    double c0 = cpu_now(), t0 = bu_now();
    for (size_t i = 0; i < n; i++) {
        maif_block_spec sp = {.type = MAIF_TYPE_BINARY, .payload = src + (i % NSRC) * bs, .payload_size = bs};
        bu_check((borrow ? maif_writer_add_borrowed : maif_writer_add)(w, &sp, NULL), "add", maif_writer_errmsg(w));
    }
    bu_check(maif_writer_commit(w), "commit", maif_writer_errmsg(w));
    double dt = bu_now() - t0;
    g_cpu_rate = (double)bs * (double)n / (cpu_now() - c0 + 1e-9) / 1e6;
    bu_check(maif_writer_close(w), "close", maif_last_errmsg());
    return (double)bs * (double)n / dt / 1e6;
}

static double read_run(const char *path, maif_keyring *kr, uint8_t *dst, size_t bs, size_t n, int to)
{
    maif_reader *r = NULL;
    bu_check(maif_reader_open(&r, path), "open", maif_last_errmsg());
    bu_check(maif_reader_set_keyring(r, kr), "keyring", maif_last_errmsg());
    size_t w;
    bu_check(maif_reader_block_decode(r, 1, dst, bs, &w), "decode", maif_reader_errmsg(r)); /* block 0 is the key wrap; this unwraps the key */
    double c0 = cpu_now(), t0 = bu_now();
    for (size_t i = 0; i < n; i++) {
        into t = {dst, 0};
        if (to) bu_check(maif_reader_block_decode_to(r, 1 + i, into_write, &t), "decode_to", maif_reader_errmsg(r));
        else bu_check(maif_reader_block_decode(r, 1 + i, dst, bs, &w), "decode", maif_reader_errmsg(r));
    }
    double dt = bu_now() - t0;
    g_cpu_rate = (double)bs * (double)n / (cpu_now() - c0 + 1e-9) / 1e6;
    maif_reader_close(r);
    return (double)bs * (double)n / dt / 1e6;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: bench_aead DIR\n");
        return 2;
    }
    int reps = (int)bu_env_double("BENCH_REPS");
    if (reps <= 0) reps = 3;
    double mib = bu_env_double("BENCH_AEAD_MIB");
    if (mib <= 0) mib = 256;
    char *path = bu_path(argv[1], "aead.maif");
    unsigned cores = maif_pool_cpus() < 2 ? 1 : 2;
    maif_keyring *kr = NULL;
    bu_check(maif_keyring_create(&kr), "keyring", "");
    uint8_t pk[32];
    maif_key_public(bu_key(), pk);
    bu_check(maif_keyring_add_recipient(kr, pk), "recipient", "");
    bu_check(maif_keyring_add_identity(kr, bu_key()), "identity", "");

    const size_t sizes[2] = {4096, 1u << 20};
    for (int si = 0; si < 2; si++) {
        size_t bs = sizes[si];
        size_t n = (size_t)(mib * 1048576.0 / (double)bs);
        uint8_t *src = malloc(bs * NSRC), *ct = malloc(CT_ROOM(bs) * NSRC), *pt = malloc(bs + 64);
        bu_fill(src, bs * NSRC, 42);
        for (int alg = 1; alg <= 3; alg++) {
            if (!maif_aead_available(alg)) {
                bu_note("%s: not available on this CPU", alg_name[alg]);
                continue;
            }
            double a[16], ra[16], d[16], rd[16], es[16], ee[16], pa[16], ca[16], cr[16], rcs[16], rco[16], dt[16], cro[16], cd[16];
            double ab[16], cab[16], bd[16], hs[16], wr[16], r1[16], rd1[16];
            double a3[16], ab3[16], wr3[16], bd3[16], hs3[16], cb[16] = {0}, cb3[16] = {0};
            int chunked = bs > MAIF_STREAM_CHUNK_PLAIN; /* stored as cipher alg + 3 */
            for (int k = 0; k < reps; k++) {
                pa[k] = append_run(path, kr, 0, src, bs, n, 0, MAIF_HASH_SHA256); /* the same blocks, not encrypted */
                r1[k] = raw(alg, 0, 0, src, ct, pt, bs, n, 1);
                ra[k] = raw(alg, 0, 0, src, ct, pt, bs, n, NSRC);
                cr[k] = g_cpu_rate;
                if (chunked) {
                    ab[k] = append_run(path, kr, alg, src, bs, n, 1, MAIF_HASH_SHA256);
                    cab[k] = g_cpu_rate;
                    /* the bound: the raw seal's CPU time plus the plain writer's (hashing and
                     * writing the same bytes, borrowed: no copy), over the usable cores */
                    (void)append_run(path, kr, 0, src, bs, n, 1, MAIF_HASH_SHA256);
                    wr[k] = g_cpu_rate;
                    bd[k] = (double)cores / (1.0 / cr[k] + 1.0 / wr[k]);
                    size_t stored = bs + 16 * ((bs + MAIF_STREAM_CHUNK_PLAIN - 1) / MAIF_STREAM_CHUNK_PLAIN);
                    hs[k] = hash_run(ct, stored, bs, n, MAIF_HASH_SHA256);
                    /* the same with BLAKE3 content hashes (maif create --hash blake3) */
                    a3[k] = append_run(path, kr, alg, src, bs, n, 0, MAIF_HASH_BLAKE3);
                    ab3[k] = append_run(path, kr, alg, src, bs, n, 1, MAIF_HASH_BLAKE3);
                    (void)append_run(path, kr, 0, src, bs, n, 1, MAIF_HASH_BLAKE3);
                    wr3[k] = g_cpu_rate;
                    bd3[k] = (double)cores / (1.0 / cr[k] + 1.0 / wr3[k]);
                    hs3[k] = hash_run(ct, stored, bs, n, MAIF_HASH_BLAKE3);
                    if (cores == 2) {
                        cb[k] = contended_bound(argv[1], alg, MAIF_HASH_SHA256, src, bs, stored, 1.0);
                        cb3[k] = contended_bound(argv[1], alg, MAIF_HASH_BLAKE3, src, bs, stored, 1.0);
                    }
                }
                a[k] = append_run(path, kr, alg, src, bs, n, 0, MAIF_HASH_SHA256);
                ca[k] = g_cpu_rate;
                rd1[k] = raw(alg, 0, 1, src, ct, pt, bs, n, 1);
                rd[k] = raw(alg, 0, 1, src, ct, pt, bs, n, NSRC);
                cro[k] = g_cpu_rate;
                d[k] = read_run(path, kr, pt, bs, n, 0);
                cd[k] = g_cpu_rate;
                if (chunked) {
                    dt[k] = read_run(path, kr, pt, bs, n, 1);
                    rcs[k] = raw_chunked(alg, 0, src, ct, pt, bs, n);
                    rco[k] = raw_chunked(alg, 1, src, ct, pt, bs, n);
                }
                if (alg == MAIF_AEAD_AES256GCM) {
                    es[k] = raw(alg, 1, 0, src, ct, pt, bs, n, NSRC);
                    ee[k] = raw(alg, 2, 0, src, ct, pt, bs, n, NSRC);
                }
            }
            unlink(path);
            char l1[96], l2[96], b1[96], b2[96];
            const char *eng = alg == MAIF_AEAD_AES256GCM ? (bs >= MAIF_AEAD_AES_EVP_MIN ? "EVP" : "libsodium")
                                                         : "libsodium";
            snprintf(l1, sizeof l1, "encrypt+append %s %s%s", alg_name[alg], bs == 4096 ? "4 KiB" : "1 MiB",
                     chunked ? (alg == 1 ? " (cipher 4)" : alg == 2 ? " (cipher 5)" : " (cipher 6)") : "");
            snprintf(b1, sizeof b1, "raw seal (%s)", eng);
            snprintf(l2, sizeof l2, "read+decrypt %s %s%s", alg_name[alg], bs == 4096 ? "4 KiB" : "1 MiB",
                     chunked ? (alg == 1 ? " (cipher 4)" : alg == 2 ? " (cipher 5)" : " (cipher 6)") : "");
            snprintf(b2, sizeof b2, "raw open (%s)", eng);
            const char *target = bs == 4096 ? "" : ">= 0.85x";
            bu_report(l1, bu_median(a, (size_t)reps), "MB/s", b1, bu_median(ra, (size_t)reps), target);
            bu_report(l2, bu_median(d, (size_t)reps), "MB/s", b2, bu_median(rd, (size_t)reps), target);
            bu_report(l1, bu_median(a, (size_t)reps), "MB/s", "raw seal, one buffer in cache", bu_median(r1, (size_t)reps),
                      "");
            bu_report(l2, bu_median(d, (size_t)reps), "MB/s", "raw open, one buffer in cache",
                      bu_median(rd1, (size_t)reps), "");
            bu_report(l1, bu_median(a, (size_t)reps), "MB/s", "append, not encrypted", bu_median(pa, (size_t)reps),
                      "");
            if (chunked) {
                char lb[96], lbd[96];
                snprintf(lb, sizeof lb, "encrypt+append %s 1 MiB, borrowed", alg_name[alg]);
                snprintf(lbd, sizeof lbd, "%u-core bound %s 1 MiB", cores, alg_name[alg]);
                bu_report(lb, bu_median(ab, (size_t)reps), "MB/s", b1, bu_median(ra, (size_t)reps), target);
                bu_report(lbd, bu_median(bd, (size_t)reps), "MB/s", b1, bu_median(ra, (size_t)reps), "");
                bu_report(lb, bu_median(ab, (size_t)reps), "MB/s", lbd, bu_median(bd, (size_t)reps), "");
                bu_report(l1, bu_median(a, (size_t)reps), "MB/s", lbd, bu_median(bd, (size_t)reps), "");
                if (cores == 2) {
                    snprintf(lbd, sizeof lbd, "2-core bound %s 1 MiB, both busy", alg_name[alg]);
                    bu_report(lbd, bu_median(cb, (size_t)reps), "MB/s", b1, bu_median(ra, (size_t)reps), "");
                    bu_report(l1, bu_median(a, (size_t)reps), "MB/s", lbd, bu_median(cb, (size_t)reps), "");
                }
                bu_report("  part: plain append, borrowed, per CPU-s", bu_median(wr, (size_t)reps), "MB",
                          "raw seal, per CPU-s", bu_median(cr, (size_t)reps), "");
                bu_report("  of which SHA-256 of the stored bytes", bu_median(hs, (size_t)reps), "MB",
                          "raw seal, per CPU-s", bu_median(cr, (size_t)reps), "");
                snprintf(lb, sizeof lb, "encrypt+append %s 1 MiB, borrowed, per CPU-s", alg_name[alg]);
                bu_report(lb, bu_median(cab, (size_t)reps), "MB", "raw seal, per CPU-s", bu_median(cr, (size_t)reps),
                          "");
                bu_report(l1, bu_median(a, (size_t)reps), "MB/s", "raw seal, 64 KiB pieces", bu_median(rcs, (size_t)reps),
                          "");
                bu_report(l2, bu_median(d, (size_t)reps), "MB/s", "raw open, 64 KiB pieces", bu_median(rco, (size_t)reps),
                          "");
                /* BLAKE3 content hashes: the same rows, and the bound with the cheaper hash */
                char l3[96], lb3[96], lbd3[96];
                snprintf(l3, sizeof l3, "encrypt+append %s 1 MiB, BLAKE3 artifact", alg_name[alg]);
                snprintf(lb3, sizeof lb3, "encrypt+append %s 1 MiB, borrowed, BLAKE3", alg_name[alg]);
                snprintf(lbd3, sizeof lbd3, "%u-core bound %s 1 MiB, BLAKE3", cores, alg_name[alg]);
                bu_report(l3, bu_median(a3, (size_t)reps), "MB/s", b1, bu_median(ra, (size_t)reps), target);
                bu_report(lb3, bu_median(ab3, (size_t)reps), "MB/s", b1, bu_median(ra, (size_t)reps), target);
                bu_report(lbd3, bu_median(bd3, (size_t)reps), "MB/s", b1, bu_median(ra, (size_t)reps), "");
                bu_report(l3, bu_median(a3, (size_t)reps), "MB/s", lbd3, bu_median(bd3, (size_t)reps), "");
                if (cores == 2) {
                    snprintf(lbd3, sizeof lbd3, "2-core bound %s 1 MiB, BLAKE3, both busy", alg_name[alg]);
                    bu_report(lbd3, bu_median(cb3, (size_t)reps), "MB/s", b1, bu_median(ra, (size_t)reps), "");
                    bu_report(l3, bu_median(a3, (size_t)reps), "MB/s", lbd3, bu_median(cb3, (size_t)reps), "");
                }
                bu_report("  part: plain append, borrowed, BLAKE3, per CPU-s", bu_median(wr3, (size_t)reps), "MB",
                          "raw seal, per CPU-s", bu_median(cr, (size_t)reps), "");
                bu_report("  of which BLAKE3 of the stored bytes", bu_median(hs3, (size_t)reps), "MB",
                          "SHA-256 of the same", bu_median(hs, (size_t)reps), "");
                snprintf(b1, sizeof b1, "read+decrypt %s 1 MiB, decode_to", alg_name[alg]);
                bu_report(b1, bu_median(dt, (size_t)reps), "MB/s", "raw open, 64 KiB pieces",
                          bu_median(rco, (size_t)reps), "");
            }
            snprintf(l1, sizeof l1, "encrypt+append %s %s, per CPU-s", alg_name[alg], bs == 4096 ? "4 KiB" : "1 MiB");
            snprintf(b1, sizeof b1, "raw seal (%s), per CPU-s", eng);
            bu_report(l1, bu_median(ca, (size_t)reps), "MB", b1, bu_median(cr, (size_t)reps), "");
            snprintf(l2, sizeof l2, "read+decrypt %s %s, per CPU-s", alg_name[alg], bs == 4096 ? "4 KiB" : "1 MiB");
            snprintf(b2, sizeof b2, "raw open (%s), per CPU-s", eng);
            bu_report(l2, bu_median(cd, (size_t)reps), "MB", b2, bu_median(cro, (size_t)reps), "");
            if (alg == MAIF_AEAD_AES256GCM) {
                snprintf(l1, sizeof l1, "raw AES-GCM seal, EVP %s", bs == 4096 ? "4 KiB" : "1 MiB");
                bu_report(l1, bu_median(ee, (size_t)reps), "MB/s", "libsodium, same buffers",
                          bu_median(es, (size_t)reps), "");
            }
        }
        free(src), free(ct), free(pt);
    }

    /* the passphrase KDFs at their defaults */
    uint8_t out[32], salt[16] = {1};
    double ta[16], tp[16];
    for (int k = 0; k < reps; k++) {
        double t0 = bu_now();
        bu_check(maif_argon2id(out, 32, "passphrase", 10, salt, 3, 256ull << 20), "argon2id", "");
        ta[k] = (bu_now() - t0) * 1e3;
        t0 = bu_now();
        bu_check(maif_pbkdf2_sha256(out, 32, "passphrase", 10, salt, 16, 600000), "pbkdf2", "");
        tp[k] = (bu_now() - t0) * 1e3;
    }
    bu_report("Argon2id t=3 m=256 MiB (one unwrap)", bu_median(ta, (size_t)reps), "ms", "", -1, "");
    bu_report("PBKDF2-SHA256 600 000 rounds", bu_median(tp, (size_t)reps), "ms", "", -1, "");
    maif_keyring_free(kr);
    free(path);
    return 0;
}
