/*
 * v21_verify_prov.c — the provenance half of the 2.1 verifier.
 *
 * The provenance section is a JSON array with one signed, hash-chained
 * entry per block plus genesis and finalize, and checking it is a task of
 * its own: split the text into entries, parse them (on the pool, beside
 * the blocks), check each entry's hash and signature (on the pool), then
 * walk the entries in order and relate each one to the header and to its
 * block. It lives apart from v21_verify.c because none of that touches the
 * block, header, index or footer rules, and v21_verify.c keeps the order
 * of the whole check in one place. This file uses only the context, the
 * ERR macro and the small checks of v21_vctx.h; maif21_verify calls the
 * functions below (v21_prov.h) in sequence (split, parse each entry, or
 * parse whole; check; report; free).
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/v21/v21_prov.h"
#include "format/v21/v21_vctx.h"
#include "crypto/crypto.h"
#include "util/alloc.h"
#include "util/common.h"
#include "util/pool.h"
#include "util/pyjson.h"

#define HEX_HASH (2 * MAIF_HASH_BYTES + 1)

static const char *const prov_keys[] = {"timestamp",   "agent_id",  "agent_did",           "action",
                                        "block_hash",  "entry_hash", "previous_entry_hash", "signature",
                                        "chain_position", "metadata"};
#define PROV_NKEYS (sizeof prov_keys / sizeof prov_keys[0])

/* Offset of the first c in t[from, end), or end. */
static size_t next_of(const char *t, size_t end, size_t from, char c)
{
    const char *p = memchr(t + from, c, end - from);
    return p ? (size_t)(p - t) : end;
}

/* 1 if a and b serialise identically under v21_json_dump_ordered: same
 * types, keys in the same order, equal strings and numbers. Python's repr
 * of a float is shortest-round-trip, hence injective, and never looks like
 * an integer, so reals compare by value and sign of zero. Comparing the
 * trees directly spares two serialisations per provenance entry. (The one
 * case where the dumps would both fail, nesting past MAIF_JSON_MAX_DEPTH,
 * cannot be equal here: the expected objects are flat.) */
static int same_ordered(const json_t *a, const json_t *b)
{
    if (!a || !b || json_typeof(a) != json_typeof(b)) return 0;
    switch (json_typeof(a)) {
    case JSON_OBJECT: {
        if (json_object_size(a) != json_object_size(b)) return 0;
        void *ia = json_object_iter((json_t *)a), *ib = json_object_iter((json_t *)b);
        for (; ia && ib; ia = json_object_iter_next((json_t *)a, ia), ib = json_object_iter_next((json_t *)b, ib))
            if (strcmp(json_object_iter_key(ia), json_object_iter_key(ib)) != 0 ||
                !same_ordered(json_object_iter_value(ia), json_object_iter_value(ib)))
                return 0;
        return !ia && !ib;
    }
    case JSON_ARRAY:
        if (json_array_size(a) != json_array_size(b)) return 0;
        for (size_t i = 0; i < json_array_size(a); i++)
            if (!same_ordered(json_array_get(a, i), json_array_get(b, i))) return 0;
        return 1;
    case JSON_STRING:
        return json_string_length(a) == json_string_length(b) &&
               memcmp(json_string_value(a), json_string_value(b), json_string_length(a)) == 0;
    case JSON_INTEGER: return json_integer_value(a) == json_integer_value(b);
    case JSON_REAL: {
        double x = json_real_value(a), y = json_real_value(b);
        return x == y && signbit(x) == signbit(y);
    }
    default: return 1; /* true, false, null */
    }
}

/* Fills pv->span and pv->ne with the proposed entry boundaries; 0 when the
 * text does not have the writer's outline (then the slow path decides). */
int v21_prov_split(const char *t, size_t n, v21_prov *pv)
{
    if (n < 2 || t[0] != '[' || t[n - 1] != ']') return 0;
    size_t cap = 0, ne = 0, start = 1, depth = 0;
    size_t nq = 0, nb = 0; /* next '"' and '\\' at or after the last search, or n - 1 */
    int in_str = 0, esc = 0;
    for (size_t i = 1; n > 2 && i < n; i++) {
        char c = t[i];
        int cut = 0;
        if (i == n - 1) { /* the closing bracket ends the last entry */
            if (in_str || depth != 0) return 0;
            cut = 1;
        } else if (in_str) {
            if (esc) {
                esc = 0;
            } else if (c == '\\') {
                esc = 1;
            } else if (c == '"') {
                in_str = 0;
            } else {
                /* Most of the text is hex digits inside strings: jump to the
                 * next quote or backslash. Each memchr resumes past its
                 * previous hit, so the scan stays linear. */
                if (nq < i) nq = next_of(t, n - 1, i, '"');
                if (nb < i) nb = next_of(t, n - 1, i, '\\');
                i = (nq < nb ? nq : nb) - 1;
            }
        } else if (c == '"') {
            in_str = 1;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            if (depth == 0) return 0;
            depth--;
        } else if (c == ',' && depth == 0) {
            cut = 1;
        }
        if (!cut) continue;
        if (ne > 0) { /* entries after the first follow ", " */
            if (start >= i || t[start] != ' ') return 0;
            start++;
        }
        if (start >= i) return 0;
        if (ne == cap) {
            size_t nc = cap ? 2 * cap : 64;
            size_t *p = maif_realloc(pv->span, nc * 2 * sizeof *p);
            if (!p) return 0;
            pv->span = p;
            cap = nc;
        }
        pv->span[2 * ne] = start;
        pv->span[2 * ne + 1] = i - start;
        ne++;
        start = i + 1;
    }
    pv->ne = ne;
    return 1;
}

