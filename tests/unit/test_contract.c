/*
 * test_contract.c — the contract bindings rely on: the runtime version, the
 * options object, the one error channel (maif_last_errmsg plus the handle's
 * message), and convert verifying its source first (issue 15): a tampered
 * or untrusted artifact is refused unless forced, and a forced output says
 * its source did not verify.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* A native artifact at dir/name with three text blocks, signed by key. */
static char *make_artifact(const tu_fixture *f, const char *name, const maif_key *key)
{
    char *path = tu_path(f->dir, name);
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, path, key, "agent-api", tu_flag(MAIF_OPT_OVERWRITE)), MAIF_OK);
    const char *texts[] = {"first memory", "the payload an attacker edits", "third"};
    for (int i = 0; i < 3; i++) {
        maif_block_spec s = {.type = MAIF_TYPE_TEXT, .payload = texts[i], .payload_size = strlen(texts[i]),
                             .meta_json = "{\"n\":1}", .meta_size = 7};
        assert_int_equal(maif_writer_add(w, &s, NULL), MAIF_OK);
    }
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    return path;
}

/* Flips one byte of the first occurrence of needle in the file. */
static void flip_in_file(const char *path, const char *needle)
{
    size_t n;
    uint8_t *b = tu_read(path, &n);
    assert_non_null(b);
    uint8_t *p = memmem(b, n, needle, strlen(needle));
    assert_non_null(p);
    p[4] ^= 0x20; /* "the payload" -> "the Payload" */
    assert_int_equal(tu_write(path, b, n), 0);
    free(b);
}

/* ------------------------------------------------------------- version */

static void test_version(void **state)
{
    (void)state;
    assert_int_equal(maif_version(), MAIF_VERSION_NUMBER);
    assert_int_equal(maif_version(),
                     MAIF_VERSION_MAJOR * 10000u + MAIF_VERSION_MINOR * 100u + MAIF_VERSION_PATCH);
    assert_string_equal(maif_version_string(), MAIF_VERSION_STRING);
    unsigned a, b, c;
    assert_int_equal(sscanf(maif_version_string(), "%u.%u.%u", &a, &b, &c), 3);
    assert_int_equal(a * 10000 + b * 100 + c, maif_version());
}

/* ------------------------------------------------------------- options */

