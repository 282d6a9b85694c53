/*
 * test_writer.c — the native writer through the public API: rollback,
 * reopen for append and locking, create over an existing file, bad
 * metadata, borrowed payloads mixed with copied ones, the single-CPU path
 * (no helper thread) and large payloads copied and written later.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "format/native/native_writer.h"

/* Pending blocks are invisible to readers; rollback and close discard them. */
static void test_rollback(void **state)
{
    tu_fixture *f = *state;
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->key, NULL, NULL), MAIF_OK);
    tu_add_simple(w, MAIF_TYPE_TEXT, "keep0", 5, NULL, NULL);
    tu_add_simple(w, MAIF_TYPE_TEXT, "keep1", 5, "{\"a\":1}", NULL);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    uint64_t committed = tu_file_size(f->path);

    /* small and large (written straight to the file) pending blocks */
    size_t big = 600 << 10;
    uint8_t *p = malloc(big);
    assert_non_null(p);
    tu_pattern(p, big, 42);
    tu_add_simple(w, MAIF_TYPE_BINARY, p, big, NULL, NULL);
    tu_add_simple(w, MAIF_TYPE_TEXT, "drop", 4, NULL, NULL);
    tu_add_simple(w, MAIF_TYPE_BINARY, p, big, "{\"b\":2}", NULL);
    assert_int_equal(maif_writer_count(w), 5);
    assert_true(tu_file_size(f->path) > committed);

    /* a reader now sees only the committed batch and counts the torn bytes */
    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    assert_int_equal(maif_reader_count(r), 2);
    maif_info info;
    assert_int_equal(maif_reader_info(r, &info), MAIF_OK);
    assert_int_equal(info.file_size, committed);
    assert_true(info.torn_bytes > 0);
    maif_reader_close(r);

    assert_int_equal(maif_writer_rollback(w), MAIF_OK);
    assert_int_equal(maif_writer_count(w), 2);
    assert_int_equal(tu_file_size(f->path), committed);
    assert_int_equal(maif_writer_rollback(w), MAIF_OK); /* idempotent */
    tu_add_simple(w, MAIF_TYPE_TEXT, "after", 5, NULL, NULL);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    uint64_t committed2 = tu_file_size(f->path);
    /* close with pending blocks rolls back */
    tu_add_simple(w, MAIF_TYPE_BINARY, p, big, NULL, NULL);
    tu_add_simple(w, MAIF_TYPE_TEXT, "lost", 4, NULL, NULL);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    assert_int_equal(tu_file_size(f->path), committed2);
    free(p);

    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    assert_int_equal(maif_reader_count(r), 3);
    const char *want[] = {"keep0", "keep1", "after"};
    for (int i = 0; i < 3; i++) {
        maif_block b;
        assert_int_equal(maif_reader_block(r, (uint64_t)i, &b), MAIF_OK);
        assert_int_equal(b.payload_size, 5);
        assert_memory_equal(b.payload, want[i], 5);
    }
    assert_int_equal(maif_reader_info(r, &info), MAIF_OK);
    assert_int_equal(info.commit_count, 3);
    assert_int_equal(info.torn_bytes, 0);
    maif_reader_close(r);
    tu_assert_verifies_clean(f->path);
}

