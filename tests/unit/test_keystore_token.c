/*
 * test_keystore_token.c — a keystore whose master key is held by a
 * PKCS#11 token (maif_keystore_open_token, FORMAT.md §5.10), on a real
 * SoftHSM 2 token made in a temporary directory (softhsm2-util; the
 * packages come from scripts/install-deps.sh):
 *   - shredding seals the new master under a new token key and destroys
 *     the old one: the keystore and master file saved before open nothing
 *     with the right PIN, and exactly one key of the keystore stays on the
 *     token (pkcs11-tool counts them);
 *   - no PIN, a wrong PIN, another token, a missing module, bad creation
 *     arguments: each its error code and one clear message;
 *   - every single-byte change to the master file fails cleanly, never
 *     opening under a wrong key;
 *   - a crash between the keystore's rewrite and the master's rename (the
 *     master in ".new") still opens, and a key an interrupted erasure
 *     left on the token is destroyed by the next rekey;
 *   - a signing key and a keystore on one module at once (one
 *     C_Initialize, finalised after the last user).
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto/p11.h"

/* SoftHSM's own OpenSSL use leaks a few bytes inside the module (its
 * Ed25519 C_Sign leaks two small ASN.1 objects; tests/cli/test_pkcs11.sh
 * sees the same): suppressed where a stack passes through our calls into
 * it, which needs full stacks (no fast unwinding). Default visibility: the
 * sanitizer runtime looks these hooks up by name. */
const char *__asan_default_options(void);
__attribute__((visibility("default"))) const char *__asan_default_options(void) { return "fast_unwind_on_malloc=0"; }
const char *__lsan_default_suppressions(void);
__attribute__((visibility("default"))) const char *__lsan_default_suppressions(void)
{
    return "leak:libsofthsm2.so\nleak:maif_p11_session\nleak:maif_p11_close\nleak:maif_p11_sign\n";
}

#define PIN "123456"
#define TOKEN "maif-ks"

static char *g_dir, *g_module;

static const char *find_module(void)
{
    static const char *dirs[] = {"/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
                                 "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so"};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++)
        if (access(dirs[i], R_OK) == 0) return dirs[i];
    return NULL;
}

static int group_setup(void **state)
{
    (void)state;
    const char *m = find_module();
    if (!m) {
        fprintf(stderr, "test_keystore_token: libsofthsm2.so not found (scripts/install-deps.sh installs softhsm2)\n");
        return -1;
    }
    g_module = strdup(m);
    g_dir = tu_tmpdir();
    char *conf = tu_path(g_dir, "softhsm2.conf"), *tokens = tu_path(g_dir, "tokens"), cmd[1024];
    char text[600];
    snprintf(text, sizeof text, "directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n", tokens);
    if (tu_write(conf, text, strlen(text)) != 0) return -1;
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", tokens);
    if (system(cmd) != 0) return -1;
    setenv("SOFTHSM2_CONF", conf, 1);
    snprintf(cmd, sizeof cmd,
             "softhsm2-util --init-token --free --label %s --pin %s --so-pin 654321 >/dev/null 2>&1", TOKEN, PIN);
    int rc = system(cmd);
    free(conf);
    free(tokens);
    if (rc != 0) fprintf(stderr, "test_keystore_token: softhsm2-util --init-token failed\n");
    return rc == 0 ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    if (g_dir) tu_rmtree(g_dir);
    free(g_dir);
    free(g_module);
    return 0;
}

