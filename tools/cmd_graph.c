/*
 * cmd_graph.c — `maif graph`: the artifact's knowledge graph (KNOW triples,
 * relationships metadata, optional near-duplicate image links), exported
 * for Graphviz or as JSON, or queried: the neighbourhood of a node, a
 * shortest path between two nodes, triples by pattern.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int write_stdout(void *ctx, const void *buf, size_t n)
{
    (void)ctx;
    return fwrite(buf, 1, n, stdout) == n ? 0 : -1;
}

/* A NODE argument: a block number, a 32-hex block id, an entity name or a
 * literal's JSON text. Returns 0, or an exit code (the error printed). */
static int resolve(const char *path, maif_reader *r, const maif_graph *g, const char *arg, uint64_t *node)
{
    uint64_t num;
    if (cli_parse_u64(arg, &num) && num < maif_reader_count(r)) {
        maif_block b;
        char hex[2 * MAIF_ID_BYTES + 1];
        if (maif_reader_block(r, num, &b) == MAIF_OK && maif_graph_lookup(g, maif_hex(b.id, MAIF_ID_BYTES, hex), node) == MAIF_OK)
            return 0;
    }
    if (maif_graph_lookup(g, arg, node) == MAIF_OK) return 0;
    cli_err(path, "no node '%s' in the graph (a block number, a block id or an entity name)", arg);
    return CLI_EXIT_USAGE;
}

static void print_node(const maif_graph *g, uint64_t i)
{
    maif_graph_node n;
    if (maif_graph_node_get(g, i, &n) != MAIF_OK) return;
    if (n.kind == MAIF_GRAPH_NODE_BLOCK && n.block >= 0)
        printf("#%lld(%s %.8s)", (long long)n.block, maif_type_name(n.type), n.name);
    else if (n.kind == MAIF_GRAPH_NODE_BLOCK)
        printf("%s", n.name);
    else if (n.kind == MAIF_GRAPH_NODE_LITERAL)
        printf("%s", n.name);
    else
        printf("\"%s\"", n.name);
}

static void print_edges(const maif_graph *g, const uint64_t *edges, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        maif_graph_edge e;
        if (maif_graph_edge_get(g, edges[i], &e) != MAIF_OK) continue;
        print_node(g, e.from);
        printf(" --%s--> ", e.predicate);
        print_node(g, e.to);
        printf("   (block %llu)\n", (unsigned long long)e.block);
    }
}

/* Calls a list-returning query twice: sized, then filled. */
#define LIST(call_with_cap, vec, n)                                                                                  \
    do {                                                                                                             \
        size_t cap_ = 0;                                                                                             \
        vec = NULL;                                                                                                  \
        for (;;) {                                                                                                   \
            size_t cap = cap_;                                                                                       \
            rc = (call_with_cap);                                                                                    \
            if (rc != MAIF_ELIMIT || n <= cap_) break;                                                               \
            free(vec);                                                                                               \
            cap_ = n;                                                                                                \
            vec = malloc(sizeof *vec * cap_);                                                                        \
            if (!vec) {                                                                                              \
                rc = MAIF_ENOMEM;                                                                                    \
                break;                                                                                               \
            }                                                                                                        \
            (void)cap;                                                                                               \
        }                                                                                                            \
    } while (0)

