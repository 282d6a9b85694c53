/*
 * zdict.c — zstd dictionaries: train, load (bounded, checked), and one
 * frame per block compressed or decompressed with one (zdict.h).
 *
 * Allocation goes through the library's hook: zstd's contexts and tables
 * by ZSTD_customMem, the dictionary's bytes by maif_malloc. The
 * decompression tables reference the copy held here (no second copy).
 */
#define ZSTD_STATIC_LINKING_ONLY /* ZSTD_customMem, ZSTD_createDDict_advanced, ... */
#include "codec/zdict.h"

#include <string.h>
#include <zdict.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "codec/codecs.h"
#include "util/alloc.h"
#include "util/common.h"

#define ZDICT_MAGIC 0xEC30A437u /* zstd's dictionary magic, little-endian at offset 0 */

struct maif_zdict {
    uint8_t *bytes;
    size_t len;
    uint32_t id;
    int level;
    ZSTD_DDict *ddict; /* made at load; read only after */
    const ZSTD_CDict *cdict; /* made on the first encode, in cdict_mem */
    void *cdict_mem;
};



int maif_zdict_train(const void *samples, const size_t *sizes, size_t count, size_t cap, uint8_t **out,
                     size_t *out_len, char *err, size_t errcap)
{
    if (out) *out = NULL;
    if (out_len) *out_len = 0;
    if (!samples || !sizes || !out || !out_len)
        return maif_set_err(err, errcap, MAIF_EINVAL, "dictionary training: NULL argument");
    if (cap < MAIF_ZDICT_MIN || cap > MAIF_ZDICT_MAX)
        return maif_set_err(err, errcap, MAIF_EINVAL, "dictionary size %zu out of range [%u, %u]", cap,
                            MAIF_ZDICT_MIN, MAIF_ZDICT_MAX);
    if (count == 0 || count > UINT32_MAX)
        return maif_set_err(err, errcap, MAIF_EINVAL, "dictionary training: %zu samples", count);
    uint8_t *buf = maif_malloc(cap);
    if (!buf) return maif_set_err(err, errcap, MAIF_ENOMEM, "dictionary training: out of memory");
    size_t r = ZDICT_trainFromBuffer(buf, cap, samples, sizes, (unsigned)count);
    if (ZDICT_isError(r)) {
        maif_free(buf);
        return maif_set_err(err, errcap, MAIF_ELIMIT, "dictionary training failed: %s (%zu samples)",
                            ZDICT_getErrorName(r), count);
    }
    if (r < MAIF_ZDICT_MIN) {
        maif_free(buf);
        return maif_set_err(err, errcap, MAIF_ELIMIT, "dictionary training gave only %zu bytes", r);
    }
    *out = buf;
    *out_len = r;
    return MAIF_OK;
}

void maif_zdict_free(maif_zdict *d)
{
    if (!d) return;
    maif_free(d->cdict_mem); /* a static CDict owns nothing else */
    ZSTD_freeDDict(d->ddict);
    maif_free(d->bytes);
    maif_free(d);
}

int maif_zdict_load(const void *dict, size_t n, int level, maif_zdict **out, char *err, size_t errcap)
{
    if (out) *out = NULL;
    if (!dict || !out) return maif_set_err(err, errcap, MAIF_EINVAL, "dictionary: NULL argument");
    if (level != 0 && (level < MAIF_ZSTD_LEVEL_MIN || level > MAIF_ZSTD_LEVEL_MAX))
        return maif_set_err(err, errcap, MAIF_EINVAL, "dictionary: zstd level %d out of range", level);
    if (n > MAIF_ZDICT_MAX)
        return maif_set_err(err, errcap, MAIF_ELIMIT, "dictionary of %zu bytes is over the limit of %u", n,
                            MAIF_ZDICT_MAX);
    if (n < MAIF_ZDICT_MIN)
        return maif_set_err(err, errcap, MAIF_EFORMAT, "dictionary of %zu bytes is too small", n);
    const uint8_t *p = dict;
    if (rd32le(p) != ZDICT_MAGIC) return maif_set_err(err, errcap, MAIF_EFORMAT, "not a zstd dictionary");
    uint32_t id = rd32le(p + 4);
    if (id == 0) return maif_set_err(err, errcap, MAIF_EFORMAT, "zstd dictionary without an id");
    maif_zdict *d = maif_calloc(1, sizeof *d);
    if (!d || !(d->bytes = maif_malloc(n))) {
        maif_free(d);
        return maif_set_err(err, errcap, MAIF_ENOMEM, "dictionary: out of memory");
    }
    memcpy(d->bytes, dict, n);
    d->len = n;
    d->id = id;
    d->level = level ? level : MAIF_ZSTD_LEVEL_DEFAULT;
    unsigned long failed = maif_alloc_failures();
    d->ddict = ZSTD_createDDict_advanced(d->bytes, n, ZSTD_dlm_byRef, ZSTD_dct_fullDict, maif_zstd_mem);
    if (!d->ddict) {
        int oom = maif_alloc_failures() != failed;
        maif_zdict_free(d);
        return oom ? maif_set_err(err, errcap, MAIF_ENOMEM, "dictionary: out of memory")
                   : maif_set_err(err, errcap, MAIF_EFORMAT, "zstd dictionary %u: its tables are malformed", id);
    }
    if (ZSTD_getDictID_fromDDict(d->ddict) != id) { /* cannot happen with a full dictionary; cheap to check */
        maif_zdict_free(d);
        return maif_set_err(err, errcap, MAIF_EFORMAT, "zstd dictionary: inconsistent id");
    }
    *out = d;
    return MAIF_OK;
}

