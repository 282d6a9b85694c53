/*
 * keystore.c — crypto-shredding: data keys held outside the log.
 *
 * A shreddable block is sealed under its own random data key that is
 * never written into the artifact: it lives in a keystore file (beside
 * the artifact by convention), each entry sealed with XChaCha20-Poly1305
 * under a master key kept in a separate file (in the key holder's home by
 * convention, never beside the artifact). Erasing a block deletes its
 * entry, draws a NEW master key, re-seals the remaining entries under it
 * and destroys the old master: a copy of the keystore taken before (a
 * backup, a journal) is sealed under a master key that no longer exists.
 *
 *   keystore: "MKS1" ‖ master_id (16) ‖ count (u32 LE) ‖ count × entry
 *   entry:    key_id (16) ‖ nonce (24) ‖ sealed data key (32 + 16)
 *             AD = "MKS1" ‖ master_id ‖ key_id
 *   master:   "MKM1" ‖ master_id (16) ‖ master key (32), mode 0600
 *   or, with the master key held by a PKCS#11 token (open_token):
 *             "MKP1" ‖ master_id (16) ‖ store_id (16) ‖ token key id (16)
 *             ‖ iv (12) ‖ AES-GCM of the master key (32 + 16)
 *             ‖ module length (u16 LE) ‖ module ‖ label length (u8) ‖ label
 *             AD = its first 52 bytes; the token key, labelled
 *             "maif-keystore-<store_id hex>", never leaves the token
 *
 * On a token, each new master key is sealed under a NEW token key and the
 * old token key is destroyed on the token (with every other key of the
 * same keystore: what an interrupted erasure left), so an old master file
 * opens nothing even with the PIN.
 *
 * Both files are replaced atomically (write, fsync, rename, fsync of the
 * directory); the new master is first written beside the old one
 * (".new"), so a crash at any point leaves a keystore whose master can
 * be found. All secrets live in sodium_malloc'd memory, wiped on free.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/api.h"
#include "codec/codec.h"
#include "crypto/aead.h"
#include "crypto/crypto.h"
#include "crypto/p11.h"
#include "format/native/native.h"
#include "format/native/native_writer.h"
#include "privacy/privacy.h"
#include "util/alloc.h"
#include "util/common.h"

#define KS_MAX   (1u << 20) /* entries a keystore holds */
#define KS_HEAD  24
#define KS_ENTRY (16 + 24 + 48)
#define KM_SIZE  52
#define KP_HEAD  52               /* "MKP1" ‖ master_id ‖ store_id ‖ key id: the AD */
#define KP_FIXED (KP_HEAD + 12 + 48)
#define KP_MAX   (KP_FIXED + 2 + 4096 + 1 + 32)
#define KP_LABEL 48               /* "maif-keystore-" + 32 hex + NUL */

struct maif_keystore {
    maif_keysrc src; /* first: the cipher stages look keys up here */
    pthread_mutex_t lock;
    char *path, *master_path;
    uint8_t master_id[16];
    size_t n, cap;
    uint8_t (*ids)[16];
    uint8_t *sec; /* secret: master (32) ‖ cap data keys (32 each) */
    /* the master key on a token (NULL: in the master file) */
    struct maif_p11 *p11;
    char *module, *token;     /* as the master file names them */
    uint8_t store_id[16];     /* names the keystore's token keys */
    uint8_t key_id[16];       /* the token key that seals the current master */
};

#define MASTER(ks) ((ks)->sec)
#define DK(ks, i)  ((ks)->sec + 32 + 32 * (size_t)(i))

