/*
 * test_access.c — the privacy engine's lifecycle: signed audit blocks,
 * grant / revoke / rotation (key-wrap versions), crypto-shredding with a
 * keystore (the old keystore copy opens nothing, verify accepts punched
 * payloads only with a signed erasure record), access policies (a table
 * of decisions, hostile JSON, the reader gate, fail-closed policy
 * chains) and single-byte sweeps over artifacts holding audit, policy
 * and erasure blocks.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "privacy/privacy.h"

typedef struct fx {
    char *dir, *path, *ks, *master;
    maif_key *owner, *bob, *carol;
    uint8_t owner_pk[32], bob_pk[32], carol_pk[32];
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    f->dir = tu_tmpdir();
    f->path = tu_path(f->dir, "a.maif");
    f->ks = tu_path(f->dir, "a.maif.keystore");
    f->master = tu_path(f->dir, "a.master");
    assert_int_equal(maif_key_generate(&f->owner), MAIF_OK);
    assert_int_equal(maif_key_generate(&f->bob), MAIF_OK);
    assert_int_equal(maif_key_generate(&f->carol), MAIF_OK);
    maif_key_public(f->owner, f->owner_pk);
    maif_key_public(f->bob, f->bob_pk);
    maif_key_public(f->carol, f->carol_pk);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    maif_key_free(f->owner);
    maif_key_free(f->bob);
    maif_key_free(f->carol);
    tu_rmtree(f->dir);
    free(f->dir);
    free(f->path);
    free(f->ks);
    free(f->master);
    free(f);
    return 0;
}

static maif_keyring *ring_for(const maif_key *identity)
{
    maif_keyring *kr = NULL;
    assert_int_equal(maif_keyring_create(&kr), MAIF_OK);
    if (identity) assert_int_equal(maif_keyring_add_identity(kr, identity), MAIF_OK);
    return kr;
}

/* decodes block i of path with identity; returns the code, text in out */
static int read_as(const char *path, uint64_t i, const maif_key *identity, maif_keystore *ks, char *out, size_t cap)
{
    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open(&r, path), MAIF_OK);
    maif_keyring *kr = ring_for(identity);
    if (ks) assert_int_equal(maif_keyring_add_keystore(kr, ks), MAIF_OK);
    assert_int_equal(maif_reader_set_keyring(r, kr), MAIF_OK);
    size_t n = 0;
    memset(out, 0, cap);
    int rc = maif_reader_block_decode(r, i, out, cap - 1, &n);
    maif_reader_close(r);
    maif_keyring_free(kr);
    return rc;
}

static int verify_ok(const char *path, int *erased)
{
    maif_report *rep = NULL;
    assert_int_equal(maif_verify_file(path, NULL, &rep), MAIF_OK);
    int ok = maif_report_ok(rep);
    if (erased) {
        *erased = 0;
        for (size_t i = 0; i < maif_report_count(rep); i++)
            if (!strcmp(maif_report_finding(rep, i)->code, "erased")) (*erased)++;
    }
    maif_report_free(rep);
    return ok;
}

static void audit(maif_writer *w, const char *action, const char *fields)
{
    assert_int_equal(maif_writer_audit(w, action, fields, fields ? strlen(fields) : 0, NULL), MAIF_OK);
}

/* ---- audit blocks */

static void test_audit_blocks(void **state)
{
    fx *f = *state;
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->owner, "agent", NULL), MAIF_OK);
    uint8_t id[16];
    assert_int_equal(maif_writer_audit(w, "read", "{\"block\":\"x\"}", 13, id), MAIF_OK);
    assert_int_equal(maif_writer_audit(w, "Bad!", NULL, 0, NULL), MAIF_EINVAL);
    assert_int_equal(maif_writer_audit(w, "read", "{\"action\":\"x\"}", 14, NULL), MAIF_EJSON);
    assert_int_equal(maif_writer_audit(w, "read", "[1]", 3, NULL), MAIF_EJSON);
    assert_int_equal(maif_writer_audit(w, "read", "{", 1, NULL), MAIF_EJSON);
    tu_add_simple(w, MAIF_TYPE_TEXT, "plain", 5, NULL, NULL);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);

    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    maif_block b;
    assert_int_equal(maif_reader_block(r, 0, &b), MAIF_OK);
    assert_int_equal(b.type, MAIF_TYPE_AUDIT);
    assert_memory_equal(b.payload, "{\"action\":\"read\",\"block\":\"x\"}", b.payload_size);
    uint8_t actor[32];
    assert_int_equal(maif_reader_check_signed(r, 0, actor), MAIF_OK);
    assert_memory_equal(actor, f->owner_pk, 32);
    assert_int_equal(maif_reader_check_signed(r, 1, actor), MAIF_EINVAL); /* not a control block */
    maif_reader_close(r);
    assert_true(verify_ok(f->path, NULL));

    /* a flipped payload byte: the own signature fails, and so does verify */
    size_t n;
    uint8_t *img = tu_read(f->path, &n);
    assert_int_equal(maif_reader_open_mem(&r, img, n), MAIF_OK);
    assert_int_equal(maif_reader_block(r, 0, &b), MAIF_OK);
    size_t off = (size_t)(b.payload - img);
    maif_reader_close(r);
    img[off + 12] ^= 0x20;
    assert_int_equal(maif_reader_open_mem(&r, img, n), MAIF_OK);
    assert_int_equal(maif_reader_check_signed(r, 0, actor), MAIF_EVERIFY);
    maif_reader_close(r);
    maif_report *rep = NULL;
    assert_int_equal(maif_verify_mem(img, n, NULL, &rep), MAIF_OK);
    assert_false(maif_report_ok(rep));
    maif_report_free(rep);
    free(img);
}

/* ---- grant, revoke, rotate */

