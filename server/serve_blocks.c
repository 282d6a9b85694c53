/*
 * serve_blocks.c — appending and committing blocks (reading them is
 * serve_read.c).
 *
 * Three write paths, chosen by what the request needs:
 *   - a JSON block with ?commit=1 (the hot path): the connection is
 *     suspended and the block queued with maif_writer_add_async; the
 *     writer's committer seals whatever is queued in one group commit
 *     (one signature, one pair of fsyncs) and its callback resumes the
 *     connection, so the reply leaves only once the commit is durable and
 *     no request thread waits on an fsync;
 *   - a binary body: streamed to an unlinked temp file as it arrives
 *     (never held in memory), then appended with the single-threaded
 *     writer path after maif_writer_flush, under the artifact's writer
 *     mutex (that, or the JSON block's "compress" key, which the async
 *     path has no field for);
 *   - without ?commit=1: the block is checked and kept by the server as
 *     pending until POST .../commit appends and commits them all.
 * Indices are assigned in commit order: the committer's callbacks run one
 * at a time in the order the blocks went into the file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "serve.h"

/* Waits for the group-commit queue. Its error is an earlier async
 * request's, already answered through that request's callback. */
static void flush_quiet(maif_writer *w)
{
    if (maif_writer_flush(w) != MAIF_OK) { /* reported to its own request */
    }
}

/* Locks a's writer mutex and opens its writer (again, if the idle sweep
 * closed it): 0 with the mutex held, or an HTTP status with err set and
 * the mutex released. *opened (may be NULL): the writer was opened here,
 * so its policy snapshot is newer than what the request was checked
 * against (another process may have set a policy meanwhile). */
static int writer_lock(srv_req *q, srv_artifact *a, char *err, size_t cap, int *opened)
{
    pthread_mutex_lock(&a->wmu);
    int was_open = a->w != NULL;
    int st = srv_writer_get(q->s, a, err, cap);
    if (st) pthread_mutex_unlock(&a->wmu);
    else if (opened) *opened = !was_open;
    return st;
}

/* Releases writer_lock's mutex; the writer's idle delay starts now. */
static void writer_unlock(srv_artifact *a)
{
    atomic_store(&a->wused_ns, obs_now_ns());
    pthread_mutex_unlock(&a->wmu);
}

void srv_pending_free(srv_pending *p)
{
    if (!p) return;
    maif_block_draft_free(p->draft);
    if (p->fd >= 0) close(p->fd);
    free(p->meta);
    free(p);
}

/* An unlinked temp file in the artifacts' directory (same file system). */
static int temp_fd(const char *dir)
{
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0) return fd;
    char tmpl[4096];
    snprintf(tmpl, sizeof tmpl, "%s/.maif-upload-XXXXXX", dir);
    fd = mkostemp(tmpl, O_CLOEXEC);
    if (fd >= 0) unlink(tmpl);
    return fd;
}

static uint32_t type_from_ctype(const char *ct)
{
    if (!ct) return MAIF_TYPE_BINARY;
    if (!strncasecmp(ct, "image/", 6)) return MAIF_TYPE_IMAGE;
    if (!strncasecmp(ct, "audio/", 6)) return MAIF_TYPE_AUDIO;
    if (!strncasecmp(ct, "video/", 6)) return MAIF_TYPE_VIDEO;
    if (!strncasecmp(ct, "text/", 5)) return MAIF_TYPE_TEXT;
    return MAIF_TYPE_BINARY;
}

/* The policy's write rule for spec, as if who (the token's subject, else
 * the server's key) signed it: 0 or 403 with err. */
static int write_verdict(const maif_policy *p, int untrusted, const maif_block_spec *spec, const uint8_t *who,
                         char *err, size_t cap)
{
    if (untrusted) {
        snprintf(err, cap, "the artifact's policy cannot be established: every access is refused");
        return 403;
    }
    char why[200] = "";
    if (p && maif_policy_check_write(p, spec, 0, who, why, sizeof why) != MAIF_OK) {
        snprintf(err, cap, "the artifact's policy refuses this write: %s", why);
        return 403;
    }
    return 0;
}

