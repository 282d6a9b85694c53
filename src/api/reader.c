/*
 * reader.c — the public reader: one handle over either format.
 *
 * The file is memory-mapped read-only once; every view handed out points
 * into that map. Format-specific work lives behind each format's table of
 * operations (src/format/format.h); this file finds the format, dispatches,
 * and adds what every format shares: the id table (built on first lookup)
 * and version histories.
 *
 * One reader serves many threads at once. Everything fixed at open is
 * read-only afterwards; the one table built later (ids and successors, on
 * the first find or history) is built under a mutex and published with a
 * release store, so later lookups take no lock. Error messages of calls
 * after open are kept per thread (a thread-local slot tagged with the
 * reader's serial number), so one thread's failure never overwrites the
 * message another thread is reading.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "format/format.h"
#include "io/io.h"
#include "util/alloc.h"
#include "util/cache.h"
#include "util/common.h"

#define NONE UINT64_MAX

struct maif_reader {
    const maif_format_ops *ops; /* the file's format */
    void *st;             /* that format's state */
    const uint8_t *base;  /* the image: the map, or the caller's buffer */
    uint64_t size;
    maif_io_mapped map;   /* owned mapping (map.base NULL for a caller's buffer) */
    uint64_t serial;      /* unique per reader: tags this thread's message slot */
    void *keysrc;         /* where cipher stages find data keys (codec.h maif_keysrc), or NULL */
    void (*keysrc_free)(void *); /* releases keysrc at close or replacement, or NULL */
    maif_reader_gate gate;       /* consulted before a payload is decoded, or NULL */
    void *gate_ctx;
    void (*gate_free)(void *);
    char err[512];        /* message of a failing open (one thread only) */
    /* id table: open addressing, built on first find/history */
    pthread_mutex_t ids_lock;   /* held while the table is built */
    atomic_int ids_ready;       /* 1 once slots/nslots/succ are complete (release) */
    struct slot {
        uint8_t id[MAIF_ID_BYTES];
        uint64_t index; /* NONE: empty */
    } *slots;
    uint64_t nslots;
    uint64_t *succ; /* succ[i]: the latest block superseding block i, or NONE */
    char *path;     /* the file, for maif_reader_refresh; NULL for an in-memory image */
    struct retired *retired; /* views replaced by refresh, freed at close */
    maif_cache *cache;       /* decoded payloads of coded or sealed blocks, or NULL (maif_reader_set_cache) */
    maif_io_file *hold;      /* the file, kept open from the first refresh on (its map: map) */
    atomic_int info_given;   /* maif_reader_info handed out strings of st since it became the view */
};

/* A view a refresh replaced. Blocks handed out before the refresh point
 * into its map, and maif.h promises them until close, so it stays mapped
 * until then. */
struct retired {
    struct retired *next;
    const maif_format_ops *ops;
    void *st;
    maif_io_mapped map;
};

#define MSG_CAP 512

/* The calling thread's message for the last reader call that failed on it
 * after open (serial 0: none yet). */
static _Thread_local struct {
    uint64_t serial;
    char msg[MSG_CAP];
} t_msg;

static atomic_uint_fast64_t g_serial;

/* Keeps msg as the calling thread's message for r when code is an error. */
static int rkeep(const maif_reader *r, int code, const char *msg)
{
    if (code != MAIF_OK) {
        t_msg.serial = r->serial;
        snprintf(t_msg.msg, sizeof t_msg.msg, "%s", msg);
        maif_set_last_err(code, "%s", msg); /* one error channel (maif.h) */
    }
    return code;
}

