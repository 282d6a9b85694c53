/*
 * lang_ftz.c — language identification with a fastText supervised model
 * (.bin or product-quantised .ftz, e.g. lid.176.ftz), read and scored the
 * way fastText 0.9.2 does it, so the top-1 label agrees with
 * `fasttext predict` (tests/cli/test_lang.sh compares them line by line).
 *
 * Model layout (little-endian, as fastText writes it on x86):
 *   int32 magic 793712314, int32 version (11 or 12)
 *   args: int32 dim ws epoch minCount neg wordNgrams loss model bucket minn
 *         maxn lrUpdateRate, double t
 *   dictionary: int32 size nwords nlabels, int64 ntokens pruneidx_size,
 *         size x (NUL-terminated word, int64 count, int8 type),
 *         pruneidx_size x (int32 from, int32 to)
 *   uint8 quant_input; input matrix (dense or quantised)
 *   uint8 qout; output matrix (dense, or quantised when quant_input && qout)
 *   dense matrix: int64 m n, m*n float32
 *   quantised matrix: uint8 qnorm, int64 m n, int32 codesize, codesize
 *         bytes of codes, a product quantiser, and when qnorm m bytes of
 *         norm codes and a second quantiser
 *   product quantiser: int32 dim nsubq dsub lastdsub, dim*256 float32
 *
 * The file is untrusted: it is read whole (at most MAIF_LANGID_MAX bytes),
 * every count is checked against the bytes that remain before anything is
 * allocated, and every index the scorer will use (word rows, n-gram rows,
 * pruned-bucket targets, codebook entries, tree nodes) is checked once at
 * load, so prediction needs no checks of its own.
 *
 * The arithmetic follows fastText's exactly (float accumulation in the same
 * order, expf for the sigmoid, log(x + 1e-5) in double then rounded to
 * float), because top-1 agreement on near ties depends on it.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/common.h"

#define FT_MAGIC 793712314
#define FT_KSUB 256
#define FT_MAX_DIM 4096
#define FT_MAX_N 64
#define FT_LOSS_HS 1
#define FT_LOSS_SOFTMAX 3
#define FT_MODEL_SUP 3
#define FT_LABEL "__label__"
#define FT_EOS "</s>"

typedef struct {
    int32_t dim, nsubq, dsub, lastdsub;
    const float *centroids; /* dim * 256, copied (aligned) */
} ft_pq;

typedef struct {
    int quant, qnorm;
    int64_t m, n;
    float *dense;        /* m * n when !quant */
    const uint8_t *codes; /* m * nsubq (points into the owned file copy) */
    const uint8_t *norm_codes;
    ft_pq pq, npq;
} ft_matrix;

struct maif_langid {
    uint8_t *file; /* the whole model; word strings and codes point into it */
    size_t file_len;
    int32_t dim, word_ngrams, loss, model, bucket, minn, maxn;
    int32_t size, nwords, nlabels;
    int64_t pruneidx_size;
    const char **words;
    uint32_t *wlens;
    int64_t *counts;
    uint32_t *wtab; /* word hash table: id + 1, 0 empty */
    uint32_t wmask;
    int32_t *pkeys, *pvals; /* pruned bucket -> row, open addressing */
    uint8_t *pused;
    uint32_t pmask;
    ft_matrix in, out;
    int32_t *left, *right; /* hierarchical softmax tree, 2*nlabels-1 nodes */
    float *centroid_store;
};

/* ---- bounded reader over the model bytes */
typedef struct {
    const uint8_t *p;
    size_t n, off;
    int bad;
} rd;

