/*
 * aead.c — AEADs and KDFs over libsodium and OpenSSL (see aead.h).
 *
 * AES-256-GCM has two engines: libsodium's (AES-NI, lowest fixed cost, so
 * it wins on small buffers) and OpenSSL's EVP (stitched AES-NI/PCLMUL
 * loops that win on large ones). Both compute the same standard GCM; which
 * runs is a matter of speed only, and the tests check each against the
 * same vectors. libsodium's availability check gates both, so a machine
 * without AES-NI gets a clear MAIF_EUNSUPPORTED and never a slow fallback
 * that would leak timing.
 */
#include <string.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "crypto/aead.h"
#include "crypto/crypto.h"
#include "util/common.h"

size_t maif_aead_nonce_bytes(int alg)
{
    switch (alg) {
    case MAIF_AEAD_XCHACHA20: return crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
    case MAIF_AEAD_CHACHA20: return crypto_aead_chacha20poly1305_ietf_NPUBBYTES;
    case MAIF_AEAD_AES256GCM: return crypto_aead_aes256gcm_NPUBBYTES;
    default: return 0;
    }
}

int maif_aead_available(int alg)
{
    if (maif_crypto_init()) return 0;
    switch (alg) {
    case MAIF_AEAD_XCHACHA20:
    case MAIF_AEAD_CHACHA20: return 1;
    case MAIF_AEAD_AES256GCM: return crypto_aead_aes256gcm_is_available();
    default: return 0;
    }
}

static int evp_gcm(int enc, uint8_t *dst, const uint8_t *src, size_t n, const uint8_t *ad, size_t ad_len,
                   const uint8_t *nonce, const uint8_t *key, const uint8_t *tag_in, uint8_t *tag_out)
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    if (!c) return MAIF_ENOMEM;
    int ok = 1, len = 0;
    ok &= EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, key, nonce, enc) == 1;
    /* EVP takes int lengths: feed in pieces */
    while (ok && ad_len) {
        int k = ad_len > (1u << 30) ? (1 << 30) : (int)ad_len;
        ok &= EVP_CipherUpdate(c, NULL, &len, ad, k) == 1;
        ad += k;
        ad_len -= (size_t)k;
    }
    while (ok && n) {
        int k = n > (1u << 30) ? (1 << 30) : (int)n;
        ok &= EVP_CipherUpdate(c, dst, &len, src, k) == 1;
        dst += k;
        src += k;
        n -= (size_t)k;
    }
    if (ok && !enc) ok &= EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, MAIF_AEAD_TAG_BYTES, (void *)tag_in) == 1;
    if (ok) ok &= EVP_CipherFinal_ex(c, dst, &len) == 1;
    if (ok && enc) ok &= EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, MAIF_AEAD_TAG_BYTES, tag_out) == 1;
    EVP_CIPHER_CTX_free(c);
    return ok ? MAIF_OK : (enc ? MAIF_ENOMEM : MAIF_EVERIFY);
}

int maif_aead_aes_seal_with(int evp, uint8_t *dst, const uint8_t *src, size_t n, const uint8_t *ad, size_t ad_len,
                            const uint8_t *nonce, const uint8_t key[MAIF_AEAD_KEY_BYTES])
{
    if (!maif_aead_available(MAIF_AEAD_AES256GCM)) return MAIF_EUNSUPPORTED;
    if (n > crypto_aead_aes256gcm_MESSAGEBYTES_MAX) return MAIF_ELIMIT;
    if (evp) return evp_gcm(1, dst, src, n, ad, ad_len, nonce, key, NULL, dst + n);
    unsigned long long clen;
    crypto_aead_aes256gcm_encrypt(dst, &clen, src, n, ad, ad_len, NULL, nonce, key);
    return MAIF_OK;
}

int maif_aead_aes_open_with(int evp, uint8_t *dst, const uint8_t *src, size_t n, const uint8_t *ad, size_t ad_len,
                            const uint8_t *nonce, const uint8_t key[MAIF_AEAD_KEY_BYTES])
{
    if (!maif_aead_available(MAIF_AEAD_AES256GCM)) return MAIF_EUNSUPPORTED;
    if (n < MAIF_AEAD_TAG_BYTES) return MAIF_EVERIFY;
    size_t m = n - MAIF_AEAD_TAG_BYTES;
    int rc;
    if (evp) {
        /* EVP decrypts before it checks the tag: into dst, which is wiped
         * if the tag is wrong, so no unauthenticated byte is released */
        rc = evp_gcm(0, dst, src, m, ad, ad_len, nonce, key, src + m, NULL);
    } else {
        unsigned long long mlen;
        rc = crypto_aead_aes256gcm_decrypt(dst, &mlen, NULL, src, n, ad, ad_len, nonce, key) == 0 ? MAIF_OK
                                                                                                  : MAIF_EVERIFY;
    }
    if (rc && m) sodium_memzero(dst, m);
    return rc;
}

