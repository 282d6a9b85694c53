/*
 * native_read.c — finding the committed part of a native image.
 *
 * The fast path reads the 16-byte tail at the end of the file, which points
 * at the last commit record; the commit lists the index segments, so block
 * i is two loads away and opening costs the same at any size. When the
 * tail is missing or does not check out (a crash left a torn batch, or the
 * index is damaged), a scan walks the records from the header, follows the
 * hash chain, and keeps everything up to the last commit it can vouch for,
 * building the block index in memory as it goes.
 */
#include <stdlib.h>
#include <string.h>

#include "codec/codec.h"
#include "crypto/crypto.h"
#include "format/native/native.h"
#include "util/alloc.h"
#include "util/common.h"

/* Reads the head (first, count) of the index record at off, which must be
 * a sound leaf or directory (a directory's first leaf starting at its own
 * first block, and no more leaves than blocks). Returns the record kind,
 * or 0 if it is neither or is malformed. */
static int index_head(const uint8_t *base, uint64_t limit, uint64_t off, uint64_t *first, uint64_t *count,
                      nat_rec *r)
{
    int torn;
    nat_index_head h;
    if (nat_rec_parse(base, limit, off, r, &torn, NULL, 0) != MAIF_OK || r->ext_size != 0 || r->meta_size != 0)
        return 0;
    int kind = nat_index_head_parse(base, r, &h);
    if (kind == NAT_KIND_DIR && (h.third > h.count || rd64le(base + r->payload_off + NAT_DIR_HEAD + 8) != h.first))
        return 0;
    *first = h.first;
    *count = h.count;
    return kind;
}

/* Checks that the commit's segments tile [0, blocks) and point at index
 * records (leaves or directories) whose heads agree. O(segments); the
 * leaves a directory lists are checked when a lookup reaches them. */
static int check_segments(const uint8_t *base, uint64_t limit, const nat_header *h, const nat_commit *c, char *err,
                          size_t errcap)
{
    uint64_t next = 0;
    for (uint32_t i = 0; i < c->nseg; i++) {
        const nat_seg *s = &c->seg[i];
        nat_rec r;
        uint64_t first, count;
        if (s->off < h->header_size || s->first != next || s->count == 0 ||
            !index_head(base, limit, s->off, &first, &count, &r) || first != s->first || count != s->count ||
            s->count > UINT64_MAX - s->first)
            return maif_set_err(err, errcap, MAIF_EFORMAT, "commit at offset %llu: index segment %u is damaged",
                                (unsigned long long)c->off, i);
        next = s->first + s->count;
    }
    if (next != c->blocks)
        return maif_set_err(err, errcap, MAIF_EFORMAT, "commit at offset %llu: index covers %llu of %llu blocks",
                            (unsigned long long)c->off, (unsigned long long)next, (unsigned long long)c->blocks);
    return MAIF_OK;
}

static int open_from_tail(nat_view *v, const uint8_t *base, uint64_t size, char *err, size_t errcap)
{
    if (size < (uint64_t)v->hdr.header_size + NAT_TAIL_SIZE)
        return maif_set_err(err, errcap, MAIF_EFORMAT, "file too short for a commit");
    const uint8_t *tail = base + size - NAT_TAIL_SIZE;
    if (memcmp(tail + 8, NAT_TAIL_MAGIC, 8) != 0)
        return maif_set_err(err, errcap, MAIF_EFORMAT, "no commit tail at the end of the file");
    uint64_t off = rd64le(tail);
    nat_rec r;
    int torn;
    if (off < v->hdr.header_size || off % 8 != 0) return maif_set_err(err, errcap, MAIF_EFORMAT, "bad tail offset");
    int rc = nat_rec_parse(base, size, off, &r, &torn, err, errcap);
    if (rc) return rc;
    if (r.end != size) return maif_set_err(err, errcap, MAIF_EFORMAT, "tail commit does not end the file");
    rc = nat_commit_parse(base, &r, &v->last, err, errcap);
    if (rc) return rc;
    rc = check_segments(base, size, &v->hdr, &v->last, err, errcap);
    if (rc) return rc;
    v->committed = size;
    v->torn = 0;
    v->commits = v->last.seq + 1;
    return MAIF_OK;
}