static char *dupstr(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = maif_malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

static char *with_suffix(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    char *d = maif_malloc(a + b + 1);
    if (d) {
        memcpy(d, s, a);
        memcpy(d + a, suf, b + 1);
    }
    return d;
}

static int ks_lookup(const maif_keysrc *self, const uint8_t *id, size_t id_len, const uint8_t **key)
{
    maif_keystore *ks = (maif_keystore *)self;
    *key = NULL;
    if (id_len != 16) return MAIF_EACCESS;
    pthread_mutex_lock(&ks->lock);
    for (size_t i = 0; i < ks->n; i++)
        if (memcmp(ks->ids[i], id, 16) == 0) {
            *key = DK(ks, i);
            break;
        }
    pthread_mutex_unlock(&ks->lock);
    return *key ? MAIF_OK : MAIF_EACCESS;
}

int priv_keystore_lookup(maif_keystore *ks, const uint8_t *id, size_t id_len, const uint8_t **key)
{
    return ks_lookup(&ks->src, id, id_len, key);
}

static int grow(maif_keystore *ks, size_t need)
{
    if (need <= ks->cap) return MAIF_OK;
    if (need > KS_MAX) return MAIF_ELIMIT;
    size_t nc = ks->cap ? ks->cap : 64;
    while (nc < need) nc *= 2;
    uint8_t *ns = maif_secret_alloc(32 + 32 * nc);
    void *ni = maif_realloc(ks->ids, nc * 16);
    if (!ns || !ni) {
        if (ns) maif_secret_free(ns);
        if (ni) ks->ids = ni;
        return MAIF_ENOMEM;
    }
    ks->ids = ni;
    if (ks->sec) {
        memcpy(ns, ks->sec, 32 + 32 * ks->n);
        maif_secret_free(ks->sec);
    }
    ks->sec = ns;
    ks->cap = nc;
    return MAIF_OK;
}

static void entry_ad(uint8_t ad[36], const uint8_t mid[16], const uint8_t kid[16])
{
    memcpy(ad, "MKS1", 4);
    memcpy(ad + 4, mid, 16);
    memcpy(ad + 20, kid, 16);
}

/* Reads a whole small file (at most cap bytes) into buf. */
static int read_file(const char *path, uint8_t *buf, size_t cap, size_t *n)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return errno == ENOENT ? MAIF_ENOTFOUND : MAIF_EIO;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > cap) {
        close(fd);
        return MAIF_EFORMAT;
    }
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t k = read(fd, buf + got, (size_t)st.st_size - got);
        if (k <= 0) {
            close(fd);
            return MAIF_EIO;
        }
        got += (size_t)k;
    }
    close(fd);
    *n = got;
    return MAIF_OK;
}

static int sync_dir_of(const char *path)
{
    char *d = dupstr(path);
    if (!d) return MAIF_ENOMEM;
    int dfd = open(dirname(d), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    maif_free(d);
    if (dfd < 0) return MAIF_EIO;
    int rc = fsync(dfd) == 0 ? MAIF_OK : MAIF_EIO;
    close(dfd);
    return rc;
}

/* Writes buf to path atomically (temporary name, fsync, rename). */
static int write_atomic(const char *path, const uint8_t *buf, size_t n, mode_t mode)
{
    char *tmp = with_suffix(path, ".tmpXXXXXX");
    if (!tmp) return MAIF_ENOMEM;
    int fd = mkstemp(tmp);
    if (fd < 0) {
        maif_free(tmp);
        return MAIF_EIO;
    }
    int rc = fchmod(fd, mode) == 0 ? MAIF_OK : MAIF_EIO;
    for (size_t off = 0; !rc && off < n;) {
        ssize_t k = write(fd, buf + off, n - off);
        if (k <= 0) rc = MAIF_EIO;
        else off += (size_t)k;
    }
    if (!rc && fsync(fd) != 0) rc = MAIF_EIO;
    close(fd);
    if (!rc && rename(tmp, path) != 0) rc = MAIF_EIO;
    if (rc) unlink(tmp);
    maif_free(tmp);
    if (!rc) rc = sync_dir_of(path);
    return rc;
}

/* Overwrites a master file in place with zeros before it is replaced
 * (best effort: on copy-on-write file systems and SSDs the old blocks may
 * survive; docs/FORMAT.md §5.10). */
static void scrub(const char *path)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return;
    struct stat st;
    uint8_t z[KP_MAX] = {0};
    if (fstat(fd, &st) == 0 && st.st_size > 0) {
        size_t n = (uint64_t)st.st_size < sizeof z ? (size_t)st.st_size : sizeof z;
        if (pwrite(fd, z, n, 0) == (ssize_t)n) (void)fsync(fd);
    }
    close(fd);
}

static void token_label(char out[KP_LABEL], const uint8_t store_id[16])
{
    memcpy(out, "maif-keystore-", 14);
    maif_hex(store_id, 16, out + 14);
}

/* The token form of a master file for master key nm (id mid) sealed under
 * a fresh token key, whose id goes to kid; *n its length. */
