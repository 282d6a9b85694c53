/*
 * media.c — the public calls of the understanding engine for images and
 * sounds (include/maif.h): analysis, spectra, and the metadata object
 * `maif add --analyze` stores.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "media.h"
#include "util/alloc.h"
#include "util/common.h"

int maif_image_analyze(const void *data, size_t size, maif_image_features *out)
{
    if (!data || !out) return maif_set_last_err(MAIF_EINVAL, "maif_image_analyze: NULL argument");
    media_rgb img;
    int rc = media_image_decode(data, size, &img);
    if (rc) return rc;
    rc = media_image_features(&img, out);
    maif_free(img.rgb);
    return rc;
}

int maif_hash_distance(uint64_t a, uint64_t b) { return __builtin_popcountll(a ^ b); }

int maif_image_distance(const maif_image_features *a, const maif_image_features *b)
{
    if (!a || !b) return 64;
    int d = maif_hash_distance(a->phash, b->phash), c = maif_hash_distance(a->phash_content, b->phash_content);
    return d < c ? d : c;
}

typedef struct acc {
    double sum[MAIF_AUDIO_MFCC], sq[MAIF_AUDIO_MFCC];
    float *out; /* spectrum: where frames go, or NULL */
    int what;
    double dct[MAIF_AUDIO_MFCC][MAIF_AUDIO_MEL_BANDS];
} acc;

static void accumulate(void *ctx, uint64_t t, const float *logmel)
{
    acc *a = ctx;
    float c[MAIF_AUDIO_MFCC];
    if (a->out && a->what == 0) {
        memcpy(a->out + t * MAIF_AUDIO_MEL_BANDS, logmel, sizeof(float) * MAIF_AUDIO_MEL_BANDS);
        return;
    }
    media_mfcc(a->dct, logmel, c);
    if (a->out) {
        memcpy(a->out + t * MAIF_AUDIO_MFCC, c, sizeof c);
        return;
    }
    for (int k = 0; k < MAIF_AUDIO_MFCC; k++) {
        a->sum[k] += c[k];
        a->sq[k] += (double)c[k] * c[k];
    }
}

int maif_audio_analyze(const void *data, size_t size, maif_audio_features *out)
{
    if (!data || !out) return maif_set_last_err(MAIF_EINVAL, "maif_audio_analyze: NULL argument");
    media_pcm pcm;
    int rc = media_wav_decode(data, size, &pcm);
    if (rc) return rc;
    media_frames fr;
    media_frames_for(pcm.sample_rate, pcm.frames, &fr);
    acc a;
    memset(&a, 0, sizeof a);
    media_dct_table(a.dct);
    rc = media_logmel(&pcm, &fr, accumulate, &a);
    if (rc == 0) {
        memset(out, 0, sizeof *out);
        out->sample_rate = pcm.sample_rate;
        out->channels = pcm.channels;
        out->bits = pcm.bits;
        out->is_float = pcm.is_float;
        out->frames = pcm.frames;
        out->duration = (double)pcm.frames / pcm.sample_rate;
        out->windows = fr.count;
        double e = 0;
        for (uint64_t i = 0; i < pcm.frames; i++) e += pcm.mono[i] * pcm.mono[i];
        double rms = pcm.frames ? sqrt(e / (double)pcm.frames) : 0;
        out->rms_db = (float)(20 * log10(rms > 1e-10 ? rms : 1e-10));
        for (int k = 0; k < MAIF_AUDIO_MFCC; k++) {
            double m = a.sum[k] / (double)fr.count, v = a.sq[k] / (double)fr.count - m * m;
            out->mfcc_mean[k] = (float)m;
            out->mfcc_std[k] = (float)sqrt(v > 0 ? v : 0);
        }
    }
    maif_free(pcm.mono);
    return rc;
}

