/*
 * pq.h — product quantisation (Jégou, Douze & Schmid) for the VIDX index
 * (docs/FORMAT.md §5.8, quantization 2): a vector of dim floats is cut
 * into m sub-spaces, sub-space j holding dimensions [start(j), start(j+1))
 * with start(j) = floor(j * dim / m); each sub-vector is replaced by the
 * number (one byte) of the nearest of SEM_PQ_K centroids learned by
 * k-means on the index's own vectors.
 *
 * Codebooks: SEM_PQ_K * dim floats; sub-space j's centroid c is the
 * dsub(j) floats at SEM_PQ_K * start(j) + c * dsub(j).
 *
 * Search uses asymmetric distances: for a query, a table of m * SEM_PQ_K
 * entries (query sub-vector against every centroid) makes the distance to
 * any code m look-ups; it equals the distance from the query to the
 * vector the code reconstructs (up to float rounding).
 */
#ifndef MAIF_SEM_PQ_H
#define MAIF_SEM_PQ_H

#include <stddef.h>
#include <stdint.h>

#define SEM_PQ_K        256u   /* centroids a sub-space: a code is one byte */
#define SEM_PQ_M_MAX    1024u  /* sub-spaces: a query table is at most 1 MiB */
#define SEM_PQ_VERSION  1u     /* the parameter layout of FORMAT.md §5.8 */
#define SEM_PQ_TRAIN_MAX 32768u /* training vectors at most (a seeded sample) */
#define SEM_PQ_ITERS    16u    /* Lloyd iterations at most */

/* First dimension of sub-space j (j = m gives dim). */
static inline uint32_t sem_pq_start(uint32_t dim, uint32_t m, uint32_t j)
{
    return (uint32_t)(((uint64_t)j * dim) / m);
}

/* Learns the codebooks (SEM_PQ_K * dim floats into cb) from n vectors of
 * dim floats, vector i at x + i * stride (stride >= dim floats): per
 * sub-space, k-means++ seeding from a generator seeded with seed, then at
 * most iters Lloyd iterations (stopping early when no assignment
 * changes) on a seeded sample of at most SEM_PQ_TRAIN_MAX vectors. An
 * empty cluster takes the training point farthest from its centroid. With
 * fewer distinct points than SEM_PQ_K some centroids repeat (codes use the
 * first). Deterministic for the same input whatever threads (sub-spaces
 * run in parallel, each on its own generator). 1 <= m <= min(dim,
 * SEM_PQ_M_MAX). Errors: MAIF_EINVAL, MAIF_ENOMEM. */
int sem_pq_train(const float *x, size_t n, size_t stride, uint32_t dim, uint32_t m, uint32_t iters, uint64_t seed,
                 unsigned threads, float *cb);

/* The code (m bytes) of v: the nearest centroid of each sub-space (ties:
 * the lower number). */
void sem_pq_encode(const float *cb, uint32_t dim, uint32_t m, const float *v, uint8_t *code);
/* Encodes n vectors (vector i at x + i * stride floats) into codes, code i
 * at out + i * out_stride bytes, on up to threads threads. */
void sem_pq_encode_all(const float *cb, uint32_t dim, uint32_t m, const float *x, size_t n, size_t stride,
                       uint8_t *out, size_t out_stride, unsigned threads);
/* The vector a code stands for (dim floats). */
void sem_pq_decode(const float *cb, uint32_t dim, uint32_t m, const uint8_t *code, float *out);

/* The distance table of query q (dim floats) under metric (SEM_METRIC_*):
 * table[j * SEM_PQ_K + c] and *c0 such that the distance to code x is
 * *c0 + sum_j table[j * SEM_PQ_K + x[j]]: squared L2 to the centroids
 * (c0 0), or minus the dot product (c0 1 for cosine, 0 for ip), i.e. the
 * same distances sem_dist gives for the reconstructed vector. */
void sem_pq_table(const float *cb, uint32_t dim, uint32_t m, int metric, const float *q, float *table, float *c0);

static inline float sem_pq_adc(const float *table, float c0, const uint8_t *code, uint32_t m)
{
    float s0 = c0, s1 = 0, s2 = 0, s3 = 0;
    uint32_t j = 0;
    for (; j + 4 <= m; j += 4) {
        s0 += table[(size_t)j * SEM_PQ_K + code[j]];
        s1 += table[(size_t)(j + 1) * SEM_PQ_K + code[j + 1]];
        s2 += table[(size_t)(j + 2) * SEM_PQ_K + code[j + 2]];
        s3 += table[(size_t)(j + 3) * SEM_PQ_K + code[j + 3]];
    }
    for (; j < m; j++) s0 += table[(size_t)j * SEM_PQ_K + code[j]];
    return (s0 + s1) + (s2 + s3);
}

#endif
