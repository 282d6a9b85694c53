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
 * The second fsync of a durable commit (after the commit record) runs
 * after the leader has handed the leadership on: the next group is added,
 * written and synced meanwhile, and the kernel merges concurrent syncs of
 * one file into one journal commit where it can. Results are still
 * reported group by group in commit order (a ticket per group), and a
 * failed final fsync fails its group and every later one.
 *
 * With a codec or a cipher, the leader does not encode the blocks itself:
 * the encode workers (util/pool.h, MAIF_OPT_WORKERS threads) compress,
 * encrypt and hash a chunk of the group at a time, and the leader only
 * chains and writes them, in order (nat_writer_add_encoded).
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
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "format/native/native.h"
#include "format/native/native_writer.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/common.h"
#include "util/pool.h"

#define ENC_ITEMS 64            /* blocks encoded ahead at once */
#define ENC_BYTES (16u << 20)   /* payload bytes encoded ahead at once (bounds the memory) */
#define ENC_THREADED (64u << 10) /* a chunk smaller than this is encoded on the leader alone */

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

/* A block the workers encode (compress, encrypt) and hash ahead of the
 * writer; its output stays in its scratch until the leader adds it. */
typedef struct enc_item {
    gc_req *req;
    size_t j;                 /* block j of req */
    maif_block_spec s;        /* req->specs[j], with its id fixed (the cipher binds it) */
    uint8_t id[MAIF_ID_BYTES];
    int rc;                   /* the encode's error, or 0 */
    int precheck;             /* the spec fails the writer's own checks: add it plainly for the error */
    char err[GROUP_MSG];
    nat_encoded e;
    maif_stage_scratch scr;   /* output buffers, kept from group to group */
} enc_item;

/* A worker thread's codec state (a compression context), kept between calls. */
typedef struct enc_slot {
    void *state;
    const maif_codec *of;
} enc_slot;

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
    uint64_t tickets;       /* groups taken so far; a group's ticket is its number */
    uint64_t completed;     /* groups reported so far, in ticket order */
    int broken;             /* a final fsync failed (MAIF_EIO): every later group fails */
    uint64_t cut_to;        /* then: the committed end before that group */
    char broken_msg[GROUP_MSG];
    unsigned workers;       /* encode threads (MAIF_OPT_WORKERS resolved); 1: no pool */
    enc_item *items;        /* 2 x ENC_ITEMS (a chunk written, the next encoded), allocated at
                               the first group with stages */
    enc_slot slots[MAIF_POOL_MAX_THREADS];
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
    g->workers = maif_pool_cpus();
    w->group = g;
    return MAIF_OK;
}

void nat_group_config(maif_writer *w, size_t queue, unsigned workers)
{
    if (!w || !w->group) return; /* before any thread shares w */
    if (queue) w->group->async_max = queue;
    w->group->workers = workers ? workers : maif_pool_cpus();
}

typedef struct enc_ctx {
    const maif_writer *w;
    enc_item *items;
} enc_ctx;

/* Runs the writer's stages over item i and hashes the stored bytes: what
 * prepare and put_record would do on the leader, minus the chain. */
static void enc_work(void *ctx, uint64_t i, void *scratch)
{
    enc_ctx *c = ctx;
    enc_item *it = &c->items[i];
    enc_slot *slot = scratch;
    if (it->precheck) return;
    it->scr.codec_state = slot->state; /* this thread's context, lent to the item */
    it->scr.codec_state_of = slot->of;
    uint8_t hdr[NAT_REC_HEADER] = {0}, ad[MAIF_STAGE_AD_BYTES];
    wr32be(hdr + NR_TYPE, it->s.type);
    memcpy(hdr + NR_ID, it->s.id, MAIF_ID_BYTES);
    hdr[NR_CODEC] = c->w->stages.codec;
    nat_stage_ad(c->w->file_id, hdr, ad);
    maif_tlv_builder eb;
    maif_tlv_builder_init(&eb, it->e.tlv, sizeof it->e.tlv);
    it->rc = maif_stage_encode(&c->w->stages, &nat_stage_tags, ad, it->s.payload, it->s.payload_size,
                               NAT_PAYLOAD_MAX, &it->scr, &eb, &it->e.out, it->err, sizeof it->err);
    slot->state = it->scr.codec_state;
    slot->of = it->scr.codec_state_of;
    it->scr.codec_state = NULL;
    it->scr.codec_state_of = NULL;
    if (it->rc) return;
    it->e.tlv_len = (uint16_t)eb.len;
    maif_chash(c->w->hash_alg, it->e.out.stored, (size_t)it->e.out.stored_size, it->e.content_hash);
}

