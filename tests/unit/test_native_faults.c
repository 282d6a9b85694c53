/*
 * test_native_faults.c — damaged native files.
 *
 *   - the golden files of tests/data/golden/ give exactly the findings and
 *     reader results listed in expected.txt, and the generator (included
 *     from gen.c) still reproduces them byte for byte;
 *   - every single-byte change (xor 0x01, then xor 0xff) of a small
 *     committed artifact makes verification fail, and never crashes the
 *     reader;
 *   - every truncation gives a clean error or exactly the last committed
 *     prefix, from the verifier and from the reader;
 *   - a torn tail is ignored by readers, reported as a warning, and cut by
 *     maif_recover and maif_writer_open; damage after the last commit that
 *     is not a torn write is refused unless forced;
 *   - an index directory damaged in each of its rules, then re-sealed, is
 *     caught by the index rules, and readers fail cleanly on it.
 *
 * Images are verified from exact-size heap copies so ASan sees any read
 * past the end.
 */
#define GOLDEN_NO_MAIN
#include "../data/golden/gen.c"

#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *golden_dir(void)
{
    const char *d = getenv("MAIF_GOLDEN");
    return d && *d ? d : "tests/data/golden";
}

static uint8_t *load_golden(const char *name, size_t *len)
{
    char *p = tu_path(golden_dir(), name);
    uint8_t *b = tu_read(p, len);
    if (!b) fail_msg("cannot read %s (run the tests from the repository root)", p);
    free(p);
    return b;
}

/* Verifies an exact-size copy of b[0, n). */
static maif_report *verify_copy(const uint8_t *b, size_t n, const maif_options *opt)
{
    uint8_t *c = malloc(n ? n : 1);
    assert_non_null(c);
    memcpy(c, b, n);
    maif_report *rep = NULL;
    assert_int_equal(maif_verify_mem(c, n, opt, &rep), MAIF_OK);
    assert_non_null(rep);
    free(c);
    return rep;
}

/* Opens the image and touches everything a reader hands out. Returns the
 * open result; *count receives the block count. Never asserts on content:
 * used on damaged images, where only "no crash, no sanitizer report" holds. */
static int read_everything(const uint8_t *b, size_t n, uint64_t *count)
{
    maif_reader *r = NULL;
    int rc = maif_reader_open_mem(&r, b, n);
    if (rc != MAIF_OK) {
        assert_null(r);
        assert_true(maif_last_errmsg()[0] != 0);
        return rc;
    }
    uint64_t cnt = maif_reader_count(r);
    if (count) *count = cnt;
    volatile uint8_t sink = 0;
    maif_block blk;
    uint8_t first_id[MAIF_ID_BYTES];
    int have_id = 0;
    for (uint64_t i = 0; i < cnt; i++) {
        if (maif_reader_block(r, i, &blk) != MAIF_OK) continue;
        if (blk.payload_size) sink ^= blk.payload[0] ^ blk.payload[blk.payload_size - 1];
        if (blk.meta_size) sink ^= (uint8_t)blk.meta[blk.meta_size - 1];
        if (!have_id) {
            memcpy(first_id, blk.has_supersedes ? blk.supersedes : blk.id, MAIF_ID_BYTES);
            have_id = 1;
        }
    }
    maif_record rec;
    for (uint64_t i = 0; maif_reader_record(r, i, &rec) == MAIF_OK; i++) sink ^= (uint8_t)rec.size;
    maif_info info;
    assert_int_equal(maif_reader_info(r, &info), MAIF_OK);
    sink ^= (uint8_t)strlen(info.agent);
    if (have_id) {
        uint64_t at, hist[4];
        size_t hn;
        if (maif_reader_find(r, first_id, &at) == MAIF_OK) assert_true(at < cnt);
        if (maif_reader_history(r, first_id, hist, 4, &hn) == MAIF_OK) assert_true(hn >= 1 && hn <= cnt);
    }
    (void)sink;
    maif_reader_close(r);
    return MAIF_OK;
}

