/*
 * test_sign.c — keys and signatures: key files (save, load, public halves,
 * malformed files), signer pinning in the verifier, and verification of the
 * same image from memory and from a file.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void test_keys(void **state)
{
    tu_fixture *f = *state;
    char *kp = tu_path(f->dir, "k.key"), *pub = tu_path(f->dir, "k.key.pub");
    assert_int_equal(maif_key_save(f->key, kp), MAIF_OK);
    struct stat st;
    assert_int_equal(stat(kp, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(stat(pub, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);

    uint8_t pk[32], pk2[32], pk3[32];
    maif_key_public(f->key, pk);
    maif_key *k = NULL;
    assert_int_equal(maif_key_load(&k, kp), MAIF_OK);
    maif_key_public(k, pk2);
    assert_memory_equal(pk, pk2, 32);
    assert_int_equal(maif_pubkey_load(pub, pk3), MAIF_OK);
    assert_memory_equal(pk, pk3, 32);
    memset(pk3, 0, 32);
    assert_int_equal(maif_pubkey_load(kp, pk3), MAIF_OK); /* the public half of a secret file */
    assert_memory_equal(pk, pk3, 32);

    /* the loaded key signs commits that verify against the saved public key */
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, k, NULL, NULL), MAIF_OK);
    tu_add_simple(w, MAIF_TYPE_TEXT, "signed", 6, NULL, NULL);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    maif_key_free(k);
    maif_options *opt = tu_verify_options((const uint8_t *)pk3, 1, 0);
    maif_report *rep = NULL;
    assert_int_equal(maif_verify_file(f->path, opt, &rep), MAIF_OK);
    maif_options_free(opt);
    assert_true(maif_report_ok(rep));
    maif_report_free(rep);

    /* malformed key files */
    size_t klen;
    uint8_t *text = tu_read(kp, &klen);
    assert_non_null(text);
    char *bad = tu_path(f->dir, "bad.key");
    struct {
        const char *what;
        char body[256];
    } cases[6];
    size_t nc = 0;
    snprintf(cases[nc].body, sizeof cases[nc].body, "%s", "garbage\n");
    cases[nc++].what = "garbage";
    snprintf(cases[nc].body, sizeof cases[nc].body, "%.*s\n", (int)(klen - 3), (const char *)text);
    cases[nc++].what = "short hex";
    snprintf(cases[nc].body, sizeof cases[nc].body, "%.*sZ\n", (int)(klen - 2), (const char *)text);
    cases[nc++].what = "non-hex digit";
    snprintf(cases[nc].body, sizeof cases[nc].body, "%.*s00\n", (int)(klen - 1), (const char *)text);
    cases[nc++].what = "long hex";
    snprintf(cases[nc].body, sizeof cases[nc].body, "%s", "");
    cases[nc++].what = "empty";
    snprintf(cases[nc].body, sizeof cases[nc].body, "%.*s x\n", (int)(klen - 1), (const char *)text);
    cases[nc++].what = "trailing junk";
    for (size_t i = 0; i < nc; i++) {
        assert_int_equal(tu_write(bad, cases[i].body, strlen(cases[i].body)), 0);
        k = NULL;
        int rc = maif_key_load(&k, bad);
        if (rc != MAIF_EKEY) fail_msg("key file (%s): got %d, want MAIF_EKEY", cases[i].what, rc);
        assert_null(k);
        assert_int_equal(maif_pubkey_load(bad, pk3), MAIF_EKEY);
    }
    /* a public key file is not a secret key */
    assert_int_equal(maif_key_load(&k, pub), MAIF_EKEY);
    assert_null(k);
    char *missing = tu_path(f->dir, "none.key");
    assert_int_equal(maif_key_load(&k, missing), MAIF_ENOTFOUND);
    assert_int_equal(maif_pubkey_load(missing, pk3), MAIF_ENOTFOUND);
    assert_int_equal(maif_key_load(NULL, kp), MAIF_EINVAL);
    free(missing);
    free(bad);
    free(text);
    free(kp);
    free(pub);
}

/* Unpinned, pinned to the right key, pinned to the wrong one. */
/* maif_key_from_seed: RFC 8032 §7.1 test 1 (seed -> public key), and a
 * key from a seed equals the key file holding that seed. */
