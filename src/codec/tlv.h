/*
 * tlv.h — the mechanics of tag-length-value areas; internal.
 *
 * An area is a sequence of entries, each a u16 tag, a u16 length and
 * `length` value bytes (little-endian), that fills the area exactly. This
 * file knows nothing about what the tags mean: a format names its tags and
 * their allowed lengths in a table of rules (the native record's extension
 * area: NAT_EXT_* in format/native/native.h) and asks the walker to check
 * an area against it. One builder writes areas, one walker reads them, so
 * the writer cannot produce what the reader and the verifier refuse.
 *
 * Rules every area obeys, whatever its rules table says:
 *   - no truncated entry head (fewer than 4 bytes left), no length past
 *     the end of the area;
 *   - tag 0 is invalid;
 *   - no tag appears twice (known or not);
 *   - an unknown tag with the critical bit (MAIF_TLV_CRITICAL) is
 *     reported: whoever does not know it must not interpret what the area
 *     describes. Unknown tags without the bit are skipped.
 */
#ifndef MAIF_CODEC_TLV_H
#define MAIF_CODEC_TLV_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

#define MAIF_TLV_HEAD      4u      /* u16 tag, u16 length */
#define MAIF_TLV_VALUE_MAX 0xffffu /* a length is a u16 */
#define MAIF_TLV_CRITICAL  0x8000u /* tag bit: an unknown tag must not be ignored */

/* ---- building */

/* Builds an area into a caller buffer (bounded by its capacity) or into a
 * maif_buf (bounded by max). The first error sticks: later puts do
 * nothing and return it, so a caller may check once at the end. */
typedef struct maif_tlv_builder {
    uint8_t *dst;  /* caller buffer, or NULL when building into buf */
    maif_buf *buf; /* growing buffer, or NULL */
    size_t base;   /* buf: where the area starts in buf->data */
    size_t cap;    /* the area may not grow past cap bytes */
    size_t len;    /* bytes of the area built so far */
    int rc;        /* first error, or 0 */
} maif_tlv_builder;

void maif_tlv_builder_init(maif_tlv_builder *b, uint8_t *dst, size_t cap);
/* Appends to buf from its current length; the area is at most max bytes. */
void maif_tlv_builder_init_buf(maif_tlv_builder *b, maif_buf *buf, size_t max);
/* Appends one entry. Errors: MAIF_EINVAL (tag 0, a tag already in the
 * area, value NULL with len > 0), MAIF_ELIMIT (len over MAIF_TLV_VALUE_MAX,
 * or the area would pass its capacity), MAIF_ENOMEM. */
int maif_tlv_put(maif_tlv_builder *b, uint16_t tag, const void *value, size_t len);
/* A u64 value, little-endian. */
int maif_tlv_put_u64(maif_tlv_builder *b, uint16_t tag, uint64_t v);
/* Start of the built area (dst, or inside buf; moves when buf grows). */
const uint8_t *maif_tlv_builder_data(const maif_tlv_builder *b);

/* ---- walking */

/* One entry of an area; value points into the area. */
typedef struct maif_tlv {
    uint16_t tag;
    uint16_t len;
    const uint8_t *value;
    size_t off; /* offset of the entry's head in the area */
} maif_tlv;

typedef struct maif_tlv_iter {
    const uint8_t *area;
    size_t size;
    size_t pos;
} maif_tlv_iter;

void maif_tlv_iter_init(maif_tlv_iter *it, const uint8_t *area, size_t size);
/* 1 and *out: the next entry; 0: the end of the area; MAIF_EFORMAT: a
 * truncated head or a length past the area (*out->off says where; the
 * walk cannot continue). */
int maif_tlv_next(maif_tlv_iter *it, maif_tlv *out);

/* What a format knows about one tag. */
typedef struct maif_tlv_rule {
    uint16_t tag;
    uint16_t min_len, max_len; /* allowed value lengths, inclusive */
} maif_tlv_rule;

/* What was wrong with an area, first problem first. */
typedef enum maif_tlv_problem {
    MAIF_TLV_OK = 0,
    MAIF_TLV_TRUNCATED,  /* fewer than MAIF_TLV_HEAD bytes left for a head */
    MAIF_TLV_OVERRUN,    /* a length runs past the end of the area */
    MAIF_TLV_ZERO_TAG,   /* tag 0 */
    MAIF_TLV_DUPLICATE,  /* a tag appears twice */
    MAIF_TLV_BAD_LENGTH, /* a known tag with a length its rule does not allow */
} maif_tlv_problem;

typedef struct maif_tlv_report {
    maif_tlv_problem problem; /* the first problem met, MAIF_TLV_OK if none */
    uint16_t tag;             /* its tag (0 for TRUNCATED / OVERRUN) */
    size_t off;               /* offset in the area of the entry at fault */
    int critical_unknown;     /* 1 if an unknown tag with MAIF_TLV_CRITICAL was met */
    uint16_t critical_tag;    /* the first such tag */
    size_t critical_off;      /* and where it is */
} maif_tlv_report;

/* Walks the whole area against nrules rules. found[k] (nrules entries,
 * may be NULL when nrules is 0) receives the entry for rules[k], or
 * value NULL if absent. TRUNCATED and OVERRUN end the walk; the other
 * problems are recorded (the first one) and the walk goes on, so found[]
 * is complete. Returns MAIF_OK when the area has no problem (unknown
 * critical tags are not a problem of the area: rep->critical_unknown
 * says whether there were any), else MAIF_EFORMAT. Costs no allocation; duplicate unknown tags are detected
 * with a bitmap on the stack, cleared only when one is met. */
int maif_tlv_parse(const uint8_t *area, size_t size, const maif_tlv_rule *rules, size_t nrules, maif_tlv *found,
                   maif_tlv_report *rep);
/* Static text for a problem ("truncated entry", ...). */
const char *maif_tlv_problem_str(maif_tlv_problem p);

#endif
