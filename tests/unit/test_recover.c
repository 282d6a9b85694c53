/*
 * test_recover.c — what a failed or crashed writer leaves and how it is
 * recovered: an I/O error kills the writer but keeps committed batches,
 * the zero-header crash window of large payloads is a torn tail, space a
 * crashed writer reserved is returned, and disk full at every offset of a
 * commit. The SIGKILL crash loop is in test_native_crash.c.
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

#include "crypto/crypto.h"
#include "format/native/native.h"

/* An I/O error (here: the file-size limit) kills the writer; the file keeps
 * every committed batch and the next open cuts the partial one. */
static void test_io_error_kills_writer(void **state)
{
    tu_fixture *f = *state;
    maif_writer *w = tu_create_one(f->path, f->key, "safe", NULL);
    uint64_t committed = tu_file_size(f->path);

    struct rlimit old, lim;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = committed + 4096;
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    uint8_t *big = calloc(1, 300 << 10); /* written straight to the file: fails in add */
    assert_non_null(big);
    maif_block_spec s = {.type = MAIF_TYPE_BINARY, .payload = big, .payload_size = 300 << 10};
    int rc = maif_writer_add(w, &s, NULL);
    if (rc == MAIF_OK) rc = maif_writer_commit(w);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, prev);
    free(big);
    assert_int_equal(rc, MAIF_EIO);
    assert_true(strlen(maif_writer_errmsg(w)) > 0);
    /* dead: every later call says so */
    assert_int_equal(maif_writer_add(w, &(maif_block_spec){.type = MAIF_TYPE_TEXT, .payload = "x", .payload_size = 1},
                                     NULL),
                     MAIF_ESTATE);
    assert_int_equal(maif_writer_commit(w), MAIF_ESTATE);
    assert_int_equal(maif_writer_rollback(w), MAIF_ESTATE);
    maif_writer_close(w);

    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    assert_int_equal(maif_reader_count(r), 1);
    maif_reader_close(r);
    assert_int_equal(maif_writer_open(&w, f->path, f->key, NULL), MAIF_OK);
    assert_int_equal(tu_file_size(f->path), committed);
    tu_add_simple(w, MAIF_TYPE_TEXT, "again", 5, NULL, NULL);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    tu_assert_verifies_clean(f->path);
}

/* Large payloads: written from a second thread while hashed. Round trip of
 * several 1–3 MiB blocks, and the crash window that design opens (payload in
 * place, header not yet written: a zero header) is a torn tail that readers
 * ignore, verify warns about, and recovery cuts. */
static void test_large_payloads_and_zero_header(void **state)
{
    tu_fixture *f = *state;
    size_t sizes[] = {1u << 20, (3u << 20) + 5, (1u << 20) + 1};
    uint8_t *buf = malloc(sizes[1]);
    assert_non_null(buf);
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->key, NULL, NULL), MAIF_OK);
    for (size_t i = 0; i < 3; i++) {
        tu_pattern(buf, sizes[i], 100 + i);
        tu_add_simple(w, MAIF_TYPE_BINARY, buf, sizes[i], "{\"i\":1}", NULL);
    }
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    tu_assert_verifies_clean(f->path);
    uint64_t committed = tu_file_size(f->path);
    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    for (size_t i = 0; i < 3; i++) {
        maif_block b;
        assert_int_equal(maif_reader_block(r, i, &b), MAIF_OK);
        assert_int_equal(b.payload_size, sizes[i]);
        assert_true(tu_check_pattern(b.payload, b.payload_size, 100 + i));
        uint8_t h[32];
        maif_sha256(b.payload, b.payload_size, h);
        assert_memory_equal(h, b.content_hash, 32);
    }
    maif_reader_close(r);

    /* The crash window: a zero record header, then part of the payload. */
    FILE *fp = fopen(f->path, "ab");
    assert_non_null(fp);
    static const uint8_t zeros[NAT_REC_HEADER + 8];
    assert_int_equal(fwrite(zeros, 1, sizeof zeros, fp), sizeof zeros);
    assert_int_equal(fwrite(buf, 1, 4096, fp), 4096);
    assert_int_equal(fclose(fp), 0);
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    assert_int_equal(maif_reader_count(r), 3);
    maif_reader_close(r);
    maif_report *rep = NULL;
    assert_int_equal(maif_verify_file(f->path, NULL, &rep), MAIF_OK);
    assert_true(maif_report_ok(rep));
    assert_true(tu_has_code(rep, "torn-tail", MAIF_SEV_WARNING));
    maif_report_free(rep);
    uint64_t cut = 0;
    assert_int_equal(maif_recover(f->path, NULL, &cut), MAIF_OK);
    assert_int_equal(cut, sizeof zeros + 4096);
    assert_int_equal(tu_file_size(f->path), committed);
    tu_assert_verifies_clean(f->path);
    free(buf);
}

