/*
 * testutil.h — helpers shared by the cmocka unit tests: temporary
 * directories, whole-file reads and writes, the path of the shared
 * reference samples, and the fixture and helpers of the native-format
 * tests (test_writer, test_reader, test_index, test_recover, test_sign).
 */
#ifndef MAIF_TESTUTIL_H
#define MAIF_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "maif.h"
#include "codec/codec.h"

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

/* A temporary directory, a file path in it ("a.maif", not created) and a
 * fresh signing key; tu_setup / tu_teardown are cmocka fixtures. */
typedef struct tu_fixture {
    char *dir;
    char *path;
    maif_key *key;
} tu_fixture;
int tu_setup(void **state);
int tu_teardown(void **state);

/* Deterministic bytes for seed (splitmix64 words); tu_check_pattern is 1
 * when p holds exactly those bytes. */
void tu_pattern(uint8_t *p, size_t n, uint64_t seed);
/* Other deterministic bytes for seed (one xorshift64 step a byte). */
void tu_xorshift_fill(uint8_t *p, size_t n, uint64_t seed);
/* A new buffer of n + 1 bytes, the first n tu_pattern's for seed; fails
 * the test if out of memory. */
uint8_t *tu_pattern_new(size_t n, uint64_t seed);
int tu_check_pattern(const uint8_t *p, size_t n, uint64_t seed);
/* Microseconds since the epoch (CLOCK_REALTIME). */
uint64_t tu_now_us(void);
/* Size of the file at path (the test fails if it cannot be stat'ed). */
uint64_t tu_file_size(const char *path);
/* 1 if rep has a finding with this code (and severity, unless < 0). */
int tu_has_code(const maif_report *r, const char *code, int severity);
/* Prints every finding of rep (for failing tests). */
void tu_dump_report(const maif_report *r);
/* Verifies the file and asserts it is ok with no warnings or errors;
 * returns the number of blocks verified. */
uint64_t tu_assert_verifies_clean(const char *path);
/* Verifies the file and asserts it is ok (warnings allowed). */
void tu_assert_verifies(const char *path);
/* A copy of the payload of the latest block of type in path (stored as
 * is: codec and cipher 0, asserted), and its block number; fails the test
 * when there is none. free() it. */
uint8_t *tu_last_payload(const char *path, uint32_t type, size_t *size, uint64_t *block);
/* Appends a block (meta may be NULL) and asserts it was accepted. */
void tu_add_simple(maif_writer *w, uint32_t type, const void *p, size_t n, const char *meta, uint8_t id[16]);
/* Appends a text block holding the string t, no metadata; asserts it was accepted. */
void tu_add_text(maif_writer *w, const char *t);
/* Creates path (no agent, no options) signed by key with one committed
 * text block holding the string text (meta may be NULL); returns the
 * writer, still open. tu_write_one closes it. Both fail the test on error. */
maif_writer *tu_create_one(const char *path, const maif_key *key, const char *text, const char *meta);
void tu_write_one(const char *path, const maif_key *key, const char *text, const char *meta);
/* Opens the artifact at path with key, appends one block of type holding
 * p[0..n) and commits it; fails the test on error. */
void tu_append_one(const char *path, const maif_key *key, uint32_t type, const void *p, size_t n);
/* Record i of a family of small JSON records that share their structure
 * (what compression dictionaries are for), ending in a newline if nl;
 * malloc'd, *n its length. tu_dict_train trains a dictionary of at most
 * cap bytes on records 0..599 and fails the test if it cannot; *len is
 * its size. free() both. */
char *tu_record(int i, int nl, size_t *n);
uint8_t *tu_dict_train(size_t cap, int nl, size_t *len);
/* A payload source over a buffer for maif_writer_add_stream and the
 * other maif_read_fn takers: hands out at most step bytes a call (0: as
 * many as fit), and once fail_at bytes are out (if not 0) fails with
 * MAIF_EIO: tu_mem_src s = {p, n, 0, step, fail_at}. */
typedef struct tu_mem_src {
    const uint8_t *p;
    size_t n, at, step, fail_at;
} tu_mem_src;
int64_t tu_mem_read(void *ctx, void *buf, size_t cap);
/* A new keyring that seals for key (its recipient) and opens with it (its
 * identity): an artifact's own key, both ways. Free with
 * maif_keyring_free. */
maif_keyring *tu_keyring_self(const maif_key *key);
/* A key source (codec/codec.h) that answers every key id with one key,
 * or MAIF_EACCESS when key is NULL: tu_keysrc ks = {{tu_keysrc_lookup}, key}. */
typedef struct tu_keysrc {
    maif_keysrc src;
    const uint8_t *key;
} tu_keysrc;
int tu_keysrc_lookup(const maif_keysrc *self, const uint8_t *id, size_t id_len, const uint8_t **key);
/* Pins the calling thread to one of the CPUs it may use and returns how
 * many it could use; tu_cpu_unpin gives them back. One pin at a time. */
int tu_cpu_pin_one(void);
void tu_cpu_unpin(void);

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
