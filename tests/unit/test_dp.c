/*
 * test_dp.c — differential privacy: the exact parser of privacy
 * parameters (good values, and negative, NaN, zero, huge and too precise
 * ones), the samplers checked statistically (chi-square over 100 000
 * draws against the exact pmf of the discrete Laplace and the discrete
 * Gaussian, at a significance of 1e-4, never exact values), and queries
 * end to end: the budget set at first use, the ledger block committed
 * with each answer, refusal past the budget with nothing recorded, and
 * bad parameters.
 */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DRAWS 100000

static void test_parse(void **state)
{
    (void)state;
    uint64_t v;
    static const struct {
        const char *s;
        unsigned scale;
        uint64_t want;
    } good[] = {
        {"0.5", 9, 500000000},  {"1", 9, 1000000000}, {"1e-6", 9, 1000},         {"2.5E-3", 9, 2500000},
        {"20", 9, 20000000000}, {"0.000000001", 9, 1}, {"1e-18", 18, 1},          {"0.01", 18, 10000000000000000},
        {"00.10", 9, 100000000}, {"1.e0", 9, 1000000000}, {"5e+0", 9, 5000000000},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        if (maif_dp_parse(good[i].s, good[i].scale, MAIF_DP_EPSILON_MAX_NANO * 1000000000ull, &v) != MAIF_OK)
            fail_msg("'%s' refused: %s", good[i].s, maif_last_errmsg());
        assert_int_equal(v, good[i].want);
    }
    static const char *const badv[] = {"-1", "nan", "NaN", "inf", "-inf", "0", "0.0", "", "1e", "0x1p3", "1e-10",
                                       "21", "1e400", "+1", " 1", "1 ", "1..0", ".", "1e-99999", "1,5"};
    for (size_t i = 0; i < sizeof badv / sizeof badv[0]; i++) {
        assert_int_equal(maif_dp_parse(badv[i], 9, MAIF_DP_EPSILON_MAX_NANO, &v), MAIF_EINVAL);
        assert_true(strlen(maif_last_errmsg()) > 0);
        assert_null(strchr(maif_last_errmsg(), '\n'));
    }
    assert_int_equal(maif_dp_parse(NULL, 9, 1, &v), MAIF_EINVAL);
}

/* ---- chi-square against an exact pmf */

typedef double (*pmf_fn)(int64_t z, const double *prm);

static double lap_pmf(int64_t z, const double *prm)
{
    double q = exp(-1.0 / prm[0]); /* scale b = prm[0] */
    return (1 - q) / (1 + q) * pow(q, (double)llabs(z));
}

