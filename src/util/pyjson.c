/*
 * pyjson.c — canonical JSON serialisation (see pyjson.h).
 *
 * MAIF 2.1 hashes and signs the bytes Python's json.dumps(obj,
 * sort_keys=True) produces, so MAIF_JSON_PY must match CPython exactly, not
 * merely be "equivalent JSON". The points where that is subtle:
 *   - ensure_ascii escapes everything outside 0x20..0x7e, so DEL (0x7f)
 *     becomes \u007f; astral characters become lowercase surrogate pairs.
 *   - keys are sorted as Python str, i.e. by code point; for valid UTF-8,
 *     byte-wise comparison (shorter prefix first) gives the same order.
 *     Keys may contain NUL (JSON_ALLOW_NUL), so they are handled by length.
 *   - floats use repr(): the shortest decimal that reads back to the same
 *     double (found with snprintf + strtod, also trying the neighbouring
 *     last digit, because the correctly rounded candidate can miss when the
 *     rounding interval is lopsided at a power of two), printed positionally
 *     when the decimal exponent is in [-4, 16) and in e-notation otherwise.
 * Strings are re-validated as UTF-8 because a json_t built in memory (e.g.
 * json_stringn_nocheck) need not be; invalid text is MAIF_EJSON.
 *
 * Known divergences from Python, all rejected rather than mis-serialised:
 * NaN/Infinity, integers outside long long, reals that overflow a double,
 * lone surrogate escapes, duplicate keys (Python keeps the last one).
 */
#include "util/alloc.h"
#include "util/pyjson.h"

#include <stdarg.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "maif.h"

typedef struct {
    const char *key; /* borrowed from the object; may contain NUL */
    size_t len;      /* key length in bytes */
    json_t *value;   /* borrowed */
} kv;

static const char hexdig[] = "0123456789abcdef";

/* Decodes one UTF-8 sequence from s[0..n); returns its length (1..4) and the
 * code point in *cp, or 0 if the bytes are not strict UTF-8 (overlong forms,
 * surrogates and values above U+10FFFF are refused). */
static size_t utf8_decode(const uint8_t *s, size_t n, uint32_t *cp)
{
    uint8_t c = s[0];
    size_t len;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if (c >= 0xc2 && c <= 0xdf) {
        len = 2; v = c & 0x1fu; min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3; v = c & 0x0fu; min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4; v = c & 0x07u; min = 0x10000;
    } else {
        return 0;
    }
    if (n < len) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        v = (v << 6) | (s[i] & 0x3fu);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) return 0;
    *cp = v;
    return len;
}

static void put_u16(char *p, uint32_t u)
{
    p[0] = '\\';
    p[1] = 'u';
    p[2] = hexdig[(u >> 12) & 0xf];
    p[3] = hexdig[(u >> 8) & 0xf];
    p[4] = hexdig[(u >> 4) & 0xf];
    p[5] = hexdig[u & 0xf];
}

static int dump_string(const char *str, size_t n, int style, maif_buf *out)
{
    const uint8_t *s = (const uint8_t *)str;
    /* Worst case is 12 output bytes per 4 input bytes, plus the quotes. */
    if (n > (MAIF_BUF_MAX - 2) / 6) return MAIF_ELIMIT;
    int rc = maif_buf_reserve(out, n * 6 + 2);
    if (rc) return rc;
    char *o = (char *)out->data + out->len;
    char *start = o;
    *o++ = '"';
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        /* Fast path for bytes that are always copied as they are. */
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
            *o++ = (char)c;
            i++;
            continue;
        }
        uint32_t cp;
        size_t len = utf8_decode(s + i, n - i, &cp);
        if (len == 0) return MAIF_EJSON;
        switch (cp) {
        case '"': *o++ = '\\'; *o++ = '"'; break;
        case '\\': *o++ = '\\'; *o++ = '\\'; break;
        case '\n': *o++ = '\\'; *o++ = 'n'; break;
        case '\r': *o++ = '\\'; *o++ = 'r'; break;
        case '\t': *o++ = '\\'; *o++ = 't'; break;
        case '\b': *o++ = '\\'; *o++ = 'b'; break;
        case '\f': *o++ = '\\'; *o++ = 'f'; break;
        default:
            if (cp < 0x20 || (style == MAIF_JSON_PY && cp < 0x10000)) {
                put_u16(o, cp);
                o += 6;
            } else if (style == MAIF_JSON_PY) {
                uint32_t v = cp - 0x10000;
                put_u16(o, 0xd800 | (v >> 10));
                put_u16(o + 6, 0xdc00 | (v & 0x3ff));
                o += 12;
            } else {
                /* COMPACT keeps DEL and non-ASCII as the UTF-8 bytes. */
                memcpy(o, s + i, len);
                o += len;
            }
        }
        i += len;
    }
    *o++ = '"';
    out->len += (size_t)(o - start);
    return MAIF_OK;
}

