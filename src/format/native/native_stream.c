/*
 * native_stream.c — appending a block whose payload arrives from a source
 * (a file descriptor, a pipe, a callback) of unknown size.
 *
 * The record's payload offset depends only on its header, extensions and
 * metadata, all known before the first byte arrives, so the payload is
 * written straight into place chunk by chunk while it is hashed; the header
 * (which holds the size and the content hash) follows at the end, exactly
 * as maif_writer_add lays the same bytes out. Memory stays bounded
 * whatever the payload's size: one chunk, or PIPE_BUFS chunks when the
 * reading, hashing and writing run on three threads at once (below).
 * An encrypted payload of known size (a STREAM cipher, 4 to 6) goes through
 * the same pipeline as stored bytes: a sealing reader (seal_src) in front of
 * the source hands out head ‖ sealed chunks, one 64 KiB chunk at a time.
 * A payload to encrypt whose size is not known (a pipe), or one to
 * compress with zstd (codec 1, or 3 with the writer's dictionary), is
 * first parked in sealed temporary files (native_spool.c) until its sizes are known, then sealed from there: the
 * memory stays bounded either way (FORMAT.md §5.7, "Spooling").
 * Until the header is written the record is a zero-filled hole, which recovery treats as a torn write (FORMAT.md §9);
 * an abandoned block (source failed or over its limit) is cut off the file
 * at once, leaving the batch's earlier blocks pending.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "codec/codec.h"
#include "crypto/aead.h"
#include "crypto/crypto.h"
#include "codec/codecs.h"
#include "format/native/native.h"
#include "format/native/native_spool.h"
#include "format/native/native_writer.h"
#include "util/alloc.h"
#include "util/common.h"
#include "util/pool.h"

static const uint8_t zero_pad[8];

/* Reads the next chunk of the payload into buf (up to MAIF_STREAM_CHUNK
 * bytes, fewer only at the end), enforcing limit as the bytes arrive.
 * *total counts the payload so far. Returns MAIF_OK with *fill (0 at the
 * end), or an error recorded on w. */
static int fill_chunk(maif_writer *w, maif_read_fn read, void *ctx, uint64_t limit, uint8_t *buf, size_t *fill,
                      uint64_t *total)
{
    *fill = 0;
    while (*fill < MAIF_STREAM_CHUNK) {
        uint64_t room = MAIF_STREAM_CHUNK - *fill;
        if (room > limit - *total + 1) room = limit - *total + 1; /* one byte over the limit tells */
        int64_t k = read(ctx, buf + *fill, (size_t)room);
        if (k < 0)
            return nat_writer_fail(w, k >= -1000 ? (int)k : MAIF_EIO, "%s: payload source failed: %s", w->path,
                                   maif_strerror((int)k));
        if (k == 0) return MAIF_OK;
        if ((uint64_t)k > room) return nat_writer_fail(w, MAIF_EINVAL, "payload source returned more than asked for");
        *fill += (size_t)k;
        *total += (uint64_t)k;
        if (*total > limit)
            return nat_writer_fail(w, MAIF_ELIMIT, "payload larger than the limit of %llu bytes",
                                   (unsigned long long)limit);
    }
    return MAIF_OK;
}

/* With payload stages the whole payload is needed at once (one zstd
 * frame, one AEAD seal per block): it is read into memory, bounded by
 * limit, and added as usual. */
static int add_buffered(maif_writer *w, const maif_block_spec *spec, maif_read_fn read, void *ctx, uint64_t limit,
                        uint64_t announced, uint8_t id_out[MAIF_ID_BYTES])
{
    maif_buf b = {0};
    uint64_t total = 0;
    int rc = MAIF_OK;
    for (;;) {
        size_t fill = 0;
        if ((rc = maif_buf_reserve(&b, MAIF_STREAM_CHUNK))) {
            rc = nat_writer_fail(w, rc, "out of memory buffering the payload");
            break;
        }
        if ((rc = fill_chunk(w, read, ctx, limit, b.data + b.len, &fill, &total)) || fill == 0) break;
        b.len += fill;
    }
    if (rc == MAIF_OK && announced != UINT64_MAX && b.len != announced)
        rc = nat_writer_fail(w, MAIF_EINVAL, "%s: the source delivered %zu bytes, not the %llu it announced", w->path,
                             b.len, (unsigned long long)announced);
    if (rc == MAIF_OK) {
        maif_block_spec sp = *spec;
        sp.payload = b.data;
        sp.payload_size = b.len;
        rc = maif_writer_add(w, &sp, id_out);
    }
    if (w->stages.cipher && b.data) maif_wipe(b.data, b.len); /* a staging copy of plaintext */
    maif_buf_free(&b);
    return rc;
}

