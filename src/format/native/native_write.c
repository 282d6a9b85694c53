/*
 * native_write.c — the append-only writer.
 *
 * Blocks of a batch are serialised into a user-space buffer and written in
 * large sequential positioned writes (through the I/O methods of src/io:
 * one indirect call per write, no extra copy); payloads of 256 KiB or more
 * go straight from the caller's memory to the file. Nothing of a batch is
 * visible until its commit record (which ends with the tail that readers
 * look for) is written: a crash before that leaves a torn tail that the
 * next open cuts off; rollback truncates the file back to the last commit, and so does
 * close after an I/O error killed the writer (nat_writer_cut_uncommitted).
 *
 * Durable commits sync twice: once for the batch and its index, once for
 * the commit record, so a power cut can never leave a commit that points at
 * blocks that did not reach the disk.
 *
 * The index is a small log-structured tree: every commit writes one index
 * segment for its batch, merged with older segments by size class
 * (merge_start), so a commit lists few segments (at most 64) and each block
 * offset is rewritten O(log n) times over the artifact's life.
 *
 * Large payloads to encrypt (no codec) never wait for their hash: the
 * record only needs the stored size, which the planned seal knows.
 * maif_writer_add seals the payload into the arena at once and queues its
 * SHA-256 and write on the hasher's helper, which works on one block while
 * the caller seals the next; maif_writer_add_borrowed leaves the sealing
 * to the drain, which seals, hashes and writes each block on whichever
 * core takes it. Either way the AEAD runs beside the chain's SHA-256.
 *
 * This file is the batch path only: adding blocks, the index, commit and
 * rollback. Creating, opening, recovering and closing a writer are in
 * native_open.c; the handle both work on is in native_writer.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codec/codec.h"
#include "codec/tlv.h"
#include "crypto/aead.h"
#include "crypto/crypto.h"
#include "format/native/native.h"
#include "format/native/native_writer.h"
#include "util/buf.h"
#include "util/common.h"
#include "crypto/hasher.h"
#include "util/alloc.h"
#include "util/pool.h"
#include "util/pyjson.h"

#define WBUF_FLUSH  (1u << 20) /* write out the buffer past 1 MiB */
#define DIRECT_MIN  (256u << 10) /* payloads at least this large bypass the buffer */
#define PIPELINE_MIN (1u << 20)  /* payloads this large are hashed while a thread writes them */
#define SEAL_DEFER_MAX (4u << 20) /* payloads to encrypt up to this size are sealed by drain */
#define INDEX_FANOUT_BITS 3      /* index segments merge in groups of 8 of one size class */
#define INDEX_FANOUT (1u << INDEX_FANOUT_BITS)

static const uint8_t zero_pad[8];

/* A payload written by a helper thread while the writer hashes it. */
typedef struct payload_job {
    maif_io_file *f;
    const void *data;
    size_t size;
    uint64_t off;
    int err; /* errno of a failed write, or 0 */
} payload_job;

int nat_writer_fail(maif_writer *w, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->err, sizeof w->err, fmt, ap);
    va_end(ap);
    return maif_set_last_err(code, "%s", w->err); /* one error channel (maif.h) */
}

int nat_writer_io_fail(maif_writer *w, const char *what, int e)
{
    w->dead = 1;
    if (!e) e = EIO;
    return nat_writer_fail(w, e == ENOMEM ? MAIF_ENOMEM : MAIF_EIO, "%s: %s: %s", w->path, what, strerror(e));
}

int nat_writer_view_committed(maif_writer *w, const void **map, nat_view *v)
{
    int e = w->io->map(w->f, w->c_end, 0, map);
    if (e) return nat_writer_io_fail(w, "mmap", e);
    char err[300];
    int rc = nat_view_open(v, *map, w->c_end, err, sizeof err);
    if (rc) {
        w->io->unmap(w->io, *map, w->c_end);
        *map = NULL;
        return nat_writer_fail(w, rc, "%s: %s", w->path, err);
    }
    return MAIF_OK;
}

void nat_writer_cut_uncommitted(maif_writer *w)
{
    if (!w->f) return;
    if (w->hpend.len || w->arena_hashing) maif_hasher_wait(w->hasher); /* its jobs read wbuf, write the file */
    w->hpend.len = 0;
    w->wbuf.len = 0;
    /* always: even at the committed size, a cut gives back the space that
     * drain reserved past the end (allocate, KEEP_SIZE) */
    (void)w->io->truncate(w->f, w->c_end);
    w->wbuf_off = w->pos = w->c_end;
    w->pend.len = 0;
    nat_writer_bor_release(w);
}

static int write_at(maif_writer *w, const void *p, size_t n, uint64_t off)
{
    return w->io->write(w->f, p, n, off);
}

static void *payload_write(void *arg)
{
    payload_job *j = arg;
    j->err = j->f->io->write(j->f, j->data, j->size, j->off);
    return NULL;
}

/* A small record in wbuf whose content hash is queued on the hasher. */
typedef struct hrec {
    size_t hdr;         /* offset of its header in wbuf */
    uint32_t meta_size;
    uint16_t ext_size;
} hrec;

#define HASHER_RING 4096 /* queued records before the writer waits */

void nat_writer_stop_hasher(maif_writer *w)
{
    maif_hasher_stop(w->hasher);
    w->hasher = NULL;
}

/* Starts the helper thread on the first small record (not when this
 * thread may use only one CPU). */
static maif_hasher *hasher(maif_writer *w)
{
    if (w->hasher || w->hasher_off) return w->hasher;
    if (maif_pool_cpus() < 2 || !(w->hasher = maif_hasher_start(HASHER_RING))) w->hasher_off = 1;
    else maif_hasher_set_alg(w->hasher, w->hash_alg);
    return w->hasher;
}

/* Adds record r to the chain: its record hash, and a Merkle leaf if it is
 * a block. hdr holds the content hash already. */
static void chain_record(maif_writer *w, uint8_t *hdr, const uint8_t *ext, uint16_t ext_size, const uint8_t *meta,
                         uint32_t meta_size)
{
    maif_sha256_parts(hdr + NR_RECORD_HASH, w->chain, 32, hdr, NAT_REC_HASHED, ext, ext_size, meta, meta_size);
    memcpy(w->chain, hdr + NR_RECORD_HASH, 32);
    if (hdr[NR_KIND] == NAT_KIND_BLOCK) {
        uint8_t leaf[32], done[NAT_MAX_FRONTIER][32];
        uint32_t ndone;
        nat_merkle_leaf(hdr + NR_RECORD_HASH, leaf);
        nat_merkle_push_nodes(&w->merkle, leaf, done, &ndone);
        /* the node record is an index, not part of what is sealed: without
         * memory for it the batch is written without one */
        if (ndone && !w->nodes_lost && maif_buf_append(&w->nodes, done, (size_t)ndone * 32)) w->nodes_lost = 1;
    }
}

/* Waits for the queued content hashes and chains those records in append
 * order. Afterwards w->chain and w->merkle cover every record appended, and
 * wbuf may be written, moved or reused. */
static void settle(maif_writer *w)
{
    if (w->hpend.len == 0) return;
    maif_hasher_wait(w->hasher);
    const hrec *r = (const hrec *)w->hpend.data;
    for (size_t k = 0, n = w->hpend.len / sizeof *r; k < n; k++) {
        uint8_t *hdr = w->wbuf.data + r[k].hdr;
        chain_record(w, hdr, hdr + NAT_REC_HEADER, r[k].ext_size, hdr + NAT_REC_HEADER + r[k].ext_size,
                     r[k].meta_size);
    }
    w->hpend.len = 0;
}

static int flush(maif_writer *w)
{
    settle(w);
    if (w->wbuf.len == 0) return MAIF_OK;
    int e = write_at(w, w->wbuf.data, w->wbuf.len, w->wbuf_off);
    if (e) return nat_writer_io_fail(w, "write", e);
    w->wbuf_off += w->wbuf.len;
    w->wbuf.len = 0;
    return MAIF_OK;
}

static int sync_file(maif_writer *w)
{
    int e = w->io->sync(w->f, MAIF_IO_SYNC_DATA);
    if (e) return nat_writer_io_fail(w, "fdatasync", e);
    return MAIF_OK;
}

