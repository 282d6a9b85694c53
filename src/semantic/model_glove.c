/*
 * model_glove.c — word-vector loaders (GloVe / word2vec / fastText text,
 * wink JSON) and SIF sentence embedding. See model_glove.h.
 *
 * The wink JSON file is 300 MB; a DOM parser (jansson) would need several
 * GB for it, so it is read by a small streaming scanner that accepts only
 * what JSON allows where it looks, with every string, number and nesting
 * depth bounded.
 */
#include "semantic/model_glove.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/alloc.h"
#include "util/common.h"

struct sem_glove {
    size_t dim, n, cap;
    float *vec;        /* n * dim */
    float *weight;     /* SIF weight of each row */
    uint64_t *rank;    /* frequency rank of each row (during loading) */
    uint32_t *woff;    /* word i at words + woff[i], length wlen[i] */
    uint16_t *wlen;
    char *words;
    size_t wbytes, wcap;
    uint32_t *table;   /* hash -> row + 1, 0 empty */
    size_t tcap;
};

static uint64_t fnv1a(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 0x100000001b3ull;
    return h;
}

static long find_row(const sem_glove *g, const char *w, size_t n)
{
    if (!g->tcap) return -1;
    size_t mask = g->tcap - 1;
    for (size_t i = fnv1a(w, n) & mask;; i = (i + 1) & mask) {
        uint32_t r = g->table[i];
        if (!r) return -1;
        r--;
        if (g->wlen[r] == n && memcmp(g->words + g->woff[r], w, n) == 0) return (long)r;
    }
}

static int grow_table(sem_glove *g)
{
    size_t nc = g->tcap ? g->tcap * 2 : 1024;
    uint32_t *t = maif_calloc(nc, sizeof *t);
    if (!t) return MAIF_ENOMEM;
    for (size_t r = 0; r < g->n; r++) {
        size_t i = fnv1a(g->words + g->woff[r], g->wlen[r]) & (nc - 1);
        while (t[i]) i = (i + 1) & (nc - 1);
        t[i] = (uint32_t)r + 1;
    }
    maif_free(g->table);
    g->table = t;
    g->tcap = nc;
    return 0;
}

/* Adds word w with its vector (dim floats) and rank. A duplicate word keeps
 * its first vector. Returns 0 or a MAIF_E* code (message set). */
static int add_word(sem_glove *g, const char *w, size_t wn, const float *v, uint64_t rank)
{
    if (wn == 0 || wn > SEM_GLOVE_MAX_WORD_BYTES) return maif_set_last_err(MAIF_EFORMAT, "word of %zu bytes (limit %d)", wn, SEM_GLOVE_MAX_WORD_BYTES);
    if (find_row(g, w, wn) >= 0) return 0;
    if (g->n >= SEM_GLOVE_MAX_WORDS) return maif_set_last_err(MAIF_ELIMIT, "more than %u words", SEM_GLOVE_MAX_WORDS);
    if (g->n == g->cap) {
        size_t nc = g->cap ? g->cap * 2 : 4096;
        float *nv = maif_realloc(g->vec, nc * g->dim * sizeof *nv);
        if (!nv) return maif_set_last_err(MAIF_ENOMEM, "out of memory");
        g->vec = nv;
        uint64_t *nr = maif_realloc(g->rank, nc * sizeof *nr);
        if (!nr) return maif_set_last_err(MAIF_ENOMEM, "out of memory");
        g->rank = nr;
        uint32_t *no = maif_realloc(g->woff, nc * sizeof *no);
        if (!no) return maif_set_last_err(MAIF_ENOMEM, "out of memory");
        g->woff = no;
        uint16_t *nl = maif_realloc(g->wlen, nc * sizeof *nl);
        if (!nl) return maif_set_last_err(MAIF_ENOMEM, "out of memory");
        g->wlen = nl;
        g->cap = nc;
    }
    if (g->wbytes + wn > UINT32_MAX) return maif_set_last_err(MAIF_ELIMIT, "words exceed 4 GB");
    if (g->wbytes + wn > g->wcap) {
        size_t nc = g->wcap ? g->wcap * 2 : 65536;
        while (nc < g->wbytes + wn) nc *= 2;
        char *nw = maif_realloc(g->words, nc);
        if (!nw) return maif_set_last_err(MAIF_ENOMEM, "out of memory");
        g->words = nw;
        g->wcap = nc;
    }
    if ((g->n + 1) * 2 > g->tcap && grow_table(g)) return maif_set_last_err(MAIF_ENOMEM, "out of memory");
    memcpy(g->words + g->wbytes, w, wn);
    g->woff[g->n] = (uint32_t)g->wbytes;
    g->wlen[g->n] = (uint16_t)wn;
    g->wbytes += wn;
    memcpy(g->vec + g->n * g->dim, v, g->dim * sizeof *v);
    g->rank[g->n] = rank;
    size_t mask = g->tcap - 1, i = fnv1a(w, wn) & mask;
    while (g->table[i]) i = (i + 1) & mask;
    g->table[i] = (uint32_t)g->n + 1;
    g->n++;
    return 0;
}

