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
 *     maif_reader_* call but close, refresh and set_cache); writers are
 *     single-threaded: a maif_writer, maif_key or maif_report is used by
 *     one thread at a time, except for the group-commit calls
 *     (maif_writer_commit_batch, maif_writer_add_async, maif_writer_flush),
 *     which any number of threads may call on one writer at once. maif_reader_errmsg is per thread. Several readers may share a
 *     file with one writer (the writer holds an exclusive lock; other
 *     writers wait for it with MAIF_OPT_LOCK_WAIT_MS); readers see
 *     committed batches only and follow the writer with
 *     maif_reader_refresh.
 *   - Threads the library starts are its own business, and it counts only
 *     the CPUs the calling thread may run on (its affinity mask):
 *     verification hashes on a pool that lives for one call, a commit
 *     hashes borrowed payloads on one, and when two or more CPUs are usable
 *     a writer starts one helper thread ("maif-hash") for payload hashes
 *     at its first small block, joined by maif_writer_close; the first
 *     maif_writer_add_async starts a committer thread ("maif-commit"),
 *     joined by maif_writer_close; a group commit with a codec or cipher
 *     encodes its blocks on up to MAIF_OPT_WORKERS threads that live for
 *     one group. Do not use a
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
#define MAIF_TYPE_ZDICT     MAIF_FOURCC('Z', 'D', 'I', 'C') /* a zstd dictionary (maif_writer_add_dict) */
#define MAIF_TYPE_CHAIN     MAIF_FOURCC('X', '5', 'C', 'H') /* a signer's X.509 chain (docs/IDENTITIES.md) */
#define MAIF_TYPE_TIMESTAMP MAIF_FOURCC('T', 'S', 'T', 'K') /* an RFC 3161 time-stamp token over a commit */

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
/* maif_verify_chains, also checking revocation: crls holds the CAs'
 * certificate revocation lists (PEM, or DER back to back; at most 256
 * and 1 MiB). Every certificate of a signer's validated path below the
 * root is looked up in the newest CRL of its issuer that the issuer's key
 * verifies (full CRLs issued by the CA itself; no delta or indirect CRLs,
 * no OCSP, nothing fetched). Further findings: "identity-crl-missing" (no
 * such CRL for an issuer in the path: error), "identity-revoked" (error:
 * revoked at or before the commit's time, or for keyCompromise,
 * cACompromise or aACompromise at any time, since a compromised key can
 * sign with any timestamp), "identity-revoked-later" (warning: revoked
 * for another reason after the commit's time, which is the signer's own
 * claim), "identity-crl-stale" (warning: a CRL past its nextUpdate).
 * Errors: those of maif_verify_chains; MAIF_EFORMAT/MAIF_ELIMIT (the
 * CRLs). crls NULL is maif_verify_chains. */
MAIF_API MAIF_NODISCARD int maif_verify_chains_crl(const char *path, const void *roots, size_t roots_len,
                                                   const void *crls, size_t crls_len, maif_report **out);

/* Trusted timestamps (RFC 3161, docs/IDENTITIES.md): a time-stamp
 * authority (TSA) signs that a commit existed at a time, which, through the
 * hash chain, holds for every byte before it.
 *
 * The DER TimeStampReq for the last commit of the native artifact at path
 * (its imprint: SHA-256 of the commit's signed 48-byte message, FORMAT.md
 * §5.5; a random nonce; the TSA's certificate asked for) into out (cap
 * bytes); *len its length, also when MAIF_ELIMIT says cap is too small.
 * Send it to a TSA (`openssl ts -reply`, or over HTTP as
 * application/timestamp-query). Errors: MAIF_ELIMIT, MAIF_EUNSUPPORTED
 * (not native), those of maif_reader_open. */
MAIF_API MAIF_NODISCARD int maif_timestamp_query(const char *path, uint8_t *out, size_t cap, size_t *len);
/* Adds the TSA's answer to w's batch as a MAIF_TYPE_TIMESTAMP block: resp
 * is a DER TimeStampResp (status granted) or a bare TimeStampToken; the
 * token is stored. It must stamp one of the committed commits of w's
 * artifact (*commit_seq, may be NULL, gets that commit's seq). Its
 * signature is checked by maif_verify_identities with TSA roots, not
 * here. Errors: MAIF_EFORMAT (not a token, a response without one: the
 * message names the status, an imprint that is not SHA-256), MAIF_ELIMIT
 * (over 64 KiB), MAIF_EINVAL (it stamps none of the artifact's commits),
 * those of maif_writer_add. */
MAIF_API MAIF_NODISCARD int maif_writer_add_timestamp(maif_writer *w, const void *resp, size_t len,
                                                      uint64_t *commit_seq, uint8_t id_out[MAIF_ID_BYTES]);
/* What maif_verify_identities trusts: CA roots for signers' chains, their
 * CRLs, and TSA roots for time-stamp tokens (PEM or DER; NULL: that check
 * is not made; CRLs need roots; roots or tsa_roots must be given). */
typedef struct maif_identity_trust {
    const void *roots;
    size_t roots_len;
    const void *crls;
    size_t crls_len;
    const void *tsa_roots;
    size_t tsa_roots_len;
} maif_identity_trust;
/* maif_verify_chains_crl, and with tsa_roots the time-stamp blocks: each
 * token's signature and TSA certificate (extended key usage
 * timeStamping, to a TSA root, at the token's time) are verified and it
 * must stamp a commit of the artifact: an "info" finding "timestamp" for
 * each (which commit, when, which TSA), errors "timestamp-invalid" and
 * "timestamp-no-commit", a warning "timestamp-clock" (a commit claiming a
 * time more than 5 minutes after its TSA saw it). A commit then existed by
 * the earliest trusted time of its own tokens and of every later commit's;
 * with roots and CRLs, a certificate revoked (for any reason) after that
 * time, and after the CRL entry's invalidityDate, does not fail the
 * commit: it provably predates the revocation; nor does it fail a commit
 * that adds only time-stamp blocks (it vouches for nothing but TSA-signed
 * tokens; the commit storing the last token is made after it). Errors: those of
 * maif_verify_chains_crl; MAIF_EFORMAT/MAIF_ELIMIT (the TSA roots: the
 * message starts "TSA"). */
MAIF_API MAIF_NODISCARD int maif_verify_identities(const char *path, const maif_identity_trust *trust,
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
#define MAIF_OPT_INDEX_M      40 /* maif_index_build: HNSW M, the links a node keeps
                                     per layer above 0 (2M at layer 0), 2..128;
                                     0 (default) = 16 */
#define MAIF_OPT_INDEX_EF_CONSTRUCTION 41 /* maif_index_build: the beam width while
                                     inserting, 1..4096; 0 (default) = 200 */
#define MAIF_OPT_INDEX_METRIC 42 /* maif_index_build: MAIF_METRIC_*; 0 (default) = cosine */
#define MAIF_OPT_INDEX_QUANTIZE 43 /* maif_index_build: MAIF_QUANTIZE_*; 0 (default) =
                                     none (float vectors in the index); INT8 (codes, the
                                     graph walked on them, the best ef re-ranked exactly
                                     from the EMBD rows); PQ (product quantisation: one
                                     byte a sub-space, MAIF_OPT_INDEX_PQ_M of them, the
                                     graph walked with distance tables, the best
                                     max(ef, 10k) re-ranked exactly from the EMBD rows) */
#define MAIF_OPT_INDEX_THREADS 44 /* maif_index_build: threads inserting nodes,
                                     0..MAIF_THREADS_MAX; 0 (default) = one per CPU this
                                     thread may use (at most 16). One thread builds the
                                     same graph every time; more depend on scheduling */
#define MAIF_OPT_INDEX_PQ_M  45 /* maif_index_build with PQ: sub-spaces (code bytes a
                                     vector), 1..1024 and at most the dimensions;
                                     0 (default) = ceil(dim / 4) (16x smaller than
                                     float32) */
#define MAIF_OPT_CONTENT_HASH 20 /* writer_create (and convert, which creates): the
                                     function of the new artifact's content hashes,
                                     MAIF_HASH_SHA256 (default) or MAIF_HASH_BLAKE3
                                     (docs/FORMAT.md §4). Fixed at creation:
                                     writer_open keeps the file's own */
/* ids 10-19 belong to the streaming engine */
#define MAIF_OPT_WORKERS      15 /* writers: threads that encode (compress, encrypt)
                                     and hash the blocks of a group commit or of queued
                                     asynchronous appends in parallel, 0..MAIF_THREADS_MAX;
                                     0 (default) = one per CPU this thread may use;
                                     1 = everything on the committing thread */
#define MAIF_OPT_ASYNC_QUEUE  16 /* writers: asynchronous appends queued before
                                     maif_writer_add_async waits (backpressure),
                                     1..1048576; 0 (default) = MAIF_ASYNC_QUEUE_DEFAULT */
#define MAIF_ASYNC_QUEUE_DEFAULT 1024

/* Codec ids (docs/FORMAT.md §5.6). A block whose compression would save
 * less than 16 bytes or less than 1/32 of its payload is stored as is,
 * with codec NONE, whatever the writer's codec. */
#define MAIF_CODEC_NONE 0
#define MAIF_CODEC_ZSTD 1 /* one zstd frame */
#define MAIF_CODEC_LZ4  2 /* one raw LZ4 block */
#define MAIF_CODEC_ZSTD_DICT 3 /* one zstd frame compressed with a dictionary stored in the
                                  artifact (a MAIF_TYPE_ZDICT block; see maif_writer_add_dict) */
#define MAIF_CODEC_SHUFFLE_ZSTD 4 /* float32 words byte-shuffled into 4 planes, then one zstd frame:
                                   lossless compression of embeddings (FORMAT.md §5.6.3) */

/* Content hash functions (MAIF_OPT_CONTENT_HASH). Every native block's
 * content_hash is this function of its stored payload; the record chain,
 * the Merkle tree and signatures always use SHA-256. BLAKE3 costs about
 * 0.4x of SHA-256 per byte here (docs/BENCHMARKS.md), which is what bounds
 * appending and verifying large blocks; SHA-256 is the default because
 * every tool already has it. 2.1 files always use SHA-256. */
#define MAIF_HASH_SHA256 0
#define MAIF_HASH_BLAKE3 1
/* "sha256", "blake3", or "unknown". Static text. */
MAIF_API const char *maif_hash_name(int alg);
/* Parses "sha256" or "blake3" (the CLI's --hash) into a MAIF_HASH_* id.
 * Errors: MAIF_EINVAL (anything else; the message lists the choices). */
MAIF_API MAIF_NODISCARD int maif_hash_parse(const char *s, int *alg);
/* Computes alg of data[0..n) into out, as a native artifact with that
 * content hash stores it (for tools that check a payload against
 * maif_block.content_hash). Errors: MAIF_EINVAL (unknown alg, NULL). */
MAIF_API MAIF_NODISCARD int maif_hash(int alg, const void *data, size_t n, uint8_t out[MAIF_HASH_BYTES]);

/* Parses a compression choice as the CLI's --compress and the JSONL
 * "compress" key spell it: "none", "lz4", "zstd" (level 3), "zstd:N"
 * (N 1..19), "zstd:fast" (-1), "zstd:fast:N" (level -N, N 1..100),
 * "shuffle-zstd" or "shuffle-zstd:N" (embeddings: shuffled float bytes), into a
 * MAIF_CODEC_* id and a level for maif_writer_set_codec. Since 0.1.0.
 * Errors: MAIF_EINVAL (anything else; the message lists the choices). */
