/*
 * test_tidx_hostile.c — hostile full-text indexes (TIDX): huge N, counts
 * past the end, overflowing offsets, unsorted terms, bad varints, wrong
 * documents, every single-bit flip of a small index (bits 0, 3 and 6):
 * each a clear MAIF_EFORMAT naming what is wrong, or an index that still
 * checks, never a crash or a read outside the payload; and damaged
 * indexes inside an artifact: searches fall back to the scan, give its
 * results, and the index says why.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "semantic/semantic.h"
#include "semantic/textidx.h"

/* ---------------------------------------------------------- hostile */

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

/* A small valid index: terms of equal length so that two can be swapped. */
static uint8_t *small_index(tu_fixture *f, size_t *size)
{
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->key, NULL, NULL), MAIF_OK);
    tu_add_text(w, "bbb ccc ddd bbb");
    tu_add_text(w, "ccc eee fff");
    tu_add_text(w, "ggg hhh bbb kkk");
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    assert_int_equal(maif_index_build_text(f->path, f->key, NULL, NULL), MAIF_OK);
    uint64_t blk;
    uint8_t *p = tu_last_payload(f->path, SEM_TYPE_TIDX, size, &blk);
    assert_int_equal(blk, 3);
    return p;
}

/* Runs every reader entry point on p; returns the first error (0: all fine). */
static int exercise(const uint8_t *p, size_t size, char *err, size_t errsz)
{
    sem_tidx t;
    int rc = sem_tidx_view(&t, p, size, err, errsz);
    if (rc) return rc;
    int first = sem_tidx_check(&t, err, errsz);
    static const char *const words[] = {"bbb", "ccc", "kkk", "aaa", "zzz", "eee"};
    for (int i = 0; i < 6; i++) {
        uint32_t term, df;
        char e2[300];
        rc = sem_tidx_find(&t, (const uint8_t *)words[i], 3, &term, e2, sizeof e2);
        if (rc || term == UINT32_MAX) continue;
        sem_tidx_cur c;
        if (sem_tidx_postings(&t, term, &df, &c, e2, sizeof e2)) continue;
        while (sem_tidx_next(&t, &c, e2, sizeof e2) == 1) {
            uint64_t b;
            uint32_t l;
            (void)sem_tidx_doc(&t, c.ord, &b, &l, e2, sizeof e2);
        }
    }
    for (uint32_t i = 0; i < t.nskip && i < 8; i++) {
        uint64_t b;
        (void)sem_tidx_skipped(&t, i, &b, err, errsz);
    }
    return first;
}

static void expect_bad(const uint8_t *p, size_t size, const char *what, const char *needle)
{
    char err[300] = "";
    int rc = exercise(p, size, err, sizeof err);
    if (rc != MAIF_EFORMAT || !strstr(err, needle)) fail_msg("%s: rc %d, '%s' (wanted '%s')", what, rc, err, needle);
}

