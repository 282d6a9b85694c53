/*
 * cli.c — helpers shared by the subcommands. Kept here so that every
 * command parses options, reports errors, maps library errors to exit codes
 * and reads bounded input in exactly the same way.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>


/* ------------------------------------------------------------ parsing */

static const cli_opt *find_opt(const cli_opt *opts, const char *name, size_t len)
{
    for (const cli_opt *o = opts; o && o->name; o++)
        if (strlen(o->name) == len && strncmp(o->name, name, len) == 0) return o;
    return NULL;
}

int cli_parse(const cli_command *cmd, int argc, char **argv, const cli_opt *opts, const char **pos, int pos_min,
              int pos_max, int *npos)
{
    int np = 0, only_pos = 0;
    *npos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!only_pos && strcmp(a, "--") == 0) {
            only_pos = 1;
            continue;
        }
        if (!only_pos && (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)) return CLI_PARSE_HELP;
        if (only_pos || a[0] != '-' || strcmp(a, "-") == 0) {
            if (np >= pos_max) {
                cli_usage_err(cmd, "unexpected argument '%s'", a);
                return CLI_PARSE_ERROR;
            }
            pos[np++] = a;
            continue;
        }
        const char *eq = strchr(a, '=');
        size_t nlen = eq ? (size_t)(eq - a) : strlen(a);
        const cli_opt *o = find_opt(opts, a, nlen);
        if (!o) {
            cli_usage_err(cmd, "unknown option '%.*s'", (int)(nlen > 64 ? 64 : nlen), a);
            return CLI_PARSE_ERROR;
        }
        if (o->kind == CLI_FLAG) {
            if (eq) {
                cli_usage_err(cmd, "option %s takes no value", o->name);
                return CLI_PARSE_ERROR;
            }
            *o->flag = 1;
            continue;
        }
        const char *val;
        if (eq)
            val = eq + 1;
        else if (i + 1 < argc)
            val = argv[++i];
        else {
            cli_usage_err(cmd, "option %s needs a value", o->name);
            return CLI_PARSE_ERROR;
        }
        if (o->kind == CLI_VALUE) {
            if (*o->value) {
                cli_usage_err(cmd, "option %s given twice", o->name);
                return CLI_PARSE_ERROR;
            }
            *o->value = val;
        } else {
            if (*o->multi_n >= o->multi_cap) {
                cli_usage_err(cmd, "option %s given more than %zu times", o->name, o->multi_cap);
                return CLI_PARSE_ERROR;
            }
            o->multi[(*o->multi_n)++] = val;
        }
    }
    if (np < pos_min) {
        cli_usage_err(cmd, "missing argument");
        return CLI_PARSE_ERROR;
    }
    *npos = np;
    return CLI_PARSE_OK;
}

int cli_help(const cli_command *cmd)
{
    fputs(cmd->help, stdout);
    return cli_finish(CLI_EXIT_OK);
}

int cli_parse_u64(const char *s, uint64_t *out)
{
    if (!s || !*s || strlen(s) > 20) return 0;
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

/* ------------------------------------------------------------- errors */

static void put_clean_line(FILE *f, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '\n' || c == '\r' || c == '\t')
            fputc(' ', f);
        else if (c < 0x20 || c == 0x7f)
            fputc('?', f);
        else
            fputc(c, f);
    }
}

static void verr(const char *subject, const char *fmt, va_list ap)
{
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    fputs("maif: ", stderr);
    if (subject && *subject) {
        put_clean_line(stderr, subject);
        fputs(": ", stderr);
    }
    put_clean_line(stderr, msg);
    fputc('\n', stderr);
}

void cli_err(const char *subject, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    verr(subject, fmt, ap);
    va_end(ap);
}

int cli_usage_err(const cli_command *cmd, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cli_err(cmd->name, "%s (see 'maif %s --help')", msg, cmd->name);
    return CLI_EXIT_USAGE;
}

/* The policy: a file that exists but is not a parseable, intact MAIF
 * artifact is a verification failure (1); anything the user can fix by
 * changing the command line or the input (missing or unreadable files, bad
 * keys, bad JSON, limits, locks) is 2; access denial is 3. */
