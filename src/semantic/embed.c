/*
 * embed.c — the embedder table (embed.h), the public maif_embedder_*
 * handle over it, and embedding an artifact's texts: EMBD blocks that
 * name their model and source block (docs/FORMAT.md §5.3).
 */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "semantic/embed.h"
#include "semantic/idset.h"
#include "semantic/model_glove.h"
#include "semantic/model_use.h"
#include "util/alloc.h"
#include "util/common.h"

struct maif_embedder {
    const sem_embedder_ops *ops;
    void *state;
    size_t dim;
    char model[SEM_MODEL_MAX];
};

/* ---------------------------------------------------------------- text */

int sem_block_text(maif_reader *r, uint64_t i, const char **text, size_t *len, char **owned)
{
    *owned = NULL;
    maif_block b;
    int rc = maif_reader_block(r, i, &b);
    if (rc) return rc;
    if (b.codec == 0 && b.cipher == 0) {
        *text = (const char *)b.payload;
        *len = b.payload_size;
        return MAIF_OK;
    }
    size_t n;
    if ((rc = maif_reader_block_decoded_size(r, i, &n))) return rc;
    char *buf = maif_malloc(n ? n : 1);
    if (!buf) return MAIF_ENOMEM;
    size_t w;
    if ((rc = maif_reader_block_decode(r, i, buf, n, &w))) {
        maif_free(buf);
        return rc;
    }
    *owned = buf;
    *text = buf;
    *len = w;
    return MAIF_OK;
}

/* -------------------------------------------------------------- hashed */

typedef struct hashed_state {
    float *idf; /* SEM_HASHED_BUCKETS, or NULL: uniform */
} hashed_state;

/* Copies an HIDF payload into idf after checking it. */
static int load_idf(maif_reader *r, uint64_t i, float **idf)
{
    maif_block b;
    int rc = maif_reader_block(r, i, &b);
    if (rc) return rc;
    if (b.type != SEM_TYPE_HIDF || b.codec || b.cipher || b.payload_size != SEM_HASHED_BUCKETS * sizeof(float))
        return maif_set_last_err(MAIF_EFORMAT, "block %llu is not an IDF table of %u floats",
                                 (unsigned long long)i, SEM_HASHED_BUCKETS);
    float *t = maif_malloc(SEM_HASHED_BUCKETS * sizeof *t);
    if (!t) return maif_set_last_err(MAIF_ENOMEM, "out of memory");
    memcpy(t, b.payload, SEM_HASHED_BUCKETS * sizeof *t);
    for (uint32_t k = 0; k < SEM_HASHED_BUCKETS; k++)
        if (!(t[k] >= 0.0f && t[k] <= 1000.0f)) {
            maif_free(t);
            return maif_set_last_err(MAIF_EFORMAT, "IDF table in block %llu: entry %u is not in [0, 1000]",
                                     (unsigned long long)i, k);
        }
    *idf = t;
    return MAIF_OK;
}

/* The latest HIDF block, or -1. */
static int64_t latest_of_type(maif_reader *r, uint32_t type)
{
    for (uint64_t i = maif_reader_count(r); i-- > 0;) {
        maif_block b;
        if (maif_reader_block(r, i, &b) == MAIF_OK && b.type == type) return (int64_t)i;
    }
    return -1;
}

static int hashed_open(void **state, const char *arg, maif_reader *r, char *model, size_t *dim)
{
    hashed_state *st = maif_calloc(1, sizeof *st);
    if (!st) return maif_set_last_err(MAIF_ENOMEM, "out of memory");
    int64_t at = -1;
    if (arg) {
        uint8_t id[MAIF_ID_BYTES];
        uint64_t idx;
        if (maif_unhex(arg, id, sizeof id) != MAIF_OK) {
            maif_free(st);
            return maif_set_last_err(MAIF_EINVAL, "model 'hashed:%s': expected 32 hex digits (an IDF block id)", arg);
        }
        if (!r || maif_reader_find(r, id, &idx) != MAIF_OK) {
            maif_free(st);
            return maif_set_last_err(MAIF_ENOTFOUND, "model 'hashed:%s': no such IDF block in the artifact", arg);
        }
        at = (int64_t)idx;
    } else if (r) {
        at = latest_of_type(r, SEM_TYPE_HIDF);
    }
    strcpy(model, "hashed");
    if (at >= 0) {
        int rc = load_idf(r, (uint64_t)at, &st->idf);
        if (rc) {
            maif_free(st);
            return rc;
        }
        maif_block b;
        (void)!maif_reader_block(r, (uint64_t)at, &b);
        char hex[2 * MAIF_ID_BYTES + 1];
        snprintf(model, SEM_MODEL_MAX, "hashed:%s", maif_hex(b.id, MAIF_ID_BYTES, hex));
    }
    *dim = SEM_HASHED_DIM;
    *state = st;
    return MAIF_OK;
}

