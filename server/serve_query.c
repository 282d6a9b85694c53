/*
 * serve_query.c — the read-only questions about an artifact: search,
 * verify, history (the commits), audit, proofs and the graph. Each is a
 * call into libmaif on the shared reader (or, for verification, on the
 * file itself), turned into the JSON docs/API.md gives; where the CLI has
 * a --json form (audit, prove, graph) the shape is the same.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve.h"

static const char *type_label(uint32_t t, char out[5])
{
    const char *n = maif_type_name(t);
    return n ? n : maif_type_fourcc(t, out);
}

static void iso_time(uint64_t us, char *out, size_t cap)
{
    time_t t = (time_t)(us / 1000000);
    struct tm tm;
    gmtime_r(&t, &tm);
    char b[32];
    strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, cap, "%s.%06lluZ", b, (unsigned long long)(us % 1000000));
}

/* Read access to the artifact as a whole (search, graph, audit, proofs
 * show content or its shape): under a policy, the token's subject must be
 * allowed to read at least the blocks it is shown; these routes show many,
 * so they need a subject the policy knows and are otherwise refused.
 * Acquires the reader; on a refusal releases it again and returns 403. */
static int whole_read_begin(srv_req *q, char *err, size_t cap)
{
    srv_reader_acquire(q->a, err, cap);
    int st = srv_check_subject(q, err, cap);
    if (st) srv_reader_release(q->a);
    return st;
}

enum MHD_Result srv_route_search(srv_req *q)
{
    char qb[4096], mb[16];
    int bad = 0;
    const char *text = srv_arg(q, "q", qb, sizeof qb, &bad);
    if (bad || !text || !*text) return srv_reply_error(q, 400, "q (the query text, at most 4 KiB) is required");
    uint64_t k;
    if (srv_arg_u64(q, "k", SRV_SEARCH_K_MAX, 10, &k) < 0 || k == 0)
        return srv_reply_error(q, 400, "k must be an integer 1..%d", SRV_SEARCH_K_MAX);
    const char *mode = srv_arg(q, "mode", mb, sizeof mb, &bad);
    int m = MAIF_MODE_HYBRID;
    if (bad) return srv_reply_error(q, 400, "bad mode");
    if (mode) {
        if (!strcmp(mode, "hybrid")) m = MAIF_MODE_HYBRID;
        else if (!strcmp(mode, "vector")) m = MAIF_MODE_VECTOR;
        else if (!strcmp(mode, "text")) m = MAIF_MODE_TEXT;
        else return srv_reply_error(q, 400, "mode must be hybrid, vector or text");
    }
    srv_artifact *a = q->a;
    char err[256];
    int st = whole_read_begin(q, err, sizeof err);
    if (st) return srv_reply_error(q, st, "%s", err);
    maif_index *ix = NULL;
    maif_search *s = NULL;
    int rc = maif_index_open(&ix, a->r, NULL);
    if (!rc) rc = maif_search_create(&s);
    if (!rc) rc = maif_search_set(s, MAIF_SEARCH_K, (int64_t)k);
    if (!rc) rc = maif_search_set(s, MAIF_SEARCH_MODE, m);
    if (!rc) rc = maif_search_set_text(s, text, strlen(text));
    if (!rc) rc = maif_search_run(s, ix);
    if (rc) {
        snprintf(err, sizeof err, "%s", maif_last_errmsg());
        maif_search_free(s);
        maif_index_close(ix);
        srv_reader_release(a);
        return srv_reply_error(q, rc == MAIF_EINVAL ? 422 : srv_status_for(rc), "search: %s", err);
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < maif_search_count(s); i++) {
        maif_search_hit h;
        if (maif_search_result(s, i, &h) != MAIF_OK) break;
        char t5[5], hex[2 * MAIF_ID_BYTES + 1];
        if (srv_check_read(q, h.block, err, sizeof err)) continue; /* the policy hides it */
        json_t *o = json_pack("{s:I,s:s,s:f,s:s}", "index", (json_int_t)h.block, "id",
                              maif_hex(h.id, MAIF_ID_BYTES, hex), "score", h.score, "type", type_label(h.type, t5));
        json_object_set_new(o, "snippet", h.snippet_size && maif_utf8_valid(h.snippet, h.snippet_size)
                                              ? json_stringn(h.snippet, h.snippet_size)
                                              : json_string(""));
        json_array_append_new(arr, o);
    }
    maif_search_free(s);
    maif_index_close(ix);
    srv_reader_release(a);
    return srv_reply_json(q, 200, json_pack("{s:o}", "results", arr));
}

