/*
 * native_open.c — the native writer's lifecycle: create, open, recover and
 * close.
 *
 * Creating writes the header and a first commit to a temporary file and
 * links it into place, so an artifact is never visible half made. Opening
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
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "format/native/native.h"
#include "format/native/native_writer.h"
#include "util/buf.h"
#include "util/common.h"
#include "util/pyjson.h"

static const uint8_t zero_pad[8];

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
    if (key) maif_key_public(key, w->pk); /* NULL only for recovery, which never commits */
    w->flags = flags;
    w->id_pool_used = ID_POOL;
    return w;
}

int maif_writer_close(maif_writer *w)
{
    if (!w) return MAIF_OK;
    int rc = MAIF_OK;
    if (!w->dead && (w->pend.len || w->bor.len || w->hpend.len || w->wbuf_off > w->c_end || w->wbuf.len))
        rc = maif_writer_rollback(w);
    nat_writer_stop_hasher(w); /* before wbuf goes: the helper may still be reading it */
    if (w->fd >= 0 && close(w->fd) != 0 && rc == MAIF_OK) rc = MAIF_EIO;
    maif_buf_free(&w->pend);
    maif_buf_free(&w->wbuf);
    maif_buf_free(&w->meta);
    maif_buf_free(&w->hpend);
    nat_writer_bor_release(w);
    free(w->arena);
    maif_buf_free(&w->bor);
    maif_buf_free(&w->bor_em);
    maif_buf_free(&w->rebuild);
    free(w->path);
    free(w);
    return rc;
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
        rc = nat_writer_fail(w, errno == ENOENT ? MAIF_ENOTFOUND : MAIF_EIO, "%s: cannot create: %s", path,
                             strerror(errno));
        free(tmp);
        tmp = NULL;
        goto out;
    }
    fchmod(w->fd, 0644);
    flock(w->fd, LOCK_EX | LOCK_NB);
    rc = build_header(&w->wbuf, header_json, created_us ? created_us : maif_now_us());
    if (rc) {
        nat_writer_fail(w, rc, "%s: header metadata too large", path);
        goto out;
    }
    maif_sha256(w->wbuf.data, w->wbuf.len, w->chain);
    w->pos = w->wbuf.len;
    w->wbuf_off = 0;
    w->c_seq_next = 0;
    memcpy(w->c_chain, w->chain, 32);
    /* The first commit makes the empty artifact valid on its own. */
    if ((rc = maif_writer_commit(w))) goto out;
    if (fsync(w->fd) != 0) {
        rc = nat_writer_io_fail(w, "fsync");
        goto out;
    }
    if (flags & MAIF_W_OVERWRITE) {
        if (rename(tmp, path) != 0) rc = nat_writer_fail(w, MAIF_EIO, "%s: cannot create: %s", path, strerror(errno));
    } else if (link(tmp, path) != 0) {
        rc = errno == EEXIST ? nat_writer_fail(w, MAIF_EEXIST, "%s: file exists", path)
                             : nat_writer_fail(w, errno == ENOENT ? MAIF_ENOTFOUND : MAIF_EIO,
                                               "%s: cannot create: %s", path, strerror(errno));
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
    rc = nat_writer_create(out, path, key, js, 0, flags & ~NAT_W_EXACT_TIME);
    free(js);
    return rc;
}

int nat_writer_open(maif_writer **out, const char *path, const maif_key *key, unsigned flags, uint64_t *cut,
                    char *err, size_t errcap)
{
    if (!out || !path) return MAIF_EINVAL;
    *out = NULL;
    if (cut) *cut = 0;
    if (maif_crypto_init()) return MAIF_ENOMEM;
    int fd = open(path, O_RDWR | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return maif_set_err(err, errcap, errno == ENOENT ? MAIF_ENOTFOUND : MAIF_EIO, "%s: %s", path,
                            strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        close(fd);
        return maif_set_err(err, errcap, MAIF_ELOCKED, "%s: another writer has the artifact open", path);
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return maif_set_err(err, errcap, MAIF_EIO, "%s: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return maif_set_err(err, errcap, MAIF_EIO, "%s: not a regular file", path);
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
    } else if (rc == MAIF_OK) {
        /* A crash between reserving space for a batch (fallocate, see
         * native_write.c: drain) and writing it leaves blocks past the end
         * of the file; truncating to the same size gives them back. */
        uint64_t slack = size / 256 > (1u << 20) ? size / 256 : (1u << 20);
        if ((uint64_t)st.st_blocks * 512 > size + slack) (void)!ftruncate(fd, (off_t)size);
    }
    if (rc == MAIF_OK) {
        w->fd = fd;
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
    if (!key) return MAIF_EINVAL;
    char err[512] = "";
    int rc = nat_writer_open(out, path, key, flags & ~NAT_W_EXACT_TIME, NULL, err, sizeof err);
    if (rc) maif_set_last_err(rc, "%s", err[0] ? err : maif_strerror(rc));
    return rc;
}

int maif_recover(const char *path, unsigned flags, uint64_t *cut, char *errbuf, size_t errbuf_cap)
{
    maif_writer *w = NULL; /* opened without a key: recovery cuts, it never signs */
    int rc = nat_writer_open(&w, path, NULL, flags & MAIF_W_FORCE_RECOVER, cut, errbuf, errbuf_cap);
    if (rc == MAIF_OK) rc = maif_writer_close(w);
    return rc;
}