int cli_exit_for(int code)
{
    switch (code) {
    case MAIF_OK: return CLI_EXIT_OK;
    case MAIF_EFORMAT:
    case MAIF_EVERSION:
    case MAIF_EVERIFY: return CLI_EXIT_VERIFY;
    case MAIF_EACCESS: return CLI_EXIT_ACCESS;
    default: return CLI_EXIT_USAGE;
    }
}

int cli_fail(const char *subject, int code, const char *detail)
{
    detail = cli_detail(subject, detail);
    if (detail && *detail)
        cli_err(subject, "%s", detail);
    else
        cli_err(subject, "%s", maif_strerror(code));
    return cli_exit_for(code);
}

const char *cli_detail(const char *path, const char *msg)
{
    if (!msg) return "";
    size_t pl = strlen(path);
    if (pl && strncmp(msg, path, pl) == 0 && msg[pl] == ':' && msg[pl + 1] == ' ') return msg + pl + 2;
    return msg;
}

int cli_finish(int rc)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        cli_err("stdout", "write error: %s", strerror(errno));
        return rc == CLI_EXIT_OK ? CLI_EXIT_USAGE : rc;
    }
    return rc;
}

/* -------------------------------------------------------------- input */

/* An environment override, for tests: MAIF_INPUT_LIMIT=N (bytes, > 0). */
static uint64_t env_limit(void)
{
    const char *e = getenv("MAIF_INPUT_LIMIT");
    if (!e || !*e) return 0;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(e, &end, 10);
    return errno || *end || v == 0 ? 0 : (uint64_t)v;
}

uint64_t cli_payload_limit(void)
{
    uint64_t e = env_limit();
    return e && e < CLI_INPUT_MAX ? e : CLI_INPUT_MAX;
}

size_t cli_line_max(void)
{
    uint64_t e = env_limit();
    return e && e < CLI_LINE_MAX ? (size_t)e : CLI_LINE_MAX;
}

