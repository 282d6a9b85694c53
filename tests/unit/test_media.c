/*
 * test_media.c — image and audio understanding (maif_image_analyze,
 * maif_audio_analyze, maif_audio_spectrum, maif_media_metadata): decoding
 * every supported encoding, hostile and truncated files, and near-duplicate
 * detection measured on Debian's Adwaita icons against re-encoded, resized
 * and cropped copies made here with libjpeg and libpng.
 */
#include "testutil.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <png.h>

#include "understand/media.h"
#include "util/alloc.h"
#include "crypto/crypto.h"

#define ICONS "/usr/share/icons/Adwaita/512x512"

/* ---- encoders (test only) */

static uint8_t *png_encode(const uint8_t *rgb, uint32_t w, uint32_t h, size_t *n)
{
    png_image pi;
    memset(&pi, 0, sizeof pi);
    pi.version = PNG_IMAGE_VERSION;
    pi.width = w;
    pi.height = h;
    pi.format = PNG_FORMAT_RGB;
    png_alloc_size_t len = 0;
    assert_true(png_image_write_to_memory(&pi, NULL, &len, 0, rgb, 0, NULL));
    uint8_t *out = malloc(len);
    assert_non_null(out);
    assert_true(png_image_write_to_memory(&pi, out, &len, 0, rgb, 0, NULL));
    *n = len;
    return out;
}

static uint8_t *jpeg_encode(const uint8_t *rgb, uint32_t w, uint32_t h, int quality, int progressive, size_t *n)
{
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr e;
    c.err = jpeg_std_error(&e);
    jpeg_create_compress(&c);
    unsigned char *out = NULL;
    unsigned long len = 0;
    jpeg_mem_dest(&c, &out, &len);
    c.image_width = w;
    c.image_height = h;
    c.input_components = 3;
    c.in_color_space = JCS_RGB;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, quality, TRUE);
    if (progressive) jpeg_simple_progression(&c);
    jpeg_start_compress(&c, TRUE);
    while (c.next_scanline < h) {
        JSAMPROW row = (JSAMPROW)(rgb + (size_t)c.next_scanline * w * 3);
        jpeg_write_scanlines(&c, &row, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    *n = len;
    return out;
}

static uint8_t *resize_rgb(const media_rgb *img, uint32_t w, uint32_t h)
{
    double *plane = malloc(sizeof(double) * img->width * img->height), *small = malloc(sizeof(double) * w * h);
    uint8_t *out = malloc((size_t)w * h * 3);
    assert_non_null(plane);
    assert_non_null(small);
    assert_non_null(out);
    for (int ch = 0; ch < 3; ch++) {
        for (size_t i = 0; i < (size_t)img->width * img->height; i++) plane[i] = img->rgb[i * 3 + ch];
        media_area_resize(plane, img->width, img->height, small, w, h);
        for (size_t i = 0; i < (size_t)w * h; i++) out[i * 3 + ch] = (uint8_t)lround(small[i]);
    }
    free(plane);
    free(small);
    return out;
}

static uint8_t *crop_rgb(const media_rgb *img, uint32_t x0, uint32_t y0, uint32_t w, uint32_t h)
{
    uint8_t *out = malloc((size_t)w * h * 3);
    assert_non_null(out);
    for (uint32_t y = 0; y < h; y++) memcpy(out + (size_t)y * w * 3, img->rgb + ((size_t)(y0 + y) * img->width + x0) * 3, (size_t)w * 3);
    return out;
}

/* A synthetic test picture: gradients and a disc, so every feature has something to see. */
static uint8_t *picture(uint32_t w, uint32_t h)
{
    uint8_t *p = malloc((size_t)w * h * 3);
    assert_non_null(p);
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++) {
            uint8_t *q = p + ((size_t)y * w + x) * 3;
            double dx = x - w * 0.6, dy = y - h * 0.4;
            int disc = dx * dx + dy * dy < (w * 0.2) * (w * 0.2);
            q[0] = disc ? 220 : (uint8_t)(255 * x / w);
            q[1] = disc ? 40 : (uint8_t)(255 * y / h);
            q[2] = disc ? 40 : 128;
        }
    return p;
}

