/*
 * test_acam.c — the properties ACAM promises (docs/ACAM.md): weights sum
 * to 1; a more trusted source gets more weight, all else equal; a source
 * closer to the query gets more weight; the score is the cosine of the
 * query with the joint vector; the same inputs give the same bytes; bad
 * inputs are refused.
 */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define D 8

static void test_acam_properties(void **state)
{
    (void)state;
    float q[D] = {1, 0, 0, 0, 0, 0, 0, 0};
    float e0[D] = {0.9f, 0.1f, 0, 0, 0, 0, 0, 0}, e1[D] = {0, 1, 0, 0, 0, 0, 0, 0}, e2[D] = {0.5f, 0.5f, 0.5f, 0, 0, 0, 0, 0};
    maif_acam_source src[3] = {{e0, 1.0f}, {e1, 1.0f}, {e2, 1.0f}};
    float w[4], joint[D], score;
    assert_int_equal(maif_acam_fuse(q, D, src, 3, NULL, w, joint, &score), MAIF_OK);
    assert_true(fabs(w[0] + w[1] + w[2] - 1.0) < 1e-6);
    /* closer to the query, more weight */
    assert_true(w[0] > w[2] && w[2] > w[1]);
    /* the score is the cosine of query and joint */
    double jn = 0;
    for (int k = 0; k < D; k++) jn += joint[k] * joint[k];
    assert_true(fabs(score - joint[0] / sqrt(jn)) < 1e-5);
    assert_true(score > 0.9f);

    /* more trust, more weight (and the others lose it): identical sources split by trust alone */
    maif_acam_source same[2] = {{e2, 0.9f}, {e2, 0.3f}};
    assert_int_equal(maif_acam_fuse(q, D, same, 2, NULL, w, NULL, &score), MAIF_OK);
    assert_true(fabs(w[0] - 0.75) < 1e-5 && fabs(w[1] - 0.25) < 1e-5); /* a_i proportional to trust_i */
    float before = 0;
    for (int t = 1; t <= 10; t++) {
        src[1].trust = t / 10.0f;
        assert_int_equal(maif_acam_fuse(q, D, src, 3, NULL, w, NULL, &score), MAIF_OK);
        assert_true(w[1] > before);
        before = w[1];
    }
    /* equal sources, equal trust: equal weights */
    maif_acam_source eq[4] = {{e1, 0.5f}, {e1, 0.5f}, {e1, 0.5f}, {e1, 0.5f}};
    assert_int_equal(maif_acam_fuse(q, D, eq, 4, NULL, w, NULL, &score), MAIF_OK);
    for (int i = 0; i < 4; i++) assert_true(fabs(w[i] - 0.25) < 1e-6);
    /* a sharper temperature concentrates the weight on the best source */
    maif_acam_params p;
    maif_acam_defaults(&p);
    assert_true(p.mix == 0.5f && p.temperature == 0.1f);
    src[1].trust = 1.0f;
    float wsoft[3], wsharp[3];
    p.temperature = 1.0f;
    assert_int_equal(maif_acam_fuse(q, D, src, 3, &p, wsoft, NULL, &score), MAIF_OK);
    p.temperature = 0.01f;
    assert_int_equal(maif_acam_fuse(q, D, src, 3, &p, wsharp, NULL, &score), MAIF_OK);
    assert_true(wsharp[0] > wsoft[0] && wsharp[0] > 0.99f);
    /* deterministic: the same inputs, the same bytes */
    float w2[4], j2[D], s2;
    assert_int_equal(maif_acam_fuse(q, D, src, 3, NULL, w, joint, &score), MAIF_OK);
    assert_int_equal(maif_acam_fuse(q, D, src, 3, NULL, w2, j2, &s2), MAIF_OK);
    assert_memory_equal(w, w2, 3 * sizeof w[0]);
    assert_memory_equal(joint, j2, sizeof joint);
    assert_memory_equal(&score, &s2, sizeof score);
    /* a zero query or zero sources: score 0, weights still a distribution */
    float z[D] = {0};
    assert_int_equal(maif_acam_fuse(z, D, src, 3, NULL, w, NULL, &score), MAIF_OK);
    assert_true(score == 0.0f && fabs(w[0] + w[1] + w[2] - 1.0) < 1e-6);
}

