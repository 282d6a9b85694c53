/*
 * test_understand.c — text analysis (src/understand/): language
 * identification with fastText models and VADER sentiment.
 *
 *   - tiny handmade models (fuzz/corpus/fuzz_ftz, made by
 *     scripts/make-ftz-seeds.py): dense + hierarchical softmax, quantised
 *     (pruned buckets, norm codes, quantised output), softmax; labels and
 *     probabilities as `fasttext predict-prob` gives them for those files;
 *   - hostile models: every truncation, every single-byte change, and
 *     crafted headers (version, loss, huge counts, bad shapes): a clear
 *     error or a working model, never a crash or an oversized allocation;
 *   - the real lid.176.ftz (fetched by scripts/fetch-lid.sh; skipped with
 *     the reason printed when absent): the top-1 label of every sentence of
 *     the multilingual set (scripts/make-lid-sentences.py, at least 500)
 *     equals Debian's `fasttext predict` with the same model;
 *   - VADER on a small lexicon (hand-computed scores), lexicon errors, and
 *     with the shipped lexicon the four scores of every sentence of
 *     scripts/make-vader-sentences.py (at least 1000) within 1e-6 of the
 *     JavaScript package (tests/vader/ref.js under Node);
 *   - text that is not UTF-8, NULL arguments, allocation failures.
 */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/alloc.h"
#include "util/common.h"

#define SEEDS "fuzz/corpus/fuzz_ftz/"

static const char *cache_dir(void)
{
    const char *c = getenv("MAIF_CACHE");
    return c && *c ? c : "build/cache";
}

static char *cache_file(const char *name)
{
    static char buf[4][1024];
    static int k;
    char *b = buf[k++ % 4];
    snprintf(b, sizeof buf[0], "%s/%s", cache_dir(), name);
    return b;
}

static int have(const char *path) { return access(path, R_OK) == 0; }
static int have_cmd(const char *cmd)
{
    char c[512];
    snprintf(c, sizeof c, "command -v %s >/dev/null 2>&1", cmd);
    return system(c) == 0;
}

static void predict(const maif_langid *l, const char *text, const char *want, double want_p)
{
    char label[MAIF_LANG_LABEL_MAX];
    double p = -1;
    int rc = maif_text_language(l, text, strlen(text), label, sizeof label, &p);
    if (rc) fprintf(stderr, "%s: %s\n", text, maif_last_errmsg());
    assert_int_equal(rc, MAIF_OK);
    assert_string_equal(label, want);
    if (want_p > 0) assert_true(fabs(p - want_p) < 2e-6);
}

static void test_tiny_models(void **state)
{
    (void)state;
    /* probabilities as `fasttext predict-prob FILE - 1` prints them */
    static const struct {
        const char *file;
        double hello, bonjour;
        const char *empty; /* an empty line: a tie, broken as fastText breaks it */
    } m[] = {{"tiny_hs_dense.bin", 0.51786, 0.513895, "en"},
             {"tiny_quant.ftz", 0.622469, 0.731069, "en"},
             {"tiny_softmax.bin", 0.538396, 0.529388, "fr"}};
    for (size_t i = 0; i < 3; i++) {
        char path[256];
        snprintf(path, sizeof path, SEEDS "%s", m[i].file);
        maif_langid *l = NULL;
        assert_int_equal(maif_langid_load(&l, path), MAIF_OK);
        predict(l, "hello", "en", m[i].hello);
        predict(l, "bonjour", "fr", m[i].bonjour);
        predict(l, "hello hello\tbonjour\n", "en", 0);
        predict(l, "  ", m[i].empty, 0.50001);
        /* "</s>" ends the line, as in fastText: what follows is not read */
        predict(l, "bonjour </s> hello hello hello", "fr", m[i].bonjour);
        maif_langid_free(l);
    }
    maif_langid_free(NULL);
}