static int token_master(maif_keystore *ks, const uint8_t *nm, const uint8_t mid[16], uint8_t kid[16], uint8_t *m,
                        size_t *n)
{
    char label[KP_LABEL];
    token_label(label, ks->store_id);
    size_t ml = strlen(ks->module), tl = strlen(ks->token);
    if (ml > 4096 || tl > 32) return maif_set_last_err(MAIF_EINVAL, "module path or token label too long");
    maif_random(kid, 16);
    int rc = maif_p11_secret_generate(ks->p11, label, kid);
    if (rc) return rc;
    memcpy(m, "MKP1", 4);
    memcpy(m + 4, mid, 16);
    memcpy(m + 20, ks->store_id, 16);
    memcpy(m + 36, kid, 16);
    maif_random(m + KP_HEAD, 12);
    rc = maif_p11_secret_seal(ks->p11, label, kid, m + KP_HEAD, m, KP_HEAD, nm, 32, m + KP_HEAD + 12);
    if (rc) {
        (void)maif_p11_secret_destroy(ks->p11, label, kid);
        return rc;
    }
    uint8_t *t = m + KP_FIXED;
    wr16le(t, (uint16_t)ml);
    memcpy(t + 2, ks->module, ml);
    t[2 + ml] = (uint8_t)tl;
    memcpy(t + 3 + ml, ks->token, tl);
    *n = KP_FIXED + 3 + ml + tl;
    return MAIF_OK;
}

/* Writes the keystore; with rekey, under a fresh master key that replaces
 * the old one (which is scrubbed; on a token, the token key that sealed it
 * is destroyed last, with any other key of this keystore left there). */
static int save(maif_keystore *ks, int rekey)
{
    uint8_t *nm = maif_secret_alloc(32), *m = maif_secret_alloc(KP_MAX); /* m: the plain MKM1 form */
    if (!nm || !m) {
        maif_secret_free(nm);
        maif_secret_free(m);
        return MAIF_ENOMEM;
    }
    uint8_t mid[16], kid[16];
    int rc = MAIF_OK, made_key = 0;
    char *mnew = with_suffix(ks->master_path, ".new");
    size_t len = KS_HEAD + ks->n * KS_ENTRY, mlen = KM_SIZE;
    uint8_t *buf = maif_malloc(len);
    if (!mnew || !buf) rc = MAIF_ENOMEM;
    if (!rc && rekey) {
        maif_random(mid, 16);
        maif_random(nm, 32);
        if (ks->p11) {
            rc = token_master(ks, nm, mid, kid, m, &mlen);
            made_key = !rc;
        } else {
            memcpy(m, "MKM1", 4);
            memcpy(m + 4, mid, 16);
            memcpy(m + 20, nm, 32);
        }
        if (!rc) rc = write_atomic(mnew, m, mlen, 0600);
    } else if (!rc) {
        memcpy(mid, ks->master_id, 16);
        memcpy(nm, MASTER(ks), 32);
    }
    if (!rc) {
        memcpy(buf, "MKS1", 4);
        memcpy(buf + 4, mid, 16);
        wr32le(buf + 20, (uint32_t)ks->n);
        for (size_t i = 0; i < ks->n && !rc; i++) {
            uint8_t *e = buf + KS_HEAD + i * KS_ENTRY, ad[36];
            memcpy(e, ks->ids[i], 16);
            maif_random(e + 16, 24);
            entry_ad(ad, mid, ks->ids[i]);
            rc = maif_aead_seal(MAIF_AEAD_XCHACHA20, e + 40, DK(ks, i), 32, ad, sizeof ad, e + 16, nm);
        }
    }
    int written = 0;
    if (!rc) written = !(rc = write_atomic(ks->path, buf, len, 0600));
    if (!rc && rekey) {
        scrub(ks->master_path);
        if (rename(mnew, ks->master_path) != 0) rc = MAIF_EIO;
        if (!rc) rc = sync_dir_of(ks->master_path);
    }
    if (written && rekey) { /* the keystore is under the new master now */
        memcpy(MASTER(ks), nm, 32);
        memcpy(ks->master_id, mid, 16);
        if (ks->p11) {
            memcpy(ks->key_id, kid, 16);
            char label[KP_LABEL];
            token_label(label, ks->store_id);
            int src = maif_p11_secret_sweep(ks->p11, label, (const uint8_t(*)[16])ks->key_id, 1, NULL);
            if (!rc && src) {
                char why[300]; /* the message is rewritten below: copied out first */
                snprintf(why, sizeof why, "%s", maif_last_errmsg());
                rc = maif_set_last_err(MAIF_EKEY, "the old master key's token key could not be destroyed (%s); "
                                                  "the next erasure or rotation destroys it", why);
            }
        }
    } else if (made_key) { /* nothing refers to the new token key */
        char label[KP_LABEL];
        token_label(label, ks->store_id);
        (void)maif_p11_secret_destroy(ks->p11, label, kid);
        unlink(mnew);
    }
    maif_free(buf);
    maif_free(mnew);
    maif_secret_free(m);
    maif_secret_free(nm);
    return rc;
}

