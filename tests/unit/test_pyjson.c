/*
 * test_pyjson.c — known-answer tests for canonical JSON. The expected bytes
 * below were produced by CPython 3.11 and pasted in; nothing here runs
 * Python. MAIF 2.1 signatures cover these bytes, so every case is exact.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "util/pyjson.h"

struct json_case {
    const char *in;      /* input JSON text */
    const char *py;      /* json.dumps(obj, sort_keys=True) */
    const char *compact; /* sort_keys, (",", ":"), ensure_ascii=False */
};

/* Generated with CPython 3.11: json.dumps(json.loads(in), sort_keys=True) and
 * json.dumps(..., sort_keys=True, separators=(",", ":"), ensure_ascii=False). */
static const struct json_case cases[] = {
    { "{}",
      "{}",
      "{}" },
    { "{\"a\": []}",
      "{\"a\": []}",
      "{\"a\":[]}" },
    { "{\"a\":{}, \"b\":[{}, []]}",
      "{\"a\": {}, \"b\": [{}, []]}",
      "{\"a\":{},\"b\":[{},[]]}" },
    { "{\"b\":1,\"a\":2,\"c\":3}",
      "{\"a\": 2, \"b\": 1, \"c\": 3}",
      "{\"a\":2,\"b\":1,\"c\":3}" },
    { "{\"ab\":1,\"a\":2,\"abc\":3,\"\":4}",
      "{\"\": 4, \"a\": 2, \"ab\": 1, \"abc\": 3}",
      "{\"\":4,\"a\":2,\"ab\":1,\"abc\":3}" },
    { "{\"z\":{\"y\":{\"b\":1,\"a\":[{\"d\":1,\"c\":2}]}},\"a\":0}",
      "{\"a\": 0, \"z\": {\"y\": {\"a\": [{\"c\": 2, \"d\": 1}], \"b\": 1}}}",
      "{\"a\":0,\"z\":{\"y\":{\"a\":[{\"c\":2,\"d\":1}],\"b\":1}}}" },
    { "{\"\\u00e9\":1,\"e\":2,\"\\u00e8\":3,\"f\":4}",
      "{\"e\": 2, \"f\": 4, \"\\u00e8\": 3, \"\\u00e9\": 1}",
      "{\"e\":2,\"f\":4,\"\303\250\":3,\"\303\251\":1}" },
    { "{\"a\\u00e9\":1,\"a\\u00e8\":2,\"a\\u0100\":3,\"a\\ud83d\\ude00\":4,\"a\\uffff\":5}",
      "{\"a\\u00e8\": 2, \"a\\u00e9\": 1, \"a\\u0100\": 3, \"a\\uffff\": 5, \"a\\ud83d\\ude00\": 4}",
      "{\"a\303\250\":2,\"a\303\251\":1,\"a\304\200\":3,\"a\357\277\277\":5,\"a\360\237\230\200\":4}" },
    { "{\"\\ud83d\\ude00\":\"\\ud83d\\ude00\",\"\\uffff\":\"\\uffff\"}",
      "{\"\\uffff\": \"\\uffff\", \"\\ud83d\\ude00\": \"\\ud83d\\ude00\"}",
      "{\"\357\277\277\":\"\357\277\277\",\"\360\237\230\200\":\"\360\237\230\200\"}" },
    { "{\"k\":\"caf\\u00e9 \\u4e2d\\u6587 \\u20ac\"}",
      "{\"k\": \"caf\\u00e9 \\u4e2d\\u6587 \\u20ac\"}",
      "{\"k\":\"caf\303\251 \344\270\255\346\226\207 \342\202\254\"}" },
    { "{\"k\":\"caf\303\251 \344\270\255\346\226\207 \342\202\254 raw\"}",
      "{\"k\": \"caf\\u00e9 \\u4e2d\\u6587 \\u20ac raw\"}",
      "{\"k\":\"caf\303\251 \344\270\255\346\226\207 \342\202\254 raw\"}" },
    { "{\"k\":\"\360\237\230\200\360\235\204\236\364\217\277\277 raw astral\"}",
      "{\"k\": \"\\ud83d\\ude00\\ud834\\udd1e\\udbff\\udfff raw astral\"}",
      "{\"k\":\"\360\237\230\200\360\235\204\236\364\217\277\277 raw astral\"}" },
    { "{\"k\":\"\\\"quote\\\" back\\\\slash /solidus \\/\"}",
      "{\"k\": \"\\\"quote\\\" back\\\\slash /solidus /\"}",
      "{\"k\":\"\\\"quote\\\" back\\\\slash /solidus /\"}" },
    { "{\"k\":\"\\n\\r\\t\\b\\f\"}",
      "{\"k\": \"\\n\\r\\t\\b\\f\"}",
      "{\"k\":\"\\n\\r\\t\\b\\f\"}" },
    { "{\"k\":\"\\u0000\\u0001\\u001f\\u000b\\u0007 x\"}",
      "{\"k\": \"\\u0000\\u0001\\u001f\\u000b\\u0007 x\"}",
      "{\"k\":\"\\u0000\\u0001\\u001f\\u000b\\u0007 x\"}" },
    { "{\"k\":\"\\u007f del\"}",
      "{\"k\": \"\\u007f del\"}",
      "{\"k\":\"\177 del\"}" },
    { "{\"k\":\"\177 raw del\"}",
      "{\"k\": \"\\u007f raw del\"}",
      "{\"k\":\"\177 raw del\"}" },
    { "{\"k\":\"\\u0080\\u00ff\\u07ff\\u0800\\ufeff\"}",
      "{\"k\": \"\\u0080\\u00ff\\u07ff\\u0800\\ufeff\"}",
      "{\"k\":\"\302\200\303\277\337\277\340\240\200\357\273\277\"}" },
    { "{\"\\n\":1,\"\\t\":2,\" \":3,\"~\":4}",
      "{\"\\t\": 2, \"\\n\": 1, \" \": 3, \"~\": 4}",
      "{\"\\t\":2,\"\\n\":1,\" \":3,\"~\":4}" },
    { "{\"a\":0.1,\"b\":0.2,\"c\":0.30000000000000004}",
      "{\"a\": 0.1, \"b\": 0.2, \"c\": 0.30000000000000004}",
      "{\"a\":0.1,\"b\":0.2,\"c\":0.30000000000000004}" },
    { "{\"f\":1e-05}",
      "{\"f\": 1e-05}",
      "{\"f\":1e-05}" },
    { "{\"f\":1e-4}",
      "{\"f\": 0.0001}",
      "{\"f\":0.0001}" },
    { "{\"f\":1e16}",
      "{\"f\": 1e+16}",
      "{\"f\":1e+16}" },
    { "{\"f\":1e15}",
      "{\"f\": 1000000000000000.0}",
      "{\"f\":1000000000000000.0}" },
    { "{\"f\":1.5e20}",
      "{\"f\": 1.5e+20}",
      "{\"f\":1.5e+20}" },
    { "{\"f\":123456789012345678.0}",
      "{\"f\": 1.2345678901234568e+17}",
      "{\"f\":1.2345678901234568e+17}" },
    { "{\"f\":5e-324}",
      "{\"f\": 5e-324}",
      "{\"f\":5e-324}" },
    { "{\"f\":1.7976931348623157e308}",
      "{\"f\": 1.7976931348623157e+308}",
      "{\"f\":1.7976931348623157e+308}" },
    { "{\"f\":-0.0}",
      "{\"f\": -0.0}",
      "{\"f\":-0.0}" },
    { "{\"f\":2.5}",
      "{\"f\": 2.5}",
      "{\"f\":2.5}" },
    { "{\"f\":0.3333333333333333}",
      "{\"f\": 0.3333333333333333}",
      "{\"f\":0.3333333333333333}" },
    { "{\"f\":100000.0,\"g\":1E5,\"h\":1.0,\"i\":0.0}",
      "{\"f\": 100000.0, \"g\": 100000.0, \"h\": 1.0, \"i\": 0.0}",
      "{\"f\":100000.0,\"g\":100000.0,\"h\":1.0,\"i\":0.0}" },
    { "{\"f\":9007199254740993.0,\"g\":9007199254740992}",
      "{\"f\": 9007199254740992.0, \"g\": 9007199254740992}",
      "{\"f\":9007199254740992.0,\"g\":9007199254740992}" },
    { "{\"f\":2.2250738585072014e-308,\"g\":1e-400}",
      "{\"f\": 2.2250738585072014e-308, \"g\": 0.0}",
      "{\"f\":2.2250738585072014e-308,\"g\":0.0}" },
    { "{\"f\":1e100,\"g\":-1.5e-100,\"h\":1.2345678901234567e-7}",
      "{\"f\": 1e+100, \"g\": -1.5e-100, \"h\": 1.2345678901234566e-07}",
      "{\"f\":1e+100,\"g\":-1.5e-100,\"h\":1.2345678901234566e-07}" },
    { "{\"f\":9999999999999998.0,\"g\":0.00001234}",
      "{\"f\": 9999999999999998.0, \"g\": 1.234e-05}",
      "{\"f\":9999999999999998.0,\"g\":1.234e-05}" },
    { "{\"i\":9223372036854775807,\"j\":-9223372036854775808,\"k\":-0,\"l\":0}",
      "{\"i\": 9223372036854775807, \"j\": -9223372036854775808, \"k\": 0, \"l\": 0}",
      "{\"i\":9223372036854775807,\"j\":-9223372036854775808,\"k\":0,\"l\":0}" },
    { "{\"i\":-42,\"j\":1234567890123}",
      "{\"i\": -42, \"j\": 1234567890123}",
      "{\"i\":-42,\"j\":1234567890123}" },
    { "{\"t\":true,\"f\":false,\"n\":null}",
      "{\"f\": false, \"n\": null, \"t\": true}",
      "{\"f\":false,\"n\":null,\"t\":true}" },
    { "{\"a\":[1,\"two\",3.0,null,true,[false,{\"z\":1,\"y\":2}]]}",
      "{\"a\": [1, \"two\", 3.0, null, true, [false, {\"y\": 2, \"z\": 1}]]}",
      "{\"a\":[1,\"two\",3.0,null,true,[false,{\"y\":2,\"z\":1}]]}" },
    { " \011\012{ \"a\" : [ 1 , 2 ] }\012\015 ",
      "{\"a\": [1, 2]}",
      "{\"a\":[1,2]}" },
    { "{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":[[[[[[[[1]]]]]]]]}}}}}}}}",
      "{\"a\": {\"a\": {\"a\": {\"a\": {\"a\": {\"a\": {\"a\": {\"a\": [[[[[[[[1]]]]]]]]}}}}}}}}",
      "{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":[[[[[[[[1]]]]]]]]}}}}}}}}" },
    { "{\"d\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"deep\"]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
      "{\"d\": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"deep\"]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
      "{\"d\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"deep\"]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}" },
    { "{\"\\u00e9\\u00e9\":1,\"\\u00e9\":2,\"\\u00e9a\":3,\"e\\u0301\":4}",
      "{\"e\\u0301\": 4, \"\\u00e9\": 2, \"\\u00e9a\": 3, \"\\u00e9\\u00e9\": 1}",
      "{\"e\314\201\":4,\"\303\251\":2,\"\303\251a\":3,\"\303\251\303\251\":1}" },
    { "{\"A\":1,\"a\":2,\"B\":3,\"_\":4,\"0\":5}",
      "{\"0\": 5, \"A\": 1, \"B\": 3, \"_\": 4, \"a\": 2}",
      "{\"0\":5,\"A\":1,\"B\":3,\"_\":4,\"a\":2}" },
};

