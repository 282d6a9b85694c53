/*
 * test_api.c — the small public functions and the error paths of the big
 * ones: error texts for every code, the per-thread constructor message,
 * type names and four-character codes, hex edge cases, opening bad images
 * from memory, every report accessor, key-file errors and the default key,
 * the writer's and reader's answers for NULL handles, and conversion
 * between the two formats (round trip and refusals).
 */
#include "testutil.h"

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------ errors */

static void test_strerror_every_code(void **state)
{
    (void)state;
    const char *seen[16];
    for (int code = 0; code >= MAIF_EUNSUPPORTED; code--) {
        const char *s = maif_strerror(code);
        assert_non_null(s);
        assert_true(strlen(s) > 0);
        assert_string_not_equal(s, "unknown error");
        for (int k = 0; k < -code; k++) assert_string_not_equal(s, seen[k]); /* every text is its own */
        seen[-code] = s;
    }
    assert_string_equal(maif_strerror(MAIF_OK), "success");
    assert_string_equal(maif_strerror(MAIF_ENOTFOUND), "not found");
    const int unknown[] = {1, 42, MAIF_EUNSUPPORTED - 1, -1000, INT_MIN, INT_MAX};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++)
        assert_string_equal(maif_strerror(unknown[i]), "unknown error");
}

typedef struct errmsg_arg {
    const char *path;
    char before[64];
    char after[512];
    int rc;
} errmsg_arg;

static void *errmsg_thread(void *p)
{
    errmsg_arg *a = p;
    snprintf(a->before, sizeof a->before, "%s", maif_last_errmsg());
    maif_reader *r = NULL;
    a->rc = maif_reader_open(&r, a->path);
    snprintf(a->after, sizeof a->after, "%s", maif_last_errmsg());
    return NULL;
}

/* maif_last_errmsg is per thread: a new thread starts with "", a failing
 * constructor sets its own thread's message only. */
static void test_last_errmsg(void **state)
{
    tu_fixture *f = *state;
    maif_writer *w = NULL;
    char *missing = tu_path(f->dir, "missing.maif");
    assert_int_equal(maif_writer_open(&w, missing, f->key, NULL), MAIF_ENOTFOUND);
    assert_null(w);
    assert_non_null(strstr(maif_last_errmsg(), "missing.maif"));
    char mine[512];
    snprintf(mine, sizeof mine, "%s", maif_last_errmsg());

    char *other = tu_path(f->dir, "other.maif");
    assert_int_equal(tu_write(other, "not an artifact", 15), 0);
    errmsg_arg a = {.path = other};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, errmsg_thread, &a), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_string_equal(a.before, "");
    assert_int_equal(a.rc, MAIF_EFORMAT);
    assert_non_null(strstr(a.after, "unrecognised magic"));
    assert_string_equal(maif_last_errmsg(), mine); /* untouched by the other thread */

    /* key constructors report here too */
    maif_key *k = NULL;
    assert_int_equal(maif_key_load(&k, other), MAIF_EKEY);
    assert_null(k);
    assert_true(strlen(maif_last_errmsg()) > 0);
    free(other);
    free(missing);
}

/* ------------------------------------------------------------ types, hex */

static void test_types(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        uint32_t type;
        const char *fourcc;
    } known[] = {
        {"text", MAIF_TYPE_TEXT, "TEXT"},       {"embedding", MAIF_TYPE_EMBEDDING, "EMBD"},
        {"image", MAIF_TYPE_IMAGE, "IMAG"},     {"audio", MAIF_TYPE_AUDIO, "AUDI"},
        {"video", MAIF_TYPE_VIDEO, "VIDE"},     {"knowledge", MAIF_TYPE_KNOWLEDGE, "KNOW"},
        {"binary", MAIF_TYPE_BINARY, "BINA"},   {"meta", MAIF_TYPE_META, "META"},
        {"json", MAIF_TYPE_JSON, "JSON"},
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        uint32_t t = 0;
        assert_int_equal(maif_type_parse(known[i].name, &t), MAIF_OK);
        assert_int_equal(t, known[i].type);
        assert_string_equal(maif_type_name(t), known[i].name);
        char cc[5];
        assert_ptr_equal(maif_type_fourcc(t, cc), cc);
        assert_string_equal(cc, known[i].fourcc);
        t = 0; /* the four-character code parses to the same type */
        assert_int_equal(maif_type_parse(known[i].fourcc, &t), MAIF_OK);
        assert_int_equal(t, known[i].type);
    }
    assert_int_equal(MAIF_TYPE_TEXT, 0x54455854u);
    uint32_t t = 0;
    assert_int_equal(maif_type_parse("ZZZ9", &t), MAIF_OK);
    assert_int_equal(t, MAIF_FOURCC('Z', 'Z', 'Z', '9'));
    assert_null(maif_type_name(t));
    assert_int_equal(maif_type_parse("Text", &t), MAIF_OK); /* four printable characters: a code */
    assert_int_equal(t, MAIF_FOURCC('T', 'e', 'x', 't'));
    const char *bad[] = {"", "abc", "abcde", "texts", "a bc", "ab\x01" "c", "ab\x7f" "c", "ab\xc3\xa9"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        t = 7;
        assert_int_equal(maif_type_parse(bad[i], &t), MAIF_EINVAL);
        assert_int_equal(t, 7); /* untouched on failure */
    }
    assert_int_equal(maif_type_parse(NULL, &t), MAIF_EINVAL);
    assert_int_equal(maif_type_parse("text", NULL), MAIF_EINVAL);
    assert_null(maif_type_name(0));
    char cc[5];
    assert_string_equal(maif_type_fourcc(0x00414243u, cc), "?ABC");
    assert_string_equal(maif_type_fourcc(0x7f20ff7eu, cc), "? ?~");
    assert_string_equal(maif_type_fourcc(0, cc), "????");
}

