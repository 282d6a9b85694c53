/*
 * key.c — Ed25519 key pairs and their files.
 *
 * A key lives in sodium_malloc'ed memory (guard pages, mlock'ed, wiped on
 * free). Key files are one line of text so they survive copy and paste:
 *   secret (mode 0600):  maif-ed25519-secret:<64 hex digits of the seed>
 *   public (mode 0644):  maif-ed25519-public:<64 hex digits of the key>
 * The secret file is written to a temporary name and renamed, so a crash
 * never leaves half a key behind. Key files are not artifacts and stay on
 * plain POSIX calls: crypto and io (src/io, the I/O methods every artifact
 * goes through) are sibling layers, and neither may include the other.
 *
 * Signatures are made by libsodium; verification picks libsodium or
 * OpenSSL by message size (see maif_ed25519_verify below).
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/key_impl.h"
#include "crypto/p11.h"
#include "util/alloc.h"
#include "util/common.h"

#define SECRET_PREFIX "maif-ed25519-secret:"
#define PUBLIC_PREFIX "maif-ed25519-public:"
#define KEYFILE_MAX 16384 /* an RSA-8192 PKCS#8 PEM is about 6.4 KB */
#define PEM_PREFIX "-----BEGIN "

static maif_key *key_alloc(void)
{
    if (maif_crypto_init()) return NULL;
    maif_key *k = sodium_malloc(sizeof(maif_key));
    if (k) {
        memset(k, 0, sizeof *k);
        k->alg = MAIF_SIG_ED25519;
    }
    return k;
}

/* Ed25519 keys keep their raw public key as their "spki" (FORMAT.md §5.6). */
static void ed_fill(maif_key *k)
{
    k->alg = MAIF_SIG_ED25519;
    memcpy(k->spki, k->pk, 32);
    k->spki_len = 32;
}

int maif_key_generate_alg(maif_key **out, int alg, unsigned bits)
{
    if (!out) return maif_set_last_err(MAIF_EINVAL, "maif_key_generate_alg: out is NULL");
    *out = NULL;
    if (alg == MAIF_SIG_ED25519 && bits == 0) return maif_key_generate(out);
    if (alg == MAIF_SIG_P256 && bits != 0)
        return maif_set_last_err(MAIF_EINVAL, "p256 keys have no size to choose (bits must be 0)");
    if (alg == MAIF_SIG_RSA_PSS && bits != 0 && (bits < MAIF_RSA_MIN_BITS || bits > MAIF_RSA_MAX_BITS || bits % 8))
        return maif_set_last_err(MAIF_EINVAL, "RSA key size %u: must be %u..%u bits, a multiple of 8", bits,
                                 MAIF_RSA_MIN_BITS, MAIF_RSA_MAX_BITS);
    if (alg != MAIF_SIG_RSA_PSS && alg != MAIF_SIG_P256)
        return maif_set_last_err(MAIF_EINVAL, "unknown signature algorithm %d", alg);
    maif_key *k = key_alloc();
    if (!k) return maif_set_last_err(MAIF_ENOMEM, "out of memory for a key (locked memory)");
    int rc = maif_key_generate_evp(k, alg, bits);
    if (rc) {
        maif_key_free(k);
        return rc;
    }
    *out = k;
    return MAIF_OK;
}

int maif_key_alg(const maif_key *key) { return key ? key->alg : 0; }

int maif_key_is_hardware(const maif_key *key) { return key && key->p11 != NULL; }

