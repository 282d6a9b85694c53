/*
 * maif.h — the public API of libmaif, and its manual.
 *
 * MAIF artifacts are append-only files of typed blocks (text, images, audio,
 * video, embeddings, JSON, knowledge triples, metadata). Every block carries
 * a content hash and is linked into a hash chain; batches of blocks are sealed
 * by signed commit records (Ed25519) carrying a Merkle root. The byte layout
 * is specified normatively in docs/FORMAT.md.
 *
 * Two on-disk formats are read through this one API:
 *   - the native maif format (written by this library), and
 *   - MAIF 2.1 files written by the original Python implementation.
 *
 * Conventions (since 0.1.0):
 *   - Every function that can fail returns int: 0 (MAIF_OK) on success or a
 *     negative MAIF_E* code. maif_strerror() gives static text for a code;
 *     handles keep a detailed message (maif_writer_errmsg, maif_reader_errmsg).
 *   - Constructors take an out-parameter; *_close(NULL) and *_free(NULL) are
 *     no-ops.
 *   - Pointers handed out by a reader are borrowed views into a read-only
 *     memory map: valid until maif_reader_close() on that reader; never
 *     modify or free them.
 *   - The library never aborts or exits, and never prints.
 *   - Handles are not thread-safe; use one per thread. Several readers may
 *     share a file with one writer (the writer holds an exclusive lock).
 *   - Threads the library starts are its own business, and it counts only
 *     the CPUs the calling thread may run on (its affinity mask):
 *     verification hashes on a pool that lives for one call, a commit
 *     hashes borrowed payloads on one, and when two or more CPUs are usable
 *     a writer starts one helper thread ("maif-hash") for payload hashes
 *     at its first small block, joined by maif_writer_close. Do not use a
 *     writer in a child after fork().
 */
#ifndef MAIF_H
#define MAIF_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MAIF_VERSION_MAJOR 0
#define MAIF_VERSION_MINOR 1
#define MAIF_VERSION_PATCH 0
#define MAIF_VERSION_STRING "0.1.0"

/* ------------------------------------------------------------------ errors */

#define MAIF_OK             0
#define MAIF_EINVAL       (-1)  /* bad argument (NULL, out of range, bad type) */
#define MAIF_ENOMEM       (-2)  /* allocation failed */
#define MAIF_EIO          (-3)  /* operating-system I/O error (open, read, write, fsync) */
#define MAIF_ENOTFOUND    (-4)  /* no such block, id or file */
#define MAIF_EFORMAT      (-5)  /* not a MAIF file, or malformed / corrupt structure */
#define MAIF_EVERSION     (-6)  /* a format version this library cannot read or write */
#define MAIF_EVERIFY      (-7)  /* integrity or signature check failed */
#define MAIF_ELOCKED      (-8)  /* another writer holds the artifact */
#define MAIF_ESTATE       (-9)  /* call not valid in this state (e.g. handle failed earlier) */
#define MAIF_ELIMIT      (-10)  /* a documented limit would be exceeded */
#define MAIF_EKEY        (-11)  /* key file missing, malformed or of the wrong kind */
#define MAIF_EJSON       (-12)  /* metadata is not a valid JSON object */
#define MAIF_EEXIST      (-13)  /* file exists (create without overwrite) */
#define MAIF_EACCESS     (-14)  /* reserved: access denied (encryption work) */
#define MAIF_EUNSUPPORTED (-15) /* feature present in the file but not supported */

/* Static, human-readable text for an error code. Never NULL. */
const char *maif_strerror(int code);
/* Detailed message from the last constructor (maif_writer_create,
 * maif_writer_open, maif_key_*) that failed on this thread; "" if none.
 * Valid until the next failing call on the same thread. */
const char *maif_last_errmsg(void);

/* ------------------------------------------------------------- block types */

/* A block type is four ASCII characters; as a number it is their big-endian
 * value, so MAIF_TYPE_TEXT == 0x54455854 == "TEXT". */
