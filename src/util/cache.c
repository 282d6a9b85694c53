/*
 * cache.c — S3-FIFO over a chained hash table (see cache.h for the policy).
 *
 * Every entry, ghosts included, is in the hash table and in exactly one of
 * three FIFO queues (pushed at the head, taken from the tail). Only the
 * small and main queues count against the budget; the ghost queue is
 * bounded by count (as many ghosts as main holds entries, at least 64), so
 * the table stays proportional to what the budget holds.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/cache.h"
#include "util/common.h"

#define ENTRY_COST 64u /* bytes charged per entry besides its value */
#define GHOST_MIN  64u
#define FREQ_MAX   3u

enum { Q_SMALL, Q_MAIN, Q_GHOST };

typedef struct entry {
    uint64_t key;
    struct entry *hnext;       /* hash chain */
    struct entry *prev, *next; /* queue: prev toward the head, next toward the tail */
    uint8_t *val;              /* NULL for a ghost */
    size_t size;
    uint8_t freq;              /* hits since it entered its queue or was last spared, capped */
    uint8_t q;                 /* Q_* it is in */
} entry;

typedef struct queue {
    entry *head, *tail;
    size_t bytes; /* charged bytes (0 for ghosts) */
    size_t n;
} queue;

struct maif_cache {
    pthread_mutex_t mu;
    size_t budget, small_target;
    queue q[3];
    entry **tab;
    size_t nbuckets; /* a power of two */
    size_t nent;     /* entries in the table, ghosts included */
    uint64_t hits, misses, inserts, evictions;
};

static size_t bucket(const maif_cache *c, uint64_t key)
{
    return (size_t)((key * 0x9E3779B97F4A7C15ull) >> 32) & (c->nbuckets - 1);
}

static entry *find(const maif_cache *c, uint64_t key)
{
    for (entry *e = c->tab[bucket(c, key)]; e; e = e->hnext)
        if (e->key == key) return e;
    return NULL;
}

static void hash_remove(maif_cache *c, entry *e)
{
    entry **p = &c->tab[bucket(c, e->key)];
    while (*p != e) p = &(*p)->hnext;
    *p = e->hnext;
    c->nent--;
}

/* Doubles the table when it is fuller than one entry per bucket; on
 * allocation failure the chains just grow longer. */
static void hash_grow(maif_cache *c)
{
    if (c->nent < c->nbuckets) return;
    size_t nb = c->nbuckets * 2;
    entry **t = maif_calloc(nb, sizeof *t);
    if (!t) return;
    for (size_t i = 0; i < c->nbuckets; i++)
        for (entry *e = c->tab[i], *next; e; e = next) {
            next = e->hnext;
            size_t b = (size_t)((e->key * 0x9E3779B97F4A7C15ull) >> 32) & (nb - 1);
            e->hnext = t[b];
            t[b] = e;
        }
    maif_free(c->tab);
    c->tab = t;
    c->nbuckets = nb;
}

static size_t cost(const entry *e) { return e->q == Q_GHOST ? 0 : e->size + ENTRY_COST; }

static void q_push(maif_cache *c, int qi, entry *e)
{
    queue *q = &c->q[qi];
    e->q = (uint8_t)qi;
    e->prev = NULL;
    e->next = q->head;
    if (q->head) q->head->prev = e;
    else q->tail = e;
    q->head = e;
    q->n++;
    q->bytes += cost(e);
}

static void q_remove(maif_cache *c, entry *e)
{
    queue *q = &c->q[e->q];
    if (e->prev) e->prev->next = e->next;
    else q->head = e->next;
    if (e->next) e->next->prev = e->prev;
    else q->tail = e->prev;
    q->n--;
    q->bytes -= cost(e);
}

/* Values may be decrypted payloads: wiped before their memory goes back. */
static void free_val(entry *e)
{
    if (e->val) explicit_bzero(e->val, e->size);
    maif_free(e->val);
    e->val = NULL;
}

static void drop(maif_cache *c, entry *e)
{
    q_remove(c, e);
    hash_remove(c, e);
    free_val(e);
    maif_free(e);
}

static void evict_small(maif_cache *c)
{
    entry *t = c->q[Q_SMALL].tail;
    q_remove(c, t);
    if (t->freq > 0) { /* read again while on probation: into main */
        t->freq = 0;
        q_push(c, Q_MAIN, t);
        return;
    }
    free_val(t);
    q_push(c, Q_GHOST, t);
    c->evictions++;
    size_t gmax = c->q[Q_MAIN].n > GHOST_MIN ? c->q[Q_MAIN].n : GHOST_MIN;
    while (c->q[Q_GHOST].n > gmax) drop(c, c->q[Q_GHOST].tail);
}

