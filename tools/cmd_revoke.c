/*
 * cmd_revoke.c — `maif revoke FILE --recipient PUB`: a signed revocation
 * in the audit trail. Blocks added afterwards are never wrapped for PUB;
 * `maif rotate` removes it from the current key wraps.
 */
#include <stdio.h>

#include "cli.h"

static int run(int argc, char **argv)
{
    const char *rcpt = NULL, *keyfile = NULL;
    const cli_opt opts[] = {
        {"--recipient", CLI_VALUE, NULL, &rcpt, NULL, 0, NULL},
        {"--key", CLI_VALUE, NULL, &keyfile, NULL, 0, NULL},
        {0},
    };
    const char *pos[1];
    int np;
    const cli_command *me = &cli_cmd_revoke;
    int pr = cli_parse(me, argc, argv, opts, pos, 1, 1, &np);
    if (pr == CLI_PARSE_HELP) return cli_help(me);
    if (pr != CLI_PARSE_OK) return CLI_EXIT_USAGE;
    if (!rcpt) return cli_usage_err(me, "missing --recipient PUB");
    const char *path = pos[0];
    uint8_t pk[MAIF_PUBKEY_BYTES];
    int rc = maif_pubkey_load(rcpt, pk);
    if (rc) {
        cli_err(rcpt, "%s", rc == MAIF_ENOTFOUND ? "no such key file" : "not a maif key file");
        return CLI_EXIT_USAGE;
    }
    maif_key *key = NULL;
    maif_writer *w = NULL;
    int ex = cli_load_key(keyfile, &key);
    if (!ex) ex = cli_open_writer(path, key, &w);
    if (ex) goto out;
    char hex[2 * MAIF_PUBKEY_BYTES + 1];
    json_t *f = json_object();
    json_object_set_new(f, "recipient", json_string(maif_hex(pk, sizeof pk, hex)));
    ex = cli_priv_audit(path, w, "revoke", f);
    json_decref(f);
    if (!ex) ex = cli_priv_commit(path, w);
    if (ex) goto out;
    rc = maif_writer_close(w);
    w = NULL;
    if (rc) {
        ex = cli_fail(path, rc, maif_last_errmsg());
        goto out;
    }
    printf("revoked %s; run `maif rotate` to drop it from the current key wraps\n", hex);
    ex = cli_finish(CLI_EXIT_OK);
out:
    maif_writer_close(w);
    maif_key_free(key);
    return ex;
}

const cli_command cli_cmd_revoke = {
    "revoke", run, "revoke a recipient",
    "usage: maif revoke FILE --recipient PUB [--key KEYFILE]\n"
    "\n"
    "Records a signed audit block {\"action\":\"revoke\",\"recipient\":HEX} in FILE.\n"
    "Blocks encrypted afterwards (maif add --encrypt) are never wrapped for PUB,\n"
    "even when named with --recipient (exit 3). `maif rotate` then re-wraps the\n"
    "existing data keys without it. What PUB can still open: every block sealed\n"
    "before the revocation, from any copy of FILE (the old key-wrap blocks stay\n"
    "in the append-only log, and payloads are not re-encrypted); only blocks\n"
    "added with --shreddable can be closed for good, by `maif shred`.\n"
    "\n"
    "exit codes: 0 revoked; 1 FILE is damaged; 2 usage error, missing file or key.\n",
};