static const char *sev_name(int s)
{
    return s == MAIF_SEV_ERROR ? "error" : s == MAIF_SEV_WARNING ? "warning" : "info";
}

enum MHD_Result srv_route_verify(srv_req *q)
{
    maif_report *rep = NULL;
    int rc = maif_verify_file(q->a->path, NULL, &rep);
    if (rc) return srv_reply_error(q, srv_status_for(rc), "verify: %s", maif_last_errmsg());
    json_t *f = json_array(), *sg = json_array();
    for (size_t i = 0; i < maif_report_count(rep); i++) {
        const maif_finding *x = maif_report_finding(rep, i);
        if (!x) break;
        json_t *o = json_pack("{s:s,s:s,s:s}", "severity", sev_name(x->severity), "code", x->code ? x->code : "",
                              "section", x->section ? x->section : "");
        json_object_set_new(o, "block", x->block >= 0 ? json_integer(x->block) : json_null());
        json_object_set_new(o, "message", x->message && maif_utf8_valid(x->message, strlen(x->message))
                                              ? json_string(x->message)
                                              : json_string("?"));
        json_array_append_new(f, o);
    }
    for (size_t i = 0; i < maif_report_signer_count(rep); i++) {
        uint8_t pk[MAIF_PUBKEY_BYTES];
        int pinned = 0;
        char hex[2 * MAIF_PUBKEY_BYTES + 1];
        if (maif_report_signer(rep, i, pk, &pinned) != MAIF_OK) continue;
        json_array_append_new(sg, json_pack("{s:s,s:s,s:b}", "key", maif_hex(pk, sizeof pk, hex), "alg",
                                            maif_sig_alg_name(maif_report_signer_alg(rep, i)), "pinned", pinned));
    }
    int ok = maif_report_ok(rep);
    json_t *doc = json_pack("{s:b,s:I,s:o,s:o}", "ok", ok, "blocks", (json_int_t)maif_report_blocks(rep), "findings",
                            f, "signers", sg);
    maif_report_free(rep);
    if (!ok) obs_count(OBS_C_VERIFY_FAILURES, 1);
    return srv_reply_json(q, 200, doc);
}

enum MHD_Result srv_route_history(srv_req *q)
{
    uint64_t off, lim;
    if (srv_arg_u64(q, "offset", UINT64_MAX / 2, 0, &off) < 0)
        return srv_reply_error(q, 400, "offset must be a non-negative integer");
    if (srv_arg_u64(q, "limit", SRV_PAGE_MAX, SRV_PAGE_MAX, &lim) < 0)
        return srv_reply_error(q, 400, "limit must be an integer 0..%d", SRV_PAGE_MAX);
    srv_artifact *a = q->a;
    char err[256];
    srv_reader_acquire(a, err, sizeof err);
    const srv_commit *c;
    size_t n;
    if (srv_commits(a, &c, &n)) {
        srv_reader_release(a);
        return srv_reply_error(q, 500, "the commit records cannot be read");
    }
    json_t *arr = json_array();
    for (uint64_t i = off; i < n && i < off + lim; i++) {
        char t[48], hex[2 * MAIF_PUBKEY_BYTES + 1];
        iso_time(c[i].time_us, t, sizeof t);
        json_array_append_new(arr, json_pack("{s:I,s:I,s:s,s:I,s:s,s:s}", "seq", (json_int_t)c[i].seq, "blocks",
                                             (json_int_t)c[i].blocks, "time", t, "time_us", (json_int_t)c[i].time_us,
                                             "signer", maif_hex(c[i].signer, MAIF_PUBKEY_BYTES, hex), "alg",
                                             maif_sig_alg_name(c[i].alg)));
    }
    srv_reader_release(a);
    return srv_reply_json(q, 200, json_pack("{s:I,s:I,s:o}", "total", (json_int_t)n, "offset", (json_int_t)off,
                                            "commits", arr));
}

