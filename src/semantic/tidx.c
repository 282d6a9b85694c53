/*
 * tidx.c — the stored full-text index (TIDX, FORMAT.md §5.14) read in
 * place. Opening checks the fixed header and that the payload has exactly
 * the size the counts imply (every product and sum overflow-checked):
 * constant time at any size, nothing allocated. Everything else — a
 * term's string and its order against its neighbour, its posting range,
 * each varint, document number and frequency, each document's block — is
 * checked where a query reads it, so a hostile index costs a clear
 * MAIF_EFORMAT, never a read outside the payload. sem_tidx_check walks it
 * all (tests, the fuzz target).
 */
#include <stdio.h>
#include <string.h>

#include "semantic/textidx.h"
#include "util/common.h"

static const uint8_t MAGIC[8] = {'M', 'A', 'I', 'F', 'T', 'I', 'X', '1'};

static uint32_t rd32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static uint64_t rd64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

#define BAD(...) (snprintf(err, errsz, __VA_ARGS__), MAIF_EFORMAT)

int sem_tidx_view(sem_tidx *t, const uint8_t *p, size_t size, char *err, size_t errsz)
{
    memset(t, 0, sizeof *t);
    if (size < SEM_TIDX_HEADER) return BAD("text index: %zu bytes, shorter than its header", size);
    if (memcmp(p, MAGIC, 8) != 0) return BAD("text index: bad magic");
    if (rd32(p + 8) != 1) return BAD("text index: version %u (this reader knows 1)", rd32(p + 8));
    if (rd32(p + 12) != SEM_TIDX_ANALYZER) return BAD("text index: analyzer %u unknown", rd32(p + 12));
    t->covered = rd64(p + 16);
    t->ndocs = rd32(p + 24);
    t->nterms = rd32(p + 28);
    t->nskip = rd32(p + 32);
    t->flags = rd32(p + 36);
    if (t->flags & ~SEM_TIDX_F_NO_VECTORS) return BAD("text index: reserved flag bits not zero");
    t->total = rd64(p + 40);
    t->strings_size = rd64(p + 48);
    t->post_size = rd64(p + 56);
    if (t->ndocs > t->covered || t->nskip > t->covered)
        return BAD("text index: %u documents and %u skipped blocks in %llu blocks", t->ndocs, t->nskip,
                   (unsigned long long)t->covered);
    if (t->nterms > 0 && t->ndocs == 0) return BAD("text index: %u terms and no documents", t->nterms);
    /* size = 64 + 16 (nterms + 1) + 16 ndocs + 8 nskip + align8(strings) + postings */
    uint64_t a, b, c, s = SEM_TIDX_HEADER, strs;
    if (!mul_ok((uint64_t)t->nterms + 1, 16, &a) || !mul_ok(t->ndocs, 16, &b) || !mul_ok(t->nskip, 8, &c) ||
        !add_ok(t->strings_size, 7, &strs) || !add_ok(s, a, &s) || !add_ok(s, b, &s) || !add_ok(s, c, &s) ||
        !add_ok(s, strs & ~(uint64_t)7, &s) || !add_ok(s, t->post_size, &s) || s != size)
        return BAD("text index: %zu bytes where its counts need %s", size, "a different size");
    t->p = p;
    t->size = size;
    t->terms = p + SEM_TIDX_HEADER;
    t->docs = t->terms + a;
    t->skip = t->docs + b;
    t->strings = t->skip + c;
    t->post = t->strings + (strs & ~(uint64_t)7);
    /* the sentinel entry closes both sections */
    const uint8_t *e = t->terms + 16 * (uint64_t)t->nterms;
    if (rd32(e) != t->strings_size || rd32(e + 4) != 0 || rd64(e + 8) != t->post_size)
        return BAD("text index: the closing term entry does not match the section sizes");
    if (t->strings_size > UINT32_MAX) return BAD("text index: string section over 4 GiB");
    return MAIF_OK;
}

