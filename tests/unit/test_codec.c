/*
 * test_codec.c — the payload pipeline: the TLV builder and walker (round
 * trips and every malformed case), the stage registry, the none/none
 * pass-through (same bytes as a writer without stages), and test-only
 * stages end to end: a run-length codec that changes the size and a toy
 * authenticated cipher, written, verified (hashes over the stored bytes),
 * viewed (stored bytes and stage ids) and decoded through the public
 * calls; too-small buffers, unknown stages, stray and hostile extensions.
 *
 * The stages here are test fixtures, not algorithms: RLE is (count, byte)
 * pairs, and the "cipher" XORs a keystream made from the nonce and key id
 * and appends an FNV-1a checksum as its tag. They exist to drive every
 * path of the pipeline before the real engines arrive.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/codec.h"
#include "codec/tlv.h"
#include "crypto/crypto.h"
#include "format/native/native.h"
#include "format/native/native_writer.h"
#include "util/common.h"

#define RLE_ID    200
#define XOR_ID    201
#define XOR_NONCE 12
#define XOR_TAG   4

/* ------------------------------------------------------- test stages */

static uint64_t rle_bound(const maif_codec *self, uint64_t n) { (void)self; return 2 * n; }
static uint64_t rle_decoded_max(const maif_codec *self, uint64_t n) { (void)self; return n / 2 * 255; }

static int rle_encode(const maif_codec *self, void **state, int level, void *dst, size_t cap, const void *src, size_t n, size_t *written)
{
    (void)self;
    const uint8_t *s = src;
    uint8_t *d = dst;
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        size_t run = 1;
        while (i + run < n && run < 255 && s[i + run] == s[i]) run++;
        if (cap - o < 2) return MAIF_ELIMIT;
        d[o++] = (uint8_t)run;
        d[o++] = s[i];
        i += run;
    }
    *written = o;
    return MAIF_OK;
}

static int rle_decode(const maif_codec *self, void *dst, size_t cap, const void *src, size_t n, size_t *written)
{
    (void)self;
    const uint8_t *s = src;
    uint8_t *d = dst;
    size_t o = 0;
    if (n % 2) return MAIF_EFORMAT;
    for (size_t i = 0; i < n; i += 2) {
        if (s[i] == 0) return MAIF_EFORMAT;
        if (cap - o < s[i]) return MAIF_ELIMIT;
        memset(d + o, s[i + 1], s[i]);
        o += s[i];
    }
    *written = o;
    return MAIF_OK;
}

static const maif_codec rle = {RLE_ID, "test-rle", rle_bound, rle_decoded_max, rle_encode, rle_decode, NULL, 0, 0, 1, NULL, NULL, NULL};
/* (always: these tests exercise the pipeline with outputs larger than their input) */

static uint32_t fnv(uint32_t h, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u;
    return h;
}

static uint32_t xor_tag(const maif_cipher_params *p, const uint8_t *ct, size_t n)
{
    uint32_t h = 2166136261u;
    h = fnv(h, p->ad, p->ad_len);
    h = fnv(h, p->key_id, p->key_id_len);
    h = fnv(h, p->nonce, XOR_NONCE);
    return fnv(h, ct, n);
}

static void xor_stream(const maif_cipher_params *p, uint8_t *d, const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n; i++) d[i] = s[i] ^ p->nonce[i % XOR_NONCE] ^ p->key_id[i % p->key_id_len] ^ (uint8_t)i;
}

static int xor_seal(const maif_cipher *self, const maif_cipher_params *p, void *dst, size_t cap, const void *src,
                    size_t n, size_t *written)
{
    (void)self;
    if (cap < n + XOR_TAG) return MAIF_ELIMIT;
    xor_stream(p, dst, src, n);
    wr32le((uint8_t *)dst + n, xor_tag(p, dst, n));
    *written = n + XOR_TAG;
    return MAIF_OK;
}

static int xor_open(const maif_cipher *self, const maif_cipher_params *p, void *dst, size_t cap, const void *src,
                    size_t n, size_t *written)
{
    (void)self;
    if (n < XOR_TAG || cap < n - XOR_TAG) return MAIF_ELIMIT;
    const uint8_t *s = src;
    if (rd32le(s + n - XOR_TAG) != xor_tag(p, s, n - XOR_TAG)) return MAIF_EVERIFY;
    xor_stream(p, dst, s, n - XOR_TAG);
    *written = n - XOR_TAG;
    return MAIF_OK;
}

static const maif_cipher xorc = {XOR_ID, "test-xor", XOR_NONCE, XOR_TAG, xor_seal, xor_open, NULL, NULL, NULL, 0, 0, 0,
                                 NULL, NULL};

/* ------------------------------------------------------------- helpers */

/* tu_setup, with the test codec and cipher registered (once per process). */
static int setup(void **state)
{
    if (tu_setup(state) != 0) return -1;
    if (!maif_codec_find(RLE_ID) && maif_codec_register(&rle) != MAIF_OK) return -1;
    if (!maif_cipher_find(XOR_ID) && maif_cipher_register(&xorc) != MAIF_OK) return -1;
    return 0;
}

/* Number of findings at severity or above. */
static size_t findings_at_least(const maif_report *r, int severity)
{
    size_t n = 0;
    for (size_t i = 0; i < maif_report_count(r); i++)
        if (maif_report_finding(r, i)->severity >= severity) n++;
    return n;
}

static maif_report *verify_mem(const uint8_t *img, size_t n)
{
    maif_report *rep = NULL;
    assert_int_equal(maif_verify_mem(img, n, NULL, &rep), MAIF_OK);
    return rep;
}

/* Compressible, with runs longer than 255 and single bytes between. */
static uint8_t *runs(size_t n, unsigned seed)
{
    uint8_t *p = malloc(n ? n : 1);
    assert_non_null(p);
    for (size_t i = 0; i < n; i++) p[i] = (uint8_t)('a' + ((i / (37 + seed) + seed) % 5));
    if (n > 10) p[n / 2] = 0xff;
    return p;
}

/* The extension area of the block record at off in an image. */
static void block_ext(const uint8_t *img, size_t n, uint64_t off, nat_ext *ext, nat_rec *rec)
{
    int torn;
    assert_int_equal(nat_rec_parse(img, n, off, rec, &torn, NULL, 0), MAIF_OK);
    assert_int_equal(nat_ext_parse(img + rec->ext_off, rec->ext_size, ext), MAIF_OK);
}

/* ------------------------------------------------------- TLV builder */

