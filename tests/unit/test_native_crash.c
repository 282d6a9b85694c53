/*
 * test_native_crash.c — crash safety: a child process appends and commits
 * batches in a loop and is SIGKILLed at a random moment, at least 200
 * times over artifacts that persist across kills. The child reports each
 * batch number through a pipe once maif_writer_commit has returned. After
 * every kill the artifact must open, verify (a torn-tail warning is the only
 * finding allowed besides "signer-not-pinned"), hold every reported batch,
 * and show no partial batch. Every new child reopens with maif_writer_open,
 * which cuts the torn tail; in even rounds the parent cuts it first with
 * maif_recover and checks the file is back to its committed end.
 *
 * Block metadata {"b":batch,"j":index in batch,"n":batch size,"s":size}
 * lets the parent check atomicity; payloads are a pattern seeded by
 * (batch, j), so their bytes can be recomputed. Sizes run from 1 byte to
 * 64 KiB: uniform in odd rounds, spread over powers of two in even ones
 * (the writer buffers up to 1 MiB, so only large batches are cut short in
 * their write). One round in ten uses MAIF_OPT_DURABLE, whose fsync between
 * the batch and its commit record is where most torn tails come from.
 *
 * Rounds cycle through four ways of appending: plain adds; adds with a
 * codec (zstd or lz4: the odd-numbered blocks repeat a 64-byte phrase and
 * are stored compressed, so payloads are checked through decode);
 * maif_writer_add_async with one block per batch, each reported by its
 * completion callback, so a callback's promise is checked like a commit's;
 * and encrypted adds (each child seals under a new data key with
 * XChaCha20, ChaCha20 or AES-256-GCM in turn, its key wrap committed with
 * its first batch; blocks over 64 KiB are stored in the STREAM forms 4, 5
 * and 6), checked by decrypting with the signing key as the identity.
 *
 * MAIF_CRASH_SEED and MAIF_CRASH_KILLS override the seed and the count;
 * MAIF_CRASH_WINDOW_US the longest wait before a kill (default 20 000 µs).
 */
#include "testutil.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SMALL_PAYLOAD (64u << 10)
#define MAX_PAYLOAD   (2u << 20)  /* one block in 16 is 1-2 MiB: written by a helper thread while hashed */
#define MAX_BATCH     20
#define RESET_BYTES   (32u << 20) /* start a new artifact past this size */

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Random bytes for even j; for odd j a 64-byte random phrase repeated,
 * which compresses (the codec rounds store those compressed). */
static void pattern(uint8_t *p, size_t n, uint64_t batch, uint64_t j)
{
    uint64_t s = batch * 1000003u + j;
    size_t period = j % 2 ? 64 : SIZE_MAX;
    for (size_t i = 0; i < n; i += 8) {
        if (i >= period) {
            memcpy(p + i, p + i - period, n - i < 8 ? n - i : 8);
            continue;
        }
        uint64_t z = rng_next(&s);
        memcpy(p + i, &z, n - i < 8 ? n - i : 8);
    }
}

static int parse_meta(const char *m, size_t n, unsigned long long *b, unsigned *j, unsigned *nb, size_t *sz)
{
    char buf[128];
    if (!m || n >= sizeof buf) return -1;
    memcpy(buf, m, n);
    buf[n] = 0;
    int used = 0;
    if (sscanf(buf, "{\"b\":%llu,\"j\":%u,\"n\":%u,\"s\":%zu}%n", b, j, nb, sz, &used) != 4 || (size_t)used != n)
        return -1;
    return 0;
}

/* ------------------------------------------------------------- the child */

/* How a child appends: plain adds and commits; the same with a codec
 * (zstd or lz4, so half the blocks are stored compressed); or one block
 * per batch through maif_writer_add_async, reported by its callback. */
enum { MODE_PLAIN, MODE_CODEC, MODE_ASYNC, MODE_CRYPT, MODES };

static int g_report_fd;

static void reported(void *ctx, int rc, const uint8_t *id)
{
    (void)id;
    if (rc != MAIF_OK) _exit(6);
    uint64_t v = (uint64_t)(uintptr_t)ctx;
    if (write(g_report_fd, &v, sizeof v) != (ssize_t)sizeof v) _exit(7);
}

