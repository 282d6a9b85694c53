/*
 * native_group.c — group commit and asynchronous appends: many threads
 * append through one writer and share its commits (and their fsyncs).
 *
 * The shape is the leader/follower batching of LevelDB's write queue and
 * SQLite's WAL: every caller (maif_writer_commit_batch, maif_writer_flush,
 * the committer thread behind maif_writer_add_async) puts a request on one
 * FIFO queue under a mutex. Whoever finds no leader at work becomes the
 * leader: it takes the whole queue, releases the mutex, adds every
 * request's blocks in queue order through the ordinary single-threaded
 * writer and seals them with ONE commit (one index segment, one signature,
 * the two fsyncs of a durable commit), then hands the results back. The
 * callers that queued while it worked form the next group, so the more
 * threads commit at once, the more commits each fsync carries.
 *
 * A request's blocks are contiguous and become visible together (one
 * commit covers the whole group), so batches are never lost, split or
 * interleaved. A request whose blocks the writer refuses (bad metadata, a
 * limit) fails alone: the leader rolls the group back and adds the others
 * again without it. An I/O error kills the writer and fails the group.
 *
 * Only the leader touches the writer, and leadership passes under the
 * mutex, so the writer itself needs no locking. Asynchronous requests own
 * a copy of their spec (not of the bytes it points to) and are counted
 * against a bound: add_async waits while the queue is full.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/native/native.h"
#include "format/native/native_writer.h"
#include "util/alloc.h"
#include "util/common.h"

#define GROUP_MSG 512 /* = sizeof w->err */

typedef struct gc_req {
    struct gc_req *next;
    const maif_block_spec *specs; /* n blocks; for async: &spec */
    size_t n;
    uint8_t (*ids)[MAIF_ID_BYTES]; /* n ids out, or NULL */
    int rc;
    int failed;          /* refused on its own (rc, msg); left out of the group */
    int done;
    /* asynchronous requests: heap-allocated, freed by the leader */
    int async;
    maif_block_spec spec;
    uint8_t id[MAIF_ID_BYTES];
    maif_commit_fn cb;
    void *ctx;
    char msg[GROUP_MSG];
} gc_req;

struct nat_group {
    pthread_mutex_t mu;
    pthread_cond_t cv;      /* queue changed, a group finished, or stop */
    gc_req *head, *tail;    /* FIFO of requests no leader has taken yet */
    int leading;            /* a leader is at work on the writer */
    size_t async_live;      /* async requests queued or being committed */
    size_t async_max;       /* bound on async_live (backpressure) */
    int async_err;          /* first error of an async request since the last flush */
    char async_msg[GROUP_MSG];
    pthread_t thread;       /* the committer of async requests */
    int thread_on;
    int stop;
};

int nat_group_init(maif_writer *w, size_t queue)
{
    nat_group *g = maif_calloc(1, sizeof *g);
    if (!g) return MAIF_ENOMEM;
    if (pthread_mutex_init(&g->mu, NULL)) {
        maif_free(g);
        return MAIF_ENOMEM;
    }
    if (pthread_cond_init(&g->cv, NULL)) {
        pthread_mutex_destroy(&g->mu);
        maif_free(g);
        return MAIF_ENOMEM;
    }
    g->async_max = queue ? queue : MAIF_ASYNC_QUEUE_DEFAULT;
    w->group = g;
    return MAIF_OK;
}

void nat_group_set_queue(maif_writer *w, size_t queue)
{
    if (w && w->group && queue) w->group->async_max = queue; /* before any thread shares w */
}

/* Adds the blocks of every request of the group that has not failed on
 * its own. Returns 0, or the writer-wide error (the writer is dead) after
 * setting it on every request. */