/* Encodes items[0..n) on up to g->workers threads. */
static void encode_chunk(const maif_writer *w, nat_group *g, enc_item *items, size_t n, uint64_t bytes)
{
    enc_ctx c = {w, items};
    unsigned threads = bytes < ENC_THREADED ? 1 : g->workers;
    maif_pool_run(threads, n, enc_work, &c, g->slots, sizeof g->slots[0]);
}

/* A chunk encoded on a background thread while the leader writes the
 * chunk before it. */
typedef struct enc_bg {
    const maif_writer *w;
    nat_group *g;
    enc_item *items;
    size_t n;
    uint64_t bytes;
    pthread_t t;
} enc_bg;

static void *enc_bg_run(void *arg)
{
    enc_bg *b = arg;
    encode_chunk(b->w, b->g, b->items, b->n, b->bytes);
    return NULL;
}

/* Adds item it (encoded) to the writer. */
static int add_item(maif_writer *w, enc_item *it)
{
    uint8_t (*ids)[MAIF_ID_BYTES] = it->req->ids;
    if (it->precheck) return maif_writer_add(w, &it->req->specs[it->j], ids ? ids[it->j] : NULL);
    if (it->rc) return nat_writer_fail(w, it->rc, "%s", it->err);
    return nat_writer_add_encoded(w, &it->s, &it->e, ids ? ids[it->j] : NULL);
}

/* Marks r failed with rc and the writer's message. */
static void fail_req(maif_writer *w, gc_req *r, int rc)
{
    r->failed = 1;
    r->rc = rc;
    snprintf(r->msg, sizeof r->msg, "%s", w->err);
}

/* Fills items with the blocks from (*rp, *jp) on, skipping failed
 * requests, up to ENC_ITEMS blocks or ENC_BYTES of payload; moves the
 * cursor past them and returns how many. */
static size_t gather(enc_item *items, gc_req **rp, size_t *jp, uint64_t *bytes)
{
    size_t n = 0;
    gc_req *r = *rp;
    size_t j = *jp;
    *bytes = 0;
    while (r && n < ENC_ITEMS && *bytes < ENC_BYTES) {
        if (r->failed || j >= r->n) {
            r = r->next;
            j = 0;
            continue;
        }
        const maif_block_spec *sp = &r->specs[j];
        enc_item *it = &items[n++];
        it->req = r;
        it->j = j++;
        it->s = *sp;
        it->rc = 0;
        it->precheck = !sp->type || (sp->payload_size && !sp->payload) || (uint64_t)sp->payload_size > NAT_PAYLOAD_MAX;
        if (!sp->id) {
            maif_random(it->id, MAIF_ID_BYTES);
            it->s.id = it->id;
        }
        *bytes += sp->payload_size;
    }
    *rp = r;
    *jp = j;
    return n;
}

/* The pooled add_group: blocks are encoded and hashed ahead on the
 * workers, a chunk at a time, and added in order on this thread; while
 * the leader writes one chunk the next is encoded (two halves of items,
 * used in turn), so the cores are not idle during the writes. */
