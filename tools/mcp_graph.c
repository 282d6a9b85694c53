/*
 * mcp_graph.c — the knowledge graph of `maif mcp`: the entities (name,
 * type, observations) and relations (from, to, type) of the Model Context
 * Protocol's reference memory server, with the same rules for each
 * change, kept as a log of signed MEMG blocks in the artifact
 * (docs/FORMAT.md §5.3, docs/MCP.md). The state in memory is the replay of
 * that log; each change that alters it appends one block and commits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcp.h"

void mcp_graph_init(mcp_graph *g)
{
    g->entities = json_array();
    g->relations = json_array();
    g->applied = 0;
}

void mcp_graph_free(mcp_graph *g)
{
    json_decref(g->entities);
    json_decref(g->relations);
    g->entities = g->relations = NULL;
}

static json_t *find_entity(const mcp_graph *g, const char *name)
{
    size_t i;
    json_t *e;
    json_array_foreach(g->entities, i, e) {
        if (strcmp(json_string_value(json_object_get(e, "name")), name) == 0) return e;
    }
    return NULL;
}

static int same_relation(json_t *a, json_t *b)
{
    static const char *k[3] = {"from", "to", "relationType"};
    for (int i = 0; i < 3; i++)
        if (strcmp(json_string_value(json_object_get(a, k[i])), json_string_value(json_object_get(b, k[i]))) != 0)
            return 0;
    return 1;
}

static int in_strings(json_t *arr, const char *s)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) {
        if (json_is_string(v) && strcmp(json_string_value(v), s) == 0) return 1;
    }
    return 0;
}

/* ---- argument checks: the shapes the reference server's schemas accept */

static int is_string_array(json_t *a)
{
    if (!json_is_array(a)) return 0;
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v) {
        if (!json_is_string(v)) return 0;
    }
    return 1;
}

static int is_entity(json_t *e)
{
    return json_is_object(e) && json_is_string(json_object_get(e, "name")) &&
           json_is_string(json_object_get(e, "entityType")) && is_string_array(json_object_get(e, "observations"));
}

static int is_relation(json_t *r)
{
    return json_is_object(r) && json_is_string(json_object_get(r, "from")) && json_is_string(json_object_get(r, "to")) &&
           json_is_string(json_object_get(r, "relationType"));
}

static int each(json_t *arr, int (*ok)(json_t *))
{
    if (!json_is_array(arr)) return 0;
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) {
        if (!ok(v)) return 0;
    }
    return 1;
}

static int is_obs_add(json_t *o)
{
    return json_is_object(o) && json_is_string(json_object_get(o, "entityName")) &&
           is_string_array(json_object_get(o, "contents"));
}

static int is_obs_del(json_t *o)
{
    return json_is_object(o) && json_is_string(json_object_get(o, "entityName")) &&
           is_string_array(json_object_get(o, "observations"));
}

static json_t *entity_copy(json_t *e)
{
    return json_pack("{s:O, s:O, s:O}", "name", json_object_get(e, "name"), "entityType", json_object_get(e, "entityType"),
                     "observations", json_object_get(e, "observations"));
}

static json_t *relation_copy(json_t *r)
{
    return json_pack("{s:O, s:O, s:O}", "from", json_object_get(r, "from"), "to", json_object_get(r, "to"), "relationType",
                     json_object_get(r, "relationType"));
}

/* ---- the changes. Each computes its effect on g from args; *change gets
 * the log record to append (NULL when nothing changes), *result what the
 * tool returns. Returns 0, MCP_BAD_ARGS, or MCP_TOOL_ERROR with *err. */

static int create_entities(mcp_graph *g, json_t *args, json_t **change, json_t **result, const char **err)
{
    json_t *in = json_object_get(args, "entities");
    if (!each(in, is_entity)) return MCP_BAD_ARGS;
    json_t *added = json_array();
    size_t i;
    json_t *e;
    json_array_foreach(in, i, e) {
        /* as the reference: filtered against the stored graph only, so a
         * name repeated within one call is added each time */
        if (!find_entity(g, json_string_value(json_object_get(e, "name")))) json_array_append_new(added, entity_copy(e));
    }
    (void)err;
    *result = json_pack("{s:O}", "entities", added);
    *change = json_array_size(added) ? json_pack("{s:s, s:o}", "op", "create_entities", "entities", added) : (json_decref(added), NULL);
    return 0;
}

