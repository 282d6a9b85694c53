/*
 * native_verify.c — the strict verifier for native files.
 *
 * It checks every byte: the header (magic, versions, reserved fields, the
 * canonical form of its JSON, zero padding), and for every record its
 * structure, zero padding, record hash (the chain), content hash, and what
 * its kind promises — canonical metadata and well-formed extensions for
 * blocks, offsets that match the blocks for index records, and for commits
 * the sequence, block count, back link, Merkle root and frontier, index
 * segments and the Ed25519 signature.
 *
 * One sequential pass does the cheap structural work and collects the
 * payloads; their SHA-256 then runs on a pool of threads, because hashing
 * payloads is nearly all of the cost on a large artifact. A chain mismatch
 * is reported for the record whose hash fails and the walk continues from
 * its stored hash, so one damaged record yields one finding, not a cascade.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "format/native/native.h"
#include "util/alloc.h"
#include "util/common.h"
#include "util/pool.h"
#include "util/pyjson.h"

typedef struct job {
    uint64_t payload_off, size;
    uint64_t rec_off;
    int64_t block; /* block index, or -1 for index records */
    int bad;
} job;

/* An index record met so far (in file order, so sorted by offset). */
typedef struct idx_seen {
    uint64_t off, first, count;
    char kind; /* NAT_KIND_INDEX (leaf) or NAT_KIND_DIR */
    int ok;
} idx_seen;

typedef struct vstate {
    const uint8_t *base;
    uint64_t size;
    const maif_verify_options *opt;
    maif_report *rep;
    uint64_t *offs; /* block offsets */
    uint64_t nblocks, cap_blocks;
    job *jobs;
    uint64_t njobs, cap_jobs;
    idx_seen *idx;
    uint64_t nidx, cap_idx;
    nat_merkle merkle;
    uint64_t commits, last_commit_off, last_commit_end, committed_blocks;
    maif_buf scratch;
    uint64_t *eras;    /* jobs of erasure records (type ERAS, FORMAT.md §5.10) */
    uint64_t neras, cap_eras;
    int broken_commit; /* a commit record failed to parse: what follows it is damage, not a torn append */
    int oom;
    uint8_t (*nodes)[32]; /* the Merkle nodes of height >= 7 the blocks so far complete (FORMAT.md §5.13) */
    uint64_t nnodes, cap_nodes;
    uint64_t leaf_end, leaf_first, leaf_count; /* the last index leaf met: where it ends, what it maps */
    int leaf_ok;
    int hash_alg; /* MAIF_HASH_*: the header's content hash */
} vstate;

#define ERR(st, code, sec, blk, off, ...) maif_report_add((st)->rep, MAIF_SEV_ERROR, code, sec, blk, (int64_t)(off), __VA_ARGS__)

static int grow(void **p, uint64_t *cap, uint64_t n, size_t elem)
{
    if (n < *cap) return 0;
    uint64_t nc = *cap ? *cap * 2 : 256;
    void *q = maif_realloc(*p, nc * elem);
    if (!q) return -1;
    *p = q;
    *cap = nc;
    return 0;
}

static void check_header(vstate *st, const nat_header *h)
{
    const uint8_t *b = st->base;
    uint16_t wv = rd16le(b + NH_WRITE_VER), rv = rd16le(b + NH_READ_VER);
    if (rv == 0 || wv < rv)
        ERR(st, "header", "header", -1, NH_WRITE_VER, "header: write version %u / read version %u are inconsistent", wv, rv);
    if (h->flags && wv < NAT_VERSION_FLAGS)
        ERR(st, "header", "header", -1, NH_WRITE_VER, "header: flags 0x%x need write version %u, not %u", h->flags,
            NAT_VERSION_FLAGS, wv);
    if (!all_zero(b + NH_RESERVED, 16)) ERR(st, "reserved", "header", -1, NH_RESERVED, "header: reserved bytes must be zero");
    if (!all_zero(b + NAT_FIXED_HEADER + h->meta_size, h->header_size - NAT_FIXED_HEADER - h->meta_size))
        ERR(st, "padding", "header", -1, NAT_FIXED_HEADER + h->meta_size, "header: padding after the metadata must be zero");
    if (h->meta_size) {
        char jerr[160];
        st->scratch.len = 0;
        int rc = maif_json_canonicalize(h->meta, h->meta_size, MAIF_JSON_COMPACT, &st->scratch, jerr, sizeof jerr);
        if (rc) ERR(st, "metadata", "header", -1, NAT_FIXED_HEADER, "header: metadata is not valid JSON: %s", jerr);
        else if (st->scratch.len != h->meta_size || memcmp(st->scratch.data, h->meta, h->meta_size) != 0)
            ERR(st, "metadata", "header", -1, NAT_FIXED_HEADER, "header: metadata is not in canonical form");
    }
}

