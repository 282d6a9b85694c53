/*
 * test_concurrency.c — several processes on one artifact: writers that
 * queue for the lock (MAIF_OPT_LOCK_WAIT_MS) instead of failing, and
 * readers that follow a writer with maif_reader_refresh.
 *
 * Every block carries metadata {"b":batch,"j":index,"n":size,"p":process}
 * so the parent can check, from the file alone, that every batch is there
 * once, whole, and not interleaved with another process's blocks (filler
 * blocks with metadata {"f":1} may follow a batch's blocks).
 */
#include "testutil.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NPROC   8
#define NBATCH  25
#define MAXJ    4 /* blocks per batch: 1 + (p + b) % MAXJ */

static unsigned batch_size(unsigned p, unsigned b) { return 1 + (p + b) % MAXJ; }

static int parse_meta(const maif_block *blk, unsigned *p, unsigned *b, unsigned *j, unsigned *n)
{
    char buf[96];
    int used = 0;
    if (!blk->meta || blk->meta_size >= sizeof buf) return -1;
    memcpy(buf, blk->meta, blk->meta_size);
    buf[blk->meta_size] = 0;
    if (sscanf(buf, "{\"b\":%u,\"j\":%u,\"n\":%u,\"p\":%u}%n", b, j, n, p, &used) != 4 ||
        (size_t)used != blk->meta_size)
        return -1;
    return 0;
}

/* Adds batch b of process p to an open writer, without committing. */
static int add_batch(maif_writer *w, unsigned p, unsigned b)
{
    unsigned n = batch_size(p, b);
    for (unsigned j = 0; j < n; j++) {
        char meta[96], text[64];
        snprintf(meta, sizeof meta, "{\"b\":%u,\"j\":%u,\"n\":%u,\"p\":%u}", b, j, n, p);
        snprintf(text, sizeof text, "process %u batch %u block %u", p, b, j);
        maif_block_spec s = {.type = MAIF_TYPE_TEXT, .payload = text, .payload_size = strlen(text),
                             .meta_json = meta, .meta_size = strlen(meta)};
        if (maif_writer_add(w, &s, NULL) != MAIF_OK) return -1;
    }
    return 0;
}

/* Appends batch b of process p to an open writer and commits it. */
static int append_batch(maif_writer *w, unsigned p, unsigned b)
{
    return add_batch(w, p, b) || maif_writer_commit(w) != MAIF_OK ? -1 : 0;
}

/* Checks every block of r: batches whole and contiguous, at most one copy
 * of each; counts the batches seen per process in seen[p] (bitmask of b).
 * Returns the number of whole batches, or -1 on any violation. */
static long check_batches(maif_reader *r, uint64_t first, uint32_t seen[NPROC + 1])
{
    long batches = 0;
    uint64_t count = maif_reader_count(r);
    for (uint64_t i = first; i < count;) {
        maif_block blk;
        unsigned p, b, j, n;
        if (maif_reader_block(r, i, &blk) == MAIF_OK && blk.meta_size == 7 && memcmp(blk.meta, "{\"f\":1}", 7) == 0) {
            i++; /* filler (test_refresh_lock_step) */
            continue;
        }
        if (maif_reader_block(r, i, &blk) != MAIF_OK || parse_meta(&blk, &p, &b, &j, &n) || j != 0 || p > NPROC ||
            b >= 32 || n != batch_size(p, b) || (seen[p] >> b & 1))
            return -1;
        if (i + n > count) return -1; /* a partial batch is visible */
        for (unsigned k = 1; k < n; k++) {
            unsigned p2, b2, j2, n2;
            if (maif_reader_block(r, i + k, &blk) != MAIF_OK || parse_meta(&blk, &p2, &b2, &j2, &n2) || p2 != p ||
                b2 != b || j2 != k || n2 != n)
                return -1;
        }
        seen[p] |= 1u << b;
        batches++;
        i += n;
    }
    return batches;
}

