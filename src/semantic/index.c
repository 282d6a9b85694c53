/*
 * index.c — opening an artifact's vector index (maif_index_open) and
 * building one (maif_index_build).
 *
 * Opening walks back from the last block to the latest VIDX block of the
 * model: the blocks it passes are exactly the ones added after that index
 * was built (the tail), so opening costs O(tail), never O(index size).
 * The graph is used in place from the memory map; the tail's embeddings
 * are copied into one matrix and searched exactly, and their results
 * merged with the graph's. Without any VIDX block every embedding is
 * tail: exact search.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "semantic/semantic.h"
#include "semantic/textidx.h"
#include "util/alloc.h"
#include "util/common.h"
#include "util/options.h"

int sem_embd_meta(const maif_block *b, char *model, size_t *dim, uint8_t src[MAIF_ID_BYTES], int *has_src)
{
    model[0] = 0;
    *dim = 0;
    *has_src = 0;
    if (!b->meta) return MAIF_EFORMAT;
    json_t *m = json_loadb(b->meta, b->meta_size, 0, NULL);
    if (!m) return MAIF_EFORMAT;
    int rc = MAIF_OK;
    json_t *d = json_object_get(m, "dimensions");
    const char *mm = json_string_value(json_object_get(m, "model"));
    const char *s = json_string_value(json_object_get(m, "source_block"));
    if (!json_is_integer(d) || json_integer_value(d) < 1 || json_integer_value(d) > SEM_DIM_MAX) rc = MAIF_EFORMAT;
    else *dim = (size_t)json_integer_value(d);
    if (mm && strlen(mm) < SEM_MODEL_MAX) strcpy(model, mm);
    if (s && maif_unhex(s, src, MAIF_ID_BYTES) == MAIF_OK) *has_src = 1;
    json_decref(m);
    return rc;
}

/* The float rows of an embedding block: in place when plain and aligned,
 * else decoded into *owned. */
static int embd_rows(maif_reader *r, uint64_t i, size_t dim, const float **rows, size_t *count, void **owned)
{
    *owned = NULL;
    const char *t;
    size_t len;
    char *o = NULL;
    int rc = sem_block_text(r, i, &t, &len, &o);
    if (rc) return rc;
    if (len == 0 || len % (dim * 4) != 0) {
        maif_free(o);
        return MAIF_EFORMAT;
    }
    if (!o && ((uintptr_t)t & 3)) {
        o = maif_malloc(len);
        if (!o) return MAIF_ENOMEM;
        memcpy(o, t, len);
        t = o;
    }
    *owned = o;
    *rows = (const float *)(const void *)t;
    *count = len / (dim * 4);
    return MAIF_OK;
}

/* Subject of an embedding: its source block if it names one that exists,
 * else the embedding block itself. */
static uint64_t subject_of(maif_reader *r, uint64_t i, const uint8_t *src, int has_src)
{
    uint64_t s;
    if (has_src && maif_reader_find(r, src, &s) == MAIF_OK) return s;
    return i;
}

void maif_index_close(maif_index *ix)
{
    if (!ix) return;
    maif_free(ix->owned);
    maif_free(ix->tail);
    maif_free(ix->tailvec);
    sem_idset_free(&ix->tail_sup);
    maif_embedder_close(ix->emb);
    sem_text_close(ix);
    maif_free(ix);
}