static int parse_error_name(const char *s)
{
    static const struct {
        const char *name;
        int code;
    } names[] = {{"EFORMAT", MAIF_EFORMAT}, {"EVERSION", MAIF_EVERSION}, {"ENOTFOUND", MAIF_ENOTFOUND},
                 {"EIO", MAIF_EIO}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(s, names[i].name) == 0) return names[i].code;
    fail_msg("expected.txt: unknown reader result %s", s);
    return 0;
}

/* Does the comma-separated list contain code? */
static int in_list(const char *list, const char *code)
{
    size_t cl = strlen(code);
    for (const char *p = list; *p;) {
        const char *e = strchr(p, ',');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l == cl && memcmp(p, code, l) == 0) return 1;
        if (!e) break;
        p = e + 1;
    }
    return 0;
}

/* ------------------------------------------------------------- golden */

static void check_golden_line(const char *file, const char *verdict, const char *codes, const char *reader,
                              const uint8_t pk[32])
{
    char *path = tu_path(golden_dir(), file);
    int want_sev = strcmp(verdict, "fail") == 0 ? MAIF_SEV_ERROR : strcmp(verdict, "warn") == 0 ? MAIF_SEV_WARNING : -1;
    if (want_sev < 0 && strcmp(verdict, "ok") != 0) fail_msg("expected.txt: bad verdict %s", verdict);
    maif_options *pinned = tu_verify_options(pk, 1, 0);
    for (int pass = 0; pass < 2; pass++) {
        maif_report *rep = NULL;
        assert_int_equal(maif_verify_file(path, pass ? pinned : NULL, &rep), MAIF_OK);
        int bad = 0;
        if (maif_report_ok(rep) != (want_sev != MAIF_SEV_ERROR)) bad = 1;
        /* the findings at the verdict's severity carry exactly the listed codes */
        for (size_t i = 0; i < maif_report_count(rep); i++) {
            const maif_finding *f = maif_report_finding(rep, i);
            if (f->severity == MAIF_SEV_ERROR && want_sev != MAIF_SEV_ERROR) bad = 1;
            if (f->severity == MAIF_SEV_WARNING && want_sev < 0) bad = 1;
            if (f->severity == want_sev && !in_list(codes, f->code)) bad = 1;
            if (f->severity == MAIF_SEV_INFO && pass == 1) bad = 1; /* pinned: no "signer-not-pinned" */
        }
        if (strcmp(codes, "-") != 0)
            for (const char *p = codes; *p;) {
                char one[64];
                const char *e = strchr(p, ',');
                size_t l = e ? (size_t)(e - p) : strlen(p);
                assert_true(l < sizeof one);
                memcpy(one, p, l);
                one[l] = 0;
                if (!tu_has_code(rep, one, want_sev)) bad = 1;
                p = e ? e + 1 : p + l;
            }
        if (bad) {
            tu_dump_report(rep);
            fail_msg("%s: verify does not match expected.txt (%s %s)", file, verdict, codes);
        }
        maif_report_free(rep);
    }
    maif_options_free(pinned);

    maif_reader *r = NULL;
    int rc = maif_reader_open(&r, path);
    if (reader[0] >= '0' && reader[0] <= '9') {
        if (rc != MAIF_OK) fail_msg("%s: reader: %s", file, maif_last_errmsg());
        uint64_t want = strtoull(reader, NULL, 10);
        assert_int_equal(maif_reader_count(r), want);
        for (uint64_t i = 0; i < want; i++) {
            maif_block b;
            assert_int_equal(maif_reader_block(r, i, &b), MAIF_OK);
        }
        maif_reader_close(r);
    } else {
        int want = parse_error_name(reader);
        if (rc != want) fail_msg("%s: reader gave %d, expected.txt says %s", file, rc, reader);
        assert_null(r);
    }
    free(path);
}

