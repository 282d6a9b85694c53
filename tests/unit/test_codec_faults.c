/*
 * test_codec_faults.c — compressed and dictionary-compressed appends
 * under failure:
 *
 *   - a crash loop: a child appends batches whose blocks are stored as
 *     is, with zstd, lz4 or a dictionary stored in the artifact (codec 3;
 *     some batches add a new dictionary first), and is SIGKILLed at a
 *     random moment, 60 times (MAIF_CRASH_KILLS) over one artifact; after
 *     every kill the artifact opens, verifies, decodes every block to the
 *     bytes the child wrote, holds every batch the child reported
 *     committed, and no partial batch;
 *   - an I/O fault sweep: a workload that finds the committed dictionary
 *     (maif_writer_use_dict), adds zstd, lz4 and dictionary blocks, a new
 *     dictionary and blocks that use it, and a streamed compressed payload,
 *     after a rolled-back batch that also added a dictionary; its Nth
 *     write, sync, map, truncate or read fails, for every N: each call
 *     returns a clean code, the file is back at its committed size or
 *     holds the batch whole, verifies, every block decodes, and it reopens
 *     for writing.
 */
#include "testutil.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "io/io.h"

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Compressible bytes seeded by (a, b): words from a small vocabulary. */
static void texty(uint8_t *p, size_t n, uint64_t a, uint64_t b)
{
    static const char *w[] = {"agent ", "memory ", "block ", "the ", "chain ", "signed ", "{\"k\":", "1}\n", "of "};
    uint64_t s = a * 1000003u + b;
    for (size_t i = 0; i < n;) {
        const char *x = w[rng_next(&s) % 9];
        for (size_t k = 0; x[k] && i < n; k++) p[i++] = (uint8_t)x[k];
    }
}

static uint8_t *g_dict;
static size_t g_dict_len;

static void make_dict(void)
{
    if (g_dict) return;
    enum { NS = 400, SZ = 300 };
    static uint8_t samples[NS * SZ];
    static size_t sizes[NS];
    for (int i = 0; i < NS; i++) {
        texty(samples + i * SZ, SZ, 7, (uint64_t)i);
        sizes[i] = SZ;
    }
    g_dict = malloc(8192);
    assert_non_null(g_dict);
    assert_int_equal(maif_dict_train(g_dict, 8192, samples, sizes, NS, &g_dict_len), MAIF_OK);
}

/* Every block of path decodes; blocks with metadata {"b":B,"j":J,"s":S}
 * hold texty(S bytes, B, J). Returns the number of blocks. */
static uint64_t check_decodes(const char *path, const char *what)
{
    maif_reader *r = NULL;
    if (maif_reader_open(&r, path) != MAIF_OK) fail_msg("%s: open: %s", what, maif_last_errmsg());
    uint64_t n = maif_reader_count(r);
    size_t cap = 4u << 20;
    uint8_t *buf = malloc(cap), *want = malloc(cap);
    assert_non_null(buf);
    assert_non_null(want);
    for (uint64_t i = 0; i < n; i++) {
        maif_block b;
        size_t got = 0;
        if (maif_reader_block(r, i, &b) != MAIF_OK || maif_reader_block_decode(r, i, buf, cap, &got) != MAIF_OK)
            fail_msg("%s: block %llu: %s", what, (unsigned long long)i, maif_reader_errmsg(r));
        unsigned long long bt;
        unsigned j;
        size_t sz;
        char m[128];
        if (!b.meta || b.meta_size >= sizeof m) continue;
        memcpy(m, b.meta, b.meta_size);
        m[b.meta_size] = 0;
        if (sscanf(m, "{\"b\":%llu,\"j\":%u,\"s\":%zu}", &bt, &j, &sz) != 3) continue;
        texty(want, sz, bt, j);
        if (got != sz || memcmp(buf, want, sz) != 0)
            fail_msg("%s: block %llu (batch %llu, %u, codec %u) does not decode to what was written", what,
                     (unsigned long long)i, bt, j, b.codec);
    }
    free(buf);
    free(want);
    maif_reader_close(r);
    return n;
}

/* ------------------------------------------------------------ crash loop */

#define MAX_BATCH 12