static void test_langid_errors(void **state)
{
    (void)state;
    maif_langid *l = NULL;
    char label[MAIF_LANG_LABEL_MAX];
    double p;
    assert_int_equal(maif_langid_load(&l, "/nonexistent/model.ftz"), MAIF_ENOTFOUND);
    assert_null(l);
    assert_int_equal(maif_langid_load(NULL, SEEDS "tiny_quant.ftz"), MAIF_EINVAL);
    assert_int_equal(maif_langid_load_mem(&l, NULL, 5), MAIF_EINVAL);
    assert_int_equal(maif_langid_load_mem(&l, "", 0), MAIF_EFORMAT);
    assert_int_equal(maif_langid_load(&l, SEEDS "bad_magic.bin"), MAIF_EFORMAT);
    assert_non_null(strstr(maif_last_errmsg(), "bad magic"));
    assert_int_equal(maif_langid_load(&l, SEEDS "truncated.ftz"), MAIF_EFORMAT);
    assert_non_null(strstr(maif_last_errmsg(), "truncated.ftz: fastText model: truncated"));
    /* over the limit: refused before anything is read or allocated */
    assert_int_equal(maif_langid_load_mem(&l, "x", (size_t)MAIF_LANGID_MAX + 1), MAIF_ELIMIT);

    assert_int_equal(maif_langid_load(&l, SEEDS "tiny_quant.ftz"), MAIF_OK);
    assert_int_equal(maif_text_language(l, "caf\xe9", 4, label, sizeof label, &p), MAIF_EINVAL);
    assert_non_null(strstr(maif_last_errmsg(), "UTF-8"));
    assert_int_equal(maif_text_language(l, "\xed\xa0\x80", 3, label, sizeof label, &p), MAIF_EINVAL);
    assert_int_equal(maif_text_language(l, "hello", 5, label, 2, &p), MAIF_ELIMIT);
    assert_int_equal(maif_text_language(NULL, "hello", 5, label, sizeof label, &p), MAIF_EINVAL);
    assert_int_equal(maif_text_language(l, "hello", 5, NULL, 0, &p), MAIF_EINVAL);
    assert_int_equal(maif_text_language(l, "hello", 5, label, sizeof label, NULL), MAIF_OK);
    maif_langid_free(l);
}

/* a copy of the tiny dense model with the int32 at off replaced */
static int load_patched(const uint8_t *m, size_t n, size_t off, uint32_t v)
{
    uint8_t *c = malloc(n);
    assert_non_null(c);
    memcpy(c, m, n);
    wr32le(c + off, v);
    maif_langid *l = NULL;
    int rc = maif_langid_load_mem(&l, c, n);
    if (rc == MAIF_OK) {
        char label[MAIF_LANG_LABEL_MAX];
        (void)!maif_text_language(l, "hello bonjour", 13, label, sizeof label, NULL);
    }
    maif_langid_free(l);
    free(c);
    return rc;
}

