/*
 * bench_keystore.c — what crypto-shredding costs: opening a keystore of
 * shreddable-block keys, adding a key (one shreddable block's
 * maif_writer_encrypt_shreddable, durable before it returns) and replacing
 * the master key (what every erasure does), with the master key in a file
 * (the baseline) and on a PKCS#11 token (SoftHSM 2, a software token made
 * in DIR: the figure is the protocol and SoftHSM's own storage, not a
 * hardware token's speed).
 *
 * usage: bench_keystore DIR
 *
 * Each figure is the median of BENCH_REPS runs (default 3) of
 * BENCH_KS_OPS operations (default 20), in milliseconds per operation,
 * over a keystore holding BENCH_KS_KEYS keys (default 200). Both keystores
 * live in DIR, so the file system's fsync cost is the same for both;
 * every add and rekey writes and fsyncs the keystore (and, for a rekey,
 * the master file and the directory). Without SoftHSM the token rows say
 * so and are skipped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "benchutil.h"

static const char *find_module(void)
{
    static const char *paths[] = {"/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
                                  "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
        if (access(paths[i], R_OK) == 0) return paths[i];
    return NULL;
}

/* A keystore at DIR/NAME.keystore (master DIR/NAME.master) with nkeys keys;
 * tok NULL: the master in the file. */
static void make(const char *dir, const char *name, const maif_keystore_token *tok, int nkeys, char *ks, char *m,
                 size_t cap)
{
    snprintf(ks, cap, "%s/%s.keystore", dir, name);
    snprintf(m, cap, "%s/%s.master", dir, name);
    unlink(ks);
    unlink(m);
    maif_keystore *k = NULL;
    bu_check(maif_keystore_open_token(&k, ks, m, tok, 1), "keystore create", ks);
    char path[4200];
    snprintf(path, sizeof path, "%s/%s.maif", dir, name);
    maif_options *o = NULL;
    bu_check(maif_options_create(&o), "options", "");
    bu_check(maif_options_set(o, MAIF_OPT_OVERWRITE, 1), "options", "");
    maif_writer *w = NULL;
    bu_check(maif_writer_create(&w, path, bu_key(), "bench", o), "writer", path);
    maif_options_free(o);
    for (int i = 0; i < nkeys; i++) bu_check(maif_writer_encrypt_shreddable(w, k, MAIF_CIPHER_XCHACHA20), "add key", "");
    bu_check(maif_writer_close(w), "close", "");
    maif_keystore_close(k);
}

/* ms per operation: 0 open+close, 1 add a key, 2 rekey */
static double run_ops(int what, const char *dir, const char *name, const char *ks, const char *m,
                      const maif_keystore_token *tok, int ops)
{
    maif_keystore *k = NULL;
    maif_writer *w = NULL;
    char path[4200];
    snprintf(path, sizeof path, "%s/%s.maif", dir, name);
    if (what) bu_check(maif_keystore_open_token(&k, ks, m, tok, 0), "keystore open", ks);
    if (what == 1) bu_check(maif_writer_open(&w, path, bu_key(), NULL), "writer", path);
    double t0 = bu_now();
    for (int i = 0; i < ops; i++) {
        if (what == 0) {
            bu_check(maif_keystore_open_token(&k, ks, m, tok, 0), "keystore open", ks);
            maif_keystore_close(k);
            k = NULL;
        } else if (what == 1) {
            bu_check(maif_writer_encrypt_shreddable(w, k, MAIF_CIPHER_XCHACHA20), "add key", "");
        } else {
            bu_check(maif_keystore_rekey(k), "rekey", ks);
        }
    }
    double ms = (bu_now() - t0) * 1e3 / ops;
    if (w) bu_check(maif_writer_close(w), "close", "");
    maif_keystore_close(k);
    return ms;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: bench_keystore DIR\n");
        return 2;
    }
    int reps = (int)bu_env_double("BENCH_REPS");
    if (reps <= 0 || reps > 16) reps = 3;
    int ops = (int)bu_env_double("BENCH_KS_OPS");
    if (ops <= 0) ops = 20;
    int nkeys = (int)bu_env_double("BENCH_KS_KEYS");
    if (nkeys <= 0) nkeys = 200;
    const char *dir = argv[1];
    char fks[4200], fm[4200], tks[4200], tm[4200];
    make(dir, "ks-file", NULL, nkeys, fks, fm, sizeof fks);

    const char *module = find_module();
    maif_keystore_token tok = {module, "bench", "123456"};
    int token = module != NULL;
    if (token) {
        char tokens[4200], conf[4200], cmd[9000];
        snprintf(tokens, sizeof tokens, "%s/softhsm-tokens", dir);
        snprintf(conf, sizeof conf, "%s/softhsm2.conf", dir);
        snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", tokens, tokens);
        FILE *f = system(cmd) == 0 ? fopen(conf, "w") : NULL;
        if (f) {
            fprintf(f, "directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n", tokens);
            fclose(f);
            setenv("SOFTHSM2_CONF", conf, 1);
            snprintf(cmd, sizeof cmd,
                     "softhsm2-util --init-token --free --label bench --pin 123456 --so-pin 654321 >/dev/null 2>&1");
            token = system(cmd) == 0;
        } else {
            token = 0;
        }
    }
    if (token) make(dir, "ks-token", &tok, nkeys, tks, tm, sizeof tks);
    else bu_note("keystore on a token: SoftHSM 2 not installed (scripts/install-deps.sh bench installs it); skipped");

    static const char *what[3] = {"open (read, unseal every key)", "add a key (durable)", "rekey = one erasure's"};
    for (int op = 0; op < 3; op++) {
        double f[16], t[16];
        for (int k = 0; k < reps; k++) {
            f[k] = run_ops(op, dir, "ks-file", fks, fm, NULL, ops);
            if (token) t[k] = run_ops(op, dir, "ks-token", tks, tm, &tok, ops);
        }
        char label[160];
        snprintf(label, sizeof label, "keystore %s, %d keys, master on SoftHSM", what[op], nkeys);
        if (token)
            bu_report(label, bu_median(t, (size_t)reps), "ms", "master in a file", bu_median(f, (size_t)reps), "");
        else {
            snprintf(label, sizeof label, "keystore %s, %d keys, master in a file", what[op], nkeys);
            bu_report(label, bu_median(f, (size_t)reps), "ms", "", -1, "");
        }
    }
    return 0;
}
