/*
 * keyring.c — envelope encryption: data keys, and who can unwrap them.
 *
 * Each encrypting writer session (maif_writer_encrypt) draws one random
 * 32-byte data key and appends a key-wrap block (type KEYW, stored as is)
 * holding that key wrapped once per recipient; the blocks it then seals
 * name the KEYW block's id as their key_id. A reader given a keyring finds
 * the KEYW block by that id (the reader's id table), tries the keyring's
 * identities and passphrases on its stanzas, and caches what opens.
 *
 * Stanzas (docs/FORMAT.md §5.7): X25519 as age does it (a fresh ephemeral
 * key, HKDF-SHA256 over the shared secret, a one-time ChaCha20-Poly1305
 * wrap) for a `maif keygen` key's X25519 form; Argon2id or PBKDF2 for a
 * passphrase. A stanza's wrap authenticates its kind and the KEYW block
 * id, so stanzas cannot be moved between blocks. KDF parameters read from
 * a file are capped before any work, so a hostile file cannot demand
 * gigabytes or hours. Every secret (identities, passphrases, data keys)
 * lives in one sodium_malloc'd area, wiped when the keyring is freed.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "codec/codec.h"
#include "crypto/aead.h"
#include "crypto/crypto.h"
#include "format/native/native_writer.h"
#include "privacy/privacy.h"
#include "util/alloc.h"
#include "util/common.h"

#define MAX_RCPT     32
#define MAX_IDENT    8
#define MAX_PASS     4
#define PASS_MAX     1024
#define MAX_DK       1024
#define MAX_REVOKED  256
#define MAX_STANZAS  (MAX_RCPT + MAX_PASS)
#define MAX_PASS_TRY 4 /* passphrase stanzas tried per KEYW block: each costs a KDF run */

/* caps on what a file may ask for */
#define ARGON_OPS_CAP  10u
#define ARGON_MEM_CAP  (512ull << 20)
#define PBKDF2_ITER_CAP 10000000u

#define ST_X25519 1
#define ST_ARGON2 2
#define ST_PBKDF2 3
#define WRAPPED   (MAIF_AEAD_KEY_BYTES + MAIF_AEAD_TAG_BYTES)
#define BODY_X25519 (32 + 32 + WRAPPED)
#define BODY_ARGON2 (16 + 4 + 4 + WRAPPED)
#define BODY_PBKDF2 (16 + 4 + WRAPPED)
static const uint8_t MAGIC[4] = {'M', 'K', 'W', '1'};

typedef struct secrets {
    uint8_t id_sk[MAX_IDENT][32]; /* X25519 secrets of the identities */
    uint8_t pass[MAX_PASS][PASS_MAX];
    uint8_t dk[MAX_DK][MAIF_AEAD_KEY_BYTES];
} secrets;

struct maif_keyring {
    maif_keysrc src;                 /* first: the writer's key source (cache only) */
    pthread_mutex_t lock;            /* guards the counts and the cache */
    uint8_t rcpt[MAX_RCPT][32];      /* X25519 public keys to wrap for */
    uint8_t rcpt_ed[MAX_RCPT][32];   /* ... and their Ed25519 forms (the keys policies name) */
    size_t nrcpt;
    uint8_t revoked[MAX_REVOKED][32]; /* X25519 keys revoked in a followed artifact: never wrapped for */
    size_t nrevoked;
    uint8_t id_pk[MAX_IDENT][32];    /* X25519 public keys of the identities */
    size_t nident;
    size_t pass_len[MAX_PASS];
    int pass_kdf[MAX_PASS];
    size_t npass;
    uint8_t dk_id[MAX_DK][MAIF_ID_BYTES]; /* ids of the cached data keys (KEYW block ids) */
    size_t ndk;
    secrets *sec;
    maif_keystore *ks;               /* shreddable keys (borrowed), or NULL */
    uint64_t argon_ops, argon_mem;
    uint32_t pbkdf2_iter;
};

typedef struct binding {
    maif_keysrc src;    /* first */
    maif_keyring *kr;
    maif_reader *r;
} binding;

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static uint32_t get32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }

/* a cached key, or NULL; lock held */
static const uint8_t *cached(const maif_keyring *kr, const uint8_t *id, size_t id_len)
{
    if (id_len != MAIF_ID_BYTES) return NULL;
    for (size_t i = 0; i < kr->ndk; i++)
        if (memcmp(kr->dk_id[i], id, MAIF_ID_BYTES) == 0) return kr->sec->dk[i];
    return NULL;
}