/* With two or more CPUs the payload streams through three stages at once:
 * this thread reads chunk s+2 while a helper hashes chunk s+1 and another
 * writes chunk s into place, over a ring of PIPE_BUFS chunks. A chunk's
 * slot is reused once it has been both hashed and written. The hash runs
 * in payload order on one thread, so the content hash is the same as the
 * sequential loop's. Memory: PIPE_BUFS chunks. */
#define PIPE_BUFS 4

typedef struct stream_pipe {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint8_t *buf[PIPE_BUFS];
    size_t len[PIPE_BUFS];
    uint64_t off[PIPE_BUFS];  /* file offset of the chunk in each slot */
    uint64_t filled;          /* chunks handed over by the reader */
    uint64_t hashed, written; /* chunks each helper has finished */
    int closing;              /* the reader hands over no more chunks */
    int werr;                 /* errno of the first failed write, or 0 */
    maif_chash_ctx *hc;       /* the content hash of what streams through */
    maif_writer *w;
    int writeback;            /* durable commits: start each chunk's writeback at once */
} stream_pipe;

/* Waits for chunk s to be handed over; 0 when the reader closed first. */
static int pipe_take(stream_pipe *p, uint64_t s)
{
    pthread_mutex_lock(&p->mu);
    while (p->filled <= s && !p->closing) pthread_cond_wait(&p->cv, &p->mu);
    int have = p->filled > s;
    pthread_mutex_unlock(&p->mu);
    return have;
}

