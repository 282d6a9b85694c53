/*
 * cmd_rotate.c — `maif rotate FILE`: re-wraps every data key for the
 * current recipients (granted and not revoked, and the signing key), in
 * new key-wrap blocks superseding the old; payloads are not re-encrypted.
 * A keystore beside FILE (shreddable blocks) gets a new master key.
 */
#include <stdio.h>

#include "cli.h"

static int run(int argc, char **argv)
{
    const char *keyfile = NULL, *identity = NULL, *passfile = NULL;
    cli_ks_token kst = {0};
    const cli_opt opts[] = {
        CLI_KS_PIN_OPT(kst),
        {"--key", CLI_VALUE, NULL, &keyfile, NULL, 0, NULL},
        {"--identity", CLI_VALUE, NULL, &identity, NULL, 0, NULL},
        {"--passphrase-file", CLI_VALUE, NULL, &passfile, NULL, 0, NULL},
        {0},
    };
    const char *pos[1];
    int np;
    const cli_command *me = &cli_cmd_rotate;
    int pr = cli_parse(me, argc, argv, opts, pos, 1, 1, &np);
    if (pr == CLI_PARSE_HELP) return cli_help(me);
    if (pr != CLI_PARSE_OK) return CLI_EXIT_USAGE;
    const char *path = pos[0];
    maif_key *key = NULL;
    maif_writer *w = NULL;
    int ex = cli_load_key(keyfile, &key);
    if (!ex) ex = cli_open_writer(path, key, &w);
    if (ex) goto out;
    uint64_t done = 0, unopened = 0;
    ex = cli_priv_rewrap(path, w, key, identity, passfile, &done, &unopened);
    int master = 0;
    if (!ex) ex = cli_keystore_rotate(path, &kst, &master);
    if (!ex) {
        json_t *f = json_object();
        json_object_set_new(f, "rewrapped", json_integer((json_int_t)done));
        json_object_set_new(f, "unopened", json_integer((json_int_t)unopened));
        if (master) json_object_set_new(f, "keystore_master", json_string("replaced"));
        ex = cli_priv_audit(path, w, "rotate", f);
        json_decref(f);
    }
    if (!ex) ex = cli_priv_commit(path, w);
    if (ex) goto out;
    int rc = maif_writer_close(w);
    w = NULL;
    if (rc) {
        ex = cli_fail(path, rc, maif_last_errmsg());
        goto out;
    }
    printf("rotated: %llu data keys re-wrapped, %llu not opened by this key%s\n", (unsigned long long)done,
           (unsigned long long)unopened, master ? "; keystore master key replaced" : "");
    ex = cli_finish(CLI_EXIT_OK);
out:
    maif_writer_close(w);
    maif_key_free(key);
    return ex;
}

const cli_command cli_cmd_rotate = {
    "rotate", run, "re-wrap every data key for the current recipients",
    "usage: maif rotate FILE [--key KEYFILE] [--identity KEY] [--passphrase-file F]\n"
    "                   [--keystore-pin-file F]\n"
    "\n"
    "Re-wraps every data key of FILE that KEYFILE (the signing key, default: the\n"
    "default key), --identity KEY or the passphrase in F opens, for the\n"
    "recipients granted and not revoked (maif grant / revoke) and KEYFILE\n"
    "itself: new key-wrap blocks, with fresh ephemeral keys, supersede the old\n"
    "ones; payloads are not re-encrypted. If FILE has a keystore (blocks added\n"
    "with --shreddable), its master key is replaced, so older copies of the\n"
    "keystore open nothing (on a token, maif add --keystore-pkcs11: the old token\n"
    "key is destroyed there). Records a signed audit block {\"action\":\"rotate\"}.\n"
    CLI_KS_PIN_HELP
    "Prints: rotated: N data keys re-wrapped, M not opened by this key\n"
    "\n"
    "A revoked recipient can still open, from any copy of FILE, the blocks\n"
    "sealed before its revocation (see `maif revoke --help`).\n"
    "\n"
    "exit codes: 0 rotated; 1 FILE is damaged; 2 usage error, missing file or key,\n"
    "no PIN for a keystore on a token; 3 a wrong PIN or a failing token.\n",
};
