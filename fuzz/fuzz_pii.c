/*
 * fuzz_pii.c — the PII scanner on arbitrary bytes: it must never crash,
 * every finding must lie inside the text, in order and without overlap,
 * and anonymising in each mode must succeed and leave the text unchanged
 * when nothing was found.
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
    const char *t = (const char *)data;
    size_t n = 0;
    if (maif_pii_scan(s, t, size, &n) != MAIF_OK) abort();
    size_t end = 0;
    for (size_t i = 0; i < n; i++) {
        const maif_pii_finding *f = maif_pii_scanner_finding(s, i);
        if (!f || f->length == 0 || f->offset < end || f->offset + f->length > size || f->text != t + f->offset) abort();
        if (f->type < 1 || f->type > MAIF_PII_TYPE_MAX) abort();
        end = f->offset + f->length;
    }
    if (maif_pii_scanner_finding(s, n) != NULL) abort();
    uint8_t key[MAIF_PII_KEY_BYTES] = {1, 2, 3};
    if (maif_pii_scanner_set_key(s, key) != MAIF_OK) abort();
    for (int mode = MAIF_PII_REDACT; mode <= MAIF_PII_PSEUDO; mode++) {
        const char *out = NULL;
        size_t ol = 0;
        if (maif_pii_anonymize(s, t, size, mode, &out, &ol) != MAIF_OK) abort();
        if (!out || out[ol] != 0) abort();
        if (n == 0 && (ol != size || memcmp(out, t, size) != 0)) abort();
    }
    maif_pii_scanner_free(s);
    return 0;
}
