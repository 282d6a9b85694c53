/*
 * cmd_verify.c — `maif verify FILE [--pubkey PUBFILE]... [--json]`.
 *
 * The library decides; this command only reports. One extra guard lives
 * here: when keys are pinned, a report that is "ok" but names a signer
 * outside the pinned set (or no signer at all) still fails, so a library
 * that forgot to flag an untrusted signer cannot make the CLI say OK.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char *sev_name(int s)
{
    switch (s) {
    case MAIF_SEV_INFO: return "info";
    case MAIF_SEV_WARNING: return "warning";
    default: return "error";
    }
}

static void print_finding(const char *path, int sev, const char *section, int64_t block, int64_t offset,
                          const char *msg)
{
    cli_put_clean(stdout, path, strlen(path));
    section = section ? section : "file";
    printf(": %s: [", sev_name(sev));
    if (block >= 0 && strcmp(section, "block") == 0) printf("block %lld", (long long)block);
    else if (block >= 0) printf("%s, block %lld", section, (long long)block);
    else printf("%s", section);
    if (offset >= 0) printf(" @0x%llx", (unsigned long long)offset);
    printf("] ");
    if (msg) cli_put_clean(stdout, msg, strlen(msg));
    fputc('\n', stdout);
}

static json_t *finding_json(int sev, const char *code, const char *section, int64_t block, int64_t offset,
                            const char *msg)
{
    json_t *o = json_object();
    if (!o) return NULL;
    json_object_set_new(o, "severity", json_string(sev_name(sev)));
    json_object_set_new(o, "code", cli_json_string(code ? code : "", code ? strlen(code) : 0));
    json_object_set_new(o, "section", cli_json_string(section ? section : "file", strlen(section ? section : "file")));
    json_object_set_new(o, "block", block >= 0 ? json_integer((json_int_t)block) : json_null());
    json_object_set_new(o, "offset", offset >= 0 ? json_integer((json_int_t)offset) : json_null());
    json_object_set_new(o, "message", cli_json_string(msg ? msg : "", msg ? strlen(msg) : 0));
    return o;
}

static int run(int argc, char **argv)
{
    int as_json = 0;
    const char *pubs[CLI_PUBKEY_MAX];
    size_t npub = 0;
    const cli_opt opts[] = {
        {"--json", CLI_FLAG, &as_json, NULL, NULL, 0, NULL},
        {"--pubkey", CLI_MULTI, NULL, NULL, pubs, CLI_PUBKEY_MAX, &npub},
        {0},
    };
    const char *pos[1];
    int np;
    int pr = cli_parse(&cli_cmd_verify, argc, argv, opts, pos, 1, 1, &np);
    if (pr == CLI_PARSE_HELP) return cli_help(&cli_cmd_verify);
    if (pr != CLI_PARSE_OK) return CLI_EXIT_USAGE;
    const char *path = pos[0];

    int ex = cli_check_file(path);
    if (ex) return ex;
    maif_options *opt = NULL;
    if (maif_options_create(&opt) != MAIF_OK) {
        cli_err(path, "out of memory");
        return CLI_EXIT_USAGE;
    }
    ex = cli_pin_pubkeys(opt, pubs, npub);
    if (ex) {
        maif_options_free(opt);
        return ex;
    }
    maif_report *rep = NULL;
    int rc = maif_verify_file(path, opt, &rep);
    maif_options_free(opt);
    if (rc != MAIF_OK) {
        if (rc == MAIF_ENOTFOUND) {
            cli_err(path, "no such file");
            return CLI_EXIT_USAGE;
        }
        return cli_fail(path, rc, maif_last_errmsg());
    }

    /* The guard described at the top of the file. */
    const char *extra = NULL;
    size_t nsig = maif_report_signer_count(rep);
    if (npub && maif_report_ok(rep)) {
        if (nsig == 0) extra = "no signer found, but --pubkey requires one of the given keys";
        for (size_t i = 0; i < nsig && !extra; i++) {
            uint8_t pk[MAIF_PUBKEY_BYTES];
            int pinned = 0;
            if (maif_report_signer(rep, i, pk, &pinned) == MAIF_OK && !pinned)
                extra = "signer is not one of the keys given with --pubkey";
        }
    }
    size_t nf = maif_report_count(rep), errors = 0;
    for (size_t i = 0; i < nf; i++) {
        const maif_finding *f = maif_report_finding(rep, i);
        if (f && f->severity >= MAIF_SEV_ERROR) errors++;
    }
    if (extra) errors++;
    int ok = maif_report_ok(rep) && !extra;
    const char *fmt = maif_report_format(rep) ? cli_format_name(maif_report_format(rep)) : NULL;
    unsigned long long blocks = (unsigned long long)maif_report_blocks(rep);
    ex = ok ? CLI_EXIT_OK : CLI_EXIT_VERIFY;

    if (as_json) {
        json_t *doc = json_object(), *signers = json_array(), *findings = json_array();
        if (doc && signers && findings) {
            json_object_set_new(doc, "file", cli_json_string(path, strlen(path)));
            json_object_set_new(doc, "ok", json_boolean(ok));
            json_object_set_new(doc, "format", fmt ? json_string(fmt) : json_null());
            json_object_set_new(doc, "blocks", json_integer((json_int_t)blocks));
            for (size_t i = 0; i < nsig; i++) {
                uint8_t pk[MAIF_PUBKEY_BYTES];
                int pinned = 0;
                char hex[2 * MAIF_PUBKEY_BYTES + 1];
                if (maif_report_signer(rep, i, pk, &pinned) != MAIF_OK) continue;
                json_t *s = json_object();
                json_object_set_new(s, "key", json_string(maif_hex(pk, sizeof pk, hex)));
                json_object_set_new(s, "pinned", json_boolean(pinned));
                json_array_append_new(signers, s);
            }
            for (size_t i = 0; i < nf; i++) {
                const maif_finding *f = maif_report_finding(rep, i);
                if (f)
                    json_array_append_new(findings, finding_json(f->severity, f->code, f->section, f->block,
                                                                 f->offset, f->message));
            }
            if (extra)
                json_array_append_new(findings,
                                      finding_json(MAIF_SEV_ERROR, "untrusted-signer", "commit", -1, -1, extra));
            json_object_set(doc, "signers", signers);
            json_object_set(doc, "findings", findings);
        }
        int jr = cli_print_json(doc && signers && findings ? doc : NULL);
        if (jr) ex = jr;
        json_decref(signers);
        json_decref(findings);
        json_decref(doc);
    } else {
        for (size_t i = 0; i < nf; i++) {
            const maif_finding *f = maif_report_finding(rep, i);
            if (f) print_finding(path, f->severity, f->section, f->block, f->offset, f->message);
        }
        if (extra) print_finding(path, MAIF_SEV_ERROR, "commit", -1, -1, extra);
        cli_put_clean(stdout, path, strlen(path));
        if (ok)
            printf(": OK (%llu blocks, format %s)\n", blocks, fmt ? fmt : "unknown");
        else
            printf(": FAILED (%zu error%s)\n", errors, errors == 1 ? "" : "s");
    }
    maif_report_free(rep);
    return cli_finish(ex);
}

