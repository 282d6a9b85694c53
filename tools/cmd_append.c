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
#include <pthread.h>
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

/* The artifact's access policy (NULL: none) and the signer's public key,
 * for the level rules every line must meet; set once by run(). */
static const maif_policy *append_policy;
static uint8_t append_signer[MAIF_PUBKEY_BYTES];

/* Adds the block of a parsed line (d; a "file" payload is opened here).
 * Returns 0, or an exit code after printing the error (which names the
 * line). */
static int add_draft(maif_writer *w, const maif_block_draft *d, const char *input_name, unsigned long long lineno,
                     uint64_t limit, uint8_t id[MAIF_ID_BYTES])
{
    if (append_policy) { /* the artifact's level rules (append does not encrypt) */
        maif_block_spec sp;
        char why[256];
        (void)!maif_block_draft_spec(d, &sp); /* type and metadata are set even while the payload is pending */
        if (maif_policy_check_write(append_policy, &sp, 0, append_signer, why, sizeof why) != MAIF_OK) {
            cli_err(input_name, "line %llu: %s (nothing committed)", lineno, why);
            return CLI_EXIT_ACCESS;
        }
    }
    cli_fd_src src = {-1, 0};
    const char *fp = maif_block_draft_file(d);
    if (fp) {
        char err[256];
        if (cli_open_input(fp, &src.fd, err, sizeof err)) {
            cli_err(input_name, "line %llu: %.200s: %s (nothing committed)", lineno, fp, err);
            return CLI_EXIT_USAGE;
        }
    }
    int rc = maif_writer_add_draft(w, d, fp ? cli_fd_read : NULL, &src, limit, id);
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
    return ex;
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
    int ex = add_draft(w, d, input_name, lineno, limit, id);
    maif_block_draft_free(d);
    return ex;
}

/* Room for one more block id. Returns 0, or an exit code after printing. */
static int ids_room(uint8_t **ids, size_t *cap, size_t n, const char *input_name)
{
    if (n < *cap) return 0;
    size_t ncap = *cap ? *cap * 2 : 64;
    uint8_t *p = realloc(*ids, ncap * MAIF_ID_BYTES);
    if (!p) {
        cli_err(input_name, "out of memory (nothing committed)");
        return CLI_EXIT_USAGE;
    }
    *ids = p;
    *cap = ncap;
    return 0;
}

/* ---- --jobs N: lines are parsed on N threads while this one adds them.
 *
 * The input is cut into batches (at most BATCH_LINES lines or BATCH_BYTES
 * bytes, or one longer line); up to 2N + 1 batches are in flight, so
 * memory stays bounded. Parse threads take batches in input order and turn
 * every line into a draft (maif_block_draft_from_json: parsed once,
 * metadata canonicalised once); this thread adds the drafts in input
 * order, so the blocks, their order, the ids printed and every error
 * message are those of the one-thread loop. The first error in line order
 * wins, as there. */
#define BATCH_LINES 256
#define BATCH_BYTES (256u << 10)
#define JOBS_MAX 64

typedef struct pline {
    size_t off, len;            /* the line within its batch's buffer */
    unsigned long long lineno;
    maif_block_draft *d;        /* parsed, or NULL */
    int rc;                     /* parse result */
    char *msg;                  /* parse error message (malloc'ed), or NULL */
} pline;

typedef struct pbatch {
    char *buf;
    size_t len, cap;
    pline *l;                   /* BATCH_LINES entries */
    size_t n;
    int parsed;
} pbatch;

typedef struct ppool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pbatch *b;
    size_t q;                   /* batches in the ring */
    uint64_t filled, next;      /* batches handed over; batches taken by a parse thread */
    int stop;
} ppool;

static void parse_batch(pbatch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        pline *l = &b->l[i];
        l->rc = maif_block_draft_from_json(&l->d, b->buf + l->off, l->len);
        if (l->rc) l->msg = strdup(maif_last_errmsg()); /* the message is this thread's */
    }
}

static void *parse_thread(void *arg)
{
    ppool *p = arg;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->stop && p->next >= p->filled) pthread_cond_wait(&p->cv, &p->mu);
        if (p->stop) break;
        pbatch *b = &p->b[p->next++ % p->q];
        pthread_mutex_unlock(&p->mu);
        parse_batch(b);
        pthread_mutex_lock(&p->mu);
        b->parsed = 1;
        pthread_cond_broadcast(&p->cv);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

static void batch_clear(pbatch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        maif_block_draft_free(b->l[i].d);
        free(b->l[i].msg);
    }
    memset(b->l, 0, BATCH_LINES * sizeof *b->l);
    b->n = 0;
    b->len = 0;
    b->parsed = 0;
}

