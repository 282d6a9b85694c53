/*
 * test_proof.c — inclusion and consistency proofs: the Certificate
 * Transparency / RFC 6962 test tree (roots and paths, which an independent
 * Python implementation of RFC 6962 reproduced while this test was written),
 * every tree size 1..64 and every leaf and every pair of sizes against a
 * naive recursive tree, proofs gathered from a real artifact committed after
 * each block and checked through JSON without it, and tampered proofs, each
 * refused with its own message.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "crypto/crypto.h"
#include "format/native/native_proof.h"
#include "util/common.h"

/* ------------------------------------------------------------ helpers */

static void unhex(const char *h, uint8_t out[32]) { assert_int_equal(maif_unhex(h, out, 32), MAIF_OK); }

typedef struct leaves {
    uint8_t (*h)[32];
    uint64_t n;
    uint64_t reads; /* leaf function calls */
} leaves;

static int array_leaf(void *ctx, uint64_t i, uint8_t out[32])
{
    leaves *l = ctx;
    if (i >= l->n) return MAIF_EINVAL;
    l->reads++;
    memcpy(out, l->h[i], 32);
    return MAIF_OK;
}

static void node(const uint8_t *l, const uint8_t *r, uint8_t out[32])
{
    static const uint8_t one = 1;
    maif_sha256_parts(out, &one, 1, l, 32, r, 32, NULL, 0);
}

static uint64_t naive_split(uint64_t n)
{
    uint64_t k = 1;
    while (k * 2 < n) k *= 2;
    return k;
}

/* MTH(D[a:b]) by the RFC's recursion. */
static void naive_root(uint8_t (*h)[32], uint64_t a, uint64_t b, uint8_t out[32])
{
    if (b == a) {
        maif_sha256("", 0, out);
        return;
    }
    if (b - a == 1) {
        memcpy(out, h[a], 32);
        return;
    }
    uint64_t k = naive_split(b - a);
    uint8_t l[32], r[32];
    naive_root(h, a, a + k, l);
    naive_root(h, a + k, b, r);
    node(l, r, out);
}

/* PATH(m, D[a:b]) appended to path. */
static void naive_path(uint8_t (*h)[32], uint64_t m, uint64_t a, uint64_t b, uint8_t (*path)[32], uint32_t *len)
{
    if (b - a <= 1) return;
    uint64_t k = naive_split(b - a);
    if (m < k) {
        naive_path(h, m, a, a + k, path, len);
        naive_root(h, a + k, b, path[(*len)++]);
    } else {
        naive_path(h, m - k, a + k, b, path, len);
        naive_root(h, a, a + k, path[(*len)++]);
    }
}

/* SUBPROOF(m, D[a:b], whole) appended to path. */
static void naive_sub(uint8_t (*h)[32], uint64_t m, uint64_t a, uint64_t b, int whole, uint8_t (*path)[32],
                      uint32_t *len)
{
    if (m == b - a) {
        if (!whole) naive_root(h, a, b, path[(*len)++]);
        return;
    }
    uint64_t k = naive_split(b - a);
    if (m <= k) {
        naive_sub(h, m, a, a + k, whole, path, len);
        naive_root(h, a + k, b, path[(*len)++]);
    } else {
        naive_sub(h, m - k, a + k, b, 0, path, len);
        naive_root(h, a, a + k, path[(*len)++]);
    }
}

/* ----------------------------------------------------- CT test vectors */

/* The eight leaves of the Certificate Transparency test tree (RFC 6962's
 * reference implementation's merkle tree tests). */
static const struct {
    const char *data;
    size_t n;
} ct_leaves[8] = {
    {"", 0},
    {"\x00", 1},
    {"\x10", 1},
    {"\x20\x21", 2},
    {"\x30\x31", 2},
    {"\x40\x41\x42\x43", 4},
    {"\x50\x51\x52\x53\x54\x55\x56\x57", 8},
    {"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f", 16},
};
static const char *ct_roots[8] = {
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};
#define H_96A2 "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"
#define H_5F08 "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"
#define H_6B47 "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"
#define H_BC1A "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"
#define H_CA85 "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"
#define H_D37E "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"
#define H_0EBC "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"

static const struct {
    int consistency;    /* 0: inclusion of leaf a in tree b; 1: consistency of sizes a and b */
    uint64_t a, b;
    const char *path[3];
    uint32_t len;
} ct_proofs[] = {
    {0, 0, 8, {H_96A2, H_5F08, H_6B47}, 3},
    {0, 5, 8, {H_BC1A, H_CA85, H_D37E}, 3},
    {1, 1, 8, {H_96A2, H_5F08, H_6B47}, 3},
    {1, 6, 8, {H_0EBC, H_CA85, H_D37E}, 3},
    {1, 2, 5, {H_5F08, H_BC1A}, 2},
};

