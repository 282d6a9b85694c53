/*
 * cmd_csr.c — `maif csr KEYFILE --subject /CN=...`: a PKCS#10 certificate
 * signing request for a maif key, so a CA can certify it (docs/IDENTITIES.md).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static int run(int argc, char **argv)
{
    const char *subject = NULL;
    const cli_opt opts[] = {
        {"--subject", CLI_VALUE, NULL, &subject, NULL, 0, NULL},
        {0},
    };
    const char *pos[1];
    int np;
    int pr = cli_parse(&cli_cmd_csr, argc, argv, opts, pos, 1, 1, &np);
    if (pr == CLI_PARSE_HELP) return cli_help(&cli_cmd_csr);
    if (pr != CLI_PARSE_OK) return CLI_EXIT_USAGE;
    if (!subject) return cli_usage_err(&cli_cmd_csr, "--subject is required (e.g. --subject /CN=agent-7/O=Example)");
    maif_key *key = NULL;
    int ex = cli_load_key(pos[0], &key);
    if (ex) return ex;
    char pem[16384];
    size_t len = 0;
    int rc = maif_key_csr(key, subject, pem, sizeof pem, &len);
    maif_key_free(key);
    if (rc == MAIF_EINVAL) return cli_usage_err(&cli_cmd_csr, "%s", maif_last_errmsg());
    if (rc) return cli_fail(pos[0], rc, maif_last_errmsg());
    fwrite(pem, 1, len, stdout);
    return cli_finish(CLI_EXIT_OK);
}

const cli_command cli_cmd_csr = {
    "csr", run, "print a certificate signing request for a key",
    "usage: maif csr KEYFILE --subject /CN=NAME[/O=ORG...]\n"
    "\n"
    "Prints a PEM certificate signing request (PKCS#10) for the key in\n"
    "KEYFILE (any maif key: ed25519, rsa-pss, p256), signed by that key, with\n"
    "the given subject (\"/TYPE=value\" parts; \\/ escapes a slash). A CA signs\n"
    "it (e.g. `openssl x509 -req`) and `maif cert` attaches the resulting\n"
    "chain to an artifact. The request asks for no extensions: the CA sets\n"
    "keyUsage (maif verify --ca requires digitalSignature when it is set).\n"
    "\n"
    "exit codes: 0 printed; 2 usage error (bad subject), missing or bad key.\n",
};
