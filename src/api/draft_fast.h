/*
 * draft_fast.h — the one-pass scanner for the common JSONL line
 * (draft_fast.c); internal to the API layer.
 */
#ifndef MAIF_API_DRAFT_FAST_H
#define MAIF_API_DRAFT_FAST_H

#include <stddef.h>

#include "util/buf.h"

/* What a line of the common shape holds; the buffers are reused from one
 * line to the next (free with maif_draft_fast_free). */
typedef struct maif_draft_fast {
    maif_buf type;     /* decoded, NUL-terminated (len excludes the NUL) */
    maif_buf text;     /* decoded payload */
    maif_buf meta;     /* canonical metadata (docs/FORMAT.md §7), when has_meta */
    maif_buf compress; /* decoded, NUL-terminated, when has_compress */
    maif_buf tmp;      /* scratch */
    int has_meta, has_compress;
} maif_draft_fast;

/* 1 if json (n bytes) is an object of exactly the keys "type" and "text"
 * (strings) and optionally "meta" (a non-empty flat object whose keys are
 * in canonical order, with string, integer, boolean or null values) and
 * "compress" (a string), every string valid UTF-8 with no \u escape, and f
 * holds what it says; 0 if the line is anything else (the general parser
 * must decide; f is then undefined) or memory ran out. */
int maif_draft_fast_scan(const char *json, size_t n, maif_draft_fast *f);
void maif_draft_fast_free(maif_draft_fast *f);

#endif
