/*
 * obs_otlp.c — export of finished request spans as OTLP/HTTP JSON
 * (an ExportTraceServiceRequest POSTed to the configured endpoint).
 *
 * Request threads only copy a span into a fixed ring under a mutex held for
 * a memcpy: when the ring is full the span is dropped and counted, so a slow
 * or dead collector never slows a request. One exporter thread takes up to
 * BATCH_MAX spans at a time (when that many wait, or every FLUSH_MS), and
 * POSTs them over a plain socket of its own: a non-blocking connect and
 * poll()ed send/receive, every step bounded by a deadline. A failed batch is
 * counted and dropped, not retried: the server's own log keeps the record.
 * obs_otlp_stop drains what is queued within SHUTDOWN_MS, then gives up.
 *
 * Only http:// endpoints (a collector beside the server); name resolution
 * uses getaddrinfo, which has no timeout of its own: a numeric address or
 * a name in /etc/hosts is what a deployment should configure.
 */
#include "obs_int.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define Q_CAP 4096             /* spans waiting; more are dropped */
#define BATCH_MAX 512          /* spans per export request */
#define FLUSH_MS 1000          /* a partial batch waits at most this long */
#define CONNECT_MS 2000        /* connect timeout */
#define EXCHANGE_MS 5000       /* whole request/response of one batch */
#define SHUTDOWN_MS 3000       /* obs_shutdown's wait for the last spans */
#define SPAN_PATH_MAX 256      /* url.path bytes kept per span */
#define HOST_MAX 255
#define URL_PATH_MAX 512

typedef struct span_rec {
    uint8_t trace_id[16], span_id[8], parent_id[8];
    int has_parent;
    uint64_t start_ns, end_ns; /* monotonic */
    int status;
    obs_route route;
    char method[16];
    char path[SPAN_PATH_MAX + 1];
} span_rec;

/* The ring and the batch are static: a detached exporter (one that outlived
 * its shutdown wait) may still touch them. */
static span_rec ring[Q_CAP];
static span_rec batch[BATCH_MAX];
static size_t q_head, q_count;   /* guarded by q_lock */
static int q_stop;               /* guarded by q_lock */
static int q_running;            /* an exporter thread exists (guarded by q_lock) */
static pthread_mutex_t q_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t q_cond;
static pthread_t q_thread;
/* monotonic ns by which the exporter must be done, 0 while not stopping:
 * every wait of an export in progress is cut at it */
static _Atomic uint64_t stop_deadline;

static _Atomic uint64_t st_exported, st_dropped, st_failed;
static _Atomic int accepting;    /* obs_otlp_enqueue queues spans */

static char ep_host[HOST_MAX + 1], ep_port[16], ep_path[URL_PATH_MAX + 1], ep_hosthdr[HOST_MAX + 32];
static char service[128];

void obs_otlp_stats(uint64_t *exported, uint64_t *dropped, uint64_t *failed_batches) {
    *exported = atomic_load(&st_exported);
    *dropped = atomic_load(&st_dropped);
    *failed_batches = atomic_load(&st_failed);
}

/* ---- the endpoint URL */

static int fail(char *err, size_t cap, const char *msg) {
    if (err && cap) snprintf(err, cap, "%s", msg);
    return -1;
}

