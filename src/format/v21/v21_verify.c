/*
 * v21_verify.c — strict verification of MAIF 2.1 files.
 *
 * The original implementation's reader checks only content hashes, the
 * chain, the Merkle root and the signatures of blocks flagged SIGNED. This
 * verifier checks every byte it can attach a rule to: all signatures (block,
 * file, provenance entries) whatever the flags say, every reserved and
 * padding field, the footer's size and checksum, the provenance chain and
 * its agreement with the blocks, the security section, the index, and that
 * the JSON sections are exactly the bytes Python would have written. The
 * public key comes from the security section and is handed to the report,
 * which compares it with the keys the caller pins.
 *
 * Each rule failing adds one finding (section, block, offset, stable code);
 * checks go on after a failure so the report is complete. Structural damage
 * that stops parsing yields a single "structure" finding.
 *
 * Nearly all the time goes to two Ed25519 verifications per block (the
 * block's and its provenance entry's) and, on large blocks, to hashing. So
 * the work is split in two: a parallel part that only computes (content
 * hash, block signature, metadata parse and form, provenance entry hash and
 * signature) into one small result per block or entry, run on a pool of
 * threads; and a sequential part that walks the file in order and turns
 * those results, plus the cheap field checks, into findings. The report is
 * therefore the same, finding for finding and in the same order, whatever
 * the number of threads. The footer checksum (SHA-256 of the whole file) is
 * computed on a thread of its own from the start; the provenance entries
 * are parsed on the pool beside the blocks (see struct v21_prov), then their
 * hashes and signatures are checked on it.
 *
 * This file holds the order of the whole check and the header, security,
 * block, index and footer rules; the provenance rules, which are a walk
 * of their own over a JSON array, are in v21_verify_prov.c (v21_prov.h);
 * both use the context and small checks of v21_vctx.h (v21_vcheck.c).
 *
 * Memory use is bounded by the image: one signing buffer per thread no
 * larger than the largest block, 32 bytes per block for hashes, one result
 * per block and per provenance entry, and the parsed JSON sections.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "format/v21/v21_prov.h"
#include "report/report.h"
#include "crypto/crypto.h"
#include "util/alloc.h"
#include "util/common.h"
#include "util/pool.h"
#include "util/pyjson.h"

#define MAX_THREADS MAIF_POOL_MAX_THREADS
/* Below both, one thread: starting threads costs more than it saves (and
 * the byte-flip tests verify small files many thousands of times). */
#define SMALL_BLOCKS 4
#define SMALL_BYTES  (1u << 20)

/* Checks a 256-byte signature field's layout; returns 1 if it is well formed. */
static int sig_field_ok(v21_vctx *v, const uint8_t *f, const char *section, int64_t block, uint64_t off)
{
    int ok = 1;
    if (memcmp(f, V21_SIG_TAG, V21_SIG_TAG_LEN) != 0) {
        ERR(v, "signature-field", section, block, off, "%s signature at offset %" PRIu64 " lacks the ED25519: tag",
            section, off);
        ok = 0;
    }
    const size_t pad = V21_SIG_TAG_LEN + MAIF_SIGNATURE_BYTES;
    if (!all_zero(f + pad, V21_SIG_FIELD - pad)) {
        ERR(v, "reserved", section, block, off + pad, "%s signature padding at offset %" PRIu64 " is not zero",
            section, off + pad);
        ok = 0;
    }
    return ok;
}

/* ------------------------------------------------------------- header */

