/*
 * benchutil.c — see benchutil.h. Kept free of cleverness: a benchmark
 * harness that is hard to read is hard to trust.
 */
#include "benchutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

double bu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bu_quantile(double *v, size_t n, double q)
{
    qsort(v, n, sizeof *v, cmp_double);
    size_t k = (size_t)(q * (double)n + 0.999999); /* nearest rank, 1-based */
    if (k < 1) k = 1;
    if (k > n) k = n;
    return v[k - 1];
}

double bu_median(double *v, size_t n) { return bu_quantile(v, n, 0.5); }

char *bu_tmpdir(void)
{
    const char *root = getenv("BENCH_DIR");
    if (!root || !*root) root = "/var/tmp";
    char *p = bu_path(root, "maif-bench.XXXXXX");
    if (!mkdtemp(p)) {
        fprintf(stderr, "bench: cannot create a directory under %s: %s\n", root, strerror(errno));
        exit(2);
    }
    return p;
}

char *bu_path(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (!p) {
        fprintf(stderr, "bench: out of memory\n");
        exit(2);
    }
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

void bu_rmdir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char *p = bu_path(dir, e->d_name);
        unlink(p);
        free(p);
    }
    closedir(d);
    rmdir(dir);
}

uint64_t bu_file_size(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "bench: %s: %s\n", path, strerror(errno));
        exit(2);
    }
    return (uint64_t)st.st_size;
}

void bu_warm(const char *path)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) return;
    static char buf[1 << 20];
    while (read(fd, buf, sizeof buf) > 0) {
    }
    close(fd);
}

void bu_fill(void *buf, size_t n, uint64_t seed)
{
    uint64_t x = seed * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull;
    uint8_t *p = buf;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        memcpy(p + i, &x, 8);
    }
    for (; i < n; i++) p[i] = (uint8_t)(x >> (8 * (i & 7)));
}

maif_key *bu_key(void)
{
    maif_key *k = NULL;
    bu_check(maif_key_generate(&k), "key generate", NULL);
    return k;
}

void bu_check(int rc, const char *what, const char *detail)
{
    if (rc == 0) return;
    fprintf(stderr, "bench: %s failed: %s%s%s\n", what, maif_strerror(rc), detail && *detail ? ": " : "",
            detail ? detail : "");
    exit(2);
}

double bu_env_double(const char *name)
{
    const char *s = getenv(name);
    if (!s || !*s) return -1;
    char *end;
    double v = strtod(s, &end);
    return (end == s || v <= 0) ? -1 : v;
}

static const char *fmt_num(double v, char *buf, size_t cap)
{
    if (v < 0) snprintf(buf, cap, "n/a");
    else if (v >= 1000) snprintf(buf, cap, "%.0f", v);
    else if (v >= 10) snprintf(buf, cap, "%.1f", v);
    else snprintf(buf, cap, "%.2f", v);
    return buf;
}

static FILE *results(void)
{
    const char *p = getenv("BENCH_RESULTS");
    return p && *p ? fopen(p, "a") : NULL;
}

void bu_report(const char *label, double value, const char *unit, const char *blabel, double baseline,
               const char *target)
{
    char v[32], b[32], r[32] = "";
    fmt_num(value, v, sizeof v);
    fmt_num(baseline, b, sizeof b);
    if (baseline > 0 && value >= 0) snprintf(r, sizeof r, "%.2f", value / baseline);
    printf("%-34s %10s %-9s  baseline %-22s %10s %-9s  ratio %-5s  target %s\n", label, v, unit,
           blabel ? blabel : "-", b, unit, r[0] ? r : "-", target && *target ? target : "-");
    fflush(stdout);
    FILE *f = results();
    if (f) {
        fprintf(f, "F\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", label, v, unit, blabel ? blabel : "-", b, r[0] ? r : "-",
                target && *target ? target : "-");
        fclose(f);
    }
}

void bu_note(const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    printf("  note: %s\n", line);
    fflush(stdout);
    FILE *f = results();
    if (f) {
        fprintf(f, "N\t%s\n", line);
        fclose(f);
    }
}

const maif_options *bu_writer_options(int durable)
{
    static maif_options *made[2]; /* reachable until exit */
    durable = durable != 0;
    if (!made[durable]) {
        maif_options *o = NULL;
        bu_check(maif_options_create(&o), "options", maif_last_errmsg());
        bu_check(maif_options_set(o, MAIF_OPT_OVERWRITE, 1), "options", maif_last_errmsg());
        bu_check(maif_options_set(o, MAIF_OPT_DURABLE, durable), "options", maif_last_errmsg());
        made[durable] = o;
    }
    return made[durable];
}