static void test_hostile(void **state)
{
    tu_fixture *f = *state;
    size_t size;
    uint8_t *good = small_index(f, &size), *p = malloc(size + 64);
    char err[300];
    assert_int_equal(exercise(good, size, err, sizeof err), MAIF_OK);
    sem_tidx t;
    assert_int_equal(sem_tidx_view(&t, good, size, err, sizeof err), MAIF_OK);
    assert_int_equal(t.ndocs, 3);
    assert_int_equal(t.covered, 3);
    assert_true(t.nterms >= 8);
    size_t T = SEM_TIDX_HEADER, D = T + 16 * ((size_t)t.nterms + 1), S = (size_t)(t.strings - good),
           P = (size_t)(t.post - good);
#define MUT(stmt, what, needle)                                                                                    \
    do {                                                                                                           \
        memcpy(p, good, size);                                                                                     \
        stmt;                                                                                                      \
        expect_bad(p, size, what, needle);                                                                         \
    } while (0)
    MUT(put32(p + 24, UINT32_MAX), "huge N", "documents");
    MUT(put32(p + 24, 4), "N above covered", "documents");
    MUT(put32(p + 28, UINT32_MAX), "terms past the end", "size");
    MUT(put32(p + 32, 2), "skipped past the end", "size");
    MUT(put64(p + 48, UINT64_MAX - 3), "strings size overflowing", "size");
    MUT(put64(p + 56, UINT64_MAX), "postings size overflowing", "size");
    MUT(put32(p + 8, 2), "version", "version");
    MUT(put32(p + 12, 9), "analyzer", "analyzer");
    MUT(p[0] = 'X', "magic", "magic");
    MUT(put32(p + 36, 2), "reserved flags", "reserved");
    expect_bad(good, SEM_TIDX_HEADER - 1, "truncated header", "shorter");
    expect_bad(good, size - 1, "truncated", "size");
    memcpy(p, good, size);
    memset(p + size, 0, 8);
    expect_bad(p, size + 8, "trailing bytes", "size");
    MUT(put32(p + D - 16, 0), "sentinel", "closing");
    /* term entries */
    MUT(put64(p + T + 32 + 8, UINT64_MAX - 8), "posting offset overflowing", "out of bounds");
    MUT(put64(p + T + 16 + 8, t.post_size + 1), "posting offset past the end", "out of bounds");
    MUT(put32(p + T + 4, 4), "df above N", "df");
    MUT(put32(p + T + 4, 0), "df zero", "df");
    MUT(put32(p + T + 16, 9999), "string offset past the end", "out of bounds");
    MUT(put32(p + T + 16, 0), "empty string", "out of bounds");
    /* unsorted: swap the strings of terms 0 and 1 (both three bytes) */
    MUT((memcpy(p + S, good + S + 3, 3), memcpy(p + S + 3, good + S, 3)), "unsorted terms", "out of order");
    /* postings and documents */
    MUT(memset(p + P, 0xff, 6), "overlong varint", "varint");
    MUT(p[P] = 7, "document past N", "out of range");
    MUT(p[P + 1] = 0, "tf zero", "out of range");
    MUT(put64(p + D, 3), "document block at covered", "block");
    MUT(put64(p + D + 16, 0), "documents out of order", "block");
    MUT(put32(p + D + 12, 1), "document reserved", "block");
    MUT(put64(p + 40, UINT64_MAX), "huge total", "total");
    /* every single-byte flip: an error or an index that still checks, never a crash */
    for (size_t i = 0; i < size; i++) {
        for (int bit = 0; bit < 8; bit += 3) {
            memcpy(p, good, size);
            p[i] ^= (uint8_t)(1u << bit);
            int rc = exercise(p, size, err, sizeof err);
            assert_true(rc == MAIF_OK || rc == MAIF_EFORMAT);
        }
    }
    free(p);
    free(good);
}

/* A damaged TIDX inside an artifact: searches fall back to the scan,
 * give its results, and the index says why. */
static void test_damaged_falls_back(void **state)
{
    tu_fixture *f = *state;
    size_t size;
    uint8_t *good = small_index(f, &size);
    sem_tidx t;
    char err[300];
    assert_int_equal(sem_tidx_view(&t, good, size, err, sizeof err), MAIF_OK);
    size_t S = (size_t)(t.strings - good);
    for (int c = 0; c < 3; c++) {
        uint8_t *p = malloc(size);
        memcpy(p, good, size);
        if (c == 0) { /* unsorted terms: met by the query's binary search */
            memcpy(p + S, good + S + 3, 3);
            memcpy(p + S + 3, good + S, 3);
        } else if (c == 1) {
            put32(p + 24, UINT32_MAX); /* huge N: the header check */
        } else {
            memset(t.post - good + p, 0xff, 5); /* a bad varint */
        }
        tu_append_one(f->path, f->key, SEM_TYPE_TIDX, p, size);
        free(p);
        maif_reader *r = NULL;
        assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
        maif_index *ix = NULL;
        assert_int_equal(maif_index_open(&ix, r, NULL), MAIF_OK);
        static const char *const qs[] = {"bbb", "ccc", "ddd", "eee", "fff", "ggg", "hhh", "kkk", "bbb kkk"};
        for (size_t q = 0; q < sizeof qs / sizeof *qs; q++) {
            sem_scored a[8], b[8];
            size_t na, nb;
            assert_int_equal(sem_bm25_search(r, qs[q], strlen(qs[q]), NULL, NULL, 8, a, &na), MAIF_OK);
            assert_int_equal(sem_text_search(ix, qs[q], strlen(qs[q]), NULL, NULL, 8, b, &nb), MAIF_OK);
            assert_int_equal(na, nb);
            assert_true(na > 0);
            for (size_t i = 0; i < na; i++) assert_int_equal(a[i].block, b[i].block);
        }
        maif_index_info info;
        assert_int_equal(maif_index_get_info(ix, &info), MAIF_OK);
        assert_non_null(info.text_error);
        assert_non_null(strstr(info.text_error, "text index"));
        assert_int_equal(info.text_indexed, 0);
        maif_index_close(ix);
        maif_reader_close(r);
    }
    free(good);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_hostile, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_damaged_falls_back, tu_setup, tu_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
