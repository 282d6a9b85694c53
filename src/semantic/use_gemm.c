/*
 * use_gemm.c — see use_gemm.h.
 */
#include "semantic/use_gemm.h"

#include <cblas.h>
#include <string.h>

#include "util/alloc.h"
#include "util/common.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define HAVE_X86 1
#include <immintrin.h>
#endif

/* Below this many rows the packed kernel wins; above, sgemm's blocking does. */
#define SMALL_ROWS 48

int use_gemm_have_simd(void)
{
#ifdef HAVE_X86
    static int have = -1;
    if (have < 0) {
        __builtin_cpu_init();
        have = __builtin_cpu_supports("avx512f") ? 1 : 0;
    }
    return have;
#else
    return 0;
#endif
}

int use_matrix_init(use_matrix *m, const float *w, size_t k, size_t n)
{
    m->w = w;
    m->k = k;
    m->n = n;
    m->packed = NULL;
    if (!use_gemm_have_simd()) return 0;
    size_t np = (n + USE_GEMM_PANEL - 1) / USE_GEMM_PANEL;
    uint64_t cnt;
    if (!mul_ok(np, k, &cnt) || !mul_ok(cnt, USE_GEMM_PANEL * sizeof(float), &cnt) || cnt > SIZE_MAX / 2) return MAIF_ENOMEM;
    float *p = maif_malloc((size_t)cnt ? (size_t)cnt : 1);
    if (!p) return MAIF_ENOMEM;
    for (size_t pi = 0; pi < np; pi++)
        for (size_t r = 0; r < k; r++) {
            float *dst = p + (pi * k + r) * USE_GEMM_PANEL;
            for (size_t j = 0; j < USE_GEMM_PANEL; j++) {
                size_t c = pi * USE_GEMM_PANEL + j;
                dst[j] = c < n ? w[r * n + c] : 0.0f;
            }
        }
    m->packed = p;
    return 0;
}

void use_matrix_free(use_matrix *m)
{
    if (!m) return;
    maif_free(m->packed);
    m->packed = NULL;
}

#ifdef HAVE_X86
__attribute__((target("avx512f"))) static void gemm_packed(const float *A, size_t M, const use_matrix *W, float *C)
{
    size_t K = W->k, N = W->n, np = (N + USE_GEMM_PANEL - 1) / USE_GEMM_PANEL;
    for (size_t p = 0; p < np; p++) {
        const float *pp = W->packed + p * K * USE_GEMM_PANEL;
        size_t c0 = p * USE_GEMM_PANEL, nc = N - c0 < USE_GEMM_PANEL ? N - c0 : USE_GEMM_PANEL;
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
                __m512 b0 = _mm512_loadu_ps(pp + k * USE_GEMM_PANEL), b1 = _mm512_loadu_ps(pp + k * USE_GEMM_PANEL + 16), x;
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
                a0 = _mm512_fmadd_ps(x, _mm512_loadu_ps(pp + k * USE_GEMM_PANEL), a0);
                a1 = _mm512_fmadd_ps(x, _mm512_loadu_ps(pp + k * USE_GEMM_PANEL + 16), a1);
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
    if (simd && W->packed && rows < SMALL_ROWS) {
        gemm_packed(A, rows, W, C);
        return;
    }
#endif
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows, (int)W->n, (int)W->k, 1.0f, A, (int)W->k, W->w,
                (int)W->n, 1.0f, C, (int)W->n);
}
