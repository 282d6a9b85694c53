/*
 * privacy_cli.c — what `maif add --encrypt` and `maif cat --identity /
 * --passphrase-file` share: building a keyring from key files and a
 * passphrase file, and reading a whole payload (sealing needs it in
 * memory: there is no chunked form yet).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

#define PASS_FILE_MAX 1024

int cli_cipher_parse(const char *name)
{
    if (!strcmp(name, "xchacha20")) return MAIF_CIPHER_XCHACHA20;
    if (!strcmp(name, "chacha20")) return MAIF_CIPHER_CHACHA20;
    if (!strcmp(name, "aes256gcm")) return MAIF_CIPHER_AES256GCM;
    return 0;
}

/* The passphrase: the file's bytes less one trailing newline (\n or \r\n). */
static int add_passfile(maif_keyring *kr, const char *file)
{
    int fd = open(file, O_RDONLY | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        cli_err(file, "%s", errno == ENOENT ? "no such passphrase file" : strerror(errno));
        return CLI_EXIT_USAGE;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        cli_err(file, "not a regular file");
        close(fd);
        return CLI_EXIT_USAGE;
    }
    char buf[PASS_FILE_MAX + 3];
    size_t n = 0;
    ssize_t got;
    while (n < sizeof buf && (got = read(fd, buf + n, sizeof buf - n)) > 0) n += (size_t)got;
    close(fd);
    if (n && buf[n - 1] == '\n') n--;
    if (n && buf[n - 1] == '\r') n--;
    int rc = MAIF_OK;
    if (n == 0 || n > PASS_FILE_MAX) rc = MAIF_EINVAL;
    else rc = maif_keyring_add_passphrase(kr, buf, n, MAIF_KDF_ARGON2ID);
    explicit_bzero(buf, sizeof buf); /* not elided, unlike a memset of a dying buffer */
    if (rc) {
        cli_err(file, "a passphrase file holds 1 to %d bytes (one trailing newline is dropped)", PASS_FILE_MAX);
        return CLI_EXIT_USAGE;
    }
    return 0;
}

int cli_keyring_for_writing(const char *artifact, const char *const *rcpts, size_t n, const char *passfile,
                            const maif_key *self, maif_keyring **out)
{
    *out = NULL;
    maif_keyring *kr = NULL;
    if (maif_keyring_create(&kr)) {
        cli_err("keyring", "%s", maif_last_errmsg());
        return CLI_EXIT_USAGE;
    }
    if (artifact) { /* grants and revocations first: a revoked key is then refused below */
        maif_reader *r = NULL;
        int ex = cli_open_reader(artifact, &r);
        if (!ex && maif_keyring_follow(kr, r) != MAIF_OK) ex = cli_fail(artifact, MAIF_ELIMIT, maif_last_errmsg());
        maif_reader_close(r);
        if (ex) {
            maif_keyring_free(kr);
            return ex;
        }
    }
    for (size_t i = 0; i < n; i++) {
        uint8_t pk[MAIF_PUBKEY_BYTES];
        int alg = 0;
        int rc = maif_pubkey_load_alg(rcpts[i], pk, &alg);
        if (rc == MAIF_OK && alg != MAIF_SIG_ED25519) {
            cli_err(rcpts[i], "a %s key cannot be a recipient: only Ed25519 keys encrypt (X25519 form)",
                    maif_sig_alg_name(alg));
            maif_keyring_free(kr);
            return CLI_EXIT_USAGE;
        }
        if (rc == MAIF_OK) rc = maif_keyring_add_recipient(kr, pk);
        if (rc) {
            cli_err(rcpts[i], "%s", rc == MAIF_ENOTFOUND ? "no such key file"
                                    : rc == MAIF_EKEY    ? "not a maif key file"
                                    : rc == MAIF_EACCESS ? "this recipient was revoked in the artifact (access denied)"
                                                         : cli_detail(rcpts[i], maif_last_errmsg()));
            maif_keyring_free(kr);
            return rc == MAIF_EACCESS ? CLI_EXIT_ACCESS : CLI_EXIT_USAGE;
        }
    }
    if (passfile) {
        int ex = add_passfile(kr, passfile);
        if (ex) {
            maif_keyring_free(kr);
            return ex;
        }
    }
    if (n == 0 && !passfile) { /* no one named: the signer encrypts for itself */
        uint8_t pk[MAIF_PUBKEY_BYTES];
        if (maif_key_is_hardware(self)) {
            cli_err("key", "a key on a PKCS#11 token cannot be a recipient here (its secret stays on the token); "
                    "name an Ed25519 --recipient or a --passphrase-file");
            maif_keyring_free(kr);
            return CLI_EXIT_ACCESS;
        }
        if (maif_key_alg(self) != MAIF_SIG_ED25519) {
            cli_err("key", "a %s key cannot be a recipient: only Ed25519 keys encrypt; name an Ed25519 --recipient "
                    "or a --passphrase-file", maif_sig_alg_name(maif_key_alg(self)));
            maif_keyring_free(kr);
            return CLI_EXIT_ACCESS;
        }
        maif_key_public(self, pk);
        int rc = maif_keyring_add_recipient(kr, pk);
        if (rc) {
            cli_err("key", "%s", rc == MAIF_EACCESS ? "the signing key was revoked in the artifact (access denied)"
                                                    : maif_last_errmsg());
            maif_keyring_free(kr);
            return rc == MAIF_EACCESS ? CLI_EXIT_ACCESS : CLI_EXIT_USAGE;
        }
    }
    *out = kr;
    return 0;
}

