/*
 * serve_read.c — reading blocks: the access checks a read shares with
 * the other read routes (the artifact's policy for the token's subject),
 * a page of block summaries, and one block's payload (raw with its type's
 * content type, or as JSON). Everything runs on the artifact's shared
 * reader, held for the length of the call (serve_artifacts.c).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "serve.h"

int srv_check_subject(srv_req *q, char *err, size_t cap)
{
    int untrusted;
    const maif_policy *p = srv_policy(q->a, &untrusted);
    if (untrusted) {
        snprintf(err, cap, "the artifact's policy cannot be established: every read is refused");
        return 403;
    }
    if (!p) return 0;
    if (!q->tok || !q->tok->has_subject) {
        snprintf(err, cap, "the artifact has an access policy and the token names no subject");
        return 403;
    }
    return 0;
}

int srv_check_read(srv_req *q, uint64_t index, char *err, size_t cap)
{
    int st = srv_check_subject(q, err, cap);
    if (st) return st;
    int untrusted;
    if (!srv_policy(q->a, &untrusted)) return 0;
    int rc = maif_reader_check_access(q->a->r, index, q->tok->subject, NULL, 0);
    if (rc == MAIF_OK) return 0;
    const char *m = maif_reader_errmsg(q->a->r);
    snprintf(err, cap, "the artifact's policy denies this read: %s", m && *m ? m : maif_strerror(rc));
    return rc == MAIF_EACCESS ? 403 : srv_status_for(rc);
}

static json_t *meta_json(const maif_block *b)
{
    if (!b->meta || !b->meta_size) return json_null();
    json_t *m = json_loadb(b->meta, b->meta_size, 0, NULL);
    return m ? m : json_stringn_nocheck(b->meta, b->meta_size);
}

static const char *type_label(uint32_t t, char out[5])
{
    const char *n = maif_type_name(t);
    return n ? n : maif_type_fourcc(t, out);
}

static uint64_t commit_of(const srv_commit *c, size_t nc, uint64_t index)
{
    size_t lo = 0, hi = nc; /* the first commit whose block count exceeds index */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (c[mid].blocks > index) hi = mid;
        else lo = mid + 1;
    }
    return lo < nc ? c[lo].seq : UINT64_MAX;
}

enum MHD_Result srv_route_blocks(srv_req *q)
{
    uint64_t off, lim;
    if (srv_arg_u64(q, "offset", UINT64_MAX / 2, 0, &off) < 0)
        return srv_reply_error(q, 400, "offset must be a non-negative integer");
    if (srv_arg_u64(q, "limit", SRV_PAGE_MAX, 100, &lim) < 0)
        return srv_reply_error(q, 400, "limit must be an integer 0..%d", SRV_PAGE_MAX);
    srv_artifact *a = q->a;
    char err[256];
    srv_reader_acquire(a, err, sizeof err);
    uint64_t total = maif_reader_count(a->r);
    const srv_commit *cm = NULL;
    size_t nc = 0;
    if (srv_commits(a, &cm, &nc)) nc = 0;
    json_t *arr = json_array();
    for (uint64_t i = off; i < total && i < off + lim; i++) {
        maif_block b;
        char t5[5], hex[2 * MAIF_ID_BYTES + 1];
        if (maif_reader_block(a->r, i, &b) != MAIF_OK) {
            json_array_append_new(arr, json_pack("{s:I,s:s}", "index", (json_int_t)i, "error", "damaged"));
            continue;
        }
        size_t ds = b.payload_size;
        if ((b.codec || b.cipher) && maif_reader_block_decoded_size(a->r, i, &ds) != MAIF_OK) ds = 0;
        json_t *o = json_pack("{s:I,s:s,s:s,s:I,s:I,s:s,s:s,s:o,s:I}", "index", (json_int_t)i, "id",
                              maif_hex(b.id, MAIF_ID_BYTES, hex), "type", type_label(b.type, t5), "size", (json_int_t)ds,
                              "stored_size", (json_int_t)b.payload_size, "codec", maif_codec_name(b.codec), "cipher",
                              b.cipher ? "encrypted" : "none", "meta", meta_json(&b), "timestamp_us",
                              (json_int_t)b.timestamp_us);
        uint64_t c = nc ? commit_of(cm, nc, i) : UINT64_MAX;
        json_object_set_new(o, "commit", c == UINT64_MAX ? json_null() : json_integer((json_int_t)c));
        if (b.has_supersedes) json_object_set_new(o, "supersedes", json_string(maif_hex(b.supersedes, MAIF_ID_BYTES, hex)));
        json_array_append_new(arr, o);
    }
    srv_reader_release(a);
    return srv_reply_json(q, 200, json_pack("{s:I,s:I,s:o}", "total", (json_int_t)total, "offset", (json_int_t)off,
                                            "blocks", arr));
}

