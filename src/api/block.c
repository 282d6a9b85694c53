/*
 * block.c — turning what a user hands over (a JSONL object, or a type, a
 * payload and metadata text) into a block: the rules every front end must
 * agree on live here once, not in the CLI, so a binding or a server gets
 * the same checks. Embeddings given as JSON become float32 rows and raw
 * float32 bytes get the same checks (finite values, consistent
 * dimensions); text must be UTF-8; JSON payloads must parse. Metadata is
 * parsed once and serialised once, in canonical form, and handed to the
 * writer as such (it is not parsed again).
 *
 * A draft whose payload lives elsewhere (a JSONL "file", or a payload the
 * caller streams) is completed by maif_writer_add_draft from a source:
 * opening files is the caller's business, so the library never blocks on
 * a path it was given.
 */
#include <float.h>
#include <stdarg.h>
#include <stdio.h>
#include <jansson.h>
#include <math.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "api/knowledge.h"
#include "api/api.h"
#include "api/draft_fast.h"
#include "format/native/native_writer.h"
#include "maif.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/common.h"
#include "util/pyjson.h"

struct maif_block_draft {
    uint32_t type;
    int pending;         /* 1: the payload is still to come (maif_writer_add_draft's source) */
    uint8_t *payload;    /* owned; NULL when empty or pending */
    size_t payload_size;
    json_t *meta;        /* parsed metadata (an object) or NULL; serialised by finish() */
    maif_buf meta_c;     /* canonical metadata, set once the payload is known */
    char *file;          /* JSONL "file" path, or NULL */
    uint64_t announced;  /* pending: the payload's size as announced (maif_block_draft_set_size), or 0 */
    int has_codec;       /* 1: a JSONL "compress" chose codec and level for this block */
    int codec, level;
};

static int fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(int code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return maif_set_last_err(code, "%s", msg);
}

int maif_utf8_valid(const void *s, size_t n)
{
    const unsigned char *u = s;
    for (size_t i = 0; i < n;) {
        unsigned c = u[i];
        size_t len;
        unsigned min, cp;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) len = 2, min = 0x80;
        else if (c >= 0xe0 && c <= 0xef) len = 3, min = 0x800;
        else if (c >= 0xf0 && c <= 0xf4) len = 4, min = 0x10000;
        else return 0;
        if (len > n - i) return 0;
        cp = c & (0x3fu >> (len - 1));
        for (size_t k = 1; k < len; k++) {
            if ((u[i + k] & 0xc0) != 0x80) return 0;
            cp = (cp << 6) | (u[i + k] & 0x3fu);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
        i += len;
    }
    return 1;
}

/* Length of an incomplete but so far valid UTF-8 sequence at the end of
 * s[0, n) (0 to 3): what a streaming check must carry to the next chunk. */
static size_t utf8_tail(const unsigned char *s, size_t n)
{
    for (size_t back = 1; back <= 3 && back <= n; back++) {
        unsigned c = s[n - back];
        if ((c & 0xc0) == 0x80) continue;
        size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
        return len > back ? back : 0;
    }
    return 0;
}

/* ------------------------------------------------------------ embeddings */

/* The one embedding rule, for JSON vectors and raw float32 bytes alike:
 * every value is a finite float32; "dimensions" in the metadata, if
 * present, is a positive integer that the values divide into (and equals
 * the row length of a JSON vector); "count" and "dtype", if present, agree;
 * then {"count","dimensions","dtype":"float32"} is merged into meta. */
