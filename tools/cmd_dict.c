/*
 * cmd_dict.c — `maif dict FILE --train`: a zstd dictionary trained on the
 * artifact's own blocks, stored in it as a ZDIC block (one commit), for
 * `maif add/append --compress zstd --dict` to compress later blocks with.
 * Without --train it lists the artifact's dictionaries.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int list(const char *path)
{
    maif_reader *r = NULL;
    int rc = maif_reader_open(&r, path);
    if (rc) return cli_fail(path, rc, maif_last_errmsg());
    uint64_t n = maif_reader_count(r), found = 0;
    for (uint64_t i = 0; i < n; i++) {
        maif_block b;
        if (maif_reader_block(r, i, &b) != MAIF_OK || b.type != MAIF_TYPE_ZDICT) continue;
        char hex[2 * MAIF_ID_BYTES + 1];
        printf("%llu %s %zu\n", (unsigned long long)i, maif_hex(b.id, MAIF_ID_BYTES, hex), b.payload_size);
        found++;
    }
    maif_reader_close(r);
    if (!found) fprintf(stderr, "maif: %s: no dictionary (train one with `maif dict %s --train`)\n", path, path);
    return cli_finish(CLI_EXIT_OK);
}

static int run(int argc, char **argv)
{
    const char *keyfile = NULL, *size_s = NULL, *level_s = NULL;
    int train = 0;
    const cli_opt opts[] = {
        {"--train", CLI_FLAG, &train, NULL, NULL, 0, NULL},
        {"--size", CLI_VALUE, NULL, &size_s, NULL, 0, NULL},
        {"--level", CLI_VALUE, NULL, &level_s, NULL, 0, NULL},
        {"--key", CLI_VALUE, NULL, &keyfile, NULL, 0, NULL},
        {0},
    };
    const char *pos[1];
    int np;
    const cli_command *me = &cli_cmd_dict;
    int pr = cli_parse(me, argc, argv, opts, pos, 1, 1, &np);
    if (pr == CLI_PARSE_HELP) return cli_help(me);
    if (pr != CLI_PARSE_OK) return CLI_EXIT_USAGE;
    const char *path = pos[0];
    if (!train) {
        if (size_s || level_s || keyfile) return cli_usage_err(me, "--size, --level and --key go with --train");
        return list(path);
    }
    uint64_t size = MAIF_DICT_DEFAULT;
    if (size_s && (!cli_parse_u64(size_s, &size) || size < MAIF_DICT_MIN || size > MAIF_DICT_MAX))
        return cli_usage_err(me, "--size: a number of bytes from %u to %u", MAIF_DICT_MIN, MAIF_DICT_MAX);
    int codec = 0, level = 0;
    if (level_s) {
        char spec[64];
        snprintf(spec, sizeof spec, "zstd:%s", level_s);
        if (maif_codec_parse(spec, &codec, &level) != MAIF_OK)
            return cli_usage_err(me, "--level: a zstd level from 1 to 19");
    }
    maif_reader *r = NULL;
    int rc = maif_reader_open(&r, path);
    if (rc) return cli_fail(path, rc, maif_last_errmsg());
    uint8_t *dict = malloc((size_t)size);
    if (!dict) {
        maif_reader_close(r);
        cli_err(path, "out of memory");
        return CLI_EXIT_USAGE;
    }
    size_t n = 0;
    uint64_t used = 0;
    rc = maif_reader_dict_train(r, dict, (size_t)size, &n, &used);
    maif_reader_close(r);
    if (rc) {
        free(dict);
        cli_err(path, "cannot train a dictionary: %s", cli_detail(path, maif_last_errmsg()));
        return CLI_EXIT_USAGE;
    }
    maif_key *key = NULL;
    maif_writer *w = NULL;
    uint8_t id[MAIF_ID_BYTES];
    uint64_t index = 0;
    int ex = cli_load_key(keyfile, &key);
    if (ex) goto out;
    if ((ex = cli_open_writer(path, key, &w))) goto out;
    index = maif_writer_count(w);
    if ((rc = maif_writer_add_dict(w, dict, n, level, id)) || (rc = maif_writer_commit(w))) {
        ex = cli_fail(path, rc, maif_writer_errmsg(w));
        if (ex == CLI_EXIT_VERIFY) ex = CLI_EXIT_USAGE;
        goto out;
    }
    rc = maif_writer_close(w);
    w = NULL;
    if (rc) {
        ex = cli_fail(path, rc, maif_last_errmsg());
        goto out;
    }
    char hex[2 * MAIF_ID_BYTES + 1];
    printf("%llu %s %zu\n", (unsigned long long)index, maif_hex(id, sizeof id, hex), n);
    fprintf(stderr, "maif: %s: dictionary of %zu bytes trained on %llu blocks\n", path, n, (unsigned long long)used);
    ex = cli_finish(CLI_EXIT_OK);
out:
    maif_writer_close(w);
    maif_key_free(key);
    free(dict);
    return ex;
}

const cli_command cli_cmd_dict = {
    "dict", run, "train a zstd dictionary on an artifact's blocks and store it",
    "usage: maif dict FILE --train [--size BYTES] [--level N] [--key KEYFILE]\n"
    "       maif dict FILE\n"
    "\n"
    "--train  trains a zstd dictionary on FILE's own blocks (their decoded\n"
    "         payloads, newest first, each cut to 128 KiB, at most 100 x BYTES\n"
    "         and 32 MiB in all; encrypted blocks are skipped) and appends it\n"
    "         as a block of type ZDIC, in one commit signed with KEYFILE\n"
    "         (default: the default key). Prints \"INDEX ID32HEX SIZE\".\n"
    "         Later blocks use it with `maif add|append --compress zstd --dict`.\n"
    "--size   the dictionary's largest size, 256 to 1048576 bytes (default 65536)\n"
    "--level  the zstd level the dictionary is prepared for (1..19; default 3)\n"
    "\n"
    "Without --train, lists FILE's dictionaries: \"INDEX ID32HEX SIZE\" each.\n"
    "A dictionary is public (stored as is, like metadata) even when the\n"
    "blocks compressed with it are encrypted.\n"
    "\n"
    "exit codes: 0 done; 1 FILE is too damaged to open; 2 usage error, missing\n"
    "file, too few blocks to train on, bad key.\n",
};
