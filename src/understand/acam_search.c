/*
 * acam_search.c — cross-modal search with ACAM (docs/ACAM.md): the blocks
 * of one type (images, sounds...) ranked for a text query by what is said
 * about them in text, each source embedded in one text space and fused by
 * maif_acam_fuse with its trust:
 *   - the caption ("caption" metadata): trust 1.0 from the agent, 0.6
 *     from an external captioner (caption_source);
 *   - the other string values of its metadata (not hashes): trust 0.5;
 *   - the text of the blocks a "relationships" entry links to it, in
 *     either direction: trust 0.8.
 * Beside it, the plain baseline: the same texts joined into one, embedded
 * once, compared by cosine (maif_acam_search with MAIF_ACAM_PLAIN).
 */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/buf.h"
#include "util/common.h"

#include "maif.h"

#define SRC_MAX 64           /* sources of one item used */
#define SRC_TEXT_MAX 4096    /* bytes of one source text used */

typedef struct item {
    uint64_t block;
    char *texts[SRC_MAX];
    float trust[SRC_MAX];
    size_t n;
} item;

static void add_src(item *it, const char *t, size_t n, float trust)
{
    if (it->n == SRC_MAX || n == 0) return;
    if (n > SRC_TEXT_MAX) n = SRC_TEXT_MAX;
    char *c = maif_malloc(n + 1);
    if (!c) return;
    memcpy(c, t, n);
    c[n] = 0;
    it->texts[it->n] = c;
    it->trust[it->n++] = trust;
}

static int is_hashlike(const char *key)
{
    static const char *skip[] = {"phash", "phash_content", "dhash", "caption", "caption_source", "format", "csb",
                                 "model_hash", "source_block", "dtype", "model"};
    for (size_t i = 0; i < sizeof skip / sizeof skip[0]; i++)
        if (strcmp(key, skip[i]) == 0) return 1;
    return 0;
}

/* The text of block i (a TEXT block, decoded), or NULL. */
static char *block_text(maif_reader *r, uint64_t i, size_t *n)
{
    maif_block b;
    size_t sz = 0;
    if (maif_reader_block(r, i, &b) || b.type != MAIF_TYPE_TEXT || maif_reader_block_decoded_size(r, i, &sz) ||
        sz > ((size_t)1 << 20))
        return NULL;
    char *t = maif_malloc(sz + 1);
    if (t && maif_reader_block_decode(r, i, t, sz, n) == MAIF_OK) {
        t[*n] = 0;
        return t;
    }
    maif_free(t);
    return NULL;
}

static void related(maif_reader *r, uint64_t from, uint64_t to_item, item *it)
{
    size_t n = 0;
    char *t = block_text(r, from, &n);
    if (t) add_src(it, t, n, 0.8f);
    maif_free(t);
    (void)to_item;
}

