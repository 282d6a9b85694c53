/*
 * test_stream_codecs.c — the codecs beside plain zstd in bounded memory
 * (FORMAT.md §5.6.2, §5.7 "Spooling", §8): a dictionary-zstd block
 * (codec 3) added as a stream (spooled and compressed from the spool with
 * the dictionary, plain and sealed in chunks) decodes whole and to a sink
 * to its payload, byte for byte, and is the same frame format as one
 * added whole; damage to its frame or its dictionary fails with nothing
 * wrong released; and lz4 and shuffle-zstd, which decode only whole, are
 * refused over MAIF_WHOLE_CODEC_MAX by the writer (MAIF_ELIMIT, before
 * memory grows past it) and by the reader (a record claiming more is
 * malformed, MAIF_EFORMAT).
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/native/native.h"
#include "format/native/native_writer.h"
#include "util/common.h"

/* n bytes of records laid end to end (what the dictionary was trained on). */
static uint8_t *records(size_t n, int from)
{
    uint8_t *p = malloc(n ? n : 1);
    assert_non_null(p);
    size_t at = 0;
    for (int i = from; at < n; i++) {
        size_t k;
        char *r = tu_record(i, 1, &k);
        if (k > n - at) k = n - at;
        memcpy(p + at, r, k);
        at += k;
        free(r);
    }
    return p;
}

typedef struct collect {
    uint8_t *buf;
    size_t len, cap;
} collect;
static int collect_write(void *ctx, const void *p, size_t n)
{
    collect *c = ctx;
    if (n > c->cap - c->len) return MAIF_ELIMIT;
    memcpy(c->buf + c->len, p, n);
    c->len += n;
    return 0;
}

#define BIG ((3u << 20) + 11) /* over the 1 MiB spool threshold: spooled, compressed from the spool */

/* Block 0 the dictionary, 1 a key wrap (when sealed), then the payloads:
 * BIG streamed with no size (spooled), BIG streamed with its size
 * announced, BIG added whole, and 5000 bytes streamed (read whole). */
static void write_dict_blocks(const char *path, const maif_key *signer, const maif_key *alice, int cipher,
                              const uint8_t *dict, size_t dn, const uint8_t *pl)
{
    maif_writer *w = NULL;
    maif_keyring *kr = NULL;
    assert_int_equal(maif_writer_create(&w, path, signer, "agent", tu_flag(MAIF_OPT_OVERWRITE)), MAIF_OK);
    assert_int_equal(maif_writer_add_dict(w, dict, dn, 0, NULL), MAIF_OK);
    if (cipher) {
        uint8_t pk[32];
        maif_key_public(alice, pk);
        assert_int_equal(maif_keyring_create(&kr), MAIF_OK);
        assert_int_equal(maif_keyring_add_recipient(kr, pk), MAIF_OK);
        assert_int_equal(maif_writer_encrypt(w, kr, cipher), MAIF_OK);
        assert_int_equal(maif_writer_set_codec(w, MAIF_CODEC_ZSTD_DICT, 0), MAIF_OK);
    }
    const size_t sizes[] = {BIG, BIG, BIG, 5000};
    for (int k = 0; k < 4; k++) {
        maif_block_spec sp = {.type = MAIF_TYPE_BINARY};
        if (k == 2) {
            sp.payload = pl;
            sp.payload_size = sizes[k];
            assert_int_equal(maif_writer_add(w, &sp, NULL), MAIF_OK);
            continue;
        }
        tu_mem_src m = {pl, sizes[k], 0, 7777, 0};
        sp.payload_size = k == 1 ? sizes[k] : 0;
        int rc = maif_writer_add_stream(w, &sp, tu_mem_read, &m, 0, NULL);
        if (rc) fprintf(stderr, "%s\n", maif_writer_errmsg(w));
        assert_int_equal(rc, MAIF_OK);
    }
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    maif_keyring_free(kr);
}

