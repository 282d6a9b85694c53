/*
 * hnsw_build.c — builds the graph straight into the VIDX layout (so the
 * bytes written are the bytes searched; no serialise step). Levels are
 * drawn first from a seeded generator, which fixes every node's upper
 * slots before any insertion; insertion is hnswlib's: greedy descent to
 * the node's level, then at each layer a beam search with
 * efConstruction, neighbours chosen by the diversity heuristic, and
 * reverse links shrunk by the same heuristic when a list is full. One
 * thread; deterministic for a given seed and input order.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "semantic/hnsw.h"
#include "util/alloc.h"
#include "util/common.h"

int sem_scratch_begin(sem_scratch *s, uint64_t n);
int sem_hnsw_links(const sem_hnsw *h, uint32_t i, uint32_t l, const uint32_t **ids, uint32_t *count, char *err,
                   size_t errcap);
int sem_hnsw_greedy(const sem_hnsw *h, const sem_kernels *kern, const float *q, uint32_t l, uint32_t *cur,
                    float *curd, char *err, size_t errcap);
int sem_hnsw_layer(const sem_hnsw *h, const sem_kernels *kern, const float *q, uint32_t ep, float epd, size_t ef,
                   uint32_t l, sem_allow_fn allow, void *ctx, sem_scratch *s, size_t *nres, char *err,
                   size_t errcap);

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static int cmp_hit(const void *a, const void *b)
{
    float x = ((const sem_hit *)a)->dist, y = ((const sem_hit *)b)->dist;
    return x < y ? -1 : x > y;
}

typedef struct builder {
    sem_hnsw h;
    uint8_t *buf;
    const sem_kernels *k;
    sem_scratch s;
    sem_hit *tmp;   /* candidates being selected */
    size_t tmpcap;
} builder;

static uint32_t *mlinks(builder *b, uint32_t i, uint32_t l)
{
    const uint32_t *ids;
    uint32_t cnt;
    char err[8];
    (void)sem_hnsw_links(&b->h, i, l, &ids, &cnt, err, sizeof err); /* our own layout: cannot fail */
    return (uint32_t *)(uintptr_t)(ids - 1);
}

static float vdist(builder *b, uint32_t x, uint32_t y)
{
    return sem_dist(b->k, (int)b->h.metric, sem_node_vec(&b->h, x), sem_node_vec(&b->h, y), b->h.dim);
}

/* Keeps at most mmax of c[0..n) (sorted by distance to the base),
 * preferring neighbours not already closer to a kept one. */
static size_t heuristic(builder *b, sem_hit *c, size_t n, size_t mmax)
{
    if (n <= mmax) return n;
    size_t kept = 0;
    for (size_t i = 0; i < n && kept < mmax; i++) {
        int good = 1;
        for (size_t j = 0; j < kept; j++)
            if (vdist(b, c[i].id, c[j].id) < c[i].dist) {
                good = 0;
                break;
            }
        if (good) c[kept++] = c[i];
    }
    return kept;
}

static int ensure_tmp(builder *b, size_t n)
{
    if (n <= b->tmpcap) return MAIF_OK;
    sem_hit *p = maif_realloc(b->tmp, n * sizeof *p);
    if (!p) return MAIF_ENOMEM;
    b->tmp = p;
    b->tmpcap = n;
    return MAIF_OK;
}

static int connect(builder *b, uint32_t q, uint32_t l, sem_hit *sel, size_t nsel)
{
    uint32_t *mine = mlinks(b, q, l);
    mine[0] = (uint32_t)nsel;
    for (size_t i = 0; i < nsel; i++) mine[1 + i] = sel[i].id;
    uint32_t cap = l ? b->h.m : b->h.m0;
    for (size_t i = 0; i < nsel; i++) {
        uint32_t e = sel[i].id;
        uint32_t *lst = mlinks(b, e, l);
        if (lst[0] < cap) {
            lst[1 + lst[0]++] = q;
            continue;
        }
        int rc = ensure_tmp(b, cap + 1);
        if (rc) return rc;
        for (uint32_t j = 0; j < cap; j++) b->tmp[j] = (sem_hit){vdist(b, e, lst[1 + j]), lst[1 + j]};
        b->tmp[cap] = (sem_hit){sel[i].dist, q};
        qsort(b->tmp, cap + 1, sizeof *b->tmp, cmp_hit);
        size_t k = heuristic(b, b->tmp, cap + 1, cap);
        lst[0] = (uint32_t)k;
        for (size_t j = 0; j < k; j++) lst[1 + j] = b->tmp[j].id;
    }
    return MAIF_OK;
}