static void test_hex(void **state)
{
    (void)state;
    char out[2 * 8 + 1];
    memset(out, 'x', sizeof out);
    assert_ptr_equal(maif_hex((const uint8_t *)"", 0, out), out);
    assert_string_equal(out, "");
    const uint8_t v[] = {0x00, 0xff, 0x1a, 0xa1, 0x7f, 0x80, 0x09, 0x90};
    assert_string_equal(maif_hex(v, sizeof v, out), "00ff1aa17f800990");
    uint8_t back[8];
    assert_int_equal(maif_unhex(out, back, sizeof back), MAIF_OK);
    assert_memory_equal(back, v, sizeof v);
    assert_int_equal(maif_unhex("00FF1AA17F800990", back, sizeof back), MAIF_OK); /* upper case too */
    assert_memory_equal(back, v, sizeof v);
    assert_int_equal(maif_unhex("00fF1aA17f800990", back, sizeof back), MAIF_OK);
    assert_memory_equal(back, v, sizeof v);
    assert_int_equal(maif_unhex("", back, 0), MAIF_OK);
    uint8_t keep[2] = {0x55, 0x66};
    const char *bad[] = {"0", "012", "01234", "0g", "g0", "0 ", " 0", "0x", "+1", "\xc3\xa9"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t n = strlen(bad[i]) == 4 ? 2 : 1;
        assert_int_equal(maif_unhex(bad[i], keep, n), MAIF_EINVAL);
    }
    assert_int_equal(maif_unhex("0011", keep, 1), MAIF_EINVAL); /* too long */
    assert_int_equal(maif_unhex("00", keep, 2), MAIF_EINVAL);   /* too short */
    assert_int_equal(maif_unhex(NULL, keep, 1), MAIF_EINVAL);
}

/* ------------------------------------------------------------ readers */

static void write_small(const char *path, const maif_key *key, int n)
{
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, path, key, "api", tu_flag(MAIF_OPT_OVERWRITE)), MAIF_OK);
    for (int i = 0; i < n; i++) {
        char text[24];
        snprintf(text, sizeof text, "text %d", i);
        tu_add_simple(w, i % 2 ? MAIF_TYPE_TEXT : MAIF_TYPE_JSON, text, strlen(text), i % 3 ? "{\"i\":1}" : NULL,
                      NULL);
    }
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
}

/* write_small into f->path, and its bytes (malloc'ed). */
static uint8_t *small_image(const tu_fixture *f, int n, size_t *len)
{
    write_small(f->path, f->key, n);
    uint8_t *img = tu_read(f->path, len);
    assert_non_null(img);
    return img;
}