static void test_options_defaults_and_ranges(void **state)
{
    (void)state;
    assert_int_equal(maif_options_create(NULL), MAIF_EINVAL);
    maif_options_free(NULL);
    maif_options *o = NULL;
    assert_int_equal(maif_options_create(&o), MAIF_OK);
    assert_non_null(o);
    const int ids[] = {MAIF_OPT_THREADS, MAIF_OPT_OVERWRITE, MAIF_OPT_DURABLE, MAIF_OPT_FORCE_RECOVER,
                       MAIF_OPT_CONVERT_FORCE, MAIF_OPT_TRUSTED_KEYS, MAIF_OPT_CODEC, MAIF_OPT_CODEC_LEVEL};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        int64_t v = 99, d = 99;
        assert_int_equal(maif_options_get(o, ids[i], &v), MAIF_OK);
        assert_int_equal(v, 0);
        assert_int_equal(maif_options_get(NULL, ids[i], &d), MAIF_OK); /* NULL: the defaults */
        assert_int_equal(d, 0);
    }
    /* booleans take 0 and 1 only */
    for (size_t i = 1; i <= 4; i++) {
        int64_t v = 0;
        assert_int_equal(maif_options_set(o, ids[i], 1), MAIF_OK);
        assert_int_equal(maif_options_get(o, ids[i], &v), MAIF_OK);
        assert_int_equal(v, 1);
        assert_int_equal(maif_options_set(o, ids[i], 2), MAIF_EINVAL);
        assert_int_equal(maif_options_set(o, ids[i], -1), MAIF_EINVAL);
        assert_int_equal(maif_options_get(o, ids[i], &v), MAIF_OK);
        assert_int_equal(v, 1); /* a refused set leaves the value */
        assert_int_equal(maif_options_set(o, ids[i], 0), MAIF_OK);
    }
    int64_t v = 0;
    assert_int_equal(maif_options_set(o, MAIF_OPT_THREADS, MAIF_THREADS_MAX), MAIF_OK);
    assert_int_equal(maif_options_get(o, MAIF_OPT_THREADS, &v), MAIF_OK);
    assert_int_equal(v, MAIF_THREADS_MAX);
    assert_int_equal(maif_options_set(o, MAIF_OPT_THREADS, MAIF_THREADS_MAX + 1), MAIF_EINVAL);
    assert_non_null(strstr(maif_last_errmsg(), "MAIF_OPT_THREADS"));
    assert_int_equal(maif_options_set(o, MAIF_OPT_THREADS, -1), MAIF_EINVAL);
    assert_int_equal(maif_options_set(o, MAIF_OPT_THREADS, INT64_MIN), MAIF_EINVAL);
    /* unknown ids, both ways */
    const int bad[] = {0, -1, 100, 1 << 20};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(maif_options_set(o, bad[i], 0), MAIF_EINVAL);
        assert_non_null(strstr(maif_last_errmsg(), "unknown option"));
        assert_int_equal(maif_options_get(o, bad[i], &v), MAIF_EINVAL);
    }
    assert_int_equal(maif_options_set(NULL, MAIF_OPT_THREADS, 1), MAIF_EINVAL);
    assert_int_equal(maif_options_get(o, MAIF_OPT_THREADS, NULL), MAIF_EINVAL);
    maif_options_free(o);
}

static void test_options_trusted_keys(void **state)
{
    (void)state;
    maif_options *o = NULL;
    assert_int_equal(maif_options_create(&o), MAIF_OK);
    uint8_t a[MAIF_PUBKEY_BYTES], b[MAIF_PUBKEY_BYTES];
    memset(a, 1, sizeof a);
    memset(b, 2, sizeof b);
    int64_t n = -1;
    assert_int_equal(maif_options_add_trusted_key(o, a), MAIF_OK);
    assert_int_equal(maif_options_add_trusted_key(o, a), MAIF_OK); /* not twice */
    assert_int_equal(maif_options_add_trusted_key(o, b), MAIF_OK);
    assert_int_equal(maif_options_get(o, MAIF_OPT_TRUSTED_KEYS, &n), MAIF_OK);
    assert_int_equal(n, 2);
    assert_int_equal(maif_options_add_trusted_key(NULL, a), MAIF_EINVAL);
    assert_int_equal(maif_options_add_trusted_key(o, NULL), MAIF_EINVAL);
    /* the count is read-only except for clearing */
    assert_int_equal(maif_options_set(o, MAIF_OPT_TRUSTED_KEYS, 5), MAIF_EINVAL);
    assert_int_equal(maif_options_set(o, MAIF_OPT_TRUSTED_KEYS, 0), MAIF_OK);
    assert_int_equal(maif_options_get(o, MAIF_OPT_TRUSTED_KEYS, &n), MAIF_OK);
    assert_int_equal(n, 0);
    /* bounded */
    uint8_t k[MAIF_PUBKEY_BYTES] = {0};
    for (uint32_t i = 0; i < MAIF_TRUSTED_KEYS_MAX; i++) {
        memcpy(k, &i, sizeof i);
        assert_int_equal(maif_options_add_trusted_key(o, k), MAIF_OK);
    }
    k[10] = 1;
    assert_int_equal(maif_options_add_trusted_key(o, k), MAIF_ELIMIT);
    assert_int_equal(maif_options_get(o, MAIF_OPT_TRUSTED_KEYS, &n), MAIF_OK);
    assert_int_equal(n, MAIF_TRUSTED_KEYS_MAX);
    maif_options_free(o);
}