int maif_key_from_pkcs11(maif_key **out, const char *module, const char *token, const char *key_label,
                         const char *pin)
{
    if (!out) return maif_set_last_err(MAIF_EINVAL, "maif_key_from_pkcs11: out is NULL");
    *out = NULL;
    if (!module || !token || !key_label || !pin)
        return maif_set_last_err(MAIF_EINVAL, "maif_key_from_pkcs11: NULL argument");
    if (!*module || strlen(token) > 32 || !*key_label)
        return maif_set_last_err(MAIF_EINVAL, "PKCS#11: empty module or key label, or a token label over 32 bytes");
    maif_key *k = key_alloc();
    if (!k) return maif_set_last_err(MAIF_ENOMEM, "out of memory for a key (locked memory)");
    int rc = maif_p11_open(k, module, token, key_label, pin);
    if (rc) {
        maif_key_free(k);
        return rc;
    }
    *out = k;
    return MAIF_OK;
}

const uint8_t *maif_key_spki(const maif_key *key, size_t *len)
{
    *len = key->spki_len;
    return key->spki;
}

int maif_key_evp_sign(const maif_key *key, const void *msg, size_t n, uint8_t *sig, size_t cap, size_t *len);

int maif_key_sign_any(const maif_key *key, const void *msg, size_t n, uint8_t *sig, size_t cap, size_t *len)
{
    if (key->p11) return maif_p11_sign(key, msg, n, sig, cap, len);
    if (key->alg != MAIF_SIG_ED25519) return maif_key_evp_sign(key, msg, n, sig, cap, len);
    if (cap < MAIF_SIGNATURE_BYTES) return maif_set_last_err(MAIF_ELIMIT, "signature buffer too small");
    crypto_sign_detached(sig, NULL, msg, n, key->sk);
    *len = MAIF_SIGNATURE_BYTES;
    return MAIF_OK;
}

int maif_key_generate(maif_key **out)
{
    if (!out) return maif_set_last_err(MAIF_EINVAL, "maif_key_generate: out is NULL");
    *out = NULL;
    maif_key *k = key_alloc();
    if (!k) return maif_set_last_err(MAIF_ENOMEM, "out of memory for a key (locked memory)");
    crypto_sign_keypair(k->pk, k->sk);
    ed_fill(k);
    *out = k;
    return MAIF_OK;
}

int maif_key_from_seed(maif_key **out, const uint8_t seed[MAIF_SEED_BYTES])
{
    if (out) *out = NULL;
    if (!out || !seed) return maif_set_last_err(MAIF_EINVAL, "maif_key_from_seed: NULL argument");
    maif_key *k = key_alloc();
    if (!k) return maif_set_last_err(MAIF_ENOMEM, "out of memory for a key (locked memory)");
    crypto_sign_seed_keypair(k->pk, k->sk, seed);
    ed_fill(k);
    *out = k;
    return MAIF_OK;
}

void maif_key_free(maif_key *key)
{
    if (!key) return;
    maif_p11_close(key->p11);
    EVP_PKEY_free(key->evp); /* OpenSSL clears key material it frees */
    sodium_free(key);        /* sodium_free wipes */
}

void maif_key_public(const maif_key *key, uint8_t pk[MAIF_PUBKEY_BYTES]) { memcpy(pk, key->pk, MAIF_PUBKEY_BYTES); }

void maif_key_x25519_secret(const maif_key *key, uint8_t x[32]) { crypto_sign_ed25519_sk_to_curve25519(x, key->sk); }

void maif_key_sign(const maif_key *key, const void *msg, size_t n, uint8_t sig[MAIF_SIGNATURE_BYTES])
{
    crypto_sign_detached(sig, NULL, msg, n, key->sk);
}

