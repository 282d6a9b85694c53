/*
 * codec.c — the stage registry and the pipeline that runs a payload
 * through its codec and cipher (see codec.h).
 *
 * The none/none path is a branch and a pointer copy: the writer calls
 * this for every block, and small blocks must not pay for stages they do
 * not use. Every size a stage or a stored TLV claims is checked before it
 * is used to size a buffer: a decoded_size must be within the caller's
 * limit and within what the stages can produce from the stored bytes, so
 * a hostile record cannot make a reader allocate or write more than its
 * stored bytes justify.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>

#include "codec/codec.h"
#include "codec/codecs.h"
#include "crypto/aead.h"
#include "crypto/crypto.h"
#include "util/alloc.h"
#include "util/common.h"

static const maif_codec *g_codec[256];
static const maif_cipher *g_cipher[256];

/* The library's own codecs, registered before the registry's first use. */
static pthread_once_t g_builtin_once = PTHREAD_ONCE_INIT;
static void builtin_register(void)
{
    g_codec[MAIF_CODEC_ZSTD] = &maif_codec_zstd;
    g_codec[MAIF_CODEC_LZ4] = &maif_codec_lz4;
    g_codec[MAIF_CODEC_ZSTD_DICT] = &maif_codec_zstd_dict;
    g_codec[MAIF_CODEC_SHUFFLE_ZSTD] = &maif_codec_shuffle_zstd;
}
#define BUILTIN() pthread_once(&g_builtin_once, builtin_register)

int maif_codec_register(const maif_codec *c)
{
    BUILTIN();
    if (!c || c->id == 0 || !c->bound || !c->decoded_max || !c->encode || !c->decode ||
        !c->encode_dict != !c->decode_dict)
        return MAIF_EINVAL;
    const maif_codec *expected = NULL;
    return __atomic_compare_exchange_n(&g_codec[c->id], &expected, c, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)
               ? MAIF_OK
               : MAIF_EEXIST;
}

int maif_cipher_register(const maif_cipher *c)
{
    if (!c || c->id == 0 || !c->seal || !c->open || c->nonce_size == 0 || c->nonce_size > MAIF_NONCE_MAX)
        return MAIF_EINVAL;
    const maif_cipher *expected = NULL;
    return __atomic_compare_exchange_n(&g_cipher[c->id], &expected, c, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)
               ? MAIF_OK
               : MAIF_EEXIST;
}

void maif_codec_unregister(uint8_t id)
{
    BUILTIN();
    if (id) __atomic_store_n(&g_codec[id], NULL, __ATOMIC_RELEASE);
}

void maif_cipher_unregister(uint8_t id)
{
    if (id) __atomic_store_n(&g_cipher[id], NULL, __ATOMIC_RELEASE);
}

const maif_codec *maif_codec_find(uint8_t id)
{
    BUILTIN();
    return id ? __atomic_load_n(&g_codec[id], __ATOMIC_ACQUIRE) : NULL;
}
const maif_cipher *maif_cipher_find(uint8_t id)
{
    if (!id) return NULL;
    const maif_cipher *c = __atomic_load_n(&g_cipher[id], __ATOMIC_ACQUIRE);
    return c ? c : maif_cipher_builtin(id);
}

/* The cipher's associated data (codec.h): the block's place, then what
 * the cipher and its sizes are, so a ciphertext opens only where it was
 * sealed, as what it was sealed as. */
static size_t cipher_ad(uint8_t out[MAIF_CIPHER_AD_MAX], const uint8_t *place, uint8_t cipher, uint64_t decoded,
                        uint64_t sealed_in, const uint8_t *key_id, size_t key_id_len)
{
    size_t n = 0;
    memcpy(out, place, MAIF_STAGE_AD_BYTES);
    n += MAIF_STAGE_AD_BYTES;
    out[n++] = cipher;
    for (int i = 0; i < 8; i++) out[n++] = (uint8_t)(decoded >> (8 * i));
    for (int i = 0; i < 8; i++) out[n++] = (uint8_t)(sealed_in >> (8 * i));
    out[n++] = (uint8_t)key_id_len;
    memcpy(out + n, key_id, key_id_len);
    return n + key_id_len;
}
int maif_codec_known(uint8_t id) { return id == 0 || maif_codec_find(id) != NULL; }
int maif_cipher_known(uint8_t id) { return id == 0 || maif_cipher_find(id) != NULL; }

