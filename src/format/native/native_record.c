/*
 * native_record.c — parsing the pieces of a native file that reader, writer
 * and verifier all need: the file header, record headers, commit records,
 * extension TLVs, and the Merkle frontier. Every offset and length read
 * from the image is checked against the image size here, once, so callers
 * can index with what these functions return.
 */
#include <stdio.h>
#include <string.h>

#include "crypto/crypto.h"
#include "format/native/native.h"
#include "util/common.h"

int nat_detect(const uint8_t *buf, size_t len)
{
    return len >= NAT_MAGIC_LEN && memcmp(buf, NAT_MAGIC, NAT_MAGIC_LEN) == 0;
}

int nat_header_parse(const uint8_t *base, uint64_t size, nat_header *h, char *err, size_t errcap)
{
    if (size < NAT_FIXED_HEADER || !nat_detect(base, (size_t)size))
        return maif_set_err(err, errcap, MAIF_EFORMAT, "not a native maif file (bad magic or too short)");
    uint16_t rv = rd16le(base + NH_READ_VER);
    if (rv > NAT_READ_VERSION)
        return maif_set_err(err, errcap, MAIF_EVERSION, "file needs reader version %u; this library reads %u", rv,
                            NAT_READ_VERSION);
    if (rv < NAT_VERSION_ED25519)
        return maif_set_err(err, errcap, MAIF_EVERSION,
                            "file has read version %u, the pre-release layout of maif before 2026-11-25 (8-byte "
                            "index entries); this library reads versions %u and %u",
                            rv, NAT_VERSION_ED25519, NAT_READ_VERSION);
    h->header_size = rd32le(base + NH_HEADER_SIZE);
    h->created = rd64le(base + NH_CREATED);
    memcpy(h->file_id, base + NH_FILE_ID, MAIF_ID_BYTES);
    h->meta_size = rd32le(base + NH_META_SIZE);
    if (h->header_size < NAT_FIXED_HEADER || h->header_size > NAT_HEADER_MAX || h->header_size % 8 != 0 ||
        h->header_size > size)
        return maif_set_err(err, errcap, MAIF_EFORMAT, "header size %u is invalid", h->header_size);
    if (h->meta_size > h->header_size - NAT_FIXED_HEADER)
        return maif_set_err(err, errcap, MAIF_EFORMAT, "header metadata size %u exceeds the header", h->meta_size);
    h->meta = (const char *)base + NAT_FIXED_HEADER;
    h->flags = rd32le(base + NH_FLAGS);
    if (h->flags & ~NH_F_KNOWN)
        return maif_set_err(err, errcap, MAIF_EVERSION,
                            "file header sets flags 0x%x that this library does not know (a later format version)",
                            h->flags & ~NH_F_KNOWN);
    h->hash_alg = h->flags & NH_F_BLAKE3 ? MAIF_HASH_BLAKE3 : MAIF_HASH_SHA256;
    return MAIF_OK;
}

