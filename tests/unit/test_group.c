/*
 * test_group.c — many threads on one writer: group commit
 * (maif_writer_commit_batch), asynchronous appends (maif_writer_add_async,
 * maif_writer_flush) with a bounded queue, and a request that fails alone.
 *
 * Every block carries metadata {"b":batch,"j":index,"n":size,"t":thread}
 * so the checks read from the file alone that each batch is there once,
 * whole and contiguous, and that one thread's asynchronous blocks keep the
 * order it queued them in.
 */
#include "testutil.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NT     8  /* committing threads */
#define NB     40 /* batches per thread */
#define MAXN   3  /* blocks per batch: 1 + (t + b) % MAXN */

static unsigned bsize(unsigned t, unsigned b) { return 1 + (t + b) % MAXN; }

static int parse(const maif_block *blk, unsigned *t, unsigned *b, unsigned *j, unsigned *n)
{
    char buf[96];
    int used = 0;
    if (!blk->meta || blk->meta_size >= sizeof buf) return -1;
    memcpy(buf, blk->meta, blk->meta_size);
    buf[blk->meta_size] = 0;
    if (sscanf(buf, "{\"b\":%u,\"j\":%u,\"n\":%u,\"t\":%u}%n", b, j, n, t, &used) != 4 ||
        (size_t)used != blk->meta_size)
        return -1;
    return 0;
}

typedef struct batch {
    maif_block_spec s[MAXN];
    char meta[MAXN][96];
    char text[MAXN][64];
    uint8_t ids[MAXN][MAIF_ID_BYTES];
} batch;

static void make_batch(batch *bt, unsigned t, unsigned b, unsigned n)
{
    for (unsigned j = 0; j < n; j++) {
        snprintf(bt->meta[j], sizeof bt->meta[j], "{\"b\":%u,\"j\":%u,\"n\":%u,\"t\":%u}", b, j, n, t);
        snprintf(bt->text[j], sizeof bt->text[j], "thread %u batch %u block %u", t, b, j);
        bt->s[j] = (maif_block_spec){.type = MAIF_TYPE_TEXT, .payload = bt->text[j],
                                     .payload_size = strlen(bt->text[j]), .meta_json = bt->meta[j],
                                     .meta_size = strlen(bt->meta[j])};
    }
}

/* Walks r from block first: every batch whole, contiguous, once; returns
 * the number of batches (seen[t] gets bit b), or -1. */
static long check(maif_reader *r, uint64_t first, uint64_t seen[NT])
{
    long batches = 0;
    uint64_t count = maif_reader_count(r);
    for (uint64_t i = first; i < count;) {
        maif_block blk;
        unsigned t, b, j, n;
        if (maif_reader_block(r, i, &blk) || parse(&blk, &t, &b, &j, &n) || j || t >= NT || b >= 64 ||
            n != bsize(t, b) || (seen[t] >> b & 1) || i + n > count)
            return -1;
        for (unsigned k = 1; k < n; k++) {
            unsigned t2, b2, j2, n2;
            if (maif_reader_block(r, i + k, &blk) || parse(&blk, &t2, &b2, &j2, &n2) || t2 != t || b2 != b ||
                j2 != k || n2 != n)
                return -1;
        }
        seen[t] |= (uint64_t)1 << b;
        batches++;
        i += n;
    }
    return batches;
}

typedef struct job {
    maif_writer *w;
    unsigned t;
    int rc;
    uint8_t first_id[MAIF_ID_BYTES]; /* id of the first block of batch 0 */
} job;

static void *commit_thread(void *arg)
{
    job *j = arg;
    batch bt;
    for (unsigned b = 0; b < NB && !j->rc; b++) {
        unsigned n = bsize(j->t, b);
        make_batch(&bt, j->t, b, n);
        j->rc = maif_writer_commit_batch(j->w, bt.s, n, bt.ids);
        if (b == 0) memcpy(j->first_id, bt.ids[0], MAIF_ID_BYTES);
    }
    return NULL;
}

static maif_writer *create(tu_fixture *f, int durable, int64_t queue)
{
    maif_options *o = NULL;
    assert_int_equal(maif_options_create(&o), MAIF_OK);
    assert_int_equal(maif_options_set(o, MAIF_OPT_DURABLE, durable), MAIF_OK);
    assert_int_equal(maif_options_set(o, MAIF_OPT_ASYNC_QUEUE, queue), MAIF_OK);
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->key, "group", o), MAIF_OK);
    maif_options_free(o);
    return w;
}

