/*
 * cmd_create.c — `maif create FILE [--key KEYFILE] [--agent ID] [--hash sha256|blake3]`: a new,
 * empty, signed native artifact. Never replaces an existing file.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static int run(int argc, char **argv)
{
    const char *keyfile = NULL, *agent = NULL, *hash = NULL;
    cli_p11 p11 = {0};
    const cli_opt opts[] = {
        {"--key", CLI_VALUE, NULL, &keyfile, NULL, 0, NULL},
        CLI_P11_OPTS(p11),
        {"--agent", CLI_VALUE, NULL, &agent, NULL, 0, NULL},
        {"--hash", CLI_VALUE, NULL, &hash, NULL, 0, NULL},
        {0},
    };
    const char *pos[1];
    int np;
    int pr = cli_parse(&cli_cmd_create, argc, argv, opts, pos, 1, 1, &np);
    if (pr == CLI_PARSE_HELP) return cli_help(&cli_cmd_create);
    if (pr != CLI_PARSE_OK) return CLI_EXIT_USAGE;
    const char *path = pos[0];
    if (strcmp(path, "-") == 0 || !*path) return cli_usage_err(&cli_cmd_create, "FILE must be a file name");
    int alg = MAIF_HASH_SHA256;
    if (hash && maif_hash_parse(hash, &alg) != MAIF_OK) return cli_usage_err(&cli_cmd_create, "%s", maif_last_errmsg());

    maif_key *key = NULL;
    int rc = cli_load_signing_key(keyfile, &p11, &key);
    if (rc) return rc;
    maif_writer *w = NULL;
    maif_options *opt = NULL;
    rc = cli_options_durable(&opt);
    if (rc == MAIF_OK) rc = maif_options_set(opt, MAIF_OPT_CONTENT_HASH, alg);
    if (rc == MAIF_OK) rc = maif_writer_create(&w, path, key, agent, opt);
    maif_options_free(opt);
    if (rc == MAIF_EEXIST) {
        cli_err(path, "already exists; refusing to overwrite");
        maif_key_free(key);
        return CLI_EXIT_USAGE;
    }
    if (rc != MAIF_OK) {
        int ex = cli_fail(path, rc, maif_last_errmsg());
        maif_writer_close(w);
        maif_key_free(key);
        return ex;
    }
    rc = maif_writer_close(w);
    uint8_t pk[MAIF_PUBKEY_BYTES];
    char hex[2 * MAIF_PUBKEY_BYTES + 1];
    maif_key_public(key, pk);
    maif_key_free(key);
    if (rc != MAIF_OK) return cli_fail(path, rc, maif_last_errmsg());
    printf("created %s (signer %s%s)\n", path, maif_hex(pk, sizeof pk, hex), alg == MAIF_HASH_BLAKE3 ? ", content hash blake3" : "");
    return cli_finish(CLI_EXIT_OK);
}

const cli_command cli_cmd_create = {
    "create", run, "create a new, empty artifact",
    "usage: maif create FILE [--key KEYFILE] [--agent ID] [--hash sha256|blake3]\n"
    "       " CLI_P11_USAGE "\n"
    "\n"
    "Creates a new native artifact at FILE and commits its empty first batch,\n"
    "signed with KEYFILE (default: $MAIF_HOME/default.key, created on first\n"
    "use). --agent records an agent id or DID in the file header. Prints\n"
    "\"created FILE (signer HEX)\". Refuses to replace an existing FILE.\n"
    "\n"
    "--hash  the function of the blocks' content hashes, fixed for the life of\n"
    "        the artifact: sha256 (the default; sha256sum of a stored payload\n"
    "        equals its hash) or blake3 (b3sum does), about twice as fast here\n"
    "        on blocks of 8 KiB and more, so appending and verifying large\n"
    "        blocks cost less; on small records SHA-256 is as fast or faster.\n"
    "        The chain, Merkle tree and signatures stay SHA-256. Earlier maif\n"
    "        builds read blake3 artifacts but their verify rejects them.\n"
    "\n"
    CLI_P11_HELP
    "\n"
    "exit codes: 0 created; 2 usage error, FILE exists, bad key, cannot write.\n",
};
