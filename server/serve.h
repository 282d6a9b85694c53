/*
 * serve.h — what the files of `maif serve` share (docs/API.md is the
 * contract). One process serves a directory of artifacts: libmicrohttpd
 * runs the connections on a pool of threads; every artifact has one
 * writer and one reader shared by all of them (serve_artifacts.c); a
 * request is one srv_req from its first header to its completion
 * callback, where obs_request_end records it (serve_routes.c).
 *
 * The server is a client of libmaif like any other: it includes only
 * include/maif.h, its own headers and system headers.
 */
#ifndef MAIF_SERVER_SERVE_H
#define MAIF_SERVER_SERVE_H

#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "maif.h"
#include "obs.h"

/* Exit codes of `maif serve` (docs/API.md). */
#define SRV_EXIT_OK      0
#define SRV_EXIT_RUNTIME 1
#define SRV_EXIT_USAGE   2

#define SRV_NAME_MAX     128            /* artifact name bytes (docs/API.md) */
#define SRV_META_HDR_MAX (16u << 10)    /* X-Maif-Meta bytes */
#define SRV_PAGE_MAX     1000           /* blocks a page lists at most */
#define SRV_PENDING_MAX  4096           /* uncommitted appends an artifact holds */
#define SRV_SEARCH_K_MAX 1000
#define SRV_CACHE_BYTES  ((size_t)64 << 20) /* decoded-payload cache of each reader */

/* Token scopes. */
#define SRV_SCOPE_READ  1u
#define SRV_SCOPE_WRITE 2u
#define SRV_SCOPE_ADMIN 4u

typedef struct srv_token {
    char name[64];
    uint8_t hash[32];            /* SHA-256 of the bearer token: the token itself is never kept */
    int has_subject;
    uint8_t subject[MAIF_PUBKEY_BYTES]; /* the policy subject of its requests */
    unsigned scopes;             /* SRV_SCOPE_* */
    char **artifacts;            /* names, "*", or "prefix*" */
    size_t nartifacts;
    int64_t expires;             /* Unix seconds; 0: never */
    double rate, burst;          /* the token bucket: refill per second, capacity */
    pthread_mutex_t mu;          /* guards level and last_ns */
    double level;                /* tokens in the bucket */
    uint64_t last_ns;
} srv_token;

typedef struct srv_tokens {
    srv_token *v;
    size_t n;
} srv_tokens;

/* One pending (uncommitted) append, owned by the artifact until the next
 * POST .../commit (or shutdown, which drops it: it was never acknowledged
 * as committed). */
typedef struct srv_pending {
    maif_block_draft *draft;     /* a JSON block, or NULL */
    int fd;                      /* a binary body in an unlinked temp file, or -1 */
    uint32_t type;
    char *meta;                  /* binary: the X-Maif-Meta text, or NULL */
    struct srv_pending *next;
} srv_pending;

/* A commit of an artifact, as the history route shows it. */
typedef struct srv_commit {
    uint64_t seq, blocks, time_us;
    uint8_t signer[MAIF_PUBKEY_BYTES];
    int alg;                     /* MAIF_SIG_* */
} srv_commit;

typedef struct srv_artifact {
    char name[SRV_NAME_MAX + 1];
    char *path;
    /* The table's bookkeeping (s->amu guards these): an entry is freed
     * only once it is out of the table and no request holds it. */
    unsigned refs;               /* srv_artifact_get minus srv_artifact_put */
    int listed;                  /* in s->artifacts */
    uint64_t used_ns;            /* last get or put: eviction takes the oldest */
    /* The writer: opened at a write, closed again once idle (srv_artifacts
     * _sweep). wmu is held to submit a group-commit request and for every
     * single-threaded writer call (after maif_writer_flush), so the two
     * never overlap. */
    pthread_mutex_t wmu;
    maif_writer *w;
    _Atomic int wopen;           /* w is open (read without wmu) */
    _Atomic long wbusy;          /* ?commit=1 appends queued on w whose callback has not run */
    _Atomic uint64_t wused_ns;   /* the writer's last use: the idle delay counts from it */
    /* The policy writes are checked against, read when the writer opened
     * (under its lock nobody else can change it, and the API refuses
     * control blocks), so the append path needs no reader. pmu guards
     * both and is held over the check; state -1: no writer, no snapshot. */
    pthread_mutex_t pmu;
    maif_policy *wpolicy;
    int wpolicy_state;           /* -1 none taken, 0 no policy, 1 present, 2 cannot be established */
    uint64_t next_index;         /* index of the next block committed (completion order) */
    srv_pending *pending, **pending_tail;
    size_t npending;
    _Atomic uint64_t gen;        /* bumped by every commit: readers refresh when it moved */
    /* The reader: shared by the request threads (rlock read side), refreshed
     * under the write side when gen moved. */
    pthread_rwlock_t rlock;
    maif_reader *r;
    uint64_t rgen;               /* gen the reader's view reflects */
    uint64_t refreshes;
    uint64_t commits_seen;       /* commit count of that view (for maif_commits_total) */
    /* the file as the view last saw it: while the server holds no writer,
     * another process may append (a change here bumps gen) */
    uint64_t fsize;
    int64_t fmtime_ns;
    uint64_t fino;
    int policy_state;            /* -1 not looked at, 0 none, 1 present, 2 untrustworthy */
    maif_policy *policy;
    uint64_t policy_gen;
    pthread_mutex_t cmu;         /* guards the commit table */
    srv_commit *commits;
    size_t ncommits;
    uint64_t commits_gen;
    int commits_ok;
    struct srv_artifact *next;
} srv_artifact;