static void run_threads(maif_writer *w, job *jobs)
{
    pthread_t th[NT];
    for (unsigned t = 0; t < NT; t++) {
        jobs[t] = (job){.w = w, .t = t};
        assert_int_equal(pthread_create(&th[t], NULL, commit_thread, &jobs[t]), 0);
    }
    for (unsigned t = 0; t < NT; t++) {
        pthread_join(th[t], NULL);
        assert_int_equal(jobs[t].rc, MAIF_OK);
    }
}

static void check_file(tu_fixture *f, const job *jobs, uint64_t max_commits)
{
    uint64_t nblocks = 0;
    for (unsigned t = 0; t < NT; t++)
        for (unsigned b = 0; b < NB; b++) nblocks += bsize(t, b);
    assert_int_equal(tu_assert_verifies_clean(f->path), nblocks);
    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    uint64_t seen[NT] = {0};
    assert_int_equal(check(r, 0, seen), NT * NB);
    for (unsigned t = 0; t < NT; t++) assert_true(seen[t] == ((uint64_t)1 << NB) - 1);
    maif_info info;
    assert_int_equal(maif_reader_info(r, &info), MAIF_OK);
    assert_true(info.commit_count <= max_commits);
    if (jobs) /* the ids handed back are the blocks' */
        for (unsigned t = 0; t < NT; t++) {
            uint64_t idx;
            maif_block blk;
            unsigned tt, b, j, n;
            assert_int_equal(maif_reader_find(r, jobs[t].first_id, &idx), MAIF_OK);
            assert_int_equal(maif_reader_block(r, idx, &blk), MAIF_OK);
            assert_int_equal(parse(&blk, &tt, &b, &j, &n), 0);
            assert_int_equal(tt, t);
            assert_int_equal(b, 0);
            assert_int_equal(j, 0);
        }
    maif_reader_close(r);
}

static void test_group_commit(void **state)
{
    tu_fixture *f = *state;
    maif_writer *w = create(f, 0, 0);
    job jobs[NT];
    run_threads(w, jobs);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    check_file(f, jobs, 1 + NT * NB);
}

static void test_group_commit_durable(void **state)
{
    tu_fixture *f = *state;
    maif_writer *w = create(f, 1, 0);
    job jobs[NT];
    run_threads(w, jobs);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    check_file(f, jobs, 1 + NT * NB);
}

/* One thread's bad batch fails alone, in any group; nothing of it shows. */
typedef struct bad_job {
    maif_writer *w;
    int rcs[NB];
} bad_job;

static void *bad_thread(void *arg)
{
    bad_job *j = arg;
    for (unsigned b = 0; b < NB; b++) {
        char text[] = "bad";
        maif_block_spec s[2] = {
            {.type = MAIF_TYPE_TEXT, .payload = text, .payload_size = 3},
            {.type = MAIF_TYPE_TEXT, .payload = text, .payload_size = 3, .meta_json = "{nope", .meta_size = 5},
        };
        j->rcs[b] = maif_writer_commit_batch(j->w, s, 2, NULL);
    }
    return NULL;
}

static void test_bad_request_fails_alone(void **state)
{
    tu_fixture *f = *state;
    maif_writer *w = create(f, 0, 0);
    /* alone first: the message reaches the caller */
    char text[] = "x";
    maif_block_spec s = {.type = MAIF_TYPE_TEXT, .payload = text, .payload_size = 1, .meta_json = "[1]",
                         .meta_size = 3};
    assert_int_not_equal(maif_writer_commit_batch(w, &s, 1, NULL), MAIF_OK);
    assert_non_null(strstr(maif_last_errmsg(), "metadata"));
    assert_int_equal(maif_writer_count(w), 0);
    /* then among good ones */
    job jobs[NT];
    pthread_t bt;
    bad_job bj = {.w = w};
    assert_int_equal(pthread_create(&bt, NULL, bad_thread, &bj), 0);
    run_threads(w, jobs);
    pthread_join(bt, NULL);
    for (unsigned b = 0; b < NB; b++) assert_int_equal(bj.rcs[b], MAIF_EJSON);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    check_file(f, jobs, 1 + NT * NB);
}

