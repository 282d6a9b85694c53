/*
 * obs_int.h — what the obs_*.c files share and the server does not see:
 * the JSON string writer, the span queue of the exporter and the clock
 * offset. Not part of obs.h's contract.
 */
#ifndef MAIF_SERVER_OBS_INT_H
#define MAIF_SERVER_OBS_INT_H

#include "obs.h"

#include <stddef.h>
#include <stdint.h>

/* A growing byte buffer; on allocation failure it sets oom and stops
 * growing (every append becomes a no-op), so callers check once at the end. */
typedef struct obs_buf {
    char *p;
    size_t len, cap;
    int oom;
} obs_buf;

void obs_buf_put(obs_buf *b, const void *s, size_t n);
void obs_buf_puts(obs_buf *b, const char *s);
void obs_buf_printf(obs_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s (at most max bytes of it; NULL writes null) as a quoted JSON
 * string: quote, backslash and every control character escaped, invalid
 * UTF-8 replaced by U+FFFD, a cut at max marked with "...". */
void obs_buf_json_str(obs_buf *b, const char *s, size_t max);
/* Lowercase hex of n bytes. */
void obs_buf_hex(obs_buf *b, const uint8_t *p, size_t n);

/* Wall-clock nanoseconds of a monotonic time (offset taken at obs_init, or
 * at first use). */
uint64_t obs_wall_ns(uint64_t mono_ns);

/* obs_log.c: the log of one finished request. */
void obs_log_request(const obs_request *rq);

/* obs_metrics.c: the per-request metrics. */
void obs_metrics_request(const obs_request *rq);

/* obs_otlp.c: starts the exporter for url (0, or -1 with err). */
int obs_otlp_start(const char *url, const char *service, char *err, size_t cap);
void obs_otlp_stop(void);
/* Queues the span of a finished request (no-op without an exporter; drops
 * and counts when the queue is full). Never blocks on I/O. */
void obs_otlp_enqueue(const obs_request *rq);
/* Exporter figures (rendered by obs_metrics_render). */
void obs_otlp_stats(uint64_t *exported, uint64_t *dropped, uint64_t *failed_batches);

/* Log destination (-1: none), set by obs_init. */
void obs_log_set_fd(int fd);

#endif
