/*
 * test_compress.c — the library's own codecs, zstd (1) and lz4 (2):
 * round trips at several levels and sizes through the public calls, the
 * skip rule (what does not pay is stored as is, codec 0), per-artifact
 * choice (MAIF_OPT_CODEC) and per-block choice (maif_writer_set_codec),
 * and hostile frames: truncated, bit-flipped behind valid hashes and
 * signatures (verify passes, decoding fails), a content size beyond the
 * record's decoded_size, a decoded_size of 1 TiB on a tiny block. Each
 * hostile case is a clean error with no large allocation (the allocation
 * hook records the largest request).
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "codec/codec.h"
#include "codec/codecs.h"
#include "format/native/native.h"
#include "format/native/native_writer.h"
#include "util/common.h"

/* Text-like bytes that compress (words from a small vocabulary). */
static uint8_t *texty(size_t n, uint64_t seed)
{
    static const char *words[] = {"memory ", "agent ", "block ", "the ", "of ", "signed ", "chain ", "artifact ",
                                  "hash ", "\n", "append ", "a "};
    uint8_t *p = malloc(n + 1);
    assert_non_null(p);
    uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
    size_t i = 0;
    while (i < n) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        const char *wd = words[x % 12];
        for (size_t k = 0; wd[k] && i < n; k++) p[i++] = (uint8_t)wd[k];
    }
    return p;
}

/* Decodes block i and compares it with want (n bytes). */
static void check_block(maif_reader *r, uint64_t i, const uint8_t *want, size_t n, int codec)
{
    maif_block b;
    assert_int_equal(maif_reader_block(r, i, &b), MAIF_OK);
    assert_int_equal(b.codec, codec);
    if (codec) assert_true(b.payload_size + 16 <= n && b.payload_size <= n - n / 32);
    else assert_int_equal(b.payload_size, n);
    size_t ds = 0, wr = 0;
    assert_int_equal(maif_reader_block_decoded_size(r, i, &ds), MAIF_OK);
    assert_int_equal(ds, n);
    uint8_t *d = malloc(n + 1);
    assert_non_null(d);
    assert_int_equal(maif_reader_block_decode(r, i, d, n, &wr), MAIF_OK);
    assert_int_equal(wr, n);
    if (n) assert_memory_equal(d, want, n);
    free(d);
}

static void test_roundtrip_levels_sizes(void **state)
{
    tu_fixture *f = *state;
    const size_t sizes[] = {0, 1, 15, 100, 4096, 1u << 20};
    const struct { int codec, level; } cfg[] = {
        {MAIF_CODEC_ZSTD, 0}, {MAIF_CODEC_ZSTD, 1}, {MAIF_CODEC_ZSTD, 19}, {MAIF_CODEC_ZSTD, -5},
        {MAIF_CODEC_LZ4, 0}, {MAIF_CODEC_LZ4, 8},
    };
    const size_t ns = sizeof sizes / sizeof sizes[0], nc = sizeof cfg / sizeof cfg[0];
    uint8_t *data[6];
    for (size_t i = 0; i < ns; i++) data[i] = texty(sizes[i], i);
    uint8_t *noise = malloc(100000);
    assert_non_null(noise);
    tu_pattern(noise, 100000, 7);
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->key, NULL, NULL), MAIF_OK);
    for (size_t c = 0; c < nc; c++) {
        assert_int_equal(maif_writer_set_codec(w, cfg[c].codec, cfg[c].level), MAIF_OK);
        for (size_t i = 0; i < ns; i++) tu_add_simple(w, MAIF_TYPE_TEXT, data[i], sizes[i], NULL, NULL);
        tu_add_simple(w, MAIF_TYPE_BINARY, noise, 100000, NULL, NULL); /* incompressible */
    }
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    tu_assert_verifies_clean(f->path);
    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    assert_int_equal(maif_reader_count(r), nc * (ns + 1));
    uint64_t k = 0;
    for (size_t c = 0; c < nc; c++) {
        for (size_t i = 0; i < ns; i++, k++) {
            /* 0, 1 and 15 bytes cannot save 16 bytes: stored as is; 100 bytes may or may not pay */
            if (sizes[i] != 100) check_block(r, k, data[i], sizes[i], sizes[i] > 100 ? cfg[c].codec : 0);
            if (sizes[i] >= 100) { /* no extension on a plain block, decoded_size on a compressed one */
                maif_block b;
                assert_int_equal(maif_reader_block(r, k, &b), MAIF_OK);
                if (sizes[i] == (1u << 20)) assert_true(b.payload_size < sizes[i] / 2);
            }
        }
        check_block(r, k++, noise, 100000, 0); /* did not pay: stored plain */
    }
    maif_reader_close(r);
    for (size_t i = 0; i < ns; i++) free(data[i]);
    free(noise);
}