static int take(rd *r, size_t len, const uint8_t **out)
{
    if (r->bad || !in_bounds(r->off, len, r->n)) { r->bad = 1; return 0; }
    *out = r->p + r->off;
    r->off += len;
    return 1;
}
static int32_t get_i32(rd *r)
{
    const uint8_t *p;
    return take(r, 4, &p) ? (int32_t)rd32le(p) : 0;
}
static int64_t get_i64(rd *r)
{
    const uint8_t *p;
    return take(r, 8, &p) ? (int64_t)rd64le(p) : 0;
}
static uint8_t get_u8(rd *r)
{
    const uint8_t *p;
    return take(r, 1, &p) ? p[0] : 0;
}
static size_t remain(const rd *r) { return r->bad ? 0 : r->n - r->off; }

static int fail(const char *what) { return maif_set_last_err(MAIF_EFORMAT, "fastText model: %s", what); }

/* fastText's hash: FNV-1a over the bytes, each sign-extended (int8_t). */
static uint32_t ft_hash(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= (uint32_t)(int32_t)(int8_t)s[i];
        h *= 16777619u;
    }
    return h;
}

static int load_floats(rd *r, size_t count, float *dst)
{
    const uint8_t *p;
    uint64_t bytes;
    if (!mul_ok(count, 4, &bytes) || bytes > remain(r) || !take(r, (size_t)bytes, &p)) return 0;
    memcpy(dst, p, (size_t)bytes); /* float32 little-endian == host on the platforms built for */
    return 1;
}

static int load_pq(rd *r, ft_pq *q, float **store)
{
    q->dim = get_i32(r);
    q->nsubq = get_i32(r);
    q->dsub = get_i32(r);
    q->lastdsub = get_i32(r);
    if (r->bad) return fail("truncated quantiser");
    /* the relation fastText's ProductQuantizer constructor establishes */
    if (q->dim < 1 || q->dim > FT_MAX_DIM || q->dsub < 1 || q->dsub > q->dim) return fail("bad quantiser shape");
    int32_t last = q->dim % q->dsub, nsubq = q->dim / q->dsub;
    if (last == 0) last = q->dsub;
    else nsubq++;
    if (q->nsubq != nsubq || q->lastdsub != last) return fail("bad quantiser shape");
    size_t count = (size_t)q->dim * FT_KSUB;
    if ((uint64_t)count * 4 > remain(r)) return fail("truncated quantiser");
    float *c = maif_malloc(count * sizeof *c);
    if (!c) return maif_set_last_err(MAIF_ENOMEM, "out of memory");
    if (!load_floats(r, count, c)) { maif_free(c); return fail("truncated quantiser"); }
    q->centroids = c;
    *store = c;
    return 0;
}

static void matrix_free(ft_matrix *m)
{
    maif_free(m->dense);
    maif_free((void *)m->pq.centroids);
    maif_free((void *)m->npq.centroids);
    memset(m, 0, sizeof *m);
}

static int load_matrix(rd *r, ft_matrix *m, int quant, int32_t dim)
{
    float *store;
    memset(m, 0, sizeof *m);
    m->quant = quant;
    if (quant) m->qnorm = get_u8(r) != 0;
    m->m = get_i64(r);
    m->n = get_i64(r);
    if (r->bad) return fail("truncated matrix");
    if (m->n != dim || m->m < 1 || m->m > INT32_MAX) return fail("matrix shape does not match the dimension");
    if (!quant) {
        uint64_t count;
        if (!mul_ok((uint64_t)m->m, (uint64_t)m->n, &count) || count > remain(r) / 4) return fail("truncated matrix");
        m->dense = maif_malloc((size_t)count * sizeof(float) + 1);
        if (!m->dense) return maif_set_last_err(MAIF_ENOMEM, "out of memory");
        if (!load_floats(r, (size_t)count, m->dense)) return fail("truncated matrix");
        return 0;
    }
    int32_t codesize = get_i32(r);
    if (r->bad || codesize < 0 || (size_t)codesize > remain(r)) return fail("truncated codes");
    if (!take(r, (size_t)codesize, &m->codes)) return fail("truncated codes");
    int rc = load_pq(r, &m->pq, &store);
    if (rc) return rc;
    if (m->pq.dim != dim) return fail("quantiser dimension does not match the matrix");
    uint64_t need;
    if (!mul_ok((uint64_t)m->m, (uint64_t)m->pq.nsubq, &need) || need != (uint64_t)codesize)
        return fail("code size does not match the matrix");
    if (m->qnorm) {
        if ((uint64_t)m->m > remain(r) || !take(r, (size_t)m->m, &m->norm_codes)) return fail("truncated norm codes");
        if ((rc = load_pq(r, &m->npq, &store))) return rc;
    }
    return 0;
}

