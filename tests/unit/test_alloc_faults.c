/*
 * test_alloc_faults.c — the allocation hook (maif_allocator_set) and the
 * allocation-failure sweeps.
 *
 *   - a custom allocator sees the library's allocations (jansson's too,
 *     while installed) and NULL puts libc back;
 *   - for every N, allocation N fails (once, and from then on) during
 *     create + add + commit + close, and during open + read + find +
 *     history + verify of a native file and of MAIF 2.1 samples: each call
 *     succeeds or returns MAIF_ENOMEM, nothing crashes or leaks
 *     (LeakSanitizer), and the file stays intact.
 */
#include "testutil.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* tu_teardown, after putting libc's allocator back. */
static int teardown(void **state)
{
    tu_alloc_uninstall();
    return tu_teardown(state);
}

/* ------------------------------------------------------------ the hook */

static size_t user_calls;

static void *u_malloc(void *user, size_t n)
{
    (*(size_t *)user)++;
    return malloc(n);
}
static void *u_realloc(void *user, void *p, size_t n)
{
    (*(size_t *)user)++;
    return realloc(p, n);
}
static void u_free(void *user, void *p)
{
    (void)user;
    free(p);
}

static void test_allocator_set(void **state)
{
    tu_fixture *f = *state;
    maif_allocator bad = {u_malloc, NULL, u_free, &user_calls};
    assert_int_equal(maif_allocator_set(&bad), MAIF_EINVAL);
    json_malloc_t jm0 = NULL, jm1 = NULL;
    json_free_t jf0 = NULL, jf1 = NULL;
    json_get_alloc_funcs(&jm0, &jf0);
    maif_allocator a = {u_malloc, u_realloc, u_free, &user_calls};
    assert_int_equal(maif_allocator_set(&a), MAIF_OK);
    /* jansson's allocations go there too while it is installed */
    user_calls = 0;
    json_t *j = json_object();
    assert_non_null(j);
    json_decref(j);
    assert_true(user_calls >= 1);
    user_calls = 0;
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->key, "hook", NULL), MAIF_OK);
    maif_block_spec s = {.type = MAIF_TYPE_TEXT, .payload = "x", .payload_size = 1, .meta_json = "{\"a\":[1,2]}",
                         .meta_size = 11};
    assert_int_equal(maif_writer_add(w, &s, NULL), MAIF_OK);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    assert_true(user_calls > 5);
    size_t after_write = user_calls;
    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    maif_reader_close(r);
    assert_true(user_calls > after_write);
    assert_int_equal(maif_allocator_set(NULL), MAIF_OK);
    json_get_alloc_funcs(&jm1, &jf1);
    assert_true(jm1 == jm0 && jf1 == jf0); /* jansson's previous functions are back */
    size_t before = user_calls;
    j = json_object();
    json_decref(j);
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    maif_reader_close(r);
    assert_int_equal(user_calls, before);
}

/* ------------------------------------------------------------ sweeps */

static uint8_t mid[300u << 10];
static int g_codec; /* the codec write_workload compresses with (MAIF_CODEC_*) */

/* create + add + commit + close; returns 1 if everything succeeded. */
static int write_workload(tu_fixture *f)
{
    maif_writer *w = NULL;
    int rc = maif_writer_create(&w, f->path, f->key, "alloc-sweep", NULL);
    if (rc != MAIF_OK) {
        if (rc != MAIF_ENOMEM) fail_msg("create: %d (%s)", rc, maif_last_errmsg());
        assert_null(w);
        assert_int_equal(access(f->path, F_OK), -1); /* never half made */
        return 0;
    }
    if (g_codec) assert_int_equal(maif_writer_set_codec(w, g_codec, 0), MAIF_OK); /* allocates nothing */
    uint8_t id[MAIF_ID_BYTES];
    maif_block_spec s1 = {.type = MAIF_TYPE_TEXT, .payload = "hello", .payload_size = 5,
                          .meta_json = "{\"k\":\"v\",\"n\":[1,2,3]}", .meta_size = 21};
    rc = maif_writer_add(w, &s1, id);
    maif_block_spec s2 = {.type = MAIF_TYPE_TEXT, .payload = "hello 2", .payload_size = 7, .supersedes = id};
    if (rc == MAIF_OK) rc = maif_writer_add_borrowed(w, &s2, NULL);
    maif_block_spec s3 = {.type = MAIF_TYPE_BINARY, .payload = mid, .payload_size = sizeof mid,
                          .meta_json = "{\"big\":true}", .meta_size = 12};
    if (rc == MAIF_OK) rc = maif_writer_add(w, &s3, NULL);
    if (rc == MAIF_OK) rc = maif_writer_commit(w);
    if (rc != MAIF_OK && rc != MAIF_ENOMEM && rc != MAIF_ESTATE)
        fail_msg("add/commit: %d (%s)", rc, maif_writer_errmsg(w));
    int crc = maif_writer_close(w);
    assert_true(crc == MAIF_OK || crc == MAIF_ENOMEM);
    return rc == MAIF_OK && crc == MAIF_OK;
}