/* Opens a session on the token that holds ks's master key: module and
 * token label from tok where set, else as the master file names them. */
static int token_session(maif_keystore *ks, const maif_keystore_token *tok)
{
    if (!tok || !tok->pin)
        return maif_set_last_err(MAIF_EACCESS, "its master key is held by PKCS#11 token '%s' (module %s): a PIN is "
                                               "needed to open it", ks->token, ks->module);
    const char *module = tok->module ? tok->module : ks->module, *token = tok->token ? tok->token : ks->token;
    return maif_p11_session(&ks->p11, module, token, tok->pin, 1);
}

/* Unseals the master key of the token form m (n bytes, read from path)
 * into MASTER(ks) on the token it names (or tok's), opening the session.
 * Sets the last-error message on failure. */
static int load_token_master(maif_keystore *ks, const uint8_t *m, size_t n, const char *path,
                             const maif_keystore_token *tok)
{
    size_t ml = rd16le(m + KP_FIXED), tl = KP_FIXED + 2 + ml < n ? m[KP_FIXED + 2 + ml] : 256;
    if (ml == 0 || ml > 4096 || tl == 0 || tl > 32 || n != KP_FIXED + 3 + ml + tl)
        return maif_set_last_err(MAIF_EFORMAT, "%s: a damaged token master file", path);
    maif_free(ks->module);
    maif_free(ks->token);
    ks->module = maif_malloc(ml + 1);
    ks->token = maif_malloc(tl + 1);
    uint8_t *pt = maif_secret_alloc(48);
    if (!ks->module || !ks->token || !pt) {
        maif_secret_free(pt);
        return maif_set_last_err(MAIF_ENOMEM, "out of memory");
    }
    memcpy(ks->module, m + KP_FIXED + 2, ml);
    ks->module[ml] = 0;
    memcpy(ks->token, m + KP_FIXED + 3 + ml, tl);
    ks->token[tl] = 0;
    memcpy(ks->store_id, m + 20, 16);
    memcpy(ks->key_id, m + 36, 16);
    char label[KP_LABEL];
    token_label(label, ks->store_id);
    int rc = ks->p11 ? MAIF_OK : token_session(ks, tok);
    if (!rc) rc = maif_p11_secret_open(ks->p11, label, ks->key_id, m + KP_HEAD, m, KP_HEAD, m + KP_HEAD + 12, 48, pt);
    if (!rc) memcpy(MASTER(ks), pt, 32);
    maif_secret_free(pt);
    if (rc == MAIF_ENOTFOUND && ks->p11)
        return maif_set_last_err(MAIF_EKEY, "its master key's token key is no longer on token '%s' (destroyed by an "
                                            "erasure): nothing in it can be opened", ks->token);
    return rc == MAIF_EKEY ? MAIF_EACCESS : rc; /* no such token, a failing call: not a key that is gone */
}

/* The master key whose id is mid, from path or path.new: plain (MKM1), or
 * sealed by a key on a token (MKP1). *said: the last-error message
 * already says what failed. */
static int load_master(maif_keystore *ks, const uint8_t mid[16], const maif_keystore_token *tok, int *said)
{
    *said = 0;
    uint8_t *m = maif_secret_alloc(KP_MAX);
    if (!m) return MAIF_ENOMEM;
    int rc = MAIF_EKEY;
    for (int k = 0; k < 2 && rc == MAIF_EKEY && !*said; k++) {
        char *p = k ? with_suffix(ks->master_path, ".new") : dupstr(ks->master_path);
        size_t n = 0;
        if (!p) {
            rc = MAIF_ENOMEM;
            break;
        }
        if (read_file(p, m, KP_MAX, &n) == MAIF_OK && n >= KM_SIZE && maif_ct_compare(m + 4, mid, 16) == 0) {
            if (n == KM_SIZE && memcmp(m, "MKM1", 4) == 0) {
                memcpy(MASTER(ks), m + 20, 32);
                rc = MAIF_OK;
            } else if (n >= KP_FIXED + 3 && memcmp(m, "MKP1", 4) == 0) {
                rc = load_token_master(ks, m, n, p, tok);
                *said = rc && rc != MAIF_ENOMEM;
            }
        }
        maif_free(p);
    }
    maif_secret_free(m);
    return rc;
}