static int embed_meta(maif_block_draft *d, size_t total, size_t row_dims)
{
    size_t dims = row_dims ? row_dims : total;
    json_t *jd = d->meta ? json_object_get(d->meta, "dimensions") : NULL;
    if (jd) {
        if (!json_is_integer(jd) || json_integer_value(jd) <= 0)
            return fail(MAIF_EINVAL, "embedding: \"dimensions\" must be a positive integer");
        uint64_t given = (uint64_t)json_integer_value(jd);
        if (row_dims && given != row_dims)
            return fail(MAIF_EINVAL, "embedding: \"dimensions\" is %llu but the rows have %zu values",
                        (unsigned long long)given, row_dims);
        if (given > total || total % given != 0)
            return fail(MAIF_EINVAL, "embedding: %zu float32 values do not divide into rows of %llu", total,
                        (unsigned long long)given);
        dims = (size_t)given;
    }
    size_t count = total / dims;
    json_t *jc = d->meta ? json_object_get(d->meta, "count") : NULL;
    if (jc && (!json_is_integer(jc) || json_integer_value(jc) < 0 || (uint64_t)json_integer_value(jc) != count))
        return fail(MAIF_EINVAL, "embedding: \"count\" does not match the %zu rows", count);
    json_t *jt = d->meta ? json_object_get(d->meta, "dtype") : NULL;
    if (jt && !(json_is_string(jt) && strcmp(json_string_value(jt), "float32") == 0))
        return fail(MAIF_EINVAL, "embedding: \"dtype\" must be \"float32\"");
    if (!d->meta && !(d->meta = json_object())) return fail(MAIF_ENOMEM, "out of memory");
    if (json_object_set_new(d->meta, "count", json_integer((json_int_t)count)) ||
        json_object_set_new(d->meta, "dimensions", json_integer((json_int_t)dims)) ||
        json_object_set_new(d->meta, "dtype", json_string("float32")))
        return fail(MAIF_ENOMEM, "out of memory");
    return MAIF_OK;
}

static int raw_embedding(maif_block_draft *d)
{
    size_t n = d->payload_size;
    if (n == 0 || n % 4 != 0)
        return fail(MAIF_EINVAL, "embedding: raw bytes must be a non-zero multiple of 4 (float32)");
    for (size_t i = 0; i < n / 4; i++) {
        const uint8_t *p = d->payload + 4 * i;
        uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
        if ((u & 0x7f800000u) == 0x7f800000u)
            return fail(MAIF_EINVAL, "embedding: value %zu is not a finite float32 (NaN or infinity)", i);
    }
    return embed_meta(d, n / 4, 0);
}

static int put_f32(uint8_t *p, const json_t *v, size_t i)
{
    if (!json_is_number(v)) return fail(MAIF_EINVAL, "embedding: value %zu is not a number", i);
    double x = json_number_value(v);
    if (!isfinite(x) || fabs(x) > FLT_MAX)
        return fail(MAIF_EINVAL, "embedding: value %zu is outside the float32 range", i);
    float f = (float)x;
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    p[0] = (uint8_t)u;
    p[1] = (uint8_t)(u >> 8);
    p[2] = (uint8_t)(u >> 16);
    p[3] = (uint8_t)(u >> 24);
    return MAIF_OK;
}

/* An array of numbers (one row) or of equal-length arrays (rows). */
static int vector_embedding(maif_block_draft *d, const json_t *v)
{
    if (!json_is_array(v) || json_array_size(v) == 0)
        return fail(MAIF_EINVAL, "embedding: must be a non-empty JSON array of numbers or of rows");
    int nested = json_is_array(json_array_get(v, 0));
    size_t rows = nested ? json_array_size(v) : 1;
    size_t dims = nested ? json_array_size(json_array_get(v, 0)) : json_array_size(v);
    if (dims == 0) return fail(MAIF_EINVAL, "embedding: row 0 is empty");
    if (dims > MAIF_PARSE_MAX / 4 / rows) return fail(MAIF_ELIMIT, "embedding: too large");
    uint8_t *out = maif_malloc(rows * dims * 4);
    if (!out) return fail(MAIF_ENOMEM, "out of memory");
    maif_free(d->payload);
    d->payload = out;
    d->payload_size = rows * dims * 4;
    for (size_t r = 0; r < rows; r++) {
        const json_t *row = nested ? json_array_get(v, r) : v;
        if (!json_is_array(row)) return fail(MAIF_EINVAL, "embedding: row %zu is not an array", r);
        if (json_array_size(row) != dims)
            return fail(MAIF_EINVAL, "embedding: row %zu has %zu values, expected %zu", r, json_array_size(row),
                        dims);
        for (size_t c = 0; c < dims; c++) {
            int rc = put_f32(out + (r * dims + c) * 4, json_array_get(row, c), r * dims + c);
            if (rc) return rc;
        }
    }
    return embed_meta(d, rows * dims, dims);
}