typedef struct fx {
    char *dir, *path, *ks, *master;
    maif_key *owner;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    f->dir = tu_tmpdir();
    f->path = tu_path(f->dir, "a.maif");
    f->ks = tu_path(f->dir, "a.maif.keystore");
    f->master = tu_path(f->dir, "a.master");
    assert_int_equal(maif_key_generate(&f->owner), MAIF_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    maif_key_free(f->owner);
    tu_rmtree(f->dir);
    free(f->dir);
    free(f->path);
    free(f->ks);
    free(f->master);
    free(f);
    return 0;
}

/* The secret keys on the token labelled for the keystore whose master
 * file is master (store_id at bytes 20..36), counted by pkcs11-tool. */
static int token_keys(const char *master)
{
    size_t n;
    uint8_t *m = tu_read(master, &n);
    assert_non_null(m);
    assert_true(n > 36 && memcmp(m, "MKP1", 4) == 0);
    char hex[33], cmd[1200];
    maif_hex(m + 20, 16, hex);
    free(m);
    snprintf(cmd, sizeof cmd,
             "pkcs11-tool --module '%s' --token-label %s --login --pin %s --list-objects --type secrkey 2>/dev/null"
             " | grep -c 'maif-keystore-%s'",
             g_module, TOKEN, PIN, hex);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    int count = -1;
    if (fscanf(p, "%d", &count) != 1) count = -1;
    pclose(p);
    return count;
}

static int decode(const char *path, uint64_t i, maif_keystore *ks, char *out, size_t cap)
{
    maif_reader *r = NULL;
    maif_keyring *kr = NULL;
    assert_int_equal(maif_reader_open(&r, path), MAIF_OK);
    assert_int_equal(maif_keyring_create(&kr), MAIF_OK);
    if (ks) assert_int_equal(maif_keyring_add_keystore(kr, ks), MAIF_OK);
    assert_int_equal(maif_reader_set_keyring(r, kr), MAIF_OK);
    size_t n = 0;
    memset(out, 0, cap);
    int rc = maif_reader_block_decode(r, i, out, cap - 1, &n);
    maif_reader_close(r);
    maif_keyring_free(kr);
    return rc;
}

static maif_keystore *create_on_token(fx *f)
{
    maif_keystore_token t = {g_module, TOKEN, PIN};
    maif_keystore *ks = NULL;
    assert_int_equal(maif_keystore_open_token(&ks, f->ks, f->master, &t, 1), MAIF_OK);
    return ks;
}

/* A new artifact at f->path holding one block of text, sealed under a
 * fresh key of ks (signed by signer), committed. */
static void write_shreddable(fx *f, maif_keystore *ks, const maif_key *signer, int cipher, const char *text)
{
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, signer, "agent", NULL), MAIF_OK);
    assert_int_equal(maif_writer_encrypt_shreddable(w, ks, cipher), MAIF_OK);
    tu_add_simple(w, MAIF_TYPE_TEXT, text, strlen(text), NULL, NULL);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
}

static void copy_file(const char *from, const char *to)
{
    size_t n;
    uint8_t *b = tu_read(from, &n);
    assert_non_null(b);
    assert_int_equal(tu_write(to, b, n), 0);
    free(b);
}

