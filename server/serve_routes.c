/*
 * serve_routes.c — one HTTP request from its first header to its
 * completion: libmicrohttpd's access handler, the route table, the checks
 * every /v1 route shares (connections, shutdown, token, scope, artifact
 * list, rate), bodies, JSON replies and errors.
 *
 * The URL arrives undecoded (serve.c installs an unescape callback that
 * keeps it as is), so a name like "..%2Fx" is decoded here, segment by
 * segment, and refused as a name instead of being read as a path.
 * Every request, errors included, ends in srv_completed, which hands it to
 * obs_request_end (one metric update, one log line, one span).
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

#include "serve.h"
#include "ui_assets.h"

#define PATH_SEGS 6

/* ---- small helpers */

int srv_pct_decode(const char *s, size_t n, char *out, size_t cap, int plus_space)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            if (i + 2 >= n) return -1;
            if (!isxdigit((unsigned char)s[i + 1]) || !isxdigit((unsigned char)s[i + 2])) return -1;
            char hx[3] = {s[i + 1], s[i + 2], 0};
            c = (char)strtol(hx, NULL, 16);
            i += 2;
        } else if (c == '+' && plus_space)
            c = ' ';
        if (c == '\0') return -1;
        if (o + 1 >= cap) return -1;
        out[o++] = c;
    }
    out[o] = '\0';
    return (int)o;
}

const char *srv_arg(srv_req *q, const char *key, char *buf, size_t cap, int *bad)
{
    const char *v = MHD_lookup_connection_value(q->conn, MHD_GET_ARGUMENT_KIND, key);
    if (!v) return NULL;
    if (srv_pct_decode(v, strlen(v), buf, cap, 1) < 0) {
        *bad = 1;
        return NULL;
    }
    return buf;
}

int srv_arg_u64(srv_req *q, const char *key, uint64_t max, uint64_t def, uint64_t *out)
{
    char b[32];
    int bad = 0;
    const char *v = srv_arg(q, key, b, sizeof b, &bad);
    *out = def;
    if (bad) return -1;
    if (!v) return 0;
    if (!*v || strlen(v) > 20) return -1;
    uint64_t x = 0;
    for (const char *p = v; *p; p++) {
        if (!isdigit((unsigned char)*p)) return -1;
        if (x > (UINT64_MAX - 9) / 10) return -1;
        x = x * 10 + (uint64_t)(*p - '0');
    }
    if (x > max) return -1;
    *out = x;
    return 1;
}

int srv_status_for(int code)
{
    switch (code) {
    case MAIF_OK: return 200;
    case MAIF_EINVAL:
    case MAIF_EJSON:
    case MAIF_ELIMIT: return 422;
    case MAIF_ENOTFOUND: return 404;
    case MAIF_EACCESS: return 403;
    case MAIF_EEXIST: return 409;
    case MAIF_ELOCKED: return 503;
    case MAIF_EUNSUPPORTED: return 422;
    default: return 500;
    }
}

static const char *code_name(int status)
{
    switch (status) {
    case 400: return "bad_request";
    case 401: return "unauthenticated";
    case 403: return "forbidden";
    case 404: return "not_found";
    case 405: return "method_not_allowed";
    case 408: return "request_timeout";
    case 409: return "conflict";
    case 413: return "too_large";
    case 415: return "unsupported_media_type";
    case 422: return "unprocessable";
    case 429: return "rate_limited";
    case 503: return "unavailable";
    default: return "internal";
    }
}

static void add_common_headers(srv_req *q, struct MHD_Response *r)
{
    char tp[56];
    obs_trace_format(&q->trace, tp);
    MHD_add_response_header(r, "traceparent", tp);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    if (atomic_load(&q->s->stopping)) MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
}

static enum MHD_Result queue(srv_req *q, int status, struct MHD_Response *r, size_t n)
{
    if (!r) {
        q->status = 500;
        return MHD_NO;
    }
    add_common_headers(q, r);
    if (status == 401) MHD_add_response_header(r, "WWW-Authenticate", "Bearer realm=\"maif\"");
    if (status == 405) {
        const char *allow = "GET";
        if (q->route == OBS_R_LIST || q->route == OBS_R_CREATE) allow = "GET, POST";
        else if (q->route == OBS_R_BLOCKS || q->route == OBS_R_APPEND) allow = "GET, POST";
        else if (q->route == OBS_R_COMMIT) allow = "POST";
        MHD_add_response_header(r, "Allow", allow);
    }
    if (status == 429) {
        char ra[24];
        snprintf(ra, sizeof ra, "%u", q->retry_after ? q->retry_after : 1);
        MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, ra);
    }
    if (status == 503 || status == 413 || status == 408) MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    q->status = status;
    q->bytes_out = n;
    q->responded = 1;
    enum MHD_Result rc = MHD_queue_response(q->conn, (unsigned)status, r);
    MHD_destroy_response(r);
    return rc;
}