static void test_reader_open_mem_errors(void **state)
{
    tu_fixture *f = *state;
    maif_reader *r = (maif_reader *)&r; /* must come back NULL */
    assert_int_equal(maif_reader_open_mem(NULL, "x", 1), MAIF_EINVAL);
    assert_int_equal(maif_reader_open_mem(&r, NULL, 5), MAIF_EINVAL);
    assert_int_equal(maif_reader_open_mem(&r, "", 0), MAIF_EFORMAT);
    assert_null(r);
    assert_true(strlen(maif_last_errmsg()) > 0);
    assert_int_equal(maif_reader_open_mem(&r, "hello, not an artifact", 22), MAIF_EFORMAT);
    assert_null(r);
    assert_non_null(strstr(maif_last_errmsg(), "unrecognised magic"));
    assert_non_null(strstr(maif_last_errmsg(), "unrecognised magic"));
    assert_int_equal(maif_reader_open_mem(&r, "MAIF\x09\x09\x09\x09 some later version", 27),
                     MAIF_EVERSION);
    assert_null(r);

    size_t len;
    uint8_t *img = small_image(f, 5, &len);
    /* every proper prefix of a valid image that cuts its first commit fails cleanly */
    maif_reader *ok = NULL;
    assert_int_equal(maif_reader_open_mem(&ok, img, len), MAIF_OK);
    maif_info info;
    assert_int_equal(maif_reader_info(ok, &info), MAIF_OK);
    assert_int_equal(info.block_count, 5);
    assert_int_equal(info.file_size, len);
    int opened = 0;
    for (size_t cut = 1; cut < len; cut += 3) {
        int rc = maif_reader_open_mem(&r, img, cut);
        if (rc == MAIF_OK) { /* a prefix that ends at an earlier commit */
            opened++;
            assert_true(maif_reader_count(r) <= 5);
            maif_reader_close(r);
        } else {
            assert_true(rc == MAIF_EFORMAT || rc == MAIF_EVERSION);
            assert_null(r);
            assert_true(strlen(maif_last_errmsg()) > 0);
        }
    }
    assert_true(opened > 0); /* the create's empty commit is a valid prefix */
    maif_reader_close(ok);

    /* the reader's answers for NULL and bad arguments */
    assert_int_equal(maif_reader_count(NULL), 0);
    assert_int_equal(maif_reader_format(NULL), 0);
    assert_string_equal(maif_reader_errmsg(NULL), "");
    maif_reader_close(NULL);
    assert_int_equal(maif_reader_open_mem(&r, img, len), MAIF_OK);
    assert_string_equal(maif_reader_errmsg(r), ""); /* nothing failed yet */
    maif_block b;
    uint8_t id[MAIF_ID_BYTES] = {0};
    uint64_t at;
    size_t hn;
    maif_record rec;
    assert_int_equal(maif_reader_block(NULL, 0, &b), MAIF_EINVAL);
    assert_int_equal(maif_reader_block(r, 0, NULL), MAIF_EINVAL);
    assert_int_equal(maif_reader_find(NULL, id, &at), MAIF_EINVAL);
    assert_int_equal(maif_reader_find(r, NULL, &at), MAIF_EINVAL);
    assert_int_equal(maif_reader_history(r, id, NULL, 1, &hn), MAIF_EINVAL);
    assert_int_equal(maif_reader_history(r, id, NULL, 0, NULL), MAIF_EINVAL);
    assert_int_equal(maif_reader_info(NULL, &info), MAIF_EINVAL);
    assert_int_equal(maif_reader_info(r, NULL), MAIF_EINVAL);
    assert_int_equal(maif_reader_record(NULL, 0, &rec), MAIF_EINVAL);
    assert_int_equal(maif_reader_record(r, 0, NULL), MAIF_EINVAL);
    /* a miss names the id; an index past the end names the index; the
     * record listing ends with a message */
    assert_int_equal(maif_reader_find(r, id, &at), MAIF_ENOTFOUND);
    assert_non_null(strstr(maif_reader_errmsg(r), "00000000000000000000000000000000"));
    assert_int_equal(maif_reader_block(r, 5, &b), MAIF_ENOTFOUND);
    assert_non_null(strstr(maif_reader_errmsg(r), "block 5 does not exist (5 blocks)"));
    assert_int_equal(maif_reader_find(r, id, NULL), MAIF_ENOTFOUND);
    assert_int_equal(maif_reader_block(r, 2, &b), MAIF_OK);
    assert_int_equal(maif_reader_find(r, b.id, NULL), MAIF_OK); /* index_out may be NULL */
    uint64_t n = 0;
    while (maif_reader_record(r, n, &rec) == MAIF_OK) n++;
    assert_int_equal(maif_reader_record(r, n, &rec), MAIF_ENOTFOUND);
    assert_non_null(strstr(maif_reader_errmsg(r), "does not exist"));
    /* the message of one reader is not shown for another */
    maif_reader *r2 = NULL;
    assert_int_equal(maif_reader_open_mem(&r2, img, len), MAIF_OK);
    assert_string_equal(maif_reader_errmsg(r2), "");
    assert_int_equal(maif_reader_block(r2, 99, &b), MAIF_ENOTFOUND);
    assert_non_null(strstr(maif_reader_errmsg(r2), "block 99"));
    assert_string_equal(maif_reader_errmsg(r), ""); /* this thread's last failure was on r2 */
    maif_reader_close(r2);
    maif_reader_close(r);
    free(img);
}

/* A reader of a damaged block: find and history skip it, block says
 * MAIF_EFORMAT with a message naming it. */