static double gauss_pmf(int64_t z, const double *prm)
{
    /* prm[0] = sigma^2, prm[1] = the normalising constant */
    return exp(-(double)z * (double)z / (2 * prm[0])) / prm[1];
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* chi-square statistic and degrees of freedom over bins with >= 5
 * expected: the values -k..k, and each tail beyond as one more bin, or,
 * when a tail expects fewer than 5 draws, merged into its edge bin (a tail
 * bin expecting 0.02 draws would turn one legitimate draw there into a
 * chi-square of ~50: a false failure in ~4 % of runs at sigma^2 0.3) */
static void chi_square(int64_t *d, size_t n, pmf_fn pmf, const double *prm, double *stat, int *df)
{
    qsort(d, n, sizeof *d, cmp_i64);
    int64_t k = 0;
    while (pmf(k + 1, prm) * (double)n >= 5) k++;
    size_t nb = (size_t)(2 * k + 1), i = 0, below = 0;
    double *obs = calloc(nb, sizeof *obs), *exp_ = calloc(nb, sizeof *exp_), mass = 0;
    assert_non_null(obs);
    assert_non_null(exp_);
    while (i < n && d[i] < -k) below++, i++;
    for (int64_t z = -k; z <= k; z++) {
        size_t c = 0;
        while (i < n && d[i] == z) c++, i++;
        obs[z + k] = (double)c;
        exp_[z + k] = pmf(z, prm) * (double)n;
        mass += pmf(z, prm);
    }
    size_t above = n - i;
    double tail = (1 - mass) / 2 * (double)n; /* both pmfs are symmetric */
    double s = 0;
    int bins = (int)nb;
    if (tail >= 5) {
        s += ((double)below - tail) * ((double)below - tail) / tail;
        s += ((double)above - tail) * ((double)above - tail) / tail;
        bins += 2;
    } else {
        obs[0] += (double)below;
        exp_[0] += tail;
        obs[nb - 1] += (double)above;
        exp_[nb - 1] += tail;
    }
    for (size_t b = 0; b < nb; b++) s += (obs[b] - exp_[b]) * (obs[b] - exp_[b]) / exp_[b];
    free(obs);
    free(exp_);
    *stat = s;
    *df = bins - 1;
}

/* the chi-square critical value at significance 1e-4 (Wilson-Hilferty) */
static double chi_crit(int df)
{
    double a = 2.0 / (9.0 * df), z = 3.719;
    return df * pow(1 - a + z * sqrt(a), 3);
}

static void check_laplace(uint64_t s, uint64_t t)
{
    int64_t *d = malloc(DRAWS * sizeof *d);
    assert_non_null(d);
    double mean = 0;
    for (size_t i = 0; i < DRAWS; i++) {
        assert_int_equal(maif_dp_sample_laplace(s, t, &d[i]), MAIF_OK);
        mean += (double)d[i];
    }
    double prm[1] = {(double)t / (double)s}, stat;
    int df;
    chi_square(d, DRAWS, lap_pmf, prm, &stat, &df);
    printf("discrete Laplace scale %g: chi2 = %.1f, df = %d, critical (1e-4) = %.1f, mean %.4f\n", prm[0], stat, df,
           chi_crit(df), mean / DRAWS);
    if (s == 1 && t == 3) {
        /* the test has power: the same draws against scale 3.3 fail it */
        double wrong[1] = {3.3}, ws;
        int wdf;
        chi_square(d, DRAWS, lap_pmf, wrong, &ws, &wdf);
        printf("  against scale 3.3 instead: chi2 = %.1f, df = %d (must fail)\n", ws, wdf);
        assert_true(ws > chi_crit(wdf));
    }
    free(d);
    assert_true(df >= 3);
    assert_true(stat < chi_crit(df));
}

static void check_gaussian(uint64_t num, uint64_t den)
{
    int64_t *d = malloc(DRAWS * sizeof *d);
    assert_non_null(d);
    for (size_t i = 0; i < DRAWS; i++) assert_int_equal(maif_dp_sample_gaussian(num, den, &d[i]), MAIF_OK);
    double sigma2 = (double)num / (double)den, norm = 0;
    for (int64_t z = -(int64_t)(60 * sqrt(sigma2)) - 10; z <= (int64_t)(60 * sqrt(sigma2)) + 10; z++)
        norm += exp(-(double)z * (double)z / (2 * sigma2));
    double prm[2] = {sigma2, norm}, stat;
    int df;
    chi_square(d, DRAWS, gauss_pmf, prm, &stat, &df);
    printf("discrete Gaussian sigma^2 %g: chi2 = %.1f, df = %d, critical (1e-4) = %.1f\n", sigma2, stat, df,
           chi_crit(df));
    free(d);
    assert_true(df >= 2);
    assert_true(stat < chi_crit(df));
}

static void test_laplace(void **state)
{
    (void)state;
    check_laplace(1, 3);   /* scale 3 */
    check_laplace(2, 5);   /* scale 2.5 */
    check_laplace(10, 7);  /* scale 0.7 */
    int64_t z;
    assert_int_equal(maif_dp_sample_laplace(0, 1, &z), MAIF_EINVAL);
    assert_int_equal(maif_dp_sample_laplace(1, ((uint64_t)1 << 41), &z), MAIF_EINVAL);
}

static void test_gaussian(void **state)
{
    (void)state;
    check_gaussian(4, 1);      /* sigma^2 = 4 */
    check_gaussian(5, 2);      /* 2.5 */
    check_gaussian(3, 10);     /* 0.3 */
    check_gaussian(2500, 1);   /* 2500: sigma = 50 */
    int64_t z;
    assert_int_equal(maif_dp_sample_gaussian(1, 0, &z), MAIF_EINVAL);
    assert_int_equal(maif_dp_sample_gaussian(1, 1u << 17, &z), MAIF_EINVAL);
    assert_int_equal(maif_dp_sample_gaussian((uint64_t)1 << 50, 1, &z), MAIF_EINVAL);
}

/* ---- queries */

static void add_rows(const char *path, maif_key *key)
{
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, path, key, "dp-test", NULL), MAIF_OK);
    for (int i = 0; i < 200; i++) {
        char meta[128];
        snprintf(meta, sizeof meta, "{\"age\":%d,\"dept\":\"%s\"}", 20 + i % 50, i % 3 == 0 ? "ops" : i % 3 == 1 ? "dev" : "x");
        maif_block_spec spec = {0};
        spec.type = MAIF_TYPE_TEXT;
        spec.payload = "row";
        spec.payload_size = 3;
        spec.meta_json = meta;
        spec.meta_size = strlen(meta);
        assert_int_equal(maif_writer_add(w, &spec, NULL), MAIF_OK);
    }
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
}

static uint64_t count_ledger(const char *path)
{
    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open(&r, path), MAIF_OK);
    uint64_t n = 0;
    for (uint64_t i = 0; i < maif_reader_count(r); i++) {
        maif_block b;
        assert_int_equal(maif_reader_block(r, i, &b), MAIF_OK);
        if (b.type == MAIF_TYPE_DPLEDGER) n++;
    }
    maif_reader_close(r);
    return n;
}

