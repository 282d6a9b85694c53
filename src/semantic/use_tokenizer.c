/*
 * use_tokenizer.c — SentencePiece unigram tokenizer, ported from the
 * JavaScript of @energetic-ai/embeddings 0.2.0 (lib/tokenizer.ts, trie.ts)
 * so that the ids match it exactly, quirks included:
 *   - the text is NFKC-normalised (ICU, as V8 does), then "▁" (U+2581) is
 *     put before it and in place of every U+0020;
 *   - symbols are code points; a start position with no piece in the trie
 *     gets a one-symbol unknown (id 0, score 0);
 *   - Viterbi: best[] starts at 0 and 0 also means "unset", a candidate
 *     wins when best is 0 or its score is >= best (ties: the later wins),
 *     candidates visited by end position, then start position ascending;
 *   - the backtrack steps back by the UTF-16 length of the chosen piece
 *     (JavaScript's string length), and runs of unknowns merge into one.
 */
#include "semantic/use_tokenizer.h"

#include <jansson.h>
#include <string.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>
#include <unicode/utf16.h>

#include "semantic/model_use.h"
#include "util/alloc.h"
#include "util/common.h"

typedef struct {
    uint32_t node;   /* parent node */
    uint32_t cp;     /* code point */
    uint32_t child;  /* 0 = empty slot (node 0 is the root, never a child) */
} edge;

typedef struct {
    double score;
    int32_t index;   /* -1: no piece ends here */
} tnode;

struct use_tokenizer {
    size_t nvocab;
    uint16_t *u16len;  /* JavaScript length of each piece (at least 1) */
    tnode *nodes;
    size_t nnodes, capnodes;
    edge *edges;       /* open addressing, power-of-two size */
    size_t capedges;
    size_t maxpiece;   /* longest piece, in code points */
};

static uint64_t edge_hash(uint32_t node, uint32_t cp)
{
    uint64_t h = ((uint64_t)node << 32 | cp) * 0x9E3779B97F4A7C15ull;
    return h ^ (h >> 29);
}

static uint32_t trie_child(const use_tokenizer *t, uint32_t node, uint32_t cp)
{
    size_t mask = t->capedges - 1;
    for (size_t i = edge_hash(node, cp) & mask;; i = (i + 1) & mask) {
        const edge *e = &t->edges[i];
        if (e->child == 0) return 0;
        if (e->node == node && e->cp == cp) return e->child;
    }
}

static int trie_add_child(use_tokenizer *t, uint32_t node, uint32_t cp, uint32_t *child)
{
    if (t->nnodes == t->capnodes) {
        size_t nc = t->capnodes ? t->capnodes * 2 : 1024;
        tnode *nn = maif_realloc(t->nodes, nc * sizeof *nn);
        if (!nn) return MAIF_ENOMEM;
        t->nodes = nn;
        t->capnodes = nc;
    }
    /* keep the edge table at most half full */
    if ((t->nnodes + 1) * 2 > t->capedges) {
        size_t nc = t->capedges ? t->capedges * 2 : 2048;
        edge *ne = maif_calloc(nc, sizeof *ne);
        if (!ne) return MAIF_ENOMEM;
        for (size_t i = 0; i < t->capedges; i++) {
            edge e = t->edges[i];
            if (!e.child) continue;
            size_t j = edge_hash(e.node, e.cp) & (nc - 1);
            while (ne[j].child) j = (j + 1) & (nc - 1);
            ne[j] = e;
        }
        maif_free(t->edges);
        t->edges = ne;
        t->capedges = nc;
    }
    uint32_t id = (uint32_t)t->nnodes++;
    t->nodes[id].score = 0;
    t->nodes[id].index = -1;
    size_t mask = t->capedges - 1, j = edge_hash(node, cp) & mask;
    while (t->edges[j].child) j = (j + 1) & mask;
    t->edges[j] = (edge){ node, cp, id };
    *child = id;
    return 0;
}

/* UTF-8 -> code points; invalid sequences become U+FFFD. Returns count. */
static size_t utf8_decode(const uint8_t *s, size_t n, uint32_t *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        uint32_t c = s[i], need, min;
        if (c < 0x80) { out[k++] = c; i++; continue; }
        if (c >= 0xC2 && c <= 0xDF) { need = 1; c &= 0x1F; min = 0x80; }
        else if (c >= 0xE0 && c <= 0xEF) { need = 2; c &= 0x0F; min = 0x800; }
        else if (c >= 0xF0 && c <= 0xF4) { need = 3; c &= 0x07; min = 0x10000; }
        else { out[k++] = 0xFFFD; i++; continue; }
        size_t j = 1;
        for (; j <= need && i + j < n && (s[i + j] & 0xC0) == 0x80; j++) c = (c << 6) | (s[i + j] & 0x3F);
        if (j <= need || c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) {
            out[k++] = 0xFFFD;
            i += j > 1 ? j - 1 : 1;  /* skip the lead and the continuation bytes seen */
            continue;
        }
        out[k++] = c;
        i += need + 1;
    }
    return k;
}

