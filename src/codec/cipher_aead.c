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
 * Ciphers 1-3 seal a payload whole. Cipher 4 is XChaCha20-Poly1305 in
 * the STREAM construction (age's model): the payload is cut into chunks
 * of 64 KiB (the last may be shorter), each sealed on its own under the
 * same key and associated data with the nonce
 *     block nonce[0..19) ‖ chunk counter (u32 BE) ‖ last-chunk flag (1 byte),
 * so a chunk moved, dropped, repeated or cut off fails authentication, and
 * a reader can open (and a writer seal) one chunk at a time: head and
 * piece do one step each (streamed adds, maif_reader_block_decode_to).
 * Ciphers 5 (ChaCha20-Poly1305) and 6 (AES-256-GCM) are the same STREAM
 * over AEADs with 12-byte nonces, too short for a random part and a
 * counter: each block seals under its own subkey, derived from the data
 * key and the block's 24 random nonce bytes (maif_stream_subkey), with the
 * chunk nonce 0 (7 bytes) ‖ counter (u32 BE) ‖ last-chunk flag.
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

/* Runs in place too (src == dst + COMMIT): the commitment does not read
 * the payload, and the AEADs allow c == m. */
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

/* ---- cipher 4: STREAM */

#define CHUNK   MAIF_STREAM_CHUNK_PLAIN
#define SEALED  (CHUNK + MAIF_AEAD_TAG_BYTES)

static uint64_t stream_chunks(uint64_t n) { return n == 0 ? 1 : (n + CHUNK - 1) / CHUNK; }

static uint64_t stream_overhead(const maif_cipher *self, uint64_t n)
{
    (void)self;
    return COMMIT + stream_chunks(n) * MAIF_AEAD_TAG_BYTES;
}

static int stream_plain(const maif_cipher *self, uint64_t s, uint64_t *plain)
{
    (void)self;
    if (s < COMMIT + MAIF_AEAD_TAG_BYTES) return MAIF_EFORMAT;
    s -= COMMIT;
    uint64_t full = s / SEALED, rest = s % SEALED;
    if (rest && rest < MAIF_AEAD_TAG_BYTES) return MAIF_EFORMAT; /* a chunk shorter than its tag */
    uint64_t chunks = full + (rest ? 1 : 0);
    *plain = s - chunks * MAIF_AEAD_TAG_BYTES;
    return stream_chunks(*plain) == chunks ? MAIF_OK : MAIF_EFORMAT;
}

static void chunk_nonce(uint8_t out[24], const uint8_t *nonce, uint32_t i, int last)
{
    memcpy(out, nonce, 19);
    wr32be(out + 19, i);
    out[23] = last ? 1 : 0;
}

/* Seals (open 0) or opens (open 1) chunk i of a STREAM cipher: n input
 * bytes into n + tag, or n stored bytes into n - tag. Cipher 4 puts the
 * counter into the block's XChaCha20 nonce; ciphers 5 and 6 run under the
 * block's subkey with a 12-byte counter nonce (FORMAT.md §5.7). */
static int chunk_crypt(const maif_cipher *self, const maif_cipher_params *p, const uint8_t *key, uint32_t i, int last,
                       int open, void *dst, const void *src, size_t n)
{
    if (self->id == MAIF_CIPHER_XCHACHA20_STREAM) {
        uint8_t cn[24];
        chunk_nonce(cn, p->nonce, i, last);
        return open ? maif_aead_open(MAIF_AEAD_XCHACHA20, dst, src, n, p->ad, p->ad_len, cn, key)
                    : maif_aead_seal(MAIF_AEAD_XCHACHA20, dst, src, n, p->ad, p->ad_len, cn, key);
    }
    int alg = self->id == MAIF_CIPHER_CHACHA20_STREAM ? MAIF_AEAD_CHACHA20 : MAIF_AEAD_AES256GCM;
    uint8_t sk[MAIF_AEAD_KEY_BYTES], cn[12] = {0};
    maif_stream_subkey(sk, key, self->id, p->nonce);
    wr32be(cn + 7, i);
    cn[11] = last ? 1 : 0;
    int rc;
    if (alg == MAIF_AEAD_AES256GCM) /* EVP for every chunk: it runs in place (a short last chunk too) */
        rc = open ? maif_aead_aes_open_with(1, dst, src, n, p->ad, p->ad_len, cn, sk)
                  : maif_aead_aes_seal_with(1, dst, src, n, p->ad, p->ad_len, cn, sk);
    else
        rc = open ? maif_aead_open(alg, dst, src, n, p->ad, p->ad_len, cn, sk)
                  : maif_aead_seal(alg, dst, src, n, p->ad, p->ad_len, cn, sk);
    maif_wipe(sk, sizeof sk);
    return rc;
}

static int stream_seal(const maif_cipher *self, const maif_cipher_params *p, void *dst, size_t cap, const void *src,
                       size_t n, size_t *written)
{
    uint64_t ov = stream_overhead(self, n);
    if (cap < n || cap - n < ov) return MAIF_ELIMIT;
    if (stream_chunks(n) > UINT32_MAX) return MAIF_ELIMIT;
    const uint8_t *key;
    int rc = key_of(p, &key);
    if (rc) return rc;
    uint8_t *out = dst;
    const uint8_t *in = src;
    maif_key_commitment(out, key, p->nonce, self->nonce_size, p->ad, p->ad_len);
    size_t o = COMMIT;
    uint64_t chunks = stream_chunks(n);
    for (uint64_t i = 0; i < chunks; i++) {
        size_t len = i + 1 < chunks ? CHUNK : n - (size_t)i * CHUNK;
        rc = chunk_crypt(self, p, key, (uint32_t)i, i + 1 == chunks, 0, out + o, in + (size_t)i * CHUNK, len);
        if (rc) return rc;
        o += len + MAIF_AEAD_TAG_BYTES;
    }
    *written = o;
    return MAIF_OK;
}

static int stream_open(const maif_cipher *self, const maif_cipher_params *p, void *dst, size_t cap, const void *src,
                       size_t n, size_t *written)
{
    uint64_t m;
    if (stream_plain(self, n, &m) != MAIF_OK) return MAIF_EVERIFY;
    if (cap < m) return MAIF_ELIMIT;
    const uint8_t *key;
    int rc = key_of(p, &key);
    if (rc) return rc;
    uint8_t c[COMMIT];
    maif_key_commitment(c, key, p->nonce, self->nonce_size, p->ad, p->ad_len);
    if (maif_ct_compare(c, src, COMMIT) != 0) return MAIF_EVERIFY;
    const uint8_t *in = (const uint8_t *)src + COMMIT;
    uint8_t *out = dst;
    uint64_t chunks = stream_chunks(m);
    for (uint64_t i = 0; i < chunks; i++) {
        size_t len = i + 1 < chunks ? CHUNK : (size_t)(m - i * CHUNK);
        rc = chunk_crypt(self, p, key, (uint32_t)i, i + 1 == chunks, 1, out + (size_t)i * CHUNK, in + (size_t)i * SEALED,
                         len + MAIF_AEAD_TAG_BYTES);
        if (rc) {
            maif_wipe(out, (size_t)m); /* nothing of a stream that fails is released */
            return rc;
        }
    }
    *written = (size_t)m;
    return MAIF_OK;
}

static int stream_head(const maif_cipher *self, const maif_cipher_params *p, uint8_t *head, int check)
{
    const uint8_t *key;
    int rc = key_of(p, &key);
    if (rc) return rc;
    if (!check) {
        maif_key_commitment(head, key, p->nonce, self->nonce_size, p->ad, p->ad_len);
        return MAIF_OK;
    }
    uint8_t c[COMMIT];
    maif_key_commitment(c, key, p->nonce, self->nonce_size, p->ad, p->ad_len);
    return maif_ct_compare(c, head, COMMIT) == 0 ? MAIF_OK : MAIF_EVERIFY;
}

static int stream_piece(const maif_cipher *self, const maif_cipher_params *p, uint64_t i, int last, int open,
                        void *dst, const void *src, size_t n)
{
    (void)self;
    if (i > UINT32_MAX) return MAIF_ELIMIT;
    if (open ? (n < MAIF_AEAD_TAG_BYTES || n > SEALED || (!last && n != SEALED))
             : (n > CHUNK || (!last && n != CHUNK)))
        return open ? MAIF_EVERIFY : MAIF_EINVAL;
    const uint8_t *key;
    int rc = key_of(p, &key);
    if (rc) return rc;
    return chunk_crypt(self, p, key, (uint32_t)i, last, open, dst, src, n);
}

static const maif_cipher builtin[MAIF_CIPHER_AES256GCM_STREAM + 1] = {
    [MAIF_AEAD_XCHACHA20] = {MAIF_AEAD_XCHACHA20, "xchacha20", 24, COMMIT + MAIF_AEAD_TAG_BYTES, aead_seal, aead_open,
                             NULL, NULL, NULL, 0, COMMIT, MAIF_AEAD_TAG_BYTES, NULL, NULL},
    [MAIF_AEAD_CHACHA20] = {MAIF_AEAD_CHACHA20, "chacha20", 12, COMMIT + MAIF_AEAD_TAG_BYTES, aead_seal, aead_open,
                            NULL, NULL, NULL, 0, COMMIT, MAIF_AEAD_TAG_BYTES, NULL, NULL},
    [MAIF_AEAD_AES256GCM] = {MAIF_AEAD_AES256GCM, "aes256gcm", 12, COMMIT + MAIF_AEAD_TAG_BYTES, aead_seal,
                             aead_open, NULL, NULL, NULL, 0, COMMIT, MAIF_AEAD_TAG_BYTES, NULL, NULL},
    [MAIF_CIPHER_XCHACHA20_STREAM] = {MAIF_CIPHER_XCHACHA20_STREAM, "xchacha20-stream", 24,
                                      COMMIT + MAIF_AEAD_TAG_BYTES, stream_seal, stream_open, NULL, stream_overhead,
                                      stream_plain, CHUNK, COMMIT, MAIF_AEAD_TAG_BYTES, stream_head, stream_piece},
    [MAIF_CIPHER_CHACHA20_STREAM] = {MAIF_CIPHER_CHACHA20_STREAM, "chacha20-stream", 24, COMMIT + MAIF_AEAD_TAG_BYTES,
                                     stream_seal, stream_open, NULL, stream_overhead, stream_plain, CHUNK, COMMIT,
                                     MAIF_AEAD_TAG_BYTES, stream_head, stream_piece},
    [MAIF_CIPHER_AES256GCM_STREAM] = {MAIF_CIPHER_AES256GCM_STREAM, "aes256gcm-stream", 24,
                                      COMMIT + MAIF_AEAD_TAG_BYTES, stream_seal, stream_open, NULL, stream_overhead,
                                      stream_plain, CHUNK, COMMIT, MAIF_AEAD_TAG_BYTES, stream_head, stream_piece},
};

const maif_cipher *maif_cipher_builtin(uint8_t id)
{
    return id >= 1 && id <= MAIF_CIPHER_AES256GCM_STREAM ? &builtin[id] : NULL;
}

uint8_t maif_cipher_stream_form(uint8_t id)
{
    switch (id) {
    case MAIF_AEAD_XCHACHA20: return MAIF_CIPHER_XCHACHA20_STREAM;
    case MAIF_AEAD_CHACHA20: return MAIF_CIPHER_CHACHA20_STREAM;
    case MAIF_AEAD_AES256GCM: return MAIF_CIPHER_AES256GCM_STREAM;
    default: return 0;
    }
}

const maif_cipher *maif_cipher_for(const maif_cipher *k, uint64_t n)
{
    /* only the library's own: a cipher registered over id 1-3 is the caller's, sealed as it is */
    if (!k || n <= MAIF_STREAM_CHUNK_PLAIN || k != maif_cipher_builtin(k->id)) return k;
    uint8_t sid = maif_cipher_stream_form(k->id);
    const maif_cipher *st = sid ? maif_cipher_find(sid) : NULL;
    return st ? st : k; /* large payloads are sealed in chunks */
}