static void test_hostile_models(void **state)
{
    (void)state;
    static const char *const files[] = {SEEDS "tiny_quant.ftz", SEEDS "tiny_hs_dense.bin", SEEDS "tiny_softmax.bin"};
    for (size_t f = 0; f < 3; f++) {
        size_t n;
        uint8_t *m = tu_read(files[f], &n);
        assert_non_null(m);
        /* every truncation fails cleanly */
        for (size_t k = 0; k < n; k++) {
            maif_langid *l = NULL;
            int rc = maif_langid_load_mem(&l, m, k);
            assert_int_equal(rc, MAIF_EFORMAT);
            assert_null(l);
        }
        /* every single-byte change: an error or a model that still scores */
        for (size_t k = 0; k < n; k += (f == 0 && k > 600 ? 97 : 1)) {
            uint8_t keep = m[k];
            m[k] ^= 0xA5;
            maif_langid *l = NULL;
            if (maif_langid_load_mem(&l, m, n) == MAIF_OK) {
                char label[MAIF_LANG_LABEL_MAX];
                double p;
                int rc = maif_text_language(l, "hello bonjour xyz", 17, label, sizeof label, &p);
                assert_true(rc == MAIF_OK || rc == MAIF_ENOTFOUND || rc == MAIF_ELIMIT);
                maif_langid_free(l);
            }
            m[k] = keep;
        }
        free(m);
    }
    size_t n;
    uint8_t *m = tu_read(SEEDS "tiny_hs_dense.bin", &n);
    assert_non_null(m);
    /* header: magic 0, version 4, args 8.. (dim 8, wordNgrams 28, loss 32,
     * model 36, bucket 40, minn 44, maxn 48), dictionary at 64: size,
     * nwords, nlabels */
    assert_int_equal(load_patched(m, n, 0, 0x12345678), MAIF_EFORMAT);
    assert_int_equal(load_patched(m, n, 4, 13), MAIF_EVERSION);
    assert_int_equal(load_patched(m, n, 32, 2), MAIF_EUNSUPPORTED); /* negative sampling */
    assert_int_equal(load_patched(m, n, 36, 1), MAIF_EUNSUPPORTED); /* cbow */
    assert_int_equal(load_patched(m, n, 8, 0), MAIF_EFORMAT);
    assert_int_equal(load_patched(m, n, 8, 0x7fffffff), MAIF_EFORMAT);
    assert_int_equal(load_patched(m, n, 40, 0), MAIF_EFORMAT);         /* n-grams, no buckets */
    assert_int_equal(load_patched(m, n, 40, 100000), MAIF_EFORMAT);    /* rows missing */
    assert_int_equal(load_patched(m, n, 48, 1000), MAIF_EFORMAT);      /* maxn */
    assert_int_equal(load_patched(m, n, 64, 0x7fffffff), MAIF_EFORMAT); /* a huge dictionary */
    assert_int_equal(load_patched(m, n, 68, 4), MAIF_EFORMAT);         /* a label typed as a word */
    assert_int_equal(load_patched(m, n, 72, 0), MAIF_EFORMAT);         /* no labels */
    /* label counts at or past fastText's 1e15 sentinel (entries: en's count at
     * 150, fr's at 171): the tree is still a tree, prediction ends */
    for (int k = 0; k < 3; k++) {
        uint8_t *c = malloc(n);
        assert_non_null(c);
        memcpy(c, m, n);
        wr64le(c + 150, k == 1 ? 10 : (uint64_t)2e15);
        wr64le(c + 171, k == 0 ? 5 : (uint64_t)3e15);
        maif_langid *l = NULL;
        assert_int_equal(maif_langid_load_mem(&l, c, n), MAIF_OK);
        char label[MAIF_LANG_LABEL_MAX];
        assert_int_equal(maif_text_language(l, "hello", 5, label, sizeof label, NULL), MAIF_OK);
        maif_langid_free(l);
        wr64le(c + 150, (uint64_t)1 << 60); /* past 2^53: refused */
        assert_int_equal(maif_langid_load_mem(&l, c, n), MAIF_EFORMAT);
        free(c);
    }
    free(m);
    /* version 11: old supervised models had no subwords; still loads */
    m = tu_read(SEEDS "tiny_hs_dense.bin", &n);
    assert_int_equal(load_patched(m, n, 4, 11), MAIF_OK);
    free(m);
}

static void test_lid176(void **state)
{
    (void)state;
    const char *model = cache_file("models/lid.176.ftz");
    if (!have(model)) {
        printf("SKIP test_lid176: %s absent (scripts/fetch-lid.sh fetches it; offline?)\n", model);
        return;
    }
    maif_langid *l = NULL;
    assert_int_equal(maif_langid_load(&l, model), MAIF_OK);
    predict(l, "The quick brown fox jumps over the lazy dog.", "en", 0);
    predict(l, "Le renard brun saute par-dessus le chien paresseux.", "fr", 0);
    predict(l, "Der schnelle braune Fuchs springt über den faulen Hund.", "de", 0);
    predict(l, "Быстрая коричневая лиса прыгает через ленивую собаку.", "ru", 0);
    predict(l, "素早い茶色の狐がのろまな犬を飛び越える。", "ja", 0);
    char label[MAIF_LANG_LABEL_MAX];
    assert_int_equal(maif_text_language(l, "caf\xc3", 4, label, sizeof label, NULL), MAIF_EINVAL);
    maif_langid_free(l);
}

