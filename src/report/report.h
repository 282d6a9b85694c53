/*
 * report.h — building a verification report (the public side is in maif.h).
 * Verifiers of every format add findings here; the report bounds its own
 * size so a hostile file cannot make it grow without limit.
 */
#ifndef MAIF_REPORT_H
#define MAIF_REPORT_H

#include "maif.h"

/* What a format's verifier is told: the public maif_options reduced to the
 * settings verification uses (src/api/verify.c fills it). */
typedef struct maif_verify_options {
    const uint8_t *trusted; /* trusted_count pinned signer keys, MAIF_PUBKEY_BYTES each,
                               back to back; or NULL */
    size_t trusted_count;   /* 0: signer not pinned (an info finding says so) */
    unsigned threads;       /* hashing threads; 0 = one per CPU this thread may use */
} maif_verify_options;

#define MAIF_REPORT_MAX_FINDINGS 1000 /* past this, one "too-many" error stands for the rest */

maif_report *maif_report_new(void);
/* Adds a finding; message is printf-formatted. Never fails (an allocation
 * failure is recorded as a final error finding). */
void maif_report_add(maif_report *rep, int severity, const char *code, const char *section, int64_t block,
                     int64_t offset, const char *fmt, ...) __attribute__((format(printf, 7, 8)));
void maif_report_set_format(maif_report *rep, int format);
/* 1 if an allocation failed while the report was made (a "memory" or
 * "no-memory" finding, or one that could not be recorded): its verdict
 * means nothing. */
int maif_report_oom(const maif_report *rep);
void maif_report_set_blocks(maif_report *rep, uint64_t n);
/* Records a signer key seen in the file and checks it against opt's trusted
 * keys. Adds an error finding "untrusted-signer" when keys are pinned and
 * this one is not among them, or (once per report) an info finding
 * "signer-not-pinned" when none are pinned. Returns 1 if trusted or unpinned. */
int maif_report_signer_seen(maif_report *rep, const maif_verify_options *opt, const uint8_t pk[MAIF_PUBKEY_BYTES],
                            int alg,
                            const char *section, int64_t offset);
/* Number of error findings so far. */
size_t maif_report_errors(const maif_report *rep);

#endif
