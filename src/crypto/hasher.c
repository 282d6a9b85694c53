/*
 * hasher.c — the helper thread behind maif_hasher_*.
 *
 * Jobs live in a ring indexed by three counters that only ever grow:
 * published (jobs queued), next (jobs claimed) and done (jobs finished).
 * Because the counters never go back, a claim is a compare-and-swap of
 * next from n to n + 1 made only while n < published, and a stale reader
 * can never take a slot twice. The producer reuses a slot only after a
 * wait, when every job before it is done.
 *
 * The helper spins briefly when it runs dry (a producer appending small
 * records queues a job every microsecond or so), then sleeps on a
 * condition variable. Sleeping and waking follow the usual store-then-load
 * pairing: the helper sets `sleeping` and then looks for work; the
 * producer publishes and then looks at `sleeping`, both with sequentially
 * consistent atomics, so at least one of them sees the other and no
 * wake-up is lost.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "crypto/crypto.h"
#include "crypto/hasher.h"
#include "util/alloc.h"
#include "util/common.h"

#define SPIN_IDLE 2000 /* pauses (~50 us here) before the helper sleeps: longer than a commit's signature */
#define SPIN_WAIT 1000 /* pauses before a waiting producer yields */

typedef struct job {
    const uint8_t *data;
    size_t size;
    uint8_t *out;
    void (*fn)(void *); /* set: a call job, fn(arg) instead of a hash */
    void *arg;
    int alg; /* MAIF_HASH_* */
} job;

struct maif_hasher {
    job *ring;
    size_t cap; /* power of two */
    _Atomic uint64_t published;
    _Atomic uint64_t next;
    _Atomic uint64_t done;
    uint64_t base;  /* producer only: published at the last wait */
    int alg;        /* producer only: what pushes hash with (MAIF_HASH_*) */
    _Atomic int sleeping;
    _Atomic int stop;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
};

static int has_work(maif_hasher *h) { return atomic_load(&h->next) < atomic_load(&h->published); }

/* Claims the next unclaimed job; returns 0 when there is none. */
static int claim(maif_hasher *h, uint64_t *i)
{
    uint64_t n = atomic_load_explicit(&h->next, memory_order_relaxed);
    for (;;) {
        if (n >= atomic_load_explicit(&h->published, memory_order_acquire)) return 0;
        if (atomic_compare_exchange_weak_explicit(&h->next, &n, n + 1, memory_order_acq_rel,
                                                  memory_order_relaxed)) {
            *i = n;
            return 1;
        }
    }
}

static void run(maif_hasher *h, uint64_t i)
{
    const job *j = &h->ring[i & (h->cap - 1)];
    if (j->fn) j->fn(j->arg);
    else maif_chash(j->alg, j->data, j->size, j->out);
    atomic_fetch_add_explicit(&h->done, 1, memory_order_release);
}

static void *helper(void *arg)
{
    maif_hasher *h = arg;
    pthread_setname_np(pthread_self(), "maif-hash");
    for (;;) {
        uint64_t i;
        if (claim(h, &i)) {
            run(h, i);
            continue;
        }
        int found = 0;
        for (int s = 0; s < SPIN_IDLE && !found; s++) {
            maif_cpu_relax();
            found = has_work(h) || atomic_load_explicit(&h->stop, memory_order_relaxed);
        }
        if (found && !atomic_load(&h->stop)) continue;
        pthread_mutex_lock(&h->mu);
        atomic_store(&h->sleeping, 1);
        while (!atomic_load(&h->stop) && !has_work(h)) pthread_cond_wait(&h->cv, &h->mu);
        atomic_store(&h->sleeping, 0);
        pthread_mutex_unlock(&h->mu);
        if (atomic_load(&h->stop) && !has_work(h)) return NULL;
    }
}

maif_hasher *maif_hasher_start(size_t cap)
{
    if (cap == 0 || (cap & (cap - 1))) return NULL;
    maif_hasher *h = maif_calloc(1, sizeof *h);
    if (!h) return NULL;
    h->ring = maif_calloc(cap, sizeof *h->ring);
    h->cap = cap;
    atomic_init(&h->published, 0);
    atomic_init(&h->next, 0);
    atomic_init(&h->done, 0);
    atomic_init(&h->sleeping, 0);
    atomic_init(&h->stop, 0);
    if (!h->ring || pthread_mutex_init(&h->mu, NULL) != 0) goto fail_ring;
    if (pthread_cond_init(&h->cv, NULL) != 0) goto fail_mu;
    if (pthread_create(&h->thread, NULL, helper, h) != 0) goto fail_cv;
    return h;
fail_cv:
    pthread_cond_destroy(&h->cv);
fail_mu:
    pthread_mutex_destroy(&h->mu);
fail_ring:
    maif_free(h->ring);
    maif_free(h);
    return NULL;
}

static int push(maif_hasher *h, job j)
{
    uint64_t p = atomic_load_explicit(&h->published, memory_order_relaxed);
    if (p - h->base >= h->cap) return -1;
    h->ring[p & (h->cap - 1)] = j;
    atomic_store(&h->published, p + 1);
    if (atomic_load(&h->sleeping)) {
        pthread_mutex_lock(&h->mu);
        pthread_cond_signal(&h->cv);
        pthread_mutex_unlock(&h->mu);
    }
    return 0;
}

int maif_hasher_push(maif_hasher *h, const void *data, size_t size, uint8_t out[32])
{
    return push(h, (job){data, size, out, NULL, NULL, h->alg});
}

void maif_hasher_set_alg(maif_hasher *h, int alg) { h->alg = alg; }

int maif_hasher_push_call(maif_hasher *h, void (*fn)(void *), void *arg)
{
    return push(h, (job){NULL, 0, NULL, fn, arg, 0});
}

size_t maif_hasher_pending(const maif_hasher *h)
{
    return (size_t)(atomic_load_explicit(&h->published, memory_order_relaxed) - h->base);
}

void maif_hasher_wait(maif_hasher *h)
{
    uint64_t p = atomic_load_explicit(&h->published, memory_order_relaxed), i;
    while (claim(h, &i)) run(h, i);
    for (unsigned s = 0; atomic_load_explicit(&h->done, memory_order_acquire) < p; s++) {
        if (s < SPIN_WAIT) maif_cpu_relax();
        else sched_yield(); /* the helper was preempted mid-job */
    }
    h->base = p;
}

void maif_hasher_stop(maif_hasher *h)
{
    if (!h) return;
    pthread_mutex_lock(&h->mu);
    atomic_store(&h->stop, 1);
    pthread_cond_signal(&h->cv);
    pthread_mutex_unlock(&h->mu);
    pthread_join(h->thread, NULL);
    pthread_cond_destroy(&h->cv);
    pthread_mutex_destroy(&h->mu);
    maif_free(h->ring);
    maif_free(h);
}
