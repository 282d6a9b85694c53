/*
 * native_proof.c — RFC 6962 audit and consistency paths over the native
 * Merkle tree, and their checks (RFC 9162 §2.1.3.2 and §2.1.4.2).
 *
 * Gathering walks the RFC's recursion top-down, recording one subtree root
 * per level, then reverses the list (the RFC lists the deepest sibling
 * first). Siblings on the tree's right spine come from the commit's stored
 * frontier; the others are computed from the leaves, which the index finds
 * in O(1) each. Perfect subtrees of 128 leaves and more come from the node
 * records (FORMAT.md §5.13) when the file has them: a path then costs
 * O(log n) lookups. A file (or a batch) without them falls back to the
 * leaves: up to the size of the frontier subtree that holds the leaf in
 * leaf reads and hashes, O(n) in the worst case. The checks need no file:
 * only hashes, and for a commit its header, payload and the record hash
 * before it.
 */
#include <string.h>

#include "crypto/crypto.h"
#include "format/native/native_proof.h"
#include "util/common.h"

static void node(const uint8_t l[32], const uint8_t r[32], uint8_t out[32])
{
    static const uint8_t one = 1;
    maif_sha256_parts(out, &one, 1, l, 32, r, 32, NULL, 0);
}

/* The largest power of two smaller than n (n >= 2). */
static uint64_t split(uint64_t n)
{
    uint64_t k = (uint64_t)1 << (63 - __builtin_clzll(n - 1));
    return k;
}

int nat_proof_subtree_root(nat_leaf_fn leaf, void *ctx, uint64_t a, uint64_t b, uint8_t out[32])
{
    nat_merkle m;
    m.n = 0;
    m.depth = 0;
    uint8_t h[32];
    for (uint64_t i = a; i < b; i++) {
        int rc = leaf(ctx, i, h);
        if (rc) return rc;
        nat_merkle_push(&m, h);
    }
    nat_merkle_root(&m, out);
    return MAIF_OK;
}

/* MTH(D[a:b]) from the frontier fr of the whole tree when [a, b) is one of
 * its perfect subtrees, or runs from the start of one to the end of the
 * tree (then the roots fold right to left, as in nat_merkle_root): 1 if so.
 * These are exactly the siblings on the tree's right spine. */
static int from_frontier(const nat_merkle *fr, uint64_t a, uint64_t b, uint8_t out[32])
{
    if (!fr) return 0;
    uint64_t start = 0;
    uint32_t idx = 0;
    for (int bit = 63; bit >= 0 && idx < fr->depth; bit--) {
        if (!(fr->n >> bit & 1)) continue;
        uint64_t size = (uint64_t)1 << bit;
        if (start == a) {
            if (b == start + size) {
                memcpy(out, fr->h[idx], 32);
                return 1;
            }
            if (b != fr->n) return 0;
            uint8_t acc[32];
            memcpy(acc, fr->h[fr->depth - 1], 32);
            for (uint32_t i = fr->depth - 1; i-- > idx;) node(fr->h[i], acc, acc);
            memcpy(out, acc, 32);
            return 1;
        }
        if (start > a) return 0;
        start += size;
        idx++;
    }
    return 0;
}

/* MTH(D[a : a + 2^h]) for an aligned a: a stored node, else its two
 * halves (below height 4, the leaves). */
static int fold(const nat_tree_src *s, uint64_t a, uint64_t b, uint8_t out[32])
{
    return s->span ? s->span(s->ctx, a, b, out) : nat_proof_subtree_root(s->leaf, s->ctx, a, b, out);
}

static int perfect(const nat_tree_src *s, uint64_t a, uint32_t h, uint8_t out[32])
{
    if (h < NAT_NODE_MIN_HEIGHT || !s->node) return fold(s, a, a + ((uint64_t)1 << h), out);
    if (s->node(s->ctx, a, h, out) == 1) return MAIF_OK;
    uint8_t l[32], r[32];
    int rc = perfect(s, a, h - 1, l);
    if (!rc) rc = perfect(s, a + ((uint64_t)1 << (h - 1)), h - 1, r);
    if (!rc) node(l, r, out);
    return rc;
}

static int subtree(const nat_tree_src *s, const nat_merkle *fr, uint64_t a, uint64_t b, uint8_t out[32])
{
    if (from_frontier(fr, a, b, out)) return MAIF_OK;
    uint64_t w = b - a;
    if ((w & (w - 1)) == 0 && a % w == 0) return perfect(s, a, (uint32_t)__builtin_ctzll(w), out);
    return fold(s, a, b, out);
}