static void wait_children(const pid_t *pids, int n)
{
    for (int i = 0; i < n; i++) {
        int st = 0;
        assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 0);
    }
}

/* ------------------------------------------------------------- writers */

static void test_lock_wait_option(void **state)
{
    tu_fixture *f = *state;
    maif_writer *w = tu_create_one(f->path, f->key, "first", NULL);
    maif_options *opt = NULL;
    assert_int_equal(maif_options_create(&opt), MAIF_OK);
    int64_t v = -1;
    assert_int_equal(maif_options_get(opt, MAIF_OPT_LOCK_WAIT_MS, &v), MAIF_OK);
    assert_int_equal(v, 0);
    assert_int_equal(maif_options_set(opt, MAIF_OPT_LOCK_WAIT_MS, -1), MAIF_EINVAL);
    assert_int_equal(maif_options_set(opt, MAIF_OPT_LOCK_WAIT_MS, 3600001), MAIF_EINVAL);
    /* held by w (flock is per open file, so this process conflicts with itself) */
    maif_writer *w2 = NULL;
    assert_int_equal(maif_writer_open(&w2, f->path, f->key, NULL), MAIF_ELOCKED);
    assert_null(w2);
    assert_non_null(strstr(maif_last_errmsg(), "another writer"));
    assert_int_equal(maif_options_set(opt, MAIF_OPT_LOCK_WAIT_MS, 30), MAIF_OK);
    assert_int_equal(maif_writer_open(&w2, f->path, f->key, opt), MAIF_ELOCKED);
    assert_null(w2);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    /* free now: a waiting open takes it at once */
    assert_int_equal(maif_writer_open(&w2, f->path, f->key, opt), MAIF_OK);
    assert_int_equal(maif_writer_close(w2), MAIF_OK);
    maif_options_free(opt);
}

/* A writer that waits for the lock appends after the holder's commit. */
static void test_waiter_sees_holders_commit(void **state)
{
    tu_fixture *f = *state;
    tu_write_one(f->path, f->key, "first", NULL);
    int go[2];
    assert_int_equal(pipe(go), 0);
    /* fork before the parent opens its writer: a child that inherited the
     * writer's descriptor would share its lock */
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(go[1]);
        char c;
        if (read(go[0], &c, 1) != 1) _exit(2);
        maif_options *opt = NULL;
        maif_writer *cw = NULL;
        if (maif_options_create(&opt) || maif_options_set(opt, MAIF_OPT_LOCK_WAIT_MS, 60000)) _exit(3);
        if (maif_writer_open(&cw, f->path, f->key, opt) != MAIF_OK) _exit(4);
        if (append_batch(cw, 1, 1) || maif_writer_close(cw) != MAIF_OK) _exit(5);
        maif_options_free(opt);
        _exit(0);
    }
    close(go[0]);
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_open(&w, f->path, f->key, NULL), MAIF_OK);
    /* the child starts waiting while the lock is held; it must append
     * after this batch, not over it */
    assert_int_equal(write(go[1], "g", 1), 1);
    close(go[1]);
    assert_int_equal(append_batch(w, 0, 0), 0);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    wait_children(&pid, 1);
    tu_assert_verifies(f->path);
    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    uint32_t seen[NPROC + 1] = {0};
    assert_int_equal(check_batches(r, 1, seen), 2);
    assert_int_equal(seen[0], 1u);
    assert_int_equal(seen[1], 2u);
    maif_block blk;
    unsigned p, b, j, n;
    assert_int_equal(maif_reader_block(r, 1, &blk), MAIF_OK);
    assert_int_equal(parse_meta(&blk, &p, &b, &j, &n), 0);
    assert_int_equal(p, 0); /* the holder's batch comes first */
    maif_reader_close(r);
}

/* NPROC processes each open, append one batch, commit and close, NBATCH
 * times, all on one artifact at once. */