void maif_keystore_close(maif_keystore *ks)
{
    if (!ks) return;
    if (ks->sec) maif_secret_free(ks->sec); /* sodium_free wipes */
    maif_p11_close(ks->p11);
    maif_free(ks->module);
    maif_free(ks->token);
    maif_free(ks->ids);
    maif_free(ks->path);
    maif_free(ks->master_path);
    pthread_mutex_destroy(&ks->lock);
    maif_free(ks);
}

int maif_keystore_open(maif_keystore **out, const char *path, const char *master_path, int create)
{
    return maif_keystore_open_token(out, path, master_path, NULL, create);
}

int maif_keystore_open_token(maif_keystore **out, const char *path, const char *master_path,
                             const maif_keystore_token *tok, int create)
{
    if (!out || !path || !master_path) return maif_set_last_err(MAIF_EINVAL, "maif_keystore_open: NULL argument");
    *out = NULL;
    if (maif_crypto_init()) return maif_set_last_err(MAIF_ENOMEM, "cannot initialise the crypto library");
    maif_keystore *ks = maif_malloc(sizeof *ks);
    if (!ks) return maif_set_last_err(MAIF_ENOMEM, "out of memory");
    memset(ks, 0, sizeof *ks);
    pthread_mutex_init(&ks->lock, NULL);
    ks->src.lookup = ks_lookup;
    ks->path = dupstr(path);
    ks->master_path = dupstr(master_path);
    int rc = ks->path && ks->master_path ? grow(ks, 1) : MAIF_ENOMEM;
    if (rc) {
        maif_keystore_close(ks);
        return maif_set_last_err(MAIF_ENOMEM, "out of memory");
    }
    struct stat st;
    if (stat(path, &st) != 0 && errno == ENOENT) {
        if (!create) {
            maif_keystore_close(ks);
            return maif_set_last_err(MAIF_ENOTFOUND, "%s: no such keystore", path);
        }
        if (tok && (tok->module || tok->token)) { /* its master key goes on the token */
            if (!tok->module || !tok->token || !tok->pin || !*tok->module || !*tok->token ||
                strlen(tok->token) > 32 || strlen(tok->module) > 4096) {
                maif_keystore_close(ks);
                return maif_set_last_err(MAIF_EINVAL, "%s: a keystore on a token needs a module, a token label "
                                                      "(at most 32 bytes) and a PIN", path);
            }
            ks->module = dupstr(tok->module);
            ks->token = dupstr(tok->token);
            maif_random(ks->store_id, 16);
            rc = !ks->module || !ks->token ? maif_set_last_err(MAIF_ENOMEM, "out of memory")
                                           : maif_p11_session(&ks->p11, tok->module, tok->token, tok->pin, 1);
            if (rc) {
                char why[300];
                snprintf(why, sizeof why, "%s", maif_last_errmsg());
                maif_keystore_close(ks);
                return maif_set_last_err(rc, "%s: %s", path, why);
            }
        }
        rc = save(ks, 1);
        if (rc) {
            char why[300];
            snprintf(why, sizeof why, "%s", ks->p11 ? maif_last_errmsg() : maif_strerror(rc));
            maif_keystore_close(ks);
            return maif_set_last_err(rc, "%s: cannot create the keystore (or its master key %s): %s", path,
                                     master_path, why);
        }
        *out = ks;
        return MAIF_OK;
    }
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < KS_HEAD ||
        (uint64_t)st.st_size > KS_HEAD + (uint64_t)KS_MAX * KS_ENTRY) {
        maif_keystore_close(ks);
        return maif_set_last_err(MAIF_EFORMAT, "%s: not a keystore", path);
    }
    size_t n = 0, cap = (size_t)st.st_size;
    uint8_t *buf = maif_malloc(cap);
    if (!buf) {
        maif_keystore_close(ks);
        return maif_set_last_err(MAIF_ENOMEM, "out of memory");
    }
    rc = read_file(path, buf, cap, &n);
    uint32_t count = n >= KS_HEAD ? rd32le(buf + 20) : 0;
    if (!rc && (n < KS_HEAD || memcmp(buf, "MKS1", 4) != 0 || count > KS_MAX ||
                n != KS_HEAD + (size_t)count * KS_ENTRY))
        rc = MAIF_EFORMAT;
    if (!rc) {
        memcpy(ks->master_id, buf + 4, 16);
        rc = grow(ks, count);
    }
    int said = 0;
    if (!rc) rc = load_master(ks, ks->master_id, tok, &said);
    for (uint32_t i = 0; i < count && !rc; i++) {
        const uint8_t *e = buf + KS_HEAD + (size_t)i * KS_ENTRY;
        uint8_t ad[36];
        entry_ad(ad, ks->master_id, e);
        rc = maif_aead_open(MAIF_AEAD_XCHACHA20, DK(ks, i), e + 40, 48, ad, sizeof ad, e + 16, MASTER(ks));
        memcpy(ks->ids[i], e, 16);
        ks->n = i + 1;
    }
    maif_free(buf);
    if (rc && said) {
        char why[400];
        snprintf(why, sizeof why, "%s", maif_last_errmsg());
        maif_keystore_close(ks);
        return maif_set_last_err(rc, "%s: %s", path, why);
    }
    if (rc) {
        maif_keystore_close(ks);
        if (rc == MAIF_EKEY)
            return maif_set_last_err(rc, "%s: its master key is not in %s (replaced by an erasure, or missing): "
                                         "nothing in it can be opened", path, master_path);
        if (rc == MAIF_EVERIFY) return maif_set_last_err(rc, "%s: an entry fails authentication", path);
        return maif_set_last_err(rc, "%s: %s", path, rc == MAIF_EFORMAT ? "not a keystore" : maif_strerror(rc));
    }
    *out = ks;
    return MAIF_OK;
}