MAIF_API MAIF_NODISCARD int maif_codec_parse(const char *s, int *codec, int *level);
/* "none", "zstd", "lz4", "zstd-dict", or "unknown" for any other id.
 * Static text. */
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
    uint8_t content_hash[MAIF_HASH_BYTES]; /* as stored in the file: the artifact's content hash
                                              (maif_reader_content_hash) of the stored payload */
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
 * error then surfaces from that later call. An encrypted payload of 256
 * KiB to 4 MiB without a codec is sealed by the call, from the caller's
 * bytes into that buffer (no plaintext is copied; the writer's helper
 * thread seals some of its 64 KiB chunks when it is idle), then hashed and
 * written by the helper while the caller goes on.)
 * Errors: MAIF_EINVAL, MAIF_EJSON, MAIF_ELIMIT, MAIF_EIO, MAIF_ESTATE,
 * MAIF_EACCESS (the artifact's access policy refuses the block:
 * maif_policy_check_write). */
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
 * errors may surface from the call that consumes the payloads instead.
 * With a cipher set (maif_writer_encrypt) and no codec, a payload of 256
 * KiB to 4 MiB is borrowed too: it is sealed straight from the caller's
 * bytes into the writer's buffer when the batch is drained, on every core
 * (its data key must stay in the keyring or keystore until then; the
 * caller's bytes are only read); other payloads of an encrypting or
 * compressing writer are consumed at once, as by maif_writer_add. */
MAIF_API MAIF_NODISCARD int maif_writer_add_borrowed(maif_writer *w, const maif_block_spec *spec, uint8_t id_out[MAIF_ID_BYTES]);
/* A payload source for maif_writer_add_stream: copies up to cap bytes of
 * the payload into buf and returns how many (> 0), 0 at the end of the
 * payload, or a negative MAIF_E* code to abandon the block. */
typedef int64_t (*maif_read_fn)(void *ctx, void *buf, size_t cap);

/* Bytes a streaming add reads and writes at a time (its memory). */
#define MAIF_STREAM_CHUNK (1u << 20)

/* As maif_writer_add, but the payload comes from read(ctx, ...) until it
 * returns 0, and is written into place in chunks of MAIF_STREAM_CHUNK
 * while it is hashed, so memory stays bounded whatever its size.
 * spec->payload must be NULL; spec->payload_size announces the payload's
 * size (0: not known): the source must then deliver exactly that many
 * bytes, else MAIF_EINVAL and nothing of the block remains.
 * Encryption (maif_writer_encrypt): a payload of announced size (or from
 * a regular file, maif_writer_add_fd) is sealed chunk by chunk as it
 * streams (ciphers 4 to 6, the STREAM forms of the three algorithms,
 * FORMAT.md §5.7), in bounded memory (two 64 KiB chunks beside the
 * buffers above). The associated data binds the payload's size, so an
 * encrypted payload of unknown size, and a payload with the zstd codec,
 * with or without a dictionary (a compressed block is one frame that
 * records its size), are read into
 * memory up to 1 MiB and past that spooled: copied into an unlinked
 * temporary file (O_TMPFILE, 0600, in the artifact's directory, else
 * $TMPDIR or /tmp) sealed under a throwaway key held in locked memory
 * (no plaintext reaches the disk), compressed from there into a second
 * one, then sealed chunk by chunk, in bounded memory; the spools need the
 * payload's size in temporary disk space. lz4 and shuffle-zstd read the
 * payload whole, at most limit bytes and at most MAIF_WHOLE_CODEC_MAX
 * (64 MiB; MAIF_ELIMIT one byte past it, or at once when the announced
 * size is over it). The other spec fields are used as by
 * maif_writer_add. The file layout is identical to
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
 * closed) to its end. A non-blocking fd is waited for. A regular file
 * announces its size (from its current offset) for sealing chunk by
 * chunk, unless spec->payload_size does. Errors: as
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
 * writer's options; an encryption stage, if any, is kept.
 * MAIF_CODEC_ZSTD_DICT needs a dictionary set first (maif_writer_add_dict,
 * maif_writer_use_dict; else MAIF_ESTATE). Each block is
 * still stored as is when compression does not pay (see MAIF_CODEC_NONE).
 * Since 0.1.0. Errors: MAIF_EINVAL (NULL w, a level the codec does not
 * take), MAIF_EUNSUPPORTED (a codec id this library does not know). */
MAIF_API MAIF_NODISCARD int maif_writer_set_codec(maif_writer *w, int codec, int level);
/* Detailed message for the last error on this writer ("" if none). */
MAIF_API const char *maif_writer_errmsg(const maif_writer *w);

/* ------------------------------------------------------ zstd dictionaries
 *
 * Many small similar blocks (chat turns, log lines, JSON records)
 * compress far better with a dictionary trained on their kind. A
 * dictionary is stored in the artifact itself, as a block of type
 * MAIF_TYPE_ZDICT (covered by the chain and the signatures like any
 * block), and blocks compressed with it (MAIF_CODEC_ZSTD_DICT) name it by
 * block number (docs/FORMAT.md §5.6.2). Readers find it by itself:
 * maif_reader_block_decode loads a block's dictionary on first use (its
 * content hash checked, its size bounded before any allocation) and keeps
 * up to 8 loaded per reader. Since 0.2.0. */

/* Dictionary sizes the calls below accept: MAIF_DICT_MIN..MAIF_DICT_MAX
 * bytes; MAIF_DICT_DEFAULT is what `maif dict --train` asks for. */
#define MAIF_DICT_MIN     256u
#define MAIF_DICT_MAX     (1u << 20)
#define MAIF_DICT_DEFAULT (64u << 10)

/* Trains a zstd dictionary of at most dst_capacity bytes
 * (MAIF_DICT_MIN..MAIF_DICT_MAX) from count samples laid end to end in
 * samples (sizes[i] bytes each) into dst; *written gets its size.
 * Errors: MAIF_EINVAL (NULL, capacity out of range, no samples),
 * MAIF_ELIMIT (zstd could not train: too few or too uniform samples; a
 * few hundred samples of the kind to compress are a good start),
 * MAIF_ENOMEM. */
MAIF_API MAIF_NODISCARD int maif_dict_train(void *dst, size_t dst_capacity, const void *samples,
                                            const size_t *sizes, size_t count, size_t *written);
/* Appends dict (n bytes; a zstd dictionary as maif_dict_train makes, checked
 * first) as a MAIF_TYPE_ZDICT block stored as is, and compresses the blocks
 * added from now on with it: codec MAIF_CODEC_ZSTD_DICT at level (zstd's,
 * as MAIF_OPT_CODEC_LEVEL; 0 = 3). id_out (may be NULL) gets the block id.
 * The dictionary is part of the batch: it becomes visible with the commit,
 * and a rollback discards it and the blocks that use it (the writer then
 * falls back to plain zstd at the same level).
 * Errors: MAIF_EINVAL (NULL, encryption on: a dictionary is public, add
 * it before maif_writer_encrypt), MAIF_EFORMAT (not a zstd dictionary),
 * MAIF_ELIMIT (over MAIF_DICT_MAX), those of maif_writer_add. */
MAIF_API MAIF_NODISCARD int maif_writer_add_dict(maif_writer *w, const void *dict, size_t n, int level,
                                                 uint8_t id_out[MAIF_ID_BYTES]);
/* Compresses the blocks added from now on with a dictionary already
 * committed to the artifact: the block with this id, or with id NULL the
 * latest MAIF_TYPE_ZDICT block; level as for maif_writer_add_dict. An
 * encryption stage, if any, is kept (compress, then encrypt).
 * maif_writer_set_codec switches between the dictionary and other codecs
 * afterwards (MAIF_CODEC_ZSTD_DICT is refused until a dictionary is set;
 * its level is then the dictionary's). Errors: MAIF_ENOTFOUND (no such
 * block, or no dictionary), MAIF_EFORMAT (the block is not a dictionary,
 * or damaged), MAIF_EINVAL, MAIF_EIO, MAIF_ENOMEM. */
MAIF_API MAIF_NODISCARD int maif_writer_use_dict(maif_writer *w, const uint8_t id[MAIF_ID_BYTES], int level);
/* ------------------------------------------------ group commit, async
 *
 * The calls in this section are the thread-safe way into a writer (since
 * 0.2.0): any number of threads may call maif_writer_commit_batch,
 * maif_writer_add_async and maif_writer_flush on one writer at once.
 * Requests join one FIFO queue; the first caller that finds no commit in
 * progress becomes the leader, takes every queued request, adds their
 * blocks in queue order and seals them all with ONE commit (one index
 * segment, one signature and, with MAIF_OPT_DURABLE, one pair of fsyncs,
 * the second of which runs while the next group is being written); the
 * others wait for it and the requests that arrive meanwhile form the next
 * group. Groups complete in commit order. So concurrent committers share
 * fsyncs (group commit, as in SQLite's WAL or LevelDB's write queue), while
 * each request's blocks stay contiguous and become visible together: no
 * request is lost, split or interleaved with another. With a codec or a
 * cipher, a group's blocks are compressed, encrypted and hashed ahead on
 * MAIF_OPT_WORKERS threads while the leader writes, in order, the ones
 * already encoded (the file is the same as one thread's).
 * While any of these calls may be running, no other maif_writer_* call
 * may be made on w (the leader uses the writer's single-threaded path);
 * maif_writer_close may be called once they have all returned. A batch
 * started with maif_writer_add must be committed before: a group that
 * finds one pending fails with MAIF_ESTATE.
 * A request the writer refuses on its own (bad metadata, a limit) fails
 * alone: the leader adds the rest of the group again without it. An I/O
 * error (a failed fsync included) kills the writer and fails every request
 * of its group and of every later group; maif_writer_close then cuts the
 * file back to the end of the last commit before that group.
 * Error messages are in the calling thread's maif_last_errmsg();
 * maif_writer_errmsg(w) is then not meaningful (any leader writes it). */

/* Appends specs[0..n) as one batch and commits it, sharing the commit
 * with concurrent callers. Returns when the batch is committed (on stable
 * storage with MAIF_OPT_DURABLE) or has failed; nothing of a failed batch
 * is visible. The specs and their payloads are borrowed for the call.
 * ids_out (may be NULL) receives the n block ids. n = 0 commits nothing
 * and returns once every request queued before it is done.
 * Errors: as maif_writer_add and maif_writer_commit; MAIF_EINVAL (NULL w,
 * n > 0 with NULL specs), MAIF_ESTATE (no key, a pending batch, a dead
 * writer). */
MAIF_API MAIF_NODISCARD int maif_writer_commit_batch(maif_writer *w, const maif_block_spec *specs, size_t n,
                                                     uint8_t (*ids_out)[MAIF_ID_BYTES]);
/* Completion of an asynchronous append: rc is MAIF_OK once the block is
 * committed (durable with MAIF_OPT_DURABLE), id its block id (borrowed for
 * the call), else a MAIF_E* code and id NULL (the message is in
 * maif_last_errmsg() of the thread that calls maif_writer_flush). */
typedef void (*maif_commit_fn)(void *ctx, int rc, const uint8_t *id);
/* Queues one block to be appended and committed, and returns at once;
 * done (may be NULL) is called with ctx when it is committed or failed.
 * The block is a request of its own (it succeeds or fails alone) and
 * shares its commit with whatever else is queued. Blocks queued by one thread are committed in the
 * order queued. Queued blocks are committed by a helper thread the writer
 * starts at the first call ("maif-commit"; joined by maif_writer_close),
 * or by any thread inside maif_writer_commit_batch or maif_writer_flush,
 * in groups as described above.
 * Ownership: *spec itself is copied, but everything it points to (payload,
 * meta_json, id, supersedes) is borrowed: it must stay valid and unchanged
 * until done is called (or, with done NULL, until maif_writer_flush or
 * maif_writer_close returns).
 * Callbacks run on the committing thread, one at a time, in commit order;
 * done must return quickly and must not call any maif_writer_* function
 * on w (it would deadlock waiting for itself).
 * Backpressure: when MAIF_OPT_ASYNC_QUEUE requests are queued or being
 * committed, the call waits until one completes.
 * Errors: MAIF_EINVAL (NULL w or spec), MAIF_ESTATE (no key), MAIF_ENOMEM
 * (the request or the helper thread could not be made; nothing queued).
 * Errors of the block itself go to done and to maif_writer_flush. */
MAIF_API MAIF_NODISCARD int maif_writer_add_async(maif_writer *w, const maif_block_spec *spec, maif_commit_fn done,
                                                  void *ctx);
/* Waits until every request queued before the call (by any thread) is
 * committed or failed and its callback has returned. Returns MAIF_OK, or
 * the first error of an asynchronous append since the previous flush
 * (which it clears), with its message in maif_last_errmsg().
 * maif_writer_close flushes too (its return value carries that error).
 * Errors: MAIF_EINVAL (NULL w); those of the appends. */
MAIF_API MAIF_NODISCARD int maif_writer_flush(maif_writer *w);
/* (maif_writer_commit_batch, maif_writer_add_async and maif_writer_flush:
 * since 0.2.0. MAIF_OPT_WORKERS and MAIF_OPT_ASYNC_QUEUE are read by
 * maif_writer_create and maif_writer_open.) */

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
/* Announces the size of a pending draft's payload: maif_writer_add_draft
 * then takes exactly n bytes from its source (other counts: MAIF_EINVAL,
 * nothing added), and an encrypted payload is sealed chunk by chunk as it
 * streams, in bounded memory (maif_writer_add_stream). Errors:
 * MAIF_EINVAL (not a pending draft). (since 0.2.0) */
MAIF_API MAIF_NODISCARD int maif_block_draft_set_size(maif_block_draft *d, uint64_t n);
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
 * maif_reader_close. From its first refresh a reader keeps the file open
 * (one descriptor) and maps it with room to grow (twice its size, at
 * least 256 MiB more); while the artifact at the path is still the one it
 * holds and fits that map, a refresh maps nothing new. When it must map
 * again, the old map is kept until close (about once per doubling of the
 * file). The parsed state of an old view is kept until close only if
 * maif_reader_info handed out its strings; otherwise it is freed at the
 * switch, so a reader can follow a writer through any number of commits. Block indices and ids stay the same across a
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
/* Largest payload of a block whose codec decodes only whole (since
 * 0.2.0): lz4 (one raw LZ4 block) and shuffle-zstd (its byte planes span
 * the whole payload), FORMAT.md §8. Writers refuse those codecs for a
 * larger payload (MAIF_ELIMIT: compress it with zstd, which streams);
 * readers refuse a record of either codec that claims more (MAIF_EFORMAT). */
#define MAIF_WHOLE_CODEC_MAX ((uint64_t)64 << 20)
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
 * block's key: maif_reader_set_keyring; or the artifact's access policy
 * denies the subject set with maif_reader_set_subject). */
