/*
 * native_decode.c — a native block's payload, decoded.
 *
 * The view (nat_block_view) hands out the stored bytes; this undoes the
 * stages the record names (codec, then cipher; codec/codec.h) into the
 * caller's buffer. Everything the stages need comes from the record's
 * extension area, walked with the same rules as the view and the
 * verifier, and the decoded size it claims is checked against
 * NAT_PAYLOAD_MAX and against what the stages can make of the stored
 * bytes before a byte is written.
 */
#include <string.h>

#include "codec/codec.h"
#include "codec/zdict.h"
#include "format/native/native.h"
#include "util/common.h"

_Static_assert(MAIF_DECODED_MAX == NAT_PAYLOAD_MAX, "the public decode limit is the format's payload limit");

static int decode_any(const uint8_t *base, uint64_t limit, uint64_t off, uint64_t index, const void *keyring,
                      nat_dicts *dicts, const nat_view *v, void *dst, size_t cap, size_t *size,
                      maif_stage_sink sink, void *sink_ctx, char *err, size_t errcap)
{
    nat_rec r;
    int rc = nat_block_rec(base, limit, off, index, &r, err, errcap);
    if (rc) return rc;
    nat_ext ext;
    if (nat_ext_parse(base + r.ext_off, r.ext_size, &ext) != MAIF_OK)
        return maif_set_err(err, errcap, MAIF_EFORMAT, "block %llu at offset %llu: malformed extension area (%s at +%zu)",
                            (unsigned long long)index, (unsigned long long)off, maif_tlv_problem_str(ext.rep.problem),
                            ext.rep.off);
    if (ext.rep.critical_unknown)
        return maif_set_err(err, errcap, MAIF_EUNSUPPORTED,
                            "block %llu at offset %llu: critical extension 0x%04x is unknown to this library",
                            (unsigned long long)index, (unsigned long long)off, ext.rep.critical_tag);
    uint8_t ad[MAIF_STAGE_AD_BYTES];
    nat_stage_ad(base + NH_FILE_ID, r.hdr, ad);
    maif_stage_in in = {
        .codec = r.codec,
        .cipher = r.cipher,
        .stored = base + r.payload_off,
        .stored_size = r.stored_size,
        .has_decoded_size = ext.has_decoded_size,
        .decoded_size = ext.decoded_size,
        .key_id = ext.key_id,
        .key_id_len = ext.key_id_len,
        .nonce = ext.nonce,
        .nonce_len = ext.nonce_len,
        .ad = ad,
        .keyring = keyring,
        .dict_ref = ext.dict_ref,
        .dict_ref_len = ext.dict_ref_len,
    };
    char serr[200];
    uint64_t n = 0;
    if (ext.dict_ref && ext.dict_index >= index)
        return maif_set_err(err, errcap, MAIF_EFORMAT,
                            "block %llu at offset %llu: its dictionary (block %llu) does not come before it",
                            (unsigned long long)index, (unsigned long long)off,
                            (unsigned long long)ext.dict_index);
    struct maif_zdict *owned = NULL;
    if (ext.dict_ref && (dst || cap || sink) && r.codec == MAIF_CODEC_ZSTD_DICT) {
        /* the size is checked first (cheap, and a hostile claim is refused
         * before the dictionary is even loaded) */
        rc = maif_stage_decoded_size(&in, MAIF_DECODED_MAX, &n, serr, sizeof serr);
        if (rc == MAIF_OK) rc = nat_dicts_get(dicts, base, v, ext.dict_index, &in.dict, &owned,
                                              serr, sizeof serr);
        if (rc)
            return maif_set_err(err, errcap, rc, "block %llu at offset %llu: %s", (unsigned long long)index,
                                (unsigned long long)off, serr);
    }
    if (sink) {
        rc = maif_stage_decode_to(&in, MAIF_DECODED_MAX, sink, sink_ctx, serr, sizeof serr);
    } else if (!dst && cap == 0) {
        rc = maif_stage_decoded_size(&in, MAIF_DECODED_MAX, &n, serr, sizeof serr);
        if (rc == MAIF_OK) {
            if (n > SIZE_MAX) rc = maif_set_err(serr, sizeof serr, MAIF_ELIMIT, "decoded size does not fit size_t");
            else *size = (size_t)n;
        }
    } else {
        rc = maif_stage_decode(&in, MAIF_DECODED_MAX, dst, cap, size, serr, sizeof serr);
    }
    maif_zdict_free(owned);
    if (rc)
        return maif_set_err(err, errcap, rc, "block %llu at offset %llu: %s", (unsigned long long)index,
                            (unsigned long long)off, serr);
    return MAIF_OK;
}

int nat_block_decode(const uint8_t *base, uint64_t limit, uint64_t off, uint64_t index, const void *keyring,
                     nat_dicts *dicts, const nat_view *v, void *dst, size_t cap, size_t *size, char *err,
                     size_t errcap)
{
    return decode_any(base, limit, off, index, keyring, dicts, v, dst, cap, size, NULL, NULL, err, errcap);
}

int nat_block_decode_to(const uint8_t *base, uint64_t limit, uint64_t off, uint64_t index, const void *keyring,
                        nat_dicts *dicts, const nat_view *v, maif_stage_sink sink, void *ctx, char *err, size_t errcap)
{
    size_t size = 0;
    return decode_any(base, limit, off, index, keyring, dicts, v, NULL, 0, &size, sink, ctx, err, errcap);
}
