/*
 * cli.h — what the `maif` subcommands share: the command table entry, a
 * small option parser, the exit-code policy, one-line error reporting,
 * streaming input (bounded lines, non-blocking opens) and key loading.
 * Building blocks from CLI or JSONL input is the library's job
 * (maif_block_draft_*).
 *
 * The tool only talks to the library through include/maif.h. Every subcommand returns one of the CLI_EXIT_* codes; the
 * mapping from library error codes to exit codes lives in one place
 * (cli_exit_for) so that every command agrees on it.
 */
#ifndef MAIF_CLI_H
#define MAIF_CLI_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "maif.h"

/* Exit codes, for every command (documented in `maif --help`, docs/CLI.md). */
#define CLI_EXIT_OK     0 /* success */
#define CLI_EXIT_VERIFY 1 /* not intact, untrusted signer, or too damaged to parse */
#define CLI_EXIT_USAGE  2 /* usage error, missing/unreadable file, invalid input */
#define CLI_EXIT_ACCESS 3 /* access denied: no usable key, or the privacy budget is exhausted */

/* Largest payload the tool reads from a file or stdin: 4 GiB (streamed;
 * memory stays bounded). Larger inputs are refused with exit code 2. */
#define CLI_INPUT_MAX ((uint64_t)4 << 30)
/* Longest JSONL line: MAIF_PARSE_MAX (16 MiB); longer is exit code 2. */
#define CLI_LINE_MAX MAIF_PARSE_MAX
/* At most this many --pubkey options to verify. */
#define CLI_PUBKEY_MAX 256
/* Metadata shown by `ls` is cut to about this many bytes. */
#define CLI_LS_META_WIDTH 60

typedef struct cli_command {
    const char *name;
    int (*run)(int argc, char **argv); /* argv[0] is the command name */
    const char *summary;               /* one line for `maif --help` */
    const char *help;                  /* full text for `maif CMD --help` */
} cli_command;

extern const cli_command cli_cmd_keygen, cli_cmd_create, cli_cmd_add, cli_cmd_append, cli_cmd_ls,
    cli_cmd_cat, cli_cmd_info, cli_cmd_verify, cli_cmd_recover, cli_cmd_convert;
extern const cli_command cli_cmd_prove, cli_cmd_check_proof, cli_cmd_graph, cli_cmd_mcp, cli_cmd_dict;
extern const cli_command cli_cmd_embed, cli_cmd_index, cli_cmd_search;
extern const cli_command cli_cmd_grant, cli_cmd_revoke, cli_cmd_rotate, cli_cmd_shred, cli_cmd_policy, cli_cmd_audit;
extern const cli_command cli_cmd_pii, cli_cmd_query;
extern const cli_command cli_cmd_csr, cli_cmd_cert, cli_cmd_timestamp;
extern const cli_command cli_cmd_serve;
/* `maif serve` (server/serve.c, a layer beside the CLI: declared here
 * because the CLI may not include the server's headers). */
int maif_serve_main(int argc, char **argv);

/* ---- option parsing */

enum { CLI_FLAG, CLI_VALUE, CLI_MULTI };

typedef struct cli_opt {
    const char *name;    /* "--key" */
    int kind;            /* CLI_FLAG, CLI_VALUE or CLI_MULTI */
    int *flag;           /* CLI_FLAG: set to 1 */
    const char **value;  /* CLI_VALUE: the value (given at most once) */
    const char **multi;  /* CLI_MULTI: values appended here ... */
    size_t multi_cap;    /* ... at most this many ... */
    size_t *multi_n;     /* ... count */
} cli_opt;

#define CLI_PARSE_OK    0
#define CLI_PARSE_HELP  1  /* --help / -h was given: print help, exit 0 */
#define CLI_PARSE_ERROR -1 /* a one-line usage error was printed */

/* Parses argv[1..argc) of a subcommand against opts (terminated by an
 * entry with name NULL). "--opt value" and "--opt=value" both work; "-" is
 * a positional argument; "--" ends the options. Positionals go to pos
 * (pos_max slots); fewer than pos_min or more than pos_max is an error. */
int cli_parse(const cli_command *cmd, int argc, char **argv, const cli_opt *opts, const char **pos, int pos_min,
              int pos_max, int *npos);

/* 1 and *out for a plain decimal number (no sign, no spaces, no
 * overflow), else 0: block numbers, commit numbers. */
int cli_parse_u64(const char *s, uint64_t *out);

/* Prints the command's help to stdout. Returns CLI_EXIT_OK. */
int cli_help(const cli_command *cmd);

/* ---- images and sounds (cli_media.c) */