static void reverse(uint8_t (*path)[32], uint32_t len)
{
    uint8_t t[32];
    for (uint32_t i = 0, j = len ? len - 1 : 0; i < j; i++, j--) {
        memcpy(t, path[i], 32);
        memcpy(path[i], path[j], 32);
        memcpy(path[j], t, 32);
    }
}

int nat_proof_inclusion_path(nat_leaf_fn leaf, void *ctx, const nat_merkle *fr, uint64_t m, uint64_t n,
                             uint8_t (*path)[32], uint32_t *len)
{
    nat_tree_src s = {leaf, NULL, ctx, NULL};
    return nat_proof_inclusion_path_src(&s, fr, m, n, path, len);
}

int nat_proof_consistency_path(nat_leaf_fn leaf, void *ctx, const nat_merkle *fr, uint64_t m, uint64_t n,
                               uint8_t (*path)[32], uint32_t *len)
{
    nat_tree_src s = {leaf, NULL, ctx, NULL};
    return nat_proof_consistency_path_src(&s, fr, m, n, path, len);
}

int nat_proof_inclusion_path_src(const nat_tree_src *src, const nat_merkle *fr, uint64_t m, uint64_t n,
                                 uint8_t (*path)[32], uint32_t *len)
{
    *len = 0;
    if (m >= n || (fr && fr->n != n)) return MAIF_EINVAL;
    uint64_t lo = 0; /* the current subtree is D[lo : lo + n] */
    while (n > 1) {
        uint64_t k = split(n);
        int rc;
        if (m < k) {
            rc = subtree(src, fr, lo + k, lo + n, path[*len]);
            n = k;
        } else {
            rc = subtree(src, fr, lo, lo + k, path[*len]);
            m -= k;
            lo += k;
            n -= k;
        }
        if (rc) return rc;
        (*len)++;
    }
    reverse(path, *len);
    return MAIF_OK;
}

int nat_proof_consistency_path_src(const nat_tree_src *src, const nat_merkle *fr, uint64_t m, uint64_t n,
                                   uint8_t (*path)[32], uint32_t *len)
{
    *len = 0;
    if (m == 0 || m > n || (fr && fr->n != n)) return MAIF_EINVAL;
    uint64_t lo = 0;
    int whole = 1; /* SUBPROOF's b: D[lo : lo + m] is the old tree itself */
    int rc;
    while (m != n) {
        uint64_t k = split(n);
        if (m <= k) {
            rc = subtree(src, fr, lo + k, lo + n, path[*len]);
            n = k;
        } else {
            rc = subtree(src, fr, lo, lo + k, path[*len]);
            m -= k;
            lo += k;
            n -= k;
            whole = 0;
        }
        if (rc) return rc;
        (*len)++;
    }
    if (!whole) {
        rc = subtree(src, fr, lo, lo + n, path[*len]);
        if (rc) return rc;
        (*len)++;
    }
    reverse(path, *len);
    return MAIF_OK;
}

