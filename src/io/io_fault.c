/*
 * io_fault.c — I/O methods that wrap others and fail chosen calls, for the
 * fault-injection tests (SQLite's test_vfs in miniature).
 *
 * Each call is counted by kind (maif_io_fault_count); an armed fault fails
 * the Nth call of one kind with a chosen errno, once or from then on. The
 * failing call does not reach the inner methods, except close, which
 * still closes (a close must always free) and then reports the error.
 * Counters are atomic: the writer calls write from its helper threads.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "io/io.h"
#include "util/alloc.h"

struct maif_io_fault {
    maif_io methods;       /* first: the table handed out points here */
    const maif_io *inner;
    uint64_t count[MAIF_IO_OP_COUNT]; /* calls since the last arm (atomic) */
    int op;                /* armed kind */
    uint64_t nth;          /* 0: disarmed */
    int err;
    int persist;
    int fired;             /* atomic */
    void (*hook)(void *ctx, int op, uint64_t n);
    void *hook_ctx;
};

typedef struct ffile {
    maif_io_file base;
    maif_io_file *inner;
} ffile;

#define FI(io) ((maif_io_fault *)(void *)(io))
#define INNER(f) (((ffile *)(f))->inner)

/* Counts a call of kind op; returns the errno it must fail with, or 0. */
static int tick(maif_io_fault *fi, int op)
{
    uint64_t n = __atomic_add_fetch(&fi->count[op], 1, __ATOMIC_SEQ_CST);
    if (fi->hook) fi->hook(fi->hook_ctx, op, n);
    if (fi->nth == 0 || op != fi->op) return 0;
    if (n == fi->nth || (fi->persist && n > fi->nth)) {
        __atomic_store_n(&fi->fired, 1, __ATOMIC_SEQ_CST);
        return fi->err;
    }
    return 0;
}

static int wrap(const maif_io *io, maif_io_file *inner, maif_io_file **out)
{
    ffile *f = maif_calloc(1, sizeof *f);
    if (!f) {
        FI(io)->inner->close(inner);
        return ENOMEM;
    }
    f->base.io = io;
    f->inner = inner;
    *out = &f->base;
    return 0;
}

static int f_open(const maif_io *io, const char *path, int mode, maif_io_file **out)
{
    *out = NULL;
    int e = tick(FI(io), MAIF_IO_OP_OPEN);
    if (e) return e;
    maif_io_file *in = NULL;
    if ((e = FI(io)->inner->open(FI(io)->inner, path, mode, &in))) return e;
    return wrap(io, in, out);
}

static int f_open_temp(const maif_io *io, const char *target, maif_io_file **out)
{
    *out = NULL;
    int e = tick(FI(io), MAIF_IO_OP_OPEN);
    if (e) return e;
    maif_io_file *in = NULL;
    if ((e = FI(io)->inner->open_temp(FI(io)->inner, target, &in))) return e;
    return wrap(io, in, out);
}

static int f_publish(maif_io_file *f, const char *target, int overwrite)
{
    int e = tick(FI(f->io), MAIF_IO_OP_PUBLISH);
    return e ? e : FI(f->io)->inner->publish(INNER(f), target, overwrite);
}

static int f_close(maif_io_file *f)
{
    if (!f) return 0;
    int e = tick(FI(f->io), MAIF_IO_OP_CLOSE);
    int r = FI(f->io)->inner->close(INNER(f));
    maif_free(f);
    return e ? e : r;
}

static int f_read(maif_io_file *f, void *dst, size_t n, uint64_t off)
{
    int e = tick(FI(f->io), MAIF_IO_OP_READ);
    return e ? e : FI(f->io)->inner->read(INNER(f), dst, n, off);
}

static int f_write(maif_io_file *f, const void *src, size_t n, uint64_t off)
{
    int e = tick(FI(f->io), MAIF_IO_OP_WRITE);
    return e ? e : FI(f->io)->inner->write(INNER(f), src, n, off);
}

static int f_sync(maif_io_file *f, int level)
{
    int e = tick(FI(f->io), MAIF_IO_OP_SYNC);
    return e ? e : FI(f->io)->inner->sync(INNER(f), level);
}

static int f_truncate(maif_io_file *f, uint64_t size)
{
    int e = tick(FI(f->io), MAIF_IO_OP_TRUNCATE);
    return e ? e : FI(f->io)->inner->truncate(INNER(f), size);
}