static void test_tlv_roundtrip(void **state)
{
    (void)state;
    uint8_t area[64], id[16];
    for (int i = 0; i < 16; i++) id[i] = (uint8_t)(i * 7);
    maif_tlv_builder b;
    maif_tlv_builder_init(&b, area, sizeof area);
    assert_int_equal(maif_tlv_put(&b, 0x0001, id, sizeof id), MAIF_OK);
    assert_int_equal(maif_tlv_put_u64(&b, 0x0002, 0x0102030405060708ull), MAIF_OK);
    assert_int_equal(maif_tlv_put(&b, 0x0040, NULL, 0), MAIF_OK); /* an empty value is allowed */
    assert_int_equal(maif_tlv_put(&b, 0x8003, "k", 1), MAIF_OK);
    assert_int_equal(b.len, 4 + 16 + 4 + 8 + 4 + 0 + 4 + 1);
    assert_ptr_equal(maif_tlv_builder_data(&b), area);
    /* the wire form: u16 tag, u16 length, value, little-endian */
    assert_int_equal(rd16le(area), 1);
    assert_int_equal(rd16le(area + 2), 16);
    assert_memory_equal(area + 4, id, 16);
    assert_int_equal(rd16le(area + 20), 2);
    assert_int_equal(rd64le(area + 24), 0x0102030405060708ull);

    /* the iterator gives every entry in order */
    maif_tlv_iter it;
    maif_tlv e;
    maif_tlv_iter_init(&it, area, b.len);
    const uint16_t tags[] = {0x0001, 0x0002, 0x0040, 0x8003};
    const uint16_t lens[] = {16, 8, 0, 1};
    for (int k = 0; k < 4; k++) {
        assert_int_equal(maif_tlv_next(&it, &e), 1);
        assert_int_equal(e.tag, tags[k]);
        assert_int_equal(e.len, lens[k]);
        assert_ptr_equal(e.value, area + e.off + 4);
    }
    assert_int_equal(maif_tlv_next(&it, &e), 0);
    assert_int_equal(maif_tlv_next(&it, &e), 0);

    /* parse against rules: known tags found, unknown critical reported, unknown plain skipped */
    const maif_tlv_rule rules[] = {{0x0001, 16, 16}, {0x0002, 8, 8}, {0x0005, 1, 4}};
    maif_tlv f[3];
    maif_tlv_report rep;
    assert_int_equal(maif_tlv_parse(area, b.len, rules, 3, f, &rep), MAIF_OK);
    assert_int_equal(rep.problem, MAIF_TLV_OK);
    assert_memory_equal(f[0].value, id, 16);
    assert_int_equal(rd64le(f[1].value), 0x0102030405060708ull);
    assert_null(f[2].value);
    assert_int_equal(rep.critical_unknown, 1);
    assert_int_equal(rep.critical_tag, 0x8003);
    assert_int_equal(rep.critical_off, 4 + 16 + 4 + 8 + 4);

    /* the empty area */
    assert_int_equal(maif_tlv_parse(NULL, 0, rules, 3, f, &rep), MAIF_OK);
    assert_null(f[0].value);
    assert_int_equal(rep.critical_unknown, 0);
    maif_tlv_iter_init(&it, NULL, 0);
    assert_int_equal(maif_tlv_next(&it, &e), 0);
}

static void test_tlv_builder_errors(void **state)
{
    (void)state;
    uint8_t area[24];
    maif_tlv_builder b;
    maif_tlv_builder_init(&b, area, sizeof area);
    assert_int_equal(maif_tlv_put(&b, 0, "x", 1), MAIF_EINVAL); /* tag 0 */
    maif_tlv_builder_init(&b, area, sizeof area);
    assert_int_equal(maif_tlv_put(&b, 7, NULL, 3), MAIF_EINVAL); /* no value */
    maif_tlv_builder_init(&b, area, sizeof area);
    assert_int_equal(maif_tlv_put(&b, 7, "abc", 3), MAIF_OK);
    assert_int_equal(maif_tlv_put(&b, 7, "d", 1), MAIF_EINVAL); /* duplicate */
    assert_int_equal(maif_tlv_put(&b, 8, "d", 1), MAIF_EINVAL); /* the first error sticks */
    assert_int_equal(b.len, 7);

    /* capacity: 24 bytes hold 7 + 17, not one byte more */
    maif_tlv_builder_init(&b, area, sizeof area);
    assert_int_equal(maif_tlv_put(&b, 1, "abc", 3), MAIF_OK);
    uint8_t v[13] = {0};
    assert_int_equal(maif_tlv_put(&b, 2, v, 13), MAIF_OK);
    assert_int_equal(b.len, 24);
    assert_int_equal(maif_tlv_put(&b, 3, NULL, 0), MAIF_ELIMIT);
    maif_tlv_builder_init(&b, area, sizeof area);
    assert_int_equal(maif_tlv_put(&b, 1, v, 13), MAIF_OK);
    assert_int_equal(maif_tlv_put(&b, 2, v, 8), MAIF_ELIMIT); /* 17 + 12 > 24 */
    assert_int_equal(b.len, 17);
    maif_tlv_builder_init(&b, NULL, 100); /* no buffer: capacity 0 */
    assert_int_equal(maif_tlv_put(&b, 1, NULL, 0), MAIF_ELIMIT);

    /* into a maif_buf, after bytes already there; bounded by max */
    maif_buf buf = {0};
    assert_int_equal(maif_buf_append(&buf, "HEAD", 4), MAIF_OK);
    maif_tlv_builder_init_buf(&b, &buf, 70000);
    uint8_t *big = calloc(1, 70000);
    assert_non_null(big);
    assert_int_equal(maif_tlv_put(&b, 9, big, 65536), MAIF_ELIMIT); /* a length is a u16 */
    maif_tlv_builder_init_buf(&b, &buf, 70000);
    assert_int_equal(maif_tlv_put(&b, 9, big, 65535), MAIF_OK);
    assert_int_equal(maif_tlv_put(&b, 10, big, 5000), MAIF_ELIMIT); /* 65539 + 5004 > 70000 */
    assert_int_equal(buf.len, 4 + 4 + 65535);
    assert_memory_equal(buf.data, "HEAD", 4);
    assert_ptr_equal(maif_tlv_builder_data(&b), buf.data + 4);
    maif_tlv f[1];
    const maif_tlv_rule r9 = {9, 0, 65535};
    assert_int_equal(maif_tlv_parse(buf.data + 4, buf.len - 4, &r9, 1, f, NULL), MAIF_OK);
    assert_int_equal(f[0].len, 65535);
    free(big);
    maif_buf_free(&buf);
}

/* ------------------------------------------------------- TLV walker */

typedef struct bad_area {
    const char *what;
    uint8_t bytes[40];
    size_t n;
    maif_tlv_problem problem;
    size_t off;
} bad_area;

