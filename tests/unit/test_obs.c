/*
 * test_obs.c — the observability of `maif serve` (server/obs_*.c), tested
 * without the server: W3C traceparent parsing and continuation, the JSON
 * log line under hostile strings, the Prometheus rendering (counts,
 * cumulative histogram buckets), the OTLP endpoint checks and its bounded
 * queue, and exact totals after many threads hammer the counters.
 *
 * obs keeps process-wide counters, so each test reads what it changed as a
 * difference, or uses a route no other test touches.
 */
#include "testutil.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../server/obs.h"

#define TP_TRACE "4bf92f3577b34da6a3ce929d0e0e4736"
#define TP_PARENT "00f067aa0ba902b7"
#define TP_VALID "00-" TP_TRACE "-" TP_PARENT "-01"

static void hex(const uint8_t *p, size_t n, char *out) {
    for (size_t i = 0; i < n; i++) sprintf(out + 2 * i, "%02x", p[i]);
}

static int all_zero(const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i]) return 0;
    return 1;
}

/* ---- traceparent */

static void test_trace_continue(void **state) {
    (void)state;
    obs_trace t;
    obs_trace_start(&t, TP_VALID);
    assert_int_equal(t.has_parent, 1);
    assert_int_equal(t.flags, 1);
    char tid[33], pid[17], sid[17];
    obs_trace_id_hex(&t, tid);
    assert_string_equal(tid, TP_TRACE);
    hex(t.parent_id, 8, pid);
    assert_string_equal(pid, TP_PARENT);
    hex(t.span_id, 8, sid);
    assert_string_not_equal(sid, TP_PARENT); /* a fresh span id */
    assert_false(all_zero(t.span_id, 8));
    char tp[56];
    obs_trace_format(&t, tp);
    assert_int_equal(strlen(tp), 55);
    char want[56];
    snprintf(want, sizeof want, "00-%s-%s-01", TP_TRACE, sid);
    assert_string_equal(tp, want);
    /* the server span's traceparent continues the same trace once more */
    obs_trace u;
    obs_trace_start(&u, tp);
    assert_memory_equal(u.trace_id, t.trace_id, 16);
    assert_memory_equal(u.parent_id, t.span_id, 8);
    assert_memory_not_equal(u.span_id, t.span_id, 8);
    /* two continuations of one header get different span ids */
    obs_trace v;
    obs_trace_start(&v, TP_VALID);
    assert_memory_not_equal(v.span_id, t.span_id, 8);
}

static void test_trace_flags(void **state) {
    (void)state;
    obs_trace t;
    obs_trace_start(&t, "00-" TP_TRACE "-" TP_PARENT "-00");
    assert_int_equal(t.has_parent, 1);
    assert_int_equal(t.flags, 0); /* not sampled: kept */
    char tp[56];
    obs_trace_format(&t, tp);
    assert_string_equal(tp + 53, "00");
    /* undefined flag bits are not propagated, the sampled bit is */
    obs_trace_start(&t, "00-" TP_TRACE "-" TP_PARENT "-ff");
    assert_int_equal(t.has_parent, 1);
    assert_int_equal(t.flags, 1);
    /* a later version: the first four fields, if what follows starts "-" */
    obs_trace_start(&t, "01-" TP_TRACE "-" TP_PARENT "-01-what-comes-next");
    assert_int_equal(t.has_parent, 1);
    obs_trace_start(&t, "cc-" TP_TRACE "-" TP_PARENT "-01");
    assert_int_equal(t.has_parent, 1);
}

static void test_trace_new(void **state) {
    (void)state;
    obs_trace a, b;
    obs_trace_start(&a, NULL);
    obs_trace_start(&b, NULL);
    assert_int_equal(a.has_parent, 0);
    assert_true(all_zero(a.parent_id, 8));
    assert_int_equal(a.flags, 1);
    assert_false(all_zero(a.trace_id, 16));
    assert_false(all_zero(a.span_id, 8));
    assert_memory_not_equal(a.trace_id, b.trace_id, 16);
    assert_memory_not_equal(a.span_id, b.span_id, 8);
}

