/*
 * alloc.h — every allocation the library makes goes through these, so a
 * host can install its own allocator (maif_allocator_set in maif.h) and the
 * tests can fail the Nth allocation. Memory from one of them is freed with
 * maif_free, never free(): the allocator installed may not be libc's.
 */
#ifndef MAIF_ALLOC_H
#define MAIF_ALLOC_H

#include <stdarg.h>
#include <stddef.h>

void *maif_malloc(size_t size);
/* n * size bytes, zeroed; NULL if the product overflows. */
void *maif_calloc(size_t n, size_t size);
void *maif_realloc(void *p, size_t size);
void maif_free(void *p);
char *maif_strdup(const char *s);
/* vasprintf / asprintf through maif_malloc; NULL on failure. */
char *maif_vasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
char *maif_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
