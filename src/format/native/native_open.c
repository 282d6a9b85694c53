/*
 * native_open.c — the native writer's lifecycle: create, open, recover and
 * close.
 *
 * Creating writes the header and a first commit to a new unnamed file
 * (io.h: open_temp) and links it into place, so an artifact is never visible half made. Opening
 * takes the lock, checks the file through the same committed view the
 * reader uses, cuts a torn tail (or refuses one that is damaged rather than
 * torn) and loads the last commit's state into the handle; recovery is an
 * open and a close. This is kept apart from native_write.c, which appends
 * batches to an open writer: the two share only the handle
 * (native_writer.h) and meet at maif_writer_commit, which create uses for
 * its first commit, and maif_writer_rollback, which close uses for an
 * unfinished batch.
 */
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "crypto/crypto.h"
#include "format/native/native.h"
#include "codec/zdict.h"
#include "format/native/native_writer.h"
#include "io/io.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/common.h"
#include "util/options.h"
#include "util/pyjson.h"

static const uint8_t zero_pad[8];

static maif_writer *writer_alloc(const char *path, const maif_key *key, unsigned flags)
{
    maif_writer *w = maif_calloc(1, sizeof *w);
    if (!w) return NULL;
    w->io = maif_io_default();
    w->path = maif_strdup(path);
    if (!w->path) {
        maif_free(w);
        return NULL;
    }
    w->key = key;
    if (key) maif_key_public(key, w->pk); /* NULL only for recovery, which never commits */
    w->flags = flags;
    w->id_pool_used = ID_POOL;
    if (nat_group_init(w, 0)) {
        maif_free(w->path);
        maif_free(w);
        return NULL;
    }
    return w;
}

int maif_writer_close(maif_writer *w)
{
    if (!w) return MAIF_OK;
    int rc = nat_group_close(w); /* queued asynchronous appends are committed first */
    if (w->dead) nat_writer_cut_uncommitted(w); /* a failed batch gives its space back */
    else if (w->pend.len || w->bor.len || w->hpend.len || w->wbuf_off > w->c_end || w->wbuf.len)
        rc = maif_writer_rollback(w);
    nat_writer_stop_hasher(w); /* before wbuf goes: the helper may still be reading it */
    if (w->f) {
        int e = w->io->close(w->f); /* also releases the lock; an unpublished file vanishes */
        if (e && rc == MAIF_OK)
            rc = maif_set_last_err(maif_io_code(e) == MAIF_ENOMEM ? MAIF_ENOMEM : MAIF_EIO, "%s: close: %s", w->path,
                                   strerror(e));
    }
    maif_buf_free(&w->pend);
    maif_buf_free(&w->nodes);
    maif_buf_free(&w->wbuf);
    maif_buf_free(&w->meta);
    maif_buf_free(&w->hpend);
    nat_writer_bor_release(w);
    maif_free(w->arena);
    maif_buf_free(&w->bor);
    maif_buf_free(&w->bor_em);
    maif_buf_free(&w->seals);
    maif_buf_free(&w->rebuild);
    maif_stage_scratch_free(&w->stage_scratch);
    nat_writer_gate_reset(w);
    maif_zdict_free(w->dict);
    maif_free(w->path);
    maif_free(w);
    return rc;
}

/* Builds the file header (fixed part + JSON + padding). */
static int build_header(maif_buf *out, const char *header_json, uint64_t created, uint16_t version, uint32_t hflags)
{
    size_t jl = header_json ? strlen(header_json) : 0;
    uint64_t hs = align8(NAT_FIXED_HEADER + jl);
    if (hs > NAT_HEADER_MAX) return MAIF_ELIMIT;
    uint8_t fixed[NAT_FIXED_HEADER] = {0};
    memcpy(fixed + NH_MAGIC, NAT_MAGIC, NAT_MAGIC_LEN);
    wr16le(fixed + NH_WRITE_VER, hflags ? NAT_VERSION_FLAGS : version);
    wr16le(fixed + NH_READ_VER, version);
    wr32le(fixed + NH_HEADER_SIZE, (uint32_t)hs);
    wr64le(fixed + NH_CREATED, created);
    maif_random(fixed + NH_FILE_ID, MAIF_ID_BYTES);
    wr32le(fixed + NH_META_SIZE, (uint32_t)jl);
    wr32le(fixed + NH_FLAGS, hflags);
    int rc = maif_buf_append(out, fixed, sizeof fixed);
    if (!rc) rc = maif_buf_append(out, header_json, jl);
    if (!rc) rc = maif_buf_append(out, zero_pad, (size_t)(hs - NAT_FIXED_HEADER - jl));
    return rc;
}