static void test_tlv_malformed(void **state)
{
    (void)state;
    const maif_tlv_rule rules[] = {{0x0001, 2, 2}, {0x0002, 0, 3}};
    const bad_area cases[] = {
        {"1-byte area", {0x01}, 1, MAIF_TLV_TRUNCATED, 0},
        {"3-byte area", {0x01, 0x00, 0x02}, 3, MAIF_TLV_TRUNCATED, 0},
        {"entry then 2 bytes", {0x01, 0x00, 0x02, 0x00, 'a', 'b', 0x02, 0x00}, 8, MAIF_TLV_TRUNCATED, 6},
        {"length past the end", {0x02, 0x00, 0x03, 0x00, 'a', 'b'}, 6, MAIF_TLV_OVERRUN, 0},
        {"huge length", {0x02, 0x00, 0xff, 0xff, 'a'}, 5, MAIF_TLV_OVERRUN, 0},
        {"tag 0", {0x00, 0x00, 0x00, 0x00}, 4, MAIF_TLV_ZERO_TAG, 0},
        {"known tag twice", {0x01, 0x00, 0x02, 0x00, 'a', 'b', 0x01, 0x00, 0x02, 0x00, 'c', 'd'}, 12,
         MAIF_TLV_DUPLICATE, 6},
        {"unknown tag twice", {0x33, 0x00, 0x00, 0x00, 0x33, 0x00, 0x00, 0x00}, 8, MAIF_TLV_DUPLICATE, 4},
        {"unknown critical tag twice", {0x33, 0x80, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x33, 0x80, 0x00, 0x00}, 12,
         MAIF_TLV_DUPLICATE, 8},
        {"known tag, short", {0x01, 0x00, 0x01, 0x00, 'a'}, 5, MAIF_TLV_BAD_LENGTH, 0},
        {"known tag, long", {0x02, 0x00, 0x04, 0x00, 'a', 'b', 'c', 'd'}, 8, MAIF_TLV_BAD_LENGTH, 0},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const bad_area *c = &cases[k];
        maif_tlv f[2];
        maif_tlv_report rep;
        int rc = maif_tlv_parse(c->bytes, c->n, rules, 2, f, &rep);
        if (rc != MAIF_EFORMAT || rep.problem != c->problem || rep.off != c->off)
            fail_msg("%s: rc %d, problem %d (%s) at %zu; want %d at %zu", c->what, rc, rep.problem,
                     maif_tlv_problem_str(rep.problem), rep.off, c->problem, c->off);
        assert_string_not_equal(maif_tlv_problem_str(rep.problem), "unknown problem");
    }
    /* the walk goes on past a non-structural problem, so found[] is complete */
    const uint8_t z[] = {0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x02, 0x00, 'x', 'y'};
    maif_tlv f[2];
    maif_tlv_report rep;
    assert_int_equal(maif_tlv_parse(z, sizeof z, rules, 2, f, &rep), MAIF_EFORMAT);
    assert_int_equal(rep.problem, MAIF_TLV_ZERO_TAG);
    assert_non_null(f[0].value);
    assert_memory_equal(f[0].value, "xy", 2);

    /* the iterator stops on a structural problem and says where */
    maif_tlv_iter it;
    maif_tlv e;
    maif_tlv_iter_init(&it, cases[2].bytes, cases[2].n);
    assert_int_equal(maif_tlv_next(&it, &e), 1);
    assert_int_equal(maif_tlv_next(&it, &e), MAIF_EFORMAT);
    assert_int_equal(e.off, 6);

    /* every prefix of a valid area is either valid (cut at an entry
     * boundary) or refused, never read past its end (ASan watches: each
     * prefix lives in a buffer of exactly its size) */
    uint8_t area[64];
    maif_tlv_builder b;
    maif_tlv_builder_init(&b, area, sizeof area);
    assert_int_equal(maif_tlv_put(&b, 1, "ab", 2), MAIF_OK);
    assert_int_equal(maif_tlv_put(&b, 0x8009, "0123456789", 10), MAIF_OK);
    assert_int_equal(maif_tlv_put(&b, 2, "xyz", 3), MAIF_OK);
    for (size_t n = 0; n <= b.len; n++) {
        uint8_t *p = malloc(n ? n : 1);
        assert_non_null(p);
        memcpy(p, area, n);
        int rc = maif_tlv_parse(p, n, rules, 2, f, &rep);
        int boundary = n == 0 || n == 6 || n == 20 || n == 27;
        assert_int_equal(rc, boundary ? MAIF_OK : MAIF_EFORMAT);
        if (!boundary) assert_true(rep.problem == MAIF_TLV_TRUNCATED || rep.problem == MAIF_TLV_OVERRUN);
        free(p);
    }
}

/* ------------------------------------------------------- registry */

static void test_registry(void **state)
{
    (void)state;
    maif_codec c = rle;
    c.id = 0;
    assert_int_equal(maif_codec_register(&c), MAIF_EINVAL); /* 0 is "none" */
    assert_int_equal(maif_codec_register(NULL), MAIF_EINVAL);
    c.id = 77;
    c.decode = NULL;
    assert_int_equal(maif_codec_register(&c), MAIF_EINVAL);
    c = rle;
    c.id = 77;
    assert_false(maif_codec_known(77));
    assert_null(maif_codec_find(77));
    assert_int_equal(maif_codec_register(&c), MAIF_OK);
    assert_int_equal(maif_codec_register(&c), MAIF_EEXIST);
    assert_ptr_equal(maif_codec_find(77), &c);
    assert_true(maif_codec_known(77));
    assert_true(maif_codec_known(0));
    assert_null(maif_codec_find(0));
    maif_codec_unregister(77);
    assert_false(maif_codec_known(77));
    maif_codec_unregister(0); /* no-op */

    maif_cipher k = xorc;
    k.id = 78;
    k.nonce_size = MAIF_NONCE_MAX + 1;
    assert_int_equal(maif_cipher_register(&k), MAIF_EINVAL);
    k.nonce_size = 0;
    assert_int_equal(maif_cipher_register(&k), MAIF_EINVAL);
    k.nonce_size = 8;
    k.id = 0;
    assert_int_equal(maif_cipher_register(&k), MAIF_EINVAL);
    k.id = 78;
    assert_int_equal(maif_cipher_register(&k), MAIF_OK);
    assert_int_equal(maif_cipher_register(&k), MAIF_EEXIST);
    assert_true(maif_cipher_known(78));
    maif_cipher_unregister(78);
    assert_false(maif_cipher_known(78));
    assert_true(maif_cipher_known(0));
}

/* ------------------------------------------------- none/none: same bytes */

/* Writes the same blocks (fixed ids and timestamps, a supersedes link, a
 * large payload) with a writer that never heard of stages, and with one
 * whose stages were set to a codec and back to none. Everything but the
 * file id, the commit times and what they feed (record hashes from the
 * first record on, the signatures) must be the same; so the block records
 * are compared byte for byte after normalising the header's file id. */
static void write_fixed(const char *path, const maif_key *key, int toggle_stages)
{
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, path, key, "fixed", tu_flag(MAIF_OPT_OVERWRITE)), MAIF_OK);
    if (toggle_stages) {
        maif_stage_config cfg = {.codec = RLE_ID};
        assert_int_equal(nat_writer_set_stages(w, &cfg), MAIF_OK);
        assert_int_equal(nat_writer_set_stages(w, NULL), MAIF_OK);
    }
    uint8_t id[3][16];
    for (int i = 0; i < 3; i++) memset(id[i], 0x40 + i, 16);
    uint8_t *big = runs(300000, 1);
    maif_block_spec s[3] = {
        {.type = MAIF_TYPE_TEXT, .payload = "hello", .payload_size = 5, .meta_json = "{\"b\":1,\"a\":2}",
         .meta_size = 13, .id = id[0], .timestamp_us = 1700000000000001ull},
        {.type = MAIF_TYPE_BINARY, .payload = big, .payload_size = 300000, .id = id[1],
         .timestamp_us = 1700000000000002ull},
        {.type = MAIF_TYPE_TEXT, .payload = "hello 2", .payload_size = 7, .supersedes = id[0], .id = id[2],
         .timestamp_us = 1700000000000003ull},
    };
    for (int i = 0; i < 3; i++) assert_int_equal(maif_writer_add(w, &s[i], NULL), MAIF_OK);
    assert_int_equal(maif_writer_add_borrowed(w, &s[0], NULL), MAIF_OK);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    free(big);
}

