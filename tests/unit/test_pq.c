/*
 * test_pq.c — product quantisation (src/semantic/pq.c) and its VIDX
 * layout: k-means recovers centroids exactly when there are at most 256
 * distinct sub-vectors; training is the same whatever the threads;
 * encoding one vector and many agree; the asymmetric distance equals the
 * distance to the reconstructed vector for every metric; codes and
 * codebooks survive the round trip through a stored VIDX block; bad
 * parameters are refused; a damaged PQ header fails cleanly.
 */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "semantic/hnsw.h"
#include "semantic/pq.h"
#include "semantic/vec.h"
#include "util/common.h"

static uint64_t rs = 0x9E3779B97F4A7C15ULL;
static float frand(void)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return (float)((rs >> 11) * (1.0 / 9007199254740992.0)) * 2.0f - 1.0f;
}

/* Sub-vectors drawn from 8 distinct points per sub-space: k-means must
 * represent every one exactly, so decode(encode(v)) == v. */
static void test_kmeans_exact(void **state)
{
    (void)state;
    enum { N = 3000, D = 12, M = 4, DS = D / M };
    float pts[M][8][DS];
    for (int j = 0; j < M; j++)
        for (int p = 0; p < 8; p++)
            for (int t = 0; t < DS; t++) pts[j][p][t] = frand() * 10;
    float *x = malloc(N * D * sizeof *x);
    for (int i = 0; i < N; i++)
        for (int j = 0; j < M; j++) memcpy(x + i * D + j * DS, pts[j][(i * (j + 3) + i / 7) % 8], sizeof pts[j][0]);
    float *cb = malloc(SEM_PQ_K * D * sizeof *cb);
    assert_int_equal(sem_pq_train(x, N, D, D, M, SEM_PQ_ITERS, 42, 2, cb), MAIF_OK);
    uint8_t code[M];
    float back[D];
    for (int i = 0; i < N; i++) {
        sem_pq_encode(cb, D, M, x + i * D, code);
        sem_pq_decode(cb, D, M, code, back);
        assert_memory_equal(back, x + i * D, sizeof back);
    }
    free(cb);
    free(x);
}

/* Random data, uneven sub-spaces (dim 30, m 7): training is deterministic
 * and independent of the threads; encode_all == encode; ADC == distance
 * to the reconstruction for every metric; quantisation beats a random
 * codebook. */
