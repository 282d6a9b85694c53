/*
 * fuzz_policy.c — access policies from hostile JSON: maif_policy_parse
 * must never crash, leak or accept more than its bounds; a policy it
 * accepts must answer maif_policy_decide and maif_policy_check_write for
 * a few fixed requests without crashing, and a denial must come with a
 * reason. Arbitrary bytes in; any broken promise aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "maif.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    maif_policy *p = NULL;
    int rc = maif_policy_parse(&p, (const char *)data, size);
    if (rc != MAIF_OK) {
        if (p) abort();
        if (rc != MAIF_EJSON && rc != MAIF_ELIMIT && rc != MAIF_ENOMEM) abort();
        return 0;
    }
    if (!p || maif_policy_level(p) < 0 || maif_policy_level(p) > 4) abort();
    uint8_t who[3][MAIF_PUBKEY_BYTES] = {{0}, {0x11}, {0xff}};
    memset(who[1], 0x11, sizeof who[1]);
    memset(who[2], 0xff, sizeof who[2]);
    static const uint32_t types[] = {MAIF_TYPE_TEXT, MAIF_TYPE_IMAGE};
    static const char *const purposes[] = {NULL, "treatment"};
    for (int k = 0; k < 3; k++)
        for (int lv = 0; lv <= 4; lv++)
            for (int t = 0; t < 2; t++) {
                maif_access_request q = {who[k], purposes[t], 1772445600000000ull + (uint64_t)lv * 3600000000ull,
                                         types[t], lv, t};
                char why[200] = "";
                int v = maif_policy_decide(p, &q, why, sizeof why);
                if (v != MAIF_OK && (v != MAIF_EACCESS || !why[0])) abort();
                maif_block_spec sp = {.type = types[t]};
                int w = maif_policy_check_write(p, &sp, lv % 4, who[k], why, sizeof why);
                if (w != MAIF_OK && w != MAIF_EACCESS) abort();
                (void)maif_policy_may_read_level(p, who[k], types[t], lv);
            }
    (void)maif_policy_has_admins(p);
    maif_policy_free(p);
    return 0;
}
