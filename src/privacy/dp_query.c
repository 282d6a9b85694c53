/*
 * dp_query.c — differentially private aggregates over block metadata, and
 * the per-artifact privacy budget.
 *
 * Order of events, so that no answer ever escapes unpaid: take the
 * writer's lock; read the ledger (every "DPLG" block) and the data under
 * that lock; refuse a query the budget cannot pay for; append the charge
 * as a ledger block and commit it (signed, like every commit); only then
 * draw the noise and hand out the answer. A crash after the commit loses
 * an answer but never the charge.
 *
 * Values are put on a grid before anything is added: counts on 1, sums on
 * g = 2^(floor(log2 max(|lower|, |upper|)) - 6), each clamped value
 * rounded to a whole number of steps, so the sum is an exact integer and
 * one block moves it by at most 2^7 steps (the sensitivity). The noise is
 * drawn in steps too (dp.c), and only the final answer is scaled by g.
 *
 * Accounting: basic composition. A pure query charges its epsilon. A
 * query with delta uses the discrete Gaussian at rho-zCDP, with rho the
 * largest for which rho + 2 sqrt(rho ln(1/delta)) <= epsilon (Bun and
 * Steinke 2016, Prop. 1.3), and charges (epsilon, delta); the ledger
 * records rho too. Floating point only chooses sigma^2 (rounded up to a
 * multiple of 1/256, which can only add noise); it never touches a draw.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "crypto/crypto.h"
#include "privacy/dp.h"
#include "util/alloc.h"
#include "util/common.h"

#define KEYW MAIF_FOURCC('K', 'E', 'Y', 'W')
#define NANO 1000000000ull
#define LEDGER_MAX 65536 /* bytes of one ledger entry */

typedef struct plan {
    int gauss;            /* 1: discrete Gaussian, 0: discrete Laplace */
    int gexp;             /* grid = 2^gexp */
    int64_t lo, hi;       /* the bounds in grid steps */
    uint64_t sens;        /* sensitivity of the sum in steps */
    int parts;            /* 2 for a mean (sum and count), else 1 */
    uint64_t eps_nano, delta_atto, rho_nano;
    uint64_t lap_s, lap_t[2];        /* Laplace scale t/s of part 0 (sum or count) and part 1 (count of a mean) */
    uint64_t g_num[2];               /* Gaussian sigma^2 = g_num / DP_SIGMA2_DEN per part */
} plan;

static int bad(const char *what, const char *detail) { return maif_set_last_err(MAIF_EINVAL, "%s: %s", what, detail); }

/* maif_dp_parse with its message prefixed by the flag and the range */
static int parse_param(const char *flag, const char *range, const char *s, unsigned scale, uint64_t max, uint64_t *v)
{
    if (maif_dp_parse(s, scale, max, v) == 0) return 0;
    char msg[256];
    snprintf(msg, sizeof msg, "%s", maif_last_errmsg());
    return maif_set_last_err(MAIF_EINVAL, "%s: %s (a decimal in %s)", flag, msg, range);
}