static void evict_main(maif_cache *c)
{
    entry *t = c->q[Q_MAIN].tail;
    if (t->freq > 0) { /* another round, one hit fewer */
        t->freq--;
        q_remove(c, t);
        q_push(c, Q_MAIN, t);
        return;
    }
    drop(c, t);
    c->evictions++;
}

static void evict(maif_cache *c)
{
    while (c->q[Q_SMALL].bytes + c->q[Q_MAIN].bytes > c->budget) {
        if (c->q[Q_SMALL].n && (c->q[Q_SMALL].bytes > c->small_target || c->q[Q_MAIN].n == 0)) evict_small(c);
        else evict_main(c);
    }
}

maif_cache *maif_cache_new(size_t budget)
{
    maif_cache *c = maif_calloc(1, sizeof *c);
    if (!c) return NULL;
    c->nbuckets = 64;
    if (!(c->tab = maif_calloc(c->nbuckets, sizeof *c->tab)) || pthread_mutex_init(&c->mu, NULL)) {
        maif_free(c->tab);
        maif_free(c);
        return NULL;
    }
    c->budget = budget;
    c->small_target = budget / 10;
    return c;
}

void maif_cache_free(maif_cache *c)
{
    if (!c) return;
    for (size_t i = 0; i < c->nbuckets; i++)
        for (entry *e = c->tab[i], *next; e; e = next) {
            next = e->hnext;
            free_val(e);
            maif_free(e);
        }
    maif_free(c->tab);
    pthread_mutex_destroy(&c->mu);
    maif_free(c);
}

int maif_cache_get(maif_cache *c, uint64_t key, void *dst, size_t cap, size_t *size)
{
    pthread_mutex_lock(&c->mu);
    entry *e = find(c, key);
    if (!e || e->q == Q_GHOST) {
        c->misses++;
        pthread_mutex_unlock(&c->mu);
        return 0;
    }
    if (e->freq < FREQ_MAX) e->freq++;
    *size = e->size;
    if (dst && e->size <= cap) memcpy(dst, e->val, e->size);
    c->hits++;
    pthread_mutex_unlock(&c->mu);
    return 1;
}

int maif_cache_put(maif_cache *c, uint64_t key, const void *value, size_t size)
{
    if (size > c->budget / 8 || size + ENTRY_COST > c->budget / 8) return MAIF_OK; /* would flush too much */
    uint8_t *copy = maif_malloc(size ? size : 1);
    entry *fresh = maif_calloc(1, sizeof *fresh);
    if (!copy || !fresh) {
        maif_free(copy);
        maif_free(fresh);
        return MAIF_ENOMEM;
    }
    memcpy(copy, value, size);
    pthread_mutex_lock(&c->mu);
    entry *e = find(c, key);
    if (e && e->q != Q_GHOST) { /* another thread was first */
        pthread_mutex_unlock(&c->mu);
        maif_free(copy);
        maif_free(fresh);
        return MAIF_OK;
    }
    int qi = Q_SMALL;
    if (e) { /* a ghost: it was evicted from probation recently, so it is wanted */
        q_remove(c, e);
        maif_free(fresh);
        qi = Q_MAIN;
    } else {
        e = fresh;
        e->key = key;
        e->hnext = c->tab[bucket(c, key)];
        c->tab[bucket(c, key)] = e;
        c->nent++;
    }
    e->val = copy;
    e->size = size;
    e->freq = 0;
    q_push(c, qi, e);
    c->inserts++;
    evict(c);
    hash_grow(c);
    pthread_mutex_unlock(&c->mu);
    return MAIF_OK;
}

void maif_cache_counters_get(maif_cache *c, maif_cache_counters *out)
{
    pthread_mutex_lock(&c->mu);
    out->hits = c->hits;
    out->misses = c->misses;
    out->inserts = c->inserts;
    out->evictions = c->evictions;
    out->bytes = c->q[Q_SMALL].bytes + c->q[Q_MAIN].bytes;
    out->entries = c->q[Q_SMALL].n + c->q[Q_MAIN].n;
    out->budget = c->budget;
    pthread_mutex_unlock(&c->mu);
}
