/*
 * reader.c — the public reader: one handle over either format.
 *
 * The file is memory-mapped read-only once; every view handed out points
 * into that map. Format-specific work lives in src/format (native) and
 * src/compat (MAIF 2.1); this file dispatches, and adds what both share:
 * the id table (built on first lookup) and version histories.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compat/v21.h"
#include "format/native.h"
#include "util/common.h"
#include "util/pyjson.h"

#define NONE UINT64_MAX

struct maif_reader {
    int format;
    const uint8_t *base;  /* the image: the map, or the caller's buffer */
    uint64_t size;
    void *map;            /* owned mapping, or NULL */
    char err[512];
    nat_view nat;         /* native */
    char *agent;          /* native: header "agent" (owned), or NULL */
    char *converted_from; /* native: header "converted_from" as JSON text (owned), or NULL */
    maif21 *v21;          /* 2.1 */
    /* id table: open addressing, built on first find/history */
    struct slot {
        uint8_t id[MAIF_ID_BYTES];
        uint64_t index; /* NONE: empty */
    } *slots;
    uint64_t nslots;
    uint64_t *succ; /* succ[i]: the latest block superseding block i, or NONE */
    /* record listing, built on first maif_reader_record (native) */
    maif_record *recs;
    uint64_t nrecs;
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

static void header_meta(maif_reader *r)
{
    const nat_header *h = &r->nat.hdr;
    if (!h->meta_size) return;
    json_t *o = json_loadb(h->meta, h->meta_size, JSON_REJECT_DUPLICATES, NULL);
    if (!o) return;
    const char *a = json_string_value(json_object_get(o, "agent"));
    if (a) r->agent = strdup(a);
    json_t *cf = json_object_get(o, "converted_from");
    if (cf) {
        maif_buf b = {0};
        if (maif_json_dump(cf, MAIF_JSON_COMPACT, &b) == MAIF_OK) r->converted_from = maif_buf_steal(&b, NULL);
        maif_buf_free(&b);
    }
    json_decref(o);
}

static int open_image(maif_reader *r)
{
    if (nat_detect(r->base, (size_t)r->size)) {
        r->format = MAIF_FORMAT_NATIVE;
        int rc = nat_view_open(&r->nat, r->base, r->size, r->err, sizeof r->err);
        if (rc == MAIF_OK) header_meta(r);
        return rc;
    }
    if (maif21_detect(r->base, (size_t)r->size)) {
        r->format = MAIF_FORMAT_V21;
        return maif21_open(&r->v21, r->base, (size_t)r->size, r->err, sizeof r->err);
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
    nat_view_free(&r->nat);
    maif21_close(r->v21);
    if (r->map) munmap(r->map, (size_t)r->size);
    free(r->agent);
    free(r->converted_from);
    free(r->slots);
    free(r->succ);
    free(r->recs);
    free(r);
}

const char *maif_reader_errmsg(const maif_reader *r) { return r ? r->err : ""; }
int maif_reader_format(const maif_reader *r) { return r ? r->format : 0; }

uint64_t maif_reader_count(const maif_reader *r)
{
    if (!r) return 0;
    return r->format == MAIF_FORMAT_NATIVE ? r->nat.last.blocks : maif21_count(r->v21);
}

int maif_reader_block(maif_reader *r, uint64_t index, maif_block *out)
{
    if (!r || !out) return MAIF_EINVAL;
    if (index >= maif_reader_count(r))
        return rfail(r, MAIF_ENOTFOUND, "block %llu does not exist (%llu blocks)", (unsigned long long)index,
                     (unsigned long long)maif_reader_count(r));
    if (r->format == MAIF_FORMAT_V21) return maif21_block(r->v21, index, out);
    uint64_t off;
    int rc = nat_view_block_offset(&r->nat, r->base, index, &off);
    if (rc) return rfail(r, MAIF_EFORMAT, "block %llu: index entry is damaged", (unsigned long long)index);
    return nat_block_view(r->base, r->nat.committed, off, index, out, r->err, sizeof r->err);
}

int maif_reader_info(maif_reader *r, maif_info *out)
{
    if (!r || !out) return MAIF_EINVAL;
    if (r->format == MAIF_FORMAT_V21) return maif21_info(r->v21, out);
    memset(out, 0, sizeof *out);
    out->format = MAIF_FORMAT_NATIVE;
    out->version_major = rd16le(r->base + NH_READ_VER);
    out->version_minor = 0;
    out->file_size = r->nat.committed;
    out->torn_bytes = r->nat.torn;
    out->block_count = r->nat.last.blocks;
    out->commit_count = r->nat.commits;
    out->created_us = r->nat.hdr.created;
    out->modified_us = r->nat.last.timestamp;
    memcpy(out->file_id, r->nat.hdr.file_id, MAIF_ID_BYTES);
    out->agent = r->agent ? r->agent : "";
    memcpy(out->signer, r->nat.last.signer, MAIF_PUBKEY_BYTES);
    memcpy(out->merkle_root, r->nat.last.merkle, MAIF_HASH_BYTES);
    out->converted_from = r->converted_from ? r->converted_from : "";
    return MAIF_OK;
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

static int build_records(maif_reader *r)
{
    if (r->recs) return MAIF_OK;
    uint64_t cap = 64, n = 0, blocks = 0;
    maif_record *recs = malloc(cap * sizeof *recs);
    if (!recs) return rfail(r, MAIF_ENOMEM, "out of memory");
    uint64_t off = r->nat.hdr.header_size;
    while (off < r->nat.committed) {
        nat_rec rec;
        int torn;
        if (nat_rec_parse(r->base, r->nat.committed, off, &rec, &torn, r->err, sizeof r->err) != MAIF_OK) {
            free(recs);
            return MAIF_EFORMAT;
        }
        if (n == cap) {
            maif_record *p = realloc(recs, 2 * cap * sizeof *recs);
            if (!p) {
                free(recs);
                return rfail(r, MAIF_ENOMEM, "out of memory");
            }
            recs = p;
            cap *= 2;
        }
        int is_block = memcmp(rec.tag, NAT_TAG_BLOCK, 4) == 0;
        const char *kind = is_block                                 ? "block"
                           : memcmp(rec.tag, NAT_TAG_INDEX, 4) == 0 ? "index"
                           : memcmp(rec.tag, NAT_TAG_DIR, 4) == 0   ? "directory"
                                                                    : "commit";
        recs[n++] = (maif_record){kind,
                                  off, rec.end - off, is_block ? (int64_t)blocks++ : -1, rec.type};
        off = rec.end;
    }
    r->recs = recs;
    r->nrecs = n;
    return MAIF_OK;
}

int maif_reader_record(maif_reader *r, uint64_t i, maif_record *out)
{
    if (!r || !out) return MAIF_EINVAL;
    if (r->format == MAIF_FORMAT_V21) return maif21_record(r->v21, i, out);
    if (i == 0) {
        *out = (maif_record){"header", 0, r->nat.hdr.header_size, -1, 0};
        return MAIF_OK;
    }
    int rc = build_records(r);
    if (rc) return rc;
    if (i - 1 >= r->nrecs) return MAIF_ENOTFOUND;
    *out = r->recs[i - 1];
    return MAIF_OK;
}
