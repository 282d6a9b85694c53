/*
 * vec.h — float32 vector kernels (dot product, squared L2 distance) in a
 * portable version and AVX2 / AVX-512 versions chosen once at run time,
 * BLAKE3-style: each fast path is tested against the portable one
 * (tests/unit/test_semantic.c). Plus exact top-k search over a matrix.
 */
#ifndef MAIF_SEM_VEC_H
#define MAIF_SEM_VEC_H

#include <stddef.h>
#include <stdint.h>

typedef float (*sem_vec_fn)(const float *a, const float *b, size_t n);

/* One implementation of every kernel. */
typedef struct sem_kernels {
    const char *name;   /* "portable", "avx2", "avx512" */
    sem_vec_fn dot;     /* sum a[i]*b[i] */
    sem_vec_fn l2sq;    /* sum (a[i]-b[i])^2 */
    /* int8 (unsigned code) vectors, HSC int8: */
    float (*dot_u8)(const float *a, const uint8_t *c, size_t n);                     /* sum a[i]*c[i] */
    float (*l2_u8)(const float *a, const float *s, const uint8_t *c, size_t n);      /* sum (a[i]-s[i]*c[i])^2 */
    /* four rows at once (rows r, r + stride, ... in floats) against q, for scans:
     * out[j] = dot or l2sq of q and row j */
    void (*dot4)(const float *q, const float *r, size_t stride, size_t n, float out[4]);
    void (*l2sq4)(const float *q, const float *r, size_t stride, size_t n, float out[4]);
} sem_kernels;

/* The best kernels this CPU runs (cached after the first call). */
const sem_kernels *sem_kernels_best(void);
/* Kernels by index 0 (portable), 1 (avx2), 2 (avx512): NULL when this
 * build or this CPU lacks them. For the tests and the benchmark. */
const sem_kernels *sem_kernels_get(int which);

/* Metrics (the public MAIF_METRIC_* values). */
#define SEM_METRIC_COSINE 1 /* vectors normalised; distance 1 - dot */
#define SEM_METRIC_L2     2 /* squared Euclidean distance */
#define SEM_METRIC_IP     3 /* distance -dot */

/* Distance under metric (smaller is closer): cosine 1 - dot (on unit
 * vectors), l2 squared distance, ip -dot. */
static inline float sem_dist(const sem_kernels *k, int metric, const float *a, const float *b, size_t n)
{
    if (metric == SEM_METRIC_L2) return k->l2sq(a, b, n);
    float d = k->dot(a, b, n);
    return metric == SEM_METRIC_COSINE ? 1.0f - d : -d;
}

/* Scales v to unit length (left alone if its norm is 0). Returns the norm. */
float sem_normalize(float *v, size_t n);

/* A bounded max-heap of the k best (smallest distance) hits. */
typedef struct sem_hit {
    float dist;
    uint32_t id;
} sem_hit;
typedef struct sem_topk {
    sem_hit *h;   /* caller's array of cap entries */
    size_t n, cap;
} sem_topk;
/* Offers (dist, id); keeps the cap best. Returns 1 if kept. */
int sem_topk_push(sem_topk *t, float dist, uint32_t id);
/* Sorts the kept hits best first (destroys the heap order). */
void sem_topk_sort(sem_topk *t);

/* Exact search: the k nearest of the n rows (dim floats each, row-major)
 * to q; writes min(k, n) hits best first into out and returns their
 * number. */
size_t sem_exact_topk(const sem_kernels *kern, int metric, const float *rows, size_t n, size_t dim,
                      const float *q, size_t k, sem_hit *out);

#endif