static void test_none_is_byte_identical(void **state)
{
    tu_fixture *f = *state;
    char *p2 = tu_path(f->dir, "b.maif");
    write_fixed(f->path, f->key, 0);
    write_fixed(p2, f->key, 1);
    size_t n1, n2;
    uint8_t *a = tu_read(f->path, &n1), *b = tu_read(p2, &n2);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(n1, n2);
    maif_reader *r1, *r2;
    assert_int_equal(maif_reader_open_mem(&r1, a, n1), MAIF_OK);
    assert_int_equal(maif_reader_open_mem(&r2, b, n2), MAIF_OK);
    assert_int_equal(maif_reader_count(r1), 4);
    for (uint64_t i = 0; i < 4; i++) {
        maif_block x, y;
        assert_int_equal(maif_reader_block(r1, i, &x), MAIF_OK);
        assert_int_equal(maif_reader_block(r2, i, &y), MAIF_OK);
        assert_int_equal(x.offset, y.offset);
        assert_int_equal(x.codec, 0);
        assert_int_equal(y.cipher, 0);
        /* the record, but for its record hash (it chains from the header, whose file id is random) */
        int torn;
        nat_rec rec;
        assert_int_equal(nat_rec_parse(a, n1, x.offset, &rec, &torn, NULL, 0), MAIF_OK);
        assert_memory_equal(a + rec.off, b + rec.off, NR_RECORD_HASH);
        assert_memory_equal(a + rec.ext_off, b + rec.ext_off, rec.end - rec.ext_off);
        assert_int_equal(rec.ext_size, i == 2 ? 4 + MAIF_ID_BYTES : 0); /* only the supersedes TLV */
        assert_int_equal(rec.stored_size, x.payload_size);
        /* plain blocks decode to their stored bytes */
        size_t ds = 0, wr = 0;
        assert_int_equal(maif_reader_block_decoded_size(r1, i, &ds), MAIF_OK);
        assert_int_equal(ds, x.payload_size);
        uint8_t *d = malloc(ds);
        assert_non_null(d);
        assert_int_equal(maif_reader_block_decode(r1, i, d, ds, &wr), MAIF_OK);
        assert_int_equal(wr, ds);
        assert_memory_equal(d, x.payload, ds);
        free(d);
    }
    maif_reader_close(r1);
    maif_reader_close(r2);
    free(a);
    free(b);
    free(p2);
}

/* ------------------------------------------------------- end to end */

typedef struct sample {
    uint8_t *data;
    size_t n;
} sample;