/* Reopening continues the numbering; a second writer is locked out. */
static void test_reopen_and_lock(void **state)
{
    tu_fixture *f = *state;
    maif_writer *w = NULL, *w2 = NULL;
    assert_int_equal(maif_writer_open(&w, f->path, f->key, NULL), MAIF_ENOTFOUND);
    assert_null(w);
    assert_int_equal(maif_writer_create(&w, f->path, f->key, "a", NULL), MAIF_OK);
    tu_add_simple(w, MAIF_TYPE_TEXT, "b0", 2, NULL, NULL);
    tu_add_simple(w, MAIF_TYPE_TEXT, "b1", 2, NULL, NULL);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);

    assert_int_equal(maif_writer_open(&w2, f->path, f->key, NULL), MAIF_ELOCKED);
    assert_null(w2);
    assert_true(strlen(maif_last_errmsg()) > 0);
    assert_int_equal(maif_recover(f->path, NULL, NULL), MAIF_ELOCKED);
    /* readers are not locked out */
    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    assert_int_equal(maif_reader_count(r), 2);
    maif_reader_close(r);
    assert_int_equal(maif_writer_close(w), MAIF_OK);

    /* a different key may append: commits record their own signer */
    maif_key *k2 = NULL;
    assert_int_equal(maif_key_generate(&k2), MAIF_OK);
    assert_int_equal(maif_writer_open(&w, f->path, k2, NULL), MAIF_OK);
    assert_int_equal(maif_writer_count(w), 2);
    uint8_t id[MAIF_ID_BYTES];
    tu_add_simple(w, MAIF_TYPE_TEXT, "b2", 2, NULL, id);
    tu_add_simple(w, MAIF_TYPE_TEXT, "b3", 2, NULL, NULL);
    assert_int_equal(maif_writer_count(w), 4);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_commit(w), MAIF_OK); /* an empty re-seal */
    assert_int_equal(maif_writer_close(w), MAIF_OK);

    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    assert_int_equal(maif_reader_count(r), 4);
    for (uint64_t i = 0; i < 4; i++) {
        maif_block b;
        char want[3] = {'b', (char)('0' + i), 0};
        assert_int_equal(maif_reader_block(r, i, &b), MAIF_OK);
        assert_memory_equal(b.payload, want, 2);
    }
    uint64_t at;
    assert_int_equal(maif_reader_find(r, id, &at), MAIF_OK);
    assert_int_equal(at, 2);
    maif_info info;
    assert_int_equal(maif_reader_info(r, &info), MAIF_OK);
    assert_int_equal(info.commit_count, 4);
    assert_string_equal(info.agent, "a");
    uint8_t pk2[32];
    maif_key_public(k2, pk2);
    assert_memory_equal(info.signer, pk2, 32);
    maif_reader_close(r);

    /* both signers show up in the report */
    maif_report *rep = NULL;
    assert_int_equal(maif_verify_file(f->path, NULL, &rep), MAIF_OK);
    assert_true(maif_report_ok(rep));
    assert_int_equal(maif_report_blocks(rep), 4);
    assert_int_equal(maif_report_signer_count(rep), 2);
    maif_report_free(rep);
    maif_key_free(k2);
}

