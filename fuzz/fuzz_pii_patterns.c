/*
 * fuzz_pii_patterns.c — the custom-pattern configuration parser on
 * arbitrary bytes: loading must succeed or fail with one of its documented
 * codes, a failure must keep the previous patterns, and a configuration
 * that loads is run over the input itself (match limits bound the work).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "maif.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    maif_pii_scanner *s = NULL;
    if (maif_pii_scanner_create(&s) != MAIF_OK) abort();
    static const char base[] = "known = KNOWN-\\d+\n";
    if (maif_pii_scanner_load_patterns(s, base, sizeof base - 1) != MAIF_OK) abort();
    int rc = maif_pii_scanner_load_patterns(s, (const char *)data, size);
    if (rc != MAIF_OK && rc != MAIF_EINVAL && rc != MAIF_ELIMIT && rc != MAIF_ENOMEM) abort();
    size_t n = 0;
    if (rc != MAIF_OK) {
        /* the old pattern is still there */
        if (maif_pii_scan(s, "KNOWN-42", 8, &n) != MAIF_OK || n != 1) abort();
    } else {
        int r2 = maif_pii_scan(s, (const char *)data, size, &n);
        if (r2 != MAIF_OK && r2 != MAIF_ELIMIT) abort();
        for (size_t i = 0; i < n; i++) {
            const maif_pii_finding *f = maif_pii_scanner_finding(s, i);
            if (f->offset + f->length > size || !f->label || !*f->label) abort();
        }
    }
    maif_pii_scanner_free(s);
    return 0;
}
