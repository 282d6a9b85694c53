/*
 * policy.c — access policies and security levels (FORMAT.md §5.11).
 *
 * A policy is canonical JSON in a signed control block (type POLY); each
 * new one supersedes the one before. It states which keys hold which
 * roles, which roles may read which block types at which security levels
 * under which conditions (purpose, hours of the day, a validity window),
 * the artifact's security level, and its pinned signers. Parsing is
 * strict (unknown keys, wrong types and out-of-range values are errors)
 * and bounded (64 KiB of JSON, 64 roles, 256 keys a role, 256 rules).
 *
 * The current policy of an artifact is established fail-closed: if any
 * policy block's own signature fails, or its JSON does not parse, or a
 * later policy is signed by a key that is not "admin" in the one before
 * (when that one names admins), reads are denied rather than falling
 * back to an older or no policy.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "crypto/crypto.h"
#include "format/native/native_writer.h"
#include "privacy/privacy.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/common.h"
#include "util/pyjson.h"

#define MAX_ROLES    64
#define MAX_MEMBERS  256
#define MAX_RULES    256
#define MAX_LIST     32
#define NAME_MAX_LEN 32
#define PURPOSE_MAX  64

typedef struct prole {
    char name[NAME_MAX_LEN + 1];
    uint8_t (*keys)[32];
    size_t nkeys;
} prole;

typedef struct prule {
    int role;                 /* index into roles */
    uint32_t types[MAX_LIST]; /* block types; ntypes 0 = any ("*") */
    size_t ntypes;
    unsigned levels;          /* bit per level */
    char purposes[MAX_LIST][PURPOSE_MAX + 1];
    size_t npurposes;         /* 0: no purpose condition */
    int has_hours;
    int hour_from, hour_to;   /* UTC, [from, to); from > to wraps midnight */
    uint64_t not_before, expires; /* µs since the epoch; 0: none */
} prule;

struct maif_policy {
    int level;
    int audit_reads;
    uint8_t (*signers)[32];
    size_t nsigners;
    prole roles[MAX_ROLES];
    size_t nroles;
    prule *rules;
    size_t nrules;
};

static const char *const LEVELS[] = {"public", "internal", "confidential", "secret", "top_secret"};

int maif_level_parse(const char *s)
{
    if (!s) return -1;
    for (int i = 0; i < 5; i++) {
        const char *l = LEVELS[i];
        size_t n = strlen(l);
        if (strlen(s) != n) continue;
        size_t k = 0;
        for (; k < n; k++) {
            char c = s[k];
            if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
            if (c != l[k]) break;
        }
        if (k == n) return i;
    }
    return -1;
}

const char *maif_level_name(int level) { return level >= 0 && level < 5 ? LEVELS[level] : "unknown"; }

void maif_policy_free(maif_policy *p)
{
    if (!p) return;
    for (size_t i = 0; i < p->nroles; i++) maif_free(p->roles[i].keys);
    maif_free(p->signers);
    maif_free(p->rules);
    maif_free(p);
}

static int fail(char *why, size_t cap, const char *fmt, const char *a)
{
    snprintf(why, cap, fmt, a);
    return MAIF_EJSON;
}

static int only_keys(json_t *o, const char *const *allowed, char *why, size_t cap)
{
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v) {
        int ok = 0;
        for (size_t i = 0; allowed[i] && !ok; i++) ok = !strcmp(k, allowed[i]);
        if (!ok) return fail(why, cap, "unknown key \"%.40s\"", k);
    }
    return MAIF_OK;
}

static int name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > NAME_MAX_LEN) return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_')) return 0;
    return 1;
}

static int parse_keys(json_t *arr, uint8_t (**out)[32], size_t *n, const char *what, char *why, size_t cap)
{
    if (!json_is_array(arr)) return fail(why, cap, "%s must be an array of hex public keys", what);
    size_t cnt = json_array_size(arr);
    if (cnt > MAX_MEMBERS) return fail(why, cap, "%s lists more than 256 keys", what);
    *out = cnt ? maif_malloc(cnt * 32) : NULL;
    if (cnt && !*out) return MAIF_ENOMEM;
    for (size_t i = 0; i < cnt; i++) {
        const char *h = json_string_value(json_array_get(arr, i));
        if (!h || strlen(h) != 64 || maif_unhex(h, (*out)[i], 32) != MAIF_OK)
            return fail(why, cap, "%s: every key is 64 hex digits", what);
    }
    *n = cnt;
    return MAIF_OK;
}