static void test_create_existing(void **state)
{
    tu_fixture *f = *state;
    tu_write_one(f->path, f->key, "x", NULL);
    maif_writer *w = NULL;
    size_t n0, n1;
    uint8_t *before = tu_read(f->path, &n0);
    assert_non_null(before);

    assert_int_equal(maif_writer_create(&w, f->path, f->key, NULL, NULL), MAIF_EEXIST);
    assert_null(w);
    assert_true(strlen(maif_last_errmsg()) > 0);
    uint8_t *after = tu_read(f->path, &n1);
    assert_int_equal(n0, n1);
    assert_memory_equal(before, after, n0);
    free(after);
    free(before);
    /* no temporary file left behind */
    char *cmd = NULL;
    assert_true(asprintf(&cmd, "test $(ls -A '%s' | wc -l) -eq 1", f->dir) > 0);
    assert_int_equal(system(cmd), 0);
    free(cmd);

    assert_int_equal(maif_writer_create(&w, f->path, f->key, NULL, tu_flag(MAIF_OPT_OVERWRITE)), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    assert_int_equal(maif_reader_count(r), 0);
    maif_reader_close(r);
    tu_assert_verifies_clean(f->path);

    /* a missing directory */
    char *bad = tu_path(f->dir, "no/such/dir.maif");
    assert_int_not_equal(maif_writer_create(&w, bad, f->key, NULL, NULL), MAIF_OK);
    assert_null(w);
    free(bad);
}

static void test_bad_metadata(void **state)
{
    tu_fixture *f = *state;
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->key, NULL, NULL), MAIF_OK);
    tu_add_simple(w, MAIF_TYPE_TEXT, "good", 4, "{\"ok\":true}", NULL);
    const char *bad[] = {"{bad", "[1,2]", "\"str\"", "42", "{\"a\":1,\"a\":2}", "{\"a\":1} x", "{\"a\":NaN}",
                         "{\"a\":\"\xff\"}", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        maif_block_spec s = {.type = MAIF_TYPE_TEXT, .payload = "bad", .payload_size = 3, .meta_json = bad[i],
                             .meta_size = strlen(bad[i])};
        int rc = maif_writer_add(w, &s, NULL);
        if (bad[i][0] == 0) {
            assert_int_equal(rc, MAIF_OK); /* meta_size 0 means no metadata */
            assert_int_equal(maif_writer_rollback(w), MAIF_OK);
            tu_add_simple(w, MAIF_TYPE_TEXT, "good", 4, "{\"ok\":true}", NULL);
            continue;
        }
        if (rc != MAIF_EJSON) fail_msg("metadata %s: got %d, want MAIF_EJSON", bad[i], rc);
        assert_true(strlen(maif_writer_errmsg(w)) > 0);
        assert_int_equal(maif_writer_count(w), 1);
    }
    /* meta_size bounds the text: trailing bytes past it are not read */
    maif_block_spec s = {.type = MAIF_TYPE_TEXT, .payload = "m", .payload_size = 1, .meta_json = "{\"k\":1}GARBAGE",
                         .meta_size = 7};
    assert_int_equal(maif_writer_add(w, &s, NULL), MAIF_OK);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);

    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    assert_int_equal(maif_reader_count(r), 2);
    maif_block b;
    assert_int_equal(maif_reader_block(r, 0, &b), MAIF_OK);
    assert_memory_equal(b.payload, "good", 4);
    assert_int_equal(maif_reader_block(r, 1, &b), MAIF_OK);
    assert_int_equal(b.meta_size, 7);
    assert_memory_equal(b.meta, "{\"k\":1}", 7);
    maif_reader_close(r);
    tu_assert_verifies_clean(f->path);
}

/* Block i of a and of b, which must sit at the same offset with the same
 * content hash. */
static void same_place(maif_reader *a, maif_reader *b, uint64_t i, maif_block *x, maif_block *y)
{
    assert_int_equal(maif_reader_block(a, i, x), MAIF_OK);
    assert_int_equal(maif_reader_block(b, i, y), MAIF_OK);
    assert_int_equal(x->offset, y->offset);
    assert_memory_equal(x->content_hash, y->content_hash, 32);
}

/* Borrowed payloads mixed with copied ones: the same sequence of blocks
 * written with maif_writer_add and with maif_writer_add_borrowed (fixed ids
 * and timestamps) lands at the same offsets with the same content hashes
 * and metadata; both files verify; rollback and close drop borrowed blocks
 * that were never committed. Sizes cover empty, unaligned, small and
 * multi-MiB payloads (the last are written and hashed on a pool). */