static void check_written(tu_fixture *f, int complete)
{
    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    uint64_t n = maif_reader_count(r);
    assert_true(n == 0 || n == 3);
    if (complete) assert_int_equal(n, 3);
    if (n == 3) {
        maif_block b;
        assert_int_equal(maif_reader_block(r, 2, &b), MAIF_OK);
        assert_int_equal(b.codec, g_codec);
        if (!g_codec) {
            assert_int_equal(b.payload_size, sizeof mid);
            assert_memory_equal(b.payload, mid, sizeof mid);
        } else {
            static uint8_t out[sizeof mid];
            size_t wr = 0;
            assert_true(b.payload_size < sizeof mid / 10);
            assert_int_equal(maif_reader_block_decode(r, 2, out, sizeof out, &wr), MAIF_OK);
            assert_int_equal(wr, sizeof mid);
            assert_memory_equal(out, mid, sizeof mid);
        }
    }
    maif_reader_close(r);
    tu_assert_verifies(f->path);
}

static void dump_report(const maif_report *r)
{
    for (size_t i = 0; i < maif_report_count(r); i++) {
        const maif_finding *fd = maif_report_finding(r, i);
        if (fd->severity == MAIF_SEV_ERROR) print_message("  %s %s: %s\n", fd->code, fd->section, fd->message);
    }
}

static void sweep_write(tu_fixture *f, int persist)
{
    for (size_t i = 0; i < sizeof mid; i++) mid[i] = (uint8_t)(i * 7 + 3);
    uint64_t n = 1, completed = 0;
    for (;; n++) {
        unlink(f->path);
        tu_alloc_install();
        tu_alloc_fail(n, persist);
        int ok = write_workload(f);
        int fired = tu_alloc_fired();
        tu_alloc_uninstall();
        completed += (uint64_t)ok;
        if (ok || access(f->path, F_OK) == 0) check_written(f, ok);
        if (!fired) {
            assert_true(ok);
            break;
        }
    }
    print_message("write, %s: %llu allocations, each failed in turn (%llu runs still succeeded)\n",
                  persist ? "persistent" : "once", (unsigned long long)(n - 1), (unsigned long long)completed);
    assert_true(n > 20);
}

static void test_alloc_sweep_write(void **state)
{
    tu_fixture *f = *state;
    sweep_write(f, 0);
    sweep_write(f, 1);
}

/* open + read + find + history + verify; returns 1 if all succeeded. */
static int read_workload(const char *path, uint64_t *count_out, int *verdict)
{
    maif_reader *r = NULL;
    int rc = maif_reader_open(&r, path);
    if (rc != MAIF_OK) {
        if (rc != MAIF_ENOMEM) fail_msg("%s: open: %d (%s)", path, rc, maif_last_errmsg());
        return 0;
    }
    int ok = 1;
    uint64_t n = maif_reader_count(r);
    *count_out = n;
    for (uint64_t i = 0; i < n; i++) {
        maif_block b;
        rc = maif_reader_block(r, i, &b);
        if (rc != MAIF_OK) {
            if (rc != MAIF_ENOMEM) fail_msg("%s: block %llu: %d", path, (unsigned long long)i, rc);
            ok = 0;
            continue;
        }
        uint64_t at = 0;
        rc = maif_reader_find(r, b.id, &at);
        if (rc == MAIF_OK) assert_true(at <= i || at < n);
        else if (rc != MAIF_ENOMEM) fail_msg("%s: find: %d", path, rc);
        else ok = 0;
        uint64_t hist[8];
        size_t nh = 0;
        rc = maif_reader_history(r, b.id, hist, 8, &nh);
        if (rc == MAIF_OK) assert_true(nh >= 1);
        else if (rc != MAIF_ENOMEM) fail_msg("%s: history: %d", path, rc);
        else ok = 0;
    }
    maif_info info;
    rc = maif_reader_info(r, &info);
    if (rc != MAIF_OK && rc != MAIF_ENOMEM) fail_msg("%s: info: %d", path, rc);
    if (rc != MAIF_OK) ok = 0;
    maif_reader_close(r);
    maif_report *rep = NULL;
    rc = maif_verify_file(path, NULL, &rep);
    if (rc != MAIF_OK) {
        if (rc != MAIF_ENOMEM) fail_msg("%s: verify: %d", path, rc);
        return 0;
    }
    *verdict = maif_report_ok(rep);
    if (!*verdict) dump_report(rep);
    maif_report_free(rep);
    return ok;
}

