/*
 * serve_artifacts.c — the artifacts of --dir, each opened once and shared.
 *
 * An artifact keeps one writer (opened at its first write, holding the
 * file's lock for the life of the server, so every append goes through
 * one group-commit queue) and one reader shared by every request thread.
 * The reader follows the writer lazily: every commit bumps a generation
 * counter and the next read refreshes the view under the write side of
 * a rwlock. The policy and the commit table are derived from the view
 * and cached per generation.
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
    while (a->oldpol) {
        struct srv_oldpol *o = a->oldpol;
        a->oldpol = o->next;
        maif_policy_free(o->p);
        free(o);
    }
    maif_reader_close(a->r);
    free(a->commits);
    pthread_mutex_destroy(&a->wmu);
    pthread_rwlock_destroy(&a->rlock);
    pthread_mutex_destroy(&a->cmu);
    free(a->path);
    free(a);
}

/* Opens the reader (first use). Fails with a status. */
static int open_reader(srv_artifact *a, char *err, size_t cap)
{
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

srv_artifact *srv_artifact_get(srv_server *s, const char *name, int *status, char *err, size_t cap)
{
    pthread_mutex_lock(&s->amu);
    for (srv_artifact *a = s->artifacts; a; a = a->next)
        if (!strcmp(a->name, name)) {
            pthread_mutex_unlock(&s->amu);
            obs_count(OBS_C_CACHE_HITS, 1);
            return a;
        }
    obs_count(OBS_C_CACHE_MISSES, 1);
    srv_artifact *a = artifact_new(s, name);
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
    a->next = s->artifacts;
    s->artifacts = a;
    pthread_mutex_unlock(&s->amu);
    return a;
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
    if (a->w) return 0;
    maif_options *o = NULL;
    int rc = durable_opts(&o);
    if (!rc) rc = maif_writer_open(&a->w, a->path, s->key, o);
    maif_options_free(o);
    if (rc) {
        a->w = NULL;
        snprintf(err, cap, "%s: cannot open for writing: %s", a->name, maif_last_errmsg());
        return rc == MAIF_ELOCKED ? 503 : rc == MAIF_EUNSUPPORTED ? 422 : 500;
    }
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
    if (a->wpolicy) {
        struct srv_oldpol *old = malloc(sizeof *old);
        if (old) {
            old->p = a->wpolicy;
            old->next = a->oldpol;
            a->oldpol = old;
        } /* else: leaked rather than freed under a reader */
    }
    a->wpolicy = p;
    a->wpolicy_state = st;
    atomic_store(&a->wopen, 1);
    return 0;
}

int srv_reader_acquire(srv_artifact *a, char *err, size_t cap)
{
    pthread_rwlock_rdlock(&a->rlock);
    uint64_t g = atomic_load(&a->gen);
    if (a->rgen == g) return 0;
    pthread_rwlock_unlock(&a->rlock);
    pthread_rwlock_wrlock(&a->rlock);
    g = atomic_load(&a->gen);
    if (a->rgen != g) {
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

void srv_artifacts_sync(srv_server *s)
{
    pthread_mutex_lock(&s->amu);
    srv_artifact *a = s->artifacts; /* entries are only ever prepended, and freed at shutdown */
    pthread_mutex_unlock(&s->amu);
    char err[64];
    for (; a; a = a->next) { /* refreshes only the readers a commit left behind */
        srv_reader_acquire(a, err, sizeof err);
        srv_reader_release(a);
    }
}

void srv_artifacts_close_all(srv_server *s)
{
    pthread_mutex_lock(&s->amu);
    srv_artifact *a = s->artifacts;
    s->artifacts = NULL;
    pthread_mutex_unlock(&s->amu);
    while (a) {
        srv_artifact *n = a->next;
        if (a->w) {
            int rc = maif_writer_close(a->w);
            a->w = NULL;
            if (rc) obs_log("error", maif_last_errmsg());
        }
        artifact_free(a);
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
        int st;
        char err[256];
        srv_artifact *a = srv_artifact_get(s, name, &st, err, sizeof err);
        if (!a) continue;
        srv_reader_acquire(a, err, sizeof err);
        maif_info in;
        int rc = maif_reader_info(a->r, &in);
        int fmt = maif_reader_format(a->r);
        srv_reader_release(a);
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
