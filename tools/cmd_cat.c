/*
 * cmd_cat.c — `maif cat FILE BLOCK`: the payload, byte for byte, on
 * stdout (decoded when the block has a codec or cipher). BLOCK is the index `maif ls` shows or a 32-hex-digit block id.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* 1 and *out for a plain decimal index (no sign, no spaces), else 0. */
static int parse_index(const char *s, uint64_t *out)
{
    if (!*s || strlen(s) > 20) return 0;
    uint64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9') return 0;
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10) return 0;
        v = v * 10 + d;
    }
    *out = v;
    return 1;
}

static int run(int argc, char **argv)
{
    const cli_opt opts[] = {{0}};
    const char *pos[2];
    int np;
    int pr = cli_parse(&cli_cmd_cat, argc, argv, opts, pos, 2, 2, &np);
    if (pr == CLI_PARSE_HELP) return cli_help(&cli_cmd_cat);
    if (pr != CLI_PARSE_OK) return CLI_EXIT_USAGE;
    const char *path = pos[0], *sel = pos[1];

    uint64_t index = 0;
    uint8_t id[MAIF_ID_BYTES];
    int by_id = 0;
    if (strlen(sel) == 2 * MAIF_ID_BYTES && maif_unhex(sel, id, sizeof id) == MAIF_OK)
        by_id = 1;
    else if (!parse_index(sel, &index))
        return cli_usage_err(&cli_cmd_cat, "BLOCK must be a block index or a 32-hex-digit block id, not '%.80s'",
                             sel);

    maif_reader *r = NULL;
    int ex = cli_open_reader(path, &r);
    if (ex) return ex;
    if (by_id) {
        int rc = maif_reader_find(r, id, &index);
        if (rc == MAIF_ENOTFOUND) {
            cli_err(path, "no block with id %s", sel);
            maif_reader_close(r);
            return CLI_EXIT_USAGE;
        }
        if (rc != MAIF_OK) {
            ex = cli_fail(path, rc, maif_reader_errmsg(r));
            maif_reader_close(r);
            return ex;
        }
    } else if (index >= maif_reader_count(r)) {
        cli_err(path, "block index %llu out of range (%llu blocks)", (unsigned long long)index,
                (unsigned long long)maif_reader_count(r));
        maif_reader_close(r);
        return CLI_EXIT_USAGE;
    }
    maif_block b;
    int rc = maif_reader_block(r, index, &b);
    if (rc != MAIF_OK) {
        const char *d = maif_reader_errmsg(r);
        cli_err(path, "block %llu: %s", (unsigned long long)index, d && *d ? d : maif_strerror(rc));
        maif_reader_close(r);
        return rc == MAIF_ENOTFOUND ? CLI_EXIT_USAGE : CLI_EXIT_VERIFY;
    }
    /* A block with a codec or cipher is written decoded (zstd and lz4 are
     * built in; another id fails with MAIF_EUNSUPPORTED: a newer writer,
     * or damage); exit code 3 stays reserved for a real access decision.
     * The decoded size is bounded by the input limit before anything is
     * allocated for it. */
    uint8_t *decoded = NULL;
    if (b.cipher != 0 || b.codec != 0) {
        size_t n = 0, got = 0;
        rc = maif_reader_block_decoded_size(r, index, &n);
        if (rc == MAIF_OK && n > cli_payload_limit()) {
            cli_err(path, "block %llu decodes to %zu bytes, over the limit of %llu (MAIF_INPUT_LIMIT)",
                    (unsigned long long)index, n, (unsigned long long)cli_payload_limit());
            maif_reader_close(r);
            return CLI_EXIT_VERIFY;
        }
        if (rc == MAIF_OK && !(decoded = malloc(n ? n : 1))) rc = MAIF_ENOMEM;
        if (rc == MAIF_OK) rc = maif_reader_block_decode(r, index, decoded, n, &got);
        if (rc != MAIF_OK) {
            cli_err(path, "block %llu (codec %u, cipher %u) cannot be decoded: %s", (unsigned long long)index, b.codec,
                    b.cipher, rc == MAIF_ENOMEM ? maif_strerror(rc) : maif_reader_errmsg(r));
            free(decoded);
            maif_reader_close(r);
            return CLI_EXIT_VERIFY;
        }
        b.payload = decoded;
        b.payload_size = got;
    }
    size_t off = 0;
    while (off < b.payload_size) {
        size_t w = fwrite(b.payload + off, 1, b.payload_size - off, stdout);
        if (w == 0) break;
        off += w;
    }
    maif_reader_close(r);
    free(decoded);
    if (off < b.payload_size) {
        cli_err("stdout", "write error: %s", strerror(errno));
        return CLI_EXIT_USAGE;
    }
    return cli_finish(CLI_EXIT_OK);
}

const cli_command cli_cmd_cat = {
    "cat", run, "write a block's payload to stdout",
    "usage: maif cat FILE BLOCK\n"
    "\n"
    "Writes the payload of one block of FILE (native or MAIF 2.1) to stdout,\n"
    "byte for byte, with nothing added. BLOCK is a block index as `maif ls`\n"
    "numbers them (from 0) or a block id (32 hex digits). Embeddings come out\n"
    "as their stored float32 little-endian rows.\n"
    "\n"
    "exit codes: 0 written; 1 FILE is not a readable MAIF artifact, or the block\n"
    "is damaged or uses a codec/cipher this version cannot decode; 2 usage\n"
    "error, missing file, index out of range, unknown id.\n",
};
