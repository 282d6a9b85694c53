/*
 * test_cache.c — the reader's cache of decoded payloads
 * (maif_reader_set_cache, maif_reader_cache_stats): decodes through it are
 * byte-exact, repeats are hits, the budget holds, a one-pass scan does not
 * evict the blocks read repeatedly (S3-FIFO), plain blocks are not kept,
 * and many threads may decode through one cache at once.
 */
#include "testutil.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NBLK 200
#define BS   4096

static void fill(uint8_t *p, uint64_t i)
{
    for (size_t k = 0; k < BS; k++) p[k] = (uint8_t)("mnopqrst"[(k / 32 + i) % 8]);
    memcpy(p, &i, sizeof i);
}

/* NBLK zstd-compressed blocks, then one plain (random) block. */
static void make(tu_fixture *f)
{
    maif_options *o = NULL;
    assert_int_equal(maif_options_create(&o), MAIF_OK);
    assert_int_equal(maif_options_set(o, MAIF_OPT_CODEC, MAIF_CODEC_ZSTD), MAIF_OK);
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->key, "cache", o), MAIF_OK);
    maif_options_free(o);
    uint8_t p[BS];
    for (uint64_t i = 0; i < NBLK; i++) {
        fill(p, i);
        maif_block_spec s = {.type = MAIF_TYPE_BINARY, .payload = p, .payload_size = BS};
        assert_int_equal(maif_writer_add(w, &s, NULL), MAIF_OK);
    }
    tu_pattern(p, BS, 5);
    maif_block_spec s = {.type = MAIF_TYPE_BINARY, .payload = p, .payload_size = BS};
    assert_int_equal(maif_writer_add(w, &s, NULL), MAIF_OK);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
}

static void decode_check(maif_reader *r, uint64_t i)
{
    uint8_t got[BS], want[BS];
    size_t n = 0;
    assert_int_equal(maif_reader_block_decode(r, i, got, sizeof got, &n), MAIF_OK);
    assert_int_equal(n, BS);
    fill(want, i);
    assert_memory_equal(got, want, BS);
}

static void test_cache_basics(void **state)
{
    tu_fixture *f = *state;
    make(f);
    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    maif_cache_stats st;
    assert_int_equal(maif_reader_cache_stats(r, &st), MAIF_OK);
    assert_int_equal(st.capacity, 0);
    assert_int_equal(maif_reader_set_cache(NULL, 1), MAIF_EINVAL);
    assert_int_equal(maif_reader_cache_stats(r, NULL), MAIF_EINVAL);
    assert_int_equal(maif_reader_set_cache(r, 1 << 20), MAIF_OK);
    maif_block b;
    assert_int_equal(maif_reader_block(r, 0, &b), MAIF_OK);
    assert_int_equal(b.codec, MAIF_CODEC_ZSTD);
    decode_check(r, 0);
    decode_check(r, 0);
    decode_check(r, 1);
    assert_int_equal(maif_reader_cache_stats(r, &st), MAIF_OK);
    assert_int_equal(st.hits, 1);
    assert_int_equal(st.misses, 2);
    assert_int_equal(st.inserts, 2);
    assert_int_equal(st.entries, 2);
    assert_int_equal(st.capacity, 1 << 20);
    assert_true(st.bytes >= 2 * BS && st.bytes <= st.capacity);
    /* a hit into a short buffer: ELIMIT with the size needed */
    uint8_t small[16];
    size_t n = 0;
    assert_int_equal(maif_reader_block_decode(r, 0, small, sizeof small, &n), MAIF_ELIMIT);
    assert_int_equal(n, BS);
    assert_int_equal(maif_reader_block_decode(r, 0, NULL, 0, &n), MAIF_ELIMIT);
    assert_int_equal(n, BS);
    /* the plain block is decoded but not kept */
    uint8_t p[BS];
    assert_int_equal(maif_reader_block_decode(r, NBLK, p, sizeof p, &n), MAIF_OK);
    assert_true(tu_check_pattern(p, BS, 5));
    assert_int_equal(maif_reader_cache_stats(r, &st), MAIF_OK);
    assert_int_equal(st.entries, 2);
    /* 0 removes it */
    assert_int_equal(maif_reader_set_cache(r, 0), MAIF_OK);
    assert_int_equal(maif_reader_cache_stats(r, &st), MAIF_OK);
    assert_int_equal(st.capacity, 0);
    assert_int_equal(st.hits, 0);
    decode_check(r, 0);
    maif_reader_close(r);
}

/* With room for about 15 blocks: a hot set read repeatedly survives one
 * pass over all NBLK blocks; the budget is never passed. */