static void test_acam_bad_input(void **state)
{
    (void)state;
    float q[D] = {1}, e[D] = {1}, w[2], score;
    maif_acam_source s[2] = {{e, 1.0f}, {e, 1.0f}};
    assert_int_equal(maif_acam_fuse(NULL, D, s, 2, NULL, w, NULL, &score), MAIF_EINVAL);
    assert_int_equal(maif_acam_fuse(q, 0, s, 2, NULL, w, NULL, &score), MAIF_EINVAL);
    assert_int_equal(maif_acam_fuse(q, D, s, 0, NULL, w, NULL, &score), MAIF_EINVAL);
    assert_int_equal(maif_acam_fuse(q, MAIF_ACAM_DIM_MAX + 1, s, 2, NULL, w, NULL, &score), MAIF_ELIMIT);
    assert_int_equal(maif_acam_fuse(q, D, s, MAIF_ACAM_SOURCES_MAX + 1, NULL, w, NULL, &score), MAIF_ELIMIT);
    s[1].trust = 0;
    assert_int_equal(maif_acam_fuse(q, D, s, 2, NULL, w, NULL, &score), MAIF_EINVAL);
    s[1].trust = 1.5f;
    assert_int_equal(maif_acam_fuse(q, D, s, 2, NULL, w, NULL, &score), MAIF_EINVAL);
    s[1].trust = NAN;
    assert_int_equal(maif_acam_fuse(q, D, s, 2, NULL, w, NULL, &score), MAIF_EINVAL);
    s[1].trust = 1;
    e[3] = INFINITY;
    assert_int_equal(maif_acam_fuse(q, D, s, 2, NULL, w, NULL, &score), MAIF_EINVAL);
    e[3] = 0;
    q[2] = NAN;
    assert_int_equal(maif_acam_fuse(q, D, s, 2, NULL, w, NULL, &score), MAIF_EINVAL);
    q[2] = 0;
    s[0].vec = NULL;
    assert_int_equal(maif_acam_fuse(q, D, s, 2, NULL, w, NULL, &score), MAIF_EINVAL);
    s[0].vec = e;
    maif_acam_params p = {2.0f, 0.1f};
    assert_int_equal(maif_acam_fuse(q, D, s, 2, &p, w, NULL, &score), MAIF_EINVAL);
    p = (maif_acam_params){0.5f, 0.0f};
    assert_int_equal(maif_acam_fuse(q, D, s, 2, &p, w, NULL, &score), MAIF_EINVAL);
    maif_acam_defaults(NULL);
}

/* A small labelled cross-modal set: eight "images" (payloads stand in for
 * pictures; only what is said about them counts), each with the agent's
 * caption and three notes linked to it by relationships, each note on a
 * different aspect; plus four distractor images known by one short
 * caption that shares a word with some query. Each of the 24 queries
 * paraphrases one note; its answer is the image the note is about.
 * ACAM attends to the note that matches; the plain baseline embeds all of
 * an image's texts as one and dilutes it. Measured: mean reciprocal rank
 * and top-1 of both (printed), ACAM required to be better on both. */
static const char *const set[8][4] = {
    {"a red bicycle leaning on a fence", "the bicycle has a broken rear brake cable", "we bought the bike in Lyon in 2019",
     "it needs new tyres before the summer trip"},
    {"a golden retriever on the beach", "the dog is afraid of thunderstorms", "vaccinations are due in March",
     "she loves chasing seagulls at low tide"},
    {"the kitchen after the renovation", "the oven door hinge squeaks loudly", "oak cabinets came from a local carpenter",
     "the dishwasher drains slowly since June"},
    {"a mountain lake at sunrise", "the hike to the lake takes four hours", "fishing is forbidden near the dam",
     "the water was freezing in early May"},
    {"grandmother's birthday dinner", "she turned ninety and wore a blue scarf", "the cake was lemon with almonds",
     "cousins travelled from Porto for it"},
    {"the office whiteboard after planning", "the quarterly roadmap moves billing to April", "the team agreed on weekly demos",
     "hiring two backend engineers is approved"},
    {"a receipt from the hardware store", "screws and wall plugs for the shelf", "the warranty covers the drill for two years",
     "paid by card on the third of the month"},
    {"a chest x-ray from the clinic", "the radiologist saw no fracture", "follow-up appointment in six weeks",
     "the cough started after the flu"},
};
static const char *const queries[8][3] = {
    {"brake cable broken", "bike bought in Lyon", "new tyres for the trip"},
    {"dog scared of thunder", "vaccinations due", "chasing seagulls"},
    {"oven hinge squeaks", "oak cabinets carpenter", "dishwasher drains slowly"},
    {"hike takes four hours", "fishing forbidden dam", "freezing water in May"},
    {"ninety blue scarf", "lemon almond cake", "cousins from Porto"},
    {"roadmap billing April", "weekly demos agreed", "hiring backend engineers"},
    {"screws wall plugs shelf", "drill warranty two years", "paid by card"},
    {"no fracture radiologist", "follow-up appointment six weeks", "cough after the flu"},
};
static const char *const distractors[4] = {"a broken cable on the desk", "thunder over the scarf shop",
                                           "an appointment card", "a dam in April"};

