/*
 * obs_trace.c — W3C Trace Context (level 1) for one request: parse the
 * caller's traceparent, continue its trace with a fresh span id, format the
 * server span's traceparent for the response.
 *
 * The parser is strict where the spec says a header must be ignored:
 * lowercase hex only, exact field lengths, version ff, all-zero trace or
 * parent id, and for version 00 exactly 55 characters. A later version is
 * read by its first four fields when what follows is "-..." (the spec's
 * forward compatibility). Anything rejected starts a new trace, as if no
 * header had come.
 */
#include "obs_int.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

uint64_t obs_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Random bytes, never all zero (an all-zero id is invalid). getrandom with
 * fewer than 256 bytes does not return short once the pool is ready; if it
 * fails anyway, a clock-seeded mix keeps ids distinct rather than zero. */
static void random_id(uint8_t *p, size_t n) {
    for (int tries = 0; tries < 4; tries++) {
        ssize_t r = getrandom(p, n, 0);
        if (r == (ssize_t)n) {
            for (size_t i = 0; i < n; i++)
                if (p[i]) return;
        } else if (r < 0 && errno != EINTR) {
            break;
        }
    }
    static _Atomic uint64_t ctr;
    uint64_t x = obs_now_ns() ^ (0x9e3779b97f4a7c15ull * (++ctr));
    for (size_t i = 0; i < n; i++) {
        x ^= x >> 33; x *= 0xff51afd7ed558ccdull; x ^= x >> 29;
        p[i] = (uint8_t)x;
    }
    p[n - 1] |= 1;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1; /* uppercase is invalid in traceparent */
}

/* n bytes from 2n lowercase hex digits at s; 0 or -1. */
static int unhex(const char *s, uint8_t *out, size_t n) {
    for (size_t i = 0; i < n; i++) {
        int h = hexval(s[2 * i]), l = h < 0 ? -1 : hexval(s[2 * i + 1]);
        if (h < 0 || l < 0) return -1;
        out[i] = (uint8_t)(h << 4 | l);
    }
    return 0;
}

static int all_zero(const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i]) return 0;
    return 1;
}

/* 0 when h is a valid traceparent (fills trace id, parent id, flags). */
static int parse(const char *h, obs_trace *t) {
    /* bounded scan: a valid header is 55 characters (later versions may
     * carry more, but we need no more than 56 to decide) */
    size_t n = strnlen(h, 57);
    if (n < 55) return -1;
    uint8_t ver;
    if (unhex(h, &ver, 1) != 0 || ver == 0xff) return -1;
    if (ver == 0 && n != 55) return -1;
    if (ver != 0 && n > 55 && h[55] != '-') return -1;
    if (h[2] != '-' || h[35] != '-' || h[52] != '-') return -1;
    uint8_t tid[16], pid[8], fl;
    if (unhex(h + 3, tid, 16) != 0 || unhex(h + 36, pid, 8) != 0 || unhex(h + 53, &fl, 1) != 0)
        return -1;
    if (all_zero(tid, 16) || all_zero(pid, 8)) return -1;
    memcpy(t->trace_id, tid, 16);
    memcpy(t->parent_id, pid, 8);
    /* only the sampled bit is defined in level 1; the rest are not ours
     * to propagate */
    t->flags = fl & 0x01;
    t->has_parent = 1;
    return 0;
}

void obs_trace_start(obs_trace *t, const char *traceparent) {
    memset(t, 0, sizeof *t);
    if (!traceparent || parse(traceparent, t) != 0) {
        memset(t, 0, sizeof *t);
        random_id(t->trace_id, 16);
        t->flags = 0x01; /* a trace we start is sampled: every span is exported */
    }
    random_id(t->span_id, 8);
}

static void hex(const uint8_t *p, size_t n, char *out) {
    static const char hx[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hx[p[i] >> 4];
        out[2 * i + 1] = hx[p[i] & 15];
    }
}

void obs_trace_format(const obs_trace *t, char out[56]) {
    memcpy(out, "00-", 3);
    hex(t->trace_id, 16, out + 3);
    out[35] = '-';
    hex(t->span_id, 8, out + 36);
    out[52] = '-';
    hex(&t->flags, 1, out + 53);
    out[55] = '\0';
}

void obs_trace_id_hex(const obs_trace *t, char out[33]) {
    hex(t->trace_id, 16, out);
    out[32] = '\0';
}