uint64_t maif_cipher_overhead(const maif_cipher *k, uint64_t n) { return k->overhead_of ? k->overhead_of(k, n) : k->overhead; }

int maif_cipher_plain(const maif_cipher *k, uint64_t s, uint64_t *plain)
{
    if (k->plain_of) return k->plain_of(k, s, plain);
    if (s < k->overhead) return MAIF_EFORMAT;
    *plain = s - k->overhead;
    return MAIF_OK;
}

static void codec_state_drop(maif_stage_scratch *s)
{
    if (s->codec_state && s->codec_state_of && s->codec_state_of->state_free)
        s->codec_state_of->state_free(s->codec_state_of, s->codec_state);
    s->codec_state = NULL;
    s->codec_state_of = NULL;
}

void maif_stage_scratch_drop_state(maif_stage_scratch *s) { codec_state_drop(s); }

void maif_stage_scratch_free(maif_stage_scratch *s)
{
    codec_state_drop(s);
    maif_buf_free(&s->enc);
    maif_buf_free(&s->seal);
}

int maif_stage_encode(const maif_stage_config *cfg, const maif_stage_tags *tags, const uint8_t *ad,
                      const void *payload, uint64_t n, uint64_t max_stored, maif_stage_scratch *scratch,
                      maif_tlv_builder *ext, maif_stage_out *out, char *err, size_t errcap)
{
    out->codec = 0;
    out->cipher = 0;
    if (!cfg || (cfg->codec == 0 && cfg->cipher == 0)) {
        out->stored = payload;
        out->stored_size = n;
        return MAIF_OK;
    }
    const maif_codec *c = maif_codec_find(cfg->codec);
    const maif_cipher *k = maif_cipher_find(cfg->cipher);
    if (cfg->codec && !c) return maif_set_err(err, errcap, MAIF_EUNSUPPORTED, "codec %u is not registered", cfg->codec);
    if (cfg->cipher && !k)
        return maif_set_err(err, errcap, MAIF_EUNSUPPORTED, "cipher %u is not registered", cfg->cipher);
    if (n > MAIF_BUF_MAX) return maif_set_err(err, errcap, MAIF_ELIMIT, "payload too large to encode");
    if (c && MAIF_CODEC_WHOLE(c->id) && n > MAIF_WHOLE_CODEC_MAX)
        return maif_set_err(err, errcap, MAIF_ELIMIT,
                            "codec %s takes payloads of at most %llu bytes (64 MiB; FORMAT.md §8): use zstd", c->name,
                            (unsigned long long)MAIF_WHOLE_CODEC_MAX);
    const uint8_t *cur = payload;
    uint64_t cur_n = n;
    int rc;
    if (c) {
        uint64_t bound = c->bound(c, n);
        if (bound > MAIF_BUF_MAX)
            return maif_set_err(err, errcap, MAIF_ELIMIT, "codec %s: %llu bytes may encode to more than the limit",
                                c->name, (unsigned long long)n);
        scratch->enc.len = 0;
        if ((rc = maif_buf_reserve(&scratch->enc, (size_t)bound ? (size_t)bound : 1)))
            return maif_set_err(err, errcap, rc, "codec %s: no room for the encoded payload", c->name);
        size_t w = 0;
        if (cfg->level && (cfg->level < c->level_min || cfg->level > c->level_max))
            return maif_set_err(err, errcap, MAIF_EINVAL, "codec %s: level %d is not in %d..%d", c->name,
                                cfg->level, c->level_min, c->level_max);
        if (c->encode_dict && !cfg->dict)
            return maif_set_err(err, errcap, MAIF_ESTATE, "codec %s: no dictionary set", c->name);
        if (c->encode_dict && (!cfg->dict_ref || !cfg->dict_ref_len || cfg->dict_ref_len > 64))
            return maif_set_err(err, errcap, MAIF_EINVAL, "codec %s: no reference to its dictionary", c->name);
        if (scratch->codec_state_of != c) {
            codec_state_drop(scratch);
            scratch->codec_state_of = c;
        }
        rc = c->encode_dict ? c->encode_dict(c, cfg->dict, &scratch->codec_state, scratch->enc.data, (size_t)bound,
                                             payload, (size_t)n, &w)
                            : c->encode(c, &scratch->codec_state, cfg->level, scratch->enc.data, (size_t)bound,
                                        payload, (size_t)n, &w);
        if (rc) return maif_set_err(err, errcap, rc, "codec %s: encoding failed", c->name);
        if (w > bound) return maif_set_err(err, errcap, MAIF_EFORMAT, "codec %s: wrote past its bound", c->name);
        if (c->always || MAIF_CODEC_PAYS(n, (uint64_t)w)) {
            cur = scratch->enc.data;
            cur_n = w;
            out->codec = c->id;
        } else if (!k) {
            out->stored = payload; /* stored as is: no stage left, no extension */
            out->stored_size = n;
            return MAIF_OK;
        }
    }
    uint8_t nonce[MAIF_NONCE_MAX];
    k = maif_cipher_for(k, cur_n); /* large payloads are sealed in chunks */
    out->cipher = k ? k->id : 0;
    if (k) {
        if (!cfg->key_id || cfg->key_id_len == 0 || cfg->key_id_len > MAIF_KEY_ID_MAX)
            return maif_set_err(err, errcap, MAIF_EINVAL, "cipher %s: a key id of 1 to %u bytes is needed", k->name,
                                MAIF_KEY_ID_MAX);
        uint64_t ov = maif_cipher_overhead(k, cur_n);
        if (cur_n > MAIF_BUF_MAX - ov) return maif_set_err(err, errcap, MAIF_ELIMIT, "payload too large to encrypt");
        uint64_t cap = cur_n + ov;
        scratch->seal.len = 0;
        if ((rc = maif_buf_reserve(&scratch->seal, (size_t)cap ? (size_t)cap : 1)))
            return maif_set_err(err, errcap, rc, "cipher %s: no room for the sealed payload", k->name);
        maif_random(nonce, k->nonce_size);
        uint8_t ad_used[MAIF_STAGE_AD_BYTES];
        memcpy(ad_used, ad, MAIF_STAGE_AD_BYTES);
        ad_used[MAIF_STAGE_AD_BYTES - 1] = out->codec; /* the codec id as stored */
        uint8_t full[MAIF_CIPHER_AD_MAX];
        size_t full_len = cipher_ad(full, ad_used, k->id, n, cur_n, cfg->key_id, cfg->key_id_len);
        maif_cipher_params p = {cfg->keyring, cfg->key_id, cfg->key_id_len, nonce, full, full_len};
        size_t w = 0;
        rc = k->seal(k, &p, scratch->seal.data, (size_t)cap, cur, (size_t)cur_n, &w);
        if (cur == scratch->enc.data) maif_wipe(scratch->enc.data, (size_t)cur_n); /* compressed plaintext */
        if (rc) return maif_set_err(err, errcap, rc, "cipher %s: sealing failed", k->name);
        if (w != cap) return maif_set_err(err, errcap, MAIF_EFORMAT, "cipher %s: output not of its size", k->name);
        cur = scratch->seal.data;
        cur_n = w;
    }
    if (cur_n > max_stored)
        return maif_set_err(err, errcap, MAIF_ELIMIT, "encoded payload of %llu bytes exceeds the %llu-byte limit",
                            (unsigned long long)cur_n, (unsigned long long)max_stored);
    maif_tlv_put_u64(ext, tags->decoded_size, n);
    if (k) {
        maif_tlv_put(ext, tags->key_id, cfg->key_id, cfg->key_id_len);
        maif_tlv_put(ext, tags->nonce, nonce, k->nonce_size);
    }
    if (out->codec && c->encode_dict) maif_tlv_put(ext, tags->dict_ref, cfg->dict_ref, cfg->dict_ref_len);
    if (ext->rc) return maif_set_err(err, errcap, ext->rc, "no room for the stages' extensions");
    out->stored = cur;
    out->stored_size = cur_n;
    return MAIF_OK;
}

