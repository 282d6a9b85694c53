/*
 * hnsw_build.c — builds the graph straight into the VIDX layout (so the
 * bytes written are the bytes searched; no serialise step). Levels are
 * drawn first from a seeded generator, which fixes every node's upper
 * slots before any insertion; insertion is hnswlib's: greedy descent to
 * the node's level, then at each layer a beam search with
 * efConstruction, neighbours chosen by the diversity heuristic, and
 * reverse links shrunk by the same heuristic when a list is full.
 *
 * Threads: nodes are inserted by maif_pool_run's threads in increasing
 * order. Each node has a one-byte spin lock guarding its lists (readers
 * copy a list under it; writers change it under it), and one global lock
 * guards the entry point and top level; a node that raises the top level
 * holds it for its whole insertion, as hnswlib does. With one thread the
 * result is deterministic for a given seed and input order; with more it
 * depends on scheduling (recall is the same in distribution).
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "semantic/hnsw.h"
#include "util/alloc.h"
#include "util/common.h"
#include "util/pool.h"

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
    const uint8_t *level;
    uint8_t *lock;          /* per node spin locks (threads > 1), else NULL */
    pthread_mutex_t glock;  /* entry and maxl */
    uint32_t entry, maxl;
    size_t ef;
    int rc;                 /* first error (MAIF_ENOMEM), read after the pool */
} builder;

typedef struct worker {     /* one per thread: maif_pool_run scratch slot */
    sem_scratch s;
    sem_hit *tmp, *sel;
    size_t tmpcap;
    uint32_t *copy;         /* a list copied under its lock */
} worker;

static inline void lock(builder *b, uint32_t i)
{
    if (!b->lock) return;
    while (__atomic_test_and_set(&b->lock[i], __ATOMIC_ACQUIRE))
        while (__atomic_load_n(&b->lock[i], __ATOMIC_RELAXED)) maif_cpu_relax();
}
static inline void unlock(builder *b, uint32_t i)
{
    if (b->lock) __atomic_clear(&b->lock[i], __ATOMIC_RELEASE);
}

/* Node i's 32 bytes of node info in the version-1 layout the builder
 * works in (to_v2 rewrites it at the end). */
static inline const uint8_t *meta_of(const sem_hnsw *h, uint32_t i)
{
    return h->meta + (size_t)i * SEM_VIDX_META;
}

/* Node i's list on layer l (our own layout: always in range). */
static uint32_t *mlinks(builder *b, uint32_t i, uint32_t l)
{
    if (l == 0) return (uint32_t *)(void *)(b->buf + SEM_VIDX_HDR + (size_t)i * b->h.rec);
    const uint8_t *mt = meta_of(&b->h, i);
    uint64_t slot = (uint64_t)rd32le(mt + 28) + (l - 1);
    return (uint32_t *)(void *)(b->buf + (size_t)(b->h.upper - b->buf) + slot * 4 * (1 + (size_t)b->h.m));
}

/* Copies node i's list on layer l into w->copy; returns its count. */
static uint32_t read_list(builder *b, worker *w, uint32_t i, uint32_t l)
{
    if (l > b->level[i]) return 0;
    uint32_t *p = mlinks(b, i, l);
    lock(b, i);
    uint32_t n = p[0];
    memcpy(w->copy, p + 1, n * sizeof *p);
    unlock(b, i);
    return n;
}

static inline float vd(builder *b, const float *q, uint32_t y)
{
    return sem_dist(b->k, (int)b->h.metric, q, sem_node_vec(&b->h, y), b->h.dim);
}

static void greedy(builder *b, worker *w, const float *q, uint32_t l, uint32_t *cur, float *curd)
{
    for (int changed = 1; changed;) {
        changed = 0;
        uint32_t n = read_list(b, w, *cur, l);
        for (uint32_t j = 0; j < n; j++) {
            float d = vd(b, q, w->copy[j]);
            if (d < *curd) {
                *curd = d;
                *cur = w->copy[j];
                changed = 1;
            }
        }
    }
}


/* The beam search of hnsw.c, reading lists under their locks. Leaves up
 * to ef results as a max-heap in w->s.res[0..*nres). */