static void test_golden_expected(void **state)
{
    (void)state;
    size_t len;
    char *text = (char *)load_golden("expected.txt", &len);
    uint8_t pk[32];
    char *pub = tu_path(golden_dir(), "golden.key.pub");
    assert_int_equal(maif_pubkey_load(pub, pk), MAIF_OK);
    free(pub);
    int lines = 0;
    int listed[GOLDEN_NFILES] = {0};
    for (char *save = NULL, *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == '#' || line[0] == 0) continue;
        char file[128], verdict[16], codes[128], reader[32];
        if (sscanf(line, "%127s %15s %127s %31s", file, verdict, codes, reader) != 4)
            fail_msg("expected.txt: bad line: %s", line);
        check_golden_line(file, verdict, codes, reader, pk);
        for (size_t i = 0; i < GOLDEN_NFILES; i++)
            if (strcmp(golden_files[i], file) == 0) listed[i] = 1;
        lines++;
    }
    free(text);
    assert_int_equal(lines, GOLDEN_NFILES);
    for (size_t i = 0; i < GOLDEN_NFILES; i++)
        if (!listed[i]) fail_msg("%s is not in expected.txt", golden_files[i]);
}

/* The committed files are exactly what the library and gen.c write today. */
static void test_golden_regenerate(void **state)
{
    (void)state;
    char *dir = tu_tmpdir();
    char err[256] = "";
    if (golden_generate(dir, err, sizeof err) != 0) fail_msg("golden_generate: %s", err);
    const char *extra[] = {"golden.key", "golden.key.pub"};
    for (size_t i = 0; i < GOLDEN_NFILES + 2; i++) {
        const char *name = i < GOLDEN_NFILES ? golden_files[i] : extra[i - GOLDEN_NFILES];
        size_t n0, n1;
        uint8_t *committed = load_golden(name, &n0);
        char *p = tu_path(dir, name);
        uint8_t *fresh = tu_read(p, &n1);
        assert_non_null(fresh);
        if (n0 != n1 || memcmp(committed, fresh, n0) != 0)
            fail_msg("%s: the committed golden file differs from what the library writes now; if the format "
                     "changed on purpose, regenerate (tests/data/golden/README.md)", name);
        free(p);
        free(committed);
        free(fresh);
    }
    tu_rmtree(dir);
    free(dir);
}

/* ------------------------------------------------------ every byte flip */

/* A fresh artifact like the golden one, but written now (random ids, real
 * clock), with content hashes alg (MAIF_HASH_*). */
static uint8_t *build_fresh(size_t *len, int alg)
{
    char *dir = tu_tmpdir(), *path = tu_path(dir, "f.maif");
    maif_key *k = NULL;
    assert_int_equal(maif_key_generate(&k), MAIF_OK);
    maif_writer *w = NULL;
    maif_options *o = NULL;
    assert_int_equal(maif_options_create(&o), MAIF_OK);
    assert_int_equal(maif_options_set(o, MAIF_OPT_CONTENT_HASH, alg), MAIF_OK);
    assert_int_equal(maif_writer_create(&w, path, k, "did:example:flip", o), MAIF_OK);
    maif_options_free(o);
    uint8_t id0[MAIF_ID_BYTES], id1[MAIF_ID_BYTES];
    maif_block_spec s = {.type = MAIF_TYPE_TEXT, .payload = "first", .payload_size = 5,
                         .meta_json = "{\"source\":\"t\",\"privacy\":\"low\"}"};
    s.meta_size = strlen(s.meta_json);
    assert_int_equal(maif_writer_add(w, &s, id0), MAIF_OK);
    s = (maif_block_spec){.type = MAIF_TYPE_EMBEDDING, .payload = "\0\0\x80?\0\0\0@", .payload_size = 8};
    assert_int_equal(maif_writer_add(w, &s, NULL), MAIF_OK);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    s = (maif_block_spec){.type = MAIF_TYPE_TEXT, .payload = "second", .payload_size = 6, .supersedes = id0,
                          .meta_json = "{\"v\":2}", .meta_size = 7};
    assert_int_equal(maif_writer_add(w, &s, id1), MAIF_OK);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    s = (maif_block_spec){.type = MAIF_TYPE_TEXT, .payload = "third", .payload_size = 5, .supersedes = id1};
    assert_int_equal(maif_writer_add(w, &s, NULL), MAIF_OK);
    s = (maif_block_spec){.type = MAIF_TYPE_JSON, .payload = "{}", .payload_size = 2, .meta_json = "{\"a\":[1]}",
                          .meta_size = 9};
    assert_int_equal(maif_writer_add(w, &s, NULL), MAIF_OK);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    maif_key_free(k);
    uint8_t *b = tu_read(path, len);
    assert_non_null(b);
    tu_rmtree(dir);
    free(dir);
    free(path);
    return b;
}

