/*
 * options.c — the options object of maif.h: a fixed array of int64_t
 * values indexed by option id, plus the pinned keys. Ids are small
 * integers so that a binding can pass them as plain numbers; each has a
 * range checked on set, so a stored value is always one the library
 * accepts and the readers never re-check it.
 */
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/common.h"
#include "util/options.h"

#define OPT_LAST MAIF_OPT_INDEX_PQ_M

struct maif_options {
    int64_t v[OPT_LAST + 1]; /* v[id]: the value of every settable id, always in its range */
    uint8_t *trusted;        /* ntrusted keys of MAIF_PUBKEY_BYTES, back to back */
    size_t ntrusted;         /* <= MAIF_TRUSTED_KEYS_MAX */
};

/* Range of each id's value; {0, 0} marks an id that is not settable. */
static const struct {
    int64_t lo, hi;
    const char *name;
} spec[OPT_LAST + 1] = {
    [MAIF_OPT_THREADS] = {0, MAIF_THREADS_MAX, "MAIF_OPT_THREADS"},
    [MAIF_OPT_OVERWRITE] = {0, 1, "MAIF_OPT_OVERWRITE"},
    [MAIF_OPT_DURABLE] = {0, 1, "MAIF_OPT_DURABLE"},
    [MAIF_OPT_FORCE_RECOVER] = {0, 1, "MAIF_OPT_FORCE_RECOVER"},
    [MAIF_OPT_CONVERT_FORCE] = {0, 1, "MAIF_OPT_CONVERT_FORCE"},
    [MAIF_OPT_TRUSTED_KEYS] = {0, 0, "MAIF_OPT_TRUSTED_KEYS"},
    [MAIF_OPT_CODEC] = {0, 2, "MAIF_OPT_CODEC"},
    [MAIF_OPT_CODEC_LEVEL] = {-100, 64, "MAIF_OPT_CODEC_LEVEL"},
    [MAIF_OPT_LOCK_WAIT_MS] = {0, 3600000, "MAIF_OPT_LOCK_WAIT_MS"},
    [MAIF_OPT_INDEX_M] = {0, 128, "MAIF_OPT_INDEX_M"},
    [MAIF_OPT_INDEX_EF_CONSTRUCTION] = {0, 4096, "MAIF_OPT_INDEX_EF_CONSTRUCTION"},
    [MAIF_OPT_INDEX_METRIC] = {0, 3, "MAIF_OPT_INDEX_METRIC"},
    [MAIF_OPT_INDEX_QUANTIZE] = {0, 2, "MAIF_OPT_INDEX_QUANTIZE"},
    [MAIF_OPT_INDEX_THREADS] = {0, MAIF_THREADS_MAX, "MAIF_OPT_INDEX_THREADS"},
    [MAIF_OPT_INDEX_PQ_M] = {0, 1024, "MAIF_OPT_INDEX_PQ_M"},
    [MAIF_OPT_WORKERS] = {0, MAIF_THREADS_MAX, "MAIF_OPT_WORKERS"},
    [MAIF_OPT_ASYNC_QUEUE] = {0, 1 << 20, "MAIF_OPT_ASYNC_QUEUE"},
    [MAIF_OPT_CONTENT_HASH] = {0, 1, "MAIF_OPT_CONTENT_HASH"},
};

static int known(int option) { return option >= 1 && option <= OPT_LAST && spec[option].name; }

int maif_options_create(maif_options **out)
{
    if (!out) return maif_set_last_err(MAIF_EINVAL, "maif_options_create: out is NULL");
    *out = maif_calloc(1, sizeof **out); /* every default is 0 */
    if (!*out) return maif_set_last_err(MAIF_ENOMEM, "maif_options_create: out of memory");
    return MAIF_OK;
}

void maif_options_free(maif_options *o)
{
    if (!o) return;
    maif_free(o->trusted);
    maif_free(o);
}

int maif_options_set(maif_options *o, int option, int64_t value)
{
    if (!o) return maif_set_last_err(MAIF_EINVAL, "maif_options_set: options are NULL");
    if (!known(option)) return maif_set_last_err(MAIF_EINVAL, "maif_options_set: unknown option id %d", option);
    if (option == MAIF_OPT_TRUSTED_KEYS) {
        if (value != 0)
            return maif_set_last_err(MAIF_EINVAL, "MAIF_OPT_TRUSTED_KEYS can only be set to 0 (clear); "
                                                  "add keys with maif_options_add_trusted_key");
        maif_free(o->trusted);
        o->trusted = NULL;
        o->ntrusted = 0;
        return MAIF_OK;
    }
    if (value < spec[option].lo || value > spec[option].hi)
        return maif_set_last_err(MAIF_EINVAL, "%s: %lld is out of range [%lld, %lld]", spec[option].name,
                                 (long long)value, (long long)spec[option].lo, (long long)spec[option].hi);
    o->v[option] = value;
    return MAIF_OK;
}

int maif_options_get(const maif_options *o, int option, int64_t *value)
{
    if (!value) return maif_set_last_err(MAIF_EINVAL, "maif_options_get: value is NULL");
    if (!known(option)) return maif_set_last_err(MAIF_EINVAL, "maif_options_get: unknown option id %d", option);
    *value = maif_opt(o, option);
    return MAIF_OK;
}

int maif_options_add_trusted_key(maif_options *o, const uint8_t pk[MAIF_PUBKEY_BYTES])
{
    if (!o || !pk) return maif_set_last_err(MAIF_EINVAL, "maif_options_add_trusted_key: NULL argument");
    for (size_t i = 0; i < o->ntrusted; i++)
        if (memcmp(o->trusted + i * MAIF_PUBKEY_BYTES, pk, MAIF_PUBKEY_BYTES) == 0) return MAIF_OK;
    if (o->ntrusted >= MAIF_TRUSTED_KEYS_MAX)
        return maif_set_last_err(MAIF_ELIMIT, "at most %d pinned keys", MAIF_TRUSTED_KEYS_MAX);
    uint8_t *t = maif_realloc(o->trusted, (o->ntrusted + 1) * MAIF_PUBKEY_BYTES);
    if (!t) return maif_set_last_err(MAIF_ENOMEM, "maif_options_add_trusted_key: out of memory");
    memcpy(t + o->ntrusted * MAIF_PUBKEY_BYTES, pk, MAIF_PUBKEY_BYTES);
    o->trusted = t;
    o->ntrusted++;
    return MAIF_OK;
}

int64_t maif_opt(const maif_options *o, int option)
{
    if (option == MAIF_OPT_TRUSTED_KEYS) return o ? (int64_t)o->ntrusted : 0;
    if (!o || !known(option)) return 0;
    return o->v[option];
}

const uint8_t *maif_opt_trusted(const maif_options *o, size_t *n)
{
    *n = o ? o->ntrusted : 0;
    return o && o->ntrusted ? o->trusted : NULL;
}