static int ring_lookup(const maif_keysrc *self, const uint8_t *id, size_t id_len, const uint8_t **key)
{
    maif_keyring *kr = (maif_keyring *)self;
    pthread_mutex_lock(&kr->lock);
    *key = cached(kr, id, id_len);
    maif_keystore *ks = kr->ks;
    pthread_mutex_unlock(&kr->lock);
    if (!*key && ks) return priv_keystore_lookup(ks, id, id_len, key);
    return *key ? MAIF_OK : MAIF_EACCESS;
}

int maif_keyring_create(maif_keyring **out)
{
    if (!out) return maif_set_last_err(MAIF_EINVAL, "maif_keyring_create: NULL argument");
    *out = NULL;
    if (maif_crypto_init()) return maif_set_last_err(MAIF_ENOMEM, "cannot initialise the crypto library");
    maif_keyring *kr = maif_malloc(sizeof *kr);
    if (!kr) return maif_set_last_err(MAIF_ENOMEM, "out of memory");
    memset(kr, 0, sizeof *kr);
    kr->sec = maif_secret_alloc(sizeof *kr->sec);
    if (!kr->sec) {
        maif_free(kr);
        return maif_set_last_err(MAIF_ENOMEM, "out of locked memory for the keyring");
    }
    memset(kr->sec, 0, sizeof *kr->sec);
    pthread_mutex_init(&kr->lock, NULL);
    kr->src.lookup = ring_lookup;
    kr->argon_ops = 3;            /* crypto_pwhash_argon2id_OPSLIMIT_MODERATE */
    kr->argon_mem = 256ull << 20; /* crypto_pwhash_argon2id_MEMLIMIT_MODERATE */
    kr->pbkdf2_iter = 600000;
    *out = kr;
    return MAIF_OK;
}

void maif_keyring_free(maif_keyring *kr)
{
    if (!kr) return;
    maif_secret_free(kr->sec); /* sodium_free wipes */
    pthread_mutex_destroy(&kr->lock);
    maif_free(kr);
}

int maif_keyring_add_keystore(maif_keyring *kr, maif_keystore *ks)
{
    if (!kr) return maif_set_last_err(MAIF_EINVAL, "maif_keyring_add_keystore: NULL keyring");
    pthread_mutex_lock(&kr->lock);
    kr->ks = ks;
    pthread_mutex_unlock(&kr->lock);
    return MAIF_OK;
}

int maif_keyring_set_kdf_params(maif_keyring *kr, uint64_t argon_ops, uint64_t argon_mem, uint32_t pbkdf2_iter)
{
    if (!kr || !argon_ops || argon_ops > ARGON_OPS_CAP || argon_mem < 8192 || argon_mem > ARGON_MEM_CAP ||
        !pbkdf2_iter || pbkdf2_iter > PBKDF2_ITER_CAP)
        return MAIF_EINVAL;
    kr->argon_ops = argon_ops;
    kr->argon_mem = argon_mem & ~1023ull;
    kr->pbkdf2_iter = pbkdf2_iter;
    return MAIF_OK;
}

/* lock held. A recipient already there is not added twice. */
static int add_rcpt_locked(maif_keyring *kr, const uint8_t x[32], const uint8_t ed[32])
{
    for (size_t i = 0; i < kr->nrevoked; i++)
        if (memcmp(kr->revoked[i], x, 32) == 0) return MAIF_EACCESS;
    for (size_t i = 0; i < kr->nrcpt; i++)
        if (memcmp(kr->rcpt[i], x, 32) == 0) return MAIF_OK;
    if (kr->nrcpt == MAX_RCPT) return MAIF_ELIMIT;
    memcpy(kr->rcpt_ed[kr->nrcpt], ed, 32);
    memcpy(kr->rcpt[kr->nrcpt++], x, 32);
    return MAIF_OK;
}

int maif_keyring_restrict(maif_keyring *kr, const maif_policy *p, uint32_t type, int level, size_t *dropped)
{
    if (!kr || !p) return maif_set_last_err(MAIF_EINVAL, "maif_keyring_restrict: NULL argument");
    size_t k = 0, d = 0;
    pthread_mutex_lock(&kr->lock);
    for (size_t i = 0; i < kr->nrcpt; i++) {
        if (!maif_policy_may_read_level(p, kr->rcpt_ed[i], type, level)) {
            d++;
            continue;
        }
        memmove(kr->rcpt[k], kr->rcpt[i], 32);
        memmove(kr->rcpt_ed[k], kr->rcpt_ed[i], 32);
        k++;
    }
    kr->nrcpt = k;
    size_t left = k + kr->npass;
    pthread_mutex_unlock(&kr->lock);
    if (dropped) *dropped = d;
    if (!left)
        return maif_set_last_err(MAIF_EACCESS, "no recipient may read a block of this type and level under the policy");
    return MAIF_OK;
}