static void flip_all(const uint8_t *img, size_t n, const char *what)
{
    maif_report *rep = verify_copy(img, n, NULL);
    assert_true(maif_report_ok(rep));
    maif_report_free(rep);
    uint8_t *c = malloc(n);
    assert_non_null(c);
    memcpy(c, img, n);
    static const uint8_t masks[] = {0x01, 0xff};
    size_t undetected = 0;
    for (size_t m = 0; m < sizeof masks; m++) {
        for (size_t i = 0; i < n; i++) {
            c[i] ^= masks[m];
            maif_report *r = NULL;
            assert_int_equal(maif_verify_mem(c, n, NULL, &r), MAIF_OK);
            if (maif_report_ok(r)) {
                if (undetected++ < 10) print_message("%s: xor 0x%02x at offset %zu not detected\n", what, masks[m], i);
            } else {
                /* one error at least, and each error names a known section */
                int errors = 0;
                for (size_t k = 0; k < maif_report_count(r); k++) {
                    const maif_finding *f = maif_report_finding(r, k);
                    if (f->severity == MAIF_SEV_ERROR) errors++;
                    assert_non_null(f->code);
                    assert_non_null(f->message);
                }
                assert_true(errors > 0);
            }
            maif_report_free(r);
            read_everything(c, n, NULL);
            c[i] ^= masks[m];
        }
    }
    free(c);
    if (undetected) fail_msg("%s: %zu single-byte changes were not detected", what, undetected);
}

static void test_every_byte_flip_golden(void **state)
{
    (void)state;
    size_t n;
    uint8_t *b = load_golden("valid_small.maif", &n);
    flip_all(b, n, "valid_small.maif");
    free(b);
    b = load_golden("valid_empty.maif", &n);
    flip_all(b, n, "valid_empty.maif");
    free(b);
}

static void test_every_byte_flip_fresh(void **state)
{
    (void)state;
    size_t n;
    uint8_t *b = build_fresh(&n, MAIF_HASH_SHA256);
    flip_all(b, n, "fresh artifact");
    free(b);
    b = build_fresh(&n, MAIF_HASH_BLAKE3);
    flip_all(b, n, "fresh artifact, BLAKE3 content hashes");
    free(b);
}

/* ------------------------------------------------------------ truncation */

typedef struct commit_pt {
    uint64_t end, blocks;
} commit_pt;

/* Commit ends and block counts of an intact image, from the record listing. */
static size_t commit_points(const uint8_t *b, size_t n, commit_pt *pts, size_t cap)
{
    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open_mem(&r, b, n), MAIF_OK);
    maif_record rec;
    size_t k = 0;
    uint64_t blocks = 0;
    for (uint64_t i = 1; maif_reader_record(r, i, &rec) == MAIF_OK; i++) {
        if (strcmp(rec.kind, "block") == 0) blocks++;
        if (strcmp(rec.kind, "commit") == 0) {
            assert_true(k < cap);
            pts[k++] = (commit_pt){rec.offset + rec.size, blocks};
        }
    }
    maif_reader_close(r);
    assert_int_equal(pts[k - 1].end, n);
    return k;
}