static void test_grant_revoke_rotate(void **state)
{
    fx *f = *state;
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->owner, "agent", NULL), MAIF_OK);
    maif_keyring *kr = ring_for(f->owner);
    assert_int_equal(maif_keyring_add_recipient(kr, f->owner_pk), MAIF_OK);
    assert_int_equal(maif_writer_encrypt(w, kr, MAIF_CIPHER_XCHACHA20), MAIF_OK);
    tu_add_simple(w, MAIF_TYPE_TEXT, "before grant", 12, NULL, NULL); /* block 1 */
    char fields[200], hex[65];
    snprintf(fields, sizeof fields, "{\"recipient\":\"%s\",\"role\":\"reader\"}", maif_hex(f->bob_pk, 32, hex));
    audit(w, "grant", fields); /* block 2 */
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    maif_keyring_free(kr);
    char out[64];
    assert_int_equal(read_as(f->path, 1, f->bob, NULL, out, sizeof out), MAIF_EACCESS);

    /* the grant followed, then a rotation: bob opens the old block */
    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    kr = ring_for(f->owner);
    assert_int_equal(maif_keyring_follow(kr, r), MAIF_OK);
    assert_int_equal(maif_keyring_add_recipient(kr, f->owner_pk), MAIF_OK);
    uint64_t done = 9, unopened = 9;
    assert_int_equal(maif_keyring_rewrap(kr, r, w, &done, &unopened), MAIF_OK);
    assert_int_equal(done, 1);
    assert_int_equal(unopened, 0);
    assert_int_equal(maif_writer_commit(w), MAIF_OK); /* block 3: KEYW v2 */
    maif_reader_close(r);
    assert_int_equal(read_as(f->path, 1, f->bob, NULL, out, sizeof out), MAIF_OK);
    assert_string_equal(out, "before grant");
    /* a new block is wrapped for bob too (the keyring follows the grant) */
    assert_int_equal(maif_writer_encrypt(w, kr, MAIF_CIPHER_XCHACHA20), MAIF_OK);
    tu_add_simple(w, MAIF_TYPE_TEXT, "granted", 7, NULL, NULL); /* 4 KEYW, 5 */
    snprintf(fields, sizeof fields, "{\"recipient\":\"%s\"}", hex);
    audit(w, "revoke", fields); /* 6 */
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    maif_keyring_free(kr);
    assert_int_equal(read_as(f->path, 5, f->bob, NULL, out, sizeof out), MAIF_OK);

    /* revoked: refused as a recipient, new blocks closed to it */
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    kr = ring_for(f->owner);
    assert_int_equal(maif_keyring_follow(kr, r), MAIF_OK);
    assert_int_equal(maif_keyring_add_recipient(kr, f->bob_pk), MAIF_EACCESS);
    assert_int_equal(maif_keyring_add_recipient(kr, f->owner_pk), MAIF_OK);
    assert_int_equal(maif_writer_encrypt(w, kr, MAIF_CIPHER_XCHACHA20), MAIF_OK);
    tu_add_simple(w, MAIF_TYPE_TEXT, "after revoke", 12, NULL, NULL); /* 7 KEYW, 8 */
    assert_int_equal(maif_keyring_rewrap(kr, r, w, &done, &unopened), MAIF_OK); /* rotate */
    assert_int_equal(done, 2);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    maif_reader_close(r);
    maif_keyring_free(kr);
    assert_int_equal(read_as(f->path, 8, f->bob, NULL, out, sizeof out), MAIF_EACCESS);
    assert_int_equal(read_as(f->path, 8, f->owner, NULL, out, sizeof out), MAIF_OK);
    assert_int_equal(read_as(f->path, 1, f->owner, NULL, out, sizeof out), MAIF_OK);
    assert_int_equal(read_as(f->path, 1, f->carol, NULL, out, sizeof out), MAIF_EACCESS);
    /* documented: what was sealed before the revocation stays open to a
     * revoked recipient who keeps the file (its old key-wrap versions stay
     * in the append-only log) */
    assert_int_equal(read_as(f->path, 5, f->bob, NULL, out, sizeof out), MAIF_OK);
    /* the rotated key wraps name bob no more: a reader limited to the
     * newest version would not open it (checked via the rewrap count) */
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    assert_true(verify_ok(f->path, NULL));

    /* a rewrap without recipients is refused; NULLs too */
    maif_keyring *empty = ring_for(NULL);
    assert_int_equal(maif_keyring_rewrap(empty, NULL, NULL, NULL, NULL), MAIF_EINVAL);
    assert_int_equal(maif_keyring_follow(NULL, NULL), MAIF_EINVAL);
    maif_keyring_free(empty);
}

/* ---- crypto-shredding */

static int contains(const uint8_t *h, size_t n, const uint8_t *needle, size_t m)
{
    for (size_t i = 0; i + m <= n; i++)
        if (memcmp(h + i, needle, m) == 0) return 1;
    return 0;
}

static void shred_case(fx *f, unsigned flags)
{
    maif_keystore *ks = NULL;
    assert_int_equal(maif_keystore_open(&ks, f->ks, f->master, 0), MAIF_ENOTFOUND);
    assert_int_equal(maif_keystore_open(&ks, f->ks, f->master, 1), MAIF_OK);
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->owner, "agent", tu_flag(MAIF_OPT_OVERWRITE)), MAIF_OK);
    static const char secret[] = "the patient's diagnosis, to be forgotten";
    assert_int_equal(maif_writer_encrypt_shreddable(w, ks, MAIF_CIPHER_XCHACHA20), MAIF_OK);
    tu_add_simple(w, MAIF_TYPE_TEXT, secret, sizeof secret - 1, NULL, NULL); /* 0 */
    assert_int_equal(maif_writer_encrypt_shreddable(w, ks, MAIF_CIPHER_CHACHA20), MAIF_OK);
    tu_add_simple(w, MAIF_TYPE_TEXT, "keep this", 9, NULL, NULL); /* 1 */
    assert_int_equal(maif_writer_encrypt(w, NULL, 0), MAIF_OK);
    tu_add_simple(w, MAIF_TYPE_TEXT, "plain", 5, NULL, NULL); /* 2 */
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_keystore_count(ks), 2);
    char out[128];
    assert_int_equal(read_as(f->path, 0, NULL, ks, out, sizeof out), MAIF_OK);
    assert_string_equal(out, secret);
    assert_int_equal(read_as(f->path, 0, NULL, NULL, out, sizeof out), MAIF_EACCESS);
    /* the data key itself, to look for afterwards */
    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    maif_block b;
    assert_int_equal(maif_reader_block(r, 0, &b), MAIF_OK);
    maif_reader_close(r);
    /* a copy of the keystore saved before the shred (a backup) */
    size_t kn;
    uint8_t *old = tu_read(f->ks, &kn);
    char *oldpath = tu_path(f->dir, "old.keystore");
    assert_int_equal(tu_write(oldpath, old, kn), 0);
    free(old);

    /* shred: not an encrypted block / not in the keystore refused */
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    uint64_t which = 2, erased = 0;
    assert_int_equal(maif_keystore_shred(ks, r, w, &which, 1, flags, &erased), MAIF_EINVAL);
    assert_int_equal(maif_keystore_shred(ks, r, w, &which, 1, 0x80, &erased), MAIF_EINVAL);
    which = 0;
    assert_int_equal(maif_keystore_shred(ks, r, w, &which, 1, flags, &erased), MAIF_OK);
    assert_int_equal(erased, 1);
    maif_reader_close(r);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    assert_int_equal(maif_keystore_count(ks), 1);

    /* nothing opens block 0 now: the keystore, a fresh open of it, the old copy */
    assert_int_equal(read_as(f->path, 0, f->owner, ks, out, sizeof out), MAIF_EACCESS);
    assert_int_equal(read_as(f->path, 1, NULL, ks, out, sizeof out), MAIF_OK);
    assert_string_equal(out, "keep this");
    maif_keystore_close(ks);
    assert_int_equal(maif_keystore_open(&ks, f->ks, f->master, 0), MAIF_OK);
    assert_int_equal(read_as(f->path, 0, NULL, ks, out, sizeof out), MAIF_EACCESS);
    maif_keystore_close(ks);
    maif_keystore *oldks = NULL;
    assert_int_equal(maif_keystore_open(&oldks, oldpath, f->master, 0), MAIF_EKEY);
    assert_null(oldks);
    /* the plaintext is nowhere in the file, the keystore or the old copy */
    size_t fn, n1, n2;
    uint8_t *img = tu_read(f->path, &fn), *k1 = tu_read(f->ks, &n1), *k2 = tu_read(oldpath, &n2);
    const uint8_t *needle = (const uint8_t *)secret;
    assert_false(contains(img, fn, needle, 12));
    assert_false(contains(k1, n1, needle, 12));
    assert_false(contains(k2, n2, needle, 12));
    free(k1);
    free(k2);
    free(oldpath);

    /* verify passes, reporting the erasure when the ciphertext was punched */
    int nerased = 0;
    assert_true(verify_ok(f->path, &nerased));
    assert_int_equal(nerased, (flags & MAIF_SHRED_PUNCH) ? 1 : 0);
    if (flags & MAIF_SHRED_PUNCH) {
        /* the punched payload reads as zeros; a byte put back there is an
         * interrupted overwrite (a warning), the erasure record altered is
         * an error */
        assert_int_equal(maif_reader_open_mem(&r, img, fn), MAIF_OK);
        assert_int_equal(maif_reader_block(r, 0, &b), MAIF_OK);
        size_t poff = (size_t)(b.payload - img), plen = b.payload_size;
        maif_block e;
        assert_int_equal(maif_reader_block(r, 3, &e), MAIF_OK);
        assert_int_equal(e.type, MAIF_TYPE_ERASURE);
        maif_erasure er;
        assert_int_equal(maif_erasure_parse(&e, &er), MAIF_OK);
        assert_int_equal(er.punched, 1);
        assert_int_equal(er.count, 1);
        assert_memory_equal(er.entries, b.id, 16);
        assert_memory_equal(er.entries + 16, b.content_hash, 32);
        assert_int_equal(maif_erasure_parse(&b, &er), MAIF_EINVAL); /* not an ERAS block */
        maif_block bad = e;
        bad.payload_size--; /* a size that is not 9 + 48 x count */
        assert_int_equal(maif_erasure_parse(&bad, &er), MAIF_EFORMAT);
        uint8_t forged[9 + 48];
        memcpy(forged, e.payload, sizeof forged);
        forged[4] = 2; /* unknown flags */
        bad.payload = forged;
        bad.payload_size = sizeof forged;
        assert_int_equal(maif_erasure_parse(&bad, &er), MAIF_EFORMAT);
        forged[4] = 0;
        forged[5] = 2; /* count 2 in the size of 1 */
        assert_int_equal(maif_erasure_parse(&bad, &er), MAIF_EFORMAT);
        size_t eoff = (size_t)(e.payload - img);
        uint8_t actor[32];
        assert_int_equal(maif_reader_check_signed(r, 3, actor), MAIF_OK);
        maif_reader_close(r);
        for (size_t i = 0; i < plen; i++) assert_int_equal(img[poff + i], 0);
        maif_report *rep = NULL;
        img[poff + plen / 2] = 1;
        assert_int_equal(maif_verify_mem(img, fn, NULL, &rep), MAIF_OK);
        assert_true(maif_report_ok(rep));
        int warned = 0;
        for (size_t i = 0; i < maif_report_count(rep); i++)
            warned |= !strcmp(maif_report_finding(rep, i)->code, "erasure-incomplete");
        assert_true(warned);
        maif_report_free(rep);
        img[poff + plen / 2] = 0;
        img[eoff + 12] ^= 1; /* the id the erasure names */
        assert_int_equal(maif_verify_mem(img, fn, NULL, &rep), MAIF_OK);
        assert_false(maif_report_ok(rep));
        maif_report_free(rep);
        img[eoff + 12] ^= 1;
        /* single-byte sweep over the artifact with the erasure record: every
         * flip fails verification, but for flips inside the erased payload,
         * which the signed record declares gone (a warning) */
        size_t missed = 0;
        for (size_t i = 0; i < fn; i++) {
            if (i >= poff && i < poff + plen) continue;
            img[i] ^= 0x04;
            rep = NULL;
            if (maif_verify_mem(img, fn, NULL, &rep) == MAIF_OK && maif_report_ok(rep)) missed++;
            maif_report_free(rep);
            img[i] ^= 0x04;
        }
        assert_int_equal(missed, 0);
        /* an interrupted overwrite: the key is gone, shred --punch finishes it */
        uint8_t junk = 0x5a;
        FILE *fp = fopen(f->path, "r+b");
        assert_non_null(fp);
        assert_int_equal(fseek(fp, (long)(poff + 3), SEEK_SET), 0);
        assert_int_equal(fwrite(&junk, 1, 1, fp), 1);
        fclose(fp);
        assert_true(verify_ok(f->path, &nerased));
        assert_int_equal(nerased, 0);
        assert_int_equal(maif_keystore_open(&ks, f->ks, f->master, 0), MAIF_OK);
        assert_int_equal(maif_writer_open(&w, f->path, f->owner, NULL), MAIF_OK);
        assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
        which = 0;
        assert_int_equal(maif_keystore_shred(ks, r, w, &which, 1, 0, &erased), MAIF_EINVAL); /* already erased */
        assert_int_equal(maif_keystore_shred(ks, r, w, &which, 1, MAIF_SHRED_PUNCH, &erased), MAIF_OK);
        assert_int_equal(erased, 1);
        assert_int_equal(maif_keystore_count(ks), 1); /* the other key stays */
        maif_reader_close(r);
        assert_int_equal(maif_writer_close(w), MAIF_OK);
        maif_keystore_close(ks);
        assert_true(verify_ok(f->path, &nerased));
        assert_int_equal(nerased, 1);
    }
    free(img);
}

