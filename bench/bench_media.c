/*
 * bench_media.c — image and sound analysis (maif_image_analyze,
 * maif_audio_analyze) beside what they cannot avoid: decoding. Images:
 * every 512x512 Adwaita icon, analysed, against libpng's own decode of
 * the same bytes (png_image_* to RGB). Sound: 60 s of 16 kHz audio,
 * analysed (FFT, mel bands, MFCCs), against a plain pass that reads the
 * same samples into doubles. Usage: bench_media [ICON_DIR]
 */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>

#include "benchutil.h"

#define REPS 3

static uint8_t *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    rewind(f);
    uint8_t *b = malloc(len > 0 ? (size_t)len : 1);
    if (b && fread(b, 1, (size_t)len, f) != (size_t)len) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *n = (size_t)len;
    return b;
}

static double png_decode_only(const uint8_t *d, size_t n)
{
    png_image pi;
    memset(&pi, 0, sizeof pi);
    pi.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&pi, d, n)) return 0;
    pi.format = PNG_FORMAT_RGB;
    uint8_t *buf = malloc(PNG_IMAGE_SIZE(pi));
    png_color white = {255, 255, 255};
    int ok = buf && png_image_finish_read(&pi, &white, buf, 0, NULL);
    double s = ok ? buf[0] : 0;
    free(buf);
    png_image_free(&pi);
    return s;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "/usr/share/icons/Adwaita/512x512/devices";
    DIR *d = opendir(dir);
    uint8_t *img[256];
    size_t len[256], n = 0, total = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) && n < 256) {
        size_t l = strlen(e->d_name);
        if (l < 5 || strcmp(e->d_name + l - 4, ".png") != 0) continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if ((img[n] = slurp(path, &len[n]))) total += len[n++];
    }
    if (d) closedir(d);
    if (n == 0) {
        bu_note("media: no PNG icons in %s (adwaita-icon-theme); image figures skipped", dir);
    } else {
        double best_a = 1e9, best_b = 1e9, sink = 0;
        for (int r = 0; r < REPS; r++) {
            double t0 = bu_now();
            for (size_t i = 0; i < n; i++) sink += png_decode_only(img[i], len[i]);
            double t1 = bu_now();
            for (size_t i = 0; i < n; i++) {
                maif_image_features f;
                bu_check(maif_image_analyze(img[i], len[i], &f), "maif_image_analyze", maif_last_errmsg());
                sink += (double)f.phash;
            }
            double t2 = bu_now();
            if (t1 - t0 < best_b) best_b = t1 - t0;
            if (t2 - t1 < best_a) best_a = t2 - t1;
        }
        char label[128];
        snprintf(label, sizeof label, "image analysis, %zu PNG icons (512x512)", n);
        bu_report(label, n / best_a, "images/s", "libpng decode alone", n / best_b, "");
        if (sink == 42) puts("");
        for (size_t i = 0; i < n; i++) free(img[i]);
    }
    /* 60 s of 16 kHz, 16-bit mono: a chirp plus noise */
    const uint32_t rate = 16000, secs = 60, frames = rate * secs;
    size_t wn = 44 + (size_t)frames * 2;
    uint8_t *w = calloc(1, wn);
    if (!w) return 1;
    memcpy(w, "RIFF", 4);
    uint32_t v32 = (uint32_t)wn - 8;
    memcpy(w + 4, &v32, 4);
    memcpy(w + 8, "WAVEfmt ", 8);
    uint32_t fl = 16, br = rate * 2;
    uint16_t tag = 1, ch = 1, al = 2, bits = 16;
    memcpy(w + 16, &fl, 4), memcpy(w + 20, &tag, 2), memcpy(w + 22, &ch, 2), memcpy(w + 24, &rate, 4);
    memcpy(w + 28, &br, 4), memcpy(w + 32, &al, 2), memcpy(w + 34, &bits, 2);
    memcpy(w + 36, "data", 4);
    v32 = frames * 2;
    memcpy(w + 40, &v32, 4);
    uint64_t x = 88172645463325252ull;
    for (uint32_t i = 0; i < frames; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        double t = (double)i / rate, s = 0.4 * sin(2 * M_PI * (200 + 30 * t) * t) + 0.05 * ((double)(x >> 11) / 9007199254740992.0 - 0.5);
        int16_t q = (int16_t)lround(s * 32767);
        memcpy(w + 44 + (size_t)i * 2, &q, 2);
    }
    double best_a = 1e9, best_b = 1e9, sink = 0;
    for (int r = 0; r < REPS; r++) {
        double t0 = bu_now();
        double *mono = malloc(sizeof(double) * frames);
        for (uint32_t i = 0; i < frames; i++) {
            int16_t q;
            memcpy(&q, w + 44 + (size_t)i * 2, 2);
            mono[i] = q / 32768.0;
        }
        sink += mono[frames / 2];
        free(mono);
        double t1 = bu_now();
        maif_audio_features f;
        bu_check(maif_audio_analyze(w, wn, &f), "maif_audio_analyze", maif_last_errmsg());
        sink += f.mfcc_mean[0];
        double t2 = bu_now();
        if (t1 - t0 < best_b) best_b = t1 - t0;
        if (t2 - t1 < best_a) best_a = t2 - t1;
    }
    bu_report("audio analysis (log-mel + MFCC), x real time", secs / best_a, "x", "reading the samples alone",
              secs / best_b, "");
    if (sink == 42) puts("");
    free(w);
    return 0;
}
