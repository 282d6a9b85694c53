/*
 * test_graph.c — the knowledge graph (maif_graph_*): triples in both
 * shapes, block ids and entities, relationships metadata, superseded and
 * encrypted knowledge blocks, near-duplicate image links, queries
 * (lookup, neighbours, bounded paths, neighbourhoods, patterns), export to
 * DOT and JSON, and the KNOW payload rules (maif_knowledge_check and the
 * block drafts).
 */
#include "testutil.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void add_with(maif_writer *w, uint32_t type, const char *payload, const char *meta, const uint8_t *supersedes,
                     uint8_t id[MAIF_ID_BYTES])
{
    maif_block_spec s = {.type = type, .payload = payload, .payload_size = strlen(payload), .meta_json = meta,
                         .meta_size = meta ? strlen(meta) : 0, .supersedes = supersedes};
    assert_int_equal(maif_writer_add(w, &s, id), MAIF_OK);
}

typedef struct sink {
    char *buf;
    size_t len;
    int fail_after; /* calls before a failure; -1 never */
} sink;

static int to_buf(void *ctx, const void *p, size_t n)
{
    sink *s = ctx;
    if (s->fail_after == 0) return -1;
    if (s->fail_after > 0) s->fail_after--;
    s->buf = realloc(s->buf, s->len + n + 1);
    assert_non_null(s->buf);
    memcpy(s->buf + s->len, p, n);
    s->len += n;
    s->buf[s->len] = 0;
    return 0;
}

static uint64_t node_named(const maif_graph *g, const char *name)
{
    uint64_t n;
    if (maif_graph_lookup(g, name, &n) != MAIF_OK) fail_msg("no node %s: %s", name, maif_last_errmsg());
    return n;
}

