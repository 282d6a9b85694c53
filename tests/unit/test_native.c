/*
 * test_native.c — the native format through the public API: round trips of
 * every block type with metadata, explicit ids and timestamps, supersedes
 * chains and histories; info and record listings; rollback, reopen for
 * append, locking, create-over-existing, bad arguments and bad metadata;
 * key files; a long run of small commits that must keep the index bounded;
 * and signer pinning in the verifier.
 *
 * Corruption, truncation and golden files are in test_native_faults.c; the
 * SIGKILL crash loop is in test_native_crash.c.
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
#include "format/native/native_writer.h"
#include "util/common.h"

/* ------------------------------------------------------------- helpers */

typedef struct fixture {
    char *dir;
    char *path;
    maif_key *key;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f) return -1;
    f->dir = tu_tmpdir();
    f->path = tu_path(f->dir, "a.maif");
    if (!f->dir || !f->path || maif_key_generate(&f->key) != MAIF_OK) return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    maif_key_free(f->key);
    tu_rmtree(f->dir);
    free(f->dir);
    free(f->path);
    free(f);
    return 0;
}

/* Deterministic bytes for (seed): splitmix64 words. */
static void pattern(uint8_t *p, size_t n, uint64_t seed)
{
    uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
    for (size_t i = 0; i < n; i += 8) {
        uint64_t z = (x += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        z ^= z >> 31;
        size_t k = n - i < 8 ? n - i : 8;
        memcpy(p + i, &z, k);
    }
}

static int check_pattern(const uint8_t *p, size_t n, uint64_t seed)
{
    uint8_t *e = malloc(n ? n : 1);
    assert_non_null(e);
    pattern(e, n, seed);
    int ok = memcmp(e, p, n) == 0;
    free(e);
    return ok;
}

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint64_t file_size(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return (uint64_t)st.st_size;
}

static int has_code(const maif_report *r, const char *code, int severity)
{
    for (size_t i = 0; i < maif_report_count(r); i++) {
        const maif_finding *f = maif_report_finding(r, i);
        if (strcmp(f->code, code) == 0 && (severity < 0 || f->severity == severity)) return 1;
    }
    return 0;
}

static void dump_report(const maif_report *r)
{
    for (size_t i = 0; i < maif_report_count(r); i++) {
        const maif_finding *f = maif_report_finding(r, i);
        print_message("  [%d] %s %s block=%lld off=%lld %s\n", f->severity, f->code, f->section,
                      (long long)f->block, (long long)f->offset, f->message);
    }
}

/* Verifies the file and asserts it is ok with no warnings or errors. */
static void assert_verifies_clean(const char *path)
{
    maif_report *rep = NULL;
    assert_int_equal(maif_verify_file(path, NULL, &rep), MAIF_OK);
    for (size_t i = 0; i < maif_report_count(rep); i++)
        if (maif_report_finding(rep, i)->severity != MAIF_SEV_INFO) {
            dump_report(rep);
            fail_msg("%s: unexpected finding", path);
        }
    assert_true(maif_report_ok(rep));
    maif_report_free(rep);
}

static void add_simple(maif_writer *w, uint32_t type, const void *p, size_t n, const char *meta, uint8_t id[16])
{
    maif_block_spec s = {.type = type, .payload = p, .payload_size = n, .meta_json = meta,
                         .meta_size = meta ? strlen(meta) : 0};
    assert_int_equal(maif_writer_add(w, &s, id), MAIF_OK);
}

/* --------------------------------------------------------- round trips */

typedef struct expect {
    uint32_t type;
    const char *payload;
    size_t payload_size;
    const char *meta_in;
    const char *meta_out; /* canonical; NULL for none */
    int explicit_id;
    uint64_t ts;
} expect;

static void test_roundtrip_all_types(void **state)
{
    fixture *f = *state;
    static const float emb[4] = {0.25f, -1.5f, 3.0f, 0.0f};
    static const char png[8] = {(char)0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    const expect ex[] = {
        {MAIF_TYPE_TEXT, "hello, world", 12, "{ \"source\" : \"chat\", \"privacy\": \"public\", \"a\": [1, 2] }",
         "{\"a\":[1,2],\"privacy\":\"public\",\"source\":\"chat\"}", 0, 0},
        {MAIF_TYPE_EMBEDDING, (const char *)emb, sizeof emb, "{\"model\":\"m\",\"dim\":4}", "{\"dim\":4,\"model\":\"m\"}",
         1, 1700000000000001ull},
        {MAIF_TYPE_IMAGE, png, sizeof png, "{\"z\":{\"b\":true,\"a\":null}}", "{\"z\":{\"a\":null,\"b\":true}}", 0,
         1700000000000002ull},
        {MAIF_TYPE_AUDIO, "RIFF....WAVE", 12, NULL, NULL, 1, 0},
        {MAIF_TYPE_VIDEO, "\0\0\0\x18" "ftypmp42", 12, "{}", NULL, 0, 5},
        {MAIF_TYPE_KNOWLEDGE, "alice knows bob", 15, "{\"relationships\":[]}", "{\"relationships\":[]}", 0, 0},
        {MAIF_TYPE_BINARY, "\x00\x01\x02\xff", 4, "{\"k\":\"caf\xc3\xa9\"}", "{\"k\":\"caf\xc3\xa9\"}", 1, 0},
        {MAIF_TYPE_META, "", 0, "{\"n\":1.5}", "{\"n\":1.5}", 0, 0},
        {MAIF_TYPE_JSON, "{\"x\":1}", 7, "{\"timestamp\":1,\"source\":\"s\"}", "{\"source\":\"s\",\"timestamp\":1}", 0, 0},
        {MAIF_FOURCC('Z', 'Z', 'Z', '9'), "unknown type kept", 17, NULL, NULL, 0, 0},
    };
    const size_t n = sizeof ex / sizeof ex[0];
    uint8_t ids[16][MAIF_ID_BYTES];

    uint8_t sup[3][MAIF_ID_BYTES]; /* the three versions of one logical item */

    uint64_t t0 = now_us();
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->key, "agent-7", NULL), MAIF_OK);
    assert_int_equal(maif_writer_count(w), 0);
    for (size_t i = 0; i < n; i++) {
        uint8_t want_id[MAIF_ID_BYTES];
        for (int k = 0; k < MAIF_ID_BYTES; k++) want_id[k] = (uint8_t)(0xa0 + i + k);
        maif_block_spec s = {.type = ex[i].type, .payload = ex[i].payload_size ? ex[i].payload : NULL,
                             .payload_size = ex[i].payload_size, .meta_json = ex[i].meta_in,
                             .meta_size = ex[i].meta_in ? strlen(ex[i].meta_in) : 0,
                             .id = ex[i].explicit_id ? want_id : NULL, .timestamp_us = ex[i].ts};
        assert_int_equal(maif_writer_add(w, &s, ids[i]), MAIF_OK);
        if (ex[i].explicit_id) assert_memory_equal(ids[i], want_id, MAIF_ID_BYTES);
        assert_int_equal(maif_writer_count(w), i + 1);
    }
    /* A chain of three versions: v0 <- v1 <- v2, spread over two commits. */
    add_simple(w, MAIF_TYPE_TEXT, "v0", 2, "{\"version\":0}", sup[0]);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    maif_block_spec s1 = {.type = MAIF_TYPE_TEXT, .payload = "v1", .payload_size = 2,
                          .meta_json = "{\"version\":1}", .meta_size = 13, .supersedes = sup[0]};
    assert_int_equal(maif_writer_add(w, &s1, sup[1]), MAIF_OK);
    add_simple(w, MAIF_TYPE_TEXT, "unrelated", 9, NULL, NULL);
    maif_block_spec s2 = {.type = MAIF_TYPE_TEXT, .payload = "v2", .payload_size = 2,
                          .meta_json = "{\"version\":2}", .meta_size = 13, .supersedes = sup[1]};
    assert_int_equal(maif_writer_add(w, &s2, sup[2]), MAIF_OK);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_count(w), n + 4);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    uint64_t t1 = now_us();

    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    assert_int_equal(maif_reader_format(r), MAIF_FORMAT_NATIVE);
    assert_int_equal(maif_reader_count(r), n + 4);
    for (size_t i = 0; i < n; i++) {
        maif_block b;
        assert_int_equal(maif_reader_block(r, i, &b), MAIF_OK);
        assert_int_equal(b.index, i);
        assert_int_equal(b.type, ex[i].type);
        assert_int_equal(b.payload_size, ex[i].payload_size);
        if (b.payload_size) assert_memory_equal(b.payload, ex[i].payload, b.payload_size);
        if (ex[i].meta_out) {
            assert_non_null(b.meta);
            assert_int_equal(b.meta_size, strlen(ex[i].meta_out));
            assert_memory_equal(b.meta, ex[i].meta_out, b.meta_size);
        } else {
            assert_null(b.meta);
            assert_int_equal(b.meta_size, 0);
        }
        assert_memory_equal(b.id, ids[i], MAIF_ID_BYTES);
        if (ex[i].ts) assert_int_equal(b.timestamp_us, ex[i].ts);
        else assert_true(b.timestamp_us >= t0 && b.timestamp_us <= t1);
        assert_false(b.has_supersedes);
        assert_int_equal(b.flags, 0);
        assert_int_equal(b.codec, 0);
        assert_int_equal(b.cipher, 0);
        uint8_t h[32];
        maif_sha256(b.payload, b.payload_size, h);
        assert_memory_equal(h, b.content_hash, 32);
        uint64_t at = 99;
        assert_int_equal(maif_reader_find(r, ids[i], &at), MAIF_OK);
        assert_int_equal(at, i);
    }
    /* the version chain */
    maif_block b;
    assert_int_equal(maif_reader_block(r, n + 1, &b), MAIF_OK);
    assert_true(b.has_supersedes);
    assert_int_equal(b.flags, MAIF_BLOCK_F_SUPERSEDES);
    assert_memory_equal(b.supersedes, sup[0], MAIF_ID_BYTES);
    assert_int_equal(maif_reader_block(r, n + 3, &b), MAIF_OK);
    assert_memory_equal(b.supersedes, sup[1], MAIF_ID_BYTES);
    assert_memory_equal(b.payload, "v2", 2);
    assert_memory_equal(b.meta, "{\"version\":2}", 13);
    for (int v = 0; v < 3; v++) {
        uint64_t hist[8] = {0};
        size_t hn = 0;
        assert_int_equal(maif_reader_history(r, sup[v], hist, 8, &hn), MAIF_OK);
        assert_int_equal(hn, 3);
        assert_int_equal(hist[0], n);
        assert_int_equal(hist[1], n + 1);
        assert_int_equal(hist[2], n + 3);
    }
    uint64_t one = 0;
    size_t hn = 0;
    assert_int_equal(maif_reader_history(r, sup[1], &one, 1, &hn), MAIF_OK);
    assert_int_equal(hn, 3);
    assert_int_equal(one, n);
    assert_int_equal(maif_reader_history(r, sup[1], NULL, 0, &hn), MAIF_OK);
    assert_int_equal(hn, 3);
    assert_int_equal(maif_reader_history(r, ids[0], &one, 1, &hn), MAIF_OK); /* a single version */
    assert_int_equal(hn, 1);
    assert_int_equal(one, 0);
    uint8_t nosuch[MAIF_ID_BYTES] = {1, 2, 3};
    assert_int_equal(maif_reader_find(r, nosuch, &one), MAIF_ENOTFOUND);
    assert_int_equal(maif_reader_history(r, nosuch, &one, 1, &hn), MAIF_ENOTFOUND);
    assert_int_equal(maif_reader_block(r, n + 4, &b), MAIF_ENOTFOUND);

    /* info */
    maif_info info;
    assert_int_equal(maif_reader_info(r, &info), MAIF_OK);
    assert_int_equal(info.format, MAIF_FORMAT_NATIVE);
    assert_int_equal(info.version_major, NAT_READ_VERSION);
    assert_string_equal(info.agent, "agent-7");
    assert_string_equal(info.converted_from, "");
    assert_int_equal(info.commit_count, 3); /* create's empty commit + 2 */
    assert_int_equal(info.block_count, n + 4);
    assert_int_equal(info.torn_bytes, 0);
    assert_int_equal(info.file_size, file_size(f->path));
    assert_true(info.created_us >= t0 && info.created_us <= t1);
    assert_true(info.modified_us >= info.created_us && info.modified_us <= t1);
    uint8_t pk[32];
    maif_key_public(f->key, pk);
    assert_memory_equal(info.signer, pk, 32);

    /* records: header, then blocks / index / commit tiling the file */
    maif_record rec;
    assert_int_equal(maif_reader_record(r, 0, &rec), MAIF_OK);
    assert_string_equal(rec.kind, "header");
    assert_int_equal(rec.offset, 0);
    assert_int_equal(rec.block_index, -1);
    uint64_t end = rec.size, nblk = 0, nidx = 0, ncmt = 0, i = 1;
    for (; maif_reader_record(r, i, &rec) == MAIF_OK; i++) {
        assert_int_equal(rec.offset, end);
        assert_int_equal(rec.offset % 8, 0);
        end = rec.offset + rec.size;
        if (strcmp(rec.kind, "block") == 0) {
            assert_int_equal(rec.block_index, (int64_t)nblk);
            assert_int_equal(maif_reader_block(r, nblk, &b), MAIF_OK);
            assert_int_equal(b.offset, rec.offset);
            assert_int_equal(rec.type, b.type);
            nblk++;
        } else if (strcmp(rec.kind, "index") == 0) {
            assert_int_equal(rec.block_index, -1);
            nidx++;
        } else {
            assert_string_equal(rec.kind, "commit");
            assert_int_equal(rec.block_index, -1);
            ncmt++;
        }
    }
    assert_int_equal(maif_reader_record(r, i, &rec), MAIF_ENOTFOUND);
    assert_int_equal(end, info.file_size);
    assert_int_equal(nblk, n + 4);
    assert_int_equal(ncmt, 3);
    assert_int_equal(nidx, 2); /* the empty first commit writes no index */
    assert_string_equal(rec.kind, "commit"); /* the last record seals the file */
    maif_reader_close(r);
    assert_verifies_clean(f->path);
}

