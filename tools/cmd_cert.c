/*
 * cmd_cert.c — `maif cert FILE CHAIN.pem [--key KEYFILE]`: attaches the
 * signer's certificate chain to an artifact as a chain block and commits
 * it, signed with the key the chain certifies (docs/IDENTITIES.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define CHAIN_FILE_MAX (256u << 10)

static int run(int argc, char **argv)
{
    const char *keyfile = NULL;
    const cli_opt opts[] = {
        {"--key", CLI_VALUE, NULL, &keyfile, NULL, 0, NULL},
        {0},
    };
    const char *pos[2];
    int np;
    int pr = cli_parse(&cli_cmd_cert, argc, argv, opts, pos, 2, 2, &np);
    if (pr == CLI_PARSE_HELP) return cli_help(&cli_cmd_cert);
    if (pr != CLI_PARSE_OK) return CLI_EXIT_USAGE;
    const char *path = pos[0], *chain_path = pos[1];
    uint8_t *chain = NULL;
    size_t n = 0;
    int rc, ex = cli_read_file(chain_path, CHAIN_FILE_MAX, "over 256 KiB; not a certificate chain", &chain, &n);
    if (ex) return ex;
    maif_key *key = NULL;
    maif_writer *w = NULL;
    ex = cli_load_key(keyfile, &key);
    if (!ex) ex = cli_open_writer(path, key, &w);
    uint8_t id[MAIF_ID_BYTES];
    uint64_t index = w ? maif_writer_count(w) : 0;
    if (!ex) {
        rc = maif_writer_add_chain(w, chain, n, id);
        if (rc == MAIF_EFORMAT || rc == MAIF_ELIMIT || rc == MAIF_EKEY) {
            cli_err(chain_path, "%s", maif_last_errmsg());
            ex = CLI_EXIT_USAGE;
        } else if (rc) {
            ex = cli_fail(path, rc, maif_writer_errmsg(w));
        }
    }
    ex = cli_commit_close(path, w, ex);
    maif_key_free(key);
    free(chain);
    if (ex) return ex;
    char hex[2 * MAIF_ID_BYTES + 1];
    printf("%llu %s\n", (unsigned long long)index, maif_hex(id, MAIF_ID_BYTES, hex));
    return cli_finish(CLI_EXIT_OK);
}

const cli_command cli_cmd_cert = {
    "cert", run, "attach the signer's certificate chain",
    "usage: maif cert FILE CHAIN [--key KEYFILE]\n"
    "\n"
    "Attaches the certificate chain in CHAIN (PEM, or DER certificates back to\n"
    "back; leaf first, then intermediates; at most 16 certificates, 256 KiB)\n"
    "to the native artifact FILE as a block of type X5CH, and commits it\n"
    "signed with KEYFILE (default: the default key). The leaf certificate must\n"
    "be for that key: the commit binds the chain to its signer. Prints the\n"
    "block's index and id. `maif verify FILE --ca ROOT.pem` then checks every\n"
    "signer's chain.\n"
    "\n"
    "exit codes: 0 attached; 2 usage error, unreadable or malformed chain, a\n"
    "chain over the limits, a leaf for another key, bad key, cannot write.\n",
};
