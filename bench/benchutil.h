/*
 * benchutil.h — what every benchmark shares: a monotonic clock, order
 * statistics, a scratch directory on a real filesystem, deterministic
 * payload bytes, and one printing routine so that every figure appears the
 * same way, beside the baseline it was measured against in the same run.
 *
 * Each printed figure is also appended as one tab-separated line to the
 * file named by $BENCH_RESULTS (when set), from which bench/run.sh builds
 * the final table. Nothing here hard-codes a measurement.
 */
#ifndef MAIF_BENCHUTIL_H
#define MAIF_BENCHUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "maif.h"

/* Seconds on CLOCK_MONOTONIC. */
double bu_now(void);

/* Sorts v[0..n) in place and returns the q-quantile (0 <= q <= 1), nearest
 * rank. n must be > 0. */
double bu_quantile(double *v, size_t n, double q);
double bu_median(double *v, size_t n);

/* Creates a fresh directory under $BENCH_DIR, else /var/tmp, named
 * maif-bench.XXXXXX; returns a malloc'ed path or exits on failure. */
char *bu_tmpdir(void);
/* dir + "/" + name, malloc'ed. */
char *bu_path(const char *dir, const char *name);
/* Removes a directory tree made by bu_tmpdir (regular files only). */
void bu_rmdir(const char *dir);
/* Size of a file in bytes, or exits. */
uint64_t bu_file_size(const char *path);
/* Reads a whole file into memory (to warm the page cache). */
void bu_warm(const char *path);

/* Fills buf with deterministic, incompressible-looking bytes (xorshift). */
void bu_fill(void *buf, size_t n, uint64_t seed);
/* A fresh Ed25519 key or exit. */
maif_key *bu_key(void);
/* Exits with a message when rc != 0. */
void bu_check(int rc, const char *what, const char *detail);
/* Writer options: MAIF_OPT_OVERWRITE, plus MAIF_OPT_DURABLE if durable.
 * Made once per process and kept. */
const maif_options *bu_writer_options(int durable);

/* A double from the environment (baselines measured by run.sh), or -1. */
double bu_env_double(const char *name);

/* Prints one figure:
 *   <label>  <value> <unit>   baseline <blabel> <bvalue> <unit>   ratio R   target T
 * ratio is value / baseline (omitted when either is unknown: pass
 * baseline < 0 for none). target is free text ("" for none). Also appends
 * a line to $BENCH_RESULTS. */
void bu_report(const char *label, double value, const char *unit, const char *blabel, double baseline,
               const char *target);
/* A line of free text that belongs in the table (quoted reference numbers,
 * notes). Printed and appended to $BENCH_RESULTS as a note row. */
void bu_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