/* Reads the next batch of non-blank lines into b. Returns 1 with lines, 0
 * at the end of the input (b empty), -1 with err set. */
static int batch_fill(cli_lines *lines, pbatch *b, char *err, size_t errcap)
{
    while (b->n < BATCH_LINES && (b->n == 0 || b->len < BATCH_BYTES)) {
        const char *line;
        size_t len;
        int got = cli_lines_next(lines, &line, &len, err, errcap);
        if (got < 0) return -1;
        if (got == 0) break;
        if (is_blank(line, len)) continue;
        if (b->cap - b->len < len) {
            size_t ncap = b->cap ? b->cap : 4096;
            while (ncap - b->len < len) ncap *= 2;
            char *nb = realloc(b->buf, ncap);
            if (!nb) {
                snprintf(err, errcap, "out of memory");
                return -1;
            }
            b->buf = nb;
            b->cap = ncap;
        }
        memcpy(b->buf + b->len, line, len);
        b->l[b->n] = (pline){b->len, len, lines->lineno, NULL, 0, NULL};
        b->len += len;
        b->n++;
    }
    return b->n > 0;
}

/* The --jobs loop. Returns 0 with every line added (*nblocks, ids), or an
 * exit code after printing the first error. */
static int append_jobs(maif_writer *w, cli_lines *lines, unsigned jobs, const char *input_name, uint64_t limit,
                       uint8_t **ids, size_t *ids_cap, size_t *nblocks)
{
    ppool p = {.q = 2 * (size_t)jobs + 1};
    pthread_t th[JOBS_MAX];
    unsigned started = 0;
    int ex = 0;
    p.b = calloc(p.q, sizeof *p.b);
    for (size_t i = 0; p.b && i < p.q; i++)
        if (!(p.b[i].l = calloc(BATCH_LINES, sizeof *p.b[i].l))) ex = CLI_EXIT_USAGE;
    if (!p.b || ex) {
        cli_err(input_name, "out of memory (nothing committed)");
        ex = CLI_EXIT_USAGE;
        goto out;
    }
    pthread_mutex_init(&p.mu, NULL);
    pthread_cond_init(&p.cv, NULL);
    for (; started < jobs; started++)
        if (pthread_create(&th[started], NULL, parse_thread, &p) != 0) break;
    if (started == 0) { /* no thread at all: parse here, batch by batch (below) */ }
    uint64_t added = 0;
    int eof = 0, fill_err = 0;
    char err[256];
    unsigned long long err_line = 0;
    while (!ex) {
        while (!eof && p.filled - added < p.q) {
            pbatch *b = &p.b[p.filled % p.q];
            int got = batch_fill(lines, b, err, sizeof err);
            if (got < 0) {
                fill_err = 1;
                err_line = lines->lineno;
            }
            if (got <= 0) eof = 1;
            if (got < 0 && b->n == 0) break;
            if (b->n == 0) break;
            pthread_mutex_lock(&p.mu);
            p.filled++;
            pthread_cond_broadcast(&p.cv);
            pthread_mutex_unlock(&p.mu);
        }
        if (added == p.filled) break;
        pbatch *b = &p.b[added % p.q];
        if (started == 0) {
            parse_batch(b);
            b->parsed = 1;
            p.next = added + 1;
        }
        pthread_mutex_lock(&p.mu);
        while (!b->parsed) pthread_cond_wait(&p.cv, &p.mu);
        pthread_mutex_unlock(&p.mu);
        for (size_t i = 0; i < b->n && !ex; i++) {
            pline *l = &b->l[i];
            if (l->rc) {
                cli_err(input_name, "line %llu: %s (nothing committed)", l->lineno, l->msg ? l->msg : maif_strerror(l->rc));
                ex = CLI_EXIT_USAGE;
            } else if (!(ex = ids_room(ids, ids_cap, *nblocks, input_name)) &&
                       !(ex = add_draft(w, l->d, input_name, l->lineno, limit, *ids + *nblocks * MAIF_ID_BYTES))) {
                (*nblocks)++;
            }
        }
        batch_clear(b); /* no parse thread touches it until it is filled again */
        added++;
    }
    if (!ex && fill_err) {
        cli_err(input_name, "line %llu: %s (nothing committed)", err_line, err);
        ex = CLI_EXIT_USAGE;
    }
    pthread_mutex_lock(&p.mu);
    p.stop = 1;
    pthread_cond_broadcast(&p.cv);
    pthread_mutex_unlock(&p.mu);
    for (unsigned i = 0; i < started; i++) pthread_join(th[i], NULL);
    pthread_mutex_destroy(&p.mu);
    pthread_cond_destroy(&p.cv);
out:
    for (size_t i = 0; p.b && i < p.q; i++) {
        if (p.b[i].l) batch_clear(&p.b[i]);
        free(p.b[i].l);
        free(p.b[i].buf);
    }
    free(p.b);
    return ex;
}

