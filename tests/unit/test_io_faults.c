/*
 * test_io_faults.c — the I/O methods (src/io) and what the writer does when
 * they fail.
 *
 *   - the POSIX methods: whole-range reads and writes, ENODATA past the
 *     end, the exclusive lock, maps, sizes (a FIFO is refused without
 *     blocking), unnamed temporary files that leave nothing unless
 *     published, publish with and without overwrite;
 *   - the fault wrapper: counts per kind, fails the Nth call once or for
 *     good, calls its hook;
 *   - the fault-injection sweep: one commit of a mixed batch (small
 *     payloads, 300 KiB and 1.5 MiB ones, copied and borrowed, metadata, a
 *     supersedes link) after a rolled-back batch, on top of an artifact
 *     with two committed batches; for every N, the Nth write fails (then
 *     the Nth sync, map, truncate, allocate): every call returns a clean
 *     code, close returns, the file is back at its committed size, it
 *     reopens for reading and writing, verifies, keeps both earlier
 *     batches, and holds the new batch whole or not at all;
 *   - a convert, or a writer create, killed (SIGKILL) while it writes
 *     leaves no file behind in the output directory; a convert whose Nth
 *     write, sync, open, map or publish fails leaves the old output alone.
 */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "io/io.h"

/* tu_teardown, after putting the default I/O methods back. */
static int teardown(void **state)
{
    maif_io_set_default(NULL);
    maif_io_posix_use_tmpfile(1);
    return tu_teardown(state);
}

/* Names in dir other than . and .., comma-separated into out. */
static int dir_entries(const char *dir, char *out, size_t cap)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    out[0] = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        n++;
        strncat(out, e->d_name, cap - strlen(out) - 2);
        strncat(out, ",", cap - strlen(out) - 1);
    }
    closedir(d);
    return n;
}

/* ------------------------------------------------------------ posix */

static void test_posix_basics(void **state)
{
    tu_fixture *f = *state;
    const maif_io *io = &maif_io_posix;
    maif_io_file *h = NULL;
    char *missing = tu_path(f->dir, "missing");
    assert_int_equal(io->open(io, missing, MAIF_IO_RDONLY, &h), ENOENT);
    assert_null(h);
    assert_int_equal(maif_io_code(ENOENT), MAIF_ENOTFOUND);
    assert_int_equal(maif_io_code(ENOSPC), MAIF_EIO);
    assert_int_equal(maif_io_code(ENOMEM), MAIF_ENOMEM);

    /* an unpublished temporary file leaves nothing */
    char *target = tu_path(f->dir, "t.bin");
    assert_int_equal(io->open_temp(io, target, &h), 0);
    assert_int_equal(io->write(h, "hello world", 11, 0), 0);
    char names[512];
    int n = dir_entries(f->dir, names, sizeof names);
    assert_true(n == 0 || (n == 1 && strstr(names, "t.bin.tmp"))); /* named only without O_TMPFILE */
    assert_int_equal(io->close(h), 0);
    assert_int_equal(dir_entries(f->dir, names, sizeof names), 0);

    /* write, read, size, truncate, allocate, sync, publish */
    assert_int_equal(io->open_temp(io, target, &h), 0);
    assert_int_equal(io->lock(h, 1), 0);
    assert_int_equal(io->write(h, "0123456789", 10, 0), 0);
    assert_int_equal(io->write(h, "AB", 2, 20), 0); /* a hole between */
    uint64_t sz = 0, alloc = 0;
    assert_int_equal(io->size(h, &sz, &alloc), 0);
    assert_int_equal(sz, 22);
    char buf[32];
    assert_int_equal(io->read(h, buf, 4, 6), 0);
    assert_memory_equal(buf, "6789", 4);
    assert_int_equal(io->read(h, buf, 2, 10), 0);
    assert_memory_equal(buf, "\0\0", 2);
    assert_int_equal(io->read(h, buf, 10, 15), ENODATA); /* past the end */
    assert_int_equal(io->truncate(h, 12), 0);
    assert_int_equal(io->size(h, &sz, NULL), 0);
    assert_int_equal(sz, 12);
    int a = io->allocate(h, 12, 1 << 16);
    assert_true(a == 0 || a == EOPNOTSUPP);
    assert_int_equal(io->size(h, &sz, NULL), 0);
    assert_int_equal(sz, 12); /* KEEP_SIZE */
    assert_int_equal(io->sync(h, MAIF_IO_SYNC_DATA), 0);
    assert_int_equal(io->sync(h, MAIF_IO_SYNC_FULL), 0);
    assert_int_equal(io->publish(h, target, 0), 0);
    assert_int_equal(io->sync_dir(io, target), 0);
    assert_int_equal(io->close(h), 0);
    assert_int_equal(tu_file_size(target), 12);

    /* publish without overwrite refuses an existing name; with it, replaces */
    assert_int_equal(io->open_temp(io, target, &h), 0);
    assert_int_equal(io->write(h, "new", 3, 0), 0);
    assert_int_equal(io->publish(h, target, 0), EEXIST);
    assert_int_equal(io->publish(h, target, 1), 0);
    assert_int_equal(io->close(h), 0);
    assert_int_equal(tu_file_size(target), 3);
    assert_int_equal(dir_entries(f->dir, names, sizeof names), 1);

    /* the lock is exclusive between two opens */
    maif_io_file *h1 = NULL, *h2 = NULL;
    assert_int_equal(io->open(io, target, MAIF_IO_RDWR, &h1), 0);
    assert_int_equal(io->open(io, target, MAIF_IO_RDONLY, &h2), 0);
    assert_int_equal(io->lock(h1, 1), 0);
    assert_int_equal(io->lock(h2, 1), EWOULDBLOCK);
    assert_int_equal(io->lock(h1, 0), 0);
    assert_int_equal(io->lock(h2, 1), 0);
    /* a map stays valid after close */
    const void *m = NULL;
    assert_int_equal(io->map(h1, 3, 0, &m), 0);
    assert_int_equal(io->close(h1), 0);
    assert_int_equal(io->close(h2), 0);
    assert_memory_equal(m, "new", 3);
    assert_int_equal(io->unmap(io, m, 3), 0);
    assert_int_equal(io->close(NULL), 0);

    /* the whole-file helper, on a file, an empty file, a FIFO and a directory */
    maif_io_mapped mp;
    char err[256];
    assert_int_equal(maif_io_map_file(NULL, target, MAIF_IO_MAP_SEQUENTIAL, &mp, err, sizeof err), MAIF_OK);
    assert_int_equal(mp.size, 3);
    assert_memory_equal(mp.base, "new", 3);
    maif_io_unmap_file(&mp);
    assert_null(mp.base);
    char *empty = tu_path(f->dir, "empty");
    assert_int_equal(tu_write(empty, "", 0), 0);
    assert_int_equal(maif_io_map_file(NULL, empty, 0, &mp, err, sizeof err), MAIF_OK);
    assert_int_equal(mp.size, 0);
    maif_io_unmap_file(&mp);
    char *fifo = tu_path(f->dir, "fifo");
    assert_int_equal(mkfifo(fifo, 0600), 0);
    assert_int_equal(maif_io_map_file(NULL, fifo, 0, &mp, err, sizeof err), MAIF_EIO);
    assert_non_null(strstr(err, "not a regular file"));
    assert_int_equal(maif_io_map_file(NULL, f->dir, 0, &mp, err, sizeof err), MAIF_EIO);
    assert_int_equal(maif_io_map_file(NULL, missing, 0, &mp, err, sizeof err), MAIF_ENOTFOUND);
    assert_non_null(strstr(err, "missing"));
    free(fifo);
    free(empty);
    free(target);
    free(missing);
}