static void write_mixed(const char *path, const maif_key *key, int borrow_mask, uint8_t *const bufs[6],
                        const size_t sizes[6])
{
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, path, key, "mix", tu_flag(MAIF_OPT_OVERWRITE)), MAIF_OK);
    uint8_t ids[6][16];
    for (int i = 0; i < 6; i++) {
        memset(ids[i], 0xa0 + i, 16);
        char meta[64];
        snprintf(meta, sizeof meta, "{\"i\":%d,\"source\":\"test\"}", i);
        maif_block_spec s = {.type = MAIF_TYPE_BINARY, .payload = bufs[i], .payload_size = sizes[i],
                             .meta_json = i == 3 ? NULL : meta, .meta_size = i == 3 ? 0 : strlen(meta),
                             .id = ids[i], .timestamp_us = 1000000 + (uint64_t)i,
                             .supersedes = i == 4 ? ids[0] : NULL};
        int borrow = (borrow_mask >> i) & 1;
        assert_int_equal((borrow ? maif_writer_add_borrowed : maif_writer_add)(w, &s, NULL), MAIF_OK);
        if (i == 2) {
            assert_int_equal(maif_writer_commit(w), MAIF_OK);
        }
    }
    assert_int_equal(maif_writer_count(w), 6);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    /* borrowed blocks that are rolled back, or never committed, vanish */
    maif_block_spec s = {.type = MAIF_TYPE_TEXT, .payload = "gone", .payload_size = 4};
    assert_int_equal(maif_writer_add_borrowed(w, &s, NULL), MAIF_OK);
    assert_int_equal(maif_writer_add_borrowed(w, &s, NULL), MAIF_OK);
    assert_int_equal(maif_writer_count(w), 8);
    assert_int_equal(maif_writer_rollback(w), MAIF_OK);
    assert_int_equal(maif_writer_count(w), 6);
    assert_int_equal(maif_writer_add_borrowed(w, &s, NULL), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
}

static void test_borrowed_payloads(void **state)
{
    tu_fixture *f = *state;
    const size_t sizes[6] = {3u << 20, 0, 13, (3u << 20) + 5, 1u << 20, 100};
    uint8_t *bufs[6];
    for (int i = 0; i < 6; i++) bufs[i] = tu_pattern_new(sizes[i], 70 + (uint64_t)i);
    char *copy = tu_path(f->dir, "copied.maif");
    write_mixed(copy, f->key, 0, bufs, sizes);
    const int masks[] = {0x3f, 0x2b, 0x14, 0x01, 0x20};
    for (size_t m = 0; m < sizeof masks / sizeof masks[0]; m++) {
        write_mixed(f->path, f->key, masks[m], bufs, sizes);
        tu_assert_verifies_clean(f->path);
        maif_reader *a = NULL, *b = NULL;
        assert_int_equal(maif_reader_open(&a, f->path), MAIF_OK);
        assert_int_equal(maif_reader_open(&b, copy), MAIF_OK);
        assert_int_equal(maif_reader_count(a), 6);
        assert_int_equal(maif_reader_count(b), 6);
        for (uint64_t i = 0; i < 6; i++) {
            maif_block x, y;
            same_place(a, b, i, &x, &y);
            assert_memory_equal(x.id, y.id, 16);
            assert_int_equal(x.timestamp_us, y.timestamp_us);
            assert_int_equal(x.has_supersedes, i == 4);
            assert_int_equal(x.meta_size, y.meta_size);
            if (x.meta_size) assert_memory_equal(x.meta, y.meta, x.meta_size);
            assert_int_equal(x.payload_size, sizes[i]);
            assert_true(tu_check_pattern(x.payload, x.payload_size, 70 + i));
        }
        maif_reader_close(a);
        maif_reader_close(b);
    }
    tu_assert_verifies_clean(copy);
    free(copy);
    for (int i = 0; i < 6; i++) free(bufs[i]);
}

/* With the writing thread pinned to one CPU the writer starts no helper
 * thread and hashes inline; the files it writes are the same (offsets and
 * content hashes of a mixed batch match the two-CPU run's) and verify. */