/* The writer reads its settings from options; NULL means defaults. */
static void test_writer_options(void **state)
{
    tu_fixture *f = *state;
    char *path = tu_path(f->dir, "w.maif");
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, path, f->key, NULL, NULL), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    w = NULL;
    assert_int_equal(maif_writer_create(&w, path, f->key, NULL, NULL), MAIF_EEXIST);
    assert_null(w);
    assert_non_null(strstr(maif_last_errmsg(), "exists"));
    maif_options *o = NULL;
    assert_int_equal(maif_options_create(&o), MAIF_OK);
    assert_int_equal(maif_options_set(o, MAIF_OPT_OVERWRITE, 1), MAIF_OK);
    assert_int_equal(maif_options_set(o, MAIF_OPT_DURABLE, 1), MAIF_OK);
    assert_int_equal(maif_writer_create(&w, path, f->key, NULL, o), MAIF_OK);
    maif_block_spec s = {.type = MAIF_TYPE_TEXT, .payload = "durable", .payload_size = 7};
    assert_int_equal(maif_writer_add(w, &s, NULL), MAIF_OK);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    assert_int_equal(maif_writer_open(&w, path, f->key, o), MAIF_OK);
    assert_int_equal(maif_writer_count(w), 1);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    uint64_t cut = 7;
    assert_int_equal(maif_recover(path, o, &cut), MAIF_OK);
    assert_int_equal(cut, 0);
    maif_options_free(o);
    free(path);
}

/* ------------------------------------------------------- error channel */

