/*
 * embed.c — the embedder table (embed.h), the public maif_embedder_*
 * handle over it, and embedding an artifact's texts: EMBD blocks that
 * name their model and source block (docs/FORMAT.md §5.3).
 */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <dirent.h>
#include <string.h>

#include "crypto/crypto.h"
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
    uint8_t model_hash[MAIF_HASH_BYTES]; /* what the model computes with (CSB, docs/CSB.md) */
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

int sem_block_aligned(maif_reader *r, uint64_t i, const maif_block *b, const uint8_t **p, size_t *size,
                      uint8_t **owned)
{
    *owned = NULL;
    *p = b->payload;
    *size = b->payload_size;
    if (!b->codec && !b->cipher && !((uintptr_t)b->payload & 7)) return MAIF_OK;
    const char *t;
    char *o = NULL;
    int rc = sem_block_text(r, i, &t, size, &o);
    if (rc == MAIF_OK && !o) { /* stored as is but not aligned: copied (malloc aligns) */
        o = maif_malloc(*size ? *size : 1);
        if (o) memcpy(o, t, *size);
        else rc = MAIF_ENOMEM;
    }
    if (rc) return rc;
    *owned = (uint8_t *)o;
    *p = *owned;
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

/* ------------------------------------------------------- model hashes
 *
 * What CSB binds an embedding to besides its source: a hash of what the
 * model computes with. hashed: the IDF table's content hash (its HIDF
 * block), or a constant for uniform weights; use: every file of the
 * model's folder (model.json, vocab.json, the weight shards), in name
 * order, each as its name, its length and its bytes; glove: the vectors file. */

#define HASH_FILE_MAX ((uint64_t)4 << 30)

static int hash_file_into(maif_sha256_ctx *c, const char *path, const char *name)
{
    FILE *f = fopen(path, "rb");
    if (!f) return maif_set_last_err(MAIF_ENOTFOUND, "%s: cannot open to hash the model", path);
    uint8_t *buf = maif_malloc(1 << 20);
    if (!buf) {
        fclose(f);
        return maif_set_last_err(MAIF_ENOMEM, "out of memory");
    }
    if (name) maif_sha256_update(c, name, strlen(name) + 1);
    uint64_t total = 0;
    size_t k;
    int rc = 0;
    while ((k = fread(buf, 1, 1 << 20, f)) > 0) {
        maif_sha256_update(c, buf, k);
        if ((total += k) > HASH_FILE_MAX) {
            rc = maif_set_last_err(MAIF_ELIMIT, "%s: model file over 4 GiB", path);
            break;
        }
    }
    if (!rc && ferror(f)) rc = maif_set_last_err(MAIF_EIO, "%s: read error while hashing the model", path);
    maif_free(buf);
    fclose(f);
    return rc;
}

static int cmp_names(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int hash_dir(const char *dir, uint8_t out[MAIF_HASH_BYTES])
{
    char sub[4200];
    snprintf(sub, sizeof sub, "%s/dist", dir);
    DIR *d = opendir(sub);
    const char *base = sub;
    if (!d) {
        d = opendir(dir);
        base = dir;
    }
    if (!d) return maif_set_last_err(MAIF_ENOTFOUND, "%s: cannot list the model folder", dir);
    char *names[256];
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) && n < 256) {
        const char *nm = de->d_name;
        size_t l = strlen(nm);
        if (strcmp(nm, "model.json") == 0 || strcmp(nm, "vocab.json") == 0 || (strstr(nm, "shard") && l < 200))
            names[n++] = maif_strdup(nm);
    }
    closedir(d);
    qsort(names, n, sizeof names[0], cmp_names);
    maif_sha256_ctx *c = maif_sha256_new();
    int rc = c ? 0 : maif_set_last_err(MAIF_ENOMEM, "out of memory");
    for (size_t i = 0; i < n && !rc; i++) {
        char path[4500];
        snprintf(path, sizeof path, "%s/%s", base, names[i] ? names[i] : "");
        rc = names[i] ? hash_file_into(c, path, names[i]) : maif_set_last_err(MAIF_ENOMEM, "out of memory");
    }
    if (c) {
        maif_sha256_final(c, out);
        maif_sha256_free(c);
    }
    for (size_t i = 0; i < n; i++) maif_free(names[i]);
    return rc;
}

