/*
 * gen.c — writes the golden native files of tests/data/golden/.
 *
 * The output is byte-for-byte deterministic: the signing key comes from a
 * fixed seed, block ids and timestamps are explicit, and after the writer
 * has produced a file the few fields it fills from the clock or the random
 * generator (file id, index and commit timestamps) are set to fixed values
 * and the file is re-sealed (record hashes, commit content hashes and
 * signatures recomputed). test_native_faults.c includes this file and
 * regenerates everything into a temporary directory to check that the
 * committed files still match what the library writes: a change of format
 * cannot slip in silently. Broken files are a valid file with one precise
 * change; where the change would also break a hash (the header feeds the
 * chain), the file is re-sealed so that only the rule under test fires.
 *
 * Build and run from the repository root (after `make`):
 *   cc -std=c11 -D_GNU_SOURCE -Iinclude -Isrc tests/data/golden/gen.c build/release/libmaif.a \
 *      $(pkg-config --libs libsodium libcrypto libzstd liblz4 jansson) -lpthread -lm -o build/golden-gen
 *   build/golden-gen tests/data/golden
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "maif.h"
#include "crypto/crypto.h"
#include "format/native/native.h"
#include "util/common.h"

#define GOLDEN_CREATED 1700000000000000ull /* µs: header "created" and the base of every timestamp */
#define GOLDEN_SEED_BYTE(i) ((uint8_t)(0x11 * ((i) % 15 + 1) + (i)))

/* Every file this generator writes, in order. */
static const char *const golden_files[] = {
    "valid_empty.maif",        "valid_small.maif",      "torn_tail.maif",         "bad_magic.maif",
    "truncated_header.maif",   "flipped_payload.maif",  "flipped_metadata.maif",  "wrong_signature.maif",
    "damaged_index.maif",      "bad_tail.maif",         "reserved_header.maif",   "noncanonical_metadata.maif",
    "future_version.maif",     "no_commit.maif",        "bad_padding.maif",       "wrong_block_count.maif",
    "wrong_merkle_root.maif",
};
#define GOLDEN_NFILES (sizeof golden_files / sizeof golden_files[0])

typedef struct gimg {
    uint8_t *b;
    size_t n;
} gimg;

static int g_fail(char *err, size_t cap, const char *what)
{
    snprintf(err, cap, "%s", what);
    return -1;
}

static int g_key(const char *dir, maif_key **out)
{
    char hex[65], path[4096], text[128];
    uint8_t seed[32];
    for (int i = 0; i < 32; i++) seed[i] = GOLDEN_SEED_BYTE(i);
    maif_hex(seed, 32, hex);
    snprintf(path, sizeof path, "%s/golden.key", dir);
    snprintf(text, sizeof text, "maif-ed25519-secret:%s\n", hex);
    FILE *f = fopen(path, "w");
    if (!f) return MAIF_EIO;
    fputs(text, f);
    if (fclose(f) != 0) return MAIF_EIO;
    int rc = maif_key_load(out, path);
    if (rc == MAIF_OK) rc = maif_key_save(*out, path); /* also writes golden.key.pub */
    return rc;
}

static int g_read(const char *path, gimg *g)
{
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    g->b = malloc(n > 0 ? (size_t)n : 1);
    g->n = (size_t)n;
    int ok = g->b && fread(g->b, 1, g->n, f) == g->n;
    fclose(f);
    return ok ? 0 : -1;
}

static int g_write(const char *dir, const char *name, const uint8_t *b, size_t n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = fwrite(b, 1, n, f);
    return fclose(f) == 0 && w == n ? 0 : -1;
}

/* The nth record (0-based) with this tag, or -1. */
static int g_find(const gimg *g, const char *tag, int nth, nat_rec *out)
{
    uint64_t off = rd32le(g->b + NH_HEADER_SIZE);
    while (off < g->n) {
        int torn;
        if (nat_rec_parse(g->b, g->n, off, out, &torn, NULL, 0) != MAIF_OK) return -1;
        if (memcmp(out->tag, tag, 4) == 0 && nth-- == 0) return 0;
        off = out->end;
    }
    return -1;
}

/* Recomputes every record hash, every commit's content hash and signature,
 * and with fix_merkle the commits' Merkle roots and frontiers. Block and
 * index content hashes are left alone. */
