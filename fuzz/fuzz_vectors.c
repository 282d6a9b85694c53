/*
 * fuzz_vectors.c — the word-vector loader (GloVe / word2vec / fastText
 * text and wink JSON, untrusted input) and SIF embedding of text taken
 * from the input when it loads. Seeds: fuzz/corpus/fuzz_vectors/.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "maif.h"
#include "semantic/model_glove.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sem_glove *g = NULL;
    int rc = sem_glove_open_mem(&g, (const char *)data, size);
    if (rc != 0) {
        if (g != NULL || maif_last_errmsg()[0] == 0) abort();
        return 0;
    }
    size_t d = sem_glove_dim(g);
    if (d == 0 || sem_glove_size(g) == 0) abort();
    float *v = malloc(d * sizeof *v);
    if (v) {
        if (sem_glove_embed(g, (const char *)data, size < 4096 ? size : 4096, v) != 0) abort();
        float ss = 0;
        for (size_t j = 0; j < d; j++) ss += v[j] * v[j];
        if (!(ss == 0 || fabsf(ss - 1) < 1e-3f)) abort();
        free(v);
    }
    sem_glove_close(g);
    return 0;
}