static void test_dict_streamed(void **state)
{
    (void)state;
    maif_key *signer = NULL, *alice = NULL;
    assert_int_equal(maif_key_generate(&signer), MAIF_OK);
    assert_int_equal(maif_key_generate(&alice), MAIF_OK);
    char *dir = tu_tmpdir(), *path = tu_path(dir, "d.maif");
    size_t dn = 0;
    uint8_t *dict = tu_dict_train(8192, 1, &dn), *pl = records(BIG, 1000), *back = malloc(BIG);
    for (int cipher = 0; cipher <= 1; cipher++) {
        write_dict_blocks(path, signer, alice, cipher, dict, dn, pl);
        tu_assert_verifies_clean(path);
        maif_reader *r = NULL;
        maif_keyring *kr = NULL;
        assert_int_equal(maif_reader_open(&r, path), MAIF_OK);
        if (cipher) {
            assert_int_equal(maif_keyring_create(&kr), MAIF_OK);
            assert_int_equal(maif_keyring_add_identity(kr, alice), MAIF_OK);
            assert_int_equal(maif_reader_set_keyring(r, kr), MAIF_OK);
        }
        uint64_t first = cipher ? 2 : 1;
        assert_int_equal(maif_reader_count(r), first + 4);
        const size_t sizes[] = {BIG, BIG, BIG, 5000};
        for (int k = 0; k < 4; k++) {
            maif_block b;
            assert_int_equal(maif_reader_block(r, first + k, &b), MAIF_OK);
            assert_int_equal(b.codec, MAIF_CODEC_ZSTD_DICT);
            if (cipher) assert_int_equal(b.cipher, sizes[k] > 65536 ? 4 : 1);
            assert_true(b.payload_size < sizes[k] / 4); /* the dictionary pays */
            size_t got = 0;
            memset(back, 0, BIG);
            assert_int_equal(maif_reader_block_decode(r, first + k, back, BIG, &got), MAIF_OK);
            assert_int_equal(got, sizes[k]);
            assert_memory_equal(back, pl, sizes[k]);
            memset(back, 0, BIG);
            collect c = {back, 0, BIG};
            assert_int_equal(maif_reader_block_decode_to(r, first + k, collect_write, &c), MAIF_OK);
            assert_int_equal(c.len, sizes[k]);
            assert_memory_equal(back, pl, sizes[k]);
        }
        maif_reader_close(r);
        maif_keyring_free(kr);
    }
    /* damage (plain): a byte of the streamed block's frame, then a byte of
     * the dictionary; re-hashing is not needed for decoding, which is what
     * is under test (verify reports the content hash separately) */
    write_dict_blocks(path, signer, alice, 0, dict, dn, pl);
    size_t flen;
    uint8_t *img = tu_read(path, &flen);
    maif_reader *r = NULL;
    maif_block b, d0;
    assert_int_equal(maif_reader_open_mem(&r, img, flen), MAIF_OK);
    assert_int_equal(maif_reader_block(r, 1, &b), MAIF_OK);
    assert_int_equal(maif_reader_block(r, 0, &d0), MAIF_OK);
    size_t at = (size_t)((const uint8_t *)b.payload - img), dat = (size_t)((const uint8_t *)d0.payload - img);
    size_t bsize = b.payload_size;
    maif_reader_close(r);
    const size_t spots[] = {at + 1, at + bsize / 2, at + bsize - 2, dat + dn / 2};
    for (size_t s = 0; s < sizeof spots / sizeof *spots; s++) {
        img[spots[s]] ^= 0x40;
        assert_int_equal(maif_reader_open_mem(&r, img, flen), MAIF_OK);
        size_t got = 0;
        assert_int_equal(maif_reader_block_decode(r, 1, back, BIG, &got), MAIF_EFORMAT);
        collect c = {back, 0, BIG};
        assert_int_equal(maif_reader_block_decode_to(r, 1, collect_write, &c), MAIF_EFORMAT);
        assert_true(strstr(maif_reader_errmsg(r), "block 1") != NULL);
        maif_reader_close(r);
        img[spots[s]] ^= 0x40;
    }
    free(img);
    free(dict);
    free(pl);
    free(back);
    tu_rmtree(dir);
    free(dir);
    free(path);
    maif_key_free(signer);
    maif_key_free(alice);
}

/* A source of n zero bytes that counts what it gave. */
typedef struct zero_src {
    uint64_t n, given;
} zero_src;
static int64_t zero_read(void *ctx, void *buf, size_t cap)
{
    zero_src *z = ctx;
    uint64_t k = z->n - z->given;
    if (k > cap) k = cap;
    memset(buf, 0, (size_t)k);
    z->given += k;
    return (int64_t)k;
}

