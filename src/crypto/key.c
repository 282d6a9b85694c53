/*
 * key.c — Ed25519 key pairs and their files.
 *
 * A key lives in sodium_malloc'ed memory (guard pages, mlock'ed, wiped on
 * free). Key files are one line of text so they survive copy and paste:
 *   secret (mode 0600):  maif-ed25519-secret:<64 hex digits of the seed>
 *   public (mode 0644):  maif-ed25519-public:<64 hex digits of the key>
 * The secret file is written to a temporary name and renamed, so a crash
 * never leaves half a key behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "util/common.h"

#define SECRET_PREFIX "maif-ed25519-secret:"
#define PUBLIC_PREFIX "maif-ed25519-public:"
#define KEYFILE_MAX 4096

struct maif_key {
    uint8_t pk[crypto_sign_PUBLICKEYBYTES];
    uint8_t sk[crypto_sign_SECRETKEYBYTES]; /* seed ‖ pk, libsodium layout */
};

static maif_key *key_alloc(void)
{
    if (maif_crypto_init()) return NULL;
    return sodium_malloc(sizeof(maif_key));
}

int maif_key_generate(maif_key **out)
{
    if (!out) return MAIF_EINVAL;
    *out = NULL;
    maif_key *k = key_alloc();
    if (!k) return MAIF_ENOMEM;
    crypto_sign_keypair(k->pk, k->sk);
    *out = k;
    return MAIF_OK;
}

void maif_key_free(maif_key *key)
{
    if (key) sodium_free(key); /* sodium_free wipes */
}

void maif_key_public(const maif_key *key, uint8_t pk[MAIF_PUBKEY_BYTES]) { memcpy(pk, key->pk, MAIF_PUBKEY_BYTES); }

void maif_key_sign(const maif_key *key, const void *msg, size_t n, uint8_t sig[MAIF_SIGNATURE_BYTES])
{
    crypto_sign_detached(sig, NULL, msg, n, key->sk);
}

int maif_ed25519_verify(const uint8_t pk[MAIF_PUBKEY_BYTES], const void *msg, size_t n,
                        const uint8_t sig[MAIF_SIGNATURE_BYTES])
{
    if (maif_crypto_init()) return 0;
    return crypto_sign_verify_detached(sig, msg, n, pk) == 0;
}

static int write_file_atomic(const char *path, const char *text, mode_t mode)
{
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 16);
    if (!tmp) return MAIF_ENOMEM;
    snprintf(tmp, plen + 16, "%s.tmpXXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        free(tmp);
        return MAIF_EIO;
    }
    int rc = MAIF_OK;
    size_t len = strlen(text);
    if (fchmod(fd, mode) != 0 || write(fd, text, len) != (ssize_t)len || fsync(fd) != 0) rc = MAIF_EIO;
    if (close(fd) != 0) rc = MAIF_EIO;
    if (rc == MAIF_OK && rename(tmp, path) != 0) rc = MAIF_EIO;
    if (rc != MAIF_OK) unlink(tmp);
    free(tmp);
    return rc;
}

int maif_key_save(const maif_key *key, const char *path)
{
    if (!key || !path) return MAIF_EINVAL;
    char line[sizeof SECRET_PREFIX + 2 * 32 + 2];
    char hex[65];
    /* The seed is the first 32 bytes of libsodium's secret key. */
    snprintf(line, sizeof line, "%s%s\n", SECRET_PREFIX, maif_hex(key->sk, 32, hex));
    int rc = write_file_atomic(path, line, 0600);
    sodium_memzero(line, sizeof line);
    sodium_memzero(hex, sizeof hex);
    if (rc) return rc;
    size_t plen = strlen(path);
    char *pubpath = malloc(plen + 5);
    if (!pubpath) return MAIF_ENOMEM;
    memcpy(pubpath, path, plen);
    memcpy(pubpath + plen, ".pub", 5);
    snprintf(line, sizeof line, "%s%s\n", PUBLIC_PREFIX, maif_hex(key->pk, 32, hex));
    rc = write_file_atomic(pubpath, line, 0644);
    free(pubpath);
    return rc;
}

/* Reads a small text file into buf (NUL-terminated), bounded by KEYFILE_MAX. */
static int read_small(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT ? MAIF_ENOTFOUND : MAIF_EIO;
    ssize_t n = read(fd, buf, cap - 1);
    close(fd);
    if (n < 0) return MAIF_EIO;
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
    if (!out || !path) return MAIF_EINVAL;
    *out = NULL;
    char text[KEYFILE_MAX];
    int rc = read_small(path, text, sizeof text);
    if (rc) return rc;
    maif_key *k = key_alloc();
    if (!k) return MAIF_ENOMEM;
    uint8_t seed[32];
    rc = parse_line(text, SECRET_PREFIX, seed);
    sodium_memzero(text, sizeof text);
    if (rc) {
        maif_key_free(k);
        return rc;
    }
    crypto_sign_seed_keypair(k->pk, k->sk, seed);
    sodium_memzero(seed, sizeof seed);
    *out = k;
    return MAIF_OK;
}

int maif_pubkey_load(const char *path, uint8_t pk[MAIF_PUBKEY_BYTES])
{
    if (!path || !pk) return MAIF_EINVAL;
    char text[KEYFILE_MAX];
    int rc = read_small(path, text, sizeof text);
    if (rc) return rc;
    if (parse_line(text, PUBLIC_PREFIX, pk) == MAIF_OK) return MAIF_OK;
    if (strncmp(text, SECRET_PREFIX, strlen(SECRET_PREFIX)) == 0) {
        sodium_memzero(text, sizeof text);
        maif_key *k = NULL;
        rc = maif_key_load(&k, path);
        if (rc) return rc;
        maif_key_public(k, pk);
        maif_key_free(k);
        return MAIF_OK;
    }
    return MAIF_EKEY;
}

int maif_key_load_default(maif_key **out, char *path_out, size_t path_cap)
{
    if (!out) return MAIF_EINVAL;
    *out = NULL;
    const char *home = getenv("MAIF_HOME");
    char dir[4096];
    if (home && *home)
        snprintf(dir, sizeof dir, "%s", home);
    else {
        const char *h = getenv("HOME");
        if (!h || !*h) return MAIF_EKEY;
        snprintf(dir, sizeof dir, "%s/.maif", h);
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/default.key", dir);
    if (path_out && path_cap) snprintf(path_out, path_cap, "%s", path);
    int rc = maif_key_load(out, path);
    if (rc != MAIF_ENOTFOUND) return rc;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) return MAIF_EIO;
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