static void test_shred(void **state) { shred_case(*state, 0); }
static void test_shred_punch(void **state) { shred_case(*state, MAIF_SHRED_PUNCH); }

/* A payload zeroed without an erasure record is damage. */
static void test_zeroed_without_record(void **state)
{
    fx *f = *state;
    maif_keystore *ks = NULL;
    assert_int_equal(maif_keystore_open(&ks, f->ks, f->master, 1), MAIF_OK);
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->owner, "agent", NULL), MAIF_OK);
    assert_int_equal(maif_writer_encrypt_shreddable(w, ks, MAIF_CIPHER_XCHACHA20), MAIF_OK);
    tu_add_simple(w, MAIF_TYPE_TEXT, "zero me by hand", 15, NULL, NULL);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    size_t n;
    uint8_t *img = tu_read(f->path, &n);
    maif_reader *r = NULL;
    maif_block b;
    assert_int_equal(maif_reader_open_mem(&r, img, n), MAIF_OK);
    assert_int_equal(maif_reader_block(r, 0, &b), MAIF_OK);
    size_t poff = (size_t)(b.payload - img), plen = b.payload_size;
    maif_reader_close(r);
    memset(img + poff, 0, plen);
    maif_report *rep = NULL;
    assert_int_equal(maif_verify_mem(img, n, NULL, &rep), MAIF_OK);
    assert_false(maif_report_ok(rep));
    maif_report_free(rep);
    free(img);
    /* rekey: the keystore still opens under its new master */
    assert_int_equal(maif_keystore_rekey(ks), MAIF_OK);
    maif_keystore_close(ks);
    assert_int_equal(maif_keystore_open(&ks, f->ks, f->master, 0), MAIF_OK);
    assert_int_equal(maif_keystore_count(ks), 1);
    maif_keystore_close(ks);
    /* a hostile keystore file: refused, never read past its size */
    static const uint8_t junk[30] = "MKS1";
    assert_int_equal(tu_write(f->ks, junk, sizeof junk), 0);
    assert_int_equal(maif_keystore_open(&ks, f->ks, f->master, 0), MAIF_EFORMAT);
}

/* Crash safety of shredding: a child shreds blocks one call at a time
 * (with --punch on odd rounds) and is SIGKILLed at a random moment. After
 * every kill the artifact (its torn tail cut) verifies, the keystore opens
 * (its master, or the new one beside it), and every block either opens
 * with its plaintext intact or is named by an erasure record. */
