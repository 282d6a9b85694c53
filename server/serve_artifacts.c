/*
 * serve_artifacts.c — the artifacts of --dir, each opened once and shared.
 *
 * The open artifacts are a table of reference-counted entries: a request
 * takes a reference with srv_artifact_get and gives it back when it ends,
 * and an entry leaves the table (least recently used first, once over
 * --max-open) only when no request holds it and it has nothing to lose:
 * no writer open, no pending block. It is freed once it is out of the
 * table and its count is 0.
 *
 * An artifact opens its writer at a write (so every append goes through
 * one group-commit queue) and closes it again once it has been idle for
 * --writer-idle, its queue drained and no request on its write path, so
 * other processes (`maif add`) can take the file's lock in between; the
 * next write opens it again and appends after whatever they committed.
 * One reader is shared by every request thread. It follows the writer
 * lazily: every commit bumps a generation counter and the next read
 * refreshes the view under the write side of a rwlock; while the server
 * holds no writer, a read also looks at the file (size, time, inode) for
 * commits of other processes. The policy and the commit table are derived
 * from the view and cached per generation.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "serve.h"

int srv_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > SRV_NAME_MAX) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        int alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (i == 0 ? !alnum : !(alnum || c == '.' || c == '_' || c == '-')) return 0;
    }
    if (n >= 5 && strcmp(name + n - 5, ".maif") == 0) return 0;
    return 1;
}

static char *path_of(const srv_server *s, const char *name)
{
    size_t n = strlen(s->cfg.dir) + strlen(name) + 8;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/%s.maif", s->cfg.dir, name);
    return p;
}

static srv_artifact *artifact_new(srv_server *s, const char *name)
{
    srv_artifact *a = calloc(1, sizeof *a);
    if (!a) return NULL;
    snprintf(a->name, sizeof a->name, "%s", name);
    a->path = path_of(s, name);
    if (!a->path) {
        free(a);
        return NULL;
    }
    pthread_mutex_init(&a->wmu, NULL);
    pthread_mutex_init(&a->pmu, NULL);
    a->wpolicy_state = -1;
    /* writer-preferring: a refresh is not starved by a stream of reads
     * (no thread ever holds two read locks) */
    pthread_rwlockattr_t ra;
    pthread_rwlockattr_init(&ra);
    pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&a->rlock, &ra);
    pthread_rwlockattr_destroy(&ra);
    pthread_mutex_init(&a->cmu, NULL);
    a->pending_tail = &a->pending;
    a->policy_state = -1;
    return a;
}

static void artifact_free(srv_artifact *a)
{
    srv_pending *p = a->pending;
    while (p) {
        srv_pending *n = p->next;
        srv_pending_free(p);
        p = n;
    }
    if (a->w) maif_writer_close(a->w);
    maif_policy_free(a->policy);
    maif_policy_free(a->wpolicy);
    maif_reader_close(a->r);
    free(a->commits);
    pthread_mutex_destroy(&a->wmu);
    pthread_mutex_destroy(&a->pmu);
    pthread_rwlock_destroy(&a->rlock);
    pthread_mutex_destroy(&a->cmu);
    free(a->path);
    free(a);
}

/* Size, modification time and inode of the file at a's path (all 0 when
 * it cannot be looked at). */
static void file_state(const srv_artifact *a, uint64_t *size, int64_t *mtime_ns, uint64_t *ino)
{
    struct stat st;
    if (stat(a->path, &st) != 0) {
        *size = 0;
        *mtime_ns = 0;
        *ino = 0;
        return;
    }
    *size = (uint64_t)st.st_size;
    *mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    *ino = (uint64_t)st.st_ino;
}

/* Opens the reader (first use). Fails with a status. */
static int open_reader(srv_artifact *a, char *err, size_t cap)
{
    file_state(a, &a->fsize, &a->fmtime_ns, &a->fino);
    maif_reader *r = NULL;
    int rc = maif_reader_open(&r, a->path);
    if (rc) {
        snprintf(err, cap, "%s: %s", a->name, rc == MAIF_ENOTFOUND ? "no such artifact" : maif_last_errmsg());
        return rc == MAIF_ENOTFOUND ? 404 : 500;
    }
    if (maif_reader_set_cache(r, SRV_CACHE_BYTES) != MAIF_OK) { /* no cache: still correct */
    }
    a->r = r;
    maif_info in;
    if (maif_reader_info(r, &in) == MAIF_OK) a->commits_seen = in.commit_count;
    return 0;
}

