/*
 * bench_wordnet.c — the ranked lists behind bench/wordnet_eval.sh, in one
 * process (a `maif search` per query reloads the embedder each time).
 *
 * usage: bench_wordnet ARTIFACT QUERIES OUT
 *
 * For query line i of QUERIES, through the public maif_search_run on the
 * artifact's latest index (its model embeds the query): the best 50 of
 * vector search, the best 50 of BM25 text search (the two lists hybrid
 * search fuses), and the best 10 of hybrid search three ways: the
 * library's default fusion (distribution-based score fusion, equal
 * weights), reciprocal rank fusion with equal weights, and reciprocal rank
 * fusion with the vector list weighted 200 %. OUT gets one line a query:
 * "i<TAB>vector<TAB>text<TAB>hybrid<TAB>rrf<TAB>rrf200", each list
 * comma-separated "block:score", best first. bench/wordnet_eval.sh scores
 * them; bench/wordnet_fusion.py tries other fusions on the first two.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "maif.h"

static void put_list(FILE *o, maif_search *s, maif_index *ix, const char *q, int mode, int k, int fusion, int vw)
{
    if (maif_search_set(s, MAIF_SEARCH_MODE, mode) || maif_search_set(s, MAIF_SEARCH_K, k) ||
        maif_search_set(s, MAIF_SEARCH_FUSION, fusion) || maif_search_set(s, MAIF_SEARCH_VECTOR_WEIGHT, vw) ||
        maif_search_set_text(s, q, strlen(q)) || maif_search_run(s, ix)) {
        fprintf(stderr, "bench_wordnet: search: %s\n", maif_last_errmsg());
        exit(1);
    }
    for (size_t i = 0; i < maif_search_count(s); i++) {
        maif_search_hit h;
        if (maif_search_result(s, i, &h)) exit(1);
        fprintf(o, "%s%llu:%.6g", i ? "," : "", (unsigned long long)h.block, h.score);
    }
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: bench_wordnet ARTIFACT QUERIES OUT\n");
        return 2;
    }
    maif_reader *r = NULL;
    maif_index *ix = NULL;
    maif_search *s = NULL;
    if (maif_reader_open(&r, argv[1]) || maif_index_open(&ix, r, NULL) || maif_search_create(&s)) {
        fprintf(stderr, "bench_wordnet: %s: %s\n", argv[1], maif_last_errmsg());
        return 1;
    }
    FILE *in = fopen(argv[2], "r"), *o = fopen(argv[3], "w");
    if (!in || !o) {
        fprintf(stderr, "bench_wordnet: cannot open %s or %s\n", argv[2], argv[3]);
        return 1;
    }
    char line[8192];
    for (unsigned i = 0; fgets(line, sizeof line, in); i++) {
        line[strcspn(line, "\n")] = 0;
        fprintf(o, "%u\t", i);
        put_list(o, s, ix, line, MAIF_MODE_VECTOR, 50, 0, 0);
        fputc('\t', o);
        put_list(o, s, ix, line, MAIF_MODE_TEXT, 50, 0, 0);
        fputc('\t', o);
        put_list(o, s, ix, line, MAIF_MODE_HYBRID, 10, 0, 0);
        fputc('\t', o);
        put_list(o, s, ix, line, MAIF_MODE_HYBRID, 10, MAIF_FUSION_RRF, 0);
        fputc('\t', o);
        put_list(o, s, ix, line, MAIF_MODE_HYBRID, 10, MAIF_FUSION_RRF, 200);
        fputc('\n', o);
    }
    fclose(in);
    if (fclose(o)) return 1;
    maif_search_free(s);
    maif_index_close(ix);
    maif_reader_close(r);
    return 0;
}
