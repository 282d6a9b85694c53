/*
 * x509.c — certificate chains for signer identities, through OpenSSL.
 *
 * Everything read here is untrusted (a chain comes out of an artifact, a
 * root file from the command line): sizes and certificate counts are
 * bounded before OpenSSL builds anything, and verification runs with a
 * depth limit, at the commit's signing time, with no network and no
 * system trust store: the only anchors are the roots the caller gives.
 */
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>

#include "crypto/key_impl.h"
#include "crypto/x509.h"
#include "crypto/x509_impl.h"
#include "util/alloc.h"
#include "util/common.h"



static int is_pem(const void *data, size_t len)
{
    static const char tag[] = "-----BEGIN ";
    const char *p = data;
    /* leading whitespace is allowed before the first PEM line */
    size_t i = 0;
    while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n')) i++;
    return len - i >= sizeof tag - 1 && memcmp(p + i, tag, sizeof tag - 1) == 0;
}

/* What read_objs reads: certificates or CRLs, PEM or DER. */
typedef struct objkind {
    const char *noun;
    void *(*pem)(BIO *b);
    void *(*der)(const unsigned char **p, long n);
    void (*free)(void *x);
} objkind;
static void *pem_cert(BIO *b) { return PEM_read_bio_X509(b, NULL, NULL, NULL); }
static void *der_cert(const unsigned char **p, long n) { return d2i_X509(NULL, p, n); }
static void free_cert(void *x) { X509_free(x); }
static void *pem_crl(BIO *b) { return PEM_read_bio_X509_CRL(b, NULL, NULL, NULL); }
static void *der_crl(const unsigned char **p, long n) { return d2i_X509_CRL(NULL, p, n); }
static void free_crl(void *x) { X509_CRL_free(x); }
static const objkind CERTS = {"certificate", pem_cert, der_cert, free_cert};
static const objkind CRLS = {"CRL", pem_crl, der_crl, free_crl};

/* Adds x to sk unless it holds max already. 0 or an error code. */
static int push_obj(OPENSSL_STACK *sk, void *x, size_t max, const objkind *k, const char *what)
{
    if ((size_t)OPENSSL_sk_num(sk) >= max) {
        k->free(x);
        return maif_set_last_err(MAIF_ELIMIT, "%s: more than %zu %ss (the limit)", what, max, k->noun);
    }
    if (!OPENSSL_sk_push(sk, x)) {
        k->free(x);
        return maif_set_last_err(MAIF_ENOMEM, "out of memory");
    }
    return MAIF_OK;
}

/* Reads up to max objects of kind k (max_bytes of input) into sk.
 * Returns 0 or an error code. */
static int read_objs(const void *data, size_t len, OPENSSL_STACK *sk, size_t max, size_t max_bytes,
                     const objkind *k, const char *what)
{
    if (len == 0) return maif_set_last_err(MAIF_EFORMAT, "%s: empty", what);
    if (len > max_bytes) return maif_set_last_err(MAIF_ELIMIT, "%s: %zu bytes, over the limit", what, len);
    int rc = MAIF_OK;
    if (is_pem(data, len)) {
        BIO *b = BIO_new_mem_buf(data, (int)len);
        if (!b) return maif_set_last_err(MAIF_ENOMEM, "out of memory");
        while (!rc) {
            ERR_clear_error();
            void *x = k->pem(b);
            if (!x) {
                unsigned long e = ERR_peek_last_error();
                /* the normal end: no further BEGIN line */
                if (!(ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE))
                    rc = maif_set_last_err(MAIF_EFORMAT, "%s: %s %d is malformed PEM or DER", what, k->noun,
                                           OPENSSL_sk_num(sk) + 1);
                break;
            }
            rc = push_obj(sk, x, max, k, what);
        }
        BIO_free(b);
    } else {
        const unsigned char *p = data, *end = p + len;
        while (!rc && p < end) {
            void *x = k->der(&p, (long)(end - p));
            rc = x ? push_obj(sk, x, max, k, what)
                   : maif_set_last_err(MAIF_EFORMAT, "%s: %s %d is malformed PEM or DER", what, k->noun,
                                       OPENSSL_sk_num(sk) + 1);
        }
    }
    ERR_clear_error();
    if (rc) return rc;
    if (OPENSSL_sk_num(sk) == 0) return maif_set_last_err(MAIF_EFORMAT, "%s: no %s in it", what, k->noun);
    return MAIF_OK;
}

