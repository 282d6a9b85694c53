/*
 * cmd_convert.c — `maif convert IN OUT --to 2.1|native [--key KEYFILE]
 * [--pubkey PUBFILE]... [--force] [--overwrite]`.
 *
 * The library verifies IN before converting it and refuses one that does
 * not verify (issue 15: converting must not launder a tampered artifact
 * into a freshly signed one); this command prints the findings of that
 * refusal, and --force is the explicit way past it. Replacing an existing
 * OUT is a separate choice, --overwrite, like create and keygen refuse to
 * clobber.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

/* Findings of IN's verification that matter (warnings and errors), in
 * `maif verify`'s line format, on stdout. */
static void print_findings(const char *in, const maif_report *rep)
{
    for (size_t i = 0; i < maif_report_count(rep); i++) {
        const maif_finding *f = maif_report_finding(rep, i);
        if (!f || f->severity < MAIF_SEV_WARNING) continue;
        const char *section = f->section ? f->section : "file";
        cli_put_clean(stdout, in, strlen(in));
        printf(": %s: [", f->severity >= MAIF_SEV_ERROR ? "error" : "warning");
        if (f->block >= 0 && strcmp(section, "block") == 0) printf("block %lld", (long long)f->block);
        else if (f->block >= 0) printf("%s, block %lld", section, (long long)f->block);
        else printf("%s", section);
        if (f->offset >= 0) printf(" @0x%llx", (unsigned long long)f->offset);
        printf("] ");
        if (f->message) cli_put_clean(stdout, f->message, strlen(f->message));
        fputc('\n', stdout);
    }
}

static int run(int argc, char **argv)
{
    const char *to = NULL, *keyfile = NULL, *hash = NULL;
    int force = 0, overwrite = 0;
    const char *pubs[CLI_PUBKEY_MAX];
    size_t npub = 0;
    const cli_opt opts[] = {
        {"--to", CLI_VALUE, NULL, &to, NULL, 0, NULL},
        {"--key", CLI_VALUE, NULL, &keyfile, NULL, 0, NULL},
        {"--pubkey", CLI_MULTI, NULL, NULL, pubs, CLI_PUBKEY_MAX, &npub},
        {"--force", CLI_FLAG, &force, NULL, NULL, 0, NULL},
        {"--overwrite", CLI_FLAG, &overwrite, NULL, NULL, 0, NULL},
        {"--hash", CLI_VALUE, NULL, &hash, NULL, 0, NULL},
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
    int alg = MAIF_HASH_SHA256;
    if (hash && maif_hash_parse(hash, &alg) != MAIF_OK) return cli_usage_err(me, "%s", maif_last_errmsg());
    if (alg != MAIF_HASH_SHA256 && fmt != MAIF_FORMAT_NATIVE)
        return cli_usage_err(me, "--hash %s: 2.1 files hash their blocks with SHA-256 only", hash);

    int ex = cli_check_file(in);
    if (ex) return ex;
    struct stat si, so;
    if (stat(out, &so) == 0) {
        if (stat(in, &si) == 0 && si.st_dev == so.st_dev && si.st_ino == so.st_ino) {
            cli_err(out, "is the input file; convert to a new file");
            return CLI_EXIT_USAGE;
        }
        if (!overwrite) {
            cli_err(out, "already exists; refusing to overwrite (use --overwrite)");
            return CLI_EXIT_USAGE;
        }
        if (!S_ISREG(so.st_mode)) {
            cli_err(out, "not a regular file");
            return CLI_EXIT_USAGE;
        }
    }
    maif_options *opt = NULL;
    if (maif_options_create(&opt) != MAIF_OK) {
        cli_err(in, "out of memory");
        return CLI_EXIT_USAGE;
    }
    ex = cli_pin_pubkeys(opt, pubs, npub);
    if (!ex && force && maif_options_set(opt, MAIF_OPT_CONVERT_FORCE, 1) != MAIF_OK) ex = cli_fail(in, MAIF_EINVAL, NULL);
    if (!ex && maif_options_set(opt, MAIF_OPT_CONTENT_HASH, alg) != MAIF_OK) ex = cli_fail(in, MAIF_EINVAL, NULL);
    maif_key *key = NULL;
    if (!ex) ex = cli_load_key(keyfile, &key);
    if (ex) {
        maif_options_free(opt);
        return ex;
    }
    maif_report *rep = NULL;
    int rc = maif_convert(in, out, fmt, key, opt, &rep);
    maif_key_free(key);
    maif_options_free(opt);
    const char *err = cli_detail(in, maif_last_errmsg());
    int verified = rep && maif_report_ok(rep);
    if (rc == MAIF_EVERIFY || (rc == MAIF_OK && !verified)) print_findings(in, rep);
    maif_report_free(rep);
    if (rc == MAIF_EVERIFY) {
        cli_err(in, "%s (--force converts it anyway, recording that)", err);
        return cli_finish(CLI_EXIT_VERIFY);
    }
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
    if (!verified)
        cli_err(in, "warning: does not verify; converted anyway (--force), and %s records that", out);
    cli_put_clean(stdout, in, strlen(in));
    printf(" -> ");
    cli_put_clean(stdout, out, strlen(out));
    printf(" (format %s)\n", fmt == MAIF_FORMAT_V21 ? "2.1" : "native");
    return cli_finish(CLI_EXIT_OK);
}

const cli_command cli_cmd_convert = {
    "convert", run, "convert between the native and MAIF 2.1 formats",
    "usage: maif convert IN OUT --to 2.1|native [--key KEYFILE] [--pubkey PUBFILE]...\n"
    "                    [--force] [--overwrite] [--hash sha256|blake3]\n"
    "\n"
    "Converts IN (either format) into a new file OUT in the native format or\n"
    "MAIF 2.1, keeping block types, payloads, metadata, timestamps and block\n"
    "ids, and signing OUT with KEYFILE (default: the default key). OUT is\n"
    "written to a temporary file and renamed into place. Prints\n"
    "\"IN -> OUT (format F)\".\n"
    "\n"
    "IN is verified first, as `maif verify` would: one that is not intact, or\n"
    "(with --pubkey, repeatable) not signed by one of the given keys, is\n"
    "refused with its findings, in verify's line format, and nothing is written.\n"
    "--force      convert what is readable anyway; OUT records that its source\n"
    "             did not verify (native: \"verified\": false and the finding\n"
    "             codes in the converted_from header note, shown by `maif info`;\n"
    "             2.1: one extra last META block holding that note)\n"
    "--overwrite  replace an existing OUT (OUT may never be IN)\n"
    "--hash       native OUT: its content hash, sha256 (default) or blake3 (see\n"
    "             `maif create --help`); 2.1 has SHA-256 only\n"
    "\n"
    "Every block is decoded and written again (a sealed block is bound to its\n"
    "artifact's id), and convert takes no decryption keys: an IN with encrypted\n"
    "blocks is refused (to 2.1, which cannot hold them: exit 2; to native: 3).\n"
    "\n"
    "exit codes: 0 converted; 1 IN does not verify (without --force) or is not\n"
    "a readable MAIF artifact; 2 usage error, missing file, OUT exists, bad key,\n"
    "or IN holds something the target format cannot (such as supersedes links,\n"
    "for 2.1); 3 IN holds encrypted blocks (to native).\n",
};