enum MHD_Result srv_reply_raw(srv_req *q, int status, const char *ctype, void *data, size_t n, int must_free)
{
    if (q->responded) {
        if (must_free) free(data);
        return MHD_YES;
    }
    struct MHD_Response *r =
        MHD_create_response_from_buffer(n, data, must_free ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!r) {
        if (must_free) free(data);
        return MHD_NO;
    }
    if (ctype) MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    return queue(q, status, r, n);
}

enum MHD_Result srv_reply_json(srv_req *q, int status, json_t *doc)
{
    char *s = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (!s) return srv_reply_error(q, 500, "out of memory");
    size_t n = strlen(s);
    return srv_reply_raw(q, status, "application/json", s, n, 1);
}

enum MHD_Result srv_reply_error(srv_req *q, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(q->err, sizeof q->err, fmt, ap);
    va_end(ap);
    for (char *p = q->err; *p; p++)
        if ((unsigned char)*p < 0x20) *p = ' ';
    if (status == 403) obs_count(OBS_C_ACCESS_DENIALS, 1);
    if (status == 429) obs_count(OBS_C_RATE_LIMITED, 1);
    char tid[33];
    obs_trace_id_hex(&q->trace, tid);
    json_t *doc = json_pack("{s:{s:i,s:s,s:s},s:s}", "error", "status", status, "code", code_name(status), "message",
                            q->err, "trace_id", tid);
    char *s = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (!s) return MHD_NO;
    return srv_reply_raw(q, status, "application/json", s, strlen(s), 1);
}

/* ---- the public routes */

static enum MHD_Result route_metrics(srv_req *q)
{
    char *out = NULL;
    size_t n = 0;
    srv_artifacts_sync(q->s); /* maif_commits_total counts what the readers see */
    if (obs_metrics_render(&out, &n) != 0) return srv_reply_error(q, 500, "metrics: out of memory");
    return srv_reply_raw(q, 200, "text/plain; version=0.0.4; charset=utf-8", out, n, 1);
}

static enum MHD_Result route_ui(srv_req *q, const char *rest)
{
    /* rest: the path after "/ui" ("" or "/..."); "" and "/" are the index */
    if (!*rest) {
        struct MHD_Response *r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
        if (!r) return MHD_NO;
        MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, "/ui/");
        return queue(q, 301, r, 0);
    }
    const char *p = rest[1] ? rest + 1 : "index.html";
    if (strstr(p, "..")) return srv_reply_error(q, 400, "bad path");
    const ui_asset *a = ui_asset_find(p);
    if (!a) return srv_reply_error(q, 404, "no such file in the viewer");
    struct MHD_Response *r = MHD_create_response_from_buffer(a->len, (void *)a->data, MHD_RESPMEM_PERSISTENT);
    if (!r) return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, a->content_type);
    return queue(q, 200, r, a->len);
}

/* ---- dispatch */

/* Splits the raw path into decoded segments; -1 when a segment does not
 * decode (a bad escape or a NUL). */
static int split_path(const char *url, char seg[PATH_SEGS][SRV_NAME_MAX + 2], int *nseg)
{
    *nseg = 0;
    const char *p = url;
    if (*p != '/') return -1;
    while (*p) {
        while (*p == '/') p++;
        if (!*p) break;
        const char *e = strchr(p, '/');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (*nseg == PATH_SEGS) return -2; /* too deep: no route */
        if (srv_pct_decode(p, n, seg[*nseg], SRV_NAME_MAX + 2, 0) < 0) return -1;
        (*nseg)++;
        p += n;
    }
    return 0;
}

static int is_post(const char *m) { return strcmp(m, "POST") == 0; }
static int is_get(const char *m) { return strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0; }

/* The /v1 route for the segments after "v1", with the scope it needs;
 * *method_ok 0 when the path exists but not with this method. */
