/*
 * tidx_build.c — building the stored full-text index (TIDX, FORMAT.md
 * §5.14) and maif_index_build_text.
 *
 * One pass over the text blocks: every word is stemmed (Snowball
 * English), each distinct stem gets a number from an open-addressing hash
 * table, and each (document, stem) pair becomes one posting, counted in
 * place while the document is read (a stem remembers the last document it
 * was seen in). The postings are then grouped by stem with a counting
 * sort (stable, so each list stays in document order), the stems sorted
 * bytewise, and the payload written in its final layout. Encrypted text
 * blocks are never read: the index is public, chained bytes, and would
 * leak their words (and outlive a crypto-shredding); they are listed as
 * skipped so that a reader holding the key can still scan them.
 */
#include <libstemmer.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "semantic/textidx.h"
#include "util/alloc.h"
#include "util/common.h"

typedef struct posting {
    uint32_t term, doc, tf;
} posting;

typedef struct builder {
    /* terms */
    uint8_t *pool;        /* stem bytes, back to back */
    uint64_t pool_len, pool_cap;
    uint64_t *toff;       /* term i: pool offset */
    uint8_t *tlen;        /* term i: length 1..64 */
    uint32_t *last_doc;   /* term i: the last document it occurs in (+1; 0 none) */
    uint64_t *last_post;  /* term i: its posting in that document */
    uint32_t *df;
    uint32_t nterms, tcap;
    uint32_t *slots;      /* hash table of term numbers + 1 (0 empty) */
    uint32_t nslots;      /* a power of two, at least twice nterms */
    /* postings, documents, skipped blocks */
    posting *post;
    uint64_t npost, pcap;
    uint64_t *dblock;
    uint32_t *dlen;
    uint32_t ndocs, dcap;
    uint64_t *skip;
    uint32_t nskip, scap;
    uint64_t total;
} builder;

static uint64_t hash_bytes(const uint8_t *s, int n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (int i = 0; i < n; i++) h = (h ^ s[i]) * 0x100000001b3ull;
    return h ^ (h >> 29);
}

static int grow(void **p, uint64_t *cap, uint64_t need, size_t elem)
{
    if (need <= *cap) return MAIF_OK;
    uint64_t nc = *cap ? *cap : 256, bytes;
    while (nc < need) nc *= 2;
    if (!mul_ok(nc, elem, &bytes) || bytes > SIZE_MAX) return MAIF_ENOMEM;
    void *q = maif_realloc(*p, (size_t)bytes);
    if (!q) return MAIF_ENOMEM;
    *p = q;
    *cap = nc;
    return MAIF_OK;
}

static int rehash(builder *b)
{
    uint32_t ns = b->nslots ? b->nslots * 2 : 1024;
    if (ns < b->nslots) return MAIF_ELIMIT;
    uint32_t *s = maif_calloc(ns, sizeof *s);
    if (!s) return MAIF_ENOMEM;
    for (uint32_t t = 0; t < b->nterms; t++) {
        uint32_t h = (uint32_t)hash_bytes(b->pool + b->toff[t], b->tlen[t]) & (ns - 1);
        while (s[h]) h = (h + 1) & (ns - 1);
        s[h] = t + 1;
    }
    maif_free(b->slots);
    b->slots = s;
    b->nslots = ns;
    return MAIF_OK;
}

