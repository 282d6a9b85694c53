/*
 * image_features.c — what is computed from a decoded image: a DCT
 * perceptual hash and a difference hash (near-duplicates), an HSV colour
 * histogram and a gradient-orientation histogram (similarity). All from
 * area-averaged reductions, so the cost is one pass over the pixels and
 * the result barely moves when an image is re-encoded or resized.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "media.h"
#include "util/alloc.h"
#include "util/common.h"

#define PH 32 /* pHash works on a 32x32 reduction ... */
#define PK 8  /* ... and keeps its 8x8 lowest frequencies */
#define HOG_SIZE 64
#define HOG_ORIENT 9

void media_area_resize(const double *src, uint32_t width, uint32_t height, double *dst, uint32_t w, uint32_t h)
{
    /* Output pixel (x, y) covers input columns [x*W/w, (x+1)*W/w) with
     * fractional coverage at both ends: an exact box filter. */
    for (uint32_t y = 0; y < h; y++) {
        double y0 = (double)y * height / h, y1 = (double)(y + 1) * height / h;
        for (uint32_t x = 0; x < w; x++) {
            double x0 = (double)x * width / w, x1 = (double)(x + 1) * width / w;
            double sum = 0, area = 0;
            for (uint32_t sy = (uint32_t)y0; sy < height && sy < y1; sy++) {
                double wy = fmin(y1, sy + 1.0) - fmax(y0, (double)sy);
                if (wy <= 0) continue;
                const double *row = src + (size_t)sy * width;
                for (uint32_t sx = (uint32_t)x0; sx < width && sx < x1; sx++) {
                    double wx = fmin(x1, sx + 1.0) - fmax(x0, (double)sx);
                    if (wx <= 0) continue;
                    sum += row[sx] * wx * wy;
                    area += wx * wy;
                }
            }
            dst[(size_t)y * w + x] = area > 0 ? sum / area : 0;
        }
    }
}

/* The part of the image that is not a uniform border: when the four
 * corners share one colour (within BORDER_TOL per channel), rows and
 * columns from each edge are dropped while fewer than 1 pixel in 200 of
 * them differs from it. A crop that only takes margin away then leaves
 * the hashes as they were. Pictures without such a border are kept whole,
 * as are those whose content would shrink below 1% of the image. */
#define BORDER_TOL 24
typedef struct rect {
    uint32_t x0, y0, x1, y1;
} rect;

static int px_differs(const uint8_t *p, const int *c)
{
    return abs(p[0] - c[0]) > BORDER_TOL || abs(p[1] - c[1]) > BORDER_TOL || abs(p[2] - c[2]) > BORDER_TOL;
}

static int line_is_border(const media_rgb *img, const int *c, uint32_t fixed, int is_row, uint32_t from, uint32_t to)
{
    uint32_t bad = 0, n = to - from;
    for (uint32_t k = from; k < to; k++) {
        const uint8_t *p = is_row ? img->rgb + ((size_t)fixed * img->width + k) * 3
                                  : img->rgb + ((size_t)k * img->width + fixed) * 3;
        bad += (uint32_t)px_differs(p, c);
    }
    return bad * 200 < n;
}

static rect content_rect(const media_rgb *img)
{
    rect r = {0, 0, img->width, img->height};
    if (img->width < 16 || img->height < 16) return r;
    const uint8_t *corner[4] = {img->rgb, img->rgb + (size_t)(img->width - 1) * 3,
                                img->rgb + (size_t)(img->height - 1) * img->width * 3,
                                img->rgb + ((size_t)img->height * img->width - 1) * 3};
    int c[3];
    for (int ch = 0; ch < 3; ch++) c[ch] = (corner[0][ch] + corner[1][ch] + corner[2][ch] + corner[3][ch] + 2) / 4;
    for (int k = 0; k < 4; k++)
        if (px_differs(corner[k], c)) return r;
    rect t = r;
    while (t.y0 + 1 < t.y1 && line_is_border(img, c, t.y0, 1, t.x0, t.x1)) t.y0++;
    while (t.y1 - 1 > t.y0 && line_is_border(img, c, t.y1 - 1, 1, t.x0, t.x1)) t.y1--;
    while (t.x0 + 1 < t.x1 && line_is_border(img, c, t.x0, 0, t.y0, t.y1)) t.x0++;
    while (t.x1 - 1 > t.x0 && line_is_border(img, c, t.x1 - 1, 0, t.y0, t.y1)) t.x1--;
    if ((uint64_t)(t.x1 - t.x0) * (t.y1 - t.y0) * 100 < (uint64_t)img->width * img->height) return r;
    return t;
}