static int open_by_scan(nat_view *v, const uint8_t *base, uint64_t size, char *err, size_t errcap)
{
    uint8_t prev[32];
    maif_sha256(base, v->hdr.header_size, prev);
    uint64_t off = v->hdr.header_size, nblocks = 0, cap = 0, ncommit = 0;
    uint64_t *offs = NULL;
    int have_commit = 0;
    while (off < size) {
        nat_rec r;
        int torn;
        if (nat_rec_parse(base, size, off, &r, &torn, NULL, 0) != MAIF_OK) break;
        uint8_t h[32];
        nat_rec_hash(base, &r, prev, h);
        if (memcmp(h, r.hdr + NR_RECORD_HASH, 32) != 0) break;
        if (memcmp(r.tag, NAT_TAG_BLOCK, 4) == 0) {
            if (nblocks == cap) {
                uint64_t ncap = cap ? cap * 2 : 1024;
                uint64_t *p = maif_realloc(offs, ncap * sizeof *offs);
                if (!p) {
                    maif_free(offs);
                    return maif_set_err(err, errcap, MAIF_ENOMEM, "out of memory while scanning");
                }
                offs = p;
                cap = ncap;
            }
            offs[nblocks++] = off;
        } else if (memcmp(r.tag, NAT_TAG_COMMIT, 4) == 0) {
            nat_commit c;
            if (nat_commit_parse(base, &r, &c, NULL, 0) != MAIF_OK || c.blocks != nblocks || c.seq != ncommit) break;
            uint8_t ch[32];
            nat_commit_content_hash_at(base + r.payload_off, r.stored_size, c.sig_off, c.sig_len, ch);
            if (memcmp(ch, r.hdr + NR_CONTENT_HASH, 32) != 0) break;
            v->last = c;
            v->committed = r.end;
            have_commit = 1;
            ncommit++;
        }
        memcpy(prev, h, 32);
        off = r.end;
    }
    if (!have_commit) {
        maif_free(offs);
        return maif_set_err(err, errcap, MAIF_EFORMAT, "no valid commit found (file damaged before its first commit)");
    }
    v->offsets = offs;
    v->scanned = 1;
    v->torn = size - v->committed;
    v->commits = ncommit;
    return MAIF_OK;
}

int nat_view_open(nat_view *v, const uint8_t *base, uint64_t size, char *err, size_t errcap)
{
    memset(v, 0, sizeof *v);
    int rc = nat_header_parse(base, size, &v->hdr, err, errcap);
    if (rc) return rc;
    if (open_from_tail(v, base, size, NULL, 0) == MAIF_OK) return MAIF_OK;
    memset(&v->last, 0, sizeof v->last);
    return open_by_scan(v, base, size, err, errcap);
}

int nat_view_open_after(nat_view *v, const uint8_t *base, uint64_t size, uint64_t from, char *err, size_t errcap)
{
    memset(v, 0, sizeof *v);
    int rc = nat_header_parse(base, size, &v->hdr, err, errcap);
    if (rc) return rc;
    if (open_from_tail(v, base, size, NULL, 0) == MAIF_OK) return MAIF_OK;
    /* a writer is mid-batch: walk the record heads after the commit the
     * caller knows to the last commit that ends before the unfinished
     * part, and open the image cut there, from its tail */
    uint64_t off = from, last = 0;
    if (from >= v->hdr.header_size && from <= size && from % 8 == 0)
        while (off < size) {
            nat_rec r;
            int torn;
            if (nat_rec_parse(base, size, off, &r, &torn, NULL, 0) != MAIF_OK || r.end <= off) break;
            if (memcmp(r.tag, NAT_TAG_COMMIT, 4) == 0) last = r.end;
            off = r.end;
        }
    if (!last && from < size) last = from; /* no commit since: the known one is still the last */
    memset(&v->last, 0, sizeof v->last);
    if (last && open_from_tail(v, base, last, NULL, 0) == MAIF_OK) {
        v->torn = size - last;
        return MAIF_OK;
    }
    memset(&v->last, 0, sizeof v->last);
    return open_by_scan(v, base, size, err, errcap);
}