/* Every cut from offset from (0: all) to the end. */
static void truncate_all(const uint8_t *img, size_t n, const char *what, size_t from)
{
    commit_pt pts[16];
    size_t np = commit_points(img, n, pts, 16);
    maif_reader *full = NULL;
    assert_int_equal(maif_reader_open_mem(&full, img, n), MAIF_OK);
    for (size_t len = from; len <= n; len++) {
        int fits = -1;
        for (size_t k = 0; k < np; k++)
            if (pts[k].end <= len) fits = (int)k;
        uint8_t *c = malloc(len ? len : 1);
        assert_non_null(c);
        memcpy(c, img, len);

        maif_report *rep = NULL;
        assert_int_equal(maif_verify_mem(c, len, NULL, &rep), MAIF_OK);
        if (fits < 0) {
            if (maif_report_ok(rep)) fail_msg("%s: cut at %zu (before the first commit) verifies ok", what, len);
        } else {
            int torn = tu_has_code(rep, "torn-tail", MAIF_SEV_WARNING);
            if (!maif_report_ok(rep) || maif_report_blocks(rep) != pts[fits].blocks ||
                torn != (len != pts[fits].end)) {
                tu_dump_report(rep);
                fail_msg("%s: cut at %zu: verify should give the committed prefix of %llu blocks", what, len,
                         (unsigned long long)pts[fits].blocks);
            }
        }
        maif_report_free(rep);

        maif_reader *r = NULL;
        int rc = maif_reader_open_mem(&r, c, len);
        if (fits < 0) {
            if (rc != MAIF_EFORMAT) fail_msg("%s: cut at %zu: reader gave %d, want MAIF_EFORMAT", what, len, rc);
        } else {
            if (rc != MAIF_OK) fail_msg("%s: cut at %zu: reader: %s", what, len, maif_last_errmsg());
            assert_int_equal(maif_reader_count(r), pts[fits].blocks);
            maif_info info;
            assert_int_equal(maif_reader_info(r, &info), MAIF_OK);
            assert_int_equal(info.file_size, pts[fits].end);
            assert_int_equal(info.torn_bytes, len - pts[fits].end);
            assert_int_equal(info.commit_count, (uint64_t)fits + 1);
            for (uint64_t i = 0; i < pts[fits].blocks; i++) {
                maif_block a, b;
                assert_int_equal(maif_reader_block(r, i, &a), MAIF_OK);
                assert_int_equal(maif_reader_block(full, i, &b), MAIF_OK);
                assert_int_equal(a.offset, b.offset);
                assert_int_equal(a.payload_size, b.payload_size);
                assert_memory_equal(a.payload, b.payload, a.payload_size);
                assert_memory_equal(a.id, b.id, MAIF_ID_BYTES);
            }
            maif_reader_close(r);
        }
        free(c);
    }
    maif_reader_close(full);
}

/* Batches of 120 and 10 blocks: the second completes the first 128-leaf
 * subtree and writes a Merkle node record after its index leaf (FORMAT.md
 * §5.13); cuts anywhere in that batch land inside it too. */
static uint8_t *build_with_nodes(size_t *len)
{
    char *dir = tu_tmpdir(), *path = tu_path(dir, "n.maif");
    maif_key *k = NULL;
    assert_int_equal(maif_key_generate(&k), MAIF_OK);
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, path, k, NULL, NULL), MAIF_OK);
    for (int b = 0; b < 2; b++) {
        for (int i = 0; i < (b ? 10 : 120); i++) {
            char t[16];
            int n = snprintf(t, sizeof t, "n%d", 120 * b + i);
            maif_block_spec s = {.type = MAIF_TYPE_TEXT, .payload = t, .payload_size = (size_t)n};
            assert_int_equal(maif_writer_add(w, &s, NULL), MAIF_OK);
        }
        assert_int_equal(maif_writer_commit(w), MAIF_OK);
    }
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    uint8_t *img = tu_read(path, len);
    assert_non_null(img);
    /* the node records are there, and a torn one is an interrupted append
     * that recovery cuts without --force */
    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open_mem(&r, img, *len), MAIF_OK);
    maif_record rec;
    uint64_t nodes_off = 0, nn = 0;
    for (uint64_t i = 1; maif_reader_record(r, i, &rec) == MAIF_OK; i++)
        if (strcmp(rec.kind, "nodes") == 0) nodes_off = rec.offset, nn++;
    maif_reader_close(r);
    assert_int_equal(nn, 1);
    for (uint64_t L = nodes_off + 1; L < nodes_off + 112 + 16 + 64; L += 5) {
        assert_int_equal(tu_write(path, img, (size_t)L), 0);
        uint64_t cut = 0;
        assert_int_equal(maif_recover(path, NULL, &cut), MAIF_OK);
        assert_true(cut > 0);
        tu_assert_verifies(path);
    }
    maif_key_free(k);
    tu_rmtree(dir);
    free(path);
    free(dir);
    return img;
}

