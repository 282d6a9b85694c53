/*
 * cmd_keygen.c — `maif keygen KEYFILE`: a fresh Ed25519 key pair.
 *
 * The secret file is claimed first with O_EXCL so that two concurrent runs,
 * or a file appearing between a check and the write, can never lose an
 * existing key: maif_key_save then replaces only our own placeholder.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

static int run(int argc, char **argv)
{
    const cli_opt opts[] = {{0}};
    const char *pos[1];
    int np;
    int pr = cli_parse(&cli_cmd_keygen, argc, argv, opts, pos, 1, 1, &np);
    if (pr == CLI_PARSE_HELP) return cli_help(&cli_cmd_keygen);
    if (pr != CLI_PARSE_OK) return CLI_EXIT_USAGE;
    const char *path = pos[0];
    if (strcmp(path, "-") == 0 || !*path) return cli_usage_err(&cli_cmd_keygen, "KEYFILE must be a file name");

    size_t plen = strlen(path);
    char *pub = malloc(plen + 5);
    if (!pub) {
        cli_err(path, "out of memory");
        return CLI_EXIT_USAGE;
    }
    memcpy(pub, path, plen);
    memcpy(pub + plen, ".pub", 5);
    struct stat st;
    if (lstat(pub, &st) == 0) {
        cli_err(pub, "already exists; refusing to overwrite");
        free(pub);
        return CLI_EXIT_USAGE;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        if (errno == EEXIST)
            cli_err(path, "already exists; refusing to overwrite");
        else
            cli_err(path, "cannot create: %s", strerror(errno));
        free(pub);
        return CLI_EXIT_USAGE;
    }
    close(fd);

    maif_key *key = NULL;
    int rc = maif_key_generate(&key);
    if (rc == MAIF_OK) rc = maif_key_save(key, path);
    if (rc != MAIF_OK) {
        unlink(path);
        unlink(pub);
        maif_key_free(key);
        free(pub);
        return cli_fail(path, rc, maif_last_errmsg());
    }
    uint8_t pk[MAIF_PUBKEY_BYTES];
    char hex[2 * MAIF_PUBKEY_BYTES + 1];
    maif_key_public(key, pk);
    maif_key_free(key);
    printf("wrote %s (secret, mode 0600) and %s\n", path, pub);
    printf("public key %s\n", maif_hex(pk, sizeof pk, hex));
    free(pub);
    return cli_finish(CLI_EXIT_OK);
}

const cli_command cli_cmd_keygen = {
    "keygen", run, "generate an Ed25519 key pair (KEYFILE and KEYFILE.pub)",
    "usage: maif keygen KEYFILE\n"
    "\n"
    "Generates an Ed25519 key pair. Writes the secret key to KEYFILE (mode 0600)\n"
    "and the public key to KEYFILE.pub (mode 0644), then prints both paths and\n"
    "the public key in hex. Refuses to overwrite an existing KEYFILE or\n"
    "KEYFILE.pub (exit 2).\n"
    "\n"
    "exit codes: 0 written; 2 usage error, file exists, or cannot write.\n",
};
