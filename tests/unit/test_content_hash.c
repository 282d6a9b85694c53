/*
 * test_content_hash.c — artifacts whose content hashes are BLAKE3
 * (MAIF_OPT_CONTENT_HASH, FORMAT.md §2 and §4): every way of adding a
 * block stores the BLAKE3 of its stored bytes, reopening keeps the
 * function, verification checks it without any key, the header's rules
 * (unknown flags refused, the flag needs write version 4) hold, and
 * conversion can choose either function.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/blake3.h"
#include "testutil.h"

static maif_options *hash_opts(int alg, int overwrite)
{
    maif_options *o = NULL;
    assert_int_equal(maif_options_create(&o), MAIF_OK);
    assert_int_equal(maif_options_set(o, MAIF_OPT_CONTENT_HASH, alg), MAIF_OK);
    if (overwrite) assert_int_equal(maif_options_set(o, MAIF_OPT_OVERWRITE, 1), MAIF_OK);
    return o;
}

static maif_writer *create_with(const char *path, const maif_key *key, int alg)
{
    maif_options *o = hash_opts(alg, 1);
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, path, key, "hash-test", o), MAIF_OK);
    maif_options_free(o);
    return w;
}

/* Every block's stored content hash is alg of its stored bytes, and not
 * the other function's; returns the number of blocks. */
static uint64_t check_hashes(const char *path, int alg)
{
    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open(&r, path), MAIF_OK);
    assert_int_equal(maif_reader_content_hash(r), alg);
    uint64_t n = maif_reader_count(r);
    for (uint64_t i = 0; i < n; i++) {
        maif_block b;
        assert_int_equal(maif_reader_block(r, i, &b), MAIF_OK);
        uint8_t h[MAIF_HASH_BYTES], other[MAIF_HASH_BYTES];
        assert_int_equal(maif_hash(alg, b.payload, b.payload_size, h), MAIF_OK);
        assert_memory_equal(h, b.content_hash, MAIF_HASH_BYTES);
        assert_int_equal(maif_hash(alg == MAIF_HASH_BLAKE3 ? MAIF_HASH_SHA256 : MAIF_HASH_BLAKE3, b.payload,
                                   b.payload_size, other),
                         MAIF_OK);
        assert_memory_not_equal(other, b.content_hash, MAIF_HASH_BYTES);
    }
    maif_reader_close(r);
    return n;
}

/* A reader of path that opens with key's identity (*id: free it after
 * closing the reader). */
static maif_reader *open_with_identity(const char *path, const maif_key *key, maif_keyring **id)
{
    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open(&r, path), MAIF_OK);
    *id = tu_keyring_self(key);
    assert_int_equal(maif_reader_set_keyring(r, *id), MAIF_OK);
    return r;
}

/* Small (hashed on the helper), direct (256 KiB+), pipelined (1 MiB+),
 * borrowed, sealed by the add and by the drain, streamed plain and
 * sealed, a dictionary and a block compressed with it, a group commit and
 * asynchronous appends; then more after reopening. */