MAIF_API MAIF_NODISCARD int maif_reader_block_decode(maif_reader *r, uint64_t index, void *dst, size_t dst_capacity, size_t *written);
/* Where maif_reader_block_decode_to writes: n > 0 bytes of the payload, in
 * order. Returns 0, or a negative MAIF_E* code to stop (a positive value
 * counts as MAIF_EIO). */
typedef int (*maif_write_fn)(void *ctx, const void *buf, size_t n);
/* Decodes block index's payload piece by piece into write, in bounded
 * memory whatever its size (since 0.2.0): a plain block in slices of the
 * map, an encrypted block of ciphers 4 to 6 (the STREAM forms of the three
 * algorithms: every block over 64 KiB this library seals) one 64 KiB
 * chunk at a time, each chunk authenticated before it is written, and a
 * zstd block (codec 1, or codec 3 with its dictionary, alone or under
 * ciphers 4 to 6) decompressed as it is read or as its chunks open; the
 * map's pages are given back as it goes. Other blocks (lz4 and
 * shuffle-zstd, whose decoded size the format bounds at 64 MiB, and a
 * whole-sealed cipher 1 to 3 with a codec) are decoded whole into a
 * temporary first, wiped after.
 * No piece that fails authentication is ever written, and a stream cut,
 * reordered or spliced fails by its last chunk; but a failure after some
 * chunks were written returns its error with those chunks already given
 * (age's STREAM contract): treat the output as void unless the call
 * returns MAIF_OK. (`maif cat` checks a block first and writes only
 * what authenticates whole.) The access policy and the keyring apply as
 * for maif_reader_block_decode; the reader's cache is neither read nor
 * filled. Errors: as maif_reader_block_decode but MAIF_ELIMIT, and
 * write's own code. */
MAIF_API MAIF_NODISCARD int maif_reader_block_decode_to(maif_reader *r, uint64_t index, maif_write_fn write,
                                                        void *ctx);
/* A cache of decoded payloads (since 0.2.0). With a cache, a block whose
 * decoding does work (a codec or a cipher) is kept, decoded, after
 * maif_reader_block_decode, and the next decode of that block is a copy
 * from memory: no decompression, no decryption, no second authentication
 * (the first one passed). cache_size is the memory budget in bytes (each
 * entry is charged its size plus 64 bytes); a payload over an eighth of
 * it is never kept. 0 removes the cache. Replacing a cache drops its
 * entries and counters. The policy is S3-FIFO: new blocks enter a small
 * probation queue, blocks read again there (or soon after leaving it)
 * enter the main queue, so one pass over many blocks (a scan, a verify)
 * does not evict the blocks read repeatedly. Thread-safe like the read
 * calls, but not concurrently with another maif_reader_set_cache on r.
 * Plain blocks are not cached (their decode is one copy from the map).
 * Decrypted payloads are kept in ordinary (not locked) memory, wiped when
 * they leave the cache; maif_reader_set_keyring empties the cache, so
 * nothing decrypted with the old keys is served after. The parsed metadata the reader hands out is a view into the map: there
 * is nothing to cache for it.
 * Errors: MAIF_EINVAL (NULL r), MAIF_ENOMEM. */
MAIF_API MAIF_NODISCARD int maif_reader_set_cache(maif_reader *r, size_t cache_size);
/* Counters of r's cache, since it was set. */
typedef struct maif_cache_stats {
    uint64_t hits;      /* decodes answered from the cache */
    uint64_t misses;    /* decodes that looked and had to decode (plain blocks included) */
    uint64_t inserts;   /* payloads kept */
    uint64_t evictions; /* payloads dropped to stay within the budget */
    size_t bytes;       /* charged now (<= capacity) */
    size_t entries;     /* payloads held now */
    size_t capacity;    /* the budget; 0 without a cache */
} maif_cache_stats;
/* Fills *out (all zero without a cache). Errors: MAIF_EINVAL. */
MAIF_API MAIF_NODISCARD int maif_reader_cache_stats(maif_reader *r, maif_cache_stats *out);
/* Finds the block with this id. Errors: MAIF_ENOTFOUND. The first call
 * builds an id table (one pass over the block headers). */
MAIF_API MAIF_NODISCARD int maif_reader_find(maif_reader *r, const uint8_t id[MAIF_ID_BYTES], uint64_t *index_out);
/* Version history of a logical item: the indices of every block in the
 * supersedes chain that contains id, oldest first. Writes at most cap
 * indices and sets *n to the full length. Errors: MAIF_ENOTFOUND. */
MAIF_API MAIF_NODISCARD int maif_reader_history(maif_reader *r, const uint8_t id[MAIF_ID_BYTES],
                        uint64_t *indices, size_t cap, size_t *n);

/* Trains a zstd dictionary (see maif_dict_train) from r's own blocks: the decoded payloads of its
 * blocks (not dictionaries, key wraps, or blocks it cannot decode: no
 * key), newest first, each cut to its first 128 KiB, at most 100 times
 * dst_capacity bytes and at most 32 MiB in all. *used (may be NULL) gets
 * the number of blocks sampled. Errors: those of maif_dict_train (MAIF_ELIMIT
 * also when r has too few blocks), MAIF_EINVAL. */
MAIF_API MAIF_NODISCARD int maif_reader_dict_train(maif_reader *r, void *dst, size_t dst_capacity, size_t *written,
                                                   uint64_t *used);
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
/* The function of r's block content hashes: MAIF_HASH_SHA256 or
 * MAIF_HASH_BLAKE3 (native files created with MAIF_OPT_CONTENT_HASH);
 * 2.1 files: MAIF_HASH_SHA256. */
MAIF_API int maif_reader_content_hash(const maif_reader *r);

/* Every record of a native file, data and internal (index, commit), in file
 * order, for listings such as `maif ls --all`. kind is "block", "index",
 * "directory", "nodes" (a Merkle node record, FORMAT.md §5.13) or
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
 * MAIF_COMMIT_LAST), whose tree must hold the block; the commit may be
 * signed with any MAIF_SIG_* algorithm. Native artifacts only. Cost: the
 * right spine's siblings come from the commit's frontier, the others from
 * the Merkle node records (FORMAT.md §5.13): O(log n) reads, plus O(c)
 * records for the c commits after it. A file or batch without node records
 * (written before they existed) falls back to the block records of the
 * frontier subtree holding the block: up to n - 1 reads and hashes (0.2 s
 * for 2^20). The path is checked against the commit's root before it is
 * returned. Errors: MAIF_EINVAL, MAIF_ENOTFOUND (no such block in that
 * tree, or no such commit), MAIF_EUNSUPPORTED (a MAIF 2.1 file),
 * MAIF_EFORMAT, MAIF_EVERIFY (the blocks and stored nodes do not lead to
 * the signed root: the file is damaged), MAIF_ENOMEM; the message is on r
 * and in maif_last_errmsg(). Free with maif_proof_free. */
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
 * bytes, its signature (Ed25519, RSA-PSS or P-256, under the key the commit
 * carries, which must hash to its signer field), that its signer is pinned when opt pins
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
 * encrypted bytes.
 * Secrets in memory: identities, passphrases, data keys, key-encryption
 * keys and keystore master keys live in sodium_malloc'd memory (guard
 * pages, mlock'ed where allowed) and are wiped when freed, on every path;
 * key commitments and master-key ids are compared in constant time; the
 * library's own staging copies of plaintext (compressed before sealing,
 * decrypted before decompressing) are wiped before they are freed, and no
 * plaintext is released before its tag verifies. (A maif_block_draft's
 * copy of a payload is not wiped: free drafts of secrets promptly.) */

#define MAIF_CIPHER_XCHACHA20 1 /* XChaCha20-Poly1305 (the default); a payload over 64 KiB
                                   is stored as cipher 4, its STREAM form (64 KiB chunks,
                                   counter and last-chunk flag in the nonce; FORMAT.md §5.7) */
#define MAIF_CIPHER_CHACHA20  2 /* ChaCha20-Poly1305 (RFC 8439); past 64 KiB stored as cipher 5,
                                   its STREAM form under a per-block subkey */
#define MAIF_CIPHER_AES256GCM 3 /* AES-256-GCM, where the CPU has AES-NI; past 64 KiB stored as
                                   cipher 6, its STREAM form under a per-block subkey */
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
 * (maif_writer_add_stream) are sealed chunk by chunk, spooled first
 * (sealed) when their size is not known. Errors:
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

