/*
 * pii.c — finding personal data in text with hand-written scanners.
 *
 * Why not regular expressions: most of these types are only PII when a
 * check beyond their shape passes (Luhn for cards, mod-97 and the
 * per-country length for IBANs, the SSA's never-issued ranges for SSNs,
 * 0..255 octets, inet_pton for IPv6, a real calendar date), and the rest
 * need context a regex expresses badly (a date is a date of birth only
 * after "born" or "DOB"; a capitalised word is a name only after "my name
 * is" or "Dear"). So one pass walks the text, dispatching on the byte at
 * each word boundary to the few scanners that can start there; each
 * parses its grammar from that position and checks the value. Candidates
 * are then ordered and de-overlapped (earlier, then longer, wins).
 * tests/unit/test_pii.c measures precision and recall on a labelled
 * corpus (tests/data/pii/); docs/PRIVACY_ANALYTICS.md has the table.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "privacy/pii.h"
#include "util/alloc.h"
#include "util/common.h"

static const char *const TYPE_NAMES[] = {"unknown", "email", "phone", "card", "iban", "ssn", "ipv4",
                                         "ipv6",    "mac",   "dob",   "name", "custom"};

const char *maif_pii_type_name(int type)
{
    return type >= 1 && type <= MAIF_PII_TYPE_MAX ? TYPE_NAMES[type] : "unknown";
}

/* ------------------------------------------------------------ characters */