static int parse_url(const char *url, char *err, size_t cap) {
    if (strncasecmp(url, "https://", 8) == 0)
        return fail(err, cap, "otlp endpoint: https is not supported (use an http:// collector)");
    if (strncasecmp(url, "http://", 7) != 0)
        return fail(err, cap, "otlp endpoint: not an http:// URL");
    const char *p = url + 7, *h0, *h1;
    if (*p == '[') {
        h0 = p + 1;
        h1 = strchr(h0, ']');
        if (!h1) return fail(err, cap, "otlp endpoint: unclosed [ in the host");
        for (const char *q = h0; q < h1; q++)
            if (!strchr("0123456789abcdefABCDEF:.", *q))
                return fail(err, cap, "otlp endpoint: bad IPv6 address");
        p = h1 + 1;
    } else {
        h0 = p;
        while (*p && *p != ':' && *p != '/') {
            char c = *p;
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '-' || c == '_'))
                return fail(err, cap, "otlp endpoint: bad character in the host");
            p++;
        }
        h1 = p;
    }
    size_t hl = (size_t)(h1 - h0);
    if (hl == 0) return fail(err, cap, "otlp endpoint: no host");
    if (hl > HOST_MAX) return fail(err, cap, "otlp endpoint: host too long");
    memcpy(ep_host, h0, hl);
    ep_host[hl] = '\0';
    unsigned port = 80;
    if (*p == ':') {
        p++;
        if (*p < '0' || *p > '9') return fail(err, cap, "otlp endpoint: bad port");
        port = 0;
        while (*p >= '0' && *p <= '9') {
            port = port * 10 + (unsigned)(*p++ - '0');
            if (port > 65535) return fail(err, cap, "otlp endpoint: bad port");
        }
        if (port == 0) return fail(err, cap, "otlp endpoint: bad port");
    }
    if (*p && *p != '/') return fail(err, cap, "otlp endpoint: bad port");
    const char *path = *p ? p : "/v1/traces";
    if (strlen(path) > URL_PATH_MAX) return fail(err, cap, "otlp endpoint: path too long");
    for (const char *q = path; *q; q++)
        if ((unsigned char)*q <= 0x20 || (unsigned char)*q >= 0x7f)
            return fail(err, cap, "otlp endpoint: bad character in the path");
    snprintf(ep_port, sizeof ep_port, "%u", port);
    snprintf(ep_path, sizeof ep_path, "%s", path);
    int v6 = strchr(ep_host, ':') != NULL;
    snprintf(ep_hosthdr, sizeof ep_hosthdr, "%s%s%s:%u", v6 ? "[" : "", ep_host, v6 ? "]" : "", port);
    return 0;
}

/* ---- the request body */

static void put_u64_str(obs_buf *b, uint64_t v) {
    obs_buf_printf(b, "\"%llu\"", (unsigned long long)v);
}

static void put_attr_str(obs_buf *b, const char *key, const char *val, size_t max, int comma) {
    obs_buf_printf(b, "%s{\"key\":\"%s\",\"value\":{\"stringValue\":", comma ? "," : "", key);
    obs_buf_json_str(b, val, max);
    obs_buf_puts(b, "}}");
}

static void build_body(obs_buf *b, const span_rec *s, size_t n) {
    obs_buf_puts(b, "{\"resourceSpans\":[{\"resource\":{\"attributes\":[");
    put_attr_str(b, "service.name", service, sizeof service, 0);
    obs_buf_puts(b, "]},\"scopeSpans\":[{\"scope\":{\"name\":\"maif.server\"},\"spans\":[");
    for (size_t i = 0; i < n; i++) {
        const span_rec *r = &s[i];
        const char *route = obs_route_name(r->route);
        obs_buf_puts(b, i ? ",{" : "{");
        obs_buf_puts(b, "\"traceId\":\"");
        obs_buf_hex(b, r->trace_id, 16);
        obs_buf_puts(b, "\",\"spanId\":\"");
        obs_buf_hex(b, r->span_id, 8);
        obs_buf_puts(b, "\"");
        if (r->has_parent) {
            obs_buf_puts(b, ",\"parentSpanId\":\"");
            obs_buf_hex(b, r->parent_id, 8);
            obs_buf_puts(b, "\"");
        }
        obs_buf_printf(b, ",\"name\":\"%s\",\"kind\":2,\"startTimeUnixNano\":", route);
        put_u64_str(b, obs_wall_ns(r->start_ns));
        obs_buf_puts(b, ",\"endTimeUnixNano\":");
        put_u64_str(b, obs_wall_ns(r->end_ns >= r->start_ns ? r->end_ns : r->start_ns));
        obs_buf_puts(b, ",\"attributes\":[");
        put_attr_str(b, "http.request.method", r->method, sizeof r->method, 0);
        put_attr_str(b, "http.route", route, 32, 1);
        obs_buf_printf(b, ",{\"key\":\"http.response.status_code\",\"value\":{\"intValue\":\"%d\"}}",
                       r->status);
        put_attr_str(b, "url.path", r->path, SPAN_PATH_MAX, 1);
        obs_buf_puts(b, "]");
        if (r->status >= 500) obs_buf_puts(b, ",\"status\":{\"code\":2}");
        obs_buf_puts(b, "}");
    }
    obs_buf_puts(b, "]}]}]}");
}

/* ---- one POST, every step bounded by deadline (monotonic ns) */