static void test_shred_destroys_token_key(void **state)
{
    fx *f = *state;
    maif_keystore *ks = create_on_token(f);
    /* the master file holds the sealed form only, and names module and token */
    size_t mn;
    uint8_t *m = tu_read(f->master, &mn);
    assert_true(mn == 112 + 2 + strlen(g_module) + 1 + strlen(TOKEN));
    assert_memory_equal(m, "MKP1", 4);
    assert_memory_equal(m + 114, g_module, strlen(g_module));
    free(m);
    assert_int_equal(token_keys(f->master), 1);

    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->owner, "agent", NULL), MAIF_OK);
    static const char secret[] = "a diagnosis that must be forgotten";
    assert_int_equal(maif_writer_encrypt_shreddable(w, ks, MAIF_CIPHER_XCHACHA20), MAIF_OK);
    tu_add_simple(w, MAIF_TYPE_TEXT, secret, sizeof secret - 1, NULL, NULL);
    assert_int_equal(maif_writer_encrypt_shreddable(w, ks, MAIF_CIPHER_AES256GCM), MAIF_OK);
    tu_add_simple(w, MAIF_TYPE_TEXT, "keep this", 9, NULL, NULL);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    char out[128];
    assert_int_equal(decode(f->path, 0, ks, out, sizeof out), MAIF_OK);
    assert_string_equal(out, secret);

    /* reopened with the PIN alone: the master file names module and token */
    maif_keystore_close(ks);
    maif_keystore_token pin_only = {NULL, NULL, PIN};
    assert_int_equal(maif_keystore_open_token(&ks, f->ks, f->master, &pin_only, 0), MAIF_OK);
    assert_int_equal(maif_keystore_count(ks), 2);
    assert_int_equal(decode(f->path, 1, ks, out, sizeof out), MAIF_OK);
    assert_string_equal(out, "keep this");

    /* a backup of both files, then the erasure */
    char *old_ks = tu_path(f->dir, "old.keystore"), *old_master = tu_path(f->dir, "old.master");
    copy_file(f->ks, old_ks);
    copy_file(f->master, old_master);
    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    uint64_t which = 0, erased = 0;
    assert_int_equal(maif_keystore_shred(ks, r, w, &which, 1, 0, &erased), MAIF_OK);
    assert_int_equal(erased, 1);
    maif_reader_close(r);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    assert_int_equal(token_keys(f->master), 1); /* the old one is gone from the token */
    assert_int_equal(decode(f->path, 0, ks, out, sizeof out), MAIF_EACCESS);
    assert_int_equal(decode(f->path, 1, ks, out, sizeof out), MAIF_OK);
    maif_keystore_close(ks);

    /* the backup opens nothing, PIN or not */
    maif_keystore *old = NULL;
    assert_int_equal(maif_keystore_open_token(&old, old_ks, old_master, &pin_only, 0), MAIF_EKEY);
    assert_null(old);
    assert_non_null(strstr(maif_last_errmsg(), "no longer on token"));
    /* nor does the old keystore with the current master file */
    assert_int_equal(maif_keystore_open_token(&old, old_ks, f->master, &pin_only, 0), MAIF_EKEY);
    /* the current one still opens block 1, not block 0 */
    assert_int_equal(maif_keystore_open_token(&ks, f->ks, f->master, &pin_only, 0), MAIF_OK);
    assert_int_equal(maif_keystore_count(ks), 1);
    assert_int_equal(decode(f->path, 0, ks, out, sizeof out), MAIF_EACCESS);
    assert_int_equal(decode(f->path, 1, ks, out, sizeof out), MAIF_OK);
    /* rotation replaces the token key again */
    assert_int_equal(maif_keystore_rekey(ks), MAIF_OK);
    assert_int_equal(token_keys(f->master), 1);
    assert_int_equal(decode(f->path, 1, ks, out, sizeof out), MAIF_OK);
    maif_keystore_close(ks);
    tu_assert_verifies(f->path);
    free(old_ks);
    free(old_master);
}