int maif_keyring_add_recipient(maif_keyring *kr, const uint8_t pk[MAIF_PUBKEY_BYTES])
{
    if (!kr || !pk) return maif_set_last_err(MAIF_EINVAL, "maif_keyring_add_recipient: NULL argument");
    uint8_t x[32];
    if (maif_ed25519_pk_to_x25519(x, pk))
        return maif_set_last_err(MAIF_EKEY, "the recipient is not a valid Ed25519 public key");
    pthread_mutex_lock(&kr->lock);
    int rc = add_rcpt_locked(kr, x, pk);
    pthread_mutex_unlock(&kr->lock);
    if (rc == MAIF_EACCESS) return maif_set_last_err(rc, "the recipient was revoked in this artifact");
    return rc ? maif_set_last_err(rc, "a keyring holds at most %d recipients", MAX_RCPT) : MAIF_OK;
}

int maif_keyring_add_identity(maif_keyring *kr, const maif_key *key)
{
    if (!kr || !key) return maif_set_last_err(MAIF_EINVAL, "maif_keyring_add_identity: NULL argument");
    if (maif_key_is_hardware(key))
        return maif_set_last_err(MAIF_EKEY, "a key on a PKCS#11 token cannot decrypt here: its secret stays on the token");
    if (maif_key_alg(key) != MAIF_SIG_ED25519)
        return maif_set_last_err(MAIF_EKEY, "a %s key cannot decrypt: only Ed25519 keys have an X25519 form "
                                 "(use an Ed25519 key or a passphrase for encryption)",
                                 maif_sig_alg_name(maif_key_alg(key)));
    pthread_mutex_lock(&kr->lock);
    int rc = MAIF_OK;
    if (kr->nident == MAX_IDENT) rc = MAIF_ELIMIT;
    else {
        maif_key_x25519_secret(key, kr->sec->id_sk[kr->nident]);
        maif_x25519_public(kr->id_pk[kr->nident], kr->sec->id_sk[kr->nident]);
        kr->nident++;
    }
    pthread_mutex_unlock(&kr->lock);
    return rc ? maif_set_last_err(rc, "a keyring holds at most %d identities", MAX_IDENT) : MAIF_OK;
}

int maif_keyring_add_passphrase(maif_keyring *kr, const void *pass, size_t len, int kdf)
{
    if (!kr || (!pass && len)) return maif_set_last_err(MAIF_EINVAL, "maif_keyring_add_passphrase: NULL argument");
    if (kdf != MAIF_KDF_ARGON2ID && kdf != MAIF_KDF_PBKDF2)
        return maif_set_last_err(MAIF_EINVAL, "unknown passphrase KDF %d", kdf);
    if (len == 0 || len > PASS_MAX)
        return maif_set_last_err(MAIF_EINVAL, "a passphrase has 1 to %d bytes", PASS_MAX);
    pthread_mutex_lock(&kr->lock);
    int rc = MAIF_OK;
    if (kr->npass == MAX_PASS) rc = MAIF_ELIMIT;
    else {
        memcpy(kr->sec->pass[kr->npass], pass, len);
        kr->pass_len[kr->npass] = len;
        kr->pass_kdf[kr->npass] = kdf;
        kr->npass++;
    }
    pthread_mutex_unlock(&kr->lock);
    return rc ? maif_set_last_err(rc, "a keyring holds at most %d passphrases", MAX_PASS) : MAIF_OK;
}

/* ---- wrapping */

static void wrap_ad(uint8_t ad[32], uint8_t kind, const uint8_t key_id[MAIF_ID_BYTES])
{
    memcpy(ad, "maif-keywrap-v1", 15);
    ad[15] = kind;
    memcpy(ad + 16, key_id, MAIF_ID_BYTES);
}

static const uint8_t ZERO_NONCE[12];

static int wrap(uint8_t out[WRAPPED], const uint8_t *kek, uint8_t kind, const uint8_t *key_id, const uint8_t *dk)
{
    uint8_t ad[32];
    wrap_ad(ad, kind, key_id);
    return maif_aead_seal(MAIF_AEAD_CHACHA20, out, dk, MAIF_AEAD_KEY_BYTES, ad, sizeof ad, ZERO_NONCE, kek);
}

