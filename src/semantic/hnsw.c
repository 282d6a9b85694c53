/*
 * hnsw.c — reading and searching the HNSW graph of a VIDX payload in
 * place (Malkov & Yashunin; the search loop follows hnswlib's so that the
 * two are compared on equal terms). Nothing is loaded: the view holds
 * pointers into the payload, so opening costs the same at any size.
 *
 * Hostile input: sem_hnsw_view checks every header field and that the
 * payload has exactly the size those fields imply (all products checked);
 * per-node data is checked where it is read: a list count above its
 * capacity, a neighbour id >= n, a level above the header's, an upper slot
 * past nupper all end the search with MAIF_EFORMAT naming the node. Loops
 * in the graph are harmless: the visited tags stop revisits at layer 0 and
 * the greedy descent above moves only to strictly closer nodes.
 */
#include <stdio.h>
#include <string.h>

#include "semantic/hnsw.h"
#include "util/alloc.h"
#include "util/common.h"

size_t sem_vidx_size(uint32_t version, uint64_t n, uint32_t dim, uint32_t m, uint32_t m0, uint64_t nupper,
                     uint32_t quant, uint32_t pq_m, uint64_t nsrc)
{
    uint64_t rec, nodes, meta, up, total, params = 0;
    if (quant == SEM_QUANT_INT8) {
        rec = (4 * (1 + (uint64_t)m0) + dim + 3) & ~(uint64_t)3;
        params = 8 * (uint64_t)dim;
    } else if (quant == SEM_QUANT_PQ) {
        rec = (4 * (1 + (uint64_t)m0) + pq_m + 3) & ~(uint64_t)3;
        params = 4 * (uint64_t)SEM_PQ_K * dim; /* dim <= 65536: no overflow */
    } else if (!mul_ok(4, 1 + (uint64_t)m0 + dim, &rec)) {
        return 0;
    }
    if (!mul_ok(n, rec, &nodes)) return 0;
    if (version == 1) {
        if (!mul_ok(n, SEM_VIDX_META, &meta)) return 0;
    } else {
        uint64_t sm;
        if (n > UINT64_MAX / 8 || !mul_ok(nsrc, SEM_VIDX_SRC, &sm) || !add_ok(align8(4 * n), sm, &meta)) return 0;
    }
    if (!mul_ok(nupper, 4 * (1 + (uint64_t)m), &up)) return 0;
    if (nodes > UINT64_MAX - 8 || !add_ok(SEM_VIDX_HDR + params, align8(nodes), &total)) return 0;
    if (!add_ok(total, meta, &total) || !add_ok(total, up, &total)) return 0;
    if (total > SIZE_MAX) return 0;
    return (size_t)total;
}

int sem_node_info(const sem_hnsw *h, uint32_t i, sem_node_ref *out)
{
    if (h->version == 1) {
        const uint8_t *mt = h->meta + (size_t)i * SEM_VIDX_META;
        out->block = rd64le(mt);
        out->subject = rd64le(mt + 8);
        out->row = rd32le(mt + 16);
        out->flags = mt[21];
        return MAIF_OK;
    }
    /* the last source whose first node is <= i; the table is sorted when
     * well formed, and the search ends in log2(nsrc) steps either way */
    uint64_t lo = 0, hi = h->nsrc; /* answer in [lo, hi) */
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (rd32le(h->src + mid * SEM_VIDX_SRC + 16) <= i) lo = mid;
        else hi = mid;
    }
    if (h->nsrc == 0) return MAIF_EFORMAT;
    const uint8_t *e = h->src + lo * SEM_VIDX_SRC;
    uint32_t first = rd32le(e + 16);
    if (first > i) return MAIF_EFORMAT;
    out->block = rd64le(e);
    out->subject = rd64le(e + 8);
    out->row = i - first;
    out->flags = e[20];
    return MAIF_OK;
}

int sem_query_prepare(const sem_hnsw *h, const float *q, sem_scratch *s, sem_query *qc)
{
    qc->q = q;
    qc->aux = NULL;
    qc->c0 = 0;
    if (h->quant == SEM_QUANT_NONE) return MAIF_OK;
    size_t need = h->quant == SEM_QUANT_PQ ? (size_t)h->pq_m * SEM_PQ_K : h->dim;
    if (s->auxcap < need) {
        float *a = maif_realloc(s->aux, need * sizeof *a);
        if (!a) return MAIF_ENOMEM;
        s->aux = a;
        s->auxcap = need;
    }
    if (h->quant == SEM_QUANT_PQ) {
        sem_pq_table(h->pqcb, h->dim, h->pq_m, (int)h->metric, q, s->aux, &qc->c0);
        qc->aux = s->aux;
        return MAIF_OK;
    }
    double c0 = 0;
    for (uint32_t d = 0; d < h->dim; d++) {
        if (h->metric == SEM_METRIC_L2) {
            s->aux[d] = q[d] - h->qlo[d];
        } else {
            s->aux[d] = q[d] * h->qscale[d];
            c0 += (double)q[d] * h->qlo[d];
        }
    }
    qc->aux = s->aux;
    qc->c0 = (float)c0;
    return MAIF_OK;
}

