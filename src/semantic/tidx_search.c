/*
 * tidx_search.c — text queries through the stored index.
 *
 * The first text query on a maif_index walks back from the last block to
 * the latest TIDX block (O(blocks since it was built), as for VIDX) and
 * views it in place. A query then takes its terms' document frequencies
 * from the index, scans exactly the text blocks the index does not hold
 * (those added after it, and the encrypted ones it lists as skipped, when
 * this reader can decrypt them), adds their counts to N, the total length
 * and each df — so the statistics are exactly the scan's, no
 * approximation — and merges the terms' posting lists in document order,
 * scoring each document with the scan's formula. The filters run on the
 * ranked candidates, best first, until k pass (sem_bm25_select). A
 * damaged index is reported on the index (maif_index_info.text_error) and
 * the query, and every later one, falls back to the scan.
 */
#include <libstemmer.h>
#include <stdio.h>
#include <string.h>

#include "semantic/textidx.h"
#include "util/alloc.h"
#include "util/common.h"

struct sem_text_state {
    int64_t block;     /* the TIDX block, or -1 */
    sem_tidx t;        /* valid when block >= 0 and !bad */
    uint8_t *owned;    /* the payload when it could not be used in place */
    int bad;           /* damaged: queries scan */
    char err[400];
};

void sem_text_close(maif_index *ix)
{
    if (!ix || !ix->text) return;
    maif_free(ix->text->owned);
    maif_free(ix->text);
    ix->text = NULL;
}

int sem_text_open(maif_index *ix)
{
    if (ix->text) return MAIF_OK;
    sem_text_state *s = maif_calloc(1, sizeof *s);
    if (!s) return maif_set_last_err(MAIF_ENOMEM, "out of memory");
    s->block = -1;
    ix->text = s;
    maif_reader *r = ix->r;
    for (uint64_t i = maif_reader_count(r); i-- > 0;) {
        maif_block b;
        if (maif_reader_block(r, i, &b) != MAIF_OK || b.type != SEM_TYPE_TIDX) continue;
        s->block = (int64_t)i;
        const uint8_t *p;
        size_t size;
        int rc = sem_block_aligned(r, i, &b, &p, &size, &s->owned);
        if (rc == MAIF_ENOMEM) return maif_set_last_err(rc, "out of memory");
        if (rc) {
            s->bad = 1;
            snprintf(s->err, sizeof s->err, "block %llu: text index cannot be read", (unsigned long long)i);
            return MAIF_OK;
        }
        char err[300];
        if (sem_tidx_view(&s->t, p, size, err, sizeof err) != MAIF_OK) {
            s->bad = 1;
            snprintf(s->err, sizeof s->err, "block %llu: %s", (unsigned long long)i, err);
        } else if (s->t.covered > i) {
            s->bad = 1;
            snprintf(s->err, sizeof s->err, "block %llu: text index covers blocks after itself",
                     (unsigned long long)i);
        }
        return MAIF_OK;
    }
    return MAIF_OK;
}

int sem_text_info(maif_index *ix, int64_t *block, uint64_t *docs, uint64_t *covered, uint64_t *bytes,
                  const char **err)
{
    int rc = sem_text_open(ix);
    if (rc) return rc;
    sem_text_state *s = ix->text;
    *block = s->block;
    *docs = s->block >= 0 && !s->bad ? s->t.ndocs : 0;
    *covered = s->block >= 0 && !s->bad ? s->t.covered : 0;
    *bytes = s->block >= 0 && !s->bad ? s->t.size : 0;
    *err = s->bad ? s->err : NULL;
    return MAIF_OK;
}

typedef struct xdoc { /* a text scanned at query time */
    uint64_t block;
    uint32_t dl;
    uint16_t tf[SEM_QT_MAX];
} xdoc;

typedef struct qstate {
    struct sb_stemmer *st;
    sem_bm25_query q;
    xdoc *x;
    size_t nx, xcap;
    sem_scored *c;
    size_t nc, ccap;
    uint64_t N, total, df[SEM_QT_MAX];
} qstate;

/* Counts text block i (when readable) into the statistics, and keeps it if it matches. */
static int scan_one(maif_reader *r, qstate *qs, uint64_t i)
{
    maif_block b;
    if (maif_reader_block(r, i, &b) != MAIF_OK || b.type != MAIF_TYPE_TEXT) return MAIF_OK;
    const char *t;
    size_t tl;
    char *owned = NULL;
    if (sem_block_text(r, i, &t, &tl, &owned) != MAIF_OK) return MAIF_OK;
    xdoc d;
    d.block = i;
    int any = sem_bm25_count(qs->st, &qs->q, t, tl, &d.dl, d.tf);
    maif_free(owned);
    qs->N++;
    qs->total += d.dl;
    if (!any) return MAIF_OK;
    for (int j = 0; j < qs->q.nq; j++) qs->df[j] += d.tf[j] > 0;
    if (qs->nx == qs->xcap) {
        size_t nc = qs->xcap ? qs->xcap * 2 : 64;
        xdoc *nx = maif_realloc(qs->x, nc * sizeof *nx);
        if (!nx) return MAIF_ENOMEM;
        qs->x = nx;
        qs->xcap = nc;
    }
    qs->x[qs->nx++] = d;
    return MAIF_OK;
}

