/*
 * cmd_add.c — `maif add`: one block, committed at once. The type, the
 * metadata and a --text payload are checked before the writer is opened; a
 * payload from a file or stdin streams into place (memory stays bounded)
 * and is checked as it arrives: if it fails (bad UTF-8 text, over the
 * limit, a read error) the block is abandoned and the file is left exactly
 * as it was.
 */
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int run(int argc, char **argv)
{
    const char *type_s = NULL, *text = NULL, *file = NULL, *meta_s = NULL, *keyfile = NULL, *compress = NULL;
    cli_p11 p11 = {0};
    /* --encrypt takes an optional algorithm: taken out before parsing */
    int cipher = 0;
    const char *rcpts[32], *passfile = NULL, *caption = NULL, *captioner = NULL;
    int analyze = 0;
    char *merged_meta = NULL;
    size_t nrcpt = 0;
    char **args = malloc(sizeof *args * (size_t)(argc + 1));
    if (!args) return cli_usage_err(&cli_cmd_add, "out of memory");
    int nargs = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--encrypt") == 0) {
            cipher = MAIF_CIPHER_XCHACHA20;
            if (i + 1 < argc && cli_cipher_parse(argv[i + 1])) cipher = cli_cipher_parse(argv[++i]);
            continue;
        }
        args[nargs++] = argv[i];
    }
    args[nargs] = NULL;
    argc = nargs;
    argv = args;
    const cli_opt opts[] = {
        {"--recipient", CLI_MULTI, NULL, NULL, rcpts, 32, &nrcpt},
        {"--passphrase-file", CLI_VALUE, NULL, &passfile, NULL, 0, NULL},
        {"--type", CLI_VALUE, NULL, &type_s, NULL, 0, NULL},
        {"--text", CLI_VALUE, NULL, &text, NULL, 0, NULL},
        {"--file", CLI_VALUE, NULL, &file, NULL, 0, NULL},
        {"--meta", CLI_VALUE, NULL, &meta_s, NULL, 0, NULL},
        {"--key", CLI_VALUE, NULL, &keyfile, NULL, 0, NULL},
        CLI_P11_OPTS(p11),
        {"--compress", CLI_VALUE, NULL, &compress, NULL, 0, NULL},
        {"--analyze", CLI_FLAG, &analyze, NULL, NULL, 0, NULL},
        {"--caption", CLI_VALUE, NULL, &caption, NULL, 0, NULL},
        {"--captioner", CLI_VALUE, NULL, &captioner, NULL, 0, NULL},
        {0},
    };
    const char *pos[2];
    int np;
    const cli_command *me = &cli_cmd_add;
    int pr = cli_parse(me, argc, argv, opts, pos, 1, 2, &np);
    free(args); /* pos and the values point into the caller's argv */
    if (pr == CLI_PARSE_HELP) return cli_help(me);
    if (pr != CLI_PARSE_OK) return CLI_EXIT_USAGE;
    if (!cipher && (nrcpt || passfile)) return cli_usage_err(me, "--recipient and --passphrase-file need --encrypt");
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
    int codec = 0, level = 0;
    if (compress && maif_codec_parse(compress, &codec, &level) != MAIF_OK)
        return cli_usage_err(me, "--compress: %s", maif_last_errmsg());
    uint32_t type;
    if (maif_type_parse(type_s, &type) != MAIF_OK)
        return cli_usage_err(me, "unknown type '%s' (text, image, audio, video, embedding, json, knowledge, binary, "
                                 "meta, or four ASCII characters)", type_s);

    if (analyze && type != MAIF_TYPE_IMAGE && type != MAIF_TYPE_AUDIO)
        return cli_usage_err(me, "--analyze works on image and audio blocks");
    if ((caption || captioner) && type != MAIF_TYPE_IMAGE)
        return cli_usage_err(me, "--caption and --captioner describe an image (--type image)");
    if (caption && captioner) return cli_usage_err(me, "give --caption or --captioner, not both");
    const char *src_name = file ? file : from_stdin ? "<stdin>" : path;
    uint8_t *media = NULL; /* the whole payload, when it must be analysed first */
    size_t media_n = 0;
    int payload_set = 0;
    if (analyze || caption || captioner) {
        if (text) {
            media_n = strlen(text);
        } else {
            char err[256];
            cli_fd_src in = {-1, 0};
            if (cli_open_input(file ? file : "-", &in.fd, err, sizeof err)) {
                cli_err(src_name, "%s", err);
                return CLI_EXIT_USAGE;
            }
            int r = cli_read_all(&in, cli_payload_limit(), &media, &media_n);
            if (in.fd > 0) close(in.fd);
            if (r) {
                if (in.err) cli_err(src_name, "read error: %s", strerror(in.err));
                else if (r == MAIF_ELIMIT)
                    cli_err(src_name, "larger than the input limit of %llu bytes (nothing added)",
                            (unsigned long long)cli_payload_limit());
                else cli_err(src_name, "%s", maif_last_errmsg());
                free(media);
                return CLI_EXIT_USAGE;
            }
        }
        int mx = cli_media_meta(src_name, type, analyze, caption, captioner, text ? (const uint8_t *)text : media,
                                media_n, meta_s, &merged_meta);
        if (mx) {
            free(media);
            return mx;
        }
        meta_s = merged_meta;
    }

    maif_block_draft *d = NULL;
    int rc = maif_block_draft_new(&d, type, meta_s, meta_s ? strlen(meta_s) : 0);
    if (rc) {
        cli_err(path, "--meta: %s", cli_detail(path, maif_last_errmsg()));
        free(media);
        free(merged_meta);
        return CLI_EXIT_USAGE;
    }
    free(merged_meta); /* the draft holds its canonical copy */
    meta_s = NULL;
    if (media) {
        rc = maif_block_draft_set_payload(d, media, media_n);
        free(media);
        if (rc) {
            cli_err(src_name, "%s (nothing added)", maif_last_errmsg());
            maif_block_draft_free(d);
            return CLI_EXIT_USAGE;
        }
        text = ""; /* the payload is in the draft */
        payload_set = 1;
    }
    if (text && !payload_set && (rc = maif_block_draft_set_payload(d, text, strlen(text)))) {
        cli_err(path, "--text: %s", maif_last_errmsg());
        maif_block_draft_free(d);
        return CLI_EXIT_USAGE;
    }
    cli_fd_src src = {-1, 0};
    if (!text) {
        char err[256];
        if (cli_open_input(file ? file : "-", &src.fd, err, sizeof err)) {
            cli_err(src_name, "%s", err);
            maif_block_draft_free(d);
            return CLI_EXIT_USAGE;
        }
    }

    maif_key *key = NULL;
    maif_writer *w = NULL;
    maif_keyring *kr = NULL;
    int ex = cli_load_signing_key(keyfile, &p11, &key);
    if (ex) goto out;
    if (cipher) {
        /* sealing needs the whole payload: read it now, within the limit */
        if ((ex = cli_keyring_for_writing(rcpts, nrcpt, passfile, key, &kr))) goto out;
        if (!text) {
            uint8_t *all = NULL;
            size_t n = 0;
            rc = cli_read_all(&src, cli_payload_limit(), &all, &n);
            if (rc == MAIF_OK) rc = maif_block_draft_set_payload(d, all, n);
            free(all);
            if (rc) {
                if (src.err) cli_err(src_name, "read error: %s", strerror(src.err));
                else if (rc == MAIF_ELIMIT)
                    cli_err(src_name, "larger than the input limit of %llu bytes (nothing added)",
                            (unsigned long long)cli_payload_limit());
                else cli_err(src_name, "%s (nothing added)", cli_detail(path, maif_last_errmsg()));
                ex = CLI_EXIT_USAGE;
                goto out;
            }
            text = ""; /* the payload is in the draft */
        }
    }
    ex = cli_open_writer(path, key, &w);
    if (ex) goto out;
    if (cipher && (rc = maif_writer_encrypt(w, kr, cipher))) {
        ex = cli_fail(path, rc, maif_writer_errmsg(w));
        if (ex == CLI_EXIT_VERIFY) ex = CLI_EXIT_USAGE;
        goto out;
    }
    /* after the cipher: the codec is set on top of it (compress, then encrypt) */
    if (compress && (rc = maif_writer_set_codec(w, codec, level)) != MAIF_OK) {
        ex = cli_fail(path, rc, maif_writer_errmsg(w));
        goto out;
    }
    uint64_t index = maif_writer_count(w);
    uint64_t limit = cli_payload_limit();
    uint8_t id[MAIF_ID_BYTES];
    rc = maif_writer_add_draft(w, d, text ? NULL : cli_fd_read, &src, limit, id);
    if (rc != MAIF_OK) {
        /* bad payload or input: the block was abandoned, the file is as it was */
        if (src.err)
            cli_err(src_name, "read error: %s", strerror(src.err));
        else if (rc == MAIF_ELIMIT)
            cli_err(src_name, "larger than the input limit of %llu bytes (nothing added)", (unsigned long long)limit);
        else if (rc == MAIF_EINVAL || rc == MAIF_EJSON)
            cli_err(src_name, "%s (nothing added)", cli_detail(path, maif_writer_errmsg(w)));
        else
            cli_fail(path, rc, maif_writer_errmsg(w));
        ex = CLI_EXIT_USAGE; /* a bad block is bad input, not a bad file */
        (void)!maif_writer_rollback(w); /* best effort: close rolls back anyway, and the error is reported */
        goto out;
    }
    rc = maif_writer_commit(w);
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
    maif_keyring_free(kr);
    maif_key_free(key);
    maif_block_draft_free(d);
    if (src.fd > 0) close(src.fd);
    return ex;
}

