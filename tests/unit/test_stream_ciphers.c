/*
 * test_stream_ciphers.c — large payloads sealed in chunks for every
 * algorithm (FORMAT.md §5.7): the STREAM ciphers 5 (ChaCha20-Poly1305) and
 * 6 (AES-256-GCM) against vectors made by an independent implementation
 * (Python's hashlib and pyca/cryptography), round trips of every
 * algorithm × {no codec, zstd, lz4} × the chunk boundaries through the
 * stages and through the writer (whole, streamed with a known size,
 * spooled with an unknown one), zstd decompressed as the chunks open, and
 * every way of damaging a chunked stream: cut, reordered, dropped,
 * repeated chunks, a flipped byte in each chunk, the wrong key, a
 * ciphertext moved to another block. Each fails authentication, and
 * nothing unauthenticated is released.
 */
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "codec/codec.h"
#include "crypto/aead.h"
#include "crypto/crypto.h"
#include "format/native/native_spool.h"
#include "format/native/native_writer.h"
#include "io/io.h"

static void unhex(const char *h, uint8_t *out, size_t n) { assert_int_equal(maif_unhex(h, out, n), MAIF_OK); }

#define C MAIF_STREAM_CHUNK_PLAIN
#define S (MAIF_STREAM_CHUNK_PLAIN + 16)

/* A payload half compressible: zstd pays, and its output still spans chunks. */
static uint8_t *payload_new(size_t n, uint64_t seed)
{
    uint8_t *p = malloc(n ? n : 1);
    tu_pattern(p, n / 2, seed);
    for (size_t i = n / 2; i < n; i++) p[i] = (uint8_t)("the same line of text, again\n"[i % 29]);
    return p;
}

/* The subkey (maif_stream_subkey) and whole sealed payloads of ciphers 5
 * and 6: key 00..1f, block nonce 40..57, associated data 40 × 0x11, the
 * 70 000 bytes (7i + 3) mod 256; two chunks, the second with the last
 * flag. Expected values from hashlib.blake2b and pyca/cryptography's
 * ChaCha20Poly1305 / AESGCM, computed outside this library. */
static void test_subkey_kat(void **state)
{
    (void)state;
    uint8_t key[32], nonce[24], sk[32], exp[32];
    for (int i = 0; i < 32; i++) key[i] = (uint8_t)i;
    for (int i = 0; i < 24; i++) nonce[i] = (uint8_t)(0x40 + i);
    maif_stream_subkey(sk, key, 5, nonce);
    unhex("7e9d2e21f9e463330ef8a5821ff139fcbc9dfdc87de953885da692fbd1448ec2", exp, 32);
    assert_memory_equal(sk, exp, 32);
    maif_stream_subkey(sk, key, 6, nonce);
    unhex("cb0f3771a4f40519aeb8539611efaf8fcf6d7f0698f11aa2878feeb279fd74e1", exp, 32);
    assert_memory_equal(sk, exp, 32);
    uint8_t k42[32], n24[24];
    memset(k42, 0x42, 32);
    memset(n24, 0x24, 24);
    maif_stream_subkey(sk, k42, 5, n24);
    unhex("5178eb8e819ab6d634073dc442bd8a3994b3f5c0e34b20ba3e9d0b1346e27b0e", exp, 32);
    assert_memory_equal(sk, exp, 32);

    static const struct {
        uint8_t id;
        const char *sha, *tag;
    } kat[] = {
        {MAIF_CIPHER_CHACHA20_STREAM, "235ad7e71a08994035b3b89a26144c369a8379d413dcd048dc58186ece2f810b",
         "8d8c20108457ed9447f866eaad618a94"},
        {MAIF_CIPHER_AES256GCM_STREAM, "d8947aa5e039ed5d95a0bc182ea823fef8420dbee40551f44c22df3041f77ee9",
         "0b7452e9164b5aba121fd95344d581cb"},
    };
    const size_t n = 70000;
    uint8_t *pt = malloc(n), *st = malloc(n + 32 + 32), *back = malloc(n);
    for (size_t i = 0; i < n; i++) pt[i] = (uint8_t)(i * 7 + 3);
    uint8_t ad[40];
    memset(ad, 0x11, sizeof ad);
    tu_keysrc fk = {{tu_keysrc_lookup}, key};
    maif_cipher_params p = {&fk.src, (const uint8_t *)"k", 1, nonce, ad, sizeof ad};
    for (size_t t = 0; t < 2; t++) {
        if (kat[t].id == MAIF_CIPHER_AES256GCM_STREAM && !maif_aead_available(MAIF_AEAD_AES256GCM)) continue;
        const maif_cipher *k = maif_cipher_find(kat[t].id);
        assert_non_null(k);
        assert_int_equal(k->nonce_size, 24);
        size_t w = 0;
        assert_int_equal(maif_cipher_overhead(k, n), 32 + 2 * 16);
        assert_int_equal(k->seal(k, &p, st, n + 64, pt, n, &w), MAIF_OK);
        assert_int_equal(w, 70064);
        uint8_t h[32], tag[16];
        maif_sha256(st, w, h);
        unhex(kat[t].sha, exp, 32);
        assert_memory_equal(h, exp, 32);
        unhex(kat[t].tag, tag, 16);
        assert_memory_equal(st + w - 16, tag, 16);
        /* chunk 1 by hand: the subkey and the nonce 0^7 ‖ 1 (u32 BE) ‖ 1 of the document */
        uint8_t cn[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1};
        maif_stream_subkey(sk, key, kat[t].id, nonce);
        int alg = kat[t].id == MAIF_CIPHER_CHACHA20_STREAM ? MAIF_AEAD_CHACHA20 : MAIF_AEAD_AES256GCM;
        assert_int_equal(maif_aead_open(alg, back, st + 32 + S, n - C + 16, ad, sizeof ad, cn, sk), MAIF_OK);
        assert_memory_equal(back, pt + C, n - C);
        size_t got = 0;
        assert_int_equal(k->open(k, &p, back, n, st, w, &got), MAIF_OK);
        assert_memory_equal(back, pt, n);
    }
    free(pt);
    free(st);
    free(back);
}