int maif_stage_plan_seal(const maif_stage_config *cfg, const maif_stage_tags *tags, const uint8_t *ad, uint64_t n,
                         uint64_t max_stored, maif_tlv_builder *ext, maif_stage_seal *s, maif_stage_out *out,
                         char *err, size_t errcap)
{
    memset(s, 0, sizeof *s);
    if (!cfg || cfg->codec || !cfg->cipher) return maif_set_err(err, errcap, MAIF_EINVAL, "a plan is for a cipher alone");
    return maif_stage_plan_coded(cfg, tags, ad, n, 0, n, max_stored, ext, s, out, err, errcap);
}

int maif_stage_plan_coded(const maif_stage_config *cfg, const maif_stage_tags *tags, const uint8_t *ad, uint64_t n,
                          uint8_t codec, uint64_t in_n, uint64_t max_stored, maif_tlv_builder *ext, maif_stage_seal *s,
                          maif_stage_out *out, char *err, size_t errcap)
{
    memset(s, 0, sizeof *s);
    if (!cfg || (codec && codec != cfg->codec) || (!codec && in_n != n))
        return maif_set_err(err, errcap, MAIF_EINVAL, "a plan names the writer's codec, or none");
    const maif_codec *c = codec ? maif_codec_find(codec) : NULL;
    if (codec && (!c || (c->encode_dict && (!cfg->dict || !cfg->dict_ref || !cfg->dict_ref_len ||
                                            cfg->dict_ref_len > 64))))
        return maif_set_err(err, errcap, MAIF_EINVAL, "codec %u cannot be planned", codec);
    int ref = codec && c->encode_dict; /* dict_ref goes last, as in maif_stage_encode */
    const maif_cipher *k = cfg->cipher ? maif_cipher_find(cfg->cipher) : NULL;
    if (cfg->cipher && !k) return maif_set_err(err, errcap, MAIF_EUNSUPPORTED, "cipher %u is not registered", cfg->cipher);
    if (n > MAIF_BUF_MAX || in_n > MAIF_BUF_MAX)
        return maif_set_err(err, errcap, MAIF_ELIMIT, "payload too large to encode");
    out->codec = codec;
    out->cipher = 0;
    out->stored = NULL;
    s->decoded_size = n;
    s->codec = codec;
    s->in_size = in_n;
    s->stored_size = in_n;
    if (!k) { /* a codec alone: the encoded bytes are stored */
        if (in_n > max_stored)
            return maif_set_err(err, errcap, MAIF_ELIMIT, "encoded payload of %llu bytes exceeds the %llu-byte limit",
                                (unsigned long long)in_n, (unsigned long long)max_stored);
        if (codec) maif_tlv_put_u64(ext, tags->decoded_size, n);
        if (ref) maif_tlv_put(ext, tags->dict_ref, cfg->dict_ref, cfg->dict_ref_len);
        if (ext->rc) return maif_set_err(err, errcap, ext->rc, "no room for the stages' extensions");
        out->stored_size = in_n;
        return MAIF_OK;
    }
    k = maif_cipher_for(k, in_n); /* large payloads are sealed in chunks */
    if (!cfg->key_id || cfg->key_id_len == 0 || cfg->key_id_len > MAIF_KEY_ID_MAX)
        return maif_set_err(err, errcap, MAIF_EINVAL, "cipher %s: a key id of 1 to %u bytes is needed", k->name,
                            MAIF_KEY_ID_MAX);
    const maif_keysrc *ks = cfg->keyring;
    const uint8_t *key = NULL;
    int rc = ks && ks->lookup ? ks->lookup(ks, cfg->key_id, cfg->key_id_len, &key) : MAIF_EACCESS;
    if (rc) return maif_set_err(err, errcap, rc, "cipher %s: sealing failed", k->name);
    uint64_t ov = maif_cipher_overhead(k, in_n);
    if (in_n > MAIF_BUF_MAX - ov) return maif_set_err(err, errcap, MAIF_ELIMIT, "payload too large to encrypt");
    if (in_n + ov > max_stored)
        return maif_set_err(err, errcap, MAIF_ELIMIT, "encoded payload of %llu bytes exceeds the %llu-byte limit",
                            (unsigned long long)(in_n + ov), (unsigned long long)max_stored);
    s->k = k;
    s->keyring = cfg->keyring;
    memcpy(s->key_id, cfg->key_id, cfg->key_id_len);
    s->key_id_len = cfg->key_id_len;
    maif_random(s->nonce, k->nonce_size);
    uint8_t ad_used[MAIF_STAGE_AD_BYTES];
    memcpy(ad_used, ad, MAIF_STAGE_AD_BYTES);
    ad_used[MAIF_STAGE_AD_BYTES - 1] = codec; /* the codec id as stored */
    s->ad_len = cipher_ad(s->ad, ad_used, k->id, n, in_n, cfg->key_id, cfg->key_id_len);
    s->stored_size = in_n + ov;
    maif_tlv_put_u64(ext, tags->decoded_size, n);
    maif_tlv_put(ext, tags->key_id, cfg->key_id, cfg->key_id_len);
    maif_tlv_put(ext, tags->nonce, s->nonce, k->nonce_size);
    if (ref) maif_tlv_put(ext, tags->dict_ref, cfg->dict_ref, cfg->dict_ref_len);
    if (ext->rc) return maif_set_err(err, errcap, ext->rc, "no room for the stages' extensions");
    out->cipher = k->id;
    out->stored_size = s->stored_size;
    return MAIF_OK;
}