static void test_shred_crash(void **state)
{
    fx *f = *state;
    const int blocks = 6;
    const size_t size = 96u << 10;
    uint64_t seed = 0x5eed, window_us = 400000; /* round 0 is not killed: it measures a whole run */
    for (int round = 0; round < 24; round++) {
        unlink(f->path);
        unlink(f->ks);
        unlink(f->master);
        maif_keystore *ks = NULL;
        assert_int_equal(maif_keystore_open(&ks, f->ks, f->master, 1), MAIF_OK);
        maif_writer *w = NULL;
        assert_int_equal(maif_writer_create(&w, f->path, f->owner, "agent", NULL), MAIF_OK);
        uint8_t *buf = tu_pattern_new(size, 0);
        for (int i = 0; i < blocks; i++) {
            tu_pattern(buf, size, (uint64_t)i + 1);
            assert_int_equal(maif_writer_encrypt_shreddable(w, ks, MAIF_CIPHER_XCHACHA20), MAIF_OK);
            tu_add_simple(w, MAIF_TYPE_BINARY, buf, size, NULL, NULL);
        }
        assert_int_equal(maif_writer_commit(w), MAIF_OK);
        assert_int_equal(maif_writer_close(w), MAIF_OK);
        maif_keystore_close(ks);
        fflush(NULL);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            maif_keystore *cks = NULL;
            if (maif_keystore_open(&cks, f->ks, f->master, 0)) _exit(2);
            for (uint64_t i = 0; i < (uint64_t)blocks; i++) {
                maif_writer *cw = NULL;
                maif_reader *cr = NULL;
                if (maif_writer_open(&cw, f->path, f->owner, NULL) || maif_reader_open(&cr, f->path)) _exit(3);
                uint64_t e;
                if (maif_keystore_shred(cks, cr, cw, &i, 1, (round & 1) ? MAIF_SHRED_PUNCH : 0, &e)) _exit(4);
                maif_reader_close(cr);
                (void)maif_writer_close(cw);
            }
            _exit(0);
        }
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        int st;
        if (round == 0) {
            uint64_t t0 = tu_now_us();
            waitpid(pid, &st, 0);
            assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
            window_us = tu_now_us() - t0 + 1;
        } else {
            usleep((useconds_t)((seed >> 33) % window_us));
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
        }
        uint64_t cut = 0;
        assert_int_equal(maif_recover(f->path, NULL, &cut), MAIF_OK);
        maif_report *rep = NULL;
        assert_int_equal(maif_verify_file(f->path, NULL, &rep), MAIF_OK);
        for (size_t i = 0; i < maif_report_count(rep); i++)
            if (maif_report_finding(rep, i)->severity == MAIF_SEV_ERROR)
                fail_msg("round %d: %s", round, maif_report_finding(rep, i)->message);
        maif_report_free(rep);
        assert_int_equal(maif_keystore_open(&ks, f->ks, f->master, 0), MAIF_OK);
        maif_reader *r = NULL;
        assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
        maif_keyring *kr = ring_for(NULL);
        assert_int_equal(maif_keyring_add_keystore(kr, ks), MAIF_OK);
        assert_int_equal(maif_reader_set_keyring(r, kr), MAIF_OK);
        uint64_t data = 0, closed = 0;
        for (uint64_t i = 0; i < maif_reader_count(r); i++) {
            maif_block b;
            assert_int_equal(maif_reader_block(r, i, &b), MAIF_OK);
            if (b.type != MAIF_TYPE_BINARY) continue;
            size_t n = 0;
            int rc = maif_reader_block_decode(r, i, buf, size, &n);
            if (rc == MAIF_OK) {
                assert_int_equal(n, size);
                assert_true(tu_check_pattern(buf, size, data + 1));
            } else {
                /* closed: it must be named by an erasure record */
                assert_int_equal(rc, MAIF_EACCESS);
                int named = 0;
                for (uint64_t k = i + 1; k < maif_reader_count(r) && !named; k++) {
                    maif_block e;
                    assert_int_equal(maif_reader_block(r, k, &e), MAIF_OK);
                    if (e.type == MAIF_TYPE_ERASURE && memmem(e.payload, e.payload_size, b.id, 16)) named = 1;
                }
                assert_true(named);
                closed++;
            }
            data++;
        }
        if (getenv("MAIF_SHRED_STATS")) fprintf(stderr, "round %d: %llu closed, cut %llu, exit %d\n", round, (unsigned long long)closed, (unsigned long long)cut, WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st));
        assert_int_equal(data, blocks);
        maif_reader_close(r);
        maif_keyring_free(kr);
        maif_keystore_close(ks);
        free(buf);
    }
}

/* ---- sealed metadata */

static void test_sealed_meta(void **state)
{
    fx *f = *state;
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->owner, "agent", NULL), MAIF_OK);
    maif_block_spec sp = {.type = MAIF_TYPE_TEXT, .payload = "note", .payload_size = 4,
                          .meta_json = "{\"source\":\"chat\"}", .meta_size = 17};
    const char *priv = "{\"patient\": \"Jane Doe\", \"mrn\": 123}";
    assert_int_equal(maif_writer_add_sealed(w, &sp, priv, strlen(priv), NULL), MAIF_ESTATE); /* no encryption */
    maif_keyring *kr = ring_for(NULL);
    assert_int_equal(maif_keyring_add_recipient(kr, f->owner_pk), MAIF_OK);
    assert_int_equal(maif_writer_encrypt(w, kr, MAIF_CIPHER_XCHACHA20), MAIF_OK); /* 0 KEYW */
    uint8_t id[16];
    assert_int_equal(maif_writer_add_sealed(w, &sp, priv, strlen(priv), id), MAIF_OK); /* 1 */
    assert_int_equal(maif_writer_add_sealed(w, &sp, "[1]", 3, NULL), MAIF_EJSON);
    maif_block_spec bad = sp;
    bad.meta_json = "{\"sealed_meta\":\"x\"}";
    bad.meta_size = strlen(bad.meta_json);
    assert_int_equal(maif_writer_add_sealed(w, &bad, priv, strlen(priv), NULL), MAIF_EJSON);
    maif_keystore *ks = NULL;
    assert_int_equal(maif_keystore_open(&ks, f->ks, f->master, 1), MAIF_OK);
    assert_int_equal(maif_writer_encrypt_shreddable(w, ks, MAIF_CIPHER_XCHACHA20), MAIF_OK);
    assert_int_equal(maif_writer_add_sealed(w, &sp, "{\"x\":1}", 7, NULL), MAIF_OK); /* 2 */
    assert_int_equal(maif_writer_encrypt(w, NULL, 0), MAIF_OK);
    tu_add_simple(w, MAIF_TYPE_TEXT, "plain", 5, NULL, NULL); /* 3 */
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    maif_keyring_free(kr);
    assert_true(verify_ok(f->path, NULL));

    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    maif_block b;
    assert_int_equal(maif_reader_block(r, 1, &b), MAIF_OK);
    assert_memory_equal(b.id, id, 16);
    assert_null(memmem(b.meta, b.meta_size, "Jane", 4));
    assert_non_null(memmem(b.meta, b.meta_size, "\"source\":\"chat\"", 15));
    char out[256];
    size_t len = 0;
    assert_int_equal(maif_reader_sealed_meta(r, 1, out, sizeof out, &len), MAIF_EACCESS); /* no keyring */
    kr = ring_for(f->carol);
    assert_int_equal(maif_reader_set_keyring(r, kr), MAIF_OK);
    assert_int_equal(maif_reader_sealed_meta(r, 1, out, sizeof out, &len), MAIF_EACCESS);
    maif_keyring *ko = ring_for(f->owner);
    assert_int_equal(maif_keyring_add_keystore(ko, ks), MAIF_OK);
    assert_int_equal(maif_reader_set_keyring(r, ko), MAIF_OK);
    assert_int_equal(maif_reader_sealed_meta(r, 1, out, sizeof out, &len), MAIF_OK);
    assert_string_equal(out, "{\"mrn\":123,\"patient\":\"Jane Doe\"}");
    assert_int_equal(len, strlen(out));
    assert_int_equal(maif_reader_sealed_meta(r, 1, out, 5, &len), MAIF_ELIMIT);
    assert_int_equal(len, 32);
    assert_int_equal(maif_reader_sealed_meta(r, 2, out, sizeof out, &len), MAIF_OK);
    assert_string_equal(out, "{\"x\":1}");
    assert_int_equal(maif_reader_sealed_meta(r, 3, out, sizeof out, &len), MAIF_ENOTFOUND);
    assert_int_equal(maif_reader_sealed_meta(r, 9, out, sizeof out, &len), MAIF_ENOTFOUND);
    maif_reader_close(r);

    /* a flipped byte of the sealed field: authentication fails */
    size_t fn;
    uint8_t *img = tu_read(f->path, &fn);
    uint8_t *h = memmem(img, fn, "sealed_meta\":\"", 14);
    assert_non_null(h);
    h[14 + 60] = h[14 + 60] == 'a' ? 'b' : 'a';
    assert_int_equal(maif_reader_open_mem(&r, img, fn), MAIF_OK);
    assert_int_equal(maif_reader_set_keyring(r, ko), MAIF_OK);
    assert_int_equal(maif_reader_sealed_meta(r, 1, out, sizeof out, &len), MAIF_EVERIFY);
    maif_reader_close(r);
    free(img);

    /* shredding the key closes the sealed field too */
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    uint64_t which = 2, erased = 0;
    assert_int_equal(maif_keystore_shred(ks, r, w, &which, 1, 0, &erased), MAIF_OK);
    maif_reader_close(r);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    assert_int_equal(maif_reader_set_keyring(r, ko), MAIF_OK);
    assert_int_equal(maif_reader_sealed_meta(r, 2, out, sizeof out, &len), MAIF_EACCESS);
    maif_reader_close(r);
    maif_keyring_free(kr);
    maif_keyring_free(ko);
    maif_keystore_close(ks);
}

