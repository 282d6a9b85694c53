/*
 * identity.h — what identity.c (certificate chains) and timestamp.c
 * (RFC 3161 time-stamp tokens) share: the commits of an artifact as the
 * identity checks need them. Private to src/api.
 */
#ifndef MAIF_API_IDENTITY_H
#define MAIF_API_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/x509.h"
#include "maif.h"

/* One commit. */
typedef struct icommit {
    uint64_t seq, first, blocks, ts; /* ts: the signer's claimed time, µs */
    uint8_t signer[32];
    uint8_t alg;
    const uint8_t *pk;                /* into the image */
    uint16_t pk_len;
    uint8_t imprint[32];              /* SHA-256 of the signed message (FORMAT.md §5.5): what a TSA stamps */
} icommit;

/* The commits of the image, oldest first (*out maif_malloc'd). Errors:
 * MAIF_EFORMAT, MAIF_ENOMEM (err says). */
int id_load_commits(const uint8_t *base, uint64_t size, icommit **out, size_t *n, char *err, size_t errcap);

/* The time-stamp blocks (TSTK) of r checked to the TSA roots tsa: a
 * finding for each (info "timestamp", or errors "timestamp-invalid",
 * "timestamp-no-commit", warning "timestamp-clock"), and existed_by[k]
 * (seconds; INT64_MAX if unknown) the earliest trusted time by which
 * commit k existed: its own tokens' and every later commit's. Errors:
 * MAIF_ENOMEM. */
int id_timestamps(maif_reader *r, const mx_store *tsa, const icommit *cs, size_t nc, int64_t *existed_by,
                  maif_report *rep);

#endif