static void test_image_roundtrip(void **state)
{
    (void)state;
    uint8_t *rgb = picture(200, 120);
    size_t pn, jn;
    uint8_t *png = png_encode(rgb, 200, 120, &pn), *jpg = jpeg_encode(rgb, 200, 120, 90, 0, &jn);
    maif_image_features a, b;
    assert_int_equal(maif_image_analyze(png, pn, &a), MAIF_OK);
    assert_int_equal(maif_image_analyze(jpg, jn, &b), MAIF_OK);
    assert_int_equal(a.width, 200);
    assert_int_equal(a.height, 120);
    assert_string_equal(a.format, "png");
    assert_string_equal(b.format, "jpeg");
    double hs = 0, hg = 0;
    for (int i = 0; i < MAIF_IMAGE_HSV_BINS; i++) hs += a.hsv[i];
    for (int i = 0; i < MAIF_IMAGE_HOG_BINS; i++) hg += (double)a.hog[i] * a.hog[i];
    assert_true(fabs(hs - 1) < 1e-4);
    assert_true(fabs(hg - 1) < 1e-4);
    /* the same picture through a lossy codec stays a near-duplicate */
    assert_true(maif_hash_distance(a.phash, b.phash) <= 4);
    assert_true(maif_hash_distance(a.dhash, b.dhash) <= 6);
    /* the red disc: most saturated pixels have a red hue (bin 0) */
    assert_true(a.hsv[0 * 9 + 2 * 3 + 2] > 0.05);
    assert_int_equal(maif_hash_distance(0, ~(uint64_t)0), 64);
    assert_int_equal(maif_hash_distance(0x5, 0x6), 2);

    /* the metadata object: sized first, then filled */
    size_t len = 0;
    assert_int_equal(maif_media_metadata(MAIF_TYPE_IMAGE, png, pn, NULL, 0, &len), MAIF_ELIMIT);
    char *buf = malloc(len + 1);
    assert_non_null(buf);
    size_t len2 = 0;
    assert_int_equal(maif_media_metadata(MAIF_TYPE_IMAGE, png, pn, buf, len + 1, &len2), MAIF_OK);
    assert_int_equal(len, len2);
    assert_non_null(strstr(buf, "\"width\":200"));
    assert_non_null(strstr(buf, "\"format\":\"png\""));
    free(buf);
    assert_int_equal(maif_media_metadata(MAIF_TYPE_TEXT, png, pn, NULL, 0, &len), MAIF_EINVAL);
    assert_int_equal(maif_image_analyze(NULL, 0, &a), MAIF_EINVAL);

    /* progressive JPEG decodes too */
    free(jpg);
    jpg = jpeg_encode(rgb, 200, 120, 90, 1, &jn);
    assert_int_equal(maif_image_analyze(jpg, jn, &b), MAIF_OK);
    assert_true(maif_hash_distance(a.phash, b.phash) <= 4);
    free(png);
    free(jpg);
    free(rgb);
}

static uint32_t crc32_of(const uint8_t *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
    }
    return ~c;
}

static void be32(uint8_t *p, uint32_t v) { p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v; }

/* Hostile images: a header declaring 100 000 x 100 000 pixels is refused
 * before decoding; every truncation and many corruptions are clean errors. */
