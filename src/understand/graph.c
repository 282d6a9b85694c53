/*
 * graph.c — the knowledge graph of an artifact (maif_graph_*): triples of
 * KNOW blocks, `relationships` metadata of any block, and optional
 * near-duplicate links between images, as nodes (blocks, entities,
 * literals) and labelled edges; queries (neighbours, bounded shortest
 * paths, triple patterns, the neighbourhood of a node) and export as
 * Graphviz DOT or JSON. Built in one pass over the reader; names are
 * interned in one hash table; adjacency is compressed (CSR) once built.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/knowledge.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/common.h"

#include "maif.h"

#define NAME_MAX_BYTES MAIF_KNOWLEDGE_NAME_MAX
#define NEAR_T 12                  /* perceptual distance of near-duplicate images */
#define NEAR_IMAGES_MAX 20000u     /* beyond this many images, near-duplicate links are not computed */

typedef struct gnode {
    uint32_t name;  /* offset in names */
    int kind;
    int64_t block;
    uint32_t type;
} gnode;

typedef struct gedge {
    uint64_t from, to;
    uint32_t pred; /* offset in names */
    uint64_t block;
} gedge;

struct maif_graph {
    maif_buf names;        /* NUL-terminated strings */
    gnode *nodes;
    uint64_t nnodes, cap_nodes;
    gedge *edges;
    uint64_t nedges, cap_edges;
    uint64_t *slots;       /* hash table of node numbers + 1 (0 = empty), keyed by (kind, name) */
    uint64_t nslots;
    uint64_t *eslots;      /* hash table of edge numbers + 1, keyed by (from, pred, to) */
    uint64_t neslots;
    uint32_t *preds;       /* predicate names (offsets in names) ... */
    uint64_t npreds, cap_preds;
    uint64_t *pslots;      /* ... and their hash table (index + 1) */
    uint64_t npslots;
    uint64_t *adj_off;     /* CSR: edges touching node i are adj[adj_off[i] .. adj_off[i+1]) */
    uint64_t *adj;
    uint64_t skipped;      /* knowledge blocks or relationships that could not be read */
    char why[256];         /* the first reason */
};

static uint64_t fnv(const char *s, size_t n, uint64_t h)
{
    for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 0x100000001b3ull;
    return h;
}

static uint64_t mix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
}

static const char *gname(const maif_graph *g, uint32_t off) { return (const char *)g->names.data + off; }

static void skip(maif_graph *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void skip(maif_graph *g, const char *fmt, ...)
{
    if (!g->skipped++) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(g->why, sizeof g->why, fmt, ap);
        va_end(ap);
    }
}

static int grow_table(uint64_t **slots, uint64_t *nslots, uint64_t count, uint64_t (*key)(const maif_graph *, uint64_t),
                      const maif_graph *g)
{
    if ((count + 1) * 2 <= *nslots) return 0;
    uint64_t ns = *nslots ? *nslots * 2 : 1024;
    uint64_t *t = maif_calloc(ns, sizeof *t);
    if (!t) return MAIF_ENOMEM;
    for (uint64_t i = 0; i < count; i++) {
        uint64_t h = key(g, i) & (ns - 1);
        while (t[h]) h = (h + 1) & (ns - 1);
        t[h] = i + 1;
    }
    maif_free(*slots);
    *slots = t;
    *nslots = ns;
    return 0;
}

static uint64_t node_key_of(int kind, const char *name, size_t n) { return mix(fnv(name, n, 0xcbf29ce484222325ull ^ (uint64_t)kind)); }
static uint64_t node_key(const maif_graph *g, uint64_t i)
{
    const char *s = gname(g, g->nodes[i].name);
    return node_key_of(g->nodes[i].kind, s, strlen(s));
}
static uint64_t pred_key(const maif_graph *g, uint64_t i)
{
    const char *s = gname(g, g->preds[i]);
    return mix(fnv(s, strlen(s), 0x84222325cbf29ce4ull));
}
static uint64_t edge_key_of(uint64_t from, uint32_t pred, uint64_t to) { return mix(from * 0x9e3779b97f4a7c15ull ^ mix(to + ((uint64_t)pred << 32))); }
static uint64_t edge_key(const maif_graph *g, uint64_t i) { return edge_key_of(g->edges[i].from, g->edges[i].pred, g->edges[i].to); }

static int intern(maif_graph *g, const char *s, size_t n, uint32_t *off)
{
    if (g->names.len + n + 1 > UINT32_MAX) return MAIF_ELIMIT;
    *off = (uint32_t)g->names.len;
    if (maif_buf_append(&g->names, s, n) || maif_buf_putc(&g->names, 0)) return MAIF_ENOMEM;
    return 0;
}