static int create_relations(mcp_graph *g, json_t *args, json_t **change, json_t **result, const char **err)
{
    json_t *in = json_object_get(args, "relations");
    if (!each(in, is_relation)) return MCP_BAD_ARGS;
    json_t *added = json_array();
    size_t i, k;
    json_t *r, *x;
    json_array_foreach(in, i, r) {
        int dup = 0;
        json_array_foreach(g->relations, k, x) {
            if (same_relation(r, x)) dup = 1;
        }
        if (!dup) json_array_append_new(added, relation_copy(r));
    }
    (void)err;
    *result = json_pack("{s:O}", "relations", added);
    *change = json_array_size(added) ? json_pack("{s:s, s:o}", "op", "create_relations", "relations", added) : (json_decref(added), NULL);
    return 0;
}

static json_t *find_in(json_t *entities, const char *name)
{
    size_t i;
    json_t *e;
    json_array_foreach(entities, i, e) {
        if (strcmp(json_string_value(json_object_get(e, "name")), name) == 0) return e;
    }
    return NULL;
}

static int add_observations(mcp_graph *g, json_t *args, json_t **change, json_t **result, const char **err)
{
    json_t *in = json_object_get(args, "observations");
    if (!each(in, is_obs_add)) return MCP_BAD_ARGS;
    /* worked out on a copy, item after item, as the reference mutates its
     * graph: a later item sees what an earlier one added */
    json_t *work = json_deep_copy(g->entities), *results = json_array();
    size_t i, k;
    json_t *o, *c;
    int any = 0;
    json_array_foreach(in, i, o) {
        const char *name = json_string_value(json_object_get(o, "entityName"));
        json_t *e = find_in(work, name);
        if (!e) {
            json_decref(results);
            json_decref(work);
            static _Thread_local char msg[600];
            snprintf(msg, sizeof msg, "Entity with name %.500s not found", name);
            *err = msg;
            return MCP_TOOL_ERROR; /* as the reference: nothing is saved */
        }
        json_t *obs = json_object_get(e, "observations"), *fresh = json_array();
        json_array_foreach(json_object_get(o, "contents"), k, c) {
            if (!in_strings(obs, json_string_value(c))) json_array_append(fresh, c);
        }
        json_array_extend(obs, fresh);
        any |= json_array_size(fresh) > 0;
        json_array_append_new(results, json_pack("{s:s, s:o}", "entityName", name, "addedObservations", fresh));
    }
    json_decref(work);
    *result = json_pack("{s:O}", "results", results);
    *change = any ? json_pack("{s:s, s:o}", "op", "add_observations", "results", results) : (json_decref(results), NULL);
    return 0;
}

static int delete_entities(mcp_graph *g, json_t *args, json_t **change, json_t **result, const char **err)
{
    json_t *names = json_object_get(args, "entityNames");
    if (!is_string_array(names)) return MCP_BAD_ARGS;
    int any = 0;
    size_t i;
    json_t *e;
    json_array_foreach(g->entities, i, e) {
        any |= in_strings(names, json_string_value(json_object_get(e, "name")));
    }
    json_array_foreach(g->relations, i, e) {
        any |= in_strings(names, json_string_value(json_object_get(e, "from"))) ||
               in_strings(names, json_string_value(json_object_get(e, "to")));
    }
    (void)err;
    *result = json_pack("{s:b, s:s}", "success", 1, "message", "Entities deleted successfully");
    *change = any ? json_pack("{s:s, s:O}", "op", "delete_entities", "entityNames", names) : NULL;
    return 0;
}