static void test_reader_damaged_block(void **state)
{
    tu_fixture *f = *state;
    size_t len;
    uint8_t *img = small_image(f, 4, &len);
    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open_mem(&r, img, len), MAIF_OK);
    maif_block b1;
    assert_int_equal(maif_reader_block(r, 1, &b1), MAIF_OK);
    uint64_t off = b1.offset;
    uint8_t id1[MAIF_ID_BYTES];
    memcpy(id1, b1.id, sizeof id1);
    maif_reader_close(r);
    memset(img + off, 0xff, 8); /* the record header of block 1 */
    assert_int_equal(maif_reader_open_mem(&r, img, len), MAIF_OK); /* open reads only the tail */
    maif_block b;
    assert_int_equal(maif_reader_block(r, 1, &b), MAIF_EFORMAT);
    assert_true(strlen(maif_reader_errmsg(r)) > 0);
    assert_int_equal(maif_reader_block(r, 2, &b), MAIF_OK);
    uint64_t at;
    assert_int_equal(maif_reader_find(r, b.id, &at), MAIF_OK);
    assert_int_equal(at, 2);
    assert_int_equal(maif_reader_find(r, id1, &at), MAIF_ENOTFOUND);
    maif_record rec;
    int rc = MAIF_OK;
    for (uint64_t i = 0; rc == MAIF_OK; i++) rc = maif_reader_record(r, i, &rec);
    assert_int_equal(rc, MAIF_EFORMAT); /* the listing walks every record and meets the damage */
    assert_true(strlen(maif_reader_errmsg(r)) > 0);
    maif_reader_close(r);
    free(img);
}

/* ------------------------------------------------------------ reports */

static void test_report_accessors(void **state)
{
    tu_fixture *f = *state;
    write_small(f->path, f->key, 3);
    uint8_t pk[MAIF_PUBKEY_BYTES];
    maif_key_public(f->key, pk);

    maif_options *opt = tu_verify_options(pk, 1, 2);
    maif_report *rep = NULL;
    assert_int_equal(maif_verify_file(f->path, opt, &rep), MAIF_OK);
    maif_options_free(opt);
    assert_true(maif_report_ok(rep));
    assert_int_equal(maif_report_format(rep), MAIF_FORMAT_NATIVE);
    assert_int_equal(maif_report_blocks(rep), 3);
    assert_int_equal(maif_report_signer_count(rep), 1);
    uint8_t got[MAIF_PUBKEY_BYTES];
    int pinned = 0;
    assert_int_equal(maif_report_signer(rep, 0, got, &pinned), MAIF_OK);
    assert_memory_equal(got, pk, sizeof pk);
    assert_int_equal(pinned, 1);
    assert_int_equal(maif_report_signer(rep, 0, got, NULL), MAIF_OK); /* pinned may be NULL */
    assert_int_equal(maif_report_signer(rep, 1, got, &pinned), MAIF_ENOTFOUND);
    size_t n = maif_report_count(rep);
    for (size_t i = 0; i < n; i++) {
        const maif_finding *fd = maif_report_finding(rep, i);
        assert_non_null(fd);
        assert_true(fd->severity < MAIF_SEV_ERROR);
        assert_non_null(fd->code);
        assert_non_null(fd->section);
        assert_non_null(fd->message);
    }
    assert_null(maif_report_finding(rep, n));
    maif_report_free(rep);

    /* unpinned: the signer is reported as not pinned, with an info finding */
    assert_int_equal(maif_verify_file(f->path, NULL, &rep), MAIF_OK);
    assert_true(maif_report_ok(rep));
    assert_int_equal(maif_report_signer(rep, 0, got, &pinned), MAIF_OK);
    assert_int_equal(pinned, 0);
    assert_true(maif_report_count(rep) >= 1);
    assert_int_equal(maif_report_finding(rep, 0)->severity, MAIF_SEV_INFO);
    maif_report_free(rep);

    /* not an artifact: a report with one error, format 0, no blocks, no signers */
    assert_int_equal(maif_verify_mem("garbage!", 8, NULL, &rep), MAIF_OK);
    assert_false(maif_report_ok(rep));
    assert_int_equal(maif_report_format(rep), 0);
    assert_int_equal(maif_report_blocks(rep), 0);
    assert_int_equal(maif_report_signer_count(rep), 0);
    assert_int_equal(maif_report_signer(rep, 0, got, &pinned), MAIF_ENOTFOUND);
    assert_int_equal(maif_report_count(rep), 1);
    const maif_finding *fd = maif_report_finding(rep, 0);
    assert_int_equal(fd->severity, MAIF_SEV_ERROR);
    assert_string_equal(fd->code, "format");
    assert_string_equal(fd->section, "file");
    assert_int_equal(fd->block, -1);
    maif_report_free(rep);
    assert_int_equal(maif_verify_mem("", 0, NULL, &rep), MAIF_OK); /* empty */
    assert_false(maif_report_ok(rep));
    assert_non_null(strstr(maif_report_finding(rep, 0)->message, "empty"));
    maif_report_free(rep);

    /* NULL reports */
    assert_int_equal(maif_report_count(NULL), 0);
    assert_null(maif_report_finding(NULL, 0));
    assert_int_equal(maif_report_signer(NULL, 0, got, NULL), MAIF_ENOTFOUND);
    maif_report_free(NULL);
    /* verify_file's own errors */
    char *missing = tu_path(f->dir, "missing.maif");
    assert_int_equal(maif_verify_file(missing, NULL, &rep), MAIF_ENOTFOUND);
    assert_null(rep);
    assert_int_equal(maif_verify_file(NULL, NULL, &rep), MAIF_EINVAL);
    assert_int_equal(maif_verify_file(f->path, NULL, NULL), MAIF_EINVAL);
    assert_int_equal(maif_verify_file(f->dir, NULL, &rep), MAIF_EIO); /* a directory */
    free(missing);
}