/* The node (kind, name), made if new. */
static int node_get(maif_graph *g, int kind, const char *name, size_t n, uint64_t *out)
{
    if (grow_table(&g->slots, &g->nslots, g->nnodes, node_key, g)) return MAIF_ENOMEM;
    uint64_t h = node_key_of(kind, name, n) & (g->nslots - 1);
    for (; g->slots[h]; h = (h + 1) & (g->nslots - 1)) {
        gnode *x = &g->nodes[g->slots[h] - 1];
        const char *xn = gname(g, x->name);
        if (x->kind == kind && strlen(xn) == n && memcmp(xn, name, n) == 0) {
            *out = g->slots[h] - 1;
            return 0;
        }
    }
    if (g->nnodes == g->cap_nodes) {
        uint64_t nc = g->cap_nodes ? g->cap_nodes * 2 : 256;
        gnode *nn = maif_realloc(g->nodes, nc * sizeof *nn);
        if (!nn) return MAIF_ENOMEM;
        g->nodes = nn;
        g->cap_nodes = nc;
    }
    gnode *x = &g->nodes[g->nnodes];
    int rc = intern(g, name, n, &x->name);
    if (rc) return rc;
    x->kind = kind;
    x->block = -1;
    x->type = 0;
    g->slots[h] = g->nnodes + 1;
    *out = g->nnodes++;
    return 0;
}

static int is_block_id(const char *s, size_t n)
{
    if (n != 2 * MAIF_ID_BYTES) return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') || (s[i] >= 'A' && s[i] <= 'F'))) return 0;
    return 1;
}

/* The node a triple end names: a 32-hex block id, an entity, or a literal. */
static int node_of_value(maif_graph *g, json_t *v, uint64_t *out)
{
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        if (n == 0 || n > NAME_MAX_BYTES) return MAIF_EINVAL;
        if (is_block_id(s, n)) {
            char low[2 * MAIF_ID_BYTES];
            for (size_t i = 0; i < n; i++) low[i] = (char)(s[i] >= 'A' && s[i] <= 'F' ? s[i] + 32 : s[i]);
            return node_get(g, MAIF_GRAPH_NODE_BLOCK, low, n, out);
        }
        return node_get(g, MAIF_GRAPH_NODE_ENTITY, s, n, out);
    }
    if (json_is_number(v) || json_is_boolean(v) || json_is_null(v)) {
        char *t = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        if (!t) return MAIF_ENOMEM;
        int rc = node_get(g, MAIF_GRAPH_NODE_LITERAL, t, strlen(t), out);
        free(t);
        return rc;
    }
    return MAIF_EINVAL;
}

static int pred_get(maif_graph *g, const char *name, size_t n, uint32_t *off)
{
    if (grow_table(&g->pslots, &g->npslots, g->npreds, pred_key, g)) return MAIF_ENOMEM;
    uint64_t h = mix(fnv(name, n, 0x84222325cbf29ce4ull)) & (g->npslots - 1);
    for (; g->pslots[h]; h = (h + 1) & (g->npslots - 1)) {
        const char *x = gname(g, g->preds[g->pslots[h] - 1]);
        if (strlen(x) == n && memcmp(x, name, n) == 0) {
            *off = g->preds[g->pslots[h] - 1];
            return 0;
        }
    }
    if (g->npreds == g->cap_preds) {
        uint64_t nc = g->cap_preds ? g->cap_preds * 2 : 64;
        uint32_t *np = maif_realloc(g->preds, nc * sizeof *np);
        if (!np) return MAIF_ENOMEM;
        g->preds = np;
        g->cap_preds = nc;
    }
    int rc = intern(g, name, n, off);
    if (rc) return rc;
    g->preds[g->npreds] = *off;
    g->pslots[h] = ++g->npreds;
    return 0;
}

static int edge_add(maif_graph *g, uint64_t from, const char *pred, size_t pn, uint64_t to, uint64_t block)
{
    uint32_t p;
    int rc = pred_get(g, pred, pn, &p);
    if (rc) return rc;
    if (grow_table(&g->eslots, &g->neslots, g->nedges, edge_key, g)) return MAIF_ENOMEM;
    uint64_t h = edge_key_of(from, p, to) & (g->neslots - 1);
    for (; g->eslots[h]; h = (h + 1) & (g->neslots - 1)) {
        gedge *e = &g->edges[g->eslots[h] - 1];
        if (e->from == from && e->to == to && e->pred == p) return 0; /* stated before: the first block keeps it */
    }
    if (g->nedges == g->cap_edges) {
        uint64_t nc = g->cap_edges ? g->cap_edges * 2 : 256;
        gedge *ne = maif_realloc(g->edges, nc * sizeof *ne);
        if (!ne) return MAIF_ENOMEM;
        g->edges = ne;
        g->cap_edges = nc;
    }
    g->edges[g->nedges] = (gedge){from, to, p, block};
    g->eslots[h] = ++g->nedges;
    return 0;
}