static void test_ct_vectors(void **state)
{
    (void)state;
    uint8_t h[8][32];
    static const uint8_t zero = 0;
    for (int i = 0; i < 8; i++) maif_sha256_parts(h[i], &zero, 1, ct_leaves[i].data, ct_leaves[i].n, NULL, 0, NULL, 0);
    leaves l = {h, 8, 0};
    uint8_t roots[9][32], want[32];
    for (int n = 1; n <= 8; n++) {
        naive_root(h, 0, (uint64_t)n, roots[n]);
        unhex(ct_roots[n - 1], want);
        assert_memory_equal(roots[n], want, 32);
        uint8_t r2[32];
        assert_int_equal(nat_proof_subtree_root(array_leaf, &l, 0, (uint64_t)n, r2), MAIF_OK);
        assert_memory_equal(r2, want, 32);
    }
    for (size_t t = 0; t < sizeof ct_proofs / sizeof ct_proofs[0]; t++) {
        uint8_t path[NAT_PROOF_MAX_CONSISTENCY][32], expect[3][32];
        uint32_t len = 0;
        for (uint32_t i = 0; i < ct_proofs[t].len; i++) unhex(ct_proofs[t].path[i], expect[i]);
        uint64_t a = ct_proofs[t].a, b = ct_proofs[t].b;
        if (ct_proofs[t].consistency) {
            assert_int_equal(nat_proof_consistency_path(array_leaf, &l, NULL, a, b, path, &len), MAIF_OK);
            assert_int_equal(len, ct_proofs[t].len);
            assert_memory_equal(path, expect, 32 * len);
            assert_int_equal(maif_merkle_check_consistency(a, b, roots[a], roots[b], &path[0][0], len), MAIF_OK);
            path[len - 1][0] ^= 1;
            assert_int_equal(maif_merkle_check_consistency(a, b, roots[a], roots[b], &path[0][0], len),
                             MAIF_EVERIFY);
        } else {
            assert_int_equal(nat_proof_inclusion_path(array_leaf, &l, NULL, a, b, path, &len), MAIF_OK);
            assert_int_equal(len, ct_proofs[t].len);
            assert_memory_equal(path, expect, 32 * len);
            assert_int_equal(maif_merkle_check_inclusion(h[a], a, b, &path[0][0], len, roots[b]), MAIF_OK);
            assert_int_equal(maif_merkle_check_inclusion(h[a], a + 1, b, &path[0][0], len, roots[b]), MAIF_EVERIFY);
            assert_non_null(strstr(maif_last_errmsg(), "does not check"));
        }
    }
    /* bad arguments */
    assert_int_equal(maif_merkle_check_inclusion(NULL, 0, 1, NULL, 0, roots[1]), MAIF_EINVAL);
    assert_int_equal(maif_merkle_check_inclusion(h[0], 0, 1, NULL, 129, roots[1]), MAIF_EINVAL);
    assert_int_equal(maif_merkle_check_consistency(1, 2, NULL, roots[2], NULL, 0), MAIF_EINVAL);
    /* a one-leaf tree: the leaf is the root, the path is empty */
    assert_int_equal(maif_merkle_check_inclusion(h[0], 0, 1, NULL, 0, roots[1]), MAIF_OK);
    assert_int_equal(maif_merkle_check_inclusion(h[0], 0, 0, NULL, 0, roots[1]), MAIF_EVERIFY);
    /* equal sizes need equal roots; the empty tree is a prefix of any */
    assert_int_equal(maif_merkle_check_consistency(5, 5, roots[5], roots[5], NULL, 0), MAIF_OK);
    assert_int_equal(maif_merkle_check_consistency(5, 5, roots[5], roots[6], NULL, 0), MAIF_EVERIFY);
    uint8_t empty[32];
    maif_sha256("", 0, empty);
    assert_int_equal(maif_merkle_check_consistency(0, 8, empty, roots[8], NULL, 0), MAIF_OK);
    assert_int_equal(maif_merkle_check_consistency(0, 8, roots[1], roots[8], NULL, 0), MAIF_EVERIFY);
    assert_int_equal(maif_merkle_check_consistency(6, 5, roots[6], roots[5], NULL, 0), MAIF_EVERIFY);
}

/* ----------------------------------------------------- brute force 1..64 */

#define BRUTE_N 64

static void test_brute_force(void **state)
{
    (void)state;
    uint8_t h[BRUTE_N][32];
    tu_pattern(&h[0][0], sizeof h, 6962);
    leaves l = {h, BRUTE_N, 0};
    uint8_t roots[BRUTE_N + 1][32];
    for (uint64_t n = 0; n <= BRUTE_N; n++) naive_root(h, 0, n, roots[n]);
    uint8_t path[NAT_PROOF_MAX_CONSISTENCY + 1][32], want[NAT_PROOF_MAX_CONSISTENCY][32];
    /* every size twice: siblings from leaves only, then with the frontier */
    for (uint64_t n = 1, with_fr = 0; n <= BRUTE_N; n += with_fr, with_fr ^= 1) {
        nat_merkle front;
        memset(&front, 0, sizeof front);
        for (uint64_t i = 0; i < n; i++) nat_merkle_push(&front, h[i]);
        const nat_merkle *fr = with_fr ? &front : NULL;
        for (uint64_t m = 0; m < n; m++) {
            uint32_t len = 0, wl = 0;
            l.reads = 0;
            assert_int_equal(nat_proof_inclusion_path(array_leaf, &l, fr, m, n, path, &len), MAIF_OK);
            /* with the frontier, only the perfect subtree holding m is read */
            uint64_t start = 0, size = 0;
            for (int bit = 63; bit >= 0; bit--) {
                if (!(n >> bit & 1)) continue;
                size = (uint64_t)1 << bit;
                if (m < start + size) break;
                start += size;
            }
            assert_true(l.reads == (with_fr ? size - 1 : n - 1));
            naive_path(h, m, 0, n, want, &wl);
            assert_int_equal(len, wl);
            assert_memory_equal(path, want, 32 * (size_t)len);
            const uint8_t *pp = &path[0][0];
            assert_int_equal(maif_merkle_check_inclusion(h[m], m, n, pp, len, roots[n]), MAIF_OK);
            /* wrong index, wrong size, wrong leaf, flipped hash, wrong length */
            uint64_t m2 = (m + 1) % n;
            if (m2 != m) assert_int_equal(maif_merkle_check_inclusion(h[m], m2, n, pp, len, roots[n]), MAIF_EVERIFY);
            /* (the bare check binds the size only through the root: a wrong
             * size is caught against that size's root) */
            if (n < BRUTE_N)
                assert_int_equal(maif_merkle_check_inclusion(h[m], m, n + 1, pp, len, roots[n + 1]), MAIF_EVERIFY);
            assert_int_equal(maif_merkle_check_inclusion(h[m], m, n - 1, pp, len, roots[n - 1]), MAIF_EVERIFY);
            assert_int_equal(maif_merkle_check_inclusion(h[(m + 1) % BRUTE_N], m, n, pp, len, roots[n]),
                             MAIF_EVERIFY);
            if (len) {
                assert_int_equal(maif_merkle_check_inclusion(h[m], m, n, pp, len - 1, roots[n]), MAIF_EVERIFY);
                path[len / 2][31] ^= 0x80;
                assert_int_equal(maif_merkle_check_inclusion(h[m], m, n, pp, len, roots[n]), MAIF_EVERIFY);
                path[len / 2][31] ^= 0x80;
            }
            memcpy(path[len], h[0], 32);
            assert_int_equal(maif_merkle_check_inclusion(h[m], m, n, pp, len + 1, roots[n]), MAIF_EVERIFY);
        }
        for (uint64_t m = 1; m <= n; m++) {
            uint32_t len = 0, wl = 0;
            assert_int_equal(nat_proof_consistency_path(array_leaf, &l, fr, m, n, path, &len), MAIF_OK);
            naive_sub(h, m, 0, n, 1, want, &wl);
            assert_int_equal(len, wl);
            assert_memory_equal(path, want, 32 * (size_t)len);
            const uint8_t *pp = &path[0][0];
            assert_int_equal(maif_merkle_check_consistency(m, n, roots[m], roots[n], pp, len), MAIF_OK);
            if (m == n) continue;
            assert_int_equal(maif_merkle_check_consistency(m, n, roots[m], roots[n], pp, len - 1), MAIF_EVERIFY);
            assert_int_equal(maif_merkle_check_consistency(m, n, roots[m], roots[n - 1], pp, len), MAIF_EVERIFY);
            if (n < BRUTE_N)
                assert_int_equal(maif_merkle_check_consistency(m, n + 1, roots[m], roots[n + 1], pp, len),
                                 MAIF_EVERIFY);
            if (m > 1)
                assert_int_equal(maif_merkle_check_consistency(m - 1, n, roots[m - 1], roots[n], pp, len),
                                 MAIF_EVERIFY);
            path[0][0] ^= 1;
            assert_int_equal(maif_merkle_check_consistency(m, n, roots[m], roots[n], pp, len), MAIF_EVERIFY);
            path[0][0] ^= 1;
            memcpy(path[len], h[0], 32);
            assert_int_equal(maif_merkle_check_consistency(m, n, roots[m], roots[n], pp, len + 1), MAIF_EVERIFY);
        }
    }
    uint32_t len;
    assert_int_equal(nat_proof_inclusion_path(array_leaf, &l, NULL, 5, 5, path, &len), MAIF_EINVAL);
    assert_int_equal(nat_proof_consistency_path(array_leaf, &l, NULL, 0, 5, path, &len), MAIF_EINVAL);
}

