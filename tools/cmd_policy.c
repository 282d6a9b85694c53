/*
 * cmd_policy.c — `maif policy FILE (--set POLICY.json | --show)`: the
 * artifact's access policy, a signed control block (type POLY) that each
 * new one supersedes; and the policy checks `maif add` and `maif cat`
 * run (cli_policy_check, cli_policy_for_add).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

/* r's current policy: 0 with *out NULL when there is none; else an exit
 * code after one line. */
static int current_policy(const char *path, maif_reader *r, maif_policy **out, uint64_t *index)
{
    *out = NULL;
    int rc = maif_reader_policy(r, out, index);
    if (rc == MAIF_ENOTFOUND) return 0;
    if (rc) return cli_fail(path, rc, maif_reader_errmsg(r));
    return 0;
}

int cli_policy_load(const char *path, maif_policy **out)
{
    *out = NULL;
    maif_reader *r = NULL;
    int ex = cli_open_reader(path, &r);
    if (ex) return ex;
    ex = current_policy(path, r, out, NULL);
    maif_reader_close(r);
    return ex;
}

int cli_policy_check(const char *path, maif_reader *r, uint64_t index, const char *identity, const char *purpose,
                     int audited)
{
    maif_policy *p = NULL;
    int ex = current_policy(path, r, &p, NULL);
    if (ex || !p) return ex;
    maif_policy_free(p);
    maif_key *k = NULL;
    if ((ex = cli_load_key(identity, &k))) return ex;
    uint8_t pk[MAIF_PUBKEY_BYTES];
    maif_key_public(k, pk);
    maif_key_free(k);
    int rc = maif_reader_check_access(r, index, pk, purpose, audited);
    if (rc == MAIF_EACCESS) {
        cli_err(path, "block %llu: %s", (unsigned long long)index, cli_detail(path, maif_reader_errmsg(r)));
        return CLI_EXIT_ACCESS;
    }
    if (rc) return cli_fail(path, rc, maif_reader_errmsg(r));
    return 0;
}

int cli_policy_for_add(const char *path, const maif_block_spec *spec, int cipher, const maif_key *key,
                       maif_keyring *kr)
{
    maif_reader *r = NULL;
    int ex = cli_open_reader(path, &r);
    if (ex) return ex;
    maif_policy *p = NULL;
    ex = current_policy(path, r, &p, NULL);
    maif_reader_close(r);
    if (ex || !p) return ex;
    uint8_t pk[MAIF_PUBKEY_BYTES];
    maif_key_public(key, pk);
    char why[256];
    int rc = maif_policy_check_write(p, spec, cipher, pk, why, sizeof why);
    if (rc == MAIF_EACCESS) {
        cli_err(path, "%s (nothing added)", why);
        maif_policy_free(p);
        return CLI_EXIT_ACCESS;
    }
    if (!rc && kr) { /* keys are wrapped only for those the policy lets read the block */
        int level = maif_policy_level(p);
        if (spec->meta_json) {
            json_error_t je;
            json_t *m = json_loadb(spec->meta_json, spec->meta_size, 0, &je);
            const char *l = json_string_value(json_object_get(m, "level"));
            int bl = l ? maif_level_parse(l) : -1;
            if (l && bl < 0) bl = MAIF_LEVEL_TOP_SECRET;
            if (bl > level) level = bl;
            json_decref(m);
        }
        rc = maif_keyring_restrict(kr, p, spec->type, level, NULL);
        if (rc == MAIF_EACCESS) {
            cli_err(path, "%s (nothing added)", maif_last_errmsg());
            maif_policy_free(p);
            return CLI_EXIT_ACCESS;
        }
    }
    maif_policy_free(p);
    return rc ? cli_fail(path, rc, maif_last_errmsg()) : 0;
}