/* Without O_TMPFILE: a named temporary file beside the target, removed
 * unless published; writers and conversions still leave only their output. */
static void test_posix_named_fallback(void **state)
{
    tu_fixture *f = *state;
    const maif_io *io = &maif_io_posix;
    maif_io_posix_use_tmpfile(0);
    char *target = tu_path(f->dir, "t.bin");
    char names[512];
    maif_io_file *h = NULL;
    assert_int_equal(io->open_temp(io, target, &h), 0);
    assert_int_equal(dir_entries(f->dir, names, sizeof names), 1);
    assert_non_null(strstr(names, "t.bin.tmp"));
    assert_int_equal(io->write(h, "abc", 3, 0), 0);
    assert_int_equal(io->close(h), 0);
    assert_int_equal(dir_entries(f->dir, names, sizeof names), 0);
    for (int overwrite = 0; overwrite < 2; overwrite++) {
        assert_int_equal(io->open_temp(io, target, &h), 0);
        assert_int_equal(io->write(h, "abcd", 4 - (size_t)overwrite, 0), 0);
        if (overwrite == 0) {
            assert_int_equal(io->publish(h, target, 0), 0);
        } else {
            assert_int_equal(io->publish(h, target, 0), EEXIST);
            assert_int_equal(io->publish(h, target, 1), 0);
        }
        assert_int_equal(io->close(h), 0);
        assert_int_equal(dir_entries(f->dir, names, sizeof names), 1);
        assert_string_equal(names, "t.bin,");
        assert_int_equal(tu_file_size(target), 4 - (uint64_t)overwrite);
    }
    unlink(target);
    /* a writer and a conversion through the fallback */
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->key, "named", NULL), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    assert_int_equal(maif_writer_create(&w, f->path, f->key, "named", NULL), MAIF_EEXIST);
    char *out = tu_path(f->dir, "o.maif");
    assert_int_equal(maif_convert(f->path, out, MAIF_FORMAT_V21, f->key, NULL, NULL), MAIF_OK);
    assert_int_equal(maif_convert(out, f->path, MAIF_FORMAT_NATIVE, f->key, NULL, NULL), MAIF_OK);
    assert_int_equal(dir_entries(f->dir, names, sizeof names), 2);
    maif_io_posix_use_tmpfile(1);
    free(out);
    free(target);
}

/* ------------------------------------------------------------ fault layer */

typedef struct hook_log {
    int op;
    uint64_t n, calls;
} hook_log;

static void log_hook(void *ctx, int op, uint64_t n)
{
    hook_log *l = ctx;
    l->op = op;
    l->n = n;
    l->calls++;
}

