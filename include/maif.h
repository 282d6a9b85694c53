/*
 * maif.h — the public API of libmaif, and its manual.
 *
 * MAIF artifacts are append-only files of typed blocks (text, images, audio,
 * video, embeddings, JSON, knowledge triples, metadata). Every block carries
 * a content hash and is linked into a hash chain; batches of blocks are sealed
 * by signed commit records (Ed25519, RSA-PSS or ECDSA P-256; keys in files or
 * on PKCS#11 tokens, optionally certified by X.509 chains: docs/IDENTITIES.md)
 * carrying a Merkle root. The byte layout
 * is specified normatively in docs/FORMAT.md.
 *
 * Two on-disk formats are read through this one API:
 *   - the native maif format (written by this library), and
 *   - MAIF 2.1 files written by the original Python implementation.
 *
 * Conventions (since 0.1.0):
 *   - Every function that can fail returns int: 0 (MAIF_OK) on success or a
 *     negative MAIF_E* code. maif_strerror() gives static text for a code.
 *   - One error channel: every public call that fails records a detailed
 *     message ("a.maif: block 17 at offset 16192: ...") in this thread's
 *     last error, read with maif_last_errmsg(); a call on a handle records
 *     the same message on the handle too (maif_writer_errmsg,
 *     maif_reader_errmsg). Successful calls leave both unchanged. No call
 *     takes a caller's message buffer.
 *   - Configuration travels in an opaque maif_options object (NULL means
 *     the defaults), set one MAIF_OPT_* id at a time, so new settings add
 *     ids instead of changing a struct or a prototype.
 *   - Results marked MAIF_NODISCARD must be checked: the compiler warns
 *     when one is dropped.
 *   - Only the functions declared here are exported from libmaif.so.
 *   - Constructors take an out-parameter; *_close(NULL) and *_free(NULL) are
 *     no-ops.
 *   - Pointers handed out by a reader are borrowed views into a read-only
 *     memory map: valid until maif_reader_close() on that reader; never
 *     modify or free them.
 *   - The library never aborts or exits, and never prints.
 *   - One maif_reader may be used by many threads at once for reads (every
 *     maif_reader_* call but close); writers are single-threaded: a
 *     maif_writer, maif_key or maif_report is used by one thread at a
 *     time. maif_reader_errmsg is per thread. Several readers may share a
 *     file with one writer (the writer holds an exclusive lock; other
 *     writers wait for it with MAIF_OPT_LOCK_WAIT_MS); readers see
 *     committed batches only and follow the writer with
 *     maif_reader_refresh.
 *   - Threads the library starts are its own business, and it counts only
 *     the CPUs the calling thread may run on (its affinity mask):
 *     verification hashes on a pool that lives for one call, a commit
 *     hashes borrowed payloads on one, and when two or more CPUs are usable
 *     a writer starts one helper thread ("maif-hash") for payload hashes
 *     at its first small block, joined by maif_writer_close. Do not use a
 *     writer in a child after fork(); a child forked while a writer is
 *     open shares its lock until the child exits or execs, so fork before
 *     opening writers that should queue.
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
/* MAJOR*10000 + MINOR*100 + PATCH, as maif_version() returns it. */
#define MAIF_VERSION_NUMBER (MAIF_VERSION_MAJOR * 10000 + MAIF_VERSION_MINOR * 100 + MAIF_VERSION_PATCH)

/* MAIF_API marks what libmaif.so exports (the library is built with
 * -fvisibility=hidden); MAIF_NODISCARD marks results that must be used. */
#if defined(__GNUC__) || defined(__clang__)
#define MAIF_API __attribute__((visibility("default")))
#define MAIF_NODISCARD __attribute__((warn_unused_result))
#else
#define MAIF_API
#define MAIF_NODISCARD
#endif

/* The version of the library actually linked (MAIF_VERSION_NUMBER of the
 * build), which may differ from the header a program was compiled with. */
MAIF_API unsigned maif_version(void);
/* Its MAIF_VERSION_STRING ("0.1.0"). Static; never NULL. */
MAIF_API const char *maif_version_string(void);

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
#define MAIF_EACCESS     (-14)  /* access denied: no usable key for an encrypted block */
#define MAIF_EUNSUPPORTED (-15) /* feature present in the file but not supported */

/* Static, human-readable text for an error code. Never NULL. */
MAIF_API const char *maif_strerror(int code);
/* Detailed message of the last public call that failed on this thread
 * (any call, with or without a handle); "" if none has. Valid until the
 * next failing call on the same thread; successful calls do not clear it. */
MAIF_API const char *maif_last_errmsg(void);

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
#define MAIF_TYPE_CHAIN     MAIF_FOURCC('X', '5', 'C', 'H') /* a signer's X.509 chain (docs/IDENTITIES.md) */

/* Parses a CLI type name ("text", "image", "audio", "video", "embedding",
 * "json", "knowledge", "binary", "meta") or a four-character code ("TEXT").
 * Returns 0 and sets *type, or MAIF_EINVAL. */
MAIF_API MAIF_NODISCARD int maif_type_parse(const char *name, uint32_t *type);
/* Lower-case name for a known type ("text"), or NULL for an unknown one. */
MAIF_API const char *maif_type_name(uint32_t type);
/* Writes the four characters of type into out[5] (NUL-terminated); bytes that
 * are not printable ASCII are shown as '?'. Returns out. */
MAIF_API char *maif_type_fourcc(uint32_t type, char out[5]);

/* --------------------------------------------------------------- keys */

#define MAIF_PUBKEY_BYTES    32
#define MAIF_SIGNATURE_BYTES 64
#define MAIF_ID_BYTES        16
#define MAIF_HASH_BYTES      32

/* A signing key pair: Ed25519 (the default), RSA-PSS or ECDSA P-256
 * (docs/IDENTITIES.md, FORMAT.md §5.5.1). An Ed25519 secret lives in locked memory and is
 * wiped when the key is freed; RSA and P-256 secrets live in OpenSSL's
 * memory and are freed (wiped by OpenSSL) with the key. */
typedef struct maif_key maif_key;

/* Signature algorithms (the values are the format's, docs/FORMAT.md §5.5.1). */
#define MAIF_SIG_ED25519 1 /* Ed25519 (RFC 8032, pure) */
#define MAIF_SIG_RSA_PSS 2 /* RSA-PSS, SHA-256, MGF1-SHA-256, salt 32 bytes; 3072-bit keys by default */
#define MAIF_SIG_P256    3 /* ECDSA over P-256 with SHA-256; signature r ‖ s (64 bytes) */
/* The algorithm's name: "ed25519", "rsa-pss", "p256", or "unknown". Static. */
MAIF_API const char *maif_sig_alg_name(int alg);
/* Generates a fresh key pair of algorithm alg (MAIF_SIG_*); bits is the RSA
 * modulus size (0: 3072; 2048..8192, a multiple of 8) and must be 0 for
 * the others. Since 0.2.0. Errors: MAIF_EINVAL (unknown algorithm, bad
 * bits), MAIF_ENOMEM, MAIF_EKEY (OpenSSL refused). */
MAIF_API MAIF_NODISCARD int maif_key_generate_alg(maif_key **out, int alg, unsigned bits);
/* The key's algorithm (MAIF_SIG_*). Since 0.2.0. */
MAIF_API int maif_key_alg(const maif_key *key);
/* A signing key on a PKCS#11 token: module is the module's path (dlopen'ed
 * and called directly), token the token's label, key_label the CKA_LABEL of
 * its private key and of the public key beside it, pin the user PIN. The
 * key type on the token picks the algorithm: Ed25519 (CKM_EDDSA), P-256
 * (CKM_ECDSA over SHA-256) or RSA 2048..8192 (CKM_SHA256_RSA_PKCS_PSS,
 * salt 32). The private key never leaves the token; the session stays open
 * (logged in) until maif_key_free. Such a key signs commits only: it
 * cannot be saved, decrypt, sign a CSR or a MAIF 2.1 file. Not for
 * concurrent use from several threads. Since 0.2.0. Errors: MAIF_EINVAL
 * (NULL or empty arguments, not a PKCS#11 2.x module), MAIF_ENOTFOUND (the
 * module does not load), MAIF_EACCESS (wrong or locked PIN, no such
 * private key), MAIF_EKEY (no such token, a module call failed, a key type
 * maif cannot use), MAIF_ENOMEM. */
