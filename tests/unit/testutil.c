/*
 * testutil.c — see testutil.h.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *tu_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char *p = NULL;
    if (asprintf(&p, "%s/maif-test-XXXXXX", base && *base ? base : "/tmp") < 0) return NULL;
    if (!mkdtemp(p)) {
        free(p);
        return NULL;
    }
    return p;
}

void tu_rmtree(const char *dir)
{
    if (!dir) return;
    char *cmd = NULL;
    if (asprintf(&cmd, "rm -rf '%s'", dir) >= 0) {
        if (system(cmd) != 0) { /* best effort */
        }
        free(cmd);
    }
}

char *tu_path(const char *dir, const char *name)
{
    char *p = NULL;
    if (asprintf(&p, "%s/%s", dir, name) < 0) return NULL;
    return p;
}

uint8_t *tu_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    uint8_t *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n + 65536 + 1 > cap) {
            cap = (n + 65536 + 1) * 2;
            uint8_t *p = realloc(buf, cap);
            if (!p) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = p;
        }
        size_t got = fread(buf + n, 1, 65536, f);
        n += got;
        if (got == 0) break;
    }
    fclose(f);
    buf[n] = 0;
    if (len) *len = n;
    return buf;
}

int tu_write(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = fwrite(data, 1, len, f);
    return (fclose(f) == 0 && w == len) ? 0 : -1;
}

const char *tu_samples_dir(void)
{
    const char *d = getenv("MAIF_SAMPLES");
    return d && *d ? d : "tests/data/v21";
}

/* ---- Nth-failure allocator: counters are atomic, the writer's helper
 * threads allocate too */
static uint64_t ta_count, ta_nth;
static int ta_persist, ta_fired;

static int ta_fail_now(void)
{
    uint64_t n = __atomic_add_fetch(&ta_count, 1, __ATOMIC_SEQ_CST);
    uint64_t nth = __atomic_load_n(&ta_nth, __ATOMIC_SEQ_CST);
    if (nth && (n == nth || (ta_persist && n > nth))) {
        __atomic_store_n(&ta_fired, 1, __ATOMIC_SEQ_CST);
        return 1;
    }
    return 0;
}

static void *ta_malloc(void *user, size_t n)
{
    (void)user;
    return ta_fail_now() ? NULL : malloc(n);
}

static void *ta_realloc(void *user, void *p, size_t n)
{
    (void)user;
    return ta_fail_now() ? NULL : realloc(p, n);
}

static void ta_free(void *user, void *p)
{
    (void)user;
    free(p);
}

void tu_alloc_install(void)
{
    static const maif_allocator a = {ta_malloc, ta_realloc, ta_free, NULL};
    tu_alloc_fail(0, 0);
    maif_allocator_set(&a);
}

void tu_alloc_uninstall(void)
{
    tu_alloc_fail(0, 0);
    maif_allocator_set(NULL);
}

void tu_alloc_fail(uint64_t n, int persist)
{
    __atomic_store_n(&ta_nth, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&ta_count, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&ta_fired, 0, __ATOMIC_SEQ_CST);
    ta_persist = persist;
    __atomic_store_n(&ta_nth, n, __ATOMIC_SEQ_CST);
}

uint64_t tu_alloc_count(void) { return __atomic_load_n(&ta_count, __ATOMIC_SEQ_CST); }
int tu_alloc_fired(void) { return __atomic_load_n(&ta_fired, __ATOMIC_SEQ_CST); }