static void test_truncation_every_offset(void **state)
{
    (void)state;
    size_t n;
    uint8_t *b = load_golden("valid_small.maif", &n);
    truncate_all(b, n, "valid_small.maif", 0);
    free(b);
    b = build_fresh(&n, MAIF_HASH_SHA256);
    truncate_all(b, n, "fresh artifact", 0);
    free(b);
    b = build_fresh(&n, MAIF_HASH_BLAKE3);
    truncate_all(b, n, "fresh artifact, BLAKE3 content hashes", 0);
    free(b);
    /* its second batch: from the end of the first commit */
    b = build_with_nodes(&n);
    commit_pt pts[16];
    size_t np = commit_points(b, n, pts, 16);
    assert_int_equal(np, 3);
    truncate_all(b, n, "artifact with node records", (size_t)pts[1].end - 8);
    free(b);
}

/* --------------------------------------------------- torn tails, recover */

static void test_torn_tail_recover(void **state)
{
    (void)state;
    size_t n;
    uint8_t *img = load_golden("valid_small.maif", &n);
    commit_pt pts[16];
    size_t np = commit_points(img, n, pts, 16);
    assert_int_equal(np, 4);
    char *dir = tu_tmpdir(), *path = tu_path(dir, "t.maif");
    maif_key *k = NULL;
    assert_int_equal(maif_key_generate(&k), MAIF_OK);
    const uint64_t c2 = pts[2].end, nb2 = pts[2].blocks;
    /* cut points inside the last batch: mid-header, record boundary, mid-payload, mid-commit */
    const uint64_t cuts[] = {c2 + 1, c2 + 50, c2 + 112, c2 + 200, n - 100, n - 1};
    for (size_t ci = 0; ci < sizeof cuts / sizeof cuts[0]; ci++) {
        uint64_t L = cuts[ci];
        assert_true(L > c2 && L < n);
        for (int via_writer = 0; via_writer < 2; via_writer++) {
            assert_int_equal(tu_write(path, img, (size_t)L), 0);
            maif_reader *r = NULL;
            assert_int_equal(maif_reader_open(&r, path), MAIF_OK);
            assert_int_equal(maif_reader_count(r), nb2);
            maif_info info;
            assert_int_equal(maif_reader_info(r, &info), MAIF_OK);
            assert_int_equal(info.torn_bytes, L - c2);
            assert_int_equal(info.file_size, c2);
            maif_reader_close(r);
            maif_report *rep = NULL;
            assert_int_equal(maif_verify_file(path, NULL, &rep), MAIF_OK);
            assert_true(maif_report_ok(rep));
            assert_true(tu_has_code(rep, "torn-tail", MAIF_SEV_WARNING));
            maif_report_free(rep);

            maif_writer *w = NULL;
            if (via_writer) {
                assert_int_equal(maif_writer_open(&w, path, k, NULL), MAIF_OK);
                assert_int_equal(tu_file_size(path), c2);
                assert_int_equal(maif_writer_count(w), nb2);
            } else {
                uint64_t cut = 0;
                assert_int_equal(maif_recover(path, NULL, &cut), MAIF_OK);
                assert_int_equal(cut, L - c2);
                assert_int_equal(tu_file_size(path), c2);
                assert_int_equal(maif_recover(path, NULL, &cut), MAIF_OK); /* nothing left to cut */
                assert_int_equal(cut, 0);
                assert_int_equal(maif_verify_file(path, NULL, &rep), MAIF_OK);
                assert_true(maif_report_ok(rep));
                assert_false(tu_has_code(rep, "torn-tail", -1));
                maif_report_free(rep);
                assert_int_equal(maif_writer_open(&w, path, k, NULL), MAIF_OK);
            }
            /* appending after the cut continues the committed history */
            maif_block_spec s = {.type = MAIF_TYPE_TEXT, .payload = "next", .payload_size = 4};
            assert_int_equal(maif_writer_add(w, &s, NULL), MAIF_OK);
            assert_int_equal(maif_writer_commit(w), MAIF_OK);
            assert_int_equal(maif_writer_close(w), MAIF_OK);
            assert_int_equal(maif_verify_file(path, NULL, &rep), MAIF_OK);
            if (!maif_report_ok(rep) || maif_report_count(rep) != 1) {
                tu_dump_report(rep);
                fail_msg("cut at %llu: the artifact does not verify after appending", (unsigned long long)L);
            }
            maif_report_free(rep);
            assert_int_equal(maif_reader_open(&r, path), MAIF_OK);
            assert_int_equal(maif_reader_count(r), nb2 + 1);
            maif_block b;
            assert_int_equal(maif_reader_block(r, nb2, &b), MAIF_OK);
            assert_memory_equal(b.payload, "next", 4);
            maif_reader_close(r);
        }
    }
    maif_key_free(k);
    free(img);
    tu_rmtree(dir);
    free(dir);
    free(path);
}

