/*
 * fuzz_writer.c — the native writer against a model of what it must keep.
 *
 * The input is a program: a bounded sequence of operations on one native
 * artifact in a fresh temporary directory — add a block (type, payload
 * bytes from the input, metadata from a fixed set whose canonical forms
 * are known, a fixed or random id, an optional supersedes link, copied or
 * borrowed, now and then a payload of 256 KiB or 1 MiB and more so the
 * arena, the direct path and the threaded drain run), commit, rollback,
 * close and reopen, recover, a crash (the file cut at an input-chosen point
 * after the last commit, as a torn tail leaves it, then reopened or
 * recovered) and a torn commit (a commit whose bytes are cut short, which
 * must lose exactly that batch). Beside the writer the target keeps a model:
 * every block added, which of them are committed, the commit count.
 *
 * After every operation that leaves a committed state, and at the end, a
 * fresh reader must show exactly the model's committed blocks — type,
 * payload, canonical metadata, id, supersedes, timestamp, content hash —,
 * find every id (the first block with an id wins), give every id the
 * history the supersedes links define (FORMAT.md §5.3; recomputed here by
 * brute force), list one block record per block and one commit record per
 * commit, report the committed size and the torn bytes a crash or a
 * pending batch left, and maif_verify_file must pass the file. A reader
 * held open across later operations must keep showing its blocks, and a
 * second writer (or recover) must be locked out meanwhile. Any mismatch
 * aborts, so libFuzzer and the corpus replay in `make test` report it.
 * The input's first byte picks the agent id and the content hash (SHA-256
 * or BLAKE3, FORMAT.md §4).
 * Timestamps in specs are fixed, so nothing checked depends on the clock.
 * Bytes written per input are capped (BYTES_MAX) to keep runs fast.
 * FUZZ_TRACE=1 in the environment prints one line per operation.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "maif.h"
#include "crypto/crypto.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define OPS_MAX    48           /* operations per input */
#define BLOCKS_MAX 200          /* blocks per input (the model's history check is quadratic) */
#define BYTES_MAX  (4u << 20)   /* payload bytes per input */
#define NONE       UINT64_MAX

/* ---- metadata: what is passed, and what the library must store */

typedef struct meta_case {
    const char *text;  /* passed as meta_json */
    const char *canon; /* stored canonical form; NULL = stored as none */
    int rc;            /* what maif_writer_add must return */
} meta_case;

static const meta_case metas[] = {
    {NULL, NULL, MAIF_OK},
    {"{\"b\":1,\"a\":\"x\"}", "{\"a\":\"x\",\"b\":1}", MAIF_OK},
    {"{ }", NULL, MAIF_OK}, /* {} is stored as no metadata */
    {"{ \"source\" : \"chat\", \"privacy\":\"internal\", \"n\":[1,2.5,{\"z\":null,\"y\":true}] }",
     "{\"n\":[1,2.5,{\"y\":true,\"z\":null}],\"privacy\":\"internal\",\"source\":\"chat\"}", MAIF_OK},
    {"{\"u\":\"caf\\u00e9 \\ud83d\\ude00\",\"g\":100000.0,\"f\":1e-05}",
     "{\"f\":1e-05,\"g\":100000.0,\"u\":\"caf\xc3\xa9 \xf0\x9f\x98\x80\"}", MAIF_OK},
    {"{\"a\":1,\"a\":2}", NULL, MAIF_EJSON}, /* duplicate key */
    {"[1,2]", NULL, MAIF_EJSON},             /* not an object */
    {"{\"e\":\"\",\"deep\":{\"x\":[[[]]]},\"\\u00ffk\":-0}", "{\"deep\":{\"x\":[[[]]]},\"e\":\"\",\"\xc3\xbfk\":0}",
     MAIF_OK},
};

/* ---- the model */