static int hashed_embed(void *state, const char *text, size_t len, float *out)
{
    sem_hashed_embed(((hashed_state *)state)->idf, text, len, out);
    return MAIF_OK;
}

static void hashed_close(void *state)
{
    hashed_state *st = state;
    if (!st) return;
    maif_free(st->idf);
    maif_free(st);
}

const sem_embedder_ops sem_embedder_hashed = {"hashed", hashed_open, hashed_embed, hashed_close};

/* ------------------------------------------------- the model embedders */

/* Where a model lives when its name gives no path: NAME in $MAIF_MODELS,
 * $MAIF_CACHE/models, ${XDG_CACHE_HOME:-~/.cache}/maif/models (as the
 * language-identification models; scripts/fetch-models.sh fills the cache). */
static void model_dir(char *buf, size_t cap, const char *name)
{
    const char *d;
    if ((d = getenv("MAIF_MODELS")) && *d) snprintf(buf, cap, "%s/%s", d, name);
    else if ((d = getenv("MAIF_CACHE")) && *d) snprintf(buf, cap, "%s/models/%s", d, name);
    else if ((d = getenv("XDG_CACHE_HOME")) && *d) snprintf(buf, cap, "%s/maif/models/%s", d, name);
    else snprintf(buf, cap, "%s/.cache/maif/models/%s", getenv("HOME") ? getenv("HOME") : ".", name);
}

static int use_open(void **state, const char *arg, maif_reader *r, char *model, size_t *dim)
{
    (void)r;
    char dir[4096];
    if (!arg || !*arg) model_dir(dir, sizeof dir, "use/package"); /* as scripts/fetch-models.sh unpacks it */
    else snprintf(dir, sizeof dir, "%s", arg);
    sem_use *m = NULL;
    int rc = sem_use_open(&m, dir);
    if (rc) return rc;
    *state = m;
    *dim = sem_use_dim(m);
    snprintf(model, SEM_MODEL_MAX, "use");
    return MAIF_OK;
}
static int use_embed(void *state, const char *text, size_t len, float *out)
{
    return sem_use_embed(state, text, len, out);
}
static void use_close(void *state) { sem_use_close(state); }
const sem_embedder_ops sem_embedder_use = {"use", use_open, use_embed, use_close};

static int glove_open(void **state, const char *arg, maif_reader *r, char *model, size_t *dim)
{
    (void)r;
    if (!arg || !*arg) return maif_set_last_err(MAIF_EINVAL, "model 'glove:PATH': the vectors file is missing");
    sem_glove *g = NULL;
    int rc = sem_glove_open(&g, arg);
    if (rc) return rc;
    *state = g;
    *dim = sem_glove_dim(g);
    snprintf(model, SEM_MODEL_MAX, "glove:%s", arg);
    return MAIF_OK;
}
static int glove_embed(void *state, const char *text, size_t len, float *out)
{
    return sem_glove_embed(state, text, len, out);
}
static void glove_close(void *state) { sem_glove_close(state); }
const sem_embedder_ops sem_embedder_glove = {"glove", glove_open, glove_embed, glove_close};

static const sem_embedder_ops *const table[] = {&sem_embedder_hashed, &sem_embedder_use, &sem_embedder_glove};

/* ------------------------------------------------------------ public */

