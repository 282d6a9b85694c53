/*
 * textidx.h — full-text search: the word rules and BM25 pieces shared by
 * the scan (bm25.c) and the stored index (tidx.c: the TIDX reader,
 * tidx_build.c: its builder, tidx_search.c: queries), so that both paths
 * tokenise, count and score with the same code and give the same results.
 */
#ifndef MAIF_TEXTIDX_H
#define MAIF_TEXTIDX_H

#include <stddef.h>
#include <stdint.h>

#include "semantic/semantic.h"

struct sb_stemmer;

#define SEM_TYPE_TIDX   MAIF_FOURCC('T', 'I', 'D', 'X')
#define SEM_WORD_MAX    64 /* bytes of a word kept (and the longest stem indexed) */
#define SEM_QT_MAX      32 /* distinct query stems used */
#define SEM_BM25_K1     1.2
#define SEM_BM25_B      0.75
#define SEM_TIDX_HEADER 64
#define SEM_TIDX_ANALYZER 1 /* the word rules below + Snowball English, UTF-8 */
#define SEM_TIDX_F_NO_VECTORS 1u /* flags: no EMBD or VIDX block below covered */

/* A word byte: ASCII letters (upper case lowered in *c), digits, and any
 * byte >= 0x80 (so UTF-8 words stay whole). */
static inline int sem_word_byte(uint8_t *c)
{
    uint8_t b = *c;
    if (b >= 'A' && b <= 'Z') {
        *c = (uint8_t)(b + 32);
        return 1;
    }
    return (b >= 'a' && b <= 'z') || (b >= '0' && b <= '9') || b >= 0x80;
}

/* Runs BODY on each lower-cased word of text (its first SEM_WORD_MAX bytes
 * in w[0..wl)). */
#define SEM_FOR_WORDS(text, len, w, wl, ...)                                                                  \
    do {                                                                                                      \
        const uint8_t *p_ = (const uint8_t *)(text);                                                          \
        size_t i_ = 0, n_ = (len);                                                                            \
        while (i_ < n_) {                                                                                     \
            uint8_t c_ = p_[i_];                                                                              \
            if (!sem_word_byte(&c_)) {                                                                        \
                i_++;                                                                                         \
                continue;                                                                                     \
            }                                                                                                 \
            int wl = 0;                                                                                       \
            while (i_ < n_) {                                                                                 \
                c_ = p_[i_];                                                                                  \
                if (!sem_word_byte(&c_)) break;                                                               \
                if (wl < SEM_WORD_MAX) w[wl++] = c_;                                                          \
                i_++;                                                                                         \
            }                                                                                                 \
            __VA_ARGS__                                                                                       \
        }                                                                                                     \
    } while (0)

/* The distinct stems of a query (at most SEM_QT_MAX, in query order). */
typedef struct sem_bm25_query {
    uint8_t s[SEM_QT_MAX][SEM_WORD_MAX];
    int n[SEM_QT_MAX]; /* 1..SEM_WORD_MAX */
    int nq;
    uint8_t pre[65536 / 8]; /* bit set: a stem of 2+ bytes begins with these two bytes */
    uint8_t one[256];       /* a 1-byte stem is this byte */
} sem_bm25_query;
void sem_bm25_query_parse(struct sb_stemmer *st, const char *text, size_t len, sem_bm25_query *q);

/* Counts a text against q: its length in words (*dl) and the occurrences
 * of each query stem (tf, saturating at 65535). A word is stemmed only
 * when its first bytes could begin a query stem (Snowball English keeps a
 * word's first letters). Returns 1 when some tf > 0. */
int sem_bm25_count(struct sb_stemmer *st, const sem_bm25_query *q, const char *text, size_t len, uint32_t *dl,
                   uint16_t tf[SEM_QT_MAX]);

/* Okapi BM25 idf of a term in df of N documents. */
double sem_bm25_idf(uint64_t N, uint64_t df);
/* The BM25 score of a document of dl words with term frequencies tf. */
static inline double sem_bm25_score(const uint16_t *tf, int nq, const double *idf, uint32_t dl, double avgdl)
{
    double s = 0, norm = SEM_BM25_K1 * (1.0 - SEM_BM25_B + SEM_BM25_B * dl / (avgdl > 0 ? avgdl : 1));
    for (int j = 0; j < nq; j++)
        if (tf[j]) s += idf[j] * tf[j] * (SEM_BM25_K1 + 1) / (tf[j] + norm);
    return s;
}