/* Shortest round-tripping decimal digits of a finite d > 0: writes up to 17
 * digits (no trailing zeros, NUL-terminated) to digits and returns the
 * decimal exponent of the first digit. */
static int shortest_digits(double d, char digits[18])
{
    char tmp[40];
    for (int p = 1; p <= 17; p++) {
        snprintf(tmp, sizeof tmp, "%.*e", p - 1, d);
        /* tmp is "D.DDDDe[+-]XX" (or "De[+-]XX" when p == 1). */
        uint64_t m = 0;
        const char *q = tmp;
        for (; *q != 'e'; q++)
            if (*q != '.') m = m * 10 + (uint64_t)(*q - '0');
        int e = atoi(q + 1);
        /* Candidates: the correctly rounded one, then its neighbours. */
        uint64_t cand[3] = { m, m + 1, m - 1 };
        int ncand = (p > 1 || m > 1) ? 3 : 2;
        for (int k = 0; k < ncand; k++) {
            char num[48];
            /* Value is cand * 10^(e - p + 1). */
            snprintf(num, sizeof num, "%llue%d", (unsigned long long)cand[k], e - p + 1);
            if (strtod(num, NULL) != d) continue;
            int nd = snprintf(digits, 18, "%llu", (unsigned long long)cand[k]);
            /* A carry (999 + 1) adds a digit and moves the exponent. */
            int exp10 = e + (nd - p);
            while (nd > 1 && digits[nd - 1] == '0') digits[--nd] = '\0';
            return exp10;
        }
    }
    /* %.16e always round-trips, so this is unreachable for finite d. */
    snprintf(digits, 18, "0");
    return 0;
}

int maif_json_dump_double(double d, maif_buf *out)
{
    if (!isfinite(d)) return MAIF_EJSON;
    char s[64];
    char *o = s;
    if (signbit(d)) {
        *o++ = '-';
        d = -d;
    }
    if (d == 0.0) {
        memcpy(o, "0.0", 4);
        return maif_buf_puts(out, s);
    }
    char dg[18];
    int e = shortest_digits(d, dg);
    int nd = (int)strlen(dg);
    if (e >= -4 && e < 16) {
        if (e >= 0) {
            for (int i = 0; i <= e; i++) *o++ = i < nd ? dg[i] : '0';
            *o++ = '.';
            if (nd > e + 1) {
                memcpy(o, dg + e + 1, (size_t)(nd - e - 1));
                o += nd - e - 1;
            } else {
                *o++ = '0';
            }
        } else {
            *o++ = '0';
            *o++ = '.';
            for (int i = 0; i < -e - 1; i++) *o++ = '0';
            memcpy(o, dg, (size_t)nd);
            o += nd;
        }
        *o = '\0';
    } else {
        *o++ = dg[0];
        if (nd > 1) {
            *o++ = '.';
            memcpy(o, dg + 1, (size_t)(nd - 1));
            o += nd - 1;
        }
        snprintf(o, sizeof s - (size_t)(o - s), "e%c%02d", e < 0 ? '-' : '+', e < 0 ? -e : e);
    }
    return maif_buf_puts(out, s);
}

static int kv_cmp(const void *a, const void *b)
{
    const kv *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->key, y->key, n);
    if (c) return c;
    return (x->len > y->len) - (x->len < y->len);
}

static int dump_value(const json_t *v, int style, int depth, maif_buf *out);

