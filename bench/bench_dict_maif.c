/*
 * bench_dict_maif.c — zstd dictionaries through libmaif, on real records.
 *
 * usage: bench_dict_maif NAME RECORDS DIR [DICT_KIB]
 *
 * RECORDS is a file of newline-separated records that bench/run.sh takes
 * from Debian packages (the glosses of WordNet's data.noun, one synset a
 * line; the JSON documents under /usr/share, one a line). Each record is
 * one block, as an agent's memory would hold them. The first half of the
 * records is appended with `--compress zstd` (codec 1, a frame per block);
 * then, exactly as `maif dict FILE --train` and `append --compress zstd
 * --dict` do, a dictionary of DICT_KIB KiB (default 32, as bench_dict) is trained on the
 * artifact's blocks (maif_reader_dict_train), stored in it
 * (maif_writer_add_dict) and used for the second half (codec 3). The
 * same second half goes into a second artifact with plain zstd. Reported,
 * over the second half's payload bytes:
 *
 *   - with the dictionary: payload bytes / (stored bytes + the dictionary);
 *   - baseline: plain zstd-3 per block, stored bytes as the library keeps
 *     them (blocks where zstd does not pay are stored as is);
 *   - bound: libzstd level 19 on the same bytes as one stream (what `zstd
 *     -19` of them achieves, with no per-block framing).
 *
 * Also the artifact's growth per record for the second half (payload,
 * record header, extensions, metadata, padding, index and commit; the
 * dictionary block counted), with the dictionary, with plain zstd-3 and
 * with no codec: what a record really costs in the file.
 *
 * Append rates (blocks/s, one commit) with and without the dictionary are
 * printed for information; every dictionary block is decoded and compared.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "benchutil.h"

static double ratio(double in, double out) { return out > 0 ? in / out : 0; }

/* Appends records [from, to) and commits; returns seconds. */
static double append(maif_writer *w, char **rec, size_t *len, size_t from, size_t to)
{
    double t0 = bu_now();
    for (size_t i = from; i < to; i++) {
        maif_block_spec s = {.type = MAIF_TYPE_TEXT, .payload = rec[i], .payload_size = len[i]};
        bu_check(maif_writer_add(w, &s, NULL), "add", maif_writer_errmsg(w));
    }
    bu_check(maif_writer_commit(w), "commit", maif_writer_errmsg(w));
    return bu_now() - t0;
}

/* Sum of stored payload bytes of blocks [from, to) of path, and a check that
 * they decode to the records (rec[first + k]). */
