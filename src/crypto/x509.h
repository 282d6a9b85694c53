/*
 * x509.h — certificate chains for signer identities (docs/IDENTITIES.md):
 * parsing an attached chain with bounds, matching its leaf to a commit's
 * key, and verifying it to a trusted root at a commit's signing time.
 * OpenSSL stays behind these opaque types.
 */
#ifndef MAIF_X509_H
#define MAIF_X509_H

#include <stddef.h>
#include <stdint.h>

#include "maif.h"

#define MX_CHAIN_MAX    16          /* certificates in one chain, and the verification depth */
#define MX_CHAIN_BYTES  (256u << 10) /* bytes of one chain (PEM or DER) */
#define MX_ROOTS_BYTES  (1u << 20)  /* bytes of a --ca file */

#define MX_CRLS_MAX     256         /* CRLs in a --crl file (MX_ROOTS_BYTES at most) */

typedef struct mx_chain mx_chain;
typedef struct mx_store mx_store;
typedef struct mx_crls mx_crls;

/* Parses a chain, leaf first: PEM certificates, or DER certificates back
 * to back. Errors (message set): MAIF_EFORMAT (malformed, empty, a
 * certificate twice), MAIF_ELIMIT (over MX_CHAIN_MAX certificates or
 * MX_CHAIN_BYTES bytes), MAIF_ENOMEM. */
int mx_chain_parse(const void *data, size_t len, mx_chain **out);
void mx_chain_free(mx_chain *c);
size_t mx_chain_count(const mx_chain *c);
/* 1 if the leaf's public key is the commit key (alg, pk in the commit's
 * form: DER SubjectPublicKeyInfo, Ed25519 raw 32 bytes). */
int mx_chain_leaf_matches(const mx_chain *c, int alg, const uint8_t *pk, size_t pk_len);
/* The leaf's subject, one line, into buf. */
const char *mx_chain_leaf_subject(const mx_chain *c, char *buf, size_t cap);

/* Trusted roots from PEM or DER (every certificate in the data is a trust
 * anchor). Errors: MAIF_EFORMAT, MAIF_ELIMIT, MAIF_ENOMEM. */
int mx_store_load(const void *data, size_t len, mx_store **out);
void mx_store_free(mx_store *s);

/* t (seconds since the epoch) as "YYYY-MM-DDTHH:MM:SSZ" into buf. */
void mx_fmt_unix(int64_t t, char *buf, size_t cap);

/* Certificate revocation lists from PEM or DER (back to back), at most
 * MX_CRLS_MAX. Errors: MAIF_EFORMAT, MAIF_ELIMIT, MAIF_ENOMEM. */
int mx_crls_load(const void *data, size_t len, mx_crls **out);
void mx_crls_free(mx_crls *c);
size_t mx_crls_count(const mx_crls *c);
/* 1 if CRL i's nextUpdate is before now_s (µs → s), with one line in
 * detail; else 0. */
int mx_crl_stale(const mx_crls *c, size_t i, int64_t now_s, char *detail, size_t cap);

enum {
    MX_OK = 0,
    MX_EXPIRED,        /* a certificate had expired at the time */
    MX_NOT_YET_VALID,  /* a certificate was not yet valid at the time */
    MX_KEY_USAGE,      /* the leaf's keyUsage lacks digitalSignature */
    MX_UNKNOWN_ISSUER, /* the chain does not lead to a trusted root */
    MX_TOO_LONG,       /* deeper than MX_CHAIN_MAX */
    MX_INVALID,        /* anything else (bad signature on a certificate, ...) */
    MX_REVOKED,        /* on its issuer's CRL: before the time, or for a key compromise */
    MX_CRL_MISSING,    /* no CRL (that verifies) of an issuer in the path */
    MX_REVOKED_LATER,  /* on its issuer's CRL, for another reason, after the time: passes, with a warning */
};
/* Verifies c to a root of s at time_us (µs since the epoch): validity
 * periods, signatures, CA constraints, depth, and the leaf's key usage;
 * with crls, every certificate of the path below the root against the
 * newest CRL of its issuer that the issuer's key verifies (full CRLs
 * from the issuer itself: no delta or indirect CRLs, and a CRL's
 * distribution-point scope is not read). Returns MX_*; detail gets one
 * line naming the certificate at fault. */
/* existed_by (s; INT64_MAX: unknown) is a trusted upper bound on when the
 * commit was made (its time-stamp tokens): a revocation after it, and
 * after the entry's invalidityDate, does not count (INT64_MIN: none
 * does). */
int mx_chain_verify(const mx_store *s, const mx_crls *crls, const mx_chain *c, uint64_t time_us, int64_t existed_by,
                    char *detail, size_t cap);

/* A PEM certificate signing request for key with subject
 * "/CN=x/O=y..." into out (cap bytes, NUL-terminated); *len the bytes
 * (without the NUL), also when MAIF_ELIMIT says cap is too small. Errors:
 * MAIF_EINVAL (bad subject), MAIF_ELIMIT, MAIF_EKEY. */
int mx_csr(const maif_key *key, const char *subject, char *out, size_t cap, size_t *len);

#endif