static int add_group(maif_writer *w, gc_req *grp)
{
retry:
    for (gc_req *r = grp; r; r = r->next) {
        if (r->failed) continue;
        for (size_t j = 0; j < r->n; j++) {
            int rc = maif_writer_add(w, &r->specs[j], r->ids ? r->ids[j] : NULL);
            if (rc == MAIF_OK) continue;
            if (w->dead) return rc;
            r->failed = 1;
            r->rc = rc;
            snprintf(r->msg, sizeof r->msg, "%s", w->err);
            if (maif_writer_rollback(w) != MAIF_OK) return MAIF_ESTATE;
            goto retry; /* the requests before it are added again; each pass fails one more */
        }
    }
    return MAIF_OK;
}

/* The leader's work, without the mutex: adds and commits the group. */
static void run_group(maif_writer *w, gc_req *grp)
{
    size_t blocks = 0;
    for (gc_req *r = grp; r; r = r->next) blocks += r->n;
    int rc = MAIF_OK;
    if (blocks == 0) return; /* flushes only: everything before them is done */
    if (w->pend.len || w->bor.len) /* left as it is: the caller's own batch */
        rc = nat_writer_fail(w, MAIF_ESTATE, "%s: a batch added with maif_writer_add is pending; commit it first",
                             w->path);
    else if ((rc = add_group(w, grp)) == MAIF_OK) {
        int any = 0;
        for (gc_req *r = grp; r; r = r->next) any |= !r->failed && r->n;
        if (any) rc = maif_writer_commit(w);
    } else if (!w->dead && maif_writer_rollback(w) != MAIF_OK) {
        rc = MAIF_ESTATE;
    }
    if (rc == MAIF_OK) return;
    for (gc_req *r = grp; r; r = r->next) {
        if (r->failed) continue;
        r->failed = 1;
        r->rc = rc;
        snprintf(r->msg, sizeof r->msg, "%s", w->err);
    }
}

/* Called with g->mu held and no leader at work: takes the queue, commits
 * it, reports every result. Returns with g->mu held. */
static void lead(maif_writer *w, nat_group *g)
{
    gc_req *grp = g->head;
    g->head = g->tail = NULL;
    g->leading = 1;
    pthread_mutex_unlock(&g->mu);

    run_group(w, grp);
    /* callbacks in queue order, still as leader so that they run in commit
     * order, and without the mutex so that they may queue more work */
    for (gc_req *r = grp; r; r = r->next)
        if (r->async && r->cb) r->cb(r->ctx, r->failed ? r->rc : MAIF_OK, r->failed ? NULL : r->id);

    pthread_mutex_lock(&g->mu);
    for (gc_req *r = grp, *next; r; r = next) {
        next = r->next;
        if (!r->async) {
            r->done = 1; /* r lives on its caller's stack: not touched after this */
            continue;
        }
        if (r->failed && !g->async_err) {
            g->async_err = r->rc;
            snprintf(g->async_msg, sizeof g->async_msg, "%s", r->msg);
        }
        g->async_live--;
        maif_free(r);
    }
    g->leading = 0;
    pthread_cond_broadcast(&g->cv);
}

static void enqueue(nat_group *g, gc_req *r)
{
    r->next = NULL;
    if (g->tail) g->tail->next = r;
    else g->head = r;
    g->tail = r;
}

/* Queues r (on the caller's stack) and returns once a leader, perhaps this
 * thread, has committed it. */
static int submit_wait(maif_writer *w, gc_req *r)
{
    nat_group *g = w->group;
    pthread_mutex_lock(&g->mu);
    enqueue(g, r);
    pthread_cond_broadcast(&g->cv);
    while (!r->done) {
        if (!g->leading) lead(w, g);
        else pthread_cond_wait(&g->cv, &g->mu);
    }
    pthread_mutex_unlock(&g->mu);
    if (r->failed) return maif_set_last_err(r->rc, "%s", r->msg);
    return MAIF_OK;
}