typedef struct mblock {
    uint32_t type;
    uint8_t *payload; /* owned copy; size bytes */
    size_t size;
    const char *meta; /* expected canonical metadata, or NULL */
    uint8_t id[MAIF_ID_BYTES];
    int has_sup;
    uint8_t sup[MAIF_ID_BYTES];
    uint64_t ts; /* 0: "now", not checked */
} mblock;

typedef struct model {
    mblock b[BLOCKS_MAX];
    size_t n;          /* blocks added (committed + pending) */
    size_t committed;  /* b[0 .. committed) are committed */
    uint64_t commits;  /* commit records in the file */
    uint64_t end;      /* file size at the last commit */
    uint64_t bytes;    /* payload bytes spent (BYTES_MAX) */
    const char *agent; /* expected header agent */
} model;

static void drop_pending(model *m)
{
    while (m->n > m->committed) free(m->b[--m->n].payload);
}

static uint64_t first_with_id(const model *m, size_t n, const uint8_t id[MAIF_ID_BYTES])
{
    for (size_t j = 0; j < n; j++)
        if (memcmp(m->b[j].id, id, MAIF_ID_BYTES) == 0) return j;
    return NONE;
}

/* The history of id among the committed blocks, by the rule of FORMAT.md
 * §5.3 (the first block with an id is the one it names; of two blocks
 * superseding one, the later continues the history). Returns its length. */
static size_t model_history(const model *m, const uint8_t id[MAIF_ID_BYTES], uint64_t *out)
{
    size_t n = m->committed;
    uint64_t i = first_with_id(m, n, id);
    if (i == NONE) return 0;
    for (size_t steps = 0; steps < n && m->b[i].has_sup; steps++) {
        uint64_t p = first_with_id(m, n, m->b[i].sup);
        if (p == NONE || p >= i) break;
        i = p;
    }
    size_t k = 0;
    while (i != NONE && k < n) {
        out[k++] = i;
        uint64_t next = NONE;
        for (size_t j = i + 1; j < n; j++)
            if (m->b[j].has_sup && first_with_id(m, n, m->b[j].sup) == i) next = j;
        i = next;
    }
    return k;
}

/* ---- the public calls whose signatures are changing (the others are in
 * fuzz_util.h): one place to adapt */

/* The writer settings a sequence uses, as flags: FW_DURABLE, FW_FORCE,
 * FW_BLAKE3 (create: BLAKE3 content hashes). */
enum { FW_DURABLE = 1, FW_FORCE = 2, FW_BLAKE3 = 4 };

static maif_options *options_for(unsigned flags)
{
    maif_options *o = NULL;
    if (maif_options_create(&o) != MAIF_OK) abort();
    if ((flags & FW_DURABLE) && maif_options_set(o, MAIF_OPT_DURABLE, 1) != MAIF_OK) abort();
    if ((flags & FW_FORCE) && maif_options_set(o, MAIF_OPT_FORCE_RECOVER, 1) != MAIF_OK) abort();
    if ((flags & FW_BLAKE3) && maif_options_set(o, MAIF_OPT_CONTENT_HASH, MAIF_HASH_BLAKE3) != MAIF_OK) abort();
    return o;
}

static int writer_create(maif_writer **w, const char *path, const char *agent, unsigned flags)
{
    maif_options *o = options_for(flags);
    int rc = api_note(maif_writer_create(w, path, key(), agent, o));
    maif_options_free(o);
    return rc;
}

static int writer_open(maif_writer **w, const char *path, unsigned flags)
{
    maif_options *o = options_for(flags);
    int rc = api_note(maif_writer_open(w, path, key(), o));
    maif_options_free(o);
    return rc;
}

static int recover(const char *path, unsigned flags, uint64_t *cut)
{
    maif_options *o = options_for(flags);
    int rc = api_note(maif_recover(path, o, cut));
    maif_options_free(o);
    return rc;
}

static uint64_t file_size(const char *path)
{
    struct stat st;
    CHECK(stat(path, &st) == 0);
    return (uint64_t)st.st_size;
}