static int run(int argc, char **argv)
{
    const char *set = NULL, *keyfile = NULL;
    int show = 0;
    const cli_opt opts[] = {
        {"--set", CLI_VALUE, NULL, &set, NULL, 0, NULL},
        {"--show", CLI_FLAG, &show, NULL, NULL, 0, NULL},
        {"--key", CLI_VALUE, NULL, &keyfile, NULL, 0, NULL},
        {0},
    };
    const char *pos[1];
    int np;
    const cli_command *me = &cli_cmd_policy;
    int pr = cli_parse(me, argc, argv, opts, pos, 1, 1, &np);
    if (pr == CLI_PARSE_HELP) return cli_help(me);
    if (pr != CLI_PARSE_OK) return CLI_EXIT_USAGE;
    if (!!set + show != 1) return cli_usage_err(me, "give exactly one of --set POLICY.json or --show");
    if (show && keyfile) return cli_usage_err(me, "--key signs a new policy: only with --set");
    const char *path = pos[0];
    maif_reader *r = NULL;
    int ex = cli_open_reader(path, &r);
    if (ex) return ex;
    if (show) {
        maif_policy *p = NULL;
        uint64_t idx = 0;
        if ((ex = current_policy(path, r, &p, &idx))) goto done;
        if (!p) {
            printf("no access policy\n");
        } else {
            maif_block b;
            if (maif_reader_block(r, idx, &b) == MAIF_OK) {
                cli_put_clean(stdout, (const char *)b.payload, b.payload_size);
                fputc('\n', stdout);
            }
            maif_policy_free(p);
        }
        ex = cli_finish(CLI_EXIT_OK);
        goto done;
    }
    /* --set: the policy file, read whole (bounded) and checked before anything is written */
    int fd = -1;
    char err[256];
    if (cli_open_input(set, &fd, err, sizeof err)) {
        cli_err(set, "%s", err);
        ex = CLI_EXIT_USAGE;
        goto done;
    }
    cli_fd_src src = {fd, 0};
    uint8_t *json = NULL;
    size_t n = 0;
    int rc = cli_read_all(&src, MAIF_POLICY_MAX, &json, &n);
    if (fd > 0) close(fd);
    if (rc) {
        cli_err(set, "%s", rc == MAIF_ELIMIT ? "a policy is at most 65536 bytes" : "cannot read it");
        ex = CLI_EXIT_USAGE;
        goto done;
    }
    maif_policy *p = NULL;
    rc = maif_policy_parse(&p, (const char *)json, n);
    maif_policy_free(p);
    if (rc) {
        cli_err(set, "%s", maif_last_errmsg());
        free(json);
        ex = CLI_EXIT_USAGE;
        goto done;
    }
    maif_key *key = NULL;
    maif_writer *w = NULL;
    if (!(ex = cli_load_key(keyfile, &key))) ex = cli_open_writer(path, key, &w);
    uint8_t id[MAIF_ID_BYTES];
    if (!ex && (rc = maif_writer_set_policy(w, r, (const char *)json, n, id))) ex = cli_fail(path, rc, maif_last_errmsg());
    free(json);
    if (!ex) ex = cli_priv_commit(path, w);
    if (!ex) {
        rc = maif_writer_close(w);
        w = NULL;
        if (rc) ex = cli_fail(path, rc, maif_last_errmsg());
    }
    maif_writer_close(w);
    maif_key_free(key);
    if (!ex) {
        char hex[2 * MAIF_ID_BYTES + 1];
        printf("policy set: block %s\n", maif_hex(id, sizeof id, hex));
        ex = cli_finish(CLI_EXIT_OK);
    }
done:
    maif_reader_close(r);
    return ex;
}

const cli_command cli_cmd_policy = {
    "policy", run, "set or show the access policy",
    "usage: maif policy FILE (--set POLICY.json | --show) [--key KEYFILE]\n"
    "\n"
    "--set F   checks the policy in F (JSON, at most 64 KiB) and appends it as a\n"
    "          signed policy block (type POLY) superseding the current one,\n"
    "          signed with KEYFILE (default: the default key). If the current\n"
    "          policy names keys with the role admin, only they may replace it.\n"
    "--show    prints the current policy (canonical JSON), or \"no access policy\".\n"
    "\n"
    "A policy:\n"
    "  {\"level\": \"confidential\",            the artifact's security level\n"
    "   \"signers\": [\"HEX64\"],               pinned signers (top_secret needs them)\n"
    "   \"roles\": {\"clinician\": [\"HEX64\"], \"admin\": [\"HEX64\"]},\n"
    "   \"rules\": [{\"role\": \"clinician\", \"levels\": [\"confidential\"],\n"
    "              \"types\": [\"text\"], \"purposes\": [\"treatment\"],\n"
    "              \"hours\": [8, 18], \"not_before\": US, \"expires\": US}],\n"
    "   \"audit_reads\": false}\n"
    "Levels public < internal < confidential < secret < top_secret; a block's\n"
    "level is its --meta \"level\", never below the artifact's. confidential and\n"
    "above must be encrypted; top_secret needs xchacha20 and a pinned signer;\n"
    "reads of secret and above must be audited (maif cat --audit). `maif add`\n"
    "refuses blocks that break these (exit 3) and wraps keys only for keys whose\n"
    "roles may read the block; `maif cat` enforces the rules (exit 3). The\n"
    "policy binds honest readers; the keys are what bind everyone else\n"
    "(docs/FORMAT.md §5.11).\n"
    "\n"
    "exit codes: 0 done; 1 FILE is damaged; 2 usage error, missing file, bad\n"
    "policy JSON; 3 not an admin of the current policy, or the current policy\n"
    "cannot be trusted.\n",
};
