/*
 * image_decode.c — PNG (libpng's simplified API) and JPEG (libjpeg-turbo)
 * into 8-bit RGB, bounded: the header's dimensions are checked against
 * MAIF_IMAGE_PIXELS_MAX before a pixel buffer exists, and libjpeg's memory,
 * scan count and warnings are capped (a progressive JPEG with thousands of
 * scans, or a truncated one, is an error rather than a slow or grey guess).
 */
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <jpeglib.h>
#include <png.h>

#include "media.h"
#include "util/alloc.h"
#include "util/common.h"

#define JPEG_SCANS_MAX 256          /* progressive JPEGs have ~10; thousands are a known DoS */
#define JPEG_MEMORY_MAX (512L << 20) /* libjpeg's own working memory */

static int too_big(uint64_t w, uint64_t h, const char *fmt)
{
    if (w == 0 || h == 0) return maif_set_last_err(MAIF_EFORMAT, "%s image with a zero dimension (%llux%llu)", fmt,
                                                   (unsigned long long)w, (unsigned long long)h);
    if (w * h > MAIF_IMAGE_PIXELS_MAX)
        return maif_set_last_err(MAIF_ELIMIT, "%s image of %llux%llu pixels is over the limit of %llu pixels", fmt,
                                 (unsigned long long)w, (unsigned long long)h,
                                 (unsigned long long)MAIF_IMAGE_PIXELS_MAX);
    return 0;
}

static int decode_png(const uint8_t *data, size_t size, media_rgb *img)
{
    png_image pi;
    memset(&pi, 0, sizeof pi);
    pi.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&pi, data, size)) {
        int rc = maif_set_last_err(MAIF_EFORMAT, "damaged PNG: %s", pi.message);
        png_image_free(&pi);
        return rc;
    }
    int rc = too_big(pi.width, pi.height, "PNG");
    if (rc) {
        png_image_free(&pi);
        return rc;
    }
    pi.format = PNG_FORMAT_RGB;
    size_t n = (size_t)pi.width * pi.height * 3;
    uint8_t *buf = maif_malloc(n);
    if (!buf) {
        png_image_free(&pi);
        return maif_set_last_err(MAIF_ENOMEM, "out of memory for a %ux%u image", pi.width, pi.height);
    }
    png_color white = {255, 255, 255};
    if (!png_image_finish_read(&pi, &white, buf, 0, NULL)) {
        rc = maif_set_last_err(MAIF_EFORMAT, "damaged PNG: %s", pi.message);
        png_image_free(&pi);
        maif_free(buf);
        return rc;
    }
    img->width = pi.width;
    img->height = pi.height;
    img->rgb = buf;
    img->format = "png";
    png_image_free(&pi);
    return 0;
}

typedef struct jerr {
    struct jpeg_error_mgr mgr;
    jmp_buf jb;
    char msg[JMSG_LENGTH_MAX];
    int code;
} jerr;

static void j_error_exit(j_common_ptr c)
{
    jerr *e = (jerr *)c->err;
    (*c->err->format_message)(c, e->msg);
    if (!e->code) e->code = MAIF_EFORMAT;
    longjmp(e->jb, 1);
}

/* Warnings (corrupt data, a premature end) are errors here. */
static void j_emit(j_common_ptr c, int level)
{
    if (level < 0) j_error_exit(c);
}

static void j_progress(j_common_ptr c)
{
    j_decompress_ptr d = (j_decompress_ptr)c;
    if (d->input_scan_number > JPEG_SCANS_MAX) {
        jerr *e = (jerr *)c->err;
        snprintf(e->msg, sizeof e->msg, "more than %d scans", JPEG_SCANS_MAX);
        e->code = MAIF_ELIMIT;
        longjmp(e->jb, 1);
    }
}

static int decode_jpeg(const uint8_t *data, size_t size, media_rgb *img)
{
    struct jpeg_decompress_struct d;
    jerr e;
    memset(&e, 0, sizeof e);
    struct jpeg_progress_mgr prog = {.progress_monitor = j_progress};
    uint8_t *volatile buf = NULL;
    d.err = jpeg_std_error(&e.mgr);
    e.mgr.error_exit = j_error_exit;
    e.mgr.emit_message = j_emit;
    if (setjmp(e.jb)) {
        jpeg_destroy_decompress(&d);
        maif_free(buf);
        if (e.code == MAIF_ELIMIT) return maif_set_last_err(MAIF_ELIMIT, "JPEG: %s", e.msg);
        return maif_set_last_err(MAIF_EFORMAT, "damaged JPEG: %s", e.msg);
    }
    jpeg_create_decompress(&d);
    d.mem->max_memory_to_use = JPEG_MEMORY_MAX;
    d.progress = &prog;
    jpeg_mem_src(&d, data, (unsigned long)size);
    (void)jpeg_read_header(&d, TRUE);
    int rc = too_big(d.image_width, d.image_height, "JPEG");
    if (rc) {
        jpeg_destroy_decompress(&d);
        return rc;
    }
    d.out_color_space = JCS_RGB;
    (void)jpeg_start_decompress(&d);
    if (d.output_components != 3) {
        snprintf(e.msg, sizeof e.msg, "unexpected %d output components", d.output_components);
        longjmp(e.jb, 1);
    }
    size_t stride = (size_t)d.output_width * 3;
    buf = maif_malloc(stride * d.output_height);
    if (!buf) {
        jpeg_destroy_decompress(&d);
        return maif_set_last_err(MAIF_ENOMEM, "out of memory for a %ux%u image", d.output_width, d.output_height);
    }
    while (d.output_scanline < d.output_height) {
        JSAMPROW row = buf + stride * d.output_scanline;
        (void)jpeg_read_scanlines(&d, &row, 1);
    }
    (void)jpeg_finish_decompress(&d);
    img->width = d.output_width;
    img->height = d.output_height;
    img->rgb = buf;
    img->format = "jpeg";
    jpeg_destroy_decompress(&d);
    return 0;
}

int media_image_decode(const uint8_t *data, size_t size, media_rgb *img)
{
    static const uint8_t png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    memset(img, 0, sizeof *img);
    if (size >= 8 && memcmp(data, png_sig, 8) == 0) return decode_png(data, size, img);
    if (size >= 3 && data[0] == 0xff && data[1] == 0xd8 && data[2] == 0xff) return decode_jpeg(data, size, img);
    return maif_set_last_err(MAIF_EUNSUPPORTED, "not a PNG or JPEG image");
}
