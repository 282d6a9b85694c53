/*
 * test_fusion.c — the fusion rules of hybrid search (src/semantic/fusion.c):
 * the per-list normalisation of distribution-based score fusion against
 * values worked out by hand, fixed vector and text lists in and the
 * expected order out under DBSF, weighted DBSF and reciprocal rank fusion,
 * invariance of DBSF to a list's scale and offset, multi-row blocks,
 * empty lists, bad arguments, and the public parameter.
 */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "semantic/semantic.h"

#define EPS 1e-9

static void test_dbsf_norm(void **state)
{
    (void)state;
    /* 4, 2, 0: mean 2, sd sqrt(8/3); 4 -> 1/2 + 2/(6 sd) */
    double s[3] = {4, 2, 0}, o[3];
    sem_fuse_dbsf_norm(s, 3, o);
    double sd = sqrt(8.0 / 3.0);
    assert_true(fabs(o[0] - (0.5 + 2 / (6 * sd))) < EPS);
    assert_true(fabs(o[1] - 0.5) < EPS);
    assert_true(fabs(o[2] - (0.5 - 2 / (6 * sd))) < EPS);
    /* mean - 3 sd -> 0 and mean + 3 sd -> 1: 1 and -1 repeated have sd 1 */
    double t[4] = {1, 1, -1, -1}, u[4];
    sem_fuse_dbsf_norm(t, 4, u);
    assert_true(fabs(u[0] - 4.0 / 6.0) < EPS && fabs(u[3] - 2.0 / 6.0) < EPS);
    /* all alike, and a single score: each is the mean */
    double c[3] = {7, 7, 7};
    sem_fuse_dbsf_norm(c, 3, o);
    for (int i = 0; i < 3; i++) assert_true(fabs(o[i] - 0.5) < EPS);
    sem_fuse_dbsf_norm(c, 1, o);
    assert_true(fabs(o[0] - 0.5) < EPS);
    sem_fuse_dbsf_norm(c, 0, o); /* nothing to do, nothing read */
    /* non-finite scores: left out of the statistics, mapped to 0 or 1 */
    double nf[5] = {INFINITY, 4, 2, 0, NAN}, on[5];
    sem_fuse_dbsf_norm(nf, 5, on);
    assert_true(on[0] == 1 && on[4] == 0);
    assert_true(fabs(on[1] - (0.5 + 2 / (6 * sd))) < EPS && fabs(on[2] - 0.5) < EPS);
    nf[0] = -INFINITY;
    sem_fuse_dbsf_norm(nf, 5, on);
    assert_true(on[0] == 0);
    /* the statistics come from the best SEM_FUSE_DEPTH only */
    double d[SEM_FUSE_DEPTH + 10], od[SEM_FUSE_DEPTH + 10];
    for (int i = 0; i < SEM_FUSE_DEPTH + 10; i++) d[i] = i < SEM_FUSE_DEPTH ? (i % 2 ? -1 : 1) : -1000;
    sem_fuse_dbsf_norm(d, SEM_FUSE_DEPTH + 10, od); /* mean 0, sd 1 over the first 50 */
    assert_true(fabs(od[0] - 4.0 / 6.0) < EPS && fabs(od[1] - 2.0 / 6.0) < EPS);
    assert_true(fabs(od[SEM_FUSE_DEPTH] - (-1000.0 + 3) / 6) < 1e-6); /* below 0: deeper than mean - 3 sd */
}

/* blocks named by letters: A 1, B 2, ... */
enum { A = 1, B, C, D, E, F };

static void order_is(const sem_fused *f, size_t n, const uint64_t *want, size_t nwant)
{
    assert_int_equal(n, nwant);
    for (size_t i = 0; i < n; i++) {
        if (f[i].block != want[i]) print_error("position %zu: block %llu, expected %llu\n", i, (unsigned long long)f[i].block,
                                               (unsigned long long)want[i]);
        assert_int_equal(f[i].block, want[i]);
    }
}