MAIF_API MAIF_NODISCARD int maif_key_from_pkcs11(maif_key **out, const char *module, const char *token,
                                                 const char *key_label, const char *pin);
/* 1 if key lives on a PKCS#11 token (maif_key_from_pkcs11), else 0. Since 0.2.0. */
MAIF_API int maif_key_is_hardware(const maif_key *key);

/* Generates a fresh key pair. */
MAIF_API MAIF_NODISCARD int maif_key_generate(maif_key **out);
/* Writes the secret key to path (mode 0600, created or replaced atomically)
 * and the public key to path + ".pub" (mode 0644). Ed25519 keys are one
 * line of text ("maif-ed25519-secret:HEX"); RSA-PSS and P-256 keys are PEM
 * (PKCS#8 "PRIVATE KEY", and "PUBLIC KEY" for the .pub). Errors: MAIF_EIO. */
MAIF_API MAIF_NODISCARD int maif_key_save(const maif_key *key, const char *path);
/* Loads a secret key file written by maif_key_save, or a PEM private key
 * made elsewhere (Ed25519, RSA of 2048..8192 bits, P-256; unencrypted).
 * Errors: MAIF_ENOTFOUND, MAIF_EIO, MAIF_EKEY (malformed, another key type,
 * or the public half does not match). */
MAIF_API MAIF_NODISCARD int maif_key_load(maif_key **out, const char *path);
/* Loads the default key $MAIF_HOME/default.key (~/.maif/default.key when
 * MAIF_HOME is unset), generating and saving it on first use. If path_out is
 * not NULL it receives the path (path_cap bytes). */
MAIF_API MAIF_NODISCARD int maif_key_load_default(maif_key **out, char *path_out, size_t path_cap);
/* Bytes of an Ed25519 seed (the secret half a key is derived from, as in
 * RFC 8032 and the raw private key of other libraries). */
#define MAIF_SEED_BYTES 32
/* Derives the key pair from a 32-byte seed, so a binding can use a key it
 * already holds (RFC 8032 private key bytes, such as those of Python's
 * cryptography Ed25519PrivateKey.private_bytes_raw()) without a key file.
 * The seed is copied into locked memory; the caller wipes its own copy.
 * Since 0.1.0. Errors: MAIF_EINVAL (NULL argument), MAIF_ENOMEM. */
MAIF_API MAIF_NODISCARD int maif_key_from_seed(maif_key **out, const uint8_t seed[MAIF_SEED_BYTES]);
/* Copies the public key (Ed25519), or the signer id, SHA-256 of the DER
 * SubjectPublicKeyInfo (RSA-PSS, P-256): the 32 bytes commits name their
 * signer by and verification pins. */
MAIF_API void maif_key_public(const maif_key *key, uint8_t pk[MAIF_PUBKEY_BYTES]);
/* Wipes and frees. NULL is a no-op. */
MAIF_API void maif_key_free(maif_key *key);
/* Loads a public key file (".pub", as written by maif_key_save) or a secret
 * key file (its public half). Errors: MAIF_ENOTFOUND, MAIF_EIO, MAIF_EKEY. */
MAIF_API MAIF_NODISCARD int maif_pubkey_load(const char *path, uint8_t pk[MAIF_PUBKEY_BYTES]);
/* maif_pubkey_load that also says the key's algorithm (MAIF_SIG_*); .pub
 * files may be PEM "PUBLIC KEY" (pk is then the signer id, except for
 * Ed25519). Since 0.2.0. Errors: those of maif_pubkey_load. */
MAIF_API MAIF_NODISCARD int maif_pubkey_load_alg(const char *path, uint8_t pk[MAIF_PUBKEY_BYTES], int *alg);

/* ---------------------------------------------------------- identities */
/* X.509 identities for signers (docs/IDENTITIES.md). */
typedef struct maif_writer maif_writer; /* below */
typedef struct maif_report maif_report; /* below */

/* A PEM certificate signing request (PKCS#10, signed by key: SHA-256, or
 * pure Ed25519) for subject "/CN=agent-7/O=Example" ('\/' escapes a slash),
 * so a CA can certify a maif key. Writes it NUL-terminated into out (cap
 * bytes) and its length (without the NUL) to *len, also when cap is too
 * small. Since 0.2.0. Errors: MAIF_EINVAL (NULL, malformed subject),
 * MAIF_ELIMIT (cap), MAIF_EKEY. */
MAIF_API MAIF_NODISCARD int maif_key_csr(const maif_key *key, const char *subject, char *out, size_t cap, size_t *len);
/* Adds the signer's certificate chain (leaf first; PEM, or DER
 * certificates back to back; at most 16 certificates and 256 KiB) to w's
 * batch as a MAIF_TYPE_CHAIN block; the commit that seals it binds it to
 * w's key. The leaf's public key must be w's key. Since 0.2.0. Errors:
 * MAIF_EFORMAT (malformed, empty, a certificate twice), MAIF_ELIMIT,
 * MAIF_EKEY (the leaf is for another key), MAIF_ESTATE, and those of
 * maif_writer_add. */
MAIF_API MAIF_NODISCARD int maif_writer_add_chain(maif_writer *w, const void *chain, size_t len,
                                                  uint8_t id_out[MAIF_ID_BYTES]);
/* Checks that every commit's signer of the native artifact at path has
 * attached a chain (in a batch it signed) that is valid, to one of the
 * roots (PEM or DER certificates, all trusted), at that commit's
 * timestamp, and whose leaf allows digitalSignature. One error finding per
 * signer and problem, codes "identity-no-chain", "identity-expired",
 * "identity-not-yet-valid", "identity-key-usage",
 * "identity-unknown-issuer", "identity-chain-too-long",
 * "identity-invalid", and per chain block "identity-chain" (malformed,
 * over the limits) and "identity-key-mismatch" (its leaf is not the key of
 * the signer who attached it). Checks identities only: run
 * maif_verify_file for integrity. *out is the report (free with
 * maif_report_free). Since 0.2.0. Errors: MAIF_EFORMAT/MAIF_ELIMIT (the
 * roots), MAIF_EUNSUPPORTED (not native), those of maif_reader_open. */
MAIF_API MAIF_NODISCARD int maif_verify_chains(const char *path, const void *roots, size_t roots_len,
                                               maif_report **out);

/* ------------------------------------------------------------- options */

/* Settings for the calls that take them (maif_writer_create,
 * maif_writer_open, maif_recover, maif_verify_file, maif_verify_mem,
 * maif_convert), in the model of zstd's parameter setters: one opaque
 * object, one id at a time, so a later setting is a new id and never an
 * ABI break. A call reads the options it is given and keeps no reference;
 * ids a call does not use are ignored by it. NULL options mean every id at
 * its default. Not thread-safe while being changed; any number of calls
 * may read one object at once. */
typedef struct maif_options maif_options;

/* Option ids (values are int64_t; booleans are 0 or 1). */
#define MAIF_OPT_THREADS        1 /* verify (and convert's verify): hashing threads,
                                     0..MAIF_THREADS_MAX; 0 (default) = one per CPU
                                     this thread may use */
#define MAIF_OPT_OVERWRITE      2 /* writer_create: replace an existing file (default 0) */
#define MAIF_OPT_DURABLE        3 /* writers: every commit is fsync'ed, data then the
                                     commit record (default 0) */
#define MAIF_OPT_FORCE_RECOVER  4 /* writer_open, maif_recover: cut everything after the
                                     last valid commit even when it is damage rather than
                                     a torn write; data is lost (default 0) */
#define MAIF_OPT_CONVERT_FORCE  5 /* convert: go ahead although the source does not
                                     verify, recording that in the output (default 0) */
#define MAIF_OPT_TRUSTED_KEYS   6 /* the number of pinned signer keys (get); set
                                     accepts only 0, which clears them; add keys with
                                     maif_options_add_trusted_key */

#define MAIF_OPT_CODEC         7 /* writer_create, writer_open: the codec blocks are
                                     compressed with, MAIF_CODEC_* (default NONE);
                                     maif_writer_set_codec changes it per block */