/* Reads up to max certificates into sk. Returns 0 or an error code. */
static int read_certs(const void *data, size_t len, STACK_OF(X509) *sk, size_t max, const char *what)
{
    return read_objs(data, len, (OPENSSL_STACK *)sk, max, max == MX_CHAIN_MAX ? MX_CHAIN_BYTES : MX_ROOTS_BYTES,
                     &CERTS, what);
}

int mx_chain_parse(const void *data, size_t len, mx_chain **out)
{
    *out = NULL;
    if (maif_crypto_init()) return maif_set_last_err(MAIF_ENOMEM, "crypto initialisation failed");
    mx_chain *c = maif_calloc(1, sizeof *c);
    if (!c || !(c->certs = sk_X509_new_null())) {
        maif_free(c);
        return maif_set_last_err(MAIF_ENOMEM, "out of memory");
    }
    int rc = read_certs(data, len, c->certs, MX_CHAIN_MAX, "certificate chain");
    /* the same certificate twice can only make a loop */
    for (int i = 0; !rc && i < sk_X509_num(c->certs); i++)
        for (int j = i + 1; !rc && j < sk_X509_num(c->certs); j++)
            if (X509_cmp(sk_X509_value(c->certs, i), sk_X509_value(c->certs, j)) == 0)
                rc = maif_set_last_err(MAIF_EFORMAT, "certificate chain: certificates %d and %d are the same (a loop)",
                                       i + 1, j + 1);
    if (rc) {
        mx_chain_free(c);
        return rc;
    }
    *out = c;
    return MAIF_OK;
}

void mx_chain_free(mx_chain *c)
{
    if (!c) return;
    sk_X509_pop_free(c->certs, X509_free);
    maif_free(c);
}

size_t mx_chain_count(const mx_chain *c) { return (size_t)sk_X509_num(c->certs); }

int mx_chain_leaf_matches(const mx_chain *c, int alg, const uint8_t *pk, size_t pk_len)
{
    EVP_PKEY *k = X509_get0_pubkey(sk_X509_value(c->certs, 0));
    if (!k) return 0;
    if (alg == MAIF_SIG_ED25519) {
        uint8_t raw[32];
        size_t rl = sizeof raw;
        int ok = EVP_PKEY_get_base_id(k) == EVP_PKEY_ED25519 && EVP_PKEY_get_raw_public_key(k, raw, &rl) == 1 &&
                 rl == 32 && pk_len == 32 && memcmp(raw, pk, 32) == 0;
        ERR_clear_error();
        return ok;
    }
    unsigned char *der = NULL;
    int n = i2d_PUBKEY(k, &der);
    int ok = n > 0 && (size_t)n == pk_len && memcmp(der, pk, pk_len) == 0;
    OPENSSL_free(der);
    ERR_clear_error();
    return ok;
}

const char *mx_name_line(const X509_NAME *n, char *buf, size_t cap)
{
    if (!n || cap == 0) return "";
    X509_NAME_oneline(n, buf, (int)(cap > 1024 ? 1024 : cap));
    /* printable ASCII only: subjects come from untrusted input */
    for (char *p = buf; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e) *p = '?';
    return buf;
}

const char *mx_chain_leaf_subject(const mx_chain *c, char *buf, size_t cap)
{
    return mx_name_line(X509_get_subject_name(sk_X509_value(c->certs, 0)), buf, cap);
}

