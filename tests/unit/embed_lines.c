/*
 * embed_lines.c — test helper (not a test): embeds each line of stdin with
 * a model embedder and prints one JSON array a line.
 *   embed_lines use MODEL_DIR [BATCH]   USE-lite (BATCH lines a call)
 *   embed_lines glove VECTORS_FILE      SIF-weighted word-vector average
 * Exit 2 on a load error (message on stderr).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "maif.h"
#include "semantic/model_glove.h"
#include "semantic/model_use.h"

static char **read_lines(size_t *n)
{
    size_t cap = 1024, k = 0, len = 0;
    char **v = malloc(cap * sizeof *v), *line = NULL;
    size_t lcap = 0;
    ssize_t r;
    while (v && (r = getline(&line, &lcap, stdin)) >= 0) {
        len = (size_t)r;
        if (len && line[len - 1] == '\n') line[--len] = 0;
        if (k == cap) {
            char **nv = realloc(v, (cap *= 2) * sizeof *nv);
            if (!nv) break;
            v = nv;
        }
        v[k++] = strdup(line);
    }
    free(line);
    *n = k;
    return v;
}

static void print_vec(const float *v, size_t d)
{
    putchar('[');
    for (size_t i = 0; i < d; i++) printf("%s%.9g", i ? "," : "", v[i]);
    puts("]");
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: embed_lines use MODEL_DIR [BATCH] | glove FILE\n");
        return 2;
    }
    size_t n;
    char **lines = read_lines(&n);
    int rc = 0;
    if (strcmp(argv[1], "use") == 0) {
        sem_use *m;
        if (sem_use_open(&m, argv[2])) {
            fprintf(stderr, "embed_lines: %s\n", maif_last_errmsg());
            return 2;
        }
        size_t batch = argc > 3 ? (size_t)atoi(argv[3]) : 1, d = sem_use_dim(m);
        if (batch < 1) batch = 1;
        float *out = malloc(batch * d * sizeof *out);
        size_t *lens = malloc(batch * sizeof *lens);
        for (size_t i = 0; i < n && !rc; i += batch) {
            size_t k = n - i < batch ? n - i : batch;
            for (size_t j = 0; j < k; j++) lens[j] = strlen(lines[i + j]);
            rc = sem_use_embed_batch(m, (const char *const *)lines + i, lens, k, out);
            for (size_t j = 0; j < k && !rc; j++) print_vec(out + j * d, d);
        }
        free(out);
        free(lens);
        sem_use_close(m);
    } else if (strcmp(argv[1], "glove") == 0) {
        sem_glove *g;
        if (sem_glove_open(&g, argv[2])) {
            fprintf(stderr, "embed_lines: %s\n", maif_last_errmsg());
            return 2;
        }
        size_t d = sem_glove_dim(g);
        float *out = malloc(d * sizeof *out);
        for (size_t i = 0; i < n && !rc; i++) {
            rc = sem_glove_embed(g, lines[i], strlen(lines[i]), out);
            if (!rc) print_vec(out, d);
        }
        free(out);
        sem_glove_close(g);
    } else {
        fprintf(stderr, "embed_lines: unknown embedder %s\n", argv[1]);
        return 2;
    }
    if (rc) fprintf(stderr, "embed_lines: %s\n", maif_last_errmsg());
    for (size_t i = 0; i < n; i++) free(lines[i]);
    free(lines);
    return rc ? 1 : 0;
}
