/*
 * cmd_add.c — `maif add`: one block, committed at once. Everything that can
 * be checked without the artifact (type, metadata, payload) is checked
 * before the writer is opened, so a bad invocation never touches the file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int run(int argc, char **argv)
{
    const char *type_s = NULL, *text = NULL, *file = NULL, *meta_s = NULL, *keyfile = NULL;
    const cli_opt opts[] = {
        {"--type", CLI_VALUE, NULL, &type_s, NULL, 0, NULL},
        {"--text", CLI_VALUE, NULL, &text, NULL, 0, NULL},
        {"--file", CLI_VALUE, NULL, &file, NULL, 0, NULL},
        {"--meta", CLI_VALUE, NULL, &meta_s, NULL, 0, NULL},
        {"--key", CLI_VALUE, NULL, &keyfile, NULL, 0, NULL},
        {0},
    };
    const char *pos[2];
    int np;
    const cli_command *me = &cli_cmd_add;
    int pr = cli_parse(me, argc, argv, opts, pos, 1, 2, &np);
    if (pr == CLI_PARSE_HELP) return cli_help(me);
    if (pr != CLI_PARSE_OK) return CLI_EXIT_USAGE;
    const char *path = pos[0];
    int from_stdin = 0;
    if (np == 2) {
        if (strcmp(pos[1], "-") != 0) return cli_usage_err(me, "unexpected argument '%s'", pos[1]);
        from_stdin = 1;
    }
    if (strcmp(path, "-") == 0) return cli_usage_err(me, "FILE must be a file name");
    if (!type_s) return cli_usage_err(me, "missing --type");
    if ((text != NULL) + (file != NULL) + from_stdin != 1)
        return cli_usage_err(me, "give exactly one of --text STRING, --file PATH or -");
    uint32_t type;
    if (maif_type_parse(type_s, &type) != MAIF_OK)
        return cli_usage_err(me, "unknown type '%s' (text, image, audio, video, embedding, json, knowledge, binary, "
                                 "meta, or four ASCII characters)", type_s);

    char err[512];
    json_t *meta = NULL;
    if (meta_s) {
        meta = cli_parse_meta(meta_s, strlen(meta_s), err, sizeof err);
        if (!meta) {
            cli_err(path, "--meta: %s", err);
            return CLI_EXIT_USAGE;
        }
    }
    uint8_t *data = NULL;
    size_t n = 0;
    int rc = 0;
    if (file || from_stdin) {
        rc = cli_read_input(file ? file : "-", &data, &n);
        if (rc) {
            json_decref(meta);
            return rc;
        }
    }
    const uint8_t *bytes = text ? (const uint8_t *)text : data;
    size_t nbytes = text ? strlen(text) : n;
    cli_block b;
    if (cli_block_build(&b, type, CLI_SRC_BYTES, bytes, nbytes, NULL, meta, err, sizeof err)) {
        cli_err(file ? file : from_stdin ? "<stdin>" : path, "%s", err);
        json_decref(meta);
        free(data);
        return CLI_EXIT_USAGE;
    }
    json_decref(meta);

    maif_key *key = NULL;
    maif_writer *w = NULL;
    int ex = cli_load_key(keyfile, &key);
    if (ex) goto out;
    ex = cli_open_writer(path, key, &w);
    if (ex) goto out;
    uint64_t index = maif_writer_count(w);
    uint8_t id[MAIF_ID_BYTES];
    maif_block_spec spec = {
        .type = b.type,
        .payload = b.payload,
        .payload_size = b.payload_size,
        .meta_json = b.meta,
        .meta_size = b.meta ? strlen(b.meta) : 0,
    };
    rc = maif_writer_add(w, &spec, id);
    if (rc == MAIF_OK) rc = maif_writer_commit(w);
    if (rc != MAIF_OK) {
        ex = cli_fail(path, rc, maif_writer_errmsg(w));
        if (ex == CLI_EXIT_VERIFY) ex = CLI_EXIT_USAGE; /* a bad block is bad input, not a bad file */
        (void)!maif_writer_rollback(w); /* best effort: close rolls back anyway, and the error is reported */
        goto out;
    }
    rc = maif_writer_close(w);
    w = NULL;
    if (rc != MAIF_OK) {
        ex = cli_fail(path, rc, maif_last_errmsg());
        goto out;
    }
    char hex[2 * MAIF_ID_BYTES + 1];
    printf("%llu %s\n", (unsigned long long)index, maif_hex(id, sizeof id, hex));
    ex = cli_finish(CLI_EXIT_OK);
out:
    maif_writer_close(w);
    maif_key_free(key);
    cli_block_free(&b);
    free(data);
    return ex;
}

const cli_command cli_cmd_add = {
    "add", run, "add one block and commit it",
    "usage: maif add FILE --type TYPE (--text STRING | --file PATH | -) [--meta JSON] [--key KEYFILE]\n"
    "\n"
    "Appends one block to the native artifact FILE and commits it, signed with\n"
    "KEYFILE (default: the default key). The payload is STRING, the bytes of\n"
    "PATH, or stdin (-), at most 4 GiB. Prints the new block's index and id:\n"
    "  INDEX ID32HEX\n"
    "\n"
    "TYPE: text, image, audio, video, embedding, json, knowledge, binary, meta,\n"
    "or any four ASCII characters (a raw type code such as TEXT).\n"
    "  embedding  the payload is a JSON array of numbers, or an array of\n"
    "             equal-length arrays (rows); it is stored as float32\n"
    "             little-endian rows and {\"count\":N,\"dimensions\":D,\n"
    "             \"dtype\":\"float32\"} is merged into the metadata\n"
    "  json       the payload must be valid JSON (stored as given)\n"
    "--meta JSON  a JSON object of metadata (stored in canonical form)\n"
    "\n"
    "exit codes: 0 added; 1 FILE is too damaged to open; 2 usage error,\n"
    "missing file, bad type, bad JSON, bad key, or a 2.1 file (convert first).\n",
};
