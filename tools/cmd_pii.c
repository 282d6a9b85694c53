/*
 * cmd_pii.c — `maif pii FILE`: a report of the personal data in an
 * artifact's text and json blocks, decrypting those the caller holds a key
 * for. Values are never printed in the clear: each finding shows its
 * masked form (all letters and digits but the last four as '*').
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* the value with every ASCII letter and digit but the last four as '*'
 * (other bytes, such as UTF-8 letters of names, become '*' too) */
static json_t *masked(const maif_pii_finding *f)
{
    char *m = malloc(f->length + 1);
    if (!m) return json_string("?");
    size_t keep = 0, k = f->length;
    while (k > 0 && keep < 4) {
        unsigned char c = (unsigned char)f->text[--k];
        if ((c >= '0' && c <= '9') || ((c | 32) >= 'a' && (c | 32) <= 'z')) keep++;
    }
    for (size_t i = 0; i < f->length; i++) {
        unsigned char c = (unsigned char)f->text[i];
        int word = (c >= '0' && c <= '9') || ((c | 32) >= 'a' && (c | 32) <= 'z') || c >= 0x80;
        m[i] = (char)(i < k && word ? '*' : c);
    }
    json_t *j = cli_json_string(m, f->length);
    free(m);
    return j ? j : json_string("?");
}

static int run(int argc, char **argv)
{
    const char *identity = NULL, *passfile = NULL, *patterns = NULL;
    int as_json = 0;
    const cli_opt opts[] = {
        {"--json", CLI_FLAG, &as_json, NULL, NULL, 0, NULL},
        {"--identity", CLI_VALUE, NULL, &identity, NULL, 0, NULL},
        {"--passphrase-file", CLI_VALUE, NULL, &passfile, NULL, 0, NULL},
        {"--pii-patterns", CLI_VALUE, NULL, &patterns, NULL, 0, NULL},
        {0},
    };
    const char *pos[1];
    int np;
    const cli_command *me = &cli_cmd_pii;
    int pr = cli_parse(me, argc, argv, opts, pos, 1, 1, &np);
    if (pr == CLI_PARSE_HELP) return cli_help(me);
    if (pr != CLI_PARSE_OK) return CLI_EXIT_USAGE;
    if (identity && passfile) return cli_usage_err(me, "give --identity or --passphrase-file, not both");
    const char *path = pos[0];
    maif_keyring *kr = NULL;
    maif_reader *r = NULL;
    maif_pii_scanner *s = NULL;
    int ex = cli_pii_scanner(patterns, &s);
    if (ex) return ex;
    if ((identity || passfile) && (ex = cli_keyring_for_reading(identity, passfile, &kr))) goto out;
    if ((ex = cli_open_reader(path, &r))) goto out;
    if (kr && maif_reader_set_keyring(r, kr) != MAIF_OK) {
        ex = cli_fail(path, MAIF_ENOMEM, maif_last_errmsg());
        goto out;
    }
    json_t *doc = json_object(), *list = json_array(), *counts = json_object(), *skipped = json_array();
    uint64_t scanned = 0, total = 0, nblocks = maif_reader_count(r);
    for (uint64_t i = 0; i < nblocks && !ex; i++) {
        maif_block b;
        int rc = maif_reader_block(r, i, &b);
        if (rc) {
            ex = cli_fail(path, rc, maif_reader_errmsg(r));
            break;
        }
        if (b.type != MAIF_TYPE_TEXT && b.type != MAIF_TYPE_JSON) continue;
        uint8_t *dec = NULL;
        const char *text = (const char *)b.payload;
        size_t len = b.payload_size;
        if (b.codec || b.cipher) {
            size_t need = 0, got = 0;
            rc = maif_reader_block_decoded_size(r, i, &need);
            if (rc == MAIF_OK && need > cli_payload_limit()) rc = MAIF_ELIMIT;
            if (rc == MAIF_OK && !(dec = malloc(need ? need : 1))) rc = MAIF_ENOMEM;
            if (rc == MAIF_OK) rc = maif_reader_block_decode(r, i, dec, need, &got);
            if (rc != MAIF_OK) {
                free(dec);
                json_t *sk = json_object();
                json_object_set_new(sk, "block", json_integer((json_int_t)i));
                json_object_set_new(sk, "reason", json_string(rc == MAIF_EACCESS ? "encrypted, no usable key"
                                                              : maif_strerror(rc)));
                json_array_append_new(skipped, sk);
                continue;
            }
            text = (const char *)dec;
            len = got;
        }
        size_t n = 0;
        rc = maif_pii_scan(s, text, len, &n);
        if (rc && rc != MAIF_ELIMIT) {
            free(dec);
            ex = cli_fail(path, rc, maif_last_errmsg());
            break;
        }
        scanned++;
        for (size_t k = 0; k < n; k++) {
            const maif_pii_finding *f = maif_pii_scanner_finding(s, k);
            json_t *o = json_object();
            json_object_set_new(o, "block", json_integer((json_int_t)i));
            json_object_set_new(o, "type", json_string(maif_pii_type_name(f->type)));
            json_object_set_new(o, "label", json_string(f->label));
            json_object_set_new(o, "offset", json_integer((json_int_t)f->offset));
            json_object_set_new(o, "length", json_integer((json_int_t)f->length));
            json_object_set_new(o, "masked", masked(f));
            json_array_append_new(list, o);
            json_t *c = json_object_get(counts, f->label);
            json_object_set_new(counts, f->label, json_integer(c ? json_integer_value(c) + 1 : 1));
            total++;
        }
        free(dec);
    }
    if (!ex) {
        if (as_json) {
            json_object_set_new(doc, "file", json_string(path));
            json_object_set_new(doc, "blocks_scanned", json_integer((json_int_t)scanned));
            json_object_set_new(doc, "findings", json_incref(list));
            json_object_set_new(doc, "counts", json_incref(counts));
            json_object_set_new(doc, "skipped", json_incref(skipped));
            ex = cli_print_json(doc);
        } else {
            for (size_t k = 0; k < json_array_size(list); k++) {
                json_t *o = json_array_get(list, k);
                printf("%lld %s %lld+%lld ", (long long)json_integer_value(json_object_get(o, "block")),
                       json_string_value(json_object_get(o, "label")),
                       (long long)json_integer_value(json_object_get(o, "offset")),
                       (long long)json_integer_value(json_object_get(o, "length")));
                const char *mv = json_string_value(json_object_get(o, "masked"));
                cli_put_clean(stdout, mv, strlen(mv));
                putchar('\n');
            }
            for (size_t k = 0; k < json_array_size(skipped); k++) {
                json_t *o = json_array_get(skipped, k);
                printf("%lld skipped: %s\n", (long long)json_integer_value(json_object_get(o, "block")),
                       json_string_value(json_object_get(o, "reason")));
            }
            printf("%llu findings in %llu text blocks (%zu skipped)\n", (unsigned long long)total,
                   (unsigned long long)scanned, json_array_size(skipped));
            ex = cli_finish(CLI_EXIT_OK);
        }
    }
    json_decref(doc);
    json_decref(list);
    json_decref(counts);
    json_decref(skipped);
out:
    maif_reader_close(r);
    maif_keyring_free(kr);
    maif_pii_scanner_free(s);
    return ex;
}