static int ms_left(uint64_t deadline) {
    uint64_t now = obs_now_ns(), stop = atomic_load(&stop_deadline);
    if (stop && stop < deadline) deadline = stop;
    if (now >= deadline) return 0;
    uint64_t ms = (deadline - now + 999999) / 1000000;
    return ms > 60000 ? 60000 : (int)ms;
}

static int wait_fd(int fd, short ev, uint64_t deadline) {
    for (;;) {
        int ms = ms_left(deadline);
        if (ms == 0) return -1;
        /* in slices, so a shutdown that starts meanwhile cuts the wait */
        if (ms > 100) ms = 100;
        struct pollfd p = {.fd = fd, .events = ev};
        int r = poll(&p, 1, ms);
        if (r > 0) return 0;
        if (r < 0 && errno != EINTR) return -1;
    }
}

static int connect_to(uint64_t deadline) {
    struct addrinfo hints = {0}, *ai = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(ep_host, ep_port, &hints, &ai) != 0) return -1;
    int fd = -1;
    for (struct addrinfo *a = ai; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) continue;
        uint64_t cd = obs_now_ns() + (uint64_t)CONNECT_MS * 1000000u;
        if (cd > deadline) cd = deadline;
        int r = connect(fd, a->ai_addr, a->ai_addrlen);
        if (r != 0 && errno == EINPROGRESS) {
            int e = 0;
            socklen_t el = sizeof e;
            r = (wait_fd(fd, POLLOUT, cd) == 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) == 0 &&
                 e == 0) ? 0 : -1;
        }
        if (r != 0) { close(fd); fd = -1; }
    }
    freeaddrinfo(ai);
    return fd;
}

static int send_all(int fd, const char *p, size_t n, uint64_t deadline) {
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w > 0) { p += w; n -= (size_t)w; continue; }
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (wait_fd(fd, POLLOUT, deadline) != 0) return -1;
            continue;
        }
        return -1;
    }
    return 0;
}

/* The status code of the answer (reads the status line only), or -1. */
static int read_status(int fd, uint64_t deadline) {
    char buf[256];
    size_t n = 0;
    while (n < sizeof buf - 1) {
        ssize_t r = recv(fd, buf + n, sizeof buf - 1 - n, 0);
        if (r > 0) {
            n += (size_t)r;
            buf[n] = '\0';
            if (strstr(buf, "\r\n")) break;
            continue;
        }
        if (r == 0) break;
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            if (wait_fd(fd, POLLIN, deadline) != 0) return -1;
            continue;
        }
        return -1;
    }
    buf[n] = '\0';
    int code;
    if (sscanf(buf, "HTTP/1.%*1[01] %3d", &code) != 1) return -1;
    return code;
}

static int post(const obs_buf *body, uint64_t deadline) {
    int fd = connect_to(deadline);
    if (fd < 0) return -1;
    char head[URL_PATH_MAX + HOST_MAX + 256];
    int hn = snprintf(head, sizeof head,
                      "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
                      "Content-Length: %zu\r\nConnection: close\r\nUser-Agent: maif-serve\r\n\r\n",
                      ep_path, ep_hosthdr, body->len);
    int rc = -1;
    if (hn > 0 && (size_t)hn < sizeof head && send_all(fd, head, (size_t)hn, deadline) == 0 &&
        send_all(fd, body->p, body->len, deadline) == 0) {
        int code = read_status(fd, deadline);
        rc = code >= 200 && code < 300 ? 0 : -1;
    }
    close(fd);
    return rc;
}

static void export_batch(size_t n) {
    obs_buf body = {0};
    build_body(&body, batch, n);
    uint64_t deadline = obs_now_ns() + (uint64_t)EXCHANGE_MS * 1000000u;
    if (!body.oom && post(&body, deadline) == 0) {
        atomic_fetch_add(&st_exported, n);
    } else {
        atomic_fetch_add(&st_failed, 1);
        atomic_fetch_add(&st_dropped, n);
    }
    free(body.p);
}

/* ---- the exporter thread */

static void abs_time_in(struct timespec *ts, int ms) {
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) { ts->tv_sec++; ts->tv_nsec -= 1000000000L; }
}

