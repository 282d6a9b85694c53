/*
 * testutil.h — helpers shared by the cmocka unit tests: temporary
 * directories, whole-file reads and writes, and the path of the shared
 * reference samples.
 */
#ifndef MAIF_TESTUTIL_H
#define MAIF_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "maif.h"

/* A fresh directory under $TMPDIR (or /tmp); removed by tu_rmtree. */
char *tu_tmpdir(void);
void tu_rmtree(const char *dir);
/* Joins dir and name into a malloc'ed path. */
char *tu_path(const char *dir, const char *name);
/* Reads a whole file; returns malloc'ed bytes (NUL-terminated), or NULL. */
uint8_t *tu_read(const char *path, size_t *len);
int tu_write(const char *path, const void *data, size_t len);
/* Directory holding the MAIF 2.1 samples: $MAIF_SAMPLES, else
 * tests/data/v21 (copies of ../shared/reference/samples). */
const char *tu_samples_dir(void);

/* An Nth-failure allocator (SQLite's test_malloc.c model), installed with
 * maif_allocator_set: tu_alloc_fail(n, persist) makes allocation number n
 * (1-based, counted from this call) fail, and every later one with
 * persist; n = 0 fails none. It sits on malloc/realloc/free, so memory
 * from before the install may be freed through it. */
void tu_alloc_install(void);
void tu_alloc_uninstall(void);
void tu_alloc_fail(uint64_t n, int persist);
/* Allocations since the last tu_alloc_fail; 1 once the armed one failed. */
uint64_t tu_alloc_count(void);
int tu_alloc_fired(void);

#endif
