/*
 * vec.c — the vector kernels. The portable versions are plain loops with
 * four partial sums (so the compiler may vectorise them for the baseline
 * ISA); the AVX2 (with FMA) and AVX-512 versions are compiled with target
 * attributes in this same file and picked once, from
 * __builtin_cpu_supports, so one binary runs everywhere. Partial sums are
 * added in a different order than the portable loop, so results agree to
 * rounding, not bit for bit (the tests allow a relative 1e-5).
 */
#include <math.h>
#include <string.h>

#include "semantic/vec.h"

static float dot_portable(const float *a, const float *b, size_t n)
{
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += a[i] * b[i];
        s1 += a[i + 1] * b[i + 1];
        s2 += a[i + 2] * b[i + 2];
        s3 += a[i + 3] * b[i + 3];
    }
    for (; i < n; i++) s0 += a[i] * b[i];
    return (s0 + s1) + (s2 + s3);
}

static float l2sq_portable(const float *a, const float *b, size_t n)
{
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        float d0 = a[i] - b[i], d1 = a[i + 1] - b[i + 1], d2 = a[i + 2] - b[i + 2], d3 = a[i + 3] - b[i + 3];
        s0 += d0 * d0;
        s1 += d1 * d1;
        s2 += d2 * d2;
        s3 += d3 * d3;
    }
    for (; i < n; i++) {
        float d = a[i] - b[i];
        s0 += d * d;
    }
    return (s0 + s1) + (s2 + s3);
}

static float dot_u8_portable(const float *a, const uint8_t *c, size_t n)
{
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += a[i] * c[i];
        s1 += a[i + 1] * c[i + 1];
        s2 += a[i + 2] * c[i + 2];
        s3 += a[i + 3] * c[i + 3];
    }
    for (; i < n; i++) s0 += a[i] * c[i];
    return (s0 + s1) + (s2 + s3);
}

static float l2_u8_portable(const float *a, const float *sc, const uint8_t *c, size_t n)
{
    float s0 = 0, s1 = 0;
    size_t i = 0;
    for (; i + 2 <= n; i += 2) {
        float d0 = a[i] - sc[i] * c[i], d1 = a[i + 1] - sc[i + 1] * c[i + 1];
        s0 += d0 * d0;
        s1 += d1 * d1;
    }
    for (; i < n; i++) {
        float d = a[i] - sc[i] * c[i];
        s0 += d * d;
    }
    return s0 + s1;
}

static void dot4_portable(const float *q, const float *r, size_t stride, size_t n, float out[4])
{
    for (int j = 0; j < 4; j++) out[j] = dot_portable(q, r + j * stride, n);
}
static void l2sq4_portable(const float *q, const float *r, size_t stride, size_t n, float out[4])
{
    for (int j = 0; j < 4; j++) out[j] = l2sq_portable(q, r + j * stride, n);
}

static const sem_kernels k_portable = {"portable", dot_portable, l2sq_portable, dot_u8_portable, l2_u8_portable,
                                       dot4_portable, l2sq4_portable};

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define SEM_HAVE_X86 1

__attribute__((target("avx2,fma"))) static inline float hsum256(__m256 v)
{
    __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
    lo = _mm_add_ps(lo, hi);
    lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
    lo = _mm_add_ss(lo, _mm_shuffle_ps(lo, lo, 1));
    return _mm_cvtss_f32(lo);
}

__attribute__((target("avx2,fma"))) static float dot_avx2(const float *a, const float *b, size_t n)
{
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps(), s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
        s2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16), s2);
        s3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24), s3);
    }
    for (; i + 8 <= n; i += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    float s = hsum256(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
    for (; i < n; i++) s += a[i] * b[i];
    return s;
}

__attribute__((target("avx2,fma"))) static float l2sq_avx2(const float *a, const float *b, size_t n)
{
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps(), s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
        __m256 d1 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8));
        __m256 d2 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16));
        __m256 d3 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24));
        s0 = _mm256_fmadd_ps(d0, d0, s0);
        s1 = _mm256_fmadd_ps(d1, d1, s1);
        s2 = _mm256_fmadd_ps(d2, d2, s2);
        s3 = _mm256_fmadd_ps(d3, d3, s3);
    }
    for (; i + 8 <= n; i += 8) {
        __m256 d = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
        s0 = _mm256_fmadd_ps(d, d, s0);
    }
    float s = hsum256(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
    for (; i < n; i++) {
        float d = a[i] - b[i];
        s += d * d;
    }
    return s;
}

__attribute__((target("avx512f"))) static float dot_avx512(const float *a, const float *b, size_t n)
{
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
        s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), s1);
    }
    for (; i + 16 <= n; i += 16) s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
    if (i < n) { /* the last 1..15 floats through a mask: no read past the end */
        __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
        s1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i), s1);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