static void g_reseal(gimg *g, const maif_key *key, int fix_merkle)
{
    uint8_t prev[32];
    uint32_t hs = rd32le(g->b + NH_HEADER_SIZE);
    maif_sha256(g->b, hs, prev);
    nat_merkle m;
    memset(&m, 0, sizeof m);
    uint64_t off = hs;
    while (off < g->n) {
        nat_rec r;
        int torn;
        if (nat_rec_parse(g->b, g->n, off, &r, &torn, NULL, 0) != MAIF_OK) break;
        uint8_t *hdr = g->b + off;
        uint8_t *pay = g->b + r.payload_off;
        int is_commit = memcmp(r.tag, NAT_TAG_COMMIT, 4) == 0;
        if (is_commit && fix_merkle) {
            nat_merkle_root(&m, pay + NC_MERKLE);
            uint32_t nseg = rd32le(pay + NC_NSEG);
            memcpy(pay + NC_FIXED + (uint64_t)nseg * NC_SEG_SIZE, m.h, (size_t)m.depth * 32);
        }
        if (is_commit) nat_commit_content_hash(pay, r.stored_size, hdr + NR_CONTENT_HASH);
        uint8_t rh[32];
        nat_rec_hash(g->b, &r, prev, rh);
        memcpy(hdr + NR_RECORD_HASH, rh, 32);
        if (memcmp(r.tag, NAT_TAG_BLOCK, 4) == 0) {
            uint8_t leaf[32];
            nat_merkle_leaf(rh, leaf);
            nat_merkle_push(&m, leaf);
        }
        if (is_commit) {
            uint8_t msg[48];
            memcpy(msg, NAT_SIG_DOMAIN, 16);
            memcpy(msg + 16, rh, 32);
            maif_key_sign(key, msg, sizeof msg, pay + r.stored_size - NAT_TAIL_SIZE - MAIF_SIGNATURE_BYTES);
        }
        memcpy(prev, rh, 32);
        off = r.end;
    }
}

/* Fixes the clock- and random-derived fields, then re-seals. */
static void g_normalise(gimg *g, const maif_key *key)
{
    for (int i = 0; i < MAIF_ID_BYTES; i++) g->b[NH_FILE_ID + i] = (uint8_t)(0xf0 + i);
    uint64_t off = rd32le(g->b + NH_HEADER_SIZE), k = 0;
    while (off < g->n) {
        nat_rec r;
        int torn;
        if (nat_rec_parse(g->b, g->n, off, &r, &torn, NULL, 0) != MAIF_OK) break;
        if (memcmp(r.tag, NAT_TAG_BLOCK, 4) != 0) wr64le(g->b + off + NR_TIMESTAMP, GOLDEN_CREATED + 1000000 * ++k);
        off = r.end;
    }
    g_reseal(g, key, 1);
}

static int g_add(maif_writer *w, uint32_t type, const void *p, size_t n, const char *meta, uint8_t idbyte,
                 uint8_t supbyte)
{
    uint8_t id[MAIF_ID_BYTES], sup[MAIF_ID_BYTES];
    memset(id, idbyte, sizeof id);
    memset(sup, supbyte, sizeof sup);
    maif_block_spec s = {.type = type, .payload = p, .payload_size = n, .meta_json = meta,
                         .meta_size = meta ? strlen(meta) : 0, .supersedes = supbyte ? sup : NULL, .id = id,
                         .timestamp_us = GOLDEN_CREATED + idbyte};
    return maif_writer_add(w, &s, NULL);
}

/* The small artifact: three commits (four with `extra`) after the empty
 * first one, every common type, metadata, an unknown type and a chain of
 * three versions (blocks 0 <- 4 <- 6). */