static void child(const char *path, const maif_key *key, int fd, int durable, uint64_t seed, uint64_t batch)
{
    maif_writer *w = NULL;
    if (maif_writer_open(&w, path, key, durable ? tu_flag(MAIF_OPT_DURABLE) : NULL) != MAIF_OK) _exit(3);
    if (maif_writer_use_dict(w, NULL, 0) != MAIF_OK) _exit(4);
    static uint8_t buf[MAX_BATCH][2u << 20];
    for (;; batch++) {
        int mode = (int)(rng_next(&seed) % 5);
        if (mode == 4 && maif_writer_add_dict(w, g_dict, g_dict_len, 0, NULL) != MAIF_OK) _exit(5);
        static const int codec[] = {MAIF_CODEC_NONE, MAIF_CODEC_ZSTD, MAIF_CODEC_LZ4, MAIF_CODEC_ZSTD_DICT,
                                    MAIF_CODEC_ZSTD_DICT};
        if (maif_writer_set_codec(w, codec[mode], 0) != MAIF_OK) _exit(6);
        unsigned nb = 1 + (unsigned)(rng_next(&seed) % MAX_BATCH);
        for (unsigned j = 0; j < nb; j++) {
            size_t sz = 1 + (size_t)(rng_next(&seed) % (16u << 10));
            if (rng_next(&seed) % 16 == 0) sz = (1u << 20) + (size_t)(rng_next(&seed) % (1u << 20));
            texty(buf[j], sz, batch, j);
            char meta[96];
            int ml = snprintf(meta, sizeof meta, "{\"b\":%llu,\"j\":%u,\"s\":%zu}", (unsigned long long)batch, j, sz);
            maif_block_spec s = {.type = MAIF_TYPE_TEXT, .payload = buf[j], .payload_size = sz, .meta_json = meta,
                                 .meta_size = (size_t)ml};
            if ((j % 2 ? maif_writer_add_borrowed : maif_writer_add)(w, &s, NULL) != MAIF_OK) _exit(7);
        }
        if (maif_writer_commit(w) != MAIF_OK) _exit(8);
        uint64_t v = batch;
        if (write(fd, &v, sizeof v) != (ssize_t)sizeof v) _exit(9);
    }
}

/* The last batch number in path (0 if none), and that no batch is partial
 * or missing: batches 1..last, each whole. */
static uint64_t check_batches(const char *path, int round)
{
    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open(&r, path), MAIF_OK);
    uint64_t n = maif_reader_count(r), last = 0;
    unsigned next_j = 0;
    for (uint64_t i = 0; i < n; i++) {
        maif_block b;
        assert_int_equal(maif_reader_block(r, i, &b), MAIF_OK);
        if (b.type == MAIF_TYPE_ZDICT) continue;
        unsigned long long bt;
        unsigned j;
        size_t sz;
        char m[128];
        assert_true(b.meta && b.meta_size < sizeof m);
        memcpy(m, b.meta, b.meta_size);
        m[b.meta_size] = 0;
        assert_int_equal(sscanf(m, "{\"b\":%llu,\"j\":%u,\"s\":%zu}", &bt, &j, &sz), 3);
        if (j == 0) {
            if (bt != last + 1) fail_msg("round %d: batch %llu after batch %llu", round, bt, (unsigned long long)last);
            last = bt;
        } else if (bt != last || j != next_j) {
            fail_msg("round %d: block %llu: batch %llu block %u out of sequence", round, (unsigned long long)i, bt, j);
        }
        next_j = j + 1;
    }
    maif_reader_close(r);
    return last;
}