int mx_store_load(const void *data, size_t len, mx_store **out)
{
    *out = NULL;
    if (maif_crypto_init()) return maif_set_last_err(MAIF_ENOMEM, "crypto initialisation failed");
    STACK_OF(X509) *sk = sk_X509_new_null();
    mx_store *s = maif_calloc(1, sizeof *s);
    if (!sk || !s || !(s->store = X509_STORE_new())) {
        sk_X509_free(sk);
        maif_free(s);
        return maif_set_last_err(MAIF_ENOMEM, "out of memory");
    }
    int rc = read_certs(data, len, sk, 256, "root certificates");
    for (int i = 0; !rc && i < sk_X509_num(sk); i++)
        if (X509_STORE_add_cert(s->store, sk_X509_value(sk, i)) != 1) rc = maif_set_last_err(MAIF_ENOMEM, "out of memory");
    sk_X509_pop_free(sk, X509_free);
    ERR_clear_error();
    if (rc) {
        mx_store_free(s);
        return rc;
    }
    *out = s;
    return MAIF_OK;
}

void mx_store_free(mx_store *s)
{
    if (!s) return;
    X509_STORE_free(s->store);
    maif_free(s);
}

int mx_crls_load(const void *data, size_t len, mx_crls **out)
{
    *out = NULL;
    if (maif_crypto_init()) return maif_set_last_err(MAIF_ENOMEM, "crypto initialisation failed");
    mx_crls *c = maif_calloc(1, sizeof *c);
    if (!c || !(c->crls = sk_X509_CRL_new_null())) {
        maif_free(c);
        return maif_set_last_err(MAIF_ENOMEM, "out of memory");
    }
    int rc = read_objs(data, len, (OPENSSL_STACK *)c->crls, MX_CRLS_MAX, MX_ROOTS_BYTES, &CRLS, "CRLs");
    if (rc) {
        mx_crls_free(c);
        return rc;
    }
    *out = c;
    return MAIF_OK;
}

void mx_crls_free(mx_crls *c)
{
    if (!c) return;
    sk_X509_CRL_pop_free(c->crls, X509_CRL_free);
    maif_free(c);
}

size_t mx_crls_count(const mx_crls *c) { return c ? (size_t)sk_X509_CRL_num(c->crls) : 0; }

int mx_asn1_to_unix(const ASN1_TIME *t, int64_t *out)
{
    struct tm tm;
    if (!t || ASN1_TIME_to_tm(t, &tm) != 1) return -1;
    *out = (int64_t)timegm(&tm);
    return 0;
}

void mx_fmt_unix(int64_t t, char *buf, size_t cap)
{
    time_t ts = (time_t)t;
    struct tm tm;
    gmtime_r(&ts, &tm);
    strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void mx_fmt_time(const ASN1_TIME *t, char *buf, size_t cap)
{
    int64_t u;
    if (mx_asn1_to_unix(t, &u) == 0) mx_fmt_unix(u, buf, cap);
    else snprintf(buf, cap, "?");
}

int mx_crl_stale(const mx_crls *c, size_t i, int64_t now_s, char *detail, size_t cap)
{
    const X509_CRL *crl = sk_X509_CRL_value(c->crls, (int)i);
    const ASN1_TIME *next = X509_CRL_get0_nextUpdate(crl);
    int64_t t;
    if (!next || mx_asn1_to_unix(next, &t) != 0 || t >= now_s) return 0;
    char who[512], t1[32], t2[32];
    mx_fmt_time(X509_CRL_get0_lastUpdate(crl), t1, sizeof t1);
    mx_fmt_time(next, t2, sizeof t2);
    snprintf(detail, cap, "the CRL of %s issued %s was due for renewal at %s: revocations since are not known",
             mx_name_line(X509_CRL_get_issuer(crl), who, sizeof who), t1, t2);
    return 1;
}

/* The newest CRL of issuer whose signature its key verifies, or NULL;
 * *forged: a CRL named that issuer but did not verify. */
static X509_CRL *crl_of(const mx_crls *c, X509 *issuer, int *forged)
{
    X509_CRL *best = NULL;
    int64_t best_t = 0;
    EVP_PKEY *k = X509_get0_pubkey(issuer);
    for (int i = 0; i < sk_X509_CRL_num(c->crls); i++) {
        X509_CRL *crl = sk_X509_CRL_value(c->crls, i);
        if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(issuer)) != 0) continue;
        if (!k || X509_CRL_verify(crl, k) != 1) {
            *forged = 1;
            continue;
        }
        int64_t t = 0;
        if (mx_asn1_to_unix(X509_CRL_get0_lastUpdate(crl), &t) != 0) continue;
        if (!best || t > best_t) {
            best = crl;
            best_t = t;
        }
    }
    ERR_clear_error();
    return best;
}

