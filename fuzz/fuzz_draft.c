/*
 * fuzz_draft.c — JSONL lines: maif_block_draft_from_json (with its
 * one-pass scanner, src/api/draft_fast.c) and the general jansson path
 * must agree on every input: the same verdict and message, and on success
 * the same type, payload, canonical metadata and codec. Inputs are
 * arbitrary bytes; the library must never crash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "maif.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    maif_block_draft *a = NULL, *b = NULL;
    int ra = maif_block_draft_from_json(&a, (const char *)data, size);
    char *ma = ra ? strdup(maif_last_errmsg()) : NULL;
    int rb = maif_draft_from_json_tree(&b, (const char *)data, size);
    if (ra != rb) abort();
    if (ra && (!ma || strcmp(ma, maif_last_errmsg()) != 0)) abort();
    if (!ra) {
        maif_block_spec sa, sb;
        if (maif_block_draft_spec(a, &sa) != maif_block_draft_spec(b, &sb)) abort();
        if (sa.type != sb.type || sa.payload_size != sb.payload_size || sa.meta_size != sb.meta_size) abort();
        if (sa.payload_size && memcmp(sa.payload, sb.payload, sa.payload_size)) abort();
        if (sa.meta_size && memcmp(sa.meta_json, sb.meta_json, sa.meta_size)) abort();
        int ca, la, cb, lb;
        if (maif_draft_codec(a, &ca, &la) != maif_draft_codec(b, &cb, &lb) || ca != cb || la != lb) abort();
        if (maif_block_draft_pending(a) != maif_block_draft_pending(b)) abort();
    }
    free(ma);
    maif_block_draft_free(a);
    maif_block_draft_free(b);
    return 0;
}
