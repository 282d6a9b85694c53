/*
 * aead.h — the authenticated ciphers and key derivations the privacy
 * engine builds on, behind one small interface so the cipher stages
 * (codec/cipher_aead.c) and the key wrapping (privacy/) never touch
 * libsodium or OpenSSL directly.
 *
 * All three AEADs take a 32-byte key and produce ciphertext ‖ 16-byte tag.
 * Opening checks the tag before a byte of plaintext is written; on failure
 * dst is left zeroed.
 */
#ifndef MAIF_CRYPTO_AEAD_H
#define MAIF_CRYPTO_AEAD_H

#include <stddef.h>
#include <stdint.h>

#define MAIF_AEAD_XCHACHA20 1 /* XChaCha20-Poly1305 (IETF draft), 24-byte nonce */
#define MAIF_AEAD_CHACHA20  2 /* ChaCha20-Poly1305 (RFC 8439), 12-byte nonce */
#define MAIF_AEAD_AES256GCM 3 /* AES-256-GCM, 12-byte nonce; needs AES-NI + PCLMUL */
#define MAIF_AEAD_KEY_BYTES 32
#define MAIF_AEAD_TAG_BYTES 16
/* AES-GCM payloads from this size on go through OpenSSL's EVP, smaller ones
 * through libsodium. bench/bench_aead.c measured EVP 1.2x libsodium on
 * 4 KiB and 2.5x on 1 MiB here; below 4 KiB is not measured. */
#define MAIF_AEAD_AES_EVP_MIN 4096u

/* Nonce bytes of alg, or 0 for an unknown alg. */
size_t maif_aead_nonce_bytes(int alg);
/* 1 if alg can run on this machine. */
int maif_aead_available(int alg);
/* dst receives n + MAIF_AEAD_TAG_BYTES bytes. Errors: MAIF_EUNSUPPORTED,
 * MAIF_ELIMIT (n too large for the primitive). */
int maif_aead_seal(int alg, uint8_t *dst, const uint8_t *src, size_t n, const uint8_t *ad, size_t ad_len,
                   const uint8_t *nonce, const uint8_t key[MAIF_AEAD_KEY_BYTES]);
/* n includes the tag; dst receives n - MAIF_AEAD_TAG_BYTES bytes.
 * Errors: MAIF_EVERIFY (authentication failed: dst zeroed), MAIF_EUNSUPPORTED. */
int maif_aead_open(int alg, uint8_t *dst, const uint8_t *src, size_t n, const uint8_t *ad, size_t ad_len,
                   const uint8_t *nonce, const uint8_t key[MAIF_AEAD_KEY_BYTES]);
/* The raw engines, for the benchmark's baselines and the KATs: force
 * libsodium (0) or OpenSSL EVP (1) for AES-256-GCM. */
int maif_aead_aes_seal_with(int evp, uint8_t *dst, const uint8_t *src, size_t n, const uint8_t *ad, size_t ad_len,
                            const uint8_t *nonce, const uint8_t key[MAIF_AEAD_KEY_BYTES]);
int maif_aead_aes_open_with(int evp, uint8_t *dst, const uint8_t *src, size_t n, const uint8_t *ad, size_t ad_len,
                            const uint8_t *nonce, const uint8_t key[MAIF_AEAD_KEY_BYTES]);

/* Key commitment: a 32-byte keyed BLAKE2b of a fixed label, the nonce and
 * the associated data under key. Collision resistance of BLAKE2b means no
 * second key yields the same value. */
#define MAIF_COMMIT_BYTES 32
void maif_key_commitment(uint8_t out[MAIF_COMMIT_BYTES], const uint8_t key[MAIF_AEAD_KEY_BYTES], const uint8_t *nonce,
                         size_t nonce_len, const uint8_t *ad, size_t ad_len);

/* The per-block subkey of the chunked ciphers 5 and 6 (FORMAT.md §5.7):
 * BLAKE2b-256 keyed with the data key over "maif stream subkey v1" ‖
 * cipher id (1) ‖ the block's 24-byte random nonce. Their chunks take
 * 12-byte nonces (counter ‖ last flag, no random part), so each block gets
 * its own key: two blocks under one batch data key never share a (key,
 * nonce) pair unless their 192-bit random nonces collide. */
#define MAIF_STREAM_NONCE_BYTES 24
void maif_stream_subkey(uint8_t out[MAIF_AEAD_KEY_BYTES], const uint8_t key[MAIF_AEAD_KEY_BYTES], uint8_t cipher,
                        const uint8_t nonce[MAIF_STREAM_NONCE_BYTES]);

/* HKDF-SHA256 (RFC 5869). out_len ≤ 255 * 32. */
void maif_hkdf_sha256(uint8_t *out, size_t out_len, const uint8_t *ikm, size_t ikm_len, const uint8_t *salt,
                      size_t salt_len, const uint8_t *info, size_t info_len);
/* PBKDF2-HMAC-SHA256 (RFC 8018). Errors: MAIF_ENOMEM, MAIF_EINVAL. */
int maif_pbkdf2_sha256(uint8_t *out, size_t out_len, const void *pw, size_t pw_len, const uint8_t *salt,
                       size_t salt_len, uint32_t iterations);
/* Argon2id v1.3, one lane (libsodium), salt of 16 bytes, mem in bytes.
 * Errors: MAIF_ENOMEM (memory), MAIF_EINVAL (parameters out of range). */
#define MAIF_ARGON2_SALT_BYTES 16
int maif_argon2id(uint8_t *out, size_t out_len, const void *pw, size_t pw_len,
                  const uint8_t salt[MAIF_ARGON2_SALT_BYTES], uint64_t ops, uint64_t mem);

/* X25519. */
#define MAIF_X25519_BYTES 32
void maif_x25519_keypair(uint8_t pk[MAIF_X25519_BYTES], uint8_t sk[MAIF_X25519_BYTES]);
/* Errors: MAIF_EKEY (a low-order public key: the shared secret is all zero). */
int maif_x25519(uint8_t shared[MAIF_X25519_BYTES], const uint8_t sk[MAIF_X25519_BYTES],
                const uint8_t pk[MAIF_X25519_BYTES]);
void maif_x25519_public(uint8_t pk[MAIF_X25519_BYTES], const uint8_t sk[MAIF_X25519_BYTES]);
/* The X25519 forms of an Ed25519 key pair (a `maif keygen` key).
 * Errors: MAIF_EKEY (not a valid Ed25519 public key). */
int maif_ed25519_pk_to_x25519(uint8_t x[MAIF_X25519_BYTES], const uint8_t ed_pk[32]);
void maif_ed25519_sk_to_x25519(uint8_t x[MAIF_X25519_BYTES], const uint8_t ed_sk64[64]);

/* Secret memory: sodium_malloc'd (guarded, locked where allowed), wiped on free. */
void *maif_secret_alloc(size_t n);
void maif_secret_free(void *p);
void maif_wipe(void *p, size_t n);
/* 0 if equal, in constant time. */
int maif_ct_compare(const void *a, const void *b, size_t n);

#endif
