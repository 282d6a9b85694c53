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
 * that stops parsing yields a single "structure" finding. Memory use is
 * bounded by the image: one signing buffer no larger than the largest block,
 * 32 bytes per block for hashes, and the parsed JSON sections.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compat/v21_internal.h"
#include "core/report.h"
#include "crypto/crypto.h"
#include "util/common.h"
#include "util/pyjson.h"

#define HEX_HASH (2 * MAIF_HASH_BYTES + 1)

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

/* Compares an object with the expected one, key order and number types included. */
static int same_ordered(const json_t *a, const json_t *b)
{
    maif_buf x = {0}, y = {0};
    int same = v21_json_dump_ordered(a, &x) == MAIF_OK && v21_json_dump_ordered(b, &y) == MAIF_OK && x.len == y.len &&
               memcmp(x.data, y.data, x.len) == 0;
    maif_buf_free(&x);
    maif_buf_free(&y);
    return same;
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

/* ------------------------------------------------------------- blocks */

typedef struct sigbuf {
    uint8_t *p;
    size_t cap;
} sigbuf;

static void check_embedding(vctx *v, uint64_t i, const maif_block *bk, json_t *meta)
{
    json_t *dims = json_object_get(meta, "dimensions"), *count = json_object_get(meta, "count");
    int bad = bk->payload_size % 4 != 0;
    if (json_is_integer(dims)) {
        json_int_t d = json_integer_value(dims);
        if (d <= 0 || bk->payload_size % (4 * (uint64_t)d) != 0) bad = 1;
        if (!bad && json_is_integer(count) && (uint64_t)json_integer_value(count) != bk->payload_size / 4 / (uint64_t)d)
            bad = 1;
    }
    if (bad)
        ERR(v, "embedding-shape", "block", i, bk->offset,
            "block %" PRIu64 " at offset %" PRIu64 ": %zu payload bytes do not match float32 count x dimensions", i,
            bk->offset, bk->payload_size);
}

static void check_block(vctx *v, uint64_t i, uint8_t *stored_hashes, sigbuf *sb)
{
    maif_block bk;
    maif21_block(v->m, i, &bk);
    const uint8_t *h = v->buf + bk.offset;
    const uint64_t off = bk.offset;
    const size_t body = bk.payload_size + bk.meta_size;

    /* Metadata: a JSON object, byte for byte in Python's sorted form. */
    json_error_t je;
    json_t *meta = bk.meta_size ? json_loadb(bk.meta, bk.meta_size, JSON_REJECT_DUPLICATES, &je) : NULL;
    int nonempty = !(bk.meta_size == 2 && memcmp(bk.meta, "{}", 2) == 0);
    uint64_t moff = off + MAIF21_BLOCK_HEADER_SIZE + bk.payload_size;
    if (!json_is_object(meta)) {
        ERR(v, "metadata", "block", i, moff, "block %" PRIu64 " at offset %" PRIu64 ": metadata is not a JSON object",
            i, off);
    } else {
        nonempty = json_object_size(meta) > 0;
        maif_buf c = {0};
        char cerr[128];
        if (maif_json_canonicalize(bk.meta, bk.meta_size, MAIF_JSON_PY, &c, cerr, sizeof cerr) != MAIF_OK ||
            c.len != bk.meta_size || memcmp(c.data, bk.meta, c.len) != 0)
            ERR(v, "metadata-form", "block", i, moff,
                "block %" PRIu64 " at offset %" PRIu64 ": metadata is not in Python's sorted JSON form", i, off);
        maif_buf_free(&c);
        if (bk.type == MAIF_TYPE_EMBEDDING) check_embedding(v, i, &bk, meta);
    }
    json_decref(meta);

    uint8_t ch[MAIF_HASH_BYTES];
    v21_content_hash(bk.payload, bk.payload_size, (const uint8_t *)bk.meta, bk.meta_size, nonempty, ch);
    if (memcmp(ch, h + V21_B_HASH, MAIF_HASH_BYTES) != 0)
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
    if (!layout) {
        ERR(v, "block-signature", "block", i, off + V21_B_SIGNATURE,
            "block %" PRIu64 " at offset %" PRIu64 ": signature cannot be checked", i, off);
        return;
    }
    size_t need = V21_B_SIGNED_PREFIX + body;
    if (need > sb->cap) {
        uint8_t *p = realloc(sb->p, need);
        if (!p) {
            ERR(v, "no-memory", "block", i, off, "block %" PRIu64 ": out of memory checking the signature", i);
            return;
        }
        sb->p = p;
        sb->cap = need;
    }
    v21_block_prefix(h, sb->p);
    memcpy(sb->p + V21_B_SIGNED_PREFIX, h + MAIF21_BLOCK_HEADER_SIZE, body);
    if (!maif_ed25519_verify(v->pk, sb->p, need, h + V21_B_SIGNATURE + V21_SIG_TAG_LEN))
        ERR(v, "block-signature", "block", i, off + V21_B_SIGNATURE,
            "block %" PRIu64 " at offset %" PRIu64 ": signature: authentication failed", i, off);
}

/* ------------------------------------------------------------- provenance */

static const char *const prov_keys[] = {"timestamp",   "agent_id",  "agent_did",           "action",
                                        "block_hash",  "entry_hash", "previous_entry_hash", "signature",
                                        "chain_position", "metadata"};

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

/* Checks entry e's role: genesis, the add_* entry of block i-1, or finalize. */
static void check_entry_role(vctx *v, size_t i, json_t *e, const char *agent_id)
{
    const maif21 *m = v->m;
    const uint8_t *hdr = v->buf;
    uint64_t off = m->prov_off;
    const char *action = json_string_value(json_object_get(e, "action"));
    const char *bh = json_string_value(json_object_get(e, "block_hash"));
    json_t *meta = json_object_get(e, "metadata");
    json_int_t ts = json_integer_value(json_object_get(e, "timestamp"));
    char hex[HEX_HASH];
    json_t *want = NULL;

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
        want = expect_genesis_meta(hdr);
        if (!same_ordered(meta, want))
            ERR(v, "provenance-genesis", "provenance", -1, off,
                "provenance genesis metadata does not match the header's file_id and creator_id");
    } else if (i <= m->n) {
        uint64_t b = i - 1;
        maif_block bk;
        maif21_block(m, b, &bk);
        char act[64];
        snprintf(act, sizeof act, "add_%s_block", v21_kind(bk.type));
        if (strcmp(action, act) != 0)
            ERR(v, "provenance-block", "provenance", (int64_t)b, off,
                "provenance entry %zu: action \"%s\" does not fit block %" PRIu64 " (expected %s)", i, action, b, act);
        if (strcmp(bh, maif_hex(bk.content_hash, MAIF_HASH_BYTES, hex)) != 0)
            ERR(v, "provenance-block", "provenance", (int64_t)b, off,
                "provenance entry %zu: block_hash differs from block %" PRIu64 "'s content hash", i, b);
        char idhex[2 * MAIF_ID_BYTES + 1];
        want = json_object();
        json_object_set_new(want, "block_id", json_string(maif_hex(bk.id, MAIF_ID_BYTES, idhex)));
        json_object_set_new(want, "size", json_integer((json_int_t)bk.payload_size));
        if (!same_ordered(meta, want))
            ERR(v, "provenance-block", "provenance", (int64_t)b, off,
                "provenance entry %zu: metadata does not name block %" PRIu64 "'s id and payload size", i, b);
    } else {
        if (strcmp(action, "finalize") != 0)
            ERR(v, "provenance-finalize", "provenance", -1, off, "provenance entry %zu is not finalize", i);
        if (strcmp(bh, maif_hex(hdr + V21_H_MERKLE, MAIF_HASH_BYTES, hex)) != 0)
            ERR(v, "provenance-finalize", "provenance", -1, off,
                "provenance finalize block_hash differs from the header's Merkle root");
        want = json_object();
        json_object_set_new(want, "block_count", json_integer((json_int_t)m->n));
        if (!same_ordered(meta, want))
            ERR(v, "provenance-finalize", "provenance", -1, off,
                "provenance finalize metadata does not give block_count %" PRIu64, m->n);
    }
    json_decref(want);
}

