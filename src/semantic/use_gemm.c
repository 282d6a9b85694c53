/*
 * use_gemm.c — see use_gemm.h.
 *
 * The packed kernels keep a block of R rows x one panel of C in registers
 * (AVX2: 6 x 16 = 12 ymm accumulators; AVX-512: 6 x 32 = 12 zmm) and walk
 * K once, so each weight is loaded once per R rows and each row of A is
 * broadcast once per panel. Rows left over (M mod 6) go through the same
 * code with a smaller R, not one row at a time (AVX2: the rows are split
 * into blocks of near-equal size). Columns left over (N not a multiple of the
 * panel) are zero-padded in the packing, so only the store is partial.
 */
#include "semantic/use_gemm.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

#include "semantic/vec.h"
#include "util/alloc.h"
#include "util/common.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define HAVE_X86 1
#include <immintrin.h>
#endif

/* Below this many rows the packed kernel wins; above, sgemm's blocking
 * does. AVX-512: measured on an earlier machine. AVX2 (AMD EPYC, one
 * core, 2026-12-01): the packed kernel ran 83-93 GFLOP/s at 21-128 rows,
 * sgemm 48 at 21 rows and level with it at 128-1000, so every sentence
 * (at most 128 tokens) takes the packed kernel on its own. */
#define SMALL_ROWS_AVX512 48
#define SMALL_ROWS_AVX2 129

int use_gemm_isa(void)
{
#ifdef HAVE_X86
    static int isa = -1;  /* a benign race: every thread computes the same value */
    int v = __atomic_load_n(&isa, __ATOMIC_RELAXED);
    if (v < 0) {
        __builtin_cpu_init();
        v = __builtin_cpu_supports("avx512f") ? USE_ISA_AVX512
            : __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? USE_ISA_AVX2 : USE_ISA_NONE;
        __atomic_store_n(&isa, v, __ATOMIC_RELAXED);
    }
    return v;
#else
    return USE_ISA_NONE;
#endif
}

int use_gemm_have_simd(void) { return use_gemm_isa() != USE_ISA_NONE; }

int use_matrix_init_isa(use_matrix *m, const float *w, size_t k, size_t n, int isa)
{
    m->w = w;
    m->k = k;
    m->n = n;
    m->packed = NULL;
    m->panel = 0;
    m->isa = USE_ISA_NONE;
    if (isa <= USE_ISA_NONE || isa > use_gemm_isa()) return 0;
    size_t panel = isa == USE_ISA_AVX512 ? 32 : 16;
    size_t np = (n + panel - 1) / panel;
    uint64_t cnt;
    if (!mul_ok(np, k, &cnt) || !mul_ok(cnt, panel * sizeof(float), &cnt) || cnt > SIZE_MAX / 2) return MAIF_ENOMEM;
    float *p = maif_malloc((size_t)cnt ? (size_t)cnt : 1);
    if (!p) return MAIF_ENOMEM;
    for (size_t pi = 0; pi < np; pi++)
        for (size_t r = 0; r < k; r++) {
            float *dst = p + (pi * k + r) * panel;
            for (size_t j = 0; j < panel; j++) {
                size_t c = pi * panel + j;
                dst[j] = c < n ? w[r * n + c] : 0.0f;
            }
        }
    m->packed = p;
    m->panel = panel;
    m->isa = isa;
    return 0;
}

int use_matrix_init(use_matrix *m, const float *w, size_t k, size_t n)
{
    return use_matrix_init_isa(m, w, k, n, use_gemm_isa());
}

void use_matrix_free(use_matrix *m)
{
    if (!m) return;
    maif_free(m->packed);
    m->packed = NULL;
}

/* ---- portable vector loops ---------------------------------------------- */

static void axpy_plain(float a, const float *x, float *y, size_t n)
{
    for (size_t i = 0; i < n; i++) y[i] += a * x[i];
}

static void layer_norm_plain(const float *x, size_t d, const float *s, const float *b, float eps, float *y)
{
    float mean = 0, var = 0;
    for (size_t j = 0; j < d; j++) mean += x[j];
    mean /= (float)d;
    for (size_t j = 0; j < d; j++) { float c = x[j] - mean; var += c * c; }
    var /= (float)d;
    float r = 1.0f / sqrtf(var + eps);
    for (size_t j = 0; j < d; j++) y[j] = s[j] * r * (x[j] - mean) + b[j];
}