static void test_image_hostile(void **state)
{
    (void)state;
    uint8_t png[8 + 25 + 12 + 12] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    be32(png + 8, 13);
    memcpy(png + 12, "IHDR", 4);
    be32(png + 16, 100000);
    be32(png + 20, 100000);
    png[24] = 8, png[25] = 2; /* 8-bit RGB */
    be32(png + 29, crc32_of(png + 12, 17));
    be32(png + 33, 0); /* an empty IDAT: the header is all a reader sees before it */
    memcpy(png + 37, "IDAT", 4);
    be32(png + 41, crc32_of(png + 37, 4));
    be32(png + 45, 0);
    memcpy(png + 49, "IEND", 4);
    be32(png + 53, crc32_of(png + 49, 4));
    maif_image_features f;
    if (maif_image_analyze(png, sizeof png, &f) != MAIF_ELIMIT) fail_msg("%s", maif_last_errmsg());
    assert_non_null(strstr(maif_last_errmsg(), "over the limit"));

    uint8_t *rgb = picture(64, 48);
    size_t jn, pn;
    uint8_t *jpg = jpeg_encode(rgb, 64, 48, 80, 1, &jn), *okpng = png_encode(rgb, 64, 48, &pn);
    /* JPEG: patch the SOF dimensions to 60 000 x 60 000 (libjpeg itself stops at 65 500) */
    uint8_t *big = malloc(jn);
    assert_non_null(big);
    memcpy(big, jpg, jn);
    int patched = 0;
    for (size_t i = 2; i + 9 < jn; i++)
        if (big[i] == 0xff && (big[i + 1] == 0xc0 || big[i + 1] == 0xc2)) {
            big[i + 5] = big[i + 7] = 0xea;
            big[i + 6] = big[i + 8] = 0x60;
            patched = 1;
            break;
        }
    assert_true(patched);
    if (maif_image_analyze(big, jn, &f) != MAIF_ELIMIT) fail_msg("%s", maif_last_errmsg());
    free(big);
    /* every truncation: an error, never a crash or a guess */
    for (size_t n = 0; n < jn; n += 7) assert_int_not_equal(maif_image_analyze(jpg, n, &f), MAIF_OK);
    /* (a PNG cut inside its final IEND chunk still holds every pixel) */
    for (size_t n = 0; n < pn - 12; n += 3) assert_int_not_equal(maif_image_analyze(okpng, n, &f), MAIF_OK);
    /* flipped bytes: whatever the verdict, no crash (ASan watches) */
    for (size_t i = 0; i < jn; i += 5) {
        jpg[i] ^= 0x5a;
        if (maif_image_analyze(jpg, jn, &f) == MAIF_OK) assert_true(f.width * f.height <= MAIF_IMAGE_PIXELS_MAX);
        jpg[i] ^= 0x5a;
    }
    for (size_t i = 8; i < pn; i += 3) {
        okpng[i] ^= 0x21;
        if (maif_image_analyze(okpng, pn, &f) == MAIF_OK) assert_true(f.width * f.height <= MAIF_IMAGE_PIXELS_MAX);
        okpng[i] ^= 0x21;
    }
    assert_int_equal(maif_image_analyze("GIF89a", 6, &f), MAIF_EUNSUPPORTED);
    free(jpg);
    free(okpng);
    free(rgb);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Near-duplicate detection on real images: every 512x512 Adwaita icon
 * (adwaita-icon-theme, installed by scripts/install-deps.sh), each against
 * four copies: JPEG quality 75, resized to half and re-encoded as PNG,
 * cropped by 4% on each side, and resized to 37% as JPEG quality 60.
 * Measured two ways: a copy is "found" when its pHash is within NEAR_T
 * bits of its original's, and "identified" when its original is the
 * nearest of all the icons (pHash distance, then dHash distance; icons
 * whose pixels are identical count as one). Pairs of different icons
 * within NEAR_T bits are reported too: many are the same drawing with a
 * small emblem (folder-music and folder-videos, x-office-document and its
 * template), which is what a perceptual hash is meant to call alike. */
#define NEAR_T 12
typedef struct icon {
    maif_image_features f;
    uint8_t pixels[32]; /* SHA-256 of the decoded pixels */
} icon;

static void test_near_duplicates(void **state)
{
    (void)state;
    char *names[512];
    size_t n = 0;
    DIR *top = opendir(ICONS);
    if (!top) fail_msg("%s is missing: scripts/install-deps.sh installs adwaita-icon-theme", ICONS);
    struct dirent *de;
    while ((de = readdir(top)) && n < 512) {
        if (de->d_name[0] == '.') continue;
        char *sub = tu_path(ICONS, de->d_name);
        DIR *d = opendir(sub);
        struct dirent *e;
        while (d && (e = readdir(d)) && n < 512) {
            size_t l = strlen(e->d_name);
            if (l < 5 || strcmp(e->d_name + l - 4, ".png") != 0) continue;
            names[n++] = tu_path(sub, e->d_name);
        }
        if (d) closedir(d);
        free(sub);
    }
    closedir(top);
    assert_true(n >= 50);
    qsort(names, n, sizeof names[0], cmp_str);
    icon *ic = calloc(n, sizeof *ic);
    maif_image_features(*copy)[4] = calloc(n, sizeof *copy);
    assert_non_null(ic);
    assert_non_null(copy);
    const char *kinds[4] = {"jpeg q75", "half size png", "crop 4%", "37% jpeg q60"};
    unsigned found[4] = {0}, ident[4] = {0}, worst[4] = {0};
    for (size_t i = 0; i < n; i++) {
        size_t len = 0;
        uint8_t *data = tu_read(names[i], &len);
        assert_non_null(data);
        media_rgb img;
        assert_int_equal(media_image_decode(data, len, &img), MAIF_OK);
        maif_image_features f;
        assert_int_equal(maif_image_analyze(data, len, &f), MAIF_OK);
        ic[i].f = f;
        maif_sha256(img.rgb, (size_t)img.width * img.height * 3, ic[i].pixels);
        free(data);
        uint32_t w = img.width, h = img.height;
        uint32_t cx = w * 4 / 100, cy = h * 4 / 100, w37 = w * 37 / 100, h37 = h * 37 / 100;
        uint8_t *half = resize_rgb(&img, w / 2, h / 2), *cropped = crop_rgb(&img, cx, cy, w - 2 * cx, h - 2 * cy);
        uint8_t *small = resize_rgb(&img, w37, h37);
        size_t cn[4];
        uint8_t *copies[4] = {jpeg_encode(img.rgb, w, h, 75, 0, &cn[0]), png_encode(half, w / 2, h / 2, &cn[1]),
                              png_encode(cropped, w - 2 * cx, h - 2 * cy, &cn[2]),
                              jpeg_encode(small, w37, h37, 60, 0, &cn[3])};
        for (int k = 0; k < 4; k++) {
            maif_image_features c;
            assert_int_equal(maif_image_analyze(copies[k], cn[k], &c), MAIF_OK);
            copy[i][k] = c;
            unsigned d = (unsigned)maif_image_distance(&f, &c);
            if (d <= NEAR_T) found[k]++;
            if (d > worst[k]) worst[k] = d;
            free(copies[k]);
        }
        free(half);
        free(cropped);
        free(small);
        maif_free(img.rgb);
    }
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < 4; k++) {
            size_t best = 0;
            int bestd = 1 << 30;
            for (size_t j = 0; j < n; j++) {
                int d = maif_image_distance(&ic[j].f, &copy[i][k]) * 64 + maif_hash_distance(ic[j].f.dhash, copy[i][k].dhash);
                if (d < bestd) bestd = d, best = j;
            }
            if (best == i || memcmp(ic[best].pixels, ic[i].pixels, 32) == 0) ident[k]++;
        }
    unsigned pairs = 0, near = 0, same = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++) {
            if (memcmp(ic[i].pixels, ic[j].pixels, 32) == 0) {
                same++;
                continue;
            }
            pairs++;
            if (maif_image_distance(&ic[i].f, &ic[j].f) <= NEAR_T) near++;
        }
    print_message("near-duplicates over %zu Adwaita icons (%u pairs with identical pixels), pHash within %d bits:\n", n,
                  same, NEAR_T);
    for (int k = 0; k < 4; k++)
        print_message("  %-14s found %3u of %zu (%.3f), largest distance %2u; identified %3u (%.3f)\n", kinds[k],
                      found[k], n, (double)found[k] / n, worst[k], ident[k], (double)ident[k] / n);
    print_message("  different icons within %d bits: %u of %u pairs (%.4f)\n", NEAR_T, near, pairs, (double)near / pairs);
    /* floors a little under what was measured (docs/UNDERSTANDING.md), so a regression shows */
    assert_true(found[0] == n && found[1] == n);
    assert_true(found[2] >= n * 80 / 100 && found[3] >= n * 90 / 100);
    for (int k = 0; k < 4; k++) assert_true(ident[k] >= n * 90 / 100);
    assert_true(near <= pairs / 15);
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(ic);
    free(copy);
}

