/*
 * test_reader.c — the reader over native files: a round trip of every
 * block type with metadata, explicit ids and timestamps, supersedes chains
 * and histories, info and the record listing; bad arguments across the
 * public API; readers as snapshots; FIFOs refused; one reader of either
 * format shared by 8 threads.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "format/native/native.h"

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
    tu_fixture *f = *state;
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

    uint64_t t0 = tu_now_us();
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
    tu_add_simple(w, MAIF_TYPE_TEXT, "v0", 2, "{\"version\":0}", sup[0]);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    maif_block_spec s1 = {.type = MAIF_TYPE_TEXT, .payload = "v1", .payload_size = 2,
                          .meta_json = "{\"version\":1}", .meta_size = 13, .supersedes = sup[0]};
    assert_int_equal(maif_writer_add(w, &s1, sup[1]), MAIF_OK);
    tu_add_simple(w, MAIF_TYPE_TEXT, "unrelated", 9, NULL, NULL);
    maif_block_spec s2 = {.type = MAIF_TYPE_TEXT, .payload = "v2", .payload_size = 2,
                          .meta_json = "{\"version\":2}", .meta_size = 13, .supersedes = sup[1]};
    assert_int_equal(maif_writer_add(w, &s2, sup[2]), MAIF_OK);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_count(w), n + 4);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    uint64_t t1 = tu_now_us();

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
    assert_int_equal(info.version_major, NAT_VERSION_ED25519);
    assert_string_equal(info.agent, "agent-7");
    assert_string_equal(info.converted_from, "");
    assert_int_equal(info.commit_count, 3); /* create's empty commit + 2 */
    assert_int_equal(info.block_count, n + 4);
    assert_int_equal(info.torn_bytes, 0);
    assert_int_equal(info.file_size, tu_file_size(f->path));
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
    tu_assert_verifies_clean(f->path);
}