static void test_codec_end_to_end(void **state)
{
    tu_fixture *f = *state;
    sample s[5] = {
        {runs(1000, 0), 1000},
        {NULL, 0},             /* empty payload */
        {runs(300000, 2), 300000}, /* large, compresses to a small record */
        {malloc(200000), 200000}, /* incompressible: RLE doubles it to 400000 stored bytes, which take the
                                     writer's large-payload path (the arena, or a direct write) */
        {runs(77, 3), 77},     /* written with no stage, in the same batch */
    };
    assert_non_null(s[3].data);
    for (size_t i = 0; i < s[3].n; i++) s[3].data[i] = (uint8_t)(i * 31 + (i >> 3));
    uint8_t ids[5][16];
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->key, "codec", NULL), MAIF_OK);
    maif_stage_config cfg = {.codec = RLE_ID};
    assert_int_equal(nat_writer_set_stages(w, &cfg), MAIF_OK);
    for (int i = 0; i < 5; i++) {
        if (i == 4) assert_int_equal(nat_writer_set_stages(w, NULL), MAIF_OK);
        maif_block_spec sp = {.type = MAIF_TYPE_BINARY, .payload = s[i].data, .payload_size = s[i].n};
        /* borrowed with stages is consumed at once (the stored bytes are the writer's) */
        int rc = i == 3 ? maif_writer_add_borrowed(w, &sp, ids[i]) : maif_writer_add(w, &sp, ids[i]);
        assert_int_equal(rc, MAIF_OK);
    }
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);

    /* verify: every hash is over the stored bytes; the codec is known */
    assert_int_equal(tu_assert_verifies_clean(f->path), 5);

    size_t img_n;
    uint8_t *img = tu_read(f->path, &img_n);
    assert_non_null(img);
    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    for (int i = 0; i < 5; i++) {
        maif_block b;
        assert_int_equal(maif_reader_block(r, (uint64_t)i, &b), MAIF_OK);
        assert_memory_equal(b.id, ids[i], 16);
        assert_int_equal(b.codec, i == 4 ? 0 : RLE_ID);
        assert_int_equal(b.cipher, 0);
        /* the view is the stored bytes: the RLE form */
        uint8_t *enc = malloc(2 * s[i].n + 1);
        if (i == 3) assert_int_equal(b.payload_size, 400000);
        size_t en = 0;
        assert_non_null(enc);
        if (i == 4) {
            memcpy(enc, s[i].data, s[i].n);
            en = s[i].n;
        } else {
            assert_int_equal(rle_encode(&rle, NULL, 0, enc, 2 * s[i].n, s[i].data, s[i].n, &en), MAIF_OK);
        }
        assert_int_equal(b.payload_size, en);
        if (en) assert_memory_equal(b.payload, enc, en);
        uint8_t h[32];
        maif_sha256(b.payload, b.payload_size, h);
        assert_memory_equal(h, b.content_hash, 32);
        free(enc);
        /* the extension area: a decoded_size TLV iff a codec is on */
        nat_ext ext;
        nat_rec rec;
        block_ext(img, img_n, b.offset, &ext, &rec);
        assert_int_equal(ext.has_decoded_size, i != 4);
        if (i != 4) assert_int_equal(ext.decoded_size, s[i].n);
        assert_null(ext.key_id);
        assert_null(ext.nonce);
        /* and the decode call gives the original back */
        size_t ds = 99, wr = 99;
        assert_int_equal(maif_reader_block_decoded_size(r, (uint64_t)i, &ds), MAIF_OK);
        assert_int_equal(ds, s[i].n);
        uint8_t *d = malloc(s[i].n + 8);
        assert_non_null(d);
        assert_int_equal(maif_reader_block_decode(r, (uint64_t)i, d, s[i].n + 8, &wr), MAIF_OK);
        assert_int_equal(wr, s[i].n);
        if (wr) assert_memory_equal(d, s[i].data, wr);
        /* too small: MAIF_ELIMIT, the size needed, and nothing written */
        if (s[i].n) {
            memset(d, 0xee, s[i].n + 8);
            wr = 0;
            assert_int_equal(maif_reader_block_decode(r, (uint64_t)i, d, s[i].n - 1, &wr), MAIF_ELIMIT);
            assert_int_equal(wr, s[i].n);
            for (size_t k = 0; k < s[i].n + 8; k++) assert_int_equal(d[k], 0xee);
            assert_true(strstr(maif_reader_errmsg(r), "needs") != NULL);
            wr = 0;
            assert_int_equal(maif_reader_block_decode(r, (uint64_t)i, NULL, 0, &wr), MAIF_ELIMIT);
            assert_int_equal(wr, s[i].n);
        } else {
            assert_int_equal(maif_reader_block_decode(r, (uint64_t)i, NULL, 0, &wr), MAIF_OK);
            assert_int_equal(wr, 0);
        }
        free(d);
    }
    /* bad arguments and indices */
    size_t wr = 0, ds = 0;
    uint8_t one[1];
    assert_int_equal(maif_reader_block_decode(r, 5, one, 1, &wr), MAIF_ENOTFOUND);
    assert_int_equal(maif_reader_block_decoded_size(r, 5, &ds), MAIF_ENOTFOUND);
    assert_int_equal(maif_reader_block_decode(r, 0, NULL, 5, &wr), MAIF_EINVAL);
    assert_int_equal(maif_reader_block_decode(r, 0, one, 1, NULL), MAIF_EINVAL);
    assert_int_equal(maif_reader_block_decode(NULL, 0, one, 1, &wr), MAIF_EINVAL);
    assert_int_equal(maif_reader_block_decoded_size(r, 0, NULL), MAIF_EINVAL);
    assert_int_equal(maif_reader_block_decoded_size(NULL, 0, &ds), MAIF_EINVAL);
    maif_reader_close(r);

    /* the codec unknown (unregistered): the view and verify still work,
     * decoding gives MAIF_EUNSUPPORTED */
    maif_codec_unregister(RLE_ID);
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    maif_block b;
    assert_int_equal(maif_reader_block(r, 0, &b), MAIF_OK);
    assert_int_equal(b.codec, RLE_ID);
    assert_int_equal(maif_reader_block_decoded_size(r, 0, &ds), MAIF_EUNSUPPORTED);
    assert_int_equal(maif_reader_block_decode(r, 0, one, 1, &wr), MAIF_EUNSUPPORTED);
    assert_true(strstr(maif_reader_errmsg(r), "codec 200") != NULL);
    assert_int_equal(maif_reader_block_decode(r, 4, s[4].data, s[4].n, &wr), MAIF_OK); /* plain ones still do */
    maif_reader_close(r);
    maif_report *rep = NULL;
    assert_int_equal(maif_verify_file(f->path, NULL, &rep), MAIF_OK);
    assert_true(maif_report_ok(rep));
    assert_true(tu_has_code(rep, "unsupported", MAIF_SEV_WARNING));
    assert_int_equal(findings_at_least(rep, MAIF_SEV_ERROR), 0);
    maif_report_free(rep);
    /* a writer cannot be set to it, and one set before it went refuses blocks but lives on */
    assert_int_equal(maif_writer_open(&w, f->path, f->key, NULL), MAIF_OK);
    assert_int_equal(nat_writer_set_stages(w, &cfg), MAIF_EUNSUPPORTED);
    assert_int_equal(maif_codec_register(&rle), MAIF_OK);
    assert_int_equal(nat_writer_set_stages(w, &cfg), MAIF_OK);
    maif_codec_unregister(RLE_ID);
    maif_block_spec sp = {.type = MAIF_TYPE_TEXT, .payload = "x", .payload_size = 1};
    assert_int_equal(maif_writer_add(w, &sp, NULL), MAIF_EUNSUPPORTED);
    assert_int_equal(maif_codec_register(&rle), MAIF_OK);
    assert_int_equal(maif_writer_add(w, &sp, NULL), MAIF_OK);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_count(w), 6);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    assert_int_equal(maif_verify_file(f->path, NULL, &rep), MAIF_OK);
    assert_true(maif_report_ok(rep));
    maif_report_free(rep);

    free(img);
    for (int i = 0; i < 5; i++) free(s[i].data);
}

/* Codec then cipher: the stored bytes are seal(rle(payload)), with the
 * decoded size, key id and nonce in the extension area. */