static int run(int argc, char **argv)
{
    const char *keyfile = NULL, *compress = NULL, *jobs_s = NULL;
    int use_dict = 0;
    cli_p11 p11 = {0};
    const cli_opt opts[] = {
        {"--key", CLI_VALUE, NULL, &keyfile, NULL, 0, NULL},
        CLI_P11_OPTS(p11),
        {"--compress", CLI_VALUE, NULL, &compress, NULL, 0, NULL},
        {"--dict", CLI_FLAG, &use_dict, NULL, NULL, 0, NULL},
        {"--jobs", CLI_VALUE, NULL, &jobs_s, NULL, 0, NULL},
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
    uint64_t jobs = 1;
    if (jobs_s && (!cli_parse_u64(jobs_s, &jobs) || jobs < 1 || jobs > JOBS_MAX))
        return cli_usage_err(me, "--jobs: a number of threads from 1 to %d", JOBS_MAX);
    if (use_dict && compress && codec != MAIF_CODEC_ZSTD)
        return cli_usage_err(me, "--dict compresses with zstd: give --compress zstd or zstd:N, or no --compress");

    cli_lines lines = {.fd = -1, .max = cli_line_max()};
    char err[256];
    if (cli_open_input(input, &lines.fd, err, sizeof err)) {
        cli_err(input_name, "%s", err);
        return CLI_EXIT_USAGE;
    }
    maif_key *key = NULL;
    maif_writer *w = NULL;
    maif_policy *pol = NULL;
    uint8_t *ids = NULL; /* MAIF_ID_BYTES per block added */
    size_t nblocks = 0, ids_cap = 0;
    int ex = cli_load_signing_key(keyfile, &p11, &key);
    if (ex) goto out;
    ex = cli_open_writer(path, key, &w);
    if (ex) goto out;
    maif_key_public(key, append_signer);
    if ((ex = cli_policy_load(path, &pol))) goto out;
    append_policy = pol;
    int crc;
    if (compress && (crc = maif_writer_set_codec(w, codec, level)) != MAIF_OK) {
        ex = cli_fail(path, crc, maif_writer_errmsg(w));
        goto out;
    }
    if (use_dict && (crc = maif_writer_use_dict(w, NULL, level)) != MAIF_OK) {
        ex = cli_fail(path, crc, maif_writer_errmsg(w));
        if (ex == CLI_EXIT_VERIFY) ex = CLI_EXIT_USAGE;
        goto out;
    }
    uint64_t first = maif_writer_count(w), limit = cli_payload_limit();
    if (jobs > 1) {
        ex = append_jobs(w, &lines, (unsigned)jobs, input_name, limit, &ids, &ids_cap, &nblocks);
    } else {
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
            if ((ex = ids_room(&ids, &ids_cap, nblocks, input_name))) break;
            if ((ex = add_line(w, line, len, input_name, lines.lineno, limit, ids + nblocks * MAIF_ID_BYTES))) break;
            nblocks++;
        }
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
    append_policy = NULL;
    maif_policy_free(pol);
    maif_key_free(key);
    free(ids);
    cli_lines_free(&lines);
    if (lines.fd > 0) close(lines.fd);
    return ex;
}

const cli_command cli_cmd_append = {
    "append", run, "add many blocks from JSON lines, in one transaction",
    "usage: maif append FILE [JSONL|-] [--key KEYFILE] [--compress C [--dict]] [--jobs N]\n"
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
    "--jobs N      parse the lines on N threads (1..64; default 1) while the\n"
    "              blocks are added in input order: the same blocks, ids, output\n"
    "              and errors as with one thread\n"
    "--dict        compress with FILE's latest zstd dictionary (`maif dict FILE\n"
    "              --train` makes one; exit 2 if there is none), at the level of\n"
    "              --compress (default 3); a line's own \"compress\" overrides it\n"
    "\n"
    CLI_P11_HELP
    "\n"
    "exit codes: 0 committed; 1 FILE is too damaged to open; 2 usage error,\n"
    "missing file, a bad line, bad key, or a 2.1 file (convert first).\n",
};