static void relu_plain(float *f, size_t n)
{
    for (size_t i = 0; i < n; i++) if (f[i] < 0) f[i] = 0;
}

#ifdef HAVE_X86
/* ---- AVX2 + FMA --------------------------------------------------------- */

__attribute__((target("avx2,fma"))) static inline float hsum_avx2(__m256 v)
{
    __m128 lo = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
    lo = _mm_add_ss(lo, _mm_shuffle_ps(lo, lo, 1));
    return _mm_cvtss_f32(lo);
}

/* The same two passes as layer_norm_plain (mean, then the mean square of
 * x - mean), eight lanes at a time. */
__attribute__((target("avx2,fma"))) static void layer_norm_avx2(const float *x, size_t d, const float *s, const float *b,
                                                                 float eps, float *y)
{
    __m256 acc = _mm256_setzero_ps();
    size_t j = 0;
    for (; j + 8 <= d; j += 8) acc = _mm256_add_ps(acc, _mm256_loadu_ps(x + j));
    float mean = hsum_avx2(acc);
    for (; j < d; j++) mean += x[j];
    mean /= (float)d;
    __m256 vm = _mm256_set1_ps(mean);
    acc = _mm256_setzero_ps();
    for (j = 0; j + 8 <= d; j += 8) {
        __m256 c = _mm256_sub_ps(_mm256_loadu_ps(x + j), vm);
        acc = _mm256_fmadd_ps(c, c, acc);
    }
    float var = hsum_avx2(acc);
    for (; j < d; j++) { float c = x[j] - mean; var += c * c; }
    var /= (float)d;
    float r = 1.0f / sqrtf(var + eps);
    __m256 vr = _mm256_set1_ps(r);
    for (j = 0; j + 8 <= d; j += 8) {
        __m256 c = _mm256_sub_ps(_mm256_loadu_ps(x + j), vm);
        __m256 sr = _mm256_mul_ps(_mm256_loadu_ps(s + j), vr);
        _mm256_storeu_ps(y + j, _mm256_fmadd_ps(sr, c, _mm256_loadu_ps(b + j)));
    }
    for (; j < d; j++) y[j] = s[j] * r * (x[j] - mean) + b[j];
}

__attribute__((target("avx2,fma"))) static void relu_avx2(float *f, size_t n)
{
    __m256 z = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(f + i, _mm256_max_ps(_mm256_loadu_ps(f + i), z));
    for (; i < n; i++) if (f[i] < 0) f[i] = 0;
}

/* C[R x nc] += A[R x K] P, P one 16-column panel ([K][16]); ldc = N. R is
 * a constant after inlining, so the loops over r unroll and acc lives in
 * registers. */
__attribute__((always_inline, target("avx2,fma"))) static inline void block_avx2(const float *A, size_t K,
                                                                                 const float *P, float *C,
                                                                                 size_t ldc, size_t nc,
                                                                                 const float *pf, size_t npf,
                                                                                 const int R)
{
    __m256 acc[6][2];
#pragma GCC unroll 6
    for (int r = 0; r < R; r++) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
    for (size_t k = 0; k < K; k++) {
        __m256 b0 = _mm256_loadu_ps(P + k * 16), b1 = _mm256_loadu_ps(P + k * 16 + 8);
        if (k < npf) _mm_prefetch((const char *)(pf + k * 16), _MM_HINT_T0);
#pragma GCC unroll 6
        for (int r = 0; r < R; r++) {
            __m256 x = _mm256_broadcast_ss(A + (size_t)r * K + k);
            acc[r][0] = _mm256_fmadd_ps(x, b0, acc[r][0]);
            acc[r][1] = _mm256_fmadd_ps(x, b1, acc[r][1]);
        }
    }
    if (nc == 16) {
#pragma GCC unroll 6
        for (int r = 0; r < R; r++) {
            float *c = C + (size_t)r * ldc;
            _mm256_storeu_ps(c, _mm256_add_ps(_mm256_loadu_ps(c), acc[r][0]));
            _mm256_storeu_ps(c + 8, _mm256_add_ps(_mm256_loadu_ps(c + 8), acc[r][1]));
        }
    } else {
#pragma GCC unroll 6
        for (int r = 0; r < R; r++) {
            float t[16];
            _mm256_storeu_ps(t, acc[r][0]);
            _mm256_storeu_ps(t + 8, acc[r][1]);
            for (size_t j = 0; j < nc; j++) C[(size_t)r * ldc + j] += t[j];
        }
    }
}