static void test_graph_build_and_query(void **state)
{
    tu_fixture *f = *state;
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->key, NULL, NULL), MAIF_OK);
    uint8_t note[MAIF_ID_BYTES], k1[MAIF_ID_BYTES], img1[MAIF_ID_BYTES], img2[MAIF_ID_BYTES];
    char hex[2 * MAIF_ID_BYTES + 1], upper[2 * MAIF_ID_BYTES + 1], buf[1024];
    add_with(w, MAIF_TYPE_TEXT, "Alice met Bob in Paris.", NULL, NULL, note); /* block 0 */
    maif_hex(note, MAIF_ID_BYTES, hex);
    for (int i = 0; i < 32; i++) upper[i] = (char)(hex[i] >= 'a' ? hex[i] - 32 : hex[i]);
    upper[32] = 0;
    snprintf(buf, sizeof buf,
             "{\"triples\":[[\"Alice\",\"knows\",\"Bob\"],{\"subject\":\"Bob\",\"predicate\":\"lives_in\",\"object\":\"Paris\"},"
             "[\"%s\",\"mentions\",\"Alice\"],[\"Paris\",\"population\",2100000],[\"Alice\",\"knows\",\"Bob\"]]}",
             upper);
    add_with(w, MAIF_TYPE_KNOWLEDGE, buf, NULL, NULL, k1); /* block 1: the block id in capitals, a repeated triple */
    snprintf(buf, sizeof buf, "{\"relationships\":[{\"type\":\"follows\",\"target\":\"%s\"},{\"type\":\"bad\"}]}", hex);
    add_with(w, MAIF_TYPE_TEXT, "A follow-up.", buf, NULL, NULL); /* block 2: one good relationship, one skipped */
    add_with(w, MAIF_TYPE_KNOWLEDGE, "[[\"Carol\",\"knows\",\"Alice\"]]", NULL, NULL, NULL); /* block 3 */
    add_with(w, MAIF_TYPE_KNOWLEDGE, "not json", NULL, NULL, NULL);                          /* block 4: skipped */
    /* block 5 replaces block 1: Bob moved */
    add_with(w, MAIF_TYPE_KNOWLEDGE, "[[\"Bob\",\"lives_in\",\"Lyon\"],[\"Alice\",\"knows\",\"Bob\"]]", NULL, k1, NULL);
    /* blocks 6, 7: two images 3 bits apart, 8: far from both */
    add_with(w, MAIF_TYPE_IMAGE, "png-1", "{\"phash\":\"00000000000000ff\",\"phash_content\":\"00000000000000ff\"}", NULL, img1);
    add_with(w, MAIF_TYPE_IMAGE, "png-2", "{\"phash\":\"00000000000000f8\"}", NULL, img2);
    add_with(w, MAIF_TYPE_IMAGE, "png-3", "{\"phash\":\"ffffffffffff0000\"}", NULL, NULL);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);

    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    maif_graph *g = NULL;
    assert_int_equal(maif_graph_build(&g, r, 0), MAIF_OK);
    const char *why = NULL;
    assert_int_equal(maif_graph_skipped(g, &why), 2); /* block 4, and block 2's bad relationship */
    assert_non_null(strstr(why, "block"));
    /* the current graph: block 1 superseded, so Paris is gone */
    uint64_t alice = node_named(g, "Alice"), bob = node_named(g, "Bob"), carol = node_named(g, "Carol");
    uint64_t n0 = node_named(g, hex), n0u = node_named(g, upper);
    assert_int_equal(n0, n0u);
    uint64_t tmp;
    assert_int_equal(maif_graph_lookup(g, "Paris", &tmp), MAIF_ENOTFOUND);
    maif_graph_node nd;
    assert_int_equal(maif_graph_node_get(g, n0, &nd), MAIF_OK);
    assert_int_equal(nd.kind, MAIF_GRAPH_NODE_BLOCK);
    assert_int_equal(nd.block, 0);
    assert_int_equal(nd.type, MAIF_TYPE_TEXT);
    assert_int_equal(maif_graph_node_get(g, alice, &nd), MAIF_OK);
    assert_int_equal(nd.kind, MAIF_GRAPH_NODE_ENTITY);
    assert_int_equal(nd.block, -1);
    assert_int_equal(maif_graph_node_get(g, maif_graph_node_count(g), &nd), MAIF_EINVAL);
    /* edges: Bob lives_in Lyon, Alice knows Bob (once, from block 5), follows, Carol knows Alice; no near-duplicates */
    assert_int_equal(maif_graph_edge_count(g), 4);
    uint64_t es[16];
    size_t n = 0;
    assert_int_equal(maif_graph_match(g, "Alice", "knows", "Bob", es, 16, &n), MAIF_OK);
    assert_int_equal(n, 1);
    maif_graph_edge e;
    assert_int_equal(maif_graph_edge_get(g, es[0], &e), MAIF_OK);
    assert_int_equal(e.from, alice);
    assert_int_equal(e.to, bob);
    assert_string_equal(e.predicate, "knows");
    assert_int_equal(e.block, 5);
    assert_int_equal(maif_graph_edge_get(g, 99, &e), MAIF_EINVAL);
    assert_int_equal(maif_graph_match(g, NULL, "knows", NULL, es, 16, &n), MAIF_OK);
    assert_int_equal(n, 2);
    assert_int_equal(maif_graph_match(g, NULL, "knows", NULL, es, 1, &n), MAIF_ELIMIT);
    assert_int_equal(n, 2);
    assert_int_equal(maif_graph_match(g, "Nobody", NULL, NULL, es, 16, &n), MAIF_OK);
    assert_int_equal(n, 0);
    /* neighbours of Alice: knows Bob, Carol knows her */
    assert_int_equal(maif_graph_neighbors(g, alice, es, 16, &n), MAIF_OK);
    assert_int_equal(n, 2);
    assert_int_equal(maif_graph_neighbors(g, alice, NULL, 0, &n), MAIF_ELIMIT);
    /* a path from Carol to Lyon: Carol - Alice - Bob - Lyon, 3 edges */
    uint64_t lyon = node_named(g, "Lyon");
    assert_int_equal(maif_graph_path(g, carol, lyon, 8, es, 16, &n), MAIF_OK);
    assert_int_equal(n, 3);
    assert_int_equal(maif_graph_edge_get(g, es[0], &e), MAIF_OK);
    assert_true(e.from == carol || e.to == carol);
    assert_int_equal(maif_graph_edge_get(g, es[2], &e), MAIF_OK);
    assert_true(e.to == lyon);
    assert_int_equal(maif_graph_path(g, carol, lyon, 2, es, 16, &n), MAIF_ENOTFOUND);
    assert_int_equal(maif_graph_path(g, carol, carol, 2, es, 16, &n), MAIF_OK);
    assert_int_equal(n, 0);
    assert_int_equal(maif_graph_path(g, carol, lyon, 0, es, 16, &n), MAIF_EINVAL);
    assert_int_equal(maif_graph_path(g, carol, lyon, MAIF_GRAPH_DEPTH_MAX + 1, es, 16, &n), MAIF_EINVAL);
    /* the follow-up block reaches block 0 only: its own id is not named, the relationship names it */
    assert_int_equal(maif_graph_around(g, carol, 1, es, 16, &n), MAIF_OK);
    assert_int_equal(n, 2); /* Carol, Alice */
    assert_int_equal(es[0], carol);
    assert_int_equal(maif_graph_around(g, carol, 0, es, 16, &n), MAIF_OK);
    assert_int_equal(n, 1);

    /* export: JSON parses and has every node and edge; DOT has the shapes */
    sink s = {NULL, 0, -1};
    assert_int_equal(maif_graph_export(g, MAIF_GRAPH_JSON, NULL, 0, to_buf, &s), MAIF_OK);
    json_error_t je;
    json_t *doc = json_loads(s.buf, 0, &je);
    assert_non_null(doc);
    assert_int_equal(json_array_size(json_object_get(doc, "nodes")), maif_graph_node_count(g));
    assert_int_equal(json_array_size(json_object_get(doc, "edges")), 4);
    json_decref(doc);
    free(s.buf);
    s = (sink){NULL, 0, -1};
    uint64_t part[2] = {alice, bob};
    assert_int_equal(maif_graph_export(g, MAIF_GRAPH_DOT, part, 2, to_buf, &s), MAIF_OK);
    assert_non_null(strstr(s.buf, "digraph maif"));
    assert_non_null(strstr(s.buf, "\"knows\""));
    assert_null(strstr(s.buf, "follows"));
    free(s.buf);
    s = (sink){NULL, 0, 0};
    assert_int_equal(maif_graph_export(g, MAIF_GRAPH_DOT, NULL, 0, to_buf, &s), MAIF_EIO);
    free(s.buf);
    assert_int_equal(maif_graph_export(g, 7, NULL, 0, to_buf, &s), MAIF_EINVAL);
    maif_graph_free(g);

    /* every version, and near-duplicates */
    assert_int_equal(maif_graph_build(&g, r, MAIF_GRAPH_SUPERSEDED | MAIF_GRAPH_NEAR_DUPLICATES), MAIF_OK);
    assert_int_equal(maif_graph_lookup(g, "Paris", &tmp), MAIF_OK);
    assert_int_equal(maif_graph_match(g, NULL, "near_duplicate_of", NULL, es, 16, &n), MAIF_OK);
    assert_int_equal(n, 1);
    assert_int_equal(maif_graph_edge_get(g, es[0], &e), MAIF_OK);
    maif_hex(img2, MAIF_ID_BYTES, hex);
    assert_int_equal(e.from, node_named(g, hex));
    assert_int_equal(e.block, 7);
    /* a literal is a node of its own */
    assert_int_equal(maif_graph_lookup(g, "2100000", &tmp), MAIF_OK);
    assert_int_equal(maif_graph_node_get(g, tmp, &nd), MAIF_OK);
    assert_int_equal(nd.kind, MAIF_GRAPH_NODE_LITERAL);
    maif_graph_free(g);
    maif_reader_close(r);
    assert_int_equal(maif_graph_build(NULL, NULL, 0), MAIF_EINVAL);
    maif_graph_free(NULL);
    (void)img1;
}