static void test_error_channel(void **state)
{
    tu_fixture *f = *state;
    /* a constructor without a handle: the thread's last error */
    char *missing = tu_path(f->dir, "missing.maif");
    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open(&r, missing), MAIF_ENOTFOUND);
    assert_non_null(strstr(maif_last_errmsg(), "missing.maif"));
    assert_int_equal(maif_recover(missing, NULL, NULL), MAIF_ENOTFOUND);
    assert_non_null(strstr(maif_last_errmsg(), "missing.maif"));
    maif_report *rep = NULL;
    assert_int_equal(maif_verify_file(f->dir, NULL, &rep), MAIF_EIO);
    assert_non_null(strstr(maif_last_errmsg(), "is a directory"));
    uint8_t pk[MAIF_PUBKEY_BYTES];
    assert_int_equal(maif_pubkey_load(f->dir, pk), MAIF_EIO); /* `--pubkey /tmp` */
    assert_non_null(strstr(maif_last_errmsg(), "is a directory"));
    char *junk = tu_path(f->dir, "junk.key");
    assert_int_equal(tu_write(junk, "not a key\n", 10), 0);
    maif_key *k = NULL;
    assert_int_equal(maif_key_load(&k, junk), MAIF_EKEY);
    assert_null(k);
    assert_non_null(strstr(maif_last_errmsg(), "junk.key"));
    assert_int_equal(maif_pubkey_load(junk, pk), MAIF_EKEY);
    assert_non_null(strstr(maif_last_errmsg(), "not a maif key file"));
    assert_int_equal(maif_reader_open_mem(&r, "garbage!", 8), MAIF_EFORMAT);
    assert_non_null(strstr(maif_last_errmsg(), "not a MAIF artifact"));
    assert_int_equal(maif_convert(NULL, missing, MAIF_FORMAT_NATIVE, f->key, NULL, NULL), MAIF_EINVAL);
    assert_non_null(strstr(maif_last_errmsg(), "maif_convert"));
    assert_int_equal(maif_convert(missing, junk, 42, f->key, NULL, NULL), MAIF_EINVAL);
    assert_non_null(strstr(maif_last_errmsg(), "42"));
    uint32_t type;
    assert_int_equal(maif_type_parse("nonsense", &type), MAIF_EINVAL);
    assert_non_null(strstr(maif_last_errmsg(), "nonsense"));
    uint8_t two[2];
    assert_int_equal(maif_unhex("12zz", two, 2), MAIF_EINVAL);
    assert_non_null(strstr(maif_last_errmsg(), "hex digit"));
    assert_int_equal(maif_unhex("123", two, 2), MAIF_EINVAL);
    assert_non_null(strstr(maif_last_errmsg(), "4 hex digits"));
    assert_int_equal(maif_report_signer(NULL, 0, pk, NULL), MAIF_ENOTFOUND);
    assert_non_null(strstr(maif_last_errmsg(), "no signer 0"));

    /* a call on a handle: the same message on the handle and the thread */
    char *path = make_artifact(f, "e.maif", f->key);
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_open(&w, path, f->key, NULL), MAIF_OK);
    maif_block_spec s = {.type = MAIF_TYPE_TEXT, .payload = "x", .payload_size = 1, .meta_json = "[1]",
                         .meta_size = 3};
    assert_int_equal(maif_writer_add(w, &s, NULL), MAIF_EJSON);
    assert_true(maif_writer_errmsg(w)[0] != 0);
    assert_string_equal(maif_writer_errmsg(w), maif_last_errmsg());
    /* success leaves the message */
    s.meta_json = NULL;
    s.meta_size = 0;
    assert_int_equal(maif_writer_add(w, &s, NULL), MAIF_OK);
    assert_string_equal(maif_writer_errmsg(w), maif_last_errmsg());
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    assert_int_equal(maif_writer_commit(NULL), MAIF_EINVAL);
    assert_true(maif_last_errmsg()[0] != 0);

    assert_int_equal(maif_reader_open(&r, path), MAIF_OK);
    maif_block b;
    assert_int_equal(maif_reader_block(r, 99, &b), MAIF_ENOTFOUND);
    assert_non_null(strstr(maif_reader_errmsg(r), "99"));
    assert_string_equal(maif_reader_errmsg(r), maif_last_errmsg());
    maif_record rec;
    assert_int_equal(maif_reader_record(r, 1000, &rec), MAIF_ENOTFOUND);
    assert_string_equal(maif_reader_errmsg(r), maif_last_errmsg());
    uint8_t id[MAIF_ID_BYTES] = {0};
    uint64_t idx;
    assert_int_equal(maif_reader_find(r, id, &idx), MAIF_ENOTFOUND);
    assert_non_null(strstr(maif_last_errmsg(), "no block with id"));
    assert_int_equal(maif_reader_info(r, NULL), MAIF_EINVAL);
    assert_non_null(strstr(maif_last_errmsg(), "maif_reader_info"));
    maif_reader_close(r);
    free(junk);
    free(missing);
    free(path);
}

/* Each thread has its own last error. */
static void *other_thread(void *arg)
{
    maif_reader *r = NULL;
    *(int *)arg = maif_reader_open(&r, "/nonexistent/other-thread.maif");
    return strstr(maif_last_errmsg(), "other-thread") ? arg : NULL;
}

static void test_error_channel_per_thread(void **state)
{
    (void)state;
    maif_options *o = NULL;
    assert_int_equal(maif_options_create(&o), MAIF_OK);
    assert_int_equal(maif_options_set(o, 12345, 0), MAIF_EINVAL);
    pthread_t t;
    int rc = 0;
    void *ret = NULL;
    assert_int_equal(pthread_create(&t, NULL, other_thread, &rc), 0);
    assert_int_equal(pthread_join(t, &ret), 0);
    assert_int_equal(rc, MAIF_ENOTFOUND);
    assert_non_null(ret);
    assert_non_null(strstr(maif_last_errmsg(), "12345")); /* untouched by the other thread */
    maif_options_free(o);
}

/* ------------------------------------------------------------- convert */

static char *note_of(const char *path)
{
    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open(&r, path), MAIF_OK);
    maif_info info;
    assert_int_equal(maif_reader_info(r, &info), MAIF_OK);
    char *s = strdup(info.converted_from);
    maif_reader_close(r);
    return s;
}

