/*
 * sig.c — RSA-PSS and ECDSA P-256 beside Ed25519, through OpenSSL's EVP.
 *
 * Both sign the same 48-byte commit message as Ed25519 (domain ‖ record
 * hash) with SHA-256. RSA-PSS uses MGF1-SHA-256 and a 32-byte salt (the
 * hash length; RFC 8017 §9.1 recommends it, and PKCS#11 tokens do it).
 * ECDSA signatures are stored as r ‖ s, 32 bytes each (IEEE P1363, what
 * PKCS#11 returns), not DER, so their length is fixed. Public keys travel
 * as DER SubjectPublicKeyInfo with the plain rsaEncryption or
 * id-ecPublicKey algorithm, the form CSRs and certificates carry.
 *
 * Verification decodes the key from the commit every time and checks its
 * type and size before use: a commit names the key it claims, and a
 * hostile one must not make us verify under a 16-bit RSA key or another
 * curve.
 */
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <sodium.h>
#include <string.h>

#include "crypto/key_impl.h"
#include "util/alloc.h"
#include "util/common.h"

const char *maif_sig_alg_name(int alg)
{
    switch (alg) {
    case MAIF_SIG_ED25519: return "ed25519";
    case MAIF_SIG_RSA_PSS: return "rsa-pss";
    case MAIF_SIG_P256: return "p256";
    default: return "unknown";
    }
}

/* The algorithm a decoded OpenSSL key can serve, 0 if none. */
static int pkey_alg(const EVP_PKEY *p)
{
    int id = EVP_PKEY_get_base_id(p);
    if (id == EVP_PKEY_ED25519) return MAIF_SIG_ED25519;
    if (id == EVP_PKEY_RSA) {
        int bits = EVP_PKEY_get_bits(p);
        return bits >= MAIF_RSA_MIN_BITS && bits <= MAIF_RSA_MAX_BITS ? MAIF_SIG_RSA_PSS : 0;
    }
    if (id == EVP_PKEY_EC) {
        char g[64];
        size_t gl = 0;
        if (EVP_PKEY_get_utf8_string_param(p, OSSL_PKEY_PARAM_GROUP_NAME, g, sizeof g, &gl) != 1) return 0;
        return strcmp(g, "prime256v1") == 0 || strcmp(g, "P-256") == 0 ? MAIF_SIG_P256 : 0;
    }
    return 0;
}

static const char *pkey_type_name(const EVP_PKEY *p)
{
    int id = EVP_PKEY_get_base_id(p);
    return id == EVP_PKEY_RSA ? "an RSA key outside 2048..8192 bits"
           : id == EVP_PKEY_EC ? "an EC key on a curve other than P-256"
                               : "a key type maif does not sign with";
}

int maif_key_adopt_evp(struct maif_key *k, EVP_PKEY *pkey)
{
    int alg = pkey_alg(pkey);
    if (!alg) {
        const char *what = pkey_type_name(pkey);
        EVP_PKEY_free(pkey);
        return maif_set_last_err(MAIF_EKEY, "%s (supported: ed25519, rsa-pss 2048..8192 bits, p256)", what);
    }
    if (alg == MAIF_SIG_ED25519) {
        uint8_t seed[32];
        size_t sl = sizeof seed;
        int ok = EVP_PKEY_get_raw_private_key(pkey, seed, &sl) == 1 && sl == 32;
        EVP_PKEY_free(pkey);
        if (!ok) return maif_set_last_err(MAIF_EKEY, "Ed25519 key without its private half");
        crypto_sign_seed_keypair(k->pk, k->sk, seed);
        sodium_memzero(seed, sizeof seed);
        k->alg = MAIF_SIG_ED25519;
        memcpy(k->spki, k->pk, 32);
        k->spki_len = 32;
        return MAIF_OK;
    }
    unsigned char *der = NULL;
    int n = i2d_PUBKEY(pkey, &der);
    if (n <= 0 || (size_t)n > MAIF_SPKI_MAX) {
        OPENSSL_free(der);
        EVP_PKEY_free(pkey);
        return maif_set_last_err(MAIF_EKEY, "public key does not encode (or is over %u bytes)", MAIF_SPKI_MAX);
    }
    memcpy(k->spki, der, (size_t)n);
    k->spki_len = (uint16_t)n;
    OPENSSL_free(der);
    maif_sha256(k->spki, k->spki_len, k->pk);
    k->alg = alg;
    k->evp = pkey;
    return MAIF_OK;
}

int maif_key_generate_evp(struct maif_key *k, int alg, unsigned bits)
{
    EVP_PKEY *p = NULL;
    if (alg == MAIF_SIG_RSA_PSS)
        p = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)(bits ? bits : MAIF_RSA_DEFAULT_BITS));
    else if (alg == MAIF_SIG_P256)
        p = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    if (!p) return maif_set_last_err(MAIF_EKEY, "OpenSSL could not generate a %s key", maif_sig_alg_name(alg));
    return maif_key_adopt_evp(k, p);
}

