/*
 * pii_cli.c — what `maif add --anonymize` and `maif pii` share: reading a
 * small file whole (pattern configurations, pseudonym keys), building a
 * scanner from the options, and the anonymisation step of `add`: the
 * payload is scanned and replaced in memory before anything reaches the
 * writer, and the block's metadata records what was done (the mode, the
 * key's origin and how many values of each type) without any value.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

int cli_read_small(const char *path, size_t max, char **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    int fd = -1;
    char err[256];
    if (cli_open_input(path, &fd, err, sizeof err)) {
        cli_err(path, "%s", err);
        return CLI_EXIT_USAGE;
    }
    cli_fd_src src = {fd, 0};
    uint8_t *buf = NULL;
    int rc = cli_read_all(&src, max, &buf, n);
    if (fd > 0) close(fd);
    if (rc) {
        if (rc == MAIF_ELIMIT) cli_err(path, "larger than %zu bytes", max);
        else cli_err(path, "%s", src.err ? strerror(src.err) : maif_strerror(rc));
        return CLI_EXIT_USAGE;
    }
    char *s = realloc(buf, *n + 1);
    if (!s) {
        free(buf);
        cli_err(path, "out of memory");
        return CLI_EXIT_USAGE;
    }
    s[*n] = 0;
    *out = s;
    return 0;
}

int cli_pii_scanner(const char *patterns, maif_pii_scanner **out)
{
    *out = NULL;
    maif_pii_scanner *s = NULL;
    if (maif_pii_scanner_create(&s)) {
        cli_err("pii", "%s", maif_last_errmsg());
        return CLI_EXIT_USAGE;
    }
    if (patterns) {
        char *cfg = NULL;
        size_t n = 0;
        int ex = cli_read_small(patterns, MAIF_PII_CONFIG_MAX, &cfg, &n);
        if (ex) {
            maif_pii_scanner_free(s);
            return ex;
        }
        int rc = maif_pii_scanner_load_patterns(s, cfg, n);
        free(cfg);
        if (rc) {
            cli_err(patterns, "%s", maif_last_errmsg());
            maif_pii_scanner_free(s);
            return CLI_EXIT_USAGE;
        }
    }
    *out = s;
    return 0;
}

/* The pseudonymisation key: HKDF of the --pseudonym-key file's bytes (no
 * context: the same tokens in every artifact), else of the signing key
 * with the artifact's file id as context (tokens differ per artifact). */
static int pseudo_key(maif_pii_scanner *s, const char *path, const char *keyfile, const char *pkfile,
                      const char **origin)
{
    uint8_t k[MAIF_PII_KEY_BYTES];
    int rc;
    if (pkfile) {
        char *sec = NULL;
        size_t n = 0;
        int ex = cli_read_small(pkfile, 4096, &sec, &n);
        if (ex) return ex;
        rc = maif_pii_key_derive(NULL, sec, n, NULL, 0, k);
        memset(sec, 0, n);
        free(sec);
        if (rc) {
            cli_err(pkfile, "a pseudonym key file holds 16 to 4096 bytes");
            return CLI_EXIT_USAGE;
        }
        *origin = "pseudonym-key-file";
    } else {
        maif_reader *r = NULL;
        int ex = cli_open_reader(path, &r);
        if (ex) return ex;
        maif_info info;
        rc = maif_reader_info(r, &info);
        uint8_t fid[MAIF_ID_BYTES];
        memcpy(fid, info.file_id, sizeof fid);
        maif_reader_close(r);
        if (rc) return cli_fail(path, rc, maif_last_errmsg());
        maif_key *key = NULL;
        if ((ex = cli_load_key(keyfile, &key))) return ex;
        rc = maif_pii_key_derive(key, NULL, 0, fid, sizeof fid, k);
        maif_key_free(key);
        if (rc) return cli_fail(path, rc, maif_last_errmsg());
        *origin = "signing-key+file-id";
    }
    rc = maif_pii_scanner_set_key(s, k);
    memset(k, 0, sizeof k);
    return rc ? cli_fail(path, rc, maif_last_errmsg()) : 0;
}

int cli_anonymize(const char *path, const char *mode_s, const char *patterns, const char *pkfile, const char *keyfile,
                  const char *text, size_t len, const char *meta, char **new_text, char **new_meta)
{
    *new_text = *new_meta = NULL;
    int mode;
    if (maif_pii_mode_parse(mode_s, &mode)) {
        cli_err(path, "--anonymize: %s", maif_last_errmsg());
        return CLI_EXIT_USAGE;
    }
    if (pkfile && mode != MAIF_PII_PSEUDO) {
        cli_err(path, "--pseudonym-key needs --anonymize pseudonymize");
        return CLI_EXIT_USAGE;
    }
    if (!maif_utf8_valid(text, len) || memchr(text, 0, len)) {
        cli_err(path, "--anonymize: the payload is not UTF-8 text (nothing added)");
        return CLI_EXIT_USAGE;
    }
    json_t *m = NULL;
    if (meta) {
        json_error_t je;
        m = json_loadb(meta, strlen(meta), JSON_REJECT_DUPLICATES, &je);
        if (!json_is_object(m)) {
            json_decref(m);
            cli_err(path, "--meta: not a JSON object");
            return CLI_EXIT_USAGE;
        }
    } else {
        m = json_object();
    }
    maif_pii_scanner *s = NULL;
    const char *origin = NULL;
    int ex = cli_pii_scanner(patterns, &s);
    if (!ex && mode == MAIF_PII_PSEUDO) ex = pseudo_key(s, path, keyfile, pkfile, &origin);
    const char *out = NULL;
    size_t olen = 0;
    int rc = 0;
    if (!ex && (rc = maif_pii_anonymize(s, text, len, mode, &out, &olen)) != MAIF_OK) {
        cli_err(path, "--anonymize: %s (nothing added)", maif_last_errmsg());
        ex = CLI_EXIT_USAGE;
    }
    if (!ex) {
        json_t *counts = json_object(), *rec = json_object();
        for (size_t i = 0;; i++) {
            const maif_pii_finding *f = maif_pii_scanner_finding(s, i);
            if (!f) break;
            json_t *c = json_object_get(counts, f->label);
            json_object_set_new(counts, f->label, json_integer(c ? json_integer_value(c) + 1 : 1));
        }
        json_object_set_new(rec, "mode", json_string(mode == MAIF_PII_REDACT ? "redact"
                                                     : mode == MAIF_PII_MASK ? "mask" : "pseudonymize"));
        json_object_set_new(rec, "found", counts);
        if (origin) json_object_set_new(rec, "key", json_string(origin));
        if (patterns) json_object_set_new(rec, "custom_patterns", json_true());
        json_object_set_new(m, "pii", rec);
        *new_meta = json_dumps(m, JSON_COMPACT | JSON_SORT_KEYS);
        *new_text = malloc(olen + 1);
        if (!*new_meta || !*new_text) {
            free(*new_meta);
            free(*new_text);
            *new_meta = *new_text = NULL;
            cli_err(path, "out of memory");
            ex = CLI_EXIT_USAGE;
        } else {
            memcpy(*new_text, out, olen + 1);
        }
    }
    json_decref(m);
    maif_pii_scanner_free(s);
    return ex;
}