static int add_knowledge(maif_graph *g, maif_reader *r, const maif_block *b)
{
    size_t n = b->payload_size;
    const uint8_t *p = b->payload;
    uint8_t *dec = NULL;
    if (b->codec || b->cipher) {
        int rc = maif_reader_block_decoded_size(r, b->index, &n);
        if (rc == 0 && n > MAIF_PARSE_MAX) rc = MAIF_ELIMIT;
        if (rc == 0 && !(dec = maif_malloc(n ? n : 1))) return MAIF_ENOMEM;
        if (rc == 0) rc = maif_reader_block_decode(r, b->index, dec, n, &n);
        if (rc) {
            maif_free(dec);
            if (rc == MAIF_ENOMEM) return rc;
            skip(g, "block %llu: %s", (unsigned long long)b->index, maif_last_errmsg());
            return 0;
        }
        p = dec;
    }
    json_error_t je;
    json_t *doc = n <= MAIF_PARSE_MAX ? json_loadb((const char *)p, n, JSON_REJECT_DUPLICATES, &je) : NULL;
    maif_free(dec);
    char why[256];
    json_t *arr = doc ? maif_knowledge_triples(doc, why, sizeof why) : NULL;
    if (!arr) {
        skip(g, "block %llu: %s", (unsigned long long)b->index, doc ? why : "not JSON");
        json_decref(doc);
        return 0;
    }
    size_t i;
    json_t *t, *s, *pr, *o;
    int rc = 0;
    json_array_foreach(arr, i, t) {
        uint64_t a, z;
        maif_knowledge_parts(t, &s, &pr, &o);
        if ((rc = node_of_value(g, s, &a)) || (rc = node_of_value(g, o, &z)) ||
            (rc = edge_add(g, a, json_string_value(pr), json_string_length(pr), z, b->index)))
            break;
    }
    json_decref(doc);
    return rc;
}

static int add_relationships(maif_graph *g, const maif_block *b, uint64_t self)
{
    if (!b->meta || b->meta_size == 0 || !memmem(b->meta, b->meta_size, "\"relationships\"", 15)) return 0;
    json_error_t je;
    json_t *m = json_loadb(b->meta, b->meta_size, 0, &je);
    json_t *rel = m ? json_object_get(m, "relationships") : NULL;
    int rc = 0;
    if (!json_is_array(rel)) {
        if (rel) skip(g, "block %llu: relationships is not an array", (unsigned long long)b->index);
        json_decref(m);
        return 0;
    }
    size_t i;
    json_t *x;
    json_array_foreach(rel, i, x) {
        json_t *ty = json_object_get(x, "type"), *tg = json_object_get(x, "target");
        if (!json_is_string(ty) || !json_is_string(tg) || json_string_length(ty) == 0 ||
            json_string_length(ty) > NAME_MAX_BYTES || !is_block_id(json_string_value(tg), json_string_length(tg))) {
            skip(g, "block %llu: relationship %zu wants {\"type\": NAME, \"target\": 32 hex digits}",
                 (unsigned long long)b->index, i);
            continue;
        }
        uint64_t z;
        if ((rc = node_of_value(g, tg, &z)) || (rc = edge_add(g, self, json_string_value(ty), json_string_length(ty), z, b->index)))
            break;
    }
    json_decref(m);
    return rc;
}

/* A 16-hex-digit metadata value of an image ("phash", "phash_content"). */
static int meta_hash(json_t *m, const char *key, uint64_t *out)
{
    json_t *v = json_object_get(m, key);
    uint8_t raw[8];
    if (!json_is_string(v) || json_string_length(v) != 16 || maif_unhex(json_string_value(v), raw, 8)) return 0;
    uint64_t x = 0;
    for (int i = 0; i < 8; i++) x = x << 8 | raw[i];
    *out = x;
    return 1;
}

typedef struct img {
    uint64_t node, block, phash, content;
} img;

/* An embedding of one row bound to a source block (for similar_to links). */
typedef struct emb {
    uint64_t block, source_node;
    const float *v;
    uint32_t dim;
    char model[128];
} emb;

#define SIMILAR_MAX 20000u   /* embeddings compared pairwise at most */

static double cos_sim(const float *a, const float *b, uint32_t d)
{
    double dot = 0, na = 0, nb = 0;
    for (uint32_t i = 0; i < d; i++) {
        dot += (double)a[i] * b[i];
        na += (double)a[i] * a[i];
        nb += (double)b[i] * b[i];
    }
    return na > 0 && nb > 0 ? dot / sqrt(na * nb) : 0;
}

