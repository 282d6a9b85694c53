/*
 * cmd_keygen.c — `maif keygen [--alg ed25519|rsa-pss|p256] [--bits N]
 * KEYFILE`: a fresh key pair (Ed25519 by default).
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
    const char *alg_s = NULL, *bits_s = NULL;
    const cli_opt opts[] = {
        {"--alg", CLI_VALUE, NULL, &alg_s, NULL, 0, NULL},
        {"--bits", CLI_VALUE, NULL, &bits_s, NULL, 0, NULL},
        {0},
    };
    const char *pos[1];
    int np;
    int pr = cli_parse(&cli_cmd_keygen, argc, argv, opts, pos, 1, 1, &np);
    if (pr == CLI_PARSE_HELP) return cli_help(&cli_cmd_keygen);
    if (pr != CLI_PARSE_OK) return CLI_EXIT_USAGE;
    const char *path = pos[0];
    if (strcmp(path, "-") == 0 || !*path) return cli_usage_err(&cli_cmd_keygen, "KEYFILE must be a file name");
    int alg = MAIF_SIG_ED25519;
    if (alg_s) {
        if (strcmp(alg_s, "ed25519") == 0) alg = MAIF_SIG_ED25519;
        else if (strcmp(alg_s, "rsa-pss") == 0) alg = MAIF_SIG_RSA_PSS;
        else if (strcmp(alg_s, "p256") == 0) alg = MAIF_SIG_P256;
        else return cli_usage_err(&cli_cmd_keygen, "--alg must be ed25519, rsa-pss or p256");
    }
    uint64_t bits = 0;
    if (bits_s && (alg != MAIF_SIG_RSA_PSS || !cli_parse_u64(bits_s, &bits) || bits < 2048 || bits > 8192 || bits % 8))
        return cli_usage_err(&cli_cmd_keygen, "--bits applies to rsa-pss only: 2048..8192, a multiple of 8");

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
    int rc = maif_key_generate_alg(&key, alg, (unsigned)bits);
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
    if (alg == MAIF_SIG_ED25519)
        printf("public key %s\n", maif_hex(pk, sizeof pk, hex));
    else
        printf("%s key, signer id %s (SHA-256 of the public key)\n", maif_sig_alg_name(alg),
               maif_hex(pk, sizeof pk, hex));
    free(pub);
    return cli_finish(CLI_EXIT_OK);
}

const cli_command cli_cmd_keygen = {
    "keygen", run, "generate a key pair (KEYFILE and KEYFILE.pub)",
    "usage: maif keygen [--alg ed25519|rsa-pss|p256] [--bits N] KEYFILE\n"
    "\n"
    "Generates a signing key pair. Writes the secret key to KEYFILE (mode 0600)\n"
    "and the public key to KEYFILE.pub (mode 0644), then prints both paths and\n"
    "the public key in hex (for rsa-pss and p256: the signer id, SHA-256 of the\n"
    "DER public key, which commits and --pubkey pinning use). Refuses to\n"
    "overwrite an existing KEYFILE or KEYFILE.pub (exit 2).\n"
    "--alg     ed25519 (default; one-line maif key files, and the only kind\n"
    "          that can also decrypt), rsa-pss (RSA-PSS, SHA-256, salt 32) or\n"
    "          p256 (ECDSA P-256, SHA-256); rsa-pss and p256 keys are PEM\n"
    "          (PKCS#8 PRIVATE KEY, and PUBLIC KEY in the .pub).\n"
    "--bits N  RSA modulus size, 2048..8192 (default 3072); rsa-pss only.\n"
    "\n"
    "exit codes: 0 written; 2 usage error, file exists, or cannot write.\n",
};