int use_tokenizer_new(use_tokenizer **out, const char *vocab_json, size_t len, size_t reserved)
{
    *out = NULL;
    if (len > SEM_USE_MAX_JSON_BYTES) return maif_set_last_err(MAIF_ELIMIT, "vocab.json: %zu bytes, limit %u", len, SEM_USE_MAX_JSON_BYTES);
    json_error_t jerr;
    json_t *root = json_loadb(vocab_json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) return maif_set_last_err(MAIF_EFORMAT, "vocab.json: line %d: %s", jerr.line, jerr.text);
    int rc = 0;
    use_tokenizer *t = NULL;
    uint32_t *cps = NULL;
    if (!json_is_array(root) || json_array_size(root) == 0) {
        rc = maif_set_last_err(MAIF_EFORMAT, "vocab.json: not a non-empty array of [piece, score]");
        goto done;
    }
    size_t n = json_array_size(root);
    if (n > SEM_USE_MAX_VOCAB) {
        rc = maif_set_last_err(MAIF_ELIMIT, "vocab.json: %zu pieces, limit %u", n, SEM_USE_MAX_VOCAB);
        goto done;
    }
    t = maif_calloc(1, sizeof *t);
    cps = maif_malloc(SEM_USE_MAX_PIECE_BYTES * sizeof *cps);
    if (!t || !cps || !(t->u16len = maif_calloc(n, sizeof *t->u16len))) { rc = maif_set_last_err(MAIF_ENOMEM, "out of memory"); goto done; }
    t->nvocab = n;
    uint32_t root_id;
    if (trie_add_child(t, 0, 0, &root_id)) { rc = maif_set_last_err(MAIF_ENOMEM, "out of memory"); goto done; }
    /* trie_add_child put an edge (0,0)->0 with child 0, i.e. none: fine */
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(root, i), *p = json_array_get(e, 0), *s = json_array_get(e, 1);
        if (!json_is_array(e) || json_array_size(e) != 2 || !json_is_string(p) || !(json_is_number(s) || json_is_null(s))) {
            rc = maif_set_last_err(MAIF_EFORMAT, "vocab.json: entry %zu is not [piece, score]", i);
            goto done;
        }
        size_t pl = json_string_length(p);
        if (pl > SEM_USE_MAX_PIECE_BYTES) {
            rc = maif_set_last_err(MAIF_ELIMIT, "vocab.json: piece %zu is %zu bytes, limit %u", i, pl, SEM_USE_MAX_PIECE_BYTES);
            goto done;
        }
        size_t nc = utf8_decode((const uint8_t *)json_string_value(p), pl, cps);
        size_t u16 = 0;
        for (size_t k = 0; k < nc; k++) u16 += cps[k] > 0xFFFF ? 2 : 1;
        t->u16len[i] = (uint16_t)(u16 ? u16 : 1); /* an empty piece would never move the backtrack */
        if (i < reserved || nc == 0) continue;
        uint32_t node = 0;
        for (size_t k = 0; k < nc; k++) {
            uint32_t c = trie_child(t, node, cps[k]);
            if (!c && trie_add_child(t, node, cps[k], &c)) { rc = maif_set_last_err(MAIF_ENOMEM, "out of memory"); goto done; }
            node = c;
        }
        t->nodes[node].score = json_number_value(s);  /* null counts 0 (null + x in JS); a later duplicate wins */
        t->nodes[node].index = (int32_t)i;
        if (nc > t->maxpiece) t->maxpiece = nc;
    }
done:
    json_decref(root);
    maif_free(cps);
    if (rc) use_tokenizer_free(t);
    else *out = t;
    return rc;
}

size_t use_tokenizer_size(const use_tokenizer *t) { return t->nvocab; }

void use_tokenizer_free(use_tokenizer *t)
{
    if (!t) return;
    maif_free(t->u16len);
    maif_free(t->nodes);
    maif_free(t->edges);
    maif_free(t);
}

/* NFKC of text as code points, with U+2581 before it and for each space.
 * Returns the count, or -1 (no memory) / -2 (ICU failure). *outp is
 * maif_malloc'ed. */