int maif_aead_seal(int alg, uint8_t *dst, const uint8_t *src, size_t n, const uint8_t *ad, size_t ad_len,
                   const uint8_t *nonce, const uint8_t key[MAIF_AEAD_KEY_BYTES])
{
    if (!maif_aead_available(alg)) return MAIF_EUNSUPPORTED;
    unsigned long long clen;
    switch (alg) {
    case MAIF_AEAD_XCHACHA20:
        if (n > crypto_aead_xchacha20poly1305_ietf_MESSAGEBYTES_MAX) return MAIF_ELIMIT;
        crypto_aead_xchacha20poly1305_ietf_encrypt(dst, &clen, src, n, ad, ad_len, NULL, nonce, key);
        return MAIF_OK;
    case MAIF_AEAD_CHACHA20:
        if (n > crypto_aead_chacha20poly1305_ietf_MESSAGEBYTES_MAX) return MAIF_ELIMIT;
        crypto_aead_chacha20poly1305_ietf_encrypt(dst, &clen, src, n, ad, ad_len, NULL, nonce, key);
        return MAIF_OK;
    default:
        return maif_aead_aes_seal_with(n >= MAIF_AEAD_AES_EVP_MIN, dst, src, n, ad, ad_len, nonce, key);
    }
}

int maif_aead_open(int alg, uint8_t *dst, const uint8_t *src, size_t n, const uint8_t *ad, size_t ad_len,
                   const uint8_t *nonce, const uint8_t key[MAIF_AEAD_KEY_BYTES])
{
    if (!maif_aead_available(alg)) return MAIF_EUNSUPPORTED;
    if (n < MAIF_AEAD_TAG_BYTES) return MAIF_EVERIFY;
    unsigned long long mlen;
    int ok;
    switch (alg) {
    case MAIF_AEAD_XCHACHA20:
        ok = crypto_aead_xchacha20poly1305_ietf_decrypt(dst, &mlen, NULL, src, n, ad, ad_len, nonce, key) == 0;
        break;
    case MAIF_AEAD_CHACHA20:
        ok = crypto_aead_chacha20poly1305_ietf_decrypt(dst, &mlen, NULL, src, n, ad, ad_len, nonce, key) == 0;
        break;
    default:
        return maif_aead_aes_open_with(n - MAIF_AEAD_TAG_BYTES >= MAIF_AEAD_AES_EVP_MIN, dst, src, n, ad, ad_len,
                                       nonce, key);
    }
    if (!ok) {
        if (n > MAIF_AEAD_TAG_BYTES) sodium_memzero(dst, n - MAIF_AEAD_TAG_BYTES);
        return MAIF_EVERIFY;
    }
    return MAIF_OK;
}

void maif_key_commitment(uint8_t out[MAIF_COMMIT_BYTES], const uint8_t key[MAIF_AEAD_KEY_BYTES], const uint8_t *nonce,
                         size_t nonce_len, const uint8_t *ad, size_t ad_len)
{
    static const char label[] = "maif key commitment v1";
    crypto_generichash_state st;
    crypto_generichash_init(&st, key, MAIF_AEAD_KEY_BYTES, MAIF_COMMIT_BYTES);
    crypto_generichash_update(&st, (const uint8_t *)label, sizeof label - 1);
    crypto_generichash_update(&st, nonce, nonce_len);
    crypto_generichash_update(&st, ad, ad_len);
    crypto_generichash_final(&st, out, MAIF_COMMIT_BYTES);
    sodium_memzero(&st, sizeof st);
}

void maif_stream_subkey(uint8_t out[MAIF_AEAD_KEY_BYTES], const uint8_t key[MAIF_AEAD_KEY_BYTES], uint8_t cipher,
                        const uint8_t nonce[MAIF_STREAM_NONCE_BYTES])
{
    static const char label[] = "maif stream subkey v1";
    crypto_generichash_state st;
    crypto_generichash_init(&st, key, MAIF_AEAD_KEY_BYTES, MAIF_AEAD_KEY_BYTES);
    crypto_generichash_update(&st, (const uint8_t *)label, sizeof label - 1);
    crypto_generichash_update(&st, &cipher, 1);
    crypto_generichash_update(&st, nonce, MAIF_STREAM_NONCE_BYTES);
    crypto_generichash_final(&st, out, MAIF_AEAD_KEY_BYTES);
    sodium_memzero(&st, sizeof st);
}