static int unwrap(uint8_t *dk, const uint8_t *kek, uint8_t kind, const uint8_t *key_id, const uint8_t in[WRAPPED])
{
    uint8_t ad[32];
    wrap_ad(ad, kind, key_id);
    return maif_aead_open(MAIF_AEAD_CHACHA20, dk, in, WRAPPED, ad, sizeof ad, ZERO_NONCE, kek);
}

static void x25519_kek(uint8_t kek[32], const uint8_t shared[32], const uint8_t eph[32], const uint8_t rcpt[32],
                       const uint8_t *key_id)
{
    uint8_t salt[64], info[15 + MAIF_ID_BYTES];
    memcpy(salt, eph, 32);
    memcpy(salt + 32, rcpt, 32);
    memcpy(info, "maif-x25519-v1/", 15);
    memcpy(info + 15, key_id, MAIF_ID_BYTES);
    maif_hkdf_sha256(kek, 32, shared, 32, salt, sizeof salt, info, sizeof info);
}

static int pass_kek(uint8_t kek[32], uint8_t kind, const uint8_t *pw, size_t pw_len, const uint8_t salt[16],
                    uint64_t ops, uint64_t mem, uint32_t iter)
{
    if (kind == ST_ARGON2) return maif_argon2id(kek, 32, pw, pw_len, salt, ops, mem);
    return maif_pbkdf2_sha256(kek, 32, pw, pw_len, salt, 16, iter);
}

/* Builds the KEYW payload for dk under key_id into out (cap bytes). */
static int build_keyw(maif_keyring *kr, const uint8_t *dk, const uint8_t *key_id, uint8_t *out, size_t cap,
                      size_t *len)
{
    size_t n = 0, ns = kr->nrcpt + kr->npass;
    (void)cap;
    memcpy(out, MAGIC, 4);
    n = 4;
    out[n++] = (uint8_t)ns;
    uint8_t *kek = maif_secret_alloc(64);
    if (!kek) return MAIF_ENOMEM;
    int rc = MAIF_OK;
    for (size_t i = 0; i < kr->nrcpt && !rc; i++) {
        uint8_t *b = out + n;
        b[0] = ST_X25519;
        b[1] = BODY_X25519 & 0xff;
        b[2] = BODY_X25519 >> 8;
        uint8_t *eph_sk = kek + 32;
        memcpy(b + 3, kr->rcpt[i], 32);
        maif_x25519_keypair(b + 3 + 32, eph_sk);
        rc = maif_x25519(kek, eph_sk, kr->rcpt[i]);
        if (!rc) {
            x25519_kek(kek, kek, b + 3 + 32, kr->rcpt[i], key_id);
            rc = wrap(b + 3 + 64, kek, ST_X25519, key_id, dk);
        }
        n += 3 + BODY_X25519;
    }
    for (size_t i = 0; i < kr->npass && !rc; i++) {
        uint8_t *b = out + n;
        int argon = kr->pass_kdf[i] == MAIF_KDF_ARGON2ID;
        size_t body = argon ? BODY_ARGON2 : BODY_PBKDF2;
        b[0] = argon ? ST_ARGON2 : ST_PBKDF2;
        b[1] = (uint8_t)(body & 0xff);
        b[2] = (uint8_t)(body >> 8);
        maif_random(b + 3, 16);
        uint8_t *w;
        if (argon) {
            put32(b + 19, (uint32_t)kr->argon_ops);
            put32(b + 23, (uint32_t)(kr->argon_mem >> 10));
            w = b + 27;
        } else {
            put32(b + 19, kr->pbkdf2_iter);
            w = b + 23;
        }
        rc = pass_kek(kek, b[0], kr->sec->pass[i], kr->pass_len[i], b + 3, kr->argon_ops, kr->argon_mem,
                      kr->pbkdf2_iter);
        if (!rc) rc = wrap(w, kek, b[0], key_id, dk);
        n += 3 + body;
    }
    maif_secret_free(kek);
    *len = n;
    return rc;
}

/* Tries kr's identities and passphrases on a KEYW payload; on success dk
 * holds the data key. MAIF_EACCESS: nothing opens; MAIF_EFORMAT: malformed. */
