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
#include <sys/stat.h>

#include "cli.h"

/* what --analyze reads and builds, freed by run() whatever the exit path */
static uint8_t *analyze_text;
static char *analyze_meta;
static char *merged_meta; /* --analyze of an image or sound, --caption: the metadata made */

/* The most an add reads: the input limit, and for a codec that encodes
 * whole (lz4, shuffle-zstd) at most MAIF_WHOLE_CODEC_MAX (FORMAT.md §8). */
static const char *g_whole_codec; /* that codec's name, or NULL */
static uint64_t add_limit(void)
{
    uint64_t l = cli_payload_limit();
    return g_whole_codec && l > MAIF_WHOLE_CODEC_MAX ? MAIF_WHOLE_CODEC_MAX : l;
}
static void too_large(const char *src_name)
{
    if (g_whole_codec && cli_payload_limit() > MAIF_WHOLE_CODEC_MAX)
        cli_err(src_name, "--compress %s takes payloads of at most 64 MiB (%llu bytes; nothing added): use --compress zstd",
                g_whole_codec, (unsigned long long)MAIF_WHOLE_CODEC_MAX);
    else
        cli_err(src_name, "larger than the input limit of %llu bytes (nothing added)",
                (unsigned long long)cli_payload_limit());
}

static int add(int argc, char **argv)
{
    const char *type_s = NULL, *text = NULL, *file = NULL, *meta_s = NULL, *keyfile = NULL, *compress = NULL;
    int use_dict = 0;
    cli_p11 p11 = {0};
    /* --encrypt takes an optional algorithm: taken out before parsing */
    int cipher = 0;
    const char *rcpts[32], *passfile = NULL, *caption = NULL, *captioner = NULL;
    const char *embed = NULL; /* --embed [MODEL]: likewise */
    int analyze = 0;
    const char *anonymize = NULL, *pii_patterns = NULL, *pseudo_key = NULL;
    char *anon_text = NULL, *anon_meta = NULL; /* --anonymize: the payload and metadata that replace the input */
    size_t nrcpt = 0;
    int shreddable = 0;
    cli_ks_token kst = {0};
    const char *meta_private = NULL;
    char **args = malloc(sizeof *args * (size_t)(argc + 1));
    if (!args) return cli_usage_err(&cli_cmd_add, "out of memory");
    int nargs = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--encrypt") == 0) {
            cipher = MAIF_CIPHER_XCHACHA20;
            if (i + 1 < argc && cli_cipher_parse(argv[i + 1])) cipher = cli_cipher_parse(argv[++i]);
            continue;
        }
        if (strcmp(argv[i], "--embed") == 0) {
            embed = "hashed";
            if (i + 1 < argc && (strcmp(argv[i + 1], "hashed") == 0 || strncmp(argv[i + 1], "hashed:", 7) == 0 ||
                                 strcmp(argv[i + 1], "use") == 0 || strncmp(argv[i + 1], "use:", 4) == 0 ||
                                 strncmp(argv[i + 1], "glove:", 6) == 0))
                embed = argv[++i];
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
        {"--shreddable", CLI_FLAG, &shreddable, NULL, NULL, 0, NULL},
        CLI_KS_OPTS(kst),
        {"--meta-private", CLI_VALUE, NULL, &meta_private, NULL, 0, NULL},
        {"--anonymize", CLI_VALUE, NULL, &anonymize, NULL, 0, NULL},
        {"--pii-patterns", CLI_VALUE, NULL, &pii_patterns, NULL, 0, NULL},
        {"--pseudonym-key", CLI_VALUE, NULL, &pseudo_key, NULL, 0, NULL},
        {"--dict", CLI_FLAG, &use_dict, NULL, NULL, 0, NULL},
        {0},
    };
    const char *pos[2];
    int np;
    const cli_command *me = &cli_cmd_add;
    int pr = cli_parse(me, argc, argv, opts, pos, 1, 2, &np);
    free(args); /* pos and the values point into the caller's argv */
    if (pr == CLI_PARSE_HELP) return cli_help(me);
    if (pr != CLI_PARSE_OK) return CLI_EXIT_USAGE;
    if (!cipher && (nrcpt || passfile || shreddable || meta_private))
        return cli_usage_err(me, "--recipient, --passphrase-file, --shreddable and --meta-private need --encrypt");
    if (!shreddable && (kst.module || kst.token || kst.pin_file))
        return cli_usage_err(me, "--keystore-pkcs11, --keystore-token and --keystore-pin-file go with --shreddable");
    if (shreddable && (nrcpt || passfile))
        return cli_usage_err(me, "--shreddable keys live in the keystore only: a key wrapped for --recipient or "
                                 "--passphrase-file could never be shredded");
    const char *path = pos[0];
    int from_stdin = 0;
    if (np == 2) {
        if (strcmp(pos[1], "-") != 0) return cli_usage_err(me, "unexpected argument '%s'", pos[1]);
        from_stdin = 1;
    }
    if (strcmp(path, "-") == 0) return cli_usage_err(me, "FILE must be a file name");
    if (!type_s) return cli_usage_err(me, "missing --type");
    if (embed && cipher) return cli_usage_err(me, "--embed with --encrypt would store the text's embedding in the clear");
    if ((text != NULL) + (file != NULL) + from_stdin != 1)
        return cli_usage_err(me, "give exactly one of --text STRING, --file PATH or -");
    int codec = 0, level = 0;
    if (compress && maif_codec_parse(compress, &codec, &level) != MAIF_OK)
        return cli_usage_err(me, "--compress: %s", maif_last_errmsg());
    if (use_dict && compress && codec != MAIF_CODEC_ZSTD)
        return cli_usage_err(me, "--dict compresses with zstd: give --compress zstd or zstd:N, or no --compress");
    g_whole_codec = codec == MAIF_CODEC_LZ4 ? "lz4" : codec == MAIF_CODEC_SHUFFLE_ZSTD ? "shuffle-zstd" : NULL;
    uint32_t type;
    if (maif_type_parse(type_s, &type) != MAIF_OK)
        return cli_usage_err(me, "unknown type '%s' (text, image, audio, video, embedding, json, knowledge, binary, "
                                 "meta, or four ASCII characters)", type_s);
    if (!anonymize && (pii_patterns || pseudo_key)) return cli_usage_err(me, "--pii-patterns and --pseudonym-key need --anonymize");
    if (anonymize) {
        /* scanned and replaced in memory before the writer sees anything */
        if (type != MAIF_TYPE_TEXT) return cli_usage_err(me, "--anonymize works on text blocks (--type text)");
        char *in = NULL;
        size_t n = text ? strlen(text) : 0;
        int aex = text ? 0 : cli_read_small(file ? file : "-", (size_t)cli_payload_limit(), &in, &n);
        if (!aex)
            aex = cli_anonymize(path, anonymize, pii_patterns, pseudo_key, keyfile, text ? text : in, n, meta_s,
                                &anon_text, &anon_meta);
        free(in);
        if (aex) return aex;
        text = anon_text;
        meta_s = anon_meta;
        file = NULL;
        from_stdin = 0;
    }
    const char *src_name = file ? file : from_stdin ? "<stdin>" : path;
    size_t text_n = text ? strlen(text) : 0;
    if (analyze && type != MAIF_TYPE_TEXT && type != MAIF_TYPE_IMAGE && type != MAIF_TYPE_AUDIO)
        return cli_usage_err(me, "--analyze works on text, image and audio blocks");
    if (analyze && cipher)
        return cli_usage_err(me, "--analyze with --encrypt would describe the sealed payload in public metadata");
    int text_analyze = analyze && type == MAIF_TYPE_TEXT, media_analyze = analyze && !text_analyze;
    if (text_analyze) {
        /* the text is read whole (at most MAIF_TEXT_ANALYZE_MAX) and analysed before anything is written */
        if (!text) {
            cli_fd_src as = {-1, 0};
            char err[256];
            if (cli_open_input(file ? file : "-", &as.fd, err, sizeof err)) {
                cli_err(src_name, "%s", err);
                return CLI_EXIT_USAGE;
            }
            int r = cli_read_all(&as, MAIF_TEXT_ANALYZE_MAX, &analyze_text, &text_n);
            if (as.fd > 0) close(as.fd);
            if (r == MAIF_ELIMIT) cli_err(src_name, "--analyze: larger than %u bytes (nothing added)", MAIF_TEXT_ANALYZE_MAX);
            else if (r) cli_err(src_name, "read error: %s", as.err ? strerror(as.err) : maif_strerror(r));
            if (r) return CLI_EXIT_USAGE;
            text = analyze_text ? (const char *)analyze_text : "";
        }
        int ex = cli_analyze_meta(src_name, meta_s, text, text_n, &analyze_meta);
        if (ex) return ex;
        meta_s = analyze_meta;
    }
    if ((caption || captioner) && type != MAIF_TYPE_IMAGE)
        return cli_usage_err(me, "--caption and --captioner describe an image (--type image)");
    if (caption && captioner) return cli_usage_err(me, "give --caption or --captioner, not both");
    uint8_t *media = NULL; /* the whole payload, when it must be analysed first */
    size_t media_n = 0;
    int payload_set = 0;
    if (media_analyze || caption || captioner) {
        if (text) {
            media_n = text_n;
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
        int mx = cli_media_meta(src_name, type, media_analyze, caption, captioner, text ? (const uint8_t *)text : media,
                                media_n, meta_s, &merged_meta);
        if (mx) {
            free(media);
            return mx;
        }
        meta_s = merged_meta;
    }
    if (embed && type != MAIF_TYPE_TEXT) return cli_usage_err(me, "--embed needs --type text");

    maif_block_draft *d = NULL;
    int rc = maif_block_draft_new(&d, type, meta_s, meta_s ? strlen(meta_s) : 0);
    if (rc) {
        cli_err(path, "--meta: %s", cli_detail(path, maif_last_errmsg()));
        free(media);
        free(anon_text);
        free(anon_meta);
        return CLI_EXIT_USAGE;
    }
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
    if (text && !payload_set && (rc = maif_block_draft_set_payload(d, text, text_n))) {
        cli_err(path, "--text: %s", maif_last_errmsg());
        maif_block_draft_free(d);
        free(anon_text);
        free(anon_meta);
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
    maif_reader *er = NULL;
    maif_embedder *emb = NULL;
    uint8_t *all_in = NULL; /* --embed: the payload read whole, to embed it too */
    size_t all_n = 0;
    float *vec = NULL;
    maif_keystore *ks = NULL;
    int ex = cli_load_signing_key(keyfile, &p11, &key);
    if (ex) goto out;
    if (embed) {
        /* the embedder first (its IDF weights come from the artifact as committed now) */
        if ((ex = cli_open_reader(path, &er))) goto out;
        if ((rc = maif_embedder_open(&emb, embed, er))) {
            cli_err(path, "--embed: %s", cli_detail(path, maif_last_errmsg()));
            ex = CLI_EXIT_USAGE;
            goto out;
        }
        vec = malloc(maif_embedder_dim(emb) * sizeof *vec);
        if (!vec) {
            cli_err(path, "out of memory");
            ex = CLI_EXIT_USAGE;
            goto out;
        }
        if (!text) {
            rc = cli_read_all(&src, add_limit(), &all_in, &all_n);
            if (rc == MAIF_OK) rc = maif_block_draft_set_payload(d, all_in, all_n);
            if (rc) {
                if (src.err) cli_err(src_name, "read error: %s", strerror(src.err));
                else if (rc == MAIF_ELIMIT)
                    too_large(src_name);
                else cli_err(src_name, "%s (nothing added)", cli_detail(path, maif_last_errmsg()));
                ex = CLI_EXIT_USAGE;
                goto out;
            }
        }
    }
    if (cipher) {
        /* A regular file of known size streams, sealed chunk by chunk in
         * bounded memory (the associated data binds the size, so it must be
         * known first); a pipe, or a payload to compress first, is spooled
         * by the writer (sealed temporary files, FORMAT.md §5.7) until its
         * sizes are known. Payloads parsed whole (json, embedding,
         * knowledge) and --meta-private are read whole now, within the limit. */
        if (!shreddable && (ex = cli_keyring_for_writing(path, rcpts, nrcpt, passfile, key, &kr))) goto out;
        if (shreddable && (ex = cli_keystore_open(path, 1, &kst, &ks))) goto out;
        struct stat fst;
        off_t at;
        int parsed = meta_private || type == MAIF_TYPE_EMBEDDING || type == MAIF_TYPE_JSON || type == MAIF_TYPE_KNOWLEDGE;
        if (!text && !parsed && fstat(src.fd, &fst) == 0 && S_ISREG(fst.st_mode) &&
            (at = lseek(src.fd, 0, SEEK_CUR)) >= 0 && fst.st_size >= at) {
            if ((uint64_t)(fst.st_size - at) > add_limit()) {
                too_large(src_name);
                ex = CLI_EXIT_USAGE;
                goto out;
            }
            if ((rc = maif_block_draft_set_size(d, (uint64_t)(fst.st_size - at)))) {
                ex = cli_fail(path, rc, maif_last_errmsg());
                goto out;
            }
        } else if (!text && parsed) {
            uint8_t *all = NULL;
            size_t n = 0;
            rc = cli_read_all(&src, add_limit(), &all, &n);
            if (rc == MAIF_OK) rc = maif_block_draft_set_payload(d, all, n);
            if (all) explicit_bzero(all, n); /* plaintext to be sealed: not left in freed memory */
            free(all);
            if (rc) {
                if (src.err) cli_err(src_name, "read error: %s", strerror(src.err));
                else if (rc == MAIF_ELIMIT)
                    too_large(src_name);
                else cli_err(src_name, "%s (nothing added)", cli_detail(path, maif_last_errmsg()));
                ex = CLI_EXIT_USAGE;
                goto out;
            }
            text = ""; /* the payload is in the draft */
        }
    }
    {
        /* the artifact's policy: its level rules, and whom keys are wrapped for */
        maif_block_spec sp = {.type = type, .meta_json = meta_s, .meta_size = meta_s ? strlen(meta_s) : 0};
        if ((ex = cli_policy_for_add(path, &sp, cipher, key, kr))) goto out;
    }
    ex = cli_open_writer(path, key, &w);
    if (ex) goto out;
    if (cipher && (rc = shreddable ? maif_writer_encrypt_shreddable(w, ks, cipher) : maif_writer_encrypt(w, kr, cipher))) {
        ex = cli_fail(path, rc, maif_writer_errmsg(w));
        if (ex == CLI_EXIT_VERIFY) ex = CLI_EXIT_USAGE;
        goto out;
    }
    /* after the cipher: the codec is set on top of it (compress, then encrypt) */
    if (compress && (rc = maif_writer_set_codec(w, codec, level)) != MAIF_OK) {
        ex = cli_fail(path, rc, maif_writer_errmsg(w));
        goto out;
    }
    if (use_dict && (rc = maif_writer_use_dict(w, NULL, level)) != MAIF_OK) {
        ex = cli_fail(path, rc, maif_writer_errmsg(w));
        if (ex == CLI_EXIT_VERIFY) ex = CLI_EXIT_USAGE;
        goto out;
    }
    uint64_t index = maif_writer_count(w);
    uint64_t limit = add_limit();
    uint8_t id[MAIF_ID_BYTES];
    int whole = text || all_in; /* the payload is in the draft already */
    if (meta_private) { /* the payload is in the draft (encryption reads it whole) */
        maif_block_spec sp;
        rc = maif_block_draft_spec(d, &sp);
        if (rc == MAIF_OK) rc = maif_writer_add_sealed(w, &sp, meta_private, strlen(meta_private), id);
    } else {
        rc = maif_writer_add_draft(w, d, whole ? NULL : cli_fd_read, &src, limit, id);
    }
    if (rc == MAIF_OK && emb) {
        const char *t = text ? text : (const char *)all_in;
        size_t tl = text ? strlen(text) : all_n;
        rc = maif_embedder_embed(emb, t, tl, vec);
        if (rc == MAIF_OK) rc = maif_writer_add_embedding_bound(w, emb, vec, id, t, tl, NULL);
    }
    if (rc != MAIF_OK) {
        /* bad payload or input: the block was abandoned, the file is as it was */
        if (src.err)
            cli_err(src_name, "read error: %s", strerror(src.err));
        else if (rc == MAIF_ELIMIT)
            too_large(src_name);
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
    maif_embedder_close(emb);
    maif_reader_close(er);
    free(all_in);
    free(vec);
    maif_writer_close(w);
    maif_keyring_free(kr);
    maif_keystore_close(ks);
    maif_key_free(key);
    maif_block_draft_free(d);
    free(anon_text);
    free(anon_meta);
    if (src.fd > 0) close(src.fd);
    return ex;
}

static int run(int argc, char **argv)
{
    int ex = add(argc, argv);
    free(analyze_text);
    free(analyze_meta);
    free(merged_meta);
    analyze_text = NULL;
    analyze_meta = merged_meta = NULL;
    return ex;
}

const cli_command cli_cmd_add = {
    "add", run, "add one block and commit it",
    "usage: maif add FILE --type TYPE (--text STRING | --file PATH | -) [--meta JSON] [--key KEYFILE]\n"
    "       " CLI_P11_USAGE "\n"
    "                [--compress C [--dict]] [--analyze] [--caption TEXT | --captioner CMD]\n"
    "                [--encrypt [xchacha20|chacha20|aes256gcm] (--recipient PUB)... [--passphrase-file F]\n"
    "                 [--shreddable [--keystore-pkcs11 MODULE --keystore-token LABEL]\n"
    "                  [--keystore-pin-file F]] [--meta-private JSON]]\n"
    "                [--anonymize redact|mask|pseudonymize [--pii-patterns CONF] [--pseudonym-key F]]\n"
    "                [--embed [MODEL]]\n"
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
    "--analyze    text blocks: add the text's \"language\" (fastText lid.176 code),\n"
    "             \"language_confidence\" (its probability) and \"sentiment\"\n"
    "             (VADER {compound,neg,neu,pos}; English lexicon) to the\n"
    "             metadata. The text is read whole (at most 16 MiB). Models:\n"
    "             $MAIF_LID_MODEL and $MAIF_VADER_LEXICON, else lid.176.ftz and\n"
    "             vader_lexicon.txt in $MAIF_MODELS, $MAIF_CACHE/models or\n"
    "             ~/.cache/maif/models (scripts/fetch-lid.sh fetches them).\n"
    "             Not with --encrypt (metadata is public).\n"
    "             Image (PNG, JPEG) and audio (WAV) blocks: store features in the\n"
    "             metadata: format, width, height, perceptual hashes (phash,\n"
    "             dhash), colour and gradient histograms; or sample_rate,\n"
    "             channels, bits, duration, rms_db, MFCC means and deviations\n"
    "             (docs/MEDIA.md). Keys given in --meta win. The payload\n"
    "             is read whole; a damaged image or sound adds nothing (exit 2).\n"
    "--compress C zstd (level 3), zstd:N (N 1..19), zstd:fast[:N] (zstd's fast\n"
    "             level -N, N 1..100), lz4, shuffle-zstd[:N] (float32 data:\n"
    "             byte planes, then zstd), or none (the default). Stored as is\n"
    "             when it saves less than 16 bytes or 1/32 of the payload. zstd\n"
    "             (with or without --dict) streams a payload over 1 MiB through\n"
    "             a spool (see --encrypt). lz4 and shuffle-zstd read the payload\n"
    "             whole into memory and take at most 64 MiB (FORMAT.md §8;\n"
    "             exit 2 past it, nothing added: use zstd).\n"
    "--caption TEXT  an image's caption, written by the agent (stored as\n"
    "             \"caption\", with \"caption_source\":\"agent\").\n"
    "--captioner CMD  run `sh -c CMD` with the image on stdin; its output (at\n"
    "             most 4096 bytes, within 60 s, exit status 0) is the caption\n"
    "             (\"caption_source\":\"captioner\"). maif has no captioning\n"
    "             model of its own and never makes a caption up.\n"
    "--dict       compress with FILE's latest zstd dictionary (`maif dict FILE\n"
    "             --train` makes one; exit 2 if there is none), at the zstd level\n"
    "             of --compress (default 3); streams like zstd\n"
    "\n"
    "--encrypt [ALG]  seal the payload with ALG (default xchacha20; aes256gcm needs\n"
    "             AES-NI) under a fresh data key, wrapped in a key-wrap block for\n"
    "             each --recipient PUB (a `maif keygen` .pub file) and for the\n"
    "             passphrase in F (Argon2id; one trailing newline dropped). With\n"
    "             neither, the signing key itself is the recipient. Recipients\n"
    "             granted in FILE (maif grant) are added; a revoked one is refused\n"
    "             (exit 3). The payload streams, sealed in 64 KiB chunks (ciphers\n"
    "             4-6) in bounded memory. A pipe (-) or a payload to compress\n"
    "             (--compress zstd) over 1 MiB is first spooled to an unlinked\n"
    "             temporary file (O_TMPFILE, 0600, beside FILE or in $TMPDIR),\n"
    "             itself sealed under a throwaway key that never leaves memory:\n"
    "             no plaintext reaches the disk, at the cost of the payload's\n"
    "             size (and the compressed size) in temporary disk space and an\n"
    "             extra pass. lz4 and shuffle-zstd payloads (at most 64 MiB),\n"
    "             json, embedding and knowledge payloads and --meta-private read\n"
    "             the payload whole into memory. Read it back with\n"
    "             `maif cat FILE BLOCK --identity KEY` or `--passphrase-file F`.\n"
    "             METADATA STAYS PUBLIC: the type, --meta, ids, sizes and times are\n"
    "             stored in the clear, chained forever, and can never be erased.\n"
    "             Private content belongs in the payload.\n"
    "--meta-private JSON  a JSON object sealed into the metadata field \"sealed_meta\"\n"
    "             with the payload's key (read it with maif cat --sealed-meta); the\n"
    "             rest of --meta stays public\n"
    "--shreddable the block's own data key is kept in FILE.keystore (sealed under a\n"
    "             master key in $MAIF_HOME/masters/), never in FILE, so\n"
    "             `maif shred FILE BLOCK` can erase it for good. Not with\n"
    "             --recipient or --passphrase-file. Readers need the keystore and\n"
    "             its master key (maif cat uses them when present).\n"
    "--keystore-pkcs11 MODULE --keystore-token LABEL  when this block creates\n"
    "             FILE.keystore: its master key is sealed under an AES-256 key\n"
    "             generated on the PKCS#11 token LABEL (MODULE: the module's\n"
    "             path), which never leaves it; the master file keeps only the\n"
    "             sealed form and names the token. Every erasure or rotation\n"
    "             seals a new master under a new token key and destroys the old\n"
    "             one on the token, so a copy of the master file and keystore\n"
    "             taken before (a backup of $MAIF_HOME) opens nothing, PIN or not.\n"
    "             The PIN: --keystore-pin-file F (first line), else\n"
    "             $MAIF_KEYSTORE_PIN; cat, shred and rotate need it too. A\n"
    "             keystore that exists keeps its master where it was created.\n"
    "\n"
    "--embed [MODEL]  (text only) also store the text's embedding by MODEL (hashed,\n"
    "             the default; use[:DIR]; glove:PATH; see `maif embed --help`) as an\n"
    "             EMBD block in the same commit. The payload is read whole. The\n"
    "             hashed model uses the IDF weights learned by the last\n"
    "             `maif embed` (uniform weights before the first). Not with --encrypt.\n"
    "\n"
    "--anonymize MODE  (text blocks) find personal data (e-mail, phone, card, IBAN,\n"
    "             SSN, IPv4/IPv6, MAC, dates of birth and names in context, and\n"
    "             the PCRE2 patterns of CONF: NAME = PATTERN lines) and replace\n"
    "             each value before anything is written: redact -> [EMAIL],\n"
    "             mask -> all letters and digits but the last four become *,\n"
    "             pseudonymize -> <EMAIL_16hex>, HMAC-SHA256 under a key derived\n"
    "             (HKDF) from the signing key and FILE's id (tokens are stable\n"
    "             within FILE), or from the bytes of F (16..4096; --pseudonym-key:\n"
    "             stable across artifacts). The metadata gets \"pii\": {\"mode\",\n"
    "             \"found\": {TYPE: COUNT}, \"key\"}; never a value. The payload\n"
    "             is read whole into memory.\n"
    "\n"
    CLI_P11_HELP
    "\n"
    "exit codes: 0 added; 1 FILE is too damaged to open; 2 usage error,\n"
    "missing file, bad type, bad JSON, bad key, or a 2.1 file (convert first);\n"
    "3 a --recipient was revoked in FILE, or the keystore's token refused (wrong\n"
    "PIN, no such token, a failing module).\n",
};
