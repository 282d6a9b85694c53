/*
 * cmd_recover.c — `maif recover FILE [--force]`: cut a torn tail in place
 * with maif_recover. Every committed batch stays as it was. Damage after
 * the last commit that does not look like a torn write is only cut with
 * --force, because it may be something other than a crash.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

static int run(int argc, char **argv)
{
    const char *keyfile = NULL;
    int force = 0;
    const cli_opt opts[] = {
        {"--key", CLI_VALUE, NULL, &keyfile, NULL, 0, NULL},
        {"--force", CLI_FLAG, &force, NULL, NULL, 0, NULL},
        {0},
    };
    const char *pos[1];
    int np;
    int pr = cli_parse(&cli_cmd_recover, argc, argv, opts, pos, 1, 1, &np);
    if (pr == CLI_PARSE_HELP) return cli_help(&cli_cmd_recover);
    if (pr != CLI_PARSE_OK) return CLI_EXIT_USAGE;
    const char *path = pos[0];
    (void)keyfile; /* accepted for compatibility; recovery signs nothing */

    int ex = cli_check_file(path);
    if (ex) return ex;
    struct stat before, after;
    if (stat(path, &before) != 0) {
        cli_err(path, "%s", strerror(errno));
        return CLI_EXIT_USAGE;
    }
    uint64_t cut = 0;
    maif_options *opt = NULL;
    int rc = maif_options_create(&opt);
    if (rc == MAIF_OK && force) rc = maif_options_set(opt, MAIF_OPT_FORCE_RECOVER, 1);
    if (rc == MAIF_OK) rc = maif_recover(path, opt, &cut);
    maif_options_free(opt);
    if (rc != MAIF_OK) {
        const char *d = cli_detail(path, maif_last_errmsg());
        switch (rc) {
        case MAIF_EFORMAT:
        case MAIF_EVERSION:
            cli_err(path, "cannot recover: %s", *d ? d : maif_strerror(rc));
            return CLI_EXIT_VERIFY;
        case MAIF_EUNSUPPORTED:
            cli_err(path, "a MAIF 2.1 file has no torn tail to recover; nothing done");
            return CLI_EXIT_USAGE;
        case MAIF_ELOCKED:
            cli_err(path, "locked by another writer");
            return CLI_EXIT_USAGE;
        default:
            return cli_fail(path, rc, d);
        }
    }
    if (stat(path, &after) != 0) {
        cli_err(path, "%s", strerror(errno));
        return CLI_EXIT_USAGE;
    }
    /* The size difference is what left the file; the library's count is a
     * cross-check, and the larger of the two is reported. */
    uint64_t diff = before.st_size > after.st_size ? (uint64_t)(before.st_size - after.st_size) : 0;
    if (cut < diff) cut = diff;
    unsigned long long blocks = 0;
    maif_reader *r = NULL;
    if (maif_reader_open(&r, path) == MAIF_OK) blocks = (unsigned long long)maif_reader_count(r);
    maif_reader_close(r);
    cli_put_clean(stdout, path, strlen(path));
    if (cut)
        printf(": recovered: discarded %llu bytes (%llu blocks intact)\n", (unsigned long long)cut, blocks);
    else
        printf(": nothing to recover: discarded 0 bytes (%llu blocks intact)\n", blocks);
    return cli_finish(CLI_EXIT_OK);
}

const cli_command cli_cmd_recover = {
    "recover", run, "cut a torn (uncommitted) tail left by a crash",
    "usage: maif recover FILE [--force]\n"
    "\n"
    "Cuts off the bytes after the last commit of the native artifact FILE (a\n"
    "batch a crash left half-written). Committed batches are never touched.\n"
    "Prints one of\n"
    "  FILE: recovered: discarded N bytes (M blocks intact)\n"
    "  FILE: nothing to recover: discarded 0 bytes (M blocks intact)\n"
    "Only what looks like an interrupted append is cut: hash-chained records\n"
    "ending in a header that is all zeros or a prefix of one the writer could\n"
    "have been writing (docs/FORMAT.md section 9; verify uses the same rule).\n"
    "--force  also cut bytes after the last commit that are damaged rather than\n"
    "         torn, such as a copied commit tail (without it such a file is\n"
    "         refused with exit code 1)\n"
    "--key KEYFILE is accepted and ignored (recovery signs nothing).\n"
    "\n"
    "exit codes: 0 recovered or nothing to do; 1 too damaged to recover (or\n"
    "damaged tail without --force);\n"
    "2 usage error, missing/unreadable file, locked, or a MAIF 2.1 file.\n",
};