static void check_header(v21_vctx *v)
{
    const uint8_t *b = v->buf;
    uint32_t flags = rd32be(b + V21_H_FLAGS);
    if (flags & ~0x0Fu)
        ERR(v, "header-flags", "header", -1, V21_H_FLAGS, "header flags 0x%08x has undefined bits", flags);
    if (flags & V21_HF_ENCRYPTION)
        ERR(v, "unsupported", "header", -1, V21_H_FLAGS, "header flags mark the file encrypted (not supported)");
    if ((flags & V21_HEADER_FLAGS) != V21_HEADER_FLAGS)
        ERR(v, "header-flags", "header", -1, V21_H_FLAGS,
            "header flags 0x%08x lack SIGNED, FINALIZED or HAS_PROVENANCE", flags);
    if (rd64be(b + V21_H_MODIFIED) < rd64be(b + V21_H_CREATED))
        ERR(v, "timestamps", "header", -1, V21_H_MODIFIED, "header modified time precedes created time");
    size_t dl = strlen(v->m->agent);
    if (dl == 0 || strncmp(v->m->agent, "did:maif:", 9) != 0)
        ERR(v, "agent-did", "header", -1, V21_H_AGENT_DID, "header agent_did is not a did:maif: identifier");
    if (dl < V21_DID_LEN && !all_zero(b + V21_H_AGENT_DID + dl, V21_DID_LEN - dl))
        ERR(v, "reserved", "header", -1, V21_H_AGENT_DID + dl,
            "agent_did padding at offset %zu is not all zero", (size_t)(V21_H_AGENT_DID + dl));
    if (!all_zero(b + V21_H_RESERVED, 4))
        ERR(v, "reserved", "header", -1, V21_H_RESERVED, "header reserved bytes at offset %d are not zero",
            V21_H_RESERVED);
    int layout = sig_field_ok(v, b + V21_H_SIGNATURE, "header", -1, V21_H_SIGNATURE);
    if (v->have_pk && layout &&
        !maif_ed25519_verify(v->pk, b, V21_H_SIGNED_LEN, b + V21_H_SIGNATURE + V21_SIG_TAG_LEN))
        ERR(v, "file-signature", "header", -1, V21_H_SIGNATURE,
            "file signature at offset %d: authentication failed", V21_H_SIGNATURE);
    else if (v->have_pk && !layout)
        ERR(v, "file-signature", "header", -1, V21_H_SIGNATURE, "file signature at offset %d cannot be checked",
            V21_H_SIGNATURE);
}

/* ------------------------------------------------------------- security */

static const char *const sec_keys[] = {"signer_id", "signer_did", "public_key", "key_algorithm",
                                       "signature_algorithm", "signed_at"};

static void check_security(v21_vctx *v)
{
    const maif21 *m = v->m;
    uint64_t off = m->sec_off;
    const uint8_t *j = v->buf + off + 4;
    json_error_t je;
    json_t *root = json_loadb((const char *)j, m->sec_len, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(root)) {
        ERR(v, "security-json", "security", -1, off, "security section at offset %" PRIu64 " is not a JSON object",
            off);
        json_decref(root);
        return;
    }
    if (!v21_same_as_python(root, j, m->sec_len))
        ERR(v, "security-form", "security", -1, off,
            "security JSON at offset %" PRIu64 " is not in the form the 2.1 writer produces", off);
    /* Exactly the six keys, in the writer's order. */
    const size_t nk = sizeof sec_keys / sizeof sec_keys[0];
    size_t k = 0;
    const char *key;
    json_t *val;
    int order_ok = json_object_size(root) == nk;
    json_object_foreach(root, key, val) {
        if (k >= nk || strcmp(key, sec_keys[k]) != 0) order_ok = 0;
        k++;
    }
    if (!order_ok)
        ERR(v, "security-field", "security", -1, off, "security JSON keys differ from the 2.1 set and order");

    json_t *sid = json_object_get(root, "signer_id"), *sdid = json_object_get(root, "signer_did");
    json_t *pk = json_object_get(root, "public_key"), *ts = json_object_get(root, "signed_at");
    json_t *ka = json_object_get(root, "key_algorithm"), *sa = json_object_get(root, "signature_algorithm");
    if (!json_is_string(sid) || !json_is_string(sdid) || !json_is_integer(ts) || json_integer_value(ts) < 0)
        ERR(v, "security-field", "security", -1, off, "security signer_id, signer_did or signed_at missing or mistyped");
    if (json_is_string(sid)) v->signer_id = maif_strdup(json_string_value(sid));
    if (json_is_string(sdid) && !v21_did_matches_header(v, json_string_value(sdid)))
        ERR(v, "security-signer", "security", -1, off, "security signer_did differs from the header agent_did");
    if (!json_is_string(ka) || strcmp(json_string_value(ka), "Ed25519") != 0 || !json_is_string(sa) ||
        strcmp(json_string_value(sa), "Ed25519") != 0)
        ERR(v, "security-algorithm", "security", -1, off, "security key or signature algorithm is not Ed25519");
    if (json_is_string(pk) && v21_is_lower_hex(json_string_value(pk), 2 * MAIF_PUBKEY_BYTES) &&
        maif_unhex(json_string_value(pk), v->pk, MAIF_PUBKEY_BYTES) == MAIF_OK) {
        v->have_pk = 1;
        maif_report_signer_seen(v->rep, v->opt, v->pk, MAIF_SIG_ED25519, "security", (int64_t)off);
    } else {
        ERR(v, "public-key", "security", -1, off,
            "security public_key is not 64 hex digits; no signature can be checked");
    }
    json_decref(root);
}