static int verifies(const char *path)
{
    maif_report *rep = NULL;
    assert_int_equal(maif_verify_file(path, NULL, &rep), MAIF_OK);
    int ok = maif_report_ok(rep);
    maif_report_free(rep);
    return ok;
}

/* Issue 15, item 1: the reproduction. */
static void test_convert_refuses_tampered(void **state)
{
    tu_fixture *f = *state;
    char *in = make_artifact(f, "bad.maif", f->key);
    flip_in_file(in, "the payload");
    assert_false(verifies(in));
    const int fmts[] = {MAIF_FORMAT_NATIVE, MAIF_FORMAT_V21};
    for (int i = 0; i < 2; i++) {
        char *out = tu_path(f->dir, i ? "out.maif21" : "out.maif");
        maif_report *rep = NULL;
        assert_int_equal(maif_convert(in, out, fmts[i], f->key, NULL, &rep), MAIF_EVERIFY);
        assert_false(exists(out)); /* nothing written */
        assert_non_null(rep);
        assert_false(maif_report_ok(rep));
        assert_true(tu_has_code(rep, "content-hash", -1));
        maif_report_free(rep);
        assert_non_null(strstr(maif_last_errmsg(), "content-hash"));
        assert_non_null(strstr(maif_last_errmsg(), "bad.maif"));
        assert_int_equal(maif_convert(in, out, fmts[i], f->key, NULL, NULL), MAIF_EVERIFY);
        assert_false(exists(out));
        free(out);
    }

    /* forced: converted, and the output says its source did not verify */
    maif_options *o = NULL;
    assert_int_equal(maif_options_create(&o), MAIF_OK);
    assert_int_equal(maif_options_set(o, MAIF_OPT_CONVERT_FORCE, 1), MAIF_OK);
    char *out = tu_path(f->dir, "forced.maif");
    maif_report *rep = NULL;
    assert_int_equal(maif_convert(in, out, MAIF_FORMAT_NATIVE, f->key, o, &rep), MAIF_OK);
    assert_false(maif_report_ok(rep));
    maif_report_free(rep);
    char *note = note_of(out);
    assert_non_null(strstr(note, "\"verified\":false"));
    assert_non_null(strstr(note, "\"findings\":[\"content-hash\"]"));
    assert_non_null(strstr(note, "\"format\":\"native\""));
    free(note);
    assert_true(verifies(out)); /* freshly signed: the note is the record */
    /* converting the forced output again (it verifies) must not wash the
     * mark off: the origin stays unverified through every hop */
    char *hop2 = tu_path(f->dir, "hop2.maif"), *hop3 = tu_path(f->dir, "hop3.maif");
    char *hop21 = tu_path(f->dir, "hop2.maif21");
    assert_int_equal(maif_convert(out, hop2, MAIF_FORMAT_NATIVE, f->key, NULL, NULL), MAIF_OK);
    assert_int_equal(maif_convert(hop2, hop3, MAIF_FORMAT_NATIVE, f->key, NULL, NULL), MAIF_OK);
    for (int h = 0; h < 2; h++) {
        note = note_of(h ? hop3 : hop2);
        assert_null(strstr(note, "\"verified\"")); /* these sources verified */
        assert_non_null(strstr(note, "\"origin_verified\":false"));
        assert_non_null(strstr(note, "\"origin_findings\":[\"content-hash\"]"));
        free(note);
    }
    assert_int_equal(maif_convert(hop2, hop21, MAIF_FORMAT_V21, f->key, NULL, NULL), MAIF_OK);
    maif_reader *r2 = NULL;
    assert_int_equal(maif_reader_open(&r2, hop21), MAIF_OK);
    assert_int_equal(maif_reader_count(r2), 4);
    maif_block nb;
    assert_int_equal(maif_reader_block(r2, 3, &nb), MAIF_OK);
    char *np = strndup((const char *)nb.payload, nb.payload_size);
    assert_non_null(strstr(np, "\"origin_verified\":false"));
    free(np);
    maif_reader_close(r2);
    free(hop21);
    free(hop3);
    free(hop2);

    char *out21 = tu_path(f->dir, "forced.maif21");
    assert_int_equal(maif_convert(in, out21, MAIF_FORMAT_V21, f->key, o, NULL), MAIF_OK);
    assert_true(verifies(out21));
    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open(&r, out21), MAIF_OK);
    assert_int_equal(maif_reader_format(r), MAIF_FORMAT_V21);
    assert_int_equal(maif_reader_count(r), 4); /* three blocks, then the note */
    maif_block b;
    assert_int_equal(maif_reader_block(r, 3, &b), MAIF_OK);
    assert_int_equal(b.type, MAIF_TYPE_META);
    char *payload = strndup((const char *)b.payload, b.payload_size);
    assert_non_null(strstr(payload, "\"converted_from\""));
    assert_non_null(strstr(payload, "\"verified\":false"));
    assert_non_null(strstr(payload, "content-hash"));
    free(payload);
    assert_int_equal(maif_reader_block(r, 1, &b), MAIF_OK);
    assert_memory_equal(b.payload, "the Payload", 11); /* what was readable, as it was */
    maif_reader_close(r);
    maif_options_free(o);
    free(out21);
    free(out);
    free(in);
}

