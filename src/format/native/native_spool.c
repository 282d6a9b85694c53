/*
 * native_spool.c — a payload parked on disk while its size is not yet
 * known (a pipe), or while zstd compresses it (its output size is known
 * only at the end): FORMAT.md §5.7, "Spooling".
 *
 * The associated data of a sealed block binds its sizes, so sealing can
 * start only once they are known; holding the payload in memory until
 * then would make memory grow with the payload. A spool is an anonymous
 * temporary file (O_TMPFILE, 0600, never linked; gone when closed) that
 * holds the bytes in 64 KiB chunks, each sealed with XChaCha20-Poly1305
 * under a random key kept in locked memory only (nonce: the chunk number),
 * so no plaintext reaches the disk and a spool altered behind our back
 * fails to read back. Written once, front to back, then read once, front
 * to back: memory is one chunk and its sealed form.
 */
#define ZSTD_STATIC_LINKING_ONLY /* ZSTD_customMem */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "codec/codecs.h"
#include "codec/zdict.h"
#include "crypto/aead.h"
#include "crypto/crypto.h"
#include "format/native/native_spool.h"
#include "util/alloc.h"
#include "util/common.h"

#define SCHUNK MAIF_STREAM_CHUNK_PLAIN
#define SSEALED (SCHUNK + MAIF_AEAD_TAG_BYTES)

struct nat_spool {
    int fd;
    uint8_t *key;     /* 32 random bytes, locked memory; wiped with the spool */
    uint8_t *plain;   /* one chunk being filled (write) or handed out (read); locked memory */
    uint8_t *sealed;  /* one sealed chunk */
    size_t fill, at;  /* bytes in plain; read: bytes of plain handed out */
    uint64_t size;    /* plaintext bytes written */
    uint64_t chunks;  /* sealed chunks on disk */
    uint64_t next;    /* read: the next chunk to open */
    uint64_t taken;   /* read: bytes handed out */
    int reading;
    int err;          /* errno of a failed I/O, or 0 */
    int rc;           /* the first failure, sticky */
};

static int tmpfile_in(const char *dir)
{
    if (!dir || !*dir) return -1;
#ifdef O_TMPFILE
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0) return fd;
#endif
    /* a file system without O_TMPFILE: a named file, unlinked at once */
    char path[4096];
    if (snprintf(path, sizeof path, "%s/.maif-spool-XXXXXX", dir) >= (int)sizeof path) return -1;
    int fd2 = mkostemp(path, O_CLOEXEC);
    if (fd2 < 0) return -1;
    (void)fchmod(fd2, 0600);
    unlink(path);
    return fd2;
}

int nat_spool_open(nat_spool **out, const char *near, char *err, size_t errcap)
{
    *out = NULL;
    nat_spool *s = calloc(1, sizeof *s);
    if (!s) return maif_set_err(err, errcap, MAIF_ENOMEM, "out of memory");
    s->fd = -1;
    s->key = maif_secret_alloc(MAIF_AEAD_KEY_BYTES);
    s->plain = maif_secret_alloc(SCHUNK);
    s->sealed = maif_malloc(SSEALED);
    if (!s->key || !s->plain || !s->sealed) {
        nat_spool_close(s);
        return maif_set_err(err, errcap, MAIF_ENOMEM, "out of memory");
    }
    maif_random(s->key, MAIF_AEAD_KEY_BYTES);
    /* the artifact's directory first (the same file system, room for the
     * block anyway), then $TMPDIR, then /tmp */
    char dir[4096] = "";
    if (near) {
        snprintf(dir, sizeof dir, "%s", near);
        char *slash = strrchr(dir, '/');
        if (slash == dir) dir[1] = 0;
        else if (slash) *slash = 0;
        else snprintf(dir, sizeof dir, ".");
    }
    s->fd = tmpfile_in(dir);
    if (s->fd < 0) s->fd = tmpfile_in(getenv("TMPDIR"));
    if (s->fd < 0) s->fd = tmpfile_in("/tmp");
    if (s->fd < 0) {
        int e = errno;
        nat_spool_close(s);
        return maif_set_err(err, errcap, MAIF_EIO, "cannot make a temporary spool file: %s", strerror(e));
    }
    *out = s;
    return MAIF_OK;
}

static void chunk_nonce(uint8_t n[24], uint64_t i)
{
    memset(n, 0, 24);
    wr64le(n, i);
}

static int put_chunk(nat_spool *s)
{
    uint8_t nonce[24];
    chunk_nonce(nonce, s->chunks);
    int rc = maif_aead_seal(MAIF_AEAD_XCHACHA20, s->sealed, s->plain, s->fill, NULL, 0, nonce, s->key);
    maif_wipe(s->plain, s->fill);
    if (rc) return s->rc = rc;
    size_t n = s->fill + MAIF_AEAD_TAG_BYTES, done = 0;
    off_t off = (off_t)(s->chunks * SSEALED);
    while (done < n) {
        ssize_t k = pwrite(s->fd, s->sealed + done, n - done, off + (off_t)done);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) {
            s->err = k < 0 ? errno : ENOSPC;
            return s->rc = MAIF_EIO;
        }
        done += (size_t)k;
    }
    s->chunks++;
    s->fill = 0;
    return MAIF_OK;
}