void maif_stage_seal_params(const maif_stage_seal *s, maif_cipher_params *p)
{
    *p = (maif_cipher_params){s->keyring, s->key_id, s->key_id_len, s->nonce, s->ad, s->ad_len};
}

int maif_stage_seal_run(const maif_stage_seal *s, void *dst, const void *src)
{
    maif_cipher_params p;
    maif_stage_seal_params(s, &p);
    size_t w = 0;
    int rc = s->k->seal(s->k, &p, dst, (size_t)s->stored_size, src, (size_t)s->in_size, &w);
    if (rc == MAIF_OK && w != s->stored_size) rc = MAIF_EFORMAT;
    return rc;
}

int maif_stage_decoded_size(const maif_stage_in *in, uint64_t max_decoded, uint64_t *size, char *err, size_t errcap)
{
    if (in->codec == 0 && in->cipher == 0) {
        if (in->has_decoded_size || in->key_id || in->nonce || in->dict_ref)
            return maif_set_err(err, errcap, MAIF_EFORMAT, "stage extensions on a payload stored as is");
        *size = in->stored_size;
        return MAIF_OK;
    }
    const maif_codec *c = maif_codec_find(in->codec);
    const maif_cipher *k = maif_cipher_find(in->cipher);
    if (in->codec && !c)
        return maif_set_err(err, errcap, MAIF_EUNSUPPORTED, "codec %u is not known to this library", in->codec);
    if (in->cipher && !k)
        return maif_set_err(err, errcap, MAIF_EUNSUPPORTED, "cipher %u is not known to this library", in->cipher);
    if (!in->has_decoded_size) return maif_set_err(err, errcap, MAIF_EFORMAT, "decoded_size extension missing");
    if (!!in->dict_ref != !!(c && c->decode_dict))
        return maif_set_err(err, errcap, MAIF_EFORMAT, in->dict_ref ? "a dictionary reference on a codec without one"
                                                                    : "codec %s: dictionary reference missing",
                            c ? c->name : "");
    uint64_t s = in->stored_size;
    if (k) {
        if (!in->nonce || in->nonce_len != k->nonce_size || !in->key_id || in->key_id_len == 0 ||
            in->key_id_len > MAIF_KEY_ID_MAX)
            return maif_set_err(err, errcap, MAIF_EFORMAT, "cipher %s: key id or nonce missing or malformed", k->name);
        uint64_t plain;
        if (maif_cipher_plain(k, s, &plain) != MAIF_OK)
            return maif_set_err(err, errcap, MAIF_EFORMAT, "cipher %s: %llu stored bytes are not a sealed payload",
                                k->name, (unsigned long long)s);
        s = plain;
    } else if (in->key_id || in->nonce) {
        return maif_set_err(err, errcap, MAIF_EFORMAT, "key id or nonce on a payload that is not encrypted");
    }
    uint64_t most = c ? c->decoded_max(c, s) : s;
    if (in->decoded_size > max_decoded || in->decoded_size > most || (!c && in->decoded_size != s))
        return maif_set_err(err, errcap, MAIF_EFORMAT,
                            "decoded size %llu is impossible for %llu stored bytes (limit %llu)",
                            (unsigned long long)in->decoded_size, (unsigned long long)in->stored_size,
                            (unsigned long long)(most < max_decoded ? most : max_decoded));
    if (c && MAIF_CODEC_WHOLE(c->id) && in->decoded_size > MAIF_WHOLE_CODEC_MAX)
        return maif_set_err(err, errcap, MAIF_EFORMAT,
                            "codec %s: decoded size %llu is over the %llu bytes (64 MiB) a block of a codec that "
                            "decodes whole may claim (FORMAT.md §8)",
                            c->name, (unsigned long long)in->decoded_size, (unsigned long long)MAIF_WHOLE_CODEC_MAX);
    *size = in->decoded_size;
    return MAIF_OK;
}

