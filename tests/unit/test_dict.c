/*
 * test_dict.c — zstd dictionaries stored in artifacts (FORMAT §5.6.2):
 * training (from samples and from an artifact's own blocks), a ZDIC block
 * and codec-3 blocks that name it, round trips through the reader, a
 * dictionary found again by a later writer (latest, by id), rollback,
 * encryption on top, more dictionaries than a reader caches, and hostile
 * files: a damaged dictionary, references to a block that is not a
 * dictionary, to a later block, to another dictionary, a dictionary over the limit and one that
 * is not a dictionary, a decoded size of 1 TiB; each a clean error before
 * any large allocation.
 */
#include "testutil.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/native/native.h"
#include "util/common.h"

static char *record(int i, size_t *n) { return tu_record(i, 0, n); }

static uint8_t *train(size_t cap, size_t *len)
{
    uint8_t *d = tu_dict_train(cap, 0, len);
    assert_true(*len >= MAIF_DICT_MIN && *len <= cap);
    return d;
}

static void add_records(maif_writer *w, int from, int to)
{
    for (int i = from; i < to; i++) {
        size_t n;
        char *r = record(i, &n);
        tu_add_simple(w, MAIF_TYPE_JSON, r, n, NULL, NULL);
        free(r);
    }
}

static void check_records(maif_reader *r, uint64_t first, int from, int to, int codec)
{
    for (int i = from; i < to; i++) {
        size_t n, wr = 0;
        char *want = record(i, &n);
        maif_block b;
        uint64_t bi = first + (uint64_t)(i - from);
        assert_int_equal(maif_reader_block(r, bi, &b), MAIF_OK);
        if (codec >= 0) assert_int_equal(b.codec, codec);
        else assert_true(b.codec == 0 || b.codec == MAIF_CODEC_ZSTD); /* plain zstd pays little on ~180 bytes */
        char buf[400];
        int rc = maif_reader_block_decode(r, bi, buf, sizeof buf, &wr);
        if (rc) fprintf(stderr, "block %llu: %s\n", (unsigned long long)bi, maif_reader_errmsg(r));
        assert_int_equal(rc, MAIF_OK);
        assert_int_equal(wr, n);
        assert_memory_equal(buf, want, n);
        free(want);
    }
}

static void test_train_errors(void **state)
{
    (void)state;
    uint8_t d[512];
    size_t n = 99, one = 10;
    assert_int_equal(maif_dict_train(d, 100, "0123456789", &one, 1, &n), MAIF_EINVAL); /* below MAIF_DICT_MIN */
    assert_int_equal(n, 0);
    assert_int_equal(maif_dict_train(d, sizeof d, "0123456789", &one, 0, &n), MAIF_EINVAL);
    assert_int_equal(maif_dict_train(NULL, sizeof d, "0123456789", &one, 1, &n), MAIF_EINVAL);
    assert_int_equal(maif_dict_train(d, sizeof d, "0123456789", &one, 1, &n), MAIF_ELIMIT); /* too little to learn */
}