/* ------------------------------------------------------- real artifacts */

#define ART_N 40

/* An artifact committed after every block: commit k holds k blocks. Fills
 * rh with the blocks' record hashes, read from the image. */
static void build(tu_fixture *f, uint8_t rh[ART_N][32])
{
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->key, NULL, NULL), MAIF_OK);
    for (int i = 0; i < ART_N; i++) {
        char text[32];
        int n = snprintf(text, sizeof text, "block %d", i);
        tu_add_simple(w, MAIF_TYPE_TEXT, text, (size_t)n, NULL, NULL);
        assert_int_equal(maif_writer_commit(w), MAIF_OK);
    }
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    size_t size;
    uint8_t *img = tu_read(f->path, &size);
    assert_non_null(img);
    nat_view v;
    char err[200];
    assert_int_equal(nat_view_open(&v, img, size, err, sizeof err), MAIF_OK);
    for (uint64_t i = 0; i < ART_N; i++) {
        uint64_t off;
        assert_int_equal(nat_view_block_offset(&v, img, i, &off), MAIF_OK);
        memcpy(rh[i], img + off + NR_RECORD_HASH, 32);
    }
    nat_view_free(&v);
    free(img);
}

static maif_proof *roundtrip(const maif_proof *p)
{
    size_t len = 0;
    assert_int_equal(maif_proof_json(p, NULL, 0, &len), MAIF_ELIMIT);
    char *s = malloc(len + 1);
    assert_non_null(s);
    size_t len2 = 0;
    assert_int_equal(maif_proof_json(p, s, len + 1, &len2), MAIF_OK);
    assert_int_equal(len, len2);
    assert_int_equal(strlen(s), len);
    maif_proof *q = NULL;
    assert_int_equal(maif_proof_parse(&q, s, len), MAIF_OK);
    free(s);
    return q;
}

static void test_artifact(void **state)
{
    tu_fixture *f = *state;
    uint8_t rh[ART_N][32], lh[ART_N][32], roots[ART_N + 1][32];
    build(f, rh);
    for (int i = 0; i < ART_N; i++) nat_merkle_leaf(rh[i], lh[i]);
    for (uint64_t n = 0; n <= ART_N; n++) naive_root(lh, 0, n, roots[n]);
    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    uint8_t pk[MAIF_PUBKEY_BYTES];
    maif_key_public(f->key, pk);
    maif_options *pin = tu_verify_options(pk, 1, 0);
    uint8_t other[MAIF_PUBKEY_BYTES];
    memset(other, 7, sizeof other);
    maif_options *wrong = tu_verify_options(other, 1, 0);

    for (uint64_t k = 1; k <= ART_N; k++) {
        for (uint64_t b = 0; b < k; b++) {
            maif_proof *p = NULL;
            assert_int_equal(maif_reader_prove_inclusion(r, b, k == ART_N && b % 2 ? MAIF_COMMIT_LAST : k, &p),
                             MAIF_OK);
            assert_int_equal(maif_proof_kind(p), MAIF_PROOF_INCLUSION);
            maif_proof *q = roundtrip(p);
            assert_int_equal(maif_proof_check(q, pin), MAIF_OK);
            maif_proof_free(p);
            maif_proof_free(q);
        }
    }
    /* the JSON states the naive root, the block's record hash and the path */
    maif_proof *p = NULL;
    assert_int_equal(maif_reader_prove_inclusion(r, 13, 29, &p), MAIF_OK);
    char buf[MAIF_PROOF_JSON_MAX];
    size_t len;
    assert_int_equal(maif_proof_json(p, buf, sizeof buf, &len), MAIF_OK);
    json_t *o = json_loads(buf, 0, NULL);
    assert_non_null(o);
    char hex[65];
    assert_string_equal(json_string_value(json_object_get(o, "root")), maif_hex(roots[29], 32, hex));
    assert_string_equal(json_string_value(json_object_get(o, "leaf_record_hash")), maif_hex(rh[13], 32, hex));
    assert_int_equal(json_integer_value(json_object_get(o, "tree_size")), 29);
    uint8_t want[NAT_PROOF_MAX_INCLUSION][32];
    uint32_t wl = 0;
    naive_path(lh, 13, 0, 29, want, &wl);
    assert_int_equal(json_array_size(json_object_get(o, "path")), wl);
    for (uint32_t i = 0; i < wl; i++)
        assert_string_equal(json_string_value(json_array_get(json_object_get(o, "path"), i)),
                            maif_hex(want[i], 32, hex));
    json_decref(o);
    assert_int_equal(maif_proof_check(p, wrong), MAIF_EVERIFY);
    assert_non_null(strstr(maif_last_errmsg(), "is not pinned"));
    maif_proof_free(p);

    for (uint64_t a = 0; a <= ART_N; a++) {
        for (uint64_t b = a; b <= ART_N; b++) {
            assert_int_equal(maif_reader_prove_consistency(r, a, b == ART_N ? MAIF_COMMIT_LAST : b, &p), MAIF_OK);
            assert_int_equal(maif_proof_kind(p), MAIF_PROOF_CONSISTENCY);
            maif_proof *q = roundtrip(p);
            assert_int_equal(maif_proof_check(q, pin), MAIF_OK);
            maif_proof_free(p);
            maif_proof_free(q);
        }
    }
    /* errors: no such block, commit; reversed commits; NULLs */
    assert_int_equal(maif_reader_prove_inclusion(r, 5, 5, &p), MAIF_ENOTFOUND);
    assert_null(p);
    assert_non_null(strstr(maif_reader_errmsg(r), "is not in the tree of commit 5"));
    assert_int_equal(maif_reader_prove_inclusion(r, 0, ART_N + 1, &p), MAIF_ENOTFOUND);
    assert_non_null(strstr(maif_last_errmsg(), "no commit"));
    assert_int_equal(maif_reader_prove_consistency(r, 7, 3, &p), MAIF_EINVAL);
    assert_int_equal(maif_reader_prove_inclusion(NULL, 0, 1, &p), MAIF_EINVAL);
    assert_int_equal(maif_reader_prove_consistency(r, 0, 1, NULL), MAIF_EINVAL);
    assert_int_equal(maif_proof_check(NULL, NULL), MAIF_EINVAL);
    assert_int_equal(maif_proof_kind(NULL), 0);
    maif_proof_free(NULL);
    maif_options_free(pin);
    maif_options_free(wrong);
    maif_reader_close(r);
}

