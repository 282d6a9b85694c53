/*
 * use_tokenizer.h — the SentencePiece unigram tokenizer of USE-lite, a
 * faithful port of the JavaScript one in @energetic-ai/embeddings
 * (lib/tokenizer.ts): NFKC, "▁" before the text and for every space, a
 * trie of the pieces, the same Viterbi pass with the same tie rules, and
 * consecutive unknowns merged. Internal to src/semantic.
 */
#ifndef MAIF_SEMANTIC_USE_TOKENIZER_H
#define MAIF_SEMANTIC_USE_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

typedef struct use_tokenizer use_tokenizer;

/* Builds the tokenizer from vocab.json text (an array of [piece, score]
 * pairs; the first `reserved` are control symbols, not matched). Returns
 * 0, MAIF_EFORMAT, MAIF_ELIMIT or MAIF_ENOMEM (message set). */
int use_tokenizer_new(use_tokenizer **out, const char *vocab_json, size_t len, size_t reserved);
size_t use_tokenizer_size(const use_tokenizer *t);
/* Ids of text; writes at most cap, returns the full count or a negative
 * MAIF_E* code. */
long use_tokenizer_encode(const use_tokenizer *t, const char *text, size_t len, int32_t *ids, size_t cap);
void use_tokenizer_free(use_tokenizer *t);

#endif