static void test_codec_then_cipher(void **state)
{
    tu_fixture *f = *state;
    uint8_t *p = runs(5000, 4);
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->key, "sealed", NULL), MAIF_OK);
    maif_stage_config cfg = {.codec = RLE_ID, .cipher = XOR_ID};
    assert_int_equal(nat_writer_set_stages(w, &cfg), MAIF_EINVAL); /* a cipher needs a key id */
    uint8_t kid[MAIF_KEY_ID_MAX + 1];
    memset(kid, 'k', sizeof kid);
    cfg.key_id = kid;
    cfg.key_id_len = sizeof kid;
    assert_int_equal(nat_writer_set_stages(w, &cfg), MAIF_EINVAL); /* too long */
    cfg.key_id = (const uint8_t *)"team-key-1";
    cfg.key_id_len = 10;
    assert_int_equal(nat_writer_set_stages(w, &cfg), MAIF_OK);
    uint8_t id[16] = {1, 2, 3};
    maif_block_spec sp = {.type = MAIF_TYPE_TEXT, .payload = p, .payload_size = 5000, .id = id};
    assert_int_equal(maif_writer_add(w, &sp, NULL), MAIF_OK);
    cfg.codec = 0; /* cipher alone */
    assert_int_equal(nat_writer_set_stages(w, &cfg), MAIF_OK);
    sp.id = NULL;
    sp.payload_size = 333;
    assert_int_equal(maif_writer_add(w, &sp, NULL), MAIF_OK);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    tu_assert_verifies_clean(f->path);

    size_t n;
    uint8_t *img = tu_read(f->path, &n);
    assert_non_null(img);
    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open_mem(&r, img, n), MAIF_OK);
    maif_block b;
    assert_int_equal(maif_reader_block(r, 0, &b), MAIF_OK);
    assert_int_equal(b.codec, RLE_ID);
    assert_int_equal(b.cipher, XOR_ID);
    nat_ext ext;
    nat_rec rec;
    block_ext(img, n, b.offset, &ext, &rec);
    assert_true(ext.has_decoded_size);
    assert_int_equal(ext.decoded_size, 5000);
    assert_int_equal(ext.key_id_len, 10);
    assert_memory_equal(ext.key_id, "team-key-1", 10);
    assert_int_equal(ext.nonce_len, XOR_NONCE);
    /* the order: rle first, then the cipher over its output */
    uint8_t enc[10000], place[MAIF_STAGE_AD_BYTES], ad[MAIF_CIPHER_AD_MAX];
    size_t en;
    assert_int_equal(rle_encode(&rle, NULL, 0, enc, sizeof enc, p, 5000, &en), MAIF_OK);
    assert_int_equal(b.payload_size, en + XOR_TAG);
    nat_stage_ad(img + NH_FILE_ID, rec.hdr, place);
    assert_memory_equal(place + 16, id, 16);
    /* the cipher's associated data: place ‖ cipher ‖ decoded ‖ sealed input ‖ key id (FORMAT.md §5.6) */
    size_t adn = 0;
    memcpy(ad, place, sizeof place);
    adn += sizeof place;
    ad[adn++] = XOR_ID;
    for (int i = 0; i < 8; i++) ad[adn++] = (uint8_t)((uint64_t)5000 >> (8 * i));
    for (int i = 0; i < 8; i++) ad[adn++] = (uint8_t)((uint64_t)en >> (8 * i));
    ad[adn++] = 10;
    memcpy(ad + adn, "team-key-1", 10);
    adn += 10;
    maif_cipher_params cp = {NULL, ext.key_id, ext.key_id_len, ext.nonce, ad, adn};
    uint8_t plain[10000];
    size_t pn;
    assert_int_equal(xor_open(&xorc, &cp, plain, sizeof plain, b.payload, b.payload_size, &pn), MAIF_OK);
    assert_int_equal(pn, en);
    assert_memory_equal(plain, enc, en);

    uint8_t out[5000];
    size_t wr;
    assert_int_equal(maif_reader_block_decode(r, 0, out, sizeof out, &wr), MAIF_OK);
    assert_int_equal(wr, 5000);
    assert_memory_equal(out, p, 5000);
    assert_int_equal(maif_reader_block(r, 1, &b), MAIF_OK);
    assert_int_equal(b.codec, 0);
    assert_int_equal(b.cipher, XOR_ID);
    assert_int_equal(b.payload_size, 333 + XOR_TAG);
    assert_int_equal(maif_reader_block_decode(r, 1, out, sizeof out, &wr), MAIF_OK);
    assert_int_equal(wr, 333);
    assert_memory_equal(out, p, 333);
    maif_reader_close(r);

    /* a flipped stored byte: verify sees the content hash, decode fails
     * authentication and releases nothing */
    assert_int_equal(maif_reader_open_mem(&r, img, n), MAIF_OK);
    assert_int_equal(maif_reader_block(r, 1, &b), MAIF_OK);
    img[b.payload - img + 5] ^= 0x20;
    memset(out, 0x55, sizeof out);
    assert_int_equal(maif_reader_block_decode(r, 1, out, sizeof out, &wr), MAIF_EVERIFY);
    assert_true(strstr(maif_reader_errmsg(r), "authentication failed") != NULL);
    for (size_t k = 0; k < 333; k++) assert_int_equal(out[k], 0);
    maif_report *rep = verify_mem(img, n);
    assert_false(maif_report_ok(rep));
    assert_true(tu_has_code(rep, "content-hash", MAIF_SEV_ERROR));
    maif_report_free(rep);
    maif_reader_close(r);

    /* the cipher unknown: the view works, decoding is unsupported */
    maif_cipher_unregister(XOR_ID);
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    assert_int_equal(maif_reader_block(r, 1, &b), MAIF_OK);
    assert_int_equal(maif_reader_block_decode(r, 1, out, sizeof out, &wr), MAIF_EUNSUPPORTED);
    maif_reader_close(r);
    assert_int_equal(maif_cipher_register(&xorc), MAIF_OK);
    free(img);
    free(p);
}

/* zstd under the cipher: a payload that compresses is stored codec 1; one
 * that does not is stored codec 0, still sealed, and the associated data
 * names codec 0 (else it would not open); both decode. */
static void test_skip_under_cipher(void **state)
{
    tu_fixture *f = *state;
    uint8_t *text = runs(6000, 7), *noise = malloc(6000);
    assert_non_null(noise);
    tu_pattern(noise, 6000, 3);
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->key, NULL, NULL), MAIF_OK);
    maif_stage_config cfg = {.codec = MAIF_CODEC_ZSTD, .cipher = XOR_ID, .key_id = (const uint8_t *)"k1",
                             .key_id_len = 2};
    assert_int_equal(nat_writer_set_stages(w, &cfg), MAIF_OK);
    maif_block_spec a = {.type = MAIF_TYPE_TEXT, .payload = text, .payload_size = 6000};
    maif_block_spec b = {.type = MAIF_TYPE_BINARY, .payload = noise, .payload_size = 6000};
    assert_int_equal(maif_writer_add(w, &a, NULL), MAIF_OK);
    assert_int_equal(maif_writer_add(w, &b, NULL), MAIF_OK);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    tu_assert_verifies_clean(f->path);
    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    const uint8_t *want[2] = {text, noise};
    for (uint64_t i = 0; i < 2; i++) {
        maif_block blk;
        assert_int_equal(maif_reader_block(r, i, &blk), MAIF_OK);
        assert_int_equal(blk.codec, i == 0 ? MAIF_CODEC_ZSTD : 0);
        assert_int_equal(blk.cipher, XOR_ID);
        if (i == 1) assert_int_equal(blk.payload_size, 6000 + XOR_TAG);
        uint8_t out[6000];
        size_t wr = 0;
        assert_int_equal(maif_reader_block_decode(r, i, out, sizeof out, &wr), MAIF_OK);
        assert_int_equal(wr, 6000);
        assert_memory_equal(out, want[i], 6000);
    }
    maif_reader_close(r);
    free(text);
    free(noise);
}

/* ------------------------------------------------- hostile extensions */

/* Writes one RLE block (and a plain one) and returns the image and the
 * record of block 0. */
static uint8_t *one_rle_block(tu_fixture *f, size_t *n, nat_rec *rec, nat_ext *ext)
{
    uint8_t *p = runs(600, 5);
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->key, NULL, tu_flag(MAIF_OPT_OVERWRITE)), MAIF_OK);
    maif_stage_config cfg = {.codec = RLE_ID};
    assert_int_equal(nat_writer_set_stages(w, &cfg), MAIF_OK);
    maif_block_spec sp = {.type = MAIF_TYPE_TEXT, .payload = p, .payload_size = 600};
    assert_int_equal(maif_writer_add(w, &sp, NULL), MAIF_OK);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    free(p);
    uint8_t *img = tu_read(f->path, n);
    assert_non_null(img);
    maif_reader *r;
    maif_block b;
    assert_int_equal(maif_reader_open_mem(&r, img, *n), MAIF_OK);
    assert_int_equal(maif_reader_block(r, 0, &b), MAIF_OK);
    block_ext(img, *n, b.offset, ext, rec);
    maif_reader_close(r);
    assert_true(ext->has_decoded_size);
    return img;
}

static void set_decoded_size(uint8_t *img, const nat_rec *rec, uint64_t v)
{
    /* the only TLV: head at ext_off, value 4 bytes on */
    assert_int_equal(rd16le(img + rec->ext_off), NAT_EXT_DECODED_SIZE);
    wr64le(img + rec->ext_off + 4, v);
}