#define MAIF_FOURCC(a, b, c, d) \
    (((uint32_t)(uint8_t)(a) << 24) | ((uint32_t)(uint8_t)(b) << 16) | \
     ((uint32_t)(uint8_t)(c) << 8) | (uint32_t)(uint8_t)(d))

#define MAIF_TYPE_TEXT      MAIF_FOURCC('T', 'E', 'X', 'T') /* UTF-8 text */
#define MAIF_TYPE_EMBEDDING MAIF_FOURCC('E', 'M', 'B', 'D') /* float32 LE rows */
#define MAIF_TYPE_IMAGE     MAIF_FOURCC('I', 'M', 'A', 'G')
#define MAIF_TYPE_AUDIO     MAIF_FOURCC('A', 'U', 'D', 'I')
#define MAIF_TYPE_VIDEO     MAIF_FOURCC('V', 'I', 'D', 'E')
#define MAIF_TYPE_KNOWLEDGE MAIF_FOURCC('K', 'N', 'O', 'W') /* knowledge-graph triples */
#define MAIF_TYPE_BINARY    MAIF_FOURCC('B', 'I', 'N', 'A')
#define MAIF_TYPE_META      MAIF_FOURCC('M', 'E', 'T', 'A')
#define MAIF_TYPE_JSON      MAIF_FOURCC('J', 'S', 'O', 'N') /* structured JSON data */

/* Parses a CLI type name ("text", "image", "audio", "video", "embedding",
 * "json", "knowledge", "binary", "meta") or a four-character code ("TEXT").
 * Returns 0 and sets *type, or MAIF_EINVAL. */
int maif_type_parse(const char *name, uint32_t *type);
/* Lower-case name for a known type ("text"), or NULL for an unknown one. */
const char *maif_type_name(uint32_t type);
/* Writes the four characters of type into out[5] (NUL-terminated); bytes that
 * are not printable ASCII are shown as '?'. Returns out. */
char *maif_type_fourcc(uint32_t type, char out[5]);

/* --------------------------------------------------------------- keys */

#define MAIF_PUBKEY_BYTES    32
#define MAIF_SIGNATURE_BYTES 64
#define MAIF_ID_BYTES        16
#define MAIF_HASH_BYTES      32

/* An Ed25519 key pair. The secret half lives in locked memory and is wiped
 * when the key is freed. */
typedef struct maif_key maif_key;

/* Generates a fresh key pair. */
int maif_key_generate(maif_key **out);
/* Writes the secret key to path (mode 0600, created or replaced atomically)
 * and the public key to path + ".pub" (mode 0644). Errors: MAIF_EIO. */
int maif_key_save(const maif_key *key, const char *path);
/* Loads a secret key file written by maif_key_save. Errors: MAIF_ENOTFOUND,
 * MAIF_EIO, MAIF_EKEY (malformed, or the public half does not match). */
int maif_key_load(maif_key **out, const char *path);
/* Loads the default key $MAIF_HOME/default.key (~/.maif/default.key when
 * MAIF_HOME is unset), generating and saving it on first use. If path_out is
 * not NULL it receives the path (path_cap bytes). */
int maif_key_load_default(maif_key **out, char *path_out, size_t path_cap);
/* Copies the public key. */
void maif_key_public(const maif_key *key, uint8_t pk[MAIF_PUBKEY_BYTES]);
/* Wipes and frees. NULL is a no-op. */
void maif_key_free(maif_key *key);
/* Loads a public key file (".pub", as written by maif_key_save) or a secret
 * key file (its public half). Errors: MAIF_ENOTFOUND, MAIF_EIO, MAIF_EKEY. */
int maif_pubkey_load(const char *path, uint8_t pk[MAIF_PUBKEY_BYTES]);

/* ------------------------------------------------------------- blocks */