/* How much of a record's hashing its caller has already done: nothing,
 * everything (commit records), or the content hash (encoded ahead). */
enum { HASH_BOTH, HASH_NONE, HASH_CHAIN };

/* Appends a whole record to the buffer and the chain (blocks also to the
 * Merkle tree). The header is filled in except for the hashes that `done`
 * says are still to compute. A small payload's content hash is queued on
 * the helper thread and the record chained later, by settle(); everything
 * else settles the queue first, since the chain runs in append order. */
static int put_record(maif_writer *w, uint8_t hdr[NAT_REC_HEADER], const uint8_t *ext, uint16_t ext_size,
                      const uint8_t *meta, uint32_t meta_size, const uint8_t *payload, uint64_t psize,
                      int done)
{
    int written = 0;
    int defer = done == HASH_BOTH && psize < DIRECT_MIN && hasher(w);
    if (!defer) settle(w);
    if (done == HASH_BOTH && psize >= PIPELINE_MIN) {
        /* Hash on this thread while another writes the payload into place;
         * the header follows once the hash is known. A crash in between
         * leaves a never-written (zero) header, which recovery treats as a
         * torn tail. */
        uint64_t h0 = NAT_REC_HEADER + (uint64_t)ext_size + meta_size;
        int rc = flush(w);
        if (rc) return rc;
        payload_job job = {w->f, payload, (size_t)psize, w->pos + align8(h0), 0};
        pthread_t t;
        int threaded = pthread_create(&t, NULL, payload_write, &job) == 0;
        if (!threaded) payload_write(&job);
        maif_chash(w->hash_alg, payload, (size_t)psize, hdr + NR_CONTENT_HASH);
        if (threaded) pthread_join(t, NULL);
        if (job.err) return nat_writer_io_fail(w, "write", job.err);
        written = 1;
    } else if (done == HASH_BOTH && !defer) {
        maif_chash(w->hash_alg, payload, (size_t)psize, hdr + NR_CONTENT_HASH);
    }
    if (done == HASH_NONE) {
        memcpy(w->chain, hdr + NR_RECORD_HASH, 32);
    } else if (!defer) {
        chain_record(w, hdr, ext, ext_size, meta, meta_size);
    }

    uint64_t head = NAT_REC_HEADER + (uint64_t)ext_size + meta_size;
    uint64_t pad1 = align8(head) - head, pad2 = align8(psize) - psize;
    size_t need = (size_t)(head + pad1 + (psize < DIRECT_MIN ? psize + pad2 : 0));
    if (need > w->wbuf.cap - w->wbuf.len) settle(w); /* queued jobs point into wbuf, which may move */
    int rc = maif_buf_reserve(&w->wbuf, need);
    if (!rc && defer) rc = maif_buf_reserve(&w->hpend, sizeof(hrec));
    if (rc) return nat_writer_fail(w, rc, "out of memory buffering a record");
    size_t hdr_at = w->wbuf.len;
    maif_buf_append(&w->wbuf, hdr, NAT_REC_HEADER);
    maif_buf_append(&w->wbuf, ext, ext_size);
    maif_buf_append(&w->wbuf, meta, meta_size);
    maif_buf_append(&w->wbuf, zero_pad, (size_t)pad1);
    uint64_t poff = w->pos + head + pad1;
    if (psize >= DIRECT_MIN) {
        if ((rc = flush(w))) return rc;
        int e = written ? 0 : write_at(w, payload, (size_t)psize, poff);
        if (e) return nat_writer_io_fail(w, "write", e);
        w->wbuf_off = poff + psize;
    } else {
        size_t at = w->wbuf.len;
        maif_buf_append(&w->wbuf, payload, (size_t)psize);
        if (defer) {
            uint8_t *h = w->wbuf.data + hdr_at;
            if (maif_hasher_push(w->hasher, w->wbuf.data + at, (size_t)psize, h + NR_CONTENT_HASH) != 0) {
                settle(w); /* the queue is full */
                maif_hasher_push(w->hasher, w->wbuf.data + at, (size_t)psize, h + NR_CONTENT_HASH);
            }
            hrec r = {hdr_at, meta_size, ext_size};
            maif_buf_append(&w->hpend, &r, sizeof r); /* reserved above: cannot fail */
        }
    }
    maif_buf_append(&w->wbuf, zero_pad, (size_t)pad2);
    w->pos = poff + psize + pad2;
    if (w->wbuf.len >= WBUF_FLUSH) return flush(w);
    return MAIF_OK;
}

static void hdr_init(uint8_t hdr[NAT_REC_HEADER], char kind, uint32_t type, uint64_t stored, uint64_t ts,
                     uint32_t meta_size, uint16_t ext_size, const uint8_t *id)
{
    memset(hdr, 0, NAT_REC_HEADER);
    hdr[NR_KIND] = (uint8_t)kind;
    hdr[NR_VERSION] = NAT_REC_VERSION;
    wr32be(hdr + NR_TYPE, type);
    wr64le(hdr + NR_STORED_SIZE, stored);
    wr64le(hdr + NR_TIMESTAMP, ts);
    wr32le(hdr + NR_META_SIZE, meta_size);
    wr16le(hdr + NR_EXT_SIZE, ext_size);
    if (id) memcpy(hdr + NR_ID, id, MAIF_ID_BYTES);
}

/* A block maif_writer_add sealed into the arena: the hasher's helper
 * hashes it into hash and writes it (and its padding) at off. */
typedef struct sealed_job {
    maif_io_file *f;
    const uint8_t *data;
    uint64_t size, off;
    int err;              /* errno of a failed write, or 0 */
    uint8_t hash[32];
} sealed_job;

static void sealed_write(void *arg)
{
    sealed_job *j = arg;
    uint64_t pad = align8(j->size) - j->size;
    int e = j->f->io->write(j->f, j->data, (size_t)j->size, j->off);
    if (!e && pad) e = j->f->io->write(j->f, zero_pad, (size_t)pad, j->off + j->size);
    j->err = e;
}

/* A block added with maif_writer_add_borrowed: its record is laid out (the
 * file offsets are final) but nothing of it is written and its hashes are
 * unknown until drain. */
typedef struct borrowed {
    uint64_t off;            /* record offset */
    uint64_t poff;           /* payload offset */
    const uint8_t *payload;  /* the caller's bytes, borrowed until commit, or a copy (owned) */
    uint64_t size;
    int owned;               /* payload is the writer's copy, in w->arena */
    int32_t seal;            /* its planned cipher in w->seals, sealed by drain from plain (the
                                caller's, borrowed) into payload (in the arena); -1: payload holds
                                the stored bytes */
    const uint8_t *plain;    /* seal >= 0: the caller's plaintext */
    struct sealed_job *job;  /* sealed by the add, then hashed and written by the hasher's
                                helper (in the arena, after the ciphertext); drain only waits */
    int err;                 /* seal >= 0: MAIF_E* of its sealing, or errno of its write (werr) */
    int werr;
    size_t em_off;           /* its ext ‖ metadata in w->bor_em */
    uint32_t meta_size;
    uint16_t ext_size;
    uint8_t hdr[NAT_REC_HEADER]; /* complete but for the two hashes */
} borrowed;

typedef struct drain_ctx {
    maif_io_file *f;
    borrowed *b;
    size_t n;
    const maif_stage_seal *seals;
    int err; /* errno of a failed write, or 0; only item 0 sets it */
    int alg; /* MAIF_HASH_*: the content hash */
} drain_ctx;

/* Item 0 writes every borrowed payload in file order; item i >= 1 hashes
 * payload i-1. With two or more threads the writes overlap the hashing and
 * the thread that finishes writing joins in, so a batch of large payloads
 * keeps every core busy. A block whose sealing was deferred is sealed,
 * hashed and written by its own item i, so the AEAD too runs on every
 * core (item 0 skips it); one that the hasher's helper hashed and wrote
 * already (a job) is skipped by every item. */
