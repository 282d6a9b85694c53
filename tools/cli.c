/*
 * cli.c — helpers shared by the subcommands. Kept here so that every
 * command parses options, reports errors, maps library errors to exit codes
 * and reads bounded input in exactly the same way.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/buf.h"

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

/* Reads path ("-": stdin) whole, bounded by CLI_INPUT_MAX. On error
 * returns -1 with a message (not naming the file) in err. */
static int read_all(const char *path, uint8_t **out, size_t *n, char *err, size_t errcap)
{
    int is_stdin = strcmp(path, "-") == 0;
    *out = NULL;
    *n = 0;
    int fd = is_stdin ? 0 : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errcap, "%s", errno == ENOENT ? "no such file" : strerror(errno));
        return -1;
    }
    maif_buf b = {0};
    struct stat st;
    if (fstat(fd, &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            snprintf(err, errcap, "is a directory");
            goto fail;
        }
        if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > CLI_INPUT_MAX) {
            snprintf(err, errcap, "larger than the input limit of 4 GiB");
            goto fail;
        }
        /* A regular file's size is known: one allocation (plus the NUL). */
        if (S_ISREG(st.st_mode) && maif_buf_reserve(&b, (size_t)st.st_size + 2) != 0) {
            snprintf(err, errcap, "out of memory");
            goto fail;
        }
    }
    for (;;) {
        if (b.cap - b.len < 2 && maif_buf_reserve(&b, 1 << 16) != 0) {
            snprintf(err, errcap, "out of memory");
            goto fail;
        }
        ssize_t r = read(fd, b.data + b.len, b.cap - b.len - 1); /* keep a byte for the NUL */
        if (r < 0) {
            if (errno == EINTR) continue;
            snprintf(err, errcap, "read error: %s", strerror(errno));
            goto fail;
        }
        if (r == 0) break;
        b.len += (size_t)r;
        if (b.len > CLI_INPUT_MAX) {
            snprintf(err, errcap, "larger than the input limit of 4 GiB");
            goto fail;
        }
    }
    if (!is_stdin) close(fd);
    size_t len = b.len;
    char *data = maif_buf_steal(&b, &len);
    if (!data) { /* nothing was read: still hand out a valid empty string */
        data = calloc(1, 1);
        len = 0;
        if (!data) {
            snprintf(err, errcap, "out of memory");
            return -1;
        }
    }
    *out = (uint8_t *)data;
    *n = len;
    return 0;
fail:
    maif_buf_free(&b);
    if (!is_stdin) close(fd);
    return -1;
}

int cli_read_input(const char *path, uint8_t **out, size_t *n)
{
    char err[256];
    if (read_all(path, out, n, err, sizeof err) == 0) return 0;
    cli_err(strcmp(path, "-") == 0 ? "<stdin>" : path, "%s", err);
    return CLI_EXIT_USAGE;
}

