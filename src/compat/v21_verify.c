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
 * are parsed on the pool beside the blocks (see struct prov), then their
 * hashes and signatures are checked on it.
 *
 * Memory use is bounded by the image: one signing buffer per thread no
 * larger than the largest block, 32 bytes per block for hashes, one result
 * per block and per provenance entry, and the parsed JSON sections.
 */
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compat/v21_internal.h"
#include "core/report.h"
#include "crypto/crypto.h"
#include "util/common.h"
#include "util/pool.h"
#include "util/pyjson.h"

#define HEX_HASH (2 * MAIF_HASH_BYTES + 1)
#define MAX_THREADS MAIF_POOL_MAX_THREADS
/* Below both, one thread: starting threads costs more than it saves (and
 * the byte-flip tests verify small files many thousands of times). */
#define SMALL_BLOCKS 4
#define SMALL_BYTES  (1u << 20)

typedef struct vctx {
    const uint8_t *buf;
    size_t len;
    const maif21 *m;
    maif_report *rep;
    const maif_verify_options *opt;
    uint8_t pk[MAIF_PUBKEY_BYTES];
    int have_pk;
    char *signer_id; /* security signer_id (owned), or NULL */
} vctx;

#define ERR(v, code, section, block, off, ...) \
    maif_report_add((v)->rep, MAIF_SEV_ERROR, code, section, (int64_t)(block), (int64_t)(off), __VA_ARGS__)

/* 1 if the header agent_did (cut to 64 bytes) is what a writer would store
 * for did. */
static int did_matches_header(const vctx *v, const char *did)
{
    size_t dl = strlen(did);
    if (dl > V21_DID_LEN) dl = V21_DID_LEN;
    return strlen(v->m->agent) == dl && memcmp(v->m->agent, did, dl) == 0;
}

static int is_lower_hex(const char *s, size_t n)
{
    if (strlen(s) != n) return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return 0;
    return 1;
}

/* Checks a 256-byte signature field's layout; returns 1 if it is well formed. */
static int sig_field_ok(vctx *v, const uint8_t *f, const char *section, int64_t block, uint64_t off)
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

/* Compares JSON bytes with Python's ordered serialisation of their parse. */
static int same_as_python(const json_t *parsed, const uint8_t *bytes, size_t n)
{
    maif_buf b = {0};
    int same = v21_json_dump_ordered(parsed, &b) == MAIF_OK && b.len == n && (n == 0 || memcmp(b.data, bytes, n) == 0);
    maif_buf_free(&b);
    return same;
}

/* 1 if a and b serialise identically under v21_json_dump_ordered: same
 * types, keys in the same order, equal strings and numbers. Python's repr
 * of a float is shortest-round-trip, hence injective, and never looks like
 * an integer, so reals compare by value and sign of zero. Comparing the
 * trees directly spares two serialisations per provenance entry. (The one
 * case where the dumps would both fail, nesting past MAIF_JSON_MAX_DEPTH,
 * cannot be equal here: the expected objects are flat.) */
static int same_ordered(const json_t *a, const json_t *b)
{
    if (!a || !b || json_typeof(a) != json_typeof(b)) return 0;
    switch (json_typeof(a)) {
    case JSON_OBJECT: {
        if (json_object_size(a) != json_object_size(b)) return 0;
        void *ia = json_object_iter((json_t *)a), *ib = json_object_iter((json_t *)b);
        for (; ia && ib; ia = json_object_iter_next((json_t *)a, ia), ib = json_object_iter_next((json_t *)b, ib))
            if (strcmp(json_object_iter_key(ia), json_object_iter_key(ib)) != 0 ||
                !same_ordered(json_object_iter_value(ia), json_object_iter_value(ib)))
                return 0;
        return !ia && !ib;
    }
    case JSON_ARRAY:
        if (json_array_size(a) != json_array_size(b)) return 0;
        for (size_t i = 0; i < json_array_size(a); i++)
            if (!same_ordered(json_array_get(a, i), json_array_get(b, i))) return 0;
        return 1;
    case JSON_STRING:
        return json_string_length(a) == json_string_length(b) &&
               memcmp(json_string_value(a), json_string_value(b), json_string_length(a)) == 0;
    case JSON_INTEGER: return json_integer_value(a) == json_integer_value(b);
    case JSON_REAL: {
        double x = json_real_value(a), y = json_real_value(b);
        return x == y && signbit(x) == signbit(y);
    }
    default: return 1; /* true, false, null */
    }
}