static void test_levels_differ_and_options(void **state)
{
    tu_fixture *f = *state;
    uint8_t *p = texty(200000, 3);
    size_t stored[3];
    const int levels[3] = {-50, 1, 19};
    for (int i = 0; i < 3; i++) {
        maif_options *o = NULL;
        assert_int_equal(maif_options_create(&o), MAIF_OK);
        assert_int_equal(maif_options_set(o, MAIF_OPT_CODEC, MAIF_CODEC_ZSTD), MAIF_OK);
        assert_int_equal(maif_options_set(o, MAIF_OPT_CODEC_LEVEL, levels[i]), MAIF_OK);
        assert_int_equal(maif_options_set(o, MAIF_OPT_OVERWRITE, 1), MAIF_OK);
        maif_writer *w = NULL;
        assert_int_equal(maif_writer_create(&w, f->path, f->key, NULL, o), MAIF_OK);
        tu_add_simple(w, MAIF_TYPE_TEXT, p, 200000, NULL, NULL);
        assert_int_equal(maif_writer_commit(w), MAIF_OK);
        assert_int_equal(maif_writer_close(w), MAIF_OK);
        /* writer_open takes the codec too */
        assert_int_equal(maif_options_set(o, MAIF_OPT_CODEC, MAIF_CODEC_LZ4), MAIF_OK);
        assert_int_equal(maif_options_set(o, MAIF_OPT_CODEC_LEVEL, 0), MAIF_OK);
        assert_int_equal(maif_writer_open(&w, f->path, f->key, o), MAIF_OK);
        tu_add_simple(w, MAIF_TYPE_TEXT, p, 200000, NULL, NULL);
        assert_int_equal(maif_writer_commit(w), MAIF_OK);
        assert_int_equal(maif_writer_close(w), MAIF_OK);
        maif_options_free(o);
        maif_reader *r = NULL;
        assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
        maif_block b;
        assert_int_equal(maif_reader_block(r, 0, &b), MAIF_OK);
        stored[i] = b.payload_size;
        check_block(r, 0, p, 200000, MAIF_CODEC_ZSTD);
        check_block(r, 1, p, 200000, MAIF_CODEC_LZ4);
        maif_reader_close(r);
    }
    assert_true(stored[0] > stored[1]); /* fast is larger than 1 */
    assert_true(stored[1] > stored[2]); /* 19 is smaller than 1 */
    /* bad choices */
    maif_options *o = NULL;
    assert_int_equal(maif_options_create(&o), MAIF_OK);
    assert_int_equal(maif_options_set(o, MAIF_OPT_CODEC, 3), MAIF_EINVAL);
    assert_int_equal(maif_options_set(o, MAIF_OPT_CODEC_LEVEL, 65), MAIF_EINVAL);
    assert_int_equal(maif_options_set(o, MAIF_OPT_CODEC, MAIF_CODEC_LZ4), MAIF_OK);
    assert_int_equal(maif_options_set(o, MAIF_OPT_CODEC_LEVEL, -3), MAIF_OK); /* in range, but not for lz4 */
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_open(&w, f->path, f->key, o), MAIF_EINVAL);
    assert_null(w);
    assert_true(strstr(maif_last_errmsg(), "lz4") != NULL);
    maif_options_free(o);
    assert_int_equal(maif_writer_open(&w, f->path, f->key, NULL), MAIF_OK);
    assert_int_equal(maif_writer_set_codec(w, MAIF_CODEC_ZSTD, 20), MAIF_EINVAL);
    assert_int_equal(maif_writer_set_codec(w, 9, 0), MAIF_EUNSUPPORTED);
    assert_int_equal(maif_writer_set_codec(w, -1, 0), MAIF_EINVAL);
    assert_int_equal(maif_writer_set_codec(NULL, 1, 0), MAIF_EINVAL);
    /* per block: none, zstd, lz4, none in one batch */
    const int seq[4] = {MAIF_CODEC_NONE, MAIF_CODEC_ZSTD, MAIF_CODEC_LZ4, MAIF_CODEC_NONE};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(maif_writer_set_codec(w, seq[i], 0), MAIF_OK);
        tu_add_simple(w, MAIF_TYPE_TEXT, p, 5000, NULL, NULL);
    }
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    tu_assert_verifies_clean(f->path);
    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    for (int i = 0; i < 4; i++) check_block(r, 2 + (uint64_t)i, p, 5000, seq[i]);
    maif_reader_close(r);
    free(p);
}