/* What a writer is asked to append. */
typedef struct maif_block_spec {
    uint32_t type;              /* MAIF_TYPE_* or any four ASCII characters */
    const void *payload;        /* payload_size bytes; may be NULL when size is 0 */
    size_t payload_size;
    const char *meta_json;      /* a JSON object, or NULL for none; stored in
                                   canonical form (sorted keys, no spaces) */
    size_t meta_size;           /* bytes of meta_json */
    const uint8_t *supersedes;  /* MAIF_ID_BYTES: the block id this one replaces, or NULL */
    const uint8_t *id;          /* MAIF_ID_BYTES to use as the block id, or NULL for a random one */
    uint64_t timestamp_us;      /* microseconds since the epoch; 0 means now */
} maif_block_spec;

/* A block as read: a borrowed view (see the conventions above). */
typedef struct maif_block {
    uint64_t index;             /* data block number, 0-based, in append order */
    uint64_t offset;            /* file offset of the block's record */
    uint32_t type;
    uint32_t flags;             /* native: MAIF_BLOCK_F_*; 2.1: that format's block flags */
    uint64_t timestamp_us;
    uint8_t id[MAIF_ID_BYTES];
    uint8_t supersedes[MAIF_ID_BYTES];
    int has_supersedes;         /* 1 if supersedes is set */
    const uint8_t *payload;     /* stored payload bytes */
    size_t payload_size;
    const char *meta;           /* canonical metadata JSON (not NUL-terminated), or NULL */
    size_t meta_size;
    uint8_t content_hash[MAIF_HASH_BYTES]; /* as stored in the file */
    uint8_t codec;              /* how payload is encoded: 0 none (payload is the data) */
    uint8_t cipher;             /* how it is encrypted: 0 none. Non-zero: payload holds the
                                   stored bytes; maif_reader_block_decode gives the data */
} maif_block;

#define MAIF_BLOCK_F_SUPERSEDES 0x01u /* native: this block supersedes another (see supersedes) */

/* --------------------------------------------------------------- writer */

typedef struct maif_writer maif_writer;

/* Writer flags. */
#define MAIF_W_OVERWRITE 0x01u  /* create: replace an existing file */
#define MAIF_W_DURABLE   0x02u  /* every commit is fsync'ed (data, then the commit record) */
#define MAIF_W_FORCE_RECOVER 0x04u /* open: cut everything after the last valid commit even
                                      when it is damage rather than a torn write (data lost) */

/* Creates a new native artifact at path and commits its (empty) first batch,
 * so the file is valid at once. key signs every commit (borrowed; must
 * outlive the writer). agent_id (may be NULL) is recorded in the file header.
 * Errors: MAIF_EEXIST (without MAIF_W_OVERWRITE), MAIF_EIO, MAIF_EINVAL. */
int maif_writer_create(maif_writer **out, const char *path, const maif_key *key,
                       const char *agent_id, unsigned flags);
/* Opens an existing native artifact for appending. A torn tail (bytes after
 * the last commit, left by a crash) is cut off first. Takes an exclusive
 * lock. Errors: MAIF_ENOTFOUND, MAIF_EIO, MAIF_EFORMAT, MAIF_EVERSION,
 * MAIF_ELOCKED. A MAIF 2.1 file gives MAIF_EUNSUPPORTED (use convert). */
int maif_writer_open(maif_writer **out, const char *path, const maif_key *key, unsigned flags);
/* Appends a block to the current (uncommitted) batch. If id_out is not NULL
 * it receives the block id. The block is invisible to readers until commit.
 * The payload is consumed before the call returns. (When two or more CPUs
 * are usable, a payload of 256 KiB to 16 MiB is copied into a 16 MiB
 * buffer the writer keeps until close, and written later, at the latest by
 * the commit, so that large payloads are hashed on every core; a write
 * error then surfaces from that later call.)
 * Errors: MAIF_EINVAL, MAIF_EJSON, MAIF_ELIMIT, MAIF_EIO, MAIF_ESTATE. */