int sem_hnsw_view(sem_hnsw *h, const uint8_t *p, size_t size, char *err, size_t errcap)
{
    memset(h, 0, sizeof *h);
#define BAD(...) (snprintf(err, errcap, __VA_ARGS__), MAIF_EFORMAT)
    if (size < SEM_VIDX_HDR) return BAD("vector index: %zu bytes, shorter than its %u-byte header", size, SEM_VIDX_HDR);
    if (((uintptr_t)p & 3) != 0) return BAD("vector index: payload not 4-byte aligned");
    if (memcmp(p, SEM_VIDX_MAGIC, 8) != 0) return BAD("vector index: bad magic");
    h->version = rd32le(p + 8);
    if (h->version != 1 && h->version != 2) return BAD("vector index: version %u is not 1 or 2", h->version);
    h->metric = rd32le(p + 12);
    h->dim = rd32le(p + 16);
    h->m = rd32le(p + 20);
    h->m0 = rd32le(p + 24);
    h->ef_construction = rd32le(p + 28);
    h->n = rd64le(p + 32);
    h->covered = rd64le(p + 40);
    h->max_level = rd32le(p + 48);
    h->entry = rd32le(p + 52);
    h->nupper = rd64le(p + 56);
    h->quant = rd32le(p + 64);
    if (h->metric < SEM_METRIC_COSINE || h->metric > SEM_METRIC_IP) return BAD("vector index: unknown metric %u", h->metric);
    if (h->dim == 0 || h->dim > 65536) return BAD("vector index: dimension %u out of range [1, 65536]", h->dim);
    if (h->m < 2 || h->m > SEM_VIDX_M_MAX) return BAD("vector index: M %u out of range [2, %u]", h->m, SEM_VIDX_M_MAX);
    if (h->m0 < h->m || h->m0 > 2 * SEM_VIDX_M_MAX) return BAD("vector index: M0 %u out of range [M, %u]", h->m0, 2 * SEM_VIDX_M_MAX);
    if (h->n > SEM_VIDX_N_MAX) return BAD("vector index: %llu vectors, more than the limit", (unsigned long long)h->n);
    if (h->max_level > SEM_VIDX_LEVEL_MAX) return BAD("vector index: max level %u > %u", h->max_level, SEM_VIDX_LEVEL_MAX);
    if (h->n ? h->entry >= h->n : h->entry != 0) return BAD("vector index: entry point %u out of range", h->entry);
    if (h->nupper > h->n * (uint64_t)SEM_VIDX_LEVEL_MAX) return BAD("vector index: %llu upper lists for %llu nodes", (unsigned long long)h->nupper, (unsigned long long)h->n);
    if (h->quant > SEM_QUANT_PQ) return BAD("vector index: quantisation %u not supported", h->quant);
    size_t rsv = 68; /* the first reserved byte */
    if (h->quant == SEM_QUANT_PQ) {
        h->pq_m = rd32le(p + 68);
        if (rd32le(p + 72) != SEM_PQ_VERSION) return BAD("vector index: PQ layout version %u is not %u", rd32le(p + 72), SEM_PQ_VERSION);
        if (rd32le(p + 76) != SEM_PQ_K) return BAD("vector index: PQ with %u centroids, not %u", rd32le(p + 76), SEM_PQ_K);
        if (h->pq_m == 0 || h->pq_m > h->dim || h->pq_m > SEM_PQ_M_MAX)
            return BAD("vector index: %u PQ sub-spaces out of range [1, min(dim, %u)]", h->pq_m, SEM_PQ_M_MAX);
        rsv = 80;
    }
    if (!all_zero(p + rsv, 80 - rsv)) return BAD("vector index: reserved header bytes not zero");
    rsv = 80;
    if (h->version == 2) {
        h->nsrc = rd64le(p + 80);
        if (h->nsrc > h->n || (h->n > 0 && h->nsrc == 0))
            return BAD("vector index: %llu sources for %llu nodes", (unsigned long long)h->nsrc, (unsigned long long)h->n);
        rsv = 88;
    }
    if (!all_zero(p + rsv, SEM_VIDX_HDR - rsv)) return BAD("vector index: reserved header bytes not zero");
    size_t want = sem_vidx_size(h->version, h->n, h->dim, h->m, h->m0, h->nupper, h->quant, h->pq_m, h->nsrc);
    if (want == 0 || want != size)
        return BAD("vector index: payload is %zu bytes, its header implies %zu", size, want);
    h->base = p;
    h->size = size;
    size_t params = 0;
    if (h->quant == SEM_QUANT_INT8) {
        h->rec = (4 * (1 + (size_t)h->m0) + h->dim + 3) & ~(size_t)3;
        params = 8 * (size_t)h->dim;
        h->qlo = (const float *)(const void *)(p + SEM_VIDX_HDR);
        h->qscale = h->qlo + h->dim;
    } else if (h->quant == SEM_QUANT_PQ) {
        h->rec = (4 * (1 + (size_t)h->m0) + h->pq_m + 3) & ~(size_t)3;
        params = 4 * (size_t)SEM_PQ_K * h->dim;
        h->pqcb = (const float *)(const void *)(p + SEM_VIDX_HDR);
    } else {
        h->rec = 4 * (1 + (size_t)h->m0 + h->dim);
    }
    h->nodes = p + SEM_VIDX_HDR + params;
    const uint8_t *info = h->nodes + align8((uint64_t)h->n * h->rec);
    if (h->version == 1) {
        h->meta = info;
        h->upper = info + (size_t)h->n * SEM_VIDX_META;
    } else {
        h->uslot = (const uint32_t *)(const void *)info;
        h->src = info + align8(4 * (uint64_t)h->n);
        h->upper = h->src + (size_t)h->nsrc * SEM_VIDX_SRC;
    }
    return MAIF_OK;
#undef BAD
}

