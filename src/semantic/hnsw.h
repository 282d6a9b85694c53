/*
 * hnsw.h — the HNSW graph of a VIDX block (docs/FORMAT.md §5.8), read in
 * place: sem_hnsw_view checks the fixed header in O(1) and every later
 * access (a node's level, list size, neighbour ids, upper-list slot) is
 * bounded where it is used, so a hostile index fails one search with
 * MAIF_EFORMAT instead of reading outside the payload or looping.
 * The builder writes the same layout into a buffer of its own.
 */
#ifndef MAIF_SEM_HNSW_H
#define MAIF_SEM_HNSW_H

#include <stddef.h>
#include <stdint.h>

#include "semantic/pq.h"
#include "util/common.h"
#include "semantic/vec.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the VIDX reader maps little-endian arrays in place"
#endif

#define SEM_VIDX_MAGIC   "MAIFVIX1"
#define SEM_VIDX_HDR     128u
#define SEM_VIDX_META    32u      /* version 1, per node: block u64, subject u64, row u32, level u8, flags u8, pad u16, upper u32 */
#define SEM_VIDX_SRC     24u      /* version 2, per source: block u64, subject u64, first node u32, flags u8, 3 zero */
#define SEM_VIDX_VERSION 2u       /* what the builder writes; readers take 1 and 2 */
#define SEM_VIDX_N_MAX   0xFFFFFFF0u
#define SEM_VIDX_M_MAX   128u
#define SEM_VIDX_LEVEL_MAX 31u
#define SEM_VIDX_F_SUPERSEDED 0x01u /* the node's subject was superseded when the index was built */

typedef struct sem_hnsw {
    const uint8_t *base;  /* the payload */
    size_t size;          /* == sem_vidx_size(...) of the header's fields */
    uint32_t version;     /* 1: 32 bytes of node info a node; 2: a 4-byte upper slot a node, level in
                             the layer-0 count word, block/subject/row from the source table */
    uint32_t metric, dim, m, m0, ef_construction, max_level, entry, quant;
    uint32_t pq_m;        /* quant 2: sub-spaces (code bytes a node) */
    uint64_t n, covered, nupper, nsrc;
    size_t rec;           /* bytes of one node record: 4 * (1 + m0 + dim), or with int8
                             codes align4(4 * (1 + m0) + dim), with PQ codes
                             align4(4 * (1 + m0) + pq_m) */
    const float *qlo, *qscale; /* quant 1: per dimension, value = lo + scale * code */
    const float *pqcb;    /* quant 2: SEM_PQ_K * dim floats of codebooks (pq.h) */
    const uint8_t *nodes; /* n records: count u32, m0 ids u32, dim floats (or codes) */
    const uint8_t *meta;  /* version 1: n * SEM_VIDX_META */
    const uint32_t *uslot;/* version 2: n upper slots */
    const uint8_t *src;   /* version 2: nsrc * SEM_VIDX_SRC, sorted by first node */
    const uint8_t *upper; /* nupper lists of (1 + m) u32: count, ids */
} sem_hnsw;

#define SEM_QUANT_NONE 0
#define SEM_QUANT_INT8 1
#define SEM_QUANT_PQ   2

/* Total payload bytes for these parameters (pq_m: PQ sub-spaces, used
 * with SEM_QUANT_PQ only; nsrc: sources, version 2 only); 0 if the sizes
 * overflow. */
size_t sem_vidx_size(uint32_t version, uint64_t n, uint32_t dim, uint32_t m, uint32_t m0, uint64_t nupper,
                     uint32_t quant, uint32_t pq_m, uint64_t nsrc);

/* Checks the header of a VIDX payload (4-byte aligned) and fills h. O(1).
 * Errors: MAIF_EFORMAT (message in err). */
int sem_hnsw_view(sem_hnsw *h, const uint8_t *p, size_t size, char *err, size_t errcap);