static void free_chain(srv_artifact *a)
{
    while (a) {
        srv_artifact *n = a->next;
        artifact_free(a);
        a = n;
    }
}

/* amu held: while the table is over --max-open, unlinks the least
 * recently used entry that no request holds and that has nothing to lose
 * (no writer, no pending block) onto *gone, for the caller to free once
 * amu is released. An entry nobody holds is touched by nobody else: its
 * last user gave it back under amu. */
static void evict_locked(srv_server *s, srv_artifact **gone)
{
    while (s->nopen > s->cfg.max_open) {
        srv_artifact **victim = NULL;
        for (srv_artifact **pp = &s->artifacts; *pp; pp = &(*pp)->next) {
            const srv_artifact *a = *pp;
            if (a->refs || a->w || a->npending) continue;
            if (!victim || a->used_ns <= (*victim)->used_ns) victim = pp;
        }
        if (!victim) break; /* every entry is busy: the sweep tries again */
        srv_artifact *a = *victim;
        *victim = a->next;
        a->listed = 0;
        a->next = *gone;
        *gone = a;
        s->nopen--;
        obs_count(OBS_C_EVICTIONS, 1);
    }
    obs_open_artifacts((int64_t)s->nopen);
}

/* The open entry of name with a reference taken, or NULL (amu held). */
static srv_artifact *find_locked(srv_server *s, const char *name, uint64_t now)
{
    for (srv_artifact **pp = &s->artifacts; *pp; pp = &(*pp)->next)
        if (!strcmp((*pp)->name, name)) {
            srv_artifact *a = *pp;
            a->refs++;
            a->used_ns = now;
            if (pp != &s->artifacts) { /* to the front: busy artifacts are found first */
                *pp = a->next;
                a->next = s->artifacts;
                s->artifacts = a;
            }
            return a;
        }
    return NULL;
}

srv_artifact *srv_artifact_get(srv_server *s, const char *name, int *status, char *err, size_t cap)
{
    uint64_t now = obs_now_ns();
    pthread_mutex_lock(&s->amu);
    srv_artifact *a = find_locked(s, name, now);
    if (a) {
        pthread_mutex_unlock(&s->amu);
        obs_count(OBS_C_CACHE_HITS, 1);
        return a;
    }
    obs_count(OBS_C_CACHE_MISSES, 1);
    /* opened under amu: two requests for one name never open it twice */
    a = artifact_new(s, name);
    if (!a) {
        pthread_mutex_unlock(&s->amu);
        *status = 500;
        snprintf(err, cap, "out of memory");
        return NULL;
    }
    struct stat st;
    if (stat(a->path, &st) != 0 || !S_ISREG(st.st_mode)) {
        pthread_mutex_unlock(&s->amu);
        artifact_free(a);
        *status = 404;
        snprintf(err, cap, "no artifact named %s", name);
        return NULL;
    }
    int rs = open_reader(a, err, cap);
    if (rs) {
        pthread_mutex_unlock(&s->amu);
        artifact_free(a);
        *status = rs;
        return NULL;
    }
    a->refs = 1;
    a->listed = 1;
    a->used_ns = now;
    a->next = s->artifacts;
    s->artifacts = a;
    s->nopen++;
    srv_artifact *gone = NULL;
    evict_locked(s, &gone);
    pthread_mutex_unlock(&s->amu);
    free_chain(gone);
    return a;
}

void srv_artifact_put(srv_server *s, srv_artifact *a)
{
    if (!a) return;
    srv_artifact *gone = NULL;
    pthread_mutex_lock(&s->amu);
    int dead = --a->refs == 0 && !a->listed;
    a->used_ns = obs_now_ns();
    if (s->nopen > s->cfg.max_open) evict_locked(s, &gone);
    pthread_mutex_unlock(&s->amu);
    if (dead) artifact_free(a);
    free_chain(gone);
}

static int durable_opts(maif_options **o)
{
    int rc = maif_options_create(o);
    if (!rc) rc = maif_options_set(*o, MAIF_OPT_DURABLE, 1);
    if (!rc) rc = maif_options_set(*o, MAIF_OPT_LOCK_WAIT_MS, 2000);
    if (!rc) rc = maif_options_set(*o, MAIF_OPT_ASYNC_QUEUE, 4096);
    return rc;
}

