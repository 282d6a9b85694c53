/*
 * search.c — maif_search_*: one query over an opened index, by vector, by
 * words (BM25) or both (the two lists fused by fusion.c).
 *
 * Filters are predicates on the result block (the embedding's source
 * block): type, time range, privacy level, metadata conditions and
 * "not superseded". They run inside the graph search (sem_allow_fn), so a
 * filtered query still returns k results when k exist, unlike filtering
 * after the fact; each node's verdict is cached for the run. The tail is
 * scanned exactly with the same predicate and merged.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "semantic/semantic.h"
#include "semantic/textidx.h"
#include "util/alloc.h"
#include "util/common.h"

#define SNIPPET_MAX 160
#define WHERE_MAX   16
#define K_MAX       10000

typedef struct hit_int {
    maif_search_hit pub;
    char snip[SNIPPET_MAX];
} hit_int;

struct maif_search {
    int64_t p[MAIF_SEARCH_FUSION + 1];
    sem_where where[WHERE_MAX];
    size_t nwhere;
    char *text;
    size_t text_len;
    float *vec;
    size_t vec_dim;
    hit_int *hits;
    size_t nhits;
    sem_scratch scratch;
    uint8_t *cache;     /* per candidate: 0 unknown, 1 pass, 2 fail */
    size_t ncache;
};

int maif_search_create(maif_search **out)
{
    if (!out) return maif_set_last_err(MAIF_EINVAL, "maif_search_create: out is NULL");
    *out = maif_calloc(1, sizeof **out);
    if (!*out) return maif_set_last_err(MAIF_ENOMEM, "out of memory");
    (*out)->p[MAIF_SEARCH_K] = 10;
    return MAIF_OK;
}

void maif_search_free(maif_search *s)
{
    if (!s) return;
    maif_free(s->text);
    maif_free(s->vec);
    maif_free(s->hits);
    maif_free(s->cache);
    sem_scratch_free(&s->scratch);
    maif_free(s);
}

