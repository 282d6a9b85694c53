/*
 * v21_internal.h — pieces shared by the 2.1 parser, verifier and writer,
 * not part of the library's interface (see v21.h for that).
 *
 * The writer takes its blocks from a small source description
 * (v21_source), fed by conversion through the format table (v21_ops.c) or
 * straight from a parsed 2.1 image, so it never calls back into the public
 * reader.
 */
#ifndef MAIF_V21_INTERNAL_H
#define MAIF_V21_INTERNAL_H

#include <jansson.h>

#include "format/v21/v21.h"
#include "util/buf.h"

/* Header field offsets (MAIF-2.1.md, "File header"). */
#define V21_H_MAGIC       0
#define V21_H_VMAJOR      4
#define V21_H_VMINOR      6
#define V21_H_FLAGS       8
#define V21_H_CREATED     12
#define V21_H_MODIFIED    20
#define V21_H_FILE_ID     28
#define V21_H_CREATOR_ID  44
#define V21_H_AGENT_DID   60
#define V21_H_BLOCK_COUNT 124
#define V21_H_PROV_OFF    128
#define V21_H_SEC_OFF     136
#define V21_H_INDEX_OFF   144
#define V21_H_MERKLE      152
#define V21_H_SIGNATURE   184
#define V21_H_RESERVED    440
#define V21_H_SIGNED_LEN  184 /* the file signature covers [0, 184) */
#define V21_DID_LEN       64

/* Block header field offsets (MAIF-2.1.md, "Block"). */
#define V21_B_SIZE       0
#define V21_B_TYPE       4
#define V21_B_FLAGS      8
#define V21_B_VERSION    12
#define V21_B_TIMESTAMP  16
#define V21_B_ID         24
#define V21_B_PREV       40
#define V21_B_HASH       72
#define V21_B_SIGNATURE  104
#define V21_B_META_SIZE  360
#define V21_B_RESERVED   364
#define V21_B_SIGNED_PREFIX 108 /* size .. content_hash, then metadata_size: 104 + 4 bytes */

/* A stored signature field: "ED25519:", 64 signature bytes, 184 zeros. */
#define V21_SIG_FIELD    256
#define V21_SIG_TAG      "ED25519:"
#define V21_SIG_TAG_LEN  8

#define V21_HF_SIGNED         0x01u
#define V21_HF_FINALIZED      0x02u
#define V21_HF_PROVENANCE     0x04u
#define V21_HF_ENCRYPTION     0x08u
#define V21_HEADER_FLAGS      0x07u /* what writers set */

#define V21_BF_SIGNED     0x01u
#define V21_BF_IMMUTABLE  0x02u
#define V21_BF_ENCRYPTED  0x04u
#define V21_BF_COMPRESSED 0x08u
#define V21_BF_VERIFIED   0x10u
#define V21_BF_TAMPERED   0x20u
#define V21_BF_SIG_MASK   0x33u /* flags left out of the block signature */
#define V21_BLOCK_FLAGS   0x03u /* what writers set */
#define V21_BLOCK_VERSION 1u

#define V21_FOOTER_MAGIC "FIAM"

/* One parsed block: positions only, everything bounded by the image. */
typedef struct v21_block {
    uint64_t offset;     /* of the 372-byte header; offset + size <= provenance_offset */
    uint32_t size;       /* >= 372 */
    uint32_t meta_size;  /* <= size - 372 */
} v21_block;

struct maif21 {
    const uint8_t *buf;  /* borrowed image */
    size_t len;
    uint64_t n;          /* blocks, == header block_count */
    v21_block *blocks;   /* n entries, in file order */
    uint64_t prov_off, prov_len;   /* section start and JSON length: prov_off + 4 + prov_len <= sec_off */
    uint64_t sec_off, sec_len;     /* sec_off + 4 + sec_len <= index_off */
    uint64_t index_off;            /* index_off + 24 n == len - 48 */
    char agent[V21_DID_LEN + 1];   /* header agent_did up to its first NUL */
    uint8_t signer[MAIF_PUBKEY_BYTES]; /* security public_key; zeros if unreadable */
    int has_signer;
};

/* Provenance action kind for a block type ("text", ...). Types 2.1 has no
 * name for get "binary" (see v21_write.c for why). */
const char *v21_kind(uint32_t type);

/* 1 if an embedding payload of payload_size bytes fits its metadata:
 * float32 values (a multiple of 4 bytes) and, when meta (may be NULL) has
 * an integer "dimensions", whole rows of that many, and "count" of them
 * when that is given too. The verifier requires it of every EMBD block,
 * so the writer refuses blocks that break it. */
int v21_embedding_fits(uint64_t payload_size, const json_t *meta);

/* content_hash as 2.1 defines it (metadata joins when a non-empty object).
 * meta_nonempty: 1 if the metadata is a non-empty JSON object. */
void v21_content_hash(const uint8_t *payload, size_t plen, const uint8_t *meta, size_t mlen, int meta_nonempty,
                      uint8_t out[MAIF_HASH_BYTES]);
/* Merkle root with the duplicate-last-odd rule. hashes holds n * 32 bytes
 * and is overwritten. n == 0 gives zeros. */
void v21_merkle(uint8_t *hashes, uint64_t n, uint8_t out[MAIF_HASH_BYTES]);
/* The 108-byte signed prefix of a block header, flags masked. */
void v21_block_prefix(const uint8_t *hdr, uint8_t out[V21_B_SIGNED_PREFIX]);
/* Python json.dumps(v) without sort_keys: keys in stored order, ", " and
 * ": " separators, ensure_ascii. Errors: as maif_json_dump. */
int v21_json_dump_ordered(const json_t *v, maif_buf *out);
/* The entry_hash input: Python-style sorted JSON of the eight hashed keys. */
int v21_entry_hash(json_int_t ts, const char *agent_id, const char *agent_did, const char *action,
                   const char *block_hash, const char *prev, json_int_t pos, json_t *meta,
                   char out_hex[2 * MAIF_HASH_BYTES + 1]);

/* Where the writer core takes its blocks from. */
typedef struct v21_source {
    void *ctx;
    uint64_t count;
    int (*block)(void *ctx, uint64_t i, maif_block *out);
    uint64_t created_us;  /* 0: now */
    const char *agent_did; /* reuse this DID (a 2.1 source), or NULL */
    const char *agent;     /* agent id of a native source, or NULL / "" */
} v21_source;

int v21_write(const v21_source *src, const char *path, const maif_key *key, const char *agent_id, char *err,
              size_t errcap);
/* Writes a 2.1 file from a parsed 2.1 image (no reader needed). */
int maif21_write_from_v21(const maif21 *m, const char *path, const maif_key *key, const char *agent_id, char *err,
                          size_t errcap);

#endif
