/*
 * io.h — how the library touches artifact files; internal.
 *
 * Every access to an artifact goes through a table of methods (maif_io),
 * modelled on SQLite's VFS: the library never calls open/pwrite/mmap on an
 * artifact itself. That gives the tests one place to inject faults
 * (io_fault.c fails the Nth call of a kind with a chosen errno) and leaves
 * room for other back ends: every read and write is an (offset, length)
 * range, never a seek-and-stream, so a store where a sealed segment never
 * changes (object storage) can implement the same table.
 *
 * Conventions:
 *   - every method returns 0 or a positive errno value (EIO, ENOSPC,
 *     ENOENT, ...); it does not rely on the thread's errno, so a method may
 *     be called from the writer's helper threads;
 *   - read and write move the whole range or fail (EINTR and short
 *     transfers are handled inside); a read past the end gives ENODATA;
 *   - a maif_io_file is allocated by its implementation, which extends the
 *     struct (the first member is the base), and freed by close, which
 *     always frees even when it reports an error.
 *
 * The library-wide choice is maif_io_default(); a handle remembers the
 * table its file came from (f->io), so a per-handle choice can be added
 * later by passing another table to the constructors.
 */
#ifndef MAIF_IO_H
#define MAIF_IO_H

#include <stddef.h>
#include <stdint.h>

#include "maif.h"

typedef struct maif_io maif_io;
typedef struct maif_io_file maif_io_file;

/* An open file. Implementations embed it as their first member. */
struct maif_io_file {
    const maif_io *io; /* the table that opened it; its methods apply */
};

/* open modes */
#define MAIF_IO_RDONLY 0 /* read-only; a FIFO or device does not block the open */
#define MAIF_IO_RDWR   1 /* read-write, existing file */

/* sync levels */
#define MAIF_IO_SYNC_DATA 0 /* the data and what is needed to read it back (fdatasync) */
#define MAIF_IO_SYNC_FULL 1 /* data and every attribute (fsync) */

/* map flags */
#define MAIF_IO_MAP_SEQUENTIAL 0x1u /* hint: read once front to back */

struct maif_io {
    const char *name;
    /* Opens path (MAIF_IO_RDONLY or MAIF_IO_RDWR). */
    int (*open)(const maif_io *io, const char *path, int mode, maif_io_file **out);
    /* Creates a new, empty, read-write file in the directory of target,
     * unnamed if the file system allows (O_TMPFILE) so that it vanishes if
     * the process dies, else under a unique temporary name removed by
     * close unless published. Mode 0644 (less the umask). */
    int (*open_temp)(const maif_io *io, const char *target, maif_io_file **out);
    /* Gives a file from open_temp the name target: EEXIST if target exists
     * and overwrite is 0, else target is replaced atomically. */
    int (*publish)(maif_io_file *f, const char *target, int overwrite);
    /* Closes and frees f (also on error). NULL: 0. */
    int (*close)(maif_io_file *f);
    int (*read)(maif_io_file *f, void *dst, size_t n, uint64_t off);
    int (*write)(maif_io_file *f, const void *src, size_t n, uint64_t off);
    int (*sync)(maif_io_file *f, int level);
    int (*truncate)(maif_io_file *f, uint64_t size);
    /* on = 1: exclusive lock, not waiting (EWOULDBLOCK if held elsewhere);
     * on = 0: unlock. */
    int (*lock)(maif_io_file *f, int on);
    /* Maps the first size bytes read-only; size 0 gives a valid empty view.
     * The view stays valid until unmap, even after close. */
    int (*map)(maif_io_file *f, uint64_t size, unsigned flags, const void **out);
    int (*unmap)(const maif_io *io, const void *p, uint64_t size);
    /* Current size, and (allocated may be NULL) bytes the file system has
     * allocated to it. ESPIPE if f is not a regular file (FIFO, device,
     * directory); never blocks. */
    int (*size)(maif_io_file *f, uint64_t *size, uint64_t *allocated);
    /* Reserves [off, off+len) without changing the size; best effort
     * (callers ignore EOPNOTSUPP and the like). */
    int (*allocate)(maif_io_file *f, uint64_t off, uint64_t len);
    /* Makes a new or changed name in the directory of path durable. */
    int (*sync_dir)(const maif_io *io, const char *path);
    /* Deallocates [off, off+len) without changing the size (the range then
     * reads as zeros; FALLOC_FL_PUNCH_HOLE). NULL, or EOPNOTSUPP, where the
     * file system cannot; callers zero the range first either way. */
    int (*punch)(maif_io_file *f, uint64_t off, uint64_t len);
    /* Starts writing [off, off+len) back to storage without waiting for
     * it (Linux sync_file_range SYNC_FILE_RANGE_WRITE), so that a later
     * sync has less left to wait for. A hint: NULL, or any error, changes
     * nothing; durability still comes from sync. */
    int (*writeback)(maif_io_file *f, uint64_t off, uint64_t len);
    /* The whole pages inside [p, p+n) of a view from map are not needed
     * for now (a reader streamed through them): the memory they hold may
     * be given back; touched again they read the same (Linux madvise
     * MADV_DONTNEED of a shared file mapping). A hint: NULL changes
     * nothing. */
    void (*release)(const maif_io *io, const void *p, uint64_t n);
};

