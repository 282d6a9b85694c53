/*
 * audit.c — signed control blocks: the audit trail (AUDT), erasure records
 * (ERAS) and policies (POLY) that the privacy engine appends to an
 * artifact's own chain.
 *
 * Each is a block stored as is (no codec, no cipher) whose metadata is
 * {"actor": hex Ed25519 public key, "sig": hex signature}, the signature
 * (by the writer's key) being over
 *   "MAIF-CONTROL-V1\0" (16) ‖ file_id (16) ‖ type (4, big-endian) ‖ payload,
 * so a control block stands on its own (it names who did what, provably),
 * besides being covered by the signed commit that seals it like any block.
 * An audit payload is canonical JSON {"action": ..., ...}.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "crypto/crypto.h"
#include "format/native/native_writer.h"
#include "privacy/privacy.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/common.h"
#include "util/pyjson.h"

static const char CONTROL_MAGIC[16] = "MAIF-CONTROL-V1";

static void control_msg(uint8_t *msg, const uint8_t file_id[MAIF_ID_BYTES], uint32_t type)
{
    memcpy(msg, CONTROL_MAGIC, 16);
    memcpy(msg + 16, file_id, MAIF_ID_BYTES);
    msg[32] = (uint8_t)(type >> 24);
    msg[33] = (uint8_t)(type >> 16);
    msg[34] = (uint8_t)(type >> 8);
    msg[35] = (uint8_t)type;
}

int priv_add_plain(maif_writer *w, const maif_block_spec *sp, uint8_t id_out[MAIF_ID_BYTES])
{
    maif_stage_config none = {0};
    maif_stage_config saved = w->stages; /* control blocks are stored as is */
    uint8_t saved_kid[MAIF_KEY_ID_MAX];
    memcpy(saved_kid, w->stage_key_id, sizeof saved_kid);
    (void)nat_writer_set_stages(w, &none);
    int rc = maif_writer_add(w, sp, id_out);
    w->stages = saved;
    memcpy(w->stage_key_id, saved_kid, sizeof saved_kid);
    return rc;
}

int priv_add_signed(maif_writer *w, uint32_t type, const void *payload, size_t n, const uint8_t *supersedes,
                    uint8_t id_out[MAIF_ID_BYTES])
{
    if (!w->key) return nat_writer_fail(w, MAIF_ESTATE, "the writer has no signing key");
    if (n > (16u << 20)) return nat_writer_fail(w, MAIF_ELIMIT, "a control block's payload is at most 16 MiB");
    size_t mlen = 36 + n;
    uint8_t *msg = maif_malloc(mlen);
    if (!msg) return nat_writer_fail(w, MAIF_ENOMEM, "out of memory");
    control_msg(msg, w->file_id, type);
    if (n) memcpy(msg + 36, payload, n);
    uint8_t sig[MAIF_SIGNATURE_BYTES];
    maif_key_sign(w->key, msg, mlen, sig);
    maif_free(msg);
    char meta[32 + 2 * 32 + 2 * 64 + 1], hpk[65], hsig[129];
    snprintf(meta, sizeof meta, "{\"actor\":\"%s\",\"sig\":\"%s\"}", maif_hex(w->pk, 32, hpk),
             maif_hex(sig, sizeof sig, hsig));
    maif_block_spec sp = {.type = type, .payload = payload, .payload_size = n, .meta_json = meta,
                          .meta_size = strlen(meta), .supersedes = supersedes};
    return priv_add_plain(w, &sp, id_out);
}

static int action_ok(const char *a)
{
    size_t n = strlen(a);
    if (n == 0 || n > 32) return 0;
    for (size_t i = 0; i < n; i++)
        if (!((a[i] >= 'a' && a[i] <= 'z') || a[i] == '-')) return 0;
    return 1;
}

int maif_writer_audit(maif_writer *w, const char *action, const char *fields_json, size_t n,
                      uint8_t id_out[MAIF_ID_BYTES])
{
    if (!w || !action || (!fields_json && n)) return maif_set_last_err(MAIF_EINVAL, "maif_writer_audit: NULL argument");
    if (!action_ok(action))
        return maif_set_last_err(nat_writer_fail(w, MAIF_EINVAL, "audit action '%.40s': 1 to 32 of a-z and '-'", action),
                                 "%s", maif_writer_errmsg(w));
    json_t *obj;
    if (fields_json && n) {
        json_error_t je;
        obj = json_loadb(fields_json, n, JSON_REJECT_DUPLICATES, &je);
        if (!obj || !json_is_object(obj)) {
            json_decref(obj);
            int rc = nat_writer_fail(w, MAIF_EJSON, "audit fields: not a JSON object");
            return maif_set_last_err(rc, "%s", maif_writer_errmsg(w));
        }
        if (json_object_get(obj, "action")) {
            json_decref(obj);
            int rc = nat_writer_fail(w, MAIF_EJSON, "audit fields: \"action\" is set by the call");
            return maif_set_last_err(rc, "%s", maif_writer_errmsg(w));
        }
    } else {
        obj = json_object();
    }
    maif_buf out = {0};
    int rc = obj && json_object_set_new(obj, "action", json_string(action)) == 0 ? MAIF_OK : MAIF_ENOMEM;
    if (!rc) rc = maif_json_dump(obj, MAIF_JSON_COMPACT, &out);
    json_decref(obj);
    if (rc) {
        maif_buf_free(&out);
        rc = nat_writer_fail(w, rc, "audit fields: cannot serialise them");
        return maif_set_last_err(rc, "%s", maif_writer_errmsg(w));
    }
    rc = priv_add_signed(w, MAIF_TYPE_AUDIT, out.data, out.len, NULL, id_out);
    maif_buf_free(&out);
    if (rc) maif_set_last_err(rc, "%s", maif_writer_errmsg(w));
    return rc;
}