/* Term i's string, bounded. */
static int term_str(const sem_tidx *t, uint32_t i, const uint8_t **s, int *len, char *err, size_t errsz)
{
    uint32_t a = rd32(t->terms + 16 * (uint64_t)i), b = rd32(t->terms + 16 * ((uint64_t)i + 1));
    if (a >= b || b > t->strings_size || b - a > SEM_WORD_MAX)
        return BAD("text index: term %u: string [%u, %u) out of bounds", i, a, b);
    *s = t->strings + a;
    *len = (int)(b - a);
    return MAIF_OK;
}

static int cmp_bytes(const uint8_t *a, int al, const uint8_t *b, int bl)
{
    int c = memcmp(a, b, (size_t)(al < bl ? al : bl));
    return c ? c : (al > bl) - (al < bl);
}

int sem_tidx_find(const sem_tidx *t, const uint8_t *s, int len, uint32_t *term, char *err, size_t errsz)
{
    *term = UINT32_MAX;
    uint32_t lo = 0, hi = t->nterms;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        const uint8_t *ms;
        int ml;
        int rc = term_str(t, mid, &ms, &ml, err, errsz);
        if (rc) return rc;
        /* the order is checked where the search relies on it: each probe
           against both neighbours */
        for (uint32_t nb = mid ? mid - 1 : mid + 1; nb <= mid + 1 && nb < t->nterms; nb += 2) {
            const uint8_t *ns;
            int nl;
            if ((rc = term_str(t, nb, &ns, &nl, err, errsz))) return rc;
            int c = cmp_bytes(ms, ml, ns, nl);
            if (nb < mid ? c <= 0 : c >= 0)
                return BAD("text index: terms %u and %u out of order", nb < mid ? nb : mid, nb < mid ? mid : nb);
        }
        int c = cmp_bytes(ms, ml, s, len);
        if (c == 0) {
            *term = mid;
            return MAIF_OK;
        }
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return MAIF_OK;
}

int sem_tidx_postings(const sem_tidx *t, uint32_t i, uint32_t *df, sem_tidx_cur *c, char *err, size_t errsz)
{
    if (i >= t->nterms) return BAD("text index: no term %u", i);
    const uint8_t *e = t->terms + 16 * (uint64_t)i;
    uint64_t a = rd64(e + 8), b = rd64(e + 24);
    *df = rd32(e + 4);
    if (*df == 0 || *df > t->ndocs) return BAD("text index: term %u: df %u of %u documents", i, *df, t->ndocs);
    if (a > b || b > t->post_size || b - a < 2ull * *df)
        return BAD("text index: term %u: postings [%llu, %llu) out of bounds for %u entries", i, (unsigned long long)a,
                   (unsigned long long)b, *df);
    memset(c, 0, sizeof *c);
    c->p = t->post + a;
    c->end = t->post + b;
    c->left = *df;
    c->term = i;
    return MAIF_OK;
}

/* An unsigned LEB128 varint of at most 5 bytes, at most UINT32_MAX. */
static int varint(const uint8_t **pp, const uint8_t *end, uint32_t *v)
{
    const uint8_t *p = *pp;
    uint64_t x = 0;
    for (int sh = 0; sh < 35; sh += 7) {
        if (p >= end) return 0;
        uint8_t b = *p++;
        x |= (uint64_t)(b & 0x7f) << sh;
        if (!(b & 0x80)) {
            if (x > UINT32_MAX || (b == 0 && sh)) return 0; /* too large, or not minimal */
            *v = (uint32_t)x;
            *pp = p;
            return 1;
        }
    }
    return 0;
}