static int num_char(char c)
{
    return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}

/* Parses one number of at most 63 characters at p (< end) into *v.
 * Returns the number of bytes used, 0 if none. Plain decimals with at most
 * 15 digits and a small exponent take Clinger's exact fast path (one
 * multiplication or division of exact doubles); anything else goes to
 * strtod. */
static size_t parse_float(const char *p, const char *end, double *v)
{
    static const double p10[] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
                                  1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22 };
    size_t n = 0;
    while (p + n < end && n < 63 && num_char(p[n])) n++;
    if (n == 0 || n == 63) return 0;
    /* fast path: -?digits(.digits)? */
    size_t i = 0;
    int neg = 0, ndig = 0, frac = 0, seen_dot = 0, ok = 1;
    uint64_t m = 0;
    if (p[i] == '-') { neg = 1; i++; }
    for (; i < n; i++) {
        char c = p[i];
        if (c >= '0' && c <= '9') {
            if (m || c != '0') ndig++;
            m = m * 10 + (uint64_t)(c - '0');
            frac += seen_dot;
        } else if (c == '.' && !seen_dot) seen_dot = 1;
        else { ok = 0; break; }
    }
    if (ok && ndig <= 15 && frac <= 22 && i > (size_t)neg && p[i - 1] != '.' && p[neg] != '.') {
        double d = (double)m / p10[frac];
        *v = neg ? -d : d;
        return n;
    }
    char buf[64];
    memcpy(buf, p, n);
    buf[n] = 0;
    char *e;
    double d = strtod(buf, &e);
    if (e != buf + n || !isfinite(d) || fabs(d) > 3.0e38) return 0;
    *v = d;
    return n;
}

/* ---- text formats ------------------------------------------------------- */