static int layer(builder *b, worker *w, const float *q, uint32_t ep, float epd, uint32_t l, size_t *nres)
{
    sem_scratch *s = &w->s;
    int rc = sem_scratch_begin(s, b->h.n);
    if (!rc) rc = sem_hits_reserve(&s->res, &s->rcap, b->ef + 2);
    if (!rc) rc = sem_hits_reserve(&s->cand, &s->ccap, 64);
    if (rc) return rc;
    size_t nc = 0, nr = 0;
    s->tag[ep] = s->gen;
    sem_heap_push(s->cand, &nc, -epd, ep);
    sem_heap_push(s->res, &nr, epd, ep);
    float bound = epd;
    while (nc) {
        float cd = -s->cand[0].dist;
        uint32_t c = s->cand[0].id;
        if (cd > bound) break;
        sem_heap_pop(s->cand, &nc);
        uint32_t cnt = read_list(b, w, c, l);
        if ((rc = sem_hits_reserve(&s->cand, &s->ccap, nc + cnt + 1))) return rc;
        for (uint32_t j = 0; j < cnt; j++) {
            uint32_t e = w->copy[j];
            if (s->tag[e] == s->gen) continue;
            s->tag[e] = s->gen;
            float d = vd(b, q, e);
            if (nr < b->ef || d < bound) {
                sem_heap_push(s->cand, &nc, -d, e);
                sem_heap_push(s->res, &nr, d, e);
                if (nr > b->ef) sem_heap_pop(s->res, &nr);
                bound = s->res[0].dist;
            }
        }
    }
    *nres = nr;
    return MAIF_OK;
}

/* Keeps at most mmax of c[0..n) (sorted by distance to the base),
 * preferring neighbours not already closer to a kept one. */
static size_t heuristic(builder *b, sem_hit *c, size_t n, size_t mmax)
{
    if (n <= mmax) return n;
    size_t kept = 0;
    for (size_t i = 0; i < n && kept < mmax; i++) {
        int good = 1;
        const float *ci = sem_node_vec(&b->h, c[i].id);
        for (size_t j = 0; j < kept; j++)
            if (vd(b, ci, c[j].id) < c[i].dist) {
                good = 0;
                break;
            }
        if (good) c[kept++] = c[i];
    }
    return kept;
}

static int ensure_tmp(worker *w, size_t n)
{
    if (n <= w->tmpcap) return MAIF_OK;
    sem_hit *p = maif_realloc(w->tmp, n * sizeof *p);
    if (!p) return MAIF_ENOMEM;
    w->tmp = p;
    w->tmpcap = n;
    return MAIF_OK;
}

static int connect(builder *b, worker *w, uint32_t q, uint32_t l, const sem_hit *sel, size_t nsel)
{
    uint32_t *mine = mlinks(b, q, l);
    lock(b, q);
    mine[0] = (uint32_t)nsel;
    for (size_t i = 0; i < nsel; i++) mine[1 + i] = sel[i].id;
    unlock(b, q);
    uint32_t cap = l ? b->h.m : b->h.m0;
    int rc = ensure_tmp(w, cap + 1);
    if (rc) return rc;
    for (size_t i = 0; i < nsel; i++) {
        uint32_t e = sel[i].id;
        uint32_t *lst = mlinks(b, e, l);
        lock(b, e);
        if (lst[0] < cap) {
            lst[1 + lst[0]++] = q;
        } else {
            const float *ev = sem_node_vec(&b->h, e);
            for (uint32_t j = 0; j < cap; j++) w->tmp[j] = (sem_hit){vd(b, ev, lst[1 + j]), lst[1 + j]};
            w->tmp[cap] = (sem_hit){sel[i].dist, q};
            qsort(w->tmp, cap + 1, sizeof *w->tmp, cmp_hit);
            size_t k = heuristic(b, w->tmp, cap + 1, cap);
            lst[0] = (uint32_t)k;
            for (size_t j = 0; j < k; j++) lst[1 + j] = w->tmp[j].id;
        }
        unlock(b, e);
    }
    return MAIF_OK;
}