int nat_rec_parse(const uint8_t *base, uint64_t size, uint64_t off, nat_rec *r, int *truncated, char *err,
                  size_t errcap)
{
    *truncated = 0;
    if (!in_bounds(off, NAT_REC_HEADER, size)) {
        *truncated = 1;
        return maif_set_err(err, errcap, MAIF_EFORMAT, "record at offset %llu: header runs past the end of file",
                            (unsigned long long)off);
    }
    const uint8_t *p = base + off;
    memset(r, 0, sizeof *r);
    r->off = off;
    r->hdr = p;
    const char *tag = p[NR_KIND] == NAT_KIND_BLOCK ? NAT_TAG_BLOCK
                      : p[NR_KIND] == NAT_KIND_INDEX ? NAT_TAG_INDEX
                      : p[NR_KIND] == NAT_KIND_COMMIT ? NAT_TAG_COMMIT
                      : p[NR_KIND] == NAT_KIND_DIR    ? NAT_TAG_DIR
                      : p[NR_KIND] == NAT_KIND_NODES  ? NAT_TAG_NODES : NULL;
    if (tag) memcpy(r->tag, tag, 4);
    r->version = p[NR_VERSION];
    r->flags = rd16le(p + NR_FLAGS);
    if (!tag) {
        /* A header that is all zeros was never written: the writer puts a large
         * payload in place before its header, so a crash can leave this. */
        *truncated = all_zero(p, NAT_REC_HEADER);
        return maif_set_err(err, errcap, MAIF_EFORMAT, "record at offset %llu: unknown record kind 0x%02x",
                            (unsigned long long)off, p[NR_KIND]);
    }
    if (r->version != NAT_REC_VERSION && !(r->version == NAT_REC_VERSION_SIGALG && p[NR_KIND] == NAT_KIND_COMMIT))
        return maif_set_err(err, errcap, MAIF_EFORMAT, "record at offset %llu: record version %u is not supported",
                            (unsigned long long)off, r->version);
    r->type = rd32be(p + NR_TYPE);
    r->stored_size = rd64le(p + NR_STORED_SIZE);
    r->timestamp = rd64le(p + NR_TIMESTAMP);
    r->meta_size = rd32le(p + NR_META_SIZE);
    r->ext_size = rd16le(p + NR_EXT_SIZE);
    r->codec = p[NR_CODEC];
    r->cipher = p[NR_CIPHER];
    if (r->meta_size > NAT_META_MAX)
        return maif_set_err(err, errcap, MAIF_EFORMAT, "record at offset %llu: metadata size %u over the limit",
                            (unsigned long long)off, r->meta_size);
    if (r->stored_size > NAT_PAYLOAD_MAX)
        return maif_set_err(err, errcap, MAIF_EFORMAT, "record at offset %llu: payload size %llu over the limit",
                            (unsigned long long)off, (unsigned long long)r->stored_size);
    r->ext_off = off + NAT_REC_HEADER;
    r->meta_off = r->ext_off + r->ext_size;
    r->payload_off = align8(r->meta_off + r->meta_size);
    r->end = align8(r->payload_off + r->stored_size); /* no overflow: all terms bounded above */
    if (r->end > size) {
        *truncated = 1;
        return maif_set_err(err, errcap, MAIF_EFORMAT,
                            "record at offset %llu: %llu bytes run past the end of file",
                            (unsigned long long)off, (unsigned long long)(r->end - off));
    }
    return MAIF_OK;
}

void nat_rec_hash(const uint8_t *base, const nat_rec *r, const uint8_t prev[32], uint8_t out[32])
{
    maif_sha256_parts(out, prev, 32, r->hdr, NAT_REC_HASHED, base + r->ext_off, r->ext_size, base + r->meta_off,
                      r->meta_size);
}

/* Offsets inside a commit payload of the variable parts. */
static uint64_t commit_sig_off(uint32_t nseg, uint32_t nfront)
{
    return NC_FIXED + (uint64_t)nseg * NC_SEG_SIZE + (uint64_t)nfront * 32;
}

void nat_commit_content_hash_at(const uint8_t *payload, uint64_t size, uint64_t sig_off, uint64_t sig_len,
                                uint8_t out[32])
{
    maif_sha256_parts(out, payload, sig_off, payload + sig_off + sig_len, size - sig_off - sig_len, NULL, 0, NULL, 0);
}

void nat_commit_content_hash(const uint8_t *payload, uint64_t size, uint8_t out[32])
{
    /* size >= NC_FIXED + 64 + 16 is checked by the caller */
    nat_commit_content_hash_at(payload, size, size - NAT_TAIL_SIZE - MAIF_SIGNATURE_BYTES, MAIF_SIGNATURE_BYTES, out);
}

