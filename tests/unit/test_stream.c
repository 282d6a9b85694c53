/*
 * test_stream.c — input hardening: the streaming add (same layout as a
 * copied add, byte for byte; a source over its limit or failing leaves no
 * byte of the block; memory bounded by a chunk), block drafts (one
 * embedding rule for "vector" and "base64", UTF-8 text, also when it
 * streams), and the one torn-write rule that recovery, opening for append
 * and the verifier share (FORMAT.md §9), tested both ways.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "format/native/native.h"
#include "util/common.h"

static void assert_verifies_clean(const char *path)
{
    maif_report *rep = NULL;
    assert_int_equal(maif_verify_file(path, NULL, &rep), MAIF_OK);
    assert_true(maif_report_ok(rep));
    assert_false(tu_has_code(rep, "torn-tail", -1));
    maif_report_free(rep);
}

/* An endless source of a repeating pattern (like /dev/zero, but not zero). */
static int64_t endless_read(void *ctx, void *buf, size_t cap)
{
    uint64_t *count = ctx;
    memset(buf, 0x5a, cap);
    *count += cap;
    return (int64_t)cap;
}

/* -------------------------------------------------------- stream layout */

#define NSIZES 6
static const size_t sizes[NSIZES] = {0, 5, 4096, (1u << 20) + 3, 3u << 20, (256u << 10)};

/* The same blocks (fixed ids and timestamps, metadata, a supersedes link)
 * written with maif_writer_add to one copy of a committed artifact and
 * streamed (in odd-sized pieces) to another give identical block records,
 * byte for byte, and both verify. */
static void test_stream_same_layout(void **state)
{
    tu_fixture *f = *state;
    char *copy = tu_path(f->dir, "b.maif");
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->key, "stream", NULL), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    size_t n0;
    uint8_t *base = tu_read(f->path, &n0);
    assert_non_null(base);
    assert_int_equal(tu_write(copy, base, n0), 0);
    free(base);

    uint8_t *bufs[NSIZES];
    for (int i = 0; i < NSIZES; i++) {
        bufs[i] = malloc(sizes[i] + 1);
        assert_non_null(bufs[i]);
        tu_xorshift_fill(bufs[i], sizes[i], (uint64_t)i + 7);
    }
    for (int streamed = 0; streamed < 2; streamed++) {
        assert_int_equal(maif_writer_open(&w, streamed ? copy : f->path, f->key, NULL), MAIF_OK);
        uint8_t ids[NSIZES][MAIF_ID_BYTES];
        for (int i = 0; i < NSIZES; i++) {
            memset(ids[i], 0x30 + i, MAIF_ID_BYTES);
            char meta[64];
            snprintf(meta, sizeof meta, "{\"z\":%d, \"a\":\"x\"}", i);
            maif_block_spec s = {.type = MAIF_TYPE_BINARY, .meta_json = i == 2 ? NULL : meta,
                                 .meta_size = i == 2 ? 0 : strlen(meta), .id = ids[i],
                                 .timestamp_us = 5000000 + (uint64_t)i, .supersedes = i == 4 ? ids[1] : NULL};
            uint8_t got[MAIF_ID_BYTES];
            /* the streamed copy mixes in one copied block, so that the stream
             * follows records still buffered */
            if (!streamed || i == 1) {
                s.payload = bufs[i];
                s.payload_size = sizes[i];
                assert_int_equal(maif_writer_add(w, &s, got), MAIF_OK);
            } else {
                tu_mem_src src = {bufs[i], sizes[i], 0, 777 + (size_t)i * 1000, 0};
                assert_int_equal(maif_writer_add_stream(w, &s, tu_mem_read, &src, sizes[i], got), MAIF_OK);
            }
            assert_memory_equal(got, ids[i], MAIF_ID_BYTES);
        }
        assert_int_equal(maif_writer_commit(w), MAIF_OK);
        assert_int_equal(maif_writer_close(w), MAIF_OK);
    }
    assert_verifies_clean(f->path);
    assert_verifies_clean(copy);

    size_t na, nb;
    uint8_t *a = tu_read(f->path, &na), *b = tu_read(copy, &nb);
    assert_non_null(a);
    assert_non_null(b);
    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    uint64_t blocks_end = 0;
    maif_record rec;
    for (uint64_t i = 0; maif_reader_record(r, i, &rec) == MAIF_OK; i++)
        if (strcmp(rec.kind, "block") == 0) blocks_end = rec.offset + rec.size;
    maif_reader_close(r);
    assert_true(blocks_end > n0 && blocks_end <= na && blocks_end <= nb);
    assert_memory_equal(a + n0, b + n0, (size_t)(blocks_end - n0));
    free(a);
    free(b);
    for (int i = 0; i < NSIZES; i++) free(bufs[i]);
    free(copy);
}