/* ------------------------------------------------------------ keys */

static void test_key_errors(void **state)
{
    tu_fixture *f = *state;
    maif_key *k = NULL;
    uint8_t pk[MAIF_PUBKEY_BYTES];
    char *nodir = tu_path(f->dir, "no/such/dir/k.key");
    assert_int_equal(maif_key_save(f->key, nodir), MAIF_EIO);
    assert_int_equal(maif_key_load(&k, nodir), MAIF_ENOTFOUND);
    assert_int_equal(maif_pubkey_load(nodir, pk), MAIF_ENOTFOUND);
    assert_int_equal(maif_key_generate(NULL), MAIF_EINVAL);
    assert_int_equal(maif_key_load(&k, NULL), MAIF_EINVAL);
    assert_int_equal(maif_key_load_default(NULL, NULL, 0), MAIF_EINVAL);
    maif_key_free(NULL);
    /* a directory where a key should be */
    assert_int_equal(maif_key_load(&k, f->dir), MAIF_EIO);
    assert_null(k);
    assert_int_equal(maif_pubkey_load(f->dir, pk), MAIF_EIO);
    /* an empty file is malformed */
    char *empty = tu_path(f->dir, "empty.key");
    assert_int_equal(tu_write(empty, "", 0), 0);
    assert_int_equal(maif_key_load(&k, empty), MAIF_EKEY);
    assert_int_equal(maif_pubkey_load(empty, pk), MAIF_EKEY);
    free(empty);
    free(nodir);
}