/* Pending blocks are invisible to readers; rollback and close discard them. */
static void test_rollback(void **state)
{
    fixture *f = *state;
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->key, NULL, NULL), MAIF_OK);
    add_simple(w, MAIF_TYPE_TEXT, "keep0", 5, NULL, NULL);
    add_simple(w, MAIF_TYPE_TEXT, "keep1", 5, "{\"a\":1}", NULL);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    uint64_t committed = file_size(f->path);

    /* small and large (written straight to the file) pending blocks */
    size_t big = 600 << 10;
    uint8_t *p = malloc(big);
    assert_non_null(p);
    pattern(p, big, 42);
    add_simple(w, MAIF_TYPE_BINARY, p, big, NULL, NULL);
    add_simple(w, MAIF_TYPE_TEXT, "drop", 4, NULL, NULL);
    add_simple(w, MAIF_TYPE_BINARY, p, big, "{\"b\":2}", NULL);
    assert_int_equal(maif_writer_count(w), 5);
    assert_true(file_size(f->path) > committed);

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
    assert_int_equal(file_size(f->path), committed);
    assert_int_equal(maif_writer_rollback(w), MAIF_OK); /* idempotent */
    add_simple(w, MAIF_TYPE_TEXT, "after", 5, NULL, NULL);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    uint64_t committed2 = file_size(f->path);
    /* close with pending blocks rolls back */
    add_simple(w, MAIF_TYPE_BINARY, p, big, NULL, NULL);
    add_simple(w, MAIF_TYPE_TEXT, "lost", 4, NULL, NULL);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    assert_int_equal(file_size(f->path), committed2);
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
    assert_verifies_clean(f->path);
}

