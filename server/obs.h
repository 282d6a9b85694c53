/*
 * obs.h — observability of `maif serve`: Prometheus metrics, one JSON log
 * line per request, W3C trace context and OTLP/HTTP JSON export of spans.
 *
 * The request path (serve_*.c) calls obs_* only; obs_*.c never call back
 * into the server. Every function is thread-safe: request threads update
 * metrics with atomics, the exporter batches spans on a thread of its own.
 */
#ifndef MAIF_SERVER_OBS_H
#define MAIF_SERVER_OBS_H

#include <stddef.h>
#include <stdint.h>

/* Routes: a fixed set so metric labels stay bounded (never raw paths). */
typedef enum {
    OBS_R_HEALTHZ, OBS_R_READYZ, OBS_R_METRICS, OBS_R_UI,
    OBS_R_LIST, OBS_R_CREATE, OBS_R_INFO, OBS_R_BLOCKS, OBS_R_APPEND, OBS_R_COMMIT,
    OBS_R_BLOCK, OBS_R_SEARCH, OBS_R_VERIFY, OBS_R_HISTORY, OBS_R_AUDIT, OBS_R_PROOF,
    OBS_R_GRAPH, OBS_R_OTHER,
    OBS_R_COUNT
} obs_route;

/* Counters that are not per request. */
typedef enum {
    OBS_C_APPENDS, OBS_C_APPEND_BYTES, OBS_C_COMMITS, OBS_C_VERIFY_FAILURES,
    OBS_C_ACCESS_DENIALS, OBS_C_RATE_LIMITED, OBS_C_CACHE_HITS, OBS_C_CACHE_MISSES,
    OBS_C_EVICTIONS, OBS_C_WRITER_RELEASES,
    OBS_C_COUNT
} obs_counter;

typedef struct obs_config {
    int log_fd;                /* JSON log lines go here (-1: none) */
    const char *otlp_endpoint; /* NULL: no export; else http://host:port/path */
    const char *service_name;  /* resource attribute service.name ("maif") */
} obs_config;

/* Trace context of one request (W3C Trace Context, level 1). */
typedef struct obs_trace {
    uint8_t trace_id[16];
    uint8_t span_id[8];        /* this server span */
    uint8_t parent_id[8];      /* the caller's span, all zero when none */
    uint8_t flags;             /* trace-flags (01 = sampled) */
    int has_parent;
} obs_trace;

/* What obs_request_end records of a finished request. */
typedef struct obs_request {
    obs_route route;
    const char *method;        /* "GET", ... */
    const char *path;          /* the URL path as received (logged, never a label) */
    int status;
    uint64_t start_ns;         /* obs_now_ns() at the start */
    uint64_t end_ns;
    uint64_t bytes_in, bytes_out;
    const char *token;         /* the token's name, or NULL */
    const char *artifact;      /* or NULL */
    const char *remote;        /* client address, or NULL */
    const char *error;         /* error message, or NULL */
    const obs_trace *trace;
} obs_request;

/* Starts logging and (with an endpoint) the exporter thread. Returns 0, or
 * -1 with a message in err (a bad endpoint URL). */
int obs_init(const obs_config *c, char *err, size_t cap);
/* Flushes pending spans (bounded wait) and stops the exporter. */
void obs_shutdown(void);

uint64_t obs_now_ns(void);           /* CLOCK_MONOTONIC */
const char *obs_route_name(obs_route r);

/* Parses a traceparent header ("00-<32 hex>-<16 hex>-<2 hex>"): on success
 * continues that trace with a fresh span id; on NULL or an invalid header
 * starts a new trace. Never fails. */
void obs_trace_start(obs_trace *t, const char *traceparent);
/* Writes t's traceparent (55 chars + NUL) into out. */
void obs_trace_format(const obs_trace *t, char out[56]);
/* The 32 hex digits of t's trace id (+ NUL). */
void obs_trace_id_hex(const obs_trace *t, char out[33]);

void obs_count(obs_counter c, uint64_t n);
void obs_in_flight(int delta);
/* Sets the gauge of artifacts the server holds open. */
void obs_open_artifacts(int64_t n);
/* Records a finished request: metrics, a log line, a span. */
void obs_request_end(const obs_request *rq);
/* A log line that is not a request (start, shutdown, errors). level is
 * "info", "warn" or "error"; msg is JSON-escaped by obs. */
void obs_log(const char *level, const char *msg);

/* The metrics in the Prometheus text format 0.0.4; *out is malloc'ed
 * (free it), *len its length. Returns 0, or -1 on allocation failure. */
int obs_metrics_render(char **out, size_t *len);

#endif
