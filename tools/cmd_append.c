/*
 * cmd_append.c — `maif append FILE [JSONL|-]`: many blocks, one commit.
 *
 * Every line of one call belongs to one transaction: the first bad line
 * rolls the whole batch back, so the artifact either gains all the lines or
 * nothing. Line numbers in errors count every physical line from 1,
 * including the blank ones that are skipped. Input is read line by line
 * (each at most CLI_LINE_MAX bytes) and "file" payloads stream, so memory
 * is bounded whatever the input; the rules for a line are the library's
 * (maif_block_draft_from_json).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static int is_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r') return 0;
    return 1;
}

/* Adds the block of one JSONL line. Returns 0, or an exit code after
 * printing the error (which names the line). */
static int add_line(maif_writer *w, const char *line, size_t len, const char *input_name, unsigned long long lineno,
                    uint64_t limit, uint8_t id[MAIF_ID_BYTES])
{
    maif_block_draft *d = NULL;
    int rc = maif_block_draft_from_json(&d, line, len);
    if (rc) {
        cli_err(input_name, "line %llu: %s (nothing committed)", lineno, maif_last_errmsg());
        return CLI_EXIT_USAGE;
    }
    cli_fd_src src = {-1, 0};
    const char *fp = maif_block_draft_file(d);
    if (fp) {
        char err[256];
        if (cli_open_input(fp, &src.fd, err, sizeof err)) {
            cli_err(input_name, "line %llu: %.200s: %s (nothing committed)", lineno, fp, err);
            maif_block_draft_free(d);
            return CLI_EXIT_USAGE;
        }
    }
    rc = maif_writer_add_draft(w, d, fp ? cli_fd_read : NULL, &src, limit, id);
    int ex = 0;
    if (rc != MAIF_OK) {
        const char *det = maif_writer_errmsg(w);
        if (src.err)
            cli_err(input_name, "line %llu: %.200s: read error: %s (nothing committed)", lineno, fp, strerror(src.err));
        else if (rc == MAIF_ELIMIT && fp)
            cli_err(input_name, "line %llu: %.200s: larger than the input limit of %llu bytes (nothing committed)",
                    lineno, fp, (unsigned long long)limit);
        else
            cli_err(input_name, "line %llu: %s (nothing committed)", lineno, det && *det ? det : maif_strerror(rc));
        ex = CLI_EXIT_USAGE;
    }
    if (src.fd > 0) close(src.fd);
    maif_block_draft_free(d);
    return ex;
}