static void sweep_read(const char *path)
{
    uint64_t want = 0, got = 0;
    int verdict = 0;
    size_t len0 = 0, len1 = 0;
    uint8_t *before = tu_read(path, &len0);
    assert_non_null(before);
    assert_true(read_workload(path, &want, &verdict));
    assert_true(verdict);
    uint64_t n = 1;
    for (;; n++) {
        tu_alloc_install();
        tu_alloc_fail(n, 0);
        verdict = 1;
        int ok = read_workload(path, &got, &verdict);
        int fired = tu_alloc_fired();
        tu_alloc_uninstall();
        if (ok) assert_int_equal(got, want);
        if (ok && !verdict) fail_msg("%s: allocation %llu failed and verification reported an error instead of MAIF_ENOMEM", path, (unsigned long long)n);
        /* a verifier that ran out of memory says so; it never passes a bad
         * file nor fails a good one for another reason */
        if (!fired) {
            assert_true(ok);
            assert_true(verdict);
            break;
        }
    }
    uint8_t *after = tu_read(path, &len1);
    assert_non_null(after);
    assert_int_equal(len0, len1);
    assert_memory_equal(before, after, len0);
    free(before);
    free(after);
    print_message("read %s: %llu allocations, each failed in turn\n", strrchr(path, '/') + 1,
                  (unsigned long long)(n - 1));
}

static void test_alloc_sweep_read(void **state)
{
    tu_fixture *f = *state;
    for (size_t i = 0; i < sizeof mid; i++) mid[i] = (uint8_t)i;
    assert_true(write_workload(f));
    sweep_read(f->path);
    const char *samples[] = {"sample_text.maif",  "sample_image.maif", "sample_audio.maif",
                             "sample_video.maif", "sample_embeddings.maif", "sample_multimodal.maif"};
    for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
        char *p = tu_path(tu_samples_dir(), samples[i]);
        sweep_read(p);
        free(p);
    }
}

/* maif_convert both ways (the 2.1 writer and parser, the native writer):
 * MAIF_ENOMEM or a complete output, never a partial one. */
/* The same with zstd: the writer's compression context and the reader's
 * decompression context, each allocation failed in turn. */
static void test_alloc_sweep_compressed(void **state)
{
    tu_fixture *f = *state;
    g_codec = MAIF_CODEC_ZSTD;
    sweep_write(f, 0);
    unlink(f->path);
    assert_true(write_workload(f));
    static uint8_t out[sizeof mid];
    uint64_t n = 1;
    for (;; n++) { /* decoding: ENOMEM or the right bytes, nothing else */
        maif_reader *r = NULL;
        assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
        tu_alloc_install();
        tu_alloc_fail(n, 0);
        size_t wr = 0;
        int rc = maif_reader_block_decode(r, 2, out, sizeof out, &wr);
        int fired = tu_alloc_fired();
        tu_alloc_uninstall();
        maif_reader_close(r);
        if (rc == MAIF_OK) {
            assert_int_equal(wr, sizeof mid);
            assert_memory_equal(out, mid, sizeof mid);
        } else {
            assert_int_equal(rc, MAIF_ENOMEM);
        }
        if (!fired) {
            assert_int_equal(rc, MAIF_OK);
            break;
        }
    }
    print_message("decode zstd: %llu allocations, each failed in turn\n", (unsigned long long)(n - 1));
    assert_true(n > 1);
    g_codec = 0;
}

static void test_alloc_sweep_convert(void **state)
{
    tu_fixture *f = *state;
    char *in = tu_path(tu_samples_dir(), "sample_text.maif");
    char *out = tu_path(f->dir, "out.maif");
    char *out21 = tu_path(f->dir, "out21.maif");
    for (int dir = 0; dir < 2; dir++) {
        const char *src = dir == 0 ? in : out, *dst = dir == 0 ? out : out21;
        int fmt = dir == 0 ? MAIF_FORMAT_NATIVE : MAIF_FORMAT_V21;
        uint64_t n = 1;
        for (;; n++) {
            unlink(dst);
            tu_alloc_install();
            tu_alloc_fail(n, 0);
            char err[256] = "";
            int rc = maif_convert(src, dst, fmt, f->key, NULL, NULL);
            int fired = tu_alloc_fired();
            tu_alloc_uninstall();
            if (rc != MAIF_OK && rc != MAIF_ENOMEM) fail_msg("convert, allocation %llu failed: %d (%s)",
                                                             (unsigned long long)n, rc, err);
            if (rc != MAIF_OK) {
                assert_int_equal(access(dst, F_OK), -1);
            } else {
                maif_report *rep = NULL;
                assert_int_equal(maif_verify_file(dst, NULL, &rep), MAIF_OK);
                if (!maif_report_ok(rep)) {
                    dump_report(rep);
                    fail_msg("convert, allocation %llu failed: the output does not verify", (unsigned long long)n);
                }
                maif_report_free(rep);
            }
            if (!fired) {
                assert_int_equal(rc, MAIF_OK);
                break;
            }
        }
        print_message("convert to %s: %llu allocations, each failed in turn\n", dir == 0 ? "native" : "2.1",
                      (unsigned long long)(n - 1));
    }
    free(in);
    free(out);
    free(out21);
}

