/*
 * test_semantic.c — the semantic engine: every distance kernel this CPU
 * runs against the portable one, exact top-k against a sort, the hashed
 * embedder's properties, embedding and indexing an artifact, search by
 * vector, text and both with every filter, the tail after an index, and
 * hostile VIDX payloads (huge counts, ids out of range, loops, levels,
 * truncation) that must fail cleanly.
 */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "semantic/embed.h"
#include "semantic/hnsw.h"
#include "semantic/semantic.h"
#include "semantic/vec.h"

static uint64_t rs = 88172645463325252ULL;
static float frand(void)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return (float)((rs >> 11) * (1.0 / 9007199254740992.0)) * 2.0f - 1.0f;
}

static void test_kernels(void **state)
{
    (void)state;
    const sem_kernels *p = sem_kernels_get(0);
    assert_non_null(p);
    assert_non_null(sem_kernels_best());
    float *a = malloc(1100 * sizeof *a), *b = malloc(1100 * sizeof *b);
    uint8_t codes[1100];
    for (int i = 0; i < 1100; i++) {
        a[i] = frand();
        b[i] = frand();
        codes[i] = (uint8_t)(frand() * 127 + 128);
    }
    int tested = 0;
    for (int w = 1; w <= 2; w++) {
        const sem_kernels *k = sem_kernels_get(w);
        if (!k) {
            print_message("kernels %d not available on this CPU: skipped\n", w);
            continue;
        }
        tested++;
        for (size_t n = 0; n <= 1031; n += (n < 70 ? 1 : 37)) {
            for (size_t off = 0; off < 3; off++) { /* unaligned starts too */
                float x = p->dot(a + off, b, n), y = k->dot(a + off, b, n);
                assert_true(fabsf(x - y) <= 1e-4f * (1 + fabsf(x)));
                x = p->l2sq(a, b + off, n);
                y = k->l2sq(a, b + off, n);
                assert_true(fabsf(x - y) <= 1e-4f * (1 + fabsf(x)));
                if (n <= 250) { /* four rows of n at a + off, stride n + 1 */
                    float x4[4], y4[4];
                    p->dot4(b, a + off, n + 1, n, x4);
                    k->dot4(b, a + off, n + 1, n, y4);
                    for (int j = 0; j < 4; j++) assert_true(fabsf(x4[j] - y4[j]) <= 1e-4f * (1 + fabsf(x4[j])));
                    p->l2sq4(b, a + off, n + 1, n, x4);
                    k->l2sq4(b, a + off, n + 1, n, y4);
                    for (int j = 0; j < 4; j++) assert_true(fabsf(x4[j] - y4[j]) <= 1e-4f * (1 + fabsf(x4[j])));
                }
                x = p->dot_u8(a + off, codes + off, n);
                y = k->dot_u8(a + off, codes + off, n);
                assert_true(fabsf(x - y) <= 1e-4f * (1 + fabsf(x)));
                x = p->l2_u8(a, b + off, codes + off, n);
                y = k->l2_u8(a, b + off, codes + off, n);
                assert_true(fabsf(x - y) <= 1e-4f * (1 + fabsf(x)));
            }
        }
    }
    print_message("kernels checked against portable: %d (best: %s)\n", tested, sem_kernels_best()->name);
    /* cosine through the metric helper: identical unit vectors are at 0 */
    float v[5] = {3, 4, 0, 0, 0};
    assert_true(fabsf(sem_normalize(v, 5) - 5.0f) < 1e-6f);
    assert_true(fabsf(sem_dist(p, SEM_METRIC_COSINE, v, v, 5)) < 1e-6f);
    free(a);
    free(b);
}

static int cmp_f(const void *x, const void *y)
{
    float a = *(const float *)x, b = *(const float *)y;
    return a < b ? -1 : a > b;
}

