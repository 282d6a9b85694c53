/*
 * serve_auth.c — bearer tokens and their rate buckets.
 *
 * The tokens file holds SHA-256 hashes only (docs/API.md): a presented
 * token is hashed and compared with every entry in constant time, so the
 * server never holds a usable token and timing says nothing about which
 * hash came close. Each token has its own token bucket (rate per second,
 * burst capacity), refilled lazily when a request takes from it.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "serve.h"

#define TOKENS_FILE_MAX (1u << 20)
#define TOKENS_MAX 4096
#define TOKEN_ARTIFACTS_MAX 256
#define BEARER_MAX 4096

static int fail(char *err, size_t cap, const char *fmt, const char *a, size_t i)
{
    char what[200];
    snprintf(what, sizeof what, fmt, a ? a : "");
    snprintf(err, cap, "token %zu: %s", i, what);
    return -1;
}

/* "2027-01-01T00:00:00Z" -> Unix seconds; -1 when malformed. */
static int64_t parse_time(const char *s)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *e = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!e) return -1;
    if (*e == '.') { /* fractional seconds: ignored */
        e++;
        while (isdigit((unsigned char)*e)) e++;
    }
    if (strcmp(e, "Z") != 0 && strcmp(e, "+00:00") != 0) return -1;
    time_t t = timegm(&tm);
    return t == (time_t)-1 ? -1 : (int64_t)t;
}

static int load_one(srv_token *t, json_t *o, size_t i, double rate, double burst, char *err, size_t cap)
{
    if (!json_is_object(o)) return fail(err, cap, "not an object%s", NULL, i);
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v)
    {
        if (strcmp(k, "name") && strcmp(k, "sha256") && strcmp(k, "subject") && strcmp(k, "scopes") &&
            strcmp(k, "artifacts") && strcmp(k, "expires") && strcmp(k, "rate") && strcmp(k, "burst"))
            return fail(err, cap, "unknown key \"%.60s\"", k, i);
    }
    const char *name = json_string_value(json_object_get(o, "name"));
    if (!name || !*name || strlen(name) >= sizeof t->name) return fail(err, cap, "\"name\" must be 1..63 bytes%s", NULL, i);
    for (const char *p = name; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == '"' || *p == '\\')
            return fail(err, cap, "\"name\" has a control character or quote%s", NULL, i);
    snprintf(t->name, sizeof t->name, "%s", name);
    const char *h = json_string_value(json_object_get(o, "sha256"));
    if (!h || strlen(h) != 64 || maif_unhex(h, t->hash, sizeof t->hash) != MAIF_OK)
        return fail(err, cap, "\"sha256\" must be 64 hex digits (the SHA-256 of the token)%s", NULL, i);
    json_t *sub = json_object_get(o, "subject");
    if (sub && !json_is_null(sub)) {
        const char *sv = json_string_value(sub);
        if (!sv) return fail(err, cap, "\"subject\" must be a string%s", NULL, i);
        if (strlen(sv) == 64 && maif_unhex(sv, t->subject, sizeof t->subject) == MAIF_OK)
            t->has_subject = 1;
        else if (maif_pubkey_load(sv, t->subject) == MAIF_OK)
            t->has_subject = 1;
        else
            return fail(err, cap, "\"subject\" is neither 64 hex digits nor a readable key file: %.80s", sv, i);
    }
    json_t *sc = json_object_get(o, "scopes");
    if (!json_is_array(sc)) return fail(err, cap, "\"scopes\" must be an array%s", NULL, i);
    size_t j;
    json_array_foreach(sc, j, v)
    {
        const char *s = json_string_value(v);
        if (s && !strcmp(s, "read")) t->scopes |= SRV_SCOPE_READ;
        else if (s && !strcmp(s, "write")) t->scopes |= SRV_SCOPE_WRITE;
        else if (s && !strcmp(s, "admin")) t->scopes |= SRV_SCOPE_ADMIN;
        else return fail(err, cap, "a scope must be \"read\", \"write\" or \"admin\"%s", NULL, i);
    }
    json_t *ar = json_object_get(o, "artifacts");
    if (!ar) {
        ar = json_pack("[s]", "*");
        if (!ar) return fail(err, cap, "out of memory%s", NULL, i);
    } else
        json_incref(ar);
    if (!json_is_array(ar) || json_array_size(ar) > TOKEN_ARTIFACTS_MAX) {
        json_decref(ar);
        return fail(err, cap, "\"artifacts\" must be an array of at most 256 names%s", NULL, i);
    }
    t->artifacts = calloc(json_array_size(ar) + 1, sizeof *t->artifacts);
    if (!t->artifacts) {
        json_decref(ar);
        return fail(err, cap, "out of memory%s", NULL, i);
    }
    json_array_foreach(ar, j, v)
    {
        const char *s = json_string_value(v);
        if (!s || !*s || strlen(s) > SRV_NAME_MAX + 1 || !(t->artifacts[t->nartifacts] = strdup(s))) {
            json_decref(ar);
            return fail(err, cap, "\"artifacts\" holds something that is not a name%s", NULL, i);
        }
        t->nartifacts++;
    }
    json_decref(ar);
    json_t *ex = json_object_get(o, "expires");
    if (ex && !json_is_null(ex)) {
        const char *es = json_string_value(ex);
        if (!es || (t->expires = parse_time(es)) < 0)
            return fail(err, cap, "\"expires\" must be a UTC time like 2027-01-01T00:00:00Z%s", NULL, i);
    }
    t->rate = rate;
    t->burst = burst;
    json_t *r = json_object_get(o, "rate"), *b = json_object_get(o, "burst");
    if (r && (!json_is_number(r) || json_number_value(r) <= 0 || json_number_value(r) > 1e9))
        return fail(err, cap, "\"rate\" must be a positive number%s", NULL, i);
    if (b && (!json_is_number(b) || json_number_value(b) < 1 || json_number_value(b) > 1e9))
        return fail(err, cap, "\"burst\" must be a number >= 1%s", NULL, i);
    if (r) t->rate = json_number_value(r);
    if (b) t->burst = json_number_value(b);
    t->level = t->burst;
    return 0;
}