static int open_keyw(maif_keyring *kr, const uint8_t *key_id, const uint8_t *p, size_t n, uint8_t *dk, char *why,
                     size_t whycap)
{
    if (n < 5 || memcmp(p, MAGIC, 4) != 0) return maif_set_err(why, whycap, MAIF_EFORMAT, "not a key-wrap block");
    size_t ns = p[4], off = 5;
    if (ns > MAX_STANZAS) return maif_set_err(why, whycap, MAIF_EFORMAT, "%zu stanzas (at most %d)", ns, MAX_STANZAS);
    uint8_t *kek = maif_secret_alloc(32);
    if (!kek) return MAIF_ENOMEM;
    int rc = MAIF_EACCESS, tried_pass = 0;
    for (size_t s = 0; s < ns && rc == MAIF_EACCESS; s++) {
        if (n - off < 3) {
            rc = maif_set_err(why, whycap, MAIF_EFORMAT, "stanza %zu truncated", s);
            break;
        }
        uint8_t kind = p[off];
        size_t blen = p[off + 1] | (size_t)p[off + 2] << 8;
        const uint8_t *b = p + off + 3;
        if (n - off - 3 < blen) {
            rc = maif_set_err(why, whycap, MAIF_EFORMAT, "stanza %zu truncated", s);
            break;
        }
        off += 3 + blen;
        if (kind == ST_X25519 && blen == BODY_X25519) {
            for (size_t i = 0; i < kr->nident; i++) {
                if (memcmp(b, kr->id_pk[i], 32) != 0) continue;
                if (maif_x25519(kek, kr->sec->id_sk[i], b + 32)) continue;
                x25519_kek(kek, kek, b + 32, b, key_id);
                if (unwrap(dk, kek, ST_X25519, key_id, b + 64) == MAIF_OK) {
                    rc = MAIF_OK;
                    break;
                }
            }
        } else if ((kind == ST_ARGON2 && blen == BODY_ARGON2) || (kind == ST_PBKDF2 && blen == BODY_PBKDF2)) {
            uint64_t ops = 0, mem = 0;
            uint32_t iter = 0;
            const uint8_t *w;
            if (kind == ST_ARGON2) {
                ops = get32(b + 16);
                mem = (uint64_t)get32(b + 20) << 10;
                w = b + 24;
                if (ops < 1 || ops > ARGON_OPS_CAP || mem < 8192 || mem > ARGON_MEM_CAP) {
                    rc = maif_set_err(why, whycap, MAIF_EFORMAT,
                                      "Argon2id parameters t=%llu m=%llu KiB exceed what a reader accepts",
                                      (unsigned long long)ops, (unsigned long long)(mem >> 10));
                    break;
                }
            } else {
                iter = get32(b + 16);
                w = b + 20;
                if (iter < 1 || iter > PBKDF2_ITER_CAP) {
                    rc = maif_set_err(why, whycap, MAIF_EFORMAT, "PBKDF2 with %u rounds exceeds what a reader accepts",
                                      iter);
                    break;
                }
            }
            for (size_t i = 0; i < kr->npass && rc == MAIF_EACCESS && tried_pass < MAX_PASS_TRY; i++, tried_pass++) {
                int e = pass_kek(kek, kind, kr->sec->pass[i], kr->pass_len[i], b, ops, mem, iter);
                if (e) {
                    rc = maif_set_err(why, whycap, e, "the passphrase KDF failed");
                    break;
                }
                if (unwrap(dk, kek, kind, key_id, w) == MAIF_OK) rc = MAIF_OK;
            }
        } /* other kinds: for other readers */
    }
    maif_secret_free(kek);
    if (rc == MAIF_EACCESS) maif_set_err(why, whycap, rc, "no identity or passphrase in the keyring opens it");
    return rc;
}

/* ---- writer */