static void test_exact_topk(void **state)
{
    (void)state;
    enum { N = 500, D = 17, K = 10 };
    float *rows = malloc(N * D * sizeof *rows), q[D], dist[N];
    for (int i = 0; i < N * D; i++) rows[i] = frand();
    for (int i = 0; i < D; i++) q[i] = frand();
    const sem_kernels *k = sem_kernels_best();
    for (int i = 0; i < N; i++) dist[i] = k->l2sq(rows + i * D, q, D);
    sem_hit out[K];
    assert_int_equal(sem_exact_topk(k, SEM_METRIC_L2, rows, N, D, q, K, out), K);
    qsort(dist, N, sizeof *dist, cmp_f);
    for (int i = 0; i < K; i++) assert_true(fabsf(out[i].dist - dist[i]) <= 1e-5f * (1 + dist[i]));
    assert_int_equal(sem_exact_topk(k, SEM_METRIC_L2, rows, 3, D, q, K, out), 3);
    free(rows);
}

static float cosv(const float *a, const float *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)a[i] * b[i];
    return (float)s;
}

static void test_hashed_embedder(void **state)
{
    (void)state;
    maif_embedder *e = NULL;
    assert_int_equal(maif_embedder_open(&e, "hashed", NULL), MAIF_OK);
    assert_int_equal(maif_embedder_dim(e), SEM_HASHED_DIM);
    assert_string_equal(maif_embedder_model(e), "hashed");
    float a[SEM_HASHED_DIM], b[SEM_HASHED_DIM], c[SEM_HASHED_DIM], d[SEM_HASHED_DIM];
    const char *t1 = "The cat sat on the mat", *t2 = "the CAT sat on a mat!", *t3 = "Quarterly revenue grew 4%";
    assert_int_equal(maif_embedder_embed(e, t1, strlen(t1), a), MAIF_OK);
    assert_int_equal(maif_embedder_embed(e, t2, strlen(t2), b), MAIF_OK);
    assert_int_equal(maif_embedder_embed(e, t3, strlen(t3), c), MAIF_OK);
    assert_int_equal(maif_embedder_embed(e, t1, strlen(t1), d), MAIF_OK);
    assert_memory_equal(a, d, sizeof a); /* deterministic */
    assert_true(fabsf(cosv(a, a, SEM_HASHED_DIM) - 1.0f) < 1e-5f);
    assert_true(cosv(a, b, SEM_HASHED_DIM) > 0.6f);
    assert_true(cosv(a, c, SEM_HASHED_DIM) < 0.3f);
    /* empty text: the zero vector, no NaN */
    assert_int_equal(maif_embedder_embed(e, "", 0, d), MAIF_OK);
    for (int i = 0; i < SEM_HASHED_DIM; i++) assert_true(d[i] == 0.0f);
    assert_int_equal(maif_embedder_embed(e, NULL, 3, d), MAIF_EINVAL);
    maif_embedder_close(e);
    maif_embedder_close(NULL);
    /* the table: unknown models, and model files that are not there */
    assert_int_equal(maif_embedder_open(&e, "nope", NULL), MAIF_EINVAL);
    assert_int_equal(maif_embedder_open(&e, "use:/nonexistent/use", NULL), MAIF_ENOTFOUND);
    assert_non_null(strstr(maif_last_errmsg(), "/nonexistent/use"));
    assert_int_not_equal(maif_embedder_open(&e, "glove:/nonexistent/x.txt", NULL), MAIF_OK);
    assert_int_equal(maif_embedder_open(&e, "hashed:zz", NULL), MAIF_EINVAL);
    assert_int_equal(maif_embedder_open(&e, "hashed:00000000000000000000000000000000", NULL), MAIF_ENOTFOUND);
    assert_null(e);
}

static const char *const DOCS[] = {
    "The quarterly revenue report shows strong growth in cloud services",
    "My cat likes to sleep on the warm windowsill in the afternoon",
    "Deploying the database migration failed because of a lock timeout",
    "Recipe: bake the bread at 220 degrees for thirty minutes",
    "The user prefers dark mode and a compact layout in the editor",
    "Running shoes wear out after about 800 kilometres",
    "Kubernetes pods were restarted after the memory limit was raised",
    "Paris is the capital of France and sits on the Seine",
};
#define NDOCS (sizeof DOCS / sizeof DOCS[0])