int maif_embedder_open(maif_embedder **out, const char *model, maif_reader *r)
{
    if (!out) return maif_set_last_err(MAIF_EINVAL, "maif_embedder_open: out is NULL");
    *out = NULL;
    if (!model) model = "hashed";
    if (strlen(model) >= SEM_MODEL_MAX) return maif_set_last_err(MAIF_EINVAL, "model name too long");
    const char *colon = strchr(model, ':');
    size_t nl = colon ? (size_t)(colon - model) : strlen(model);
    const sem_embedder_ops *ops = NULL;
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strlen(table[i]->name) == nl && memcmp(table[i]->name, model, nl) == 0) ops = table[i];
    if (!ops) return maif_set_last_err(MAIF_EINVAL, "unknown model '%s' (hashed, use, glove:PATH)", model);
    maif_embedder *e = maif_calloc(1, sizeof *e);
    if (!e) return maif_set_last_err(MAIF_ENOMEM, "out of memory");
    e->ops = ops;
    int rc = ops->open(&e->state, colon ? colon + 1 : NULL, r, e->model, &e->dim);
    if (rc) {
        maif_free(e);
        return rc;
    }
    if (e->dim == 0 || e->dim > SEM_DIM_MAX) {
        ops->close(e->state);
        maif_free(e);
        return maif_set_last_err(MAIF_EFORMAT, "model '%s': dimension out of range", model);
    }
    *out = e;
    return MAIF_OK;
}

size_t maif_embedder_dim(const maif_embedder *e) { return e ? e->dim : 0; }
const char *maif_embedder_model(const maif_embedder *e) { return e ? e->model : ""; }

int maif_embedder_embed(maif_embedder *e, const char *text, size_t len, float *out)
{
    if (!e || (!text && len) || !out) return maif_set_last_err(MAIF_EINVAL, "maif_embedder_embed: NULL argument");
    return e->ops->embed(e->state, text ? text : "", len, out);
}

void maif_embedder_close(maif_embedder *e)
{
    if (!e) return;
    e->ops->close(e->state);
    maif_free(e);
}