/* ---- policies */

static char *policy_text(const fx *f, const char *extra_rules, const char *level)
{
    char a[65], b[65], c[65];
    maif_hex(f->owner_pk, 32, a);
    maif_hex(f->bob_pk, 32, b);
    maif_hex(f->carol_pk, 32, c);
    char *s = malloc(4096);
    snprintf(s, 4096,
             "{\"level\":\"%s\",\"signers\":[\"%s\"],\"roles\":{\"admin\":[\"%s\"],\"clinician\":[\"%s\"],"
             "\"auditor\":[\"%s\"]},\"rules\":[{\"role\":\"admin\",\"levels\":[\"public\",\"internal\","
             "\"confidential\",\"secret\",\"top_secret\"]},{\"role\":\"clinician\",\"levels\":[\"confidential\"],"
             "\"types\":[\"text\"],\"purposes\":[\"treatment\",\"billing\"],\"hours\":[8,18],"
             "\"not_before\":1000000000000000,\"expires\":2000000000000000}%s]}",
             level, a, a, b, c, extra_rules);
    return s;
}

/* 2026-03-02 10:00 UTC and 20:00 UTC, in µs */
#define T_DAY   1772445600000000ull
#define T_NIGHT 1772481600000000ull

static void test_policy_table(void **state)
{
    fx *f = *state;
    char *s = policy_text(f, ",{\"role\":\"auditor\",\"levels\":[\"secret\"],\"types\":[\"*\"]}", "internal");
    maif_policy *p = NULL;
    assert_int_equal(maif_policy_parse(&p, s, strlen(s)), MAIF_OK);
    free(s);
    assert_int_equal(maif_policy_level(p), MAIF_LEVEL_INTERNAL);
    assert_true(maif_policy_has_role(p, f->bob_pk, "clinician"));
    assert_false(maif_policy_has_role(p, f->bob_pk, "admin"));
    assert_true(maif_policy_has_admins(p));
    struct {
        const uint8_t *who;
        uint32_t type;
        int level;
        const char *purpose;
        uint64_t t;
        int audited;
        int verdict;
    } table[] = {
        {f->owner_pk, MAIF_TYPE_TEXT, MAIF_LEVEL_CONFIDENTIAL, NULL, T_DAY, 0, MAIF_OK},       /* admin reads all */
        {f->owner_pk, MAIF_TYPE_IMAGE, MAIF_LEVEL_TOP_SECRET, NULL, T_NIGHT, 1, MAIF_OK},
        {f->owner_pk, MAIF_TYPE_IMAGE, MAIF_LEVEL_TOP_SECRET, NULL, T_NIGHT, 0, MAIF_EACCESS}, /* unaudited */
        {f->owner_pk, MAIF_TYPE_TEXT, MAIF_LEVEL_SECRET, NULL, T_DAY, 0, MAIF_EACCESS},
        {f->bob_pk, MAIF_TYPE_TEXT, MAIF_LEVEL_CONFIDENTIAL, "treatment", T_DAY, 0, MAIF_OK},
        {f->bob_pk, MAIF_TYPE_TEXT, MAIF_LEVEL_CONFIDENTIAL, "billing", T_DAY, 0, MAIF_OK},
        {f->bob_pk, MAIF_TYPE_TEXT, MAIF_LEVEL_CONFIDENTIAL, "marketing", T_DAY, 0, MAIF_EACCESS}, /* purpose */
        {f->bob_pk, MAIF_TYPE_TEXT, MAIF_LEVEL_CONFIDENTIAL, NULL, T_DAY, 0, MAIF_EACCESS},
        {f->bob_pk, MAIF_TYPE_TEXT, MAIF_LEVEL_CONFIDENTIAL, "treatment", T_NIGHT, 0, MAIF_EACCESS}, /* hours */
        {f->bob_pk, MAIF_TYPE_IMAGE, MAIF_LEVEL_CONFIDENTIAL, "treatment", T_DAY, 0, MAIF_EACCESS},  /* type */
        {f->bob_pk, MAIF_TYPE_TEXT, MAIF_LEVEL_SECRET, "treatment", T_DAY, 1, MAIF_EACCESS},         /* level */
        {f->bob_pk, MAIF_TYPE_TEXT, MAIF_LEVEL_PUBLIC, "treatment", T_DAY, 0, MAIF_EACCESS},  /* raised to internal */
        {f->bob_pk, MAIF_TYPE_TEXT, MAIF_LEVEL_CONFIDENTIAL, "treatment", 999999999999999ull, 0, MAIF_EACCESS},
        {f->bob_pk, MAIF_TYPE_TEXT, MAIF_LEVEL_CONFIDENTIAL, "treatment", 2000000000000000ull, 0, MAIF_EACCESS},
        {f->carol_pk, MAIF_TYPE_VIDEO, MAIF_LEVEL_SECRET, NULL, T_NIGHT, 1, MAIF_OK},   /* auditor, any type */
        {f->carol_pk, MAIF_TYPE_VIDEO, MAIF_LEVEL_SECRET, NULL, T_NIGHT, 0, MAIF_EACCESS},
        {f->carol_pk, MAIF_TYPE_TEXT, MAIF_LEVEL_CONFIDENTIAL, NULL, T_DAY, 0, MAIF_EACCESS},
    };
    uint8_t stranger[32] = {1};
    for (size_t i = 0; i < sizeof table / sizeof *table; i++) {
        maif_access_request q = {table[i].who, table[i].purpose, table[i].t, table[i].type, table[i].level,
                                 table[i].audited};
        char why[200] = "";
        int v = maif_policy_decide(p, &q, why, sizeof why);
        if (v != table[i].verdict) fail_msg("row %zu: got %d (%s)", i, v, why);
        if (v) assert_non_null(strstr(why, "access denied by the policy"));
    }
    maif_access_request q = {stranger, NULL, T_DAY, MAIF_TYPE_TEXT, 0, 1};
    char why[200];
    assert_int_equal(maif_policy_decide(p, &q, why, sizeof why), MAIF_EACCESS);
    assert_non_null(strstr(why, "holds no role"));
    assert_int_equal(maif_policy_decide(NULL, &q, why, sizeof why), MAIF_EINVAL);
    /* who keys are wrapped for */
    assert_true(maif_policy_may_read_level(p, f->bob_pk, MAIF_TYPE_TEXT, MAIF_LEVEL_CONFIDENTIAL));
    assert_false(maif_policy_may_read_level(p, f->bob_pk, MAIF_TYPE_TEXT, MAIF_LEVEL_SECRET));
    assert_false(maif_policy_may_read_level(p, stranger, MAIF_TYPE_TEXT, MAIF_LEVEL_PUBLIC));
    maif_keyring *kr = ring_for(NULL);
    assert_int_equal(maif_keyring_add_recipient(kr, f->bob_pk), MAIF_OK);
    assert_int_equal(maif_keyring_add_recipient(kr, f->carol_pk), MAIF_OK);
    size_t dropped = 0;
    assert_int_equal(maif_keyring_restrict(kr, p, MAIF_TYPE_TEXT, MAIF_LEVEL_CONFIDENTIAL, &dropped), MAIF_OK);
    assert_int_equal(dropped, 1);
    assert_int_equal(maif_keyring_restrict(kr, p, MAIF_TYPE_TEXT, MAIF_LEVEL_TOP_SECRET, &dropped), MAIF_EACCESS);
    maif_keyring_free(kr);
    maif_policy_free(p);

    /* the level rules for writers */
    s = policy_text(f, "", "confidential");
    assert_int_equal(maif_policy_parse(&p, s, strlen(s)), MAIF_OK);
    free(s);
    maif_block_spec sp = {.type = MAIF_TYPE_TEXT};
    assert_int_equal(maif_policy_check_write(p, &sp, 0, f->bob_pk, why, sizeof why), MAIF_EACCESS);
    assert_int_equal(maif_policy_check_write(p, &sp, MAIF_CIPHER_CHACHA20, f->bob_pk, why, sizeof why), MAIF_OK);
    sp.meta_json = "{\"level\":\"top_secret\"}";
    sp.meta_size = strlen(sp.meta_json);
    assert_int_equal(maif_policy_check_write(p, &sp, MAIF_CIPHER_CHACHA20, f->owner_pk, why, sizeof why), MAIF_EACCESS);
    assert_int_equal(maif_policy_check_write(p, &sp, MAIF_CIPHER_XCHACHA20, f->bob_pk, why, sizeof why), MAIF_EACCESS);
    assert_non_null(strstr(why, "pinned signer"));
    assert_int_equal(maif_policy_check_write(p, &sp, MAIF_CIPHER_XCHACHA20, f->owner_pk, why, sizeof why), MAIF_OK);
    sp.meta_json = "{\"level\":\"cosmic\"}"; /* unknown: the strictest */
    sp.meta_size = strlen(sp.meta_json);
    assert_int_equal(maif_policy_check_write(p, &sp, MAIF_CIPHER_CHACHA20, f->owner_pk, why, sizeof why), MAIF_EACCESS);
    maif_block_spec ctl = {.type = MAIF_TYPE_AUDIT};
    assert_int_equal(maif_policy_check_write(p, &ctl, 0, f->bob_pk, why, sizeof why), MAIF_OK);
    maif_policy_free(p);

    assert_int_equal(maif_level_parse("TOP_SECRET"), MAIF_LEVEL_TOP_SECRET);
    assert_int_equal(maif_level_parse("Secret"), MAIF_LEVEL_SECRET);
    assert_int_equal(maif_level_parse("restricted"), -1);
    assert_int_equal(maif_level_parse(NULL), -1);
    assert_string_equal(maif_level_name(MAIF_LEVEL_CONFIDENTIAL), "confidential");
    assert_string_equal(maif_level_name(9), "unknown");
}