/*
 * Verification: two engines, one verdict.
 *
 * Ed25519 verification is SHA-512 over R || A || M plus a double scalar
 * multiplication. libsodium's point arithmetic is fast (~66 us here) but its
 * SHA-512 is portable C (~2.2 us/KiB); OpenSSL's SHA-512 is assembly
 * (~1.5 us/KiB) but each call pays ~100 us more for key decoding, provider
 * dispatch and slower point arithmetic. Measured on this machine (2 cores,
 * libsodium 1.0.18, OpenSSL 3.0) the two cross near 100-128 KiB, so messages
 * of ED25519_OSSL_MIN bytes or more go to OpenSSL; a 1 MiB block signature
 * then costs ~1.7 ms instead of ~2.4 ms.
 *
 * Both must accept exactly the same signatures. libsodium 1.0.18
 * (crypto_sign_verify_detached, default build) rejects before any
 * arithmetic: S >= L; R whose encoding (sign bit ignored) is one of the
 * small-order points, canonical or not; A whose y is not reduced mod p; A of
 * small order; and A that does not decode. It then checks [S]B - [h]A == R
 * cofactorless, by comparing the canonical encoding of the left side with
 * R's bytes. OpenSSL 3.0 checks S < L and that A decodes, then does the same
 * cofactorless comparison, but accepts non-canonical and small-order A and
 * small-order R (a signature with A = R = identity and S = 0 verifies there
 * for every message). ed25519_prechecks() therefore repeats libsodium's
 * rejections before OpenSSL sees the signature, which leaves the same
 * equation on the same inputs. tests/unit/test_crypto.c checks both paths
 * against RFC 8032 vectors, random messages around the crossover, bit flips
 * and hand-made small-order signatures.
 */
#define ED25519_OSSL_MIN (112u * 1024u)

/* y-coordinates (little-endian, sign bit clear) of the points of order 1,
 * 2, 4 and 8, plus the non-canonical encodings p and p + 1 of y = 0 and
 * y = 1. Computed from the curve equation: y = 0 and y = 1 are order 4 and
 * 1, p - 1 order 2, and the order-8 points satisfy d y^4 + 2 y^2 - 1 = 0. */
static const uint8_t small_order_y[7][32] = {
    {0},
    {1},
    {0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98, 0xf0,
     0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05},
    {0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67, 0x0f,
     0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a},
    {0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}, /* p - 1 */
    {0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}, /* p */
    {0xee, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}, /* p + 1 */
};

/* L = 2^252 + 27742317777372353535851937790883648493, little-endian. */
static const uint8_t ed25519_l[32] = {0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7,
                                      0xa2, 0xde, 0xf9, 0xde, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10};

/* Little-endian a < b over 32 bytes (inputs are public: no constant time). */
static int le32_less(const uint8_t a[32], const uint8_t b[32])
{
    for (int i = 31; i >= 0; i--)
        if (a[i] != b[i]) return a[i] < b[i];
    return 0;
}

static int has_small_order(const uint8_t p[32])
{
    uint8_t y[32];
    memcpy(y, p, 32);
    y[31] &= 0x7f;
    for (size_t k = 0; k < sizeof small_order_y / sizeof small_order_y[0]; k++)
        if (memcmp(y, small_order_y[k], 32) == 0) return 1;
    return 0;
}

/* y (sign bit ignored) < p. Values >= p are p .. 2^255 - 1: bytes 1..30 all
 * 0xff, byte 31 0x7f (after masking) and byte 0 >= 0xed. */
static int y_is_canonical(const uint8_t p[32])
{
    if ((p[31] & 0x7f) != 0x7f || p[0] < 0xed) return 1;
    for (int i = 1; i < 31; i++)
        if (p[i] != 0xff) return 1;
    return 0;
}

/* libsodium 1.0.18's rejections before the equation (see above). */
static int ed25519_prechecks(const uint8_t pk[32], const uint8_t sig[64])
{
    return le32_less(sig + 32, ed25519_l) && !has_small_order(sig) && y_is_canonical(pk) && !has_small_order(pk);
}

/* The two engines, for tests/unit/test_crypto.c (not part of crypto.h: the
 * library only calls maif_ed25519_verify). 1 if valid, 0 otherwise. */
int maif_ed25519_verify_sodium(const uint8_t pk[MAIF_PUBKEY_BYTES], const void *msg, size_t n,
                               const uint8_t sig[MAIF_SIGNATURE_BYTES]);
