/*
 * test_draft.c — the one-pass JSONL scanner (src/api/draft_fast.c) against
 * the general jansson path: for lines the scanner takes and lines it must
 * leave alone (escapes, \u, reals, nesting, unsorted or duplicate keys,
 * invalid UTF-8, other keys, empty metadata, bad types and codecs), the
 * public maif_block_draft_from_json and the tree path give the same
 * verdict, error message, type, payload, canonical metadata and codec.
 * Plus a few thousand generated lines of the common shape.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/draft_fast.h"

/* 1 if line is handled identically by both paths (and fast says whether
 * the scanner took it). */
static void same(const char *line, size_t n, int *took)
{
    maif_draft_fast f = {0};
    *took = maif_draft_fast_scan(line, n, &f);
    maif_draft_fast_free(&f);
    maif_block_draft *a = NULL, *b = NULL;
    int ra = maif_block_draft_from_json(&a, line, n);
    char ma[600];
    snprintf(ma, sizeof ma, "%s", ra ? maif_last_errmsg() : "");
    int rb = maif_draft_from_json_tree(&b, line, n);
    if (ra != rb || (ra && strcmp(ma, maif_last_errmsg()) != 0)) {
        fprintf(stderr, "line %.*s: fast %d '%s', tree %d '%s'\n", (int)n, line, ra, ma, rb, maif_last_errmsg());
        fail();
    }
    if (!ra) {
        maif_block_spec sa, sb;
        assert_int_equal(maif_block_draft_spec(a, &sa), maif_block_draft_spec(b, &sb));
        assert_int_equal(sa.type, sb.type);
        assert_int_equal(sa.payload_size, sb.payload_size);
        if (sa.payload_size) assert_memory_equal(sa.payload, sb.payload, sa.payload_size);
        if (sa.meta_size != sb.meta_size || (sa.meta_size && memcmp(sa.meta_json, sb.meta_json, sa.meta_size))) {
            fprintf(stderr, "line %.*s: meta '%.*s' vs '%.*s'\n", (int)n, line, (int)sa.meta_size, sa.meta_json,
                    (int)sb.meta_size, sb.meta_json);
            fail();
        }
        int ca, la, cb, lb;
        assert_int_equal(maif_draft_codec(a, &ca, &la), maif_draft_codec(b, &cb, &lb));
        assert_int_equal(ca, cb);
        assert_int_equal(la, lb);
        assert_int_equal(maif_block_draft_pending(a), maif_block_draft_pending(b));
    }
    maif_block_draft_free(a);
    maif_block_draft_free(b);
}

