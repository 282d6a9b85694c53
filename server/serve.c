/*
 * serve.c — `maif serve`: flags, the libmicrohttpd daemon, the main loop
 * and the shutdown (docs/API.md).
 *
 * The daemon runs a pool of --threads epoll threads; the main thread only
 * waits for SIGTERM/SIGINT (their handler writes a byte to a pipe it
 * polls), sweeps the artifacts ten times a second (closes writers idle for
 * --writer-idle so other processes can write, evicts idle artifacts over
 * --max-open) and, once a second, closes connections that have been
 * reading one request's headers for longer than --timeout (libmicrohttpd's
 * own timeout is an idle timeout: a byte a second would reset it forever).
 *
 * Shutdown: /readyz turns 503, the listening socket is closed
 * (MHD_quiesce_daemon), requests in flight finish (an append waiting for
 * its group commit is answered once durable), then every writer is closed
 * and the daemon stopped.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "serve.h"

#define PEM_MAX (1u << 20)
#define SHUTDOWN_WAIT_S 30
#define SWEEP_MS 100 /* housekeeping period: the granularity of --writer-idle */

static int sig_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
    char c = (char)sig;
    int e = errno;
    if (write(sig_pipe[1], &c, 1) < 0) { /* the pipe is full: a signal is pending already */
    }
    errno = e;
}

static int usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage(const char *fmt, ...)
{
    va_list ap;
    fputs("maif: serve: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs(" (see 'maif serve --help')\n", stderr);
    return SRV_EXIT_USAGE;
}

static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    if (!s || !*s) return 0;
    char *e;
    errno = 0;
    unsigned long long v = strtoull(s, &e, 10);
    if (errno || *e || s[0] == '-' || v > max) return 0;
    *out = v;
    return 1;
}

static int parse_pos_double(const char *s, double *out)
{
    if (!s || !*s) return 0;
    char *e;
    double v = strtod(s, &e);
    if (*e || !(v > 0) || v > 1e9) return 0;
    *out = v;
    return 1;
}

/* Reads a PEM file whole (NUL-terminated). */
static char *read_pem(const char *path, const char *what)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "maif: serve: %s %s: %s\n", what, path, strerror(errno));
        return NULL;
    }
    char *b = malloc(PEM_MAX + 1);
    size_t n = b ? fread(b, 1, PEM_MAX + 1, f) : 0;
    fclose(f);
    if (!b || n == 0 || n > PEM_MAX) {
        fprintf(stderr, "maif: serve: %s %s: empty, unreadable or over 1 MiB\n", what, path);
        free(b);
        return NULL;
    }
    b[n] = '\0';
    if (!strstr(b, "-----BEGIN")) {
        fprintf(stderr, "maif: serve: %s %s: not PEM\n", what, path);
        free(b);
        return NULL;
    }
    return b;
}

typedef struct listen_addr {
    struct sockaddr_storage ss;
    socklen_t len;
    int loopback;
    char host[64];
} listen_addr;

static int parse_listen(const char *s, listen_addr *a)
{
    memset(a, 0, sizeof *a);
    const char *colon = strrchr(s, ':');
    if (!colon) return 0;
    char host[48];
    size_t hn = (size_t)(colon - s);
    if (hn == 0 || hn >= sizeof host) return 0;
    memcpy(host, s, hn);
    host[hn] = '\0';
    uint64_t port;
    if (!parse_u64(colon + 1, 65535, &port)) return 0;
    if (host[0] == '[') {
        size_t l = strlen(host);
        if (l < 3 || host[l - 1] != ']') return 0;
        host[l - 1] = '\0';
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&a->ss;
        if (inet_pton(AF_INET6, host + 1, &in6->sin6_addr) != 1) return 0;
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        a->len = sizeof *in6;
        a->loopback = IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
        snprintf(a->host, sizeof a->host, "[%s]", host + 1);
    } else {
        struct sockaddr_in *in = (struct sockaddr_in *)&a->ss;
        if (!strcmp(host, "localhost")) snprintf(host, sizeof host, "127.0.0.1");
        if (inet_pton(AF_INET, host, &in->sin_addr) != 1) return 0;
        in->sin_family = AF_INET;
        in->sin_port = htons((uint16_t)port);
        a->len = sizeof *in;
        a->loopback = (ntohl(in->sin_addr.s_addr) >> 24) == 127;
        snprintf(a->host, sizeof a->host, "%s", host);
    }
    return 1;
}