/* ---------------------------------------------------------- hostile */

/* A zstd stand-in registered under id 1 while a hostile file is written:
 * it emits a real frame, then damages it as told, so the writer hashes
 * and signs the damaged bytes and only decoding can tell. */
static int damage; /* 1 flip a bit mid-frame, 2 truncate, 3 content size +1 */
static int bad_encode(const maif_codec *self, void **state, int level, void *dst, size_t cap, const void *src,
                      size_t n, size_t *written)
{
    int rc = maif_codec_zstd.encode(&maif_codec_zstd, state, level, dst, cap, src, n, written);
    if (rc) return rc;
    uint8_t *d = dst;
    if (damage == 1) d[*written / 2] ^= 0x10;
    if (damage == 2) *written -= 5;
    if (damage == 3) {
        /* re-encode with a lie: compress n+1 bytes' worth is not possible,
         * so write a frame of the data plus one byte instead */
        uint8_t *more = malloc(n + 1);
        memcpy(more, src, n);
        more[n] = 'x';
        size_t r = ZSTD_compress(dst, cap, more, n + 1, 3); /* (no checksum either) */
        free(more);
        if (ZSTD_isError(r)) return MAIF_ELIMIT;
        *written = r;
    }
    return MAIF_OK;
}

static const maif_codec *bad_codec(void)
{
    static maif_codec c;
    c = maif_codec_zstd;
    c.encode = bad_encode;
    c.always = 1;
    return &c;
}

static void write_damaged(tu_fixture *f, int how, const uint8_t *p, size_t n)
{
    damage = how;
    maif_codec_unregister(MAIF_CODEC_ZSTD);
    assert_int_equal(maif_codec_register(bad_codec()), MAIF_OK);
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->key, NULL, tu_flag(MAIF_OPT_OVERWRITE)), MAIF_OK);
    assert_int_equal(maif_writer_set_codec(w, MAIF_CODEC_ZSTD, 0), MAIF_OK);
    tu_add_simple(w, MAIF_TYPE_TEXT, p, n, NULL, NULL);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    maif_codec_unregister(MAIF_CODEC_ZSTD);
    assert_int_equal(maif_codec_register(&maif_codec_zstd), MAIF_OK);
}

static size_t largest;
static void *track_malloc(void *ctx, size_t n)
{
    (void)ctx;
    if (n > largest) largest = n;
    return malloc(n);
}
static void *track_realloc(void *ctx, void *p, size_t n)
{
    (void)ctx;
    if (n > largest) largest = n;
    return realloc(p, n);
}
static void track_free(void *ctx, void *p)
{
    (void)ctx;
    free(p);
}

