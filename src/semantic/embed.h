/*
 * embed.h — the embedders: a small table chosen by a spec string.
 *
 *   "hashed"          the built-in embedder (no model): hashed word
 *                     unigrams, word bigrams and character trigrams,
 *                     weighted by IDF learned from the artifact (the latest
 *                     HIDF block; uniform weights when there is none),
 *                     SEM_HASHED_DIM dimensions, L2-normalised
 *   "hashed:ID32HEX"  the same with the IDF table of that HIDF block
 *   "use[:DIR]"       Universal Sentence Encoder lite (512-d), when built in
 *   "glove:PATH"      averaged word vectors (SIF), when built in
 *
 * The model id an embedder reports (sem_embedder_model) is what EMBD
 * blocks record in their "model" key, and opening an embedder with that
 * id again gives the same function: that is how a query is embedded like
 * the blocks it is compared with.
 *
 * The model-based embedders: the "use" row calls model_use.h (USE-lite
 * in C; without DIR the model is looked for in "use/package" under $MAIF_MODELS,
 * $MAIF_CACHE/models or ~/.cache/maif/models), the "glove" row
 * model_glove.h (word vectors with SIF averaging).
 */
#ifndef MAIF_SEM_EMBED_H
#define MAIF_SEM_EMBED_H

#include <stddef.h>
#include <stdint.h>

#include "maif.h"

#define SEM_HASHED_DIM     256
#define SEM_HASHED_BUCKETS 65536u  /* IDF table entries (features hash into these) */
#define SEM_MODEL_MAX      128     /* longest model id, with its NUL */
#define SEM_DIM_MAX        65536   /* largest embedding dimension anything accepts */

/* One row of the table. open parses arg (the spec after "name:", or
 * NULL), may read r (may be NULL), writes the model id into model and the
 * dimension into *dim. */
typedef struct sem_embedder_ops {
    const char *name;
    int (*open)(void **state, const char *arg, maif_reader *r, char *model, size_t *dim);
    int (*embed)(void *state, const char *text, size_t len, float *out);
    void (*close)(void *state);
} sem_embedder_ops;

/* The hashed embedder's IDF learning: document frequencies over every
 * readable TEXT block of r. *idf receives SEM_HASHED_BUCKETS floats
 * (maif_free), *docs the number of texts seen. */
int sem_hashed_learn(maif_reader *r, float **idf, uint64_t *docs);
/* Embeds with an IDF table (NULL: uniform) into out[SEM_HASHED_DIM]. */
void sem_hashed_embed(const float *idf, const char *text, size_t len, float *out);

extern const sem_embedder_ops sem_embedder_hashed, sem_embedder_use, sem_embedder_glove;

/* The block type holding a hashed embedder's IDF table. */
#define SEM_TYPE_HIDF MAIF_FOURCC('H', 'I', 'D', 'F')

/* Text of block i for embedding and snippets: the payload of a TEXT (or
 * any) block, decoded when it has a codec. *text points into the map or
 * at *owned (maif_free it). Encrypted blocks without a key fail. */
int sem_block_text(maif_reader *r, uint64_t i, const char **text, size_t *len, char **owned);
/* The payload of block i (b, as maif_reader_block gave it) for a reader
 * that reads it in place as 8-byte words (VIDX, TIDX): *p points into
 * the map when the payload is stored as is and aligned, else at *owned,
 * a decoded copy (maif_free it). Errors: those of sem_block_text. */
int sem_block_aligned(maif_reader *r, uint64_t i, const maif_block *b, const uint8_t **p, size_t *size,
                      uint8_t **owned);

#endif