/* Over the limit, or a failing source: the call fails, nothing of the
 * block stays in the file, earlier pending blocks stay pending, and the
 * writer goes on. */
static void test_stream_abandoned(void **state)
{
    tu_fixture *f = *state;
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->key, NULL, NULL), MAIF_OK);
    uint64_t committed = tu_file_size(f->path);
    maif_block_spec s = {.type = MAIF_TYPE_TEXT, .payload = "kept", .payload_size = 4};
    assert_int_equal(maif_writer_add(w, &s, NULL), MAIF_OK);

    static uint8_t big[(2u << 20) + 10];
    tu_xorshift_fill(big, sizeof big, 3);
    maif_block_spec st = {.type = MAIF_TYPE_BINARY, .meta_json = "{\"k\":1}", .meta_size = 7};
    /* a limit one byte short */
    tu_mem_src src = {big, sizeof big, 0, 0, 0};
    assert_int_equal(maif_writer_add_stream(w, &st, tu_mem_read, &src, sizeof big - 1, NULL), MAIF_ELIMIT);
    assert_non_null(strstr(maif_writer_errmsg(w), "limit"));
    uint64_t after_limit = tu_file_size(f->path);
    /* an endless source with a small limit stops right after it */
    uint64_t served = 0;
    assert_int_equal(maif_writer_add_stream(w, &st, endless_read, &served, 100000, NULL), MAIF_ELIMIT);
    assert_true(served <= 100001 + MAIF_STREAM_CHUNK);
    assert_int_equal(tu_file_size(f->path), after_limit);
    /* a source that fails after more than a chunk has been written */
    src = (tu_mem_src){big, sizeof big, 0, 0, (1u << 20) + 5};
    assert_int_equal(maif_writer_add_stream(w, &st, tu_mem_read, &src, 0, NULL), MAIF_EIO);
    assert_int_equal(tu_file_size(f->path), after_limit);
    assert_true(after_limit <= committed + 4096); /* only the small pending block, at most */
    /* bad arguments */
    maif_block_spec withpay = {.type = MAIF_TYPE_BINARY, .payload = "x", .payload_size = 1};
    assert_int_equal(maif_writer_add_stream(w, &withpay, tu_mem_read, &src, 0, NULL), MAIF_EINVAL);
    assert_int_equal(maif_writer_add_stream(w, &st, NULL, NULL, 0, NULL), MAIF_EINVAL);
    assert_int_equal(maif_writer_count(w), 1);

    /* closing without a commit leaves exactly the committed bytes */
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    assert_int_equal(tu_file_size(f->path), committed);

    /* the writer goes on after an abandoned block: the batch keeps the rest */
    assert_int_equal(maif_writer_open(&w, f->path, f->key, NULL), MAIF_OK);
    assert_int_equal(maif_writer_add(w, &s, NULL), MAIF_OK);
    src = (tu_mem_src){big, sizeof big, 0, 0, 0};
    assert_int_equal(maif_writer_add_stream(w, &st, tu_mem_read, &src, 10, NULL), MAIF_ELIMIT);
    src = (tu_mem_src){big, sizeof big, 0, 4093, 0};
    assert_int_equal(maif_writer_add_stream(w, &st, tu_mem_read, &src, 0, NULL), MAIF_OK);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    assert_verifies_clean(f->path);
    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    assert_int_equal(maif_reader_count(r), 2);
    maif_block b;
    assert_int_equal(maif_reader_block(r, 1, &b), MAIF_OK);
    assert_int_equal(b.payload_size, sizeof big);
    assert_memory_equal(b.payload, big, sizeof big);
    maif_reader_close(r);
}

