/*
 * semantic.h — what the files of the semantic engine share: the opened
 * index (graph view plus the exact tail), filters, BM25.
 */
#ifndef MAIF_SEMANTIC_H
#define MAIF_SEMANTIC_H

#include <stddef.h>
#include <stdint.h>

#include "maif.h"
#include "semantic/embed.h"
#include "semantic/hnsw.h"
#include "semantic/idset.h"
#include "semantic/vec.h"

#define SEM_TYPE_VIDX MAIF_FOURCC('V', 'I', 'D', 'X')

typedef struct sem_text_state sem_text_state; /* the text index of a maif_index (tidx_search.c) */

/* An embedding row after the index: searched exactly. */
typedef struct sem_tail {
    uint64_t block, subject;
    uint32_t row;
} sem_tail;

struct maif_index {
    maif_reader *r;              /* borrowed */
    char model[SEM_MODEL_MAX];   /* the embeddings searched: EMBD blocks whose "model" is this */
    size_t dim;                  /* 0: no embeddings at all */
    int metric;                  /* SEM_METRIC_* */
    int has_graph;               /* h is valid */
    sem_hnsw h;
    int64_t vidx_block;          /* the VIDX block, or -1 */
    uint8_t *owned;              /* the VIDX payload when it could not be used in place */
    uint64_t covered;            /* blocks [0, covered) are in the graph; later EMBD rows are the tail */
    sem_tail *tail;
    float *tailvec;              /* ntail x dim, normalised for cosine */
    size_t ntail;
    sem_idset tail_sup;          /* ids superseded by blocks after covered */
    int graph_superseded;        /* nodes flagged superseded at build (the VIDX's
                                    "superseded" metadata; 1 when it is missing) */
    maif_embedder *emb;          /* for text queries, opened on first use */
    sem_text_state *text;        /* the latest TIDX, found on the first text query */
};

/* A parsed metadata condition of maif_search_where. */
typedef struct sem_where {
    char key[128];
    int op;            /* '=', '<', '>', 'l' (<=), 'g' (>=) */
    char sval[256];
    double num;
    int is_num;        /* sval parsed fully as a number */
} sem_where;

/* Parses an embedding block's metadata: model (copied, "" if none),
 * dimensions, and the source_block id (has_src). 0 or MAIF_EFORMAT. */
int sem_embd_meta(const maif_block *b, char *model, size_t *dim, uint8_t src[MAIF_ID_BYTES], int *has_src);
/* Appends an index block (VIDX, TIDX) of type with payload[0..psize)
 * stored as is (codec none) and meta as its metadata, then commits w's
 * batch. Takes meta (a jansson object; NULL is out of memory) and
 * releases it. Errors: MAIF_ENOMEM, those of maif_writer_add and
 * maif_writer_commit. */
struct json_t;
int sem_index_block_commit(maif_writer *w, uint32_t type, const uint8_t *payload, size_t psize, struct json_t *meta);

/* BM25 over the readable TEXT blocks of r for query; allow(ctx, block)
 * filters during the scan. Writes the best k (block, score) into out. */
typedef int (*sem_block_allow_fn)(void *ctx, uint64_t block);
typedef struct sem_scored {
    uint64_t block;
    double score;
} sem_scored;
int sem_bm25_search(maif_reader *r, const char *query, size_t qlen, sem_block_allow_fn allow, void *ctx, size_t k,
                    sem_scored *out, size_t *nout);

/* Hybrid fusion (fusion.c). SEM_FUSE_DBSF: each list's scores mapped by
 * its own mean ± 3 standard deviations (over its best SEM_FUSE_DEPTH) to
 * [0, 1], summed, the vector list's times vweight; SEM_FUSE_RRF:
 * vweight/(60 + rank) + 1/(60 + rank). */
#define SEM_FUSE_DBSF  1
#define SEM_FUSE_RRF   2
#define SEM_FUSE_DEPTH 50
typedef struct sem_fused {
    uint64_t block;
    double fused;      /* higher is better */
    int64_t vi, ti;    /* index in the vector / text list, -1 when absent */
} sem_fused;
/* score[0..n) best first -> out[0..n): (s - (mean - 3 sd)) / (6 sd), mean
 * and sd over the first min(n, SEM_FUSE_DEPTH) finite scores; 0.5 for
 * every score when they are all alike, 0 for NaN or -inf, 1 for +inf. */
void sem_fuse_dbsf_norm(const double *score, size_t n, double *out);
/* Fuses v[0..nv) and t[0..nt) (each best first) into out (capacity
 * nv + nt): one entry per vector entry, plus one per text hit whose block
 * is not in the vector list (a text hit joins the best-ranked vector entry
 * of its block), best first, ties by block then vector rank. vweight > 0.
 * Errors: MAIF_EINVAL (rule, weight), MAIF_ENOMEM, MAIF_ELIMIT. */
int sem_fuse(int rule, double vweight, const sem_scored *v, size_t nv, const sem_scored *t, size_t nt, sem_fused *out,
             size_t *nout);

#endif
