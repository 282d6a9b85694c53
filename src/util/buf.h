/*
 * buf.h — a growable byte buffer. Growth is checked for overflow and capped
 * at MAIF_BUF_MAX so that no stored length can ask for unbounded memory.
 */
#ifndef MAIF_BUF_H
#define MAIF_BUF_H

#include <stddef.h>
#include <stdint.h>

#define MAIF_BUF_MAX ((size_t)1 << 40) /* 1 TiB: far above any real need, below overflow */

typedef struct maif_buf {
    uint8_t *data; /* NULL until first growth; owned */
    size_t len;    /* bytes in use */
    size_t cap;    /* bytes allocated */
} maif_buf;

/* All return 0 or MAIF_ENOMEM / MAIF_ELIMIT. */
int maif_buf_reserve(maif_buf *b, size_t extra);
int maif_buf_append(maif_buf *b, const void *p, size_t n);
int maif_buf_putc(maif_buf *b, char c);
int maif_buf_puts(maif_buf *b, const char *s);
int maif_buf_printf(maif_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void maif_buf_free(maif_buf *b);
/* Takes ownership of the bytes, NUL-terminated (not counted in *len). */
char *maif_buf_steal(maif_buf *b, size_t *len);

#endif