static void test_fuse_order(void **state)
{
    (void)state;
    /* The vector list has one confident hit (A stands far above the
     * rest); the text list ranks C, D, F.
     *   vector: mean 0.2, sd 0.4: A -> 5/6, B..E -> 5/12
     *   text:   mean 2, sd sqrt(2/3): C -> 1/2 + 1/(6 sd) = 0.7041, D -> 1/2, F -> 0.2959
     * DBSF: C 1.1208, D 0.9167, A 0.8333, B = E 0.4167 (ties by block), F 0.2959.
     * RRF (k 60): C 1/63 + 1/61, D 1/64 + 1/62, A 1/61, B 1/62, F 1/63, E 1/65.
     * DBSF, vector weight 3: A 2.5, C 1.9541, D 1.75, B = E 1.25, F 0.2959. */
    const sem_scored v[] = {{A, 1.0}, {B, 0.0}, {C, 0.0}, {D, 0.0}, {E, 0.0}};
    const sem_scored t[] = {{C, 3.0}, {D, 2.0}, {F, 1.0}};
    sem_fused f[8];
    size_t n;
    assert_int_equal(sem_fuse(SEM_FUSE_DBSF, 1.0, v, 5, t, 3, f, &n), MAIF_OK);
    order_is(f, n, (const uint64_t[]){C, D, A, B, E, F}, 6);
    assert_true(fabs(f[0].fused - (5.0 / 12 + 0.5 + 1 / (6 * sqrt(2.0 / 3.0)))) < EPS);
    assert_true(f[0].vi == 2 && f[0].ti == 0); /* C: third in the vector list, first in the text list */
    assert_true(f[2].vi == 0 && f[2].ti == -1);
    assert_true(f[5].vi == -1 && f[5].ti == 2);

    assert_int_equal(sem_fuse(SEM_FUSE_RRF, 1.0, v, 5, t, 3, f, &n), MAIF_OK);
    order_is(f, n, (const uint64_t[]){C, D, A, B, F, E}, 6);
    assert_true(fabs(f[0].fused - (1.0 / 63 + 1.0 / 61)) < EPS);

    assert_int_equal(sem_fuse(SEM_FUSE_DBSF, 3.0, v, 5, t, 3, f, &n), MAIF_OK);
    order_is(f, n, (const uint64_t[]){A, C, D, B, E, F}, 6);
    assert_true(fabs(f[0].fused - 2.5) < EPS);

    /* RRF, vector weight 3: C 3/63 + 1/61 = 0.0640, D 3/64 + 1/62 = 0.0630,
     * A 3/61 = 0.0492, B 3/62, E 3/65, F 1/63: the rank sum still puts C, D first */
    assert_int_equal(sem_fuse(SEM_FUSE_RRF, 3.0, v, 5, t, 3, f, &n), MAIF_OK);
    order_is(f, n, (const uint64_t[]){C, D, A, B, E, F}, 6);
}

/* DBSF depends on a list's scores only through their standing in that
 * list: any positive scale and any offset give the same order. */
static void test_fuse_affine(void **state)
{
    (void)state;
    uint64_t rs = 0x9E3779B97F4A7C15ULL;
    for (int trial = 0; trial < 50; trial++) {
        sem_scored v[40], t[30], v2[40], t2[30];
        double x = 1.0, y = 20.0;
        for (int i = 0; i < 40; i++) {
            rs ^= rs << 13, rs ^= rs >> 7, rs ^= rs << 17;
            x -= (double)(rs >> 40) / (double)(1ULL << 26); /* falling scores */
            v[i] = (sem_scored){rs % 97, x};
            v2[i] = (sem_scored){v[i].block, 0.25 * x - 3.0};
        }
        for (int i = 0; i < 30; i++) {
            rs ^= rs << 13, rs ^= rs >> 7, rs ^= rs << 17;
            y -= (double)(rs >> 40) / (double)(1ULL << 22);
            t[i] = (sem_scored){rs % 97, y};
            t2[i] = (sem_scored){t[i].block, 40.0 * y + 1000.0};
        }
        sem_fused f[70], g[70];
        size_t nf, ng;
        assert_int_equal(sem_fuse(SEM_FUSE_DBSF, 1.0, v, 40, t, 30, f, &nf), MAIF_OK);
        assert_int_equal(sem_fuse(SEM_FUSE_DBSF, 1.0, v2, 40, t2, 30, g, &ng), MAIF_OK);
        assert_int_equal(nf, ng);
        for (size_t i = 0; i < nf; i++) {
            assert_int_equal(f[i].block, g[i].block);
            assert_int_equal(f[i].vi, g[i].vi);
            assert_true(fabs(f[i].fused - g[i].fused) < 1e-9);
        }
        for (size_t i = 1; i < nf; i++) assert_true(f[i - 1].fused >= f[i].fused);
    }
}

