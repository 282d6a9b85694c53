/*
 * test_crypto.c — Ed25519 verification: the libsodium and OpenSSL engines
 * behind maif_ed25519_verify must give the same verdict on every input.
 *
 * Known answers are RFC 8032 section 7.1 TEST 1, 2 and 3 (typed from the
 * RFC and checked on the build machine against both `openssl pkeyutl` and
 * libsodium before they went in; TEST 1024 is left out because its
 * 1023-byte message could not be reproduced byte for byte). Random
 * messages at sizes around the engine crossover check acceptance and
 * single-bit flips. Hand-made signatures cover the edge cases where the
 * engines differ by themselves (S >= L, small-order R and A, non-canonical
 * A) and one where both must accept (a public key with a torsion part).
 */
#include "testutil.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"

/* The two engines (src/crypto/key.c exposes them for this test). */
int maif_ed25519_verify_sodium(const uint8_t pk[MAIF_PUBKEY_BYTES], const void *msg, size_t n,
                               const uint8_t sig[MAIF_SIGNATURE_BYTES]);
int maif_ed25519_verify_openssl(const uint8_t pk[MAIF_PUBKEY_BYTES], const void *msg, size_t n,
                                const uint8_t sig[MAIF_SIGNATURE_BYTES]);
size_t maif_ed25519_openssl_min(void);

/* Verdict of both engines and of the dispatcher; fails the test if they differ. */
static int verdict(const uint8_t pk[32], const void *msg, size_t n, const uint8_t sig[64])
{
    int s = maif_ed25519_verify_sodium(pk, msg, n, sig);
    int o = maif_ed25519_verify_openssl(pk, msg, n, sig);
    int d = maif_ed25519_verify(pk, msg, n, sig);
    if (s != o || s != d) fail_msg("engines disagree on %zu-byte message: sodium %d, openssl %d, dispatch %d", n, s, o, d);
    return s;
}

static void unhex(const char *hex, uint8_t *out, size_t n)
{
    assert_int_equal(strlen(hex), 2 * n);
    assert_int_equal(sodium_hex2bin(out, n, hex, 2 * n, NULL, NULL, NULL), 0);
}

/* ---------------------------------------------------------------- RFC 8032 */

static const struct {
    const char *seed, *pk, *msg, *sig;
} rfc8032[] = {
    {/* TEST 1 */
     "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
     "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"},
    {/* TEST 2 */
     "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
     "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
    {/* TEST 3 */
     "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
     "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac"
     "18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"},
};

static void test_rfc8032_vectors(void **state)
{
    (void)state;
    assert_int_equal(maif_crypto_init(), MAIF_OK);
    for (size_t t = 0; t < sizeof rfc8032 / sizeof rfc8032[0]; t++) {
        uint8_t seed[32], pk[32], sig[64], msg[2], dpk[32], dsk[64], dsig[64];
        size_t n = strlen(rfc8032[t].msg) / 2;
        unhex(rfc8032[t].seed, seed, 32);
        unhex(rfc8032[t].pk, pk, 32);
        unhex(rfc8032[t].sig, sig, 64);
        if (n) unhex(rfc8032[t].msg, msg, n);

        /* The key and signature follow from the seed (Ed25519 signing is deterministic). */
        crypto_sign_seed_keypair(dpk, dsk, seed);
        assert_memory_equal(dpk, pk, 32);
        crypto_sign_detached(dsig, NULL, msg, n, dsk);
        assert_memory_equal(dsig, sig, 64);

        assert_true(verdict(pk, msg, n, sig));
        for (size_t b = 0; b < 64 * 8; b++) { /* every signature bit */
            sig[b / 8] ^= (uint8_t)(1u << (b % 8));
            assert_false(verdict(pk, msg, n, sig));
            sig[b / 8] ^= (uint8_t)(1u << (b % 8));
        }
        for (size_t b = 0; b < n * 8; b++) { /* every message bit */
            msg[b / 8] ^= (uint8_t)(1u << (b % 8));
            assert_false(verdict(pk, msg, n, sig));
            msg[b / 8] ^= (uint8_t)(1u << (b % 8));
        }
        for (size_t b = 0; b < 32 * 8; b++) { /* every public key bit */
            pk[b / 8] ^= (uint8_t)(1u << (b % 8));
            assert_false(verdict(pk, msg, n, sig));
            pk[b / 8] ^= (uint8_t)(1u << (b % 8));
        }
    }
}

/* ------------------------------------------------- random, around the crossover */

static uint64_t rng_state = 0x9e3779b97f4a7c15u;
static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void test_random_sizes(void **state)
{
    (void)state;
    assert_int_equal(maif_crypto_init(), MAIF_OK);
    const size_t x = maif_ed25519_openssl_min();
    const size_t sizes[] = {0, 1, 64, 200, 4096, x / 2, x - 1, x, x + 1, 2 * x, (size_t)1 << 20};
    uint8_t seed[32], pk[32], sk[64], sig[64];
    for (size_t i = 0; i < 32; i++) seed[i] = (uint8_t)rng();
    crypto_sign_seed_keypair(pk, sk, seed);
    uint8_t *msg = malloc(((size_t)1 << 20) + 1);
    assert_non_null(msg);
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        size_t n = sizes[k];
        for (size_t i = 0; i < n; i++) msg[i] = (uint8_t)rng();
        crypto_sign_detached(sig, NULL, msg, n, sk);
        assert_true(verdict(pk, msg, n, sig));
        if (n) {
            size_t where[] = {0, n / 2, n - 1, (size_t)(rng() % n)};
            for (size_t w = 0; w < 4; w++) {
                uint8_t bit = (uint8_t)(1u << (rng() % 8));
                msg[where[w]] ^= bit;
                assert_false(verdict(pk, msg, n, sig));
                msg[where[w]] ^= bit;
            }
            assert_false(verdict(pk, msg, n - 1, sig)); /* one byte short */
        }
        for (size_t w = 0; w < 8; w++) { /* random bits of R and S */
            size_t b = (size_t)(rng() % 512);
            sig[b / 8] ^= (uint8_t)(1u << (b % 8));
            assert_false(verdict(pk, msg, n, sig));
            sig[b / 8] ^= (uint8_t)(1u << (b % 8));
        }
        uint8_t other[32];
        memcpy(other, pk, 32);
        other[5] ^= 0x10;
        assert_false(verdict(other, msg, n, sig));
        assert_true(verdict(pk, msg, n, sig));
    }
    free(msg);
}