int sem_tidx_next(const sem_tidx *t, sem_tidx_cur *c, char *err, size_t errsz)
{
    if (!c->left) {
        if (c->p != c->end) return BAD("text index: term %u: bytes after its last posting", c->term);
        return 0;
    }
    uint32_t d, tf;
    if (!varint(&c->p, c->end, &d) || !varint(&c->p, c->end, &tf))
        return BAD("text index: term %u: posting %u is not a valid varint pair", c->term, c->left);
    uint64_t ord = c->started ? (uint64_t)c->ord + d : d;
    if ((c->started && d == 0) || ord >= t->ndocs || tf == 0)
        return BAD("text index: term %u: posting (document %llu, tf %u) out of range", c->term,
                   (unsigned long long)ord, tf);
    c->ord = (uint32_t)ord;
    c->tf = tf;
    c->started = 1;
    c->left--;
    return 1;
}

int sem_tidx_doc(const sem_tidx *t, uint32_t ord, uint64_t *block, uint32_t *len, char *err, size_t errsz)
{
    if (ord >= t->ndocs) return BAD("text index: no document %u", ord);
    const uint8_t *d = t->docs + 16 * (uint64_t)ord;
    *block = rd64(d);
    *len = rd32(d + 8);
    if (*block >= t->covered || rd32(d + 12) != 0 || (ord > 0 && rd64(d - 16) >= *block))
        return BAD("text index: document %u: block %llu out of order or range", ord, (unsigned long long)*block);
    return MAIF_OK;
}

int sem_tidx_skipped(const sem_tidx *t, uint32_t i, uint64_t *block, char *err, size_t errsz)
{
    if (i >= t->nskip) return BAD("text index: no skipped block %u", i);
    const uint8_t *d = t->skip + 8 * (uint64_t)i;
    *block = rd64(d);
    if (*block >= t->covered || (i > 0 && rd64(d - 8) >= *block))
        return BAD("text index: skipped block %llu out of order or range", (unsigned long long)*block);
    return MAIF_OK;
}

int sem_tidx_check(const sem_tidx *t, char *err, size_t errsz)
{
    int rc;
    uint64_t total = 0, blk;
    uint32_t len;
    for (uint32_t i = 0; i < t->ndocs; i++) {
        if ((rc = sem_tidx_doc(t, i, &blk, &len, err, errsz))) return rc;
        total += len;
    }
    if (total != t->total) return BAD("text index: total length %llu, documents sum to %llu",
                                      (unsigned long long)t->total, (unsigned long long)total);
    for (uint32_t i = 0; i < t->nskip; i++)
        if ((rc = sem_tidx_skipped(t, i, &blk, err, errsz))) return rc;
    /* the sections start where their first term does: no unreferenced bytes */
    if (rd32(t->terms) != 0 || rd64(t->terms + 8) != 0)
        return BAD("text index: the first term does not start its sections");
    for (uint32_t i = 0; i < t->nterms; i++) {
        const uint8_t *s, *ns;
        int l, nl;
        if ((rc = term_str(t, i, &s, &l, err, errsz))) return rc;
        if (i + 1 < t->nterms) {
            if ((rc = term_str(t, i + 1, &ns, &nl, err, errsz))) return rc;
            if (cmp_bytes(s, l, ns, nl) >= 0) return BAD("text index: terms %u and %u out of order", i, i + 1);
        }
        uint32_t df, n = 0;
        sem_tidx_cur c;
        if ((rc = sem_tidx_postings(t, i, &df, &c, err, errsz))) return rc;
        while ((rc = sem_tidx_next(t, &c, err, errsz)) == 1) n++;
        if (rc) return rc;
        if (n != df) return BAD("text index: term %u: %u postings, df %u", i, n, df);
    }
    return MAIF_OK;
}

int sem_tidx_vector_free(const maif_block *b, uint64_t i, uint64_t *covered)
{
    sem_tidx t;
    char err[200];
    if (b->type != SEM_TYPE_TIDX || b->codec || b->cipher || ((uintptr_t)b->payload & 7) ||
        sem_tidx_view(&t, b->payload, b->payload_size, err, sizeof err) != MAIF_OK || t.covered > i ||
        !(t.flags & SEM_TIDX_F_NO_VECTORS))
        return 0;
    *covered = t.covered;
    return 1;
}
