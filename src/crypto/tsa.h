/*
 * tsa.h — RFC 3161 time-stamp tokens for commits (docs/IDENTITIES.md,
 * FORMAT.md block type TSTK): the request for a digest, the token out of a
 * response, what a token says, and its verification to TSA roots.
 * Errors set the last-error message.
 */
#ifndef MAIF_TSA_H
#define MAIF_TSA_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/x509.h"

#define MX_TS_BYTES (64u << 10) /* bytes of one token or response */

/* A DER TimeStampReq for a SHA-256 digest (version 1, a random nonce, the
 * TSA's certificate asked for) into *der (maif_malloc'd). */
int mx_ts_query(const uint8_t digest[32], uint8_t **der, size_t *len);
/* The DER TimeStampToken in data: a TimeStampResp with status granted
 * (or grantedWithMods), or a bare token. Errors: MAIF_EFORMAT (neither, a
 * response without a token: the message names its status), MAIF_ELIMIT
 * (over MX_TS_BYTES), MAIF_ENOMEM. */
int mx_ts_token(const void *data, size_t len, uint8_t **token, size_t *tlen);
/* What an (unverified) token says: its SHA-256 imprint and genTime (s).
 * Errors: MAIF_EFORMAT (not a token, not SHA-256). */
int mx_ts_info(const void *token, size_t len, uint8_t imprint[32], int64_t *gen_time);
/* Verifies the token's signature and its signer's certificate (extended
 * key usage timeStamping) to a root of s at the token's genTime. MX_OK or
 * MX_INVALID (detail says why); tsa gets the signer's subject. s's
 * verification time is changed. */
int mx_ts_verify(const mx_store *s, const void *token, size_t len, char *tsa, size_t tsa_cap, char *detail,
                 size_t cap);

#endif