static json_t *erasure_json(const maif_block *b)
{
    json_t *o = json_object(), *ids = json_array();
    maif_erasure er;
    if (maif_erasure_parse(b, &er) == MAIF_OK) {
        for (uint32_t i = 0; i < er.count; i++) {
            char hex[2 * MAIF_ID_BYTES + 1];
            const uint8_t *id = er.entries + (size_t)i * MAIF_ERASURE_ENTRY_BYTES;
            json_array_append_new(ids, json_string(maif_hex(id, MAIF_ID_BYTES, hex)));
        }
        json_object_set_new(o, "punched", json_boolean(er.punched));
    }
    json_object_set_new(o, "blocks", ids);
    return o;
}

enum MHD_Result srv_route_audit(srv_req *q)
{
    srv_artifact *a = q->a;
    maif_report *rep = NULL;
    int rc = maif_verify_file(a->path, NULL, &rep);
    if (rc) return srv_reply_error(q, srv_status_for(rc), "verify: %s", maif_last_errmsg());
    int verified = maif_report_ok(rep);
    maif_report_free(rep);
    if (!verified) {
        obs_count(OBS_C_VERIFY_FAILURES, 1);
        return srv_reply_error(q, 422, "the artifact does not verify: its audit trail cannot be trusted");
    }
    char err[256];
    srv_reader_acquire(a, err, sizeof err);
    json_t *entries = json_array();
    int bad = 0;
    uint64_t n = maif_reader_count(a->r);
    for (uint64_t i = 0; i < n; i++) {
        maif_block b;
        if (maif_reader_block(a->r, i, &b) != MAIF_OK) continue;
        if (b.type != MAIF_TYPE_AUDIT && b.type != MAIF_TYPE_ERASURE && b.type != MAIF_TYPE_POLICY) continue;
        uint8_t actor[MAIF_PUBKEY_BYTES];
        int sig_ok = maif_reader_check_signed(a->r, i, actor) == MAIF_OK;
        json_t *rec = NULL;
        const char *action = "?";
        if (b.type == MAIF_TYPE_AUDIT) {
            rec = json_loadb((const char *)b.payload, b.payload_size, 0, NULL);
            if (!json_is_object(rec)) {
                json_decref(rec);
                rec = json_object();
                sig_ok = 0;
            }
            const char *x = json_string_value(json_object_get(rec, "action"));
            action = x ? x : "?";
        } else if (b.type == MAIF_TYPE_ERASURE) {
            rec = erasure_json(&b);
            action = "shred";
        } else {
            rec = json_pack("{s:b}", "supersedes", b.has_supersedes);
            action = "policy-set";
        }
        bad |= !sig_ok;
        char t[48], hid[2 * MAIF_ID_BYTES + 1], hpk[2 * MAIF_PUBKEY_BYTES + 1], f4[5];
        iso_time(b.timestamp_us, t, sizeof t);
        json_t *e = json_pack("{s:I,s:s,s:s,s:s,s:s,s:s}", "index", (json_int_t)i, "id",
                              maif_hex(b.id, MAIF_ID_BYTES, hid), "time", t, "type", maif_type_fourcc(b.type, f4),
                              "action", maif_utf8_valid(action, strlen(action)) ? action : "?", "signature",
                              sig_ok ? "ok" : "bad");
        json_object_set_new(e, "actor", sig_ok ? json_string(maif_hex(actor, sizeof actor, hpk)) : json_null());
        json_object_set_new(e, "record", rec);
        json_array_append_new(entries, e);
    }
    srv_reader_release(a);
    return srv_reply_json(q, 200, json_pack("{s:s,s:b,s:o}", "file", a->name, "ok", !bad, "entries", entries));
}