void nat_view_free(nat_view *v)
{
    maif_free(v->offsets);
    v->offsets = NULL;
}

/* Offset of block i from the leaf at off (which must cover i). */
static int leaf_lookup(const nat_view *v, const uint8_t *base, uint64_t off, uint64_t i, uint64_t *out)
{
    nat_rec r;
    uint64_t first, count;
    if (off < v->hdr.header_size || index_head(base, v->committed, off, &first, &count, &r) != NAT_KIND_INDEX ||
        i < first || i - first >= count)
        return MAIF_EFORMAT;
    const uint8_t *p = base + r.payload_off;
    uint64_t o = rd64le(p + 16) + rd32le(p + NAT_INDEX_HEAD + 4 * (i - first));
    if (o < rd64le(p + 16) || o < v->hdr.header_size || o % 8 != 0 || !in_bounds(o, NAT_REC_HEADER, v->committed))
        return MAIF_EFORMAT;
    *out = o;
    return MAIF_OK;
}

/* The offset of the leaf record that, by the view's segments, maps block
 * i (< v->last.blocks; not for a scanned view). */
static uint64_t leaf_of(const nat_view *v, const uint8_t *base, uint64_t i)
{
    /* Segments are few (<= 64) and sorted: binary search. */
    uint32_t lo = 0, hi = v->last.nseg;
    while (hi - lo > 1) {
        uint32_t mid = (lo + hi) / 2;
        if (v->last.seg[mid].first <= i) lo = mid;
        else hi = mid;
    }
    const nat_seg *s = &v->last.seg[lo];
    if (base[s->off + NR_KIND] == NAT_KIND_INDEX) return s->off;
    /* A directory (its head was checked at open): binary search its leaves
     * by first block; the leaf itself must then cover i (leaf_lookup). */
    const uint8_t *p = base + s->off + NAT_REC_HEADER;
    uint64_t n = rd64le(p + 16), a = 0, b = n;
    const uint8_t *e = p + NAT_DIR_HEAD;
    while (b - a > 1) {
        uint64_t mid = a + (b - a) / 2;
        if (rd64le(e + NAT_DIR_ENTRY * mid + 8) <= i) a = mid;
        else b = mid;
    }
    return rd64le(e + NAT_DIR_ENTRY * a);
}

int nat_view_block_offset(const nat_view *v, const uint8_t *base, uint64_t i, uint64_t *off)
{
    if (i >= v->last.blocks) return MAIF_ENOTFOUND;
    if (v->offsets) {
        *off = v->offsets[i];
        return MAIF_OK;
    }
    return leaf_lookup(v, base, leaf_of(v, base, i), i, off);
}

int nat_view_leaf_offset(const nat_view *v, const uint8_t *base, uint64_t i, uint64_t *off)
{
    if (i >= v->last.blocks || v->offsets) return MAIF_ENOTFOUND;
    uint64_t o = leaf_of(v, base, i), b;
    int rc = leaf_lookup(v, base, o, i, &b); /* checks that the leaf is sound and covers i */
    if (rc) return rc;
    *off = o;
    return MAIF_OK;
}

int nat_block_rec(const uint8_t *base, uint64_t limit, uint64_t off, uint64_t index, nat_rec *r, char *err,
                  size_t errcap)
{
    int torn;
    int rc = nat_rec_parse(base, limit, off, r, &torn, err, errcap);
    if (rc) return rc;
    if (memcmp(r->tag, NAT_TAG_BLOCK, 4) != 0)
        return maif_set_err(err, errcap, MAIF_EFORMAT, "block %llu: index points at offset %llu, not a block",
                            (unsigned long long)index, (unsigned long long)off);
    return MAIF_OK;
}

