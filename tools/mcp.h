/*
 * mcp.h — what `maif mcp` (cmd_mcp.c) shares with its knowledge graph
 * (mcp_graph.c): the graph of the Model Context Protocol's reference
 * memory server, replayed from the artifact's MEMG blocks.
 */
#ifndef MAIF_MCP_H
#define MAIF_MCP_H

#include <jansson.h>
#include <stdint.h>

#define MCP_BAD_ARGS   1 /* the arguments do not have the tool's shape */
#define MCP_TOOL_ERROR 2 /* the tool ran and failed (*err says why) */
#define MCP_NO_TOOL    3 /* not a tool of the graph */

typedef struct mcp_graph {
    json_t *entities;  /* [{name, entityType, observations}] in creation order */
    json_t *relations; /* [{from, to, relationType}] */
    uint64_t applied;  /* blocks of the artifact replayed so far */
} mcp_graph;

void mcp_graph_init(mcp_graph *g);
void mcp_graph_free(mcp_graph *g);
/* A change tool (create_entities, create_relations, add_observations,
 * delete_entities, delete_observations, delete_relations) worked out
 * against g without changing it: *result is what the tool returns,
 * *change the MEMG record to log (NULL: nothing changes). */
int mcp_graph_change(mcp_graph *g, const char *tool, json_t *args, json_t **change, json_t **result, const char **err);
/* Applies a logged change (a MEMG payload). Returns 0, or -1 if malformed. */
int mcp_graph_apply(mcp_graph *g, json_t *change);
/* read_graph, search_nodes, open_nodes. */
int mcp_graph_query(const mcp_graph *g, const char *tool, json_t *args, json_t **result);

#endif
