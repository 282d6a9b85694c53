/*
 * knowledge.c — the KNOW payload format (docs/FORMAT.md §5.3.1):
 * {"triples": [...]} or the array alone; a triple [subject, predicate,
 * object] or {"subject", "predicate", "object"}.
 */
#include <stdio.h>
#include <string.h>

#include "api/knowledge.h"
#include "maif.h"
#include "util/common.h"

/* One triple: [s, p, o] or {"subject", "predicate", "object"}. */
static int triple_parts(json_t *t, json_t **s, json_t **p, json_t **o)
{
    if (json_is_array(t) && json_array_size(t) == 3) {
        *s = json_array_get(t, 0), *p = json_array_get(t, 1), *o = json_array_get(t, 2);
    } else if (json_is_object(t) && json_object_size(t) == 3) {
        *s = json_object_get(t, "subject"), *p = json_object_get(t, "predicate"), *o = json_object_get(t, "object");
        if (!*s || !*p || !*o) return 0;
    } else {
        return 0;
    }
    return json_is_string(*s) && json_string_length(*s) > 0 && json_string_length(*s) <= MAIF_KNOWLEDGE_NAME_MAX &&
           json_is_string(*p) && json_string_length(*p) > 0 && json_string_length(*p) <= MAIF_KNOWLEDGE_NAME_MAX &&
           (json_is_string(*o) ? json_string_length(*o) > 0 && json_string_length(*o) <= MAIF_KNOWLEDGE_NAME_MAX
                               : json_is_number(*o) || json_is_boolean(*o) || json_is_null(*o));
}

/* The triples array of a KNOW payload, or NULL with a reason. */
json_t *maif_knowledge_triples(json_t *doc, char *why, size_t cap)
{
    json_t *arr = json_is_object(doc) ? json_object_get(doc, "triples") : doc;
    if (!json_is_array(arr) || (json_is_object(doc) && json_object_size(doc) != 1)) {
        snprintf(why, cap, "not a knowledge payload: want {\"triples\": [...]} or an array of triples");
        return NULL;
    }
    size_t i;
    json_t *t, *s, *p, *o;
    json_array_foreach(arr, i, t) {
        if (!triple_parts(t, &s, &p, &o)) {
            snprintf(why, cap, "triple %zu: want [subject, predicate, object] or an object with those keys "
                               "(strings of 1 to %u bytes; the object may also be a number, true, false or null)",
                     i, MAIF_KNOWLEDGE_NAME_MAX);
            return NULL;
        }
    }
    return arr;
}

int maif_knowledge_check(const void *payload, size_t n)
{
    if (!payload && n) return maif_set_last_err(MAIF_EINVAL, "maif_knowledge_check: NULL payload");
    if (n > MAIF_PARSE_MAX)
        return maif_set_last_err(MAIF_ELIMIT, "knowledge payload of %zu bytes is over %u", n, (unsigned)MAIF_PARSE_MAX);
    json_error_t je;
    json_t *doc = json_loadb(payload ? (const char *)payload : "", n, JSON_DECODE_ANY, &je); /* as the drafts parse */
    if (!doc) return maif_set_last_err(MAIF_EJSON, "knowledge payload: %s (line %d)", je.text, je.line);
    char why[256];
    int rc = maif_knowledge_triples(doc, why, sizeof why) ? 0 : maif_set_last_err(MAIF_EJSON, "%s", why);
    json_decref(doc);
    return rc;
}

void maif_knowledge_parts(json_t *t, json_t **s, json_t **p, json_t **o) { (void)triple_parts(t, s, p, o); }
