/*
 * maif.c — the `maif` command-line tool: global options, help, and the
 * dispatch to one subcommand per file (cmd_*.c). The command contract is
 * docs/CLI.md; scripts depend on it, so output formats and exit codes only
 * change with a note there.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const cli_command *const commands[] = {
    &cli_cmd_keygen, &cli_cmd_create, &cli_cmd_add,     &cli_cmd_append,  &cli_cmd_ls,
    &cli_cmd_cat,    &cli_cmd_info,   &cli_cmd_verify,  &cli_cmd_recover, &cli_cmd_convert,
    &cli_cmd_prove,  &cli_cmd_check_proof, &cli_cmd_grant, &cli_cmd_revoke, &cli_cmd_rotate, &cli_cmd_shred,
    &cli_cmd_policy, &cli_cmd_audit, &cli_cmd_embed, &cli_cmd_index, &cli_cmd_search, &cli_cmd_graph, &cli_cmd_mcp,
    &cli_cmd_pii,    &cli_cmd_query, &cli_cmd_dict, &cli_cmd_csr, &cli_cmd_cert, &cli_cmd_timestamp,
    &cli_cmd_serve,
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void print_usage(FILE *f)
{
    fprintf(f,
            "usage: maif COMMAND [ARGS...]\n"
            "       maif COMMAND --help     help for one command\n"
            "       maif --version\n"
            "\n"
            "commands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++) fprintf(f, "  %-11s %s\n", commands[i]->name, commands[i]->summary);
    fprintf(f,
            "\n"
            "Blocks are numbered from 0 in the order they were added (as `maif ls`\n"
            "shows them); BLOCK arguments take that number or a 32-hex-digit block id.\n"
            "Without --key, the default key $MAIF_HOME/default.key (~/.maif/default.key\n"
            "when MAIF_HOME is unset) signs commits; it is created on first use.\n"
            "Payloads, JSONL and other inputs are limited to 4 GiB.\n"
            "\n"
            "exit codes (every command):\n"
            "  0  success\n"
            "  1  verification failed: the artifact is not intact, is not signed by a\n"
            "     trusted key, or is too damaged to parse\n"
            "  2  usage error, missing or unreadable file, or invalid input\n"
            "  3  access denied: no usable key, or the privacy budget is exhausted\n"
            "\n"
            "Errors are one line on stderr: \"maif: FILE: problem\". With --json, stdout\n"
            "holds exactly one JSON document (nothing when the command fails early).\n");
}

static const cli_command *lookup(const char *name)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(commands[i]->name, name) == 0) return commands[i];
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    const char *c = argv[1];
    if (strcmp(c, "--help") == 0 || strcmp(c, "-h") == 0 || strcmp(c, "help") == 0) {
        if (argc > 2 && strcmp(c, "help") == 0) {
            const cli_command *cmd = lookup(argv[2]);
            if (!cmd) {
                cli_err(argv[2], "unknown command (see 'maif --help')");
                return CLI_EXIT_USAGE;
            }
            return cli_help(cmd);
        }
        print_usage(stdout);
        return cli_finish(CLI_EXIT_OK);
    }
    if (strcmp(c, "--version") == 0 || strcmp(c, "version") == 0) {
        printf("maif %s\n", maif_version_string()); /* the library actually loaded */
        return cli_finish(CLI_EXIT_OK);
    }
    const cli_command *cmd = lookup(c);
    if (!cmd) {
        cli_err(c, "unknown command (see 'maif --help')");
        return CLI_EXIT_USAGE;
    }
    return cmd->run(argc - 1, argv + 1);
}