typedef struct collect {
    uint8_t *buf;
    size_t len, cap;
} collect;
static int collect_stage(void *ctx, const void *p, size_t n, const uint8_t *done)
{
    (void)done;
    collect *c = ctx;
    if (n > c->cap - c->len) return MAIF_ELIMIT;
    memcpy(c->buf + c->len, p, n);
    c->len += n;
    return 0;
}

static const maif_stage_tags tags = {2, 3, 4, 5};
static int collect_write(void *ctx, const void *p, size_t n) { return collect_stage(ctx, p, n, NULL); }

typedef struct sealed {
    uint8_t *st;
    size_t len;
    uint8_t codec, cipher;
    uint8_t nonce[24];
    size_t nonce_len;
} sealed;

static void seal_one(tu_keysrc *fk, uint8_t cipher, uint8_t codec, const uint8_t *place, const uint8_t *pl, size_t n,
                     sealed *out)
{
    maif_stage_config cfg = {.cipher = cipher, .codec = codec, .keyring = &fk->src, .key_id = (const uint8_t *)"kid",
                             .key_id_len = 3};
    maif_stage_scratch scr = {0};
    uint8_t extbuf[256];
    maif_tlv_builder eb;
    maif_tlv_builder_init(&eb, extbuf, sizeof extbuf);
    maif_stage_out o;
    char err[200];
    assert_int_equal(maif_stage_encode(&cfg, &tags, place, pl, n, 1u << 30, &scr, &eb, &o, err, sizeof err), MAIF_OK);
    out->st = malloc(o.stored_size ? o.stored_size : 1);
    memcpy(out->st, o.stored, o.stored_size);
    out->len = o.stored_size;
    out->codec = o.codec;
    out->cipher = o.cipher;
    out->nonce_len = maif_cipher_find(o.cipher)->nonce_size;
    memcpy(out->nonce, extbuf + eb.len - out->nonce_len, out->nonce_len); /* the nonce TLV comes last */
    maif_stage_scratch_free(&scr);
}

static maif_stage_in in_of(const sealed *s, tu_keysrc *fk, const uint8_t *place, size_t n)
{
    maif_stage_in in = {.codec = s->codec, .cipher = s->cipher, .stored = s->st, .stored_size = s->len,
                        .has_decoded_size = 1, .decoded_size = n, .key_id = (const uint8_t *)"kid", .key_id_len = 3,
                        .nonce = s->nonce, .nonce_len = s->nonce_len, .ad = place, .keyring = &fk->src};
    return in;
}

/* Decodes both ways; both must fail with want, the whole decode leaving
 * its buffer zeroed and decode_to releasing at most `most` bytes. */
static void expect_fail(const maif_stage_in *in, int want, size_t most, size_t n)
{
    uint8_t *back = malloc(n ? n : 1);
    memset(back, 0x5a, n ? n : 1);
    size_t w = 0;
    char err[200];
    int rc = maif_stage_decode(in, 1u << 30, back, n, &w, err, sizeof err);
    assert_int_equal(rc, want);
    if (!in->codec)
        for (size_t i = 0; i < n && i < in->decoded_size; i++) assert_int_equal(back[i], 0);
    collect c = {back, 0, n};
    assert_int_equal(maif_stage_decode_to(in, 1u << 30, collect_stage, &c, err, sizeof err), want);
    assert_true(c.len <= most);
    free(back);
}