/* ---- audio */

typedef struct wav_spec {
    uint16_t tag, channels, bits;
    uint32_t rate;
    int extensible;
} wav_spec;

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)v), put16(p + 2, (uint16_t)(v >> 16)); }

/* A WAV of a 1 kHz sine at amplitude 0.5 (every channel), secs long. */
static uint8_t *make_wav(const wav_spec *s, double secs, size_t *n)
{
    uint32_t frames = (uint32_t)(s->rate * secs), bps = s->bits / 8, align = bps * s->channels;
    uint32_t fmt_len = s->extensible ? 40 : 16, data_len = frames * align;
    *n = 12 + 8 + fmt_len + 8 + data_len;
    uint8_t *w = calloc(1, *n);
    assert_non_null(w);
    memcpy(w, "RIFF", 4);
    put32(w + 4, (uint32_t)*n - 8);
    memcpy(w + 8, "WAVEfmt ", 8);
    put32(w + 16, fmt_len);
    uint8_t *f = w + 20;
    put16(f, s->extensible ? 0xFFFE : s->tag);
    put16(f + 2, s->channels);
    put32(f + 4, s->rate);
    put32(f + 8, s->rate * align);
    put16(f + 12, (uint16_t)align);
    put16(f + 14, s->bits);
    if (s->extensible) {
        static const uint8_t tail[14] = {0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xAA, 0, 0x38, 0x9B, 0x71};
        put16(f + 16, 22);
        put16(f + 18, s->bits);
        put32(f + 20, 0);
        put16(f + 24, s->tag);
        memcpy(f + 26, tail, 14);
    }
    uint8_t *d = f + fmt_len;
    memcpy(d, "data", 4);
    put32(d + 4, data_len);
    d += 8;
    for (uint32_t i = 0; i < frames; i++) {
        double v = 0.5 * sin(2 * M_PI * 1000.0 * i / s->rate);
        for (unsigned c = 0; c < s->channels; c++, d += bps) {
            if (s->tag == 3 && s->bits == 32) {
                float x = (float)v;
                memcpy(d, &x, 4);
            } else if (s->tag == 3) {
                memcpy(d, &v, 8);
            } else if (s->bits == 8) {
                d[0] = (uint8_t)lround(128 + v * 127);
            } else if (s->bits == 16) {
                put16(d, (uint16_t)(int16_t)lround(v * 32767));
            } else if (s->bits == 24) {
                int32_t x = (int32_t)lround(v * 8388607);
                d[0] = (uint8_t)x, d[1] = (uint8_t)(x >> 8), d[2] = (uint8_t)(x >> 16);
            } else {
                put32(d, (uint32_t)(int32_t)lround(v * 2147483647.0));
            }
        }
    }
    return w;
}