static void test_pq_adc(void **state)
{
    (void)state;
    enum { N = 2500, D = 30, M = 7, STRIDE = 33 };
    float *x = malloc(N * STRIDE * sizeof *x);
    for (int i = 0; i < N; i++)
        for (int d = 0; d < STRIDE; d++) x[i * STRIDE + d] = frand() + (float)(i % 5) * 0.3f * (d % 3 == 0);
    float *cb1 = malloc(SEM_PQ_K * D * sizeof *cb1), *cb2 = malloc(SEM_PQ_K * D * sizeof *cb2);
    assert_int_equal(sem_pq_train(x, N, STRIDE, D, M, 8, 7, 1, cb1), MAIF_OK);
    assert_int_equal(sem_pq_train(x, N, STRIDE, D, M, 8, 7, 2, cb2), MAIF_OK);
    assert_memory_equal(cb1, cb2, SEM_PQ_K * D * sizeof *cb1);
    for (size_t i = 0; i < SEM_PQ_K * D; i++) assert_true(isfinite(cb1[i]));
    /* sub-space bounds: they tile [0, D) */
    assert_int_equal(sem_pq_start(D, M, 0), 0);
    assert_int_equal(sem_pq_start(D, M, M), D);
    for (uint32_t j = 0; j < M; j++) assert_true(sem_pq_start(D, M, j + 1) > sem_pq_start(D, M, j));

    uint8_t *codes = malloc(N * (M + 3));
    memset(codes, 0xEE, N * (M + 3));
    sem_pq_encode_all(cb1, D, M, x, N, STRIDE, codes, M + 3, 2);
    double err = 0, norm = 0;
    for (int i = 0; i < N; i++) {
        uint8_t one[M];
        sem_pq_encode(cb1, D, M, x + i * STRIDE, one);
        assert_memory_equal(one, codes + i * (M + 3), M);
        assert_int_equal(codes[i * (M + 3) + M], 0xEE); /* nothing written past the code */
        float back[D];
        sem_pq_decode(cb1, D, M, one, back);
        for (int d = 0; d < D; d++) {
            err += (back[d] - x[i * STRIDE + d]) * (back[d] - x[i * STRIDE + d]);
            norm += x[i * STRIDE + d] * x[i * STRIDE + d];
        }
    }
    print_message("PQ relative squared error (dim %d, %d sub-spaces): %.4f\n", D, M, err / norm);
    assert_true(err / norm < 0.5);

    const sem_kernels *k = sem_kernels_get(0);
    float *table = malloc(M * SEM_PQ_K * sizeof *table);
    for (int metric = SEM_METRIC_COSINE; metric <= SEM_METRIC_IP; metric++) {
        for (int t = 0; t < 20; t++) {
            float q[D], back[D], c0;
            for (int d = 0; d < D; d++) q[d] = frand();
            if (metric == SEM_METRIC_COSINE) sem_normalize(q, D);
            sem_pq_table(cb1, D, M, metric, q, table, &c0);
            for (int i = t; i < N; i += 97) {
                const uint8_t *c = codes + i * (M + 3);
                sem_pq_decode(cb1, D, M, c, back);
                float want = sem_dist(k, metric, q, back, D), got = sem_pq_adc(table, c0, c, M);
                assert_true(fabsf(want - got) <= 1e-4f * (1 + fabsf(want)));
            }
        }
    }
    /* bad parameters */
    assert_int_equal(sem_pq_train(x, N, STRIDE, D, D + 1, 8, 7, 1, cb1), MAIF_EINVAL);
    assert_int_equal(sem_pq_train(x, N, STRIDE, D, 0, 8, 7, 1, cb1), MAIF_EINVAL);
    assert_int_equal(sem_pq_train(x, N, D - 1, D, M, 8, 7, 1, cb1), MAIF_EINVAL);
    assert_int_equal(sem_pq_train(x, 0, STRIDE, D, M, 8, 7, 1, cb1), MAIF_EINVAL);
    /* fewer points than centroids: still a code for each, exact */
    assert_int_equal(sem_pq_train(x, 10, STRIDE, D, M, 8, 7, 1, cb1), MAIF_OK);
    for (int i = 0; i < 10; i++) {
        uint8_t one[M];
        float back[D];
        sem_pq_encode(cb1, D, M, x + i * STRIDE, one);
        sem_pq_decode(cb1, D, M, one, back);
        assert_memory_equal(back, x + i * STRIDE, sizeof back);
    }
    free(table);
    free(codes);
    free(cb1);
    free(cb2);
    free(x);
}

/* A PQ index through the builder and the reader: header, codebooks and
 * every node's code as stored; sem_node_dist is the ADC distance; a
 * search finds a vector's own node; damage to the PQ fields fails. */
