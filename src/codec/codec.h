/*
 * codec.h — the payload pipeline: the stages a block's payload goes
 * through between the caller and the file; internal.
 *
 * A payload is encoded in two stages, always in this order:
 *
 *     payload --codec--> encoded --cipher--> stored bytes
 *
 * (compress, then encrypt: ciphertext does not compress). Each stage is
 * a table of operations registered under a one-byte id; id 0 is "none"
 * for both and is built in. The record header names the two ids, the
 * content hash and the chain cover the stored bytes, and what a stage
 * needs to undo its work travels in the record's extension TLVs (the tag
 * numbers belong to the format, which hands them in as maif_stage_tags).
 *
 * With none/none the pipeline is a pass-through: the stored bytes are the
 * caller's payload (no copy), stored size = payload size, and no TLV is
 * added, so such files are byte for byte what they were before stages
 * existed.
 *
 * The library registers the codecs zstd (1) and lz4 (2) itself, on the
 * first use of the registry (codecs.h). Its own ciphers 1-3
 * (codec/cipher_aead.c) are found without registration
 * (maif_cipher_builtin); a registration under the same id overrides them.
 * Tests register their own through maif_codec_register /
 * maif_cipher_register.
 *
 * A codec is skipped when it does not pay (MAIF_CODEC_PAYS): the block is
 * then stored with codec 0, and the header and the cipher's associated
 * data name codec 0.
 */
#ifndef MAIF_CODEC_CODEC_H
#define MAIF_CODEC_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "codec/tlv.h"
#include "util/buf.h"

#define MAIF_STAGE_NONE     0
#define MAIF_KEY_ID_MAX     64  /* bytes of a cipher key id */
#define MAIF_NONCE_MAX      32  /* bytes of a cipher nonce */
#define MAIF_STAGE_AD_BYTES 37  /* a block's place: file id (16) ‖ block id (16) ‖ type (4, as stored) ‖ codec id (1) */
/* What a cipher authenticates (docs/FORMAT.md §5.6): the place above ‖
 * cipher id (1) ‖ decoded size (u64 LE) ‖ sealed input size (u64 LE) ‖
 * key id length (1) ‖ key id. */
#define MAIF_CIPHER_AD_MAX (MAIF_STAGE_AD_BYTES + 1 + 8 + 8 + 1 + MAIF_KEY_ID_MAX)

/* Where a cipher finds its keys: the privacy engine's keyring hands one of
 * these (as the opaque keyring pointer) to writers and readers. lookup
 * sets *key to the 32-byte data key named id, borrowed (it lives in locked
 * memory as long as the source); MAIF_EACCESS when there is no usable key. */
typedef struct maif_keysrc {
    int (*lookup)(const struct maif_keysrc *self, const uint8_t *id, size_t id_len, const uint8_t **key);
} maif_keysrc;

/* Compression pays when it saves at least 16 bytes and at least 1/32 of
 * the payload; otherwise the payload is stored as is (codec 0). */
#define MAIF_CODEC_PAYS(n, encoded) ((encoded) < (n) && (n) - (encoded) >= 16 && (n) - (encoded) >= (n) / 32)

/* 1 when codec id is one of the built-in codecs that decode only whole
 * (lz4, shuffle-zstd): their payloads are at most MAIF_WHOLE_CODEC_MAX. */
#define MAIF_CODEC_WHOLE(id) ((id) == MAIF_CODEC_LZ4 || (id) == MAIF_CODEC_SHUFFLE_ZSTD)

/* A compression stage. encode/decode write at most cap bytes to dst and
 * set *written; errors: MAIF_ELIMIT (dst too small), MAIF_EFORMAT
 * (decode: the input is not valid for this codec). */
