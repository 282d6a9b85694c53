/*
 * misc.c — error text, hex, time and type-name helpers shared by all layers.
 */
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "util/alloc.h"
#include "util/common.h"

unsigned maif_version(void) { return MAIF_VERSION_NUMBER; }
const char *maif_version_string(void) { return MAIF_VERSION_STRING; }

const char *maif_strerror(int code)
{
    switch (code) {
    case MAIF_OK: return "success";
    case MAIF_EINVAL: return "invalid argument";
    case MAIF_ENOMEM: return "out of memory";
    case MAIF_EIO: return "I/O error";
    case MAIF_ENOTFOUND: return "not found";
    case MAIF_EFORMAT: return "malformed or corrupt artifact";
    case MAIF_EVERSION: return "unsupported format version";
    case MAIF_EVERIFY: return "verification failed";
    case MAIF_ELOCKED: return "artifact is locked by another writer";
    case MAIF_ESTATE: return "operation not valid in this state";
    case MAIF_ELIMIT: return "limit exceeded";
    case MAIF_EKEY: return "bad key";
    case MAIF_EJSON: return "metadata is not a valid JSON object";
    case MAIF_EEXIST: return "file exists";
    case MAIF_EACCESS: return "access denied";
    case MAIF_EUNSUPPORTED: return "unsupported feature";
    default: return "unknown error";
    }
}

int maif_set_err(char *buf, size_t cap, int code, const char *fmt, ...)
{
    if (buf && cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, cap, fmt, ap);
        va_end(ap);
    }
    return code;
}

static _Thread_local char g_last_err[512];

const char *maif_last_errmsg(void) { return g_last_err; }

int maif_set_last_err(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g_last_err, sizeof g_last_err, fmt, ap);
    va_end(ap);
    return code;
}

uint64_t maif_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

char *maif_hex(const uint8_t *bytes, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 15];
    }
    out[2 * n] = 0;
    return out;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int maif_unhex(const char *hex, uint8_t *out, size_t n)
{
    if (!hex || !out || strlen(hex) != 2 * n)
        return maif_set_last_err(MAIF_EINVAL, "not %zu hex digits", 2 * n);
    for (size_t i = 0; i < n; i++) {
        int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) return maif_set_last_err(MAIF_EINVAL, "not a hex digit at position %zu", 2 * i);
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return MAIF_OK;
}

static const struct {
    const char *name;
    uint32_t type;
} type_names[] = {
    {"text", MAIF_TYPE_TEXT},       {"embedding", MAIF_TYPE_EMBEDDING}, {"image", MAIF_TYPE_IMAGE},
    {"audio", MAIF_TYPE_AUDIO},     {"video", MAIF_TYPE_VIDEO},         {"knowledge", MAIF_TYPE_KNOWLEDGE},
    {"binary", MAIF_TYPE_BINARY},   {"meta", MAIF_TYPE_META},           {"json", MAIF_TYPE_JSON},
};

int maif_type_parse(const char *name, uint32_t *type)
{
    if (!name || !type) return maif_set_last_err(MAIF_EINVAL, "maif_type_parse: NULL argument");
    for (size_t i = 0; i < sizeof type_names / sizeof type_names[0]; i++)
        if (strcmp(name, type_names[i].name) == 0) {
            *type = type_names[i].type;
            return MAIF_OK;
        }
    if (strlen(name) == 4) {
        for (int i = 0; i < 4; i++)
            if (name[i] < 0x21 || name[i] > 0x7e)
                return maif_set_last_err(MAIF_EINVAL, "a four-character type must be printable ASCII");
        *type = MAIF_FOURCC(name[0], name[1], name[2], name[3]);
        return MAIF_OK;
    }
    return maif_set_last_err(MAIF_EINVAL, "unknown block type \"%.40s\"", name);
}

const char *maif_type_name(uint32_t type)
{
    for (size_t i = 0; i < sizeof type_names / sizeof type_names[0]; i++)
        if (type_names[i].type == type) return type_names[i].name;
    return NULL;
}

char *maif_type_fourcc(uint32_t type, char out[5])
{
    for (int i = 0; i < 4; i++) {
        unsigned c = (type >> (24 - 8 * i)) & 0xff;
        out[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    out[4] = 0;
    return out;
}