/* Checks a block's extension area (fills *ext) and that the stage TLVs
 * match its codec and cipher; returns 0 if the area is well formed. */
static int check_ext(vstate *st, const nat_rec *r, int64_t blk, nat_ext *ext)
{
    int rc = nat_ext_parse(st->base + r->ext_off, r->ext_size, ext) == MAIF_OK ? 0 : -1;
    if (rc)
        ERR(st, "extension", "block", blk, r->ext_off + ext->rep.off,
            "block %lld at offset %llu: malformed extension area: %s (tag 0x%04x at +%zu)", (long long)blk,
            (unsigned long long)r->off, maif_tlv_problem_str(ext->rep.problem), ext->rep.tag, ext->rep.off);
    if (ext->rep.critical_unknown)
        ERR(st, "extension", "block", blk, r->ext_off + ext->rep.critical_off,
            "block %lld: critical extension 0x%04x is not supported by this verifier", (long long)blk,
            ext->rep.critical_tag);
    int staged = r->codec || r->cipher;
    if (rc) {
        /* one finding for a malformed area: what it holds is not to be trusted */
    } else if (ext->has_decoded_size != staged || (!!ext->key_id != !!r->cipher) || (!!ext->nonce != !!r->cipher)) {
        ERR(st, "extension", "block", blk, r->ext_off,
            "block %lld at offset %llu: the decoded-size, key-id and nonce extensions do not match codec %u / "
            "cipher %u",
            (long long)blk, (unsigned long long)r->off, r->codec, r->cipher);
    } else if (staged && maif_codec_known(r->codec) && maif_cipher_known(r->cipher)) {
        maif_stage_in in = {.codec = r->codec, .cipher = r->cipher, .stored_size = r->stored_size,
                            .has_decoded_size = 1, .decoded_size = ext->decoded_size, .key_id = ext->key_id,
                            .key_id_len = ext->key_id_len, .nonce = ext->nonce, .nonce_len = ext->nonce_len,
                            .dict_ref = ext->dict_ref, .dict_ref_len = ext->dict_ref_len};
        uint64_t n;
        char why[200];
        if (maif_stage_decoded_size(&in, MAIF_DECODED_MAX, &n, why, sizeof why) != MAIF_OK)
            ERR(st, "extension", "block", blk, r->ext_off, "block %lld at offset %llu: %s", (long long)blk,
                (unsigned long long)r->off, why);
        else if (ext->dict_ref && ext->dict_index >= (uint64_t)blk)
            ERR(st, "extension", "block", blk, r->ext_off,
                "block %lld at offset %llu: its dictionary (block %llu) does not come before it", (long long)blk,
                (unsigned long long)r->off, (unsigned long long)ext->dict_index);
    } else if (!staged && ext->dict_ref) {
        ERR(st, "extension", "block", blk, r->ext_off,
            "block %lld at offset %llu: a dictionary reference on a payload stored as is", (long long)blk,
            (unsigned long long)r->off);
    }
    return rc;
}

static void push_job(vstate *st, const nat_rec *r, int64_t blk, uint64_t size)
{
    if (grow((void **)&st->jobs, &st->cap_jobs, st->njobs, sizeof *st->jobs)) {
        st->oom = 1;
        return;
    }
    st->jobs[st->njobs++] = (job){r->payload_off, size, r->off, blk, 0};
}

