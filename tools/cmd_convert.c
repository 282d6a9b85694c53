/*
 * cmd_convert.c — `maif convert IN OUT --to 2.1|native [--key KEYFILE]`.
 * Refuses to replace an existing OUT unless --force, like create and keygen
 * refuse to clobber.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

static int run(int argc, char **argv)
{
    const char *to = NULL, *keyfile = NULL;
    int force = 0;
    const cli_opt opts[] = {
        {"--to", CLI_VALUE, NULL, &to, NULL, 0, NULL},
        {"--key", CLI_VALUE, NULL, &keyfile, NULL, 0, NULL},
        {"--force", CLI_FLAG, &force, NULL, NULL, 0, NULL},
        {0},
    };
    const char *pos[2];
    int np;
    const cli_command *me = &cli_cmd_convert;
    int pr = cli_parse(me, argc, argv, opts, pos, 2, 2, &np);
    if (pr == CLI_PARSE_HELP) return cli_help(me);
    if (pr != CLI_PARSE_OK) return CLI_EXIT_USAGE;
    const char *in = pos[0], *out = pos[1];
    if (!to) return cli_usage_err(me, "missing --to 2.1|native");
    int fmt;
    if (strcmp(to, "2.1") == 0 || strcmp(to, "v21") == 0)
        fmt = MAIF_FORMAT_V21;
    else if (strcmp(to, "native") == 0)
        fmt = MAIF_FORMAT_NATIVE;
    else
        return cli_usage_err(me, "--to must be 2.1 or native, not '%.40s'", to);
    if (strcmp(in, "-") == 0 || strcmp(out, "-") == 0) return cli_usage_err(me, "IN and OUT must be file names");

    int ex = cli_check_file(in);
    if (ex) return ex;
    struct stat si, so;
    if (stat(out, &so) == 0) {
        if (stat(in, &si) == 0 && si.st_dev == so.st_dev && si.st_ino == so.st_ino) {
            cli_err(out, "is the input file; convert to a new file");
            return CLI_EXIT_USAGE;
        }
        if (!force) {
            cli_err(out, "already exists; refusing to overwrite (use --force)");
            return CLI_EXIT_USAGE;
        }
        if (!S_ISREG(so.st_mode)) {
            cli_err(out, "not a regular file");
            return CLI_EXIT_USAGE;
        }
    }
    maif_key *key = NULL;
    ex = cli_load_key(keyfile, &key);
    if (ex) return ex;
    char err[512] = "";
    int rc = maif_convert(in, out, fmt, key, err, sizeof err);
    maif_key_free(key);
    if (rc != MAIF_OK) {
        if (rc == MAIF_EFORMAT || rc == MAIF_EVERSION) {
            cli_err(in, "not a readable MAIF artifact: %s", *err ? err : maif_strerror(rc));
            return CLI_EXIT_VERIFY;
        }
        if (rc == MAIF_EUNSUPPORTED) {
            cli_err(in, "cannot convert to %s: %s", to, *err ? err : maif_strerror(rc));
            return CLI_EXIT_USAGE;
        }
        return cli_fail(in, rc, err);
    }
    cli_put_clean(stdout, in, strlen(in));
    printf(" -> ");
    cli_put_clean(stdout, out, strlen(out));
    printf(" (format %s)\n", fmt == MAIF_FORMAT_V21 ? "2.1" : "native");
    return cli_finish(CLI_EXIT_OK);
}

const cli_command cli_cmd_convert = {
    "convert", run, "convert between the native and MAIF 2.1 formats",
    "usage: maif convert IN OUT --to 2.1|native [--key KEYFILE] [--force]\n"
    "\n"
    "Converts IN (either format) into a new file OUT in the native format or\n"
    "MAIF 2.1, keeping block types, payloads, metadata, timestamps and block\n"
    "ids, and signing OUT with KEYFILE (default: the default key). OUT is\n"
    "written to a temporary file and renamed into place. An existing OUT is\n"
    "refused unless --force. Prints \"IN -> OUT (format F)\".\n"
    "\n"
    "exit codes: 0 converted; 1 IN is not a readable MAIF artifact; 2 usage\n"
    "error, missing file, OUT exists, bad key, or IN holds something the\n"
    "target format cannot (such as supersedes links, for 2.1).\n",
};