/* Cross-modal search: the blocks of one type (images, sounds, ...) ranked
 * for a text query through what is said about them in text, embedded with
 * model (as maif_embedder_open; NULL: "hashed") in one space: the caption
 * (trust 1.0 from the agent, 0.6 from a captioner), the other string
 * metadata values (0.5), and the text blocks linked to it by
 * "relationships" either way (0.8). MAIF_ACAM_FUSED fuses them with
 * maif_acam_fuse (params may be NULL); MAIF_ACAM_PLAIN is the baseline:
 * the same texts joined and embedded as one. Blocks with nothing said
 * about them are left out. Writes the k best (score descending) to hits
 * and their number to *n. Errors: MAIF_EINVAL, MAIF_ENOMEM, those of the
 * embedder. */
#define MAIF_ACAM_FUSED 1
#define MAIF_ACAM_PLAIN 2
typedef struct maif_acam_hit {
    uint64_t block;   /* the item's block number */
    float score;      /* cosine of the query with its joint (or joined) representation */
    size_t sources;   /* the texts it was known by */
} maif_acam_hit;
MAIF_API MAIF_NODISCARD int maif_acam_search(maif_reader *r, const char *model, const char *query, size_t qlen,
                                             uint32_t type, int mode, const maif_acam_params *params,
                                             maif_acam_hit *hits, size_t k, size_t *n);

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
#define MAIF_GRAPH_SIMILAR         0x4u /* link blocks whose embeddings (one row each, same model,
                                           stored as is; up to 20 000) have cosine >= 0.7:
                                           "similar_to", from the later to the earlier */
#define MAIF_GRAPH_SIMILAR_MIN 0.7
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
/* ------------------------------------------------- text understanding */
/* Language identification and sentiment of UTF-8 text (src/understand/,
 * docs/UNDERSTANDING.md). Both read their model from a file the caller
 * names (the library fetches nothing); both treat it as untrusted input. */

/* Largest language model file loaded. */
#define MAIF_LANGID_MAX (256u << 20)
/* Largest text analysed by one call. */
#define MAIF_TEXT_ANALYZE_MAX (16u << 20)
/* A buffer this size holds any label maif_text_language returns from a
 * model whose labels are language codes (lid.176: "en", "zh", "als"...). */
#define MAIF_LANG_LABEL_MAX 64

/* A loaded fastText supervised classifier (a .bin, or a product-quantised
 * .ftz such as lid.176.ftz), read-only once loaded: one handle may serve
 * any number of threads at once. (since 0.1.0) */
typedef struct maif_langid maif_langid;
/* Loads the fastText model at path (at most MAIF_LANGID_MAX bytes; read
 * whole, then checked as for maif_langid_load_mem). *out is freed with
 * maif_langid_free. Errors: MAIF_ENOTFOUND, MAIF_EIO, MAIF_ELIMIT, and
 * those of maif_langid_load_mem. */
MAIF_API MAIF_NODISCARD int maif_langid_load(maif_langid **out, const char *path);
/* Loads a fastText model from the n bytes at data (copied: data may be
 * freed after the call). Versions 11 and 12, supervised models with
 * hierarchical-softmax or softmax loss, dense or quantised matrices. Every
 * count and index is checked against the bytes present. Errors:
 * MAIF_EFORMAT (malformed, truncated, inconsistent), MAIF_EVERSION,
 * MAIF_EUNSUPPORTED (another model or loss), MAIF_ELIMIT, MAIF_ENOMEM,
 * MAIF_EINVAL. */
MAIF_API MAIF_NODISCARD int maif_langid_load_mem(maif_langid **out, const void *data, size_t n);
/* Frees a model; NULL is a no-op. */
MAIF_API void maif_langid_free(maif_langid *l);
/* The most likely label of the n bytes of UTF-8 text, scored exactly as
 * `fasttext predict MODEL - 1` scores one input line (the text is one
 * line: newlines inside it separate words; a "</s>" word ends it). The
 * label, without fastText's "__label__" prefix, is written NUL-terminated
 * to label (label_cap bytes); *confidence (may be NULL) gets its
 * probability as `fasttext predict-prob` prints it. Errors: MAIF_EINVAL
 * (NULL argument, or text not valid UTF-8), MAIF_ELIMIT (text over
 * MAIF_TEXT_ANALYZE_MAX, or a label that does not fit), MAIF_ENOTFOUND (no
 * word of the text reaches the model), MAIF_ENOMEM. */
MAIF_API MAIF_NODISCARD int maif_text_language(const maif_langid *l, const char *text, size_t n, char *label,
                                               size_t label_cap, double *confidence);

/* A VADER sentiment lexicon (vader_lexicon.txt: one "TOKEN<TAB>MEAN<TAB>..."
 * line per entry, a later duplicate replacing an earlier one). Read-only
 * once loaded; thread-safe. (since 0.1.0) */
typedef struct maif_vader maif_vader;
/* Largest lexicon file loaded. */
#define MAIF_VADER_MAX (16u << 20)
/* Loads the lexicon at path. Errors: MAIF_ENOTFOUND, MAIF_EIO, MAIF_ELIMIT,
 * and those of maif_vader_load_mem. */
MAIF_API MAIF_NODISCARD int maif_vader_load(maif_vader **out, const char *path);
/* Loads a lexicon from n bytes (copied). Errors: MAIF_EFORMAT (a line
 * without a token and a finite number), MAIF_ELIMIT, MAIF_ENOMEM,
 * MAIF_EINVAL. */
MAIF_API MAIF_NODISCARD int maif_vader_load_mem(maif_vader **out, const void *data, size_t n);
/* Frees a lexicon; NULL is a no-op. */
MAIF_API void maif_vader_free(maif_vader *v);
/* VADER scores, as the npm package vader-sentiment 1.1.3 returns them:
 * neg, neu, pos rounded to 3 decimals, compound (-1..1) to 4. */
typedef struct {
    double neg, neu, pos, compound;
} maif_sentiment;
/* VADER (Hutto & Gilbert 2014) polarity of the n bytes of UTF-8 text,
 * with the rules of the JavaScript package vader-sentiment 1.1.3 (English
 * only; other languages mostly score 0). Errors: MAIF_EINVAL (NULL
 * argument, text not valid UTF-8), MAIF_ELIMIT (text over
 * MAIF_TEXT_ANALYZE_MAX), MAIF_ENOMEM. */
MAIF_API MAIF_NODISCARD int maif_text_sentiment(const maif_vader *v, const char *text, size_t n, maif_sentiment *out);
/* ------------------------------------------------------------ semantic
 *
 * Embeddings, a vector index stored inside the artifact, and search by
 * meaning, by words, or both (docs/SEMANTIC.md explains the design,
 * docs/FORMAT.md §5.3 and §5.8 the blocks). Since 0.2.0.
 *
 * Embeddings are EMBD blocks (float32 rows) whose metadata names their
 * "model" and, for one row, the "source_block" (32 hex digits) whose
 * content they embed. An embedder turns text into a vector; it is chosen
 * by a model string:
 *   "hashed"          built in, no model files: hashed word, word-pair and
 *                     character-trigram features weighted by IDF learned
 *                     from the artifact (its latest HIDF block; uniform
 *                     weights when it has none), 256 dimensions, unit length
 *   "hashed:ID"       the same with the IDF table of block ID (32 hex)
 *   "use[:DIR]"       the Universal Sentence Encoder lite, 512-d (docs/EMBEDDERS.md);
 *                     without DIR, the folder "use/package" under $MAIF_MODELS,
 *                     $MAIF_CACHE/models or ~/.cache/maif/models
 *                     (scripts/fetch-models.sh fetches it)
 *   "glove:PATH"      SIF-averaged word vectors from a GloVe / word2vec /
 *                     fastText text file or wink's JSON */

#define MAIF_METRIC_COSINE 1 /* cosine similarity (vectors normalised) */
#define MAIF_METRIC_L2     2 /* squared Euclidean distance */
#define MAIF_METRIC_IP     3 /* inner product */
#define MAIF_QUANTIZE_NONE 0
#define MAIF_QUANTIZE_INT8 1 /* 8 bits a dimension (per-dimension min and step), exact re-rank */
#define MAIF_QUANTIZE_PQ   2 /* product quantisation (k-means codebooks stored in the
                                index), asymmetric distances, exact re-rank */

typedef struct maif_embedder maif_embedder;
/* Opens the embedder named by model (NULL: "hashed"). r (may be NULL) is
 * the artifact the hashed embedder takes its IDF table from; borrowed
 * only during the call. Errors: MAIF_EINVAL (unknown model),
 * MAIF_ENOTFOUND (hashed:ID names no block), MAIF_EFORMAT (a malformed
 * IDF table), MAIF_EUNSUPPORTED (a model not built in), MAIF_ENOMEM. */
MAIF_API MAIF_NODISCARD int maif_embedder_open(maif_embedder **out, const char *model, maif_reader *r);
/* Dimensions of its vectors (0 for NULL). */
MAIF_API size_t maif_embedder_dim(const maif_embedder *e);
/* The model id to record with its vectors ("hashed:ID" once an IDF table
 * was found); opening that id again gives the same embedder. Borrowed
 * until close. "" for NULL. */
MAIF_API const char *maif_embedder_model(const maif_embedder *e);
/* Embeds len bytes of UTF-8 text into out (maif_embedder_dim floats).
 * Errors: MAIF_EINVAL. Not thread-safe on one embedder. */
MAIF_API MAIF_NODISCARD int maif_embedder_embed(maif_embedder *e, const char *text, size_t len, float *out);
/* NULL is a no-op. */
MAIF_API void maif_embedder_close(maif_embedder *e);

/* Appends an EMBD block of one vector v (dim floats, all finite, 1 <= dim
 * <= 65536) with metadata {"count":1,"dimensions":dim,"dtype":"float32",
 * "model":model,"source_block":HEX(source)}; model and source may be NULL
 * (then the key is left out). This is how an agent stores its own
 * embeddings. Errors: as maif_writer_add; MAIF_EINVAL. */
MAIF_API MAIF_NODISCARD int maif_writer_add_embedding(maif_writer *w, const float *v, size_t dim, const char *model,
                                                      const uint8_t source[MAIF_ID_BYTES],
                                                      uint8_t id_out[MAIF_ID_BYTES]);
/* Embeds every readable TEXT block of the native artifact at path that
 * has no embedding of this model yet, appending the EMBD blocks in one
 * signed commit. For "hashed" in an artifact without an IDF table, one is
 * learned from all its texts first and stored as an HIDF block in the
 * same commit (the model id becomes "hashed:ID"). Encrypted texts are
 * skipped. *added (may be NULL) receives the number of blocks embedded.
 * opt: as maif_writer_open. Errors: those of maif_reader_open,
 * maif_writer_open, maif_embedder_open, maif_writer_add. */
MAIF_API MAIF_NODISCARD int maif_embed_file(const char *path, const char *model, const maif_key *key,
                                            const maif_options *opt, uint64_t *added);

/* ---- CSB: binding embeddings to their source (docs/CSB.md)
 *
 * A bound embedding's metadata carries "model_hash" (what the model
 * computes with: the IDF table's content hash, the model files' hash) and
 * "csb", the SHA-256 of "maif-csb-v1\0" || SHA-256(the source's content)
 * || model_hash || u32le(len(model)) || model || u64le(dim) || the vector's
 * float32 LE bytes. maif_verify_* recompute it for every bound embedding
 * of a native artifact: a vector moved onto another source, altered, or
 * relabelled with another model is an error ("csb"), even in a file
 * re-signed by someone who did not recompute the binding. */

/* The commitment above into out. Errors: MAIF_EINVAL, MAIF_ENOMEM. */
MAIF_API MAIF_NODISCARD int maif_csb_commit(const uint8_t source_hash[MAIF_HASH_BYTES], const char *model,
                                            const uint8_t model_hash[MAIF_HASH_BYTES], const float *v, size_t dim,
                                            uint8_t out[MAIF_HASH_BYTES]);