/* ------------------------------------------------------------ edge cases */

/* L, little-endian. */
static const uint8_t group_order[32] = {0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7,
                                        0xa2, 0xde, 0xf9, 0xde, 0x14, 0,    0,    0,    0,    0,    0,
                                        0,    0,    0,    0,    0,    0,    0,    0,    0,    0x10};

/* a + b over 32 little-endian bytes (no overflow in the uses below). */
static void add32(uint8_t out[32], const uint8_t a[32], const uint8_t b[32])
{
    unsigned c = 0;
    for (int i = 0; i < 32; i++) {
        c += (unsigned)a[i] + b[i];
        out[i] = (uint8_t)c;
        c >>= 8;
    }
}

/* h = SHA-512(R || A || M) mod L, as the verifier computes it. */
static void challenge(uint8_t h[32], const uint8_t r[32], const uint8_t a[32], const uint8_t *m, size_t n)
{
    crypto_hash_sha512_state st;
    uint8_t d[64];
    crypto_hash_sha512_init(&st);
    crypto_hash_sha512_update(&st, r, 32);
    crypto_hash_sha512_update(&st, a, 32);
    crypto_hash_sha512_update(&st, m, n);
    crypto_hash_sha512_final(&st, d);
    crypto_core_ed25519_scalar_reduce(h, d);
}

static void test_noncanonical_s(void **state)
{
    (void)state;
    assert_int_equal(maif_crypto_init(), MAIF_OK);
    uint8_t pk[32], sk[64], sig[64], bad[64];
    crypto_sign_keypair(pk, sk);
    size_t sizes[] = {100, maif_ed25519_openssl_min()};
    uint8_t *msg = calloc(1, sizes[1]);
    assert_non_null(msg);
    for (size_t k = 0; k < 2; k++) {
        crypto_sign_detached(sig, NULL, msg, sizes[k], sk);
        assert_true(verdict(pk, msg, sizes[k], sig));
        memcpy(bad, sig, 32);
        add32(bad + 32, sig + 32, group_order); /* S + L: same value mod L */
        assert_false(verdict(pk, msg, sizes[k], bad));
    }
    free(msg);
}

