/*
 * fuzz_convert.c — conversion native → 2.1 → native keeps every block.
 *
 * Each input does two things in a fresh temporary directory.
 *
 * First it is read as a program that builds a small native artifact: up to
 * MAX_BLOCKS blocks in one to three commits, with types 2.1 can hold (the
 * known ones and input-made printable four-character codes), payloads and
 * timestamps from the input, fixed or random ids, and metadata either from
 * a fixed set or built from the input (strings with control, non-ASCII and
 * astral characters, integers and floats, nesting) — no supersedes links,
 * which 2.1 cannot record. That artifact is converted to 2.1 and the result
 * back to native with maif_convert. Every file on the way must pass
 * maif_verify_file, and every block's type, payload, id and timestamp must
 * survive each step, and its metadata as canonical JSON: the 2.1 copy,
 * canonicalised in the native style, and the final native copy must equal
 * the original's bytes (no metadata and "{}" count as the same, since 2.1
 * stores "{}" for none); the agent comes back as 2.1 names it. Converting
 * 2.1 to 2.1 and native to native must keep the metadata bytes exactly. An
 * embedding that is not whole float32 rows cannot be held by 2.1: the
 * conversion must refuse it (MAIF_EUNSUPPORTED) and write nothing.
 *
 * Then the raw input itself is handed to maif_convert as a file, in both
 * directions. That must never crash or leave a temporary file behind;
 * what it writes must verify and hold the source's blocks; and a source
 * that verifies must convert (to 2.1 unless it holds what 2.1 cannot), and
 * one that does not verify must be refused (issue 15: convert never
 * launders a damaged artifact into a freshly signed one).
 * Any broken promise aborts, so libFuzzer and `make test` report it.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "maif.h"
#include "fuzz_util.h"
#include "util/buf.h"
#include "util/pyjson.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_BLOCKS 24
#define META_MAX   512 /* bytes of input-built metadata text */

/* ---- the public calls whose signatures are changing (the others are in
 * fuzz_util.h): one place to adapt */

static int writer_create(maif_writer **w, const char *path, const char *agent)
{
    return api_note(maif_writer_create(w, path, key(), agent, NULL));
}

static int convert(const char *in, const char *out, int to_format)
{
    return api_note(maif_convert(in, out, to_format, key(), NULL, NULL));
}

/* ---- metadata built from the input */

static const char *const fixed_meta[] = {
    NULL,
    "{}",
    "{\"source\":\"chat\",\"privacy\":\"public\"}",
    "{\"relationships\":[{\"type\":\"derived_from\",\"target\":\"00112233445566778899aabbccddeeff\"}]}",
    "{\"x\":[1.5,-2,0.1,1e+22,1e-07,123456789012345678],\"y\":{\"b\":false,\"a\":null}}",
    "{\"\\u00e9\":\"\\ud83d\\ude00\",\"e\":\"\\u007f\\u0001\",\"\\u20ac\":\"\\u2028\"}",
    "{\"dimensions\":2,\"count\":1,\"dtype\":\"float32\"}", /* DIMS_META: fits 8 bytes of EMBD */
};
#define DIMS_META 6
#define NFIXED    7

/* Appends a JSON string made from the next bytes of the input: ASCII kept,
 * control characters escaped, other bytes as the code points U+0080.. and
 * now and then an astral character. */
static void put_string(maif_buf *o, in_t *in)
{
    unsigned len = u8(in) % 12;
    maif_buf_append(o, "\"", 1);
    for (unsigned i = 0; i < len; i++) {
        unsigned c = u8(in);
        char t[16];
        if (c == '"' || c == '\\') snprintf(t, sizeof t, "\\%c", c);
        else if (c < 0x20 || c == 0x7f) snprintf(t, sizeof t, "\\u%04x", c);
        else if (c < 0x7f) snprintf(t, sizeof t, "%c", c);
        else if (c >= 0xf8) snprintf(t, sizeof t, "\xf0\x9f\x98%c", 0x80 + (c & 7)); /* U+1F600.. */
        else snprintf(t, sizeof t, "%c%c", 0xc0 | (c >> 6), 0x80 | (c & 0x3f));  /* U+0080..U+00F7 */
        maif_buf_append(o, t, strlen(t));
    }
    maif_buf_append(o, "\"", 1);
}