/* ---- connections */

static void notify_conn(void *cls, struct MHD_Connection *conn, void **socket_context,
                        enum MHD_ConnectionNotificationCode toe)
{
    srv_server *s = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        srv_conn *c = calloc(1, sizeof *c);
        *socket_context = c;
        atomic_fetch_add(&s->connections, 1);
        if (!c) return;
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        c->fd = ci ? ci->connect_fd : -1;
        ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        if (ci && ci->client_addr) {
            const struct sockaddr *sa = ci->client_addr;
            char h[INET6_ADDRSTRLEN] = "";
            if (sa->sa_family == AF_INET) inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, h, sizeof h);
            else if (sa->sa_family == AF_INET6)
                inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, h, sizeof h);
            snprintf(c->remote, sizeof c->remote, "%s", h);
        }
        c->since_ns = obs_now_ns();
        pthread_mutex_lock(&s->connmu);
        c->next = s->conns;
        if (s->conns) s->conns->prev = c;
        s->conns = c;
        pthread_mutex_unlock(&s->connmu);
    } else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
        srv_conn *c = *socket_context;
        atomic_fetch_sub(&s->connections, 1);
        if (!c) return;
        pthread_mutex_lock(&s->connmu);
        if (c->prev) c->prev->next = c->next;
        else s->conns = c->next;
        if (c->next) c->next->prev = c->prev;
        pthread_mutex_unlock(&s->connmu);
        free(c);
        *socket_context = NULL;
    }
}

/* Connections reading one request's headers (or idle) for longer than
 * --timeout are shut down: libmicrohttpd then closes them. */
static void reap(srv_server *s)
{
    uint64_t now = obs_now_ns(), lim = (uint64_t)s->cfg.timeout * 1000000000ull;
    pthread_mutex_lock(&s->connmu);
    for (srv_conn *c = s->conns; c; c = c->next)
        if (!c->busy && !c->reaped && c->fd >= 0 && now - c->since_ns > lim) {
            c->reaped = 1;
            shutdown(c->fd, SHUT_RDWR);
            char m[160];
            snprintf(m, sizeof m, "closed a connection from %s: no complete request within %u s", c->remote,
                     s->cfg.timeout);
            obs_log("warn", m);
        }
    pthread_mutex_unlock(&s->connmu);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char m[512];
    vsnprintf(m, sizeof m, fmt, ap);
    size_t n = strlen(m);
    while (n && (m[n - 1] == '\n' || m[n - 1] == ' ')) m[--n] = '\0';
    char line[560];
    snprintf(line, sizeof line, "http: %s", m);
    obs_log("warn", line);
}

/* The URL is kept as received: serve_routes.c decodes it per segment. */
static size_t keep_escaped(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls;
    (void)c;
    return strlen(s);
}

static int write_ready_file(const char *path, const char *url)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) return -1;
    FILE *f = fopen(tmp, "w");
    if (!f) return -1;
    fprintf(f, "%s\n", url);
    if (fclose(f) != 0) return -1;
    return rename(tmp, path);
}

static const char HELP_FLAGS[] =
    "--dir --listen --tokens --no-auth --key --tls-cert --tls-key --client-ca --max-body --max-connections "
    "--threads --rate --burst --log --otlp-endpoint --ready-file --timeout --writer-idle --max-open";