static void test_small_order(void **state)
{
    (void)state;
    assert_int_equal(maif_crypto_init(), MAIF_OK);
    const uint8_t p_minus_1[32] = {0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                   0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                   0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f};
    uint8_t identity[32] = {1}, sig[64] = {0};
    uint8_t msg[16] = "small order";
    size_t big = maif_ed25519_openssl_min() + 7;
    uint8_t *bmsg = calloc(1, big);
    assert_non_null(bmsg);

    /* A = R = identity, S = 0: [0]B - [h]O = O = R for every message; a
     * cofactorless check alone accepts it. */
    memcpy(sig, identity, 32);
    assert_false(verdict(identity, msg, sizeof msg, sig));
    assert_false(verdict(identity, bmsg, big, sig));
    /* The same point with the sign bit set, and as p + 1 (non-canonical). */
    uint8_t alt[32];
    memcpy(alt, identity, 32);
    alt[31] |= 0x80;
    assert_false(verdict(alt, msg, sizeof msg, sig));
    memcpy(alt, p_minus_1, 32);
    alt[0] = 0xee;
    assert_false(verdict(alt, msg, sizeof msg, sig));

    /* A of order 2, (0, -1): -[h]A is the identity when h is even. */
    for (int tries = 0, found = 0; tries < 64 && !found; tries++) {
        uint8_t h[32];
        msg[15] = (uint8_t)tries;
        challenge(h, identity, p_minus_1, msg, sizeof msg);
        if (h[0] & 1) continue;
        found = 1;
        assert_false(verdict(p_minus_1, msg, sizeof msg, sig));
    }

    /* Honest key, R = identity, S = h a: [S]B - [h]A = O = R. */
    uint8_t pk[32], sk[64], a64[64] = {0}, a[32], h[32];
    crypto_sign_keypair(pk, sk);
    assert_int_equal(crypto_sign_ed25519_sk_to_curve25519(a64, sk), 0); /* the clamped secret scalar */
    crypto_core_ed25519_scalar_reduce(a, a64);
    challenge(h, identity, pk, msg, sizeof msg);
    memcpy(sig, identity, 32);
    crypto_core_ed25519_scalar_mul(sig + 32, h, a);
    assert_false(verdict(pk, msg, sizeof msg, sig));
    challenge(h, identity, pk, bmsg, big);
    crypto_core_ed25519_scalar_mul(sig + 32, h, a);
    assert_false(verdict(pk, bmsg, big, sig));

    /* Non-canonical public key: y + p for a small y that is on the curve
     * (y = 3). No signature can be made for it; both must refuse. */
    uint8_t nc[32];
    memcpy(nc, p_minus_1, 32);
    nc[0] = 0xed + 3; /* p + 3 */
    uint8_t rs[64];
    for (int i = 0; i < 64; i++) rs[i] = (uint8_t)(i * 7 + 1);
    rs[63] &= 0x0f;
    assert_false(verdict(nc, msg, sizeof msg, rs));
    free(bmsg);
}

/* A' = A + T with T = (0, -1) of order 2: (x, y) + (0, -1) = (-x, -y). A
 * signature made with a's scalar verifies cofactorless under A' exactly
 * when h is even; both engines must agree either way, and accept when even
 * (libsodium 1.0.18 does not require keys in the prime-order subgroup). */
static void test_torsion_key(void **state)
{
    (void)state;
    assert_int_equal(maif_crypto_init(), MAIF_OK);
    const uint8_t p[32] = {0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                           0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                           0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f};
    uint8_t pk[32], sk[64], a64[64] = {0}, a[32];
    crypto_sign_keypair(pk, sk);
    assert_int_equal(crypto_sign_ed25519_sk_to_curve25519(a64, sk), 0);
    crypto_core_ed25519_scalar_reduce(a, a64);

    /* A' = (-x, p - y): subtract y from p, flip the sign bit. */
    uint8_t ap[32], y[32];
    memcpy(y, pk, 32);
    y[31] &= 0x7f;
    int borrow = 0;
    for (int i = 0; i < 32; i++) {
        int d = p[i] - y[i] - borrow;
        borrow = d < 0;
        ap[i] = (uint8_t)(d + (borrow ? 256 : 0));
    }
    ap[31] |= (uint8_t)((pk[31] & 0x80) ^ 0x80);

    size_t big = maif_ed25519_openssl_min();
    uint8_t *msg = calloc(1, big);
    assert_non_null(msg);
    int accepted = 0, refused = 0;
    for (int t = 0; t < 24; t++) {
        size_t n = t % 2 ? big : 32;
        msg[0] = (uint8_t)t;
        uint8_t r[32], sig[64], h[32], ha[32];
        crypto_core_ed25519_scalar_random(r);
        assert_int_equal(crypto_scalarmult_ed25519_base_noclamp(sig, r), 0);
        challenge(h, sig, ap, msg, n);
        crypto_core_ed25519_scalar_mul(ha, h, a);
        crypto_core_ed25519_scalar_add(sig + 32, r, ha);
        int v = verdict(ap, msg, n, sig);
        assert_int_equal(v, !(h[0] & 1));
        if (v) accepted++;
        else refused++;
    }
    assert_true(accepted > 0 && refused > 0);
    free(msg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc8032_vectors), cmocka_unit_test(test_random_sizes),
        cmocka_unit_test(test_noncanonical_s),  cmocka_unit_test(test_small_order),
        cmocka_unit_test(test_torsion_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