/* (libc underneath, like the default: memory may cross the switch) */
static const maif_allocator tracker = {track_malloc, track_realloc, track_free, NULL};

static void test_hostile_frames(void **state)
{
    tu_fixture *f = *state;
    uint8_t *p = texty(300000, 9);
    for (int how = 1; how <= 3; how++) {
        write_damaged(f, how, p, 300000);
        /* MAIF_GOLDEN_DIR: keep the bit-flipped file (tests/data/native/zstd-bitflip.maif was made so) */
        const char *gd = getenv("MAIF_GOLDEN_DIR");
        if (gd && how == 1) {
            size_t gn;
            uint8_t *g = tu_read(f->path, &gn);
            char *gp = tu_path(gd, "zstd-bitflip.maif");
            assert_int_equal(tu_write(gp, g, gn), 0);
            free(gp);
            free(g);
        }
        /* the stored bytes are what was hashed and signed: verify passes */
        tu_assert_verifies_clean(f->path);
        maif_reader *r = NULL;
        assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
        size_t ds = 0, wr = 0;
        int rs = maif_reader_block_decoded_size(r, 0, &ds);
        if (rs) fprintf(stderr, "how %d: %s\n", how, maif_reader_errmsg(r));
        assert_int_equal(rs, MAIF_OK);
        assert_int_equal(ds, 300000);
        uint8_t *d = malloc(300001);
        largest = 0;
        assert_int_equal(maif_allocator_set(&tracker), MAIF_OK);
        int rc = maif_reader_block_decode(r, 0, d, 300001, &wr);
        assert_int_equal(maif_allocator_set(NULL), MAIF_OK);
        if (rc != MAIF_EFORMAT) fprintf(stderr, "how %d: %d %s\n", how, rc, maif_reader_errmsg(r));
        assert_int_equal(rc, MAIF_EFORMAT);
        assert_true(strstr(maif_reader_errmsg(r), "does not decode") != NULL);
        assert_true(largest < 300000); /* the decoder's context, not a payload-sized buffer */
        free(d);
        maif_reader_close(r);
    }
    free(p);
}