/* fastText's ProductQuantizer::get_centroids(m, code) */
static const float *centroid(const ft_pq *q, int32_t m, uint8_t code)
{
    if (m == q->nsubq - 1) return q->centroids + (size_t)m * FT_KSUB * q->dsub + (size_t)code * q->lastdsub;
    return q->centroids + ((size_t)m * FT_KSUB + code) * q->dsub;
}

/* x += row i of the matrix (times its norm for a quantised one) */
static void add_row(const ft_matrix *m, float *x, int64_t i)
{
    if (!m->quant) {
        const float *row = m->dense + i * m->n;
        for (int64_t j = 0; j < m->n; j++) x[j] += row[j];
        return;
    }
    float alpha = 1;
    if (m->qnorm) alpha = centroid(&m->npq, 0, m->norm_codes[i])[0];
    const ft_pq *q = &m->pq;
    const uint8_t *code = m->codes + (size_t)q->nsubq * (size_t)i;
    int32_t d = q->dsub;
    for (int32_t s = 0; s < q->nsubq; s++) {
        const float *c = centroid(q, s, code[s]);
        if (s == q->nsubq - 1) d = q->lastdsub;
        for (int32_t n = 0; n < d; n++) x[s * q->dsub + n] += alpha * c[n];
    }
}

static float dot_row(const ft_matrix *m, const float *x, int64_t i)
{
    if (!m->quant) {
        const float *row = m->dense + i * m->n;
        float d = 0;
        for (int64_t j = 0; j < m->n; j++) d += row[j] * x[j];
        return d;
    }
    float alpha = 1;
    if (m->qnorm) alpha = centroid(&m->npq, 0, m->norm_codes[i])[0];
    const ft_pq *q = &m->pq;
    const uint8_t *code = m->codes + (size_t)q->nsubq * (size_t)i;
    float res = 0;
    int32_t d = q->dsub;
    for (int32_t s = 0; s < q->nsubq; s++) {
        const float *c = centroid(q, s, code[s]);
        if (s == q->nsubq - 1) d = q->lastdsub;
        for (int32_t n = 0; n < d; n++) res += x[s * q->dsub + n] * c[n];
    }
    return res * alpha;
}

/* ---- dictionary */
static int32_t word_find(const maif_langid *l, const char *w, size_t n, uint32_t h)
{
    for (uint32_t s = h & l->wmask;; s = (s + 1) & l->wmask) {
        uint32_t v = l->wtab[s];
        if (!v) return -1;
        if (l->wlens[v - 1] == n && memcmp(l->words[v - 1], w, n) == 0) return (int32_t)(v - 1);
    }
}

static int prune_get(const maif_langid *l, int32_t key, int32_t *val)
{
    for (uint32_t s = ((uint32_t)key * 2654435761u) & l->pmask;; s = (s + 1) & l->pmask) {
        if (!l->pused[s]) return 0;
        if (l->pkeys[s] == key) { *val = l->pvals[s]; return 1; }
    }
}

static uint32_t pow2_at_least(uint64_t n)
{
    uint32_t c = 16;
    while (c < n) c <<= 1;
    return c;
}

void maif_langid_free(maif_langid *l)
{
    if (!l) return;
    matrix_free(&l->in);
    matrix_free(&l->out);
    maif_free(l->words);
    maif_free(l->wlens);
    maif_free(l->counts);
    maif_free(l->wtab);
    maif_free(l->pkeys);
    maif_free(l->pvals);
    maif_free(l->pused);
    maif_free(l->left);
    maif_free(l->right);
    maif_free(l->file);
    maif_free(l);
}