static void drain_work(void *ctx, uint64_t i, void *scratch)
{
    (void)scratch;
    drain_ctx *c = ctx;
    if (i == 0) {
        for (size_t k = 0; k < c->n; k++) {
            borrowed *b = &c->b[k];
            if (b->seal >= 0 || b->job) continue;
            uint64_t pad = align8(b->size) - b->size;
            int e = c->f->io->write(c->f, b->payload, (size_t)b->size, b->poff);
            if (!e && pad) e = c->f->io->write(c->f, zero_pad, (size_t)pad, b->poff + b->size);
            if (e) {
                c->err = e;
                return;
            }
        }
        return;
    }
    borrowed *b = &c->b[i - 1];
    if (b->job) return; /* hashed and written on the hasher */
    if (b->seal >= 0) {
        b->err = maif_stage_seal_run(&c->seals[b->seal], (uint8_t *)b->payload, b->plain);
        if (b->err) return;
        maif_chash(c->alg, b->payload, (size_t)b->size, b->hdr + NR_CONTENT_HASH);
        uint64_t pad = align8(b->size) - b->size;
        int e = c->f->io->write(c->f, b->payload, (size_t)b->size, b->poff);
        if (!e && pad) e = c->f->io->write(c->f, zero_pad, (size_t)pad, b->poff + b->size);
        b->werr = e;
        return;
    }
    maif_chash(c->alg, b->payload, (size_t)b->size, b->hdr + NR_CONTENT_HASH);
}

/* Forgets the deferred blocks (and so the copies in the arena). */
void nat_writer_bor_release(maif_writer *w)
{
    if (w->arena_hashing && w->hasher) maif_hasher_wait(w->hasher); /* its jobs read the arena */
    w->arena_hashing = 0;
    w->seals.len = 0;
    w->bor.len = 0;
    w->bor_em.len = 0;
    w->bor_bytes = 0;
    w->arena_used = 0;
}

/* Writes and hashes the borrowed blocks of the batch, then chains them and
 * writes their record heads (header ‖ ext ‖ metadata ‖ padding) in order.
 * Until the heads are written they are holes, which read as zeros: a crash
 * before then leaves the all-zero header that recovery cuts as torn. */
static int drain(maif_writer *w)
{
    size_t n = w->bor.len / sizeof(borrowed);
    if (n == 0) return MAIF_OK;
    settle(w);
    borrowed *bs = (borrowed *)w->bor.data;
    if (w->arena_hashing) { /* the blocks sealed by their adds: hashed and written on the hasher */
        maif_hasher_wait(w->hasher);
        w->arena_hashing = 0;
        for (size_t k = 0; k < n; k++)
            if (bs[k].job) {
                memcpy(bs[k].hdr + NR_CONTENT_HASH, bs[k].job->hash, 32);
                bs[k].werr = bs[k].job->err;
            }
    }
    drain_ctx c = {w->f, bs, n, (const maif_stage_seal *)w->seals.data, 0, w->hash_alg};
    unsigned threads = 1;
    if (w->bor_bytes >= PIPELINE_MIN) {
        threads = maif_pool_cpus();
        /* Reserving the range first spares the filesystem its per-page block
         * reservation during the writes. All of it is written below, so
         * nothing stays reserved past the end of the file; a filesystem
         * that refuses just gets the plain writes. */
        (void)w->io->allocate(w->f, bs[0].off, w->pos - bs[0].off);
    }
    maif_pool_run(threads, (uint64_t)n + 1, drain_work, &c, NULL, 0);
    for (size_t k = 0; k < n && !c.err; k++) {
        if (bs[k].werr) c.err = bs[k].werr;
        if (bs[k].err) { /* cannot happen: the plan checked key and sizes */
            nat_writer_bor_release(w);
            w->dead = 1;
            return nat_writer_fail(w, bs[k].err, "%s: sealing a block failed: %s", w->path, maif_strerror(bs[k].err));
        }
    }
    if (c.err) {
        nat_writer_bor_release(w);
        return nat_writer_io_fail(w, "write", c.err);
    }
    maif_buf head = {0};
    int rc = MAIF_OK, e;
    for (size_t k = 0; k < n && rc == MAIF_OK; k++) {
        borrowed *b = &bs[k];
        const uint8_t *ext = w->bor_em.data + b->em_off, *meta = ext + b->ext_size;
        chain_record(w, b->hdr, ext, b->ext_size, meta, b->meta_size);
        head.len = 0;
        if (maif_buf_append(&head, b->hdr, NAT_REC_HEADER) || maif_buf_append(&head, ext, b->ext_size) ||
            maif_buf_append(&head, meta, b->meta_size) ||
            maif_buf_append(&head, zero_pad, (size_t)(b->poff - b->off - head.len)))
            rc = nat_writer_fail(w, MAIF_ENOMEM, "out of memory writing a record header");
        else if ((e = write_at(w, head.data, head.len, b->off)))
            rc = nat_writer_io_fail(w, "write", e);
    }
    maif_buf_free(&head);
    nat_writer_bor_release(w);
    if (rc) w->dead = 1; /* the chain has moved past blocks that may lack a header */
    return rc;
}

int nat_writer_set_stages(maif_writer *w, const maif_stage_config *cfg)
{
    if (!w) return MAIF_EINVAL;
    if (!cfg || (cfg->codec == 0 && cfg->cipher == 0)) {
        memset(&w->stages, 0, sizeof w->stages);
        nat_writer_dict_stages(w);
        return MAIF_OK;
    }
    if (cfg->codec == MAIF_CODEC_ZSTD_DICT && !w->dict && !cfg->dict)
        return nat_writer_fail(w, MAIF_ESTATE, "codec zstd-dict needs a dictionary (maif_writer_add_dict or "
                                               "maif_writer_use_dict)");
    if (!maif_codec_known(cfg->codec) || !maif_cipher_known(cfg->cipher))
        return nat_writer_fail(w, MAIF_EUNSUPPORTED, "codec %u / cipher %u is not registered", cfg->codec,
                               cfg->cipher);
    if (cfg->cipher && (!cfg->key_id || cfg->key_id_len == 0 || cfg->key_id_len > MAIF_KEY_ID_MAX))
        return nat_writer_fail(w, MAIF_EINVAL, "a cipher needs a key id of 1 to %u bytes", MAIF_KEY_ID_MAX);
    w->stages = *cfg;
    if (cfg->cipher) {
        memcpy(w->stage_key_id, cfg->key_id, cfg->key_id_len);
        w->stages.key_id = w->stage_key_id;
    } else {
        w->stages.key_id = NULL;
        w->stages.key_id_len = 0;
    }
    if (!cfg->dict) nat_writer_dict_stages(w); /* the writer's dictionary, unless the caller brings one */
    return MAIF_OK;
}

int maif_writer_set_codec(maif_writer *w, int codec, int level)
{
    if (!w) return maif_set_last_err(MAIF_EINVAL, "maif_writer_set_codec: writer is NULL");
    if (codec < 0 || codec > 255) return nat_writer_fail(w, MAIF_EINVAL, "codec %d is not a codec id", codec);
    const maif_codec *c = maif_codec_find((uint8_t)codec);
    if (codec && !c) return nat_writer_fail(w, MAIF_EUNSUPPORTED, "codec %d is not known to this library", codec);
    if (level && (!c || level < c->level_min || level > c->level_max))
        return nat_writer_fail(w, MAIF_EINVAL, "level %d is not one codec %s accepts (%d..%d)", level,
                               c ? c->name : "none", c ? c->level_min : 0, c ? c->level_max : 0);
    if (codec == MAIF_CODEC_ZSTD_DICT && !w->dict)
        return nat_writer_fail(w, MAIF_ESTATE, "codec zstd-dict needs a dictionary (maif_writer_add_dict or "
                                               "maif_writer_use_dict)");
    w->stages.codec = (uint8_t)codec; /* the cipher, if any, stays */
    w->stages.level = level;
    nat_writer_dict_stages(w);
    return MAIF_OK;
}

/* The stored form of a block: where its bytes are and how many. */
typedef struct stored {
    const uint8_t *data; /* the caller's payload (no stages), or the writer's stage_scratch */
    uint64_t size;
} stored;