int nat_writer_publish(maif_writer *w, unsigned flags)
{
    if (!w || !w->unpublished) return MAIF_EINVAL;
    int e = w->io->publish(w->f, w->path, (flags & MAIF_W_OVERWRITE) != 0);
    if (e == EEXIST) return nat_writer_fail(w, MAIF_EEXIST, "%s: file exists", w->path);
    if (e) return nat_writer_fail(w, maif_io_code(e), "%s: cannot create: %s", w->path, strerror(e));
    w->unpublished = 0;
    (void)w->io->sync_dir(w->io, w->path); /* the new name survives a power cut too */
    return MAIF_OK;
}

int nat_writer_create(maif_writer **out, const char *path, const maif_key *key, const char *header_json,
                      uint64_t created_us, unsigned flags)
{
    if (!out || !path || !key) return maif_set_last_err(MAIF_EINVAL, "maif_writer_create: NULL argument");
    *out = NULL;
    if (maif_crypto_init()) return maif_set_last_err(MAIF_ENOMEM, "crypto initialisation failed");
    maif_writer *w = writer_alloc(path, key, flags & ~NAT_W_UNPUBLISHED);
    if (!w) return maif_set_last_err(MAIF_ENOMEM, "out of memory");
    /* The new file has no name (or a temporary one) until its first commit
     * is on disk, so an artifact is never visible half made. */
    int e = w->io->open_temp(w->io, path, &w->f), rc = MAIF_OK;
    if (e) {
        rc = nat_writer_fail(w, maif_io_code(e), "%s: cannot create: %s", path, strerror(e));
        goto out;
    }
    w->unpublished = 1;
    (void)w->io->lock(w->f, 1); /* a new file: nobody else can hold it */
    /* Files whose first signer is Ed25519 stay readable by version 2
     * readers; others hold version 2 commit records (FORMAT.md §5.5.1). */
    rc = build_header(&w->wbuf, header_json, created_us ? created_us : maif_now_us(),
                      maif_key_alg(key) == MAIF_SIG_ED25519 ? NAT_VERSION_ED25519 : NAT_READ_VERSION,
                      flags & MAIF_W_BLAKE3 ? NH_F_BLAKE3 : 0);
    w->hash_alg = flags & MAIF_W_BLAKE3 ? MAIF_HASH_BLAKE3 : MAIF_HASH_SHA256;
    if (rc) {
        nat_writer_fail(w, rc, rc == MAIF_ENOMEM ? "%s: out of memory" : "%s: header metadata too large", path);
        goto out;
    }
    maif_sha256(w->wbuf.data, w->wbuf.len, w->chain);
    memcpy(w->file_id, w->wbuf.data + NH_FILE_ID, MAIF_ID_BYTES);
    w->pos = w->wbuf.len;
    w->wbuf_off = 0;
    w->c_seq_next = 0;
    memcpy(w->c_chain, w->chain, 32);
    /* The first commit makes the empty artifact valid on its own. */
    if ((rc = maif_writer_commit(w))) goto out;
    if ((e = w->io->sync(w->f, MAIF_IO_SYNC_FULL))) {
        rc = nat_writer_io_fail(w, "fsync", e);
        goto out;
    }
    if (!(flags & NAT_W_UNPUBLISHED)) rc = nat_writer_publish(w, flags);
out:
    if (rc) {
        maif_set_last_err(rc, "%s", w->err[0] ? w->err : maif_strerror(rc));
        maif_writer_close(w);
        return rc;
    }
    *out = w;
    return MAIF_OK;
}

