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
/* Allocations through these that returned NULL in this process, ever: a
 * caller whose callee (jansson, a worker thread) reports a memory shortage
 * as something else compares it before and after the call. Another
 * thread's failure in between makes it report ENOMEM too, which is what
 * memory that short deserves. */
unsigned long maif_alloc_failures(void);
/* vasprintf / asprintf through maif_malloc; NULL on failure. */
char *maif_vasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
char *maif_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