static int get_time(json_t *v, uint64_t *out, const char *what, char *why, size_t cap)
{
    if (!v) return MAIF_OK;
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return fail(why, cap, "%s must be microseconds since the epoch (an integer >= 0)", what);
    *out = (uint64_t)json_integer_value(v);
    return MAIF_OK;
}

static int parse_rule(maif_policy *p, json_t *o, prule *r, char *why, size_t cap)
{
    static const char *const keys[] = {"role", "types", "levels", "purposes", "hours", "not_before", "expires", NULL};
    if (!json_is_object(o)) return fail(why, cap, "%s", "every rule is an object");
    int rc = only_keys(o, keys, why, cap);
    if (rc) return rc;
    const char *role = json_string_value(json_object_get(o, "role"));
    if (!role) return fail(why, cap, "%s", "a rule needs \"role\" (a string)");
    r->role = -1;
    for (size_t i = 0; i < p->nroles; i++)
        if (!strcmp(p->roles[i].name, role)) r->role = (int)i;
    if (r->role < 0) return fail(why, cap, "rule for role \"%.40s\", which \"roles\" does not define", role);
    json_t *t = json_object_get(o, "types");
    if (t) {
        if (!json_is_array(t) || json_array_size(t) == 0 || json_array_size(t) > MAX_LIST)
            return fail(why, cap, "%s", "\"types\" is an array of 1 to 32 type names or \"*\"");
        for (size_t i = 0; i < json_array_size(t); i++) {
            const char *s = json_string_value(json_array_get(t, i));
            uint32_t ty;
            if (s && !strcmp(s, "*")) {
                r->ntypes = 0;
                break;
            }
            if (!s || maif_type_parse(s, &ty) != MAIF_OK)
                return fail(why, cap, "%s", "\"types\": each a type name, a four-character code or \"*\"");
            r->types[r->ntypes++] = ty;
        }
    }
    json_t *l = json_object_get(o, "levels");
    if (!json_is_array(l) || json_array_size(l) == 0 || json_array_size(l) > 5)
        return fail(why, cap, "%s", "a rule needs \"levels\": 1 to 5 of public, internal, confidential, secret, top_secret");
    for (size_t i = 0; i < json_array_size(l); i++) {
        int lv = maif_level_parse(json_string_value(json_array_get(l, i)));
        if (lv < 0) return fail(why, cap, "%s", "\"levels\": public, internal, confidential, secret or top_secret");
        r->levels |= 1u << lv;
    }
    json_t *pu = json_object_get(o, "purposes");
    if (pu) {
        if (!json_is_array(pu) || json_array_size(pu) == 0 || json_array_size(pu) > MAX_LIST)
            return fail(why, cap, "%s", "\"purposes\" is an array of 1 to 32 strings");
        for (size_t i = 0; i < json_array_size(pu); i++) {
            const char *s = json_string_value(json_array_get(pu, i));
            if (!s || !*s || strlen(s) > PURPOSE_MAX) return fail(why, cap, "%s", "\"purposes\": strings of 1 to 64 bytes");
            strcpy(r->purposes[r->npurposes++], s);
        }
    }
    json_t *h = json_object_get(o, "hours");
    if (h) {
        json_t *a = json_array_get(h, 0), *b = json_array_get(h, 1);
        if (!json_is_array(h) || json_array_size(h) != 2 || !json_is_integer(a) || !json_is_integer(b) ||
            json_integer_value(a) < 0 || json_integer_value(a) > 23 || json_integer_value(b) < 0 ||
            json_integer_value(b) > 24 || json_integer_value(a) == json_integer_value(b))
            return fail(why, cap, "%s", "\"hours\" is [FROM, TO], UTC hours 0..23 and 0..24, FROM != TO");
        r->has_hours = 1;
        r->hour_from = (int)json_integer_value(a);
        r->hour_to = (int)json_integer_value(b);
    }
    if ((rc = get_time(json_object_get(o, "not_before"), &r->not_before, "\"not_before\"", why, cap))) return rc;
    if ((rc = get_time(json_object_get(o, "expires"), &r->expires, "\"expires\"", why, cap))) return rc;
    return MAIF_OK;
}