static void write_every_path(const char *path, const maif_key *key, int alg)
{
    size_t big_n = 3u << 20;
    uint8_t *big = tu_pattern_new(big_n, 5);
    maif_writer *w = create_with(path, key, alg);
    tu_add_text(w, "a small note");
    tu_add_simple(w, MAIF_TYPE_BINARY, big, 300000, NULL, NULL);
    tu_add_simple(w, MAIF_TYPE_BINARY, big, 1u << 20 | 7, "{\"k\":1}", NULL);
    maif_block_spec s = {.type = MAIF_TYPE_BINARY, .payload = big + 11, .payload_size = 500000};
    assert_int_equal(maif_writer_add_borrowed(w, &s, NULL), MAIF_OK);
    tu_mem_src src = {big, big_n - 3, 0, 100000, 0}; /* odd pieces, so chunks do not line up with reads */
    s = (maif_block_spec){.type = MAIF_TYPE_BINARY};
    assert_int_equal(maif_writer_add_stream(w, &s, tu_mem_read, &src, 0, NULL), MAIF_OK);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);

    maif_keyring *kr = tu_keyring_self(key);
    assert_int_equal(maif_writer_encrypt(w, kr, MAIF_CIPHER_XCHACHA20), MAIF_OK);
    tu_add_text(w, "a sealed note");
    tu_add_simple(w, MAIF_TYPE_BINARY, big, 1u << 20, NULL, NULL); /* sealed by the add, hashed on the helper */
    s = (maif_block_spec){.type = MAIF_TYPE_BINARY, .payload = big + 1, .payload_size = (1u << 20) + 1};
    assert_int_equal(maif_writer_add_borrowed(w, &s, NULL), MAIF_OK); /* sealed by the drain */
    src = (tu_mem_src){big, big_n, 0, 100000, 0};
    s = (maif_block_spec){.type = MAIF_TYPE_BINARY, .payload_size = big_n};
    assert_int_equal(maif_writer_add_stream(w, &s, tu_mem_read, &src, 0, NULL), MAIF_OK); /* STREAM cipher */
    assert_int_equal(maif_writer_encrypt(w, NULL, 0), MAIF_OK);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);

    size_t dn = 0;
    uint8_t *dict = tu_dict_train(16384, 0, &dn);
    uint8_t did[MAIF_ID_BYTES];
    assert_int_equal(maif_writer_add_dict(w, dict, dn, 3, did), MAIF_OK);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_use_dict(w, did, 3), MAIF_OK);
    size_t rn = 0;
    char *rec = tu_record(3, 0, &rn);
    tu_add_simple(w, MAIF_TYPE_JSON, rec, rn, NULL, NULL);
    free(rec);
    assert_int_equal(maif_writer_set_codec(w, MAIF_CODEC_NONE, 0), MAIF_OK);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);

    maif_block_spec batch[3] = {
        {.type = MAIF_TYPE_TEXT, .payload = "one", .payload_size = 3},
        {.type = MAIF_TYPE_BINARY, .payload = big, .payload_size = 200000},
        {.type = MAIF_TYPE_TEXT, .payload = "three", .payload_size = 5},
    };
    assert_int_equal(maif_writer_commit_batch(w, batch, 3, NULL), MAIF_OK);
    for (int i = 0; i < 4; i++) assert_int_equal(maif_writer_add_async(w, &batch[i % 3], NULL, NULL), MAIF_OK);
    assert_int_equal(maif_writer_flush(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);

    /* reopened: the writer takes the function from the header */
    maif_options *o = hash_opts(alg == MAIF_HASH_BLAKE3 ? MAIF_HASH_SHA256 : MAIF_HASH_BLAKE3, 0); /* ignored by open */
    assert_int_equal(maif_writer_open(&w, path, key, o), MAIF_OK);
    maif_options_free(o);
    tu_add_text(w, "after reopening");
    tu_add_simple(w, MAIF_TYPE_BINARY, big + 3, 2u << 20, NULL, NULL);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    /* the sealed blocks open to their plaintexts (the 1 MiB one was sealed
     * by the add, its chunks shared with the helper when it was free) */
    maif_keyring *id = NULL;
    maif_reader *r = open_with_identity(path, key, &id);
    uint8_t *dec = malloc(big_n);
    int opened = 0;
    for (uint64_t i = 0; i < maif_reader_count(r); i++) {
        maif_block b;
        assert_int_equal(maif_reader_block(r, i, &b), MAIF_OK);
        if (!b.cipher || b.payload_size < 1000) continue;
        size_t n = 0;
        assert_int_equal(maif_reader_block_decode(r, i, dec, big_n, &n), MAIF_OK);
        const uint8_t *want = n == (1u << 20) + 1 ? big + 1 : big;
        assert_memory_equal(dec, want, n);
        opened++;
    }
    assert_int_equal(opened, 3);
    free(dec);
    maif_reader_close(r);
    maif_keyring_free(id);
    maif_keyring_free(kr);
    free(dict);
    free(big);
}

/* Writes every path with alg, checks the stored hashes and verifies; the
 * header's flags byte and write version must be flags and wver. */
static void every_path(const tu_fixture *f, int alg, uint8_t flags, uint8_t wver)
{
    write_every_path(f->path, f->key, alg);
    assert_true(check_hashes(f->path, alg) >= 20);
    tu_assert_verifies_clean(f->path); /* no key needed */
    size_t n;
    uint8_t *img = tu_read(f->path, &n);
    assert_int_equal(img[44], flags);
    assert_int_equal(img[8], wver);
    free(img);
}

/* BLAKE3: flag bit 0 and write version 4 */
static void test_every_path_blake3(void **state) { every_path(*state, MAIF_HASH_BLAKE3, 1, 4); }
/* SHA-256: the header is as before this option existed */
static void test_every_path_sha256(void **state) { every_path(*state, MAIF_HASH_SHA256, 0, 2); }
/* BLAKE3 on one CPU: no helper thread, every hash inline */
static void test_every_path_one_cpu(void **state)
{
    (void)tu_cpu_pin_one();
    every_path(*state, MAIF_HASH_BLAKE3, 1, 4);
    tu_cpu_unpin();
}

/* Many 1 MiB blocks sealed by maif_writer_add, each with other bytes
 * (the helper, hashing BLAKE3 faster than this thread seals, takes chunks
 * of most of them; under either content hash), all open to their own
 * plaintexts and verify. */
