/*
 * sealed.c — encrypted metadata fields (FORMAT.md §5.7, "Sealed
 * metadata"). A block's metadata stays public JSON; a private part of it
 * can be sealed into the one field "sealed_meta": hex of
 *     nonce (24) ‖ XChaCha20-Poly1305 ciphertext ‖ tag (16)
 * under a key derived from the block's data key (HKDF-SHA256, info
 * "maif-sealed-meta-v1"), with associated data
 *     "maif-sealed-meta-v1" ‖ file_id ‖ block id ‖ type (4, BE) ‖ key_id length (1) ‖ key_id,
 * so the field opens only in its own block, with the key its payload uses.
 * The plaintext is a canonical JSON object. Like the rest of the metadata
 * the sealed field is chained forever: shredding the block's key makes it
 * unreadable, but it is never removed.
 */
#include <jansson.h>
#include <string.h>

#include "api/api.h"
#include "codec/codec.h"
#include "crypto/aead.h"
#include "crypto/crypto.h"
#include "format/native/native.h"
#include "format/native/native_writer.h"
#include "privacy/privacy.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/common.h"
#include "util/pyjson.h"

#define SEAL_INFO     "maif-sealed-meta-v1"
#define SEAL_INFO_LEN 19
#define SEALED_MAX    (64u << 10) /* bytes of private metadata (canonical JSON) */

static size_t seal_ad(uint8_t *ad, const uint8_t *file_id, const uint8_t *block_id, uint32_t type,
                      const uint8_t *key_id, size_t key_id_len)
{
    size_t n = 0;
    memcpy(ad, SEAL_INFO, SEAL_INFO_LEN);
    n = SEAL_INFO_LEN;
    memcpy(ad + n, file_id, 16);
    n += 16;
    memcpy(ad + n, block_id, 16);
    n += 16;
    wr32be(ad + n, type);
    n += 4;
    ad[n++] = (uint8_t)key_id_len;
    memcpy(ad + n, key_id, key_id_len);
    return n + key_id_len;
}

static int meta_key(uint8_t *out, const maif_keysrc *ks, const uint8_t *key_id, size_t key_id_len)
{
    const uint8_t *dk = NULL;
    if (!ks || !ks->lookup || ks->lookup(ks, key_id, key_id_len, &dk) != MAIF_OK || !dk) return MAIF_EACCESS;
    maif_hkdf_sha256(out, 32, dk, 32, NULL, 0, (const uint8_t *)SEAL_INFO, SEAL_INFO_LEN);
    return MAIF_OK;
}

int maif_writer_add_sealed(maif_writer *w, const maif_block_spec *spec, const char *private_json, size_t n,
                           uint8_t id_out[MAIF_ID_BYTES])
{
    if (!w || !spec || !private_json) return maif_set_last_err(MAIF_EINVAL, "maif_writer_add_sealed: NULL argument");
    if (!w->stages.cipher || !w->stages.keyring || !w->stages.key_id)
        return maif_set_last_err(nat_writer_fail(w, MAIF_ESTATE, "sealed metadata needs encryption on "
                                                                 "(maif_writer_encrypt)"), "%s", maif_writer_errmsg(w));
    if (n > SEALED_MAX)
        return maif_set_last_err(nat_writer_fail(w, MAIF_ELIMIT, "sealed metadata is at most %u bytes", SEALED_MAX),
                                 "%s", maif_writer_errmsg(w));
    char jerr[160];
    maif_buf plain = {0}, meta = {0};
    int rc = maif_json_canonicalize(private_json, n, MAIF_JSON_COMPACT, &plain, jerr, sizeof jerr);
    if (rc) {
        maif_buf_free(&plain);
        return maif_set_last_err(nat_writer_fail(w, MAIF_EJSON, "sealed metadata: %s", jerr), "%s",
                                 maif_writer_errmsg(w));
    }
    json_t *pub = NULL;
    if (spec->meta_json && spec->meta_size) {
        json_error_t je;
        pub = json_loadb(spec->meta_json, spec->meta_size, JSON_REJECT_DUPLICATES, &je);
        if (!json_is_object(pub) || json_object_get(pub, "sealed_meta")) rc = MAIF_EJSON;
    } else {
        pub = json_object();
        if (!pub) rc = MAIF_ENOMEM;
    }
    uint8_t id[MAIF_ID_BYTES], *key = maif_secret_alloc(32);
    if (!rc && !key) rc = MAIF_ENOMEM;
    if (spec->id) memcpy(id, spec->id, MAIF_ID_BYTES);
    else maif_random(id, sizeof id);
    size_t ct_len = 24 + plain.len + 16;
    uint8_t *ct = rc ? NULL : maif_malloc(ct_len);
    char *hex = rc ? NULL : maif_malloc(2 * ct_len + 1);
    if (!rc && (!ct || !hex)) rc = MAIF_ENOMEM;
    if (!rc) rc = meta_key(key, w->stages.keyring, w->stages.key_id, w->stages.key_id_len);
    if (!rc) {
        uint8_t ad[SEAL_INFO_LEN + 16 + 16 + 4 + 1 + MAIF_KEY_ID_MAX];
        size_t adl = seal_ad(ad, w->file_id, id, spec->type, w->stages.key_id, w->stages.key_id_len);
        maif_random(ct, 24);
        rc = maif_aead_seal(MAIF_AEAD_XCHACHA20, ct + 24, plain.data, plain.len, ad, adl, ct, key);
    }
    if (!rc && json_object_set_new(pub, "sealed_meta", json_string(maif_hex(ct, ct_len, hex))) != 0) rc = MAIF_ENOMEM;
    if (!rc) rc = maif_json_dump(pub, MAIF_JSON_COMPACT, &meta);
    if (!rc) {
        maif_block_spec sp = *spec;
        sp.meta_json = (const char *)meta.data;
        sp.meta_size = meta.len;
        sp.id = id;
        rc = maif_writer_add(w, &sp, id_out);
        if (rc) maif_set_last_err(rc, "%s", maif_writer_errmsg(w));
    } else if (rc == MAIF_EJSON) {
        maif_set_last_err(nat_writer_fail(w, rc, "public metadata: not a JSON object, or it has \"sealed_meta\""),
                          "%s", maif_writer_errmsg(w));
    } else {
        maif_set_last_err(nat_writer_fail(w, rc, "cannot seal the metadata: %s", maif_strerror(rc)), "%s",
                          maif_writer_errmsg(w));
    }
    if (plain.data) maif_wipe(plain.data, plain.len);
    maif_buf_free(&plain);
    maif_buf_free(&meta);
    json_decref(pub);
    maif_free(ct);
    maif_free(hex);
    if (key) maif_secret_free(key);
    return rc;
}