static void test_hostile_decoded_size(void **state)
{
    tu_fixture *f = *state;
    size_t n;
    nat_rec rec;
    nat_ext ext;
    uint8_t *img = one_rle_block(f, &n, &rec, &ext);
    const uint64_t hostile[] = {(uint64_t)1 << 40, ((uint64_t)1 << 40) + 1, UINT64_MAX,
                                rec.stored_size / 2 * 255 + 1 /* one more than RLE can make of the stored bytes */};
    for (size_t k = 0; k < sizeof hostile / sizeof hostile[0]; k++) {
        set_decoded_size(img, &rec, hostile[k]);
        maif_reader *r;
        assert_int_equal(maif_reader_open_mem(&r, img, n), MAIF_OK);
        maif_block b;
        assert_int_equal(maif_reader_block(r, 0, &b), MAIF_OK); /* the view is unaffected */
        size_t ds = 0, wr = 0;
        /* refused as a size: nobody is told to allocate it */
        assert_int_equal(maif_reader_block_decoded_size(r, 0, &ds), MAIF_EFORMAT);
        assert_int_equal(ds, 0);
        assert_true(strstr(maif_reader_errmsg(r), "impossible") != NULL);
        /* and as a decode, whatever the buffer: not MAIF_ELIMIT with a huge "needed" */
        uint8_t small[16];
        assert_int_equal(maif_reader_block_decode(r, 0, small, sizeof small, &wr), MAIF_EFORMAT);
        assert_int_equal(maif_reader_block_decode(r, 0, NULL, 0, &wr), MAIF_EFORMAT);
        assert_int_equal(wr, 0);
        maif_reader_close(r);
        /* the verifier names it too (and the chain break the edit made) */
        maif_report *rep = verify_mem(img, n);
        assert_true(tu_has_code(rep, "extension", MAIF_SEV_ERROR));
        assert_true(tu_has_code(rep, "chain", MAIF_SEV_ERROR));
        maif_report_free(rep);
    }
    /* a decoded size smaller than what the payload decodes to */
    set_decoded_size(img, &rec, 599);
    maif_reader *r;
    assert_int_equal(maif_reader_open_mem(&r, img, n), MAIF_OK);
    uint8_t out[1000];
    size_t wr;
    assert_int_equal(maif_reader_block_decode(r, 0, out, sizeof out, &wr), MAIF_EFORMAT);
    set_decoded_size(img, &rec, 601); /* or larger */
    assert_int_equal(maif_reader_block_decode(r, 0, out, sizeof out, &wr), MAIF_EFORMAT);
    set_decoded_size(img, &rec, 600);
    assert_int_equal(maif_reader_block_decode(r, 0, out, sizeof out, &wr), MAIF_OK);
    assert_int_equal(wr, 600);
    maif_reader_close(r);
    free(img);
}

static void test_stray_extensions(void **state)
{
    tu_fixture *f = *state;
    size_t n;
    nat_rec rec;
    nat_ext ext;
    uint8_t *img = one_rle_block(f, &n, &rec, &ext);
    maif_reader *r;
    maif_block b;
    size_t wr, ds;
    uint8_t out[2000];

    /* a decoded_size TLV on a block stored as is */
    img[rec.off + NR_CODEC] = 0;
    assert_int_equal(maif_reader_open_mem(&r, img, n), MAIF_OK);
    assert_int_equal(maif_reader_block(r, 0, &b), MAIF_OK);
    assert_int_equal(maif_reader_block_decode(r, 0, out, sizeof out, &wr), MAIF_EFORMAT);
    maif_reader_close(r);
    maif_report *rep = verify_mem(img, n);
    assert_true(tu_has_code(rep, "extension", MAIF_SEV_ERROR));
    maif_report_free(rep);

    /* the tag made critical and unknown: the view works, decoding may not interpret the payload */
    wr16le(img + rec.ext_off, 0x8002);
    assert_int_equal(maif_reader_open_mem(&r, img, n), MAIF_OK);
    assert_int_equal(maif_reader_block(r, 0, &b), MAIF_OK);
    assert_int_equal(b.payload_size, rec.stored_size);
    assert_int_equal(maif_reader_block_decoded_size(r, 0, &ds), MAIF_EUNSUPPORTED);
    assert_int_equal(maif_reader_block_decode(r, 0, out, sizeof out, &wr), MAIF_EUNSUPPORTED);
    assert_true(strstr(maif_reader_errmsg(r), "0x8002") != NULL);
    maif_reader_close(r);
    rep = verify_mem(img, n);
    assert_true(tu_has_code(rep, "extension", MAIF_SEV_ERROR));
    maif_report_free(rep);

    /* a codec id with no decoded_size TLV (the tag made an unknown plain one) */
    img[rec.off + NR_CODEC] = RLE_ID;
    wr16le(img + rec.ext_off, 0x0077);
    assert_int_equal(maif_reader_open_mem(&r, img, n), MAIF_OK);
    assert_int_equal(maif_reader_block_decoded_size(r, 0, &ds), MAIF_EFORMAT);
    assert_true(strstr(maif_reader_errmsg(r), "decoded_size extension missing") != NULL);
    maif_reader_close(r);
    rep = verify_mem(img, n);
    assert_true(tu_has_code(rep, "extension", MAIF_SEV_ERROR));
    maif_report_free(rep);

    /* a length running past the area: the view itself refuses the block */
    wr16le(img + rec.ext_off, NAT_EXT_DECODED_SIZE);
    wr16le(img + rec.ext_off + 2, 9);
    assert_int_equal(maif_reader_open_mem(&r, img, n), MAIF_OK);
    assert_int_equal(maif_reader_block(r, 0, &b), MAIF_EFORMAT);
    assert_true(strstr(maif_reader_errmsg(r), "extension") != NULL);
    assert_int_equal(maif_reader_block_decode(r, 0, out, sizeof out, &wr), MAIF_EFORMAT);
    maif_reader_close(r);
    rep = verify_mem(img, n);
    assert_true(tu_has_code(rep, "extension", MAIF_SEV_ERROR));
    maif_report_free(rep);
    free(img);
}

/* The writer's paths for stored bytes (small records queued on the
 * hashing helper, the arena for large ones, a direct write with the hash
 * on the side when this thread has one CPU) all take the encoded bytes:
 * the same staged blocks written with every CPU and with one give the
 * same records, which verify and decode. */
static void write_staged(const char *path, const maif_key *key, uint8_t **bufs, const size_t *sizes, int n)
{
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, path, key, NULL, tu_flag(MAIF_OPT_OVERWRITE)), MAIF_OK);
    maif_stage_config cfg = {.codec = RLE_ID};
    assert_int_equal(nat_writer_set_stages(w, &cfg), MAIF_OK);
    for (int i = 0; i < n; i++) {
        uint8_t id[16];
        memset(id, 0x70 + i, sizeof id);
        maif_block_spec sp = {.type = MAIF_TYPE_BINARY, .payload = bufs[i], .payload_size = sizes[i], .id = id,
                              .timestamp_us = 1700000000000000ull + (uint64_t)i};
        assert_int_equal((i % 2 ? maif_writer_add_borrowed : maif_writer_add)(w, &sp, NULL), MAIF_OK);
    }
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
}

