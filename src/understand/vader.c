/*
 * vader.c — VADER sentiment (Hutto & Gilbert, ICWSM 2014), reimplemented
 * from the JavaScript package vader-sentiment 1.1.3 (src/vaderSentiment.js),
 * rule for rule and in the same floating-point order, so its scores equal
 * the package's (tests/cli/test_vader.sh compares 1000+ sentences).
 *
 * Where JavaScript semantics matter they are reproduced:
 *   - tokens are split on JavaScript's \s (ASCII and Unicode spaces) and
 *     kept when longer than one UTF-16 code unit (an emoji counts 2);
 *   - punctuation is ASCII punctuation ([!-/:-@[-`{-~]);
 *   - toLowerCase() is applied for lexicon and booster look-ups; this file
 *     lowercases ASCII, Latin-1 capitals and U+212A KELVIN SIGN (which
 *     JavaScript lowercases to "k"). That is exact for every key the
 *     shipped lexicon can match: its keys are ASCII but two (":Þ", ":-Þ",
 *     which no lowercased token can equal, and which load therefore drops);
 *   - results are rounded as parseFloat(x.toFixed(d)) rounds them (exact
 *     binary value, ties away from zero), not as printf rounds ties.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/common.h"

#define B_INCR 0.293
#define B_DECR (-0.293)
#define C_INCR 0.733
#define N_SCALAR (-0.74)

typedef struct {
    const char *s;
    size_t n;
} str;

struct maif_vader {
    char *text; /* owned copy of the lexicon file; keys point into it */
    str *keys;
    double *vals;
    uint32_t *tab; /* index + 1, 0 empty */
    uint32_t mask;
    size_t count;
};

static const char *const PUNC_LIST[] = {".", "!", "?", ",", ";", ":", "-", "'", "\"", "!!", "!!!", "??", "???",
                                        "?!?", "!?!", "?!?!", "!?!?"};
static const char *const NEGATE[] = {
    "aint", "arent", "cannot", "cant", "couldnt", "darent", "didnt", "doesnt", "ain't", "aren't", "can't",
    "couldn't", "daren't", "didn't", "doesn't", "dont", "hadnt", "hasnt", "havent", "isnt", "mightnt", "mustnt",
    "neither", "don't", "hadn't", "hasn't", "haven't", "isn't", "mightn't", "mustn't", "neednt", "needn't", "never",
    "none", "nope", "nor", "not", "nothing", "nowhere", "oughtnt", "shant", "shouldnt", "uhuh", "wasnt", "werent",
    "oughtn't", "shan't", "shouldn't", "uh-uh", "wasn't", "weren't", "without", "wont", "wouldnt", "won't",
    "wouldn't", "rarely", "seldom", "despite"};
static const struct {
    const char *k;
    double v;
} BOOSTER[] = {
    {"absolutely", B_INCR}, {"amazingly", B_INCR}, {"awfully", B_INCR}, {"completely", B_INCR},
    {"considerably", B_INCR}, {"decidedly", B_INCR}, {"deeply", B_INCR}, {"effing", B_INCR},
    {"enormously", B_INCR}, {"entirely", B_INCR}, {"especially", B_INCR}, {"exceptionally", B_INCR},
    {"extremely", B_INCR}, {"fabulously", B_INCR}, {"flipping", B_INCR}, {"flippin", B_INCR},
    {"fricking", B_INCR}, {"frickin", B_INCR}, {"frigging", B_INCR}, {"friggin", B_INCR}, {"fully", B_INCR},
    {"fucking", B_INCR}, {"greatly", B_INCR}, {"hella", B_INCR}, {"highly", B_INCR}, {"hugely", B_INCR},
    {"incredibly", B_INCR}, {"intensely", B_INCR}, {"majorly", B_INCR}, {"more", B_INCR}, {"most", B_INCR},
    {"particularly", B_INCR}, {"purely", B_INCR}, {"quite", B_INCR}, {"really", B_INCR}, {"remarkably", B_INCR},
    {"so", B_INCR}, {"substantially", B_INCR}, {"thoroughly", B_INCR}, {"totally", B_INCR},
    {"tremendously", B_INCR}, {"uber", B_INCR}, {"unbelievably", B_INCR}, {"unusually", B_INCR},
    {"utterly", B_INCR}, {"very", B_INCR}, {"almost", B_DECR}, {"barely", B_DECR}, {"hardly", B_DECR},
    {"just enough", B_DECR}, {"kind of", B_DECR}, {"kinda", B_DECR}, {"kindof", B_DECR}, {"kind-of", B_DECR},
    {"less", B_DECR}, {"little", B_DECR}, {"marginally", B_DECR}, {"occasionally", B_DECR}, {"partly", B_DECR},
    {"scarcely", B_DECR}, {"slightly", B_DECR}, {"somewhat", B_DECR}, {"sort of", B_DECR}, {"sorta", B_DECR},
    {"sortof", B_DECR}, {"sort-of", B_DECR}};