static int delete_observations(mcp_graph *g, json_t *args, json_t **change, json_t **result, const char **err)
{
    json_t *in = json_object_get(args, "deletions");
    if (!each(in, is_obs_del)) return MCP_BAD_ARGS;
    int any = 0;
    size_t i, k;
    json_t *d, *o;
    json_array_foreach(in, i, d) {
        json_t *e = find_entity(g, json_string_value(json_object_get(d, "entityName")));
        if (!e) continue;
        json_array_foreach(json_object_get(e, "observations"), k, o) {
            any |= in_strings(json_object_get(d, "observations"), json_string_value(o));
        }
    }
    (void)err;
    *result = json_pack("{s:b, s:s}", "success", 1, "message", "Observations deleted successfully");
    *change = any ? json_pack("{s:s, s:O}", "op", "delete_observations", "deletions", in) : NULL;
    return 0;
}

static int delete_relations(mcp_graph *g, json_t *args, json_t **change, json_t **result, const char **err)
{
    json_t *in = json_object_get(args, "relations");
    if (!each(in, is_relation)) return MCP_BAD_ARGS;
    int any = 0;
    size_t i, k;
    json_t *r, *x;
    json_array_foreach(g->relations, i, x) {
        json_array_foreach(in, k, r) {
            any |= same_relation(r, x);
        }
    }
    (void)err;
    *result = json_pack("{s:b, s:s}", "success", 1, "message", "Relations deleted successfully");
    *change = any ? json_pack("{s:s, s:O}", "op", "delete_relations", "relations", in) : NULL;
    return 0;
}

/* Applies a logged change to g (the replay; also right after logging). */
int mcp_graph_apply(mcp_graph *g, json_t *c)
{
    const char *op = json_string_value(json_object_get(c, "op"));
    size_t i, k;
    json_t *v, *x;
    if (!op) return -1;
    if (strcmp(op, "create_entities") == 0) {
        json_t *in = json_object_get(c, "entities");
        if (!each(in, is_entity)) return -1;
        json_array_foreach(in, i, v) {
            json_array_append_new(g->entities, entity_copy(v));
        }
    } else if (strcmp(op, "create_relations") == 0) {
        json_t *in = json_object_get(c, "relations");
        if (!each(in, is_relation)) return -1;
        json_array_foreach(in, i, v) {
            json_array_append_new(g->relations, relation_copy(v));
        }
    } else if (strcmp(op, "add_observations") == 0) {
        json_t *in = json_object_get(c, "results");
        if (!json_is_array(in)) return -1;
        json_array_foreach(in, i, v) {
            json_t *e = json_is_string(json_object_get(v, "entityName"))
                            ? find_entity(g, json_string_value(json_object_get(v, "entityName")))
                            : NULL;
            json_t *add = json_object_get(v, "addedObservations");
            if (!e || !is_string_array(add)) return -1;
            json_array_extend(json_object_get(e, "observations"), add);
        }
    } else if (strcmp(op, "delete_entities") == 0) {
        json_t *names = json_object_get(c, "entityNames");
        if (!is_string_array(names)) return -1;
        json_t *keep = json_array();
        json_array_foreach(g->entities, i, v) {
            if (!in_strings(names, json_string_value(json_object_get(v, "name")))) json_array_append(keep, v);
        }
        json_decref(g->entities);
        g->entities = keep;
        keep = json_array();
        json_array_foreach(g->relations, i, v) {
            if (!in_strings(names, json_string_value(json_object_get(v, "from"))) &&
                !in_strings(names, json_string_value(json_object_get(v, "to"))))
                json_array_append(keep, v);
        }
        json_decref(g->relations);
        g->relations = keep;
    } else if (strcmp(op, "delete_observations") == 0) {
        json_t *in = json_object_get(c, "deletions");
        if (!each(in, is_obs_del)) return -1;
        json_array_foreach(in, i, v) {
            json_t *e = find_entity(g, json_string_value(json_object_get(v, "entityName")));
            if (!e) continue;
            json_t *keep = json_array();
            json_array_foreach(json_object_get(e, "observations"), k, x) {
                if (!in_strings(json_object_get(v, "observations"), json_string_value(x))) json_array_append(keep, x);
            }
            json_object_set_new(e, "observations", keep);
        }
    } else if (strcmp(op, "delete_relations") == 0) {
        json_t *in = json_object_get(c, "relations");
        if (!each(in, is_relation)) return -1;
        json_t *keep = json_array();
        json_array_foreach(g->relations, i, x) {
            int del = 0;
            json_array_foreach(in, k, v) {
                del |= same_relation(v, x);
            }
            if (!del) json_array_append(keep, x);
        }
        json_decref(g->relations);
        g->relations = keep;
    } else {
        return -1;
    }
    return 0;
}

