/*
 * audio_features.c — the log-mel spectrogram and MFCCs of a sound: 25 ms
 * Hamming windows every 10 ms, a radix-2 FFT, 40 triangular mel filters
 * (HTK mel scale, 0 Hz to Nyquist) over the power spectrum, the natural
 * log (floored at 1e-10), and an orthonormal DCT-II keeping 13
 * coefficients. tests/cli/media_ref.py computes the same with numpy.
 */
#include <math.h>
#include <string.h>

#include "media.h"
#include "util/alloc.h"
#include "util/common.h"

#define LOG_FLOOR 1e-10

void media_frames_for(uint32_t sample_rate, uint64_t nsamples, media_frames *fr)
{
    fr->win = (size_t)(sample_rate * 0.025 + 0.5);
    fr->hop = (size_t)(sample_rate * 0.010 + 0.5);
    if (fr->win < 2) fr->win = 2;
    if (fr->hop < 1) fr->hop = 1;
    fr->nfft = 2;
    while (fr->nfft < fr->win) fr->nfft <<= 1;
    fr->count = nsamples <= fr->win ? 1 : 1 + (nsamples - fr->win + fr->hop - 1) / fr->hop;
}

/* In-place iterative radix-2 FFT of n (a power of two) complex values. */
static void fft(double *re, double *im, size_t n)
{
    for (size_t i = 1, j = 0; i < n; i++) {
        size_t bit = n >> 1;
        for (; j & bit; bit >>= 1) j ^= bit;
        j ^= bit;
        if (i < j) {
            double t = re[i];
            re[i] = re[j], re[j] = t;
            t = im[i];
            im[i] = im[j], im[j] = t;
        }
    }
    for (size_t len = 2; len <= n; len <<= 1) {
        double a = -2 * M_PI / (double)len, wr = cos(a), wi = sin(a);
        for (size_t i = 0; i < n; i += len) {
            double cr = 1, ci = 0;
            for (size_t k = 0; k < len / 2; k++) {
                size_t p = i + k, q = p + len / 2;
                double tr = re[q] * cr - im[q] * ci, ti = re[q] * ci + im[q] * cr;
                re[q] = re[p] - tr, im[q] = im[p] - ti;
                re[p] += tr, im[p] += ti;
                double nr = cr * wr - ci * wi;
                ci = cr * wi + ci * wr;
                cr = nr;
            }
        }
    }
}

static double hz_to_mel(double f) { return 2595.0 * log10(1.0 + f / 700.0); }
static double mel_to_hz(double m) { return 700.0 * (pow(10.0, m / 2595.0) - 1.0); }

int media_logmel(const media_pcm *pcm, const media_frames *fr, media_sink sink, void *ctx)
{
    float mel[MAIF_AUDIO_MEL_BANDS];
    size_t nfft = fr->nfft, nbins = nfft / 2 + 1;
    double *re = maif_malloc(nfft * sizeof *re), *im = maif_malloc(nfft * sizeof *im);
    double *win = maif_malloc(fr->win * sizeof *win), *fb = maif_calloc(MAIF_AUDIO_MEL_BANDS * nbins, sizeof *fb);
    if (!re || !im || !win || !fb) {
        maif_free(re), maif_free(im), maif_free(win), maif_free(fb);
        return maif_set_last_err(MAIF_ENOMEM, "out of memory for a %zu-point spectrum", nfft);
    }
    for (size_t i = 0; i < fr->win; i++) win[i] = 0.54 - 0.46 * cos(2 * M_PI * (double)i / (double)(fr->win - 1));
    /* triangular filters between M+2 points evenly spaced in mel */
    double mlo = hz_to_mel(0), mhi = hz_to_mel(pcm->sample_rate / 2.0), pts[MAIF_AUDIO_MEL_BANDS + 2];
    for (int m = 0; m < MAIF_AUDIO_MEL_BANDS + 2; m++)
        pts[m] = mel_to_hz(mlo + (mhi - mlo) * m / (MAIF_AUDIO_MEL_BANDS + 1));
    for (int m = 0; m < MAIF_AUDIO_MEL_BANDS; m++)
        for (size_t k = 0; k < nbins; k++) {
            double f = (double)k * pcm->sample_rate / (double)nfft, w = 0;
            if (f > pts[m] && f < pts[m + 1]) w = (f - pts[m]) / (pts[m + 1] - pts[m]);
            else if (f >= pts[m + 1] && f < pts[m + 2]) w = (pts[m + 2] - f) / (pts[m + 2] - pts[m + 1]);
            fb[m * nbins + k] = w;
        }
    for (uint64_t t = 0; t < fr->count; t++) {
        uint64_t start = t * fr->hop;
        for (size_t i = 0; i < nfft; i++) {
            re[i] = i < fr->win && start + i < pcm->frames ? pcm->mono[start + i] * win[i] : 0;
            im[i] = 0;
        }
        fft(re, im, nfft);
        for (size_t k = 0; k < nbins; k++) re[k] = re[k] * re[k] + im[k] * im[k];
        for (int m = 0; m < MAIF_AUDIO_MEL_BANDS; m++) {
            double e = 0;
            const double *w = fb + m * nbins;
            for (size_t k = 0; k < nbins; k++) e += w[k] * re[k];
            mel[m] = (float)log(e > LOG_FLOOR ? e : LOG_FLOOR);
        }
        sink(ctx, t, mel);
    }
    maif_free(re), maif_free(im), maif_free(win), maif_free(fb);
    return 0;
}

void media_dct_table(double t[MAIF_AUDIO_MFCC][MAIF_AUDIO_MEL_BANDS])
{
    const int n = MAIF_AUDIO_MEL_BANDS;
    for (int k = 0; k < MAIF_AUDIO_MFCC; k++)
        for (int m = 0; m < n; m++) t[k][m] = cos(M_PI * k * (m + 0.5) / n) * sqrt((k == 0 ? 1.0 : 2.0) / n);
}

void media_mfcc(const double t[MAIF_AUDIO_MFCC][MAIF_AUDIO_MEL_BANDS], const float *logmel, float *mfcc)
{
    for (int k = 0; k < MAIF_AUDIO_MFCC; k++) {
        double s = 0;
        for (int m = 0; m < MAIF_AUDIO_MEL_BANDS; m++) s += logmel[m] * t[k][m];
        mfcc[k] = (float)s;
    }
}
