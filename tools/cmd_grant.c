/*
 * cmd_grant.c — `maif grant FILE --recipient PUB [--role R]`: records a
 * signed grant in the artifact's audit trail, then re-wraps every data
 * key the granting key can open so the new recipient can read what is
 * already there; later `maif add --encrypt` wraps for it too.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static int run(int argc, char **argv)
{
    const char *rcpt = NULL, *role = NULL, *keyfile = NULL, *identity = NULL, *passfile = NULL;
    const cli_opt opts[] = {
        {"--recipient", CLI_VALUE, NULL, &rcpt, NULL, 0, NULL},
        {"--role", CLI_VALUE, NULL, &role, NULL, 0, NULL},
        {"--key", CLI_VALUE, NULL, &keyfile, NULL, 0, NULL},
        {"--identity", CLI_VALUE, NULL, &identity, NULL, 0, NULL},
        {"--passphrase-file", CLI_VALUE, NULL, &passfile, NULL, 0, NULL},
        {0},
    };
    const char *pos[1];
    int np;
    const cli_command *me = &cli_cmd_grant;
    int pr = cli_parse(me, argc, argv, opts, pos, 1, 1, &np);
    if (pr == CLI_PARSE_HELP) return cli_help(me);
    if (pr != CLI_PARSE_OK) return CLI_EXIT_USAGE;
    if (!rcpt) return cli_usage_err(me, "missing --recipient PUB");
    if (role) {
        size_t n = strlen(role);
        int ok = n > 0 && n <= 32;
        for (size_t i = 0; i < n && ok; i++)
            ok = (role[i] >= 'a' && role[i] <= 'z') || (role[i] >= '0' && role[i] <= '9') || role[i] == '-' ||
                 role[i] == '_';
        if (!ok) return cli_usage_err(me, "--role: 1 to 32 of a-z, 0-9, '-' and '_'");
    }
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
    json_object_set_new(f, "role", json_string(role ? role : "reader"));
    ex = cli_priv_audit(path, w, "grant", f);
    json_decref(f);
    if (!ex) ex = cli_priv_commit(path, w); /* the grant first: the re-wrap below follows it */
    uint64_t done = 0, unopened = 0;
    if (!ex) ex = cli_priv_rewrap(path, w, key, identity, passfile, &done, &unopened);
    if (!ex) ex = cli_priv_commit(path, w);
    if (ex) goto out;
    rc = maif_writer_close(w);
    w = NULL;
    if (rc) {
        ex = cli_fail(path, rc, maif_last_errmsg());
        goto out;
    }
    printf("granted %s (role %s); %llu data keys re-wrapped, %llu not opened by this key\n", hex,
           role ? role : "reader", (unsigned long long)done, (unsigned long long)unopened);
    ex = cli_finish(CLI_EXIT_OK);
out:
    maif_writer_close(w);
    maif_key_free(key);
    return ex;
}

const cli_command cli_cmd_grant = {
    "grant", run, "grant a recipient access to an encrypted artifact",
    "usage: maif grant FILE --recipient PUB [--role R] [--key KEYFILE]\n"
    "                  [--identity KEY] [--passphrase-file F]\n"
    "\n"
    "Records a signed audit block {\"action\":\"grant\",\"recipient\":HEX,\"role\":R}\n"
    "(role default: reader) in FILE, then re-wraps every data key that KEYFILE\n"
    "(the signing key, default: the default key), --identity KEY or the\n"
    "passphrase in F opens, for the granted recipients and KEYFILE itself: new\n"
    "key-wrap blocks superseding the old ones (payloads are not re-encrypted).\n"
    "Later `maif add --encrypt` also wraps for PUB, until `maif revoke`.\n"
    "Prints: granted HEX (role R); N data keys re-wrapped, M not opened by this key\n"
    "\n"
    "exit codes: 0 granted; 1 FILE is damaged; 2 usage error, missing file or\n"
    "key; 3 access denied.\n",
};