static void check_provenance(vctx *v)
{
    const maif21 *m = v->m;
    uint64_t off = m->prov_off;
    const uint8_t *j = v->buf + off + 4;
    json_error_t je;
    json_t *arr = json_loadb((const char *)j, m->prov_len, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_array(arr)) {
        ERR(v, "provenance-json", "provenance", -1, off,
            "provenance section at offset %" PRIu64 " is not a JSON array", off);
        json_decref(arr);
        return;
    }
    if (!same_as_python(arr, j, m->prov_len))
        ERR(v, "provenance-form", "provenance", -1, off,
            "provenance JSON at offset %" PRIu64 " is not in the form the 2.1 writer produces", off);
    size_t ne = json_array_size(arr);
    if (ne != m->n + 2)
        ERR(v, "provenance-count", "provenance", -1, off,
            "provenance has %zu entries; expected %" PRIu64 " (genesis, one per block, finalize)", ne, m->n + 2);

    const char *prev = "";
    char *agent_id = NULL, *agent_did = NULL;
    for (size_t i = 0; i < ne; i++) {
        json_t *e = json_array_get(arr, i);
        const size_t nk = sizeof prov_keys / sizeof prov_keys[0];
        int shape = json_is_object(e) && json_object_size(e) == nk;
        if (shape) {
            size_t k = 0;
            const char *key;
            json_t *val;
            json_object_foreach(e, key, val) {
                if (strcmp(key, prov_keys[k]) != 0) shape = 0;
                k++;
            }
        }
        json_t *ts = json_object_get(e, "timestamp"), *aid = json_object_get(e, "agent_id");
        json_t *adid = json_object_get(e, "agent_did"), *act = json_object_get(e, "action");
        json_t *bh = json_object_get(e, "block_hash"), *eh = json_object_get(e, "entry_hash");
        json_t *peh = json_object_get(e, "previous_entry_hash"), *sig = json_object_get(e, "signature");
        json_t *pos = json_object_get(e, "chain_position"), *meta = json_object_get(e, "metadata");
        if (!shape || !json_is_integer(ts) || !json_is_string(aid) || !json_is_string(adid) || !json_is_string(act) ||
            !json_is_string(bh) || !json_is_string(eh) || !json_is_string(peh) || !json_is_string(sig) ||
            !json_is_integer(pos) || !json_is_object(meta)) {
            ERR(v, "provenance-field", "provenance", -1, off,
                "provenance entry %zu does not have the 2.1 keys, order and types", i);
            prev = json_is_string(eh) ? json_string_value(eh) : "";
            continue;
        }
        if (json_integer_value(pos) != (json_int_t)i)
            ERR(v, "provenance-position", "provenance", -1, off, "provenance entry %zu: chain_position %" JSON_INTEGER_FORMAT,
                i, json_integer_value(pos));
        if (strcmp(json_string_value(peh), prev) != 0)
            ERR(v, "provenance-link", "provenance", -1, off,
                "provenance entry %zu: previous_entry_hash does not match entry %zu", i, i ? i - 1 : 0);
        prev = json_string_value(eh);

        /* One agent throughout, matching the header. */
        if (!agent_id) {
            agent_id = strdup(json_string_value(aid));
            agent_did = strdup(json_string_value(adid));
            if (!agent_id || !agent_did) break;
            char *want = NULL;
            if (asprintf(&want, "did:maif:%s", agent_id) >= 0) {
                if (strcmp(want, agent_did) != 0)
                    ERR(v, "provenance-agent", "provenance", -1, off,
                        "provenance agent_did is not did:maif:<agent_id>");
                free(want);
            }
            if (!did_matches_header(v, agent_did))
                ERR(v, "provenance-agent", "provenance", -1, off,
                    "provenance agent_did differs from the header agent_did");
            if (v->signer_id && strcmp(v->signer_id, agent_id) != 0)
                ERR(v, "security-signer", "security", -1, m->sec_off,
                    "security signer_id differs from the provenance agent_id");
        } else if (strcmp(agent_id, json_string_value(aid)) != 0 || strcmp(agent_did, json_string_value(adid)) != 0) {
            ERR(v, "provenance-agent", "provenance", -1, off, "provenance entry %zu names another agent", i);
        }

        char hex[HEX_HASH];
        int rc = v21_entry_hash(json_integer_value(ts), json_string_value(aid), json_string_value(adid),
                                json_string_value(act), json_string_value(bh), json_string_value(peh),
                                json_integer_value(pos), meta, hex);
        if (rc != MAIF_OK || strcmp(hex, json_string_value(eh)) != 0)
            ERR(v, "provenance-hash", "provenance", -1, off, "provenance entry %zu: entry_hash mismatch", i);
        uint8_t sg[MAIF_SIGNATURE_BYTES];
        const char *ss = json_string_value(sig);
        if (!is_lower_hex(ss, 2 * MAIF_SIGNATURE_BYTES) || maif_unhex(ss, sg, sizeof sg) != MAIF_OK)
            ERR(v, "provenance-signature", "provenance", -1, off,
                "provenance entry %zu: signature is not 128 hex digits", i);
        else if (v->have_pk && !maif_ed25519_verify(v->pk, json_string_value(eh), strlen(json_string_value(eh)), sg))
            ERR(v, "provenance-signature", "provenance", -1, off,
                "provenance entry %zu: signature: authentication failed", i);
        if (i <= m->n + 1) check_entry_role(v, i, e, agent_id);
    }
    free(agent_id);
    free(agent_did);
    json_decref(arr);
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

static void check_layout_and_footer(vctx *v)
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
    uint8_t h[MAIF_HASH_BYTES];
    maif_sha256(v->buf, fo, h);
    if (memcmp(h, f + 12, MAIF_HASH_BYTES) != 0)
        ERR(v, "footer-hash", "footer", -1, fo + 12, "footer checksum at offset %" PRIu64 " does not match the file",
            fo + 12);
    if (!all_zero(f + 44, 4))
        ERR(v, "reserved", "footer", -1, fo + 44, "footer reserved bytes at offset %" PRIu64 " are not zero", fo + 44);
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
    if (!hashes) {
        maif_report_add(rep, MAIF_SEV_ERROR, "no-memory", "file", -1, -1, "out of memory");
        maif21_close(m);
        return;
    }
    check_security(&v); /* first: it names the key everything else is checked against */
    check_header(&v);
    sigbuf sb = {0};
    for (uint64_t i = 0; i < m->n; i++) check_block(&v, i, hashes, &sb);
    free(sb.p);
    uint8_t root[MAIF_HASH_BYTES];
    v21_merkle(hashes, m->n, root);
    if (memcmp(root, buf + V21_H_MERKLE, MAIF_HASH_BYTES) != 0)
        maif_report_add(rep, MAIF_SEV_ERROR, "merkle-root", "header", -1, V21_H_MERKLE,
                        "Merkle root at offset %d does not match the blocks' content hashes", V21_H_MERKLE);
    check_provenance(&v);
    check_index(&v);
    check_layout_and_footer(&v);
    free(hashes);
    free(v.signer_id);
    maif21_close(m);
}
