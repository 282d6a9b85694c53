/*
 * codec_stream.c — a zstd block (codec 1, or codec 3 with its dictionary)
 * decoded to a sink piece by piece, alone or under a STREAM cipher (4 to
 * 6): the reader's half of "large payloads in bounded memory" (FORMAT.md
 * §5.6.1, §5.6.2, §5.7).
 *
 * The encoded bytes come either straight from the stored bytes or from
 * the cipher's chunks, each opened (its tag checked) before a byte of it
 * reaches the decompressor, so no unauthenticated byte is ever decoded.
 * The frame header is checked against the record (one frame, content
 * size equal to decoded_size, a checksum, no dictionary id; magicless for
 * codec 3) before anything is decompressed; the frame must end exactly with the encoded bytes and
 * its checksum match. Memory: one chunk, zstd's output buffer and its
 * window, which zstd bounds by the frame's content size.
 */
#define ZSTD_STATIC_LINKING_ONLY /* ZSTD_customMem, ZSTD_createDCtx_advanced */
#include <string.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "codec/codec.h"
#include "codec/codecs.h"
#include "codec/zdict.h"
#include "crypto/aead.h"
#include "util/alloc.h"
#include "util/common.h"

#define SLICE (256u << 10) /* stored bytes fed at a time without a cipher */

typedef struct zs {
    ZSTD_DCtx *dc;
    uint8_t *out;
    size_t ocap;
    uint64_t size, produced;
    int header_ok, done;
    int magicless;    /* codec 3: the frame has no magic number (§5.6.2) */
    const char *name; /* the codec's name, for messages */
    maif_stage_sink sink;
    void *ctx;
} zs;

/* Feeds n encoded bytes; stored_done is the sink's release hint. */
static int zs_feed(zs *z, const uint8_t *p, size_t n, const uint8_t *stored_done, char *err, size_t errcap)
{
    if (!z->header_ok) {
        ZSTD_frameHeader fh;
        if (ZSTD_getFrameHeader_advanced(&fh, p, n, z->magicless ? ZSTD_f_zstd1_magicless : ZSTD_f_zstd1) != 0 ||
            fh.frameType != ZSTD_frame || !fh.checksumFlag || fh.dictID != 0 || fh.frameContentSize != z->size)
            return maif_set_err(err, errcap, MAIF_EFORMAT,
                                "codec %s: the frame header does not match the record (one frame, content size "
                                "%llu, a checksum, no dictionary id)",
                                z->name, (unsigned long long)z->size);
        z->header_ok = 1;
    }
    ZSTD_inBuffer ib = {p, n, 0};
    /* a full output buffer may leave decoded bytes inside zstd: go on
     * while it fills, even with the input used up */
    for (int more = 0; ib.pos < ib.size || more;) {
        if (z->done) {
            if (ib.pos < ib.size) return maif_set_err(err, errcap, MAIF_EFORMAT, "codec %s: bytes after the frame's end", z->name);
            break;
        }
        ZSTD_outBuffer ob = {z->out, z->ocap, 0};
        size_t r = ZSTD_decompressStream(z->dc, &ob, &ib);
        if (ZSTD_isError(r))
            return maif_set_err(err, errcap, ZSTD_getErrorCode(r) == ZSTD_error_memory_allocation ? MAIF_ENOMEM
                                                                                                   : MAIF_EFORMAT,
                                "codec %s: the payload does not decode to its %llu bytes (%s)", z->name,
                                (unsigned long long)z->size, ZSTD_getErrorName(r));
        if (ob.pos) {
            if (ob.pos > z->size - z->produced)
                return maif_set_err(err, errcap, MAIF_EFORMAT, "codec %s: the frame decodes to more than %llu bytes",
                                    z->name, (unsigned long long)z->size);
            z->produced += ob.pos;
            int rc = z->sink(z->ctx, z->out, ob.pos, stored_done);
            maif_wipe(z->out, ob.pos);
            if (rc) return maif_set_err(err, errcap, rc, "the output failed: %s", maif_strerror(rc));
        }
        if (r == 0) z->done = 1;
        more = ob.pos == ob.size;
    }
    return MAIF_OK;
}

static int zs_eat(void *z, const uint8_t *p, size_t n, const uint8_t *stored_done, char *err, size_t errcap)
{
    return zs_feed(z, p, n, stored_done, err, errcap);
}

int maif_stage_zstd_decode_to(const maif_stage_in *in, uint64_t size, maif_stage_sink sink, void *ctx, char *err,
                              size_t errcap)
{
    const maif_cipher *k = in->cipher ? maif_cipher_find(in->cipher) : NULL;
    if (in->cipher && !(k && k->chunk && k->head && k->piece))
        return maif_set_err(err, errcap, MAIF_EINVAL, "cipher %u does not open in chunks", in->cipher);
    int dict = in->codec == MAIF_CODEC_ZSTD_DICT;
    if (dict && !in->dict)
        return maif_set_err(err, errcap, MAIF_EUNSUPPORTED, "codec zstd-dict: its dictionary was not given");
    zs z = {.size = size, .sink = sink, .ctx = ctx, .magicless = dict, .name = dict ? "zstd-dict" : "zstd"};
    z.dc = ZSTD_createDCtx_advanced(maif_zstd_mem);
    z.ocap = ZSTD_DStreamOutSize();
    z.out = maif_secret_alloc(z.ocap);
    uint8_t *buf = k ? maif_secret_alloc(k->chunk) : NULL;
    int rc = MAIF_OK;
    if (!z.dc || !z.out || (k && !buf)) rc = maif_set_err(err, errcap, MAIF_ENOMEM, "out of memory decoding");
    /* any window a valid frame names: zstd bounds its buffer by the
     * frame's content size, which the record bounds (decoded_size) */
    if (!rc && ZSTD_isError(ZSTD_DCtx_setParameter(z.dc, ZSTD_d_windowLogMax, ZSTD_WINDOWLOG_MAX)))
        rc = maif_set_err(err, errcap, MAIF_ENOMEM, "codec %s: cannot set up the decoder", z.name);
    if (!rc && dict && maif_zdict_dctx_setup(in->dict, z.dc))
        rc = maif_set_err(err, errcap, MAIF_ENOMEM, "codec %s: cannot set up the decoder", z.name);
    if (!rc && !k) {
        for (uint64_t at = 0; rc == MAIF_OK && at < in->stored_size;) {
            size_t n = in->stored_size - at < SLICE ? (size_t)(in->stored_size - at) : SLICE;
            rc = zs_feed(&z, in->stored + at, n, in->stored + at + n, err, errcap);
            at += n;
        }
        if (!rc && in->stored_size == 0) rc = zs_feed(&z, in->stored, 0, in->stored, err, errcap);
    } else if (!rc) {
        rc = maif_stage_open_chunks(in, k, size, buf, zs_eat, &z, err, errcap);
    }
    if (rc == MAIF_OK && (!z.done || z.produced != size))
        rc = maif_set_err(err, errcap, MAIF_EFORMAT, "codec %s: the frame ends short of its %llu bytes", z.name,
                          (unsigned long long)size);
    ZSTD_freeDCtx(z.dc);
    maif_secret_free(z.out);
    maif_secret_free(buf);
    return rc;
}