/* The hash of what e computes with (its model_hash). */
MAIF_API void maif_embedder_model_hash(const maif_embedder *e, uint8_t out[MAIF_HASH_BYTES]);
/* As maif_writer_add_embedding, for e's vector v (maif_embedder_dim(e)
 * floats) of the source block's content source_data (source_size bytes,
 * the bytes that were embedded), with model, model_hash and the CSB
 * commitment in the metadata. Errors: as maif_writer_add_embedding. */
MAIF_API MAIF_NODISCARD int maif_writer_add_embedding_bound(maif_writer *w, const maif_embedder *e, const float *v,
                                                            const uint8_t source[MAIF_ID_BYTES],
                                                            const void *source_data, size_t source_size,
                                                            uint8_t id_out[MAIF_ID_BYTES]);

/* Builds an HNSW index over every embedding of model (NULL: the model of
 * the last EMBD block) and appends it as one VIDX block in a signed
 * commit (FORMAT.md §5.8). opt: MAIF_OPT_INDEX_M, _EF_CONSTRUCTION,
 * _METRIC, _QUANTIZE, _PQ_M, _THREADS, and those of maif_writer_open. The
 * stored index takes about 4 * (dim + 2M + 2) bytes a vector (int8: dim +
 * 4 * (2M + 2); PQ: pq_m + 4 * (2M + 2) plus 1 KiB a dimension of
 * codebooks) plus 24 bytes per run of rows of one embedding block; building
 * it needs about twice that (the graph is built in the version-1 layout
 * and rewritten) plus the id table.
 * *indexed (may be NULL) receives the vectors indexed. Errors:
 * MAIF_ENOTFOUND (no embeddings), MAIF_EINVAL (PQ sub-spaces above the
 * dimensions),
 * MAIF_ESTATE (another writer appended meanwhile), MAIF_ELIMIT, those of
 * the reader and writer. */
MAIF_API MAIF_NODISCARD int maif_index_build(const char *path, const char *model, const maif_key *key,
                                             const maif_options *opt, uint64_t *indexed);

/* Builds the full-text (BM25) index over every plain text block of the
 * artifact and appends it as one TIDX block in a signed commit
 * (FORMAT.md §5.14): a sorted term dictionary of Snowball English stems,
 * posting lists and document lengths, which text and hybrid searches read
 * in place from the map. Encrypted text blocks are never indexed (the
 * index is public, chained bytes: their words would leak and would
 * outlive a crypto-shredding); the index lists them, and a reader that can
 * decrypt them scans them at query time. Plain texts are indexed whatever
 * their "privacy" label (their words are already in the file in clear;
 * the label stays a search filter). Text blocks added later are scanned
 * until the next build. opt: those of maif_writer_open. *indexed (may be
 * NULL) receives the texts indexed. Building needs about 12 bytes a
 * (text, distinct stem) pair plus the texts' distinct stems. Errors:
 * MAIF_ENOTFOUND (no plain text block), MAIF_ESTATE (another writer
 * appended meanwhile), MAIF_ELIMIT (over 2^32 - 1 texts or terms, or
 * 4 GiB of stems), those of the reader and writer. */
MAIF_API MAIF_NODISCARD int maif_index_build_text(const char *path, const maif_key *key, const maif_options *opt,
                                                  uint64_t *indexed);

typedef struct maif_index maif_index;
/* Opens the vector index of r for model (NULL: the latest index's model,
 * else the model of the last EMBD block). The graph is used in place from
 * r's map: no load, no copy; the cost is the walk back from the last
 * block to the index, i.e. O(blocks added since it was built), whose
 * embeddings (the tail) are copied and searched exactly. With no index
 * every embedding is tail. An index whose header is malformed fails here
 * (MAIF_EFORMAT); damage inside the graph fails the search that meets it.
 * The full-text index (the latest TIDX block, maif_index_build_text) is
 * found on the first text query or maif_index_get_info, by the walk back
 * to it; a damaged one never fails the open (text queries then scan).
 * r is borrowed and must outlive the index. An index, and a maif_search,
 * is used by one thread at a time (it opens its embedder on the first text
 * query); threads open one index each on a shared reader. Errors:
 * MAIF_EFORMAT, MAIF_ENOMEM, MAIF_EINVAL. */
MAIF_API MAIF_NODISCARD int maif_index_open(maif_index **out, maif_reader *r, const char *model);
typedef struct maif_index_info {
    const char *model;        /* borrowed until close; "" for vectors with no model */
    size_t dimensions;        /* 0: no embeddings */
    int metric;               /* MAIF_METRIC_* */
    int64_t index_block;      /* the VIDX block, or -1 */
    uint64_t indexed;         /* vectors in the graph */
    uint64_t tail;            /* vectors after it, searched exactly */
    uint64_t covered_blocks;  /* blocks before the index */
    unsigned m, ef_construction;
    uint64_t index_bytes;     /* VIDX payload */
    int quantize;             /* MAIF_QUANTIZE_* of the graph's vectors */
    const char *kernels;      /* "avx512", "avx2" or "portable": the distance kernels in use */
    int64_t text_index_block; /* the latest TIDX block (full-text index), or -1 */
    uint64_t text_indexed;    /* texts it holds (0 when damaged) */
    uint64_t text_covered_blocks; /* blocks it covers; text blocks from here on are scanned */
    uint64_t text_index_bytes;    /* TIDX payload */
    const char *text_error;   /* NULL, or why the TIDX cannot be used (damaged): text
                                 queries then scan every text (borrowed until close) */
} maif_index_info;
/* Errors: MAIF_EINVAL. */
MAIF_API MAIF_NODISCARD int maif_index_get_info(const maif_index *ix, maif_index_info *out);
/* NULL is a no-op. */
MAIF_API void maif_index_close(maif_index *ix);

/* A query and, after maif_search_run, its results. */
typedef struct maif_search maif_search;

/* Parameters (maif_search_set), int64_t each: */
#define MAIF_SEARCH_K          1 /* results wanted, 1..10000 (default 10) */
#define MAIF_SEARCH_MODE       2 /* MAIF_MODE_*; 0 (default): hybrid for a text query,
                                    vector for a vector query */
#define MAIF_SEARCH_EF         3 /* HNSW beam width, 1..100000; 0 (default) = max(4k, 64) */
#define MAIF_SEARCH_TYPE       4 /* keep only results of this block type; 0 = any */
#define MAIF_SEARCH_SINCE_US   5 /* keep results with timestamp >= this (0: no bound) */
#define MAIF_SEARCH_UNTIL_US   6 /* keep results with timestamp <= this (0: no bound) */
#define MAIF_SEARCH_PRIVACY    7 /* keep results whose "privacy" is at most this level:
                                    1 public, 2 internal, 3 confidential, 4 restricted
                                    (no "privacy" key counts as public); 0 = any */
#define MAIF_SEARCH_SUPERSEDED 8 /* 1: include versions a later block supersedes (default 0) */
#define MAIF_SEARCH_HALF_LIFE_S 9 /* recency: scores times 2^(-age / half-life) (seconds,
                                     0 = off); ranks the vector candidates again */
#define MAIF_SEARCH_EXACT     10 /* 1: scan every vector instead of the graph (default 0) */
#define MAIF_SEARCH_VECTOR_WEIGHT 11 /* hybrid: the vector list's weight in the fusion, in
                                        percent of the text list's, 1..10000; 0 (default) =
                                        100 (equal weights), under either fusion rule */
#define MAIF_SEARCH_FUSION    12 /* hybrid: MAIF_FUSION_*; 0 (default) = MAIF_FUSION_DBSF */
#define MAIF_MODE_VECTOR 1
#define MAIF_MODE_TEXT   2 /* BM25 over TEXT blocks, Snowball English stemming */
#define MAIF_MODE_HYBRID 3 /* the best max(4k, 50) of the vector and the text list,
                              fused by MAIF_SEARCH_FUSION (docs/SEMANTIC.md) */
/* Fusion rules of hybrid search (MAIF_SEARCH_FUSION, since 0.2.0): */
#define MAIF_FUSION_DBSF 1 /* distribution-based score fusion: each list's scores
                              mapped by its own mean +- 3 standard deviations
                              (over its best 50) to [0, 1], then w * vector + text;
                              a result missing from a list gets nothing from it */
#define MAIF_FUSION_RRF  2 /* reciprocal rank fusion, w/(60 + rank) + 1/(60 + rank) */

/* Errors: MAIF_ENOMEM, MAIF_EINVAL. */
MAIF_API MAIF_NODISCARD int maif_search_create(maif_search **out);
/* NULL is a no-op. */
MAIF_API void maif_search_free(maif_search *s);
/* Sets a MAIF_SEARCH_* parameter. Errors: MAIF_EINVAL (unknown, out of range). */
MAIF_API MAIF_NODISCARD int maif_search_set(maif_search *s, int param, int64_t value);
/* Adds a metadata condition every result must meet (at most 16): "key=value"
 * (a string, or a number compared as a number), "key>=N", "key<=N",
 * "key>N", "key<N" (numbers; a missing or non-numeric value fails). The
 * key is a top-level key of the result block's metadata. Errors:
 * MAIF_EINVAL (malformed), MAIF_ELIMIT. */
MAIF_API MAIF_NODISCARD int maif_search_where(maif_search *s, const char *expr);
/* The query as text (copied; embedded with the index's model for the
 * vector part), or as a vector (copied; dim must match the index). Each
 * replaces the other. Errors: MAIF_EINVAL, MAIF_ENOMEM. */
MAIF_API MAIF_NODISCARD int maif_search_set_text(maif_search *s, const char *text, size_t len);
MAIF_API MAIF_NODISCARD int maif_search_set_vector(maif_search *s, const float *v, size_t dim);
/* Runs the query on ix (its reader for text). Filters are applied while
 * the graph is searched, not afterwards: nodes that fail them are still
 * walked through but never returned. Text (BM25) uses the stored TIDX for
 * the texts it covers and scans the rest (texts added after it; encrypted
 * ones this reader can open), with the same results as a scan of every
 * text; a damaged TIDX is reported in maif_index_info.text_error and the
 * query scans instead. Results from the graph and from the
 * exact scan of the tail are merged into one list. Errors: MAIF_EINVAL
 * (no query; vector mode without embeddings; a vector of the wrong
 * dimension), MAIF_EFORMAT (a damaged index: the message names the node),
 * MAIF_ENOMEM, and those of the embedder. */
MAIF_API MAIF_NODISCARD int maif_search_run(maif_search *s, maif_index *ix);
/* Results of the last run, best first. */
MAIF_API size_t maif_search_count(const maif_search *s);
typedef struct maif_search_hit {
    uint64_t block;          /* the result: the block an embedding embeds (its
                                source_block), or the EMBD block itself, or a text block */
    uint8_t id[MAIF_ID_BYTES];
    uint32_t type;
    uint64_t timestamp_us;
    double score;            /* higher is better: cosine similarity, inner product or
                                minus squared L2 distance (vector), BM25 (text), or
                                the fused 1/(60 + rank) sum (hybrid); times the decay */
    int64_t embedding_block; /* the EMBD block that matched, or -1 (a text-only match) */
    uint32_t row;            /* its row */
    const char *snippet;     /* up to 160 bytes of the result's text, cut at a UTF-8
                                boundary, not NUL-terminated; "" when not text */
    size_t snippet_size;
} maif_search_hit;
/* Result i (borrowed: valid until the next maif_search_run or free).
 * Errors: MAIF_ENOTFOUND past the end, MAIF_EINVAL. */
