/*
 * codec_lz4.c — codec id 2: one raw LZ4 block per block (the block
 * format, not the frame format: the record's decoded_size already says
 * the size, and a frame would only add a second, possibly contradicting
 * claim). Decoding is LZ4_decompress_safe into the caller's buffer of
 * exactly decoded_size bytes, which must come out full. LZ4's best ratio
 * is below 255:1 (a match length grows by at most 255 per byte), which
 * bounds the decoded size a record may claim. The level is LZ4's
 * acceleration (0 and 1: the default).
 */
#include <limits.h>
#include <lz4.h>

#include "codec/codecs.h"
#include "util/common.h"

static uint64_t lz4_bound(const maif_codec *self, uint64_t n)
{
    (void)self;
    if (n > LZ4_MAX_INPUT_SIZE) return UINT64_MAX;
    return (uint64_t)LZ4_compressBound((int)n);
}

static uint64_t lz4_decoded_max(const maif_codec *self, uint64_t n)
{
    (void)self;
    return n > UINT64_MAX / 255 ? UINT64_MAX : n * 255 + 16;
}

static int lz4_encode(const maif_codec *self, void **state, int level, void *dst, size_t cap, const void *src, size_t n,
                      size_t *written)
{
    (void)self;
    (void)state; /* LZ4_compress_fast keeps its 16 KiB state on the stack */
    *written = 0;
    if (n > LZ4_MAX_INPUT_SIZE) return MAIF_ELIMIT;
    int c = cap > INT_MAX ? INT_MAX : (int)cap;
    int r = LZ4_compress_fast(src, dst, (int)n, c, level > 1 ? level : 1);
    if (r <= 0) return n == 0 ? MAIF_OK : MAIF_ELIMIT;
    *written = (size_t)r;
    return MAIF_OK;
}

static int lz4_decode(const maif_codec *self, void *dst, size_t cap, const void *src, size_t n, size_t *written)
{
    (void)self;
    *written = 0;
    if (cap > INT_MAX || n > INT_MAX) return MAIF_EFORMAT;
    int r = LZ4_decompress_safe(src, dst, (int)n, (int)cap);
    if (r < 0 || (size_t)r != cap) return MAIF_EFORMAT;
    *written = (size_t)r;
    return MAIF_OK;
}

const maif_codec maif_codec_lz4 = {
    MAIF_CODEC_LZ4, "lz4", lz4_bound, lz4_decoded_max, lz4_encode, lz4_decode, NULL,
    1, MAIF_LZ4_LEVEL_MAX, 0, NULL, NULL, NULL,
};
