/*
 * native.h — the native maif format: layout constants and the internal
 * interfaces shared by its reader, writer and verifier. docs/FORMAT.md is
 * the normative description; the numbers here must match it.
 *
 * A file is a header followed by records. Each record is
 *   header (112) | ext TLVs | metadata JSON | zero pad to 8 | payload | zero pad to 8
 * and is chained: record_hash = SHA-256(previous record_hash ‖ header[0,80)
 * ‖ ext ‖ metadata); the first record chains from SHA-256(file header).
 * Blocks (kind 'B') carry data; index records ('I') map block numbers to
 * offsets; node records ('N') store Merkle subtree roots for proofs;
 * commit records ('C') seal a batch with a Merkle root and an
 * Ed25519 signature and end with a 16-byte tail, so the last commit, and
 * from it the whole index, is found from the end of the file in O(1).
 */
#ifndef MAIF_NATIVE_H
#define MAIF_NATIVE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "codec/codec.h"
#include "codec/tlv.h"
#include "maif.h"
#include "report/report.h"

/* ---- file header */
#define NAT_MAGIC            "\x89MAIF\r\n\x1a"
#define NAT_MAGIC_LEN        8
#define NAT_WRITE_VERSION    4 /* writers must know this version to append */
#define NAT_VERSION_FLAGS    4 /* the write version of files whose header sets a flag */
#define NAT_READ_VERSION     3 /* readers must know this version to read */
#define NAT_VERSION_ED25519  2 /* what files created with an Ed25519 key say (read and write) */
#define NAT_FIXED_HEADER     64
#define NAT_HEADER_MAX       65536 /* header_size limit (fixed part + JSON + pad) */

#define NH_MAGIC        0  /* 8  magic */
#define NH_WRITE_VER    8  /* u16 */
#define NH_READ_VER     10 /* u16 */
#define NH_HEADER_SIZE  12 /* u32: whole header incl. JSON and padding, multiple of 8 */
#define NH_CREATED      16 /* u64 µs */
#define NH_FILE_ID      24 /* 16 */
#define NH_META_SIZE    40 /* u32 */
#define NH_FLAGS        44 /* u32: NH_F_* */
#define NH_F_BLAKE3     0x1u /* content hashes are BLAKE3, not SHA-256 */
#define NH_F_KNOWN      0x1u /* every other bit is reserved, zero; readers refuse them */
#define NH_RESERVED     48 /* 16, must be zero */

/* ---- record header */
#define NAT_REC_HEADER  112
#define NAT_REC_HASHED  80 /* header bytes covered by record_hash (all but the hash itself) */

#define NR_KIND         0  /* u8: 'B' block, 'I' index segment, 'C' commit */
#define NR_VERSION      1  /* u8: record layout version, NAT_REC_VERSION */
#define NR_FLAGS        2  /* u16: block flags (NAT_REC_F_*); zero for other records */
#define NR_TYPE         4  /* 4: block type, ASCII, big-endian order; zero for other records */
#define NR_STORED_SIZE  8  /* u64: payload bytes as stored */
#define NR_TIMESTAMP    16 /* u64 µs */
#define NR_META_SIZE    24 /* u32 */
#define NR_EXT_SIZE     28 /* u16 */
#define NR_CODEC        30 /* u8, 0 = none */
#define NR_CIPHER       31 /* u8, 0 = none */
#define NR_ID           32 /* 16: block id; zero for other records */
#define NR_CONTENT_HASH 48 /* 32: SHA-256 of the stored payload (commit: see below) */
#define NR_RECORD_HASH  80 /* 32: chain hash */