static void do_block(vstate *st, const nat_rec *r, const uint8_t rh[32])
{
    int64_t blk = (int64_t)st->nblocks;
    if (r->type == 0) ERR(st, "type", "block", blk, r->off, "block %lld at offset %llu: type is zero", (long long)blk, (unsigned long long)r->off);
    if (r->flags & ~NAT_REC_F_KNOWN)
        ERR(st, "reserved", "block", blk, r->off + NR_FLAGS, "block %lld at offset %llu: reserved flag bits 0x%04x are set",
            (long long)blk, (unsigned long long)r->off, r->flags & ~NAT_REC_F_KNOWN);
    nat_ext ext;
    int has_sup = check_ext(st, r, blk, &ext) == 0 && ext.has_supersedes;
    if (has_sup != !!(r->flags & NAT_REC_F_SUPERSEDES))
        ERR(st, "flags", "block", blk, r->off + NR_FLAGS,
            "block %lld at offset %llu: the supersedes flag does not match the extension area", (long long)blk,
            (unsigned long long)r->off);
    if (r->meta_size) {
        char jerr[160];
        st->scratch.len = 0;
        const char *m = (const char *)st->base + r->meta_off;
        int rc = maif_json_canonicalize(m, r->meta_size, MAIF_JSON_COMPACT, &st->scratch, jerr, sizeof jerr);
        if (rc)
            ERR(st, "metadata", "block", blk, r->meta_off, "block %lld at offset %llu: metadata is not a JSON object: %s",
                (long long)blk, (unsigned long long)r->off, jerr);
        else if (st->scratch.len != r->meta_size || memcmp(st->scratch.data, m, r->meta_size) != 0 || r->meta_size == 2)
            ERR(st, "metadata", "block", blk, r->meta_off, "block %lld at offset %llu: metadata is not in canonical form",
                (long long)blk, (unsigned long long)r->off);
    }
    if (grow((void **)&st->offs, &st->cap_blocks, st->nblocks, sizeof *st->offs)) {
        st->oom = 1;
        return;
    }
    st->offs[st->nblocks++] = r->off;
    push_job(st, r, blk, r->stored_size);
    if (r->type == MAIF_TYPE_ERASURE && !r->codec && !r->cipher && !st->oom) {
        if (grow((void **)&st->eras, &st->cap_eras, st->neras, sizeof *st->eras)) st->oom = 1;
        else st->eras[st->neras++] = st->njobs - 1;
    }
    uint8_t leaf[32], done[NAT_MAX_FRONTIER][32];
    uint32_t ndone;
    nat_merkle_leaf(rh, leaf);
    nat_merkle_push_nodes(&st->merkle, leaf, done, &ndone);
    for (uint32_t i = 0; i < ndone && !st->oom; i++) {
        if (grow((void **)&st->nodes, &st->cap_nodes, st->nnodes, sizeof *st->nodes)) st->oom = 1;
        else memcpy(st->nodes[st->nnodes++], done[i], 32);
    }
}

static int plain_internal(vstate *st, const nat_rec *r, const char *what)
{
    if (r->type || r->flags || r->meta_size || r->ext_size || !all_zero(r->hdr + NR_ID, MAIF_ID_BYTES)) {
        ERR(st, "structure", what, -1, r->off, "%s record at offset %llu: type, flags, metadata, extensions and id must be empty",
            what, (unsigned long long)r->off);
        return -1;
    }
    return 0;
}

/* The index record at off met earlier, or NULL. */
static const idx_seen *find_idx(const vstate *st, uint64_t off)
{
    uint64_t lo = 0, hi = st->nidx;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (st->idx[mid].off < off) lo = mid + 1;
        else hi = mid;
    }
    return lo < st->nidx && st->idx[lo].off == off ? &st->idx[lo] : NULL;
}

static void remember_idx(vstate *st, const nat_rec *r, uint64_t first, uint64_t count, char kind, int ok)
{
    push_job(st, r, -1, r->stored_size);
    if (grow((void **)&st->idx, &st->cap_idx, st->nidx, sizeof *st->idx)) {
        st->oom = 1;
        return;
    }
    st->idx[st->nidx++] = (idx_seen){r->off, first, count, kind, ok};
}

/* A leaf: u64 first, u64 count, u64 base, count × u32 (offset − base);
 * every entry must be the offset of that block. */
