/*
 * test_zdict.c — zstd dictionaries (src/codec/zdict.c): training from
 * small similar records, a round trip that beats plain zstd on the same
 * record, frames refused with another dictionary or none, and hostile
 * dictionaries (too large — refused before any allocation —, too small,
 * no magic, id 0, malformed tables) and hostile frames (a size claim over
 * the buffer, truncation, a flipped byte); allocation failures at every
 * step of a load and an encode.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#define ZSTD_STATIC_LINKING_ONLY /* ZSTD_getFrameHeader_advanced, the magicless format */
#include <zstd.h>

#include "codec/zdict.h"
#include "util/alloc.h"
#include "util/common.h"

#define NREC 1200

/* Records that look alike: small JSON objects with a few varying fields. */
static size_t record(char *buf, size_t cap, unsigned i, unsigned salt)
{
    static const char *const kinds[] = {"observation", "tool_call", "message", "summary"};
    static const char *const who[] = {"agent-alpha", "agent-beta", "planner", "retriever", "critic"};
    int n = snprintf(buf, cap,
                     "{\"kind\":\"%s\",\"source\":\"%s\",\"sequence\":%u,\"privacy\":\"internal\","
                     "\"relationships\":[{\"type\":\"derived_from\",\"target\":\"%08x%08x\"}],"
                     "\"text\":\"step %u of the plan: checked %u documents, kept %u\"}",
                     kinds[(i * 7 + salt) % 4], who[(i * 3 + salt) % 5], i, i * 2654435761u ^ salt,
                     i * 40503u + salt, i % 17, (i * 13 + salt) % 101, (i * 7) % 23);
    return (size_t)n;
}

/* NREC records end to end in *samples, their sizes in *sizes. */
static void corpus(unsigned salt, char **samples, size_t **sizes)
{
    *samples = malloc(NREC * 400);
    *sizes = malloc(NREC * sizeof **sizes);
    assert_non_null(*samples);
    assert_non_null(*sizes);
    size_t off = 0;
    for (unsigned i = 0; i < NREC; i++) {
        (*sizes)[i] = record(*samples + off, 400, i, salt);
        off += (*sizes)[i];
    }
}

static uint8_t *trained(unsigned salt, size_t cap, size_t *len)
{
    char *s;
    size_t *z;
    corpus(salt, &s, &z);
    uint8_t *d = NULL;
    char err[256] = "";
    int rc = maif_zdict_train(s, z, NREC, cap, &d, len, err, sizeof err);
    if (rc) fprintf(stderr, "train: %s\n", err);
    assert_int_equal(rc, MAIF_OK);
    assert_true(*len >= MAIF_ZDICT_MIN && *len <= cap);
    free(s);
    free(z);
    return d;
}

static void test_round_trip_beats_plain(void **state)
{
    (void)state;
    size_t len;
    uint8_t *bytes = trained(0, 8192, &len);
    maif_zdict *d;
    char err[256];
    assert_int_equal(maif_zdict_load(bytes, len, 0, &d, err, sizeof err), MAIF_OK);
    assert_int_not_equal(maif_zdict_id(d), 0);

    /* records the dictionary was not trained on, but alike */
    void *cstate = NULL;
    size_t with = 0, without = 0, total = 0;
    for (unsigned i = 0; i < 50; i++) {
        char rec[400], enc[1024], dec[400];
        size_t n = record(rec, sizeof rec, 5000 + i * 31, 1), w = 0, got = 0;
        assert_int_equal(maif_zdict_encode(d, &cstate, enc, sizeof enc, rec, n, &w), MAIF_OK);
        assert_true(w > 0);
        with += w;
        size_t plain = ZSTD_compress(dec, sizeof dec, rec, n, 3);
        assert_false(ZSTD_isError(plain));
        without += plain;
        total += n;
        /* a magicless frame with no dictionary id (the record names both) */
        ZSTD_frameHeader fh;
        assert_int_equal(ZSTD_getFrameHeader_advanced(&fh, enc, w, ZSTD_f_zstd1_magicless), 0);
        assert_int_equal(fh.dictID, 0);
        assert_true(fh.checksumFlag);
        assert_int_equal(fh.frameContentSize, n);
        assert_int_not_equal(ZSTD_getDictID_fromFrame(enc, w), maif_zdict_id(d));
        memset(dec, 0, sizeof dec);
        assert_int_equal(maif_zdict_decode(d, dec, n, enc, w, &got), MAIF_OK);
        assert_int_equal(got, n);
        assert_memory_equal(dec, rec, n);
    }
    /* the point of a dictionary: small similar records shrink much more */
    assert_true(with * 2 < without);
    assert_true(with * 3 < total);
    maif_zdict_state_free(cstate);
    maif_zdict_free(d);
    maif_free(bytes);
}