#define NAT_KIND_BLOCK  'B'
#define NAT_KIND_INDEX  'I'
#define NAT_KIND_COMMIT 'C'
#define NAT_KIND_DIR    'D'
#define NAT_KIND_NODES  'N' /* Merkle node record (FORMAT.md §5.13) */
#define NAT_REC_VERSION 1
#define NAT_REC_VERSION_SIGALG 2 /* commit records only: a signature area naming its algorithm (FORMAT.md §5.5.1) */
#define NAT_REC_F_SUPERSEDES 0x0001u /* the extension area holds a supersedes TLV */
#define NAT_REC_F_KNOWN      0x0001u /* every other flag bit is reserved, zero */
/* Internal names of the kinds (nat_rec.tag), for messages and comparisons. */
#define NAT_TAG_BLOCK  "MBLK"
#define NAT_TAG_INDEX  "MIDX"
#define NAT_TAG_COMMIT "MCMT"
#define NAT_TAG_DIR    "MDIR"
#define NAT_TAG_NODES  "MNOD"

/* ---- extension TLVs: u16 tag, u16 length, value; they fill ext_size
 * exactly. Built and walked by codec/tlv.h; the numbers are the format's. */
#define NAT_EXT_SUPERSEDES   0x0001 /* 16-byte block id */
#define NAT_EXT_DECODED_SIZE 0x0002 /* u64: payload bytes before the stages (present iff codec or cipher is set) */
#define NAT_EXT_KEY_ID       0x0003 /* 1..MAIF_KEY_ID_MAX bytes: the cipher's key (present iff cipher is set) */
#define NAT_EXT_NONCE        0x0004 /* 1..MAIF_NONCE_MAX bytes: the cipher's nonce (present iff cipher is set) */
#define NAT_EXT_DICT_REF     0x0020 /* 1-8 bytes, little-endian: the number of the ZDIC block a codec-3
                                       payload was compressed with (present iff codec is 3) */
#define NAT_EXT_DICT_REF_MAX 8
#define NAT_EXT_CRITICAL     MAIF_TLV_CRITICAL /* a reader that does not know the tag must not decode the payload */
/* Largest extension area this library writes: supersedes, decoded size,
 * key id and nonce, each with its 4-byte head. */
#define NAT_EXT_BUILD_MAX (5 * MAIF_TLV_HEAD + MAIF_ID_BYTES + 8 + MAIF_KEY_ID_MAX + MAIF_NONCE_MAX + NAT_EXT_DICT_REF_MAX)

/* ---- limits */
#define NAT_META_MAX        (16u << 20) /* metadata JSON per block */
#define NAT_PAYLOAD_MAX     ((uint64_t)1 << 40)
#define NAT_MAX_SEGMENTS    64
#define NAT_MAX_FRONTIER    64

/* ---- index records.
 * A leaf ('I') maps the blocks of one batch to their offsets:
 *   u64 first, u64 count, u64 base, then count × u32 (offset − base).
 * A directory ('D') lists leaves, so that merging index segments rewrites
 * one 16-byte entry per leaf instead of every block offset:
 *   u64 first, u64 count, u64 nleaf, then nleaf × (u64 leaf offset,
 *   u64 leaf's first block); leaf k covers up to the next one's first. */
#define NAT_INDEX_HEAD  24
#define NAT_DIR_HEAD    24
#define NAT_DIR_ENTRY   16
#define NAT_LEAF_SPAN   ((uint64_t)1 << 32) /* entries are u32: a leaf spans less than 4 GiB */

/* The three u64 that open a leaf or a directory payload. */
typedef struct nat_index_head {
    uint64_t first, count;
    uint64_t third; /* leaf: base offset; directory: number of leaves */
} nat_index_head;

/* ---- commit record payload */
#define NC_SEQ         0   /* u64 commit number, from 0 */
#define NC_BLOCKS      8   /* u64 data blocks after this commit */
#define NC_PREV        16  /* u64 offset of the previous commit record, 0 for the first */
#define NC_MERKLE      24  /* 32 Merkle root over all blocks */
#define NC_SIGNER      56  /* 32 Ed25519 public key */
#define NC_NSEG        88  /* u32 index segments */
#define NC_NFRONTIER   92  /* u32 Merkle frontier hashes */
#define NC_FIXED       96  /* then nseg × 24 (offset, first, count), nfrontier × 32,
                              signature 64, tail 16 */
