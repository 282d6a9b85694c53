/*
 * idset.h — a set of 16-byte block ids (open addressing, grows by
 * doubling): which texts already have an embedding, which blocks a tail
 * supersedes.
 */
#ifndef MAIF_SEM_IDSET_H
#define MAIF_SEM_IDSET_H

#include <stddef.h>
#include <stdint.h>

typedef struct sem_idset {
    uint8_t *keys; /* cap * 16 bytes; an all-zero key marks an empty slot */
    size_t n, cap; /* cap is 0 or a power of two; n < cap / 2 */
    int has_zero;  /* the all-zero id itself is a member */
} sem_idset;

/* 0, or MAIF_ENOMEM. */
int sem_idset_add(sem_idset *s, const uint8_t id[16]);
int sem_idset_has(const sem_idset *s, const uint8_t id[16]);
void sem_idset_free(sem_idset *s);

#endif