typedef struct maif_codec {
    uint8_t id;       /* 1..255 */
    const char *name; /* "zstd", ... */
    /* Largest encoded size of n input bytes (so encode never needs more). */
    uint64_t (*bound)(const struct maif_codec *self, uint64_t n);
    /* Largest decoded size n encoded bytes can stand for. A stored
     * decoded_size above it is hostile and refused before any work. */
    uint64_t (*decoded_max)(const struct maif_codec *self, uint64_t n);
    /* level: 0 is the codec's default, else within [level_min, level_max].
     * *state is the caller's slot for what the codec keeps between calls
     * (a compression context), NULL at first; freed with state_free. */
    int (*encode)(const struct maif_codec *self, void **state, int level, void *dst, size_t cap, const void *src,
                  size_t n, size_t *written);
    int (*decode)(const struct maif_codec *self, void *dst, size_t cap, const void *src, size_t n, size_t *written);
    void *ctx;        /* the stage's own state (a dictionary, ...) */
    int level_min, level_max; /* levels encode accepts besides 0 (both 0: none) */
    int always;       /* 1: keep the output even when it does not pay (tests of the pipeline) */
    void (*state_free)(const struct maif_codec *self, void *state); /* NULL: encode keeps no state */
    /* A codec that needs a dictionary (codec 3, zdict.h) sets both; the
     * pipeline then calls these, with the dictionary the writer set or
     * the reader resolved (a maif_zdict for codec 3), instead of
     * encode/decode, and the block names the dictionary in the dict_ref
     * extension. NULL for codecs without dictionaries. */
    int (*encode_dict)(const struct maif_codec *self, void *dict, void **state, void *dst, size_t cap,
                       const void *src, size_t n, size_t *written);
    int (*decode_dict)(const struct maif_codec *self, const void *dict, void *dst, size_t cap, const void *src,
                       size_t n, size_t *written);
} maif_codec;

/* Per-block parameters of a cipher stage. */
typedef struct maif_cipher_params {
    const void *keyring;    /* whoever holds the keys (the privacy engine); opaque here */
    const uint8_t *key_id;  /* key_id_len bytes, ≤ MAIF_KEY_ID_MAX */
    size_t key_id_len;
    const uint8_t *nonce;   /* the cipher's nonce_size bytes */
    const uint8_t *ad;      /* associated data, ad_len bytes (≤ MAIF_CIPHER_AD_MAX; the layout above) */
    size_t ad_len;
} maif_cipher_params;

/* An authenticated-encryption stage. seal/open write at most cap bytes
 * and set *written; errors: MAIF_ELIMIT (dst too small), MAIF_EKEY (no
 * such key), MAIF_EVERIFY (open: authentication failed; nothing of dst
 * may be used). */
typedef struct maif_cipher {
    uint8_t id;
    const char *name;
    size_t nonce_size;  /* ≤ MAIF_NONCE_MAX; the pipeline draws a fresh random nonce per block */
    size_t overhead;    /* stored bytes = input bytes + overhead (the tag) */
    int (*seal)(const struct maif_cipher *self, const maif_cipher_params *p, void *dst, size_t cap, const void *src,
                size_t n, size_t *written);
    int (*open)(const struct maif_cipher *self, const maif_cipher_params *p, void *dst, size_t cap, const void *src,
                size_t n, size_t *written);
    void *ctx;
    /* Ciphers whose overhead depends on the input size (chunked STREAM
     * sealing): overhead_of gives the stored bytes added to n input bytes,
     * plain_of the input size that stored bytes stand for (MAIF_EFORMAT when
     * no input size gives them). NULL: the fixed overhead above. */
    uint64_t (*overhead_of)(const struct maif_cipher *self, uint64_t n);
    int (*plain_of)(const struct maif_cipher *self, uint64_t stored, uint64_t *plain);
    /* Chunked (STREAM) ciphers, whose stored bytes are head ‖ chunk 0 ‖ …
     * with chunk i = seal(input[i*chunk .. +chunk)) of chunk + tag bytes
     * (the last shorter): a writer may seal and a reader open them one
     * chunk at a time. chunk 0: the cipher seals whole (the rest NULL).
     * head: check 0 writes the head_size bytes, check 1 verifies them
     * (MAIF_EVERIFY, MAIF_EACCESS). piece: chunk i (last: 1 for the final
     * one) of n input bytes sealed into n + tag bytes (open 0), or of n
     * stored bytes opened into n - tag (open 1; MAIF_EVERIFY leaves dst
     * zeroed). Both are safe to call from several threads at once.
     * head_size and tag_size set with chunk 0: a whole-payload cipher whose
     * stored bytes are head ‖ ciphertext ‖ tag and whose seal runs in place
     * (src == dst + head_size; the library's ciphers 1-3). */
    size_t chunk, head_size, tag_size;
    int (*head)(const struct maif_cipher *self, const maif_cipher_params *p, uint8_t *head, int check);
    int (*piece)(const struct maif_cipher *self, const maif_cipher_params *p, uint64_t i, int last, int open,
                 void *dst, const void *src, size_t n);
} maif_cipher;