int maif_serve_main(int argc, char **argv)
{
    srv_server *s = calloc(1, sizeof *s);
    if (!s) return SRV_EXIT_RUNTIME;
    srv_config *c = &s->cfg;
    c->listen = "127.0.0.1:8420";
    c->max_body = 64ull << 20;
    c->max_connections = 1024;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    c->threads = (unsigned)(2 * (ncpu > 0 ? ncpu : 1));
    c->rate = 10000;
    c->burst = 20000;
    c->log = "-";
    c->timeout = 30;
    c->writer_idle_ms = 1000;
    c->max_open = 256;
    int ex = SRV_EXIT_USAGE;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        char name[40];
        const char *eq = strchr(a, '=');
        if (strncmp(a, "--", 2) != 0) {
            ex = usage("unexpected argument '%.80s'", a);
            goto out;
        }
        if (eq) {
            snprintf(name, sizeof name, "%.*s", (int)(eq - a), a);
            v = eq + 1;
        } else
            snprintf(name, sizeof name, "%s", a);
        if (!strcmp(name, "--no-auth")) {
            if (v) {
                ex = usage("--no-auth takes no value");
                goto out;
            }
            c->no_auth = 1;
            continue;
        }
        if (!v) {
            if (i + 1 >= argc) {
                ex = usage("%s needs a value", name);
                goto out;
            }
            v = argv[++i];
        }
        uint64_t u;
        if (!strcmp(name, "--dir")) c->dir = v;
        else if (!strcmp(name, "--listen")) c->listen = v;
        else if (!strcmp(name, "--tokens")) c->tokens = v;
        else if (!strcmp(name, "--key")) c->key = v;
        else if (!strcmp(name, "--tls-cert")) c->tls_cert = v;
        else if (!strcmp(name, "--tls-key")) c->tls_key = v;
        else if (!strcmp(name, "--client-ca")) c->client_ca = v;
        else if (!strcmp(name, "--log")) c->log = v;
        else if (!strcmp(name, "--otlp-endpoint")) c->otlp = v;
        else if (!strcmp(name, "--ready-file")) c->ready_file = v;
        else if (!strcmp(name, "--max-body")) {
            if (!parse_u64(v, 1ull << 40, &u) || u == 0) {
                ex = usage("--max-body takes a byte count 1..2^40");
                goto out;
            }
            c->max_body = u;
        } else if (!strcmp(name, "--max-connections")) {
            if (!parse_u64(v, 65536, &u) || u == 0) {
                ex = usage("--max-connections takes 1..65536");
                goto out;
            }
            c->max_connections = (unsigned)u;
        } else if (!strcmp(name, "--threads")) {
            if (!parse_u64(v, 256, &u) || u == 0) {
                ex = usage("--threads takes 1..256");
                goto out;
            }
            c->threads = (unsigned)u;
        } else if (!strcmp(name, "--timeout")) {
            if (!parse_u64(v, 3600, &u) || u == 0) {
                ex = usage("--timeout takes 1..3600 seconds");
                goto out;
            }
            c->timeout = (unsigned)u;
        } else if (!strcmp(name, "--writer-idle")) {
            if (!parse_u64(v, 3600000, &u)) {
                ex = usage("--writer-idle takes 0..3600000 milliseconds (0: keep writers open)");
                goto out;
            }
            c->writer_idle_ms = (unsigned)u;
        } else if (!strcmp(name, "--max-open")) {
            if (!parse_u64(v, 1000000, &u) || u == 0) {
                ex = usage("--max-open takes 1..1000000");
                goto out;
            }
            c->max_open = (unsigned)u;
        } else if (!strcmp(name, "--rate")) {
            if (!parse_pos_double(v, &c->rate)) {
                ex = usage("--rate takes a positive number");
                goto out;
            }
        } else if (!strcmp(name, "--burst")) {
            if (!parse_pos_double(v, &c->burst) || c->burst < 1) {
                ex = usage("--burst takes a number >= 1");
                goto out;
            }
        } else {
            ex = usage("unknown option %.60s (the options: %s)", name, HELP_FLAGS);
            goto out;
        }
    }
    if (!c->dir) {
        ex = usage("--dir DIR is required");
        goto out;
    }
    struct stat st;
    if (stat(c->dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        ex = usage("--dir %.200s is not a directory", c->dir);
        goto out;
    }
    listen_addr la;
    if (!parse_listen(c->listen, &la)) {
        ex = usage("--listen takes ADDR:PORT (an IPv4 address, or [IPv6]), not '%.80s'", c->listen);
        goto out;
    }
    if (c->no_auth && c->tokens) {
        ex = usage("give --tokens or --no-auth, not both");
        goto out;
    }
    if (!c->no_auth && !c->tokens) {
        ex = usage("give --tokens FILE (or --no-auth on a loopback address)");
        goto out;
    }
    if (c->no_auth && !la.loopback) {
        ex = usage("--no-auth is refused on a non-loopback address (%s)", la.host);
        goto out;
    }
    if (!!c->tls_cert != !!c->tls_key) {
        ex = usage("--tls-cert and --tls-key go together");
        goto out;
    }
    if (c->client_ca && !c->tls_cert) {
        ex = usage("--client-ca needs --tls-cert and --tls-key");
        goto out;
    }
    char err[512];
    if (c->tokens && srv_tokens_load(&s->tokens, c->tokens, c->rate, c->burst, err, sizeof err)) {
        fprintf(stderr, "maif: serve: --tokens %s: %s\n", c->tokens, err);
        goto out;
    }
    int rc = c->key ? maif_key_load(&s->key, c->key) : maif_key_load_default(&s->key, NULL, 0);
    if (rc) {
        fprintf(stderr, "maif: serve: the signing key: %s\n", maif_last_errmsg());
        goto out;
    }
    maif_key_public(s->key, s->key_pk);
    char *cert = NULL, *key = NULL, *ca = NULL;
    if (c->tls_cert) {
        cert = read_pem(c->tls_cert, "--tls-cert");
        key = cert ? read_pem(c->tls_key, "--tls-key") : NULL;
        ca = key && c->client_ca ? read_pem(c->client_ca, "--client-ca") : NULL;
        if (!cert || !key || (c->client_ca && !ca)) {
            free(cert);
            free(key);
            free(ca);
            goto out;
        }
        s->tls = 1;
    }
    int log_fd = -1;
    if (!strcmp(c->log, "-")) log_fd = STDERR_FILENO;
    else if ((log_fd = open(c->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640)) < 0) {
        fprintf(stderr, "maif: serve: --log %s: %s\n", c->log, strerror(errno));
        goto tls_out;
    }
    /* SIGTERM/SIGINT: a handler that writes to a pipe the main loop
     * polls. (Blocking them instead is not enough: threads that libraries
     * start before main, such as OpenBLAS's pool, would still take them
     * and die of the default action.) */
    if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
        fprintf(stderr, "maif: serve: pipe: %s\n", strerror(errno));
        ex = SRV_EXIT_RUNTIME;
        goto tls_out;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    obs_config oc = {.log_fd = log_fd, .otlp_endpoint = c->otlp, .service_name = "maif"};
    if (obs_init(&oc, err, sizeof err) != 0) {
        fprintf(stderr, "maif: serve: %s\n", err);
        if (log_fd > STDERR_FILENO) close(log_fd);
        goto tls_out;
    }
    pthread_mutex_init(&s->amu, NULL);
    pthread_mutex_init(&s->connmu, NULL);
    /* libmicrohttpd's hard limit leaves room above --max-connections so
     * the excess gets a 503 instead of a silent close */
    unsigned extra = c->max_connections / 16 < 8 ? 8 : c->max_connections / 16;
    s->conn_soft_limit = c->max_connections;
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ITC | MHD_USE_ERROR_LOG;
    if (la.ss.ss_family == AF_INET6) flags |= MHD_USE_IPv6;
    if (s->tls) flags |= MHD_USE_TLS;
    struct MHD_OptionItem opts[24];
    size_t no = 0;
#define OPT(o, v, p) opts[no++] = (struct MHD_OptionItem){(o), (intptr_t)(v), (p)}
    OPT(MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)mhd_log, NULL); /* first, so it gets every message */
    OPT(MHD_OPTION_SOCK_ADDR, 0, &la.ss);
    OPT(MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)srv_completed, s);
    OPT(MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)notify_conn, s);
    OPT(MHD_OPTION_UNESCAPE_CALLBACK, (intptr_t)keep_escaped, NULL);
    OPT(MHD_OPTION_CONNECTION_LIMIT, c->max_connections + extra, NULL);
    OPT(MHD_OPTION_CONNECTION_TIMEOUT, c->timeout, NULL);
    /* request line and headers (X-Maif-Meta takes up to 16 KiB); the pool
     * is cleared per request, so bigger costs every request */
    OPT(MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)32 << 10, NULL);
    OPT(MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024, NULL);
    if (c->threads > 1) OPT(MHD_OPTION_THREAD_POOL_SIZE, c->threads, NULL);
    if (s->tls) {
        OPT(MHD_OPTION_HTTPS_MEM_CERT, 0, cert);
        OPT(MHD_OPTION_HTTPS_MEM_KEY, 0, key);
        OPT(MHD_OPTION_HTTPS_PRIORITIES, 0, "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2");
        if (ca) OPT(MHD_OPTION_HTTPS_MEM_TRUST, 0, ca);
    }
    OPT(MHD_OPTION_END, 0, NULL);