int cli_open_input(const char *path, int *fd_out, char *err, size_t errcap)
{
    *fd_out = -1;
    if (strcmp(path, "-") == 0) {
        *fd_out = 0;
        return 0;
    }
    /* Non-blocking, so that opening a FIFO never waits for a writer; the
     * type is checked before the first read. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        snprintf(err, errcap, "%s", errno == ENOENT ? "no such file" : strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        snprintf(err, errcap, "%s", strerror(errno));
        close(fd);
        return -1;
    }
    if (S_ISDIR(st.st_mode) || S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)) {
        snprintf(err, errcap, "%s", S_ISDIR(st.st_mode) ? "is a directory"
                                    : "is a named pipe or socket, which could wait forever for a writer; "
                                      "pipe the data to stdin (-) instead");
        close(fd);
        return -1;
    }
    *fd_out = fd;
    return 0;
}

int64_t cli_fd_read(void *ctx, void *buf, size_t cap)
{
    cli_fd_src *s = ctx;
    for (;;) {
        ssize_t k = read(s->fd, buf, cap);
        if (k >= 0) return k;
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            struct pollfd p = {s->fd, POLLIN, 0};
            if (poll(&p, 1, -1) >= 0 || errno == EINTR) continue;
        }
        s->err = errno;
        return MAIF_EIO;
    }
}

/* Lines are read through a window that grows only while a line does, and
 * never past the line limit plus one read. */
int cli_lines_next(cli_lines *l, const char **line, size_t *len, char *err, size_t errcap)
{
    for (;;) {
        char *nl = l->len > l->scan ? memchr(l->buf + l->scan, '\n', l->len - l->scan) : NULL;
        if (nl || (l->eof && l->len > l->start)) {
            size_t end = nl ? (size_t)(nl - l->buf) : l->len;
            if (end - l->start > l->max) goto too_long;
            *line = l->buf + l->start;
            *len = end - l->start;
            l->start = l->scan = nl ? end + 1 : end;
            l->lineno++;
            return 1;
        }
        if (l->eof) return 0;
        if (l->len - l->start > l->max) goto too_long;
        l->scan = l->len;
        if (l->start > 0 && l->start == l->len) l->start = l->scan = l->len = 0;
        if (l->start > 0 && l->cap - l->len < (1u << 16)) { /* slide the partial line to the front */
            memmove(l->buf, l->buf + l->start, l->len - l->start);
            l->len -= l->start;
            l->scan -= l->start;
            l->start = 0;
        }
        if (l->cap - l->len < (1u << 16)) {
            size_t ncap = l->cap ? l->cap * 2 : (1u << 17);
            if (ncap > l->max + (1u << 17)) ncap = l->max + (1u << 17);
            if (ncap <= l->cap) goto too_long;
            char *nb = realloc(l->buf, ncap);
            if (!nb) {
                snprintf(err, errcap, "out of memory");
                return -1;
            }
            l->buf = nb;
            l->cap = ncap;
        }
        cli_fd_src src = {l->fd, 0};
        int64_t k = cli_fd_read(&src, l->buf + l->len, l->cap - l->len);
        if (k < 0) {
            snprintf(err, errcap, "read error: %s", strerror(src.err));
            return -1;
        }
        if (k == 0) l->eof = 1;
        l->len += (size_t)k;
    }
too_long:
    l->lineno++;
    snprintf(err, errcap, "longer than the line limit of %zu bytes", l->max);
    return -1;
}

void cli_lines_free(cli_lines *l)
{
    free(l->buf);
    l->buf = NULL;
}

int cli_load_key(const char *keyfile, maif_key **out)
{
    int rc;
    if (keyfile) {
        rc = maif_key_load(out, keyfile);
        if (rc == MAIF_ENOTFOUND) {
            cli_err(keyfile, "no such key file");
            return CLI_EXIT_USAGE;
        }
        const char *d = cli_detail(keyfile, maif_last_errmsg());
        if (rc == MAIF_EIO && strstr(d, "not a regular file")) { /* a FIFO or a directory: refused, never read */
            cli_err(keyfile, "%s", d);
            return CLI_EXIT_USAGE;
        }
        if (rc == MAIF_EKEY) {
            /* a PEM key of a kind maif does not sign with says which */
            if (strstr(d, "supported:")) cli_err(keyfile, "%s", d);
            else cli_err(keyfile, "not a maif secret key file");
            return CLI_EXIT_USAGE;
        }
        if (rc) {
            cli_err(keyfile, "cannot load key: %s", cli_detail(keyfile, maif_last_errmsg()));
            return CLI_EXIT_USAGE;
        }
        return 0;
    }
    char path[4096] = "";
    rc = maif_key_load_default(out, path, sizeof path);
    if (rc) {
        cli_err(*path ? path : "default key", "cannot load or create the default key: %s",
                cli_detail(path, maif_last_errmsg()));
        return CLI_EXIT_USAGE;
    }
    return 0;
}

/* Missing, unreadable and non-regular files are usage errors (2), caught
 * here so that every command words them the same way. */
int cli_check_file(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        cli_err(path, "%s", errno == ENOENT ? "no such file" : strerror(errno));
        return CLI_EXIT_USAGE;
    }
    if (!S_ISREG(st.st_mode)) {
        cli_err(path, "not a regular file");
        return CLI_EXIT_USAGE;
    }
    if (access(path, R_OK) != 0) {
        cli_err(path, "cannot read: %s", strerror(errno));
        return CLI_EXIT_USAGE;
    }
    return 0;
}

int cli_open_reader(const char *path, maif_reader **out)
{
    *out = NULL;
    int rc = cli_check_file(path);
    if (rc) return rc;
    rc = maif_reader_open(out, path);
    if (rc) {
        const char *err = maif_last_errmsg();
        *out = NULL;
        if (rc == MAIF_EFORMAT || rc == MAIF_EVERSION) {
            const char *d = cli_detail(path, err);
            cli_err(path, "not a readable MAIF artifact: %s", *d ? d : maif_strerror(rc));
            return CLI_EXIT_VERIFY;
        }
        return cli_fail(path, rc, err);
    }
    return 0;
}

int cli_pin_pubkeys(maif_options *opt, const char *const *paths, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t pk[MAIF_PUBKEY_BYTES];
        int rc = maif_pubkey_load(paths[i], pk);
        if (rc == MAIF_OK) rc = maif_options_add_trusted_key(opt, pk);
        if (rc != MAIF_OK) {
            cli_err(paths[i], "%s", rc == MAIF_ENOTFOUND ? "no such key file"
                                    : rc == MAIF_EKEY    ? "not a maif key file"
                                                         : cli_detail(paths[i], maif_last_errmsg()));
            return CLI_EXIT_USAGE;
        }
    }
    return 0;
}