#define NCASES (sizeof cases / sizeof cases[0])

/* Canonicalizes s and compares with want; also checks that the result is a
 * fixed point (canonicalizing it again gives the same bytes). */
static void check_case(size_t idx, const char *in, int style, const char *want)
{
    maif_buf b = { 0 };
    char err[256];
    int rc = maif_json_canonicalize(in, strlen(in), style, &b, err, sizeof err);
    if (rc != 0) fail_msg("case %zu style %d: rc %d (%s)", idx, style, rc, err);
    size_t wl = strlen(want);
    if (b.len != wl || memcmp(b.data, want, wl) != 0)
        fail_msg("case %zu style %d:\n got  %.*s\n want %s", idx, style, (int)b.len, (const char *)b.data, want);
    maif_buf again = { 0 };
    assert_int_equal(maif_json_canonicalize((const char *)b.data, b.len, style, &again, err, sizeof err), 0);
    assert_int_equal(again.len, b.len);
    assert_memory_equal(again.data, b.data, b.len);
    maif_buf_free(&again);
    maif_buf_free(&b);
}

static void test_table_py(void **state)
{
    (void)state;
    assert_true(NCASES >= 40);
    for (size_t i = 0; i < NCASES; i++) check_case(i, cases[i].in, MAIF_JSON_PY, cases[i].py);
}