void maif_hkdf_sha256(uint8_t *out, size_t out_len, const uint8_t *ikm, size_t ikm_len, const uint8_t *salt,
                      size_t salt_len, const uint8_t *info, size_t info_len)
{
    static const uint8_t zero[32];
    uint8_t prk[32], t[32];
    crypto_auth_hmacsha256_state st;
    if (!salt || !salt_len) salt = zero, salt_len = sizeof zero;
    crypto_auth_hmacsha256_init(&st, salt, salt_len);
    crypto_auth_hmacsha256_update(&st, ikm, ikm_len);
    crypto_auth_hmacsha256_final(&st, prk);
    size_t done = 0;
    for (uint8_t i = 1; done < out_len; i++) {
        crypto_auth_hmacsha256_init(&st, prk, sizeof prk);
        if (i > 1) crypto_auth_hmacsha256_update(&st, t, sizeof t);
        crypto_auth_hmacsha256_update(&st, info, info_len);
        crypto_auth_hmacsha256_update(&st, &i, 1);
        crypto_auth_hmacsha256_final(&st, t);
        size_t k = out_len - done < 32 ? out_len - done : 32;
        memcpy(out + done, t, k);
        done += k;
    }
    sodium_memzero(prk, sizeof prk);
    sodium_memzero(t, sizeof t);
    sodium_memzero(&st, sizeof st);
}

int maif_pbkdf2_sha256(uint8_t *out, size_t out_len, const void *pw, size_t pw_len, const uint8_t *salt,
                       size_t salt_len, uint32_t iterations)
{
    if (!iterations || iterations > INT32_MAX || pw_len > INT32_MAX || salt_len > INT32_MAX || out_len > INT32_MAX)
        return MAIF_EINVAL;
    return PKCS5_PBKDF2_HMAC(pw, (int)pw_len, salt, (int)salt_len, (int)iterations, EVP_sha256(), (int)out_len,
                             out) == 1
               ? MAIF_OK
               : MAIF_ENOMEM;
}

int maif_argon2id(uint8_t *out, size_t out_len, const void *pw, size_t pw_len,
                  const uint8_t salt[MAIF_ARGON2_SALT_BYTES], uint64_t ops, uint64_t mem)
{
    if (maif_crypto_init()) return MAIF_ENOMEM;
    if (out_len < crypto_pwhash_BYTES_MIN || ops < crypto_pwhash_argon2id_OPSLIMIT_MIN ||
        ops > crypto_pwhash_argon2id_OPSLIMIT_MAX || mem < crypto_pwhash_argon2id_MEMLIMIT_MIN ||
        mem > crypto_pwhash_argon2id_MEMLIMIT_MAX)
        return MAIF_EINVAL;
    return crypto_pwhash(out, out_len, pw, pw_len, salt, ops, (size_t)mem, crypto_pwhash_ALG_ARGON2ID13) == 0
               ? MAIF_OK
               : MAIF_ENOMEM;
}

void maif_x25519_keypair(uint8_t pk[MAIF_X25519_BYTES], uint8_t sk[MAIF_X25519_BYTES])
{
    (void)maif_crypto_init();
    randombytes_buf(sk, MAIF_X25519_BYTES);
    crypto_scalarmult_base(pk, sk);
}

int maif_x25519(uint8_t shared[MAIF_X25519_BYTES], const uint8_t sk[MAIF_X25519_BYTES],
                const uint8_t pk[MAIF_X25519_BYTES])
{
    return crypto_scalarmult(shared, sk, pk) == 0 ? MAIF_OK : MAIF_EKEY;
}

void maif_x25519_public(uint8_t pk[MAIF_X25519_BYTES], const uint8_t sk[MAIF_X25519_BYTES])
{
    crypto_scalarmult_base(pk, sk);
}

int maif_ed25519_pk_to_x25519(uint8_t x[MAIF_X25519_BYTES], const uint8_t ed_pk[32])
{
    return crypto_sign_ed25519_pk_to_curve25519(x, ed_pk) == 0 ? MAIF_OK : MAIF_EKEY;
}

void maif_ed25519_sk_to_x25519(uint8_t x[MAIF_X25519_BYTES], const uint8_t ed_sk64[64])
{
    crypto_sign_ed25519_sk_to_curve25519(x, ed_sk64);
}

void *maif_secret_alloc(size_t n)
{
    if (maif_crypto_init()) return NULL;
    return sodium_malloc(n ? n : 1);
}
void maif_secret_free(void *p)
{
    if (p) sodium_free(p);
}
void maif_wipe(void *p, size_t n) { sodium_memzero(p, n); }
int maif_ct_compare(const void *a, const void *b, size_t n) { return sodium_memcmp(a, b, n); }