uint32_t maif_zdict_id(const maif_zdict *d) { return d ? d->id : 0; }

/* The compression tables, made on first use in memory of our own
 * (libzstd 1.5.4's ZSTD_createCDict_advanced crashes when an allocation
 * inside it fails). */
static int cdict_make(maif_zdict *d)
{
    if (d->cdict) return MAIF_OK;
    ZSTD_compressionParameters cp = ZSTD_getCParams(d->level, 0, d->len);
    size_t need = ZSTD_estimateCDictSize_advanced(d->len, cp, ZSTD_dlm_byRef);
    if (!d->cdict_mem && !(d->cdict_mem = maif_malloc(need))) return MAIF_ENOMEM;
    d->cdict = ZSTD_initStaticCDict(d->cdict_mem, need, d->bytes, d->len, ZSTD_dlm_byRef, ZSTD_dct_fullDict, cp);
    return d->cdict ? MAIF_OK : MAIF_EFORMAT; /* cannot fail: the tables were accepted at load */
}

int maif_zdict_cctx_setup(maif_zdict *d, void *cctx)
{
    ZSTD_CCtx *cc = cctx;
    int rc = cdict_make(d);
    if (rc) return rc;
    size_t r = ZSTD_CCtx_reset(cc, ZSTD_reset_session_and_parameters);
    if (!ZSTD_isError(r)) r = ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 1);
    /* no magic number and no dictionary id: 8 bytes a block that the
     * record already says (its codec, its dict_ref) */
    if (!ZSTD_isError(r)) r = ZSTD_CCtx_setParameter(cc, ZSTD_c_format, ZSTD_f_zstd1_magicless);
    if (!ZSTD_isError(r)) r = ZSTD_CCtx_setParameter(cc, ZSTD_c_dictIDFlag, 0);
    if (!ZSTD_isError(r)) r = ZSTD_CCtx_refCDict(cc, d->cdict);
    return ZSTD_isError(r) ? MAIF_ENOMEM : MAIF_OK;
}

int maif_zdict_dctx_setup(const maif_zdict *d, void *dctx)
{
    ZSTD_DCtx *dc = dctx;
    size_t r = ZSTD_DCtx_setParameter(dc, ZSTD_d_format, ZSTD_f_zstd1_magicless);
    if (!ZSTD_isError(r)) r = ZSTD_DCtx_refDDict(dc, d->ddict);
    return ZSTD_isError(r) ? MAIF_ENOMEM : MAIF_OK;
}

int maif_zdict_encode(maif_zdict *d, void **state, void *dst, size_t cap, const void *src, size_t n,
                      size_t *written)
{
    *written = 0;
    ZSTD_CCtx *cc = *state;
    if (!cc && !(cc = *state = ZSTD_createCCtx_advanced(maif_zstd_mem))) return MAIF_ENOMEM;
    int rc = maif_zdict_cctx_setup(d, cc);
    if (rc) return rc;
    size_t r = ZSTD_compress2(cc, dst, cap, src, n);
    if (ZSTD_isError(r)) return ZSTD_getErrorCode(r) == ZSTD_error_dstSize_tooSmall ? MAIF_ELIMIT : MAIF_ENOMEM;
    *written = r;
    return MAIF_OK;
}

