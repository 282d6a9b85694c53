/*
 * codec_zstd.c — codec id 1: one zstd frame per block (docs/FORMAT.md §5.6).
 *
 * The frame is written by one-shot compression, so it records its
 * content size, and with zstd's content checksum, so damage that got
 * hashed and signed with it still fails to decode; a reader requires
 * exactly one frame, with a checksum and no dictionary, whose content
 * size equals the record's decoded_size before it decompresses anything, and
 * decompresses into the caller's buffer of exactly that size, so a
 * hostile frame can neither allocate nor write beyond what the record
 * says. decoded_max bounds that claim by zstd's own best ratio: every
 * block of at most ZSTD_BLOCKSIZE_MAX decoded bytes costs at least a
 * 3-byte block header, so n stored bytes never stand for more than
 * (n/3 + 1) blocks. Contexts come from the library's allocation hook.
 */
#define ZSTD_STATIC_LINKING_ONLY /* ZSTD_customMem, ZSTD_createCCtx_advanced */
#include <zstd.h>
#include <zstd_errors.h>

#include "codec/codecs.h"
#include "util/alloc.h"
#include "util/common.h"

static void *zalloc(void *opaque, size_t n)
{
    (void)opaque;
    return maif_malloc(n ? n : 1);
}
static void zfree(void *opaque, void *p)
{
    (void)opaque;
    maif_free(p);
}
/* libzstd allocates through the library's allocation hook (also zdict.c) */
const ZSTD_customMem maif_zstd_mem = {zalloc, zfree, NULL};

static uint64_t zstd_bound(const maif_codec *self, uint64_t n)
{
    (void)self;
    if (n > (uint64_t)SIZE_MAX / 2) return UINT64_MAX;
    size_t b = ZSTD_compressBound((size_t)n);
    return ZSTD_isError(b) ? UINT64_MAX : (uint64_t)b;
}

static uint64_t zstd_decoded_max(const maif_codec *self, uint64_t n)
{
    (void)self;
    uint64_t blocks = n / 3 + 1;
    if (blocks > UINT64_MAX / ZSTD_BLOCKSIZE_MAX) return UINT64_MAX;
    return blocks * ZSTD_BLOCKSIZE_MAX;
}

/* The context is kept in the caller's slot (a writer's scratch) from one
 * block to the next: making one costs about a quarter of compressing a
 * 16 KiB block. */
static int zstd_encode(const maif_codec *self, void **state, int level, void *dst, size_t cap, const void *src,
                       size_t n, size_t *written)
{
    (void)self;
    *written = 0;
    ZSTD_CCtx *cc = *state;
    if (!cc && !(cc = *state = ZSTD_createCCtx_advanced(maif_zstd_mem))) return MAIF_ENOMEM;
    size_t r = ZSTD_CCtx_reset(cc, ZSTD_reset_session_and_parameters);
    if (!ZSTD_isError(r))
        r = ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, level ? level : MAIF_ZSTD_LEVEL_DEFAULT);
    if (!ZSTD_isError(r)) r = ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 1);
    if (!ZSTD_isError(r)) r = ZSTD_compress2(cc, dst, cap, src, n);
    if (ZSTD_isError(r)) return ZSTD_getErrorCode(r) == ZSTD_error_dstSize_tooSmall ? MAIF_ELIMIT : MAIF_ENOMEM;
    *written = r;
    return MAIF_OK;
}

static int zstd_decode(const maif_codec *self, void *dst, size_t cap, const void *src, size_t n, size_t *written)
{
    (void)self;
    *written = 0;
    /* one frame, all of the stored bytes, and it says its size */
    size_t fsz = ZSTD_findFrameCompressedSize(src, n);
    if (ZSTD_isError(fsz) || fsz != n) return MAIF_EFORMAT;
    ZSTD_frameHeader fh;
    if (ZSTD_getFrameHeader(&fh, src, n) != 0 || fh.frameType != ZSTD_frame || !fh.checksumFlag ||
        fh.dictID != 0)
        return MAIF_EFORMAT;
    unsigned long long content = fh.frameContentSize;
    if (content == ZSTD_CONTENTSIZE_UNKNOWN || content == ZSTD_CONTENTSIZE_ERROR) return MAIF_EFORMAT;
    if (content > cap) return MAIF_ELIMIT;
    if (content != cap) return MAIF_EFORMAT;
    ZSTD_DCtx *dc = ZSTD_createDCtx_advanced(maif_zstd_mem);
    if (!dc) return MAIF_ENOMEM;
    size_t r = ZSTD_decompressDCtx(dc, dst, cap, src, n);
    ZSTD_freeDCtx(dc);
    if (ZSTD_isError(r))
        return ZSTD_getErrorCode(r) == ZSTD_error_memory_allocation ? MAIF_ENOMEM : MAIF_EFORMAT;
    *written = r;
    return MAIF_OK;
}

static void zstd_state_free(const maif_codec *self, void *state)
{
    (void)self;
    ZSTD_freeCCtx(state);
}

const maif_codec maif_codec_zstd = {
    MAIF_CODEC_ZSTD, "zstd", zstd_bound, zstd_decoded_max, zstd_encode, zstd_decode, NULL,
    MAIF_ZSTD_LEVEL_MIN, MAIF_ZSTD_LEVEL_MAX, 0, zstd_state_free, NULL, NULL,
};
