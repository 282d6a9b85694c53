/*
 * native_stream.c — appending a block whose payload arrives from a source
 * (a file descriptor, a pipe, a callback) of unknown size.
 *
 * The record's payload offset depends only on its header, extensions and
 * metadata, all known before the first byte arrives, so the payload is
 * written straight into place chunk by chunk while it is hashed; the header
 * (which holds the size and the content hash) follows at the end, exactly
 * as maif_writer_add lays the same bytes out. Memory stays at one chunk
 * whatever the payload's size. Until the header is written the record is a
 * zero-filled hole, which recovery treats as a torn write (FORMAT.md §9);
 * an abandoned block (source failed or over its limit) is cut off the file
 * at once, leaving the batch's earlier blocks pending.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "format/native/native.h"
#include "format/native/native_writer.h"
#include "util/alloc.h"
#include "util/common.h"

static const uint8_t zero_pad[8];

/* With payload stages the whole payload is needed at once (one zstd
 * frame, one AEAD seal per block): it is read into memory, bounded by
 * limit, and added as usual. */
static int add_buffered(maif_writer *w, const maif_block_spec *spec, maif_read_fn read, void *ctx, uint64_t limit,
                        uint8_t id_out[MAIF_ID_BYTES])
{
    maif_buf b = {0};
    int rc = MAIF_OK;
    for (;;) {
        if (b.len == b.cap && (rc = maif_buf_reserve(&b, b.len < MAIF_STREAM_CHUNK ? MAIF_STREAM_CHUNK : b.len))) {
            rc = nat_writer_fail(w, rc, "out of memory buffering the payload");
            break;
        }
        uint64_t room = b.cap - b.len;
        if (room > limit - b.len + 1) room = limit - b.len + 1; /* one byte over the limit tells */
        int64_t k = read(ctx, b.data + b.len, (size_t)room);
        if (k < 0) {
            rc = nat_writer_fail(w, k >= -1000 ? (int)k : MAIF_EIO, "%s: payload source failed: %s", w->path,
                                 maif_strerror((int)k));
            break;
        }
        if (k == 0) break;
        if ((uint64_t)k > room) {
            rc = nat_writer_fail(w, MAIF_EINVAL, "payload source returned more than asked for");
            break;
        }
        b.len += (size_t)k;
        if (b.len > limit) {
            rc = nat_writer_fail(w, MAIF_ELIMIT, "payload larger than the limit of %llu bytes",
                                 (unsigned long long)limit);
            break;
        }
    }
    if (rc == MAIF_OK) {
        maif_block_spec sp = *spec;
        sp.payload = b.data;
        sp.payload_size = b.len;
        rc = maif_writer_add(w, &sp, id_out);
    }
    maif_buf_free(&b);
    return rc;
}

int maif_writer_add_stream(maif_writer *w, const maif_block_spec *spec, maif_read_fn read, void *ctx,
                           uint64_t limit, uint8_t id_out[MAIF_ID_BYTES])
{
    if (!w || !spec || !read || spec->payload || spec->payload_size) return MAIF_EINVAL;
    if (limit == 0 || limit > NAT_PAYLOAD_MAX) limit = NAT_PAYLOAD_MAX;
    if (w->stages.codec || w->stages.cipher) return add_buffered(w, spec, read, ctx, limit, id_out);
    uint8_t hdr[NAT_REC_HEADER], ext[NAT_EXT_BUILD_MAX], id[MAIF_ID_BYTES];
    uint16_t ext_size;
    uint32_t meta_size;
    int rc = nat_writer_prepare(w, spec, hdr, ext, &ext_size, &meta_size, id);
    if (rc) return rc;
    if ((rc = nat_writer_settle_all(w))) return rc;
    uint64_t off = w->pos, head = NAT_REC_HEADER + (uint64_t)ext_size + meta_size;
    uint64_t poff = off + align8(head);
    uint8_t *chunk = maif_malloc(MAIF_STREAM_CHUNK);
    maif_sha256_ctx *sha = maif_sha256_new();
    /* reserved now, so that nothing can fail once the record is whole */
    if (!chunk || !sha || maif_buf_reserve(&w->pend, sizeof off)) {
        maif_free(chunk);
        maif_sha256_free(sha);
        return nat_writer_fail(w, MAIF_ENOMEM, "out of memory");
    }
    maif_sha256_init(sha);
    uint64_t total = 0;
    int eof = 0;
    while (!eof) {
        size_t fill = 0;
        while (fill < MAIF_STREAM_CHUNK) {
            uint64_t room = MAIF_STREAM_CHUNK - fill;
            if (room > limit - total + 1) room = limit - total + 1; /* one byte over the limit tells */
            int64_t k = read(ctx, chunk + fill, (size_t)room);
            if (k < 0) {
                rc = nat_writer_fail(w, k >= -1000 ? (int)k : MAIF_EIO, "%s: payload source failed: %s", w->path,
                                     maif_strerror((int)k));
                goto abandon;
            }
            if (k == 0) {
                eof = 1;
                break;
            }
            if ((uint64_t)k > room) {
                rc = nat_writer_fail(w, MAIF_EINVAL, "payload source returned more than asked for");
                goto abandon;
            }
            fill += (size_t)k;
            total += (uint64_t)k;
            if (total > limit) {
                rc = nat_writer_fail(w, MAIF_ELIMIT, "payload larger than the limit of %llu bytes",
                                     (unsigned long long)limit);
                goto abandon;
            }
        }
        if (fill == 0) break;
        maif_sha256_update(sha, chunk, fill);
        if ((rc = nat_writer_pwrite(w, chunk, fill, poff + total - fill))) goto out;
    }
    uint64_t pad2 = align8(total) - total;
    if (pad2 && (rc = nat_writer_pwrite(w, zero_pad, (size_t)pad2, poff + total))) goto out;
    wr64le(hdr + NR_STORED_SIZE, total);
    maif_sha256_final(sha, hdr + NR_CONTENT_HASH);
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
    maif_sha256_free(sha);
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
    if (fd < 0) return MAIF_EINVAL;
    fd_src s = {fd, 0};
    int rc = maif_writer_add_stream(w, spec, fd_read, &s, limit, id_out);
    if (rc == MAIF_EIO && s.err)
        nat_writer_fail(w, MAIF_EIO, "%s: reading the payload: %s", w->path, strerror(s.err));
    return rc;
}