int maif_stage_decode(const maif_stage_in *in, uint64_t max_decoded, void *dst, size_t cap, size_t *written,
                      char *err, size_t errcap)
{
    uint64_t size;
    int rc = maif_stage_decoded_size(in, max_decoded, &size, err, errcap);
    if (rc) return rc;
    if (size > cap) {
        *written = size > SIZE_MAX ? SIZE_MAX : (size_t)size;
        return maif_set_err(err, errcap, MAIF_ELIMIT, "the decoded payload needs %llu bytes, the buffer holds %zu",
                            (unsigned long long)size, cap);
    }
    if (size && !dst) return maif_set_err(err, errcap, MAIF_EINVAL, "no buffer to decode into");
    *written = 0;
    if (in->codec == 0 && in->cipher == 0) {
        if (size) memcpy(dst, in->stored, (size_t)size);
        *written = (size_t)size;
        return MAIF_OK;
    }
    const maif_codec *c = maif_codec_find(in->codec);
    const maif_cipher *k = maif_cipher_find(in->cipher);
    const uint8_t *cur = in->stored;
    size_t cur_n = (size_t)in->stored_size, w = 0;
    uint8_t *tmp = NULL;
    if (k) {
        uint64_t plain64 = 0;
        (void)maif_cipher_plain(k, cur_n, &plain64); /* checked by decoded_size */
        size_t plain = (size_t)plain64;
        uint8_t *to = c ? (tmp = maif_malloc(plain ? plain : 1)) : dst;
        if (!to) return maif_set_err(err, errcap, MAIF_ENOMEM, "out of memory decrypting");
        uint8_t full[MAIF_CIPHER_AD_MAX];
        size_t full_len = cipher_ad(full, in->ad, k->id, size, plain, in->key_id, in->key_id_len);
        maif_cipher_params p = {in->keyring, in->key_id, in->key_id_len, in->nonce, full, full_len};
        rc = k->open(k, &p, to, plain, cur, cur_n, &w);
        if (rc == MAIF_OK && w != plain) rc = MAIF_EFORMAT;
        if (rc) {
            if (!c) memset(dst, 0, plain); /* nothing unauthenticated is released */
            if (tmp) maif_wipe(tmp, plain);
            maif_free(tmp);
            return maif_set_err(err, errcap, rc, "cipher %s: %s", k->name,
                                rc == MAIF_EVERIFY    ? "authentication failed"
                                : rc == MAIF_EACCESS ? "no usable key for this block"
                                                     : maif_strerror(rc));
        }
        cur = to;
        cur_n = plain;
    }
    if (c && c->decode_dict && !in->dict) {
        maif_free(tmp);
        return maif_set_err(err, errcap, MAIF_EUNSUPPORTED, "codec %s: its dictionary was not given", c->name);
    }
    if (c) {
        rc = c->decode_dict ? c->decode_dict(c, in->dict, dst, (size_t)size, cur, cur_n, &w)
                            : c->decode(c, dst, (size_t)size, cur, cur_n, &w);
        if (rc == MAIF_ELIMIT) rc = MAIF_EFORMAT; /* it decodes to more than its decoded_size says */
        if (rc == MAIF_OK && w != size) rc = MAIF_EFORMAT;
        if (tmp) maif_wipe(tmp, cur_n); /* the decrypted, still compressed payload */
        maif_free(tmp);
        if (rc)
            return maif_set_err(err, errcap, rc, "codec %s: the payload does not decode to its %llu bytes", c->name,
                                (unsigned long long)size);
    }
    *written = (size_t)size;
    return MAIF_OK;
}