int maif_writer_add(maif_writer *w, const maif_block_spec *spec, uint8_t id_out[MAIF_ID_BYTES]);
/* As maif_writer_add, but the payload is borrowed instead of consumed at
 * once: spec->payload must stay valid and unchanged until the next
 * maif_writer_commit, maif_writer_rollback or maif_writer_close (or the
 * next maif_writer_add) returns. The metadata and other spec fields are
 * copied as usual. In exchange the writer writes and hashes borrowed
 * payloads together when the batch is sealed, on every online core, so a
 * batch of large payloads is not limited by one core's SHA-256. Blocks
 * added either way may be mixed in one batch; they keep their append
 * order. The file layout is identical. Errors: as maif_writer_add; write
 * errors may surface from the call that consumes the payloads instead. */
int maif_writer_add_borrowed(maif_writer *w, const maif_block_spec *spec, uint8_t id_out[MAIF_ID_BYTES]);
/* Seals the current batch: writes the index and a signed commit record.
 * With MAIF_W_DURABLE, returns only once the batch is on stable storage.
 * Committing an empty batch is allowed (it re-seals). Errors: MAIF_EIO,
 * MAIF_ESTATE. After MAIF_EIO the writer is dead (MAIF_ESTATE afterwards);
 * reopen it, which discards the partial batch. */
int maif_writer_commit(maif_writer *w);
/* Discards every block added since the last commit. */
int maif_writer_rollback(maif_writer *w);
/* Number of data blocks committed plus pending. */
uint64_t maif_writer_count(const maif_writer *w);
/* Rolls back anything uncommitted, releases the lock and frees. NULL: no-op.
 * Returns the first error met while closing, or MAIF_OK. */
int maif_writer_close(maif_writer *w);
/* Detailed message for the last error on this writer ("" if none). */
const char *maif_writer_errmsg(const maif_writer *w);

/* Cuts a torn tail (an uncommitted batch left by a crash) off a native
 * artifact, leaving every committed batch. *cut (may be NULL) receives the
 * bytes removed. Damage after the last commit that is not a torn write is
 * refused with MAIF_EFORMAT unless flags has MAIF_W_FORCE_RECOVER. Errors:
 * as maif_writer_open. errbuf (may be NULL) receives a message. */
int maif_recover(const char *path, unsigned flags, uint64_t *cut, char *errbuf, size_t errbuf_cap);

/* --------------------------------------------------------------- reader */

typedef struct maif_reader maif_reader;

#define MAIF_FORMAT_NATIVE 1
#define MAIF_FORMAT_V21    21

/* Opens an artifact of either format for reading. Native files open in O(1)
 * from the trailer of the last commit; a torn tail is ignored (only
 * committed batches are visible), which costs one scan. Opening checks
 * structure, not signatures: use maif_verify_file() for that.
 * Errors: MAIF_ENOTFOUND, MAIF_EIO, MAIF_EFORMAT, MAIF_EVERSION, MAIF_ENOMEM.
 * On error *out is NULL; if errbuf is not NULL it receives a message. */
int maif_reader_open(maif_reader **out, const char *path, char *errbuf, size_t errbuf_cap);
/* Opens an in-memory image (borrowed: buf must outlive the reader). */
int maif_reader_open_mem(maif_reader **out, const void *buf, size_t size, char *errbuf, size_t errbuf_cap);
void maif_reader_close(maif_reader *r);
const char *maif_reader_errmsg(const maif_reader *r);
/* MAIF_FORMAT_NATIVE or MAIF_FORMAT_V21. */
int maif_reader_format(const maif_reader *r);
/* Number of data blocks. */
uint64_t maif_reader_count(const maif_reader *r);
/* Fills *out with block index. Errors: MAIF_ENOTFOUND (index out of range),
 * MAIF_EFORMAT (the record is damaged). */
