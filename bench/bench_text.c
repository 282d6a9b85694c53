/*
 * bench_text.c — text (BM25) queries through the stored full-text index
 * (TIDX) beside the scan of every text, in the same run, on the same
 * texts and queries: bench_text CORPUS DIR [N ...] (default 10000 100000).
 *
 * The texts are CORPUS's non-empty lines grouped into texts of about 300
 * bytes (bench/run.sh passes the Debian documentation corpus of the
 * compression benchmark), cycled when N needs more. One artifact is
 * written; a byte copy of it is kept unindexed (the scan path) and the
 * original gets `maif_index_build_text` (timed; its payload size
 * reported). The queries (two words of four letters or more from
 * random texts, seeded) are run through maif_search_run in text mode, k 10,
 * alternating indexed and plain query by query so the machine's load falls
 * on both alike; every result list is compared (they must be equal). The
 * I/O baseline is `grep -c -i -w -F WORD` of one query word over the same
 * texts as a plain file, one text a line. "open + query + close" is what
 * the server does per request (maif_index_open walks back to the latest
 * VIDX, or to a TIDX that says no vectors lie below it, else to the first
 * block). Load average at start and end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "benchutil.h"

static uint64_t rs = 0x2545F4914F6CDD1Dull;
static uint32_t rnd(uint32_t n)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return (uint32_t)(rs % n);
}

static void loadavg(char *out, size_t cap)
{
    FILE *f = fopen("/proc/loadavg", "r");
    out[0] = 0;
    if (f) {
        if (!fgets(out, (int)cap, f)) out[0] = 0;
        fclose(f);
    }
    char *nl = strchr(out, '\n');
    if (nl) *nl = 0;
}

typedef struct texts {
    char **t;
    size_t *len;
    size_t n;
} texts;

static texts load_texts(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "bench_text: cannot open %s\n", path);
        exit(2);
    }
    texts T = {0};
    size_t cap = 0;
    char line[4096], cur[1024];
    size_t cl = 0;
    while (fgets(line, sizeof line, f)) {
        size_t l = strcspn(line, "\r\n");
        if (l == 0) continue;
        if (cl + l + 1 >= sizeof cur) l = sizeof cur - cl - 2;
        memcpy(cur + cl, line, l);
        cl += l;
        cur[cl++] = ' ';
        if (cl < 300) continue;
        if (T.n == cap) {
            cap = cap ? cap * 2 : 65536;
            T.t = realloc(T.t, cap * sizeof *T.t);
            T.len = realloc(T.len, cap * sizeof *T.len);
        }
        T.t[T.n] = malloc(cl);
        memcpy(T.t[T.n], cur, cl);
        T.len[T.n++] = cl;
        cl = 0;
    }
    fclose(f);
    if (T.n < 100) {
        fprintf(stderr, "bench_text: %s holds fewer than 100 texts\n", path);
        exit(2);
    }
    return T;
}

/* A word of 4+ ASCII letters from text i, or 0. */
static int pick_word(const texts *T, size_t i, char *w, size_t cap)
{
    const char *t = T->t[i];
    size_t n = T->len[i];
    for (int tries = 0; tries < 20; tries++) {
        size_t p = rnd((uint32_t)n);
        while (p > 0 && ((t[p - 1] | 32) >= 'a' && (t[p - 1] | 32) <= 'z')) p--;
        size_t e = p;
        while (e < n && ((t[e] | 32) >= 'a' && (t[e] | 32) <= 'z')) e++;
        if (e - p >= 4 && e - p < cap) {
            memcpy(w, t + p, e - p);
            w[e - p] = 0;
            return 1;
        }
    }
    return 0;
}

static double run_query(maif_search *s, maif_index *ix, const char *q, uint64_t *blocks, size_t *n)
{
    double t0 = bu_now();
    bu_check(maif_search_set_text(s, q, strlen(q)), "set_text", q);
    bu_check(maif_search_run(s, ix), "search", q);
    double t = bu_now() - t0;
    *n = maif_search_count(s);
    for (size_t i = 0; i < *n; i++) {
        maif_search_hit h;
        bu_check(maif_search_result(s, i, &h), "result", q);
        blocks[i] = h.block;
    }
    return t;
}