/* Checks a spec and builds everything of its record but the hashes: hdr,
 * ext (*ext_size bytes), the canonical metadata in w->meta (*meta_size
 * bytes), the block id and the stored bytes (*st): the payload itself
 * unless the writer has stages, else their output, valid until the next
 * prepare. */
static int prepare(maif_writer *w, const maif_block_spec *spec, uint8_t hdr[NAT_REC_HEADER],
                   uint8_t ext[NAT_EXT_BUILD_MAX], uint16_t *ext_size, uint32_t *meta_size, uint8_t id[MAIF_ID_BYTES],
                   stored *st, maif_stage_seal *plan)
{
    if (plan) plan->k = NULL;
    if (!w) return maif_set_last_err(MAIF_EINVAL, "writer is NULL");
    if (!spec || (spec->payload_size && !spec->payload))
        return nat_writer_fail(w, MAIF_EINVAL, "no block spec, or a payload size without a payload");
    if (w->dead) return nat_writer_fail(w, MAIF_ESTATE, "%s: writer failed earlier; reopen the artifact", w->path);
    if (spec->type == 0) return nat_writer_fail(w, MAIF_EINVAL, "block type 0 is not allowed");
    int grc = nat_writer_gate_check(w, spec, w->stages.cipher); /* the artifact's access policy */
    if (grc) return grc;
    if ((uint64_t)spec->payload_size > NAT_PAYLOAD_MAX)
        return nat_writer_fail(w, MAIF_ELIMIT, "payload of %zu bytes exceeds the %llu-byte limit", spec->payload_size,
                    (unsigned long long)NAT_PAYLOAD_MAX);
    *meta_size = 0;
    w->meta.len = 0;
    if (spec->meta_json && spec->meta_size && w->meta_trusted) {
        /* canonical already (maif_writer_add_draft): parsed once, not twice */
        if (maif_buf_append(&w->meta, spec->meta_json, spec->meta_size))
            return nat_writer_fail(w, MAIF_ENOMEM, "out of memory");
        if (w->meta.len > NAT_META_MAX)
            return nat_writer_fail(w, MAIF_ELIMIT, "metadata of %zu bytes exceeds the %u-byte limit", w->meta.len,
                                   NAT_META_MAX);
        *meta_size = (uint32_t)w->meta.len;
    } else if (spec->meta_json && spec->meta_size) {
        char jerr[200];
        int rc = maif_json_canonicalize(spec->meta_json, spec->meta_size, MAIF_JSON_COMPACT, &w->meta, jerr,
                                        sizeof jerr);
        if (rc) return nat_writer_fail(w, rc, "metadata: %s", jerr);
        if (w->meta.len == 2) w->meta.len = 0; /* {} is stored as no metadata */
        if (w->meta.len > NAT_META_MAX)
            return nat_writer_fail(w, MAIF_ELIMIT, "metadata of %zu bytes exceeds the %u-byte limit", w->meta.len,
                                   NAT_META_MAX);
        *meta_size = (uint32_t)w->meta.len;
    }
    maif_tlv_builder eb;
    maif_tlv_builder_init(&eb, ext, NAT_EXT_BUILD_MAX);
    if (spec->supersedes) maif_tlv_put(&eb, NAT_EXT_SUPERSEDES, spec->supersedes, MAIF_ID_BYTES);
    if (spec->id) memcpy(id, spec->id, MAIF_ID_BYTES);
    else {
        if (w->id_pool_used >= ID_POOL) {
            maif_random(w->id_pool, ID_POOL);
            w->id_pool_used = 0;
        }
        memcpy(id, w->id_pool + w->id_pool_used, MAIF_ID_BYTES);
        w->id_pool_used += MAIF_ID_BYTES;
    }
    st->data = spec->payload;
    st->size = spec->payload_size;
    uint64_t ts = spec->timestamp_us || (w->flags & NAT_W_EXACT_TIME) ? spec->timestamp_us : maif_now_us();
    hdr_init(hdr, NAT_KIND_BLOCK, spec->type, st->size, ts, *meta_size, 0, id);
    if (spec->supersedes) wr16le(hdr + NR_FLAGS, NAT_REC_F_SUPERSEDES);
    if (w->stages.codec || w->stages.cipher) {
        /* codec, then cipher; what they need to be undone joins the
         * extension area, and the header takes the stored size */
        hdr[NR_CODEC] = w->stages.codec;
        hdr[NR_CIPHER] = w->stages.cipher;
        uint8_t ad[MAIF_STAGE_AD_BYTES];
        nat_stage_ad(w->file_id, hdr, ad);
        maif_stage_out o;
        if (w->pre) { /* encoded ahead by a worker, with the same stages */
            o = w->pre->out;
            if (w->pre->tlv_len > eb.cap - eb.len)
                return nat_writer_fail(w, MAIF_ELIMIT, "no room for the stages' extensions");
            memcpy(ext + eb.len, w->pre->tlv, w->pre->tlv_len);
            eb.len += w->pre->tlv_len;
        } else if (plan && plan->coded) {
            /* compressed already, into a spool (a streamed add): planned here */
            uint64_t n = plan->decoded_size, in_n = plan->in_size;
            uint8_t codec = plan->codec;
            int rc = maif_stage_plan_coded(&w->stages, &nat_stage_tags, ad, n, codec, in_n, NAT_PAYLOAD_MAX, &eb, plan,
                                           &o, w->err, sizeof w->err);
            plan->coded = 1;
            if (rc) return rc;
        } else if (plan && !w->stages.codec) {
            /* sealed later (drain), or chunk by chunk (a streamed add): only planned here */
            int rc = maif_stage_plan_seal(&w->stages, &nat_stage_tags, ad, plan->in_size, NAT_PAYLOAD_MAX, &eb, plan,
                                          &o, w->err, sizeof w->err);
            if (rc) return rc;
        } else {
            int rc = maif_stage_encode(&w->stages, &nat_stage_tags, ad, spec->payload, spec->payload_size,
                                       NAT_PAYLOAD_MAX, &w->stage_scratch, &eb, &o, w->err, sizeof w->err);
            if (rc) return rc;
        }
        hdr[NR_CODEC] = o.codec; /* 0 when compression did not pay */
        hdr[NR_CIPHER] = o.cipher; /* cipher 1 becomes its STREAM form (4) past one chunk */
        st->data = o.stored;
        st->size = o.stored_size;
        wr64le(hdr + NR_STORED_SIZE, st->size);
    }
    if (eb.rc) return nat_writer_fail(w, eb.rc, "cannot build the extension area");
    *ext_size = (uint16_t)eb.len;
    wr16le(hdr + NR_EXT_SIZE, *ext_size);
    return MAIF_OK;
}

/* Lays out a block whose payload is written and hashed later, by drain:
 * its record is a hole until then. payload is the caller's (borrowed) or
 * the writer's copy in its arena (owned). */
static int defer_block(maif_writer *w, borrowed *b, const uint8_t *ext, const uint8_t *payload, uint64_t size,
                       int owned)
{
    int rc = flush(w); /* the buffer must end where this record starts */
    if (rc) return rc;
    uint64_t head = NAT_REC_HEADER + (uint64_t)b->ext_size + b->meta_size;
    b->off = w->pos;
    b->poff = b->off + align8(head);
    b->payload = payload;
    b->size = size;
    b->owned = owned;
    b->em_off = w->bor_em.len;
    size_t pend_len = w->pend.len, em_len = w->bor_em.len;
    if (maif_buf_append(&w->pend, &b->off, sizeof b->off) || maif_buf_append(&w->bor_em, ext, b->ext_size) ||
        maif_buf_append(&w->bor_em, w->meta.data, b->meta_size) || maif_buf_append(&w->bor, b, sizeof *b)) {
        w->pend.len = pend_len;
        w->bor_em.len = em_len;
        return nat_writer_fail(w, MAIF_ENOMEM, "out of memory");
    }
    w->bor_bytes += size;
    if (owned) w->arena_used += (size_t)size;
    w->pos = w->wbuf_off = b->poff + align8(size);
    return MAIF_OK;
}