static void test_fault_layer(void **state)
{
    tu_fixture *f = *state;
    maif_io_fault *fi = NULL;
    assert_int_equal(maif_io_fault_new(&fi, NULL), MAIF_OK);
    const maif_io *io = maif_io_fault_io(fi);
    hook_log log = {0};
    maif_io_fault_hook(fi, log_hook, &log);
    char *target = tu_path(f->dir, "x.bin");
    maif_io_file *h = NULL;

    /* the 2nd write fails once with ENOSPC */
    maif_io_fault_arm(fi, MAIF_IO_OP_WRITE, 2, ENOSPC, 0);
    assert_int_equal(io->open_temp(io, target, &h), 0);
    assert_ptr_equal(h->io, io);
    assert_int_equal(io->write(h, "a", 1, 0), 0);
    assert_false(maif_io_fault_fired(fi));
    assert_int_equal(io->write(h, "b", 1, 1), ENOSPC);
    assert_true(maif_io_fault_fired(fi));
    assert_int_equal(io->write(h, "c", 1, 1), 0);
    assert_int_equal(maif_io_fault_count(fi, MAIF_IO_OP_WRITE), 3);
    assert_int_equal(maif_io_fault_count(fi, MAIF_IO_OP_OPEN), 1);
    assert_int_equal(log.op, MAIF_IO_OP_WRITE);
    assert_int_equal(log.n, 3);
    assert_int_equal(log.calls, 4);

    /* persistent: every sync from the 1st on */
    maif_io_fault_arm(fi, MAIF_IO_OP_SYNC, 1, EIO, 1);
    assert_int_equal(io->sync(h, MAIF_IO_SYNC_DATA), EIO);
    assert_int_equal(io->sync(h, MAIF_IO_SYNC_FULL), EIO);
    assert_int_equal(io->sync_dir(io, target), EIO);
    assert_int_equal(maif_io_fault_count(fi, MAIF_IO_OP_SYNC), 3);
    assert_int_equal(maif_io_fault_count(fi, MAIF_IO_OP_WRITE), 0); /* arm reset the counters */

    /* each kind reaches the inner methods when not failed */
    maif_io_fault_arm(fi, MAIF_IO_OP_SYNC, 0, 0, 0);
    uint64_t sz = 0;
    assert_int_equal(io->size(h, &sz, NULL), 0);
    assert_int_equal(sz, 2);
    char c = 0;
    assert_int_equal(io->read(h, &c, 1, 1), 0);
    assert_int_equal(c, 'c');
    assert_int_equal(io->truncate(h, 1), 0);
    assert_int_equal(io->lock(h, 1), 0);
    const void *m = NULL;
    assert_int_equal(io->map(h, 1, 0, &m), 0);
    assert_memory_equal(m, "a", 1);
    assert_int_equal(io->unmap(io, m, 1), 0);
    assert_int_equal(io->publish(h, target, 0), 0);

    /* map, truncate, allocate, open, publish and close fail on demand */
    maif_io_fault_arm(fi, MAIF_IO_OP_MAP, 1, ENOMEM, 0);
    assert_int_equal(io->map(h, 1, 0, &m), ENOMEM);
    assert_null(m);
    maif_io_fault_arm(fi, MAIF_IO_OP_TRUNCATE, 1, EIO, 0);
    assert_int_equal(io->truncate(h, 0), EIO);
    assert_int_equal(io->size(h, &sz, NULL), 0);
    assert_int_equal(sz, 1); /* the failed call did not reach the file */
    maif_io_fault_arm(fi, MAIF_IO_OP_ALLOCATE, 1, ENOSPC, 0);
    assert_int_equal(io->allocate(h, 0, 4096), ENOSPC);
    maif_io_fault_arm(fi, MAIF_IO_OP_CLOSE, 1, EIO, 0);
    assert_int_equal(io->close(h), EIO); /* and still freed: LeakSanitizer checks */
    maif_io_fault_arm(fi, MAIF_IO_OP_OPEN, 1, EACCES, 0);
    h = NULL;
    assert_int_equal(io->open(io, target, MAIF_IO_RDONLY, &h), EACCES);
    assert_null(h);
    assert_int_equal(io->open(io, target, MAIF_IO_RDONLY, &h), 0);
    assert_int_equal(io->close(h), 0);
    maif_io_fault_arm(fi, MAIF_IO_OP_PUBLISH, 1, EIO, 0);
    char *other = tu_path(f->dir, "y.bin");
    assert_int_equal(io->open_temp(io, other, &h), 0);
    assert_int_equal(io->publish(h, other, 0), EIO);
    assert_int_equal(io->close(h), 0);
    assert_int_equal(access(other, F_OK), -1); /* never published: gone */

    /* installed library-wide, the reader goes through it */
    maif_io_set_default(io);
    assert_ptr_equal(maif_io_default(), io);
    maif_io_fault_arm(fi, MAIF_IO_OP_MAP, 1, EIO, 0);
    maif_reader *r = NULL;
    /* the message is maif_last_errmsg() */
    assert_int_equal(maif_reader_open(&r, target), MAIF_EIO);
    assert_null(r);
    assert_non_null(strstr(maif_last_errmsg(), "mmap"));
    maif_io_set_default(NULL);
    assert_ptr_equal(maif_io_default(), &maif_io_posix);
    maif_io_fault_free(fi);
    free(other);
    free(target);
}

/* ------------------------------------------------------------ the sweep */

#define SMALL_N 3 /* with the 4 large and last ones, a batch of 7: index size class 0 */
#define MID_SIZE (300u << 10)
#define BIG_SIZE (1536u << 10)

typedef struct sweep {
    tu_fixture *f;
    uint8_t *base;       /* the artifact with two committed batches */
    size_t base_len;
    uint64_t base_blocks;
    uint8_t first_id[MAIF_ID_BYTES]; /* a block of the first batch; the new batch supersedes it */
    uint8_t *mid, *big;  /* payloads (compressible) */
    maif_io_fault *fi;
    int mode;            /* SWEEP_*: how the workload appends its batch */
} sweep;

/* The batch goes in through maif_writer_add / _borrowed and a commit; or,
 * compressed with zstd on two workers, as one maif_writer_commit_batch;
 * or, compressed, block by block through maif_writer_add_async (each its
 * own commit, so a failure leaves a prefix of the blocks). */
enum { SWEEP_PLAIN, SWEEP_GROUP, SWEEP_ASYNC };

static void add_one(maif_writer *w, int borrowed, uint32_t type, const void *p, size_t n, const char *meta,
                    const uint8_t *supersedes, uint8_t id[MAIF_ID_BYTES], int *rc)
{
    if (*rc != MAIF_OK) return;
    maif_block_spec s = {.type = type, .payload = p, .payload_size = n, .meta_json = meta,
                         .meta_size = meta ? strlen(meta) : 0, .supersedes = supersedes};
    *rc = (borrowed ? maif_writer_add_borrowed : maif_writer_add)(w, &s, id);
}