__attribute__((target("avx2,fma"))) static void gemm_avx2(const float *A, size_t M, const use_matrix *W, float *C)
{
    size_t K = W->k, N = W->n, np = (N + 15) / 16;
    for (size_t p = 0; p < np; p++) {
        const float *P = W->packed + p * K * 16;
        size_t c0 = p * 16, nc = N - c0 < 16 ? N - c0 : 16;
        /* blocks of as even a size as 6 allows: 21 rows are 6+5+5+5, not
         * 6+6+6+3 (a block of 3 has too few accumulators to hide the FMA
         * latency) */
        size_t nb = (M + 5) / 6, base = M / nb, extra = M % nb, i = 0;
        /* the blocks share out prefetching the next panel (one 64-byte
         * row of it per k), so it streams in while this one computes */
        const float *next = P + K * 16;
        size_t share = (K + nb - 1) / nb, pk = 0;
        for (size_t b = 0; b < nb; b++) {
            size_t R = base + (b < extra);
            const float *a = A + i * K;
            float *c = C + i * N + c0;
            size_t npf = p + 1 < np ? (K - pk < share ? K - pk : share) : 0;
            const float *pf = next + pk * 16;
            switch (R) {
            case 6: block_avx2(a, K, P, c, N, nc, pf, npf, 6); break;
            case 5: block_avx2(a, K, P, c, N, nc, pf, npf, 5); break;
            case 4: block_avx2(a, K, P, c, N, nc, pf, npf, 4); break;
            case 3: block_avx2(a, K, P, c, N, nc, pf, npf, 3); break;
            case 2: block_avx2(a, K, P, c, N, nc, pf, npf, 2); break;
            default: block_avx2(a, K, P, c, N, nc, pf, npf, 1); break;
            }
            i += R;
            pk += npf;
        }
    }
}

__attribute__((target("avx2,fma"))) static void axpy_avx2(float a, const float *x, float *y, size_t n)
{
    __m256 va = _mm256_set1_ps(a);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
    for (; i < n; i++) y[i] += a * x[i];
}

/* ---- AVX-512 ------------------------------------------------------------ */

__attribute__((target("avx512f"))) static void gemm_avx512(const float *A, size_t M, const use_matrix *W, float *C)
{
    size_t K = W->k, N = W->n, np = (N + 31) / 32;
    for (size_t p = 0; p < np; p++) {
        const float *pp = W->packed + p * K * 32;
        size_t c0 = p * 32, nc = N - c0 < 32 ? N - c0 : 32;
        __mmask16 m0 = nc >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << nc) - 1);
        __mmask16 m1 = nc >= 32 ? (__mmask16)0xFFFF : nc > 16 ? (__mmask16)((1u << (nc - 16)) - 1) : (__mmask16)0;