static const char *reason_name(long r)
{
    static const char *const names[] = {"unspecified", "keyCompromise", "cACompromise", "affiliationChanged",
                                        "superseded", "cessationOfOperation", "certificateHold", "7",
                                        "removeFromCRL", "privilegeWithdrawn", "aACompromise"};
    return r >= 0 && r <= 10 ? names[r] : "no reason given";
}

/* Revocation of the verified path (leaf first, anchor last) by the CRLs,
 * for a commit claiming time_s that provably existed by existed_by:
 * MX_OK, MX_REVOKED_LATER, MX_REVOKED or MX_CRL_MISSING (the worst found;
 * detail names it). */
static int check_revocation(const mx_crls *c, STACK_OF(X509) *path, int64_t time_s, int64_t existed_by, char *detail,
                            size_t cap)
{
    int res = MX_OK;
    char who[512], iss[512], t1[32], t2[32];
    for (int i = 0; i + 1 < sk_X509_num(path) && res != MX_REVOKED && res != MX_CRL_MISSING; i++) {
        X509 *cert = sk_X509_value(path, i), *issuer = sk_X509_value(path, i + 1);
        int forged = 0;
        X509_CRL *crl = crl_of(c, issuer, &forged);
        mx_name_line(X509_get_subject_name(cert), who, sizeof who);
        if (!crl) {
            snprintf(detail, cap, "no CRL of %s%s, so certificate %s cannot be checked for revocation",
                     mx_name_line(X509_get_subject_name(issuer), iss, sizeof iss),
                     forged ? " verifies with its key (one that names it does not)" : " was given", who);
            res = MX_CRL_MISSING;
            break;
        }
        X509_REVOKED *rev = NULL;
        if (X509_CRL_get0_by_cert(crl, &rev, cert) != 1 || !rev) continue; /* not on it (2: removeFromCRL) */
        ASN1_ENUMERATED *re = X509_REVOKED_get_ext_d2i(rev, NID_crl_reason, NULL, NULL);
        long reason = re ? ASN1_ENUMERATED_get(re) : -1;
        ASN1_ENUMERATED_free(re);
        int64_t when = 0, invalid = INT64_MAX;
        const ASN1_TIME *rt = X509_REVOKED_get0_revocationDate(rev);
        int bad_time = mx_asn1_to_unix(rt, &when) != 0;
        ASN1_GENERALIZEDTIME *inv = X509_REVOKED_get_ext_d2i(rev, NID_invalidity_date, NULL, NULL);
        if (inv && mx_asn1_to_unix(inv, &invalid) != 0) bad_time = 1;
        ASN1_GENERALIZEDTIME_free(inv);
        if (!bad_time && existed_by < when && existed_by < invalid) continue; /* stamped before it: unaffected */
        mx_fmt_time(rt, t1, sizeof t1);
        mx_fmt_unix(time_s, t2, sizeof t2);
        if (reason == 1 || reason == 2 || reason == 10 || bad_time) {
            snprintf(detail, cap, "certificate %s was revoked at %s (%s): a compromised key could have signed with "
                                  "any timestamp, so no commit of it is trusted%s", who, t1, reason_name(reason),
                     existed_by == INT64_MAX ? " without a trusted timestamp before it"
                                             : " (its trusted timestamp is not earlier)");
            res = MX_REVOKED;
        } else if (when <= time_s) {
            snprintf(detail, cap, "certificate %s was revoked at %s (%s), before the commit's signing time %s", who,
                     t1, reason_name(reason), t2);
            res = MX_REVOKED;
        } else if (res == MX_OK) {
            snprintf(detail, cap, "certificate %s was revoked at %s (%s), after the commit's signing time %s (the "
                                  "signer's own claim)", who, t1, reason_name(reason), t2);
            res = MX_REVOKED_LATER;
        }
    }
    ERR_clear_error();
    return res;
}

