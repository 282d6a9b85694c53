/*
 * use_gemm.h — the arithmetic kernels of USE-lite: C += A W with W a weight
 * matrix of the model, and the vector loops around them (attention's dot
 * and axpy, layer norm, relu). Large batches
 * go to OpenBLAS (cblas_sgemm); few rows (one short text) go to a kernel
 * over W packed once at load time in column panels (AVX2+FMA: 16 columns,
 * AVX-512: 32), which streams each weight once per call instead of
 * repacking the matrix as sgemm does on every call. The kernel is chosen
 * at run time (CPU support, cached) and each one is tested against sgemm
 * (tests/unit/test_embedders.c). Internal.
 */
#ifndef MAIF_SEMANTIC_USE_GEMM_H
#define MAIF_SEMANTIC_USE_GEMM_H

#include <stddef.h>

/* Instruction sets of the packed kernels. */
#define USE_ISA_NONE   0  /* no packed kernel: sgemm and plain loops */
#define USE_ISA_AVX2   1  /* AVX2 with FMA */
#define USE_ISA_AVX512 2  /* AVX-512F */

typedef struct {
    const float *w;  /* the K x N row-major matrix (borrowed) */
    float *packed;   /* [ceil(N/panel)][K][panel], zero-padded; NULL if not packed */
    size_t k, n;
    size_t panel;    /* columns a panel: 16 (AVX2) or 32 (AVX-512); 0 if not packed */
    int isa;         /* the kernel packed for (USE_ISA_*) */
} use_matrix;

/* The best packed kernel this CPU runs (USE_ISA_*). */
int use_gemm_isa(void);

/* Packs w (k x n) for the best kernel of this CPU (leaves m->packed NULL
 * when there is none). Returns 0 or MAIF_ENOMEM. */
int use_matrix_init(use_matrix *m, const float *w, size_t k, size_t n);
/* Same for a given kernel, which must be <= use_gemm_isa() (tests). */
int use_matrix_init_isa(use_matrix *m, const float *w, size_t k, size_t n, int isa);
void use_matrix_free(use_matrix *m);

/* C[rows x n] += A[rows x k] W. simd = 0 forces sgemm. */
void use_gemm_acc(const float *A, size_t rows, const use_matrix *W, float *C, int simd);

/* sum a[i] b[i], and y[i] += a x[i], with the given kernel (USE_ISA_*,
 * at most use_gemm_isa(); USE_ISA_NONE is the plain loop; AVX-512 uses the
 * AVX2 loop: at these lengths, 64 to 512, it gains nothing). */
float use_dot(const float *a, const float *b, size_t n, int isa);
void use_axpy(float a, const float *x, float *y, size_t n, int isa);

/* y = layer norm of each of the n rows of x (width d): scale s, bias b,
 * variance epsilon eps; and f[i] = max(f[i], 0). Same kernel choice. */
void use_layer_norm(const float *x, size_t n, size_t d, const float *s, const float *b, float eps, float *y, int isa);
void use_relu(float *f, size_t n, int isa);

/* 1 if a packed kernel runs on this CPU. */
int use_gemm_have_simd(void);

#endif