int maif_writer_commit_batch(maif_writer *w, const maif_block_spec *specs, size_t n,
                             uint8_t (*ids_out)[MAIF_ID_BYTES])
{
    if (!w || !w->group) return maif_set_last_err(MAIF_EINVAL, "maif_writer_commit_batch: writer is NULL");
    if (n && !specs) return maif_set_last_err(MAIF_EINVAL, "maif_writer_commit_batch: %zu blocks but no specs", n);
    if (!w->key) return maif_set_last_err(MAIF_ESTATE, "%s: opened without a key; cannot commit", w->path);
    gc_req r;
    memset(&r, 0, sizeof r);
    r.specs = specs;
    r.n = n;
    r.ids = ids_out;
    return submit_wait(w, &r);
}

static void *committer(void *arg)
{
    maif_writer *w = arg;
    nat_group *g = w->group;
    pthread_mutex_lock(&g->mu);
    for (;;) {
        if (g->head && !g->leading) lead(w, g);
        else if (g->stop && !g->head && !g->leading) break;
        else pthread_cond_wait(&g->cv, &g->mu);
    }
    pthread_mutex_unlock(&g->mu);
    return NULL;
}

int maif_writer_add_async(maif_writer *w, const maif_block_spec *spec, maif_commit_fn done, void *ctx)
{
    if (!w || !w->group) return maif_set_last_err(MAIF_EINVAL, "maif_writer_add_async: writer is NULL");
    if (!spec) return maif_set_last_err(MAIF_EINVAL, "maif_writer_add_async: spec is NULL");
    if (!w->key) return maif_set_last_err(MAIF_ESTATE, "%s: opened without a key; cannot commit", w->path);
    nat_group *g = w->group;
    gc_req *r = maif_calloc(1, sizeof *r);
    if (!r) return maif_set_last_err(MAIF_ENOMEM, "maif_writer_add_async: out of memory");
    r->async = 1;
    r->spec = *spec;
    r->specs = &r->spec;
    r->n = 1;
    r->ids = &r->id;
    r->cb = done;
    r->ctx = ctx;
    pthread_mutex_lock(&g->mu);
    if (!g->thread_on) {
        if (pthread_create(&g->thread, NULL, committer, w) != 0) {
            pthread_mutex_unlock(&g->mu);
            maif_free(r);
            return maif_set_last_err(MAIF_ENOMEM, "%s: cannot start the committer thread", w->path);
        }
        g->thread_on = 1;
    }
    while (g->async_live >= g->async_max) pthread_cond_wait(&g->cv, &g->mu); /* backpressure */
    g->async_live++;
    enqueue(g, r);
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
    return MAIF_OK;
}

int maif_writer_flush(maif_writer *w)
{
    if (!w || !w->group) return maif_set_last_err(MAIF_EINVAL, "maif_writer_flush: writer is NULL");
    nat_group *g = w->group;
    gc_req r;
    memset(&r, 0, sizeof r);
    /* an empty request: done once every request queued before it is */
    (void)submit_wait(w, &r);
    pthread_mutex_lock(&g->mu);
    int rc = g->async_err;
    char msg[GROUP_MSG];
    memcpy(msg, g->async_msg, sizeof msg);
    g->async_err = 0;
    g->async_msg[0] = 0;
    pthread_mutex_unlock(&g->mu);
    return rc ? maif_set_last_err(rc, "%s", msg) : MAIF_OK;
}

int nat_group_close(maif_writer *w)
{
    nat_group *g = w->group;
    if (!g) return MAIF_OK;
    int rc = MAIF_OK;
    if (g->thread_on) {
        rc = maif_writer_flush(w);
        pthread_mutex_lock(&g->mu);
        g->stop = 1;
        pthread_cond_broadcast(&g->cv);
        pthread_mutex_unlock(&g->mu);
        pthread_join(g->thread, NULL);
    }
    pthread_cond_destroy(&g->cv);
    pthread_mutex_destroy(&g->mu);
    maif_free(g);
    w->group = NULL;
    return rc;
}
