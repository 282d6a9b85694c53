/*
 * reader.c — the public reader: one handle over either format.
 *
 * The file is memory-mapped read-only once; every view handed out points
 * into that map. Format-specific work lives behind each format's table of
 * operations (src/format/format.h); this file finds the format, dispatches,
 * and adds what every format shares: the id table (built on first lookup)
 * and version histories.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/api.h"
#include "format/format.h"
#include "util/common.h"

#define NONE UINT64_MAX

struct maif_reader {
    const maif_format_ops *ops; /* the file's format */
    void *st;             /* that format's state */
    const uint8_t *base;  /* the image: the map, or the caller's buffer */
    uint64_t size;
    void *map;            /* owned mapping, or NULL */
    char err[512];
    /* id table: open addressing, built on first find/history */
    struct slot {
        uint8_t id[MAIF_ID_BYTES];
        uint64_t index; /* NONE: empty */
    } *slots;
    uint64_t nslots;
    uint64_t *succ; /* succ[i]: the latest block superseding block i, or NONE */
};

static int rfail(maif_reader *r, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int rfail(maif_reader *r, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err, sizeof r->err, fmt, ap);
    va_end(ap);
    return code;
}

static int open_image(maif_reader *r)
{
    const maif_format_ops *ops = maif_format_detect(r->base, (size_t)r->size);
    if (ops) {
        r->ops = ops;
        return ops->open(&r->st, r->base, r->size, r->err, sizeof r->err);
    }
    if (r->size >= 4 && memcmp(r->base, "MAIF", 4) == 0)
        return rfail(r, MAIF_EVERSION, "a MAIF file of an unsupported version");
    return rfail(r, MAIF_EFORMAT, "not a MAIF artifact (unrecognised magic)");
}

static int finish_open(maif_reader **out, maif_reader *r, int rc, const char *path, char *errbuf, size_t cap)
{
    if (rc == MAIF_OK) {
        *out = r;
        return MAIF_OK;
    }
    if (path) maif_set_err(errbuf, cap, rc, "%s: %s", path, r->err[0] ? r->err : maif_strerror(rc));
    else maif_set_err(errbuf, cap, rc, "%s", r->err[0] ? r->err : maif_strerror(rc));
    maif_set_last_err(rc, "%s", r->err[0] ? r->err : maif_strerror(rc));
    r->ops = NULL; /* a failed open left no state */
    maif_reader_close(r);
    return rc;
}

int maif_reader_open_mem(maif_reader **out, const void *buf, size_t size, char *errbuf, size_t errbuf_cap)
{
    if (!out || (!buf && size)) return MAIF_EINVAL;
    *out = NULL;
    maif_reader *r = calloc(1, sizeof *r);
    if (!r) return MAIF_ENOMEM;
    r->base = buf;
    r->size = size;
    return finish_open(out, r, open_image(r), NULL, errbuf, errbuf_cap);
}

int maif_reader_open(maif_reader **out, const char *path, char *errbuf, size_t errbuf_cap)
{
    if (!out || !path) return MAIF_EINVAL;
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        int rc = errno == ENOENT ? MAIF_ENOTFOUND : MAIF_EIO;
        maif_set_last_err(rc, "%s: %s", path, strerror(errno));
        return maif_set_err(errbuf, errbuf_cap, rc, "%s: %s", path, strerror(errno));
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        maif_set_last_err(MAIF_EIO, "%s: not a regular file", path);
        return maif_set_err(errbuf, errbuf_cap, MAIF_EIO, "%s: not a regular file", path);
    }
    maif_reader *r = calloc(1, sizeof *r);
    if (!r) {
        close(fd);
        return MAIF_ENOMEM;
    }
    int rc = MAIF_OK;
    if (st.st_size == 0) {
        rc = rfail(r, MAIF_EFORMAT, "empty file");
    } else {
        void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
        if (m == MAP_FAILED) {
            rc = rfail(r, MAIF_EIO, "mmap: %s", strerror(errno));
        } else {
            r->map = m;
            r->base = m;
            r->size = (uint64_t)st.st_size;
            rc = open_image(r);
        }
    }
    close(fd);
    return finish_open(out, r, rc, path, errbuf, errbuf_cap);
}

void maif_reader_close(maif_reader *r)
{
    if (!r) return;
    if (r->ops && r->st) r->ops->close(r->st);
    if (r->map) munmap(r->map, (size_t)r->size);
    free(r->slots);
    free(r->succ);
    free(r);
}

const char *maif_reader_errmsg(const maif_reader *r) { return r ? r->err : ""; }
int maif_reader_format(const maif_reader *r) { return r && r->ops ? r->ops->id : 0; }

uint64_t maif_reader_count(const maif_reader *r)
{
    if (!r || !r->ops) return 0;
    return r->ops->count(r->st);
}

int maif_reader_block(maif_reader *r, uint64_t index, maif_block *out)
{
    if (!r || !out) return MAIF_EINVAL;
    if (index >= maif_reader_count(r))
        return rfail(r, MAIF_ENOTFOUND, "block %llu does not exist (%llu blocks)", (unsigned long long)index,
                     (unsigned long long)maif_reader_count(r));
    return r->ops->block(r->st, index, out, r->err, sizeof r->err);
}

int maif_reader_block_decoded_size(maif_reader *r, uint64_t index, size_t *size)
{
    if (!r || !size || !r->ops) return MAIF_EINVAL;
    if (index >= maif_reader_count(r))
        return rfail(r, MAIF_ENOTFOUND, "block %llu does not exist (%llu blocks)", (unsigned long long)index,
                     (unsigned long long)maif_reader_count(r));
    return r->ops->decode(r->st, index, NULL, 0, size, r->err, sizeof r->err);
}

