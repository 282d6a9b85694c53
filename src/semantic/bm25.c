/*
 * bm25.c — full-text scoring of TEXT blocks: Okapi BM25 (k1 = 1.2,
 * b = 0.75) over words stemmed with Snowball's English stemmer
 * (libstemmer), and the scan that needs no stored index: a query reads the
 * texts once, counting only its own terms. To keep that scan cheap a word
 * is stemmed only when its first two bytes could begin one of the query's
 * stems (Snowball English keeps a word's first letters, but for dying,
 * lying and tying), so most words cost a table lookup. Corpus statistics (N, average length, document
 * frequencies) are over every readable text; the filters decide which
 * matching texts may be returned, asked best first (sem_bm25_select).
 * The stored index (tidx*.c) shares the word rules, the counting and the
 * scoring below, which is why both give the same results.
 */
#include <libstemmer.h>
#include <math.h>
#include <string.h>

#include "semantic/textidx.h"
#include "util/alloc.h"
#include "util/common.h"

typedef struct doc {
    uint64_t block;
    uint32_t dl;
    uint16_t tf[SEM_QT_MAX];
} doc;

void sem_bm25_query_parse(struct sb_stemmer *st, const char *text, size_t len, sem_bm25_query *q)
{
    q->nq = 0;
    memset(q->pre, 0, sizeof q->pre);
    memset(q->one, 0, sizeof q->one);
    uint8_t word[SEM_WORD_MAX];
    SEM_FOR_WORDS(text, len, word, wl, {
        const sb_symbol *sm = sb_stemmer_stem(st, word, wl);
        int sl = sm ? sb_stemmer_length(st) : 0;
        if (sl > 0 && sl <= SEM_WORD_MAX && q->nq < SEM_QT_MAX) {
            int dup = 0;
            for (int j = 0; j < q->nq && !dup; j++) dup = q->n[j] == sl && memcmp(q->s[j], sm, (size_t)sl) == 0;
            if (!dup) {
                memcpy(q->s[q->nq], sm, (size_t)sl);
                q->n[q->nq] = sl;
                if (sl == 1) q->one[sm[0]] = 1;
                else q->pre[(sm[0] << 5) | (sm[1] >> 3)] |= (uint8_t)(1u << (sm[1] & 7));
                q->nq++;
            }
        }
    });
}

int sem_bm25_count(struct sb_stemmer *st, const sem_bm25_query *q, const char *text, size_t len, uint32_t *dl,
                   uint16_t tf[SEM_QT_MAX])
{
    uint8_t word[SEM_WORD_MAX];
    uint32_t n = 0;
    int any = 0;
    memset(tf, 0, SEM_QT_MAX * sizeof *tf);
    SEM_FOR_WORDS(text, len, word, wl, {
        n++;
        int cand = wl == 1 ? q->one[word[0]] : (q->pre[(word[0] << 5) | (word[1] >> 3)] >> (word[1] & 7)) & 1;
        if (!cand && wl > 1) cand = q->one[word[0]];
        /* the one change Snowball English makes to a word's first two
           letters: its exceptions dying, lying, tying -> die, lie, tie */
        if (!cand && wl > 1 && word[1] == 'y') cand = (q->pre[(word[0] << 5) | ('i' >> 3)] >> ('i' & 7)) & 1;
        if (cand) {
            const sb_symbol *sm = sb_stemmer_stem(st, word, wl);
            int sl = sm ? sb_stemmer_length(st) : 0;
            for (int j = 0; j < q->nq; j++)
                if (q->n[j] == sl && memcmp(q->s[j], sm, (size_t)sl) == 0) {
                    if (tf[j] < UINT16_MAX) tf[j]++;
                    any = 1;
                }
        }
    });
    *dl = n;
    return any;
}

double sem_bm25_idf(uint64_t N, uint64_t df)
{
    return log(1.0 + ((double)N - (double)df + 0.5) / ((double)df + 0.5));
}

/* a before b in the ranking: higher score, then lower block */
static int better(const sem_scored *a, const sem_scored *b)
{
    return a->score > b->score || (a->score == b->score && a->block < b->block);
}

static void sift(sem_scored *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        if (l < n && better(&h[l], &h[m])) m = l;
        if (l + 1 < n && better(&h[l + 1], &h[m])) m = l + 1;
        if (m == i) return;
        sem_scored x = h[i];
        h[i] = h[m];
        h[m] = x;
        i = m;
    }
}

/* worse-first heap: the root is the worst of those kept */
static void sift_worst(sem_scored *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        if (l < n && better(&h[m], &h[l])) m = l;
        if (l + 1 < n && better(&h[m], &h[l + 1])) m = l + 1;
        if (m == i) return;
        sem_scored x = h[i];
        h[i] = h[m];
        h[m] = x;
        i = m;
    }
}