/* Parses fast-path entry k on its own; 1 if it is a JSON object in the
 * writer's form. */
int v21_prov_parse_entry(const v21_vctx *v, v21_prov *pv, size_t k)
{
    const char *t = (const char *)v->buf + v->m->prov_off + 4 + pv->span[2 * k];
    size_t len = pv->span[2 * k + 1];
    json_error_t je;
    json_t *e = json_loadb(t, len, JSON_REJECT_DUPLICATES, &je);
    pv->roots[k] = e;
    return json_is_object(e) && v21_same_as_python(e, (const uint8_t *)t, len);
}

/* Slow path: the whole array in one call, as the section is specified. */
void v21_prov_parse_whole(const v21_vctx *v, v21_prov *pv)
{
    const maif21 *m = v->m;
    const uint8_t *j = v->buf + m->prov_off + 4;
    json_error_t je;
    json_t *arr = json_loadb((const char *)j, m->prov_len, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_array(arr)) {
        json_decref(arr);
        return;
    }
    pv->arr = arr;
    pv->form_bad = !v21_same_as_python(arr, j, m->prov_len);
    pv->ne = json_array_size(arr);
    pv->ents = maif_calloc(pv->ne ? pv->ne : 1, sizeof *pv->ents);
}

void v21_prov_free(v21_prov *pv)
{
    if (pv->roots)
        for (size_t i = 0; i < pv->ne; i++) json_decref(pv->roots[i]);
    maif_free(pv->roots);
    maif_free(pv->span);
    maif_free(pv->ents);
    json_decref(pv->arr);
}

typedef struct prov_job {
    const v21_vctx *v;
    v21_prov *pv;
} prov_job;

/* The expensive half of an entry's checks: its hash and signature. */
static void entry_work(void *ctx, uint64_t i, void *scratch)
{
    (void)scratch; /* entries need no per-thread buffer */
    prov_job *job = ctx;
    const v21_vctx *v = job->v;
    json_t *e = job->pv->roots ? job->pv->roots[i] : json_array_get(job->pv->arr, i);
    v21_entry *en = &job->pv->ents[i];
    int shape = json_is_object(e) && json_object_size(e) == PROV_NKEYS;
    if (shape) {
        size_t k = 0;
        const char *key;
        json_t *val;
        json_object_foreach(e, key, val) {
            if (strcmp(key, prov_keys[k]) != 0) shape = 0;
            k++;
        }
    }
    en->ts = json_object_get(e, "timestamp");
    en->aid = json_object_get(e, "agent_id");
    en->adid = json_object_get(e, "agent_did");
    en->act = json_object_get(e, "action");
    en->bh = json_object_get(e, "block_hash");
    en->eh = json_object_get(e, "entry_hash");
    en->peh = json_object_get(e, "previous_entry_hash");
    en->sig = json_object_get(e, "signature");
    en->pos = json_object_get(e, "chain_position");
    en->meta = json_object_get(e, "metadata");
    en->shape_ok = shape && json_is_integer(en->ts) && json_is_string(en->aid) && json_is_string(en->adid) &&
                   json_is_string(en->act) && json_is_string(en->bh) && json_is_string(en->eh) &&
                   json_is_string(en->peh) && json_is_string(en->sig) && json_is_integer(en->pos) &&
                   json_is_object(en->meta);
    if (!en->shape_ok) return;

    char hex[HEX_HASH];
    const char *eh = json_string_value(en->eh);
    int rc = v21_entry_hash(json_integer_value(en->ts), json_string_value(en->aid), json_string_value(en->adid),
                            json_string_value(en->act), json_string_value(en->bh), json_string_value(en->peh),
                            json_integer_value(en->pos), en->meta, hex);
    en->hash_bad = rc != MAIF_OK || strcmp(hex, eh) != 0;
    uint8_t sg[MAIF_SIGNATURE_BYTES];
    const char *ss = json_string_value(en->sig);
    if (!v21_is_lower_hex(ss, 2 * MAIF_SIGNATURE_BYTES) || maif_unhex(ss, sg, sizeof sg) != MAIF_OK)
        en->sig_hex = 1;
    else if (v->have_pk && !maif_ed25519_verify(v->pk, eh, strlen(eh), sg))
        en->sig_bad = 1;
}