int maif_policy_parse(maif_policy **out, const char *json, size_t n)
{
    if (!out || (!json && n)) return maif_set_last_err(MAIF_EINVAL, "maif_policy_parse: NULL argument");
    *out = NULL;
    if (n > MAIF_POLICY_MAX) return maif_set_last_err(MAIF_ELIMIT, "a policy is at most %d bytes of JSON", MAIF_POLICY_MAX);
    json_error_t je;
    json_t *o = json_loadb(json, n, JSON_REJECT_DUPLICATES, &je);
    if (!o || !json_is_object(o)) {
        json_decref(o);
        return maif_set_last_err(MAIF_EJSON, "policy: not a JSON object%s%s", o ? "" : ": ", o ? "" : je.text);
    }
    maif_policy *p = maif_malloc(sizeof *p);
    if (!p) {
        json_decref(o);
        return maif_set_last_err(MAIF_ENOMEM, "out of memory");
    }
    memset(p, 0, sizeof *p);
    char why[200] = "";
    static const char *const keys[] = {"level", "signers", "roles", "rules", "audit_reads", NULL};
    int rc = only_keys(o, keys, why, sizeof why);
    if (!rc) {
        p->level = maif_level_parse(json_string_value(json_object_get(o, "level")));
        if (p->level < 0)
            rc = fail(why, sizeof why, "%s", "\"level\" is one of public, internal, confidential, secret, top_secret");
    }
    json_t *sg = json_object_get(o, "signers");
    if (!rc && sg) rc = parse_keys(sg, &p->signers, &p->nsigners, "\"signers\"", why, sizeof why);
    if (!rc && p->level == 4 && p->nsigners == 0)
        rc = fail(why, sizeof why, "%s", "a top_secret artifact needs pinned \"signers\"");
    json_t *ar = json_object_get(o, "audit_reads");
    if (!rc && ar && !json_is_boolean(ar)) rc = fail(why, sizeof why, "%s", "\"audit_reads\" is true or false");
    p->audit_reads = ar && json_is_true(ar);
    json_t *roles = json_object_get(o, "roles");
    if (!rc && (!json_is_object(roles) || json_object_size(roles) > MAX_ROLES))
        rc = fail(why, sizeof why, "%s", "\"roles\" is an object of at most 64 roles, each an array of hex keys");
    if (!rc) {
        const char *k;
        json_t *v;
        json_object_foreach(roles, k, v) {
            if (!name_ok(k)) {
                rc = fail(why, sizeof why, "role name \"%.40s\": 1 to 32 of a-z, 0-9, '-' and '_'", k);
                break;
            }
            prole *r = &p->roles[p->nroles++];
            strcpy(r->name, k);
            if ((rc = parse_keys(v, &r->keys, &r->nkeys, "a role", why, sizeof why))) break;
        }
    }
    json_t *rules = json_object_get(o, "rules");
    if (!rc && (!json_is_array(rules) || json_array_size(rules) > MAX_RULES))
        rc = fail(why, sizeof why, "%s", "\"rules\" is an array of at most 256 rules");
    if (!rc && json_array_size(rules)) {
        p->nrules = json_array_size(rules);
        p->rules = maif_malloc(p->nrules * sizeof *p->rules);
        if (!p->rules) rc = MAIF_ENOMEM;
        else memset(p->rules, 0, p->nrules * sizeof *p->rules);
        for (size_t i = 0; i < p->nrules && !rc; i++) rc = parse_rule(p, json_array_get(rules, i), &p->rules[i], why, sizeof why);
    }
    json_decref(o);
    if (rc) {
        maif_policy_free(p);
        return rc == MAIF_ENOMEM ? maif_set_last_err(rc, "out of memory") : maif_set_last_err(rc, "policy: %s", why);
    }
    *out = p;
    return MAIF_OK;
}