#define MAIF_OPT_CODEC_LEVEL   8 /* writers: the codec's level, 0 (default) = the
                                     codec's own default (zstd: 3). zstd: 1..19, or
                                     -1..-100 for its "fast" levels; lz4: 1..64, its
                                     acceleration (higher is faster, larger) */
#define MAIF_OPT_LOCK_WAIT_MS  9 /* writer_open: how long to wait, in milliseconds
                                     (0..3600000), for another writer to release the
                                     artifact before failing with MAIF_ELOCKED; 0
                                     (default) fails at once. Waiters poll the lock
                                     and are not served in strict arrival order */

/* Codec ids (docs/FORMAT.md §5.6). A block whose compression would save
 * less than 16 bytes or less than 1/32 of its payload is stored as is,
 * with codec NONE, whatever the writer's codec. */
#define MAIF_CODEC_NONE 0
#define MAIF_CODEC_ZSTD 1 /* one zstd frame */
#define MAIF_CODEC_LZ4  2 /* one raw LZ4 block */

/* Parses a compression choice as the CLI's --compress and the JSONL
 * "compress" key spell it: "none", "lz4", "zstd" (level 3), "zstd:N"
 * (N 1..19), "zstd:fast" (-1), "zstd:fast:N" (level -N, N 1..100), into a
 * MAIF_CODEC_* id and a level for maif_writer_set_codec. Since 0.1.0.
 * Errors: MAIF_EINVAL (anything else; the message lists the choices). */
MAIF_API MAIF_NODISCARD int maif_codec_parse(const char *s, int *codec, int *level);
/* "none", "zstd", "lz4", or "unknown" for any other id. Static text. */
MAIF_API const char *maif_codec_name(int codec);

#define MAIF_THREADS_MAX    1024
#define MAIF_TRUSTED_KEYS_MAX 4096 /* pinned keys one options object holds */

/* Allocates options with every id at its default. Errors: MAIF_EINVAL,
 * MAIF_ENOMEM. */
MAIF_API MAIF_NODISCARD int maif_options_create(maif_options **out);
/* Frees. NULL is a no-op. */
MAIF_API void maif_options_free(maif_options *o);
/* Sets option id to value. Errors: MAIF_EINVAL (NULL o, unknown id, value
 * out of the id's range; o is unchanged). */
MAIF_API MAIF_NODISCARD int maif_options_set(maif_options *o, int option, int64_t value);
/* Reads option id into *value (NULL o reads the defaults). Errors:
 * MAIF_EINVAL (unknown id, NULL value). */
MAIF_API MAIF_NODISCARD int maif_options_get(const maif_options *o, int option, int64_t *value);
/* Pins a signer: verification then requires every signer to be one of the
 * pinned keys (an "untrusted-signer" error finding otherwise); with none
 * pinned an info finding says the signer is not pinned. A key already
 * pinned is not added twice. Errors: MAIF_EINVAL, MAIF_ENOMEM, MAIF_ELIMIT
 * (more than MAIF_TRUSTED_KEYS_MAX). */
MAIF_API MAIF_NODISCARD int maif_options_add_trusted_key(maif_options *o, const uint8_t pk[MAIF_PUBKEY_BYTES]);

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

/* Creates a new native artifact at path and commits its (empty) first batch,
 * so the file is valid at once. The file has no name until then (an
 * unnamed O_TMPFILE file where the file system allows, else a temporary
 * name beside path), so a process killed meanwhile leaves nothing. key signs every commit (borrowed; must
 * outlive the writer). agent_id (may be NULL) is recorded in the file header.
 * opt (may be NULL): MAIF_OPT_OVERWRITE, MAIF_OPT_DURABLE.
 * Errors: MAIF_EEXIST (without MAIF_OPT_OVERWRITE), MAIF_EIO, MAIF_EINVAL. */
MAIF_API MAIF_NODISCARD int maif_writer_create(maif_writer **out, const char *path, const maif_key *key,
                                               const char *agent_id, const maif_options *opt);
/* Opens an existing native artifact for appending. A torn tail (bytes after
 * the last commit, left by a crash) is cut off first; bytes there that do
 * not look like an interrupted append (docs/FORMAT.md §9, the rule the
 * verifier uses too) are damage and give MAIF_EFORMAT unless opt sets
 * MAIF_OPT_FORCE_RECOVER. opt (may be NULL): MAIF_OPT_DURABLE,
 * MAIF_OPT_FORCE_RECOVER, MAIF_OPT_LOCK_WAIT_MS. Takes an exclusive lock,
 * waiting for it up to MAIF_OPT_LOCK_WAIT_MS (so writers in several
 * processes queue), and reads the file's state only once it holds the lock:
 * it appends after every commit of the writers before it. Errors: MAIF_ENOTFOUND,
 * MAIF_EIO, MAIF_EFORMAT, MAIF_EVERSION, MAIF_ELOCKED, MAIF_EINVAL. A MAIF
 * 2.1 file gives MAIF_EUNSUPPORTED (use convert). */
MAIF_API MAIF_NODISCARD int maif_writer_open(maif_writer **out, const char *path, const maif_key *key,
                                             const maif_options *opt);
/* Appends a block to the current (uncommitted) batch. If id_out is not NULL
 * it receives the block id. The block is invisible to readers until commit.
 * The payload is consumed before the call returns. (When two or more CPUs
 * are usable, a payload of 256 KiB to 16 MiB is copied into a 16 MiB
 * buffer the writer keeps until close, and written later, at the latest by
 * the commit, so that large payloads are hashed on every core; a write
 * error then surfaces from that later call.)
 * Errors: MAIF_EINVAL, MAIF_EJSON, MAIF_ELIMIT, MAIF_EIO, MAIF_ESTATE. */
MAIF_API MAIF_NODISCARD int maif_writer_add(maif_writer *w, const maif_block_spec *spec, uint8_t id_out[MAIF_ID_BYTES]);
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
MAIF_API MAIF_NODISCARD int maif_writer_add_borrowed(maif_writer *w, const maif_block_spec *spec, uint8_t id_out[MAIF_ID_BYTES]);
/* A payload source for maif_writer_add_stream: copies up to cap bytes of
 * the payload into buf and returns how many (> 0), 0 at the end of the
 * payload, or a negative MAIF_E* code to abandon the block. */
typedef int64_t (*maif_read_fn)(void *ctx, void *buf, size_t cap);

/* Bytes a streaming add reads and writes at a time (its memory). */
#define MAIF_STREAM_CHUNK (1u << 20)

/* As maif_writer_add, but the payload comes from read(ctx, ...) until it
 * returns 0, and is written into place in chunks of MAIF_STREAM_CHUNK
 * while it is hashed, so memory stays bounded whatever its size (except
 * with a codec, maif_writer_set_codec: a compressed block is one frame,
 * so its payload is read whole into memory first, at most limit bytes).
 * spec->payload must be NULL and spec->payload_size 0; the other spec
 * fields are used as by maif_writer_add. The file layout is identical to
 * maif_writer_add of the same bytes. limit is the largest payload accepted
 * (0: the format's limit, 2^40): one byte more makes the call fail with
 * MAIF_ELIMIT as soon as it arrives. If the source fails or is over the
 * limit, the block is abandoned and the file is cut back to where the
 * block began: the batch's earlier blocks stay pending, nothing of this
 * one remains. (since 0.1.0)
 * Errors: as maif_writer_add; MAIF_ELIMIT; the source's own code. After
 * MAIF_EIO from the file the writer is dead, as after any write error. */
MAIF_API MAIF_NODISCARD int maif_writer_add_stream(maif_writer *w, const maif_block_spec *spec, maif_read_fn read, void *ctx,
                           uint64_t limit, uint8_t id_out[MAIF_ID_BYTES]);
/* maif_writer_add_stream reading fd (a file, pipe or socket; borrowed, not
 * closed) to its end. A non-blocking fd is waited for. Errors: as
 * maif_writer_add_stream; a failed read gives MAIF_EIO naming the errno
 * (the writer stays usable). (since 0.1.0) */
MAIF_API MAIF_NODISCARD int maif_writer_add_fd(maif_writer *w, const maif_block_spec *spec, int fd, uint64_t limit,
                       uint8_t id_out[MAIF_ID_BYTES]);