/* A BLAKE3 artifact written with large sealed blocks: the writer's arena,
 * the seal shared with its helper, and the hasher's queue; every
 * allocation fails in turn. A failing run leaves nothing or a committed,
 * verifying file, and a completed one opens both blocks to their bytes. */
static int sealed_workload(tu_fixture *f, maif_keyring *kr, const uint8_t *big, size_t n)
{
    maif_options *o = NULL;
    int rc = maif_options_create(&o);
    if (rc == MAIF_OK) rc = maif_options_set(o, MAIF_OPT_CONTENT_HASH, MAIF_HASH_BLAKE3);
    maif_writer *w = NULL;
    if (rc == MAIF_OK) rc = maif_writer_create(&w, f->path, f->key, "alloc-sweep", o);
    maif_options_free(o);
    if (rc != MAIF_OK) {
        if (rc != MAIF_ENOMEM) fail_msg("create: %d (%s)", rc, maif_last_errmsg());
        return 0;
    }
    rc = maif_writer_encrypt(w, kr, MAIF_CIPHER_XCHACHA20);
    for (int i = 0; i < 2 && rc == MAIF_OK; i++) {
        maif_block_spec s = {.type = MAIF_TYPE_BINARY, .payload = big + i, .payload_size = n};
        rc = maif_writer_add(w, &s, NULL);
    }
    if (rc == MAIF_OK) rc = maif_writer_commit(w);
    if (rc != MAIF_OK && rc != MAIF_ENOMEM && rc != MAIF_ESTATE)
        fail_msg("sealed add/commit: %d (%s)", rc, maif_writer_errmsg(w));
    int crc = maif_writer_close(w);
    assert_true(crc == MAIF_OK || crc == MAIF_ENOMEM);
    return rc == MAIF_OK && crc == MAIF_OK;
}

static void test_alloc_sweep_sealed(void **state)
{
    tu_fixture *f = *state;
    const size_t n = 1u << 20;
    uint8_t *big = tu_pattern_new(n + 1, 31), *out = malloc(n);
    assert_non_null(out);
    maif_keyring *kr = tu_keyring_self(f->key);
    uint64_t k = 1;
    for (;; k++) {
        unlink(f->path);
        tu_alloc_install();
        tu_alloc_fail(k, 0);
        int ok = sealed_workload(f, kr, big, n);
        int fired = tu_alloc_fired();
        tu_alloc_uninstall();
        if (ok || access(f->path, F_OK) == 0) tu_assert_verifies(f->path);
        if (ok) {
            maif_reader *r = NULL;
            assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
            assert_int_equal(maif_reader_set_keyring(r, kr), MAIF_OK);
            int seen = 0;
            for (uint64_t i = 0; i < maif_reader_count(r); i++) {
                maif_block b;
                assert_int_equal(maif_reader_block(r, i, &b), MAIF_OK);
                if (b.payload_size < n) continue; /* the key wrap */
                size_t wr = 0;
                assert_int_equal(maif_reader_block_decode(r, i, out, n, &wr), MAIF_OK);
                assert_int_equal(wr, n);
                assert_memory_equal(out, big + seen, n);
                seen++;
            }
            assert_int_equal(seen, 2);
            maif_reader_close(r);
        }
        if (!fired) {
            assert_true(ok);
            break;
        }
    }
    print_message("sealed BLAKE3 write: %llu allocations, each failed in turn\n", (unsigned long long)(k - 1));
    maif_keyring_free(kr);
    free(out);
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_allocator_set, tu_setup, teardown),
        cmocka_unit_test_setup_teardown(test_alloc_sweep_write, tu_setup, teardown),
        cmocka_unit_test_setup_teardown(test_alloc_sweep_read, tu_setup, teardown),
        cmocka_unit_test_setup_teardown(test_alloc_sweep_convert, tu_setup, teardown),
        cmocka_unit_test_setup_teardown(test_alloc_sweep_compressed, tu_setup, teardown),
        cmocka_unit_test_setup_teardown(test_alloc_sweep_sealed, tu_setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