static int check_write(srv_req *q, const maif_block_spec *spec, char *err, size_t cap)
{
    srv_artifact *a = q->a;
    const uint8_t *who = q->tok && q->tok->has_subject ? q->tok->subject : q->s->key_pk;
    char e[256];
    /* the hot path: the snapshot taken with the writer, no reader; pmu
     * keeps it alive (a reopened writer replaces it) */
    pthread_mutex_lock(&a->pmu);
    if (a->wpolicy_state >= 0) {
        int st = write_verdict(a->wpolicy, a->wpolicy_state == 2, spec, who, err, cap);
        pthread_mutex_unlock(&a->pmu);
        return st;
    }
    pthread_mutex_unlock(&a->pmu);
    int untrusted = 0;
    srv_reader_acquire(a, e, sizeof e);
    const maif_policy *p = srv_policy(a, &untrusted);
    int st = write_verdict(p, untrusted, spec, who, err, cap);
    srv_reader_release(a);
    return st;
}

/* Control blocks carry their own signatures and are written by the
 * library's own calls (grant, policy, shred...), never as raw appends. */
static int control_type(uint32_t t)
{
    return t == MAIF_TYPE_KEYWRAP || t == MAIF_TYPE_AUDIT || t == MAIF_TYPE_ERASURE || t == MAIF_TYPE_POLICY ||
           t == MAIF_TYPE_DPLEDGER || t == MAIF_TYPE_ZDICT || t == MAIF_TYPE_CHAIN;
}

int srv_append_begin(srv_req *q, char *err, size_t cap)
{
    const char *ct = MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    const char *tn = MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, "X-Maif-Type");
    const char *mh = MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, "X-Maif-Meta");
    if (tn) {
        if (maif_type_parse(tn, &q->type) != MAIF_OK) {
            snprintf(err, cap, "X-Maif-Type: unknown block type");
            return 400;
        }
    } else
        q->type = type_from_ctype(ct);
    if (control_type(q->type)) {
        snprintf(err, cap, "control blocks (policy, audit, key wraps...) cannot be appended through the API");
        return 422;
    }
    if (q->type == MAIF_TYPE_JSON || q->type == MAIF_TYPE_EMBEDDING) {
        /* read whole and checked by the draft: the parse limit applies */
        if (q->body_limit > MAIF_PARSE_MAX) q->body_limit = MAIF_PARSE_MAX;
    }
    if (mh) {
        if (strlen(mh) > SRV_META_HDR_MAX) {
            snprintf(err, cap, "X-Maif-Meta is over 16 KiB");
            return 413;
        }
        json_error_t je;
        json_t *m = json_loads(mh, JSON_REJECT_DUPLICATES, &je);
        int ok = json_is_object(m);
        json_decref(m);
        if (!ok) {
            snprintf(err, cap, "X-Maif-Meta must be a JSON object");
            return 400;
        }
        if (!(q->meta = strdup(mh))) {
            snprintf(err, cap, "out of memory");
            return 500;
        }
    }
    maif_block_spec spec = {.type = q->type, .meta_json = q->meta, .meta_size = q->meta ? strlen(q->meta) : 0};
    int st = check_write(q, &spec, err, cap);
    if (st) return st;
    q->fd = temp_fd(q->s->cfg.dir);
    if (q->fd < 0) {
        snprintf(err, cap, "cannot make a temporary file: %s", strerror(errno));
        return 500;
    }
    q->body_kind = SRV_BODY_FILE;
    return 0;
}

int srv_body_chunk(srv_req *q, const char *data, size_t n)
{
    if (q->body_kind == SRV_BODY_FILE) {
        while (n) {
            ssize_t w = write(q->fd, data, n);
            if (w < 0) {
                if (errno == EINTR) continue;
                snprintf(q->err, sizeof q->err, "temporary file: %s", strerror(errno));
                return -1;
            }
            data += w;
            n -= (size_t)w;
        }
        return 0;
    }
    if (q->body_len + n + 1 > q->body_cap) {
        size_t c = q->body_cap ? q->body_cap : 1024;
        while (c < q->body_len + n + 1) c *= 2;
        char *b = realloc(q->body, c);
        if (!b) return -1;
        q->body = b;
        q->body_cap = c;
    }
    memcpy(q->body + q->body_len, data, n);
    q->body_len += n;
    q->body[q->body_len] = '\0';
    return 0;
}

typedef struct fd_src {
    int fd;
} fd_src;

static int64_t fd_read(void *ctx, void *buf, size_t cap)
{
    fd_src *s = ctx;
    for (;;) {
        ssize_t r = read(s->fd, buf, cap);
        if (r >= 0) return r;
        if (errno != EINTR) return MAIF_EIO;
    }
}

/* Adds one block (a draft, or a binary temp file through a pending draft
 * of its type, so text is checked as UTF-8 as it streams) with the
 * single-threaded writer calls (wmu held, writer flushed). */