static int is_digit(int c) { return c >= '0' && c <= '9'; }
static int is_upper(int c) { return c >= 'A' && c <= 'Z'; }
static int is_lower(int c) { return c >= 'a' && c <= 'z'; }
static int is_alpha(int c) { return is_upper(c) || is_lower(c); }
static int is_alnum(int c) { return is_alpha(c) || is_digit(c); }
static int is_hex(int c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
static int lower(int c) { return is_upper(c) ? c + 32 : c; }
/* a byte that may belong to a word: letters, digits, '_' and UTF-8 */
static int is_word(int c) { return is_alnum(c) || c == '_' || c >= 0x80; }

typedef struct scan {
    const unsigned char *t;
    size_t n;
} scan;

static int at(const scan *s, size_t i) { return i < s->n ? s->t[i] : -1; }

/* the length of word (lower-case ASCII) if text at i starts with it,
 * case-insensitively, else 0 */
static size_t match_ci(const scan *s, size_t i, const char *word)
{
    size_t k = 0;
    for (; word[k]; k++)
        if (i + k >= s->n || lower(s->t[i + k]) != (unsigned char)word[k]) return 0;
    return k;
}
static int starts_ci(const scan *s, size_t i, const char *word) { return match_ci(s, i, word) != 0; }

/* 1 if one of words occurs, as a whole word, in the window bytes before pos */
static int context_before(const scan *s, size_t pos, size_t window, const char *const *words)
{
    size_t from = pos > window ? pos - window : 0;
    for (size_t i = from; i < pos; i++) {
        if (i > 0 && is_alnum(s->t[i - 1])) continue;
        int c0 = lower(s->t[i]);
        for (const char *const *w = words; *w; w++) {
            if ((unsigned char)(*w)[0] != c0) continue;
            size_t k = match_ci(s, i, *w);
            if (k && i + k <= pos && !is_alnum(at(s, i + k))) return 1;
        }
    }
    return 0;
}

/* the digits of [i, end) that are digits, into d (cap bytes); count */
static size_t digits_of(const scan *s, size_t i, size_t end, char *d, size_t cap)
{
    size_t n = 0;
    for (; i < end; i++)
        if (is_digit(s->t[i])) {
            if (n == cap) return cap + 1;
            d[n++] = (char)s->t[i];
        }
    return n;
}

/* a number ends at e: what follows is not part of a longer token */
static int num_end_ok(const scan *s, size_t e)
{
    int c = at(s, e);
    if (c < 0) return 1;
    if (is_word(c)) return 0;
    if ((c == '.' || c == '-' || c == '/' || c == ':') && is_alnum(at(s, e + 1))) return 0;
    return 1;
}

/* ------------------------------------------------------------ checks */

int pii_luhn_ok(const char *d, size_t n)
{
    unsigned sum = 0;
    for (size_t k = 0; k < n; k++) {
        unsigned v = (unsigned)(d[n - 1 - k] - '0');
        if (k & 1) {
            v *= 2;
            if (v > 9) v -= 9;
        }
        sum += v;
    }
    return n > 0 && sum % 10 == 0;
}

static int card_iin_ok(const char *d, size_t n)
{
    unsigned p2 = (unsigned)((d[0] - '0') * 10 + (d[1] - '0'));
    unsigned p4 = p2 * 100 + (unsigned)((d[2] - '0') * 10 + (d[3] - '0'));
    unsigned p3 = p4 / 10;
    if (d[0] == '4') return n == 13 || n == 16 || n == 19;                     /* Visa */
    if ((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720)) return n == 16;  /* Mastercard */
    if (p2 == 34 || p2 == 37) return n == 15;                                  /* Amex */
    if (p4 == 6011 || p2 == 65 || (p3 >= 644 && p3 <= 649)) return n >= 16;    /* Discover */
    if (p4 >= 3528 && p4 <= 3589) return n >= 16;                              /* JCB */
    if (p2 == 36 || p2 == 38 || p2 == 39 || (p3 >= 300 && p3 <= 305)) return n >= 14; /* Diners */
    if (p2 == 62) return n >= 16;                                              /* UnionPay */
    return 0;
}

int pii_ssn_ok(unsigned area, unsigned group, unsigned serial)
{
    /* never issued: area 000, 666, 900-999; group 00; serial 0000 */
    return area != 0 && area != 666 && area < 900 && group != 0 && serial != 0;
}

static const struct {
    char cc[3];
    unsigned char len;
} IBAN_LEN[] = {
    {"AD", 24}, {"AE", 23}, {"AL", 28}, {"AT", 20}, {"AZ", 28}, {"BA", 20}, {"BE", 16}, {"BG", 22}, {"BH", 22},
    {"BR", 29}, {"BY", 28}, {"CH", 21}, {"CR", 22}, {"CY", 28}, {"CZ", 24}, {"DE", 22}, {"DK", 18}, {"DO", 28},
    {"EE", 20}, {"EG", 29}, {"ES", 24}, {"FI", 18}, {"FO", 18}, {"FR", 27}, {"GB", 22}, {"GE", 22}, {"GI", 23},
    {"GL", 18}, {"GR", 27}, {"GT", 28}, {"HR", 21}, {"HU", 28}, {"IE", 22}, {"IL", 23}, {"IQ", 23}, {"IS", 26},
    {"IT", 27}, {"JO", 30}, {"KW", 30}, {"KZ", 20}, {"LB", 28}, {"LC", 32}, {"LI", 21}, {"LT", 20}, {"LU", 20},
    {"LV", 21}, {"MC", 27}, {"MD", 24}, {"ME", 22}, {"MK", 19}, {"MR", 27}, {"MT", 31}, {"MU", 30}, {"NL", 18},
    {"NO", 15}, {"PK", 24}, {"PL", 28}, {"PS", 29}, {"PT", 25}, {"QA", 29}, {"RO", 24}, {"RS", 22}, {"SA", 24},
    {"SC", 31}, {"SE", 24}, {"SI", 19}, {"SK", 24}, {"SM", 27}, {"ST", 25}, {"SV", 28}, {"TL", 23}, {"TN", 24},
    {"TR", 26}, {"UA", 29}, {"VA", 22}, {"VG", 24}, {"XK", 20},
};

static unsigned iban_len(const unsigned char *cc)
{
    for (size_t i = 0; i < sizeof IBAN_LEN / sizeof IBAN_LEN[0]; i++)
        if (IBAN_LEN[i].cc[0] == cc[0] && IBAN_LEN[i].cc[1] == cc[1]) return IBAN_LEN[i].len;
    return 0;
}

int pii_iban_ok(const char *s, size_t n)
{
    if (n < 15 || n > 34 || !is_upper(s[0]) || !is_upper(s[1]) || !is_digit(s[2]) || !is_digit(s[3])) return 0;
    if (iban_len((const unsigned char *)s) != n) return 0;
    unsigned rem = 0;
    for (size_t k = 0; k < n; k++) {
        int c = s[(k + 4) % n];
        if (is_digit(c)) rem = (rem * 10 + (unsigned)(c - '0')) % 97;
        else if (is_upper(c)) rem = (rem * 100 + (unsigned)(c - 'A' + 10)) % 97;
        else return 0;
    }
    return rem == 1;
}

/* ------------------------------------------------------------ scanners
 * Each returns the length matched at i (0: no match). */

static size_t scan_card(const scan *s, size_t i)
{
    char d[20];
    size_t nd = 0, best = 0;
    int sep = 0;
    size_t k = i;
    while (k < s->n && nd < 19) {
        if (!is_digit(s->t[k])) break;
        d[nd++] = (char)s->t[k++];
        if (nd >= 13 && num_end_ok(s, k)) {
            /* a candidate end: the next byte does not continue the number */
            if (pii_luhn_ok(d, nd) && card_iin_ok(d, nd)) best = k - i;
        }
        int c = at(s, k);
        if ((c == ' ' || c == '-') && is_digit(at(s, k + 1))) {
            if (sep && sep != c) break;
            sep = c;
            k++;
        }
    }
    return best;
}

static size_t scan_ssn(const scan *s, size_t i)
{
    static const char *const CTX[] = {"ssn", "social security", "social security number", "ss#", "ss no", NULL};
    /* ddd-dd-dddd (or spaces), or 9 bare digits after an SSN keyword */
    const unsigned char *t = s->t + i;
    size_t rem = s->n - i;
    unsigned area, group, serial;
    size_t len = 0;
    if (rem >= 11 && is_digit(t[0]) && is_digit(t[1]) && is_digit(t[2]) && (t[3] == '-' || t[3] == ' ') &&
        is_digit(t[4]) && is_digit(t[5]) && t[6] == t[3] && is_digit(t[7]) && is_digit(t[8]) && is_digit(t[9]) &&
        is_digit(t[10])) {
        area = (unsigned)((t[0] - '0') * 100 + (t[1] - '0') * 10 + (t[2] - '0'));
        group = (unsigned)((t[4] - '0') * 10 + (t[5] - '0'));
        serial = (unsigned)((t[7] - '0') * 1000 + (t[8] - '0') * 100 + (t[9] - '0') * 10 + (t[10] - '0'));
        len = 11;
        if (t[3] == ' ' && !context_before(s, i, 32, CTX)) return 0;
    } else if (rem >= 9) {
        for (size_t k = 0; k < 9; k++)
            if (!is_digit(t[k])) return 0;
        if (!context_before(s, i, 24, CTX)) return 0;
        area = (unsigned)((t[0] - '0') * 100 + (t[1] - '0') * 10 + (t[2] - '0'));
        group = (unsigned)((t[3] - '0') * 10 + (t[4] - '0'));
        serial = (unsigned)((t[5] - '0') * 1000 + (t[6] - '0') * 100 + (t[7] - '0') * 10 + (t[8] - '0'));
        len = 9;
    } else {
        return 0;
    }
    if (!num_end_ok(s, i + len) || !pii_ssn_ok(area, group, serial)) return 0;
    return len;
}

static const char *const PHONE_CTX[] = {"phone", "tel", "tel.", "telephone", "mobile", "cell", "call", "fax",
                                        "ring", "whatsapp", "landline", "mob", NULL};

/* digits in groups separated by single ' ', '-' or '.', with optional
 * "(ddd)" groups; returns the length, the digit and group counts, and
 * whether the separators (other than a space after ')') are of one kind */
static size_t digit_groups(const scan *s, size_t k, size_t *ndig, size_t *ngroups, int *mixed)
{
    size_t start = k, nd = 0, ng = 0, end = k;
    int sep = 0, lastsep = 0;
    *mixed = 0;
    for (;;) {
        size_t g = 0, gs = k;
        int paren = at(s, k) == '(';
        if (paren) k++;
        while (is_digit(at(s, k))) k++, g++;
        if (paren && (at(s, k) != ')' || g == 0)) g = 0;
        if (g == 0) {
            (void)gs;
            break; /* end before the separator that led here */
        }
        if (paren) k++;
        if (lastsep) {
            if (sep && sep != lastsep) *mixed = 1;
            sep = lastsep;
        }
        nd += g;
        ng++;
        end = k;
        if (nd > 20) return 0;
        int c = at(s, k);
        lastsep = 0;
        if (paren && (is_digit(c) || c == '(')) continue; /* "(555)234-5678" */
        if (!(c == ' ' || c == '-' || c == '.')) break;
        int c2 = at(s, k + 1);
        if (!(is_digit(c2) || c2 == '(')) break;
        if (!(paren && c == ' ')) lastsep = c;
        k++;
    }
    if (ng == 0) return 0;
    *ndig = nd;
    *ngroups = ng;
    return end - start;
}

static size_t scan_phone(const scan *s, size_t i)
{
    const unsigned char *t = s->t + i;
    size_t nd = 0, ng = 0, len;
    int mixed;
    if (t[0] == '+' || (t[0] == '0' && at(s, i + 1) == '0' && is_digit(at(s, i + 2)))) {
        size_t k = i + (t[0] == '+' ? 1 : 2);
        if (!is_digit(at(s, k)) || at(s, k) == '0') return 0;
        /* "0044 ..." right after a group holding digits continues that group */
        if (t[0] == '0' && i >= 2 && s->t[i - 1] == ' ' && is_digit(s->t[i - 2])) return 0;
        len = digit_groups(s, k, &nd, &ng, &mixed);
        if (!len || nd < 8 || nd > 15) return 0;
        if (t[0] == '0' && ng < 2) return 0;
        len += k - i;
        return num_end_ok(s, i + len) ? len : 0;
    }
    /* not the continuation of a digit group before it ("3704 0044 ...") */
    if (i >= 2 && s->t[i - 1] == ' ' && is_digit(s->t[i - 2])) return 0;
    len = digit_groups(s, i, &nd, &ng, &mixed);
    if (!len || !num_end_ok(s, i + len)) return 0;
    char d[24];
    size_t n = digits_of(s, i, i + len, d, sizeof d);
    if (n > sizeof d) return 0;
    /* North American: [1 ](NXX) XXX-XXXX in three groups of 3, 3, 4 */
    size_t off = (n == 11 && d[0] == '1' && ng == 4) ? 1 : 0;
    if (n - off == 10 && ng - off == 3 && d[off] >= '2' && !mixed) {
        size_t k = i, g = 0, sizes[4] = {0};
        for (; k < i + len && g < 4; k++) {
            if (is_digit(s->t[k])) sizes[g]++;
            else if (sizes[g]) g++;
        }
        if (sizes[off] == 3 && sizes[off + 1] == 3 && sizes[off + 2] == 4) return len;
    }
    /* any other grouping of 7..15 digits only right after a phone keyword */
    if (n >= 7 && n <= 15 && context_before(s, i, 24, PHONE_CTX)) return len;
    return 0;
}

static size_t octet(const scan *s, size_t k, unsigned *v)
{
    size_t g = 0;
    unsigned x = 0;
    while (g < 4 && is_digit(at(s, k + g))) x = x * 10 + (unsigned)(s->t[k + g] - '0'), g++;
    if (g == 0 || g > 3 || x > 255 || (g > 1 && s->t[k] == '0')) return 0;
    *v = x;
    return g;
}

static size_t scan_ipv4(const scan *s, size_t i)
{
    static const char *const VER[] = {"version", "ver", "v", "release", "build", "firmware", "rev", "section",
                                      "chapter", "clause", "figure", "table", "step", "rule", "oid", NULL};
    size_t k = i;
    for (int q = 0; q < 4; q++) {
        unsigned v;
        size_t g = octet(s, k, &v);
        if (!g) return 0;
        k += g;
        if (q < 3) {
            if (at(s, k) != '.') return 0;
            k++;
        }
    }
    int c = at(s, k);
    if (is_word(c) || ((c == '.' || c == '-') && is_alnum(at(s, k + 1)))) return 0;
    if (i > 0 && (s->t[i - 1] == '.' || s->t[i - 1] == '-')) return 0;
    if (context_before(s, i, 12, VER)) return 0;
    return k - i;
}

static size_t scan_ipv6(const scan *s, size_t i)
{
    size_t k = i, colons = 0;
    while (k < s->n && k - i < 45 && (is_hex(s->t[k]) || s->t[k] == ':' || s->t[k] == '.')) {
        if (s->t[k] == ':') colons++;
        k++;
    }
    if (colons < 2) return 0;
    /* trailing punctuation of the sentence is not part of the address */
    while (k > i && s->t[k - 1] == '.') k--;
    while (k > i + 2 && s->t[k - 1] == ':' && s->t[k - 2] != ':') k--;
    if (k < s->n && (is_word(s->t[k]) || s->t[k] == ':')) return 0;
    char buf[46];
    size_t n = k - i;
    if (n >= sizeof buf || n < 3) return 0;
    memcpy(buf, s->t + i, n);
    buf[n] = 0;
    unsigned char addr[16];
    if (inet_pton(AF_INET6, buf, addr) != 1) return 0;
    /* at least three hex groups, or "::1"-like short forms with "::" */
    size_t groups = 0;
    for (size_t q = 0; q < n; q++)
        if (is_hex((unsigned char)buf[q]) && (q == 0 || buf[q - 1] == ':')) groups++;
    if (groups < 3 && strstr(buf, "::") == NULL) return 0;
    if (groups < 1) return 0;
    return n;
}

static size_t scan_mac(const scan *s, size_t i)
{
    const unsigned char *t = s->t + i;
    size_t rem = s->n - i;
    if (rem >= 17 && (t[2] == ':' || t[2] == '-')) {
        for (size_t g = 0; g < 6; g++) {
            if (!is_hex(t[3 * g]) || !is_hex(t[3 * g + 1])) return 0;
            if (g < 5 && t[3 * g + 2] != t[2]) return 0;
        }
        int c = at(s, i + 17);
        if (is_word(c) || ((c == ':' || c == '-') && is_hex(at(s, i + 18)))) return 0;
        return 17;
    }
    if (rem >= 14 && t[4] == '.' && t[9] == '.') {
        for (size_t g = 0; g < 14; g++)
            if (g != 4 && g != 9 && !is_hex(t[g])) return 0;
        int c = at(s, i + 14);
        if (is_word(c) || (c == '.' && is_hex(at(s, i + 15)))) return 0;
        return 14;
    }
    return 0;
}

static size_t scan_iban(const scan *s, size_t i)
{
    if (s->n - i < 15 || !is_upper(s->t[i]) || !is_upper(s->t[i + 1]) || !is_digit(at(s, i + 2)) ||
        !is_digit(at(s, i + 3)))
        return 0;
    unsigned want = iban_len(s->t + i);
    if (!want) return 0;
    char c[35];
    size_t n = 0, k = i;
    while (k < s->n && n < want) {
        int ch = s->t[k];
        if (is_upper(ch) || is_digit(ch)) {
            c[n++] = (char)ch;
            k++;
        } else if (ch == ' ' && n % 4 == 0 && k + 1 < s->n && is_alnum(s->t[k + 1])) {
            k++;
        } else {
            break;
        }
    }
    if (n != want || is_alnum(at(s, k))) return 0;
    return pii_iban_ok(c, n) ? k - i : 0;
}

/* ---- dates (of birth, in context) */

static const char *const MONTHS[] = {"january", "february", "march",     "april",   "may",      "june",
                                     "july",    "august",   "september", "october", "november", "december"};

static size_t month_name(const scan *s, size_t i, int *m)
{
    if (i + 3 > s->n) return 0;
    /* the first three letters name at most one month */
    unsigned code = (unsigned)lower(s->t[i]) << 16 | (unsigned)lower(s->t[i + 1]) << 8 | (unsigned)lower(s->t[i + 2]);
    int q = 0;
    for (; q < 12; q++)
        if (code == ((unsigned)MONTHS[q][0] << 16 | (unsigned)MONTHS[q][1] << 8 | (unsigned)MONTHS[q][2])) break;
    if (q == 12) return 0;
    size_t full = match_ci(s, i, MONTHS[q]);
    if (full && !is_alpha(at(s, i + full))) return *m = q + 1, full;
    if (!is_alpha(at(s, i + 3))) {
        *m = q + 1;
        return at(s, i + 3) == '.' ? 4 : 3;
    }
    if (q == 8 && lower(at(s, i + 3)) == 't' && !is_alpha(at(s, i + 4))) return *m = 9, at(s, i + 4) == '.' ? 5 : 4;
    return 0;
}

static size_t number(const scan *s, size_t k, size_t maxd, unsigned *v)
{
    size_t g = 0;
    unsigned x = 0;
    while (g < maxd && is_digit(at(s, k + g))) x = x * 10 + (unsigned)(s->t[k + g] - '0'), g++;
    if (g == 0 || is_digit(at(s, k + g))) return 0;
    *v = x;
    return g;
}

static int valid_date(unsigned y, unsigned m, unsigned d)
{
    static const unsigned char DAYS[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1900 || y > 2030 || m < 1 || m > 12 || d < 1 || d > DAYS[m - 1]) return 0;
    if (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return 0;
    return 1;
}

static size_t ordinal(const scan *s, size_t k)
{
    if (starts_ci(s, k, "st") || starts_ci(s, k, "nd") || starts_ci(s, k, "rd") || starts_ci(s, k, "th"))
        return is_alpha(at(s, k + 2)) ? 0 : 2;
    return 0;
}

/* a calendar date at i in one of the usual forms; its length */
static size_t scan_date(const scan *s, size_t i)
{
    unsigned a, b, c;
    size_t k = i, g;
    int m;
    if (is_digit(s->t[i])) {
        if (!(g = number(s, k, 4, &a))) return 0;
        k += g;
        size_t ord = g <= 2 ? ordinal(s, k) : 0;
        int sep = at(s, k + ord);
        if (sep == '-' || sep == '/' || sep == '.') {
            size_t g2, g3;
            if (!(g2 = number(s, k + 1, 2, &b)) || at(s, k + 1 + g2) != sep) return 0;
            if (!(g3 = number(s, k + 2 + g2, 4, &c))) return 0;
            size_t len = k + 2 + g2 + g3 - i;
            if (g == 4 && g3 <= 2 && valid_date(a, b, c)) return len;                  /* Y-M-D */
            if (g <= 2 && g3 == 4 && (valid_date(c, b, a) || valid_date(c, a, b))) return len; /* D/M/Y, M/D/Y */
            return 0;
        }
        if (g > 2 || sep != ' ') return 0;
        /* "12 March 1985", "12th of March 1985" */
        k += ord + 1;
        if (starts_ci(s, k, "of ")) k += 3;
        size_t mg = month_name(s, k, &m);
        if (!mg) return 0;
        k += mg;
        if (at(s, k) == ',') k++;
        if (at(s, k) != ' ') return 0;
        k++;
        if ((g = number(s, k, 4, &c)) != 4 || !valid_date(c, (unsigned)m, a)) return 0;
        return k + 4 - i;
    }
    /* "March 12, 1985", "Mar 12th 1985" */
    size_t mg = month_name(s, k, &m);
    if (!mg || at(s, k + mg) != ' ') return 0;
    k += mg + 1;
    if (!(g = number(s, k, 2, &a))) return 0;
    k += g;
    k += ordinal(s, k);
    if (at(s, k) == ',') k++;
    if (at(s, k) != ' ') return 0;
    k++;
    if ((g = number(s, k, 4, &c)) != 4 || !valid_date(c, (unsigned)m, a)) return 0;
    return k + 4 - i;
}

static size_t scan_dob(const scan *s, size_t i)
{
    static const char *const CTX[] = {"born", "dob", "d.o.b", "d.o.b.", "date of birth", "birth date",
                                      "birthdate", "birthday", "birth", "geboren", "née", "nee", NULL};
    size_t len = scan_date(s, i);
    if (!len || is_word(at(s, i + len))) return 0;
    return context_before(s, i, 40, CTX) ? len : 0;
}

/* ---- names in context */

static const char *const NAME_STOP[] = {
    "sir", "madam", "madame", "customer", "customers", "team", "all", "everyone", "everybody", "folks", "there",
    "world", "friend", "friends", "colleague", "colleagues", "support", "sales", "hiring", "manager", "admin",
    "user", "users", "valued", "member", "members", "guest", "guests", "guys", "again", "partner", "partners",
    "applicant", "candidate", "reader", "reviewer", "reviewers", "committee", "board", "client", "clients",
    "team's", "student", "students", "parents", "patient", "doctor", "the", "a", "an", "my", "our", "your",
    "not", "sorry", "happy", "glad", "here", "back", "from", "with", "and", "i", "it", "this", "that", "thanks",
    "thank", "good", "morning", "afternoon", "evening", "monday", "tuesday", "wednesday", "thursday", "friday",
    "saturday", "sunday", "january", "february", "april", "june", "july", "august", "september", "october",
    "november", "december", "hr", "it's", "people", "owner", "owners", "editor", "recruiter", "neighbor",
    "neighbour", "agent", "operator", "director", "officer", "ceo", "cto", "dev", "developers", "maintainers",
    "community", "class", "staff", "unknown", "redacted", "none", "n/a", "null", NULL};

static int name_stop(const scan *s, size_t i, size_t n)
{
    char w[16];
    if (n >= sizeof w) return 0;
    for (size_t k = 0; k < n; k++) w[k] = (char)lower(s->t[i + k]);
    w[n] = 0;
    for (const char *const *p = NAME_STOP; *p; p++)
        if (strcmp(*p, w) == 0) return 1;
    return 0;
}

/* one capitalised name word at k ("O'Brien", "Jean-Luc", "Élodie"); its length */
static size_t name_word(const scan *s, size_t k)
{
    int c = at(s, k);
    if (!(is_upper(c) || c >= 0xC0)) return 0;
    size_t e = k + 1, lowers = 0;
    if (c >= 0xC0)
        while (at(s, e) >= 0x80 && at(s, e) < 0xC0) e++;
    for (;;) {
        int d = at(s, e);
        if (is_lower(d) || d >= 0x80) {
            lowers++;
            e++;
        } else if (is_upper(d) && e - k <= 3) { /* McDonald, DeShawn, O'Neil */
            e++;
        } else if ((d == '\'' || d == '-') && is_alpha(at(s, e + 1))) {
            e += 2; /* "Jean-Luc", "O'Neil": the letter after may be a capital */
        } else {
            break;
        }
        if (e - k > 40) return 0;
    }
    if (lowers == 0 || is_digit(at(s, e))) return 0;
    return e - k;
}

static int particle(const scan *s, size_t k, size_t *len)
{
    static const char *const P[] = {"van der", "van den", "van", "von", "de la", "de", "del", "della", "da", "di",
                                    "du", "le", "la", "bin", "al", "ter", "ten", NULL};
    for (const char *const *p = P; *p; p++) {
        size_t n = strlen(*p);
        if (starts_ci(s, k, *p) && is_lower(s->t[k]) && at(s, k + n) == ' ') return *len = n + 1, 1;
    }
    return 0;
}

/* a title before a name ("Mr", "Dr.", "Professor "); its length with the space */
static size_t title(const scan *s, size_t k)
{
    static const char *const T[] = {"professor", "prof", "mrs", "mr", "ms", "miss", "dr", NULL};
    for (const char *const *p = T; *p; p++) {
        size_t n = strlen(*p);
        if (!is_upper(at(s, k)) || !starts_ci(s, k, *p)) continue;
        if (at(s, k + n) == '.') n++;
        if (at(s, k + n) == ' ') return n + 1;
    }
    return 0;
}

/* up to three name words from k; total length (0 if the first is not a name) */
static size_t name_run(const scan *s, size_t k, int need_two)
{
    size_t e = k, words = 0, w;
    while (words < 3) {
        size_t pl = 0;
        if (words > 0 && particle(s, e, &pl) && name_word(s, e + pl)) e += pl;
        if (!(w = name_word(s, e))) break;
        if (name_stop(s, e, w)) break;
        e += w;
        words++;
        if (!(at(s, e) == ' ' && (is_upper(at(s, e + 1)) || at(s, e + 1) >= 0xC0 || is_lower(at(s, e + 1))))) break;
        if (is_lower(at(s, e + 1)) && !particle(s, e + 1, &pl)) break;
        e++;
    }
    if (words == 0) return 0;
    while (e > k && (s->t[e - 1] == ' ')) e--;
    if (need_two && words < 2) return 0;
    return e - k;
}

typedef struct name_trigger {
    const char *word; /* lower case, with its trailing separator */
    int need_cap;     /* the trigger itself must be capitalised (sentence start) */
} name_trigger;

/* the triggers by first letter, so a word start costs one switch */
static const name_trigger TRIG_M[] = {{"my name is ", 0}, {"my name's ", 0}, {"mr. ", 0}, {"mr ", 1}, {"mrs. ", 0},
                                      {"mrs ", 1},        {"ms. ", 0},       {"ms ", 1},  {"miss ", 1}, {NULL, 0}};
static const name_trigger TRIG_N[] = {{"name is ", 0}, {"name: ", 0}, {NULL, 0}};
static const name_trigger TRIG_C[] = {{"call me ", 0}, {"cheers, ", 0}, {NULL, 0}};
static const name_trigger TRIG_D[] = {{"dear ", 0}, {"dr. ", 0}, {NULL, 0}};
static const name_trigger TRIG_H[] = {{"hi ", 1}, {"hello ", 1}, {"hey ", 1}, {NULL, 0}};
static const name_trigger TRIG_P[] = {{"professor ", 1}, {"prof. ", 0}, {"patient: ", 0}, {NULL, 0}};
static const name_trigger TRIG_F[] = {{"full name: ", 0}, {NULL, 0}};
static const name_trigger TRIG_S[] = {{"signed, ", 0}, {"sincerely, ", 0}, {NULL, 0}};
static const name_trigger TRIG_R[] = {{"regards, ", 0}, {NULL, 0}};
static const name_trigger TRIG_I[] = {{"i am ", 1}, {"i'm ", 1}, {NULL, 0}};

/* at a word start i: a trigger followed by a name; sets *noff to the
 * name's offset and returns its length */
static size_t scan_name(const scan *s, size_t i, size_t *noff)
{
    const name_trigger *list;
    switch (lower(s->t[i])) {
    case 'm': list = TRIG_M; break;
    case 'n': list = TRIG_N; break;
    case 'c': list = TRIG_C; break;
    case 'd': list = TRIG_D; break;
    case 'h': list = TRIG_H; break;
    case 'p': list = TRIG_P; break;
    case 'f': list = TRIG_F; break;
    case 's': list = TRIG_S; break;
    case 'r': list = TRIG_R; break;
    case 'i': list = TRIG_I; break;
    default: return 0;
    }
    for (const name_trigger *tr = list; tr->word; tr++) {
        size_t n = match_ci(s, i, tr->word);
        if (!n) continue;
        if (tr->need_cap && !is_upper(s->t[i])) continue;
        size_t k = i + n;
        while (at(s, k) == ' ' || at(s, k) == '\n') k++;
        k += title(s, k);
        /* "I am" / "I'm" need a full name: "I am Happy" is no name */
        int two = strcmp(tr->word, "i am ") == 0 || strcmp(tr->word, "i'm ") == 0;
        size_t len = name_run(s, k, two);
        if (len) {
            *noff = k;
            return len;
        }
    }
    return 0;
}

/* ---- e-mail */

static int local_ch(int c)
{
    return is_alnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-' || c == '\'';
}

static int email_at(const scan *s, size_t at_pos, size_t *off, size_t *len)
{
    static const char *const EXT[] = {"png", "jpg", "jpeg", "gif", "svg", "webp", "css", "js", "py", "md", "txt",
                                      "json", "html", "pdf", "zip", "gz", "tar", "c", "h", "rs", "go", NULL};
    size_t b = at_pos;
    while (b > 0 && at_pos - b < 64 && local_ch(s->t[b - 1])) b--;
    while (b < at_pos && (s->t[b] == '.' || s->t[b] == '\'')) b++;
    if (b == at_pos || s->t[at_pos - 1] == '.') return 0;
    for (size_t k = b; k + 1 < at_pos; k++)
        if (s->t[k] == '.' && s->t[k + 1] == '.') return 0;
    if (b > 0 && (s->t[b - 1] >= 0x80 || s->t[b - 1] == '@')) return 0;
    size_t e = at_pos + 1, dots = 0, label = 0, last = e;
    while (e < s->n && e - at_pos < 255) {
        int c = s->t[e];
        if (is_alnum(c) || c == '-') {
            label++;
            e++;
        } else if (c == '.' && label > 0 && e + 1 < s->n && is_alnum(s->t[e + 1])) {
            if (s->t[e - 1] == '-') return 0;
            dots++;
            label = 0;
            last = e + 1;
            e++;
        } else {
            break;
        }
    }
    if (dots == 0 || label < 2 || (e < s->n && (s->t[e] == '@' || s->t[e] >= 0x80 || s->t[e] == '_'))) return 0;
    for (size_t k = last; k < e; k++)
        if (!is_alpha(s->t[k])) return 0;
    char tld[8];
    if (e - last < sizeof tld) {
        for (size_t k = last; k < e; k++) tld[k - last] = (char)lower(s->t[k]);
        tld[e - last] = 0;
        for (const char *const *x = EXT; *x; x++)
            if (strcmp(*x, tld) == 0) return 0;
    }
    *off = b;
    *len = e - b;
    return 1;
}

/* ------------------------------------------------------------ the scan */

int pii_add(maif_pii_scanner *s, int type, const char *text, size_t off, size_t len, const char *label)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        maif_pii_finding *f = maif_realloc(s->f, cap * sizeof *f);
        if (!f) return MAIF_ENOMEM;
        s->f = f;
        s->cap = cap;
    }
    s->f[s->n++] = (maif_pii_finding){type, off, len, text + off, label};
    return 0;
}

