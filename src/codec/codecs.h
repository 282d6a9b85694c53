/*
 * codecs.h — the compression codecs the library registers itself
 * (codec.c registers them on first use of the registry); internal.
 */
#ifndef MAIF_CODEC_CODECS_H
#define MAIF_CODEC_CODECS_H

#include "codec/codec.h"
#include "maif.h"

#define MAIF_ZSTD_LEVEL_MIN     (-100) /* "fast" levels are negative */
#define MAIF_ZSTD_LEVEL_MAX     19
#define MAIF_ZSTD_LEVEL_DEFAULT 3      /* what level 0 means */
#define MAIF_LZ4_LEVEL_MAX      64     /* lz4's acceleration; 0 = 1 = default */

extern const maif_codec maif_codec_zstd; /* id MAIF_CODEC_ZSTD */
extern const maif_codec maif_codec_lz4;  /* id MAIF_CODEC_LZ4 */
extern const maif_codec maif_codec_zstd_dict; /* id MAIF_CODEC_ZSTD_DICT (zdict.c): a maif_zdict per block */
extern const maif_codec maif_codec_shuffle_zstd; /* id MAIF_CODEC_SHUFFLE_ZSTD (codec_shuffle.c) */

#ifdef ZSTD_STATIC_LINKING_ONLY
/* libzstd's allocator: the library's allocation hook (codec_zstd.c) */
extern const ZSTD_customMem maif_zstd_mem;
#endif

#endif