int maif_writer_encrypt(maif_writer *w, maif_keyring *kr, int cipher)
{
    if (!w) return maif_set_last_err(MAIF_EINVAL, "maif_writer_encrypt: NULL writer");
    maif_stage_config cfg = {.codec = w->stages.codec};
    if (cipher == 0) {
        if (cfg.codec == 0) return nat_writer_set_stages(w, NULL);
        return nat_writer_set_stages(w, &cfg);
    }
    if (!kr) return nat_writer_fail(w, MAIF_EINVAL, "maif_writer_encrypt: NULL keyring");
    if (cipher < MAIF_CIPHER_XCHACHA20 || cipher > MAIF_CIPHER_AES256GCM)
        return nat_writer_fail(w, MAIF_EINVAL, "unknown cipher %d", cipher);
    if (!maif_aead_available(cipher))
        return nat_writer_fail(w, MAIF_EUNSUPPORTED, "AES-256-GCM needs AES-NI and PCLMUL, which this CPU lacks");
    pthread_mutex_lock(&kr->lock);
    int rc = MAIF_OK;
    size_t slot = kr->ndk;
    if (kr->nrcpt + kr->npass == 0)
        rc = nat_writer_fail(w, MAIF_EINVAL, "encryption needs at least one recipient or passphrase");
    else if (slot == MAX_DK)
        rc = nat_writer_fail(w, MAIF_ELIMIT, "the keyring holds %d data keys already", MAX_DK);
    uint8_t payload[5 + MAX_STANZAS * (3 + BODY_X25519)];
    size_t len = 0;
    uint8_t key_id[MAIF_ID_BYTES];
    if (!rc) {
        maif_random(key_id, sizeof key_id);
        maif_random(kr->sec->dk[slot], MAIF_AEAD_KEY_BYTES);
        rc = build_keyw(kr, kr->sec->dk[slot], key_id, payload, sizeof payload, &len);
        if (rc) rc = nat_writer_fail(w, rc, "cannot wrap the data key");
    }
    if (!rc) {
        maif_block_spec sp = {.type = MAIF_TYPE_KEYWRAP, .payload = payload, .payload_size = len, .id = key_id};
        rc = priv_add_plain(w, &sp, NULL); /* the key-wrap block itself is stored as is */
    }
    if (!rc) {
        memcpy(kr->dk_id[slot], key_id, MAIF_ID_BYTES);
        kr->ndk++;
        cfg.cipher = (uint8_t)cipher;
        cfg.keyring = &kr->src;
        cfg.key_id = kr->dk_id[slot];
        cfg.key_id_len = MAIF_ID_BYTES;
        rc = nat_writer_set_stages(w, &cfg);
    } else if (slot < MAX_DK) {
        maif_wipe(kr->sec->dk[slot], MAIF_AEAD_KEY_BYTES);
    }
    pthread_mutex_unlock(&kr->lock);
    if (rc) maif_set_last_err(rc, "%s", maif_writer_errmsg(w));
    return rc;
}

/* ---- reader */

#define MAX_VERSIONS 16 /* key-wrap versions (rotations) a reader tries, newest first */

/* Opens the data key named id (a KEYW block id) in r with kr's identities
 * and passphrases: the newest versions of its supersedes chain first
 * (rotations re-wrap the same key, their stanzas bound to id). */
static int open_chain(maif_keyring *kr, maif_reader *r, const uint8_t *id, uint8_t *dk)
{
    uint64_t idx;
    maif_block b;
    if (maif_reader_find(r, id, &idx) != MAIF_OK || maif_reader_block(r, idx, &b) != MAIF_OK ||
        b.type != MAIF_TYPE_KEYWRAP || b.codec || b.cipher)
        return MAIF_EACCESS; /* the key-wrap block is missing */
    size_t n = 0;
    if (maif_reader_history(r, id, NULL, 0, &n) != MAIF_OK || n == 0) return MAIF_EACCESS;
    uint64_t *ix = maif_malloc(n * sizeof *ix); /* n ≤ the block count */
    if (!ix) return MAIF_ENOMEM;
    if (maif_reader_history(r, id, ix, n, &n) != MAIF_OK) {
        maif_free(ix);
        return MAIF_EACCESS;
    }
    char why[160];
    int rc = MAIF_EACCESS;
    for (size_t k = n, tried = 0; k-- > 0 && rc == MAIF_EACCESS && tried < MAX_VERSIONS;) {
        if (ix[k] < idx) break; /* before the named block: wrapped under other ids */
        if (maif_reader_block(r, ix[k], &b) != MAIF_OK || b.type != MAIF_TYPE_KEYWRAP || b.codec || b.cipher)
            continue;
        tried++;
        rc = open_keyw(kr, id, b.payload, (size_t)b.payload_size, dk, why, sizeof why);
        if (rc == MAIF_EFORMAT) rc = MAIF_EACCESS; /* a malformed wrap opens nothing */
    }
    maif_free(ix);
    return rc;
}

/* Caches dk under id in kr (unless it is there); *key receives the cached
 * copy. */
