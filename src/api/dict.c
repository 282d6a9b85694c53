/*
 * dict.c — training zstd dictionaries (maif.h "zstd dictionaries"): from
 * the caller's samples, or from an artifact's own blocks.
 *
 * Training from an artifact samples its newest blocks first (what is
 * being written now is what later blocks will look like), each cut to its
 * first 128 KiB (zstd's trainer gains nothing from longer samples), and
 * stops at 100 times the dictionary size (zstd's advice) or 32 MiB, so the
 * cost is bounded whatever the artifact's size.
 */
#include <string.h>

#include "api/api.h"
#include "codec/zdict.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/common.h"

_Static_assert(MAIF_DICT_MIN == MAIF_ZDICT_MIN && MAIF_DICT_MAX == MAIF_ZDICT_MAX, "dictionary limits agree");

#define SAMPLE_MAX   ((size_t)128 << 10) /* bytes of one block used */
#define SAMPLES_MAX  ((size_t)32 << 20)  /* bytes in all */

int maif_dict_train(void *dst, size_t dst_capacity, const void *samples, const size_t *sizes, size_t count,
                    size_t *written)
{
    if (written) *written = 0;
    if (!dst || !written) return maif_set_last_err(MAIF_EINVAL, "maif_dict_train: NULL argument");
    uint8_t *d = NULL;
    size_t n = 0;
    char err[200];
    int rc = maif_zdict_train(samples, sizes, count, dst_capacity, &d, &n, err, sizeof err);
    if (rc) return maif_set_last_err(rc, "%s", err);
    memcpy(dst, d, n); /* n <= dst_capacity */
    maif_free(d);
    *written = n;
    return MAIF_OK;
}

int maif_reader_dict_train(maif_reader *r, void *dst, size_t dst_capacity, size_t *written, uint64_t *used)
{
    if (written) *written = 0;
    if (used) *used = 0;
    if (!r || !dst || !written) return maif_set_last_err(MAIF_EINVAL, "maif_reader_dict_train: NULL argument");
    if (dst_capacity < MAIF_DICT_MIN || dst_capacity > MAIF_DICT_MAX)
        return maif_set_last_err(MAIF_EINVAL, "dictionary size %zu out of range [%u, %u]", dst_capacity,
                                 MAIF_DICT_MIN, MAIF_DICT_MAX);
    size_t budget = dst_capacity * 100 < SAMPLES_MAX ? dst_capacity * 100 : SAMPLES_MAX;
    maif_buf all = {0}, sizes = {0};
    uint8_t *tmp = NULL;
    size_t tmp_cap = 0;
    int rc = MAIF_OK;
    uint64_t count = 0;
    for (uint64_t i = maif_reader_count(r); i-- > 0 && all.len < budget;) {
        maif_block b;
        if (maif_reader_block(r, i, &b) != MAIF_OK) continue;
        if (b.type == MAIF_TYPE_ZDICT || b.type == MAIF_FOURCC('K', 'E', 'Y', 'W')) continue;
        size_t n = 0;
        if (maif_reader_block_decoded_size(r, i, &n) != MAIF_OK || n == 0) continue; /* no key, unknown codec */
        const uint8_t *p = b.payload;
        if (b.codec || b.cipher) {
            if (n > MAIF_DECODED_MAX || n > SAMPLES_MAX) continue; /* one huge block is no sample */
            if (n > tmp_cap) {
                uint8_t *t = maif_realloc(tmp, n);
                if (!t) {
                    rc = MAIF_ENOMEM;
                    break;
                }
                tmp = t;
                tmp_cap = n;
            }
            size_t got;
            if (maif_reader_block_decode(r, i, tmp, tmp_cap, &got) != MAIF_OK) continue;
            p = tmp;
            n = got;
        }
        if (n > SAMPLE_MAX) n = SAMPLE_MAX;
        if (n > budget - all.len) n = budget - all.len;
        if (maif_buf_append(&all, p, n) || maif_buf_append(&sizes, &n, sizeof n)) {
            rc = MAIF_ENOMEM;
            break;
        }
        count++;
    }
    maif_free(tmp);
    if (rc == MAIF_OK && count == 0)
        rc = maif_set_last_err(MAIF_ELIMIT, "nothing to train a dictionary on: no block it can read");
    else if (rc == MAIF_ENOMEM)
        maif_set_last_err(rc, "out of memory gathering samples");
    else {
        rc = maif_dict_train(dst, dst_capacity, all.data, (const size_t *)(void *)sizes.data, (size_t)count, written);
        if (rc == MAIF_OK && used) *used = count;
    }
    maif_buf_free(&all);
    maif_buf_free(&sizes);
    return rc;
}