/* -------------------------------------------------------------- drafts */

_Static_assert(MAIF_META_MAX == NAT_META_MAX, "the public metadata limit is the format's");

/* A lower bound of the canonical size of v: the bytes of its keys and
 * strings (the canonical form holds each at least once). Lets metadata far
 * over the limit be refused before it is serialised. */
static uint64_t meta_floor(const json_t *v, unsigned depth)
{
    if (depth > MAIF_JSON_MAX_DEPTH) return 0; /* the serialiser refuses it anyway */
    uint64_t n = 0;
    if (json_is_string(v)) return json_string_length(v);
    if (json_is_object(v)) {
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)v, k, x) n += strlen(k) + meta_floor(x, depth + 1);
    } else if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++) n += meta_floor(json_array_get(v, i), depth + 1);
    }
    return n;
}

/* Serialises the metadata once, canonically; {} is stored as none. */
static int finish(maif_block_draft *d)
{
    d->meta_c.len = 0;
    if (!d->meta || json_object_size(d->meta) == 0) return MAIF_OK;
    uint64_t floor = meta_floor(d->meta, 0);
    if (floor > MAIF_META_MAX)
        return fail(MAIF_ELIMIT, "metadata of more than %llu bytes exceeds the %u-byte limit",
                    (unsigned long long)floor, MAIF_META_MAX);
    int rc = maif_json_dump(d->meta, MAIF_JSON_COMPACT, &d->meta_c);
    if (rc == MAIF_EJSON) return fail(rc, "metadata: nesting deeper than %d or invalid value", MAIF_JSON_MAX_DEPTH);
    if (rc) return fail(rc, "metadata: %s", maif_strerror(rc));
    if (d->meta_c.len > MAIF_META_MAX)
        return fail(MAIF_ELIMIT, "metadata of %zu bytes exceeds the %u-byte limit", d->meta_c.len, MAIF_META_MAX);
    return MAIF_OK;
}

/* The payload given as bytes: checked (and converted) by type. */
static int take_bytes(maif_block_draft *d, const void *bytes, size_t n)
{
    int parsed = d->type == MAIF_TYPE_EMBEDDING || d->type == MAIF_TYPE_JSON || d->type == MAIF_TYPE_KNOWLEDGE;
    if (n > MAIF_PARSE_MAX && parsed)
        return fail(MAIF_ELIMIT, "payload of %zu bytes is over the %zu-byte limit for parsed payloads", n,
                    (size_t)MAIF_PARSE_MAX);
    if (parsed) {
        json_error_t je;
        json_t *v = json_loadb(bytes ? bytes : "", n, JSON_DECODE_ANY, &je);
        if (!v)
            return fail(MAIF_EINVAL, "%s is not valid JSON: %s (line %d, column %d)",
                        d->type == MAIF_TYPE_JSON ? "payload" : d->type == MAIF_TYPE_KNOWLEDGE ? "knowledge payload" : "embedding",
                        je.text, je.line, je.column);
        int rc = MAIF_OK;
        char why[256];
        if (d->type == MAIF_TYPE_EMBEDDING) rc = vector_embedding(d, v);
        else if (d->type == MAIF_TYPE_KNOWLEDGE && !maif_knowledge_triples(v, why, sizeof why))
            rc = fail(MAIF_EINVAL, "%s", why);
        json_decref(v);
        if (rc || d->type == MAIF_TYPE_EMBEDDING) return rc;
    }
    if (d->type == MAIF_TYPE_TEXT && !maif_utf8_valid(bytes, n))
        return fail(MAIF_EINVAL, "text is not valid UTF-8 (store it with --type binary)");
    if (n && !(d->payload = maif_malloc(n))) return fail(MAIF_ENOMEM, "out of memory");
    if (n) memcpy(d->payload, bytes, n);
    d->payload_size = n;
    return MAIF_OK;
}