static uint8_t *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(len > 0 ? (size_t)len : 1);
    CHECK(b != NULL);
    CHECK(fread(b, 1, (size_t)len, f) == (size_t)len);
    fclose(f);
    *n = (size_t)len;
    return b;
}

static void spill(const char *path, const uint8_t *b, size_t n)
{
    int fd = open(path, O_WRONLY | O_TRUNC);
    CHECK(fd >= 0);
    CHECK(write(fd, b, n) == (ssize_t)n);
    close(fd);
}

/* Block i as read by r is the model's block i. */
static void check_block(const mblock *e, maif_reader *r, uint64_t i)
{
    maif_block b;
    CHECK(maif_reader_block(r, i, &b) == MAIF_OK);
    CHECK(b.index == i);
    CHECK(b.type == e->type);
    CHECK(b.payload_size == e->size);
    CHECK(e->size == 0 || memcmp(b.payload, e->payload, e->size) == 0);
    CHECK(e->meta ? b.meta_size == strlen(e->meta) && memcmp(b.meta, e->meta, b.meta_size) == 0
                  : b.meta_size == 0);
    CHECK(memcmp(b.id, e->id, MAIF_ID_BYTES) == 0);
    CHECK(b.has_supersedes == e->has_sup);
    CHECK(!!(b.flags & MAIF_BLOCK_F_SUPERSEDES) == e->has_sup);
    CHECK(!e->has_sup || memcmp(b.supersedes, e->sup, MAIF_ID_BYTES) == 0);
    CHECK(e->ts == 0 || b.timestamp_us == e->ts);
    CHECK(b.codec == 0 && b.cipher == 0);
    uint8_t h[MAIF_HASH_BYTES];
    CHECK(maif_hash(maif_reader_content_hash(r), b.payload, b.payload_size, h) == MAIF_OK);
    CHECK(memcmp(h, b.content_hash, MAIF_HASH_BYTES) == 0);
}

/* A reader kept open while the writer goes on (readers share the file
 * with one writer): it must go on showing the blocks it opened with. */
static maif_reader *held;
static size_t held_n;

static void check_held(const model *m)
{
    if (!held) return;
    CHECK(maif_reader_count(held) == held_n && held_n <= m->committed);
    for (size_t i = 0; i < held_n; i++) {
        check_block(&m->b[i], held, i);
        uint64_t at = NONE;
        CHECK(maif_reader_find(held, m->b[i].id, &at) == MAIF_OK && at == first_with_id(m, held_n, m->b[i].id));
    }
}

static void hold(const model *m, const char *path)
{
    maif_reader_close(held);
    held = NULL;
    if (!path) return;
    CHECK(reader_open(&held, path) == MAIF_OK);
    held_n = m->committed;
}

/* ---- the check: a fresh reader and the verifier against the model */

