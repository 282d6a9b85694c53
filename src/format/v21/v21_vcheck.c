/*
 * v21_vcheck.c — the small checks that every part of the 2.1 verifier
 * applies (declared in v21_vctx.h).
 */
#include <string.h>

#include "format/v21/v21_vctx.h"
#include "util/buf.h"

/* 1 if the header agent_did (cut to 64 bytes) is what a writer would store
 * for did. */
int v21_did_matches_header(const v21_vctx *v, const char *did)
{
    size_t dl = strlen(did);
    if (dl > V21_DID_LEN) dl = V21_DID_LEN;
    return strlen(v->m->agent) == dl && memcmp(v->m->agent, did, dl) == 0;
}

/* 1 if s is exactly n lowercase hex digits. */
int v21_is_lower_hex(const char *s, size_t n)
{
    if (strlen(s) != n) return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return 0;
    return 1;
}

/* Compares JSON bytes with Python's ordered serialisation of their parse. */
int v21_same_as_python(const json_t *parsed, const uint8_t *bytes, size_t n)
{
    maif_buf b = {0};
    int same = v21_json_dump_ordered(parsed, &b) == MAIF_OK && b.len == n && (n == 0 || memcmp(b.data, bytes, n) == 0);
    maif_buf_free(&b);
    return same;
}

