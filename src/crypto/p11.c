/*
 * p11.c — keys that live on a PKCS#11 token: signing keys
 * (docs/IDENTITIES.md §4) and the AES keys that hold keystore master keys
 * (docs/FORMAT.md §5.10, p11.h).
 *
 * The module is dlopen'ed and called directly through its function list;
 * OpenSSL's PKCS#11 engine is not used (it fails on tokens holding Ed25519
 * keys). The private key never leaves the token: we find it by label, log
 * in with the PIN, and ask the token to sign the 48-byte commit message:
 *   Ed25519  CKM_EDDSA (pure) over the message,
 *   P-256    CKM_ECDSA over SHA-256(message) (r ‖ s, what we store),
 *   RSA      CKM_SHA256_RSA_PKCS_PSS, MGF1-SHA-256, salt 32.
 * The public key is read from the token's public key object of the same
 * label and turned into the same SubjectPublicKeyInfo a key file gives, so
 * commits signed on the token verify like any others. The session stays
 * open while the key lives; maif_key_free closes it (the last session
 * to close ends the login) and unloads the module.
 * A module is initialised once per process (C_Initialize asking for the
 * OS's locking, so a signing key and a keystore may use one module from
 * two threads) and finalised when its last session closes.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>
#include <p11-kit-1/p11-kit/pkcs11.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "crypto/key_impl.h"
#include "crypto/p11.h"
#include "util/alloc.h"
#include "util/common.h"

struct maif_p11 {
    void *dl;
    CK_FUNCTION_LIST *f;
    CK_SESSION_HANDLE s;
    CK_OBJECT_HANDLE priv;
    int registered;
};

/* The modules this process initialised, with how many sessions use each:
 * C_Initialize once, C_Finalize after the last (a module's state is
 * process-wide). dlopen gives one handle per library. */
#define P11_MODULES 8
static pthread_mutex_t g_mod_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    void *dl;
    unsigned refs;
    int finalize; /* we initialised it */
} g_mod[P11_MODULES];

static const char *ckr_name(CK_RV rv)
{
    switch (rv) {
    case CKR_PIN_INCORRECT: return "CKR_PIN_INCORRECT (wrong PIN)";
    case CKR_PIN_LOCKED: return "CKR_PIN_LOCKED";
    case CKR_PIN_LEN_RANGE: return "CKR_PIN_LEN_RANGE (PIN too short or too long)";
    case CKR_TOKEN_NOT_PRESENT: return "CKR_TOKEN_NOT_PRESENT";
    case CKR_TOKEN_NOT_RECOGNIZED: return "CKR_TOKEN_NOT_RECOGNIZED";
    case CKR_DEVICE_ERROR: return "CKR_DEVICE_ERROR";
    case CKR_GENERAL_ERROR: return "CKR_GENERAL_ERROR";
    case CKR_FUNCTION_FAILED: return "CKR_FUNCTION_FAILED";
    case CKR_MECHANISM_INVALID: return "CKR_MECHANISM_INVALID (the token cannot sign with this algorithm)";
    case CKR_KEY_TYPE_INCONSISTENT: return "CKR_KEY_TYPE_INCONSISTENT";
    case CKR_USER_NOT_LOGGED_IN: return "CKR_USER_NOT_LOGGED_IN";
    case CKR_ARGUMENTS_BAD: return "CKR_ARGUMENTS_BAD";
    case CKR_CRYPTOKI_ALREADY_INITIALIZED: return "CKR_CRYPTOKI_ALREADY_INITIALIZED";
    case CKR_BUFFER_TOO_SMALL: return "CKR_BUFFER_TOO_SMALL";
    case CKR_HOST_MEMORY: return "CKR_HOST_MEMORY";
    case CKR_SLOT_ID_INVALID: return "CKR_SLOT_ID_INVALID";
    case CKR_ENCRYPTED_DATA_INVALID: return "CKR_ENCRYPTED_DATA_INVALID";
    case CKR_KEY_HANDLE_INVALID: return "CKR_KEY_HANDLE_INVALID";
    case CKR_TEMPLATE_INCONSISTENT: return "CKR_TEMPLATE_INCONSISTENT";
    case CKR_TOKEN_WRITE_PROTECTED: return "CKR_TOKEN_WRITE_PROTECTED";
    case CKR_DEVICE_MEMORY: return "CKR_DEVICE_MEMORY (the token is full)";
    default: return "error";
    }
}

