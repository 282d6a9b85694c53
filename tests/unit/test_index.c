/*
 * test_index.c — the native block index: a long run of small commits must
 * keep the index within its segment limit, every block readable, across
 * reopens of the writer.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "format/native/native.h"

/* 300 commits of 1–5 blocks: the index stays within 64 segments, every
 * block stays readable, with reopens of the writer along the way. */
static void test_many_commits(void **state)
{
    tu_fixture *f = *state;
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->key, NULL, NULL), MAIF_OK);
    uint64_t total = 0, rng = 12345;
    uint32_t max_seg = 0;
    uint8_t buf[300];
    for (int c = 0; c < 300; c++) {
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        int nb = 1 + (int)((rng >> 33) % 5);
        for (int j = 0; j < nb; j++, total++) {
            size_t len = (size_t)(total * 7 % 300);
            tu_pattern(buf, len, total);
            char meta[64];
            snprintf(meta, sizeof meta, "{\"n\":%llu}", (unsigned long long)total);
            tu_add_simple(w, MAIF_TYPE_BINARY, buf, len, meta, NULL);
        }
        assert_int_equal(maif_writer_commit(w), MAIF_OK);
        if (c % 37 == 36) { /* reopen: the writer must rebuild its segment list from the file */
            assert_int_equal(maif_writer_close(w), MAIF_OK);
            assert_int_equal(maif_writer_open(&w, f->path, f->key, NULL), MAIF_OK);
            assert_int_equal(maif_writer_count(w), total);
        }
        if (c % 25 == 24 || c == 299) {
            size_t len;
            uint8_t *img = tu_read(f->path, &len);
            assert_non_null(img);
            nat_view v;
            char err[256];
            assert_int_equal(nat_view_open(&v, img, len, err, sizeof err), MAIF_OK);
            assert_false(v.scanned);
            assert_int_equal(v.last.blocks, total);
            assert_true(v.last.nseg >= 1 && v.last.nseg <= NAT_MAX_SEGMENTS);
            if (v.last.nseg > max_seg) max_seg = v.last.nseg;
            nat_view_free(&v);
            free(img);

            maif_reader *r = NULL;
            assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
            assert_int_equal(maif_reader_count(r), total);
            for (uint64_t i = 0; i < total; i++) {
                maif_block b;
                assert_int_equal(maif_reader_block(r, i, &b), MAIF_OK);
                size_t want = (size_t)(i * 7 % 300);
                assert_int_equal(b.payload_size, want);
                assert_true(tu_check_pattern(b.payload, want, i));
                char meta[64];
                int ml = snprintf(meta, sizeof meta, "{\"n\":%llu}", (unsigned long long)i);
                assert_int_equal(b.meta_size, (size_t)ml);
                assert_memory_equal(b.meta, meta, (size_t)ml);
            }
            maif_reader_close(r);
        }
    }
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    /* geometric segments: far fewer than the limit for ~900 blocks */
    assert_true(max_seg <= 2 * 10 + 2);
    maif_info info;
    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    assert_int_equal(maif_reader_info(r, &info), MAIF_OK);
    assert_int_equal(info.commit_count, 301);
    maif_reader_close(r);
    tu_assert_verifies_clean(f->path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_many_commits, tu_setup, tu_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