/* The number of stem s, added when new. */
static int term_of(builder *b, const uint8_t *s, int n, uint32_t *out)
{
    if ((uint64_t)(b->nterms + 1) * 2 > b->nslots) {
        if (b->nterms >= UINT32_MAX / 4) return MAIF_ELIMIT;
        int rc = rehash(b);
        if (rc) return rc;
    }
    uint32_t h = (uint32_t)hash_bytes(s, n) & (b->nslots - 1);
    while (b->slots[h]) {
        uint32_t t = b->slots[h] - 1;
        if (b->tlen[t] == n && memcmp(b->pool + b->toff[t], s, (size_t)n) == 0) {
            *out = t;
            return MAIF_OK;
        }
        h = (h + 1) & (b->nslots - 1);
    }
    uint32_t t = b->nterms;
    if (t == b->tcap) {
        uint32_t nc = b->tcap ? b->tcap * 2 : 1024;
        uint64_t *a = maif_realloc(b->toff, nc * sizeof *a);
        if (a) b->toff = a;
        uint8_t *l = maif_realloc(b->tlen, nc);
        if (l) b->tlen = l;
        uint32_t *ld = maif_realloc(b->last_doc, nc * sizeof *ld);
        if (ld) b->last_doc = ld;
        uint64_t *lp = maif_realloc(b->last_post, nc * sizeof *lp);
        if (lp) b->last_post = lp;
        uint32_t *df = maif_realloc(b->df, nc * sizeof *df);
        if (df) b->df = df;
        if (!a || !l || !ld || !lp || !df) return MAIF_ENOMEM;
        b->tcap = nc;
    }
    if (grow((void **)&b->pool, &b->pool_cap, b->pool_len + (uint64_t)n, 1)) return MAIF_ENOMEM;
    if (b->pool_len + (uint64_t)n > UINT32_MAX) return MAIF_ELIMIT;
    memcpy(b->pool + b->pool_len, s, (size_t)n);
    b->toff[t] = b->pool_len;
    b->tlen[t] = (uint8_t)n;
    b->last_doc[t] = 0;
    b->df[t] = 0;
    b->pool_len += (uint64_t)n;
    b->slots[h] = t + 1;
    b->nterms++;
    *out = t;
    return MAIF_OK;
}

static int add_doc(builder *b, struct sb_stemmer *st, uint64_t block, const char *text, size_t len)
{
    if (b->ndocs == UINT32_MAX) return MAIF_ELIMIT;
    uint32_t d = b->ndocs, dl = 0;
    uint8_t word[SEM_WORD_MAX];
    int rc = MAIF_OK;
    SEM_FOR_WORDS(text, len, word, wl, {
        dl++; /* as the scan counts: every word, stemmed or not */
        const sb_symbol *sm = rc ? NULL : sb_stemmer_stem(st, word, wl);
        int sl = sm ? sb_stemmer_length(st) : 0;
        uint32_t t;
        if (sl > 0 && sl <= SEM_WORD_MAX && !(rc = term_of(b, sm, sl, &t))) {
            if (b->last_doc[t] == d + 1) {
                b->post[b->last_post[t]].tf++;
            } else if (!(rc = grow((void **)&b->post, &b->pcap, b->npost + 1, sizeof *b->post))) {
                b->post[b->npost] = (posting){t, d, 1};
                b->last_doc[t] = d + 1;
                b->last_post[t] = b->npost++;
                b->df[t]++;
            }
        }
    });
    if (rc) return rc;
    uint64_t cap = b->dcap;
    if (grow((void **)&b->dblock, &cap, (uint64_t)d + 1, sizeof *b->dblock)) return MAIF_ENOMEM;
    cap = b->dcap;
    if (grow((void **)&b->dlen, &cap, (uint64_t)d + 1, sizeof *b->dlen)) return MAIF_ENOMEM;
    b->dcap = (uint32_t)(cap > UINT32_MAX ? UINT32_MAX : cap);
    b->dblock[d] = block;
    b->dlen[d] = dl;
    b->total += dl;
    b->ndocs++;
    return MAIF_OK;
}

static int cmp_term(const void *x, const void *y, void *ctx)
{
    const builder *b = ctx;
    uint32_t i = *(const uint32_t *)x, j = *(const uint32_t *)y;
    int li = b->tlen[i], lj = b->tlen[j];
    int c = memcmp(b->pool + b->toff[i], b->pool + b->toff[j], (size_t)(li < lj ? li : lj));
    return c ? c : (li > lj) - (li < lj);
}