/* Node i's float vector (quant 0), its dim codes (quant 1) or its pq_m
 * PQ codes (quant 2). */
static inline const float *sem_node_vec(const sem_hnsw *h, uint32_t i)
{
    return (const float *)(const void *)(h->nodes + (size_t)i * h->rec + 4 * (1 + (size_t)h->m0));
}
static inline const uint8_t *sem_node_codes(const sem_hnsw *h, uint32_t i)
{
    return h->nodes + (size_t)i * h->rec + 4 * (1 + (size_t)h->m0);
}

/* A query prepared for one index: for int8 codes, aux holds q * scale
 * (cosine, ip; c0 = q . lo) or q - lo (l2); for PQ codes, the distance
 * table (pq_m * SEM_PQ_K, sem_pq_table) and its constant c0. */
typedef struct sem_query {
    const float *q;
    const float *aux;
    float c0;
} sem_query;

/* Distance from the query to node i (approximate for int8 codes). */
static inline float sem_node_dist(const sem_hnsw *h, const sem_kernels *k, const sem_query *qc, uint32_t i)
{
    if (h->quant == SEM_QUANT_NONE) return sem_dist(k, (int)h->metric, qc->q, sem_node_vec(h, i), h->dim);
    const uint8_t *c = sem_node_codes(h, i);
    if (h->quant == SEM_QUANT_PQ) return sem_pq_adc(qc->aux, qc->c0, c, h->pq_m);
    if (h->metric == SEM_METRIC_L2) return k->l2_u8(qc->aux, h->qscale, c, h->dim);
    float d = qc->c0 + k->dot_u8(qc->aux, c, h->dim);
    return h->metric == SEM_METRIC_COSINE ? 1.0f - d : -d;
}
/* The first word of node i's record: the layer-0 count (version 1), or
 * count | level << 16 (version 2). */
static inline uint32_t sem_node_word(const sem_hnsw *h, uint32_t i)
{
    return *(const uint32_t *)(const void *)(h->nodes + (size_t)i * h->rec);
}
static inline uint32_t sem_node_count0(const sem_hnsw *h, uint32_t i)
{
    uint32_t w = sem_node_word(h, i);
    return h->version == 1 ? w : w & 0xFFFFu;
}
static inline uint32_t sem_node_level(const sem_hnsw *h, uint32_t i)
{
    return h->version == 1 ? h->meta[(size_t)i * SEM_VIDX_META + 20] : (sem_node_word(h, i) >> 16) & 0xFFu;
}
static inline uint32_t sem_node_upper(const sem_hnsw *h, uint32_t i)
{
    return h->version == 1 ? rd32le(h->meta + (size_t)i * SEM_VIDX_META + 28) : h->uslot[i];
}

/* What node i stands for. */
typedef struct sem_node_ref {
    uint64_t block;   /* its EMBD block */
    uint64_t subject; /* the block results name */
    uint32_t row;     /* its row in the EMBD block */
    uint8_t flags;    /* SEM_VIDX_F_* */
} sem_node_ref;
/* Fills out for node i (< n). Version 2 finds i's source by binary
 * search (O(log nsrc)); a source table that does not cover i (its first
 * entry starts after i) is MAIF_EFORMAT. */
int sem_node_info(const sem_hnsw *h, uint32_t i, sem_node_ref *out);

/* Scratch for searches: visited tags (one per node) and the two heaps. */
typedef struct sem_scratch {
    uint32_t *tag;
    size_t ntag;
    uint32_t gen;
    sem_hit *cand, *res;
    size_t ccap, rcap;
    float *aux;      /* the prepared query (int8, PQ) */
    size_t auxcap;
} sem_scratch;
/* Prepares q (dim floats) for h into qc, using s for storage.
 * Errors: MAIF_ENOMEM. */
int sem_query_prepare(const sem_hnsw *h, const float *q, sem_scratch *s, sem_query *qc);
void sem_scratch_free(sem_scratch *s);
/* Readies s for a search over n nodes: a fresh visit generation, tags
 * for n nodes. Errors: MAIF_ENOMEM. */