static int load_text(sem_glove *g, const char *data, size_t len)
{
    const char *p = data, *end = data + len;
    size_t lineno = 0;
    float *v = NULL;
    int rc = 0;
    uint64_t declared = 0;
    /* first line: header "COUNT DIM", or the first vector */
    const char *nl = memchr(p, '\n', len);
    const char *le = nl ? nl : end;
    {
        size_t ntok = 0, allint = 1;
        uint64_t nums[2] = { 0, 0 };
        for (const char *q = p; q < le;) {
            while (q < le && (*q == ' ' || *q == '\t' || *q == '\r')) q++;
            if (q >= le) break;
            const char *s = q;
            while (q < le && *q != ' ' && *q != '\t' && *q != '\r') q++;
            if (ntok < 2) {
                uint64_t x = 0;
                for (const char *c = s; c < q; c++) {
                    if (*c < '0' || *c > '9' || x > UINT64_MAX / 10) { allint = 0; break; }
                    x = x * 10 + (uint64_t)(*c - '0');
                }
                nums[ntok] = x;
            }
            ntok++;
        }
        if (ntok == 2 && allint) {
            declared = nums[0];
            g->dim = (size_t)(nums[1] <= SEM_GLOVE_MAX_DIM ? nums[1] : 0);
            if (nums[1] == 0 || nums[1] > SEM_GLOVE_MAX_DIM) return maif_set_last_err(MAIF_ELIMIT, "line 1: dimension %llu (limit %d)", (unsigned long long)nums[1], SEM_GLOVE_MAX_DIM);
            if (declared > SEM_GLOVE_MAX_WORDS) return maif_set_last_err(MAIF_ELIMIT, "line 1: %llu words (limit %u)", (unsigned long long)declared, SEM_GLOVE_MAX_WORDS);
            p = nl ? nl + 1 : end;
            lineno = 1;
        } else {
            if (ntok < 2) return maif_set_last_err(MAIF_EFORMAT, "line 1: not a word vector");
            if (ntok - 1 > SEM_GLOVE_MAX_DIM) return maif_set_last_err(MAIF_ELIMIT, "line 1: dimension %zu (limit %d)", ntok - 1, SEM_GLOVE_MAX_DIM);
            g->dim = ntok - 1;
        }
    }
    v = maif_malloc(g->dim * sizeof *v);
    if (!v) return maif_set_last_err(MAIF_ENOMEM, "out of memory");
    while (p < end) {
        lineno++;
        nl = memchr(p, '\n', (size_t)(end - p));
        le = nl ? nl : end;
        const char *q = p;
        p = nl ? nl + 1 : end;
        while (q < le && *q == ' ') q++;
        const char *r = le;
        while (r > q && (r[-1] == '\r' || r[-1] == ' ')) r--;
        if (q == r) continue; /* blank line */
        const char *ws = q;
        while (q < r && *q != ' ' && *q != '\t') q++;
        size_t wn = (size_t)(q - ws);
        size_t k = 0;
        while (q < r) {
            while (q < r && (*q == ' ' || *q == '\t')) q++;
            if (q >= r) break;
            double d;
            size_t used = parse_float(q, r, &d);
            if (!used || (q + used < r && q[used] != ' ' && q[used] != '\t')) {
                rc = maif_set_last_err(MAIF_EFORMAT, "line %zu: not a number", lineno);
                goto done;
            }
            if (k == g->dim) { rc = maif_set_last_err(MAIF_EFORMAT, "line %zu: more than %zu numbers", lineno, g->dim); goto done; }
            v[k++] = (float)d;
            q += used;
        }
        if (k != g->dim) { rc = maif_set_last_err(MAIF_EFORMAT, "line %zu: %zu numbers, expected %zu", lineno, k, g->dim); goto done; }
        if ((rc = add_word(g, ws, wn, v, g->n))) {
            rc = maif_set_last_err(rc, "line %zu: %s", lineno, maif_last_errmsg());
            goto done;
        }
    }
    if (g->n == 0) rc = maif_set_last_err(MAIF_EFORMAT, "no word vectors");
done:
    maif_free(v);
    return rc;
}

/* ---- wink JSON ---------------------------------------------------------- */

typedef struct {
    const char *p, *end, *base;
} jscan;

static void jws(jscan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\n' || *s->p == '\r' || *s->p == '\t')) s->p++;
}

static int jerr(const jscan *s, const char *what)
{
    return maif_set_last_err(MAIF_EFORMAT, "JSON at byte %zu: %s", (size_t)(s->p - s->base), what);
}

/* A string into buf (at most cap bytes, UTF-8, escapes decoded). */
static int jstring(jscan *s, char *buf, size_t cap, size_t *n)
{
    if (s->p >= s->end || *s->p != '"') return jerr(s, "string expected");
    s->p++;
    size_t k = 0;
    while (s->p < s->end && *s->p != '"') {
        unsigned c = (uint8_t)*s->p++;
        if (c < 0x20) return jerr(s, "control character in a string");
        if (c == '\\') {
            if (s->p >= s->end) break;
            char e = *s->p++;
            const char *map = "\"\"\\\\//b\bf\fn\nr\rt\t";
            const char *m = NULL;
            for (const char *x = map; *x; x += 2) if (*x == e) { m = x; break; }
            if (m) c = (uint8_t)m[1];
            else if (e == 'u') {
                if (s->end - s->p < 4) return jerr(s, "bad \\u escape");
                unsigned u = 0;
                for (int i = 0; i < 4; i++) {
                    char h = *s->p++;
                    u = u * 16 + (unsigned)(h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10 : h >= 'A' && h <= 'F' ? h - 'A' + 10 : 99);
                    if (u > 0xFFFF) return jerr(s, "bad \\u escape");
                }
                /* surrogates are kept as their 3-byte forms; words with them are rare */
                char t[3];
                size_t tn;
                if (u < 0x80) { t[0] = (char)u; tn = 1; }
                else if (u < 0x800) { t[0] = (char)(0xC0 | (u >> 6)); t[1] = (char)(0x80 | (u & 0x3F)); tn = 2; }
                else { t[0] = (char)(0xE0 | (u >> 12)); t[1] = (char)(0x80 | ((u >> 6) & 0x3F)); t[2] = (char)(0x80 | (u & 0x3F)); tn = 3; }
                if (k + tn > cap) return maif_set_last_err(MAIF_ELIMIT, "JSON at byte %zu: string longer than %zu bytes", (size_t)(s->p - s->base), cap);
                memcpy(buf + k, t, tn);
                k += tn;
                continue;
            } else return jerr(s, "bad escape");
        }
        if (k == cap) return maif_set_last_err(MAIF_ELIMIT, "JSON at byte %zu: string longer than %zu bytes", (size_t)(s->p - s->base), cap);
        buf[k++] = (char)c;
    }
    if (s->p >= s->end) return jerr(s, "unterminated string");
    s->p++;
    *n = k;
    return 0;
}

