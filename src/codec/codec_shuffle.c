/*
 * codec_shuffle.c — codec id 4, "shuffle-zstd": float32 data (embeddings)
 * byte-shuffled, then one zstd frame (docs/FORMAT.md §5.6.3). The payload's
 * 4-byte words are split into four planes (every word's byte 0, then every
 * byte 1, ...), so the slowly varying sign-and-exponent bytes of a float
 * array sit together where zstd finds them; a payload whose size is not a
 * multiple of 4 keeps its last 1-3 bytes at the end as they are. Lossless:
 * decoding undoes both steps exactly. The frame obeys every rule of codec
 * 1 (one frame, checksum, content size equal to the record's decoded_size),
 * checked by the zstd stage before anything is unshuffled.
 */
#include <string.h>

#include "codec/codecs.h"
#include "util/alloc.h"
#include "util/common.h"

static void shuffle(uint8_t *dst, const uint8_t *src, size_t n)
{
    size_t words = n / 4;
    for (size_t k = 0; k < 4; k++)
        for (size_t i = 0; i < words; i++) dst[k * words + i] = src[4 * i + k];
    memcpy(dst + 4 * words, src + 4 * words, n - 4 * words);
}

static void unshuffle(uint8_t *dst, const uint8_t *src, size_t n)
{
    size_t words = n / 4;
    for (size_t k = 0; k < 4; k++)
        for (size_t i = 0; i < words; i++) dst[4 * i + k] = src[k * words + i];
    memcpy(dst + 4 * words, src + 4 * words, n - 4 * words);
}

static int shuffle_encode(const maif_codec *self, void **state, int level, void *dst, size_t cap, const void *src,
                          size_t n, size_t *written)
{
    (void)self;
    *written = 0;
    uint8_t *tmp = maif_malloc(n ? n : 1);
    if (!tmp) return MAIF_ENOMEM;
    shuffle(tmp, src, n);
    int rc = maif_codec_zstd.encode(&maif_codec_zstd, state, level, dst, cap, tmp, n, written);
    maif_free(tmp);
    return rc;
}

static int shuffle_decode(const maif_codec *self, void *dst, size_t cap, const void *src, size_t n, size_t *written)
{
    (void)self;
    *written = 0;
    uint8_t *tmp = maif_malloc(cap ? cap : 1);
    if (!tmp) return MAIF_ENOMEM;
    size_t got = 0;
    int rc = maif_codec_zstd.decode(&maif_codec_zstd, tmp, cap, src, n, &got);
    if (rc == MAIF_OK) {
        unshuffle(dst, tmp, got);
        *written = got;
    }
    maif_free(tmp);
    return rc;
}

static uint64_t shuffle_bound(const maif_codec *self, uint64_t n)
{
    (void)self;
    return maif_codec_zstd.bound(&maif_codec_zstd, n);
}

static uint64_t shuffle_decoded_max(const maif_codec *self, uint64_t n)
{
    (void)self;
    return maif_codec_zstd.decoded_max(&maif_codec_zstd, n);
}

static void shuffle_state_free(const maif_codec *self, void *state)
{
    (void)self;
    maif_codec_zstd.state_free(&maif_codec_zstd, state);
}

const maif_codec maif_codec_shuffle_zstd = {
    MAIF_CODEC_SHUFFLE_ZSTD, "shuffle-zstd", shuffle_bound, shuffle_decoded_max, shuffle_encode, shuffle_decode, NULL,
    MAIF_ZSTD_LEVEL_MIN, MAIF_ZSTD_LEVEL_MAX, 0, shuffle_state_free, NULL, NULL,
};