static void add_text(maif_writer *w, const char *t, const char *meta, uint64_t ts, const uint8_t *sup, uint8_t *id)
{
    maif_block_spec s = {0};
    s.type = MAIF_TYPE_TEXT;
    s.payload = t;
    s.payload_size = strlen(t);
    s.meta_json = meta;
    s.meta_size = meta ? strlen(meta) : 0;
    s.timestamp_us = ts;
    s.supersedes = sup;
    assert_int_equal(maif_writer_add(w, &s, id), MAIF_OK);
}

static uint64_t first_block(maif_index *ix, const char *query, int mode, const char *where, size_t *count)
{
    maif_search *s = NULL;
    assert_int_equal(maif_search_create(&s), MAIF_OK);
    assert_int_equal(maif_search_set_text(s, query, strlen(query)), MAIF_OK);
    assert_int_equal(maif_search_set(s, MAIF_SEARCH_K, 3), MAIF_OK);
    assert_int_equal(maif_search_set(s, MAIF_SEARCH_MODE, mode), MAIF_OK);
    if (where) assert_int_equal(maif_search_where(s, where), MAIF_OK);
    assert_int_equal(maif_search_run(s, ix), MAIF_OK);
    *count = maif_search_count(s);
    uint64_t b = UINT64_MAX;
    maif_search_hit h;
    if (*count) {
        assert_int_equal(maif_search_result(s, 0, &h), MAIF_OK);
        b = h.block;
        assert_true(h.snippet_size > 0 && h.snippet_size <= 160);
    }
    assert_int_equal(maif_search_result(s, *count, &h), MAIF_ENOTFOUND);
    maif_search_free(s);
    return b;
}