static const struct {
    const char *k;
    double v;
} IDIOMS[] = {{"the shit", 3},         {"the bomb", 3},          {"bad ass", 1.5},       {"yeah right", -2},
              {"cut the mustard", 2},  {"kiss of death", -1.5},  {"hand to mouth", -2}};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static int eq(str a, const char *b) { return strlen(b) == a.n && memcmp(a.s, b, a.n) == 0; }

static uint32_t fnv(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 16777619u;
    return h;
}

/* ---- UTF-8 helpers (the text was validated first) */
static uint32_t decode(const char *s, size_t n, size_t *len)
{
    const uint8_t *p = (const uint8_t *)s;
    if (p[0] < 0x80 || n < 2) { *len = 1; return p[0]; }
    if (p[0] < 0xE0) { *len = 2; return ((uint32_t)(p[0] & 0x1F) << 6) | (p[1] & 0x3F); }
    if (p[0] < 0xF0 || n < 4) {
        *len = n < 3 ? n : 3;
        return n < 3 ? 0xFFFD : ((uint32_t)(p[0] & 0x0F) << 12) | ((uint32_t)(p[1] & 0x3F) << 6) | (p[2] & 0x3F);
    }
    *len = 4;
    return ((uint32_t)(p[0] & 0x07) << 18) | ((uint32_t)(p[1] & 0x3F) << 12) | ((uint32_t)(p[2] & 0x3F) << 6) |
           (p[3] & 0x3F);
}

/* JavaScript's \s */
static int js_space(uint32_t c)
{
    return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) ||
           c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000 || c == 0xFEFF;
}

/* length in UTF-16 code units */
static size_t u16len(const char *s, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t b = (uint8_t)s[i];
        if ((b & 0xC0) != 0x80) k += b >= 0xF0 ? 2 : 1;
    }
    return k;
}

static int is_punct(uint8_t c)
{
    return (c >= '!' && c <= '/') || (c >= ':' && c <= '@') || (c >= '[' && c <= '`') || (c >= '{' && c <= '~');
}

/* toLowerCase as far as look-ups need it (see the top of the file); dst
 * holds n bytes. Returns the length written. */
static size_t lower(const char *s, size_t n, char *dst)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t b = (uint8_t)s[i];
        if (b >= 'A' && b <= 'Z') dst[o++] = (char)(b + 32);
        else if (b == 0xC3 && i + 1 < n && (uint8_t)s[i + 1] >= 0x80 && (uint8_t)s[i + 1] <= 0x9E &&
                 (uint8_t)s[i + 1] != 0x97) {
            dst[o++] = (char)b;
            dst[o++] = (char)((uint8_t)s[++i] + 0x20);
        } else if (b == 0xE2 && i + 2 < n && (uint8_t)s[i + 1] == 0x84 && (uint8_t)s[i + 2] == 0xAA) {
            dst[o++] = 'k';
            i += 2;
        } else dst[o++] = (char)b;
    }
    return o;
}

