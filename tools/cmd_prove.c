/*
 * cmd_prove.c — `maif prove FILE BLOCK [--commit N] [--json]` and
 * `maif prove FILE --from N --to M [--json]`: an inclusion proof of a block,
 * or a consistency proof between two commits, from maif_reader_prove_*. The
 * text form is a summary for people; --json is the proof itself, the input
 * of `maif check-proof` (docs/CLI.md, "Proofs").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char *jstr(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "?";
}

static unsigned long long jnum(json_t *o, const char *k)
{
    return (unsigned long long)json_integer_value(json_object_get(o, k));
}

static void print_commit(const char *label, json_t *c)
{
    printf("%-17s%llu (%llu blocks)\n", label, jnum(c, "seq"), jnum(c, "blocks"));
    printf("  merkle root:   %s\n", jstr(c, "merkle_root"));
    printf("  signer:        %s (%s)\n", jstr(c, "signer"), jstr(c, "alg"));
    printf("  record hash:   %s\n", jstr(c, "record_hash"));
}

/* The human summary, read back from the proof's JSON. */
static void print_text(const char *json)
{
    json_t *o = json_loads(json, 0, NULL);
    if (!o) return;
    json_t *path = json_object_get(o, "path");
    if (strcmp(jstr(o, "proof"), "maif-inclusion-v1") == 0) {
        printf("proof:           inclusion\n");
        printf("block:           %llu\n", jnum(o, "block"));
        printf("tree size:       %llu\n", jnum(o, "tree_size"));
        printf("leaf record hash: %s\n", jstr(o, "leaf_record_hash"));
        print_commit("commit:", json_object_get(o, "commit"));
    } else {
        printf("proof:           consistency\n");
        printf("from size:       %llu\n", jnum(o, "from_size"));
        printf("to size:         %llu\n", jnum(o, "to_size"));
        print_commit("from commit:", json_object_get(o, "from_commit"));
        print_commit("to commit:", json_object_get(o, "to_commit"));
    }
    printf("path:            %zu hashes\n", json_array_size(path));
    for (size_t i = 0; i < json_array_size(path); i++)
        printf("  %s\n", json_string_value(json_array_get(path, i)));
    json_decref(o);
}

static int run(int argc, char **argv)
{
    int as_json = 0;
    const char *from_s = NULL, *to_s = NULL, *commit_s = NULL;
    const cli_opt opts[] = {
        {"--json", CLI_FLAG, &as_json, NULL, NULL, 0, NULL},
        {"--from", CLI_VALUE, NULL, &from_s, NULL, 0, NULL},
        {"--to", CLI_VALUE, NULL, &to_s, NULL, 0, NULL},
        {"--commit", CLI_VALUE, NULL, &commit_s, NULL, 0, NULL},
        {0},
    };
    const char *pos[2];
    int np;
    int pr = cli_parse(&cli_cmd_prove, argc, argv, opts, pos, 1, 2, &np);
    if (pr == CLI_PARSE_HELP) return cli_help(&cli_cmd_prove);
    if (pr != CLI_PARSE_OK) return CLI_EXIT_USAGE;
    const char *path = pos[0];
    int consistency = from_s || to_s;
    uint8_t id[MAIF_ID_BYTES];
    int by_id = 0;
    uint64_t block = 0, from = 0, to = MAIF_COMMIT_LAST, commit = MAIF_COMMIT_LAST;
    if (consistency) {
        if (np != 1 || commit_s)
            return cli_usage_err(&cli_cmd_prove, "give either BLOCK [--commit N] or --from N [--to M], not both");
        if (!from_s) return cli_usage_err(&cli_cmd_prove, "--to needs --from");
        if (!cli_parse_u64(from_s, &from) || (to_s && !cli_parse_u64(to_s, &to)))
            return cli_usage_err(&cli_cmd_prove, "--from and --to take commit numbers");
    } else {
        if (np != 2) return cli_usage_err(&cli_cmd_prove, "give BLOCK, or --from N --to M");
        if (!cli_parse_u64(pos[1], &block) && !(strlen(pos[1]) == 2 * MAIF_ID_BYTES && maif_unhex(pos[1], id, sizeof id) == MAIF_OK))
            return cli_usage_err(&cli_cmd_prove, "BLOCK must be a block index or a 32-hex-digit block id, not '%.80s'",
                                 pos[1]);
        by_id = strlen(pos[1]) == 2 * MAIF_ID_BYTES;
        if (commit_s && !cli_parse_u64(commit_s, &commit))
            return cli_usage_err(&cli_cmd_prove, "--commit takes a commit number");
    }

    maif_reader *r = NULL;
    int ex = cli_open_reader(path, &r);
    if (ex) return ex;
    if (by_id) {
        int frc = maif_reader_find(r, id, &block);
        if (frc != MAIF_OK) {
            if (frc == MAIF_ENOTFOUND) cli_err(path, "no block with id %s", pos[1]);
            ex = frc == MAIF_ENOTFOUND ? CLI_EXIT_USAGE : cli_fail(path, frc, maif_reader_errmsg(r));
            maif_reader_close(r);
            return ex;
        }
    }
    maif_proof *p = NULL;
    int rc = consistency ? maif_reader_prove_consistency(r, from, to, &p)
                         : maif_reader_prove_inclusion(r, block, commit, &p);
    if (rc != MAIF_OK) {
        ex = cli_fail(path, rc, maif_reader_errmsg(r));
        maif_reader_close(r);
        return ex;
    }
    maif_reader_close(r);
    size_t len = 0;
    char *s = NULL;
    rc = maif_proof_json(p, NULL, 0, &len);
    if (rc == MAIF_ELIMIT && (s = malloc(len + 1)) != NULL) rc = maif_proof_json(p, s, len + 1, &len);
    else if (rc == MAIF_ELIMIT) rc = MAIF_ENOMEM;
    maif_proof_free(p);
    if (rc != MAIF_OK) {
        free(s);
        return cli_fail(path, rc, maif_last_errmsg());
    }
    if (as_json) {
        fputs(s, stdout);
        fputc('\n', stdout);
    } else {
        print_text(s);
    }
    free(s);
    return cli_finish(CLI_EXIT_OK);
}

const cli_command cli_cmd_prove = {
    "prove", run, "print an inclusion or consistency proof",
    "usage: maif prove FILE BLOCK [--commit N] [--json]\n"
    "       maif prove FILE --from N [--to M] [--json]\n"
    "\n"
    "The first form proves that block BLOCK (its index, as `maif ls` shows it,\n"
    "or its 32-hex-digit id) is in the Merkle tree of commit N (default: the\n"
    "last commit); the second, that the tree of commit N is a prefix of the\n"
    "tree of commit M (default: the last). Commits are numbered from 0. Both are\n"
    "RFC 6962 proofs bound to the signed commits: the proof carries each\n"
    "commit's record bytes, so `maif check-proof` checks it without FILE.\n"
    "Native artifacts only. Gathering reads up to every block record hash of\n"
    "the tree (0.2 s for a million blocks).\n"
    "--json   the proof as one line of JSON (the format is in docs/CLI.md);\n"
    "         without it, a summary: commit(s), root, signer, path.\n"
    "\n"
    "exit codes: 0 printed; 1 FILE is not a readable MAIF artifact; 2 usage\n"
    "error, no such block or commit, a MAIF 2.1 file, or missing file.\n",
};