MAIF_API MAIF_NODISCARD int maif_search_result(const maif_search *s, size_t i, maif_search_hit *out);
/* Sealed metadata (FORMAT.md §5.7): adds spec's block (as
 * maif_writer_add) with private_json (a JSON object, at most 64 KiB) sealed
 * into one public metadata field "sealed_meta", under a key derived from
 * the data key w's blocks are encrypted with, bound to this block (file,
 * id, type, key id). The rest of spec's metadata stays public (and must
 * not have "sealed_meta"). Errors: MAIF_ESTATE (encryption is off),
 * MAIF_EJSON, MAIF_ELIMIT, those of maif_writer_add. */
MAIF_API MAIF_NODISCARD int maif_writer_add_sealed(maif_writer *w, const maif_block_spec *spec,
                                                   const char *private_json, size_t n,
                                                   uint8_t id_out[MAIF_ID_BYTES]);
/* Opens block index's sealed metadata into dst (cap bytes, NUL-terminated
 * canonical JSON); *len receives its length without the NUL (also when
 * cap is too small: MAIF_ELIMIT). Uses r's keyring and access policy
 * subject like maif_reader_block_decode. Errors: MAIF_ENOTFOUND (none),
 * MAIF_EACCESS, MAIF_EVERIFY (fails authentication), MAIF_EFORMAT,
 * MAIF_ELIMIT, MAIF_ENOMEM, MAIF_EINVAL. */
MAIF_API MAIF_NODISCARD int maif_reader_sealed_meta(maif_reader *r, uint64_t index, char *dst, size_t cap,
                                                    size_t *len);

/* ---------------------------------------- recipients, rotation, audit
 *
 * Control blocks (docs/FORMAT.md §5.9) are stored as is and carry their
 * own Ed25519 signature in their metadata, {"actor": hex public key,
 * "sig": hex}, over "MAIF-CONTROL-V1\0" ‖ file_id ‖ type ‖ payload, on top
 * of the signed commit that seals them like any block. */
#define MAIF_TYPE_KEYWRAP MAIF_FOURCC('K', 'E', 'Y', 'W') /* a data key wrapped for its recipients */
#define MAIF_TYPE_AUDIT   MAIF_FOURCC('A', 'U', 'D', 'T') /* an audit record: canonical JSON {"action": ...} */
#define MAIF_TYPE_ERASURE MAIF_FOURCC('E', 'R', 'A', 'S') /* an erasure record: the blocks shredded */
#define MAIF_TYPE_POLICY  MAIF_FOURCC('P', 'O', 'L', 'Y') /* an access policy (JSON) */

/* Appends a signed audit block (type AUDT) to w's batch: its payload is
 * the canonical JSON object fields_json (n bytes; NULL/0 for {}) with
 * "action": action added (1 to 32 of a-z and '-'; the library writes
 * "grant", "revoke", "rotate", "shred", "policy", "read"), signed by w's
 * key. It is part of the batch: commit to keep it. id_out (may be NULL)
 * receives its id. Errors: MAIF_EINVAL, MAIF_EJSON (not an object, or it
 * sets "action"), MAIF_ELIMIT, those of maif_writer_add. */
MAIF_API MAIF_NODISCARD int maif_writer_audit(maif_writer *w, const char *action, const char *fields_json, size_t n,
                                              uint8_t id_out[MAIF_ID_BYTES]);
/* Checks the own signature of control block index (AUDT, ERAS or POLY)
 * against its file's id and payload; actor receives the key that signed
 * it. Errors: MAIF_EVERIFY (it does not check), MAIF_EINVAL (another
 * type), MAIF_ENOTFOUND, MAIF_EFORMAT. */
MAIF_API MAIF_NODISCARD int maif_reader_check_signed(maif_reader *r, uint64_t index, uint8_t actor[MAIF_PUBKEY_BYTES]);
/* Applies r's grants and revocations to kr: every audit block of r whose
 * signature checks, in order, "grant" adds its "recipient" to kr's
 * recipients and "revoke" removes it; a key revoked (and not granted
 * again since) is then refused by maif_keyring_add_recipient
 * (MAIF_EACCESS), so blocks encrypted with kr are never wrapped for it.
 * When r's current policy names keys with the role admin, only their
 * grants and revocations count. Errors: MAIF_EINVAL, MAIF_ELIMIT,
 * MAIF_EACCESS (r's policy blocks cannot be trusted, FORMAT.md §5.11). */
MAIF_API MAIF_NODISCARD int maif_keyring_follow(maif_keyring *kr, maif_reader *r);
/* Rotation: for every data key of r (each chain of key-wrap blocks, by
 * supersedes) that kr's identities or passphrases open, appends to w's
 * batch a new key-wrap block superseding the newest version, wrapping the
 * same data key for kr's recipients and passphrases only (fresh ephemeral
 * keys and salts). Payloads are not re-encrypted: a reader tries the
 * newest versions first and any version opens. r and w are on the same
 * artifact (r opened before w's batch). *rewrapped / *unopened (may be
 * NULL) receive how many keys were re-wrapped / could not be opened with
 * kr. Errors: MAIF_EINVAL (no recipient or passphrase), MAIF_ENOMEM,
 * those of maif_writer_add. */
MAIF_API MAIF_NODISCARD int maif_keyring_rewrap(maif_keyring *kr, maif_reader *r, maif_writer *w, uint64_t *rewrapped,
                                                uint64_t *unopened);

/* ------------------------------------------------ crypto-shredding
 *
 * A shreddable block is sealed under its own data key that is never
 * written into the artifact: it lives in a keystore file (by convention
 * FILE.keystore), each entry sealed under a master key kept in another
 * file (by convention in the key holder's $MAIF_HOME, never beside the
 * artifact). Erasing destroys the block's key AND replaces the master key,
 * so copies of the keystore taken before (backups, journals) open nothing.
 * docs/FORMAT.md §5.10 says exactly what is and is not guaranteed. */
typedef struct maif_keystore maif_keystore;
#define MAIF_SHRED_PUNCH 1u /* also overwrite the ciphertext with zeros and punch its range */

/* Opens the keystore at path whose master key file is master_path; with
 * create and no file at path, creates an empty one with a fresh master
 * key (mode 0600; master_path's directory must exist). Holds every data
 * key in locked memory, wiped by maif_keystore_close. Errors:
 * MAIF_ENOTFOUND (no keystore, create 0), MAIF_EKEY (the master key is
 * missing or was replaced: nothing in the file opens), MAIF_EACCESS (the
 * master key is on a token: maif_keystore_open_token), MAIF_EFORMAT,
 * MAIF_EVERIFY (an entry fails authentication), MAIF_EIO, MAIF_ENOMEM. */
MAIF_API MAIF_NODISCARD int maif_keystore_open(maif_keystore **out, const char *path, const char *master_path,
                                               int create);
/* The PKCS#11 token that holds a keystore's master key. module: the
 * module's path; token: the token's label (at most 32 bytes); pin: the
 * user PIN. Opening an existing keystore, module and token may be NULL:
 * the master file names them. */
typedef struct maif_keystore_token {
    const char *module;
    const char *token;
    const char *pin;
} maif_keystore_token;
/* maif_keystore_open, with the master key held by a token: creating (tok
 * with module, token and pin), the master key is sealed (AES-256-GCM) under a fresh
 * AES key generated on the token, sensitive and not extractable, and the
 * master file holds only that sealed form; each later master key (every
 * erasure, maif_keystore_rekey) gets a new token key and the old one is
 * destroyed on the token, so a master file or keystore copied before
 * opens nothing, PIN or not. The session stays open (logged in) until
 * maif_keystore_close. Creating with tok NULL (or its module and token
 * NULL) makes a plain keystore; opening, a plain keystore ignores tok, and
 * one on a token needs tok->pin. Errors: those of maif_keystore_open; MAIF_EACCESS (the master key
 * is on a token and no PIN was given; a wrong or locked PIN; no such
 * token; a token call failed), MAIF_EKEY (the token key is gone: the
 * keystore opens nothing; creating: the token refused a call),
 * MAIF_EINVAL (a bad module or label), MAIF_ENOTFOUND (no module file). */
MAIF_API MAIF_NODISCARD int maif_keystore_open_token(maif_keystore **out, const char *path, const char *master_path,
                                                     const maif_keystore_token *tok, int create);
/* Wipes and frees. NULL is a no-op. */
MAIF_API void maif_keystore_close(maif_keystore *ks);
/* Number of data keys held. */
MAIF_API size_t maif_keystore_count(const maif_keystore *ks);
/* Replaces the master key (the keystore is rewritten under a new one and
 * the old master file is overwritten, then replaced; on a token, the old
 * token key is destroyed, with any other token key of this keystore an
 * interrupted erasure left there). Errors: MAIF_EIO, MAIF_EKEY (a token
 * call failed; if the keystore was rewritten, the old token key may
 * remain until the next rekey). */
MAIF_API MAIF_NODISCARD int maif_keystore_rekey(maif_keystore *ks);
/* Seals w's blocks added from now on with cipher under a fresh data key
 * stored (durably, before this returns) in ks and not in the artifact: no
 * key-wrap block. Every block sealed under one key is erased together, so
 * call it before each block to shred separately (maif add --shreddable
 * does). ks must outlive w's use of it. Errors: MAIF_EINVAL,
 * MAIF_EUNSUPPORTED, MAIF_ELIMIT (2^20 keys), MAIF_EIO. */
MAIF_API MAIF_NODISCARD int maif_writer_encrypt_shreddable(maif_writer *w, maif_keystore *ks, int cipher);
/* Lets readers given kr open blocks whose keys ks holds (ks borrowed; NULL
 * removes it). Keys are looked up in ks's memory: do not add keys to ks
 * (maif_writer_encrypt_shreddable) or shred with it while other threads
 * decode through it. Errors: MAIF_EINVAL. */
MAIF_API MAIF_NODISCARD int maif_keyring_add_keystore(maif_keyring *kr, maif_keystore *ks);
/* Erases blocks[0..n) of r (n 1..4096; each sealed with a key of ks), and
 * every other block sealed under the same keys: (1) appends to w a signed
 * erasure record (type ERAS, FORMAT.md §5.10) naming each erased block's
 * id and content hash, and commits w's batch; (2) deletes the keys and
 * rewrites ks under a new master key; (3) with MAIF_SHRED_PUNCH,
 * overwrites their stored bytes with zeros and punches the range out
 * (fallocate PUNCH_HOLE, where the file system can); the verifier then
 * accepts those payloads only because the erasure record names them. r
 * and w are on the same artifact, r opened before this batch. *erased
 * (may be NULL) receives the number of blocks erased. A failure after (1)
 * leaves the erasure recorded: call again. Errors: MAIF_EINVAL (a block
 * not encrypted with a key of ks), MAIF_ELIMIT, MAIF_EIO, MAIF_ENOMEM,
 * those of maif_writer_commit. */
MAIF_API MAIF_NODISCARD int maif_keystore_shred(maif_keystore *ks, maif_reader *r, maif_writer *w,
                                                const uint64_t *blocks, size_t n, unsigned flags, uint64_t *erased);

/* An erasure record's contents (type ERAS, FORMAT.md §5.10), as a view
 * into its block's payload: valid while that block view is. Entry i is
 * entries + i * MAIF_ERASURE_ENTRY_BYTES: the erased block's id (16
 * bytes) then its content hash (32). */
#define MAIF_ERASURE_ENTRY_BYTES 48
typedef struct maif_erasure {
    int punched;            /* 1: the erased blocks' stored bytes were overwritten */
    uint32_t count;         /* blocks named, 0..4096 */
    const uint8_t *entries; /* count entries, borrowed from the block */
} maif_erasure;
/* Parses b as an erasure record into *out. Errors: MAIF_EINVAL (NULL, or
 * b not of type ERAS), MAIF_EFORMAT (not an erasure record of §5.10: a
 * codec or cipher, a bad magic, flags, count over 4096, or a size that
 * is not 9 + 48 × count). Since 0.3.0. */
