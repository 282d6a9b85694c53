/*
 * test_acam.c — the properties ACAM promises (docs/ACAM.md): weights sum
 * to 1; a more trusted source gets more weight, all else equal; a source
 * closer to the query gets more weight; the score is the cosine of the
 * query with the joint vector; the same inputs give the same bytes; bad
 * inputs are refused.
 */
#include "testutil.h"

#include <math.h>
#include <string.h>

#define D 8

static void test_acam_properties(void **state)
{
    (void)state;
    float q[D] = {1, 0, 0, 0, 0, 0, 0, 0};
    float e0[D] = {0.9f, 0.1f, 0, 0, 0, 0, 0, 0}, e1[D] = {0, 1, 0, 0, 0, 0, 0, 0}, e2[D] = {0.5f, 0.5f, 0.5f, 0, 0, 0, 0, 0};
    maif_acam_source src[3] = {{e0, 1.0f}, {e1, 1.0f}, {e2, 1.0f}};
    float w[4], joint[D], score;
    assert_int_equal(maif_acam_fuse(q, D, src, 3, NULL, w, joint, &score), MAIF_OK);
    assert_true(fabs(w[0] + w[1] + w[2] - 1.0) < 1e-6);
    /* closer to the query, more weight */
    assert_true(w[0] > w[2] && w[2] > w[1]);
    /* the score is the cosine of query and joint */
    double jn = 0;
    for (int k = 0; k < D; k++) jn += joint[k] * joint[k];
    assert_true(fabs(score - joint[0] / sqrt(jn)) < 1e-5);
    assert_true(score > 0.9f);

    /* more trust, more weight (and the others lose it): identical sources split by trust alone */
    maif_acam_source same[2] = {{e2, 0.9f}, {e2, 0.3f}};
    assert_int_equal(maif_acam_fuse(q, D, same, 2, NULL, w, NULL, &score), MAIF_OK);
    assert_true(fabs(w[0] - 0.75) < 1e-5 && fabs(w[1] - 0.25) < 1e-5); /* a_i proportional to trust_i */
    float before = 0;
    for (int t = 1; t <= 10; t++) {
        src[1].trust = t / 10.0f;
        assert_int_equal(maif_acam_fuse(q, D, src, 3, NULL, w, NULL, &score), MAIF_OK);
        assert_true(w[1] > before);
        before = w[1];
    }
    /* equal sources, equal trust: equal weights */
    maif_acam_source eq[4] = {{e1, 0.5f}, {e1, 0.5f}, {e1, 0.5f}, {e1, 0.5f}};
    assert_int_equal(maif_acam_fuse(q, D, eq, 4, NULL, w, NULL, &score), MAIF_OK);
    for (int i = 0; i < 4; i++) assert_true(fabs(w[i] - 0.25) < 1e-6);
    /* a sharper temperature concentrates the weight on the best source */
    maif_acam_params p;
    maif_acam_defaults(&p);
    assert_true(p.mix == 0.5f && p.temperature == 0.1f);
    src[1].trust = 1.0f;
    float wsoft[3], wsharp[3];
    p.temperature = 1.0f;
    assert_int_equal(maif_acam_fuse(q, D, src, 3, &p, wsoft, NULL, &score), MAIF_OK);
    p.temperature = 0.01f;
    assert_int_equal(maif_acam_fuse(q, D, src, 3, &p, wsharp, NULL, &score), MAIF_OK);
    assert_true(wsharp[0] > wsoft[0] && wsharp[0] > 0.99f);
    /* deterministic: the same inputs, the same bytes */
    float w2[4], j2[D], s2;
    assert_int_equal(maif_acam_fuse(q, D, src, 3, NULL, w, joint, &score), MAIF_OK);
    assert_int_equal(maif_acam_fuse(q, D, src, 3, NULL, w2, j2, &s2), MAIF_OK);
    assert_memory_equal(w, w2, 3 * sizeof w[0]);
    assert_memory_equal(joint, j2, sizeof joint);
    assert_memory_equal(&score, &s2, sizeof score);
    /* a zero query or zero sources: score 0, weights still a distribution */
    float z[D] = {0};
    assert_int_equal(maif_acam_fuse(z, D, src, 3, NULL, w, NULL, &score), MAIF_OK);
    assert_true(score == 0.0f && fabs(w[0] + w[1] + w[2] - 1.0) < 1e-6);
}

static void test_acam_bad_input(void **state)
{
    (void)state;
    float q[D] = {1}, e[D] = {1}, w[2], score;
    maif_acam_source s[2] = {{e, 1.0f}, {e, 1.0f}};
    assert_int_equal(maif_acam_fuse(NULL, D, s, 2, NULL, w, NULL, &score), MAIF_EINVAL);
    assert_int_equal(maif_acam_fuse(q, 0, s, 2, NULL, w, NULL, &score), MAIF_EINVAL);
    assert_int_equal(maif_acam_fuse(q, D, s, 0, NULL, w, NULL, &score), MAIF_EINVAL);
    assert_int_equal(maif_acam_fuse(q, MAIF_ACAM_DIM_MAX + 1, s, 2, NULL, w, NULL, &score), MAIF_ELIMIT);
    assert_int_equal(maif_acam_fuse(q, D, s, MAIF_ACAM_SOURCES_MAX + 1, NULL, w, NULL, &score), MAIF_ELIMIT);
    s[1].trust = 0;
    assert_int_equal(maif_acam_fuse(q, D, s, 2, NULL, w, NULL, &score), MAIF_EINVAL);
    s[1].trust = 1.5f;
    assert_int_equal(maif_acam_fuse(q, D, s, 2, NULL, w, NULL, &score), MAIF_EINVAL);
    s[1].trust = NAN;
    assert_int_equal(maif_acam_fuse(q, D, s, 2, NULL, w, NULL, &score), MAIF_EINVAL);
    s[1].trust = 1;
    e[3] = INFINITY;
    assert_int_equal(maif_acam_fuse(q, D, s, 2, NULL, w, NULL, &score), MAIF_EINVAL);
    e[3] = 0;
    q[2] = NAN;
    assert_int_equal(maif_acam_fuse(q, D, s, 2, NULL, w, NULL, &score), MAIF_EINVAL);
    q[2] = 0;
    s[0].vec = NULL;
    assert_int_equal(maif_acam_fuse(q, D, s, 2, NULL, w, NULL, &score), MAIF_EINVAL);
    s[0].vec = e;
    maif_acam_params p = {2.0f, 0.1f};
    assert_int_equal(maif_acam_fuse(q, D, s, 2, &p, w, NULL, &score), MAIF_EINVAL);
    p = (maif_acam_params){0.5f, 0.0f};
    assert_int_equal(maif_acam_fuse(q, D, s, 2, &p, w, NULL, &score), MAIF_EINVAL);
    maif_acam_defaults(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_acam_properties),
        cmocka_unit_test(test_acam_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