#define SLICE (1u << 20) /* a plain payload goes to the sink in slices of this size */

int maif_stage_open_chunks(const maif_stage_in *in, const maif_cipher *k, uint64_t size, uint8_t *buf,
                           maif_stage_eat eat, void *ctx, char *err, size_t errcap)
{
    uint64_t plain = 0;
    (void)maif_cipher_plain(k, in->stored_size, &plain); /* checked by decoded_size */
    uint8_t full[MAIF_CIPHER_AD_MAX];
    size_t full_len = cipher_ad(full, in->ad, k->id, size, plain, in->key_id, in->key_id_len);
    maif_cipher_params p = {in->keyring, in->key_id, in->key_id_len, in->nonce, full, full_len};
    uint64_t chunks = plain == 0 ? 1 : (plain + k->chunk - 1) / k->chunk;
    int rc = MAIF_OK;
    if (in->stored_size < k->head_size || (rc = k->head(k, &p, (uint8_t *)in->stored, 1)))
        return maif_set_err(err, errcap, rc ? rc : MAIF_EVERIFY, "cipher %s: %s", k->name,
                            rc == MAIF_EACCESS ? "no usable key for this block" : "authentication failed");
    const uint8_t *at = in->stored + k->head_size;
    for (uint64_t i = 0; i < chunks && rc == MAIF_OK; i++) {
        int last = i + 1 == chunks;
        size_t n = last ? (size_t)(plain - i * k->chunk) : k->chunk;
        rc = k->piece(k, &p, i, last, 1, buf, at, n + k->tag_size);
        if (rc)
            return maif_set_err(err, errcap, rc, "cipher %s: chunk %llu of %llu: %s", k->name, (unsigned long long)i,
                                (unsigned long long)chunks,
                                rc == MAIF_EVERIFY ? "authentication failed" : maif_strerror(rc));
        at += n + k->tag_size;
        rc = eat(ctx, buf, n, at, err, errcap);
        maif_wipe(buf, n);
    }
    return rc;
}