static int build_adjacency(maif_graph *g)
{
    g->adj_off = maif_calloc(g->nnodes + 1, sizeof *g->adj_off);
    g->adj = maif_malloc((g->nedges ? g->nedges : 1) * 2 * sizeof *g->adj);
    if (!g->adj_off || !g->adj) return MAIF_ENOMEM;
    for (uint64_t i = 0; i < g->nedges; i++) {
        g->adj_off[g->edges[i].from + 1]++;
        if (g->edges[i].to != g->edges[i].from) g->adj_off[g->edges[i].to + 1]++;
    }
    for (uint64_t i = 0; i < g->nnodes; i++) g->adj_off[i + 1] += g->adj_off[i];
    uint64_t *fill = maif_malloc((g->nnodes ? g->nnodes : 1) * sizeof *fill);
    if (!fill) return MAIF_ENOMEM;
    memcpy(fill, g->adj_off, g->nnodes * sizeof *fill);
    for (uint64_t i = 0; i < g->nedges; i++) {
        g->adj[fill[g->edges[i].from]++] = i;
        if (g->edges[i].to != g->edges[i].from) g->adj[fill[g->edges[i].to]++] = i;
    }
    maif_free(fill);
    return 0;
}

int maif_graph_build(maif_graph **out, maif_reader *r, unsigned flags)
{
    if (!out || !r) return maif_set_last_err(MAIF_EINVAL, "maif_graph_build: NULL argument");
    *out = NULL;
    maif_graph *g = maif_calloc(1, sizeof *g);
    if (!g) return maif_set_last_err(MAIF_ENOMEM, "out of memory");
    uint64_t count = maif_reader_count(r);
    /* superseded blocks: hidden unless asked for */
    uint8_t *gone = maif_calloc(count ? count : 1, 1);
    img *imgs = NULL;
    uint64_t nimg = 0, cap_img = 0;
    int rc = gone ? 0 : MAIF_ENOMEM;
    maif_block b;
    for (uint64_t i = 0; i < count && rc == 0 && !(flags & MAIF_GRAPH_SUPERSEDED); i++) {
        if ((rc = maif_reader_block(r, i, &b))) break;
        uint64_t old;
        if (b.has_supersedes && maif_reader_find(r, b.supersedes, &old) == 0 && old < count) gone[old] = 1;
    }
    for (uint64_t i = 0; i < count && rc == 0; i++) {
        if ((rc = maif_reader_block(r, i, &b))) break;
        if (gone[i]) continue;
        char hex[2 * MAIF_ID_BYTES + 1];
        maif_hex(b.id, MAIF_ID_BYTES, hex);
        uint64_t self;
        if ((rc = node_get(g, MAIF_GRAPH_NODE_BLOCK, hex, 2 * MAIF_ID_BYTES, &self))) break;
        g->nodes[self].block = (int64_t)i;
        g->nodes[self].type = b.type;
        if (b.type == MAIF_TYPE_KNOWLEDGE && (rc = add_knowledge(g, r, &b))) break;
        if ((rc = add_relationships(g, &b, self))) break;
        uint64_t ph, pc;
        json_t *m = NULL;
        json_error_t je;
        if ((flags & MAIF_GRAPH_NEAR_DUPLICATES) && b.type == MAIF_TYPE_IMAGE && b.meta &&
            (m = json_loadb(b.meta, b.meta_size, 0, &je)) && meta_hash(m, "phash", &ph)) {
            if (!meta_hash(m, "phash_content", &pc)) pc = ph;
            if (nimg == cap_img) {
                uint64_t nc = cap_img ? cap_img * 2 : 64;
                img *ni = maif_realloc(imgs, nc * sizeof *ni);
                if (!ni) rc = MAIF_ENOMEM;
                else imgs = ni, cap_img = nc;
            }
            if (rc == 0) imgs[nimg++] = (img){self, i, ph, pc};
        }
        json_decref(m);
    }
    /* similar_to: sources whose embeddings (one row, stored as is, same
     * model and size) are within MAIF_GRAPH_SIMILAR_MIN cosine */
    emb *embs = NULL;
    uint64_t nemb = 0, cap_emb = 0;
    for (uint64_t i = 0; i < count && rc == 0 && (flags & MAIF_GRAPH_SIMILAR); i++) {
        if ((rc = maif_reader_block(r, i, &b))) break;
        if (gone[i] || b.type != MAIF_TYPE_EMBEDDING || b.codec || b.cipher || !b.meta || b.payload_size % 4 ||
            b.payload_size == 0 || b.payload_size > 4u * 65536u || ((uintptr_t)b.payload & 3))
            continue;
        json_t *m = json_loadb(b.meta, b.meta_size, 0, NULL);
        const char *src = json_string_value(json_object_get(m, "source_block")), *mod = json_string_value(json_object_get(m, "model"));
        uint64_t node;
        char low[2 * MAIF_ID_BYTES + 1];
        if (src && strlen(src) == 2 * MAIF_ID_BYTES && json_integer_value(json_object_get(m, "count")) == 1) {
            for (int c = 0; c < 2 * MAIF_ID_BYTES; c++) low[c] = (char)(src[c] >= 'A' && src[c] <= 'F' ? src[c] + 32 : src[c]);
            low[2 * MAIF_ID_BYTES] = 0;
            if (is_block_id(low, 2 * MAIF_ID_BYTES) && (rc = node_get(g, MAIF_GRAPH_NODE_BLOCK, low, 2 * MAIF_ID_BYTES, &node)) == 0) {
                if (nemb == cap_emb) {
                    uint64_t nc = cap_emb ? cap_emb * 2 : 64;
                    emb *ne = maif_realloc(embs, nc * sizeof *ne);
                    if (!ne) rc = MAIF_ENOMEM;
                    else embs = ne, cap_emb = nc;
                }
                if (rc == 0) {
                    emb *x = &embs[nemb++];
                    x->block = i, x->source_node = node, x->v = (const float *)b.payload;
                    x->dim = (uint32_t)(b.payload_size / 4);
                    snprintf(x->model, sizeof x->model, "%s", mod ? mod : "");
                }
            }
        }
        json_decref(m);
    }
    if (rc == 0 && nemb > SIMILAR_MAX)
        skip(g, "%llu embeddings: similar_to links are computed for at most %u", (unsigned long long)nemb, SIMILAR_MAX);
    else
        for (uint64_t i = 0; i < nemb && rc == 0; i++)
            for (uint64_t j = i + 1; j < nemb && rc == 0; j++)
                if (embs[i].dim == embs[j].dim && embs[i].source_node != embs[j].source_node &&
                    strcmp(embs[i].model, embs[j].model) == 0 &&
                    cos_sim(embs[i].v, embs[j].v, embs[i].dim) >= MAIF_GRAPH_SIMILAR_MIN)
                    rc = edge_add(g, embs[j].source_node, "similar_to", 10, embs[i].source_node, embs[j].block);
    maif_free(embs);
    if (rc == 0 && nimg > NEAR_IMAGES_MAX)
        skip(g, "%llu images: near-duplicate links are computed for at most %u", (unsigned long long)nimg,
             NEAR_IMAGES_MAX);
    else
        for (uint64_t i = 0; i < nimg && rc == 0; i++)
            for (uint64_t j = i + 1; j < nimg && rc == 0; j++) {
                int d1 = maif_hash_distance(imgs[i].phash, imgs[j].phash),
                    d2 = maif_hash_distance(imgs[i].content, imgs[j].content);
                if ((d1 < d2 ? d1 : d2) <= NEAR_T)
                    rc = edge_add(g, imgs[j].node, "near_duplicate_of", 17, imgs[i].node, imgs[j].block);
            }
    /* nodes of block ids named by triples or relationships: find them in the artifact */
    for (uint64_t i = 0; i < g->nnodes && rc == 0; i++) {
        gnode *x = &g->nodes[i];
        if (x->kind != MAIF_GRAPH_NODE_BLOCK || x->block >= 0) continue;
        uint8_t id[MAIF_ID_BYTES];
        uint64_t at;
        if (maif_unhex(gname(g, x->name), id, MAIF_ID_BYTES) == 0 && maif_reader_find(r, id, &at) == 0 &&
            maif_reader_block(r, at, &b) == 0) {
            x->block = (int64_t)at;
            x->type = b.type;
        }
    }
    maif_free(gone);
    maif_free(imgs);
    if (rc == 0) rc = build_adjacency(g);
    if (rc) {
        maif_graph_free(g);
        return rc == MAIF_ENOMEM ? maif_set_last_err(rc, "out of memory building the graph")
                                 : maif_set_last_err(rc, "building the graph: %s", maif_last_errmsg());
    }
    *out = g;
    return 0;
}