/* Every algorithm × {none, zstd, lz4} × the chunk boundaries, through
 * the stages: the cipher stored is the STREAM form past one chunk of
 * sealed input; decode and decode_to give the payload back. */
static void test_stage_roundtrip(void **state)
{
    (void)state;
    static const size_t sizes[] = {0, 1, C - 1, C, C + 1, (3u << 20) + 11};
    uint8_t key[32] = {1, 2, 3}, place[MAIF_STAGE_AD_BYTES] = {9, 8, 7};
    tu_keysrc fk = {{tu_keysrc_lookup}, key};
    uint8_t *big = payload_new(4u << 20, 5), *back = malloc(4u << 20);
    for (uint8_t cid = 1; cid <= 3; cid++) {
        if (!maif_aead_available(cid)) continue;
        for (int ci = 0; ci < 3; ci++) {
            uint8_t codec = ci == 0 ? 0 : ci == 1 ? MAIF_CODEC_ZSTD : MAIF_CODEC_LZ4;
            for (size_t t = 0; t < sizeof sizes / sizeof *sizes; t++) {
                size_t n = sizes[t];
                sealed s;
                seal_one(&fk, cid, codec, place, big, n, &s);
                uint8_t ad[MAIF_STAGE_AD_BYTES];
                memcpy(ad, place, sizeof ad);
                ad[MAIF_STAGE_AD_BYTES - 1] = s.codec;
                uint64_t in_n = 0;
                assert_int_equal(maif_cipher_plain(maif_cipher_find(s.cipher), s.len, &in_n), MAIF_OK);
                assert_int_equal(s.cipher, in_n > C ? cid + 3 : cid);
                maif_stage_in in = in_of(&s, &fk, ad, n);
                size_t w = 0;
                char err[200];
                int rc = maif_stage_decode(&in, 1u << 30, back, n, &w, err, sizeof err);
                if (rc) fprintf(stderr, "cipher %u codec %u n %zu: %s\n", cid, codec, n, err);
                assert_int_equal(rc, MAIF_OK);
                assert_int_equal(w, n);
                if (n) assert_memory_equal(back, big, n);
                memset(back, 0, n);
                collect c = {back, 0, n};
                assert_int_equal(maif_stage_decode_to(&in, 1u << 30, collect_stage, &c, err, sizeof err), MAIF_OK);
                assert_int_equal(c.len, n);
                if (n) assert_memory_equal(back, big, n);
                free(s.st);
            }
        }
    }
    free(big);
    free(back);
}

/* The damage a chunked stream must detect, for each STREAM cipher, with
 * and without zstd in front. */