static void do_index(vstate *st, const nat_rec *r)
{
    nat_index_head h = {0};
    int ok = plain_internal(st, r, "index") == 0;
    if (nat_index_head_parse(st->base, r, &h) != NAT_KIND_INDEX) ok = 0;
    const uint8_t *p = st->base + r->payload_off;
    uint64_t first = h.first, count = h.count, base = h.third;
    if (!ok) {
        ERR(st, "index", "index", -1, r->off, "index record at offset %llu: malformed", (unsigned long long)r->off);
    } else if (first > st->nblocks || count > st->nblocks - first) {
        ERR(st, "index", "index", -1, r->off, "index record at offset %llu: covers blocks %llu..%llu but only %llu precede it",
            (unsigned long long)r->off, (unsigned long long)first, (unsigned long long)(first + count),
            (unsigned long long)st->nblocks);
        ok = 0;
    } else {
        for (uint64_t i = 0; i < count; i++) {
            uint64_t o = base + rd32le(p + NAT_INDEX_HEAD + 4 * i);
            if (o != st->offs[first + i]) {
                ERR(st, "index", "index", (int64_t)(first + i), r->payload_off + NAT_INDEX_HEAD + 4 * i,
                    "index record at offset %llu: entry for block %llu gives offset %llu, the block is at %llu",
                    (unsigned long long)r->off, (unsigned long long)(first + i), (unsigned long long)o,
                    (unsigned long long)st->offs[first + i]);
                ok = 0;
                break;
            }
        }
    }
    remember_idx(st, r, first, count, NAT_KIND_INDEX, ok);
    st->leaf_end = r->end;
    st->leaf_first = first;
    st->leaf_count = count;
    st->leaf_ok = ok;
}

/* A node record: u64 first, u64 count, then the Merkle nodes of height
 * >= 7 that blocks [first, first + count) complete. It must directly
 * follow a sound index leaf of the same range, and every node must be the
 * one the blocks give (a node that is not is a finding, never a proof). */
static void do_nodes(vstate *st, const nat_rec *r)
{
    uint64_t first = 0, count = 0;
    int ok = plain_internal(st, r, "node") == 0;
    if (ok && !nat_nodes_parse(st->base, r, &first, &count)) {
        ERR(st, "nodes", "index", -1, r->off, "node record at offset %llu: malformed", (unsigned long long)r->off);
    } else if (ok && (st->leaf_end != r->off || !st->leaf_ok || st->leaf_first != first || st->leaf_count != count)) {
        ERR(st, "nodes", "index", -1, r->off,
            "node record at offset %llu: does not directly follow a sound index leaf of blocks %llu..%llu",
            (unsigned long long)r->off, (unsigned long long)first, (unsigned long long)(first + count));
    } else if (ok) {
        uint64_t a = nat_nodes_before(first), k = nat_nodes_before(first + count) - a;
        const uint8_t *p = st->base + r->payload_off + NAT_NODES_HEAD;
        for (uint64_t j = 0; j < k; j++) {
            if (a + j >= st->nnodes || memcmp(p + 32 * j, st->nodes[a + j], 32) != 0) {
                ERR(st, "nodes", "index", -1, r->payload_off + NAT_NODES_HEAD + 32 * j,
                    "node record at offset %llu: Merkle node %llu does not match the blocks it covers",
                    (unsigned long long)r->off, (unsigned long long)j);
                break;
            }
        }
    }
    push_job(st, r, -1, r->stored_size);
}

/* A directory: u64 first, u64 count, u64 nleaf, nleaf × (u64 offset, u64
 * first); every entry must name a sound leaf met earlier, and the leaves
 * must tile [first, first + count). */
static void do_dir(vstate *st, const nat_rec *r)
{
    nat_index_head h = {0};
    int ok = plain_internal(st, r, "index") == 0;
    if (nat_index_head_parse(st->base, r, &h) != NAT_KIND_DIR) ok = 0;
    const uint8_t *p = st->base + r->payload_off;
    uint64_t first = h.first, count = h.count, n = h.third;
    if (!ok) {
        ERR(st, "index", "index", -1, r->off, "index directory at offset %llu: malformed", (unsigned long long)r->off);
    } else {
        uint64_t next = first;
        for (uint64_t i = 0; i < n && ok; i++) {
            const uint8_t *e = p + NAT_DIR_HEAD + NAT_DIR_ENTRY * i;
            const idx_seen *l = find_idx(st, rd64le(e));
            if (!l || l->kind != NAT_KIND_INDEX || !l->ok || l->first != rd64le(e + 8) || l->first != next) {
                ERR(st, "index", "index", -1, r->payload_off + NAT_DIR_HEAD + NAT_DIR_ENTRY * i,
                    "index directory at offset %llu: entry %llu does not name a sound index record for block %llu",
                    (unsigned long long)r->off, (unsigned long long)i, (unsigned long long)next);
                ok = 0;
            } else {
                next = l->first + l->count;
            }
        }
        if (ok && next - first != count) {
            ERR(st, "index", "index", -1, r->off, "index directory at offset %llu: its leaves cover %llu blocks, it claims %llu",
                (unsigned long long)r->off, (unsigned long long)(next - first), (unsigned long long)count);
            ok = 0;
        }
    }
    remember_idx(st, r, first, count, NAT_KIND_DIR, ok);
}