/* Knowledge sealed with a key: skipped without it, read with it. */
static void test_graph_encrypted(void **state)
{
    tu_fixture *f = *state;
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->key, NULL, NULL), MAIF_OK);
    maif_keyring *kr = tu_keyring_self(f->key);
    assert_int_equal(maif_writer_encrypt(w, kr, MAIF_CIPHER_XCHACHA20), MAIF_OK);
    add_with(w, MAIF_TYPE_KNOWLEDGE, "[[\"secret\",\"is\",\"kept\"]]", NULL, NULL, NULL);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    maif_graph *g = NULL;
    assert_int_equal(maif_graph_build(&g, r, 0), MAIF_OK);
    assert_int_equal(maif_graph_skipped(g, NULL), 1);
    assert_int_equal(maif_graph_edge_count(g), 0);
    maif_graph_free(g);
    assert_int_equal(maif_reader_set_keyring(r, kr), MAIF_OK);
    assert_int_equal(maif_graph_build(&g, r, 0), MAIF_OK);
    assert_int_equal(maif_graph_skipped(g, NULL), 0);
    assert_int_equal(maif_graph_edge_count(g), 1);
    maif_graph_free(g);
    maif_reader_close(r);
    maif_keyring_free(kr);
}

/* similar_to: blocks whose one-row embeddings of one model are close. */
static void test_graph_similar(void **state)
{
    tu_fixture *f = *state;
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->key, NULL, NULL), MAIF_OK);
    uint8_t t[3][MAIF_ID_BYTES];
    const char *texts[3] = {"first", "second", "third"};
    for (int i = 0; i < 3; i++) add_with(w, MAIF_TYPE_TEXT, texts[i], NULL, NULL, t[i]);
    const float v0[4] = {1, 0, 0, 0}, v1[4] = {0.9f, 0.3f, 0, 0}, v2[4] = {0, 0, 1, 0}, v3[4] = {1, 0.1f, 0, 0};
    assert_int_equal(maif_writer_add_embedding(w, v0, 4, "m", t[0], NULL), MAIF_OK);
    assert_int_equal(maif_writer_add_embedding(w, v1, 4, "m", t[1], NULL), MAIF_OK);  /* cos 0.95 with v0 */
    assert_int_equal(maif_writer_add_embedding(w, v2, 4, "m", t[2], NULL), MAIF_OK);  /* orthogonal */
    assert_int_equal(maif_writer_add_embedding(w, v3, 4, "other", t[2], NULL), MAIF_OK); /* close, other model */
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open(&r, f->path), MAIF_OK);
    maif_graph *g = NULL;
    assert_int_equal(maif_graph_build(&g, r, 0), MAIF_OK);
    assert_int_equal(maif_graph_edge_count(g), 0);
    maif_graph_free(g);
    assert_int_equal(maif_graph_build(&g, r, MAIF_GRAPH_SIMILAR), MAIF_OK);
    assert_int_equal(maif_graph_edge_count(g), 1);
    maif_graph_edge e;
    assert_int_equal(maif_graph_edge_get(g, 0, &e), MAIF_OK);
    assert_string_equal(e.predicate, "similar_to");
    char hex[2 * MAIF_ID_BYTES + 1];
    assert_int_equal(e.from, node_named(g, maif_hex(t[1], MAIF_ID_BYTES, hex)));
    assert_int_equal(e.to, node_named(g, maif_hex(t[0], MAIF_ID_BYTES, hex)));
    maif_graph_free(g);
    maif_reader_close(r);
}