static void test_hostile_decoded_size(void **state)
{
    tu_fixture *f = *state;
    uint8_t *p = texty(20000, 4);
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->key, NULL, NULL), MAIF_OK);
    assert_int_equal(maif_writer_set_codec(w, MAIF_CODEC_ZSTD, 0), MAIF_OK);
    char a68[69];
    memset(a68, 'a', 68);
    tu_add_simple(w, MAIF_TYPE_TEXT, a68, 68, NULL, NULL);
    assert_int_equal(maif_writer_set_codec(w, MAIF_CODEC_LZ4, 0), MAIF_OK);
    tu_add_simple(w, MAIF_TYPE_TEXT, p, 20000, NULL, NULL);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    size_t n;
    uint8_t *img = tu_read(f->path, &n);
    assert_non_null(img);
    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open_mem(&r, img, n), MAIF_OK);
    maif_block b0, b1;
    assert_int_equal(maif_reader_block(r, 0, &b0), MAIF_OK);
    assert_int_equal(maif_reader_block(r, 1, &b1), MAIF_OK);
    assert_int_equal(b0.codec, MAIF_CODEC_ZSTD);
    assert_int_equal(b1.codec, MAIF_CODEC_LZ4);
    assert_true(b0.payload_size < 30); /* a tiny frame */
    maif_reader_close(r);
    nat_rec rec[2];
    uint64_t offs[2] = {b0.offset, b1.offset};
    for (int i = 0; i < 2; i++) {
        int torn;
        assert_int_equal(nat_rec_parse(img, n, offs[i], &rec[i], &torn, NULL, 0), MAIF_OK);
        assert_int_equal(rd16le(img + rec[i].ext_off), NAT_EXT_DECODED_SIZE);
    }
    /* 1 TiB, one byte more than either codec can make of the stored bytes, and a frame content size
     * above the TLV (zstd: the frame says 68) */
    const uint64_t zs[] = {(uint64_t)1 << 40, maif_codec_zstd.decoded_max(&maif_codec_zstd, rec[0].stored_size) + 1,
                           67, 69};
    const uint64_t ls[] = {(uint64_t)1 << 40, maif_codec_lz4.decoded_max(&maif_codec_lz4, rec[1].stored_size) + 1,
                           19999, 20001};
    for (int k = 0; k < 4; k++) {
        wr64le(img + rec[0].ext_off + 4, zs[k]);
        wr64le(img + rec[1].ext_off + 4, ls[k]);
        assert_int_equal(maif_reader_open_mem(&r, img, n), MAIF_OK);
        for (uint64_t i = 0; i < 2; i++) {
            size_t ds = 0, wr = 0;
            uint8_t small[64];
            largest = 0;
            assert_int_equal(maif_allocator_set(&tracker), MAIF_OK);
            int rs = maif_reader_block_decoded_size(r, i, &ds);
            int rd = maif_reader_block_decode(r, i, small, sizeof small, &wr);
            assert_int_equal(maif_allocator_set(NULL), MAIF_OK);
            if (k < 2) {
                assert_int_equal(rs, MAIF_EFORMAT);
                assert_int_equal(rd, MAIF_EFORMAT);
                assert_true(strstr(maif_reader_errmsg(r), "impossible") != NULL);
            } else {
                assert_int_equal(rs, MAIF_OK); /* plausible */
                uint64_t want = i ? ls[k] : zs[k];
                assert_int_equal(ds, want);
                uint8_t *d = malloc(want);
                assert_int_equal(maif_reader_block_decode(r, i, d, want, &wr), MAIF_EFORMAT);
                free(d);
                (void)rd;
            }
            assert_true(largest < (1u << 20));
        }
        maif_reader_close(r);
    }
    free(img);
    free(p);
}

static void test_parse_and_names(void **state)
{
    (void)state;
    const struct { const char *s; int codec, level; } ok[] = {
        {"none", 0, 0}, {"zstd", 1, 0}, {"zstd:1", 1, 1}, {"zstd:19", 1, 19}, {"zstd:fast", 1, -1},
        {"zstd:fast:7", 1, -7}, {"zstd:fast:100", 1, -100}, {"lz4", 2, 0}, {"shuffle-zstd", 4, 0},
        {"shuffle-zstd:19", 4, 19},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        int c = -9, l = -9;
        assert_int_equal(maif_codec_parse(ok[i].s, &c, &l), MAIF_OK);
        assert_int_equal(c, ok[i].codec);
        assert_int_equal(l, ok[i].level);
    }
    const char *bad[] = {"", "zstd:", "zstd:0", "zstd:20", "zstd:-3", "zstd:fast:0", "zstd:fast:101", "zstd:3x",
                         "lz4:2", "gzip", "ZSTD", "zstd:fast:", "zstd:99999999999", "shuffle-zstd:0",
                         "shuffle-zstd:20", "shuffle"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int c = -9, l = -9;
        assert_int_equal(maif_codec_parse(bad[i], &c, &l), MAIF_EINVAL);
        assert_int_equal(c, -9);
        assert_true(strstr(maif_last_errmsg(), "zstd:fast") != NULL);
    }
    int c, l;
    assert_int_equal(maif_codec_parse(NULL, &c, &l), MAIF_EINVAL);
    assert_string_equal(maif_codec_name(MAIF_CODEC_NONE), "none");
    assert_string_equal(maif_codec_name(MAIF_CODEC_ZSTD), "zstd");
    assert_string_equal(maif_codec_name(MAIF_CODEC_LZ4), "lz4");
    assert_string_equal(maif_codec_name(MAIF_CODEC_SHUFFLE_ZSTD), "shuffle-zstd");
    assert_string_equal(maif_codec_name(77), "unknown");
}