typedef struct srv_config {
    const char *dir;
    const char *listen;
    const char *tokens;
    int no_auth;
    const char *key;
    const char *tls_cert, *tls_key, *client_ca;
    uint64_t max_body;
    unsigned max_connections;
    unsigned threads;
    double rate, burst;
    const char *log;
    const char *otlp;
    const char *ready_file;
    unsigned timeout;            /* seconds: idle connection, and a whole request */
    unsigned writer_idle_ms;     /* a writer unused this long is closed (its lock released); 0: kept */
    unsigned max_open;           /* open artifacts kept; over it the least recently used idle ones go */
} srv_config;

typedef struct srv_server {
    srv_config cfg;
    srv_tokens tokens;
    maif_key *key;
    uint8_t key_pk[MAIF_PUBKEY_BYTES];
    int tls;
    struct MHD_Daemon *d;
    _Atomic int ready;           /* accepting work */
    _Atomic int stopping;        /* SIGTERM seen */
    _Atomic long in_flight;      /* requests between their first header and completion */
    _Atomic long connections;    /* open connections */
    unsigned conn_soft_limit;    /* over this many connections: 503 */
    pthread_mutex_t amu;         /* the artifact table */
    srv_artifact *artifacts;
    size_t nopen;                /* entries in it */
    /* connections, for the request deadline (serve.c) */
    pthread_mutex_t connmu;
    struct srv_conn *conns;
} srv_server;

/* Per connection (MHD socket context). */
typedef struct srv_conn {
    int fd;
    uint64_t since_ns;           /* start of the request being read, or of idleness */
    int busy;                    /* a request is being handled (the handler ran) */
    int reaped;
    char remote[64];
    struct srv_conn *prev, *next;
} srv_conn;

/* Request kinds (route + what the body is). */
enum { SRV_BODY_NONE, SRV_BODY_JSON, SRV_BODY_FILE };

typedef struct srv_req {
    srv_server *s;
    struct MHD_Connection *conn;
    srv_conn *sc;
    obs_trace trace;
    uint64_t start_ns;
    obs_route route;
    const char *method;
    char *path;                  /* copy of the URL path */
    int status;
    uint64_t bytes_in, bytes_out;
    const srv_token *tok;
    char artifact[SRV_NAME_MAX + 1];
    char remote[64];
    char err[256];
    int responded;
    unsigned retry_after;        /* 429: seconds */
    /* route state */
    srv_artifact *a;
    char sub[32];                /* the index segment of /blocks/{index} */
    int body_kind;               /* SRV_BODY_* */
    char *body;                  /* JSON bodies */
    size_t body_len, body_cap;
    int fd;                      /* binary bodies: an unlinked temp file, or -1 */
    uint64_t body_limit;
    int over;                    /* the body went over the limit */
    uint64_t discard;            /* bytes thrown away after that */
    int timed_out;
    int commit;                  /* ?commit=1 */
    uint32_t type;               /* binary: X-Maif-Type */
    char *meta;                  /* binary: X-Maif-Meta */
    /* an asynchronous one-shot append */
    maif_block_draft *draft;
    int suspended;
    _Atomic int async_done;
    int async_rc;
    char async_err[256];
    uint8_t id[MAIF_ID_BYTES];
    uint64_t index;
} srv_req;

/* ---- serve_auth.c */
/* Loads the tokens file; one line in err on failure. */
int srv_tokens_load(srv_tokens *t, const char *path, double rate, double burst, char *err, size_t cap);
void srv_tokens_free(srv_tokens *t);
/* The token of an "Authorization: Bearer ..." header value, or NULL with
 * why ("missing", "unknown", "expired"...). */
const srv_token *srv_auth_lookup(const srv_tokens *t, const char *header, const char **why);
/* 1 if tok may touch artifact name. */
int srv_auth_artifact_ok(const srv_token *tok, const char *name);
/* Takes one token from tok's bucket: 0, or the seconds to wait (>= 1). */
unsigned srv_rate_take(srv_token *tok);