static void pipe_done(stream_pipe *p, uint64_t *counter)
{
    pthread_mutex_lock(&p->mu);
    (*counter)++;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

static void *pipe_hash(void *arg)
{
    stream_pipe *p = arg;
    for (uint64_t s = 0; pipe_take(p, s); s++) {
        maif_chash_update(p->hc, p->buf[s % PIPE_BUFS], p->len[s % PIPE_BUFS]);
        pipe_done(p, &p->hashed);
    }
    return NULL;
}

static void *pipe_write(void *arg)
{
    stream_pipe *p = arg;
    for (uint64_t s = 0; pipe_take(p, s); s++) {
        size_t k = s % PIPE_BUFS;
        /* after a failure the chunks are only counted: the reader stops */
        int e = p->werr ? 0 : p->w->io->write(p->w->f, p->buf[k], p->len[k], p->off[k]);
        if (!e && p->writeback) (void)p->w->io->writeback(p->w->f, p->off[k], p->len[k]); /* a hint */
        pthread_mutex_lock(&p->mu);
        if (e && !p->werr) p->werr = e;
        p->written++;
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
    }
    return NULL;
}

#define PIPE_UNAVAILABLE 1 /* the helpers could not start: stream on this thread */

/* Streams the payload through the pipeline. Returns MAIF_OK with *total,
 * PIPE_UNAVAILABLE before anything was read, a source error (recorded on
 * w; *abandon set: cut the block), or a write error (the writer is dead). */
static int stream_piped(maif_writer *w, maif_read_fn read, void *ctx, uint64_t limit, uint64_t poff,
                        maif_chash_ctx *hc, uint64_t *total, int *abandon)
{
    stream_pipe p = {.hc = hc, .w = w, .writeback = (w->flags & MAIF_W_DURABLE) && w->io->writeback};
    int rc = MAIF_OK;
    for (int i = 0; i < PIPE_BUFS && rc == MAIF_OK; i++)
        if (!(p.buf[i] = maif_malloc(MAIF_STREAM_CHUNK))) rc = PIPE_UNAVAILABLE;
    pthread_t th, tw;
    int hash_started = 0, write_started = 0, made = 0;
    if (rc == MAIF_OK) {
        made = 1;
        pthread_mutex_init(&p.mu, NULL);
        pthread_cond_init(&p.cv, NULL);
        hash_started = pthread_create(&th, NULL, pipe_hash, &p) == 0;
        write_started = hash_started && pthread_create(&tw, NULL, pipe_write, &p) == 0;
        if (!write_started) rc = PIPE_UNAVAILABLE;
    }
    for (uint64_t s = 0; rc == MAIF_OK; s++) {
        size_t k = s % PIPE_BUFS;
        pthread_mutex_lock(&p.mu);
        while (s >= PIPE_BUFS && (p.hashed + PIPE_BUFS <= s || p.written + PIPE_BUFS <= s))
            pthread_cond_wait(&p.cv, &p.mu);
        int werr = p.werr;
        pthread_mutex_unlock(&p.mu);
        if (werr) break;
        size_t fill = 0;
        if ((rc = fill_chunk(w, read, ctx, limit, p.buf[k], &fill, total))) {
            *abandon = 1;
            break;
        }
        if (fill == 0) break;
        p.len[k] = fill;
        p.off[k] = poff + *total - fill;
        pthread_mutex_lock(&p.mu);
        p.filled = s + 1;
        pthread_cond_broadcast(&p.cv);
        pthread_mutex_unlock(&p.mu);
    }
    if (hash_started) {
        pthread_mutex_lock(&p.mu);
        p.closing = 1;
        pthread_cond_broadcast(&p.cv);
        pthread_mutex_unlock(&p.mu);
        pthread_join(th, NULL);
        if (write_started) pthread_join(tw, NULL);
    }
    if (made) {
        pthread_mutex_destroy(&p.mu);
        pthread_cond_destroy(&p.cv);
    }
    if (rc == MAIF_OK && p.werr) rc = nat_writer_io_fail(w, "write", p.werr);
    for (int i = 0; i < PIPE_BUFS; i++) maif_free(p.buf[i]);
    return rc;
}

/* ---- sealing as the payload streams in (cipher 4 and other chunked
 * ciphers): the source is wrapped in a reader that hands out stored bytes,
 * head ‖ sealed chunk 0 ‖ sealed chunk 1 ‖ …, so the pipeline above hashes
 * and writes ciphertext exactly as it would a plain payload. The size must
 * be known before the first chunk (the associated data binds it); memory
 * is one plaintext chunk and one sealed chunk beside the pipeline's. */
typedef struct seal_src {
    maif_read_fn read;      /* the caller's source of plaintext */
    void *ctx;
    const maif_stage_seal *plan;
    maif_cipher_params p;
    uint64_t taken;         /* plaintext bytes read from the source */
    uint64_t next;          /* the next chunk to seal; chunks in all: nchunks */
    uint64_t nchunks;
    int head_done;
    uint8_t *plain;         /* one chunk of plaintext (wiped after each seal) */
    uint8_t *sealed;        /* head or one sealed chunk, handed out from at */
    size_t have, at;
    int rc;                 /* MAIF_OK, or what went wrong (why says it) */
    char why[160];
} seal_src;

static int64_t seal_fail(seal_src *s, int rc, const char *why)
{
    s->rc = rc;
    snprintf(s->why, sizeof s->why, "%s", why);
    return rc;
}

/* Reads exactly n plaintext bytes (n may be 0) and, after the last chunk,
 * checks that the source is at its end. */
static int seal_take(seal_src *s, size_t n, int last)
{
    size_t got = 0;
    while (got < n) {
        int64_t k = s->read(s->ctx, s->plain + got, n - got);
        if (k < 0) return (int)seal_fail(s, k >= -1000 ? (int)k : MAIF_EIO, "payload source failed");
        if (k == 0) return (int)seal_fail(s, MAIF_EINVAL, "the source ended before the size it announced");
        if ((uint64_t)k > n - got) return (int)seal_fail(s, MAIF_EINVAL, "payload source returned more than asked for");
        got += (size_t)k;
    }
    s->taken += n;
    if (last) {
        uint8_t probe;
        int64_t k = s->read(s->ctx, &probe, 1);
        if (k < 0) return (int)seal_fail(s, k >= -1000 ? (int)k : MAIF_EIO, "payload source failed");
        if (k > 0) return (int)seal_fail(s, MAIF_EINVAL, "the source holds more than the size it announced");
    }
    return MAIF_OK;
}

static int64_t seal_read(void *ctx, void *buf, size_t cap)
{
    seal_src *s = ctx;
    const maif_cipher *k = s->plan->k;
    if (s->at == s->have) {
        if (!s->head_done) {
            int rc = k->head(k, &s->p, s->sealed, 0);
            if (rc) return seal_fail(s, rc, "sealing failed");
            s->head_done = 1;
            s->have = k->head_size;
        } else if (s->next < s->nchunks && !k->chunk) {
            /* a cipher that seals whole: a payload of one chunk at most */
            size_t n = (size_t)s->plan->in_size, wr = 0;
            int rc = seal_take(s, n, 1);
            if (rc) return rc;
            rc = k->seal(k, &s->p, s->sealed, (size_t)s->plan->stored_size, s->plain, n, &wr);
            maif_wipe(s->plain, n);
            if (rc == MAIF_OK && wr != s->plan->stored_size) rc = MAIF_EFORMAT;
            if (rc) return seal_fail(s, rc, "sealing failed");
            s->next++;
            s->have = wr;
        } else if (s->next < s->nchunks) {
            int last = s->next + 1 == s->nchunks;
            size_t n = last ? (size_t)(s->plan->in_size - s->taken) : k->chunk;
            int rc = seal_take(s, n, last);
            if (rc) return rc;
            rc = k->piece(k, &s->p, s->next, last, 0, s->sealed, s->plain, n);
            maif_wipe(s->plain, n);
            if (rc) return seal_fail(s, rc, "sealing failed");
            s->next++;
            s->have = n + k->tag_size;
        } else {
            return 0;
        }
        s->at = 0;
    }
    size_t n = s->have - s->at < cap ? s->have - s->at : cap;
    memcpy(buf, s->sealed + s->at, n);
    s->at += n;
    return (int64_t)n;
}

static int add_streamed(maif_writer *w, const maif_block_spec *spec, maif_read_fn read, void *ctx, uint64_t limit,
                        uint64_t size, int announced, uint8_t id_out[MAIF_ID_BYTES]);
static int add_planned(maif_writer *w, const maif_block_spec *spec, maif_read_fn read, void *ctx, uint64_t limit,
                       uint64_t size, int announced, const maif_stage_seal *coded, uint8_t id_out[MAIF_ID_BYTES]);

/* Payloads up to this size are read into memory when they cannot stream
 * (no size announced, or a codec first); larger ones spool. */
static uint64_t g_spool_min = 1u << 20;
void nat_stream_set_spool_min(uint64_t n) { g_spool_min = n; }

static int spool_fail(maif_writer *w, nat_spool *s, int rc, const char *what)
{
    if (rc == MAIF_EIO && s && nat_spool_errno(s))
        return nat_writer_fail(w, rc, "%s: the temporary spool: %s", w->path, strerror(nat_spool_errno(s)));
    return nat_writer_fail(w, rc, "%s: %s: %s", w->path, what, maif_strerror(rc));
}

/* A payload that cannot be sealed as it arrives (its size unknown, or a
 * zstd codec first): the first g_spool_min bytes are read into memory,
 * and a payload that ends there is added whole; a larger one is copied
 * into a sealed spool, compressed from it into a second one (zstd), and
 * then sealed chunk by chunk from the last spool, its sizes known. */
static int add_spooled(maif_writer *w, const maif_block_spec *spec, maif_read_fn read, void *ctx, uint64_t limit,
                       uint64_t size, int announced, uint8_t id_out[MAIF_ID_BYTES])
{
    if (limit == 0 || limit > NAT_PAYLOAD_MAX) limit = NAT_PAYLOAD_MAX;
    maif_buf b = {0};
    uint64_t total = 0;
    int rc = MAIF_OK, ended = 0;
    while (rc == MAIF_OK && g_spool_min && b.len <= g_spool_min) { /* 0: spool from the first byte (tests) */
        size_t fill = 0;
        if ((rc = maif_buf_reserve(&b, MAIF_STREAM_CHUNK))) {
            rc = nat_writer_fail(w, rc, "out of memory buffering the payload");
            break;
        }
        if ((rc = fill_chunk(w, read, ctx, limit, b.data + b.len, &fill, &total))) break;
        if (fill == 0) ended = 1;
        b.len += fill;
        if (ended) break;
    }
    if (rc == MAIF_OK && ended) { /* small: added whole, as add_buffered */
        if (announced && b.len != size)
            rc = nat_writer_fail(w, MAIF_EINVAL, "%s: the source delivered %zu bytes, not the %llu it announced",
                                 w->path, b.len, (unsigned long long)size);
        if (rc == MAIF_OK) {
            maif_block_spec sp = *spec;
            sp.payload = b.data;
            sp.payload_size = b.len;
            rc = maif_writer_add(w, &sp, id_out);
        }
    }
    nat_spool *raw = NULL, *zst = NULL;
    uint8_t *buf = NULL;
    char err[200];
    if (rc == MAIF_OK && !ended) {
        if ((rc = nat_spool_open(&raw, w->path, err, sizeof err))) rc = nat_writer_fail(w, rc, "%s: %s", w->path, err);
        else if ((rc = nat_spool_write(raw, b.data, b.len))) rc = spool_fail(w, raw, rc, "spooling the payload");
    }
    if (b.data) maif_wipe(b.data, b.len);
    maif_buf_free(&b);
    if (rc == MAIF_OK && !ended && !(buf = maif_secret_alloc(MAIF_STREAM_CHUNK)))
        rc = nat_writer_fail(w, MAIF_ENOMEM, "out of memory");
    while (rc == MAIF_OK && !ended) {
        size_t fill = 0;
        if ((rc = fill_chunk(w, read, ctx, limit, buf, &fill, &total))) break;
        if (fill == 0) break;
        rc = nat_spool_write(raw, buf, fill);
        maif_wipe(buf, fill);
        if (rc) rc = spool_fail(w, raw, rc, "spooling the payload");
    }
    maif_secret_free(buf);
    if (rc == MAIF_OK && !ended && announced && total != size)
        rc = nat_writer_fail(w, MAIF_EINVAL, "%s: the source delivered %llu bytes, not the %llu it announced", w->path,
                             (unsigned long long)total, (unsigned long long)size);
    if (rc == MAIF_OK && !ended) {
        maif_stage_seal coded = {.coded = 1, .decoded_size = total, .in_size = total};
        nat_spool *from = raw;
        if (w->stages.codec) {
            if ((rc = nat_spool_open(&zst, w->path, err, sizeof err)))
                rc = nat_writer_fail(w, rc, "%s: %s", w->path, err);
            else if ((rc = nat_spool_zstd(raw, zst, w->stages.level,
                                          w->stages.codec == MAIF_CODEC_ZSTD_DICT ? w->stages.dict : NULL, err,
                                          sizeof err)))
                rc = nat_writer_fail(w, rc, "%s: %s", w->path, nat_spool_errno(zst) || nat_spool_errno(raw)
                                                                   ? strerror(nat_spool_errno(zst) ? nat_spool_errno(zst)
                                                                                                   : nat_spool_errno(raw))
                                                                   : err);
            if (rc == MAIF_OK && MAIF_CODEC_PAYS(total, nat_spool_size(zst))) {
                coded.codec = w->stages.codec;
                coded.in_size = nat_spool_size(zst);
                from = zst;
            }
        }
        if (rc == MAIF_OK && (rc = nat_spool_rewind(from))) rc = spool_fail(w, from, rc, "the spool");
        if (rc == MAIF_OK) {
            if (from == zst) { /* the uncompressed spool is no longer needed: its disk space goes back */
                nat_spool_close(raw);
                raw = NULL;
            }
            rc = add_planned(w, spec, nat_spool_read, from, 0, coded.in_size, 1, &coded, id_out);
        }
    }
    nat_spool_close(raw);
    nat_spool_close(zst);
    return rc;
}

int maif_writer_add_stream(maif_writer *w, const maif_block_spec *spec, maif_read_fn read, void *ctx,
                           uint64_t limit, uint8_t id_out[MAIF_ID_BYTES])
{
    if (!w || !spec || !read || spec->payload) return MAIF_EINVAL;
    /* payload_size with no payload announces the size (0: not known) */
    return add_streamed(w, spec, read, ctx, limit, spec->payload_size ? (uint64_t)spec->payload_size : UINT64_MAX,
                        spec->payload_size != 0, id_out);
}

static int whole_fail(maif_writer *w, const maif_codec *c)
{
    return nat_writer_fail(w, MAIF_ELIMIT, "codec %s takes payloads of at most %llu bytes (64 MiB; FORMAT.md §8): use zstd",
                           c->name, (unsigned long long)MAIF_WHOLE_CODEC_MAX);
}

/* size: the payload's size when known, else UINT64_MAX; announced: the
 * caller said so (checked for plain payloads too; a file's size is not,
 * the file may grow while it is read). */
static int add_streamed(maif_writer *w, const maif_block_spec *spec, maif_read_fn read, void *ctx, uint64_t limit,
                        uint64_t size, int announced, uint8_t id_out[MAIF_ID_BYTES])
{
    if (limit == 0 || limit > NAT_PAYLOAD_MAX) limit = NAT_PAYLOAD_MAX;
    if (size != UINT64_MAX && size > limit)
        return nat_writer_fail(w, MAIF_ELIMIT, "payload of %llu bytes is over the limit of %llu bytes",
                               (unsigned long long)size, (unsigned long long)limit);
    /* Sealed chunk by chunk: a cipher with a chunked form (ciphers 1-3
     * past one chunk are 4-6) and a known size. A zstd codec (with or
     * without a dictionary) or an unknown size spool first (add_spooled);
     * other codecs, and a cipher without a
     * chunked form, read the payload into memory first. */
    const maif_cipher *k = w->stages.cipher && !w->stages.codec ? maif_cipher_find(w->stages.cipher) : NULL;
    if (size != UINT64_MAX) k = maif_cipher_for(k, size);
    int chunked = k && k->chunk && k->head && k->piece && size != UINT64_MAX;
    if (w->stages.codec || (w->stages.cipher && !chunked)) {
        const maif_cipher *kf = w->stages.cipher ? maif_cipher_find(w->stages.cipher) : NULL;
        if (kf) kf = maif_cipher_for(kf, UINT64_MAX);
        const maif_codec *c = w->stages.codec ? maif_codec_find(w->stages.codec) : NULL;
        int spools = (!w->stages.cipher || (kf && kf->chunk && kf->head && kf->piece)) &&
                     (!w->stages.codec || c == &maif_codec_zstd || (c == &maif_codec_zstd_dict && w->stages.dict));
        if (spools) return add_spooled(w, spec, read, ctx, limit, size, announced, id_out);
        /* lz4 and shuffle-zstd encode (and decode) whole: at most
         * MAIF_WHOLE_CODEC_MAX bytes, refused before memory grows past it */
        int capped = c && MAIF_CODEC_WHOLE(c->id) && limit > MAIF_WHOLE_CODEC_MAX;
        if (capped && size != UINT64_MAX && size > MAIF_WHOLE_CODEC_MAX) return whole_fail(w, c);
        int rc = add_buffered(w, spec, read, ctx, capped ? MAIF_WHOLE_CODEC_MAX : limit,
                              announced ? size : UINT64_MAX, id_out);
        return rc == MAIF_ELIMIT && capped ? whole_fail(w, c) : rc;
    }
    return add_planned(w, spec, read, ctx, limit, size, announced, NULL, id_out);
}

/* Streams a payload of known size into place, sealed on the way when the
 * writer has a cipher. coded: a payload compressed already (spooled), with
 * its sizes and codec (maif_stage_plan_coded); NULL: the payload as is. */
static int add_planned(maif_writer *w, const maif_block_spec *spec, maif_read_fn read, void *ctx, uint64_t limit,
                       uint64_t size, int announced, const maif_stage_seal *coded, uint8_t id_out[MAIF_ID_BYTES])
{
    if (limit == 0 || limit > NAT_PAYLOAD_MAX) limit = NAT_PAYLOAD_MAX;
    uint8_t hdr[NAT_REC_HEADER], ext[NAT_EXT_BUILD_MAX], id[MAIF_ID_BYTES];
    uint16_t ext_size;
    uint32_t meta_size;
    maif_stage_seal plan;
    memset(&plan, 0, sizeof plan);
    plan.in_size = size;
    if (coded) plan = *coded;
    int rc = nat_writer_prepare(w, spec, hdr, ext, &ext_size, &meta_size, id, &plan);
    if (rc) return rc;
    if (coded) limit = plan.stored_size; /* a codec alone: the spool holds the stored bytes */
    seal_src ss = {0};
    if (plan.k) {
        /* from here on the pipeline streams stored bytes, as many as planned */
        ss.read = read;
        ss.ctx = ctx;
        ss.plan = &plan;
        maif_stage_seal_params(&plan, &ss.p);
        /* a cipher that seals whole gets one chunk at most (maif_cipher_for) */
        size_t chunk = plan.k->chunk ? plan.k->chunk : MAIF_STREAM_CHUNK_PLAIN;
        if (!plan.k->chunk && plan.in_size > chunk)
            return nat_writer_fail(w, MAIF_EUNSUPPORTED, "cipher %s cannot seal a streamed payload", plan.k->name);
        ss.nchunks = plan.k->chunk && plan.in_size ? (plan.in_size + chunk - 1) / chunk : 1;
        ss.head_done = !plan.k->chunk; /* whole: the head comes with the seal */
        ss.plain = maif_malloc(chunk);
        ss.sealed = maif_malloc(chunk + plan.k->head_size + plan.k->tag_size + 64);
        if (!ss.plain || !ss.sealed) {
            maif_free(ss.plain);
            maif_free(ss.sealed);
            return nat_writer_fail(w, MAIF_ENOMEM, "out of memory");
        }
        read = seal_read;
        ctx = &ss;
        limit = plan.stored_size;
    }
    if ((rc = nat_writer_settle_all(w))) {
        maif_free(ss.plain); /* nothing of the payload was read yet */
        maif_free(ss.sealed);
        return rc;
    }
    uint64_t off = w->pos, head = NAT_REC_HEADER + (uint64_t)ext_size + meta_size;
    uint64_t poff = off + align8(head);
    uint8_t *chunk = maif_malloc(MAIF_STREAM_CHUNK);
    maif_chash_ctx hc;
    int hrc = maif_chash_init(&hc, w->hash_alg);
    /* reserved now, so that nothing can fail once the record is whole */
    if (!chunk || hrc || maif_buf_reserve(&w->pend, sizeof off)) {
        maif_free(chunk);
        maif_chash_free(&hc);
        return nat_writer_fail(w, MAIF_ENOMEM, "out of memory");
    }
    uint64_t total = 0;
    int abandon = 0;
    rc = maif_pool_cpus() >= 2 ? stream_piped(w, read, ctx, limit, poff, &hc, &total, &abandon) : PIPE_UNAVAILABLE;
    if (rc == PIPE_UNAVAILABLE) {
        /* one CPU (or no helper threads): read, hash and write in turn */
        rc = MAIF_OK;
        total = 0;
        for (;;) {
            size_t fill = 0;
            if ((rc = fill_chunk(w, read, ctx, limit, chunk, &fill, &total))) {
                abandon = 1;
                break;
            }
            if (fill == 0) break;
            maif_chash_update(&hc, chunk, fill);
            if ((rc = nat_writer_pwrite(w, chunk, fill, poff + total - fill))) break;
            if ((w->flags & MAIF_W_DURABLE) && w->io->writeback) (void)w->io->writeback(w->f, poff + total - fill, fill);
        }
    }
    if (!rc && !abandon && !ss.plan && announced && total != size) {
        abandon = 1;
        rc = nat_writer_fail(w, MAIF_EINVAL, "%s: the source delivered %llu bytes, not the %llu it announced", w->path,
                             (unsigned long long)total, (unsigned long long)size);
    }
    if (!rc && !abandon && ss.plan && total != plan.stored_size) {
        abandon = 1; /* cannot happen: seal_read hands out exactly the planned bytes */
        rc = nat_writer_fail(w, MAIF_EINVAL, "%s: the sealed stream is not of its planned size", w->path);
    }
    if (abandon && ss.rc) /* the source, behind the sealing reader: say what it did */
        rc = nat_writer_fail(w, ss.rc, "%s: %s (%llu of %llu bytes read)", w->path, ss.why,
                             (unsigned long long)ss.taken, (unsigned long long)plan.in_size);
    if (abandon) goto abandon;
    if (rc) goto out; /* a write failed: the writer is dead */
    uint64_t pad2 = align8(total) - total;
    if (pad2 && (rc = nat_writer_pwrite(w, zero_pad, (size_t)pad2, poff + total))) goto out;
    wr64le(hdr + NR_STORED_SIZE, total);
    maif_chash_final(&hc, hdr + NR_CONTENT_HASH);
    /* The record head: header, extensions, metadata, padding; a chunk is
     * large enough to hold it (NAT_META_MAX < MAIF_STREAM_CHUNK is not
     * guaranteed, so fall back to three writes). */
    nat_writer_chain(w, hdr, ext, ext_size, w->meta.data, meta_size);
    if (align8(head) <= MAIF_STREAM_CHUNK) {
        memcpy(chunk, hdr, NAT_REC_HEADER);
        memcpy(chunk + NAT_REC_HEADER, ext, ext_size);
        if (meta_size) memcpy(chunk + NAT_REC_HEADER + ext_size, w->meta.data, meta_size);
        memset(chunk + head, 0, (size_t)(align8(head) - head));
        rc = nat_writer_pwrite(w, chunk, (size_t)align8(head), off);
    } else {
        rc = nat_writer_pwrite(w, hdr, NAT_REC_HEADER, off);
        if (!rc) rc = nat_writer_pwrite(w, ext, ext_size, off + NAT_REC_HEADER);
        if (!rc) rc = nat_writer_pwrite(w, w->meta.data, meta_size, off + NAT_REC_HEADER + ext_size);
        if (!rc && align8(head) > head)
            rc = nat_writer_pwrite(w, zero_pad, (size_t)(align8(head) - head), off + head);
    }
    if (rc) goto out; /* the writer is dead: its chain has moved past this record */
    maif_buf_append(&w->pend, &off, sizeof off); /* reserved above */
    w->pos = w->wbuf_off = poff + total + pad2;
    if (id_out) memcpy(id_out, id, MAIF_ID_BYTES);
    goto out;
abandon:
    /* Nothing of this block may stay: the file ends where it started. */
    {
        int crc = nat_writer_cut(w, off);
        if (crc) rc = crc;
    }
out:
    maif_free(chunk);
    maif_chash_free(&hc);
    if (ss.plain) maif_wipe(ss.plain, plan.k->chunk ? plan.k->chunk : MAIF_STREAM_CHUNK_PLAIN);
    maif_free(ss.plain);
    maif_free(ss.sealed);
    return rc;
}

typedef struct fd_src {
    int fd;
    int err; /* errno of a failed read */
} fd_src;

static int64_t fd_read(void *ctx, void *buf, size_t cap)
{
    fd_src *s = ctx;
    for (;;) {
        ssize_t k = read(s->fd, buf, cap);
        if (k >= 0) return k;
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) { /* a non-blocking pipe: wait for it */
            struct pollfd p = {s->fd, POLLIN, 0};
            if (poll(&p, 1, -1) >= 0 || errno == EINTR) continue;
        }
        s->err = errno;
        return MAIF_EIO;
    }
}

int maif_writer_add_fd(maif_writer *w, const maif_block_spec *spec, int fd, uint64_t limit,
                       uint8_t id_out[MAIF_ID_BYTES])
{
    if (fd < 0 || !w || !spec || spec->payload) return MAIF_EINVAL;
    fd_src s = {fd, 0};
    /* a regular file announces its size (what is left of it from the
     * current offset), so an encrypted payload is sealed as it streams */
    uint64_t size = UINT64_MAX;
    struct stat st;
    off_t at;
    if (spec->payload_size) size = spec->payload_size;
    else if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (at = lseek(fd, 0, SEEK_CUR)) >= 0 && st.st_size >= at)
        size = (uint64_t)(st.st_size - at);
    int rc = add_streamed(w, spec, fd_read, &s, limit, size, spec->payload_size != 0, id_out);
    if (rc == MAIF_EIO && s.err)
        nat_writer_fail(w, MAIF_EIO, "%s: reading the payload: %s", w->path, strerror(s.err));
    return rc;
}
