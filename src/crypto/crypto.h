/*
 * crypto.h — the only doorway to the crypto libraries: SHA-256 from OpenSSL
 * (which uses SHA-NI where the CPU has it), Ed25519 from libsodium. Keeping
 * them behind these few calls lets tests and benchmarks reason about cost.
 */
#ifndef MAIF_CRYPTO_H
#define MAIF_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/blake3.h"
#include "maif.h"

/* One-time library initialisation (sodium_init, digest fetch). Idempotent
 * and thread-safe; every public entry point that needs crypto calls it.
 * Returns 0 or MAIF_ENOMEM. */
int maif_crypto_init(void);

void maif_sha256(const void *data, size_t n, uint8_t out[MAIF_HASH_BYTES]);
/* SHA-256 over the concatenation of up to 4 parts (NULL/0 parts skipped). */
void maif_sha256_parts(uint8_t out[MAIF_HASH_BYTES], const void *p1, size_t n1, const void *p2, size_t n2,
                       const void *p3, size_t n3, const void *p4, size_t n4);

/* Incremental hashing; a context may be reused after final. */
typedef struct maif_sha256_ctx maif_sha256_ctx;
maif_sha256_ctx *maif_sha256_new(void);
void maif_sha256_init(maif_sha256_ctx *c);
void maif_sha256_update(maif_sha256_ctx *c, const void *data, size_t n);
void maif_sha256_final(maif_sha256_ctx *c, uint8_t out[MAIF_HASH_BYTES]);
void maif_sha256_free(maif_sha256_ctx *c);

/* ---- content hashes: the function a native artifact's header names for
 * its block payloads (MAIF_HASH_SHA256 or MAIF_HASH_BLAKE3, FORMAT.md §4).
 * Everything else (the record chain, Merkle tree, signatures) is SHA-256. */
#define MAIF_HASH_ALG_OK(a) ((a) == MAIF_HASH_SHA256 || (a) == MAIF_HASH_BLAKE3)
/* out = alg(data); alg must be MAIF_HASH_ALG_OK. */
void maif_chash(int alg, const void *data, size_t n, uint8_t out[MAIF_HASH_BYTES]);
/* Incremental form. init returns 0 or MAIF_ENOMEM (SHA-256 allocates an
 * EVP context); free releases it (safe after a failed init, and twice). */
typedef struct maif_chash_ctx {
    int alg;
    maif_sha256_ctx *sha;
    maif_blake3_ctx b3;
} maif_chash_ctx;
int maif_chash_init(maif_chash_ctx *c, int alg);
void maif_chash_update(maif_chash_ctx *c, const void *data, size_t n);
void maif_chash_final(maif_chash_ctx *c, uint8_t out[MAIF_HASH_BYTES]);
void maif_chash_free(maif_chash_ctx *c);

/* The X25519 secret of a signing key (its birationally equivalent form),
 * so a `maif keygen` key also decrypts. Wipe x after use. */
void maif_key_x25519_secret(const maif_key *key, uint8_t x[32]);

/* Ed25519 (pure, RFC 8032). */
void maif_key_sign(const maif_key *key, const void *msg, size_t n, uint8_t sig[MAIF_SIGNATURE_BYTES]);
/* 1 if valid, 0 otherwise. */
int maif_ed25519_verify(const uint8_t pk[MAIF_PUBKEY_BYTES], const void *msg, size_t n,
                        const uint8_t sig[MAIF_SIGNATURE_BYTES]);

/* ---- algorithms beside Ed25519 (sig.c): RSA-PSS (SHA-256, MGF1-SHA-256,
 * salt 32) and ECDSA P-256 (SHA-256, signature r ‖ s, 64 bytes). */
#define MAIF_SPKI_MAX 1200   /* largest DER public key accepted (RSA-8192 is 1062) */
#define MAIF_SIG_MAX  1024   /* largest signature (RSA-8192) */
#define MAIF_RSA_MIN_BITS 2048
#define MAIF_RSA_MAX_BITS 8192
#define MAIF_RSA_DEFAULT_BITS 3072

/* The public key as stored in a version 2 commit (DER SubjectPublicKeyInfo;
 * Ed25519: the 32 raw bytes); borrowed from key. */
const uint8_t *maif_key_spki(const maif_key *key, size_t *len);
/* Length of key's signatures. */
size_t maif_key_sig_len(const maif_key *key);
/* Signs msg with key's algorithm into sig (cap bytes), *len set. Errors:
 * MAIF_ELIMIT (cap), MAIF_EKEY (the library or token refused). */
int maif_key_sign_any(const maif_key *key, const void *msg, size_t n, uint8_t *sig, size_t cap, size_t *len);
/* 1 if sig is alg's valid signature of msg under the public key pk (spki
 * form), 0 otherwise (also for a key of the wrong type or size). */
int maif_sig_verify(int alg, const uint8_t *pk, size_t pk_len, const void *msg, size_t n, const uint8_t *sig,
                    size_t sig_len);

/* Fills buf with n random bytes (libsodium). */
void maif_random(void *buf, size_t n);

#endif
