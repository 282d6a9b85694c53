/*
 * cmd_cat.c — `maif cat FILE BLOCK`: the payload, byte for byte, on
 * stdout (decoded when the block has a codec or cipher). BLOCK is the index `maif ls` shows or a 32-hex-digit block id.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Blocks that decode to more than this stream (two passes) instead of
 * being decoded into one buffer. */
#define CAT_WHOLE_MAX (16u << 20)

static int discard(void *ctx, const void *buf, size_t n)
{
    (void)ctx, (void)buf, (void)n;
    return 0;
}

typedef struct out_state {
    size_t written;
    int err; /* errno of a failed write */
} out_state;

static int to_stdout(void *ctx, const void *buf, size_t n)
{
    out_state *o = ctx;
    if (fwrite(buf, 1, n, stdout) != n) {
        o->err = errno ? errno : EIO;
        return MAIF_EIO;
    }
    o->written += n;
    return 0;
}

static int run(int argc, char **argv)
{
    const char *identity = NULL, *passfile = NULL, *keyfile = NULL, *purpose = NULL;
    int audit = 0, sealed = 0;
    cli_ks_token kst = {0};
    const cli_opt opts[] = {
        CLI_KS_PIN_OPT(kst),
        {"--sealed-meta", CLI_FLAG, &sealed, NULL, NULL, 0, NULL},
        {"--identity", CLI_VALUE, NULL, &identity, NULL, 0, NULL},
        {"--passphrase-file", CLI_VALUE, NULL, &passfile, NULL, 0, NULL},
        {"--audit", CLI_FLAG, &audit, NULL, NULL, 0, NULL},
        {"--key", CLI_VALUE, NULL, &keyfile, NULL, 0, NULL},
        {"--purpose", CLI_VALUE, NULL, &purpose, NULL, 0, NULL},
        {0},
    };
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
    else if (!cli_parse_u64(sel, &index))
        return cli_usage_err(&cli_cmd_cat, "BLOCK must be a block index or a 32-hex-digit block id, not '%.80s'",
                             sel);

    if (identity && passfile) return cli_usage_err(&cli_cmd_cat, "give --identity or --passphrase-file, not both");
    if (keyfile && !audit) return cli_usage_err(&cli_cmd_cat, "--key signs the --audit record: give --audit");
    maif_keyring *kr = NULL;
    maif_reader *r = NULL;
    maif_keystore *ks = NULL;
    maif_key *reader_key = NULL;
    uint8_t *decoded = NULL;
    size_t decoded_cap = 0;
    int ex = 0, rc;
    if ((identity || passfile) && (ex = cli_keyring_for_reading(identity, passfile, &kr))) return ex;
    if ((ex = cli_open_reader(path, &r))) goto out;
    if ((ex = cli_keystore_open(path, 0, &kst, &ks))) goto out; /* shreddable blocks: the keystore beside FILE, if any */
    if (ks && !kr && maif_keyring_create(&kr) != MAIF_OK) {
        ex = cli_fail(path, MAIF_ENOMEM, NULL);
        goto out;
    }
    if (ks && maif_keyring_add_keystore(kr, ks) != MAIF_OK) {
        ex = cli_fail(path, MAIF_EINVAL, NULL);
        goto out;
    }
    if (kr && maif_reader_set_keyring(r, kr) != MAIF_OK) {
        cli_err(path, "%s", maif_last_errmsg());
        ex = CLI_EXIT_USAGE;
        goto out;
    }
    if (by_id) {
        rc = maif_reader_find(r, id, &index);
        if (rc == MAIF_ENOTFOUND) {
            cli_err(path, "no block with id %s", sel);
            ex = CLI_EXIT_USAGE;
            goto out;
        }
        if (rc != MAIF_OK) {
            ex = cli_fail(path, rc, maif_reader_errmsg(r));
            goto out;
        }
    } else if (index >= maif_reader_count(r)) {
        cli_err(path, "block index %llu out of range (%llu blocks)", (unsigned long long)index,
                (unsigned long long)maif_reader_count(r));
        ex = CLI_EXIT_USAGE;
        goto out;
    }
    maif_block b;
    rc = maif_reader_block(r, index, &b);
    if (rc != MAIF_OK) {
        const char *d = maif_reader_errmsg(r);
        cli_err(path, "block %llu: %s", (unsigned long long)index, d && *d ? d : maif_strerror(rc));
        ex = rc == MAIF_ENOTFOUND ? CLI_EXIT_USAGE : CLI_EXIT_VERIFY;
        goto out;
    }
    /* the artifact's access policy, if it has one (maif policy) */
    if ((ex = cli_policy_check(path, r, index, identity, purpose, audit))) goto out;
    if (sealed) { /* the block's sealed metadata instead of its payload */
        char small[1];
        size_t need = 0;
        rc = maif_reader_sealed_meta(r, index, small, sizeof small, &need);
        if (rc == MAIF_ELIMIT && (decoded = malloc(need + 1))) {
            decoded_cap = need + 1;
            rc = maif_reader_sealed_meta(r, index, (char *)decoded, need + 1, &need);
        }
        if (rc) {
            ex = cli_fail(path, rc, maif_reader_errmsg(r));
            if (rc == MAIF_ENOTFOUND) ex = CLI_EXIT_USAGE;
            goto out;
        }
        printf("%s\n", decoded ? (char *)decoded : "");
        ex = cli_finish(CLI_EXIT_OK);
        goto out;
    }
    /* A block with a codec or cipher is written decoded (zstd and lz4 are
     * built in). No usable key is exit 3; a failed authentication
     * (tampering) is 1; an unknown codec or cipher id (a newer writer, or
     * damage) fails with MAIF_EUNSUPPORTED. Nothing of a block that fails is
     * written. The decoded size is bounded by the input limit before
     * anything is allocated for it. */
    /* A large block streams in bounded memory (maif_reader_block_decode_to):
     * a first pass authenticates all of it, writing nothing, then a second
     * writes it chunk by chunk, each chunk authenticated again. */
    size_t dn = b.payload_size;
    int streamed = 0;
    if (b.cipher != 0 || b.codec != 0) {
        size_t n = 0, got = 0;
        rc = maif_reader_block_decoded_size(r, index, &n);
        if (rc == MAIF_OK && n > cli_payload_limit()) {
            cli_err(path, "block %llu decodes to %zu bytes, over the limit of %llu (MAIF_INPUT_LIMIT)",
                    (unsigned long long)index, n, (unsigned long long)cli_payload_limit());
            ex = CLI_EXIT_VERIFY;
            goto out;
        }
        dn = n;
        /* the STREAM ciphers (4 to 6) open chunk by chunk, zstd (codec 1, or 3
         * with its dictionary) decompresses as they open (or as it is read,
         * alone); other stages decode whole */
        int chunked = b.cipher >= 4 && b.cipher <= 6,
            zstd = b.codec == MAIF_CODEC_ZSTD || b.codec == MAIF_CODEC_ZSTD_DICT;
        streamed = rc == MAIF_OK && n > CAT_WHOLE_MAX &&
                   ((b.codec == 0 && chunked) || (zstd && (chunked || b.cipher == 0)));
        if (streamed) rc = maif_reader_block_decode_to(r, index, discard, NULL); /* the check */
        if (rc == MAIF_OK && !streamed && !(decoded = malloc(n ? n : 1))) rc = MAIF_ENOMEM;
        decoded_cap = decoded ? n : 0;
        if (rc == MAIF_OK && !streamed) rc = maif_reader_block_decode(r, index, decoded, n, &got);
        if (rc == MAIF_EACCESS) {
            cli_err(path, "block %llu is encrypted and %s", (unsigned long long)index,
                    identity || passfile ? "no identity or passphrase given opens it (access denied)"
                    : ks ? "no key given or in the keystore opens it (access denied; erased blocks stay closed)"
                         : "no key was given (access denied; use --identity KEY or --passphrase-file F)");
            ex = CLI_EXIT_ACCESS;
            goto out;
        }
        if (rc != MAIF_OK) {
            cli_err(path, "block %llu (codec %u, cipher %u) cannot be decoded: %s", (unsigned long long)index, b.codec,
                    b.cipher, rc == MAIF_ENOMEM ? maif_strerror(rc) : maif_reader_errmsg(r));
            ex = CLI_EXIT_VERIFY;
            goto out;
        }
        if (!streamed) {
            b.payload = decoded;
            b.payload_size = got;
        }
    } else {
        streamed = b.payload_size > CAT_WHOLE_MAX; /* plain: the map's pages go back as it is written */
    }
    if (audit) { /* the read is recorded before anything is released */
        maif_writer *w = NULL;
        char hex[2 * MAIF_ID_BYTES + 1];
        if (!(ex = cli_load_key(keyfile, &reader_key))) ex = cli_open_writer(path, reader_key, &w);
        if (!ex) {
            json_t *f = json_object();
            json_object_set_new(f, "block", json_string(maif_hex(b.id, sizeof b.id, hex)));
            json_object_set_new(f, "index", json_integer((json_int_t)index));
            if (purpose) json_object_set_new(f, "purpose", cli_json_string(purpose, strlen(purpose)));
            ex = cli_priv_audit(path, w, "read", f);
            json_decref(f);
        }
        if (!ex) ex = cli_priv_commit(path, w);
        if (!ex && (rc = maif_writer_close(w)) != MAIF_OK) ex = cli_fail(path, rc, maif_last_errmsg());
        else if (ex) maif_writer_close(w);
        if (ex) goto out;
    }
    if (streamed) {
        out_state os = {0};
        rc = maif_reader_block_decode_to(r, index, to_stdout, &os);
        if (rc == MAIF_OK && fflush(stdout) != 0) os.err = errno ? errno : EIO, rc = MAIF_EIO;
        if (os.err) {
            cli_err("stdout", "write error: %s", strerror(os.err));
            ex = CLI_EXIT_USAGE;
            goto out;
        }
        if (rc != MAIF_OK) { /* the file changed since the check */
            cli_err(path, "block %llu: %s; the output is incomplete (%zu of %zu bytes written): discard it",
                    (unsigned long long)index, maif_reader_errmsg(r), os.written, dn);
            ex = CLI_EXIT_VERIFY;
            goto out;
        }
        ex = cli_finish(CLI_EXIT_OK);
        goto out;
    }
    size_t off = 0;
    while (off < b.payload_size) {
        size_t w = fwrite(b.payload + off, 1, b.payload_size - off, stdout);
        if (w == 0) break;
        off += w;
    }
    if (off < b.payload_size) {
        cli_err("stdout", "write error: %s", strerror(errno));
        ex = CLI_EXIT_USAGE;
        goto out;
    }
    ex = cli_finish(CLI_EXIT_OK);
out:
    if (decoded) explicit_bzero(decoded, decoded_cap); /* the plaintext does not outlive the call */
    free(decoded);
    maif_reader_close(r);
    maif_keyring_free(kr);
    maif_keystore_close(ks);
    maif_key_free(reader_key);
    return ex;
}

