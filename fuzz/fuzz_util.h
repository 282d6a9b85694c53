/*
 * fuzz_util.h — what the model-checking fuzz targets (fuzz_writer,
 * fuzz_convert) share: the failed-check abort, the input read as a stream
 * of choices, the signing key, the wrappers of the public calls whose
 * signatures may change (one place to adapt) and a temporary directory per
 * input.
 *
 * Each target is built as its own program from one .c file and
 * replay_main.c (or libFuzzer), so everything here is static: a header
 * needs no build rule.
 */
#ifndef MAIF_FUZZ_UTIL_H
#define MAIF_FUZZ_UTIL_H

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "maif.h"

/* A promise the library broke: abort, so libFuzzer and the corpus replay
 * in `make test` report it with the target's file and line. */
#define CHECK(cond) do { if (!(cond)) fuzz_fail(__FILE__, __LINE__, #cond); } while (0)

static inline void fuzz_fail(const char *file, int line, const char *what)
{
    fprintf(stderr, "%s:%d: check failed: %s\n", file, line, what);
    abort();
}

/* ---- the input as a stream of choices (zeros once it runs out) */

typedef struct in_t {
    const uint8_t *p;
    size_t n;
} in_t;

static inline unsigned u8(in_t *in)
{
    if (!in->n) return 0;
    in->n--;
    return *in->p++;
}

static inline unsigned u16(in_t *in) { return u8(in) | u8(in) << 8; }

/* The block types both targets choose from. */
static const uint32_t types[] = {MAIF_TYPE_TEXT, MAIF_TYPE_EMBEDDING, MAIF_TYPE_IMAGE, MAIF_TYPE_AUDIO,
                                 MAIF_TYPE_VIDEO, MAIF_TYPE_KNOWLEDGE, MAIF_TYPE_BINARY, MAIF_TYPE_META,
                                 MAIF_TYPE_JSON};

/* ---- the environment */

/* One signing key per process. */
static inline const maif_key *key(void)
{
    static maif_key *k;
    if (!k && maif_key_generate(&k) != MAIF_OK) abort();
    return k;
}

/* ---- the public calls whose signatures are changing: one place to adapt */

static char api_err[512]; /* message of the last failed call below */

/* Keeps the message of a failed call (rc != 0) in api_err; returns rc. */
static inline int api_note(int rc)
{
    if (rc) snprintf(api_err, sizeof api_err, "%s", maif_last_errmsg());
    return rc;
}

static inline int reader_open(maif_reader **r, const char *path) { return maif_reader_open(r, path); }

static inline int verify(const char *path, maif_report **rep) { return maif_verify_file(path, NULL, rep); }

/* ---- a directory per input */

/* A fresh directory from the mkdtemp template shm (in /dev/shm, faster),
 * else from tmp (in /tmp); both templates are changed in place. */
static inline char *fuzz_tmpdir(char *shm, char *tmp)
{
    char *d = mkdtemp(shm);
    if (!d) d = mkdtemp(tmp);
    CHECK(d != NULL);
    return d;
}

/* Removes dir and the files in it (the targets make no subdirectories). */
static inline void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        char p[4096];
        while ((e = readdir(d)))
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
                snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
                unlink(p);
            }
        closedir(d);
    }
    rmdir(dir);
}

#endif