/* Pops c's heap (best first) into out until k pass allow; returns how many passed. */
static size_t pop_allowed(sem_scored *c, size_t n, sem_block_allow_fn allow, void *ctx, size_t k, sem_scored *out)
{
    size_t m = 0;
    while (n && m < k) {
        sem_scored top = c[0];
        c[0] = c[--n];
        sift(c, n, 0);
        if (!allow || allow(ctx, top.block)) out[m++] = top;
    }
    return m;
}

void sem_bm25_select(sem_scored *c, size_t n, sem_block_allow_fn allow, void *ctx, size_t k, sem_scored *out,
                     size_t *nout)
{
    /* First the best M alone (a bounded heap: mostly one comparison a
       candidate), asked best first; when fewer than k of them pass, all
       candidates, as a heap popped best first. Either way the answer is
       the first k that pass in the order (score, then block). */
    size_t M = 4 * k > 64 ? 4 * k : 64;
    if (n > 2 * M) {
        sem_scored *h = maif_malloc(M * sizeof *h);
        if (h) {
            size_t nh = 0;
            for (size_t i = 0; i < n; i++) {
                if (nh < M) {
                    h[nh] = c[i];
                    for (size_t j = nh++; j > 0 && better(&h[(j - 1) / 2], &h[j]);) { /* sift up */
                        sem_scored x = h[j];
                        h[j] = h[(j - 1) / 2];
                        h[(j - 1) / 2] = x;
                        j = (j - 1) / 2;
                    }
                } else if (better(&c[i], &h[0])) {
                    h[0] = c[i];
                    sift_worst(h, nh, 0);
                }
            }
            for (size_t i = nh / 2; i-- > 0;) sift(h, nh, i);
            size_t m = pop_allowed(h, nh, allow, ctx, k, out);
            maif_free(h);
            if (m == k) {
                *nout = m;
                return;
            }
        }
    }
    for (size_t i = n / 2; i-- > 0;) sift(c, n, i);
    *nout = pop_allowed(c, n, allow, ctx, k, out);
}

int sem_bm25_search(maif_reader *r, const char *query, size_t qlen, sem_block_allow_fn allow, void *ctx, size_t k,
                    sem_scored *out, size_t *nout)
{
    *nout = 0;
    struct sb_stemmer *st = sb_stemmer_new("english", "UTF_8");
    sem_bm25_query *q = maif_malloc(sizeof *q);
    if (!st || !q) {
        if (st) sb_stemmer_delete(st);
        maif_free(q);
        return maif_set_last_err(MAIF_ENOMEM, "BM25: out of memory");
    }
    sem_bm25_query_parse(st, query, qlen, q);
    int rc = MAIF_OK;
    doc *docs = NULL;
    sem_scored *sc = NULL;
    size_t nd = 0, cap = 0;
    uint64_t N = 0, total = 0, df[SEM_QT_MAX] = {0};
    uint64_t nb = maif_reader_count(r);
    for (uint64_t i = 0; i < nb && q->nq; i++) {
        maif_block b;
        if (maif_reader_block(r, i, &b) != MAIF_OK || b.type != MAIF_TYPE_TEXT) continue;
        const char *t;
        size_t tl;
        char *owned = NULL;
        if (sem_block_text(r, i, &t, &tl, &owned) != MAIF_OK) continue;
        doc d;
        d.block = i;
        int any = sem_bm25_count(st, q, t, tl, &d.dl, d.tf);
        maif_free(owned);
        N++;
        total += d.dl;
        if (!any) continue;
        for (int j = 0; j < q->nq; j++) df[j] += d.tf[j] > 0;
        if (nd == cap) {
            cap = cap ? cap * 2 : 256;
            doc *nd2 = maif_realloc(docs, cap * sizeof *nd2);
            if (!nd2) {
                rc = maif_set_last_err(MAIF_ENOMEM, "out of memory");
                goto out;
            }
            docs = nd2;
        }
        docs[nd++] = d;
    }
    if (nd) {
        double avgdl = (double)total / (double)N, idf[SEM_QT_MAX];
        for (int j = 0; j < q->nq; j++) idf[j] = sem_bm25_idf(N, df[j]);
        sc = maif_malloc(nd * sizeof *sc);
        if (!sc) {
            rc = maif_set_last_err(MAIF_ENOMEM, "out of memory");
            goto out;
        }
        for (size_t i = 0; i < nd; i++)
            sc[i] = (sem_scored){docs[i].block, sem_bm25_score(docs[i].tf, q->nq, idf, docs[i].dl, avgdl)};
        sem_bm25_select(sc, nd, allow, ctx, k, out, nout);
    }
out:
    maif_free(sc);
    maif_free(docs);
    maif_free(q);
    sb_stemmer_delete(st);
    return rc;
}
