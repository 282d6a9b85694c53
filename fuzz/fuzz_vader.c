/*
 * fuzz_vader.c — the VADER lexicon reader and scorer (src/understand/
 * vader.c). The input up to the first "\n\n" is a lexicon
 * (TOKEN<TAB>VALUE lines); the rest, line by line, are texts to score.
 * Loading fails cleanly or succeeds; scoring never reads out of bounds and
 * gives a compound in [-1, 1] and neg + neu + pos near 1 (or all 0).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "maif.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *sep = memmem(data, size, "\n\n", 2);
    size_t lex_n = sep ? (size_t)(sep - data) : size;
    maif_vader *v = NULL;
    if (maif_vader_load_mem(&v, data, lex_n) != MAIF_OK) {
        if (v || !maif_last_errmsg()[0]) abort();
        return 0;
    }
    const uint8_t *p = sep ? sep + 2 : data + size, *end = data + size;
    while (p < end) {
        const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        maif_sentiment s;
        int rc = maif_text_sentiment(v, (const char *)p, n, &s);
        if (rc == MAIF_OK) {
            if (!(s.compound >= -1 && s.compound <= 1)) abort();
            double sum = s.neg + s.neu + s.pos;
            if (sum != 0 && fabs(sum - 1) > 0.01) abort();
        } else if (rc != MAIF_EINVAL) abort();
        p += n + 1;
    }
    maif_vader_free(v);
    return 0;
}