/* Python's str.isupper as the package's regex has it: no a-z, some A-Z */
static int is_upper(str w)
{
    int up = 0;
    for (size_t i = 0; i < w.n; i++) {
        uint8_t c = (uint8_t)w.s[i];
        if (c >= 'a' && c <= 'z') return 0;
        if (c >= 'A' && c <= 'Z') up = 1;
    }
    return up;
}

/* ---- lexicon */
static int lex_find(const maif_vader *v, const char *s, size_t n, double *val)
{
    for (uint32_t i = fnv(s, n) & v->mask;; i = (i + 1) & v->mask) {
        uint32_t e = v->tab[i];
        if (!e) return 0;
        if (v->keys[e - 1].n == n && memcmp(v->keys[e - 1].s, s, n) == 0) {
            if (val) *val = v->vals[e - 1];
            return 1;
        }
    }
}

void maif_vader_free(maif_vader *v)
{
    if (!v) return;
    maif_free(v->text);
    maif_free(v->keys);
    maif_free(v->vals);
    maif_free(v->tab);
    maif_free(v);
}

int maif_vader_load_mem(maif_vader **out, const void *data, size_t n)
{
    if (!out || (!data && n)) return maif_set_last_err(MAIF_EINVAL, "maif_vader_load_mem: NULL argument");
    *out = NULL;
    if (n > MAIF_VADER_MAX) return maif_set_last_err(MAIF_ELIMIT, "VADER lexicon: larger than %u bytes", MAIF_VADER_MAX);
    maif_vader *v = maif_calloc(1, sizeof *v);
    if (!v) return maif_set_last_err(MAIF_ENOMEM, "out of memory");
    int rc = MAIF_OK;
    char *lo = NULL;
    size_t lines = 1;
    for (size_t i = 0; i < n; i++) lines += ((const char *)data)[i] == '\n';
    v->text = maif_malloc(n + 1);
    v->keys = maif_calloc(lines, sizeof *v->keys);
    v->vals = maif_calloc(lines, sizeof *v->vals);
    uint32_t cap = 16;
    while (cap < 2 * lines) cap <<= 1;
    v->mask = cap - 1;
    v->tab = maif_calloc(cap, sizeof *v->tab);
    if (!v->text || !v->keys || !v->vals || !v->tab) { rc = maif_set_last_err(MAIF_ENOMEM, "out of memory"); goto out; }
    if (n) memcpy(v->text, data, n);
    v->text[n] = 0;
    size_t lineno = 0;
    lo = maif_malloc(n + 1);
    if (!lo) { rc = maif_set_last_err(MAIF_ENOMEM, "out of memory"); goto out; }
    for (char *p = v->text, *end = v->text + n; p < end;) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *le = nl ? nl : end;
        lineno++;
        char *tab = memchr(p, '\t', (size_t)(le - p));
        if (le > p && le[-1] == '\r') le--;
        if (le == p) { p = nl ? nl + 1 : end; continue; } /* blank line */
        if (!tab || tab == p || tab > le) { rc = maif_set_last_err(MAIF_EFORMAT, "VADER lexicon line %zu: no TOKEN<TAB>VALUE", lineno); goto out; }
        *le = 0;
        char *ve;
        errno = 0;
        double val = strtod(tab + 1, &ve);
        if (ve == tab + 1 || (*ve != '\t' && *ve != 0) || !isfinite(val) || errno == ERANGE) {
            rc = maif_set_last_err(MAIF_EFORMAT, "VADER lexicon line %zu: value is not a number", lineno);
            goto out;
        }
        size_t kn = (size_t)(tab - p);
        if (!maif_utf8_valid(p, kn)) { rc = maif_set_last_err(MAIF_EFORMAT, "VADER lexicon line %zu: token is not UTF-8", lineno); goto out; }
        /* a key toLowerCase() changes can never be looked up: drop it */
        if (lower(p, kn, lo) == kn && memcmp(lo, p, kn) == 0) {
            uint32_t i = fnv(p, kn) & v->mask;
            for (;; i = (i + 1) & v->mask) {
                uint32_t e = v->tab[i];
                if (!e || (v->keys[e - 1].n == kn && memcmp(v->keys[e - 1].s, p, kn) == 0)) break;
            }
            if (v->tab[i]) v->vals[v->tab[i] - 1] = val; /* the last duplicate wins, as in the package */
            else {
                v->keys[v->count] = (str){p, kn};
                v->vals[v->count] = val;
                v->tab[i] = (uint32_t)++v->count;
            }
        }
        p = nl ? nl + 1 : end;
    }
    if (!v->count) rc = maif_set_last_err(MAIF_EFORMAT, "VADER lexicon: no entries");