static int dump_object(const json_t *v, int style, int depth, maif_buf *out)
{
    size_t n = json_object_size(v);
    if (n == 0) return maif_buf_puts(out, "{}");
    kv *items = maif_calloc(n, sizeof *items);
    if (!items) return MAIF_ENOMEM;
    size_t i = 0;
    /* json_object_iter takes a non-const object but does not modify it. */
    for (void *it = json_object_iter((json_t *)v); it && i < n; it = json_object_iter_next((json_t *)v, it)) {
        items[i].key = json_object_iter_key(it);
        items[i].len = json_object_iter_key_len(it);
        items[i].value = json_object_iter_value(it);
        i++;
    }
    n = i;
    qsort(items, n, sizeof *items, kv_cmp);
    const char *sep = style == MAIF_JSON_PY ? ", " : ",";
    const char *colon = style == MAIF_JSON_PY ? ": " : ":";
    int rc = maif_buf_putc(out, '{');
    for (i = 0; i < n && !rc; i++) {
        if (i) rc = maif_buf_puts(out, sep);
        if (!rc) rc = dump_string(items[i].key, items[i].len, style, out);
        if (!rc) rc = maif_buf_puts(out, colon);
        if (!rc) rc = dump_value(items[i].value, style, depth, out);
    }
    if (!rc) rc = maif_buf_putc(out, '}');
    maif_free(items);
    return rc;
}

static int dump_value(const json_t *v, int style, int depth, maif_buf *out)
{
    if (!v) return MAIF_EJSON;
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        if (depth >= MAIF_JSON_MAX_DEPTH) return MAIF_EJSON;
        return dump_object(v, style, depth + 1, out);
    case JSON_ARRAY: {
        if (depth >= MAIF_JSON_MAX_DEPTH) return MAIF_EJSON;
        size_t n = json_array_size(v);
        int rc = maif_buf_putc(out, '[');
        for (size_t i = 0; i < n && !rc; i++) {
            if (i) rc = maif_buf_puts(out, style == MAIF_JSON_PY ? ", " : ",");
            if (!rc) rc = dump_value(json_array_get(v, i), style, depth + 1, out);
        }
        if (!rc) rc = maif_buf_putc(out, ']');
        return rc;
    }
    case JSON_STRING:
        return dump_string(json_string_value(v), json_string_length(v), style, out);
    case JSON_INTEGER:
        return maif_buf_printf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    case JSON_REAL:
        return maif_json_dump_double(json_real_value(v), out);
    case JSON_TRUE:
        return maif_buf_puts(out, "true");
    case JSON_FALSE:
        return maif_buf_puts(out, "false");
    case JSON_NULL:
        return maif_buf_puts(out, "null");
    }
    return MAIF_EJSON;
}

int maif_json_dump(const json_t *v, int style, maif_buf *out)
{
    if (!out || (style != MAIF_JSON_PY && style != MAIF_JSON_COMPACT)) return MAIF_EINVAL;
    /* On failure the buffer is restored, so callers never see half a value. */
    size_t mark = out->len;
    int rc = dump_value(v, style, 0, out);
    if (rc) out->len = mark;
    return rc;
}

static void set_err(char *err, size_t errcap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errcap, const char *fmt, ...)
{
    if (!err || errcap == 0) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errcap, fmt, ap);
    va_end(ap);
}

int maif_json_canonicalize(const char *text, size_t n, int style, maif_buf *out, char *err, size_t errcap)
{
    if (err && errcap) err[0] = '\0';
    if (!out || (!text && n) || (style != MAIF_JSON_PY && style != MAIF_JSON_COMPACT)) {
        set_err(err, errcap, "invalid argument");
        return MAIF_EINVAL;
    }
    json_error_t je;
    unsigned long fails = maif_alloc_failures();
    /* No JSON_DECODE_ANY and no JSON_DISABLE_EOF_CHECK: the text must be one
     * array or object and nothing but whitespace may follow it. */
    json_t *v = json_loadb(text ? text : "", n, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
    if (!v) {
        /* jansson may report a failed allocation as a syntax error */
        if (json_error_code(&je) == json_error_out_of_memory || maif_alloc_failures() != fails) {
            set_err(err, errcap, "out of memory");
            return MAIF_ENOMEM;
        }
        set_err(err, errcap, "line %d column %d: %s", je.line, je.column, je.text);
        return MAIF_EJSON;
    }
    int rc;
    if (!json_is_object(v)) {
        set_err(err, errcap, "top-level value is not an object");
        rc = MAIF_EJSON;
    } else {
        rc = maif_json_dump(v, style, out);
        if (rc == MAIF_EJSON)
            set_err(err, errcap, "cannot serialise: nesting deeper than %d or invalid value", MAIF_JSON_MAX_DEPTH);
        else if (rc)
            set_err(err, errcap, "%s", maif_strerror(rc));
    }
    json_decref(v);
    return rc;
}