/* ------------------------------------------------ stored Merkle nodes */

/* Perfect subtree roots from the leaf array; with skip set, every node
 * whose position (a >> h) is odd is "not stored", so the gatherer must
 * split it. */
typedef struct arr_nodes {
    leaves *l;
    int skip;
    uint64_t calls;
} arr_nodes;

static int array_node(void *ctx, uint64_t a, uint32_t h, uint8_t out[32])
{
    arr_nodes *an = ctx;
    an->calls++;
    assert_true(h >= NAT_NODE_MIN_HEIGHT && a % ((uint64_t)1 << h) == 0);
    assert_true(a + ((uint64_t)1 << h) <= an->l->n);
    if (an->skip && ((a >> h) & 1)) return 0;
    naive_root(an->l->h, a, a + ((uint64_t)1 << h), out);
    return 1;
}

static int array_node_leaf(void *ctx, uint64_t i, uint8_t out[32])
{
    return array_leaf(((arr_nodes *)ctx)->l, i, out);
}

#define NODES_N 520
#define BOTTOM ((1u << NAT_NODE_MIN_HEIGHT) - 1) /* most leaves a path reads below the stored nodes */

/* Paths gathered with stored nodes (all, or every other one) equal the
 * naive RFC paths for sizes around every power of two up to 520 (and all
 * sizes to 64), leaves and old sizes sampled; with all nodes stored and
 * the frontier, a path reads at most 127 leaves. */
static void test_brute_force_nodes(void **state)
{
    (void)state;
    static uint8_t h[NODES_N][32];
    tu_pattern(&h[0][0], sizeof h, 9162);
    uint8_t path[NAT_PROOF_MAX_CONSISTENCY][32], want[NAT_PROOF_MAX_CONSISTENCY][32];
    for (int skip = 0; skip < 2; skip++) {
        static const uint64_t big[] = {100, 127, 128, 129, 200, 255, 256, 257, 300, 383, 384, 385, 450, 511, 512, 513, 520};
        for (size_t si = 0; si < 64 + sizeof big / sizeof big[0]; si++) {
            uint64_t n = si < 64 ? si + 1 : big[si - 64];
            leaves l = {h, n, 0};
            arr_nodes an = {&l, skip, 0};
            nat_tree_src src = {array_node_leaf, array_node, &an, NULL};
            uint64_t step = n < 64 ? 1 : 13;
            nat_merkle front;
            memset(&front, 0, sizeof front);
            for (uint64_t i = 0; i < n; i++) nat_merkle_push(&front, h[i]);
            for (uint64_t m = 0; m < n; m = m + step < n || m == n - 1 ? m + step : n - 1) {
                uint32_t len = 0, wl = 0;
                l.reads = 0;
                assert_int_equal(nat_proof_inclusion_path_src(&src, &front, m, n, path, &len), MAIF_OK);
                naive_path(h, m, 0, n, want, &wl);
                assert_int_equal(len, wl);
                assert_memory_equal(path, want, 32 * (size_t)len);
                if (!skip) assert_true(l.reads <= BOTTOM);
            }
            for (uint64_t m = 1; m <= n; m = m + step <= n || m == n ? m + step : n) {
                uint32_t len = 0, wl = 0;
                l.reads = 0;
                assert_int_equal(nat_proof_consistency_path_src(&src, &front, m, n, path, &len), MAIF_OK);
                naive_sub(h, m, 0, n, 1, want, &wl);
                assert_int_equal(len, wl);
                assert_memory_equal(path, want, 32 * (size_t)len);
                if (!skip) assert_true(l.reads <= 2 * BOTTOM + 1);
            }
        }
    }
}

/* Batches of sizes that straddle the 16-leaf nodes in every way. */
static const int node_batches[] = {1, 15, 16, 17, 33, 64, 100, 3, 200, 31, 32};
#define NODE_BATCHES (sizeof node_batches / sizeof node_batches[0])

static void build_batches(const char *path, const maif_key *key, unsigned flags, size_t from, size_t to, int create)
{
    maif_writer *w = NULL;
    char err[200];
    uint64_t cut;
    if (create) assert_int_equal(nat_writer_create(&w, path, key, NULL, 0, flags), MAIF_OK);
    else assert_int_equal(nat_writer_open(&w, path, key, flags, &cut, 0, err, sizeof err), MAIF_OK);
    for (size_t b = from; b < to; b++) {
        for (int i = 0; i < node_batches[b]; i++) {
            char text[48];
            int n = snprintf(text, sizeof text, "batch %zu block %d", b, i);
            tu_add_simple(w, MAIF_TYPE_TEXT, text, (size_t)n, NULL, NULL);
        }
        assert_int_equal(maif_writer_commit(w), MAIF_OK);
    }
    assert_int_equal(maif_writer_close(w), MAIF_OK);
}

/* Every block against every commit, and every pair of commits: proofs that
 * check, and the same paths as gathering from the leaves alone. Returns
 * the leaf reads of the last-commit proofs (nodes used when use_nodes). */