int srv_artifact_create(srv_server *s, const char *name, char *err, size_t cap)
{
    char *path = path_of(s, name);
    if (!path) {
        snprintf(err, cap, "out of memory");
        return 500;
    }
    maif_options *o = NULL;
    maif_writer *w = NULL;
    int rc = durable_opts(&o);
    if (!rc) rc = maif_writer_create(&w, path, s->key, NULL, o);
    maif_options_free(o);
    free(path);
    if (rc) {
        snprintf(err, cap, "%s", rc == MAIF_EEXIST ? "the artifact exists already" : maif_last_errmsg());
        return rc == MAIF_EEXIST ? 409 : 500;
    }
    /* the writer is not kept: the artifact's entry opens its own */
    rc = maif_writer_close(w);
    if (rc) {
        snprintf(err, cap, "%s", maif_last_errmsg());
        return 500;
    }
    return 0;
}

int srv_writer_get(srv_server *s, srv_artifact *a, char *err, size_t cap)
{
    if (a->w) {
        atomic_store(&a->wused_ns, obs_now_ns());
        return 0;
    }
    maif_options *o = NULL;
    int rc = durable_opts(&o);
    if (!rc) rc = maif_writer_open(&a->w, a->path, s->key, o);
    maif_options_free(o);
    if (rc) {
        a->w = NULL;
        snprintf(err, cap, "%s: cannot open for writing: %s", a->name, maif_last_errmsg());
        return rc == MAIF_ELOCKED ? 503 : rc == MAIF_EUNSUPPORTED ? 422 : 500;
    }
    /* from the file as the lock found it: another process may have
     * committed since the server last held it */
    a->next_index = maif_writer_count(a->w);
    /* the policy as of now, under the writer's lock: it cannot change
     * while the server holds it */
    maif_reader *r = NULL;
    maif_policy *p = NULL;
    int st = 2;
    if (maif_reader_open(&r, a->path) == MAIF_OK) {
        int prc = maif_reader_policy(r, &p, NULL);
        st = prc == MAIF_OK ? 1 : prc == MAIF_ENOTFOUND ? 0 : 2;
        maif_reader_close(r);
    }
    pthread_mutex_lock(&a->pmu);
    maif_policy_free(a->wpolicy); /* checks hold pmu: nobody uses the old one */
    a->wpolicy = p;
    a->wpolicy_state = st;
    pthread_mutex_unlock(&a->pmu);
    atomic_store(&a->wused_ns, obs_now_ns());
    atomic_store(&a->wopen, 1);
    atomic_fetch_add(&a->gen, 1); /* the shared reader catches up with those commits too */
    return 0;
}

int srv_writer_close(srv_artifact *a)
{
    if (!a->w) return 0;
    atomic_store(&a->wopen, 0);
    pthread_mutex_lock(&a->pmu);
    maif_policy_free(a->wpolicy);
    a->wpolicy = NULL;
    a->wpolicy_state = -1;
    pthread_mutex_unlock(&a->pmu);
    int rc = maif_writer_close(a->w); /* flushes the queue, joins its threads */
    a->w = NULL;
    return rc;
}

int srv_reader_acquire(srv_artifact *a, char *err, size_t cap)
{
    pthread_rwlock_rdlock(&a->rlock);
    uint64_t g = atomic_load(&a->gen);
    if (a->rgen == g && !atomic_load(&a->wopen)) { /* another process may have committed */
        uint64_t size, ino;
        int64_t mt;
        file_state(a, &size, &mt, &ino);
        if (size != a->fsize || mt != a->fmtime_ns || ino != a->fino) g = atomic_fetch_add(&a->gen, 1) + 1;
    }
    if (a->rgen == g) return 0;
    pthread_rwlock_unlock(&a->rlock);
    pthread_rwlock_wrlock(&a->rlock);
    g = atomic_load(&a->gen);
    if (a->rgen != g) {
        file_state(a, &a->fsize, &a->fmtime_ns, &a->fino); /* before the refresh: a later change is seen again */
        /* A reader keeps the parsed state of every view maif_reader_info
         * handed strings out of until it is closed: open a fresh one now
         * and then so a long-running server does not accumulate them. */
        maif_reader *fresh = NULL;
        if (++a->refreshes % 256 == 0 && maif_reader_open(&fresh, a->path) == MAIF_OK) {
            if (maif_reader_set_cache(fresh, SRV_CACHE_BYTES) != MAIF_OK) { /* no cache: still correct */
            }
            maif_reader_close(a->r);
            a->r = fresh;
        } else if (maif_reader_refresh(a->r, NULL) != MAIF_OK) {
            /* keep the old view: still a consistent, committed state */
            obs_log("warn", maif_last_errmsg());
        }
        maif_info in;
        if (maif_reader_info(a->r, &in) == MAIF_OK) { /* maif_commits_total counts what readers see */
            if (a->commits_seen && in.commit_count > a->commits_seen)
                obs_count(OBS_C_COMMITS, in.commit_count - a->commits_seen);
            a->commits_seen = in.commit_count;
        }
        a->rgen = g;
    }
    pthread_rwlock_unlock(&a->rlock);
    pthread_rwlock_rdlock(&a->rlock);
    (void)err;
    (void)cap;
    return 0;
}