int srv_tokens_load(srv_tokens *t, const char *path, double rate, double burst, char *err, size_t cap)
{
    memset(t, 0, sizeof *t);
    json_error_t je;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, cap, "cannot open: %s", strerror(errno));
        return -1;
    }
    char *buf = malloc(TOKENS_FILE_MAX + 1);
    size_t n = buf ? fread(buf, 1, TOKENS_FILE_MAX + 1, f) : 0;
    fclose(f);
    if (!buf || n > TOKENS_FILE_MAX) {
        free(buf);
        snprintf(err, cap, "larger than 1 MiB");
        return -1;
    }
    json_t *doc = json_loadb(buf, n, JSON_REJECT_DUPLICATES, &je);
    free(buf);
    if (!doc) {
        snprintf(err, cap, "not JSON: line %d: %s", je.line, je.text);
        return -1;
    }
    json_t *arr = json_object_get(doc, "tokens");
    if (!json_is_object(doc) || !json_is_array(arr) || json_array_size(arr) > TOKENS_MAX) {
        json_decref(doc);
        snprintf(err, cap, "expected {\"tokens\": [...]} with at most %d tokens", TOKENS_MAX);
        return -1;
    }
    t->v = calloc(json_array_size(arr) + 1, sizeof *t->v);
    if (!t->v) {
        json_decref(doc);
        snprintf(err, cap, "out of memory");
        return -1;
    }
    size_t i;
    json_t *o;
    json_array_foreach(arr, i, o)
    {
        pthread_mutex_init(&t->v[i].mu, NULL);
        t->n = i + 1;
        if (load_one(&t->v[i], o, i, rate, burst, err, cap)) {
            json_decref(doc);
            return -1;
        }
        for (size_t k = 0; k < i; k++)
            if (!strcmp(t->v[k].name, t->v[i].name)) {
                json_decref(doc);
                return fail(err, cap, "the name \"%.60s\" is used twice", t->v[i].name, i);
            }
    }
    json_decref(doc);
    return 0;
}

void srv_tokens_free(srv_tokens *t)
{
    for (size_t i = 0; i < t->n; i++) {
        for (size_t j = 0; j < t->v[i].nartifacts; j++) free(t->v[i].artifacts[j]);
        free(t->v[i].artifacts);
        pthread_mutex_destroy(&t->v[i].mu);
    }
    free(t->v);
    memset(t, 0, sizeof *t);
}

const srv_token *srv_auth_lookup(const srv_tokens *t, const char *header, const char **why)
{
    if (!header) {
        *why = "no bearer token (Authorization: Bearer TOKEN)";
        return NULL;
    }
    if (strncasecmp(header, "Bearer ", 7) != 0) {
        *why = "the Authorization header is not a bearer token";
        return NULL;
    }
    const char *tok = header + 7;
    while (*tok == ' ') tok++;
    size_t n = strlen(tok);
    while (n && tok[n - 1] == ' ') n--;
    if (n == 0 || n > BEARER_MAX) {
        *why = "malformed bearer token";
        return NULL;
    }
    uint8_t h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)tok, n);
    const srv_token *found = NULL;
    for (size_t i = 0; i < t->n; i++) /* every entry is compared: no early exit */
        if (sodium_memcmp(h, t->v[i].hash, sizeof h) == 0) found = &t->v[i];
    sodium_memzero(h, sizeof h);
    if (!found) {
        *why = "unknown token";
        return NULL;
    }
    if (found->expires && (int64_t)time(NULL) >= found->expires) {
        *why = "the token has expired";
        return NULL;
    }
    return found;
}

int srv_auth_artifact_ok(const srv_token *tok, const char *name)
{
    for (size_t i = 0; i < tok->nartifacts; i++) {
        const char *p = tok->artifacts[i];
        size_t n = strlen(p);
        if (n && p[n - 1] == '*') {
            if (strncmp(p, name, n - 1) == 0) return 1;
        } else if (strcmp(p, name) == 0)
            return 1;
    }
    return 0;
}

unsigned srv_rate_take(srv_token *tok)
{
    uint64_t now = obs_now_ns();
    unsigned wait = 0;
    pthread_mutex_lock(&tok->mu);
    if (tok->last_ns) {
        double add = (double)(now - tok->last_ns) / 1e9 * tok->rate;
        tok->level = fmin(tok->burst, tok->level + add);
    }
    tok->last_ns = now;
    if (tok->level >= 1.0)
        tok->level -= 1.0;
    else
        wait = (unsigned)ceil((1.0 - tok->level) / tok->rate);
    if (wait == 0 && tok->level < 0) wait = 1;
    pthread_mutex_unlock(&tok->mu); /* level is read under mu only (another thread may take from it) */
    return wait;
}