const cli_command cli_cmd_verify = {
    "verify", run, "check every hash and signature",
    "usage: maif verify FILE [--pubkey PUBFILE]... [--json]\n"
    "\n"
    "Verifies every byte of FILE (native or MAIF 2.1): content hashes, the hash\n"
    "chain, the index, Merkle roots and commit signatures. Prints one line per\n"
    "finding,\n"
    "  FILE: SEVERITY: [SECTION block N @0xOFFSET] MESSAGE\n"
    "(\"block N\" and \"@0xOFFSET\" only when they apply; SEVERITY is info,\n"
    "warning or error), then a last line:\n"
    "  FILE: OK (N blocks, format native|2.1)    or    FILE: FAILED (K errors)\n"
    "Without --pubkey the file is checked against the key it names, and an\n"
    "info finding says the signer is not pinned. With --pubkey (repeatable, up\n"
    "to 256; a .pub file or a secret key file) every signer must be one of the\n"
    "given keys.\n"
    "--json   one JSON object {\"file\",\"ok\",\"format\" (\"native\", \"2.1\" or null),\n"
    "         \"blocks\",\"signers\":[{\"key\",\"pinned\"}],\"findings\":[{\"severity\",\n"
    "         \"code\",\"section\",\"block\" (or null),\"offset\" (or null),\"message\"}]}\n"
    "\n"
    "exit codes: 0 intact and trusted; 1 not intact, untrusted signer, or too\n"
    "damaged to parse; 2 usage error, missing/unreadable file, bad key file.\n",
};