static void test_audio_encodings(void **state)
{
    (void)state;
    wav_spec base = {1, 1, 16, 16000, 0};
    size_t n;
    uint8_t *w = make_wav(&base, 1.0, &n);
    maif_audio_features ref;
    assert_int_equal(maif_audio_analyze(w, n, &ref), MAIF_OK);
    assert_int_equal(ref.sample_rate, 16000);
    assert_int_equal(ref.frames, 16000);
    assert_true(fabs(ref.duration - 1.0) < 1e-9);
    assert_true(fabs(ref.rms_db - 20 * log10(0.5 / sqrt(2))) < 0.05); /* a sine's RMS: amplitude / sqrt 2 */
    /* the loudest mel band holds 1 kHz */
    size_t frames = 0;
    assert_int_equal(maif_audio_spectrum(w, n, 0, NULL, 0, &frames), MAIF_ELIMIT);
    assert_int_equal(frames, ref.windows);
    float *mel = malloc(sizeof(float) * frames * MAIF_AUDIO_MEL_BANDS);
    assert_non_null(mel);
    assert_int_equal(maif_audio_spectrum(w, n, 0, mel, frames * MAIF_AUDIO_MEL_BANDS, &frames), MAIF_OK);
    int best = 0;
    const float *mid = mel + (frames / 2) * MAIF_AUDIO_MEL_BANDS;
    for (int m = 1; m < MAIF_AUDIO_MEL_BANDS; m++)
        if (mid[m] > mid[best]) best = m;
    /* band centres (HTK mel, 40 bands to 8 kHz): 955 Hz (band 13) and 1060 Hz (band 14) */
    if (best != 13 && best != 14) fail_msg("loudest band %d", best);
    float *mf = malloc(sizeof(float) * frames * MAIF_AUDIO_MFCC);
    assert_non_null(mf);
    assert_int_equal(maif_audio_spectrum(w, n, 1, mf, frames * MAIF_AUDIO_MFCC, &frames), MAIF_OK);
    assert_true(fabs(mf[(frames / 2) * MAIF_AUDIO_MFCC] - ref.mfcc_mean[0]) < 1.0);
    free(mf);
    free(mel);
    free(w);
    /* every encoding of the same sine gives (nearly) the same features */
    wav_spec specs[] = {{1, 1, 8, 16000, 0}, {1, 1, 24, 16000, 0}, {1, 1, 32, 16000, 0}, {3, 1, 32, 16000, 0},
                        {3, 1, 64, 16000, 0}, {1, 2, 16, 16000, 0}, {1, 6, 16, 16000, 1}, {3, 2, 32, 16000, 1}};
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        w = make_wav(&specs[i], 1.0, &n);
        maif_audio_features f;
        assert_int_equal(maif_audio_analyze(w, n, &f), MAIF_OK);
        assert_int_equal(f.channels, specs[i].channels);
        assert_int_equal(f.bits, specs[i].bits);
        assert_int_equal(f.is_float, specs[i].tag == 3);
        assert_int_equal(f.frames, 16000);
        /* 8-bit quantisation noise fills the bands the sine leaves empty, so
         * there only the level is compared */
        if (specs[i].bits == 8) assert_true(fabs(f.rms_db - ref.rms_db) < 0.2);
        for (int k = 0; k < 4 && specs[i].bits != 8; k++)
            if (!(fabs(f.mfcc_mean[k] - ref.mfcc_mean[k]) < 0.1))
                fail_msg("encoding %zu: mfcc %d is %f, 16-bit %f", i, k, f.mfcc_mean[k], ref.mfcc_mean[k]);
        free(w);
    }
    /* shorter than one window: one frame, zero-padded */
    w = make_wav(&base, 0.01, &n);
    maif_audio_features f;
    assert_int_equal(maif_audio_analyze(w, n, &f), MAIF_OK);
    assert_int_equal(f.windows, 1);
    free(w);
    assert_int_equal(maif_audio_analyze(NULL, 0, &f), MAIF_EINVAL);
    assert_int_equal(maif_audio_spectrum("x", 1, 2, NULL, 0, &frames), MAIF_EINVAL);
}