static void test_crash_loop_compressed(void **state)
{
    tu_fixture *f = *state;
    make_dict();
    const char *e = getenv("MAIF_CRASH_SEED");
    uint64_t rng = e && *e ? strtoull(e, NULL, 0) : (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    e = getenv("MAIF_CRASH_KILLS");
    int kills = e && *e ? atoi(e) : 60;
    e = getenv("MAIF_CRASH_WINDOW_US");
    long window = e && atol(e) > 0 ? atol(e) : 30000;
    print_message("compressed crash test: seed 0x%llx (MAIF_CRASH_SEED), %d kills\n", (unsigned long long)rng, kills);
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->key, NULL, NULL), MAIF_OK);
    assert_int_equal(maif_writer_add_dict(w, g_dict, g_dict_len, 0, NULL), MAIF_OK);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    uint64_t reported = 0;
    int committed = 0;
    for (int round = 0; round < kills; round++) {
        int p[2];
        assert_int_equal(pipe(p), 0);
        uint64_t cseed = rng_next(&rng), start = check_batches(f->path, round) + 1;
        fflush(NULL);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(p[0]);
            child(f->path, f->key, p[1], round % 7 == 3, cseed, start);
            _exit(10);
        }
        close(p[1]);
        long us = (long)(rng_next(&rng) % (uint64_t)(window + 1));
        struct timespec ts = {us / 1000000, us % 1000000 * 1000};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
        }
        assert_int_equal(kill(pid, SIGKILL), 0);
        int st = 0;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
        }
        if (!(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL)) fail_msg("round %d: child status 0x%x", round, st);
        uint64_t v, before = reported;
        while (read(p[0], &v, sizeof v) == (ssize_t)sizeof v) reported = v;
        close(p[0]);
        if (reported > before) committed++;
        uint64_t last = check_batches(f->path, round);
        if (last < reported) fail_msg("round %d: batch %llu was reported, the file ends at %llu", round,
                                      (unsigned long long)reported, (unsigned long long)last);
        char what[32];
        snprintf(what, sizeof what, "round %d", round);
        check_decodes(f->path, what);
        maif_report *rep = NULL;
        assert_int_equal(maif_verify_file(f->path, NULL, &rep), MAIF_OK);
        if (!maif_report_ok(rep)) fail_msg("round %d: does not verify", round);
        maif_report_free(rep);
        if (tu_file_size(f->path) > (48u << 20)) { /* start over, keeping a dictionary */
            assert_int_equal(maif_writer_create(&w, f->path, f->key, NULL, tu_flag(MAIF_OPT_OVERWRITE)), MAIF_OK);
            assert_int_equal(maif_writer_add_dict(w, g_dict, g_dict_len, 0, NULL), MAIF_OK);
            assert_int_equal(maif_writer_commit(w), MAIF_OK);
            assert_int_equal(maif_writer_close(w), MAIF_OK);
            reported = 0;
        }
    }
    print_message("compressed crash test: %d kills, %d rounds committed something\n", kills, committed);
    assert_true(committed > kills / 4);
}

/* ------------------------------------------------------------ fault sweep */

typedef struct sweep {
    tu_fixture *f;
    uint8_t *base;
    size_t base_len;
    uint64_t base_blocks;
    maif_io_fault *fi;
} sweep;

static int64_t mem_read(void *ctx, void *buf, size_t cap)
{
    size_t *left = ctx;
    size_t k = cap < *left ? cap : *left;
    texty(buf, k, 99, (uint64_t)*left); /* any bytes; this block is checked by decoding only */
    *left -= k;
    return (int64_t)k;
}

#define NEW_BLOCKS 9 /* the workload's committed batch: 7 data blocks, a dictionary, a streamed block */

static void add_text(maif_writer *w, uint64_t b, unsigned j, size_t sz, int *rc)
{
    if (*rc) return;
    static uint8_t buf[8][600u << 10];
    texty(buf[j % 8], sz, b, j);
    char meta[96];
    int ml = snprintf(meta, sizeof meta, "{\"b\":%llu,\"j\":%u,\"s\":%zu}", (unsigned long long)b, j, sz);
    maif_block_spec s = {.type = MAIF_TYPE_TEXT, .payload = buf[j % 8], .payload_size = sz, .meta_json = meta,
                         .meta_size = (size_t)ml};
    *rc = (j % 2 ? maif_writer_add_borrowed : maif_writer_add)(w, &s, NULL);
}