static void test_table_compact(void **state)
{
    (void)state;
    for (size_t i = 0; i < NCASES; i++) check_case(i, cases[i].in, MAIF_JSON_COMPACT, cases[i].compact);
}

/* The PY output of every case, fed back in, must give the same COMPACT
 * output as the original input: both styles describe one value. */
static void test_styles_agree(void **state)
{
    (void)state;
    for (size_t i = 0; i < NCASES; i++) check_case(i, cases[i].py, MAIF_JSON_COMPACT, cases[i].compact);
}

static void test_double_repr(void **state)
{
    (void)state;
    /* repr() of each double, from CPython 3.11. */
    static const struct { double d; const char *want; } v[] = {
        { 0.1, "0.1" }, { 1e-05, "1e-05" }, { 1e-4, "0.0001" }, { 1e16, "1e+16" },
        { 1e15, "1000000000000000.0" }, { 1.5e20, "1.5e+20" }, { 123456789012345678.0, "1.2345678901234568e+17" },
        { 5e-324, "5e-324" }, { 1.7976931348623157e308, "1.7976931348623157e+308" }, { -0.0, "-0.0" },
        { 0.0, "0.0" }, { 2.5, "2.5" }, { 1.0 / 3.0, "0.3333333333333333" }, { 2.0 / 3.0, "0.6666666666666666" },
        { 100000.0, "100000.0" }, { 1e100, "1e+100" }, { -1e-100, "-1e-100" }, { 9007199254740992.0, "9007199254740992.0" },
        { 0.000123, "0.000123" }, { 1.5e-5, "1.5e-05" }, { 4.35, "4.35" }, { 1e22, "1e+22" }, { 1e23, "1e+23" },
        { 2.2250738585072014e-308, "2.2250738585072014e-308" }, { 1.2345e-300, "1.2345e-300" },
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        maif_buf b = { 0 };
        assert_int_equal(maif_json_dump_double(v[i].d, &b), 0);
        assert_int_equal(maif_buf_putc(&b, 0), 0);
        assert_string_equal((const char *)b.data, v[i].want);
        maif_buf_free(&b);
    }
    maif_buf b = { 0 };
    assert_int_equal(maif_json_dump_double(NAN, &b), MAIF_EJSON);
    assert_int_equal(maif_json_dump_double(INFINITY, &b), MAIF_EJSON);
    assert_int_equal(maif_json_dump_double(-INFINITY, &b), MAIF_EJSON);
    assert_int_equal(b.len, 0);
    maif_buf_free(&b);
}