static obs_route classify(char seg[PATH_SEGS][SRV_NAME_MAX + 2], int nseg, const char *m, unsigned *scope,
                          int *method_ok)
{
    *method_ok = 1;
    *scope = SRV_SCOPE_READ;
    if (nseg < 2 || strcmp(seg[1], "artifacts") != 0) return OBS_R_OTHER;
    if (nseg == 2) {
        if (is_post(m)) {
            *scope = SRV_SCOPE_ADMIN;
            return OBS_R_CREATE;
        }
        *method_ok = is_get(m);
        return OBS_R_LIST;
    }
    if (nseg == 3) {
        *method_ok = is_get(m);
        return OBS_R_INFO;
    }
    const char *w = seg[3];
    if (nseg == 4) {
        if (!strcmp(w, "blocks")) {
            if (is_post(m)) {
                *scope = SRV_SCOPE_WRITE;
                return OBS_R_APPEND;
            }
            *method_ok = is_get(m);
            return OBS_R_BLOCKS;
        }
        if (!strcmp(w, "commit")) {
            *scope = SRV_SCOPE_WRITE;
            *method_ok = is_post(m);
            return OBS_R_COMMIT;
        }
        static const struct {
            const char *n;
            obs_route r;
        } gets[] = {{"search", OBS_R_SEARCH}, {"verify", OBS_R_VERIFY}, {"history", OBS_R_HISTORY},
                    {"audit", OBS_R_AUDIT},   {"proof", OBS_R_PROOF},   {"graph", OBS_R_GRAPH}};
        for (size_t i = 0; i < sizeof gets / sizeof gets[0]; i++)
            if (!strcmp(w, gets[i].n)) {
                *method_ok = is_get(m);
                return gets[i].r;
            }
        return OBS_R_OTHER;
    }
    if (nseg == 5 && !strcmp(w, "blocks")) {
        *method_ok = is_get(m);
        return OBS_R_BLOCK;
    }
    return OBS_R_OTHER;
}

static enum MHD_Result run_route(srv_req *q)
{
    switch (q->route) {
    case OBS_R_LIST: return srv_route_list(q);
    case OBS_R_CREATE: return srv_route_create(q);
    case OBS_R_INFO: return srv_route_info(q);
    case OBS_R_BLOCKS: return srv_route_blocks(q);
    case OBS_R_APPEND: return srv_route_append(q);
    case OBS_R_COMMIT: return srv_route_commit(q);
    case OBS_R_BLOCK: return srv_route_block(q);
    case OBS_R_SEARCH: return srv_route_search(q);
    case OBS_R_VERIFY: return srv_route_verify(q);
    case OBS_R_HISTORY: return srv_route_history(q);
    case OBS_R_AUDIT: return srv_route_audit(q);
    case OBS_R_PROOF: return srv_route_proof(q);
    case OBS_R_GRAPH: return srv_route_graph(q);
    default: return srv_reply_error(q, 404, "no such route");
    }
}

/* Content type without parameters, lower case, into out. */
static void media_type(const char *ct, char *out, size_t cap)
{
    size_t i = 0;
    if (ct)
        for (; ct[i] && ct[i] != ';' && i + 1 < cap; i++) out[i] = (char)tolower((unsigned char)ct[i]);
    while (i && out[i - 1] == ' ') i--;
    out[i] = '\0';
}

/* mTLS: the client certificate must chain to --client-ca. 0 or a status. */

static int check_client_cert(srv_req *q)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(q->conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    if (!ci || !ci->tls_session) {
        snprintf(q->err, sizeof q->err, "no TLS session");
        return 401;
    }
    gnutls_session_t ses = (gnutls_session_t)ci->tls_session;
    unsigned int n = 0;
    if (!gnutls_certificate_get_peers(ses, &n) || n == 0) {
        snprintf(q->err, sizeof q->err, "a client certificate is required");
        return 401;
    }
    unsigned int status = 0;
    int rc = gnutls_certificate_verify_peers2(ses, &status);
    if (rc < 0 || status != 0) {
        snprintf(q->err, sizeof q->err, "the client certificate is not trusted");
        return 403;
    }
    return 0;
}