int maif_keystore_rekey(maif_keystore *ks)
{
    if (!ks) return maif_set_last_err(MAIF_EINVAL, "maif_keystore_rekey: NULL keystore");
    pthread_mutex_lock(&ks->lock);
    int rc = save(ks, 1);
    pthread_mutex_unlock(&ks->lock);
    if (!rc) return MAIF_OK;
    char why[300];
    snprintf(why, sizeof why, "%s", ks->p11 ? maif_last_errmsg() : maif_strerror(rc));
    return maif_set_last_err(rc, "%s: cannot replace the master key: %s", ks->path, why);
}

size_t maif_keystore_count(const maif_keystore *ks) { return ks ? ks->n : 0; }

int maif_writer_encrypt_shreddable(maif_writer *w, maif_keystore *ks, int cipher)
{
    if (!w || !ks) return maif_set_last_err(MAIF_EINVAL, "maif_writer_encrypt_shreddable: NULL argument");
    if (cipher < MAIF_CIPHER_XCHACHA20 || cipher > MAIF_CIPHER_AES256GCM)
        return maif_set_last_err(nat_writer_fail(w, MAIF_EINVAL, "unknown cipher %d", cipher), "%s",
                                 maif_writer_errmsg(w));
    if (!maif_aead_available(cipher))
        return maif_set_last_err(
            nat_writer_fail(w, MAIF_EUNSUPPORTED, "AES-256-GCM needs AES-NI and PCLMUL, which this CPU lacks"), "%s",
            maif_writer_errmsg(w));
    pthread_mutex_lock(&ks->lock);
    int rc = grow(ks, ks->n + 1);
    uint8_t kid[16];
    if (!rc) {
        maif_random(kid, 16);
        memcpy(ks->ids[ks->n], kid, 16);
        maif_random(DK(ks, ks->n), 32);
        ks->n++;
        rc = save(ks, 0); /* durable before any block sealed under it can be committed */
        if (rc) maif_wipe(DK(ks, --ks->n), 32);
    }
    pthread_mutex_unlock(&ks->lock);
    if (rc) return maif_set_last_err(nat_writer_fail(w, rc, "%s: cannot store the data key", ks->path), "%s",
                                     maif_writer_errmsg(w));
    maif_stage_config cfg = {.codec = w->stages.codec, .cipher = (uint8_t)cipher, .keyring = &ks->src,
                             .key_id = kid, .key_id_len = 16};
    rc = nat_writer_set_stages(w, &cfg);
    if (rc) maif_set_last_err(rc, "%s", maif_writer_errmsg(w));
    return rc;
}

/* The key id of encrypted block b of r, or NULL. */
static const uint8_t *block_key_id(maif_reader *r, const maif_block *b, size_t *len, uint64_t *payload_off)
{
    const uint8_t *base;
    size_t size;
    maif_reader_image(r, &base, &size);
    nat_rec rec;
    nat_ext ext;
    int trunc;
    char err[160];
    if (!b->cipher || maif_reader_format(r) != MAIF_FORMAT_NATIVE ||
        nat_rec_parse(base, size, b->offset, &rec, &trunc, err, sizeof err) != MAIF_OK ||
        nat_ext_parse(base + rec.ext_off, rec.ext_size, &ext) != MAIF_OK || !ext.key_id)
        return NULL;
    *len = ext.key_id_len;
    *payload_off = rec.payload_off;
    return ext.key_id;
}