static void test_group_states(void **state)
{
    tu_fixture *f = *state;
    char text[] = "x";
    maif_block_spec s = {.type = MAIF_TYPE_TEXT, .payload = text, .payload_size = 1};
    assert_int_equal(maif_writer_commit_batch(NULL, &s, 1, NULL), MAIF_EINVAL);
    assert_int_equal(maif_writer_add_async(NULL, &s, NULL, NULL), MAIF_EINVAL);
    assert_int_equal(maif_writer_flush(NULL), MAIF_EINVAL);
    maif_writer *w = create(f, 0, 0);
    assert_int_equal(maif_writer_commit_batch(w, NULL, 1, NULL), MAIF_EINVAL);
    assert_int_equal(maif_writer_add_async(w, NULL, NULL, NULL), MAIF_EINVAL);
    assert_int_equal(maif_writer_commit_batch(w, NULL, 0, NULL), MAIF_OK); /* a barrier */
    assert_int_equal(maif_writer_flush(w), MAIF_OK);
    /* a batch pending from maif_writer_add must be committed first */
    assert_int_equal(maif_writer_add(w, &s, NULL), MAIF_OK);
    assert_int_equal(maif_writer_commit_batch(w, &s, 1, NULL), MAIF_ESTATE);
    assert_int_equal(maif_writer_count(w), 1);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_commit_batch(w, &s, 1, NULL), MAIF_OK);
    assert_int_equal(maif_writer_count(w), 2);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    /* a writer without a key cannot commit */
    int64_t q = -1;
    assert_int_equal(maif_options_get(NULL, MAIF_OPT_ASYNC_QUEUE, &q), MAIF_OK);
    assert_int_equal(q, 0);
    maif_options *o = NULL;
    assert_int_equal(maif_options_create(&o), MAIF_OK);
    assert_int_equal(maif_options_set(o, MAIF_OPT_ASYNC_QUEUE, -1), MAIF_EINVAL);
    assert_int_equal(maif_options_set(o, MAIF_OPT_ASYNC_QUEUE, (1 << 20) + 1), MAIF_EINVAL);
    maif_options_free(o);
}

/* ---------------------------------------------------------------- async */

typedef struct acount {
    _Atomic unsigned ok, failed;
    _Atomic unsigned last_seq; /* per producer: callbacks come in queue order */
    int order_ok;
} acount;

typedef struct aitem {
    acount *c;
    unsigned seq;
    char meta[96];
    char text[64];
} aitem;

static void on_done(void *ctx, int rc, const uint8_t *id)
{
    aitem *it = ctx;
    if (rc == MAIF_OK && id) atomic_fetch_add(&it->c->ok, 1);
    else atomic_fetch_add(&it->c->failed, 1);
    unsigned prev = atomic_exchange(&it->c->last_seq, it->seq + 1);
    if (prev > it->seq) it->c->order_ok = 0; /* a later block completed first */
}

typedef struct aprod {
    maif_writer *w;
    unsigned t;
    acount c;
    aitem items[NB];
} aprod;

static void *async_thread(void *arg)
{
    aprod *p = arg;
    for (unsigned b = 0; b < NB; b++) {
        aitem *it = &p->items[b];
        it->c = &p->c;
        it->seq = b;
        /* single-block batches: bsize is 1 only for some b, so use n = 1 in the metadata and check below */
        snprintf(it->meta, sizeof it->meta, "{\"b\":%u,\"j\":0,\"n\":1,\"t\":%u}", b, p->t);
        snprintf(it->text, sizeof it->text, "async %u %u", p->t, b);
        maif_block_spec s = {.type = MAIF_TYPE_TEXT, .payload = it->text, .payload_size = strlen(it->text),
                             .meta_json = it->meta, .meta_size = strlen(it->meta)};
        if (maif_writer_add_async(p->w, &s, on_done, it) != MAIF_OK) return NULL;
    }
    return NULL;
}

