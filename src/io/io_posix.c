/*
 * io_posix.c — the default I/O methods: POSIX file descriptors, pread and
 * pwrite, flock, mmap.
 *
 * New files (open_temp) are unnamed where the file system supports
 * O_TMPFILE, so a process killed while it writes one leaves nothing
 * behind; they get their name at publish through /proc/self/fd (linkat
 * with AT_SYMLINK_FOLLOW, which needs no privilege, unlike AT_EMPTY_PATH).
 * Where O_TMPFILE is refused, the file is a named mkstemp file beside the
 * target, renamed or linked into place, and unlinked by close if it was
 * never published.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/io.h"
#include "util/alloc.h"

typedef struct pfile {
    maif_io_file base;
    int fd;
    char *tmp_name;  /* named temporary file not yet published, or NULL */
    int unnamed;     /* an O_TMPFILE file not yet published */
} pfile;

#define CHUNK (1u << 30) /* largest single transfer */

static int errno_or(int fallback) { return errno ? errno : fallback; }

static int new_file(const maif_io *io, int fd, maif_io_file **out)
{
    pfile *p = maif_calloc(1, sizeof *p);
    if (!p) {
        close(fd);
        return ENOMEM;
    }
    p->base.io = io;
    p->fd = fd;
    *out = &p->base;
    return 0;
}

static int px_open(const maif_io *io, const char *path, int mode, maif_io_file **out)
{
    *out = NULL;
    /* O_NONBLOCK: opening a FIFO read-only must not wait for a writer;
     * size() then refuses it */
    int fd = open(path, (mode == MAIF_IO_RDWR ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return errno_or(EIO);
    return new_file(io, fd, out);
}

static char *dir_of(const char *path)
{
    char *copy = maif_strdup(path);
    if (!copy) return NULL;
    char *d = maif_strdup(dirname(copy));
    maif_free(copy);
    return d;
}

static int use_tmpfile = 1;

void maif_io_posix_use_tmpfile(int on) { use_tmpfile = on; }

static int px_open_temp(const maif_io *io, const char *target, maif_io_file **out)
{
    *out = NULL;
    char *dir = dir_of(target);
    if (!dir) return ENOMEM;
    errno = EOPNOTSUPP;
    /* without /proc an unnamed file could only be named with privilege */
    int fd = use_tmpfile && access("/proc/self/fd", X_OK) == 0 ? open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0644) : -1;
    maif_free(dir);
    if (fd >= 0) {
        int rc = new_file(io, fd, out);
        if (!rc) ((pfile *)*out)->unnamed = 1;
        return rc;
    }
    /* EISDIR: a kernel without O_TMPFILE; EOPNOTSUPP: a file system */
    if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL) return errno_or(EIO);
    char *tmp = maif_asprintf("%s.tmpXXXXXX", target);
    if (!tmp) return ENOMEM;
    fd = mkstemp(tmp);
    if (fd < 0) {
        int e = errno_or(EIO);
        maif_free(tmp);
        return e;
    }
    (void)fchmod(fd, 0644);
    int rc = new_file(io, fd, out);
    if (rc) {
        unlink(tmp);
        maif_free(tmp);
        return rc;
    }
    ((pfile *)*out)->tmp_name = tmp;
    return 0;
}

/* Links the unnamed file p to name (which must not exist). */
static int link_unnamed(pfile *p, const char *name)
{
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", p->fd);
    if (linkat(AT_FDCWD, proc, AT_FDCWD, name, AT_SYMLINK_FOLLOW) == 0) return 0;
    int e = errno_or(EIO);
    if (e == ENOENT && access(proc, F_OK) != 0 && linkat(p->fd, "", AT_FDCWD, name, AT_EMPTY_PATH) == 0)
        return 0; /* /proc went away: try the privileged way */
    return e;
}