int maif_erasure_parse(const maif_block *b, maif_erasure *out)
{
    if (!b || !out || b->type != MAIF_TYPE_ERASURE) return maif_set_last_err(MAIF_EINVAL, "not an erasure block");
    const uint8_t *p = b->payload;
    if (b->codec || b->cipher || b->payload_size < 9 || memcmp(p, "MER1", 4) != 0 || p[4] > 1)
        return maif_set_last_err(MAIF_EFORMAT, "not an erasure record (FORMAT.md §5.10)");
    uint64_t cnt = rd32le(p + 5);
    if (cnt > 4096 || b->payload_size != 9 + cnt * MAIF_ERASURE_ENTRY_BYTES)
        return maif_set_last_err(MAIF_EFORMAT, "erasure record of %llu entries in %llu bytes",
                                 (unsigned long long)cnt, (unsigned long long)b->payload_size);
    out->punched = p[4];
    out->count = (uint32_t)cnt;
    out->entries = p + 9;
    return MAIF_OK;
}

/* 1 if an erasure record of r names block b (id and content hash). */
static int named_erased(maif_reader *r, const maif_block *b)
{
    uint64_t n = maif_reader_count(r);
    for (uint64_t i = b->index + 1; i < n; i++) {
        maif_block e;
        maif_erasure er;
        if (maif_reader_block(r, i, &e) != MAIF_OK || e.type != MAIF_TYPE_ERASURE || maif_erasure_parse(&e, &er))
            continue;
        for (uint32_t k = 0; k < er.count; k++) {
            const uint8_t *ent = er.entries + (size_t)k * MAIF_ERASURE_ENTRY_BYTES;
            if (memcmp(ent, b->id, 16) == 0 && memcmp(ent + 16, b->content_hash, 32) == 0) return 1;
        }
    }
    return 0;
}

typedef struct erased {
    uint64_t index, off, size;
    uint8_t id[16], hash[32];
} erased;

static int zero_range(maif_writer *w, uint64_t off, uint64_t n)
{
    static const uint8_t z[65536];
    for (uint64_t done = 0; done < n;) {
        size_t k = n - done < sizeof z ? (size_t)(n - done) : sizeof z;
        int rc = nat_writer_pwrite(w, z, k, off + done);
        if (rc) return rc;
        done += k;
    }
    return MAIF_OK;
}