/* ------------------------------------------------------------- threads */

/* Per-thread scratch for maif_pool_run: the buffer a block's signed
 * message is built in. */
typedef struct wstate {
    uint8_t *p;
    size_t cap;
} wstate;

/* Grows a thread's signing buffer; 0 if out of memory. */
static int ws_reserve(wstate *ws, size_t need)
{
    if (need <= ws->cap) return 1;
    uint8_t *p = maif_realloc(ws->p, need);
    if (!p) return 0;
    ws->p = p;
    ws->cap = need;
    return 1;
}

/* The footer checksum covers everything before the footer. */
typedef struct footer_hash {
    const uint8_t *buf;
    size_t n;
    uint8_t h[MAIF_HASH_BYTES];
    pthread_t t;
    int running;
} footer_hash;

static void *footer_thread(void *arg)
{
    footer_hash *f = arg;
    maif_sha256(f->buf, f->n, f->h);
    return NULL;
}

/* ------------------------------------------------------------- blocks */

/* What the pool found for one block; reported by report_block. */
enum {
    BR_META_NOT_OBJECT = 1u << 0, /* metadata does not parse to a JSON object */
    BR_META_FORM = 1u << 1,       /* ... or is not in Python's sorted form */
    BR_EMBEDDING = 1u << 2,       /* embedding payload does not fit dimensions/count */
    BR_CONTENT_HASH = 1u << 3,
    BR_SIG_BAD = 1u << 4,         /* signature checked and failed */
    BR_SIG_NOMEM = 1u << 5,       /* no memory to build the signed message */
};

/* Signature field layout: bit 0 tag wrong, bit 1 padding not zero. */
static unsigned sig_field_layout(const uint8_t *f)
{
    const size_t pad = V21_SIG_TAG_LEN + MAIF_SIGNATURE_BYTES;
    return (memcmp(f, V21_SIG_TAG, V21_SIG_TAG_LEN) != 0 ? 1u : 0u) |
           (!all_zero(f + pad, V21_SIG_FIELD - pad) ? 2u : 0u);
}

/* The expensive half of a block's checks (runs on the pool). */
static void block_work(const v21_vctx *v, uint8_t *res, uint64_t i, wstate *ws)
{
    maif_block bk;
    maif21_block(v->m, i, &bk);
    const uint8_t *h = v->buf + bk.offset;
    const size_t body = bk.payload_size + bk.meta_size;
    unsigned r = 0;

    /* Metadata: a JSON object, byte for byte in Python's sorted form. Parsed
     * once, with the flags maif_json_canonicalize uses, so its dump is what
     * that would produce: "\u0000" in a string is valid JSON (Python reads
     * it, and the writers store it), so it must not fail the block. */
    json_error_t je;
    json_t *meta =
        bk.meta_size ? json_loadb(bk.meta, bk.meta_size, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je) : NULL;
    int nonempty = !(bk.meta_size == 2 && memcmp(bk.meta, "{}", 2) == 0);
    if (!json_is_object(meta)) {
        r |= BR_META_NOT_OBJECT;
    } else {
        nonempty = json_object_size(meta) > 0;
        maif_buf c = {0};
        if (maif_json_dump(meta, MAIF_JSON_PY, &c) != MAIF_OK || c.len != bk.meta_size ||
            memcmp(c.data, bk.meta, c.len) != 0)
            r |= BR_META_FORM;
        maif_buf_free(&c);
        if (bk.type == MAIF_TYPE_EMBEDDING && !v21_embedding_fits(bk.payload_size, meta)) r |= BR_EMBEDDING;
    }
    json_decref(meta);

    uint8_t ch[MAIF_HASH_BYTES];
    v21_content_hash(bk.payload, bk.payload_size, (const uint8_t *)bk.meta, bk.meta_size, nonempty, ch);
    if (memcmp(ch, h + V21_B_HASH, MAIF_HASH_BYTES) != 0) r |= BR_CONTENT_HASH;

    if (v->have_pk && sig_field_layout(h + V21_B_SIGNATURE) == 0) {
        size_t need = V21_B_SIGNED_PREFIX + body;
        if (!ws_reserve(ws, need)) {
            r |= BR_SIG_NOMEM;
        } else {
            v21_block_prefix(h, ws->p);
            memcpy(ws->p + V21_B_SIGNED_PREFIX, h + MAIF21_BLOCK_HEADER_SIZE, body);
            if (!maif_ed25519_verify(v->pk, ws->p, need, h + V21_B_SIGNATURE + V21_SIG_TAG_LEN)) r |= BR_SIG_BAD;
        }
    }
    res[i] = (uint8_t)r;
}