/* Luma of the rectangle r summed into a bw x bh grid of bins (at most
 * GRID x GRID) in one pass, each bin then the mean of its pixels; the
 * grid is area-resized to each size a feature needs, so the full-size
 * plane never exists. */
#define GRID 256
typedef struct grid {
    uint32_t w, h;
    double *v;
} grid;

static int luma_grid(const media_rgb *img, rect r, grid *g)
{
    uint32_t rw = r.x1 - r.x0, rh = r.y1 - r.y0;
    g->w = rw < GRID ? rw : GRID;
    g->h = rh < GRID ? rh : GRID;
    g->v = maif_calloc((size_t)g->w * g->h, sizeof *g->v);
    double *cnt = maif_calloc((size_t)g->w * g->h, sizeof *cnt);
    uint32_t *col = maif_malloc(sizeof *col * rw);
    if (!g->v || !cnt || !col) {
        maif_free(g->v), maif_free(cnt), maif_free(col);
        g->v = NULL;
        return MAIF_ENOMEM;
    }
    for (uint32_t x = 0; x < rw; x++) col[x] = (uint32_t)((uint64_t)x * g->w / rw);
    for (uint32_t y = 0; y < rh; y++) {
        size_t base = (size_t)((uint64_t)y * g->h / rh) * g->w;
        const uint8_t *p = img->rgb + ((size_t)(r.y0 + y) * img->width + r.x0) * 3;
        for (uint32_t x = 0; x < rw; x++, p += 3) {
            g->v[base + col[x]] += 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2];
            cnt[base + col[x]] += 1;
        }
    }
    for (size_t i = 0; i < (size_t)g->w * g->h; i++) g->v[i] = cnt[i] > 0 ? g->v[i] / cnt[i] : 0;
    maif_free(cnt);
    maif_free(col);
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static uint64_t phash_of(const double *g)
{
    double cosv[PK][PH]; /* 256 cosines: cheaper to compute than to share between threads */
    for (int u = 0; u < PK; u++)
        for (int x = 0; x < PH; x++) cosv[u][x] = cos((2 * x + 1) * u * M_PI / (2.0 * PH));
    double rows[PK][PH]; /* DCT along x for the PK lowest u, every row */
    for (int y = 0; y < PH; y++)
        for (int u = 0; u < PK; u++) {
            double s = 0;
            for (int x = 0; x < PH; x++) s += g[y * PH + x] * cosv[u][x];
            rows[u][y] = s;
        }
    double c[PK * PK], sorted[PK * PK - 1];
    for (int v = 0; v < PK; v++)
        for (int u = 0; u < PK; u++) {
            double s = 0;
            for (int y = 0; y < PH; y++) s += rows[u][y] * cosv[v][y];
            c[v * PK + u] = s;
        }
    memcpy(sorted, c + 1, sizeof sorted); /* the DC term says only how bright: left out */
    qsort(sorted, PK * PK - 1, sizeof sorted[0], cmp_double);
    double med = (sorted[PK * PK / 2 - 1] + sorted[PK * PK / 2]) / 2;
    uint64_t hash = 0;
    for (int i = 0; i < PK * PK; i++)
        if (c[i] > med) hash |= (uint64_t)1 << i;
    return hash;
}

static uint64_t dhash_of(const double *g) /* 9 x 8 */
{
    uint64_t hash = 0;
    for (int y = 0; y < 8; y++)
        for (int x = 0; x < 8; x++)
            if (g[y * 9 + x] > g[y * 9 + x + 1]) hash |= (uint64_t)1 << (y * 8 + x);
    return hash;
}