static void put_value(maif_buf *o, in_t *in, int depth)
{
    unsigned k = u8(in);
    char t[64];
    switch (depth > 2 ? k % 5 : k % 7) {
    case 0: put_string(o, in); return;
    case 1: snprintf(t, sizeof t, "%d", (int)(int8_t)u8(in) * (int)(u8(in) | 1) * 65537); break;
    case 2: snprintf(t, sizeof t, "%d.%u", (int)(int8_t)u8(in), u8(in)); break;
    case 3: snprintf(t, sizeof t, "%ue%d", u8(in) % 10, (int)(int8_t)u8(in) % 40); break;
    case 4: snprintf(t, sizeof t, "%s", k & 8 ? "true" : k & 16 ? "false" : "null"); break;
    case 5: {
        unsigned n = u8(in) % 4;
        maif_buf_append(o, "[", 1);
        for (unsigned i = 0; i < n; i++) {
            if (i) maif_buf_append(o, ",", 1);
            put_value(o, in, depth + 1);
        }
        maif_buf_append(o, "]", 1);
        return;
    }
    default: {
        unsigned n = u8(in) % 4;
        maif_buf_append(o, "{", 1);
        for (unsigned i = 0; i < n; i++) {
            if (i) maif_buf_append(o, ", ", 2);
            snprintf(t, sizeof t, "\"k%u\": ", i * 7 + u8(in) % 7); /* distinct keys */
            maif_buf_append(o, t, strlen(t));
            put_value(o, in, depth + 1);
        }
        maif_buf_append(o, "}", 1);
        return;
    }
    }
    maif_buf_append(o, t, strlen(t));
}

/* ---- comparing metadata as canonical JSON */

/* The native canonical form of meta (none and "{}" both as empty). */
static int canon(const char *meta, size_t n, maif_buf *out)
{
    out->len = 0;
    if (!meta || !n) return MAIF_OK;
    char err[128];
    int rc = maif_json_canonicalize(meta, n, MAIF_JSON_COMPACT, out, err, sizeof err);
    if (rc == MAIF_OK && out->len == 2 && memcmp(out->data, "{}", 2) == 0) out->len = 0;
    return rc;
}

static int same_meta(const char *a, size_t an, const char *b, size_t bn)
{
    maif_buf x = {0}, y = {0};
    int same = canon(a, an, &x) == MAIF_OK && canon(b, bn, &y) == MAIF_OK && x.len == y.len &&
               (x.len == 0 || memcmp(x.data, y.data, x.len) == 0);
    maif_buf_free(&x);
    maif_buf_free(&y);
    return same;
}

/* ---- files */

static void verify_ok(const char *path, int format)
{
    maif_report *rep = NULL;
    CHECK(verify(path, &rep) == MAIF_OK);
    if (!maif_report_ok(rep))
        for (size_t i = 0; i < maif_report_count(rep); i++)
            fprintf(stderr, "fuzz_convert: verify %s: %s\n", path, maif_report_finding(rep, i)->message);
    CHECK(maif_report_ok(rep));
    CHECK(maif_report_format(rep) == format);
    maif_report_free(rep);
}

/* Every block of b has the type, payload, id, timestamp and metadata of
 * the same block of a; b is in format fb. */
static void same_blocks(const char *a_path, const char *b_path, int fb)
{
    maif_reader *a = NULL, *b = NULL;
    CHECK(reader_open(&a, a_path) == MAIF_OK);
    CHECK(reader_open(&b, b_path) == MAIF_OK);
    CHECK(maif_reader_format(b) == fb);
    CHECK(maif_reader_count(a) == maif_reader_count(b));
    for (uint64_t i = 0; i < maif_reader_count(a); i++) {
        maif_block x, y;
        CHECK(maif_reader_block(a, i, &x) == MAIF_OK);
        CHECK(maif_reader_block(b, i, &y) == MAIF_OK);
        CHECK(x.type == y.type);
        CHECK(x.payload_size == y.payload_size);
        CHECK(x.payload_size == 0 || memcmp(x.payload, y.payload, x.payload_size) == 0);
        CHECK(memcmp(x.id, y.id, MAIF_ID_BYTES) == 0);
        CHECK(x.timestamp_us == y.timestamp_us);
        CHECK(x.has_supersedes == y.has_supersedes); /* 2.1 output: refused when there are any */
        CHECK(!x.has_supersedes || memcmp(x.supersedes, y.supersedes, MAIF_ID_BYTES) == 0);
        CHECK(same_meta(x.meta, x.meta_size, y.meta, y.meta_size));
        if (fb == MAIF_FORMAT_NATIVE) { /* the stored form is canonical already */
            maif_buf c = {0};
            CHECK(canon(y.meta, y.meta_size, &c) == MAIF_OK);
            CHECK(c.len == y.meta_size && (c.len == 0 || memcmp(c.data, y.meta, c.len) == 0));
            maif_buf_free(&c);
        }
    }
    maif_reader_close(a);
    maif_reader_close(b);
}