/* A kill can stop a write of record heads at any page boundary: the block's
 * header and the start of its metadata are there, the rest of its head is
 * still the zero hole. After the last commit that is a torn tail (verify
 * warns, recovery cuts it without --force); before a commit it is damage. */
static void test_head_cut_at_page(void **state)
{
    tu_fixture *f = *state;
    maif_writer *w = tu_create_one(f->path, f->key, "first", NULL);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    uint64_t committed = tu_file_size(f->path);
    size_t mlen = 9000;
    char *meta = malloc(mlen + 16);
    assert_non_null(meta);
    memcpy(meta, "{\"k\":\"", 6);
    memset(meta + 6, 'm', mlen);
    memcpy(meta + 6 + mlen, "\"}", 3);
    assert_int_equal(maif_writer_open(&w, f->path, f->key, NULL), MAIF_OK);
    tu_add_simple(w, MAIF_TYPE_TEXT, "second", 6, meta, NULL);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    free(meta);

    size_t len = 0;
    uint8_t *img = tu_read(f->path, &len);
    assert_non_null(img);
    nat_rec r;
    int trunc = 0;
    assert_int_equal(nat_rec_parse(img, len, committed, &r, &trunc, NULL, 0), MAIF_OK);
    uint64_t q = (committed + NAT_REC_HEADER + 64 + NAT_WRITE_PAGE - 1) & ~(uint64_t)(NAT_WRITE_PAGE - 1);
    uint64_t head_end = r.meta_off + r.meta_size;
    assert_true(q < head_end);
    memset(img + q, 0, head_end - q);
    assert_true(nat_rec_head_torn(img, &r));

    /* a commit follows: damage */
    assert_int_equal(tu_write(f->path, img, len), 0);
    maif_report *rep = NULL;
    assert_int_equal(maif_verify_file(f->path, NULL, &rep), MAIF_OK);
    assert_false(maif_report_ok(rep));
    assert_true(tu_has_code(rep, "chain", MAIF_SEV_ERROR));
    maif_report_free(rep);

    /* nothing after it: a torn tail */
    assert_int_equal(tu_write(f->path, img, (size_t)r.end), 0);
    assert_int_equal(maif_verify_file(f->path, NULL, &rep), MAIF_OK);
    if (!maif_report_ok(rep)) tu_dump_report(rep);
    assert_true(maif_report_ok(rep));
    assert_true(tu_has_code(rep, "torn-tail", MAIF_SEV_WARNING));
    maif_report_free(rep);
    uint64_t cut = 0;
    assert_int_equal(maif_recover(f->path, NULL, &cut), MAIF_OK);
    assert_int_equal(cut, r.end - committed);
    tu_assert_verifies_clean(f->path);

    /* the same cut with a byte that is not zero after the page boundary is damage */
    img[head_end - 1] = 'x';
    assert_false(nat_rec_head_torn(img, &r));
    assert_int_equal(tu_write(f->path, img, (size_t)r.end), 0);
    assert_int_equal(maif_verify_file(f->path, NULL, &rep), MAIF_OK);
    assert_false(maif_report_ok(rep));
    maif_report_free(rep);
    assert_int_not_equal(maif_recover(f->path, NULL, NULL), MAIF_OK);
    free(img);
}

/* Space a crashed writer reserved past the end of the file (drain reserves
 * a batch's range with fallocate before writing it) is given back when
 * the artifact is next opened for writing. */