void v21_prov_check(const v21_vctx *v, v21_prov *pv, unsigned nthreads)
{
    prov_job pj = {v, pv};
    maif_pool_run(nthreads, pv->ne, entry_work, &pj, NULL, 0);
}

static json_t *expect_genesis_meta(const uint8_t *hdr)
{
    char fid[2 * MAIF_ID_BYTES + 1], cid[2 * MAIF_ID_BYTES + 1];
    json_t *o = json_object();
    json_object_set_new(o, "file_id", json_string(maif_hex(hdr + V21_H_FILE_ID, MAIF_ID_BYTES, fid)));
    json_object_set_new(o, "creator_id", json_string(maif_hex(hdr + V21_H_CREATOR_ID, MAIF_ID_BYTES, cid)));
    json_object_set_new(o, "format_version", json_string("2.1"));
    json_object_set_new(o, "key_algorithm", json_string("Ed25519"));
    return o;
}

/* Checks entry i's role: genesis, the add_* entry of block i-1, or finalize. */
static void check_entry_role(v21_vctx *v, size_t i, const v21_entry *en, const char *agent_id)
{
    const maif21 *m = v->m;
    const uint8_t *hdr = v->buf;
    uint64_t off = m->prov_off;
    const char *action = json_string_value(en->act);
    const char *bh = json_string_value(en->bh);
    json_t *meta = en->meta;
    json_int_t ts = json_integer_value(en->ts);
    char hex[HEX_HASH];

    if (i == 0) {
        uint64_t created = rd64be(hdr + V21_H_CREATED);
        if (strcmp(action, "genesis") != 0)
            ERR(v, "provenance-genesis", "provenance", -1, off, "provenance entry 0 is not genesis");
        if ((uint64_t)ts != created || ts < 0)
            ERR(v, "provenance-genesis", "provenance", -1, off,
                "provenance genesis timestamp differs from the header's created time");
        char *seed = NULL;
        uint8_t gh[MAIF_HASH_BYTES];
        if ((seed = maif_asprintf("genesis:%s:%" PRIu64, agent_id, created))) {
            maif_sha256(seed, strlen(seed), gh);
            maif_free(seed);
            if (strcmp(bh, maif_hex(gh, sizeof gh, hex)) != 0)
                ERR(v, "provenance-genesis", "provenance", -1, off,
                    "provenance genesis block_hash is not SHA-256 of genesis:<agent>:<created>");
        }
        json_t *want = expect_genesis_meta(hdr);
        if (!same_ordered(meta, want))
            ERR(v, "provenance-genesis", "provenance", -1, off,
                "provenance genesis metadata does not match the header's file_id and creator_id");
        json_decref(want);
    } else if (i <= m->n) {
        /* Compared field by field: the same verdict as same_ordered against
         * {"block_id": <hex id>, "size": <payload size>}, without building
         * that object for every block. */
        uint64_t b = i - 1;
        maif_block bk;
        maif21_block(m, b, &bk);
        const char *kind = v21_kind(bk.type);
        if (strncmp(action, "add_", 4) != 0 || strncmp(action + 4, kind, strlen(kind)) != 0 ||
            strcmp(action + 4 + strlen(kind), "_block") != 0)
            ERR(v, "provenance-block", "provenance", (int64_t)b, off,
                "provenance entry %zu: action \"%s\" does not fit block %" PRIu64 " (expected add_%s_block)", i,
                action, b, kind);
        if (strcmp(bh, maif_hex(bk.content_hash, MAIF_HASH_BYTES, hex)) != 0)
            ERR(v, "provenance-block", "provenance", (int64_t)b, off,
                "provenance entry %zu: block_hash differs from block %" PRIu64 "'s content hash", i, b);
        char idhex[2 * MAIF_ID_BYTES + 1];
        maif_hex(bk.id, MAIF_ID_BYTES, idhex);
        int ok = json_object_size(meta) == 2;
        void *it = ok ? json_object_iter(meta) : NULL;
        if (ok) {
            json_t *id = json_object_iter_value(it);
            ok = strcmp(json_object_iter_key(it), "block_id") == 0 && json_is_string(id) &&
                 json_string_length(id) == 2 * MAIF_ID_BYTES && memcmp(json_string_value(id), idhex, 2 * MAIF_ID_BYTES) == 0;
        }
        if (ok) {
            it = json_object_iter_next(meta, it);
            json_t *sz = json_object_iter_value(it);
            ok = strcmp(json_object_iter_key(it), "size") == 0 && json_is_integer(sz) &&
                 json_integer_value(sz) == (json_int_t)bk.payload_size;
        }
        if (!ok)
            ERR(v, "provenance-block", "provenance", (int64_t)b, off,
                "provenance entry %zu: metadata does not name block %" PRIu64 "'s id and payload size", i, b);
    } else {
        if (strcmp(action, "finalize") != 0)
            ERR(v, "provenance-finalize", "provenance", -1, off, "provenance entry %zu is not finalize", i);
        if (strcmp(bh, maif_hex(hdr + V21_H_MERKLE, MAIF_HASH_BYTES, hex)) != 0)
            ERR(v, "provenance-finalize", "provenance", -1, off,
                "provenance finalize block_hash differs from the header's Merkle root");
        json_t *want = json_object();
        json_object_set_new(want, "block_count", json_integer((json_int_t)m->n));
        if (!same_ordered(meta, want))
            ERR(v, "provenance-finalize", "provenance", -1, off,
                "provenance finalize metadata does not give block_count %" PRIu64, m->n);
        json_decref(want);
    }
}