static uint64_t vm_hwm_kib(void)
{
    FILE *fp = fopen("/proc/self/status", "r");
    if (!fp) return 0;
    char line[256];
    uint64_t v = 0;
    while (fgets(line, sizeof line, fp))
        if (sscanf(line, "VmHWM: %lu kB", &v) == 1) break;
    fclose(fp);
    return v;
}

/* 200 MiB streamed: the peak resident size grows by far less than 64 MiB. */
static void test_stream_memory_bounded(void **state)
{
    tu_fixture *f = *state;
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->key, NULL, NULL), MAIF_OK);
    uint64_t before = vm_hwm_kib();
    uint64_t served = 0;
    maif_block_spec s = {.type = MAIF_TYPE_BINARY};
    assert_int_equal(maif_writer_add_stream(w, &s, endless_read, &served, 200u << 20, NULL), MAIF_ELIMIT);
    assert_true(served > (200u << 20));
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    uint64_t after = vm_hwm_kib();
    if (before == 0) skip();
    assert_true(after - before < (64u << 10)); /* KiB */
}

/* maif_writer_add_fd: a pipe, a regular file, its limit, a failing read. */
static void test_stream_fd(void **state)
{
    tu_fixture *f = *state;
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->key, NULL, NULL), MAIF_OK);
    uint64_t committed = tu_file_size(f->path);
    maif_block_spec s = {.type = MAIF_TYPE_BINARY};
    int p[2];
    assert_int_equal(pipe(p), 0);
    static uint8_t data[40000];
    tu_xorshift_fill(data, sizeof data, 9);
    assert_int_equal(write(p[1], data, sizeof data), (ssize_t)sizeof data);
    close(p[1]);
    assert_int_equal(maif_writer_add_fd(w, &s, p[0], 0, NULL), MAIF_OK);
    close(p[0]);
    char *in = tu_path(f->dir, "in.bin");
    assert_int_equal(tu_write(in, data, sizeof data), 0);
    int fd = open(in, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(maif_writer_add_fd(w, &s, fd, sizeof data - 1, NULL), MAIF_ELIMIT);
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    assert_int_equal(maif_writer_add_fd(w, &s, fd, sizeof data, NULL), MAIF_OK);
    close(fd);
    fd = open(in, O_WRONLY); /* reading it fails */
    assert_true(fd >= 0);
    assert_int_equal(maif_writer_add_fd(w, &s, fd, 0, NULL), MAIF_EIO);
    assert_non_null(strstr(maif_writer_errmsg(w), "reading the payload"));
    close(fd);
    assert_int_equal(maif_writer_add_fd(w, &s, -1, 0, NULL), MAIF_EINVAL);
    assert_int_equal(maif_writer_count(w), 2);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    assert_true(tu_file_size(f->path) > committed);
    assert_verifies_clean(f->path);
    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    for (uint64_t i = 0; i < 2; i++) {
        maif_block b;
        assert_int_equal(maif_reader_block(r, i, &b), MAIF_OK);
        assert_int_equal(b.payload_size, sizeof data);
        assert_memory_equal(b.payload, data, sizeof data);
    }
    maif_reader_close(r);
    free(in);
}

/* --------------------------------------------------------------- drafts */

static int draft_rc(const char *json)
{
    maif_block_draft *d = NULL;
    int rc = maif_block_draft_from_json(&d, json, strlen(json));
    assert_true(rc == MAIF_OK ? d != NULL : d == NULL);
    maif_block_draft_free(d);
    return rc;
}