#define P11_FAIL(code, call, rv) \
    maif_set_last_err((code), "PKCS#11 %s failed: %s (0x%lx)", (call), ckr_name(rv), (unsigned long)(rv))

/* Initialises p's module unless another session has (g_mod_lock held). */
static CK_RV module_enter(struct maif_p11 *p)
{
    int free_slot = -1;
    for (int i = 0; i < P11_MODULES; i++) {
        if (g_mod[i].refs && g_mod[i].dl == p->dl) {
            g_mod[i].refs++;
            p->registered = 1;
            return CKR_OK;
        }
        if (!g_mod[i].refs && free_slot < 0) free_slot = i;
    }
    if (free_slot < 0) return CKR_HOST_MEMORY;
    CK_C_INITIALIZE_ARGS args = {NULL, NULL, NULL, NULL, CKF_OS_LOCKING_OK, NULL};
    CK_RV rv = p->f->C_Initialize(&args);
    if (rv == CKR_CANT_LOCK) rv = p->f->C_Initialize(NULL); /* then calls into it must not overlap */
    if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) return rv;
    g_mod[free_slot].dl = p->dl;
    g_mod[free_slot].refs = 1;
    g_mod[free_slot].finalize = rv == CKR_OK;
    p->registered = 1;
    return CKR_OK;
}

void maif_p11_close(struct maif_p11 *p)
{
    if (!p) return;
    /* no C_Logout: the login is the application's, shared by its other
     * sessions on the token (a signing key and a keystore); closing the
     * last session ends it */
    if (p->f && p->s != CK_INVALID_HANDLE) p->f->C_CloseSession(p->s);
    if (p->registered) {
        pthread_mutex_lock(&g_mod_lock);
        for (int i = 0; i < P11_MODULES; i++)
            if (g_mod[i].refs && g_mod[i].dl == p->dl) {
                if (--g_mod[i].refs == 0 && g_mod[i].finalize) p->f->C_Finalize(NULL);
                break;
            }
        pthread_mutex_unlock(&g_mod_lock);
    }
    if (p->dl) dlclose(p->dl);
    maif_free(p);
}

/* One attribute of obj into buf (cap bytes); its length, or -1. */
static long get_attr(struct maif_p11 *p, CK_OBJECT_HANDLE obj, CK_ATTRIBUTE_TYPE type, uint8_t *buf, size_t cap)
{
    CK_ATTRIBUTE a = {type, buf, (CK_ULONG)cap};
    CK_RV rv = p->f->C_GetAttributeValue(p->s, obj, &a, 1);
    if (rv != CKR_OK || a.ulValueLen == (CK_ULONG)-1 || a.ulValueLen > cap) return -1;
    return (long)a.ulValueLen;
}

/* The one object of class cls labelled label (and with CKA_ID id, unless
 * NULL). MAIF_ENOTFOUND (no message) when there is none. */