static int px_publish(maif_io_file *f, const char *target, int overwrite)
{
    pfile *p = (pfile *)f;
    if (p->tmp_name) {
        if (overwrite) {
            if (rename(p->tmp_name, target) != 0) return errno_or(EIO);
        } else {
            if (link(p->tmp_name, target) != 0) return errno_or(EIO);
            unlink(p->tmp_name);
        }
        maif_free(p->tmp_name);
        p->tmp_name = NULL;
        return 0;
    }
    if (!p->unnamed) return EINVAL;
    if (!overwrite) {
        int e = link_unnamed(p, target);
        if (!e) p->unnamed = 0;
        return e;
    }
    /* linkat cannot replace a name: link under a fresh name, rename over */
    for (unsigned attempt = 0; attempt < 100; attempt++) {
        char *tmp = maif_asprintf("%s.tmp%ld.%u", target, (long)getpid(), attempt);
        if (!tmp) return ENOMEM;
        int e = link_unnamed(p, tmp);
        if (e == EEXIST) {
            maif_free(tmp);
            continue;
        }
        if (!e && rename(tmp, target) != 0) {
            e = errno_or(EIO);
            unlink(tmp);
        }
        maif_free(tmp);
        if (!e) p->unnamed = 0;
        return e;
    }
    return EEXIST;
}

static int px_close(maif_io_file *f)
{
    if (!f) return 0;
    pfile *p = (pfile *)f;
    int rc = close(p->fd) != 0 ? errno_or(EIO) : 0;
    if (p->tmp_name) {
        unlink(p->tmp_name);
        maif_free(p->tmp_name);
    }
    maif_free(p);
    return rc;
}

static int px_read(maif_io_file *f, void *dst, size_t n, uint64_t off)
{
    int fd = ((pfile *)f)->fd;
    uint8_t *b = dst;
    while (n) {
        ssize_t k = pread(fd, b, n > CHUNK ? CHUNK : n, (off_t)off);
        if (k < 0) {
            if (errno == EINTR) continue;
            return errno_or(EIO);
        }
        if (k == 0) return ENODATA;
        b += k;
        n -= (size_t)k;
        off += (uint64_t)k;
    }
    return 0;
}

static int px_write(maif_io_file *f, const void *src, size_t n, uint64_t off)
{
    int fd = ((pfile *)f)->fd;
    const uint8_t *b = src;
    while (n) {
        ssize_t k = pwrite(fd, b, n > CHUNK ? CHUNK : n, (off_t)off);
        if (k < 0) {
            if (errno == EINTR) continue;
            return errno_or(EIO);
        }
        if (k == 0) return ENOSPC;
        b += k;
        n -= (size_t)k;
        off += (uint64_t)k;
    }
    return 0;
}

static int px_sync(maif_io_file *f, int level)
{
    int fd = ((pfile *)f)->fd;
    int r = level == MAIF_IO_SYNC_FULL ? fsync(fd) : fdatasync(fd);
    return r != 0 ? errno_or(EIO) : 0;
}

static int px_truncate(maif_io_file *f, uint64_t size)
{
    int r;
    do r = ftruncate(((pfile *)f)->fd, (off_t)size);
    while (r != 0 && errno == EINTR);
    return r != 0 ? errno_or(EIO) : 0;
}

static int px_lock(maif_io_file *f, int on)
{
    return flock(((pfile *)f)->fd, on ? LOCK_EX | LOCK_NB : LOCK_UN) != 0 ? errno_or(EIO) : 0;
}

static int px_map(maif_io_file *f, uint64_t size, unsigned flags, const void **out)
{
    *out = NULL;
    if (size == 0) {
        *out = "";
        return 0;
    }
    if (size > (uint64_t)SIZE_MAX) return EFBIG;
    void *m = mmap(NULL, (size_t)size, PROT_READ, MAP_SHARED, ((pfile *)f)->fd, 0);
    if (m == MAP_FAILED) return errno_or(EIO);
    if (flags & MAIF_IO_MAP_SEQUENTIAL) (void)madvise(m, (size_t)size, MADV_SEQUENTIAL);
    *out = m;
    return 0;
}

static int px_unmap(const maif_io *io, const void *p, uint64_t size)
{
    (void)io;
    if (!p || size == 0) return 0;
    return munmap((void *)p, (size_t)size) != 0 ? errno_or(EIO) : 0;
}

static void px_release(const maif_io *io, const void *p, uint64_t n)
{
    (void)io;
    long pg = sysconf(_SC_PAGESIZE);
    uintptr_t a = ((uintptr_t)p + (uintptr_t)pg - 1) & ~(uintptr_t)(pg - 1), e = ((uintptr_t)p + n) & ~(uintptr_t)(pg - 1);
    if (pg > 0 && e > a) (void)madvise((void *)a, e - a, MADV_DONTNEED);
}

