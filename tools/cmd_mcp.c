/*
 * cmd_mcp.c — `maif mcp FILE`: a Model Context Protocol server (JSON-RPC
 * 2.0 over stdio, one message a line) that keeps an agent's memory in a
 * maif artifact. It offers the tools of the reference memory server
 * (@modelcontextprotocol/server-memory: entities, relations, observations)
 * with the same results, every change a signed block, plus maif's own:
 * remember, recall, verify, history, prove. Resources: the knowledge
 * graph and every block. docs/MCP.md is the contract.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "mcp.h"

#define MCP_LINE_MAX (4u << 20)       /* longest message read */
#define MCP_PAGE 100                  /* resources per resources/list page */
#define MCP_READ_MAX (16u << 20)      /* largest block resources/read returns */
#define MCP_RECALL_MAX 100            /* most results recall returns */
#define TYPE_MEMG MAIF_FOURCC('M', 'E', 'M', 'G')

static const char *const versions[] = {"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"};

typedef struct srv {
    const char *path;
    maif_key *key;
    mcp_graph g;
} srv;

/* ---- output */

static void send_json(json_t *msg)
{
    char *s = json_dumps(msg, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (s) {
        fputs(s, stdout);
        fputc('\n', stdout);
        fflush(stdout);
        free(s);
    }
    json_decref(msg);
}

static void reply(json_t *id, json_t *result)
{
    send_json(json_pack("{s:s, s:O, s:O}", "jsonrpc", "2.0", "id", id ? id : json_null(), "result", result));
}

static void reply_error(json_t *id, int code, const char *msg)
{
    send_json(json_pack("{s:s, s:O, s:{s:i, s:s}}", "jsonrpc", "2.0", "id", id ? id : json_null(), "error", "code", code,
                        "message", msg));
}

/* A tool's result: the text (JSON of result, indented as JSON.stringify(x,
 * null, 2) indents) and the same as structuredContent. */
static json_t *tool_result(json_t *result, const char *text)
{
    char *t = text ? NULL : json_dumps(result, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_t *r = json_pack("{s:[{s:s, s:s}], s:o}", "content", "type", "text", "text", text ? text : t ? t : "",
                          "structuredContent", result);
    free(t);
    return r;
}

static json_t *tool_error(const char *msg)
{
    return json_pack("{s:[{s:s, s:s}], s:b}", "content", "type", "text", "text", msg, "isError", 1);
}

/* ---- the artifact */

/* Replays MEMG blocks added since the last sync (by this server or any
 * other writer). Returns 0 or a library error (message set). */
static int sync_graph(srv *s)
{
    maif_reader *r = NULL;
    int rc = maif_reader_open(&r, s->path);
    if (rc) return rc;
    uint64_t n = maif_reader_count(r);
    for (uint64_t i = s->g.applied; i < n; i++) {
        maif_block b;
        if ((rc = maif_reader_block(r, i, &b))) break;
        if (b.type != TYPE_MEMG) continue;
        json_error_t je;
        json_t *c = b.codec || b.cipher ? NULL : json_loadb((const char *)b.payload, b.payload_size, 0, &je);
        if (!c || mcp_graph_apply(&s->g, c) != 0)
            fprintf(stderr, "maif mcp: %s: block %llu is not a memory-graph change; skipped\n", s->path,
                    (unsigned long long)i);
        json_decref(c);
    }
    if (rc == 0) s->g.applied = n;
    maif_reader_close(r);
    return rc;
}

static int open_writer(srv *s, maif_writer **w)
{
    maif_options *opt = NULL;
    int rc = maif_options_create(&opt);
    if (rc == 0) rc = maif_options_set(opt, MAIF_OPT_DURABLE, 1);
    if (rc == 0) rc = maif_options_set(opt, MAIF_OPT_LOCK_WAIT_MS, 10000);
    if (rc == 0) rc = maif_writer_open(w, s->path, s->key, opt);
    maif_options_free(opt);
    return rc;
}

/* Appends one block and commits it; *index and id (may be NULL) get its place. */
static int append_block(maif_writer *w, uint32_t type, const char *payload, size_t n, const char *meta, uint64_t *index,
                        uint8_t *id)
{
    maif_block_spec spec = {.type = type, .payload = payload, .payload_size = n, .meta_json = meta,
                            .meta_size = meta ? strlen(meta) : 0};
    uint64_t at = maif_writer_count(w);
    uint8_t tmp[MAIF_ID_BYTES];
    int rc = maif_writer_add(w, &spec, id ? id : tmp);
    if (rc == 0) rc = maif_writer_commit(w);
    if (rc == 0 && index) *index = at;
    return rc;
}

static json_t *lib_error(const char *what, int rc)
{
    char msg[700];
    snprintf(msg, sizeof msg, "%s: %s", what, *maif_last_errmsg() ? maif_last_errmsg() : maif_strerror(rc));
    return tool_error(msg);
}

/* The memory-server tools that change the graph: worked out and logged
 * under the writer's lock, so concurrent servers on one artifact apply
 * their changes in one order. */
static json_t *graph_change(srv *s, const char *tool, json_t *args, int *bad)
{
    maif_writer *w = NULL;
    int rc = open_writer(s, &w);
    if (rc) return lib_error("opening the artifact for writing", rc);
    if ((rc = sync_graph(s))) {
        maif_writer_close(w);
        return lib_error("reading the artifact", rc);
    }
    json_t *change = NULL, *result = NULL;
    const char *err = NULL;
    int k = mcp_graph_change(&s->g, tool, args, &change, &result, &err);
    if (k == MCP_BAD_ARGS) {
        maif_writer_close(w);
        *bad = 1;
        return NULL;
    }
    if (k == MCP_TOOL_ERROR) {
        maif_writer_close(w);
        return tool_error(err);
    }
    if (change) {
        char *payload = json_dumps(change, JSON_COMPACT | JSON_PRESERVE_ORDER);
        char meta[128];
        snprintf(meta, sizeof meta, "{\"mcp\":\"memory\",\"op\":\"%s\"}", tool);
        rc = payload ? append_block(w, TYPE_MEMG, payload, strlen(payload), meta, NULL, NULL) : MAIF_ENOMEM;
        free(payload);
        json_decref(change);
        if (rc) {
            maif_writer_close(w);
            json_decref(result);
            return lib_error("saving the change", rc);
        }
    }
    rc = maif_writer_close(w);
    if (rc == 0) rc = sync_graph(s);
    if (rc) {
        json_decref(result);
        return lib_error("saving the change", rc);
    }
    const char *msg = json_string_value(json_object_get(result, "message"));
    if (msg) return tool_result(result, msg);
    /* the text is the list itself, as the reference prints it */
    json_t *list = json_object_size(result) == 1 ? json_object_iter_value(json_object_iter(result)) : result;
    char *t = json_dumps(list, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_t *r = tool_result(result, t ? t : "");
    free(t);
    return r;
}

/* A block argument: a number or a 32-hex id. */
static int block_arg(maif_reader *r, json_t *v, uint64_t *index)
{
    if (json_is_integer(v) && json_integer_value(v) >= 0 && (uint64_t)json_integer_value(v) < maif_reader_count(r)) {
        *index = (uint64_t)json_integer_value(v);
        return 0;
    }
    uint8_t id[MAIF_ID_BYTES];
    if (json_is_string(v) && json_string_length(v) == 2 * MAIF_ID_BYTES &&
        maif_unhex(json_string_value(v), id, MAIF_ID_BYTES) == 0 && maif_reader_find(r, id, index) == 0)
        return 0;
    return -1;
}

static json_t *tool_remember(srv *s, json_t *args, int *bad)
{
    json_t *text = json_object_get(args, "text"), *meta = json_object_get(args, "metadata");
    if (!json_is_string(text) || (meta && !json_is_object(meta))) {
        *bad = 1;
        return NULL;
    }
    json_t *m = meta ? json_deep_copy(meta) : json_object();
    if (!json_object_get(m, "source")) json_object_set_new(m, "source", json_string("mcp"));
    char *ms = json_dumps(m, JSON_COMPACT);
    json_decref(m);
    maif_writer *w = NULL;
    int rc = ms ? open_writer(s, &w) : MAIF_ENOMEM;
    uint64_t index = 0;
    uint8_t id[MAIF_ID_BYTES];
    /* the text and its embedding (the built-in hashed embedder, with the
     * artifact's IDF table when it has one) in one commit, so recall finds
     * it by meaning as well as by words */
    maif_reader *r = NULL;
    maif_embedder *e = NULL;
    float *v = NULL;
    if (rc == 0 && maif_reader_open(&r, s->path) == 0 && maif_embedder_open(&e, "hashed", r) == 0 &&
        (v = malloc(sizeof *v * maif_embedder_dim(e))) &&
        maif_embedder_embed(e, json_string_value(text), json_string_length(text), v) != 0) {
        free(v);
        v = NULL;
    }
    if (rc == 0) {
        maif_block_spec spec = {.type = MAIF_TYPE_TEXT, .payload = json_string_value(text),
                                .payload_size = json_string_length(text), .meta_json = ms, .meta_size = strlen(ms)};
        index = maif_writer_count(w);
        rc = maif_writer_add(w, &spec, id);
        if (rc == 0 && v)
            rc = maif_writer_add_embedding_bound(w, e, v, id, json_string_value(text), json_string_length(text), NULL);
        if (rc == 0) rc = maif_writer_commit(w);
    }
    free(v);
    maif_embedder_close(e);
    maif_reader_close(r);
    free(ms);
    json_t *err = rc ? lib_error("remember", rc) : NULL;
    if (w && (rc = maif_writer_close(w)) && !err) err = lib_error("remember", rc);
    if (err) return err;
    char hex[2 * MAIF_ID_BYTES + 1];
    return tool_result(json_pack("{s:I, s:s}", "block", (json_int_t)index, "id", maif_hex(id, MAIF_ID_BYTES, hex)), NULL);
}

static json_t *tool_verify(srv *s)
{
    maif_report *rep = NULL;
    int rc = maif_verify_file(s->path, NULL, &rep);
    if (rc) return lib_error("verify", rc);
    json_t *f = json_array();
    for (size_t i = 0; i < maif_report_count(rep); i++) {
        const maif_finding *x = maif_report_finding(rep, i);
        static const char *sev[] = {"info", "warning", "error"};
        json_array_append_new(f, json_pack("{s:s, s:s, s:I, s:s}", "severity", sev[x->severity > 2 ? 2 : x->severity], "code",
                                           x->code, "block", (json_int_t)x->block, "message", x->message));
    }
    json_t *res = json_pack("{s:b, s:I, s:o}", "ok", maif_report_ok(rep), "blocks", (json_int_t)maif_report_blocks(rep),
                            "findings", f);
    maif_report_free(rep);
    return tool_result(res, NULL);
}

static json_t *tool_history(srv *s, json_t *args, int *bad)
{
    maif_reader *r = NULL;
    int rc = maif_reader_open(&r, s->path);
    if (rc) return lib_error("history", rc);
    uint64_t index;
    if (block_arg(r, json_object_get(args, "block"), &index)) {
        maif_reader_close(r);
        *bad = 1;
        return NULL;
    }
    maif_block b;
    size_t n = 0;
    uint64_t *v = NULL;
    rc = maif_reader_block(r, index, &b);
    if (rc == 0) rc = maif_reader_history(r, b.id, NULL, 0, &n);
    if (rc == MAIF_ELIMIT || (rc == 0 && n)) {
        v = malloc(sizeof *v * (n ? n : 1));
        rc = v ? maif_reader_history(r, b.id, v, n, &n) : MAIF_ENOMEM;
    }
    json_t *out = NULL;
    if (rc == 0) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++) {
            maif_block x;
            char hex[2 * MAIF_ID_BYTES + 1], tb[8];
            if (maif_reader_block(r, v[i], &x) == 0)
                json_array_append_new(arr, json_pack("{s:I, s:s, s:s, s:I}", "block", (json_int_t)v[i], "id",
                                                     maif_hex(x.id, MAIF_ID_BYTES, hex), "type", cli_type_label(x.type, tb),
                                                     "timestamp_us", (json_int_t)x.timestamp_us));
        }
        out = tool_result(json_pack("{s:o}", "versions", arr), NULL);
    } else {
        out = lib_error("history", rc);
    }
    free(v);
    maif_reader_close(r);
    return out;
}

static json_t *tool_prove(srv *s, json_t *args, int *bad)
{
    maif_reader *r = NULL;
    int rc = maif_reader_open(&r, s->path);
    if (rc) return lib_error("prove", rc);
    uint64_t index;
    if (block_arg(r, json_object_get(args, "block"), &index)) {
        maif_reader_close(r);
        *bad = 1;
        return NULL;
    }
    maif_proof *p = NULL;
    size_t len = 0;
    char *buf = NULL;
    rc = maif_reader_prove_inclusion(r, index, MAIF_COMMIT_LAST, &p);
    if (rc == 0 && (rc = maif_proof_json(p, NULL, 0, &len)) == MAIF_ELIMIT)
        rc = (buf = malloc(len + 1)) ? maif_proof_json(p, buf, len + 1, &len) : MAIF_ENOMEM;
    json_t *out;
    json_error_t je;
    json_t *doc = rc == 0 ? json_loadb(buf, len, 0, &je) : NULL;
    out = doc ? tool_result(doc, NULL) : lib_error("prove", rc ? rc : MAIF_EFORMAT);
    free(buf);
    maif_proof_free(p);
    maif_reader_close(r);
    return out;
}

/* recall: the semantic engine's search (hybrid: the vector index of the
 * latest model fused with BM25; BM25 alone when nothing is embedded yet). */
static json_t *tool_recall(srv *s, json_t *args, int *bad)
{
    json_t *q = json_object_get(args, "query"), *k = json_object_get(args, "k");
    if (!json_is_string(q) || (k && (!json_is_integer(k) || json_integer_value(k) < 1 ||
                                      json_integer_value(k) > MCP_RECALL_MAX))) {
        *bad = 1;
        return NULL;
    }
    maif_reader *r = NULL;
    maif_index *ix = NULL;
    maif_search *se = NULL;
    int rc = maif_reader_open(&r, s->path);
    if (rc == 0) rc = maif_index_open(&ix, r, NULL);
    if (rc == 0) rc = maif_search_create(&se);
    if (rc == 0) rc = maif_search_set(se, MAIF_SEARCH_K, k ? json_integer_value(k) : 5);
    if (rc == 0) rc = maif_search_set(se, MAIF_SEARCH_TYPE, MAIF_TYPE_TEXT);
    if (rc == 0) rc = maif_search_set_text(se, json_string_value(q), json_string_length(q));
    maif_index_info info;
    if (rc == 0 && maif_index_get_info(ix, &info) == 0 && info.dimensions == 0)
        rc = maif_search_set(se, MAIF_SEARCH_MODE, MAIF_MODE_TEXT);
    if (rc == 0) rc = maif_search_run(se, ix);
    json_t *out;
    if (rc) {
        out = lib_error("recall", rc);
    } else {
        json_t *arr = json_array();
        for (size_t i = 0; i < maif_search_count(se); i++) {
            maif_search_hit h;
            char hex[2 * MAIF_ID_BYTES + 1];
            if (maif_search_result(se, i, &h)) break;
            json_t *snip = json_stringn(h.snippet, h.snippet_size);
            json_array_append_new(arr, json_pack("{s:I, s:s, s:f, s:o}", "block", (json_int_t)h.block, "id",
                                                 maif_hex(h.id, MAIF_ID_BYTES, hex), "score", h.score, "text",
                                                 snip ? snip : json_string("")));
        }
        out = tool_result(json_pack("{s:o}", "results", arr), NULL);
    }
    maif_search_free(se);
    maif_index_close(ix);
    maif_reader_close(r);
    return out;
}

/* ---- tools/list */

static const char *const tools_json =
    "["
    "{\"name\":\"create_entities\",\"title\":\"Create Entities\",\"description\":\"Create multiple new entities in the knowledge graph\","
    "\"inputSchema\":{\"type\":\"object\",\"properties\":{\"entities\":{\"type\":\"array\",\"items\":{\"$ref\":\"#/$defs/entity\"}}},\"required\":[\"entities\"],"
    "\"$defs\":{\"entity\":{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\",\"description\":\"The name of the entity\"},"
    "\"entityType\":{\"type\":\"string\",\"description\":\"The type of the entity\"},\"observations\":{\"type\":\"array\",\"items\":{\"type\":\"string\"},"
    "\"description\":\"An array of observation contents associated with the entity\"}},\"required\":[\"name\",\"entityType\",\"observations\"]}}},"
    "\"outputSchema\":{\"type\":\"object\",\"properties\":{\"entities\":{\"type\":\"array\"}},\"required\":[\"entities\"]}},"
    "{\"name\":\"create_relations\",\"title\":\"Create Relations\",\"description\":\"Create multiple new relations between entities in the knowledge graph. Relations should be in active voice\","
    "\"inputSchema\":{\"type\":\"object\",\"properties\":{\"relations\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":{"
    "\"from\":{\"type\":\"string\"},\"to\":{\"type\":\"string\"},\"relationType\":{\"type\":\"string\"}},\"required\":[\"from\",\"to\",\"relationType\"]}}},\"required\":[\"relations\"]},"
    "\"outputSchema\":{\"type\":\"object\",\"properties\":{\"relations\":{\"type\":\"array\"}},\"required\":[\"relations\"]}},"
    "{\"name\":\"add_observations\",\"title\":\"Add Observations\",\"description\":\"Add new observations to existing entities in the knowledge graph\","
    "\"inputSchema\":{\"type\":\"object\",\"properties\":{\"observations\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":{"
    "\"entityName\":{\"type\":\"string\"},\"contents\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}}},\"required\":[\"entityName\",\"contents\"]}}},\"required\":[\"observations\"]},"
    "\"outputSchema\":{\"type\":\"object\",\"properties\":{\"results\":{\"type\":\"array\"}},\"required\":[\"results\"]}},"
    "{\"name\":\"delete_entities\",\"title\":\"Delete Entities\",\"description\":\"Delete multiple entities and their associated relations from the knowledge graph\","
    "\"inputSchema\":{\"type\":\"object\",\"properties\":{\"entityNames\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}}},\"required\":[\"entityNames\"]},"
    "\"outputSchema\":{\"type\":\"object\",\"properties\":{\"success\":{\"type\":\"boolean\"},\"message\":{\"type\":\"string\"}},\"required\":[\"success\",\"message\"]}},"
    "{\"name\":\"delete_observations\",\"title\":\"Delete Observations\",\"description\":\"Delete specific observations from entities in the knowledge graph\","
    "\"inputSchema\":{\"type\":\"object\",\"properties\":{\"deletions\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":{"
    "\"entityName\":{\"type\":\"string\"},\"observations\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}}},\"required\":[\"entityName\",\"observations\"]}}},\"required\":[\"deletions\"]},"
    "\"outputSchema\":{\"type\":\"object\",\"properties\":{\"success\":{\"type\":\"boolean\"},\"message\":{\"type\":\"string\"}},\"required\":[\"success\",\"message\"]}},"
    "{\"name\":\"delete_relations\",\"title\":\"Delete Relations\",\"description\":\"Delete multiple relations from the knowledge graph\","
    "\"inputSchema\":{\"type\":\"object\",\"properties\":{\"relations\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":{"
    "\"from\":{\"type\":\"string\"},\"to\":{\"type\":\"string\"},\"relationType\":{\"type\":\"string\"}},\"required\":[\"from\",\"to\",\"relationType\"]}}},\"required\":[\"relations\"]},"
    "\"outputSchema\":{\"type\":\"object\",\"properties\":{\"success\":{\"type\":\"boolean\"},\"message\":{\"type\":\"string\"}},\"required\":[\"success\",\"message\"]}},"
    "{\"name\":\"read_graph\",\"title\":\"Read Graph\",\"description\":\"Read the entire knowledge graph\",\"inputSchema\":{\"type\":\"object\",\"properties\":{}},"
    "\"outputSchema\":{\"type\":\"object\",\"properties\":{\"entities\":{\"type\":\"array\"},\"relations\":{\"type\":\"array\"}},\"required\":[\"entities\",\"relations\"]}},"
    "{\"name\":\"search_nodes\",\"title\":\"Search Nodes\",\"description\":\"Search for nodes in the knowledge graph based on a query\","
    "\"inputSchema\":{\"type\":\"object\",\"properties\":{\"query\":{\"type\":\"string\",\"description\":\"The search query to match against entity names, types, and observation content\"}},\"required\":[\"query\"]},"
    "\"outputSchema\":{\"type\":\"object\",\"properties\":{\"entities\":{\"type\":\"array\"},\"relations\":{\"type\":\"array\"}},\"required\":[\"entities\",\"relations\"]}},"
    "{\"name\":\"open_nodes\",\"title\":\"Open Nodes\",\"description\":\"Open specific nodes in the knowledge graph by their names\","
    "\"inputSchema\":{\"type\":\"object\",\"properties\":{\"names\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}}},\"required\":[\"names\"]},"
    "\"outputSchema\":{\"type\":\"object\",\"properties\":{\"entities\":{\"type\":\"array\"},\"relations\":{\"type\":\"array\"}},\"required\":[\"entities\",\"relations\"]}},"
    "{\"name\":\"remember\",\"title\":\"Remember\",\"description\":\"Store a text memory, with optional metadata, as a signed block of the artifact\","
    "\"inputSchema\":{\"type\":\"object\",\"properties\":{\"text\":{\"type\":\"string\"},\"metadata\":{\"type\":\"object\"}},\"required\":[\"text\"]}},"
    "{\"name\":\"recall\",\"title\":\"Recall\",\"description\":\"Find stored memories by meaning (semantic and full-text search)\","
    "\"inputSchema\":{\"type\":\"object\",\"properties\":{\"query\":{\"type\":\"string\"},\"k\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":100}},\"required\":[\"query\"]}},"
    "{\"name\":\"verify\",\"title\":\"Verify\",\"description\":\"Verify the whole artifact: hash chain, signatures, structure\",\"inputSchema\":{\"type\":\"object\",\"properties\":{}}},"
    "{\"name\":\"history\",\"title\":\"History\",\"description\":\"Every version of an item (a block number or 32-hex id), oldest first\","
    "\"inputSchema\":{\"type\":\"object\",\"properties\":{\"block\":{\"type\":[\"integer\",\"string\"]}},\"required\":[\"block\"]}},"
    "{\"name\":\"prove\",\"title\":\"Prove\",\"description\":\"An inclusion proof of a block against the last signed commit (check it with maif check-proof)\","
    "\"inputSchema\":{\"type\":\"object\",\"properties\":{\"block\":{\"type\":[\"integer\",\"string\"]}},\"required\":[\"block\"]}}"
    "]";

/* ---- resources */

static const char *mime_of(uint32_t type)
{
    return type == MAIF_TYPE_TEXT ? "text/plain" : type == MAIF_TYPE_JSON || type == TYPE_MEMG ? "application/json"
                                                                                               : "application/octet-stream";
}

static char *base64(const uint8_t *p, size_t n)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *o = malloc(4 * ((n + 2) / 3) + 1), *q = o;
    if (!o) return NULL;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
        *q++ = tbl[v >> 18 & 63];
        *q++ = tbl[v >> 12 & 63];
        *q++ = i + 1 < n ? tbl[v >> 6 & 63] : '=';
        *q++ = i + 2 < n ? tbl[v & 63] : '=';
    }
    *q = 0;
    return o;
}

static void resources_list(srv *s, json_t *id, json_t *params)
{
    json_t *cur = json_object_get(params, "cursor");
    uint64_t start = 0;
    if (cur && (!json_is_string(cur) || !cli_parse_u64(json_string_value(cur), &start))) {
        reply_error(id, -32602, "invalid cursor");
        return;
    }
    maif_reader *r = NULL;
    if (maif_reader_open(&r, s->path)) {
        reply_error(id, -32603, maif_last_errmsg());
        return;
    }
    json_t *list = json_array();
    if (start == 0)
        json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s}", "uri", "memory://knowledge-graph", "name",
                                              "knowledge-graph", "title", "Knowledge Graph", "mimeType", "application/json"));
    uint64_t n = maif_reader_count(r), end = start + MCP_PAGE < n ? start + MCP_PAGE : n;
    for (uint64_t i = start; i < end; i++) {
        maif_block b;
        char hex[2 * MAIF_ID_BYTES + 1], uri[64], name[64], tb[8];
        if (maif_reader_block(r, i, &b)) continue;
        snprintf(uri, sizeof uri, "maif://block/%s", maif_hex(b.id, MAIF_ID_BYTES, hex));
        snprintf(name, sizeof name, "block %llu (%s)", (unsigned long long)i, cli_type_label(b.type, tb));
        json_array_append_new(list, json_pack("{s:s, s:s, s:s}", "uri", uri, "name", name, "mimeType", mime_of(b.type)));
    }
    json_t *res = json_pack("{s:o}", "resources", list);
    if (end < n) {
        char next[24];
        snprintf(next, sizeof next, "%llu", (unsigned long long)end);
        json_object_set_new(res, "nextCursor", json_string(next));
    }
    maif_reader_close(r);
    reply(id, res);
    json_decref(res);
}