void maif_graph_free(maif_graph *g)
{
    if (!g) return;
    maif_buf_free(&g->names);
    maif_free(g->nodes);
    maif_free(g->edges);
    maif_free(g->slots);
    maif_free(g->eslots);
    maif_free(g->preds);
    maif_free(g->pslots);
    maif_free(g->adj_off);
    maif_free(g->adj);
    maif_free(g);
}

uint64_t maif_graph_node_count(const maif_graph *g) { return g ? g->nnodes : 0; }

uint64_t maif_graph_edge_count(const maif_graph *g) { return g ? g->nedges : 0; }

uint64_t maif_graph_skipped(const maif_graph *g, const char **why)
{
    if (why) *why = g && g->skipped ? g->why : "";
    return g ? g->skipped : 0;
}

int maif_graph_node_get(const maif_graph *g, uint64_t i, maif_graph_node *out)
{
    if (!g || !out || i >= g->nnodes) return maif_set_last_err(MAIF_EINVAL, "maif_graph_node_get: no node %llu", (unsigned long long)i);
    out->name = gname(g, g->nodes[i].name);
    out->kind = g->nodes[i].kind;
    out->block = g->nodes[i].block;
    out->type = g->nodes[i].type;
    return 0;
}

int maif_graph_edge_get(const maif_graph *g, uint64_t i, maif_graph_edge *out)
{
    if (!g || !out || i >= g->nedges) return maif_set_last_err(MAIF_EINVAL, "maif_graph_edge_get: no edge %llu", (unsigned long long)i);
    out->from = g->edges[i].from;
    out->to = g->edges[i].to;
    out->predicate = gname(g, g->edges[i].pred);
    out->block = g->edges[i].block;
    return 0;
}