static int px_size(maif_io_file *f, uint64_t *size, uint64_t *allocated)
{
    struct stat st;
    if (fstat(((pfile *)f)->fd, &st) != 0) return errno_or(EIO);
    if (S_ISDIR(st.st_mode)) return EISDIR;
    if (!S_ISREG(st.st_mode)) return ESPIPE;
    *size = (uint64_t)st.st_size;
    if (allocated) *allocated = (uint64_t)st.st_blocks * 512;
    return 0;
}

static int px_allocate(maif_io_file *f, uint64_t off, uint64_t len)
{
    return fallocate(((pfile *)f)->fd, FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len) != 0 ? errno_or(EIO) : 0;
}

static int px_punch(maif_io_file *f, uint64_t off, uint64_t len)
{
    return fallocate(((pfile *)f)->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len) != 0
               ? errno_or(EIO)
               : 0;
}

static int px_writeback(maif_io_file *f, uint64_t off, uint64_t len)
{
#ifdef SYNC_FILE_RANGE_WRITE
    return sync_file_range(((pfile *)f)->fd, (off_t)off, (off_t)len, SYNC_FILE_RANGE_WRITE) != 0 ? errno_or(EIO) : 0;
#else
    (void)f, (void)off, (void)len;
    return 0;
#endif
}

static int px_sync_dir(const maif_io *io, const char *path)
{
    (void)io;
    char *dir = dir_of(path);
    if (!dir) return ENOMEM;
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    maif_free(dir);
    if (dfd < 0) return errno_or(EIO);
    int rc = fsync(dfd) != 0 ? errno_or(EIO) : 0;
    close(dfd);
    return rc;
}

const maif_io maif_io_posix = {
    .name = "posix",
    .open = px_open,
    .open_temp = px_open_temp,
    .publish = px_publish,
    .close = px_close,
    .read = px_read,
    .write = px_write,
    .sync = px_sync,
    .truncate = px_truncate,
    .lock = px_lock,
    .map = px_map,
    .unmap = px_unmap,
    .release = px_release,
    .size = px_size,
    .allocate = px_allocate,
    .sync_dir = px_sync_dir,
    .punch = px_punch,
    .writeback = px_writeback,
};

static const maif_io *default_io = &maif_io_posix;

const maif_io *maif_io_default(void) { return default_io; }

void maif_io_set_default(const maif_io *io) { default_io = io ? io : &maif_io_posix; }

int maif_io_code(int err)
{
    switch (err) {
    case 0: return MAIF_OK;
    case ENOENT: return MAIF_ENOTFOUND;
    case ENOMEM: return MAIF_ENOMEM;
    case EEXIST: return MAIF_EEXIST;
    default: return MAIF_EIO;
    }
}

static int map_fail(maif_io_mapped *m, int code, char *err, size_t cap, const char *path, const char *what, int e)
{
    memset(m, 0, sizeof *m);
    if (err && cap) {
        if (e == ESPIPE) snprintf(err, cap, "%s: not a regular file", path);
        else if (e == EISDIR) snprintf(err, cap, "%s: is a directory", path);
        else snprintf(err, cap, "%s: %s%s%s", path, what, *what ? ": " : "", strerror(e));
    }
    return code;
}

int maif_io_map_file(const maif_io *io, const char *path, unsigned flags, maif_io_mapped *m, char *err, size_t cap)
{
    memset(m, 0, sizeof *m);
    if (!io) io = maif_io_default();
    maif_io_file *f = NULL;
    int e = io->open(io, path, MAIF_IO_RDONLY, &f);
    if (e) return map_fail(m, maif_io_code(e), err, cap, path, "", e);
    uint64_t size = 0, alloc = 0;
    const void *base = NULL;
    if ((e = io->size(f, &size, &alloc))) {
        io->close(f);
        return map_fail(m, e == ENOMEM ? MAIF_ENOMEM : MAIF_EIO, err, cap, path, "", e);
    }
    if ((e = io->map(f, size, flags, &base))) {
        io->close(f);
        return map_fail(m, e == ENOMEM ? MAIF_ENOMEM : MAIF_EIO, err, cap, path, "mmap", e);
    }
    io->close(f); /* read-only: a close error changes nothing; the map stays */
    m->io = io;
    m->base = base;
    m->size = size;
    m->allocated = alloc;
    return MAIF_OK;
}

void maif_io_unmap_file(maif_io_mapped *m)
{
    if (m->io && m->base) m->io->unmap(m->io, m->base, m->size);
    memset(m, 0, sizeof *m);
}