static int build_tree(maif_langid *l)
{
    int32_t osz = l->nlabels, nn = 2 * osz - 1;
    uint64_t *cnt = maif_calloc((size_t)nn, sizeof *cnt);
    l->left = maif_malloc((size_t)nn * sizeof *l->left);
    l->right = maif_malloc((size_t)nn * sizeof *l->right);
    if (!cnt || !l->left || !l->right) { maif_free(cnt); return maif_set_last_err(MAIF_ENOMEM, "out of memory"); }
    for (int32_t i = 0; i < nn; i++) { l->left[i] = l->right[i] = -1; cnt[i] = (uint64_t)1e15; }
    for (int32_t i = 0; i < osz; i++) cnt[i] = (uint64_t)l->counts[l->nwords + i];
    int32_t leaf = osz - 1, node = osz;
    for (int32_t i = osz; i < nn; i++) {
        int32_t mini[2];
        for (int j = 0; j < 2; j++) {
            /* fastText's rule; node == i (not built yet, count 1e15) is never taken, which
             * fastText gets from counts below 1e15 and a hostile file could break (a cycle) */
            if (leaf >= 0 && (node >= i || cnt[leaf] < cnt[node])) mini[j] = leaf--;
            else mini[j] = node++;
        }
        l->left[i] = mini[0];
        l->right[i] = mini[1];
        cnt[i] = cnt[mini[0]] + cnt[mini[1]];
    }
    maif_free(cnt);
    return 0;
}