static int insert(builder *b, worker *w, uint32_t i)
{
    uint32_t L = b->level[i];
    pthread_mutex_lock(&b->glock);
    uint32_t entry = b->entry, maxl = b->maxl;
    int holding = L > maxl; /* a new top: keep the lock for the whole insertion */
    if (!holding) pthread_mutex_unlock(&b->glock);
    const float *q = sem_node_vec(&b->h, i);
    uint32_t cur = entry;
    float curd = vd(b, q, cur);
    int rc = MAIF_OK;
    for (uint32_t l = maxl; l > L; l--) greedy(b, w, q, l, &cur, &curd);
    for (int32_t l = (int32_t)(L < maxl ? L : maxl); l >= 0 && !rc; l--) {
        size_t nr;
        if ((rc = layer(b, w, q, cur, curd, (uint32_t)l, &nr))) break;
        if ((rc = ensure_tmp(w, nr + b->h.m0 + 2))) break;
        memcpy(w->tmp, w->s.res, nr * sizeof *w->tmp);
        qsort(w->tmp, nr, sizeof *w->tmp, cmp_hit);
        cur = w->tmp[0].id;
        curd = w->tmp[0].dist;
        size_t k = heuristic(b, w->tmp, nr, b->h.m);
        memcpy(w->sel, w->tmp, k * sizeof *w->sel); /* connect reuses tmp */
        rc = connect(b, w, i, (uint32_t)l, w->sel, k);
    }
    if (holding) {
        b->entry = i;
        b->maxl = L;
        pthread_mutex_unlock(&b->glock);
    }
    return rc;
}

static void work(void *ctx, uint64_t item, void *scratch)
{
    builder *b = ctx;
    worker *w = scratch;
    if (__atomic_load_n(&b->rc, __ATOMIC_RELAXED)) return;
    if (!w->copy) {
        w->copy = maif_malloc((2 * SEM_VIDX_M_MAX + 1) * sizeof *w->copy);
        w->sel = maif_malloc((2 * SEM_VIDX_M_MAX + 1) * sizeof *w->sel);
        if (!w->copy || !w->sel) {
            __atomic_store_n(&b->rc, MAIF_ENOMEM, __ATOMIC_RELAXED);
            return;
        }
    }
    int rc = insert(b, w, (uint32_t)(item + 1));
    if (rc) __atomic_store_n(&b->rc, rc, __ATOMIC_RELAXED);
}

/* Rewrites a float index (h over fbuf, which it frees) with 8-bit codes:
 * per dimension lo = min and step = (max - min) / 255, code =
 * round((v - lo) / step). The graph is the one built on the floats. */
static int to_int8(const sem_hnsw *h, uint8_t *fbuf, uint8_t **out, size_t *out_size)
{
    size_t qsize = sem_vidx_size(1, h->n, h->dim, h->m, h->m0, h->nupper, SEM_QUANT_INT8, 0, 0);
    uint8_t *q = qsize ? maif_calloc(1, qsize) : NULL;
    float *lo = maif_malloc(2 * (size_t)h->dim * sizeof *lo);
    if (!q || !lo) {
        maif_free(q);
        maif_free(lo);
        maif_free(fbuf);
        return maif_set_last_err(MAIF_ENOMEM, "index build: out of memory");
    }
    float *hi = lo + h->dim;
    for (uint32_t d = 0; d < h->dim; d++) {
        lo[d] = __builtin_inff();
        hi[d] = -__builtin_inff();
    }
    for (uint64_t i = 0; i < h->n; i++) {
        const float *v = sem_node_vec(h, (uint32_t)i);
        for (uint32_t d = 0; d < h->dim; d++) {
            if (v[d] < lo[d]) lo[d] = v[d];
            if (v[d] > hi[d]) hi[d] = v[d];
        }
    }
    memcpy(q, fbuf, SEM_VIDX_HDR);
    wr32le(q + 64, SEM_QUANT_INT8);
    float *plo = (float *)(void *)(q + SEM_VIDX_HDR), *pst = plo + h->dim;
    for (uint32_t d = 0; d < h->dim; d++) {
        plo[d] = h->n ? lo[d] : 0.0f;
        pst[d] = h->n && hi[d] > lo[d] ? (hi[d] - lo[d]) / 255.0f : 0.0f;
    }
    size_t qrec = (4 * (1 + (size_t)h->m0) + h->dim + 3) & ~(size_t)3;
    uint8_t *nodes = q + SEM_VIDX_HDR + 8 * (size_t)h->dim;
    for (uint64_t i = 0; i < h->n; i++) {
        uint8_t *dst = nodes + (size_t)i * qrec;
        memcpy(dst, h->nodes + (size_t)i * h->rec, 4 * (1 + (size_t)h->m0));
        const float *v = sem_node_vec(h, (uint32_t)i);
        for (uint32_t d = 0; d < h->dim; d++) {
            float c = pst[d] > 0 ? (v[d] - plo[d]) / pst[d] + 0.5f : 0.0f;
            dst[4 * (1 + (size_t)h->m0) + d] = (uint8_t)(c < 0 ? 0 : c > 255 ? 255 : (int)c);
        }
    }
    uint8_t *qmeta = nodes + align8((uint64_t)h->n * qrec);
    size_t tail = h->size - (size_t)(h->meta - h->base); /* node info and upper lists, unchanged */
    memcpy(qmeta, h->meta, tail);
    maif_free(lo);
    maif_free(fbuf);
    *out = q;
    *out_size = qsize;
    return MAIF_OK;
}