/* reads a file's lines (without "\n") into a NULL-terminated array */
static char **read_lines(const char *path, size_t *count)
{
    size_t n;
    char *all = (char *)tu_read(path, &n);
    assert_non_null(all);
    size_t cap = 1;
    for (size_t i = 0; i < n; i++) cap += all[i] == '\n';
    char **v = calloc(cap + 1, sizeof *v);
    assert_non_null(v);
    size_t k = 0;
    for (char *p = all, *e = all + n; p < e;) {
        char *nl = memchr(p, '\n', (size_t)(e - p));
        if (nl) *nl = 0;
        v[k++] = strdup(p);
        p = nl ? nl + 1 : e;
    }
    free(all);
    *count = k;
    return v;
}

static void free_lines(char **v)
{
    for (size_t i = 0; v && v[i]; i++) free(v[i]);
    free(v);
}

static void test_lid176_agrees_with_fasttext(void **state)
{
    (void)state;
    const char *model = cache_file("models/lid.176.ftz");
    if (!have(model)) { printf("SKIP agreement: %s absent (offline?)\n", model); return; }
    if (!have_cmd("fasttext")) { printf("SKIP agreement: Debian's fasttext not installed\n"); return; }
    if (!have("/usr/share/locale/de/LC_MESSAGES/glib20.mo")) { printf("SKIP agreement: libglib2.0-data absent\n"); return; }
    char *dir = tu_tmpdir(), cmd[2048];
    char *tsv = tu_path(dir, "s.tsv"), *txt = tu_path(dir, "s.txt"), *ref = tu_path(dir, "ref.txt");
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 scripts/make-lid-sentences.py > '%s' && cut -f2 '%s' > '%s' && "
             "fasttext predict-prob '%s' '%s' 1 > '%s'", tsv, tsv, txt, model, txt, ref);
    assert_int_equal(system(cmd), 0);
    size_t ns, nr;
    char **s = read_lines(txt, &ns), **r = read_lines(ref, &nr);
    assert_int_equal(ns, nr);
    assert_true(ns >= 500);
    maif_langid *l = NULL;
    assert_int_equal(maif_langid_load(&l, model), MAIF_OK);
    size_t same = 0;
    double maxdp = 0;
    for (size_t i = 0; i < ns; i++) {
        char label[MAIF_LANG_LABEL_MAX + 16] = "__label__", got[MAIF_LANG_LABEL_MAX];
        double p;
        assert_int_equal(maif_text_language(l, s[i], strlen(s[i]), got, sizeof got, &p), MAIF_OK);
        strcat(label, got);
        char *sp = strchr(r[i], ' ');
        assert_non_null(sp);
        *sp = 0;
        if (strcmp(label, r[i]) == 0) same++;
        else fprintf(stderr, "line %zu: maif %s, fasttext %s: %s\n", i + 1, label, r[i], s[i]);
        double dp = fabs(p - strtod(sp + 1, NULL));
        if (dp > maxdp) maxdp = dp;
    }
    printf("lid.176 agreement: %zu of %zu sentences, top-1 label equal to `fasttext predict`; "
           "largest probability difference %.2g (fasttext prints 6 digits)\n", same, ns, maxdp);
    assert_int_equal(same, ns);
    assert_true(maxdp < 1e-5);
    maif_langid_free(l);
    free_lines(s);
    free_lines(r);
    free(tsv);
    free(txt);
    free(ref);
    tu_rmtree(dir);
    free(dir);
}

/* ---- VADER */

static const char SMALL_LEX[] = "good\t1.9\t0.9\t[2]\nbad\t-2.5\t0.5\t[-3]\n:)\t2.0\t0.6\t[2]\n"
                                "fav\t1\nfav\t2.0\n\xc3\x9e\t1\nUPPER\t3\n";