static void do_commit(vstate *st, const nat_rec *r)
{
    plain_internal(st, r, "commit");
    nat_commit c;
    char err[200];
    if (nat_commit_parse(st->base, r, &c, err, sizeof err) != MAIF_OK) {
        ERR(st, "structure", "commit", -1, r->off, "%s", err);
        st->broken_commit = 1;
        return;
    }
    uint8_t h[32];
    nat_commit_content_hash_at(st->base + r->payload_off, r->stored_size, c.sig_off, c.sig_len, h);
    if (memcmp(h, r->hdr + NR_CONTENT_HASH, 32) != 0)
        ERR(st, "content-hash", "commit", -1, r->off, "commit %llu at offset %llu: content hash mismatch",
            (unsigned long long)st->commits, (unsigned long long)r->off);
    if (c.seq != st->commits)
        ERR(st, "commit", "commit", -1, r->off, "commit at offset %llu: sequence %llu, expected %llu",
            (unsigned long long)r->off, (unsigned long long)c.seq, (unsigned long long)st->commits);
    if (c.blocks != st->nblocks)
        ERR(st, "commit", "commit", -1, r->off, "commit %llu at offset %llu: claims %llu blocks, %llu precede it",
            (unsigned long long)c.seq, (unsigned long long)r->off, (unsigned long long)c.blocks,
            (unsigned long long)st->nblocks);
    if (c.prev != st->last_commit_off)
        ERR(st, "commit", "commit", -1, r->off, "commit %llu at offset %llu: previous-commit link is %llu, expected %llu",
            (unsigned long long)c.seq, (unsigned long long)r->off, (unsigned long long)c.prev,
            (unsigned long long)st->last_commit_off);
    uint8_t root[32];
    nat_merkle_root(&st->merkle, root);
    if (memcmp(root, c.merkle, 32) != 0)
        ERR(st, "merkle-root", "commit", -1, r->off, "commit %llu at offset %llu: Merkle root does not match the blocks",
            (unsigned long long)c.seq, (unsigned long long)r->off);
    if (c.nfrontier != st->merkle.depth ||
        (c.nfrontier && memcmp(c.frontier, st->merkle.h, (size_t)c.nfrontier * 32) != 0))
        ERR(st, "merkle-frontier", "commit", -1, r->off, "commit %llu at offset %llu: Merkle frontier does not match",
            (unsigned long long)c.seq, (unsigned long long)r->off);
    uint64_t next = 0;
    for (uint32_t i = 0; i < c.nseg; i++) {
        const nat_seg *s = &c.seg[i];
        const idx_seen *x = find_idx(st, s->off);
        if (!x || !x->ok || x->first != s->first || x->count != s->count || s->first != next) {
            ERR(st, "index", "commit", -1, r->off, "commit %llu at offset %llu: index segment %u does not match an index record",
                (unsigned long long)c.seq, (unsigned long long)r->off, i);
            break;
        }
        next = s->first + s->count;
    }
    if (next != c.blocks && c.blocks == st->nblocks)
        ERR(st, "index", "commit", -1, r->off, "commit %llu at offset %llu: index covers %llu of %llu blocks",
            (unsigned long long)c.seq, (unsigned long long)r->off, (unsigned long long)next, (unsigned long long)c.blocks);
    maif_report_signer_seen(st->rep, st->opt, c.signer, c.alg, "commit", (int64_t)r->off);
    uint8_t msg[48];
    memcpy(msg, NAT_SIG_DOMAIN, 16);
    memcpy(msg + 16, r->hdr + NR_RECORD_HASH, 32);
    uint8_t id[32];
    if (c.alg == MAIF_SIG_ED25519) memcpy(id, c.pk, 32);
    else maif_sha256(c.pk, c.pk_len, id);
    if (memcmp(id, c.signer, 32) != 0)
        ERR(st, "signature", "commit", -1, r->off,
            "commit %llu at offset %llu: the signer field does not name the key in the signature area",
            (unsigned long long)c.seq, (unsigned long long)r->off);
    else if (!maif_sig_verify(c.alg, c.pk, c.pk_len, msg, sizeof msg, c.sig, c.sig_len))
        ERR(st, "signature", "commit", -1, r->off, "commit %llu at offset %llu: %s signature does not verify",
            (unsigned long long)c.seq, (unsigned long long)r->off, maif_sig_alg_name(c.alg));
    st->commits++;
    st->last_commit_off = r->off;
    st->last_commit_end = r->end;
    st->committed_blocks = st->nblocks;
}