static void test_pq_block(void **state)
{
    (void)state;
    enum { N = 400, D = 10, PM = 3 };
    float *rows = malloc(N * D * sizeof *rows);
    const float *ptr[N];
    uint64_t blk[N], subj[N];
    uint32_t row[N];
    for (int i = 0; i < N; i++) {
        for (int d = 0; d < D; d++) rows[i * D + d] = frand() + (float)(i % 4);
        ptr[i] = rows + i * D;
        blk[i] = subj[i] = (uint64_t)i;
        row[i] = 0;
    }
    for (int metric = SEM_METRIC_COSINE; metric <= SEM_METRIC_L2; metric++) {
        sem_build_in in = {ptr, blk, subj, row, NULL, N, N, D, (uint32_t)metric, 6, 40, 9, 1, SEM_QUANT_PQ, PM, 0};
        uint8_t *p = NULL;
        size_t size = 0;
        assert_int_equal(sem_hnsw_build(&in, &p, &size), MAIF_OK);
        assert_int_equal(size, sem_vidx_size(2, N, D, 6, 12, rd64le(p + 56), SEM_QUANT_PQ, PM, rd64le(p + 80)));
        sem_hnsw h;
        char err[256];
        assert_int_equal(sem_hnsw_view(&h, p, size, err, sizeof err), MAIF_OK);
        assert_int_equal(h.quant, SEM_QUANT_PQ);
        assert_int_equal(h.pq_m, PM);
        assert_int_equal(h.rec, (4 * (1 + 12) + PM + 3) & ~3u);
        /* the stored codes are the codes of the (normalised) vectors under the stored codebooks */
        float v[D];
        for (uint32_t i = 0; i < N; i++) {
            memcpy(v, rows + i * D, sizeof v);
            if (metric == SEM_METRIC_COSINE) sem_normalize(v, D);
            uint8_t c[PM];
            sem_pq_encode(h.pqcb, D, PM, v, c);
            assert_memory_equal(c, sem_node_codes(&h, i), PM);
        }
        /* sem_node_dist through a prepared query is the ADC distance */
        sem_scratch s = {0};
        sem_query qc;
        memcpy(v, rows + 17 * D, sizeof v);
        if (metric == SEM_METRIC_COSINE) sem_normalize(v, D);
        assert_int_equal(sem_query_prepare(&h, v, &s, &qc), MAIF_OK);
        for (uint32_t i = 0; i < N; i += 13) {
            float back[D];
            sem_pq_decode(h.pqcb, D, PM, sem_node_codes(&h, i), back);
            float want = sem_dist(sem_kernels_get(0), metric, v, back, D);
            float got = sem_node_dist(&h, sem_kernels_best(), &qc, i);
            assert_true(fabsf(want - got) <= 1e-4f * (1 + fabsf(want)));
        }
        sem_hit out[10];
        size_t nout = 0;
        assert_int_equal(sem_hnsw_search(&h, sem_kernels_best(), v, 10, 64, NULL, NULL, &s, out, &nout, err, sizeof err),
                         MAIF_OK);
        assert_int_equal(nout, 10);
        int found = 0;
        for (size_t i = 0; i < nout; i++) found |= out[i].id == 17;
        assert_true(found);
        sem_scratch_free(&s);
        /* damaged PQ fields */
        uint8_t *c = malloc(size);
        struct { size_t off; uint32_t val; } bad[] = {
            {68, 0}, {68, D + 1}, {68, 5000}, {68, 9}, /* sub-spaces: out of range, or the size no longer matches */
            {72, 0}, {72, 2},                              /* PQ layout version */
            {76, 255}, {76, 65536},                        /* centroids */
            {80, 1}, {124, 1},                             /* reserved */
            {64, 3},                                       /* quantisation */
        };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            memcpy(c, p, size);
            memcpy(c + bad[i].off, &bad[i].val, 4);
            assert_int_equal(sem_hnsw_view(&h, c, size, err, sizeof err), MAIF_EFORMAT);
        }
        for (size_t cut = 0; cut < size; cut += 331) assert_int_equal(sem_hnsw_view(&h, p, cut, err, sizeof err), MAIF_EFORMAT);
        free(c);
        free(p);
    }
    /* the builder refuses more sub-spaces than dimensions */
    sem_build_in in = {ptr, blk, subj, row, NULL, N, N, D, SEM_METRIC_L2, 6, 40, 9, 1, SEM_QUANT_PQ, D + 1, 0};
    uint8_t *p = NULL;
    size_t size = 0;
    assert_int_equal(sem_hnsw_build(&in, &p, &size), MAIF_EINVAL);
    assert_null(p);
    free(rows);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kmeans_exact),
        cmocka_unit_test(test_pq_adc),
        cmocka_unit_test(test_pq_block),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
