/*
 * alloc.c — the settable allocator (SQLite's SQLITE_CONFIG_MALLOC model).
 *
 * The installed allocator is a plain copy in a static: no lock, since it
 * may be set only before any other maif call. jansson has its own hook
 * (json_set_alloc_funcs), process-wide and shared with the host program,
 * which may use jansson itself; so it is touched only while a custom
 * allocator is installed, and what was there before is put back when the
 * default returns. OpenSSL and libsodium keep their own allocators: their
 * allocations (hash contexts, the locked pages that hold secret keys) are
 * not routed.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "maif.h"
#include "util/alloc.h"

static maif_allocator cur; /* all NULL: libc */
/* allocations that returned NULL, process-wide: a verifier's worker threads
 * allocate on its behalf */
static unsigned long failures;

static void *counted(void *p)
{
    if (!p) __atomic_add_fetch(&failures, 1, __ATOMIC_RELAXED);
    return p;
}

unsigned long maif_alloc_failures(void) { return __atomic_load_n(&failures, __ATOMIC_RELAXED); }

void *maif_malloc(size_t size)
{
    if (cur.malloc) return counted(cur.malloc(cur.user, size ? size : 1));
    return counted(malloc(size ? size : 1));
}

void *maif_calloc(size_t n, size_t size)
{
    size_t t;
    if (__builtin_mul_overflow(n, size, &t)) return counted(NULL);
    if (!cur.malloc) return counted(calloc(t ? t : 1, 1));
    void *p = cur.malloc(cur.user, t ? t : 1);
    if (p) memset(p, 0, t);
    return counted(p);
}

void *maif_realloc(void *p, size_t size)
{
    if (cur.realloc) return counted(cur.realloc(cur.user, p, size ? size : 1));
    return counted(realloc(p, size ? size : 1));
}

void maif_free(void *p)
{
    if (!p) return;
    if (cur.free) cur.free(cur.user, p);
    else free(p);
}

char *maif_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = maif_malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

char *maif_vasprintf(const char *fmt, va_list ap)
{
    va_list aq;
    va_copy(aq, ap);
    int n = vsnprintf(NULL, 0, fmt, aq);
    va_end(aq);
    if (n < 0) return NULL;
    char *s = maif_malloc((size_t)n + 1);
    if (s) vsnprintf(s, (size_t)n + 1, fmt, ap);
    return s;
}

char *maif_asprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = maif_vasprintf(fmt, ap);
    va_end(ap);
    return s;
}

static void *json_malloc(size_t n) { return maif_malloc(n); }
static void json_free(void *p) { maif_free(p); }

/* jansson's functions before ours went in, put back when the default returns */
static json_malloc_t saved_malloc;
static json_free_t saved_free;

int maif_allocator_set(const maif_allocator *a)
{
    if (a && (!a->malloc || !a->realloc || !a->free)) return MAIF_EINVAL;
    if (a) {
        if (!cur.malloc) json_get_alloc_funcs(&saved_malloc, &saved_free);
        cur = *a;
        json_set_alloc_funcs(json_malloc, json_free);
    } else if (cur.malloc) {
        memset(&cur, 0, sizeof cur);
        json_set_alloc_funcs(saved_malloc ? saved_malloc : malloc, saved_free ? saved_free : free);
    }
    return MAIF_OK;
}