/* The list of node i at layer l: its count (checked against the layer's
 * capacity) and ids (each checked by the caller as it is used). */
static int links(const sem_hnsw *h, uint32_t i, uint32_t l, const uint32_t **ids, uint32_t *count, char *err,
                 size_t errcap)
{
    const uint32_t *p;
    uint32_t cap;
    if (l == 0) {
        p = (const uint32_t *)(const void *)(h->nodes + (size_t)i * h->rec);
        cap = h->m0;
        uint32_t c0 = sem_node_count0(h, i);
        if (c0 > cap) {
            snprintf(err, errcap, "vector index: node %u layer 0: list size %u > %u", i, c0, cap);
            return MAIF_EFORMAT;
        }
        *count = c0;
        *ids = p + 1;
        return MAIF_OK;
    } else {
        uint32_t level = sem_node_level(h, i), start = sem_node_upper(h, i);
        if (level > h->max_level) {
            snprintf(err, errcap, "vector index: node %u has level %u > max level %u", i, level, h->max_level);
            return MAIF_EFORMAT;
        }
        if (l > level) { /* a neighbour listed above its own level: treat as no links there */
            *count = 0;
            *ids = NULL;
            return MAIF_OK;
        }
        uint64_t slot = (uint64_t)start + (l - 1);
        if (slot >= h->nupper) {
            snprintf(err, errcap, "vector index: node %u: upper list %llu past the %llu stored", i,
                     (unsigned long long)slot, (unsigned long long)h->nupper);
            return MAIF_EFORMAT;
        }
        p = (const uint32_t *)(const void *)(h->upper + slot * 4 * (1 + (size_t)h->m));
        cap = h->m;
    }
    if (p[0] > cap) {
        snprintf(err, errcap, "vector index: node %u layer %u: list size %u > %u", i, l, p[0], cap);
        return MAIF_EFORMAT;
    }
    *count = p[0];
    *ids = p + 1;
    return MAIF_OK;
}

void sem_scratch_free(sem_scratch *s)
{
    maif_free(s->tag);
    maif_free(s->cand);
    maif_free(s->res);
    maif_free(s->aux);
    memset(s, 0, sizeof *s);
}

int sem_hits_reserve(sem_hit **a, size_t *cap, size_t need)
{
    if (need <= *cap) return MAIF_OK;
    size_t nc = *cap ? *cap : 256;
    while (nc < need) nc *= 2;
    sem_hit *p = maif_realloc(*a, nc * sizeof *p);
    if (!p) return MAIF_ENOMEM;
    *a = p;
    *cap = nc;
    return MAIF_OK;
}

int sem_scratch_begin(sem_scratch *s, uint64_t n)
{
    if (s->ntag < n) {
        uint32_t *t = maif_calloc((size_t)n, sizeof *t);
        if (!t) return MAIF_ENOMEM;
        maif_free(s->tag);
        s->tag = t;
        s->ntag = (size_t)n;
        s->gen = 0;
    }
    if (++s->gen == 0) {
        memset(s->tag, 0, s->ntag * sizeof *s->tag);
        s->gen = 1;
    }
    return MAIF_OK;
}