/* Rewrites a float index (h over fbuf, which it frees) with PQ codes of
 * pq_m bytes: codebooks trained on the index's own (normalised) vectors,
 * every vector encoded. The graph is the one built on the floats. */
static int to_pq(const sem_hnsw *h, uint8_t *fbuf, uint32_t pq_m, uint64_t seed, unsigned threads, uint8_t **out,
                 size_t *out_size)
{
    size_t qsize = sem_vidx_size(1, h->n, h->dim, h->m, h->m0, h->nupper, SEM_QUANT_PQ, pq_m, 0);
    uint8_t *q = qsize ? maif_calloc(1, qsize) : NULL;
    if (!q) {
        maif_free(fbuf);
        return maif_set_last_err(qsize ? MAIF_ENOMEM : MAIF_ELIMIT, "index build: out of memory");
    }
    float *cb = (float *)(void *)(q + SEM_VIDX_HDR);
    size_t stride = h->rec / 4; /* float records: 4 * (1 + m0 + dim) bytes */
    if (h->n) {
        int rc = sem_pq_train(sem_node_vec(h, 0), (size_t)h->n, stride, h->dim, pq_m, SEM_PQ_ITERS, seed, threads, cb);
        if (rc) {
            maif_free(q);
            maif_free(fbuf);
            return rc;
        }
    }
    memcpy(q, fbuf, SEM_VIDX_HDR);
    wr32le(q + 64, SEM_QUANT_PQ);
    wr32le(q + 68, pq_m);
    wr32le(q + 72, SEM_PQ_VERSION);
    wr32le(q + 76, SEM_PQ_K);
    size_t qrec = (4 * (1 + (size_t)h->m0) + pq_m + 3) & ~(size_t)3;
    uint8_t *nodes = q + SEM_VIDX_HDR + 4 * (size_t)SEM_PQ_K * h->dim;
    for (uint64_t i = 0; i < h->n; i++) memcpy(nodes + (size_t)i * qrec, h->nodes + (size_t)i * h->rec, 4 * (1 + (size_t)h->m0));
    if (h->n)
        sem_pq_encode_all(cb, h->dim, pq_m, sem_node_vec(h, 0), (size_t)h->n, stride, nodes + 4 * (1 + (size_t)h->m0),
                          qrec, threads);
    uint8_t *qmeta = nodes + align8((uint64_t)h->n * qrec);
    size_t tail = h->size - (size_t)(h->meta - h->base); /* node info and upper lists, unchanged */
    memcpy(qmeta, h->meta, tail);
    maif_free(fbuf);
    *out = q;
    *out_size = qsize;
    return MAIF_OK;
}

/* Rewrites a version-1 payload (buf, size; freed) into version 2: the
 * layer-0 count word takes the level (count | level << 16), node info
 * shrinks to the 4-byte upper slot, and block, subject and flags move to
 * a table of sources, one per run of nodes that are consecutive rows of
 * one EMBD block with the same subject and flags (a node's row is its
 * distance from the run's first node). */