static void test_async(void **state)
{
    tu_fixture *f = *state;
    maif_writer *w = create(f, 0, 4); /* a queue of 4: producers wait */
    static aprod prods[NT];
    pthread_t th[NT];
    for (unsigned t = 0; t < NT; t++) {
        memset(&prods[t], 0, sizeof prods[t]);
        prods[t].w = w;
        prods[t].t = t;
        prods[t].c.order_ok = 1;
        assert_int_equal(pthread_create(&th[t], NULL, async_thread, &prods[t]), 0);
    }
    for (unsigned t = 0; t < NT; t++) pthread_join(th[t], NULL);
    assert_int_equal(maif_writer_flush(w), MAIF_OK);
    for (unsigned t = 0; t < NT; t++) {
        assert_int_equal(atomic_load(&prods[t].c.ok), NB);
        assert_int_equal(atomic_load(&prods[t].c.failed), 0);
        assert_true(prods[t].c.order_ok);
    }
    assert_int_equal(maif_writer_count(w), NT * NB);
    /* a bad one: its callback and the next flush report it */
    aprod *p = &prods[0];
    memset(&p->c, 0, sizeof p->c);
    p->c.order_ok = 1;
    p->items[0].c = &p->c;
    p->items[0].seq = 0;
    maif_block_spec bad = {.type = MAIF_TYPE_TEXT, .payload = "z", .payload_size = 1, .meta_json = "{",
                           .meta_size = 1};
    assert_int_equal(maif_writer_add_async(w, &bad, on_done, &p->items[0]), MAIF_OK);
    assert_int_equal(maif_writer_flush(w), MAIF_EJSON);
    assert_int_equal(atomic_load(&p->c.failed), 1);
    assert_int_equal(maif_writer_flush(w), MAIF_OK); /* cleared */
    /* close commits what is still queued (no callback) */
    maif_block_spec last = {.type = MAIF_TYPE_TEXT, .payload = "end", .payload_size = 3};
    assert_int_equal(maif_writer_add_async(w, &last, NULL, NULL), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);

    tu_assert_verifies(f->path);
    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    assert_int_equal(maif_reader_count(r), NT * NB + 1);
    /* each producer's blocks appear in the order it queued them */
    unsigned next[NT] = {0};
    for (uint64_t i = 0; i < NT * NB; i++) {
        maif_block blk;
        unsigned t, b, j, n;
        assert_int_equal(maif_reader_block(r, i, &blk), MAIF_OK);
        assert_int_equal(parse(&blk, &t, &b, &j, &n), 0);
        assert_true(t < NT);
        assert_int_equal(b, next[t]);
        next[t]++;
    }
    maif_block blk;
    assert_int_equal(maif_reader_block(r, NT * NB, &blk), MAIF_OK);
    assert_int_equal(blk.payload_size, 3);
    maif_reader_close(r);
}

/* A commit_batch and async appends mixed, from several threads. */
static void *mixed_thread(void *arg)
{
    aprod *p = arg;
    if (p->t % 2) return async_thread(arg);
    for (unsigned b = 0; b < NB; b++) {
        aitem *it = &p->items[b];
        snprintf(it->meta, sizeof it->meta, "{\"b\":%u,\"j\":0,\"n\":1,\"t\":%u}", b, p->t);
        snprintf(it->text, sizeof it->text, "sync %u %u", p->t, b);
        maif_block_spec s = {.type = MAIF_TYPE_TEXT, .payload = it->text, .payload_size = strlen(it->text),
                             .meta_json = it->meta, .meta_size = strlen(it->meta)};
        if (maif_writer_commit_batch(p->w, &s, 1, NULL) != MAIF_OK) atomic_fetch_add(&p->c.failed, 1);
        else atomic_fetch_add(&p->c.ok, 1);
    }
    return NULL;
}

static void test_mixed(void **state)
{
    tu_fixture *f = *state;
    maif_writer *w = create(f, 0, 16);
    static aprod prods[NT];
    pthread_t th[NT];
    for (unsigned t = 0; t < NT; t++) {
        memset(&prods[t], 0, sizeof prods[t]);
        prods[t].w = w;
        prods[t].t = t;
        prods[t].c.order_ok = 1;
        assert_int_equal(pthread_create(&th[t], NULL, mixed_thread, &prods[t]), 0);
    }
    for (unsigned t = 0; t < NT; t++) pthread_join(th[t], NULL);
    assert_int_equal(maif_writer_close(w), MAIF_OK); /* flushes */
    for (unsigned t = 0; t < NT; t++) {
        assert_int_equal(atomic_load(&prods[t].c.ok), NB);
        assert_true(prods[t].c.order_ok);
    }
    assert_int_equal(tu_assert_verifies_clean(f->path), NT * NB);
}

/* ------------------------------------------- encoded by the worker pool */

