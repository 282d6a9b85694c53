/*
 * bench_dict.c — what a zstd dictionary would buy many small similar blocks.
 *
 * usage: bench_dict NAME CORPUS [DICT_KIB]
 *
 * CORPUS is a file bench/run.sh assembles from Debian packages (the text
 * corpus of bench_compress; the JSON files under /usr/share). It is cut
 * into blocks of 1 KiB and of 4 KiB. For each block size:
 *
 *   - plain: every block compressed alone by libzstd at level 3 (what
 *     `--compress zstd` stores today, a frame per block);
 *   - dict, interleaved: a dictionary of DICT_KIB KiB (default 32) trained
 *     with ZDICT_trainFromBuffer on the even-numbered blocks, then used at
 *     level 3 for every odd-numbered block;
 *   - dict, later blocks: trained on the first half of the blocks, used
 *     for the second half (an artifact training on what it already holds
 *     and compressing what comes after; the corpus is in file order, so
 *     the second half is other packages' text);
 *   - bound: libzstd at level 19 on the same bytes as one stream (what
 *     `zstd -19` of the corpus achieves; no per-block framing).
 *
 * Each ratio is uncompressed bytes / compressed bytes over the blocks the
 * dictionary is applied to, and "+dict" ratios count the dictionary's
 * own size once (it would be stored in the artifact). Plain and bound are
 * measured on the same blocks as each dict figure. Timing is reported for
 * information only (MB/s of input, compression with a prepared CDict vs
 * without, one pass).
 *
 * Nothing here touches libmaif: the library does not yet store or use
 * dictionaries; this measures what they are worth on this data.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zdict.h>
#include <zstd.h>

#include "benchutil.h"

static uint8_t *g_corpus;
static size_t g_size;

typedef struct {
    uint64_t in, out;
    double secs;
} tally;

/* Compresses blocks [first, first + count*step) with stride step, each alone,
 * with cdict when given, else at level; adds to t. */
static void compress_blocks(size_t bsize, size_t first, size_t step, size_t nblocks, const ZSTD_CDict *cdict,
                            int level, tally *t)
{
    size_t cap = ZSTD_compressBound(bsize);
    uint8_t *dst = malloc(cap);
    ZSTD_CCtx *cc = ZSTD_createCCtx();
    if (!dst || !cc) exit(2);
    double t0 = bu_now();
    for (size_t i = first; i < nblocks; i += step) {
        size_t off = i * bsize, n = g_size - off < bsize ? g_size - off : bsize;
        size_t e = cdict ? ZSTD_compress_usingCDict(cc, dst, cap, g_corpus + off, n, cdict)
                         : ZSTD_compressCCtx(cc, dst, cap, g_corpus + off, n, level);
        if (ZSTD_isError(e)) {
            fprintf(stderr, "bench_dict: %s\n", ZSTD_getErrorName(e));
            exit(2);
        }
        t->in += n;
        t->out += e;
    }
    t->secs += bu_now() - t0;
    ZSTD_freeCCtx(cc);
    free(dst);
}

/* Level-19 size of the blocks [first, nblocks) with stride step, concatenated
 * into one stream. */
static uint64_t bound19(size_t bsize, size_t first, size_t step, size_t nblocks)
{
    uint8_t *cat = malloc(g_size ? g_size : 1);
    size_t len = 0;
    if (!cat) exit(2);
    for (size_t i = first; i < nblocks; i += step) {
        size_t off = i * bsize, n = g_size - off < bsize ? g_size - off : bsize;
        memcpy(cat + len, g_corpus + off, n);
        len += n;
    }
    size_t cap = ZSTD_compressBound(len);
    uint8_t *dst = malloc(cap);
    if (!dst) exit(2);
    size_t e = ZSTD_compress(dst, cap, cat, len, 19);
    if (ZSTD_isError(e)) exit(2);
    free(dst);
    free(cat);
    return e;
}

/* Trains a dictionary of at most cap bytes on blocks [first, first+...) with
 * stride step, below limit. Returns its size; *dict is malloc'ed. */