int maif_ed25519_verify_openssl(const uint8_t pk[MAIF_PUBKEY_BYTES], const void *msg, size_t n,
                                const uint8_t sig[MAIF_SIGNATURE_BYTES]);
size_t maif_ed25519_openssl_min(void);

int maif_ed25519_verify_sodium(const uint8_t pk[MAIF_PUBKEY_BYTES], const void *msg, size_t n,
                               const uint8_t sig[MAIF_SIGNATURE_BYTES])
{
    if (maif_crypto_init()) return 0;
    return crypto_sign_verify_detached(sig, msg, n, pk) == 0;
}

int maif_ed25519_verify_openssl(const uint8_t pk[MAIF_PUBKEY_BYTES], const void *msg, size_t n,
                                const uint8_t sig[MAIF_SIGNATURE_BYTES])
{
    if (maif_crypto_init() || !ed25519_prechecks(pk, sig)) return 0;
    EVP_PKEY *key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pk, MAIF_PUBKEY_BYTES);
    EVP_MD_CTX *ctx = key ? EVP_MD_CTX_new() : NULL;
    /* Pure Ed25519: no digest name, the whole message in one call. */
    int ok = ctx && EVP_DigestVerifyInit_ex(ctx, NULL, NULL, NULL, NULL, key, NULL) == 1 &&
             EVP_DigestVerify(ctx, sig, MAIF_SIGNATURE_BYTES, msg, n) == 1;
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(key);
    return ok;
}

size_t maif_ed25519_openssl_min(void) { return ED25519_OSSL_MIN; }

int maif_ed25519_verify(const uint8_t pk[MAIF_PUBKEY_BYTES], const void *msg, size_t n,
                        const uint8_t sig[MAIF_SIGNATURE_BYTES])
{
    if (n >= ED25519_OSSL_MIN) return maif_ed25519_verify_openssl(pk, msg, n, sig);
    return maif_ed25519_verify_sodium(pk, msg, n, sig);
}

static int write_file_atomic(const char *path, const char *text, mode_t mode)
{
    size_t plen = strlen(path);
    char *tmp = maif_malloc(plen + 16);
    if (!tmp) return maif_set_last_err(MAIF_ENOMEM, "out of memory");
    snprintf(tmp, plen + 16, "%s.tmpXXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        int e = errno;
        maif_free(tmp);
        return maif_set_last_err(MAIF_EIO, "%s: cannot create: %s", path, strerror(e));
    }
    int rc = MAIF_OK;
    size_t len = strlen(text);
    if (fchmod(fd, mode) != 0 || write(fd, text, len) != (ssize_t)len || fsync(fd) != 0) rc = MAIF_EIO;
    if (close(fd) != 0) rc = MAIF_EIO;
    if (rc == MAIF_OK && rename(tmp, path) != 0) rc = MAIF_EIO;
    if (rc != MAIF_OK) {
        maif_set_last_err(rc, "%s: cannot write: %s", path, strerror(errno ? errno : EIO));
        unlink(tmp);
    }
    maif_free(tmp);
    return rc;
}

static char *pub_path(const char *path)
{
    size_t plen = strlen(path);
    char *pubpath = maif_malloc(plen + 5);
    if (!pubpath) return NULL;
    memcpy(pubpath, path, plen);
    memcpy(pubpath + plen, ".pub", 5);
    return pubpath;
}

static int save_pem(const maif_key *key, const char *path)
{
    char *sec = NULL, *pub = NULL;
    int rc = maif_key_pem(key, &sec, &pub);
    if (rc) return rc;
    rc = write_file_atomic(path, sec, 0600);
    sodium_memzero(sec, strlen(sec));
    maif_free(sec);
    char *pp = rc ? NULL : pub_path(path);
    if (!rc && !pp) rc = maif_set_last_err(MAIF_ENOMEM, "out of memory");
    if (!rc) rc = write_file_atomic(pp, pub, 0644);
    maif_free(pp);
    maif_free(pub);
    return rc;
}