/* The chunks of one STREAM payload sealed by maif_writer_add, shared with
 * the hasher's helper: the caller queues seal_help and seals chunks
 * itself; whichever thread claims chunk i (next) seals it. The helper
 * reaches the job once it has hashed and written the blocks before, so
 * when hashing and writing are cheaper than sealing (BLAKE3 content
 * hashes) it joins in and both cores seal; when it comes late it finds
 * nothing left and returns at once. The caller returns only when every
 * claimed chunk is done, so k, p, in and out (its own and the arena's)
 * are read only while valid; the share itself lives in the arena, which
 * outlives the queue (drain waits for the hasher). */
typedef struct seal_share {
    const maif_cipher *k;
    const maif_cipher_params *p;
    uint8_t *out;       /* the stored bytes: head, then chunk i at head + i * (chunk + tag) */
    const uint8_t *in;  /* the caller's plaintext */
    uint64_t n, chunks;
    _Atomic uint64_t next, done;
    _Atomic int rc;     /* MAIF_E* of a failed chunk, or 0 */
} seal_share;

static void seal_chunks(seal_share *s)
{
    size_t chunk = s->k->chunk, step = chunk + s->k->tag_size;
    for (;;) {
        uint64_t i = atomic_fetch_add_explicit(&s->next, 1, memory_order_relaxed);
        if (i >= s->chunks) return;
        int last = i + 1 == s->chunks;
        size_t len = last ? (size_t)(s->n - i * chunk) : chunk;
        int rc = s->k->piece(s->k, s->p, i, last, 0, s->out + s->k->head_size + i * step, s->in + i * chunk, len);
        if (rc) atomic_store(&s->rc, rc);
        atomic_fetch_add_explicit(&s->done, 1, memory_order_release);
    }
}

static void seal_help(void *arg) { seal_chunks(arg); }

/* Seals plan's payload from src into out (stored_size bytes), its chunks
 * shared with the helper when the cipher is chunked (STREAM) and the
 * queue has room; share is arena space for the job. */
static int seal_shared(maif_writer *w, const maif_stage_seal *plan, uint8_t *out, const uint8_t *src,
                       seal_share *share)
{
    const maif_cipher *k = plan->k;
    if (!k->chunk || !k->piece || !k->head || plan->in_size <= k->chunk) return maif_stage_seal_run(plan, out, src);
    maif_cipher_params p;
    maif_stage_seal_params(plan, &p);
    int rc = k->head(k, &p, out, 0);
    if (rc) return rc;
    seal_share *s = share;
    s->k = k;
    s->p = &p;
    s->out = out;
    s->in = src;
    s->n = plan->in_size;
    s->chunks = (plan->in_size + k->chunk - 1) / k->chunk;
    atomic_init(&s->next, 0);
    atomic_init(&s->done, 0);
    atomic_init(&s->rc, 0);
    (void)maif_hasher_push_call(w->hasher, seal_help, s); /* a full queue: seal alone */
    seal_chunks(s);
    /* the helper finishes the chunks it claimed (one 64 KiB seal each,
     * tens of microseconds); yield now and then in case it was preempted */
    for (unsigned spin = 0; atomic_load_explicit(&s->done, memory_order_acquire) < s->chunks; spin++)
        if (spin % 4096 == 4095) sched_yield();
        else maif_cpu_relax();
    return atomic_load(&s->rc);
}

/* Whether spec's payload goes through defer_seal: a large payload to
 * encrypt with no codec, when a second core can take part of the work. */
static int seal_deferrable(maif_writer *w, const maif_block_spec *spec)
{
    return w && spec && !w->dead && w->stages.cipher && !w->stages.codec && spec->payload_size >= DIRECT_MIN &&
           spec->payload_size <= SEAL_DEFER_MAX && hasher(w) && (w->arena || (w->arena = maif_malloc(NAT_ARENA)));
}

/* Defers a large block to encrypt (plan set by prepare).
 * theirs (maif_writer_add_borrowed): the caller's plaintext is borrowed
 * until drain, which seals it into the arena, hashes and writes it there,
 * on every core. Else (maif_writer_add) it is sealed now, from the
 * caller's bytes into the arena (no plaintext is copied), by this thread
 * and the helper when it is free (seal_shared), and its hashing and
 * writing are queued on the hasher, so that the helper hashes and writes
 * one block while this thread seals the next; drain waits for them and
 * chains. */
static int defer_seal(maif_writer *w, const maif_block_spec *spec, borrowed *b, const uint8_t *ext,
                      const stored *st, const maif_stage_seal *plan, int theirs)
{
    int rc;
    size_t out_room = (size_t)align8(st->size),
           need = out_room + (theirs ? 0 : align8(sizeof(sealed_job)) + align8(sizeof(seal_share)));
    if (need > NAT_ARENA - w->arena_used && (rc = drain(w))) return rc;
    uint8_t *out = w->arena + w->arena_used;
    b->err = b->werr = 0;
    if (theirs) {
        if (maif_buf_append(&w->seals, plan, sizeof *plan)) return nat_writer_fail(w, MAIF_ENOMEM, "out of memory");
        b->seal = (int32_t)(w->seals.len / sizeof *plan - 1);
        b->plain = spec->payload;
    } else {
        seal_share *share = (seal_share *)(void *)(out + out_room + align8(sizeof(sealed_job)));
        if ((rc = seal_shared(w, plan, out, spec->payload, share))) { /* the plan checked key and sizes */
            maif_hasher_wait(w->hasher); /* its help job points into arena space this block gives back */
            return nat_writer_fail(w, rc, "%s: sealing a block failed: %s", w->path, maif_strerror(rc));
        }
        b->job = (sealed_job *)(void *)(out + out_room);
    }
    if ((rc = defer_block(w, b, ext, out, st->size, 0))) {
        if (theirs) w->seals.len -= sizeof *plan;
        else maif_hasher_wait(w->hasher); /* as above: the space is given back */
        return rc;
    }
    w->arena_used += need;
    if (!theirs) {
        sealed_job *j = b->job;
        *j = (sealed_job){w->f, out, st->size, b->poff, 0, {0}};
        w->arena_hashing = 1;
        while (maif_hasher_push(w->hasher, out, (size_t)st->size, j->hash) != 0) maif_hasher_wait(w->hasher);
        while (maif_hasher_push_call(w->hasher, sealed_write, j) != 0) maif_hasher_wait(w->hasher);
    }
    return MAIF_OK;
}

int maif_writer_add(maif_writer *w, const maif_block_spec *spec, uint8_t id_out[MAIF_ID_BYTES])
{
    borrowed b = {.seal = -1};
    stored st;
    uint8_t ext[NAT_EXT_BUILD_MAX], id[MAIF_ID_BYTES];
    /* A large payload to encrypt (no codec) is sealed into the arena and
     * hashed and written on the helper while this thread goes on. The
     * record only needs the stored size, which the plan knows. */
    maif_stage_seal plan;
    int defer = seal_deferrable(w, spec);
    memset(&plan, 0, sizeof plan);
    plan.in_size = defer ? spec->payload_size : 0;
    int rc = prepare(w, spec, b.hdr, ext, &b.ext_size, &b.meta_size, id, &st, defer ? &plan : NULL);
    if (rc) return rc;
    if (plan.k) {
        if ((rc = defer_seal(w, spec, &b, ext, &st, &plan, 0))) return rc;
        if (id_out) memcpy(id_out, id, MAIF_ID_BYTES);
        return MAIF_OK;
    }
    /* A large payload is copied into the arena and deferred like a
     * borrowed one, so that a run of them is written and hashed on every
     * core; the copy costs a tenth of the hash. The arena is reused, so
     * its pages are faulted in once. */
    if (st.size >= DIRECT_MIN && st.size <= NAT_ARENA && hasher(w) &&
        (w->arena || (w->arena = maif_malloc(NAT_ARENA)))) {
        if (st.size > NAT_ARENA - w->arena_used && (rc = drain(w))) return rc;
        uint8_t *copy = w->arena + w->arena_used;
        memcpy(copy, st.data, (size_t)st.size);
        if ((rc = defer_block(w, &b, ext, copy, st.size, 1))) return rc;
        if (id_out) memcpy(id_out, id, MAIF_ID_BYTES);
        return MAIF_OK;
    }
    if ((rc = drain(w))) return rc; /* the chain runs in append order */
    uint64_t off = w->pos;
    rc = maif_buf_append(&w->pend, &off, sizeof off);
    if (rc) return nat_writer_fail(w, rc, "out of memory");
    rc = put_record(w, b.hdr, ext, b.ext_size, w->meta.data, b.meta_size, st.data, st.size, HASH_BOTH);
    if (rc) {
        w->pend.len -= sizeof off;
        return rc;
    }
    if (id_out) memcpy(id_out, id, MAIF_ID_BYTES);
    return MAIF_OK;
}

