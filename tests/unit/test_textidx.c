/*
 * test_textidx.c — the stored full-text index (TIDX): the same ranked
 * lists and scores as the scan on randomised corpora (with encrypted,
 * compressed, superseding and later-added texts, and filters, in text and
 * hybrid mode), the selection of the best k that pass a filter, encrypted
 * words never in the index, the build API's errors, and the flag that
 * lets maif_index_open stop its walk. Hostile indexes: test_tidx_hostile.c.
 */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "semantic/semantic.h"
#include "semantic/textidx.h"

static uint64_t rs = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(uint32_t n)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return (uint32_t)(rs % n);
}

static const char *const VOCAB[] = {
    "cat", "cats", "Cat", "caterpillar", "running", "runs", "runner", "ran", "connection", "connected",
    "CONNECTING", "connects", "generalization", "generous", "general", "a", "I", "x", "2024", "42abc",
    "caf\xc3\xa9", "na\xc3\xafve", "r\xc3\xa9sum\xc3\xa9", "dying", "lying", "skies", "sky", "news", "early", "only",
    "the", "of", "and", "happily", "happiness", "relational", "conditional", "hopeful", "goodness", "agreed",
    "feed", "plastered", "motoring", "sing", "hoping", "tanned", "fizzed", "failing", "filing", "ys",
    "yes", "yellow", "Yield", "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz",
    "generalizations", "generalizing", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaing",
};
#define NV (sizeof VOCAB / sizeof *VOCAB)
static const char *const SEPS[] = {" ", "  ", ", ", ". ", "\n", "-", "'", "!? ", "\t"};

static size_t rand_text(char *buf, size_t cap)
{
    size_t n = 0, words = 1 + rnd(40);
    for (size_t w = 0; w < words; w++) {
        const char *v = VOCAB[rnd(NV)], *s = SEPS[rnd(sizeof SEPS / sizeof *SEPS)];
        size_t lv = strlen(v), ls = strlen(s);
        if (n + lv + ls + 1 >= cap) break;
        memcpy(buf + n, v, lv);
        n += lv;
        memcpy(buf + n, s, ls);
        n += ls;
    }
    buf[n] = 0;
    return n;
}

static const char *const PRIV[] = {"public", "internal", "confidential", "restricted"};

/* Appends n random texts to w: some zstd, some encrypted (kr), some
 * superseding an earlier text (ids). */
static void add_texts(maif_writer *w, maif_keyring *kr, size_t n, uint8_t (*ids)[MAIF_ID_BYTES], size_t *nids)
{
    char text[2048], meta[128];
    for (size_t i = 0; i < n; i++) {
        int enc = kr && rnd(6) == 0, zst = rnd(4) == 0;
        if (enc) assert_int_equal(maif_writer_encrypt(w, kr, MAIF_CIPHER_XCHACHA20), MAIF_OK);
        assert_int_equal(maif_writer_set_codec(w, zst ? MAIF_CODEC_ZSTD : MAIF_CODEC_NONE, 0), MAIF_OK);
        size_t tl = rand_text(text, sizeof text);
        int ml = snprintf(meta, sizeof meta, "{\"n\":%u,\"privacy\":\"%s\"}", rnd(100), PRIV[rnd(4)]);
        maif_block_spec sp = {0};
        sp.type = MAIF_TYPE_TEXT;
        sp.payload = text;
        sp.payload_size = tl;
        sp.meta_json = meta;
        sp.meta_size = (size_t)ml;
        if (*nids && rnd(8) == 0) sp.supersedes = ids[rnd((uint32_t)*nids)];
        if (rnd(10) == 0) { /* a block of another type between texts */
            maif_block_spec o = sp;
            o.type = MAIF_TYPE_JSON;
            o.supersedes = NULL;
            o.payload = "{\"cat\":1}";
            o.payload_size = 9;
            assert_int_equal(maif_writer_add(w, &o, NULL), MAIF_OK);
        }
        assert_int_equal(maif_writer_add(w, &sp, ids[*nids]), MAIF_OK);
        (*nids)++;
        if (enc) assert_int_equal(maif_writer_encrypt(w, kr, 0), MAIF_OK);
    }
}