int nat_proof_check_inclusion(const uint8_t leaf_hash[32], uint64_t index, uint64_t size,
                              const uint8_t (*path)[32], uint32_t len, const uint8_t root[32])
{
    if (index >= size) return 0;
    uint64_t fn = index, sn = size - 1;
    uint8_t r[32];
    memcpy(r, leaf_hash, 32);
    for (uint32_t i = 0; i < len; i++) {
        if (sn == 0) return 0;
        if ((fn & 1) || fn == sn) {
            node(path[i], r, r);
            while (!(fn & 1) && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            node(r, path[i], r);
        }
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 && memcmp(r, root, 32) == 0;
}

int nat_proof_check_consistency(uint64_t size1, uint64_t size2, const uint8_t root1[32], const uint8_t root2[32],
                                const uint8_t (*path)[32], uint32_t len)
{
    if (size1 > size2) return 0;
    if (size1 == size2) return len == 0 && memcmp(root1, root2, 32) == 0;
    if (size1 == 0) {
        uint8_t empty[32];
        maif_sha256("", 0, empty);
        return len == 0 && memcmp(root1, empty, 32) == 0;
    }
    /* A power-of-two old tree is a subtree of the new one: its root is the
     * path's implicit first element. */
    uint32_t i = 0;
    uint8_t fr[32], sr[32];
    if ((size1 & (size1 - 1)) == 0) {
        memcpy(fr, root1, 32);
    } else {
        if (len == 0) return 0;
        memcpy(fr, path[0], 32);
        i = 1;
    }
    memcpy(sr, fr, 32);
    uint64_t fn = size1 - 1, sn = size2 - 1;
    while (fn & 1) {
        fn >>= 1;
        sn >>= 1;
    }
    for (; i < len; i++) {
        if (sn == 0) return 0;
        if ((fn & 1) || fn == sn) {
            node(path[i], fr, fr);
            node(path[i], sr, sr);
            while (!(fn & 1) && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            node(sr, path[i], sr);
        }
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 && memcmp(fr, root1, 32) == 0 && memcmp(sr, root2, 32) == 0;
}

int nat_proof_image_leaf(void *ctx, uint64_t i, uint8_t out[32])
{
    nat_proof_image *im = ctx;
    uint64_t off;
    int rc = nat_view_block_offset(im->v, im->base, i, &off);
    if (rc) return rc == MAIF_ENOTFOUND ? MAIF_EFORMAT : rc;
    if (off > im->size || im->size - off < NAT_REC_HEADER || im->base[off + NR_KIND] != NAT_KIND_BLOCK)
        return MAIF_EFORMAT;
    nat_merkle_leaf(im->base + off + NR_RECORD_HASH, out);
    im->reads += 2;                      /* the index leaf, the block */
    im->bytes += 2 * NAT_REC_HEADER + 4; /* their headers and the entry */
    return MAIF_OK;
}

int nat_proof_image_span(void *ctx, uint64_t a, uint64_t b, uint8_t out[32])
{
    nat_proof_image *im = ctx;
    nat_merkle m;
    m.n = 0;
    m.depth = 0;
    uint64_t limit = im->v->committed;
    for (uint64_t i = a; i < b;) {
        uint64_t loff;
        nat_rec lr;
        nat_index_head lh;
        int torn;
        /* a view found by a scan has no index: one leaf at a time */
        if (nat_view_leaf_offset(im->v, im->base, i, &loff) ||
            nat_rec_parse(im->base, limit, loff, &lr, &torn, NULL, 0) ||
            nat_index_head_parse(im->base, &lr, &lh) != NAT_KIND_INDEX || i < lh.first || i - lh.first >= lh.count) {
            uint8_t h[32];
            int rc = nat_proof_image_leaf(ctx, i, h);
            if (rc) return rc;
            nat_merkle_push(&m, h);
            i++;
            continue;
        }
        im->reads++;
        im->bytes += NAT_REC_HEADER;
        const uint8_t *p = im->base + lr.payload_off;
        uint64_t base = lh.third, end = lh.first + lh.count < b ? lh.first + lh.count : b;
        for (; i < end; i++) {
            uint64_t off = base + rd32le(p + NAT_INDEX_HEAD + 4 * (i - lh.first));
            if (off < base || off < im->v->hdr.header_size || off % 8 || off > limit ||
                limit - off < NAT_REC_HEADER || im->base[off + NR_KIND] != NAT_KIND_BLOCK)
                return MAIF_EFORMAT;
            uint8_t h[32];
            nat_merkle_leaf(im->base + off + NR_RECORD_HASH, h);
            nat_merkle_push(&m, h);
            im->reads++;
            im->bytes += 4 + NAT_REC_HEADER;
        }
    }
    nat_merkle_root(&m, out);
    return MAIF_OK;
}

int nat_proof_image_node(void *ctx, uint64_t a, uint32_t h, uint8_t out[32])
{
    nat_proof_image *im = ctx;
    if (h < NAT_NODE_MIN_HEIGHT || h > 63 || a % ((uint64_t)1 << h)) return 0;
    uint64_t last = a + ((uint64_t)1 << h) - 1, loff, first, count;
    if (last < a || nat_view_leaf_offset(im->v, im->base, last, &loff)) return 0;
    nat_rec lr, nr;
    nat_index_head lh;
    int torn;
    uint64_t limit = im->v->committed;
    im->reads += 2;                                        /* the index leaf, the node record */
    im->bytes += 2 * NAT_REC_HEADER + NAT_NODES_HEAD + 32; /* their headers, its head, the node */
    if (nat_rec_parse(im->base, limit, loff, &lr, &torn, NULL, 0) ||
        nat_index_head_parse(im->base, &lr, &lh) != NAT_KIND_INDEX ||
        nat_rec_parse(im->base, limit, lr.end, &nr, &torn, NULL, 0) ||
        !nat_nodes_parse(im->base, &nr, &first, &count) || first != lh.first || count != lh.count ||
        last < first || last - first >= count)
        return 0;
    uint64_t k = nat_nodes_before(last) - nat_nodes_before(first) + (h - NAT_NODE_MIN_HEIGHT);
    if (k >= (nr.stored_size - NAT_NODES_HEAD) / 32) return 0;
    memcpy(out, im->base + nr.payload_off + NAT_NODES_HEAD + 32 * k, 32);
    return 1;
}

/* The record hash of the record that ends exactly at end: walks the
 * records from from (a record start) given last, the record hash of the
 * record before from. */
static int hash_before(const uint8_t *base, uint64_t size, uint64_t from, uint64_t end, const uint8_t last[32],
                       uint8_t out[32], char *err, size_t errcap)
{
    memcpy(out, last, 32);
    nat_rec r;
    int trunc;
    while (from < end) {
        int rc = nat_rec_parse(base, size, from, &r, &trunc, err, errcap);
        if (rc) return rc;
        memcpy(out, r.hdr + NR_RECORD_HASH, 32);
        from = r.end;
    }
    if (from != end)
        return maif_set_err(err, errcap, MAIF_EFORMAT, "commit at offset %llu: no record ends where it starts",
                            (unsigned long long)end);
    return MAIF_OK;
}

int nat_proof_commit(const nat_view *v, const uint8_t *base, uint64_t size, uint64_t seq, nat_commit_ref *out,
                     char *err, size_t errcap)
{
    if (seq > v->last.seq)
        return maif_set_err(err, errcap, MAIF_ENOTFOUND, "no commit %llu (the last is %llu)",
                            (unsigned long long)seq, (unsigned long long)v->last.seq);
    nat_commit *c = &out->c;
    *c = v->last;
    nat_rec r;
    int trunc, rc;
    rc = nat_rec_parse(base, size, c->off, &r, &trunc, err, errcap);
    if (rc) return rc;
    while (c->seq > seq) {
        uint64_t prev = c->prev;
        if (prev >= c->off || prev < v->hdr.header_size)
            return maif_set_err(err, errcap, MAIF_EFORMAT, "commit %llu: bad back link", (unsigned long long)c->seq);
        uint64_t want = c->seq - 1;
        rc = nat_rec_parse(base, size, prev, &r, &trunc, err, errcap);
        if (!rc) rc = nat_commit_parse(base, &r, c, err, errcap);
        if (rc) return rc;
        if (c->seq != want)
            return maif_set_err(err, errcap, MAIF_EFORMAT, "commit at offset %llu: sequence %llu, expected %llu",
                                (unsigned long long)prev, (unsigned long long)c->seq, (unsigned long long)want);
    }
    out->hdr = r.hdr;
    out->payload = base + r.payload_off;
    out->payload_size = r.stored_size;
    /* The record before the commit: normally the index record its last
     * segment names (written just before it); otherwise scan the records
     * from the previous commit's end. */
    if (c->nseg) {
        const nat_seg *s = &c->seg[c->nseg - 1];
        nat_rec ir;
        char e2[8];
        if (s->off < c->off && !nat_rec_parse(base, size, s->off, &ir, &trunc, e2, sizeof e2) && ir.end == c->off) {
            memcpy(out->prev_hash, ir.hdr + NR_RECORD_HASH, 32);
            return MAIF_OK;
        }
    }
    uint64_t from = v->hdr.header_size;
    uint8_t last[32];
    maif_sha256(base, v->hdr.header_size, last); /* the chain seed */
    if (c->prev) {
        nat_rec pr;
        rc = nat_rec_parse(base, size, c->prev, &pr, &trunc, err, errcap);
        if (rc) return rc;
        from = pr.end;
        memcpy(last, pr.hdr + NR_RECORD_HASH, 32);
    }
    return hash_before(base, size, from, c->off, last, out->prev_hash, err, errcap);
}

int nat_proof_commit_check(const uint8_t prev_hash[32], const uint8_t hdr[NAT_REC_HEADER], const uint8_t *payload,
                           uint64_t n, nat_commit *c, char *err, size_t errcap)
{
    if (hdr[NR_KIND] != NAT_KIND_COMMIT ||
        (hdr[NR_VERSION] != NAT_REC_VERSION && hdr[NR_VERSION] != NAT_REC_VERSION_SIGALG))
        return maif_set_err(err, errcap, MAIF_EFORMAT, "commit header: not a version 1 or 2 commit record");
    if (rd32le(hdr + NR_META_SIZE) || rd16le(hdr + NR_EXT_SIZE) || rd64le(hdr + NR_STORED_SIZE) != n)
        return maif_set_err(err, errcap, MAIF_EFORMAT, "commit header: sizes do not match the payload");
    if (n < NC_FIXED + MAIF_SIGNATURE_BYTES + NAT_TAIL_SIZE)
        return maif_set_err(err, errcap, MAIF_EFORMAT, "commit payload: too short");
    memset(c, 0, offsetof(nat_commit, seg));
    c->seq = rd64le(payload + NC_SEQ);
    c->blocks = rd64le(payload + NC_BLOCKS);
    c->prev = rd64le(payload + NC_PREV);
    c->timestamp = rd64le(hdr + NR_TIMESTAMP);
    c->version = hdr[NR_VERSION];
    memcpy(c->merkle, payload + NC_MERKLE, 32);
    memcpy(c->signer, payload + NC_SIGNER, 32);
    c->nseg = rd32le(payload + NC_NSEG);
    c->nfrontier = rd32le(payload + NC_NFRONTIER);
    if (c->nseg > NAT_MAX_SEGMENTS || c->nfrontier > NAT_MAX_FRONTIER)
        return maif_set_err(err, errcap, MAIF_EFORMAT, "commit payload: size does not match its counts");
    uint64_t at = NC_FIXED + (uint64_t)c->nseg * NC_SEG_SIZE + (uint64_t)c->nfrontier * 32;
    if (c->version == NAT_REC_VERSION) {
        if (at + MAIF_SIGNATURE_BYTES + NAT_TAIL_SIZE != n)
            return maif_set_err(err, errcap, MAIF_EFORMAT, "commit payload: size does not match its counts");
        c->alg = MAIF_SIG_ED25519;
        c->pk = payload + NC_SIGNER;
        c->pk_len = 32;
        c->sig_len = MAIF_SIGNATURE_BYTES;
        c->sig_off = at;
        c->sig = payload + at;
    } else {
        const char *why = NULL;
        if (at > n || nat_sigarea_parse(payload, n, at, c, &why))
            return maif_set_err(err, errcap, MAIF_EFORMAT, "commit payload: %s",
                                why ? why : "size does not match its counts");
    }
    uint8_t h[32];
    nat_commit_content_hash_at(payload, n, c->sig_off, c->sig_len, h);
    if (memcmp(h, hdr + NR_CONTENT_HASH, 32) != 0)
        return maif_set_err(err, errcap, MAIF_EVERIFY, "commit %llu: content hash does not match its payload",
                            (unsigned long long)c->seq);
    maif_sha256_parts(h, prev_hash, 32, hdr, NAT_REC_HASHED, NULL, 0, NULL, 0);
    if (memcmp(h, hdr + NR_RECORD_HASH, 32) != 0)
        return maif_set_err(err, errcap, MAIF_EVERIFY, "commit %llu: record hash does not match its header",
                            (unsigned long long)c->seq);
    memcpy(c->record_hash, h, 32);
    /* the signer field names the key: Ed25519's itself, others' SHA-256 */
    uint8_t id[32];
    if (c->alg == MAIF_SIG_ED25519) memcpy(id, c->pk, 32);
    else maif_sha256(c->pk, c->pk_len, id);
    if (memcmp(id, c->signer, 32) != 0)
        return maif_set_err(err, errcap, MAIF_EVERIFY, "commit %llu: the signer field does not name the key in the "
                            "signature area", (unsigned long long)c->seq);
    uint8_t msg[16 + 32];
    memcpy(msg, NAT_SIG_DOMAIN, 16);
    memcpy(msg + 16, h, 32);
    if (!maif_sig_verify(c->alg, c->pk, c->pk_len, msg, sizeof msg, c->sig, c->sig_len))
        return maif_set_err(err, errcap, MAIF_EVERIFY, "commit %llu: bad signature (%s)", (unsigned long long)c->seq,
                            maif_sig_alg_name(c->alg));
    return MAIF_OK;
}
