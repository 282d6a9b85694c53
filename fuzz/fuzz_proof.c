/*
 * fuzz_proof.c — proofs on arbitrary bytes, two ways. As proof JSON: parse,
 * check, and a proof that parses must serialise and parse again to the same
 * JSON. As an artifact image: gather inclusion proofs of a few blocks and
 * consistency proofs between a few commits from whatever the reader accepts,
 * and check them. Nothing may crash, hang, leak or read outside the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "maif.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char out1[MAIF_PROOF_JSON_MAX * 2], out2[MAIF_PROOF_JSON_MAX * 2];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    maif_proof *p = NULL;
    if (maif_proof_parse(&p, (const char *)data, size) == MAIF_OK) {
        if (maif_proof_check(p, NULL) == MAIF_EINVAL) abort();
        size_t n1 = 0, n2 = 0;
        if (maif_proof_json(p, out1, sizeof out1, &n1) != MAIF_OK) abort();
        maif_proof *q = NULL;
        if (maif_proof_parse(&q, out1, n1) != MAIF_OK) abort();
        if (maif_proof_json(q, out2, sizeof out2, &n2) != MAIF_OK || n1 != n2 || memcmp(out1, out2, n1)) abort();
        maif_proof_free(q);
        maif_proof_free(p);
    }
    maif_reader *r = NULL;
    if (maif_reader_open_mem(&r, data, size) != MAIF_OK) return 0;
    uint64_t n = maif_reader_count(r);
    for (uint64_t b = 0; b < n && b < 4; b++) {
        if (maif_reader_prove_inclusion(r, n - 1 - b, MAIF_COMMIT_LAST, &p) == MAIF_OK) {
            if (maif_proof_check(p, NULL) == MAIF_EINVAL) abort();
            maif_proof_free(p);
        }
    }
    for (uint64_t c = 0; c < 3; c++) {
        if (maif_reader_prove_consistency(r, c, MAIF_COMMIT_LAST, &p) == MAIF_OK) {
            if (maif_proof_check(p, NULL) == MAIF_EINVAL) abort();
            maif_proof_free(p);
        }
    }
    maif_reader_close(r);
    return 0;
}
