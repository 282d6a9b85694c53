/*
 * obs_log.c — one JSON object per line and request on the log fd.
 *
 * A line is built whole in memory, then written under a mutex with one
 * write() (looping only on a short write), so lines of concurrent requests
 * never interleave. Every string that came from a client (path, token name,
 * artifact, error text) goes through obs_buf_json_str: escaped, invalid
 * UTF-8 replaced, and cut to a bounded length so one line stays small.
 */
#include "obs_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Longest part of one client-supplied string a log line carries. */
#define OBS_LOG_FIELD_MAX 1024

static _Atomic int log_fd = -1;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

void obs_log_set_fd(int fd) { atomic_store(&log_fd, fd); }

/* ---- the buffer */

static int buf_grow(obs_buf *b, size_t need) {
    if (b->oom) return -1;
    if (need > SIZE_MAX - b->len) { b->oom = 1; return -1; }
    if (b->len + need <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + need) {
        if (cap > SIZE_MAX / 2) { b->oom = 1; return -1; }
        cap *= 2;
    }
    char *p = realloc(b->p, cap);
    if (!p) { b->oom = 1; return -1; }
    b->p = p;
    b->cap = cap;
    return 0;
}

void obs_buf_put(obs_buf *b, const void *s, size_t n) {
    if (n == 0 || buf_grow(b, n) != 0) return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

void obs_buf_puts(obs_buf *b, const char *s) { obs_buf_put(b, s, strlen(s)); }

void obs_buf_printf(obs_buf *b, const char *fmt, ...) {
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof tmp) { obs_buf_put(b, tmp, (size_t)n); return; }
    if (buf_grow(b, (size_t)n + 1) != 0) return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void obs_buf_hex(obs_buf *b, const uint8_t *p, size_t n) {
    static const char hx[] = "0123456789abcdef";
    if (buf_grow(b, 2 * n) != 0) return;
    for (size_t i = 0; i < n; i++) {
        b->p[b->len++] = hx[p[i] >> 4];
        b->p[b->len++] = hx[p[i] & 15];
    }
}

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0 if it is
 * not one (overlong forms, surrogates and code points past U+10FFFF are
 * invalid). */
static size_t utf8_len(const unsigned char *s, size_t n) {
    unsigned c = s[0];
    if (c < 0x80) return 1;
    size_t len;
    uint32_t cp;
    if (c >= 0xc2 && c <= 0xdf) { len = 2; cp = c & 0x1f; }
    else if (c >= 0xe0 && c <= 0xef) { len = 3; cp = c & 0x0f; }
    else if (c >= 0xf0 && c <= 0xf4) { len = 4; cp = c & 0x07; }
    else return 0;
    if (n < len) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if (len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) return 0;
    if (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) return 0;
    return len;
}

void obs_buf_json_str(obs_buf *b, const char *s, size_t max) {
    if (!s) { obs_buf_puts(b, "null"); return; }
    const unsigned char *u = (const unsigned char *)s;
    size_t n = strlen(s), cut = 0;
    if (n > max) { n = max; cut = 1; }
    obs_buf_put(b, "\"", 1);
    size_t i = 0;
    while (i < n) {
        unsigned c = u[i];
        /* the longest run that needs no escaping goes in one copy */
        size_t j = i;
        while (j < n && u[j] >= 0x20 && u[j] < 0x7f && u[j] != '"' && u[j] != '\\') j++;
        if (j > i) { obs_buf_put(b, u + i, j - i); i = j; continue; }
        switch (c) {
        case '"': obs_buf_puts(b, "\\\""); i++; continue;
        case '\\': obs_buf_puts(b, "\\\\"); i++; continue;
        case '\n': obs_buf_puts(b, "\\n"); i++; continue;
        case '\r': obs_buf_puts(b, "\\r"); i++; continue;
        case '\t': obs_buf_puts(b, "\\t"); i++; continue;
        default: break;
        }
        if (c < 0x20 || c == 0x7f) { obs_buf_printf(b, "\\u%04x", c); i++; continue; }
        size_t l = utf8_len(u + i, n - i);
        if (l == 0) {
            /* a sequence cut by the length bound is not the client's fault,
             * but it is still not valid UTF-8: replaced like any other */
            obs_buf_puts(b, "\\ufffd");
            i++;
            continue;
        }
        /* U+2028 and U+2029 are valid JSON but break some line readers */
        if (l == 3 && c == 0xe2 && u[i + 1] == 0x80 && (u[i + 2] == 0xa8 || u[i + 2] == 0xa9)) {
            obs_buf_puts(b, u[i + 2] == 0xa8 ? "\\u2028" : "\\u2029");
        } else {
            obs_buf_put(b, u + i, l);
        }
        i += l;
    }
    if (cut) obs_buf_puts(b, "...");
    obs_buf_put(b, "\"", 1);
}

/* ---- lines */

/* "2026-12-01T08:01:28.123Z" */
static void put_ts(obs_buf *b) {
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    time_t sec = ts.tv_sec;
    gmtime_r(&sec, &tm);
    obs_buf_printf(b, "\"ts\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ\"", tm.tm_year + 1900,
                   tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                   (long)(ts.tv_nsec / 1000000));
}

static void emit(obs_buf *b) {
    int fd = atomic_load(&log_fd);
    if (b->oom || fd < 0) { free(b->p); return; }
    obs_buf_put(b, "\n", 1);
    if (b->oom) { free(b->p); return; }
    pthread_mutex_lock(&log_lock);
    size_t off = 0;
    while (off < b->len) {
        ssize_t w = write(fd, b->p + off, b->len - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break; /* a dead log must not stop the server */
        off += (size_t)w;
    }
    pthread_mutex_unlock(&log_lock);
    free(b->p);
}

static const char *level_of(const char *level) {
    if (level && (!strcmp(level, "warn") || !strcmp(level, "error"))) return level;
    return "info";
}

void obs_log(const char *level, const char *msg) {
    if (atomic_load(&log_fd) < 0) return;
    obs_buf b = {0};
    obs_buf_puts(&b, "{");
    put_ts(&b);
    obs_buf_printf(&b, ",\"level\":\"%s\",\"msg\":", level_of(level));
    obs_buf_json_str(&b, msg ? msg : "", 4 * OBS_LOG_FIELD_MAX);
    obs_buf_puts(&b, "}");
    emit(&b);
}

void obs_log_request(const obs_request *rq) {
    if (atomic_load(&log_fd) < 0) return;
    obs_buf b = {0};
    const char *level = rq->status >= 500 ? "error" : rq->status >= 400 ? "warn" : "info";
    obs_buf_puts(&b, "{");
    put_ts(&b);
    obs_buf_printf(&b, ",\"level\":\"%s\",\"trace_id\":", level);
    if (rq->trace) {
        obs_buf_puts(&b, "\"");
        obs_buf_hex(&b, rq->trace->trace_id, 16);
        obs_buf_puts(&b, "\",\"span_id\":\"");
        obs_buf_hex(&b, rq->trace->span_id, 8);
        obs_buf_puts(&b, "\"");
    } else {
        obs_buf_puts(&b, "null,\"span_id\":null");
    }
    obs_buf_puts(&b, ",\"method\":");
    obs_buf_json_str(&b, rq->method, 32);
    obs_buf_printf(&b, ",\"route\":\"%s\",\"path\":", obs_route_name(rq->route));
    obs_buf_json_str(&b, rq->path, OBS_LOG_FIELD_MAX);
    uint64_t ns = rq->end_ns > rq->start_ns ? rq->end_ns - rq->start_ns : 0;
    obs_buf_printf(&b, ",\"status\":%d,\"ms\":%llu.%03llu,\"bytes_in\":%llu,\"bytes_out\":%llu",
                   rq->status, (unsigned long long)(ns / 1000000),
                   (unsigned long long)(ns / 1000 % 1000), (unsigned long long)rq->bytes_in,
                   (unsigned long long)rq->bytes_out);
    obs_buf_puts(&b, ",\"token\":");
    obs_buf_json_str(&b, rq->token, 256);
    obs_buf_puts(&b, ",\"artifact\":");
    obs_buf_json_str(&b, rq->artifact, OBS_LOG_FIELD_MAX);
    obs_buf_puts(&b, ",\"remote\":");
    obs_buf_json_str(&b, rq->remote, 128);
    if (rq->error) {
        obs_buf_puts(&b, ",\"error\":");
        obs_buf_json_str(&b, rq->error, OBS_LOG_FIELD_MAX);
    }
    obs_buf_puts(&b, "}");
    emit(&b);
}