/* The default key lives in $MAIF_HOME: made on first use, then loaded. */
static void test_key_load_default(void **state)
{
    tu_fixture *f = *state;
    const char *saved = getenv("MAIF_HOME");
    char *old_home = saved ? strdup(saved) : NULL;
    char *home = tu_path(f->dir, "home");
    assert_int_equal(setenv("MAIF_HOME", home, 1), 0);

    maif_key *a = NULL, *b = NULL;
    char path[512];
    assert_int_equal(maif_key_load_default(&a, path, sizeof path), MAIF_OK);
    char *want = tu_path(home, "default.key");
    assert_string_equal(path, want);
    struct stat st;
    assert_int_equal(stat(want, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    char *pub = tu_path(home, "default.key.pub");
    assert_int_equal(stat(pub, &st), 0);
    assert_int_equal(maif_key_load_default(&b, NULL, 0), MAIF_OK); /* path_out may be NULL */
    uint8_t pa[MAIF_PUBKEY_BYTES], pb[MAIF_PUBKEY_BYTES], pc[MAIF_PUBKEY_BYTES];
    maif_key_public(a, pa);
    maif_key_public(b, pb);
    assert_memory_equal(pa, pb, sizeof pa); /* the same key, loaded */
    assert_int_equal(maif_pubkey_load(pub, pc), MAIF_OK);
    assert_memory_equal(pa, pc, sizeof pa);
    maif_key_free(b);
    b = NULL;
    char tiny[8];
    assert_int_equal(maif_key_load_default(&b, tiny, sizeof tiny), MAIF_OK); /* a short buffer is truncated */
    assert_int_equal(strlen(tiny), sizeof tiny - 1);
    assert_memory_equal(tiny, want, sizeof tiny - 1);
    maif_key_free(b);
    b = NULL;
    /* a damaged default key is an error, not silently replaced */
    assert_int_equal(tu_write(want, "junk", 4), 0);
    assert_int_equal(maif_key_load_default(&b, NULL, 0), MAIF_EKEY);
    assert_null(b);
    /* MAIF_HOME where no directory can be made */
    char *blocked = tu_path(f->dir, "file-not-dir");
    assert_int_equal(tu_write(blocked, "x", 1), 0);
    char *under = tu_path(blocked, "home");
    assert_int_equal(setenv("MAIF_HOME", under, 1), 0);
    assert_int_equal(maif_key_load_default(&b, NULL, 0), MAIF_EIO);
    assert_null(b);
    /* neither MAIF_HOME nor HOME: no default key */
    const char *h = getenv("HOME");
    char *old_h = h ? strdup(h) : NULL;
    assert_int_equal(unsetenv("MAIF_HOME"), 0);
    assert_int_equal(unsetenv("HOME"), 0);
    assert_int_equal(maif_key_load_default(&b, NULL, 0), MAIF_EKEY);
    if (old_h) setenv("HOME", old_h, 1);
    if (old_home) setenv("MAIF_HOME", old_home, 1);
    free(old_h);
    free(old_home);
    maif_key_free(a);
    free(under);
    free(blocked);
    free(pub);
    free(want);
    free(home);
}

/* ------------------------------------------------------------ writer */

static void test_writer_null_and_count(void **state)
{
    tu_fixture *f = *state;
    assert_int_equal(maif_writer_count(NULL), 0);
    assert_string_equal(maif_writer_errmsg(NULL), "");
    assert_int_equal(maif_writer_close(NULL), MAIF_OK);
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->key, NULL, NULL), MAIF_OK);
    assert_string_equal(maif_writer_errmsg(w), "");
    assert_int_equal(maif_writer_count(w), 0);
    tu_add_simple(w, MAIF_TYPE_TEXT, "a", 1, NULL, NULL);
    tu_add_simple(w, MAIF_TYPE_TEXT, "b", 1, NULL, NULL);
    assert_int_equal(maif_writer_count(w), 2); /* pending blocks count */
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    tu_add_simple(w, MAIF_TYPE_TEXT, "c", 1, NULL, NULL);
    assert_int_equal(maif_writer_count(w), 3);
    assert_int_equal(maif_writer_rollback(w), MAIF_OK);
    assert_int_equal(maif_writer_count(w), 2);
    /* a bad spec names what is wrong */
    maif_block_spec s = {.type = MAIF_TYPE_TEXT, .payload = NULL, .payload_size = 3};
    assert_int_equal(maif_writer_add(w, &s, NULL), MAIF_EINVAL);
    s = (maif_block_spec){.type = 0, .payload = "x", .payload_size = 1};
    assert_int_equal(maif_writer_add(w, &s, NULL), MAIF_EINVAL);
    assert_non_null(strstr(maif_writer_errmsg(w), "type 0"));
    assert_int_equal(maif_writer_count(w), 2);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
}

/* What maif_writer_create and maif_writer_open refuse, with a message. */
static void test_writer_refusals(void **state)
{
    tu_fixture *f = *state;
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->key, "bad\xff" "agent", NULL), MAIF_EINVAL);
    assert_null(w);
    assert_non_null(strstr(maif_last_errmsg(), "UTF-8"));
    char *shortf = tu_path(f->dir, "short.maif");
    assert_int_equal(tu_write(shortf, "MAIFx", 5), 0);
    assert_int_equal(maif_writer_open(&w, shortf, f->key, NULL), MAIF_EFORMAT);
    assert_null(w);
    assert_non_null(strstr(maif_last_errmsg(), "too short"));
    /* a file that needs a newer writer is read, but not appended to */
    size_t len;
    uint8_t *img = small_image(f, 2, &len);
    img[8] = 0x7f; /* the header's write version (u16 LE at offset 8, FORMAT.md) */
    char *newer = tu_path(f->dir, "newer.maif");
    assert_int_equal(tu_write(newer, img, len), 0);
    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open(&r, newer), MAIF_OK);
    assert_int_equal(maif_reader_count(r), 2);
    maif_reader_close(r);
    assert_int_equal(maif_writer_open(&w, newer, f->key, NULL), MAIF_EVERSION);
    assert_null(w);
    assert_non_null(strstr(maif_last_errmsg(), "writer version"));
    free(img);
    free(newer);
    free(shortf);
}

/* A report keeps at most 1000 findings; one "too-many" error stands for
 * the rest. 1100 blocks, each with one payload byte flipped. */