void srv_reader_release(srv_artifact *a) { pthread_rwlock_unlock(&a->rlock); }

const maif_policy *srv_policy(srv_artifact *a, int *untrusted)
{
    *untrusted = 0;
    pthread_mutex_lock(&a->cmu);
    if (a->policy_state < 0 || a->policy_gen != a->rgen) {
        maif_policy_free(a->policy);
        a->policy = NULL;
        int rc = maif_reader_policy(a->r, &a->policy, NULL);
        a->policy_state = rc == MAIF_OK ? 1 : rc == MAIF_ENOTFOUND ? 0 : 2;
        a->policy_gen = a->rgen;
    }
    const maif_policy *p = a->policy;
    *untrusted = a->policy_state == 2;
    pthread_mutex_unlock(&a->cmu);
    return p;
}

static uint64_t le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
    return v;
}
static uint32_t le32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

/* Reads the commit records of the reader's view (FORMAT.md §5.1, §5.5):
 * their sequence, block count, time, signer and algorithm. */
static int build_commits(srv_artifact *a)
{
    free(a->commits);
    a->commits = NULL;
    a->ncommits = 0;
    if (maif_reader_format(a->r) != MAIF_FORMAT_NATIVE) return 0;
    int fd = open(a->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    size_t cap = 0;
    for (uint64_t i = 0;; i++) {
        maif_record rec;
        int rc = maif_reader_record(a->r, i, &rec);
        if (rc == MAIF_ENOTFOUND) break;
        if (rc) {
            close(fd);
            return -1;
        }
        if (!rec.kind || strcmp(rec.kind, "commit") != 0) continue;
        uint8_t h[112 + 96];
        if (pread(fd, h, sizeof h, (off_t)rec.offset) != (ssize_t)sizeof h || h[0] != 'C') {
            close(fd);
            return -1;
        }
        const uint8_t *pl = h + 112;
        srv_commit c = {.seq = le64(pl), .blocks = le64(pl + 8), .time_us = le64(h + 16), .alg = MAIF_SIG_ED25519};
        memcpy(c.signer, pl + 56, sizeof c.signer);
        if (h[1] == 2) { /* version 2: the signature area names the algorithm */
            uint64_t off = rec.offset + 112 + 96 + 24ull * le32(pl + 88) + 32ull * le32(pl + 92);
            uint8_t alg = 0;
            if (pread(fd, &alg, 1, (off_t)off) == 1) c.alg = alg;
        }
        if (a->ncommits == cap) {
            cap = cap ? cap * 2 : 64;
            srv_commit *nv = realloc(a->commits, cap * sizeof *nv);
            if (!nv) {
                close(fd);
                return -1;
            }
            a->commits = nv;
        }
        a->commits[a->ncommits++] = c;
    }
    close(fd);
    return 0;
}

int srv_commits(srv_artifact *a, const srv_commit **out, size_t *n)
{
    pthread_mutex_lock(&a->cmu);
    if (!a->commits_ok || a->commits_gen != a->rgen) {
        a->commits_ok = build_commits(a) == 0;
        a->commits_gen = a->rgen;
    }
    *out = a->commits;
    *n = a->ncommits;
    int ok = a->commits_ok;
    pthread_mutex_unlock(&a->cmu);
    return ok ? 0 : -1;
}

/* References to every open entry (amu taken here); *n of them, or NULL. */
static srv_artifact **hold_all(srv_server *s, size_t *n)
{
    pthread_mutex_lock(&s->amu);
    srv_artifact **v = s->nopen ? malloc(s->nopen * sizeof *v) : NULL;
    *n = 0;
    if (v)
        for (srv_artifact *a = s->artifacts; a; a = a->next) {
            a->refs++;
            v[(*n)++] = a;
        }
    pthread_mutex_unlock(&s->amu);
    return v;
}

void srv_artifacts_sync(srv_server *s)
{
    size_t n;
    srv_artifact **v = hold_all(s, &n);
    char err[64];
    for (size_t i = 0; i < n; i++) { /* refreshes only the readers a commit left behind */
        srv_reader_acquire(v[i], err, sizeof err);
        srv_reader_release(v[i]);
        srv_artifact_put(s, v[i]);
    }
    free(v);
}

void srv_artifacts_sweep(srv_server *s)
{
    if (s->cfg.writer_idle_ms) {
        uint64_t idle = (uint64_t)s->cfg.writer_idle_ms * 1000000u, now = obs_now_ns();
        srv_artifact *batch[64];
        size_t nb = 0;
        pthread_mutex_lock(&s->amu); /* the candidates, held; the rest wait for the next sweep */
        for (srv_artifact *a = s->artifacts; a && nb < 64; a = a->next)
            if (atomic_load(&a->wopen) && !atomic_load(&a->wbusy) && atomic_load(&a->wused_ns) + idle <= now) {
                a->refs++;
                batch[nb++] = a;
            }
        pthread_mutex_unlock(&s->amu);
        for (size_t i = 0; i < nb; i++) {
            srv_artifact *a = batch[i];
            /* a request on the write path holds wmu: then it is not idle.
             * Under wmu no append can be queued, so wbusy 0 means the
             * queue is drained (close waits for a callback still running). */
            if (pthread_mutex_trylock(&a->wmu) == 0) {
                if (a->w && !atomic_load(&a->wbusy) && atomic_load(&a->wused_ns) + idle <= obs_now_ns()) {
                    if (srv_writer_close(a) != MAIF_OK) obs_log("error", maif_last_errmsg());
                    obs_count(OBS_C_WRITER_RELEASES, 1);
                }
                pthread_mutex_unlock(&a->wmu);
            }
            srv_artifact_put(s, a);
        }
    }
    srv_artifact *gone = NULL;
    pthread_mutex_lock(&s->amu);
    evict_locked(s, &gone);
    pthread_mutex_unlock(&s->amu);
    free_chain(gone);
}

void srv_artifacts_close_all(srv_server *s)
{
    pthread_mutex_lock(&s->amu);
    srv_artifact *a = s->artifacts;
    s->artifacts = NULL;
    s->nopen = 0;
    for (srv_artifact *i = a; i; i = i->next) {
        i->listed = 0;
        i->refs++; /* ours until the writer is closed */
    }
    obs_open_artifacts(0);
    pthread_mutex_unlock(&s->amu);
    while (a) {
        srv_artifact *n = a->next;
        pthread_mutex_lock(&a->wmu);
        if (srv_writer_close(a) != MAIF_OK) obs_log("error", maif_last_errmsg());
        pthread_mutex_unlock(&a->wmu);
        srv_artifact_put(s, a); /* freed now, or by the last request that holds it */
        a = n;
    }
}

/* ---- routes: list, create, info */

enum MHD_Result srv_route_list(srv_req *q)
{
    srv_server *s = q->s;
    DIR *d = opendir(s->cfg.dir);
    if (!d) return srv_reply_error(q, 500, "cannot list the directory: %s", strerror(errno));
    json_t *arr = json_array();
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n <= 5 || strcmp(e->d_name + n - 5, ".maif") != 0 || n - 5 > SRV_NAME_MAX) continue;
        char name[SRV_NAME_MAX + 1];
        memcpy(name, e->d_name, n - 5);
        name[n - 5] = '\0';
        if (!srv_name_ok(name)) continue;
        if (q->tok && !srv_auth_artifact_ok(q->tok, name)) continue;
        /* an open artifact answers from its reader; the others are looked
         * at with a reader of their own, so a listing does not churn the
         * table (and its cache) through every artifact of the directory */
        maif_info in;
        int rc, fmt;
        pthread_mutex_lock(&s->amu);
        srv_artifact *a = find_locked(s, name, obs_now_ns());
        pthread_mutex_unlock(&s->amu);
        if (a) {
            char err[64];
            srv_reader_acquire(a, err, sizeof err);
            rc = maif_reader_info(a->r, &in);
            fmt = maif_reader_format(a->r);
            srv_reader_release(a);
            srv_artifact_put(s, a);
        } else {
            char *path = path_of(s, name);
            maif_reader *r = NULL;
            rc = path ? maif_reader_open(&r, path) : MAIF_ENOMEM;
            free(path);
            if (!rc) rc = maif_reader_info(r, &in);
            fmt = rc ? 0 : maif_reader_format(r);
            maif_reader_close(r); /* in's numbers are copied below; agent is not used */
        }
        if (rc) continue;
        json_array_append_new(arr, json_pack("{s:s,s:I,s:I,s:s}", "name", name, "blocks", (json_int_t)in.block_count,
                                             "bytes", (json_int_t)in.file_size, "format",
                                             fmt == MAIF_FORMAT_NATIVE ? "native" : "2.1"));
    }
    closedir(d);
    return srv_reply_json(q, 200, json_pack("{s:o}", "artifacts", arr));
}