static uint64_t prove_all(const char *path, const maif_key *key)
{
    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open(&r, path), MAIF_OK);
    size_t size;
    uint8_t *img = tu_read(path, &size);
    assert_non_null(img);
    nat_view v;
    char err[200];
    assert_int_equal(nat_view_open(&v, img, size, err, sizeof err), MAIF_OK);
    nat_proof_image im = {&v, img, size, 0, 0};
    uint8_t pk[MAIF_PUBKEY_BYTES];
    maif_key_public(key, pk);
    maif_options *pin = tu_verify_options(pk, 1, 0);
    uint64_t commits = v.last.seq + 1, nodes_reads = 0;
    for (uint64_t c = 1; c < commits; c++) {
        nat_commit_ref ref;
        assert_int_equal(nat_proof_commit(&v, img, size, c, &ref, err, sizeof err), MAIF_OK);
        nat_merkle fr;
        assert_int_equal(nat_merkle_load(&fr, ref.c.blocks, (const uint8_t(*)[32])ref.c.frontier, ref.c.nfrontier), 0);
        for (uint64_t b = 0; b < ref.c.blocks; b++) {
            maif_proof *p = NULL;
            assert_int_equal(maif_reader_prove_inclusion(r, b, c, &p), MAIF_OK);
            maif_proof *q = roundtrip(p);
            assert_int_equal(maif_proof_check(q, pin), MAIF_OK);
            maif_proof_free(q);
            maif_proof_free(p);
            if (c != commits - 1 && b % 7) continue;
            uint8_t p1[NAT_PROOF_MAX_INCLUSION][32], p2[NAT_PROOF_MAX_INCLUSION][32];
            uint32_t l1, l2;
            nat_tree_src src = {nat_proof_image_leaf, nat_proof_image_node, &im, nat_proof_image_span};
            im.reads = 0;
            assert_int_equal(nat_proof_inclusion_path_src(&src, &fr, b, ref.c.blocks, p1, &l1), MAIF_OK);
            if (c == commits - 1) nodes_reads += im.reads;
            assert_int_equal(nat_proof_inclusion_path(nat_proof_image_leaf, &im, &fr, b, ref.c.blocks, p2, &l2),
                             MAIF_OK);
            assert_int_equal(l1, l2);
            assert_memory_equal(p1, p2, 32 * (size_t)l1);
        }
    }
    for (uint64_t a = 0; a < commits; a++)
        for (uint64_t b = a; b < commits; b++) {
            maif_proof *p = NULL;
            assert_int_equal(maif_reader_prove_consistency(r, a, b, &p), MAIF_OK);
            maif_proof *q = roundtrip(p);
            assert_int_equal(maif_proof_check(q, pin), MAIF_OK);
            maif_proof_free(q);
            maif_proof_free(p);
        }
    maif_options_free(pin);
    nat_view_free(&v);
    free(img);
    maif_reader_close(r);
    return nodes_reads;
}

static uint64_t count_kind(const char *path, const char *tag)
{
    size_t size;
    uint8_t *img = tu_read(path, &size);
    assert_non_null(img);
    uint64_t off = rd32le(img + NH_HEADER_SIZE), n = 0;
    while (off < size) {
        nat_rec r;
        int torn;
        assert_int_equal(nat_rec_parse(img, size, off, &r, &torn, NULL, 0), MAIF_OK);
        if (memcmp(r.tag, tag, 4) == 0) n++;
        off = r.end;
    }
    free(img);
    return n;
}

/* A file with node records, one without (as older writers made them) and
 * one that mixes both: each verifies clean, and every proof checks and
 * equals the one gathered from the leaves; the node records make the
 * last-commit proofs read far fewer records. */
static void test_artifact_nodes(void **state)
{
    tu_fixture *f = *state;
    char *with = tu_path(f->dir, "with.maif"), *without = tu_path(f->dir, "without.maif"),
         *mixed = tu_path(f->dir, "mixed.maif");
    build_batches(with, f->key, 0, 0, NODE_BATCHES, 1);
    build_batches(without, f->key, NAT_W_NO_NODES, 0, NODE_BATCHES, 1);
    build_batches(mixed, f->key, NAT_W_NO_NODES, 0, 6, 1);
    build_batches(mixed, f->key, 0, 6, NODE_BATCHES, 0);
    tu_assert_verifies_clean(with);
    tu_assert_verifies_clean(without);
    tu_assert_verifies_clean(mixed);
    /* batches that complete a 128-leaf subtree get a node record: those
     * holding blocks 127, 255 and 383, 511 */
    assert_int_equal(count_kind(with, NAT_TAG_NODES), 3);
    assert_int_equal(count_kind(without, NAT_TAG_NODES), 0);
    assert_int_equal(count_kind(mixed, NAT_TAG_NODES), 2);
    uint64_t r_with = prove_all(with, f->key), r_without = prove_all(without, f->key);
    prove_all(mixed, f->key);
    assert_true(r_with * 2 < r_without);

    /* a torn tail: the reader finds the last commit by a scan and has no
     * index to find node records through; proofs still check */
    size_t size;
    uint8_t *img = tu_read(with, &size);
    assert_non_null(img);
    uint8_t *torn = calloc(1, size + 200);
    assert_non_null(torn);
    memcpy(torn, img, size);
    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open_mem(&r, torn, size + 200), MAIF_OK);
    for (uint64_t b = 0; b < 512; b += 61) {
        maif_proof *p = NULL;
        assert_int_equal(maif_reader_prove_inclusion(r, b, MAIF_COMMIT_LAST, &p), MAIF_OK);
        assert_int_equal(maif_proof_check(p, NULL), MAIF_OK);
        maif_proof_free(p);
    }
    maif_reader_close(r);
    free(torn);
    free(img);
    free(with);
    free(without);
    free(mixed);
}

/* Recomputes the content hash of every node record, every record hash and
 * every commit's content hash and Ed25519 signature: what a forger holding
 * the key would do after editing a node. */
static void reseal(uint8_t *img, size_t size, const maif_key *key)
{
    uint8_t prev[32];
    uint32_t hs = rd32le(img + NH_HEADER_SIZE);
    maif_sha256(img, hs, prev);
    uint64_t off = hs;
    while (off < size) {
        nat_rec r;
        int torn;
        assert_int_equal(nat_rec_parse(img, size, off, &r, &torn, NULL, 0), MAIF_OK);
        uint8_t *hdr = img + off, *pay = img + r.payload_off;
        int commit = memcmp(r.tag, NAT_TAG_COMMIT, 4) == 0;
        if (memcmp(r.tag, NAT_TAG_NODES, 4) == 0) maif_sha256(pay, r.stored_size, hdr + NR_CONTENT_HASH);
        if (commit) nat_commit_content_hash(pay, r.stored_size, hdr + NR_CONTENT_HASH);
        nat_rec_hash(img, &r, prev, hdr + NR_RECORD_HASH);
        if (commit) {
            uint8_t msg[48];
            memcpy(msg, NAT_SIG_DOMAIN, 16);
            memcpy(msg + 16, hdr + NR_RECORD_HASH, 32);
            maif_key_sign(key, msg, sizeof msg, pay + r.stored_size - NAT_TAIL_SIZE - 64);
        }
        memcpy(prev, hdr + NR_RECORD_HASH, 32);
        off = r.end;
    }
}

