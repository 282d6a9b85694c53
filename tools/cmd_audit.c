/*
 * cmd_audit.c — `maif audit FILE [--json]`: the artifact's audit trail.
 * The whole artifact is verified first (an audit trail in a file that
 * does not verify is not evidence), then every control block is listed
 * with its own signature checked: audit records (AUDT), erasure records
 * (ERAS) and policies (POLY).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static json_t *erasure_json(const maif_block *b)
{
    json_t *o = json_object(), *ids = json_array();
    maif_erasure er;
    if (maif_erasure_parse(b, &er) == MAIF_OK) {
        for (uint32_t i = 0; i < er.count; i++) {
            char hex[2 * MAIF_ID_BYTES + 1];
            const uint8_t *id = er.entries + (size_t)i * MAIF_ERASURE_ENTRY_BYTES;
            json_array_append_new(ids, json_string(maif_hex(id, MAIF_ID_BYTES, hex)));
        }
        json_object_set_new(o, "punched", json_boolean(er.punched));
    }
    json_object_set_new(o, "blocks", ids);
    return o;
}

static int run(int argc, char **argv)
{
    int as_json = 0;
    const cli_opt opts[] = {
        {"--json", CLI_FLAG, &as_json, NULL, NULL, 0, NULL},
        {0},
    };
    const char *pos[1];
    int np;
    const cli_command *me = &cli_cmd_audit;
    int pr = cli_parse(me, argc, argv, opts, pos, 1, 1, &np);
    if (pr == CLI_PARSE_HELP) return cli_help(me);
    if (pr != CLI_PARSE_OK) return CLI_EXIT_USAGE;
    const char *path = pos[0];
    int ex = cli_check_file(path);
    if (ex) return ex;
    maif_report *rep = NULL;
    int rc = maif_verify_file(path, NULL, &rep);
    if (rc) return cli_fail(path, rc, maif_last_errmsg());
    int ok = maif_report_ok(rep);
    maif_report_free(rep);
    if (!ok) {
        cli_err(path, "does not verify (see maif verify): its audit trail cannot be trusted");
        return CLI_EXIT_VERIFY;
    }
    maif_reader *r = NULL;
    if ((ex = cli_open_reader(path, &r))) return ex;
    json_t *entries = json_array();
    int bad = 0;
    uint64_t n = maif_reader_count(r);
    for (uint64_t i = 0; i < n; i++) {
        maif_block b;
        if (maif_reader_block(r, i, &b) != MAIF_OK) continue;
        if (b.type != MAIF_TYPE_AUDIT && b.type != MAIF_TYPE_ERASURE && b.type != MAIF_TYPE_POLICY) continue;
        uint8_t actor[MAIF_PUBKEY_BYTES];
        int sig_ok = maif_reader_check_signed(r, i, actor) == MAIF_OK;
        bad |= !sig_ok;
        json_t *rec = NULL;
        const char *action = "?";
        if (b.type == MAIF_TYPE_AUDIT) {
            json_error_t je;
            rec = json_loadb((const char *)b.payload, b.payload_size, 0, &je);
            if (!json_is_object(rec)) {
                json_decref(rec);
                rec = json_object();
                sig_ok = 0;
                bad = 1;
            }
            const char *a = json_string_value(json_object_get(rec, "action"));
            action = a ? a : "?";
        } else if (b.type == MAIF_TYPE_ERASURE) {
            rec = erasure_json(&b);
            action = "shred";
        } else {
            rec = json_object();
            json_object_set_new(rec, "supersedes", json_boolean(b.has_supersedes));
            action = "policy-set";
        }
        char t[40], hid[2 * MAIF_ID_BYTES + 1], hpk[2 * MAIF_PUBKEY_BYTES + 1], ftype[5];
        cli_format_time(b.timestamp_us, t, sizeof t);
        maif_hex(b.id, sizeof b.id, hid);
        if (sig_ok) maif_hex(actor, sizeof actor, hpk);
        else strcpy(hpk, "unknown");
        if (as_json) {
            json_t *e = json_object();
            json_object_set_new(e, "index", json_integer((json_int_t)i));
            json_object_set_new(e, "id", json_string(hid));
            json_object_set_new(e, "time", json_string(t));
            json_object_set_new(e, "type", json_string(maif_type_fourcc(b.type, ftype)));
            json_object_set_new(e, "action", cli_json_string(action, strlen(action)));
            json_object_set_new(e, "actor", sig_ok ? json_string(hpk) : json_null());
            json_object_set_new(e, "signature", json_string(sig_ok ? "ok" : "bad"));
            json_object_set_new(e, "record", rec);
            json_array_append_new(entries, e);
        } else {
            char *d = json_dumps(rec, JSON_COMPACT | JSON_SORT_KEYS);
            printf("%llu %s %s ", (unsigned long long)i, t, sig_ok ? "ok " : "BAD");
            cli_put_clean(stdout, action, strlen(action));
            printf(" actor=%s ", hpk);
            if (d) cli_put_clean(stdout, d, strlen(d));
            fputc('\n', stdout);
            free(d);
            json_decref(rec);
        }
    }
    maif_reader_close(r);
    if (as_json) {
        json_t *doc = json_object();
        json_object_set_new(doc, "file", cli_json_string(path, strlen(path)));
        json_object_set_new(doc, "ok", json_boolean(!bad));
        json_object_set_new(doc, "entries", entries);
        ex = cli_print_json(doc);
        json_decref(doc);
    } else {
        json_decref(entries);
        ex = cli_finish(CLI_EXIT_OK);
    }
    if (bad) {
        cli_err(path, "an audit, erasure or policy block carries a signature that does not verify");
        return CLI_EXIT_VERIFY;
    }
    return ex;
}

const cli_command cli_cmd_audit = {
    "audit", run, "print the audit trail (grants, revocations, rotations, erasures, policies, reads)",
    "usage: maif audit FILE [--json]\n"
    "\n"
    "Verifies FILE (as `maif verify` without --pubkey), then lists its control\n"
    "blocks in order, each with its own Ed25519 signature checked: audit records\n"
    "(grant, revoke, rotate, read, ...), erasure records (shred) and policies.\n"
    "One line each:\n"
    "  INDEX TIME ok|BAD ACTION actor=HEX64 {record as JSON}\n"
    "--json   one document: {\"file\", \"ok\", \"entries\": [{\"index\", \"id\", \"time\",\n"
    "         \"type\", \"action\", \"actor\", \"signature\": \"ok\"|\"bad\", \"record\"}]}\n"
    "\n"
    "exit codes: 0 listed; 1 FILE does not verify, or a control block's own\n"
    "signature does not; 2 usage error or missing file.\n",
};