/* The first call of a request: everything decided from the headers. */
static enum MHD_Result start(srv_req *q, const char *url, const char *method)
{
    srv_server *s = q->s;
    char seg[PATH_SEGS][SRV_NAME_MAX + 2];
    int nseg = 0;
    int sp = split_path(url, seg, &nseg);
    /* the public routes */
    if (sp == 0 && nseg >= 1 && strcmp(seg[0], "v1") != 0) {
        if (!strcmp(url, "/healthz")) q->route = OBS_R_HEALTHZ;
        else if (!strcmp(url, "/readyz")) q->route = OBS_R_READYZ;
        else if (!strcmp(url, "/metrics")) q->route = OBS_R_METRICS;
        else if (!strncmp(url, "/ui", 3) && (url[3] == '/' || url[3] == '\0')) q->route = OBS_R_UI;
        if (q->route != OBS_R_OTHER && !is_get(method)) return srv_reply_error(q, 405, "%s takes GET", url);
        switch (q->route) {
        case OBS_R_HEALTHZ: return srv_reply_json(q, 200, json_pack("{s:s}", "status", "ok"));
        case OBS_R_READYZ:
            if (atomic_load(&s->ready) && !atomic_load(&s->stopping))
                return srv_reply_json(q, 200, json_pack("{s:s}", "status", "ready"));
            return srv_reply_error(q, 503, atomic_load(&s->stopping) ? "shutting down" : "starting");
        case OBS_R_METRICS: return route_metrics(q);
        case OBS_R_UI: return route_ui(q, url + 3);
        default: break;
        }
    }
    if (sp == -1) return srv_reply_error(q, 400, "the path does not decode (a bad %%-escape or a NUL)");
    if (sp != 0 || nseg < 1 || strcmp(seg[0], "v1") != 0) return srv_reply_error(q, 404, "no such route");
    unsigned scope;
    int method_ok;
    q->route = classify(seg, nseg, method, &scope, &method_ok);
    if (q->route == OBS_R_OTHER) return srv_reply_error(q, 404, "no such route");
    if (!method_ok) return srv_reply_error(q, 405, "method %s not allowed here", method);
    if (s->cfg.client_ca) { /* mTLS guards the API; probes and metrics stay reachable */
        int st = check_client_cert(q);
        if (st) return srv_reply_error(q, st, "%s", q->err);
    }
    /* over the connection limit, or shutting down: 503 and close */
    if (atomic_load(&s->stopping)) return srv_reply_error(q, 503, "shutting down");
    if ((unsigned long)atomic_load(&s->connections) > s->conn_soft_limit)
        return srv_reply_error(q, 503, "too many connections (--max-connections %u)", s->cfg.max_connections);
    /* authentication, scope, rate */
    if (!s->cfg.no_auth) {
        const char *why = NULL;
        const char *h = MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
        q->tok = srv_auth_lookup(&s->tokens, h, &why);
        if (!q->tok) return srv_reply_error(q, 401, "%s", why);
        if (!(q->tok->scopes & scope))
            return srv_reply_error(q, 403, "the token has no \"%s\" scope",
                                   scope == SRV_SCOPE_READ ? "read" : scope == SRV_SCOPE_WRITE ? "write" : "admin");
        unsigned wait = srv_rate_take((srv_token *)q->tok);
        if (wait) {
            q->retry_after = wait;
            return srv_reply_error(q, 429, "rate limit of token %s reached", q->tok->name);
        }
    }
    if (nseg >= 3) {
        if (!srv_name_ok(seg[2])) return srv_reply_error(q, 400, "bad artifact name");
        snprintf(q->artifact, sizeof q->artifact, "%.128s", seg[2]);
        if (q->tok && !srv_auth_artifact_ok(q->tok, q->artifact))
            return srv_reply_error(q, 403, "the token may not use artifact %s", q->artifact);
        int st = 0;
        char err[256];
        q->a = srv_artifact_get(s, q->artifact, &st, err, sizeof err);
        if (!q->a) return srv_reply_error(q, st, "%s", err);
    }
    if (nseg == 5) snprintf(q->sub, sizeof q->sub, "%.31s", seg[4]);
    /* bodies */
    if (is_post(method)) {
        const char *cl = MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        char mt[96];
        media_type(MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE), mt,
                   sizeof mt);
        q->body_limit = s->cfg.max_body;
        if (q->route == OBS_R_APPEND && strcmp(mt, "application/json") != 0) {
            char err[256];
            int st = srv_append_begin(q, err, sizeof err); /* binary: a temp file, headers checked */
            if (st) return srv_reply_error(q, st, "%s", err);
        } else {
            if (q->route != OBS_R_APPEND && q->body_limit > 65536) q->body_limit = 65536;
            if (q->body_limit > MAIF_PARSE_MAX) q->body_limit = MAIF_PARSE_MAX;
            if (strcmp(mt, "application/json") != 0 && !(q->route == OBS_R_COMMIT && !*mt))
                return srv_reply_error(q, 415, "this route takes application/json");
            q->body_kind = SRV_BODY_JSON;
        }
        if (cl) {
            char *e;
            unsigned long long n = strtoull(cl, &e, 10);
            if (*e || (uint64_t)n > q->body_limit)
                return srv_reply_error(q, 413, "the body is over %llu bytes", (unsigned long long)q->body_limit);
        }
        return MHD_YES; /* the body comes next */
    }
    return run_route(q);
}