static void test_embed_index_search(void **state)
{
    tu_fixture *f = *state;
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->key, NULL, NULL), MAIF_OK);
    uint8_t ids[NDOCS][MAIF_ID_BYTES];
    for (size_t i = 0; i < NDOCS; i++) {
        char meta[96];
        snprintf(meta, sizeof meta, "{\"n\":%zu,\"privacy\":\"%s\",\"topic\":\"%s\"}", i, i == 4 ? "confidential" : "public",
                 i % 2 ? "home" : "work");
        add_text(w, DOCS[i], meta, 1000000ULL * (i + 1), NULL, ids[i]);
    }
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);

    /* without embeddings: text search works, vector search says why not */
    maif_reader *r = NULL;
    maif_index *ix = NULL;
    size_t cnt;
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    assert_int_equal(maif_index_open(&ix, r, NULL), MAIF_OK);
    assert_int_equal(first_block(ix, "kubernetes memory", MAIF_MODE_TEXT, NULL, &cnt), 6);
    maif_search *s = NULL;
    assert_int_equal(maif_search_create(&s), MAIF_OK);
    assert_int_equal(maif_search_run(s, ix), MAIF_EINVAL); /* no query */
    assert_int_equal(maif_search_set_text(s, "x", 1), MAIF_OK);
    assert_int_equal(maif_search_set(s, MAIF_SEARCH_MODE, MAIF_MODE_VECTOR), MAIF_OK);
    assert_int_equal(maif_search_run(s, ix), MAIF_EINVAL);
    maif_search_free(s);
    maif_index_close(ix);
    maif_reader_close(r);

    uint64_t added = 0;
    assert_int_equal(maif_embed_file(f->path, "hashed", f->key, NULL, &added), MAIF_OK);
    assert_int_equal(added, NDOCS);
    assert_int_equal(maif_embed_file(f->path, "hashed", f->key, NULL, &added), MAIF_OK);
    assert_int_equal(added, 0); /* nothing missing */

    /* exact (no index yet) */
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    assert_int_equal(maif_index_open(&ix, r, NULL), MAIF_OK);
    maif_index_info info;
    assert_int_equal(maif_index_get_info(ix, &info), MAIF_OK);
    assert_int_equal(info.dimensions, SEM_HASHED_DIM);
    assert_int_equal(info.index_block, -1);
    assert_int_equal(info.tail, NDOCS);
    assert_non_null(strstr(info.model, "hashed:"));
    assert_int_equal(first_block(ix, "cat sleeping on a windowsill", MAIF_MODE_VECTOR, NULL, &cnt), 1);
    maif_index_close(ix);
    maif_reader_close(r);

    /* the index; then one more text after it (the tail) */
    maif_options *o = NULL;
    assert_int_equal(maif_options_create(&o), MAIF_OK);
    assert_int_equal(maif_options_set(o, MAIF_OPT_INDEX_M, 4), MAIF_OK);
    assert_int_equal(maif_options_set(o, MAIF_OPT_INDEX_EF_CONSTRUCTION, 32), MAIF_OK);
    assert_int_equal(maif_options_set(o, MAIF_OPT_INDEX_THREADS, 1), MAIF_OK);
    uint64_t indexed = 0;
    assert_int_equal(maif_index_build(f->path, NULL, f->key, o, &indexed), MAIF_OK);
    assert_int_equal(indexed, NDOCS);
    assert_int_equal(maif_options_set(o, MAIF_OPT_INDEX_QUANTIZE, MAIF_QUANTIZE_PQ), MAIF_OK);
    assert_int_equal(maif_options_set(o, MAIF_OPT_INDEX_PQ_M, 1000), MAIF_OK); /* more sub-spaces than dimensions */
    assert_int_equal(maif_index_build(f->path, NULL, f->key, o, &indexed), MAIF_EINVAL);
    assert_int_equal(maif_options_set(o, MAIF_OPT_INDEX_PQ_M, 1025), MAIF_EINVAL);
    maif_options_free(o);
    assert_int_equal(maif_writer_open(&w, f->path, f->key, NULL), MAIF_OK);
    uint8_t tid[MAIF_ID_BYTES], nid[MAIF_ID_BYTES];
    add_text(w, "The espresso machine needs descaling every month", "{\"topic\":\"home\"}", 0, NULL, tid);
    /* a new version of doc 5 (running shoes) */
    add_text(w, "Running shoes wear out after about 600 kilometres on asphalt", "{\"topic\":\"home\"}", 0, ids[5], nid);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    assert_int_equal(maif_embed_file(f->path, NULL, f->key, NULL, &added), MAIF_OK);
    assert_int_equal(added, 2);
    { /* verification covers the VIDX, HIDF and EMBD blocks like any other */
        maif_report *rep = NULL;
        assert_int_equal(maif_verify_file(f->path, NULL, &rep), MAIF_OK);
        assert_true(maif_report_ok(rep));
        maif_report_free(rep);
    }

    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    assert_int_equal(maif_index_open(&ix, r, NULL), MAIF_OK);
    assert_int_equal(maif_index_get_info(ix, &info), MAIF_OK);
    assert_true(info.index_block >= 0);
    assert_int_equal(info.indexed, NDOCS);
    assert_int_equal(info.tail, 2);
    assert_int_equal(info.m, 4);
    /* graph and tail in one list */
    assert_int_equal(first_block(ix, "cat windowsill", MAIF_MODE_VECTOR, NULL, &cnt), 1);
    uint64_t esp = first_block(ix, "espresso machine descaling", MAIF_MODE_HYBRID, NULL, &cnt);
    maif_block b;
    assert_int_equal(maif_reader_block(r, esp, &b), MAIF_OK);
    assert_memory_equal(b.id, tid, MAIF_ID_BYTES);
    /* superseded versions are hidden: the new shoe text wins over the old */
    uint64_t shoe = first_block(ix, "running shoes kilometres", MAIF_MODE_HYBRID, NULL, &cnt);
    assert_int_equal(maif_reader_block(r, shoe, &b), MAIF_OK);
    assert_memory_equal(b.id, nid, MAIF_ID_BYTES);
    /* filters */
    assert_int_equal(first_block(ix, "cloud revenue", MAIF_MODE_TEXT, "topic=work", &cnt), 0);
    assert_int_equal(first_block(ix, "cloud revenue", MAIF_MODE_TEXT, "topic=home", &cnt) == 0, 0);
    first_block(ix, "cloud revenue", MAIF_MODE_VECTOR, "n>=6", &cnt);
    assert_int_equal(cnt, 2); /* docs 6 and 7 only */
    first_block(ix, "anything", MAIF_MODE_VECTOR, "n<0", &cnt);
    assert_int_equal(cnt, 0);
    assert_int_equal(first_block(ix, "Paris France", MAIF_MODE_HYBRID, "n=7", &cnt), 7);

    assert_int_equal(maif_search_create(&s), MAIF_OK);
    assert_int_equal(maif_search_set_text(s, "dark mode editor layout", 23), MAIF_OK);
    assert_int_equal(maif_search_run(s, ix), MAIF_OK);
    maif_search_hit h;
    assert_int_equal(maif_search_result(s, 0, &h), MAIF_OK);
    assert_int_equal(h.block, 4);
    assert_int_equal(maif_search_set(s, MAIF_SEARCH_PRIVACY, 1), MAIF_OK); /* public only: doc 4 is confidential */
    assert_int_equal(maif_search_run(s, ix), MAIF_OK);
    for (size_t i = 0; i < maif_search_count(s); i++) {
        assert_int_equal(maif_search_result(s, i, &h), MAIF_OK);
        assert_int_not_equal(h.block, 4);
    }
    assert_int_equal(maif_search_set(s, MAIF_SEARCH_PRIVACY, 0), MAIF_OK);
    assert_int_equal(maif_search_set(s, MAIF_SEARCH_SINCE_US, 3000000), MAIF_OK);
    assert_int_equal(maif_search_set(s, MAIF_SEARCH_UNTIL_US, 4000000), MAIF_OK);
    assert_int_equal(maif_search_run(s, ix), MAIF_OK);
    for (size_t i = 0; i < maif_search_count(s); i++) {
        assert_int_equal(maif_search_result(s, i, &h), MAIF_OK);
        assert_true(h.block == 2 || h.block == 3);
    }
    assert_int_equal(maif_search_set(s, MAIF_SEARCH_SINCE_US, 0), MAIF_OK);
    assert_int_equal(maif_search_set(s, MAIF_SEARCH_UNTIL_US, 0), MAIF_OK);
    assert_int_equal(maif_search_set(s, MAIF_SEARCH_TYPE, MAIF_TYPE_EMBEDDING), MAIF_OK);
    assert_int_equal(maif_search_run(s, ix), MAIF_OK);
    assert_int_equal(maif_search_count(s), 0); /* every result is a text */
    assert_int_equal(maif_search_set(s, MAIF_SEARCH_TYPE, 0), MAIF_OK);
    assert_int_equal(maif_search_set(s, MAIF_SEARCH_SUPERSEDED, 1), MAIF_OK);
    assert_int_equal(maif_search_set(s, MAIF_SEARCH_HALF_LIFE_S, 3600), MAIF_OK);
    assert_int_equal(maif_search_set(s, MAIF_SEARCH_EXACT, 1), MAIF_OK);
    assert_int_equal(maif_search_set(s, MAIF_SEARCH_EF, 10), MAIF_OK);
    assert_int_equal(maif_search_run(s, ix), MAIF_OK);
    assert_true(maif_search_count(s) > 0);
    /* a vector query of the wrong size, bad parameters */
    float v[3] = {1, 2, 3};
    assert_int_equal(maif_search_set_vector(s, v, 3), MAIF_OK);
    assert_int_equal(maif_search_set(s, MAIF_SEARCH_MODE, 0), MAIF_OK);
    assert_int_equal(maif_search_run(s, ix), MAIF_EINVAL);
    assert_int_equal(maif_search_set(s, MAIF_SEARCH_K, 0), MAIF_EINVAL);
    assert_int_equal(maif_search_set(s, 99, 1), MAIF_EINVAL);
    assert_int_equal(maif_search_where(s, "=x"), MAIF_EINVAL);
    assert_int_equal(maif_search_where(s, "a>=b"), MAIF_EINVAL);
    v[0] = NAN;
    assert_int_equal(maif_search_set_vector(s, v, 3), MAIF_EINVAL);
    maif_search_free(s);
    maif_search_free(NULL);
    maif_index_close(ix);
    maif_index_close(NULL);
    maif_reader_close(r);
}