/* Seals the current batch: writes the index and a signed commit record.
 * With MAIF_OPT_DURABLE, returns only once the batch is on stable storage.
 * Committing an empty batch is allowed (it re-seals). Errors: MAIF_EIO,
 * MAIF_ESTATE. After MAIF_EIO the writer is dead (MAIF_ESTATE afterwards):
 * maif_writer_rollback or maif_writer_close cuts the file back to the end
 * of the last commit (best effort; otherwise the next open does), and the
 * artifact can be reopened. */
MAIF_API MAIF_NODISCARD int maif_writer_commit(maif_writer *w);
/* Discards every block added since the last commit. On a writer that an
 * I/O error killed, it still cuts the file back to the last commit, then
 * returns MAIF_ESTATE. Errors: MAIF_EINVAL, MAIF_ESTATE. */
MAIF_API MAIF_NODISCARD int maif_writer_rollback(maif_writer *w);
/* Number of data blocks committed plus pending. */
MAIF_API uint64_t maif_writer_count(const maif_writer *w);
/* Rolls back anything uncommitted (also after an I/O error killed the
 * writer: the file is cut back to the end of the last commit, best
 * effort), releases the lock and frees. NULL: no-op. Returns the first
 * error met while closing, or MAIF_OK. (Not MAIF_NODISCARD: it is also the
 * cleanup call on error paths, where the first error is the one to report;
 * after a successful commit, check it.) */
MAIF_API int maif_writer_close(maif_writer *w);
/* Sets the codec (MAIF_CODEC_*) and level (as MAIF_OPT_CODEC_LEVEL; 0 =
 * the codec's default) for the blocks added from now on, overriding the
 * writer's options; an encryption stage, if any, is kept. Each block is
 * still stored as is when compression does not pay (see MAIF_CODEC_NONE).
 * Since 0.1.0. Errors: MAIF_EINVAL (NULL w, a level the codec does not
 * take), MAIF_EUNSUPPORTED (a codec id this library does not know). */
MAIF_API MAIF_NODISCARD int maif_writer_set_codec(maif_writer *w, int codec, int level);
/* Detailed message for the last error on this writer ("" if none). */
MAIF_API const char *maif_writer_errmsg(const maif_writer *w);

/* ------------------------------------------------------- block drafts
 *
 * A draft is a block being built from user input, with the checks every
 * front end (the CLI, a binding, a server) must agree on:
 *   - text must be valid UTF-8;
 *   - a json block's payload must parse as JSON;
 *   - an embedding given as JSON (an array of numbers, or of equal-length
 *     rows) is stored as float32 little-endian rows; given as raw bytes
 *     (base64) it must be a non-zero multiple of 4 bytes. Either way every
 *     value must be a finite float32, a "dimensions" in the metadata must
 *     be a positive integer the values divide into (the row length of a
 *     JSON vector), "count" and "dtype" if given must agree, and
 *     {"count":N,"dimensions":D,"dtype":"float32"} is merged into the
 *     metadata;
 *   - metadata is one JSON object (no duplicate keys), parsed once and
 *     serialised once in canonical form; the writer stores that form
 *     without parsing it again.
 * Errors from the draft calls: MAIF_EINVAL (bad input), MAIF_EJSON (bad
 * metadata), MAIF_ELIMIT, MAIF_ENOMEM; maif_last_errmsg() has the detail.
 * (since 0.1.0) */
typedef struct maif_block_draft maif_block_draft;

/* Largest input parsed whole: a JSONL line, or the payload of a json or
 * embedding block read from a source. Parsing holds the text, its tree and
 * the canonical form (about 5x the text at most), so this bounds what one
 * input may cost; larger documents can be stored as text or binary, which
 * stream. */
#define MAIF_PARSE_MAX ((size_t)16 << 20)
/* Largest canonical metadata of a block. */
#define MAIF_META_MAX (16u << 20)

/* 1 if the n bytes at s are valid UTF-8 (no overlongs, surrogates or
 * code points past U+10FFFF), else 0. */
MAIF_API int maif_utf8_valid(const void *s, size_t n);
/* Parses one JSONL-shaped object (at most MAIF_PARSE_MAX bytes):
 *   {"type": T, exactly one of "text" | "base64" | "vector" | "file",
 *    optional "meta": {...}}
 * T is a name or code as for maif_type_parse; "text" a string; "base64"
 * bytes (raw float32 for an embedding); "vector" (embeddings only) an
 * array of numbers or of rows; "file" a path. The library does not open
 * "file": the draft stays pending (maif_block_draft_pending) and
 * maif_block_draft_file() gives the path for the caller to open and hand
 * to maif_writer_add_draft as a source. An optional "compress" (a string
 * for maif_codec_parse) sets the codec of this block alone, overriding the
 * writer's when the draft is added. Any other key is an error. */
MAIF_API MAIF_NODISCARD int maif_block_draft_from_json(maif_block_draft **out, const char *json, size_t n);
/* A pending draft of type with metadata text (may be NULL), for a payload
 * given later by maif_block_draft_set_payload or a source. */
MAIF_API MAIF_NODISCARD int maif_block_draft_new(maif_block_draft **out, uint32_t type, const char *meta_json, size_t meta_size);
/* Gives a pending draft its payload (copied), checked by type as above
 * (an embedding given this way is JSON text). */
MAIF_API MAIF_NODISCARD int maif_block_draft_set_payload(maif_block_draft *d, const void *bytes, size_t n);
/* 1 while the draft's payload is still to come, else 0. */
MAIF_API int maif_block_draft_pending(const maif_block_draft *d);
/* The draft's JSONL "file" path, or NULL. Borrowed until free. */
MAIF_API const char *maif_block_draft_file(const maif_block_draft *d);
MAIF_API uint32_t maif_block_draft_type(const maif_block_draft *d);
/* The draft as a spec (borrowed views, valid until free; payload NULL
 * while pending, which returns MAIF_ESTATE). */
MAIF_API MAIF_NODISCARD int maif_block_draft_spec(const maif_block_draft *d, maif_block_spec *spec);
MAIF_API void maif_block_draft_free(maif_block_draft *d);
/* Appends the draft's block. A pending draft's payload is read from
 * read(ctx, ...) (read is ignored otherwise): text and other types stream
 * through maif_writer_add_stream (text checked as UTF-8 as it arrives);
 * json and embedding payloads are read whole, at most
 * min(limit, MAIF_PARSE_MAX) bytes, then checked. limit as for
 * maif_writer_add_stream. On any error nothing of the block remains.
 * Errors: as maif_writer_add_stream, MAIF_EINVAL for a payload that fails
 * its type's checks (the message is on the writer). */
MAIF_API MAIF_NODISCARD int maif_writer_add_draft(maif_writer *w, const maif_block_draft *d, maif_read_fn read, void *ctx, uint64_t limit,
                          uint8_t id_out[MAIF_ID_BYTES]);

/* Cuts a torn tail (an uncommitted batch left by a crash) off a native
 * artifact, leaving every committed batch. *cut (may be NULL) receives the
 * bytes removed. Damage after the last commit that is not a torn write is
 * refused with MAIF_EFORMAT unless opt sets MAIF_OPT_FORCE_RECOVER (the
 * only id it reads; opt may be NULL). Errors: as maif_writer_open. */
MAIF_API MAIF_NODISCARD int maif_recover(const char *path, const maif_options *opt, uint64_t *cut);

/* --------------------------------------------------------------- reader */

typedef struct maif_reader maif_reader;

#define MAIF_FORMAT_NATIVE 1
#define MAIF_FORMAT_V21    21

/* Opens an artifact of either format for reading. Native files open in O(1)
 * from the trailer of the last commit; a torn tail is ignored (only
 * committed batches are visible), which costs one scan. Opening checks
 * structure, not signatures: use maif_verify_file() for that.
 * Errors: MAIF_ENOTFOUND, MAIF_EIO, MAIF_EFORMAT, MAIF_EVERSION, MAIF_ENOMEM,
 * MAIF_EINVAL. On error *out is NULL and maif_last_errmsg() says why. */