static int add_group_pooled(maif_writer *w, nat_group *g, gc_req *grp)
{
retry:;
    gc_req *r = grp;
    size_t j = 0;
    int h = 0;
    uint64_t bytes;
    size_t n = gather(g->items, &r, &j, &bytes);
    if (n == 0) return MAIF_OK;
    encode_chunk(w, g, g->items, n, bytes);
    for (;;) {
        enc_item *cur = g->items + (size_t)h * ENC_ITEMS, *next = g->items + (size_t)(h ^ 1) * ENC_ITEMS;
        enc_bg bg = {.w = w, .g = g, .items = next};
        bg.n = gather(next, &r, &j, &bg.bytes);
        int bg_on = 0;
        if (bg.n) {
            if (bg.bytes >= ENC_THREADED && pthread_create(&bg.t, NULL, enc_bg_run, &bg) == 0) bg_on = 1;
            else encode_chunk(w, g, next, bg.n, bg.bytes); /* small, or no thread: now */
        }
        for (size_t k = 0; k < n; k++) {
            int rc = add_item(w, &cur[k]);
            if (rc == MAIF_OK) continue;
            if (bg_on) pthread_join(bg.t, NULL); /* its items name requests: let it finish */
            if (w->dead) return rc;
            fail_req(w, cur[k].req, rc);
            if (maif_writer_rollback(w) != MAIF_OK) return MAIF_ESTATE;
            goto retry; /* as add_group: each pass fails one more request */
        }
        if (bg_on) pthread_join(bg.t, NULL);
        if (bg.n == 0) return MAIF_OK;
        n = bg.n;
        h ^= 1;
    }
}

#define ENC_KEEP (4 * (size_t)ENC_BYTES + (8u << 20)) /* output buffer bytes kept between groups: two chunks */

/* Adds the blocks of every request of the group that has not failed on
 * its own (those get their own error). Returns 0, or a writer-wide error:
 * the writer is dead, or the rollback that drops a failed request failed. */
static int add_group(maif_writer *w, gc_req *grp)
{
    nat_group *g = w->group;
    if ((w->stages.codec || w->stages.cipher) && g->workers > 1) {
        if (!g->items && !(g->items = maif_calloc(2 * ENC_ITEMS, sizeof *g->items)))
            return nat_writer_fail(w, MAIF_ENOMEM, "out of memory for the encode workers");
        int rc = add_group_pooled(w, g, grp);
        /* what the workers encoded is written: keep up to ENC_KEEP bytes
         * of output buffers for the next group (a chunk of ENC_BYTES fits
         * them, so steady runs allocate nothing), free the rest */
        size_t kept = 0;
        for (size_t i = 0; i < 2 * ENC_ITEMS; i++) {
            maif_buf *b[2] = {&g->items[i].scr.enc, &g->items[i].scr.seal};
            for (int k = 0; k < 2; k++) {
                if (kept + b[k]->cap > ENC_KEEP) maif_buf_free(b[k]);
                else kept += b[k]->cap;
            }
        }
        return rc;
    }
retry:
    for (gc_req *r = grp; r; r = r->next) {
        if (r->failed) continue;
        for (size_t j = 0; j < r->n; j++) {
            int rc = maif_writer_add(w, &r->specs[j], r->ids ? r->ids[j] : NULL);
            if (rc == MAIF_OK) continue;
            if (w->dead) return rc;
            fail_req(w, r, rc);
            if (maif_writer_rollback(w) != MAIF_OK) return MAIF_ESTATE;
            goto retry; /* the requests before it are added again; each pass fails one more */
        }
    }
    return MAIF_OK;
}

/* Marks every request of grp that has not failed with rc and msg. */
static void fail_all(gc_req *grp, int rc, const char *msg)
{
    for (gc_req *r = grp; r; r = r->next) {
        if (r->failed) continue;
        r->failed = 1;
        r->rc = rc;
        snprintf(r->msg, sizeof r->msg, "%s", msg);
    }
}

/* The leader's work, without the mutex: adds and commits the group.
 * Returns 1 when the commit is written but, the writer being durable, its
 * final fsync is still to do (the caller does it after handing on the
 * leadership), else 0. */