int maif_acam_search(maif_reader *r, const char *model, const char *query, size_t qlen, uint32_t type, int mode,
                     const maif_acam_params *params, maif_acam_hit *hits, size_t k, size_t *n_out)
{
    if (!r || !query || !n_out || (!hits && k) || (mode != MAIF_ACAM_FUSED && mode != MAIF_ACAM_PLAIN) || type == 0)
        return maif_set_last_err(MAIF_EINVAL, "maif_acam_search: bad argument");
    *n_out = 0;
    maif_embedder *e = NULL;
    int rc = maif_embedder_open(&e, model, r);
    if (rc) return rc;
    size_t dim = maif_embedder_dim(e);
    uint64_t count = maif_reader_count(r);
    item *items = NULL;
    size_t nitems = 0, cap = 0;
    float *q = maif_malloc(dim * sizeof *q), *vecs = maif_malloc((size_t)SRC_MAX * dim * sizeof *vecs);
    float *joint = maif_malloc(dim * sizeof *joint);
    if (!q || !vecs || !joint) rc = maif_set_last_err(MAIF_ENOMEM, "out of memory");
    if (!rc) rc = maif_embedder_embed(e, query, qlen, q);
    /* the items, with their caption and metadata */
    for (uint64_t i = 0; i < count && !rc; i++) {
        maif_block b;
        if (maif_reader_block(r, i, &b) || b.type != type) continue;
        if (nitems == cap) {
            size_t nc = cap ? cap * 2 : 64;
            item *ni = maif_realloc(items, nc * sizeof *ni);
            if (!ni) {
                rc = maif_set_last_err(MAIF_ENOMEM, "out of memory");
                break;
            }
            items = ni, cap = nc;
        }
        item *it = &items[nitems++];
        memset(it, 0, sizeof *it);
        it->block = i;
        json_t *m = b.meta ? json_loadb(b.meta, b.meta_size, 0, NULL) : NULL;
        const char *cap_s = json_string_value(json_object_get(m, "caption"));
        const char *src = json_string_value(json_object_get(m, "caption_source"));
        if (cap_s) add_src(it, cap_s, strlen(cap_s), src && strcmp(src, "captioner") == 0 ? 0.6f : 1.0f);
        maif_buf mt = {0};
        const char *key;
        json_t *v;
        json_object_foreach(m, key, v) {
            if (json_is_string(v) && !is_hashlike(key)) {
                if (mt.len) maif_buf_putc(&mt, ' ');
                maif_buf_append(&mt, json_string_value(v), json_string_length(v));
            }
        }
        if (mt.len) add_src(it, (const char *)mt.data, mt.len, 0.5f);
        maif_buf_free(&mt);
        /* its own relationships: the blocks it links to */
        size_t ri;
        json_t *rel;
        json_array_foreach(json_object_get(m, "relationships"), ri, rel) {
            uint8_t id[MAIF_ID_BYTES];
            uint64_t at;
            const char *tg = json_string_value(json_object_get(rel, "target"));
            if (tg && strlen(tg) == 32 && maif_unhex(tg, id, sizeof id) == 0 && maif_reader_find(r, id, &at) == 0)
                related(r, at, i, it);
        }
        json_decref(m);
    }
    /* blocks that link to an item */
    for (uint64_t i = 0; i < count && !rc && nitems; i++) {
        maif_block b;
        if (maif_reader_block(r, i, &b) || b.type != MAIF_TYPE_TEXT || !b.meta ||
            !memmem(b.meta, b.meta_size, "\"relationships\"", 15))
            continue;
        json_t *m = json_loadb(b.meta, b.meta_size, 0, NULL);
        size_t ri;
        json_t *rel;
        json_array_foreach(json_object_get(m, "relationships"), ri, rel) {
            uint8_t id[MAIF_ID_BYTES];
            uint64_t at;
            const char *tg = json_string_value(json_object_get(rel, "target"));
            if (!tg || strlen(tg) != 32 || maif_unhex(tg, id, sizeof id) || maif_reader_find(r, id, &at)) continue;
            for (size_t j = 0; j < nitems; j++)
                if (items[j].block == at) related(r, i, at, &items[j]);
        }
        json_decref(m);
    }
    /* score every item */
    size_t found = 0;
    for (size_t j = 0; j < nitems && !rc; j++) {
        item *it = &items[j];
        if (it->n == 0) continue;
        float score = 0;
        if (mode == MAIF_ACAM_FUSED) {
            maif_acam_source src[SRC_MAX];
            float w[SRC_MAX];
            for (size_t s = 0; s < it->n && !rc; s++) {
                rc = maif_embedder_embed(e, it->texts[s], strlen(it->texts[s]), vecs + s * dim);
                src[s] = (maif_acam_source){vecs + s * dim, it->trust[s]};
            }
            if (!rc) rc = maif_acam_fuse(q, dim, src, it->n, params, w, joint, &score);
        } else {
            maif_buf all = {0};
            for (size_t s = 0; s < it->n; s++) {
                if (s) maif_buf_putc(&all, ' ');
                maif_buf_append(&all, it->texts[s], strlen(it->texts[s]));
            }
            rc = maif_embedder_embed(e, all.len ? (const char *)all.data : "", all.len, joint);
            maif_buf_free(&all);
            double dot = 0, na = 0, nb = 0;
            for (size_t d = 0; d < dim; d++) {
                dot += (double)q[d] * joint[d];
                na += (double)q[d] * q[d];
                nb += (double)joint[d] * joint[d];
            }
            score = na > 0 && nb > 0 ? (float)(dot / sqrt(na * nb)) : 0.0f;
        }
        if (rc) break;
        /* keep the k best, best first (insertion: k is small) */
        maif_acam_hit h = {it->block, score, it->n};
        size_t pos = found < k ? found : k;
        while (pos > 0 && hits[pos - 1].score < h.score) {
            if (pos < k) hits[pos] = hits[pos - 1];
            pos--;
        }
        if (pos < k) hits[pos] = h;
        if (found < k) found++;
    }
    *n_out = found;
    for (size_t j = 0; j < nitems; j++)
        for (size_t s = 0; s < items[j].n; s++) maif_free(items[j].texts[s]);
    maif_free(items);
    maif_free(q);
    maif_free(vecs);
    maif_free(joint);
    maif_embedder_close(e);
    return rc;
}
