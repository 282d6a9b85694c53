/*
 * common.h — small inline helpers every layer uses: fixed-width loads and
 * stores in both byte orders (the native format is little-endian, MAIF 2.1
 * is big-endian), overflow-checked size arithmetic, and the error-message
 * formatter that handles share.
 */
#ifndef MAIF_COMMON_H
#define MAIF_COMMON_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "maif.h"

static inline uint16_t rd16le(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t rd32le(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline uint64_t rd64le(const uint8_t *p) { return (uint64_t)rd32le(p) | ((uint64_t)rd32le(p + 4) << 32); }
static inline void wr16le(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void wr32le(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}
static inline void wr64le(uint8_t *p, uint64_t v) { wr32le(p, (uint32_t)v); wr32le(p + 4, (uint32_t)(v >> 32)); }

static inline uint16_t rd16be(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }
static inline uint32_t rd32be(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}
static inline uint64_t rd64be(const uint8_t *p) { return ((uint64_t)rd32be(p) << 32) | rd32be(p + 4); }
static inline void wr16be(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void wr32be(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}
static inline void wr64be(uint8_t *p, uint64_t v) { wr32be(p, (uint32_t)(v >> 32)); wr32be(p + 4, (uint32_t)v); }

/* a + b into *r; returns 0 on overflow. */
static inline int add_ok(uint64_t a, uint64_t b, uint64_t *r) { return !__builtin_add_overflow(a, b, r); }
static inline int mul_ok(uint64_t a, uint64_t b, uint64_t *r) { return !__builtin_mul_overflow(a, b, r); }

/* Does [off, off+len) lie inside a buffer of size total? Overflow-safe. */
static inline int in_bounds(uint64_t off, uint64_t len, uint64_t total)
{
    return off <= total && len <= total - off;
}

static inline int all_zero(const uint8_t *p, size_t n)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++) acc |= p[i];
    return acc == 0;
}

static inline uint64_t align8(uint64_t v) { return (v + 7u) & ~(uint64_t)7u; }

/* Formats into a fixed message buffer (handles' errmsg). Returns code, so
 * callers can write `return set_err(w->err, sizeof w->err, MAIF_EIO, ...)`. */
int maif_set_err(char *buf, size_t cap, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Records the thread's last error (maif_last_errmsg): every public call
 * that fails calls this, directly or through its handle's message. Returns
 * code. */
/* A spin-wait pause (x86 PAUSE, arm64 YIELD): one step of a busy wait on
 * another thread. */
static inline void maif_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

int maif_set_last_err(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Microseconds since the epoch (CLOCK_REALTIME). */
uint64_t maif_now_us(void);

#endif