/* Stored bytes a cipher adds to n input bytes; and the input size that s
 * stored bytes stand for (MAIF_EFORMAT when none). */
uint64_t maif_cipher_overhead(const maif_cipher *k, uint64_t n);
int maif_cipher_plain(const maif_cipher *k, uint64_t s, uint64_t *plain);

/* Cipher 4: XChaCha20-Poly1305 in STREAM chunks of MAIF_STREAM_CHUNK_PLAIN
 * bytes (FORMAT.md §5.7). A writer asking for cipher 1 seals a payload
 * larger than one chunk with it. */
#define MAIF_CIPHER_XCHACHA20_STREAM 4
/* Ciphers 5 and 6: ChaCha20-Poly1305 and AES-256-GCM in the same STREAM
 * chunks, each block under its own subkey (aead.h maif_stream_subkey);
 * writers asking for cipher 2 or 3 seal a payload over one chunk with them. */
#define MAIF_CIPHER_CHACHA20_STREAM  5
#define MAIF_CIPHER_AES256GCM_STREAM 6
#define MAIF_STREAM_CHUNK_PLAIN (64u << 10)
/* The STREAM form of a whole-payload cipher id (1 -> 4, 2 -> 5, 3 -> 6), or 0. */
uint8_t maif_cipher_stream_form(uint8_t id);
/* The cipher a writer asking for k seals n input bytes with: the STREAM
 * form of k's id past one chunk when k is the library's own cipher 1-3
 * (and the form is found), else k. */
const maif_cipher *maif_cipher_for(const maif_cipher *k, uint64_t n);

/* ---- registry. Registration is process-wide and not synchronised with
 * use: register before any writer or reader that needs the stage, and
 * unregister only when none is left. */

/* Errors: MAIF_EINVAL (id 0, missing operations, nonce_size over
 * MAIF_NONCE_MAX), MAIF_EEXIST (the id is taken). The table is borrowed
 * and must outlive its registration. */
int maif_codec_register(const maif_codec *c);
int maif_cipher_register(const maif_cipher *c);
/* Removes a registration (no-op for an id not registered or 0). */
void maif_codec_unregister(uint8_t id);
void maif_cipher_unregister(uint8_t id);
/* The stage registered under id, or NULL. Id 0 gives NULL: it is no stage. */
const maif_codec *maif_codec_find(uint8_t id);
const maif_cipher *maif_cipher_find(uint8_t id);
/* The library's own ciphers (codec/cipher_aead.c): 1 XChaCha20-Poly1305,
 * 2 ChaCha20-Poly1305, 3 AES-256-GCM, 4 XChaCha20-Poly1305 STREAM, 5 ChaCha20-Poly1305
 * STREAM, 6 AES-256-GCM STREAM; found when no registration
 * overrides the id. NULL for other ids. */
const maif_cipher *maif_cipher_builtin(uint8_t id);
/* 1 if id is 0 or registered. */
int maif_codec_known(uint8_t id);
int maif_cipher_known(uint8_t id);

/* ---- the pipeline */