static void test_policy_hostile(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "[]",
        "{}",
        "{\"level\":\"public\"}",
        "{\"level\":\"cosmic\",\"roles\":{},\"rules\":[]}",
        "{\"level\":\"public\",\"roles\":{},\"rules\":[],\"extra\":1}",
        "{\"level\":\"public\",\"roles\":{\"a\":[\"00\"]},\"rules\":[]}",
        "{\"level\":\"public\",\"roles\":{\"A B\":[]},\"rules\":[]}",
        "{\"level\":\"public\",\"roles\":{},\"rules\":[{\"role\":\"ghost\",\"levels\":[\"public\"]}]}",
        "{\"level\":\"public\",\"roles\":{\"r\":[]},\"rules\":[{\"role\":\"r\"}]}",
        "{\"level\":\"public\",\"roles\":{\"r\":[]},\"rules\":[{\"role\":\"r\",\"levels\":[]}]}",
        "{\"level\":\"public\",\"roles\":{\"r\":[]},\"rules\":[{\"role\":\"r\",\"levels\":[\"public\"],\"hours\":[5,5]}]}",
        "{\"level\":\"public\",\"roles\":{\"r\":[]},\"rules\":[{\"role\":\"r\",\"levels\":[\"public\"],\"hours\":[1,25]}]}",
        "{\"level\":\"public\",\"roles\":{\"r\":[]},\"rules\":[{\"role\":\"r\",\"levels\":[\"public\"],\"expires\":-1}]}",
        "{\"level\":\"public\",\"roles\":{\"r\":[]},\"rules\":[{\"role\":\"r\",\"levels\":[\"public\"],\"types\":[\"toolong\"]}]}",
        "{\"level\":\"public\",\"roles\":{\"r\":[]},\"rules\":[{\"role\":\"r\",\"levels\":[\"public\"],\"purposes\":[\"\"]}]}",
        "{\"level\":\"public\",\"roles\":{\"r\":[]},\"rules\":[{\"role\":\"r\",\"levels\":[\"public\"],\"why\":1}]}",
        "{\"level\":\"top_secret\",\"roles\":{},\"rules\":[]}",
        "{\"level\":\"public\",\"level\":\"secret\",\"roles\":{},\"rules\":[]}",
        "{\"level\":\"public\",\"roles\":{},\"rules\":[],\"audit_reads\":\"yes\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        maif_policy *p = (maif_policy *)1;
        int rc = maif_policy_parse(&p, bad[i], strlen(bad[i]));
        if (rc != MAIF_EJSON) fail_msg("case %zu: %d", i, rc);
        assert_null(p);
    }
    char *big = malloc(MAIF_POLICY_MAX + 2);
    memset(big, ' ', MAIF_POLICY_MAX + 1);
    maif_policy *p = NULL;
    assert_int_equal(maif_policy_parse(&p, big, MAIF_POLICY_MAX + 1), MAIF_ELIMIT);
    free(big);
    assert_int_equal(maif_policy_parse(NULL, "{}", 2), MAIF_EINVAL);
    const char *ok = "{\"level\":\"public\",\"roles\":{\"r\":[]},\"rules\":[{\"role\":\"r\",\"levels\":[\"public\"],"
                     "\"hours\":[22,6],\"types\":[\"*\"]}],\"audit_reads\":true}";
    assert_int_equal(maif_policy_parse(&p, ok, strlen(ok)), MAIF_OK);
    assert_false(maif_policy_has_admins(p));
    maif_policy_free(p);
}

/* The reader API enforces the artifact's policy; a tampered or unauthorised
 * policy block fails closed. */
