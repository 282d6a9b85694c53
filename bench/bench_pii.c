/*
 * bench_pii.c — PII scanning throughput: maif_pii_scan over a text file
 * (the labelled corpus's generator output, repeated; bench/run.sh makes
 * it), in 4 KiB-ish pieces cut at line ends as text blocks would be, and
 * in one call over the whole buffer. The baseline is `grep -E -o` with
 * the patterns of bench/pii_patterns.ere (one per type, without the value
 * checks the scanner makes) on the same file, measured by run.sh in the
 * same run and handed over as BASE_GREP_MBS.
 * Usage: bench_pii FILE [REPS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "benchutil.h"

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_pii FILE [REPS]\n");
        return 2;
    }
    int reps = argc > 2 ? atoi(argv[2]) : 3;
    if (reps < 1) reps = 1;
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 2;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) return 2;
    fclose(f);
    maif_pii_scanner *s = NULL;
    bu_check(maif_pii_scanner_create(&s), "scanner", NULL);
    double *whole = calloc((size_t)reps, sizeof *whole), *pieces = calloc((size_t)reps, sizeof *pieces);
    size_t found = 0, found_p = 0;
    for (int r = -1; r < reps; r++) { /* r = -1: warm-up */
        double t0 = bu_now();
        size_t cnt = 0;
        bu_check(maif_pii_scan(s, buf, (size_t)n, &cnt), "scan", maif_last_errmsg());
        double t1 = bu_now();
        found = cnt;
        size_t off = 0, total = 0;
        while (off < (size_t)n) {
            size_t end = off + 4096 < (size_t)n ? off + 4096 : (size_t)n;
            while (end < (size_t)n && buf[end - 1] != '\n') end++;
            bu_check(maif_pii_scan(s, buf + off, end - off, &cnt), "scan", maif_last_errmsg());
            total += cnt;
            off = end;
        }
        double t2 = bu_now();
        found_p = total;
        if (r >= 0) {
            whole[r] = (double)n / 1e6 / (t1 - t0);
            pieces[r] = (double)n / 1e6 / (t2 - t1);
        }
    }
    double base = bu_env_double("BASE_GREP_MBS");
    char label[96];
    snprintf(label, sizeof label, "pii scan, %ld MB, one call", n / 1000000);
    bu_report(label, bu_median(whole, (size_t)reps), "MB/s", "grep -E -o (same text)", base, "");
    bu_report("pii scan, 4 KiB blocks", bu_median(pieces, (size_t)reps), "MB/s", "grep -E -o (same text)", base, "");
    bu_note("pii scan found %zu values (%zu in 4 KiB blocks); grep -E patterns: bench/pii_patterns.ere, LC_ALL=C",
            found, found_p);
    maif_pii_scanner_free(s);
    free(whole);
    free(pieces);
    free(buf);
    return 0;
}