static int make_plan(const maif_dp_query *q, plan *p)
{
    memset(p, 0, sizeof *p);
    if (!q->epsilon) return bad("--dp-epsilon", "missing");
    if (parse_param("--dp-epsilon", "[0.000001, 20]", q->epsilon, 9, MAIF_DP_EPSILON_MAX_NANO, &p->eps_nano))
        return MAIF_EINVAL;
    if (p->eps_nano < MAIF_DP_EPSILON_MIN_NANO) return bad("--dp-epsilon", "below the minimum of 0.000001");
    if (q->delta) {
        if (parse_param("--dp-delta", "[1e-18, 0.01]", q->delta, 18, 10000000000000000ull, &p->delta_atto))
            return MAIF_EINVAL;
        p->gauss = 1;
    }
    p->parts = q->kind == MAIF_DP_MEAN ? 2 : 1;
    if (q->kind == MAIF_DP_SUM || q->kind == MAIF_DP_MEAN) {
        if (!q->key || !*q->key) return bad("query", "sum and mean need a metadata key");
        if (!isfinite(q->lower) || !isfinite(q->upper) || !(q->lower < q->upper))
            return bad("clamping bounds", "lower and upper must be finite with lower < upper");
        double m = fmax(fabs(q->lower), fabs(q->upper));
        if (m > 1099511627776.0 || m < 1e-30) return bad("clamping bounds", "|bound| must be in [1e-30, 2^40]");
        int e2;
        (void)frexp(m, &e2); /* m = f * 2^e2, f in [0.5, 1) */
        p->gexp = e2 - 1 - DP_GRID_BITS;
        p->lo = (int64_t)floor(ldexp(q->lower, -p->gexp) + 0.5);
        p->hi = (int64_t)floor(ldexp(q->upper, -p->gexp) + 0.5);
        uint64_t a = (uint64_t)(p->lo < 0 ? -p->lo : p->lo), b = (uint64_t)(p->hi < 0 ? -p->hi : p->hi);
        p->sens = a > b ? a : b;
        if (p->sens == 0) p->sens = 1;
    } else if (q->kind == MAIF_DP_COUNT) {
        p->sens = 1;
    } else if (q->kind == MAIF_DP_HISTOGRAM) {
        if (!q->key || !*q->key) return bad("query", "a histogram needs a metadata key");
        if (!q->categories || q->ncategories == 0 || q->ncategories > MAIF_DP_CATEGORIES_MAX)
            return bad("--categories", "give 1 to 64 categories");
        for (size_t i = 0; i < q->ncategories; i++) {
            if (!q->categories[i] || !*q->categories[i] || strlen(q->categories[i]) > 256)
                return bad("--categories", "each category is 1..256 bytes");
            for (size_t j = 0; j < i; j++)
                if (strcmp(q->categories[i], q->categories[j]) == 0) return bad("--categories", "duplicate category");
        }
        p->sens = 1; /* one block moves one bin by one */
    } else {
        return bad("query", "unknown kind");
    }
    if (!p->gauss) {
        /* scale (in steps) of part i = sens_i * parts / epsilon = t/s with s = eps_nano */
        p->lap_s = p->eps_nano;
        p->lap_t[0] = p->sens * NANO * (uint64_t)p->parts;
        p->lap_t[1] = 1 * NANO * 2;
        return 0;
    }
    double eps = (double)p->eps_nano / 1e9, delta = (double)p->delta_atto / 1e18, l = log(1.0 / delta);
    double rho = pow(sqrt(l + eps) - sqrt(l), 2.0);
    if (!(rho > 0)) return bad("--dp-epsilon", "too small for this delta");
    p->rho_nano = (uint64_t)ceil(rho * 1e9);
    for (int i = 0; i < p->parts; i++) {
        double sens = i == 0 ? (double)p->sens : 1.0;
        double sigma2 = sens * sens / (2.0 * rho / p->parts);
        double num = ceil(sigma2 * DP_SIGMA2_DEN);
        if (!(num <= ldexp(1.0, 40) * DP_SIGMA2_DEN))
            return bad("--dp-epsilon", "too small: the Gaussian noise would exceed 2^20 grid steps");
        p->g_num[i] = num < 1 ? 1 : (uint64_t)num;
    }
    return 0;
}

/* ------------------------------------------------------------ the ledger */

typedef struct ledger {
    int has_budget;
    uint64_t budget_eps, budget_delta;
    unsigned __int128 spent_eps, spent_delta;
} ledger;

static int ledger_int(json_t *o, const char *k, uint64_t *v)
{
    json_t *x = json_object_get(o, k);
    if (!json_is_integer(x) || json_integer_value(x) < 0) return -1;
    *v = (uint64_t)json_integer_value(x);
    return 0;
}