__attribute__((target("avx512f"))) static float l2sq_avx512(const float *a, const float *b, size_t n)
{
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m512 d0 = _mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
        __m512 d1 = _mm512_sub_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16));
        s0 = _mm512_fmadd_ps(d0, d0, s0);
        s1 = _mm512_fmadd_ps(d1, d1, s1);
    }
    for (; i + 16 <= n; i += 16) {
        __m512 d = _mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
        s0 = _mm512_fmadd_ps(d, d, s0);
    }
    if (i < n) {
        __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
        __m512 d = _mm512_sub_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i));
        s1 = _mm512_fmadd_ps(d, d, s1);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

__attribute__((target("avx2,fma"))) static float dot_u8_avx2(const float *a, const uint8_t *c, size_t n)
{
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(c + i));
        __m256 c0 = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(b));
        __m256 c1 = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(b, 8)));
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), c0, s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), c1, s1);
    }
    float s = hsum256(_mm256_add_ps(s0, s1));
    for (; i < n; i++) s += a[i] * c[i];
    return s;
}

__attribute__((target("avx2,fma"))) static float l2_u8_avx2(const float *a, const float *sc, const uint8_t *c, size_t n)
{
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(c + i));
        __m256 c0 = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(b));
        __m256 c1 = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(b, 8)));
        __m256 d0 = _mm256_fnmadd_ps(_mm256_loadu_ps(sc + i), c0, _mm256_loadu_ps(a + i));
        __m256 d1 = _mm256_fnmadd_ps(_mm256_loadu_ps(sc + i + 8), c1, _mm256_loadu_ps(a + i + 8));
        s0 = _mm256_fmadd_ps(d0, d0, s0);
        s1 = _mm256_fmadd_ps(d1, d1, s1);
    }
    float s = hsum256(_mm256_add_ps(s0, s1));
    for (; i < n; i++) {
        float d = a[i] - sc[i] * c[i];
        s += d * d;
    }
    return s;
}

__attribute__((target("avx512f"))) static float dot_u8_avx512(const float *a, const uint8_t *c, size_t n)
{
    __m512 s0 = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 cv = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(const void *)(c + i))));
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), cv, s0);
    }
    float s = _mm512_reduce_add_ps(s0);
    for (; i < n; i++) s += a[i] * c[i];
    return s;
}

__attribute__((target("avx512f"))) static float l2_u8_avx512(const float *a, const float *sc, const uint8_t *c, size_t n)
{
    __m512 s0 = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 cv = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(const void *)(c + i))));
        __m512 d = _mm512_fnmadd_ps(_mm512_loadu_ps(sc + i), cv, _mm512_loadu_ps(a + i));
        s0 = _mm512_fmadd_ps(d, d, s0);
    }
    float s = _mm512_reduce_add_ps(s0);
    for (; i < n; i++) {
        float d = a[i] - sc[i] * c[i];
        s += d * d;
    }
    return s;
}

static void dot4_avx2(const float *q, const float *r, size_t stride, size_t n, float out[4])
{
    for (int j = 0; j < 4; j++) out[j] = dot_avx2(q, r + j * stride, n);
}
static void l2sq4_avx2(const float *q, const float *r, size_t stride, size_t n, float out[4])
{
    for (int j = 0; j < 4; j++) out[j] = l2sq_avx2(q, r + j * stride, n);
}

/* Four rows share each load of q and keep four accumulators in flight;
 * the tails (n % 16) go through a mask. */
#define ROW4_AVX512(NAME, STEP)                                                                            \
    __attribute__((target("avx512f"))) static void NAME(const float *q, const float *r, size_t stride,   \
                                                        size_t n, float out[4])                          \
    {                                                                                                      \
        __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps(), s2 = _mm512_setzero_ps(),              \
               s3 = _mm512_setzero_ps();                                                                   \
        const float *r0 = r, *r1 = r + stride, *r2 = r + 2 * stride, *r3 = r + 3 * stride;                \
        size_t i = 0;                                                                                      \
        for (; i + 16 <= n; i += 16) {                                                                     \
            __m512 qv = _mm512_loadu_ps(q + i);                                                            \
            STEP(s0, qv, _mm512_loadu_ps(r0 + i));                                                         \
            STEP(s1, qv, _mm512_loadu_ps(r1 + i));                                                         \
            STEP(s2, qv, _mm512_loadu_ps(r2 + i));                                                         \
            STEP(s3, qv, _mm512_loadu_ps(r3 + i));                                                         \
        }                                                                                                  \
        if (i < n) {                                                                                       \
            __mmask16 m = (__mmask16)((1u << (n - i)) - 1);                                                \
            __m512 qv = _mm512_maskz_loadu_ps(m, q + i);                                                   \
            STEP(s0, qv, _mm512_maskz_loadu_ps(m, r0 + i));                                                \
            STEP(s1, qv, _mm512_maskz_loadu_ps(m, r1 + i));                                                \
            STEP(s2, qv, _mm512_maskz_loadu_ps(m, r2 + i));                                                \
            STEP(s3, qv, _mm512_maskz_loadu_ps(m, r3 + i));                                                \
        }                                                                                                  \
        out[0] = _mm512_reduce_add_ps(s0);                                                                 \
        out[1] = _mm512_reduce_add_ps(s1);                                                                 \
        out[2] = _mm512_reduce_add_ps(s2);                                                                 \
        out[3] = _mm512_reduce_add_ps(s3);                                                                 \
    }