static maif_block_draft *draft_alloc(uint32_t type)
{
    maif_block_draft *d = maif_calloc(1, sizeof *d);
    if (d) d->type = type;
    return d;
}

int maif_block_draft_new(maif_block_draft **out, uint32_t type, const char *meta_json, size_t meta_size)
{
    if (!out) return MAIF_EINVAL;
    *out = NULL;
    if (type == 0) return fail(MAIF_EINVAL, "block type 0 is not allowed");
    maif_block_draft *d = draft_alloc(type);
    if (!d) return fail(MAIF_ENOMEM, "out of memory");
    if (meta_json && meta_size) {
        json_error_t je;
        d->meta = json_loadb(meta_json, meta_size, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
        if (!d->meta || !json_is_object(d->meta)) {
            int rc = d->meta ? fail(MAIF_EJSON, "metadata must be a JSON object")
                             : fail(MAIF_EJSON, "metadata is not valid JSON: %s (line %d, column %d)", je.text,
                                    je.line, je.column);
            maif_block_draft_free(d);
            return rc;
        }
    }
    int rc = finish(d);
    if (rc) {
        maif_block_draft_free(d);
        return rc;
    }
    d->pending = 1;
    *out = d;
    return MAIF_OK;
}

int maif_block_draft_set_payload(maif_block_draft *d, const void *bytes, size_t n)
{
    if (!d || !d->pending || (n && !bytes)) return MAIF_EINVAL;
    d->pending = 0;
    int rc = take_bytes(d, bytes, n);
    if (!rc && d->type == MAIF_TYPE_EMBEDDING) rc = finish(d); /* the shape joined the metadata */
    if (rc) {
        maif_free(d->payload);
        d->payload = NULL;
        d->payload_size = 0;
        d->pending = 1;
    }
    return rc;
}

static int b64_decode(const char *s, size_t n, uint8_t **out, size_t *outn)
{
    size_t cap = n / 4 * 3 + 3;
    uint8_t *bin = maif_malloc(cap);
    if (!bin) return MAIF_ENOMEM;
    const int variants[] = {sodium_base64_VARIANT_ORIGINAL, sodium_base64_VARIANT_ORIGINAL_NO_PADDING};
    for (size_t v = 0; v < 2; v++) {
        size_t len = 0;
        const char *end = NULL;
        if (sodium_base642bin(bin, cap, s, n, " \t\r\n", &len, &end, variants[v]) == 0 && end == s + n) {
            *out = bin;
            *outn = len;
            return MAIF_OK;
        }
    }
    maif_free(bin);
    return MAIF_EINVAL;
}

static int from_object(maif_block_draft **out, json_t *o)
{
    if (!json_is_object(o)) return fail(MAIF_EINVAL, "expected a JSON object");
    const char *k, *src_key = NULL;
    json_t *v;
    json_object_foreach(o, k, v)
    {
        if (!strcmp(k, "text") || !strcmp(k, "file") || !strcmp(k, "base64") || !strcmp(k, "vector")) {
            if (src_key)
                return fail(MAIF_EINVAL,
                            "give exactly one of \"text\", \"file\", \"base64\", \"vector\" (got \"%s\" and \"%s\")",
                            src_key, k);
            src_key = k;
        } else if (strcmp(k, "type") != 0 && strcmp(k, "meta") != 0 && strcmp(k, "compress") != 0) {
            return fail(MAIF_EINVAL, "unknown key \"%.64s\"", k);
        }
    }
    json_t *jt = json_object_get(o, "type");
    if (!jt) return fail(MAIF_EINVAL, "missing \"type\"");
    uint32_t type;
    if (!json_is_string(jt) || maif_type_parse(json_string_value(jt), &type) != MAIF_OK)
        return fail(MAIF_EINVAL, "unknown type %.64s", json_is_string(jt) ? json_string_value(jt) : "(not a string)");
    if (!src_key) return fail(MAIF_EINVAL, "missing payload: give one of \"text\", \"file\", \"base64\", \"vector\"");
    json_t *jc = json_object_get(o, "compress");
    int codec = 0, level = 0;
    if (jc && (!json_is_string(jc) || maif_codec_parse(json_string_value(jc), &codec, &level) != MAIF_OK))
        return fail(MAIF_EINVAL, "\"compress\": %s",
                    json_is_string(jc) ? maif_last_errmsg() : "must be a string such as \"zstd:3\" or \"lz4\"");
    json_t *meta = json_object_get(o, "meta");
    if (meta && !json_is_object(meta)) return fail(MAIF_EINVAL, "\"meta\" must be a JSON object");
    json_t *src = json_object_get(o, src_key);
    int is_vector = strcmp(src_key, "vector") == 0;
    if (is_vector && type != MAIF_TYPE_EMBEDDING)
        return fail(MAIF_EINVAL, "\"vector\" is only allowed for type embedding");
    if (is_vector ? !json_is_array(src) : !json_is_string(src))
        return fail(MAIF_EINVAL, "\"%s\" must be %s", src_key, is_vector ? "an array" : "a string");

    maif_block_draft *d = draft_alloc(type);
    if (!d) return fail(MAIF_ENOMEM, "out of memory");
    d->meta = meta ? json_incref(meta) : NULL; /* o is freed by the caller; the reference keeps meta */
    d->has_codec = jc != NULL;
    d->codec = codec;
    d->level = level;
    int rc = MAIF_OK;
    if (is_vector) {
        rc = vector_embedding(d, src);
    } else if (!strcmp(src_key, "text")) {
        rc = take_bytes(d, json_string_value(src), json_string_length(src));
    } else if (!strcmp(src_key, "file")) {
        const char *fp = json_string_value(src);
        if (strlen(fp) != json_string_length(src) || !*fp) rc = fail(MAIF_EINVAL, "\"file\" is not a usable path");
        else if (!(d->file = maif_strdup(fp))) rc = fail(MAIF_ENOMEM, "out of memory");
        d->pending = 1;
    } else {
        rc = b64_decode(json_string_value(src), json_string_length(src), &d->payload, &d->payload_size);
        if (rc) rc = fail(rc, rc == MAIF_ENOMEM ? "out of memory" : "\"base64\" is not valid base64");
        /* raw bytes: the same checks as bytes from a file, except that an
         * embedding is float32 already rather than JSON */
        else if (type == MAIF_TYPE_EMBEDDING) rc = raw_embedding(d);
        else if (type == MAIF_TYPE_TEXT && !maif_utf8_valid(d->payload, d->payload_size))
            rc = fail(MAIF_EINVAL, "text is not valid UTF-8");
    }
    if (!rc) rc = finish(d); /* the one serialisation of the metadata */
    if (rc) {
        maif_block_draft_free(d);
        return rc;
    }
    *out = d;
    return MAIF_OK;
}

/* A line the one-pass scanner took (draft_fast.h): the same checks, in
 * the same order, as from_object for that shape. Returns 1 with *rc set,
 * or 0 to leave the line to jansson (which then words any error). */
static int from_fast(maif_block_draft **out, maif_draft_fast *f, int *rc)
{
    uint32_t type;
    int codec = 0, level = 0;
    if (maif_type_parse((const char *)f->type.data, &type) != MAIF_OK || type == MAIF_TYPE_EMBEDDING) return 0;
    if (f->has_compress && maif_codec_parse((const char *)f->compress.data, &codec, &level) != MAIF_OK) return 0;
    if (f->meta.len > MAIF_META_MAX) return 0;
    maif_block_draft *d = draft_alloc(type);
    if (!d) {
        *rc = fail(MAIF_ENOMEM, "out of memory");
        return 1;
    }
    d->has_codec = f->has_compress;
    d->codec = codec;
    d->level = level;
    *rc = take_bytes(d, f->text.data, f->text.len);
    if (!*rc && f->has_meta && maif_buf_append(&d->meta_c, f->meta.data, f->meta.len))
        *rc = fail(MAIF_ENOMEM, "out of memory");
    if (*rc) maif_block_draft_free(d);
    else *out = d;
    return 1;
}

int maif_block_draft_from_json(maif_block_draft **out, const char *json, size_t n)
{
    if (!out || (!json && n)) return MAIF_EINVAL;
    *out = NULL;
    if (n > MAIF_PARSE_MAX) return fail(MAIF_ELIMIT, "line of %zu bytes is over the %zu-byte limit", n,
                                        (size_t)MAIF_PARSE_MAX);
    maif_draft_fast f = {0};
    int frc = 0, took = json && maif_draft_fast_scan(json, n, &f) && from_fast(out, &f, &frc);
    maif_draft_fast_free(&f);
    if (took) return frc;
    return maif_draft_from_json_tree(out, json, n);
}

int maif_draft_from_json_tree(maif_block_draft **out, const char *json, size_t n)
{
    *out = NULL;
    json_error_t je;
    json_t *o = json_loadb(json ? json : "", n, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
    if (!o) return fail(MAIF_EJSON, "invalid JSON: %s (column %d)", je.text, je.column);
    int rc = from_object(out, o);
    json_decref(o);
    return rc;
}

int maif_draft_codec(const maif_block_draft *d, int *codec, int *level)
{
    *codec = d->codec;
    *level = d->level;
    return d->has_codec;
}

uint32_t maif_block_draft_type(const maif_block_draft *d) { return d ? d->type : 0; }

const char *maif_block_draft_file(const maif_block_draft *d) { return d ? d->file : NULL; }

int maif_block_draft_pending(const maif_block_draft *d) { return d ? d->pending : 0; }

int maif_block_draft_set_size(maif_block_draft *d, uint64_t n)
{
    if (!d || !d->pending || n > SIZE_MAX) return fail(MAIF_EINVAL, "maif_block_draft_set_size: not a pending draft");
    d->announced = n;
    return MAIF_OK;
}

int maif_block_draft_spec(const maif_block_draft *d, maif_block_spec *spec)
{
    if (!d || !spec) return MAIF_EINVAL;
    memset(spec, 0, sizeof *spec);
    spec->type = d->type;
    spec->payload = d->pending ? NULL : d->payload;
    spec->payload_size = d->pending ? 0 : d->payload_size;
    spec->meta_json = d->meta_c.len ? (const char *)d->meta_c.data : NULL;
    spec->meta_size = d->meta_c.len;
    return d->pending ? MAIF_ESTATE : MAIF_OK;
}

void maif_block_draft_free(maif_block_draft *d)
{
    if (!d) return;
    maif_free(d->payload);
    json_decref(d->meta);
    maif_buf_free(&d->meta_c);
    maif_free(d->file);
    maif_free(d);
}

/* ------------------------------------------------------ adding a draft */

/* A source that lets text through only while it is valid UTF-8; a
 * sequence cut by a chunk boundary is carried to the next chunk. */
typedef struct utf8_src {
    maif_read_fn read;
    void *ctx;
    unsigned char carry[4];
    size_t ncarry;
    int bad;
} utf8_src;

static int64_t utf8_read(void *ctx, void *buf, size_t cap)
{
    utf8_src *s = ctx;
    int64_t k = s->read(s->ctx, buf, cap);
    if (k < 0) return k;
    unsigned char *b = buf;
    if (k == 0) {
        if (s->ncarry) goto bad; /* the text ends inside a sequence */
        return 0;
    }
    /* Check carry ‖ b as one run: complete the carried sequence first. */
    size_t start = 0;
    if (s->ncarry) {
        unsigned char seq[4];
        memcpy(seq, s->carry, s->ncarry);
        size_t want = seq[0] >= 0xf0 ? 4 : seq[0] >= 0xe0 ? 3 : 2, have = s->ncarry;
        while (have < want && start < (size_t)k) seq[have++] = b[start++];
        if (have < want) {
            memcpy(s->carry, seq, have);
            s->ncarry = have;
            return k;
        }
        if (!maif_utf8_valid(seq, want)) goto bad;
        s->ncarry = 0;
    }
    size_t tail = utf8_tail(b + start, (size_t)k - start);
    if (!maif_utf8_valid(b + start, (size_t)k - start - tail)) goto bad;
    memcpy(s->carry, b + (size_t)k - tail, tail);
    s->ncarry = tail;
    return k;
bad:
    s->bad = 1;
    return MAIF_EINVAL;
}

int maif_writer_add_draft(maif_writer *w, const maif_block_draft *d, maif_read_fn read, void *ctx, uint64_t limit,
                          uint8_t id_out[MAIF_ID_BYTES])
{
    if (!w || !d || (d->pending && !read)) return MAIF_EINVAL;
    maif_block_spec spec;
    int rc = maif_block_draft_spec(d, &spec); /* MAIF_ESTATE: the payload is still to come */
    if (rc && !(rc == MAIF_ESTATE && d->pending)) return rc;
    /* a JSONL "compress" holds for this block alone */
    maif_stage_config saved = w->stages;
    if (d->has_codec && (rc = maif_writer_set_codec(w, d->codec, d->level))) return rc;
    /* the draft's metadata is canonical already: the writer copies it as is */
    w->meta_trusted = 1;
    if (!d->pending) {
        rc = maif_writer_add(w, &spec, id_out);
    } else if (d->type == MAIF_TYPE_EMBEDDING || d->type == MAIF_TYPE_JSON || d->type == MAIF_TYPE_KNOWLEDGE) {
        /* parsed whole: read into memory, bounded by MAIF_PARSE_MAX */
        uint64_t cap = limit && limit < MAIF_PARSE_MAX ? limit : MAIF_PARSE_MAX;
        maif_buf b = {0};
        rc = MAIF_OK;
        for (;;) {
            size_t grow = b.len < (1u << 20) ? 1u << 16 : b.len; /* never past cap + 1 bytes */
            if (grow > cap + 1 - b.len) grow = (size_t)(cap + 1 - b.len);
            if (b.cap - b.len < 4096 && maif_buf_reserve(&b, grow)) {
                rc = nat_writer_fail(w, MAIF_ENOMEM, "out of memory");
                break;
            }
            size_t room = b.cap - b.len;
            if (room > cap - b.len + 1) room = (size_t)(cap - b.len + 1);
            int64_t k = read(ctx, b.data + b.len, room);
            if (k < 0) {
                rc = nat_writer_fail(w, (int)k, "payload source failed: %s", maif_strerror((int)k));
                break;
            }
            if (k == 0) break;
            b.len += (size_t)k;
            if (b.len > cap) {
                rc = nat_writer_fail(w, MAIF_ELIMIT, "payload larger than the limit of %llu bytes for parsed payloads",
                                     (unsigned long long)cap);
                break;
            }
        }
        maif_block_draft *full = NULL;
        if (!rc) {
            full = draft_alloc(d->type);
            if (!full) rc = nat_writer_fail(w, MAIF_ENOMEM, "out of memory");
            else if (d->meta && !(full->meta = json_deep_copy(d->meta))) rc = nat_writer_fail(w, MAIF_ENOMEM, "out of memory");
            else if ((rc = take_bytes(full, b.data, b.len)) || (rc = finish(full)))
                nat_writer_fail(w, rc, "%s", maif_last_errmsg());
        }
        maif_buf_free(&b);
        if (!rc) rc = maif_block_draft_spec(full, &spec);
        if (!rc) rc = maif_writer_add(w, &spec, id_out);
        maif_block_draft_free(full);
    } else if (d->type == MAIF_TYPE_TEXT) {
        spec.payload_size = (size_t)d->announced; /* payload NULL: the announced size, or 0 */
        utf8_src s = {read, ctx, {0}, 0, 0};
        rc = maif_writer_add_stream(w, &spec, utf8_read, &s, limit, id_out);
        if (s.bad) nat_writer_fail(w, MAIF_EINVAL, "text is not valid UTF-8 (store it with --type binary)");
    } else {
        spec.payload_size = (size_t)d->announced;
        rc = maif_writer_add_stream(w, &spec, read, ctx, limit, id_out);
    }
    w->meta_trusted = 0;
    w->stages.codec = saved.codec;
    w->stages.level = saved.level;
    return rc;
}