static void test_roundtrip(void **state)
{
    tu_fixture *f = *state;
    size_t dn;
    uint8_t *dict = train(8192, &dn);
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->key, NULL, NULL), MAIF_OK);
    assert_int_equal(maif_writer_set_codec(w, MAIF_CODEC_ZSTD_DICT, 0), MAIF_ESTATE); /* no dictionary yet */
    add_records(w, 0, 10); /* plain */
    uint8_t id[MAIF_ID_BYTES];
    assert_int_equal(maif_writer_add_dict(w, dict, dn, 0, id), MAIF_OK); /* block 10 */
    add_records(w, 10, 110);
    assert_int_equal(maif_writer_set_codec(w, MAIF_CODEC_ZSTD, 0), MAIF_OK);
    add_records(w, 110, 120);
    assert_int_equal(maif_writer_set_codec(w, MAIF_CODEC_ZSTD_DICT, 0), MAIF_OK); /* back to the dictionary */
    add_records(w, 120, 130);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);

    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    maif_block b;
    assert_int_equal(maif_reader_block(r, 10, &b), MAIF_OK);
    assert_int_equal(b.type, MAIF_TYPE_ZDICT);
    assert_int_equal(b.codec, 0);
    assert_int_equal(b.payload_size, dn);
    assert_memory_equal(b.id, id, MAIF_ID_BYTES);
    assert_string_equal(maif_codec_name(MAIF_CODEC_ZSTD_DICT), "zstd-dict");
    check_records(r, 0, 0, 10, 0);
    check_records(r, 11, 10, 110, MAIF_CODEC_ZSTD_DICT);
    check_records(r, 111, 110, 120, -1);
    check_records(r, 121, 120, 130, MAIF_CODEC_ZSTD_DICT);
    /* the dictionary pays: a record is much smaller with it than with plain zstd */
    maif_block bd, bz;
    assert_int_equal(maif_reader_block(r, 115, &bz), MAIF_OK);
    assert_int_equal(maif_reader_block(r, 125, &bd), MAIF_OK);
    assert_true(bd.payload_size * 2 < bz.payload_size);
    /* training from the artifact itself: its records, not the dictionary */
    uint8_t d2[4096];
    size_t n2 = 0;
    uint64_t used = 0;
    assert_int_equal(maif_reader_dict_train(r, d2, sizeof d2, &n2, &used), MAIF_OK);
    assert_int_equal(used, 130);
    assert_true(n2 >= MAIF_DICT_MIN && n2 <= sizeof d2);
    assert_int_equal(maif_reader_dict_train(r, d2, 100, &n2, &used), MAIF_EINVAL);
    maif_reader_close(r);
    tu_assert_verifies_clean(f->path);

    /* a later writer finds the dictionary: the latest, or by id */
    assert_int_equal(maif_writer_open(&w, f->path, f->key, NULL), MAIF_OK);
    assert_int_equal(maif_writer_use_dict(w, NULL, 5), MAIF_OK);
    add_records(w, 200, 210);
    assert_int_equal(maif_writer_use_dict(w, id, 0), MAIF_OK);
    add_records(w, 210, 220);
    uint8_t nope[MAIF_ID_BYTES] = {1};
    assert_int_equal(maif_writer_use_dict(w, nope, 0), MAIF_ENOTFOUND);
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    assert_int_equal(maif_reader_block(r, 0, &b), MAIF_OK);
    maif_reader_close(r);
    assert_int_equal(maif_writer_use_dict(w, b.id, 0), MAIF_EFORMAT); /* a block, but not a dictionary */
    assert_true(strstr(maif_writer_errmsg(w), "not a dictionary") != NULL);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    check_records(r, 131, 200, 220, MAIF_CODEC_ZSTD_DICT);
    maif_reader_close(r);
    tu_assert_verifies_clean(f->path);
    free(dict);
}

static void test_no_dict_rollback_encrypt(void **state)
{
    tu_fixture *f = *state;
    size_t dn;
    uint8_t *dict = train(4096, &dn);
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->key, NULL, NULL), MAIF_OK);
    assert_int_equal(maif_writer_use_dict(w, NULL, 0), MAIF_ENOTFOUND);
    assert_int_equal(maif_writer_add_dict(w, dict, 100, 0, NULL), MAIF_EFORMAT);  /* too short */
    assert_int_equal(maif_writer_add_dict(w, dict + 8, dn - 8, 0, NULL), MAIF_EFORMAT); /* no magic */
    assert_int_equal(maif_writer_add_dict(w, dict, (size_t)MAIF_DICT_MAX + 1, 0, NULL), MAIF_ELIMIT);
    assert_int_equal(maif_writer_count(w), 0);
    /* a rollback takes the dictionary with it: plain zstd afterwards */
    assert_int_equal(maif_writer_add_dict(w, dict, dn, 0, NULL), MAIF_OK);
    add_records(w, 0, 5);
    assert_int_equal(maif_writer_rollback(w), MAIF_OK);
    add_records(w, 0, 5);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    check_records(r, 0, 0, 5, -1);
    maif_block b0;
    assert_int_equal(maif_reader_count(r), 5);
    assert_int_equal(maif_reader_block(r, 0, &b0), MAIF_OK);
    assert_int_not_equal(b0.type, MAIF_TYPE_ZDICT);
    maif_reader_close(r);
    /* with encryption: the dictionary first (it is public), then compress, then encrypt */
    assert_int_equal(maif_writer_add_dict(w, dict, dn, 0, NULL), MAIF_OK); /* block 5 */
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    maif_keyring *kr = tu_keyring_self(f->key);
    assert_int_equal(maif_writer_encrypt(w, kr, MAIF_CIPHER_XCHACHA20), MAIF_OK); /* block 6: key wrap */
    assert_int_equal(maif_writer_add_dict(w, dict, dn, 0, NULL), MAIF_EINVAL);
    assert_int_equal(maif_writer_set_codec(w, MAIF_CODEC_ZSTD_DICT, 0), MAIF_OK);
    add_records(w, 10, 20);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    maif_block b;
    assert_int_equal(maif_reader_block(r, 7, &b), MAIF_OK);
    assert_int_equal(b.cipher, MAIF_CIPHER_XCHACHA20);
    char buf[400];
    size_t wr;
    assert_int_equal(maif_reader_block_decode(r, 7, buf, sizeof buf, &wr), MAIF_EACCESS);
    assert_int_equal(maif_reader_set_keyring(r, kr), MAIF_OK);
    check_records(r, 7, 10, 20, MAIF_CODEC_ZSTD_DICT);
    maif_reader_close(r);
    maif_keyring_free(kr);
    tu_assert_verifies_clean(f->path);
    free(dict);
}