#define NC_SEG_SIZE    24
#define NAT_TAIL_SIZE  16  /* u64 offset of this commit record, 8-byte magic */
#define NAT_TAIL_MAGIC "MAIFTAIL"
#define NAT_SIG_DOMAIN "MAIF-COMMIT-V1\0\0" /* 16 bytes; signed message = domain ‖ record_hash */
/* Version 2 commits: the 64-byte signature is replaced by a signature area
 *   u8 alg (MAIF_SIG_*), u8 0, u16 pk_len, u16 sig_len, u16 0,
 *   pk (pk_len: DER SubjectPublicKeyInfo; Ed25519: 32 raw bytes),
 *   sig (sig_len), zero pad to 8
 * and NC_SIGNER holds SHA-256(pk) (Ed25519: pk itself). The content hash
 * skips the sig bytes only. */
#define NC_SIGAREA_HEAD 8
#define NAT_SIG_PK_MAX  1200 /* = MAIF_SPKI_MAX */
#define NAT_SIG_LEN_MAX 1024 /* = MAIF_SIG_MAX */
#define NC_SIGAREA_MAX  (NC_SIGAREA_HEAD + NAT_SIG_PK_MAX + NAT_SIG_LEN_MAX + 8)
/* Bytes of a version 2 signature area for these lengths (head, pad included). */
#define NC_SIGAREA_SIZE(pk_len, sig_len) ((NC_SIGAREA_HEAD + (uint64_t)(pk_len) + (sig_len) + 7) & ~(uint64_t)7)

/* A parsed record header, with bounds already checked against the image. */
typedef struct nat_rec {
    uint64_t off;        /* record start */
    uint64_t end;        /* record end (aligned); <= image size */
    char tag[4];         /* NAT_TAG_* for the record's kind */
    uint8_t version;     /* record layout version */
    uint16_t flags;      /* NAT_REC_F_* */
    uint32_t type;
    uint64_t stored_size;
    uint64_t timestamp;
    uint32_t meta_size;
    uint16_t ext_size;
    uint8_t codec, cipher;
    uint64_t ext_off, meta_off, payload_off;
    const uint8_t *hdr;  /* NAT_REC_HEADER bytes */
} nat_rec;

/* Parses the record header at off. Returns 0, or MAIF_EFORMAT with a
 * message; sets *truncated to 1 when the record would run past size (a
 * torn tail rather than a corruption). */
int nat_rec_parse(const uint8_t *base, uint64_t size, uint64_t off, nat_rec *r, int *truncated, char *err,
                  size_t errcap);
/* record_hash of r given the previous record hash. */
void nat_rec_hash(const uint8_t *base, const nat_rec *r, const uint8_t prev[32], uint8_t out[32]);
/* The content hash of a commit skips its signature, sig_len bytes at
 * sig_off of the payload (nat_commit's; sig_off + sig_len <= size). */
void nat_commit_content_hash_at(const uint8_t *payload, uint64_t size, uint64_t sig_off, uint64_t sig_len,
                                uint8_t out[32]);
/* The same for a version 1 (Ed25519) commit: the 64 bytes before the tail. */
void nat_commit_content_hash(const uint8_t *payload, uint64_t size, uint8_t out[32]);
/* A block's extension area, walked against the native tag rules. */
typedef struct nat_ext {
    int has_supersedes;
    uint8_t supersedes[MAIF_ID_BYTES];
    int has_decoded_size;
    uint64_t decoded_size;
    const uint8_t *key_id; /* into the image, or NULL */
    uint16_t key_id_len;
    const uint8_t *nonce;  /* into the image, or NULL */
    uint16_t nonce_len;
    const uint8_t *dict_ref; /* into the image (dict_ref_len bytes), or NULL */
    uint16_t dict_ref_len;
    uint64_t dict_index;     /* the block number dict_ref holds */
    maif_tlv_report rep;   /* what the walk found wrong, and unknown critical tags */
} nat_ext;
/* Walks an extension area. Returns MAIF_OK, or MAIF_EFORMAT when it is
 * malformed (out->rep says how and where). An unknown critical tag is not
 * malformed: out->rep.critical_unknown is set and the payload must not be
 * decoded. */