static void test_policy_in_artifact(void **state)
{
    fx *f = *state;
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->owner, "agent", NULL), MAIF_OK);
    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    maif_policy *p = NULL;
    assert_int_equal(maif_reader_policy(r, &p, NULL), MAIF_ENOTFOUND);
    char *s = policy_text(f, "", "internal");
    assert_int_equal(maif_writer_set_policy(w, r, "{", 1, NULL), MAIF_EJSON);
    assert_int_equal(maif_writer_set_policy(w, r, s, strlen(s), NULL), MAIF_OK); /* 0 */
    maif_reader_close(r);
    tu_add_simple(w, MAIF_TYPE_TEXT, "internal note", 13, "{\"level\":\"confidential\"}", NULL); /* 1 */
    tu_add_simple(w, MAIF_TYPE_TEXT, "internal two", 12, NULL, NULL); /* 2 */
    assert_int_equal(maif_writer_commit(w), MAIF_OK);

    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    uint64_t pi = 9;
    assert_int_equal(maif_reader_policy(r, &p, &pi), MAIF_OK);
    assert_int_equal(pi, 0);
    maif_policy_free(p);
    assert_int_equal(maif_reader_check_access(r, 1, f->owner_pk, NULL, 0), MAIF_OK);
    assert_int_equal(maif_reader_check_access(r, 1, f->carol_pk, NULL, 0), MAIF_EACCESS);
    assert_int_equal(maif_reader_check_access(r, 0, f->carol_pk, NULL, 0), MAIF_OK); /* control blocks are public */
    /* the gate: decode refuses, releasing nothing */
    char buf[64];
    size_t n = 0;
    assert_int_equal(maif_reader_set_subject(r, f->carol_pk, NULL, 0), MAIF_OK);
    memset(buf, 0, sizeof buf);
    assert_int_equal(maif_reader_block_decode(r, 1, buf, sizeof buf, &n), MAIF_EACCESS);
    assert_int_equal(n, 0);
    assert_int_equal(buf[0], 0);
    assert_non_null(strstr(maif_reader_errmsg(r), "access denied"));
    assert_int_equal(maif_reader_set_subject(r, f->bob_pk, "treatment", 0), MAIF_OK);
    /* bob: the clinician rule is for confidential text during 8-18 UTC only:
     * block 1 depends on the clock, block 2 (internal) never opens */
    assert_int_equal(maif_reader_block_decode(r, 2, buf, sizeof buf, &n), MAIF_EACCESS);
    assert_int_equal(maif_reader_set_subject(r, f->owner_pk, NULL, 0), MAIF_OK);
    assert_int_equal(maif_reader_block_decode(r, 2, buf, sizeof buf, &n), MAIF_OK);
    assert_int_equal(maif_reader_set_subject(r, NULL, NULL, 0), MAIF_OK);
    assert_int_equal(maif_reader_set_subject(r, f->owner_pk, "", 0), MAIF_EINVAL);
    maif_reader_close(r);

    /* only an admin of the current policy replaces it */
    maif_writer *wb = NULL;
    maif_block b0;
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    assert_int_equal(maif_writer_open(&wb, f->path, f->bob, NULL), MAIF_OK);
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    assert_int_equal(maif_writer_set_policy(wb, r, s, strlen(s), NULL), MAIF_EACCESS);
    maif_reader_close(r);
    assert_int_equal(maif_writer_audit(wb, "noop", NULL, 0, NULL), MAIF_OK);
    /* a grant signed by a key that is not an admin of the policy: ignored */
    char fields[120], hex[65];
    snprintf(fields, sizeof fields, "{\"recipient\":\"%s\"}", maif_hex(f->carol_pk, 32, hex));
    audit(wb, "grant", fields); /* block 4 */
    assert_int_equal(maif_writer_commit(wb), MAIF_OK);
    assert_true(verify_ok(f->path, NULL));
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    maif_keyring *kr = ring_for(NULL);
    assert_int_equal(maif_keyring_follow(kr, r), MAIF_OK);
    assert_int_equal(maif_keyring_add_recipient(kr, f->owner_pk), MAIF_OK);
    assert_int_equal(maif_writer_encrypt(wb, kr, MAIF_CIPHER_XCHACHA20), MAIF_OK);
    tu_add_simple(wb, MAIF_TYPE_TEXT, "for admins", 10, NULL, NULL); /* 5 KEYW, 6 */
    assert_int_equal(maif_writer_encrypt(wb, NULL, 0), MAIF_OK);
    assert_int_equal(maif_writer_commit(wb), MAIF_OK);
    maif_reader_close(r);
    maif_keyring_free(kr);
    char txt[32];
    assert_int_equal(read_as(f->path, 6, f->carol, NULL, txt, sizeof txt), MAIF_EACCESS);
    assert_int_equal(read_as(f->path, 6, f->owner, NULL, txt, sizeof txt), MAIF_OK);
    /* a policy block appended by a non-admin anyway (bypassing the call):
     * the file verifies, but readers fail closed */
    char *copy = tu_path(f->dir, "b.maif");
    size_t cn;
    uint8_t *cimg = tu_read(f->path, &cn);
    assert_int_equal(tu_write(copy, cimg, cn), 0);
    free(cimg);
    maif_writer *wc = NULL;
    assert_int_equal(maif_writer_open(&wc, copy, f->bob, NULL), MAIF_OK);
    assert_int_equal(maif_reader_open(&r, copy), MAIF_OK);
    assert_int_equal(maif_reader_block(r, 0, &b0), MAIF_OK);
    assert_int_equal(priv_add_signed(wc, MAIF_TYPE_POLICY, s, strlen(s), b0.id, NULL), MAIF_OK);
    assert_int_equal(maif_writer_commit(wc), MAIF_OK);
    assert_int_equal(maif_writer_close(wc), MAIF_OK);
    maif_reader_close(r);
    assert_true(verify_ok(copy, NULL));
    assert_int_equal(maif_reader_open(&r, copy), MAIF_OK);
    assert_int_equal(maif_reader_check_access(r, 2, f->owner_pk, NULL, 0), MAIF_EACCESS);
    assert_non_null(strstr(maif_reader_errmsg(r), "not an admin"));
    maif_reader_close(r);
    free(copy);
    assert_int_equal(maif_writer_close(wb), MAIF_OK);

    /* tampered policy payload: verify fails and reads are denied */
    size_t fn;
    uint8_t *img = tu_read(f->path, &fn);
    assert_int_equal(maif_reader_open_mem(&r, img, fn), MAIF_OK);
    maif_block b;
    assert_int_equal(maif_reader_block(r, 0, &b), MAIF_OK);
    size_t off = (size_t)(b.payload - img);
    maif_reader_close(r);
    /* the sweep over an artifact with policy and audit blocks */
    size_t missed = 0;
    for (size_t i = 0; i < fn; i++) {
        img[i] ^= 0x10;
        maif_report *rep = NULL;
        if (maif_verify_mem(img, fn, NULL, &rep) == MAIF_OK && maif_report_ok(rep)) missed++;
        maif_report_free(rep);
        img[i] ^= 0x10;
    }
    assert_int_equal(missed, 0);
    char *lv = memmem(img + off, b.payload_size, "internal", 8);
    assert_non_null(lv);
    memcpy(lv, "intxrnal", 8);
    assert_int_equal(maif_reader_open_mem(&r, img, fn), MAIF_OK);
    assert_int_equal(maif_reader_check_access(r, 2, f->owner_pk, NULL, 0), MAIF_EACCESS);
    assert_non_null(strstr(maif_reader_errmsg(r), "cannot be trusted"));
    assert_int_equal(maif_reader_policy(r, &p, NULL), MAIF_EACCESS);
    assert_int_equal(maif_reader_set_subject(r, f->owner_pk, NULL, 1), MAIF_OK); /* fails closed too */
    assert_int_equal(maif_reader_block_decode(r, 2, buf, sizeof buf, &n), MAIF_EACCESS);
    maif_keyring *kf = ring_for(f->owner);
    assert_int_equal(maif_keyring_follow(kf, r), MAIF_EACCESS); /* no grants from an untrusted policy */
    maif_keyring_free(kf);
    maif_reader_close(r);
    free(img);
    free(s);
}

/* The writer itself enforces the artifact's policy (not only the CLI):
 * every add path refuses a block that breaks the level rules. */
static int64_t src_text(void *ctx, void *buf, size_t cap)
{
    int *left = ctx;
    if (!*left || cap < 5) return 0;
    *left = 0;
    memcpy(buf, "hello", 5);
    return 5;
}

