/*
 * bench_embed.c — the model embedders.
 *   bench_embed speed MODEL_DIR SENTENCES
 *       USE-lite texts/s on one core (run.sh sets OPENBLAS_NUM_THREADS=1),
 *       one text a call and 64 a call, beside the package's JavaScript
 *       runtime on the same sentences in the same run (run.sh measures it
 *       and passes BASE_USE_JS_MS and BASE_USE_JS64_MS, ms a text, and the
 *       same in CPU time, BASE_USE_JS_CPU_MS and BASE_USE_JS64_CPU_MS).
 *       Each is reported in wall time and in CPU time of the process;
 *       one text a call is also run with the packed kernel off
 *       (sem_use_set_simd(m, 0)), to show what it adds.
 *   bench_embed quality MODEL_DIR GLOVE_FILE SET_TSV
 *       recall@10 on the WordNet set (bench/wordnet_set.py: lemma<TAB>gloss;
 *       each gloss queries the N lemmas by exact cosine) for USE-lite,
 *       GloVe SIF averaging and GloVe SIF with the first principal
 *       component removed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "benchutil.h"
#include "semantic/model_glove.h"
#include "semantic/model_use.h"

typedef struct {
    char **s;
    size_t *len;
    size_t n;
} lines_t;

static lines_t read_lines(const char *path)
{
    lines_t L = { 0 };
    FILE *f = fopen(path, "r");
    if (!f) { perror(path); exit(2); }
    char *line = NULL;
    size_t cap = 0, acap = 0;
    ssize_t r;
    while ((r = getline(&line, &cap, f)) >= 0) {
        if (r && line[r - 1] == '\n') line[--r] = 0;
        if (L.n == acap) {
            acap = acap ? acap * 2 : 1024;
            L.s = realloc(L.s, acap * sizeof *L.s);
            L.len = realloc(L.len, acap * sizeof *L.len);
            if (!L.s || !L.len) exit(2);
        }
        L.s[L.n] = strdup(line);
        L.len[L.n] = (size_t)r;
        L.n++;
    }
    free(line);
    fclose(f);
    return L;
}

/* CPU seconds of this process: on a shared machine the fair measure of
 * "one core" (the wall clock counts the time other processes ran). */
static double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void speed(const char *dir, const char *sentences)
{
    sem_use *m;
    bu_check(sem_use_open(&m, dir), "sem_use_open", dir);
    lines_t L = read_lines(sentences);
    size_t d = sem_use_dim(m);
    float *out = malloc(L.n * d * sizeof *out);
    if (!out) exit(2);
    long tok = 0;
    for (size_t i = 0; i < L.n; i++) tok += sem_use_tokenize(m, L.s[i], L.len[i], NULL, 0);
    bu_note("USE-lite speed: %zu WordNet glosses, %.1f tokens a text on average", L.n, (double)tok / (double)L.n);
    int packed = sem_use_set_simd(m, 1);
    bu_note("USE-lite small-batch kernel: %s", packed ? "packed weights (AVX2/AVX-512)" : "none on this CPU (OpenBLAS only)");
    /* one text a call, 64 a call, and one text a call with the packed
     * kernel off (OpenBLAS and plain loops: what the kernel adds) */
    size_t batches[3] = { 1, 64, 1 };
    const char *base_env[3] = { "BASE_USE_JS_MS", "BASE_USE_JS64_MS", "BASE_USE_JS_MS" };
    const char *cpu_env[3] = { "BASE_USE_JS_CPU_MS", "BASE_USE_JS64_CPU_MS", "BASE_USE_JS_CPU_MS" };
    for (int b = 0; b < (packed ? 3 : 2); b++) {
        sem_use_set_simd(m, b < 2);
        double best = 1e30, best_cpu = 1e30;
        for (int rep = 0; rep < 3; rep++) {
            double t0 = bu_now(), c0 = cpu_now();
            for (size_t i = 0; i < L.n; i += batches[b]) {
                size_t k = L.n - i < batches[b] ? L.n - i : batches[b];
                bu_check(sem_use_embed_batch(m, (const char *const *)L.s + i, L.len + i, k, out + i * d), "embed", "");
            }
            double t = bu_now() - t0, c = cpu_now() - c0;
            if (t < best) best = t;
            if (c < best_cpu) best_cpu = c;
        }
        double js_ms = bu_env_double(base_env[b]), js_cpu = bu_env_double(cpu_env[b]);
        char label[64], blabel[64];
        const char *off = b == 2 ? ", no packed kernel" : "";
        snprintf(label, sizeof label, "USE-lite C, %zu text%s a call%s", batches[b], batches[b] > 1 ? "s" : "", off);
        snprintf(blabel, sizeof blabel, "JS (TF.js CPU), %zu a call", batches[b]);
        bu_report(label, (double)L.n / best, "texts/s", blabel, js_ms > 0 ? 1000.0 / js_ms : -1, ">= 5x the JS");
        snprintf(label, sizeof label, "USE-lite C, %zu a call%s, per CPU-s", batches[b], off);
        snprintf(blabel, sizeof blabel, "JS, %zu a call, per CPU-s", batches[b]);
        bu_report(label, (double)L.n / best_cpu, "texts/s", blabel, js_cpu > 0 ? 1000.0 / js_cpu : -1, ">= 5x the JS");
    }
    free(out);
    sem_use_close(m);
}

