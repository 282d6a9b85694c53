/*
 * fuzz_x509.c — certificate chains and root files on arbitrary bytes (PEM
 * or DER): parse them with their bounds, and when the bytes are both a
 * chain and a root set, verify the one against the other at a fixed time
 * and match the leaf against a key. Nothing may crash, hang, leak or read
 * outside the input; a parsed chain never holds more than MX_CHAIN_MAX
 * certificates.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/x509.h"
#include "maif.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mx_chain *c = NULL;
    mx_store *s = NULL;
    int rc = mx_chain_parse(data, size, &c);
    if (rc == MAIF_OK && (mx_chain_count(c) == 0 || mx_chain_count(c) > MX_CHAIN_MAX)) abort();
    if (rc != MAIF_OK && c) abort();
    if (mx_store_load(data, size, &s) == MAIF_OK && c) {
        char detail[1200], subj[512];
        int v = mx_chain_verify(s, c, 1764547200000000ull, detail, sizeof detail);
        if (v < MX_OK || v > MX_INVALID) abort();
        (void)mx_chain_leaf_subject(c, subj, sizeof subj);
        if (strlen(subj) >= sizeof subj) abort();
        static const uint8_t zero[32];
        (void)mx_chain_leaf_matches(c, MAIF_SIG_ED25519, zero, 32);
        (void)mx_chain_leaf_matches(c, MAIF_SIG_P256, data, size < 91 ? size : 91);
    }
    mx_store_free(s);
    mx_chain_free(c);
    return 0;
}
