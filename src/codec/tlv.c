/*
 * tlv.c — building and walking tag-length-value areas (see tlv.h).
 *
 * Both sides are written for hostile input: every length is checked
 * against the bytes that remain before it is used, and nothing here
 * allocates except a builder that was given a maif_buf to grow.
 */
#include <string.h>

#include "codec/tlv.h"
#include "util/common.h"

void maif_tlv_builder_init(maif_tlv_builder *b, uint8_t *dst, size_t cap)
{
    *b = (maif_tlv_builder){.dst = dst, .cap = dst ? cap : 0};
}

void maif_tlv_builder_init_buf(maif_tlv_builder *b, maif_buf *buf, size_t max)
{
    *b = (maif_tlv_builder){.buf = buf, .base = buf->len, .cap = max};
}

const uint8_t *maif_tlv_builder_data(const maif_tlv_builder *b)
{
    return b->buf ? (b->buf->data ? b->buf->data + b->base : NULL) : b->dst;
}

/* Is tag already in the area built so far? The area was built here, so
 * it is well formed. */
static int has_tag(const maif_tlv_builder *b, uint16_t tag)
{
    const uint8_t *a = maif_tlv_builder_data(b);
    for (size_t i = 0; i < b->len; i += MAIF_TLV_HEAD + rd16le(a + i + 2))
        if (rd16le(a + i) == tag) return 1;
    return 0;
}

int maif_tlv_put(maif_tlv_builder *b, uint16_t tag, const void *value, size_t len)
{
    if (b->rc) return b->rc;
    if (tag == 0 || (len && !value) || has_tag(b, tag)) return b->rc = MAIF_EINVAL;
    if (len > MAIF_TLV_VALUE_MAX || b->len > b->cap || MAIF_TLV_HEAD + len > b->cap - b->len)
        return b->rc = MAIF_ELIMIT;
    uint8_t head[MAIF_TLV_HEAD];
    wr16le(head, tag);
    wr16le(head + 2, (uint16_t)len);
    if (b->buf) {
        int rc = maif_buf_reserve(b->buf, MAIF_TLV_HEAD + len);
        if (rc) return b->rc = rc;
        maif_buf_append(b->buf, head, sizeof head); /* reserved: cannot fail */
        if (len) maif_buf_append(b->buf, value, len);
    } else {
        memcpy(b->dst + b->len, head, sizeof head);
        if (len) memcpy(b->dst + b->len + MAIF_TLV_HEAD, value, len);
    }
    b->len += MAIF_TLV_HEAD + len;
    return MAIF_OK;
}

int maif_tlv_put_u64(maif_tlv_builder *b, uint16_t tag, uint64_t v)
{
    uint8_t le[8];
    wr64le(le, v);
    return maif_tlv_put(b, tag, le, sizeof le);
}

void maif_tlv_iter_init(maif_tlv_iter *it, const uint8_t *area, size_t size)
{
    *it = (maif_tlv_iter){area, area ? size : 0, 0};
}

int maif_tlv_next(maif_tlv_iter *it, maif_tlv *out)
{
    if (it->pos >= it->size) return 0;
    size_t left = it->size - it->pos;
    out->off = it->pos;
    out->tag = 0;
    out->len = 0;
    out->value = NULL;
    if (left < MAIF_TLV_HEAD) return MAIF_EFORMAT;
    const uint8_t *p = it->area + it->pos;
    uint16_t len = rd16le(p + 2);
    out->tag = rd16le(p);
    if (len > left - MAIF_TLV_HEAD) return MAIF_EFORMAT;
    out->len = len;
    out->value = p + MAIF_TLV_HEAD;
    it->pos += MAIF_TLV_HEAD + (size_t)len;
    return 1;
}

static void note(maif_tlv_report *rep, maif_tlv_problem p, uint16_t tag, size_t off)
{
    if (rep->problem != MAIF_TLV_OK) return;
    rep->problem = p;
    rep->tag = tag;
    rep->off = off;
}

int maif_tlv_parse(const uint8_t *area, size_t size, const maif_tlv_rule *rules, size_t nrules, maif_tlv *found,
                   maif_tlv_report *rep)
{
    maif_tlv_report local;
    if (!rep) rep = &local;
    memset(rep, 0, sizeof *rep);
    for (size_t k = 0; k < nrules; k++) found[k] = (maif_tlv){0};
    uint8_t seen[65536 / 8]; /* unknown tags met so far; cleared on first use */
    int seen_ready = 0;
    maif_tlv_iter it;
    maif_tlv e;
    int rc;
    maif_tlv_iter_init(&it, area, size);
    while ((rc = maif_tlv_next(&it, &e)) == 1) {
        if (e.tag == 0) {
            note(rep, MAIF_TLV_ZERO_TAG, 0, e.off);
            continue;
        }
        size_t k = 0;
        while (k < nrules && rules[k].tag != e.tag) k++;
        if (k < nrules) {
            if (found[k].value) {
                note(rep, MAIF_TLV_DUPLICATE, e.tag, e.off);
            } else {
                found[k] = e;
                if (e.len < rules[k].min_len || e.len > rules[k].max_len) note(rep, MAIF_TLV_BAD_LENGTH, e.tag, e.off);
            }
            continue;
        }
        if (!seen_ready) {
            memset(seen, 0, sizeof seen);
            seen_ready = 1;
        }
        if (seen[e.tag >> 3] & (1u << (e.tag & 7))) {
            note(rep, MAIF_TLV_DUPLICATE, e.tag, e.off);
            continue;
        }
        seen[e.tag >> 3] |= (uint8_t)(1u << (e.tag & 7));
        if ((e.tag & MAIF_TLV_CRITICAL) && !rep->critical_unknown) {
            rep->critical_unknown = 1;
            rep->critical_tag = e.tag;
            rep->critical_off = e.off;
        }
    }
    if (rc < 0) note(rep, e.off + MAIF_TLV_HEAD > size ? MAIF_TLV_TRUNCATED : MAIF_TLV_OVERRUN, e.tag, e.off);
    return rep->problem == MAIF_TLV_OK ? MAIF_OK : MAIF_EFORMAT;
}

const char *maif_tlv_problem_str(maif_tlv_problem p)
{
    switch (p) {
    case MAIF_TLV_OK: return "well formed";
    case MAIF_TLV_TRUNCATED: return "truncated entry head";
    case MAIF_TLV_OVERRUN: return "entry length runs past the area";
    case MAIF_TLV_ZERO_TAG: return "tag 0 is invalid";
    case MAIF_TLV_DUPLICATE: return "tag appears twice";
    case MAIF_TLV_BAD_LENGTH: return "value length not allowed for this tag";
    }
    return "unknown problem";
}