static void test_many_writers(void **state)
{
    tu_fixture *f = *state;
    tu_write_one(f->path, f->key, "first", NULL);
    pid_t pids[NPROC];
    for (unsigned p = 0; p < NPROC; p++) {
        pids[p] = fork();
        assert_true(pids[p] >= 0);
        if (pids[p] == 0) {
            maif_options *opt = NULL;
            if (maif_options_create(&opt) || maif_options_set(opt, MAIF_OPT_LOCK_WAIT_MS, 120000)) _exit(3);
            for (unsigned b = 0; b < NBATCH; b++) {
                maif_writer *w = NULL;
                if (maif_writer_open(&w, f->path, f->key, opt) != MAIF_OK) _exit(4);
                if (append_batch(w, p, b)) _exit(5);
                if (maif_writer_close(w) != MAIF_OK) _exit(6);
            }
            maif_options_free(opt);
            _exit(0);
        }
    }
    wait_children(pids, NPROC);
    uint64_t nblocks = 1;
    for (unsigned p = 0; p < NPROC; p++)
        for (unsigned b = 0; b < NBATCH; b++) nblocks += batch_size(p, b);
    assert_int_equal(tu_assert_verifies_clean(f->path), nblocks);
    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    assert_int_equal(maif_reader_count(r), nblocks);
    maif_info info;
    assert_int_equal(maif_reader_info(r, &info), MAIF_OK);
    /* create's empty first commit, tu_write_one's, then one per batch */
    assert_int_equal(info.commit_count, 2 + NPROC * NBATCH);
    uint32_t seen[NPROC + 1] = {0};
    assert_int_equal(check_batches(r, 1, seen), NPROC * NBATCH);
    for (unsigned p = 0; p < NPROC; p++) assert_int_equal(seen[p], (1u << NBATCH) - 1);
    maif_reader_close(r);
}

/* NPROC processes, each with GTHREADS threads sharing one writer through
 * maif_writer_commit_batch (group commit), in GROUNDS rounds of open, 2
 * batches per thread, close: the processes queue for the lock, the threads
 * of one process share commits; every batch must still be whole, once. */
#define GTHREADS 4
#define GROUNDS  3

typedef struct gjob {
    maif_writer *w;
    unsigned p, t, round;
    int rc;
} gjob;

static void *group_thread(void *arg)
{
    gjob *j = arg;
    for (unsigned k = 0; k < 2 && !j->rc; k++) {
        unsigned b = j->round * 2 * GTHREADS + j->t * 2 + k, n = batch_size(j->p, b);
        maif_block_spec s[MAXJ];
        char meta[MAXJ][96], text[MAXJ][64];
        for (unsigned i = 0; i < n; i++) {
            snprintf(meta[i], sizeof meta[i], "{\"b\":%u,\"j\":%u,\"n\":%u,\"p\":%u}", b, i, n, j->p);
            snprintf(text[i], sizeof text[i], "process %u batch %u block %u", j->p, b, i);
            s[i] = (maif_block_spec){.type = MAIF_TYPE_TEXT, .payload = text[i], .payload_size = strlen(text[i]),
                                     .meta_json = meta[i], .meta_size = strlen(meta[i])};
        }
        j->rc = maif_writer_commit_batch(j->w, s, n, NULL);
    }
    return NULL;
}