int maif_key_save(const maif_key *key, const char *path)
{
    if (!key || !path) return maif_set_last_err(MAIF_EINVAL, "maif_key_save: NULL argument");
    if (key->p11) return maif_set_last_err(MAIF_EKEY, "a key on a PKCS#11 token cannot be saved to a file");
    if (key->alg != MAIF_SIG_ED25519) return save_pem(key, path);
    char line[sizeof SECRET_PREFIX + 2 * 32 + 2];
    char hex[65];
    /* The seed is the first 32 bytes of libsodium's secret key. */
    snprintf(line, sizeof line, "%s%s\n", SECRET_PREFIX, maif_hex(key->sk, 32, hex));
    int rc = write_file_atomic(path, line, 0600);
    sodium_memzero(line, sizeof line);
    sodium_memzero(hex, sizeof hex);
    if (rc) return rc;
    size_t plen = strlen(path);
    char *pubpath = maif_malloc(plen + 5);
    if (!pubpath) return maif_set_last_err(MAIF_ENOMEM, "out of memory");
    memcpy(pubpath, path, plen);
    memcpy(pubpath + plen, ".pub", 5);
    snprintf(line, sizeof line, "%s%s\n", PUBLIC_PREFIX, maif_hex(key->pk, 32, hex));
    rc = write_file_atomic(pubpath, line, 0644);
    maif_free(pubpath);
    return rc;
}

/* Reads a small text file into buf (NUL-terminated), bounded by KEYFILE_MAX.
 * Opened non-blocking and checked to be a regular file before anything is
 * read, so a FIFO (or a device) given as a key fails at once instead of
 * waiting for a writer that may never come. */
static int read_small(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        int rc = errno == ENOENT ? MAIF_ENOTFOUND : MAIF_EIO;
        return maif_set_last_err(rc, "%s: %s", path, rc == MAIF_ENOTFOUND ? "no such key file" : strerror(errno));
    }
    struct stat st;
    int fs = fstat(fd, &st);
    if (fs != 0 || !S_ISREG(st.st_mode)) {
        int dir = fs == 0 && S_ISDIR(st.st_mode);
        close(fd);
        return maif_set_last_err(MAIF_EIO, "%s: %s", path, dir ? "is a directory, not a key file" : "not a regular file");
    }
    ssize_t n = read(fd, buf, cap - 1);
    int e = errno;
    close(fd);
    if (n < 0) return maif_set_last_err(MAIF_EIO, "%s: %s", path, strerror(e));
    buf[n] = 0;
    return MAIF_OK;
}

/* Parses "<prefix><64 hex>" with optional trailing whitespace. */
static int parse_line(const char *text, const char *prefix, uint8_t out[32])
{
    size_t pl = strlen(prefix);
    if (strncmp(text, prefix, pl) != 0) return MAIF_EKEY;
    const char *h = text + pl;
    char hex[65];
    size_t i = 0;
    for (; i < 64 && h[i]; i++) hex[i] = h[i];
    hex[i] = 0;
    if (i != 64) return MAIF_EKEY;
    for (const char *p = h + 64; *p; p++)
        if (*p != '\n' && *p != '\r' && *p != ' ' && *p != '\t') return MAIF_EKEY;
    int rc = maif_unhex(hex, out, 32) ? MAIF_EKEY : MAIF_OK;
    sodium_memzero(hex, sizeof hex);
    return rc;
}