static void test_acam_cross_modal(void **state)
{
    tu_fixture *f = *state;
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->key, NULL, NULL), MAIF_OK);
    uint64_t image_block[8];
    for (int i = 0; i < 8; i++) {
        uint8_t id[MAIF_ID_BYTES];
        char meta[300], hex[2 * MAIF_ID_BYTES + 1];
        snprintf(meta, sizeof meta, "{\"caption\":\"%s\",\"caption_source\":\"agent\"}", set[i][0]);
        image_block[i] = maif_writer_count(w);
        maif_block_spec img = {.type = MAIF_TYPE_IMAGE, .payload = "\x89PNG", .payload_size = 4, .meta_json = meta,
                               .meta_size = strlen(meta)};
        assert_int_equal(maif_writer_add(w, &img, id), MAIF_OK);
        maif_hex(id, MAIF_ID_BYTES, hex);
        for (int k = 1; k < 4; k++) {
            snprintf(meta, sizeof meta, "{\"relationships\":[{\"type\":\"about\",\"target\":\"%s\"}]}", hex);
            maif_block_spec note = {.type = MAIF_TYPE_TEXT, .payload = set[i][k], .payload_size = strlen(set[i][k]),
                                    .meta_json = meta, .meta_size = strlen(meta)};
            assert_int_equal(maif_writer_add(w, &note, NULL), MAIF_OK);
        }
    }
    for (int i = 0; i < 4; i++) {
        char meta[300];
        snprintf(meta, sizeof meta, "{\"caption\":\"%s\",\"caption_source\":\"captioner\"}", distractors[i]);
        maif_block_spec img = {.type = MAIF_TYPE_IMAGE, .payload = "\x89PNG", .payload_size = 4, .meta_json = meta,
                               .meta_size = strlen(meta)};
        assert_int_equal(maif_writer_add(w, &img, NULL), MAIF_OK);
    }
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    double mrr[2] = {0, 0};
    int top1[2] = {0, 0};
    for (int mode = 0; mode < 2; mode++)
        for (int i = 0; i < 8; i++)
            for (int k = 0; k < 3; k++) {
                maif_acam_hit hits[16];
                size_t n = 0;
                assert_int_equal(maif_acam_search(r, "hashed", queries[i][k], strlen(queries[i][k]), MAIF_TYPE_IMAGE,
                                                  mode ? MAIF_ACAM_PLAIN : MAIF_ACAM_FUSED, NULL, hits, 16, &n),
                                 MAIF_OK);
                assert_int_equal(n, 12);
                for (size_t j = 1; j < n; j++) assert_true(hits[j - 1].score >= hits[j].score);
                for (size_t j = 0; j < n; j++)
                    if (hits[j].block == image_block[i]) {
                        mrr[mode] += 1.0 / (double)(j + 1);
                        top1[mode] += j == 0;
                        assert_int_equal(hits[j].sources, 4);
                    }
            }
    print_message("cross-modal set (8 images, 24 queries, 4 distractors; hashed embedder): "
                  "ACAM MRR %.3f, top-1 %d/24; plain joined text MRR %.3f, top-1 %d/24\n",
                  mrr[0] / 24, top1[0], mrr[1] / 24, top1[1]);
    assert_true(mrr[0] > mrr[1]);
    assert_true(top1[0] >= top1[1]);
    /* deterministic: the same query, the same ranking */
    maif_acam_hit a[4], b[4];
    size_t na, nb;
    assert_int_equal(maif_acam_search(r, NULL, "dog", 3, MAIF_TYPE_IMAGE, MAIF_ACAM_FUSED, NULL, a, 4, &na), MAIF_OK);
    assert_int_equal(maif_acam_search(r, NULL, "dog", 3, MAIF_TYPE_IMAGE, MAIF_ACAM_FUSED, NULL, b, 4, &nb), MAIF_OK);
    assert_int_equal(na, nb);
    for (size_t j = 0; j < na; j++) {
        assert_int_equal(a[j].block, b[j].block);
        assert_memory_equal(&a[j].score, &b[j].score, sizeof a[j].score);
    }
    assert_int_equal(maif_acam_search(r, NULL, "dog", 3, 0, MAIF_ACAM_FUSED, NULL, a, 4, &na), MAIF_EINVAL);
    assert_int_equal(maif_acam_search(r, NULL, "dog", 3, MAIF_TYPE_IMAGE, 9, NULL, a, 4, &na), MAIF_EINVAL);
    maif_reader_close(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_acam_properties),
        cmocka_unit_test(test_acam_bad_input),
        cmocka_unit_test_setup_teardown(test_acam_cross_modal, tu_setup, tu_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