static void test_draft_embedding_rule(void **state)
{
    /* base64 is checked like a vector: bad dimensions, NaN, infinity */
    assert_int_equal(draft_rc("{\"type\":\"embedding\",\"base64\":\"AAAAAAAAAAA=\",\"meta\":{\"dimensions\":0}}"),
                     MAIF_EINVAL);
    assert_int_equal(draft_rc("{\"type\":\"embedding\",\"base64\":\"AAAAAAAAAAA=\",\"meta\":{\"dimensions\":-1}}"),
                     MAIF_EINVAL);
    assert_int_equal(draft_rc("{\"type\":\"embedding\",\"base64\":\"AAAAAAAAAAA=\",\"meta\":{\"dimensions\":\"2\"}}"),
                     MAIF_EINVAL);
    assert_non_null(strstr(maif_last_errmsg(), "dimensions"));
    assert_int_equal(draft_rc("{\"type\":\"embedding\",\"base64\":\"AAAAAAAAAAA=\",\"meta\":{\"dimensions\":3}}"),
                     MAIF_EINVAL);
    assert_int_equal(draft_rc("{\"type\":\"embedding\",\"base64\":\"AADAfw==\"}"), MAIF_EINVAL); /* NaN */
    assert_non_null(strstr(maif_last_errmsg(), "finite"));
    assert_int_equal(draft_rc("{\"type\":\"embedding\",\"base64\":\"AACAfw==\"}"), MAIF_EINVAL); /* +inf */
    assert_int_equal(draft_rc("{\"type\":\"embedding\",\"base64\":\"AAAA\"}"), MAIF_EINVAL);     /* 3 bytes */
    assert_int_equal(draft_rc("{\"type\":\"embedding\",\"vector\":[1,2],\"meta\":{\"dimensions\":3}}"), MAIF_EINVAL);
    assert_int_equal(draft_rc("{\"type\":\"embedding\",\"vector\":[1e39]}"), MAIF_EINVAL);
    assert_int_equal(draft_rc("{\"type\":\"embedding\",\"vector\":[1,2],\"meta\":{\"dtype\":\"f16\"}}"), MAIF_EINVAL);
    assert_int_equal(draft_rc("{\"type\":\"text\",\"vector\":[1]}"), MAIF_EINVAL);
    assert_int_equal(draft_rc("{\"type\":\"text\",\"text\":\"a\",\"file\":\"b\"}"), MAIF_EINVAL);
    assert_int_equal(draft_rc("{\"type\":\"text\",\"text\":\"a\",\"meta\":{\"a\":1,\"a\":2}}"), MAIF_EJSON);
    assert_int_equal(draft_rc("{\"type\":\"text\",\"base64\":\"/w==\"}"), MAIF_EINVAL); /* 0xff: not UTF-8 */

    /* good: two rows of two, from either form, same payload and metadata */
    const char *forms[] = {
        "{\"type\":\"embedding\",\"base64\":\"AACAPwAAAEAAAEBAAACAQA==\",\"meta\":{\"dimensions\":2,\"m\":\"x\"}}",
        "{\"type\":\"embedding\",\"vector\":[[1,2],[3,4]],\"meta\":{\"m\":\"x\",\"count\":2}}",
    };
    for (int i = 0; i < 2; i++) {
        maif_block_draft *d = NULL;
        assert_int_equal(maif_block_draft_from_json(&d, forms[i], strlen(forms[i])), MAIF_OK);
        maif_block_spec s;
        assert_int_equal(maif_block_draft_spec(d, &s), MAIF_OK);
        static const uint8_t want[16] = {0, 0, 0x80, 0x3f, 0, 0, 0, 0x40, 0, 0, 0x40, 0x40, 0, 0, 0x80, 0x40};
        assert_int_equal(s.payload_size, 16);
        assert_memory_equal(s.payload, want, 16);
        const char *meta = "{\"count\":2,\"dimensions\":2,\"dtype\":\"float32\",\"m\":\"x\"}";
        assert_int_equal(s.meta_size, strlen(meta));
        assert_memory_equal(s.meta_json, meta, strlen(meta));
        maif_block_draft_free(d);
    }
    /* an embedding whose JSON comes from a source is read whole, then checked */
    maif_writer *w = NULL;
    tu_fixture *f = *state;
    assert_int_equal(maif_writer_create(&w, f->path, f->key, NULL, NULL), MAIF_OK);
    maif_block_draft *e = NULL;
    assert_int_equal(maif_block_draft_new(&e, MAIF_TYPE_EMBEDDING, NULL, 0), MAIF_OK);
    assert_int_equal(maif_block_draft_type(e), MAIF_TYPE_EMBEDDING);
    const char *rows = "[[1,2],[3,4]]";
    tu_mem_src src = {(const uint8_t *)rows, strlen(rows), 0, 3, 0};
    assert_int_equal(maif_writer_add_draft(w, e, tu_mem_read, &src, 5, NULL), MAIF_ELIMIT);
    src = (tu_mem_src){(const uint8_t *)rows, strlen(rows), 0, 3, 0};
    assert_int_equal(maif_writer_add_draft(w, e, tu_mem_read, &src, 0, NULL), MAIF_OK);
    src = (tu_mem_src){(const uint8_t *)"[1,\"x\"]", 7, 0, 0, 0};
    assert_int_equal(maif_writer_add_draft(w, e, tu_mem_read, &src, 0, NULL), MAIF_EINVAL);
    assert_int_equal(maif_writer_add_draft(w, e, NULL, NULL, 0, NULL), MAIF_EINVAL); /* pending needs a source */
    maif_block_draft_free(e);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    assert_int_equal(maif_reader_count(r), 1);
    maif_block b;
    assert_int_equal(maif_reader_block(r, 0, &b), MAIF_OK);
    assert_int_equal(b.payload_size, 16);
    const char *em = "{\"count\":2,\"dimensions\":2,\"dtype\":\"float32\"}";
    assert_int_equal(b.meta_size, strlen(em));
    assert_memory_equal(b.meta, em, strlen(em));
    maif_reader_close(r);

    /* "file" is left to the caller */
    maif_block_draft *d = NULL;
    const char *fj = "{\"type\":\"binary\",\"file\":\"some/path\"}";
    assert_int_equal(maif_block_draft_from_json(&d, fj, strlen(fj)), MAIF_OK);
    assert_true(maif_block_draft_pending(d));
    assert_string_equal(maif_block_draft_file(d), "some/path");
    maif_block_spec s;
    assert_int_equal(maif_block_draft_spec(d, &s), MAIF_ESTATE);
    maif_block_draft_free(d);
}

