/*
 * test_sigalg.c — RSA-PSS and ECDSA P-256 beside Ed25519: key generation
 * and files (PEM round trip, keys made by the openssl CLI, wrong types),
 * version 2 commit records (they verify, pin, report their algorithm, and
 * every byte of their signature area matters), mixed signers in one file,
 * and the places only Ed25519 can go (encryption, MAIF 2.1 output).
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const int algs[] = {MAIF_SIG_ED25519, MAIF_SIG_RSA_PSS, MAIF_SIG_P256};

static uint64_t rd64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

static void write_with(const char *path, const maif_key *k, const char *text, int create)
{
    maif_writer *w = NULL;
    if (create) assert_int_equal(maif_writer_create(&w, path, k, NULL, NULL), MAIF_OK);
    else assert_int_equal(maif_writer_open(&w, path, k, NULL), MAIF_OK);
    tu_add_simple(w, MAIF_TYPE_TEXT, text, strlen(text), NULL, NULL);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
}

static maif_report *verify(const char *path, const uint8_t *pin)
{
    maif_options *opt = tu_verify_options(pin, pin ? 1 : 0, 0);
    maif_report *rep = NULL;
    assert_int_equal(maif_verify_file(path, opt, &rep), MAIF_OK);
    maif_options_free(opt);
    return rep;
}

static void test_generate_save_load(void **state)
{
    tu_fixture *f = *state;
    for (size_t a = 0; a < 3; a++) {
        maif_key *k = NULL;
        assert_int_equal(maif_key_generate_alg(&k, algs[a], 0), MAIF_OK);
        assert_int_equal(maif_key_alg(k), algs[a]);
        char *kp = tu_path(f->dir, maif_sig_alg_name(algs[a])), *pub = NULL;
        assert_int_equal(maif_key_save(k, kp), MAIF_OK);
        pub = malloc(strlen(kp) + 5);
        sprintf(pub, "%s.pub", kp);
        struct stat st;
        assert_int_equal(stat(kp, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
        maif_key *k2 = NULL;
        assert_int_equal(maif_key_load(&k2, kp), MAIF_OK);
        assert_int_equal(maif_key_alg(k2), algs[a]);
        uint8_t pk[32], pk2[32], pk3[32];
        maif_key_public(k, pk);
        maif_key_public(k2, pk2);
        assert_memory_equal(pk, pk2, 32);
        int alg = 0;
        assert_int_equal(maif_pubkey_load_alg(pub, pk3, &alg), MAIF_OK);
        assert_int_equal(alg, algs[a]);
        assert_memory_equal(pk, pk3, 32);
        assert_int_equal(maif_pubkey_load_alg(kp, pk3, &alg), MAIF_OK); /* a secret file's public half */
        assert_memory_equal(pk, pk3, 32);
        /* a PEM public key is not a secret key */
        if (algs[a] != MAIF_SIG_ED25519) {
            maif_key *bad = NULL;
            assert_int_equal(maif_key_load(&bad, pub), MAIF_EKEY);
            assert_null(bad);
        }
        maif_key_free(k);
        maif_key_free(k2);
        free(kp);
        free(pub);
    }
    assert_string_equal(maif_sig_alg_name(MAIF_SIG_RSA_PSS), "rsa-pss");
    assert_string_equal(maif_sig_alg_name(MAIF_SIG_P256), "p256");
    assert_string_equal(maif_sig_alg_name(MAIF_SIG_ED25519), "ed25519");
    assert_string_equal(maif_sig_alg_name(99), "unknown");
    maif_key *k = NULL;
    assert_int_equal(maif_key_generate_alg(&k, 42, 0), MAIF_EINVAL);
    assert_int_equal(maif_key_generate_alg(&k, MAIF_SIG_RSA_PSS, 1024), MAIF_EINVAL);
    assert_int_equal(maif_key_generate_alg(&k, MAIF_SIG_RSA_PSS, 9000), MAIF_EINVAL);
    assert_int_equal(maif_key_generate_alg(&k, MAIF_SIG_P256, 256), MAIF_EINVAL);
    assert_null(k);
    assert_int_equal(maif_key_generate_alg(&k, MAIF_SIG_RSA_PSS, 2048), MAIF_OK);
    maif_key_free(k);
}