static int find_one(struct maif_p11 *p, CK_OBJECT_CLASS cls, const char *label, const uint8_t *id,
                    CK_OBJECT_HANDLE *out)
{
    CK_ATTRIBUTE tmpl[3] = {{CKA_CLASS, &cls, sizeof cls},
                            {CKA_LABEL, (void *)label, (CK_ULONG)strlen(label)},
                            {CKA_ID, (void *)id, 16}};
    CK_RV rv = p->f->C_FindObjectsInit(p->s, tmpl, id ? 3 : 2);
    if (rv != CKR_OK) return P11_FAIL(MAIF_EKEY, "C_FindObjectsInit", rv);
    CK_OBJECT_HANDLE h[2];
    CK_ULONG n = 0;
    rv = p->f->C_FindObjects(p->s, h, 2, &n);
    p->f->C_FindObjectsFinal(p->s);
    if (rv != CKR_OK) return P11_FAIL(MAIF_EKEY, "C_FindObjects", rv);
    if (n == 0) return MAIF_ENOTFOUND;
    if (n > 1)
        return maif_set_last_err(MAIF_EKEY, "the token holds more than one %s key labelled '%s'",
                                 cls == CKO_PRIVATE_KEY ? "private" : cls == CKO_PUBLIC_KEY ? "public" : "secret",
                                 label);
    *out = h[0];
    return MAIF_OK;
}

/* An EC point attribute is DER OCTET STRING (the standard) or raw (some
 * tokens); returns the raw point. */
static const uint8_t *unwrap_point(const uint8_t *b, long n, size_t *len)
{
    if (n >= 2 && b[0] == 0x04 && b[1] < 0x80 && b[1] == n - 2) {
        *len = (size_t)(n - 2);
        return b + 2;
    }
    if (n >= 3 && b[0] == 0x04 && b[1] == 0x81 && b[2] == n - 3) {
        *len = (size_t)(n - 3);
        return b + 3;
    }
    *len = (size_t)n;
    return b;
}

/* The public key object as an OpenSSL key; its type sets *alg. */
static EVP_PKEY *public_key(struct maif_p11 *p, CK_OBJECT_HANDLE pub, int *alg)
{
    CK_KEY_TYPE kt = 0;
    if (get_attr(p, pub, CKA_KEY_TYPE, (uint8_t *)&kt, sizeof kt) != (long)sizeof kt) return NULL;
    uint8_t a[1100], b[600];
    EVP_PKEY *pk = NULL;
    if (kt == CKK_EC_EDWARDS) {
        long n = get_attr(p, pub, CKA_EC_POINT, a, sizeof a);
        size_t len = 0;
        const uint8_t *pt = n > 0 ? unwrap_point(a, n, &len) : NULL;
        if (pt && len == 32) pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pt, 32);
        *alg = MAIF_SIG_ED25519;
        return pk;
    }
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    EVP_PKEY_CTX *ctx = NULL;
    OSSL_PARAM *params = NULL;
    BIGNUM *nn = NULL, *e = NULL;
    int ok = 0;
    if (bld && kt == CKK_EC) {
        /* P-256 only: its named-curve OID in DER */
        static const uint8_t p256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
        long pl = get_attr(p, pub, CKA_EC_PARAMS, b, sizeof b);
        long n = get_attr(p, pub, CKA_EC_POINT, a, sizeof a);
        size_t len = 0;
        const uint8_t *pt = n > 0 ? unwrap_point(a, n, &len) : NULL;
        ok = pl == (long)sizeof p256 && memcmp(b, p256, sizeof p256) == 0 && pt && len == 65 &&
             OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0) &&
             OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt, len);
        ctx = ok ? EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL) : NULL;
        *alg = MAIF_SIG_P256;
    } else if (bld && kt == CKK_RSA) {
        long ml = get_attr(p, pub, CKA_MODULUS, a, sizeof a);
        long el = get_attr(p, pub, CKA_PUBLIC_EXPONENT, b, sizeof b);
        nn = ml > 0 ? BN_bin2bn(a, (int)ml, NULL) : NULL;
        e = el > 0 ? BN_bin2bn(b, (int)el, NULL) : NULL;
        ok = nn && e && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, nn) &&
             OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e);
        ctx = ok ? EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL) : NULL;
        *alg = MAIF_SIG_RSA_PSS;
    }
    params = ok ? OSSL_PARAM_BLD_to_param(bld) : NULL;
    if (!(ctx && params && EVP_PKEY_fromdata_init(ctx) == 1 &&
          EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) == 1))
        pk = NULL;
    OSSL_PARAM_free(params);
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_BLD_free(bld);
    BN_free(nn);
    BN_free(e);
    ERR_clear_error();
    return pk;
}