int mx_chain_verify(const mx_store *s, const mx_crls *crls, const mx_chain *c, uint64_t time_us, int64_t existed_by,
                    char *detail, size_t cap)
{
    X509 *leaf = sk_X509_value(c->certs, 0);
    STACK_OF(X509) *untrusted = sk_X509_new_null();
    for (int i = 1; untrusted && i < sk_X509_num(c->certs); i++)
        if (!sk_X509_push(untrusted, sk_X509_value(c->certs, i))) {
            sk_X509_free(untrusted);
            untrusted = NULL;
        }
    X509_STORE_CTX *ctx = untrusted ? X509_STORE_CTX_new() : NULL;
    if (!ctx || X509_STORE_CTX_init(ctx, s->store, leaf, untrusted) != 1) {
        X509_STORE_CTX_free(ctx);
        sk_X509_free(untrusted);
        snprintf(detail, cap, "out of memory");
        return MX_INVALID;
    }
    X509_VERIFY_PARAM *vp = X509_STORE_CTX_get0_param(ctx);
    X509_VERIFY_PARAM_set_time(vp, (time_t)(time_us / 1000000u));
    X509_VERIFY_PARAM_set_depth(vp, MX_CHAIN_MAX);
    int ok = X509_verify_cert(ctx);
    int res = MX_OK;
    char who[512], t1[32], t2[32];
    if (ok != 1) {
        int e = X509_STORE_CTX_get_error(ctx);
        X509 *at = X509_STORE_CTX_get_current_cert(ctx);
        mx_name_line(at ? X509_get_subject_name(at) : X509_get_subject_name(leaf), who, sizeof who);
        char when[32];
        mx_fmt_unix((int64_t)(time_us / 1000000u), when, sizeof when);
        switch (e) {
        case X509_V_ERR_CERT_HAS_EXPIRED:
            mx_fmt_time(at ? X509_get0_notAfter(at) : NULL, t1, sizeof t1);
            snprintf(detail, cap, "certificate %s had expired at signing time %s (not after %s)", who, when, t1);
            res = MX_EXPIRED;
            break;
        case X509_V_ERR_CERT_NOT_YET_VALID:
            mx_fmt_time(at ? X509_get0_notBefore(at) : NULL, t2, sizeof t2);
            snprintf(detail, cap, "certificate %s was not yet valid at signing time %s (not before %s)", who, when, t2);
            res = MX_NOT_YET_VALID;
            break;
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
        case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
        case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
        case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE: {
            char iss[512];
            mx_name_line(at ? X509_get_issuer_name(at) : NULL, iss, sizeof iss);
            snprintf(detail, cap, "unknown issuer %s (of certificate %s): the chain does not lead to the given roots",
                     iss, who);
            res = MX_UNKNOWN_ISSUER;
            break;
        }
        case X509_V_ERR_CERT_CHAIN_TOO_LONG:
        case X509_V_ERR_PATH_LENGTH_EXCEEDED:
            snprintf(detail, cap, "chain too long at %s (at most %d certificates, and CA path lengths apply)", who,
                     MX_CHAIN_MAX);
            res = MX_TOO_LONG;
            break;
        default:
            snprintf(detail, cap, "certificate %s: %s", who, X509_verify_cert_error_string(e));
            res = MX_INVALID;
        }
    } else if ((X509_get_extension_flags(leaf) & EXFLAG_KUSAGE) && !(X509_get_key_usage(leaf) & KU_DIGITAL_SIGNATURE)) {
        snprintf(detail, cap, "certificate %s: key usage lacks digitalSignature",
                 mx_name_line(X509_get_subject_name(leaf), who, sizeof who));
        res = MX_KEY_USAGE;
    } else if (crls) {
        res = check_revocation(crls, X509_STORE_CTX_get0_chain(ctx), (int64_t)(time_us / 1000000u), existed_by,
                               detail, cap);
    }
    X509_STORE_CTX_free(ctx);
    sk_X509_free(untrusted);
    ERR_clear_error();
    return res;
}