/* The sequential half: every provenance finding, in entry order. */
void v21_prov_report(v21_vctx *v, const v21_prov *pv)
{
    const maif21 *m = v->m;
    uint64_t off = m->prov_off;
    if (!pv->arr && !pv->roots) {
        ERR(v, "provenance-json", "provenance", -1, off,
            "provenance section at offset %" PRIu64 " is not a JSON array", off);
        return;
    }
    if (pv->form_bad)
        ERR(v, "provenance-form", "provenance", -1, off,
            "provenance JSON at offset %" PRIu64 " is not in the form the 2.1 writer produces", off);
    size_t ne = pv->ne;
    if (ne != m->n + 2)
        ERR(v, "provenance-count", "provenance", -1, off,
            "provenance has %zu entries; expected %" PRIu64 " (genesis, one per block, finalize)", ne, m->n + 2);
    if (!pv->ents) {
        ERR(v, "no-memory", "provenance", -1, off, "out of memory checking the provenance entries");
        return;
    }

    const char *prev = "";
    const char *agent_id = NULL, *agent_did = NULL; /* borrowed from the first well-formed entry */
    for (size_t i = 0; i < ne; i++) {
        const v21_entry *en = &pv->ents[i];
        if (!en->shape_ok) {
            ERR(v, "provenance-field", "provenance", -1, off,
                "provenance entry %zu does not have the 2.1 keys, order and types", i);
            prev = json_is_string(en->eh) ? json_string_value(en->eh) : "";
            continue;
        }
        if (json_integer_value(en->pos) != (json_int_t)i)
            ERR(v, "provenance-position", "provenance", -1, off, "provenance entry %zu: chain_position %" JSON_INTEGER_FORMAT,
                i, json_integer_value(en->pos));
        if (strcmp(json_string_value(en->peh), prev) != 0)
            ERR(v, "provenance-link", "provenance", -1, off,
                "provenance entry %zu: previous_entry_hash does not match entry %zu", i, i ? i - 1 : 0);
        prev = json_string_value(en->eh);

        /* One agent throughout, matching the header. */
        if (!agent_id) {
            agent_id = json_string_value(en->aid);
            agent_did = json_string_value(en->adid);
            const char *tail = strncmp(agent_did, "did:maif:", 9) == 0 ? agent_did + 9 : NULL;
            if (!tail || strcmp(tail, agent_id) != 0)
                ERR(v, "provenance-agent", "provenance", -1, off, "provenance agent_did is not did:maif:<agent_id>");
            if (!v21_did_matches_header(v, agent_did))
                ERR(v, "provenance-agent", "provenance", -1, off,
                    "provenance agent_did differs from the header agent_did");
            if (v->signer_id && strcmp(v->signer_id, agent_id) != 0)
                ERR(v, "security-signer", "security", -1, m->sec_off,
                    "security signer_id differs from the provenance agent_id");
        } else if (strcmp(agent_id, json_string_value(en->aid)) != 0 ||
                   strcmp(agent_did, json_string_value(en->adid)) != 0) {
            ERR(v, "provenance-agent", "provenance", -1, off, "provenance entry %zu names another agent", i);
        }

        if (en->hash_bad)
            ERR(v, "provenance-hash", "provenance", -1, off, "provenance entry %zu: entry_hash mismatch", i);
        if (en->sig_hex)
            ERR(v, "provenance-signature", "provenance", -1, off,
                "provenance entry %zu: signature is not 128 hex digits", i);
        else if (en->sig_bad)
            ERR(v, "provenance-signature", "provenance", -1, off,
                "provenance entry %zu: signature: authentication failed", i);
        if (i <= m->n + 1) check_entry_role(v, i, en, agent_id);
    }
}