/* Skips any value, nesting at most 64 deep. */
static int jskip(jscan *s)
{
    char stack[64];
    int depth = 0;
    do {
        jws(s);
        if (s->p >= s->end) return jerr(s, "truncated");
        char c = *s->p;
        if (c == '{' || c == '[') {
            if (depth == 64) return maif_set_last_err(MAIF_ELIMIT, "JSON at byte %zu: nested deeper than 64", (size_t)(s->p - s->base));
            stack[depth++] = c == '{' ? '}' : ']';
            s->p++;
            jws(s);
            if (s->p < s->end && *s->p == stack[depth - 1]) { s->p++; depth--; goto after; }
            if (stack[depth - 1] == '}') goto key;
            continue;
        }
        if (c == '"') {
            /* skip a string of any length */
            s->p++;
            while (s->p < s->end && *s->p != '"') s->p += *s->p == '\\' ? 2 : 1;
            if (s->p >= s->end) return jerr(s, "unterminated string");
            s->p++;
        } else if (c == 't' || c == 'f' || c == 'n') {
            const char *w = c == 't' ? "true" : c == 'f' ? "false" : "null";
            size_t wl = strlen(w);
            if ((size_t)(s->end - s->p) < wl || memcmp(s->p, w, wl)) return jerr(s, "bad literal");
            s->p += wl;
        } else {
            double d;
            size_t u = parse_float(s->p, s->end, &d);
            if (!u) return jerr(s, "value expected");
            s->p += u;
        }
    after:
        for (;;) {
            if (depth == 0) return 0;
            jws(s);
            if (s->p >= s->end) return jerr(s, "truncated");
            if (*s->p == stack[depth - 1]) { s->p++; depth--; continue; }
            if (*s->p != ',') return jerr(s, "',' expected");
            s->p++;
            if (stack[depth - 1] == '}') goto key;
            break;
        }
        continue;
    key:
        jws(s);
        {
            /* a key: skip its string, then ':' */
            if (s->p >= s->end || *s->p != '"') return jerr(s, "key expected");
            s->p++;
            while (s->p < s->end && *s->p != '"') s->p += *s->p == '\\' ? 2 : 1;
            if (s->p >= s->end) return jerr(s, "unterminated string");
            s->p++;
            jws(s);
            if (s->p >= s->end || *s->p != ':') return jerr(s, "':' expected");
            s->p++;
        }
    } while (depth > 0);
    return 0;
}

static int jexpect(jscan *s, char c)
{
    jws(s);
    if (s->p >= s->end || *s->p != c) {
        char m[24];
        snprintf(m, sizeof m, "'%c' expected", c);
        return jerr(s, m);
    }
    s->p++;
    return 0;
}