int maif_reader_block_decode(maif_reader *r, uint64_t index, void *dst, size_t dst_capacity, size_t *written)
{
    if (!r || !written || (!dst && dst_capacity) || !r->ops) return MAIF_EINVAL;
    *written = 0;
    if (index >= maif_reader_count(r))
        return rfail(r, MAIF_ENOTFOUND, "block %llu does not exist (%llu blocks)", (unsigned long long)index,
                     (unsigned long long)maif_reader_count(r));
    if (dst) return r->ops->decode(r->st, index, dst, dst_capacity, written, r->err, sizeof r->err);
    /* no buffer: the op's size query, then the answer decode would give */
    size_t need = 0;
    int rc = r->ops->decode(r->st, index, NULL, 0, &need, r->err, sizeof r->err);
    if (rc) return rc;
    if (need) {
        *written = need;
        return rfail(r, MAIF_ELIMIT, "block %llu: the decoded payload needs %zu bytes, the buffer holds 0",
                     (unsigned long long)index, need);
    }
    return MAIF_OK;
}

int maif_reader_info(maif_reader *r, maif_info *out)
{
    if (!r || !out) return MAIF_EINVAL;
    return r->ops->info(r->st, out);
}

/* ---- id table and histories */

static uint64_t slot_of(const maif_reader *r, const uint8_t id[MAIF_ID_BYTES])
{
    uint64_t h;
    memcpy(&h, id, 8);
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 32;
    uint64_t i = h & (r->nslots - 1);
    while (r->slots[i].index != NONE && memcmp(r->slots[i].id, id, MAIF_ID_BYTES) != 0) i = (i + 1) & (r->nslots - 1);
    return i;
}

static int build_ids(maif_reader *r)
{
    if (r->slots) return MAIF_OK;
    uint64_t n = maif_reader_count(r), ns = 16;
    while (ns < 2 * n) ns *= 2;
    r->slots = malloc(ns * sizeof *r->slots);
    r->succ = malloc((n ? n : 1) * sizeof *r->succ);
    if (!r->slots || !r->succ) {
        free(r->slots);
        free(r->succ);
        r->slots = NULL;
        r->succ = NULL;
        return rfail(r, MAIF_ENOMEM, "out of memory building the id table");
    }
    r->nslots = ns;
    for (uint64_t i = 0; i < ns; i++) r->slots[i].index = NONE;
    maif_block b;
    for (uint64_t i = 0; i < n; i++) {
        r->succ[i] = NONE;
        if (maif_reader_block(r, i, &b) != MAIF_OK) continue;
        uint64_t s = slot_of(r, b.id);
        if (r->slots[s].index == NONE) { /* the first block with an id wins */
            memcpy(r->slots[s].id, b.id, MAIF_ID_BYTES);
            r->slots[s].index = i;
        }
    }
    for (uint64_t i = 0; i < n; i++) {
        if (maif_reader_block(r, i, &b) != MAIF_OK || !b.has_supersedes) continue;
        uint64_t p = r->slots[slot_of(r, b.supersedes)].index;
        if (p != NONE && p < i) r->succ[p] = i; /* later blocks win a fork */
    }
    return MAIF_OK;
}

int maif_reader_find(maif_reader *r, const uint8_t id[MAIF_ID_BYTES], uint64_t *index_out)
{
    if (!r || !id) return MAIF_EINVAL;
    int rc = build_ids(r);
    if (rc) return rc;
    uint64_t i = r->slots[slot_of(r, id)].index;
    if (i == NONE) {
        char hex[33];
        return rfail(r, MAIF_ENOTFOUND, "no block with id %s", maif_hex(id, MAIF_ID_BYTES, hex));
    }
    if (index_out) *index_out = i;
    return MAIF_OK;
}

int maif_reader_history(maif_reader *r, const uint8_t id[MAIF_ID_BYTES], uint64_t *indices, size_t cap, size_t *n)
{
    if (!r || !id || !n || (cap && !indices)) return MAIF_EINVAL;
    uint64_t i;
    int rc = maif_reader_find(r, id, &i);
    if (rc) return rc;
    uint64_t total = maif_reader_count(r), steps = 0;
    maif_block b;
    /* back to the oldest version; links only point backwards, so this ends */
    while (steps++ < total && maif_reader_block(r, i, &b) == MAIF_OK && b.has_supersedes) {
        uint64_t p = r->slots[slot_of(r, b.supersedes)].index;
        if (p == NONE || p >= i) break;
        i = p;
    }
    size_t k = 0;
    for (steps = 0; i != NONE && steps < total; steps++, i = r->succ[i]) {
        if (k < cap) indices[k] = i;
        k++;
    }
    *n = k;
    return MAIF_OK;
}

/* ---- record listing */

int maif_reader_record(maif_reader *r, uint64_t i, maif_record *out)
{
    if (!r || !out) return MAIF_EINVAL;
    return r->ops->record(r->st, i, out, r->err, sizeof r->err);
}

/* ---- for the rest of the API layer */

static int source_block(void *ctx, uint64_t i, maif_block *out) { return maif_reader_block(ctx, i, out); }
static int source_decode(void *ctx, uint64_t i, void *dst, size_t cap, size_t *written)
{
    return maif_reader_block_decode(ctx, i, dst, cap, written);
}

int maif_reader_source(maif_reader *r, maif_info *info, maif_block_source *src)
{
    int rc = maif_reader_info(r, info);
    if (rc) return rc;
    *src = (maif_block_source){.ctx = r,
                               .count = maif_reader_count(r),
                               .block = source_block,
                               .decode = source_decode,
                               .info = info,
                               .source_note = NULL};
    return MAIF_OK;
}