int cli_keyring_for_reading(const char *identity, const char *passfile, maif_keyring **out)
{
    *out = NULL;
    maif_keyring *kr = NULL;
    if (maif_keyring_create(&kr)) {
        cli_err("keyring", "%s", maif_last_errmsg());
        return CLI_EXIT_USAGE;
    }
    int ex = 0;
    if (identity) {
        maif_key *k = NULL;
        ex = cli_load_key(identity, &k);
        if (!ex && maif_keyring_add_identity(kr, k)) {
            cli_err(identity, "%s", maif_last_errmsg());
            ex = CLI_EXIT_USAGE;
        }
        maif_key_free(k);
    }
    if (!ex && passfile) ex = add_passfile(kr, passfile);
    if (ex) {
        maif_keyring_free(kr);
        return ex;
    }
    *out = kr;
    return 0;
}

int cli_read_all(cli_fd_src *src, uint64_t limit, uint8_t **out, size_t *n)
{
    size_t cap = 1 << 16, len = 0;
    uint8_t *buf = malloc(cap);
    if (!buf) return MAIF_ENOMEM;
    for (;;) {
        if (len == cap) {
            if ((uint64_t)cap > limit) break;
            uint8_t *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                return MAIF_ENOMEM;
            }
            buf = nb;
            cap *= 2;
        }
        int64_t got = cli_fd_read(src, buf + len, cap - len);
        if (got < 0) {
            free(buf);
            return MAIF_EIO;
        }
        if (got == 0) break;
        len += (size_t)got;
    }
    if ((uint64_t)len > limit) {
        free(buf);
        return MAIF_ELIMIT;
    }
    *out = buf;
    *n = len;
    return MAIF_OK;
}

int cli_read_file(const char *path, uint64_t limit, const char *over, uint8_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    int fd;
    char err[200];
    if (cli_open_input(path, &fd, err, sizeof err) != 0) {
        cli_err(path, "%s", err);
        return CLI_EXIT_USAGE;
    }
    cli_fd_src src = {fd, 0};
    int rc = cli_read_all(&src, limit, out, n);
    if (fd != 0) close(fd);
    if (rc) {
        cli_err(path, "%s", rc == MAIF_ELIMIT ? over : "cannot read");
        return CLI_EXIT_USAGE;
    }
    return 0;
}

int cli_commit_close(const char *path, maif_writer *w, int ex)
{
    int rc;
    if (!ex && w && (rc = maif_writer_commit(w)) != MAIF_OK) {
        ex = cli_fail(path, rc, maif_writer_errmsg(w));
        if (ex == CLI_EXIT_VERIFY) ex = CLI_EXIT_USAGE;
    }
    if (w) {
        rc = maif_writer_close(w);
        if (!ex && rc) ex = cli_fail(path, rc, maif_last_errmsg());
    }
    return ex;
}

/* ---- grant, revoke, rotate: shared steps */

int cli_priv_rewrap(const char *path, maif_writer *w, const maif_key *key, const char *identity, const char *passfile,
                    uint64_t *done, uint64_t *unopened)
{
    maif_keyring *kr = NULL;
    maif_reader *r = NULL;
    int ex = cli_keyring_for_reading(identity, passfile, &kr);
    if (ex) return ex;
    int rc = maif_keyring_add_identity(kr, key);
    if (!rc && (ex = cli_open_reader(path, &r))) goto out;
    if (!rc) rc = maif_keyring_follow(kr, r);
    uint8_t pk[MAIF_PUBKEY_BYTES];
    maif_key_public(key, pk);
    if (!rc) {
        rc = maif_keyring_add_recipient(kr, pk); /* the actor keeps access, unless it was revoked */
        if (rc == MAIF_EACCESS) rc = MAIF_OK;
    }
    if (!rc) rc = maif_keyring_rewrap(kr, r, w, done, unopened);
    if (rc) ex = cli_fail(path, rc, cli_detail(path, maif_last_errmsg()));
out:
    maif_reader_close(r);
    maif_keyring_free(kr);
    return ex;
}

int cli_priv_commit(const char *path, maif_writer *w)
{
    int rc = maif_writer_commit(w);
    if (rc) {
        int ex = cli_fail(path, rc, cli_detail(path, maif_writer_errmsg(w)));
        return ex == CLI_EXIT_VERIFY ? CLI_EXIT_USAGE : ex;
    }
    return 0;
}

int cli_priv_audit(const char *path, maif_writer *w, const char *action, json_t *fields)
{
    char *s = fields ? json_dumps(fields, JSON_COMPACT) : NULL;
    int rc = maif_writer_audit(w, action, s, s ? strlen(s) : 0, NULL);
    free(s);
    if (rc) return cli_fail(path, rc, cli_detail(path, maif_writer_errmsg(w)));
    return 0;
}

