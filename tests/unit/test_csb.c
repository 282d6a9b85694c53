/*
 * test_csb.c — CSB (docs/CSB.md): bound embeddings verify; an embedding
 * moved onto another source, with an altered vector, or relabelled with
 * another model is reported by verify even though the file is properly
 * signed; a sealed source is reported as unchecked; the commitment is a
 * pure function of its inputs.
 */
#include "testutil.h"

#include <stdio.h>
#include <string.h>

#include "crypto/crypto.h"

static void add_text(maif_writer *w, const char *t, uint8_t id[MAIF_ID_BYTES])
{
    maif_block_spec s = {.type = MAIF_TYPE_TEXT, .payload = t, .payload_size = strlen(t)};
    assert_int_equal(maif_writer_add(w, &s, id), MAIF_OK);
}

/* An EMBD block with hand-made binding metadata (what a forger writes). */
static void add_forged(maif_writer *w, const float *v, size_t dim, const char *model, const uint8_t src[16],
                       const uint8_t mh[32], const uint8_t csb[32])
{
    char s16[33], m64[65], c64[65], meta[512];
    snprintf(meta, sizeof meta,
             "{\"count\":1,\"csb\":\"%s\",\"dimensions\":%zu,\"dtype\":\"float32\",\"model\":\"%s\",\"model_hash\":\"%s\","
             "\"source_block\":\"%s\"}",
             maif_hex(csb, 32, c64), dim, model, maif_hex(mh, 32, m64), maif_hex(src, 16, s16));
    maif_block_spec s = {.type = MAIF_TYPE_EMBEDDING, .payload = v, .payload_size = dim * sizeof *v,
                         .meta_json = meta, .meta_size = strlen(meta)};
    assert_int_equal(maif_writer_add(w, &s, NULL), MAIF_OK);
}

static int count_code(const maif_report *rep, const char *code)
{
    int n = 0;
    for (size_t i = 0; i < maif_report_count(rep); i++) n += strcmp(maif_report_finding(rep, i)->code, code) == 0;
    return n;
}

static void test_csb(void **state)
{
    tu_fixture *f = *state;
    const char *ta = "The deploy failed because the certificate expired.", *tb = "Lunch was pasta.";
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->key, NULL, NULL), MAIF_OK);
    uint8_t a[16], b[16];
    add_text(w, ta, a);
    add_text(w, tb, b);
    maif_embedder *e = NULL;
    assert_int_equal(maif_embedder_open(&e, "hashed", NULL), MAIF_OK);
    size_t dim = maif_embedder_dim(e);
    float va[1024], vb[1024];
    assert_true(dim <= 1024);
    assert_int_equal(maif_embedder_embed(e, ta, strlen(ta), va), MAIF_OK);
    assert_int_equal(maif_embedder_embed(e, tb, strlen(tb), vb), MAIF_OK);
    assert_int_equal(maif_writer_add_embedding_bound(w, e, va, a, ta, strlen(ta), NULL), MAIF_OK);
    assert_int_equal(maif_writer_add_embedding_bound(w, e, vb, b, tb, strlen(tb), NULL), MAIF_OK);
    assert_int_equal(maif_writer_add_embedding_bound(NULL, e, va, a, ta, 1, NULL), MAIF_EINVAL);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    maif_report *rep = NULL;
    assert_int_equal(maif_verify_file(f->path, NULL, &rep), MAIF_OK);
    if (!maif_report_ok(rep)) tu_dump_report(rep);
    assert_true(maif_report_ok(rep));
    assert_int_equal(count_code(rep, "csb"), 0);
    maif_report_free(rep);

    /* the commitment is a pure function: recompute the honest one */
    uint8_t mh[32], ha[32], c1[32], c2[32];
    maif_embedder_model_hash(e, mh);
    maif_sha256(ta, strlen(ta), ha);
    assert_int_equal(maif_csb_commit(ha, maif_embedder_model(e), mh, va, dim, c1), MAIF_OK);
    assert_int_equal(maif_csb_commit(ha, maif_embedder_model(e), mh, va, dim, c2), MAIF_OK);
    assert_memory_equal(c1, c2, 32);
    assert_int_equal(maif_csb_commit(ha, maif_embedder_model(e), mh, va, 0, c2), MAIF_EINVAL);

    /* forgeries, each appended and signed by a writer holding the key */
    float poisoned[1024];
    memcpy(poisoned, va, dim * sizeof *va);
    poisoned[3] += 0.25f;
    assert_int_equal(maif_writer_open(&w, f->path, f->key, NULL), MAIF_OK);
    add_forged(w, va, dim, maif_embedder_model(e), b, mh, c1);          /* moved onto source b */
    add_forged(w, poisoned, dim, maif_embedder_model(e), a, mh, c1);    /* vector altered */
    add_forged(w, va, dim, "use", a, mh, c1);                           /* model relabelled */
    uint8_t other[32];
    memset(other, 7, 32);
    add_forged(w, va, dim, maif_embedder_model(e), a, other, c1);       /* model hash changed */
    add_forged(w, va, dim, maif_embedder_model(e), a, mh, c1);          /* an honest copy: fine */
    uint8_t nowhere[16] = {1};
    add_forged(w, va, dim, maif_embedder_model(e), nowhere, mh, c1);    /* a source the file lacks */
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    assert_int_equal(maif_verify_file(f->path, NULL, &rep), MAIF_OK);
    assert_false(maif_report_ok(rep));
    assert_int_equal(count_code(rep, "csb"), 5);
    for (size_t i = 0; i < maif_report_count(rep); i++) {
        const maif_finding *x = maif_report_finding(rep, i);
        if (strcmp(x->code, "csb") == 0) assert_true(x->block >= 4 && x->block <= 9 && x->block != 8);
    }
    maif_report_free(rep);
    maif_embedder_close(e);
}

/* A sealed source cannot be checked without its key: said, not failed. */
static void test_csb_sealed_source(void **state)
{
    tu_fixture *f = *state;
    const char *t = "a private note";
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->key, NULL, NULL), MAIF_OK);
    maif_keyring *kr = NULL;
    assert_int_equal(maif_keyring_create(&kr), MAIF_OK);
    uint8_t pk[32], id[16];
    maif_key_public(f->key, pk);
    assert_int_equal(maif_keyring_add_recipient(kr, pk), MAIF_OK);
    assert_int_equal(maif_writer_encrypt(w, kr, MAIF_CIPHER_XCHACHA20), MAIF_OK);
    add_text(w, t, id);
    assert_int_equal(maif_writer_encrypt(w, NULL, 0), MAIF_OK);
    maif_embedder *e = NULL;
    assert_int_equal(maif_embedder_open(&e, "hashed", NULL), MAIF_OK);
    float v[1024];
    assert_int_equal(maif_embedder_embed(e, t, strlen(t), v), MAIF_OK);
    assert_int_equal(maif_writer_add_embedding_bound(w, e, v, id, t, strlen(t), NULL), MAIF_OK);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    maif_report *rep = NULL;
    assert_int_equal(maif_verify_file(f->path, NULL, &rep), MAIF_OK);
    assert_true(maif_report_ok(rep));
    assert_int_equal(count_code(rep, "csb-unchecked"), 1);
    maif_report_free(rep);
    maif_embedder_close(e);
    maif_keyring_free(kr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_csb, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_csb_sealed_source, tu_setup, tu_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
