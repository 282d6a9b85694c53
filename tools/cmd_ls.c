/*
 * cmd_ls.c — `maif ls FILE [--json] [--all]`: the data blocks in append
 * order, numbered from 0, as every other command numbers them. --all walks
 * maif_reader_record instead, so internal records (index, commit; or the
 * 2.1 sections) appear in file order between the blocks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Prints meta cut to about CLI_LS_META_WIDTH bytes at a UTF-8 boundary. */
static void print_meta(const char *m, size_t n)
{
    if (!m || n == 0) {
        fputs("-", stdout);
        return;
    }
    if (n <= CLI_LS_META_WIDTH) {
        cli_put_clean(stdout, m, n);
        return;
    }
    size_t cut = CLI_LS_META_WIDTH - 3;
    while (cut > 0 && ((unsigned char)m[cut] & 0xc0) == 0x80) cut--;
    cli_put_clean(stdout, m, cut);
    fputs("...", stdout);
}

/* For a compressed block: its codec and decoded size (0 if it does not
 * tell, such as an unknown codec or a hostile size). */
static size_t decoded_of(maif_reader *r, const maif_block *b)
{
    size_t ds = 0;
    if (maif_reader_block_decoded_size(r, b->index, &ds) != MAIF_OK) ds = 0;
    return ds;
}

static void print_block_line(maif_reader *r, const maif_block *b, int with_offset)
{
    char t5[5], ts[48], hex[2 * MAIF_ID_BYTES + 1];
    cli_format_time(b->timestamp_us, ts, sizeof ts);
    printf("%6llu  %-9s %10zu  %s  %s  ", (unsigned long long)b->index, cli_type_label(b->type, t5), b->payload_size,
           ts, maif_hex(b->id, MAIF_ID_BYTES, hex));
    if (with_offset) printf("@0x%llx  ", (unsigned long long)b->offset);
    if (b->codec) {
        size_t ds = decoded_of(r, b);
        if (ds && b->payload_size)
            printf("[%s %zu->%zu %.2fx]  ", maif_codec_name(b->codec), ds, b->payload_size,
                   (double)ds / (double)b->payload_size);
        else
            printf("[%s]  ", maif_codec_name(b->codec));
    }
    print_meta(b->meta, b->meta_size);
    fputc('\n', stdout);
}