/* Reopening continues the numbering; a second writer is locked out. */
static void test_reopen_and_lock(void **state)
{
    fixture *f = *state;
    maif_writer *w = NULL, *w2 = NULL;
    assert_int_equal(maif_writer_open(&w, f->path, f->key, NULL), MAIF_ENOTFOUND);
    assert_null(w);
    assert_int_equal(maif_writer_create(&w, f->path, f->key, "a", NULL), MAIF_OK);
    add_simple(w, MAIF_TYPE_TEXT, "b0", 2, NULL, NULL);
    add_simple(w, MAIF_TYPE_TEXT, "b1", 2, NULL, NULL);
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
    add_simple(w, MAIF_TYPE_TEXT, "b2", 2, NULL, id);
    add_simple(w, MAIF_TYPE_TEXT, "b3", 2, NULL, NULL);
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
    fixture *f = *state;
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->key, NULL, NULL), MAIF_OK);
    add_simple(w, MAIF_TYPE_TEXT, "x", 1, NULL, NULL);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
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
    assert_verifies_clean(f->path);

    /* a missing directory */
    char *bad = tu_path(f->dir, "no/such/dir.maif");
    assert_int_not_equal(maif_writer_create(&w, bad, f->key, NULL, NULL), MAIF_OK);
    assert_null(w);
    free(bad);
}