static void sweep_prepare(sweep *s, tu_fixture *f)
{
    memset(s, 0, sizeof *s);
    s->f = f;
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->key, "sweep", NULL), MAIF_OK);
    int rc = MAIF_OK;
    add_one(w, 0, MAIF_TYPE_TEXT, "first batch, block 0", 20, "{\"b\":1}", NULL, s->first_id, &rc);
    add_one(w, 1, MAIF_TYPE_TEXT, "first batch, block 1", 20, NULL, NULL, NULL, &rc);
    assert_int_equal(rc, MAIF_OK);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    add_one(w, 0, MAIF_TYPE_JSON, "{\"second\":true}", 15, "{\"b\":2}", NULL, NULL, &rc);
    assert_int_equal(rc, MAIF_OK);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    /* five more one-block commits, in a later session: seven small index
     * segments, so the sweep's commit merges them into a directory (and
     * reads the committed index back) */
    assert_int_equal(maif_writer_open(&w, f->path, f->key, NULL), MAIF_OK);
    for (int i = 0; i < 5; i++) {
        add_one(w, 0, MAIF_TYPE_TEXT, "filler", 6, NULL, NULL, NULL, &rc);
        assert_int_equal(rc, MAIF_OK);
        assert_int_equal(maif_writer_commit(w), MAIF_OK);
    }
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    s->base = tu_read(f->path, &s->base_len);
    assert_non_null(s->base);
    s->base_blocks = 8;
    s->mid = malloc(MID_SIZE);
    s->big = malloc(BIG_SIZE);
    assert_non_null(s->mid);
    assert_non_null(s->big);
    tu_xorshift_fill(s->mid, MID_SIZE, 1);
    tu_xorshift_fill(s->big, BIG_SIZE, 2);
    /* a 4 KiB random phrase repeated: the codec modes store them compressed */
    for (size_t i = 4096; i < MID_SIZE; i++) s->mid[i] = s->mid[i % 4096];
    for (size_t i = 4096; i < BIG_SIZE; i++) s->big[i] = s->big[i % 4096];
    assert_int_equal(maif_io_fault_new(&s->fi, NULL), MAIF_OK);
}

static void sweep_free(sweep *s)
{
    maif_io_set_default(NULL);
    maif_io_fault_free(s->fi);
    free(s->base);
    free(s->mid);
    free(s->big);
}

#define NEW_BLOCKS (SMALL_N + 4)

static void async_done(void *ctx, int rc, const uint8_t *id)
{
    (void)id;
    int *ok = ctx;
    if (rc == MAIF_OK) (*ok)++; /* callbacks come in commit order: the committed prefix */
}

/* The batch of the codec modes: as one group commit or as async appends.
 * Returns the number of its blocks committed. */
static uint64_t workload_coded(sweep *s, maif_writer *w)
{
    static char p[SMALL_N][40], meta[SMALL_N][64];
    maif_block_spec sp[NEW_BLOCKS];
    for (int i = 0; i < SMALL_N; i++) {
        snprintf(meta[i], sizeof meta[i], "{\"i\":%d,\"kind\":\"small\"}", i);
        int n = snprintf(p[i], sizeof p[i], "small payload %d", i);
        sp[i] = (maif_block_spec){.type = MAIF_TYPE_TEXT, .payload = p[i], .payload_size = (size_t)n,
                                  .meta_json = meta[i], .meta_size = strlen(meta[i]),
                                  .supersedes = i == 0 ? s->first_id : NULL};
    }
    sp[SMALL_N] = (maif_block_spec){.type = MAIF_TYPE_IMAGE, .payload = s->mid, .payload_size = MID_SIZE,
                                    .meta_json = "{\"size\":\"300k\"}", .meta_size = 15};
    sp[SMALL_N + 1] = (maif_block_spec){.type = MAIF_TYPE_VIDEO, .payload = s->big, .payload_size = BIG_SIZE,
                                        .meta_json = "{\"size\":\"1.5m\"}", .meta_size = 15};
    sp[SMALL_N + 2] = (maif_block_spec){.type = MAIF_TYPE_AUDIO, .payload = s->mid, .payload_size = MID_SIZE};
    sp[SMALL_N + 3] = (maif_block_spec){.type = MAIF_TYPE_TEXT, .payload = "last", .payload_size = 4,
                                        .meta_json = "{\"last\":1}", .meta_size = 10};
    if (s->mode == SWEEP_GROUP) {
        int rc = maif_writer_commit_batch(w, sp, NEW_BLOCKS, NULL);
        assert_true(rc == MAIF_OK || rc == MAIF_EIO || rc == MAIF_ESTATE || rc == MAIF_ENOMEM);
        return rc == MAIF_OK ? NEW_BLOCKS : 0;
    }
    int ok = 0, rc = MAIF_OK;
    for (int i = 0; i < NEW_BLOCKS; i++) {
        assert_int_equal(maif_writer_add_async(w, &sp[i], async_done, &ok), MAIF_OK);
        { /* one commit each, so the count of I/O calls is the same every run */
            int frc = maif_writer_flush(w);
            if (rc == MAIF_OK) rc = frc;
        }
    }
    int frc = maif_writer_flush(w);
    if (rc == MAIF_OK) rc = frc;
    assert_true(rc == MAIF_OK || rc == MAIF_EIO || rc == MAIF_ESTATE || rc == MAIF_ENOMEM);
    assert_true(rc != MAIF_OK || ok == NEW_BLOCKS);
    return (uint64_t)ok;
}

/* The workload under test: open, a batch added then rolled back, the mixed
 * batch, commit, close. Returns the number of the batch's blocks
 * committed (all or none but in SWEEP_ASYNC). */
