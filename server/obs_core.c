/*
 * obs_core.c — obs_init/obs_shutdown and the one call a finished request
 * makes (obs_request_end: metrics, log line, span), plus the clock offset
 * that turns the monotonic request times into the wall-clock times OTLP
 * wants.
 */
#include "obs_int.h"

#include <stdatomic.h>
#include <time.h>

/* wall - monotonic, in ns (0: not taken yet) */
static _Atomic int64_t wall_offset;

static int64_t take_offset(void) {
    struct timespec w;
    clock_gettime(CLOCK_REALTIME, &w);
    uint64_t m = obs_now_ns();
    return (int64_t)((uint64_t)w.tv_sec * 1000000000u + (uint64_t)w.tv_nsec - m);
}

uint64_t obs_wall_ns(uint64_t mono_ns) {
    int64_t off = atomic_load(&wall_offset);
    if (off == 0) {
        int64_t want = take_offset(), zero = 0;
        if (!atomic_compare_exchange_strong(&wall_offset, &zero, want)) off = zero;
        else off = want;
    }
    return (uint64_t)((int64_t)mono_ns + off);
}

int obs_init(const obs_config *c, char *err, size_t cap) {
    atomic_store(&wall_offset, take_offset());
    obs_log_set_fd(c ? c->log_fd : -1);
    if (c && c->otlp_endpoint) {
        if (obs_otlp_start(c->otlp_endpoint, c->service_name, err, cap) != 0) {
            obs_log_set_fd(-1);
            return -1;
        }
    }
    return 0;
}

void obs_shutdown(void) {
    obs_otlp_stop();
    obs_log_set_fd(-1);
}

void obs_request_end(const obs_request *rq) {
    if (!rq) return;
    obs_metrics_request(rq);
    obs_log_request(rq);
    obs_otlp_enqueue(rq);
}