static void sent(const maif_vader *v, const char *t, double c, double neg, double neu, double pos)
{
    maif_sentiment s;
    assert_int_equal(maif_text_sentiment(v, t, strlen(t), &s), MAIF_OK);
    if (fabs(s.compound - c) > 1e-9 || fabs(s.neg - neg) > 1e-9 || fabs(s.neu - neu) > 1e-9 || fabs(s.pos - pos) > 1e-9)
        fail_msg("%s: got %.4f %.3f %.3f %.3f", t, s.compound, s.neg, s.neu, s.pos);
}

static void test_vader_small(void **state)
{
    (void)state;
    maif_vader *v = NULL;
    assert_int_equal(maif_vader_load_mem(&v, SMALL_LEX, sizeof SMALL_LEX - 1), MAIF_OK);
    /* 1.9 / sqrt(1.9^2 + 15) = 0.44043... */
    sent(v, "good", 0.4404, 0, 0, 1);
    /* "not" negates: 1.9 * -0.74 = -1.406; -1.406 / sqrt(1.406^2 + 15) */
    sent(v, "not good", -0.3412, 0.706, 0.294, 0);
    sent(v, "", 0, 0, 0, 0);
    sent(v, "nothing here at all", 0, 0, 1, 0); /* neutral words only */
    /* duplicate keys: the last wins (fav 2.0) */
    sent(v, "fav", 0.4588, 0, 0, 1);
    maif_sentiment s;
    assert_int_equal(maif_text_sentiment(v, "nothing here at all", 19, &s), MAIF_OK);
    assert_true(s.neu == 1 && s.compound == 0);
    assert_int_equal(maif_text_sentiment(v, "bad\xff", 4, &s), MAIF_EINVAL);
    assert_non_null(strstr(maif_last_errmsg(), "UTF-8"));
    assert_int_equal(maif_text_sentiment(NULL, "x", 1, &s), MAIF_EINVAL);
    assert_int_equal(maif_text_sentiment(v, "x", 1, NULL), MAIF_EINVAL);
    maif_vader_free(v);
    maif_vader_free(NULL);
}

static void test_vader_errors(void **state)
{
    (void)state;
    maif_vader *v = NULL;
    assert_int_equal(maif_vader_load(&v, "/nonexistent/lexicon.txt"), MAIF_ENOTFOUND);
    assert_int_equal(maif_vader_load_mem(&v, "good 1.9\n", 9), MAIF_EFORMAT);
    assert_non_null(strstr(maif_last_errmsg(), "line 1"));
    assert_int_equal(maif_vader_load_mem(&v, "ok\t1\ngood\tx\n", 12), MAIF_EFORMAT);
    assert_non_null(strstr(maif_last_errmsg(), "line 2"));
    assert_int_equal(maif_vader_load_mem(&v, "good\tnan\n", 9), MAIF_EFORMAT);
    assert_int_equal(maif_vader_load_mem(&v, "\n\n", 2), MAIF_EFORMAT);
    assert_int_equal(maif_vader_load_mem(&v, "\xff\t1\n", 4), MAIF_EFORMAT);
    assert_int_equal(maif_vader_load_mem(&v, "x", (size_t)MAIF_VADER_MAX + 1), MAIF_ELIMIT);
    assert_int_equal(maif_vader_load_mem(NULL, "a\t1", 3), MAIF_EINVAL);
    assert_null(v);
}

static void test_vader_shipped(void **state)
{
    (void)state;
    const char *lex = cache_file("models/vader_lexicon.txt");
    if (!have(lex)) { printf("SKIP test_vader_shipped: %s absent (offline?)\n", lex); return; }
    maif_vader *v = NULL;
    assert_int_equal(maif_vader_load(&v, lex), MAIF_OK);
    /* the package README's examples, scores from vader-sentiment 1.1.3 */
    sent(v, "VADER is smart, handsome, and funny!!! but not great :(", 0.5337, 0.23, 0.259, 0.511);
    maif_vader_free(v);
}