static int odd_blocks(void *ctx, uint64_t b)
{
    (void)ctx;
    return (b % 3) != 0;
}

static void rand_query(char *q, size_t cap)
{
    size_t n = 0, words = 1 + rnd(4);
    for (size_t w = 0; w < words; w++) {
        const char *v = rnd(10) == 0 ? "zebra" : VOCAB[rnd(NV)];
        if (n + strlen(v) + 2 >= cap) break;
        n += (size_t)snprintf(q + n, cap - n, "%s ", v);
    }
}

/* sem_text_search against sem_bm25_search on r: identical lists. */
static void same_as_scan(maif_reader *r, int expect_index, uint64_t expect_docs)
{
    maif_index *ix = NULL;
    assert_int_equal(maif_index_open(&ix, r, NULL), MAIF_OK);
    maif_index_info info;
    assert_int_equal(maif_index_get_info(ix, &info), MAIF_OK);
    if (expect_index) {
        assert_true(info.text_index_block >= 0);
        assert_null(info.text_error);
        assert_int_equal(info.text_indexed, expect_docs);
    }
    sem_scored a[64], b[64];
    char q[256];
    for (int t = 0; t < 150; t++) {
        rand_query(q, sizeof q);
        size_t k = 1 + rnd(60), na, nb;
        sem_block_allow_fn allow = t & 1 ? odd_blocks : NULL;
        assert_int_equal(sem_bm25_search(r, q, strlen(q), allow, NULL, k, a, &na), MAIF_OK);
        assert_int_equal(sem_text_search(ix, q, strlen(q), allow, NULL, k, b, &nb), MAIF_OK);
        if (na != nb || (na && (a[0].block != b[0].block || a[0].score != b[0].score)))
            print_message("query '%s' k %zu: scan %zu (%llu %.17g), index %zu (%llu %.17g)\n", q, k, na,
                          na ? (unsigned long long)a[0].block : 0ull, na ? a[0].score : 0, nb,
                          nb ? (unsigned long long)b[0].block : 0ull, nb ? b[0].score : 0);
        assert_int_equal(na, nb);
        for (size_t i = 0; i < na; i++) {
            assert_int_equal(a[i].block, b[i].block);
            assert_true(fabs(a[i].score - b[i].score) <= 1e-9);
        }
    }
    assert_int_equal(maif_index_get_info(ix, &info), MAIF_OK);
    if (expect_index) assert_null(info.text_error); /* no fallback happened */
    maif_index_close(ix);
}

static size_t count_plain_texts(maif_reader *r, uint64_t upto)
{
    size_t n = 0;
    for (uint64_t i = 0; i < upto; i++) {
        maif_block b;
        if (maif_reader_block(r, i, &b) == MAIF_OK && b.type == MAIF_TYPE_TEXT && !b.cipher) n++;
    }
    return n;
}

/* The index path and the scan give the same ranked lists, with and
 * without the key to the encrypted texts, before and after a tail. */
static void test_same_as_scan(void **state)
{
    tu_fixture *f = *state;
    maif_keyring *kr = tu_keyring_self(f->key);
    uint8_t(*ids)[MAIF_ID_BYTES] = malloc(1000 * MAIF_ID_BYTES);
    size_t nids = 0;
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->key, NULL, NULL), MAIF_OK);
    add_texts(w, kr, 400, ids, &nids);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    uint64_t indexed = 0;
    assert_int_equal(maif_index_build_text(f->path, f->key, NULL, &indexed), MAIF_OK);
    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    uint64_t nb = maif_reader_count(r);
    assert_int_equal(indexed, count_plain_texts(r, nb - 1));
    same_as_scan(r, 1, indexed); /* no key: encrypted texts are in neither */
    assert_int_equal(maif_reader_set_keyring(r, kr), MAIF_OK);
    same_as_scan(r, 1, indexed); /* with it: scanned by both */
    maif_reader_close(r);
    /* a tail: texts after the index, some superseding indexed ones */
    assert_int_equal(maif_writer_open(&w, f->path, f->key, NULL), MAIF_OK);
    add_texts(w, kr, 60, ids, &nids);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    same_as_scan(r, 1, indexed);
    assert_int_equal(maif_reader_set_keyring(r, kr), MAIF_OK);
    same_as_scan(r, 1, indexed);
    maif_reader_close(r);
    maif_keyring_free(kr);
    free(ids);
}

