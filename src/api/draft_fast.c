/*
 * draft_fast.c — one pass over the common JSONL line, without a JSON tree.
 *
 * `maif append` spends most of its time in jansson building a tree for
 * every line, only to read three keys and serialise the metadata again.
 * Most lines have one shape: {"type": "...", "text": "...", "meta": {flat
 * object}, "compress": "..."} with plain strings, small integers, booleans
 * and nulls. For exactly that shape this scanner decodes the text and
 * writes the metadata's canonical form (docs/FORMAT.md §7) in the same
 * pass. Anything else (another key, a duplicate, a \u escape, a real
 * number, a nested value, metadata keys not already in canonical order,
 * invalid UTF-8, an empty metadata object) makes it answer "not mine", and
 * the caller parses the line with jansson as before, so the result, and
 * every error message, is the general path's. tests/unit/test_draft.c
 * checks both paths give the same drafts; fuzz_draft compares them on
 * arbitrary lines.
 */
#include <stdint.h>
#include <string.h>

#include "api/draft_fast.h"
#include "maif.h"
#include "util/alloc.h"

typedef struct scan {
    const char *p, *end;
} scan;

static void ws(scan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r')) s->p++;
}

static int eat(scan *s, char c)
{
    ws(s);
    if (s->p < s->end && *s->p == c) {
        s->p++;
        return 1;
    }
    return 0;
}

/* A string with only the short escapes, decoded into out (appended).
 * Returns 1, or 0 for anything the fast path leaves to jansson. */
static int str(scan *s, maif_buf *out)
{
    ws(s);
    if (s->p >= s->end || *s->p != '"') return 0;
    s->p++;
    const char *run = s->p;
    for (;;) {
        if (s->p >= s->end) return 0;
        unsigned char c = (unsigned char)*s->p;
        if (c == '"' || c == '\\') {
            if (s->p > run && maif_buf_append(out, run, (size_t)(s->p - run))) return 0;
            if (c == '"') {
                s->p++;
                return 1;
            }
            if (s->p + 1 >= s->end) return 0;
            char e = s->p[1], d;
            switch (e) {
            case '"': d = '"'; break;
            case '\\': d = '\\'; break;
            case '/': d = '/'; break;
            case 'b': d = '\b'; break;
            case 'f': d = '\f'; break;
            case 'n': d = '\n'; break;
            case 'r': d = '\r'; break;
            case 't': d = '\t'; break;
            default: return 0; /* \u and anything else: jansson */
            }
            if (maif_buf_append(out, &d, 1)) return 0;
            s->p += 2;
            run = s->p;
            continue;
        }
        if (c < 0x20) return 0; /* invalid JSON: jansson words the error */
        s->p++;
    }
}

/* Appends the canonical spelling of the n decoded bytes at v. */
static int canon_str(maif_buf *out, const uint8_t *v, size_t n)
{
    if (maif_buf_append(out, "\"", 1)) return 0;
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        const char *esc = NULL;
        switch (v[i]) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        default: continue; /* no other control character can come out of str() */
        }
        if (maif_buf_append(out, v + run, i - run) || maif_buf_append(out, esc, 2)) return 0;
        run = i + 1;
    }
    return !maif_buf_append(out, v + run, n - run) && !maif_buf_append(out, "\"", 1);
}

/* A flat metadata object, its keys in strictly increasing byte order (so
 * canonical order and no duplicates), written canonically to out. */
