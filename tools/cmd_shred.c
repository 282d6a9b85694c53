/*
 * cmd_shred.c — `maif shred FILE BLOCK... [--punch]`: crypto-shredding of
 * blocks added with --shreddable. A signed erasure record naming them is
 * committed first; then their keys are destroyed and the keystore is
 * rewritten under a new master key; with --punch their ciphertext is
 * overwritten with zeros and its range punched out.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

#define SHRED_MAX 4096

static int run(int argc, char **argv)
{
    const char *keyfile = NULL;
    int punch = 0;
    cli_ks_token kst = {0};
    const cli_opt opts[] = {
        CLI_KS_PIN_OPT(kst),
        {"--key", CLI_VALUE, NULL, &keyfile, NULL, 0, NULL},
        {"--punch", CLI_FLAG, &punch, NULL, NULL, 0, NULL},
        {0},
    };
    static const char *pos[1 + SHRED_MAX];
    int np;
    const cli_command *me = &cli_cmd_shred;
    int pr = cli_parse(me, argc, argv, opts, pos, 2, 1 + SHRED_MAX, &np);
    if (pr == CLI_PARSE_HELP) return cli_help(me);
    if (pr != CLI_PARSE_OK) return CLI_EXIT_USAGE;
    const char *path = pos[0];
    maif_key *key = NULL;
    maif_writer *w = NULL;
    maif_reader *r = NULL;
    maif_keystore *ks = NULL;
    static uint64_t idx[SHRED_MAX];
    int ex = cli_open_reader(path, &r);
    if (ex) return ex;
    for (int i = 1; i < np; i++) {
        uint8_t id[MAIF_ID_BYTES];
        uint64_t v;
        if (strlen(pos[i]) == 2 * MAIF_ID_BYTES && maif_unhex(pos[i], id, sizeof id) == MAIF_OK) {
            if (maif_reader_find(r, id, &v) != MAIF_OK) {
                cli_err(path, "no block with id %s", pos[i]);
                ex = CLI_EXIT_USAGE;
                goto out;
            }
        } else if (!cli_parse_u64(pos[i], &v) || v >= maif_reader_count(r)) {
            ex = cli_usage_err(me, "BLOCK '%.80s' is not a block index (0..%llu) or id of FILE", pos[i],
                               (unsigned long long)maif_reader_count(r));
            goto out;
        }
        idx[i - 1] = v;
    }
    if ((ex = cli_keystore_open(path, 0, &kst, &ks))) goto out;
    if (!ks) {
        cli_err(path, "no keystore with its master key beside it: only blocks added with --shreddable can be shredded");
        ex = CLI_EXIT_USAGE;
        goto out;
    }
    if ((ex = cli_load_key(keyfile, &key)) || (ex = cli_open_writer(path, key, &w))) goto out;
    uint64_t erased = 0;
    int rc = maif_keystore_shred(ks, r, w, idx, (size_t)(np - 1), punch ? MAIF_SHRED_PUNCH : 0, &erased);
    if (rc) {
        ex = cli_fail(path, rc, cli_detail(path, maif_last_errmsg()));
        if (ex == CLI_EXIT_VERIFY) ex = CLI_EXIT_USAGE;
        goto out;
    }
    rc = maif_writer_close(w);
    w = NULL;
    if (rc) {
        ex = cli_fail(path, rc, maif_last_errmsg());
        goto out;
    }
    printf("erased %llu block%s%s; keystore master key replaced\n", (unsigned long long)erased, erased == 1 ? "" : "s",
           punch ? " (ciphertext overwritten and punched)" : "");
    ex = cli_finish(CLI_EXIT_OK);
out:
    maif_writer_close(w);
    maif_reader_close(r);
    maif_keystore_close(ks);
    maif_key_free(key);
    return ex;
}

const cli_command cli_cmd_shred = {
    "shred", run, "erase shreddable blocks for good (crypto-shredding)",
    "usage: maif shred FILE BLOCK... [--punch] [--key KEYFILE] [--keystore-pin-file F]\n"
    "\n"
    "Erases blocks added with `maif add --encrypt --shreddable` (BLOCK: an index\n"
    "or a 32-hex-digit id; at most 4096): appends and commits a signed erasure\n"
    "record (type ERAS) naming each erased block's id and content hash, then\n"
    "destroys their data keys in FILE.keystore and rewrites it under a new\n"
    "master key ($MAIF_HOME/masters/), overwriting the old master first, so\n"
    "neither FILE, the keystore, nor any copy of the keystore taken before\n"
    "opens them again. The chain stays intact: `maif verify` still passes.\n"
    "--punch      also overwrite the ciphertext with zeros and punch its range\n"
    "             out of the file (fallocate PUNCH_HOLE where the file system\n"
    "             can); `maif verify` then accepts the missing payload only\n"
    "             because the signed erasure record names it (an info finding\n"
    "             \"erased\"), and checks everything else as before. It also takes a\n"
    "             block erased before, to finish an interrupted --punch.\n"
    "What is not guaranteed (copy-on-write file systems, SSD remapping,\n"
    "snapshots, backups of $MAIF_HOME): docs/FORMAT.md §5.10. A keystore\n"
    "created with --keystore-pkcs11 (maif add) gets its new master sealed under a\n"
    "new key on its token, and the old token key is destroyed there.\n"
    CLI_KS_PIN_HELP
    "Prints: erased N blocks; keystore master key replaced\n"
    "\n"
    "exit codes: 0 erased; 1 FILE is damaged; 2 usage error, missing file, no\n"
    "keystore, a block that is not shreddable, or no PIN for a keystore on a\n"
    "token; 3 a wrong PIN or a failing token.\n",
};