static void test_errors(void **state)
{
    fx *f = *state;
    maif_keystore *ks = create_on_token(f);
    maif_keystore_close(ks);
    ks = NULL;
    /* no PIN */
    assert_int_equal(maif_keystore_open(&ks, f->ks, f->master, 0), MAIF_EACCESS);
    assert_non_null(strstr(maif_last_errmsg(), "a PIN is needed"));
    assert_non_null(strstr(maif_last_errmsg(), TOKEN));
    maif_keystore_token t = {NULL, NULL, NULL};
    assert_int_equal(maif_keystore_open_token(&ks, f->ks, f->master, &t, 0), MAIF_EACCESS);
    /* a wrong PIN */
    t.pin = "000000";
    assert_int_equal(maif_keystore_open_token(&ks, f->ks, f->master, &t, 0), MAIF_EACCESS);
    assert_non_null(strstr(maif_last_errmsg(), "CKR_PIN_INCORRECT"));
    /* another token label, another module */
    t.pin = PIN;
    t.token = "nosuch";
    assert_int_equal(maif_keystore_open_token(&ks, f->ks, f->master, &t, 0), MAIF_EACCESS);
    assert_non_null(strstr(maif_last_errmsg(), "no token labelled 'nosuch'"));
    t.token = NULL;
    t.module = "/nonexistent/libnothing.so";
    assert_int_equal(maif_keystore_open_token(&ks, f->ks, f->master, &t, 0), MAIF_ENOTFOUND);
    assert_non_null(strstr(maif_last_errmsg(), "cannot load the PKCS#11 module"));
    assert_null(ks);
    /* the right one */
    t.module = g_module;
    assert_int_equal(maif_keystore_open_token(&ks, f->ks, f->master, &t, 0), MAIF_OK);
    maif_keystore_close(ks);
    ks = NULL;

    /* creating: module and label needed, a label fits 32 bytes, the token must exist */
    char *p2 = tu_path(f->dir, "b.keystore"), *m2 = tu_path(f->dir, "b.master");
    maif_keystore_token c = {NULL, TOKEN, PIN};
    assert_int_equal(maif_keystore_open_token(&ks, p2, m2, &c, 1), MAIF_EINVAL);
    c.module = g_module;
    c.token = "a label that is longer than thirty-two bytes";
    assert_int_equal(maif_keystore_open_token(&ks, p2, m2, &c, 1), MAIF_EINVAL);
    c.token = "nosuch";
    assert_int_equal(maif_keystore_open_token(&ks, p2, m2, &c, 1), MAIF_EKEY);
    c.token = TOKEN;
    c.pin = "000000";
    assert_int_equal(maif_keystore_open_token(&ks, p2, m2, &c, 1), MAIF_EACCESS);
    assert_null(ks);
    assert_int_not_equal(access(p2, F_OK), 0); /* nothing created after a failure */
    assert_int_not_equal(access(m2, F_OK), 0);
    c.module = NULL;
    c.pin = NULL;
    assert_int_equal(maif_keystore_open_token(&ks, p2, m2, &c, 1), MAIF_EINVAL); /* a label, no module */
    c.token = NULL;
    c.pin = PIN; /* a PIN alone (say from the environment) makes a plain keystore */
    assert_int_equal(maif_keystore_open_token(&ks, p2, m2, &c, 1), MAIF_OK);
    maif_keystore_close(ks);
    size_t pn;
    uint8_t *pm = tu_read(m2, &pn);
    assert_int_equal(pn, 52);
    assert_memory_equal(pm, "MKM1", 4);
    free(pm);
    c.module = g_module;
    c.token = TOKEN;
    /* a plain keystore ignores a token given to open it */
    assert_int_equal(maif_keystore_open(&ks, p2, m2, 1), MAIF_OK);
    maif_keystore_close(ks);
    c.pin = PIN;
    assert_int_equal(maif_keystore_open_token(&ks, p2, m2, &c, 0), MAIF_OK);
    maif_keystore_close(ks);
    free(p2);
    free(m2);
}

static void test_master_file_sweep(void **state)
{
    fx *f = *state;
    maif_keystore *ks = create_on_token(f);
    write_shreddable(f, ks, f->owner, MAIF_CIPHER_XCHACHA20, "sealed");
    maif_keystore_close(ks);
    size_t n;
    uint8_t *good = tu_read(f->master, &n);
    maif_keystore_token t = {NULL, NULL, PIN};
    unsigned opened = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t *bad = malloc(n);
        memcpy(bad, good, n);
        bad[i] ^= 0x01;
        assert_int_equal(tu_write(f->master, bad, n), 0);
        ks = NULL;
        int rc = maif_keystore_open_token(&ks, f->ks, f->master, &t, 0);
        if (rc == MAIF_OK) { /* only a byte that names nothing secret may change: none here */
            opened++;
            maif_keystore_close(ks);
        } else {
            assert_null(ks);
            assert_true(rc == MAIF_EKEY || rc == MAIF_EFORMAT || rc == MAIF_EVERIFY || rc == MAIF_EACCESS ||
                        rc == MAIF_ENOTFOUND || rc == MAIF_EINVAL);
            assert_true(strlen(maif_last_errmsg()) > 0);
        }
        free(bad);
    }
    assert_int_equal(opened, 0);
    /* truncated at every length */
    for (size_t k = 0; k < n; k++) {
        assert_int_equal(tu_write(f->master, good, k), 0);
        ks = NULL;
        int rc = maif_keystore_open_token(&ks, f->ks, f->master, &t, 0);
        assert_int_not_equal(rc, MAIF_OK);
        assert_null(ks);
    }
    assert_int_equal(tu_write(f->master, good, n), 0);
    assert_int_equal(maif_keystore_open_token(&ks, f->ks, f->master, &t, 0), MAIF_OK);
    char out[32];
    assert_int_equal(decode(f->path, 0, ks, out, sizeof out), MAIF_OK);
    assert_string_equal(out, "sealed");
    maif_keystore_close(ks);
    free(good);
}