#define CLI_CAPTION_MAX 4096          /* bytes of a caption */
#define CLI_CAPTION_TIMEOUT_MS 60000  /* how long a --captioner command may take */
/* The metadata `maif add` stores for an image or sound: user_meta (a JSON
 * object, or NULL) plus, with analyze, the keys of maif_media_metadata the
 * agent did not set itself, plus "caption" and "caption_source" from
 * caption (given) or captioner (`sh -c CMD` with the payload on stdin,
 * its trimmed stdout the caption). *merged is malloc'd JSON. Returns 0 or
 * an exit code (the error printed on subject). */
int cli_media_meta(const char *subject, uint32_t type, int analyze, const char *caption, const char *captioner,
                   const uint8_t *data, size_t n, const char *user_meta, char **merged);

/* ---- errors and exit codes */

/* Prints "maif: SUBJECT: message" on stderr as one line (control
 * characters and newlines in the text become '?' / ' '). */
void cli_err(const char *subject, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Usage error for cmd: one line, pointing at `maif CMD --help`. Returns
 * CLI_EXIT_USAGE. */
int cli_usage_err(const cli_command *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Exit code for a library error code (see the policy in cli.c). */
int cli_exit_for(int code);
/* Reports a library error on subject with the best detail available
 * (detail may be NULL or ""); returns cli_exit_for(code). */
int cli_fail(const char *subject, int code, const char *detail);
/* The library's message without a leading "PATH: " (the CLI names the
 * file itself). Never NULL. */
const char *cli_detail(const char *path, const char *msg);
/* Flushes stdout; on a write error reports it and returns CLI_EXIT_USAGE,
 * else rc. */
int cli_finish(int rc);

/* ---- text analysis (analyze.c) */

/* For `add --analyze`: meta (a JSON object, or NULL) with "language",
 * "language_confidence" and "sentiment" of the n bytes of text added, into
 * a malloc'd *out. Loads the models from the model directory (see
 * analyze.c). Reports a problem on stderr (subject names the input) and
 * returns a CLI exit code: 0, or 2 (not UTF-8, a model missing or
 * malformed, --meta already holding one of the keys). */
int cli_analyze_meta(const char *subject, const char *meta, const void *text, size_t n, char **out);

/* ---- input
 *
 * Every input streams: payloads go to the writer in chunks, JSONL is read
 * line by line, so memory is bounded whatever the input's size or kind.
 * Named pipes (and sockets) are refused at once rather than waited on;
 * stdin ("-") may be a pipe. */

/* The payload limit: CLI_INPUT_MAX, or MAIF_INPUT_LIMIT (bytes) if set and
 * smaller (for tests). */
uint64_t cli_payload_limit(void);
/* The JSONL line limit: CLI_LINE_MAX, or MAIF_INPUT_LIMIT if smaller. */
size_t cli_line_max(void);

/* Opens path for reading ("-": stdin, fd 0) without blocking; refuses
 * directories, FIFOs and sockets. Returns 0, or -1 with the problem (not
 * naming the file) in err. */
int cli_open_input(const char *path, int *fd_out, char *err, size_t errcap);

/* A maif_read_fn over a file descriptor; err receives errno of a failed
 * read (the read returns MAIF_EIO). */
typedef struct cli_fd_src {
    int fd;
    int err;
} cli_fd_src;
int64_t cli_fd_read(void *ctx, void *buf, size_t cap);
/* Reads src to its end into a malloc'd *out (at most limit bytes).
 * Errors: MAIF_ELIMIT, MAIF_EIO (src->err says why), MAIF_ENOMEM. */
int cli_read_all(cli_fd_src *src, uint64_t limit, uint8_t **out, size_t *n);
/* All of the file path ("-": stdin) into a malloc'd *out, at most limit
 * bytes. Prints the error (over: the line for a file over the limit);
 * returns 0 or CLI_EXIT_USAGE. */
int cli_read_file(const char *path, uint64_t limit, const char *over, uint8_t **out, size_t *n);
/* Commits w's batch unless ex already says a failure, then closes w (NULL
 * is a no-op); returns ex, or the exit code of the first error (printed). */
int cli_commit_close(const char *path, maif_writer *w, int ex);

/* Line reader over fd, at most max bytes a line (without the newline). */
typedef struct cli_lines {
    int fd;
    size_t max;
    char *buf;
    size_t cap, len;   /* bytes read into buf */
    size_t start;      /* start of the next line */
    size_t scan;       /* bytes before this hold no newline after start */
    int eof;
    unsigned long long lineno; /* physical lines returned (or refused) so far */
} cli_lines;
/* Returns 1 with the next line (borrowed until the next call; no '\n'),
 * 0 at the end, or -1 with err set (read error, or a line over max). */
int cli_lines_next(cli_lines *l, const char **line, size_t *len, char *err, size_t errcap);
void cli_lines_free(cli_lines *l);

/* Loads --key KEYFILE if keyfile is not NULL, else the default key.
 * Prints the error. Returns 0 or an exit code. */
int cli_load_key(const char *keyfile, maif_key **out);

/* --pkcs11 MODULE --token LABEL --key-label L [--pin-file F] (cli_p11.c):
 * the writing commands' way to sign on a PKCS#11 token. */
typedef struct cli_p11 {
    const char *module, *token, *label, *pin_file;
} cli_p11;
#define CLI_P11_OPTS(p)                                                  \
    {"--pkcs11", CLI_VALUE, NULL, &(p).module, NULL, 0, NULL},           \
    {"--token", CLI_VALUE, NULL, &(p).token, NULL, 0, NULL},             \
    {"--key-label", CLI_VALUE, NULL, &(p).label, NULL, 0, NULL},         \
    {"--pin-file", CLI_VALUE, NULL, &(p).pin_file, NULL, 0, NULL}
/* The signing key: on the token when p->module is set (PIN from
 * --pin-file, else $MAIF_PKCS11_PIN), else cli_load_key(keyfile). Prints
 * the error. Returns 0 or an exit code: 2 for usage errors, a module that
 * does not load or is not a PKCS#11 module; 3 for a wrong PIN, a missing
 * token or key, or a module that fails. */
int cli_load_signing_key(const char *keyfile, const cli_p11 *p, maif_key **out);
#define CLI_P11_USAGE "[--pkcs11 MODULE --token LABEL --key-label L [--pin-file F]]"
#define CLI_P11_HELP                                                                          \
    "--pkcs11 MODULE --token LABEL --key-label L [--pin-file F]\n"                             \
    "         sign on a PKCS#11 token instead of with --key: MODULE is the module's\n"         \
    "         path, LABEL the token label, L the label of the key pair on it (Ed25519,\n"      \
    "         P-256 or RSA); the PIN is the first line of F, else $MAIF_PKCS11_PIN.\n"         \
    "         A missing module: exit 2; a wrong PIN, no such token or key, a failing\n"        \
    "         module: exit 3.\n"

/* ---- encryption (privacy_cli.c). Each prints its one error line and
 * returns a CLI_EXIT_* code, or 0. */
/* MAIF_CIPHER_* for xchacha20, chacha20, aes256gcm; 0 for anything else. */
int cli_cipher_parse(const char *name);
/* A keyring of the recipients' public key files and a passphrase file;
 * with neither, self's public key is the recipient. The recipients
 * granted in artifact (maif grant) are added; one revoked there is
 * refused (exit 3). */
int cli_keyring_for_writing(const char *artifact, const char *const *rcpts, size_t n, const char *passfile, const maif_key *self,
                            maif_keyring **out);
/* A keyring of an identity (secret key file) and/or a passphrase file. */
int cli_keyring_for_reading(const char *identity, const char *passfile, maif_keyring **out);

/* grant / rotate: re-wraps every data key of path that key (or identity,
 * or the passphrase in passfile) opens for the artifact's granted,
 * unrevoked recipients and key itself, into w's batch. */
int cli_priv_rewrap(const char *path, maif_writer *w, const maif_key *key, const char *identity, const char *passfile,
                    uint64_t *done, uint64_t *unopened);
/* Appends a signed audit block (fields may be NULL). */
int cli_priv_audit(const char *path, maif_writer *w, const char *action, json_t *fields);
/* Commits w; a failure is reported (exit 2 or the I/O code). */
int cli_priv_commit(const char *path, maif_writer *w);

/* The keystore of path's shreddable blocks: path + ".keystore", its
 * master key $MAIF_HOME/masters/<file id>.master (cap bytes each). */
int cli_keystore_paths(const char *path, const uint8_t file_id[MAIF_ID_BYTES], char *ks, char *master, size_t cap);
/* A keystore whose master key is on a PKCS#11 token: where a new one goes
 * (--keystore-pkcs11 MODULE --keystore-token LABEL, maif add --shreddable)
 * and the PIN that opens one (--keystore-pin-file F, else
 * $MAIF_KEYSTORE_PIN). */
typedef struct cli_ks_token {
    const char *module, *token, *pin_file;
} cli_ks_token;
#define CLI_KS_PIN_OPT(t) {"--keystore-pin-file", CLI_VALUE, NULL, &(t).pin_file, NULL, 0, NULL}
#define CLI_KS_OPTS(t)                                                          \
    {"--keystore-pkcs11", CLI_VALUE, NULL, &(t).module, NULL, 0, NULL},         \
    {"--keystore-token", CLI_VALUE, NULL, &(t).token, NULL, 0, NULL},           \
    CLI_KS_PIN_OPT(t)
#define CLI_KS_PIN_HELP                                                                      \
    "--keystore-pin-file F  the PIN of the PKCS#11 token that holds the keystore's\n"         \
    "         master key (first line of F, else $MAIF_KEYSTORE_PIN); needed only\n"          \
    "         for a keystore created with --keystore-pkcs11 (see `maif add --help`)\n"
/* Opens path's keystore (create: making it and the masters directory if
 * needed; on t's token when t->module is set). Without create, *out stays
 * NULL when there is none or its master key is gone. Prints the error:
 * exit 2 for usage (a token option without its partner, no PIN for a
 * token-held master, a module that does not load), 3 for a wrong PIN or a
 * token that fails. t may be NULL. */
int cli_keystore_open(const char *path, int create, const cli_ks_token *t, maif_keystore **out);
/* Replaces the master key of path's keystore if it has one (*rotated 1). */
int cli_keystore_rotate(const char *path, const cli_ks_token *t, int *rotated);
/* The first line of path (no newline, 1..256 bytes) into pin: 0, or
 * CLI_EXIT_USAGE after the error (cli_p11.c). */
#define CLI_PIN_MAX 256
int cli_read_pin(const char *path, char pin[CLI_PIN_MAX + 1]);

/* The artifact's access policy on reading block index of r, by the key in
 * identity (default: the default key) for purpose (may be NULL): 0, or
 * CLI_EXIT_ACCESS after one line naming the rule (cmd_policy.c). */
int cli_policy_check(const char *path, maif_reader *r, uint64_t index, const char *identity, const char *purpose,
                     int audited);
/* path's current policy (*out NULL: none); an exit code after one line
 * when it cannot be established. */
int cli_policy_load(const char *path, maif_policy **out);
/* maif add under a policy: the level rules on spec (exit 3 when broken),
 * then kr (may be NULL) restricted to the keys that may read it. */
int cli_policy_for_add(const char *path, const maif_block_spec *spec, int cipher, const maif_key *key,
                       maif_keyring *kr);
/* ---- PII and differential privacy (pii_cli.c) */
/* Reads a small file (or "-") whole, at most max bytes, NUL-terminated;
 * free *out. Prints the error; returns 0 or CLI_EXIT_USAGE. */
int cli_read_small(const char *path, size_t max, char **out, size_t *n);
/* A scanner with the custom patterns of the file patterns (may be NULL). */
int cli_pii_scanner(const char *patterns, maif_pii_scanner **out);
/* `maif add --anonymize MODE`: text (len bytes, UTF-8) scanned and
 * replaced into *new_text, and meta (a JSON object or NULL) with a "pii"
 * record of what was done (mode, counts per type, key origin; never a
 * value) into *new_meta; both malloc'd. The pseudonym key comes from
 * pkfile, else from the signing key (keyfile or the default) and FILE's
 * file id. Prints the error; returns 0 or an exit code. */
int cli_anonymize(const char *path, const char *mode, const char *patterns, const char *pkfile, const char *keyfile,
                  const char *text, size_t len, const char *meta, char **new_text, char **new_meta);

/* Missing, unreadable or non-regular path: prints the error and returns
 * CLI_EXIT_USAGE; else 0. */
int cli_check_file(const char *path);

/* Opens a reader, mapping errors to exit codes (1 for files too damaged to
 * parse, 2 for missing or unreadable ones). Prints the error. */
int cli_open_reader(const char *path, maif_reader **out);

/* New options with MAIF_OPT_DURABLE set (every CLI write is durable).
 * Returns a library code; free with maif_options_free. */
int cli_options_durable(maif_options **out);

/* Pins each of the n --pubkey files (a .pub or a secret key file) in opt.
 * Prints the error (naming a directory as such). Returns 0 or
 * CLI_EXIT_USAGE. */
int cli_pin_pubkeys(maif_options *opt, const char *const *paths, size_t n);

#define CLI_LOCK_WAIT_MS 10000 /* how long add/append wait for another writer's lock */
/* Opens an existing native artifact for appending (durable commits),
 * waiting up to CLI_LOCK_WAIT_MS for another writer, with the same error
 * policy; a 2.1 file is refused with a hint to convert it. Prints the error. */
int cli_open_writer(const char *path, const maif_key *key, maif_writer **out);

/* ---- formatting */

/* ISO-8601 UTC with microseconds, "2024-05-01T12:00:00.123456Z". */
void cli_format_time(uint64_t us, char *out, size_t cap);
/* "native", "2.1" or "unknown". */
const char *cli_format_name(int format);
/* Type as a lower-case name or its four characters; out needs 5 bytes. */
const char *cli_type_label(uint32_t type, char out[5]);
/* Writes n bytes of s to f, replacing control characters by '?'. */
void cli_put_clean(FILE *f, const char *s, size_t n);
/* json_string from n bytes that may not be valid UTF-8 (invalid bytes
 * become U+FFFD). Never NULL unless out of memory. */
json_t *cli_json_string(const char *s, size_t n);
/* Prints one JSON document followed by a newline. Returns an exit code. */
int cli_print_json(json_t *doc);

#endif
