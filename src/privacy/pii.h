/*
 * pii.h — the PII scanner's internals shared by its files (pii.c: the
 * built-in scanners and the scan; pii_pattern.c: custom PCRE2 patterns;
 * pii_anon.c: redaction, masking, keyed pseudonyms) and its tests.
 */
#ifndef MAIF_PII_H
#define MAIF_PII_H

#include <stddef.h>
#include <stdint.h>

#include "maif.h"
#include "util/buf.h"

typedef struct pii_pattern {
    char name[33];  /* [a-z0-9_-]{1,32}, NUL-terminated */
    void *code;     /* pcre2_code_8 *, owned */
    int jit;        /* 1 if JIT-compiled */
} pii_pattern;

struct maif_pii_scanner {
    uint32_t types;           /* bit (1 << MAIF_PII_x) per built-in type on */
    maif_pii_finding *f;      /* findings of the last scan: n used, cap allocated */
    size_t n, cap;
    pii_pattern *pat;         /* npat custom patterns */
    size_t npat;
    void *mctx;               /* pcre2_match_context_8 * with the limits, or NULL */
    void *md;                 /* pcre2_match_data_8 *, or NULL */
    uint8_t *key;             /* MAIF_PII_KEY_BYTES in sodium_malloc'd memory, or NULL */
    maif_buf out;             /* maif_pii_anonymize's output */
};

/* Appends one candidate finding (not yet ordered or de-overlapped).
 * Returns 0 or MAIF_ENOMEM. */
int pii_add(maif_pii_scanner *s, int type, const char *text, size_t off, size_t len, const char *label);
/* Runs the custom patterns over text, adding candidates. Returns 0,
 * MAIF_ENOMEM, or MAIF_ELIMIT (a pattern hit a match limit). */
int pii_patterns_scan(maif_pii_scanner *s, const char *text, size_t len);
void pii_patterns_free(maif_pii_scanner *s);

/* The built-in checks, exposed for the tests. */
int pii_luhn_ok(const char *digits, size_t n);
int pii_iban_ok(const char *s, size_t n); /* compact form: letters and digits only */
int pii_ssn_ok(unsigned area, unsigned group, unsigned serial);

#endif