static long normalize(const char *text, size_t len, uint32_t **outp)
{
    *outp = NULL;
    int ascii = 1;
    for (size_t i = 0; i < len; i++) if ((uint8_t)text[i] >= 0x80) { ascii = 0; break; }
    uint32_t *cp;
    size_t n;
    if (ascii) {
        /* NFKC leaves ASCII as it is */
        if (!(cp = maif_malloc((len + 1) * sizeof *cp))) return -1;
        for (size_t i = 0; i < len; i++) cp[i + 1] = (uint8_t)text[i];
        n = len;
    } else {
        UErrorCode st = U_ZERO_ERROR;
        const UNormalizer2 *nfkc = unorm2_getNFKCInstance(&st);
        if (U_FAILURE(st)) return -2;
        int32_t ulen = 0;
        st = U_ZERO_ERROR;
        u_strFromUTF8WithSub(NULL, 0, &ulen, text, (int32_t)len, 0xFFFD, NULL, &st);
        if (st != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(st)) return -2;
        UChar *u = maif_malloc(((size_t)ulen + 1) * sizeof *u);
        if (!u) return -1;
        st = U_ZERO_ERROR;
        u_strFromUTF8WithSub(u, ulen + 1, NULL, text, (int32_t)len, 0xFFFD, NULL, &st);
        if (U_FAILURE(st)) { maif_free(u); return -2; }
        st = U_ZERO_ERROR;
        int32_t nlen = unorm2_normalize(nfkc, u, ulen, NULL, 0, &st);
        if (st != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(st)) { maif_free(u); return -2; }
        UChar *nu = maif_malloc(((size_t)nlen + 1) * sizeof *nu);
        if (!nu) { maif_free(u); return -1; }
        st = U_ZERO_ERROR;
        unorm2_normalize(nfkc, u, ulen, nu, nlen + 1, &st);
        maif_free(u);
        if (U_FAILURE(st)) { maif_free(nu); return -2; }
        if (!(cp = maif_malloc(((size_t)nlen + 1) * sizeof *cp))) { maif_free(nu); return -1; }
        n = 0;
        for (int32_t i = 0; i < nlen;) {
            UChar32 c;
            U16_NEXT(nu, i, nlen, c);  /* a lone surrogate stays one symbol, as for..of does */
            cp[1 + n++] = (uint32_t)c;
        }
        maif_free(nu);
    }
    if (n == 0) { *outp = cp; return 0; }
    cp[0] = 0x2581;
    for (size_t i = 1; i <= n; i++) if (cp[i] == 0x20) cp[i] = 0x2581;
    *outp = cp;
    return (long)n + 1;
}

long use_tokenizer_encode(const use_tokenizer *t, const char *text, size_t len, int32_t *ids, size_t cap)
{
    if (len > SEM_USE_MAX_TEXT_BYTES) {
        len = SEM_USE_MAX_TEXT_BYTES;
        while (len > 0 && ((uint8_t)text[len] & 0xC0) == 0x80) len--;  /* cut at a character boundary */
    }
    uint32_t *sym;
    long ns = normalize(text, len, &sym);
    if (ns == -1) return maif_set_last_err(MAIF_ENOMEM, "out of memory");
    if (ns < 0) return maif_set_last_err(MAIF_EINVAL, "text cannot be normalised (ICU)");
    size_t n = (size_t)ns, maxp = t->maxpiece ? t->maxpiece : 1;
    /* matches[i*maxp + (l-1)]: index of the piece of l symbols at i, or -1 */
    int32_t *match = NULL, *words = NULL, *res = NULL;
    double *best = NULL;
    uint64_t mbytes;
    long rc = 0;
    if (!mul_ok(n, maxp, &mbytes) || !mul_ok(mbytes, sizeof(int32_t), &mbytes) || mbytes > SIZE_MAX / 2) {
        maif_free(sym);
        return maif_set_last_err(MAIF_ELIMIT, "text too long");
    }
    match = maif_malloc(mbytes ? (size_t)mbytes : 1);
    words = maif_calloc(n + 1, sizeof *words);
    best = maif_calloc(n + 1, sizeof *best);
    res = maif_malloc((n + 1) * sizeof *res);
    if (!match || !words || !best || !res) { rc = maif_set_last_err(MAIF_ENOMEM, "out of memory"); goto done; }
    for (size_t i = 0; i < n * maxp; i++) match[i] = -1;
    for (size_t i = 0; i < n; i++) {
        uint32_t node = 0;
        int any = 0;
        for (size_t l = 1; i + l <= n && l <= maxp; l++) {
            node = trie_child(t, node, sym[i + l - 1]);
            if (!node) break;
            if (t->nodes[node].index >= 0) { match[i * maxp + l - 1] = (int32_t)node; any = 1; }
        }
        if (!any) match[i * maxp] = 0;  /* node 0 stands for the unknown: score 0, id 0 */
    }
    for (size_t end = 1; end <= n; end++) {
        size_t s0 = end > maxp ? end - maxp : 0;
        for (size_t s = s0; s < end; s++) {
            int32_t nd = match[s * maxp + (end - s - 1)];
            if (nd < 0) continue;
            double sc = (nd ? t->nodes[nd].score : 0.0) + best[s];
            if (best[end] == 0 || sc >= best[end]) {
                best[end] = sc;
                words[end] = nd ? t->nodes[nd].index : 0;
            }
        }
    }
    size_t nr = 0;
    for (long it = (long)n; it > 0; it -= t->u16len[words[it]]) res[nr++] = words[it];
    /* merge runs of unknowns, then reverse */
    size_t k = 0;
    int prev_unk = 0;
    for (size_t i = 0; i < nr; i++) {
        int32_t id = res[i];
        if (!(prev_unk && id == 0)) res[k++] = id;
        prev_unk = id == 0;
    }
    for (size_t i = 0; i < k; i++) if (i < cap) ids[i] = res[k - 1 - i];
    rc = (long)k;
done:
    maif_free(sym);
    maif_free(match);
    maif_free(words);
    maif_free(best);
    maif_free(res);
    return rc;
}