/* ---- the keystore of shreddable blocks */

int cli_keystore_paths(const char *path, const uint8_t file_id[MAIF_ID_BYTES], char *ks, char *master, size_t cap)
{
    const char *home = getenv("MAIF_HOME");
    char dflt[4096];
    if (!home || !*home) {
        const char *h = getenv("HOME");
        if (!h || !*h) {
            cli_err(path, "neither MAIF_HOME nor HOME is set: no place for the keystore's master key");
            return CLI_EXIT_USAGE;
        }
        snprintf(dflt, sizeof dflt, "%s/.maif", h);
        home = dflt;
    }
    char hex[2 * MAIF_ID_BYTES + 1];
    maif_hex(file_id, MAIF_ID_BYTES, hex);
    if ((size_t)snprintf(ks, cap, "%s.keystore", path) >= cap ||
        (size_t)snprintf(master, cap, "%s/masters/%s.master", home, hex) >= cap) {
        cli_err(path, "path too long");
        return CLI_EXIT_USAGE;
    }
    return 0;
}

int cli_keystore_open(const char *path, int create, const cli_ks_token *t, maif_keystore **out)
{
    *out = NULL;
    const char *module = t ? t->module : NULL, *token = t ? t->token : NULL;
    if (!module != !token) {
        cli_err(path, "--keystore-pkcs11 MODULE and --keystore-token LABEL go together");
        return CLI_EXIT_USAGE;
    }
    if (module && !create) {
        cli_err(path, "--keystore-pkcs11 chooses where a new keystore's master key goes (maif add --shreddable)");
        return CLI_EXIT_USAGE;
    }
    maif_reader *r = NULL;
    int ex = cli_open_reader(path, &r);
    if (ex) return ex;
    maif_info info;
    int rc = maif_reader_info(r, &info);
    uint8_t fid[MAIF_ID_BYTES];
    memcpy(fid, info.file_id, sizeof fid);
    maif_reader_close(r);
    if (rc) return cli_fail(path, rc, maif_last_errmsg());
    char ks[4200], master[4200];
    if ((ex = cli_keystore_paths(path, fid, ks, master, sizeof ks))) return ex;
    int exists = access(ks, F_OK) == 0;
    if (!create && !exists) return 0;
    if (module && exists) {
        cli_err(ks, "exists: its master key stays where it was put when it was created (drop --keystore-pkcs11 "
                    "and --keystore-token)");
        return CLI_EXIT_USAGE;
    }
    char pin[CLI_PIN_MAX + 1] = "";
    const char *env = getenv("MAIF_KEYSTORE_PIN");
    if (t && t->pin_file) {
        if ((ex = cli_read_pin(t->pin_file, pin))) return ex;
    } else if (env && *env) {
        if (strlen(env) > CLI_PIN_MAX) {
            cli_err(path, "$MAIF_KEYSTORE_PIN is over 256 bytes");
            return CLI_EXIT_USAGE;
        }
        snprintf(pin, sizeof pin, "%s", env);
    }
    if (module && !*pin) {
        cli_err(path, "no PIN for token '%s': give --keystore-pin-file F or set MAIF_KEYSTORE_PIN", token);
        return CLI_EXIT_USAGE;
    }
    if (create) { /* the masters directory, private to the key holder */
        char dir[4200];
        snprintf(dir, sizeof dir, "%s", master);
        char *slash = strrchr(dir, '/');
        if (slash) {
            *slash = 0;
            char *up = strrchr(dir, '/');
            if (up) {
                *up = 0;
                (void)mkdir(dir, 0700);
                *up = '/';
            }
            (void)mkdir(dir, 0700);
        }
    }
    maif_keystore_token tok = {module, token, *pin ? pin : NULL};
    rc = maif_keystore_open_token(out, ks, master, &tok, create);
    memset(pin, 0, sizeof pin);
    if (rc == MAIF_EKEY && !create) return 0; /* its master is gone: it opens nothing */
    if (rc) {
        cli_err(ks, "%s%s", cli_detail(ks, maif_last_errmsg()),
                rc == MAIF_EACCESS && !tok.pin ? " (give --keystore-pin-file F or set MAIF_KEYSTORE_PIN)" : "");
        if (rc == MAIF_EFORMAT || rc == MAIF_EVERIFY) return CLI_EXIT_VERIFY;
        if (rc == MAIF_EACCESS) return tok.pin ? CLI_EXIT_ACCESS : CLI_EXIT_USAGE;
        return rc == MAIF_EKEY && module ? CLI_EXIT_ACCESS : CLI_EXIT_USAGE;
    }
    return 0;
}

int cli_keystore_rotate(const char *path, const cli_ks_token *t, int *rotated)
{
    *rotated = 0;
    maif_keystore *ks = NULL;
    int ex = cli_keystore_open(path, 0, t, &ks);
    if (ex || !ks) return ex;
    int rc = maif_keystore_rekey(ks);
    maif_keystore_close(ks);
    if (rc) return cli_fail(path, rc, maif_last_errmsg());
    *rotated = 1;
    return 0;
}
