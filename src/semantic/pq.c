/*
 * pq.c — product quantisation: k-means codebooks per sub-space, encoding,
 * decoding and the asymmetric distance tables (pq.h).
 *
 * The nearest-centroid step, which is nearly all the work, runs over the
 * 256 centroids of a sub-space at once with the centroids stored
 * transposed (dimension-major), so the inner loop is 256 independent sums
 * the compiler vectorises; each sum adds (x[t] - c[t])^2 in the order of
 * t, so every path (training, encoding one, encoding many) computes the
 * same floats and picks the same centroid.
 */
#include <math.h>
#include <string.h>

#include "semantic/pq.h"
#include "semantic/vec.h"
#include "maif.h"
#include "util/alloc.h"
#include "util/common.h"
#include "util/pool.h"

static uint64_t pq_rng(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}
static double pq_unit(uint64_t *s) { return (double)(pq_rng(s) >> 11) / 9007199254740992.0; } /* [0, 1) */

/* The nearest of the 256 centroids (transposed: ct[t * 256 + c]) to x
 * (ds floats); its squared distance in *dist. Ties: the lower number.
 * Compiled three times (baseline, AVX2, AVX-512F; none with FMA, so all
 * compute the same floats); pick_nearest chooses once per call site. */
#define NEAREST_BODY                                                                                                 \
    for (uint32_t c = 0; c < SEM_PQ_K; c++) acc[c] = 0;                                                              \
    for (uint32_t t = 0; t < ds; t++) {                                                                              \
        const float *restrict row = ct + (size_t)t * SEM_PQ_K;                                                       \
        float xt = x[t];                                                                                             \
        for (uint32_t c = 0; c < SEM_PQ_K; c++) {                                                                    \
            float d = xt - row[c];                                                                                   \
            acc[c] += d * d;                                                                                         \
        }                                                                                                            \
    }                                                                                                                \
    uint32_t best = 0;                                                                                               \
    float bd = acc[0];                                                                                               \
    for (uint32_t c = 1; c < SEM_PQ_K; c++)                                                                          \
        if (acc[c] < bd) {                                                                                           \
            bd = acc[c];                                                                                             \
            best = c;                                                                                                \
        }                                                                                                            \
    *dist = bd;                                                                                                      \
    return best;

typedef uint32_t (*nearest_fn)(const float *restrict ct, uint32_t ds, const float *restrict x, float *restrict acc,
                               float *dist);
static uint32_t nearest_base(const float *restrict ct, uint32_t ds, const float *restrict x, float *restrict acc,
                             float *dist)
{
    NEAREST_BODY
}
#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx2"))) static uint32_t nearest_avx2(const float *restrict ct, uint32_t ds,
                                                             const float *restrict x, float *restrict acc, float *dist)
{
    NEAREST_BODY
}
__attribute__((target("avx512f"))) static uint32_t nearest_avx512(const float *restrict ct, uint32_t ds,
                                                                  const float *restrict x, float *restrict acc,
                                                                  float *dist)
{
    NEAREST_BODY
}
#endif
static nearest_fn pick_nearest(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
    if (__builtin_cpu_supports("avx512f")) return nearest_avx512;
    if (__builtin_cpu_supports("avx2")) return nearest_avx2;
#endif
    return nearest_base;
}

static void transpose(const float *cent, uint32_t ds, float *ct)
{
    for (uint32_t c = 0; c < SEM_PQ_K; c++)
        for (uint32_t t = 0; t < ds; t++) ct[(size_t)t * SEM_PQ_K + c] = cent[(size_t)c * ds + t];
}

static float sqdist(const float *a, const float *b, uint32_t n)
{
    float s = 0;
    for (uint32_t t = 0; t < n; t++) {
        float d = a[t] - b[t];
        s += d * d;
    }
    return s;
}

typedef struct train_ctx {
    const float *x;
    size_t stride;
    const uint32_t *sample; /* ns vector numbers */
    size_t ns;
    uint32_t dim, m, iters;
    uint64_t seed;
    float *cb;
    nearest_fn nearest;
    int rc;
} train_ctx;