static void check_file(const model *m, const char *path)
{
    check_held(m);
    maif_reader *r = NULL;
    int rc = reader_open(&r, path);
    if (rc != MAIF_OK) fprintf(stderr, "fuzz_writer: open: %s\n", api_err);
    CHECK(rc == MAIF_OK);
    CHECK(maif_reader_format(r) == MAIF_FORMAT_NATIVE);
    CHECK(maif_reader_count(r) == m->committed);
    maif_info info;
    CHECK(maif_reader_info(r, &info) == MAIF_OK);
    CHECK(info.block_count == m->committed);
    CHECK(info.commit_count == m->commits);
    CHECK(strcmp(info.agent, m->agent) == 0);
    CHECK(info.file_size == m->end);
    CHECK(info.torn_bytes == file_size(path) - m->end); /* what a crash or a pending batch left */

    /* the record listing: one block record per block, one commit per commit */
    maif_record rec;
    uint64_t nblocks = 0, ncommits = 0;
    for (uint64_t i = 0; maif_reader_record(r, i, &rec) == MAIF_OK; i++) {
        CHECK(rec.offset + rec.size <= m->end);
        if (strcmp(rec.kind, "block") == 0) CHECK(rec.block_index == (int64_t)nblocks++);
        else if (strcmp(rec.kind, "commit") == 0) ncommits++;
        else CHECK(i == 0 ? strcmp(rec.kind, "header") == 0
                          : strcmp(rec.kind, "index") == 0 || strcmp(rec.kind, "directory") == 0 ||
                                strcmp(rec.kind, "nodes") == 0);
    }
    CHECK(nblocks == m->committed && ncommits == m->commits);

    for (size_t i = 0; i < m->committed; i++) check_block(&m->b[i], r, i);
    maif_block past;
    CHECK(maif_reader_block(r, m->committed, &past) == MAIF_ENOTFOUND);

    static uint64_t want[BLOCKS_MAX], got[BLOCKS_MAX];
    for (size_t i = 0; i < m->committed; i++) {
        uint64_t at = NONE;
        CHECK(maif_reader_find(r, m->b[i].id, &at) == MAIF_OK);
        CHECK(at == first_with_id(m, m->committed, m->b[i].id));
        size_t nw = model_history(m, m->b[i].id, want), ng = 0;
        CHECK(maif_reader_history(r, m->b[i].id, got, BLOCKS_MAX, &ng) == MAIF_OK);
        CHECK(ng == nw && memcmp(got, want, nw * sizeof *want) == 0);
    }
    /* ids of pending or rolled-back blocks, and one never used, are not found */
    for (size_t i = m->committed; i <= m->n && i < BLOCKS_MAX; i++) {
        static const uint8_t never[MAIF_ID_BYTES] = {0xfe, 0xed, 0xfa, 0xce};
        const uint8_t *id = i < m->n ? m->b[i].id : never;
        if (first_with_id(m, m->committed, id) != NONE) continue;
        uint64_t at;
        size_t ng;
        CHECK(maif_reader_find(r, id, &at) == MAIF_ENOTFOUND);
        CHECK(maif_reader_history(r, id, got, BLOCKS_MAX, &ng) == MAIF_ENOTFOUND);
    }
    maif_reader_close(r);

    maif_report *rep = NULL;
    CHECK(verify(path, &rep) == MAIF_OK);
    if (!maif_report_ok(rep))
        for (size_t i = 0; i < maif_report_count(rep); i++)
            fprintf(stderr, "fuzz_writer: verify: %s\n", maif_report_finding(rep, i)->message);
    CHECK(maif_report_ok(rep));
    CHECK(maif_report_format(rep) == MAIF_FORMAT_NATIVE);
    CHECK(maif_report_blocks(rep) == m->committed);
    maif_report_free(rep);
}

/* ---- operations */

static int trace = -1; /* FUZZ_TRACE=1 in the environment: one line per operation */

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Payload sizes that reach the writer's other paths: the direct write and
 * the arena (256 KiB), the threaded drain (1 MiB). */
static size_t large_size(in_t *in)
{
    static const size_t base[] = {256u << 10, (256u << 10) - 1, 1u << 20, 3u << 19};
    return base[u8(in) % 4] + u8(in) * 8u;
}