/* Block i of x and of y have the same metadata bytes. */
static void same_meta_bytes(const char *x_path, const char *y_path)
{
    maif_reader *x = NULL, *y = NULL;
    CHECK(reader_open(&x, x_path) == MAIF_OK);
    CHECK(reader_open(&y, y_path) == MAIF_OK);
    CHECK(maif_reader_count(x) == maif_reader_count(y));
    for (uint64_t i = 0; i < maif_reader_count(x); i++) {
        maif_block p, q;
        CHECK(maif_reader_block(x, i, &p) == MAIF_OK && maif_reader_block(y, i, &q) == MAIF_OK);
        CHECK(p.meta_size == q.meta_size && (p.meta_size == 0 || memcmp(p.meta, q.meta, p.meta_size) == 0));
    }
    maif_reader_close(x);
    maif_reader_close(y);
}

static int file_count(const char *dir)
{
    DIR *d = opendir(dir);
    CHECK(d != NULL);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    closedir(d);
    return n;
}

/* The agent of the native file at path, and whether its header says it
 * was converted from 2.1. */
static void native_facts(const char *path, char *agent, size_t cap, int *from_v21)
{
    maif_reader *r = NULL;
    CHECK(reader_open(&r, path) == MAIF_OK);
    maif_info info;
    CHECK(maif_reader_info(r, &info) == MAIF_OK);
    CHECK(strlen(info.agent) < cap);
    snprintf(agent, cap, "%s", info.agent);
    *from_v21 = strstr(info.converted_from, "\"format\":\"2.1\"") != NULL;
    maif_reader_close(r);
}

/* ---- the round trip */

/* Converts from into to, which must succeed (what names the step in the
 * message) and verify as format. */
static void convert_ok(const char *from, const char *to, int format, const char *what)
{
    int rc = convert(from, to, format);
    if (rc) fprintf(stderr, "fuzz_convert: %s: %s\n", what, api_err);
    CHECK(rc == MAIF_OK);
    verify_ok(to, format);
}

static void round_trip(in_t *in, const char *dir)
{
    char a[300], b[300], c[300];
    snprintf(a, sizeof a, "%s/a.maif", dir);
    snprintf(b, sizeof b, "%s/b.maif", dir);
    snprintf(c, sizeof c, "%s/c.maif", dir);
    static const char *const agents[] = {NULL, "agent-1", "did:maif:conv", "\xc3\xa9t\xc3\xa9"};
    maif_writer *w = NULL;
    int rc = writer_create(&w, a, agents[u8(in) % 4]);
    if (rc) fprintf(stderr, "fuzz_convert: create: %s\n", api_err);
    CHECK(rc == MAIF_OK);
    unsigned nblocks = u8(in) % (MAX_BLOCKS + 1);
    int unfit = 0; /* a block 2.1 cannot hold */
    maif_buf meta = {0};
    for (unsigned i = 0; i < nblocks && in->n; i++) {
        unsigned f = u8(in), t = u8(in);
        maif_block_spec spec = {0};
        spec.type = t < 0xc0 ? types[t % 9]
                             : MAIF_FOURCC(0x20 + t % 95, 0x20 + u8(in) % 95, 0x20 + u8(in) % 95, 0x20 + u8(in) % 95);
        if (spec.type == 0x20202020) spec.type = MAIF_TYPE_BINARY;
        size_t size = u8(in);
        if (size > in->n) size = in->n;
        if (spec.type == MAIF_TYPE_EMBEDDING && !(f & 0x08)) size &= ~(size_t)3; /* mostly whole float32s */
        spec.payload = in->p;
        spec.payload_size = size;
        in->p += size;
        in->n -= size;
        meta.len = 0;
        if (f & 0x80) {
            maif_buf_append(&meta, "{\"m\": ", 6);
            put_value(&meta, in, 0);
            maif_buf_append(&meta, ", \"s\": ", 7);
            put_string(&meta, in);
            maif_buf_append(&meta, "}", 1);
            if (meta.len <= META_MAX) {
                spec.meta_json = (const char *)meta.data;
                spec.meta_size = meta.len;
            }
        } else {
            spec.meta_json = fixed_meta[f % NFIXED];
            spec.meta_size = spec.meta_json ? strlen(spec.meta_json) : 0;
        }
        uint8_t id[MAIF_ID_BYTES] = {0};
        if (f & 0x40) {
            id[0] = (uint8_t)u8(in);
            id[15] = 0x42;
            spec.id = id;
        }
        spec.timestamp_us = 1600000000000000ull + (uint64_t)u8(in) * 1000003u + (f & 0x20 ? 0 : u8(in));
        /* 2.1 holds an embedding only as whole float32 rows of its "dimensions" */
        if (spec.type == MAIF_TYPE_EMBEDDING &&
            (size % 4 || (!(f & 0x80) && f % NFIXED == DIMS_META && size != 8)))
            unfit = 1;
        rc = maif_writer_add(w, &spec, NULL);
        if (rc) fprintf(stderr, "fuzz_convert: add %.*s: %s\n", (int)spec.meta_size,
                        spec.meta_json ? spec.meta_json : "", maif_writer_errmsg(w));
        CHECK(rc == MAIF_OK);
        if (f & 0x10) CHECK(maif_writer_commit(w) == MAIF_OK);
    }
    maif_buf_free(&meta);
    CHECK(maif_writer_commit(w) == MAIF_OK);
    CHECK(maif_writer_close(w) == MAIF_OK);
    verify_ok(a, MAIF_FORMAT_NATIVE);

    rc = convert(a, b, MAIF_FORMAT_V21);
    if (rc != (unfit ? MAIF_EUNSUPPORTED : MAIF_OK)) fprintf(stderr, "fuzz_convert: to 2.1: %d %s\n", rc, api_err);
    CHECK(rc == (unfit ? MAIF_EUNSUPPORTED : MAIF_OK));
    if (unfit) {
        CHECK(file_count(dir) == 1); /* refused: nothing written */
        unlink(a);
        return;
    }
    verify_ok(b, MAIF_FORMAT_V21);
    same_blocks(a, b, MAIF_FORMAT_V21);

    convert_ok(b, c, MAIF_FORMAT_NATIVE, "to native");
    same_blocks(a, c, MAIF_FORMAT_NATIVE);
    /* the agent survives, as 2.1 names it: without "did:maif:", "anonymous" for none */
    char aa[128], ca[128];
    int fa, fc;
    native_facts(a, aa, sizeof aa, &fa);
    native_facts(c, ca, sizeof ca, &fc);
    const char *want = !aa[0] ? "anonymous" : strncmp(aa, "did:maif:", 9) == 0 ? aa + 9 : aa;
    if (strcmp(ca, want)) fprintf(stderr, "fuzz_convert: agent \"%s\" came back as \"%s\"\n", aa, ca);
    CHECK(strcmp(ca, want) == 0);
    CHECK(!fa && fc);

    /* and within each format: 2.1 -> 2.1 keeps the metadata bytes exactly
     * (they are in Python's form already), native -> native too */
    char d[300];
    snprintf(d, sizeof d, "%s/d.maif", dir);
    convert_ok(b, d, MAIF_FORMAT_V21, "2.1 to 2.1");
    same_blocks(b, d, MAIF_FORMAT_V21);
    same_meta_bytes(b, d);
    convert_ok(a, d, MAIF_FORMAT_NATIVE, "native to native");
    same_blocks(a, d, MAIF_FORMAT_NATIVE);
    same_meta_bytes(a, d);

    CHECK(file_count(dir) == 4); /* no temporary file left */
    unlink(a);
    unlink(b);
    unlink(c);
    unlink(d);
}