static int add_tail(maif_index *ix, uint64_t block, uint64_t subject, uint32_t row, const float *v, size_t *cap)
{
    if (ix->ntail == *cap) {
        size_t nc = *cap ? *cap * 2 : 64;
        uint64_t bytes;
        if (!mul_ok(nc, ix->dim * sizeof(float), &bytes) || bytes > SIZE_MAX) return MAIF_ENOMEM;
        sem_tail *t = maif_realloc(ix->tail, nc * sizeof *t);
        if (!t) return MAIF_ENOMEM;
        ix->tail = t;
        float *tv = maif_realloc(ix->tailvec, (size_t)bytes);
        if (!tv) return MAIF_ENOMEM;
        ix->tailvec = tv;
        *cap = nc;
    }
    ix->tail[ix->ntail] = (sem_tail){block, subject, row};
    float *dst = ix->tailvec + ix->ntail * ix->dim;
    memcpy(dst, v, ix->dim * sizeof *dst);
    if (ix->metric == SEM_METRIC_COSINE) sem_normalize(dst, ix->dim);
    ix->ntail++;
    return MAIF_OK;
}

static int fail(maif_index *ix, int rc, const char *msg)
{
    maif_index_close(ix);
    return maif_set_last_err(rc, "%s", msg);
}

int maif_index_open(maif_index **out, maif_reader *r, const char *model)
{
    if (!out || !r) return maif_set_last_err(MAIF_EINVAL, "maif_index_open: NULL argument");
    *out = NULL;
    if (model && strlen(model) >= SEM_MODEL_MAX) return maif_set_last_err(MAIF_EINVAL, "model name too long");
    maif_index *ix = maif_calloc(1, sizeof *ix);
    if (!ix) return maif_set_last_err(MAIF_ENOMEM, "out of memory");
    ix->r = r;
    ix->vidx_block = -1;
    ix->metric = SEM_METRIC_COSINE;
    if (model) strcpy(ix->model, model);
    uint64_t n = maif_reader_count(r);
    char err[256];
    /* pass 1, backwards: the latest VIDX of the model; what lies after it is the tail */
    int64_t last_embd = -1;
    uint64_t vec_free = 0; /* blocks below this hold no EMBD or VIDX (a TIDX says so) */
    for (uint64_t i = n; i-- > 0;) {
        maif_block b;
        if (maif_reader_block(r, i, &b) != MAIF_OK) continue;
        if (b.type == MAIF_TYPE_EMBEDDING && last_embd < 0) last_embd = (int64_t)i;
        if (b.type == SEM_TYPE_TIDX && sem_tidx_vector_free(&b, i, &vec_free)) break; /* nothing older to find */
        if (b.type != SEM_TYPE_VIDX || !b.meta) continue;
        json_t *m = json_loadb(b.meta, b.meta_size, 0, NULL);
        const char *mm = m ? json_string_value(json_object_get(m, "model")) : NULL;
        int match = mm && strlen(mm) < SEM_MODEL_MAX && (!model || strcmp(mm, model) == 0);
        if (match && !model) strcpy(ix->model, mm);
        json_t *sup = json_object_get(m, "superseded");
        ix->graph_superseded = !json_is_integer(sup) || json_integer_value(sup) != 0;
        json_decref(m);
        if (!match) continue;
        const uint8_t *p;
        size_t size;
        int brc = sem_block_aligned(r, i, &b, &p, &size, &ix->owned);
        if (brc) return fail(ix, brc, "vector index block cannot be read");
        int rc = sem_hnsw_view(&ix->h, p, size, err, sizeof err);
        if (rc) {
            char msg[400];
            snprintf(msg, sizeof msg, "block %llu: %s", (unsigned long long)i, err);
            return fail(ix, rc, msg);
        }
        if (ix->h.covered > i) return fail(ix, MAIF_EFORMAT, "vector index covers blocks after itself");
        ix->has_graph = 1;
        ix->vidx_block = (int64_t)i;
        ix->covered = ix->h.covered;
        ix->dim = ix->h.dim;
        ix->metric = (int)ix->h.metric;
        break;
    }
    /* pick the model when none was asked for and no index names one */
    if (!model && !ix->has_graph && last_embd >= 0) {
        maif_block b;
        size_t d;
        uint8_t src[MAIF_ID_BYTES];
        int hs;
        if (maif_reader_block(r, (uint64_t)last_embd, &b) == MAIF_OK) (void)sem_embd_meta(&b, ix->model, &d, src, &hs);
    }
    /* pass 2: the tail, oldest first */
    size_t cap = 0;
    uint64_t start = ix->has_graph ? ix->covered : vec_free;
    for (uint64_t i = start; i < n; i++) {
        maif_block b;
        if (maif_reader_block(r, i, &b) != MAIF_OK) continue;
        if (b.has_supersedes && ix->has_graph && sem_idset_add(&ix->tail_sup, b.supersedes))
            return fail(ix, MAIF_ENOMEM, "out of memory");
        if (b.type != MAIF_TYPE_EMBEDDING) continue;
        char mm[SEM_MODEL_MAX];
        size_t d;
        uint8_t src[MAIF_ID_BYTES];
        int hs;
        if (sem_embd_meta(&b, mm, &d, src, &hs) != MAIF_OK || strcmp(mm, ix->model) != 0) continue;
        if (ix->dim == 0) ix->dim = d;
        if (d != ix->dim) continue;
        const float *rows;
        size_t cnt;
        void *o;
        if (embd_rows(r, i, d, &rows, &cnt, &o) != MAIF_OK) continue;
        uint64_t subj = cnt == 1 ? subject_of(r, i, src, hs) : i;
        int rc = MAIF_OK;
        for (size_t k = 0; k < cnt && !rc && k <= UINT32_MAX; k++)
            rc = add_tail(ix, i, subj, (uint32_t)k, rows + k * d, &cap);
        maif_free(o);
        if (rc) return fail(ix, MAIF_ENOMEM, "out of memory");
    }
    *out = ix;
    return MAIF_OK;
}