int nat_ext_parse(const uint8_t *ext, uint16_t ext_size, nat_ext *out);
/* The tags the payload pipeline (codec/codec.h) uses in this format. */
extern const maif_stage_tags nat_stage_tags;
/* The pipeline's associated data for the block record whose header is hdr,
 * in the file whose header's file_id is file_id. */
void nat_stage_ad(const uint8_t *file_id, const uint8_t *hdr, uint8_t ad[MAIF_STAGE_AD_BYTES]);

struct maif_zdict;
struct nat_view;
struct nat_dicts;
/* Parsed file header. */
typedef struct nat_header {
    uint32_t header_size;
    uint64_t created;
    uint8_t file_id[MAIF_ID_BYTES];
    const char *meta;   /* borrowed JSON */
    uint32_t meta_size;
    uint32_t flags;     /* NH_F_* (only known bits: parse refuses others) */
    int hash_alg;       /* MAIF_HASH_*: what content hashes are (NH_F_BLAKE3) */
} nat_header;
int nat_header_parse(const uint8_t *base, uint64_t size, nat_header *h, char *err, size_t errcap);
int nat_detect(const uint8_t *buf, size_t len);

/* One index segment, as listed in a commit. */
typedef struct nat_seg {
    uint64_t off;   /* index record offset */
    uint64_t first; /* first block number */
    uint64_t count;
} nat_seg;

/* A parsed commit record. */
typedef struct nat_commit {
    uint64_t off, end;
    uint64_t seq, blocks, prev;
    uint64_t timestamp;
    uint8_t merkle[32];
    uint8_t signer[32];
    uint8_t record_hash[32];
    uint32_t nseg, nfrontier;
    uint8_t version;        /* record version: NAT_REC_VERSION or NAT_REC_VERSION_SIGALG */
    uint8_t alg;            /* MAIF_SIG_* */
    uint16_t pk_len;        /* public key bytes (Ed25519 version 1: 32, pk = the signer field) */
    uint16_t sig_len;
    uint64_t sig_off;       /* signature offset in the payload */
    const uint8_t *pk;      /* into the image */
    nat_seg seg[NAT_MAX_SEGMENTS];
    uint8_t frontier[NAT_MAX_FRONTIER][32];
    const uint8_t *sig;
} nat_commit;
/* Parses the commit record r (already header-parsed). Checks its internal
 * structure only. */
int nat_commit_parse(const uint8_t *base, const nat_rec *r, nat_commit *c, char *err, size_t errcap);
/* Parses the version 2 signature area that starts at payload[at] and must
 * end NAT_TAIL_SIZE before n, into c (alg, pk, pk_len, sig, sig_len,
 * sig_off). Returns 0 or -1 with a reason in *why (static). */
int nat_sigarea_parse(const uint8_t *payload, uint64_t n, uint64_t at, nat_commit *c, const char **why);
/* Reads the head of index record r (already header-parsed) into h when the
 * payload holds one, and returns NAT_KIND_INDEX or NAT_KIND_DIR if the
 * payload is exactly what the head says (count >= 1; a directory lists at
 * least one leaf), else 0. */
int nat_index_head_parse(const uint8_t *base, const nat_rec *r, nat_index_head *h);

/* ---- Merkle tree (RFC 6962 shape): leaves H(0x00 ‖ record_hash), nodes
 * H(0x01 ‖ left ‖ right); the frontier holds the roots of the perfect
 * subtrees that make up n leaves, largest first (popcount(n) hashes). */
