/*
 * key_impl.h — the inside of a maif_key, shared by key.c (Ed25519 and the
 * key files) and sig.c (RSA-PSS and ECDSA P-256 through OpenSSL's EVP).
 * Private to src/crypto.
 */
#ifndef MAIF_KEY_IMPL_H
#define MAIF_KEY_IMPL_H

#include <openssl/evp.h>
#include <stdint.h>

#include "crypto/crypto.h"

struct maif_key {
    int alg;                 /* MAIF_SIG_* */
    uint8_t pk[32];          /* Ed25519: the public key; others: SHA-256 of spki (the signer id) */
    uint8_t sk[64];          /* Ed25519 only: seed ‖ pk, libsodium layout */
    EVP_PKEY *evp;           /* RSA-PSS / P-256: the key pair (OpenSSL's memory, freed with the key) */
    uint16_t spki_len;       /* public key as DER SubjectPublicKeyInfo (Ed25519: the 32 raw bytes) */
    uint8_t spki[MAIF_SPKI_MAX];
    struct maif_p11 *p11;    /* a key on a PKCS#11 token (p11.c): signs there; sk and evp unused */
    size_t sig_len;          /* p11 keys: signature length */
};

/* PKCS#11 (p11.c). */
int maif_p11_open(struct maif_key *k, const char *module, const char *token, const char *label, const char *pin);
int maif_p11_sign(const struct maif_key *k, const void *msg, size_t n, uint8_t *sig, size_t cap, size_t *len);

/* Fills k (alg, evp, spki, pk) from an OpenSSL key pair it takes over, or
 * from an Ed25519 one it copies the seed of. Errors: MAIF_EKEY. */
int maif_key_adopt_evp(struct maif_key *k, EVP_PKEY *pkey);
/* A fresh RSA (bits) or P-256 key into k. */
int maif_key_generate_evp(struct maif_key *k, int alg, unsigned bits);
/* Key from PEM text (PKCS#8 or traditional). Errors: MAIF_EKEY. */
int maif_key_from_pem(struct maif_key *k, const char *pem);
/* PEM texts (malloc'ed by maif_malloc, NUL-terminated) of a non-Ed25519 key. */
int maif_key_pem(const struct maif_key *k, char **secret, char **pub);
/* A PEM "PUBLIC KEY" text: alg and signer id, spki copied when not NULL. */
int maif_pubkey_from_pem(const char *pem, int *alg, uint8_t id[32], uint8_t *spki, size_t *spki_len);

/* A new OpenSSL reference to the key pair (Ed25519: built from the seed),
 * or NULL. */
EVP_PKEY *maif_key_to_evp(const struct maif_key *k);

#endif
