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
    memset(buf, 0, sizeof buf);
    if (rc) {
        cli_err(file, "a passphrase file holds 1 to %d bytes (one trailing newline is dropped)", PASS_FILE_MAX);
        return CLI_EXIT_USAGE;
    }
    return 0;
}

int cli_keyring_for_writing(const char *const *rcpts, size_t n, const char *passfile, const maif_key *self,
                            maif_keyring **out)
{
    *out = NULL;
    maif_keyring *kr = NULL;
    if (maif_keyring_create(&kr)) {
        cli_err("keyring", "%s", maif_last_errmsg());
        return CLI_EXIT_USAGE;
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
                                                         : cli_detail(rcpts[i], maif_last_errmsg()));
            maif_keyring_free(kr);
            return CLI_EXIT_USAGE;
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
        if (maif_keyring_add_recipient(kr, pk)) {
            cli_err("key", "%s", maif_last_errmsg());
            maif_keyring_free(kr);
            return CLI_EXIT_USAGE;
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