static void hsv_hist(const media_rgb *img, float *out)
{
    double bins[MAIF_IMAGE_HSV_BINS] = {0};
    uint64_t npx = (uint64_t)img->width * img->height;
    /* at most about a million pixels are needed for stable fractions */
    uint32_t step = 1;
    while (npx / ((uint64_t)step * step) > (1u << 20)) step++;
    double total = 0;
    for (uint32_t y = 0; y < img->height; y += step) {
        const uint8_t *row = img->rgb + (size_t)y * img->width * 3;
        for (uint32_t x = 0; x < img->width; x += step) {
            const uint8_t *p = row + (size_t)x * 3;
            int r = p[0], g = p[1], b = p[2];
            int mx = r > g ? (r > b ? r : b) : (g > b ? g : b), mn = r < g ? (r < b ? r : b) : (g < b ? g : b);
            double v = mx / 255.0, s = mx ? (double)(mx - mn) / mx : 0, h = 0;
            if (mx != mn) {
                double d = mx - mn;
                if (mx == r) {
                    h = (g - b) / d;
                    if (h < 0) h += 6.0;
                }
                else if (mx == g) h = (b - r) / d + 2.0;
                else h = (r - g) / d + 4.0;
                h /= 6.0; /* [0, 1) */
            }
            int hb = (int)(h * 8), sb = (int)(s * 3), vb = (int)(v * 3);
            if (hb > 7) hb = 7;
            if (sb > 2) sb = 2;
            if (vb > 2) vb = 2;
            bins[hb * 9 + sb * 3 + vb] += 1;
            total += 1;
        }
    }
    for (int i = 0; i < MAIF_IMAGE_HSV_BINS; i++) out[i] = (float)(bins[i] / total);
}

static void hog_of(const double *g, float *out) /* HOG_SIZE x HOG_SIZE luma */
{
    double h[MAIF_IMAGE_HOG_BINS] = {0};
    for (int y = 1; y < HOG_SIZE - 1; y++)
        for (int x = 1; x < HOG_SIZE - 1; x++) {
            double gx = g[y * HOG_SIZE + x + 1] - g[y * HOG_SIZE + x - 1];
            double gy = g[(y + 1) * HOG_SIZE + x] - g[(y - 1) * HOG_SIZE + x];
            double mag = sqrt(gx * gx + gy * gy);
            if (mag == 0) continue;
            double ang = atan2(gy, gx); /* (-pi, pi] -> unsigned [0, pi) */
            if (ang < 0) ang += M_PI;
            if (ang >= M_PI) ang -= M_PI;
            double pos = ang / M_PI * HOG_ORIENT - 0.5; /* bin centres at (k + 0.5) * 20 degrees */
            int b0 = (int)floor(pos);
            double f = pos - b0;
            int cell = (y >= HOG_SIZE / 2) * 2 + (x >= HOG_SIZE / 2);
            h[cell * HOG_ORIENT + (b0 + HOG_ORIENT) % HOG_ORIENT] += mag * (1 - f);
            h[cell * HOG_ORIENT + (b0 + 1) % HOG_ORIENT] += mag * f;
        }
    double n = 0;
    for (int i = 0; i < MAIF_IMAGE_HOG_BINS; i++) n += h[i] * h[i];
    n = sqrt(n);
    for (int i = 0; i < MAIF_IMAGE_HOG_BINS; i++) out[i] = n > 0 ? (float)(h[i] / n) : 0.0f;
}

int media_image_features(const media_rgb *img, maif_image_features *out)
{
    memset(out, 0, sizeof *out);
    out->width = img->width;
    out->height = img->height;
    snprintf(out->format, sizeof out->format, "%s", img->format);
    rect whole = {0, 0, img->width, img->height}, r = content_rect(img);
    grid g = {0}, gc = {0};
    if (luma_grid(img, whole, &g) || luma_grid(img, r, &gc)) {
        maif_free(g.v);
        return maif_set_last_err(MAIF_ENOMEM, "out of memory analysing a %ux%u image", img->width, img->height);
    }
    double g32[PH * PH], c32[PH * PH], g9[9 * 8], g64[HOG_SIZE * HOG_SIZE];
    media_area_resize(g.v, g.w, g.h, g32, PH, PH);
    media_area_resize(gc.v, gc.w, gc.h, c32, PH, PH);
    media_area_resize(g.v, g.w, g.h, g9, 9, 8);
    media_area_resize(g.v, g.w, g.h, g64, HOG_SIZE, HOG_SIZE);
    maif_free(g.v);
    maif_free(gc.v);
    out->phash = phash_of(g32);
    out->phash_content = phash_of(c32);
    out->dhash = dhash_of(g9);
    hog_of(g64, out->hog);
    hsv_hist(img, out->hsv);
    return 0;
}
