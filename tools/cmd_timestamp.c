/*
 * cmd_timestamp.c — `maif timestamp FILE (--query OUT.tsq | --attach
 * RESP.tsr [--key KEYFILE])`: trusted timestamps (RFC 3161) for commits
 * (docs/IDENTITIES.md). --query writes the request a time-stamp authority
 * answers; --attach stores its answer in FILE and commits it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define RESP_FILE_MAX (64u << 10)

static int query(const char *path, const char *out_path)
{
    uint8_t buf[1024];
    size_t n = 0;
    int rc = maif_timestamp_query(path, buf, sizeof buf, &n);
    if (rc == MAIF_ENOTFOUND) {
        cli_err(path, "no such file");
        return CLI_EXIT_USAGE;
    }
    if (rc) return cli_fail(path, rc, maif_last_errmsg());
    FILE *f = strcmp(out_path, "-") == 0 ? stdout : fopen(out_path, "wb");
    if (!f) {
        cli_err(out_path, "cannot create");
        return CLI_EXIT_USAGE;
    }
    int bad = fwrite(buf, 1, n, f) != n;
    if (f != stdout) bad |= fclose(f) != 0;
    if (bad) {
        cli_err(out_path, "write error");
        return CLI_EXIT_USAGE;
    }
    if (f != stdout) printf("%s: a time-stamp request (%zu bytes) for the last commit of %s\n", out_path, n, path);
    return cli_finish(CLI_EXIT_OK);
}

static int attach(const char *path, const char *resp_path, const char *keyfile, const cli_p11 *p11)
{
    uint8_t *resp = NULL;
    size_t n = 0;
    int rc, ex = cli_read_file(resp_path, RESP_FILE_MAX, "over 64 KiB; not a time-stamp response", &resp, &n);
    if (ex) return ex;
    maif_key *key = NULL;
    maif_writer *w = NULL;
    ex = cli_load_signing_key(keyfile, p11, &key);
    if (!ex) ex = cli_open_writer(path, key, &w);
    uint8_t id[MAIF_ID_BYTES];
    uint64_t index = w ? maif_writer_count(w) : 0, seq = 0;
    if (!ex) {
        rc = maif_writer_add_timestamp(w, resp, n, &seq, id);
        if (rc == MAIF_EFORMAT || rc == MAIF_ELIMIT || rc == MAIF_EINVAL) {
            cli_err(resp_path, "%s", maif_last_errmsg());
            ex = CLI_EXIT_USAGE;
        } else if (rc) {
            ex = cli_fail(path, rc, maif_writer_errmsg(w));
        }
    }
    ex = cli_commit_close(path, w, ex);
    maif_key_free(key);
    free(resp);
    if (ex) return ex;
    char hex[2 * MAIF_ID_BYTES + 1];
    printf("%llu %s stamps commit %llu\n", (unsigned long long)index, maif_hex(id, MAIF_ID_BYTES, hex),
           (unsigned long long)seq);
    return cli_finish(CLI_EXIT_OK);
}

static int run(int argc, char **argv)
{
    const char *keyfile = NULL, *query_path = NULL, *resp_path = NULL;
    cli_p11 p11 = {0};
    const cli_opt opts[] = {
        {"--query", CLI_VALUE, NULL, &query_path, NULL, 0, NULL},
        {"--attach", CLI_VALUE, NULL, &resp_path, NULL, 0, NULL},
        {"--key", CLI_VALUE, NULL, &keyfile, NULL, 0, NULL},
        CLI_P11_OPTS(p11),
        {0},
    };
    const char *pos[1];
    int np;
    int pr = cli_parse(&cli_cmd_timestamp, argc, argv, opts, pos, 1, 1, &np);
    if (pr == CLI_PARSE_HELP) return cli_help(&cli_cmd_timestamp);
    if (pr != CLI_PARSE_OK) return CLI_EXIT_USAGE;
    if (!query_path == !resp_path) return cli_usage_err(&cli_cmd_timestamp, "give --query OUT or --attach RESP");
    if (query_path && (keyfile || p11.module))
        return cli_usage_err(&cli_cmd_timestamp, "--query writes nothing into FILE: no key is needed");
    return query_path ? query(pos[0], query_path) : attach(pos[0], resp_path, keyfile, &p11);
}

const cli_command cli_cmd_timestamp = {
    "timestamp", run, "trusted timestamps (RFC 3161) for commits",
    "usage: maif timestamp FILE --query OUT.tsq\n"
    "       maif timestamp FILE --attach RESP.tsr [--key KEYFILE] " CLI_P11_USAGE "\n"
    "\n"
    "A commit's time is its signer's claim. A time-stamp authority (TSA)\n"
    "signs that a commit existed at a time; through the hash chain that holds\n"
    "for every byte before it. Two steps, so that no network is needed here:\n"
    "--query OUT  writes the RFC 3161 request (DER) for the last commit of the\n"
    "             native artifact FILE to OUT (- for stdout): its imprint is\n"
    "             SHA-256 of the commit's signed message. Send it to a TSA (an\n"
    "             HTTP POST as application/timestamp-query, or `openssl ts\n"
    "             -reply -queryfile OUT`).\n"
    "--attach RESP  stores the TSA's answer (a DER time-stamp response with\n"
    "             status granted, or a bare token; at most 64 KiB) in FILE as a\n"
    "             block of type TSTK and commits it, signed with KEYFILE (default:\n"
    "             the default key) or on a PKCS#11 token. It must stamp one of\n"
    "             FILE's commits. Prints: INDEX ID stamps commit N\n"
    "`maif verify FILE --tsa-ca TSA_ROOTS.pem` checks every token (signature,\n"
    "the TSA's certificate and its timeStamping usage); with --ca and --crl a\n"
    "commit stamped before its signer's certificate was revoked stays valid.\n"
    CLI_P11_HELP
    "\n"
    "exit codes: 0 written or attached; 2 usage error, missing file, a\n"
    "response that is not a granted time-stamp or stamps none of FILE's\n"
    "commits, a 2.1 file, bad key, cannot write; 3 a wrong PIN or failing token.\n",
};