static int rfail(const maif_reader *r, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int rfail(const maif_reader *r, int code, const char *fmt, ...)
{
    char msg[MSG_CAP];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return rkeep(r, code, msg);
}

static int open_image(maif_reader *r)
{
    const maif_format_ops *ops = maif_format_detect(r->base, (size_t)r->size);
    if (ops) {
        r->ops = ops;
        return ops->open(&r->st, r->base, r->size, r->err, sizeof r->err);
    }
    if (r->size >= 4 && memcmp(r->base, "MAIF", 4) == 0)
        return maif_set_err(r->err, sizeof r->err, MAIF_EVERSION, "a MAIF file of an unsupported version");
    return maif_set_err(r->err, sizeof r->err, MAIF_EFORMAT, "not a MAIF artifact (unrecognised magic)");
}

static int finish_open(maif_reader **out, maif_reader *r, int rc, const char *path)
{
    if (rc == MAIF_OK) {
        r->serial = atomic_fetch_add(&g_serial, 1) + 1;
        pthread_mutex_init(&r->ids_lock, NULL);
        *out = r;
        return MAIF_OK;
    }
    if (path) maif_set_last_err(rc, "%s: %s", path, r->err[0] ? r->err : maif_strerror(rc));
    else maif_set_last_err(rc, "%s", r->err[0] ? r->err : maif_strerror(rc));
    r->ops = NULL; /* a failed open left no state */
    maif_reader_close(r);
    return rc;
}

int maif_reader_open_mem(maif_reader **out, const void *buf, size_t size)
{
    if (!out || (!buf && size)) return maif_set_last_err(MAIF_EINVAL, "maif_reader_open_mem: NULL argument");
    *out = NULL;
    maif_reader *r = maif_calloc(1, sizeof *r);
    if (!r) return maif_set_last_err(MAIF_ENOMEM, "out of memory");
    r->base = buf;
    r->size = size;
    return finish_open(out, r, open_image(r), NULL);
}

int maif_reader_open(maif_reader **out, const char *path)
{
    if (!out || !path) return maif_set_last_err(MAIF_EINVAL, "maif_reader_open: NULL argument");
    *out = NULL;
    maif_reader *r = maif_calloc(1, sizeof *r);
    if (!r) return maif_set_last_err(MAIF_ENOMEM, "%s: out of memory", path);
    char e[400];
    int rc = maif_io_map_file(NULL, path, 0, &r->map, e, sizeof e);
    if (rc) {
        maif_free(r);
        return maif_set_last_err(rc, "%s", e);
    }
    r->base = r->map.base;
    r->size = r->map.size;
    if (!(r->path = maif_strdup(path))) {
        maif_io_unmap_file(&r->map);
        maif_free(r);
        return maif_set_last_err(MAIF_ENOMEM, "%s: out of memory", path);
    }
    rc = r->size == 0 ? maif_set_err(r->err, sizeof r->err, MAIF_EFORMAT, "empty file") : open_image(r);
    return finish_open(out, r, rc, path);
}

void maif_reader_close(maif_reader *r)
{
    if (!r) return;
    if (r->ops && r->st) r->ops->close(r->st);
    if (r->keysrc_free) r->keysrc_free(r->keysrc);
    if (r->gate_free) r->gate_free(r->gate_ctx);
    maif_cache_free(r->cache);
    if (r->serial) pthread_mutex_destroy(&r->ids_lock);
    maif_io_unmap_file(&r->map);
    while (r->retired) {
        struct retired *o = r->retired;
        r->retired = o->next;
        if (o->st) o->ops->close(o->st);
        maif_io_unmap_file(&o->map);
        maif_free(o);
    }
    if (r->hold) r->hold->io->close(r->hold);
    maif_free(r->path);
    maif_free(r->slots);
    maif_free(r->succ);
    maif_free(r);
}

#define MAP_SLACK (256u << 20) /* a refresh maps at least this much past the end */

/* Maps size bytes of f with room to grow: twice the size, or MAP_SLACK
 * more if that is larger (mapping past the end of a file is allowed; the
 * parsers never read past size). Falls back to exactly size if the
 * address space is refused. *m's size is the mapped length (for unmap). */
static int map_grow(const maif_io *io, maif_io_file *f, uint64_t size, maif_io_mapped *m)
{
    uint64_t slack = size > MAP_SLACK ? size : MAP_SLACK;
    uint64_t len = size <= (uint64_t)SIZE_MAX - slack ? size + slack : size;
    const void *base = NULL;
    int e = io->map(f, len, 0, &base);
    if (e && len != size) e = io->map(f, len = size, 0, &base);
    if (e) return e;
    *m = (maif_io_mapped){io, base, len, 0};
    return 0;
}

/* 1 if the file at r's path still starts with the bytes r's view starts
 * with (for a native artifact that includes its random file id): the path
 * names the artifact r holds open. */
static int same_artifact(const maif_reader *r, const maif_io *io)
{
    uint8_t head[64];
    size_t n = r->size < sizeof head ? (size_t)r->size : sizeof head;
    maif_io_file *f = NULL;
    if (io->open(io, r->path, MAIF_IO_RDONLY, &f)) return 0;
    int same = io->read(f, head, n, 0) == 0 && memcmp(head, r->base, n) == 0;
    io->close(f);
    return same;
}

/* Switches r to a newer commit when the file holds one. The committed part
 * of an artifact never changes (writers only append after it, and cut only
 * uncommitted bytes), so a file of the same size whose view had no torn
 * tail is unchanged. From the first refresh on, r keeps the file open and
 * maps it with room to grow: while the artifact at the path is the one it
 * holds and fits the map, a refresh maps nothing new. */
int maif_reader_refresh(maif_reader *r, int *changed)
{
    if (changed) *changed = 0;
    if (!r) return maif_set_last_err(MAIF_EINVAL, "maif_reader_refresh: NULL argument");
    if (!r->path) return rfail(r, MAIF_EINVAL, "maif_reader_refresh: an in-memory image cannot be refreshed");
    maif_info was;
    int rc = r->ops->info(r->st, &was);
    if (rc) return rfail(r, rc, "%s: cannot read the current view", r->path);
    const maif_io *io = maif_io_default();
    maif_io_file *f = NULL;   /* a new handle on the path, when the held one is not used */
    maif_io_mapped m = {0};   /* a new map, when one is made */
    uint64_t size = 0;
    int e;
    if (r->hold && same_artifact(r, io)) {
        if ((e = r->hold->io->size(r->hold, &size, NULL)))
            return rfail(r, maif_io_code(e), "%s: %s", r->path, strerror(e));
        if (size == r->size && was.torn_bytes == 0) return MAIF_OK;
        if (size > r->map.size && (e = map_grow(r->hold->io, r->hold, size, &m)))
            return rfail(r, maif_io_code(e), "%s: mmap: %s", r->path, strerror(e));
    } else {
        if ((e = io->open(io, r->path, MAIF_IO_RDONLY, &f)))
            return rfail(r, maif_io_code(e), "%s: %s", r->path, strerror(e));
        if ((e = io->size(f, &size, NULL)) || (!r->hold && size == r->size && was.torn_bytes == 0) ||
            (e = map_grow(io, f, size, &m))) {
            io->close(f);
            return e ? rfail(r, maif_io_code(e), "%s: %s", r->path, strerror(e)) : MAIF_OK;
        }
    }
    const uint8_t *base = m.base ? m.base : r->base;
    char err[400];
    void *st = NULL;
    const maif_format_ops *ops = maif_format_detect(base, (size_t)size);
    maif_info now;
    if (ops != r->ops) {
        rc = maif_set_err(err, sizeof err, MAIF_EFORMAT, "%s: the file was replaced (not the same format)", r->path);
    } else if ((rc = ops->open_after ? ops->open_after(&st, base, size, was.file_size, err, sizeof err)
                                     : ops->open(&st, base, size, err, sizeof err)) != MAIF_OK) {
        st = NULL;
    } else if ((rc = ops->info(st, &now)) != MAIF_OK) {
        maif_set_err(err, sizeof err, rc, "%s: cannot read the new view", r->path);
    } else if (memcmp(now.file_id, was.file_id, MAIF_ID_BYTES) != 0 || now.block_count < was.block_count ||
               now.commit_count < was.commit_count) {
        rc = maif_set_err(err, sizeof err, MAIF_EFORMAT, "%s: the file was replaced or cut below this view", r->path);
    } else if (now.commit_count == was.commit_count && !m.base) {
        rc = -1; /* no new commit (only a torn or unfinished tail moved): keep the view */
    }
    /* (with a new map and no new commit, r still moves to it, quietly, so
     * that the next refreshes use it) */
    int newer = rc == MAIF_OK && now.commit_count != was.commit_count;
    /* the old view: its map stays until close if a new one replaces it (block
     * views point into it); its parsed state only if maif_reader_info handed
     * out its strings */
    int keep_state = atomic_load_explicit(&r->info_given, memory_order_relaxed);
    struct retired *o = rc == MAIF_OK && (m.base || keep_state) ? maif_malloc(sizeof *o) : NULL;
    if (rc == MAIF_OK && (m.base || keep_state) && !o)
        rc = maif_set_err(err, sizeof err, MAIF_ENOMEM, "out of memory");
    if (rc) {
        if (st) ops->close(st);
        maif_io_unmap_file(&m);
        if (f) io->close(f);
        return rc == -1 ? MAIF_OK : rfail(r, rc, "%s", err);
    }
    if (o) {
        *o = (struct retired){r->retired, r->ops, keep_state ? r->st : NULL, m.base ? r->map : (maif_io_mapped){0}};
        r->retired = o;
    }
    if (!keep_state) r->ops->close(r->st);
    atomic_store_explicit(&r->info_given, 0, memory_order_relaxed);
    r->st = st;
    if (m.base) r->map = m;
    if (f) {
        if (r->hold) r->hold->io->close(r->hold);
        r->hold = f;
    }
    r->base = base;
    r->size = size;
    /* the id table describes the old view: rebuild on the next lookup */
    maif_free(r->slots);
    maif_free(r->succ);
    r->slots = NULL;
    r->succ = NULL;
    r->nslots = 0;
    atomic_store_explicit(&r->ids_ready, 0, memory_order_relaxed);
    if (changed) *changed = newer;
    return MAIF_OK;
}

const char *maif_reader_errmsg(const maif_reader *r)
{
    return r && r->serial && t_msg.serial == r->serial ? t_msg.msg : "";
}
int maif_reader_format(const maif_reader *r) { return r && r->ops ? r->ops->id : 0; }

uint64_t maif_reader_count(const maif_reader *r)
{
    if (!r || !r->ops) return 0;
    return r->ops->count(r->st);
}

int maif_reader_block(maif_reader *r, uint64_t index, maif_block *out)
{
    if (!r || !out) return maif_set_last_err(MAIF_EINVAL, "maif_reader_block: NULL argument");
    if (index >= maif_reader_count(r))
        return rfail(r, MAIF_ENOTFOUND, "block %llu does not exist (%llu blocks)", (unsigned long long)index,
                     (unsigned long long)maif_reader_count(r));
    char msg[MSG_CAP];
    msg[0] = '\0'; /* only on failure does a format write it: no 512-byte clear per read */
    return rkeep(r, r->ops->block(r->st, index, out, msg, sizeof msg), msg);
}

int maif_reader_block_decoded_size(maif_reader *r, uint64_t index, size_t *size)
{
    if (!r || !size || !r->ops) return maif_set_last_err(MAIF_EINVAL, "maif_reader_block_decoded_size: bad argument");
    if (index >= maif_reader_count(r))
        return rfail(r, MAIF_ENOTFOUND, "block %llu does not exist (%llu blocks)", (unsigned long long)index,
                     (unsigned long long)maif_reader_count(r));
    char msg[MSG_CAP];
    msg[0] = '\0';
    int rc = r->ops->decode(r->st, index, r->keysrc, NULL, 0, size, msg, sizeof msg);
    return rkeep(r, rc, msg[0] ? msg : maif_strerror(rc));
}

int maif_reader_block_decode(maif_reader *r, uint64_t index, void *dst, size_t dst_capacity, size_t *written)
{
    if (!r || !written || (!dst && dst_capacity) || !r->ops)
        return maif_set_last_err(MAIF_EINVAL, "maif_reader_block_decode: bad argument");
    *written = 0;
    if (index >= maif_reader_count(r))
        return rfail(r, MAIF_ENOTFOUND, "block %llu does not exist (%llu blocks)", (unsigned long long)index,
                     (unsigned long long)maif_reader_count(r));
    char msg[MSG_CAP];
    msg[0] = '\0';
    if (r->gate) { /* an access policy (privacy engine): denied reads release nothing */
        int rc = r->gate(r->gate_ctx, r, index, msg, sizeof msg);
        if (rc) return rkeep(r, rc, msg[0] ? msg : maif_strerror(rc));
    }
    if (r->cache) { /* after the gate: a cached plaintext is no way around the policy */
        size_t have = 0;
        if (maif_cache_get(r->cache, index, dst, dst_capacity, &have)) {
            *written = have;
            if (have <= dst_capacity) return MAIF_OK;
            return rfail(r, MAIF_ELIMIT, "block %llu: the decoded payload needs %zu bytes, the buffer holds %zu",
                         (unsigned long long)index, have, dst_capacity);
        }
    }
    if (dst) {
        int rc = r->ops->decode(r->st, index, r->keysrc, dst, dst_capacity, written, msg, sizeof msg);
        if (rc == MAIF_OK && r->cache) {
            /* only blocks whose decoding did work: a plain one is a copy from the map anyway */
            maif_block b;
            char m2[MSG_CAP];
            if (r->ops->block(r->st, index, &b, m2, sizeof m2) == MAIF_OK && (b.codec || b.cipher))
                (void)maif_cache_put(r->cache, index, dst, *written); /* out of memory: just not cached */
        }
        return rkeep(r, rc, msg[0] ? msg : maif_strerror(rc));
    }
    /* no buffer: the op's size query, then the answer decode would give */
    size_t need = 0;
    int rc = r->ops->decode(r->st, index, r->keysrc, NULL, 0, &need, msg, sizeof msg);
    if (rc) return rkeep(r, rc, msg[0] ? msg : maif_strerror(rc));
    if (need) {
        *written = need;
        return rfail(r, MAIF_ELIMIT, "block %llu: the decoded payload needs %zu bytes, the buffer holds 0",
                     (unsigned long long)index, need);
    }
    return MAIF_OK;
}

/* maif_reader_block_decode_to: the caller's writer behind the stages'
 * sink, giving the map's pages back as the stored bytes are consumed so a
 * huge block streams in bounded memory. */
#define RELEASE_STEP (2u << 20)

typedef struct to_ctx {
    maif_write_fn write;
    void *ctx;
    const maif_io *io;        /* that mapped the image, or NULL (a caller's buffer) */
    const uint8_t *released;  /* stored bytes before this were handed back */
} to_ctx;

static int to_sink(void *c, const void *data, size_t n, const uint8_t *done)
{
    to_ctx *t = c;
    int rc = n ? t->write(t->ctx, data, n) : 0;
    if (rc) return rc < 0 ? rc : MAIF_EIO;
    if (!t->released) t->released = done;
    if (t->io && t->io->release && done > t->released && (size_t)(done - t->released) >= RELEASE_STEP) {
        t->io->release(t->io, t->released, (uint64_t)(done - t->released));
        t->released = done;
    }
    return MAIF_OK;
}

int maif_reader_block_decode_to(maif_reader *r, uint64_t index, maif_write_fn write, void *ctx)
{
    if (!r || !write || !r->ops) return maif_set_last_err(MAIF_EINVAL, "maif_reader_block_decode_to: bad argument");
    if (index >= maif_reader_count(r))
        return rfail(r, MAIF_ENOTFOUND, "block %llu does not exist (%llu blocks)", (unsigned long long)index,
                     (unsigned long long)maif_reader_count(r));
    char msg[MSG_CAP];
    msg[0] = '\0';
    if (r->gate) { /* the access policy first: a denied read releases nothing */
        int rc = r->gate(r->gate_ctx, r, index, msg, sizeof msg);
        if (rc) return rkeep(r, rc, msg[0] ? msg : maif_strerror(rc));
    }
    if (r->ops->decode_to) {
        to_ctx t = {write, ctx, r->map.base ? r->map.io : NULL, NULL};
        int rc = r->ops->decode_to(r->st, index, r->keysrc, to_sink, &t, msg, sizeof msg);
        return rkeep(r, rc, msg[0] ? msg : maif_strerror(rc));
    }
    /* a format without pieces (MAIF 2.1: always plain): one buffer */
    size_t need = 0, got = 0;
    int rc = r->ops->decode(r->st, index, r->keysrc, NULL, 0, &need, msg, sizeof msg);
    if (rc) return rkeep(r, rc, msg[0] ? msg : maif_strerror(rc));
    uint8_t *buf = maif_malloc(need ? need : 1);
    if (!buf) return rfail(r, MAIF_ENOMEM, "block %llu: out of memory for %zu bytes", (unsigned long long)index, need);
    rc = r->ops->decode(r->st, index, r->keysrc, buf, need, &got, msg, sizeof msg);
    if (rc == MAIF_OK && got && (rc = write(ctx, buf, got)))
        snprintf(msg, sizeof msg, "block %llu: the output failed: %s", (unsigned long long)index,
                 maif_strerror(rc < 0 ? rc : MAIF_EIO));
    if (rc > 0) rc = MAIF_EIO;
    maif_free(buf);
    return rkeep(r, rc, msg[0] ? msg : maif_strerror(rc));
}

int maif_reader_content_hash(const maif_reader *r)
{
    return r && r->ops->content_hash ? r->ops->content_hash(r->st) : MAIF_HASH_SHA256;
}

int maif_reader_info(maif_reader *r, maif_info *out)
{
    if (!r || !out) return maif_set_last_err(MAIF_EINVAL, "maif_reader_info: NULL argument");
    int rc = r->ops->info(r->st, out);
    if (rc == MAIF_OK) atomic_store_explicit(&r->info_given, 1, memory_order_relaxed); /* its strings live in st */
    return rc ? rfail(r, rc, "cannot read the artifact's facts: %s", maif_strerror(rc)) : MAIF_OK;
}

/* ---- id table and histories */

static uint64_t slot_of(const maif_reader *r, const uint8_t id[MAIF_ID_BYTES])
{
    uint64_t h;
    memcpy(&h, id, 8);
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 32;
    uint64_t i = h & (r->nslots - 1);
    while (r->slots[i].index != NONE && memcmp(r->slots[i].id, id, MAIF_ID_BYTES) != 0) i = (i + 1) & (r->nslots - 1);
    return i;
}

static int build_ids_locked(maif_reader *r)
{
    uint64_t n = maif_reader_count(r), ns = 16;
    while (ns < 2 * n) ns *= 2;
    r->slots = maif_malloc(ns * sizeof *r->slots);
    r->succ = maif_malloc((n ? n : 1) * sizeof *r->succ);
    if (!r->slots || !r->succ) {
        maif_free(r->slots);
        maif_free(r->succ);
        r->slots = NULL;
        r->succ = NULL;
        return rfail(r, MAIF_ENOMEM, "out of memory building the id table");
    }
    r->nslots = ns;
    for (uint64_t i = 0; i < ns; i++) r->slots[i].index = NONE;
    maif_block b;
    for (uint64_t i = 0; i < n; i++) {
        r->succ[i] = NONE;
        if (maif_reader_block(r, i, &b) != MAIF_OK) continue;
        uint64_t s = slot_of(r, b.id);
        if (r->slots[s].index == NONE) { /* the first block with an id wins */
            memcpy(r->slots[s].id, b.id, MAIF_ID_BYTES);
            r->slots[s].index = i;
        }
    }
    for (uint64_t i = 0; i < n; i++) {
        if (maif_reader_block(r, i, &b) != MAIF_OK || !b.has_supersedes) continue;
        uint64_t p = r->slots[slot_of(r, b.supersedes)].index;
        if (p != NONE && p < i) r->succ[p] = i; /* later blocks win a fork */
    }
    return MAIF_OK;
}

/* Builds the table once; callers on other threads wait for it. A failed
 * build (out of memory) leaves nothing, and the next call tries again. */
static int build_ids(maif_reader *r)
{
    if (atomic_load_explicit(&r->ids_ready, memory_order_acquire)) return MAIF_OK;
    pthread_mutex_lock(&r->ids_lock);
    int rc = MAIF_OK;
    if (!atomic_load_explicit(&r->ids_ready, memory_order_relaxed)) {
        rc = build_ids_locked(r);
        if (rc == MAIF_OK) atomic_store_explicit(&r->ids_ready, 1, memory_order_release);
    }
    pthread_mutex_unlock(&r->ids_lock);
    return rc;
}

int maif_reader_find(maif_reader *r, const uint8_t id[MAIF_ID_BYTES], uint64_t *index_out)
{
    if (!r || !id) return maif_set_last_err(MAIF_EINVAL, "maif_reader_find: NULL argument");
    int rc = build_ids(r);
    if (rc) return rc;
    uint64_t i = r->slots[slot_of(r, id)].index;
    if (i == NONE) {
        char hex[33];
        return rfail(r, MAIF_ENOTFOUND, "no block with id %s", maif_hex(id, MAIF_ID_BYTES, hex));
    }
    if (index_out) *index_out = i;
    return MAIF_OK;
}

int maif_reader_history(maif_reader *r, const uint8_t id[MAIF_ID_BYTES], uint64_t *indices, size_t cap, size_t *n)
{
    if (!r || !id || !n || (cap && !indices))
        return maif_set_last_err(MAIF_EINVAL, "maif_reader_history: NULL argument");
    uint64_t i;
    int rc = maif_reader_find(r, id, &i);
    if (rc) return rc;
    uint64_t total = maif_reader_count(r), steps = 0;
    maif_block b;
    /* back to the oldest version; links only point backwards, so this ends */
    while (steps++ < total && maif_reader_block(r, i, &b) == MAIF_OK && b.has_supersedes) {
        uint64_t p = r->slots[slot_of(r, b.supersedes)].index;
        if (p == NONE || p >= i) break;
        i = p;
    }
    size_t k = 0;
    for (steps = 0; i != NONE && steps < total; steps++, i = r->succ[i]) {
        if (k < cap) indices[k] = i;
        k++;
    }
    *n = k;
    return MAIF_OK;
}

/* ---- record listing */

int maif_reader_record(maif_reader *r, uint64_t i, maif_record *out)
{
    if (!r || !out) return maif_set_last_err(MAIF_EINVAL, "maif_reader_record: NULL argument");
    char msg[MSG_CAP];
    msg[0] = '\0';
    int rc = r->ops->record(r->st, i, out, msg, sizeof msg);
    if (rc == MAIF_ENOTFOUND && !msg[0])
        return rfail(r, rc, "record %llu does not exist (past the end of the listing)", (unsigned long long)i);
    return rkeep(r, rc, msg[0] ? msg : maif_strerror(rc));
}

/* ---- for the rest of the API layer */

static int source_block(void *ctx, uint64_t i, maif_block *out) { return maif_reader_block(ctx, i, out); }
static int source_decode(void *ctx, uint64_t i, void *dst, size_t cap, size_t *written)
{
    return maif_reader_block_decode(ctx, i, dst, cap, written);
}

int maif_reader_fail(const maif_reader *r, int code, const char *msg) { return rkeep(r, code, msg); }

void maif_reader_image(const maif_reader *r, const uint8_t **base, size_t *size)
{
    *base = r->base;
    *size = (size_t)r->size;
}

int maif_reader_source(maif_reader *r, maif_info *info, maif_block_source *src)
{
    int rc = maif_reader_info(r, info);
    if (rc) return rc;
    *src = (maif_block_source){.ctx = r,
                               .count = maif_reader_count(r),
                               .block = source_block,
                               .decode = source_decode,
                               .info = info,
                               .source_note = NULL};
    return MAIF_OK;
}

const void *maif_reader_keysrc(const maif_reader *r) { return r->keysrc; }

int maif_reader_gate_run(maif_reader *r, uint64_t index, char *msg, size_t cap)
{
    msg[0] = '\0';
    return r->gate ? r->gate(r->gate_ctx, r, index, msg, cap) : MAIF_OK;
}

void maif_reader_set_gate(maif_reader *r, maif_reader_gate gate, void *ctx, void (*ctx_free)(void *))
{
    if (r->gate_free) r->gate_free(r->gate_ctx);
    r->gate = gate;
    r->gate_ctx = ctx;
    r->gate_free = ctx_free;
}

void maif_reader_set_keysrc(maif_reader *r, void *keysrc, void (*keysrc_free)(void *))
{
    if (!r) return;
    if (r->keysrc_free) r->keysrc_free(r->keysrc);
    r->keysrc = keysrc;
    r->keysrc_free = keysrc_free;
    if (r->cache) {
        /* plaintext decrypted with the old keys must not outlive them:
         * start an empty cache (none if that cannot be had) */
        maif_cache_counters c;
        maif_cache_counters_get(r->cache, &c);
        maif_cache_free(r->cache);
        r->cache = maif_cache_new(c.budget);
    }
}

int maif_reader_set_cache(maif_reader *r, size_t cache_size)
{
    if (!r || !r->ops) return maif_set_last_err(MAIF_EINVAL, "maif_reader_set_cache: reader is NULL");
    maif_cache *c = NULL;
    if (cache_size && !(c = maif_cache_new(cache_size)))
        return rfail(r, MAIF_ENOMEM, "out of memory for a cache of %zu bytes", cache_size);
    maif_cache_free(r->cache);
    r->cache = c;
    return MAIF_OK;
}

int maif_reader_cache_stats(maif_reader *r, maif_cache_stats *out)
{
    if (!r || !out) return maif_set_last_err(MAIF_EINVAL, "maif_reader_cache_stats: NULL argument");
    memset(out, 0, sizeof *out);
    if (!r->cache) return MAIF_OK;
    maif_cache_counters c;
    maif_cache_counters_get(r->cache, &c);
    out->hits = c.hits;
    out->misses = c.misses;
    out->inserts = c.inserts;
    out->evictions = c.evictions;
    out->bytes = c.bytes;
    out->entries = c.entries;
    out->capacity = c.budget;
    return MAIF_OK;
}
