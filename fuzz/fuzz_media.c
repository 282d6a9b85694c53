/*
 * fuzz_media.c — the image (PNG, JPEG) and sound (WAV) analysers on
 * arbitrary bytes: never a crash, a hang or an allocation past the limits;
 * a success gives dimensions within MAIF_IMAGE_PIXELS_MAX, finite
 * histograms, and a metadata object that fits the size it announced.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "maif.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    maif_image_features f;
    if (maif_image_analyze(data, size, &f) == MAIF_OK) {
        if ((uint64_t)f.width * f.height > MAIF_IMAGE_PIXELS_MAX || f.width == 0) abort();
        for (int i = 0; i < MAIF_IMAGE_HSV_BINS; i++)
            if (!(f.hsv[i] >= 0 && f.hsv[i] <= 1)) abort();
    }
    maif_audio_features a;
    if (maif_audio_analyze(data, size, &a) == MAIF_OK) {
        if (a.channels < 1 || a.channels > 8 || a.sample_rate == 0 || a.windows == 0) abort();
        for (int k = 0; k < MAIF_AUDIO_MFCC; k++)
            if (!isfinite(a.mfcc_mean[k])) abort();
    }
    uint32_t type = size && (data[0] == 'R') ? MAIF_TYPE_AUDIO : MAIF_TYPE_IMAGE;
    size_t need = 0;
    if (maif_media_metadata(type, data, size, NULL, 0, &need) == MAIF_ELIMIT && need > 0) {
        char *buf = malloc(need + 1);
        size_t got = 0;
        if (!buf) return 0;
        if (maif_media_metadata(type, data, size, buf, need + 1, &got) != MAIF_OK || got != need ||
            strlen(buf) != got)
            abort();
        free(buf);
    }
    return 0;
}
