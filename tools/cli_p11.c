/*
 * cli_p11.c — the signing key of the writing commands: a key file, or a
 * key on a PKCS#11 token (--pkcs11 MODULE --token LABEL --key-label L, the
 * PIN from --pin-file or $MAIF_PKCS11_PIN).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define PIN_MAX CLI_PIN_MAX

int cli_read_pin(const char *path, char pin[PIN_MAX + 1])
{
    int fd;
    char err[200];
    if (cli_open_input(path, &fd, err, sizeof err) != 0) {
        cli_err(path, "%s", err);
        return CLI_EXIT_USAGE;
    }
    char buf[PIN_MAX + 2];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    if (fd != 0) close(fd);
    if (n < 0) {
        cli_err(path, "cannot read the PIN file");
        return CLI_EXIT_USAGE;
    }
    buf[n] = 0;
    size_t len = strcspn(buf, "\r\n");
    if (len > PIN_MAX || len == 0) {
        memset(buf, 0, sizeof buf);
        cli_err(path, "%s", len ? "PIN over 256 bytes" : "empty PIN file");
        return CLI_EXIT_USAGE;
    }
    memcpy(pin, buf, len);
    pin[len] = 0;
    memset(buf, 0, sizeof buf);
    return 0;
}

int cli_load_signing_key(const char *keyfile, const cli_p11 *p, maif_key **out)
{
    *out = NULL;
    if (!p->module) {
        if (p->token || p->label || p->pin_file) {
            cli_err("pkcs11", "--token, --key-label and --pin-file go with --pkcs11 MODULE");
            return CLI_EXIT_USAGE;
        }
        return cli_load_key(keyfile, out);
    }
    if (keyfile) {
        cli_err("pkcs11", "--key and --pkcs11 are exclusive: the key is either a file or on the token");
        return CLI_EXIT_USAGE;
    }
    if (!p->token || !p->label) {
        cli_err("pkcs11", "--pkcs11 needs --token LABEL and --key-label L");
        return CLI_EXIT_USAGE;
    }
    char pin[PIN_MAX + 1];
    if (p->pin_file) {
        int ex = cli_read_pin(p->pin_file, pin);
        if (ex) return ex;
    } else {
        const char *e = getenv("MAIF_PKCS11_PIN");
        if (!e || !*e || strlen(e) > PIN_MAX) {
            cli_err("pkcs11", "no PIN: give --pin-file F or set MAIF_PKCS11_PIN");
            return CLI_EXIT_USAGE;
        }
        snprintf(pin, sizeof pin, "%s", e);
    }
    int rc = maif_key_from_pkcs11(out, p->module, p->token, p->label, pin);
    memset(pin, 0, sizeof pin);
    if (rc == MAIF_OK) return 0;
    cli_err(p->module, "%s", cli_detail(p->module, maif_last_errmsg()));
    return rc == MAIF_ENOTFOUND || rc == MAIF_EINVAL ? CLI_EXIT_USAGE : CLI_EXIT_ACCESS;
}