/* The extension tags a format uses for what the stages need. */
typedef struct maif_stage_tags {
    uint16_t decoded_size; /* u64: payload bytes before any stage */
    uint16_t key_id;
    uint16_t nonce;
    uint16_t dict_ref; /* which dictionary a dictionary codec used (opaque to the pipeline) */
} maif_stage_tags;

/* What a writer asks for. */
typedef struct maif_stage_config {
    uint8_t codec, cipher;  /* ids; 0 = none */
    int level;              /* the codec's level; 0 = its default */
    const void *keyring;    /* for the cipher */
    const uint8_t *key_id;  /* for the cipher: which key; key_id_len ≤ MAIF_KEY_ID_MAX */
    size_t key_id_len;
    void *dict;               /* for a codec with encode_dict: its dictionary (borrowed) */
    const uint8_t *dict_ref;  /* the bytes of the dict_ref extension naming it (dict_ref_len ≤ 64) */
    size_t dict_ref_len;
} maif_stage_config;

/* Scratch space a writer keeps between blocks (freed with
 * maif_stage_scratch_free). */
typedef struct maif_stage_scratch {
    maif_buf enc;  /* codec output */
    maif_buf seal; /* cipher output */
    void *codec_state;                 /* what codec_state_of keeps between blocks, or NULL */
    const maif_codec *codec_state_of;  /* the codec that made codec_state */
} maif_stage_scratch;
void maif_stage_scratch_free(maif_stage_scratch *s);
/* Frees the codec's kept context only (before the dictionary it may
 * reference goes away). */
void maif_stage_scratch_drop_state(maif_stage_scratch *s);

/* The result of encoding one payload. */
typedef struct maif_stage_out {
    const uint8_t *stored; /* the bytes to store: the payload itself (none/none) or inside scratch;
                              valid until the next encode with the same scratch */
    uint64_t stored_size;
    uint8_t codec;         /* the codec applied: cfg's, or 0 when it did not pay */
    uint8_t cipher;        /* the cipher applied: cfg's, or its STREAM form (1 -> 4, 2 -> 5,
                              3 -> 6) for a payload over one chunk (maif_cipher_for) */
} maif_stage_out;

/* Runs payload (n bytes) through cfg's stages. ad is the block's
 * associated data (MAIF_STAGE_AD_BYTES). Appends the TLVs the stages
 * need to ext: decoded_size whenever a stage is on, then key_id and nonce
 * for a cipher. A codec that does not pay is dropped (out->codec 0; the
 * last byte of the associated data, the codec id, is then sealed as 0).
 * With none/none, or a codec alone that did not pay: out->stored =
 * payload, nothing appended.
 * A dictionary codec (encode_dict) appends dict_ref (cfg->dict_ref) last,
 * when it paid.
 * Errors: MAIF_EUNSUPPORTED (a stage id not registered), MAIF_EINVAL (key
 * id missing or too long), MAIF_ESTATE (a dictionary codec without
 * cfg->dict), MAIF_ELIMIT (output or TLVs over their
 * limits: stored size ≤ max_stored), MAIF_ENOMEM, and the stages' own. A
 * message goes to err. */
int maif_stage_encode(const maif_stage_config *cfg, const maif_stage_tags *tags, const uint8_t *ad,
                      const void *payload, uint64_t n, uint64_t max_stored, maif_stage_scratch *scratch,
                      maif_tlv_builder *ext, maif_stage_out *out, char *err, size_t errcap);

/* A cipher stage planned now and run later (a writer seals large payloads
 * on its drain threads, or a streamed payload chunk by chunk): the cipher
 * chosen (cipher 1 becomes 4 past one chunk, as maif_stage_encode), the
 * nonce drawn, the associated data built. Holds no secret. */