int nat_spool_write(nat_spool *s, const void *data, size_t n)
{
    if (s->rc) return s->rc;
    if (s->reading) return s->rc = MAIF_ESTATE;
    const uint8_t *p = data;
    while (n) {
        size_t k = SCHUNK - s->fill < n ? SCHUNK - s->fill : n;
        memcpy(s->plain + s->fill, p, k);
        s->fill += k;
        s->size += k;
        p += k;
        n -= k;
        if (s->fill == SCHUNK && put_chunk(s)) return s->rc;
    }
    return MAIF_OK;
}

int nat_spool_rewind(nat_spool *s)
{
    if (s->rc) return s->rc;
    if (!s->reading && s->fill && put_chunk(s)) return s->rc;
    s->reading = 1;
    s->fill = s->at = 0;
    s->next = s->taken = 0;
    return MAIF_OK;
}

uint64_t nat_spool_size(const nat_spool *s) { return s->size; }

int nat_spool_errno(const nat_spool *s) { return s->err; }

int64_t nat_spool_read(void *ctx, void *buf, size_t cap)
{
    nat_spool *s = ctx;
    if (s->rc) return s->rc;
    if (!s->reading) return s->rc = MAIF_ESTATE;
    if (s->at == s->fill) {
        maif_wipe(s->plain, s->fill);
        s->fill = s->at = 0;
        if (s->next == s->chunks) return 0;
        uint64_t left = s->size - s->next * SCHUNK;
        size_t m = left < SCHUNK ? (size_t)left : SCHUNK, n = m + MAIF_AEAD_TAG_BYTES, done = 0;
        off_t off = (off_t)(s->next * SSEALED);
        while (done < n) {
            ssize_t k = pread(s->fd, s->sealed + done, n - done, off + (off_t)done);
            if (k < 0 && errno == EINTR) continue;
            if (k <= 0) {
                s->err = k < 0 ? errno : 0;
                return s->rc = k < 0 ? MAIF_EIO : MAIF_EVERIFY; /* cut short behind our back */
            }
            done += (size_t)k;
        }
        uint8_t nonce[24];
        chunk_nonce(nonce, s->next);
        int rc = maif_aead_open(MAIF_AEAD_XCHACHA20, s->plain, s->sealed, n, NULL, 0, nonce, s->key);
        if (rc) return s->rc = rc;
        s->next++;
        s->fill = m;
    }
    size_t k = s->fill - s->at < cap ? s->fill - s->at : cap;
    memcpy(buf, s->plain + s->at, k);
    s->at += k;
    s->taken += k;
    return (int64_t)k;
}

void nat_spool_close(nat_spool *s)
{
    if (!s) return;
    if (s->fd >= 0) close(s->fd);
    maif_secret_free(s->key);
    maif_secret_free(s->plain);
    maif_free(s->sealed);
    free(s);
}

/* ---- zstd, streamed from one spool into another (codec 1, FORMAT.md
 * §5.6.1): the frame pledges the payload size, so it records its content
 * size as a one-shot compression would, with the checksum on. */
int nat_spool_zstd(nat_spool *from, nat_spool *to, int level, struct maif_zdict *dict, char *err, size_t errcap)
{
    int rc = nat_spool_rewind(from);
    if (rc) return maif_set_err(err, errcap, rc, "the spool failed");
    ZSTD_CCtx *cc = ZSTD_createCCtx_advanced(maif_zstd_mem);
    size_t ocap = ZSTD_CStreamOutSize();
    uint8_t *in = maif_secret_alloc(SCHUNK), *out = maif_secret_alloc(ocap);
    if (!cc || !in || !out) rc = MAIF_ENOMEM;
    size_t r = 0;
    if (!rc && dict) rc = maif_zdict_cctx_setup(dict, cc); /* codec 3: magicless, no dictionary id, its level */
    if (!rc) {
        if (!dict) r = ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, level ? level : MAIF_ZSTD_LEVEL_DEFAULT);
        if (!ZSTD_isError(r)) r = ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 1);
        if (!ZSTD_isError(r)) r = ZSTD_CCtx_setParameter(cc, ZSTD_c_contentSizeFlag, 1);
        if (!ZSTD_isError(r)) r = ZSTD_CCtx_setPledgedSrcSize(cc, nat_spool_size(from));
        if (ZSTD_isError(r)) rc = MAIF_ENOMEM;
    }
    for (int end = 0; !rc && !end;) {
        int64_t k = nat_spool_read(from, in, SCHUNK);
        if (k < 0) {
            rc = (int)k;
            break;
        }
        end = k == 0;
        ZSTD_inBuffer ib = {in, (size_t)k, 0};
        for (;;) {
            ZSTD_outBuffer ob = {out, ocap, 0};
            r = ZSTD_compressStream2(cc, &ob, &ib, end ? ZSTD_e_end : ZSTD_e_continue);
            if (ZSTD_isError(r)) {
                rc = MAIF_ENOMEM;
                break;
            }
            if (ob.pos && (rc = nat_spool_write(to, out, ob.pos))) break;
            maif_wipe(out, ob.pos);
            if (end ? r == 0 : ib.pos == ib.size) break;
        }
        maif_wipe(in, (size_t)k);
    }
    ZSTD_freeCCtx(cc);
    maif_secret_free(in);
    maif_secret_free(out);
    if (rc) return maif_set_err(err, errcap, rc, "zstd: streamed compression failed: %s", maif_strerror(rc));
    return nat_spool_rewind(to);
}