static void test_cache_scan_resistant(void **state)
{
    tu_fixture *f = *state;
    make(f);
    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    assert_int_equal(maif_reader_set_cache(r, 64 << 10), MAIF_OK);
    static const uint64_t hot[4] = {3, 50, 120, 199};
    for (int round = 0; round < 3; round++)
        for (int k = 0; k < 4; k++) decode_check(r, hot[k]);
    maif_cache_stats st;
    assert_int_equal(maif_reader_cache_stats(r, &st), MAIF_OK);
    uint64_t hits0 = st.hits;
    for (uint64_t i = 0; i < NBLK; i++) decode_check(r, i); /* the scan */
    assert_int_equal(maif_reader_cache_stats(r, &st), MAIF_OK);
    assert_true(st.bytes <= st.capacity);
    assert_true(st.evictions > 0);
    uint64_t hits1 = st.hits;
    for (int k = 0; k < 4; k++) decode_check(r, hot[k]);
    assert_int_equal(maif_reader_cache_stats(r, &st), MAIF_OK);
    assert_int_equal(st.hits - hits1, 4); /* all four still there */
    assert_true(hits1 >= hits0 + 4);     /* and they hit during the scan too */
    /* blocks read twice after the scan get in as well */
    for (int rep = 0; rep < 2; rep++)
        for (uint64_t i = 60; i < 66; i++) decode_check(r, i);
    for (uint64_t i = 60; i < 66; i++) decode_check(r, i);
    assert_int_equal(maif_reader_cache_stats(r, &st), MAIF_OK);
    assert_true(st.bytes <= st.capacity);
    maif_reader_close(r);
}

typedef struct tjob {
    maif_reader *r;
    unsigned seed;
    int bad;
} tjob;

static void *reader_thread(void *arg)
{
    tjob *j = arg;
    uint8_t got[BS], want[BS];
    unsigned x = j->seed;
    for (int k = 0; k < 2000; k++) {
        x = x * 1103515245u + 12345u;
        uint64_t i = (x >> 8) % 24 < 20 ? (x >> 8) % 8 : (x >> 8) % NBLK; /* mostly a hot set */
        size_t n = 0;
        if (maif_reader_block_decode(j->r, i, got, sizeof got, &n) != MAIF_OK || n != BS) {
            j->bad = 1;
            return NULL;
        }
        fill(want, i);
        if (memcmp(got, want, BS)) j->bad = 1;
    }
    return NULL;
}

static void test_cache_threads(void **state)
{
    tu_fixture *f = *state;
    make(f);
    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    assert_int_equal(maif_reader_set_cache(r, 48 << 10), MAIF_OK);
    pthread_t th[4];
    tjob jobs[4];
    for (unsigned t = 0; t < 4; t++) {
        jobs[t] = (tjob){r, t + 1, 0};
        assert_int_equal(pthread_create(&th[t], NULL, reader_thread, &jobs[t]), 0);
    }
    for (unsigned t = 0; t < 4; t++) {
        pthread_join(th[t], NULL);
        assert_false(jobs[t].bad);
    }
    maif_cache_stats st;
    assert_int_equal(maif_reader_cache_stats(r, &st), MAIF_OK);
    assert_int_equal(st.hits + st.misses, 4 * 2000);
    assert_true(st.hits > st.misses); /* the hot set stays */
    assert_true(st.bytes <= st.capacity);
    maif_reader_close(r);
}

/* A decrypted block is served from the cache until the keyring changes:
 * then the cache is emptied and, without keys, the decode is refused. */
static void test_cache_encrypted(void **state)
{
    tu_fixture *f = *state;
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->key, "cache", NULL), MAIF_OK);
    maif_keyring *kr = tu_keyring_self(f->key);
    assert_int_equal(maif_writer_encrypt(w, kr, MAIF_CIPHER_XCHACHA20), MAIF_OK);
    uint8_t p[BS];
    fill(p, 7);
    maif_block_spec s = {.type = MAIF_TYPE_BINARY, .payload = p, .payload_size = BS};
    assert_int_equal(maif_writer_add(w, &s, NULL), MAIF_OK);
    uint64_t idx = maif_writer_count(w) - 1;
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);

    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    assert_int_equal(maif_reader_set_cache(r, 1 << 20), MAIF_OK);
    assert_int_equal(maif_reader_set_keyring(r, kr), MAIF_OK);
    uint8_t got[BS];
    size_t n = 0;
    for (int k = 0; k < 2; k++) {
        assert_int_equal(maif_reader_block_decode(r, idx, got, sizeof got, &n), MAIF_OK);
        assert_memory_equal(got, p, BS);
    }
    maif_cache_stats st;
    assert_int_equal(maif_reader_cache_stats(r, &st), MAIF_OK);
    assert_int_equal(st.hits, 1);
    /* no keys now: nothing decrypted is served any more */
    assert_int_equal(maif_reader_set_keyring(r, NULL), MAIF_OK);
    assert_int_equal(maif_reader_cache_stats(r, &st), MAIF_OK);
    assert_int_equal(st.entries, 0);
    assert_int_equal(st.capacity, 1 << 20);
    assert_int_equal(maif_reader_block_decode(r, idx, got, sizeof got, &n), MAIF_EACCESS);
    maif_reader_close(r);
    maif_keyring_free(kr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_cache_basics, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_cache_scan_resistant, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_cache_threads, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_cache_encrypted, tu_setup, tu_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