static int cmp_finding(const void *a, const void *b)
{
    const maif_pii_finding *x = a, *y = b;
    if (x->offset != y->offset) return x->offset < y->offset ? -1 : 1;
    if (x->length != y->length) return x->length > y->length ? -1 : 1;
    return x->type - y->type;
}

#define ON(s, t) ((s)->types & (1u << (t)))

static int builtin_scan(maif_pii_scanner *ps, const char *text, size_t len)
{
    scan sc = {(const unsigned char *)text, len};
    const scan *s = &sc;
    int rc = 0;
    for (size_t i = 0; i < len && rc == 0; i++) {
        int c = s->t[i];
        int prev = i ? s->t[i - 1] : ' ';
        if (c == '@') {
            size_t off, l;
            if (ON(ps, MAIF_PII_EMAIL) && email_at(s, i, &off, &l)) rc = pii_add(ps, MAIF_PII_EMAIL, text, off, l, "email");
            continue;
        }
        if (is_word(prev)) continue; /* scanners start at word boundaries */
        size_t l, best = 0;
        int bt = 0;
#define TRY(t, call)                                                                                                   \
    do {                                                                                                               \
        if (ON(ps, t) && (l = (call)) > best) best = l, bt = (t);                                                      \
    } while (0)
        if (is_digit(c)) {
            if (prev != '.' && prev != '-' && prev != '/') {
                TRY(MAIF_PII_CARD, scan_card(s, i));
                TRY(MAIF_PII_SSN, scan_ssn(s, i));
                TRY(MAIF_PII_IPV4, scan_ipv4(s, i));
                TRY(MAIF_PII_DOB, scan_dob(s, i));
                TRY(MAIF_PII_PHONE, scan_phone(s, i));
            }
        } else if (c == '+' || c == '(') {
            TRY(MAIF_PII_PHONE, scan_phone(s, i));
        }
        if (is_hex(c) || c == ':') {
            if (prev != ':' && prev != '.' && prev != '-') {
                TRY(MAIF_PII_MAC, scan_mac(s, i));
                TRY(MAIF_PII_IPV6, scan_ipv6(s, i));
            }
        }
        if (is_upper(c)) TRY(MAIF_PII_IBAN, scan_iban(s, i));
        if (is_alpha(c)) {
            TRY(MAIF_PII_DOB, scan_dob(s, i));
            size_t noff = 0;
            if (ON(ps, MAIF_PII_NAME) && (l = scan_name(s, i, &noff)) > 0) {
                rc = pii_add(ps, MAIF_PII_NAME, text, noff, l, "name");
                if (rc) break;
            }
        }
#undef TRY
        if (best) {
            rc = pii_add(ps, bt, text, i, best, maif_pii_type_name(bt));
            i += best - 1;
        }
    }
    return rc;
}