int maif_reader_sealed_meta(maif_reader *r, uint64_t index, char *dst, size_t cap, size_t *len)
{
    if (!r || !len || (!dst && cap)) return maif_set_last_err(MAIF_EINVAL, "maif_reader_sealed_meta: bad argument");
    *len = 0;
    maif_block b;
    int rc = maif_reader_block(r, index, &b);
    if (rc) return rc;
    char msg[256];
    if ((rc = maif_reader_gate_run(r, index, msg, sizeof msg))) return maif_reader_fail(r, rc, msg);
    const char *hex = NULL;
    json_t *m = NULL;
    if (b.meta && b.meta_size) {
        json_error_t je;
        m = json_loadb(b.meta, b.meta_size, 0, &je);
        hex = json_string_value(json_object_get(m, "sealed_meta"));
    }
    size_t hl = hex ? strlen(hex) : 0;
    if (!hex || !b.cipher) {
        json_decref(m);
        return maif_reader_fail(r, MAIF_ENOTFOUND, "the block has no sealed metadata");
    }
    if (hl % 2 || hl / 2 < 40 || hl / 2 > 24 + SEALED_MAX + 16) {
        json_decref(m);
        return maif_reader_fail(r, MAIF_EFORMAT, "sealed_meta is malformed");
    }
    size_t ct_len = hl / 2, pl = ct_len - 40;
    uint8_t *ct = maif_malloc(ct_len), *pt = maif_malloc(pl ? pl : 1), *key = maif_secret_alloc(32);
    rc = ct && pt && key ? MAIF_OK : MAIF_ENOMEM;
    if (!rc && maif_unhex(hex, ct, ct_len) != MAIF_OK) rc = MAIF_EFORMAT;
    json_decref(m);
    /* the block's key id, from its extension area */
    const uint8_t *base;
    size_t size;
    nat_rec rec;
    nat_ext ext;
    int trunc;
    char err[160];
    maif_reader_image(r, &base, &size);
    if (!rc && (maif_reader_format(r) != MAIF_FORMAT_NATIVE ||
                nat_rec_parse(base, size, b.offset, &rec, &trunc, err, sizeof err) != MAIF_OK ||
                nat_ext_parse(base + rec.ext_off, rec.ext_size, &ext) != MAIF_OK || !ext.key_id))
        rc = MAIF_EFORMAT;
    if (!rc) rc = meta_key(key, maif_reader_keysrc(r), ext.key_id, ext.key_id_len);
    if (!rc) {
        maif_info info;
        uint8_t ad[SEAL_INFO_LEN + 16 + 16 + 4 + 1 + MAIF_KEY_ID_MAX];
        rc = maif_reader_info(r, &info);
        size_t adl = rc ? 0 : seal_ad(ad, info.file_id, b.id, b.type, ext.key_id, ext.key_id_len);
        if (!rc) rc = maif_aead_open(MAIF_AEAD_XCHACHA20, pt, ct + 24, ct_len - 24, ad, adl, ct, key);
    }
    if (!rc) {
        *len = pl;
        if (pl + 1 > cap) rc = MAIF_ELIMIT;
        else {
            memcpy(dst, pt, pl);
            dst[pl] = '\0';
        }
    }
    if (pt) maif_wipe(pt, pl);
    maif_free(pt);
    maif_free(ct);
    if (key) maif_secret_free(key);
    if (rc == MAIF_ELIMIT) return maif_reader_fail(r, rc, "the buffer is too small for the sealed metadata");
    if (rc == MAIF_EACCESS) return maif_reader_fail(r, rc, "no usable key for this block's sealed metadata");
    if (rc == MAIF_EVERIFY) return maif_reader_fail(r, rc, "the sealed metadata fails authentication");
    if (rc) return maif_reader_fail(r, rc, rc == MAIF_EFORMAT ? "sealed_meta is malformed" : maif_strerror(rc));
    return MAIF_OK;
}