/* Token labels are 32 bytes padded with spaces. */
static int label_is(const CK_UTF8CHAR l[32], const char *want)
{
    size_t n = strlen(want);
    if (n > 32 || memcmp(l, want, n) != 0) return 0;
    for (size_t i = n; i < 32; i++)
        if (l[i] != ' ' && l[i] != 0) return 0;
    return 1;
}

int maif_p11_session(struct maif_p11 **out, const char *module, const char *token, const char *pin, int rw)
{
    *out = NULL;
    struct maif_p11 *p = maif_calloc(1, sizeof *p);
    if (!p) return maif_set_last_err(MAIF_ENOMEM, "out of memory");
    p->s = CK_INVALID_HANDLE;
    int rc = MAIF_OK;
    p->dl = dlopen(module, RTLD_NOW | RTLD_LOCAL);
    if (!p->dl) {
        const char *e = dlerror();
        rc = maif_set_last_err(MAIF_ENOTFOUND, "%s: cannot load the PKCS#11 module: %s", module, e ? e : "unknown");
        goto fail;
    }
    CK_C_GetFunctionList gfl = (CK_C_GetFunctionList)dlsym(p->dl, "C_GetFunctionList");
    CK_RV rv;
    if (!gfl || (rv = gfl(&p->f)) != CKR_OK || !p->f) {
        p->f = NULL;
        rc = maif_set_last_err(MAIF_EINVAL, "%s: not a PKCS#11 module (no working C_GetFunctionList)", module);
        goto fail;
    }
    if (p->f->version.major != 2) {
        rc = maif_set_last_err(MAIF_EINVAL, "%s: PKCS#11 version %u.%u; maif needs 2.x", module, p->f->version.major,
                               p->f->version.minor);
        p->f = NULL;
        goto fail;
    }
    pthread_mutex_lock(&g_mod_lock);
    rv = module_enter(p);
    pthread_mutex_unlock(&g_mod_lock);
    if (rv != CKR_OK) {
        rc = P11_FAIL(MAIF_EKEY, "C_Initialize", rv);
        goto fail;
    }
    CK_SLOT_ID slots[64];
    CK_ULONG ns = 64;
    rv = p->f->C_GetSlotList(CK_TRUE, slots, &ns);
    if (rv != CKR_OK) {
        rc = P11_FAIL(MAIF_EKEY, "C_GetSlotList", rv);
        goto fail;
    }
    CK_SLOT_ID slot = 0;
    int found = 0;
    for (CK_ULONG i = 0; i < ns && i < 64 && !found; i++) {
        CK_TOKEN_INFO ti;
        if (p->f->C_GetTokenInfo(slots[i], &ti) == CKR_OK && label_is(ti.label, token)) {
            slot = slots[i];
            found = 1;
        }
    }
    if (!found) {
        rc = maif_set_last_err(MAIF_EKEY, "%s: no token labelled '%s' (%lu tokens present)", module, token,
                               (unsigned long)ns);
        goto fail;
    }
    rv = p->f->C_OpenSession(slot, CKF_SERIAL_SESSION | (rw ? CKF_RW_SESSION : 0), NULL, NULL, &p->s);
    if (rv != CKR_OK) {
        rc = P11_FAIL(MAIF_EKEY, "C_OpenSession", rv);
        goto fail;
    }
    rv = p->f->C_Login(p->s, CKU_USER, (CK_UTF8CHAR *)pin, (CK_ULONG)strlen(pin));
    if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) {
        rc = P11_FAIL(rv == CKR_PIN_INCORRECT || rv == CKR_PIN_LOCKED || rv == CKR_PIN_LEN_RANGE ? MAIF_EACCESS
                                                                                                   : MAIF_EKEY,
                      "C_Login", rv);
        goto fail;
    }
    *out = p;
    return MAIF_OK;
