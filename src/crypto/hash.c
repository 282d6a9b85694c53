/*
 * hash.c — SHA-256 through OpenSSL's EVP interface, and the content hash
 * (SHA-256 or BLAKE3, blake3.c) a native artifact names. The digest is fetched
 * once (EVP_MD_fetch) so that each call skips the implicit provider lookup,
 * which costs more than hashing a small block; the one-shot calls bypass EVP
 * altogether (see maif_sha256_parts).
 */
#define OPENSSL_SUPPRESS_DEPRECATED /* SHA256_Init & co., see maif_sha256_parts */
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "util/alloc.h"
#include "util/common.h"

static EVP_MD *g_sha256;
static int g_init_rc = MAIF_ENOMEM;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void do_init(void)
{
    if (sodium_init() < 0) return;
    g_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (!g_sha256) return;
    g_init_rc = MAIF_OK;
}

int maif_crypto_init(void)
{
    pthread_once(&g_once, do_init);
    return g_init_rc;
}

struct maif_sha256_ctx {
    EVP_MD_CTX *md;
};

maif_sha256_ctx *maif_sha256_new(void)
{
    if (maif_crypto_init()) return NULL;
    maif_sha256_ctx *c = maif_malloc(sizeof *c);
    if (!c) return NULL;
    c->md = EVP_MD_CTX_new();
    if (!c->md) {
        maif_free(c);
        return NULL;
    }
    maif_sha256_init(c);
    return c;
}

void maif_sha256_init(maif_sha256_ctx *c) { EVP_DigestInit_ex2(c->md, g_sha256, NULL); }
void maif_sha256_update(maif_sha256_ctx *c, const void *data, size_t n)
{
    if (n) EVP_DigestUpdate(c->md, data, n);
}
void maif_sha256_final(maif_sha256_ctx *c, uint8_t out[MAIF_HASH_BYTES])
{
    unsigned int len = MAIF_HASH_BYTES;
    EVP_DigestFinal_ex(c->md, out, &len);
}
void maif_sha256_free(maif_sha256_ctx *c)
{
    if (!c) return;
    EVP_MD_CTX_free(c->md);
    maif_free(c);
}

/* The one-shot calls hash small records (a 112-byte header, a 33-byte
 * Merkle leaf) several times per block, where EVP's per-call dispatch cost
 * as much as the compression itself. They use OpenSSL's SHA256_* functions
 * directly: deprecated in 3.0 but still exported, the same SHA-NI code, and
 * a context on the stack, so nothing is allocated or looked up per call. */
void maif_sha256_parts(uint8_t out[MAIF_HASH_BYTES], const void *p1, size_t n1, const void *p2, size_t n2,
                       const void *p3, size_t n3, const void *p4, size_t n4)
{
    SHA256_CTX c;
    SHA256_Init(&c);
    if (n1) SHA256_Update(&c, p1, n1);
    if (n2) SHA256_Update(&c, p2, n2);
    if (n3) SHA256_Update(&c, p3, n3);
    if (n4) SHA256_Update(&c, p4, n4);
    SHA256_Final(out, &c);
}

void maif_sha256(const void *data, size_t n, uint8_t out[MAIF_HASH_BYTES])
{
    maif_sha256_parts(out, data, n, NULL, 0, NULL, 0, NULL, 0);
}

void maif_random(void *buf, size_t n)
{
    maif_crypto_init();
    randombytes_buf(buf, n);
}

void maif_chash(int alg, const void *data, size_t n, uint8_t out[MAIF_HASH_BYTES])
{
    if (alg == MAIF_HASH_BLAKE3) maif_blake3(data, n, out);
    else maif_sha256(data, n, out);
}

int maif_chash_init(maif_chash_ctx *c, int alg)
{
    c->alg = alg;
    c->sha = NULL;
    if (alg == MAIF_HASH_BLAKE3) {
        maif_blake3_init(&c->b3);
        return MAIF_OK;
    }
    c->sha = maif_sha256_new();
    return c->sha ? MAIF_OK : MAIF_ENOMEM;
}

void maif_chash_update(maif_chash_ctx *c, const void *data, size_t n)
{
    if (c->alg == MAIF_HASH_BLAKE3) maif_blake3_update(&c->b3, data, n);
    else maif_sha256_update(c->sha, data, n);
}

void maif_chash_final(maif_chash_ctx *c, uint8_t out[MAIF_HASH_BYTES])
{
    if (c->alg == MAIF_HASH_BLAKE3) maif_blake3_final(&c->b3, out);
    else maif_sha256_final(c->sha, out);
}

void maif_chash_free(maif_chash_ctx *c)
{
    maif_sha256_free(c->sha);
    c->sha = NULL;
}

const char *maif_hash_name(int alg)
{
    return alg == MAIF_HASH_SHA256 ? "sha256" : alg == MAIF_HASH_BLAKE3 ? "blake3" : "unknown";
}

int maif_hash_parse(const char *s, int *alg)
{
    if (!s || !alg) return maif_set_last_err(MAIF_EINVAL, "maif_hash_parse: NULL argument");
    if (strcmp(s, "sha256") == 0) *alg = MAIF_HASH_SHA256;
    else if (strcmp(s, "blake3") == 0) *alg = MAIF_HASH_BLAKE3;
    else return maif_set_last_err(MAIF_EINVAL, "unknown content hash '%s' (choose sha256 or blake3)", s);
    return MAIF_OK;
}

int maif_hash(int alg, const void *data, size_t n, uint8_t out[MAIF_HASH_BYTES])
{
    if (!MAIF_HASH_ALG_OK(alg) || !out || (!data && n))
        return maif_set_last_err(MAIF_EINVAL, "maif_hash: unknown algorithm %d or NULL argument", alg);
    if (maif_crypto_init()) return maif_set_last_err(MAIF_ENOMEM, "maif_hash: crypto initialisation failed");
    maif_chash(alg, data, n, out);
    return MAIF_OK;
}
