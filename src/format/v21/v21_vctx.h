/*
 * v21_vctx.h — the 2.1 verifier's context and the small checks every part
 * of it applies (v21_vcheck.c); internal.
 *
 * The verifier is layered one way: v21_verify.c holds the order of the
 * whole check and the block, header, security, index and footer rules and
 * calls the provenance rules (v21_prov.h, v21_verify_prov.c); both use
 * only what this header declares, never each other's helpers.
 */
#ifndef MAIF_V21_VCTX_H
#define MAIF_V21_VCTX_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "format/v21/v21_internal.h"
#include "report/report.h"

/* One verification: the image, the parse, the report, and the key taken
 * from the security section. */
typedef struct v21_vctx {
    const uint8_t *buf;
    size_t len;
    const maif21 *m;
    maif_report *rep;
    const maif_verify_options *opt;
    uint8_t pk[MAIF_PUBKEY_BYTES];
    int have_pk;
    char *signer_id; /* security signer_id (owned), or NULL */
} v21_vctx;

/* Adds one error finding. */

#define ERR(v, code, section, block, off, ...) \
    maif_report_add((v)->rep, MAIF_SEV_ERROR, code, section, (int64_t)(block), (int64_t)(off), __VA_ARGS__)

/* 1 if the header agent_did (cut to 64 bytes) is what a writer would store
 * for did. */
int v21_did_matches_header(const v21_vctx *v, const char *did);
/* 1 if s is exactly n lowercase hex digits. */
int v21_is_lower_hex(const char *s, size_t n);
/* Compares JSON bytes with Python's ordered serialisation of their parse. */
int v21_same_as_python(const json_t *parsed, const uint8_t *bytes, size_t n);

#endif
