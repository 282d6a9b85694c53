/*
 * hash.c — SHA-256 through OpenSSL's EVP interface. The digest is fetched
 * once (EVP_MD_fetch) so that each call skips the implicit provider lookup,
 * which costs more than hashing a small block.
 */
#include <openssl/evp.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"

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
    maif_sha256_ctx *c = malloc(sizeof *c);
    if (!c) return NULL;
    c->md = EVP_MD_CTX_new();
    if (!c->md) {
        free(c);
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
    free(c);
}

/* One context per thread for the one-shot calls, so hashing a small record
 * allocates nothing. */
static pthread_key_t g_tls_key;
static pthread_once_t g_tls_once = PTHREAD_ONCE_INIT;
static void tls_free(void *p) { maif_sha256_free(p); }
static void tls_init(void) { pthread_key_create(&g_tls_key, tls_free); }

static maif_sha256_ctx *tls_ctx(void)
{
    pthread_once(&g_tls_once, tls_init);
    maif_sha256_ctx *c = pthread_getspecific(g_tls_key);
    if (!c) {
        c = maif_sha256_new();
        if (c) pthread_setspecific(g_tls_key, c);
    }
    return c;
}

void maif_sha256_parts(uint8_t out[MAIF_HASH_BYTES], const void *p1, size_t n1, const void *p2, size_t n2,
                       const void *p3, size_t n3, const void *p4, size_t n4)
{
    maif_sha256_ctx *c = tls_ctx();
    if (!c) { /* allocation failure: fall back to the one-shot API */
        maif_crypto_init();
        unsigned int len = MAIF_HASH_BYTES;
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        if (!md) { memset(out, 0, MAIF_HASH_BYTES); return; }
        EVP_DigestInit_ex2(md, g_sha256, NULL);
        if (n1) EVP_DigestUpdate(md, p1, n1);
        if (n2) EVP_DigestUpdate(md, p2, n2);
        if (n3) EVP_DigestUpdate(md, p3, n3);
        if (n4) EVP_DigestUpdate(md, p4, n4);
        EVP_DigestFinal_ex(md, out, &len);
        EVP_MD_CTX_free(md);
        return;
    }
    maif_sha256_init(c);
    maif_sha256_update(c, p1, n1);
    maif_sha256_update(c, p2, n2);
    maif_sha256_update(c, p3, n3);
    maif_sha256_update(c, p4, n4);
    maif_sha256_final(c, out);
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