typedef struct nat_merkle {
    uint64_t n;
    uint32_t depth;                  /* number of frontier hashes */
    uint8_t h[NAT_MAX_FRONTIER][32];
} nat_merkle;
void nat_merkle_leaf(const uint8_t record_hash[32], uint8_t out[32]);
void nat_merkle_push(nat_merkle *m, const uint8_t leaf[32]);
void nat_merkle_root(const nat_merkle *m, uint8_t out[32]);
/* As nat_merkle_push, and appends to out (room for NAT_MAX_FRONTIER) the
 * roots of the perfect subtrees of height >= NAT_NODE_MIN_HEIGHT the new
 * leaf completes, lowest first; *nout receives how many. */
void nat_merkle_push_nodes(nat_merkle *m, const uint8_t leaf[32], uint8_t (*out)[32], uint32_t *nout);
/* Rebuilds a frontier from a commit's stored hashes; 0 or -1 if the count
 * does not match popcount(n). */
int nat_merkle_load(nat_merkle *m, uint64_t n, const uint8_t (*h)[32], uint32_t count);

/* ---- Merkle node records (kind 'N', FORMAT.md §5.13): the roots of the
 * perfect subtrees of height >= NAT_NODE_MIN_HEIGHT (128 leaves and more)
 * whose last leaf lies in [first, first + count), ordered by that last leaf,
 * then by height. Payload: u64 first, u64 count, then the 32-byte roots.
 * A node record directly follows the index leaf of the same range. */
#define NAT_NODE_MIN_HEIGHT 7
#define NAT_NODES_HEAD      16
/* Nodes completed by the leaves [0, x): sum over h >= 7 of floor(x / 2^h). */
static inline uint64_t nat_nodes_before(uint64_t x)
{
    uint64_t c = 0;
    for (x >>= NAT_NODE_MIN_HEIGHT; x; x >>= 1) c += x;
    return c;
}
/* Checks the node record r (already header-parsed) against its own
 * fields: 1 if its payload holds first, count (>= 1, no overflow) and
 * exactly the nodes that range completes (at least one), else 0. */
int nat_nodes_parse(const uint8_t *base, const nat_rec *r, uint64_t *first, uint64_t *count);

/* ---- the committed view of an image, shared by reader and writer */
typedef struct nat_view {
    nat_header hdr;
    uint64_t committed;   /* end of the last valid commit */
    uint64_t torn;        /* bytes after it */
    nat_commit last;      /* the last valid commit */
    uint64_t commits;     /* number of commits (seq + 1) */
    int scanned;          /* 1 if found by scanning (tail missing or damaged) */
    uint64_t *offsets;    /* when scanned: block offsets (owned); else NULL */
} nat_view;
/* Finds the last commit: from the tail in O(1), else by a scan that checks
 * the chain. Errors: MAIF_EFORMAT (no valid commit at all), MAIF_EVERSION,
 * MAIF_ENOMEM. */
int nat_view_open(nat_view *v, const uint8_t *base, uint64_t size, char *err, size_t errcap);
/* As nat_view_open, for a reader that already knows the commit ending at
 * from: when the tail does not check out (a writer is mid-batch), the
 * record heads after from are walked to the last commit (no hashing), and
 * the image up to it opens from its tail; only if that fails is the whole
 * file scanned. Cost: O(records appended since from). */
int nat_view_open_after(nat_view *v, const uint8_t *base, uint64_t size, uint64_t from, char *err, size_t errcap);
void nat_view_free(nat_view *v);
/* Offset of block i (< v->last.blocks), or MAIF_EFORMAT. */
int nat_view_block_offset(const nat_view *v, const uint8_t *base, uint64_t i, uint64_t *off);
/* Offset of the index leaf that maps block i in the view's index, or
 * MAIF_ENOTFOUND when the view has none (it was found by a scan), or
 * MAIF_EFORMAT. */