/* Keys made by the openssl CLI load; unsupported types are refused. */
static void test_openssl_keys(void **state)
{
    tu_fixture *f = *state;
    if (system("command -v openssl >/dev/null 2>&1") != 0) skip();
    struct {
        const char *args;
        int want;
    } cases[] = {
        {"genpkey -algorithm ed25519", MAIF_SIG_ED25519},
        {"genpkey -algorithm rsa -pkeyopt rsa_keygen_bits:2048", MAIF_SIG_RSA_PSS},
        {"genpkey -algorithm ec -pkeyopt ec_paramgen_curve:P-256", MAIF_SIG_P256},
        {"genpkey -algorithm ec -pkeyopt ec_paramgen_curve:P-384", 0},
        {"genpkey -algorithm rsa -pkeyopt rsa_keygen_bits:1024", 0},
        {"genpkey -algorithm x25519", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *kp = tu_path(f->dir, "ossl.pem");
        char cmd[1024];
        snprintf(cmd, sizeof cmd, "openssl %s -out '%s' 2>/dev/null", cases[i].args, kp);
        assert_int_equal(system(cmd), 0);
        maif_key *k = NULL;
        int rc = maif_key_load(&k, kp);
        if (cases[i].want) {
            assert_int_equal(rc, MAIF_OK);
            assert_int_equal(maif_key_alg(k), cases[i].want);
            char *path = tu_path(f->dir, "o.maif");
            unlink(path);
            write_with(path, k, "made by openssl", 1);
            maif_report *rep = verify(path, NULL);
            assert_true(maif_report_ok(rep));
            maif_report_free(rep);
            free(path);
        } else {
            assert_int_equal(rc, MAIF_EKEY);
            assert_null(k);
        }
        maif_key_free(k);
        unlink(kp);
        free(kp);
    }
}

/* Offset of the signature area of the last commit, from the tail. */
static size_t sigarea_at(const uint8_t *img, size_t n, uint16_t *pk_len, uint16_t *sig_len)
{
    uint64_t off = rd64(img + n - 16);
    const uint8_t *pay = img + off + 112;
    assert_int_equal(img[off + 1], 2); /* record version 2 */
    size_t at = (size_t)(off + 112 + 96 + 24 * rd32(pay + 88) + 32 * rd32(pay + 92));
    *pk_len = (uint16_t)(img[at + 2] | img[at + 3] << 8);
    *sig_len = (uint16_t)(img[at + 4] | img[at + 5] << 8);
    return at;
}

static void test_commits_verify_and_tamper(void **state)
{
    tu_fixture *f = *state;
    for (size_t a = 1; a < 3; a++) {
        maif_key *k = NULL;
        assert_int_equal(maif_key_generate_alg(&k, algs[a], a == 1 ? 2048 : 0), MAIF_OK);
        unlink(f->path);
        write_with(f->path, k, "one", 1);
        write_with(f->path, k, "two", 0);
        uint8_t pk[32];
        maif_key_public(k, pk);
        maif_report *rep = verify(f->path, pk);
        if (!maif_report_ok(rep)) tu_dump_report(rep);
        assert_true(maif_report_ok(rep));
        assert_int_equal(maif_report_signer_count(rep), 1);
        assert_int_equal(maif_report_signer_alg(rep, 0), algs[a]);
        assert_int_equal(maif_report_signer_alg(rep, 1), 0);
        maif_report_free(rep);
        /* the reader sees the blocks and names the signer */
        maif_reader *r = NULL;
        assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
        maif_info in;
        assert_int_equal(maif_reader_info(r, &in), MAIF_OK);
        assert_memory_equal(in.signer, pk, 32);
        assert_int_equal(maif_reader_count(r), 2);
        maif_reader_close(r);

        size_t n;
        uint8_t *img = tu_read(f->path, &n);
        uint16_t pkl, sgl;
        size_t at = sigarea_at(img, n, &pkl, &sgl);
        assert_int_equal(img[at], algs[a]);
        assert_int_equal(sgl, a == 1 ? 256 : 64);
        /* every region of the area: alg, reserved, lengths, key, signature, pad */
        size_t probes[] = {at, at + 1, at + 2, at + 4, at + 6, at + 8 + pkl / 2, at + 8 + pkl + 1,
                           at + 8 + pkl + sgl - 1};
        char *bad = tu_path(f->dir, "bad.maif");
        for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
            img[probes[i]] ^= 0x01;
            assert_int_equal(tu_write(bad, img, n), 0);
            img[probes[i]] ^= 0x01;
            maif_report *br = NULL;
            maif_options *opt = tu_verify_options(pk, 1, 0);
            int rc = maif_verify_file(bad, opt, &br);
            maif_options_free(opt);
            assert_true(rc != MAIF_OK || !maif_report_ok(br));
            maif_report_free(br);
        }
        free(bad);
        free(img);
        maif_key_free(k);
    }
}