#undef OPT
    s->d = MHD_start_daemon(flags, 0, NULL, NULL, srv_access, s, MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
    if (!s->d) {
        fprintf(stderr, "maif: serve: cannot listen on %s (in use, or no permission; TLS files valid?)\n", c->listen);
        obs_shutdown();
        ex = SRV_EXIT_RUNTIME;
        goto tls_out;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    unsigned port = di ? di->port : 0;
    char url[128];
    snprintf(url, sizeof url, "%s://%s:%u", s->tls ? "https" : "http", la.host, port);
    atomic_store(&s->ready, 1);
    if (c->ready_file && write_ready_file(c->ready_file, url) != 0)
        fprintf(stderr, "maif: serve: --ready-file %s: %s\n", c->ready_file, strerror(errno));
    printf("listening on %s\n", url);
    fflush(stdout);
    char m[200];
    snprintf(m, sizeof m, "listening on %s (%u threads, %s)", url, c->threads, c->no_auth ? "no auth" : "tokens");
    obs_log("info", m);
    /* the main loop: signals, the artifacts' housekeeping (idle writers,
     * eviction) ten times a second, the header deadline once a second */
    uint64_t last_reap = obs_now_ns();
    for (;;) {
        struct pollfd pfd = {sig_pipe[0], POLLIN, 0};
        int pr = poll(&pfd, 1, SWEEP_MS);
        if (pr > 0) break;
        srv_artifacts_sweep(s);
        if (obs_now_ns() - last_reap >= 1000000000ull) {
            reap(s);
            last_reap = obs_now_ns();
        }
    }
    obs_log("info", "shutting down: no new connections, finishing requests in flight");
    atomic_store(&s->stopping, 1);
    atomic_store(&s->ready, 0);
    MHD_socket lfd = MHD_quiesce_daemon(s->d);
    if (lfd != MHD_INVALID_SOCKET) close(lfd);
    for (int i = 0; i < SHUTDOWN_WAIT_S * 20 && atomic_load(&s->in_flight) > 0; i++) {
        struct timespec w = {0, 50 * 1000 * 1000};
        nanosleep(&w, NULL);
    }
    if (atomic_load(&s->in_flight) > 0) obs_log("warn", "shutdown: requests still in flight after 30 s");
    srv_artifacts_close_all(s); /* flushes every writer's queue, closes it */
    MHD_stop_daemon(s->d);
    obs_log("info", "stopped");
    obs_shutdown();
    ex = SRV_EXIT_OK;
    if (log_fd > STDERR_FILENO) close(log_fd);
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    close(sig_pipe[0]);
    close(sig_pipe[1]);
tls_out:
    free(cert);
    free(key);
    free(ca);
out:
    srv_tokens_free(&s->tokens);
    maif_key_free(s->key);
    free(s);
    return ex;
}