void maif_zdict_state_free(void *state) { ZSTD_freeCCtx(state); }

int maif_zdict_decode(const maif_zdict *d, void *dst, size_t cap, const void *src, size_t n, size_t *written)
{
    *written = 0;
    ZSTD_frameHeader fh;
    if (n == 0 || ZSTD_getFrameHeader_advanced(&fh, src, n, ZSTD_f_zstd1_magicless) != 0 ||
        fh.frameType != ZSTD_frame || !fh.checksumFlag || fh.dictID != 0)
        return MAIF_EFORMAT;
    unsigned long long content = fh.frameContentSize;
    if (content == ZSTD_CONTENTSIZE_UNKNOWN || content == ZSTD_CONTENTSIZE_ERROR) return MAIF_EFORMAT;
    if (content > cap) return MAIF_ELIMIT;
    if (content != cap) return MAIF_EFORMAT;
    ZSTD_DCtx *dc = ZSTD_createDCtx_advanced(maif_zstd_mem);
    if (!dc) return MAIF_ENOMEM;
    /* one frame, and all of the n bytes: the stream must end exactly at
     * the frame's end (decompressStream returns 0 there) with nothing left */
    ZSTD_inBuffer in = {src, n, 0};
    ZSTD_outBuffer out = {dst, cap, 0};
    if (maif_zdict_dctx_setup(d, dc)) {
        ZSTD_freeDCtx(dc);
        return MAIF_ENOMEM;
    }
    size_t r = ZSTD_decompressStream(dc, &out, &in);
    ZSTD_freeDCtx(dc);
    if (ZSTD_isError(r)) return ZSTD_getErrorCode(r) == ZSTD_error_memory_allocation ? MAIF_ENOMEM : MAIF_EFORMAT;
    if (r != 0 || in.pos != n || out.pos != cap) return MAIF_EFORMAT;
    *written = out.pos;
    return MAIF_OK;
}

/* ---- codec 3: the pipeline's face of the above (codec.h encode_dict /
 * decode_dict). The dictionary comes from the writer (the one it set) or
 * the reader (the one the block's dict_ref names, resolved and checked by
 * the format); the frame's dictionary id must be that dictionary's. */

static uint64_t zd_bound(const maif_codec *self, uint64_t n)
{
    return maif_codec_zstd.bound(self, n);
}
/* A dictionary does not change zstd's bound: every block of at most
 * 128 KiB still costs a 3-byte header. */
static uint64_t zd_decoded_max(const maif_codec *self, uint64_t n)
{
    return maif_codec_zstd.decoded_max(self, n);
}
static int zd_encode_plain(const maif_codec *self, void **state, int level, void *dst, size_t cap, const void *src,
                           size_t n, size_t *written)
{
    (void)self, (void)state, (void)level, (void)dst, (void)cap, (void)src, (void)n;
    *written = 0;
    return MAIF_ESTATE; /* never called: the pipeline uses encode_dict */
}
static int zd_decode_plain(const maif_codec *self, void *dst, size_t cap, const void *src, size_t n, size_t *written)
{
    (void)self, (void)dst, (void)cap, (void)src, (void)n;
    *written = 0;
    return MAIF_EUNSUPPORTED;
}
static int zd_encode(const maif_codec *self, void *dict, void **state, void *dst, size_t cap, const void *src,
                     size_t n, size_t *written)
{
    (void)self;
    return maif_zdict_encode(dict, state, dst, cap, src, n, written);
}
static int zd_decode(const maif_codec *self, const void *dict, void *dst, size_t cap, const void *src, size_t n,
                     size_t *written)
{
    (void)self;
    return maif_zdict_decode(dict, dst, cap, src, n, written);
}
static void zd_state_free(const maif_codec *self, void *state)
{
    (void)self;
    maif_zdict_state_free(state);
}

const maif_codec maif_codec_zstd_dict = {
    MAIF_CODEC_ZSTD_DICT, "zstd-dict", zd_bound, zd_decoded_max, zd_encode_plain, zd_decode_plain, NULL,
    MAIF_ZSTD_LEVEL_MIN, MAIF_ZSTD_LEVEL_MAX, 0, zd_state_free, zd_encode, zd_decode,
};
