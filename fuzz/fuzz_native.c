/*
 * fuzz_native.c — the native reader and verifier on arbitrary bytes.
 *
 * Opens the input with maif_reader_open_mem, reads every block, lists every
 * record, looks up ids and histories, and runs maif_verify_mem. Beyond "no
 * crash, no leak, no undefined behaviour", it checks what the API promises:
 * a failed open leaves no handle; found ids map back to blocks with that id;
 * histories are in append order and in range; and whatever the verifier
 * passes, the reader must open with the same block count and read every
 * block, whose payload matches its stored content hash (SHA-256 or
 * BLAKE3, as the header says) (unless a signed
 * erasure record declares it erased, and the report says so). Compressed
 * blocks (codecs zstd, lz4 and zstd-dict) are decoded too, whole and
 * streamed (seeds stream_dict_zstd and lz4_hostile_decoded_size drive the
 * dictionary's streaming decoder and the lz4 size bound): a decode that
 * succeeds gives exactly the size the record claimed, and one byte less
 * room is refused.
 *
 * Random mutations almost never survive the hash chain, so each input runs
 * twice: as given, and re-sealed — every content hash, record hash, Merkle
 * root and frontier recomputed and every commit re-signed with a fixed key
 * — so that mutations also reach the index, commit and metadata rules
 * (and the Merkle node records: whatever verifies must also give proofs
 * that check).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "maif.h"
#include "crypto/crypto.h"
#include "format/native/native.h"
#include "util/common.h"

static int count_sink(void *ctx, const void *p, size_t n)
{
    (void)p;
    *(uint64_t *)ctx += n;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_WALK 100000 /* blocks or records looked at per input */
#define DECODE_MAX (4u << 20) /* largest decoded payload tried per block */

static void check_id(maif_reader *r, const uint8_t id[MAIF_ID_BYTES], uint64_t count)
{
    uint64_t at = 0;
    if (maif_reader_find(r, id, &at) == MAIF_OK) {
        if (at >= count) abort();
        maif_block b;
        if (maif_reader_block(r, at, &b) == MAIF_OK && memcmp(b.id, id, MAIF_ID_BYTES) != 0) abort();
    }
    uint64_t hist[16];
    size_t n = 0;
    if (maif_reader_history(r, id, hist, 16, &n) == MAIF_OK) {
        if (n == 0 || n > count) abort();
        for (size_t i = 0; i < n && i < 16; i++) {
            if (hist[i] >= count) abort();
            if (i && hist[i] <= hist[i - 1]) abort();
        }
    }
}

/* Recomputes the hashes and signatures of a native image in place, as far
 * as its records parse. */
static void reseal(uint8_t *b, size_t n)
{
    static uint8_t pk[32], sk[64];
    static int have_key;
    if (!have_key) {
        uint8_t seed[32] = {7};
        if (sodium_init() < 0) abort();
        crypto_sign_seed_keypair(pk, sk, seed);
        have_key = 1;
    }
    nat_header h;
    if (nat_header_parse(b, n, &h, NULL, 0) != MAIF_OK) return;
    uint8_t prev[32];
    maif_sha256(b, h.header_size, prev);
    nat_merkle m;
    memset(&m, 0, sizeof m);
    uint64_t off = h.header_size;
    while (off < n) {
        nat_rec r;
        int torn;
        if (nat_rec_parse(b, n, off, &r, &torn, NULL, 0) != MAIF_OK) break;
        uint8_t *hdr = b + off, *pay = b + r.payload_off;
        if (memcmp(r.tag, NAT_TAG_COMMIT, 4) == 0) {
            nat_commit c;
            if (nat_commit_parse(b, &r, &c, NULL, 0) == MAIF_OK) {
                memcpy(pay + NC_SIGNER, pk, 32);
                if (c.nfrontier == m.depth) {
                    nat_merkle_root(&m, pay + NC_MERKLE);
                    memcpy(pay + NC_FIXED + (uint64_t)c.nseg * NC_SEG_SIZE, m.h, (size_t)m.depth * 32);
                }
                nat_commit_content_hash(pay, r.stored_size, hdr + NR_CONTENT_HASH);
            }
        } else {
            maif_chash(h.hash_alg, pay, (size_t)r.stored_size, hdr + NR_CONTENT_HASH);
        }
        nat_rec_hash(b, &r, prev, hdr + NR_RECORD_HASH);
        memcpy(prev, hdr + NR_RECORD_HASH, 32);
        if (memcmp(r.tag, NAT_TAG_BLOCK, 4) == 0) {
            uint8_t leaf[32];
            nat_merkle_leaf(prev, leaf);
            nat_merkle_push(&m, leaf);
        } else if (memcmp(r.tag, NAT_TAG_COMMIT, 4) == 0 && r.stored_size >= NC_FIXED + 64 + NAT_TAIL_SIZE) {
            uint8_t msg[48];
            memcpy(msg, NAT_SIG_DOMAIN, 16);
            memcpy(msg + 16, prev, 32);
            crypto_sign_detached(pay + r.stored_size - NAT_TAIL_SIZE - 64, NULL, msg, sizeof msg, sk);
        }
        off = r.end;
    }
}