fail:
    maif_p11_close(p);
    return rc;
}

int maif_p11_open(struct maif_key *k, const char *module, const char *token, const char *label, const char *pin)
{
    struct maif_p11 *p;
    int rc = maif_p11_session(&p, module, token, pin, 0);
    if (rc) return rc;
    CK_OBJECT_HANDLE pub;
    rc = find_one(p, CKO_PRIVATE_KEY, label, NULL, &p->priv);
    if (rc == MAIF_ENOTFOUND)
        rc = maif_set_last_err(MAIF_EACCESS, "token '%s' holds no private key labelled '%s'", token, label);
    if (rc) goto fail;
    rc = find_one(p, CKO_PUBLIC_KEY, label, NULL, &pub);
    if (rc == MAIF_ENOTFOUND)
        rc = maif_set_last_err(MAIF_EKEY, "token '%s' holds no public key labelled '%s' beside the private one", token,
                               label);
    if (rc) goto fail;
    int alg = 0;
    EVP_PKEY *pk = public_key(p, pub, &alg);
    if (!pk) {
        rc = maif_set_last_err(MAIF_EKEY, "key '%s' on token '%s' is not an Ed25519, P-256 or RSA key maif can use",
                               label, token);
        goto fail;
    }
    if (alg == MAIF_SIG_ED25519) {
        size_t l = 32;
        EVP_PKEY_get_raw_public_key(pk, k->pk, &l);
        memcpy(k->spki, k->pk, 32);
        k->spki_len = 32;
        EVP_PKEY_free(pk);
    } else {
        unsigned char *der = NULL;
        int n = i2d_PUBKEY(pk, &der);
        int bits = EVP_PKEY_get_bits(pk);
        EVP_PKEY_free(pk);
        if (n <= 0 || (size_t)n > MAIF_SPKI_MAX ||
            (alg == MAIF_SIG_RSA_PSS && (bits < MAIF_RSA_MIN_BITS || bits > MAIF_RSA_MAX_BITS))) {
            OPENSSL_free(der);
            rc = maif_set_last_err(MAIF_EKEY, "key '%s': RSA keys must have 2048..8192 bits", label);
            goto fail;
        }
        memcpy(k->spki, der, (size_t)n);
        k->spki_len = (uint16_t)n;
        OPENSSL_free(der);
        maif_sha256(k->spki, k->spki_len, k->pk);
        k->sig_len = alg == MAIF_SIG_RSA_PSS ? (size_t)(bits + 7) / 8 : 64;
    }
    k->alg = alg;
    k->p11 = p;
    return MAIF_OK;
fail:
    maif_p11_close(p);
    return rc;
}

int maif_p11_sign(const struct maif_key *k, const void *msg, size_t n, uint8_t *sig, size_t cap, size_t *len)
{
    struct maif_p11 *p = k->p11;
    CK_RSA_PKCS_PSS_PARAMS pss = {CKM_SHA256, CKG_MGF1_SHA256, 32};
    CK_MECHANISM m = {CKM_EDDSA, NULL, 0};
    uint8_t digest[32];
    const void *data = msg;
    size_t dlen = n;
    if (k->alg == MAIF_SIG_P256) {
        m.mechanism = CKM_ECDSA;
        maif_sha256(msg, n, digest);
        data = digest;
        dlen = sizeof digest;
    } else if (k->alg == MAIF_SIG_RSA_PSS) {
        m.mechanism = CKM_SHA256_RSA_PKCS_PSS;
        m.pParameter = &pss;
        m.ulParameterLen = sizeof pss;
    }
    CK_RV rv = p->f->C_SignInit(p->s, &m, p->priv);
    if (rv != CKR_OK) return P11_FAIL(MAIF_EKEY, "C_SignInit", rv);
    CK_ULONG sl = (CK_ULONG)cap;
    rv = p->f->C_Sign(p->s, (CK_BYTE *)data, (CK_ULONG)dlen, sig, &sl);
    if (rv != CKR_OK) return P11_FAIL(MAIF_EKEY, "C_Sign", rv);
    if (sl != maif_key_sig_len(k))
        return maif_set_last_err(MAIF_EKEY, "PKCS#11 C_Sign returned %lu bytes, expected %zu", (unsigned long)sl,
                                 maif_key_sig_len(k));
    *len = sl;
    return MAIF_OK;
}