/* "vectors": {"word": [numbers], ...} */
static int jvectors(sem_glove *g, jscan *s)
{
    int rc;
    if ((rc = jexpect(s, '{'))) return rc;
    char word[SEM_GLOVE_MAX_WORD_BYTES];
    size_t cap = g->dim + 2;
    float *v = maif_malloc(cap * sizeof *v);
    double *raw = maif_malloc(cap * sizeof *raw);
    if (!v || !raw) { maif_free(v); maif_free(raw); return maif_set_last_err(MAIF_ENOMEM, "out of memory"); }
    jws(s);
    if (s->p < s->end && *s->p == '}') { s->p++; goto done; }
    for (;;) {
        size_t wn;
        jws(s);
        if ((rc = jstring(s, word, sizeof word, &wn)) || (rc = jexpect(s, ':')) || (rc = jexpect(s, '['))) goto done;
        size_t k = 0;
        for (;;) {
            jws(s);
            double d;
            size_t u = parse_float(s->p, s->end, &d);
            if (!u) { rc = jerr(s, "number expected"); goto done; }
            if (k == cap) { rc = jerr(s, "vector longer than dimensions + 2"); goto done; }
            raw[k++] = d;
            s->p += u;
            jws(s);
            if (s->p < s->end && *s->p == ',') { s->p++; continue; }
            if ((rc = jexpect(s, ']'))) goto done;
            break;
        }
        if (k != g->dim && k != g->dim + 2) { rc = jerr(s, "vector length is not dimensions (+2)"); goto done; }
        for (size_t i = 0; i < g->dim; i++) v[i] = (float)raw[i];
        uint64_t rank = g->n;
        if (k == g->dim + 2 && raw[g->dim + 1] >= 0 && raw[g->dim + 1] < (double)SEM_GLOVE_MAX_WORDS * 4) rank = (uint64_t)raw[g->dim + 1];
        if (wn == 0) { rc = jerr(s, "empty word"); goto done; }
        if ((rc = add_word(g, word, wn, v, rank))) goto done;
        jws(s);
        if (s->p < s->end && *s->p == ',') { s->p++; continue; }
        if ((rc = jexpect(s, '}'))) goto done;
        break;
    }
done:
    maif_free(v);
    maif_free(raw);
    return rc;
}

static int load_wink(sem_glove *g, const char *data, size_t len)
{
    jscan s = { data, data + len, data };
    int rc;
    const char *vectors = NULL;
    if ((rc = jexpect(&s, '{'))) return rc;
    jws(&s);
    if (s.p < s.end && *s.p == '}') return jerr(&s, "no \"vectors\"");
    /* first pass: find "dimensions" and where "vectors" starts */
    for (;;) {
        char key[32];
        size_t kn;
        jws(&s);
        if ((rc = jstring(&s, key, sizeof key - 1, &kn))) {
            if (rc != MAIF_ELIMIT) return rc;
            /* a long key: not one of ours; skip it */
            s.p++;
            while (s.p < s.end && *s.p != '"') s.p += *s.p == '\\' ? 2 : 1;
            if (s.p >= s.end) return jerr(&s, "unterminated string");
            s.p++;
            kn = 0;
        }
        key[kn] = 0;
        if ((rc = jexpect(&s, ':'))) return rc;
        jws(&s);
        if (strcmp(key, "dimensions") == 0) {
            double d;
            size_t u = parse_float(s.p, s.end, &d);
            if (!u || d != floor(d) || d < 1) return jerr(&s, "\"dimensions\" is not a positive integer");
            if (d > SEM_GLOVE_MAX_DIM) return maif_set_last_err(MAIF_ELIMIT, "dimensions %g (limit %d)", d, SEM_GLOVE_MAX_DIM);
            g->dim = (size_t)d;
            s.p += u;
        } else {
            if (strcmp(key, "vectors") == 0 && g->dim && !vectors) {
                vectors = s.p;  /* the usual order: parse it now */
                if ((rc = jvectors(g, &s))) return rc;
            } else {
                if (strcmp(key, "vectors") == 0) vectors = s.p;
                if ((rc = jskip(&s))) return rc;
            }
        }
        jws(&s);
        if (s.p < s.end && *s.p == ',') { s.p++; continue; }
        if ((rc = jexpect(&s, '}'))) return rc;
        break;
    }
    if (!g->dim) return maif_set_last_err(MAIF_EFORMAT, "JSON: no \"dimensions\"");
    if (!vectors) return maif_set_last_err(MAIF_EFORMAT, "JSON: no \"vectors\"");
    if (g->n == 0) {
        s.p = vectors;
        if ((rc = jvectors(g, &s))) return rc;
    }
    if (g->n == 0) return maif_set_last_err(MAIF_EFORMAT, "JSON: no word vectors");
    return 0;
}

/* ---- open / embed ------------------------------------------------------- */