static int workload(sweep *s, int durable)
{
    maif_writer *w = NULL;
    int rc = maif_writer_open(&w, s->f->path, s->f->key, durable ? tu_flag(MAIF_OPT_DURABLE) : NULL);
    if (rc) {
        assert_true(rc == MAIF_EIO || rc == MAIF_ENOMEM);
        return 0;
    }
    rc = maif_writer_use_dict(w, NULL, 0); /* maps the committed file */
    assert_true(rc == MAIF_OK || rc == MAIF_EIO);
    /* rolled back: a dictionary and a block using it */
    if (!rc) rc = maif_writer_add_dict(w, g_dict, g_dict_len, 0, NULL);
    add_text(w, 50, 0, 200000, &rc);
    int rb = maif_writer_rollback(w);
    assert_true(rb == MAIF_OK || rb == MAIF_ESTATE);
    if (!rc) rc = rb;
    if (!rc) rc = maif_writer_use_dict(w, NULL, 0);
    if (!rc) rc = maif_writer_set_codec(w, MAIF_CODEC_ZSTD_DICT, 0);
    add_text(w, 60, 0, 300, &rc);
    add_text(w, 60, 1, 400000, &rc);
    if (!rc) rc = maif_writer_set_codec(w, MAIF_CODEC_ZSTD, 0);
    add_text(w, 60, 2, 5000, &rc);
    if (!rc) rc = maif_writer_set_codec(w, MAIF_CODEC_LZ4, 0);
    add_text(w, 60, 3, 300000, &rc);
    if (!rc) rc = maif_writer_add_dict(w, g_dict, g_dict_len, 0, NULL);
    add_text(w, 60, 4, 700, &rc);
    add_text(w, 60, 5, 500000, &rc);
    size_t left = 600000;
    maif_block_spec st = {.type = MAIF_TYPE_BINARY};
    if (!rc) rc = maif_writer_add_stream(w, &st, mem_read, &left, 0, NULL); /* compressed: buffered */
    add_text(w, 60, 6, 64, &rc);
    if (!rc) rc = maif_writer_commit(w);
    if (rc) {
        assert_true(rc == MAIF_EIO || rc == MAIF_ESTATE);
        assert_int_equal(maif_writer_commit(w), MAIF_ESTATE);
    }
    int crc = maif_writer_close(w);
    assert_true(crc == MAIF_OK || crc == MAIF_EIO);
    return rc == MAIF_OK;
}

static void sweep_check(sweep *s, int committed, const char *what, uint64_t nth)
{
    if (!committed && tu_file_size(s->f->path) != s->base_len)
        fail_msg("%s #%llu: failed batch left %llu bytes", what, (unsigned long long)nth,
                 (unsigned long long)(tu_file_size(s->f->path) - s->base_len));
    uint64_t n = check_decodes(s->f->path, what);
    if (n != s->base_blocks + (committed ? NEW_BLOCKS : 0))
        fail_msg("%s #%llu: %llu blocks", what, (unsigned long long)nth, (unsigned long long)n);
    maif_report *rep = NULL;
    assert_int_equal(maif_verify_file(s->f->path, NULL, &rep), MAIF_OK);
    if (!maif_report_ok(rep)) fail_msg("%s #%llu: verification failed", what, (unsigned long long)nth);
    maif_report_free(rep);
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_open(&w, s->f->path, s->f->key, NULL), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
}

static uint64_t sweep_kind(sweep *s, int op, int err, int durable, const char *what)
{
    assert_int_equal(tu_write(s->f->path, s->base, s->base_len), 0);
    maif_io_set_default(maif_io_fault_io(s->fi));
    maif_io_fault_arm(s->fi, op, 0, 0, 0);
    int ok = workload(s, durable);
    uint64_t calls = maif_io_fault_count(s->fi, op);
    maif_io_set_default(NULL);
    assert_true(ok);
    sweep_check(s, 1, what, 0);
    uint64_t present = 0;
    for (uint64_t n = 1; n <= calls; n++) {
        assert_int_equal(tu_write(s->f->path, s->base, s->base_len), 0);
        maif_io_set_default(maif_io_fault_io(s->fi));
        maif_io_fault_arm(s->fi, op, n, err, 0);
        ok = workload(s, durable);
        int fired = maif_io_fault_fired(s->fi);
        maif_io_set_default(NULL);
        assert_true(fired);
        present += (uint64_t)ok;
        sweep_check(s, ok, what, n);
    }
    print_message("%s: %llu calls failed one at a time, %llu left the batch committed\n", what,
                  (unsigned long long)calls, (unsigned long long)present);
    return calls;
}