/* k-means on sub-space j: k-means++ seeding, then Lloyd. */
static void train_one(void *vctx, uint64_t j, void *scratch)
{
    (void)scratch;
    train_ctx *tc = vctx;
    uint32_t s0 = sem_pq_start(tc->dim, tc->m, (uint32_t)j), ds = sem_pq_start(tc->dim, tc->m, (uint32_t)j + 1) - s0;
    size_t ns = tc->ns;
    float *cent = tc->cb + (size_t)SEM_PQ_K * s0; /* 256 x ds, in place in the codebooks */
    float *sub = maif_malloc(ns * ds * sizeof *sub);
    float *d2 = maif_malloc(ns * sizeof *d2);
    uint8_t *asg = maif_malloc(ns);
    float *ct = maif_malloc((size_t)SEM_PQ_K * ds * sizeof *ct);
    double *sum = maif_malloc((size_t)SEM_PQ_K * ds * sizeof *sum);
    size_t *cnt = maif_malloc(SEM_PQ_K * sizeof *cnt);
    float acc[SEM_PQ_K];
    if (!sub || !d2 || !asg || !ct || !sum || !cnt) {
        __atomic_store_n(&tc->rc, MAIF_ENOMEM, __ATOMIC_RELAXED);
        goto out;
    }
    for (size_t i = 0; i < ns; i++) memcpy(sub + i * ds, tc->x + tc->sample[i] * tc->stride + s0, ds * sizeof *sub);
    uint64_t rs = tc->seed ^ (0xA0761D6478BD642FULL * (j + 1));
    /* k-means++: each next centroid drawn with probability proportional
     * to the squared distance to the nearest one chosen so far */
    size_t first = (size_t)(pq_unit(&rs) * (double)ns);
    if (first >= ns) first = ns - 1;
    memcpy(cent, sub + first * ds, ds * sizeof *cent);
    for (size_t i = 0; i < ns; i++) d2[i] = sqdist(sub + i * ds, cent, ds);
    for (uint32_t c = 1; c < SEM_PQ_K; c++) {
        double total = 0;
        for (size_t i = 0; i < ns; i++) total += d2[i];
        float *cc = cent + (size_t)c * ds;
        if (!(total > 0)) { /* every point is a centroid already: repeat the first */
            memcpy(cc, cent, ds * sizeof *cc);
            continue;
        }
        double r = pq_unit(&rs) * total, run = 0;
        size_t pick = ns - 1;
        for (size_t i = 0; i < ns; i++) {
            run += d2[i];
            if (run > r && d2[i] > 0) {
                pick = i;
                break;
            }
        }
        memcpy(cc, sub + pick * ds, ds * sizeof *cc);
        for (size_t i = 0; i < ns; i++) {
            float d = sqdist(sub + i * ds, cc, ds);
            if (d < d2[i]) d2[i] = d;
        }
    }
    /* Lloyd */
    memset(asg, 0, ns);
    for (uint32_t it = 0; it < tc->iters; it++) {
        transpose(cent, ds, ct);
        size_t changed = 0;
        for (size_t i = 0; i < ns; i++) {
            uint32_t a = tc->nearest(ct, ds, sub + i * ds, acc, &d2[i]);
            if (it == 0 || a != asg[i]) changed++;
            asg[i] = (uint8_t)a;
        }
        if (changed == 0) break;
        memset(sum, 0, (size_t)SEM_PQ_K * ds * sizeof *sum);
        memset(cnt, 0, SEM_PQ_K * sizeof *cnt);
        for (size_t i = 0; i < ns; i++) {
            cnt[asg[i]]++;
            for (uint32_t t = 0; t < ds; t++) sum[(size_t)asg[i] * ds + t] += sub[i * ds + t];
        }
        for (uint32_t c = 0; c < SEM_PQ_K; c++) {
            float *cc = cent + (size_t)c * ds;
            if (cnt[c]) {
                for (uint32_t t = 0; t < ds; t++) cc[t] = (float)(sum[(size_t)c * ds + t] / (double)cnt[c]);
                continue;
            }
            /* empty: the worst-served training point becomes its centroid */
            size_t far = 0;
            for (size_t i = 1; i < ns; i++)
                if (d2[i] > d2[far]) far = i;
            if (!(d2[far] > 0)) continue; /* nothing to improve (fewer distinct points than centroids) */
            memcpy(cc, sub + far * ds, ds * sizeof *cc);
            d2[far] = 0;
        }
    }
out:
    maif_free(sub);
    maif_free(d2);
    maif_free(asg);
    maif_free(ct);
    maif_free(sum);
    maif_free(cnt);
}

int sem_pq_train(const float *x, size_t n, size_t stride, uint32_t dim, uint32_t m, uint32_t iters, uint64_t seed,
                 unsigned threads, float *cb)
{
    if (!cb || dim == 0 || m == 0 || m > dim || m > SEM_PQ_M_MAX || stride < dim || n == 0 || !x || n > UINT32_MAX)
        return maif_set_last_err(MAIF_EINVAL, "product quantisation: bad parameters (m %u, dim %u, %zu vectors)", m,
                                 dim, n);
    size_t ns = n < SEM_PQ_TRAIN_MAX ? n : SEM_PQ_TRAIN_MAX;
    uint32_t *sample = maif_malloc((n > ns ? n : ns) * sizeof *sample);
    if (!sample) return maif_set_last_err(MAIF_ENOMEM, "product quantisation: out of memory");
    for (size_t i = 0; i < n; i++) sample[i] = (uint32_t)i;
    uint64_t rs = seed ^ 0x7F4A7C15F39CC060ULL;
    if (ns < n) { /* a seeded partial Fisher-Yates shuffle: the first ns */
        for (size_t i = 0; i < ns; i++) {
            size_t k = i + (size_t)(pq_rng(&rs) % (n - i));
            uint32_t t = sample[i];
            sample[i] = sample[k];
            sample[k] = t;
        }
    }
    memset(cb, 0, (size_t)SEM_PQ_K * dim * sizeof *cb);
    train_ctx tc = {x, stride, sample, ns, dim, m, iters, seed, cb, pick_nearest(), MAIF_OK};
    maif_pool_run(threads ? threads : 1, m, train_one, &tc, NULL, 0);
    maif_free(sample);
    if (tc.rc) return maif_set_last_err(tc.rc, "product quantisation: out of memory");
    return MAIF_OK;
}