static void test_draft_utf8_text(void **state)
{
    tu_fixture *f = *state;
    assert_true(maif_utf8_valid("h\xc3\xa9llo \xf0\x9f\x98\x80", 11));
    assert_false(maif_utf8_valid("\xc3", 1));
    assert_false(maif_utf8_valid("\xc0\x80", 2));         /* overlong */
    assert_false(maif_utf8_valid("\xed\xa0\x80", 3));     /* surrogate */
    assert_false(maif_utf8_valid("\xf4\x90\x80\x80", 4)); /* past U+10FFFF */

    maif_block_draft *d = NULL;
    assert_int_equal(maif_block_draft_new(&d, MAIF_TYPE_TEXT, "{\"b\":1,\"a\":2}", 13), MAIF_OK);
    assert_int_equal(maif_block_draft_set_payload(d, "\xff", 1), MAIF_EINVAL);
    assert_non_null(strstr(maif_last_errmsg(), "UTF-8"));
    assert_true(maif_block_draft_pending(d));
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->key, NULL, NULL), MAIF_OK);
    uint64_t committed = tu_file_size(f->path);
    /* streamed one byte at a time: sequences cut across reads are fine */
    const char *good = "caf\xc3\xa9 \xf0\x9f\x98\x80 \xe2\x82\xac";
    tu_mem_src src = {(const uint8_t *)good, strlen(good), 0, 1, 0};
    assert_int_equal(maif_writer_add_draft(w, d, tu_mem_read, &src, 0, NULL), MAIF_OK);
    /* invalid in the middle, and cut short at the end */
    const char *bad[] = {"ok \xe2\x28\xa1 no", "ends in \xf0\x9f\x98"};
    for (int i = 0; i < 2; i++) {
        for (size_t step = 1; step <= 3; step++) {
            src = (tu_mem_src){(const uint8_t *)bad[i], strlen(bad[i]), 0, step, 0};
            assert_int_equal(maif_writer_add_draft(w, d, tu_mem_read, &src, 0, NULL), MAIF_EINVAL);
            assert_non_null(strstr(maif_writer_errmsg(w), "UTF-8"));
        }
    }
    assert_int_equal(maif_writer_count(w), 1);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    maif_block_draft_free(d);
    assert_verifies_clean(f->path);
    assert_true(tu_file_size(f->path) > committed);
    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    maif_block b;
    assert_int_equal(maif_reader_block(r, 0, &b), MAIF_OK);
    assert_int_equal(b.payload_size, strlen(good));
    assert_memory_equal(b.payload, good, strlen(good));
    assert_int_equal(b.meta_size, 13);
    assert_memory_equal(b.meta, "{\"a\":2,\"b\":1}", 13);
    maif_reader_close(r);
}