static json_t *block_json(maif_reader *r, const maif_block *b)
{
    char t5[5], hex[2 * MAIF_HASH_BYTES + 1];
    json_t *o = json_object();
    if (!o) return NULL;
    json_t *meta = NULL;
    if (b->meta && b->meta_size) {
        meta = json_loadb(b->meta, b->meta_size, 0, NULL);
        if (!meta) meta = cli_json_string(b->meta, b->meta_size); /* not JSON: keep the text */
    } else
        meta = json_null();
    int bad = json_object_set_new(o, "index", json_integer((json_int_t)b->index)) |
              json_object_set_new(o, "type", json_string(cli_type_label(b->type, t5))) |
              json_object_set_new(o, "size", json_integer((json_int_t)b->payload_size)) |
              json_object_set_new(o, "timestamp_us", json_integer((json_int_t)b->timestamp_us)) |
              json_object_set_new(o, "id", json_string(maif_hex(b->id, MAIF_ID_BYTES, hex))) |
              json_object_set_new(o, "meta", meta) |
              json_object_set_new(o, "offset", json_integer((json_int_t)b->offset)) |
              json_object_set_new(o, "content_hash", json_string(maif_hex(b->content_hash, MAIF_HASH_BYTES, hex)));
    if (b->has_supersedes)
        bad |= json_object_set_new(o, "supersedes", json_string(maif_hex(b->supersedes, MAIF_ID_BYTES, hex)));
    if (b->codec) { /* "size" stays the stored size */
        bad |= json_object_set_new(o, "codec", json_string(maif_codec_name(b->codec)));
        size_t ds = decoded_of(r, b);
        if (ds) bad |= json_object_set_new(o, "decoded_size", json_integer((json_int_t)ds));
    }
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static int run(int argc, char **argv)
{
    int as_json = 0, all = 0;
    const cli_opt opts[] = {
        {"--json", CLI_FLAG, &as_json, NULL, NULL, 0, NULL},
        {"--all", CLI_FLAG, &all, NULL, NULL, 0, NULL},
        {0},
    };
    const char *pos[1];
    int np;
    int pr = cli_parse(&cli_cmd_ls, argc, argv, opts, pos, 1, 1, &np);
    if (pr == CLI_PARSE_HELP) return cli_help(&cli_cmd_ls);
    if (pr != CLI_PARSE_OK) return CLI_EXIT_USAGE;
    const char *path = pos[0];

    maif_reader *r = NULL;
    int ex = cli_open_reader(path, &r);
    if (ex) return ex;
    json_t *arr = as_json ? json_array() : NULL;
    int damaged = 0;
    if (as_json && !arr) {
        maif_reader_close(r);
        cli_err(path, "out of memory");
        return CLI_EXIT_USAGE;
    }
    if (!all) {
        uint64_t n = maif_reader_count(r);
        for (uint64_t i = 0; i < n; i++) {
            maif_block b;
            int rc = maif_reader_block(r, i, &b);
            if (rc != MAIF_OK) {
                const char *d = maif_reader_errmsg(r);
                cli_err(path, "block %llu: %s", (unsigned long long)i, d && *d ? d : maif_strerror(rc));
                damaged = 1;
                continue;
            }
            if (as_json)
                json_array_append_new(arr, block_json(r, &b));
            else
                print_block_line(r, &b, 0);
        }
    } else {
        for (uint64_t i = 0;; i++) {
            maif_record rec;
            int rc = maif_reader_record(r, i, &rec);
            if (rc == MAIF_ENOTFOUND) break;
            if (rc != MAIF_OK) {
                const char *d = maif_reader_errmsg(r);
                cli_err(path, "record %llu: %s", (unsigned long long)i, d && *d ? d : maif_strerror(rc));
                damaged = 1;
                break;
            }
            if (rec.block_index >= 0) {
                maif_block b;
                rc = maif_reader_block(r, (uint64_t)rec.block_index, &b);
                if (rc != MAIF_OK) {
                    const char *d = maif_reader_errmsg(r);
                    cli_err(path, "block %lld: %s", (long long)rec.block_index, d && *d ? d : maif_strerror(rc));
                    damaged = 1;
                    continue;
                }
                if (as_json) {
                    json_t *o = block_json(r, &b);
                    if (o) json_object_set_new(o, "kind", json_string(rec.kind ? rec.kind : "block"));
                    json_array_append_new(arr, o);
                } else
                    print_block_line(r, &b, 1);
            } else {
                const char *kind = rec.kind ? rec.kind : "?";
                if (as_json) {
                    json_t *o = json_object();
                    json_object_set_new(o, "kind", json_string(kind));
                    json_object_set_new(o, "offset", json_integer((json_int_t)rec.offset));
                    json_object_set_new(o, "size", json_integer((json_int_t)rec.size));
                    json_array_append_new(arr, o);
                } else {
                    printf("%6s  [%s] %llu bytes  @0x%llx\n", "-", kind, (unsigned long long)rec.size,
                           (unsigned long long)rec.offset);
                }
            }
        }
    }
    if (as_json) {
        ex = cli_print_json(arr);
        json_decref(arr);
    }
    maif_reader_close(r);
    if (!ex && damaged) ex = CLI_EXIT_VERIFY;
    return cli_finish(ex);
}

const cli_command cli_cmd_ls = {
    "ls", run, "list the data blocks",
    "usage: maif ls FILE [--json] [--all]\n"
    "\n"
    "Lists the data blocks of FILE (native or MAIF 2.1) in the order they were\n"
    "added, numbered from 0. One line per block:\n"
    "  INDEX  TYPE  SIZE  TIMESTAMP  ID  META\n"
    "TYPE is the type name (or its four characters when unknown), SIZE the\n"
    "stored payload bytes, TIMESTAMP ISO-8601 UTC with microseconds, ID the 32-hex\n"
    "block id, META the canonical metadata cut to about 60 bytes (\"-\": none).\n"
    "A compressed block shows \"[CODEC DECODED->STORED RATIOx]\" before META.\n"
    "--all    every record in file order: blocks (with @0xOFFSET) and internal\n"
    "         records (index, commit; for 2.1 files its sections) as\n"
    "         \"-  [KIND] SIZE bytes  @0xOFFSET\"\n"
    "--json   one JSON array of {\"index\",\"type\",\"size\",\"timestamp_us\",\"id\",\n"
    "         \"meta\" (the metadata object, or null),\"offset\",\"content_hash\"\n"
    "         (hex: the artifact's content hash of the stored bytes, `maif info`\n"
    "         names the function),\"supersedes\"\n"
    "         (only when set), \"codec\" and \"decoded_size\" (only when\n"
    "         compressed)}; with --all every element has a \"kind\" and\n"
    "         internal records are {\"kind\",\"offset\",\"size\"}\n"
    "\n"
    "exit codes: 0 listed; 1 FILE is not a readable MAIF artifact or a block is\n"
    "damaged; 2 usage error or missing/unreadable file.\n",
};
