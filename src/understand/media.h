/*
 * media.h — the understanding engine's image and audio internals: bounded
 * decoders (PNG and JPEG through libpng and libjpeg-turbo, WAV by hand) and
 * the feature computations behind maif_image_analyze / maif_audio_analyze.
 * Every size read from a file is checked before it is used.
 */
#ifndef MAIF_UNDERSTAND_MEDIA_H
#define MAIF_UNDERSTAND_MEDIA_H

#include <stddef.h>
#include <stdint.h>

#include "maif.h"

/* An 8-bit RGB image, rows packed (stride = 3 * width); rgb from maif_malloc. */
typedef struct media_rgb {
    uint32_t width, height;
    uint8_t *rgb;
    const char *format; /* "png" or "jpeg" (static) */
} media_rgb;

/* Decodes PNG or JPEG (alpha over white). Errors as maif_image_analyze,
 * with the message set through maif_set_last_err. On success the caller
 * frees img->rgb with maif_free. */
int media_image_decode(const uint8_t *data, size_t size, media_rgb *img);

/* The features of a decoded image (width, height, format filled too).
 * Returns 0 or MAIF_ENOMEM (message set). */
int media_image_features(const media_rgb *img, maif_image_features *out);

/* Resizes a width x height plane of doubles to w x h by area averaging
 * (each output pixel the mean of the input pixels it covers). */
void media_area_resize(const double *src, uint32_t width, uint32_t height, double *dst, uint32_t w, uint32_t h);

/* A WAV's samples mixed down to mono doubles in [-1, 1] (maif_malloc'd). */
typedef struct media_pcm {
    uint32_t sample_rate;
    uint16_t channels, bits;
    int is_float;
    uint64_t frames;
    double *mono;
} media_pcm;

/* Parses a WAV. Errors as maif_audio_analyze; on success the caller frees
 * pcm->mono with maif_free. */
int media_wav_decode(const uint8_t *data, size_t size, media_pcm *pcm);

/* Analysis geometry for a sample rate: window and hop in samples, FFT size. */
typedef struct media_frames {
    size_t win, hop, nfft;
    uint64_t count; /* frames over the sound (at least 1) */
} media_frames;
void media_frames_for(uint32_t sample_rate, uint64_t nsamples, media_frames *fr);

/* Computes the log-mel energies of every frame in order and hands each
 * (MAIF_AUDIO_MEL_BANDS floats, valid during the call) to sink. Returns 0
 * or MAIF_ENOMEM (message set). */
typedef void (*media_sink)(void *ctx, uint64_t frame, const float *logmel);
int media_logmel(const media_pcm *pcm, const media_frames *fr, media_sink sink, void *ctx);
/* The orthonormal DCT-II rows that turn log-mel energies into MFCCs, and
 * the MFCCs of one frame's log-mel energies through them. */
void media_dct_table(double t[MAIF_AUDIO_MFCC][MAIF_AUDIO_MEL_BANDS]);
void media_mfcc(const double t[MAIF_AUDIO_MFCC][MAIF_AUDIO_MEL_BANDS], const float *logmel, float *mfcc);

#endif