enum MHD_Result srv_route_create(srv_req *q)
{
    json_error_t je;
    json_t *doc = json_loadb(q->body ? q->body : "", q->body_len, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(doc)) {
        json_decref(doc);
        return srv_reply_error(q, 400, "the body must be a JSON object {\"name\": ...}");
    }
    const char *name = json_string_value(json_object_get(doc, "name"));
    if (!name || json_object_size(doc) != 1 || !srv_name_ok(name)) {
        json_decref(doc);
        return srv_reply_error(q, 400, "\"name\" must match [A-Za-z0-9][A-Za-z0-9._-]{0,127} (not ending in .maif)");
    }
    snprintf(q->artifact, sizeof q->artifact, "%s", name);
    json_decref(doc);
    if (q->tok && !srv_auth_artifact_ok(q->tok, q->artifact))
        return srv_reply_error(q, 403, "the token may not use artifact %s", q->artifact);
    char err[256];
    int st = srv_artifact_create(q->s, q->artifact, err, sizeof err);
    if (st) return srv_reply_error(q, st, "%s", err);
    return srv_reply_json(q, 201, json_pack("{s:s,s:I}", "name", q->artifact, "blocks", (json_int_t)0));
}

enum MHD_Result srv_route_info(srv_req *q)
{
    srv_artifact *a = q->a;
    char err[256], hex[2 * MAIF_PUBKEY_BYTES + 1], fid[2 * MAIF_ID_BYTES + 1];
    srv_reader_acquire(a, err, sizeof err);
    maif_info in;
    int rc = maif_reader_info(a->r, &in);
    if (rc) {
        srv_reader_release(a);
        return srv_reply_error(q, 500, "%s", maif_last_errmsg());
    }
    json_t *signers = json_array();
    const srv_commit *c;
    size_t nc;
    if (srv_commits(a, &c, &nc) == 0) {
        for (size_t i = 0; i < nc; i++) {
            int seen = 0;
            for (size_t j = 0; j < i && !seen; j++) seen = !memcmp(c[j].signer, c[i].signer, MAIF_PUBKEY_BYTES);
            if (!seen) json_array_append_new(signers, json_string(maif_hex(c[i].signer, MAIF_PUBKEY_BYTES, hex)));
        }
    }
    if (json_array_size(signers) == 0)
        json_array_append_new(signers, json_string(maif_hex(in.signer, MAIF_PUBKEY_BYTES, hex)));
    int untrusted;
    const maif_policy *p = srv_policy(a, &untrusted);
    json_t *doc = json_pack("{s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:s,s:o,s:s}", "name", a->name, "format",
                            in.format == MAIF_FORMAT_NATIVE ? "native" : "2.1", "blocks", (json_int_t)in.block_count,
                            "bytes", (json_int_t)in.file_size, "commits", (json_int_t)in.commit_count, "created_us",
                            (json_int_t)in.created_us, "modified_us", (json_int_t)in.modified_us, "file_id",
                            maif_hex(in.file_id, MAIF_ID_BYTES, fid), "signers", signers, "agent",
                            in.agent ? in.agent : "");
    json_object_set_new(doc, "policy_level",
                        p ? json_string(maif_level_name(maif_policy_level(p)))
                          : untrusted ? json_string("untrusted") : json_null());
    srv_reader_release(a);
    return srv_reply_json(q, 200, doc);
}