MAIF_API MAIF_NODISCARD int maif_reader_open(maif_reader **out, const char *path);
/* Opens an in-memory image (borrowed: buf must outlive the reader). */
MAIF_API MAIF_NODISCARD int maif_reader_open_mem(maif_reader **out, const void *buf, size_t size);
/* Not concurrently with any other call on r. */
MAIF_API void maif_reader_close(maif_reader *r);
/* Follows a writer (single writer, many readers; since 0.2.0). A reader
 * sees the artifact as of its last commit when it was opened; a batch
 * being written, or a torn tail, is never visible. maif_reader_refresh maps
 * the file again and, if it now holds a newer commit, switches r to it:
 * maif_reader_count and every later call see the blocks up to that commit.
 * *changed (may be NULL) is 1 if it switched, else 0. Uncommitted bytes
 * past the last commit are ignored, so a reader can loop on refresh while
 * another process appends.
 * Lifetimes: views handed out before a refresh stay valid until
 * maif_reader_close (the old map is kept until then, so a reader that
 * refreshes often holds address space, not memory, for each switch;
 * reopen to release it). Block indices and ids stay the same across a
 * refresh (the artifact only grows).
 * Threads: not concurrently with any other call on r (unlike the read
 * calls); synchronise, or give each thread its own reader.
 * Errors: MAIF_EINVAL (r NULL, or opened with maif_reader_open_mem),
 * MAIF_ENOTFOUND, MAIF_EIO, MAIF_ENOMEM, MAIF_EFORMAT (the newer part is
 * damaged, or the file was replaced by another artifact or cut below r's
 * view); on error r keeps its view. */
MAIF_API MAIF_NODISCARD int maif_reader_refresh(maif_reader *r, int *changed);
/* Detailed message for the last call on r that failed on the calling
 * thread; "" if none, or if the calling thread's last failing reader call
 * was on another reader. Valid until the next failing reader call on the
 * calling thread. */
MAIF_API const char *maif_reader_errmsg(const maif_reader *r);
/* MAIF_FORMAT_NATIVE or MAIF_FORMAT_V21. */
MAIF_API int maif_reader_format(const maif_reader *r);
/* Number of data blocks. */
MAIF_API uint64_t maif_reader_count(const maif_reader *r);
/* Fills *out with block index. Errors: MAIF_ENOTFOUND (index out of range),
 * MAIF_EFORMAT (the record is damaged). */
MAIF_API MAIF_NODISCARD int maif_reader_block(maif_reader *r, uint64_t index, maif_block *out);
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
MAIF_API MAIF_NODISCARD int maif_reader_block_decoded_size(maif_reader *r, uint64_t index, size_t *size);
/* Decodes block index's payload into dst (dst_capacity bytes; the
 * caller's buffer; nothing is borrowed and nothing stays allocated) and
 * sets *written to the bytes written. A plain block is copied. If dst is
 * too small nothing is written, the call returns MAIF_ELIMIT and *written
 * is set to the size needed. dst may be NULL when dst_capacity is 0.
 * Works for both formats (MAIF 2.1 payloads are always plain).
 * Errors: as maif_reader_block_decoded_size, and MAIF_ELIMIT, MAIF_ENOMEM,
 * MAIF_EVERIFY (an encrypted payload failed authentication: a wrong or
 * moved ciphertext, a flipped byte, a cut tag; nothing is released),
 * MAIF_EACCESS (encrypted, and no keyring or nothing in it opens the
 * block's key: maif_reader_set_keyring). */
MAIF_API MAIF_NODISCARD int maif_reader_block_decode(maif_reader *r, uint64_t index, void *dst, size_t dst_capacity, size_t *written);
/* Finds the block with this id. Errors: MAIF_ENOTFOUND. The first call
 * builds an id table (one pass over the block headers). */
MAIF_API MAIF_NODISCARD int maif_reader_find(maif_reader *r, const uint8_t id[MAIF_ID_BYTES], uint64_t *index_out);
/* Version history of a logical item: the indices of every block in the
 * supersedes chain that contains id, oldest first. Writes at most cap
 * indices and sets *n to the full length. Errors: MAIF_ENOTFOUND. */