static int g_build(const char *path, const maif_key *key, int batches)
{
    static const float emb[4] = {0.5f, -0.25f, 1.0f, 0.0f};
    uint8_t img[40], bin[100], aud[50];
    for (int i = 0; i < 40; i++) img[i] = (uint8_t)(i * 37);
    for (int i = 0; i < 100; i++) bin[i] = (uint8_t)(255 - i);
    for (int i = 0; i < 50; i++) aud[i] = (uint8_t)(i * i);
    maif_writer *w = NULL;
    int rc = nat_writer_create(&w, path, key, "{\"agent\":\"golden\",\"created_by\":\"maif-c/golden\"}",
                               GOLDEN_CREATED, MAIF_W_OVERWRITE);
    if (rc) return rc;
    if (batches >= 1) {
        rc = rc ? rc : g_add(w, MAIF_TYPE_TEXT, "The quick brown fox", 19,
                             "{\"source\":\"chat\",\"privacy\":\"public\",\"timestamp\":1700000000}", 0x10, 0);
        rc = rc ? rc : g_add(w, MAIF_TYPE_EMBEDDING, emb, sizeof emb, "{\"model\":\"mini\",\"dim\":4}", 0x11, 0);
        rc = rc ? rc : g_add(w, MAIF_TYPE_IMAGE, img, sizeof img, NULL, 0x12, 0);
        rc = rc ? rc : maif_writer_commit(w);
    }
    if (batches >= 2) {
        rc = rc ? rc : g_add(w, MAIF_TYPE_JSON, "{\"k\":[1,2,3]}", 13,
                             "{\"relationships\":[\"10101010101010101010101010101010\"]}", 0x13, 0);
        rc = rc ? rc : g_add(w, MAIF_TYPE_TEXT, "draft v2", 8, "{\"version\":2}", 0x14, 0x10);
        rc = rc ? rc : g_add(w, MAIF_FOURCC('Z', 'Z', 'Z', 'Z'), "opaque", 6, NULL, 0x15, 0);
        rc = rc ? rc : maif_writer_commit(w);
    }
    if (batches >= 3) {
        rc = rc ? rc : g_add(w, MAIF_TYPE_TEXT, "final v3", 8, "{\"version\":3}", 0x16, 0x14);
        rc = rc ? rc : g_add(w, MAIF_TYPE_KNOWLEDGE, "alice knows bob", 15, NULL, 0x17, 0);
        rc = rc ? rc : maif_writer_commit(w);
    }
    if (batches >= 4) {
        rc = rc ? rc : g_add(w, MAIF_TYPE_BINARY, bin, sizeof bin, "{\"part\":1}", 0x18, 0);
        rc = rc ? rc : g_add(w, MAIF_TYPE_AUDIO, aud, sizeof aud, NULL, 0x19, 0);
        rc = rc ? rc : maif_writer_commit(w);
    }
    int rc2 = maif_writer_close(w);
    return rc ? rc : rc2;
}

static int g_build_img(const char *dir, const maif_key *key, int batches, gimg *g)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/.golden-build.maif", dir);
    int rc = g_build(path, key, batches);
    if (rc == MAIF_OK && g_read(path, g) != 0) rc = MAIF_EIO;
    remove(path);
    if (rc == MAIF_OK) g_normalise(g, key);
    return rc;
}