static uint64_t workload(sweep *s, unsigned flags)
{
    maif_writer *w = NULL;
    maif_options *o = NULL;
    assert_int_equal(maif_options_create(&o), MAIF_OK);
    assert_int_equal(maif_options_set(o, MAIF_OPT_DURABLE, flags ? 1 : 0), MAIF_OK);
    if (s->mode != SWEEP_PLAIN) {
        assert_int_equal(maif_options_set(o, MAIF_OPT_CODEC, MAIF_CODEC_ZSTD), MAIF_OK);
        assert_int_equal(maif_options_set(o, MAIF_OPT_WORKERS, 2), MAIF_OK);
    }
    int rc = maif_writer_open(&w, s->f->path, s->f->key, o);
    maif_options_free(o);
    if (rc != MAIF_OK) {
        assert_true(rc == MAIF_EIO || rc == MAIF_ENOMEM);
        assert_null(w);
        return 0;
    }
    /* rolled back: a large copied payload (its bytes reach the file) and a small one */
    add_one(w, 0, MAIF_TYPE_BINARY, s->mid, MID_SIZE, NULL, NULL, NULL, &rc);
    add_one(w, 0, MAIF_TYPE_TEXT, "discarded", 9, NULL, NULL, NULL, &rc);
    assert_true(rc == MAIF_OK || rc == MAIF_EIO);
    int rb = maif_writer_rollback(w);
    assert_true(rb == MAIF_OK || rb == MAIF_EIO || rb == MAIF_ESTATE);
    if (rc == MAIF_OK) rc = rb;
    if (rc == MAIF_OK) assert_int_equal(maif_writer_count(w), s->base_blocks);
    if (s->mode != SWEEP_PLAIN) {
        uint64_t k = rc == MAIF_OK || rc == MAIF_ESTATE ? workload_coded(s, w) : 0;
        int crc = maif_writer_close(w);
        assert_true(crc == MAIF_OK || crc == MAIF_EIO || crc == MAIF_ESTATE);
        return k;
    }
    rc = MAIF_OK;
    char meta[64], p[SMALL_N][40]; /* borrowed payloads live until the commit */
    for (int i = 0; i < SMALL_N; i++) {
        snprintf(meta, sizeof meta, "{\"i\":%d,\"kind\":\"small\"}", i);
        int n = snprintf(p[i], sizeof p[i], "small payload %d", i);
        add_one(w, i % 2, MAIF_TYPE_TEXT, p[i], (size_t)n, meta, i == 0 ? s->first_id : NULL, NULL, &rc);
    }
    add_one(w, 0, MAIF_TYPE_IMAGE, s->mid, MID_SIZE, "{\"size\":\"300k\"}", NULL, NULL, &rc);
    add_one(w, 1, MAIF_TYPE_VIDEO, s->big, BIG_SIZE, "{\"size\":\"1.5m\"}", NULL, NULL, &rc);
    add_one(w, 1, MAIF_TYPE_AUDIO, s->mid, MID_SIZE, NULL, NULL, NULL, &rc);
    add_one(w, 0, MAIF_TYPE_TEXT, "last", 4, "{\"last\":1}", NULL, NULL, &rc);
    if (rc == MAIF_OK) rc = maif_writer_commit(w);
    if (rc != MAIF_OK) {
        assert_true(rc == MAIF_EIO || rc == MAIF_ESTATE);
        assert_true(maif_writer_errmsg(w)[0] != 0);
        /* a failed writer stays failed until reopened */
        assert_int_equal(maif_writer_commit(w), MAIF_ESTATE);
    }
    int crc = maif_writer_close(w);
    assert_true(crc == MAIF_OK || crc == MAIF_EIO);
    return rc == MAIF_OK ? NEW_BLOCKS : 0;
}

/* Block i of r decodes to exactly want (n bytes). */
static void assert_decodes(maif_reader *r, uint64_t i, const uint8_t *want, size_t n)
{
    uint8_t *got = malloc(n);
    size_t wr = 0;
    assert_non_null(got);
    assert_int_equal(maif_reader_block_decode(r, i, got, n, &wr), MAIF_OK);
    assert_int_equal(wr, n);
    assert_memory_equal(got, want, n);
    free(got);
}

/* After a run: the artifact is intact and holds the first `committed`
 * blocks of the batch: all or none of them but in SWEEP_ASYNC. */
static void sweep_check(sweep *s, uint64_t committed, const char *what, uint64_t nth)
{
    const char *path = s->f->path;
    uint64_t want = s->base_blocks + committed;
    if (s->mode != SWEEP_ASYNC && committed != 0 && committed != NEW_BLOCKS)
        fail_msg("%s #%llu: %llu blocks of a batch committed", what, (unsigned long long)nth,
                 (unsigned long long)committed);
    if (!committed && tu_file_size(path) != s->base_len)
        fail_msg("%s #%llu: failed batch left %llu uncommitted bytes", what, (unsigned long long)nth,
                 (unsigned long long)(tu_file_size(path) - s->base_len));
    maif_reader *r = NULL;
    
    assert_int_equal(maif_reader_open(&r, path), MAIF_OK);
    if (maif_reader_count(r) != want)
        fail_msg("%s #%llu: %llu blocks, want %llu", what, (unsigned long long)nth,
                 (unsigned long long)maif_reader_count(r), (unsigned long long)want);
    /* the earlier batches are byte-identical */
    maif_block b;
    assert_int_equal(maif_reader_block(r, 0, &b), MAIF_OK);
    assert_int_equal(b.payload_size, 20);
    assert_memory_equal(b.payload, "first batch, block 0", 20);
    assert_memory_equal(b.id, s->first_id, MAIF_ID_BYTES);
    assert_int_equal(maif_reader_block(r, 2, &b), MAIF_OK);
    assert_memory_equal(b.payload, "{\"second\":true}", 15);
    uint64_t nb = s->base_blocks;
    if (committed) {
        assert_int_equal(maif_reader_block(r, nb, &b), MAIF_OK);
        assert_true(b.has_supersedes);
        assert_memory_equal(b.supersedes, s->first_id, MAIF_ID_BYTES);
        uint64_t hist[4];
        size_t nh = 0;
        assert_int_equal(maif_reader_history(r, s->first_id, hist, 4, &nh), MAIF_OK);
        assert_int_equal(nh, 2);
    }
    if (committed > SMALL_N) {
        assert_int_equal(maif_reader_block(r, nb + SMALL_N, &b), MAIF_OK);
        assert_int_equal(b.codec, s->mode == SWEEP_PLAIN ? MAIF_CODEC_NONE : MAIF_CODEC_ZSTD);
        if (!b.codec) assert_int_equal(b.payload_size, MID_SIZE);
        assert_decodes(r, nb + SMALL_N, s->mid, MID_SIZE);
    }
    if (committed > SMALL_N + 1) assert_decodes(r, nb + 1 + SMALL_N, s->big, BIG_SIZE);
    if (committed > SMALL_N + 2) assert_decodes(r, nb + 2 + SMALL_N, s->mid, MID_SIZE);
    maif_reader_close(r);
    maif_report *rep = NULL;
    assert_int_equal(maif_verify_file(path, NULL, &rep), MAIF_OK);
    if (!maif_report_ok(rep)) fail_msg("%s #%llu: verification failed", what, (unsigned long long)nth);
    maif_report_free(rep);
    /* and it reopens for writing */
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_open(&w, path, s->f->key, NULL), MAIF_OK);
    assert_int_equal(maif_writer_count(w), want);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
}