/* Bytes after the last commit that are not an interrupted append. */
static void test_damaged_tail_refused(void **state)
{
    (void)state;
    size_t n;
    uint8_t *img = load_golden("valid_small.maif", &n);
    char *dir = tu_tmpdir(), *path = tu_path(dir, "d.maif");
    maif_key *k = NULL;
    assert_int_equal(maif_key_generate(&k), MAIF_OK);
    uint8_t *bad = malloc(n + 200);
    assert_non_null(bad);
    memcpy(bad, img, n);
    memset(bad + n, 'G', 200);
    assert_int_equal(tu_write(path, bad, n + 200), 0);

    maif_report *rep = NULL;
    assert_int_equal(maif_verify_file(path, NULL, &rep), MAIF_OK);
    assert_false(maif_report_ok(rep));
    maif_report_free(rep);
    maif_reader *r = NULL; /* readers still see the committed part */
    assert_int_equal(maif_reader_open(&r, path), MAIF_OK);
    assert_int_equal(maif_reader_count(r), 8);
    maif_reader_close(r);

    uint64_t cut = 99;
    assert_int_equal(maif_recover(path, NULL, &cut), MAIF_EFORMAT);
    assert_non_null(strstr(maif_last_errmsg(), "not a torn write"));
    assert_int_equal(tu_file_size(path), n + 200);
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_open(&w, path, k, NULL), MAIF_EFORMAT);
    assert_null(w);
    assert_int_equal(tu_file_size(path), n + 200);
    assert_int_equal(maif_recover(path, tu_flag(MAIF_OPT_FORCE_RECOVER), &cut), MAIF_OK);
    assert_int_equal(cut, 200);
    assert_int_equal(tu_file_size(path), n);
    assert_int_equal(maif_verify_file(path, NULL, &rep), MAIF_OK);
    assert_true(maif_report_ok(rep));
    maif_report_free(rep);

    /* not a maif file at all; a 2.1 file cannot be appended to */
    assert_int_equal(tu_write(path, "hello, this is not an artifact at all; hello hello hello hello hello", 68), 0);
    assert_int_equal(maif_writer_open(&w, path, k, NULL), MAIF_EFORMAT);
    assert_int_equal(maif_recover(path, NULL, NULL), MAIF_EFORMAT);
    char *v21 = tu_path(tu_samples_dir(), "sample_audio.maif");
    if (access(v21, R_OK) == 0) assert_int_equal(maif_writer_open(&w, v21, k, NULL), MAIF_EUNSUPPORTED);
    free(v21);

    free(bad);
    free(img);
    maif_key_free(k);
    tu_rmtree(dir);
    free(dir);
    free(path);
}

/* ------------------------------------------------------- index directories */

/* Reads every block of an image through the reader: each read either
 * succeeds or fails cleanly (never a crash, never a read out of bounds). */
static void read_all_blocks(const uint8_t *img, size_t n)
{
    uint8_t *c = malloc(n);
    assert_non_null(c);
    memcpy(c, img, n);
    maif_reader *r = NULL;
    if (maif_reader_open_mem(&r, c, n) == MAIF_OK) {
        for (uint64_t i = 0; i < maif_reader_count(r); i++) {
            maif_block b;
            int rc = maif_reader_block(r, i, &b);
            assert_true(rc == MAIF_OK || rc == MAIF_EFORMAT);
        }
        maif_reader_close(r);
    }
    free(c);
}

/* A file whose last commit lists a directory (ten one-block commits: the
 * first eight leaves merge), damaged in each rule of a directory and then
 * re-sealed (content hash of the directory, every record hash, every
 * signature) so that only the index rule can catch it. */