MAIF_API MAIF_NODISCARD int maif_reader_history(maif_reader *r, const uint8_t id[MAIF_ID_BYTES],
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
MAIF_API MAIF_NODISCARD int maif_reader_info(maif_reader *r, maif_info *out);

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
MAIF_API MAIF_NODISCARD int maif_reader_record(maif_reader *r, uint64_t i, maif_record *out);

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

/* Verifies every byte of the file at path (either format). Returns MAIF_OK
 * when verification ran, whatever it found: the verdict is in *out (free
 * with maif_report_free). A file too damaged to parse yields a report with
 * an error finding, not an error code. opt (may be NULL):
 * MAIF_OPT_THREADS and the pinned keys (maif_options_add_trusted_key).
 * Errors: MAIF_ENOTFOUND, MAIF_EIO (also: path is a directory), MAIF_ENOMEM,
 * MAIF_EINVAL. */
MAIF_API MAIF_NODISCARD int maif_verify_file(const char *path, const maif_options *opt, maif_report **out);
/* Same, for an in-memory image. */
MAIF_API MAIF_NODISCARD int maif_verify_mem(const void *buf, size_t size, const maif_options *opt,
                                            maif_report **out);
/* 1 if no finding has severity MAIF_SEV_ERROR. */
MAIF_API int maif_report_ok(const maif_report *rep);
MAIF_API size_t maif_report_count(const maif_report *rep);
/* Borrowed; valid until maif_report_free. NULL past the end. */
MAIF_API const maif_finding *maif_report_finding(const maif_report *rep, size_t i);
/* Format detected (MAIF_FORMAT_*, 0 if unrecognised) and blocks checked. */
MAIF_API int maif_report_format(const maif_report *rep);
MAIF_API uint64_t maif_report_blocks(const maif_report *rep);
/* Distinct signer keys seen, in order; pinned is 1 if the key was trusted. */
MAIF_API size_t maif_report_signer_count(const maif_report *rep);
MAIF_API MAIF_NODISCARD int maif_report_signer(const maif_report *rep, size_t i, uint8_t pk[MAIF_PUBKEY_BYTES], int *pinned);
/* The signature algorithm (MAIF_SIG_*) of signer i, as its first commit
 * (or MAIF 2.1 security section) names it; 0 if i is out of range. Since 0.2.0. */
MAIF_API int maif_report_signer_alg(const maif_report *rep, size_t i);
MAIF_API void maif_report_free(maif_report *rep);

/* ------------------------------------------------------------- convert */

/* Converts between formats, keeping block types, payloads, metadata,
 * timestamps and block ids. to_format is MAIF_FORMAT_NATIVE or
 * MAIF_FORMAT_V21. key signs the output. The output is written to an
 * unnamed temporary file (O_TMPFILE where the file system allows, else a
 * temporary name beside out_path) and linked into place when complete,
 * replacing out_path; a conversion that fails or is killed leaves nothing.
 *
 * The source is verified first, exactly as maif_verify_file would with the
 * same opt (MAIF_OPT_THREADS, pinned keys): signatures cannot carry over,
 * so converting must never turn an artifact that is not intact, or not
 * signed by a pinned key, into one that verifies. If the report has an
 * error finding (or keys are pinned and no signer is among them) the call
 * fails with MAIF_EVERIFY, naming the first finding, and writes nothing;
 * unless opt sets MAIF_OPT_CONVERT_FORCE, in which case what is readable
 * is converted and the output records that its source did not verify: a
 * native output's header note converted_from gets "verified": false and
 * "findings": [the error codes] (see maif_info.converted_from); a 2.1
 * output, whose header and provenance hold no free-form field, gets one
 * extra, last META block whose payload is that JSON object
 * {"converted_from": {"verified": false, "findings": [...], ...}}. A source
 * whose own converted_from records an unverified origin passes the mark
 * on: the output's note gets "origin_verified": false and
 * "origin_findings" (native header; for 2.1 the extra META block), so
 * converting again never washes it off.
 *
 * If report is not NULL it receives the source's verification report
 * (free with maif_report_free), also when the call fails after verifying;
 * else *report is NULL. Errors: MAIF_EVERIFY, those of maif_verify_file,
 * maif_reader_open and maif_writer_create, MAIF_EUNSUPPORTED (a feature
 * the target format cannot hold, such as supersedes links in 2.1),
 * MAIF_ELIMIT, MAIF_EINVAL. */
MAIF_API MAIF_NODISCARD int maif_convert(const char *in_path, const char *out_path, int to_format,
                                         const maif_key *key, const maif_options *opt, maif_report **report);

/* ----------------------------------------------------------- allocator */

/* A memory allocator for every allocation libmaif makes (SQLite's
 * SQLITE_CONFIG_MALLOC model). realloc(user, NULL, n) must behave as
 * malloc; free(user, NULL) is never called. The struct is copied. */
typedef struct maif_allocator {
    void *(*malloc)(void *user, size_t size);
    void *(*realloc)(void *user, void *p, size_t size);
    void (*free)(void *user, void *p);
    void *user;
} maif_allocator;

/* Installs a (process-wide) allocator; NULL restores libc's. Call it before
 * any other maif call and while no handle exists: memory is always freed
 * by the allocator that made it. While a custom allocator is installed,
 * jansson's allocations are routed to it too (json_set_alloc_funcs, which
 * is process-wide and shared with the host program: a host that uses
 * jansson itself sees its allocations go there as well); restoring the
 * default puts back jansson's previous functions. OpenSSL's and libsodium's
 * allocations (hash contexts, the locked pages holding secret keys) are
 * not routed. Not thread-safe. Errors: MAIF_EINVAL (a NULL function).
 * Since 0.1.0. */
MAIF_API MAIF_NODISCARD int maif_allocator_set(const maif_allocator *a);

/* -------------------------------------------------------------- proofs */

/* Inclusion and consistency proofs over the Merkle tree of a native
 * artifact (FORMAT.md §6, RFC 6962 shape), each bound to signed commits: a
 * proof carries the commit records' bytes (header, payload, and the record
 * hash before each), so it can be checked without the artifact. Its JSON
 * form is in docs/CLI.md ("Proofs"). Since 0.1.0. */
typedef struct maif_proof maif_proof;

#define MAIF_PROOF_INCLUSION   1
#define MAIF_PROOF_CONSISTENCY 2
/* Longest proof JSON maif_proof_parse accepts. */
#define MAIF_PROOF_JSON_MAX    65536
/* The commit argument meaning "the last commit". */
#define MAIF_COMMIT_LAST       UINT64_MAX

/* An inclusion proof of block (0-based) against commit seq (or
 * MAIF_COMMIT_LAST), whose tree must hold the block. Native artifacts only.
 * Cost: the right spine's siblings come from the commit's frontier, the
 * others from the block records of the frontier subtree holding the block:
 * up to n - 1 reads and hashes for n blocks in that commit's tree (0.2 s
 * for 2^20), plus O(c) records for the c commits after it. Errors: MAIF_EINVAL,
 * MAIF_ENOTFOUND (no such block in that tree, or no such commit),
 * MAIF_EUNSUPPORTED (a MAIF 2.1 file), MAIF_EFORMAT, MAIF_ENOMEM; the
 * message is on r and in maif_last_errmsg(). Free with maif_proof_free. */
MAIF_API MAIF_NODISCARD int maif_reader_prove_inclusion(maif_reader *r, uint64_t block, uint64_t commit,
                                                        maif_proof **out);
/* A consistency proof that commit from's tree is a prefix of commit to's
 * (by sequence number, from <= to; to may be MAIF_COMMIT_LAST). Errors and
 * cost: as maif_reader_prove_inclusion. */
MAIF_API MAIF_NODISCARD int maif_reader_prove_consistency(maif_reader *r, uint64_t from, uint64_t to,
                                                          maif_proof **out);
/* MAIF_PROOF_INCLUSION or MAIF_PROOF_CONSISTENCY; 0 for NULL. */
MAIF_API int maif_proof_kind(const maif_proof *p);
/* The proof as one line of canonical JSON (sorted keys, no spaces, no
 * newline) into dst (cap bytes, NUL-terminated); *len receives its length
 * without the NUL. Errors: MAIF_ELIMIT with *len set when cap is too small
 * (dst may then be NULL with cap 0), MAIF_EINVAL, MAIF_ENOMEM. */
MAIF_API MAIF_NODISCARD int maif_proof_json(const maif_proof *p, char *dst, size_t cap, size_t *len);
/* Parses proof JSON (at most MAIF_PROOF_JSON_MAX bytes). Checks the shape
 * only (fields, hex lengths, path length); maif_proof_check checks the
 * hashes and signatures. Errors: MAIF_EJSON (not JSON, or not a proof:
 * the message names the field), MAIF_ELIMIT, MAIF_ENOMEM, MAIF_EINVAL. */
MAIF_API MAIF_NODISCARD int maif_proof_parse(maif_proof **out, const char *json, size_t len);
/* Checks a proof without the artifact: each commit's record hash from its
 * bytes, its Ed25519 signature, that its signer is pinned when opt pins
 * keys (maif_options_add_trusted_key; opt may be NULL), and the audit or
 * consistency path against the commits' Merkle roots and block counts.
 * Returns 0 when it checks; MAIF_EVERIFY (one line in maif_last_errmsg()
 * naming what failed) or MAIF_EINVAL otherwise. */
MAIF_API MAIF_NODISCARD int maif_proof_check(const maif_proof *p, const maif_options *opt);
/* NULL is a no-op. */
MAIF_API void maif_proof_free(maif_proof *p);

/* The bare RFC 9162 checks, on hashes the caller supplies: path is len
 * hashes of MAIF_HASH_BYTES, leaf to root. Inclusion: leaf_hash (already
 * H(0x00 ‖ leaf)) at index in a tree of size leaves with this root.
 * Consistency: the tree of size1 leaves (root1) is a prefix of the tree of
 * size2 leaves (root2). Return 0 if the proof checks, MAIF_EVERIFY if not,
 * MAIF_EINVAL for NULL arguments or len > 128. */
MAIF_API MAIF_NODISCARD int maif_merkle_check_inclusion(const uint8_t leaf_hash[MAIF_HASH_BYTES], uint64_t index,
                                                        uint64_t size, const uint8_t *path, size_t len,
                                                        const uint8_t root[MAIF_HASH_BYTES]);
MAIF_API MAIF_NODISCARD int maif_merkle_check_consistency(uint64_t size1, uint64_t size2,
                                                          const uint8_t root1[MAIF_HASH_BYTES],
                                                          const uint8_t root2[MAIF_HASH_BYTES],
                                                          const uint8_t *path, size_t len);
/* ---------------------------------------------------- encryption at rest
 *
 * Payloads can be sealed per block with an AEAD (docs/FORMAT.md §5.6,
 * §5.7). Each maif_writer_encrypt call draws one random data key, appends
 * a key-wrap block (type "KEYW") holding it wrapped for every recipient
 * and passphrase of the keyring, and seals the writer's following blocks
 * under it. Headers, metadata, ids and sizes stay public: metadata is
 * chained forever and can never be erased, so private content belongs in
 * the payload. Verification needs no key: the chain covers the stored,
 * encrypted bytes. */

#define MAIF_CIPHER_XCHACHA20 1 /* XChaCha20-Poly1305 (the default) */
#define MAIF_CIPHER_CHACHA20  2 /* ChaCha20-Poly1305 (RFC 8439) */
#define MAIF_CIPHER_AES256GCM 3 /* AES-256-GCM, where the CPU has AES-NI */
#define MAIF_KDF_ARGON2ID     1 /* passphrases: Argon2id, t=3, m=256 MiB (libsodium MODERATE) */
#define MAIF_KDF_PBKDF2       2 /* passphrases: PBKDF2-HMAC-SHA256, 600 000 rounds */

/* Recipients (to encrypt for) and identities and passphrases (to decrypt
 * with). Secrets live in locked memory, wiped by maif_keyring_free. A
 * keyring may be shared by writers and readers of several threads; it
 * must outlive every writer and reader it was given to. */
typedef struct maif_keyring maif_keyring;
/* Errors: MAIF_ENOMEM. */
MAIF_API MAIF_NODISCARD int maif_keyring_create(maif_keyring **out);
MAIF_API void maif_keyring_free(maif_keyring *kr);
/* Adds a recipient by its signing public key (a `maif keygen` .pub): its
 * X25519 form receives the data keys. Errors: MAIF_EKEY (not a valid
 * Ed25519 point), MAIF_ELIMIT (32 recipients at most), MAIF_EINVAL. */
MAIF_API MAIF_NODISCARD int maif_keyring_add_recipient(maif_keyring *kr, const uint8_t pk[MAIF_PUBKEY_BYTES]);
/* Adds an identity: a `maif keygen` secret key opens what was encrypted to
 * its public key. The key may be freed afterwards. Errors: MAIF_ELIMIT (8
 * at most), MAIF_EINVAL. */
MAIF_API MAIF_NODISCARD int maif_keyring_add_identity(maif_keyring *kr, const maif_key *key);
/* Adds a passphrase (1..1024 bytes), used both ways: writers wrap data
 * keys with kdf (MAIF_KDF_*), readers try it on passphrase stanzas of
 * either KDF. Errors: MAIF_EINVAL, MAIF_ELIMIT (4 at most). */
MAIF_API MAIF_NODISCARD int maif_keyring_add_passphrase(maif_keyring *kr, const void *pass, size_t len, int kdf);
/* Seals w's blocks added from now on with cipher (MAIF_CIPHER_*; 0 turns
 * encryption off) under a new data key for kr's recipients and
 * passphrases; appends the key-wrap block at once. Streamed payloads
 * (maif_writer_add_stream) are refused while encryption is on. Errors:
 * MAIF_EINVAL (no recipient or passphrase, unknown cipher),
 * MAIF_EUNSUPPORTED (AES-256-GCM on a CPU without AES-NI), those of
 * maif_writer_add. */
MAIF_API MAIF_NODISCARD int maif_writer_encrypt(maif_writer *w, maif_keyring *kr, int cipher);
/* Lets maif_reader_block_decode open encrypted blocks with kr (NULL: no
 * keys). A block's data key is unwrapped on first use and cached in kr.
 * Errors: MAIF_ENOMEM, MAIF_EINVAL. */
MAIF_API MAIF_NODISCARD int maif_reader_set_keyring(maif_reader *r, maif_keyring *kr);

/* ------------------------------------------- understanding: image and audio
 *
 * Features computed from an image or a sound without any model, for
 * near-duplicate detection, similarity and metadata (`maif add --analyze`).
 * The bytes are untrusted: sizes are bounded before anything is allocated
 * (an image is refused above MAIF_IMAGE_PIXELS_MAX pixels, whatever its
 * header claims), and a damaged file is an error, never a guess. */

/* Largest image analysed: 64 Mi pixels (e.g. 8192 x 8192). */
#define MAIF_IMAGE_PIXELS_MAX ((uint64_t)64 << 20)
/* Colour histogram: 8 hue x 3 saturation x 3 value bins, in that order
 * (bin = h*9 + s*3 + v); the fractions of the image's pixels, summing to 1. */
#define MAIF_IMAGE_HSV_BINS 72
/* Gradient-orientation histogram: 2 x 2 cells of 9 unsigned orientations
 * (0-180 degrees), magnitude-weighted, the whole vector L2-normalised. */
#define MAIF_IMAGE_HOG_BINS 36

typedef struct maif_image_features {
    uint32_t width, height;
    char format[8];                    /* "png" or "jpeg" */
    uint64_t phash;                    /* DCT perceptual hash (32x32 luma, 8x8 low frequencies) */
    uint64_t phash_content;            /* the same of the content inside a uniform border (equal to
                                          phash when there is none): robust to crops of margin */
    uint64_t dhash;                    /* difference hash (9x8 luma) */
    float hsv[MAIF_IMAGE_HSV_BINS];
    float hog[MAIF_IMAGE_HOG_BINS];
} maif_image_features;

/* Decodes a PNG or JPEG (alpha composited over white) and computes its
 * features. Errors: MAIF_EINVAL (NULL), MAIF_EUNSUPPORTED (neither PNG
 * nor JPEG), MAIF_EFORMAT (damaged or truncated), MAIF_ELIMIT (more than
 * MAIF_IMAGE_PIXELS_MAX pixels: refused from the header, before decoding),
 * MAIF_ENOMEM. */
MAIF_API MAIF_NODISCARD int maif_image_analyze(const void *data, size_t size, maif_image_features *out);
/* Bits that differ between two 64-bit hashes (0..64): near-duplicates
 * are a few bits apart (docs/UNDERSTANDING.md gives measured distances). */
MAIF_API int maif_hash_distance(uint64_t a, uint64_t b);
/* The perceptual distance of two images: the smaller of the distances of
 * their phash and of their phash_content (0..64). */
MAIF_API int maif_image_distance(const maif_image_features *a, const maif_image_features *b);

/* Analysis frames: 25 ms Hamming windows every 10 ms, 40 mel bands
 * (HTK scale, 0 Hz to half the sample rate), 13 MFCCs (orthonormal DCT-II
 * of the natural-log mel energies). */
#define MAIF_AUDIO_MEL_BANDS 40
#define MAIF_AUDIO_MFCC 13
/* Largest WAV analysed: 2^31 sample frames per channel. */
#define MAIF_AUDIO_FRAMES_MAX ((uint64_t)1 << 31)

typedef struct maif_audio_features {
    uint32_t sample_rate;              /* Hz */
    uint16_t channels;                 /* 1..8, mixed down to mono for analysis */
    uint16_t bits;                     /* bits per sample as stored */
    int is_float;                      /* IEEE float samples (else integer PCM) */
    uint64_t frames;                   /* samples per channel */
    double duration;                   /* seconds */
    uint64_t windows;                  /* analysis frames */
    float rms_db;                      /* level of the whole sound, dBFS */
    float mfcc_mean[MAIF_AUDIO_MFCC], mfcc_std[MAIF_AUDIO_MFCC];
} maif_audio_features;

/* Parses a WAV file (RIFF WAVE; PCM 8/16/24/32-bit, IEEE float 32/64,
 * WAVE_FORMAT_EXTENSIBLE of those; 1-8 channels) and computes its
 * features. Errors: MAIF_EINVAL, MAIF_EUNSUPPORTED (not a WAV, or an
 * encoding other than those), MAIF_EFORMAT (damaged), MAIF_ELIMIT,
 * MAIF_ENOMEM. */
MAIF_API MAIF_NODISCARD int maif_audio_analyze(const void *data, size_t size, maif_audio_features *out);
/* The log-mel spectrogram (what = 0: MAIF_AUDIO_MEL_BANDS floats a frame)
 * or the MFCCs (what = 1: MAIF_AUDIO_MFCC floats a frame) of a WAV, frame
 * after frame, into out (cap floats). Sets *nframes to the frame count;
 * MAIF_ELIMIT when cap is too small (out untouched, *nframes set), so a
 * first call with cap 0 sizes the buffer. Errors as maif_audio_analyze. */
MAIF_API MAIF_NODISCARD int maif_audio_spectrum(const void *data, size_t size, int what, float *out, size_t cap,
                                                size_t *nframes);

/* The metadata `maif add --analyze` stores for an image (type
 * MAIF_TYPE_IMAGE) or a sound (MAIF_TYPE_AUDIO), as a JSON object into
 * buf (cap bytes, NUL-terminated); *len gets its length (without the NUL)
 * and, with MAIF_ELIMIT, the length needed (*len stays 0 when the
 * analysis itself fails, an oversized image included). Keys (docs/UNDERSTANDING.md):
 * image: format, width, height, phash, dhash (16 hex digits),
 * color_histogram, hog; audio: format "wav", sample_rate, channels, bits,
 * duration, rms_db, mfcc_mean, mfcc_std. Errors: those of the analysis,
 * MAIF_EINVAL (another type). */
MAIF_API MAIF_NODISCARD int maif_media_metadata(uint32_t type, const void *data, size_t size, char *buf, size_t cap,
                                                size_t *len);

/* -------------------------------------- ACAM: cross-modal attention
 *
 * ACAM fuses what is said about an item in one text embedding space (its
 * caption, its metadata, the blocks related to it: its "sources") into one
 * joint vector for a query, with attention weights that combine a scaled
 * dot product, cosine similarity and each source's trust (docs/ACAM.md has
 * the equations):
 *   s_i = mix * (q . e_i) / sqrt(d) + (1 - mix) * cos(q, e_i)
 *   a_i = softmax_i(s_i / temperature + ln trust_i)
 *   joint = sum_i a_i e_i,   score = cos(q, joint)
 * Deterministic: the same inputs always give the same weights and score. */

#define MAIF_ACAM_DIM_MAX 65536u   /* dimensions */
#define MAIF_ACAM_SOURCES_MAX 256u /* sources of one item */

typedef struct maif_acam_source {
    const float *vec;   /* dim floats, borrowed for the call */
    float trust;        /* (0, 1]: how far this source is believed */
} maif_acam_source;

typedef struct maif_acam_params {
    float mix;          /* [0, 1]: weight of the scaled dot product against cosine (default 0.5) */
    float temperature;  /* (0, 100]: softmax temperature (default 0.1; lower is sharper) */
} maif_acam_params;

/* Fills p with the defaults. */
MAIF_API void maif_acam_defaults(maif_acam_params *p);
/* Attention over n sources of one item for query (dim floats): weights[n]
 * (summing to 1), joint[dim] (may be NULL) and *score in [-1, 1]. params
 * may be NULL (the defaults). Errors: MAIF_EINVAL (NULL, dim or n 0, a
 * value that is not finite, trust outside (0, 1], params out of range),
 * MAIF_ELIMIT (over MAIF_ACAM_DIM_MAX or MAIF_ACAM_SOURCES_MAX). */
MAIF_API MAIF_NODISCARD int maif_acam_fuse(const float *query, size_t dim, const maif_acam_source *src, size_t n,
                                           const maif_acam_params *params, float *weights, float *joint, float *score);

/* ------------------------------------------------- the knowledge graph
 *
 * An artifact's knowledge graph: the triples of its KNOW blocks, the
 * `relationships` metadata of every block, and (when asked) links between
 * near-duplicate images. A KNOW payload is JSON (docs/FORMAT.md §5.3.1):
 * {"triples": [[S, P, O], ...]} or the array alone, a triple being
 * [subject, predicate, object] or {"subject", "predicate", "object"};
 * subject and predicate are strings of 1 to 4096 bytes, the object such a
 * string or a number, true, false or null. A string of exactly 32 hex
 * digits names a block (by id); any other string an entity.
 *
 * Nodes and edges are numbered from 0; their strings are borrowed until
 * maif_graph_free. Lists come out as in maif_reader_history: at most cap
 * written, *n the full count, MAIF_ELIMIT when cap was too small. */

typedef struct maif_graph maif_graph;

#define MAIF_GRAPH_NODE_BLOCK   1 /* a block, named by its 32-hex id */
#define MAIF_GRAPH_NODE_ENTITY  2 /* any other string */
#define MAIF_GRAPH_NODE_LITERAL 3 /* a number, true, false or null: its JSON text */

typedef struct maif_graph_node {
    const char *name;
    int kind;                   /* MAIF_GRAPH_NODE_* */
    int64_t block;              /* a block node's index in the reader, else -1 (an
                                   entity, or an id the artifact does not hold) */
    uint32_t type;              /* that block's type, else 0 */
} maif_graph_node;

typedef struct maif_graph_edge {
    uint64_t from, to;          /* node numbers */
    const char *predicate;
    uint64_t block;             /* the block that states it (first, if several do) */
} maif_graph_edge;

/* maif_graph_build flags */
#define MAIF_GRAPH_SUPERSEDED      0x1u /* also the triples and relationships of superseded blocks */
#define MAIF_GRAPH_NEAR_DUPLICATES 0x2u /* link images (metadata "phash", "phash_content" from
                                           `maif add --analyze`) within 12 bits:
                                           "near_duplicate_of", from the later to the earlier */