/* The sequential half: every finding for block i, in the order the rules
 * are listed. */
static void report_block(v21_vctx *v, uint64_t i, unsigned r, uint8_t *stored_hashes)
{
    maif_block bk;
    maif21_block(v->m, i, &bk);
    const uint8_t *h = v->buf + bk.offset;
    const uint64_t off = bk.offset;

    uint64_t moff = off + MAIF21_BLOCK_HEADER_SIZE + bk.payload_size;
    if (r & BR_META_NOT_OBJECT)
        ERR(v, "metadata", "block", i, moff, "block %" PRIu64 " at offset %" PRIu64 ": metadata is not a JSON object",
            i, off);
    if (r & BR_META_FORM)
        ERR(v, "metadata-form", "block", i, moff,
            "block %" PRIu64 " at offset %" PRIu64 ": metadata is not in Python's sorted JSON form", i, off);
    if (r & BR_EMBEDDING)
        ERR(v, "embedding-shape", "block", i, bk.offset,
            "block %" PRIu64 " at offset %" PRIu64 ": %zu payload bytes do not match float32 count x dimensions", i,
            bk.offset, bk.payload_size);
    if (r & BR_CONTENT_HASH)
        ERR(v, "content-hash", "block", i, off + V21_B_HASH,
            "block %" PRIu64 " at offset %" PRIu64 ": content hash mismatch", i, off);
    memcpy(stored_hashes + i * MAIF_HASH_BYTES, h + V21_B_HASH, MAIF_HASH_BYTES);

    static const uint8_t zeros[MAIF_HASH_BYTES];
    const uint8_t *want_prev = i ? stored_hashes + (i - 1) * MAIF_HASH_BYTES : zeros;
    if (memcmp(h + V21_B_PREV, want_prev, MAIF_HASH_BYTES) != 0)
        ERR(v, "chain", "block", i, off + V21_B_PREV,
            "block %" PRIu64 " at offset %" PRIu64 ": previous_hash does not match the previous block's content hash",
            i, off);

    uint32_t version = rd32be(h + V21_B_VERSION);
    if (version != V21_BLOCK_VERSION)
        ERR(v, "block-version", "block", i, off + V21_B_VERSION,
            "block %" PRIu64 " at offset %" PRIu64 ": version %u (expected 1)", i, off, version);
    uint32_t fl = bk.flags;
    if (fl & ~0x3Fu)
        ERR(v, "block-flags", "block", i, off + V21_B_FLAGS,
            "block %" PRIu64 " at offset %" PRIu64 ": flags 0x%08x have undefined bits", i, off, fl);
    if (fl & (V21_BF_ENCRYPTED | V21_BF_COMPRESSED))
        ERR(v, "unsupported", "block", i, off + V21_B_FLAGS,
            "block %" PRIu64 " at offset %" PRIu64 ": encrypted or compressed blocks are not supported", i, off);
    if (fl & V21_BF_TAMPERED)
        ERR(v, "block-flags", "block", i, off + V21_B_FLAGS,
            "block %" PRIu64 " at offset %" PRIu64 ": marked TAMPERED", i, off);
    if (!(fl & V21_BF_SIGNED))
        ERR(v, "block-flags", "block", i, off + V21_B_FLAGS,
            "block %" PRIu64 " at offset %" PRIu64 ": SIGNED flag clear (2.1 writers sign every block)", i, off);
    for (int c = 0; c < 4; c++) {
        uint8_t t = h[V21_B_TYPE + c];
        if (t < 0x20 || t > 0x7e) {
            ERR(v, "block-type", "block", i, off + V21_B_TYPE,
                "block %" PRIu64 " at offset %" PRIu64 ": type is not four printable characters", i, off);
            break;
        }
    }
    if (!all_zero(h + V21_B_RESERVED, 8))
        ERR(v, "reserved", "block", i, off + V21_B_RESERVED,
            "block %" PRIu64 " at offset %" PRIu64 ": reserved bytes are not zero", i, off);

    int layout = sig_field_ok(v, h + V21_B_SIGNATURE, "block", (int64_t)i, off + V21_B_SIGNATURE);
    if (!v->have_pk) return;
    if (!layout)
        ERR(v, "block-signature", "block", i, off + V21_B_SIGNATURE,
            "block %" PRIu64 " at offset %" PRIu64 ": signature cannot be checked", i, off);
    else if (r & BR_SIG_NOMEM)
        ERR(v, "no-memory", "block", i, off, "block %" PRIu64 ": out of memory checking the signature", i);
    else if (r & BR_SIG_BAD)
        ERR(v, "block-signature", "block", i, off + V21_B_SIGNATURE,
            "block %" PRIu64 " at offset %" PRIu64 ": signature: authentication failed", i, off);
}