static void one_size(const texts *T, const char *dir, size_t N, maif_key *key)
{
    char la0[128], la1[128], label[160];
    loadavg(la0, sizeof la0);
    char *art = bu_path(dir, "text.maif"), *plain = bu_path(dir, "plain.maif"), *txt = bu_path(dir, "texts.txt");
    maif_writer *w = NULL;
    bu_check(maif_writer_create(&w, art, key, NULL, bu_writer_options(0)), "create", art);
    FILE *tf = fopen(txt, "wb");
    for (size_t i = 0; i < N; i++) {
        const char *t = T->t[i % T->n];
        size_t l = T->len[i % T->n];
        maif_block_spec sp = {0};
        sp.type = MAIF_TYPE_TEXT;
        sp.payload = t;
        sp.payload_size = l;
        bu_check(maif_writer_add(w, &sp, NULL), "add", art);
        fwrite(t, 1, l, tf);
        fputc('\n', tf);
        if (i % 10000 == 9999) bu_check(maif_writer_commit(w), "commit", art);
    }
    bu_check(maif_writer_commit(w), "commit", art);
    bu_check(maif_writer_close(w), "close", art);
    fclose(tf);
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", art, plain);
    if (system(cmd) != 0) bu_check(MAIF_EIO, "copy", plain);
    double t0 = bu_now();
    uint64_t indexed = 0;
    bu_check(maif_index_build_text(art, key, bu_writer_options(0), &indexed), "index", art);
    double tbuild = bu_now() - t0;
    bu_warm(art);
    bu_warm(plain);
    bu_warm(txt);
    maif_reader *ra = NULL, *rb = NULL;
    maif_index *ia = NULL, *ib = NULL;
    bu_check(maif_reader_open(&ra, art), "open", art);
    bu_check(maif_reader_open(&rb, plain), "open", plain);
    t0 = bu_now();
    bu_check(maif_index_open(&ia, ra, NULL), "index open", art); /* the vector side: stops at a TIDX that says no vectors lie below */
    double tvopen = bu_now() - t0;
    maif_index_info info;
    t0 = bu_now();
    bu_check(maif_index_get_info(ia, &info), "info", art); /* finds the TIDX: the walk back to it */
    double topen = bu_now() - t0;
    bu_check(maif_index_open(&ib, rb, NULL), "index open", plain);
    if (info.text_index_block < 0 || info.text_error) bu_check(MAIF_EFORMAT, "text index missing", art);
    /* queries */
    size_t nq = N >= 100000 ? 100 : 200;
    char(*qs)[128] = malloc(nq * sizeof *qs);
    for (size_t i = 0; i < nq; i++) {
        char a[48], b[48];
        size_t d = rnd((uint32_t)(N < T->n ? N : T->n));
        if (!pick_word(T, d, a, sizeof a)) strcpy(a, "license");
        if (!pick_word(T, d, b, sizeof b)) strcpy(b, "software");
        snprintf(qs[i], sizeof qs[i], "%s %s", a, b);
    }
    maif_search *s = NULL;
    bu_check(maif_search_create(&s), "search", "");
    bu_check(maif_search_set(s, MAIF_SEARCH_MODE, MAIF_MODE_TEXT), "mode", "");
    bu_check(maif_search_set(s, MAIF_SEARCH_K, 10), "k", "");
    uint64_t ba[10], bb[10];
    size_t na, nb, differ = 0;
    for (size_t i = 0; i < 5; i++) { /* warm-up */
        (void)run_query(s, ia, qs[i], ba, &na);
        (void)run_query(s, ib, qs[i], bb, &nb);
    }
    double ta = 0, tb = 0;
    for (size_t i = 0; i < nq; i++) {
        ta += run_query(s, ia, qs[i], ba, &na);
        tb += run_query(s, ib, qs[i], bb, &nb);
        if (na != nb || memcmp(ba, bb, na * sizeof *ba) != 0) differ++;
    }
    /* as the server does it: open an index, run one query, close it */
    size_t nr = nq < 20 ? nq : 20;
    double tra = 0, trb = 0, tro = 0;
    for (size_t i = 0; i < nr; i++) {
        maif_index *x = NULL;
        t0 = bu_now();
        bu_check(maif_index_open(&x, ra, NULL), "index open", art);
        tro += bu_now() - t0;
        (void)run_query(s, x, qs[i], ba, &na);
        maif_index_close(x);
        tra += bu_now() - t0;
        t0 = bu_now();
        bu_check(maif_index_open(&x, rb, NULL), "index open", plain);
        (void)run_query(s, x, qs[i], bb, &nb);
        maif_index_close(x);
        trb += bu_now() - t0;
    }
    /* grep -c of one query word over the same texts */
    size_t ng = nq < 20 ? nq : 20;
    double tg = 0;
    for (size_t i = 0; i < ng; i++) {
        char word[128];
        snprintf(word, sizeof word, "%s", qs[i]);
        word[strcspn(word, " ")] = 0;
        snprintf(cmd, sizeof cmd, "grep -c -i -w -F '%s' '%s' > /dev/null", word, txt);
        t0 = bu_now();
        if (system(cmd) < 0) bu_check(MAIF_EIO, "grep", txt);
        tg += bu_now() - t0;
    }
    loadavg(la1, sizeof la1);
    snprintf(label, sizeof label, "text query, stored index, %zu texts", N);
    bu_report(label, nq / ta, "q/s", "scan of every text", nq / tb, "");
    snprintf(label, sizeof label, "text query, stored index, %zu texts", N);
    bu_report(label, nq / ta, "q/s", "grep -c -w of one word", ng / tg, "");
    snprintf(label, sizeof label, "open + query + close, index, %zu", N);
    bu_report(label, nr / tra, "q/s", "same, scan", nr / trb, "");
    snprintf(label, sizeof label, "  of which maif_index_open, %zu", N);
    bu_report(label, tro / (double)nr * 1e3, "ms", "open + query + close", tra / (double)nr * 1e3, "");
    snprintf(label, sizeof label, "text index build, %zu texts", N);
    bu_report(label, tbuild, "s", "", -1, "");
    snprintf(label, sizeof label, "text index bytes a text, %zu texts", N);
    bu_report(label, (double)info.text_index_bytes / (double)N, "B", "text bytes a text",
              (double)bu_file_size(txt) / (double)N, "");
    snprintf(label, sizeof label, "find and view the TIDX, %zu texts", N);
    bu_report(label, topen * 1e3, "ms", "maif_index_open", tvopen * 1e3, "");
    bu_note("%zu texts: %llu indexed, TIDX %llu bytes; %zu queries, %zu result lists differ from the scan; "
            "loadavg start %s, end %s",
            N, (unsigned long long)indexed, (unsigned long long)info.text_index_bytes, nq, differ, la0, la1);
    if (differ) bu_check(MAIF_EFORMAT, "index and scan disagree", art);
    maif_search_free(s);
    maif_index_close(ia);
    maif_index_close(ib);
    maif_reader_close(ra);
    maif_reader_close(rb);
    remove(art);
    remove(plain);
    remove(txt);
    free(qs);
    free(art);
    free(plain);
    free(txt);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_text CORPUS DIR [N ...]\n");
        return 2;
    }
    texts T = load_texts(argv[1]);
    maif_key *key = bu_key();
    if (argc == 3) {
        one_size(&T, argv[2], 10000, key);
        one_size(&T, argv[2], 100000, key);
    } else {
        for (int i = 3; i < argc; i++) one_size(&T, argv[2], (size_t)strtoull(argv[i], NULL, 10), key);
    }
    maif_key_free(key);
    for (size_t i = 0; i < T.n; i++) free(T.t[i]);
    free(T.t);
    free(T.len);
    return 0;
}