static int run(int argc, char **argv)
{
    const char *keyfile = NULL, *compress = NULL;
    cli_p11 p11 = {0};
    const cli_opt opts[] = {
        {"--key", CLI_VALUE, NULL, &keyfile, NULL, 0, NULL},
        CLI_P11_OPTS(p11),
        {"--compress", CLI_VALUE, NULL, &compress, NULL, 0, NULL},
        {0},
    };
    const char *pos[2];
    int np;
    const cli_command *me = &cli_cmd_append;
    int pr = cli_parse(me, argc, argv, opts, pos, 1, 2, &np);
    if (pr == CLI_PARSE_HELP) return cli_help(me);
    if (pr != CLI_PARSE_OK) return CLI_EXIT_USAGE;
    const char *path = pos[0];
    const char *input = np == 2 ? pos[1] : "-";
    const char *input_name = strcmp(input, "-") == 0 ? "<stdin>" : input;
    if (strcmp(path, "-") == 0) return cli_usage_err(me, "FILE must be a file name");
    int codec = 0, level = 0;
    if (compress && maif_codec_parse(compress, &codec, &level) != MAIF_OK)
        return cli_usage_err(me, "--compress: %s", maif_last_errmsg());

    cli_lines lines = {.fd = -1, .max = cli_line_max()};
    char err[256];
    if (cli_open_input(input, &lines.fd, err, sizeof err)) {
        cli_err(input_name, "%s", err);
        return CLI_EXIT_USAGE;
    }
    maif_key *key = NULL;
    maif_writer *w = NULL;
    uint8_t *ids = NULL; /* MAIF_ID_BYTES per block added */
    size_t nblocks = 0, ids_cap = 0;
    int ex = cli_load_signing_key(keyfile, &p11, &key);
    if (ex) goto out;
    ex = cli_open_writer(path, key, &w);
    if (ex) goto out;
    int crc;
    if (compress && (crc = maif_writer_set_codec(w, codec, level)) != MAIF_OK) {
        ex = cli_fail(path, crc, maif_writer_errmsg(w));
        goto out;
    }
    uint64_t first = maif_writer_count(w), limit = cli_payload_limit();
    for (;;) {
        const char *line;
        size_t len;
        int got = cli_lines_next(&lines, &line, &len, err, sizeof err);
        if (got < 0) {
            cli_err(input_name, "line %llu: %s (nothing committed)", lines.lineno, err);
            ex = CLI_EXIT_USAGE;
            break;
        }
        if (got == 0) break;
        if (is_blank(line, len)) continue;
        if (nblocks == ids_cap) {
            size_t ncap = ids_cap ? ids_cap * 2 : 64;
            uint8_t *p = realloc(ids, ncap * MAIF_ID_BYTES);
            if (!p) {
                cli_err(input_name, "out of memory (nothing committed)");
                ex = CLI_EXIT_USAGE;
                break;
            }
            ids = p;
            ids_cap = ncap;
        }
        if ((ex = add_line(w, line, len, input_name, lines.lineno, limit, ids + nblocks * MAIF_ID_BYTES))) break;
        nblocks++;
    }
    if (ex) {
        (void)!maif_writer_rollback(w); /* the error at hand is reported; close rolls back too */
        goto out;
    }
    if (nblocks > 0) {
        int rc = maif_writer_commit(w);
        if (rc != MAIF_OK) {
            ex = cli_fail(path, rc, maif_writer_errmsg(w));
            if (ex == CLI_EXIT_VERIFY) ex = CLI_EXIT_USAGE;
            (void)!maif_writer_rollback(w); /* as above */
            goto out;
        }
    }
    int rc = maif_writer_close(w);
    w = NULL;
    if (rc != MAIF_OK) {
        ex = cli_fail(path, rc, maif_last_errmsg());
        goto out;
    }
    for (size_t i = 0; i < nblocks; i++) {
        char hex[2 * MAIF_ID_BYTES + 1];
        printf("%llu %s\n", (unsigned long long)(first + i), maif_hex(ids + i * MAIF_ID_BYTES, MAIF_ID_BYTES, hex));
    }
    ex = cli_finish(CLI_EXIT_OK);
out:
    maif_writer_close(w);
    maif_key_free(key);
    free(ids);
    cli_lines_free(&lines);
    if (lines.fd > 0) close(lines.fd);
    return ex;
}

const cli_command cli_cmd_append = {
    "append", run, "add many blocks from JSON lines, in one transaction",
    "usage: maif append FILE [JSONL|-] [--key KEYFILE] [--compress C]\n"
    "       " CLI_P11_USAGE "\n"
    "\n"
    "Reads one JSON object per line from JSONL (default: stdin; each line at\n"
    "most 16 MiB, or MAIF_INPUT_LIMIT bytes if smaller)\n"
    "and appends every line as a block of FILE, all in one commit signed with\n"
    "KEYFILE (default: the default key). Blank lines are skipped. Each line:\n"
    "  \"type\"   required: a type as for `maif add --type`\n"
    "  exactly one of:\n"
    "  \"text\"   a string, stored as UTF-8\n"
    "  \"file\"   a path (relative to the current directory) whose bytes are stored,\n"
    "           streamed, at most 4 GiB (MAIF_INPUT_LIMIT); a named pipe is refused\n"
    "  \"base64\" bytes in base64 (for embeddings: raw float32 little-endian,\n"
    "           every value finite; meta \"dimensions\" if given must divide them)\n"
    "  \"vector\" embeddings only: an array of numbers, or of equal-length rows\n"
    "  \"meta\"   optional: a JSON object of metadata\n"
    "  \"compress\" optional: this block's compression, as for --compress\n"
    "Any other key is an error. For example:\n"
    "  {\"type\":\"text\",\"text\":\"hello\",\"meta\":{\"source\":\"chat\"}}\n"
    "  {\"type\":\"embedding\",\"vector\":[0.1,0.2]}\n"
    "On success prints \"INDEX ID32HEX\" for every block added. If any line is\n"
    "bad, nothing is committed: the error names the line (counting from 1).\n"
    "If another writer has FILE open, waits up to 10 s for it (then exit 2).\n"
    "--compress C  compress every block (unless its line says otherwise):\n"
    "              zstd (level 3), zstd:N (N 1..19), zstd:fast[:N] (zstd's\n"
    "              fast level -N, N 1..100), lz4, or none (the default). A block\n"
    "              whose compression saves less than 16 bytes or 1/32 of it is\n"
    "              stored as is. Compressed payloads are read whole into memory.\n"
    "\n"
    CLI_P11_HELP
    "\n"
    "exit codes: 0 committed; 1 FILE is too damaged to open; 2 usage error,\n"
    "missing file, a bad line, bad key, or a 2.1 file (convert first).\n",
};