/* recall@10 of queries q (n x d) against docs (n x d), answer i for query i */
static double recall10(const float *q, const float *docs, size_t n, size_t d)
{
    size_t hit = 0;
    for (size_t i = 0; i < n; i++) {
        const float *a = q + i * d;
        float own = 0;
        for (size_t j = 0; j < d; j++) own += a[j] * docs[i * d + j];
        size_t better = 0;
        for (size_t k = 0; k < n && better < 10; k++) {
            if (k == i) continue;
            float s = 0;
            for (size_t j = 0; j < d; j++) s += a[j] * docs[k * d + j];
            if (s > own) better++;
        }
        if (better < 10) hit++;
    }
    return (double)hit / (double)n;
}

static void quality(const char *dir, const char *glove, const char *set)
{
    lines_t L = read_lines(set);
    size_t n = L.n;
    char **lemma = malloc(n * sizeof *lemma), **gloss = malloc(n * sizeof *gloss);
    size_t *ll = malloc(n * sizeof *ll), *gl = malloc(n * sizeof *gl);
    for (size_t i = 0; i < n; i++) {
        char *t = strchr(L.s[i], '\t');
        if (!t) { fprintf(stderr, "bench_embed: %s line %zu: no tab\n", set, i + 1); exit(2); }
        *t = 0;
        lemma[i] = L.s[i];
        ll[i] = strlen(lemma[i]);
        gloss[i] = t + 1;
        gl[i] = strlen(gloss[i]);
    }
    bu_note("quality: WordNet 3.0 nouns, %zu glosses as queries, their %zu lemmas as the documents, exact cosine", n, n);
    bu_note("quality: issue 10 quotes about 0.34 for the USE-lite reference and 0.14 for GloVe averaging (other set; not measured here)");
    double glove_r = -1, use_r = -1;
    sem_use *m;
    if (sem_use_open(&m, dir) == 0) {
        size_t d = sem_use_dim(m);
        float *q = malloc(n * d * sizeof *q), *docs = malloc(n * d * sizeof *docs);
        bu_check(sem_use_embed_batch(m, (const char *const *)gloss, gl, n, q), "embed", "glosses");
        bu_check(sem_use_embed_batch(m, (const char *const *)lemma, ll, n, docs), "embed", "lemmas");
        use_r = recall10(q, docs, n, d);
        free(q);
        free(docs);
        sem_use_close(m);
    } else {
        bu_note("USE-lite quality skipped: %s", maif_last_errmsg());
    }
    sem_glove *g;
    if (sem_glove_open(&g, glove) == 0) {
        size_t d = sem_glove_dim(g);
        /* queries then documents in one array: the principal component is
         * that of both sets together */
        float *q = malloc(2 * n * d * sizeof *q), *docs = q + n * d;
        for (size_t i = 0; i < n; i++) {
            bu_check(sem_glove_embed(g, gloss[i], gl[i], q + i * d), "glove", "gloss");
            bu_check(sem_glove_embed(g, lemma[i], ll[i], docs + i * d), "glove", "lemma");
        }
        glove_r = recall10(q, docs, n, d);
        bu_report("recall@10 GloVe-100 SIF average", glove_r, "", "chance (10/N)", 10.0 / (double)n, "");
        bu_check(sem_glove_remove_pc(q, 2 * n, d), "remove_pc", "");
        bu_report("recall@10 GloVe-100 SIF, 1st PC removed", recall10(q, docs, n, d), "", "GloVe SIF average", glove_r, "");
        free(q);
        sem_glove_close(g);
    } else {
        bu_note("GloVe quality skipped: %s", maif_last_errmsg());
    }
    if (use_r >= 0) bu_report("recall@10 USE-lite (C)", use_r, "", glove_r >= 0 ? "GloVe SIF average" : "chance (10/N)", glove_r >= 0 ? glove_r : 10.0 / (double)n, "");
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "speed") == 0) speed(argv[2], argv[3]);
    else if (argc == 5 && strcmp(argv[1], "quality") == 0) quality(argv[2], argv[3], argv[4]);
    else {
        fprintf(stderr, "usage: bench_embed speed MODEL_DIR SENTENCES | quality MODEL_DIR GLOVE_FILE SET_TSV\n");
        return 2;
    }
    return 0;
}