static int ledger_entry(ledger *lg, const maif_block *b)
{
    if (b->codec || b->cipher || b->payload_size > LEDGER_MAX)
        return maif_set_last_err(MAIF_EFORMAT, "ledger block %llu: not a plain JSON entry", (unsigned long long)b->index);
    json_error_t je;
    json_t *o = json_loadb((const char *)b->payload, b->payload_size, JSON_REJECT_DUPLICATES, &je);
    json_t *op = json_object_get(o, "op"), *v = json_object_get(o, "v");
    uint64_t e = 0, d = 0;
    int rc = 0;
    if (!json_is_object(o) || !json_is_integer(v) || json_integer_value(v) != 1 || !json_is_string(op) ||
        ledger_int(o, "epsilon_nano", &e) || ledger_int(o, "delta_atto", &d)) {
        rc = maif_set_last_err(MAIF_EFORMAT, "ledger block %llu: malformed entry", (unsigned long long)b->index);
    } else if (strcmp(json_string_value(op), "budget") == 0) {
        if (!lg->has_budget) { /* the first budget is the budget; later ones change nothing */
            lg->has_budget = 1;
            lg->budget_eps = e;
            lg->budget_delta = d;
        }
    } else if (strcmp(json_string_value(op), "spend") == 0) {
        lg->spent_eps += e;
        lg->spent_delta += d;
    } else {
        rc = maif_set_last_err(MAIF_EFORMAT, "ledger block %llu: unknown op", (unsigned long long)b->index);
    }
    json_decref(o);
    return rc;
}

static const char *kind_name(int k)
{
    return k == MAIF_DP_COUNT ? "count" : k == MAIF_DP_SUM ? "sum" : k == MAIF_DP_MEAN ? "mean" : "histogram";
}

static int append_entry(maif_writer *w, json_t *o)
{
    char *js = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    if (!js) return maif_set_last_err(MAIF_ENOMEM, "out of memory");
    maif_block_spec spec = {0};
    spec.type = MAIF_TYPE_DPLEDGER;
    spec.payload = js;
    spec.payload_size = strlen(js);
    int rc = maif_writer_add(w, &spec, NULL);
    json_malloc_t jm;
    json_free_t jf;
    json_get_alloc_funcs(&jm, &jf);
    jf(js); /* jansson's allocator (maif_allocator_set may have routed it) */
    return rc;
}

/* ------------------------------------------------------------ the data */

typedef struct agg {
    __int128 sum;              /* in grid steps */
    uint64_t count;
    uint64_t bins[MAIF_DP_CATEGORIES_MAX + 1];
} agg;

static void add_block(const maif_dp_query *q, const plan *p, const maif_block *b, agg *a)
{
    if (q->kind == MAIF_DP_COUNT) {
        a->count++;
        return;
    }
    if (!b->meta || !b->meta_size) return;
    json_error_t je;
    json_t *m = json_loadb(b->meta, b->meta_size, 0, &je);
    json_t *v = json_object_get(m, q->key);
    if (q->kind == MAIF_DP_HISTOGRAM) {
        if (v) {
            size_t i = 0;
            const char *sv = json_string_value(v);
            for (; sv && i < q->ncategories; i++)
                if (strcmp(sv, q->categories[i]) == 0) break;
            a->bins[sv ? i : q->ncategories]++;
        }
    } else if (json_is_number(v)) {
        double x = json_number_value(v);
        if (x < q->lower || isnan(x)) x = q->lower;
        if (x > q->upper) x = q->upper;
        int64_t k = (int64_t)floor(ldexp(x, -p->gexp) + 0.5);
        if (k < p->lo) k = p->lo;
        if (k > p->hi) k = p->hi;
        a->sum += k;
        a->count++;
    }
    json_decref(m);
}

static int64_t noise(const plan *p, int part)
{
    int64_t z = 0;
    if (p->gauss) dp_gaussian(p->g_num[part], DP_SIGMA2_DEN, &z);
    else dp_laplace(p->lap_s, p->lap_t[part], &z);
    return z;
}