static void test_stage_damage(void **state)
{
    (void)state;
    uint8_t key[32] = {4, 5, 6}, other[32] = {7}, place[MAIF_STAGE_AD_BYTES] = {1, 2, 3};
    uint8_t place2[MAIF_STAGE_AD_BYTES] = {1, 2, 4}; /* another block id */
    tu_keysrc fk = {{tu_keysrc_lookup}, key}, fo = {{tu_keysrc_lookup}, other};
    const size_t n = 5 * C + 9;
    uint8_t *rnd = malloc(n), *tmp = malloc(S);
    tu_pattern(rnd, n, 77); /* incompressible: zstd does not pay, so a zstd block is fed big-enough input below */
    uint8_t *zin = payload_new(12 * C, 3); /* compresses to a few chunks */
    for (uint8_t cid = 1; cid <= 3; cid++) {
        if (!maif_aead_available(cid)) continue;
        for (int z = 0; z < 2; z++) {
            const uint8_t *pl = z ? zin : rnd;
            size_t pn = z ? 12 * C : n;
            sealed s, s2;
            seal_one(&fk, cid, z ? MAIF_CODEC_ZSTD : 0, place, pl, pn, &s);
            uint8_t ad[MAIF_STAGE_AD_BYTES], ad2[MAIF_STAGE_AD_BYTES];
            memcpy(ad, place, sizeof ad);
            ad[MAIF_STAGE_AD_BYTES - 1] = s.codec;
            assert_int_equal(s.codec, z ? MAIF_CODEC_ZSTD : 0);
            assert_int_equal(s.cipher, cid + 3);
            uint64_t in_n = 0;
            assert_int_equal(maif_cipher_plain(maif_cipher_find(s.cipher), s.len, &in_n), MAIF_OK);
            size_t chunks = (size_t)((in_n + C - 1) / C);
            assert_true(chunks >= 3);
            maif_stage_in in = in_of(&s, &fk, ad, pn);
            /* a flipped byte in each chunk, and in the head */
            for (size_t i = 0; i <= chunks; i++) {
                size_t at = i == 0 ? 5 : 32 + (i - 1) * S + 3;
                s.st[at] ^= 0x20;
                expect_fail(&in, MAIF_EVERIFY, i == 0 ? 0 : (i - 1) * C * (z ? 64 : 1), pn);
                s.st[at] ^= 0x20;
            }
            /* chunks 0 and 1 swapped */
            memcpy(tmp, s.st + 32, S);
            memcpy(s.st + 32, s.st + 32 + S, S);
            memcpy(s.st + 32 + S, tmp, S);
            expect_fail(&in, MAIF_EVERIFY, 0, pn);
            memcpy(s.st + 32 + S, s.st + 32, S);
            memcpy(s.st + 32, tmp, S);
            /* chunk 0 repeated in place of chunk 1 */
            memcpy(tmp, s.st + 32 + S, S);
            memcpy(s.st + 32 + S, s.st + 32, S);
            expect_fail(&in, MAIF_EVERIFY, z ? pn : C, pn);
            memcpy(s.st + 32 + S, tmp, S);
            /* chunk 1 dropped (and the sizes made to match, as a forger would) */
            maif_stage_in drop = in;
            uint8_t *d = malloc(s.len);
            memcpy(d, s.st, 32 + S);
            memcpy(d + 32 + S, s.st + 32 + 2 * S, s.len - 32 - 2 * S);
            drop.stored = d;
            drop.stored_size = s.len - S;
            if (!z) drop.decoded_size = pn - C;
            expect_fail(&drop, MAIF_EVERIFY, 0, pn);
            /* cut after chunk 1: the sizes change, so the head fails */
            maif_stage_in cut = in;
            cut.stored_size = 32 + 2 * S;
            if (!z) cut.decoded_size = 2 * C;
            expect_fail(&cut, MAIF_EVERIFY, 0, pn);
            /* cut with the sizes the record claims: without a codec the sizes do
             * not add up (malformed); with zstd the head fails */
            cut.decoded_size = pn;
            uint64_t sz = 0;
            char err[200];
            if (!z) assert_int_equal(maif_stage_decoded_size(&cut, 1u << 30, &sz, err, sizeof err), MAIF_EFORMAT);
            else expect_fail(&cut, MAIF_EVERIFY, 0, pn);
            free(d);
            /* the wrong key */
            maif_stage_in wk = in;
            wk.keyring = &fo.src;
            expect_fail(&wk, MAIF_EVERIFY, 0, pn);
            /* the ciphertext moved to another block (same key, its own nonce): fails */
            seal_one(&fk, cid, z ? MAIF_CODEC_ZSTD : 0, place2, pl, pn, &s2);
            memcpy(ad2, place2, sizeof ad2);
            ad2[MAIF_STAGE_AD_BYTES - 1] = s2.codec;
            maif_stage_in sw = in_of(&s2, &fk, ad2, pn);
            sw.stored = s.st; /* block 1's bytes in block 2's record */
            sw.stored_size = s.len;
            expect_fail(&sw, MAIF_EVERIFY, 0, pn);
            sw.nonce = s.nonce; /* and with block 1's nonce too: the place still binds */
            expect_fail(&sw, MAIF_EVERIFY, 0, pn);
            /* untouched, it still opens */
            uint8_t *back = malloc(pn);
            size_t w = 0;
            assert_int_equal(maif_stage_decode(&in, 1u << 30, back, pn, &w, err, sizeof err), MAIF_OK);
            assert_memory_equal(back, pl, pn);
            free(back);
            free(s.st);
            free(s2.st);
        }
    }
    free(rnd);
    free(zin);
    free(tmp);
}

/* Through the writer: each algorithm × {none, zstd, lz4} × sizes, added
 * whole, streamed with the size announced, and streamed with no size
 * (spooled from the first byte, and with the default threshold); every
 * block decodes (whole and to a sink) to its payload, the artifact
 * verifies clean, and no plaintext reached the file. */
