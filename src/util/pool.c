/*
 * pool.c — the threads behind maif_pool_run.
 *
 * A shared atomic counter hands out item numbers; each thread takes the
 * next one until none remain. The threads are started and joined inside
 * one call, which keeps the pool free of state between calls and its
 * failure mode simple: a thread that does not start is not waited for.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <unistd.h>

#include "util/pool.h"

unsigned maif_pool_cpus(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int n = CPU_COUNT(&set);
        if (n > 0) return (unsigned)n;
    }
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned)n : 1;
}

typedef struct pool {
    maif_pool_work work;
    void *ctx;
    uint64_t count;
    _Atomic uint64_t next;
    unsigned char *scratch; /* slot k at scratch + k * scratch_size, or NULL */
    size_t scratch_size;
} pool;

typedef struct pool_slot {
    pool *p;
    unsigned k;
    pthread_t t;
    int running;
} pool_slot;

static void pool_drain(pool *p, unsigned k)
{
    void *s = p->scratch ? p->scratch + (size_t)k * p->scratch_size : NULL;
    for (;;) {
        uint64_t i = atomic_fetch_add(&p->next, 1);
        if (i >= p->count) return;
        p->work(p->ctx, i, s);
    }
}

static void *pool_thread(void *arg)
{
    pool_slot *s = arg;
    pool_drain(s->p, s->k);
    return NULL;
}

void maif_pool_run(unsigned threads, uint64_t count, maif_pool_work work, void *ctx, void *scratch,
                   size_t scratch_size)
{
    if (threads > MAIF_POOL_MAX_THREADS) threads = MAIF_POOL_MAX_THREADS;
    pool p = {.work = work, .ctx = ctx, .count = count, .scratch = scratch, .scratch_size = scratch_size};
    atomic_init(&p.next, 0);
    pool_slot slot[MAIF_POOL_MAX_THREADS];
    for (unsigned k = 1; k < threads && k < count; k++) {
        slot[k] = (pool_slot){.p = &p, .k = k};
        slot[k].running = pthread_create(&slot[k].t, NULL, pool_thread, &slot[k]) == 0;
    }
    pool_drain(&p, 0);
    for (unsigned k = 1; k < threads && k < count; k++)
        if (slot[k].running) pthread_join(slot[k].t, NULL);
}