int cli_read_input_err(const char *path, uint8_t **out, size_t *n, char *err, size_t errcap)
{
    return read_all(path, out, n, err, errcap);
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
        if (rc == MAIF_EKEY) {
            cli_err(keyfile, "not a maif secret key file");
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
        cli_err(path, "locked by another writer");
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
    maif_buf b = {0};
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        size_t l = utf8_len(u + i, n - i);
        if (l == 0) {
            if (maif_buf_append(&b, "\xef\xbf\xbd", 3)) goto oom;
            i++;
        } else {
            if (maif_buf_append(&b, u + i, l)) goto oom;
            i += l;
        }
    }
    j = json_stringn(b.data ? (const char *)b.data : "", b.len);
    maif_buf_free(&b);
    return j;
oom:
    maif_buf_free(&b);
    return NULL;
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

/* ------------------------------------------------------------- blocks */

json_t *cli_parse_meta(const char *text, size_t n, char *err, size_t errcap)
{
    json_error_t je;
    json_t *m = json_loadb(text, n, JSON_REJECT_DUPLICATES, &je);
    if (!m) {
        snprintf(err, errcap, "invalid JSON: %s (line %d, column %d)", je.text, je.line, je.column);
        return NULL;
    }
    if (!json_is_object(m)) {
        snprintf(err, errcap, "metadata must be a JSON object");
        json_decref(m);
        return NULL;
    }
    return m;
}

static int put_f32(uint8_t *p, const json_t *v, size_t i, char *err, size_t errcap)
{
    if (!json_is_number(v)) {
        snprintf(err, errcap, "vector element %zu is not a number", i);
        return -1;
    }
    double d = json_number_value(v);
    if (!isfinite(d) || fabs(d) > FLT_MAX) {
        snprintf(err, errcap, "vector element %zu is outside the float32 range", i);
        return -1;
    }
    float f = (float)d;
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    p[0] = (uint8_t)u;
    p[1] = (uint8_t)(u >> 8);
    p[2] = (uint8_t)(u >> 16);
    p[3] = (uint8_t)(u >> 24);
    return 0;
}

/* Array of numbers (one row) or array of equal-length arrays (rows). */
static int vector_to_f32(const json_t *v, cli_block *b, size_t *count, size_t *dims, char *err, size_t errcap)
{
    if (!json_is_array(v) || json_array_size(v) == 0) {
        snprintf(err, errcap, "an embedding must be a non-empty JSON array of numbers or of rows");
        return -1;
    }
    size_t rows, d;
    int nested = json_is_array(json_array_get(v, 0));
    if (nested) {
        rows = json_array_size(v);
        d = json_array_size(json_array_get(v, 0));
        if (d == 0) {
            snprintf(err, errcap, "embedding row 0 is empty");
            return -1;
        }
    } else {
        rows = 1;
        d = json_array_size(v);
    }
    if (d > CLI_INPUT_MAX / 4 / rows) {
        snprintf(err, errcap, "embedding too large");
        return -1;
    }
    b->owned = malloc(rows * d * 4);
    if (!b->owned) {
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    for (size_t r = 0; r < rows; r++) {
        const json_t *row = nested ? json_array_get(v, r) : v;
        if (!json_is_array(row)) {
            snprintf(err, errcap, "embedding row %zu is not an array", r);
            return -1;
        }
        if (json_array_size(row) != d) {
            snprintf(err, errcap, "embedding row %zu has %zu values, expected %zu", r, json_array_size(row), d);
            return -1;
        }
        for (size_t c = 0; c < d; c++)
            if (put_f32(b->owned + (r * d + c) * 4, json_array_get(row, c), r * d + c, err, errcap)) return -1;
    }
    b->payload = b->owned;
    b->payload_size = rows * d * 4;
    *count = rows;
    *dims = d;
    return 0;
}

int cli_block_build(cli_block *b, uint32_t type, int src, const uint8_t *bytes, size_t n, const json_t *vector,
                    const json_t *meta, char *err, size_t errcap)
{
    memset(b, 0, sizeof *b);
    b->type = type;
    json_t *m = meta ? json_deep_copy(meta) : NULL;
    json_t *parsed = NULL;
    int have_dims = 0;
    size_t count = 0, dims = 0;
    if (meta && !m) goto oom;

    if (src == CLI_SRC_VECTOR && type != MAIF_TYPE_EMBEDDING) {
        snprintf(err, errcap, "\"vector\" is only allowed for type embedding");
        goto fail;
    }
    if (type == MAIF_TYPE_EMBEDDING) {
        if (src == CLI_SRC_RAW) {
            if (n % 4 != 0 || n == 0) {
                snprintf(err, errcap, "raw embedding bytes must be a non-zero multiple of 4 (float32)");
                goto fail;
            }
            b->payload = bytes;
            b->payload_size = n;
            size_t total = n / 4;
            json_t *jd = m ? json_object_get(m, "dimensions") : NULL;
            dims = total;
            if (json_is_integer(jd) && json_integer_value(jd) > 0) dims = (size_t)json_integer_value(jd);
            if (total % dims != 0) {
                snprintf(err, errcap, "%zu float32 values do not divide into rows of %zu", total, dims);
                goto fail;
            }
            count = total / dims;
        } else {
            const json_t *v = vector;
            if (src == CLI_SRC_BYTES) {
                json_error_t je;
                parsed = json_loadb((const char *)bytes, n, JSON_DECODE_ANY, &je);
                if (!parsed) {
                    snprintf(err, errcap, "embedding is not valid JSON: %s", je.text);
                    goto fail;
                }
                v = parsed;
            }
            if (vector_to_f32(v, b, &count, &dims, err, errcap)) goto fail;
        }
        have_dims = 1;
    } else {
        if (type == MAIF_TYPE_JSON) {
            json_error_t je;
            json_t *chk = json_loadb((const char *)bytes, n, JSON_DECODE_ANY, &je);
            if (!chk) {
                snprintf(err, errcap, "payload is not valid JSON: %s (line %d, column %d)", je.text, je.line,
                         je.column);
                goto fail;
            }
            json_decref(chk);
        }
        b->payload = bytes;
        b->payload_size = n;
    }
    if (have_dims) {
        if (!m && !(m = json_object())) goto oom;
        if (json_object_set_new(m, "count", json_integer((json_int_t)count)) ||
            json_object_set_new(m, "dimensions", json_integer((json_int_t)dims)) ||
            json_object_set_new(m, "dtype", json_string("float32")))
            goto oom;
    }
    if (m) {
        b->meta = json_dumps(m, JSON_COMPACT | JSON_SORT_KEYS);
        if (!b->meta) {
            snprintf(err, errcap, "metadata cannot be serialised");
            goto fail;
        }
    }
    json_decref(m);
    json_decref(parsed);
    return 0;
oom:
    snprintf(err, errcap, "out of memory");
fail:
    json_decref(m);
    json_decref(parsed);
    cli_block_free(b);
    return -1;
}

void cli_block_free(cli_block *b)
{
    free(b->owned);
    free(b->meta);
    memset(b, 0, sizeof *b);
}
