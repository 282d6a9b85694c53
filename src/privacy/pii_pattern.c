/*
 * pii_pattern.c — custom PII patterns: a small configuration text of
 * "NAME = PATTERN" lines compiled with PCRE2 (UTF, UCP, JIT where the
 * platform has it). Every match attempt runs under a match limit and a
 * depth limit, so a pathological pattern on hostile text costs a bounded
 * number of steps per attempt and never hangs the scan; hitting a limit is
 * reported (MAIF_ELIMIT) with the findings so far kept.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <string.h>

#include "privacy/pii.h"
#include "util/alloc.h"
#include "util/common.h"

static void free_list(pii_pattern *p, size_t n)
{
    for (size_t i = 0; i < n; i++) pcre2_code_free((pcre2_code *)p[i].code);
    maif_free(p);
}

void pii_patterns_free(maif_pii_scanner *s)
{
    free_list(s->pat, s->npat);
    s->pat = NULL;
    s->npat = 0;
    pcre2_match_data_free((pcre2_match_data *)s->md);
    pcre2_match_context_free((pcre2_match_context *)s->mctx);
    s->md = s->mctx = NULL;
}

static int name_ch(int c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'; }
static int blank(int c) { return c == ' ' || c == '\t' || c == '\r'; }

int maif_pii_scanner_load_patterns(maif_pii_scanner *s, const char *config, size_t len)
{
    if (!s || (!config && len)) return maif_set_last_err(MAIF_EINVAL, "maif_pii_scanner_load_patterns: NULL argument");
    if (len > MAIF_PII_CONFIG_MAX)
        return maif_set_last_err(MAIF_ELIMIT, "pattern configuration of %zu bytes is over the limit of %d", len,
                                 MAIF_PII_CONFIG_MAX);
    pii_pattern *list = NULL;
    size_t n = 0;
    int rc = 0;
    unsigned line = 0;
    for (size_t pos = 0; pos < len && rc == 0;) {
        line++;
        const char *l = config + pos;
        const char *nl = memchr(l, '\n', len - pos);
        size_t ll = nl ? (size_t)(nl - l) : len - pos;
        pos += ll + (nl != NULL);
        while (ll && blank((unsigned char)l[ll - 1])) ll--;
        size_t k = 0;
        while (k < ll && blank((unsigned char)l[k])) k++;
        if (k == ll || l[k] == '#') continue;
        if (memchr(l, 0, ll)) {
            rc = maif_set_last_err(MAIF_EINVAL, "pattern line %u: NUL byte", line);
            break;
        }
        size_t ns = k;
        while (k < ll && name_ch((unsigned char)l[k])) k++;
        size_t nn = k - ns;
        while (k < ll && blank((unsigned char)l[k])) k++;
        if (nn == 0 || nn > 32 || k == ll || l[k] != '=') {
            rc = maif_set_last_err(MAIF_EINVAL, "pattern line %u: expected NAME = PATTERN (NAME: 1..32 of a-z 0-9 _ -)",
                                   line);
            break;
        }
        k++;
        while (k < ll && blank((unsigned char)l[k])) k++;
        size_t plen = ll - k;
        if (plen == 0) {
            rc = maif_set_last_err(MAIF_EINVAL, "pattern line %u: empty pattern", line);
            break;
        }
        if (plen > MAIF_PII_PATTERN_MAX) {
            rc = maif_set_last_err(MAIF_ELIMIT, "pattern line %u: pattern of %zu bytes is over the limit of %d", line,
                                   plen, MAIF_PII_PATTERN_MAX);
            break;
        }
        if (n == MAIF_PII_PATTERNS_MAX) {
            rc = maif_set_last_err(MAIF_ELIMIT, "pattern line %u: more than %d patterns", line, MAIF_PII_PATTERNS_MAX);
            break;
        }
        if (n % 8 == 0) {
            pii_pattern *g = maif_realloc(list, (n + 8) * sizeof *g);
            if (!g) {
                rc = maif_set_last_err(MAIF_ENOMEM, "out of memory");
                break;
            }
            list = g;
        }
        int err = 0;
        PCRE2_SIZE eoff = 0;
        pcre2_code *code = pcre2_compile((PCRE2_SPTR)(l + k), plen, PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF,
                                         &err, &eoff, NULL);
        if (!code) {
            PCRE2_UCHAR msg[160];
            pcre2_get_error_message(err, msg, sizeof msg);
            rc = maif_set_last_err(MAIF_EINVAL, "pattern line %u, offset %zu: %s", line, (size_t)eoff, (char *)msg);
            break;
        }
        memset(&list[n], 0, sizeof list[n]);
        memcpy(list[n].name, l + ns, nn);
        list[n].code = code;
        list[n].jit = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0;
        n++;
    }
    pcre2_match_context *mctx = NULL;
    pcre2_match_data *md = NULL;
    if (rc == 0 && n > 0) {
        mctx = pcre2_match_context_create(NULL);
        md = pcre2_match_data_create(1, NULL);
        if (!mctx || !md) rc = maif_set_last_err(MAIF_ENOMEM, "out of memory");
        else {
            pcre2_set_match_limit(mctx, MAIF_PII_MATCH_LIMIT);
            pcre2_set_depth_limit(mctx, MAIF_PII_DEPTH_LIMIT);
        }
    }
    if (rc) {
        free_list(list, n);
        pcre2_match_data_free(md);
        pcre2_match_context_free(mctx);
        return rc;
    }
    pii_patterns_free(s);
    s->pat = list;
    s->npat = n;
    s->mctx = mctx;
    s->md = md;
    return 0;
}

int pii_patterns_scan(maif_pii_scanner *s, const char *text, size_t len)
{
    int limited = 0;
    pcre2_match_data *md = s->md;
    for (size_t p = 0; p < s->npat; p++) {
        pcre2_code *code = s->pat[p].code;
        PCRE2_SIZE start = 0;
        while (start <= len) {
            int r = pcre2_match(code, (PCRE2_SPTR)text, len, start, 0, md, s->mctx);
            if (r == PCRE2_ERROR_NOMATCH) break;
            if (r < 0) {
                /* match or depth limit, or another run-time error: stop this pattern */
                limited = 1;
                maif_set_last_err(MAIF_ELIMIT, "custom pattern '%s' stopped: PCRE2 error %d (match limit %d, depth %d)",
                                  s->pat[p].name, r, MAIF_PII_MATCH_LIMIT, MAIF_PII_DEPTH_LIMIT);
                break;
            }
            PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
            if (ov[1] < ov[0]) break; /* \K tricks: ignore */
            if (ov[1] > ov[0]) {
                int rc = pii_add(s, MAIF_PII_CUSTOM, text, ov[0], ov[1] - ov[0], s->pat[p].name);
                if (rc) return rc;
                start = ov[1];
            } else {
                start = ov[0] + 1;
                while (start < len && ((unsigned char)text[start] & 0xC0) == 0x80) start++;
            }
        }
    }
    return limited ? MAIF_ELIMIT : 0;
}
