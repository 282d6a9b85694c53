/*
 * cmd_info.c — `maif info FILE [--json]`: artifact-level facts from
 * maif_reader_info. It reads structure only; `maif verify` checks hashes
 * and signatures.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* Compression totals over the data blocks (a damaged or undecodable
 * block is left out of the sizes; verify reports it). */
typedef struct ztotals {
    unsigned long long blocks, per_codec[3], stored, decoded;
} ztotals;

static void count_compressed(maif_reader *r, uint64_t n, ztotals *z)
{
    memset(z, 0, sizeof *z);
    for (uint64_t i = 0; i < n; i++) {
        maif_block b;
        size_t ds;
        if (maif_reader_block(r, i, &b) != MAIF_OK || b.codec == 0) continue;
        z->blocks++;
        if (b.codec < 3) z->per_codec[b.codec]++;
        if (maif_reader_block_decoded_size(r, i, &ds) != MAIF_OK) continue;
        z->stored += b.payload_size;
        z->decoded += ds;
    }
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
    int pr = cli_parse(&cli_cmd_info, argc, argv, opts, pos, 1, 1, &np);
    if (pr == CLI_PARSE_HELP) return cli_help(&cli_cmd_info);
    if (pr != CLI_PARSE_OK) return CLI_EXIT_USAGE;
    const char *path = pos[0];

    maif_reader *r = NULL;
    int ex = cli_open_reader(path, &r);
    if (ex) return ex;
    maif_info in;
    memset(&in, 0, sizeof in);
    int rc = maif_reader_info(r, &in);
    if (rc != MAIF_OK) {
        ex = cli_fail(path, rc, maif_reader_errmsg(r));
        maif_reader_close(r);
        return ex;
    }
    char created[48], modified[48], fid[2 * MAIF_ID_BYTES + 1], signer[2 * MAIF_PUBKEY_BYTES + 1],
        root[2 * MAIF_HASH_BYTES + 1], version[32];
    cli_format_time(in.created_us, created, sizeof created);
    cli_format_time(in.modified_us, modified, sizeof modified);
    maif_hex(in.file_id, sizeof in.file_id, fid);
    maif_hex(in.signer, sizeof in.signer, signer);
    maif_hex(in.merkle_root, sizeof in.merkle_root, root);
    snprintf(version, sizeof version, "%u.%u", in.version_major, in.version_minor);
    const char *agent = in.agent ? in.agent : "";
    const char *conv = in.converted_from ? in.converted_from : "";
    ztotals z;
    count_compressed(r, in.block_count, &z);

    if (as_json) {
        json_t *o = json_object();
        if (o) {
            json_object_set_new(o, "file", cli_json_string(path, strlen(path)));
            json_object_set_new(o, "format", json_string(cli_format_name(in.format)));
            json_object_set_new(o, "version", json_string(version));
            json_object_set_new(o, "size", json_integer((json_int_t)in.file_size));
            json_object_set_new(o, "blocks", json_integer((json_int_t)in.block_count));
            json_object_set_new(o, "commits", json_integer((json_int_t)in.commit_count));
            json_object_set_new(o, "created_us", json_integer((json_int_t)in.created_us));
            json_object_set_new(o, "created", json_string(created));
            json_object_set_new(o, "modified_us", json_integer((json_int_t)in.modified_us));
            json_object_set_new(o, "modified", json_string(modified));
            json_object_set_new(o, "file_id", json_string(fid));
            json_object_set_new(o, "agent", cli_json_string(agent, strlen(agent)));
            json_object_set_new(o, "signer", json_string(signer));
            json_object_set_new(o, "merkle_root", json_string(root));
            json_object_set_new(o, "content_hash", json_string(maif_hash_name(maif_reader_content_hash(r))));
            json_object_set_new(o, "torn_bytes", json_integer((json_int_t)in.torn_bytes));
            json_object_set_new(o, "converted_from", cli_json_string(conv, strlen(conv)));
            if (z.blocks)
                json_object_set_new(o, "compression",
                                    json_pack("{sIsIsIsIsI}", "blocks", (json_int_t)z.blocks, "zstd",
                                              (json_int_t)z.per_codec[MAIF_CODEC_ZSTD], "lz4",
                                              (json_int_t)z.per_codec[MAIF_CODEC_LZ4], "stored",
                                              (json_int_t)z.stored, "decoded", (json_int_t)z.decoded));
        }
        ex = cli_print_json(o);
        json_decref(o);
    } else {
        printf("file:           ");
        cli_put_clean(stdout, path, strlen(path));
        printf("\nformat:         %s\n", cli_format_name(in.format));
        printf("version:        %s\n", version);
        printf("size:           %llu bytes\n", (unsigned long long)in.file_size);
        printf("blocks:         %llu\n", (unsigned long long)in.block_count);
        printf("commits:        %llu\n", (unsigned long long)in.commit_count);
        printf("created:        %s\n", created);
        printf("modified:       %s\n", modified);
        printf("file id:        %s\n", fid);
        printf("agent:          ");
        cli_put_clean(stdout, *agent ? agent : "-", strlen(*agent ? agent : "-"));
        printf("\nsigner:         %s\n", signer);
        printf("merkle root:    %s\n", root);
        printf("content hash:   %s\n", maif_hash_name(maif_reader_content_hash(r)));
        printf("torn bytes:     %llu\n", (unsigned long long)in.torn_bytes);
        printf("converted from: ");
        cli_put_clean(stdout, *conv ? conv : "-", strlen(*conv ? conv : "-"));
        fputc('\n', stdout);
        if (z.blocks)
            printf("compressed:     %llu blocks (zstd %llu, lz4 %llu): %llu bytes stored for %llu (%.2fx)\n",
                   z.blocks, z.per_codec[MAIF_CODEC_ZSTD], z.per_codec[MAIF_CODEC_LZ4], z.stored, z.decoded,
                   z.stored ? (double)z.decoded / (double)z.stored : 0.0);
    }
    maif_reader_close(r);
    return cli_finish(ex);
}

const cli_command cli_cmd_info = {
    "info", run, "show artifact-level facts",
    "usage: maif info FILE [--json]\n"
    "\n"
    "Shows facts about FILE (native or MAIF 2.1), one \"key: value\" line each:\n"
    "file, format (native or 2.1), version, size, blocks, commits, created,\n"
    "modified (ISO-8601 UTC), file id, agent, signer (public key hex), merkle\n"
    "root, content hash (the blocks' hash function: sha256 or blake3), torn bytes (uncommitted tail a crash left; `maif recover` cuts it),\n"
    "converted from (\"-\" when not converted), and, when some blocks are\n"
    "compressed, \"compressed: N blocks (zstd N, lz4 N): S bytes stored for D\n"
    "(RATIOx)\". It checks structure only; use\n"
    "`maif verify` for hashes and signatures.\n"
    "--json   one JSON object {\"file\",\"format\",\"version\",\"size\",\"blocks\",\n"
    "         \"commits\",\"created_us\",\"created\",\"modified_us\",\"modified\",\n"
    "         \"file_id\",\"agent\",\"signer\",\"merkle_root\",\"content_hash\",\"torn_bytes\",\n"
    "         \"converted_from\", \"compression\" (only when some blocks are:\n"
    "         {\"blocks\",\"zstd\",\"lz4\",\"stored\",\"decoded\"})}\n"
    "\n"
    "exit codes: 0 shown; 1 FILE is not a readable MAIF artifact; 2 usage error\n"
    "or missing/unreadable file.\n",
};