int maif_index_get_info(const maif_index *ix, maif_index_info *out)
{
    if (!ix || !out) return maif_set_last_err(MAIF_EINVAL, "maif_index_get_info: NULL argument");
    memset(out, 0, sizeof *out);
    out->model = ix->model;
    out->dimensions = ix->dim;
    out->metric = ix->metric;
    out->index_block = ix->vidx_block;
    out->indexed = ix->has_graph ? ix->h.n : 0;
    out->tail = ix->ntail;
    out->covered_blocks = ix->covered;
    out->m = ix->has_graph ? ix->h.m : 0;
    out->ef_construction = ix->has_graph ? ix->h.ef_construction : 0;
    out->index_bytes = ix->has_graph ? ix->h.size : 0;
    out->quantize = ix->has_graph ? (int)ix->h.quant : 0;
    out->kernels = sem_kernels_best()->name;
    /* the text index: found on first use (ix is used by one thread; the
       state it caches is not part of what the caller sees as const) */
    return sem_text_info((maif_index *)ix, &out->text_index_block, &out->text_indexed, &out->text_covered_blocks,
                         &out->text_index_bytes, &out->text_error);
}

/* ------------------------------------------------------------- build */

int sem_index_block_commit(maif_writer *w, uint32_t type, const uint8_t *payload, size_t psize, json_t *meta)
{
    char *ms = meta ? json_dumps(meta, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(meta);
    if (!ms) return maif_set_last_err(MAIF_ENOMEM, "out of memory");
    maif_block_spec spec = {0};
    spec.type = type;
    spec.payload = payload;
    spec.payload_size = psize;
    spec.meta_json = ms;
    spec.meta_size = strlen(ms);
    int rc = maif_writer_set_codec(w, MAIF_CODEC_NONE, 0);
    if (rc == MAIF_OK) rc = maif_writer_add(w, &spec, NULL);
    json_malloc_t jm;
    json_free_t jf;
    json_get_alloc_funcs(&jm, &jf);
    jf(ms);
    if (rc == MAIF_OK) rc = maif_writer_commit(w);
    return rc;
}

static const char *metric_name(int m)
{
    return m == SEM_METRIC_L2 ? "l2" : m == SEM_METRIC_IP ? "ip" : "cosine";
}

int maif_index_build(const char *path, const char *model, const maif_key *key, const maif_options *opt,
                     uint64_t *indexed)
{
    if (indexed) *indexed = 0;
    if (!path || !key) return maif_set_last_err(MAIF_EINVAL, "maif_index_build: NULL argument");
    int64_t mo = maif_opt(opt, MAIF_OPT_INDEX_M), efo = maif_opt(opt, MAIF_OPT_INDEX_EF_CONSTRUCTION);
    int64_t meto = maif_opt(opt, MAIF_OPT_INDEX_METRIC), qo = maif_opt(opt, MAIF_OPT_INDEX_QUANTIZE);
    int64_t pqo = maif_opt(opt, MAIF_OPT_INDEX_PQ_M);
    uint32_t m = mo ? (uint32_t)mo : 16, efc = efo ? (uint32_t)efo : 200;
    int metric = meto ? (int)meto : SEM_METRIC_COSINE;
    maif_reader *r = NULL;
    maif_writer *w = NULL;
    int rc = maif_reader_open(&r, path);
    if (rc) return rc;
    uint64_t nb = maif_reader_count(r);
    char mdl[SEM_MODEL_MAX] = "";
    size_t dim = 0;
    if (model) {
        if (strlen(model) >= SEM_MODEL_MAX) {
            maif_reader_close(r);
            return maif_set_last_err(MAIF_EINVAL, "model name too long");
        }
        strcpy(mdl, model);
    } else {
        int found = 0;
        for (uint64_t i = nb; i-- > 0 && !found;) {
            maif_block b;
            uint8_t src[MAIF_ID_BYTES];
            int hs;
            if (maif_reader_block(r, i, &b) == MAIF_OK && b.type == MAIF_TYPE_EMBEDDING &&
                sem_embd_meta(&b, mdl, &dim, src, &hs) == MAIF_OK)
                found = 1;
        }
        dim = 0;
    }
    /* collect the rows: pointers into the map (or owned copies) */
    size_t n = 0, cap = 0, nown = 0, owncap = 0;
    const float **rows = NULL;
    uint64_t *blk = NULL, *subj = NULL;
    uint32_t *rowi = NULL;
    uint8_t *flags = NULL;
    void **own = NULL;
    uint8_t *payload = NULL;
    size_t psize = 0;
    for (uint64_t i = 0; i < nb; i++) {
        maif_block b;
        if (maif_reader_block(r, i, &b) != MAIF_OK || b.type != MAIF_TYPE_EMBEDDING) continue;
        char mm[SEM_MODEL_MAX];
        size_t d;
        uint8_t src[MAIF_ID_BYTES];
        int hs;
        if (sem_embd_meta(&b, mm, &d, src, &hs) != MAIF_OK || strcmp(mm, mdl) != 0) continue;
        if (!dim) dim = d;
        if (d != dim) continue;
        const float *rr;
        size_t cnt;
        void *o;
        if (embd_rows(r, i, d, &rr, &cnt, &o) != MAIF_OK) continue;
        if (o) {
            if (nown == owncap) {
                owncap = owncap ? owncap * 2 : 16;
                void **t = maif_realloc(own, owncap * sizeof *t);
                if (!t) { maif_free(o); rc = MAIF_ENOMEM; goto out; }
                own = t;
            }
            own[nown++] = o;
        }
        uint64_t s = cnt == 1 ? subject_of(r, i, src, hs) : i;
        /* hidden by default: a subject that a later block supersedes */
        uint8_t fl = 0;
        maif_block sb;
        if (maif_reader_block(r, s, &sb) == MAIF_OK) {
            uint64_t hist[1];
            size_t hn = 0;
            if (maif_reader_history(r, sb.id, hist, 0, &hn) == MAIF_OK && hn > 1) {
                uint64_t *all = maif_malloc(hn * sizeof *all);
                if (all && maif_reader_history(r, sb.id, all, hn, &hn) == MAIF_OK && all[hn - 1] != s)
                    fl |= SEM_VIDX_F_SUPERSEDED;
                maif_free(all);
            }
        }
        for (size_t k = 0; k < cnt; k++) {
            if (n == cap) {
                cap = cap ? cap * 2 : 1024;
                const float **a = maif_realloc(rows, cap * sizeof *a);
                if (a) rows = a;
                uint64_t *b1 = maif_realloc(blk, cap * sizeof *b1);
                if (b1) blk = b1;
                uint64_t *b2 = maif_realloc(subj, cap * sizeof *b2);
                if (b2) subj = b2;
                uint32_t *b3 = maif_realloc(rowi, cap * sizeof *b3);
                if (b3) rowi = b3;
                uint8_t *b4 = maif_realloc(flags, cap);
                if (b4) flags = b4;
                if (!a || !b1 || !b2 || !b3 || !b4 || n >= SEM_VIDX_N_MAX) {
                    rc = n >= SEM_VIDX_N_MAX ? MAIF_ELIMIT : MAIF_ENOMEM;
                    goto out;
                }
            }
            rows[n] = rr + k * d;
            blk[n] = i;
            subj[n] = s;
            rowi[n] = (uint32_t)k;
            flags[n] = fl;
            n++;
        }
    }
    if (n == 0) {
        rc = maif_set_last_err(MAIF_ENOTFOUND, "no embeddings to index%s%s (run `maif embed` first)",
                               *mdl ? " of model " : "", mdl);
        goto out;
    }
    sem_build_in in = {rows, blk, subj, rowi, flags, n, nb, (uint32_t)dim, (uint32_t)metric, m, efc, 0x5EED,
                       (unsigned)maif_opt(opt, MAIF_OPT_INDEX_THREADS), (uint32_t)qo, (uint32_t)pqo, 0};
    if (qo == MAIF_QUANTIZE_PQ && !pqo) in.pq_m = sem_pq_default_m((uint32_t)dim);
    if ((rc = sem_hnsw_build(&in, &payload, &psize))) goto out;
    if ((rc = maif_writer_open(&w, path, key, opt))) goto out;
    if (maif_writer_count(w) != nb) {
        rc = maif_set_last_err(MAIF_ESTATE, "the artifact changed while the index was built; run again");
        goto out;
    }
    size_t nsup = 0;
    for (size_t i = 0; i < n; i++) nsup += flags[i] & SEM_VIDX_F_SUPERSEDED;
    json_t *meta = json_pack("{s:I,s:I,s:I,s:I,s:s,s:s,s:s,s:I,s:I}", "covered", (json_int_t)nb, "dimensions",
                             (json_int_t)dim, "ef_construction", (json_int_t)efc, "m", (json_int_t)m, "metric",
                             metric_name(metric), "model", mdl, "quantize",
                             qo == MAIF_QUANTIZE_PQ ? "pq" : qo ? "int8" : "none", "superseded", (json_int_t)nsup,
                             "vectors", (json_int_t)n);
    if (meta && qo == MAIF_QUANTIZE_PQ) json_object_set_new(meta, "pq_m", json_integer((json_int_t)in.pq_m));
    if ((rc = sem_index_block_commit(w, SEM_TYPE_VIDX, payload, psize, meta))) goto out;
    rc = maif_writer_close(w);
    w = NULL;
    if (!rc && indexed) *indexed = n;
out:
    if (rc == MAIF_ENOMEM) maif_set_last_err(rc, "index build: out of memory");
    maif_writer_close(w);
    maif_reader_close(r);
    for (size_t i = 0; i < nown; i++) maif_free(own[i]);
    maif_free(own);
    maif_free(rows);
    maif_free(blk);
    maif_free(subj);
    maif_free(rowi);
    maif_free(flags);
    maif_free(payload);
    return rc;
}