static void test_reserved_space_returned(void **state)
{
    tu_fixture *f = *state;
    tu_write_one(f->path, f->key, "x", NULL);
    int fd = open(f->path, O_RDWR);
    assert_true(fd >= 0);
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    off_t size = st.st_size;
    if (fallocate(fd, FALLOC_FL_KEEP_SIZE, size, 8 << 20) != 0) { /* filesystem without it: nothing to test */
        close(fd);
        return;
    }
    assert_int_equal(fstat(fd, &st), 0);
    assert_true(st.st_blocks * 512 >= 8 << 20);
    close(fd);
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_open(&w, f->path, f->key, NULL), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    assert_int_equal(stat(f->path, &st), 0);
    assert_int_equal(st.st_size, size);
    assert_true(st.st_blocks * 512 < 1 << 20);
    tu_assert_verifies_clean(f->path);
}

/* Disk full at every point of a commit: with the file-size limit set to
 * each offset in turn (step 7 bytes) across one batch, its index and its
 * commit record, the writer either commits or fails with MAIF_EIO; either
 * way the artifact then opens with exactly the batches that committed,
 * verifies (a torn-tail warning allowed), recovers, and takes new batches. */
static void test_disk_full_sweep(void **state)
{
    tu_fixture *f = *state;
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->key, "sweep", NULL), MAIF_OK);
    tu_add_simple(w, MAIF_TYPE_TEXT, "base", 4, "{\"k\":1}", NULL);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    size_t base_len;
    uint8_t *base = tu_read(f->path, &base_len);
    assert_non_null(base);
    char *path = tu_path(f->dir, "sweep.maif");
    struct rlimit old;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
    int failures = 0, successes = 0;
    for (uint64_t extra = 0;; extra += 7) {
        assert_int_equal(tu_write(path, base, base_len), 0);
        assert_int_equal(maif_writer_open(&w, path, f->key, (extra / 7) % 5 == 0 ? tu_flag(MAIF_OPT_DURABLE) : NULL), MAIF_OK);
        struct rlimit lim = old;
        lim.rlim_cur = base_len + extra;
        assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
        int rc = MAIF_OK;
        for (int i = 0; i < 5 && rc == MAIF_OK; i++) {
            char meta[32];
            snprintf(meta, sizeof meta, "{\"i\":%d}", i);
            maif_block_spec sp = {.type = MAIF_TYPE_TEXT, .payload = "0123456789abcdef", .payload_size = 16,
                                  .meta_json = meta, .meta_size = strlen(meta)};
            /* blocks 1 and 2 are borrowed: their writes happen at the add of
             * block 3, the others' at their own add or at the commit */
            rc = (i == 1 || i == 2 ? maif_writer_add_borrowed : maif_writer_add)(w, &sp, NULL);
        }
        if (rc == MAIF_OK) rc = maif_writer_commit(w);
        assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
        assert_true(rc == MAIF_OK || rc == MAIF_EIO);
        maif_writer_close(w);
        uint64_t want = rc == MAIF_OK ? 6 : 1;
        rc == MAIF_OK ? successes++ : failures++;
        maif_reader *r = NULL;
        assert_int_equal(maif_reader_open(&r, path), MAIF_OK);
        assert_int_equal(maif_reader_count(r), want);
        maif_reader_close(r);
        maif_report *rep = NULL;
        assert_int_equal(maif_verify_file(path, NULL, &rep), MAIF_OK);
        if (!maif_report_ok(rep)) {
            tu_dump_report(rep);
            fail_msg("file-size limit %llu: verify failed", (unsigned long long)(base_len + extra));
        }
        maif_report_free(rep);
        assert_int_equal(maif_recover(path, NULL, NULL), MAIF_OK);
        assert_int_equal(maif_writer_open(&w, path, f->key, NULL), MAIF_OK);
        tu_add_simple(w, MAIF_TYPE_TEXT, "after", 5, NULL, NULL);
        assert_int_equal(maif_writer_commit(w), MAIF_OK);
        assert_int_equal(maif_writer_close(w), MAIF_OK);
        tu_assert_verifies_clean(path);
        if (want == 6) break; /* the whole batch fit: the sweep has crossed every write */
    }
    signal(SIGXFSZ, prev);
    printf("disk-full sweep: %d limits failed cleanly, then the batch fit\n", failures);
    assert_true(failures > 100);
    assert_int_equal(successes, 1);
    free(base);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_io_error_kills_writer, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_large_payloads_and_zero_header, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_head_cut_at_page, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_reserved_space_returned, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_disk_full_sweep, tu_setup, tu_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