int sem_scratch_begin(sem_scratch *s, uint64_t n);
/* Grows *a (capacity *cap hits) to hold need. Errors: MAIF_ENOMEM. */
int sem_hits_reserve(sem_hit **a, size_t *cap, size_t need);

/* The beam searches' max-heaps on dist (a[0] the farthest), of *n hits;
 * the caller reserves room for the push. Inline: they are the inner loop
 * of every search and of the build. */
static inline void sem_heap_push(sem_hit *a, size_t *n, float d, uint32_t id)
{
    size_t i = (*n)++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (a[p].dist >= d) break;
        a[i] = a[p];
        i = p;
    }
    a[i].dist = d;
    a[i].id = id;
}
/* Removes a[0]; *n must be at least 1. */
static inline void sem_heap_pop(sem_hit *a, size_t *n)
{
    sem_hit last = a[--(*n)];
    size_t i = 0, cnt = *n;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        float md = last.dist;
        if (l < cnt && a[l].dist > md) {
            m = l;
            md = a[l].dist;
        }
        if (r < cnt && a[r].dist > md) m = r;
        if (m == i) break;
        a[i] = a[m];
        i = m;
    }
    if (cnt) a[i] = last;
}

/* Keep node i as a result? (filters). 1 yes, 0 no. */
typedef int (*sem_allow_fn)(void *ctx, uint32_t i);

/* The k nearest allowed nodes to q (dim floats; unit length for cosine),
 * searching with ef (>= k) at layer 0. Writes up to k hits best first to
 * out, sets *nout. Errors: MAIF_EFORMAT (a bound failed: err says which
 * node), MAIF_ENOMEM. */
int sem_hnsw_search(const sem_hnsw *h, const sem_kernels *kern, const float *q, size_t k, size_t ef,
                    sem_allow_fn allow, void *ctx, sem_scratch *s, sem_hit *out, size_t *nout, char *err,
                    size_t errcap);

/* Builds the graph over rows (n x dim floats) into a new payload buffer
 * (maif_free it): vectors copied (normalised for cosine), meta from
 * block/subject/row/flags arrays; with int8 the graph is built on the
 * floats, then the vectors are replaced by codes (per-dimension min and
 * step); with PQ likewise by pq_m-byte codes of codebooks trained on
 * the (normalised) vectors. Errors: MAIF_ENOMEM, MAIF_ELIMIT, MAIF_EINVAL
 * (pq_m out of range). */
typedef struct sem_build_in {
    const float *const *rows; /* n pointers to dim floats each */
    const uint64_t *block, *subject;
    const uint32_t *row;
    const uint8_t *flags;
    uint64_t n, covered;
    uint32_t dim, metric, m, ef_construction;
    uint64_t seed;
    unsigned threads;         /* 0: one per CPU this thread may use */
    uint32_t quant;           /* SEM_QUANT_*: int8 and PQ store codes instead of floats */
    uint32_t pq_m;            /* PQ sub-spaces, 1 .. min(dim, SEM_PQ_M_MAX); 0: sem_pq_default_m */
    uint32_t version;         /* layout: 1 for tests of the old layout, else SEM_VIDX_VERSION. In
                                 version 2 each run of nodes from one EMBD block (same block,
                                 subject, flags, rows consecutive) must start at row 0 */
} sem_build_in;
int sem_hnsw_build(const sem_build_in *in, uint8_t **out, size_t *out_size);

/* The default PQ sub-spaces for dim: dim / 4 rounded up (four dimensions a
 * byte, 16x smaller than float32), at most SEM_PQ_M_MAX. */
static inline uint32_t sem_pq_default_m(uint32_t dim)
{
    uint32_t m = (dim + 3) / 4;
    return m > SEM_PQ_M_MAX ? SEM_PQ_M_MAX : m ? m : 1;
}

#endif