int maif_audio_spectrum(const void *data, size_t size, int what, float *out, size_t cap, size_t *nframes)
{
    if (!data || !nframes || (what != 0 && what != 1) || (!out && cap))
        return maif_set_last_err(MAIF_EINVAL, "maif_audio_spectrum: bad argument");
    media_pcm pcm;
    int rc = media_wav_decode(data, size, &pcm);
    if (rc) return rc;
    media_frames fr;
    media_frames_for(pcm.sample_rate, pcm.frames, &fr);
    size_t per = what == 0 ? MAIF_AUDIO_MEL_BANDS : MAIF_AUDIO_MFCC;
    *nframes = (size_t)fr.count;
    if (fr.count > SIZE_MAX / per || fr.count * per > cap) {
        maif_free(pcm.mono);
        return maif_set_last_err(MAIF_ELIMIT, "the spectrum has %llu frames of %zu values: %zu floats do not hold it",
                                 (unsigned long long)fr.count, per, cap);
    }
    acc a = {.out = out, .what = what};
    media_dct_table(a.dct);
    rc = media_logmel(&pcm, &fr, accumulate, &a);
    maif_free(pcm.mono);
    return rc;
}

/* ---- metadata JSON */

typedef struct jw {
    char *buf;
    size_t cap, len;
} jw;

static void put(jw *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(jw *j, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *dst = j->len < j->cap ? j->buf + j->len : NULL;
    int n = vsnprintf(dst, dst ? j->cap - j->len : 0, fmt, ap);
    va_end(ap);
    if (n > 0) j->len += (size_t)n;
}

/* Floats rounded to 6 significant digits: enough for similarity, short in the metadata. */
static void put_floats(jw *j, const char *key, const float *v, int n)
{
    put(j, ",\"%s\":[", key);
    for (int i = 0; i < n; i++) {
        double x = isfinite(v[i]) ? v[i] : 0;
        put(j, "%s%.6g", i ? "," : "", x);
    }
    put(j, "]");
}

int maif_media_metadata(uint32_t type, const void *data, size_t size, char *buf, size_t cap, size_t *len)
{
    if (!data || !len || (!buf && cap)) return maif_set_last_err(MAIF_EINVAL, "maif_media_metadata: bad argument");
    jw j = {buf, cap, 0};
    *len = 0;
    if (type == MAIF_TYPE_IMAGE) {
        maif_image_features f;
        int rc = maif_image_analyze(data, size, &f);
        if (rc) return rc;
        put(&j, "{\"dhash\":\"%016llx\",\"format\":\"%s\",\"height\":%u,\"phash\":\"%016llx\",\"phash_content\":\"%016llx\",\"width\":%u",
            (unsigned long long)f.dhash, f.format, f.height, (unsigned long long)f.phash,
            (unsigned long long)f.phash_content, f.width);
        put_floats(&j, "color_histogram", f.hsv, MAIF_IMAGE_HSV_BINS);
        put_floats(&j, "hog", f.hog, MAIF_IMAGE_HOG_BINS);
        put(&j, "}");
    } else if (type == MAIF_TYPE_AUDIO) {
        maif_audio_features f;
        int rc = maif_audio_analyze(data, size, &f);
        if (rc) return rc;
        put(&j, "{\"bits\":%u,\"channels\":%u,\"duration\":%.6f,\"format\":\"wav\",\"rms_db\":%.3f,\"sample_rate\":%u",
            f.bits, f.channels, f.duration, (double)f.rms_db, f.sample_rate);
        put_floats(&j, "mfcc_mean", f.mfcc_mean, MAIF_AUDIO_MFCC);
        put_floats(&j, "mfcc_std", f.mfcc_std, MAIF_AUDIO_MFCC);
        put(&j, "}");
    } else {
        return maif_set_last_err(MAIF_EINVAL, "maif_media_metadata: only image and audio blocks are analysed here");
    }
    *len = j.len;
    if (j.len >= cap) return maif_set_last_err(MAIF_ELIMIT, "metadata of %zu bytes does not fit in %zu", j.len, cap);
    return 0;
}