#define PT   4   /* threads */
#define PB   12  /* batches each */
#define PN   3   /* blocks per batch */
#define PSZ  (48u << 10)

typedef struct pjob {
    maif_writer *w;
    unsigned t;
    int rc;
    int bad; /* this thread's batch 5 carries bad metadata */
} pjob;

/* Block (t, b, j): compressible text, every fourth one random bytes (the
 * codec does not pay and the block is stored as is, then sealed). */
static void pblock(uint8_t *p, unsigned t, unsigned b, unsigned j)
{
    uint64_t seed = (uint64_t)t << 32 | b << 8 | j;
    if (j == 1 && b % 4 == 0) {
        tu_pattern(p, PSZ, seed);
        return;
    }
    for (size_t i = 0; i < PSZ; i++) p[i] = (uint8_t)("abcdefgh"[(i / 64 + seed) % 8]);
}

static void *pool_thread(void *arg)
{
    pjob *j = arg;
    uint8_t *buf = malloc((size_t)PSZ * PN);
    for (unsigned b = 0; b < PB && !j->rc; b++) {
        maif_block_spec s[PN];
        char meta[PN][96];
        for (unsigned k = 0; k < PN; k++) {
            pblock(buf + (size_t)k * PSZ, j->t, b, k);
            snprintf(meta[k], sizeof meta[k], "{\"b\":%u,\"j\":%u,\"n\":%u,\"t\":%u}", b, k, PN, j->t);
            s[k] = (maif_block_spec){.type = MAIF_TYPE_BINARY, .payload = buf + (size_t)k * PSZ, .payload_size = PSZ,
                                     .meta_json = meta[k], .meta_size = strlen(meta[k])};
        }
        if (j->bad && b == 5) {
            s[2].meta_json = "{bad";
            s[2].meta_size = 4;
            if (maif_writer_commit_batch(j->w, s, PN, NULL) != MAIF_EJSON) j->rc = -1;
            continue;
        }
        j->rc = maif_writer_commit_batch(j->w, s, PN, NULL);
    }
    free(buf);
    return NULL;
}

static void pool_case(tu_fixture *f, int workers, int cipher)
{
    maif_options *o = NULL;
    assert_int_equal(maif_options_create(&o), MAIF_OK);
    assert_int_equal(maif_options_set(o, MAIF_OPT_OVERWRITE, 1), MAIF_OK);
    assert_int_equal(maif_options_set(o, MAIF_OPT_WORKERS, workers), MAIF_OK);
    assert_int_equal(maif_options_set(o, MAIF_OPT_CODEC, MAIF_CODEC_ZSTD), MAIF_OK);
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->key, "pool", o), MAIF_OK);
    maif_options_free(o);
    maif_keyring *kr = NULL;
    uint64_t first = 0;
    if (cipher) {
        kr = tu_keyring_self(f->key);
        assert_int_equal(maif_writer_encrypt(w, kr, cipher), MAIF_OK);
        first = maif_writer_count(w); /* the key-wrap block */
        assert_int_equal(maif_writer_commit(w), MAIF_OK);
    }
    pjob jobs[PT];
    pthread_t th[PT];
    for (unsigned t = 0; t < PT; t++) {
        jobs[t] = (pjob){.w = w, .t = t, .bad = t == 1};
        assert_int_equal(pthread_create(&th[t], NULL, pool_thread, &jobs[t]), 0);
    }
    for (unsigned t = 0; t < PT; t++) {
        pthread_join(th[t], NULL);
        assert_int_equal(jobs[t].rc, 0);
    }
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    uint64_t nblocks = first + (uint64_t)(PT * PB - 1) * PN;
    assert_int_equal(tu_assert_verifies_clean(f->path), nblocks);

    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    if (kr) assert_int_equal(maif_reader_set_keyring(r, kr), MAIF_OK);
    assert_int_equal(maif_reader_count(r), nblocks);
    uint8_t *want = malloc(PSZ), *got = malloc(PSZ);
    unsigned zstd = 0, plain = 0;
    for (uint64_t i = first; i < nblocks; i += PN) {
        for (unsigned k = 0; k < PN; k++) {
            maif_block blk;
            unsigned t, b, j, n;
            assert_int_equal(maif_reader_block(r, i + k, &blk), MAIF_OK);
            assert_int_equal(parse(&blk, &t, &b, &j, &n), 0);
            assert_int_equal(j, k);
            assert_int_equal(n, PN);
            assert_int_equal(blk.cipher, cipher);
            if (blk.codec == MAIF_CODEC_ZSTD) zstd++;
            else plain++;
            size_t wr = 0;
            assert_int_equal(maif_reader_block_decode(r, i + k, got, PSZ, &wr), MAIF_OK);
            assert_int_equal(wr, PSZ);
            pblock(want, t, b, j);
            assert_memory_equal(want, got, PSZ);
        }
    }
    assert_true(zstd > 0);
    assert_true(plain > 0); /* random blocks were stored as is */
    free(want);
    free(got);
    maif_reader_close(r);
    maif_keyring_free(kr);
}