typedef struct maif_stage_seal {
    const maif_cipher *k;
    const void *keyring;
    uint8_t key_id[MAIF_KEY_ID_MAX];
    size_t key_id_len;
    uint8_t nonce[MAIF_NONCE_MAX];
    uint8_t ad[MAIF_CIPHER_AD_MAX];
    size_t ad_len;
    uint64_t in_size;     /* bytes to seal */
    uint64_t stored_size; /* bytes stored */
    /* maif_stage_plan_coded: the payload size and the codec applied
     * before the plan (k NULL: no cipher, the in_size encoded bytes are
     * stored as they are). coded: the caller asks for that plan. */
    uint64_t decoded_size;
    uint8_t codec;
    int coded;
} maif_stage_seal;

/* As maif_stage_encode of n bytes for a cfg with a cipher and no codec,
 * but nothing is sealed: fills *s, appends the same TLVs to ext and sets
 * out (out->stored NULL). The key must be in the keyring now (MAIF_EACCESS
 * otherwise), so running the plan cannot fail for want of it.
 * Errors: those of maif_stage_encode; MAIF_EINVAL (a codec in cfg). */
int maif_stage_plan_seal(const maif_stage_config *cfg, const maif_stage_tags *tags, const uint8_t *ad, uint64_t n,
                         uint64_t max_stored, maif_tlv_builder *ext, maif_stage_seal *s, maif_stage_out *out,
                         char *err, size_t errcap);
/* As maif_stage_plan_seal, for a payload already through cfg's codec
 * elsewhere (a streamed compression): n payload bytes became in_n encoded
 * bytes with codec (cfg's, or 0 when it did not pay; then in_n == n). The
 * cipher is cfg's (its STREAM form past one chunk), or none: then s->k is
 * NULL and the in_n encoded bytes are stored as they are. Appends the
 * TLVs maif_stage_encode would have (for a dictionary codec, dict_ref
 * last, from cfg->dict_ref; without cfg->dict and a dict_ref of 1 to 64
 * bytes it cannot be planned: MAIF_EINVAL). */
int maif_stage_plan_coded(const maif_stage_config *cfg, const maif_stage_tags *tags, const uint8_t *ad, uint64_t n,
                          uint8_t codec, uint64_t in_n, uint64_t max_stored, maif_tlv_builder *ext, maif_stage_seal *s,
                          maif_stage_out *out, char *err, size_t errcap);
/* Seals s->in_size bytes of src into dst (s->stored_size bytes): the
 * stored bytes maif_stage_encode would have made. Thread-safe. */
int maif_stage_seal_run(const maif_stage_seal *s, void *dst, const void *src);
/* The params a planned seal runs with (for the cipher's head and piece). */
void maif_stage_seal_params(const maif_stage_seal *s, maif_cipher_params *p);

/* What a reader found in a record. */
typedef struct maif_stage_in {
    uint8_t codec, cipher;
    const uint8_t *stored;
    uint64_t stored_size;
    int has_decoded_size;
    uint64_t decoded_size;  /* from the TLV when a stage is on */
    const uint8_t *key_id;  /* NULL if absent */
    size_t key_id_len;
    const uint8_t *nonce;   /* NULL if absent */
    size_t nonce_len;
    const uint8_t *ad;      /* MAIF_STAGE_AD_BYTES */
    const void *keyring;    /* for a cipher, or NULL */
    const uint8_t *dict_ref; /* the dict_ref extension, or NULL if absent */
    size_t dict_ref_len;
    const void *dict;       /* for a codec with decode_dict: the dictionary dict_ref names, resolved
                               by the format; NULL gives MAIF_EUNSUPPORTED at decode */
} maif_stage_in;

/* The payload size in will decode to, checked before any work: it is
 * stored_size for none/none; otherwise the decoded_size TLV, which must
 * be present, at most max_decoded, and at most what the stages can
 * produce from stored_size; dict_ref present exactly when the codec takes
 * a dictionary. Errors: MAIF_EUNSUPPORTED (a stage not registered),
 * MAIF_EFORMAT (missing, stray or hostile TLVs). */
int maif_stage_decoded_size(const maif_stage_in *in, uint64_t max_decoded, uint64_t *size, char *err,
                            size_t errcap);