const cli_command cli_cmd_pii = {
    "pii", run, "report personal data found in text blocks",
    "usage: maif pii FILE [--json] [--identity KEY | --passphrase-file F] [--pii-patterns CONF]\n"
    "\n"
    "Scans every text and json block of FILE for personal data: e-mail\n"
    "addresses, phone numbers, payment cards (Luhn), IBANs (mod-97), US SSNs,\n"
    "IPv4 and IPv6 addresses, MAC addresses, dates of birth and person names\n"
    "in context, and the custom PCRE2 patterns of CONF (NAME = PATTERN lines;\n"
    "their findings are labelled NAME). Encrypted blocks are decrypted with\n"
    "--identity KEY or --passphrase-file F; those no key opens are listed as\n"
    "skipped. Values are shown masked (all letters and digits but the last\n"
    "four as *), never in the clear. One line per finding:\n"
    "  BLOCK LABEL OFFSET+LENGTH MASKED\n"
    "then \"N findings in M text blocks (K skipped)\". --json prints\n"
    "{\"file\", \"blocks_scanned\", \"findings\": [{\"block\", \"type\", \"label\",\n"
    "\"offset\", \"length\", \"masked\"}], \"counts\": {LABEL: N}, \"skipped\":\n"
    "[{\"block\", \"reason\"}]}. Offsets are bytes of the decoded payload.\n"
    "\n"
    "exit codes: 0 report printed (whether or not anything was found); 1 FILE\n"
    "is too damaged to read; 2 usage error, missing file, bad CONF or key file.\n",
};