static void op_add(model *m, maif_writer *w, in_t *in)
{
    unsigned f = u8(in), t = u8(in);
    mblock e;
    memset(&e, 0, sizeof e);
    e.type = t < 0xf0 ? types[t % 9] : t == 0xf0 ? 0 : MAIF_FOURCC('x', t, 0x7f, t + 1);
    /* payload */
    size_t size;
    if ((f & 0x40) && (t & 0x80)) { /* one add in eight, so most inputs stay fast */
        size = large_size(in);
        if (m->bytes + size > BYTES_MAX) size = u8(in);
    } else {
        size = u8(in);
        if (f & 0x80) size *= 3;
    }
    e.payload = malloc(size ? size : 1);
    CHECK(e.payload != NULL);
    uint64_t seed = 0x9e3779b97f4a7c15ull ^ u16(in);
    for (size_t i = 0; i < size; i++) {
        if (in->n && size < 1024) e.payload[i] = (uint8_t)u8(in);
        else e.payload[i] = (uint8_t)(i % 64 ? seed >> (i % 8 * 8) : rng_next(&seed));
    }
    e.size = size;
    /* metadata */
    const meta_case *mc = &metas[(f >> 3) % (sizeof metas / sizeof *metas)];
    e.meta = mc->canon;
    /* id: fixed ones from a pool of four, so duplicates happen */
    uint8_t idbuf[MAIF_ID_BYTES] = {0};
    const uint8_t *id = NULL;
    if (f & 0x02) {
        idbuf[0] = 0xa0 | (uint8_t)(u8(in) & 3);
        id = idbuf;
    }
    /* supersedes: an earlier block, pending or committed, or an unknown id */
    const uint8_t *sup = NULL;
    if (f & 0x04) {
        unsigned k = u8(in);
        if (m->n && k % 8) memcpy(e.sup, m->b[k % m->n].id, MAIF_ID_BYTES);
        else memset(e.sup, 0x5a, MAIF_ID_BYTES);
        e.has_sup = 1;
        sup = e.sup;
    }
    e.ts = f & 0x01 ? 0 : 1700000000000000ull + u16(in);
    maif_block_spec spec = {.type = e.type,
                            .payload = size == 0 && (t & 0x40) ? NULL : e.payload, /* allowed when empty */
                            .payload_size = e.size,
                            .meta_json = mc->text,
                            .meta_size = mc->text ? strlen(mc->text) : 0,
                            .supersedes = sup,
                            .id = id,
                            .timestamp_us = e.ts};
    int want = e.type == 0 ? MAIF_EINVAL : mc->rc;
    uint8_t id_out[MAIF_ID_BYTES];
    int rc;
    uint8_t *scratch = NULL;
    if (want == MAIF_OK && m->n >= BLOCKS_MAX) {
        free(e.payload);
        return;
    }
    if (f & 0x20) {
        rc = maif_writer_add_borrowed(w, &spec, id_out); /* the model's copy stays valid and unchanged */
    } else {
        /* a copying add must be done with the payload when it returns */
        scratch = malloc(size ? size : 1);
        CHECK(scratch != NULL);
        memcpy(scratch, e.payload, size);
        if (spec.payload) spec.payload = scratch;
        rc = maif_writer_add(w, &spec, id_out);
        memset(scratch, 0xdd, size);
        free(scratch);
    }
    if (rc != want) fprintf(stderr, "fuzz_writer: add: %d (want %d): %s\n", rc, want, maif_writer_errmsg(w));
    CHECK(rc == want);
    if (rc != MAIF_OK) {
        free(e.payload);
        return;
    }
    CHECK(!id || memcmp(id_out, id, MAIF_ID_BYTES) == 0);
    memcpy(e.id, id_out, MAIF_ID_BYTES);
    m->bytes += size;
    m->b[m->n++] = e;
}

static void open_writer(model *m, maif_writer **w, const char *path, unsigned flags)
{
    int rc = writer_open(w, path, flags);
    if (rc != MAIF_OK) fprintf(stderr, "fuzz_writer: open for writing: %s\n", api_err);
    CHECK(rc == MAIF_OK);
    CHECK(file_size(path) == m->end); /* a torn tail is cut on open */
    CHECK(maif_writer_count(*w) == m->committed);
}

/* Reopens after the file was cut at a torn point: by maif_writer_open or
 * by maif_recover first; either cuts exactly the bytes past the commit. */
static void reopen_torn(model *m, maif_writer **w, const char *path, in_t *in)
{
    uint64_t size = file_size(path);
    if (u8(in) & 1) {
        uint64_t cut = 99;
        int rc = recover(path, 0, &cut);
        if (rc != MAIF_OK) fprintf(stderr, "fuzz_writer: recover: %s\n", api_err);
        CHECK(rc == MAIF_OK);
        CHECK(cut == size - m->end);
    }
    open_writer(m, w, path, 0);
}