/* Undoes the stages into dst (cap bytes); *written gets the decoded size,
 * and on MAIF_ELIMIT the size dst needs. none/none copies. A cipher with
 * a codec decrypts into a temporary of stored_size bytes (bounded by the
 * file) first. Errors: those of maif_stage_decoded_size, MAIF_ELIMIT,
 * MAIF_ENOMEM, MAIF_EFORMAT (a stage output not of the promised size, or
 * invalid input), MAIF_EVERIFY (authentication failed), MAIF_EKEY. */
int maif_stage_decode(const maif_stage_in *in, uint64_t max_decoded, void *dst, size_t cap, size_t *written,
                      char *err, size_t errcap);

/* Where maif_stage_decode_to delivers a payload, piece by piece: n bytes
 * of it, and stored_done, just past the stored bytes used so far (a hint
 * for releasing them). Returns MAIF_OK or a negative code to stop. */
typedef int (*maif_stage_sink)(void *ctx, const void *data, size_t n, const uint8_t *stored_done);
/* As maif_stage_decode, but the payload goes to sink in pieces instead of
 * one buffer: a plain payload in slices of the stored bytes; a chunked
 * cipher alone (4 to 6) one chunk at a time, each authenticated before
 * it is handed over (the head, the counters and the last-chunk flag make
 * a stream that is cut, reordered or spliced fail by its end); anything
 * else decoded whole into a temporary first (wiped after). A failure
 * after some pieces were delivered returns its code: the pieces already
 * given were authentic, but the payload is not whole. Errors: those of
 * maif_stage_decode but MAIF_ELIMIT, and the sink's own. */
int maif_stage_decode_to(const maif_stage_in *in, uint64_t max_decoded, maif_stage_sink sink, void *ctx, char *err,
                         size_t errcap);
/* What maif_stage_open_chunks hands each opened chunk to: n plaintext
 * bytes at p (valid only during the call), stored_done the first stored
 * byte not yet read. Returns MAIF_OK or an error with its message in err. */
typedef int (*maif_stage_eat)(void *ctx, const uint8_t *p, size_t n, const uint8_t *stored_done, char *err,
                              size_t errcap);
/* Opens the stored bytes of in under k, a chunked cipher (k->chunk,
 * head and piece set): the head (the key commitment), then chunk 0, 1, …
 * in turn into buf (k->chunk bytes, the caller's), each handed to eat
 * only after its tag verifies and wiped after; size is the decoded size
 * the associated data binds. Errors (message in err): MAIF_EVERIFY,
 * MAIF_EACCESS, those of eat. */
int maif_stage_open_chunks(const maif_stage_in *in, const maif_cipher *k, uint64_t size, uint8_t *buf,
                           maif_stage_eat eat, void *ctx, char *err, size_t errcap);
/* maif_stage_decode_to for a zstd block (codec 1, or codec 3 with
 * in->dict, a maif_zdict) stored as is or under a chunked cipher (4 to
 * 6), whose decoded size (checked) is size: each
 * chunk is opened, then decompressed as it comes (codec_stream.c). A
 * failure after some pieces went to the sink returns its code, as above.
 * Errors: MAIF_EFORMAT (the frame does not match the record, is cut,
 * trails bytes or fails its checksum), MAIF_EVERIFY, MAIF_EACCESS,
 * MAIF_ENOMEM, MAIF_EINVAL (another cipher), MAIF_EUNSUPPORTED (codec 3
 * without its dictionary), the sink's own. */
int maif_stage_zstd_decode_to(const maif_stage_in *in, uint64_t size, maif_stage_sink sink, void *ctx, char *err,
                              size_t errcap);
/* The associated data of §5.6 (the block's place, then cipher, sizes and
 * key id) into out; its length. */
size_t maif_stage_cipher_ad(uint8_t out[MAIF_CIPHER_AD_MAX], const uint8_t *place, uint8_t cipher, uint64_t decoded,
                            uint64_t sealed_in, const uint8_t *key_id, size_t key_id_len);

#endif