/* ------------------------------------------------------ the torn rule */

/* Writes committed ‖ tail to path. */
static void write_with_tail(const char *path, const uint8_t *committed, size_t n, const uint8_t *tail, size_t tn)
{
    uint8_t *img = malloc(n + tn + 1);
    assert_non_null(img);
    memcpy(img, committed, n);
    memcpy(img + n, tail, tn);
    assert_int_equal(tu_write(path, img, n + tn), 0);
    free(img);
}

/* 1 if the verifier calls the tail torn (warning, ok), 0 if damage
 * (error); recovery and opening for append must agree. */
static int judge(const char *path, const maif_key *key, size_t committed_size, size_t tail_len)
{
    size_t n;
    uint8_t *img = tu_read(path, &n);
    assert_non_null(img);
    maif_report *rep = NULL;
    assert_int_equal(maif_verify_mem(img, n, NULL, &rep), MAIF_OK);
    int ok = maif_report_ok(rep);
    if (ok) assert_true(tu_has_code(rep, "torn-tail", MAIF_SEV_WARNING));
    maif_report_free(rep);
    free(img);
    maif_writer *w = NULL;
    int rc = maif_writer_open(&w, path, key, NULL);
    assert_int_equal(rc, ok ? MAIF_OK : MAIF_EFORMAT);
    maif_writer_close(w);
    uint64_t cut = 0;
    rc = maif_recover(path, NULL, &cut);
    assert_int_equal(rc, ok ? MAIF_OK : MAIF_EFORMAT);
    if (ok) {
        /* the writer already cut it */
        assert_int_equal(tu_file_size(path), committed_size);
    } else {
        assert_int_equal(tu_file_size(path), committed_size + tail_len);
        assert_int_equal(maif_recover(path, tu_flag(MAIF_OPT_FORCE_RECOVER), &cut), MAIF_OK);
        assert_int_equal(cut, tail_len);
        assert_int_equal(tu_file_size(path), committed_size);
    }
    return ok;
}

