/*
 * testutil.c — see testutil.h.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *tu_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char *p = NULL;
    if (asprintf(&p, "%s/maif-test-XXXXXX", base && *base ? base : "/tmp") < 0) return NULL;
    if (!mkdtemp(p)) {
        free(p);
        return NULL;
    }
    return p;
}

void tu_rmtree(const char *dir)
{
    if (!dir) return;
    char *cmd = NULL;
    if (asprintf(&cmd, "rm -rf '%s'", dir) >= 0) {
        if (system(cmd) != 0) { /* best effort */
        }
        free(cmd);
    }
}

char *tu_path(const char *dir, const char *name)
{
    char *p = NULL;
    if (asprintf(&p, "%s/%s", dir, name) < 0) return NULL;
    return p;
}

uint8_t *tu_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    uint8_t *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n + 65536 + 1 > cap) {
            cap = (n + 65536 + 1) * 2;
            uint8_t *p = realloc(buf, cap);
            if (!p) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = p;
        }
        size_t got = fread(buf + n, 1, 65536, f);
        n += got;
        if (got == 0) break;
    }
    fclose(f);
    buf[n] = 0;
    if (len) *len = n;
    return buf;
}

int tu_write(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = fwrite(data, 1, len, f);
    return (fclose(f) == 0 && w == len) ? 0 : -1;
}

const char *tu_samples_dir(void)
{
    const char *d = getenv("MAIF_SAMPLES");
    return d && *d ? d : "tests/data/v21";
}

const maif_options *tu_flag(int option)
{
    static maif_options *made[8]; /* by id; reachable until exit */
    if (option < 0 || option >= 8) return NULL;
    if (!made[option]) {
        maif_options *o = NULL;
        if (maif_options_create(&o) != MAIF_OK) return NULL;
        if (maif_options_set(o, option, 1) != MAIF_OK) {
            maif_options_free(o);
            return NULL;
        }
        made[option] = o;
    }
    return made[option];
}

maif_options *tu_verify_options(const void *keys, size_t nkeys, unsigned threads)
{
    maif_options *o = NULL;
    assert_int_equal(maif_options_create(&o), MAIF_OK);
    for (size_t i = 0; i < nkeys; i++)
        assert_int_equal(maif_options_add_trusted_key(o, (const uint8_t *)keys + i * MAIF_PUBKEY_BYTES), MAIF_OK);
    assert_int_equal(maif_options_set(o, MAIF_OPT_THREADS, threads), MAIF_OK);
    return o;
}