static int run(int argc, char **argv)
{
    int dot = 0, json = 0, near = 0, all = 0, similar = 0;
    const char *around = NULL, *depth_s = NULL, *neighbors = NULL, *from = NULL, *to = NULL, *subj = NULL,
               *pred = NULL, *obj = NULL, *identity = NULL, *passfile = NULL;
    const cli_opt opts[] = {
        {"--dot", CLI_FLAG, &dot, NULL, NULL, 0, NULL},
        {"--json", CLI_FLAG, &json, NULL, NULL, 0, NULL},
        {"--around", CLI_VALUE, NULL, &around, NULL, 0, NULL},
        {"--depth", CLI_VALUE, NULL, &depth_s, NULL, 0, NULL},
        {"--neighbors", CLI_VALUE, NULL, &neighbors, NULL, 0, NULL},
        {"--from", CLI_VALUE, NULL, &from, NULL, 0, NULL},
        {"--to", CLI_VALUE, NULL, &to, NULL, 0, NULL},
        {"--subject", CLI_VALUE, NULL, &subj, NULL, 0, NULL},
        {"--predicate", CLI_VALUE, NULL, &pred, NULL, 0, NULL},
        {"--object", CLI_VALUE, NULL, &obj, NULL, 0, NULL},
        {"--near-duplicates", CLI_FLAG, &near, NULL, NULL, 0, NULL},
        {"--similar", CLI_FLAG, &similar, NULL, NULL, 0, NULL},
        {"--all-versions", CLI_FLAG, &all, NULL, NULL, 0, NULL},
        {"--identity", CLI_VALUE, NULL, &identity, NULL, 0, NULL},
        {"--passphrase-file", CLI_VALUE, NULL, &passfile, NULL, 0, NULL},
        {0},
    };
    const char *pos[1];
    int np;
    const cli_command *me = &cli_cmd_graph;
    int pr = cli_parse(me, argc, argv, opts, pos, 1, 1, &np);
    if (pr == CLI_PARSE_HELP) return cli_help(me);
    if (pr != CLI_PARSE_OK) return CLI_EXIT_USAGE;
    const char *path = pos[0];
    int queries = (neighbors != NULL) + (from || to) + (subj || pred || obj);
    if (dot && json) return cli_usage_err(me, "give --dot or --json, not both");
    if (queries > 1) return cli_usage_err(me, "give one query: --neighbors, --from/--to, or --subject/--predicate/--object");
    if ((from != NULL) != (to != NULL)) return cli_usage_err(me, "--from and --to go together");
    if (queries && (dot || json || around)) return cli_usage_err(me, "queries print triples; --dot, --json and --around export");
    if (depth_s && !around && !from) return cli_usage_err(me, "--depth goes with --around or --from/--to");
    if (identity && passfile) return cli_usage_err(me, "give --identity or --passphrase-file, not both");
    uint64_t depth = around ? 1 : 8;
    if (depth_s && (!cli_parse_u64(depth_s, &depth) || depth > MAIF_GRAPH_DEPTH_MAX || (from && depth == 0)))
        return cli_usage_err(me, "--depth: want a number from %d to %u", from ? 1 : 0, MAIF_GRAPH_DEPTH_MAX);

    maif_keyring *kr = NULL;
    maif_reader *r = NULL;
    int ex;
    if ((identity || passfile) && (ex = cli_keyring_for_reading(identity, passfile, &kr))) return ex;
    if ((ex = cli_open_reader(path, &r))) {
        maif_keyring_free(kr);
        return ex;
    }
    maif_graph *g = NULL;
    int rc = kr ? maif_reader_set_keyring(r, kr) : MAIF_OK;
    if (rc == MAIF_OK) rc = maif_graph_build(&g, r, (near ? MAIF_GRAPH_NEAR_DUPLICATES : 0) | (all ? MAIF_GRAPH_SUPERSEDED : 0) |
                                       (similar ? MAIF_GRAPH_SIMILAR : 0));
    if (rc != MAIF_OK) {
        ex = cli_fail(path, rc, maif_last_errmsg());
        goto out;
    }
    const char *why;
    uint64_t skipped = maif_graph_skipped(g, &why);
    if (skipped)
        fprintf(stderr, "maif: %s: note: %llu knowledge blocks or relationships skipped (first: %s)\n", path,
                (unsigned long long)skipped, why);
    uint64_t *vec = NULL;
    size_t n = 0;
    if (neighbors) {
        uint64_t node;
        if ((ex = resolve(path, r, g, neighbors, &node))) goto out;
        LIST(maif_graph_neighbors(g, node, vec, cap, &n), vec, n);
        if (rc == MAIF_OK) print_edges(g, vec, n);
    } else if (from) {
        uint64_t a, z;
        if ((ex = resolve(path, r, g, from, &a)) || (ex = resolve(path, r, g, to, &z))) goto out;
        LIST(maif_graph_path(g, a, z, (unsigned)depth, vec, cap, &n), vec, n);
        if (rc == MAIF_ENOTFOUND) {
            cli_err(path, "no path from '%s' to '%s' of at most %llu edges", from, to, (unsigned long long)depth);
            ex = CLI_EXIT_VERIFY; /* a query that finds nothing: exit 1, as grep does */
            goto out;
        }
        if (rc == MAIF_OK) print_edges(g, vec, n);
    } else if (subj || pred || obj) {
        LIST(maif_graph_match(g, subj, pred, obj, vec, cap, &n), vec, n);
        if (rc == MAIF_OK) print_edges(g, vec, n);
        if (rc == MAIF_OK && n == 0) ex = CLI_EXIT_VERIFY;
    } else if (dot || json) {
        if (around) {
            uint64_t node;
            if ((ex = resolve(path, r, g, around, &node))) goto out;
            LIST(maif_graph_around(g, node, (unsigned)depth, vec, cap, &n), vec, n);
        }
        if (rc == MAIF_OK) rc = maif_graph_export(g, json ? MAIF_GRAPH_JSON : MAIF_GRAPH_DOT, around ? vec : NULL, around ? n : 0, write_stdout, NULL);
    } else {
        /* plain: every edge, as a triple line */
        if (around) {
            uint64_t node;
            if ((ex = resolve(path, r, g, around, &node))) goto out;
            LIST(maif_graph_around(g, node, (unsigned)depth, vec, cap, &n), vec, n);
            if (rc == MAIF_OK) {
                uint64_t *es = NULL;
                size_t ne = 0;
                LIST(maif_graph_match(g, NULL, NULL, NULL, es, cap, &ne), es, ne);
                /* edges with both ends in the neighbourhood */
                uint64_t count = maif_graph_node_count(g);
                unsigned char *in = calloc(count ? count : 1, 1);
                if (!in) rc = MAIF_ENOMEM;
                for (size_t i = 0; in && i < n; i++) in[vec[i]] = 1;
                for (size_t i = 0; in && rc == MAIF_OK && i < ne; i++) {
                    maif_graph_edge e;
                    if (maif_graph_edge_get(g, es[i], &e) == MAIF_OK && in[e.from] && in[e.to]) print_edges(g, &es[i], 1);
                }
                free(in);
                free(es);
            }
        } else {
            LIST(maif_graph_match(g, NULL, NULL, NULL, vec, cap, &n), vec, n);
            if (rc == MAIF_OK) print_edges(g, vec, n);
        }
    }
    free(vec);
    if (rc != MAIF_OK) ex = cli_fail(path, rc, maif_last_errmsg());
    else if (!ex) ex = cli_finish(CLI_EXIT_OK);
    else ex = cli_finish(ex);
out:
    maif_graph_free(g);
    maif_reader_close(r);
    maif_keyring_free(kr);
    return ex;
}