int maif_search_set(maif_search *s, int param, int64_t v)
{
    static const int64_t lo[] = {0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, hi[] = {0, K_MAX, 3, 100000, UINT32_MAX,
                                                                                  INT64_MAX, INT64_MAX, 4, 1,
                                                                                  INT64_MAX / 1000000, 1, 10000, 2};
    if (!s || param < 1 || param > MAIF_SEARCH_FUSION)
        return maif_set_last_err(MAIF_EINVAL, "maif_search_set: unknown parameter %d", param);
    if (v < lo[param] || v > hi[param])
        return maif_set_last_err(MAIF_EINVAL, "maif_search_set: parameter %d: %lld out of range [%lld, %lld]", param,
                                 (long long)v, (long long)lo[param], (long long)hi[param]);
    s->p[param] = v;
    return MAIF_OK;
}

int maif_search_where(maif_search *s, const char *expr)
{
    if (!s || !expr) return maif_set_last_err(MAIF_EINVAL, "maif_search_where: NULL argument");
    if (s->nwhere >= WHERE_MAX) return maif_set_last_err(MAIF_ELIMIT, "at most %d --where conditions", WHERE_MAX);
    const char *op = strpbrk(expr, "=<>");
    if (!op || op == expr) return maif_set_last_err(MAIF_EINVAL, "'%s': expected key=value, key>=N or key<=N", expr);
    sem_where *w = &s->where[s->nwhere];
    memset(w, 0, sizeof *w);
    size_t kl = (size_t)(op - expr);
    if (kl >= sizeof w->key) return maif_set_last_err(MAIF_EINVAL, "'%s': key too long", expr);
    memcpy(w->key, expr, kl);
    const char *v = op + 1;
    if (*op == '=') w->op = '=';
    else if (*v == '=') {
        w->op = *op == '<' ? 'l' : 'g';
        v++;
    } else w->op = *op;
    if (strlen(v) >= sizeof w->sval) return maif_set_last_err(MAIF_EINVAL, "'%s': value too long", expr);
    strcpy(w->sval, v);
    char *end;
    w->num = strtod(v, &end);
    w->is_num = *v && !*end && isfinite(w->num);
    if (w->op != '=' && !w->is_num)
        return maif_set_last_err(MAIF_EINVAL, "'%s': a range needs a number", expr);
    s->nwhere++;
    return MAIF_OK;
}

int maif_search_set_text(maif_search *s, const char *text, size_t len)
{
    if (!s || (!text && len)) return maif_set_last_err(MAIF_EINVAL, "maif_search_set_text: NULL argument");
    char *t = maif_malloc(len + 1);
    if (!t) return maif_set_last_err(MAIF_ENOMEM, "out of memory");
    if (len) memcpy(t, text, len);
    t[len] = 0;
    maif_free(s->text);
    maif_free(s->vec);
    s->vec = NULL;
    s->vec_dim = 0;
    s->text = t;
    s->text_len = len;
    return MAIF_OK;
}

int maif_search_set_vector(maif_search *s, const float *v, size_t dim)
{
    if (!s || !v || dim == 0 || dim > SEM_DIM_MAX)
        return maif_set_last_err(MAIF_EINVAL, "maif_search_set_vector: bad argument (dim 1..%d)", SEM_DIM_MAX);
    for (size_t i = 0; i < dim; i++)
        if (!isfinite(v[i])) return maif_set_last_err(MAIF_EINVAL, "query value %zu is not finite", i);
    float *c = maif_malloc(dim * sizeof *c);
    if (!c) return maif_set_last_err(MAIF_ENOMEM, "out of memory");
    memcpy(c, v, dim * sizeof *c);
    maif_free(s->vec);
    maif_free(s->text);
    s->text = NULL;
    s->text_len = 0;
    s->vec = c;
    s->vec_dim = dim;
    return MAIF_OK;
}

size_t maif_search_count(const maif_search *s) { return s ? s->nhits : 0; }

int maif_search_result(const maif_search *s, size_t i, maif_search_hit *out)
{
    if (!s || !out) return maif_set_last_err(MAIF_EINVAL, "maif_search_result: NULL argument");
    if (i >= s->nhits) return maif_set_last_err(MAIF_ENOTFOUND, "no result %zu (%zu results)", i, s->nhits);
    *out = s->hits[i].pub;
    out->snippet = s->hits[i].snip;
    return MAIF_OK;
}

/* ------------------------------------------------------------ filters */

typedef struct run_ctx {
    maif_search *s;
    maif_index *ix;
    int filtering; /* any filter besides the superseded flag */
} run_ctx;

static int privacy_level(const char *v)
{
    static const char *const names[] = {"public", "internal", "confidential", "restricted"};
    for (int i = 0; i < 4; i++)
        if (strcmp(v, names[i]) == 0) return i + 1;
    return 4; /* unknown labels count as the most private */
}

static int meta_ok(const maif_search *s, const maif_block *b)
{
    if (!s->nwhere && !s->p[MAIF_SEARCH_PRIVACY]) return 1;
    json_t *m = b->meta ? json_loadb(b->meta, b->meta_size, 0, NULL) : NULL;
    int ok = 1;
    if (s->p[MAIF_SEARCH_PRIVACY]) {
        const char *pv = json_string_value(json_object_get(m, "privacy"));
        if ((pv ? privacy_level(pv) : 1) > s->p[MAIF_SEARCH_PRIVACY]) ok = 0;
    }
    for (size_t i = 0; ok && i < s->nwhere; i++) {
        const sem_where *w = &s->where[i];
        json_t *v = json_object_get(m, w->key);
        if (!v) {
            ok = 0;
            break;
        }
        if (w->op == '=') {
            if (json_is_string(v)) ok = strcmp(json_string_value(v), w->sval) == 0;
            else if (json_is_number(v)) ok = w->is_num && json_number_value(v) == w->num;
            else if (json_is_true(v)) ok = strcmp(w->sval, "true") == 0;
            else if (json_is_false(v)) ok = strcmp(w->sval, "false") == 0;
            else if (json_is_null(v)) ok = strcmp(w->sval, "null") == 0;
            else ok = 0;
        } else {
            if (!json_is_number(v)) {
                ok = 0;
                break;
            }
            double x = json_number_value(v);
            ok = w->op == '<' ? x < w->num : w->op == '>' ? x > w->num : w->op == 'l' ? x <= w->num : x >= w->num;
        }
    }
    json_decref(m);
    return ok;
}

/* Is block i (a result candidate) superseded by a later version? */
static int superseded_now(maif_index *ix, uint64_t i, const maif_block *b)
{
    uint64_t h[64];
    size_t n = 0;
    if (maif_reader_history(ix->r, b->id, h, 64, &n) != MAIF_OK || n <= 1) return 0;
    if (n <= 64) return h[n - 1] != i;
    uint64_t *all = maif_malloc(n * sizeof *all);
    int sup = 0;
    if (all && maif_reader_history(ix->r, b->id, all, n, &n) == MAIF_OK) sup = all[n - 1] != i;
    maif_free(all);
    return sup;
}

/* The filters on block i; node_flags is the graph's flag byte or -1
 * (unknown: look the history up). */
static int block_ok(run_ctx *c, uint64_t i, int node_flags)
{
    maif_search *s = c->s;
    maif_block b;
    if (maif_reader_block(c->ix->r, i, &b) != MAIF_OK) return 0;
    if (s->p[MAIF_SEARCH_TYPE] && b.type != (uint32_t)s->p[MAIF_SEARCH_TYPE]) return 0;
    if (s->p[MAIF_SEARCH_SINCE_US] && b.timestamp_us < (uint64_t)s->p[MAIF_SEARCH_SINCE_US]) return 0;
    if (s->p[MAIF_SEARCH_UNTIL_US] && b.timestamp_us > (uint64_t)s->p[MAIF_SEARCH_UNTIL_US]) return 0;
    if (!s->p[MAIF_SEARCH_SUPERSEDED]) {
        if (node_flags >= 0) {
            if ((node_flags & SEM_VIDX_F_SUPERSEDED) || sem_idset_has(&c->ix->tail_sup, b.id)) return 0;
        } else if (superseded_now(c->ix, i, &b)) {
            return 0;
        }
    }
    return meta_ok(s, &b);
}

static int node_allow(void *ctx, uint32_t i)
{
    run_ctx *c = ctx;
    uint8_t *slot = &c->s->cache[i];
    if (*slot) return *slot == 1;
    sem_node_ref nr;
    int ok = sem_node_info(&c->ix->h, i, &nr) == MAIF_OK && block_ok(c, nr.subject, nr.flags); /* damaged: never a result */
    *slot = ok ? 1 : 2;
    return ok;
}

static int text_allow(void *ctx, uint64_t block) { return block_ok(ctx, block, -1); }

/* ------------------------------------------------------------- ranking */

typedef struct cand {
    uint64_t block;     /* subject */
    int64_t embd;
    uint32_t row;
    double score;       /* higher is better */
    double fused;
} cand;

static int cmp_cand(const void *a, const void *b)
{
    const cand *p = a, *q = b;
    if (p->fused != q->fused) return p->fused > q->fused ? -1 : 1;
    if (p->block != q->block) return p->block < q->block ? -1 : 1; /* ties: a fixed order */
    return p->row < q->row ? -1 : p->row > q->row;
}

static double score_of(int metric, float dist) { return metric == SEM_METRIC_COSINE ? 1.0 - dist : -(double)dist; }

/* The vector candidates (subject, score), best first, at most want,
 * one per subject. */
static int vector_cands(run_ctx *c, const float *q, size_t want, cand **out, size_t *nout)
{
    maif_search *s = c->s;
    maif_index *ix = c->ix;
    const sem_kernels *k = sem_kernels_best();
    size_t ef = s->p[MAIF_SEARCH_EF] ? (size_t)s->p[MAIF_SEARCH_EF] : (want * 4 > 64 ? want * 4 : 64);
    if (ef < want) ef = want;
    size_t cap = 3 * want + 1;
    sem_hit *gh = NULL;
    cand *cs = maif_calloc(cap, sizeof *cs);
    if (!cs) return MAIF_ENOMEM;
    size_t n = 0;
    int rc = MAIF_OK;
    if (ix->has_graph && ix->h.n) {
        /* with codes, the best by approximate distance are re-ranked
         * exactly: ef of them for int8, max(ef, 10 * want) for PQ */
        int quant = ix->h.quant != SEM_QUANT_NONE;
        size_t kr = quant && ef > want ? ef : want;
        if (ix->h.quant == SEM_QUANT_PQ && kr < 10 * want) kr = 10 * want;
        gh = maif_malloc(kr * sizeof *gh);
        float *row = quant ? maif_malloc(ix->dim * sizeof *row) : NULL;
        if (!gh || (quant && !row)) {
            maif_free(gh);
            maif_free(row);
            maif_free(cs);
            return MAIF_ENOMEM;
        }
        size_t ng = 0;
        char err[256];
        int hide = !s->p[MAIF_SEARCH_SUPERSEDED] && (ix->graph_superseded || ix->tail_sup.n || ix->tail_sup.has_zero);
        if (s->p[MAIF_SEARCH_EXACT]) {
            sem_query qc;
            rc = sem_query_prepare(&ix->h, q, &s->scratch, &qc);
            sem_topk t = {gh, 0, kr};
            for (uint64_t i = 0; i < ix->h.n && !rc; i++) {
                if ((hide || c->filtering) && !node_allow(c, (uint32_t)i)) continue;
                sem_topk_push(&t, sem_node_dist(&ix->h, k, &qc, (uint32_t)i), (uint32_t)i);
            }
            sem_topk_sort(&t);
            ng = t.n;
        } else {
            /* nothing to hide: the plain graph search, no predicate per node */
            sem_allow_fn allow = c->filtering || hide ? node_allow : NULL;
            if (allow) memset(s->cache, 0, (size_t)ix->h.n);
            rc = sem_hnsw_search(&ix->h, k, q, kr, ef, allow, c, &s->scratch, gh, &ng, err, sizeof err);
            if (rc == MAIF_EFORMAT) {
                char msg[400];
                snprintf(msg, sizeof msg, "block %lld: %s", (long long)ix->vidx_block, err);
                maif_set_last_err(rc, "%s", msg);
            }
        }
        if (rc) {
            maif_free(gh);
            maif_free(row);
            maif_free(cs);
            return rc == MAIF_ENOMEM ? maif_set_last_err(rc, "out of memory") : rc;
        }
        if (quant) { /* exact distances from the EMBD rows in the map */
            maif_block b;
            uint64_t have = 0; /* the block in b (valid when got): rows of one block are looked up once */
            int got = 0;
            for (size_t i = 0; i < ng; i++) {
                sem_node_ref nr;
                if (sem_node_info(&ix->h, gh[i].id, &nr) != MAIF_OK) continue; /* reported below */
                uint64_t off = (uint64_t)nr.row * ix->dim * 4;
                if (!got || nr.block != have) {
                    got = maif_reader_block(ix->r, nr.block, &b) == MAIF_OK;
                    have = nr.block;
                    if (!got) continue;
                }
                if (b.codec || b.cipher || b.payload_size < off + ix->dim * 4)
                    continue; /* not readable in place: keep the approximate distance */
                memcpy(row, b.payload + off, ix->dim * sizeof *row);
                if (ix->metric == SEM_METRIC_COSINE) sem_normalize(row, ix->dim);
                gh[i].dist = sem_dist(k, ix->metric, q, row, ix->dim);
            }
            sem_topk t = {gh, 0, want}; /* keep the want best of the re-ranked */
            sem_hit *tmp = maif_malloc((ng ? ng : 1) * sizeof *tmp);
            if (!tmp) {
                maif_free(gh);
                maif_free(row);
                maif_free(cs);
                return MAIF_ENOMEM;
            }
            memcpy(tmp, gh, ng * sizeof *tmp);
            for (size_t i = 0; i < ng; i++) sem_topk_push(&t, tmp[i].dist, tmp[i].id);
            sem_topk_sort(&t);
            ng = t.n;
            maif_free(tmp);
        }
        maif_free(row);
        if (ng > want) ng = want;
        for (size_t i = 0; i < ng; i++) {
            sem_node_ref nr;
            if (sem_node_info(&ix->h, gh[i].id, &nr) != MAIF_OK) {
                maif_free(gh);
                maif_free(cs);
                return maif_set_last_err(MAIF_EFORMAT, "block %lld: vector index: node %u is not covered by its source table",
                                         (long long)ix->vidx_block, gh[i].id);
            }
            cs[n++] = (cand){nr.subject, (int64_t)nr.block, nr.row, score_of(ix->metric, gh[i].dist), 0};
        }
        maif_free(gh);
    }
    if (ix->ntail) { /* the exact tail: the 2 * want best that pass the filters */
        size_t tw = 2 * want;
        sem_hit *th = maif_malloc(tw * sizeof *th);
        if (!th) {
            maif_free(cs);
            return MAIF_ENOMEM;
        }
        sem_topk t = {th, 0, tw};
        for (size_t i = 0; i < ix->ntail && i <= UINT32_MAX; i++) {
            float d = sem_dist(k, ix->metric, q, ix->tailvec + i * ix->dim, ix->dim);
            if (t.n == tw && !(d < th[0].dist)) continue; /* filters only for what could enter */
            if (!block_ok(c, ix->tail[i].subject, -1)) continue;
            sem_topk_push(&t, d, (uint32_t)i);
        }
        for (size_t i = 0; i < t.n; i++) {
            const sem_tail *e = &ix->tail[th[i].id];
            cs[n++] = (cand){e->subject, (int64_t)e->block, e->row, score_of(ix->metric, th[i].dist), 0};
        }
        maif_free(th);
    }
    /* best first, one per subject and row (a text embedded twice counts
     * once; the rows of a multi-row block are results of their own) */
    for (size_t i = 0; i < n; i++) cs[i].fused = cs[i].score;
    qsort(cs, n, sizeof *cs, cmp_cand);
    size_t m = 0;
    for (size_t i = 0; i < n && m < want; i++) {
        int dup = 0;
        for (size_t j = 0; j < m && !dup; j++) dup = cs[j].block == cs[i].block && cs[j].row == cs[i].row;
        if (!dup) cs[m++] = cs[i];
    }
    if (m > want) m = want;
    *out = cs;
    *nout = m;
    return rc;
}

static double decay(const maif_search *s, maif_reader *r, uint64_t block, double score)
{
    int64_t hl = s->p[MAIF_SEARCH_HALF_LIFE_S];
    if (!hl) return score;
    maif_block b;
    if (maif_reader_block(r, block, &b) != MAIF_OK) return score;
    uint64_t now = maif_now_us();
    double age = now > b.timestamp_us ? (double)(now - b.timestamp_us) / 1e6 : 0.0;
    double f = exp2(-age / (double)hl);
    return score >= 0 ? score * f : score / (f > 1e-300 ? f : 1e-300);
}

static void set_snippet(maif_reader *r, hit_int *h)
{
    h->pub.snippet = h->snip;
    h->pub.snippet_size = 0;
    if (h->pub.type != MAIF_TYPE_TEXT) return;
    const char *t;
    size_t len;
    char *owned = NULL;
    if (sem_block_text(r, h->pub.block, &t, &len, &owned) != MAIF_OK) return;
    size_t n = len < SNIPPET_MAX ? len : SNIPPET_MAX;
    while (n < len && n > 0 && ((uint8_t)t[n] & 0xC0) == 0x80) n--; /* cut before a continuation byte */
    memcpy(h->snip, t, n);
    h->pub.snippet_size = n;
    maif_free(owned);
}

int maif_search_run(maif_search *s, maif_index *ix)
{
    if (!s || !ix) return maif_set_last_err(MAIF_EINVAL, "maif_search_run: NULL argument");
    s->nhits = 0;
    if (!s->text && !s->vec) return maif_set_last_err(MAIF_EINVAL, "no query: set a text or a vector");
    size_t k = (size_t)s->p[MAIF_SEARCH_K];
    int mode = (int)s->p[MAIF_SEARCH_MODE];
    if (!mode) mode = s->vec ? MAIF_MODE_VECTOR : MAIF_MODE_HYBRID;
    if (s->vec && mode != MAIF_MODE_VECTOR) return maif_set_last_err(MAIF_EINVAL, "a vector query searches in vector mode only");
    if (mode == MAIF_MODE_HYBRID && ix->dim == 0) mode = MAIF_MODE_TEXT; /* nothing embedded: words alone */
    if (mode == MAIF_MODE_VECTOR && ix->dim == 0)
        return maif_set_last_err(MAIF_EINVAL, "the artifact has no embeddings%s%s to search (run `maif embed`)",
                                 *ix->model ? " of model " : "", ix->model);
    run_ctx c = {s, ix, s->p[MAIF_SEARCH_TYPE] || s->p[MAIF_SEARCH_SINCE_US] || s->p[MAIF_SEARCH_UNTIL_US] ||
                            s->p[MAIF_SEARCH_PRIVACY] || s->nwhere};
    size_t want = k;
    if (mode == MAIF_MODE_HYBRID || s->p[MAIF_SEARCH_HALF_LIFE_S]) want = k * 4 > 50 ? k * 4 : 50;
    cand *vc = NULL, *all = NULL;
    sem_scored *tc = NULL;
    size_t nv = 0, nt = 0;
    float *q = NULL;
    int rc = MAIF_OK;
    if (mode != MAIF_MODE_TEXT) {
        if (ix->has_graph && s->ncache < ix->h.n) {
            uint8_t *cc = maif_realloc(s->cache, (size_t)ix->h.n);
            if (!cc) return maif_set_last_err(MAIF_ENOMEM, "out of memory");
            s->cache = cc;
            s->ncache = (size_t)ix->h.n;
        }
        if (ix->has_graph && s->p[MAIF_SEARCH_EXACT]) memset(s->cache, 0, (size_t)ix->h.n);
        q = maif_malloc(ix->dim * sizeof *q);
        if (!q) return maif_set_last_err(MAIF_ENOMEM, "out of memory");
        if (s->vec) {
            if (s->vec_dim != ix->dim) {
                maif_free(q);
                return maif_set_last_err(MAIF_EINVAL, "the query has %zu dimensions, the index %zu", s->vec_dim,
                                         ix->dim);
            }
            memcpy(q, s->vec, ix->dim * sizeof *q);
        } else {
            if (!ix->emb && (rc = maif_embedder_open(&ix->emb, ix->model, ix->r))) goto out;
            if (maif_embedder_dim(ix->emb) != ix->dim) {
                rc = maif_set_last_err(MAIF_EFORMAT, "model '%s' gives %zu dimensions, the embeddings have %zu",
                                       ix->model, maif_embedder_dim(ix->emb), ix->dim);
                goto out;
            }
            if ((rc = maif_embedder_embed(ix->emb, s->text, s->text_len, q))) goto out;
        }
        if (ix->metric == SEM_METRIC_COSINE) sem_normalize(q, ix->dim);
        if ((rc = vector_cands(&c, q, want, &vc, &nv))) goto out;
    }
    if (mode != MAIF_MODE_VECTOR) {
        tc = maif_malloc(want * sizeof *tc);
        if (!tc) {
            rc = maif_set_last_err(MAIF_ENOMEM, "out of memory");
            goto out;
        }
        if ((rc = sem_text_search(ix, s->text, s->text_len, text_allow, &c, want, tc, &nt))) goto out;
    }
    /* fuse: scores as they are for one list, fusion.c's rule for two */
    all = maif_calloc(nv + nt + 1, sizeof *all);
    if (!all) {
        rc = maif_set_last_err(MAIF_ENOMEM, "out of memory");
        goto out;
    }
    size_t na = 0;
    if (mode == MAIF_MODE_HYBRID) {
        double vw = s->p[MAIF_SEARCH_VECTOR_WEIGHT] ? (double)s->p[MAIF_SEARCH_VECTOR_WEIGHT] / 100.0 : 1.0;
        int rule = s->p[MAIF_SEARCH_FUSION] ? (int)s->p[MAIF_SEARCH_FUSION] : SEM_FUSE_DBSF;
        sem_scored *vs = maif_malloc((nv ? nv : 1) * sizeof *vs);
        sem_fused *fu = maif_malloc((nv + nt + 1) * sizeof *fu);
        for (size_t i = 0; vs && i < nv; i++) vs[i] = (sem_scored){vc[i].block, vc[i].score};
        size_t nf = 0;
        rc = !vs || !fu ? maif_set_last_err(MAIF_ENOMEM, "out of memory") : sem_fuse(rule, vw, vs, nv, tc, nt, fu, &nf);
        for (size_t i = 0; !rc && i < nf; i++) {
            if (fu[i].vi >= 0) all[na] = vc[fu[i].vi];
            else all[na] = (cand){tc[fu[i].ti].block, -1, 0, tc[fu[i].ti].score, 0};
            all[na++].fused = fu[i].fused;
        }
        maif_free(vs);
        maif_free(fu);
        if (rc) goto out;
    } else {
        for (size_t i = 0; i < nv; i++) {
            all[na] = vc[i];
            all[na++].fused = vc[i].score;
        }
        for (size_t i = 0; i < nt; i++) all[na++] = (cand){tc[i].block, -1, 0, tc[i].score, tc[i].score};
    }
    for (size_t i = 0; i < na; i++) all[i].fused = decay(s, ix->r, all[i].block, all[i].fused);
    qsort(all, na, sizeof *all, cmp_cand);
    if (na > k) na = k;
    hit_int *hs = maif_realloc(s->hits, (na ? na : 1) * sizeof *hs);
    if (!hs) {
        rc = maif_set_last_err(MAIF_ENOMEM, "out of memory");
        goto out;
    }
    s->hits = hs;
    for (size_t i = 0; i < na; i++) {
        hit_int *h = &hs[i];
        memset(h, 0, sizeof *h);
        maif_block b;
        if (maif_reader_block(ix->r, all[i].block, &b) == MAIF_OK) {
            memcpy(h->pub.id, b.id, MAIF_ID_BYTES);
            h->pub.type = b.type;
            h->pub.timestamp_us = b.timestamp_us;
        }
        h->pub.block = all[i].block;
        h->pub.score = all[i].fused;
        h->pub.embedding_block = all[i].embd;
        h->pub.row = all[i].row;
        set_snippet(ix->r, h);
    }
    s->nhits = na;
out:
    maif_free(q);
    maif_free(vc);
    maif_free(tc);
    maif_free(all);
    return rc;
}