out:
    maif_free(lo);
    if (rc) maif_vader_free(v);
    else *out = v;
    return rc;
}

int maif_vader_load(maif_vader **out, const char *path)
{
    if (!out || !path) return maif_set_last_err(MAIF_EINVAL, "maif_vader_load: NULL argument");
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return maif_set_last_err(errno == ENOENT ? MAIF_ENOTFOUND : MAIF_EIO, "%s: %s", path, strerror(errno));
    char *buf = maif_malloc((size_t)MAIF_VADER_MAX + 1);
    if (!buf) { fclose(f); return maif_set_last_err(MAIF_ENOMEM, "out of memory"); }
    size_t len = fread(buf, 1, (size_t)MAIF_VADER_MAX + 1, f);
    int err = ferror(f);
    fclose(f);
    int rc;
    if (err) rc = maif_set_last_err(MAIF_EIO, "%s: read error", path);
    else if (len > MAIF_VADER_MAX) rc = maif_set_last_err(MAIF_ELIMIT, "%s: larger than %u bytes", path, MAIF_VADER_MAX);
    else if ((rc = maif_vader_load_mem(out, buf, len))) {
            char msg[256];
            snprintf(msg, sizeof msg, "%s", maif_last_errmsg()); /* the message buffer is the one written */
            maif_set_last_err(rc, "%s: %s", path, msg);
        }
    maif_free(buf);
    return rc;
}

/* ---- scoring */
typedef struct {
    str w;  /* the word as the package keeps it */
    str lo; /* its lowercase */
} word;

typedef struct {
    const maif_vader *v;
    word *w;
    size_t n;
    int cap_diff;
} senti;

static int booster(str lo, double *val)
{
    for (size_t i = 0; i < COUNT(BOOSTER); i++)
        if (eq(lo, BOOSTER[i].k)) {
            if (val) *val = BOOSTER[i].v;
            return 1;
        }
    return 0;
}

/* is "a b" (or "a b c" when c.s) one of the keys? (words hold no spaces) */
static int joined_eq(const char *key, str a, str b, const str *c)
{
    size_t kn = strlen(key), need = a.n + 1 + b.n + (c ? 1 + c->n : 0);
    if (kn != need || memcmp(key, a.s, a.n) || key[a.n] != ' ' || memcmp(key + a.n + 1, b.s, b.n)) return 0;
    return !c || (key[a.n + 1 + b.n] == ' ' && memcmp(key + a.n + 2 + b.n, c->s, c->n) == 0);
}
static int idiom(str a, str b, const str *c, double *val)
{
    for (size_t i = 0; i < COUNT(IDIOMS); i++)
        if (joined_eq(IDIOMS[i].k, a, b, c)) { *val = IDIOMS[i].v; return 1; }
    return 0;
}
static int booster2(str a, str b)
{
    for (size_t i = 0; i < COUNT(BOOSTER); i++)
        if (joined_eq(BOOSTER[i].k, a, b, NULL)) return 1;
    return 0;
}

static int negated1(str w)
{
    for (size_t i = 0; i < COUNT(NEGATE); i++)
        if (eq(w, NEGATE[i])) return 1;
    for (size_t i = 0; i + 3 <= w.n; i++)
        if (memcmp(w.s + i, "n't", 3) == 0) return 1;
    return 0;
}

