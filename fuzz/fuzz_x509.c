/*
 * fuzz_x509.c — certificate chains, root files and CRL files on arbitrary
 * bytes (PEM or DER): parse them with their bounds, and when the bytes are
 * both a chain and a root set, verify the one against the other at a fixed
 * time, without and (when they also hold CRLs: a PEM file may carry
 * certificates and CRLs) with revocation checks, and match the leaf
 * against a key. Nothing may crash, hang, leak or read outside the input;
 * a parsed chain never holds more than MX_CHAIN_MAX certificates, a CRL
 * set never more than MX_CRLS_MAX.
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
    mx_crls *crls = NULL;
    int rc = mx_chain_parse(data, size, &c);
    if (rc == MAIF_OK && (mx_chain_count(c) == 0 || mx_chain_count(c) > MX_CHAIN_MAX)) abort();
    if (rc != MAIF_OK && c) abort();
    rc = mx_crls_load(data, size, &crls);
    if (rc == MAIF_OK && (mx_crls_count(crls) == 0 || mx_crls_count(crls) > MX_CRLS_MAX)) abort();
    if (rc != MAIF_OK && crls) abort();
    for (size_t i = 0; i < mx_crls_count(crls); i++) {
        char line[700];
        if (mx_crl_stale(crls, i, 1764547200, line, sizeof line) && strlen(line) >= sizeof line) abort();
    }
    if (mx_store_load(data, size, &s) == MAIF_OK && c) {
        char detail[1200], subj[512];
        int v = mx_chain_verify(s, NULL, c, 1764547200000000ull, detail, sizeof detail);
        if (v < MX_OK || v > MX_INVALID) abort();
        if (crls) {
            int w = mx_chain_verify(s, crls, c, 1764547200000000ull, detail, sizeof detail);
            if (w < MX_OK || w > MX_REVOKED_LATER || (v != MX_OK && w != v)) abort();
        }
        (void)mx_chain_leaf_subject(c, subj, sizeof subj);
        if (strlen(subj) >= sizeof subj) abort();
        static const uint8_t zero[32];
        (void)mx_chain_leaf_matches(c, MAIF_SIG_ED25519, zero, 32);
        (void)mx_chain_leaf_matches(c, MAIF_SIG_P256, data, size < 91 ? size : 91);
    }
    mx_store_free(s);
    mx_chain_free(c);
    mx_crls_free(crls);
    return 0;
}