static void test_bad_args(void **state)
{
    fixture *f = *state;
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(NULL, f->path, f->key, NULL, NULL), MAIF_EINVAL);
    assert_int_equal(maif_writer_create(&w, NULL, f->key, NULL, NULL), MAIF_EINVAL);
    assert_int_equal(maif_writer_create(&w, f->path, NULL, NULL, NULL), MAIF_EINVAL);
    assert_int_equal(access(f->path, F_OK), -1);
    assert_int_equal(maif_writer_open(NULL, f->path, f->key, NULL), MAIF_EINVAL);
    assert_int_equal(maif_writer_create(&w, f->path, f->key, NULL, NULL), MAIF_OK);
    assert_int_equal(maif_writer_open(&w, NULL, f->key, NULL), MAIF_EINVAL);

    maif_block_spec s = {.type = MAIF_TYPE_TEXT, .payload = NULL, .payload_size = 3};
    assert_int_equal(maif_writer_add(NULL, &s, NULL), MAIF_EINVAL);
    assert_int_equal(maif_writer_add(w, NULL, NULL), MAIF_EINVAL);
    assert_int_equal(maif_writer_add(w, &s, NULL), MAIF_EINVAL); /* NULL payload with a size */
    s = (maif_block_spec){.type = 0, .payload = "x", .payload_size = 1};
    assert_int_equal(maif_writer_add(w, &s, NULL), MAIF_EINVAL);
    assert_true(strlen(maif_writer_errmsg(w)) > 0);
    s = (maif_block_spec){.type = MAIF_TYPE_TEXT, .payload = NULL, .payload_size = 0};
    assert_int_equal(maif_writer_add(w, &s, NULL), MAIF_OK); /* an empty payload is fine */
    assert_int_equal(maif_writer_count(w), 1);
    assert_int_equal(maif_writer_commit(NULL), MAIF_EINVAL);
    assert_int_equal(maif_writer_rollback(NULL), MAIF_EINVAL);
    assert_int_equal(maif_writer_count(NULL), 0);
    assert_string_equal(maif_writer_errmsg(NULL), "");
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    assert_int_equal(maif_writer_close(NULL), MAIF_OK);

    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open(NULL, f->path), MAIF_EINVAL);
    assert_int_equal(maif_reader_open(&r, NULL), MAIF_EINVAL);
    assert_int_equal(maif_reader_open_mem(&r, NULL, 5), MAIF_EINVAL);
    char *missing = tu_path(f->dir, "missing.maif");
    assert_int_equal(maif_reader_open(&r, missing), MAIF_ENOTFOUND);
    assert_null(r);
    assert_non_null(strstr(maif_last_errmsg(), "missing.maif")); /* the one error channel */
    assert_int_equal(maif_reader_open(&r, f->dir), MAIF_EIO); /* a directory */
    assert_non_null(strstr(maif_last_errmsg(), "is a directory"));
    maif_report *rep = NULL;
    assert_int_equal(maif_verify_file(missing, NULL, &rep), MAIF_ENOTFOUND);
    assert_null(rep);
    free(missing);
    assert_int_equal(maif_verify_mem("x", 1, NULL, NULL), MAIF_EINVAL);
    assert_int_equal(maif_verify_mem(NULL, 1, NULL, &rep), MAIF_EINVAL);
    assert_int_equal(maif_verify_file(NULL, NULL, &rep), MAIF_EINVAL);

    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    maif_block b;
    uint64_t idx;
    size_t hn;
    uint8_t id[MAIF_ID_BYTES] = {0};
    assert_int_equal(maif_reader_block(r, 0, NULL), MAIF_EINVAL);
    assert_int_equal(maif_reader_block(NULL, 0, &b), MAIF_EINVAL);
    assert_int_equal(maif_reader_block(r, 1, &b), MAIF_ENOTFOUND);
    assert_int_equal(maif_reader_block(r, UINT64_MAX, &b), MAIF_ENOTFOUND);
    assert_true(strlen(maif_reader_errmsg(r)) > 0);
    assert_int_equal(maif_reader_find(r, NULL, &idx), MAIF_EINVAL);
    assert_int_equal(maif_reader_history(r, id, NULL, 1, &hn), MAIF_EINVAL);
    assert_int_equal(maif_reader_history(r, id, &idx, 1, NULL), MAIF_EINVAL);
    assert_int_equal(maif_reader_info(r, NULL), MAIF_EINVAL);
    assert_int_equal(maif_reader_record(r, 0, NULL), MAIF_EINVAL);
    assert_int_equal(maif_reader_block(r, 0, &b), MAIF_OK);
    assert_int_equal(b.payload_size, 0);
    maif_reader_close(r);
    maif_reader_close(NULL);
    maif_report_free(NULL);
    maif_key_free(NULL);
    assert_int_equal(maif_reader_count(NULL), 0);
    assert_non_null(maif_strerror(MAIF_EINVAL));
    assert_non_null(maif_strerror(12345));
}