/* One file, three signers: each commit names its own algorithm. */
static void test_mixed_signers(void **state)
{
    tu_fixture *f = *state;
    maif_key *k[3];
    for (size_t a = 0; a < 3; a++) assert_int_equal(maif_key_generate_alg(&k[a], algs[a], a == 1 ? 2048 : 0), MAIF_OK);
    write_with(f->path, k[0], "ed", 1);
    write_with(f->path, k[1], "rsa", 0);
    write_with(f->path, k[2], "p256", 0);
    write_with(f->path, k[0], "ed again", 0);
    maif_report *rep = verify(f->path, NULL);
    assert_true(maif_report_ok(rep));
    assert_int_equal(maif_report_signer_count(rep), 3);
    for (size_t a = 0; a < 3; a++) assert_int_equal(maif_report_signer_alg(rep, a), algs[a]);
    maif_report_free(rep);
    /* an Ed25519-created file keeps read version 2; an RSA-created one says 3 */
    size_t n;
    uint8_t *img = tu_read(f->path, &n);
    assert_int_equal(img[10], 2);
    free(img);
    char *p2 = tu_path(f->dir, "rsa.maif");
    write_with(p2, k[1], "x", 1);
    img = tu_read(p2, &n);
    assert_int_equal(img[10], 3);
    free(img);
    free(p2);
    for (size_t a = 0; a < 3; a++) maif_key_free(k[a]);
}

/* Only Ed25519 keys have an X25519 form and a MAIF 2.1 signature. */
static void test_ed25519_only_places(void **state)
{
    tu_fixture *f = *state;
    maif_key *k = NULL;
    assert_int_equal(maif_key_generate_alg(&k, MAIF_SIG_P256, 0), MAIF_OK);
    maif_keyring *kr = NULL;
    assert_int_equal(maif_keyring_create(&kr), MAIF_OK);
    assert_int_equal(maif_keyring_add_identity(kr, k), MAIF_EKEY);
    assert_non_null(strstr(maif_last_errmsg(), "cannot decrypt"));
    maif_keyring_free(kr);
    write_with(f->path, f->key, "source", 1);
    char *out = tu_path(f->dir, "out.maif21");
    maif_report *rep = NULL;
    int rc = maif_convert(f->path, out, MAIF_FORMAT_V21, k, NULL, &rep);
    assert_int_equal(rc, MAIF_EUNSUPPORTED);
    maif_report_free(rep);
    free(out);
    maif_key_free(k);
}

/* PKCS#11 without a token: the errors (tests/cli/test_pkcs11.sh signs on
 * a SoftHSM token). */
static void test_pkcs11_errors(void **state)
{
    tu_fixture *f = *state;
    maif_key *k = NULL;
    assert_int_equal(maif_key_is_hardware(f->key), 0);
    assert_int_equal(maif_key_from_pkcs11(&k, "/nonexistent/module.so", "t", "l", "1234"), MAIF_ENOTFOUND);
    assert_null(k);
    assert_non_null(strstr(maif_last_errmsg(), "cannot load the PKCS#11 module"));
    assert_int_equal(maif_key_from_pkcs11(&k, "libc.so.6", "t", "l", "1234"), MAIF_EINVAL);
    assert_non_null(strstr(maif_last_errmsg(), "not a PKCS#11 module"));
    assert_int_equal(maif_key_from_pkcs11(&k, "", "t", "l", "1234"), MAIF_EINVAL);
    assert_int_equal(maif_key_from_pkcs11(&k, "m", "a-token-label-longer-than-32-bytes", "l", "1"), MAIF_EINVAL);
    assert_int_equal(maif_key_from_pkcs11(&k, "m", "t", "l", NULL), MAIF_EINVAL);
    assert_int_equal(maif_key_from_pkcs11(NULL, "m", "t", "l", "1"), MAIF_EINVAL);
    assert_null(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_generate_save_load, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_openssl_keys, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_commits_verify_and_tamper, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_mixed_signers, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_ed25519_only_places, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_pkcs11_errors, tu_setup, tu_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