/* A forged node, re-signed: verify reports it (code "nodes") and no proof
 * that needs it is given; proofs that do not need it still are. */
static void test_forged_node(void **state)
{
    tu_fixture *f = *state;
    /* 449 blocks: the sixth batch (blocks 82..145) completes [0, 128), the
     * ninth [128, 256), [0, 256) and [256, 384); the frontier of 449 holds
     * [0, 256), so [0, 128) comes from its node record */
    build_batches(f->path, f->key, 0, 0, 9, 1);
    size_t size;
    uint8_t *img = tu_read(f->path, &size);
    assert_non_null(img);
    uint64_t off = rd32le(img + NH_HEADER_SIZE);
    nat_rec r;
    int torn, found = 0;
    while (off < size && !found) {
        assert_int_equal(nat_rec_parse(img, size, off, &r, &torn, NULL, 0), MAIF_OK);
        found = memcmp(r.tag, NAT_TAG_NODES, 4) == 0;
        if (!found) off = r.end;
    }
    assert_true(found);
    assert_int_equal(rd64le(img + r.payload_off), 82); /* the sixth batch's: blocks 82..145 complete [0, 128) */
    img[r.payload_off + NAT_NODES_HEAD] ^= 1;
    reseal(img, size, f->key);
    assert_int_equal(tu_write(f->path, img, size), 0);
    free(img);

    maif_report *rep = NULL;
    assert_int_equal(maif_verify_file(f->path, NULL, &rep), MAIF_OK);
    assert_true(tu_has_code(rep, "nodes", MAIF_SEV_ERROR));
    assert_false(tu_has_code(rep, "signature", MAIF_SEV_ERROR));
    assert_false(tu_has_code(rep, "chain", MAIF_SEV_ERROR));
    assert_false(maif_report_ok(rep));
    maif_report_free(rep);

    maif_reader *rd = NULL;
    assert_int_equal(maif_reader_open(&rd, f->path), MAIF_OK);
    maif_proof *p = NULL;
    assert_int_equal(maif_reader_prove_inclusion(rd, 130, MAIF_COMMIT_LAST, &p), MAIF_EVERIFY); /* sibling [0,128) */
    assert_null(p);
    assert_non_null(strstr(maif_reader_errmsg(rd), "do not lead to the commit's signed root"));
    assert_int_equal(maif_reader_prove_consistency(rd, 2, MAIF_COMMIT_LAST, &p), MAIF_OK); /* 16 -> 449: not needed */
    assert_int_equal(maif_proof_check(p, NULL), MAIF_OK);
    maif_proof_free(p);
    assert_int_equal(maif_reader_prove_inclusion(rd, 3, MAIF_COMMIT_LAST, &p), MAIF_OK); /* [0,128) holds it */
    assert_int_equal(maif_proof_check(p, NULL), MAIF_OK);
    maif_proof_free(p);
    maif_reader_close(rd);
}

/* ------------------------------------------------------------ tampering */
/* (test_algorithms follows the tamper helpers it uses) */


/* Applies edit to the JSON of p, parses and checks the result: returns the
 * code of the first call that fails (parse or check). */
typedef void (*edit_fn)(json_t *o);

static int tampered(const char *json, edit_fn edit)
{
    json_t *o = json_loads(json, 0, NULL);
    assert_non_null(o);
    edit(o);
    char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    assert_non_null(s);
    maif_proof *q = NULL;
    int rc = maif_proof_parse(&q, s, strlen(s));
    free(s);
    if (rc == MAIF_OK) rc = maif_proof_check(q, NULL);
    maif_proof_free(q);
    return rc;
}

/* Flips the last hex digit of string member key of o (between '0' and '1'). */
static void flip(json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));
    assert_non_null(v);
    char *c = strdup(v);
    size_t n = strlen(c);
    c[n - 1] = c[n - 1] == '0' ? '1' : '0';
    json_object_set_new(o, key, json_string(c));
    free(c);
}

/* Flips hex digit at (from the end) back of string member key. */
static void flip_at(json_t *o, const char *key, size_t back)
{
    const char *v = json_string_value(json_object_get(o, key));
    char *c = strdup(v);
    size_t n = strlen(c);
    c[n - back] = c[n - back] == '0' ? '1' : '0';
    json_object_set_new(o, key, json_string(c));
    free(c);
}