/* Bytes after the last commit that a crash did not leave: zeros, input
 * bytes, or a copy of earlier records (well-formed, but chained to the
 * wrong place). The writer may cut them as a torn write only if the
 * verifier agrees that they are one (a warning, not an error); otherwise
 * it must refuse to open, touching nothing, and forced recovery must cut
 * exactly them. */
static void damage(model *m, maif_writer **w, const char *path, in_t *in)
{
    CHECK(maif_writer_close(*w) == MAIF_OK);
    *w = NULL;
    drop_pending(m);
    CHECK(file_size(path) == m->end);
    size_t n;
    uint8_t *img = slurp(path, &n);
    unsigned kind = u8(in) % 3, len = 1 + u8(in) % 200, from = u16(in);
    uint8_t junk[200];
    for (unsigned i = 0; i < len; i++)
        junk[i] = kind == 0 ? 0 : kind == 1 ? (uint8_t)u8(in) : img[(from + i) % n];
    free(img);
    FILE *f = fopen(path, "ab");
    CHECK(f != NULL && fwrite(junk, 1, len, f) == len);
    fclose(f);

    maif_report *rep = NULL;
    CHECK(verify(path, &rep) == MAIF_OK);
    int torn = maif_report_ok(rep);
    maif_report_free(rep);
    int rc = writer_open(w, path, 0);
    if (rc != (torn ? MAIF_OK : MAIF_EFORMAT))
        fprintf(stderr, "fuzz_writer: %u bytes of kind %u after the commit: verifier %s, open %d (%s)\n", len, kind,
                torn ? "ok" : "error", rc, api_err);
    CHECK(rc == (torn ? MAIF_OK : MAIF_EFORMAT));
    if (trace) fprintf(stderr, "damage: %u bytes of kind %u: %s\n", len, kind, torn ? "cut as torn" : "refused");
    if (rc == MAIF_OK) {
        CHECK(file_size(path) == m->end);
    } else {
        CHECK(*w == NULL && file_size(path) == m->end + len);
        uint64_t cut = 0;
        CHECK(recover(path, 0, &cut) == MAIF_EFORMAT);
        CHECK(recover(path, FW_FORCE, &cut) == MAIF_OK && cut == len);
        open_writer(m, w, path, 0);
    }
    check_file(m, path);
}