int nat_sigarea_parse(const uint8_t *p, uint64_t n, uint64_t at, nat_commit *c, const char **why)
{
    if (at > n || n - at < NC_SIGAREA_HEAD + NAT_TAIL_SIZE) return *why = "no room for a signature area", -1;
    const uint8_t *a = p + at;
    c->alg = a[0];
    c->pk_len = rd16le(a + 2);
    c->sig_len = rd16le(a + 4);
    if (a[1] || rd16le(a + 6)) return *why = "signature area: reserved bytes are not zero", -1;
    if (c->alg < MAIF_SIG_ED25519 || c->alg > MAIF_SIG_P256) return *why = "unknown signature algorithm", -1;
    if (c->pk_len == 0 || c->pk_len > NAT_SIG_PK_MAX || c->sig_len == 0 || c->sig_len > NAT_SIG_LEN_MAX)
        return *why = "signature area: key or signature length out of bounds", -1;
    if ((c->alg == MAIF_SIG_ED25519 && (c->pk_len != 32 || c->sig_len != 64)) ||
        (c->alg == MAIF_SIG_P256 && c->sig_len != 64) || (c->alg == MAIF_SIG_RSA_PSS && c->sig_len < 256))
        return *why = "signature area: lengths do not fit the algorithm", -1;
    uint64_t size = NC_SIGAREA_SIZE(c->pk_len, c->sig_len);
    if (size + NAT_TAIL_SIZE != n - at) return *why = "payload size does not match its signature area", -1;
    c->pk = a + NC_SIGAREA_HEAD;
    c->sig_off = at + NC_SIGAREA_HEAD + c->pk_len;
    c->sig = p + c->sig_off;
    for (uint64_t i = c->sig_off + c->sig_len; i < at + size; i++)
        if (p[i]) return *why = "signature area: padding is not zero", -1;
    return 0;
}

_Static_assert(NAT_INDEX_HEAD == NAT_DIR_HEAD, "leaves and directories open with the same head");

int nat_index_head_parse(const uint8_t *base, const nat_rec *r, nat_index_head *h)
{
    int leaf = memcmp(r->tag, NAT_TAG_INDEX, 4) == 0;
    if ((!leaf && memcmp(r->tag, NAT_TAG_DIR, 4) != 0) || r->stored_size < NAT_INDEX_HEAD) return 0;
    const uint8_t *p = base + r->payload_off;
    h->first = rd64le(p);
    h->count = rd64le(p + 8);
    h->third = rd64le(p + 16);
    if (h->count == 0) return 0;
    if (leaf)
        return h->count <= (r->stored_size - NAT_INDEX_HEAD) / 4 && r->stored_size == NAT_INDEX_HEAD + 4 * h->count
                   ? NAT_KIND_INDEX
                   : 0;
    return h->third != 0 && h->third <= (r->stored_size - NAT_DIR_HEAD) / NAT_DIR_ENTRY &&
                   r->stored_size == NAT_DIR_HEAD + NAT_DIR_ENTRY * h->third
               ? NAT_KIND_DIR
               : 0;
}