static int run_group(maif_writer *w, gc_req *grp)
{
    size_t blocks = 0;
    for (gc_req *r = grp; r; r = r->next) blocks += r->n;
    int rc = MAIF_OK, any = 0;
    if (blocks == 0) return 0; /* flushes only: everything before them is done */
    if (w->pend.len || w->bor.len) /* left as it is: the caller's own batch */
        rc = nat_writer_fail(w, MAIF_ESTATE, "%s: a batch added with maif_writer_add is pending; commit it first",
                             w->path);
    else if ((rc = add_group(w, grp)) == MAIF_OK) {
        for (gc_req *r = grp; r; r = r->next) any |= !r->failed && r->n;
        if (any) rc = nat_writer_commit_nosync(w);
    } else if (!w->dead && maif_writer_rollback(w) != MAIF_OK) {
        rc = MAIF_ESTATE;
    }
    if (rc == MAIF_OK) return any && (w->flags & MAIF_W_DURABLE);
    fail_all(grp, rc, w->err);
    return 0;
}

/* Called with g->mu held, no leader at work and a request queued: takes
 * the queue and commits it (as leader), hands the leadership on, does the
 * final fsync of a durable commit while the next leader writes its group
 * (the kernel merges the two syncs when it can), then reports the results
 * once every earlier group has reported (groups complete in commit order).
 * Returns with g->mu held. */
static void lead(maif_writer *w, nat_group *g)
{
    gc_req *grp = g->head;
    g->head = g->tail = NULL;
    g->leading = 1;
    uint64_t ticket = ++g->tickets;
    if (g->broken && !w->dead) {
        /* an earlier group's final fsync failed: what it and the groups
         * after it wrote may be lost, so close cuts back before them */
        w->dead = 1;
        w->c_end = g->cut_to;
        snprintf(w->err, sizeof w->err, "%s", g->broken_msg);
    }
    pthread_mutex_unlock(&g->mu);

    uint64_t start = w->c_end;
    int need_sync = run_group(w, grp);

    pthread_mutex_lock(&g->mu);
    g->leading = 0; /* the next group may be written while this one syncs */
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);

    int e = need_sync ? w->io->sync(w->f, MAIF_IO_SYNC_DATA) : 0;
    char msg[GROUP_MSG];
    if (e) snprintf(msg, sizeof msg, "%s: fdatasync: %s", w->path, strerror(e));

    pthread_mutex_lock(&g->mu);
    while (g->completed != ticket - 1) pthread_cond_wait(&g->cv, &g->mu);
    if (e && !g->broken) {
        g->broken = e == ENOMEM ? MAIF_ENOMEM : MAIF_EIO;
        g->cut_to = start;
        snprintf(g->broken_msg, sizeof g->broken_msg, "%s", msg);
    }
    if (g->broken) fail_all(grp, g->broken, g->broken_msg); /* this group's sync, or an earlier one's */
    pthread_mutex_unlock(&g->mu);

    /* callbacks in queue order, before any later group completes, and
     * without the mutex so that they may queue more work */
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
    g->completed = ticket;
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
        if (!g->leading && g->head) lead(w, g);
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
    pthread_setname_np(pthread_self(), "maif-commit");
    pthread_mutex_lock(&g->mu);
    for (;;) {
        if (g->head && !g->leading) lead(w, g);
        else if (g->stop && !g->head && !g->leading && g->completed == g->tickets) break;
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
    if (g->broken && !w->dead) { /* a final fsync failed and no group came after to say so */
        w->dead = 1;
        w->c_end = g->cut_to;
        snprintf(w->err, sizeof w->err, "%s", g->broken_msg);
        rc = g->broken;
    }
    if (g->thread_on) {
        int frc = maif_writer_flush(w);
        if (rc == MAIF_OK) rc = frc;
        pthread_mutex_lock(&g->mu);
        g->stop = 1;
        pthread_cond_broadcast(&g->cv);
        pthread_mutex_unlock(&g->mu);
        pthread_join(g->thread, NULL);
    }
    if (g->items)
        for (size_t i = 0; i < 2 * ENC_ITEMS; i++) maif_stage_scratch_free(&g->items[i].scr);
    for (size_t k = 0; k < MAIF_POOL_MAX_THREADS; k++) {
        maif_stage_scratch s = {.codec_state = g->slots[k].state, .codec_state_of = g->slots[k].of};
        maif_stage_scratch_free(&s);
    }
    maif_free(g->items);
    pthread_cond_destroy(&g->cv);
    pthread_mutex_destroy(&g->mu);
    maif_free(g);
    w->group = NULL;
    return rc;
}
