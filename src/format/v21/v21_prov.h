/*
 * v21_prov.h — the provenance rules of the 2.1 verifier (v21_verify_prov.c),
 * as steps maif21_verify runs in sequence; internal.
 */
#ifndef MAIF_V21_PROV_H
#define MAIF_V21_PROV_H

#include "format/v21/v21_vctx.h"

/* ---- provenance (v21_verify_prov.c) */

/* One provenance entry: its fields (borrowed from the parsed array) and
 * what the pool found. */
typedef struct v21_entry {
    json_t *ts, *aid, *adid, *act, *bh, *eh, *peh, *sig, *pos, *meta;
    uint8_t shape_ok; /* the ten keys in the writer's order, each of its type */
    uint8_t hash_bad; /* entry_hash differs from the recomputed one */
    uint8_t sig_hex;  /* signature is not 128 lowercase hex digits */
    uint8_t sig_bad;  /* signature checked and failed */
} v21_entry;

/* The provenance section. The writer's form is "[" e0 ", " e1 ... "]" with
 * each entry in Python's ordered form, and parsing several megabytes of it
 * in one jansson call is the largest serial step of the whole check. So
 * v21_prov_split proposes entry boundaries (commas at depth one, outside
 * strings) and the pool parses each entry on its own and compares its
 * serialisation with its bytes. When every entry matches and the pieces
 * join as "[" e0 ", " e1 ... "]", the text *is* the ordered dump of the
 * array of those entries: a whole-array parse would give the same entries
 * and the same "form" verdict. Anything else (a boundary the scan got
 * wrong, an entry that does not parse or is not in form, odd whitespace)
 * drops back to the one-call parse and whole-array comparison, so the
 * findings never depend on which path ran. */
typedef struct v21_prov {
    json_t *arr;      /* whole-array parse (slow path); NULL when not a JSON array */
    json_t **roots;   /* per-entry parses (fast path); NULL on the slow path */
    size_t *span;     /* fast path: 2 per entry, start offset and length in the JSON text */
    int form_bad;     /* not the bytes Python would write for the array */
    size_t ne;
    v21_entry *ents;  /* ne entries, or NULL when out of memory */
} v21_prov;

/* Fills pv->span and pv->ne with the proposed entry boundaries of the JSON
 * text t[0, n); 0 when the text does not have the writer's outline (then
 * the slow path decides). */
int v21_prov_split(const char *t, size_t n, v21_prov *pv);
/* Fast path: parses entry k (after v21_prov_split, with pv->roots
 * allocated) into pv->roots[k]; 1 if it is a JSON object in the writer's
 * form. Safe to run for different k on different threads. */
int v21_prov_parse_entry(const v21_vctx *v, v21_prov *pv, size_t k);
/* Slow path: the whole array in one call; leaves pv->arr NULL when the
 * section is not a JSON array. */
void v21_prov_parse_whole(const v21_vctx *v, v21_prov *pv);
/* Checks every entry's shape, hash and signature into pv->ents, on up to
 * nthreads threads. Needs pv->ents. */
void v21_prov_check(const v21_vctx *v, v21_prov *pv, unsigned nthreads);
/* Every provenance finding, in entry order. */
void v21_prov_report(v21_vctx *v, const v21_prov *pv);
/* Frees what the parse left in pv (not pv itself). */
void v21_prov_free(v21_prov *pv);

#endif