static void test_bad_metadata(void **state)
{
    fixture *f = *state;
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->key, NULL, NULL), MAIF_OK);
    add_simple(w, MAIF_TYPE_TEXT, "good", 4, "{\"ok\":true}", NULL);
    const char *bad[] = {"{bad", "[1,2]", "\"str\"", "42", "{\"a\":1,\"a\":2}", "{\"a\":1} x", "{\"a\":NaN}",
                         "{\"a\":\"\xff\"}", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        maif_block_spec s = {.type = MAIF_TYPE_TEXT, .payload = "bad", .payload_size = 3, .meta_json = bad[i],
                             .meta_size = strlen(bad[i])};
        int rc = maif_writer_add(w, &s, NULL);
        if (bad[i][0] == 0) {
            assert_int_equal(rc, MAIF_OK); /* meta_size 0 means no metadata */
            assert_int_equal(maif_writer_rollback(w), MAIF_OK);
            add_simple(w, MAIF_TYPE_TEXT, "good", 4, "{\"ok\":true}", NULL);
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
    assert_verifies_clean(f->path);
}

static void test_keys(void **state)
{
    fixture *f = *state;
    char *kp = tu_path(f->dir, "k.key"), *pub = tu_path(f->dir, "k.key.pub");
    assert_int_equal(maif_key_save(f->key, kp), MAIF_OK);
    struct stat st;
    assert_int_equal(stat(kp, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(stat(pub, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);

    uint8_t pk[32], pk2[32], pk3[32];
    maif_key_public(f->key, pk);
    maif_key *k = NULL;
    assert_int_equal(maif_key_load(&k, kp), MAIF_OK);
    maif_key_public(k, pk2);
    assert_memory_equal(pk, pk2, 32);
    assert_int_equal(maif_pubkey_load(pub, pk3), MAIF_OK);
    assert_memory_equal(pk, pk3, 32);
    memset(pk3, 0, 32);
    assert_int_equal(maif_pubkey_load(kp, pk3), MAIF_OK); /* the public half of a secret file */
    assert_memory_equal(pk, pk3, 32);

    /* the loaded key signs commits that verify against the saved public key */
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, k, NULL, NULL), MAIF_OK);
    add_simple(w, MAIF_TYPE_TEXT, "signed", 6, NULL, NULL);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    maif_key_free(k);
    maif_options *opt = tu_verify_options(pk3, 1, 0);
    maif_report *rep = NULL;
    assert_int_equal(maif_verify_file(f->path, opt, &rep), MAIF_OK);
    maif_options_free(opt);
    assert_true(maif_report_ok(rep));
    maif_report_free(rep);

    /* malformed key files */
    size_t klen;
    uint8_t *text = tu_read(kp, &klen);
    assert_non_null(text);
    char *bad = tu_path(f->dir, "bad.key");
    struct {
        const char *what;
        char body[256];
    } cases[6];
    size_t nc = 0;
    snprintf(cases[nc].body, sizeof cases[nc].body, "%s", "garbage\n");
    cases[nc++].what = "garbage";
    snprintf(cases[nc].body, sizeof cases[nc].body, "%.*s\n", (int)(klen - 3), (const char *)text);
    cases[nc++].what = "short hex";
    snprintf(cases[nc].body, sizeof cases[nc].body, "%.*sZ\n", (int)(klen - 2), (const char *)text);
    cases[nc++].what = "non-hex digit";
    snprintf(cases[nc].body, sizeof cases[nc].body, "%.*s00\n", (int)(klen - 1), (const char *)text);
    cases[nc++].what = "long hex";
    snprintf(cases[nc].body, sizeof cases[nc].body, "%s", "");
    cases[nc++].what = "empty";
    snprintf(cases[nc].body, sizeof cases[nc].body, "%.*s x\n", (int)(klen - 1), (const char *)text);
    cases[nc++].what = "trailing junk";
    for (size_t i = 0; i < nc; i++) {
        assert_int_equal(tu_write(bad, cases[i].body, strlen(cases[i].body)), 0);
        k = NULL;
        int rc = maif_key_load(&k, bad);
        if (rc != MAIF_EKEY) fail_msg("key file (%s): got %d, want MAIF_EKEY", cases[i].what, rc);
        assert_null(k);
        assert_int_equal(maif_pubkey_load(bad, pk3), MAIF_EKEY);
    }
    /* a public key file is not a secret key */
    assert_int_equal(maif_key_load(&k, pub), MAIF_EKEY);
    assert_null(k);
    char *missing = tu_path(f->dir, "none.key");
    assert_int_equal(maif_key_load(&k, missing), MAIF_ENOTFOUND);
    assert_int_equal(maif_pubkey_load(missing, pk3), MAIF_ENOTFOUND);
    assert_int_equal(maif_key_load(NULL, kp), MAIF_EINVAL);
    free(missing);
    free(bad);
    free(text);
    free(kp);
    free(pub);
}

/* 300 commits of 1–5 blocks: the index stays within 64 segments, every
 * block stays readable, with reopens of the writer along the way. */
static void test_many_commits(void **state)
{
    fixture *f = *state;
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
            pattern(buf, len, total);
            char meta[64];
            snprintf(meta, sizeof meta, "{\"n\":%llu}", (unsigned long long)total);
            add_simple(w, MAIF_TYPE_BINARY, buf, len, meta, NULL);
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
                assert_true(check_pattern(b.payload, want, i));
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
    assert_verifies_clean(f->path);
}

/* Unpinned, pinned to the right key, pinned to the wrong one. */
static void test_verify_pinning(void **state)
{
    fixture *f = *state;
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->key, NULL, NULL), MAIF_OK);
    add_simple(w, MAIF_TYPE_TEXT, "pin", 3, "{\"x\":1}", NULL);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    uint8_t keys[3][32];
    maif_key *other = NULL;
    assert_int_equal(maif_key_generate(&other), MAIF_OK);
    maif_key_public(other, keys[0]);
    maif_key_public(f->key, keys[1]);
    memset(keys[2], 0x5a, 32);
    maif_key_free(other);

    maif_report *rep = NULL;
    assert_int_equal(maif_verify_file(f->path, NULL, &rep), MAIF_OK);
    assert_true(maif_report_ok(rep));
    assert_int_equal(maif_report_format(rep), MAIF_FORMAT_NATIVE);
    assert_int_equal(maif_report_blocks(rep), 1);
    assert_true(has_code(rep, "signer-not-pinned", MAIF_SEV_INFO));
    assert_int_equal(maif_report_signer_count(rep), 1);
    uint8_t pk[32];
    int pinned = -1;
    assert_int_equal(maif_report_signer(rep, 0, pk, &pinned), MAIF_OK);
    assert_memory_equal(pk, keys[1], 32);
    assert_int_equal(pinned, 0);
    assert_null(maif_report_finding(rep, maif_report_count(rep)));
    maif_report_free(rep);

    maif_options *right = tu_verify_options(keys[1], 1, 2);
    assert_int_equal(maif_verify_file(f->path, right, &rep), MAIF_OK);
    maif_options_free(right);
    assert_true(maif_report_ok(rep));
    assert_false(has_code(rep, "signer-not-pinned", -1));
    assert_false(has_code(rep, "untrusted-signer", -1));
    assert_int_equal(maif_report_signer(rep, 0, pk, &pinned), MAIF_OK);
    assert_int_equal(pinned, 1);
    maif_report_free(rep);

    maif_options *several = tu_verify_options(keys, 3, 0);
    assert_int_equal(maif_verify_file(f->path, several, &rep), MAIF_OK);
    maif_options_free(several);
    assert_true(maif_report_ok(rep));
    maif_report_free(rep);

    maif_options *wrong = tu_verify_options(keys[0], 1, 0);
    assert_int_equal(maif_verify_file(f->path, wrong, &rep), MAIF_OK);
    maif_options_free(wrong);
    assert_false(maif_report_ok(rep));
    assert_true(has_code(rep, "untrusted-signer", MAIF_SEV_ERROR));
    assert_false(has_code(rep, "signer-not-pinned", -1));
    maif_report_free(rep);
}

