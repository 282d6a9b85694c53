/*
 * fuzz_x509.c — certificate chains, root files and CRL files on arbitrary
 * bytes (PEM or DER): parse them with their bounds, and when the bytes are
 * both a chain and a root set, verify the one against the other at a fixed
 * time, without and (when they also hold CRLs: a PEM file may carry
 * certificates and CRLs) with revocation checks, and match the leaf
 * against a key. Nothing may crash, hang, leak or read outside the input;
 * a parsed chain never holds more than MX_CHAIN_MAX certificates, a CRL
 * set never more than MX_CRLS_MAX. The same bytes as an RFC 3161
 * time-stamp response or token: extracted, read, and verified to the
 * bytes as TSA roots when they load.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/tsa.h"
#include "crypto/x509.h"
#include "maif.h"
#include "util/alloc.h"

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
        int v = mx_chain_verify(s, NULL, c, 1764547200000000ull, INT64_MAX, detail, sizeof detail);
        if (v < MX_OK || v > MX_INVALID) abort();
        if (crls) {
            int w = mx_chain_verify(s, crls, c, 1764547200000000ull, (int64_t)(size & 1 ? 1700000000 : INT64_MAX), detail,
                                    sizeof detail);
            if (w < MX_OK || w > MX_REVOKED_LATER || (v != MX_OK && w != v)) abort();
        }
        (void)mx_chain_leaf_subject(c, subj, sizeof subj);
        if (strlen(subj) >= sizeof subj) abort();
        static const uint8_t zero[32];
        (void)mx_chain_leaf_matches(c, MAIF_SIG_ED25519, zero, 32);
        (void)mx_chain_leaf_matches(c, MAIF_SIG_P256, data, size < 91 ? size : 91);
    }
    uint8_t *tok = NULL, imprint[32];
    size_t tl = 0;
    rc = mx_ts_token(data, size, &tok, &tl);
    if (rc != MAIF_OK && tok) abort();
    if (rc == MAIF_OK) {
        if (tl == 0 || tl > MX_TS_BYTES + 1024) abort();
        int64_t when = 0;
        int irc = mx_ts_info(tok, tl, imprint, &when); /* a token with another digest is refused here */
        if (irc != MAIF_OK && irc != MAIF_EFORMAT) abort();
    }
    if (s) {
        char who[512], why[600];
        int v = mx_ts_verify(s, tok ? tok : data, tok ? tl : size, who, sizeof who, why, sizeof why);
        if (v != MX_OK && v != MX_INVALID) abort();
        if (strlen(who) >= sizeof who || strlen(why) >= sizeof why) abort();
    }
    maif_free(tok);
    mx_store_free(s);
    mx_chain_free(c);
    mx_crls_free(crls);
    return 0;
}