/* Keys with NUL cannot come from the parser (jansson refuses them) but can
 * be built in memory; they sort by length-aware byte order like Python:
 * sorted(["ab", "a\0b", "a"]) == ["a", "a\x00b", "ab"]. */
static void test_nul_key(void **state)
{
    (void)state;
    json_t *o = json_object();
    assert_non_null(o);
    assert_int_equal(json_object_setn_new(o, "ab", 2, json_integer(3)), 0);
    assert_int_equal(json_object_setn_new(o, "a\0b", 3, json_stringn("x\0y", 3)), 0);
    assert_int_equal(json_object_setn_new(o, "a", 1, json_integer(2)), 0);
    maif_buf b = { 0 };
    assert_int_equal(maif_json_dump(o, MAIF_JSON_PY, &b), 0);
    static const char want[] = "{\"a\": 2, \"a\\u0000b\": \"x\\u0000y\", \"ab\": 3}";
    assert_int_equal(b.len, sizeof want - 1);
    assert_memory_equal(b.data, want, b.len);
    b.len = 0;
    assert_int_equal(maif_json_dump(o, MAIF_JSON_COMPACT, &b), 0);
    static const char want_c[] = "{\"a\":2,\"a\\u0000b\":\"x\\u0000y\",\"ab\":3}";
    assert_int_equal(b.len, sizeof want_c - 1);
    assert_memory_equal(b.data, want_c, b.len);
    maif_buf_free(&b);
    json_decref(o);
}