/* ------------------------------------------------------------- phase one */

/* Work for phase one: blocks, then (fast path) entry parses. */
typedef struct phase1_job {
    const v21_vctx *v;
    uint8_t *bres;        /* one BR_* set per block */
    v21_prov *pv;
    _Atomic int fast_bad; /* an entry failed the fast path */
} phase1_job;

static void phase1_work(void *ctx, uint64_t i, void *scratch)
{
    wstate *ws = scratch;
    phase1_job *job = ctx;
    uint64_t n = job->v->m->n;
    if (i < n) {
        block_work(job->v, job->bres, i, ws);
        return;
    }
    if (!v21_prov_parse_entry(job->v, job->pv, (size_t)(i - n))) atomic_store(&job->fast_bad, 1);
}

/* ------------------------------------------------------------- index, sections, footer */

static void check_index(v21_vctx *v)
{
    const maif21 *m = v->m;
    for (uint64_t i = 0; i < m->n; i++) {
        uint64_t eo = m->index_off + i * MAIF21_INDEX_ENTRY_SIZE;
        const uint8_t *e = v->buf + eo;
        const v21_block *b = &m->blocks[i];
        const uint8_t *h = v->buf + b->offset;
        if (rd64be(e) != b->offset || rd64be(e + 8) != b->size || rd32be(e + 16) != rd32be(h + V21_B_TYPE) ||
            rd32be(e + 20) != rd32be(h + V21_B_FLAGS))
            ERR(v, "index", "index", i, eo,
                "index entry %" PRIu64 " at offset %" PRIu64 " does not match block %" PRIu64 " at offset %" PRIu64,
                i, eo, i, b->offset);
    }
}

static void check_layout_and_footer(v21_vctx *v, footer_hash *fh)
{
    const maif21 *m = v->m;
    if (m->sec_off != m->prov_off + 4 + m->prov_len)
        ERR(v, "section-offset", "security", -1, m->sec_off,
            "security section at offset %" PRIu64 " does not directly follow the provenance section", m->sec_off);
    if (m->index_off != m->sec_off + 4 + m->sec_len)
        ERR(v, "section-offset", "index", -1, m->index_off,
            "index at offset %" PRIu64 " does not directly follow the security section", m->index_off);
    uint64_t fo = v->len - MAIF21_FOOTER_SIZE;
    const uint8_t *f = v->buf + fo;
    if (rd64be(f + 4) != v->len)
        ERR(v, "footer-size", "footer", -1, fo + 4, "footer total_size %" PRIu64 " but the file has %zu bytes",
            rd64be(f + 4), v->len);
    if (fh->running) {
        pthread_join(fh->t, NULL);
        fh->running = 0;
    } else {
        maif_sha256(v->buf, fo, fh->h);
    }
    if (memcmp(fh->h, f + 12, MAIF_HASH_BYTES) != 0)
        ERR(v, "footer-hash", "footer", -1, fo + 12, "footer checksum at offset %" PRIu64 " does not match the file",
            fo + 12);
    if (!all_zero(f + 44, 4))
        ERR(v, "reserved", "footer", -1, fo + 44, "footer reserved bytes at offset %" PRIu64 " are not zero", fo + 44);
}

