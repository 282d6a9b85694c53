/*
 * knowledge.h — the KNOW payload format (docs/FORMAT.md §5.3.1), shared by
 * the block drafts (which refuse a malformed knowledge payload) and the
 * knowledge graph of the understanding engine.
 */
#ifndef MAIF_API_KNOWLEDGE_H
#define MAIF_API_KNOWLEDGE_H

#include <jansson.h>
#include <stddef.h>

/* Longest subject, predicate or string object, in bytes. */
#define MAIF_KNOWLEDGE_NAME_MAX 4096u

/* The triples array of a parsed KNOW payload (borrowed from doc), with
 * every triple checked; NULL with the first problem in why. */
json_t *maif_knowledge_triples(json_t *doc, char *why, size_t cap);
/* The three parts of one checked triple (borrowed). */
void maif_knowledge_parts(json_t *t, json_t **s, json_t **p, json_t **o);

#endif
