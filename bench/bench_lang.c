/*
 * bench_lang.c — text analysis throughput, in sentences per second.
 *
 *   bench_lang lid MODEL SENTENCES REPS     maif_text_language over every
 *       line, beside `fasttext predict` (Debian) on the same file, timed by
 *       bench/run.sh in the same run (BASE_FASTTEXT_SPS; its time includes
 *       loading the model, so the file is made large enough for that to be
 *       small; the load time here is printed as a note);
 *   bench_lang vader LEXICON SENTENCES REPS  maif_text_sentiment over every
 *       line, beside the JavaScript package vader-sentiment under Node
 *       (tests/vader/ref.js --bench, BASE_VADER_JS_SPS: warm JIT, in
 *       process, same sentences).
 * Each figure is the median of REPS passes over the whole file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "benchutil.h"

typedef struct {
    char **s;
    size_t *n;
    size_t count;
} lines_t;

static lines_t read_lines(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) { fprintf(stderr, "bench_lang: cannot open %s\n", path); exit(2); }
    lines_t l = {0};
    size_t cap = 0;
    char *line = NULL;
    size_t lc = 0;
    ssize_t got;
    while ((got = getline(&line, &lc, f)) >= 0) {
        if (got && line[got - 1] == '\n') line[--got] = 0;
        if (l.count == cap) {
            cap = cap ? cap * 2 : 1024;
            l.s = realloc(l.s, cap * sizeof *l.s);
            l.n = realloc(l.n, cap * sizeof *l.n);
            if (!l.s || !l.n) exit(2);
        }
        l.s[l.count] = strdup(line);
        l.n[l.count++] = (size_t)got;
    }
    free(line);
    fclose(f);
    return l;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: bench_lang lid|vader MODEL SENTENCES REPS\n");
        return 2;
    }
    int lid = strcmp(argv[1], "lid") == 0;
    lines_t l = read_lines(argv[3]);
    int reps = atoi(argv[4]);
    if (reps < 1) reps = 1;
    if (!l.count) { fprintf(stderr, "bench_lang: no sentences\n"); return 2; }
    double *rate = calloc((size_t)reps, sizeof *rate), sink = 0;
    maif_langid *m = NULL;
    maif_vader *v = NULL;
    double t0 = bu_now();
    if (lid) bu_check(maif_langid_load(&m, argv[2]), "load model", maif_last_errmsg());
    else bu_check(maif_vader_load(&v, argv[2]), "load lexicon", maif_last_errmsg());
    double load_ms = (bu_now() - t0) * 1e3;
    for (int r = -1; r < reps; r++) { /* r = -1: warm-up */
        t0 = bu_now();
        for (size_t i = 0; i < l.count; i++) {
            if (lid) {
                char label[MAIF_LANG_LABEL_MAX];
                double p;
                bu_check(maif_text_language(m, l.s[i], l.n[i], label, sizeof label, &p), "language", maif_last_errmsg());
                sink += p;
            } else {
                maif_sentiment s;
                bu_check(maif_text_sentiment(v, l.s[i], l.n[i], &s), "sentiment", maif_last_errmsg());
                sink += s.compound;
            }
        }
        if (r >= 0) rate[r] = (double)l.count / (bu_now() - t0);
    }
    char label[160];
    if (lid) {
        snprintf(label, sizeof label, "language id, lid.176 (%zu lines)", l.count);
        bu_report(label, bu_median(rate, (size_t)reps), "sent/s", "fasttext predict", bu_env_double("BASE_FASTTEXT_SPS"), "");
        bu_note("maif loads lid.176.ftz in %.1f ms (not in the rate above; fasttext's rate includes its load)", load_ms);
    } else {
        snprintf(label, sizeof label, "VADER sentiment (%zu lines)", l.count);
        bu_report(label, bu_median(rate, (size_t)reps), "sent/s", "vader-sentiment (Node)", bu_env_double("BASE_VADER_JS_SPS"), "");
        bu_note("maif loads vader_lexicon.txt in %.1f ms (not in the rate above)", load_ms);
    }
    if (sink == 12345.678) puts("");
    maif_langid_free(m);
    maif_vader_free(v);
    for (size_t i = 0; i < l.count; i++) free(l.s[i]);
    free(l.s);
    free(l.n);
    free(rate);
    return 0;
}