int maif_reader_block(maif_reader *r, uint64_t index, maif_block *out);
/* Largest decoded payload a reader accepts (since 0.1.0): a record that
 * claims more is refused with MAIF_EFORMAT before anything is allocated
 * or written. It equals the payload limit of the native format. */
#define MAIF_DECODED_MAX ((uint64_t)1 << 40)
/* Sets *size to the size of block index's payload once decoded (its
 * codec and cipher undone): what maif_reader_block_decode writes. For a
 * plain block (codec and cipher 0) it is the stored size. The size a
 * record claims is checked before it is returned: at most
 * MAIF_DECODED_MAX and no more than its codec can produce from the stored
 * bytes. Errors: MAIF_EINVAL, MAIF_ENOTFOUND (index out of range),
 * MAIF_EFORMAT (damaged record, or a hostile decoded size),
 * MAIF_EUNSUPPORTED (a codec, cipher or critical extension this library
 * does not know; maif_reader_block still shows the stored bytes). */
int maif_reader_block_decoded_size(maif_reader *r, uint64_t index, size_t *size);
/* Decodes block index's payload into dst (dst_capacity bytes; the
 * caller's buffer; nothing is borrowed and nothing stays allocated) and
 * sets *written to the bytes written. A plain block is copied. If dst is
 * too small nothing is written, the call returns MAIF_ELIMIT and *written
 * is set to the size needed. dst may be NULL when dst_capacity is 0.
 * Works for both formats (MAIF 2.1 payloads are always plain).
 * Errors: as maif_reader_block_decoded_size, and MAIF_ELIMIT, MAIF_ENOMEM,
 * MAIF_EVERIFY (an encrypted payload failed authentication), MAIF_EKEY. */
int maif_reader_block_decode(maif_reader *r, uint64_t index, void *dst, size_t dst_capacity, size_t *written);
/* Finds the block with this id. Errors: MAIF_ENOTFOUND. The first call
 * builds an id table (one pass over the block headers). */
int maif_reader_find(maif_reader *r, const uint8_t id[MAIF_ID_BYTES], uint64_t *index_out);
/* Version history of a logical item: the indices of every block in the
 * supersedes chain that contains id, oldest first. Writes at most cap
 * indices and sets *n to the full length. Errors: MAIF_ENOTFOUND. */
int maif_reader_history(maif_reader *r, const uint8_t id[MAIF_ID_BYTES],
                        uint64_t *indices, size_t cap, size_t *n);

/* Artifact-level facts. Strings are borrowed (valid until close). */
typedef struct maif_info {
    int format;                  /* MAIF_FORMAT_* */
    unsigned version_major, version_minor; /* the file's format version */
    uint64_t file_size;          /* bytes (committed part for native) */
    uint64_t torn_bytes;         /* native: uncommitted tail bytes ignored */
    uint64_t block_count;
    uint64_t commit_count;       /* native: commits; 2.1: 1 */
    uint64_t created_us;
    uint64_t modified_us;        /* time of the last commit / finalization */
    uint8_t file_id[MAIF_ID_BYTES];
    const char *agent;           /* agent id or DID, or "" */
    uint8_t signer[MAIF_PUBKEY_BYTES]; /* key named by the last commit / security section */
    uint8_t merkle_root[MAIF_HASH_BYTES];
    const char *converted_from;  /* provenance note when converted, or "" */
} maif_info;
int maif_reader_info(maif_reader *r, maif_info *out);

/* Every record of a native file, data and internal (index, commit), in file
 * order, for listings such as `maif ls --all`. kind is "block", "index" or
 * "commit"; for blocks, block_index is set, else -1. 2.1 files list their
 * blocks and sections ("header", "provenance", "security", "index",
 * "footer"). Returns MAIF_ENOTFOUND past the end. */