static void test_torn_rule_both_ways(void **state)
{
    tu_fixture *f = *state;
    char *p2 = tu_path(f->dir, "t.maif");
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->key, NULL, NULL), MAIF_OK);
    maif_block_spec s = {.type = MAIF_TYPE_TEXT, .payload = "hello", .payload_size = 5, .meta_json = "{\"a\":1}",
                         .meta_size = 7};
    assert_int_equal(maif_writer_add(w, &s, NULL), MAIF_OK);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    uint64_t c1 = tu_file_size(f->path);
    uint8_t id[16];
    memset(id, 7, sizeof id);
    s.supersedes = id;
    assert_int_equal(maif_writer_add(w, &s, NULL), MAIF_OK);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    size_t n;
    uint8_t *full = tu_read(f->path, &n);
    assert_non_null(full);
    /* the second batch's block record, as the writer wrote it */
    const uint8_t *rec = full + c1;
    size_t rec_len = (size_t)align8(align8(NAT_REC_HEADER + 20 + 7) + 5);

    /* torn: every prefix of the real record (header prefixes, then a whole
     * header with part of its extensions, metadata and payload) */
    for (size_t L = 1; L < rec_len; L++) {
        write_with_tail(p2, full, (size_t)c1, rec, L);
        if (!judge(p2, f->key, (size_t)c1, L)) fail_msg("real prefix of %zu bytes judged damage", L);
    }
    /* torn: zeros of any length (a header never written) */
    static uint8_t zeros[300];
    for (size_t L = 1; L <= sizeof zeros; L += 13) {
        write_with_tail(p2, full, (size_t)c1, zeros, L);
        assert_true(judge(p2, f->key, (size_t)c1, L));
    }
    /* damage: a copy of the commit tail; 100 bytes of 0xEE; a prefix with
     * a bad kind, version, flags, type, an unknown codec or cipher; a
     * complete header that does not chain */
    write_with_tail(p2, full, (size_t)c1, full + c1 - NAT_TAIL_SIZE, NAT_TAIL_SIZE);
    assert_false(judge(p2, f->key, (size_t)c1, NAT_TAIL_SIZE));
    uint8_t ee[100];
    memset(ee, 0xee, sizeof ee);
    write_with_tail(p2, full, (size_t)c1, ee, sizeof ee);
    assert_false(judge(p2, f->key, (size_t)c1, sizeof ee));
    struct {
        size_t at, len;
        uint8_t val;
    } bad[] = {{NR_KIND, 60, 'X'},      {NR_VERSION, 60, 9},   {NR_FLAGS + 1, 60, 0x80},
               {NR_TYPE, 60, 0},        {NR_CODEC, 60, 99},    {NR_CIPHER, 40, 99},
               {NR_META_SIZE + 3, 30, 0x7f}, {NR_RECORD_HASH, NAT_REC_HEADER + 30, 0x55}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t t[NAT_REC_HEADER + 64];
        memcpy(t, rec, bad[i].len);
        if (bad[i].at == NR_TYPE) memset(t + NR_TYPE, 0, 4);
        else t[bad[i].at] ^= bad[i].val ? bad[i].val : 0;
        if (bad[i].at == NR_KIND) t[NR_KIND] = 'X';
        write_with_tail(p2, full, (size_t)c1, t, bad[i].len);
        if (judge(p2, f->key, (size_t)c1, bad[i].len)) fail_msg("bad prefix %zu judged torn", i);
    }
    /* torn: a prefix of a compressed or encrypted block's header (codecs
     * and ciphers this library writes) */
    static const size_t stage_at[] = {NR_CODEC, NR_CIPHER};
    static const uint8_t stage_val[] = {MAIF_CODEC_LZ4, MAIF_CIPHER_AES256GCM};
    for (size_t i = 0; i < 2; i++) {
        uint8_t t[NAT_REC_HEADER];
        memcpy(t, rec, 60);
        t[stage_at[i]] = stage_val[i];
        write_with_tail(p2, full, (size_t)c1, t, 60);
        if (!judge(p2, f->key, (size_t)c1, 60)) fail_msg("a prefix with stage %zu judged damage", i);
    }
    free(full);
    free(p2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_stream_same_layout, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_stream_abandoned, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_stream_memory_bounded, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_stream_fd, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_draft_embedding_rule, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_draft_utf8_text, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_torn_rule_both_ways, tu_setup, tu_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