int maif_dp_query_run(const char *path, const maif_key *key, const maif_options *opt, const maif_dp_query *q,
                      maif_dp_result *out)
{
    if (!path || !key || !q || !out) return maif_set_last_err(MAIF_EINVAL, "maif_dp_query_run: NULL argument");
    memset(out, 0, sizeof *out);
    plan p;
    int rc = make_plan(q, &p);
    if (rc) return rc;
    uint64_t beps = 0, bdelta = 0;
    if (q->budget_epsilon) {
        if (parse_param("--dp-budget", "(0, 1000]", q->budget_epsilon, 9, 1000 * NANO, &beps)) return MAIF_EINVAL;
        if (q->budget_delta &&
            parse_param("--dp-budget-delta", "(0, 0.5]", q->budget_delta, 18, 500000000000000000ull, &bdelta))
            return MAIF_EINVAL;
    } else if (q->budget_delta) {
        return maif_set_last_err(MAIF_EINVAL, "--dp-budget-delta needs --dp-budget");
    }
    if (maif_crypto_init() != 0) return maif_set_last_err(MAIF_ENOMEM, "crypto initialisation failed");

    maif_writer *w = NULL;
    maif_reader *r = NULL;
    json_t *entry = NULL;
    if ((rc = maif_writer_open(&w, path, key, opt))) return rc;
    if ((rc = maif_writer_set_codec(w, MAIF_CODEC_NONE, 0))) goto done;
    if ((rc = maif_reader_open(&r, path))) goto done;
    ledger lg;
    memset(&lg, 0, sizeof lg);
    agg a;
    memset(&a, 0, sizeof a);
    uint64_t n = maif_reader_count(r);
    for (uint64_t i = 0; i < n; i++) {
        maif_block b;
        if ((rc = maif_reader_block(r, i, &b))) goto done;
        if (b.type == MAIF_TYPE_DPLEDGER) {
            if ((rc = ledger_entry(&lg, &b))) goto done;
            continue;
        }
        if (b.type == KEYW || (q->type && b.type != q->type)) continue;
        add_block(q, &p, &b, &a);
    }
    int new_budget = 0;
    if (q->budget_epsilon) {
        if (lg.has_budget && (lg.budget_eps != beps || lg.budget_delta != bdelta)) {
            rc = maif_set_last_err(MAIF_ESTATE,
                                   "%s: the privacy budget is already set (epsilon %.9g, delta %.3g) and cannot change",
                                   path, (double)lg.budget_eps / 1e9, (double)lg.budget_delta / 1e18);
            goto done;
        }
        if (!lg.has_budget) {
            new_budget = 1;
            lg.has_budget = 1;
            lg.budget_eps = beps;
            lg.budget_delta = bdelta;
        }
    }
    if (!lg.has_budget) {
        rc = maif_set_last_err(MAIF_ESTATE, "%s: no privacy budget set (give --dp-budget EPSILON on first use)", path);
        goto done;
    }
    if (lg.spent_eps + p.eps_nano > lg.budget_eps) {
        unsigned __int128 left = lg.budget_eps > lg.spent_eps ? lg.budget_eps - lg.spent_eps : 0;
        rc = maif_set_last_err(MAIF_EACCESS,
                               "%s: privacy budget exceeded: the query needs epsilon %.9g, %.9g of %.9g remain "
                               "(nothing released)", path, (double)p.eps_nano / 1e9, (double)left / 1e9,
                               (double)lg.budget_eps / 1e9);
        goto done;
    }
    if (lg.spent_delta + p.delta_atto > lg.budget_delta) {
        unsigned __int128 left = lg.budget_delta > lg.spent_delta ? lg.budget_delta - lg.spent_delta : 0;
        rc = maif_set_last_err(MAIF_EACCESS,
                               "%s: privacy budget exceeded: the query needs delta %.3g, %.3g of %.3g remain "
                               "(nothing released; the budget's delta is set by --dp-budget-delta)", path,
                               (double)p.delta_atto / 1e18, (double)left / 1e18, (double)lg.budget_delta / 1e18);
        goto done;
    }
    /* the charge is committed before any noise is drawn or answer computed */
    if (new_budget) {
        entry = json_pack("{s:i,s:s,s:I,s:I}", "v", 1, "op", "budget", "epsilon_nano", (json_int_t)beps, "delta_atto",
                          (json_int_t)bdelta);
        if (!entry) {
            rc = maif_set_last_err(MAIF_ENOMEM, "out of memory");
            goto done;
        }
        if ((rc = append_entry(w, entry))) goto done;
        json_decref(entry);
    }
    entry = json_pack("{s:i,s:s,s:s,s:I,s:I,s:I,s:{s:s}}", "v", 1, "op", "spend", "mechanism",
                      p.gauss ? "discrete-gaussian" : "discrete-laplace", "epsilon_nano", (json_int_t)p.eps_nano,
                      "delta_atto", (json_int_t)p.delta_atto, "rho_nano", (json_int_t)p.rho_nano, "query", "kind",
                      kind_name(q->kind));
    if (!entry) {
        rc = maif_set_last_err(MAIF_ENOMEM, "out of memory");
        goto done;
    }
    json_t *qo = json_object_get(entry, "query");
    if (q->key) json_object_set_new(qo, "key", json_string(q->key));
    if (q->kind == MAIF_DP_SUM || q->kind == MAIF_DP_MEAN) {
        json_object_set_new(qo, "lower", json_real(q->lower));
        json_object_set_new(qo, "upper", json_real(q->upper));
    }
    if (q->type) {
        char t[5] = {(char)(q->type >> 24), (char)(q->type >> 16), (char)(q->type >> 8), (char)q->type, 0};
        json_object_set_new(qo, "type", json_stringn(t, 4));
    }
    if (q->kind == MAIF_DP_HISTOGRAM) {
        json_t *cats = json_array();
        for (size_t i = 0; i < q->ncategories; i++) json_array_append_new(cats, json_string(q->categories[i]));
        json_object_set_new(qo, "categories", cats);
    }
    uint64_t ledger_index = maif_writer_count(w); /* the spend entry's index */
    if ((rc = append_entry(w, entry))) goto done;
    if ((rc = maif_writer_commit(w))) goto done;
    rc = maif_writer_close(w);
    w = NULL;
    if (rc) goto done;

    /* released only now */
    double g = ldexp(1.0, p.gexp);
    out->grid = g;
    out->nvalues = 1;
    if (q->kind == MAIF_DP_COUNT) {
        out->values[0] = (double)((__int128)a.count + noise(&p, 0));
    } else if (q->kind == MAIF_DP_SUM) {
        out->values[0] = ldexp((double)(a.sum + noise(&p, 0)), p.gexp);
    } else if (q->kind == MAIF_DP_MEAN) {
        double s = ldexp((double)(a.sum + noise(&p, 0)), p.gexp);
        double c = (double)((__int128)a.count + noise(&p, 1));
        double m = s / (c < 1 ? 1 : c);
        out->values[0] = m < q->lower ? q->lower : m > q->upper ? q->upper : m;
    } else {
        out->nvalues = q->ncategories + 1;
        for (size_t i = 0; i <= q->ncategories; i++) out->values[i] = (double)((__int128)a.bins[i] + noise(&p, 0));
    }
    out->scale = p.gauss ? sqrt((double)p.g_num[0] / DP_SIGMA2_DEN) * g : (double)p.lap_t[0] / (double)p.lap_s * g;
    out->epsilon_nano = p.eps_nano;
    out->delta_atto = p.delta_atto;
    out->rho_nano = p.rho_nano;
    out->spent_epsilon_nano = (uint64_t)(lg.spent_eps + p.eps_nano);
    out->spent_delta_atto = (uint64_t)(lg.spent_delta + p.delta_atto);
    out->budget_epsilon_nano = lg.budget_eps;
    out->budget_delta_atto = lg.budget_delta;
    out->ledger_block = ledger_index;
done:
    json_decref(entry);
    maif_reader_close(r);
    if (w) (void)maif_writer_close(w); /* rolls back an uncommitted charge */
    return rc;
}