const cli_command cli_cmd_cat = {
    "cat", run, "write a block's payload to stdout",
    "usage: maif cat FILE BLOCK [--identity KEY | --passphrase-file F] [--purpose P]\n"
    "                [--audit [--key KEYFILE]] [--sealed-meta] [--keystore-pin-file F]\n"
    "\n"
    "Writes the payload of one block of FILE (native or MAIF 2.1) to stdout,\n"
    "byte for byte, with nothing added. BLOCK is a block index as `maif ls`\n"
    "numbers them (from 0) or a block id (32 hex digits). Embeddings come out\n"
    "as their stored float32 little-endian rows.\n"
    "\n"
    "An encrypted block (maif add --encrypt) is decrypted with --identity KEY\n"
    "(a `maif keygen` secret key it was encrypted for) or --passphrase-file F.\n"
    "Nothing is written unless the block authenticates. A block over 16 MiB\n"
    "sealed in chunks (any --encrypt algorithm, payload over 64 KiB), with or\n"
    "without zstd (with or without a dictionary), and a zstd block over 16 MiB,\n"
    "stream in bounded memory: all of it is authenticated (and decompressed)\n"
    "first, writing nothing, then written chunk by chunk. lz4 and shuffle-zstd\n"
    "blocks decode whole (at most 64 MiB). A shreddable block\n"
    "(maif add --shreddable) opens with FILE.keystore and its master key.\n"
    CLI_KS_PIN_HELP
    "--audit      record the read first: a signed audit block {\"action\":\"read\"}\n"
    "             appended to FILE, signed with --key KEYFILE (default: the\n"
    "             default key); a policy may require it.\n"
    "--sealed-meta  print the block's sealed metadata (maif add --meta-private) as\n"
    "             JSON instead of its payload (same keys and policy).\n"
    "--purpose P  the purpose of the read, for the policy's conditions (and the\n"
    "             audit record).\n"
    "If FILE has an access policy (maif policy), the reader is the --identity\n"
    "key (or the default key) and the policy decides (exit 3 when it denies).\n"
    "\n"
    "exit codes: 0 written; 1 FILE is not a readable MAIF artifact, or the block\n"
    "is damaged, fails authentication, or uses a codec/cipher this version\n"
    "cannot decode; 2 usage error, missing file, index out of range, unknown id,\n"
    "no PIN for a keystore on a token; 3 the block is encrypted and no usable key\n"
    "was given, the policy denies the read, or the keystore's token refused (a\n"
    "wrong PIN, no such token).\n",
};