/* The same image verifies identically from memory and from a file. */
static void test_verify_mem_matches_file(void **state)
{
    fixture *f = *state;
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->key, NULL, NULL), MAIF_OK);
    uint8_t *big = malloc(5 << 20); /* over the threaded-hashing threshold */
    assert_non_null(big);
    pattern(big, 5 << 20, 9);
    add_simple(w, MAIF_TYPE_VIDEO, big, 5 << 20, NULL, NULL);
    add_simple(w, MAIF_TYPE_TEXT, "t", 1, NULL, NULL);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    size_t len;
    uint8_t *img = tu_read(f->path, &len);
    assert_non_null(img);
    for (unsigned threads = 0; threads <= 4; threads++) {
        maif_options *opt = tu_verify_options(NULL, 0, threads);
        maif_report *rep = NULL;
        assert_int_equal(maif_verify_mem(img, len, opt, &rep), MAIF_OK);
        maif_options_free(opt);
        assert_true(maif_report_ok(rep));
        assert_int_equal(maif_report_blocks(rep), 2);
        maif_report_free(rep);
    }
    /* a damaged payload byte deep inside the big block, found by every pool size */
    img[len / 2] ^= 0x10;
    for (unsigned threads = 1; threads <= 4; threads++) {
        maif_options *opt = tu_verify_options(NULL, 0, threads);
        maif_report *rep = NULL;
        assert_int_equal(maif_verify_mem(img, len, opt, &rep), MAIF_OK);
        maif_options_free(opt);
        assert_false(maif_report_ok(rep));
        assert_true(has_code(rep, "content-hash", MAIF_SEV_ERROR));
        const maif_finding *fd = NULL;
        for (size_t i = 0; i < maif_report_count(rep); i++)
            if (strcmp(maif_report_finding(rep, i)->code, "content-hash") == 0) fd = maif_report_finding(rep, i);
        assert_int_equal(fd->block, 0);
        maif_report_free(rep);
    }
    free(img);
    free(big);
}

/* An I/O error (here: the file-size limit) kills the writer; the file keeps
 * every committed batch and the next open cuts the partial one. */
static void test_io_error_kills_writer(void **state)
{
    fixture *f = *state;
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->key, NULL, NULL), MAIF_OK);
    add_simple(w, MAIF_TYPE_TEXT, "safe", 4, NULL, NULL);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    uint64_t committed = file_size(f->path);

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
    assert_int_equal(file_size(f->path), committed);
    add_simple(w, MAIF_TYPE_TEXT, "again", 5, NULL, NULL);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    assert_verifies_clean(f->path);
}

/* A reader is a snapshot: later commits do not change what it shows, and
 * its views stay valid while the writer appends. */
static void test_reader_snapshot(void **state)
{
    fixture *f = *state;
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->key, NULL, NULL), MAIF_OK);
    add_simple(w, MAIF_TYPE_TEXT, "one", 3, NULL, NULL);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    maif_block b;
    assert_int_equal(maif_reader_block(r, 0, &b), MAIF_OK);
    for (int i = 0; i < 50; i++) add_simple(w, MAIF_TYPE_TEXT, "more", 4, NULL, NULL);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_reader_count(r), 1);
    assert_memory_equal(b.payload, "one", 3);
    maif_block b2;
    assert_int_equal(maif_reader_block(r, 1, &b2), MAIF_ENOTFOUND);
    maif_reader_close(r);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    assert_int_equal(maif_reader_count(r), 51);
    maif_reader_close(r);
}

/* Large payloads: written from a second thread while hashed. Round trip of
 * several 1–3 MiB blocks, and the crash window that design opens (payload in
 * place, header not yet written: a zero header) is a torn tail that readers
 * ignore, verify warns about, and recovery cuts. */