int maif_key_from_pem(struct maif_key *k, const char *pem)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    if (!b) return maif_set_last_err(MAIF_ENOMEM, "out of memory");
    EVP_PKEY *p = PEM_read_bio_PrivateKey(b, NULL, NULL, (void *)"");
    BIO_free(b);
    ERR_clear_error();
    if (!p) return maif_set_last_err(MAIF_EKEY, "not an unencrypted PEM private key");
    return maif_key_adopt_evp(k, p);
}

static char *bio_text(BIO *b)
{
    char *data = NULL;
    long n = BIO_get_mem_data(b, &data);
    if (n <= 0) return NULL;
    char *s = maif_malloc((size_t)n + 1);
    if (!s) return NULL;
    memcpy(s, data, (size_t)n);
    s[n] = 0;
    return s;
}

int maif_key_pem(const struct maif_key *k, char **secret, char **pub)
{
    *secret = *pub = NULL;
    BIO *bs = BIO_new(BIO_s_secmem());
    BIO *bp = BIO_new(BIO_s_mem());
    int ok = bs && bp && PEM_write_bio_PrivateKey(bs, k->evp, NULL, NULL, 0, NULL, NULL) == 1 &&
             PEM_write_bio_PUBKEY(bp, k->evp) == 1;
    if (ok) {
        *secret = bio_text(bs);
        *pub = bio_text(bp);
    }
    BIO_free(bs);
    BIO_free(bp);
    if (!*secret || !*pub) {
        if (*secret) {
            sodium_memzero(*secret, strlen(*secret));
            maif_free(*secret);
        }
        maif_free(*pub);
        *secret = *pub = NULL;
        return maif_set_last_err(MAIF_ENOMEM, "out of memory encoding the key");
    }
    return MAIF_OK;
}

int maif_pubkey_from_pem(const char *pem, int *alg, uint8_t id[32], uint8_t *spki, size_t *spki_len)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    if (!b) return maif_set_last_err(MAIF_ENOMEM, "out of memory");
    EVP_PKEY *p = PEM_read_bio_PUBKEY(b, NULL, NULL, NULL);
    BIO_free(b);
    ERR_clear_error();
    if (!p) return maif_set_last_err(MAIF_EKEY, "not a PEM public key");
    int a = pkey_alg(p);
    int rc = MAIF_OK;
    if (!a) {
        rc = maif_set_last_err(MAIF_EKEY, "%s", pkey_type_name(p));
    } else if (a == MAIF_SIG_ED25519) {
        size_t l = 32;
        if (EVP_PKEY_get_raw_public_key(p, id, &l) != 1 || l != 32) rc = maif_set_last_err(MAIF_EKEY, "bad Ed25519 key");
        if (!rc && spki) memcpy(spki, id, 32);
        if (!rc && spki_len) *spki_len = 32;
    } else {
        unsigned char *der = NULL;
        int n = i2d_PUBKEY(p, &der);
        if (n <= 0 || (size_t)n > MAIF_SPKI_MAX)
            rc = maif_set_last_err(MAIF_EKEY, "public key over %u bytes", MAIF_SPKI_MAX);
        else {
            maif_sha256(der, (size_t)n, id);
            if (spki) memcpy(spki, der, (size_t)n);
            if (spki_len) *spki_len = (size_t)n;
        }
        OPENSSL_free(der);
    }
    EVP_PKEY_free(p);
    if (!rc) *alg = a;
    return rc;
}

/* PSS parameters on a DigestSign/Verify context. */
static int pss_params(EVP_PKEY_CTX *pc)
{
    return EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING) == 1 &&
           EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, 32) == 1 && EVP_PKEY_CTX_set_rsa_mgf1_md(pc, EVP_sha256()) == 1;
}

size_t maif_key_sig_len(const maif_key *key)
{
    if (key->p11) return key->sig_len ? key->sig_len : 64;
    if (key->alg == MAIF_SIG_RSA_PSS) return (size_t)EVP_PKEY_get_size(key->evp);
    return 64;
}

int maif_key_evp_sign(const maif_key *key, const void *msg, size_t n, uint8_t *sig, size_t cap, size_t *len);
int maif_key_evp_sign(const maif_key *key, const void *msg, size_t n, uint8_t *sig, size_t cap, size_t *len)
{
    size_t want = maif_key_sig_len(key);
    if (cap < want) return maif_set_last_err(MAIF_ELIMIT, "signature buffer too small");
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pc = NULL;
    uint8_t der[80];
    size_t dl = sizeof der;
    int ok = ctx && EVP_DigestSignInit(ctx, &pc, EVP_sha256(), NULL, key->evp) == 1;
    if (ok && key->alg == MAIF_SIG_RSA_PSS) {
        size_t sl = cap;
        ok = pss_params(pc) && EVP_DigestSign(ctx, sig, &sl, msg, n) == 1 && sl == want;
    } else if (ok) {
        ok = EVP_DigestSign(ctx, der, &dl, msg, n) == 1;
        const unsigned char *q = der;
        ECDSA_SIG *es = ok ? d2i_ECDSA_SIG(NULL, &q, (long)dl) : NULL;
        const BIGNUM *r = NULL, *s = NULL;
        if (es) ECDSA_SIG_get0(es, &r, &s);
        ok = es && BN_bn2binpad(r, sig, 32) == 32 && BN_bn2binpad(s, sig + 32, 32) == 32;
        ECDSA_SIG_free(es);
    }
    EVP_MD_CTX_free(ctx);
    ERR_clear_error();
    if (!ok) return maif_set_last_err(MAIF_EKEY, "OpenSSL could not sign with the %s key", maif_sig_alg_name(key->alg));
    *len = want;
    return MAIF_OK;
}