unsigned nat_writer_flags(const maif_options *opt)
{
    return (maif_opt(opt, MAIF_OPT_OVERWRITE) ? MAIF_W_OVERWRITE : 0) |
           (maif_opt(opt, MAIF_OPT_DURABLE) ? MAIF_W_DURABLE : 0) |
           (maif_opt(opt, MAIF_OPT_FORCE_RECOVER) ? MAIF_W_FORCE_RECOVER : 0) |
           (maif_opt(opt, MAIF_OPT_CONTENT_HASH) == MAIF_HASH_BLAKE3 ? MAIF_W_BLAKE3 : 0);
}

/* Applies MAIF_OPT_CODEC / MAIF_OPT_CODEC_LEVEL to a new writer; on
 * failure the writer is closed (a created file stays: it is valid). */
static int writer_codec(maif_writer **w, const maif_options *opt)
{
    int64_t codec = maif_opt(opt, MAIF_OPT_CODEC), level = maif_opt(opt, MAIF_OPT_CODEC_LEVEL);
    nat_group_config(*w, (size_t)maif_opt(opt, MAIF_OPT_ASYNC_QUEUE), (unsigned)maif_opt(opt, MAIF_OPT_WORKERS));
    if (codec == 0 && level == 0) return MAIF_OK;
    int rc = maif_writer_set_codec(*w, (int)codec, (int)level);
    if (rc) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", maif_last_errmsg());
        (void)maif_writer_close(*w);
        *w = NULL;
        maif_set_last_err(rc, "%s", msg);
    }
    return rc;
}

int maif_writer_create(maif_writer **out, const char *path, const maif_key *key, const char *agent_id,
                       const maif_options *opt)
{
    unsigned flags = nat_writer_flags(opt) & (MAIF_W_OVERWRITE | MAIF_W_DURABLE | MAIF_W_BLAKE3);
    json_t *o = json_object();
    if (!o) return maif_set_last_err(MAIF_ENOMEM, "out of memory");
    /* unchecked here: json_string's NULL would not say whether the UTF-8
     * was bad or memory short; the dump below checks the UTF-8 */
    if ((agent_id && json_object_set_new_nocheck(o, "agent", json_string_nocheck(agent_id)) != 0) ||
        json_object_set_new_nocheck(o, "created_by", json_string_nocheck("maif-c/" MAIF_VERSION_STRING)) != 0) {
        json_decref(o);
        return maif_set_last_err(MAIF_ENOMEM, "out of memory");
    }
    maif_buf b = {0};
    int rc = maif_json_dump(o, MAIF_JSON_COMPACT, &b);
    json_decref(o);
    if (rc) {
        maif_buf_free(&b);
        if (rc == MAIF_EJSON) return maif_set_last_err(MAIF_EINVAL, "agent id is not valid UTF-8");
        return maif_set_last_err(rc, "cannot encode the header metadata");
    }
    char *js = maif_buf_steal(&b, NULL);
    if (!js) return maif_set_last_err(MAIF_ENOMEM, "out of memory");
    rc = nat_writer_create(out, path, key, js, 0, flags);
    maif_free(js);
    if (rc == MAIF_OK) rc = writer_codec(out, opt);
    return rc;
}