/* ---- AES keys on the token (p11.h) */

static int find_secret(struct maif_p11 *p, const char *label, const uint8_t id[16], CK_OBJECT_HANDLE *out)
{
    int rc = find_one(p, CKO_SECRET_KEY, label, id, out);
    if (rc == MAIF_ENOTFOUND)
        return maif_set_last_err(MAIF_ENOTFOUND, "the token holds no key labelled '%s' with that id", label);
    return rc;
}

int maif_p11_secret_generate(struct maif_p11 *p, const char *label, const uint8_t id[16])
{
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_KEY_TYPE kt = CKK_AES;
    CK_ULONG len = 32;
    CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
    CK_ATTRIBUTE tmpl[] = {
        {CKA_CLASS, &cls, sizeof cls},     {CKA_KEY_TYPE, &kt, sizeof kt},   {CKA_VALUE_LEN, &len, sizeof len},
        {CKA_TOKEN, &yes, sizeof yes},     {CKA_PRIVATE, &yes, sizeof yes},  {CKA_SENSITIVE, &yes, sizeof yes},
        {CKA_EXTRACTABLE, &no, sizeof no}, {CKA_ENCRYPT, &yes, sizeof yes},  {CKA_DECRYPT, &yes, sizeof yes},
        {CKA_WRAP, &no, sizeof no},        {CKA_UNWRAP, &no, sizeof no},     {CKA_SIGN, &no, sizeof no},
        {CKA_VERIFY, &no, sizeof no},      {CKA_DERIVE, &no, sizeof no},
        {CKA_LABEL, (void *)label, (CK_ULONG)strlen(label)},
        {CKA_ID, (void *)id, 16},
    };
    CK_MECHANISM m = {CKM_AES_KEY_GEN, NULL, 0};
    CK_OBJECT_HANDLE h;
    CK_RV rv = p->f->C_GenerateKey(p->s, &m, tmpl, (CK_ULONG)(sizeof tmpl / sizeof tmpl[0]), &h);
    if (rv != CKR_OK) return P11_FAIL(MAIF_EKEY, "C_GenerateKey (AES-256)", rv);
    return MAIF_OK;
}

static int gcm(struct maif_p11 *p, int open, const char *label, const uint8_t id[16], const uint8_t iv[12],
               const uint8_t *ad, size_t ad_len, const uint8_t *in, size_t n, uint8_t *out)
{
    if (n > 4096 + 16 || ad_len > 4096 || (open && n < 16))
        return maif_set_last_err(MAIF_EINVAL, "PKCS#11 AES-GCM: bad sizes");
    CK_OBJECT_HANDLE key;
    int rc = find_secret(p, label, id, &key);
    if (rc) return rc;
    CK_GCM_PARAMS gp = {(CK_BYTE *)iv, 12, 96, (CK_BYTE *)ad, (CK_ULONG)ad_len, 128};
    CK_MECHANISM m = {CKM_AES_GCM, &gp, sizeof gp};
    CK_RV rv = open ? p->f->C_DecryptInit(p->s, &m, key) : p->f->C_EncryptInit(p->s, &m, key);
    if (rv != CKR_OK) return P11_FAIL(MAIF_EKEY, open ? "C_DecryptInit (AES-GCM)" : "C_EncryptInit (AES-GCM)", rv);
    CK_ULONG ol = (CK_ULONG)(open ? n : n + 16);
    rv = open ? p->f->C_Decrypt(p->s, (CK_BYTE *)in, (CK_ULONG)n, out, &ol)
              : p->f->C_Encrypt(p->s, (CK_BYTE *)in, (CK_ULONG)n, out, &ol);
    if (open && rv != CKR_OK)
        return maif_set_last_err(MAIF_EVERIFY, "PKCS#11 C_Decrypt (AES-GCM) failed: %s (0x%lx): it does not "
                                               "authenticate under the token's key", ckr_name(rv), (unsigned long)rv);
    if (rv != CKR_OK) return P11_FAIL(MAIF_EKEY, "C_Encrypt (AES-GCM)", rv);
    if (ol != (CK_ULONG)(open ? n - 16 : n + 16))
        return maif_set_last_err(MAIF_EKEY, "PKCS#11 AES-GCM returned %lu bytes, expected %zu", (unsigned long)ol,
                                 open ? n - 16 : n + 16);
    return MAIF_OK;
}