/* An agent's own vectors, an L2 index, and recall of the graph against
 * exact search on clustered data. */
static void test_agent_vectors_recall(void **state)
{
    tu_fixture *f = *state;
    enum { N = 2000, D = 24, Q = 50, K = 10 };
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->key, NULL, NULL), MAIF_OK);
    float *all = malloc(N * D * sizeof *all);
    for (int i = 0; i < N; i++) {
        int c = i % 20;
        for (int d = 0; d < D; d++) all[i * D + d] = (float)((c * 7 + d * 3) % 11) + 0.5f * frand();
        assert_int_equal(maif_writer_add_embedding(w, all + i * D, D, "agent-v1", NULL, NULL), MAIF_OK);
    }
    float bad[2] = {1, INFINITY};
    assert_int_equal(maif_writer_add_embedding(w, bad, 2, NULL, NULL, NULL), MAIF_EINVAL);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
  for (int quant = 0; quant <= 2; quant++) {
    maif_options *o = NULL;
    assert_int_equal(maif_options_create(&o), MAIF_OK);
    assert_int_equal(maif_options_set(o, MAIF_OPT_INDEX_METRIC, quant == 1 ? MAIF_METRIC_COSINE : MAIF_METRIC_L2), MAIF_OK);
    assert_int_equal(maif_options_set(o, MAIF_OPT_INDEX_THREADS, 2), MAIF_OK); /* the locked, parallel build */
    assert_int_equal(maif_options_set(o, MAIF_OPT_INDEX_QUANTIZE, quant), MAIF_OK); /* none, int8, pq */
    assert_int_equal(maif_index_build(f->path, "agent-v1", f->key, o, NULL), MAIF_OK);
    maif_options_free(o);
    maif_reader *r = NULL;
    maif_index *ix = NULL;
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    assert_int_equal(maif_index_open(&ix, r, "agent-v1"), MAIF_OK);
    maif_index_info info;
    assert_int_equal(maif_index_get_info(ix, &info), MAIF_OK);
    assert_int_equal(info.quantize, quant);
    maif_search *s = NULL, *e = NULL;
    assert_int_equal(maif_search_create(&s), MAIF_OK);
    assert_int_equal(maif_search_create(&e), MAIF_OK);
    assert_int_equal(maif_search_set(e, MAIF_SEARCH_EXACT, 1), MAIF_OK);
    size_t hit = 0;
    for (int qi = 0; qi < Q; qi++) {
        float q[D];
        for (int d = 0; d < D; d++) q[d] = all[(qi * 37) * D + d] + 0.3f * frand();
        assert_int_equal(maif_search_set_vector(s, q, D), MAIF_OK);
        assert_int_equal(maif_search_set_vector(e, q, D), MAIF_OK);
        assert_int_equal(maif_search_run(s, ix), MAIF_OK);
        assert_int_equal(maif_search_run(e, ix), MAIF_OK);
        assert_int_equal(maif_search_count(e), K);
        for (size_t i = 0; i < K; i++) {
            maif_search_hit a, b;
            assert_int_equal(maif_search_result(e, i, &a), MAIF_OK);
            if (quant != 1) assert_true(a.score <= 0); /* minus a squared distance */
            for (size_t j = 0; j < maif_search_count(s); j++) {
                assert_int_equal(maif_search_result(s, j, &b), MAIF_OK);
                if (b.block == a.block) {
                    hit++;
                    break;
                }
            }
        }
    }
    print_message("recall@10 on %d clustered vectors (%s): %.3f\n", N,
                  quant == 2 ? "pq, l2" : quant ? "int8, cosine" : "float, l2",
                  (double)hit / (Q * K));
    assert_true(hit >= (size_t)(0.9 * Q * K));
    maif_search_free(s);
    maif_search_free(e);
    maif_index_close(ix);
    maif_reader_close(r);
  }
    free(all);
}