static void test_writer_roundtrip(void **state)
{
    maif_key *signer = NULL, *alice = NULL;
    (void)state;
    assert_int_equal(maif_key_generate(&signer), MAIF_OK);
    assert_int_equal(maif_key_generate(&alice), MAIF_OK);
    char *dir = tu_tmpdir(), *path = tu_path(dir, "s.maif");
    static const size_t sizes[] = {0, 1, C - 1, C, C + 1, (2u << 20) + 5};
    const size_t nsz = sizeof sizes / sizeof *sizes;
    uint8_t *big = payload_new(3u << 20, 11), *back = malloc(3u << 20);
    uint8_t pk[32];
    maif_key_public(alice, pk);
    for (uint8_t cid = 1; cid <= 3; cid++) {
        if (!maif_aead_available(cid)) continue;
        for (int ci = 0; ci < 3; ci++) {
            uint8_t codec = ci == 0 ? 0 : ci == 1 ? MAIF_CODEC_ZSTD : MAIF_CODEC_LZ4;
            maif_keyring *kr = NULL;
            assert_int_equal(maif_keyring_create(&kr), MAIF_OK);
            assert_int_equal(maif_keyring_add_recipient(kr, pk), MAIF_OK);
            maif_writer *w = NULL;
            assert_int_equal(maif_writer_create(&w, path, signer, "agent", tu_flag(MAIF_OPT_OVERWRITE)), MAIF_OK);
            assert_int_equal(maif_writer_encrypt(w, kr, cid), MAIF_OK); /* 0: KEYW */
            if (codec) assert_int_equal(maif_writer_set_codec(w, codec, 0), MAIF_OK);
            for (int mode = 0; mode < 4; mode++) {
                nat_stream_set_spool_min(mode == 2 ? 0 : 1u << 20);
                for (size_t t = 0; t < nsz; t++) {
                    size_t n = sizes[t];
                    const uint8_t *pl = big + t + (size_t)mode;
                    maif_block_spec sp = {.type = MAIF_TYPE_BINARY};
                    if (mode == 0) {
                        sp.payload = pl;
                        sp.payload_size = n;
                        assert_int_equal(maif_writer_add(w, &sp, NULL), MAIF_OK);
                    } else {
                        tu_mem_src m = {pl, n, 0, 4093 + 1000 * t, 0};
                        sp.payload_size = mode == 1 ? n : 0; /* 1: announced; 2, 3: not known */
                        int rc = maif_writer_add_stream(w, &sp, tu_mem_read, &m, 0, NULL);
                        if (rc) fprintf(stderr, "%s\n", maif_writer_errmsg(w));
                        assert_int_equal(rc, MAIF_OK);
                    }
                }
            }
            nat_stream_set_spool_min(1u << 20);
            assert_int_equal(maif_writer_commit(w), MAIF_OK);
            assert_int_equal(maif_writer_close(w), MAIF_OK);
            maif_keyring_free(kr);
            tu_assert_verifies_clean(path);
            size_t flen;
            uint8_t *img = tu_read(path, &flen);
            assert_null(memmem(img, flen, big + 100, 64)); /* no plaintext reached the file */
            assert_null(memmem(img, flen, "the same line of text, again", 28));
            free(img);
            maif_reader *r = NULL;
            assert_int_equal(maif_reader_open(&r, path), MAIF_OK);
            assert_int_equal(maif_keyring_create(&kr), MAIF_OK);
            assert_int_equal(maif_keyring_add_identity(kr, alice), MAIF_OK);
            assert_int_equal(maif_reader_set_keyring(r, kr), MAIF_OK);
            assert_int_equal(maif_reader_count(r), 1 + 4 * nsz);
            for (int mode = 0; mode < 4; mode++)
                for (size_t t = 0; t < nsz; t++) {
                    uint64_t bi = 1 + (uint64_t)mode * nsz + t;
                    size_t n = sizes[t], got = 0;
                    const uint8_t *pl = big + t + (size_t)mode;
                    maif_block b;
                    assert_int_equal(maif_reader_block(r, bi, &b), MAIF_OK);
                    assert_true(b.cipher == cid || b.cipher == cid + 3);
                    if (!codec || !b.codec) assert_int_equal(b.cipher, n > C ? cid + 3 : cid);
                    assert_int_equal(maif_reader_block_decode(r, bi, back, 3u << 20, &got), MAIF_OK);
                    assert_int_equal(got, n);
                    if (n) assert_memory_equal(back, pl, n);
                    memset(back, 0, n);
                    collect c = {back, 0, 3u << 20};
                    assert_int_equal(maif_reader_block_decode_to(r, bi, collect_write, &c), MAIF_OK);
                    assert_int_equal(c.len, n);
                    if (n) assert_memory_equal(back, pl, n);
                }
            maif_reader_close(r);
            maif_keyring_free(kr);
        }
    }
    free(big);
    free(back);
    tu_rmtree(dir);
    free(dir);
    free(path);
    maif_key_free(signer);
    maif_key_free(alice);
}