static srv_conn *conn_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? (srv_conn *)ci->socket_context : NULL;
}


enum MHD_Result srv_access(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                           const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
    srv_server *s = cls;
    srv_req *q = *con_cls;
    if (!q) {
        q = calloc(1, sizeof *q);
        if (!q) return MHD_NO;
        q->s = s;
        q->conn = conn;
        q->fd = -1;
        q->start_ns = obs_now_ns();
        q->route = OBS_R_OTHER;
        q->method = method;
        q->path = strdup(url ? url : "");
        *con_cls = q;
        atomic_fetch_add(&s->in_flight, 1);
        obs_in_flight(1);
        obs_trace_start(&q->trace,
                        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "traceparent"));
        q->sc = conn_of(conn);
        if (q->sc) {
            pthread_mutex_lock(&s->connmu);
            q->sc->busy = 1;
            snprintf(q->remote, sizeof q->remote, "%s", q->sc->remote);
            pthread_mutex_unlock(&s->connmu);
        }
        if (!q->path) return srv_reply_error(q, 500, "out of memory");
        return start(q, url ? url : "/", method);
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        q->bytes_in += n;
        if (q->responded) return MHD_YES;
        if (q->timed_out) return MHD_NO;
        if (s->cfg.timeout && obs_now_ns() - q->start_ns > (uint64_t)s->cfg.timeout * 1000000000ull) {
            q->timed_out = 1;
            q->status = 408;
            snprintf(q->err, sizeof q->err, "the body took longer than %u s", s->cfg.timeout);
            return MHD_NO; /* MHD cannot queue a reply mid-body: close */
        }
        if (q->over) {
            q->discard += n;
            return q->discard > (1u << 20) ? MHD_NO : MHD_YES;
        }
        if (q->bytes_in > q->body_limit) {
            q->over = 1;
            return MHD_YES;
        }
        if (srv_body_chunk(q, upload_data, n)) {
            q->status = 500;
            return MHD_NO;
        }
        return MHD_YES;
    }
    if (q->responded) return MHD_YES;
    if (q->over) return srv_reply_error(q, 413, "the body is over %llu bytes", (unsigned long long)q->body_limit);
    if (q->suspended) {
        if (!atomic_load(&q->async_done)) return MHD_YES;
        return srv_route_append_finish(q);
    }
    return run_route(q);
}

void srv_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    srv_server *s = cls;
    srv_req *q = *con_cls;
    if (!q) return;
    *con_cls = NULL;
    if (!q->responded && !q->status) q->status = 499; /* the client went away (nginx's convention) */
    if (!q->responded && !q->err[0]) {
        const char *why = toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED ? "connection timed out"
                          : toe == MHD_REQUEST_TERMINATED_CLIENT_ABORT ? "the client closed the connection"
                          : toe == MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN ? "server shutdown"
                                                                             : "the request was aborted";
        snprintf(q->err, sizeof q->err, "%s", why);
    }
    obs_request rq = {
        .route = q->route,
        .method = q->method,
        .path = q->path,
        .status = q->status,
        .start_ns = q->start_ns,
        .end_ns = obs_now_ns(),
        .bytes_in = q->bytes_in,
        .bytes_out = q->bytes_out,
        .token = q->tok ? q->tok->name : NULL,
        .artifact = q->artifact[0] ? q->artifact : NULL,
        .remote = q->remote[0] ? q->remote : NULL,
        .error = q->err[0] ? q->err : NULL,
        .trace = &q->trace,
    };
    obs_request_end(&rq);
    if (q->sc) {
        pthread_mutex_lock(&s->connmu);
        q->sc->busy = 0;
        q->sc->since_ns = obs_now_ns();
        pthread_mutex_unlock(&s->connmu);
    }
    srv_artifact_put(s, q->a); /* after any async commit: its callback ran before the resume */
    maif_block_draft_free(q->draft);
    if (q->fd >= 0) close(q->fd);
    free(q->body);
    free(q->meta);
    free(q->path);
    free(q);
    obs_in_flight(-1);
    atomic_fetch_sub(&s->in_flight, 1);
}