/* Longest path or neighbourhood asked for. */
#define MAIF_GRAPH_DEPTH_MAX 64u

/* Builds the graph of r's blocks in one pass. Every block that is not
 * superseded (unless flags say so) is a node; KNOW payloads that are
 * encrypted without a key in r's keyring, or not in the format above, are
 * skipped and counted (maif_graph_skipped), not errors. Errors:
 * MAIF_EINVAL, MAIF_ENOMEM, MAIF_ELIMIT, those of the reader. */
MAIF_API MAIF_NODISCARD int maif_graph_build(maif_graph **out, maif_reader *r, unsigned flags);
MAIF_API void maif_graph_free(maif_graph *g);
MAIF_API uint64_t maif_graph_node_count(const maif_graph *g);
MAIF_API uint64_t maif_graph_edge_count(const maif_graph *g);
/* How many knowledge blocks or relationships were skipped; *why (may be
 * NULL) the first reason, "" when none. */
MAIF_API uint64_t maif_graph_skipped(const maif_graph *g, const char **why);
MAIF_API MAIF_NODISCARD int maif_graph_node_get(const maif_graph *g, uint64_t node, maif_graph_node *out);
MAIF_API MAIF_NODISCARD int maif_graph_edge_get(const maif_graph *g, uint64_t edge, maif_graph_edge *out);
/* The node named name: a 32-hex block id (any case), an entity, or a
 * literal's JSON text. Errors: MAIF_ENOTFOUND, MAIF_EINVAL. */