static int cache_key(maif_keyring *kr, const uint8_t *id, const uint8_t *dk, const uint8_t **key)
{
    int rc = MAIF_OK;
    pthread_mutex_lock(&kr->lock);
    if (!(*key = cached(kr, id, MAIF_ID_BYTES))) {
        if (kr->ndk == MAX_DK) rc = MAIF_EACCESS;
        else {
            memcpy(kr->sec->dk[kr->ndk], dk, MAIF_AEAD_KEY_BYTES);
            memcpy(kr->dk_id[kr->ndk], id, MAIF_ID_BYTES);
            *key = kr->sec->dk[kr->ndk++];
        }
    }
    pthread_mutex_unlock(&kr->lock);
    return rc;
}

static int bound_lookup(const maif_keysrc *self, const uint8_t *id, size_t id_len, const uint8_t **key)
{
    const binding *bd = (const binding *)self;
    maif_keyring *kr = bd->kr;
    if (ring_lookup(&kr->src, id, id_len, key) == MAIF_OK) return MAIF_OK;
    if (id_len != MAIF_ID_BYTES) return MAIF_EACCESS;
    uint8_t *dk = maif_secret_alloc(MAIF_AEAD_KEY_BYTES);
    if (!dk) return MAIF_ENOMEM;
    int rc = open_chain(kr, bd->r, id, dk);
    if (!rc) rc = cache_key(kr, id, dk, key);
    maif_secret_free(dk);
    return rc;
}

/* ---- following an artifact's grants and revocations */

static void drop_rcpt_locked(maif_keyring *kr, const uint8_t x[32])
{
    for (size_t i = 0; i < kr->nrcpt; i++)
        if (memcmp(kr->rcpt[i], x, 32) == 0) {
            memmove(kr->rcpt[i], kr->rcpt[i + 1], (kr->nrcpt - i - 1) * 32);
            memmove(kr->rcpt_ed[i], kr->rcpt_ed[i + 1], (kr->nrcpt - i - 1) * 32);
            kr->nrcpt--;
            return;
        }
}

static void unrevoke_locked(maif_keyring *kr, const uint8_t x[32])
{
    for (size_t i = 0; i < kr->nrevoked; i++)
        if (memcmp(kr->revoked[i], x, 32) == 0) {
            memmove(kr->revoked[i], kr->revoked[i + 1], (kr->nrevoked - i - 1) * 32);
            kr->nrevoked--;
            return;
        }
}

int maif_keyring_follow(maif_keyring *kr, maif_reader *r)
{
    if (!kr || !r) return maif_set_last_err(MAIF_EINVAL, "maif_keyring_follow: NULL argument");
    uint64_t n = maif_reader_count(r);
    int rc = MAIF_OK;
    maif_policy *pol = NULL;
    char why[256];
    if (priv_current_policy(r, &pol, NULL, why, sizeof why) != MAIF_OK)
        return maif_set_last_err(MAIF_EACCESS, "%s", why); /* fail closed: no grants from an untrusted policy */
    int admins = maif_policy_has_admins(pol);
    for (uint64_t i = 0; i < n && !rc; i++) {
        maif_block b;
        uint8_t actor[32];
        if (maif_reader_block(r, i, &b) != MAIF_OK || b.type != MAIF_TYPE_AUDIT) continue;
        if (priv_check_signed(r, &b, actor) != MAIF_OK) continue; /* not signed: ignored */
        if (admins && !maif_policy_has_role(pol, actor, "admin")) continue; /* only admins grant and revoke */
        char action[16];
        uint8_t pk[MAIF_PUBKEY_BYTES], x[32];
        if (priv_audit_recipient(&b, action, sizeof action, pk) != MAIF_OK) continue;
        if (maif_ed25519_pk_to_x25519(x, pk)) continue;
        pthread_mutex_lock(&kr->lock);
        if (!strcmp(action, "grant")) {
            unrevoke_locked(kr, x);
            rc = add_rcpt_locked(kr, x, pk);
        } else if (!strcmp(action, "revoke")) {
            drop_rcpt_locked(kr, x);
            int seen = 0;
            for (size_t k = 0; k < kr->nrevoked; k++) seen |= memcmp(kr->revoked[k], x, 32) == 0;
            if (!seen && kr->nrevoked == MAX_REVOKED) rc = MAIF_ELIMIT;
            else if (!seen) memcpy(kr->revoked[kr->nrevoked++], x, 32);
        }
        pthread_mutex_unlock(&kr->lock);
    }
    maif_policy_free(pol);
    if (rc == MAIF_ELIMIT) return maif_set_last_err(rc, "more than %d recipients granted or revoked", MAX_RCPT);
    return MAIF_OK;
}