/* ---- parallel payload hashing */

/* One payload's content hash (SHA-256 or BLAKE3, as the header says)
 * against its record's (runs on the pool; writes only job i). */
static void hash_job(void *ctx, uint64_t i, void *scratch)
{
    (void)scratch;
    vstate *st = ctx;
    job *j = &st->jobs[i];
    uint8_t h[32];
    maif_chash(st->hash_alg, st->base + j->payload_off, (size_t)j->size, h);
    j->bad = memcmp(h, st->base + j->rec_off + NR_CONTENT_HASH, 32) != 0;
}

/* A payload that fails its content hash is accepted only when all of
 * this holds: a later erasure record (FORMAT.md §5.10), itself intact
 * (content hash) and committed, with its "overwritten" flag set, names the
 * block's id together with the content hash its header still carries (the
 * record hash covers it, so the chain and the signed commits vouch for it),
 * and the block has a cipher. Then an all-zero payload was erased
 * (bad == 2, an info finding); any other bytes are an overwrite that was
 * interrupted (bad == 3, a warning: the record says the content is gone,
 * its key is destroyed; `maif shred --punch` again finishes it). */
typedef struct bad_ref {
    uint8_t id[16];
    uint64_t job;
} bad_ref;

static int cmp_bad(const void *a, const void *b) { return memcmp(a, b, 16); }

static void accept_erasures(vstate *st)
{
    if (!st->neras) return;
    uint64_t nbad = 0;
    for (uint64_t i = 0; i < st->njobs; i++) nbad += st->jobs[i].bad && st->jobs[i].block >= 0;
    if (!nbad) return;
    bad_ref *bad = maif_malloc((size_t)nbad * sizeof *bad);
    if (!bad) {
        st->oom = 1;
        return;
    }
    uint64_t k = 0;
    for (uint64_t i = 0; i < st->njobs; i++)
        if (st->jobs[i].bad && st->jobs[i].block >= 0) {
            memcpy(bad[k].id, st->base + st->jobs[i].rec_off + NR_ID, 16);
            bad[k++].job = i;
        }
    qsort(bad, (size_t)nbad, sizeof *bad, cmp_bad);
    for (uint64_t e = 0; e < st->neras; e++) {
        const job *ej = &st->jobs[st->eras[e]];
        if (ej->bad || ej->block < 0 || (uint64_t)ej->block >= st->committed_blocks) continue;
        const uint8_t *p = st->base + ej->payload_off;
        if (ej->size < 9 || memcmp(p, "MER1", 4) != 0 || p[4] != 1) continue;
        uint64_t cnt = rd32le(p + 5);
        if (cnt > 4096 || ej->size != 9 + cnt * 48) continue;
        for (uint64_t x = 0; x < cnt; x++) {
            const uint8_t *ent = p + 9 + x * 48;
            bad_ref *hit = bsearch(ent, bad, (size_t)nbad, sizeof *bad, cmp_bad);
            if (!hit) continue;
            while (hit > bad && memcmp(hit[-1].id, ent, 16) == 0) hit--; /* ids may repeat in a hostile file */
            for (; hit < bad + nbad && memcmp(hit->id, ent, 16) == 0; hit++) {
                job *j = &st->jobs[hit->job];
                const uint8_t *hdr = st->base + j->rec_off;
                if (j->bad != 1 || j->block >= ej->block || memcmp(hdr + NR_CONTENT_HASH, ent + 16, 32) != 0 ||
                    hdr[NR_CIPHER] == 0)
                    continue;
                j->bad = all_zero(st->base + j->payload_off, (size_t)j->size) ? 2 : 3;
            }
        }
    }
    maif_free(bad);
}