/* More dictionaries than a reader keeps loaded, decoded from two threads'
 * worth of order: every block still decodes. */
static void test_many_dicts(void **state)
{
    tu_fixture *f = *state;
    size_t dn;
    uint8_t *dict = train(2048, &dn);
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->key, NULL, NULL), MAIF_OK);
    for (int k = 0; k < NAT_DICTS_CACHED + 4; k++) {
        assert_int_equal(maif_writer_add_dict(w, dict, dn, 0, NULL), MAIF_OK);
        add_records(w, k * 3, k * 3 + 3);
    }
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    for (int pass = 0; pass < 2; pass++)
        for (int k = NAT_DICTS_CACHED + 3; k >= 0; k--) check_records(r, (uint64_t)k * 4 + 1, k * 3, k * 3 + 3, MAIF_CODEC_ZSTD_DICT);
    maif_reader_close(r);
    free(dict);
}

/* Four threads decode through one reader whose dictionaries load on
 * first use (the cache is shared under its lock; `make tsan` runs this). */
typedef struct tjob {
    maif_reader *r;
    int k;
} tjob;

static void *decode_all(void *arg)
{
    tjob *j = arg;
    for (int pass = 0; pass < 3; pass++)
        for (int k = NAT_DICTS_CACHED + 3; k >= 0; k--) {
            int kk = (k + j->k) % (NAT_DICTS_CACHED + 4);
            for (int i = kk * 3; i < kk * 3 + 3; i++) {
                size_t n, wr = 0;
                char *want = record(i, &n), buf[400];
                uint64_t bi = (uint64_t)kk * 4 + 1 + (uint64_t)(i - kk * 3);
                if (maif_reader_block_decode(j->r, bi, buf, sizeof buf, &wr) != MAIF_OK || wr != n ||
                    memcmp(buf, want, n) != 0)
                    j->k = -1000;
                free(want);
            }
        }
    return NULL;
}

static void test_threads(void **state)
{
    tu_fixture *f = *state;
    size_t dn;
    uint8_t *dict = train(2048, &dn);
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->key, NULL, NULL), MAIF_OK);
    for (int k = 0; k < NAT_DICTS_CACHED + 4; k++) {
        assert_int_equal(maif_writer_add_dict(w, dict, dn, 0, NULL), MAIF_OK);
        add_records(w, k * 3, k * 3 + 3);
    }
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    pthread_t th[4];
    tjob jobs[4];
    for (int t = 0; t < 4; t++) {
        jobs[t] = (tjob){r, t * 3};
        assert_int_equal(pthread_create(&th[t], NULL, decode_all, &jobs[t]), 0);
    }
    for (int t = 0; t < 4; t++) {
        pthread_join(th[t], NULL);
        assert_true(jobs[t].k >= 0);
    }
    maif_reader_close(r);
    free(dict);
}

static size_t largest;
static void *track_malloc(void *ctx, size_t n)
{
    (void)ctx;
    if (n > largest) largest = n;
    return malloc(n);
}
static void *track_realloc(void *ctx, void *p, size_t n)
{
    (void)ctx;
    if (n > largest) largest = n;
    return realloc(p, n);
}
static void track_free(void *ctx, void *p)
{
    (void)ctx;
    free(p);
}
static const maif_allocator tracker = {track_malloc, track_realloc, track_free, NULL};

/* Decodes block i of the image and expects code, with msg in the message,
 * and no allocation of 1 MiB or more. */
static void expect_decode(const uint8_t *img, size_t n, uint64_t i, int code, const char *msg)
{
    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open_mem(&r, img, n), MAIF_OK);
    char buf[400];
    size_t wr = 0;
    largest = 0;
    assert_int_equal(maif_allocator_set(&tracker), MAIF_OK);
    int rc = maif_reader_block_decode(r, i, buf, sizeof buf, &wr);
    assert_int_equal(maif_allocator_set(NULL), MAIF_OK);
    if (rc != code || !strstr(maif_reader_errmsg(r), msg))
        fprintf(stderr, "block %llu: %d %s (want %d, '%s')\n", (unsigned long long)i, rc, maif_reader_errmsg(r), code,
                msg);
    assert_int_equal(rc, code);
    assert_non_null(strstr(maif_reader_errmsg(r), msg));
    assert_true(largest < (1u << 20));
    maif_reader_close(r);
}