int nat_commit_parse(const uint8_t *base, const nat_rec *r, nat_commit *c, char *err, size_t errcap)
{
    if (memcmp(r->tag, NAT_TAG_COMMIT, 4) != 0)
        return maif_set_err(err, errcap, MAIF_EFORMAT, "record at offset %llu is not a commit",
                            (unsigned long long)r->off);
    const uint8_t *p = base + r->payload_off;
    uint64_t n = r->stored_size;
    if (n < NC_FIXED + MAIF_SIGNATURE_BYTES + NAT_TAIL_SIZE)
        return maif_set_err(err, errcap, MAIF_EFORMAT, "commit at offset %llu: payload too short",
                            (unsigned long long)r->off);
    memset(c, 0, offsetof(nat_commit, seg));
    c->off = r->off;
    c->end = r->end;
    c->timestamp = r->timestamp;
    c->seq = rd64le(p + NC_SEQ);
    c->blocks = rd64le(p + NC_BLOCKS);
    c->prev = rd64le(p + NC_PREV);
    memcpy(c->merkle, p + NC_MERKLE, 32);
    memcpy(c->signer, p + NC_SIGNER, 32);
    memcpy(c->record_hash, r->hdr + NR_RECORD_HASH, 32);
    c->nseg = rd32le(p + NC_NSEG);
    c->nfrontier = rd32le(p + NC_NFRONTIER);
    if (c->nseg > NAT_MAX_SEGMENTS || c->nfrontier > NAT_MAX_FRONTIER)
        return maif_set_err(err, errcap, MAIF_EFORMAT, "commit at offset %llu: %u segments / %u frontier hashes",
                            (unsigned long long)r->off, c->nseg, c->nfrontier);
    uint64_t sig = commit_sig_off(c->nseg, c->nfrontier);
    c->version = r->version;
    if (r->version == NAT_REC_VERSION) {
        if (sig + MAIF_SIGNATURE_BYTES + NAT_TAIL_SIZE != n)
            return maif_set_err(err, errcap, MAIF_EFORMAT,
                                "commit at offset %llu: payload size does not match its counts",
                                (unsigned long long)r->off);
        c->alg = MAIF_SIG_ED25519;
        c->pk = p + NC_SIGNER;
        c->pk_len = 32;
        c->sig_len = MAIF_SIGNATURE_BYTES;
        c->sig_off = sig;
    } else {
        const char *why = NULL;
        if (nat_sigarea_parse(p, n, sig, c, &why))
            return maif_set_err(err, errcap, MAIF_EFORMAT, "commit at offset %llu: %s", (unsigned long long)r->off,
                                why);
    }
    const uint8_t *s = p + NC_FIXED;
    for (uint32_t i = 0; i < c->nseg; i++, s += NC_SEG_SIZE) {
        c->seg[i].off = rd64le(s);
        c->seg[i].first = rd64le(s + 8);
        c->seg[i].count = rd64le(s + 16);
    }
    for (uint32_t i = 0; i < c->nfrontier; i++, s += 32) memcpy(c->frontier[i], s, 32);
    c->sig = p + c->sig_off;
    const uint8_t *tail = p + n - NAT_TAIL_SIZE;
    if (rd64le(tail) != r->off || memcmp(tail + 8, NAT_TAIL_MAGIC, 8) != 0)
        return maif_set_err(err, errcap, MAIF_EFORMAT, "commit at offset %llu: bad tail", (unsigned long long)r->off);
    if (r->end != r->payload_off + n)
        return maif_set_err(err, errcap, MAIF_EFORMAT, "commit at offset %llu: payload not 8-byte aligned",
                            (unsigned long long)r->off);
    return MAIF_OK;
}

static const maif_tlv_rule ext_rules[] = {
    {NAT_EXT_SUPERSEDES, MAIF_ID_BYTES, MAIF_ID_BYTES},
    {NAT_EXT_DECODED_SIZE, 8, 8},
    {NAT_EXT_KEY_ID, 1, MAIF_KEY_ID_MAX},
    {NAT_EXT_NONCE, 1, MAIF_NONCE_MAX},
    {NAT_EXT_DICT_REF, 1, NAT_EXT_DICT_REF_MAX},
};
#define NRULES (sizeof ext_rules / sizeof ext_rules[0])

const maif_stage_tags nat_stage_tags = {NAT_EXT_DECODED_SIZE, NAT_EXT_KEY_ID, NAT_EXT_NONCE, NAT_EXT_DICT_REF};

int nat_ext_parse(const uint8_t *ext, uint16_t ext_size, nat_ext *out)
{
    maif_tlv f[NRULES];
    memset(out, 0, sizeof *out);
    /* the walk fills f[] past every problem but a structural one, so the
     * fields below are what the area says even when rc reports a problem */
    int rc = maif_tlv_parse(ext, ext_size, ext_rules, NRULES, f, &out->rep);
    if ((out->has_supersedes = f[0].value != NULL && f[0].len == MAIF_ID_BYTES)) memcpy(out->supersedes, f[0].value, MAIF_ID_BYTES);
    if ((out->has_decoded_size = f[1].value != NULL && f[1].len == 8)) out->decoded_size = rd64le(f[1].value);
    out->key_id = f[2].value;
    out->key_id_len = f[2].len;
    out->nonce = f[3].value;
    out->nonce_len = f[3].len;
    if (f[4].value && f[4].len >= 1 && f[4].len <= NAT_EXT_DICT_REF_MAX) {
        out->dict_ref = f[4].value;
        out->dict_ref_len = f[4].len;
        for (uint16_t i = f[4].len; i-- > 0;) out->dict_index = out->dict_index << 8 | f[4].value[i];
    }
    return rc;
}