#define STEP_DOT(s, a, b) s = _mm512_fmadd_ps(a, b, s)
#define STEP_L2(s, a, b)                    \
    do {                                    \
        __m512 d_ = _mm512_sub_ps(a, b);    \
        s = _mm512_fmadd_ps(d_, d_, s);     \
    } while (0)
ROW4_AVX512(dot4_avx512, STEP_DOT)
ROW4_AVX512(l2sq4_avx512, STEP_L2)

static const sem_kernels k_avx2 = {"avx2", dot_avx2, l2sq_avx2, dot_u8_avx2, l2_u8_avx2, dot4_avx2, l2sq4_avx2};
static const sem_kernels k_avx512 = {"avx512", dot_avx512, l2sq_avx512, dot_u8_avx512, l2_u8_avx512,
                                     dot4_avx512, l2sq4_avx512};
#endif

const sem_kernels *sem_kernels_get(int which)
{
    if (which == 0) return &k_portable;
#ifdef SEM_HAVE_X86
    __builtin_cpu_init();
    if (which == 1 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return &k_avx2;
    if (which == 2 && __builtin_cpu_supports("avx512f")) return &k_avx512;
#endif
    return NULL;
}

const sem_kernels *sem_kernels_best(void)
{
    static const sem_kernels *best; /* a benign race: every thread computes the same pointer */
    const sem_kernels *k = __atomic_load_n(&best, __ATOMIC_ACQUIRE);
    if (k) return k;
    k = sem_kernels_get(2);
    if (!k) k = sem_kernels_get(1);
    if (!k) k = &k_portable;
    __atomic_store_n(&best, k, __ATOMIC_RELEASE);
    return k;
}

float sem_normalize(float *v, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)v[i] * v[i];
    float norm = (float)sqrt(s);
    if (norm > 0) {
        float inv = 1.0f / norm;
        for (size_t i = 0; i < n; i++) v[i] *= inv;
    }
    return norm;
}

static void sift_down(sem_hit *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && h[l].dist > h[m].dist) m = l;
        if (r < n && h[r].dist > h[m].dist) m = r;
        if (m == i) return;
        sem_hit t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

int sem_topk_push(sem_topk *t, float dist, uint32_t id)
{
    if (t->cap == 0) return 0;
    if (t->n < t->cap) {
        size_t i = t->n++;
        t->h[i].dist = dist;
        t->h[i].id = id;
        while (i > 0) {
            size_t p = (i - 1) / 2;
            if (t->h[p].dist >= t->h[i].dist) break;
            sem_hit x = t->h[p];
            t->h[p] = t->h[i];
            t->h[i] = x;
            i = p;
        }
        return 1;
    }
    if (!(dist < t->h[0].dist)) return 0;
    t->h[0].dist = dist;
    t->h[0].id = id;
    sift_down(t->h, t->n, 0);
    return 1;
}

void sem_topk_sort(sem_topk *t)
{
    /* heap sort: repeatedly move the worst to the end */
    for (size_t n = t->n; n > 1; n--) {
        sem_hit x = t->h[0];
        t->h[0] = t->h[n - 1];
        t->h[n - 1] = x;
        sift_down(t->h, n - 1, 0);
    }
}

size_t sem_exact_topk(const sem_kernels *kern, int metric, const float *rows, size_t n, size_t dim,
                      const float *q, size_t k, sem_hit *out)
{
    sem_topk t = {out, 0, k};
    size_t i = 0;
    float d4[4];
    for (; i + 4 <= n; i += 4) {
        if (metric == SEM_METRIC_L2) {
            kern->l2sq4(q, rows + i * dim, dim, dim, d4);
        } else {
            kern->dot4(q, rows + i * dim, dim, dim, d4);
            for (int j = 0; j < 4; j++) d4[j] = metric == SEM_METRIC_COSINE ? 1.0f - d4[j] : -d4[j];
        }
        for (int j = 0; j < 4; j++) sem_topk_push(&t, d4[j], (uint32_t)(i + j));
    }
    for (; i < n; i++) sem_topk_push(&t, sem_dist(kern, metric, rows + i * dim, q, dim), (uint32_t)i);
    sem_topk_sort(&t);
    return t.n;
}