const cli_command cli_cmd_add = {
    "add", run, "add one block and commit it",
    "usage: maif add FILE --type TYPE (--text STRING | --file PATH | -) [--meta JSON] [--key KEYFILE]\n"
    "       " CLI_P11_USAGE "\n"
    "                [--compress C]\n"
    "                [--encrypt [xchacha20|chacha20|aes256gcm] (--recipient PUB)... [--passphrase-file F]]\n"
    "                [--analyze] [--caption TEXT | --captioner CMD]\n"
    "\n"
    "Appends one block to the native artifact FILE and commits it, signed with\n"
    "KEYFILE (default: the default key). The payload is STRING, the bytes of\n"
    "PATH, or stdin (-), at most 4 GiB (MAIF_INPUT_LIMIT=N lowers that to N\n"
    "bytes); it streams to the file, so memory stays bounded. PATH may be a\n"
    "regular file or a device; a named pipe is refused (pipe into - instead).\n"
    "If the payload fails (over the limit, bad text, a read error), nothing is\n"
    "added. Prints the new block's index and id:\n"
    "  INDEX ID32HEX\n"
    "If another writer has FILE open, waits up to 10 s for it (then exit 2).\n"
    "\n"
    "TYPE: text, image, audio, video, embedding, json, knowledge, binary, meta,\n"
    "or any four ASCII characters (a raw type code such as TEXT).\n"
    "  text       the payload must be valid UTF-8 (else use binary)\n"
    "  embedding  the payload is a JSON array of numbers, or an array of\n"
    "             equal-length arrays (rows); it is stored as float32\n"
    "             little-endian rows and {\"count\":N,\"dimensions\":D,\n"
    "             \"dtype\":\"float32\"} is merged into the metadata\n"
    "             (at most 16 MiB of JSON; every value a finite float32)\n"
    "  json       the payload must be valid JSON (stored as given; at most 16 MiB)\n"
    "--meta JSON  a JSON object of metadata (stored in canonical form)\n"
    "--compress C zstd (level 3), zstd:N (N 1..19), zstd:fast[:N] (zstd's fast\n"
    "             level -N, N 1..100), lz4, or none (the default). Stored as is\n"
    "             when it saves less than 16 bytes or 1/32 of the payload. A\n"
    "             compressed payload is read whole into memory first.\n"
    "--analyze    image (PNG, JPEG) or audio (WAV) blocks: store features in the\n"
    "             metadata: format, width, height, perceptual hashes (phash,\n"
    "             dhash), colour and gradient histograms; or sample_rate,\n"
    "             channels, bits, duration, rms_db, MFCC means and deviations\n"
    "             (docs/UNDERSTANDING.md). Keys given in --meta win. The payload\n"
    "             is read whole; a damaged image or sound adds nothing (exit 2).\n"
    "--caption TEXT  an image's caption, written by the agent (stored as\n"
    "             \"caption\", with \"caption_source\":\"agent\").\n"
    "--captioner CMD  run `sh -c CMD` with the image on stdin; its output (at\n"
    "             most 4096 bytes, within 60 s, exit status 0) is the caption\n"
    "             (\"caption_source\":\"captioner\"). maif has no captioning\n"
    "             model of its own and never makes a caption up.\n"
    "\n"
    "--encrypt [ALG]  seal the payload with ALG (default xchacha20; aes256gcm needs\n"
    "             AES-NI) under a fresh data key, wrapped in a key-wrap block for\n"
    "             each --recipient PUB (a `maif keygen` .pub file) and for the\n"
    "             passphrase in F (Argon2id; one trailing newline dropped). With\n"
    "             neither, the signing key itself is the recipient. The payload is\n"
    "             read whole into memory. Read it back with\n"
    "             `maif cat FILE BLOCK --identity KEY` or `--passphrase-file F`.\n"
    "             METADATA STAYS PUBLIC: the type, --meta, ids, sizes and times are\n"
    "             stored in the clear, chained forever, and can never be erased.\n"
    "             Private content belongs in the payload.\n"
    "\n"
    CLI_P11_HELP
    "\n"
    "exit codes: 0 added; 1 FILE is too damaged to open; 2 usage error,\n"
    "missing file, bad type, bad JSON, bad key, or a 2.1 file (convert first).\n",
};
