/*
 * zdict.h — zstd dictionaries for many small similar blocks; internal.
 *
 * The pieces a dictionary-compressing codec needs, below the format: train
 * a dictionary from sample payloads, load one (stored bytes that may be
 * hostile) with its size bounded before anything is allocated, and
 * compress / decompress one block with it. A block compressed with a
 * dictionary is one zstd frame with its content size and checksum, in
 * zstd's magicless format and without a dictionary id (8 bytes fewer a
 * block: the record names its codec and its dictionary), so decoding with
 * the wrong dictionary is caught by the checksum.
 *
 * The format stores a dictionary as a block of its own (type ZDIC) and
 * names it from the blocks compressed with it (codec 3, zstd-dict, and
 * the dict_ref extension; docs/FORMAT.md §5.6.2). zdict.c also holds codec
 * 3's table (codecs.h maif_codec_zstd_dict), whose dictionary argument is
 * a maif_zdict.
 *
 * Threads: a loaded dictionary may be shared by threads for decoding (the
 * decompression tables are made at load and only read after); encoding
 * makes the compression tables on first use, so it needs one thread at a
 * time per dictionary (a writer's).
 */
#ifndef MAIF_CODEC_ZDICT_H
#define MAIF_CODEC_ZDICT_H

#include <stddef.h>
#include <stdint.h>

#define MAIF_ZDICT_MIN 256u        /* bytes: below this, no trained dictionary */
#define MAIF_ZDICT_MAX (1u << 20)  /* bytes: the largest dictionary trained or loaded */

typedef struct maif_zdict maif_zdict;

/* Trains a dictionary of at most cap bytes (MAIF_ZDICT_MIN..MAIF_ZDICT_MAX)
 * from count samples laid end to end in samples, sizes[i] bytes each.
 * *out gets the dictionary (maif_free it), *out_len its size.
 * Errors: MAIF_EINVAL (cap out of range, no samples, NULL), MAIF_ELIMIT
 * (zstd could not train: too few or too uniform samples), MAIF_ENOMEM.
 * A message goes to err. */
int maif_zdict_train(const void *samples, const size_t *sizes, size_t count, size_t cap, uint8_t **out,
                     size_t *out_len, char *err, size_t errcap);

/* Loads n bytes of a dictionary (copied), for compression at level (0:
 * zstd's default 3) and for decompression. Checked in this order: n within
 * [MAIF_ZDICT_MIN, MAIF_ZDICT_MAX] before any allocation (MAIF_ELIMIT
 * above, MAIF_EFORMAT below), zstd's dictionary magic and a non-zero id
 * (MAIF_EFORMAT), then tables zstd accepts (MAIF_EFORMAT).
 * Errors also: MAIF_EINVAL (NULL, level out of range), MAIF_ENOMEM. */
int maif_zdict_load(const void *dict, size_t n, int level, maif_zdict **out, char *err, size_t errcap);
void maif_zdict_free(maif_zdict *d);
/* The id zstd frames compressed with d carry. */
uint32_t maif_zdict_id(const maif_zdict *d);

/* Compresses n bytes into dst (cap bytes): one magicless frame with
 * content size and checksum, no dictionary id. *state is the caller's context slot (NULL at
 * first; free with maif_zdict_state_free). Errors: MAIF_ELIMIT (dst too
 * small), MAIF_ENOMEM. */
int maif_zdict_encode(maif_zdict *d, void **state, void *dst, size_t cap, const void *src, size_t n,
                      size_t *written);
void maif_zdict_state_free(void *state);

/* For streaming (native_spool.c, codec_stream.c): set a zstd context up to
 * compress (cctx: a ZSTD_CCtx *, reset first; the caller may then pledge
 * a size) or decompress (dctx: a ZSTD_DCtx *) d's frames, magicless,
 * with a checksum and no dictionary id, exactly as maif_zdict_encode and
 * maif_zdict_decode do. Errors: MAIF_ENOMEM. */
int maif_zdict_cctx_setup(maif_zdict *d, void *cctx);
int maif_zdict_dctx_setup(const maif_zdict *d, void *dctx);

/* Decodes src (n bytes) into dst of exactly cap bytes, the decoded size
 * the record states. The input must be exactly one magicless frame with
 * a checksum, a content size equal to cap and no dictionary id (the
 * header is checked before any work). Errors: MAIF_ELIMIT (the frame says
 * more than cap), MAIF_EFORMAT (anything else wrong: another dictionary,
 * whose output fails the checksum, damage, trailing bytes), MAIF_ENOMEM. */
int maif_zdict_decode(const maif_zdict *d, void *dst, size_t cap, const void *src, size_t n, size_t *written);

#endif