typedef struct maif_record {
    const char *kind;
    uint64_t offset;
    uint64_t size;
    int64_t block_index;
    uint32_t type;
} maif_record;
int maif_reader_record(maif_reader *r, uint64_t i, maif_record *out);

/* ------------------------------------------------------------- verifier */

#define MAIF_SEV_INFO    0  /* a fact worth telling ("signer not pinned") */
#define MAIF_SEV_WARNING 1  /* does not break integrity (torn uncommitted tail) */
#define MAIF_SEV_ERROR   2  /* the artifact is not intact or not trusted */

typedef struct maif_finding {
    int severity;        /* MAIF_SEV_* */
    const char *code;    /* stable identifier, e.g. "content-hash", "chain", "signature" */
    const char *section; /* "header", "block", "index", "commit", "provenance", "security", "footer", "file" */
    int64_t block;       /* data block index, or -1 */
    int64_t offset;      /* file offset, or -1 */
    const char *message; /* one line, names the block and offset */
} maif_finding;

typedef struct maif_report maif_report;

typedef struct maif_verify_options {
    const uint8_t *trusted; /* trusted_count pinned signer keys, MAIF_PUBKEY_BYTES each,
                               back to back; or NULL */
    size_t trusted_count;   /* 0: signer not pinned (an info finding says so) */
    unsigned threads;       /* hashing threads; 0 = one per CPU this thread may use */
} maif_verify_options;

/* Verifies every byte of the file at path (either format). Returns MAIF_OK
 * when verification ran, whatever it found: the verdict is in *out (free
 * with maif_report_free). A file too damaged to parse yields a report with
 * an error finding, not an error code. Errors: MAIF_ENOTFOUND, MAIF_EIO,
 * MAIF_ENOMEM, MAIF_EINVAL. opt may be NULL. */
int maif_verify_file(const char *path, const maif_verify_options *opt, maif_report **out);
/* Same, for an in-memory image. */
int maif_verify_mem(const void *buf, size_t size, const maif_verify_options *opt, maif_report **out);
/* 1 if no finding has severity MAIF_SEV_ERROR. */
int maif_report_ok(const maif_report *rep);
size_t maif_report_count(const maif_report *rep);
/* Borrowed; valid until maif_report_free. NULL past the end. */
const maif_finding *maif_report_finding(const maif_report *rep, size_t i);
/* Format detected (MAIF_FORMAT_*, 0 if unrecognised) and blocks checked. */
int maif_report_format(const maif_report *rep);
uint64_t maif_report_blocks(const maif_report *rep);
/* Distinct signer keys seen, in order; pinned is 1 if the key was trusted. */
size_t maif_report_signer_count(const maif_report *rep);
int maif_report_signer(const maif_report *rep, size_t i, uint8_t pk[MAIF_PUBKEY_BYTES], int *pinned);
void maif_report_free(maif_report *rep);

/* ------------------------------------------------------------- convert */

/* Converts between formats, keeping block types, payloads, metadata,
 * timestamps and block ids. to_format is MAIF_FORMAT_NATIVE or
 * MAIF_FORMAT_V21. key signs the output. The output is written to a
 * temporary file and renamed into place. errbuf (may be NULL) receives a
 * message on failure. Errors: those of reader_open and writer_create,
 * MAIF_EUNSUPPORTED (a feature the target format cannot hold, such as
 * supersedes links in 2.1), MAIF_ELIMIT. */
int maif_convert(const char *in_path, const char *out_path, int to_format,
                 const maif_key *key, char *errbuf, size_t errbuf_cap);

/* ------------------------------------------------------------- helpers */

/* Hex of n bytes into out (2n+1 bytes). Returns out. */
char *maif_hex(const uint8_t *bytes, size_t n, char *out);
/* Parses exactly 2n hex digits. Returns 0 or MAIF_EINVAL. */
int maif_unhex(const char *hex, uint8_t *out, size_t n);

#ifdef __cplusplus
}
#endif
#endif /* MAIF_H */