static void resources_read(srv *s, json_t *id, json_t *params)
{
    const char *uri = json_string_value(json_object_get(params, "uri"));
    if (!uri) {
        reply_error(id, -32602, "resources/read needs a uri");
        return;
    }
    if (strcmp(uri, "memory://knowledge-graph") == 0) {
        json_t *g = NULL;
        if (sync_graph(s) || mcp_graph_query(&s->g, "read_graph", NULL, &g)) {
            reply_error(id, -32603, maif_last_errmsg());
            return;
        }
        char *t = json_dumps(g, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        json_decref(g);
        json_t *res = json_pack("{s:[{s:s, s:s, s:s}]}", "contents", "uri", uri, "mimeType", "application/json", "text", t ? t : "");
        free(t);
        reply(id, res);
        json_decref(res);
        return;
    }
    uint8_t bid[MAIF_ID_BYTES];
    if (strncmp(uri, "maif://block/", 13) != 0 || strlen(uri + 13) != 2 * MAIF_ID_BYTES ||
        maif_unhex(uri + 13, bid, MAIF_ID_BYTES)) {
        reply_error(id, -32002, "Resource not found");
        return;
    }
    maif_reader *r = NULL;
    uint64_t index;
    maif_block b;
    size_t n = 0;
    if (maif_reader_open(&r, s->path)) {
        reply_error(id, -32603, maif_last_errmsg());
        return;
    }
    if (maif_reader_find(r, bid, &index) || maif_reader_block(r, index, &b)) {
        maif_reader_close(r);
        reply_error(id, -32002, "Resource not found");
        return;
    }
    int rc = maif_reader_block_decoded_size(r, index, &n);
    uint8_t *data = NULL;
    if (rc == 0 && n > MCP_READ_MAX) rc = MAIF_ELIMIT;
    if (rc == 0 && !(data = malloc(n ? n : 1))) rc = MAIF_ENOMEM;
    if (rc == 0) rc = maif_reader_block_decode(r, index, data, n, &n);
    if (rc) {
        char msg[600];
        snprintf(msg, sizeof msg, "cannot read the block: %s", rc == MAIF_ELIMIT ? "larger than 16 MiB" : maif_last_errmsg());
        reply_error(id, -32603, msg);
    } else {
        json_t *c = json_pack("{s:s, s:s}", "uri", uri, "mimeType", mime_of(b.type));
        json_t *txt = b.type == MAIF_TYPE_TEXT || b.type == MAIF_TYPE_JSON || b.type == TYPE_MEMG
                          ? json_stringn((const char *)data, n) : NULL; /* NULL when not UTF-8: sent as a blob */
        if (txt) {
            json_object_set_new(c, "text", txt);
        } else {
            char *b64 = base64(data, n);
            json_object_set_new(c, "blob", json_string(b64 ? b64 : ""));
            free(b64);
        }
        json_t *res = json_pack("{s:[o]}", "contents", c);
        reply(id, res);
        json_decref(res);
    }
    free(data);
    maif_reader_close(r);
}

/* ---- dispatch */

static void tools_call(srv *s, json_t *id, json_t *params)
{
    const char *name = json_string_value(json_object_get(params, "name"));
    json_t *args = json_object_get(params, "arguments");
    if (!name) {
        reply_error(id, -32602, "tools/call needs a tool name");
        return;
    }
    json_t *empty = NULL;
    if (!args) args = empty = json_object();
    if (!json_is_object(args)) {
        reply_error(id, -32602, "arguments must be an object");
        return;
    }
    int bad = 0;
    json_t *res = NULL, *q = NULL;
    int k = mcp_graph_query(&s->g, name, args, &q);
    if (k != MCP_NO_TOOL) {
        if (k == 0 && sync_graph(s) == 0) {
            json_decref(q);
            mcp_graph_query(&s->g, name, args, &q);
            char *t = json_dumps(q, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
            res = tool_result(q, t ? t : "");
            free(t);
        } else if (k == 0) {
            json_decref(q);
            res = lib_error("reading the artifact", MAIF_EIO);
        } else {
            bad = 1;
        }
    } else if (strcmp(name, "create_entities") == 0 || strcmp(name, "create_relations") == 0 ||
               strcmp(name, "add_observations") == 0 || strcmp(name, "delete_entities") == 0 ||
               strcmp(name, "delete_observations") == 0 || strcmp(name, "delete_relations") == 0) {
        res = graph_change(s, name, args, &bad);
    } else if (strcmp(name, "remember") == 0) {
        res = tool_remember(s, args, &bad);
    } else if (strcmp(name, "recall") == 0) {
        res = tool_recall(s, args, &bad);
    } else if (strcmp(name, "verify") == 0) {
        res = tool_verify(s);
    } else if (strcmp(name, "history") == 0) {
        res = tool_history(s, args, &bad);
    } else if (strcmp(name, "prove") == 0) {
        res = tool_prove(s, args, &bad);
    } else {
        char msg[300];
        snprintf(msg, sizeof msg, "Tool %.200s not found", name);
        json_decref(empty);
        reply_error(id, -32602, msg);
        return;
    }
    json_decref(empty);
    if (bad) {
        char msg[300];
        snprintf(msg, sizeof msg, "Invalid arguments for tool %.200s", name);
        reply_error(id, -32602, msg);
        return;
    }
    reply(id, res);
    json_decref(res);
}

static void handle(srv *s, json_t *m)
{
    json_t *id = json_object_get(m, "id");
    const char *method = json_string_value(json_object_get(m, "method"));
    int valid_id = id && (json_is_string(id) || json_is_integer(id));
    if (!json_is_object(m) || !json_is_string(json_object_get(m, "jsonrpc")) ||
        strcmp(json_string_value(json_object_get(m, "jsonrpc")), "2.0") != 0 || !method || (id && !valid_id)) {
        /* a response from the client (result or error, no method) needs no answer */
        if (json_is_object(m) && valid_id && !method && (json_object_get(m, "result") || json_object_get(m, "error"))) return;
        reply_error(valid_id ? id : NULL, -32600, "Invalid Request");
        return;
    }
    json_t *params = json_object_get(m, "params");
    if (params && !json_is_object(params)) {
        if (id) reply_error(id, -32602, "params must be an object");
        return;
    }
    if (!id) return; /* notifications: initialized, cancelled, ... need no answer */
    if (strcmp(method, "initialize") == 0) {
        const char *want = json_string_value(json_object_get(params, "protocolVersion")), *v = versions[1];
        for (size_t i = 0; want && i < sizeof versions / sizeof versions[0]; i++)
            if (strcmp(want, versions[i]) == 0) v = versions[i];
        json_t *res = json_pack("{s:s, s:{s:{s:b}, s:{s:b, s:b}}, s:{s:s, s:s}, s:s}", "protocolVersion", v, "capabilities",
                                "tools", "listChanged", 0, "resources", "listChanged", 0, "subscribe", 0, "serverInfo",
                                "name", "maif", "version", maif_version_string(), "instructions",
                                "A signed, verifiable memory: the knowledge-graph tools of the reference memory server, "
                                "plus remember/recall for text, and verify/history/prove for trust.");
        reply(id, res);
        json_decref(res);
    } else if (strcmp(method, "ping") == 0) {
        json_t *res = json_object();
        reply(id, res);
        json_decref(res);
    } else if (strcmp(method, "tools/list") == 0) {
        json_error_t je;
        json_t *tools = json_loads(tools_json, 0, &je);
        json_t *res = json_pack("{s:o}", "tools", tools ? tools : json_array());
        reply(id, res);
        json_decref(res);
    } else if (strcmp(method, "tools/call") == 0) {
        tools_call(s, id, params);
    } else if (strcmp(method, "resources/list") == 0) {
        resources_list(s, id, params);
    } else if (strcmp(method, "resources/templates/list") == 0) {
        json_t *res = json_pack("{s:[]}", "resourceTemplates");
        reply(id, res);
        json_decref(res);
    } else if (strcmp(method, "resources/read") == 0) {
        resources_read(s, id, params);
    } else {
        char msg[300];
        snprintf(msg, sizeof msg, "Method not found: %.200s", method);
        reply_error(id, -32601, msg);
    }
}

/* Reads one line of at most MCP_LINE_MAX bytes into *buf. Returns its
 * length, -1 at the end of input, -2 for a longer line (skipped whole). */
static long read_line(char **buf, size_t *cap)
{
    size_t n = 0;
    int c, over = 0;
    while ((c = getchar()) != EOF && c != '\n') {
        if (over) continue;
        if (n == MCP_LINE_MAX) {
            over = 1;
            continue;
        }
        if (n + 1 >= *cap) {
            size_t nc = *cap ? *cap * 2 : 4096;
            if (nc > MCP_LINE_MAX + 1) nc = MCP_LINE_MAX + 1;
            char *nb = realloc(*buf, nc);
            if (!nb) {
                over = 1;
                continue;
            }
            *buf = nb;
            *cap = nc;
        }
        (*buf)[n++] = (char)c;
    }
    if (c == EOF && n == 0 && !over) return -1;
    if (over) return -2;
    if (n && (*buf)[n - 1] == '\r') n--;
    return (long)n;
}

static int run(int argc, char **argv)
{
    const char *keyfile = NULL;
    const cli_opt opts[] = {{"--key", CLI_VALUE, NULL, &keyfile, NULL, 0, NULL}, {0}};
    const char *pos[1];
    int np;
    const cli_command *me = &cli_cmd_mcp;
    int pr = cli_parse(me, argc, argv, opts, pos, 1, 1, &np);
    if (pr == CLI_PARSE_HELP) return cli_help(me);
    if (pr != CLI_PARSE_OK) return CLI_EXIT_USAGE;
    srv s = {pos[0], NULL, {0}};
    int ex = cli_load_key(keyfile, &s.key);
    if (ex) return ex;
    /* a new artifact when there is none yet */
    if (access(s.path, F_OK) != 0) {
        maif_writer *w = NULL;
        int rc = maif_writer_create(&w, s.path, s.key, "mcp", NULL);
        if (rc == 0) rc = maif_writer_close(w);
        if (rc) {
            maif_key_free(s.key);
            return cli_fail(s.path, rc, maif_last_errmsg());
        }
    }
    mcp_graph_init(&s.g);
    int rc = sync_graph(&s);
    if (rc) {
        mcp_graph_free(&s.g);
        maif_key_free(s.key);
        return cli_fail(s.path, rc, maif_last_errmsg());
    }
    fprintf(stderr, "maif mcp: serving %s on stdio\n", s.path);
    char *buf = NULL;
    size_t cap = 0;
    long n;
    while ((n = read_line(&buf, &cap)) != -1) {
        if (n == -2) {
            char msg[96];
            snprintf(msg, sizeof msg, "message larger than %u bytes", MCP_LINE_MAX);
            reply_error(NULL, -32600, msg);
            continue;
        }
        if (n == 0) continue;
        json_error_t je;
        json_t *m = json_loadb(buf, (size_t)n, JSON_REJECT_DUPLICATES, &je);
        if (!m) {
            reply_error(NULL, -32700, "Parse error");
            continue;
        }
        handle(&s, m);
        json_decref(m);
    }
    free(buf);
    mcp_graph_free(&s.g);
    maif_key_free(s.key);
    return CLI_EXIT_OK;
}

const cli_command cli_cmd_mcp = {
    "mcp", run, "serve an artifact as agent memory over the Model Context Protocol (stdio)",
    "usage: maif mcp FILE [--key KEYFILE]\n"
    "\n"
    "Speaks the Model Context Protocol (JSON-RPC 2.0, one message a line, on\n"
    "stdin and stdout) so that an MCP client uses FILE as its memory. FILE is\n"
    "created if missing; every change is a block signed with KEYFILE (default:\n"
    "the default key) and committed durably before the answer.\n"
    "\n"
    "Tools: those of the reference memory server (create_entities,\n"
    "create_relations, add_observations, delete_entities, delete_observations,\n"
    "delete_relations, read_graph, search_nodes, open_nodes), with the same\n"
    "results; and remember (text + metadata), recall (search), verify, history\n"
    "(versions of a block), prove (inclusion proof). Resources: the knowledge\n"
    "graph (memory://knowledge-graph) and every block (maif://block/ID).\n"
    "A deleted entity is gone from the graph, but the blocks that recorded it\n"
    "stay in the artifact: it is an append-only, signed log (docs/MCP.md).\n"
    "\n"
    "Client configuration (e.g. Claude Desktop's mcpServers):\n"
    "  {\"maif\": {\"command\": \"maif\", \"args\": [\"mcp\", \"/path/memory.maif\"]}}\n"
    "\n"
    "Messages longer than 4 MiB, malformed JSON, unknown methods and tools get\n"
    "a JSON-RPC error; the server keeps serving. Logs go to stderr.\n"
    "exit codes: 0 at the end of input; 1 FILE too damaged to open; 2 usage\n"
    "error or a bad key.\n",
};