/*
 * The last public key decoded, kept decoded. Decoding an RSA or EC key
 * through OpenSSL 3's decoders costs more than verifying with it (about
 * 100 us here), and a file's commits usually name the same key, so one
 * entry saves most of it. Shared by all threads under a lock; a user holds
 * its own reference, so replacing the entry never frees a key in use.
 */
static struct {
    pthread_mutex_t lock;
    int alg;
    size_t len;
    uint8_t der[MAIF_SPKI_MAX];
    EVP_PKEY *key;
} key_cache = {PTHREAD_MUTEX_INITIALIZER, 0, 0, {0}, NULL};

/* A reference to the decoded key (alg checked), or NULL. */
static EVP_PKEY *decode_pub(int alg, const uint8_t *pk, size_t pk_len)
{
    EVP_PKEY *key = NULL;
    pthread_mutex_lock(&key_cache.lock);
    if (key_cache.key && key_cache.alg == alg && key_cache.len == pk_len && memcmp(key_cache.der, pk, pk_len) == 0 &&
        EVP_PKEY_up_ref(key_cache.key) == 1)
        key = key_cache.key;
    pthread_mutex_unlock(&key_cache.lock);
    if (key) return key;
    const unsigned char *q = pk;
    key = d2i_PUBKEY(NULL, &q, (long)pk_len);
    if (!key || q != pk + pk_len || pkey_alg(key) != alg) {
        EVP_PKEY_free(key);
        return NULL;
    }
    pthread_mutex_lock(&key_cache.lock);
    if (EVP_PKEY_up_ref(key) == 1) {
        EVP_PKEY_free(key_cache.key);
        key_cache.key = key;
        key_cache.alg = alg;
        key_cache.len = pk_len;
        memcpy(key_cache.der, pk, pk_len);
    }
    pthread_mutex_unlock(&key_cache.lock);
    return key;
}

int maif_sig_verify(int alg, const uint8_t *pk, size_t pk_len, const void *msg, size_t n, const uint8_t *sig,
                    size_t sig_len)
{
    if (maif_crypto_init()) return 0;
    if (alg == MAIF_SIG_ED25519)
        return pk_len == 32 && sig_len == 64 && maif_ed25519_verify(pk, msg, n, sig);
    if ((alg != MAIF_SIG_RSA_PSS && alg != MAIF_SIG_P256) || pk_len > MAIF_SPKI_MAX || sig_len > MAIF_SIG_MAX)
        return 0;
    EVP_PKEY *key = decode_pub(alg, pk, pk_len);
    int ok = key != NULL;
    uint8_t der[80];
    int dl = 0;
    if (ok && alg == MAIF_SIG_RSA_PSS) {
        ok = sig_len == (size_t)EVP_PKEY_get_size(key);
    } else if (ok) {
        ECDSA_SIG *es = ECDSA_SIG_new();
        BIGNUM *r = sig_len == 64 ? BN_bin2bn(sig, 32, NULL) : NULL;
        BIGNUM *s = sig_len == 64 ? BN_bin2bn(sig + 32, 32, NULL) : NULL;
        if (es && r && s && ECDSA_SIG_set0(es, r, s) == 1) {
            r = s = NULL;
            unsigned char *w = der;
            dl = i2d_ECDSA_SIG(es, NULL);
            ok = dl > 0 && dl <= (int)sizeof der && i2d_ECDSA_SIG(es, &w) == dl;
        } else {
            ok = 0;
        }
        BN_free(r);
        BN_free(s);
        ECDSA_SIG_free(es);
    }
    EVP_MD_CTX *ctx = ok ? EVP_MD_CTX_new() : NULL;
    EVP_PKEY_CTX *pc = NULL;
    ok = ctx && EVP_DigestVerifyInit(ctx, &pc, EVP_sha256(), NULL, key) == 1 &&
         (alg != MAIF_SIG_RSA_PSS || pss_params(pc)) &&
         (alg == MAIF_SIG_RSA_PSS ? EVP_DigestVerify(ctx, sig, sig_len, msg, n)
                                  : EVP_DigestVerify(ctx, der, (size_t)dl, msg, n)) == 1;
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(key);
    ERR_clear_error();
    return ok;
}

EVP_PKEY *maif_key_to_evp(const struct maif_key *k)
{
    if (k->p11) return NULL; /* the secret stays on the token */
    if (k->alg == MAIF_SIG_ED25519) return EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, k->sk, 32);
    return k->evp && EVP_PKEY_up_ref(k->evp) == 1 ? k->evp : NULL;
}
