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
/* Options with one id set (a boolean option to 1, such as
 * MAIF_OPT_OVERWRITE), made once per process and kept: for calls that
 * take a const maif_options *. */
const maif_options *tu_flag(int option);
/* New options pinning nkeys keys (MAIF_PUBKEY_BYTES each, back to back)
 * with MAIF_OPT_THREADS = threads; fails the test on error. Free with
 * maif_options_free. */
maif_options *tu_verify_options(const void *keys, size_t nkeys, unsigned threads);

#endif