int cli_options_durable(maif_options **out)
{
    int rc = maif_options_create(out);
    if (rc == MAIF_OK && (rc = maif_options_set(*out, MAIF_OPT_DURABLE, 1)) != MAIF_OK) {
        maif_options_free(*out);
        *out = NULL;
    }
    return rc;
}

int cli_open_writer(const char *path, const maif_key *key, maif_writer **out)
{
    *out = NULL;
    int rc = cli_check_file(path);
    if (rc) return rc;
    maif_options *opt = NULL;
    rc = cli_options_durable(&opt);
    /* concurrent add/append queue for the lock rather than fail at once */
    if (rc == MAIF_OK) rc = maif_options_set(opt, MAIF_OPT_LOCK_WAIT_MS, CLI_LOCK_WAIT_MS);
    if (rc == MAIF_OK) rc = maif_writer_open(out, path, key, opt);
    maif_options_free(opt);
    if (rc == MAIF_OK) return 0;
    *out = NULL;
    const char *d = cli_detail(path, maif_last_errmsg());
    switch (rc) {
    case MAIF_EUNSUPPORTED:
        cli_err(path, "MAIF 2.1 files cannot be appended to; convert it first (maif convert IN OUT --to native)");
        return CLI_EXIT_USAGE;
    case MAIF_ELOCKED:
        cli_err(path, "locked by another writer (waited %d s)", CLI_LOCK_WAIT_MS / 1000);
        return CLI_EXIT_USAGE;
    case MAIF_EFORMAT:
    case MAIF_EVERSION:
        cli_err(path, "cannot append: %s", *d ? d : maif_strerror(rc));
        return CLI_EXIT_VERIFY;
    default:
        return cli_fail(path, rc, d);
    }
}

/* --------------------------------------------------------- formatting */

void cli_format_time(uint64_t us, char *out, size_t cap)
{
    time_t secs = (time_t)(us / 1000000u);
    struct tm tm;
    if ((uint64_t)secs != us / 1000000u || !gmtime_r(&secs, &tm) || tm.tm_year + 1900 > 9999) {
        snprintf(out, cap, "@%llu", (unsigned long long)us);
        return;
    }
    char date[32];
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, cap, "%s.%06uZ", date, (unsigned)(us % 1000000u));
}

const char *cli_format_name(int format)
{
    if (format == MAIF_FORMAT_NATIVE) return "native";
    if (format == MAIF_FORMAT_V21) return "2.1";
    return "unknown";
}

const char *cli_type_label(uint32_t type, char out[5])
{
    const char *n = maif_type_name(type);
    return n ? n : maif_type_fourcc(type, out);
}

void cli_put_clean(FILE *f, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        fputc(c < 0x20 || c == 0x7f ? '?' : c, f);
    }
}

/* Length of the valid UTF-8 sequence at s (max n bytes), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    unsigned min;
    if (c < 0x80) return 1;
    if (c >= 0xc2 && c <= 0xdf) len = 2, min = 0x80;
    else if (c >= 0xe0 && c <= 0xef) len = 3, min = 0x800;
    else if (c >= 0xf0 && c <= 0xf4) len = 4, min = 0x10000;
    else return 0;
    if (len > n) return 0;
    unsigned cp = c & (0x3fu >> (len - 1));
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3fu);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    return len;
}

json_t *cli_json_string(const char *s, size_t n)
{
    if (!s) return json_string("");
    json_t *j = json_stringn(s, n);
    if (j) return j;
    if (n > ((size_t)-1) / 3) return NULL;
    char *b = malloc(3 * n + 1); /* each byte becomes at most U+FFFD (3 bytes) */
    if (!b) return NULL;
    size_t len = 0;
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        size_t l = utf8_len(u + i, n - i);
        if (l == 0) {
            memcpy(b + len, "\xef\xbf\xbd", 3);
            len += 3;
            i++;
        } else {
            memcpy(b + len, u + i, l);
            len += l;
            i += l;
        }
    }
    j = json_stringn(b, len);
    free(b);
    return j;
}

int cli_print_json(json_t *doc)
{
    if (!doc) {
        cli_err("json", "out of memory");
        return CLI_EXIT_USAGE;
    }
    char *s = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (!s) {
        cli_err("json", "cannot serialise output");
        return CLI_EXIT_USAGE;
    }
    fputs(s, stdout);
    fputc('\n', stdout);
    free(s);
    return CLI_EXIT_OK;
}
