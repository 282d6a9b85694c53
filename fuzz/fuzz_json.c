/*
 * fuzz_json.c — canonical JSON: any input that canonicalizes must give a
 * fixed point (canonicalizing the output again yields the same bytes) in
 * both styles, and the two styles must agree on whether the input is
 * acceptable. Inputs are arbitrary bytes; the library must never crash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "maif.h"
#include "util/pyjson.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int check_style(const uint8_t *data, size_t size, int style)
{
    char err[256];
    maif_buf once = { 0 }, twice = { 0 };
    int rc = maif_json_canonicalize((const char *)data, size, style, &once, err, sizeof err);
    if (rc == 0) {
        if (maif_json_canonicalize((const char *)once.data, once.len, style, &twice, err, sizeof err) != 0) abort();
        if (twice.len != once.len || memcmp(twice.data, once.data, once.len) != 0) abort();
    } else if (once.len != 0) {
        abort(); /* a failed call must not leave partial output */
    }
    maif_buf_free(&once);
    maif_buf_free(&twice);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int py = check_style(data, size, MAIF_JSON_PY);
    int compact = check_style(data, size, MAIF_JSON_COMPACT);
    if ((py == 0) != (compact == 0)) abort();
    return 0;
}