const cli_command cli_cmd_graph = {
    "graph", run, "the knowledge graph: export it (DOT, JSON) or query it",
    "usage: maif graph FILE [--dot | --json] [--around NODE [--depth N]]\n"
    "       maif graph FILE --neighbors NODE\n"
    "       maif graph FILE --from NODE --to NODE [--depth N]\n"
    "       maif graph FILE [--subject S] [--predicate P] [--object O]\n"
    "       (any of them with [--near-duplicates] [--similar] [--all-versions]\n"
    "        [--identity KEY | --passphrase-file F])\n"
    "\n"
    "The graph of FILE: the triples of its knowledge blocks (--type knowledge:\n"
    "{\"triples\": [[SUBJECT, PREDICATE, OBJECT], ...]}, docs/FORMAT.md), the\n"
    "\"relationships\" metadata of every block ({\"type\": NAME, \"target\": BLOCK ID}),\n"
    "and with --near-duplicates \"near_duplicate_of\" links between images that\n"
    "`maif add --analyze` hashed within 12 bits of each other, and with --similar\n"
    "\"similar_to\" links between blocks whose embeddings (maif embed) have a\n"
    "cosine of at least 0.7. A string of 32 hex\n"
    "digits names a block; other strings are entities. Superseded blocks are\n"
    "left out unless --all-versions. Knowledge blocks that cannot be read\n"
    "(encrypted without --identity/--passphrase-file, or malformed) are\n"
    "skipped with a note on stderr.\n"
    "\n"
    "NODE: a block number, a block id, an entity name, or a literal (42, true).\n"
    "\n"
    "Without options, prints every edge, one a line:\n"
    "  SUBJECT --PREDICATE--> OBJECT   (block N)\n"
    "where blocks show as #N(TYPE IDPREFIX) and entities in quotes.\n"
    "--dot          Graphviz (`maif graph F --dot | dot -Tsvg > g.svg`): blocks as\n"
    "               boxes, entities as ellipses\n"
    "--json         {\"nodes\": [{id, name, kind, block, type}], \"edges\":\n"
    "               [{from, to, predicate, block}]}\n"
    "--around NODE  only the nodes at most --depth edges (default 1, at most 64)\n"
    "               from NODE, either direction, and the edges between them\n"
    "--neighbors NODE  the edges into and out of NODE\n"
    "--from A --to B   a shortest path, at most --depth edges (default 8)\n"
    "--subject S --predicate P --object O  the triples that match (any may be left out)\n"
    "\n"
    "exit codes: 0 found (or exported); 1 a query found nothing (no path, no\n"
    "match), or FILE is too damaged to open; 2 usage error, missing file,\n"
    "unknown NODE; 3 the key given opens nothing.\n",
};