/* Greedy descent from *cur at layer l: moves to strictly closer nodes. */
static int greedy(const sem_hnsw *h, const sem_kernels *kern, const sem_query *q, uint32_t l, uint32_t *cur,
                  float *curd, char *err, size_t errcap)
{
    for (int changed = 1; changed;) {
        changed = 0;
        const uint32_t *ids;
        uint32_t cnt;
        int rc = links(h, *cur, l, &ids, &cnt, err, errcap);
        if (rc) return rc;
        for (uint32_t j = 0; j < cnt; j++) {
            uint32_t e = ids[j];
            if (e >= h->n) {
                snprintf(err, errcap, "vector index: node %u links to %u, past the %llu nodes", *cur, e,
                         (unsigned long long)h->n);
                return MAIF_EFORMAT;
            }
            float d = sem_node_dist(h, kern, q, e);
            if (d < *curd) {
                *curd = d;
                *cur = e;
                changed = 1;
            }
        }
    }
    return MAIF_OK;
}

/* Beam search at layer l from ep; leaves up to ef allowed results as a
 * max-heap in s->res[0..*nres). */
static int layer(const sem_hnsw *h, const sem_kernels *kern, const sem_query *q, uint32_t ep, float epd, size_t ef,
                 uint32_t l, sem_allow_fn allow, void *ctx, sem_scratch *s, size_t *nres, char *err, size_t errcap)
{
    int rc = sem_scratch_begin(s, h->n);
    if (rc) return rc;
    if ((rc = sem_hits_reserve(&s->res, &s->rcap, ef + 2))) return rc;
    if ((rc = sem_hits_reserve(&s->cand, &s->ccap, 64))) return rc;
    size_t nc = 0, nr = 0;
    s->tag[ep] = s->gen;
    sem_heap_push(s->cand, &nc, -epd, ep);
    float bound = __builtin_inff();
    if (!allow || allow(ctx, ep)) {
        sem_heap_push(s->res, &nr, epd, ep);
        bound = epd;
    }
    while (nc) {
        float cd = -s->cand[0].dist;
        uint32_t c = s->cand[0].id;
        if (cd > bound && (nr >= ef || !allow)) break;
        sem_heap_pop(s->cand, &nc);
        const uint32_t *ids;
        uint32_t cnt;
        if ((rc = links(h, c, l, &ids, &cnt, err, errcap))) return rc;
        if ((rc = sem_hits_reserve(&s->cand, &s->ccap, nc + cnt + 1))) return rc;
        for (uint32_t j = 0; j < cnt; j++) {
            uint32_t e = ids[j];
            if (e >= h->n) {
                snprintf(err, errcap, "vector index: node %u links to %u, past the %llu nodes", c, e,
                         (unsigned long long)h->n);
                return MAIF_EFORMAT;
            }
            if (j + 1 < cnt && ids[j + 1] < h->n) __builtin_prefetch(sem_node_vec(h, ids[j + 1]));
            if (s->tag[e] == s->gen) continue;
            s->tag[e] = s->gen;
            float d = sem_node_dist(h, kern, q, e);
            if (nr < ef || d < bound) {
                sem_heap_push(s->cand, &nc, -d, e);
                if (!allow || allow(ctx, e)) {
                    sem_heap_push(s->res, &nr, d, e);
                    if (nr > ef) sem_heap_pop(s->res, &nr);
                    bound = s->res[0].dist;
                }
            }
        }
    }
    *nres = nr;
    return MAIF_OK;
}

int sem_hnsw_search(const sem_hnsw *h, const sem_kernels *kern, const float *q, size_t k, size_t ef,
                    sem_allow_fn allow, void *ctx, sem_scratch *s, sem_hit *out, size_t *nout, char *err,
                    size_t errcap)
{
    *nout = 0;
    if (h->n == 0 || k == 0) return MAIF_OK;
    if (ef < k) ef = k;
    sem_query qc;
    int rc = sem_query_prepare(h, q, s, &qc);
    if (rc) return rc;
    uint32_t cur = h->entry;
    float curd = sem_node_dist(h, kern, &qc, cur);
    for (uint32_t l = h->max_level; l >= 1; l--)
        if ((rc = greedy(h, kern, &qc, l, &cur, &curd, err, errcap))) return rc;
    size_t nr;
    if ((rc = layer(h, kern, &qc, cur, curd, ef, 0, allow, ctx, s, &nr, err, errcap))) return rc;
    while (nr > k) sem_heap_pop(s->res, &nr);
    size_t n = nr;
    while (nr) { /* pops worst first: fill from the back */
        out[nr - 1] = s->res[0];
        sem_heap_pop(s->res, &nr);
    }
    *nout = n;
    return MAIF_OK;
}