/* A json_t built without UTF-8 checks must not be serialised as if valid. */
static void test_dump_invalid_utf8(void **state)
{
    (void)state;
    static const char *bad[] = { "\xff", "\xc0\x80", "\xed\xa0\x80", "\xe2\x82", "\xf4\x90\x80\x80", "ok\x80" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *o = json_object();
        assert_int_equal(json_object_set_new(o, "k", json_stringn_nocheck(bad[i], strlen(bad[i]))), 0);
        maif_buf b = { 0 };
        assert_int_equal(maif_buf_puts(&b, "keep"), 0);
        assert_int_equal(maif_json_dump(o, MAIF_JSON_PY, &b), MAIF_EJSON);
        assert_int_equal(maif_json_dump(o, MAIF_JSON_COMPACT, &b), MAIF_EJSON);
        /* Failure leaves the buffer as it was. */
        assert_int_equal(b.len, 4);
        assert_memory_equal(b.data, "keep", 4);
        maif_buf_free(&b);
        json_decref(o);
    }
}

static void test_appends(void **state)
{
    (void)state;
    maif_buf b = { 0 };
    assert_int_equal(maif_buf_puts(&b, "X"), 0);
    static const char in[] = "{\"b\":[1.0],\"a\":null}";
    assert_int_equal(maif_json_canonicalize(in, sizeof in - 1, MAIF_JSON_PY, &b, NULL, 0), 0);
    assert_int_equal(maif_buf_putc(&b, 0), 0);
    assert_string_equal((const char *)b.data, "X{\"a\": null, \"b\": [1.0]}");
    maif_buf_free(&b);
    /* Input need not be NUL-terminated: only n bytes are read. */
    assert_int_equal(maif_json_canonicalize("{\"a\":1}garbage", 7, MAIF_JSON_COMPACT, &b, NULL, 0), 0);
    assert_int_equal(b.len, 7);
    assert_memory_equal(b.data, "{\"a\":1}", 7);
    maif_buf_free(&b);
}

static char *nest(int depth)
{
    /* depth containers: one object, then depth - 1 arrays. */
    size_t n = 8 + 2 * (size_t)depth;
    char *s = malloc(n);
    assert_non_null(s);
    char *p = s;
    p += sprintf(p, "{\"a\":");
    for (int i = 1; i < depth; i++) *p++ = '[';
    for (int i = 1; i < depth; i++) *p++ = ']';
    sprintf(p, "}");
    return s;
}

