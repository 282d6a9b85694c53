/*
 * bench_pool.c — the writer's worker pool: compressed appends and
 * encrypted appends with the blocks encoded on 1 and 2 worker threads
 * (group commits fed by maif_writer_add_async), beside the single-threaded
 * path (maif_writer_add in a loop, one commit) and, for encryption, the
 * raw AEAD sealing the same buffers, all in the same run.
 *
 * usage: bench_pool DIR
 *
 * Compressed: BENCH_POOL_MIB MiB (default 128) of text-like 256 KiB blocks
 * (words drawn from a small vocabulary; zstd level 3 makes them ~3x
 * smaller). Encrypted: the same amount of 1 MiB incompressible blocks,
 * XChaCha20-Poly1305 (issue 8's target: >= 0.85x of the raw AEAD).
 * Timing covers every add and the final commit (or flush). Median of
 * BENCH_REPS runs (default 3).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "benchutil.h"
#include "crypto/aead.h"

static void fill_text(uint8_t *p, size_t n, uint64_t seed)
{
    static const char *words[] = {"agent", "memory", "block", "the", "of", "artifact", "signed", "chain",
                                  "commit", "and", "a", "to", "stream", "reader", "writer", "hash"};
    uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
    size_t i = 0;
    while (i < n) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        const char *w = words[x % 16];
        for (; *w && i < n; w++) p[i++] = (uint8_t)*w;
        if (i < n) p[i++] = (x >> 20) % 11 ? ' ' : '\n';
    }
}

typedef struct src {
    const uint8_t *data; /* nblk distinct blocks of bs bytes, reused round-robin */
    size_t bs, nblk, n;  /* n blocks to append */
} src;

static double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double g_cpu; /* CPU seconds (every thread) of the last append() */

/* mode 0: maif_writer_add loop + commit; mode 1: maif_writer_add_async + flush */
static double append(const char *path, const src *s, int codec, maif_keyring *kr, int mode, int workers)
{
    maif_options *o = NULL;
    bu_check(maif_options_create(&o), "options", "");
    bu_check(maif_options_set(o, MAIF_OPT_OVERWRITE, 1), "options", "");
    bu_check(maif_options_set(o, MAIF_OPT_CODEC, codec), "options", "");
    bu_check(maif_options_set(o, MAIF_OPT_WORKERS, workers), "options", "");
    maif_writer *w = NULL;
    bu_check(maif_writer_create(&w, path, bu_key(), "bench", o), "create", maif_last_errmsg());
    maif_options_free(o);
    if (kr) {
        bu_check(maif_writer_encrypt(w, kr, MAIF_CIPHER_XCHACHA20), "encrypt", maif_last_errmsg());
        bu_check(maif_writer_commit(w), "commit", maif_writer_errmsg(w));
    }
    double t0 = bu_now(), c0 = cpu_now();
    for (size_t i = 0; i < s->n; i++) {
        maif_block_spec sp = {.type = MAIF_TYPE_BINARY, .payload = s->data + (i % s->nblk) * s->bs,
                              .payload_size = s->bs};
        if (mode == 0) bu_check(maif_writer_add(w, &sp, NULL), "add", maif_writer_errmsg(w));
        else bu_check(maif_writer_add_async(w, &sp, NULL, NULL), "add_async", maif_last_errmsg());
    }
    if (mode == 0) bu_check(maif_writer_commit(w), "commit", maif_writer_errmsg(w));
    else bu_check(maif_writer_flush(w), "flush", maif_last_errmsg());
    double dt = bu_now() - t0;
    g_cpu = cpu_now() - c0;
    bu_check(maif_writer_close(w), "close", maif_last_errmsg());
    unlink(path);
    return (double)s->bs * (double)s->n / dt / 1e6;
}