/* Through maif_search_run with every filter, in text and hybrid mode: an
 * indexed artifact and a copy without the index give the same results. */
static void test_search_run_filters(void **state)
{
    tu_fixture *f = *state;
    uint8_t(*ids)[MAIF_ID_BYTES] = malloc(400 * MAIF_ID_BYTES);
    size_t nids = 0;
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->key, NULL, NULL), MAIF_OK);
    add_texts(w, NULL, 300, ids, &nids);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    uint64_t embedded = 0; /* hashed embeddings, so hybrid mode fuses two lists */
    assert_int_equal(maif_embed_file(f->path, "hashed", f->key, NULL, &embedded), MAIF_OK);
    assert_true(embedded >= 250);
    size_t len;
    uint8_t *copy = tu_read(f->path, &len);
    assert_non_null(copy);
    char *plain = tu_path(f->dir, "plain.maif");
    assert_int_equal(tu_write(plain, copy, len), 0);
    free(copy);
    assert_int_equal(maif_index_build_text(f->path, f->key, NULL, NULL), MAIF_OK);
    maif_reader *ra = NULL, *rb = NULL;
    maif_index *ia = NULL, *ib = NULL;
    assert_int_equal(maif_reader_open(&ra, f->path), MAIF_OK);
    assert_int_equal(maif_reader_open(&rb, plain), MAIF_OK);
    assert_int_equal(maif_reader_count(ra), maif_reader_count(rb) + 1); /* the TIDX block, last */
    assert_int_equal(maif_index_open(&ia, ra, NULL), MAIF_OK);
    assert_int_equal(maif_index_open(&ib, rb, NULL), MAIF_OK);
    maif_index_info info;
    assert_int_equal(maif_index_get_info(ia, &info), MAIF_OK);
    assert_int_equal(info.text_index_block, (int64_t)maif_reader_count(rb));
    assert_int_equal(maif_index_get_info(ib, &info), MAIF_OK);
    assert_int_equal(info.text_index_block, -1);
    char q[256];
    for (int t = 0; t < 60; t++) {
        maif_search *sa = NULL, *sb = NULL;
        assert_int_equal(maif_search_create(&sa), MAIF_OK);
        assert_int_equal(maif_search_create(&sb), MAIF_OK);
        rand_query(q, sizeof q);
        int64_t k = 1 + rnd(30), priv = rnd(5), sup = rnd(2), lo = rnd(100);
        maif_search *both[2] = {sa, sb};
        for (int j = 0; j < 2; j++) {
            assert_int_equal(maif_search_set_text(both[j], q, strlen(q)), MAIF_OK);
            assert_int_equal(maif_search_set(both[j], MAIF_SEARCH_MODE, t & 1 ? MAIF_MODE_HYBRID : MAIF_MODE_TEXT),
                             MAIF_OK);
            assert_int_equal(maif_search_set(both[j], MAIF_SEARCH_K, k), MAIF_OK);
            assert_int_equal(maif_search_set(both[j], MAIF_SEARCH_PRIVACY, priv), MAIF_OK);
            assert_int_equal(maif_search_set(both[j], MAIF_SEARCH_SUPERSEDED, sup), MAIF_OK);
            if (t % 3 == 0) {
                char wq[32];
                snprintf(wq, sizeof wq, "n>=%d", (int)lo);
                assert_int_equal(maif_search_where(both[j], wq), MAIF_OK);
            }
            if (t % 5 == 0) assert_int_equal(maif_search_set(both[j], MAIF_SEARCH_TYPE, MAIF_TYPE_JSON), MAIF_OK);
        }
        assert_int_equal(maif_search_run(sa, ia), MAIF_OK);
        assert_int_equal(maif_search_run(sb, ib), MAIF_OK);
        assert_int_equal(maif_search_count(sa), maif_search_count(sb));
        for (size_t i = 0; i < maif_search_count(sa); i++) {
            maif_search_hit ha, hb;
            assert_int_equal(maif_search_result(sa, i, &ha), MAIF_OK);
            assert_int_equal(maif_search_result(sb, i, &hb), MAIF_OK);
            assert_int_equal(ha.block, hb.block);
            assert_true(fabs(ha.score - hb.score) <= 1e-9);
        }
        if (t % 5 == 0) assert_int_equal(maif_search_count(sa), 0);
        maif_search_free(sa);
        maif_search_free(sb);
    }
    maif_index_close(ia);
    maif_index_close(ib);
    maif_reader_close(ra);
    maif_reader_close(rb);
    free(plain);
    free(ids);
}