static void test_cases(void **state)
{
    (void)state;
    static const struct {
        const char *line;
        int fast; /* the scanner recognises the shape (from_fast may still leave it to jansson) */
    } cases[] = {
        {"{\"type\":\"text\",\"text\":\"hello\"}", 1},
        {" { \"text\" : \"a\\\"b\\\\c\\/d\\n\\t\\r\\b\\f\" , \"type\" : \"TEXT\" } ", 1},
        {"{\"type\":\"text\",\"text\":\"h\",\"meta\":{\"source\":\"chat\"}}", 1},
        {"{\"type\":\"text\",\"text\":\"h\",\"meta\":{\"a\":1,\"b\":-23,\"c\":true,\"d\":false,\"e\":null,\"f\":\"x\\ny\"}}", 1},
        {"{\"type\":\"text\",\"text\":\"h\",\"meta\":{\"a\":\"\xc3\xa9\",\"\xc3\xa9\":\"\xe2\x82\xac\"}}", 1},
        {"{\"type\":\"json\",\"text\":\"{\\\"k\\\": [1, 2]}\",\"compress\":\"zstd:5\"}", 1},
        {"{\"type\":\"text\",\"text\":\"\",\"compress\":\"lz4\"}", 1},
        {"{\"type\":\"text\",\"text\":\"h\",\"meta\":{\"b\":1,\"a\":2}}", 0},      /* unsorted: jansson sorts */
        {"{\"type\":\"text\",\"text\":\"h\",\"meta\":{\"a\":1,\"a\":2}}", 0},      /* duplicate */
        {"{\"type\":\"text\",\"text\":\"h\",\"meta\":{}}", 0},                     /* empty */
        {"{\"type\":\"text\",\"text\":\"h\",\"meta\":{\"a\":1.5}}", 0},            /* a real */
        {"{\"type\":\"text\",\"text\":\"h\",\"meta\":{\"a\":1e3}}", 0},
        {"{\"type\":\"text\",\"text\":\"h\",\"meta\":{\"a\":-0}}", 0},
        {"{\"type\":\"text\",\"text\":\"h\",\"meta\":{\"a\":0123}}", 0},
        {"{\"type\":\"text\",\"text\":\"h\",\"meta\":{\"a\":12345678901234567890}}", 0},
        {"{\"type\":\"text\",\"text\":\"h\",\"meta\":{\"a\":[1]}}", 0},
        {"{\"type\":\"text\",\"text\":\"h\",\"meta\":{\"a\":{\"b\":1}}}", 0},
        {"{\"type\":\"text\",\"text\":\"h\",\"meta\":[1]}", 0},
        {"{\"type\":\"text\",\"text\":\"\\u00e9\"}", 0},
        {"{\"type\":\"text\",\"text\":\"\\u0000\"}", 0},
        {"{\"type\":\"text\",\"text\":\"a\",\"text\":\"b\"}", 0},
        {"{\"type\":\"text\",\"text\":\"\xff\"}", 0},                               /* invalid UTF-8 */
        {"{\"type\":\"text\",\"text\":\"a\x01\"}", 0},                              /* raw control */
        {"{\"type\":\"text\",\"text\":\"a\",\"file\":\"x\"}", 0},
        {"{\"type\":\"text\",\"file\":\"x\"}", 0},
        {"{\"type\":\"text\",\"text\":\"a\",\"bogus\":1}", 0},
        {"{\"type\":\"nope\",\"text\":\"a\"}", 1},                              /* scanned; the type is refused by the tree path */
        {"{\"type\":\"text\",\"text\":\"a\",\"compress\":\"brotli\"}", 1},
        {"{\"type\":\"embedding\",\"text\":\"[1,2]\"}", 1},   /* scanned; embeddings go to the tree path */
        {"{\"type\":\"json\",\"text\":\"{nope\"}", 1},                              /* taken; take_bytes refuses */
        {"{\"type\":\"text\",\"text\":\"a\"} x", 0},
        {"{\"type\":\"text\",\"text\":\"a\",}", 0},
        {"{\"type\":\"text\"}", 0},
        {"{}", 0},
        {"", 0},
        {"[1]", 0},
        {"{\"type\":1,\"text\":\"a\"}", 0},
        {"{\"type\":\"text\",\"text\":\"a\",\"meta\":{\"k\":\"v\"},\"meta\":{\"k\":\"v\"}}", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int took;
        same(cases[i].line, strlen(cases[i].line), &took);
        if (took != cases[i].fast) fprintf(stderr, "case %zu: took %d\n", i, took);
        assert_int_equal(took, cases[i].fast);
    }
}

/* Generated lines of the common shape, and their prefixes (cut anywhere). */
static void test_generated(void **state)
{
    (void)state;
    static const char *vals[] = {"\"chat\"", "42", "-7", "true", "false", "null", "\"a\\\"q\\\\\"", "\"\xc3\xa9t\xc3\xa9\""};
    static const char *keys[] = {"a", "b", "source", "z", "\xc3\xa9"};
    uint64_t x = 88172645463325252ull;
    int taken = 0;
    for (int i = 0; i < 3000; i++) {
        char line[512];
        int n = snprintf(line, sizeof line, "{\"type\":\"%s\",\"text\":\"note %d\\n\\\"x\\\"\"", i % 3 ? "text" : "json",
                         i);
        if (i % 3 == 0) n = snprintf(line, sizeof line, "{\"type\":\"json\",\"text\":\"[%d]\"", i);
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int nk = (int)(x % 4);
        if (nk) {
            n += snprintf(line + n, sizeof line - (size_t)n, ",\"meta\":{");
            int k0 = (int)((x >> 8) % 2);
            for (int k = 0; k < nk; k++) {
                int ki = x >> 20 & 1 ? k0 + k : nk - k; /* sometimes out of order */
                n += snprintf(line + n, sizeof line - (size_t)n, "%s\"%s\":%s", k ? "," : "", keys[ki % 5],
                              vals[(x >> (3 * k)) % 8]);
            }
            n += snprintf(line + n, sizeof line - (size_t)n, "}");
        }
        if (x >> 40 & 1) n += snprintf(line + n, sizeof line - (size_t)n, ",\"compress\":\"zstd\"");
        n += snprintf(line + n, sizeof line - (size_t)n, "}");
        int took;
        same(line, (size_t)n, &took);
        taken += took;
        same(line, (size_t)(x % (uint64_t)n), &took); /* a cut line */
    }
    assert_true(taken > 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_generated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