void nat_stage_ad(const uint8_t *file_id, const uint8_t *hdr, uint8_t ad[MAIF_STAGE_AD_BYTES])
{
    memcpy(ad, file_id, MAIF_ID_BYTES);
    memcpy(ad + MAIF_ID_BYTES, hdr + NR_ID, MAIF_ID_BYTES);
    memcpy(ad + 2 * MAIF_ID_BYTES, hdr + NR_TYPE, 4);
    ad[2 * MAIF_ID_BYTES + 4] = hdr[NR_CODEC];
}

/* ---- Merkle frontier */

void nat_merkle_leaf(const uint8_t record_hash[32], uint8_t out[32])
{
    static const uint8_t zero = 0;
    maif_sha256_parts(out, &zero, 1, record_hash, 32, NULL, 0, NULL, 0);
}

static void node(const uint8_t l[32], const uint8_t r[32], uint8_t out[32])
{
    static const uint8_t one = 1;
    maif_sha256_parts(out, &one, 1, l, 32, r, 32, NULL, 0);
}

void nat_merkle_push(nat_merkle *m, const uint8_t leaf[32])
{
    uint8_t cur[32];
    memcpy(cur, leaf, 32);
    /* Each trailing 1-bit of n is a perfect subtree of the same size as the
     * new one: merge while they pair up, like a binary counter's carry. */
    for (uint64_t n = m->n; n & 1; n >>= 1) {
        node(m->h[m->depth - 1], cur, cur);
        m->depth--;
    }
    memcpy(m->h[m->depth++], cur, 32);
    m->n++;
}

void nat_merkle_push_nodes(nat_merkle *m, const uint8_t leaf[32], uint8_t (*out)[32], uint32_t *nout)
{
    uint8_t cur[32];
    memcpy(cur, leaf, 32);
    uint32_t height = 0;
    *nout = 0;
    for (uint64_t n = m->n; n & 1; n >>= 1) {
        node(m->h[m->depth - 1], cur, cur);
        m->depth--;
        if (++height >= NAT_NODE_MIN_HEIGHT) memcpy(out[(*nout)++], cur, 32);
    }
    memcpy(m->h[m->depth++], cur, 32);
    m->n++;
}

int nat_nodes_parse(const uint8_t *base, const nat_rec *r, uint64_t *first, uint64_t *count)
{
    if (memcmp(r->tag, NAT_TAG_NODES, 4) != 0 || r->stored_size < NAT_NODES_HEAD) return 0;
    const uint8_t *p = base + r->payload_off;
    uint64_t f = rd64le(p), c = rd64le(p + 8);
    if (c == 0 || c > UINT64_MAX - f) return 0;
    uint64_t k = nat_nodes_before(f + c) - nat_nodes_before(f);
    if (k == 0 || k > (r->stored_size - NAT_NODES_HEAD) / 32 || r->stored_size != NAT_NODES_HEAD + 32 * k) return 0;
    *first = f;
    *count = c;
    return 1;
}

void nat_merkle_root(const nat_merkle *m, uint8_t out[32])
{
    if (m->depth == 0) {
        maif_sha256("", 0, out);
        return;
    }
    uint8_t acc[32];
    memcpy(acc, m->h[m->depth - 1], 32);
    for (uint32_t i = m->depth - 1; i-- > 0;) node(m->h[i], acc, acc);
    memcpy(out, acc, 32);
}

int nat_merkle_load(nat_merkle *m, uint64_t n, const uint8_t (*h)[32], uint32_t count)
{
    if ((uint32_t)__builtin_popcountll(n) != count || count > NAT_MAX_FRONTIER) return -1;
    m->n = n;
    m->depth = count;
    for (uint32_t i = 0; i < count; i++) memcpy(m->h[i], h[i], 32);
    return 0;
}