/* The descriptor of the one open file under dir (the spool: an
 * O_TMPFILE has no name, /proc shows it as dir/#NNN (deleted)), or -1. */
static int fd_under(const char *dir)
{
    DIR *d = opendir("/proc/self/fd");
    int found = -1;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        char link[300], target[4096];
        snprintf(link, sizeof link, "/proc/self/fd/%s", e->d_name);
        ssize_t k = readlink(link, target, sizeof target - 1);
        if (k <= 0) continue;
        target[k] = 0;
        if (strncmp(target, dir, strlen(dir)) == 0 && target[strlen(dir)] == '/') found = atoi(e->d_name);
    }
    if (d) closedir(d);
    return found;
}

/* A spool (FORMAT.md §5.7, "Spooling") puts no plaintext on disk: the
 * temporary file beside the artifact holds sealed 64 KiB chunks only, has
 * no name and mode 0600; it reads back what was written, and a byte
 * changed in it, or the file cut, fails the read. */
static void test_spool(void **state)
{
    (void)state;
    char *dir = tu_tmpdir(), *near = tu_path(dir, "a.maif");
    const size_t n = 3 * C + 1000;
    uint8_t *pl = payload_new(n, 4), *back = malloc(n), *disk = malloc(n + 4096);
    char err[200];
    for (int damage = 0; damage < 3; damage++) {
        nat_spool *s = NULL;
        assert_int_equal(nat_spool_open(&s, near, err, sizeof err), MAIF_OK);
        for (size_t at = 0; at < n; at += 7777)
            assert_int_equal(nat_spool_write(s, pl + at, n - at < 7777 ? n - at : 7777), MAIF_OK);
        assert_int_equal(nat_spool_rewind(s), MAIF_OK);
        assert_int_equal(nat_spool_size(s), n);
        int fd = fd_under(dir);
        assert_true(fd >= 0);
        struct stat st;
        assert_int_equal(fstat(fd, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
        assert_int_equal(st.st_nlink, 0); /* no name in any directory */
        assert_int_equal((size_t)st.st_size, n + 4 * 16);
        assert_int_equal(pread(fd, disk, (size_t)st.st_size, 0), st.st_size);
        assert_null(memmem(disk, (size_t)st.st_size, "the same line of text", 21));
        assert_null(memmem(disk, (size_t)st.st_size, pl + 10, 32));
        if (damage == 1) { /* a byte of chunk 2 */
            disk[2 * S + 5] ^= 1;
            assert_int_equal(pwrite(fd, disk + 2 * S + 5, 1, 2 * S + 5), 1);
        }
        if (damage == 2) assert_int_equal(ftruncate(fd, 3 * S + 10), 0);
        size_t got = 0;
        int64_t k;
        while ((k = nat_spool_read(s, back + got, 5000)) > 0) got += (size_t)k;
        if (damage == 0) {
            assert_int_equal(k, 0);
            assert_int_equal(got, n);
            assert_memory_equal(back, pl, n);
        } else {
            assert_int_equal(k, MAIF_EVERIFY);
            assert_int_equal(got, damage == 1 ? 2 * C : 3 * C); /* the chunks before the damage, authentic */
        }
        nat_spool_close(s);
        assert_int_equal(fd_under(dir), -1); /* closed, and so gone */
    }
    tu_rmtree(dir);
    free(dir);
    free(near);
    free(pl);
    free(back);
    free(disk);
}

/* zstd decoded piece by piece (codec 1 alone): the frame must match the
 * record as the whole decoder demands, and what it hands over never
 * exceeds the claim: a frame without its checksum or content size, a
 * content size other than decoded_size, bytes after the frame, a second
 * frame, a cut frame and a damaged one are all malformed. */
static void test_zstd_pieces(void **state)
{
    (void)state;
    const size_t n = 3 * C + 5;
    uint8_t *pl = payload_new(n, 8), *enc = malloc(ZSTD_compressBound(n) * 2 + 64), *back = malloc(n + 64);
    uint8_t place[MAIF_STAGE_AD_BYTES] = {0};
    place[MAIF_STAGE_AD_BYTES - 1] = MAIF_CODEC_ZSTD;
    for (int kind = 0; kind < 8; kind++) {
        ZSTD_CCtx *cc = ZSTD_createCCtx();
        assert_false(ZSTD_isError(ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, kind != 1)));
        assert_false(ZSTD_isError(ZSTD_CCtx_setParameter(cc, ZSTD_c_contentSizeFlag, kind != 2)));
        size_t e = ZSTD_compress2(cc, enc, ZSTD_compressBound(n), pl, kind == 7 ? n - 1 : n);
        assert_false(ZSTD_isError(e));
        if (kind == 3) enc[e++] = 0; /* a byte after the frame */
        if (kind == 4) {             /* a second frame */
            size_t e2 = ZSTD_compress2(cc, enc + e, ZSTD_compressBound(n), pl, 10);
            assert_false(ZSTD_isError(e2));
            e += e2;
        }
        if (kind == 5) e -= 9;           /* cut */
        if (kind == 6) enc[e / 2] ^= 0x40; /* damaged inside */
        ZSTD_freeCCtx(cc);
        maif_stage_in in = {.codec = MAIF_CODEC_ZSTD, .stored = enc, .stored_size = e, .has_decoded_size = 1,
                            .decoded_size = n, .ad = place};
        collect c = {back, 0, n + 64};
        char err[200];
        int rc = maif_stage_decode_to(&in, 1u << 30, collect_stage, &c, err, sizeof err);
        assert_true(c.len <= n);
        if (kind == 0) {
            assert_int_equal(rc, MAIF_OK);
            assert_int_equal(c.len, n);
            assert_memory_equal(back, pl, n);
        } else {
            assert_int_equal(rc, MAIF_EFORMAT);
        }
        size_t w = 0; /* the whole decoder agrees */
        assert_int_equal(maif_stage_decode(&in, 1u << 30, back, n, &w, err, sizeof err), kind == 0 ? MAIF_OK : MAIF_EFORMAT);
    }
    free(pl);
    free(enc);
    free(back);
}

/* Writes path: block 0 a key wrap, block 1 the payload (n bytes) sealed
 * with cipher for alice, added as a stream of unknown size (spooled from
 * the first byte) with codec. Returns the blocks added past the base. */
static int add_piped(const char *path, const maif_key *signer, const maif_key *alice, int cipher, int codec,
                     const uint8_t *pl, size_t n)
{
    uint8_t pk[32];
    maif_key_public(alice, pk);
    maif_keyring *kr = NULL;
    assert_int_equal(maif_keyring_create(&kr), MAIF_OK);
    assert_int_equal(maif_keyring_add_recipient(kr, pk), MAIF_OK);
    maif_writer *w = NULL;
    int rc = maif_writer_open(&w, path, signer, NULL);
    if (rc == MAIF_OK) rc = maif_writer_encrypt(w, kr, cipher);
    if (rc == MAIF_OK && codec) rc = maif_writer_set_codec(w, codec, 0);
    nat_stream_set_spool_min(0);
    tu_mem_src m = {pl, n, 0, 9999, 0};
    maif_block_spec sp = {.type = MAIF_TYPE_BINARY};
    if (rc == MAIF_OK) rc = maif_writer_add_stream(w, &sp, tu_mem_read, &m, 0, NULL);
    nat_stream_set_spool_min(1u << 20);
    if (rc == MAIF_OK) rc = maif_writer_commit(w);
    assert_true(rc == MAIF_OK || rc == MAIF_EIO || rc == MAIF_ESTATE);
    int crc = maif_writer_close(w);
    assert_true(crc == MAIF_OK || crc == MAIF_EIO || crc == MAIF_ESTATE);
    maif_keyring_free(kr);
    return rc == MAIF_OK ? 2 : 0;
}

/* Every single-byte change of an artifact holding a block of each STREAM
 * cipher is detected without a key: every byte of the records and a byte
 * in every 97 of the sealed payload (each chunk, the tags included), and
 * with the key the changed block never decodes. The writes of a spooled,
 * compressed, sealed add failing one at a time (ENOSPC) leave the
 * artifact whole, with the block or without it, and no plaintext in it. */
static void test_sweep_and_faults(void **state)
{
    (void)state;
    maif_key *signer = NULL, *alice = NULL;
    assert_int_equal(maif_key_generate(&signer), MAIF_OK);
    assert_int_equal(maif_key_generate(&alice), MAIF_OK);
    char *dir = tu_tmpdir(), *path = tu_path(dir, "w.maif");
    const size_t n = 2 * C + 77;
    uint8_t *pl = payload_new(n, 21), *back = malloc(n);
    maif_keyring *kd = NULL;
    assert_int_equal(maif_keyring_create(&kd), MAIF_OK);
    assert_int_equal(maif_keyring_add_identity(kd, alice), MAIF_OK);
    for (int cipher = 1; cipher <= 3; cipher++) {
        if (!maif_aead_available(cipher)) continue;
        maif_writer *w = NULL;
        assert_int_equal(maif_writer_create(&w, path, signer, "agent", tu_flag(MAIF_OPT_OVERWRITE)), MAIF_OK);
        tu_add_simple(w, MAIF_TYPE_TEXT, "base", 4, NULL, NULL);
        assert_int_equal(maif_writer_commit(w), MAIF_OK);
        assert_int_equal(maif_writer_close(w), MAIF_OK);
        size_t base_len;
        uint8_t *base = tu_read(path, &base_len);
        assert_int_equal(add_piped(path, signer, alice, cipher, 0, pl, n), 2);
        size_t len;
        uint8_t *img = tu_read(path, &len);
        maif_reader *r = NULL;
        assert_int_equal(maif_reader_open_mem(&r, img, len), MAIF_OK);
        maif_block b;
        assert_int_equal(maif_reader_block(r, 2, &b), MAIF_OK);
        assert_int_equal(b.cipher, cipher + 3);
        size_t p0 = (size_t)(b.payload - img), p1 = p0 + b.payload_size;
        maif_reader_close(r);
        size_t missed = 0, tried = 0;
        for (size_t i = 0; i < len; i++) {
            if (i >= p0 && i < p1 && (i - p0) % 97 != 0) continue;
            img[i] ^= 0x04;
            tried++;
            maif_report *rep = NULL;
            if (maif_verify_mem(img, len, NULL, &rep) == MAIF_OK && maif_report_ok(rep)) missed++;
            maif_report_free(rep);
            if (i >= p0 && i < p1 && (i - p0) % (97 * 64) == 0) { /* with the key: it never decodes */
                maif_reader *rk = NULL;
                if (maif_reader_open_mem(&rk, img, len) == MAIF_OK) {
                    assert_int_equal(maif_reader_set_keyring(rk, kd), MAIF_OK);
                    size_t got = 0;
                    assert_int_not_equal(maif_reader_block_decode(rk, 2, back, n, &got), MAIF_OK);
                    maif_reader_close(rk);
                }
            }
            img[i] ^= 0x04;
        }
        print_message("cipher %d: %zu single-byte changes, %zu missed\n", cipher + 3, tried, missed);
        assert_int_equal(missed, 0);
        free(img);
        /* the writes failing one at a time */
        maif_io_fault *fi = NULL;
        assert_int_equal(maif_io_fault_new(&fi, NULL), MAIF_OK);
        assert_int_equal(tu_write(path, base, base_len), 0);
        maif_io_set_default(maif_io_fault_io(fi));
        maif_io_fault_arm(fi, MAIF_IO_OP_WRITE, 0, 0, 0);
        assert_int_equal(add_piped(path, signer, alice, cipher, MAIF_CODEC_ZSTD, pl, n), 2);
        uint64_t calls = maif_io_fault_count(fi, MAIF_IO_OP_WRITE);
        maif_io_set_default(NULL);
        uint64_t whole = 0;
        for (uint64_t k = 0; k <= calls; k++) {
            assert_int_equal(tu_write(path, base, base_len), 0);
            maif_io_set_default(maif_io_fault_io(fi));
            maif_io_fault_arm(fi, MAIF_IO_OP_WRITE, k, ENOSPC, 0);
            int added = add_piped(path, signer, alice, cipher, MAIF_CODEC_ZSTD, pl, n);
            maif_io_set_default(NULL);
            whole += added == 2;
            tu_assert_verifies_clean(path);
            assert_int_equal(maif_reader_open(&r, path), MAIF_OK);
            assert_int_equal(maif_reader_count(r), 1 + (uint64_t)added);
            assert_int_equal(maif_reader_set_keyring(r, kd), MAIF_OK);
            if (added) {
                size_t got = 0;
                assert_int_equal(maif_reader_block_decode(r, 2, back, n, &got), MAIF_OK);
                assert_memory_equal(back, pl, n);
            }
            maif_reader_close(r);
            img = tu_read(path, &len);
            assert_null(memmem(img, len, pl + 1000, 64));
            assert_null(memmem(img, len, "the same line of text, again", 28));
            free(img);
        }
        assert_true(whole < calls);
        maif_io_fault_free(fi);
        free(base);
    }
    maif_keyring_free(kd);
    free(pl);
    free(back);
    tu_rmtree(dir);
    free(dir);
    free(path);
    maif_key_free(signer);
    maif_key_free(alice);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_subkey_kat),
        cmocka_unit_test(test_stage_roundtrip),
        cmocka_unit_test(test_stage_damage),
        cmocka_unit_test(test_writer_roundtrip),
        cmocka_unit_test(test_sweep_and_faults),
        cmocka_unit_test(test_zstd_pieces),
        cmocka_unit_test(test_spool),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
