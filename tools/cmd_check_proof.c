/*
 * cmd_check_proof.c — `maif check-proof PROOF [--pubkey PUB]...`: checks a
 * proof that `maif prove --json` printed, without the artifact
 * (maif_proof_parse, then maif_proof_check).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* Reads all of fd, at most max bytes; -1 when larger or on an error. */
static long read_all(int fd, char *buf, size_t max)
{
    size_t n = 0;
    for (;;) {
        ssize_t k = read(fd, buf + n, max + 1 - n);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) return -1;
        if (k == 0) break;
        n += (size_t)k;
        if (n > max) return -2;
    }
    return (long)n;
}

static int run(int argc, char **argv)
{
    const char *pubs[CLI_PUBKEY_MAX];
    size_t npub = 0;
    const cli_opt opts[] = {
        {"--pubkey", CLI_MULTI, NULL, NULL, pubs, CLI_PUBKEY_MAX, &npub},
        {0},
    };
    const char *pos[1];
    int np;
    int pr = cli_parse(&cli_cmd_check_proof, argc, argv, opts, pos, 1, 1, &np);
    if (pr == CLI_PARSE_HELP) return cli_help(&cli_cmd_check_proof);
    if (pr != CLI_PARSE_OK) return CLI_EXIT_USAGE;
    const char *path = pos[0];

    int fd;
    char err[300];
    if (cli_open_input(path, &fd, err, sizeof err)) {
        cli_err(path, "%s", err);
        return CLI_EXIT_USAGE;
    }
    char *buf = malloc(MAIF_PROOF_JSON_MAX + 1);
    if (!buf) {
        if (fd != 0) close(fd);
        cli_err(path, "out of memory");
        return CLI_EXIT_USAGE;
    }
    long n = read_all(fd, buf, MAIF_PROOF_JSON_MAX);
    int saved = errno;
    if (fd != 0) close(fd);
    if (n < 0) {
        free(buf);
        if (n == -2) cli_err(path, "larger than %d bytes: not a proof", MAIF_PROOF_JSON_MAX);
        else cli_err(path, "read error: %s", strerror(saved));
        return CLI_EXIT_USAGE;
    }
    maif_options *opt = NULL;
    if (maif_options_create(&opt) != MAIF_OK) {
        free(buf);
        cli_err(path, "out of memory");
        return CLI_EXIT_USAGE;
    }
    int ex = cli_pin_pubkeys(opt, pubs, npub);
    if (ex) {
        free(buf);
        maif_options_free(opt);
        return ex;
    }
    maif_proof *p = NULL;
    int rc = maif_proof_parse(&p, buf, (size_t)n);
    free(buf);
    if (rc == MAIF_OK) rc = maif_proof_check(p, opt);
    maif_options_free(opt);
    if (rc != MAIF_OK) {
        maif_proof_free(p);
        return cli_fail(path, rc, maif_last_errmsg());
    }
    if (maif_proof_kind(p) == MAIF_PROOF_INCLUSION)
        printf("ok: inclusion proof checks against a signed commit%s\n", npub ? " by a pinned signer" : "");
    else
        printf("ok: consistency proof checks between two signed commits%s\n", npub ? " by pinned signers" : "");
    maif_proof_free(p);
    return cli_finish(CLI_EXIT_OK);
}

const cli_command cli_cmd_check_proof = {
    "check-proof", run, "check a proof from `maif prove --json`",
    "usage: maif check-proof PROOF [--pubkey PUBFILE]...\n"
    "\n"
    "Checks PROOF (a file, or - for stdin), as `maif prove --json` printed it,\n"
    "without the artifact: each commit's record hash is recomputed from the\n"
    "bytes the proof carries, its Ed25519 signature is checked, and the audit\n"
    "(or consistency) path must lead to the commit's signed Merkle root. With\n"
    "--pubkey, every commit must be signed by one of the given keys (a .pub or\n"
    "a secret key file); without it, any valid signature is accepted and the\n"
    "signer is only reported inside the proof.\n"
    "\n"
    "exit codes: 0 the proof checks; 1 it does not (one line says why); 2 usage\n"
    "error, unreadable file, or PROOF is not proof JSON.\n",
};