static int parse(maif_langid *l)
{
    rd r = {l->file, l->file_len, 0, 0};
    if (get_i32(&r) != FT_MAGIC) return fail("not a fastText model (bad magic)");
    int32_t version = get_i32(&r);
    if (r.bad) return fail("truncated header");
    if (version != 11 && version != 12)
        return maif_set_last_err(MAIF_EVERSION, "fastText model: version %d (11 or 12 expected)", (int)version);
    int32_t a[12];
    for (int i = 0; i < 12; i++) a[i] = get_i32(&r);
    (void)get_i64(&r); /* t, a double */
    if (r.bad) return fail("truncated arguments");
    l->dim = a[0];
    l->word_ngrams = a[5];
    l->loss = a[6];
    l->model = a[7];
    l->bucket = a[8];
    l->minn = a[9];
    l->maxn = a[10];
    if (version == 11 && l->model == FT_MODEL_SUP) l->maxn = 0; /* as fastText: old supervised models had no subwords */
    if (l->model != FT_MODEL_SUP) return maif_set_last_err(MAIF_EUNSUPPORTED, "fastText model: not a supervised (classifier) model");
    if (l->loss != FT_LOSS_HS && l->loss != FT_LOSS_SOFTMAX)
        return maif_set_last_err(MAIF_EUNSUPPORTED, "fastText model: loss %d not supported (hs or softmax)", (int)l->loss);
    if (l->dim < 1 || l->dim > FT_MAX_DIM) return fail("dimension out of range");
    if (l->minn < 0 || l->maxn < 0 || l->maxn > FT_MAX_N || l->word_ngrams < 1 || l->word_ngrams > FT_MAX_N ||
        l->bucket < 0)
        return fail("argument out of range");
    if ((l->maxn > 0 || l->word_ngrams > 1) && l->bucket == 0) return fail("n-grams with no buckets");

    l->size = get_i32(&r);
    l->nwords = get_i32(&r);
    l->nlabels = get_i32(&r);
    (void)get_i64(&r); /* ntokens */
    l->pruneidx_size = get_i64(&r);
    if (r.bad) return fail("truncated dictionary");
    /* each entry takes at least 10 bytes: bounds size by the file before allocating */
    if (l->size < 1 || (size_t)l->size > remain(&r) / 10 || l->nwords < 0 || l->nlabels < 1 ||
        (int64_t)l->nwords + l->nlabels != l->size)
        return fail("bad dictionary sizes");
    l->words = maif_calloc((size_t)l->size, sizeof *l->words);
    l->wlens = maif_calloc((size_t)l->size, sizeof *l->wlens);
    l->counts = maif_calloc((size_t)l->size, sizeof *l->counts);
    l->wmask = pow2_at_least((uint64_t)l->size * 2) - 1;
    l->wtab = maif_calloc((size_t)l->wmask + 1, sizeof *l->wtab);
    if (!l->words || !l->wlens || !l->counts || !l->wtab) return maif_set_last_err(MAIF_ENOMEM, "out of memory");
    for (int32_t i = 0; i < l->size; i++) {
        const uint8_t *p = r.p + r.off, *z = memchr(p, 0, remain(&r));
        if (!z) return fail("truncated dictionary entry");
        size_t wl = (size_t)(z - p);
        const uint8_t *tail;
        r.off += wl + 1;
        if (!take(&r, 9, &tail)) return fail("truncated dictionary entry");
        int64_t count = (int64_t)rd64le(tail);
        int8_t type = (int8_t)tail[8];
        /* words first, then labels, as fastText's dictionary sorts them */
        if (type != (i < l->nwords ? 0 : 1)) return fail("dictionary entry of the wrong type");
        if (count < 0 || count >= ((int64_t)1 << 53)) return fail("dictionary count out of range");
        l->words[i] = (const char *)p;
        l->wlens[i] = (uint32_t)wl;
        l->counts[i] = count;
        /* a later duplicate replaces an earlier one, as in fastText's table */
        uint32_t h = ft_hash((const char *)p, wl), s = h & l->wmask;
        for (;; s = (s + 1) & l->wmask) {
            uint32_t v = l->wtab[s];
            if (!v || (l->wlens[v - 1] == wl && memcmp(l->words[v - 1], p, wl) == 0)) break;
        }
        l->wtab[s] = (uint32_t)i + 1;
    }
    if (l->pruneidx_size < -1 || (l->pruneidx_size > 0 && (uint64_t)l->pruneidx_size > remain(&r) / 8))
        return fail("bad pruned-index size");
    if (l->pruneidx_size > 0) {
        l->pmask = pow2_at_least((uint64_t)l->pruneidx_size * 2) - 1;
        l->pkeys = maif_calloc((size_t)l->pmask + 1, sizeof *l->pkeys);
        l->pvals = maif_calloc((size_t)l->pmask + 1, sizeof *l->pvals);
        l->pused = maif_calloc((size_t)l->pmask + 1, 1);
        if (!l->pkeys || !l->pvals || !l->pused) return maif_set_last_err(MAIF_ENOMEM, "out of memory");
        for (int64_t i = 0; i < l->pruneidx_size; i++) {
            int32_t k = get_i32(&r), v = get_i32(&r);
            if (v < 0) return fail("negative pruned-index row");
            uint32_t s = ((uint32_t)k * 2654435761u) & l->pmask;
            while (l->pused[s] && l->pkeys[s] != k) s = (s + 1) & l->pmask;
            l->pused[s] = 1;
            l->pkeys[s] = k;
            l->pvals[s] = v; /* a later pair for the same bucket wins, as in std::map[] */
        }
    }
    int quant = get_u8(&r) != 0;
    if (r.bad) return fail("truncated dictionary");
    if (!quant && l->pruneidx_size >= 0) return fail("pruned dictionary with a dense input matrix");
    int rc = load_matrix(&r, &l->in, quant, l->dim);
    if (rc) return rc;
    int qout = get_u8(&r) != 0;
    if (r.bad) return fail("truncated output matrix flag");
    if ((rc = load_matrix(&r, &l->out, quant && qout, l->dim))) return rc;
    if (l->out.m != l->nlabels) return fail("output matrix rows do not match the labels");
    /* every input row the scorer can reach must exist */
    int64_t rows = l->nwords;
    if (l->pruneidx_size < 0) rows += l->bucket;
    else
        for (uint32_t s = 0; s <= l->pmask && l->pused; s++)
            if (l->pused[s] && (int64_t)l->nwords + l->pvals[s] + 1 > rows) rows = (int64_t)l->nwords + l->pvals[s] + 1;
    if (l->in.m < rows) return fail("input matrix has fewer rows than the dictionary needs");
    if (l->loss == FT_LOSS_HS && (rc = build_tree(l))) return rc;
    return 0;
}