int maif_graph_lookup(const maif_graph *g, const char *name, uint64_t *node)
{
    if (!g || !name || !node) return maif_set_last_err(MAIF_EINVAL, "maif_graph_lookup: NULL argument");
    size_t n = strlen(name);
    if (n == 0 || n > NAME_MAX_BYTES || !g->nslots) return maif_set_last_err(MAIF_ENOTFOUND, "no node named \"%.64s\"", name);
    int kinds[2] = {is_block_id(name, n) ? MAIF_GRAPH_NODE_BLOCK : MAIF_GRAPH_NODE_ENTITY, MAIF_GRAPH_NODE_LITERAL};
    char low[2 * MAIF_ID_BYTES + 1];
    const char *key = name;
    if (kinds[0] == MAIF_GRAPH_NODE_BLOCK) {
        for (size_t i = 0; i < n; i++) low[i] = (char)(name[i] >= 'A' && name[i] <= 'F' ? name[i] + 32 : name[i]);
        low[n] = 0;
        key = low;
    }
    for (int k = 0; k < 2; k++) {
        uint64_t h = node_key_of(kinds[k], key, n) & (g->nslots - 1);
        for (; g->slots[h]; h = (h + 1) & (g->nslots - 1)) {
            const gnode *x = &g->nodes[g->slots[h] - 1];
            if (x->kind == kinds[k] && strcmp(gname(g, x->name), key) == 0) {
                *node = g->slots[h] - 1;
                return 0;
            }
        }
    }
    return maif_set_last_err(MAIF_ENOTFOUND, "no node named \"%.64s\"", name);
}

static int put_list(const uint64_t *v, size_t count, uint64_t *out, size_t cap, size_t *n)
{
    *n = count;
    if (count > cap) {
        if (out && cap) memcpy(out, v, cap * sizeof *v);
        return maif_set_last_err(MAIF_ELIMIT, "%zu results, room for %zu", count, cap);
    }
    if (count) memcpy(out, v, count * sizeof *v);
    return 0;
}

int maif_graph_neighbors(const maif_graph *g, uint64_t node, uint64_t *edges, size_t cap, size_t *n)
{
    if (!g || !n || (!edges && cap) || node >= g->nnodes)
        return maif_set_last_err(MAIF_EINVAL, "maif_graph_neighbors: bad argument");
    return put_list(g->adj + g->adj_off[node], (size_t)(g->adj_off[node + 1] - g->adj_off[node]), edges, cap, n);
}

/* Breadth-first from a node over edges in both directions, at most depth
 * edges away: dist[] (UINT64_MAX unreached) and via[] (the edge that
 * reached each node). Returns the nodes in visiting order in *order. */
static int bfs(const maif_graph *g, uint64_t from, uint64_t to, unsigned depth, uint64_t **order, uint64_t *nord,
               uint64_t **via_out)
{
    uint64_t *dist = maif_malloc(g->nnodes * sizeof *dist), *via = maif_malloc(g->nnodes * sizeof *via);
    uint64_t *q = maif_malloc(g->nnodes * sizeof *q);
    if (!dist || !via || !q) {
        maif_free(dist), maif_free(via), maif_free(q);
        return MAIF_ENOMEM;
    }
    for (uint64_t i = 0; i < g->nnodes; i++) dist[i] = UINT64_MAX;
    uint64_t head = 0, tail = 0;
    q[tail++] = from;
    dist[from] = 0;
    while (head < tail) {
        uint64_t u = q[head++];
        if (u == to || dist[u] >= depth) continue;
        for (uint64_t k = g->adj_off[u]; k < g->adj_off[u + 1]; k++) {
            const gedge *e = &g->edges[g->adj[k]];
            uint64_t v = e->from == u ? e->to : e->from;
            if (dist[v] != UINT64_MAX) continue;
            dist[v] = dist[u] + 1;
            via[v] = g->adj[k];
            q[tail++] = v;
        }
    }
    maif_free(dist);
    *order = q;
    *nord = tail;
    *via_out = via;
    return 0;
}