static void test_whole_codecs_bounded(void **state)
{
    tu_fixture *f = *state;
    char *path = tu_path(f->dir, "w.maif");
    const uint8_t codecs[] = {MAIF_CODEC_LZ4, MAIF_CODEC_SHUFFLE_ZSTD};
    for (size_t ci = 0; ci < 2; ci++) {
        maif_writer *w = NULL;
        assert_int_equal(maif_writer_create(&w, path, f->key, "agent", tu_flag(MAIF_OPT_OVERWRITE)), MAIF_OK);
        assert_int_equal(maif_writer_set_codec(w, codecs[ci], 0), MAIF_OK);
        /* a stream of unknown size: refused one byte past the limit, not after */
        zero_src z = {MAIF_WHOLE_CODEC_MAX + 1, 0};
        maif_block_spec sp = {.type = MAIF_TYPE_BINARY};
        assert_int_equal(maif_writer_add_stream(w, &sp, zero_read, &z, 0, NULL), MAIF_ELIMIT);
        assert_true(strstr(maif_writer_errmsg(w), "64 MiB") != NULL);
        assert_true(z.given <= MAIF_WHOLE_CODEC_MAX + 1);
        /* announced over the limit: refused before a byte is read */
        zero_src z2 = {MAIF_WHOLE_CODEC_MAX + 1, 0};
        sp.payload_size = (size_t)MAIF_WHOLE_CODEC_MAX + 1;
        assert_int_equal(maif_writer_add_stream(w, &sp, zero_read, &z2, 0, NULL), MAIF_ELIMIT);
        assert_int_equal(z2.given, 0);
        /* exactly the limit is fine; whole, and one over it is not */
        zero_src z3 = {MAIF_WHOLE_CODEC_MAX, 0};
        sp.payload_size = 0;
        assert_int_equal(maif_writer_add_stream(w, &sp, zero_read, &z3, 0, NULL), MAIF_OK);
        uint8_t *big = calloc(1, (size_t)MAIF_WHOLE_CODEC_MAX + 1);
        assert_non_null(big);
        sp.payload = big;
        sp.payload_size = (size_t)MAIF_WHOLE_CODEC_MAX + 1;
        assert_int_equal(maif_writer_add(w, &sp, NULL), MAIF_ELIMIT);
        sp.payload_size = 1000;
        assert_int_equal(maif_writer_add(w, &sp, NULL), MAIF_OK);
        free(big);
        assert_int_equal(maif_writer_commit(w), MAIF_OK);
        assert_int_equal(maif_writer_close(w), MAIF_OK);
        tu_assert_verifies_clean(path);
        /* the reader: block 0 decodes to its 64 MiB; claiming one byte
         * more makes the record malformed */
        size_t flen;
        uint8_t *img = tu_read(path, &flen);
        maif_reader *r = NULL;
        maif_block b;
        assert_int_equal(maif_reader_open_mem(&r, img, flen), MAIF_OK);
        assert_int_equal(maif_reader_block(r, 0, &b), MAIF_OK);
        assert_int_equal(b.codec, codecs[ci]);
        size_t ds = 0;
        assert_int_equal(maif_reader_block_decoded_size(r, 0, &ds), MAIF_OK);
        assert_int_equal(ds, MAIF_WHOLE_CODEC_MAX);
        maif_reader_close(r);
        nat_rec rec;
        nat_ext ext;
        int torn;
        assert_int_equal(nat_rec_parse(img, flen, b.offset, &rec, &torn, NULL, 0), MAIF_OK);
        assert_int_equal(nat_ext_parse(img + rec.ext_off, rec.ext_size, &ext), MAIF_OK);
        assert_int_equal(rd16le(img + rec.ext_off), NAT_EXT_DECODED_SIZE);
        wr64le(img + rec.ext_off + 4, MAIF_WHOLE_CODEC_MAX + 1);
        assert_int_equal(maif_reader_open_mem(&r, img, flen), MAIF_OK);
        assert_int_equal(maif_reader_block_decoded_size(r, 0, &ds), MAIF_EFORMAT);
        assert_true(strstr(maif_reader_errmsg(r), "64 MiB") != NULL);
        size_t got = 0;
        uint8_t small[16];
        assert_int_equal(maif_reader_block_decode(r, 0, small, sizeof small, &got), MAIF_EFORMAT);
        collect c = {small, 0, sizeof small};
        assert_int_equal(maif_reader_block_decode_to(r, 0, collect_write, &c), MAIF_EFORMAT);
        assert_int_equal(c.len, 0);
        maif_reader_close(r);
        free(img);
    }
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dict_streamed),
        cmocka_unit_test_setup_teardown(test_whole_codecs_bounded, tu_setup, tu_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