static void run_jobs(vstate *st)
{
    uint64_t bytes = 0;
    for (uint64_t i = 0; i < st->njobs; i++) bytes += st->jobs[i].size;
    unsigned n = st->opt && st->opt->threads ? st->opt->threads : maif_pool_cpus();
    if (n > MAIF_POOL_MAX_THREADS) n = MAIF_POOL_MAX_THREADS;
    if (n < 1 || bytes < (4u << 20)) n = 1;
    maif_pool_run(n, st->njobs, hash_job, st, NULL, 0);
    accept_erasures(st);
    for (uint64_t i = 0; i < st->njobs; i++) {
        const job *j = &st->jobs[i];
        if (j->bad == 2)
            maif_report_add(st->rep, MAIF_SEV_INFO, "erased", "block", j->block, (int64_t)j->rec_off,
                            "block %lld at offset %llu: payload erased (crypto-shredded and overwritten), as the "
                            "signed erasure record names it",
                            (long long)j->block, (unsigned long long)j->rec_off);
        if (j->bad == 3)
            maif_report_add(st->rep, MAIF_SEV_WARNING, "erasure-incomplete", "block", j->block, (int64_t)j->rec_off,
                            "block %lld at offset %llu: a signed erasure record says its payload was overwritten, "
                            "but stored bytes remain (an interrupted `maif shred --punch`: run it again)",
                            (long long)j->block, (unsigned long long)j->rec_off);
        if (j->bad != 1) continue;
        if (j->block >= 0)
            ERR(st, "content-hash", "block", j->block, j->rec_off, "block %lld at offset %llu: content hash mismatch",
                (long long)j->block, (unsigned long long)j->rec_off);
        else
            ERR(st, "content-hash", "index", -1, j->rec_off, "index record at offset %llu: content hash mismatch",
                (unsigned long long)j->rec_off);
    }
}

/* Does the file end with a tail that points at a commit-shaped record
 * ending exactly at EOF? Then the writer finished a commit there, and
 * nothing before it may be treated as a torn write. */
static int claims_tail(const uint8_t *base, uint64_t size, uint64_t header_size)
{
    if (size < header_size + NAT_REC_HEADER + NAT_TAIL_SIZE) return 0;
    const uint8_t *t = base + size - NAT_TAIL_SIZE;
    if (memcmp(t + 8, NAT_TAIL_MAGIC, 8) != 0) return 0;
    uint64_t off = rd64le(t);
    return off >= header_size && off <= size - NAT_REC_HEADER && base[off + NR_KIND] == NAT_KIND_COMMIT;
}

