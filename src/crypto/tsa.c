/*
 * tsa.c — RFC 3161 time-stamp tokens for commits (docs/IDENTITIES.md §2,
 * FORMAT.md block type TSTK), through OpenSSL's TS API.
 *
 * A token is a CMS SignedData whose content (TSTInfo) names a message
 * imprint and the time the authority (TSA) saw it. maif asks for tokens
 * over a commit's signed message, so a valid token proves that commit, and
 * through the hash chain every byte before it, existed at that time.
 * Everything read here is untrusted (tokens come out of artifacts and
 * response files): sizes are bounded before OpenSSL parses, and a token is
 * trusted only after its signature and its signer's certificate (extended
 * key usage timeStamping, to one of the caller's TSA roots, at the token's
 * own time) verify.
 */
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pkcs7.h>
#include <openssl/rand.h>
#include <openssl/ts.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>

#include "crypto/crypto.h"
#include "crypto/tsa.h"
#include "crypto/x509.h"
#include "crypto/x509_impl.h"
#include "util/alloc.h"
#include "util/common.h"

/* The n bytes an i2d call put in tmp (OpenSSL's), into a maif_malloc'd
 * buffer; tmp is freed. */
static int der_out(int n, unsigned char *tmp, uint8_t **out, size_t *len)
{
    if (n <= 0 || !tmp) {
        OPENSSL_free(tmp);
        return maif_set_last_err(MAIF_ENOMEM, "out of memory");
    }
    *out = maif_malloc((size_t)n);
    if (!*out) {
        OPENSSL_free(tmp);
        return maif_set_last_err(MAIF_ENOMEM, "out of memory");
    }
    memcpy(*out, tmp, (size_t)n);
    *len = (size_t)n;
    OPENSSL_free(tmp);
    return MAIF_OK;
}

int mx_ts_query(const uint8_t digest[32], uint8_t **der, size_t *len)
{
    *der = NULL;
    *len = 0;
    if (maif_crypto_init()) return maif_set_last_err(MAIF_ENOMEM, "crypto initialisation failed");
    TS_REQ *req = TS_REQ_new();
    TS_MSG_IMPRINT *mi = TS_MSG_IMPRINT_new();
    X509_ALGOR *alg = X509_ALGOR_new();
    ASN1_INTEGER *nonce = ASN1_INTEGER_new();
    uint8_t nb[8];
    BIGNUM *bn = NULL;
    int ok = req && mi && alg && nonce && RAND_bytes(nb, sizeof nb) == 1 && (bn = BN_bin2bn(nb, sizeof nb, NULL)) &&
             BN_to_ASN1_INTEGER(bn, nonce) && X509_ALGOR_set0(alg, OBJ_nid2obj(NID_sha256), V_ASN1_NULL, NULL) == 1 &&
             TS_MSG_IMPRINT_set_algo(mi, alg) == 1 && TS_MSG_IMPRINT_set_msg(mi, (unsigned char *)digest, 32) == 1 &&
             TS_REQ_set_version(req, 1) == 1 && TS_REQ_set_msg_imprint(req, mi) == 1 &&
             TS_REQ_set_nonce(req, nonce) == 1 && TS_REQ_set_cert_req(req, 1) == 1;
    int rc = MAIF_OK;
    if (ok) {
        unsigned char *tmp = NULL;
        int n = i2d_TS_REQ(req, &tmp);
        rc = der_out(n, tmp, der, len);
    } else {
        rc = maif_set_last_err(MAIF_ENOMEM, "cannot build the time-stamp request");
    }
    BN_free(bn);
    ASN1_INTEGER_free(nonce);
    X509_ALGOR_free(alg);
    TS_MSG_IMPRINT_free(mi);
    TS_REQ_free(req);
    ERR_clear_error();
    return rc;
}

static const char *status_name(long s)
{
    static const char *const names[] = {"granted", "grantedWithMods", "rejection", "waiting", "revocationWarning",
                                        "revocationNotification"};
    return s >= 0 && s <= 5 ? names[s] : "unknown";
}

int mx_ts_token(const void *data, size_t len, uint8_t **token, size_t *tlen)
{
    *token = NULL;
    *tlen = 0;
    if (maif_crypto_init()) return maif_set_last_err(MAIF_ENOMEM, "crypto initialisation failed");
    if (len == 0) return maif_set_last_err(MAIF_EFORMAT, "time-stamp: empty");
    if (len > MX_TS_BYTES) return maif_set_last_err(MAIF_ELIMIT, "time-stamp: %zu bytes, over the limit", len);
    const unsigned char *p = data;
    TS_RESP *resp = d2i_TS_RESP(NULL, &p, (long)len);
    PKCS7 *tok = NULL;
    int rc = MAIF_OK;
    if (resp && p == (const unsigned char *)data + len) {
        long st = ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(TS_RESP_get_status_info(resp)));
        tok = (st == 0 || st == 1) ? TS_RESP_get_token(resp) : NULL;
        if (!tok)
            rc = maif_set_last_err(MAIF_EFORMAT, "time-stamp response: status %s, no token", status_name(st));
    } else {
        TS_RESP_free(resp); /* not a whole response: a bare token? */
        resp = NULL;
        p = data;
        tok = d2i_PKCS7(NULL, &p, (long)len);
        if (!tok || p != (const unsigned char *)data + len) {
            PKCS7_free(tok);
            tok = NULL;
            rc = maif_set_last_err(MAIF_EFORMAT, "not an RFC 3161 time-stamp response or token (DER)");
        }
    }
    TS_TST_INFO *info = tok ? PKCS7_to_TS_TST_INFO(tok) : NULL;
    if (!rc && !info) rc = maif_set_last_err(MAIF_EFORMAT, "time-stamp token: no TSTInfo in it");
    if (!rc) {
        unsigned char *tmp = NULL;
        int n = i2d_PKCS7(tok, &tmp);
        rc = der_out(n, tmp, token, tlen);
    }
    TS_TST_INFO_free(info);
    if (resp) TS_RESP_free(resp); /* owns tok */
    else PKCS7_free(tok);
    ERR_clear_error();
    return rc;
}