static void run_one(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    run_one(data, size);
    if (nat_detect(data, size)) {
        uint8_t *c = malloc(size);
        if (!c) return 0;
        memcpy(c, data, size);
        reseal(c, size);
        run_one(c, size);
        free(c);
    }
    return 0;
}

static void run_one(const uint8_t *data, size_t size)
{
    maif_reader *r = NULL;
    int rc = maif_reader_open_mem(&r, data, size);
    uint64_t count = 0;
    int all_blocks_ok = 1;
    if (rc != MAIF_OK) {
        if (r) abort();
    } else {
        count = maif_reader_count(r);
        volatile uint8_t sink = 0;
        uint8_t ids[2][MAIF_ID_BYTES];
        int have[2] = {0, 0};
        for (uint64_t i = 0; i < count && i < MAX_WALK; i++) {
            maif_block b;
            if (maif_reader_block(r, i, &b) != MAIF_OK) {
                all_blocks_ok = 0;
                continue;
            }
            if (b.index != i) abort();
            if (b.payload_size) sink ^= b.payload[0] ^ b.payload[b.payload_size - 1];
            if (b.meta_size) sink ^= (uint8_t)(b.meta[0] ^ b.meta[b.meta_size - 1]);
            if (b.codec || b.cipher) { /* the decoders on hostile frames: the size claim, then the bytes */
                size_t ds = 0, got = 0;
                if (maif_reader_block_decoded_size(r, i, &ds) == MAIF_OK && ds <= DECODE_MAX) {
                    uint8_t *out = malloc(ds ? ds : 1);
                    if (!out) abort();
                    int drc = maif_reader_block_decode(r, i, out, ds, &got);
                    if (drc == MAIF_OK && got != ds) abort();
                    if (ds && maif_reader_block_decode(r, i, out, ds - 1, &got) != MAIF_ELIMIT && drc == MAIF_OK)
                        abort(); /* one byte short must be refused */
                    free(out);
                    /* piece by piece (zstd decompressed as it is read or as
                     * chunks open): never more than the claim, all of it
                     * when the whole decode succeeded */
                    uint64_t total = 0;
                    int trc = maif_reader_block_decode_to(r, i, count_sink, &total);
                    if (total > ds || (trc == MAIF_OK && total != ds) || (drc == MAIF_OK && trc != MAIF_OK)) abort();
                }
            }
            if (!have[0]) {
                memcpy(ids[0], b.id, MAIF_ID_BYTES);
                have[0] = 1;
            }
            if (b.has_supersedes) {
                memcpy(ids[1], b.id, MAIF_ID_BYTES);
                have[1] = 1;
            }
        }
        maif_record rec;
        for (uint64_t i = 0; i < MAX_WALK && maif_reader_record(r, i, &rec) == MAIF_OK; i++) {
            if (!rec.kind) abort();
            sink ^= (uint8_t)rec.size;
        }
        maif_info info;
        if (maif_reader_info(r, &info) != MAIF_OK || info.block_count != count || !info.agent) abort();
        for (int k = 0; k < 2; k++)
            if (have[k]) check_id(r, ids[k], count);
        uint8_t none[MAIF_ID_BYTES] = {0x42};
        check_id(r, none, count);
        /* encrypted blocks: the key wraps they name are parsed with a
         * keyring holding an identity (no passphrase: a KDF per input
         * would be too slow); whatever fails, nothing is released */
        static maif_keyring *kr;
        static maif_key *ident;
        if (!kr && (maif_keyring_create(&kr) || maif_key_generate(&ident) || maif_keyring_add_identity(kr, ident)))
            abort();
        if (maif_reader_set_keyring(r, kr) != MAIF_OK) abort();
        for (uint64_t i = 0, tried = 0; i < count && i < MAX_WALK && tried < 16; i++) {
            maif_block b;
            size_t ds, w;
            if (maif_reader_block(r, i, &b) != MAIF_OK || !b.cipher) continue;
            tried++;
            if (maif_reader_block_decoded_size(r, i, &ds) != MAIF_OK || ds > (1u << 20)) continue;
            uint8_t *dst = calloc(1, ds ? ds : 1);
            if (!dst) abort();
            int drc = maif_reader_block_decode(r, i, dst, ds, &w);
            if (drc != MAIF_OK && drc != MAIF_EACCESS && drc != MAIF_EVERIFY && drc != MAIF_EFORMAT &&
                drc != MAIF_EUNSUPPORTED && drc != MAIF_ENOMEM)
                abort();
            for (size_t k = 0; drc != MAIF_OK && k < ds; k++)
                if (dst[k]) abort(); /* nothing unauthenticated released */
            free(dst);
        }
        (void)sink;
    }

    maif_report *rep = NULL;
    if (maif_verify_mem(data, size, NULL, &rep) != MAIF_OK || !rep) abort();
    for (size_t i = 0; i < maif_report_count(rep); i++) {
        const maif_finding *f = maif_report_finding(rep, i);
        if (!f || !f->code || !f->section || !f->message) abort();
    }
    if (maif_report_ok(rep)) {
        /* what verifies must read */
        if (rc != MAIF_OK || maif_report_blocks(rep) != count || !all_blocks_ok) abort();
        for (uint64_t i = 0; i < count && i < MAX_WALK; i++) {
            maif_block b;
            uint8_t h[MAIF_HASH_BYTES];
            if (maif_reader_block(r, i, &b) != MAIF_OK) abort();
            if (maif_hash(maif_reader_content_hash(r), b.payload, b.payload_size, h) != MAIF_OK) abort();
            if (memcmp(h, b.content_hash, MAIF_HASH_BYTES) == 0) continue;
            /* only a payload a signed erasure record declares erased
             * (FORMAT.md §5.10) may differ, and the report must say so */
            int erased = 0;
            for (size_t k = 0; k < maif_report_count(rep) && !erased; k++) {
                const maif_finding *f = maif_report_finding(rep, k);
                erased = f->block == (int64_t)i &&
                         (!strcmp(f->code, "erased") || !strcmp(f->code, "erasure-incomplete"));
            }
            if (!erased || !b.cipher) abort();
        }
        /* what verifies proves: its Merkle node records (FORMAT.md §5.13)
         * were checked against its blocks, so a proof gathered through
         * them must check */
        for (uint64_t k = 0; k < 3 && count && maif_reader_format(r) == MAIF_FORMAT_NATIVE; k++) {
            uint64_t i = k == 0 ? 0 : k == 1 ? count / 2 : count - 1;
            maif_proof *p = NULL;
            if (maif_reader_prove_inclusion(r, i, MAIF_COMMIT_LAST, &p) != MAIF_OK) abort();
            if (maif_proof_check(p, NULL) != MAIF_OK) abort();
            maif_proof_free(p);
        }
    }
    maif_report_free(rep);
    maif_reader_close(r);
}