/* Fails the Nth call of kind op for every N the workload makes; returns
 * how many calls there were. */
static uint64_t sweep_kind(sweep *s, int op, int err, unsigned flags, const char *what)
{
    /* count first */
    assert_int_equal(tu_write(s->f->path, s->base, s->base_len), 0);
    maif_io_set_default(maif_io_fault_io(s->fi));
    maif_io_fault_arm(s->fi, op, 0, 0, 0);
    uint64_t ok = workload(s, flags);
    uint64_t calls = maif_io_fault_count(s->fi, op);
    maif_io_set_default(NULL);
    assert_int_equal(ok, NEW_BLOCKS);
    sweep_check(s, ok, what, 0);
    uint64_t present = 0;
    for (uint64_t n = 1; n <= calls; n++) {
        assert_int_equal(tu_write(s->f->path, s->base, s->base_len), 0);
        maif_io_set_default(maif_io_fault_io(s->fi));
        maif_io_fault_arm(s->fi, op, n, err, 0);
        ok = workload(s, flags);
        int fired = maif_io_fault_fired(s->fi);
        maif_io_set_default(NULL);
        assert_true(fired);
        present += ok == NEW_BLOCKS;
        sweep_check(s, ok, what, n);
    }
    print_message("%s: %llu calls failed one at a time, %llu of them left the batch committed\n", what,
                  (unsigned long long)calls, (unsigned long long)present);
    return calls;
}

static void test_fault_sweep(void **state)
{
    sweep s;
    sweep_prepare(&s, *state);
    assert_true(sweep_kind(&s, MAIF_IO_OP_WRITE, ENOSPC, 0, "write (ENOSPC)") >= 5);
    assert_true(sweep_kind(&s, MAIF_IO_OP_WRITE, EIO, 1, "write (EIO, durable)") >= 5);
    assert_true(sweep_kind(&s, MAIF_IO_OP_SYNC, EIO, 1, "sync") >= 2);
    assert_true(sweep_kind(&s, MAIF_IO_OP_MAP, EIO, 0, "map") >= 1);
    assert_true(sweep_kind(&s, MAIF_IO_OP_TRUNCATE, EIO, 0, "truncate") >= 1);
    sweep_kind(&s, MAIF_IO_OP_ALLOCATE, ENOSPC, 0, "allocate"); /* none with a single usable CPU */
    assert_true(sweep_kind(&s, MAIF_IO_OP_READ, EIO, 0, "read (index merge)") >= 7);
    assert_true(sweep_kind(&s, MAIF_IO_OP_LOCK, EIO, 0, "lock") >= 1);
    sweep_free(&s);
}

/* The same sweeps over compressed blocks appended by a group commit (the
 * worker pool encodes them) and by asynchronous appends. */
static void test_fault_sweep_coded(void **state)
{
    sweep s;
    sweep_prepare(&s, *state);
    for (int mode = SWEEP_GROUP; mode <= SWEEP_ASYNC; mode++) {
        s.mode = mode;
        const char *m = mode == SWEEP_GROUP ? "group" : "async";
        char what[64];
        snprintf(what, sizeof what, "%s: write (ENOSPC)", m);
        assert_true(sweep_kind(&s, MAIF_IO_OP_WRITE, ENOSPC, 0, what) >= 2);
        snprintf(what, sizeof what, "%s: write (EIO, durable)", m);
        assert_true(sweep_kind(&s, MAIF_IO_OP_WRITE, EIO, 1, what) >= 2);
        snprintf(what, sizeof what, "%s: sync", m);
        assert_true(sweep_kind(&s, MAIF_IO_OP_SYNC, EIO, 1, what) >= 2);
        snprintf(what, sizeof what, "%s: truncate", m);
        sweep_kind(&s, MAIF_IO_OP_TRUNCATE, EIO, 0, what); /* none when the rolled-back batch stayed in the buffer */
        snprintf(what, sizeof what, "%s: read (index merge)", m);
        assert_true(sweep_kind(&s, MAIF_IO_OP_READ, EIO, 0, what) >= 1);
    }
    sweep_free(&s);
}

/* The final fsync of a group commit runs after the next group may have
 * started; when it fails, that group fails, so does every later one, and
 * close cuts the file back to before the failed group. */
