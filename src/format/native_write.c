/*
 * native_write.c — the append-only writer.
 *
 * Blocks of a batch are serialised into a user-space buffer and written in
 * large sequential pwrite()s; payloads of 256 KiB or more go straight from
 * the caller's memory to the file. Nothing of a batch is visible until its
 * commit record (which ends with the tail that readers look for) is
 * written: a crash before that leaves a torn tail that the next open cuts
 * off; rollback truncates the file back to the last commit.
 *
 * Durable commits sync twice: once for the batch and its index, once for
 * the commit record, so a power cut can never leave a commit that points at
 * blocks that did not reach the disk.
 *
 * The index is a small log-structured tree: every commit writes one index
 * segment for its batch, merged with older segments by size class
 * (merge_start), so a commit lists few segments (at most 64) and each block
 * offset is rewritten O(log n) times over the artifact's life.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "format/native.h"
#include "util/buf.h"
#include "util/common.h"
#include "util/pyjson.h"

#define WBUF_FLUSH  (1u << 20)  /* write out the buffer past 1 MiB */
#define DIRECT_MIN  (256u << 10) /* payloads at least this large bypass the buffer */
#define PIPELINE_MIN (1u << 20)  /* payloads this large are hashed while a thread writes them */
#define INDEX_FANOUT_BITS 3      /* index segments merge in groups of 8 of one size class */
#define INDEX_FANOUT (1u << INDEX_FANOUT_BITS)
#define ID_POOL     (256u * MAIF_ID_BYTES) /* random bytes fetched at once for block ids */

struct maif_writer {
    int fd;               /* O_RDWR, flock(LOCK_EX) held */
    char *path;
    const maif_key *key;  /* borrowed */
    uint8_t pk[32];
    unsigned flags;
    int dead;             /* an I/O error left the file in an unknown state */
    char err[512];
    uint32_t header_size;

    /* committed state: what a reader opening now would see */
    uint64_t c_end;       /* end of the last commit record = start of the batch */
    uint64_t c_blocks;
    uint64_t c_seq_next;  /* sequence number of the next commit */
    uint64_t c_last_off;  /* offset of the last commit record */
    uint8_t c_chain[32];  /* record_hash of the last commit */
    nat_merkle c_merkle;
    nat_seg seg[NAT_MAX_SEGMENTS];
    uint32_t nseg;
    maif_buf rebuild;     /* when the stored index was damaged: all committed offsets; else empty */
    int rebuild_index;

    /* pending batch */
    uint64_t pos;         /* logical end of file, buffered bytes included */
    uint8_t chain[32];    /* record_hash of the last record appended */
    nat_merkle merkle;
    maif_buf pend;        /* u64 offsets of the batch's blocks */
    maif_buf wbuf;        /* bytes not yet written; wbuf[0] belongs at file offset wbuf_off */
    uint64_t wbuf_off;
    maif_buf meta;        /* scratch: canonical metadata */
    /* Block ids are random but not secret; one getrandom() per 256 ids
     * instead of one per block (the syscall cost more than hashing 1 KiB). */
    uint8_t id_pool[ID_POOL];
    uint32_t id_pool_used; /* bytes of id_pool handed out; ID_POOL: empty */
};

static const uint8_t zero_pad[8];

/* A payload written by a helper thread while the writer hashes it. */
typedef struct payload_job {
    int fd;
    const void *data;
    size_t size;
    uint64_t off;
    int err; /* errno of a failed write, or 0 */
} payload_job;

static int fail(maif_writer *w, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(maif_writer *w, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->err, sizeof w->err, fmt, ap);
    va_end(ap);
    return code;
}

static int io_fail(maif_writer *w, const char *what)
{
    w->dead = 1;
    return fail(w, MAIF_EIO, "%s: %s: %s", w->path, what, strerror(errno ? errno : EIO));
}

