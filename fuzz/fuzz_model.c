/*
 * fuzz_model.c — the USE-lite model loader (model.json, vocab.json and
 * weight shards are untrusted input) and, when a model loads, the
 * tokenizer and forward pass on text taken from the input. Input layout:
 * model.json length and vocab.json length (4-byte little-endian each),
 * the two texts, then the weights. Seeds: fuzz/corpus/fuzz_model/ (the
 * tiny model of tests/data/make-use-tiny.py and variants).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "maif.h"
#include "semantic/model_use.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 8) return 0;
    size_t ml = rd32(data), vl = rd32(data + 4), rest = size - 8;
    if (ml > rest || vl > rest - ml) return 0;
    const char *mj = (const char *)data + 8, *vj = mj + ml;
    const uint8_t *w = (const uint8_t *)vj + vl;
    size_t wl = rest - ml - vl;
    /* the weights start 4-byte aligned in a copy, as a file read gives them */
    uint8_t *wc = malloc(wl ? wl : 1);
    if (!wc) return 0;
    memcpy(wc, w, wl);
    sem_use *m = NULL;
    int rc = sem_use_open_mem(&m, mj, ml, vj, vl, wc, wl);
    free(wc);
    if (rc != 0) {
        if (m != NULL || maif_last_errmsg()[0] == 0) abort();
        return 0;
    }
    size_t d = sem_use_dim(m);
    float *v = malloc(d * sizeof *v);
    if (v) {
        /* text: the vocabulary bytes, then a fixed sentence */
        const char *texts[2] = { vj, "ab a \xc3\xa9 zzz" };
        size_t lens[2] = { vl < 512 ? vl : 512, strlen(texts[1]) };
        for (int i = 0; i < 2; i++) {
            int erc = sem_use_embed(m, texts[i], lens[i], v);
            if (erc == MAIF_EFORMAT) continue;  /* weights that overflow float32: reported, not NaN */
            if (erc != 0) abort();
            float ss = 0;
            for (size_t j = 0; j < d; j++) {
                if (!isfinite(v[j])) abort();
                ss += v[j] * v[j];
            }
            /* at most unit length (shorter only when the graph's epsilon bites) */
            if (!(ss <= 1.001f)) abort();
        }
        free(v);
    }
    sem_use_close(m);
    return 0;
}