int maif_p11_secret_seal(struct maif_p11 *p, const char *label, const uint8_t id[16], const uint8_t iv[12],
                         const uint8_t *ad, size_t ad_len, const uint8_t *in, size_t n, uint8_t *out)
{
    return gcm(p, 0, label, id, iv, ad, ad_len, in, n, out);
}

int maif_p11_secret_open(struct maif_p11 *p, const char *label, const uint8_t id[16], const uint8_t iv[12],
                         const uint8_t *ad, size_t ad_len, const uint8_t *in, size_t n, uint8_t *out)
{
    return gcm(p, 1, label, id, iv, ad, ad_len, in, n, out);
}

int maif_p11_secret_destroy(struct maif_p11 *p, const char *label, const uint8_t id[16])
{
    CK_OBJECT_HANDLE key;
    int rc = find_secret(p, label, id, &key);
    if (rc) return rc;
    CK_RV rv = p->f->C_DestroyObject(p->s, key);
    return rv == CKR_OK ? MAIF_OK : P11_FAIL(MAIF_EKEY, "C_DestroyObject", rv);
}

int maif_p11_secret_sweep(struct maif_p11 *p, const char *label, const uint8_t (*keep)[16], size_t nkeep,
                          unsigned *destroyed)
{
    if (destroyed) *destroyed = 0;
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_ATTRIBUTE tmpl[2] = {{CKA_CLASS, &cls, sizeof cls}, {CKA_LABEL, (void *)label, (CK_ULONG)strlen(label)}};
    /* a few at a time: a search must end before objects are destroyed */
    for (int round = 0; round < 1024; round++) {
        CK_RV rv = p->f->C_FindObjectsInit(p->s, tmpl, 2);
        if (rv != CKR_OK) return P11_FAIL(MAIF_EKEY, "C_FindObjectsInit", rv);
        CK_OBJECT_HANDLE h[16], doomed[16];
        CK_ULONG n = 0, nd = 0;
        rv = p->f->C_FindObjects(p->s, h, 16, &n);
        p->f->C_FindObjectsFinal(p->s);
        if (rv != CKR_OK) return P11_FAIL(MAIF_EKEY, "C_FindObjects", rv);
        for (CK_ULONG i = 0; i < n; i++) {
            uint8_t id[16];
            long l = get_attr(p, h[i], CKA_ID, id, sizeof id);
            int kept = 0;
            for (size_t k = 0; k < nkeep && l == 16 && !kept; k++) kept = memcmp(id, keep[k], 16) == 0;
            if (!kept) doomed[nd++] = h[i];
        }
        if (nd == 0) return MAIF_OK; /* what is left is kept */
        for (CK_ULONG i = 0; i < nd; i++) {
            rv = p->f->C_DestroyObject(p->s, doomed[i]);
            if (rv != CKR_OK) return P11_FAIL(MAIF_EKEY, "C_DestroyObject", rv);
            if (destroyed) ++*destroyed;
        }
    }
    return maif_set_last_err(MAIF_EKEY, "the token holds too many keys labelled '%s'", label);
}
