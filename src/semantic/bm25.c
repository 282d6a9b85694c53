/*
 * bm25.c — full-text scoring of TEXT blocks: Okapi BM25 (k1 = 1.2,
 * b = 0.75) over words stemmed with Snowball's English stemmer
 * (libstemmer). There is no stored posting list yet: a query scans the
 * texts once, counting only its own terms. To keep that scan cheap a word
 * is stemmed only when its first two bytes could begin one of the query's
 * stems (Snowball English keeps a word's first letters), so most words
 * cost a table lookup. Corpus statistics (N, average length, document
 * frequencies) are over every readable text; the filters decide which
 * matching texts may be returned.
 */
#include <libstemmer.h>
#include <math.h>
#include <string.h>

#include "semantic/semantic.h"
#include "util/alloc.h"
#include "util/common.h"

#define QT_MAX   32
#define WORD_MAX 64
#define K1 1.2
#define B  0.75

typedef struct qterm {
    uint8_t s[WORD_MAX];
    int n;
} qterm;

typedef struct doc {
    uint64_t block;
    uint32_t dl;
    uint16_t tf[QT_MAX];
} doc;

static inline int wbyte(uint8_t *c)
{
    uint8_t b = *c;
    if (b >= 'A' && b <= 'Z') {
        *c = (uint8_t)(b + 32);
        return 1;
    }
    return (b >= 'a' && b <= 'z') || (b >= '0' && b <= '9') || b >= 0x80;
}

/* Calls fn on each lower-cased word (at most WORD_MAX bytes kept). */
#define FOR_WORDS(text, len, w, wl, BODY)                                                                     \
    do {                                                                                                      \
        const uint8_t *p_ = (const uint8_t *)(text);                                                          \
        size_t i_ = 0, n_ = (len);                                                                            \
        while (i_ < n_) {                                                                                     \
            uint8_t c_ = p_[i_];                                                                              \
            if (!wbyte(&c_)) {                                                                                \
                i_++;                                                                                         \
                continue;                                                                                     \
            }                                                                                                 \
            int wl = 0;                                                                                       \
            while (i_ < n_) {                                                                                 \
                c_ = p_[i_];                                                                                  \
                if (!wbyte(&c_)) break;                                                                       \
                if (wl < WORD_MAX) w[wl++] = c_;                                                              \
                i_++;                                                                                         \
            }                                                                                                 \
            BODY                                                                                              \
        }                                                                                                     \
    } while (0)

int sem_bm25_search(maif_reader *r, const char *query, size_t qlen, sem_block_allow_fn allow, void *ctx, size_t k,
                    sem_scored *out, size_t *nout)
{
    *nout = 0;
    struct sb_stemmer *st = sb_stemmer_new("english", "UTF_8");
    if (!st) return maif_set_last_err(MAIF_ENOMEM, "BM25: no stemmer");
    qterm q[QT_MAX];
    int nq = 0;
    uint8_t word[WORD_MAX];
    uint8_t *pre = maif_calloc(65536 / 8, 1); /* 2-byte prefixes of the stems */
    uint8_t one[256] = {0};                    /* first bytes of 1-byte stems */
    if (!pre) {
        sb_stemmer_delete(st);
        return maif_set_last_err(MAIF_ENOMEM, "out of memory");
    }
    FOR_WORDS(query, qlen, word, wl, {
        const sb_symbol *sm = sb_stemmer_stem(st, word, wl);
        int sl = sm ? sb_stemmer_length(st) : 0;
        if (sl > 0 && sl <= WORD_MAX && nq < QT_MAX) {
            int dup = 0;
            for (int j = 0; j < nq && !dup; j++) dup = q[j].n == sl && memcmp(q[j].s, sm, (size_t)sl) == 0;
            if (!dup) {
                memcpy(q[nq].s, sm, (size_t)sl);
                q[nq].n = sl;
                if (sl == 1) one[sm[0]] = 1;
                else pre[(sm[0] << 5) | (sm[1] >> 3)] |= (uint8_t)(1u << (sm[1] & 7));
                nq++;
            }
        }
    });
    int rc = MAIF_OK;
    doc *docs = NULL;
    size_t nd = 0, cap = 0;
    uint64_t N = 0, total = 0, df[QT_MAX] = {0};
    uint64_t nb = maif_reader_count(r);
    for (uint64_t i = 0; i < nb && nq; i++) {
        maif_block b;
        if (maif_reader_block(r, i, &b) != MAIF_OK || b.type != MAIF_TYPE_TEXT) continue;
        const char *t;
        size_t tl;
        char *owned = NULL;
        if (sem_block_text(r, i, &t, &tl, &owned) != MAIF_OK) continue;
        doc d;
        memset(&d, 0, sizeof d);
        d.block = i;
        int any = 0;
        FOR_WORDS(t, tl, word, wl, {
            d.dl++;
            int cand = wl == 1 ? one[word[0]] : (pre[(word[0] << 5) | (word[1] >> 3)] >> (word[1] & 7)) & 1;
            if (!cand && wl > 1) cand = one[word[0]];
            if (cand) {
                const sb_symbol *sm = sb_stemmer_stem(st, word, wl);
                int sl = sm ? sb_stemmer_length(st) : 0;
                for (int j = 0; j < nq; j++)
                    if (q[j].n == sl && memcmp(q[j].s, sm, (size_t)sl) == 0) {
                        if (d.tf[j] < UINT16_MAX) d.tf[j]++;
                        any = 1;
                    }
            }
        });
        maif_free(owned);
        N++;
        total += d.dl;
        if (!any) continue;
        for (int j = 0; j < nq; j++) df[j] += d.tf[j] > 0;
        if (!allow(ctx, i)) continue;
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
        double avgdl = (double)total / (double)N, idf[QT_MAX];
        for (int j = 0; j < nq; j++) idf[j] = log(1.0 + ((double)N - (double)df[j] + 0.5) / ((double)df[j] + 0.5));
        sem_hit *h = maif_malloc(k * sizeof *h);
        if (!h) {
            rc = maif_set_last_err(MAIF_ENOMEM, "out of memory");
            goto out;
        }
        sem_topk top = {h, 0, k};
        double *sc = maif_malloc(nd * sizeof *sc);
        if (!sc) {
            maif_free(h);
            rc = maif_set_last_err(MAIF_ENOMEM, "out of memory");
            goto out;
        }
        for (size_t i = 0; i < nd; i++) {
            double s = 0, norm = K1 * (1.0 - B + B * docs[i].dl / (avgdl > 0 ? avgdl : 1));
            for (int j = 0; j < nq; j++)
                if (docs[i].tf[j]) s += idf[j] * docs[i].tf[j] * (K1 + 1) / (docs[i].tf[j] + norm);
            sc[i] = s;
            sem_topk_push(&top, (float)-s, (uint32_t)i);
        }
        sem_topk_sort(&top);
        for (size_t i = 0; i < top.n; i++) out[i] = (sem_scored){docs[h[i].id].block, sc[h[i].id]};
        *nout = top.n;
        maif_free(sc);
        maif_free(h);
    }
out:
    maif_free(docs);
    maif_free(pre);
    sb_stemmer_delete(st);
    return rc;
}