/* ------------------------------------------------------------ hostile */

static uint8_t *small_index(size_t *size, uint32_t quant, uint32_t version)
{
    enum { N = 50, D = 4 };
    float rows[N][D];
    const float *ptr[N];
    uint64_t blk[N], subj[N];
    uint32_t row[N];
    for (int i = 0; i < N; i++) {
        for (int d = 0; d < D; d++) rows[i][d] = frand();
        ptr[i] = rows[i];
        blk[i] = subj[i] = (uint64_t)i;
        row[i] = 0;
    }
    sem_build_in in = {ptr, blk, subj, row, NULL, N, N, D, SEM_METRIC_L2, 4, 16, 7, 1, quant, quant == SEM_QUANT_PQ ? 2 : 0, version};
    uint8_t *p = NULL;
    assert_int_equal(sem_hnsw_build(&in, &p, size), MAIF_OK);
    return p;
}

static int search_all(const uint8_t *p, size_t size)
{
    sem_hnsw h;
    char err[256];
    int rc = sem_hnsw_view(&h, p, size, err, sizeof err);
    if (rc) return rc;
    sem_scratch s = {0};
    sem_hit out[5];
    size_t n;
    float q[4] = {0.1f, 0.2f, 0.3f, 0.4f};
    for (int i = 0; i < 5 && !rc; i++)
        rc = sem_hnsw_search(&h, sem_kernels_best(), q, 5, 20, NULL, NULL, &s, out, &n, err, sizeof err);
    sem_scratch_free(&s);
    return rc;
}