static void test_bad_args(void **state)
{
    tu_fixture *f = *state;
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
    assert_non_null(strstr(maif_last_errmsg(), "missing.maif"));
    assert_int_equal(maif_reader_open(&r, f->dir), MAIF_EIO); /* a directory */
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

/* A reader is a snapshot: later commits do not change what it shows, and
 * its views stay valid while the writer appends. */
static void test_reader_snapshot(void **state)
{
    tu_fixture *f = *state;
    maif_writer *w = tu_create_one(f->path, f->key, "one", NULL);
    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    maif_block b;
    assert_int_equal(maif_reader_block(r, 0, &b), MAIF_OK);
    for (int i = 0; i < 50; i++) tu_add_simple(w, MAIF_TYPE_TEXT, "more", 4, NULL, NULL);
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

/* A FIFO (or any non-regular file) is refused at once, never waited on. */
static void test_fifo_refused(void **state)
{
    tu_fixture *f = *state;
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

/* ------------------------------------------------------ shared readers */

/* One reader, many threads: 8 threads start together on a freshly opened
 * reader (so the id table and the record listing are built while they
 * race for them) and each reads every block, finds every id, walks every
 * history, lists every record and asks for info and count, in its own
 * order; every answer must equal a single-threaded pass over another
 * reader of the same image. Each thread also fails on purpose (an id and
 * a block index of its own) and must read back its own message. */

#define MT_THREADS 8
#define MT_HIST 16

typedef struct mt_expect {
    uint64_t count;
    maif_info info;
    maif_block *blocks;   /* views into the reference reader */
    uint64_t *found;      /* maif_reader_find of each block's id */
    size_t *hist_n;
    uint64_t (*hist)[MT_HIST];
    maif_record *recs;
    uint64_t nrecs;
} mt_expect;

typedef struct mt_arg {
    maif_reader *r;
    const mt_expect *e;
    pthread_barrier_t *start;
    int tid;
    int bad;              /* mismatches seen */
    char first[160];      /* what the first mismatch was */
} mt_arg;

static int blocks_equal(const maif_block *a, const maif_block *b)
{
    return a->index == b->index && a->offset == b->offset && a->type == b->type && a->flags == b->flags &&
           a->timestamp_us == b->timestamp_us && memcmp(a->id, b->id, MAIF_ID_BYTES) == 0 &&
           a->has_supersedes == b->has_supersedes &&
           (!a->has_supersedes || memcmp(a->supersedes, b->supersedes, MAIF_ID_BYTES) == 0) &&
           a->payload_size == b->payload_size && memcmp(a->payload, b->payload, a->payload_size) == 0 &&
           a->meta_size == b->meta_size && (!a->meta_size || memcmp(a->meta, b->meta, a->meta_size) == 0) &&
           memcmp(a->content_hash, b->content_hash, MAIF_HASH_BYTES) == 0 && a->codec == b->codec &&
           a->cipher == b->cipher;
}

static int infos_equal(const maif_info *a, const maif_info *b)
{
    return a->format == b->format && a->version_major == b->version_major && a->version_minor == b->version_minor &&
           a->file_size == b->file_size && a->torn_bytes == b->torn_bytes && a->block_count == b->block_count &&
           a->commit_count == b->commit_count && a->created_us == b->created_us && a->modified_us == b->modified_us &&
           memcmp(a->file_id, b->file_id, MAIF_ID_BYTES) == 0 && strcmp(a->agent, b->agent) == 0 &&
           memcmp(a->signer, b->signer, MAIF_PUBKEY_BYTES) == 0 &&
           memcmp(a->merkle_root, b->merkle_root, MAIF_HASH_BYTES) == 0 &&
           strcmp(a->converted_from, b->converted_from) == 0;
}

static int records_equal(const maif_record *a, const maif_record *b)
{
    return strcmp(a->kind, b->kind) == 0 && a->offset == b->offset && a->size == b->size &&
           a->block_index == b->block_index && a->type == b->type;
}

/* The single-threaded pass. */
static void mt_expect_build(maif_reader *r, mt_expect *e)
{
    memset(e, 0, sizeof *e);
    e->count = maif_reader_count(r);
    assert_true(e->count > 0);
    assert_int_equal(maif_reader_info(r, &e->info), MAIF_OK);
    e->blocks = calloc(e->count, sizeof *e->blocks);
    e->found = calloc(e->count, sizeof *e->found);
    e->hist_n = calloc(e->count, sizeof *e->hist_n);
    e->hist = calloc(e->count, sizeof *e->hist);
    assert_true(e->blocks && e->found && e->hist_n && e->hist);
    for (uint64_t i = 0; i < e->count; i++) {
        assert_int_equal(maif_reader_block(r, i, &e->blocks[i]), MAIF_OK);
        assert_int_equal(maif_reader_find(r, e->blocks[i].id, &e->found[i]), MAIF_OK);
        assert_int_equal(maif_reader_history(r, e->blocks[i].id, e->hist[i], MT_HIST, &e->hist_n[i]), MAIF_OK);
        assert_true(e->hist_n[i] >= 1 && e->hist_n[i] <= MT_HIST);
    }
    maif_record rec;
    while (maif_reader_record(r, e->nrecs, &rec) == MAIF_OK) e->nrecs++;
    assert_true(e->nrecs > e->count);
    e->recs = calloc(e->nrecs, sizeof *e->recs);
    assert_non_null(e->recs);
    for (uint64_t i = 0; i < e->nrecs; i++) assert_int_equal(maif_reader_record(r, i, &e->recs[i]), MAIF_OK);
}

static void mt_expect_free(mt_expect *e)
{
    free(e->blocks);
    free(e->found);
    free(e->hist_n);
    free(e->hist);
    free(e->recs);
}

static void mt_bad(mt_arg *a, const char *what, uint64_t i)
{
    if (!a->bad++) snprintf(a->first, sizeof a->first, "thread %d: %s %llu", a->tid, what, (unsigned long long)i);
}

static void *mt_thread(void *p)
{
    mt_arg *a = p;
    const mt_expect *e = a->e;
    maif_reader *r = a->r;
    pthread_barrier_wait(a->start);
    uint64_t n = e->count, step = 2 * (uint64_t)a->tid + 1; /* odd: some orders visit every i once */
    while (n % step == 0) step += 2;
    for (uint64_t k = 0; k < n; k++) {
        uint64_t i = (k * step + (uint64_t)a->tid) % n;
        maif_block b;
        if (maif_reader_block(r, i, &b) != MAIF_OK || !blocks_equal(&b, &e->blocks[i])) mt_bad(a, "block", i);
        uint64_t at = UINT64_MAX;
        if (maif_reader_find(r, e->blocks[i].id, &at) != MAIF_OK || at != e->found[i]) mt_bad(a, "find", i);
        uint64_t h[MT_HIST];
        size_t hn = 0;
        if (maif_reader_history(r, e->blocks[i].id, h, MT_HIST, &hn) != MAIF_OK || hn != e->hist_n[i] ||
            memcmp(h, e->hist[i], hn * sizeof *h) != 0)
            mt_bad(a, "history", i);
        maif_record rec;
        uint64_t j = (k * step + (uint64_t)a->tid) % e->nrecs;
        if (maif_reader_record(r, j, &rec) != MAIF_OK || !records_equal(&rec, &e->recs[j])) mt_bad(a, "record", j);
        if (k % 16 == 0) {
            maif_info info;
            if (maif_reader_info(r, &info) != MAIF_OK || !infos_equal(&info, &e->info)) mt_bad(a, "info", k);
            if (maif_reader_count(r) != n || maif_reader_format(r) != e->info.format) mt_bad(a, "count", k);
        }
        if (k % 8 == 0) { /* failures of its own, and their messages */
            uint8_t nosuch[MAIF_ID_BYTES];
            memset(nosuch, 0xe7, sizeof nosuch);
            nosuch[0] = (uint8_t)a->tid;
            nosuch[1] = (uint8_t)k;
            char hex[2 * MAIF_ID_BYTES + 1];
            maif_hex(nosuch, MAIF_ID_BYTES, hex);
            if (maif_reader_find(r, nosuch, &at) != MAIF_ENOTFOUND || !strstr(maif_reader_errmsg(r), hex))
                mt_bad(a, "own find message", k);
            char want[64];
            snprintf(want, sizeof want, "block %llu does not exist", (unsigned long long)(n + (uint64_t)a->tid + k));
            if (maif_reader_block(r, n + (uint64_t)a->tid + k, &b) != MAIF_ENOTFOUND ||
                !strstr(maif_reader_errmsg(r), want))
                mt_bad(a, "own block message", k);
        }
    }
    if (maif_reader_record(r, e->nrecs, &(maif_record){0}) != MAIF_ENOTFOUND) mt_bad(a, "record past the end", 0);
    return NULL;
}

/* Rounds of 8 threads, each round on a fresh reader of the image at path. */
static void mt_run(const char *path, int rounds)
{
    maif_reader *ref = NULL;
    assert_int_equal(maif_reader_open(&ref, path), MAIF_OK);
    mt_expect e;
    mt_expect_build(ref, &e);
    for (int round = 0; round < rounds; round++) {
        maif_reader *r = NULL;
        assert_int_equal(maif_reader_open(&r, path), MAIF_OK);
        pthread_barrier_t start;
        assert_int_equal(pthread_barrier_init(&start, NULL, MT_THREADS), 0);
        pthread_t t[MT_THREADS];
        mt_arg args[MT_THREADS];
        for (int i = 0; i < MT_THREADS; i++) {
            args[i] = (mt_arg){.r = r, .e = &e, .start = &start, .tid = i};
            assert_int_equal(pthread_create(&t[i], NULL, mt_thread, &args[i]), 0);
        }
        for (int i = 0; i < MT_THREADS; i++) assert_int_equal(pthread_join(t[i], NULL), 0);
        pthread_barrier_destroy(&start);
        for (int i = 0; i < MT_THREADS; i++)
            if (args[i].bad) fail_msg("%s: %d mismatches, first: %s", path, args[i].bad, args[i].first);
        /* the main thread has no message of its own on this reader */
        assert_string_equal(maif_reader_errmsg(r), "");
        maif_reader_close(r);
    }
    mt_expect_free(&e);
    maif_reader_close(ref);
}

static void test_threads_native(void **state)
{
    tu_fixture *f = *state;
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->key, "threads", NULL), MAIF_OK);
    uint8_t prev[MAIF_ID_BYTES];
    for (int i = 0; i < 240; i++) {
        char text[32], meta[32];
        snprintf(text, sizeof text, "block %d", i);
        snprintf(meta, sizeof meta, "{\"i\":%d}", i);
        /* chains of three versions (i % 4 == 0, 1, 2), then a single one */
        maif_block_spec s = {.type = i % 5 ? MAIF_TYPE_TEXT : MAIF_TYPE_JSON, .payload = text,
                             .payload_size = strlen(text), .meta_json = i % 3 ? meta : NULL,
                             .meta_size = i % 3 ? strlen(meta) : 0,
                             .supersedes = i % 4 == 1 || i % 4 == 2 ? prev : NULL};
        uint8_t id[MAIF_ID_BYTES];
        assert_int_equal(maif_writer_add(w, &s, id), MAIF_OK);
        memcpy(prev, id, sizeof prev);
        if (i % 50 == 49) assert_int_equal(maif_writer_commit(w), MAIF_OK);
    }
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    mt_run(f->path, 6);
    /* the same from an in-memory image */
    size_t len;
    uint8_t *img = tu_read(f->path, &len);
    assert_non_null(img);
    maif_reader *a = NULL;
    assert_int_equal(maif_reader_open_mem(&a, img, len), MAIF_OK);
    size_t hn = 0;
    maif_block b;
    assert_int_equal(maif_reader_block(a, 1, &b), MAIF_OK);
    assert_int_equal(maif_reader_history(a, b.id, NULL, 0, &hn), MAIF_OK);
    assert_int_equal(hn, 3);
    maif_reader_close(a);
    free(img);
}

static void test_threads_v21(void **state)
{
    (void)state;
    const char *names[] = {"sample_multimodal.maif", "sample_text.maif"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char *p = tu_path(tu_samples_dir(), names[i]);
        mt_run(p, 4);
        free(p);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_roundtrip_all_types, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_bad_args, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_reader_snapshot, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_fifo_refused, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_threads_native, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_threads_v21, tu_setup, tu_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