MAIF_API MAIF_NODISCARD int maif_erasure_parse(const maif_block *b, maif_erasure *out);

/* ------------------------------------------ access policy and levels
 *
 * A policy (docs/FORMAT.md §5.11) is a JSON object in a signed control
 * block of type POLY; each new one supersedes the one before:
 *   {"level": L,                          the artifact's security level
 *    "signers": [HEX64, ...],             pinned signers (top_secret needs them)
 *    "roles": {"NAME": [HEX64, ...], ...}, which keys hold which roles
 *    "rules": [{"role": NAME, "levels": [L, ...], "types": [T, ... | "*"],
 *               "purposes": [P, ...], "hours": [FROM, TO],
 *               "not_before": US, "expires": US}, ...],
 *    "audit_reads": BOOL}
 * Levels: public < internal < confidential < secret < top_secret. A
 * block's level is its metadata "level" (an unknown one counts as
 * top_secret), never below the artifact's. Rules: confidential and above
 * must be encrypted; top_secret must use XChaCha20-Poly1305 and a signer
 * the policy pins; secret and above (or any level with "audit_reads")
 * are read only when the read is audited. A read is allowed when one rule
 * of a role the reader's key holds matches the block's type and level,
 * the stated purpose (if the rule lists purposes), the UTC hour and the
 * rule's validity window. Control blocks (KEYW, AUDT, ERAS, POLY) are
 * public. Where this is cryptographic and where it is only the honest
 * reader's doing: FORMAT.md §5.11. */
typedef struct maif_policy maif_policy;
#define MAIF_POLICY_MAX 65536 /* bytes of policy JSON */
#define MAIF_LEVEL_PUBLIC       0
#define MAIF_LEVEL_INTERNAL     1
#define MAIF_LEVEL_CONFIDENTIAL 2
#define MAIF_LEVEL_SECRET       3
#define MAIF_LEVEL_TOP_SECRET   4

/* "public", ... (either case) -> MAIF_LEVEL_*, or -1. */
MAIF_API int maif_level_parse(const char *s);
/* "public", ..., "top_secret"; "unknown" otherwise. Static text. */
MAIF_API const char *maif_level_name(int level);
/* Parses and checks a policy strictly (unknown keys, wrong types, a rule
 * naming an undefined role, more than 64 roles / 256 keys a role / 256
 * rules are errors). Errors: MAIF_EJSON (the message says what),
 * MAIF_ELIMIT (over MAIF_POLICY_MAX), MAIF_ENOMEM, MAIF_EINVAL. */
MAIF_API MAIF_NODISCARD int maif_policy_parse(maif_policy **out, const char *json, size_t n);
MAIF_API void maif_policy_free(maif_policy *p);
/* The artifact level it sets (MAIF_LEVEL_*). */
MAIF_API int maif_policy_level(const maif_policy *p);
/* 1 if pk holds role in p. */
MAIF_API int maif_policy_has_role(const maif_policy *p, const uint8_t pk[MAIF_PUBKEY_BYTES], const char *role);
/* 1 if p names at least one key with the role "admin": then only such a
 * key may set the next policy. */
MAIF_API int maif_policy_has_admins(const maif_policy *p);
/* 1 if some rule of a role pk holds covers type at level (conditions of
 * purpose and time aside): whom `maif add --encrypt` wraps keys for. */
MAIF_API int maif_policy_may_read_level(const maif_policy *p, const uint8_t pk[MAIF_PUBKEY_BYTES], uint32_t type,
                                        int level);
/* One read to decide. */
typedef struct maif_access_request {
    const uint8_t *subject; /* MAIF_PUBKEY_BYTES: the reader's key */
    const char *purpose;    /* or NULL */
    uint64_t time_us;       /* when (µs since the epoch, UTC) */
    uint32_t type;          /* the block's type */
    int level;              /* the block's level (raised to the artifact's) */
    int audited;            /* 1 if the read is recorded in the audit trail */
} maif_access_request;
/* MAIF_OK if p allows the read, else MAIF_EACCESS with one line in why
 * (cap bytes; may be NULL) naming the reason. MAIF_EINVAL for NULLs. */
MAIF_API int maif_policy_decide(const maif_policy *p, const maif_access_request *q, char *why, size_t cap);
/* The level rules on writing spec with cipher (MAIF_CIPHER_*, 0 none) by
 * signer: MAIF_OK, or MAIF_EACCESS with the reason in why. Control blocks
 * always pass. Every writer applies it itself: when the committed
 * artifact holds a policy block, each add (maif_writer_add, _borrowed,
 * _stream, _fd, _async, drafts) is checked against the current policy
 * with the writer's cipher and key, and refused with MAIF_EACCESS ("...:
 * the policy refuses it: ... (block not added)") before anything is
 * written. The policy is established on the first add after open and
 * after each commit of a policy block (a pass over the block headers,
 * about 26 ms per million blocks; a later writer of the same artifact in
 * the process passes only over the blocks added since); a
 * policy block added in the pending batch rules from its commit on.
 * Fail-closed: policy blocks that establish no current policy refuse
 * every add but control blocks'. */
MAIF_API int maif_policy_check_write(const maif_policy *p, const maif_block_spec *spec, int cipher,
                                     const uint8_t signer[MAIF_PUBKEY_BYTES], char *why, size_t cap);
/* The artifact's current policy (free with maif_policy_free); *index (may
 * be NULL) receives its block. Fail-closed: MAIF_EACCESS when a policy
 * block's own signature fails, it does not supersede the one before, its
 * signer is not an admin of the one before (when that names admins), or
 * its JSON is not a valid policy. MAIF_ENOTFOUND: no policy. */
MAIF_API MAIF_NODISCARD int maif_reader_policy(maif_reader *r, maif_policy **out, uint64_t *index);
/* Cryptography behind the policy: drops from kr's recipients every key
 * that no rule of p lets read a block of type at level (whatever the
 * conditions), so blocks encrypted with kr are not wrapped for it.
 * *dropped (may be NULL) receives how many. Errors: MAIF_EACCESS (no
 * recipient or passphrase is left), MAIF_EINVAL. */
MAIF_API MAIF_NODISCARD int maif_keyring_restrict(maif_keyring *kr, const maif_policy *p, uint32_t type, int level,
                                                  size_t *dropped);
/* Appends a policy block (json checked by maif_policy_parse, stored in
 * canonical form, signed by w's key) superseding r's current one; r is
 * the same artifact. Commit to keep it. Errors: those of
 * maif_policy_parse, MAIF_EACCESS (the current policy names admins and
 * w's key is not one, or it cannot be established), maif_writer_add's. */
MAIF_API MAIF_NODISCARD int maif_writer_set_policy(maif_writer *w, maif_reader *r, const char *json, size_t n,
                                                   uint8_t id_out[MAIF_ID_BYTES]);
/* Whether subject may read block index now under r's current policy
 * (MAIF_OK without a policy; the policy is established on each call, a
 * pass over the block headers). audited: the caller records the read in the
 * audit trail (maif_writer_audit "read"). Errors: MAIF_EACCESS (denied:
 * maif_reader_errmsg says why), MAIF_ENOTFOUND, MAIF_EINVAL. */
MAIF_API MAIF_NODISCARD int maif_reader_check_access(maif_reader *r, uint64_t index,
                                                     const uint8_t subject[MAIF_PUBKEY_BYTES], const char *purpose,
                                                     int audited);
/* Makes r enforce its policy: from now on maif_reader_block_decode checks
 * the read by subject (copied; purpose 1..64 bytes or NULL; audited as
 * above) as maif_reader_check_access does, and returns MAIF_EACCESS
 * without releasing anything when denied. The policy is read once, here
 * (a policy that cannot be trusted denies every read): set the subject
 * again after maif_reader_refresh. maif_reader_block still shows stored
 * bytes, which for an unencrypted block are its payload: only encryption
 * keeps those from a reader that does not ask. pk NULL removes the check.
 * Errors: MAIF_EINVAL, MAIF_ENOMEM. */
MAIF_API MAIF_NODISCARD int maif_reader_set_subject(maif_reader *r, const uint8_t pk[MAIF_PUBKEY_BYTES],
                                                    const char *purpose, int audited);
/* ------------------------------------------------ PII detection (since 0.2.0)
 *
 * A scanner finds personal data in UTF-8 text with hand-written scanners
 * (no regular expressions): e-mail addresses, phone numbers (E.164 "+CC ..."
 * and "00CC ...", and North American / separated national forms), payment
 * card numbers (known IIN prefix, 13..19 digits, Luhn), IBANs (per-country
 * length and ISO 7064 mod-97), US SSNs (dashed; area 000, 666 and 900-999,
 * group 00 and serial 0000 are never issued and are not reported), IPv4
 * and IPv6 addresses, MAC addresses, dates of birth (a date within 40
 * bytes after "born", "DOB", "date of birth", "birthday" ...) and person
 * names in context ("my name is ...", "Dear ...", "Mr./Ms./Dr. ...",
 * "Hi/Hello ...", "name: ..."), plus custom patterns (PCRE2, JIT, bounded
 * match limits) loaded from a configuration text. docs/PRIVACY_ANALYTICS.md
 * has the rules and their measured precision and recall.
 *
 * A scanner is used by one thread at a time; findings are borrowed views
 * into the scanner, valid until the next maif_pii_scan or
 * maif_pii_anonymize on it or maif_pii_scanner_free. */

#define MAIF_PII_EMAIL  1
#define MAIF_PII_PHONE  2
#define MAIF_PII_CARD   3
#define MAIF_PII_IBAN   4
#define MAIF_PII_SSN    5
#define MAIF_PII_IPV4   6
#define MAIF_PII_IPV6   7
#define MAIF_PII_MAC    8
#define MAIF_PII_DOB    9
#define MAIF_PII_NAME   10
#define MAIF_PII_CUSTOM 11 /* a pattern of the configuration; its name is in label */
#define MAIF_PII_TYPE_MAX 11

/* Anonymisation modes. */
#define MAIF_PII_REDACT 1 /* the value becomes "[TYPE]" (custom: "[NAME]") */
#define MAIF_PII_MASK   2 /* every letter and digit but the last four becomes '*' */
#define MAIF_PII_PSEUDO 3 /* "<TYPE_" + 16 hex of HMAC-SHA256(key, type, normalised value) + ">" */

/* Bytes of a pseudonymisation key. */
#define MAIF_PII_KEY_BYTES 32
/* Limits of a pattern configuration: patterns, bytes of the text, bytes
 * of one pattern, and PCRE2's match limit (steps) and depth limit per
 * match attempt. A custom pattern hitting a limit stops matching in that
 * text (it never hangs); maif_pii_scan reports it with MAIF_ELIMIT. */
#define MAIF_PII_PATTERNS_MAX 64
#define MAIF_PII_CONFIG_MAX   65536
#define MAIF_PII_PATTERN_MAX  1024
#define MAIF_PII_MATCH_LIMIT  100000
#define MAIF_PII_DEPTH_LIMIT  1000
/* Longest text one call scans. */
#define MAIF_PII_TEXT_MAX ((size_t)1 << 30)

typedef struct maif_pii_finding {
    int type;           /* MAIF_PII_* */
    size_t offset;      /* first byte in the scanned text */
    size_t length;      /* bytes */
    const char *text;   /* the scanned text + offset (borrowed from the caller: valid while it is) */
    const char *label;  /* "email", "phone", ... or the custom pattern's name; valid until free */
} maif_pii_finding;

typedef struct maif_pii_scanner maif_pii_scanner;