static void hostile(uint32_t quant, uint32_t version)
{
    size_t size;
    uint8_t *p = small_index(&size, quant, version);
    assert_int_equal(search_all(p, size), MAIF_OK);
    uint8_t *c = malloc(size);
    sem_hnsw h;
    char err[256];
    assert_int_equal(sem_hnsw_view(&h, p, size, err, sizeof err), MAIF_OK);
    struct { size_t off; uint64_t val; int width; } hdr[] = {
        {32, 0xFFFFFFFFFFFFULL, 8},   /* huge n: the size no longer matches */
        {32, 0xFFFFFFFFFFFFFFFFULL, 8},
        {16, 0, 4}, {16, 0x7FFFFFFF, 4}, /* dimension */
        {20, 1, 4}, {20, 100000, 4},     /* M */
        {24, 1, 4},                      /* M0 < M */
        {48, 200, 4},                    /* max level */
        {52, 50, 4},                     /* entry == n */
        {56, 0xFFFFFFFFFFFFFFFFULL, 8},  /* upper lists */
        {64, 7, 4},                      /* quantisation */
        {64, quant ? 0 : 1, 4},          /* the other layout: the size no longer matches */
        {100, 1, 1},                     /* reserved */
        {0, 0, 1},                       /* magic */
        {8, 3, 4},                       /* version */
        {8, version == 1 ? 2 : 1, 4},    /* the other version: the size no longer matches */
        {80, version == 1 ? 1 : 51, 8},  /* v1: reserved; v2: more sources than nodes */
        {80, version == 1 ? 0x100 : 0, 8}, /* v2: no source for 50 nodes */
        {12, 9, 4},                      /* metric */
    };
    for (size_t i = 0; i < sizeof hdr / sizeof hdr[0]; i++) {
        memcpy(c, p, size);
        for (int b = 0; b < hdr[i].width; b++) c[hdr[i].off + b] = (uint8_t)(hdr[i].val >> (8 * b));
        assert_int_equal(sem_hnsw_view(&h, c, size, err, sizeof err), MAIF_EFORMAT);
    }
    /* truncated anywhere */
    for (size_t cut = 0; cut < size; cut += 97) assert_int_equal(sem_hnsw_view(&h, p, cut, err, sizeof err), MAIF_EFORMAT);
    /* per-node damage found by the search: a list size over M0, a neighbour past n */
    assert_int_equal(sem_hnsw_view(&h, p, size, err, sizeof err), MAIF_OK);
    for (uint32_t node = 0; node < h.n; node++) {
        memcpy(c, p, size);
        uint32_t *lst = (uint32_t *)(void *)(c + (h.nodes - p) + node * h.rec);
        lst[0] = 1000;
        int rc = search_all(c, size);
        assert_true(rc == MAIF_OK || rc == MAIF_EFORMAT);
        memcpy(c, p, size);
        lst = (uint32_t *)(void *)(c + (h.nodes - p) + node * h.rec);
        if (lst[0]) lst[1] = 0xFFFFFFF0u;
        rc = search_all(c, size);
        assert_true(rc == MAIF_OK || rc == MAIF_EFORMAT);
        /* a loop: every link to itself */
        memcpy(c, p, size);
        lst = (uint32_t *)(void *)(c + (h.nodes - p) + node * h.rec);
        uint32_t cnt0 = version == 1 ? lst[0] : lst[0] & 0xFFFFu; /* v2: the level is in bits 16-23 */
        for (uint32_t j = 0; j < cnt0; j++) lst[1 + j] = node;
        assert_int_equal(search_all(c, size), MAIF_OK);
        /* level and upper slot out of range */
        uint8_t *lv, *up;
        memcpy(c, p, size);
        if (version == 1) {
            lv = c + (h.meta - p) + node * SEM_VIDX_META + 20;
            up = c + (h.meta - p) + node * SEM_VIDX_META + 28;
        } else {
            lv = c + (h.nodes - p) + node * h.rec + 2;
            up = c + ((const uint8_t *)h.uslot - p) + 4 * node;
        }
        *lv = 200;
        rc = search_all(c, size);
        assert_true(rc == MAIF_OK || rc == MAIF_EFORMAT);
        memcpy(c, p, size);
        *lv = (uint8_t)h.max_level;
        up[0] = up[1] = up[2] = up[3] = 0xFF;
        rc = search_all(c, size);
        assert_true(rc == MAIF_OK || rc == MAIF_EFORMAT);
        /* v2: a source table that does not cover the node */
        if (version == 2) {
            sem_hnsw hc;
            sem_node_ref ref;
            memcpy(c, p, size);
            for (uint64_t e = 0; e < h.nsrc; e++) wr32le(c + (h.src - p) + e * SEM_VIDX_SRC + 16, 0xFFFFFFF0u);
            assert_int_equal(sem_hnsw_view(&hc, c, size, err, sizeof err), MAIF_OK);
            assert_int_equal(sem_node_info(&hc, node, &ref), MAIF_EFORMAT);
            memcpy(c, p, size);
            wr32le(c + (h.src - p) + 16, node + 1); /* the first source starts after node */
            assert_int_equal(sem_hnsw_view(&hc, c, size, err, sizeof err), MAIF_OK);
            rc = sem_node_info(&hc, node, &ref); /* unsorted now: either answer, never a read outside */
            assert_true(node == 0 ? rc == MAIF_EFORMAT : rc == MAIF_OK || rc == MAIF_EFORMAT);
        }
    }
    /* every layer-0 list too large: found by the first search */
    memcpy(c, p, size);
    for (uint32_t node = 0; node < h.n; node++) *(uint32_t *)(void *)(c + (h.nodes - p) + node * h.rec) = h.m0 + 1; /* level 0 too */
    assert_int_equal(search_all(c, size), MAIF_EFORMAT);
    /* random byte flips: never a crash */
    for (int t = 0; t < 2000; t++) {
        memcpy(c, p, size);
        for (int k = 0; k < 4; k++) {
            rs = rs * 6364136223846793005ULL + 1;
            c[(rs >> 20) % size] ^= (uint8_t)(1 + (rs >> 60));
        }
        int rc = search_all(c, size);
        assert_true(rc == MAIF_OK || rc == MAIF_EFORMAT);
    }
    free(c);
    free(p);
}

static void test_hostile_index(void **state)
{
    (void)state;
    for (uint32_t version = 1; version <= 2; version++) {
        hostile(SEM_QUANT_NONE, version);
        hostile(SEM_QUANT_INT8, version);
        hostile(SEM_QUANT_PQ, version);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kernels),
        cmocka_unit_test(test_exact_topk),
        cmocka_unit_test(test_hashed_embedder),
        cmocka_unit_test_setup_teardown(test_embed_index_search, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_agent_vectors_recall, tu_setup, tu_teardown),
        cmocka_unit_test(test_hostile_index),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