static void test_fault_sweep_compressed(void **state)
{
    tu_fixture *f = *state;
    make_dict();
    sweep s = {.f = f};
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->key, NULL, NULL), MAIF_OK);
    int rc = maif_writer_add_dict(w, g_dict, g_dict_len, 0, NULL);
    assert_int_equal(rc, MAIF_OK);
    add_text(w, 1, 0, 1000, &rc);
    assert_int_equal(rc, MAIF_OK);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    s.base = tu_read(f->path, &s.base_len);
    s.base_blocks = 2;
    assert_int_equal(maif_io_fault_new(&s.fi, NULL), MAIF_OK);
    assert_true(sweep_kind(&s, MAIF_IO_OP_WRITE, ENOSPC, 0, "compressed: write (ENOSPC)") >= 2);
    assert_true(sweep_kind(&s, MAIF_IO_OP_WRITE, EIO, 1, "compressed: write (EIO, durable)") >= 2);
    assert_true(sweep_kind(&s, MAIF_IO_OP_SYNC, EIO, 1, "compressed: sync") >= 2);
    assert_true(sweep_kind(&s, MAIF_IO_OP_MAP, EIO, 0, "compressed: map") >= 2);
    sweep_kind(&s, MAIF_IO_OP_TRUNCATE, EIO, 0, "compressed: truncate");
    sweep_kind(&s, MAIF_IO_OP_READ, EIO, 0, "compressed: read");
    maif_io_fault_free(s.fi);
    free(s.base);
}

/* ---------------------------------------------------- allocation sweep */

static long g_fail_at, g_allocs; /* fail the g_fail_at-th allocation (0: none) */
static void *fail_malloc(void *u, size_t n)
{
    (void)u;
    return ++g_allocs == g_fail_at ? NULL : malloc(n ? n : 1);
}
static void *fail_realloc(void *u, void *p, size_t n)
{
    (void)u;
    return ++g_allocs == g_fail_at ? NULL : realloc(p, n ? n : 1);
}
static void fail_free(void *u, void *p)
{
    (void)u;
    free(p);
}
static const maif_allocator failing = {fail_malloc, fail_realloc, fail_free, NULL};

/* Dictionary appends and reads with the Nth allocation failing, for every
 * N: MAIF_ENOMEM or success, never a crash, a leak or a damaged file. */
static void test_alloc_sweep_dict(void **state)
{
    tu_fixture *f = *state;
    make_dict();
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->key, NULL, NULL), MAIF_OK);
    assert_int_equal(maif_writer_add_dict(w, g_dict, g_dict_len, 0, NULL), MAIF_OK);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    size_t base_len;
    uint8_t *base = tu_read(f->path, &base_len);
    int done = 0, oks = 0;
    for (long n = 1; !done && n < 5000; n++) {
        assert_int_equal(tu_write(f->path, base, base_len), 0);
        g_fail_at = n;
        g_allocs = 0;
        assert_int_equal(maif_allocator_set(&failing), MAIF_OK);
        int rc = maif_writer_open(&w, f->path, f->key, NULL);
        if (!rc) rc = maif_writer_use_dict(w, NULL, 0);
        add_text(w, 70, 0, 3000, &rc);
        if (!rc) rc = maif_writer_add_dict(w, g_dict, g_dict_len, 0, NULL);
        add_text(w, 70, 1, 2000, &rc);
        if (!rc) rc = maif_writer_commit(w);
        int crc = maif_writer_close(w);
        w = NULL;
        maif_reader *r = NULL;
        int rr = maif_reader_open(&r, f->path);
        static uint8_t buf[16384];
        size_t got;
        for (uint64_t i = 0; !rr && i < maif_reader_count(r); i++) {
            int d = maif_reader_block_decode(r, i, buf, sizeof buf, &got);
            if (d != MAIF_OK && d != MAIF_ENOMEM) fail_msg("#%ld block %llu: %d %s", n, (unsigned long long)i, d, maif_reader_errmsg(r));
        }
        maif_reader_close(r);
        assert_int_equal(maif_allocator_set(NULL), MAIF_OK);
        if (rc) assert_int_equal(rc, MAIF_ENOMEM);
        assert_true(crc == MAIF_OK || crc == MAIF_ENOMEM);
        assert_true(rr == MAIF_OK || rr == MAIF_ENOMEM);
        uint64_t nb = check_decodes(f->path, "alloc sweep");
        assert_true(nb == 1 || nb == 4);
        if (g_allocs < n) done = 1; /* nothing failed: every allocation was swept */
        oks += rc == MAIF_OK;
    }
    assert_true(done);
    assert_true(oks >= 1);
    free(base);
}

static int teardown(void **state)
{
    maif_io_set_default(NULL);
    return tu_teardown(state);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fault_sweep_compressed, tu_setup, teardown),
        cmocka_unit_test_setup_teardown(test_alloc_sweep_dict, tu_setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_loop_compressed, tu_setup, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    free(g_dict);
    return rc;
}