/* Threads for this file: opt->threads, else one per usable CPU, at most
 * MAX_THREADS; one for a small file. */
static unsigned pick_threads(const maif_verify_options *opt, const maif21 *m, size_t len)
{
    long n = opt && opt->threads ? (long)opt->threads : (long)maif_pool_cpus();
    if (n < 1) n = 1;
    if (n > MAX_THREADS) n = MAX_THREADS;
    if (m->n < SMALL_BLOCKS && len < SMALL_BYTES) n = 1;
    return (unsigned)n;
}

void maif21_verify(const uint8_t *buf, size_t len, const maif_verify_options *opt, maif_report *rep)
{
    if (!rep) return;
    maif_report_set_format(rep, MAIF_FORMAT_V21);
    if (maif_crypto_init() != MAIF_OK) {
        maif_report_add(rep, MAIF_SEV_ERROR, "no-memory", "file", -1, -1, "crypto initialisation failed");
        return;
    }
    maif21 *m = NULL;
    char err[256] = "";
    int rc = maif21_open(&m, buf, len, err, sizeof err);
    if (rc != MAIF_OK) {
        maif_report_add(rep, MAIF_SEV_ERROR, rc == MAIF_EVERSION ? "version" : "structure", "file", -1, -1,
                        "not a readable MAIF 2.1 file: %s", err);
        return;
    }
    maif_report_set_blocks(rep, m->n);
    v21_vctx v = {.buf = buf, .len = len, .m = m, .rep = rep, .opt = opt};
    uint8_t *hashes = maif_malloc(m->n ? m->n * MAIF_HASH_BYTES : 1);
    uint8_t *bres = maif_calloc(m->n ? m->n : 1, 1);
    if (!hashes || !bres) {
        maif_report_add(rep, MAIF_SEV_ERROR, "no-memory", "file", -1, -1, "out of memory");
        maif_free(hashes);
        maif_free(bres);
        maif21_close(m);
        return;
    }
    unsigned nthreads = pick_threads(opt, m, len);
    footer_hash fh = {.buf = buf, .n = len - MAIF21_FOOTER_SIZE};
    if (nthreads > 1) fh.running = pthread_create(&fh.t, NULL, footer_thread, &fh) == 0;

    check_security(&v); /* first: it names the key everything else is checked against */
    check_header(&v);

    /* Phase one: blocks and (when the section splits) provenance entry
     * parses. Phase two: entry hashes and signatures. */
    wstate ws[MAX_THREADS] = {{0}};
    v21_prov pv = {0};
    phase1_job p1 = {.v = &v, .bres = bres, .pv = &pv};
    atomic_init(&p1.fast_bad, 0);
    int fast = v21_prov_split((const char *)buf + m->prov_off + 4, m->prov_len, &pv) &&
               (pv.roots = maif_calloc(pv.ne ? pv.ne : 1, sizeof *pv.roots)) != NULL;
    maif_pool_run(nthreads, m->n + (fast ? pv.ne : 0), phase1_work, &p1, ws, sizeof ws[0]);
    if (fast && !atomic_load(&p1.fast_bad)) {
        pv.ents = maif_calloc(pv.ne ? pv.ne : 1, sizeof *pv.ents);
    } else {
        v21_prov_free(&pv);
        memset(&pv, 0, sizeof pv);
        v21_prov_parse_whole(&v, &pv);
    }
    if (pv.ents) v21_prov_check(&v, &pv, nthreads);
    for (unsigned k = 0; k < MAX_THREADS; k++) maif_free(ws[k].p);

    for (uint64_t i = 0; i < m->n; i++) report_block(&v, i, bres[i], hashes);
    uint8_t root[MAIF_HASH_BYTES];
    v21_merkle(hashes, m->n, root);
    if (memcmp(root, buf + V21_H_MERKLE, MAIF_HASH_BYTES) != 0)
        maif_report_add(rep, MAIF_SEV_ERROR, "merkle-root", "header", -1, V21_H_MERKLE,
                        "Merkle root at offset %d does not match the blocks' content hashes", V21_H_MERKLE);
    v21_prov_report(&v, &pv);
    check_index(&v);
    check_layout_and_footer(&v, &fh);
    v21_prov_free(&pv);
    maif_free(bres);
    maif_free(hashes);
    maif_free(v.signer_id);
    maif21_close(m);
}