static int open_fail(maif_writer *w, char *err, size_t errcap, int code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int open_fail(maif_writer *w, char *err, size_t errcap, int code, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    maif_set_err(err, errcap, code, "%s: %s", w->path, msg);
    maif_writer_close(w);
    return code;
}

/* Takes f's exclusive lock, retrying with short sleeps (1 ms doubling to
 * 16 ms) until wait_ms have passed. Polling rather than a blocking flock
 * keeps the wait bounded without signals or helper threads; the price is
 * that waiters are not served strictly in arrival order. Returns 0 or the
 * lock method's errno (EWOULDBLOCK when the time ran out). */
static int lock_wait(const maif_io *io, maif_io_file *f, uint32_t wait_ms)
{
    struct timespec now, end;
    int e = io->lock(f, 1);
    if (e != EWOULDBLOCK || wait_ms == 0) return e;
    clock_gettime(CLOCK_MONOTONIC, &end);
    end.tv_sec += wait_ms / 1000;
    end.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
    if (end.tv_nsec >= 1000000000L) end.tv_sec++, end.tv_nsec -= 1000000000L;
    long step_us = 1000;
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec > end.tv_sec || (now.tv_sec == end.tv_sec && now.tv_nsec >= end.tv_nsec)) return EWOULDBLOCK;
        struct timespec d = {0, step_us * 1000L};
        nanosleep(&d, NULL);
        if ((e = io->lock(f, 1)) != EWOULDBLOCK) return e;
        if (step_us < 16000) step_us *= 2;
    }
}

int nat_writer_open(maif_writer **out, const char *path, const maif_key *key, unsigned flags, uint64_t *cut,
                    uint32_t lock_wait_ms, char *err, size_t errcap)
{
    if (!out || !path) return MAIF_EINVAL;
    *out = NULL;
    if (cut) *cut = 0;
    if (maif_crypto_init()) return MAIF_ENOMEM;
    maif_writer *w = writer_alloc(path, key, flags);
    if (!w) return maif_set_err(err, errcap, MAIF_ENOMEM, "%s: out of memory", path);
    const maif_io *io = w->io;
    int e = io->open(io, path, MAIF_IO_RDWR, &w->f);
    if (e) return open_fail(w, err, errcap, maif_io_code(e), "%s", strerror(e));
    /* Everything below reads the file only after the lock is held, so a
     * writer that waited sees the commits of the one it waited for. */
    if ((e = lock_wait(io, w->f, lock_wait_ms)))
        return e == EWOULDBLOCK ? open_fail(w, err, errcap, MAIF_ELOCKED, "another writer has the artifact open")
                                : open_fail(w, err, errcap, MAIF_EIO, "lock: %s", strerror(e));
    uint64_t size = 0, allocated = 0;
    if ((e = io->size(w->f, &size, &allocated)))
        return open_fail(w, err, errcap, e == ESPIPE ? MAIF_EIO : maif_io_code(e), "%s",
                         e == ESPIPE ? "not a regular file" : strerror(e));
    if (size < NAT_FIXED_HEADER) return open_fail(w, err, errcap, MAIF_EFORMAT, "not a maif artifact (too short)");
    const void *map = NULL;
    if ((e = io->map(w->f, size, 0, &map)))
        return open_fail(w, err, errcap, e == ENOMEM ? MAIF_ENOMEM : MAIF_EIO, "mmap: %s", strerror(e));
    const uint8_t *base = map;
    if (!nat_detect(base, (size_t)size)) {
        int is_v21 = size >= 8 && memcmp(base, "MAIF", 4) == 0; /* before the unmap */
        io->unmap(io, map, size);
        if (is_v21)
            return open_fail(w, err, errcap, MAIF_EUNSUPPORTED,
                             "a MAIF 2.1 file cannot be appended to; convert it to native first");
        return open_fail(w, err, errcap, MAIF_EFORMAT, "not a maif artifact");
    }
    nat_view v;
    char verr[300];
    int rc = nat_view_open(&v, base, size, verr, sizeof verr);
    if (rc == MAIF_OK && rd16le(base + NH_WRITE_VER) > NAT_WRITE_VERSION)
        rc = maif_set_err(verr, sizeof verr, MAIF_EVERSION, "file needs writer version %u",
                          rd16le(base + NH_WRITE_VER));
    if (rc == MAIF_OK && v.torn && !(flags & MAIF_W_FORCE_RECOVER) && !nat_tail_is_torn(base, size, &v))
        rc = maif_set_err(verr, sizeof verr, MAIF_EFORMAT,
                          "%llu bytes after the last commit (offset %llu) are damaged, not a torn write; "
                          "`maif recover --force` discards them",
                          (unsigned long long)v.torn, (unsigned long long)v.committed);
    if (rc == MAIF_OK && nat_merkle_load(&w->c_merkle, v.last.blocks, (const uint8_t(*)[32])v.last.frontier,
                                         v.last.nfrontier) != 0)
        rc = maif_set_err(verr, sizeof verr, MAIF_EFORMAT, "last commit: Merkle frontier does not match its block count");
    if (rc == MAIF_OK && v.scanned) {
        /* The stored index could not be trusted: rewrite it whole at the next commit. */
        w->rebuild_index = 1;
        if (maif_buf_reserve(&w->rebuild, (size_t)v.last.blocks * 8 + 1))
            rc = maif_set_err(verr, sizeof verr, MAIF_ENOMEM, "out of memory");
        else maif_buf_append(&w->rebuild, v.offsets, (size_t)v.last.blocks * 8);
    }
    if (rc == MAIF_OK && v.torn) {
        if ((e = io->truncate(w->f, v.committed)) || (e = io->sync(w->f, MAIF_IO_SYNC_FULL)))
            rc = maif_set_err(verr, sizeof verr, MAIF_EIO, "cannot cut the torn tail: %s", strerror(e));
        else if (cut)
            *cut = v.torn;
    } else if (rc == MAIF_OK) {
        /* A crash between reserving space for a batch (fallocate, see
         * native_write.c: drain) and writing it leaves blocks past the end
         * of the file; truncating to the same size gives them back. */
        uint64_t slack = size / 256 > (1u << 20) ? size / 256 : (1u << 20);
        if (allocated > size + slack) (void)io->truncate(w->f, size);
    }
    if (rc == MAIF_OK) {
        w->c_end = w->pos = w->wbuf_off = v.committed;
        w->c_blocks = v.last.blocks;
        memcpy(w->file_id, base + NH_FILE_ID, MAIF_ID_BYTES);
        w->hash_alg = v.hdr.hash_alg;
        w->c_seq_next = v.last.seq + 1;
        w->c_last_off = v.last.off;
        memcpy(w->c_chain, v.last.record_hash, 32);
        memcpy(w->chain, w->c_chain, 32);
        w->merkle = w->c_merkle;
        w->nseg = v.scanned ? 0 : v.last.nseg;
        memcpy(w->seg, v.last.seg, sizeof w->seg);
    }
    nat_view_free(&v);
    io->unmap(io, map, size);
    if (rc) return open_fail(w, err, errcap, rc, "%s", verr);
    *out = w;
    return MAIF_OK;
}