int nat_view_leaf_offset(const nat_view *v, const uint8_t *base, uint64_t i, uint64_t *off);
/* Parses the record at off that the index gives for block index and checks
 * that it is a block record. Errors: nat_rec_parse's, MAIF_EFORMAT. */
int nat_block_rec(const uint8_t *base, uint64_t limit, uint64_t off, uint64_t index, nat_rec *r, char *err,
                  size_t errcap);
/* Fills a maif_block from the block record at off. */
int nat_block_view(const uint8_t *base, uint64_t limit, uint64_t off, uint64_t index, maif_block *out, char *err,
                   size_t errcap);
/* Decodes the payload of the block record at off (native_decode.c): with
 * dst NULL and cap 0 it only sets *size to the decoded size; otherwise it
 * decodes into dst and sets *size to the bytes written (on MAIF_ELIMIT,
 * to the bytes needed). Errors: MAIF_EFORMAT, MAIF_EUNSUPPORTED,
 * MAIF_ELIMIT, MAIF_ENOMEM, and a stage's own. */
int nat_block_decode(const uint8_t *base, uint64_t limit, uint64_t off, uint64_t index, const void *keyring,
                     struct nat_dicts *dicts, const struct nat_view *v, void *dst, size_t cap, size_t *size, char *err,
                     size_t errcap);
/* As nat_block_decode, the payload handed to sink piece by piece
 * (maif_stage_decode_to). */
int nat_block_decode_to(const uint8_t *base, uint64_t limit, uint64_t off, uint64_t index, const void *keyring,
                        struct nat_dicts *dicts, const struct nat_view *v, maif_stage_sink sink, void *ctx, char *err,
                        size_t errcap);

/* ---- zstd dictionaries stored in the artifact (native_dict.c; FORMAT
 * §5.6.2). A block of type ZDIC holds one, stored as is; a codec-3 block
 * names it by number (NAT_EXT_DICT_REF). */
#define NAT_TYPE_ZDICT 0x5A444943u /* "ZDIC" */
#define NAT_DICTS_CACHED 8         /* dictionaries a reader keeps loaded */
/* A reader's loaded dictionaries, shared by its threads. Entries are never
 * evicted (a decode may be using one); past NAT_DICTS_CACHED a dictionary
 * is loaded for one decode and freed after it. */
typedef struct nat_dicts {
    pthread_mutex_t lock;
    int n;
    struct {
        uint64_t index;
        struct maif_zdict *d;
    } e[NAT_DICTS_CACHED];
} nat_dicts;
void nat_dicts_init(nat_dicts *c);
void nat_dicts_free(nat_dicts *c);
/* Loads the dictionary of block index (which must be a ZDIC block with
 * codec and cipher 0 whose payload matches its content hash)
 * from the committed image at base (view v), for compression at level.
 * Errors: MAIF_ENOTFOUND (no such block), MAIF_EFORMAT (not a dictionary
 * block, wrong id, hash mismatch, a malformed dictionary), MAIF_ELIMIT,
 * MAIF_ENOMEM. */
int nat_dict_load(const uint8_t *base, const struct nat_view *v, uint64_t index, int level,
                  struct maif_zdict **out, char *err, size_t errcap);
/* The dictionary of block index for decoding: from c's entries, else
 * loaded (nat_dict_load) and kept in c, or, when c is full or NULL, handed
 * over in *owned for the caller to free after the decode. *out is valid
 * as long as c (or *owned). Errors: nat_dict_load's. */
int nat_dicts_get(nat_dicts *c, const uint8_t *base, const struct nat_view *v, uint64_t index, const void **out,
                  struct maif_zdict **owned, char *err, size_t errcap);

/* Walks the bytes after v->committed: 1 if they look like an interrupted
 * append (hash-valid records, then at most one record cut short by the end
 * of the file), 0 if something there is damaged. */