void sem_pq_encode(const float *cb, uint32_t dim, uint32_t m, const float *v, uint8_t *code)
{
    /* the same sums in the same order as nearest(): the same codes */
    for (uint32_t j = 0; j < m; j++) {
        uint32_t s0 = sem_pq_start(dim, m, j), ds = sem_pq_start(dim, m, j + 1) - s0;
        const float *cent = cb + (size_t)SEM_PQ_K * s0;
        uint32_t best = 0;
        float bd = 0;
        for (uint32_t c = 0; c < SEM_PQ_K; c++) {
            float e = sqdist(v + s0, cent + (size_t)c * ds, ds);
            if (c == 0 || e < bd) {
                bd = e;
                best = c;
            }
        }
        code[j] = (uint8_t)best;
    }
}

typedef struct enc_ctx {
    nearest_fn nearest;
    const float *ct; /* per sub-space, transposed, at SEM_PQ_K * start(j) */
    uint32_t dim, m;
    const float *x;
    size_t n, stride, out_stride;
    uint8_t *out;
} enc_ctx;

#define ENC_CHUNK 1024u

static void encode_chunk(void *vctx, uint64_t item, void *scratch)
{
    (void)scratch;
    enc_ctx *e = vctx;
    float acc[SEM_PQ_K], d;
    size_t lo = (size_t)item * ENC_CHUNK, hi = lo + ENC_CHUNK < e->n ? lo + ENC_CHUNK : e->n;
    for (size_t i = lo; i < hi; i++) {
        const float *v = e->x + i * e->stride;
        for (uint32_t j = 0; j < e->m; j++) {
            uint32_t s0 = sem_pq_start(e->dim, e->m, j), ds = sem_pq_start(e->dim, e->m, j + 1) - s0;
            e->out[i * e->out_stride + j] = (uint8_t)e->nearest(e->ct + (size_t)SEM_PQ_K * s0, ds, v + s0, acc, &d);
        }
    }
}

void sem_pq_encode_all(const float *cb, uint32_t dim, uint32_t m, const float *x, size_t n, size_t stride,
                       uint8_t *out, size_t out_stride, unsigned threads)
{
    float *ct = maif_malloc((size_t)SEM_PQ_K * dim * sizeof *ct);
    if (!ct) { /* no room for the transposed copy: one at a time */
        for (size_t i = 0; i < n; i++) sem_pq_encode(cb, dim, m, x + i * stride, out + i * out_stride);
        return;
    }
    for (uint32_t j = 0; j < m; j++) {
        uint32_t s0 = sem_pq_start(dim, m, j), ds = sem_pq_start(dim, m, j + 1) - s0;
        transpose(cb + (size_t)SEM_PQ_K * s0, ds, ct + (size_t)SEM_PQ_K * s0);
    }
    enc_ctx e = {pick_nearest(), ct, dim, m, x, n, stride, out_stride, out};
    maif_pool_run(threads ? threads : 1, (n + ENC_CHUNK - 1) / ENC_CHUNK, encode_chunk, &e, NULL, 0);
    maif_free(ct);
}

void sem_pq_decode(const float *cb, uint32_t dim, uint32_t m, const uint8_t *code, float *out)
{
    for (uint32_t j = 0; j < m; j++) {
        uint32_t s0 = sem_pq_start(dim, m, j), ds = sem_pq_start(dim, m, j + 1) - s0;
        memcpy(out + s0, cb + (size_t)SEM_PQ_K * s0 + (size_t)code[j] * ds, ds * sizeof *out);
    }
}

void sem_pq_table(const float *cb, uint32_t dim, uint32_t m, int metric, const float *q, float *table, float *c0)
{
    for (uint32_t j = 0; j < m; j++) {
        uint32_t s0 = sem_pq_start(dim, m, j), ds = sem_pq_start(dim, m, j + 1) - s0;
        const float *cent = cb + (size_t)SEM_PQ_K * s0;
        float *t = table + (size_t)j * SEM_PQ_K;
        for (uint32_t c = 0; c < SEM_PQ_K; c++) {
            const float *cc = cent + (size_t)c * ds;
            float s = 0;
            if (metric == SEM_METRIC_L2) {
                for (uint32_t d = 0; d < ds; d++) {
                    float e = q[s0 + d] - cc[d];
                    s += e * e;
                }
            } else {
                for (uint32_t d = 0; d < ds; d++) s -= q[s0 + d] * cc[d];
            }
            t[c] = s;
        }
    }
    *c0 = metric == SEM_METRIC_COSINE ? 1.0f : 0.0f;
}