static void test_key_from_seed(void **state)
{
    tu_fixture *f = *state;
    uint8_t seed[MAIF_SEED_BYTES], want[32], pk[32], pk2[32];
    assert_int_equal(maif_unhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60", seed, 32), 0);
    assert_int_equal(maif_unhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", want, 32), 0);
    maif_key *k = NULL, *k2 = NULL;
    assert_int_equal(maif_key_from_seed(&k, seed), MAIF_OK);
    maif_key_public(k, pk);
    assert_memory_equal(pk, want, 32);
    char *kp = tu_path(f->dir, "seed.key");
    assert_int_equal(maif_key_save(k, kp), MAIF_OK);
    assert_int_equal(maif_key_load(&k2, kp), MAIF_OK);
    maif_key_public(k2, pk2);
    assert_memory_equal(pk2, want, 32);
    maif_key_free(k);
    maif_key_free(k2);
    free(kp);
    k = (maif_key *)1;
    assert_int_equal(maif_key_from_seed(&k, NULL), MAIF_EINVAL);
    assert_null(k);
    assert_int_equal(maif_key_from_seed(NULL, seed), MAIF_EINVAL);
}

static void test_verify_pinning(void **state)
{
    tu_fixture *f = *state;
    tu_write_one(f->path, f->key, "pin", "{\"x\":1}");
    uint8_t keys[3][32];
    maif_key *other = NULL;
    assert_int_equal(maif_key_generate(&other), MAIF_OK);
    maif_key_public(other, keys[0]);
    maif_key_public(f->key, keys[1]);
    memset(keys[2], 0x5a, 32);
    maif_key_free(other);

    maif_report *rep = NULL;
    assert_int_equal(maif_verify_file(f->path, NULL, &rep), MAIF_OK);
    assert_true(maif_report_ok(rep));
    assert_int_equal(maif_report_format(rep), MAIF_FORMAT_NATIVE);
    assert_int_equal(maif_report_blocks(rep), 1);
    assert_true(tu_has_code(rep, "signer-not-pinned", MAIF_SEV_INFO));
    assert_int_equal(maif_report_signer_count(rep), 1);
    uint8_t pk[32];
    int pinned = -1;
    assert_int_equal(maif_report_signer(rep, 0, pk, &pinned), MAIF_OK);
    assert_memory_equal(pk, keys[1], 32);
    assert_int_equal(pinned, 0);
    assert_null(maif_report_finding(rep, maif_report_count(rep)));
    maif_report_free(rep);

    maif_options *right = tu_verify_options((const uint8_t *)keys[1], 1, 2);
    assert_int_equal(maif_verify_file(f->path, right, &rep), MAIF_OK);
    maif_options_free(right);
    assert_true(maif_report_ok(rep));
    assert_false(tu_has_code(rep, "signer-not-pinned", -1));
    assert_false(tu_has_code(rep, "untrusted-signer", -1));
    assert_int_equal(maif_report_signer(rep, 0, pk, &pinned), MAIF_OK);
    assert_int_equal(pinned, 1);
    maif_report_free(rep);

    maif_options *several = tu_verify_options((const uint8_t *)keys, 3, 0);
    assert_int_equal(maif_verify_file(f->path, several, &rep), MAIF_OK);
    maif_options_free(several);
    assert_true(maif_report_ok(rep));
    maif_report_free(rep);

    maif_options *wrong = tu_verify_options((const uint8_t *)keys[0], 1, 0);
    assert_int_equal(maif_verify_file(f->path, wrong, &rep), MAIF_OK);
    maif_options_free(wrong);
    assert_false(maif_report_ok(rep));
    assert_true(tu_has_code(rep, "untrusted-signer", MAIF_SEV_ERROR));
    assert_false(tu_has_code(rep, "signer-not-pinned", -1));
    maif_report_free(rep);
}

/* Verifies img[0, len) with a pool of threads (no pinned keys). */
static maif_report *verify_threads(const uint8_t *img, size_t len, unsigned threads)
{
    maif_options *opt = tu_verify_options(NULL, 0, threads);
    maif_report *rep = NULL;
    assert_int_equal(maif_verify_mem(img, len, opt, &rep), MAIF_OK);
    maif_options_free(opt);
    return rep;
}

/* The same image verifies identically from memory and from a file. */
static void test_verify_mem_matches_file(void **state)
{
    tu_fixture *f = *state;
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->key, NULL, NULL), MAIF_OK);
    uint8_t *big = malloc(5 << 20); /* over the threaded-hashing threshold */
    assert_non_null(big);
    tu_pattern(big, 5 << 20, 9);
    tu_add_simple(w, MAIF_TYPE_VIDEO, big, 5 << 20, NULL, NULL);
    tu_add_simple(w, MAIF_TYPE_TEXT, "t", 1, NULL, NULL);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    size_t len;
    uint8_t *img = tu_read(f->path, &len);
    assert_non_null(img);
    for (unsigned threads = 0; threads <= 4; threads++) {
        maif_report *rep = verify_threads(img, len, threads);
        assert_true(maif_report_ok(rep));
        assert_int_equal(maif_report_blocks(rep), 2);
        maif_report_free(rep);
    }
    /* a damaged payload byte deep inside the big block, found by every pool size */
    img[len / 2] ^= 0x10;
    for (unsigned threads = 1; threads <= 4; threads++) {
        maif_report *rep = verify_threads(img, len, threads);
        assert_false(maif_report_ok(rep));
        assert_true(tu_has_code(rep, "content-hash", MAIF_SEV_ERROR));
        const maif_finding *fd = NULL;
        for (size_t i = 0; i < maif_report_count(rep); i++)
            if (strcmp(maif_report_finding(rep, i)->code, "content-hash") == 0) fd = maif_report_finding(rep, i);
        assert_int_equal(fd->block, 0);
        maif_report_free(rep);
    }
    free(img);
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_keys, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_key_from_seed, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_verify_pinning, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_verify_mem_matches_file, tu_setup, tu_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