static void test_vader_agrees_with_js(void **state)
{
    (void)state;
    const char *lex = cache_file("models/vader_lexicon.txt"), *mods = cache_file("vader-js/node_modules");
    if (!have(lex)) { printf("SKIP VADER agreement: %s absent (offline?)\n", lex); return; }
    if (!have_cmd("node") || !have(mods)) { printf("SKIP VADER agreement: node or %s absent\n", mods); return; }
    if (!have("/usr/share/locale/de/LC_MESSAGES/glib20.mo")) { printf("SKIP VADER agreement: libglib2.0-data absent\n"); return; }
    char *dir = tu_tmpdir(), cmd[2048];
    char *txt = tu_path(dir, "v.txt"), *ref = tu_path(dir, "ref.txt");
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 scripts/make-vader-sentences.py '%s' > '%s' && "
             "NODE_PATH='%s' node tests/vader/ref.js '%s' > '%s'", lex, txt, mods, txt, ref);
    assert_int_equal(system(cmd), 0);
    size_t ns, nr;
    char **s = read_lines(txt, &ns), **r = read_lines(ref, &nr);
    assert_int_equal(ns, nr);
    assert_true(ns >= 1000);
    maif_vader *v = NULL;
    assert_int_equal(maif_vader_load(&v, lex), MAIF_OK);
    size_t same = 0, nonzero = 0;
    for (size_t i = 0; i < ns; i++) {
        maif_sentiment m;
        assert_int_equal(maif_text_sentiment(v, s[i], strlen(s[i]), &m), MAIF_OK);
        double js[4];
        assert_int_equal(sscanf(r[i], "%lf %lf %lf %lf", &js[0], &js[1], &js[2], &js[3]), 4);
        double mine[4] = {m.compound, m.neg, m.neu, m.pos};
        int ok = 1;
        for (int k = 0; k < 4; k++) ok &= fabs(mine[k] - js[k]) <= 1e-6;
        if (ok) same++;
        else fprintf(stderr, "line %zu: maif %.4f %.3f %.3f %.3f, js %s: %s\n", i + 1, mine[0], mine[1], mine[2], mine[3], r[i], s[i]);
        nonzero += js[0] != 0;
    }
    printf("VADER agreement: %zu of %zu sentences (%zu with a non-zero compound): compound, neg, neu, pos "
           "within 1e-6 of vader-sentiment 1.1.3\n", same, ns, nonzero);
    assert_int_equal(same, ns);
    maif_vader_free(v);
    free_lines(s);
    free_lines(r);
    free(txt);
    free(ref);
    tu_rmtree(dir);
    free(dir);
}

static void test_alloc_failures(void **state)
{
    (void)state;
    size_t n;
    uint8_t *m = tu_read(SEEDS "tiny_quant.ftz", &n);
    assert_non_null(m);
    int ok = 0;
    tu_alloc_install();
    for (uint64_t k = 1; k < 100 && !ok; k++) {
        tu_alloc_fail(k, 1);
        maif_langid *l = NULL;
        maif_vader *v = NULL;
        char label[MAIF_LANG_LABEL_MAX];
        maif_sentiment s;
        int rc = maif_langid_load_mem(&l, m, n);
        if (rc == MAIF_OK) rc = maif_text_language(l, "hello bonjour", 13, label, sizeof label, NULL);
        if (rc == MAIF_OK) rc = maif_vader_load_mem(&v, SMALL_LEX, sizeof SMALL_LEX - 1);
        if (rc == MAIF_OK) rc = maif_text_sentiment(v, "not good :)", 11, &s);
        if (rc == MAIF_OK) {
            assert_false(tu_alloc_fired());
            ok = 1;
        } else {
            assert_int_equal(rc, MAIF_ENOMEM);
            assert_true(tu_alloc_fired());
        }
        maif_langid_free(l);
        maif_vader_free(v);
    }
    tu_alloc_uninstall();
    assert_true(ok);
    free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tiny_models),
        cmocka_unit_test(test_langid_errors),
        cmocka_unit_test(test_hostile_models),
        cmocka_unit_test(test_lid176),
        cmocka_unit_test(test_lid176_agrees_with_fasttext),
        cmocka_unit_test(test_vader_small),
        cmocka_unit_test(test_vader_errors),
        cmocka_unit_test(test_vader_shipped),
        cmocka_unit_test(test_vader_agrees_with_js),
        cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