static uint64_t stored(const char *path, uint64_t from, uint64_t to, char **rec, size_t *len, size_t first)
{
    maif_reader *r;
    bu_check(maif_reader_open(&r, path), "open", maif_last_errmsg());
    uint64_t sum = 0;
    char *buf = malloc(1 << 20);
    for (uint64_t i = from; i < to; i++) {
        maif_block b;
        bu_check(maif_reader_block(r, i, &b), "block", maif_reader_errmsg(r));
        sum += b.payload_size;
        size_t n, k = first + (size_t)(i - from);
        bu_check(maif_reader_block_decode(r, i, buf, 1 << 20, &n), "decode", maif_reader_errmsg(r));
        if (n != len[k] || memcmp(buf, rec[k], n) != 0) {
            fprintf(stderr, "bench_dict_maif: block %llu does not decode to its record\n", (unsigned long long)i);
            exit(2);
        }
    }
    free(buf);
    maif_reader_close(r);
    return sum;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: bench_dict_maif NAME RECORDS DIR [DICT_KIB]\n");
        return 2;
    }
    size_t dict_cap = (argc > 4 ? (size_t)atoi(argv[4]) : 32) * 1024;
    FILE *f = fopen(argv[2], "rb");
    if (!f || dict_cap < MAIF_DICT_MIN || dict_cap > MAIF_DICT_MAX) return 2;
    size_t cap = 0, n = 0;
    char **rec = NULL;
    size_t *len = NULL;
    char *line = NULL;
    size_t lcap = 0;
    ssize_t got;
    while ((got = getline(&line, &lcap, f)) > 0) {
        if (line[got - 1] == '\n') got--;
        if (got == 0 || got > (1 << 20)) continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 4096;
            rec = realloc(rec, cap * sizeof *rec);
            len = realloc(len, cap * sizeof *len);
            if (!rec || !len) return 2;
        }
        rec[n] = malloc((size_t)got);
        memcpy(rec[n], line, (size_t)got);
        len[n++] = (size_t)got;
    }
    free(line);
    fclose(f);
    if (n < 200) {
        fprintf(stderr, "bench_dict_maif: %s: only %zu records\n", argv[2], n);
        return 2;
    }
    size_t half = n / 2;
    uint64_t test_bytes = 0;
    for (size_t i = half; i < n; i++) test_bytes += len[i];

    maif_key *key = bu_key();
    char *pd = bu_path(argv[3], "dict.maif"), *pp = bu_path(argv[3], "plain.maif");
    maif_options *o;
    bu_check(maif_options_create(&o), "options", "");
    bu_check(maif_options_set(o, MAIF_OPT_OVERWRITE, 1), "options", "");
    bu_check(maif_options_set(o, MAIF_OPT_CODEC, MAIF_CODEC_ZSTD), "options", "");

    /* the artifact with a dictionary: first half plain zstd, train, second half with it */
    maif_writer *w;
    bu_check(maif_writer_create(&w, pd, key, NULL, o), "create", maif_last_errmsg());
    append(w, rec, len, 0, half);
    uint64_t grow0 = bu_file_size(pd); /* the artifact before the dictionary and the second half */
    maif_reader *r;
    bu_check(maif_reader_open(&r, pd), "open", maif_last_errmsg());
    void *dict = malloc(dict_cap);
    size_t dsize = 0;
    uint64_t used = 0;
    double t0 = bu_now();
    bu_check(maif_reader_dict_train(r, dict, dict_cap, &dsize, &used), "train", maif_last_errmsg());
    double tsecs = bu_now() - t0;
    maif_reader_close(r);
    bu_check(maif_writer_add_dict(w, dict, dsize, 0, NULL), "add_dict", maif_writer_errmsg(w));
    double sd = append(w, rec, len, half, n);
    bu_check(maif_writer_close(w), "close", maif_last_errmsg());
    uint64_t grow_dict = bu_file_size(pd) - grow0; /* the dictionary block included */
    uint64_t with = stored(pd, half + 1, n + 1, rec, len, half);

    /* the same second half, plain zstd-3 */
    bu_check(maif_writer_create(&w, pp, key, NULL, o), "create", maif_last_errmsg());
    uint64_t g0 = bu_file_size(pp);
    double sp = append(w, rec, len, half, n);
    bu_check(maif_writer_close(w), "close", maif_last_errmsg());
    uint64_t grow_plain = bu_file_size(pp) - g0;
    uint64_t plain = stored(pp, 0, n - half, rec, len, half);
    /* and uncompressed: what a record costs in the file with no codec */
    bu_check(maif_options_set(o, MAIF_OPT_CODEC, MAIF_CODEC_NONE), "options", "");
    bu_check(maif_writer_create(&w, pp, key, NULL, o), "create", maif_last_errmsg());
    g0 = bu_file_size(pp);
    append(w, rec, len, half, n);
    bu_check(maif_writer_close(w), "close", maif_last_errmsg());
    uint64_t grow_none = bu_file_size(pp) - g0;

    /* the bound: the same bytes as one stream at level 19 */
    char *cat = malloc(test_bytes ? test_bytes : 1);
    size_t off = 0;
    for (size_t i = half; i < n; i++) {
        memcpy(cat + off, rec[i], len[i]);
        off += len[i];
    }
    size_t bcap = ZSTD_compressBound(off);
    void *bout = malloc(bcap);
    size_t b19 = ZSTD_compress(bout, bcap, cat, off, 19);
    if (ZSTD_isError(b19)) return 2;

    printf("dictionary records %s: %zu records (%.0f bytes on average), second half %llu bytes\n", argv[1], n,
           (double)(test_bytes + 0) / (double)(n - half), (unsigned long long)test_bytes);
    char label[128];
    snprintf(label, sizeof label, "%s records, maif zstd-dict (+dict)", argv[1]);
    bu_report(label, ratio((double)test_bytes, (double)(with + dsize)), "x", "maif zstd-3 per block",
              ratio((double)test_bytes, (double)plain), "");
    snprintf(label, sizeof label, "  %s, vs the bound", argv[1]);
    bu_report(label, ratio((double)test_bytes, (double)(with + dsize)), "x", "zstd -19, records as one stream",
              ratio((double)test_bytes, (double)b19), "");
    snprintf(label, sizeof label, "  %s, artifact growth: zstd-dict", argv[1]);
    bu_report(label, (double)grow_dict / (double)(n - half), "B/record", "no codec", (double)grow_none / (double)(n - half),
              "");
    snprintf(label, sizeof label, "  %s, artifact growth: zstd-3", argv[1]);
    bu_report(label, (double)grow_plain / (double)(n - half), "B/record", "no codec",
              (double)grow_none / (double)(n - half), "");
    bu_note("%s: %zu-byte dictionary trained in %.2f s on %llu blocks; append %.0f blocks/s with it, %.0f blocks/s "
            "plain zstd; ratio without counting the dictionary %.2fx",
            argv[1], dsize, tsecs, (unsigned long long)used, (double)(n - half) / sd, (double)(n - half) / sp,
            ratio((double)test_bytes, (double)with));
    remove(pd);
    remove(pp);
    free(pd);
    free(pp);
    free(cat);
    free(bout);
    free(dict);
    for (size_t i = 0; i < n; i++) free(rec[i]);
    free(rec);
    free(len);
    maif_options_free(o);
    maif_key_free(key);
    return 0;
}