static int finish(sem_glove *g)
{
    g->weight = maif_malloc(g->n * sizeof *g->weight);
    if (!g->weight) return maif_set_last_err(MAIF_ENOMEM, "out of memory");
    /* ranks may be sparse or repeated (from the file): use the order of
     * the given ranks, ties by load order, as the frequency rank */
    double hn = 0;
    for (size_t i = 1; i <= g->n; i++) hn += 1.0 / (double)i;
    int in_order = 1;
    for (size_t i = 1; i < g->n; i++) if (g->rank[i] < g->rank[i - 1]) { in_order = 0; break; }
    for (size_t i = 0; i < g->n; i++) {
        uint64_t r = g->rank[i];
        if (!in_order || r >= g->n) r = i;  /* fall back to file order */
        double p = 1.0 / ((double)(r + 1) * hn);
        g->weight[i] = (float)(SEM_GLOVE_SIF_A / (SEM_GLOVE_SIF_A + p));
    }
    maif_free(g->rank);
    g->rank = NULL;
    return 0;
}

int sem_glove_open_mem(sem_glove **out, const char *data, size_t len)
{
    if (!out) return maif_set_last_err(MAIF_EINVAL, "sem_glove_open_mem: NULL argument");
    *out = NULL;
    if (!data && len) return maif_set_last_err(MAIF_EINVAL, "sem_glove_open_mem: NULL argument");
    if (len > SEM_GLOVE_MAX_FILE_BYTES) return maif_set_last_err(MAIF_ELIMIT, "vector file larger than %zu bytes", SEM_GLOVE_MAX_FILE_BYTES);
    sem_glove *g = maif_calloc(1, sizeof *g);
    if (!g) return maif_set_last_err(MAIF_ENOMEM, "out of memory");
    size_t i = 0;
    while (i < len && (data[i] == ' ' || data[i] == '\n' || data[i] == '\r' || data[i] == '\t')) i++;
    int rc;
    if (i == len) rc = maif_set_last_err(MAIF_EFORMAT, "empty vector file");
    else if (data[i] == '{') rc = load_wink(g, data, len);
    else rc = load_text(g, data, len);
    if (!rc) rc = finish(g);
    if (rc) {
        sem_glove_close(g);
        return rc;
    }
    *out = g;
    return 0;
}

int sem_glove_open(sem_glove **out, const char *path)
{
    if (!out) return maif_set_last_err(MAIF_EINVAL, "sem_glove_open: NULL argument");
    *out = NULL;
    if (!path) return maif_set_last_err(MAIF_EINVAL, "sem_glove_open: NULL argument");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return maif_set_last_err(errno == ENOENT ? MAIF_ENOTFOUND : MAIF_EIO, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return maif_set_last_err(MAIF_EIO, "%s: not a regular file", path);
    }
    if ((uint64_t)st.st_size > SEM_GLOVE_MAX_FILE_BYTES) {
        close(fd);
        return maif_set_last_err(MAIF_ELIMIT, "%s: larger than %zu bytes", path, SEM_GLOVE_MAX_FILE_BYTES);
    }
    size_t n = (size_t)st.st_size;
    if (n == 0) {
        close(fd);
        return maif_set_last_err(MAIF_EFORMAT, "%s: empty", path);
    }
    void *map = mmap(NULL, n, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) return maif_set_last_err(MAIF_EIO, "%s: mmap: %s", path, strerror(errno));
    madvise(map, n, MADV_SEQUENTIAL);
    int rc = sem_glove_open_mem(out, map, n);
    munmap(map, n);
    if (rc) maif_set_last_err(rc, "%s: %s", path, maif_last_errmsg());
    return rc;
}

size_t sem_glove_dim(const sem_glove *g) { return g ? g->dim : 0; }
size_t sem_glove_size(const sem_glove *g) { return g ? g->n : 0; }

const float *sem_glove_row(const sem_glove *g, size_t i) { return g && i < g->n ? g->vec + i * g->dim : NULL; }

const float *sem_glove_lookup(const sem_glove *g, const char *word, size_t len)
{
    if (!g || !word) return NULL;
    long r = find_row(g, word, len);
    return r < 0 ? NULL : g->vec + (size_t)r * g->dim;
}

static int word_byte(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
}

/* Sums in double: vectors of up to 3e38 a value cannot overflow it. */
static void add_vec(const sem_glove *g, long r, double *acc, size_t *known)
{
    const float *v = g->vec + (size_t)r * g->dim;
    double w = g->weight[r];
    for (size_t j = 0; j < g->dim; j++) acc[j] += w * v[j];
    (*known)++;
}

