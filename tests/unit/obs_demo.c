/*
 * obs_demo.c — test helper (not a test): drives server/obs_*.c the way
 * `maif serve` does, without the server, for tests/cli/test_obs.sh.
 *   obs_demo [--otlp URL] [--traceparent TP] [--log PATH] [--tp-out PATH] [-n N]
 * Records N (default 40) requests over several routes, methods and status
 * codes (the ones with index i % 7 == 6 are 500s), counts some appends,
 * commits, denials and cache hits, shuts obs down (flushing spans), then
 * prints the metrics on stdout. With --tp-out, writes the traceparent each
 * request answered with, one a line. Exit 2 on a bad argument or an
 * obs_init error (message on stderr).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../server/obs.h"

int main(int argc, char **argv) {
    const char *otlp = NULL, *tp = NULL, *logp = NULL, *tpout = NULL;
    long n = 40;
    for (int i = 1; i < argc; i++) {
        if (i + 1 < argc && !strcmp(argv[i], "--otlp")) otlp = argv[++i];
        else if (i + 1 < argc && !strcmp(argv[i], "--traceparent")) tp = argv[++i];
        else if (i + 1 < argc && !strcmp(argv[i], "--log")) logp = argv[++i];
        else if (i + 1 < argc && !strcmp(argv[i], "--tp-out")) tpout = argv[++i];
        else if (i + 1 < argc && !strcmp(argv[i], "-n")) n = strtol(argv[++i], NULL, 10);
        else {
            fprintf(stderr, "obs_demo: bad argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (n < 0 || n > 1000000) { fprintf(stderr, "obs_demo: bad -n\n"); return 2; }
    int fd = -1;
    if (logp && (fd = open(logp, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) < 0) {
        perror("obs_demo: log");
        return 2;
    }
    FILE *tpf = NULL;
    if (tpout && !(tpf = fopen(tpout, "w"))) { perror("obs_demo: tp-out"); return 2; }
    obs_config c = {.log_fd = fd, .otlp_endpoint = otlp, .service_name = "maif-demo"};
    char err[256];
    if (obs_init(&c, err, sizeof err) != 0) {
        fprintf(stderr, "obs_demo: %s\n", err);
        return 2;
    }
    obs_log("info", "obs_demo: start");
    static const obs_route routes[] = {OBS_R_APPEND, OBS_R_BLOCK, OBS_R_SEARCH, OBS_R_HEALTHZ,
                                       OBS_R_COMMIT, OBS_R_VERIFY, OBS_R_LIST};
    static const char *const methods[] = {"POST", "GET", "GET", "GET", "POST", "GET", "GET"};
    static const int codes[] = {201, 200, 200, 200, 200, 404, 500};
    for (long i = 0; i < n; i++) {
        int k = (int)(i % 7);
        obs_trace t;
        obs_trace_start(&t, tp);
        obs_in_flight(1);
        char path[64];
        snprintf(path, sizeof path, "/v1/artifacts/demo%ld/x", i % 3);
        obs_request rq = {
            .route = routes[k], .method = methods[k], .path = path, .status = codes[k],
            .start_ns = obs_now_ns(), .bytes_in = (uint64_t)(100 * k), .bytes_out = 42,
            .token = k == 0 ? "writer" : NULL, .artifact = "demo", .remote = "127.0.0.1",
            .error = codes[k] >= 400 ? "demo error" : NULL, .trace = &t,
        };
        /* a spread of durations: 0.1 ms .. a few ms, fake but monotonic */
        rq.end_ns = rq.start_ns + (uint64_t)(100000 * (1 + i % 50));
        if (k == 0) { obs_count(OBS_C_APPENDS, 1); obs_count(OBS_C_APPEND_BYTES, 100); }
        if (k == 4) obs_count(OBS_C_COMMITS, 1);
        if (k == 1) obs_count(i % 2 ? OBS_C_CACHE_HITS : OBS_C_CACHE_MISSES, 1);
        if (k == 5) obs_count(OBS_C_VERIFY_FAILURES, 1);
        obs_request_end(&rq);
        obs_in_flight(-1);
        if (tpf) {
            char s[56];
            obs_trace_format(&t, s);
            fprintf(tpf, "%s\n", s);
        }
    }
    obs_count(OBS_C_ACCESS_DENIALS, 2);
    obs_count(OBS_C_RATE_LIMITED, 1);
    if (tpf) fclose(tpf);
    obs_log("info", "obs_demo: shutdown");
    obs_shutdown();
    char *m;
    size_t len;
    if (obs_metrics_render(&m, &len) != 0) { fprintf(stderr, "obs_demo: out of memory\n"); return 2; }
    fwrite(m, 1, len, stdout);
    free(m);
    if (fd >= 0) close(fd);
    return 0;
}