static void test_policy_writer(void **state)
{
    fx *f = *state;
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->owner, "agent", NULL), MAIF_OK);
    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    char *s = policy_text(f, "", "confidential");
    assert_int_equal(maif_writer_set_policy(w, r, s, strlen(s), NULL), MAIF_OK); /* 0 */
    maif_reader_close(r);
    /* the policy is in force from its commit on: this one still passes */
    tu_add_simple(w, MAIF_TYPE_TEXT, "before", 6, NULL, NULL); /* 1 */
    assert_int_equal(maif_writer_commit(w), MAIF_OK);

    /* the same writer, after the commit: plain blocks are refused */
    maif_block_spec sp = {.type = MAIF_TYPE_TEXT, .payload = "secret", .payload_size = 6};
    assert_int_equal(maif_writer_add(w, &sp, NULL), MAIF_EACCESS);
    assert_non_null(strstr(maif_writer_errmsg(w), "requires encryption"));
    assert_non_null(strstr(maif_last_errmsg(), "requires encryption"));
    assert_int_equal(maif_writer_close(w), MAIF_OK);

    /* a writer opened later: every add path */
    assert_int_equal(maif_writer_open(&w, f->path, f->owner, NULL), MAIF_OK);
    assert_int_equal(maif_writer_add(w, &sp, NULL), MAIF_EACCESS);
    assert_int_equal(maif_writer_add_borrowed(w, &sp, NULL), MAIF_EACCESS);
    maif_block_spec ss = {.type = MAIF_TYPE_TEXT};
    int left = 1;
    assert_int_equal(maif_writer_add_stream(w, &ss, src_text, &left, 0, NULL), MAIF_EACCESS);
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    assert_int_equal(write(fds[1], "x", 1), 1);
    close(fds[1]);
    assert_int_equal(maif_writer_add_fd(w, &ss, fds[0], 0, NULL), MAIF_EACCESS);
    close(fds[0]);
    assert_int_equal(maif_writer_add_async(w, &sp, NULL, NULL), MAIF_OK);
    assert_int_equal(maif_writer_flush(w), MAIF_EACCESS);
    assert_int_equal(maif_writer_count(w), 2); /* nothing was added */
    /* control blocks pass */
    audit(w, "noop", NULL); /* 2 */
    /* encrypted: allowed; top_secret needs XChaCha20 (and a pinned signer) */
    maif_keyring *kr = ring_for(NULL);
    assert_int_equal(maif_keyring_add_recipient(kr, f->owner_pk), MAIF_OK);
    assert_int_equal(maif_writer_encrypt(w, kr, MAIF_CIPHER_CHACHA20), MAIF_OK); /* 3 KEYW */
    assert_int_equal(maif_writer_add(w, &sp, NULL), MAIF_OK); /* 4 */
    maif_block_spec ts = sp;
    ts.meta_json = "{\"level\":\"top_secret\"}";
    ts.meta_size = strlen(ts.meta_json);
    assert_int_equal(maif_writer_add(w, &ts, NULL), MAIF_EACCESS);
    assert_non_null(strstr(maif_writer_errmsg(w), "XChaCha20"));
    assert_int_equal(maif_writer_encrypt(w, kr, MAIF_CIPHER_XCHACHA20), MAIF_OK); /* 5 KEYW */
    assert_int_equal(maif_writer_add(w, &ts, NULL), MAIF_OK); /* 6: the owner is the pinned signer */
    assert_int_equal(maif_writer_encrypt(w, NULL, 0), MAIF_OK);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    /* bob is not a pinned signer: his top_secret block is refused */
    assert_int_equal(maif_writer_open(&w, f->path, f->bob, NULL), MAIF_OK);
    assert_int_equal(maif_writer_encrypt(w, kr, MAIF_CIPHER_XCHACHA20), MAIF_OK);
    assert_int_equal(maif_writer_add(w, &ts, NULL), MAIF_EACCESS);
    assert_non_null(strstr(maif_writer_errmsg(w), "pinned signer"));
    assert_int_equal(maif_writer_rollback(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    maif_keyring_free(kr);

    /* a new policy (public) committed by the admin: plain blocks pass again */
    assert_int_equal(maif_writer_open(&w, f->path, f->owner, NULL), MAIF_OK);
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    char *pub = policy_text(f, "", "public");
    assert_int_equal(maif_writer_set_policy(w, r, pub, strlen(pub), NULL), MAIF_OK);
    maif_reader_close(r);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_add(w, &sp, NULL), MAIF_OK);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    assert_true(verify_ok(f->path, NULL));

    /* policy blocks that establish no policy: writers fail closed */
    size_t fn;
    uint8_t *img = tu_read(f->path, &fn);
    assert_int_equal(maif_reader_open_mem(&r, img, fn), MAIF_OK);
    maif_block b;
    assert_int_equal(maif_reader_block(r, 0, &b), MAIF_OK);
    size_t off = (size_t)(b.payload - img);
    maif_reader_close(r);
    char *lv = memmem(img + off, b.payload_size, "confidential", 12);
    assert_non_null(lv);
    memcpy(lv, "confidxntial", 12); /* the policy's own signature no longer checks */
    char *copy = tu_path(f->dir, "c.maif");
    assert_int_equal(tu_write(copy, img, fn), 0);
    free(img);
    assert_int_equal(maif_writer_open(&w, copy, f->owner, NULL), MAIF_OK);
    assert_int_equal(maif_writer_add(w, &sp, NULL), MAIF_EACCESS);
    assert_non_null(strstr(maif_writer_errmsg(w), "cannot be trusted"));
    assert_int_equal(maif_writer_close(w), MAIF_OK);

    /* Two copies of one artifact (same file id) that went different ways:
     * what a writer remembered of one (no policy in its first blocks) is
     * not taken for the other, which gained a policy among them. */
    char *pa = tu_path(f->dir, "p.maif"), *pb = tu_path(f->dir, "q.maif");
    assert_int_equal(maif_writer_create(&w, pa, f->owner, "agent", NULL), MAIF_OK);
    tu_add_simple(w, MAIF_TYPE_TEXT, "one", 3, NULL, NULL);
    tu_add_simple(w, MAIF_TYPE_TEXT, "two", 3, NULL, NULL);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    uint8_t *two = tu_read(pa, &fn);
    assert_int_equal(tu_write(pb, two, fn), 0);
    free(two);
    assert_int_equal(maif_writer_open(&w, pa, f->owner, NULL), MAIF_OK);
    tu_add_simple(w, MAIF_TYPE_TEXT, "three", 5, NULL, NULL);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    assert_int_equal(maif_writer_open(&w, pa, f->owner, NULL), MAIF_OK);
    assert_int_equal(maif_writer_add(w, &sp, NULL), MAIF_OK); /* no policy: remembered for 3 blocks */
    assert_int_equal(maif_writer_rollback(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    assert_int_equal(maif_writer_open(&w, pb, f->owner, NULL), MAIF_OK);
    assert_int_equal(maif_reader_open(&r, pb), MAIF_OK);
    assert_int_equal(maif_writer_set_policy(w, r, s, strlen(s), NULL), MAIF_OK); /* block 2 of q */
    maif_reader_close(r);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    assert_int_equal(maif_writer_open(&w, pb, f->owner, NULL), MAIF_OK);
    assert_int_equal(maif_writer_add(w, &sp, NULL), MAIF_EACCESS);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    assert_int_equal(maif_writer_open(&w, pa, f->owner, NULL), MAIF_OK);
    assert_int_equal(maif_writer_add(w, &sp, NULL), MAIF_OK); /* p still has none */
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    free(pa);
    free(pb);
    free(copy);
    free(pub);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_audit_blocks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_grant_revoke_rotate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shred, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shred_punch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zeroed_without_record, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shred_crash, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sealed_meta, setup, teardown),
        cmocka_unit_test_setup_teardown(test_policy_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_policy_hostile, setup, teardown),
        cmocka_unit_test_setup_teardown(test_policy_in_artifact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_policy_writer, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