static int pwrite_all(int fd, const void *p, size_t n, uint64_t off)
{
    const uint8_t *b = p;
    while (n) {
        ssize_t k = pwrite(fd, b, n > (1u << 30) ? (1u << 30) : n, (off_t)off);
        if (k < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        if (k == 0) {
            errno = ENOSPC;
            return -1;
        }
        b += k;
        n -= (size_t)k;
        off += (uint64_t)k;
    }
    return 0;
}

static void *payload_write(void *arg)
{
    payload_job *j = arg;
    if (pwrite_all(j->fd, j->data, j->size, j->off) != 0) j->err = errno ? errno : EIO;
    return NULL;
}

static int flush(maif_writer *w)
{
    if (w->wbuf.len == 0) return MAIF_OK;
    if (pwrite_all(w->fd, w->wbuf.data, w->wbuf.len, w->wbuf_off) != 0) return io_fail(w, "write");
    w->wbuf_off += w->wbuf.len;
    w->wbuf.len = 0;
    return MAIF_OK;
}

static int sync_file(maif_writer *w)
{
    if (fdatasync(w->fd) != 0) return io_fail(w, "fdatasync");
    return MAIF_OK;
}

/* Appends a whole record (header already filled except the two hashes) to
 * the buffer; computes content and record hashes unless content_done. */
static int put_record(maif_writer *w, uint8_t hdr[NAT_REC_HEADER], const uint8_t *ext, uint16_t ext_size,
                      const uint8_t *meta, uint32_t meta_size, const uint8_t *payload, uint64_t psize,
                      int content_done)
{
    int written = 0;
    if (!content_done && psize >= PIPELINE_MIN) {
        /* Hash on this thread while another writes the payload into place;
         * the header follows once the hash is known. A crash in between
         * leaves a never-written (zero) header, which recovery treats as a
         * torn tail. */
        uint64_t h0 = NAT_REC_HEADER + (uint64_t)ext_size + meta_size;
        int rc = flush(w);
        if (rc) return rc;
        payload_job job = {w->fd, payload, (size_t)psize, w->pos + align8(h0), 0};
        pthread_t t;
        int threaded = pthread_create(&t, NULL, payload_write, &job) == 0;
        if (!threaded) payload_write(&job);
        maif_sha256(payload, (size_t)psize, hdr + NR_CONTENT_HASH);
        if (threaded) pthread_join(t, NULL);
        if (job.err) {
            errno = job.err;
            return io_fail(w, "write");
        }
        written = 1;
    } else if (!content_done) {
        maif_sha256(payload, (size_t)psize, hdr + NR_CONTENT_HASH);
    }
    maif_sha256_parts(hdr + NR_RECORD_HASH, w->chain, 32, hdr, NAT_REC_HASHED, ext, ext_size, meta, meta_size);
    memcpy(w->chain, hdr + NR_RECORD_HASH, 32);

    uint64_t head = NAT_REC_HEADER + (uint64_t)ext_size + meta_size;
    uint64_t pad1 = align8(head) - head, pad2 = align8(psize) - psize;
    int rc = maif_buf_reserve(&w->wbuf, (size_t)(head + pad1 + (psize < DIRECT_MIN ? psize + pad2 : 0)));
    if (rc) return fail(w, rc, "out of memory buffering a record");
    maif_buf_append(&w->wbuf, hdr, NAT_REC_HEADER);
    maif_buf_append(&w->wbuf, ext, ext_size);
    maif_buf_append(&w->wbuf, meta, meta_size);
    maif_buf_append(&w->wbuf, zero_pad, (size_t)pad1);
    uint64_t poff = w->pos + head + pad1;
    if (psize >= DIRECT_MIN) {
        if ((rc = flush(w))) return rc;
        if (!written && pwrite_all(w->fd, payload, (size_t)psize, poff) != 0) return io_fail(w, "write");
        w->wbuf_off = poff + psize;
    } else {
        maif_buf_append(&w->wbuf, payload, (size_t)psize);
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

int maif_writer_add(maif_writer *w, const maif_block_spec *spec, uint8_t id_out[MAIF_ID_BYTES])
{
    if (!w || !spec || (spec->payload_size && !spec->payload)) return MAIF_EINVAL;
    if (w->dead) return fail(w, MAIF_ESTATE, "%s: writer failed earlier; reopen the artifact", w->path);
    if (spec->type == 0) return fail(w, MAIF_EINVAL, "block type 0 is not allowed");
    if ((uint64_t)spec->payload_size > NAT_PAYLOAD_MAX)
        return fail(w, MAIF_ELIMIT, "payload of %zu bytes exceeds the %llu-byte limit", spec->payload_size,
                    (unsigned long long)NAT_PAYLOAD_MAX);
    uint32_t meta_size = 0;
    w->meta.len = 0;
    if (spec->meta_json && spec->meta_size) {
        char jerr[200];
        int rc = maif_json_canonicalize(spec->meta_json, spec->meta_size, MAIF_JSON_COMPACT, &w->meta, jerr,
                                        sizeof jerr);
        if (rc) return fail(w, rc, "metadata: %s", jerr);
        if (w->meta.len == 2) w->meta.len = 0; /* {} is stored as no metadata */
        if (w->meta.len > NAT_META_MAX)
            return fail(w, MAIF_ELIMIT, "metadata of %zu bytes exceeds the %u-byte limit", w->meta.len, NAT_META_MAX);
        meta_size = (uint32_t)w->meta.len;
    }
    uint8_t ext[4 + MAIF_ID_BYTES];
    uint16_t ext_size = 0;
    if (spec->supersedes) {
        wr16le(ext, NAT_EXT_SUPERSEDES);
        wr16le(ext + 2, MAIF_ID_BYTES);
        memcpy(ext + 4, spec->supersedes, MAIF_ID_BYTES);
        ext_size = sizeof ext;
    }
    uint8_t id[MAIF_ID_BYTES];
    if (spec->id) memcpy(id, spec->id, MAIF_ID_BYTES);
    else {
        if (w->id_pool_used >= ID_POOL) {
            maif_random(w->id_pool, ID_POOL);
            w->id_pool_used = 0;
        }
        memcpy(id, w->id_pool + w->id_pool_used, MAIF_ID_BYTES);
        w->id_pool_used += MAIF_ID_BYTES;
    }
    uint8_t hdr[NAT_REC_HEADER];
    hdr_init(hdr, NAT_KIND_BLOCK, spec->type, spec->payload_size, spec->timestamp_us ? spec->timestamp_us : maif_now_us(),
             meta_size, ext_size, id);
    if (spec->supersedes) wr16le(hdr + NR_FLAGS, NAT_REC_F_SUPERSEDES);

    uint64_t off = w->pos;
    int rc = maif_buf_append(&w->pend, &off, sizeof off);
    if (rc) return fail(w, rc, "out of memory");
    rc = put_record(w, hdr, ext, ext_size, w->meta.data, meta_size, spec->payload, spec->payload_size, 0);
    if (rc) {
        w->pend.len -= sizeof off;
        return rc;
    }
    uint8_t leaf[32];
    nat_merkle_leaf(hdr + NR_RECORD_HASH, leaf);
    nat_merkle_push(&w->merkle, leaf);
    if (id_out) memcpy(id_out, id, MAIF_ID_BYTES);
    return MAIF_OK;
}

/* Reads the offsets stored in a committed index segment. */
static int read_segment(maif_writer *w, const nat_seg *s, uint64_t *dst)
{
    size_t n = (size_t)s->count * 8;
    uint64_t at = s->off + NAT_REC_HEADER + NAT_INDEX_HEAD;
    uint8_t *tmp = (uint8_t *)dst;
    size_t got = 0;
    while (got < n) {
        ssize_t k = pread(w->fd, tmp + got, n - got, (off_t)(at + got));
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return io_fail(w, "read index");
        got += (size_t)k;
    }
    for (size_t i = 0; i < s->count; i++) dst[i] = rd64le(tmp + 8 * i); /* in place: same width */
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

/* Builds the batch's index segment (merging older ones as the size rule
 * asks) into an index record; updates segs/nseg to the new list. */
static int write_index(maif_writer *w, nat_seg *segs, uint32_t *nseg, uint64_t ts)
{
    uint64_t npend = w->pend.len / 8;
    uint64_t first = w->c_blocks, count = npend;
    uint32_t keep = *nseg;
    if (w->rebuild_index) {
        keep = 0;
        first = 0;
        count = w->c_blocks + npend;
    } else if (npend) {
        keep = merge_start(segs, *nseg, count);
        for (uint32_t i = keep; i < *nseg; i++) count += segs[i].count;
        if (keep < *nseg) first = segs[keep].first;
    }
    if (count == 0) return MAIF_OK;
    uint64_t psize = NAT_INDEX_HEAD + 8 * count;
    uint8_t *payload = malloc((size_t)psize);
    if (!payload) return fail(w, MAIF_ENOMEM, "out of memory building the index");
    wr64le(payload, first);
    wr64le(payload + 8, count);
    uint64_t *dst = (uint64_t *)(payload + NAT_INDEX_HEAD);
    uint64_t k = 0;
    int rc = MAIF_OK;
    if (w->rebuild_index) {
        memcpy(dst, w->rebuild.data, (size_t)w->c_blocks * 8);
        k = w->c_blocks;
    } else {
        for (uint32_t i = keep; i < *nseg && rc == MAIF_OK; i++) {
            rc = read_segment(w, &segs[i], dst + k);
            k += segs[i].count;
        }
    }
    if (rc == MAIF_OK) {
        memcpy(dst + k, w->pend.data, w->pend.len);
        for (uint64_t i = 0; i < count; i++) wr64le((uint8_t *)(dst + i), dst[i]); /* to little-endian, in place */
        uint8_t hdr[NAT_REC_HEADER];
        hdr_init(hdr, NAT_KIND_INDEX, 0, psize, ts, 0, 0, NULL);
        segs[keep] = (nat_seg){w->pos, first, count};
        rc = put_record(w, hdr, NULL, 0, NULL, 0, payload, psize, 0);
        *nseg = keep + 1;
    }
    free(payload);
    return rc;
}

static int write_commit(maif_writer *w, const nat_seg *segs, uint32_t nseg, uint64_t ts)
{
    uint32_t nfront = w->merkle.depth;
    uint64_t size = NC_FIXED + (uint64_t)nseg * NC_SEG_SIZE + (uint64_t)nfront * 32 + MAIF_SIGNATURE_BYTES +
                    NAT_TAIL_SIZE;
    uint8_t body[NC_FIXED + NAT_MAX_SEGMENTS * NC_SEG_SIZE + NAT_MAX_FRONTIER * 32 + MAIF_SIGNATURE_BYTES +
                 NAT_TAIL_SIZE];
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
    uint64_t off = w->pos;
    wr64le(sig + MAIF_SIGNATURE_BYTES, off);
    memcpy(sig + MAIF_SIGNATURE_BYTES + 8, NAT_TAIL_MAGIC, 8);

    uint8_t hdr[NAT_REC_HEADER];
    hdr_init(hdr, NAT_KIND_COMMIT, 0, size, ts, 0, 0, NULL);
    nat_commit_content_hash(body, size, hdr + NR_CONTENT_HASH);
    /* the record hash must exist before signing: compute it as put_record will */
    uint8_t rh[32];
    maif_sha256_parts(rh, w->chain, 32, hdr, NAT_REC_HASHED, NULL, 0, NULL, 0);
    uint8_t msg[16 + 32];
    memcpy(msg, NAT_SIG_DOMAIN, 16);
    memcpy(msg + 16, rh, 32);
    maif_key_sign(w->key, msg, sizeof msg, sig);
    return put_record(w, hdr, NULL, 0, NULL, 0, body, size, 1);
}

int maif_writer_commit(maif_writer *w)
{
    if (!w) return MAIF_EINVAL;
    if (w->dead) return fail(w, MAIF_ESTATE, "%s: writer failed earlier; reopen the artifact", w->path);
    uint64_t ts = maif_now_us();
    nat_seg segs[NAT_MAX_SEGMENTS];
    uint32_t nseg = w->nseg;
    memcpy(segs, w->seg, sizeof segs);
    int rc = write_index(w, segs, &nseg, ts);
    if (rc) return rc;
    if (w->flags & MAIF_W_DURABLE) {
        if ((rc = flush(w)) || (rc = sync_file(w))) return rc;
    }
    uint64_t commit_off = w->pos;
    if ((rc = write_commit(w, segs, nseg, ts))) return rc;
    if ((rc = flush(w))) return rc;
    if ((w->flags & MAIF_W_DURABLE) && (rc = sync_file(w))) return rc;

    w->c_blocks += w->pend.len / 8;
    w->pend.len = 0;
    w->c_end = w->pos;
    w->c_seq_next++;
    w->c_last_off = commit_off;
    memcpy(w->c_chain, w->chain, 32);
    w->c_merkle = w->merkle;
    memcpy(w->seg, segs, sizeof segs);
    w->nseg = nseg;
    if (w->rebuild_index) {
        w->rebuild_index = 0;
        maif_buf_free(&w->rebuild);
    }
    return MAIF_OK;
}

int maif_writer_rollback(maif_writer *w)
{
    if (!w) return MAIF_EINVAL;
    if (w->dead) return fail(w, MAIF_ESTATE, "%s: writer failed earlier; reopen the artifact", w->path);
    w->wbuf.len = 0;
    if (w->wbuf_off > w->c_end && ftruncate(w->fd, (off_t)w->c_end) != 0) return io_fail(w, "truncate");
    w->wbuf_off = w->pos = w->c_end;
    w->pend.len = 0;
    memcpy(w->chain, w->c_chain, 32);
    w->merkle = w->c_merkle;
    return MAIF_OK;
}

uint64_t maif_writer_count(const maif_writer *w) { return w ? w->c_blocks + w->pend.len / 8 : 0; }

const char *maif_writer_errmsg(const maif_writer *w) { return w ? w->err : ""; }

int maif_writer_close(maif_writer *w)
{
    if (!w) return MAIF_OK;
    int rc = MAIF_OK;
    if (!w->dead && (w->pend.len || w->wbuf_off > w->c_end || w->wbuf.len)) rc = maif_writer_rollback(w);
    if (w->fd >= 0 && close(w->fd) != 0 && rc == MAIF_OK) rc = MAIF_EIO;
    maif_buf_free(&w->pend);
    maif_buf_free(&w->wbuf);
    maif_buf_free(&w->meta);
    maif_buf_free(&w->rebuild);
    free(w->path);
    free(w);
    return rc;
}

static maif_writer *writer_alloc(const char *path, const maif_key *key, unsigned flags)
{
    maif_writer *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    w->fd = -1;
    w->path = strdup(path);
    if (!w->path) {
        free(w);
        return NULL;
    }
    w->key = key;
    maif_key_public(key, w->pk);
    w->flags = flags;
    w->id_pool_used = ID_POOL;
    return w;
}

/* Builds the file header (fixed part + JSON + padding). */
static int build_header(maif_buf *out, const char *header_json, uint64_t created)
{
    size_t jl = header_json ? strlen(header_json) : 0;
    uint64_t hs = align8(NAT_FIXED_HEADER + jl);
    if (hs > NAT_HEADER_MAX) return MAIF_ELIMIT;
    uint8_t fixed[NAT_FIXED_HEADER] = {0};
    memcpy(fixed + NH_MAGIC, NAT_MAGIC, NAT_MAGIC_LEN);
    wr16le(fixed + NH_WRITE_VER, NAT_WRITE_VERSION);
    wr16le(fixed + NH_READ_VER, NAT_READ_VERSION);
    wr32le(fixed + NH_HEADER_SIZE, (uint32_t)hs);
    wr64le(fixed + NH_CREATED, created);
    maif_random(fixed + NH_FILE_ID, MAIF_ID_BYTES);
    wr32le(fixed + NH_META_SIZE, (uint32_t)jl);
    int rc = maif_buf_append(out, fixed, sizeof fixed);
    if (!rc) rc = maif_buf_append(out, header_json, jl);
    if (!rc) rc = maif_buf_append(out, zero_pad, (size_t)(hs - NAT_FIXED_HEADER - jl));
    return rc;
}

int nat_writer_create(maif_writer **out, const char *path, const maif_key *key, const char *header_json,
                      uint64_t created_us, unsigned flags)
{
    if (!out || !path || !key) return MAIF_EINVAL;
    *out = NULL;
    if (maif_crypto_init()) return MAIF_ENOMEM;
    maif_writer *w = writer_alloc(path, key, flags);
    if (!w) return MAIF_ENOMEM;
    char *tmp = NULL;
    int rc = MAIF_OK;
    if (asprintf(&tmp, "%s.tmpXXXXXX", path) < 0) {
        tmp = NULL;
        rc = MAIF_ENOMEM;
        goto out;
    }
    w->fd = mkstemp(tmp);
    if (w->fd < 0) {
        rc = fail(w, errno == ENOENT ? MAIF_ENOTFOUND : MAIF_EIO, "%s: cannot create: %s", path, strerror(errno));
        free(tmp);
        tmp = NULL;
        goto out;
    }
    fchmod(w->fd, 0644);
    flock(w->fd, LOCK_EX | LOCK_NB);
    rc = build_header(&w->wbuf, header_json, created_us ? created_us : maif_now_us());
    if (rc) {
        fail(w, rc, "%s: header metadata too large", path);
        goto out;
    }
    w->header_size = (uint32_t)w->wbuf.len;
    maif_sha256(w->wbuf.data, w->wbuf.len, w->chain);
    w->pos = w->wbuf.len;
    w->wbuf_off = 0;
    w->c_seq_next = 0;
    memcpy(w->c_chain, w->chain, 32);
    /* The first commit makes the empty artifact valid on its own. */
    if ((rc = maif_writer_commit(w))) goto out;
    if (fsync(w->fd) != 0) {
        rc = io_fail(w, "fsync");
        goto out;
    }
    if (flags & MAIF_W_OVERWRITE) {
        if (rename(tmp, path) != 0) rc = fail(w, MAIF_EIO, "%s: cannot create: %s", path, strerror(errno));
    } else if (link(tmp, path) != 0) {
        rc = errno == EEXIST ? fail(w, MAIF_EEXIST, "%s: file exists", path)
                             : fail(w, errno == ENOENT ? MAIF_ENOTFOUND : MAIF_EIO, "%s: cannot create: %s", path,
                                    strerror(errno));
    } else {
        unlink(tmp);
    }
    if (rc == MAIF_OK) maif_fsync_dir_of(path); /* the new name survives a power cut too */
out:
    if (rc && tmp) unlink(tmp);
    free(tmp);
    if (rc) {
        maif_set_last_err(rc, "%s", w->err[0] ? w->err : maif_strerror(rc));
        maif_writer_close(w);
        return rc;
    }
    *out = w;
    return MAIF_OK;
}

int maif_writer_create(maif_writer **out, const char *path, const maif_key *key, const char *agent_id,
                       unsigned flags)
{
    json_t *o = json_object();
    if (!o) return MAIF_ENOMEM;
    if (agent_id && json_object_set_new(o, "agent", json_string(agent_id)) != 0) {
        json_decref(o);
        return maif_set_last_err(MAIF_EINVAL, "agent id is not valid UTF-8");
    }
    json_object_set_new(o, "created_by", json_string("maif-c/" MAIF_VERSION_STRING));
    maif_buf b = {0};
    int rc = maif_json_dump(o, MAIF_JSON_COMPACT, &b);
    json_decref(o);
    if (rc) {
        maif_buf_free(&b);
        return maif_set_last_err(rc, "cannot encode the header metadata");
    }
    char *js = maif_buf_steal(&b, NULL);
    if (!js) return MAIF_ENOMEM;
    rc = nat_writer_create(out, path, key, js, 0, flags);
    free(js);
    return rc;
}

int nat_writer_open(maif_writer **out, const char *path, const maif_key *key, unsigned flags, uint64_t *cut,
                    char *err, size_t errcap)
{
    if (!out || !path || !key) return MAIF_EINVAL;
    *out = NULL;
    if (cut) *cut = 0;
    if (maif_crypto_init()) return MAIF_ENOMEM;
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return maif_set_err(err, errcap, errno == ENOENT ? MAIF_ENOTFOUND : MAIF_EIO, "%s: %s", path,
                            strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        close(fd);
        return maif_set_err(err, errcap, MAIF_ELOCKED, "%s: another writer has the artifact open", path);
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return maif_set_err(err, errcap, MAIF_EIO, "%s: %s", path, strerror(errno));
    }
    uint64_t size = (uint64_t)st.st_size;
    if (size < NAT_FIXED_HEADER) {
        close(fd);
        return maif_set_err(err, errcap, MAIF_EFORMAT, "%s: not a maif artifact (too short)", path);
    }
    void *map = mmap(NULL, (size_t)size, PROT_READ, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED) {
        close(fd);
        return maif_set_err(err, errcap, MAIF_EIO, "%s: mmap: %s", path, strerror(errno));
    }
    const uint8_t *base = map;
    int rc;
    if (!nat_detect(base, (size_t)size)) {
        int is_v21 = size >= 8 && memcmp(base, "MAIF", 4) == 0; /* before the unmap */
        munmap(map, (size_t)size);
        close(fd);
        if (is_v21)
            return maif_set_err(err, errcap, MAIF_EUNSUPPORTED,
                                "%s: a MAIF 2.1 file cannot be appended to; convert it to native first", path);
        return maif_set_err(err, errcap, MAIF_EFORMAT, "%s: not a maif artifact", path);
    }
    nat_view v;
    char verr[300];
    rc = nat_view_open(&v, base, size, verr, sizeof verr);
    if (rc == MAIF_OK && rd16le(base + NH_WRITE_VER) > NAT_WRITE_VERSION)
        rc = maif_set_err(verr, sizeof verr, MAIF_EVERSION, "file needs writer version %u",
                          rd16le(base + NH_WRITE_VER));
    if (rc == MAIF_OK && v.torn && !(flags & MAIF_W_FORCE_RECOVER) && !nat_tail_is_torn(base, size, &v))
        rc = maif_set_err(verr, sizeof verr, MAIF_EFORMAT,
                          "%llu bytes after the last commit (offset %llu) are damaged, not a torn write; "
                          "`maif recover --force` discards them",
                          (unsigned long long)v.torn, (unsigned long long)v.committed);
    maif_writer *w = NULL;
    if (rc == MAIF_OK && !(w = writer_alloc(path, key, flags))) rc = MAIF_ENOMEM;
    if (rc == MAIF_OK && nat_merkle_load(&w->c_merkle, v.last.blocks, (const uint8_t(*)[32])v.last.frontier,
                                         v.last.nfrontier) != 0)
        rc = maif_set_err(verr, sizeof verr, MAIF_EFORMAT, "last commit: Merkle frontier does not match its block count");
    if (rc == MAIF_OK && v.scanned) {
        /* The stored index could not be trusted: rewrite it whole at the next commit. */
        w->rebuild_index = 1;
        if (maif_buf_reserve(&w->rebuild, (size_t)v.last.blocks * 8 + 1)) rc = MAIF_ENOMEM;
        else maif_buf_append(&w->rebuild, v.offsets, (size_t)v.last.blocks * 8);
    }
    if (rc == MAIF_OK && v.torn) {
        if (ftruncate(fd, (off_t)v.committed) != 0 || fsync(fd) != 0)
            rc = maif_set_err(verr, sizeof verr, MAIF_EIO, "cannot cut the torn tail: %s", strerror(errno));
        else if (cut)
            *cut = v.torn;
    }
    if (rc == MAIF_OK) {
        w->fd = fd;
        w->header_size = v.hdr.header_size;
        w->c_end = w->pos = w->wbuf_off = v.committed;
        w->c_blocks = v.last.blocks;
        w->c_seq_next = v.last.seq + 1;
        w->c_last_off = v.last.off;
        memcpy(w->c_chain, v.last.record_hash, 32);
        memcpy(w->chain, w->c_chain, 32);
        w->merkle = w->c_merkle;
        w->nseg = v.scanned ? 0 : v.last.nseg;
        memcpy(w->seg, v.last.seg, sizeof w->seg);
    }
    nat_view_free(&v);
    munmap(map, (size_t)size);
    if (rc) {
        if (w) {
            w->fd = -1;
            maif_writer_close(w);
        }
        close(fd);
        return maif_set_err(err, errcap, rc, "%s: %s", path, verr);
    }
    *out = w;
    return MAIF_OK;
}

int maif_writer_open(maif_writer **out, const char *path, const maif_key *key, unsigned flags)
{
    char err[512] = "";
    int rc = nat_writer_open(out, path, key, flags, NULL, err, sizeof err);
    if (rc) maif_set_last_err(rc, "%s", err[0] ? err : maif_strerror(rc));
    return rc;
}

int maif_recover(const char *path, unsigned flags, uint64_t *cut, char *errbuf, size_t errbuf_cap)
{
    maif_key *k = NULL;
    int rc = maif_key_generate(&k); /* opening needs a key; recovery signs nothing */
    if (rc) return rc;
    maif_writer *w = NULL;
    rc = nat_writer_open(&w, path, k, flags & MAIF_W_FORCE_RECOVER, cut, errbuf, errbuf_cap);
    if (rc == MAIF_OK) rc = maif_writer_close(w);
    maif_key_free(k);
    return rc;
}
