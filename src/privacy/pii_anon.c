/*
 * pii_anon.c — what happens to a finding: redaction ("[EMAIL]"), masking
 * (all letters and digits but the last four become '*') or a keyed
 * pseudonym. A pseudonym is HMAC-SHA256 under a 32-byte key of the type
 * and the value in a normal form, cut to 64 bits: the same value always
 * maps to the same token under one key (so joins and counts survive),
 * and without the key a token cannot be reversed or even confirmed by
 * guessing values. The key is derived with HKDF-SHA256 and its own salt,
 * so it never equals (or reveals) the secret it came from.
 */
#include <string.h>

#include <sodium.h>

#include "crypto/crypto.h"
#include "privacy/pii.h"
#include "util/alloc.h"
#include "util/common.h"

#define PII_SALT "maif-pii-pseudonym-v1"

int maif_pii_mode_parse(const char *s, int *mode)
{
    if (!s || !mode) return maif_set_last_err(MAIF_EINVAL, "maif_pii_mode_parse: NULL argument");
    if (strcmp(s, "redact") == 0) *mode = MAIF_PII_REDACT;
    else if (strcmp(s, "mask") == 0) *mode = MAIF_PII_MASK;
    else if (strcmp(s, "pseudonymize") == 0 || strcmp(s, "pseudonymise") == 0) *mode = MAIF_PII_PSEUDO;
    else
        return maif_set_last_err(MAIF_EINVAL, "unknown anonymisation mode '%.40s' (redact, mask or pseudonymize)", s);
    return 0;
}

static void hmac(const uint8_t *key, size_t klen, const void *a, size_t an, const void *b, size_t bn, uint8_t out[32])
{
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, key, klen);
    if (an) crypto_auth_hmacsha256_update(&st, a, an);
    if (bn) crypto_auth_hmacsha256_update(&st, b, bn);
    crypto_auth_hmacsha256_final(&st, out);
    sodium_memzero(&st, sizeof st);
}

int maif_pii_key_derive(const maif_key *key, const void *secret, size_t secret_len, const void *context,
                        size_t context_len, uint8_t out[MAIF_PII_KEY_BYTES])
{
    if (!out || (key != NULL) == (secret != NULL) || (secret && secret_len < 16) || (!context && context_len) ||
        context_len > 1024)
        return maif_set_last_err(MAIF_EINVAL,
                                 "maif_pii_key_derive: give a signing key or a secret of at least 16 bytes, not both");
    if (maif_crypto_init()) return maif_set_last_err(MAIF_ENOMEM, "crypto initialisation failed");
    uint8_t ikm[32], prk[32];
    const uint8_t *im = secret;
    size_t in = secret_len;
    if (key) {
        maif_key_x25519_secret(key, ikm);
        im = ikm;
        in = sizeof ikm;
    }
    /* HKDF-Extract(salt, IKM), then one block of HKDF-Expand(PRK, info) */
    hmac((const uint8_t *)PII_SALT, sizeof PII_SALT - 1, im, in, NULL, 0, prk);
    const uint8_t one = 1;
    hmac(prk, sizeof prk, context, context_len, &one, 1, out);
    sodium_memzero(ikm, sizeof ikm);
    sodium_memzero(prk, sizeof prk);
    return 0;
}

int maif_pii_scanner_set_key(maif_pii_scanner *s, const uint8_t key[MAIF_PII_KEY_BYTES])
{
    if (!s || !key) return maif_set_last_err(MAIF_EINVAL, "maif_pii_scanner_set_key: NULL argument");
    if (maif_crypto_init()) return maif_set_last_err(MAIF_ENOMEM, "crypto initialisation failed");
    if (!s->key && !(s->key = sodium_malloc(MAIF_PII_KEY_BYTES))) return maif_set_last_err(MAIF_ENOMEM, "out of memory");
    memcpy(s->key, key, MAIF_PII_KEY_BYTES);
    return 0;
}

static int is_alnum(int c) { return (c >= '0' && c <= '9') || ((c | 32) >= 'a' && (c | 32) <= 'z'); }