/* ---- rotation: new key-wrap versions for the same data keys */

static int cmp_id(const void *a, const void *b) { return memcmp(a, b, MAIF_ID_BYTES); }

int maif_keyring_rewrap(maif_keyring *kr, maif_reader *r, maif_writer *w, uint64_t *rewrapped, uint64_t *unopened)
{
    if (!kr || !r || !w) return maif_set_last_err(MAIF_EINVAL, "maif_keyring_rewrap: NULL argument");
    if (rewrapped) *rewrapped = 0;
    if (unopened) *unopened = 0;
    if (kr->nrcpt + kr->npass == 0)
        return maif_set_last_err(MAIF_EINVAL, "re-wrapping needs at least one recipient or passphrase");
    uint64_t n = maif_reader_count(r), nsup = 0;
    uint8_t (*sup)[MAIF_ID_BYTES] = NULL;
    for (uint64_t i = 0; i < n; i++) { /* ids superseded by a key-wrap version: not chain heads */
        maif_block b;
        if (maif_reader_block(r, i, &b) != MAIF_OK || b.type != MAIF_TYPE_KEYWRAP || !b.has_supersedes) continue;
        if ((nsup & (nsup - 1)) == 0) { /* grow at powers of two */
            void *q = maif_realloc(sup, (size_t)(nsup ? 2 * nsup : 1) * MAIF_ID_BYTES);
            if (!q) {
                maif_free(sup);
                return maif_set_last_err(MAIF_ENOMEM, "out of memory");
            }
            sup = q;
        }
        memcpy(sup[nsup++], b.supersedes, MAIF_ID_BYTES);
    }
    if (nsup) qsort(sup, (size_t)nsup, MAIF_ID_BYTES, cmp_id);
    uint8_t *dk = maif_secret_alloc(MAIF_AEAD_KEY_BYTES);
    uint8_t *payload = maif_malloc(5 + MAX_STANZAS * (3 + BODY_X25519));
    int rc = dk && payload ? MAIF_OK : MAIF_ENOMEM;
    for (uint64_t i = 0; i < n && !rc; i++) {
        maif_block b;
        if (maif_reader_block(r, i, &b) != MAIF_OK || b.type != MAIF_TYPE_KEYWRAP || b.codec || b.cipher) continue;
        if (nsup && bsearch(b.id, sup, (size_t)nsup, MAIF_ID_BYTES, cmp_id)) continue;
        uint64_t root = i;
        size_t hn = 0;
        if (b.has_supersedes) { /* a rotated version: its stanzas are bound to the chain's first id */
            uint64_t first;
            if (maif_reader_history(r, b.id, &first, 1, &hn) != MAIF_OK || hn == 0) continue;
            root = first;
        }
        maif_block rb;
        if (maif_reader_block(r, root, &rb) != MAIF_OK || rb.type != MAIF_TYPE_KEYWRAP) continue;
        if (open_chain(kr, r, rb.id, dk) != MAIF_OK) {
            if (unopened) (*unopened)++;
            continue;
        }
        size_t len = 0;
        pthread_mutex_lock(&kr->lock);
        rc = build_keyw(kr, dk, rb.id, payload, 0, &len);
        pthread_mutex_unlock(&kr->lock);
        if (rc) break;
        maif_block_spec sp = {.type = MAIF_TYPE_KEYWRAP, .payload = payload, .payload_size = len,
                              .supersedes = b.id};
        rc = priv_add_plain(w, &sp, NULL);
        if (!rc && rewrapped) (*rewrapped)++;
    }
    if (dk) maif_secret_free(dk);
    maif_free(payload);
    maif_free(sup);
    if (rc) return maif_set_last_err(rc, "cannot re-wrap the data keys: %s", maif_writer_errmsg(w));
    return MAIF_OK;
}

int maif_reader_set_keyring(maif_reader *r, maif_keyring *kr)
{
    if (!r) return maif_set_last_err(MAIF_EINVAL, "maif_reader_set_keyring: NULL reader");
    if (!kr) {
        maif_reader_set_keysrc(r, NULL, NULL);
        return MAIF_OK;
    }
    binding *bd = maif_malloc(sizeof *bd);
    if (!bd) return maif_set_last_err(MAIF_ENOMEM, "out of memory");
    bd->src.lookup = bound_lookup;
    bd->kr = kr;
    bd->r = r;
    maif_reader_set_keysrc(r, bd, maif_free);
    return MAIF_OK;
}