static void test_fuse_edges(void **state)
{
    (void)state;
    sem_fused f[8];
    size_t n = 99;
    /* a block with two rows in the vector list: the text hit joins the
     * better-ranked one, the other stays a result of its own */
    const sem_scored v[] = {{A, 0.9}, {B, 0.5}, {A, 0.4}};
    const sem_scored t[] = {{A, 2.0}, {C, 1.0}};
    assert_int_equal(sem_fuse(SEM_FUSE_RRF, 1.0, v, 3, t, 2, f, &n), MAIF_OK);
    order_is(f, n, (const uint64_t[]){A, B, C, A}, 4);
    assert_true(f[0].vi == 0 && f[0].ti == 0 && f[3].vi == 2 && f[3].ti == -1);
    /* one list empty: the other's order */
    assert_int_equal(sem_fuse(SEM_FUSE_DBSF, 1.0, v, 3, NULL, 0, f, &n), MAIF_OK);
    order_is(f, n, (const uint64_t[]){A, B, A}, 3);
    assert_true(f[0].vi == 0 && f[2].vi == 2);
    assert_int_equal(sem_fuse(SEM_FUSE_DBSF, 1.0, NULL, 0, t, 2, f, &n), MAIF_OK);
    order_is(f, n, (const uint64_t[]){A, C}, 2);
    assert_int_equal(sem_fuse(SEM_FUSE_DBSF, 1.0, NULL, 0, NULL, 0, f, &n), MAIF_OK);
    assert_int_equal(n, 0);
    /* a lone text hit is its list's mean: 1/2 */
    assert_int_equal(sem_fuse(SEM_FUSE_DBSF, 1.0, NULL, 0, t + 1, 1, f, &n), MAIF_OK);
    assert_true(n == 1 && fabs(f[0].fused - 0.5) < EPS);
    /* bad rule or weight */
    assert_int_equal(sem_fuse(0, 1.0, v, 3, t, 2, f, &n), MAIF_EINVAL);
    assert_int_equal(sem_fuse(3, 1.0, v, 3, t, 2, f, &n), MAIF_EINVAL);
    assert_int_equal(sem_fuse(SEM_FUSE_DBSF, 0.0, v, 3, t, 2, f, &n), MAIF_EINVAL);
    assert_int_equal(sem_fuse(SEM_FUSE_DBSF, NAN, v, 3, t, 2, f, &n), MAIF_EINVAL);
    assert_int_equal(n, 0);
}

static void test_fusion_param(void **state)
{
    (void)state;
    maif_search *s = NULL;
    assert_int_equal(maif_search_create(&s), MAIF_OK);
    assert_int_equal(maif_search_set(s, MAIF_SEARCH_FUSION, MAIF_FUSION_RRF), MAIF_OK);
    assert_int_equal(maif_search_set(s, MAIF_SEARCH_FUSION, MAIF_FUSION_DBSF), MAIF_OK);
    assert_int_equal(maif_search_set(s, MAIF_SEARCH_FUSION, 0), MAIF_OK);
    assert_int_equal(maif_search_set(s, MAIF_SEARCH_FUSION, 3), MAIF_EINVAL);
    assert_int_equal(maif_search_set(s, MAIF_SEARCH_FUSION, -1), MAIF_EINVAL);
    assert_int_equal(maif_search_set(s, MAIF_SEARCH_FUSION + 1, 0), MAIF_EINVAL);
    maif_search_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dbsf_norm),   cmocka_unit_test(test_fuse_order), cmocka_unit_test(test_fuse_affine),
        cmocka_unit_test(test_fuse_edges),  cmocka_unit_test(test_fusion_param),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