static double scalar_inc_dec(const senti *t, size_t k, double valence)
{
    double scalar = 0.0;
    if (booster(t->w[k].lo, &scalar)) {
        if (valence < 0) scalar *= -1;
        if (t->cap_diff && is_upper(t->w[k].w)) {
            if (valence > 0) scalar += C_INCR;
            else scalar -= C_INCR;
        }
    }
    return scalar;
}

static double never_check(const senti *t, double valence, int start_i, size_t index)
{
    const word *w = t->w;
    if (start_i == 0) {
        if (negated1(w[index - 1].w)) valence = valence * N_SCALAR;
    }
    if (start_i == 1) {
        if (eq(w[index - 2].w, "never") && (eq(w[index - 1].w, "so") || eq(w[index - 1].w, "this")))
            valence = valence * 1.5;
        else if (negated1(w[index - 2].w))
            valence = valence * N_SCALAR;
    }
    if (start_i == 2) {
        if ((eq(w[index - 3].w, "never") && (eq(w[index - 2].w, "so") || eq(w[index - 2].w, "this"))) ||
            (eq(w[index - 1].w, "so") || eq(w[index - 1].w, "this")))
            valence = valence * 1.25;
        else if (negated1(w[index - 3].w))
            valence = valence * N_SCALAR;
    }
    return valence;
}

static double idioms_check(const senti *t, double valence, size_t index)
{
    const word *w = t->w;
    str w0 = w[index].w, w1 = w[index - 1].w, w2 = w[index - 2].w, w3 = w[index - 3].w;
    double iv;
    /* onezero, twoonezero, twoone, threetwoone, threetwo: the first that matches */
    if (idiom(w1, w0, NULL, &iv) || idiom(w2, w1, &w0, &iv) || idiom(w2, w1, NULL, &iv) || idiom(w3, w2, &w1, &iv) ||
        idiom(w3, w2, NULL, &iv))
        valence = iv;
    if (t->n - 1 > index && idiom(w0, w[index + 1].w, NULL, &iv)) valence = iv;
    if (t->n - 1 > index + 1 && idiom(w0, w[index + 1].w, &w[index + 2].w, &iv)) valence = iv;
    if (booster2(w3, w2) || booster2(w2, w1)) valence = valence + B_DECR;
    return valence;
}

static double least_check(const senti *t, double valence, size_t index)
{
    const word *w = t->w;
    if (index > 1 && eq(w[index - 1].lo, "least") && !lex_find(t->v, w[index - 1].lo.s, w[index - 1].lo.n, NULL)) {
        if (!eq(w[index - 2].lo, "at") && !eq(w[index - 2].lo, "very")) valence = valence * N_SCALAR;
    } else if (index > 0 && eq(w[index - 1].lo, "least") &&
               !lex_find(t->v, w[index - 1].lo.s, w[index - 1].lo.n, NULL)) {
        valence = valence * N_SCALAR;
    }
    return valence;
}

static double sentiment_valence(const senti *t, size_t index)
{
    double valence = 0;
    const word *it = &t->w[index];
    if (lex_find(t->v, it->lo.s, it->lo.n, &valence)) {
        if (is_upper(it->w) && t->cap_diff) {
            if (valence > 0) valence += C_INCR;
            else valence -= C_INCR;
        }
        for (int start_i = 0; start_i < 3; start_i++) {
            size_t k = index - (size_t)(start_i + 1);
            if (index > (size_t)start_i && !lex_find(t->v, t->w[k].lo.s, t->w[k].lo.n, NULL)) {
                double s = scalar_inc_dec(t, k, valence);
                if (start_i == 1 && s != 0) s = s * 0.95;
                else if (start_i == 2 && s != 0) s = s * 0.9;
                valence = valence + s;
                valence = never_check(t, valence, start_i, index);
                if (start_i == 2) valence = idioms_check(t, valence, index);
            }
        }
        valence = least_check(t, valence, index);
    }
    return valence;
}

