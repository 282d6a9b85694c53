/*
 * bench_jsonl.c — JSONL ingest through the CLI against the library's own
 * append rate for the same blocks.
 *
 * usage: bench_jsonl MAIF_BIN DIR [REPS]
 *
 * 20 000 lines, each a small text block with a one-key metadata object
 * ({"type":"text","text":"note 17: ...","meta":{"source":"chat"}}), are
 * written to DIR/lines.jsonl. Measured, alternating, REPS times (default
 * 3), medians printed:
 *
 *   - the library: maif_writer_add of the same 20 000 blocks (the same
 *     text payloads, the metadata as the JSON text {"source":"chat"}),
 *     one durable commit, as `maif append` commits; timed from after the
 *     writer is created to after the commit;
 *   - `maif append FILE lines.jsonl` (and with --jobs 2), run as a user
 *     runs it (fork and exec, wall time from spawn to exit, which also
 *     counts the process's start, opening the artifact and key, and
 *     printing 20 000 "INDEX ID" lines to /dev/null).
 *
 * Rates are blocks per second. Target: the CLI at 0.7x of the library.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "benchutil.h"

#define NLINES 20000

static char *g_text[NLINES];
static size_t g_len[NLINES];

static double run_lib(const char *path, maif_key *key)
{
    maif_writer *w;
    bu_check(maif_writer_create(&w, path, key, NULL, bu_writer_options(1)), "create", maif_last_errmsg());
    static const char meta[] = "{\"source\":\"chat\"}";
    double t0 = bu_now();
    for (int i = 0; i < NLINES; i++) {
        maif_block_spec s = {.type = MAIF_TYPE_TEXT, .payload = g_text[i], .payload_size = g_len[i],
                             .meta_json = meta, .meta_size = sizeof meta - 1};
        bu_check(maif_writer_add(w, &s, NULL), "add", maif_writer_errmsg(w));
    }
    bu_check(maif_writer_commit(w), "commit", maif_writer_errmsg(w));
    double t = bu_now() - t0;
    bu_check(maif_writer_close(w), "close", maif_last_errmsg());
    unlink(path);
    return NLINES / t;
}

/* Runs argv with stdout to /dev/null; returns seconds, or exits on failure. */
static double spawn(char *const argv[])
{
    double t0 = bu_now();
    pid_t pid = fork();
    if (pid < 0) exit(2);
    if (pid == 0) {
        int fd = open("/dev/null", O_WRONLY);
        if (fd >= 0) dup2(fd, 1);
        execv(argv[0], argv);
        _exit(127);
    }
    int st;
    if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "bench_jsonl: %s %s failed\n", argv[0], argv[1]);
        exit(2);
    }
    return bu_now() - t0;
}

static double run_cli(const char *bin, const char *path, const char *keyfile, const char *lines, const char *jobs)
{
    char *create[] = {(char *)bin, "create", (char *)path, "--key", (char *)keyfile, NULL};
    spawn(create);
    char *a1[] = {(char *)bin, "append", (char *)path, (char *)lines, "--key", (char *)keyfile, NULL};
    char *a2[] = {(char *)bin, "append", (char *)path, (char *)lines, "--key", (char *)keyfile, "--jobs", (char *)jobs,
                  NULL};
    double t = spawn(jobs ? a2 : a1);
    unlink(path);
    return NLINES / t;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_jsonl MAIF_BIN DIR [REPS]\n");
        return 2;
    }
    const char *bin = argv[1], *dir = argv[2];
    int reps = argc > 3 ? atoi(argv[3]) : 3;
    if (reps < 1) reps = 1;
    char *lines = bu_path(dir, "lines.jsonl"), *path = bu_path(dir, "jsonl.maif"), *keyfile = bu_path(dir, "jsonl.key");
    FILE *f = fopen(lines, "w");
    if (!f) return 2;
    size_t bytes = 0;
    for (int i = 0; i < NLINES; i++) {
        char t[160];
        int n = snprintf(t, sizeof t, "note %d: the agent observed event %d and stored it for later recall", i,
                         i * 7919 % 100000);
        g_text[i] = strdup(t);
        g_len[i] = (size_t)n;
        bytes += (size_t)fprintf(f, "{\"type\":\"text\",\"text\":\"%s\",\"meta\":{\"source\":\"chat\"}}\n", t);
    }
    if (fclose(f) != 0) return 2;
    maif_key *key = bu_key();
    bu_check(maif_key_save(key, keyfile), "key save", maif_last_errmsg());
    double lib[16], cli[16], cli2[16];
    if (reps > 16) reps = 16;
    run_lib(path, key); /* warm-up */
    run_cli(bin, path, keyfile, lines, NULL);
    for (int r = 0; r < reps; r++) {
        lib[r] = run_lib(path, key);
        cli[r] = run_cli(bin, path, keyfile, lines, NULL);
        cli2[r] = run_cli(bin, path, keyfile, lines, "2");
    }
    double l = bu_median(lib, (size_t)reps), c = bu_median(cli, (size_t)reps), c2 = bu_median(cli2, (size_t)reps);
    printf("JSONL: %d lines, %zu bytes; medians of %d runs\n", NLINES, bytes, reps);
    bu_report("maif append JSONL (CLI)", c, "blocks/s", "library maif_writer_add", l, ">= 0.7x library");
    bu_report("maif append JSONL --jobs 2", c2, "blocks/s", "library maif_writer_add", l, ">= 0.7x library");
    char pub[4096];
    snprintf(pub, sizeof pub, "%s.pub", keyfile);
    unlink(lines);
    unlink(keyfile);
    unlink(pub);
    for (int i = 0; i < NLINES; i++) free(g_text[i]);
    free(lines);
    free(path);
    free(keyfile);
    maif_key_free(key);
    return 0;
}