static size_t train(size_t bsize, size_t first, size_t step, size_t limit, size_t cap, void **dict, double *secs)
{
    size_t count = 0;
    for (size_t i = first; i < limit; i += step) count++;
    uint8_t *samples = malloc(g_size ? g_size : 1);
    size_t *sizes = malloc((count ? count : 1) * sizeof *sizes), len = 0, k = 0;
    *dict = malloc(cap);
    if (!samples || !sizes || !*dict) exit(2);
    for (size_t i = first; i < limit; i += step) {
        size_t off = i * bsize, n = g_size - off < bsize ? g_size - off : bsize;
        memcpy(samples + len, g_corpus + off, n);
        len += n;
        sizes[k++] = n;
    }
    double t0 = bu_now();
    size_t e = ZDICT_trainFromBuffer(*dict, cap, samples, sizes, (unsigned)count);
    *secs = bu_now() - t0;
    if (ZDICT_isError(e)) {
        fprintf(stderr, "bench_dict: training: %s\n", ZDICT_getErrorName(e));
        exit(2);
    }
    free(sizes);
    free(samples);
    return e;
}

static double ratio(uint64_t in, uint64_t out) { return out ? (double)in / (double)out : 0; }

/* One split: the dictionary is trained on the train set and applied to the
 * test set; the test set is blocks [tfirst, nblocks) with stride step. */
static void split(const char *name, const char *how, size_t bsize, size_t nblocks, size_t dict_cap, size_t train_first,
                  size_t train_step, size_t train_limit, size_t test_first, size_t test_step)
{
    void *dict;
    double tsecs;
    size_t dsize = train(bsize, train_first, train_step, train_limit, dict_cap, &dict, &tsecs);
    ZSTD_CDict *cd = ZSTD_createCDict(dict, dsize, 3);
    if (!cd) exit(2);
    tally plain = {0}, withd = {0};
    compress_blocks(bsize, test_first, test_step, nblocks, NULL, 3, &plain);
    compress_blocks(bsize, test_first, test_step, nblocks, cd, 3, &withd);
    uint64_t b19 = bound19(bsize, test_first, test_step, nblocks);
    char label[128], blabel[128];
    snprintf(label, sizeof label, "%s %zu KiB, %s: zstd-3 +dict", name, bsize / 1024, how);
    snprintf(blabel, sizeof blabel, "zstd-3 per block, no dict");
    bu_report(label, ratio(withd.in, withd.out + dsize), "x", blabel, ratio(plain.in, plain.out), "");
    snprintf(label, sizeof label, "  same, vs the bound");
    bu_report(label, ratio(withd.in, withd.out + dsize), "x", "zstd -19, blocks as one stream", ratio(withd.in, b19),
              "");
    bu_note("%s %zu KiB %s: %zu-byte dict trained in %.2f s on %zu blocks; %llu test bytes; "
            "no dict %.0f MB/s, dict %.0f MB/s; dict ratio without counting the dict %.2fx",
            name, bsize / 1024, how, dsize, tsecs, (train_limit - train_first + train_step - 1) / train_step,
            (unsigned long long)withd.in, plain.secs > 0 ? plain.in / plain.secs / 1e6 : 0,
            withd.secs > 0 ? withd.in / withd.secs / 1e6 : 0, ratio(withd.in, withd.out));
    ZSTD_freeCDict(cd);
    free(dict);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_dict NAME CORPUS [DICT_KIB]\n");
        return 2;
    }
    size_t dict_cap = (argc > 3 ? (size_t)atoi(argv[3]) : 32) * 1024;
    FILE *f = fopen(argv[2], "rb");
    if (!f || dict_cap == 0) return 2;
    g_size = bu_file_size(argv[2]);
    g_corpus = malloc(g_size ? g_size : 1);
    if (!g_corpus || fread(g_corpus, 1, g_size, f) != g_size) return 2;
    fclose(f);
    printf("dictionary corpus %s: %zu bytes, dictionaries of %zu KiB\n", argv[1], g_size, dict_cap / 1024);
    const size_t sizes[] = {1024, 4096};
    for (int s = 0; s < 2; s++) {
        size_t b = sizes[s], n = (g_size + b - 1) / b;
        if (n < 64) continue; /* too few blocks to train on */
        split(argv[1], "interleaved", b, n, dict_cap, 0, 2, n, 1, 2);
        split(argv[1], "later blocks", b, n, dict_cap, 0, 1, n / 2, n / 2, 1);
    }
    free(g_corpus);
    return 0;
}