static int push(qstate *qs, uint64_t block, double score)
{
    if (qs->nc == qs->ccap) {
        size_t nc = qs->ccap ? qs->ccap * 2 : 256;
        sem_scored *c = maif_realloc(qs->c, nc * sizeof *c);
        if (!c) return MAIF_ENOMEM;
        qs->c = c;
        qs->ccap = nc;
    }
    qs->c[qs->nc++] = (sem_scored){block, score};
    return MAIF_OK;
}

/* The query through the index; MAIF_EFORMAT (message in err) on damage. */
static int via_index(maif_index *ix, qstate *qs, const sem_tidx *t, char *err, size_t errsz)
{
    maif_reader *r = ix->r;
    int rc, nq = qs->q.nq;
    /* the texts the index does not hold */
    for (uint32_t i = 0; i < t->nskip; i++) {
        uint64_t blk;
        if ((rc = sem_tidx_skipped(t, i, &blk, err, errsz))) return rc;
        maif_block b;
        if (maif_reader_block(r, blk, &b) == MAIF_OK && (b.type != MAIF_TYPE_TEXT || !b.cipher)) {
            snprintf(err, errsz, "text index: skipped block %llu is not an encrypted text", (unsigned long long)blk);
            return MAIF_EFORMAT; /* a plain text listed here would be counted twice */
        }
        if ((rc = scan_one(r, qs, blk))) return rc;
    }
    uint64_t nb = maif_reader_count(r);
    for (uint64_t i = t->covered; i < nb; i++)
        if ((rc = scan_one(r, qs, i))) return rc;
    /* the terms, their df, and a cursor each */
    sem_tidx_cur cur[SEM_QT_MAX];
    int slot[SEM_QT_MAX], nc = 0; /* cursor -> query term */
    for (int j = 0; j < nq; j++) {
        uint32_t term, df;
        if ((rc = sem_tidx_find(t, qs->q.s[j], qs->q.n[j], &term, err, errsz))) return rc;
        if (term == UINT32_MAX) continue;
        if ((rc = sem_tidx_postings(t, term, &df, &cur[nc], err, errsz))) return rc;
        qs->df[j] += df;
        slot[nc] = j;
        if ((rc = sem_tidx_next(t, &cur[nc], err, errsz)) < 0) return rc;
        nc++;
    }
    qs->N += t->ndocs;
    qs->total += t->total;
    if (qs->N == 0) return MAIF_OK;
    double avgdl = (double)qs->total / (double)qs->N, idf[SEM_QT_MAX];
    for (int j = 0; j < nq; j++) idf[j] = sem_bm25_idf(qs->N, qs->df[j]);
    /* merge the posting lists in document order; on[c]: cursor c holds a posting */
    int on[SEM_QT_MAX];
    for (int c = 0; c < nc; c++) on[c] = 1;
    for (;;) {
        uint32_t ord = UINT32_MAX;
        int live = 0;
        for (int c = 0; c < nc; c++)
            if (on[c] && cur[c].ord < ord) ord = cur[c].ord, live = 1;
        if (!live) break;
        uint16_t tf[SEM_QT_MAX] = {0};
        for (int c = 0; c < nc; c++) {
            if (!on[c] || cur[c].ord != ord) continue;
            tf[slot[c]] = cur[c].tf > UINT16_MAX ? UINT16_MAX : (uint16_t)cur[c].tf;
            if ((rc = sem_tidx_next(t, &cur[c], err, errsz)) < 0) return rc;
            on[c] = rc == 1;
        }
        uint64_t blk;
        uint32_t dl;
        if ((rc = sem_tidx_doc(t, ord, &blk, &dl, err, errsz))) return rc;
        if ((rc = push(qs, blk, sem_bm25_score(tf, nq, idf, dl, avgdl)))) return rc;
    }
    for (size_t i = 0; i < qs->nx; i++)
        if ((rc = push(qs, qs->x[i].block, sem_bm25_score(qs->x[i].tf, nq, idf, qs->x[i].dl, avgdl)))) return rc;
    return MAIF_OK;
}

int sem_text_search(maif_index *ix, const char *query, size_t qlen, sem_block_allow_fn allow, void *ctx, size_t k,
                    sem_scored *out, size_t *nout)
{
    *nout = 0;
    int rc = sem_text_open(ix);
    if (rc) return rc;
    sem_text_state *s = ix->text;
    if (s->block < 0 || s->bad) return sem_bm25_search(ix->r, query, qlen, allow, ctx, k, out, nout);
    qstate *qs = maif_calloc(1, sizeof *qs);
    if (!qs) return maif_set_last_err(MAIF_ENOMEM, "out of memory");
    qs->st = sb_stemmer_new("english", "UTF_8");
    if (!qs->st) {
        maif_free(qs);
        return maif_set_last_err(MAIF_ENOMEM, "BM25: no stemmer");
    }
    sem_bm25_query_parse(qs->st, query, qlen, &qs->q);
    char err[300];
    rc = qs->q.nq ? via_index(ix, qs, &s->t, err, sizeof err) : MAIF_OK;
    if (rc == MAIF_OK) sem_bm25_select(qs->c, qs->nc, allow, ctx, k, out, nout);
    sb_stemmer_delete(qs->st);
    maif_free(qs->x);
    maif_free(qs->c);
    maif_free(qs);
    if (rc == MAIF_EFORMAT) { /* damaged: say so on the index, and scan */
        s->bad = 1;
        snprintf(s->err, sizeof s->err, "block %lld: %s", (long long)s->block, err);
        return sem_bm25_search(ix->r, query, qlen, allow, ctx, k, out, nout);
    }
    if (rc == MAIF_ENOMEM) return maif_set_last_err(rc, "out of memory");
    return rc;
}