static void test_interrupted_rekey(void **state)
{
    fx *f = *state;
    maif_keystore *ks = create_on_token(f);
    write_shreddable(f, ks, f->owner, MAIF_CIPHER_CHACHA20, "survives");
    char *before = tu_path(f->dir, "before.master"), *mnew = tu_path(f->dir, "a.master.new");
    copy_file(f->master, before);

    /* a crash after the keystore was rewritten, before the master file's
     * rename: the new master is in ".new", the old name holds the old one,
     * and the old token key was not destroyed yet */
    maif_keystore_token t = {NULL, NULL, PIN};
    assert_int_equal(maif_keystore_rekey(ks), MAIF_OK);
    maif_keystore_close(ks);
    assert_int_equal(rename(f->master, mnew), 0);
    copy_file(before, f->master);
    size_t n;
    uint8_t *m = tu_read(before, &n);
    struct maif_p11 *p = NULL;
    assert_int_equal(maif_p11_session(&p, g_module, TOKEN, PIN, 1), MAIF_OK);
    char label[48];
    memcpy(label, "maif-keystore-", 14);
    maif_hex(m + 20, 16, label + 14);
    assert_int_equal(maif_p11_secret_generate(p, label, m + 36), MAIF_OK); /* the old token key, back */
    maif_p11_close(p);
    free(m);
    assert_int_equal(token_keys(mnew), 2);

    assert_int_equal(maif_keystore_open_token(&ks, f->ks, f->master, &t, 0), MAIF_OK); /* from ".new" */
    char out[32];
    assert_int_equal(decode(f->path, 0, ks, out, sizeof out), MAIF_OK);
    assert_string_equal(out, "survives");
    /* the next rekey destroys every other key of this keystore */
    assert_int_equal(maif_keystore_rekey(ks), MAIF_OK);
    assert_int_equal(token_keys(f->master), 1);
    assert_int_equal(decode(f->path, 0, ks, out, sizeof out), MAIF_OK);
    maif_keystore_close(ks);
    assert_int_equal(maif_keystore_open_token(&ks, f->ks, f->master, &t, 0), MAIF_OK);
    maif_keystore_close(ks);
    free(before);
    free(mnew);
}

static void test_key_and_keystore_share_module(void **state)
{
    fx *f = *state;
    char cmd[1200];
    snprintf(cmd, sizeof cmd,
             "pkcs11-tool --module '%s' --token-label %s --login --pin %s --keypairgen --key-type EC:edwards25519"
             " --label signer >/dev/null 2>&1",
             g_module, TOKEN, PIN);
    assert_int_equal(system(cmd), 0);
    maif_key *signer = NULL;
    assert_int_equal(maif_key_from_pkcs11(&signer, g_module, TOKEN, "signer", PIN), MAIF_OK);
    maif_keystore *ks = create_on_token(f);
    write_shreddable(f, ks, signer, MAIF_CIPHER_XCHACHA20, "token-signed");
    maif_key_free(signer); /* the module stays initialised for the keystore */
    assert_int_equal(maif_keystore_rekey(ks), MAIF_OK);
    char out[32];
    assert_int_equal(decode(f->path, 0, ks, out, sizeof out), MAIF_OK);
    assert_string_equal(out, "token-signed");
    maif_keystore_close(ks);
    tu_assert_verifies(f->path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_shred_destroys_token_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_master_file_sweep, setup, teardown),
        cmocka_unit_test_setup_teardown(test_interrupted_rekey, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_and_keystore_share_module, setup, teardown),
    };
    if (getenv("TEST_FILTER")) cmocka_set_test_filter(getenv("TEST_FILTER"));
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