static void test_stages_every_write_path(void **state)
{
    tu_fixture *f = *state;
    enum { N = 5 };
    const size_t sizes[N] = {(2u << 20) + 3, 13, (600u << 10), 1000, 0};
    uint8_t *bufs[N];
    for (int i = 0; i < N; i++) {
        bufs[i] = malloc(sizes[i] + 1);
        assert_non_null(bufs[i]);
        for (size_t k = 0; k < sizes[i]; k++) bufs[i][k] = (uint8_t)(k * 31 + (k >> 3) + (size_t)i); /* no runs */
    }
    char *multi = tu_path(f->dir, "multi.maif");
    write_staged(multi, f->key, bufs, sizes, N);
    tu_cpu_pin_one();
    write_staged(f->path, f->key, bufs, sizes, N);
    tu_cpu_unpin();
    size_t na, nb;
    uint8_t *a = tu_read(multi, &na), *b = tu_read(f->path, &nb);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(na, nb);
    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open_mem(&r, b, nb), MAIF_OK);
    for (int i = 0; i < N; i++) {
        maif_block x;
        assert_int_equal(maif_reader_block(r, (uint64_t)i, &x), MAIF_OK);
        assert_int_equal(x.payload_size, 2 * sizes[i]);
        nat_rec rec;
        int torn;
        assert_int_equal(nat_rec_parse(b, nb, x.offset, &rec, &torn, NULL, 0), MAIF_OK);
        assert_memory_equal(a + rec.off, b + rec.off, NR_RECORD_HASH);
        assert_memory_equal(a + rec.ext_off, b + rec.ext_off, rec.end - rec.ext_off);
        uint8_t *d = malloc(sizes[i] + 1);
        size_t wr;
        assert_non_null(d);
        assert_int_equal(maif_reader_block_decode(r, (uint64_t)i, d, sizes[i], &wr), MAIF_OK);
        assert_int_equal(wr, sizes[i]);
        if (wr) assert_memory_equal(d, bufs[i], wr);
        free(d);
    }
    maif_reader_close(r);
    for (int k = 0; k < 2; k++) {
        maif_report *rep = verify_mem(k ? b : a, k ? nb : na);
        assert_true(maif_report_ok(rep));
        assert_int_equal(findings_at_least(rep, MAIF_SEV_WARNING), 0);
        maif_report_free(rep);
    }
    free(a);
    free(b);
    free(multi);
    for (int i = 0; i < N; i++) free(bufs[i]);
}

/* Conversion carries the decoded payload, not the stored bytes. */
static void test_convert_decodes(void **state)
{
    tu_fixture *f = *state;
    uint8_t *p = runs(3000, 6);
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->key, "conv", NULL), MAIF_OK);
    maif_stage_config cfg = {.codec = RLE_ID};
    assert_int_equal(nat_writer_set_stages(w, &cfg), MAIF_OK);
    uint8_t id0[16];
    maif_block_spec sp = {.type = MAIF_TYPE_TEXT, .payload = p, .payload_size = 3000, .meta_json = "{\"k\":1}",
                          .meta_size = 7};
    assert_int_equal(maif_writer_add(w, &sp, id0), MAIF_OK);
    assert_int_equal(nat_writer_set_stages(w, NULL), MAIF_OK);
    sp.payload_size = 10;
    sp.supersedes = id0;
    assert_int_equal(maif_writer_add(w, &sp, NULL), MAIF_OK);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);

    char *out = tu_path(f->dir, "out.maif");
    assert_int_equal(maif_convert(f->path, out, MAIF_FORMAT_NATIVE, f->key, NULL, NULL), MAIF_OK);
    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open(&r, out), MAIF_OK);
    assert_int_equal(maif_reader_count(r), 2);
    maif_block b;
    assert_int_equal(maif_reader_block(r, 0, &b), MAIF_OK);
    assert_int_equal(b.codec, 0);
    assert_int_equal(b.payload_size, 3000);
    assert_memory_equal(b.payload, p, 3000);
    assert_memory_equal(b.id, id0, 16);
    assert_int_equal(b.meta_size, 7);
    assert_int_equal(maif_reader_block(r, 1, &b), MAIF_OK);
    assert_true(b.has_supersedes);
    assert_memory_equal(b.supersedes, id0, 16);
    assert_int_equal(b.payload_size, 10);
    maif_reader_close(r);
    tu_assert_verifies(out);

    /* 2.1 cannot hold the supersedes link; and once its codec is unknown the
     * block cannot be decoded for any output */
    char *out21 = tu_path(f->dir, "out21.maif");
    assert_int_equal(maif_convert(f->path, out21, MAIF_FORMAT_V21, f->key, NULL, NULL), MAIF_EUNSUPPORTED);
    maif_codec_unregister(RLE_ID);
    assert_int_equal(maif_convert(f->path, out, MAIF_FORMAT_NATIVE, f->key, NULL, NULL), MAIF_EUNSUPPORTED);
    assert_true(strstr(maif_last_errmsg(), "cannot be decoded") != NULL);
    assert_int_equal(maif_codec_register(&rle), MAIF_OK);
    free(out);
    free(out21);
    free(p);
}

/* ------------------------------------------------------- MAIF 2.1 */

static void test_v21_decode_copies(void **state)
{
    (void)state;
    char *path = tu_path(tu_samples_dir(), "sample_multimodal.maif");
    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open(&r, path), MAIF_OK);
    assert_int_equal(maif_reader_format(r), MAIF_FORMAT_V21);
    uint64_t cnt = maif_reader_count(r);
    assert_true(cnt > 0);
    for (uint64_t i = 0; i < cnt; i++) {
        maif_block b;
        assert_int_equal(maif_reader_block(r, i, &b), MAIF_OK);
        size_t ds = 0, wr = 0;
        assert_int_equal(maif_reader_block_decoded_size(r, i, &ds), MAIF_OK);
        assert_int_equal(ds, b.payload_size);
        uint8_t *d = malloc(ds + 1);
        assert_non_null(d);
        assert_int_equal(maif_reader_block_decode(r, i, d, ds, &wr), MAIF_OK);
        assert_int_equal(wr, ds);
        if (ds) {
            assert_memory_equal(d, b.payload, ds);
            assert_int_equal(maif_reader_block_decode(r, i, d, ds - 1, &wr), MAIF_ELIMIT);
            assert_int_equal(wr, ds);
        }
        free(d);
    }
    size_t wr;
    assert_int_equal(maif_reader_block_decode(r, cnt, NULL, 0, &wr), MAIF_ENOTFOUND);
    maif_reader_close(r);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tlv_roundtrip),
        cmocka_unit_test(test_tlv_builder_errors),
        cmocka_unit_test(test_tlv_malformed),
        cmocka_unit_test(test_registry),
        cmocka_unit_test_setup_teardown(test_none_is_byte_identical, setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_codec_end_to_end, setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_codec_then_cipher, setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_skip_under_cipher, setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_stages_every_write_path, setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_hostile_decoded_size, setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_stray_extensions, setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_convert_decodes, setup, tu_teardown),
        cmocka_unit_test(test_v21_decode_copies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