int maif_graph_path(const maif_graph *g, uint64_t from, uint64_t to, unsigned max_edges, uint64_t *edges, size_t cap,
                    size_t *n)
{
    if (!g || !n || (!edges && cap) || from >= g->nnodes || to >= g->nnodes || max_edges == 0 ||
        max_edges > MAIF_GRAPH_DEPTH_MAX)
        return maif_set_last_err(MAIF_EINVAL, "maif_graph_path: bad argument (depth 1 to %u)", MAIF_GRAPH_DEPTH_MAX);
    *n = 0;
    if (from == to) return 0;
    uint64_t *order, nord, *via;
    if (bfs(g, from, to, max_edges, &order, &nord, &via)) return maif_set_last_err(MAIF_ENOMEM, "out of memory");
    int found = 0;
    for (uint64_t i = 0; i < nord; i++) found |= order[i] == to;
    int rc;
    if (!found) {
        rc = maif_set_last_err(MAIF_ENOTFOUND, "no path of at most %u edges", max_edges);
    } else {
        uint64_t path[MAIF_GRAPH_DEPTH_MAX];
        size_t len = 0;
        for (uint64_t v = to; v != from && len < MAIF_GRAPH_DEPTH_MAX;) {
            const gedge *e = &g->edges[via[v]];
            path[len++] = via[v];
            v = e->from == v ? e->to : e->from;
        }
        for (size_t i = 0; i < len / 2; i++) {
            uint64_t t = path[i];
            path[i] = path[len - 1 - i];
            path[len - 1 - i] = t;
        }
        rc = put_list(path, len, edges, cap, n);
    }
    maif_free(order);
    maif_free(via);
    return rc;
}

int maif_graph_around(const maif_graph *g, uint64_t node, unsigned depth, uint64_t *nodes, size_t cap, size_t *n)
{
    if (!g || !n || (!nodes && cap) || node >= g->nnodes || depth > MAIF_GRAPH_DEPTH_MAX)
        return maif_set_last_err(MAIF_EINVAL, "maif_graph_around: bad argument (depth 0 to %u)", MAIF_GRAPH_DEPTH_MAX);
    uint64_t *order, nord, *via;
    if (bfs(g, node, UINT64_MAX, depth, &order, &nord, &via)) return maif_set_last_err(MAIF_ENOMEM, "out of memory");
    int rc = put_list(order, (size_t)nord, nodes, cap, n);
    maif_free(order);
    maif_free(via);
    return rc;
}

int maif_graph_match(const maif_graph *g, const char *s, const char *p, const char *o, uint64_t *edges, size_t cap,
                     size_t *n)
{
    if (!g || !n || (!edges && cap)) return maif_set_last_err(MAIF_EINVAL, "maif_graph_match: bad argument");
    uint64_t sn = UINT64_MAX, on = UINT64_MAX;
    *n = 0;
    if (s && maif_graph_lookup(g, s, &sn)) return 0;
    if (o && maif_graph_lookup(g, o, &on)) return 0;
    size_t count = 0;
    for (uint64_t i = 0; i < g->nedges; i++) {
        const gedge *e = &g->edges[i];
        if ((s && e->from != sn) || (o && e->to != on) || (p && strcmp(gname(g, e->pred), p) != 0)) continue;
        if (count < cap) edges[count] = i;
        count++;
    }
    *n = count;
    return count > cap ? maif_set_last_err(MAIF_ELIMIT, "%zu matches, room for %zu", count, cap) : 0;
}

/* ---- export */

typedef struct out {
    maif_write_fn write;
    void *ctx;
    maif_buf b;
    int err;
} out;

static void flush_out(out *o)
{
    if (!o->err && o->b.len && o->write(o->ctx, o->b.data, o->b.len) != 0) o->err = MAIF_EIO;
    o->b.len = 0;
}