static void test_pool_compress(void **state)
{
    tu_fixture *f = *state;
    pool_case(f, 1, 0);
    pool_case(f, 2, 0);
    pool_case(f, 4, 0);
}

static void test_pool_encrypt(void **state)
{
    tu_fixture *f = *state;
    pool_case(f, 2, MAIF_CIPHER_XCHACHA20);
    pool_case(f, 3, MAIF_CIPHER_CHACHA20);
}

/* Many asynchronous appends at once: the committer's groups span several
 * chunks, so the next chunk is encoded while the leader writes one; a bad
 * block among them fails alone (its callback and the flush say so). */
#define AN 300

typedef struct acb {
    _Atomic unsigned ok, failed;
} acb;

static void acb_done(void *ctx, int rc, const uint8_t *id)
{
    acb *c = ctx;
    if (rc == MAIF_OK && id) atomic_fetch_add(&c->ok, 1);
    else atomic_fetch_add(&c->failed, 1);
}

static void test_pool_async_chunks(void **state)
{
    tu_fixture *f = *state;
    maif_options *o = NULL;
    assert_int_equal(maif_options_create(&o), MAIF_OK);
    assert_int_equal(maif_options_set(o, MAIF_OPT_WORKERS, 2), MAIF_OK);
    assert_int_equal(maif_options_set(o, MAIF_OPT_CODEC, MAIF_CODEC_LZ4), MAIF_OK);
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->key, "pool", o), MAIF_OK);
    maif_options_free(o);
    uint8_t *buf = malloc((size_t)PSZ * AN);
    assert_non_null(buf);
    static char meta[AN][96];
    acb c = {0};
    for (unsigned i = 0; i < AN; i++) {
        pblock(buf + (size_t)i * PSZ, 9, i, i % PN);
        snprintf(meta[i], sizeof meta[i], "{\"b\":%u,\"j\":%u,\"n\":1,\"t\":9}", i, i % PN);
        maif_block_spec s = {.type = i == 150 ? 0 : MAIF_TYPE_BINARY, .payload = buf + (size_t)i * PSZ,
                             .payload_size = PSZ, .meta_json = i == 77 ? "{x" : meta[i],
                             .meta_size = i == 77 ? 2 : strlen(meta[i])};
        assert_int_equal(maif_writer_add_async(w, &s, acb_done, &c), MAIF_OK);
    }
    assert_int_equal(maif_writer_flush(w), MAIF_EJSON); /* the first of the two errors */
    assert_int_equal(atomic_load(&c.ok), AN - 2);
    assert_int_equal(atomic_load(&c.failed), 2);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    assert_int_equal(tu_assert_verifies_clean(f->path), AN - 2);
    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    uint8_t *want = malloc(PSZ), *got = malloc(PSZ);
    for (uint64_t k = 0; k < AN - 2; k++) {
        maif_block blk;
        unsigned t, b, j, n;
        assert_int_equal(maif_reader_block(r, k, &blk), MAIF_OK);
        assert_int_equal(parse(&blk, &t, &b, &j, &n), 0);
        assert_int_equal(b, k < 77 ? k : k < 149 ? k + 1 : k + 2); /* in queue order, 77 and 150 missing */
        size_t wr = 0;
        assert_int_equal(maif_reader_block_decode(r, k, got, PSZ, &wr), MAIF_OK);
        pblock(want, 9, b, j);
        assert_memory_equal(want, got, PSZ);
    }
    free(want);
    free(got);
    free(buf);
    maif_reader_close(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_group_commit, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_group_commit_durable, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_bad_request_fails_alone, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_group_states, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_async, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_mixed, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_pool_compress, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_pool_encrypt, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_pool_async_chunks, tu_setup, tu_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