/* "/CN=a/O=b" into a name; '\/' escapes a slash. 0 or -1. */
static int parse_subject(const char *s, X509_NAME *n)
{
    if (*s != '/') return -1;
    char buf[1024];
    size_t len = strlen(s);
    if (len >= sizeof buf) return -1;
    int entries = 0;
    const char *p = s + 1;
    while (*p) {
        size_t o = 0;
        while (*p && *p != '/') {
            if (*p == '\\' && p[1]) p++;
            buf[o++] = *p++;
        }
        buf[o] = 0;
        if (*p == '/') p++;
        char *eq = strchr(buf, '=');
        if (!eq || eq == buf || !eq[1]) return -1;
        *eq = 0;
        if (X509_NAME_add_entry_by_txt(n, buf, MBSTRING_UTF8, (const unsigned char *)eq + 1, -1, -1, 0) != 1) return -1;
        entries++;
    }
    return entries ? 0 : -1;
}

int mx_csr(const maif_key *key, const char *subject, char *out, size_t cap, size_t *len)
{
    *len = 0;
    EVP_PKEY *pk = maif_key_to_evp(key);
    if (!pk) return maif_set_last_err(MAIF_EKEY, "the key cannot sign a certificate request");
    X509_REQ *req = X509_REQ_new();
    X509_NAME *n = X509_NAME_new();
    int rc = MAIF_OK;
    if (!req || !n) rc = maif_set_last_err(MAIF_ENOMEM, "out of memory");
    if (!rc && parse_subject(subject, n) != 0)
        rc = maif_set_last_err(MAIF_EINVAL, "subject '%s': expected /TYPE=value/... such as /CN=agent-7/O=Example",
                               subject);
    int is_ed = EVP_PKEY_get_base_id(pk) == EVP_PKEY_ED25519;
    if (!rc && (X509_REQ_set_version(req, 0) != 1 || X509_REQ_set_subject_name(req, n) != 1 ||
                X509_REQ_set_pubkey(req, pk) != 1 || X509_REQ_sign(req, pk, is_ed ? NULL : EVP_sha256()) <= 0))
        rc = maif_set_last_err(MAIF_EKEY, "OpenSSL could not sign the certificate request");
    BIO *b = rc ? NULL : BIO_new(BIO_s_mem());
    if (!rc && (!b || PEM_write_bio_X509_REQ(b, req) != 1)) rc = maif_set_last_err(MAIF_ENOMEM, "out of memory");
    if (!rc) {
        char *data = NULL;
        long l = BIO_get_mem_data(b, &data);
        *len = (size_t)l;
        if ((size_t)l + 1 > cap) rc = maif_set_last_err(MAIF_ELIMIT, "certificate request needs %ld bytes", l + 1);
        else {
            memcpy(out, data, (size_t)l);
            out[l] = 0;
        }
    }
    BIO_free(b);
    X509_NAME_free(n);
    X509_REQ_free(req);
    EVP_PKEY_free(pk);
    ERR_clear_error();
    return rc;
}
