/*
 * v21_ops.c — the MAIF 2.1 format's operations table (format/format.h),
 * over the parser (v21_parse.c), the strict verifier (v21_verify.c) and
 * the writer core (v21_write.c).
 */
#include <string.h>

#include "format/format.h"
#include "format/v21/v21_internal.h"
#include "util/alloc.h"
#include "util/common.h"

static int v21_ops_open(void **state, const uint8_t *base, uint64_t size, char *err, size_t errcap)
{
    maif21 *m = NULL;
    int rc = maif21_open(&m, base, (size_t)size, err, errcap);
    if (rc == MAIF_OK) *state = m;
    return rc;
}

static void v21_ops_close(void *state) { maif21_close(state); }
static uint64_t v21_ops_count(const void *state) { return maif21_count(state); }

static int v21_ops_block(const void *state, uint64_t i, maif_block *out, char *err, size_t errcap)
{
    int rc = maif21_block(state, i, out);
    if (rc) maif_set_err(err, errcap, rc, "block %llu: %s", (unsigned long long)i, maif_strerror(rc));
    return rc;
}

/* 2.1 payloads are stored as they are: decoding copies. */
static int v21_ops_decode(const void *state, uint64_t i, const void *keyring, void *dst, size_t cap, size_t *size, char *err,
                          size_t errcap)
{
    (void)keyring;
    maif_block b;
    int rc = v21_ops_block(state, i, &b, err, errcap);
    if (rc) return rc;
    if (b.codec || b.cipher)
        return maif_set_err(err, errcap, MAIF_EUNSUPPORTED, "block %llu: codec %u / cipher %u cannot be decoded",
                            (unsigned long long)i, b.codec, b.cipher);
    *size = b.payload_size;
    if (!dst && cap == 0) return MAIF_OK;
    if (b.payload_size > cap)
        return maif_set_err(err, errcap, MAIF_ELIMIT, "block %llu: the payload needs %zu bytes, the buffer holds %zu",
                            (unsigned long long)i, b.payload_size, cap);
    if (b.payload_size) memcpy(dst, b.payload, b.payload_size);
    return MAIF_OK;
}

static int v21_ops_info(const void *state, maif_info *out) { return maif21_info(state, out); }

static int v21_ops_record(void *state, uint64_t i, maif_record *out, char *err, size_t errcap)
{
    (void)err;
    (void)errcap;
    return maif21_record(state, i, out);
}

/* A block source whose compressed blocks come out decoded: 2.1 holds plain
 * payloads only, and undoing a codec loses nothing. Encrypted blocks are
 * left as they are (v21_write refuses them: writing their plaintext would
 * strip the encryption). A decoded view lives in buf until the next call,
 * which is as long as v21_write uses a view. */
typedef struct plain_source {
    const maif_block_source *inner;
    uint8_t *buf;
    size_t cap;
} plain_source;

static int plain_block(void *ctx, uint64_t i, maif_block *out)
{
    plain_source *p = ctx;
    int rc = p->inner->block(p->inner->ctx, i, out);
    if (rc || !out->codec || out->cipher) return rc;
    if (!p->inner->decode) return MAIF_EUNSUPPORTED;
    size_t n = 0, got = 0;
    rc = p->inner->decode(p->inner->ctx, i, NULL, 0, &n);
    if (rc != MAIF_OK && rc != MAIF_ELIMIT) return rc;
    if (n > p->cap || !p->buf) {
        uint8_t *b = maif_realloc(p->buf, n ? n : 1);
        if (!b) return MAIF_ENOMEM;
        p->buf = b;
        p->cap = n;
    }
    if ((rc = p->inner->decode(p->inner->ctx, i, p->buf, n, &got))) return rc;
    out->payload = p->buf;
    out->payload_size = got;
    out->codec = 0;
    return MAIF_OK;
}

static int v21_ops_write_from(const maif_block_source *src, const char *path, const maif_key *key, char *err,
                              size_t errcap)
{
    const maif_info *info = src->info;
    int is21 = info->format == MAIF_FORMAT_V21;
    plain_source ps = {src, NULL, 0};
    v21_source s = {
        .ctx = &ps,
        .count = src->count,
        .block = plain_block,
        .created_us = info->created_us,
        .agent_did = is21 ? info->agent : NULL,
        .agent = is21 ? NULL : info->agent,
    };
    const char *agent_id = info->agent[0] ? maif_strip_did(info->agent) : NULL;
    int rc = v21_write(&s, path, key, agent_id, err, errcap);
    maif_free(ps.buf);
    return rc;
}

const maif_format_ops maif_format_v21 = {
    .id = MAIF_FORMAT_V21,
    .name = "2.1",
    .detect = maif21_detect,
    .open = v21_ops_open,
    .close = v21_ops_close,
    .count = v21_ops_count,
    .block = v21_ops_block,
    .decode = v21_ops_decode,
    .info = v21_ops_info,
    .record = v21_ops_record,
    .verify = maif21_verify,
    .write_from = v21_ops_write_from,
};