static int add_one(srv_artifact *a, maif_block_draft *d, int fd, uint32_t type, const char *meta, uint64_t limit,
                   uint8_t id_out[MAIF_ID_BYTES])
{
    maif_block_draft *own = NULL;
    if (!d) {
        int rc = maif_block_draft_new(&own, type, meta, meta ? strlen(meta) : 0);
        if (rc) return rc;
        d = own;
    }
    if (fd >= 0 && lseek(fd, 0, SEEK_SET) < 0) {
        maif_block_draft_free(own);
        return MAIF_EIO;
    }
    fd_src src = {fd};
    int rc = maif_writer_add_draft(a->w, d, fd >= 0 ? fd_read : NULL, &src, limit, id_out);
    maif_block_draft_free(own);
    return rc;
}

/* After an I/O error the writer is dead: close it (the file is cut back to
 * the last commit) so the next write opens it again. wmu held. */
static void writer_reset(srv_artifact *a)
{
    if (srv_writer_close(a) != MAIF_OK) { /* the error was the request's, answered */
    }
}

/* Commits with the single-threaded path: the batch built by fn. wmu held. */
static int commit_exclusive(srv_artifact *a, uint64_t *first_index)
{
    int rc = maif_writer_commit(a->w);
    if (rc) {
        if (maif_writer_rollback(a->w) != MAIF_OK) { /* dead writer: reset below */
        }
        if (rc == MAIF_EIO || rc == MAIF_ESTATE) writer_reset(a);
        return rc;
    }
    *first_index = a->next_index;
    a->next_index = maif_writer_count(a->w);
    atomic_fetch_add(&a->gen, 1);
    return 0;
}

/* {"index","id","committed"}: index and id are null until committed. */
static json_t *append_reply(srv_req *q, int committed, uint64_t index)
{
    char hex[2 * MAIF_ID_BYTES + 1];
    json_t *o = json_pack("{s:b}", "committed", committed);
    json_object_set_new(o, "index", committed ? json_integer((json_int_t)index) : json_null());
    json_object_set_new(o, "id", committed ? json_string(maif_hex(q->id, MAIF_ID_BYTES, hex)) : json_null());
    return o;
}

/* The async completion: runs on the writer's committing thread. The last
 * thing it touches of q is async_done; the connection is then resumed. */
static void async_done(void *ctx, int rc, const uint8_t *id)
{
    srv_req *q = ctx;
    srv_artifact *a = q->a;
    struct MHD_Connection *conn = q->conn;
    q->async_rc = rc;
    if (rc == MAIF_OK) {
        memcpy(q->id, id, MAIF_ID_BYTES);
        q->index = a->next_index++;
        atomic_fetch_add(&a->gen, 1);
    }
    /* a stays valid after q is gone: its writer is open until this thread
     * is joined by maif_writer_close, and an entry with a writer is never
     * evicted */
    atomic_store(&a->wused_ns, obs_now_ns());
    atomic_fetch_sub(&a->wbusy, 1);
    atomic_store(&q->async_done, 1);
    MHD_resume_connection(conn);
}

enum MHD_Result srv_route_append_finish(srv_req *q)
{
    int rc = q->async_rc;
    if (rc != MAIF_OK) {
        if (rc == MAIF_EIO || rc == MAIF_ESTATE) {
            pthread_mutex_lock(&q->a->wmu);
            if (q->a->w) {
                flush_quiet(q->a->w);
                writer_reset(q->a);
            }
            pthread_mutex_unlock(&q->a->wmu);
        }
        return srv_reply_error(q, srv_status_for(rc), "append refused: %s", maif_strerror(rc));
    }
    obs_count(OBS_C_APPENDS, 1);
    obs_count(OBS_C_APPEND_BYTES, q->bytes_in);
    return srv_reply_json(q, 201, append_reply(q, 1, q->index));
}

