/*
 * buf.c — growable byte buffer (see buf.h). Doubling growth, overflow checks.
 */
#include "util/alloc.h"
#include "util/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "maif.h"

int maif_buf_reserve(maif_buf *b, size_t extra)
{
    if (extra > MAIF_BUF_MAX || b->len > MAIF_BUF_MAX - extra) return MAIF_ELIMIT;
    size_t need = b->len + extra;
    if (need <= b->cap) return MAIF_OK;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need) cap = cap > MAIF_BUF_MAX / 2 ? MAIF_BUF_MAX : cap * 2;
    uint8_t *p = maif_realloc(b->data, cap);
    if (!p) return MAIF_ENOMEM;
    b->data = p;
    b->cap = cap;
    return MAIF_OK;
}

int maif_buf_append(maif_buf *b, const void *p, size_t n)
{
    if (n == 0) return MAIF_OK;
    int rc = maif_buf_reserve(b, n);
    if (rc) return rc;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return MAIF_OK;
}

int maif_buf_putc(maif_buf *b, char c) { return maif_buf_append(b, &c, 1); }
int maif_buf_puts(maif_buf *b, const char *s) { return maif_buf_append(b, s, strlen(s)); }

int maif_buf_printf(maif_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return MAIF_EINVAL;
    int rc = maif_buf_reserve(b, (size_t)n + 1);
    if (rc) return rc;
    va_start(ap, fmt);
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return MAIF_OK;
}

void maif_buf_free(maif_buf *b)
{
    maif_free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

char *maif_buf_steal(maif_buf *b, size_t *len)
{
    if (maif_buf_reserve(b, 1)) return NULL;
    b->data[b->len] = 0;
    char *p = (char *)b->data;
    if (len) *len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}