static void test_query(void **state)
{
    tu_fixture *fx = *state;
    add_rows(fx->path, fx->key);
    maif_dp_result res;
    maif_dp_query q = {0};
    q.kind = MAIF_DP_COUNT;
    q.epsilon = "0.5";
    /* no budget yet */
    assert_int_equal(maif_dp_query_run(fx->path, fx->key, NULL, &q, &res), MAIF_ESTATE);
    assert_int_equal(count_ledger(fx->path), 0);
    q.budget_epsilon = "1";
    q.budget_delta = "1e-5";
    assert_int_equal(maif_dp_query_run(fx->path, fx->key, NULL, &q, &res), MAIF_OK);
    assert_int_equal(count_ledger(fx->path), 2); /* budget + spend */
    assert_int_equal(res.nvalues, 1);
    assert_true(isfinite(res.values[0]));
    assert_true(res.values[0] == floor(res.values[0]));
    assert_int_equal(res.epsilon_nano, 500000000);
    assert_int_equal(res.spent_epsilon_nano, 500000000);
    assert_int_equal(res.budget_epsilon_nano, 1000000000);
    assert_true(res.scale == 2.0);
    assert_int_equal(res.ledger_block, 201);
    /* a different budget is refused; the same is fine */
    q.budget_epsilon = "2";
    assert_int_equal(maif_dp_query_run(fx->path, fx->key, NULL, &q, &res), MAIF_ESTATE);
    q.budget_epsilon = NULL;
    q.budget_delta = NULL;
    /* a clamped sum with the discrete Gaussian */
    q.kind = MAIF_DP_SUM;
    q.key = "age";
    q.lower = 0;
    q.upper = 100;
    q.epsilon = "0.25";
    q.delta = "1e-6";
    assert_int_equal(maif_dp_query_run(fx->path, fx->key, NULL, &q, &res), MAIF_OK);
    assert_true(res.grid == 1.0); /* 2^(floor(log2 100) - 6) */
    assert_true(res.rho_nano > 0);
    assert_int_equal(res.delta_atto, 1000000000000);
    /* a mean and a histogram, pure */
    q.delta = NULL;
    q.kind = MAIF_DP_MEAN;
    q.epsilon = "0.1";
    assert_int_equal(maif_dp_query_run(fx->path, fx->key, NULL, &q, &res), MAIF_OK);
    assert_true(res.values[0] >= 0 && res.values[0] <= 100);
    static const char *const cats[] = {"ops", "dev"};
    q.kind = MAIF_DP_HISTOGRAM;
    q.key = "dept";
    q.categories = cats;
    q.ncategories = 2;
    q.epsilon = "0.1";
    assert_int_equal(maif_dp_query_run(fx->path, fx->key, NULL, &q, &res), MAIF_OK);
    assert_int_equal(res.nvalues, 3);
    assert_int_equal(res.spent_epsilon_nano, 950000000);
    uint64_t before = count_ledger(fx->path);
    /* over budget: refused, nothing recorded */
    q.epsilon = "0.1";
    assert_int_equal(maif_dp_query_run(fx->path, fx->key, NULL, &q, &res), MAIF_EACCESS);
    assert_non_null(strstr(maif_last_errmsg(), "budget exceeded"));
    assert_int_equal(count_ledger(fx->path), before);
    q.epsilon = "0.05";
    assert_int_equal(maif_dp_query_run(fx->path, fx->key, NULL, &q, &res), MAIF_OK);
    /* bad parameters */
    static const char *const bad_eps[] = {"-1", "nan", "0", "1e9", "inf", "abc", "0.0000000001"};
    for (size_t i = 0; i < sizeof bad_eps / sizeof bad_eps[0]; i++) {
        q.epsilon = bad_eps[i];
        assert_int_equal(maif_dp_query_run(fx->path, fx->key, NULL, &q, &res), MAIF_EINVAL);
    }
    q.epsilon = "0.1";
    q.delta = "-1e-5";
    assert_int_equal(maif_dp_query_run(fx->path, fx->key, NULL, &q, &res), MAIF_EINVAL);
    q.delta = "0.5";
    assert_int_equal(maif_dp_query_run(fx->path, fx->key, NULL, &q, &res), MAIF_EINVAL);
    q.delta = NULL;
    q.kind = MAIF_DP_SUM;
    q.key = "age";
    q.lower = 10;
    q.upper = 10;
    assert_int_equal(maif_dp_query_run(fx->path, fx->key, NULL, &q, &res), MAIF_EINVAL);
    q.upper = NAN;
    assert_int_equal(maif_dp_query_run(fx->path, fx->key, NULL, &q, &res), MAIF_EINVAL);
    assert_int_equal(count_ledger(fx->path), before + 1);
    /* the ledger verifies like any block */
    maif_report *rep = NULL;
    assert_int_equal(maif_verify_file(fx->path, NULL, &rep), MAIF_OK);
    assert_true(maif_report_ok(rep));
    maif_report_free(rep);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_laplace),
        cmocka_unit_test(test_gaussian),
        cmocka_unit_test_setup_teardown(test_query, tu_setup, tu_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