enum MHD_Result srv_route_proof(srv_req *q)
{
    uint64_t block, from, to;
    int hb = srv_arg_u64(q, "block", UINT64_MAX - 1, 0, &block);
    int hf = srv_arg_u64(q, "from", UINT64_MAX - 1, 0, &from);
    int ht = srv_arg_u64(q, "to", UINT64_MAX - 1, MAIF_COMMIT_LAST, &to);
    if (hb < 0 || hf < 0 || ht < 0) return srv_reply_error(q, 400, "block, from and to take non-negative integers");
    if ((hb > 0) == (hf > 0) || (ht > 0 && hf <= 0))
        return srv_reply_error(q, 400, "give block=N, or from=N [&to=M]");
    srv_artifact *a = q->a;
    char err[256];
    int st = whole_read_begin(q, err, sizeof err);
    if (st) return srv_reply_error(q, st, "%s", err);
    maif_proof *p = NULL;
    int rc = hb > 0 ? maif_reader_prove_inclusion(a->r, block, MAIF_COMMIT_LAST, &p)
                    : maif_reader_prove_consistency(a->r, from, to, &p);
    if (rc) {
        snprintf(err, sizeof err, "%s", maif_reader_errmsg(a->r));
        srv_reader_release(a);
        return srv_reply_error(q, rc == MAIF_ENOTFOUND || rc == MAIF_EINVAL ? 404 : srv_status_for(rc), "proof: %s",
                               err[0] ? err : maif_strerror(rc));
    }
    srv_reader_release(a);
    size_t len = 0;
    char *s = NULL;
    rc = maif_proof_json(p, NULL, 0, &len);
    if (rc == MAIF_ELIMIT && (s = malloc(len + 1)) != NULL) rc = maif_proof_json(p, s, len + 1, &len);
    else if (rc == MAIF_ELIMIT) rc = MAIF_ENOMEM;
    maif_proof_free(p);
    if (rc) {
        free(s);
        return srv_reply_error(q, 500, "proof: %s", maif_strerror(rc));
    }
    return srv_reply_raw(q, 200, "application/json", s, len, 1);
}

typedef struct membuf {
    char *p;
    size_t n, cap;
} membuf;

static int mem_write(void *ctx, const void *buf, size_t n)
{
    membuf *m = ctx;
    if (m->n + n > m->cap) {
        size_t c = m->cap ? m->cap : 4096;
        while (c < m->n + n) c *= 2;
        char *np = realloc(m->p, c);
        if (!np) return -1;
        m->p = np;
        m->cap = c;
    }
    memcpy(m->p + m->n, buf, n);
    m->n += n;
    return 0;
}

enum MHD_Result srv_route_graph(srv_req *q)
{
    srv_artifact *a = q->a;
    char err[256];
    int st = whole_read_begin(q, err, sizeof err);
    if (st) return srv_reply_error(q, st, "%s", err);
    maif_graph *g = NULL;
    int rc = maif_graph_build(&g, a->r, 0);
    membuf m = {0};
    if (!rc) rc = maif_graph_export(g, MAIF_GRAPH_JSON, NULL, 0, mem_write, &m);
    if (rc) snprintf(err, sizeof err, "%s", maif_last_errmsg());
    maif_graph_free(g);
    srv_reader_release(a);
    if (rc) {
        free(m.p);
        return srv_reply_error(q, srv_status_for(rc) == 422 ? 500 : srv_status_for(rc), "graph: %s", err);
    }
    return srv_reply_raw(q, 200, "application/json", m.p, m.n, 1);
}