static void e_path_hash(json_t *o)
{
    json_t *a = json_object_get(o, "path");
    const char *v = json_string_value(json_array_get(a, 1));
    char *c = strdup(v);
    c[0] = c[0] == 'f' ? 'e' : 'f';
    json_array_set_new(a, 1, json_string(c));
    free(c);
}
static void e_path_short(json_t *o) { json_array_remove(json_object_get(o, "path"), 0); }
static void e_path_long(json_t *o)
{
    json_t *a = json_object_get(o, "path");
    json_array_append(a, json_array_get(a, 0));
}
static void e_path_huge(json_t *o)
{
    json_t *a = json_object_get(o, "path");
    for (int i = 0; i < 200; i++) json_array_append(a, json_array_get(a, 0));
}
static void e_path_badhex(json_t *o) { json_array_set_new(json_object_get(o, "path"), 0, json_string("zz")); }
static void e_index(json_t *o) { json_object_set_new(o, "block", json_integer(12)); }
static void e_index_neg(json_t *o) { json_object_set_new(o, "block", json_integer(-1)); }
static void e_size(json_t *o) { json_object_set_new(o, "tree_size", json_integer(30)); }
static void e_leaf(json_t *o) { flip(o, "leaf_record_hash"); }
static void e_root(json_t *o) { flip(o, "root"); }
static void e_sig_field(json_t *o) { flip(json_object_get(o, "commit"), "signature"); }
/* the signature inside the payload: 64 bytes before the 16-byte tail */
static void e_sig_bytes(json_t *o) { flip_at(json_object_get(o, "commit"), "payload", 2 * 16 + 2 * 10); }
static void e_header(json_t *o) { flip_at(json_object_get(o, "commit"), "header", 2 * 112 - 2 * 20); } /* the timestamp */
static void e_prev(json_t *o) { flip(json_object_get(o, "commit"), "prev_record_hash"); }
static void e_alg(json_t *o) { json_object_set_new(json_object_get(o, "commit"), "alg", json_string("p256")); }
static void e_alg_other(json_t *o)
{
    json_t *c = json_object_get(o, "commit");
    const char *a = json_string_value(json_object_get(c, "alg"));
    json_object_set_new(c, "alg", json_string(strcmp(a, "ed25519") ? "ed25519" : "p256"));
}
static void e_alg_unknown(json_t *o) { json_object_set_new(json_object_get(o, "commit"), "alg", json_string("dsa")); }
static void e_pk(json_t *o) { flip(json_object_get(o, "commit"), "public_key"); }
static void e_pk_odd(json_t *o) { json_object_set_new(json_object_get(o, "commit"), "public_key", json_string("abc")); }
static void e_pk_no_alg(json_t *o) { json_object_del(json_object_get(o, "commit"), "alg"); }
/* a proof as the first version wrote it (Ed25519 only): no alg, no key */
static void e_legacy(json_t *o)
{
    json_object_del(json_object_get(o, "commit"), "alg");
    json_object_del(json_object_get(o, "commit"), "public_key");
}
static void e_payload_root(json_t *o)
{
    json_t *c = json_object_get(o, "commit");
    const char *v = json_string_value(json_object_get(c, "payload"));
    char *s = strdup(v);
    s[2 * 24] = s[2 * 24] == '0' ? '1' : '0'; /* first digit of merkle_root */
    json_object_set_new(c, "payload", json_string(s));
    free(s);
}
static void e_payload_odd(json_t *o)
{
    json_t *c = json_object_get(o, "commit");
    const char *v = json_string_value(json_object_get(c, "payload"));
    char *s = strdup(v);
    s[strlen(s) - 1] = 0;
    json_object_set_new(c, "payload", json_string(s));
    free(s);
}
static void e_kind(json_t *o) { json_object_set_new(o, "proof", json_string("maif-inclusion-v9")); }
static void e_no_commit(json_t *o) { json_object_del(o, "commit"); }
static void e_from_size(json_t *o) { json_object_set_new(o, "from_size", json_integer(4)); }
static void e_to_root(json_t *o) { flip(o, "to_root"); }
static void e_swap(json_t *o)
{
    json_t *a = json_incref(json_object_get(o, "from_commit"));
    json_object_set(o, "from_commit", json_object_get(o, "to_commit"));
    json_object_set_new(o, "to_commit", a);
}

/* Commits signed with RSA-PSS (2048 bits, to keep the test quick) and
 * P-256: proofs name the algorithm and carry the key, check without the
 * artifact (pinned by the signer id), and an edited key or signature is
 * refused. Ed25519 is covered by every test above. */
static void test_algorithms(void **state)
{
    tu_fixture *f = *state;
    static const struct {
        int alg;
        unsigned bits;
        const char *name;
    } algs[] = {{MAIF_SIG_RSA_PSS, 2048, "rsa-pss"}, {MAIF_SIG_P256, 0, "p256"}, {MAIF_SIG_ED25519, 0, "ed25519"}};
    for (size_t a = 0; a < sizeof algs / sizeof algs[0]; a++) {
        maif_key *key = NULL;
        assert_int_equal(maif_key_generate_alg(&key, algs[a].alg, algs[a].bits), MAIF_OK);
        char *path = tu_path(f->dir, algs[a].name);
        build_batches(path, key, 0, 0, 6, 1); /* 146 blocks (a node record), 6 commits after the first */
        tu_assert_verifies_clean(path);
        uint8_t id[MAIF_PUBKEY_BYTES];
        maif_key_public(key, id);
        maif_options *pin = tu_verify_options(id, 1, 0);
        maif_reader *r = NULL;
        assert_int_equal(maif_reader_open(&r, path), MAIF_OK);
        for (uint64_t b = 0; b < 146; b += 9) {
            maif_proof *p = NULL;
            assert_int_equal(maif_reader_prove_inclusion(r, b, MAIF_COMMIT_LAST, &p), MAIF_OK);
            maif_proof *q = roundtrip(p);
            assert_int_equal(maif_proof_check(q, pin), MAIF_OK);
            maif_proof_free(q);
            char buf[MAIF_PROOF_JSON_MAX];
            size_t len;
            assert_int_equal(maif_proof_json(p, buf, sizeof buf, &len), MAIF_OK);
            maif_proof_free(p);
            json_t *o = json_loads(buf, 0, NULL);
            json_t *c = json_object_get(o, "commit");
            assert_string_equal(json_string_value(json_object_get(c, "alg")), algs[a].name);
            /* the key is what the signer field names */
            size_t pkl = json_string_length(json_object_get(c, "public_key")) / 2;
            uint8_t pkb[1200], h[32];
            assert_true(pkl > 0 && pkl <= sizeof pkb);
            assert_int_equal(maif_unhex(json_string_value(json_object_get(c, "public_key")), pkb, pkl), MAIF_OK);
            if (algs[a].alg == MAIF_SIG_ED25519) memcpy(h, pkb, 32);
            else maif_sha256(pkb, pkl, h);
            assert_memory_equal(h, id, 32);
            json_decref(o);
            if (b == 0) {
                assert_int_equal(tampered(buf, e_pk), MAIF_EVERIFY);
                assert_int_equal(tampered(buf, e_sig_field), MAIF_EVERIFY);
                assert_int_equal(tampered(buf, e_alg_other), MAIF_EVERIFY);
            }
        }
        for (uint64_t from = 0; from <= 6; from++) {
            maif_proof *p = NULL;
            assert_int_equal(maif_reader_prove_consistency(r, from, MAIF_COMMIT_LAST, &p), MAIF_OK);
            maif_proof *q = roundtrip(p);
            assert_int_equal(maif_proof_check(q, pin), MAIF_OK);
            maif_proof_free(q);
            maif_proof_free(p);
        }
        maif_reader_close(r);
        maif_options_free(pin);
        maif_key_free(key);
        free(path);
    }
}