MAIF_API MAIF_NODISCARD int maif_graph_lookup(const maif_graph *g, const char *name, uint64_t *node);
/* The edges into or out of node. */
MAIF_API MAIF_NODISCARD int maif_graph_neighbors(const maif_graph *g, uint64_t node, uint64_t *edges, size_t cap,
                                                 size_t *n);
/* A shortest path from one node to another over edges in either
 * direction, at most max_edges (1 to MAIF_GRAPH_DEPTH_MAX) long: its edges
 * in order. from == to is the empty path. Errors: MAIF_ENOTFOUND (no such
 * path), MAIF_EINVAL, MAIF_ELIMIT, MAIF_ENOMEM. */
MAIF_API MAIF_NODISCARD int maif_graph_path(const maif_graph *g, uint64_t from, uint64_t to, unsigned max_edges,
                                            uint64_t *edges, size_t cap, size_t *n);
/* The nodes at most depth (0 to MAIF_GRAPH_DEPTH_MAX) edges from node,
 * nearest first, node itself first. */
MAIF_API MAIF_NODISCARD int maif_graph_around(const maif_graph *g, uint64_t node, unsigned depth, uint64_t *nodes,
                                              size_t cap, size_t *n);
/* The edges whose subject, predicate and object equal s, p and o; NULL
 * matches anything. A name that is no node matches nothing (*n = 0). */
MAIF_API MAIF_NODISCARD int maif_graph_match(const maif_graph *g, const char *s, const char *p, const char *o,
                                             uint64_t *edges, size_t cap, size_t *n);

/* Where an export goes: returns 0, or non-zero to stop (MAIF_EIO). */
typedef int (*maif_write_fn)(void *ctx, const void *buf, size_t n);
#define MAIF_GRAPH_DOT  1 /* Graphviz: blocks as boxes, entities as ellipses, literals as text */
#define MAIF_GRAPH_JSON 2 /* {"nodes": [{id, name, kind, block?, type?}], "edges": [{from, to, predicate, block}]} */
/* Writes the graph, or the part of it among nodes[0..nnodes) (NULL: all),
 * as format through write. Errors: MAIF_EINVAL, MAIF_EIO, MAIF_ENOMEM. */
MAIF_API MAIF_NODISCARD int maif_graph_export(const maif_graph *g, int format, const uint64_t *nodes, size_t nnodes,
                                              maif_write_fn write, void *ctx);
/* Checks a KNOW payload against the format above. Errors: MAIF_EJSON
 * (with the first problem), MAIF_ELIMIT (over MAIF_PARSE_MAX), MAIF_EINVAL. */
MAIF_API MAIF_NODISCARD int maif_knowledge_check(const void *payload, size_t n);

/* ------------------------------------------------------------- helpers */

/* Hex of n bytes into out (2n+1 bytes). Returns out. */
MAIF_API char *maif_hex(const uint8_t *bytes, size_t n, char *out);
/* Parses exactly 2n hex digits. Returns 0 or MAIF_EINVAL. */
MAIF_API MAIF_NODISCARD int maif_unhex(const char *hex, uint8_t *out, size_t n);

#ifdef __cplusplus
}
#endif
#endif /* MAIF_H */