/* Pending (no ?commit=1): kept by the server until POST .../commit. */
static enum MHD_Result keep_pending(srv_req *q, maif_block_draft *d, int fd)
{
    srv_artifact *a = q->a;
    srv_pending *p = calloc(1, sizeof *p);
    if (!p) return srv_reply_error(q, 500, "out of memory");
    p->draft = d;
    p->fd = fd;
    p->type = q->type;
    p->meta = q->meta;
    pthread_mutex_lock(&a->wmu);
    if (a->npending >= SRV_PENDING_MAX) {
        pthread_mutex_unlock(&a->wmu);
        p->draft = NULL;
        p->fd = -1;
        p->meta = NULL;
        srv_pending_free(p);
        return srv_reply_error(q, 409, "%d blocks are pending: commit first", SRV_PENDING_MAX);
    }
    *a->pending_tail = p;
    a->pending_tail = &p->next;
    a->npending++;
    pthread_mutex_unlock(&a->wmu);
    /* ownership moved to the artifact */
    if (d == q->draft) q->draft = NULL;
    if (fd == q->fd) q->fd = -1;
    q->meta = NULL;
    obs_count(OBS_C_APPENDS, 1);
    obs_count(OBS_C_APPEND_BYTES, q->bytes_in);
    return srv_reply_json(q, 201, append_reply(q, 0, 0));
}

static int commit_flag(srv_req *q, int *bad)
{
    char b[8];
    const char *v = srv_arg(q, "commit", b, sizeof b, bad);
    if (!v) return 0;
    if (!strcmp(v, "1") || !strcmp(v, "true")) return 1;
    if (strcmp(v, "0") && strcmp(v, "false")) *bad = 1;
    return 0;
}

/* JSON or binary with the exclusive path: append, commit, reply. */
static enum MHD_Result append_exclusive(srv_req *q, maif_block_draft *d, int fd)
{
    srv_artifact *a = q->a;
    char err[256];
    int opened = 0;
    int st = writer_lock(q, a, err, sizeof err, &opened);
    if (st) return srv_reply_error(q, st, "%s", err);
    if (opened) { /* checked before the lock: again, against the policy under it */
        maif_block_spec spec = {.type = q->type, .meta_json = q->meta, .meta_size = q->meta ? strlen(q->meta) : 0};
        if (d && maif_block_draft_spec(d, &spec) != MAIF_OK) st = 422;
        if (!st) st = check_write(q, &spec, err, sizeof err);
        else snprintf(err, sizeof err, "incomplete block");
        if (st) {
            writer_unlock(a);
            return srv_reply_error(q, st, "%s", err);
        }
    }
    flush_quiet(a->w);
    if (a->npending) { /* keep order: what was appended before goes first */
        size_t np = a->npending;
        writer_unlock(a);
        return srv_reply_error(q, 409, "%zu blocks are pending: commit them first", np);
    }
    uint64_t idx = 0;
    int rc = add_one(a, d, fd, q->type, q->meta, q->body_limit, q->id);
    if (rc == MAIF_OK) rc = commit_exclusive(a, &idx);
    else if (rc == MAIF_EIO) writer_reset(a);
    const char *msg = rc ? maif_last_errmsg() : "";
    snprintf(err, sizeof err, "%s", msg);
    writer_unlock(a);
    if (rc) return srv_reply_error(q, srv_status_for(rc), "append refused: %s", err);
    obs_count(OBS_C_APPENDS, 1);
    obs_count(OBS_C_APPEND_BYTES, q->bytes_in);
    return srv_reply_json(q, 201, append_reply(q, 1, idx));
}