static void test_wrong_dictionary_or_none(void **state)
{
    (void)state;
    size_t la, lb;
    uint8_t *a = trained(0, 4096, &la), *b = trained(3, 4096, &lb);
    maif_zdict *da, *db;
    char err[256];
    assert_int_equal(maif_zdict_load(a, la, 3, &da, err, sizeof err), MAIF_OK);
    assert_int_equal(maif_zdict_load(b, lb, 3, &db, err, sizeof err), MAIF_OK);
    assert_int_not_equal(maif_zdict_id(da), maif_zdict_id(db));

    char rec[400], enc[1024], dec[400];
    size_t n = record(rec, sizeof rec, 77, 0), w, got = 99;
    void *cs = NULL;
    assert_int_equal(maif_zdict_encode(da, &cs, enc, sizeof enc, rec, n, &w), MAIF_OK);
    assert_int_equal(maif_zdict_decode(db, dec, n, enc, w, &got), MAIF_EFORMAT);
    assert_int_equal(got, 0);
    /* a frame with no dictionary is not one of da's */
    size_t p = ZSTD_compress(enc, sizeof enc, rec, n, 3);
    assert_false(ZSTD_isError(p));
    assert_int_equal(maif_zdict_decode(da, dec, n, enc, p, &got), MAIF_EFORMAT);
    /* the encoder's buffer too small */
    assert_int_equal(maif_zdict_encode(da, &cs, enc, 8, rec, n, &w), MAIF_ELIMIT);
    maif_zdict_state_free(cs);
    maif_zdict_free(da);
    maif_zdict_free(db);
    maif_free(a);
    maif_free(b);
}

static void test_hostile_dictionaries(void **state)
{
    (void)state;
    size_t len;
    uint8_t *good = trained(0, 4096, &len);
    maif_zdict *d = (maif_zdict *)1;
    char err[256];

    /* too large: refused before any allocation */
    uint8_t *huge = calloc(1, MAIF_ZDICT_MAX + 1);
    assert_non_null(huge);
    memcpy(huge, good, len);
    tu_alloc_install();
    tu_alloc_fail(0, 0);
    assert_int_equal(maif_zdict_load(huge, MAIF_ZDICT_MAX + 1, 0, &d, err, sizeof err), MAIF_ELIMIT);
    assert_int_equal(tu_alloc_count(), 0);
    tu_alloc_uninstall();
    assert_null(d);
    assert_non_null(strstr(err, "over the limit"));
    free(huge);

    /* too small, no magic, id 0 */
    assert_int_equal(maif_zdict_load(good, MAIF_ZDICT_MIN - 1, 0, &d, err, sizeof err), MAIF_EFORMAT);
    uint8_t *bad = malloc(len);
    assert_non_null(bad);
    memcpy(bad, good, len);
    bad[0] ^= 0xff;
    assert_int_equal(maif_zdict_load(bad, len, 0, &d, err, sizeof err), MAIF_EFORMAT);
    assert_non_null(strstr(err, "not a zstd dictionary"));
    memcpy(bad, good, len);
    memset(bad + 4, 0, 4);
    assert_int_equal(maif_zdict_load(bad, len, 0, &d, err, sizeof err), MAIF_EFORMAT);
    assert_non_null(strstr(err, "without an id"));
    /* malformed entropy tables right after the header */
    memcpy(bad, good, len);
    memset(bad + 8, 0xff, 64);
    assert_int_equal(maif_zdict_load(bad, len, 0, &d, err, sizeof err), MAIF_EFORMAT);
    assert_non_null(strstr(err, "malformed"));
    /* a bad level, NULL */
    assert_int_equal(maif_zdict_load(good, len, 99, &d, err, sizeof err), MAIF_EINVAL);
    assert_int_equal(maif_zdict_load(NULL, len, 0, &d, err, sizeof err), MAIF_EINVAL);
    assert_null(d);
    free(bad);
    maif_free(good);
}