/* A scanner with every built-in type on and no custom pattern.
 * Errors: MAIF_ENOMEM, MAIF_EINVAL. */
MAIF_API MAIF_NODISCARD int maif_pii_scanner_create(maif_pii_scanner **out);
/* NULL is a no-op. Wipes the pseudonymisation key. */
MAIF_API void maif_pii_scanner_free(maif_pii_scanner *s);
/* Turns built-in types on or off: bit (1 << MAIF_PII_x) for each type
 * wanted (default: all). Errors: MAIF_EINVAL. */
MAIF_API MAIF_NODISCARD int maif_pii_scanner_set_types(maif_pii_scanner *s, uint32_t mask);
/* Loads custom patterns from a configuration text (len bytes, at most
 * MAIF_PII_CONFIG_MAX), replacing any loaded before. One pattern a line:
 *     NAME = PCRE2-PATTERN
 * NAME is 1..32 of [a-z0-9_-]; blank lines and lines starting with '#'
 * are ignored; the pattern is compiled UTF-8 (PCRE2_UTF | PCRE2_UCP),
 * JIT-compiled where the platform allows. At most MAIF_PII_PATTERNS_MAX
 * patterns of MAIF_PII_PATTERN_MAX bytes. Errors: MAIF_EINVAL (a bad line
 * or pattern: the message names the line and PCRE2's reason; the scanner
 * keeps its previous patterns), MAIF_ELIMIT, MAIF_ENOMEM. */
MAIF_API MAIF_NODISCARD int maif_pii_scanner_load_patterns(maif_pii_scanner *s, const char *config, size_t len);
/* Scans len bytes of text (UTF-8 expected; invalid bytes never match a
 * name and are otherwise treated as separators) and sets *count to the
 * findings, non-overlapping and in text order (where two candidates
 * overlap the earlier, then the longer wins). Read them with
 * maif_pii_scanner_finding. Errors: MAIF_EINVAL, MAIF_ENOMEM, MAIF_ELIMIT
 * (text over MAIF_PII_TEXT_MAX, or a custom pattern hit PCRE2's match or
 * depth limit: the findings up to there are kept, *count is set). */
MAIF_API MAIF_NODISCARD int maif_pii_scan(maif_pii_scanner *s, const char *text, size_t len, size_t *count);
/* The i-th finding of the last scan (borrowed, see above), or NULL. */
MAIF_API const maif_pii_finding *maif_pii_scanner_finding(const maif_pii_scanner *s, size_t i);
/* "email", "phone", "card", "iban", "ssn", "ipv4", "ipv6", "mac", "dob",
 * "name", "custom"; "unknown" otherwise. Static. */
MAIF_API const char *maif_pii_type_name(int type);
/* Parses "redact", "mask" or "pseudonymize" (also "pseudonymise") into
 * MAIF_PII_*. Errors: MAIF_EINVAL. */
MAIF_API MAIF_NODISCARD int maif_pii_mode_parse(const char *s, int *mode);
/* Sets the key of MAIF_PII_PSEUDO (copied into locked memory, wiped by
 * maif_pii_scanner_free). Errors: MAIF_EINVAL, MAIF_ENOMEM. */
MAIF_API MAIF_NODISCARD int maif_pii_scanner_set_key(maif_pii_scanner *s, const uint8_t key[MAIF_PII_KEY_BYTES]);
/* Derives a pseudonymisation key, domain-separated from every other use
 * of the same secret: HKDF-SHA256 (RFC 5869) with salt
 * "maif-pii-pseudonym-v1", input keying material either the seed of a
 * signing key (key non-NULL, secret NULL) or secret_len >= 16 bytes of
 * secret (a key file's bytes; key NULL), and info = context (context_len
 * bytes, e.g. the artifact's file id; may be empty). The same inputs
 * always give the same key; nothing about the secret can be learned from
 * it. Errors: MAIF_EINVAL. */
MAIF_API MAIF_NODISCARD int maif_pii_key_derive(const maif_key *key, const void *secret, size_t secret_len,
                                                const void *context, size_t context_len,
                                                uint8_t out[MAIF_PII_KEY_BYTES]);
/* Scans text and replaces every finding according to mode
 * (MAIF_PII_REDACT, MAIF_PII_MASK, MAIF_PII_PSEUDO; the last needs
 * maif_pii_scanner_set_key). *out receives the new text (borrowed from the
 * scanner, NUL-terminated, valid as the findings are) and *out_len its
 * length; the findings of this scan stay readable (their offsets refer to
 * the input). Pseudonyms: the same value (after normalisation: e-mail
 * lower-cased, numbers reduced to their digits, IBANs to upper-case
 * letters and digits) under the same key always gives the same token, and
 * without the key a token reveals nothing but its type.
 * Errors: those of maif_pii_scan, MAIF_ESTATE (pseudonymise without a key). */
MAIF_API MAIF_NODISCARD int maif_pii_anonymize(maif_pii_scanner *s, const char *text, size_t len, int mode,
                                               const char **out, size_t *out_len);

/* ------------------------------------ differential privacy (since 0.2.0)
 *
 * Aggregates over block metadata released with differential privacy, and
 * a privacy budget per artifact kept in signed ledger blocks (type "DPLG",
 * docs/FORMAT.md §5.12). No floating point touches the noise: answers are
 * computed on an integer grid (1 for counts, a power of two for sums),
 * and the noise is the discrete Laplace (two-sided geometric) or the
 * discrete Gaussian, both drawn exactly with integer arithmetic
 * (Canonne, Kamath, Steinke 2020) from libsodium's randombytes. Neighbouring
 * artifacts differ by one block. docs/PRIVACY_ANALYTICS.md has the design,
 * the accounting and its limits (run time depends on the noise drawn). */

#define MAIF_TYPE_DPLEDGER MAIF_FOURCC('D', 'P', 'L', 'G') /* a privacy ledger entry (JSON) */

#define MAIF_DP_COUNT     1 /* blocks that match the type filter */
#define MAIF_DP_SUM       2 /* sum of a numeric metadata key, each value clamped to [lower, upper] */
#define MAIF_DP_MEAN      3 /* noisy sum / noisy count (each at half the budget of the query) */
#define MAIF_DP_HISTOGRAM 4 /* counts per category of a string metadata key, plus "other" */

#define MAIF_DP_CATEGORIES_MAX 64
/* Per query: epsilon in [1e-6, 20]; delta in [1e-18, 0.01]. A budget: epsilon
 * in (0, 1000], delta in [0, 0.5]. Decimal strings, at most 9 (epsilon) or 18
 * (delta) digits after the point: "0.5", "1e-6", "2.5E-3". */
#define MAIF_DP_EPSILON_MAX_NANO ((uint64_t)20 * 1000000000u)
#define MAIF_DP_EPSILON_MIN_NANO ((uint64_t)1000)

/* Parses a privacy parameter written in decimal (digits, an optional point
 * and fraction, an optional exponent e[+-]N) exactly, into units of
 * 10^-scale (scale 9 for epsilon, 18 for delta). Refuses signs, NaN, inf,
 * hex, empty strings, zero, values over max (in those units) and values
 * that are not a whole number of units. Errors: MAIF_EINVAL (one line in
 * maif_last_errmsg()). */
MAIF_API MAIF_NODISCARD int maif_dp_parse(const char *s, unsigned scale, uint64_t max, uint64_t *out);

/* Draws Z from the discrete Laplace distribution with scale t/s:
 * P(Z = z) proportional to exp(-|z| s / t); s, t in 1..2^62. Exact
 * (CKS20 Algorithm 2; t/s at most 2^40). Errors: MAIF_EINVAL. */
MAIF_API MAIF_NODISCARD int maif_dp_sample_laplace(uint64_t s, uint64_t t, int64_t *out);
/* Draws Z from the discrete Gaussian N_Z(0, sigma^2) with sigma^2 = num/den
 * (num 1..2^56, den 1..2^16, num/den <= 2^40): P(Z = z) proportional to
 * exp(-z^2 / (2 sigma^2)). Exact (CKS20 Algorithm 3) except that outcomes
 * of probability below exp(-30000) are never drawn. Errors: MAIF_EINVAL. */
MAIF_API MAIF_NODISCARD int maif_dp_sample_gaussian(uint64_t num, uint64_t den, int64_t *out);

typedef struct maif_dp_query {
    int kind;                    /* MAIF_DP_* */
    const char *key;             /* the metadata key (sum, mean, histogram); NULL for count */
    double lower, upper;         /* clamping bounds (sum, mean): finite, lower < upper, |bound| <= 2^40 */
    const char *const *categories; /* histogram: the bins (public; the answer never names others) */
    size_t ncategories;          /* 1..MAIF_DP_CATEGORIES_MAX */
    uint32_t type;               /* only blocks of this type (0: every data block but ledger and key-wrap blocks) */
    const char *epsilon;         /* this query's epsilon (decimal) */
    const char *delta;           /* NULL: pure epsilon-DP, discrete Laplace; else (epsilon, delta)-DP
                                    through rho-zCDP, discrete Gaussian */
    const char *budget_epsilon;  /* sets the artifact's budget if it has none; must equal it if it has */
    const char *budget_delta;    /* with budget_epsilon (NULL: 0) */
} maif_dp_query;

typedef struct maif_dp_result {
    size_t nvalues;              /* 1, or ncategories + 1 for a histogram ("other" last) */
    double values[MAIF_DP_CATEGORIES_MAX + 1]; /* the noisy answers */
    double grid;                 /* answers are multiples of this (1 for counts) */
    double scale;                /* the noise's scale b (Laplace) or sigma (Gaussian), in answer units
                                    (for a mean: of its sum) */
    uint64_t epsilon_nano;       /* charged by this query, in 10^-9 */
    uint64_t delta_atto;         /* charged by this query, in 10^-18 */
    uint64_t rho_nano;           /* zCDP rho of the Gaussian noise (0 for Laplace), 10^-9, rounded up */
    uint64_t spent_epsilon_nano, spent_delta_atto; /* the ledger's totals, this query included */
    uint64_t budget_epsilon_nano, budget_delta_atto;
    uint64_t ledger_block;       /* index of the ledger block recording this query */
} maif_dp_result;

/* Runs a query on the native artifact at path and records it: opens a
 * writer (opt, may be NULL: MAIF_OPT_LOCK_WAIT_MS to wait for the lock,
 * MAIF_OPT_DURABLE to fsync the charge before the answer exists), reads
 * the ledger under the lock, refuses a query the budget cannot pay for,
 * appends a ledger block with the charge and commits it (signed by key,
 * durable if opt says so), and only then computes the noisy answer into
 * *out. A budget is set by the first query that gives budget_epsilon (a
 * "budget" ledger block); an artifact without one refuses queries.
 * Errors: MAIF_EINVAL (bad parameters: the message names the one),
 * MAIF_ESTATE (no budget set, or budget_epsilon differs from the one set),
 * MAIF_EACCESS (the query would exceed the budget: nothing is recorded or
 * released), MAIF_EFORMAT (a malformed ledger block), those of
 * maif_writer_open, maif_reader_open and maif_writer_commit. */
MAIF_API MAIF_NODISCARD int maif_dp_query_run(const char *path, const maif_key *key, const maif_options *opt,
                                              const maif_dp_query *q, maif_dp_result *out);

/* ------------------------------------------------------------- helpers */

/* Hex of n bytes into out (2n+1 bytes). Returns out. */
MAIF_API char *maif_hex(const uint8_t *bytes, size_t n, char *out);
/* Parses exactly 2n hex digits. Returns 0 or MAIF_EINVAL. */
MAIF_API MAIF_NODISCARD int maif_unhex(const char *hex, uint8_t *out, size_t n);

#ifdef __cplusplus
}
#endif
#endif /* MAIF_H */