static void emit(out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void emit(out *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char tmp[512];
    int k = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (k > 0 && maif_buf_append(&o->b, tmp, (size_t)k < sizeof tmp ? (size_t)k : sizeof tmp - 1)) o->err = MAIF_ENOMEM;
    if (o->b.len > 65536) flush_out(o);
}

/* A DOT string: quotes and backslashes escaped, control characters as '?'. */
static void emit_dot_str(out *o, const char *s, size_t max)
{
    maif_buf_putc(&o->b, '"');
    size_t i = 0;
    for (; s[i] && i < max; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') maif_buf_putc(&o->b, '\\');
        if (maif_buf_putc(&o->b, c < 0x20 || c == 0x7f ? '?' : (char)c)) o->err = MAIF_ENOMEM;
    }
    if (s[i]) {
        /* cut on a character boundary */
        while (o->b.len && ((unsigned char)o->b.data[o->b.len - 1] & 0xc0) == 0x80) o->b.len--;
        if (o->b.len && (unsigned char)o->b.data[o->b.len - 1] >= 0xc0) o->b.len--;
        maif_buf_puts(&o->b, "...");
    }
    maif_buf_putc(&o->b, '"');
}

static const char *kind_name(int k)
{
    return k == MAIF_GRAPH_NODE_BLOCK ? "block" : k == MAIF_GRAPH_NODE_ENTITY ? "entity" : "literal";
}

int maif_graph_export(const maif_graph *g, int format, const uint64_t *nodes, size_t nnodes, maif_write_fn write,
                      void *ctx)
{
    if (!g || !write || (format != MAIF_GRAPH_DOT && format != MAIF_GRAPH_JSON) || (!nodes && nnodes))
        return maif_set_last_err(MAIF_EINVAL, "maif_graph_export: bad argument");
    uint8_t *in = maif_calloc(g->nnodes ? g->nnodes : 1, 1);
    if (!in) return maif_set_last_err(MAIF_ENOMEM, "out of memory");
    for (size_t i = 0; i < nnodes; i++)
        if (nodes[i] < g->nnodes) in[nodes[i]] = 1;
    for (uint64_t i = 0; !nodes && i < g->nnodes; i++) in[i] = 1;
    out o = {write, ctx, {0}, 0};
    if (format == MAIF_GRAPH_DOT) {
        emit(&o, "digraph maif {\n  node [fontname=\"Helvetica\"];\n");
        for (uint64_t i = 0; i < g->nnodes; i++) {
            const gnode *x = &g->nodes[i];
            if (!in[i]) continue;
            emit(&o, "  n%llu [label=", (unsigned long long)i);
            if (x->kind == MAIF_GRAPH_NODE_BLOCK && x->block >= 0) {
                char lab[96];
                snprintf(lab, sizeof lab, "#%lld %s %.8s", (long long)x->block, maif_type_name(x->type),
                         gname(g, x->name));
                emit_dot_str(&o, lab, sizeof lab);
            } else {
                emit_dot_str(&o, gname(g, x->name), 80);
            }
            emit(&o, ", shape=%s];\n", x->kind == MAIF_GRAPH_NODE_BLOCK ? "box" : x->kind == MAIF_GRAPH_NODE_ENTITY ? "ellipse" : "plaintext");
        }
        for (uint64_t i = 0; i < g->nedges; i++) {
            const gedge *e = &g->edges[i];
            if (!in[e->from] || !in[e->to]) continue;
            emit(&o, "  n%llu -> n%llu [label=", (unsigned long long)e->from, (unsigned long long)e->to);
            emit_dot_str(&o, gname(g, e->pred), 80);
            emit(&o, "];\n");
        }
        emit(&o, "}\n");
    } else {
        json_t *root = json_object(), *jn = json_array(), *je = json_array();
        if (!root || !jn || !je) o.err = MAIF_ENOMEM;
        for (uint64_t i = 0; i < g->nnodes && !o.err; i++) {
            const gnode *x = &g->nodes[i];
            if (!in[i]) continue;
            json_t *v = json_pack("{s:I, s:s, s:s}", "id", (json_int_t)i, "name", gname(g, x->name), "kind", kind_name(x->kind));
            if (v && x->block >= 0) {
                json_object_set_new(v, "block", json_integer(x->block));
                json_object_set_new(v, "type", json_string(maif_type_name(x->type)));
            }
            if (!v || json_array_append_new(jn, v)) o.err = MAIF_ENOMEM;
        }
        for (uint64_t i = 0; i < g->nedges && !o.err; i++) {
            const gedge *e = &g->edges[i];
            if (!in[e->from] || !in[e->to]) continue;
            json_t *v = json_pack("{s:I, s:I, s:s, s:I}", "from", (json_int_t)e->from, "to", (json_int_t)e->to, "predicate",
                                  gname(g, e->pred), "block", (json_int_t)e->block);
            if (!v || json_array_append_new(je, v)) o.err = MAIF_ENOMEM;
        }
        if (!o.err) {
            json_object_set(root, "nodes", jn);
            json_object_set(root, "edges", je);
            char *t = json_dumps(root, JSON_INDENT(2));
            if (!t || maif_buf_append(&o.b, t, strlen(t)) || maif_buf_putc(&o.b, '\n')) o.err = MAIF_ENOMEM;
            free(t);
        }
        json_decref(jn);
        json_decref(je);
        json_decref(root);
    }
    flush_out(&o);
    maif_buf_free(&o.b);
    maif_free(in);
    if (o.err == MAIF_EIO) return maif_set_last_err(MAIF_EIO, "writing the graph failed");
    if (o.err) return maif_set_last_err(o.err, "out of memory exporting the graph");
    return 0;
}
