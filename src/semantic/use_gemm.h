/*
 * use_gemm.h — the matrix products of USE-lite: C += A W with W a weight
 * matrix of the model. Large batches go to OpenBLAS (cblas_sgemm); few
 * rows (one short text) go to an AVX-512 kernel over W packed once at load
 * time in panels of 32 columns, which streams the weights once per call
 * instead of repacking them as sgemm does (measured 2.5-3.6x sgemm's speed
 * at 20 rows here). The kernel is chosen at run time (CPU support) and
 * tested against sgemm (tests/unit/test_embedders.c). Internal.
 */
#ifndef MAIF_SEMANTIC_USE_GEMM_H
#define MAIF_SEMANTIC_USE_GEMM_H

#include <stddef.h>

#define USE_GEMM_PANEL 32

typedef struct {
    const float *w;  /* the K x N row-major matrix (borrowed) */
    float *packed;   /* [ceil(N/32)][K][32], zero-padded; NULL if not packed */
    size_t k, n;
} use_matrix;

/* Packs w (k x n) for the small-batch kernel when the CPU has it (else
 * leaves m->packed NULL). Returns 0 or MAIF_ENOMEM. */
int use_matrix_init(use_matrix *m, const float *w, size_t k, size_t n);
void use_matrix_free(use_matrix *m);

/* C[rows x n] += A[rows x k] W. simd = 0 forces sgemm. */
void use_gemm_acc(const float *A, size_t rows, const use_matrix *W, float *C, int simd);

/* 1 if the packed kernel runs on this CPU. */
int use_gemm_have_simd(void);

#endif