int maif_writer_add_borrowed(maif_writer *w, const maif_block_spec *spec, uint8_t id_out[MAIF_ID_BYTES])
{
    borrowed b = {.seal = -1};
    stored st;
    uint8_t ext[NAT_EXT_BUILD_MAX], id[MAIF_ID_BYTES];
    if (seal_deferrable(w, spec)) {
        /* sealed by drain straight from the caller's bytes: no copy */
        maif_stage_seal plan;
        memset(&plan, 0, sizeof plan);
        plan.in_size = spec->payload_size;
        int rc = prepare(w, spec, b.hdr, ext, &b.ext_size, &b.meta_size, id, &st, &plan);
        if (rc) return rc;
        if (!plan.k) return nat_writer_fail(w, MAIF_ESTATE, "no seal was planned for a block to encrypt");
        if ((rc = defer_seal(w, spec, &b, ext, &st, &plan, 1))) return rc;
        if (id_out) memcpy(id_out, id, MAIF_ID_BYTES);
        return MAIF_OK;
    }
    /* Otherwise, with stages the stored bytes are the writer's, not the
     * caller's, and live only until the next block: consume them at once. */
    if (w && (w->stages.codec || w->stages.cipher)) return maif_writer_add(w, spec, id_out);
    int rc = prepare(w, spec, b.hdr, ext, &b.ext_size, &b.meta_size, id, &st, NULL);
    if (rc) return rc;
    if ((rc = defer_block(w, &b, ext, st.data, st.size, 0))) return rc;
    if (id_out) memcpy(id_out, id, MAIF_ID_BYTES);
    return MAIF_OK;
}

int nat_writer_add_encoded(maif_writer *w, const maif_block_spec *spec, const nat_encoded *e,
                           uint8_t id_out[MAIF_ID_BYTES])
{
    if (!w || !spec || !spec->id || !(w->stages.codec || w->stages.cipher)) return MAIF_EINVAL;
    borrowed b;
    stored st;
    uint8_t ext[NAT_EXT_BUILD_MAX], id[MAIF_ID_BYTES];
    w->pre = e;
    int rc = prepare(w, spec, b.hdr, ext, &b.ext_size, &b.meta_size, id, &st, NULL);
    w->pre = NULL;
    if (rc) return rc;
    memcpy(b.hdr + NR_CONTENT_HASH, e->content_hash, 32);
    if ((rc = drain(w))) return rc; /* the chain runs in append order */
    uint64_t off = w->pos;
    rc = maif_buf_append(&w->pend, &off, sizeof off);
    if (rc) return nat_writer_fail(w, rc, "out of memory");
    rc = put_record(w, b.hdr, ext, b.ext_size, w->meta.data, b.meta_size, st.data, st.size, HASH_CHAIN);
    if (rc) {
        w->pend.len -= sizeof off;
        return rc;
    }
    if (id_out) memcpy(id_out, id, MAIF_ID_BYTES);
    return MAIF_OK;
}

/* One leaf of the index: its record offset and the first block it maps. */
typedef struct leaf_ref {
    uint64_t off, first;
} leaf_ref;
_Static_assert(sizeof(leaf_ref) == NAT_DIR_ENTRY, "a directory entry decodes in place");

static int pread_all(maif_writer *w, void *dst, size_t n, uint64_t at)
{
    int e = w->io->read(w->f, dst, n, at);
    return e ? nat_writer_io_fail(w, "read index", e) : MAIF_OK;
}

/* Appends the leaves of committed segment s (a leaf, or a directory of
 * leaves) to out. The segment's head was checked when the writer opened
 * the file or wrote it. */
static int segment_leaves(maif_writer *w, const nat_seg *s, maif_buf *out)
{
    uint8_t kind;
    int rc = pread_all(w, &kind, 1, s->off + NR_KIND);
    if (rc) return rc;
    if (kind == NAT_KIND_INDEX) {
        leaf_ref l = {s->off, s->first};
        return maif_buf_append(out, &l, sizeof l) ? nat_writer_fail(w, MAIF_ENOMEM, "out of memory") : MAIF_OK;
    }
    uint8_t head[NAT_DIR_HEAD];
    if ((rc = pread_all(w, head, sizeof head, s->off + NAT_REC_HEADER))) return rc;
    uint64_t n = rd64le(head + 16);
    if (n == 0 || n > s->count) return nat_writer_fail(w, MAIF_EFORMAT, "%s: index directory is damaged", w->path);
    size_t at = out->len;
    if (maif_buf_reserve(out, (size_t)n * sizeof(leaf_ref)))
        return nat_writer_fail(w, MAIF_ENOMEM, "out of memory reading the index");
    /* the stored entries have the layout of leaf_ref: read, then decode in place */
    uint8_t *raw = out->data + at;
    if ((rc = pread_all(w, raw, (size_t)n * NAT_DIR_ENTRY, s->off + NAT_REC_HEADER + NAT_DIR_HEAD))) return rc;
    for (uint64_t i = 0; i < n; i++) {
        leaf_ref l = {rd64le(raw + NAT_DIR_ENTRY * i), rd64le(raw + NAT_DIR_ENTRY * i + 8)};
        memcpy(raw + NAT_DIR_ENTRY * i, &l, sizeof l);
    }
    out->len = at + (size_t)n * sizeof(leaf_ref);
    return MAIF_OK;
}

/* Size class of a segment: floor(log_F(count)). */
static unsigned seg_class(uint64_t count) { return (unsigned)(63 - __builtin_clzll(count | 1)) / INDEX_FANOUT_BITS; }

/* Tiered merging: the new segment (count blocks) joins the run of trailing
 * segments of its size class; once INDEX_FANOUT of the same class stand at
 * the tail, they become one segment of a higher class, and so on. Each
 * offset is rewritten at most once per class (log_F n times), and a commit
 * lists at most F-1 segments per class. Past NAT_MAX_SEGMENTS, the newest
 * segments merge regardless. Returns the first segment to merge. */
static uint32_t merge_start(const nat_seg *segs, uint32_t nseg, uint64_t count)
{
    uint32_t keep = nseg;
    for (;;) {
        unsigned c = seg_class(count);
        uint32_t j = keep;
        while (j > 0 && seg_class(segs[j - 1].count) == c) j--;
        if (keep - j + 1 >= INDEX_FANOUT) {
            for (uint32_t i = j; i < keep; i++) count += segs[i].count;
            keep = j;
            continue;
        }
        break;
    }
    while (keep >= NAT_MAX_SEGMENTS) count += segs[--keep].count;
    return keep;
}

/* Writes the node record of the leaf that maps blocks [first, first +
 * count) of the pending batch, right after that leaf (FORMAT.md §5.13):
 * the Merkle nodes those blocks completed. Nothing when they complete none,
 * or when the nodes were not all collected. */
static int write_nodes(maif_writer *w, uint64_t first, uint64_t count, uint64_t ts)
{
    uint64_t base = nat_nodes_before(w->c_blocks), npend = w->pend.len / 8;
    if (w->nodes_lost || (w->flags & NAT_W_NO_NODES) || first < w->c_blocks || first + count > w->c_blocks + npend ||
        w->nodes.len != (nat_nodes_before(w->c_blocks + npend) - base) * 32)
        return MAIF_OK;
    uint64_t a = nat_nodes_before(first) - base, k = nat_nodes_before(first + count) - base - a;
    if (k == 0) return MAIF_OK;
    uint64_t psize = NAT_NODES_HEAD + 32 * k;
    uint8_t *payload = maif_malloc((size_t)psize);
    if (!payload) return nat_writer_fail(w, MAIF_ENOMEM, "out of memory building the Merkle node record");
    wr64le(payload, first);
    wr64le(payload + 8, count);
    memcpy(payload + NAT_NODES_HEAD, w->nodes.data + 32 * a, (size_t)(32 * k));
    uint8_t hdr[NAT_REC_HEADER];
    hdr_init(hdr, NAT_KIND_NODES, 0, psize, ts, 0, 0, NULL);
    int rc = put_record(w, hdr, NULL, 0, NULL, 0, payload, psize, HASH_BOTH);
    maif_free(payload);
    return rc;
}