/* the value in the form pseudonyms are computed over */
static size_t normalise(const maif_pii_finding *f, char *out, size_t cap)
{
    size_t n = 0;
    for (size_t k = 0; k < f->length && n < cap; k++) {
        unsigned char c = (unsigned char)f->text[k];
        switch (f->type) {
        case MAIF_PII_PHONE:
        case MAIF_PII_CARD:
        case MAIF_PII_SSN:
            if (c >= '0' && c <= '9') out[n++] = (char)c;
            break;
        case MAIF_PII_IBAN:
            if (is_alnum(c)) out[n++] = (char)(c >= 'a' && c <= 'z' ? c - 32 : c);
            break;
        case MAIF_PII_MAC:
            if (is_alnum(c)) out[n++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
            break;
        case MAIF_PII_EMAIL:
        case MAIF_PII_IPV6:
            out[n++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
            break;
        default:
            out[n++] = (char)c;
        }
    }
    return n;
}

static void upper_label(const maif_pii_finding *f, char *dst, size_t cap)
{
    size_t k = 0;
    for (const char *p = f->label; *p && k + 1 < cap; p++) dst[k++] = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
    dst[k] = 0;
}

static int replace(maif_pii_scanner *s, const maif_pii_finding *f, int mode)
{
    char label[40];
    upper_label(f, label, sizeof label);
    if (mode == MAIF_PII_REDACT) return maif_buf_printf(&s->out, "[%s]", label);
    if (mode == MAIF_PII_MASK) {
        /* letters and digits (a UTF-8 sequence counts as one letter) but the last four */
        size_t total = 0;
        for (size_t k = 0; k < f->length; k++) {
            unsigned char c = (unsigned char)f->text[k];
            if (is_alnum(c) || c >= 0xC0 || (c < 0x80 && 0)) total++;
        }
        size_t seen = 0;
        for (size_t k = 0; k < f->length; k++) {
            unsigned char c = (unsigned char)f->text[k];
            int rc;
            if (c >= 0x80 && c < 0xC0) {
                if (seen + 4 > total) rc = maif_buf_putc(&s->out, (char)c);
                else continue;
            } else if (is_alnum(c) || c >= 0xC0) {
                seen++;
                rc = maif_buf_putc(&s->out, seen + 4 > total ? (char)c : '*');
            } else {
                rc = maif_buf_putc(&s->out, (char)c);
            }
            if (rc) return rc;
        }
        return 0;
    }
    char norm[512];
    size_t nn = normalise(f, norm, sizeof norm);
    uint8_t mac[32];
    char hex[17];
    hmac(s->key, MAIF_PII_KEY_BYTES, f->label, strlen(f->label) + 1, norm, nn, mac);
    maif_hex(mac, 8, hex);
    sodium_memzero(norm, sizeof norm);
    return maif_buf_printf(&s->out, "<%s_%s>", label, hex);
}

int maif_pii_anonymize(maif_pii_scanner *s, const char *text, size_t len, int mode, const char **out, size_t *out_len)
{
    if (!s || !out || !out_len || (!text && len) || mode < MAIF_PII_REDACT || mode > MAIF_PII_PSEUDO)
        return maif_set_last_err(MAIF_EINVAL, "maif_pii_anonymize: bad argument");
    *out = NULL;
    *out_len = 0;
    if (mode == MAIF_PII_PSEUDO && !s->key)
        return maif_set_last_err(MAIF_ESTATE, "pseudonymisation needs a key (maif_pii_scanner_set_key)");
    size_t count;
    int rc = maif_pii_scan(s, text, len, &count);
    if (rc && rc != MAIF_ELIMIT) return rc;
    int scan_rc = rc;
    if (s->out.data) sodium_memzero(s->out.data, s->out.cap);
    s->out.len = 0;
    size_t pos = 0;
    for (size_t i = 0; i < count && rc != MAIF_ENOMEM; i++) {
        const maif_pii_finding *f = &s->f[i];
        rc = maif_buf_append(&s->out, text + pos, f->offset - pos);
        if (!rc) rc = replace(s, f, mode);
        pos = f->offset + f->length;
        if (rc) break;
    }
    if (!rc || rc == MAIF_ELIMIT) rc = maif_buf_append(&s->out, text ? text + pos : "", len - pos);
    if (!rc) rc = maif_buf_putc(&s->out, 0);
    if (rc) return maif_set_last_err(rc, "out of memory");
    *out = (const char *)s->out.data;
    *out_len = s->out.len - 1;
    return scan_rc;
}