enum MHD_Result srv_route_append(srv_req *q)
{
    int bad = 0;
    q->commit = commit_flag(q, &bad);
    if (bad) return srv_reply_error(q, 400, "commit must be 0 or 1");
    if (q->body_kind == SRV_BODY_FILE) {
        if (q->commit) return append_exclusive(q, NULL, q->fd);
        return keep_pending(q, NULL, q->fd);
    }
    /* JSON: one line of `maif append`, parsed once by the draft (the hot
     * path); jansson looks only at bodies that may name "file" or
     * "compress", and at the ones the draft refuses (400 or 422). */
    const char *body = q->body ? q->body : "";
    int has_compress = 0;
    if (strstr(body, "\"file\"") || strstr(body, "\"compress\"")) {
        json_t *doc = json_loadb(body, q->body_len, JSON_REJECT_DUPLICATES, NULL);
        int has_file = json_is_object(doc) && json_object_get(doc, "file") != NULL;
        has_compress = json_is_object(doc) && json_object_get(doc, "compress") != NULL;
        json_decref(doc);
        if (has_file) return srv_reply_error(q, 400, "\"file\" is not accepted by the server: send the payload");
    }
    int rc = maif_block_draft_from_json(&q->draft, body, q->body_len);
    if (rc) {
        char msg[200];
        snprintf(msg, sizeof msg, "%s", maif_last_errmsg());
        json_error_t je;
        json_t *doc = json_loadb(body, q->body_len, JSON_REJECT_DUPLICATES, &je);
        int is_obj = json_is_object(doc);
        json_decref(doc);
        if (!is_obj) return srv_reply_error(q, 400, "the body is not a JSON object (line %d: %s)", je.line, je.text);
        return srv_reply_error(q, 422, "%s", msg);
    }
    maif_block_spec spec;
    if (maif_block_draft_spec(q->draft, &spec) != MAIF_OK) return srv_reply_error(q, 422, "incomplete block");
    if (control_type(spec.type))
        return srv_reply_error(q, 422, "control blocks (policy, audit, key wraps...) cannot be appended through the API");
    char err[256];
    int st = check_write(q, &spec, err, sizeof err);
    if (st) return srv_reply_error(q, st, "%s", err);
    q->type = spec.type;
    if (!q->commit) return keep_pending(q, q->draft, -1);
    if (has_compress) return append_exclusive(q, q->draft, -1);
    /* the hot path: group commit */
    srv_artifact *a = q->a;
    int opened = 0;
    st = writer_lock(q, a, err, sizeof err, &opened);
    if (st) return srv_reply_error(q, st, "%s", err);
    if (opened && (st = check_write(q, &spec, err, sizeof err)) != 0) { /* the policy under the new lock */
        writer_unlock(a);
        return srv_reply_error(q, st, "%s", err);
    }
    if (a->npending) {
        size_t np = a->npending;
        writer_unlock(a);
        return srv_reply_error(q, 409, "%zu blocks are pending: commit them first", np);
    }
    q->suspended = 1;
    MHD_suspend_connection(q->conn);
    atomic_fetch_add(&a->wbusy, 1); /* under wmu: the idle sweep sees it or finds wmu taken */
    rc = maif_writer_add_async(a->w, &spec, async_done, q);
    if (rc) atomic_fetch_sub(&a->wbusy, 1); /* refused at once: no callback */
    writer_unlock(a);
    if (rc) {
        q->async_rc = rc;
        atomic_store(&q->async_done, 1);
        MHD_resume_connection(q->conn);
    }
    return MHD_YES;
}

enum MHD_Result srv_route_commit(srv_req *q)
{
    srv_artifact *a = q->a;
    char err[256];
    int opened = 0;
    int st = writer_lock(q, a, err, sizeof err, &opened);
    if (st) return srv_reply_error(q, st, "%s", err);
    flush_quiet(a->w);
    srv_pending *p = a->pending;
    a->pending = NULL;
    a->pending_tail = &a->pending;
    size_t n = a->npending;
    a->npending = 0;
    /* each was checked as it arrived; a writer opened here may have found
     * a policy set since (by another process) */
    for (srv_pending *i = p; i && opened && !st; i = i->next) {
        maif_block_spec spec = {.type = i->type, .meta_json = i->meta, .meta_size = i->meta ? strlen(i->meta) : 0};
        if (i->draft && maif_block_draft_spec(i->draft, &spec) != MAIF_OK) continue; /* add_one refuses it */
        st = check_write(q, &spec, err, sizeof err);
    }
    if (st) {
        writer_unlock(a);
        while (p) {
            srv_pending *nx = p->next;
            srv_pending_free(p);
            p = nx;
        }
        return srv_reply_error(q, st, "commit refused, the pending blocks are dropped: %s", err);
    }
    int rc = MAIF_OK;
    for (srv_pending *i = p; i && rc == MAIF_OK; i = i->next)
        rc = add_one(a, i->draft, i->fd, i->type, i->meta, q->s->cfg.max_body, NULL);
    uint64_t first = 0;
    if (rc == MAIF_OK) rc = commit_exclusive(a, &first);
    else {
        if (maif_writer_rollback(a->w) != MAIF_OK || rc == MAIF_EIO) writer_reset(a);
    }
    snprintf(err, sizeof err, "%s", rc ? maif_last_errmsg() : "");
    writer_unlock(a);
    while (p) {
        srv_pending *nx = p->next;
        srv_pending_free(p);
        p = nx;
    }
    if (rc) return srv_reply_error(q, srv_status_for(rc), "commit failed, the pending blocks are dropped: %s", err);
    srv_reader_acquire(a, err, sizeof err);
    maif_info in;
    uint64_t seq = 0;
    if (maif_reader_info(a->r, &in) == MAIF_OK && in.commit_count) seq = in.commit_count - 1;
    srv_reader_release(a);
    return srv_reply_json(q, 200, json_pack("{s:I,s:I,s:I}", "commit", (json_int_t)seq, "blocks", (json_int_t)n,
                                            "first_index", (json_int_t)first));
}
