/*
 * codec_name.c — the names of the library's codecs, as the CLI and JSONL
 * "compress" keys spell them (maif_codec_parse, maif_codec_name in maif.h):
 * one parser, so every spelling means the same everywhere.
 */
#include <stdlib.h>
#include <string.h>

#include "codec/codecs.h"
#include "util/common.h"

/* A decimal number in [lo, hi], the whole string. */
static int number(const char *s, long lo, long hi, int *out)
{
    if (!*s || strlen(s) > 6) return -1;
    for (const char *p = s; *p; p++)
        if (*p < '0' || *p > '9') return -1;
    long v = strtol(s, NULL, 10);
    if (v < lo || v > hi) return -1;
    *out = (int)v;
    return 0;
}

int maif_codec_parse(const char *s, int *codec, int *level)
{
    if (!s || !codec || !level) return maif_set_last_err(MAIF_EINVAL, "maif_codec_parse: NULL argument");
    int c = -1, l = 0;
    if (!strcmp(s, "none")) {
        c = MAIF_CODEC_NONE;
    } else if (!strcmp(s, "lz4")) {
        c = MAIF_CODEC_LZ4;
    } else if (!strcmp(s, "zstd")) {
        c = MAIF_CODEC_ZSTD;
    } else if (!strcmp(s, "zstd:fast")) {
        c = MAIF_CODEC_ZSTD;
        l = -1;
    } else if (!strncmp(s, "zstd:fast:", 10)) {
        if (number(s + 10, 1, -MAIF_ZSTD_LEVEL_MIN, &l) == 0) c = MAIF_CODEC_ZSTD, l = -l;
    } else if (!strcmp(s, "shuffle-zstd")) {
        c = MAIF_CODEC_SHUFFLE_ZSTD;
    } else if (!strncmp(s, "shuffle-zstd:", 13)) {
        if (number(s + 13, 1, MAIF_ZSTD_LEVEL_MAX, &l) == 0) c = MAIF_CODEC_SHUFFLE_ZSTD;
    } else if (!strncmp(s, "zstd:", 5)) {
        if (number(s + 5, 1, MAIF_ZSTD_LEVEL_MAX, &l) == 0) c = MAIF_CODEC_ZSTD;
    }
    if (c < 0)
        return maif_set_last_err(
            MAIF_EINVAL, "unknown compression '%.40s' (zstd, zstd:1..%d, zstd:fast, zstd:fast:1..%d, lz4, shuffle-zstd[:N], none)",
            s, MAIF_ZSTD_LEVEL_MAX, -MAIF_ZSTD_LEVEL_MIN);
    *codec = c;
    *level = l;
    return MAIF_OK;
}

const char *maif_codec_name(int codec)
{
    switch (codec) {
    case MAIF_CODEC_NONE: return "none";
    case MAIF_CODEC_ZSTD: return "zstd";
    case MAIF_CODEC_LZ4: return "lz4";
    case MAIF_CODEC_ZSTD_DICT: return "zstd-dict";
    case MAIF_CODEC_SHUFFLE_ZSTD: return "shuffle-zstd";
    default: return "unknown";
    }
}