static void test_depth(void **state)
{
    (void)state;
    char err[256];
    maif_buf b = { 0 };
    char *ok = nest(MAIF_JSON_MAX_DEPTH);
    assert_int_equal(maif_json_canonicalize(ok, strlen(ok), MAIF_JSON_PY, &b, err, sizeof err), 0);
    char *bad = nest(MAIF_JSON_MAX_DEPTH + 1);
    size_t before = b.len;
    assert_int_equal(maif_json_canonicalize(bad, strlen(bad), MAIF_JSON_PY, &b, err, sizeof err), MAIF_EJSON);
    assert_true(strlen(err) > 0);
    assert_int_equal(b.len, before);
    assert_int_equal(maif_json_canonicalize(bad, strlen(bad), MAIF_JSON_COMPACT, &b, err, sizeof err), MAIF_EJSON);
    free(ok);
    free(bad);
    maif_buf_free(&b);
}

static void test_errors(void **state)
{
    (void)state;
    static const struct { const char *in; const char *msg; } bad[] = {
        { "{\"a\":1,\"a\":2}", "duplicate" },
        { "{\"x\":{\"k\":1,\"k\":1}}", "duplicate" },
        { "[1,2]", "not an object" },
        { "\"str\"", "line" },
        { "42", "line" },
        { "{\"a\":1} x", "line 1 column" },
        { "{\"a\":1}{}", "line 1 column" },
        { "{\"a\":\"\xff\"}", "line" },
        { "{\"a\":\"\xc3\x28\"}", "line" },
        { "{\"a\":\"\xed\xa0\x80\"}", "line" },
        { "{\"a\":NaN}", "line" },
        { "{\"a\":Infinity}", "line" },
        { "{\"a\":-Infinity}", "line" },
        { "{\"a\":1e400}", "overflow" },
        { "{\"a\":99999999999999999999}", "line" },
        { "{\"a\":\"\\ud800\"}", "line" },
        { "{\"a\":\"x\ny\"}", "line" },
        { "{\"a\":01}", "line" },
        { "{\"a\":1,}", "line" },
        { "{'a':1}", "line" },
        { "", "line" },
        { "{\"a\":", "line" },
        { "{\"a\x01b\":1}", "line" },
        { "{\"a\\u0000b\":1}", "NUL" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        for (int style = MAIF_JSON_PY; style <= MAIF_JSON_COMPACT; style++) {
            char err[256];
            maif_buf b = { 0 };
            int rc = maif_json_canonicalize(bad[i].in, strlen(bad[i].in), style, &b, err, sizeof err);
            if (rc != MAIF_EJSON) fail_msg("error case %zu: rc %d, output %.*s", i, rc, (int)b.len, (const char *)b.data);
            if (!strstr(err, bad[i].msg)) fail_msg("error case %zu: message \"%s\" lacks \"%s\"", i, err, bad[i].msg);
            assert_int_equal(b.len, 0);
            maif_buf_free(&b);
        }
    }
    maif_buf b = { 0 };
    char err[64];
    assert_int_equal(maif_json_canonicalize("{}", 2, 99, &b, err, sizeof err), MAIF_EINVAL);
    assert_int_equal(maif_json_canonicalize("{}", 2, MAIF_JSON_PY, NULL, err, sizeof err), MAIF_EINVAL);
    assert_int_equal(maif_json_dump(NULL, MAIF_JSON_PY, &b), MAIF_EJSON);
    maif_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_py),
        cmocka_unit_test(test_table_compact),
        cmocka_unit_test(test_styles_agree),
        cmocka_unit_test(test_double_repr),
        cmocka_unit_test(test_nul_key),
        cmocka_unit_test(test_dump_invalid_utf8),
        cmocka_unit_test(test_appends),
        cmocka_unit_test(test_depth),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