static void test_convert_intact_unchanged(void **state)
{
    tu_fixture *f = *state;
    char *in = make_artifact(f, "good.maif", f->key);
    char *out = tu_path(f->dir, "good-out.maif"), *out21 = tu_path(f->dir, "good-out.maif21");
    maif_report *rep = NULL;
    assert_int_equal(maif_convert(in, out, MAIF_FORMAT_NATIVE, f->key, NULL, &rep), MAIF_OK);
    assert_true(maif_report_ok(rep));
    maif_report_free(rep);
    char *note = note_of(out);
    assert_null(strstr(note, "verified")); /* no marker on a verified source */
    free(note);
    assert_int_equal(maif_convert(in, out21, MAIF_FORMAT_V21, f->key, NULL, NULL), MAIF_OK);
    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open(&r, out21), MAIF_OK);
    assert_int_equal(maif_reader_count(r), 3); /* no extra block */
    maif_reader_close(r);
    free(out21);
    free(out);
    free(in);
}

static void test_convert_pinned_key(void **state)
{
    tu_fixture *f = *state;
    maif_key *other = NULL;
    assert_int_equal(maif_key_generate(&other), MAIF_OK);
    char *in = make_artifact(f, "signed-by-other.maif", other);
    char *out = tu_path(f->dir, "pinned-out.maif");
    uint8_t mine[MAIF_PUBKEY_BYTES], theirs[MAIF_PUBKEY_BYTES];
    maif_key_public(f->key, mine);
    maif_key_public(other, theirs);

    maif_options *o = tu_verify_options(mine, 1, 0);
    maif_report *rep = NULL;
    assert_int_equal(maif_convert(in, out, MAIF_FORMAT_NATIVE, f->key, o, &rep), MAIF_EVERIFY);
    assert_true(tu_has_code(rep, "untrusted-signer", -1));
    maif_report_free(rep);
    assert_non_null(strstr(maif_last_errmsg(), "untrusted-signer"));
    assert_false(exists(out));
    assert_int_equal(maif_options_set(o, MAIF_OPT_CONVERT_FORCE, 1), MAIF_OK);
    assert_int_equal(maif_convert(in, out, MAIF_FORMAT_NATIVE, f->key, o, NULL), MAIF_OK);
    char *note = note_of(out);
    assert_non_null(strstr(note, "\"verified\":false"));
    assert_non_null(strstr(note, "untrusted-signer"));
    free(note);
    maif_options_free(o);

    o = tu_verify_options(theirs, 1, 2);
    assert_int_equal(maif_convert(in, out, MAIF_FORMAT_NATIVE, f->key, o, NULL), MAIF_OK);
    note = note_of(out);
    assert_null(strstr(note, "verified"));
    free(note);
    maif_options_free(o);
    maif_key_free(other);
    free(out);
    free(in);
}

