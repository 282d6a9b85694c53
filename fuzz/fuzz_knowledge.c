/*
 * fuzz_knowledge.c — the KNOW payload rules on arbitrary bytes: the
 * public check and the block drafts (what `maif add --type knowledge`
 * runs) must agree, and never crash.
 */
#include <stdint.h>
#include <stdlib.h>

#include "maif.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int a = maif_knowledge_check(data, size);
    maif_block_draft *d = NULL;
    if (maif_block_draft_new(&d, MAIF_TYPE_KNOWLEDGE, NULL, 0) != MAIF_OK) return 0;
    int b = maif_block_draft_set_payload(d, data, size);
    maif_block_draft_free(d);
    if ((a == MAIF_OK) != (b == MAIF_OK)) abort();
    return 0;
}