static void test_tamper(void **state)
{
    tu_fixture *f = *state;
    uint8_t rh[ART_N][32];
    build(f, rh);
    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    maif_proof *p = NULL;
    char inc[MAIF_PROOF_JSON_MAX], con[MAIF_PROOF_JSON_MAX];
    size_t len;
    assert_int_equal(maif_reader_prove_inclusion(r, 13, 29, &p), MAIF_OK);
    assert_int_equal(maif_proof_json(p, inc, sizeof inc, &len), MAIF_OK);
    maif_proof_free(p);
    assert_int_equal(maif_reader_prove_consistency(r, 5, 27, &p), MAIF_OK);
    assert_int_equal(maif_proof_json(p, con, sizeof con, &len), MAIF_OK);
    maif_proof_free(p);
    maif_reader_close(r);

    static const struct {
        int consistency;
        edit_fn edit;
        int code;
        const char *msg;
    } cases[] = {
        {0, e_path_hash, MAIF_EVERIFY, "audit path (5 hashes) does not lead"},
        {0, e_path_short, MAIF_EVERIFY, "audit path (4 hashes)"},
        {0, e_path_long, MAIF_EVERIFY, "audit path (6 hashes)"},
        {0, e_path_huge, MAIF_EJSON, "\"path\" must be an array of at most 64"},
        {0, e_path_badhex, MAIF_EJSON, "\"path\"[0] must be 64 hex digits"},
        {0, e_index, MAIF_EVERIFY, "from block 12"},
        {0, e_index_neg, MAIF_EJSON, "\"block\" must be a non-negative integer"},
        {0, e_size, MAIF_EVERIFY, "tree_size 30 is not the commit's 29 blocks"},
        {0, e_leaf, MAIF_EVERIFY, "audit path"},
        {0, e_root, MAIF_EVERIFY, "root is not the commit's Merkle root"},
        {0, e_sig_field, MAIF_EVERIFY, "\"signature\" does not match"},
        {0, e_sig_bytes, MAIF_EVERIFY, "bad signature"},
        {0, e_header, MAIF_EVERIFY, "record hash does not match"},
        {0, e_prev, MAIF_EVERIFY, "record hash does not match"},
        {0, e_alg, MAIF_EVERIFY, "\"alg\" does not match"},
        {0, e_alg_unknown, MAIF_EJSON, "\"alg\" must be"},
        {0, e_pk, MAIF_EVERIFY, "\"public_key\" does not match"},
        {0, e_pk_odd, MAIF_EJSON, "\"public_key\" must be an even number"},
        {0, e_pk_no_alg, MAIF_EJSON, "\"public_key\" without \"alg\""},
        {0, e_legacy, MAIF_OK, ""},
        {0, e_payload_root, MAIF_EVERIFY, "content hash does not match"},
        {0, e_payload_odd, MAIF_EJSON, "\"payload\" must be an even number"},
        {0, e_kind, MAIF_EJSON, "\"proof\" must be"},
        {0, e_no_commit, MAIF_EJSON, "\"commit\" must be an object"},
        {1, e_path_hash, MAIF_EVERIFY, "consistency path"},
        {1, e_path_short, MAIF_EVERIFY, "consistency path"},
        {1, e_from_size, MAIF_EVERIFY, "from_size/to_size"},
        {1, e_to_root, MAIF_EVERIFY, "from_root/to_root"},
        {1, e_swap, MAIF_EVERIFY, "comes after"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = tampered(cases[i].consistency ? con : inc, cases[i].edit);
        if (rc != cases[i].code || !strstr(maif_last_errmsg(), cases[i].msg))
            fail_msg("case %zu: rc %d, message \"%s\"", i, rc, maif_last_errmsg());
    }
    /* not JSON, too long, bad arguments, a small buffer */
    maif_proof *q = NULL;
    assert_int_equal(maif_proof_parse(&q, "{", 1), MAIF_EJSON);
    assert_int_equal(maif_proof_parse(&q, "[]", 2), MAIF_EJSON);
    assert_int_equal(maif_proof_parse(&q, inc, MAIF_PROOF_JSON_MAX + 1), MAIF_ELIMIT);
    assert_int_equal(maif_proof_parse(NULL, inc, 1), MAIF_EINVAL);
    assert_null(q);
    assert_int_equal(maif_proof_parse(&q, inc, strlen(inc)), MAIF_OK);
    char small[16];
    assert_int_equal(maif_proof_json(q, small, sizeof small, &len), MAIF_ELIMIT);
    assert_int_equal(len, strlen(inc));
    assert_int_equal(maif_proof_json(NULL, small, sizeof small, &len), MAIF_EINVAL);
    assert_int_equal(maif_proof_check(q, NULL), MAIF_OK);
    maif_proof_free(q);
}

/* Commits that add no block: the record before such a commit is the
 * previous commit, found by walking from it. */
static void test_empty_commits(void **state)
{
    tu_fixture *f = *state;
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->key, NULL, NULL), MAIF_OK);
    int plan[] = {0, 0, 3, 0, 2, 0, 0};
    for (size_t c = 0; c < sizeof plan / sizeof plan[0]; c++) {
        for (int i = 0; i < plan[c]; i++) tu_add_simple(w, MAIF_TYPE_TEXT, "x", 1, NULL, NULL);
        assert_int_equal(maif_writer_commit(w), MAIF_OK);
    }
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    maif_info in;
    assert_int_equal(maif_reader_info(r, &in), MAIF_OK);
    uint64_t commits = in.commit_count;
    assert_int_equal(commits, 1 + sizeof plan / sizeof plan[0]); /* create commits once */
    for (uint64_t a = 0; a < commits; a++) {
        for (uint64_t b = a; b < commits; b++) {
            maif_proof *p = NULL;
            assert_int_equal(maif_reader_prove_consistency(r, a, b, &p), MAIF_OK);
            if (maif_proof_check(p, NULL) != MAIF_OK) fail_msg("%llu..%llu: %s", (unsigned long long)a,
                                                               (unsigned long long)b, maif_last_errmsg());
            maif_proof_free(p);
        }
        for (uint64_t blk = 0; blk < 5; blk++) {
            maif_proof *p = NULL;
            int rc = maif_reader_prove_inclusion(r, blk, a, &p);
            if (rc == MAIF_ENOTFOUND) continue;
            assert_int_equal(rc, MAIF_OK);
            assert_int_equal(maif_proof_check(p, NULL), MAIF_OK);
            maif_proof_free(p);
        }
    }
    maif_reader_close(r);
}

static void test_v21_unsupported(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/sample_text.maif", tu_samples_dir());
    maif_reader *r = NULL;
    if (maif_reader_open(&r, path) != MAIF_OK) skip();
    maif_proof *p = NULL;
    assert_int_equal(maif_reader_prove_inclusion(r, 0, MAIF_COMMIT_LAST, &p), MAIF_EUNSUPPORTED);
    assert_non_null(strstr(maif_reader_errmsg(r), "native artifact"));
    maif_reader_close(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ct_vectors),
        cmocka_unit_test(test_brute_force),
        cmocka_unit_test_setup_teardown(test_artifact, tu_setup, tu_teardown),
        cmocka_unit_test(test_brute_force_nodes),
        cmocka_unit_test_setup_teardown(test_artifact_nodes, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_forged_node, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_algorithms, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_tamper, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_empty_commits, tu_setup, tu_teardown),
        cmocka_unit_test(test_v21_unsupported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