static int to_v2(uint8_t *buf, size_t size, uint8_t **out, size_t *out_size)
{
    sem_hnsw h;
    char err[200];
    int rc = sem_hnsw_view(&h, buf, size, err, sizeof err); /* our own: cannot fail */
    if (rc) {
        maif_free(buf);
        return maif_set_last_err(rc, "index build: %s", err);
    }
    uint64_t nsrc = 0;
    for (uint64_t i = 0; i < h.n; i++) {
        const uint8_t *mt = meta_of(&h, (uint32_t)i), *pm = i ? meta_of(&h, (uint32_t)(i - 1)) : NULL;
        if (!pm || rd64le(mt) != rd64le(pm) || rd64le(mt + 8) != rd64le(pm + 8) || mt[21] != pm[21] ||
            rd32le(mt + 16) != rd32le(pm + 16) + 1) {
            nsrc++;
            if (rd32le(mt + 16) != 0) { /* a run must start at row 0: its rows are counted from its first node */
                maif_free(buf);
                return maif_set_last_err(MAIF_EINVAL, "index build: node %llu starts a run of rows at row %u, not 0",
                                         (unsigned long long)i, rd32le(mt + 16));
            }
        }
    }
    size_t vsize = sem_vidx_size(2, h.n, h.dim, h.m, h.m0, h.nupper, h.quant, h.pq_m, nsrc);
    uint8_t *v = vsize ? maif_calloc(1, vsize) : NULL;
    if (!v) {
        maif_free(buf);
        return maif_set_last_err(vsize ? MAIF_ENOMEM : MAIF_ELIMIT, "index build: out of memory");
    }
    size_t head = (size_t)(h.nodes - h.base), nodes = (size_t)h.n * h.rec;
    memcpy(v, buf, head + nodes); /* header, parameters, node records */
    wr32le(v + 8, 2);
    wr64le(v + 80, nsrc);
    uint8_t *uslot = v + head + align8(nodes), *src = uslot + align8(4 * h.n), *e = NULL;
    for (uint64_t i = 0; i < h.n; i++) {
        const uint8_t *mt = meta_of(&h, (uint32_t)i), *pm = i ? meta_of(&h, (uint32_t)(i - 1)) : NULL;
        uint8_t *word = v + head + (size_t)i * h.rec;
        wr32le(word, rd32le(word) | (uint32_t)mt[20] << 16);
        wr32le(uslot + 4 * i, rd32le(mt + 28));
        if (!pm || rd64le(mt) != rd64le(pm) || rd64le(mt + 8) != rd64le(pm + 8) || mt[21] != pm[21] ||
            rd32le(mt + 16) != rd32le(pm + 16) + 1) {
            e = e ? e + SEM_VIDX_SRC : src;
            wr64le(e, rd64le(mt));
            wr64le(e + 8, rd64le(mt + 8));
            wr32le(e + 16, (uint32_t)i);
            e[20] = mt[21];
        }
    }
    memcpy(src + nsrc * SEM_VIDX_SRC, h.upper, (size_t)h.nupper * 4 * (1 + (size_t)h.m));
    maif_free(buf);
    *out = v;
    *out_size = vsize;
    return MAIF_OK;
}