#define STORE(r, v0, v1) do { \
            float *c_ = C + (i + (r)) * N + c0; \
            _mm512_mask_storeu_ps(c_, m0, _mm512_add_ps(_mm512_maskz_loadu_ps(m0, c_), v0)); \
            if (m1) _mm512_mask_storeu_ps(c_ + 16, m1, _mm512_add_ps(_mm512_maskz_loadu_ps(m1, c_ + 16), v1)); \
        } while (0)
        size_t i = 0;
        for (; i + 6 <= M; i += 6) {
            __m512 a00 = _mm512_setzero_ps(), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00;
            __m512 a30 = a00, a31 = a00, a40 = a00, a41 = a00, a50 = a00, a51 = a00;
            const float *r0 = A + i * K, *r1 = r0 + K, *r2 = r1 + K, *r3 = r2 + K, *r4 = r3 + K, *r5 = r4 + K;
            for (size_t k = 0; k < K; k++) {
                __m512 b0 = _mm512_loadu_ps(pp + k * 32), b1 = _mm512_loadu_ps(pp + k * 32 + 16), x;
                x = _mm512_set1_ps(r0[k]); a00 = _mm512_fmadd_ps(x, b0, a00); a01 = _mm512_fmadd_ps(x, b1, a01);
                x = _mm512_set1_ps(r1[k]); a10 = _mm512_fmadd_ps(x, b0, a10); a11 = _mm512_fmadd_ps(x, b1, a11);
                x = _mm512_set1_ps(r2[k]); a20 = _mm512_fmadd_ps(x, b0, a20); a21 = _mm512_fmadd_ps(x, b1, a21);
                x = _mm512_set1_ps(r3[k]); a30 = _mm512_fmadd_ps(x, b0, a30); a31 = _mm512_fmadd_ps(x, b1, a31);
                x = _mm512_set1_ps(r4[k]); a40 = _mm512_fmadd_ps(x, b0, a40); a41 = _mm512_fmadd_ps(x, b1, a41);
                x = _mm512_set1_ps(r5[k]); a50 = _mm512_fmadd_ps(x, b0, a50); a51 = _mm512_fmadd_ps(x, b1, a51);
            }
            STORE(0, a00, a01); STORE(1, a10, a11); STORE(2, a20, a21);
            STORE(3, a30, a31); STORE(4, a40, a41); STORE(5, a50, a51);
        }
        for (; i < M; i++) {
            __m512 a0 = _mm512_setzero_ps(), a1 = a0;
            const float *r0 = A + i * K;
            for (size_t k = 0; k < K; k++) {
                __m512 x = _mm512_set1_ps(r0[k]);
                a0 = _mm512_fmadd_ps(x, _mm512_loadu_ps(pp + k * 32), a0);
                a1 = _mm512_fmadd_ps(x, _mm512_loadu_ps(pp + k * 32 + 16), a1);
            }
            STORE(0, a0, a1);
        }
#undef STORE
    }
}
#endif

void use_gemm_acc(const float *A, size_t rows, const use_matrix *W, float *C, int simd)
{
    if (rows == 0) return;
#ifdef HAVE_X86
    if (simd && W->packed) {
        if (W->isa == USE_ISA_AVX512 && rows < SMALL_ROWS_AVX512) { gemm_avx512(A, rows, W, C); return; }
        if (W->isa == USE_ISA_AVX2 && rows < SMALL_ROWS_AVX2) { gemm_avx2(A, rows, W, C); return; }
    }
#endif
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows, (int)W->n, (int)W->k, 1.0f, A, (int)W->k, W->w,
                (int)W->n, 1.0f, C, (int)W->n);
}

/* The vector kernels' dot product (vec.h); AVX-512 adds nothing here
 * over AVX2 at these lengths (64 and 128). */
float use_dot(const float *a, const float *b, size_t n, int isa)
{
    const sem_kernels *k = isa >= USE_ISA_AVX2 ? sem_kernels_get(1) : NULL;
    return (k ? k : sem_kernels_get(0))->dot(a, b, n);
}

void use_axpy(float a, const float *x, float *y, size_t n, int isa)
{
#ifdef HAVE_X86
    if (isa >= USE_ISA_AVX2) { axpy_avx2(a, x, y, n); return; }
#endif
    (void)isa;
    axpy_plain(a, x, y, n);
}

void use_layer_norm(const float *x, size_t n, size_t d, const float *s, const float *b, float eps, float *y, int isa)
{
    for (size_t i = 0; i < n; i++) {
#ifdef HAVE_X86
        if (isa >= USE_ISA_AVX2) { layer_norm_avx2(x + i * d, d, s, b, eps, y + i * d); continue; }
#endif
        layer_norm_plain(x + i * d, d, s, b, eps, y + i * d);
    }
    (void)isa;
}

void use_relu(float *f, size_t n, int isa)
{
#ifdef HAVE_X86
    if (isa >= USE_ISA_AVX2) { relu_avx2(f, n); return; }
#endif
    (void)isa;
    relu_plain(f, n);
}