static void test_report_too_many(void **state)
{
    tu_fixture *f = *state;
    size_t len;
    uint8_t *img = small_image(f, 1100, &len);
    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open_mem(&r, img, len), MAIF_OK);
    uint64_t *at = calloc(1100, sizeof *at);
    assert_non_null(at);
    for (uint64_t i = 0; i < 1100; i++) {
        maif_block b;
        assert_int_equal(maif_reader_block(r, i, &b), MAIF_OK);
        at[i] = (uint64_t)(b.payload - img);
    }
    maif_reader_close(r);
    for (uint64_t i = 0; i < 1100; i++) img[at[i]] ^= 0x01;
    maif_report *rep = NULL;
    assert_int_equal(maif_verify_mem(img, len, NULL, &rep), MAIF_OK);
    assert_false(maif_report_ok(rep));
    assert_int_equal(maif_report_count(rep), 1001);
    const maif_finding *last = maif_report_finding(rep, 1000);
    assert_string_equal(last->code, "too-many");
    assert_int_equal(last->severity, MAIF_SEV_ERROR);
    assert_null(maif_report_finding(rep, 1001));
    maif_report_free(rep);
    free(at);
    free(img);
}

/* ------------------------------------------------------------ convert */

static void test_convert_round_trip(void **state)
{
    tu_fixture *f = *state;
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->key, "conv-agent", NULL), MAIF_OK);
    uint8_t ids[6][MAIF_ID_BYTES];
    for (int i = 0; i < 6; i++) {
        char text[32], meta[32];
        snprintf(text, sizeof text, "payload %d", i);
        snprintf(meta, sizeof meta, "{\"n\":%d}", i);
        maif_block_spec s = {.type = i == 3 ? MAIF_TYPE_BINARY : MAIF_TYPE_TEXT, .payload = text,
                             .payload_size = strlen(text), .meta_json = meta, .meta_size = strlen(meta),
                             .timestamp_us = 1700000000000000ull + (uint64_t)i};
        assert_int_equal(maif_writer_add(w, &s, ids[i]), MAIF_OK);
    }
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);

    char *v21 = tu_path(f->dir, "out.v21.maif"), *back = tu_path(f->dir, "back.maif");
    assert_int_equal(maif_convert(f->path, v21, MAIF_FORMAT_V21, f->key, NULL, NULL), MAIF_OK);
    assert_int_equal(maif_convert(v21, back, MAIF_FORMAT_NATIVE, f->key, NULL, NULL), MAIF_OK);
    tu_assert_verifies_clean(back);
    maif_report *rep = NULL;
    assert_int_equal(maif_verify_file(v21, NULL, &rep), MAIF_OK);
    if (!maif_report_ok(rep)) tu_dump_report(rep);
    assert_true(maif_report_ok(rep));
    assert_int_equal(maif_report_format(rep), MAIF_FORMAT_V21);
    assert_int_equal(maif_report_blocks(rep), 6);
    maif_report_free(rep);

    const char *paths[2] = {v21, back};
    const int formats[2] = {MAIF_FORMAT_V21, MAIF_FORMAT_NATIVE};
    for (int p = 0; p < 2; p++) {
        maif_reader *r = NULL;
        assert_int_equal(maif_reader_open(&r, paths[p]), MAIF_OK);
        assert_int_equal(maif_reader_format(r), formats[p]);
        assert_int_equal(maif_reader_count(r), 6);
        for (uint64_t i = 0; i < 6; i++) {
            maif_block b;
            char text[32];
            snprintf(text, sizeof text, "payload %d", (int)i);
            assert_int_equal(maif_reader_block(r, i, &b), MAIF_OK);
            assert_int_equal(b.type, i == 3 ? MAIF_TYPE_BINARY : MAIF_TYPE_TEXT);
            assert_int_equal(b.payload_size, strlen(text));
            assert_memory_equal(b.payload, text, b.payload_size);
            assert_memory_equal(b.id, ids[i], MAIF_ID_BYTES);
            assert_int_equal(b.timestamp_us, 1700000000000000ull + i);
            assert_non_null(b.meta);
            uint64_t at;
            assert_int_equal(maif_reader_find(r, ids[i], &at), MAIF_OK);
            assert_int_equal(at, i);
        }
        maif_info info;
        assert_int_equal(maif_reader_info(r, &info), MAIF_OK);
        assert_non_null(strstr(info.agent, "conv-agent"));
        if (formats[p] == MAIF_FORMAT_NATIVE) /* where it came from */
            assert_non_null(strstr(info.converted_from, "\"format\":\"2.1\""));
        maif_reader_close(r);
    }

    /* refusals */
    char *x = tu_path(f->dir, "x.maif"), *missing = tu_path(f->dir, "missing.maif");
    assert_int_equal(maif_convert(f->path, x, 3, f->key, NULL, NULL), MAIF_EINVAL);
    assert_true(strlen(maif_last_errmsg()) > 0);
    assert_int_equal(maif_convert(NULL, x, MAIF_FORMAT_V21, f->key, NULL, NULL), MAIF_EINVAL);
    assert_int_equal(maif_convert(f->path, NULL, MAIF_FORMAT_V21, f->key, NULL, NULL), MAIF_EINVAL);
    assert_int_equal(maif_convert(f->path, x, MAIF_FORMAT_V21, NULL, NULL, NULL), MAIF_EINVAL);
    assert_int_equal(maif_convert(missing, x, MAIF_FORMAT_NATIVE, f->key, NULL, NULL), MAIF_ENOTFOUND);
    assert_non_null(strstr(maif_last_errmsg(), "missing.maif"));
    /* supersedes links cannot go to 2.1, and nothing is left behind */
    assert_int_equal(maif_writer_open(&w, f->path, f->key, NULL), MAIF_OK);
    maif_block_spec s = {.type = MAIF_TYPE_TEXT, .payload = "v2", .payload_size = 2, .supersedes = ids[0]};
    assert_int_equal(maif_writer_add(w, &s, NULL), MAIF_OK);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    assert_int_equal(maif_convert(f->path, x, MAIF_FORMAT_V21, f->key, NULL, NULL), MAIF_EUNSUPPORTED);
    assert_non_null(strstr(maif_last_errmsg(), "supersedes"));
    struct stat st;
    assert_int_not_equal(stat(x, &st), 0);
    /* native to native keeps the link */
    assert_int_equal(maif_convert(f->path, x, MAIF_FORMAT_NATIVE, f->key, NULL, NULL), MAIF_OK);
    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open(&r, x), MAIF_OK);
    uint64_t h[4];
    size_t hn = 0;
    assert_int_equal(maif_reader_history(r, ids[0], h, 4, &hn), MAIF_OK);
    assert_int_equal(hn, 2);
    assert_int_equal(h[0], 0);
    assert_int_equal(h[1], 6);
    maif_info info;
    assert_int_equal(maif_reader_info(r, &info), MAIF_OK);
    assert_non_null(strstr(info.converted_from, "\"format\":\"native\""));
    maif_reader_close(r);
    free(missing);
    free(x);
    free(back);
    free(v21);
}