/* search_nodes and open_nodes: entities that match, and the relations
 * with at least one end among them. */
static json_t *subgraph(const mcp_graph *g, json_t *ents)
{
    json_t *rels = json_array();
    size_t i, k;
    json_t *r, *e;
    json_array_foreach(g->relations, i, r) {
        int hit = 0;
        json_array_foreach(ents, k, e) {
            const char *n = json_string_value(json_object_get(e, "name"));
            hit |= strcmp(n, json_string_value(json_object_get(r, "from"))) == 0 ||
                   strcmp(n, json_string_value(json_object_get(r, "to"))) == 0;
        }
        if (hit) json_array_append_new(rels, relation_copy(r));
    }
    return json_pack("{s:o, s:o}", "entities", ents, "relations", rels);
}

/* Case-insensitive substring, as JavaScript's toLowerCase().includes()
 * for ASCII (other bytes compare exactly). */
static int icontains(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    if (n == 0) return 1;
    for (const char *p = hay; *p; p++) {
        size_t i = 0;
        while (i < n && p[i]) {
            unsigned char a = (unsigned char)p[i], b = (unsigned char)needle[i];
            if (a >= 'A' && a <= 'Z') a += 32;
            if (b >= 'A' && b <= 'Z') b += 32;
            if (a != b) break;
            i++;
        }
        if (i == n) return 1;
    }
    return 0;
}

int mcp_graph_query(const mcp_graph *g, const char *tool, json_t *args, json_t **result)
{
    size_t i, k;
    json_t *e, *o;
    if (strcmp(tool, "read_graph") == 0) {
        json_t *ents = json_array(), *rels = json_array();
        json_array_foreach(g->entities, i, e) json_array_append_new(ents, entity_copy(e));
        json_array_foreach(g->relations, i, e) json_array_append_new(rels, relation_copy(e));
        *result = json_pack("{s:o, s:o}", "entities", ents, "relations", rels);
        return 0;
    }
    if (strcmp(tool, "search_nodes") == 0) {
        json_t *q = json_object_get(args, "query");
        if (!json_is_string(q)) return MCP_BAD_ARGS;
        const char *query = json_string_value(q);
        json_t *ents = json_array();
        json_array_foreach(g->entities, i, e) {
            int hit = icontains(json_string_value(json_object_get(e, "name")), query) ||
                      icontains(json_string_value(json_object_get(e, "entityType")), query);
            json_array_foreach(json_object_get(e, "observations"), k, o) {
                hit |= icontains(json_string_value(o), query);
            }
            if (hit) json_array_append_new(ents, entity_copy(e));
        }
        *result = subgraph(g, ents);
        return 0;
    }
    if (strcmp(tool, "open_nodes") == 0) {
        json_t *names = json_object_get(args, "names");
        if (!is_string_array(names)) return MCP_BAD_ARGS;
        json_t *ents = json_array();
        json_array_foreach(g->entities, i, e) {
            if (in_strings(names, json_string_value(json_object_get(e, "name")))) json_array_append_new(ents, entity_copy(e));
        }
        *result = subgraph(g, ents);
        return 0;
    }
    return MCP_NO_TOOL;
}

int mcp_graph_change(mcp_graph *g, const char *tool, json_t *args, json_t **change, json_t **result, const char **err)
{
    static const struct {
        const char *name;
        int (*fn)(mcp_graph *, json_t *, json_t **, json_t **, const char **);
    } ops[] = {{"create_entities", create_entities},         {"create_relations", create_relations},
               {"add_observations", add_observations},       {"delete_entities", delete_entities},
               {"delete_observations", delete_observations}, {"delete_relations", delete_relations}};
    *change = *result = NULL;
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (strcmp(ops[i].name, tool) == 0) return json_is_object(args) ? ops[i].fn(g, args, change, result, err) : MCP_BAD_ARGS;
    return MCP_NO_TOOL;
}