static int f_lock(maif_io_file *f, int on)
{
    int e = tick(FI(f->io), MAIF_IO_OP_LOCK);
    return e ? e : FI(f->io)->inner->lock(INNER(f), on);
}

static int f_map(maif_io_file *f, uint64_t size, unsigned flags, const void **out)
{
    *out = NULL;
    int e = tick(FI(f->io), MAIF_IO_OP_MAP);
    return e ? e : FI(f->io)->inner->map(INNER(f), size, flags, out);
}

static int f_unmap(const maif_io *io, const void *p, uint64_t size)
{
    return FI(io)->inner->unmap(FI(io)->inner, p, size); /* never fails on purpose: it must release */
}

static int f_size(maif_io_file *f, uint64_t *size, uint64_t *allocated)
{
    int e = tick(FI(f->io), MAIF_IO_OP_SIZE);
    return e ? e : FI(f->io)->inner->size(INNER(f), size, allocated);
}

static int f_allocate(maif_io_file *f, uint64_t off, uint64_t len)
{
    int e = tick(FI(f->io), MAIF_IO_OP_ALLOCATE);
    return e ? e : FI(f->io)->inner->allocate(INNER(f), off, len);
}

static int f_sync_dir(const maif_io *io, const char *path)
{
    int e = tick(FI(io), MAIF_IO_OP_SYNC);
    return e ? e : FI(io)->inner->sync_dir(FI(io)->inner, path);
}

static int f_punch(maif_io_file *f, uint64_t off, uint64_t len)
{
    int e = tick(FI(f->io), MAIF_IO_OP_WRITE);
    const maif_io *in = FI(f->io)->inner;
    return e ? e : in->punch ? in->punch(INNER(f), off, len) : EOPNOTSUPP;
}

/* A hint with no failure to inject: forwarded as is. */
static int f_writeback(maif_io_file *f, uint64_t off, uint64_t len)
{
    const maif_io *in = FI(f->io)->inner;
    return in->writeback ? in->writeback(INNER(f), off, len) : 0;
}

static void f_release(const maif_io *io, const void *p, uint64_t n)
{
    const maif_io *in = FI(io)->inner;
    if (in->release) in->release(in, p, n);
}

int maif_io_fault_new(maif_io_fault **out, const maif_io *inner)
{
    maif_io_fault *fi = maif_calloc(1, sizeof *fi);
    *out = fi;
    if (!fi) return MAIF_ENOMEM;
    fi->methods = (maif_io){
        .name = "fault",
        .open = f_open,
        .open_temp = f_open_temp,
        .publish = f_publish,
        .close = f_close,
        .read = f_read,
        .write = f_write,
        .sync = f_sync,
        .truncate = f_truncate,
        .lock = f_lock,
        .map = f_map,
        .unmap = f_unmap,
        .size = f_size,
        .allocate = f_allocate,
        .sync_dir = f_sync_dir,
        .punch = f_punch,
        .writeback = f_writeback,
        .release = f_release,
    };
    fi->inner = inner ? inner : &maif_io_posix;
    return MAIF_OK;
}

void maif_io_fault_free(maif_io_fault *fi) { maif_free(fi); }

const maif_io *maif_io_fault_io(maif_io_fault *fi) { return &fi->methods; }

void maif_io_fault_arm(maif_io_fault *fi, int op, uint64_t nth, int err, int persist)
{
    for (int i = 0; i < MAIF_IO_OP_COUNT; i++) __atomic_store_n(&fi->count[i], 0, __ATOMIC_SEQ_CST);
    fi->op = op;
    fi->nth = (op >= 0 && op < MAIF_IO_OP_COUNT) ? nth : 0;
    fi->err = err ? err : EIO;
    fi->persist = persist;
    __atomic_store_n(&fi->fired, 0, __ATOMIC_SEQ_CST);
}

uint64_t maif_io_fault_count(const maif_io_fault *fi, int op)
{
    if (op < 0 || op >= MAIF_IO_OP_COUNT) return 0;
    return __atomic_load_n(&fi->count[op], __ATOMIC_SEQ_CST);
}

int maif_io_fault_fired(const maif_io_fault *fi) { return __atomic_load_n(&fi->fired, __ATOMIC_SEQ_CST); }

void maif_io_fault_hook(maif_io_fault *fi, void (*hook)(void *ctx, int op, uint64_t n), void *ctx)
{
    fi->hook = hook;
    fi->hook_ctx = ctx;
}