static void test_large_payloads_and_zero_header(void **state)
{
    fixture *f = *state;
    size_t sizes[] = {1u << 20, (3u << 20) + 5, (1u << 20) + 1};
    uint8_t *buf = malloc(sizes[1]);
    assert_non_null(buf);
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->key, NULL, NULL), MAIF_OK);
    for (size_t i = 0; i < 3; i++) {
        pattern(buf, sizes[i], 100 + i);
        add_simple(w, MAIF_TYPE_BINARY, buf, sizes[i], "{\"i\":1}", NULL);
    }
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    assert_verifies_clean(f->path);
    uint64_t committed = file_size(f->path);
    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    for (size_t i = 0; i < 3; i++) {
        maif_block b;
        assert_int_equal(maif_reader_block(r, i, &b), MAIF_OK);
        assert_int_equal(b.payload_size, sizes[i]);
        assert_true(check_pattern(b.payload, b.payload_size, 100 + i));
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
    assert_true(has_code(rep, "torn-tail", MAIF_SEV_WARNING));
    maif_report_free(rep);
    uint64_t cut = 0;
    assert_int_equal(maif_recover(f->path, NULL, &cut), MAIF_OK);
    assert_int_equal(cut, sizeof zeros + 4096);
    assert_int_equal(file_size(f->path), committed);
    assert_verifies_clean(f->path);
    free(buf);
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
    fixture *f = *state;
    const size_t sizes[6] = {3u << 20, 0, 13, (3u << 20) + 5, 1u << 20, 100};
    uint8_t *bufs[6];
    for (int i = 0; i < 6; i++) {
        bufs[i] = malloc(sizes[i] + 1);
        assert_non_null(bufs[i]);
        pattern(bufs[i], sizes[i], 70 + (uint64_t)i);
    }
    char *copy = tu_path(f->dir, "copied.maif");
    write_mixed(copy, f->key, 0, bufs, sizes);
    const int masks[] = {0x3f, 0x2b, 0x14, 0x01, 0x20};
    for (size_t m = 0; m < sizeof masks / sizeof masks[0]; m++) {
        write_mixed(f->path, f->key, masks[m], bufs, sizes);
        assert_verifies_clean(f->path);
        maif_reader *a = NULL, *b = NULL;
        assert_int_equal(maif_reader_open(&a, f->path), MAIF_OK);
        assert_int_equal(maif_reader_open(&b, copy), MAIF_OK);
        assert_int_equal(maif_reader_count(a), 6);
        assert_int_equal(maif_reader_count(b), 6);
        for (uint64_t i = 0; i < 6; i++) {
            maif_block x, y;
            assert_int_equal(maif_reader_block(a, i, &x), MAIF_OK);
            assert_int_equal(maif_reader_block(b, i, &y), MAIF_OK);
            assert_int_equal(x.offset, y.offset);
            assert_memory_equal(x.content_hash, y.content_hash, 32);
            assert_memory_equal(x.id, y.id, 16);
            assert_int_equal(x.timestamp_us, y.timestamp_us);
            assert_int_equal(x.has_supersedes, i == 4);
            assert_int_equal(x.meta_size, y.meta_size);
            if (x.meta_size) assert_memory_equal(x.meta, y.meta, x.meta_size);
            assert_int_equal(x.payload_size, sizes[i]);
            assert_true(check_pattern(x.payload, x.payload_size, 70 + i));
        }
        maif_reader_close(a);
        maif_reader_close(b);
    }
    assert_verifies_clean(copy);
    free(copy);
    for (int i = 0; i < 6; i++) free(bufs[i]);
}

/* With the writing thread pinned to one CPU the writer starts no helper
 * thread and hashes inline; the files it writes are the same (offsets and
 * content hashes of a mixed batch match the two-CPU run's) and verify. */
