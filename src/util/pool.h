/*
 * pool.h — run a numbered batch of independent work items on a few threads.
 *
 * Both verifiers split their costly part (hashing, signature checks, JSON
 * parses) into items that each write only their own result slot, so no
 * locking is needed beyond handing out the next item number. The threads
 * live for one call: there is nothing to create, configure or tear down,
 * and a verifier that runs two phases simply calls twice.
 */
#ifndef MAIF_POOL_H
#define MAIF_POOL_H

#include <stddef.h>
#include <stdint.h>

#define MAIF_POOL_MAX_THREADS 16

/* CPUs the calling thread may run on (its affinity mask, so a container's
 * cpuset counts, not the machine's CPUs); at least 1. */
unsigned maif_pool_cpus(void);

/* One work item. i is the item number, 0 <= i < count; scratch is the
 * calling thread's own scratch slot (see maif_pool_run), or NULL when the
 * caller gave none. work must write only item i's result and its scratch. */
typedef void (*maif_pool_work)(void *ctx, uint64_t i, void *scratch);

/* Runs work(ctx, i, scratch) for every i in [0, count) and returns when all
 * are done. Items are handed out in increasing order to up to threads
 * threads, the calling thread included, so threads <= 1 runs everything on
 * the caller; threads is capped at MAIF_POOL_MAX_THREADS and no more
 * helpers start than there are items. A helper that pthread_create cannot
 * start is simply left out: the others (at least the caller) do its share.
 *
 * scratch, when not NULL, is an array of threads slots of scratch_size
 * bytes each (at most MAIF_POOL_MAX_THREADS); the thread numbered k (0 is
 * the caller) gets slot k for every item it runs, so per-thread state such
 * as a growable buffer survives from item to item and from call to call.
 * The caller owns the slots and whatever the work puts in them. */
void maif_pool_run(unsigned threads, uint64_t count, maif_pool_work work, void *ctx, void *scratch,
                   size_t scratch_size);

#endif