/* Never returns. Exit codes (seen only if it is not killed first):
 * 3 open failed, 4 reader failed, 5 add failed, 6 commit failed. */
static void child(const char *path, const maif_key *key, int fd, unsigned flags, int uniform, uint64_t seed, int mode)
{
    maif_writer *w = NULL;
    maif_options *o = NULL;
    if (maif_options_create(&o) || maif_options_set(o, MAIF_OPT_DURABLE, flags ? 1 : 0) ||
        maif_options_set(o, MAIF_OPT_ASYNC_QUEUE, 8) ||
        (mode == MODE_CODEC && maif_options_set(o, MAIF_OPT_CODEC, seed % 2 ? MAIF_CODEC_ZSTD : MAIF_CODEC_LZ4)))
        _exit(3);
    if (maif_writer_open(&w, path, key, o) != MAIF_OK) _exit(3);
    maif_options_free(o);
    if (mode == MODE_CRYPT) { /* the keyring lives as long as the child */
        maif_keyring *kr = NULL;
        uint8_t pk[MAIF_PUBKEY_BYTES];
        int cipher = 1 + (int)(seed % 3);
        maif_key_public(key, pk);
        if (maif_keyring_create(&kr) || maif_keyring_add_recipient(kr, pk)) _exit(3);
        int rc = maif_writer_encrypt(w, kr, cipher);
        if (rc == MAIF_EUNSUPPORTED) rc = maif_writer_encrypt(w, kr, MAIF_CIPHER_CHACHA20); /* no AES-NI */
        if (rc) _exit(3);
    }
    g_report_fd = fd;
    /* continue the numbering after the last committed batch */
    unsigned long long batch = 1;
    maif_reader *r = NULL;
    if (maif_reader_open(&r, path) != MAIF_OK) _exit(4);
    uint64_t n = maif_reader_count(r);
    if (n) {
        maif_block b;
        unsigned j, nb;
        size_t sz;
        if (maif_reader_block(r, n - 1, &b) != MAIF_OK || parse_meta(b.meta, b.meta_size, &batch, &j, &nb, &sz))
            _exit(4);
        batch++;
    }
    maif_reader_close(r);
    /* one buffer per block of a batch: a borrowed payload must stay put
     * until the commit */
    static uint8_t bufs[MAX_BATCH][MAX_PAYLOAD];
    static char metas[MAX_BATCH][128];
    for (;; batch++) {
        unsigned nb = mode == MODE_ASYNC ? 1 : 1 + (unsigned)(rng_next(&seed) % MAX_BATCH);
        if (mode == MODE_ASYNC) {
            /* at most 8 queued (MAIF_OPT_ASYNC_QUEUE): a slot is reused only
             * long after its block completed */
            unsigned slot = (unsigned)(batch % MAX_BATCH);
            uint64_t range = uniform ? SMALL_PAYLOAD : 1ull << (1 + rng_next(&seed) % 16);
            size_t sz = 1 + (size_t)(rng_next(&seed) % range);
            pattern(bufs[slot], sz, batch, 0);
            int ml = snprintf(metas[slot], sizeof metas[slot], "{\"b\":%llu,\"j\":0,\"n\":1,\"s\":%zu}", batch, sz);
            maif_block_spec s = {.type = MAIF_TYPE_BINARY, .payload = bufs[slot], .payload_size = sz,
                                 .meta_json = metas[slot], .meta_size = (size_t)ml};
            if (maif_writer_add_async(w, &s, reported, (void *)(uintptr_t)batch) != MAIF_OK) _exit(5);
            continue;
        }
        for (unsigned j = 0; j < nb; j++) {
            uint8_t *buf = bufs[j];
            uint64_t range = uniform ? SMALL_PAYLOAD : 1ull << (1 + rng_next(&seed) % 16);
            size_t sz = 1 + (size_t)(rng_next(&seed) % range);
            if (rng_next(&seed) % 16 == 0) sz = (1u << 20) + (size_t)(rng_next(&seed) % (1u << 20));
            else if (mode == MODE_CRYPT && rng_next(&seed) % 4 == 0) /* a few 64 KiB chunks: STREAM forms 4-6 */
                sz = SMALL_PAYLOAD + 1 + (size_t)(rng_next(&seed) % (3 * SMALL_PAYLOAD));
            pattern(buf, sz, batch, j);
            char meta[128];
            int ml = snprintf(meta, sizeof meta, "{\"b\":%llu,\"j\":%u,\"n\":%u,\"s\":%zu}", batch, j, nb, sz);
            maif_block_spec s = {.type = MAIF_TYPE_BINARY, .payload = buf, .payload_size = sz, .meta_json = meta,
                                 .meta_size = (size_t)ml};
            int borrow = rng_next(&seed) % 2 == 0;
            if ((borrow ? maif_writer_add_borrowed : maif_writer_add)(w, &s, NULL) != MAIF_OK) _exit(5);
        }
        if (maif_writer_commit(w) != MAIF_OK) _exit(6);
        uint64_t v = batch;
        if (write(fd, &v, sizeof v) != (ssize_t)sizeof v) _exit(7);
    }
}