int maif_keystore_shred(maif_keystore *ks, maif_reader *r, maif_writer *w, const uint64_t *blocks, size_t n,
                        unsigned flags, uint64_t *erased_out)
{
    if (erased_out) *erased_out = 0;
    if (!ks || !r || !w || (!blocks && n)) return maif_set_last_err(MAIF_EINVAL, "maif_keystore_shred: NULL argument");
    if (n == 0 || n > 4096) return maif_set_last_err(MAIF_EINVAL, "shred 1 to 4096 blocks at a time");
    if (flags & ~(unsigned)MAIF_SHRED_PUNCH) return maif_set_last_err(MAIF_EINVAL, "unknown shred flags");
    uint8_t (*kids)[16] = maif_malloc(n * 16);
    uint64_t *again = maif_malloc(n * sizeof *again); /* erased before: overwrite only */
    if (!kids || !again) {
        maif_free(kids);
        maif_free(again);
        return maif_set_last_err(MAIF_ENOMEM, "out of memory");
    }
    size_t nk = 0, na = 0;
    int rc = MAIF_OK;
    for (size_t i = 0; i < n && !rc; i++) {
        maif_block b;
        size_t kl = 0;
        uint64_t po;
        const uint8_t *kid = NULL, *dk;
        rc = maif_reader_block(r, blocks[i], &b);
        if (rc) {
            maif_set_last_err(rc, "block %llu: %s", (unsigned long long)blocks[i], maif_reader_errmsg(r));
            break;
        }
        kid = block_key_id(r, &b, &kl, &po);
        if (kid && kl == 16 && ks_lookup(&ks->src, kid, kl, &dk) == MAIF_OK) {
            memcpy(kids[nk++], kid, 16);
        } else if (kid && (flags & MAIF_SHRED_PUNCH) && named_erased(r, &b)) {
            again[na++] = blocks[i]; /* its key is gone already: finish (or add) the overwrite */
        } else {
            rc = maif_set_last_err(MAIF_EINVAL, "block %llu is not shreddable: its key is not in the keystore%s",
                                   (unsigned long long)blocks[i],
                                   !b.cipher ? " (it is not encrypted)"
                                   : kid && named_erased(r, &b) ? " (already erased: add --punch to overwrite it)"
                                                                : " (it was wrapped in the file)");
        }
    }
    /* every block sealed under those keys is erased with them */
    uint64_t count = maif_reader_count(r), ne = 0;
    erased *list = NULL;
    for (uint64_t i = 0; i < count && !rc; i++) {
        maif_block b;
        size_t kl = 0;
        uint64_t po = 0;
        if (maif_reader_block(r, i, &b) != MAIF_OK || !b.cipher) continue;
        const uint8_t *kid = block_key_id(r, &b, &kl, &po);
        if (!kid || kl != 16) continue;
        int hit = 0;
        for (size_t k = 0; k < nk && !hit; k++) hit = memcmp(kids[k], kid, 16) == 0;
        for (size_t k = 0; k < na && !hit; k++) hit = again[k] == i;
        if (!hit) continue;
        if ((ne & (ne - 1)) == 0) {
            void *q = maif_realloc(list, (size_t)(ne ? 2 * ne : 1) * sizeof *list);
            if (!q) {
                rc = maif_set_last_err(MAIF_ENOMEM, "out of memory");
                break;
            }
            list = q;
        }
        erased *e = &list[ne++];
        e->index = i;
        e->off = po;
        e->size = b.payload_size;
        memcpy(e->id, b.id, 16);
        memcpy(e->hash, b.content_hash, 32);
    }
    /* 1. the signed erasure record, committed before anything is destroyed */
    uint8_t *rec = NULL;
    size_t rlen = 9 + (size_t)ne * 48;
    if (!rc && ne > 4096) rc = maif_set_last_err(MAIF_ELIMIT, "more than 4096 blocks under those keys");
    if (!rc && !(rec = maif_malloc(rlen))) rc = maif_set_last_err(MAIF_ENOMEM, "out of memory");
    if (!rc) {
        memcpy(rec, "MER1", 4);
        rec[4] = (flags & MAIF_SHRED_PUNCH) ? 1 : 0;
        wr32le(rec + 5, (uint32_t)ne);
        for (uint64_t i = 0; i < ne; i++) {
            memcpy(rec + 9 + i * 48, list[i].id, 16);
            memcpy(rec + 9 + i * 48 + 16, list[i].hash, 32);
        }
        rc = priv_add_signed(w, MAIF_TYPE_ERASURE, rec, rlen, NULL, NULL);
        if (!rc) rc = maif_writer_commit(w);
        if (rc) maif_set_last_err(rc, "cannot record the erasure: %s", maif_writer_errmsg(w));
    }
    /* 2. the keys, and the master key that sealed every copy of them */
    if (!rc && nk) {
        pthread_mutex_lock(&ks->lock);
        for (size_t k = 0; k < nk; k++)
            for (size_t i = 0; i < ks->n; i++)
                if (memcmp(ks->ids[i], kids[k], 16) == 0) {
                    ks->n--;
                    memcpy(ks->ids[i], ks->ids[ks->n], 16);
                    memcpy(DK(ks, i), DK(ks, ks->n), 32);
                    maif_wipe(DK(ks, ks->n), 32);
                    break;
                }
        rc = save(ks, 1);
        pthread_mutex_unlock(&ks->lock);
        if (rc) maif_set_last_err(rc, "%s: the erasure is recorded but the keystore could not be rewritten: %s "
                                      "(run shred again)", ks->path, maif_strerror(rc));
    }
    /* 3. optionally, the ciphertext itself */
    if (!rc && (flags & MAIF_SHRED_PUNCH)) {
        for (uint64_t i = 0; i < ne && !rc; i++) rc = zero_range(w, list[i].off, list[i].size);
        if (!rc && w->io->sync(w->f, MAIF_IO_SYNC_DATA) != 0) rc = MAIF_EIO;
        for (uint64_t i = 0; i < ne && !rc; i++) {
            uint64_t a = (list[i].off + 4095) & ~4095ull, e = (list[i].off + list[i].size) & ~4095ull;
            if (e > a && w->io->punch) (void)w->io->punch(w->f, a, e - a); /* best effort: zeros are written */
        }
        if (rc) maif_set_last_err(rc, "the erasure is recorded and the keys destroyed, but overwriting the "
                                      "ciphertext failed: %s", maif_writer_errmsg(w));
    }
    if (!rc && erased_out) *erased_out = ne;
    maif_free(rec);
    maif_free(list);
    maif_free(kids);
    maif_free(again);
    return rc;
}