/* ---- the raw input as a file */

static void raw(const uint8_t *data, size_t size, const char *dir)
{
    char src[300], out[300];
    snprintf(src, sizeof src, "%s/raw", dir);
    FILE *f = fopen(src, "wb");
    CHECK(f != NULL);
    CHECK(size == 0 || fwrite(data, 1, size, f) == size);
    fclose(f);
    maif_report *rep = NULL;
    CHECK(verify(src, &rep) == MAIF_OK);
    int intact = maif_report_ok(rep);
    maif_report_free(rep);
    static const int to[] = {MAIF_FORMAT_NATIVE, MAIF_FORMAT_V21};
    for (int k = 0; k < 2; k++) {
        snprintf(out, sizeof out, "%s/out%d", dir, k);
        int rc = convert(src, out, to[k]);
        /* what verifies converts, to 2.1 unless it holds what 2.1 cannot */
        if (intact && rc != MAIF_OK && !(to[k] == MAIF_FORMAT_V21 && rc == MAIF_EUNSUPPORTED)) {
            fprintf(stderr, "fuzz_convert: an intact file does not convert: %d %s\n", rc, api_err);
            abort();
        }
        /* and what does not verify is never laundered into a signed file */
        if (!intact && rc == MAIF_OK) {
            fprintf(stderr, "fuzz_convert: a file that fails verification was converted\n");
            abort();
        }
        if (rc == MAIF_OK) {
            verify_ok(out, to[k]);
            same_blocks(src, out, to[k]);
            unlink(out);
        } else {
            struct stat st;
            CHECK(stat(out, &st) != 0); /* a failed conversion writes nothing */
        }
        CHECK(file_count(dir) == 1);
    }
    unlink(src);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char dir[] = "/dev/shm/maif-fc.XXXXXX", dir2[] = "/tmp/maif-fc.XXXXXX";
    char *d = fuzz_tmpdir(dir, dir2);
    in_t in = {data, size};
    round_trip(&in, d);
    raw(data, size, d);
    remove_tree(d);
    return 0;
}
