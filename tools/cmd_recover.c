/*
 * cmd_recover.c — `maif recover FILE`: cut a torn tail in place. Opening a
 * writer is what recovers (maif_writer_open truncates the bytes after the
 * last commit); closing it without adding anything leaves every committed
 * batch as it was. The bytes discarded are the size difference.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

static int run(int argc, char **argv)
{
    const char *keyfile = NULL;
    const cli_opt opts[] = {
        {"--key", CLI_VALUE, NULL, &keyfile, NULL, 0, NULL},
        {0},
    };
    const char *pos[1];
    int np;
    int pr = cli_parse(&cli_cmd_recover, argc, argv, opts, pos, 1, 1, &np);
    if (pr == CLI_PARSE_HELP) return cli_help(&cli_cmd_recover);
    if (pr != CLI_PARSE_OK) return CLI_EXIT_USAGE;
    const char *path = pos[0];

    int ex = cli_check_file(path);
    if (ex) return ex;
    struct stat before, after;
    if (stat(path, &before) != 0) {
        cli_err(path, "%s", strerror(errno));
        return CLI_EXIT_USAGE;
    }
    maif_key *key = NULL;
    ex = cli_load_key(keyfile, &key);
    if (ex) return ex;
    maif_writer *w = NULL;
    int rc = maif_writer_open(&w, path, key, MAIF_W_DURABLE);
    if (rc != MAIF_OK) {
        maif_key_free(key);
        switch (rc) {
        case MAIF_EFORMAT:
        case MAIF_EVERSION:
            cli_err(path, "too damaged to recover: %s", maif_strerror(rc));
            return CLI_EXIT_VERIFY;
        case MAIF_EUNSUPPORTED:
            cli_err(path, "a MAIF 2.1 file has no torn tail to recover; nothing done");
            return CLI_EXIT_USAGE;
        case MAIF_ELOCKED:
            cli_err(path, "locked by another writer");
            return CLI_EXIT_USAGE;
        default:
            return cli_fail(path, rc, NULL);
        }
    }
    unsigned long long blocks = (unsigned long long)maif_writer_count(w);
    rc = maif_writer_close(w);
    maif_key_free(key);
    if (rc != MAIF_OK) return cli_fail(path, rc, NULL);
    if (stat(path, &after) != 0) {
        cli_err(path, "%s", strerror(errno));
        return CLI_EXIT_USAGE;
    }
    unsigned long long cut = before.st_size > after.st_size ? (unsigned long long)(before.st_size - after.st_size) : 0;
    cli_put_clean(stdout, path, strlen(path));
    if (cut)
        printf(": recovered: discarded %llu torn bytes (%llu blocks intact)\n", cut, blocks);
    else
        printf(": nothing to recover: discarded 0 bytes (%llu blocks intact)\n", blocks);
    return cli_finish(CLI_EXIT_OK);
}

const cli_command cli_cmd_recover = {
    "recover", run, "cut a torn (uncommitted) tail left by a crash",
    "usage: maif recover FILE [--key KEYFILE]\n"
    "\n"
    "Opens the native artifact FILE for appending, which cuts off any bytes\n"
    "after the last commit (a batch a crash left half-written), then closes it.\n"
    "Committed batches are never touched. Prints one of\n"
    "  FILE: recovered: discarded N torn bytes (M blocks intact)\n"
    "  FILE: nothing to recover: discarded 0 bytes (M blocks intact)\n"
    "--key is accepted for symmetry with the writing commands; nothing is signed.\n"
    "\n"
    "exit codes: 0 recovered or nothing to do; 1 too damaged to recover;\n"
    "2 usage error, missing/unreadable file, locked, or a MAIF 2.1 file.\n",
};
