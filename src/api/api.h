/*
 * api.h — what the files of the API layer share; internal. The public
 * side is include/maif.h.
 */
#ifndef MAIF_API_H
#define MAIF_API_H

#include "format/format.h"
#include "maif.h"

/* The formats this library knows, in the order detection tries them. */
extern const maif_format_ops *const maif_formats[];
/* The table whose detect accepts buf, or NULL. */
const maif_format_ops *maif_format_detect(const uint8_t *buf, size_t len);
/* The table for a MAIF_FORMAT_* id, or NULL. */
const maif_format_ops *maif_format_by_id(int id);

/* Describes every block of r as a block source for a format's writer;
 * info receives r's facts and must outlive src. */
int maif_reader_source(maif_reader *r, maif_info *info, maif_block_source *src);

/* The bytes r reads (its map, or the caller's buffer); valid until close. */
void maif_reader_image(const maif_reader *r, const uint8_t **base, size_t *size);

/* Records msg as r's message and the thread's last error when code is an
 * error (the one error channel); returns code. */
int maif_reader_fail(const maif_reader *r, int code, const char *msg);
/* Where r's cipher stages look data keys up (a codec/codec.h maif_keysrc,
 * or NULL: none). r owns it from now on: keysrc_free (if not NULL) runs
 * on it when r closes or another replaces it. Set by the privacy engine
 * (maif_reader_set_keyring). */
void maif_reader_set_keysrc(maif_reader *r, void *keysrc, void (*keysrc_free)(void *));

/* An access gate: asked before block index's payload is decoded
 * (maif_reader_block_decode); a non-zero MAIF_E* code (MAIF_EACCESS)
 * denies it, with a message in msg (cap bytes). The privacy engine sets
 * it from an artifact's access policy (maif_reader_set_subject). r owns
 * ctx from now on: ctx_free (if not NULL) runs at close or replacement. */
typedef int (*maif_reader_gate)(void *ctx, maif_reader *r, uint64_t index, char *msg, size_t cap);
void maif_reader_set_gate(maif_reader *r, maif_reader_gate gate, void *ctx, void (*ctx_free)(void *));
/* r's key source (NULL: none), and its gate's verdict on block index
 * (MAIF_OK without a gate), for engines that decrypt beside the pipeline. */
const void *maif_reader_keysrc(const maif_reader *r);
int maif_reader_gate_run(maif_reader *r, uint64_t index, char *msg, size_t cap);
/* maif_block_draft_from_json's general path (jansson), without the
 * one-pass scanner of draft_fast.c: for tests and fuzzing, which check
 * that both give the same drafts. */
int maif_draft_from_json_tree(maif_block_draft **out, const char *json, size_t n);
/* 1 with the codec and level a JSONL "compress" chose, else 0. */
int maif_draft_codec(const maif_block_draft *d, int *codec, int *level);

/* CSB (csb.c): checks the binding of every bound embedding of the native
 * image [base, size) into rep (codes "csb", "csb-unchecked"). */
void maif_csb_check(const uint8_t *base, size_t size, maif_report *rep);

#endif