static void test_hostile_frames(void **state)
{
    (void)state;
    size_t len;
    uint8_t *bytes = trained(0, 4096, &len);
    maif_zdict *d;
    char err[256];
    assert_int_equal(maif_zdict_load(bytes, len, 0, &d, err, sizeof err), MAIF_OK);
    char rec[400], enc[1024], dec[400];
    size_t n = record(rec, sizeof rec, 12, 0), w, got;
    void *cs = NULL;
    assert_int_equal(maif_zdict_encode(d, &cs, enc, sizeof enc, rec, n, &w), MAIF_OK);
    /* the frame claims more than the record's decoded size */
    assert_int_equal(maif_zdict_decode(d, dec, n - 1, enc, w, &got), MAIF_ELIMIT);
    /* ... or less */
    assert_int_equal(maif_zdict_decode(d, dec, sizeof dec, enc, w, &got), MAIF_EFORMAT);
    /* truncated, and trailing bytes */
    assert_int_equal(maif_zdict_decode(d, dec, n, enc, w - 1, &got), MAIF_EFORMAT);
    enc[w] = 0;
    assert_int_equal(maif_zdict_decode(d, dec, n, enc, w + 1, &got), MAIF_EFORMAT);
    assert_int_equal(maif_zdict_decode(d, dec, n, enc, 0, &got), MAIF_EFORMAT);
    /* every single flipped byte is caught (frame checks or the checksum) */
    for (size_t i = 0; i < w; i++) {
        enc[i] ^= 0x20;
        int rc = maif_zdict_decode(d, dec, n, enc, w, &got);
        assert_true(rc == MAIF_EFORMAT || rc == MAIF_ELIMIT);
        enc[i] ^= 0x20;
    }
    assert_int_equal(maif_zdict_decode(d, dec, n, enc, w, &got), MAIF_OK);
    assert_memory_equal(dec, rec, n);
    maif_zdict_state_free(cs);
    maif_zdict_free(d);
    maif_free(bytes);
}

static void test_train_refusals(void **state)
{
    (void)state;
    char *s;
    size_t *z, len = 7;
    uint8_t *d = (uint8_t *)1;
    char err[256];
    corpus(0, &s, &z);
    assert_int_equal(maif_zdict_train(s, z, NREC, MAIF_ZDICT_MIN - 1, &d, &len, err, sizeof err), MAIF_EINVAL);
    assert_null(d);
    assert_int_equal(len, 0);
    assert_int_equal(maif_zdict_train(s, z, NREC, MAIF_ZDICT_MAX + 1, &d, &len, err, sizeof err), MAIF_EINVAL);
    assert_int_equal(maif_zdict_train(s, z, 0, 4096, &d, &len, err, sizeof err), MAIF_EINVAL);
    /* three samples are too few for zstd to train on */
    assert_int_equal(maif_zdict_train(s, z, 3, 4096, &d, &len, err, sizeof err), MAIF_ELIMIT);
    assert_non_null(strstr(err, "training"));
    assert_null(d);
    free(s);
    free(z);
}

static void test_alloc_failures(void **state)
{
    (void)state;
    size_t len;
    uint8_t *bytes = trained(0, 4096, &len);
    char rec[400], enc[1024], dec[400], err[256];
    size_t n = record(rec, sizeof rec, 9, 0);
    int ok = 0;
    tu_alloc_install();
    for (uint64_t k = 1; k < 200 && !ok; k++) {
        tu_alloc_fail(k, 1);
        maif_zdict *d = NULL;
        void *cs = NULL;
        size_t w = 0, got = 0;
        int rc = maif_zdict_load(bytes, len, 0, &d, err, sizeof err);
        if (rc == MAIF_OK) rc = maif_zdict_encode(d, &cs, enc, sizeof enc, rec, n, &w);
        if (rc == MAIF_OK) rc = maif_zdict_decode(d, dec, n, enc, w, &got);
        if (rc == MAIF_OK) {
            assert_false(tu_alloc_fired());
            assert_memory_equal(dec, rec, n);
            ok = 1;
        } else {
            assert_int_equal(rc, MAIF_ENOMEM); /* never a false "malformed" */
            assert_true(tu_alloc_fired());
        }
        maif_zdict_state_free(cs);
        maif_zdict_free(d);
    }
    tu_alloc_uninstall();
    assert_true(ok);
    maif_free(bytes);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_beats_plain),
        cmocka_unit_test(test_wrong_dictionary_or_none),
        cmocka_unit_test(test_hostile_dictionaries),
        cmocka_unit_test(test_hostile_frames),
        cmocka_unit_test(test_train_refusals),
        cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