int sem_glove_embed(sem_glove *g, const char *text, size_t len, float *out)
{
    if (!g || (!text && len) || !out) return maif_set_last_err(MAIF_EINVAL, "sem_glove_embed: NULL argument");
    double acc[SEM_GLOVE_MAX_DIM];
    for (size_t j = 0; j < g->dim; j++) acc[j] = 0;
    char w[SEM_GLOVE_MAX_WORD_BYTES];
    size_t known = 0;
    for (size_t i = 0; i < len;) {
        if (!word_byte((uint8_t)text[i])) { i++; continue; }
        /* a word, possibly hyphenated: letters/digits with single inner '-' */
        size_t s = i;
        while (i < len && (word_byte((uint8_t)text[i]) || (text[i] == '-' && i + 1 < len && word_byte((uint8_t)text[i + 1]) && i > s))) i++;
        size_t n = i - s;
        if (n > sizeof w) continue;
        for (size_t k = 0; k < n; k++) {
            char c = text[s + k];
            w[k] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
        }
        long r = find_row(g, w, n);
        if (r >= 0) { add_vec(g, r, acc, &known); continue; }
        /* the parts of a hyphenated word */
        for (size_t a = 0; a < n;) {
            size_t b = a;
            while (b < n && w[b] != '-') b++;
            if (b > a && (r = find_row(g, w + a, b - a)) >= 0) add_vec(g, r, acc, &known);
            a = b + 1;
        }
    }
    double mx = 0, ss = 0;
    for (size_t j = 0; j < g->dim; j++) if (fabs(acc[j]) > mx) mx = fabs(acc[j]);
    if (mx > 0) {
        for (size_t j = 0; j < g->dim; j++) { acc[j] /= mx; ss += acc[j] * acc[j]; }  /* scaled: no overflow */
        double inv = 1.0 / sqrt(ss);
        for (size_t j = 0; j < g->dim; j++) out[j] = (float)(acc[j] * inv);
    } else {
        for (size_t j = 0; j < g->dim; j++) out[j] = 0;
    }
    return 0;
}

int sem_glove_remove_pc(float *vecs, size_t n, size_t d)
{
    if ((!vecs && n) || d == 0) return maif_set_last_err(MAIF_EINVAL, "sem_glove_remove_pc: bad argument");
    if (n == 0) return 0;
    double *u = maif_malloc(d * sizeof *u), *t = maif_malloc(d * sizeof *t);
    if (!u || !t) { maif_free(u); maif_free(t); return maif_set_last_err(MAIF_ENOMEM, "out of memory"); }
    /* power iteration on X^T X, from the mean direction (fixed start: deterministic) */
    for (size_t j = 0; j < d; j++) u[j] = 1.0 / sqrt((double)d);
    for (int it = 0; it < 50; it++) {
        for (size_t j = 0; j < d; j++) t[j] = 0;
        for (size_t i = 0; i < n; i++) {
            const float *x = vecs + i * d;
            double dot = 0;
            for (size_t j = 0; j < d; j++) dot += x[j] * u[j];
            for (size_t j = 0; j < d; j++) t[j] += dot * x[j];
        }
        double nn = 0;
        for (size_t j = 0; j < d; j++) nn += t[j] * t[j];
        if (nn == 0) break;
        nn = 1.0 / sqrt(nn);
        for (size_t j = 0; j < d; j++) u[j] = t[j] * nn;
    }
    for (size_t i = 0; i < n; i++) {
        float *x = vecs + i * d;
        double dot = 0, ss = 0;
        for (size_t j = 0; j < d; j++) dot += x[j] * u[j];
        for (size_t j = 0; j < d; j++) { x[j] = (float)(x[j] - dot * u[j]); ss += (double)x[j] * x[j]; }
        if (ss > 0) for (size_t j = 0; j < d; j++) x[j] = (float)(x[j] / sqrt(ss));
    }
    maif_free(u);
    maif_free(t);
    return 0;
}

void sem_glove_close(sem_glove *g)
{
    if (!g) return;
    maif_free(g->vec);
    maif_free(g->weight);
    maif_free(g->rank);
    maif_free(g->woff);
    maif_free(g->wlen);
    maif_free(g->words);
    maif_free(g->table);
    maif_free(g);
}