int maif_policy_level(const maif_policy *p) { return p ? p->level : -1; }

static int has_key(uint8_t (*keys)[32], size_t n, const uint8_t *pk)
{
    for (size_t i = 0; i < n; i++)
        if (memcmp(keys[i], pk, 32) == 0) return 1;
    return 0;
}

int maif_policy_has_role(const maif_policy *p, const uint8_t pk[MAIF_PUBKEY_BYTES], const char *role)
{
    if (!p || !pk || !role) return 0;
    for (size_t i = 0; i < p->nroles; i++)
        if (!strcmp(p->roles[i].name, role) && has_key(p->roles[i].keys, p->roles[i].nkeys, pk)) return 1;
    return 0;
}

/* the level of a block: its metadata "level", never below the artifact's */
static int block_level(const maif_policy *p, const char *meta, size_t meta_size)
{
    int lv = -1;
    if (meta && meta_size) {
        json_error_t je;
        json_t *o = json_loadb(meta, meta_size, 0, &je);
        const char *s = json_string_value(json_object_get(o, "level"));
        if (s) lv = maif_level_parse(s);
        if (s && lv < 0) lv = 4; /* an unknown level: the strictest */
        json_decref(o);
    }
    return lv > p->level ? lv : p->level;
}

int maif_policy_decide(const maif_policy *p, const maif_access_request *q, char *why, size_t cap)
{
    if (!p || !q || !q->subject) return MAIF_EINVAL;
    int lv = q->level;
    if (lv < p->level) lv = p->level;
    if (lv < 0 || lv > 4) lv = 4;
    uint64_t now = q->time_us;
    time_t secs = (time_t)(now / 1000000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    const char *reason = NULL;
    char rbuf[160];
    int any_role = 0;
    for (size_t i = 0; i < p->nrules; i++) {
        const prule *r = &p->rules[i];
        const prole *role = &p->roles[r->role];
        if (!has_key(role->keys, role->nkeys, q->subject)) continue;
        any_role = 1;
        int type_ok = r->ntypes == 0;
        for (size_t k = 0; k < r->ntypes && !type_ok; k++) type_ok = r->types[k] == q->type;
        if (!type_ok) {
            if (!reason) snprintf(rbuf, sizeof rbuf, "role %s may not read this block type", role->name), reason = rbuf;
            continue;
        }
        if (!(r->levels & (1u << lv))) {
            if (!reason)
                snprintf(rbuf, sizeof rbuf, "role %s may not read level %s", role->name, LEVELS[lv]), reason = rbuf;
            continue;
        }
        if (r->npurposes) {
            int ok = 0;
            for (size_t k = 0; k < r->npurposes && q->purpose && !ok; k++) ok = !strcmp(r->purposes[k], q->purpose);
            if (!ok) {
                snprintf(rbuf, sizeof rbuf, "role %s reads this only for a stated purpose (%s%s)", role->name,
                         r->purposes[0], r->npurposes > 1 ? ", ..." : ""), reason = rbuf;
                continue;
            }
        }
        if (r->not_before && now < r->not_before) {
            snprintf(rbuf, sizeof rbuf, "role %s: the rule is not valid yet", role->name), reason = rbuf;
            continue;
        }
        if (r->expires && now >= r->expires) {
            snprintf(rbuf, sizeof rbuf, "role %s: the rule expired", role->name), reason = rbuf;
            continue;
        }
        if (r->has_hours) {
            int h = tm.tm_hour;
            int in = r->hour_from < r->hour_to ? (h >= r->hour_from && h < r->hour_to)
                                                : (h >= r->hour_from || h < r->hour_to);
            if (!in) {
                snprintf(rbuf, sizeof rbuf, "role %s reads only between %02d:00 and %02d:00 UTC", role->name,
                         r->hour_from, r->hour_to), reason = rbuf;
                continue;
            }
        }
        if ((lv >= 3 || p->audit_reads) && !q->audited) {
            snprintf(rbuf, sizeof rbuf, "reads of level %s must be audited (maif cat --audit)",
                     p->audit_reads && lv < 3 ? LEVELS[lv] : LEVELS[lv]), reason = rbuf;
            continue;
        }
        return MAIF_OK;
    }
    if (!any_role) reason = "the reader's key holds no role with a rule in the policy";
    if (why && cap) snprintf(why, cap, "access denied by the policy: %s", reason ? reason : "no rule allows it");
    return MAIF_EACCESS;
}

int maif_policy_check_write(const maif_policy *p, const maif_block_spec *spec, int cipher,
                            const uint8_t signer[MAIF_PUBKEY_BYTES], char *why, size_t cap)
{
    if (!p || !spec || !signer) return MAIF_EINVAL;
    if (spec->type == MAIF_TYPE_KEYWRAP || spec->type == MAIF_TYPE_AUDIT || spec->type == MAIF_TYPE_ERASURE ||
        spec->type == MAIF_TYPE_POLICY)
        return MAIF_OK;
    int lv = block_level(p, spec->meta_json, spec->meta_json ? spec->meta_size : 0);
    if (lv >= 2 && !cipher) {
        if (why) snprintf(why, cap, "the policy refuses it: level %s requires encryption (--encrypt)", LEVELS[lv]);
        return MAIF_EACCESS;
    }
    if (lv == 4 && cipher != MAIF_CIPHER_XCHACHA20) {
        if (why) snprintf(why, cap, "the policy refuses it: level top_secret requires XChaCha20-Poly1305");
        return MAIF_EACCESS;
    }
    if (lv == 4 && !has_key(p->signers, p->nsigners, signer)) {
        if (why) snprintf(why, cap, "the policy refuses it: level top_secret requires a pinned signer, and this key is not one");
        return MAIF_EACCESS;
    }
    return MAIF_OK;
}

int maif_policy_may_read_level(const maif_policy *p, const uint8_t pk[MAIF_PUBKEY_BYTES], uint32_t type, int level)
{
    int lv = level > p->level ? level : p->level;
    for (size_t i = 0; i < p->nrules; i++) {
        const prule *r = &p->rules[i];
        const prole *role = &p->roles[r->role];
        if (!has_key(role->keys, role->nkeys, pk) || !(r->levels & (1u << lv))) continue;
        int type_ok = r->ntypes == 0;
        for (size_t k = 0; k < r->ntypes && !type_ok; k++) type_ok = r->types[k] == type;
        if (type_ok) return 1;
    }
    return 0;
}

/* ---- the artifact's current policy */

/* Finds r's current policy: *out NULL when there is none. Fail-closed:
 * MAIF_EACCESS with why when the policy blocks do not establish one. */
int priv_current_policy(maif_reader *r, maif_policy **out, uint64_t *index, char *why, size_t cap)
{
    *out = NULL;
    maif_policy *cur = NULL;
    uint8_t cur_id[MAIF_ID_BYTES];
    uint64_t n = maif_reader_count(r);
    for (uint64_t i = 0; i < n; i++) {
        maif_block b;
        if (maif_reader_block(r, i, &b) != MAIF_OK || b.type != MAIF_TYPE_POLICY) continue;
        uint8_t actor[32];
        maif_policy *p = NULL;
        const char *bad = NULL;
        if (priv_check_signed(r, &b, actor) != MAIF_OK) bad = "its own signature does not verify";
        else if (cur && (!b.has_supersedes || memcmp(b.supersedes, cur_id, MAIF_ID_BYTES) != 0))
            bad = "it does not supersede the policy before it";
        else if (cur && maif_policy_has_admins(cur) && !maif_policy_has_role(cur, actor, "admin"))
            bad = "its signer is not an admin of the policy before it";
        else if (maif_policy_parse(&p, (const char *)b.payload, b.payload_size) != MAIF_OK)
            bad = "its JSON is not a valid policy";
        if (bad) {
            maif_policy_free(cur);
            snprintf(why, cap, "access denied: policy block %llu cannot be trusted (%s)", (unsigned long long)i, bad);
            return MAIF_EACCESS;
        }
        maif_policy_free(cur);
        cur = p;
        memcpy(cur_id, b.id, MAIF_ID_BYTES);
        if (index) *index = i;
    }
    *out = cur;
    return MAIF_OK;
}

int maif_policy_has_admins(const maif_policy *p)
{
    for (size_t i = 0; p && i < p->nroles; i++)
        if (!strcmp(p->roles[i].name, "admin") && p->roles[i].nkeys) return 1;
    return 0;
}

int maif_reader_policy(maif_reader *r, maif_policy **out, uint64_t *index)
{
    if (!r || !out) return maif_set_last_err(MAIF_EINVAL, "maif_reader_policy: NULL argument");
    char why[256];
    int rc = priv_current_policy(r, out, index, why, sizeof why);
    if (rc) return maif_reader_fail(r, rc, why);
    if (!*out) return maif_reader_fail(r, MAIF_ENOTFOUND, "the artifact has no access policy");
    return MAIF_OK;
}

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int maif_reader_check_access(maif_reader *r, uint64_t index, const uint8_t subject[MAIF_PUBKEY_BYTES],
                             const char *purpose, int audited)
{
    if (!r || !subject) return maif_set_last_err(MAIF_EINVAL, "maif_reader_check_access: NULL argument");
    maif_block b;
    int rc = maif_reader_block(r, index, &b);
    if (rc) return rc;
    maif_policy *p = NULL;
    char why[256];
    rc = priv_current_policy(r, &p, NULL, why, sizeof why);
    if (rc) return maif_reader_fail(r, rc, why);
    if (!p) return MAIF_OK; /* no policy: keys alone decide */
    if (b.type == MAIF_TYPE_KEYWRAP || b.type == MAIF_TYPE_AUDIT || b.type == MAIF_TYPE_ERASURE ||
        b.type == MAIF_TYPE_POLICY) {
        maif_policy_free(p);
        return MAIF_OK; /* control blocks are public */
    }
    maif_access_request q = {.subject = subject, .purpose = purpose, .time_us = now_us(), .type = b.type,
                             .level = block_level(p, b.meta, b.meta_size), .audited = audited};
    rc = maif_policy_decide(p, &q, why, sizeof why);
    maif_policy_free(p);
    if (rc) return maif_reader_fail(r, rc, why);
    return MAIF_OK;
}

typedef struct subject {
    uint8_t pk[32];
    char purpose[PURPOSE_MAX + 1];
    int has_purpose, audited;
    maif_policy *policy; /* read once, when the subject was set; NULL: none */
    int denied;          /* the policy blocks could not be trusted: every read is denied */
    char why[256];
} subject;

static void subject_free(void *ctx)
{
    subject *s = ctx;
    maif_policy_free(s->policy);
    maif_free(s);
}

static int gate(void *ctx, maif_reader *r, uint64_t index, char *msg, size_t cap)
{
    subject *s = ctx;
    if (s->denied) {
        snprintf(msg, cap, "%s", s->why);
        return MAIF_EACCESS;
    }
    if (!s->policy) return MAIF_OK;
    maif_block b;
    int rc = maif_reader_block(r, index, &b);
    if (rc) return rc;
    if (b.type == MAIF_TYPE_KEYWRAP || b.type == MAIF_TYPE_AUDIT || b.type == MAIF_TYPE_ERASURE ||
        b.type == MAIF_TYPE_POLICY)
        return MAIF_OK;
    maif_access_request q = {.subject = s->pk, .purpose = s->has_purpose ? s->purpose : NULL, .time_us = now_us(),
                             .type = b.type, .level = block_level(s->policy, b.meta, b.meta_size),
                             .audited = s->audited};
    return maif_policy_decide(s->policy, &q, msg, cap);
}

int maif_reader_set_subject(maif_reader *r, const uint8_t pk[MAIF_PUBKEY_BYTES], const char *purpose, int audited)
{
    if (!r) return maif_set_last_err(MAIF_EINVAL, "maif_reader_set_subject: NULL reader");
    if (!pk) {
        maif_reader_set_gate(r, NULL, NULL, NULL);
        return MAIF_OK;
    }
    if (purpose && (!*purpose || strlen(purpose) > PURPOSE_MAX))
        return maif_set_last_err(MAIF_EINVAL, "a purpose has 1 to %d bytes", PURPOSE_MAX);
    subject *s = maif_malloc(sizeof *s);
    if (!s) return maif_set_last_err(MAIF_ENOMEM, "out of memory");
    memset(s, 0, sizeof *s);
    memcpy(s->pk, pk, 32);
    if (purpose) {
        strcpy(s->purpose, purpose);
        s->has_purpose = 1;
    }
    s->audited = !!audited;
    if (priv_current_policy(r, &s->policy, NULL, s->why, sizeof s->why) != MAIF_OK) s->denied = 1;
    maif_reader_set_gate(r, gate, s, subject_free);
    return MAIF_OK;
}

int maif_writer_set_policy(maif_writer *w, maif_reader *r, const char *json, size_t n, uint8_t id_out[MAIF_ID_BYTES])
{
    if (!w || !r || (!json && n)) return maif_set_last_err(MAIF_EINVAL, "maif_writer_set_policy: NULL argument");
    maif_policy *p = NULL, *cur = NULL;
    int rc = maif_policy_parse(&p, json, n);
    if (rc) return rc;
    maif_policy_free(p);
    char why[256];
    uint64_t ci = 0;
    rc = priv_current_policy(r, &cur, &ci, why, sizeof why);
    if (rc) return maif_set_last_err(rc, "%s", why);
    if (cur && maif_policy_has_admins(cur) && !maif_policy_has_role(cur, w->pk, "admin")) {
        maif_policy_free(cur);
        return maif_set_last_err(MAIF_EACCESS, "access denied: only a key with the role admin in the current policy "
                                               "may replace it");
    }
    maif_buf canon = {0};
    char jerr[160];
    rc = maif_json_canonicalize(json, n, MAIF_JSON_COMPACT, &canon, jerr, sizeof jerr);
    maif_block b;
    const uint8_t *sup = NULL;
    if (!rc && cur && maif_reader_block(r, ci, &b) == MAIF_OK) sup = b.id;
    if (!rc) rc = priv_add_signed(w, MAIF_TYPE_POLICY, canon.data, canon.len, sup, id_out);
    maif_policy_free(cur);
    maif_buf_free(&canon);
    if (rc) return maif_set_last_err(rc, "%s", rc == MAIF_EJSON ? jerr : maif_writer_errmsg(w));
    return MAIF_OK;
}

/* ---- the write gate: every writer of an artifact with a policy obeys its
 * level rules (format.h; the writer asks on each add, native_gate.c) */

static int gate_check(void *ctx, const maif_block_spec *spec, int cipher, const uint8_t signer[MAIF_PUBKEY_BYTES],
                      char *why, size_t cap)
{
    return maif_policy_check_write(ctx, spec, cipher, signer, why, cap);
}

static void gate_free(void *ctx) { maif_policy_free(ctx); }

static int gate_load(const char *path, maif_write_gate_fn *fn, void **ctx, void (**ctx_free)(void *), char *why,
                     size_t cap)
{
    *fn = NULL;
    *ctx = NULL;
    *ctx_free = NULL;
    maif_reader *r = NULL;
    int rc = maif_reader_open(&r, path);
    if (rc) {
        snprintf(why, cap, "cannot read the access policy: %s", maif_last_errmsg());
        return rc;
    }
    maif_policy *p = NULL;
    rc = priv_current_policy(r, &p, NULL, why, cap);
    maif_reader_close(r);
    if (rc) return rc;
    if (p) {
        *fn = gate_check;
        *ctx = p;
        *ctx_free = gate_free;
    }
    return MAIF_OK;
}

/* Registered when the privacy engine is part of the program (always with
 * the shared library; with the static one when this file is linked in).
 * Without it a writer refuses to add to an artifact that has a policy. */
__attribute__((constructor)) static void gate_register(void) { maif_write_gate_register(gate_load); }