static void test_group_final_sync_fails(void **state)
{
    sweep s;
    sweep_prepare(&s, *state);
    assert_int_equal(tu_write(s.f->path, s.base, s.base_len), 0);
    maif_io_set_default(maif_io_fault_io(s.fi));
    maif_io_fault_arm(s.fi, MAIF_IO_OP_SYNC, 2, EIO, 0); /* the second sync: after the commit record */
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_open(&w, s.f->path, s.f->key, tu_flag(MAIF_OPT_DURABLE)), MAIF_OK);
    maif_block_spec sp = {.type = MAIF_TYPE_TEXT, .payload = "lost", .payload_size = 4};
    assert_int_equal(maif_writer_commit_batch(w, &sp, 1, NULL), MAIF_EIO);
    assert_non_null(strstr(maif_last_errmsg(), "fdatasync"));
    assert_int_not_equal(maif_writer_commit_batch(w, &sp, 1, NULL), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK); /* the error was reported; close cuts */
    maif_io_set_default(NULL);
    assert_true(maif_io_fault_fired(s.fi));
    sweep_check(&s, 0, "final group fsync", 2);
    sweep_free(&s);
}

/* ENOSPC from a point on (a full disk): the append fails, and close gives
 * the space of the failed batch back. */
static void test_full_disk_cut_on_close(void **state)
{
    sweep s;
    sweep_prepare(&s, *state);
    for (uint64_t n = 1; n <= 4; n++) {
        assert_int_equal(tu_write(s.f->path, s.base, s.base_len), 0);
        maif_io_set_default(maif_io_fault_io(s.fi));
        maif_io_fault_arm(s.fi, MAIF_IO_OP_WRITE, n, ENOSPC, 1);
        maif_writer *w = NULL;
        assert_int_equal(maif_writer_open(&w, s.f->path, s.f->key, NULL), MAIF_OK);
        int rc = MAIF_OK;
        for (int i = 0; i < 6 && rc == MAIF_OK; i++)
            add_one(w, i % 2, MAIF_TYPE_VIDEO, s.big, BIG_SIZE, NULL, NULL, NULL, &rc);
        if (rc == MAIF_OK) rc = maif_writer_commit(w);
        assert_int_equal(rc, MAIF_EIO);
        assert_non_null(strstr(maif_writer_errmsg(w), strerror(ENOSPC)));
        /* rollback after the failure also cuts, and says the writer is dead */
        assert_int_equal(maif_writer_rollback(w), MAIF_ESTATE);
        assert_int_equal(tu_file_size(s.f->path), s.base_len);
        maif_writer_close(w);
        maif_io_set_default(NULL);
        sweep_check(&s, 0, "persistent ENOSPC", n);
    }
    sweep_free(&s);
}

/* ------------------------------------------------------------ killed mid-way */

static void kill_hook(void *ctx, int op, uint64_t n)
{
    uint64_t at = *(uint64_t *)ctx;
    if (op == MAIF_IO_OP_WRITE && n == at) raise(SIGKILL);
}

/* Runs what in a child that is killed at its at-th write; returns the
 * entries left in dir. */
static int killed_child(const char *dir, uint64_t at, void (*what)(void *), void *arg, char *names, size_t cap)
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        maif_io_fault *fi = NULL;
        if (maif_io_fault_new(&fi, NULL) != MAIF_OK) _exit(3);
        static uint64_t kill_at;
        kill_at = at;
        maif_io_fault_hook(fi, kill_hook, &kill_at);
        maif_io_set_default(maif_io_fault_io(fi));
        what(arg);
        _exit(0); /* not killed: the parent fails the test */
    }
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGKILL) fail_msg("the child was not killed (status %d)", st);
    return dir_entries(dir, names, cap);
}

typedef struct convert_job {
    const char *in, *out;
    int format;
    const maif_key *key;
} convert_job;

static void run_convert(void *arg)
{
    convert_job *j = arg;
    (void)!maif_convert(j->in, j->out, j->format, j->key, NULL, NULL);
}

static void run_create(void *arg)
{
    convert_job *j = arg;
    maif_writer *w = NULL;
    (void)!maif_writer_create(&w, j->out, j->key, "killed", NULL);
}

static void test_killed_writers_leave_nothing(void **state)
{
    tu_fixture *f = *state;
    /* the input: a few blocks, one large, without supersedes (2.1 cannot hold them) */
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->key, "in", NULL), MAIF_OK);
    uint8_t *big = malloc(BIG_SIZE);
    assert_non_null(big);
    tu_xorshift_fill(big, BIG_SIZE, 3);
    int rc = MAIF_OK;
    for (int i = 0; i < 3; i++) add_one(w, 0, MAIF_TYPE_TEXT, "text block", 10, "{\"t\":1}", NULL, NULL, &rc);
    add_one(w, 0, MAIF_TYPE_BINARY, big, BIG_SIZE, NULL, NULL, NULL, &rc);
    assert_int_equal(rc, MAIF_OK);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    free(big);

    char *outdir = tu_path(f->dir, "out");
    assert_int_equal(mkdir(outdir, 0700), 0);
    char *out = tu_path(outdir, "o.maif");
    char names[512];
    convert_job j = {f->path, out, MAIF_FORMAT_NATIVE, f->key};
    for (uint64_t at = 1; at <= 3; at++) {
        j.format = MAIF_FORMAT_NATIVE;
        if (killed_child(outdir, at, run_convert, &j, names, sizeof names) != 0)
            fail_msg("native convert killed at write %llu left: %s", (unsigned long long)at, names);
        j.format = MAIF_FORMAT_V21;
        if (killed_child(outdir, at, run_convert, &j, names, sizeof names) != 0)
            fail_msg("2.1 convert killed at write %llu left: %s", (unsigned long long)at, names);
        if (at == 1 && killed_child(outdir, at, run_create, &j, names, sizeof names) != 0) /* one write */
            fail_msg("create killed at write %llu left: %s", (unsigned long long)at, names);
    }
    /* a convert that is not killed publishes its output, and only that */
    
    assert_int_equal(maif_convert(f->path, out, MAIF_FORMAT_NATIVE, f->key, NULL, NULL), MAIF_OK);
    assert_int_equal(dir_entries(outdir, names, sizeof names), 1);
    assert_string_equal(names, "o.maif,");
    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open(&r, out), MAIF_OK);
    assert_int_equal(maif_reader_count(r), 4);
    maif_reader_close(r);
    /* a failed convert (the output's 2nd write fails) leaves the old output alone */
    uint64_t old_size = tu_file_size(out);
    maif_io_fault *fi = NULL;
    assert_int_equal(maif_io_fault_new(&fi, NULL), MAIF_OK);
    maif_io_set_default(maif_io_fault_io(fi));
    maif_io_fault_arm(fi, MAIF_IO_OP_WRITE, 2, ENOSPC, 0);
    assert_int_equal(maif_convert(f->path, out, MAIF_FORMAT_V21, f->key, NULL, NULL), MAIF_EIO);
    maif_io_fault_arm(fi, MAIF_IO_OP_WRITE, 3, ENOSPC, 0);
    assert_int_equal(maif_convert(f->path, out, MAIF_FORMAT_NATIVE, f->key, NULL, NULL), MAIF_EIO);
    maif_io_set_default(NULL);
    maif_io_fault_free(fi);
    assert_int_equal(dir_entries(outdir, names, sizeof names), 1);
    assert_int_equal(tu_file_size(out), old_size);
    free(out);
    free(outdir);
}