void nat_verify(const uint8_t *base, uint64_t size, const maif_verify_options *opt, maif_report *rep)
{
    vstate st = {.base = base, .size = size, .opt = opt, .rep = rep};
    nat_header h;
    char err[300];
    if (nat_header_parse(base, size, &h, err, sizeof err) != MAIF_OK) {
        maif_report_add(rep, MAIF_SEV_ERROR, "structure", "header", -1, 0, "header: %s", err);
        return;
    }
    st.hash_alg = h.hash_alg;
    check_header(&st, &h);
    uint8_t prev[32];
    maif_sha256(base, h.header_size, prev);
    uint64_t off = h.header_size;
    int stopped = 0, stopped_torn = 0;
    /* The first record whose head looks like a write cut short at a page
     * boundary (nat_rec_head_torn): damage if a commit follows it, part of
     * the torn tail otherwise. */
    uint64_t cut_off = 0, cut_commits = 0;
    int64_t cut_blk = -1;
    const char *cut_sec = NULL;
    while (off < size && !st.oom) {
        nat_rec r;
        int truncated;
        if (nat_rec_parse(base, size, off, &r, &truncated, err, sizeof err) != MAIF_OK) {
            stopped = 1;
            (void)truncated; /* the one torn-write rule decides, as for recovery */
            stopped_torn = nat_rec_torn_at(base, size, off, prev);
            break;
        }
        int64_t blk = memcmp(r.tag, NAT_TAG_BLOCK, 4) == 0 ? (int64_t)st.nblocks : -1;
        int is_dir = memcmp(r.tag, NAT_TAG_DIR, 4) == 0, is_nodes = memcmp(r.tag, NAT_TAG_NODES, 4) == 0;
        const char *sec = blk >= 0                                                         ? "block"
                          : is_dir || is_nodes || memcmp(r.tag, NAT_TAG_INDEX, 4) == 0 ? "index"
                                                                                           : "commit";
        uint8_t rh[32];
        nat_rec_hash(base, &r, prev, rh);
        if (memcmp(rh, r.hdr + NR_RECORD_HASH, 32) != 0) {
            if (!cut_sec && nat_rec_head_torn(base, &r)) {
                cut_sec = sec, cut_blk = blk, cut_off = off, cut_commits = st.commits;
                memcpy(prev, r.hdr + NR_RECORD_HASH, 32);
                off = r.end;
                continue; /* judged once we know whether a commit follows */
            }
            ERR(&st, "chain", sec, blk, off, "%s record at offset %llu: record hash mismatch (header, extensions or metadata changed, or the chain is broken)",
                sec, (unsigned long long)off);
        }
        uint64_t head_end = r.meta_off + r.meta_size, pay_end = r.payload_off + r.stored_size;
        if (!all_zero(base + head_end, r.payload_off - head_end) || !all_zero(base + pay_end, r.end - pay_end))
            ERR(&st, "padding", sec, blk, off, "%s record at offset %llu: padding must be zero", sec, (unsigned long long)off);
        if (blk < 0 && (r.codec || r.cipher))
            ERR(&st, "unsupported", sec, blk, off, "%s record at offset %llu: codec %u / cipher %u on a record that "
                "is not a block", sec, (unsigned long long)off, r.codec, r.cipher);
        else if (!maif_codec_known(r.codec) || !maif_cipher_known(r.cipher))
            /* the stored bytes are what the hashes cover, so integrity does
             * not depend on them; only decoding does */
            maif_report_add(rep, MAIF_SEV_WARNING, "unsupported", sec, blk, (int64_t)off,
                            "block %lld at offset %llu: codec %u / cipher %u is unknown to this library: its "
                            "stored bytes verify, but it cannot be decoded",
                            (long long)blk, (unsigned long long)off, r.codec, r.cipher);
        if (blk >= 0) do_block(&st, &r, r.hdr + NR_RECORD_HASH);
        else if (is_dir) do_dir(&st, &r);
        else if (is_nodes) do_nodes(&st, &r);
        else if (sec[0] == 'i') do_index(&st, &r);
        else do_commit(&st, &r);
        memcpy(prev, r.hdr + NR_RECORD_HASH, 32); /* continue from the stored hash: one finding per damaged record */
        off = r.end;
    }
    if (cut_sec && st.commits > cut_commits)
        ERR(&st, "chain", cut_sec, cut_blk, cut_off, "%s record at offset %llu: record hash mismatch (header, extensions or metadata changed, or the chain is broken)",
            cut_sec, (unsigned long long)cut_off);
    if (st.oom) maif_report_add(rep, MAIF_SEV_ERROR, "memory", "file", -1, (int64_t)off, "out of memory while verifying");
    run_jobs(&st);
    int tail = claims_tail(base, size, h.header_size);
    uint64_t uncommitted = st.commits ? size - st.last_commit_end : size - h.header_size;
    if (st.commits == 0) {
        ERR(&st, "no-commit", "file", -1, h.header_size, "no commit record: nothing in the file is sealed");
    } else if (stopped && !(stopped_torn && !tail)) {
        ERR(&st, "structure", "file", -1, off, "%s", err);
    } else if (uncommitted) {
        if (tail || st.broken_commit)
            ERR(&st, "structure", "file", -1, st.last_commit_end, "%llu bytes after the last commit at offset %llu",
                (unsigned long long)uncommitted, (unsigned long long)st.last_commit_end);
        else
            maif_report_add(rep, MAIF_SEV_WARNING, "torn-tail", "file", -1, (int64_t)st.last_commit_end,
                            "%llu uncommitted bytes after the last commit (offset %llu), left by an interrupted append; "
                            "readers ignore them and `maif recover` removes them",
                            (unsigned long long)uncommitted, (unsigned long long)st.last_commit_end);
    }
    maif_report_set_blocks(rep, st.committed_blocks);
    maif_free(st.offs);
    maif_free(st.jobs);
    maif_free(st.eras);
    maif_free(st.idx);
    maif_free(st.nodes);
    maif_buf_free(&st.scratch);
}