int maif_pii_scan(maif_pii_scanner *s, const char *text, size_t len, size_t *count)
{
    if (!s || (!text && len) || !count) return maif_set_last_err(MAIF_EINVAL, "maif_pii_scan: NULL argument");
    *count = 0;
    s->n = 0;
    if (len > MAIF_PII_TEXT_MAX)
        return maif_set_last_err(MAIF_ELIMIT, "text of %zu bytes is over the scanner's limit of %zu", len,
                                 MAIF_PII_TEXT_MAX);
    int rc = builtin_scan(s, text ? text : "", len);
    int prc = rc ? rc : pii_patterns_scan(s, text ? text : "", len);
    if (prc == MAIF_ENOMEM) {
        s->n = 0;
        return maif_set_last_err(MAIF_ENOMEM, "out of memory");
    }
    if (s->n > 1) qsort(s->f, s->n, sizeof *s->f, cmp_finding);
    size_t w = 0;
    for (size_t r = 0; r < s->n; r++) {
        if (w > 0 && s->f[r].offset < s->f[w - 1].offset + s->f[w - 1].length) continue;
        s->f[w++] = s->f[r];
    }
    s->n = w;
    *count = w;
    return prc; /* MAIF_ELIMIT from a pattern keeps the findings */
}

const maif_pii_finding *maif_pii_scanner_finding(const maif_pii_scanner *s, size_t i)
{
    return s && i < s->n ? &s->f[i] : NULL;
}

int maif_pii_scanner_create(maif_pii_scanner **out)
{
    if (!out) return maif_set_last_err(MAIF_EINVAL, "maif_pii_scanner_create: NULL argument");
    *out = NULL;
    maif_pii_scanner *s = maif_calloc(1, sizeof *s);
    if (!s) return maif_set_last_err(MAIF_ENOMEM, "out of memory");
    s->types = ((1u << (MAIF_PII_TYPE_MAX + 1)) - 1) & ~1u;
    *out = s;
    return 0;
}

int maif_pii_scanner_set_types(maif_pii_scanner *s, uint32_t mask)
{
    if (!s || (mask & ~(((1u << (MAIF_PII_TYPE_MAX + 1)) - 1) & ~1u)))
        return maif_set_last_err(MAIF_EINVAL, "maif_pii_scanner_set_types: bad argument");
    s->types = mask;
    return 0;
}

void maif_pii_scanner_free(maif_pii_scanner *s)
{
    if (!s) return;
    pii_patterns_free(s);
    if (s->key) sodium_free(s->key);
    if (s->out.data) sodium_memzero(s->out.data, s->out.cap);
    maif_buf_free(&s->out);
    maif_free(s->f);
    maif_free(s);
}