static void test_shared_seal(void **state)
{
    tu_fixture *f = *state;
    for (int alg = 0; alg < 2; alg++) {
        const size_t bs = (1u << 20) + 100, nb = 12;
        uint8_t *src = tu_pattern_new(bs * nb, 21 + (uint64_t)alg);
        maif_writer *w = create_with(f->path, f->key, alg);
        maif_keyring *kr = tu_keyring_self(f->key);
        int cipher = alg ? MAIF_CIPHER_CHACHA20 : MAIF_CIPHER_XCHACHA20;
        assert_int_equal(maif_writer_encrypt(w, kr, cipher), MAIF_OK);
        for (size_t i = 0; i < nb; i++) tu_add_simple(w, MAIF_TYPE_BINARY, src + i * bs, bs - i, NULL, NULL);
        assert_int_equal(maif_writer_commit(w), MAIF_OK);
        assert_int_equal(maif_writer_close(w), MAIF_OK);
        tu_assert_verifies_clean(f->path);
        check_hashes(f->path, alg);
        maif_keyring *id = NULL;
        maif_reader *r = open_with_identity(f->path, f->key, &id);
        uint8_t *dec = malloc(bs);
        size_t k = 0;
        for (uint64_t i = 0; i < maif_reader_count(r); i++) {
            maif_block b;
            assert_int_equal(maif_reader_block(r, i, &b), MAIF_OK);
            if (b.cipher == 0) continue; /* the key wrap */
            size_t n = 0;
            assert_int_equal(maif_reader_block_decode(r, i, dec, bs, &n), MAIF_OK);
            assert_int_equal(n, bs - k);
            assert_memory_equal(dec, src + k * bs, n);
            k++;
        }
        assert_int_equal(k, nb);
        free(dec);
        maif_reader_close(r);
        maif_keyring_free(id);
        maif_keyring_free(kr);
        free(src);
    }
}

static maif_report *verify_img(const uint8_t *img, size_t n)
{
    maif_report *r = NULL;
    assert_int_equal(maif_verify_mem(img, n, NULL, &r), MAIF_OK);
    return r;
}

/* The file offset of the last block's payload (found after its record
 * offset by its first 64 bytes, a random pattern), and its size. */
static uint64_t last_payload(const char *path, size_t *size)
{
    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open(&r, path), MAIF_OK);
    maif_block b;
    assert_int_equal(maif_reader_block(r, maif_reader_count(r) - 1, &b), MAIF_OK);
    assert_true(b.payload_size >= 64);
    *size = b.payload_size;
    size_t fl;
    uint8_t *img = tu_read(path, &fl);
    const uint8_t *p = memmem(img + b.offset, fl - b.offset, b.payload, 64);
    assert_non_null(p);
    uint64_t poff = (uint64_t)(p - img);
    free(img);
    maif_reader_close(r);
    return poff;
}

static void test_tamper_and_header_rules(void **state)
{
    tu_fixture *f = *state;
    maif_writer *w = create_with(f->path, f->key, MAIF_HASH_BLAKE3);
    tu_add_text(w, "first");
    uint8_t *big = tu_pattern_new(1u << 20, 9);
    tu_add_simple(w, MAIF_TYPE_BINARY, big, 1u << 20, NULL, NULL);
    free(big);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    size_t psize;
    uint64_t poff = last_payload(f->path, &psize);
    size_t n;
    uint8_t *img = tu_read(f->path, &n);
    maif_report *r = verify_img(img, n);
    assert_true(maif_report_ok(r));
    maif_report_free(r);

    /* one payload byte, deep inside a 1 MiB block (a BLAKE3 chunk far from
     * the first): a content-hash error naming the block */
    img[poff + 700000] ^= 0x20;
    r = verify_img(img, n);
    assert_false(maif_report_ok(r));
    assert_true(tu_has_code(r, "content-hash", MAIF_SEV_ERROR));
    maif_report_free(r);
    img[poff + 700000] ^= 0x20;

    /* a flag this library does not know: readers and writers refuse */
    img[44] = 3;
    char *p2 = tu_path(f->dir, "flags.maif");
    assert_int_equal(tu_write(p2, img, n), 0);
    maif_reader *rd = NULL;
    assert_int_equal(maif_reader_open(&rd, p2), MAIF_EVERSION);
    assert_non_null(strstr(maif_last_errmsg(), "flags"));
    assert_int_equal(maif_writer_open(&w, p2, f->key, NULL), MAIF_EVERSION);
    r = verify_img(img, n);
    assert_false(maif_report_ok(r));
    maif_report_free(r);

    /* the flag with write version 3: an error (old writers would append
     * SHA-256 content hashes) */
    img[44] = 1;
    img[8] = 3;
    r = verify_img(img, n);
    assert_false(maif_report_ok(r));
    assert_true(tu_has_code(r, "header", MAIF_SEV_ERROR));
    maif_report_free(r);

    /* the flag cleared: the content hashes no longer match (and the chain
     * seed changed) */
    img[8] = 4;
    img[44] = 0;
    r = verify_img(img, n);
    assert_false(maif_report_ok(r));
    maif_report_free(r);
    free(img);
    free(p2);
}