int nat_block_view(const uint8_t *base, uint64_t limit, uint64_t off, uint64_t index, maif_block *out, char *err,
                   size_t errcap)
{
    nat_rec r;
    int rc = nat_block_rec(base, limit, off, index, &r, err, errcap);
    if (rc) return rc;
    /* Any codec or cipher id is shown as it is: the view is of the stored
     * bytes, and whether they can be decoded is nat_block_decode's
     * question (the registry's answer). */
    memset(out, 0, sizeof *out);
    out->index = index;
    out->offset = off;
    out->type = r.type;
    out->timestamp_us = r.timestamp;
    memcpy(out->id, r.hdr + NR_ID, MAIF_ID_BYTES);
    memcpy(out->content_hash, r.hdr + NR_CONTENT_HASH, MAIF_HASH_BYTES);
    nat_ext ext;
    if (nat_ext_parse(base + r.ext_off, r.ext_size, &ext) != MAIF_OK)
        return maif_set_err(err, errcap, MAIF_EFORMAT, "block %llu at offset %llu: malformed extension area (%s at +%zu)",
                            (unsigned long long)index, (unsigned long long)off, maif_tlv_problem_str(ext.rep.problem),
                            ext.rep.off);
    if (ext.has_supersedes) memcpy(out->supersedes, ext.supersedes, MAIF_ID_BYTES);
    out->has_supersedes = ext.has_supersedes;
    out->flags = r.flags;
    out->payload = base + r.payload_off;
    out->payload_size = (size_t)r.stored_size;
    out->meta = r.meta_size ? (const char *)base + r.meta_off : NULL;
    out->meta_size = r.meta_size;
    out->codec = r.codec;
    out->cipher = r.cipher;
    return MAIF_OK;
}

/* Fields of a record header that the writer could have been writing, as
 * far as n bytes of it are present (docs/FORMAT.md §9). A field is judged
 * only once all its bytes are there, except that a field that must be zero
 * must be zero in every byte present. */
static int header_prefix_ok(const uint8_t *p, uint64_t n)
{
    if (n == 0) return 1;
    uint8_t kind = p[NR_KIND];
    int blk = kind == NAT_KIND_BLOCK;
    if (!blk && kind != NAT_KIND_INDEX && kind != NAT_KIND_DIR && kind != NAT_KIND_COMMIT && kind != NAT_KIND_NODES)
        return 0;
    if (n > NR_VERSION && p[NR_VERSION] != NAT_REC_VERSION &&
        !(kind == NAT_KIND_COMMIT && p[NR_VERSION] == NAT_REC_VERSION_SIGALG))
        return 0;
    /* fields zero in every index, directory, node and commit record: flags, type,
     * meta_size, ext_size, id */
    static const struct { unsigned at, len; } zero_unless_block[] = {
        {NR_FLAGS, 2}, {NR_TYPE, 4}, {NR_META_SIZE, 4}, {NR_EXT_SIZE, 2}, {NR_ID, MAIF_ID_BYTES}};
    if (!blk)
        for (size_t i = 0; i < sizeof zero_unless_block / sizeof zero_unless_block[0]; i++) {
            unsigned at = zero_unless_block[i].at, len = zero_unless_block[i].len;
            if (n > at && !all_zero(p + at, (size_t)(n - at < len ? n - at : len))) return 0;
        }
    uint16_t flags = n >= NR_FLAGS + 2 ? rd16le(p + NR_FLAGS) : 0;
    if (blk && (flags & ~NAT_REC_F_KNOWN)) return 0;
    if (blk && n >= NR_TYPE + 4 && rd32be(p + NR_TYPE) == 0) return 0;
    if (n >= NR_STORED_SIZE + 8 && rd64le(p + NR_STORED_SIZE) > NAT_PAYLOAD_MAX) return 0;
    if (n >= NR_META_SIZE + 4 && rd32le(p + NR_META_SIZE) > NAT_META_MAX) return 0;
    if (blk && n >= NR_EXT_SIZE + 2 && (flags & NAT_REC_F_SUPERSEDES) && rd16le(p + NR_EXT_SIZE) < 4 + MAIF_ID_BYTES)
        return 0;
    /* codec and cipher: values this library knows (and so could have been
     * writing: zstd, lz4, the AEADs, or a registered stage) */
    if (n > NR_CODEC && !maif_codec_known(p[NR_CODEC])) return 0;
    if (n > NR_CIPHER && !maif_cipher_known(p[NR_CIPHER])) return 0;
    return 1;
}