/* Codec 4 (shuffle-zstd): lossless on float arrays of every length (with a
 * tail of 1-3 bytes too), smaller than plain zstd on embeddings, and its
 * frames are held to codec 1's rules. */
static void test_shuffle_zstd(void **state)
{
    tu_fixture *f = *state;
    size_t n = 4096 * 64;
    float *v = malloc(n * sizeof *v);
    assert_non_null(v);
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < n; i++) { /* embedding-like: small values, about normal */
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        double u = (double)(x >> 11) / 9007199254740992.0, w = (double)((x * 0x2545F4914F6CDD1Dull) >> 11) / 9007199254740992.0;
        v[i] = (float)(0.3 * (u + w - 1.0));
    }
    size_t sizes[] = {n * sizeof *v, 4 * 1000 + 3, 4 * 7 + 1, 2, 4};
    uint64_t stored[2] = {0, 0};
    for (int codec = 0; codec < 2; codec++) {
        maif_writer *w = NULL;
        assert_int_equal(maif_writer_create(&w, f->path, f->key, NULL, tu_flag(MAIF_OPT_OVERWRITE)), MAIF_OK);
        assert_int_equal(maif_writer_set_codec(w, codec ? MAIF_CODEC_SHUFFLE_ZSTD : MAIF_CODEC_ZSTD, 0), MAIF_OK);
        for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
            maif_block_spec s = {.type = MAIF_TYPE_BINARY, .payload = v, .payload_size = sizes[k]};
            assert_int_equal(maif_writer_add(w, &s, NULL), MAIF_OK);
        }
        assert_int_equal(maif_writer_commit(w), MAIF_OK);
        assert_int_equal(maif_writer_close(w), MAIF_OK);
        tu_assert_verifies_clean(f->path);
        maif_reader *r = NULL;
        assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
        uint8_t *out = malloc(sizes[0]);
        assert_non_null(out);
        for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
            maif_block b;
            size_t got = 0;
            assert_int_equal(maif_reader_block(r, k, &b), MAIF_OK);
            if (k == 0) {
                assert_int_equal(b.codec, codec ? MAIF_CODEC_SHUFFLE_ZSTD : MAIF_CODEC_ZSTD);
                stored[codec] = b.payload_size;
            }
            assert_int_equal(maif_reader_block_decode(r, k, out, sizes[0], &got), MAIF_OK);
            assert_int_equal(got, sizes[k]);
            assert_memory_equal(out, v, sizes[k]);
        }
        free(out);
        maif_reader_close(r);
    }
    print_message("shuffle-zstd: %zu float32 bytes stored in %llu (zstd alone: %llu)\n", sizes[0],
                  (unsigned long long)stored[1], (unsigned long long)stored[0]);
    assert_true(stored[1] < stored[0]);
    free(v);
}

