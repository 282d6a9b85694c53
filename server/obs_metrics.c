/*
 * obs_metrics.c — the server's Prometheus metrics, updated lock-free.
 *
 * Every figure is a C11 atomic in a fixed table, so request threads never
 * take a lock and label sets stay bounded: routes are obs_route, methods a
 * short list (anything else counts as OTHER), status codes 100..599 (any
 * other value counts as code "other"). The histogram keeps per-bucket
 * counts, not cumulative ones; the renderer accumulates them from one read
 * of each bucket, so a scrape always shows buckets that rise and a _count
 * equal to the +Inf bucket, even while requests are being recorded.
 */
#include "obs_int.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const route_names[OBS_R_COUNT] = {
    [OBS_R_HEALTHZ] = "healthz", [OBS_R_READYZ] = "readyz",   [OBS_R_METRICS] = "metrics",
    [OBS_R_UI] = "ui",           [OBS_R_LIST] = "list",       [OBS_R_CREATE] = "create",
    [OBS_R_INFO] = "info",       [OBS_R_BLOCKS] = "blocks",   [OBS_R_APPEND] = "append",
    [OBS_R_COMMIT] = "commit",   [OBS_R_BLOCK] = "block",     [OBS_R_SEARCH] = "search",
    [OBS_R_VERIFY] = "verify",   [OBS_R_HISTORY] = "history", [OBS_R_AUDIT] = "audit",
    [OBS_R_PROOF] = "proof",     [OBS_R_GRAPH] = "graph",     [OBS_R_OTHER] = "other",
};

const char *obs_route_name(obs_route r) {
    if ((unsigned)r >= OBS_R_COUNT) return "other";
    return route_names[r];
}

static obs_route route_of(obs_route r) { return (unsigned)r >= OBS_R_COUNT ? OBS_R_OTHER : r; }

#define N_METHODS 8
static const char *const method_names[N_METHODS] = {"GET",    "HEAD",    "POST",  "PUT",
                                                    "DELETE", "OPTIONS", "PATCH", "OTHER"};

static int method_of(const char *m) {
    if (m)
        for (int i = 0; i < N_METHODS - 1; i++)
            if (!strcmp(m, method_names[i])) return i;
    return N_METHODS - 1;
}

/* status 100..599 at index status-100; index 500 is "other" */
#define N_CODES 501
static int code_of(int status) { return status >= 100 && status <= 599 ? status - 100 : 500; }

/* Histogram bounds in seconds (and in nanoseconds for the comparison). */
#define N_BUCKETS 15
static const char *const bucket_le[N_BUCKETS - 1] = {
    "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05",
    "0.1",    "0.25",  "0.5",    "1",     "2.5",  "5",     "10",
};
static const uint64_t bucket_ns[N_BUCKETS - 1] = {
    500000ull,     1000000ull,    2500000ull,    5000000ull,     10000000ull,
    25000000ull,   50000000ull,   100000000ull,  250000000ull,   500000000ull,
    1000000000ull, 2500000000ull, 5000000000ull, 10000000000ull,
};

static _Atomic uint64_t counters[OBS_C_COUNT];
static _Atomic int64_t in_flight;
static _Atomic int64_t open_artifacts;
static _Atomic uint64_t requests[OBS_R_COUNT][N_METHODS][N_CODES];
static _Atomic uint64_t hist[OBS_R_COUNT][N_BUCKETS]; /* last: above 10 s */
static _Atomic uint64_t hist_sum_ns[OBS_R_COUNT];

void obs_count(obs_counter c, uint64_t n) {
    if ((unsigned)c >= OBS_C_COUNT) return;
    atomic_fetch_add_explicit(&counters[c], n, memory_order_relaxed);
}

void obs_in_flight(int delta) {
    atomic_fetch_add_explicit(&in_flight, delta, memory_order_relaxed);
}

void obs_open_artifacts(int64_t n) {
    atomic_store_explicit(&open_artifacts, n, memory_order_relaxed);
}

