/*
 * wav.c — RIFF WAVE parsing, by hand and bounded: chunk sizes are checked
 * against the bytes present (an odd-sized chunk's pad byte included), the
 * format against what can be decoded (PCM 8/16/24/32-bit, IEEE float
 * 32/64, WAVE_FORMAT_EXTENSIBLE of those, 1-8 channels, 1 kHz-768 kHz), and
 * the sample count against MAIF_AUDIO_FRAMES_MAX before anything is
 * allocated. A data chunk that claims more than the file holds (a
 * recorder stopped early, or 0xFFFFFFFF from a streaming writer) is cut
 * to whole frames of what is there.
 */
#include <string.h>

#include "media.h"
#include "util/alloc.h"
#include "util/common.h"

#define WAVE_PCM 1
#define WAVE_FLOAT 3
#define WAVE_EXTENSIBLE 0xFFFE
#define RATE_MIN 1000u
#define RATE_MAX 768000u
#define CHANNELS_MAX 8u

static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t le32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

static double sample_at(const uint8_t *p, uint16_t bits, int is_float)
{
    if (is_float) {
        if (bits == 32) {
            float f;
            uint32_t u = le32(p);
            memcpy(&f, &u, 4);
            return f;
        }
        uint64_t u = (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
        double d;
        memcpy(&d, &u, 8);
        return d;
    }
    switch (bits) {
    case 8: return (p[0] - 128) / 128.0; /* 8-bit WAV is unsigned */
    case 16: return (int16_t)le16(p) / 32768.0;
    case 24: {
        int32_t v = (int32_t)((uint32_t)p[0] << 8 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 24) >> 8;
        return v / 8388608.0;
    }
    default: return (int32_t)le32(p) / 2147483648.0;
    }
}

int media_wav_decode(const uint8_t *data, size_t size, media_pcm *pcm)
{
    memset(pcm, 0, sizeof *pcm);
    if (size < 12 || memcmp(data, "RIFF", 4) != 0 || memcmp(data + 8, "WAVE", 4) != 0)
        return maif_set_last_err(MAIF_EUNSUPPORTED, "not a WAV file (no RIFF/WAVE header)");
    const uint8_t *fmt = NULL, *pay = NULL;
    uint64_t pay_size = 0;
    size_t off = 12;
    while (off + 8 <= size) {
        uint32_t len = le32(data + off + 4);
        const uint8_t *body = data + off + 8;
        size_t avail = size - off - 8;
        if (memcmp(data + off, "fmt ", 4) == 0) {
            if (len < 16 || len > avail) return maif_set_last_err(MAIF_EFORMAT, "damaged WAV: fmt chunk of %u bytes", len);
            if (fmt) return maif_set_last_err(MAIF_EFORMAT, "damaged WAV: two fmt chunks");
            fmt = body;
            if (len >= 40 && le16(fmt) == WAVE_EXTENSIBLE && le16(fmt + 16) < 22)
                return maif_set_last_err(MAIF_EFORMAT, "damaged WAV: short extensible format");
            if (le16(fmt) == WAVE_EXTENSIBLE && len < 40)
                return maif_set_last_err(MAIF_EFORMAT, "damaged WAV: extensible format in %u bytes", len);
        } else if (memcmp(data + off, "data", 4) == 0) {
            if (!fmt) return maif_set_last_err(MAIF_EFORMAT, "damaged WAV: data before fmt");
            pay = body;
            pay_size = len > avail ? avail : len; /* cut short: keep what is there */
            break;
        }
        uint64_t next = (uint64_t)off + 8 + len + (len & 1);
        if (next > size) break;
        off = (size_t)next;
    }
    if (!fmt) return maif_set_last_err(MAIF_EFORMAT, "damaged WAV: no fmt chunk");
    if (!pay) return maif_set_last_err(MAIF_EFORMAT, "damaged WAV: no data chunk");
    uint16_t tag = le16(fmt), channels = le16(fmt + 2), align = le16(fmt + 12), bits = le16(fmt + 14);
    uint32_t rate = le32(fmt + 4);
    if (tag == WAVE_EXTENSIBLE) {
        tag = le16(fmt + 24); /* the sub-format GUID's first two bytes */
        static const uint8_t guid_tail[14] = {0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00,
                                              0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71};
        if (memcmp(fmt + 26, guid_tail, 14) != 0)
            return maif_set_last_err(MAIF_EUNSUPPORTED, "WAV sub-format is not PCM or IEEE float");
    }
    int is_float = tag == WAVE_FLOAT;
    if (tag != WAVE_PCM && !is_float)
        return maif_set_last_err(MAIF_EUNSUPPORTED, "WAV encoding %u is not PCM or IEEE float", tag);
    if (is_float ? bits != 32 && bits != 64 : bits != 8 && bits != 16 && bits != 24 && bits != 32)
        return maif_set_last_err(MAIF_EUNSUPPORTED, "WAV with %u-bit %s samples", bits, is_float ? "float" : "PCM");
    if (channels < 1 || channels > CHANNELS_MAX)
        return maif_set_last_err(MAIF_EUNSUPPORTED, "WAV with %u channels (1 to %u)", channels, CHANNELS_MAX);
    if (rate < RATE_MIN || rate > RATE_MAX)
        return maif_set_last_err(MAIF_EUNSUPPORTED, "WAV sample rate %u Hz (%u Hz to %u Hz are analysed)", rate,
                                 RATE_MIN, RATE_MAX);
    if (align != channels * (bits / 8))
        return maif_set_last_err(MAIF_EFORMAT, "damaged WAV: block align %u for %u channels of %u bits", align,
                                 channels, bits);
    uint64_t frames = pay_size / align;
    if (frames > MAIF_AUDIO_FRAMES_MAX)
        return maif_set_last_err(MAIF_ELIMIT, "WAV of %llu sample frames is over the limit of %llu",
                                 (unsigned long long)frames, (unsigned long long)MAIF_AUDIO_FRAMES_MAX);
    double *mono = maif_malloc((size_t)(frames ? frames : 1) * sizeof *mono);
    if (!mono) return maif_set_last_err(MAIF_ENOMEM, "out of memory for %llu samples", (unsigned long long)frames);
    size_t bps = bits / 8;
    for (uint64_t i = 0; i < frames; i++) {
        const uint8_t *p = pay + i * align;
        double s = 0;
        for (unsigned c = 0; c < channels; c++) s += sample_at(p + c * bps, bits, is_float);
        s /= channels;
        if (!(s == s)) s = 0; /* a NaN float sample counts as silence */
        mono[i] = s > 1 ? 1 : s < -1 ? -1 : s;
    }
    pcm->sample_rate = rate;
    pcm->channels = channels;
    pcm->bits = bits;
    pcm->is_float = is_float;
    pcm->frames = frames;
    pcm->mono = mono;
    return 0;
}