int maif_writer_add_embedding(maif_writer *w, const float *v, size_t dim, const char *model,
                              const uint8_t source[MAIF_ID_BYTES], uint8_t id_out[MAIF_ID_BYTES])
{
    if (!w || !v || dim == 0 || dim > SEM_DIM_MAX)
        return maif_set_last_err(MAIF_EINVAL, "maif_writer_add_embedding: bad argument (dim 1..%d)", SEM_DIM_MAX);
    for (size_t i = 0; i < dim; i++)
        if (!isfinite(v[i])) return maif_set_last_err(MAIF_EINVAL, "embedding value %zu is not finite", i);
    json_t *m = json_pack("{s:i,s:I,s:s}", "count", 1, "dimensions", (json_int_t)dim, "dtype", "float32");
    if (!m) return maif_set_last_err(MAIF_ENOMEM, "out of memory");
    if (model && *model) json_object_set_new(m, "model", json_string(model));
    if (source) {
        char hex[2 * MAIF_ID_BYTES + 1];
        json_object_set_new(m, "source_block", json_string(maif_hex(source, MAIF_ID_BYTES, hex)));
    }
    char *meta = json_dumps(m, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(m);
    if (!meta) return maif_set_last_err(MAIF_ENOMEM, "out of memory");
    maif_block_spec spec = {0};
    spec.type = MAIF_TYPE_EMBEDDING;
    spec.payload = v; /* float32 little-endian: the host's layout (little-endian only, see hnsw.h) */
    spec.payload_size = dim * sizeof *v;
    spec.meta_json = meta;
    spec.meta_size = strlen(meta);
    int rc = maif_writer_add(w, &spec, id_out);
    json_malloc_t jm;
    json_free_t jf;
    json_get_alloc_funcs(&jm, &jf); /* json_dumps allocated through jansson's functions */
    jf(meta);
    return rc;
}

/* Fills set with the source_block ids of every EMBD block of model. */
static int embedded_sources(maif_reader *r, const char *model, sem_idset *set)
{
    uint64_t n = maif_reader_count(r);
    for (uint64_t i = 0; i < n; i++) {
        maif_block b;
        if (maif_reader_block(r, i, &b) != MAIF_OK || b.type != MAIF_TYPE_EMBEDDING || !b.meta) continue;
        json_t *m = json_loadb(b.meta, b.meta_size, 0, NULL);
        if (!m) continue;
        const char *mm = json_string_value(json_object_get(m, "model"));
        const char *src = json_string_value(json_object_get(m, "source_block"));
        uint8_t id[MAIF_ID_BYTES];
        int rc = MAIF_OK;
        if (mm && src && strcmp(mm, model) == 0 && maif_unhex(src, id, sizeof id) == MAIF_OK) rc = sem_idset_add(set, id);
        json_decref(m);
        if (rc) return rc;
    }
    return MAIF_OK;
}

int maif_embed_file(const char *path, const char *model, const maif_key *key, const maif_options *opt,
                    uint64_t *added)
{
    if (added) *added = 0;
    if (!path || !key) return maif_set_last_err(MAIF_EINVAL, "maif_embed_file: NULL argument");
    if (!model) model = "hashed";
    maif_reader *r = NULL;
    maif_writer *w = NULL;
    maif_embedder *e = NULL;
    sem_idset done = {0};
    float *vec = NULL, *idf = NULL;
    int rc = maif_reader_open(&r, path);
    if (rc) return rc;
    if ((rc = maif_writer_open(&w, path, key, opt))) goto out;
    /* "hashed" with no IDF table yet: learn one from the texts and store it first */
    if (strcmp(model, "hashed") == 0 && latest_of_type(r, SEM_TYPE_HIDF) < 0) {
        uint64_t docs;
        if ((rc = sem_hashed_learn(r, &idf, &docs))) goto out;
        if (docs > 0) {
            char meta[160];
            snprintf(meta, sizeof meta, "{\"buckets\":%u,\"docs\":%llu,\"model\":\"hashed\"}", SEM_HASHED_BUCKETS,
                     (unsigned long long)docs);
            maif_block_spec spec = {0};
            spec.type = SEM_TYPE_HIDF;
            spec.payload = idf;
            spec.payload_size = SEM_HASHED_BUCKETS * sizeof *idf;
            spec.meta_json = meta;
            spec.meta_size = strlen(meta);
            uint8_t id[MAIF_ID_BYTES];
            if ((rc = maif_writer_set_codec(w, MAIF_CODEC_NONE, 0))) goto out;
            if ((rc = maif_writer_add(w, &spec, id))) goto out;
            hashed_state *st = maif_calloc(1, sizeof *st);
            e = maif_calloc(1, sizeof *e);
            if (!st || !e) {
                maif_free(st);
                rc = maif_set_last_err(MAIF_ENOMEM, "out of memory");
                goto out;
            }
            st->idf = idf;
            idf = NULL;
            e->ops = &sem_embedder_hashed;
            e->state = st;
            e->dim = SEM_HASHED_DIM;
            char hex[2 * MAIF_ID_BYTES + 1];
            snprintf(e->model, sizeof e->model, "hashed:%s", maif_hex(id, sizeof id, hex));
        }
    }
    if (!e && (rc = maif_embedder_open(&e, model, r))) goto out;
    if ((rc = embedded_sources(r, e->model, &done))) goto out;
    vec = maif_malloc(e->dim * sizeof *vec);
    if (!vec) {
        rc = maif_set_last_err(MAIF_ENOMEM, "out of memory");
        goto out;
    }
    uint64_t n = maif_reader_count(r), count = 0;
    for (uint64_t i = 0; i < n; i++) {
        maif_block b;
        if (maif_reader_block(r, i, &b) != MAIF_OK || b.type != MAIF_TYPE_TEXT) continue;
        if (sem_idset_has(&done, b.id)) continue;
        const char *t;
        size_t tl;
        char *owned = NULL;
        if (sem_block_text(r, i, &t, &tl, &owned) != MAIF_OK) continue; /* encrypted and no key: skipped */
        rc = maif_embedder_embed(e, t, tl, vec);
        maif_free(owned);
        if (rc) goto out;
        uint8_t src[MAIF_ID_BYTES];
        memcpy(src, b.id, sizeof src);
        if ((rc = maif_writer_add_embedding(w, vec, e->dim, e->model, src, NULL))) goto out;
        count++;
    }
    if ((rc = maif_writer_commit(w))) goto out;
    rc = maif_writer_close(w);
    w = NULL;
    if (!rc && added) *added = count;
out:
    maif_writer_close(w);
    maif_reader_close(r);
    maif_embedder_close(e);
    sem_idset_free(&done);
    maif_free(vec);
    maif_free(idf);
    return rc;
}