void obs_metrics_request(const obs_request *rq) {
    obs_route r = route_of(rq->route);
    atomic_fetch_add_explicit(&requests[r][method_of(rq->method)][code_of(rq->status)], 1,
                              memory_order_relaxed);
    uint64_t ns = rq->end_ns > rq->start_ns ? rq->end_ns - rq->start_ns : 0;
    int b = 0;
    while (b < N_BUCKETS - 1 && ns > bucket_ns[b]) b++;
    atomic_fetch_add_explicit(&hist[r][b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&hist_sum_ns[r], ns, memory_order_relaxed);
}

static void family(obs_buf *b, const char *name, const char *type, const char *help) {
    obs_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static const struct {
    obs_counter c;
    const char *name, *help;
} counter_info[OBS_C_COUNT] = {
    {OBS_C_APPENDS, "maif_appends_total", "Blocks appended."},
    {OBS_C_APPEND_BYTES, "maif_append_bytes_total", "Payload bytes appended."},
    {OBS_C_COMMITS, "maif_commits_total", "Commits made durable."},
    {OBS_C_VERIFY_FAILURES, "maif_verify_failures_total", "Verifications that found damage."},
    {OBS_C_ACCESS_DENIALS, "maif_access_denials_total", "Requests denied by the access policy (403)."},
    {OBS_C_RATE_LIMITED, "maif_rate_limited_total", "Requests refused by a rate limit (429)."},
    {OBS_C_CACHE_HITS, "maif_cache_hits_total", "Reads served from the cache."},
    {OBS_C_CACHE_MISSES, "maif_cache_misses_total", "Reads that missed the cache."},
    {OBS_C_EVICTIONS, "maif_artifact_evictions_total", "Idle artifacts closed to stay within --max-open."},
    {OBS_C_WRITER_RELEASES, "maif_writer_releases_total", "Writers closed after --writer-idle, releasing the file lock."},
};

int obs_metrics_render(char **out, size_t *len) {
    obs_buf b = {0};
    family(&b, "maif_http_requests_total", "counter",
           "HTTP requests answered, by route, method and status code.");
    for (int r = 0; r < OBS_R_COUNT; r++)
        for (int m = 0; m < N_METHODS; m++)
            for (int c = 0; c < N_CODES; c++) {
                uint64_t v = atomic_load_explicit(&requests[r][m][c], memory_order_relaxed);
                if (!v) continue;
                char code[16];
                if (c == 500) strcpy(code, "other");
                else snprintf(code, sizeof code, "%d", c + 100);
                obs_buf_printf(&b, "maif_http_requests_total{route=\"%s\",method=\"%s\",code=\"%s\"} %llu\n",
                               route_names[r], method_names[m], code, (unsigned long long)v);
            }
    family(&b, "maif_http_request_duration_seconds", "histogram",
           "Time from the request's arrival to its answer, by route.");
    for (int r = 0; r < OBS_R_COUNT; r++) {
        uint64_t cum = 0;
        for (int k = 0; k < N_BUCKETS; k++) {
            cum += atomic_load_explicit(&hist[r][k], memory_order_relaxed);
            obs_buf_printf(&b, "maif_http_request_duration_seconds_bucket{route=\"%s\",le=\"%s\"} %llu\n",
                           route_names[r], k < N_BUCKETS - 1 ? bucket_le[k] : "+Inf",
                           (unsigned long long)cum);
        }
        uint64_t s = atomic_load_explicit(&hist_sum_ns[r], memory_order_relaxed);
        obs_buf_printf(&b, "maif_http_request_duration_seconds_sum{route=\"%s\"} %llu.%09llu\n",
                       route_names[r], (unsigned long long)(s / 1000000000u),
                       (unsigned long long)(s % 1000000000u));
        obs_buf_printf(&b, "maif_http_request_duration_seconds_count{route=\"%s\"} %llu\n",
                       route_names[r], (unsigned long long)cum);
    }
    family(&b, "maif_http_in_flight", "gauge", "Requests being served now.");
    obs_buf_printf(&b, "maif_http_in_flight %lld\n",
                   (long long)atomic_load_explicit(&in_flight, memory_order_relaxed));
    family(&b, "maif_open_artifacts", "gauge", "Artifacts the server holds open.");
    obs_buf_printf(&b, "maif_open_artifacts %lld\n",
                   (long long)atomic_load_explicit(&open_artifacts, memory_order_relaxed));
    for (int i = 0; i < OBS_C_COUNT; i++) {
        family(&b, counter_info[i].name, "counter", counter_info[i].help);
        obs_buf_printf(&b, "%s %llu\n", counter_info[i].name,
                       (unsigned long long)atomic_load_explicit(&counters[counter_info[i].c],
                                                                memory_order_relaxed));
    }
    uint64_t exported, dropped, failed;
    obs_otlp_stats(&exported, &dropped, &failed);
    family(&b, "maif_otlp_spans_exported_total", "counter",
           "Spans the OTLP endpoint accepted.");
    obs_buf_printf(&b, "maif_otlp_spans_exported_total %llu\n", (unsigned long long)exported);
    family(&b, "maif_otlp_spans_dropped_total", "counter",
           "Spans not exported: queue full, batch failed, or shutdown deadline passed.");
    obs_buf_printf(&b, "maif_otlp_spans_dropped_total %llu\n", (unsigned long long)dropped);
    family(&b, "maif_otlp_export_failures_total", "counter",
           "OTLP export requests that failed (connect, send, timeout or non-2xx answer).");
    obs_buf_printf(&b, "maif_otlp_export_failures_total %llu\n", (unsigned long long)failed);
    if (b.oom) { free(b.p); return -1; }
    obs_buf_put(&b, "", 1); /* NUL-terminated too, for printing */
    if (b.oom) { free(b.p); return -1; }
    *out = b.p;
    *len = b.len - 1;
    return 0;
}
