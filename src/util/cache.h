/*
 * cache.h — a byte-budgeted cache of immutable values keyed by a u64, with
 * the S3-FIFO eviction policy (Yang et al., SOSP 2023), safe to share
 * between threads.
 *
 * S3-FIFO keeps a small FIFO (a tenth of the budget) that new keys enter,
 * a main FIFO for keys read again while in the small one, and a ghost
 * FIFO of keys recently evicted from the small one (keys only, no bytes):
 * a key found among the ghosts goes straight to main. A one-pass scan
 * therefore only churns the small FIFO and never flushes the working set
 * out of main, which is what LRU does. Each entry counts its hits (0..3);
 * main gives an entry with hits a second round (the count decremented)
 * instead of evicting it: CLOCK inside a FIFO, no list moves on a hit.
 *
 * The reader uses it for decoded (decompressed, decrypted) payloads, where
 * a hit saves the codec and the AEAD; values are copied in and out under
 * one mutex, so nothing handed out can be freed under a caller.
 */
#ifndef MAIF_CACHE_H
#define MAIF_CACHE_H

#include <stddef.h>
#include <stdint.h>

typedef struct maif_cache maif_cache;

typedef struct maif_cache_counters {
    uint64_t hits, misses, inserts, evictions;
    size_t bytes;   /* held now, entry overhead included */
    size_t entries; /* values held now (ghosts not counted) */
    size_t budget;
} maif_cache_counters;

/* A cache that holds at most budget bytes (values plus a fixed overhead
 * per entry). Returns NULL when out of memory. */
maif_cache *maif_cache_new(size_t budget);
void maif_cache_free(maif_cache *c);

/* Looks key up. Found: if its value fits in cap bytes it is copied to dst;
 * *size is set to the value's size either way; returns 1 (a hit). Not
 * found: returns 0 (a miss). */
int maif_cache_get(maif_cache *c, uint64_t key, void *dst, size_t cap, size_t *size);
/* Copies value (size bytes) in under key, evicting as the policy says. A
 * value over an eighth of the budget, or a key already held, is not
 * inserted. Returns 0, or MAIF_ENOMEM (the cache is unchanged). */
int maif_cache_put(maif_cache *c, uint64_t key, const void *value, size_t size);
void maif_cache_counters_get(maif_cache *c, maif_cache_counters *out);

#endif