static void test_trace_invalid(void **state) {
    (void)state;
    static const char *const bad[] = {
        "",
        "00",
        "garbage",
        /* uppercase hex */
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-" TP_PARENT "-01",
        "00-" TP_TRACE "-00F067AA0BA902B7-01",
        "00-" TP_TRACE "-" TP_PARENT "-0A",
        "0A-" TP_TRACE "-" TP_PARENT "-01",
        /* all-zero ids */
        "00-00000000000000000000000000000000-" TP_PARENT "-01",
        "00-" TP_TRACE "-0000000000000000-01",
        /* version ff */
        "ff-" TP_TRACE "-" TP_PARENT "-01",
        /* wrong lengths */
        "00-4bf92f3577b34da6a3ce929d0e0e473-" TP_PARENT "-01",
        "00-4bf92f3577b34da6a3ce929d0e0e47361-" TP_PARENT "-01",
        "00-" TP_TRACE "-00f067aa0ba902b-01",
        "00-" TP_TRACE "-00f067aa0ba902b71-01",
        "00-" TP_TRACE "-" TP_PARENT "-1",
        "00-" TP_TRACE "-" TP_PARENT "-011",
        "0-" TP_TRACE "-" TP_PARENT "-01",
        "000-" TP_TRACE "-" TP_PARENT "-01",
        /* version 00 with anything after the flags */
        TP_VALID "-x",
        TP_VALID " ",
        /* a later version with a non-dash after the flags */
        "01-" TP_TRACE "-" TP_PARENT "-01x",
        /* separators and digits */
        "00_" TP_TRACE "-" TP_PARENT "-01",
        "00-" TP_TRACE "_" TP_PARENT "-01",
        "00-" TP_TRACE "-" TP_PARENT "_01",
        "00-4bf92f3577b34da6a3ce929d0e0e473g-" TP_PARENT "-01",
        "00-" TP_TRACE "-00f067aa0ba9 2b7-01",
        "00-" TP_TRACE "-" TP_PARENT "-0g",
        "zz-" TP_TRACE "-" TP_PARENT "-01",
        " 00-" TP_TRACE "-" TP_PARENT "-01",
    };
    uint8_t given[16] = {0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6,
                         0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        obs_trace t;
        memset(&t, 0xaa, sizeof t);
        obs_trace_start(&t, bad[i]);
        if (t.has_parent != 0) fail_msg("accepted invalid traceparent '%s'", bad[i]);
        assert_memory_not_equal(t.trace_id, given, 16); /* a new trace */
        assert_true(all_zero(t.parent_id, 8));
        assert_int_equal(t.flags, 1);
        assert_false(all_zero(t.trace_id, 16));
        assert_false(all_zero(t.span_id, 8));
    }
    /* a very long header is read no further than needed, and rejected */
    size_t n = 1 << 20;
    char *big = malloc(n + 1);
    assert_non_null(big);
    memset(big, 'a', n);
    memcpy(big, TP_VALID, 55);
    big[n] = '\0';
    obs_trace t;
    obs_trace_start(&t, big);
    assert_int_equal(t.has_parent, 0);
    free(big);
}

/* ---- logs */

/* A log file in a fresh directory; obs_init writes to it. */
typedef struct logfix {
    char *dir, *path;
    int fd;
} logfix;

