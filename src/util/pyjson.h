/*
 * pyjson.h — canonical JSON serialisation.
 *
 * MAIF_JSON_PY reproduces Python's json.dumps(obj, sort_keys=True) byte for
 * byte (MAIF 2.1 hashes and signs those bytes): ", " and ": " separators,
 * keys sorted by code point at every depth, ensure_ascii escaping with
 * lowercase \uXXXX and surrogate pairs, and floats in repr() form
 * (shortest round trip: 0.1, 100000.0, 1e-05, 1.5e+20).
 * MAIF_JSON_COMPACT is the native format's canonical form: the same rules
 * but "," and ":" separators and non-ASCII characters kept as UTF-8.
 */
#ifndef MAIF_PYJSON_H
#define MAIF_PYJSON_H

#include <jansson.h>
#include <stddef.h>

#include "util/buf.h"

#define MAIF_JSON_PY      1
#define MAIF_JSON_COMPACT 2

#define MAIF_JSON_MAX_DEPTH 64 /* deeper metadata is refused */

/* Appends the canonical form of v to out. Errors: MAIF_EJSON (NaN/Inf,
 * depth), MAIF_ENOMEM, MAIF_ELIMIT. */
int maif_json_dump(const json_t *v, int style, maif_buf *out);
/* Appends Python repr() of a finite double (e.g. "1e-05", "100000.0"). */
int maif_json_dump_double(double d, maif_buf *out);
/* Parses text (UTF-8, no duplicate keys, an object at the top) and appends
 * its canonical form. Errors: MAIF_EJSON with a message in err. */
int maif_json_canonicalize(const char *text, size_t n, int style, maif_buf *out, char *err, size_t errcap);

#endif