int maif_langid_load_mem(maif_langid **out, const void *data, size_t n)
{
    if (!out || (!data && n)) return maif_set_last_err(MAIF_EINVAL, "maif_langid_load_mem: NULL argument");
    *out = NULL;
    if (n > MAIF_LANGID_MAX) return maif_set_last_err(MAIF_ELIMIT, "fastText model: larger than %u bytes", MAIF_LANGID_MAX);
    maif_langid *l = maif_calloc(1, sizeof *l);
    if (!l) return maif_set_last_err(MAIF_ENOMEM, "out of memory");
    l->file = maif_malloc(n ? n : 1);
    if (!l->file) { maif_free(l); return maif_set_last_err(MAIF_ENOMEM, "out of memory"); }
    if (n) memcpy(l->file, data, n);
    l->file_len = n;
    int rc = parse(l);
    if (rc) { maif_langid_free(l); return rc; }
    *out = l;
    return MAIF_OK;
}

int maif_langid_load(maif_langid **out, const char *path)
{
    if (!out || !path) return maif_set_last_err(MAIF_EINVAL, "maif_langid_load: NULL argument");
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return maif_set_last_err(errno == ENOENT ? MAIF_ENOTFOUND : MAIF_EIO, "%s: %s", path, strerror(errno));
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    int rc = MAIF_OK;
    for (;;) {
        if (len == cap) {
            if (cap >= MAIF_LANGID_MAX) { rc = maif_set_last_err(MAIF_ELIMIT, "%s: larger than %u bytes", path, MAIF_LANGID_MAX); break; }
            size_t nc = cap ? cap * 2 : 1 << 20;
            if (nc > (size_t)MAIF_LANGID_MAX + 1) nc = (size_t)MAIF_LANGID_MAX + 1;
            uint8_t *nb = maif_realloc(buf, nc);
            if (!nb) { rc = maif_set_last_err(MAIF_ENOMEM, "out of memory"); break; }
            buf = nb;
            cap = nc;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) {
            if (ferror(f)) rc = maif_set_last_err(MAIF_EIO, "%s: read error", path);
            break;
        }
    }
    fclose(f);
    if (rc == MAIF_OK && len > MAIF_LANGID_MAX) rc = maif_set_last_err(MAIF_ELIMIT, "%s: larger than %u bytes", path, MAIF_LANGID_MAX);
    if (rc == MAIF_OK) {
        rc = maif_langid_load_mem(out, buf, len);
        if (rc) {
            char msg[256];
            snprintf(msg, sizeof msg, "%s", maif_last_errmsg()); /* the message buffer is the one written */
            maif_set_last_err(rc, "%s: %s", path, msg);
        }
    }
    maif_free(buf);
    return rc;
}

/* ---- scoring */
typedef struct {
    int32_t *v;
    size_t n, cap;
    int oom;
} ivec;

static void ipush(ivec *a, int32_t x)
{
    if (a->oom) return;
    if (a->n == a->cap) {
        size_t nc = a->cap ? a->cap * 2 : 64;
        int32_t *nv = maif_realloc(a->v, nc * sizeof *nv);
        if (!nv) { a->oom = 1; return; }
        a->v = nv;
        a->cap = nc;
    }
    a->v[a->n++] = x;
}

static void push_hash(const maif_langid *l, ivec *line, int32_t id)
{
    if (l->pruneidx_size == 0 || id < 0) return;
    if (l->pruneidx_size > 0 && !prune_get(l, id, &id)) return;
    ipush(line, l->nwords + id);
}