static void test_many_writers_grouped(void **state)
{
    tu_fixture *f = *state;
    tu_write_one(f->path, f->key, "first", NULL);
    pid_t pids[NPROC];
    for (unsigned p = 0; p < NPROC; p++) {
        pids[p] = fork();
        assert_true(pids[p] >= 0);
        if (pids[p] == 0) {
            maif_options *opt = NULL;
            if (maif_options_create(&opt) || maif_options_set(opt, MAIF_OPT_LOCK_WAIT_MS, 120000)) _exit(3);
            for (unsigned round = 0; round < GROUNDS; round++) {
                maif_writer *w = NULL;
                if (maif_writer_open(&w, f->path, f->key, opt) != MAIF_OK) _exit(4);
                pthread_t t[GTHREADS];
                gjob jobs[GTHREADS];
                for (unsigned i = 0; i < GTHREADS; i++) {
                    jobs[i] = (gjob){w, p, i, round, 0};
                    if (pthread_create(&t[i], NULL, group_thread, &jobs[i])) _exit(7);
                }
                for (unsigned i = 0; i < GTHREADS; i++) {
                    pthread_join(t[i], NULL);
                    if (jobs[i].rc) _exit(5);
                }
                if (maif_writer_close(w) != MAIF_OK) _exit(6);
            }
            maif_options_free(opt);
            _exit(0);
        }
    }
    wait_children(pids, NPROC);
    unsigned nb = GROUNDS * GTHREADS * 2;
    uint64_t nblocks = 1;
    for (unsigned p = 0; p < NPROC; p++)
        for (unsigned b = 0; b < nb; b++) nblocks += batch_size(p, b);
    assert_int_equal(tu_assert_verifies_clean(f->path), nblocks);
    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    assert_int_equal(maif_reader_count(r), nblocks);
    uint32_t seen[NPROC + 1] = {0};
    assert_int_equal(check_batches(r, 1, seen), NPROC * nb);
    for (unsigned p = 0; p < NPROC; p++) assert_int_equal(seen[p], (1u << nb) - 1);
    maif_reader_close(r);
}

/* ------------------------------------------------------------- readers */

/* Adds n 1 KiB blocks without committing; past 1 MiB the writer writes
 * them out, so the file holds an unfinished batch after its last commit. */
static void add_unfinished(maif_writer *w, unsigned n)
{
    static uint8_t p[1024];
    for (unsigned i = 0; i < n; i++) {
        maif_block_spec s = {.type = MAIF_TYPE_BINARY, .payload = p, .payload_size = sizeof p};
        assert_int_equal(maif_writer_add(w, &s, NULL), MAIF_OK);
    }
}

static long map_count(void)
{
    FILE *fp = fopen("/proc/self/maps", "r");
    if (!fp) return -1;
    long n = 0;
    for (int c; (c = fgetc(fp)) != EOF;) n += c == '\n';
    fclose(fp);
    return n;
}

/* A reader following thousands of commits keeps neither a map nor a
 * parsed view per switch: the map has room to grow and is reused, and old
 * views are freed unless maif_reader_info handed out their strings. */
static void test_refresh_many_switches(void **state)
{
    tu_fixture *f = *state;
    maif_writer *w = tu_create_one(f->path, f->key, "first", NULL);
    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    maif_info info;
    assert_int_equal(maif_reader_info(r, &info), MAIF_OK);
    const char *agent = info.agent; /* must stay valid across the switches */
    char agent_copy[64];
    snprintf(agent_copy, sizeof agent_copy, "%s", agent);
    maif_block first;
    assert_int_equal(maif_reader_block(r, 0, &first), MAIF_OK);
    long maps0 = -1;
    for (unsigned i = 0; i < 3000; i++) {
        char t[32];
        snprintf(t, sizeof t, "switch %u", i);
        maif_block_spec s = {.type = MAIF_TYPE_TEXT, .payload = t, .payload_size = strlen(t)};
        assert_int_equal(maif_writer_add(w, &s, NULL), MAIF_OK);
        assert_int_equal(maif_writer_commit(w), MAIF_OK);
        int changed = 0;
        assert_int_equal(maif_reader_refresh(r, &changed), MAIF_OK);
        assert_int_equal(changed, 1);
        assert_int_equal(maif_reader_count(r), 2 + i);
        if (i == 10) maps0 = map_count();
    }
    long maps1 = map_count();
    if (maps0 >= 0) assert_true(maps1 - maps0 < 16);
    assert_string_equal(agent, agent_copy);
    assert_int_equal(first.payload_size, 5);
    assert_memory_equal(first.payload, "first", 5);
    maif_block last;
    assert_int_equal(maif_reader_block(r, 3000, &last), MAIF_OK);
    assert_memory_equal(last.payload, "switch 2999", 11);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    maif_reader_close(r);
}