/* Every 2.1 sample converts to native and back with its blocks intact. */
static void test_convert_samples(void **state)
{
    tu_fixture *f = *state;
    const char *names[] = {"sample_text.maif", "sample_multimodal.maif", "sample_embeddings.maif"};
    for (size_t s = 0; s < sizeof names / sizeof names[0]; s++) {
        char *in = tu_path(tu_samples_dir(), names[s]);
        char *nat = tu_path(f->dir, "n.maif"), *again = tu_path(f->dir, "again.maif");
        assert_int_equal(maif_convert(in, nat, MAIF_FORMAT_NATIVE, f->key, NULL, NULL), MAIF_OK);
        tu_assert_verifies_clean(nat);
        assert_int_equal(maif_convert(nat, again, MAIF_FORMAT_V21, f->key, NULL, NULL), MAIF_OK);
        maif_reader *a = NULL, *b = NULL, *c = NULL;
        assert_int_equal(maif_reader_open(&a, in), MAIF_OK);
        assert_int_equal(maif_reader_open(&b, nat), MAIF_OK);
        assert_int_equal(maif_reader_open(&c, again), MAIF_OK);
        assert_int_equal(maif_reader_count(a), maif_reader_count(b));
        assert_int_equal(maif_reader_count(a), maif_reader_count(c));
        for (uint64_t i = 0; i < maif_reader_count(a); i++) {
            maif_block x, y, z;
            assert_int_equal(maif_reader_block(a, i, &x), MAIF_OK);
            assert_int_equal(maif_reader_block(b, i, &y), MAIF_OK);
            assert_int_equal(maif_reader_block(c, i, &z), MAIF_OK);
            assert_int_equal(x.type, y.type);
            assert_int_equal(x.type, z.type);
            assert_memory_equal(x.id, y.id, MAIF_ID_BYTES);
            assert_memory_equal(x.id, z.id, MAIF_ID_BYTES);
            assert_int_equal(x.payload_size, y.payload_size);
            assert_int_equal(x.payload_size, z.payload_size);
            assert_memory_equal(x.payload, y.payload, x.payload_size);
            assert_memory_equal(x.payload, z.payload, x.payload_size);
            assert_int_equal(x.timestamp_us, z.timestamp_us);
        }
        maif_reader_close(a);
        maif_reader_close(b);
        maif_reader_close(c);
        free(again);
        free(nat);
        free(in);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strerror_every_code),
        cmocka_unit_test_setup_teardown(test_last_errmsg, tu_setup, tu_teardown),
        cmocka_unit_test(test_types),
        cmocka_unit_test(test_hex),
        cmocka_unit_test_setup_teardown(test_reader_open_mem_errors, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_reader_damaged_block, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_report_accessors, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_key_errors, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_key_load_default, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_writer_null_and_count, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_writer_refusals, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_report_too_many, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_convert_round_trip, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_convert_samples, tu_setup, tu_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