typedef struct to_sink {
    maif_stage_sink sink;
    void *ctx;
} to_sink;

static int eat_to_sink(void *ctx, const uint8_t *p, size_t n, const uint8_t *stored_done, char *err, size_t errcap)
{
    to_sink *t = ctx;
    int rc = t->sink(t->ctx, p, n, stored_done);
    if (rc) maif_set_err(err, errcap, rc, "the output failed: %s", maif_strerror(rc));
    return rc;
}

int maif_stage_decode_to(const maif_stage_in *in, uint64_t max_decoded, maif_stage_sink sink, void *ctx, char *err,
                         size_t errcap)
{
    uint64_t size;
    int rc = maif_stage_decoded_size(in, max_decoded, &size, err, errcap);
    if (rc) return rc;
    if (size > SIZE_MAX) return maif_set_err(err, errcap, MAIF_ENOMEM, "the payload does not fit in memory");
    if (in->codec == 0 && in->cipher == 0) {
        for (uint64_t at = 0; at < size || (at == 0 && size == 0);) {
            size_t n = size - at < SLICE ? (size_t)(size - at) : SLICE;
            if ((rc = sink(ctx, in->stored + at, n, in->stored + at + n)))
                return maif_set_err(err, errcap, rc, "the output failed: %s", maif_strerror(rc));
            at += n;
            if (size == 0) break;
        }
        return MAIF_OK;
    }
    if ((in->codec == MAIF_CODEC_ZSTD && maif_codec_find(in->codec) == &maif_codec_zstd) ||
        (in->codec == MAIF_CODEC_ZSTD_DICT && maif_codec_find(in->codec) == &maif_codec_zstd_dict && in->dict)) {
        /* zstd (with or without its dictionary) alone, or under a chunked
         * cipher: decompressed as it opens (codec_stream.c) */
        const maif_cipher *kz = in->cipher ? maif_cipher_find(in->cipher) : NULL;
        if (!in->cipher || (kz && kz->chunk && kz->head && kz->piece))
            return maif_stage_zstd_decode_to(in, size, sink, ctx, err, errcap);
    }
    const maif_cipher *k = in->codec == 0 ? maif_cipher_find(in->cipher) : NULL;
    if (k && k->chunk && k->head && k->piece) {
        uint8_t *buf = maif_secret_alloc(k->chunk);
        if (!buf) return maif_set_err(err, errcap, MAIF_ENOMEM, "out of memory decrypting");
        to_sink ts = {sink, ctx};
        rc = maif_stage_open_chunks(in, k, size, buf, eat_to_sink, &ts, err, errcap);
        maif_secret_free(buf);
        return rc;
    }
    uint8_t *tmp = maif_malloc(size ? (size_t)size : 1);
    if (!tmp) return maif_set_err(err, errcap, MAIF_ENOMEM, "out of memory decoding %llu bytes", (unsigned long long)size);
    size_t w = 0;
    rc = maif_stage_decode(in, max_decoded, tmp, (size_t)size, &w, err, errcap);
    if (rc == MAIF_OK && (rc = sink(ctx, tmp, w, in->stored + in->stored_size)))
        maif_set_err(err, errcap, rc, "the output failed: %s", maif_strerror(rc));
    maif_wipe(tmp, (size_t)size);
    maif_free(tmp);
    return rc;
}

size_t maif_stage_cipher_ad(uint8_t out[MAIF_CIPHER_AD_MAX], const uint8_t *place, uint8_t cipher, uint64_t decoded,
                            uint64_t sealed_in, const uint8_t *key_id, size_t key_id_len)
{
    return cipher_ad(out, place, cipher, decoded, sealed_in, key_id, key_id_len);
}