static void test_convert_either_way(void **state)
{
    tu_fixture *f = *state;
    maif_writer *w = create_with(f->path, f->key, MAIF_HASH_SHA256);
    tu_add_text(w, "to be converted");
    uint8_t *big = tu_pattern_new(600000, 3);
    tu_add_simple(w, MAIF_TYPE_BINARY, big, 600000, "{\"x\":true}", NULL);
    free(big);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);

    char *b3 = tu_path(f->dir, "b3.maif"), *back = tu_path(f->dir, "back.maif"), *v21 = tu_path(f->dir, "x.maif21");
    maif_options *o = hash_opts(MAIF_HASH_BLAKE3, 0);
    assert_int_equal(maif_convert(f->path, b3, MAIF_FORMAT_NATIVE, f->key, o, NULL), MAIF_OK);
    assert_int_equal(check_hashes(b3, MAIF_HASH_BLAKE3), 2);
    tu_assert_verifies_clean(b3);
    /* 2.1 has SHA-256 only */
    assert_int_equal(maif_convert(b3, v21, MAIF_FORMAT_V21, f->key, o, NULL), MAIF_EINVAL);
    maif_options_free(o);
    assert_int_equal(maif_convert(b3, back, MAIF_FORMAT_NATIVE, f->key, NULL, NULL), MAIF_OK);
    assert_int_equal(check_hashes(back, MAIF_HASH_SHA256), 2);
    tu_assert_verifies_clean(back);
    assert_int_equal(maif_convert(b3, v21, MAIF_FORMAT_V21, f->key, NULL, NULL), MAIF_OK);
    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open(&r, v21), MAIF_OK);
    assert_int_equal(maif_reader_content_hash(r), MAIF_HASH_SHA256);
    maif_reader_close(r);
    free(b3);
    free(back);
    free(v21);
}

static void test_api(void **state)
{
    (void)state;
    int alg = -1;
    assert_int_equal(maif_hash_parse("blake3", &alg), MAIF_OK);
    assert_int_equal(alg, MAIF_HASH_BLAKE3);
    assert_int_equal(maif_hash_parse("sha256", &alg), MAIF_OK);
    assert_int_equal(alg, MAIF_HASH_SHA256);
    assert_int_equal(maif_hash_parse("md5", &alg), MAIF_EINVAL);
    assert_non_null(strstr(maif_last_errmsg(), "blake3"));
    assert_int_equal(maif_hash_parse(NULL, &alg), MAIF_EINVAL);
    assert_string_equal(maif_hash_name(MAIF_HASH_BLAKE3), "blake3");
    assert_string_equal(maif_hash_name(MAIF_HASH_SHA256), "sha256");
    assert_string_equal(maif_hash_name(7), "unknown");
    uint8_t h[MAIF_HASH_BYTES], want[MAIF_HASH_BYTES];
    assert_int_equal(maif_hash(MAIF_HASH_BLAKE3, "", 0, h), MAIF_OK);
    maif_blake3("", 0, want);
    assert_memory_equal(h, want, 32);
    static const uint8_t empty_b3[32] = {0xaf, 0x13, 0x49, 0xb9, 0xf5, 0xf9, 0xa1, 0xa6, 0xa0, 0x40, 0x4d,
                                         0xea, 0x36, 0xdc, 0xc9, 0x49, 0x9b, 0xcb, 0x25, 0xc9, 0xad, 0xc1,
                                         0x12, 0xb7, 0xcc, 0x9a, 0x93, 0xca, 0xe4, 0x1f, 0x32, 0x62};
    assert_memory_equal(h, empty_b3, 32);
    assert_int_equal(maif_hash(2, "x", 1, h), MAIF_EINVAL);
    assert_int_equal(maif_hash(MAIF_HASH_SHA256, NULL, 1, h), MAIF_EINVAL);
    maif_options *o = NULL;
    assert_int_equal(maif_options_create(&o), MAIF_OK);
    assert_int_equal(maif_options_set(o, MAIF_OPT_CONTENT_HASH, 2), MAIF_EINVAL);
    assert_int_equal(maif_options_set(o, MAIF_OPT_CONTENT_HASH, -1), MAIF_EINVAL);
    maif_options_free(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_every_path_blake3, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_every_path_sha256, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_every_path_one_cpu, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_shared_seal, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_tamper_and_header_rules, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_convert_either_way, tu_setup, tu_teardown),
        cmocka_unit_test(test_api),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