static void run(in_t *in, const char *path)
{
    if (trace < 0) trace = getenv("FUZZ_TRACE") != NULL;
    static model m; /* large; one input at a time */
    static const char *const agents[] = {NULL, "agent-7", "did:maif:fuzz"};
    memset(&m, 0, sizeof m);
    unsigned v = u8(in), a = v % 3;
    m.agent = agents[a] ? agents[a] : "";
    maif_writer *w = NULL;
    int rc = writer_create(&w, path, agents[a], (u8(in) == 0xd0 ? FW_DURABLE : 0) | (v / 3 % 2 ? FW_BLAKE3 : 0));
    if (rc != MAIF_OK) fprintf(stderr, "fuzz_writer: create: %s\n", api_err);
    CHECK(rc == MAIF_OK);
    m.commits = 1;
    m.end = file_size(path);
    check_file(&m, path);

    for (int op = 0; op < OPS_MAX && in->n; op++) {
        unsigned c = u8(in);
        if (trace) fprintf(stderr, "op %u: %zu blocks, %zu committed, end %llu\n", c % 16, m.n, m.committed,
                           (unsigned long long)m.end);
        switch (c % 16) {
        default: /* 0..7: add, the common case */
            op_add(&m, w, in);
            break;
        case 8:
        case 9: { /* commit */
            rc = maif_writer_commit(w);
            if (rc) fprintf(stderr, "fuzz_writer: commit: %s\n", maif_writer_errmsg(w));
            CHECK(rc == MAIF_OK);
            m.committed = m.n;
            m.commits++;
            m.end = file_size(path);
            check_file(&m, path);
            break;
        }
        case 10: /* rollback */
            CHECK(maif_writer_rollback(w) == MAIF_OK);
            drop_pending(&m);
            CHECK(file_size(path) == m.end);
            check_file(&m, path);
            break;
        case 11: /* close and reopen (durable now and then) */
            CHECK(maif_writer_close(w) == MAIF_OK);
            w = NULL;
            drop_pending(&m);
            CHECK(file_size(path) == m.end);
            open_writer(&m, &w, path, c & 0x10 ? FW_DURABLE : 0);
            check_file(&m, path);
            break;
        case 12: { /* close, recover (nothing to cut), reopen */
            CHECK(maif_writer_close(w) == MAIF_OK);
            w = NULL;
            drop_pending(&m);
            uint64_t cut = 99;
            rc = recover(path, c & 0x10 ? FW_FORCE : 0, &cut);
            if (rc) fprintf(stderr, "fuzz_writer: recover: %s\n", api_err);
            CHECK(rc == MAIF_OK && cut == 0);
            open_writer(&m, &w, path, 0);
            check_file(&m, path);
            break;
        }
        case 13: { /* crash: the file as the writer left it, cut after the last commit */
            hold(&m, NULL); /* the cut may shrink what a reader maps */
            if (c & 0x10) {
                damage(&m, &w, path, in);
                break;
            }
            size_t n;
            uint8_t *img = slurp(path, &n);
            CHECK(n >= m.end);
            CHECK(maif_writer_close(w) == MAIF_OK);
            w = NULL;
            drop_pending(&m);
            size_t at = (size_t)m.end + (size_t)((uint64_t)u16(in) * (n - m.end + 1) >> 16);
            if (u8(in) & 1) at = n; /* everything the writer wrote */
            if (trace) fprintf(stderr, "crash: cut at %zu of %zu\n", at, n);
            spill(path, img, at);
            free(img);
            check_file(&m, path); /* a torn tail is not committed and not an error */
            reopen_torn(&m, &w, path, in);
            check_file(&m, path);
            break;
        }
        case 14: { /* torn commit: a power cut while the batch was written */
            hold(&m, NULL); /* the cut may shrink what a reader maps */
            uint64_t before = m.end;
            CHECK(maif_writer_commit(w) == MAIF_OK);
            uint64_t after = file_size(path);
            CHECK(maif_writer_close(w) == MAIF_OK);
            w = NULL;
            drop_pending(&m);
            uint64_t at = before + ((after - before) * u16(in) >> 16);
            if (trace) fprintf(stderr, "torn commit: cut at %llu in [%llu, %llu)\n", (unsigned long long)at,
                               (unsigned long long)before, (unsigned long long)after);
            CHECK(truncate(path, (off_t)at) == 0);
            check_file(&m, path);
            reopen_torn(&m, &w, path, in);
            check_file(&m, path);
            break;
        }
        case 15: { /* look; a second writer is locked out; keep a reader open */
            maif_writer *w2 = NULL;
            CHECK(writer_open(&w2, path, 0) == MAIF_ELOCKED && w2 == NULL);
            CHECK(recover(path, 0, NULL) == MAIF_ELOCKED);
            check_file(&m, path);
            if (c & 0x10) hold(&m, path);
            break;
        }
        }
        CHECK(maif_writer_count(w) == m.n);
    }
    if (u8(in) & 1) {
        CHECK(maif_writer_commit(w) == MAIF_OK);
        m.committed = m.n;
        m.commits++;
    }
    CHECK(maif_writer_close(w) == MAIF_OK);
    drop_pending(&m);
    m.end = file_size(path);
    check_file(&m, path);
    hold(&m, NULL);
    m.committed = 0;
    drop_pending(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char dir[] = "/dev/shm/maif-fw.XXXXXX", dir2[] = "/tmp/maif-fw.XXXXXX";
    char *d = fuzz_tmpdir(dir, dir2);
    char path[256];
    snprintf(path, sizeof path, "%s/a.maif", d);
    in_t in = {data, size};
    run(&in, path);
    remove_tree(d);
    return 0;
}
