/*
 * format.h — what every on-disk format gives the API layer: one table of
 * operations per format (libarchive's one-file-per-format model).
 *
 * The API layer (src/api) owns the memory map and the public handles; it
 * finds the format of an image by asking each table's detect in turn and
 * from then on talks to that format only through its table. A format never
 * calls back up into the public reader: conversion hands it a block
 * source (count + "give me block i") instead, so the layers stay one-way.
 */
#ifndef MAIF_FORMAT_H
#define MAIF_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "maif.h"
#include "report/report.h"

/* Where a format's writer takes the blocks of a conversion from. */
typedef struct maif_block_source {
    void *ctx;
    uint64_t count;                                        /* blocks */
    int (*block)(void *ctx, uint64_t i, maif_block *out);  /* views valid until the write returns */
    /* Block i's payload decoded into dst, as maif_reader_block_decode (with
     * dst NULL and cap 0: MAIF_ELIMIT and the size); for blocks whose view
     * has a codec or cipher. NULL if the source cannot decode. */
    int (*decode)(void *ctx, uint64_t i, void *dst, size_t cap, size_t *written);
    const maif_info *info;                                 /* the source's facts (agent, signer, root) */
    const char *source_note;                               /* extra provenance JSON object for the
                                                              output ("converted_from"), or NULL */
    int hash_alg;                                          /* the output's content hash (MAIF_HASH_*),
                                                              for formats that offer a choice */
} maif_block_source;

typedef struct maif_format_ops {
    int id;           /* MAIF_FORMAT_* */
    const char *name; /* "native", "2.1" */
    /* 1 if buf starts like this format. */
    int (*detect)(const uint8_t *buf, size_t len);
    /* Parses the structure of the image (borrowed; outlives the state).
     * Errors: MAIF_EFORMAT, MAIF_EVERSION, MAIF_ENOMEM with one line in err. */
    int (*open)(void **state, const uint8_t *base, uint64_t size, char *err, size_t errcap);
    /* Optional (NULL: open is used): as open, for a refresh that knows its
     * previous view was committed up to byte committed (maif_info's
     * file_size), so a format can look for newer commits after it instead
     * of scanning the whole image. */
    int (*open_after)(void **state, const uint8_t *base, uint64_t size, uint64_t committed, char *err,
                      size_t errcap);
    void (*close)(void *state);
    uint64_t (*count)(const void *state);
    /* Block i (< count) as a view into the image. */
    int (*block)(const void *state, uint64_t i, maif_block *out, char *err, size_t errcap);
    /* Block i's payload decoded (its codec and cipher undone) into dst
     * (cap bytes); *size receives the bytes written, or on MAIF_ELIMIT the
     * bytes needed. With dst NULL and cap 0 it only sets *size to the
     * decoded size. Formats whose payloads are always plain copy. */
    int (*decode)(const void *state, uint64_t i, const void *keyring, void *dst, size_t cap, size_t *size, char *err,
                  size_t errcap);
    /* Optional (NULL: decode into one buffer): as decode, the payload
     * handed to sink piece by piece (codec.h maif_stage_decode_to). */
    int (*decode_to)(const void *state, uint64_t i, const void *keyring,
                     int (*sink)(void *ctx, const void *data, size_t n, const uint8_t *stored_done), void *ctx,
                     char *err, size_t errcap);
    int (*info)(const void *state, maif_info *out);
    /* Optional (NULL: SHA-256): the function of the blocks' content hashes,
     * MAIF_HASH_*. */
    int (*content_hash)(const void *state);
    /* Record i of the file in file order (header first); MAIF_ENOTFOUND
     * past the end. May build a table on first use, which must be safe
     * when many threads call at once (the public reader is shared). */
    int (*record)(void *state, uint64_t i, maif_record *out, char *err, size_t errcap);
    /* Strict verification of every byte; findings go to rep. */
    void (*verify)(const uint8_t *buf, size_t len, const maif_verify_options *opt, maif_report *rep);
    /* Writes a new file of this format at path from src, signed with key,
     * atomically (temporary file, then rename). */
    int (*write_from)(const maif_block_source *src, const char *path, const maif_key *key, char *err,
                      size_t errcap);
} maif_format_ops;

/* ---- write gates: an artifact's access policy, enforced by its writers.
 * The policy lives in the privacy engine (a layer above); it registers a
 * loader here, which writers call to establish the rules of an artifact
 * that holds a policy block (maif.h MAIF_TYPE_POLICY). */

/* MAIF_OK if writing spec sealed with cipher (MAIF_CIPHER_*, 0 none) by
 * signer is allowed, else MAIF_EACCESS with one line in why. */
typedef int (*maif_write_gate_fn)(void *ctx, const maif_block_spec *spec, int cipher,
                                  const uint8_t signer[MAIF_PUBKEY_BYTES], char *why, size_t cap);
/* Establishes the current policy of the committed artifact at path: sets
 * *fn, *ctx and *ctx_free (*fn NULL: no policy after all). Fail-closed:
 * MAIF_EACCESS with why when the policy blocks establish none. */
typedef int (*maif_write_gate_loader)(const char *path, maif_write_gate_fn *fn, void **ctx,
                                      void (**ctx_free)(void *), char *why, size_t cap);
/* Sets the process-wide loader (the privacy engine does, when linked). */
void maif_write_gate_register(maif_write_gate_loader loader);
maif_write_gate_loader maif_write_gate_loader_get(void);

extern const maif_format_ops maif_format_native;
extern const maif_format_ops maif_format_v21;

/* "did:maif:X" -> "X"; anything else unchanged. */
static inline const char *maif_strip_did(const char *agent)
{
    return agent && agent[0] == 'd' && __builtin_strncmp(agent, "did:maif:", 9) == 0 ? agent + 9 : agent;
}

#endif