/* A refresh while the writer is mid-batch finds the newest commit before
 * the unfinished bytes by walking only what was appended since its view
 * (no scan of the file): nothing new, then exactly the new commits. */
static void test_refresh_mid_batch(void **state)
{
    tu_fixture *f = *state;
    maif_writer *w = tu_create_one(f->path, f->key, "first", NULL);
    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    uint64_t size0 = tu_file_size(f->path);
    add_unfinished(w, 1500);
    assert_true(tu_file_size(f->path) > size0 + (1u << 20)); /* written out, uncommitted */
    int changed = -1;
    assert_int_equal(maif_reader_refresh(r, &changed), MAIF_OK);
    assert_int_equal(changed, 0);
    assert_int_equal(maif_reader_count(r), 1);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(append_batch(w, 3, 0), 0);
    add_unfinished(w, 1500); /* and mid-batch again */
    assert_int_equal(maif_reader_refresh(r, &changed), MAIF_OK);
    assert_int_equal(changed, 1);
    uint64_t want = 1 + 1500 + batch_size(3, 0);
    assert_int_equal(maif_reader_count(r), want);
    maif_info info;
    assert_int_equal(maif_reader_info(r, &info), MAIF_OK);
    assert_true(info.torn_bytes > (1u << 20));
    maif_block b;
    assert_int_equal(maif_reader_block(r, want - 1, &b), MAIF_OK);
    unsigned p, bb, j, n;
    assert_int_equal(parse_meta(&b, &p, &bb, &j, &n), 0);
    assert_int_equal(p, 3);
    assert_int_equal(maif_writer_rollback(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    assert_int_equal(maif_reader_refresh(r, &changed), MAIF_OK);
    assert_int_equal(changed, 0);
    maif_reader_close(r);
}

#define NFOLLOW 30 /* batches the child appends while the parent follows */

/* The parent loops refresh + a full check while a child appends; what it
 * sees only grows, is always whole batches, and ends at what the child
 * committed. A view taken before the first refresh stays valid. */
static void test_refresh_follows_writer(void **state)
{
    tu_fixture *f = *state;
    tu_write_one(f->path, f->key, "first", NULL);
    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    maif_block first;
    assert_int_equal(maif_reader_block(r, 0, &first), MAIF_OK);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        maif_writer *w = NULL;
        if (maif_writer_open(&w, f->path, f->key, NULL) != MAIF_OK) _exit(4);
        for (unsigned b = 0; b < NFOLLOW; b++) {
            if (append_batch(w, 2, b)) _exit(5);
            struct timespec d = {0, 2000000}; /* let the reader catch some states */
            nanosleep(&d, NULL);
        }
        _exit(maif_writer_close(w) == MAIF_OK ? 0 : 6);
    }
    uint64_t last_count = 1;
    long last_batches = 0;
    unsigned switches = 0;
    int st = 0, done = 0;
    for (;;) {
        if (!done) {
            pid_t got = waitpid(pid, &st, WNOHANG);
            assert_true(got >= 0);
            done = got == pid;
        }
        int changed = -1;
        assert_int_equal(maif_reader_refresh(r, &changed), MAIF_OK);
        assert_true(changed == 0 || changed == 1);
        switches += (unsigned)changed;
        uint64_t count = maif_reader_count(r);
        assert_true(count >= last_count);
        assert_true(changed || count == last_count);
        uint32_t seen[NPROC + 1] = {0};
        long batches = check_batches(r, 1, seen);
        assert_true(batches >= last_batches);
        /* a prefix: batches 0 .. batches-1 of process 2 */
        assert_int_equal(seen[2], batches == 32 ? UINT32_MAX : (1u << batches) - 1);
        last_count = count;
        last_batches = batches;
        if (done) break; /* this last refresh came after the child's exit */
    }
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    assert_int_equal(last_batches, NFOLLOW);
    assert_true(switches >= 1);
    int changed = -1;
    assert_int_equal(maif_reader_refresh(r, &changed), MAIF_OK);
    assert_int_equal(changed, 0);
    /* the view from before every refresh still reads */
    assert_int_equal(first.payload_size, 5);
    assert_memory_equal(first.payload, "first", 5);
    /* ids found after refreshes resolve against the new view */
    maif_block blk;
    uint64_t idx = 0;
    assert_int_equal(maif_reader_block(r, last_count - 1, &blk), MAIF_OK);
    assert_int_equal(maif_reader_find(r, blk.id, &idx), MAIF_OK);
    assert_int_equal(idx, last_count - 1);
    maif_reader_close(r);
    tu_assert_verifies(f->path);
}

/* In lock step with a writer in another process: after each step the
 * child reports (mid-batch, with uncommitted bytes in the file, or just
 * committed), the parent's refresh must show exactly the committed
 * batches. */
static void test_refresh_lock_step(void **state)
{
    tu_fixture *f = *state;
    tu_write_one(f->path, f->key, "first", NULL);
    int up[2], down[2];
    assert_int_equal(pipe(up), 0);
    assert_int_equal(pipe(down), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(up[0]);
        close(down[1]);
        maif_writer *w = NULL;
        char c;
        if (maif_writer_open(&w, f->path, f->key, NULL) != MAIF_OK) _exit(4);
        for (unsigned b = 0; b < 8; b++) {
            if (add_batch(w, 3, b)) _exit(5);
            /* filler until the writer's buffers spill into the file */
            static uint8_t fill[64u << 10];
            maif_block_spec s = {.type = MAIF_TYPE_BINARY, .payload = fill, .payload_size = sizeof fill,
                                 .meta_json = "{\"f\":1}", .meta_size = 7};
            uint64_t size0 = tu_file_size(f->path);
            for (int i = 0; i < 4096 && tu_file_size(f->path) == size0; i++)
                if (maif_writer_add(w, &s, NULL) != MAIF_OK) _exit(5);
            if (write(up[1], "a", 1) != 1 || read(down[0], &c, 1) != 1) _exit(7);
            if (maif_writer_commit(w) != MAIF_OK) _exit(6);
            if (write(up[1], "c", 1) != 1 || read(down[0], &c, 1) != 1) _exit(7);
        }
        _exit(maif_writer_close(w) == MAIF_OK ? 0 : 6);
    }
    close(up[1]);
    close(down[0]);
    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    for (long b = 0; b < 8; b++) {
        for (int step = 0; step < 2; step++) {
            char c = 0;
            assert_int_equal(read(up[0], &c, 1), 1);
            assert_int_equal(c, step ? 'c' : 'a');
            int changed = -1;
            assert_int_equal(maif_reader_refresh(r, &changed), MAIF_OK);
            assert_int_equal(changed, step); /* a batch in progress changes nothing */
            uint32_t seen[NPROC + 1] = {0};
            long want = b + step;
            assert_int_equal(check_batches(r, 1, seen), want);
            assert_int_equal(seen[3], (1u << want) - 1);
            if (step == 0) {
                /* the batch's bytes are in the file: a reader opened now
                 * sees them as an uncommitted tail, and ignores them */
                maif_reader *now = NULL;
                maif_info info;
                assert_int_equal(maif_reader_open(&now, f->path), MAIF_OK);
                assert_int_equal(maif_reader_info(now, &info), MAIF_OK);
                assert_true(info.torn_bytes > 0);
                assert_int_equal(maif_reader_count(now), maif_reader_count(r));
                maif_reader_close(now);
            }
            assert_int_equal(write(down[1], "k", 1), 1);
        }
    }
    close(up[0]);
    close(down[1]);
    wait_children(&pid, 1);
    maif_reader_close(r);
    tu_assert_verifies_clean(f->path);
}

/* A batch being written is invisible to readers opened before or during
 * it, and to refresh, until its commit; a rolled-back one never shows. */
static void test_refresh_ignores_uncommitted(void **state)
{
    tu_fixture *f = *state;
    maif_writer *w = tu_create_one(f->path, f->key, "first", NULL);
    maif_reader *before = NULL, *during = NULL;
    assert_int_equal(maif_reader_open(&before, f->path), MAIF_OK);
    /* add until the writer's buffers spill uncommitted bytes into the file */
    size_t big = 64u << 10;
    uint8_t *p = tu_pattern_new(big, 7);
    maif_block_spec s = {.type = MAIF_TYPE_BINARY, .payload = p, .payload_size = big};
    uint64_t committed = tu_file_size(f->path);
    for (int i = 0; i < 4096 && tu_file_size(f->path) == committed; i++)
        assert_int_equal(maif_writer_add(w, &s, NULL), MAIF_OK);
    assert_true(tu_file_size(f->path) > committed);
    assert_int_equal(maif_reader_open(&during, f->path), MAIF_OK);
    assert_int_equal(maif_reader_count(during), 1);
    int changed = -1;
    assert_int_equal(maif_reader_refresh(before, &changed), MAIF_OK);
    assert_int_equal(changed, 0);
    assert_int_equal(maif_reader_count(before), 1);
    /* rolled back: cut from the file, never seen */
    assert_int_equal(maif_writer_rollback(w), MAIF_OK);
    assert_int_equal(maif_reader_refresh(during, &changed), MAIF_OK);
    assert_int_equal(changed, 0);
    assert_int_equal(maif_reader_count(during), 1);
    /* committed: both readers switch to it */
    assert_int_equal(maif_writer_add(w, &s, NULL), MAIF_OK);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_reader_refresh(before, &changed), MAIF_OK);
    assert_int_equal(changed, 1);
    assert_int_equal(maif_reader_count(before), 2);
    assert_int_equal(maif_reader_refresh(during, NULL), MAIF_OK);
    assert_int_equal(maif_reader_count(during), 2);
    maif_block blk;
    assert_int_equal(maif_reader_block(during, 1, &blk), MAIF_OK);
    assert_int_equal(blk.payload_size, big);
    assert_true(tu_check_pattern(blk.payload, big, 7));
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    free(p);

    /* replaced by another artifact: refused, the view is kept */
    maif_writer *w2 = NULL;
    assert_int_equal(maif_writer_create(&w2, f->path, f->key, NULL, tu_flag(MAIF_OPT_OVERWRITE)), MAIF_OK);
    assert_int_equal(maif_writer_close(w2), MAIF_OK);
    assert_int_equal(maif_reader_refresh(before, &changed), MAIF_EFORMAT);
    assert_int_equal(changed, 0);
    assert_non_null(strstr(maif_last_errmsg(), "replaced"));
    assert_int_equal(maif_reader_count(before), 2);
    assert_int_equal(maif_reader_block(before, 1, &blk), MAIF_OK);
    assert_true(tu_check_pattern(blk.payload, big, 7));
    /* gone: refused, the view is kept */
    size_t n = 0;
    uint8_t *img = tu_read(f->path, &n);
    assert_non_null(img);
    assert_int_equal(unlink(f->path), 0);
    assert_int_equal(maif_reader_refresh(before, &changed), MAIF_ENOTFOUND);
    assert_int_equal(maif_reader_count(before), 2);
    assert_int_equal(maif_reader_block(before, 1, &blk), MAIF_OK);
    assert_true(tu_check_pattern(blk.payload, big, 7));
    maif_reader_close(before);
    maif_reader_close(during);

    /* an in-memory image has no file to follow */
    maif_reader *mem = NULL;
    assert_int_equal(maif_reader_open_mem(&mem, img, n), MAIF_OK);
    assert_int_equal(maif_reader_refresh(mem, &changed), MAIF_EINVAL);
    assert_int_equal(maif_reader_refresh(NULL, NULL), MAIF_EINVAL);
    maif_reader_close(mem);
    free(img);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lock_wait_option, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_waiter_sees_holders_commit, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_many_writers, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_many_writers_grouped, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_refresh_follows_writer, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_refresh_ignores_uncommitted, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_refresh_lock_step, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_refresh_mid_batch, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_refresh_many_switches, tu_setup, tu_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