/* The POSIX implementation (io_posix.c). */
extern const maif_io maif_io_posix;

/* Tests: 0 makes maif_io_posix's open_temp behave as on a file system
 * without O_TMPFILE (a named temporary file); 1 (the default) undoes it. */
void maif_io_posix_use_tmpfile(int on);

/* The table the library uses; maif_io_posix unless set. */
const maif_io *maif_io_default(void);
/* Sets the library-wide table (NULL: maif_io_posix). Not synchronised:
 * call it while no handle is open (tests do, between cases). */
void maif_io_set_default(const maif_io *io);

/* The MAIF_E* code for an errno from a method: ENOENT -> MAIF_ENOTFOUND,
 * ENOMEM -> MAIF_ENOMEM, EEXIST -> MAIF_EEXIST, anything else MAIF_EIO. */
int maif_io_code(int err);

/* A whole file mapped read-only: the open + size + map that the reader,
 * the verifier and the writer's open share. */
typedef struct maif_io_mapped {
    const maif_io *io;   /* the table that mapped it */
    const uint8_t *base; /* size bytes */
    uint64_t size;
    uint64_t allocated;  /* bytes the file system holds for it */
} maif_io_mapped;

/* Opens path read-only, refuses anything but a regular file, maps it
 * whole and closes it again (the map stays). Returns 0, or a MAIF_E* code with "<path>: <reason>" in err
 * (cap bytes; may be NULL): MAIF_ENOTFOUND, MAIF_EIO, MAIF_ENOMEM. On
 * error *m is zeroed. */
int maif_io_map_file(const maif_io *io, const char *path, unsigned flags, maif_io_mapped *m, char *err,
                     size_t cap);
/* Unmaps; zeroes *m. A zeroed *m is a no-op. */
void maif_io_unmap_file(maif_io_mapped *m);

/* ------------------------------------------------------------ fault layer */

/* Kinds of call the fault layer counts (io_fault.c). */
enum {
    MAIF_IO_OP_OPEN,      /* open and open_temp */
    MAIF_IO_OP_PUBLISH,
    MAIF_IO_OP_CLOSE,
    MAIF_IO_OP_READ,
    MAIF_IO_OP_WRITE,
    MAIF_IO_OP_SYNC,      /* sync and sync_dir */
    MAIF_IO_OP_TRUNCATE,
    MAIF_IO_OP_LOCK,
    MAIF_IO_OP_MAP,
    MAIF_IO_OP_SIZE,
    MAIF_IO_OP_ALLOCATE,
    MAIF_IO_OP_COUNT
};

/* Wraps another implementation and fails chosen calls. */
typedef struct maif_io_fault maif_io_fault;

/* inner NULL: maif_io_posix. Returns MAIF_ENOMEM or 0. */
int maif_io_fault_new(maif_io_fault **out, const maif_io *inner);
void maif_io_fault_free(maif_io_fault *fi);
/* The table to install (maif_io_set_default) or pass on. */
const maif_io *maif_io_fault_io(maif_io_fault *fi);
/* Fails call number nth (1-based, counted from now) of kind op with err;
 * with persist, every later call of that kind fails too. nth 0 disarms.
 * Resets the counters. */
void maif_io_fault_arm(maif_io_fault *fi, int op, uint64_t nth, int err, int persist);
/* Calls of kind op since the last arm. */
uint64_t maif_io_fault_count(const maif_io_fault *fi, int op);
/* 1 once the armed fault has fired. */
int maif_io_fault_fired(const maif_io_fault *fi);
/* Called before every counted call with its kind and number (1-based);
 * a test can kill the process there. NULL: none. */
void maif_io_fault_hook(maif_io_fault *fi, void (*hook)(void *ctx, int op, uint64_t n), void *ctx);

#endif