/* A JSONL "compress" holds for its block alone; a bad one is refused. */
static void test_draft_compress_key(void **state)
{
    tu_fixture *f = *state;
    uint8_t *p = texty(3000, 5);
    char line[4000];
    maif_writer *w = NULL;
    maif_options *o = NULL;
    assert_int_equal(maif_options_create(&o), MAIF_OK);
    assert_int_equal(maif_options_set(o, MAIF_OPT_CODEC, MAIF_CODEC_LZ4), MAIF_OK);
    assert_int_equal(maif_writer_create(&w, f->path, f->key, NULL, o), MAIF_OK);
    maif_options_free(o);
    const char *choice[3] = {"\"zstd:fast:3\"", "\"none\"", NULL};
    for (int i = 0; i < 3; i++) {
        snprintf(line, sizeof line, "{\"type\":\"text\",\"text\":\"%.*s\"%s%s}", 3000, (const char *)p,
                 choice[i] ? ",\"compress\":" : "", choice[i] ? choice[i] : "");
        for (char *q = line; *q; q++)
            if (*q == '\n') *q = ' ';
        maif_block_draft *d = NULL;
        assert_int_equal(maif_block_draft_from_json(&d, line, strlen(line)), MAIF_OK);
        assert_int_equal(maif_writer_add_draft(w, d, NULL, NULL, 0, NULL), MAIF_OK);
        maif_block_draft_free(d);
    }
    maif_block_draft *d = NULL;
    const char *bad1 = "{\"type\":\"text\",\"text\":\"x\",\"compress\":\"zstd:42\"}";
    const char *bad2 = "{\"type\":\"text\",\"text\":\"x\",\"compress\":3}";
    assert_int_equal(maif_block_draft_from_json(&d, bad1, strlen(bad1)), MAIF_EINVAL);
    assert_true(strstr(maif_last_errmsg(), "zstd:42") != NULL);
    assert_int_equal(maif_block_draft_from_json(&d, bad2, strlen(bad2)), MAIF_EINVAL);
    assert_true(strstr(maif_last_errmsg(), "must be a string") != NULL);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    const int want[3] = {MAIF_CODEC_ZSTD, MAIF_CODEC_NONE, MAIF_CODEC_LZ4}; /* the line's, then the writer's again */
    for (uint64_t i = 0; i < 3; i++) {
        maif_block b;
        assert_int_equal(maif_reader_block(r, i, &b), MAIF_OK);
        assert_int_equal(b.codec, want[i]);
    }
    maif_reader_close(r);
    free(p);
}

/* Converting to MAIF 2.1, which holds plain payloads only, undoes the
 * codec: the 2.1 file verifies and holds the bytes as written; and back to
 * native they are plain too. */
static void test_convert_to_v21_decodes(void **state)
{
    tu_fixture *f = *state;
    maif_options *o = NULL;
    assert_int_equal(maif_options_create(&o), MAIF_OK);
    assert_int_equal(maif_options_set(o, MAIF_OPT_CODEC, MAIF_CODEC_ZSTD), MAIF_OK);
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->key, "c21", o), MAIF_OK);
    maif_options_free(o);
    char text[4000];
    for (size_t i = 0; i < sizeof text; i++) text[i] = "retry storm after the certificate expired. "[i % 43];
    maif_block_spec s = {.type = MAIF_TYPE_TEXT, .payload = text, .payload_size = sizeof text};
    assert_int_equal(maif_writer_add(w, &s, NULL), MAIF_OK);
    assert_int_equal(maif_writer_set_codec(w, MAIF_CODEC_LZ4, 0), MAIF_OK);
    assert_int_equal(maif_writer_add(w, &s, NULL), MAIF_OK);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);

    char *v21 = tu_path(f->dir, "c.maif21"), *back = tu_path(f->dir, "back.maif");
    assert_int_equal(maif_convert(f->path, v21, MAIF_FORMAT_V21, f->key, NULL, NULL), MAIF_OK);
    tu_assert_verifies(v21);
    assert_int_equal(maif_convert(v21, back, MAIF_FORMAT_NATIVE, f->key, NULL, NULL), MAIF_OK);
    const char *paths[2] = {v21, back};
    for (int k = 0; k < 2; k++) {
        maif_reader *r = NULL;
        assert_int_equal(maif_reader_open(&r, paths[k]), MAIF_OK);
        assert_int_equal(maif_reader_count(r), 2);
        for (uint64_t i = 0; i < 2; i++) {
            maif_block b;
            assert_int_equal(maif_reader_block(r, i, &b), MAIF_OK);
            assert_int_equal(b.codec, 0);
            assert_int_equal(b.payload_size, sizeof text);
            assert_memory_equal(b.payload, text, sizeof text);
        }
        maif_reader_close(r);
    }
    free(v21);
    free(back);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_roundtrip_levels_sizes, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_levels_differ_and_options, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_hostile_frames, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_hostile_decoded_size, tu_setup, tu_teardown),
        cmocka_unit_test(test_parse_and_names),
        cmocka_unit_test_setup_teardown(test_shuffle_zstd, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_draft_compress_key, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_convert_to_v21_decodes, tu_setup, tu_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