/* Encrypted words never reach the index; a reader with the key still finds them. */
static void test_encrypted_not_indexed(void **state)
{
    tu_fixture *f = *state;
    maif_keyring *kr = tu_keyring_self(f->key);
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->key, NULL, NULL), MAIF_OK);
    tu_add_text(w, "the quarterly report about cats");
    assert_int_equal(maif_writer_encrypt(w, kr, MAIF_CIPHER_XCHACHA20), MAIF_OK);
    tu_add_text(w, "zanzibarite xylophonist secrets");
    assert_int_equal(maif_writer_encrypt(w, kr, 0), MAIF_OK);
    tu_add_text(w, "dogs and cats");
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    uint64_t n = 0, blk;
    assert_int_equal(maif_index_build_text(f->path, f->key, NULL, &n), MAIF_OK);
    assert_int_equal(n, 2);
    size_t size;
    uint8_t *p = tu_last_payload(f->path, SEM_TYPE_TIDX, &size, &blk);
    assert_null(memmem(p, size, "zanzibar", 8));
    assert_null(memmem(p, size, "xylophon", 8));
    assert_non_null(memmem(p, size, "quarter", 7));
    sem_tidx t;
    char err[300];
    assert_int_equal(sem_tidx_view(&t, p, size, err, sizeof err), MAIF_OK);
    assert_int_equal(sem_tidx_check(&t, err, sizeof err), MAIF_OK);
    assert_int_equal(t.ndocs, 2);
    assert_int_equal(t.nskip, 1);
    /* a forged copy listing the plain block 0 as skipped: damage, and the scan answers */
    uint64_t zero = 0;
    memcpy((uint8_t *)t.skip, &zero, 8);
    tu_append_one(f->path, f->key, SEM_TYPE_TIDX, p, size);
    free(p);
    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    maif_index *ix = NULL;
    assert_int_equal(maif_index_open(&ix, r, NULL), MAIF_OK);
    sem_scored out[4];
    size_t no;
    assert_int_equal(sem_text_search(ix, "xylophonist", 11, NULL, NULL, 4, out, &no), MAIF_OK);
    assert_int_equal(no, 0);
    assert_int_equal(sem_text_search(ix, "cats", 4, NULL, NULL, 4, out, &no), MAIF_OK);
    assert_int_equal(no, 2); /* block 0 counted once */
    sem_scored ref[4];
    size_t nref;
    assert_int_equal(sem_bm25_search(r, "cats", 4, NULL, NULL, 4, ref, &nref), MAIF_OK);
    assert_int_equal(nref, 2);
    assert_true(ref[0].block == out[0].block && ref[0].score == out[0].score);
    maif_index_info info;
    assert_int_equal(maif_index_get_info(ix, &info), MAIF_OK);
    assert_non_null(info.text_error);
    assert_non_null(strstr(info.text_error, "not an encrypted text"));
    maif_index_close(ix);
    assert_int_equal(maif_reader_set_keyring(r, kr), MAIF_OK);
    assert_int_equal(maif_index_open(&ix, r, NULL), MAIF_OK);
    assert_int_equal(sem_text_search(ix, "xylophonist", 11, NULL, NULL, 4, out, &no), MAIF_OK);
    assert_int_equal(no, 1);
    maif_block b;
    assert_int_equal(maif_reader_block(r, out[0].block, &b), MAIF_OK);
    assert_true(b.cipher != 0);
    maif_index_close(ix);
    maif_reader_close(r);
    maif_keyring_free(kr);
}