int sem_hnsw_build(const sem_build_in *in, uint8_t **out, size_t *out_size)
{
    *out = NULL;
    *out_size = 0;
    if (in->n > SEM_VIDX_N_MAX || in->dim == 0 || in->dim > 65536 || in->m < 2 || in->m > SEM_VIDX_M_MAX)
        return maif_set_last_err(MAIF_ELIMIT, "index build: parameters out of range (M 2..%u)", SEM_VIDX_M_MAX);
    uint32_t pq_m = in->quant == SEM_QUANT_PQ ? (in->pq_m ? in->pq_m : sem_pq_default_m(in->dim)) : 0;
    if (in->quant > SEM_QUANT_PQ) return maif_set_last_err(MAIF_EINVAL, "index build: unknown quantisation %u", in->quant);
    if (in->quant == SEM_QUANT_PQ && (pq_m > in->dim || pq_m > SEM_PQ_M_MAX))
        return maif_set_last_err(MAIF_EINVAL, "index build: %u PQ sub-spaces for %u dimensions (at most min(dim, %u))",
                                 pq_m, in->dim, SEM_PQ_M_MAX);
    uint32_t m = in->m, m0 = 2 * in->m;
    uint64_t n = in->n, seed = in->seed ? in->seed : 0x5EED;
    uint8_t *level = maif_malloc(n ? (size_t)n : 1);
    if (!level) return maif_set_last_err(MAIF_ENOMEM, "index build: out of memory");
    double ml = 1.0 / log((double)m);
    uint64_t nupper = 0;
    for (uint64_t i = 0; i < n; i++) {
        double u = ((double)(rng_next(&seed) >> 11) + 1.0) / 9007199254740993.0; /* (0, 1] */
        double lv = floor(-log(u) * ml);
        uint32_t L = lv > SEM_VIDX_LEVEL_MAX ? SEM_VIDX_LEVEL_MAX : (uint32_t)lv;
        level[i] = (uint8_t)L;
        nupper += L;
    }
    size_t size = sem_vidx_size(1, n, in->dim, m, m0, nupper, SEM_QUANT_NONE, 0, 0);
    if (!size) {
        maif_free(level);
        return maif_set_last_err(MAIF_ELIMIT, "index build: index too large");
    }
    builder b;
    memset(&b, 0, sizeof b);
    b.k = sem_kernels_best();
    b.level = level;
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
    int rc = sem_hnsw_view(&b.h, p, size, err, sizeof err); /* our own header: cannot fail */
    uint64_t slot = 0;
    for (uint64_t i = 0; i < n && !rc; i++) {
        float *v = (float *)(void *)(b.buf + SEM_VIDX_HDR + (size_t)i * b.h.rec + 4 * (1 + (size_t)m0));
        memcpy(v, in->rows[i], (size_t)in->dim * sizeof *v);
        if (in->metric == SEM_METRIC_COSINE) sem_normalize(v, in->dim);
        uint8_t *mt = (uint8_t *)(uintptr_t)meta_of(&b.h, (uint32_t)i);
        wr64le(mt, in->block[i]);
        wr64le(mt + 8, in->subject[i]);
        wr32le(mt + 16, in->row[i]);
        mt[20] = level[i];
        mt[21] = in->flags ? in->flags[i] : 0;
        wr32le(mt + 28, (uint32_t)slot);
        slot += level[i];
    }
    b.ef = in->ef_construction < m ? m : in->ef_construction;
    unsigned threads = in->threads ? in->threads : maif_pool_cpus();
    if (threads > MAIF_POOL_MAX_THREADS) threads = MAIF_POOL_MAX_THREADS;
    if (n < 2 * (uint64_t)threads) threads = 1;
    worker *ws = maif_calloc(threads, sizeof *ws);
    if (threads > 1) b.lock = maif_calloc((size_t)n, 1);
    if (!ws || (threads > 1 && !b.lock)) rc = MAIF_ENOMEM;
    pthread_mutex_init(&b.glock, NULL);
    if (!rc && n > 0) {
        b.entry = 0;
        b.maxl = level[0];
        maif_pool_run(threads, n - 1, work, &b, ws, sizeof *ws);
        rc = b.rc;
    }
    pthread_mutex_destroy(&b.glock);
    for (unsigned t = 0; ws && t < threads; t++) {
        sem_scratch_free(&ws[t].s);
        maif_free(ws[t].tmp);
        maif_free(ws[t].sel);
        maif_free(ws[t].copy);
    }
    maif_free(ws);
    maif_free(b.lock);
    maif_free(level);
    if (rc) {
        maif_free(b.buf);
        return maif_set_last_err(rc, "index build: out of memory");
    }
    wr32le(p + 48, b.maxl);
    wr32le(p + 52, b.entry);
    uint8_t *v1 = b.buf;
    size_t v1size = size;
    if (in->quant == SEM_QUANT_INT8) rc = to_int8(&b.h, b.buf, &v1, &v1size);
    if (in->quant == SEM_QUANT_PQ)
        rc = to_pq(&b.h, b.buf, pq_m, seed, in->threads ? in->threads : maif_pool_cpus(), &v1, &v1size);
    if (rc) return rc;
    if (in->version == 1) {
        *out = v1;
        *out_size = v1size;
        return MAIF_OK;
    }
    return to_v2(v1, v1size, out, out_size);
}