int nat_tail_is_torn(const uint8_t *base, uint64_t size, const nat_view *v);
/* The one rule for "what the writer could have been writing when it
 * stopped" (docs/FORMAT.md §9), for the bytes [off, size) where a record
 * was expected but none parses completely: 1 if they are a never-written
 * (all-zero) header, a prefix of a header the writer could have written
 * (kind, version, flags, type, sizes, codec, cipher consistent as far as
 * present), or such a complete header whose record runs past the end of
 * the file (and, when prev is not NULL and its extensions and metadata are
 * all present, whose record hash chains from prev); else 0 (damage). */
int nat_rec_torn_at(const uint8_t *base, uint64_t size, uint64_t off, const uint8_t prev[32]);
/* Writes reach a file a page at a time: a kill can stop one at any
 * NAT_WRITE_PAGE boundary, leaving the rest of the range as it was (zero,
 * for a record head the writer reserved as a hole). */
#define NAT_WRITE_PAGE 4096u
/* For a complete record whose record hash does not match: 1 if its head
 * (header, extensions, metadata) is a write cut short at a page boundary:
 * zero from a NAT_WRITE_PAGE-aligned offset inside it to its end, and the
 * header as far as written one the writer could have written (rule 4 of
 * docs/FORMAT.md §9); else 0 (damage). */
int nat_rec_head_torn(const uint8_t *base, const nat_rec *r);

/* ---- writer internals (native_open.c; the handle is in native_writer.h) */
/* Writer flags (internal; the public side sets MAIF_OPT_OVERWRITE,
 * MAIF_OPT_DURABLE and MAIF_OPT_FORCE_RECOVER in maif_options). */
#define MAIF_W_OVERWRITE     0x01u /* create: replace an existing file */
#define MAIF_W_DURABLE       0x02u /* every commit is fsync'ed */
#define MAIF_W_FORCE_RECOVER 0x04u /* open: cut damage after the last commit too */
#define MAIF_W_BLAKE3        0x08u /* create: content hashes are BLAKE3 (MAIF_OPT_CONTENT_HASH) */

/* The flags opt asks for. */
unsigned nat_writer_flags(const maif_options *opt);
/* Writer flag for conversion only (the public calls mask it off): block
 * timestamps are stored as given, 0 included, instead of 0 meaning "now",
 * so that a source block stamped 0 keeps its time. */
#define NAT_W_EXACT_TIME 0x10000u
/* Writer flag for tests and benchmarks only: write no Merkle node records,
 * as writers before FORMAT.md §5.13 did, so that the fallback of proofs
 * (and mixed files) can be exercised. */
#define NAT_W_NO_NODES 0x20000u
/* header_json is the file header's metadata (canonical JSON, may be NULL). */
int nat_writer_create(maif_writer **out, const char *path, const maif_key *key, const char *header_json,
                      uint64_t created_us, unsigned flags);
/* create flag: leave the new file unnamed (a process that dies leaves
 * nothing) until nat_writer_publish gives it its name. */
#define NAT_W_UNPUBLISHED 0x100u
/* Names a writer created with NAT_W_UNPUBLISHED: path replaced if it
 * exists (MAIF_W_OVERWRITE in flags) or MAIF_EEXIST; then syncs the
 * directory. */
int nat_writer_publish(maif_writer *w, unsigned flags);
/* *cut receives the torn bytes removed; err gets a message. key may be NULL
 * only for a writer that will be closed without committing (recovery). */
/* lock_wait_ms: how long to wait for another writer's lock (0: MAIF_ELOCKED at once). */
int nat_writer_open(maif_writer **out, const char *path, const maif_key *key, unsigned flags, uint64_t *cut,
                    uint32_t lock_wait_ms, char *err, size_t errcap);

/* ---- verifier */
void nat_verify(const uint8_t *base, uint64_t size, const maif_verify_options *opt, maif_report *rep);

#endif