int maif_writer_open(maif_writer **out, const char *path, const maif_key *key, const maif_options *opt)
{
    if (!key || !out || !path) return maif_set_last_err(MAIF_EINVAL, "maif_writer_open: NULL argument");
    *out = NULL;
    char err[512] = "";
    unsigned flags = nat_writer_flags(opt) & (MAIF_W_DURABLE | MAIF_W_FORCE_RECOVER);
    int rc = nat_writer_open(out, path, key, flags, NULL, (uint32_t)maif_opt(opt, MAIF_OPT_LOCK_WAIT_MS), err, sizeof err);
    if (rc) maif_set_last_err(rc, "%s", err[0] ? err : maif_strerror(rc));
    else rc = writer_codec(out, opt);
    return rc;
}

int maif_recover(const char *path, const maif_options *opt, uint64_t *cut)
{
    if (cut) *cut = 0;
    if (!path) return maif_set_last_err(MAIF_EINVAL, "maif_recover: path is NULL");
    maif_writer *w = NULL; /* opened without a key: recovery cuts, it never signs */
    char err[512] = "";
    int rc = nat_writer_open(&w, path, NULL, nat_writer_flags(opt) & MAIF_W_FORCE_RECOVER, cut, 0, err, sizeof err);
    if (rc) return maif_set_last_err(rc, "%s", err[0] ? err : maif_strerror(rc));
    rc = maif_writer_close(w);
    if (rc) maif_set_last_err(rc, "%s: cannot close after recovery", path);
    return rc;
}
