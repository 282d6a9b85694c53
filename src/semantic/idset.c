/*
 * idset.c — see idset.h. Ids are random, so their first 8 bytes are a
 * good enough hash.
 */
#include <string.h>

#include "semantic/idset.h"
#include "util/alloc.h"
#include "util/common.h"

static const uint8_t zero16[16];

static size_t slot_of(const sem_idset *s, const uint8_t id[16])
{
    uint64_t h;
    memcpy(&h, id, 8);
    h ^= h >> 31;
    h *= 0x9E3779B97F4A7C15ULL;
    size_t i = (size_t)(h >> 7) & (s->cap - 1);
    while (memcmp(s->keys + i * 16, zero16, 16) != 0 && memcmp(s->keys + i * 16, id, 16) != 0)
        i = (i + 1) & (s->cap - 1);
    return i;
}

int sem_idset_add(sem_idset *s, const uint8_t id[16])
{
    if (memcmp(id, zero16, 16) == 0) {
        s->has_zero = 1;
        return MAIF_OK;
    }
    if ((s->n + 1) * 2 > s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 64;
        sem_idset t = {maif_calloc(ncap, 16), 0, ncap, s->has_zero};
        if (!t.keys) return MAIF_ENOMEM;
        for (size_t i = 0; i < s->cap; i++) {
            const uint8_t *k = s->keys + i * 16;
            if (memcmp(k, zero16, 16) != 0) {
                memcpy(t.keys + slot_of(&t, k) * 16, k, 16);
                t.n++;
            }
        }
        maif_free(s->keys);
        *s = t;
    }
    size_t i = slot_of(s, id);
    if (memcmp(s->keys + i * 16, zero16, 16) == 0) {
        memcpy(s->keys + i * 16, id, 16);
        s->n++;
    }
    return MAIF_OK;
}

int sem_idset_has(const sem_idset *s, const uint8_t id[16])
{
    if (memcmp(id, zero16, 16) == 0) return s->has_zero;
    if (!s->cap) return 0;
    return memcmp(s->keys + slot_of(s, id) * 16, id, 16) == 0;
}

void sem_idset_free(sem_idset *s)
{
    maif_free(s->keys);
    memset(s, 0, sizeof *s);
}