static void test_audio_hostile(void **state)
{
    (void)state;
    wav_spec base = {1, 2, 16, 8000, 0};
    size_t n;
    uint8_t *w = make_wav(&base, 0.05, &n);
    maif_audio_features f;
    /* every truncation: an error, or the whole frames that are there */
    for (size_t k = 0; k < n; k++) {
        int rc = maif_audio_analyze(w, k, &f);
        if (rc == MAIF_OK) assert_true(f.frames <= 400);
    }
    uint8_t *b = malloc(n);
    assert_non_null(b);
    struct { size_t at; uint32_t v; int width; int want; } cases[] = {
        {22, 0, 2, MAIF_EUNSUPPORTED},     /* zero channels */
        {22, 9, 2, MAIF_EUNSUPPORTED},     /* nine channels */
        {22, 65535, 2, MAIF_EUNSUPPORTED}, /* 65 535 channels */
        {24, 0, 4, MAIF_EUNSUPPORTED},     /* 0 Hz */
        {24, 0xffffffffu, 4, MAIF_EUNSUPPORTED},
        {32, 3, 2, MAIF_EFORMAT},          /* block align that does not match */
        {34, 12, 2, MAIF_EUNSUPPORTED},    /* 12-bit samples */
        {20, 2, 2, MAIF_EUNSUPPORTED},     /* ADPCM */
        {16, 0xfffffff0u, 4, MAIF_EFORMAT}, /* fmt chunk longer than the file */
        {16, 4, 4, MAIF_EFORMAT},          /* fmt chunk too short */
        {36, 0x61746164u ^ 1, 4, MAIF_EFORMAT}, /* no data chunk */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memcpy(b, w, n);
        if (cases[i].width == 2) put16(b + cases[i].at, (uint16_t)cases[i].v);
        else put32(b + cases[i].at, cases[i].v);
        int rc = maif_audio_analyze(b, n, &f);
        if (rc != cases[i].want) fail_msg("case %zu: %d (%s), want %d", i, rc, maif_last_errmsg(), cases[i].want);
    }
    /* a data chunk claiming 4 GiB: cut to what is there */
    memcpy(b, w, n);
    put32(b + 40, 0xffffffffu);
    assert_int_equal(maif_audio_analyze(b, n, &f), MAIF_OK);
    assert_int_equal(f.frames, 400);
    assert_int_equal(maif_audio_analyze("RIFF\0\0\0\0WAVX", 12, &f), MAIF_EUNSUPPORTED);
    free(b);
    free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_image_roundtrip),
        cmocka_unit_test(test_image_hostile),
        cmocka_unit_test(test_near_duplicates),
        cmocka_unit_test(test_audio_encodings),
        cmocka_unit_test(test_audio_hostile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