/* character n-grams of "<" word ">" between minn and maxn code points */
static void subwords(const maif_langid *l, const char *tok, size_t tn, ivec *line, char *buf)
{
    size_t wn = tn + 2;
    buf[0] = '<';
    memcpy(buf + 1, tok, tn);
    buf[tn + 1] = '>';
    for (size_t i = 0; i < wn; i++) {
        if ((buf[i] & 0xC0) == 0x80) continue;
        size_t j = i;
        for (int32_t n = 1; j < wn && n <= l->maxn; n++) {
            j++;
            while (j < wn && (buf[j] & 0xC0) == 0x80) j++;
            if (n >= l->minn && !(n == 1 && (i == 0 || j == wn))) {
                int32_t h = (int32_t)(ft_hash(buf + i, j - i) % (uint32_t)l->bucket);
                push_hash(l, line, h);
            }
        }
    }
}

static int is_ft_space(unsigned char c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\v' || c == '\f' || c == '\0';
}

int maif_text_language(const maif_langid *l, const char *text, size_t n, char *label, size_t label_cap,
                       double *confidence)
{
    if (!l || (!text && n) || !label || !label_cap)
        return maif_set_last_err(MAIF_EINVAL, "maif_text_language: NULL argument");
    label[0] = 0;
    if (confidence) *confidence = 0;
    if (!maif_utf8_valid(text, n)) return maif_set_last_err(MAIF_EINVAL, "text is not valid UTF-8");
    if (n > MAIF_TEXT_ANALYZE_MAX)
        return maif_set_last_err(MAIF_ELIMIT, "text longer than %u bytes", (unsigned)MAIF_TEXT_ANALYZE_MAX);
    ivec line = {0}, hashes = {0};
    char *buf = maif_malloc(n + 3);
    float *hidden = maif_calloc((size_t)l->dim, sizeof *hidden);
    int rc = MAIF_OK;
    if (!buf || !hidden) { rc = maif_set_last_err(MAIF_ENOMEM, "out of memory"); goto out; }
    /* tokens split on fastText's separators; the text is one line, so "</s>" ends it */
    size_t i = 0;
    int done = 0;
    while (!done) {
        while (i < n && is_ft_space((unsigned char)text[i])) i++;
        const char *tok;
        size_t tn;
        if (i < n) {
            size_t s = i;
            while (i < n && !is_ft_space((unsigned char)text[i])) i++;
            tok = text + s;
            tn = i - s;
        } else {
            tok = FT_EOS;
            tn = 4;
            done = 1;
        }
        uint32_t h = ft_hash(tok, tn);
        int32_t wid = word_find(l, tok, tn, h);
        int is_label = wid >= 0 ? wid >= l->nwords : (tn >= 9 && memcmp(tok, FT_LABEL, 9) == 0);
        if (!is_label) {
            int eos = tn == 4 && memcmp(tok, FT_EOS, 4) == 0;
            if (wid >= 0) ipush(&line, wid);
            if (!eos && l->maxn > 0) subwords(l, tok, tn, &line, buf);
            ipush(&hashes, (int32_t)h);
        }
        if (tn == 4 && memcmp(tok, FT_EOS, 4) == 0) done = 1;
    }
    for (size_t a = 0; a < hashes.n; a++) {
        uint64_t h = (uint64_t)(int64_t)hashes.v[a];
        for (size_t b = a + 1; b < hashes.n && b < a + (size_t)l->word_ngrams; b++) {
            h = h * 116049371u + (uint64_t)(int64_t)hashes.v[b];
            push_hash(l, &line, (int32_t)(h % (uint64_t)l->bucket));
        }
    }
    if (line.oom || hashes.oom) { rc = maif_set_last_err(MAIF_ENOMEM, "out of memory"); goto out; }
    if (line.n == 0) { rc = maif_set_last_err(MAIF_ENOTFOUND, "no language: the text has no word the model knows"); goto out; }
    for (size_t k = 0; k < line.n; k++) add_row(&l->in, hidden, line.v[k]);
    float inv = (float)(1.0 / (double)line.n);
    for (int32_t k = 0; k < l->dim; k++) hidden[k] *= inv;

    float best = 0;
    int32_t best_i = -1;
    const float floor_score = (float)log(0.0 + 1e-5); /* std_log(threshold 0) */
    if (l->loss == FT_LOSS_HS) {
        int32_t osz = l->nlabels, *stack = maif_malloc(sizeof *stack * (size_t)(2 * osz));
        float *scores = maif_malloc(sizeof *scores * (size_t)(2 * osz));
        if (!stack || !scores) { maif_free(stack); maif_free(scores); rc = maif_set_last_err(MAIF_ENOMEM, "out of memory"); goto out; }
        size_t sp = 0;
        stack[sp] = 2 * osz - 2;
        scores[sp++] = 0;
        /* fastText's recursive dfs with k = 1, left before right, pruned the same way */
        while (sp) {
            sp--;
            int32_t node = stack[sp];
            float score = scores[sp];
            if (score < floor_score) continue;
            if (best_i >= 0 && score < best) continue;
            if (l->left[node] == -1 && l->right[node] == -1) {
                best = score; /* a tie goes to the later leaf, as fastText's heap does */
                best_i = node;
                continue;
            }
            if (sp + 2 > (size_t)(2 * osz)) { rc = maif_set_last_err(MAIF_EFORMAT, "fastText model: bad tree"); break; }
            float f = dot_row(&l->out, hidden, node - osz);
            f = (float)(1. / (double)(1 + expf(-f)));
            /* fastText's std_log(x) = log(x + 1e-5), x and the result float */
            stack[sp] = l->right[node];
            scores[sp++] = score + (float)log((double)f + 1e-5);
            stack[sp] = l->left[node];
            scores[sp++] = score + (float)log((double)(float)(1.0 - (double)f) + 1e-5);
        }
        maif_free(stack);
        maif_free(scores);
        if (rc) goto out;
    } else {
        int32_t osz = l->nlabels;
        float *o = maif_malloc(sizeof *o * (size_t)osz);
        if (!o) { rc = maif_set_last_err(MAIF_ENOMEM, "out of memory"); goto out; }
        for (int32_t k = 0; k < osz; k++) o[k] = dot_row(&l->out, hidden, k);
        float mx = o[0], z = 0;
        for (int32_t k = 0; k < osz; k++) mx = o[k] > mx ? o[k] : mx;
        for (int32_t k = 0; k < osz; k++) { o[k] = expf(o[k] - mx); z += o[k]; }
        for (int32_t k = 0; k < osz; k++) o[k] /= z;
        for (int32_t k = 0; k < osz; k++) {
            if (o[k] < 0.0f) continue;
            float s = (float)log((double)o[k] + 1e-5);
            if (best_i >= 0 && s < best) continue;
            best = s;
            best_i = k;
        }
        maif_free(o);
    }
    if (best_i < 0) { rc = maif_set_last_err(MAIF_ENOTFOUND, "no language above the threshold"); goto out; }
    if (isnan(best)) { rc = maif_set_last_err(MAIF_EFORMAT, "fastText model: a score is NaN"); goto out; } /* fastText throws too */
    const char *w = l->words[l->nwords + best_i];
    size_t wl = l->wlens[l->nwords + best_i];
    if (wl >= 9 && memcmp(w, FT_LABEL, 9) == 0) { w += 9; wl -= 9; }
    if (wl + 1 > label_cap) { rc = maif_set_last_err(MAIF_ELIMIT, "label longer than the buffer"); goto out; }
    memcpy(label, w, wl);
    label[wl] = 0;
    if (confidence) *confidence = (double)expf(best);
out:
    maif_free(line.v);
    maif_free(hashes.v);
    maif_free(buf);
    maif_free(hidden);
    return rc;
}