static void test_hostile(void **state)
{
    tu_fixture *f = *state;
    size_t dn;
    uint8_t *dict = train(4096, &dn);
    uint8_t *big = malloc((size_t)MAIF_DICT_MAX + 1);
    assert_non_null(big);
    memcpy(big, dict, dn); /* a dictionary's head, but over the limit */
    memset(big + dn, 0x5a, (size_t)MAIF_DICT_MAX + 1 - dn);
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->key, NULL, NULL), MAIF_OK);
    tu_add_simple(w, MAIF_TYPE_ZDICT, big, (size_t)MAIF_DICT_MAX + 1, NULL, NULL); /* 0: a bomb */
    tu_add_simple(w, MAIF_TYPE_ZDICT, big + dn, 4000, NULL, NULL);                 /* 1: not a dictionary */
    tu_add_simple(w, MAIF_TYPE_TEXT, "hello", 5, NULL, NULL);                      /* 2 */
    size_t dn2;
    uint8_t *dict2 = train(2048, &dn2); /* another dictionary (another id) */
    assert_int_equal(maif_writer_add_dict(w, dict2, dn2, 0, NULL), MAIF_OK);  /* 3 */
    assert_int_equal(maif_writer_add_dict(w, dict, dn, 0, NULL), MAIF_OK);    /* 4 */
    add_records(w, 0, 2);                                                     /* 5, 6 */
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    size_t n;
    uint8_t *img = tu_read(f->path, &n);
    assert_non_null(img);
    expect_decode(img, n, 5, MAIF_OK, "");
    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open_mem(&r, img, n), MAIF_OK);
    maif_block b5, b4;
    assert_int_equal(maif_reader_block(r, 5, &b5), MAIF_OK);
    assert_int_equal(maif_reader_block(r, 4, &b4), MAIF_OK);
    maif_reader_close(r);
    nat_rec rec;
    int torn;
    assert_int_equal(nat_rec_parse(img, n, b5.offset, &rec, &torn, NULL, 0), MAIF_OK);
    /* decoded_size (12 bytes) then dict_ref: tag, length 1, the block number 4 */
    uint8_t *ref = img + rec.ext_off + 12;
    assert_int_equal(rd16le(ref), NAT_EXT_DICT_REF);
    assert_int_equal(rd16le(ref + 2), 1);
    assert_int_equal(ref[4], 4);
    struct {
        uint8_t index;
        int code;
        const char *msg;
    } cases[] = {
        {0, MAIF_ELIMIT, "over the limit"},
        {1, MAIF_EFORMAT, "not a zstd dictionary"},
        {2, MAIF_EFORMAT, "not a dictionary"},
        {3, MAIF_EFORMAT, "does not decode"}, /* another dictionary: the checksum fails */
        {5, MAIF_EFORMAT, "does not come before"},
        {200, MAIF_EFORMAT, "does not come before"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        ref[4] = cases[k].index;
        expect_decode(img, n, 5, cases[k].code, cases[k].msg);
    }
    ref[4] = 4;
    /* 1 TiB claimed by a tiny frame: refused before the dictionary is even loaded */
    assert_int_equal(rd16le(img + rec.ext_off), NAT_EXT_DECODED_SIZE);
    wr64le(img + rec.ext_off + 4, (uint64_t)1 << 40);
    expect_decode(img, n, 5, MAIF_EFORMAT, "impossible");
    /* restore and damage the dictionary itself: its hash no longer matches */
    free(img);
    img = tu_read(f->path, &n);
    expect_decode(img, n, 6, MAIF_OK, "");
    img[b4.offset + NAT_REC_HEADER + 40] ^= 1; /* inside its payload (no extensions, no metadata) */
    expect_decode(img, n, 6, MAIF_EFORMAT, "content hash mismatch");
    maif_report *rep = NULL;
    assert_int_equal(maif_verify_mem(img, n, NULL, &rep), MAIF_OK);
    assert_false(maif_report_ok(rep));
    assert_true(tu_has_code(rep, "content-hash", MAIF_SEV_ERROR));
    maif_report_free(rep);
    free(img);
    free(big);
    free(dict);
    free(dict2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_train_errors),
        cmocka_unit_test_setup_teardown(test_roundtrip, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_no_dict_rollback_encrypt, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_many_dicts, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_threads, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_hostile, tu_setup, tu_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