static void test_build_errors(void **state)
{
    tu_fixture *f = *state;
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->key, NULL, NULL), MAIF_OK);
    maif_block_spec sp = {0};
    sp.type = MAIF_TYPE_JSON;
    sp.payload = "{}";
    sp.payload_size = 2;
    assert_int_equal(maif_writer_add(w, &sp, NULL), MAIF_OK);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    uint64_t n = 7;
    assert_int_equal(maif_index_build_text(f->path, f->key, NULL, &n), MAIF_ENOTFOUND);
    assert_int_equal(n, 0);
    assert_int_equal(maif_index_build_text(NULL, f->key, NULL, &n), MAIF_EINVAL);
    assert_int_equal(maif_index_build_text(f->path, NULL, NULL, &n), MAIF_EINVAL);
    /* an empty text is a document of length 0 */
    tu_append_one(f->path, f->key, MAIF_TYPE_TEXT, "", 0);
    assert_int_equal(maif_index_build_text(f->path, f->key, NULL, &n), MAIF_OK);
    assert_int_equal(n, 1);
    size_t size;
    uint64_t blk;
    uint8_t *p = tu_last_payload(f->path, SEM_TYPE_TIDX, &size, &blk);
    sem_tidx t;
    char err[300];
    assert_int_equal(sem_tidx_view(&t, p, size, err, sizeof err), MAIF_OK);
    assert_int_equal(sem_tidx_check(&t, err, sizeof err), MAIF_OK);
    assert_int_equal(t.nterms, 0);
    free(p);
}

/* A TIDX that says no vectors lie below it lets maif_index_open stop
 * there; embeddings added after it are still found; one that cannot say
 * so (an EMBD below it) does not. */