/* parseFloat(x.toFixed(d)): the exact binary value rounded to d decimals,
 * an exact tie (x = odd / 2^(d+1)) away from zero */
static double js_fixed(double x, int d)
{
    char buf[64];
    double a = fabs(x), t = ldexp(a, d + 1);
    if (a < 1e15 && t == floor(t) && fmod(t, 2.0) == 1.0) {
        double scaled = a * pow(10, d); /* exact: a small multiple of 1/2 */
        double up = (floor(scaled) + 1) / pow(10, d);
        snprintf(buf, sizeof buf, "%.*f", d, x < 0 ? -up : up);
    } else {
        snprintf(buf, sizeof buf, "%.*f", d, x);
    }
    return strtod(buf, NULL);
}

typedef struct {
    str *v;
    size_t n;
    uint32_t *tab;
    uint32_t mask;
} strset;

static int set_has(const strset *s, const char *p, size_t n)
{
    if (!s->n) return 0;
    for (uint32_t i = fnv(p, n) & s->mask;; i = (i + 1) & s->mask) {
        uint32_t e = s->tab[i];
        if (!e) return 0;
        if (s->v[e - 1].n == n && memcmp(s->v[e - 1].s, p, n) == 0) return 1;
    }
}

/* maximal runs of non-space code points longer than one UTF-16 unit */
static size_t split_words(const char *s, size_t n, str *out)
{
    size_t k = 0, i = 0;
    while (i < n) {
        size_t len;
        uint32_t c = decode(s + i, n - i, &len);
        if (js_space(c)) { i += len; continue; }
        size_t st = i;
        while (i < n) {
            c = decode(s + i, n - i, &len);
            if (js_space(c)) break;
            i += len;
        }
        if (u16len(s + st, i - st) > 1) out[k++] = (str){s + st, i - st};
    }
    return k;
}