/* The token's TSTInfo, or NULL. */
static TS_TST_INFO *tst_info(const void *token, size_t len, PKCS7 **p7)
{
    *p7 = NULL;
    if (len == 0 || len > MX_TS_BYTES) return NULL;
    const unsigned char *p = token;
    PKCS7 *t = d2i_PKCS7(NULL, &p, (long)len);
    if (!t || p != (const unsigned char *)token + len) {
        PKCS7_free(t);
        return NULL;
    }
    TS_TST_INFO *info = PKCS7_to_TS_TST_INFO(t);
    if (!info) {
        PKCS7_free(t);
        return NULL;
    }
    *p7 = t;
    return info;
}

int mx_ts_info(const void *token, size_t len, uint8_t imprint[32], int64_t *gen_time)
{
    if (maif_crypto_init()) return maif_set_last_err(MAIF_ENOMEM, "crypto initialisation failed");
    PKCS7 *p7;
    TS_TST_INFO *info = tst_info(token, len, &p7);
    int rc = MAIF_OK;
    if (!info) {
        rc = maif_set_last_err(MAIF_EFORMAT, "not an RFC 3161 time-stamp token (DER)");
    } else {
        TS_MSG_IMPRINT *mi = TS_TST_INFO_get_msg_imprint(info);
        X509_ALGOR *a = mi ? TS_MSG_IMPRINT_get_algo(mi) : NULL;
        ASN1_OCTET_STRING *m = mi ? TS_MSG_IMPRINT_get_msg(mi) : NULL;
        const ASN1_OBJECT *obj = NULL;
        if (a) X509_ALGOR_get0(&obj, NULL, NULL, a);
        if (!obj || OBJ_obj2nid(obj) != NID_sha256 || !m || ASN1_STRING_length(m) != 32)
            rc = maif_set_last_err(MAIF_EFORMAT, "time-stamp token: the imprint is not SHA-256");
        else if (mx_asn1_to_unix(TS_TST_INFO_get_time(info), gen_time) != 0)
            rc = maif_set_last_err(MAIF_EFORMAT, "time-stamp token: unreadable time");
        else
            memcpy(imprint, ASN1_STRING_get0_data(m), 32);
    }
    TS_TST_INFO_free(info);
    PKCS7_free(p7);
    ERR_clear_error();
    return rc;
}

int mx_ts_verify(const mx_store *s, const void *token, size_t len, char *tsa, size_t tsa_cap, char *detail,
                 size_t cap)
{
    snprintf(tsa, tsa_cap, "?");
    PKCS7 *p7;
    TS_TST_INFO *info = tst_info(token, len, &p7);
    if (!info) {
        snprintf(detail, cap, "not an RFC 3161 time-stamp token (DER)");
        return MX_INVALID;
    }
    int64_t t = 0;
    (void)mx_asn1_to_unix(TS_TST_INFO_get_time(info), &t);
    /* the TSA's certificate is checked at the token's own time */
    X509_VERIFY_PARAM *vp = X509_STORE_get0_param(s->store);
    X509_VERIFY_PARAM_set_time(vp, (time_t)t);
    X509_VERIFY_PARAM_set_depth(vp, MX_CHAIN_MAX);
    TS_VERIFY_CTX *ctx = TS_VERIFY_CTX_new();
    int res = MX_INVALID;
    if (ctx && X509_STORE_up_ref(s->store) == 1) {
        TS_VERIFY_CTX_set_store(ctx, s->store); /* the context frees its reference */
        TS_VERIFY_CTX_set_flags(ctx, TS_VFY_SIGNATURE | TS_VFY_VERSION);
        if (TS_RESP_verify_token(ctx, p7) == 1) {
            res = MX_OK;
        } else {
            unsigned long e = ERR_peek_last_error();
            char why[256];
            ERR_error_string_n(e, why, sizeof why);
            snprintf(detail, cap, "the token does not verify to the given TSA roots (%s)", e ? why : "unknown");
        }
    } else {
        snprintf(detail, cap, "out of memory");
    }
    STACK_OF(X509) *signers = PKCS7_get0_signers(p7, NULL, 0);
    if (signers && sk_X509_num(signers) > 0) mx_name_line(X509_get_subject_name(sk_X509_value(signers, 0)), tsa, tsa_cap);
    sk_X509_free(signers);
    TS_VERIFY_CTX_free(ctx);
    TS_TST_INFO_free(info);
    PKCS7_free(p7);
    ERR_clear_error();
    return res;
}