/* ------------------------------------------------------------ the parent */

typedef struct state {
    uint64_t blocks_checked; /* payloads of blocks below this were checked in an earlier round */
    uint64_t blocks_seen;    /* committed blocks at the previous check: never shrinks */
    uint64_t reported;       /* highest batch a child reported committed */
    int torn_seen;           /* checks that found a torn tail */
} state;

static int has_torn_warning(const maif_report *rep)
{
    for (size_t i = 0; i < maif_report_count(rep); i++)
        if (strcmp(maif_report_finding(rep, i)->code, "torn-tail") == 0) return 1;
    return 0;
}

static uint64_t g_compressed_seen; /* blocks found stored compressed */
static uint64_t g_sealed_seen[7];  /* blocks found sealed, by cipher */
static maif_keyring *g_identity;   /* opens what MODE_CRYPT children sealed */

/* Returns the torn bytes after the last commit. */
static uint64_t check_artifact(const char *path, state *st, int round)
{
    maif_reader *r = NULL;
    if (maif_reader_open(&r, path) != MAIF_OK) fail_msg("round %d: reader: %s", round, maif_last_errmsg());
    assert_int_equal(maif_reader_set_keyring(r, g_identity), MAIF_OK);
    uint64_t n = maif_reader_count(r);
    if (n < st->blocks_seen) fail_msg("round %d: %llu blocks, fewer than the %llu seen before", round,
                                      (unsigned long long)n, (unsigned long long)st->blocks_seen);
    static uint8_t want[MAX_PAYLOAD];
    unsigned long long prev_b = 0;
    unsigned prev_j = 0, prev_n = 0;
    int first = 1;
    for (uint64_t i = 0; i < n; i++) {
        maif_block b;
        if (maif_reader_block(r, i, &b) != MAIF_OK) fail_msg("round %d: block %llu: %s", round,
                                                             (unsigned long long)i, maif_reader_errmsg(r));
        if (b.type == MAIF_TYPE_KEYWRAP) continue; /* an encrypting child's key wrap, outside the numbering */
        unsigned long long bt;
        unsigned j, nb;
        size_t sz;
        if (parse_meta(b.meta, b.meta_size, &bt, &j, &nb, &sz))
            fail_msg("round %d: block %llu: unexpected metadata", round, (unsigned long long)i);
        int starts = first || (bt == prev_b + 1 && prev_j + 1 == prev_n && j == 0);
        int continues = !first && bt == prev_b && j == prev_j + 1 && nb == prev_n;
        if (!(first ? bt == 1 && j == 0 : starts || continues))
            fail_msg("round %d: block %llu (batch %llu, %u/%u) breaks the sequence after batch %llu, %u/%u", round,
                     (unsigned long long)i, bt, j, nb, prev_b, prev_j, prev_n);
        first = 0;
        if ((!b.codec && !b.cipher && sz != b.payload_size) || sz < 1 || sz > MAX_PAYLOAD || nb < 1 || nb > MAX_BATCH)
            fail_msg("round %d: block %llu: size %zu / %zu", round, (unsigned long long)i, b.payload_size, sz);
        if (i >= st->blocks_checked) {
            static uint8_t got[MAX_PAYLOAD];
            size_t gn = 0;
            if (maif_reader_block_decode(r, i, got, sizeof got, &gn) != MAIF_OK || gn != sz)
                fail_msg("round %d: block %llu: decode: %s", round, (unsigned long long)i, maif_reader_errmsg(r));
            pattern(want, sz, bt, j);
            if (memcmp(want, got, sz) != 0)
                fail_msg("round %d: block %llu (batch %llu, %u): payload differs", round, (unsigned long long)i, bt, j);
        }
        if (b.codec) g_compressed_seen++;
        if (b.cipher && b.cipher < 7) g_sealed_seen[b.cipher]++;
        prev_b = bt;
        prev_j = j;
        prev_n = nb;
    }
    if (n && prev_j + 1 != prev_n)
        fail_msg("round %d: the last batch %llu is partial (%u of %u blocks)", round, prev_b, prev_j + 1, prev_n);
    if (prev_b < st->reported)
        fail_msg("round %d: batch %llu was reported committed, the artifact ends at batch %llu", round,
                 (unsigned long long)st->reported, prev_b);
    maif_info info;
    assert_int_equal(maif_reader_info(r, &info), MAIF_OK);
    if (info.torn_bytes) st->torn_seen++;
    maif_reader_close(r);
    st->blocks_checked = st->blocks_seen = n;

    maif_report *rep = NULL;
    assert_int_equal(maif_verify_file(path, NULL, &rep), MAIF_OK);
    for (size_t i = 0; i < maif_report_count(rep); i++) {
        const maif_finding *f = maif_report_finding(rep, i);
        if (strcmp(f->code, "signer-not-pinned") == 0 || strcmp(f->code, "torn-tail") == 0) continue;
        fail_msg("round %d: verify: [%d] %s: %s", round, f->severity, f->code, f->message);
    }
    assert_true(maif_report_ok(rep));
    assert_int_equal(maif_report_blocks(rep), n);
    assert_int_equal(has_torn_warning(rep), info.torn_bytes != 0);
    maif_report_free(rep);
    return info.torn_bytes;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void test_crash_loop(void **unused)
{
    (void)unused;
    const char *e = getenv("MAIF_CRASH_SEED");
    uint64_t seed = e && *e ? strtoull(e, NULL, 0) : (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    e = getenv("MAIF_CRASH_KILLS");
    int kills = e && *e ? atoi(e) : 200;
    e = getenv("MAIF_CRASH_WINDOW_US"); /* kills land within this of the fork; raise it for slow builds */
    long window = e && atol(e) > 0 ? atol(e) : 20000;
    print_message("crash test: seed 0x%llx (MAIF_CRASH_SEED), %d kills\n", (unsigned long long)seed, kills);
    uint64_t rng = seed;

    char *dir = tu_tmpdir(), *path = tu_path(dir, "crash.maif");
    maif_key *key = NULL;
    assert_int_equal(maif_key_generate(&key), MAIF_OK);
    assert_int_equal(maif_keyring_create(&g_identity), MAIF_OK);
    assert_int_equal(maif_keyring_add_identity(g_identity, key), MAIF_OK);
    state st = {0};
    int artifacts = 0, committed_rounds = 0, torn_rounds = 0, torn_seen = 0;
    uint64_t total_batches = 0;
    double t_child = 0, t_check = 0, t0;
    /* On a loaded machine children may die before they commit anything: the
     * window then widens (up to 1 s), and rounds go on (up to 4x) until a
     * quarter of them committed, so the loop always exercises commits. */
    int round = 0;
    for (; round < kills || (committed_rounds <= kills / 4 && round < 4 * kills); round++) {
        if (round >= 20 && committed_rounds * 4 < round && window < 1000000) window = window * 3 / 2;
        if (round == 0 || tu_file_size(path) > RESET_BYTES) {
            maif_writer *w = NULL;
            assert_int_equal(maif_writer_create(&w, path, key, "crash-test", tu_flag(MAIF_OPT_OVERWRITE)), MAIF_OK);
            assert_int_equal(maif_writer_close(w), MAIF_OK);
            total_batches += st.reported;
            torn_seen += st.torn_seen;
            st = (state){0};
            artifacts++;
        }
        int p[2];
        assert_int_equal(pipe(p), 0);
        unsigned flags = round % 10 == 5; /* 1: MAIF_OPT_DURABLE */
        uint64_t child_seed = rng_next(&rng);
        fflush(NULL);
        t0 = now_s();
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(p[0]);
            child(path, key, p[1], flags, round % 2, child_seed, round % MODES);
            _exit(9);
        }
        close(p[1]);
        long us = (long)(rng_next(&rng) % (uint64_t)(window + 1));
        struct timespec ts = {us / 1000000, us % 1000000 * 1000};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
        }
        assert_int_equal(kill(pid, SIGKILL), 0);
        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        if (!(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL))
            fail_msg("round %d: the child failed on its own (status 0x%x)", round, status);
        uint64_t v, before = st.reported;
        ssize_t k;
        while ((k = read(p[0], &v, sizeof v)) == (ssize_t)sizeof v) {
            if (v <= st.reported) fail_msg("round %d: batch numbers went backwards (%llu after %llu)", round,
                                           (unsigned long long)v, (unsigned long long)st.reported);
            st.reported = v;
        }
        assert_int_equal(k, 0);
        close(p[0]);
        if (st.reported > before) committed_rounds++;
        t_child += now_s() - t0;
        t0 = now_s();
        uint64_t torn = check_artifact(path, &st, round);
        t_check += now_s() - t0;

        /* half the torn tails are cut here, the rest by the next child's open */
        if ((torn && round % 2 == 0) || round % 10 == 9) {
            maif_reader *r = NULL;
            maif_info info;
            assert_int_equal(maif_reader_open(&r, path), MAIF_OK);
            assert_int_equal(maif_reader_info(r, &info), MAIF_OK);
            maif_reader_close(r);
            uint64_t cut = 0;
            if (maif_recover(path, NULL, &cut) != MAIF_OK) fail_msg("round %d: recover: %s", round, maif_last_errmsg());
            assert_int_equal(cut, info.torn_bytes);
            assert_int_equal(tu_file_size(path), info.file_size);
            if (cut) torn_rounds++;
            maif_report *rep = NULL;
            assert_int_equal(maif_verify_file(path, NULL, &rep), MAIF_OK);
            assert_true(maif_report_ok(rep));
            for (size_t i = 0; i < maif_report_count(rep); i++)
                assert_string_equal(maif_report_finding(rep, i)->code, "signer-not-pinned");
            maif_report_free(rep);
        }
    }
    total_batches += st.reported;
    torn_seen += st.torn_seen;
    print_message("crash test: %d kills over %d artifacts (window %ld us at the end), %llu batches reported, %d rounds "
                  "committed something, %d checks found a torn tail, %d recoveries cut one; %.1f s in children, %.1f s checking\n",
                  round, artifacts, window, (unsigned long long)total_batches, committed_rounds, torn_seen, torn_rounds, t_child, t_check);
    /* the loop must have exercised something: most children get to commit */
    assert_true(committed_rounds > kills / 4);
    if (kills >= 200) assert_true(torn_seen > 0);
    if (kills >= 30) assert_true(g_compressed_seen > 0); /* the codec rounds did store compressed blocks */
    print_message("crash test: sealed blocks checked by cipher 1-6: %llu %llu %llu %llu %llu %llu\n",
                  (unsigned long long)g_sealed_seen[1], (unsigned long long)g_sealed_seen[2],
                  (unsigned long long)g_sealed_seen[3], (unsigned long long)g_sealed_seen[4],
                  (unsigned long long)g_sealed_seen[5], (unsigned long long)g_sealed_seen[6]);
    uint64_t sealed = 0;
    for (int c = 1; c <= 6; c++) sealed += g_sealed_seen[c];
    if (kills >= 30) assert_true(sealed > 0); /* the encrypting rounds did seal */
    if (kills >= 200) assert_true(g_sealed_seen[4] + g_sealed_seen[5] + g_sealed_seen[6] > 0); /* in chunks too */
    maif_keyring_free(g_identity);
    g_identity = NULL;
    maif_key_free(key);
    tu_rmtree(dir);
    free(dir);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crash_loop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