/* The hex value of key in a flat canonical JSON object (our metadata), into
 * out (n bytes); 0 if found and well formed. */
static int meta_hex(const char *meta, size_t len, const char *key, uint8_t *out, size_t n)
{
    char pat[16];
    snprintf(pat, sizeof pat, "\"%s\":\"", key);
    size_t pl = strlen(pat);
    for (size_t i = 0; i + pl + 2 * n + 1 <= len; i++) {
        if (memcmp(meta + i, pat, pl) != 0) continue;
        const char *h = meta + i + pl;
        if (h[2 * n] != '"') return -1;
        char tmp[129];
        if (2 * n >= sizeof tmp) return -1;
        memcpy(tmp, h, 2 * n);
        tmp[2 * n] = 0;
        return maif_unhex(tmp, out, n) == MAIF_OK ? 0 : -1;
    }
    return -1;
}

int priv_check_signed(maif_reader *r, const maif_block *b, uint8_t actor[MAIF_PUBKEY_BYTES])
{
    maif_info info;
    if (maif_reader_info(r, &info) != MAIF_OK) return MAIF_EFORMAT;
    uint8_t sig[MAIF_SIGNATURE_BYTES];
    /* exactly {"actor":"<64 hex>","sig":"<128 hex>"} */
    if (!b->meta || b->meta_size != sizeof "{\"actor\":\"\",\"sig\":\"\"}" - 1 + 64 + 128 || b->codec || b->cipher ||
        meta_hex(b->meta, b->meta_size, "actor", actor, MAIF_PUBKEY_BYTES) ||
        meta_hex(b->meta, b->meta_size, "sig", sig, sizeof sig))
        return MAIF_EVERIFY;
    if (b->payload_size > (16u << 20)) return MAIF_EVERIFY; /* a writer never makes one larger */
    size_t mlen = 36 + b->payload_size;
    uint8_t *msg = maif_malloc(mlen ? mlen : 1);
    if (!msg) return MAIF_ENOMEM;
    control_msg(msg, info.file_id, b->type);
    if (b->payload_size) memcpy(msg + 36, b->payload, b->payload_size);
    int ok = maif_ed25519_verify(actor, msg, mlen, sig);
    maif_free(msg);
    return ok ? MAIF_OK : MAIF_EVERIFY;
}

int maif_reader_check_signed(maif_reader *r, uint64_t index, uint8_t actor[MAIF_PUBKEY_BYTES])
{
    if (!r || !actor) return maif_set_last_err(MAIF_EINVAL, "maif_reader_check_signed: NULL argument");
    maif_block b;
    int rc = maif_reader_block(r, index, &b);
    if (rc) return rc;
    if (b.type != MAIF_TYPE_AUDIT && b.type != MAIF_TYPE_ERASURE && b.type != MAIF_TYPE_POLICY)
        return maif_reader_fail(r, MAIF_EINVAL, "not an audit, erasure or policy block");
    rc = priv_check_signed(r, &b, actor);
    if (rc == MAIF_EVERIFY)
        return maif_reader_fail(r, rc, "the control block's own signature does not verify");
    if (rc) return maif_reader_fail(r, rc, maif_strerror(rc));
    return MAIF_OK;
}

int priv_audit_recipient(const maif_block *b, char *action, size_t cap, uint8_t pk[MAIF_PUBKEY_BYTES])
{
    json_error_t je;
    json_t *o = json_loadb((const char *)b->payload, b->payload_size, JSON_REJECT_DUPLICATES, &je);
    int rc = MAIF_EFORMAT;
    const char *a = json_string_value(json_object_get(o, "action"));
    const char *h = json_string_value(json_object_get(o, "recipient"));
    if (a && h && strlen(a) < cap && strlen(h) == 2 * MAIF_PUBKEY_BYTES &&
        maif_unhex(h, pk, MAIF_PUBKEY_BYTES) == MAIF_OK) {
        strcpy(action, a);
        rc = MAIF_OK;
    }
    json_decref(o);
    return rc;
}