/* The best k of c[0..n) that allow passes, into out (best first: higher
 * score, then lower block), calling allow only on candidates in that order
 * until k pass: filters during the ranking, not on a truncated list.
 * Reorders c. */
void sem_bm25_select(sem_scored *c, size_t n, sem_block_allow_fn allow, void *ctx, size_t k, sem_scored *out,
                     size_t *nout);

/* ------------------------------------------------------------ TIDX view */

/* A TIDX payload, checked in constant time (FORMAT.md §5.14) and read in
 * place. Every other bound is checked where it is used. */
typedef struct sem_tidx {
    const uint8_t *p;
    size_t size;
    uint64_t covered;   /* blocks [0, covered) were considered */
    uint64_t total;     /* sum of the document lengths */
    uint32_t ndocs, nterms, nskip;
    uint32_t flags;     /* SEM_TIDX_F_* */
    const uint8_t *terms, *docs, *skip, *strings, *post;
    uint64_t strings_size, post_size;
} sem_tidx;

/* A posting-list cursor. */
typedef struct sem_tidx_cur {
    const uint8_t *p, *end;
    uint32_t left;      /* postings still to read */
    uint32_t ord, tf;   /* the current posting */
    int started;
    uint32_t term;
} sem_tidx_cur;

int sem_tidx_view(sem_tidx *t, const uint8_t *p, size_t size, char *err, size_t errsz);
/* Finds stem s (len bytes); *term = its number, or UINT32_MAX when absent.
 * MAIF_EFORMAT (damaged entry met, or terms found out of order). */
int sem_tidx_find(const sem_tidx *t, const uint8_t *s, int len, uint32_t *term, char *err, size_t errsz);
/* Term i's document frequency and a cursor over its postings. */
int sem_tidx_postings(const sem_tidx *t, uint32_t i, uint32_t *df, sem_tidx_cur *c, char *err, size_t errsz);
/* Next posting: 1, 0 at the end (every byte used), MAIF_EFORMAT. */
int sem_tidx_next(const sem_tidx *t, sem_tidx_cur *c, char *err, size_t errsz);
/* Document ord: block and length (block < covered, above the previous document's). */
int sem_tidx_doc(const sem_tidx *t, uint32_t ord, uint64_t *block, uint32_t *len, char *err, size_t errsz);
/* Skipped (encrypted) text block i (< covered, above the previous one). */
int sem_tidx_skipped(const sem_tidx *t, uint32_t i, uint64_t *block, char *err, size_t errsz);
/* Checks everything (O(size)): terms sorted and distinct, every posting
 * list, every document and skipped block, df and the total length. */
int sem_tidx_check(const sem_tidx *t, char *err, size_t errsz);

/* For maif_index_open's walk back: when block i is a readable TIDX whose
 * flags say no EMBD or VIDX block lies below its covered, *covered = that
 * and 1 (the walk may stop: nothing vector-like is older); else 0. */
int sem_tidx_vector_free(const maif_block *b, uint64_t i, uint64_t *covered);

/* Builds a TIDX payload over the text blocks [0, covered) of r (malloc'ed
 * into *out). *docs and *skipped receive the counts. */
int sem_tidx_build(maif_reader *r, uint64_t covered, uint8_t **out, size_t *size, uint64_t *docs, uint64_t *terms,
                   uint64_t *skipped);

/* ------------------------------------------------------------ search */

/* The text candidates of a query on ix: through the latest TIDX for the
 * blocks it covers plus a scan of the rest, or by the scan alone (no
 * index, or a damaged one: ix then carries the message). Same results as
 * sem_bm25_search. */
int sem_text_search(maif_index *ix, const char *query, size_t qlen, sem_block_allow_fn allow, void *ctx, size_t k,
                    sem_scored *out, size_t *nout);
/* Opens the text index state of ix if not yet (the walk back to the
 * latest TIDX). Never fails for a damaged index: the state records it. */
int sem_text_open(maif_index *ix);
void sem_text_close(maif_index *ix);
/* What maif_index_get_info reports of the text index (opening it). */
int sem_text_info(maif_index *ix, int64_t *block, uint64_t *docs, uint64_t *covered, uint64_t *bytes,
                  const char **err);

#endif