static void test_directory_rules(void **state)
{
    (void)state;
    char *dir = tu_tmpdir(), *path = tu_path(dir, "d.maif");
    maif_key *k = NULL;
    assert_int_equal(maif_key_generate(&k), MAIF_OK);
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, path, k, "dir", NULL), MAIF_OK);
    for (int i = 0; i < 10; i++) {
        char text[16];
        int tl = snprintf(text, sizeof text, "block %d", i);
        maif_block_spec sp = {.type = MAIF_TYPE_TEXT, .payload = text, .payload_size = (size_t)tl};
        assert_int_equal(maif_writer_add(w, &sp, NULL), MAIF_OK);
        assert_int_equal(maif_writer_commit(w), MAIF_OK);
    }
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    gimg base = {0};
    assert_int_equal(g_read(path, &base), 0);
    nat_rec d;
    assert_int_equal(g_find(&base, NAT_TAG_DIR, 0, &d), 0);
    uint64_t dp = d.payload_off;
    assert_int_equal(rd64le(base.b + dp), 0);       /* first */
    assert_int_equal(rd64le(base.b + dp + 8), 8);   /* count */
    assert_int_equal(rd64le(base.b + dp + 16), 8);  /* leaves */
    maif_report *rep = verify_copy(base.b, base.n, NULL);
    assert_true(maif_report_ok(rep));
    maif_report_free(rep);
    read_all_blocks(base.b, base.n);
    nat_rec b0;
    assert_int_equal(g_find(&base, NAT_TAG_BLOCK, 0, &b0), 0);

    for (int m = 0; m < 6; m++) {
        gimg g = {malloc(base.n), base.n};
        assert_non_null(g.b);
        memcpy(g.b, base.b, base.n);
        uint8_t *p = g.b + dp, *e = p + NAT_DIR_HEAD;
        switch (m) {
        case 0: /* two leaves swapped */
            for (int i = 0; i < 16; i++) {
                uint8_t t = e[i];
                e[i] = e[16 + i];
                e[16 + i] = t;
            }
            break;
        case 1: wr64le(e + 16 + 8, rd64le(e + 16 + 8) + 1); break; /* a leaf's first block */
        case 2: wr64le(e + 16, b0.off); break;                    /* an entry names a block, not a leaf */
        case 3: wr64le(e + 16, d.off); break;                     /* an entry names the directory itself */
        case 4: wr64le(p + 16, 9); break;                         /* more leaves than the payload holds */
        case 5: wr64le(p + 8, 7); break;                          /* count disagrees with its leaves */
        }
        maif_sha256(p, (size_t)d.stored_size, g.b + d.off + NR_CONTENT_HASH);
        g_reseal(&g, k, 0);
        rep = verify_copy(g.b, g.n, NULL);
        if (maif_report_ok(rep) || !tu_has_code(rep, "index", MAIF_SEV_ERROR)) {
            tu_dump_report(rep);
            fail_msg("directory mutation %d not caught by the index rules", m);
        }
        maif_report_free(rep);
        read_all_blocks(g.b, g.n);
        free(g.b);
    }
    /* and every byte of the directory record flipped, not re-sealed */
    for (uint64_t o = d.off; o < d.end; o++) {
        base.b[o] ^= 0x01;
        rep = verify_copy(base.b, base.n, NULL);
        if (maif_report_ok(rep)) fail_msg("flip at %llu in the directory not detected", (unsigned long long)o);
        maif_report_free(rep);
        read_all_blocks(base.b, base.n);
        base.b[o] ^= 0x01;
    }
    free(base.b);
    maif_key_free(k);
    tu_rmtree(dir);
    free(dir);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_expected),
        cmocka_unit_test(test_golden_regenerate),
        cmocka_unit_test(test_every_byte_flip_golden),
        cmocka_unit_test(test_every_byte_flip_fresh),
        cmocka_unit_test(test_truncation_every_offset),
        cmocka_unit_test(test_torn_tail_recover),
        cmocka_unit_test(test_damaged_tail_refused),
        cmocka_unit_test(test_directory_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