static void log_open(logfix *f) {
    f->dir = tu_tmpdir();
    assert_non_null(f->dir);
    f->path = tu_path(f->dir, "log.jsonl");
    f->fd = open(f->path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
    assert_true(f->fd >= 0);
    obs_config c = {.log_fd = f->fd, .otlp_endpoint = NULL, .service_name = "maif"};
    char err[128];
    assert_int_equal(obs_init(&c, err, sizeof err), 0);
}

/* Closes the log; returns its lines parsed (a JSON array), failing the
 * test on any line that is not one JSON object. */
static json_t *log_close(logfix *f) {
    obs_shutdown();
    close(f->fd);
    size_t len;
    char *text = (char *)tu_read(f->path, &len);
    assert_non_null(text);
    json_t *arr = json_array();
    char *line = text;
    while (line < text + len) {
        char *nl = memchr(line, '\n', (size_t)(text + len - line));
        assert_non_null(nl); /* every line ends with \n */
        json_error_t e;
        /* jansson rejects invalid UTF-8 and unescaped control characters */
        json_t *o = json_loadb(line, (size_t)(nl - line), 0, &e);
        if (!o) fail_msg("log line is not JSON (%s): %.*s", e.text, (int)(nl - line), line);
        assert_true(json_is_object(o));
        json_array_append_new(arr, o);
        line = nl + 1;
    }
    free(text);
    tu_rmtree(f->dir);
    free(f->dir);
    free(f->path);
    return arr;
}

static const char *sget(json_t *o, const char *k) {
    json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static void test_log_fields(void **state) {
    (void)state;
    logfix f;
    log_open(&f);
    obs_trace t;
    obs_trace_start(&t, TP_VALID);
    obs_request rq = {.route = OBS_R_APPEND, .method = "POST", .path = "/v1/artifacts/a/blocks",
                      .status = 201, .start_ns = 1000000000ull, .end_ns = 1002345678ull,
                      .bytes_in = 123, .bytes_out = 45, .token = "writer", .artifact = "a",
                      .remote = "127.0.0.1", .error = NULL, .trace = &t};
    obs_request_end(&rq);
    rq.status = 503;
    rq.token = NULL;
    rq.error = "store busy";
    obs_request_end(&rq);
    rq.status = 404;
    obs_request_end(&rq);
    obs_log("warn", "a message");
    obs_log("bogus", "level defaults to info");
    json_t *a = log_close(&f);
    assert_int_equal(json_array_size(a), 5);

    json_t *o = json_array_get(a, 0);
    static const char *const keys[] = {"ts",     "level",    "trace_id",  "span_id", "method",
                                       "route",  "path",     "status",    "ms",      "bytes_in",
                                       "bytes_out", "token", "artifact",  "remote"};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        if (!json_object_get(o, keys[i])) fail_msg("log line lacks '%s'", keys[i]);
    assert_null(json_object_get(o, "error")); /* only when there is one */
    const char *ts = sget(o, "ts");
    assert_non_null(ts);
    /* RFC 3339, UTC, milliseconds: 2026-12-01T08:01:28.123Z */
    assert_int_equal(strlen(ts), 24);
    assert_true(ts[4] == '-' && ts[7] == '-' && ts[10] == 'T' && ts[13] == ':' && ts[16] == ':' &&
                ts[19] == '.' && ts[23] == 'Z');
    assert_string_equal(sget(o, "level"), "info");
    assert_string_equal(sget(o, "trace_id"), TP_TRACE);
    char sid[17];
    hex(t.span_id, 8, sid);
    assert_string_equal(sget(o, "span_id"), sid);
    assert_string_equal(sget(o, "method"), "POST");
    assert_string_equal(sget(o, "route"), "append");
    assert_string_equal(sget(o, "path"), "/v1/artifacts/a/blocks");
    assert_int_equal(json_integer_value(json_object_get(o, "status")), 201);
    assert_true(json_is_real(json_object_get(o, "ms")));
    assert_true(json_real_value(json_object_get(o, "ms")) == 2.345);
    assert_int_equal(json_integer_value(json_object_get(o, "bytes_in")), 123);
    assert_int_equal(json_integer_value(json_object_get(o, "bytes_out")), 45);
    assert_string_equal(sget(o, "token"), "writer");
    assert_string_equal(sget(o, "artifact"), "a");
    assert_string_equal(sget(o, "remote"), "127.0.0.1");

    o = json_array_get(a, 1);
    assert_string_equal(sget(o, "level"), "error");
    assert_true(json_is_null(json_object_get(o, "token")));
    assert_string_equal(sget(o, "error"), "store busy");
    assert_string_equal(sget(json_array_get(a, 2), "level"), "warn");

    o = json_array_get(a, 3);
    assert_string_equal(sget(o, "level"), "warn");
    assert_string_equal(sget(o, "msg"), "a message");
    assert_non_null(sget(o, "ts"));
    assert_string_equal(sget(json_array_get(a, 4), "level"), "info");
    json_decref(a);
}

static void test_log_hostile(void **state) {
    (void)state;
    logfix f;
    log_open(&f);
    /* valid UTF-8 that must come back byte for byte */
    static const char *const exact[] = {
        "quote \" backslash \\ slash /",
        "new\nline\r\ttab \x01\x02\x1f del\x7f",
        "\"}, \"level\":\"info\", \"x\":{\"",
        "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xe2\x80\xa8 \xe2\x80\xa9",
        "",
    };
    obs_trace t;
    obs_trace_start(&t, NULL);
    size_t ne = sizeof exact / sizeof *exact;
    for (size_t i = 0; i < ne; i++) {
        obs_request rq = {.route = OBS_R_BLOCK, .method = exact[i], .path = exact[i], .status = 400,
                          .token = exact[i], .artifact = exact[i], .remote = exact[i],
                          .error = exact[i], .trace = &t};
        obs_request_end(&rq);
    }
    /* invalid UTF-8: a lone continuation byte, a truncated sequence, an
     * overlong slash, a surrogate, a code point past U+10FFFF, 0xff */
    static const char *const invalid[] = {
        "a\x80z", "a\xc3", "a\xe2\x82z", "a\xc0\xafz", "a\xed\xa0\x80z", "a\xf4\x90\x80\x80z", "a\xffz",
    };
    size_t ni = sizeof invalid / sizeof *invalid;
    for (size_t i = 0; i < ni; i++) {
        obs_request rq = {.route = OBS_R_BLOCK, .method = "GET", .path = invalid[i], .status = 400,
                          .error = invalid[i], .trace = &t};
        obs_request_end(&rq);
    }
    /* an enormous path is cut, and marked */
    size_t n = 100000;
    char *big = malloc(n + 1);
    assert_non_null(big);
    memset(big, 'p', n);
    big[n] = '\0';
    obs_request rq = {.route = OBS_R_BLOCK, .method = "GET", .path = big, .status = 414, .trace = &t};
    obs_request_end(&rq);
    obs_log("error", exact[1]);
    obs_log("info", invalid[0]);
    json_t *a = log_close(&f);
    assert_int_equal(json_array_size(a), ne + ni + 3);
    for (size_t i = 0; i < ne; i++) {
        json_t *o = json_array_get(a, i);
        static const char *const fields[] = {"path", "token", "artifact", "remote", "error"};
        for (size_t k = 0; k < 5; k++) {
            const char *v = sget(o, fields[k]);
            assert_non_null(v);
            assert_string_equal(v, exact[i]);
        }
        /* the method is cut at 32 bytes, but what is kept is exact */
        assert_int_equal(strncmp(sget(o, "method"), exact[i], 32), 0);
        /* a hostile string cannot add or replace a key */
        assert_string_equal(sget(o, "level"), "warn");
        assert_string_equal(sget(o, "route"), "block");
    }
    for (size_t i = 0; i < ni; i++) {
        json_t *o = json_array_get(a, ne + i);
        const char *p = sget(o, "path");
        assert_non_null(p);
        assert_non_null(strstr(p, "\xef\xbf\xbd")); /* U+FFFD */
        assert_int_equal(p[0], 'a');
        assert_non_null(strstr(sget(o, "error"), "\xef\xbf\xbd"));
    }
    const char *p = sget(json_array_get(a, ne + ni), "path");
    assert_non_null(p);
    assert_true(strlen(p) < 2000);
    assert_int_equal(strspn(p, "p"), strlen(p) - 3);
    assert_string_equal(p + strlen(p) - 3, "...");
    assert_string_equal(sget(json_array_get(a, ne + ni + 1), "msg"), exact[1]);
    assert_string_equal(sget(json_array_get(a, ne + ni + 1), "level"), "error");
    assert_string_equal(sget(json_array_get(a, ne + ni + 2), "msg"), "a\xef\xbf\xbdz");
    json_decref(a);
    free(big);
}

static void test_log_off(void **state) {
    (void)state;
    /* no log fd: nothing written, nothing breaks */
    obs_config c = {.log_fd = -1};
    char err[128];
    assert_int_equal(obs_init(&c, err, sizeof err), 0);
    obs_log("info", "nowhere");
    obs_request rq = {.route = OBS_R_OTHER, .method = "GET", .path = "/", .status = 200};
    obs_request_end(&rq); /* no trace: logged with null ids (here: not at all) */
    obs_request_end(NULL);
    obs_shutdown();
    obs_shutdown(); /* twice is harmless */
}

/* ---- metrics */

static char *render(void) {
    char *m = NULL;
    size_t len = 0;
    assert_int_equal(obs_metrics_render(&m, &len), 0);
    assert_non_null(m);
    assert_int_equal(strlen(m), len);
    return m;
}

/* The value of the sample whose name and labels are exactly series, or -1
 * when there is none. */
static double sample(const char *m, const char *series) {
    size_t n = strlen(series);
    for (const char *l = m; *l;) {
        const char *nl = strchr(l, '\n');
        if (!nl) break;
        if (strncmp(l, series, n) == 0 && l[n] == ' ') return strtod(l + n + 1, NULL);
        l = nl + 1;
    }
    return -1;
}

static const char *const les[] = {"0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1",
                                  "0.25",   "0.5",   "1",      "2.5",   "5",    "10",    "+Inf"};
#define NLE (sizeof les / sizeof *les)

static double bucket(const char *m, const char *route, const char *le) {
    char s[160];
    snprintf(s, sizeof s, "maif_http_request_duration_seconds_bucket{route=\"%s\",le=\"%s\"}", route, le);
    return sample(m, s);
}

/* Every route's buckets rise, and _count equals the +Inf bucket. */
static void check_histograms(const char *m) {
    static const char *const routes[] = {"healthz", "readyz",  "metrics", "ui",    "list",  "create",
                                         "info",    "blocks",  "append",  "commit", "block", "search",
                                         "verify",  "history", "audit",   "proof", "graph", "other"};
    for (size_t r = 0; r < sizeof routes / sizeof *routes; r++) {
        double prev = 0;
        for (size_t k = 0; k < NLE; k++) {
            double v = bucket(m, routes[r], les[k]);
            if (v < prev) fail_msg("route %s: bucket le=%s %g < %g", routes[r], les[k], v, prev);
            prev = v;
        }
        char s[128];
        snprintf(s, sizeof s, "maif_http_request_duration_seconds_count{route=\"%s\"}", routes[r]);
        if (sample(m, s) != prev) fail_msg("route %s: _count %g != +Inf %g", routes[r], sample(m, s), prev);
        snprintf(s, sizeof s, "maif_http_request_duration_seconds_sum{route=\"%s\"}", routes[r]);
        assert_true(sample(m, s) >= 0);
    }
}

static void test_metrics_render(void **state) {
    (void)state;
    char *m0 = render();
    double appends0 = sample(m0, "maif_appends_total"), bytes0 = sample(m0, "maif_append_bytes_total");
    double denials0 = sample(m0, "maif_access_denials_total");
    free(m0);
    /* durations on route "proof" (no other test uses it), in ns */
    static const uint64_t d[] = {300000,    500000, /* = 0.5 ms: le is "less or equal" */
                                 700000,    3000000,   20000000,
                                 2000000000, 20000000000ull};
    size_t nd = sizeof d / sizeof *d;
    for (size_t i = 0; i < nd; i++) {
        obs_request rq = {.route = OBS_R_PROOF, .method = "GET", .path = "/x", .status = 200,
                          .start_ns = 5000000000ull, .end_ns = 5000000000ull + d[i]};
        obs_request_end(&rq);
    }
    obs_request rq = {.route = OBS_R_PROOF, .method = "POST", .path = "/x", .status = 403};
    obs_request_end(&rq);
    obs_request_end(&rq);
    rq.method = "BREW"; /* not a method we label: OTHER */
    rq.status = 42;     /* not a status code: "other" */
    obs_request_end(&rq);
    rq.method = NULL;
    obs_request_end(&rq);
    rq.route = (obs_route)99; /* out of range: route "other" */
    rq.method = "DELETE";
    rq.status = 204;
    obs_request_end(&rq);
    obs_count(OBS_C_APPENDS, 3);
    obs_count(OBS_C_APPEND_BYTES, 4096);
    obs_count(OBS_C_ACCESS_DENIALS, 1);
    obs_count((obs_counter)77, 1); /* ignored */
    obs_in_flight(2);
    obs_open_artifacts(7);

    char *m = render();
    assert_true(sample(m, "maif_http_requests_total{route=\"proof\",method=\"GET\",code=\"200\"}") == nd);
    assert_true(sample(m, "maif_http_requests_total{route=\"proof\",method=\"POST\",code=\"403\"}") == 2);
    assert_true(sample(m, "maif_http_requests_total{route=\"proof\",method=\"OTHER\",code=\"other\"}") == 2);
    assert_true(sample(m, "maif_http_requests_total{route=\"other\",method=\"DELETE\",code=\"204\"}") == 1);
    /* the four requests without times count as 0 s */
    assert_true(bucket(m, "proof", "0.0005") == 4 + 2);
    assert_true(bucket(m, "proof", "0.001") == 4 + 3);
    assert_true(bucket(m, "proof", "0.0025") == 4 + 3);
    assert_true(bucket(m, "proof", "0.005") == 4 + 4);
    assert_true(bucket(m, "proof", "0.01") == 4 + 4);
    assert_true(bucket(m, "proof", "0.025") == 4 + 5);
    assert_true(bucket(m, "proof", "1") == 4 + 5);
    assert_true(bucket(m, "proof", "2.5") == 4 + 6);
    assert_true(bucket(m, "proof", "10") == 4 + 6);
    assert_true(bucket(m, "proof", "+Inf") == 4 + nd);
    double sum = sample(m, "maif_http_request_duration_seconds_sum{route=\"proof\"}");
    assert_true(sum > 22.0244 && sum < 22.0246); /* 22.0245 s */
    check_histograms(m);
    assert_true(sample(m, "maif_appends_total") - appends0 == 3);
    assert_true(sample(m, "maif_append_bytes_total") - bytes0 == 4096);
    assert_true(sample(m, "maif_access_denials_total") - denials0 == 1);
    assert_true(sample(m, "maif_http_in_flight") == 2);
    assert_true(sample(m, "maif_open_artifacts") == 7);
    /* every family documented in docs/API.md, with HELP and TYPE lines */
    static const char *const fam[][2] = {
        {"maif_http_requests_total", "counter"},  {"maif_http_request_duration_seconds", "histogram"},
        {"maif_http_in_flight", "gauge"},         {"maif_appends_total", "counter"},
        {"maif_append_bytes_total", "counter"},   {"maif_commits_total", "counter"},
        {"maif_verify_failures_total", "counter"}, {"maif_access_denials_total", "counter"},
        {"maif_rate_limited_total", "counter"},   {"maif_cache_hits_total", "counter"},
        {"maif_cache_misses_total", "counter"},   {"maif_artifact_evictions_total", "counter"},
        {"maif_writer_releases_total", "counter"}, {"maif_open_artifacts", "gauge"},
    };
    for (size_t i = 0; i < sizeof fam / sizeof *fam; i++) {
        char s[160];
        snprintf(s, sizeof s, "\n# TYPE %s %s\n", fam[i][0], fam[i][1]);
        if (!strstr(m, s)) fail_msg("no TYPE line for %s", fam[i][0]);
        snprintf(s, sizeof s, "\n# HELP %s ", fam[i][0]);
        if (!strstr(m, s) && strncmp(m, s + 1, strlen(s + 1)) != 0) fail_msg("no HELP line for %s", fam[i][0]);
    }
    /* a raw path is never a label */
    assert_null(strstr(m, "/x"));
    assert_int_equal(m[strlen(m) - 1], '\n');
    free(m);
    obs_in_flight(-2);
    assert_string_equal(obs_route_name(OBS_R_APPEND), "append");
    assert_string_equal(obs_route_name((obs_route)-1), "other");
}

/* ---- many threads */

#define NT 8
#define NPER 20000

static atomic_int hammer_go;

static void *hammer(void *arg) {
    (void)arg;
    while (!atomic_load(&hammer_go)) {}
    for (int i = 0; i < NPER; i++) {
        obs_in_flight(1);
        obs_request rq = {.route = OBS_R_GRAPH, .method = "GET", .path = "/g", .status = 200,
                          .start_ns = 0, .end_ns = (uint64_t)(i % 40) * 1000000u};
        obs_request_end(&rq);
        obs_count(OBS_C_COMMITS, 1);
        obs_count(OBS_C_APPEND_BYTES, 3);
        obs_in_flight(-1);
    }
    return NULL;
}

static atomic_int render_stop;

/* Renders while the hammer runs: every scrape is self-consistent. */
static void *scraper(void *arg) {
    long *n = arg;
    while (!atomic_load(&render_stop)) {
        char *m = render();
        check_histograms(m);
        double inf = bucket(m, "graph", "+Inf");
        assert_true(inf >= 0 && inf <= NT * NPER);
        free(m);
        (*n)++;
    }
    return NULL;
}

static void test_metrics_threads(void **state) {
    (void)state;
    char *m0 = render();
    double commits0 = sample(m0, "maif_commits_total"), bytes0 = sample(m0, "maif_append_bytes_total");
    free(m0);
    pthread_t th[NT], sc;
    long scrapes = 0;
    atomic_store(&hammer_go, 0);
    atomic_store(&render_stop, 0);
    for (int i = 0; i < NT; i++) assert_int_equal(pthread_create(&th[i], NULL, hammer, NULL), 0);
    assert_int_equal(pthread_create(&sc, NULL, scraper, &scrapes), 0);
    atomic_store(&hammer_go, 1);
    for (int i = 0; i < NT; i++) pthread_join(th[i], NULL);
    atomic_store(&render_stop, 1);
    pthread_join(sc, NULL);
    assert_true(scrapes > 0);
    char *m = render();
    double total = (double)NT * NPER;
    assert_true(sample(m, "maif_http_requests_total{route=\"graph\",method=\"GET\",code=\"200\"}") == total);
    assert_true(bucket(m, "graph", "+Inf") == total);
    assert_true(sample(m, "maif_http_request_duration_seconds_count{route=\"graph\"}") == total);
    /* durations 0..39 ms, each i % 40: le=0.01 holds 0..10 ms, 11 of 40 */
    assert_true(bucket(m, "graph", "0.01") == total * 11 / 40);
    /* sum: NT * (NPER / 40) * (0 + 1 + ... + 39) ms */
    double sum = sample(m, "maif_http_request_duration_seconds_sum{route=\"graph\"}");
    double want = (double)NT * (NPER / 40) * 780 / 1000.0;
    assert_true(sum > want - 1e-6 && sum < want + 1e-6);
    assert_true(sample(m, "maif_commits_total") - commits0 == total);
    assert_true(sample(m, "maif_append_bytes_total") - bytes0 == 3 * total);
    assert_true(sample(m, "maif_http_in_flight") == 0);
    check_histograms(m);
    free(m);
}

/* Threads logging at once: every line whole (long lines, so a torn write
 * would show). */
#define LT 4
#define LPER 1000

static void *logger(void *arg) {
    const char *path = arg;
    obs_trace t;
    obs_trace_start(&t, NULL);
    for (int i = 0; i < LPER; i++) {
        obs_request rq = {.route = OBS_R_HISTORY, .method = "GET", .path = path, .status = 200,
                          .error = path, .artifact = path, .trace = &t};
        obs_request_end(&rq);
    }
    return NULL;
}

static void test_log_threads(void **state) {
    (void)state;
    logfix f;
    log_open(&f);
    char paths[LT][1000];
    pthread_t th[LT];
    for (int i = 0; i < LT; i++) {
        memset(paths[i], 'a' + i, sizeof paths[i] - 1);
        paths[i][sizeof paths[i] - 1] = '\0';
        assert_int_equal(pthread_create(&th[i], NULL, logger, paths[i]), 0);
    }
    for (int i = 0; i < LT; i++) pthread_join(th[i], NULL);
    json_t *a = log_close(&f); /* fails on a torn line */
    assert_int_equal(json_array_size(a), LT * LPER);
    int per[LT] = {0};
    for (size_t i = 0; i < json_array_size(a); i++) {
        const char *p = sget(json_array_get(a, i), "path");
        assert_non_null(p);
        assert_int_equal(strlen(p), 999);
        per[p[0] - 'a']++;
        assert_string_equal(sget(json_array_get(a, i), "error"), p);
    }
    for (int i = 0; i < LT; i++) assert_int_equal(per[i], LPER);
    json_decref(a);
}

/* ---- the OTLP exporter: endpoint checks, a bounded queue */

static double otlp(const char *name) {
    char *m = render();
    double v = sample(m, name);
    free(m);
    return v;
}

/* Threads of this process that block SIGTERM (read from /proc). */
static int threads_blocking_sigterm(void) {
    DIR *d = opendir("/proc/self/task");
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char path[300], line[256];
        snprintf(path, sizeof path, "/proc/self/task/%s/status", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        while (fgets(line, sizeof line, f))
            if (!strncmp(line, "SigBlk:", 7)) {
                unsigned long long m = strtoull(line + 7, NULL, 16);
                if (m & (1ull << (SIGTERM - 1))) n++;
            }
        fclose(f);
    }
    closedir(d);
    return n;
}

static void test_otlp_endpoints(void **state) {
    (void)state;
    static const char *const bad[] = {
        "",          "ftp://h/",          "https://collector:4318", "http://",
        "http://:4318", "http://h:0",     "http://h:65536",         "http://h:99999999999",
        "http://h:x", "http://h:4318x",   "http://ho st/",          "http://h/pa th",
        "http://h/a\r\nX: y", "http://user@h/", "http://[::1", "http://[zz]:1/",
        "localhost:4318",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        obs_config c = {.log_fd = -1, .otlp_endpoint = bad[i]};
        char err[128] = "";
        if (obs_init(&c, err, sizeof err) != -1) fail_msg("accepted endpoint '%s'", bad[i]);
        assert_true(strncmp(err, "otlp endpoint", 13) == 0);
        obs_shutdown();
    }
    static const char *const good[] = {
        "http://127.0.0.1:4318/v1/traces", "http://localhost:4318", "http://[::1]:4318/v1/traces",
        "HTTP://collector.example", "http://otel-collector_1:4318/custom/path?x=1",
    };
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        obs_config c = {.log_fd = -1, .otlp_endpoint = good[i], .service_name = "t"};
        char err[128] = "";
        int blocking = threads_blocking_sigterm();
        if (obs_init(&c, err, sizeof err) != 0) fail_msg("refused endpoint '%s': %s", good[i], err);
        /* the exporter thread takes no signal: SIGTERM is the server's */
        assert_int_equal(threads_blocking_sigterm(), blocking + 1);
        /* a second init while one exporter runs is refused */
        assert_int_equal(obs_init(&c, err, sizeof err), -1);
        obs_shutdown();
    }
}

/* A collector that accepts connections (the kernel backlog does) and never
 * answers: request threads must not wait for it, shutdown must not hang,
 * and every span is either exported or counted as dropped. */
static void test_otlp_black_hole(void **state) {
    (void)state;
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(ls >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(ls, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(ls, 16), 0);
    socklen_t sl = sizeof sa;
    assert_int_equal(getsockname(ls, (struct sockaddr *)&sa, &sl), 0);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/traces", ntohs(sa.sin_port));
    double ex0 = otlp("maif_otlp_spans_exported_total"), dr0 = otlp("maif_otlp_spans_dropped_total");
    obs_config c = {.log_fd = -1, .otlp_endpoint = url, .service_name = "t"};
    char err[128];
    assert_int_equal(obs_init(&c, err, sizeof err), 0);
    /* far more than the queue holds */
    int n = 20000;
    for (int i = 0; i < n; i++) {
        obs_trace t;
        obs_trace_start(&t, NULL);
        obs_request rq = {.route = OBS_R_AUDIT, .method = "GET", .path = "/a", .status = 200, .trace = &t};
        obs_request_end(&rq);
    }
    /* not sampled: no span at all */
    obs_trace t;
    obs_trace_start(&t, "00-" TP_TRACE "-" TP_PARENT "-00");
    obs_request rq = {.route = OBS_R_AUDIT, .method = "GET", .path = "/a", .status = 200, .trace = &t};
    obs_request_end(&rq);
    /* wait (up to 60 s, a bound for a starved machine, not a timing check)
     * until the exporter has connected, so that it is stuck in an export
     * when the shutdown starts: a loaded machine could otherwise keep it
     * from starting one before the shutdown deadline, and then it would
     * drop everything without a failed batch to count */
    struct pollfd pf = {.fd = ls, .events = POLLIN};
    assert_int_equal(poll(&pf, 1, 60000), 1);
    int cs = accept(ls, NULL, NULL);
    assert_true(cs >= 0);
    obs_shutdown();
    close(cs);
    double ex = otlp("maif_otlp_spans_exported_total") - ex0;
    double dr = otlp("maif_otlp_spans_dropped_total") - dr0;
    if (ex != 0 || dr != n) fail_msg("exported %g, dropped %g of %d", ex, dr, n);
    assert_true(otlp("maif_otlp_export_failures_total") >= 1);
    close(ls);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trace_continue),
        cmocka_unit_test(test_trace_flags),
        cmocka_unit_test(test_trace_new),
        cmocka_unit_test(test_trace_invalid),
        cmocka_unit_test(test_log_fields),
        cmocka_unit_test(test_log_hostile),
        cmocka_unit_test(test_log_off),
        cmocka_unit_test(test_metrics_render),
        cmocka_unit_test(test_metrics_threads),
        cmocka_unit_test(test_log_threads),
        cmocka_unit_test(test_otlp_endpoints),
        cmocka_unit_test(test_otlp_black_hole),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