/* Writes leaves mapping blocks first.. to the n offsets offs (native
 * order), one leaf per run of blocks within NAT_LEAF_SPAN of its first,
 * each followed by its node record when it maps blocks of the pending
 * batch; appends a leaf_ref for each leaf to out. */
static int write_leaves(maif_writer *w, uint64_t first, const uint64_t *offs, uint64_t n, uint64_t ts, maif_buf *out)
{
    settle(w); /* every block of the batch is in the Merkle tree, its nodes collected */
    for (uint64_t i = 0; i < n;) {
        uint64_t j = i + 1;
        while (j < n && offs[j] - offs[i] < NAT_LEAF_SPAN) j++;
        uint64_t count = j - i, psize = NAT_INDEX_HEAD + 4 * count;
        uint8_t *payload = maif_malloc((size_t)psize);
        if (!payload) return nat_writer_fail(w, MAIF_ENOMEM, "out of memory building the index");
        wr64le(payload, first + i);
        wr64le(payload + 8, count);
        wr64le(payload + 16, offs[i]);
        for (uint64_t k = 0; k < count; k++) wr32le(payload + NAT_INDEX_HEAD + 4 * k, (uint32_t)(offs[i + k] - offs[i]));
        leaf_ref l = {w->pos, first + i};
        uint8_t hdr[NAT_REC_HEADER];
        hdr_init(hdr, NAT_KIND_INDEX, 0, psize, ts, 0, 0, NULL);
        int rc = maif_buf_append(out, &l, sizeof l) ? nat_writer_fail(w, MAIF_ENOMEM, "out of memory")
                                                    : put_record(w, hdr, NULL, 0, NULL, 0, payload, psize, HASH_BOTH);
        maif_free(payload);
        if (!rc) rc = write_nodes(w, first + i, count, ts);
        if (rc) return rc;
        i = j;
    }
    return MAIF_OK;
}

/* Writes the batch's index: a leaf with its block offsets (written once,
 * never rewritten), then, when the size rule asks to merge it with older
 * segments (or a rebuild or a huge batch made several leaves), one
 * directory listing the leaves of every merged segment. Updates segs/nseg
 * to the new list. */
static int write_index(maif_writer *w, nat_seg *segs, uint32_t *nseg, uint64_t ts)
{
    uint64_t npend = w->pend.len / 8;
    if (npend == 0 && !w->rebuild_index) return MAIF_OK;
    maif_buf leaves = {0}, all = {0};
    uint64_t first = w->c_blocks, count = npend;
    int rc = MAIF_OK;
    uint32_t keep;
    if (w->rebuild_index) {
        /* the stored index was damaged: map every block afresh */
        first = 0;
        count = w->c_blocks + npend;
        keep = *nseg = 0;
        rc = write_leaves(w, 0, (const uint64_t *)w->rebuild.data, w->c_blocks, ts, &leaves);
        if (!rc) rc = write_leaves(w, w->c_blocks, (const uint64_t *)w->pend.data, npend, ts, &leaves);
    } else {
        rc = write_leaves(w, first, (const uint64_t *)w->pend.data, npend, ts, &leaves);
        keep = merge_start(segs, *nseg, count);
    }
    if (rc == MAIF_OK && count == 0) {
        *nseg = 0; /* a rebuild of an empty artifact */
    } else if (rc == MAIF_OK && keep == *nseg && leaves.len == sizeof(leaf_ref)) {
        segs[keep] = (nat_seg){((leaf_ref *)leaves.data)->off, first, count};
        *nseg = keep + 1;
    } else if (rc == MAIF_OK) {
        uint64_t dfirst = keep < *nseg ? segs[keep].first : first, dcount = count;
        for (uint32_t i = keep; i < *nseg && rc == MAIF_OK; i++) {
            rc = segment_leaves(w, &segs[i], &all);
            dcount += segs[i].count;
        }
        if (rc == MAIF_OK && maif_buf_append(&all, leaves.data, leaves.len))
            rc = nat_writer_fail(w, MAIF_ENOMEM, "out of memory building the index");
        uint64_t n = all.len / sizeof(leaf_ref), psize = NAT_DIR_HEAD + NAT_DIR_ENTRY * n;
        uint8_t *payload = rc == MAIF_OK ? maif_malloc((size_t)psize) : NULL;
        if (rc == MAIF_OK && !payload) rc = nat_writer_fail(w, MAIF_ENOMEM, "out of memory building the index");
        if (rc == MAIF_OK) {
            wr64le(payload, dfirst);
            wr64le(payload + 8, dcount);
            wr64le(payload + 16, n);
            const leaf_ref *l = (const leaf_ref *)all.data;
            for (uint64_t i = 0; i < n; i++) {
                wr64le(payload + NAT_DIR_HEAD + NAT_DIR_ENTRY * i, l[i].off);
                wr64le(payload + NAT_DIR_HEAD + NAT_DIR_ENTRY * i + 8, l[i].first);
            }
            uint8_t hdr[NAT_REC_HEADER];
            hdr_init(hdr, NAT_KIND_DIR, 0, psize, ts, 0, 0, NULL);
            segs[keep] = (nat_seg){w->pos, dfirst, dcount};
            rc = put_record(w, hdr, NULL, 0, NULL, 0, payload, psize, HASH_BOTH);
            *nseg = keep + 1;
        }
        maif_free(payload);
    }
    maif_buf_free(&leaves);
    maif_buf_free(&all);
    return rc;
}

typedef struct sign_job {
    const maif_key *key;
    uint8_t msg[16 + 32];
    uint8_t *sig;
    size_t cap, len;
    int rc;
    char why[256]; /* the message of a failure (the helper thread's error channel is its own) */
} sign_job;

static void sign_run(void *arg)
{
    sign_job *j = arg;
    j->rc = maif_key_sign_any(j->key, j->msg, sizeof j->msg, j->sig, j->cap, &j->len);
    if (j->rc) snprintf(j->why, sizeof j->why, "%s", maif_last_errmsg());
}

