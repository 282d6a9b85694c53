/*
 * v21_common.c — the 2.1 rules that the verifier and the writer must apply
 * identically: content hash, Merkle root, the signed block prefix, the
 * provenance entry hash, and Python's unsorted json.dumps for the
 * provenance and security sections. Keeping one copy means whatever the
 * writer produces, the verifier recomputes the same way.
 */
#include <string.h>

#include "format/v21/v21_internal.h"
#include "crypto/crypto.h"
#include "util/alloc.h"
#include "util/common.h"
#include "util/pyjson.h"

/* 2.1 knows these kinds; any other type is written and checked as "binary"
 * (the choice is explained in v21_write.c). */
const char *v21_kind(uint32_t type)
{
    switch (type) {
    case MAIF_TYPE_TEXT: return "text";
    case MAIF_TYPE_EMBEDDING: return "embeddings";
    case MAIF_TYPE_IMAGE: return "image";
    case MAIF_TYPE_AUDIO: return "audio";
    case MAIF_TYPE_VIDEO: return "video";
    case MAIF_TYPE_KNOWLEDGE: return "knowledge";
    case MAIF_TYPE_META: return "metadata";
    default: return "binary";
    }
}

int v21_embedding_fits(uint64_t payload_size, const json_t *meta)
{
    if (payload_size % 4) return 0;
    const json_t *dims = json_object_get(meta, "dimensions"), *count = json_object_get(meta, "count");
    if (!json_is_integer(dims)) return 1;
    /* Divisions only: 4 * dimensions can overflow for a hostile value. */
    json_int_t d = json_integer_value(dims);
    uint64_t values = payload_size / 4;
    if (d <= 0 || values % (uint64_t)d) return 0;
    return !json_is_integer(count) || (uint64_t)json_integer_value(count) == values / (uint64_t)d;
}

void v21_content_hash(const uint8_t *payload, size_t plen, const uint8_t *meta, size_t mlen, int meta_nonempty,
                      uint8_t out[MAIF_HASH_BYTES])
{
    maif_sha256(payload, plen, out);
    if (meta_nonempty) {
        uint8_t h[MAIF_HASH_BYTES];
        memcpy(h, out, sizeof h);
        maif_sha256_parts(out, h, sizeof h, meta, mlen, NULL, 0, NULL, 0);
    }
}

void v21_merkle(uint8_t *hashes, uint64_t n, uint8_t out[MAIF_HASH_BYTES])
{
    if (n == 0) {
        memset(out, 0, MAIF_HASH_BYTES);
        return;
    }
    while (n > 1) {
        uint64_t parents = (n + 1) / 2;
        for (uint64_t i = 0; i < parents; i++) {
            const uint8_t *l = hashes + 2 * i * MAIF_HASH_BYTES;
            const uint8_t *r = 2 * i + 1 < n ? l + MAIF_HASH_BYTES : l; /* odd count: last one twice */
            uint8_t p[MAIF_HASH_BYTES];
            maif_sha256_parts(p, l, MAIF_HASH_BYTES, r, MAIF_HASH_BYTES, NULL, 0, NULL, 0);
            memcpy(hashes + i * MAIF_HASH_BYTES, p, MAIF_HASH_BYTES);
        }
        n = parents;
    }
    memcpy(out, hashes, MAIF_HASH_BYTES);
}

void v21_block_prefix(const uint8_t *hdr, uint8_t out[V21_B_SIGNED_PREFIX])
{
    memcpy(out, hdr, V21_B_SIGNATURE);
    wr32be(out + V21_B_FLAGS, rd32be(hdr + V21_B_FLAGS) & ~V21_BF_SIG_MASK);
    memcpy(out + V21_B_SIGNATURE, hdr + V21_B_META_SIZE, 4);
}

/* A key as maif_json_dump writes a string. Keys made only of the bytes it
 * copies verbatim (printable ASCII but '"' and '\\') are copied here
 * without building a json_t; any other key goes through maif_json_dump. */
static int dump_key(const char *k, maif_buf *out)
{
    size_t n = 0;
    for (; k[n]; n++) {
        unsigned char c = (unsigned char)k[n];
        if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') break;
    }
    int rc;
    if (k[n] == 0) {
        if ((rc = maif_buf_putc(out, '"')) || (rc = maif_buf_append(out, k, n))) return rc;
        return maif_buf_putc(out, '"');
    }
    json_t *ks = json_string(k);
    if (!ks) return MAIF_ENOMEM;
    rc = maif_json_dump(ks, MAIF_JSON_PY, out);
    json_decref(ks);
    return rc;
}

static int dump_ordered(const json_t *v, maif_buf *out, int depth)
{
    int rc;
    if (depth > MAIF_JSON_MAX_DEPTH) return MAIF_EJSON;
    if (json_is_object(v)) {
        const char *k;
        json_t *x;
        int first = 1;
        if ((rc = maif_buf_putc(out, '{'))) return rc;
        json_object_foreach((json_t *)v, k, x) {
            if (!first && (rc = maif_buf_puts(out, ", "))) return rc;
            first = 0;
            if ((rc = dump_key(k, out))) return rc;
            if ((rc = maif_buf_puts(out, ": "))) return rc;
            if ((rc = dump_ordered(x, out, depth + 1))) return rc;
        }
        return maif_buf_putc(out, '}');
    }
    if (json_is_array(v)) {
        if ((rc = maif_buf_putc(out, '['))) return rc;
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i && (rc = maif_buf_puts(out, ", "))) return rc;
            if ((rc = dump_ordered(json_array_get(v, i), out, depth + 1))) return rc;
        }
        return maif_buf_putc(out, ']');
    }
    return maif_json_dump(v, MAIF_JSON_PY, out);
}

int v21_json_dump_ordered(const json_t *v, maif_buf *out) { return dump_ordered(v, out, 0); }

int v21_entry_hash(json_int_t ts, const char *agent_id, const char *agent_did, const char *action,
                   const char *block_hash, const char *prev, json_int_t pos, json_t *meta,
                   char out_hex[2 * MAIF_HASH_BYTES + 1])
{
    unsigned long fails = maif_alloc_failures();
    json_t *o = json_object();
    if (!o) return MAIF_ENOMEM;
    int bad = 0;
    bad |= json_object_set_new(o, "timestamp", json_integer(ts));
    bad |= json_object_set_new(o, "agent_id", json_string(agent_id));
    bad |= json_object_set_new(o, "agent_did", json_string(agent_did));
    bad |= json_object_set_new(o, "action", json_string(action));
    bad |= json_object_set_new(o, "block_hash", json_string(block_hash));
    bad |= json_object_set_new(o, "previous_entry_hash", json_string(prev));
    bad |= json_object_set_new(o, "chain_position", json_integer(pos));
    bad |= json_object_set(o, "metadata", meta);
    if (bad) {
        json_decref(o);
        return maif_alloc_failures() != fails ? MAIF_ENOMEM : MAIF_EJSON; /* no memory, or a string that is not UTF-8 */
    }
    maif_buf b = {0};
    int rc = maif_json_dump(o, MAIF_JSON_PY, &b);
    json_decref(o);
    if (rc == MAIF_OK) {
        uint8_t h[MAIF_HASH_BYTES];
        maif_sha256(b.data, b.len, h);
        maif_hex(h, sizeof h, out_hex);
    }
    maif_buf_free(&b);
    return rc;
}