/* Writes every golden file into dir. Returns 0, or -1 with a message. */
static int golden_generate(const char *dir, char *err, size_t cap)
{
    maif_key *key = NULL;
    if (g_key(dir, &key) != MAIF_OK) return g_fail(err, cap, "cannot write or load golden.key");
    gimg empty = {0}, small = {0}, four = {0}, t = {0};
    int rc = -1;
    nat_rec r, r2;
    if (g_build_img(dir, key, 0, &empty) || g_build_img(dir, key, 3, &small) || g_build_img(dir, key, 4, &four)) {
        g_fail(err, cap, "cannot build the valid artifacts");
        goto out;
    }
    t.b = malloc(four.n + 64);
    if (!t.b) goto out;
#define RESET() (memcpy(t.b, small.b, small.n), t.n = small.n)
#define EMIT(name)                                                         \
    do {                                                                   \
        if (g_write(dir, name, t.b, t.n) != 0) {                           \
            g_fail(err, cap, "cannot write " name);                        \
            goto out;                                                      \
        }                                                                  \
    } while (0)
#define FIND(tag, nth, rr)                                                 \
    do {                                                                   \
        if (g_find(&t, tag, nth, rr) != 0) {                               \
            g_fail(err, cap, "record not found");                          \
            goto out;                                                      \
        }                                                                  \
    } while (0)

    memcpy(t.b, empty.b, empty.n);
    t.n = empty.n;
    EMIT("valid_empty.maif");
    RESET();
    EMIT("valid_small.maif");

    /* a crash in the middle of the fourth batch: its first block complete,
     * the second cut 20 bytes into its header */
    memcpy(t.b, four.b, four.n);
    t.n = four.n;
    FIND(NAT_TAG_BLOCK, 9, &r);
    t.n = r.off + 20;
    EMIT("torn_tail.maif");

    RESET();
    t.b[1] ^= 'M' ^ 'X';
    EMIT("bad_magic.maif");

    RESET();
    t.n = 40;
    EMIT("truncated_header.maif");

    RESET();
    FIND(NAT_TAG_BLOCK, 1, &r);
    t.b[r.payload_off + 5] ^= 0x01;
    EMIT("flipped_payload.maif");

    /* "chat" -> "chbt": still canonical JSON, so only the chain notices */
    RESET();
    FIND(NAT_TAG_BLOCK, 0, &r);
    {
        char *p = memmem(t.b + r.meta_off, r.meta_size, "chat", 4);
        if (!p) goto out;
        p[2] = 'b';
    }
    EMIT("flipped_metadata.maif");

    /* the last commit's signature; the signature is outside every hash */
    RESET();
    FIND(NAT_TAG_COMMIT, 3, &r);
    t.b[r.payload_off + r.stored_size - NAT_TAIL_SIZE - MAIF_SIGNATURE_BYTES + 7] ^= 0x40;
    EMIT("wrong_signature.maif");

    /* the last index leaf's entry for block 6 points at block 7 */
    RESET();
    FIND(NAT_TAG_INDEX, 2, &r);
    {
        uint8_t *p = t.b + r.payload_off;
        uint64_t first = rd64le(p), count = rd64le(p + 8);
        if (first > 6 || first + count < 8) goto out;
        wr32le(p + NAT_INDEX_HEAD + 4 * (6 - first), rd32le(p + NAT_INDEX_HEAD + 4 * (7 - first)));
    }
    EMIT("damaged_index.maif");

    RESET();
    memcpy(t.b + t.n - 8, "MAIFTAIX", 8);
    EMIT("bad_tail.maif");

    RESET();
    t.b[NH_RESERVED + 3] = 0x01;
    g_reseal(&t, key, 1);
    EMIT("reserved_header.maif");

    /* block 0's metadata with its keys out of order (same length), re-sealed */
    RESET();
    FIND(NAT_TAG_BLOCK, 0, &r);
    {
        static const char want[] = "{\"privacy\":\"public\",\"source\":\"chat\",\"timestamp\":1700000000}";
        static const char bad[] = "{\"source\":\"chat\",\"privacy\":\"public\",\"timestamp\":1700000000}";
        if (r.meta_size != sizeof want - 1 || memcmp(t.b + r.meta_off, want, r.meta_size) != 0) {
            g_fail(err, cap, "block 0 metadata is not what the generator expects");
            goto out;
        }
        memcpy(t.b + r.meta_off, bad, sizeof bad - 1);
    }
    g_reseal(&t, key, 1);
    EMIT("noncanonical_metadata.maif");

    RESET();
    wr16le(t.b + NH_READ_VER, NAT_READ_VERSION + 1);
    wr16le(t.b + NH_WRITE_VER, NAT_WRITE_VERSION + 1);
    g_reseal(&t, key, 1);
    EMIT("future_version.maif");

    /* the header and the first block of a batch, never committed */
    RESET();
    FIND(NAT_TAG_BLOCK, 0, &r);
    memmove(t.b + rd32le(t.b + NH_HEADER_SIZE), t.b + r.off, (size_t)(r.end - r.off));
    t.n = rd32le(t.b + NH_HEADER_SIZE) + (size_t)(r.end - r.off);
    g_reseal(&t, key, 0);
    EMIT("no_commit.maif");

    /* a non-zero byte in the padding between block 0's metadata and payload
     * (padding is outside every hash) */
    RESET();
    FIND(NAT_TAG_BLOCK, 0, &r);
    if (r.payload_off == r.meta_off + r.meta_size) {
        g_fail(err, cap, "block 0 has no padding");
        goto out;
    }
    t.b[r.payload_off - 1] = 0x20;
    EMIT("bad_padding.maif");

    /* the second commit claims one block more than precede it */
    RESET();
    FIND(NAT_TAG_COMMIT, 1, &r);
    wr64le(t.b + r.payload_off + NC_BLOCKS, rd64le(t.b + r.payload_off + NC_BLOCKS) + 1);
    g_reseal(&t, key, 1);
    EMIT("wrong_block_count.maif");

    /* the last commit's Merkle root altered, the rest re-sealed around it */
    RESET();
    FIND(NAT_TAG_COMMIT, 3, &r2);
    t.b[r2.payload_off + NC_MERKLE] ^= 0x80;
    g_reseal(&t, key, 0);
    EMIT("wrong_merkle_root.maif");
    rc = 0;
#undef RESET
#undef EMIT
#undef FIND
out:
    free(empty.b);
    free(small.b);
    free(four.b);
    free(t.b);
    maif_key_free(key);
    if (rc && !err[0]) g_fail(err, cap, "generation failed");
    return rc;
}

#ifndef GOLDEN_NO_MAIN
int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
        return 2;
    }
    char err[256] = "";
    if (golden_generate(argv[1], err, sizeof err) != 0) {
        fprintf(stderr, "gen: %s\n", err);
        return 1;
    }
    for (size_t i = 0; i < GOLDEN_NFILES; i++) printf("%s/%s\n", argv[1], golden_files[i]);
    return 0;
}
#endif
