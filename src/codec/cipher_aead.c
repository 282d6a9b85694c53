/*
 * cipher_aead.c — the library's own cipher stages: XChaCha20-Poly1305 (1),
 * ChaCha20-Poly1305 (2) and AES-256-GCM (3), over crypto/aead.h.
 *
 * Stored bytes are  commitment (32) ‖ ciphertext ‖ tag (16).  The
 * commitment (a keyed BLAKE2b of nonce and associated data under the data
 * key) is checked in constant time before the AEAD runs: Poly1305 and GCM
 * alone are not key-committing, and a ciphertext crafted to open under two
 * keys would let two recipients read two different payloads from one
 * block. The data key comes from the keyring the writer or reader was
 * given (codec.h maif_keysrc) and is never copied out of its locked memory.
 * Payloads are sealed whole (no chunked STREAM form yet), up to the
 * format's payload limit.
 */
#include <string.h>

#include "codec/codec.h"
#include "crypto/aead.h"
#include "util/common.h"

#define COMMIT MAIF_COMMIT_BYTES

static int key_of(const maif_cipher_params *p, const uint8_t **key)
{
    const maif_keysrc *ks = p->keyring;
    if (!ks || !ks->lookup) return MAIF_EACCESS;
    return ks->lookup(ks, p->key_id, p->key_id_len, key);
}

static int aead_seal(const maif_cipher *self, const maif_cipher_params *p, void *dst, size_t cap, const void *src,
                     size_t n, size_t *written)
{
    if (cap < n || cap - n < self->overhead) return MAIF_ELIMIT;
    const uint8_t *key;
    int rc = key_of(p, &key);
    if (rc) return rc;
    uint8_t *out = dst;
    maif_key_commitment(out, key, p->nonce, self->nonce_size, p->ad, p->ad_len);
    rc = maif_aead_seal(self->id, out + COMMIT, src, n, p->ad, p->ad_len, p->nonce, key);
    if (rc) return rc;
    *written = n + self->overhead;
    return MAIF_OK;
}

static int aead_open(const maif_cipher *self, const maif_cipher_params *p, void *dst, size_t cap, const void *src,
                     size_t n, size_t *written)
{
    if (n < self->overhead) return MAIF_EVERIFY;
    size_t m = n - self->overhead;
    if (cap < m) return MAIF_ELIMIT;
    const uint8_t *key;
    int rc = key_of(p, &key);
    if (rc) return rc;
    uint8_t c[COMMIT];
    maif_key_commitment(c, key, p->nonce, self->nonce_size, p->ad, p->ad_len);
    if (maif_ct_compare(c, src, COMMIT) != 0) return MAIF_EVERIFY;
    rc = maif_aead_open(self->id, dst, (const uint8_t *)src + COMMIT, n - COMMIT, p->ad, p->ad_len, p->nonce, key);
    if (rc) return rc;
    *written = m;
    return MAIF_OK;
}

static const maif_cipher builtin[4] = {
    [MAIF_AEAD_XCHACHA20] = {MAIF_AEAD_XCHACHA20, "xchacha20", 24, COMMIT + MAIF_AEAD_TAG_BYTES, aead_seal, aead_open,
                             NULL},
    [MAIF_AEAD_CHACHA20] = {MAIF_AEAD_CHACHA20, "chacha20", 12, COMMIT + MAIF_AEAD_TAG_BYTES, aead_seal, aead_open,
                            NULL},
    [MAIF_AEAD_AES256GCM] = {MAIF_AEAD_AES256GCM, "aes256gcm", 12, COMMIT + MAIF_AEAD_TAG_BYTES, aead_seal,
                             aead_open, NULL},
};

const maif_cipher *maif_cipher_builtin(uint8_t id)
{
    return id >= 1 && id <= 3 ? &builtin[id] : NULL;
}