static double raw_seal(const src *s, uint8_t *ct)
{
    uint8_t key[32], nonce[24] = {0}, ad[64] = {0};
    memset(key, 7, sizeof key);
    double t0 = bu_now();
    for (size_t i = 0; i < s->n; i++) {
        nonce[0] = (uint8_t)i;
        bu_check(maif_aead_seal(MAIF_AEAD_XCHACHA20, ct, s->data + (i % s->nblk) * s->bs, s->bs, ad, sizeof ad,
                                nonce, key),
                 "raw seal", "");
    }
    return (double)s->bs * (double)s->n / (bu_now() - t0) / 1e6;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: bench_pool DIR\n");
        return 2;
    }
    int reps = (int)bu_env_double("BENCH_REPS");
    if (reps <= 0 || reps > 16) reps = 3;
    double mib = bu_env_double("BENCH_POOL_MIB");
    if (mib <= 0) mib = 128;
    char *path = bu_path(argv[1], "pool.maif");
    unsigned cpus = 0;
    {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        cpus = n > 0 ? (unsigned)n : 1;
    }
    bu_note("pool: %u CPUs online", cpus);

    /* compressed appends */
    src t = {.bs = 256u << 10, .nblk = 16};
    t.n = (size_t)(mib * 1048576.0 / (double)t.bs);
    uint8_t *text = malloc(t.bs * t.nblk);
    for (size_t i = 0; i < t.nblk; i++) fill_text(text + i * t.bs, t.bs, i);
    t.data = text;
    double single[16], p1[16], p2[16], cs[16], c1[16], c2[16];
    double mb_t = (double)t.bs * (double)t.n / 1e6;
    for (int k = 0; k < reps; k++) {
        single[k] = append(path, &t, MAIF_CODEC_ZSTD, NULL, 0, 1);
        cs[k] = mb_t / g_cpu;
        p1[k] = append(path, &t, MAIF_CODEC_ZSTD, NULL, 1, 1);
        c1[k] = mb_t / g_cpu;
        p2[k] = append(path, &t, MAIF_CODEC_ZSTD, NULL, 1, 2);
        c2[k] = mb_t / g_cpu;
    }
    bu_note("zstd-3 appends per CPU-second (all threads): single %.0f MB, pool 1 %.0f MB, pool 2 %.0f MB",
            bu_median(cs, (size_t)reps), bu_median(c1, (size_t)reps), bu_median(c2, (size_t)reps));
    double s_med = bu_median(single, (size_t)reps);
    bu_report("zstd-3 append 256 KiB, async, pool 1", bu_median(p1, (size_t)reps), "MB/s", "single-threaded add",
              s_med, "");
    bu_report("zstd-3 append 256 KiB, async, pool 2", bu_median(p2, (size_t)reps), "MB/s", "single-threaded add",
              s_med, "");
    free(text);

    /* encrypted appends */
    maif_keyring *kr = NULL;
    bu_check(maif_keyring_create(&kr), "keyring", "");
    uint8_t pk[32];
    maif_key_public(bu_key(), pk);
    bu_check(maif_keyring_add_recipient(kr, pk), "recipient", "");
    src e = {.bs = 1u << 20, .nblk = 4};
    e.n = (size_t)(mib * 1048576.0 / (double)e.bs);
    uint8_t *rnd = malloc(e.bs * e.nblk), *ct = malloc(e.bs + 64);
    bu_fill(rnd, e.bs * e.nblk, 9);
    e.data = rnd;
    double raw[16], es[16], e1[16], e2[16], ces[16], ce1[16], ce2[16];
    double mb_e = (double)e.bs * (double)e.n / 1e6;
    for (int k = 0; k < reps; k++) {
        raw[k] = raw_seal(&e, ct);
        es[k] = append(path, &e, 0, kr, 0, 1);
        ces[k] = mb_e / g_cpu;
        e1[k] = append(path, &e, 0, kr, 1, 1);
        ce1[k] = mb_e / g_cpu;
        e2[k] = append(path, &e, 0, kr, 1, 2);
        ce2[k] = mb_e / g_cpu;
    }
    bu_note("encrypt+append per CPU-second (all threads): single %.0f MB, pool 1 %.0f MB, pool 2 %.0f MB",
            bu_median(ces, (size_t)reps), bu_median(ce1, (size_t)reps), bu_median(ce2, (size_t)reps));
    double r_med = bu_median(raw, (size_t)reps);
    bu_report("encrypt+append 1 MiB xchacha20, add", bu_median(es, (size_t)reps), "MB/s", "raw seal (libsodium)",
              r_med, ">= 0.85x");
    bu_report("encrypt+append 1 MiB, async, pool 1", bu_median(e1, (size_t)reps), "MB/s", "raw seal (libsodium)",
              r_med, ">= 0.85x");
    bu_report("encrypt+append 1 MiB, async, pool 2", bu_median(e2, (size_t)reps), "MB/s", "raw seal (libsodium)",
              r_med, ">= 0.85x");
    bu_report("encrypt+append 1 MiB, async, pool 2", bu_median(e2, (size_t)reps), "MB/s", "single-threaded add",
              bu_median(es, (size_t)reps), "");
    free(rnd);
    free(ct);
    maif_keyring_free(kr);
    free(path);
    return 0;
}