static void test_vector_free_flag(void **state)
{
    tu_fixture *f = *state;
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->key, NULL, NULL), MAIF_OK);
    tu_add_text(w, "alpha beta");
    tu_add_text(w, "gamma delta");
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    assert_int_equal(maif_index_build_text(f->path, f->key, NULL, NULL), MAIF_OK);
    size_t size;
    uint64_t blk;
    uint8_t *p = tu_last_payload(f->path, SEM_TYPE_TIDX, &size, &blk);
    sem_tidx t;
    char err[300];
    assert_int_equal(sem_tidx_view(&t, p, size, err, sizeof err), MAIF_OK);
    assert_int_equal(t.flags, SEM_TIDX_F_NO_VECTORS);
    free(p);
    float v[4] = {1, 0, 0, 0}, u[4] = {0, 1, 0, 0};
    assert_int_equal(maif_writer_open(&w, f->path, f->key, NULL), MAIF_OK);
    assert_int_equal(maif_writer_add_embedding(w, v, 4, "m", NULL, NULL), MAIF_OK);
    assert_int_equal(maif_writer_add_embedding(w, u, 4, "m", NULL, NULL), MAIF_OK);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    maif_index *ix = NULL;
    maif_index_info info;
    assert_int_equal(maif_index_open(&ix, r, NULL), MAIF_OK);
    assert_int_equal(maif_index_get_info(ix, &info), MAIF_OK);
    assert_int_equal(info.dimensions, 4);
    assert_int_equal(info.tail, 2);
    assert_string_equal(info.model, "m");
    maif_search *s = NULL;
    assert_int_equal(maif_search_create(&s), MAIF_OK);
    assert_int_equal(maif_search_set_vector(s, u, 4), MAIF_OK);
    assert_int_equal(maif_search_run(s, ix), MAIF_OK);
    maif_search_hit h;
    assert_int_equal(maif_search_result(s, 0, &h), MAIF_OK);
    assert_int_equal(h.block, 4); /* texts 0-1, TIDX 2, embeddings 3-4 */
    maif_search_free(s);
    maif_index_close(ix);
    maif_reader_close(r);
    /* indexed again: embeddings below it now, so the flag is off */
    assert_int_equal(maif_index_build_text(f->path, f->key, NULL, NULL), MAIF_OK);
    p = tu_last_payload(f->path, SEM_TYPE_TIDX, &size, &blk);
    assert_int_equal(sem_tidx_view(&t, p, size, err, sizeof err), MAIF_OK);
    assert_int_equal(t.flags, 0);
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    assert_int_equal(maif_index_open(&ix, r, NULL), MAIF_OK);
    assert_int_equal(maif_index_get_info(ix, &info), MAIF_OK);
    assert_int_equal(info.tail, 2);
    assert_int_equal(info.text_index_block, 5);
    maif_index_close(ix);
    maif_reader_close(r);
    /* the walk does stop there: a copy whose flag claims no vectors hides
       the embeddings below it (the flag is signed data, trusted as such) */
    uint32_t one = SEM_TIDX_F_NO_VECTORS;
    memcpy(p + 36, &one, 4);
    tu_append_one(f->path, f->key, SEM_TYPE_TIDX, p, size);
    free(p);
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    assert_int_equal(maif_index_open(&ix, r, NULL), MAIF_OK);
    assert_int_equal(maif_index_get_info(ix, &info), MAIF_OK);
    assert_int_equal(info.tail, 0);
    assert_int_equal(info.dimensions, 0);
    maif_index_close(ix);
    maif_reader_close(r);
}

static int cmp_rank(const void *x, const void *y)
{
    const sem_scored *a = x, *b = y;
    if (a->score != b->score) return a->score > b->score ? -1 : 1;
    return (a->block > b->block) - (a->block < b->block);
}

static int allow_mod(void *ctx, uint64_t b) { return b % *(uint32_t *)ctx == 0; }

/* sem_bm25_select against a full sort, for every path: few candidates,
 * the bounded heap, its fallback under a restrictive filter; ties. */
static void test_select(void **state)
{
    (void)state;
    enum { NMAX = 3000 };
    sem_scored *c = malloc(NMAX * sizeof *c), *ref = malloc(NMAX * sizeof *ref), out[200];
    for (int t = 0; t < 300; t++) {
        size_t n = rnd(NMAX), k = 1 + rnd(200), nout;
        uint32_t mod = 1 + rnd(t % 3 == 0 ? 200 : 3);
        for (size_t i = 0; i < n; i++) c[i] = (sem_scored){i * 7 % (n + 1), (double)rnd(t & 1 ? 20 : 100000) / 7.0};
        memcpy(ref, c, n * sizeof *c);
        qsort(ref, n, sizeof *ref, cmp_rank);
        size_t m = 0;
        sem_scored want[200];
        for (size_t i = 0; i < n && m < k; i++)
            if (ref[i].block % mod == 0) want[m++] = ref[i];
        sem_bm25_select(c, n, allow_mod, &mod, k, out, &nout);
        assert_int_equal(nout, m);
        for (size_t i = 0; i < m; i++) {
            assert_int_equal(out[i].block, want[i].block);
            assert_true(out[i].score == want[i].score);
        }
    }
    free(c);
    free(ref);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_select),
        cmocka_unit_test_setup_teardown(test_vector_free_flag, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_same_as_scan, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_search_run_filters, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_encrypted_not_indexed, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_build_errors, tu_setup, tu_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