static void test_knowledge_rules(void **state)
{
    (void)state;
    const char *good[] = {"[]", "{\"triples\":[]}", "[[\"a\",\"b\",\"c\"]]", "[[\"a\",\"b\",1.5]]", "[[\"a\",\"b\",null]]",
                          "[{\"subject\":\"a\",\"predicate\":\"b\",\"object\":true}]"};
    const char *bad[] = {"", "{", "{}", "{\"triples\":[],\"x\":1}", "[[\"a\",\"b\"]]", "[[\"a\",\"b\",\"c\",\"d\"]]",
                         "[[1,\"b\",\"c\"]]", "[[\"a\",2,\"c\"]]", "[[\"\",\"b\",\"c\"]]", "[[\"a\",\"b\",[1]]]",
                         "[{\"subject\":\"a\",\"predicate\":\"b\"}]", "[{\"subject\":\"a\",\"predicate\":\"b\",\"obj\":\"c\"}]",
                         "\"text\"", "[[\"a\",\"b\",{}]]"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        if (maif_knowledge_check(good[i], strlen(good[i])) != MAIF_OK) fail_msg("good %zu: %s", i, maif_last_errmsg());
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (maif_knowledge_check(bad[i], strlen(bad[i])) != MAIF_EJSON) fail_msg("bad %zu accepted", i);
    /* names longer than 4096 bytes */
    char *big = malloc(5000 + 32);
    assert_non_null(big);
    strcpy(big, "[[\"");
    memset(big + 3, 'x', 4097);
    strcpy(big + 3 + 4097, "\",\"p\",\"o\"]]");
    assert_int_equal(maif_knowledge_check(big, strlen(big)), MAIF_EJSON);
    free(big);
    assert_int_equal(maif_knowledge_check(NULL, 3), MAIF_EINVAL);
    assert_int_equal(maif_knowledge_check("x", MAIF_PARSE_MAX + 1), MAIF_ELIMIT);
    /* the drafts (`maif add`, `maif append`) apply the same rules */
    maif_block_draft *d = NULL;
    assert_int_equal(maif_block_draft_new(&d, MAIF_TYPE_KNOWLEDGE, NULL, 0), MAIF_OK);
    assert_int_equal(maif_block_draft_set_payload(d, "[[\"a\",\"b\"]]", 11), MAIF_EINVAL);
    assert_non_null(strstr(maif_last_errmsg(), "triple 0"));
    assert_int_equal(maif_block_draft_set_payload(d, "[[\"a\",\"b\",\"c\"]]", 15), MAIF_OK);
    maif_block_draft_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_graph_build_and_query, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_graph_encrypted, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_graph_similar, tu_setup, tu_teardown),
        cmocka_unit_test(test_knowledge_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