/* Every broken golden file and byte-flipped copies of the 2.1 samples are
 * refused without force. */
static void test_convert_refuses_hostile(void **state)
{
    tu_fixture *f = *state;
    char *out = tu_path(f->dir, "hostile-out.maif");
    char *exp = tu_path("tests/data/golden", "expected.txt");
    FILE *fp = fopen(exp, "r");
    assert_non_null(fp);
    char line[512];
    int refused = 0, converted = 0;
    while (fgets(line, sizeof line, fp)) {
        char file[128], verdict[16];
        if (line[0] == '#' || sscanf(line, "%127s %15s", file, verdict) != 2) continue;
        char *path = tu_path("tests/data/golden", file);
        if (!exists(path)) { /* some are made by test_native_faults only */
            free(path);
            continue;
        }
        for (int fmt = 0; fmt < 2; fmt++) {
            int to = fmt ? MAIF_FORMAT_V21 : MAIF_FORMAT_NATIVE;
            int rc = maif_convert(path, out, to, f->key, NULL, NULL);
            if (strcmp(verdict, "fail") == 0) {
                if (rc != MAIF_EVERIFY) fail_msg("%s: convert gave %d, want MAIF_EVERIFY", file, rc);
                assert_false(exists(out));
                refused++;
            } else if (to == MAIF_FORMAT_NATIVE) { /* (2.1 cannot hold their supersedes links) */
                if (rc != MAIF_OK) fail_msg("%s (%s): convert gave %d: %s", file, verdict, rc, maif_last_errmsg());
                assert_true(verifies(out));
                unlink(out);
                converted++;
            }
        }
        free(path);
    }
    fclose(fp);
    assert_true(refused >= 20);
    assert_true(converted >= 3);

    const char *samples[] = {"sample_text.maif", "sample_multimodal.maif", "sample_embeddings.maif"};
    char *copy = tu_path(f->dir, "flipped.maif");
    for (size_t k = 0; k < sizeof samples / sizeof samples[0]; k++) {
        char *p = tu_path(tu_samples_dir(), samples[k]);
        size_t n;
        uint8_t *b = tu_read(p, &n);
        assert_non_null(b);
        assert_int_equal(maif_convert(p, out, MAIF_FORMAT_NATIVE, f->key, NULL, NULL), MAIF_OK);
        unlink(out);
        size_t step = n / 23 + 1, tried = 0;
        for (size_t off = 0; off < n; off += step) {
            b[off] ^= 0x01;
            assert_int_equal(tu_write(copy, b, n), 0);
            b[off] ^= 0x01;
            if (verifies(copy)) continue; /* (none expected, but only the verdict matters) */
            tried++;
            for (int fmt = 0; fmt < 2; fmt++) {
                int rc = maif_convert(copy, out, fmt ? MAIF_FORMAT_V21 : MAIF_FORMAT_NATIVE, f->key, NULL, NULL);
                if (rc != MAIF_EVERIFY) fail_msg("%s byte %zu flipped: convert gave %d", samples[k], off, rc);
                assert_false(exists(out));
            }
        }
        assert_true(tried >= 20);
        free(b);
        free(p);
    }
    free(copy);
    free(exp);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version),
        cmocka_unit_test(test_options_defaults_and_ranges),
        cmocka_unit_test(test_options_trusted_keys),
        cmocka_unit_test_setup_teardown(test_writer_options, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_error_channel, tu_setup, tu_teardown),
        cmocka_unit_test(test_error_channel_per_thread),
        cmocka_unit_test_setup_teardown(test_convert_refuses_tampered, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_convert_intact_unchanged, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_convert_pinned_key, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_convert_refuses_hostile, tu_setup, tu_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