int maif_key_load(maif_key **out, const char *path)
{
    if (!out || !path) return maif_set_last_err(MAIF_EINVAL, "maif_key_load: NULL argument");
    *out = NULL;
    char text[KEYFILE_MAX];
    int rc = read_small(path, text, sizeof text);
    if (rc) return rc;
    maif_key *k = key_alloc();
    if (!k) {
        sodium_memzero(text, sizeof text);
        return maif_set_last_err(MAIF_ENOMEM, "out of memory");
    }
    if (strncmp(text, PEM_PREFIX, strlen(PEM_PREFIX)) == 0) {
        rc = maif_key_from_pem(k, text);
        sodium_memzero(text, sizeof text);
        if (rc) {
            char why[200];
            snprintf(why, sizeof why, "%s", maif_last_errmsg());
            maif_key_free(k);
            return maif_set_last_err(rc, "%s: %s", path, why);
        }
        *out = k;
        return MAIF_OK;
    }
    uint8_t seed[32];
    rc = parse_line(text, SECRET_PREFIX, seed);
    sodium_memzero(text, sizeof text);
    if (rc) {
        maif_key_free(k);
        return maif_set_last_err(rc, "%s: not a maif secret key file", path);
    }
    crypto_sign_seed_keypair(k->pk, k->sk, seed);
    sodium_memzero(seed, sizeof seed);
    ed_fill(k);
    *out = k;
    return MAIF_OK;
}

int maif_pubkey_load_alg(const char *path, uint8_t pk[MAIF_PUBKEY_BYTES], int *alg)
{
    if (!path || !pk || !alg) return maif_set_last_err(MAIF_EINVAL, "maif_pubkey_load: NULL argument");
    char text[KEYFILE_MAX];
    int rc = read_small(path, text, sizeof text);
    if (rc) return rc;
    *alg = MAIF_SIG_ED25519;
    if (parse_line(text, PUBLIC_PREFIX, pk) == MAIF_OK) return MAIF_OK;
    if (strncmp(text, "-----BEGIN PUBLIC KEY-----", 26) == 0) {
        rc = maif_pubkey_from_pem(text, alg, pk, NULL, NULL);
        return rc ? maif_set_last_err(rc, "%s: %s", path, "not a usable PEM public key") : MAIF_OK;
    }
    if (strncmp(text, SECRET_PREFIX, strlen(SECRET_PREFIX)) == 0 || strncmp(text, PEM_PREFIX, strlen(PEM_PREFIX)) == 0) {
        sodium_memzero(text, sizeof text);
        maif_key *k = NULL;
        rc = maif_key_load(&k, path);
        if (rc) return rc;
        maif_key_public(k, pk);
        *alg = k->alg;
        maif_key_free(k);
        return MAIF_OK;
    }
    return maif_set_last_err(MAIF_EKEY, "%s: not a maif key file", path);
}

int maif_pubkey_load(const char *path, uint8_t pk[MAIF_PUBKEY_BYTES])
{
    int alg;
    return maif_pubkey_load_alg(path, pk, &alg);
}

int maif_key_load_default(maif_key **out, char *path_out, size_t path_cap)
{
    if (!out) return maif_set_last_err(MAIF_EINVAL, "maif_key_load_default: out is NULL");
    *out = NULL;
    const char *home = getenv("MAIF_HOME");
    char dir[4096];
    if (home && *home)
        snprintf(dir, sizeof dir, "%s", home);
    else {
        const char *h = getenv("HOME");
        if (!h || !*h) return maif_set_last_err(MAIF_EKEY, "neither MAIF_HOME nor HOME is set; no default key");
        snprintf(dir, sizeof dir, "%s/.maif", h);
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/default.key", dir);
    if (path_out && path_cap) snprintf(path_out, path_cap, "%s", path);
    int rc = maif_key_load(out, path);
    if (rc != MAIF_ENOTFOUND) return rc;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return maif_set_last_err(MAIF_EIO, "%s: cannot create: %s", dir, strerror(errno));
    maif_key *k = NULL;
    rc = maif_key_generate(&k);
    if (rc) return rc;
    rc = maif_key_save(k, path);
    if (rc) {
        maif_key_free(k);
        return rc;
    }
    *out = k;
    return MAIF_OK;
}