static int meta(scan *s, maif_buf *out, maif_buf *tmp)
{
    if (!eat(s, '{')) return 0;
    if (maif_buf_append(out, "{", 1)) return 0;
    size_t prev_off = 0, prev_len = 0;
    int first = 1;
    tmp->len = 0;
    for (;;) {
        size_t koff = tmp->len;
        if (!str(s, tmp)) return 0;
        size_t klen = tmp->len - koff;
        if (!maif_utf8_valid(tmp->data + koff, klen)) return 0;
        if (!first) {
            size_t m = prev_len < klen ? prev_len : klen;
            int c = memcmp(tmp->data + prev_off, tmp->data + koff, m);
            if (c > 0 || (c == 0 && prev_len >= klen)) return 0; /* out of order, or a duplicate */
            if (maif_buf_append(out, ",", 1)) return 0;
        }
        if (!canon_str(out, tmp->data + koff, klen) || !eat(s, ':') || maif_buf_append(out, ":", 1)) return 0;
        ws(s);
        if (s->p >= s->end) return 0;
        char c = *s->p;
        if (c == '"') {
            size_t voff = tmp->len;
            if (!str(s, tmp)) return 0;
            size_t vlen = tmp->len - voff;
            if (!maif_utf8_valid(tmp->data + voff, vlen) || !canon_str(out, tmp->data + voff, vlen)) return 0;
            tmp->len = voff; /* keys stay for the order check; values need not */
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            const char *st = s->p;
            if (c == '-') s->p++;
            const char *dg = s->p;
            while (s->p < s->end && *s->p >= '0' && *s->p <= '9') s->p++;
            size_t nd = (size_t)(s->p - dg);
            if (nd == 0 || nd > 18 || (nd > 1 && *dg == '0') || (c == '-' && nd == 1 && *dg == '0')) return 0;
            if (s->p < s->end && (*s->p == '.' || *s->p == 'e' || *s->p == 'E')) return 0; /* a real: jansson */
            if (maif_buf_append(out, st, (size_t)(s->p - st))) return 0;
        } else {
            static const char *const lit[] = {"true", "false", "null"};
            int ok = 0;
            for (int k = 0; k < 3 && !ok; k++) {
                size_t l = strlen(lit[k]);
                if ((size_t)(s->end - s->p) >= l && memcmp(s->p, lit[k], l) == 0) {
                    if (maif_buf_append(out, lit[k], l)) return 0;
                    s->p += l;
                    ok = 1;
                }
            }
            if (!ok) return 0;
        }
        prev_off = koff;
        prev_len = klen;
        first = 0;
        if (eat(s, '}')) break;
        if (!eat(s, ',')) return 0;
    }
    return !maif_buf_append(out, "}", 1);
}

int maif_draft_fast_scan(const char *json, size_t n, maif_draft_fast *f)
{
    f->type.len = f->text.len = f->meta.len = f->compress.len = f->tmp.len = 0;
    f->has_meta = f->has_compress = 0;
    scan s = {json, json + n};
    int have_type = 0, have_text = 0;
    if (!eat(&s, '{')) return 0;
    if (eat(&s, '}')) return 0;
    for (;;) {
        f->tmp.len = 0;
        if (!str(&s, &f->tmp) || !eat(&s, ':')) return 0;
        const char *k = (const char *)f->tmp.data;
        size_t kl = f->tmp.len;
        if (kl == 4 && !memcmp(k, "type", 4) && !have_type) {
            if (!str(&s, &f->type)) return 0;
            have_type = 1;
        } else if (kl == 4 && !memcmp(k, "text", 4) && !have_text) {
            if (!str(&s, &f->text)) return 0;
            have_text = 1;
        } else if (kl == 4 && !memcmp(k, "meta", 4) && !f->has_meta) {
            if (!meta(&s, &f->meta, &f->tmp)) return 0;
            f->has_meta = 1;
        } else if (kl == 8 && !memcmp(k, "compress", 8) && !f->has_compress) {
            if (!str(&s, &f->compress)) return 0;
            f->has_compress = 1;
        } else {
            return 0; /* another key (file, base64, vector, unknown) or a duplicate */
        }
        if (eat(&s, '}')) break;
        if (!eat(&s, ',')) return 0;
    }
    ws(&s);
    if (s.p != s.end || !have_type || !have_text) return 0;
    /* jansson refuses invalid UTF-8 anywhere; the strings are all that is left to check */
    if (!maif_utf8_valid(f->type.data, f->type.len) || !maif_utf8_valid(f->text.data, f->text.len) ||
        !maif_utf8_valid(f->compress.data, f->compress.len))
        return 0;
    /* a NUL inside type or compress: jansson's error, not ours */
    if ((f->type.len && memchr(f->type.data, 0, f->type.len)) ||
        (f->compress.len && memchr(f->compress.data, 0, f->compress.len)))
        return 0;
    if (maif_buf_append(&f->type, "", 1) || maif_buf_append(&f->compress, "", 1)) return 0; /* NUL-terminated */
    f->type.len--;
    f->compress.len--;
    return 1;
}

void maif_draft_fast_free(maif_draft_fast *f)
{
    maif_buf_free(&f->type);
    maif_buf_free(&f->text);
    maif_buf_free(&f->meta);
    maif_buf_free(&f->compress);
    maif_buf_free(&f->tmp);
}