/* Every write, sync, open, map and publish of a conversion (both ways)
 * fails in turn: the conversion reports it, or succeeds only when the
 * failure was harmless (a directory sync); the previous output is left
 * as it was or replaced whole, and nothing else appears. */
static void test_convert_fault_sweep(void **state)
{
    tu_fixture *f = *state;
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->key, "conv", NULL), MAIF_OK);
    uint8_t *mid = malloc(MID_SIZE);
    assert_non_null(mid);
    tu_xorshift_fill(mid, MID_SIZE, 4);
    int rc = MAIF_OK;
    add_one(w, 0, MAIF_TYPE_TEXT, "a text", 6, "{\"m\":1}", NULL, NULL, &rc);
    add_one(w, 1, MAIF_TYPE_BINARY, mid, MID_SIZE, NULL, NULL, NULL, &rc);
    assert_int_equal(rc, MAIF_OK);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    char *outdir = tu_path(f->dir, "out");
    assert_int_equal(mkdir(outdir, 0700), 0);
    char *out = tu_path(outdir, "o.maif");
    maif_io_fault *fi = NULL;
    assert_int_equal(maif_io_fault_new(&fi, NULL), MAIF_OK);
    static const int ops[] = {MAIF_IO_OP_WRITE, MAIF_IO_OP_SYNC, MAIF_IO_OP_OPEN, MAIF_IO_OP_MAP, MAIF_IO_OP_PUBLISH};
    for (int fmt = 0; fmt < 2; fmt++) {
        int to = fmt ? MAIF_FORMAT_V21 : MAIF_FORMAT_NATIVE;
        for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
            /* a previous output to protect, then count the calls */
            assert_int_equal(maif_convert(f->path, out, to, f->key, NULL, NULL), MAIF_OK);
            size_t old_len = 0;
            uint8_t *old = tu_read(out, &old_len);
            assert_non_null(old);
            maif_io_set_default(maif_io_fault_io(fi));
            maif_io_fault_arm(fi, ops[k], 0, 0, 0);
            assert_int_equal(maif_convert(f->path, out, to, f->key, NULL, NULL), MAIF_OK);
            uint64_t calls = maif_io_fault_count(fi, ops[k]);
            maif_io_set_default(NULL);
            assert_true(calls >= 1);
            for (uint64_t n = 1; n <= calls; n++) {
                assert_int_equal(tu_write(out, old, old_len), 0);
                maif_io_set_default(maif_io_fault_io(fi));
                maif_io_fault_arm(fi, ops[k], n, ops[k] == MAIF_IO_OP_WRITE ? ENOSPC : EIO, 0);
                
                rc = maif_convert(f->path, out, to, f->key, NULL, NULL);
                maif_io_set_default(NULL);
                char names[512];
                assert_int_equal(dir_entries(outdir, names, sizeof names), 1);
                size_t len = 0;
                uint8_t *now = tu_read(out, &len);
                assert_non_null(now);
                if (rc != MAIF_OK) {
                    if (rc != MAIF_EIO) fail_msg("op %d call %llu: %d (%s)", ops[k], (unsigned long long)n, rc, maif_last_errmsg());
                    assert_true(maif_last_errmsg()[0] != 0);
                    assert_int_equal(len, old_len);
                    assert_memory_equal(now, old, len);
                } else {
                    assert_int_equal(ops[k], MAIF_IO_OP_SYNC); /* only the directory sync may fail unseen */
                    tu_assert_verifies(out);
                }
                free(now);
            }
            free(old);
        }
    }
    maif_io_fault_free(fi);
    free(mid);
    free(out);
    free(outdir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_posix_basics, tu_setup, teardown),
        cmocka_unit_test_setup_teardown(test_posix_named_fallback, tu_setup, teardown),
        cmocka_unit_test_setup_teardown(test_fault_layer, tu_setup, teardown),
        cmocka_unit_test_setup_teardown(test_fault_sweep, tu_setup, teardown),
        cmocka_unit_test_setup_teardown(test_fault_sweep_coded, tu_setup, teardown),
        cmocka_unit_test_setup_teardown(test_group_final_sync_fails, tu_setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_disk_cut_on_close, tu_setup, teardown),
        cmocka_unit_test_setup_teardown(test_killed_writers_leave_nothing, tu_setup, teardown),
        cmocka_unit_test_setup_teardown(test_convert_fault_sweep, tu_setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