/* A write the kernel cut short (the process killed, the machine down)
 * stops at a page boundary of the file: in [off, end), the place q where
 * the bytes that were written end, when q is 4096-aligned, off < q < end
 * and everything from q to end is zero; else 0. */
static uint64_t page_cut(const uint8_t *base, uint64_t off, uint64_t end)
{
    uint64_t l = end;
    while (l > off && base[l - 1] == 0) l--;
    if (l == off) return 0;
    uint64_t q = (l + NAT_WRITE_PAGE - 1) & ~(uint64_t)(NAT_WRITE_PAGE - 1);
    return q < end ? q : 0;
}

int nat_rec_head_torn(const uint8_t *base, const nat_rec *r)
{
    uint64_t q = page_cut(base, r->off, r->meta_off + r->meta_size);
    if (!q) return 0;
    uint64_t n = q - r->off;
    return header_prefix_ok(base + r->off, n < NAT_REC_HEADER ? n : NAT_REC_HEADER);
}

int nat_rec_torn_at(const uint8_t *base, uint64_t size, uint64_t off, const uint8_t prev[32])
{
    if (off >= size) return 1;
    uint64_t n = size - off, hn = n < NAT_REC_HEADER ? n : NAT_REC_HEADER;
    const uint8_t *p = base + off;
    if (all_zero(p, (size_t)hn)) return 1; /* a header never written (its payload may follow) */
    uint64_t q = page_cut(base, off, off + hn);
    if (q) return header_prefix_ok(p, q - off); /* a header whose write stopped at a page boundary */
    if (!header_prefix_ok(p, hn)) return 0;
    if (n < NAT_REC_HEADER) return 1;
    nat_rec r;
    int truncated;
    if (nat_rec_parse(base, size, off, &r, &truncated, NULL, 0) == MAIF_OK || !truncated) return 0;
    /* A complete header whose record runs past the end: when its extensions
     * and metadata are all there, they must chain. */
    if (prev && r.meta_off + r.meta_size <= size) {
        uint8_t h[32];
        maif_sha256_parts(h, prev, 32, r.hdr, NAT_REC_HASHED, base + r.ext_off, r.ext_size, base + r.meta_off,
                          r.meta_size);
        if (memcmp(h, r.hdr + NR_RECORD_HASH, 32) != 0) return 0;
    }
    return 1;
}

int nat_tail_is_torn(const uint8_t *base, uint64_t size, const nat_view *v)
{
    uint8_t prev[32];
    memcpy(prev, v->last.record_hash, 32);
    uint64_t off = v->committed;
    while (off < size) {
        nat_rec r;
        int truncated;
        if (nat_rec_parse(base, size, off, &r, &truncated, NULL, 0) != MAIF_OK)
            return nat_rec_torn_at(base, size, off, prev);
        if (memcmp(r.tag, NAT_TAG_COMMIT, 4) == 0) return 0; /* a complete commit the open rejected */
        uint8_t h[32];
        nat_rec_hash(base, &r, prev, h);
        if (memcmp(h, r.hdr + NR_RECORD_HASH, 32) != 0) {
            if (!nat_rec_head_torn(base, &r)) return 0;
            memcpy(h, r.hdr + NR_RECORD_HASH, 32); /* a head cut short: only more of the same may follow */
        }
        memcpy(prev, h, 32);
        off = r.end;
    }
    return 1;
}