/* ------------------------------------------------------------- header */

static void check_header(vctx *v)
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

static void check_security(vctx *v)
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
    if (!same_as_python(root, j, m->sec_len))
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
    if (json_is_string(sid)) v->signer_id = strdup(json_string_value(sid));
    if (json_is_string(sdid) && !did_matches_header(v, json_string_value(sdid)))
        ERR(v, "security-signer", "security", -1, off, "security signer_did differs from the header agent_did");
    if (!json_is_string(ka) || strcmp(json_string_value(ka), "Ed25519") != 0 || !json_is_string(sa) ||
        strcmp(json_string_value(sa), "Ed25519") != 0)
        ERR(v, "security-algorithm", "security", -1, off, "security key or signature algorithm is not Ed25519");
    if (json_is_string(pk) && is_lower_hex(json_string_value(pk), 2 * MAIF_PUBKEY_BYTES) &&
        maif_unhex(json_string_value(pk), v->pk, MAIF_PUBKEY_BYTES) == MAIF_OK) {
        v->have_pk = 1;
        maif_report_signer_seen(v->rep, v->opt, v->pk, "security", (int64_t)off);
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
    uint8_t *p = realloc(ws->p, need);
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

static int embedding_bad(const maif_block *bk, json_t *meta)
{
    json_t *dims = json_object_get(meta, "dimensions"), *count = json_object_get(meta, "count");
    int bad = bk->payload_size % 4 != 0;
    if (json_is_integer(dims)) {
        json_int_t d = json_integer_value(dims);
        if (d <= 0 || bk->payload_size % (4 * (uint64_t)d) != 0) bad = 1;
        if (!bad && json_is_integer(count) && (uint64_t)json_integer_value(count) != bk->payload_size / 4 / (uint64_t)d)
            bad = 1;
    }
    return bad;
}

/* The expensive half of a block's checks (runs on the pool). */
static void block_work(const vctx *v, uint8_t *res, uint64_t i, wstate *ws)
{
    maif_block bk;
    maif21_block(v->m, i, &bk);
    const uint8_t *h = v->buf + bk.offset;
    const size_t body = bk.payload_size + bk.meta_size;
    unsigned r = 0;

    /* Metadata: a JSON object, byte for byte in Python's sorted form. Parsed
     * once; its dump is what maif_json_canonicalize would produce from the
     * same bytes (that parses with JSON_ALLOW_NUL, which only matters for
     * text this stricter parse has already refused). */
    json_error_t je;
    json_t *meta = bk.meta_size ? json_loadb(bk.meta, bk.meta_size, JSON_REJECT_DUPLICATES, &je) : NULL;
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
        if (bk.type == MAIF_TYPE_EMBEDDING && embedding_bad(&bk, meta)) r |= BR_EMBEDDING;
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
static void report_block(vctx *v, uint64_t i, unsigned r, uint8_t *stored_hashes)
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

/* ------------------------------------------------------------- provenance */

static const char *const prov_keys[] = {"timestamp",   "agent_id",  "agent_did",           "action",
                                        "block_hash",  "entry_hash", "previous_entry_hash", "signature",
                                        "chain_position", "metadata"};
#define PROV_NKEYS (sizeof prov_keys / sizeof prov_keys[0])

/* One provenance entry: its fields (borrowed from the parsed array) and
 * what the pool found. */
typedef struct entry {
    json_t *ts, *aid, *adid, *act, *bh, *eh, *peh, *sig, *pos, *meta;
    uint8_t shape_ok; /* the ten keys in the writer's order, each of its type */
    uint8_t hash_bad; /* entry_hash differs from the recomputed one */
    uint8_t sig_hex;  /* signature is not 128 lowercase hex digits */
    uint8_t sig_bad;  /* signature checked and failed */
} entry;

/* The provenance section. The writer's form is "[" e0 ", " e1 ... "]" with
 * each entry in Python's ordered form, and parsing several megabytes of it
 * in one jansson call is the largest serial step of the whole check. So
 * prov_split proposes entry boundaries (commas at depth one, outside
 * strings) and the pool parses each entry on its own and compares its
 * serialisation with its bytes. When every entry matches and the pieces
 * join as "[" e0 ", " e1 ... "]", the text *is* the ordered dump of the
 * array of those entries: a whole-array parse would give the same entries
 * and the same "form" verdict. Anything else (a boundary the scan got
 * wrong, an entry that does not parse or is not in form, odd whitespace)
 * drops back to the one-call parse and whole-array comparison, so the
 * findings never depend on which path ran. */
typedef struct prov {
    json_t *arr;      /* whole-array parse (slow path); NULL when not a JSON array */
    json_t **roots;   /* per-entry parses (fast path); NULL on the slow path */
    size_t *span;     /* fast path: 2 per entry, start offset and length in the JSON text */
    int form_bad;     /* not the bytes Python would write for the array */
    size_t ne;
    entry *ents;      /* ne entries, or NULL when out of memory */
} prov;

/* Fills pv->span and pv->ne with the proposed entry boundaries; 0 when the
 * text does not have the writer's outline (then the slow path decides). */
/* Offset of the first c in t[from, end), or end. */
static size_t next_of(const char *t, size_t end, size_t from, char c)
{
    const char *p = memchr(t + from, c, end - from);
    return p ? (size_t)(p - t) : end;
}

static int prov_split(const char *t, size_t n, prov *pv)
{
    if (n < 2 || t[0] != '[' || t[n - 1] != ']') return 0;
    size_t cap = 0, ne = 0, start = 1, depth = 0;
    size_t nq = 0, nb = 0; /* next '"' and '\\' at or after the last search, or n - 1 */
    int in_str = 0, esc = 0;
    for (size_t i = 1; n > 2 && i < n; i++) {
        char c = t[i];
        int cut = 0;
        if (i == n - 1) { /* the closing bracket ends the last entry */
            if (in_str || depth != 0) return 0;
            cut = 1;
        } else if (in_str) {
            if (esc) {
                esc = 0;
            } else if (c == '\\') {
                esc = 1;
            } else if (c == '"') {
                in_str = 0;
            } else {
                /* Most of the text is hex digits inside strings: jump to the
                 * next quote or backslash. Each memchr resumes past its
                 * previous hit, so the scan stays linear. */
                if (nq < i) nq = next_of(t, n - 1, i, '"');
                if (nb < i) nb = next_of(t, n - 1, i, '\\');
                i = (nq < nb ? nq : nb) - 1;
            }
        } else if (c == '"') {
            in_str = 1;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            if (depth == 0) return 0;
            depth--;
        } else if (c == ',' && depth == 0) {
            cut = 1;
        }
        if (!cut) continue;
        if (ne > 0) { /* entries after the first follow ", " */
            if (start >= i || t[start] != ' ') return 0;
            start++;
        }
        if (start >= i) return 0;
        if (ne == cap) {
            size_t nc = cap ? 2 * cap : 64;
            size_t *p = realloc(pv->span, nc * 2 * sizeof *p);
            if (!p) return 0;
            pv->span = p;
            cap = nc;
        }
        pv->span[2 * ne] = start;
        pv->span[2 * ne + 1] = i - start;
        ne++;
        start = i + 1;
    }
    pv->ne = ne;
    return 1;
}

/* Slow path: the whole array in one call, as the section is specified. */
static void prov_parse_whole(const vctx *v, prov *pv)
{
    const maif21 *m = v->m;
    const uint8_t *j = v->buf + m->prov_off + 4;
    json_error_t je;
    json_t *arr = json_loadb((const char *)j, m->prov_len, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_array(arr)) {
        json_decref(arr);
        return;
    }
    pv->arr = arr;
    pv->form_bad = !same_as_python(arr, j, m->prov_len);
    pv->ne = json_array_size(arr);
    pv->ents = calloc(pv->ne ? pv->ne : 1, sizeof *pv->ents);
}

static void prov_free(prov *pv)
{
    if (pv->roots)
        for (size_t i = 0; i < pv->ne; i++) json_decref(pv->roots[i]);
    free(pv->roots);
    free(pv->span);
    free(pv->ents);
    json_decref(pv->arr);
}

/* Work for phase one: blocks, then (fast path) entry parses. */
typedef struct phase1_job {
    const vctx *v;
    uint8_t *bres;        /* one BR_* set per block */
    prov *pv;
    _Atomic int fast_bad; /* an entry failed the fast path */
} phase1_job;

static void block_work(const vctx *v, uint8_t *res, uint64_t i, wstate *ws);

static void phase1_work(void *ctx, uint64_t i, void *scratch)
{
    wstate *ws = scratch;
    phase1_job *job = ctx;
    uint64_t n = job->v->m->n;
    if (i < n) {
        block_work(job->v, job->bres, i, ws);
        return;
    }
    prov *pv = job->pv;
    size_t k = (size_t)(i - n);
    const char *t = (const char *)job->v->buf + job->v->m->prov_off + 4 + pv->span[2 * k];
    size_t len = pv->span[2 * k + 1];
    json_error_t je;
    json_t *e = json_loadb(t, len, JSON_REJECT_DUPLICATES, &je);
    pv->roots[k] = e;
    if (!json_is_object(e) || !same_as_python(e, (const uint8_t *)t, len)) atomic_store(&job->fast_bad, 1);
}

typedef struct prov_job {
    const vctx *v;
    prov *pv;
} prov_job;

/* The expensive half of an entry's checks: its hash and signature. */
static void entry_work(void *ctx, uint64_t i, void *scratch)
{
    (void)scratch;
    prov_job *job = ctx;
    const vctx *v = job->v;
    json_t *e = job->pv->roots ? job->pv->roots[i] : json_array_get(job->pv->arr, i);
    entry *en = &job->pv->ents[i];
    int shape = json_is_object(e) && json_object_size(e) == PROV_NKEYS;
    if (shape) {
        size_t k = 0;
        const char *key;
        json_t *val;
        json_object_foreach(e, key, val) {
            if (strcmp(key, prov_keys[k]) != 0) shape = 0;
            k++;
        }
    }
    en->ts = json_object_get(e, "timestamp");
    en->aid = json_object_get(e, "agent_id");
    en->adid = json_object_get(e, "agent_did");
    en->act = json_object_get(e, "action");
    en->bh = json_object_get(e, "block_hash");
    en->eh = json_object_get(e, "entry_hash");
    en->peh = json_object_get(e, "previous_entry_hash");
    en->sig = json_object_get(e, "signature");
    en->pos = json_object_get(e, "chain_position");
    en->meta = json_object_get(e, "metadata");
    en->shape_ok = shape && json_is_integer(en->ts) && json_is_string(en->aid) && json_is_string(en->adid) &&
                   json_is_string(en->act) && json_is_string(en->bh) && json_is_string(en->eh) &&
                   json_is_string(en->peh) && json_is_string(en->sig) && json_is_integer(en->pos) &&
                   json_is_object(en->meta);
    if (!en->shape_ok) return;

    char hex[HEX_HASH];
    const char *eh = json_string_value(en->eh);
    int rc = v21_entry_hash(json_integer_value(en->ts), json_string_value(en->aid), json_string_value(en->adid),
                            json_string_value(en->act), json_string_value(en->bh), json_string_value(en->peh),
                            json_integer_value(en->pos), en->meta, hex);
    en->hash_bad = rc != MAIF_OK || strcmp(hex, eh) != 0;
    uint8_t sg[MAIF_SIGNATURE_BYTES];
    const char *ss = json_string_value(en->sig);
    if (!is_lower_hex(ss, 2 * MAIF_SIGNATURE_BYTES) || maif_unhex(ss, sg, sizeof sg) != MAIF_OK)
        en->sig_hex = 1;
    else if (v->have_pk && !maif_ed25519_verify(v->pk, eh, strlen(eh), sg))
        en->sig_bad = 1;
}

static json_t *expect_genesis_meta(const uint8_t *hdr)
{
    char fid[2 * MAIF_ID_BYTES + 1], cid[2 * MAIF_ID_BYTES + 1];
    json_t *o = json_object();
    json_object_set_new(o, "file_id", json_string(maif_hex(hdr + V21_H_FILE_ID, MAIF_ID_BYTES, fid)));
    json_object_set_new(o, "creator_id", json_string(maif_hex(hdr + V21_H_CREATOR_ID, MAIF_ID_BYTES, cid)));
    json_object_set_new(o, "format_version", json_string("2.1"));
    json_object_set_new(o, "key_algorithm", json_string("Ed25519"));
    return o;
}

/* Checks entry i's role: genesis, the add_* entry of block i-1, or finalize. */
static void check_entry_role(vctx *v, size_t i, const entry *en, const char *agent_id)
{
    const maif21 *m = v->m;
    const uint8_t *hdr = v->buf;
    uint64_t off = m->prov_off;
    const char *action = json_string_value(en->act);
    const char *bh = json_string_value(en->bh);
    json_t *meta = en->meta;
    json_int_t ts = json_integer_value(en->ts);
    char hex[HEX_HASH];

    if (i == 0) {
        uint64_t created = rd64be(hdr + V21_H_CREATED);
        if (strcmp(action, "genesis") != 0)
            ERR(v, "provenance-genesis", "provenance", -1, off, "provenance entry 0 is not genesis");
        if ((uint64_t)ts != created || ts < 0)
            ERR(v, "provenance-genesis", "provenance", -1, off,
                "provenance genesis timestamp differs from the header's created time");
        char *seed = NULL;
        uint8_t gh[MAIF_HASH_BYTES];
        if (asprintf(&seed, "genesis:%s:%" PRIu64, agent_id, created) >= 0) {
            maif_sha256(seed, strlen(seed), gh);
            free(seed);
            if (strcmp(bh, maif_hex(gh, sizeof gh, hex)) != 0)
                ERR(v, "provenance-genesis", "provenance", -1, off,
                    "provenance genesis block_hash is not SHA-256 of genesis:<agent>:<created>");
        }
        json_t *want = expect_genesis_meta(hdr);
        if (!same_ordered(meta, want))
            ERR(v, "provenance-genesis", "provenance", -1, off,
                "provenance genesis metadata does not match the header's file_id and creator_id");
        json_decref(want);
    } else if (i <= m->n) {
        /* Compared field by field: the same verdict as same_ordered against
         * {"block_id": <hex id>, "size": <payload size>}, without building
         * that object for every block. */
        uint64_t b = i - 1;
        maif_block bk;
        maif21_block(m, b, &bk);
        const char *kind = v21_kind(bk.type);
        if (strncmp(action, "add_", 4) != 0 || strncmp(action + 4, kind, strlen(kind)) != 0 ||
            strcmp(action + 4 + strlen(kind), "_block") != 0)
            ERR(v, "provenance-block", "provenance", (int64_t)b, off,
                "provenance entry %zu: action \"%s\" does not fit block %" PRIu64 " (expected add_%s_block)", i,
                action, b, kind);
        if (strcmp(bh, maif_hex(bk.content_hash, MAIF_HASH_BYTES, hex)) != 0)
            ERR(v, "provenance-block", "provenance", (int64_t)b, off,
                "provenance entry %zu: block_hash differs from block %" PRIu64 "'s content hash", i, b);
        char idhex[2 * MAIF_ID_BYTES + 1];
        maif_hex(bk.id, MAIF_ID_BYTES, idhex);
        int ok = json_object_size(meta) == 2;
        void *it = ok ? json_object_iter(meta) : NULL;
        if (ok) {
            json_t *id = json_object_iter_value(it);
            ok = strcmp(json_object_iter_key(it), "block_id") == 0 && json_is_string(id) &&
                 json_string_length(id) == 2 * MAIF_ID_BYTES && memcmp(json_string_value(id), idhex, 2 * MAIF_ID_BYTES) == 0;
        }
        if (ok) {
            it = json_object_iter_next(meta, it);
            json_t *sz = json_object_iter_value(it);
            ok = strcmp(json_object_iter_key(it), "size") == 0 && json_is_integer(sz) &&
                 json_integer_value(sz) == (json_int_t)bk.payload_size;
        }
        if (!ok)
            ERR(v, "provenance-block", "provenance", (int64_t)b, off,
                "provenance entry %zu: metadata does not name block %" PRIu64 "'s id and payload size", i, b);
    } else {
        if (strcmp(action, "finalize") != 0)
            ERR(v, "provenance-finalize", "provenance", -1, off, "provenance entry %zu is not finalize", i);
        if (strcmp(bh, maif_hex(hdr + V21_H_MERKLE, MAIF_HASH_BYTES, hex)) != 0)
            ERR(v, "provenance-finalize", "provenance", -1, off,
                "provenance finalize block_hash differs from the header's Merkle root");
        json_t *want = json_object();
        json_object_set_new(want, "block_count", json_integer((json_int_t)m->n));
        if (!same_ordered(meta, want))
            ERR(v, "provenance-finalize", "provenance", -1, off,
                "provenance finalize metadata does not give block_count %" PRIu64, m->n);
        json_decref(want);
    }
}

/* The sequential half: every provenance finding, in entry order. */
static void report_provenance(vctx *v, const prov *pv)
{
    const maif21 *m = v->m;
    uint64_t off = m->prov_off;
    if (!pv->arr && !pv->roots) {
        ERR(v, "provenance-json", "provenance", -1, off,
            "provenance section at offset %" PRIu64 " is not a JSON array", off);
        return;
    }
    if (pv->form_bad)
        ERR(v, "provenance-form", "provenance", -1, off,
            "provenance JSON at offset %" PRIu64 " is not in the form the 2.1 writer produces", off);
    size_t ne = pv->ne;
    if (ne != m->n + 2)
        ERR(v, "provenance-count", "provenance", -1, off,
            "provenance has %zu entries; expected %" PRIu64 " (genesis, one per block, finalize)", ne, m->n + 2);
    if (!pv->ents) {
        ERR(v, "no-memory", "provenance", -1, off, "out of memory checking the provenance entries");
        return;
    }

    const char *prev = "";
    const char *agent_id = NULL, *agent_did = NULL; /* borrowed from the first well-formed entry */
    for (size_t i = 0; i < ne; i++) {
        const entry *en = &pv->ents[i];
        if (!en->shape_ok) {
            ERR(v, "provenance-field", "provenance", -1, off,
                "provenance entry %zu does not have the 2.1 keys, order and types", i);
            prev = json_is_string(en->eh) ? json_string_value(en->eh) : "";
            continue;
        }
        if (json_integer_value(en->pos) != (json_int_t)i)
            ERR(v, "provenance-position", "provenance", -1, off, "provenance entry %zu: chain_position %" JSON_INTEGER_FORMAT,
                i, json_integer_value(en->pos));
        if (strcmp(json_string_value(en->peh), prev) != 0)
            ERR(v, "provenance-link", "provenance", -1, off,
                "provenance entry %zu: previous_entry_hash does not match entry %zu", i, i ? i - 1 : 0);
        prev = json_string_value(en->eh);

        /* One agent throughout, matching the header. */
        if (!agent_id) {
            agent_id = json_string_value(en->aid);
            agent_did = json_string_value(en->adid);
            const char *tail = strncmp(agent_did, "did:maif:", 9) == 0 ? agent_did + 9 : NULL;
            if (!tail || strcmp(tail, agent_id) != 0)
                ERR(v, "provenance-agent", "provenance", -1, off, "provenance agent_did is not did:maif:<agent_id>");
            if (!did_matches_header(v, agent_did))
                ERR(v, "provenance-agent", "provenance", -1, off,
                    "provenance agent_did differs from the header agent_did");
            if (v->signer_id && strcmp(v->signer_id, agent_id) != 0)
                ERR(v, "security-signer", "security", -1, m->sec_off,
                    "security signer_id differs from the provenance agent_id");
        } else if (strcmp(agent_id, json_string_value(en->aid)) != 0 ||
                   strcmp(agent_did, json_string_value(en->adid)) != 0) {
            ERR(v, "provenance-agent", "provenance", -1, off, "provenance entry %zu names another agent", i);
        }

        if (en->hash_bad)
            ERR(v, "provenance-hash", "provenance", -1, off, "provenance entry %zu: entry_hash mismatch", i);
        if (en->sig_hex)
            ERR(v, "provenance-signature", "provenance", -1, off,
                "provenance entry %zu: signature is not 128 hex digits", i);
        else if (en->sig_bad)
            ERR(v, "provenance-signature", "provenance", -1, off,
                "provenance entry %zu: signature: authentication failed", i);
        if (i <= m->n + 1) check_entry_role(v, i, en, agent_id);
    }
}

/* ------------------------------------------------------------- index, sections, footer */

static void check_index(vctx *v)
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

static void check_layout_and_footer(vctx *v, footer_hash *fh)
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

/* Threads for this file: opt->threads, else one per online CPU, at most
 * MAX_THREADS; one for a small file. */
static unsigned pick_threads(const maif_verify_options *opt, const maif21 *m, size_t len)
{
    long n = opt && opt->threads ? (long)opt->threads : sysconf(_SC_NPROCESSORS_ONLN);
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
    vctx v = {.buf = buf, .len = len, .m = m, .rep = rep, .opt = opt};
    uint8_t *hashes = malloc(m->n ? m->n * MAIF_HASH_BYTES : 1);
    uint8_t *bres = calloc(m->n ? m->n : 1, 1);
    if (!hashes || !bres) {
        maif_report_add(rep, MAIF_SEV_ERROR, "no-memory", "file", -1, -1, "out of memory");
        free(hashes);
        free(bres);
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
    prov pv = {0};
    phase1_job p1 = {.v = &v, .bres = bres, .pv = &pv};
    atomic_init(&p1.fast_bad, 0);
    int fast = prov_split((const char *)buf + m->prov_off + 4, m->prov_len, &pv) &&
               (pv.roots = calloc(pv.ne ? pv.ne : 1, sizeof *pv.roots)) != NULL;
    maif_pool_run(nthreads, m->n + (fast ? pv.ne : 0), phase1_work, &p1, ws, sizeof ws[0]);
    if (fast && !atomic_load(&p1.fast_bad)) {
        pv.ents = calloc(pv.ne ? pv.ne : 1, sizeof *pv.ents);
    } else {
        prov_free(&pv);
        memset(&pv, 0, sizeof pv);
        prov_parse_whole(&v, &pv);
    }
    if (pv.ents) {
        prov_job pj = {&v, &pv};
        maif_pool_run(nthreads, pv.ne, entry_work, &pj, ws, sizeof ws[0]);
    }
    for (unsigned k = 0; k < MAX_THREADS; k++) free(ws[k].p);

    for (uint64_t i = 0; i < m->n; i++) report_block(&v, i, bres[i], hashes);
    uint8_t root[MAIF_HASH_BYTES];
    v21_merkle(hashes, m->n, root);
    if (memcmp(root, buf + V21_H_MERKLE, MAIF_HASH_BYTES) != 0)
        maif_report_add(rep, MAIF_SEV_ERROR, "merkle-root", "header", -1, V21_H_MERKLE,
                        "Merkle root at offset %d does not match the blocks' content hashes", V21_H_MERKLE);
    report_provenance(&v, &pv);
    check_index(&v);
    check_layout_and_footer(&v, &fh);
    prov_free(&pv);
    free(bres);
    free(hashes);
    free(v.signer_id);
    maif21_close(m);
}
