/*
 * fusion.c — how hybrid search merges its vector list and its BM25 list.
 *
 * Two rules. The default is distribution-based score fusion (DBSF, as
 * Qdrant names it): each list's scores are mapped through that list's own
 * mean and standard deviation, mean − 3σ → 0 and mean + 3σ → 1, over the
 * list's best SEM_FUSE_DEPTH, and a result's fused score is
 * w·vector + text, a list it is missing from adding nothing. Cosine
 * similarities and BM25 scores live on unrelated scales; after the
 * mapping a score says how far a hit stands out from its own list, so a
 * strong embedder's confident hits are not pushed out by the weaker list,
 * which plain rank fusion does (docs/SEMANTIC.md has the WordNet
 * measurements behind the choice). The other rule is reciprocal rank
 * fusion, w/(60 + rank) + 1/(60 + rank), which ignores scores.
 *
 * The merge is by source block. A block can appear more than once in the
 * vector list (the rows of a multi-row block are results of their own);
 * a text hit joins the best-ranked of them. Both lists are sorted copies
 * of small arrays (at most 4 × 10 000 each), so the merge is
 * O((nv + nt) log(nv + nt)).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "semantic/semantic.h"
#include "util/alloc.h"
#include "util/common.h"

#define RRF_K 60.0

_Static_assert(SEM_FUSE_DBSF == MAIF_FUSION_DBSF && SEM_FUSE_RRF == MAIF_FUSION_RRF,
               "MAIF_SEARCH_FUSION values are passed through as they are");

void sem_fuse_dbsf_norm(const double *score, size_t n, double *out)
{
    size_t d = n < SEM_FUSE_DEPTH ? n : SEM_FUSE_DEPTH, m = 0;
    double mean = 0, var = 0;
    for (size_t i = 0; i < d; i++)
        if (isfinite(score[i])) {
            mean += score[i];
            m++;
        }
    if (m) mean /= (double)m;
    for (size_t i = 0; i < d; i++)
        if (isfinite(score[i])) var += (score[i] - mean) * (score[i] - mean);
    double sd = m ? sqrt(var / (double)m) : 0;
    for (size_t i = 0; i < n; i++) {
        double s = score[i];
        if (isnan(s)) out[i] = 0;
        else if (isinf(s)) out[i] = s > 0 ? 1 : 0;
        else if (!(sd > 0) || !isfinite(sd)) out[i] = 0.5; /* all alike: each one is the mean */
        else out[i] = (s - (mean - 3 * sd)) / (6 * sd);
    }
}

/* index into a list, sorted by (block, rank) */
typedef struct by_block {
    uint64_t block;
    size_t rank;
} by_block;

static int cmp_by_block(const void *a, const void *b)
{
    const by_block *x = a, *y = b;
    if (x->block != y->block) return x->block < y->block ? -1 : 1;
    return x->rank < y->rank ? -1 : x->rank > y->rank;
}

static int cmp_fused(const void *a, const void *b)
{
    const sem_fused *x = a, *y = b;
    if (x->fused != y->fused) return x->fused > y->fused ? -1 : 1;
    if (x->block != y->block) return x->block < y->block ? -1 : 1;
    return x->vi < y->vi ? -1 : x->vi > y->vi; /* rows of one block: vector rank */
}

int sem_fuse(int rule, double vweight, const sem_scored *v, size_t nv, const sem_scored *t, size_t nt, sem_fused *out,
             size_t *nout)
{
    *nout = 0;
    if ((rule != SEM_FUSE_DBSF && rule != SEM_FUSE_RRF) || !(vweight > 0) || !isfinite(vweight))
        return maif_set_last_err(MAIF_EINVAL, "fusion: unknown rule %d or bad weight", rule);
    if (nv > SIZE_MAX / 4 / sizeof(double) || nt > SIZE_MAX / 4 / sizeof(double))
        return maif_set_last_err(MAIF_ELIMIT, "fusion: lists too long");
    size_t nmax = nv > nt ? nv : nt;
    double *sc = maif_malloc((nmax ? nmax : 1) * sizeof *sc), *nv_s = maif_malloc((nv ? nv : 1) * sizeof *nv_s),
           *nt_s = maif_malloc((nt ? nt : 1) * sizeof *nt_s);
    by_block *vb = maif_malloc((nv ? nv : 1) * sizeof *vb);
    if (!sc || !nv_s || !nt_s || !vb) {
        maif_free(sc);
        maif_free(nv_s);
        maif_free(nt_s);
        maif_free(vb);
        return maif_set_last_err(MAIF_ENOMEM, "out of memory");
    }
    if (rule == SEM_FUSE_DBSF) {
        for (size_t i = 0; i < nv; i++) sc[i] = v[i].score;
        sem_fuse_dbsf_norm(sc, nv, nv_s);
        for (size_t i = 0; i < nt; i++) sc[i] = t[i].score;
        sem_fuse_dbsf_norm(sc, nt, nt_s);
    } else {
        for (size_t i = 0; i < nv; i++) nv_s[i] = 1.0 / (RRF_K + (double)(i + 1));
        for (size_t i = 0; i < nt; i++) nt_s[i] = 1.0 / (RRF_K + (double)(i + 1));
    }
    size_t n = 0;
    for (size_t i = 0; i < nv; i++) {
        out[n++] = (sem_fused){v[i].block, vweight * nv_s[i], (int64_t)i, -1};
        vb[i] = (by_block){v[i].block, i};
    }
    qsort(vb, nv, sizeof *vb, cmp_by_block);
    for (size_t i = 0; i < nt; i++) {
        /* the first (best-ranked) vector entry of this block, if any */
        size_t lo = 0, hi = nv;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (vb[mid].block < t[i].block) lo = mid + 1;
            else hi = mid;
        }
        if (lo < nv && vb[lo].block == t[i].block && out[vb[lo].rank].ti < 0) {
            out[vb[lo].rank].fused += nt_s[i];
            out[vb[lo].rank].ti = (int64_t)i;
        } else {
            out[n++] = (sem_fused){t[i].block, nt_s[i], -1, (int64_t)i};
        }
    }
    qsort(out, n, sizeof *out, cmp_fused);
    *nout = n;
    maif_free(sc);
    maif_free(nv_s);
    maif_free(nt_s);
    maif_free(vb);
    return MAIF_OK;
}
