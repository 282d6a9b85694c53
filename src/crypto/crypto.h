/*
 * crypto.h — the only doorway to the crypto libraries: SHA-256 from OpenSSL
 * (which uses SHA-NI where the CPU has it), Ed25519 from libsodium. Keeping
 * them behind these few calls lets tests and benchmarks reason about cost.
 */
#ifndef MAIF_CRYPTO_H
#define MAIF_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

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

/* The X25519 secret of a signing key (its birationally equivalent form),
 * so a `maif keygen` key also decrypts. Wipe x after use. */
void maif_key_x25519_secret(const maif_key *key, uint8_t x[32]);

/* Ed25519 (pure, RFC 8032). */
void maif_key_sign(const maif_key *key, const void *msg, size_t n, uint8_t sig[MAIF_SIGNATURE_BYTES]);
/* 1 if valid, 0 otherwise. */
int maif_ed25519_verify(const uint8_t pk[MAIF_PUBKEY_BYTES], const void *msg, size_t n,
                        const uint8_t sig[MAIF_SIGNATURE_BYTES]);

/* Fills buf with n random bytes (libsodium). */
void maif_random(void *buf, size_t n);

#endif