static void test_single_cpu(void **state)
{
    tu_fixture *f = *state;
    const size_t sizes[6] = {2u << 20, 0, 13, (1u << 20) + 5, 1000, 100};
    uint8_t *bufs[6];
    for (int i = 0; i < 6; i++) bufs[i] = tu_pattern_new(sizes[i], 90 + (uint64_t)i);
    char *multi = tu_path(f->dir, "multi.maif");
    write_mixed(multi, f->key, 0x2b, bufs, sizes);
    int ncpu = tu_cpu_pin_one();
    write_mixed(f->path, f->key, 0x2b, bufs, sizes);
    maif_writer *w = NULL; /* many small blocks, as the hasher would take them */
    assert_int_equal(maif_writer_open(&w, f->path, f->key, NULL), MAIF_OK);
    assert_null(w->hasher);
    for (int i = 0; i < 3000; i++) tu_add_simple(w, MAIF_TYPE_TEXT, bufs[4], 1 + (size_t)i % 999, NULL, NULL);
    assert_null(w->hasher);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    tu_cpu_unpin();
    tu_assert_verifies_clean(f->path);
    maif_reader *a = NULL, *b = NULL;
    assert_int_equal(maif_reader_open(&a, f->path), MAIF_OK);
    assert_int_equal(maif_reader_open(&b, multi), MAIF_OK);
    assert_int_equal(maif_reader_count(a), 3006);
    for (uint64_t i = 0; i < 6; i++) {
        maif_block x, y;
        same_place(a, b, i, &x, &y);
    }
    maif_reader_close(a);
    maif_reader_close(b);
    /* and with two CPUs the same small blocks go through the helper */
    if (ncpu > 1) {
        assert_int_equal(maif_writer_open(&w, multi, f->key, NULL), MAIF_OK);
        tu_add_simple(w, MAIF_TYPE_TEXT, "x", 1, NULL, NULL);
        assert_non_null(w->hasher);
        assert_int_equal(maif_writer_commit(w), MAIF_OK);
        assert_int_equal(maif_writer_close(w), MAIF_OK);
        tu_assert_verifies_clean(multi);
    }
    free(multi);
    for (int i = 0; i < 6; i++) free(bufs[i]);
}

/* maif_writer_add copies large payloads (when two CPUs are usable) and
 * writes them later: the caller may reuse its buffer at once. 40 payloads
 * of about 1 MiB from one reused buffer (more than the 16 MiB the writer
 * keeps, so it drains on the way), small blocks between, one rolled-back
 * batch: every committed payload reads back as written, and the file
 * verifies. */
static void test_large_copies(void **state)
{
    tu_fixture *f = *state;
    size_t cap = (1u << 20) + 16384;
    uint8_t *buf = malloc(cap);
    assert_non_null(buf);
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->key, "copies", NULL), MAIF_OK);
    uint64_t n = 0;
    for (int i = 0; i < 40; i++, n++) {
        size_t len = (1u << 20) - 4096 + (size_t)i * 211; /* around 1 MiB, unaligned */
        tu_pattern(buf, len, 500 + (uint64_t)i);
        maif_block_spec sp = {.type = MAIF_TYPE_BINARY, .payload = buf, .payload_size = len};
        assert_int_equal(maif_writer_add(w, &sp, NULL), MAIF_OK);
        memset(buf, 0xee, cap); /* the writer must not be reading this any more */
        if (i % 7 == 3) {
            tu_add_simple(w, MAIF_TYPE_TEXT, "between", 7, NULL, NULL);
            n++;
        }
        if (i % 10 == 9) assert_int_equal(maif_writer_commit(w), MAIF_OK);
    }
    tu_pattern(buf, 300000, 999);
    maif_block_spec sp = {.type = MAIF_TYPE_BINARY, .payload = buf, .payload_size = 300000};
    assert_int_equal(maif_writer_add(w, &sp, NULL), MAIF_OK);
    assert_int_equal(maif_writer_rollback(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    tu_assert_verifies_clean(f->path);
    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    assert_int_equal(maif_reader_count(r), n);
    for (uint64_t i = 0, k = 0; k < 40; k++) {
        maif_block b;
        assert_int_equal(maif_reader_block(r, i++, &b), MAIF_OK);
        assert_int_equal(b.payload_size, (1u << 20) - 4096 + k * 211);
        assert_true(tu_check_pattern(b.payload, b.payload_size, 500 + k));
        if (k % 7 == 3) {
            assert_int_equal(maif_reader_block(r, i++, &b), MAIF_OK);
            assert_memory_equal(b.payload, "between", 7);
        }
    }
    maif_reader_close(r);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_rollback, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_reopen_and_lock, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_create_existing, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_bad_metadata, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_borrowed_payloads, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_single_cpu, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_large_copies, tu_setup, tu_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