static const char *content_type_of(const maif_block *b, const uint8_t *p, size_t n)
{
    switch (b->type) {
    case MAIF_TYPE_TEXT: return "text/plain; charset=utf-8";
    case MAIF_TYPE_JSON:
    case MAIF_TYPE_KNOWLEDGE:
    case MAIF_TYPE_META: return "application/json";
    case MAIF_TYPE_IMAGE:
        if (n >= 8 && !memcmp(p, "\x89PNG\r\n\x1a\n", 8)) return "image/png";
        if (n >= 3 && !memcmp(p, "\xff\xd8\xff", 3)) return "image/jpeg";
        if (n >= 6 && !memcmp(p, "GIF8", 4)) return "image/gif";
        if (n >= 12 && !memcmp(p, "RIFF", 4) && !memcmp(p + 8, "WEBP", 4)) return "image/webp";
        return "application/octet-stream";
    case MAIF_TYPE_AUDIO:
        if (n >= 12 && !memcmp(p, "RIFF", 4) && !memcmp(p + 8, "WAVE", 4)) return "audio/wav";
        return "application/octet-stream";
    default: return "application/octet-stream";
    }
}

static int wants_json(srv_req *q)
{
    const char *acc = MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
    return acc && strstr(acc, "application/json") != NULL;
}

enum MHD_Result srv_route_block(srv_req *q)
{
    uint64_t index = 0;
    const char *s = q->sub;
    if (!*s || strlen(s) > 19) return srv_reply_error(q, 400, "the block index must be a non-negative integer");
    for (const char *p = s; *p; p++) {
        if (!isdigit((unsigned char)*p)) return srv_reply_error(q, 400, "the block index must be a non-negative integer");
        index = index * 10 + (uint64_t)(*p - '0');
    }
    srv_artifact *a = q->a;
    char err[256];
    srv_reader_acquire(a, err, sizeof err);
    maif_block b;
    int rc = maif_reader_block(a->r, index, &b);
    if (rc) {
        srv_reader_release(a);
        return srv_reply_error(q, rc == MAIF_ENOTFOUND ? 404 : 500, "block %llu: %s", (unsigned long long)index,
                               rc == MAIF_ENOTFOUND ? "no such block" : maif_strerror(rc));
    }
    int st = srv_check_read(q, index, err, sizeof err);
    if (st) {
        srv_reader_release(a);
        return srv_reply_error(q, st, "%s", err);
    }
    size_t n = 0;
    rc = maif_reader_block_decoded_size(a->r, index, &n);
    uint8_t *buf = NULL;
    if (rc == MAIF_OK && !(buf = malloc(n ? n : 1))) rc = MAIF_ENOMEM;
    size_t got = 0;
    if (rc == MAIF_OK) rc = maif_reader_block_decode(a->r, index, buf, n, &got);
    if (rc) {
        free(buf);
        srv_reader_release(a);
        if (rc == MAIF_EACCESS) return srv_reply_error(q, 403, "block %llu is encrypted and the server holds no key for it", (unsigned long long)index);
        return srv_reply_error(q, srv_status_for(rc) == 422 ? 500 : srv_status_for(rc), "block %llu: %s",
                               (unsigned long long)index, maif_strerror(rc));
    }
    if (!wants_json(q)) {
        const char *ct = content_type_of(&b, buf, got);
        srv_reader_release(a);
        return srv_reply_raw(q, 200, ct, buf, got, 1);
    }
    char t5[5], hex[2 * MAIF_ID_BYTES + 1];
    json_t *o = json_pack("{s:I,s:s,s:s,s:o}", "index", (json_int_t)index, "id", maif_hex(b.id, MAIF_ID_BYTES, hex),
                          "type", type_label(b.type, t5), "meta", meta_json(&b));
    srv_reader_release(a);
    if ((b.type == MAIF_TYPE_TEXT || b.type == MAIF_TYPE_JSON || b.type == MAIF_TYPE_KNOWLEDGE) &&
        maif_utf8_valid(buf, got)) {
        json_object_set_new(o, "text", json_stringn(got ? (const char *)buf : "", got));
    } else {
        size_t bl = sodium_base64_ENCODED_LEN(got, sodium_base64_VARIANT_ORIGINAL);
        char *b64 = malloc(bl);
        if (!b64) {
            free(buf);
            json_decref(o);
            return srv_reply_error(q, 500, "out of memory");
        }
        sodium_bin2base64(b64, bl, buf, got, sodium_base64_VARIANT_ORIGINAL);
        json_object_set_new(o, "base64", json_string(b64));
        free(b64);
    }
    free(buf);
    return srv_reply_json(q, 200, o);
}