int maif_text_sentiment(const maif_vader *v, const char *text, size_t n, maif_sentiment *out)
{
    if (!v || (!text && n) || !out) return maif_set_last_err(MAIF_EINVAL, "maif_text_sentiment: NULL argument");
    memset(out, 0, sizeof *out);
    if (!maif_utf8_valid(text, n)) return maif_set_last_err(MAIF_EINVAL, "text is not valid UTF-8");
    if (n > MAIF_TEXT_ANALYZE_MAX)
        return maif_set_last_err(MAIF_ELIMIT, "text longer than %u bytes", (unsigned)MAIF_TEXT_ANALYZE_MAX);
    size_t maxw = n / 2 + 1;
    char *nopunc = maif_malloc(n + 1), *lob = maif_malloc(n + 1);
    str *toks = maif_calloc(maxw, sizeof *toks), *wo = maif_calloc(maxw, sizeof *wo);
    word *w = maif_calloc(maxw, sizeof *w);
    double *sent = maif_calloc(maxw, sizeof *sent);
    strset set = {wo, 0, NULL, 0};
    int rc = MAIF_OK;
    if (!nopunc || !lob || !toks || !wo || !w || !sent) { rc = maif_set_last_err(MAIF_ENOMEM, "out of memory"); goto out; }

    /* get_words_plus_punc: the words of the text with punctuation removed */
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (!is_punct((uint8_t)text[i])) nopunc[m++] = text[i];
    set.n = split_words(nopunc, m, wo);
    if (set.n) {
        uint32_t cap = 16;
        while (cap < 2 * set.n) cap <<= 1;
        set.mask = cap - 1;
        set.tab = maif_calloc(cap, sizeof *set.tab);
        if (!set.tab) { rc = maif_set_last_err(MAIF_ENOMEM, "out of memory"); goto out; }
        for (size_t k = 0; k < set.n; k++) {
            uint32_t i = fnv(wo[k].s, wo[k].n) & set.mask;
            while (set.tab[i]) i = (i + 1) & set.mask;
            set.tab[i] = (uint32_t)k + 1;
        }
    }
    /* get_words_and_emoticons: tokens, a token that is one word with a
     * leading or trailing PUNC_LIST entry replaced by the word */
    size_t nt = split_words(text, n, toks);
    char *lp = lob;
    for (size_t k = 0; k < nt; k++) {
        str t = toks[k];
        for (size_t p = 0; p < COUNT(PUNC_LIST); p++) {
            size_t pl = strlen(PUNC_LIST[p]);
            if (t.n <= pl) continue;
            if (memcmp(t.s, PUNC_LIST[p], pl) == 0 && set_has(&set, t.s + pl, t.n - pl)) {
                t = (str){t.s + pl, t.n - pl};
                break;
            }
            if (memcmp(t.s + t.n - pl, PUNC_LIST[p], pl) == 0 && set_has(&set, t.s, t.n - pl)) {
                t = (str){t.s, t.n - pl};
                break;
            }
        }
        w[k].w = t;
        w[k].lo = (str){lp, lower(t.s, t.n, lp)};
        lp += w[k].lo.n;
    }
    senti st = {v, w, nt, 0};
    size_t allcap = 0;
    for (size_t k = 0; k < nt; k++) allcap += (size_t)is_upper(w[k].w);
    st.cap_diff = nt - allcap > 0 && nt - allcap < nt;

    for (size_t i = 0; i < nt; i++) {
        if ((i < nt - 1 && eq(w[i].lo, "kind") && eq(w[i + 1].lo, "of")) || booster(w[i].lo, NULL)) {
            sent[i] = 0;
            continue;
        }
        sent[i] = sentiment_valence(&st, i);
    }
    /* but_check */
    size_t but = nt;
    for (size_t i = 0; i < nt && but == nt; i++)
        if (eq(w[i].w, "but")) but = i;
    for (size_t i = 0; i < nt && but == nt; i++)
        if (eq(w[i].w, "BUT")) but = i;
    if (but < nt)
        for (size_t i = 0; i < nt; i++) {
            if (i < but) sent[i] = sent[i] * 0.5;
            else if (i > but) sent[i] = sent[i] * 1.5;
        }
    if (nt == 0) goto out; /* all zero */
    double sum_s = 0;
    for (size_t i = 0; i < nt; i++) sum_s += sent[i];
    size_t ep = 0, qm = 0;
    for (size_t i = 0; i < n; i++) {
        ep += text[i] == '!';
        qm += text[i] == '?';
    }
    if (ep > 4) ep = 4;
    double ep_amp = (double)ep * 0.292, qm_amp = 0;
    if (qm > 1) qm_amp = qm <= 3 ? (double)qm * 0.18 : 0.96;
    double punct = ep_amp + qm_amp;
    if (sum_s > 0) sum_s += punct;
    else if (sum_s < 0) sum_s -= punct;
    double compound = sum_s / sqrt(sum_s * sum_s + 15);
    if (compound < -1.0) compound = -1.0;
    else if (compound > 1.0) compound = 1.0;
    double pos_sum = 0.0, neg_sum = 0.0, neu = 0;
    for (size_t i = 0; i < nt; i++) {
        if (sent[i] > 0) pos_sum += sent[i] + 1;
        else if (sent[i] < 0) neg_sum += sent[i] - 1;
        else neu += 1;
    }
    if (pos_sum > fabs(neg_sum)) pos_sum += punct;
    else if (pos_sum < fabs(neg_sum)) neg_sum -= punct;
    double total = pos_sum + fabs(neg_sum) + neu;
    out->neg = js_fixed(fabs(neg_sum / total), 3);
    out->neu = js_fixed(fabs(neu / total), 3);
    out->pos = js_fixed(fabs(pos_sum / total), 3);
    out->compound = js_fixed(compound, 4);
out:
    maif_free(nopunc);
    maif_free(lob);
    maif_free(toks);
    maif_free(wo);
    maif_free(w);
    maif_free(sent);
    maif_free(set.tab);
    return rc;
}