static void *exporter(void *arg) {
    (void)arg;
    pthread_mutex_lock(&q_lock);
    for (;;) {
        if (!q_stop && q_count < BATCH_MAX) {
            struct timespec ts;
            abs_time_in(&ts, FLUSH_MS);
            while (!q_stop && q_count < BATCH_MAX)
                if (pthread_cond_timedwait(&q_cond, &q_lock, &ts) == ETIMEDOUT) break;
        }
        if (q_count == 0) {
            if (q_stop) break;
            continue;
        }
        uint64_t limit = atomic_load(&stop_deadline);
        if (limit && obs_now_ns() >= limit) {
            atomic_fetch_add(&st_dropped, q_count); /* out of time: what is left is lost */
            q_count = 0;
            break;
        }
        size_t n = q_count < BATCH_MAX ? q_count : BATCH_MAX;
        for (size_t i = 0; i < n; i++) batch[i] = ring[(q_head + i) % Q_CAP];
        q_head = (q_head + n) % Q_CAP;
        q_count -= n;
        pthread_mutex_unlock(&q_lock);
        export_batch(n);
        pthread_mutex_lock(&q_lock);
    }
    pthread_mutex_unlock(&q_lock);
    return NULL;
}

int obs_otlp_start(const char *url, const char *svc, char *err, size_t cap) {
    pthread_mutex_lock(&q_lock);
    if (q_running) {
        pthread_mutex_unlock(&q_lock);
        return fail(err, cap, "otlp exporter already running");
    }
    if (parse_url(url, err, cap) != 0) { pthread_mutex_unlock(&q_lock); return -1; }
    snprintf(service, sizeof service, "%s", svc && *svc ? svc : "maif");
    static int cond_ready;
    if (!cond_ready) {
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&q_cond, &ca);
        pthread_condattr_destroy(&ca);
        cond_ready = 1;
    }
    q_head = q_count = 0;
    q_stop = 0;
    atomic_store(&stop_deadline, 0);
    /* the exporter takes no signal (SIGTERM and the like are the
     * server's): it starts with every signal blocked */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&q_thread, NULL, exporter, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        pthread_mutex_unlock(&q_lock);
        return fail(err, cap, "otlp exporter: cannot start its thread");
    }
    q_running = 1;
    atomic_store(&accepting, 1);
    pthread_mutex_unlock(&q_lock);
    return 0;
}

void obs_otlp_stop(void) {
    pthread_mutex_lock(&q_lock);
    if (!q_running) { pthread_mutex_unlock(&q_lock); return; }
    atomic_store(&accepting, 0);
    q_stop = 1;
    atomic_store(&stop_deadline, obs_now_ns() + (uint64_t)SHUTDOWN_MS * 1000000u);
    pthread_cond_signal(&q_cond);
    pthread_mutex_unlock(&q_lock);
    /* every wait of the exporter is bounded by stop_deadline except name
     * resolution: past a second more, leave it (it only touches statics) */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += SHUTDOWN_MS / 1000 + 1;
    int joined = pthread_timedjoin_np(q_thread, NULL, &ts) == 0;
    if (!joined) {
        pthread_detach(q_thread);
        obs_log("warn", "otlp exporter did not stop in time; its last spans are lost");
    }
    pthread_mutex_lock(&q_lock);
    q_running = joined ? 0 : 1; /* a detached exporter still owns the statics */
    pthread_mutex_unlock(&q_lock);
}

void obs_otlp_enqueue(const obs_request *rq) {
    if (!atomic_load_explicit(&accepting, memory_order_relaxed)) return;
    if (!rq->trace || !(rq->trace->flags & 0x01)) return; /* not sampled */
    pthread_mutex_lock(&q_lock);
    if (q_stop || !q_running) { pthread_mutex_unlock(&q_lock); return; }
    if (q_count == Q_CAP) {
        pthread_mutex_unlock(&q_lock);
        atomic_fetch_add(&st_dropped, 1);
        return;
    }
    span_rec *s = &ring[(q_head + q_count) % Q_CAP];
    memcpy(s->trace_id, rq->trace->trace_id, 16);
    memcpy(s->span_id, rq->trace->span_id, 8);
    memcpy(s->parent_id, rq->trace->parent_id, 8);
    s->has_parent = rq->trace->has_parent;
    s->start_ns = rq->start_ns;
    s->end_ns = rq->end_ns;
    s->status = rq->status;
    s->route = rq->route;
    snprintf(s->method, sizeof s->method, "%s", rq->method ? rq->method : "");
    snprintf(s->path, sizeof s->path, "%s", rq->path ? rq->path : "");
    q_count++;
    if (q_count == BATCH_MAX) pthread_cond_signal(&q_cond);
    pthread_mutex_unlock(&q_lock);
}