/* ---- serve_routes.c */
enum MHD_Result srv_access(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                           const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls);
void srv_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe);
/* Replies (at most once per request). */
enum MHD_Result srv_reply_json(srv_req *q, int status, json_t *doc);
enum MHD_Result srv_reply_raw(srv_req *q, int status, const char *ctype, void *data, size_t n, int must_free);
enum MHD_Result srv_reply_error(srv_req *q, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Maps a libmaif code to an HTTP status. */
int srv_status_for(int code);
/* A query argument, percent-decoded into buf; NULL when absent. *bad is
 * set for a malformed one (bad escape, NUL). */
const char *srv_arg(srv_req *q, const char *key, char *buf, size_t cap, int *bad);
/* Parses a decimal argument in [0, max]: 1 ok, 0 absent (def), -1 bad. */
int srv_arg_u64(srv_req *q, const char *key, uint64_t max, uint64_t def, uint64_t *out);
/* Percent-decodes n bytes of s into out (cap); -1 for a bad escape or NUL. */
int srv_pct_decode(const char *s, size_t n, char *out, size_t cap, int plus_space);

/* ---- serve_artifacts.c */
int srv_name_ok(const char *name);
/* The artifact name (open or on disk), with a reference the caller gives
 * back with srv_artifact_put; NULL with *status 404 (absent) or 500. */
srv_artifact *srv_artifact_get(srv_server *s, const char *name, int *status, char *err, size_t cap);
/* Gives back a reference of srv_artifact_get. NULL: no-op. */
void srv_artifact_put(srv_server *s, srv_artifact *a);
/* Creates DIR/NAME.maif: 0, or an HTTP status with err. */
int srv_artifact_create(srv_server *s, const char *name, char *err, size_t cap);
/* The writer, opened on first use (call with a->wmu held): 0 or a status. */
int srv_writer_get(srv_server *s, srv_artifact *a, char *err, size_t cap);
/* Closes the writer (wmu held, its queue flushed): its lock is released,
 * the policy snapshot dropped; the next write opens it again. */
int srv_writer_close(srv_artifact *a);
/* Read side of the shared reader, refreshed first if a commit happened. */
int srv_reader_acquire(srv_artifact *a, char *err, size_t cap);
void srv_reader_release(srv_artifact *a);
/* The artifact's policy (reader held): NULL when none. *untrusted when a
 * policy exists but cannot be established (every access is refused). */
const maif_policy *srv_policy(srv_artifact *a, int *untrusted);
/* The commit table (reader held); 0 or -1. */
int srv_commits(srv_artifact *a, const srv_commit **out, size_t *n);
/* Brings every open artifact's reader up to its last commit, so the
 * commit counter is current (before /metrics renders). */
void srv_artifacts_sync(srv_server *s);
/* The main loop's housekeeping (a few times a second): closes writers
 * idle for --writer-idle, evicts idle artifacts over --max-open. */
void srv_artifacts_sweep(srv_server *s);
void srv_artifacts_close_all(srv_server *s);
enum MHD_Result srv_route_list(srv_req *q);
enum MHD_Result srv_route_create(srv_req *q);
enum MHD_Result srv_route_info(srv_req *q);

/* ---- serve_blocks.c */
/* Called with each piece of an append body; 0 or an HTTP status. */
int srv_append_begin(srv_req *q, char *err, size_t cap);
int srv_body_chunk(srv_req *q, const char *data, size_t n);
enum MHD_Result srv_route_append(srv_req *q);
enum MHD_Result srv_route_append_finish(srv_req *q); /* after an async commit resumed q */
enum MHD_Result srv_route_commit(srv_req *q);
void srv_pending_free(srv_pending *p);

/* ---- serve_read.c */
enum MHD_Result srv_route_blocks(srv_req *q);
enum MHD_Result srv_route_block(srv_req *q);
/* Whether q's token may read at all under the artifact's policy (reader
 * held): 0, or 403 with err set. Without a policy every token may. */
int srv_check_subject(srv_req *q, char *err, size_t cap);
/* Access check of block index for q's token under the artifact's policy
 * (reader held): 0 or 403 (err says why). */
int srv_check_read(srv_req *q, uint64_t index, char *err, size_t cap);

/* ---- serve_query.c */
enum MHD_Result srv_route_search(srv_req *q);
enum MHD_Result srv_route_verify(srv_req *q);
enum MHD_Result srv_route_history(srv_req *q);
enum MHD_Result srv_route_audit(srv_req *q);
enum MHD_Result srv_route_proof(srv_req *q);
enum MHD_Result srv_route_graph(srv_req *q);

/* ---- serve.c */
/* `maif serve ARGS`: argv[0] is "serve". Returns the exit code. */
int maif_serve_main(int argc, char **argv);

#endif