static size_t put_varint(uint8_t *p, uint32_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

/* Writes the payload: terms sorted, postings grouped by term in document order. */
static int emit(builder *b, uint64_t covered, uint32_t flags, uint8_t **out, size_t *size)
{
    int rc = MAIF_ENOMEM;
    uint32_t *order = maif_malloc(((size_t)b->nterms + 1) * sizeof *order);
    uint64_t *start = maif_calloc((size_t)b->nterms + 1, sizeof *start);
    uint32_t *pd = maif_malloc((b->npost ? b->npost : 1) * sizeof *pd), *ptf = NULL;
    uint64_t *bytes = maif_calloc((size_t)b->nterms + 1, sizeof *bytes);
    if (pd) ptf = maif_malloc((b->npost ? b->npost : 1) * sizeof *ptf);
    if (!order || !start || !pd || !ptf || !bytes) goto out;
    /* counting sort of the postings by term (stable: document order kept) */
    for (uint32_t t = 0; t < b->nterms; t++) start[t + 1] = start[t] + b->df[t];
    for (uint64_t i = 0; i < b->npost; i++) {
        uint64_t at = start[b->post[i].term]++;
        pd[at] = b->post[i].doc;
        ptf[at] = b->post[i].tf;
    }
    for (uint32_t t = b->nterms; t > 0; t--) start[t] = start[t - 1];
    start[0] = 0;
    for (uint32_t t = 0; t < b->nterms; t++) order[t] = t;
    qsort_r(order, b->nterms, sizeof *order, cmp_term, b);
    /* sizes: the postings' varint bytes */
    uint8_t tmp[5];
    uint64_t post_size = 0;
    for (uint32_t t = 0; t < b->nterms; t++) {
        uint32_t prev = 0;
        for (uint64_t i = start[t]; i < start[t] + b->df[t]; i++) {
            bytes[t] += put_varint(tmp, i == start[t] ? pd[i] : pd[i] - prev) + put_varint(tmp, ptf[i]);
            prev = pd[i];
        }
        post_size += bytes[t];
    }
    uint64_t strs = (b->pool_len + 7) & ~(uint64_t)7;
    uint64_t total = SEM_TIDX_HEADER + 16 * ((uint64_t)b->nterms + 1) + 16 * (uint64_t)b->ndocs +
                     8 * (uint64_t)b->nskip + strs + post_size;
    if (total > SIZE_MAX) {
        rc = MAIF_ELIMIT;
        goto out;
    }
    uint8_t *p = maif_calloc(1, (size_t)total);
    if (!p) goto out;
    memcpy(p, "MAIFTIX1", 8);
    put32(p + 8, 1);
    put32(p + 12, SEM_TIDX_ANALYZER);
    put64(p + 16, covered);
    put32(p + 24, b->ndocs);
    put32(p + 28, b->nterms);
    put32(p + 32, b->nskip);
    put32(p + 36, flags);
    put64(p + 40, b->total);
    put64(p + 48, b->pool_len);
    put64(p + 56, post_size);
    uint8_t *terms = p + SEM_TIDX_HEADER, *docs = terms + 16 * ((uint64_t)b->nterms + 1);
    uint8_t *skip = docs + 16 * (uint64_t)b->ndocs, *strings = skip + 8 * (uint64_t)b->nskip;
    uint8_t *post = strings + strs;
    uint64_t so = 0, po = 0;
    for (uint32_t k = 0; k < b->nterms; k++) {
        uint32_t t = order[k];
        put32(terms + 16 * (uint64_t)k, (uint32_t)so);
        put32(terms + 16 * (uint64_t)k + 4, b->df[t]);
        put64(terms + 16 * (uint64_t)k + 8, po);
        memcpy(strings + so, b->pool + b->toff[t], b->tlen[t]);
        so += b->tlen[t];
        uint32_t prev = 0;
        for (uint64_t i = start[t]; i < start[t] + b->df[t]; i++) {
            po += put_varint(post + po, i == start[t] ? pd[i] : pd[i] - prev);
            po += put_varint(post + po, ptf[i]);
            prev = pd[i];
        }
    }
    put32(terms + 16 * (uint64_t)b->nterms, (uint32_t)so);
    put64(terms + 16 * (uint64_t)b->nterms + 8, po);
    for (uint32_t d = 0; d < b->ndocs; d++) {
        put64(docs + 16 * (uint64_t)d, b->dblock[d]);
        put32(docs + 16 * (uint64_t)d + 8, b->dlen[d]);
    }
    for (uint32_t i = 0; i < b->nskip; i++) put64(skip + 8 * (uint64_t)i, b->skip[i]);
    *out = p;
    *size = (size_t)total;
    rc = MAIF_OK;
out:
    maif_free(order);
    maif_free(start);
    maif_free(pd);
    maif_free(ptf);
    maif_free(bytes);
    return rc;
}

int sem_tidx_build(maif_reader *r, uint64_t covered, uint8_t **out, size_t *size, uint64_t *docs, uint64_t *terms,
                   uint64_t *skipped)
{
    *out = NULL;
    *size = 0;
    builder b;
    memset(&b, 0, sizeof b);
    struct sb_stemmer *st = sb_stemmer_new("english", "UTF_8");
    if (!st) return maif_set_last_err(MAIF_ENOMEM, "text index: no stemmer");
    int rc = rehash(&b), vectors = 0;
    for (uint64_t i = 0; i < covered && !rc; i++) {
        maif_block blk;
        if (maif_reader_block(r, i, &blk) != MAIF_OK) {
            vectors = 1; /* unknown type: claim nothing about it */
            continue;
        }
        if (blk.type == MAIF_TYPE_EMBEDDING || blk.type == SEM_TYPE_VIDX) vectors = 1;
        if (blk.type != MAIF_TYPE_TEXT) continue;
        if (blk.cipher) { /* never indexed: listed, so a reader with the key scans it */
            uint64_t cap = b.scap;
            if (b.nskip == UINT32_MAX) rc = MAIF_ELIMIT;
            else if (!(rc = grow((void **)&b.skip, &cap, (uint64_t)b.nskip + 1, sizeof *b.skip))) {
                b.scap = (uint32_t)(cap > UINT32_MAX ? UINT32_MAX : cap);
                b.skip[b.nskip++] = i;
            }
            continue;
        }
        const char *t;
        size_t tl;
        char *owned = NULL;
        if (sem_block_text(r, i, &t, &tl, &owned) != MAIF_OK) continue; /* unreadable: the scan skips it too */
        rc = add_doc(&b, st, i, t, tl);
        maif_free(owned);
    }
    if (!rc) rc = emit(&b, covered, vectors ? 0 : SEM_TIDX_F_NO_VECTORS, out, size);
    if (!rc) {
        *docs = b.ndocs;
        *terms = b.nterms;
        *skipped = b.nskip;
    }
    sb_stemmer_delete(st);
    maif_free(b.pool);
    maif_free(b.toff);
    maif_free(b.tlen);
    maif_free(b.last_doc);
    maif_free(b.last_post);
    maif_free(b.df);
    maif_free(b.slots);
    maif_free(b.post);
    maif_free(b.dblock);
    maif_free(b.dlen);
    maif_free(b.skip);
    if (rc == MAIF_ENOMEM) return maif_set_last_err(rc, "text index: out of memory");
    if (rc == MAIF_ELIMIT) return maif_set_last_err(rc, "text index: more texts, terms or bytes than it can hold");
    return rc;
}

int maif_index_build_text(const char *path, const maif_key *key, const maif_options *opt, uint64_t *indexed)
{
    if (indexed) *indexed = 0;
    if (!path || !key) return maif_set_last_err(MAIF_EINVAL, "maif_index_build_text: NULL argument");
    maif_reader *r = NULL;
    maif_writer *w = NULL;
    uint8_t *payload = NULL;
    size_t psize = 0;
    uint64_t nd = 0, nt = 0, ns = 0;
    int rc = maif_reader_open(&r, path);
    if (rc) return rc;
    uint64_t nb = maif_reader_count(r);
    if ((rc = sem_tidx_build(r, nb, &payload, &psize, &nd, &nt, &ns))) goto out;
    if (nd == 0) {
        rc = maif_set_last_err(MAIF_ENOTFOUND, "no plain text blocks to index%s",
                               ns ? " (encrypted texts are never indexed)" : "");
        goto out;
    }
    if ((rc = maif_writer_open(&w, path, key, opt))) goto out;
    if (maif_writer_count(w) != nb) {
        rc = maif_set_last_err(MAIF_ESTATE, "the artifact changed while the index was built; run again");
        goto out;
    }
    json_t *meta = json_pack("{s:s,s:I,s:I,s:I,s:I,s:s}", "analyzer", "snowball-english-1", "covered", (json_int_t)nb,
                             "skipped", (json_int_t)ns, "terms", (json_int_t)nt, "texts", (json_int_t)nd, "index",
                             "bm25");
    if ((rc = sem_index_block_commit(w, SEM_TYPE_TIDX, payload, psize, meta))) goto out;
    rc = maif_writer_close(w);
    w = NULL;
    if (!rc && indexed) *indexed = nd;
out:
    maif_writer_close(w);
    maif_reader_close(r);
    maif_free(payload);
    return rc;
}