int sem_hnsw_build(const sem_build_in *in, uint8_t **out, size_t *out_size)
{
    *out = NULL;
    *out_size = 0;
    if (in->n > SEM_VIDX_N_MAX || in->dim == 0 || in->dim > 65536 || in->m < 2 || in->m > SEM_VIDX_M_MAX)
        return maif_set_last_err(MAIF_ELIMIT, "index build: parameters out of range");
    uint32_t m = in->m, m0 = 2 * in->m;
    uint64_t n = in->n, seed = in->seed ? in->seed : 0x5EED;
    uint8_t *level = maif_malloc(n ? (size_t)n : 1);
    if (!level) return maif_set_last_err(MAIF_ENOMEM, "index build: out of memory");
    double ml = 1.0 / log((double)m);
    uint64_t nupper = 0;
    uint32_t maxl = 0, entry = 0;
    for (uint64_t i = 0; i < n; i++) {
        double u = ((double)(rng_next(&seed) >> 11) + 1.0) / 9007199254740993.0; /* (0, 1] */
        double lv = floor(-log(u) * ml);
        uint32_t L = lv > SEM_VIDX_LEVEL_MAX ? SEM_VIDX_LEVEL_MAX : (uint32_t)lv;
        level[i] = (uint8_t)L;
        nupper += L;
    }
    size_t size = sem_vidx_size(n, in->dim, m, m0, nupper);
    if (!size) {
        maif_free(level);
        return maif_set_last_err(MAIF_ELIMIT, "index build: index too large");
    }
    builder b;
    memset(&b, 0, sizeof b);
    b.k = sem_kernels_best();
    b.buf = maif_calloc(1, size);
    if (!b.buf) {
        maif_free(level);
        return maif_set_last_err(MAIF_ENOMEM, "index build: out of memory for %zu bytes", size);
    }
    uint8_t *p = b.buf;
    memcpy(p, SEM_VIDX_MAGIC, 8);
    wr32le(p + 8, 1);
    wr32le(p + 12, in->metric);
    wr32le(p + 16, in->dim);
    wr32le(p + 20, m);
    wr32le(p + 24, m0);
    wr32le(p + 28, in->ef_construction);
    wr64le(p + 32, n);
    wr64le(p + 40, in->covered);
    wr64le(p + 56, nupper);
    char err[256];
    int rc = sem_hnsw_view(&b.h, p, size, err, sizeof err);
    if (rc) goto fail; /* cannot happen: our own header */
    b.h.max_level = SEM_VIDX_LEVEL_MAX; /* bounds only: the descent uses maxl */
    uint64_t slot = 0;
    for (uint64_t i = 0; i < n; i++) {
        float *v = (float *)(void *)(b.buf + SEM_VIDX_HDR + (size_t)i * b.h.rec + 4 * (1 + (size_t)m0));
        memcpy(v, in->rows[i], (size_t)in->dim * sizeof *v);
        if (in->metric == SEM_METRIC_COSINE) sem_normalize(v, in->dim);
        uint8_t *mt = (uint8_t *)(uintptr_t)sem_node_meta(&b.h, (uint32_t)i);
        wr64le(mt, in->block[i]);
        wr64le(mt + 8, in->subject[i]);
        wr32le(mt + 16, in->row[i]);
        mt[20] = level[i];
        mt[21] = in->flags ? in->flags[i] : 0;
        wr32le(mt + 28, (uint32_t)slot);
        slot += level[i];
    }
    size_t ef = in->ef_construction < m ? m : in->ef_construction;
    for (uint64_t ii = 0; ii < n; ii++) {
        uint32_t i = (uint32_t)ii, L = level[i];
        if (i == 0) {
            entry = 0;
            maxl = L;
            continue;
        }
        const float *q = sem_node_vec(&b.h, i);
        uint32_t cur = entry;
        float curd = vdist(&b, i, cur);
        for (uint32_t l = maxl; l > L; l--)
            if ((rc = sem_hnsw_greedy(&b.h, b.k, q, l, &cur, &curd, err, sizeof err))) goto fail;
        for (int32_t l = (int32_t)(L < maxl ? L : maxl); l >= 0; l--) {
            size_t nr;
            if ((rc = sem_hnsw_layer(&b.h, b.k, q, cur, curd, ef, (uint32_t)l, NULL, NULL, &b.s, &nr, err,
                                     sizeof err)))
                goto fail;
            if ((rc = ensure_tmp(&b, nr + 1))) goto fail;
            memcpy(b.tmp, b.s.res, nr * sizeof *b.tmp);
            qsort(b.tmp, nr, sizeof *b.tmp, cmp_hit);
            cur = b.tmp[0].id;
            curd = b.tmp[0].dist;
            size_t k = heuristic(&b, b.tmp, nr, m);
            /* connect copies sel before it reuses tmp for shrinking */
            sem_hit sel[2 * SEM_VIDX_M_MAX];
            memcpy(sel, b.tmp, k * sizeof *sel);
            if ((rc = connect(&b, i, (uint32_t)l, sel, k))) goto fail;
        }
        if (L > maxl) {
            maxl = L;
            entry = i;
        }
    }
    wr32le(p + 48, maxl);
    wr32le(p + 52, entry);
    maif_free(level);
    sem_scratch_free(&b.s);
    maif_free(b.tmp);
    *out = b.buf;
    *out_size = size;
    return MAIF_OK;
fail:
    maif_free(level);
    sem_scratch_free(&b.s);
    maif_free(b.tmp);
    maif_free(b.buf);
    if (rc == MAIF_ENOMEM) return maif_set_last_err(rc, "index build: out of memory");
    return maif_set_last_err(rc, "index build: %s", err);
}