static int write_commit(maif_writer *w, const nat_seg *segs, uint32_t nseg, uint64_t ts)
{
    settle(w); /* the commit seals the chain and the Merkle root */
    uint32_t nfront = w->merkle.depth;
    /* Ed25519 commits keep the version 1 layout (a 64-byte signature);
     * other algorithms write a version 2 signature area (FORMAT.md §5.5.1) */
    size_t pk_len = 0, sig_len = maif_key_sig_len(w->key);
    const uint8_t *pk = maif_key_spki(w->key, &pk_len);
    int v2 = maif_key_alg(w->key) != MAIF_SIG_ED25519;
    uint64_t sigarea = v2 ? NC_SIGAREA_SIZE(pk_len, sig_len) : MAIF_SIGNATURE_BYTES;
    uint64_t size = NC_FIXED + (uint64_t)nseg * NC_SEG_SIZE + (uint64_t)nfront * 32 + sigarea + NAT_TAIL_SIZE;
    uint8_t body[NC_FIXED + NAT_MAX_SEGMENTS * NC_SEG_SIZE + NAT_MAX_FRONTIER * 32 + NC_SIGAREA_MAX + NAT_TAIL_SIZE];
    memset(body, 0, (size_t)size);
    uint64_t blocks = w->c_blocks + w->pend.len / 8;
    wr64le(body + NC_SEQ, w->c_seq_next);
    wr64le(body + NC_BLOCKS, blocks);
    wr64le(body + NC_PREV, w->c_last_off);
    nat_merkle_root(&w->merkle, body + NC_MERKLE);
    memcpy(body + NC_SIGNER, w->pk, 32);
    wr32le(body + NC_NSEG, nseg);
    wr32le(body + NC_NFRONTIER, nfront);
    uint8_t *p = body + NC_FIXED;
    for (uint32_t i = 0; i < nseg; i++, p += NC_SEG_SIZE) {
        wr64le(p, segs[i].off);
        wr64le(p + 8, segs[i].first);
        wr64le(p + 16, segs[i].count);
    }
    for (uint32_t i = 0; i < nfront; i++, p += 32) memcpy(p, w->merkle.h[i], 32);
    uint8_t *sig = p;
    if (v2) {
        p[0] = (uint8_t)maif_key_alg(w->key);
        wr16le(p + 2, (uint16_t)pk_len);
        wr16le(p + 4, (uint16_t)sig_len);
        memcpy(p + NC_SIGAREA_HEAD, pk, pk_len);
        sig = p + NC_SIGAREA_HEAD + pk_len;
    }
    uint64_t off = w->pos;
    wr64le(p + sigarea, off);
    memcpy(p + sigarea + 8, NAT_TAIL_MAGIC, 8);

    uint8_t hdr[NAT_REC_HEADER];
    hdr_init(hdr, NAT_KIND_COMMIT, 0, size, ts, 0, 0, NULL);
    if (v2) hdr[NR_VERSION] = NAT_REC_VERSION_SIGALG;
    nat_commit_content_hash_at(body, size, (uint64_t)(sig - body), sig_len, hdr + NR_CONTENT_HASH);
    /* the signature signs the record hash, so both hashes come first */
    maif_sha256_parts(hdr + NR_RECORD_HASH, w->chain, 32, hdr, NAT_REC_HASHED, NULL, 0, NULL, 0);
    sign_job sj = {w->key, {0}, sig, sig_len, 0, MAIF_OK, ""};
    memcpy(sj.msg, NAT_SIG_DOMAIN, 16);
    memcpy(sj.msg + 16, hdr + NR_RECORD_HASH, 32);
    if (w->hasher && maif_hasher_push_call(w->hasher, sign_run, &sj) == 0) {
        /* the helper signs (~20 us) while the batch goes to the file; the
         * commit record follows it, so it can never precede its blocks */
        int rc = flush(w);
        maif_hasher_wait(w->hasher);
        if (rc) return rc;
    } else {
        sign_run(&sj);
    }
    if (sj.rc != MAIF_OK || sj.len != sig_len)
        return nat_writer_fail(w, sj.rc ? sj.rc : MAIF_EKEY, "%s: signing the commit failed: %s", w->path,
                               sj.rc ? sj.why : "signature of an unexpected length");
    return put_record(w, hdr, NULL, 0, NULL, 0, body, size, HASH_NONE);
}

static int commit(maif_writer *w, int final_sync);

int maif_writer_commit(maif_writer *w) { return commit(w, 1); }

int nat_writer_commit_nosync(maif_writer *w) { return commit(w, 0); }

/* Seals the batch; final_sync 0 leaves the durable writer's last fsync
 * (the one after the commit record) to the caller. */
static int commit(maif_writer *w, int final_sync)
{
    if (!w) return maif_set_last_err(MAIF_EINVAL, "writer is NULL");
    if (w->dead) return nat_writer_fail(w, MAIF_ESTATE, "%s: writer failed earlier; reopen the artifact", w->path);
    if (!w->key) return nat_writer_fail(w, MAIF_ESTATE, "%s: opened without a key; cannot commit", w->path);
    int rc = drain(w);
    if (rc) return rc;
    uint64_t ts = maif_now_us();
    nat_seg segs[NAT_MAX_SEGMENTS];
    uint32_t nseg = w->nseg;
    memcpy(segs, w->seg, sizeof segs);
    if ((rc = write_index(w, segs, &nseg, ts))) return rc;
    if (w->flags & MAIF_W_DURABLE) {
        if ((rc = flush(w)) || (rc = sync_file(w))) return rc;
    }
    uint64_t commit_off = w->pos;
    if ((rc = write_commit(w, segs, nseg, ts))) return rc;
    if ((rc = flush(w))) return rc;
    if ((w->flags & MAIF_W_DURABLE) && final_sync && (rc = sync_file(w))) return rc;

    w->c_blocks += w->pend.len / 8;
    w->pend.len = 0;
    w->nodes.len = 0;
    w->nodes_lost = 0;
    w->c_end = w->pos;
    w->c_seq_next++;
    w->c_last_off = commit_off;
    memcpy(w->c_chain, w->chain, 32);
    w->c_merkle = w->merkle;
    memcpy(w->seg, segs, sizeof segs);
    w->nseg = nseg;
    if (w->gate_polyblock) { /* a new policy is in force from this commit on */
        w->gate_polyblock = 0;
        nat_writer_gate_reset(w);
    }
    if (w->rebuild_index) {
        w->rebuild_index = 0;
        maif_buf_free(&w->rebuild);
    }
    return MAIF_OK;
}

int maif_writer_rollback(maif_writer *w)
{
    if (!w) return maif_set_last_err(MAIF_EINVAL, "writer is NULL");
    if (w->dead) {
        nat_writer_cut_uncommitted(w); /* give the space of the failed batch back */
        return nat_writer_fail(w, MAIF_ESTATE, "%s: writer failed earlier; reopen the artifact", w->path);
    }
    if (w->hpend.len || w->arena_hashing) maif_hasher_wait(w->hasher); /* its jobs read wbuf, write the file */
    w->hpend.len = 0;
    w->wbuf.len = 0;
    int e = w->wbuf_off > w->c_end ? w->io->truncate(w->f, w->c_end) : 0;
    if (e) return nat_writer_io_fail(w, "truncate", e);
    w->wbuf_off = w->pos = w->c_end;
    w->pend.len = 0;
    w->nodes.len = 0;
    w->nodes_lost = 0;
    nat_writer_bor_release(w);
    memcpy(w->chain, w->c_chain, 32);
    w->merkle = w->c_merkle;
    nat_writer_dict_rollback(w);
    return MAIF_OK;
}

uint64_t maif_writer_count(const maif_writer *w) { return w ? w->c_blocks + w->pend.len / 8 : 0; }

const char *maif_writer_errmsg(const maif_writer *w) { return w ? w->err : ""; }

/* ---- hooks for native_stream.c (declared in native_writer.h) */

int nat_writer_prepare(maif_writer *w, const maif_block_spec *spec, uint8_t hdr[NAT_REC_HEADER],
                       uint8_t ext[NAT_EXT_BUILD_MAX], uint16_t *ext_size, uint32_t *meta_size,
                       uint8_t id[MAIF_ID_BYTES], maif_stage_seal *plan)
{
    /* a codec needs the whole payload; a cipher only its size, planned */
    int coded = plan && plan->coded;
    if (w && !coded && (w->stages.codec || (w->stages.cipher && !plan)))
        return nat_writer_fail(w, MAIF_EUNSUPPORTED, "a streamed payload cannot pass through a codec");
    stored st;
    maif_block_spec sp = *spec;
    sp.payload = NULL;
    sp.payload_size = 0;
    return prepare(w, &sp, hdr, ext, ext_size, meta_size, id, &st, w && (w->stages.cipher || coded) ? plan : NULL);
}

int nat_writer_settle_all(maif_writer *w)
{
    int rc = drain(w);
    return rc ? rc : flush(w);
}

void nat_writer_chain(maif_writer *w, uint8_t *hdr, const uint8_t *ext, uint16_t ext_size, const uint8_t *meta,
                      uint32_t meta_size)
{
    chain_record(w, hdr, ext, ext_size, meta, meta_size);
}

int nat_writer_pwrite(maif_writer *w, const void *p, size_t n, uint64_t off)
{
    int e = write_at(w, p, n, off);
    return e ? nat_writer_io_fail(w, "write", e) : MAIF_OK;
}

int nat_writer_cut(maif_writer *w, uint64_t off)
{
    int e = w->io->truncate(w->f, off);
    return e ? nat_writer_io_fail(w, "truncate", e) : MAIF_OK;
}