static void test_single_cpu(void **state)
{
    fixture *f = *state;
    cpu_set_t old, one;
    assert_int_equal(sched_getaffinity(0, sizeof old, &old), 0);
    int cpu = 0;
    while (!CPU_ISSET(cpu, &old)) cpu++;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    const size_t sizes[6] = {2u << 20, 0, 13, (1u << 20) + 5, 1000, 100};
    uint8_t *bufs[6];
    for (int i = 0; i < 6; i++) {
        bufs[i] = malloc(sizes[i] + 1);
        assert_non_null(bufs[i]);
        pattern(bufs[i], sizes[i], 90 + (uint64_t)i);
    }
    char *multi = tu_path(f->dir, "multi.maif");
    write_mixed(multi, f->key, 0x2b, bufs, sizes);
    assert_int_equal(sched_setaffinity(0, sizeof one, &one), 0);
    write_mixed(f->path, f->key, 0x2b, bufs, sizes);
    maif_writer *w = NULL; /* many small blocks, as the hasher would take them */
    assert_int_equal(maif_writer_open(&w, f->path, f->key, NULL), MAIF_OK);
    assert_null(w->hasher);
    for (int i = 0; i < 3000; i++) add_simple(w, MAIF_TYPE_TEXT, bufs[4], 1 + (size_t)i % 999, NULL, NULL);
    assert_null(w->hasher);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    assert_int_equal(sched_setaffinity(0, sizeof old, &old), 0);
    assert_verifies_clean(f->path);
    maif_reader *a = NULL, *b = NULL;
    assert_int_equal(maif_reader_open(&a, f->path), MAIF_OK);
    assert_int_equal(maif_reader_open(&b, multi), MAIF_OK);
    assert_int_equal(maif_reader_count(a), 3006);
    for (uint64_t i = 0; i < 6; i++) {
        maif_block x, y;
        assert_int_equal(maif_reader_block(a, i, &x), MAIF_OK);
        assert_int_equal(maif_reader_block(b, i, &y), MAIF_OK);
        assert_int_equal(x.offset, y.offset);
        assert_memory_equal(x.content_hash, y.content_hash, 32);
    }
    maif_reader_close(a);
    maif_reader_close(b);
    /* and with two CPUs the same small blocks go through the helper */
    if (CPU_COUNT(&old) > 1) {
        assert_int_equal(maif_writer_open(&w, multi, f->key, NULL), MAIF_OK);
        add_simple(w, MAIF_TYPE_TEXT, "x", 1, NULL, NULL);
        assert_non_null(w->hasher);
        assert_int_equal(maif_writer_commit(w), MAIF_OK);
        assert_int_equal(maif_writer_close(w), MAIF_OK);
        assert_verifies_clean(multi);
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
    fixture *f = *state;
    size_t cap = (1u << 20) + 16384;
    uint8_t *buf = malloc(cap);
    assert_non_null(buf);
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->key, "copies", NULL), MAIF_OK);
    uint64_t n = 0;
    for (int i = 0; i < 40; i++, n++) {
        size_t len = (1u << 20) - 4096 + (size_t)i * 211; /* around 1 MiB, unaligned */
        pattern(buf, len, 500 + (uint64_t)i);
        maif_block_spec sp = {.type = MAIF_TYPE_BINARY, .payload = buf, .payload_size = len};
        assert_int_equal(maif_writer_add(w, &sp, NULL), MAIF_OK);
        memset(buf, 0xee, cap); /* the writer must not be reading this any more */
        if (i % 7 == 3) {
            add_simple(w, MAIF_TYPE_TEXT, "between", 7, NULL, NULL);
            n++;
        }
        if (i % 10 == 9) assert_int_equal(maif_writer_commit(w), MAIF_OK);
    }
    pattern(buf, 300000, 999);
    maif_block_spec sp = {.type = MAIF_TYPE_BINARY, .payload = buf, .payload_size = 300000};
    assert_int_equal(maif_writer_add(w, &sp, NULL), MAIF_OK);
    assert_int_equal(maif_writer_rollback(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    assert_verifies_clean(f->path);
    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    assert_int_equal(maif_reader_count(r), n);
    for (uint64_t i = 0, k = 0; k < 40; k++) {
        maif_block b;
        assert_int_equal(maif_reader_block(r, i++, &b), MAIF_OK);
        assert_int_equal(b.payload_size, (1u << 20) - 4096 + k * 211);
        assert_true(check_pattern(b.payload, b.payload_size, 500 + k));
        if (k % 7 == 3) {
            assert_int_equal(maif_reader_block(r, i++, &b), MAIF_OK);
            assert_memory_equal(b.payload, "between", 7);
        }
    }
    maif_reader_close(r);
    free(buf);
}

/* Space a crashed writer reserved past the end of the file (drain reserves
 * a batch's range with fallocate before writing it) is given back when
 * the artifact is next opened for writing. */
static void test_reserved_space_returned(void **state)
{
    fixture *f = *state;
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->key, NULL, NULL), MAIF_OK);
    add_simple(w, MAIF_TYPE_TEXT, "x", 1, NULL, NULL);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
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
    assert_int_equal(maif_writer_open(&w, f->path, f->key, NULL), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    assert_int_equal(stat(f->path, &st), 0);
    assert_int_equal(st.st_size, size);
    assert_true(st.st_blocks * 512 < 1 << 20);
    assert_verifies_clean(f->path);
}

/* A FIFO (or any non-regular file) is refused at once, never waited on. */
static void test_fifo_refused(void **state)
{
    fixture *f = *state;
    char *fifo = tu_path(f->dir, "pipe");
    assert_int_equal(mkfifo(fifo, 0600), 0);
    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open(&r, fifo), MAIF_EIO);
    assert_null(r);
    maif_report *rep = NULL;
    assert_int_equal(maif_verify_file(fifo, NULL, &rep), MAIF_EIO);
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_open(&w, fifo, f->key, NULL), MAIF_EIO);
    assert_int_equal(maif_recover(fifo, NULL, NULL), MAIF_EIO);
    free(fifo);
}

/* Disk full at every point of a commit: with the file-size limit set to
 * each offset in turn (step 7 bytes) across one batch, its index and its
 * commit record, the writer either commits or fails with MAIF_EIO; either
 * way the artifact then opens with exactly the batches that committed,
 * verifies (a torn-tail warning allowed), recovers, and takes new batches. */
static void test_disk_full_sweep(void **state)
{
    fixture *f = *state;
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->key, "sweep", NULL), MAIF_OK);
    add_simple(w, MAIF_TYPE_TEXT, "base", 4, "{\"k\":1}", NULL);
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
            dump_report(rep);
            fail_msg("file-size limit %llu: verify failed", (unsigned long long)(base_len + extra));
        }
        maif_report_free(rep);
        assert_int_equal(maif_recover(path, NULL, NULL), MAIF_OK);
        assert_int_equal(maif_writer_open(&w, path, f->key, NULL), MAIF_OK);
        add_simple(w, MAIF_TYPE_TEXT, "after", 5, NULL, NULL);
        assert_int_equal(maif_writer_commit(w), MAIF_OK);
        assert_int_equal(maif_writer_close(w), MAIF_OK);
        assert_verifies_clean(path);
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
        cmocka_unit_test_setup_teardown(test_roundtrip_all_types, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen_and_lock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_existing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_args, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_metadata, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_commits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_pinning, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_mem_matches_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_io_error_kills_writer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reader_snapshot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_large_payloads_and_zero_header, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fifo_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_disk_full_sweep, setup, teardown),
        cmocka_unit_test_setup_teardown(test_borrowed_payloads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_single_cpu, setup, teardown),
        cmocka_unit_test_setup_teardown(test_large_copies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reserved_space_returned, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