static int model_hash_of(maif_embedder *e, const char *arg, maif_reader *r)
{
    if (e->ops == &sem_embedder_hashed) {
        uint8_t id[MAIF_ID_BYTES];
        uint64_t at;
        maif_block b;
        if (strncmp(e->model, "hashed:", 7) == 0 && r && maif_unhex(e->model + 7, id, sizeof id) == MAIF_OK &&
            maif_reader_find(r, id, &at) == MAIF_OK && maif_reader_block(r, at, &b) == MAIF_OK) {
            memcpy(e->model_hash, b.content_hash, MAIF_HASH_BYTES);
        } else {
            static const char uniform[] = "maif hashed embedder v1, uniform weights";
            maif_sha256(uniform, sizeof uniform - 1, e->model_hash);
        }
        return 0;
    }
    if (e->ops == &sem_embedder_use) {
        char dir[4096];
        if (!arg || !*arg) model_dir(dir, sizeof dir, "use/package");
        else snprintf(dir, sizeof dir, "%s", arg);
        return hash_dir(dir, e->model_hash);
    }
    maif_sha256_ctx *c = maif_sha256_new();
    if (!c) return maif_set_last_err(MAIF_ENOMEM, "out of memory");
    int rc = hash_file_into(c, arg ? arg : "", NULL);
    maif_sha256_final(c, e->model_hash);
    maif_sha256_free(c);
    return rc;
}

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
    if ((rc = model_hash_of(e, colon ? colon + 1 : NULL, r))) {
        ops->close(e->state);
        maif_free(e);
        return rc;
    }
    *out = e;
    return MAIF_OK;
}

void maif_embedder_model_hash(const maif_embedder *e, uint8_t out[MAIF_HASH_BYTES])
{
    if (e) memcpy(out, e->model_hash, MAIF_HASH_BYTES);
    else memset(out, 0, MAIF_HASH_BYTES);
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

static int add_embedding(maif_writer *w, const float *v, size_t dim, const char *model, const uint8_t *source,
                         const uint8_t *model_hash, const uint8_t *csb, uint8_t *id_out)
{
    if (!w || !v || dim == 0 || dim > SEM_DIM_MAX)
        return maif_set_last_err(MAIF_EINVAL, "maif_writer_add_embedding: bad argument (dim 1..%d)", SEM_DIM_MAX);
    for (size_t i = 0; i < dim; i++)
        if (!isfinite(v[i])) return maif_set_last_err(MAIF_EINVAL, "embedding value %zu is not finite", i);
    json_t *m = json_pack("{s:i,s:I,s:s}", "count", 1, "dimensions", (json_int_t)dim, "dtype", "float32");
    if (!m) return maif_set_last_err(MAIF_ENOMEM, "out of memory");
    if (model && *model) json_object_set_new(m, "model", json_string(model));
    char hex[2 * MAIF_HASH_BYTES + 1];
    if (source) json_object_set_new(m, "source_block", json_string(maif_hex(source, MAIF_ID_BYTES, hex)));
    if (model_hash) json_object_set_new(m, "model_hash", json_string(maif_hex(model_hash, MAIF_HASH_BYTES, hex)));
    if (csb) json_object_set_new(m, "csb", json_string(maif_hex(csb, MAIF_HASH_BYTES, hex)));
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

int maif_writer_add_embedding(maif_writer *w, const float *v, size_t dim, const char *model,
                              const uint8_t source[MAIF_ID_BYTES], uint8_t id_out[MAIF_ID_BYTES])
{
    return add_embedding(w, v, dim, model, source, NULL, NULL, id_out);
}

int maif_writer_add_embedding_bound(maif_writer *w, const maif_embedder *e, const float *v,
                                    const uint8_t source[MAIF_ID_BYTES], const void *source_data, size_t source_size,
                                    uint8_t id_out[MAIF_ID_BYTES])
{
    if (!w || !e || !v || !source || (!source_data && source_size))
        return maif_set_last_err(MAIF_EINVAL, "maif_writer_add_embedding_bound: NULL argument");
    uint8_t sh[MAIF_HASH_BYTES], csb[MAIF_HASH_BYTES];
    maif_sha256(source_data ? source_data : "", source_size, sh);
    int rc = maif_csb_commit(sh, e->model, e->model_hash, v, e->dim, csb);
    if (rc) return rc;
    return add_embedding(w, v, e->dim, e->model, source, e->model_hash, csb, id_out);
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
            maif_sha256(idf, SEM_HASHED_BUCKETS * sizeof *idf, e->model_hash); /* the HIDF block's content hash */
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
        uint8_t src[MAIF_ID_BYTES];
        memcpy(src, b.id, sizeof src);
        if (!rc) rc = maif_writer_add_embedding_bound(w, e, vec, src, t, tl, NULL);
        maif_free(owned);
        if (rc) goto out;
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
