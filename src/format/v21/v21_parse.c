/*
 * v21_parse.c — zero-copy structural parser for MAIF 2.1 images.
 *
 * Opening checks that every stored offset and length describes bytes that
 * exist and that the pieces come in the documented order without overlap:
 * header, blocks back to back up to provenance_offset, the provenance and
 * security sections, the index and the footer ending the file. Hashes and
 * signatures are the verifier's business (v21_verify.c). The only
 * allocation sized by the file is the block table, and its count is first
 * bounded by the bytes that could hold that many block headers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/v21/v21_internal.h"
#include "util/alloc.h"
#include "util/common.h"

int maif21_detect(const uint8_t *buf, size_t len)
{
    return buf && len >= 6 && memcmp(buf, "MAIF", 4) == 0 && rd16be(buf + V21_H_VMAJOR) == 2;
}

/* Reads the security section's public key; leaves has_signer 0 if the JSON
 * is unreadable (the verifier reports that, opening does not need it). */
static void read_signer(maif21 *m)
{
    json_error_t je;
    json_t *root = json_loadb((const char *)m->buf + m->sec_off + 4, m->sec_len, JSON_REJECT_DUPLICATES, &je);
    if (!root) return;
    json_t *pk = json_object_get(root, "public_key");
    if (json_is_string(pk) && maif_unhex(json_string_value(pk), m->signer, MAIF_PUBKEY_BYTES) == 0)
        m->has_signer = 1;
    json_decref(root);
}

int maif21_open(maif21 **out, const uint8_t *buf, size_t len, char *err, size_t errcap)
{
    if (!out) return MAIF_EINVAL;
    *out = NULL;
    if (!buf) return maif_set_err(err, errcap, MAIF_EINVAL, "no buffer");
    const uint64_t min = MAIF21_HEADER_SIZE + 4 + 4 + MAIF21_FOOTER_SIZE;
    if (len < min) return maif_set_err(err, errcap, MAIF_EFORMAT, "file too short for MAIF 2.1 (%zu bytes)", len);
    if (memcmp(buf, "MAIF", 4) != 0) return maif_set_err(err, errcap, MAIF_EFORMAT, "bad magic");
    unsigned vmaj = rd16be(buf + V21_H_VMAJOR), vmin = rd16be(buf + V21_H_VMINOR);
    if (vmaj != 2 || vmin != 1)
        return maif_set_err(err, errcap, MAIF_EVERSION, "format version %u.%u (only 2.1 is supported)", vmaj, vmin);

    uint64_t n = rd32be(buf + V21_H_BLOCK_COUNT);
    uint64_t po = rd64be(buf + V21_H_PROV_OFF), so = rd64be(buf + V21_H_SEC_OFF);
    uint64_t io = rd64be(buf + V21_H_INDEX_OFF);
    uint64_t foot = len - MAIF21_FOOTER_SIZE;

    if (memcmp(buf + foot, V21_FOOTER_MAGIC, 4) != 0)
        return maif_set_err(err, errcap, MAIF_EFORMAT, "footer magic missing at offset %llu",
                            (unsigned long long)foot);
    /* A count that cannot fit is refused before it sizes anything. */
    if (n > (len - MAIF21_HEADER_SIZE) / MAIF21_BLOCK_HEADER_SIZE)
        return maif_set_err(err, errcap, MAIF_EFORMAT, "block_count %llu cannot fit in %zu bytes",
                            (unsigned long long)n, len);
    if (po < MAIF21_HEADER_SIZE || !in_bounds(po, 4, foot))
        return maif_set_err(err, errcap, MAIF_EFORMAT, "provenance_offset %llu out of range", (unsigned long long)po);
    uint64_t pl = rd32be(buf + po);
    if (!in_bounds(po + 4, pl, foot) || so < po + 4 + pl)
        return maif_set_err(err, errcap, MAIF_EFORMAT, "provenance section (offset %llu, %llu bytes) overruns "
                            "the security section", (unsigned long long)po, (unsigned long long)pl);
    if (!in_bounds(so, 4, foot))
        return maif_set_err(err, errcap, MAIF_EFORMAT, "security_offset %llu out of range", (unsigned long long)so);
    uint64_t sl = rd32be(buf + so);
    if (!in_bounds(so + 4, sl, foot) || io < so + 4 + sl)
        return maif_set_err(err, errcap, MAIF_EFORMAT, "security section (offset %llu, %llu bytes) overruns the "
                            "index", (unsigned long long)so, (unsigned long long)sl);
    if (io > foot || (foot - io) / MAIF21_INDEX_ENTRY_SIZE != n || (foot - io) % MAIF21_INDEX_ENTRY_SIZE != 0)
        return maif_set_err(err, errcap, MAIF_EFORMAT, "index at offset %llu does not hold exactly %llu entries "
                            "before the footer", (unsigned long long)io, (unsigned long long)n);

    maif21 *m = maif_calloc(1, sizeof *m);
    if (!m) return maif_set_err(err, errcap, MAIF_ENOMEM, "out of memory");
    m->buf = buf;
    m->len = len;
    m->n = n;
    m->prov_off = po;
    m->prov_len = pl;
    m->sec_off = so;
    m->sec_len = sl;
    m->index_off = io;
    if (n) {
        m->blocks = maif_calloc(n, sizeof *m->blocks);
        if (!m->blocks) {
            maif_free(m);
            return maif_set_err(err, errcap, MAIF_ENOMEM, "out of memory");
        }
    }

    /* Blocks lie back to back from the header to the provenance section. */
    uint64_t off = MAIF21_HEADER_SIZE, i = 0;
    int rc = MAIF_OK;
    while (off < po) {
        if (i == n) {
            rc = maif_set_err(err, errcap, MAIF_EFORMAT, "more blocks before offset %llu than block_count %llu",
                              (unsigned long long)po, (unsigned long long)n);
            break;
        }
        if (!in_bounds(off, MAIF21_BLOCK_HEADER_SIZE, po)) {
            rc = maif_set_err(err, errcap, MAIF_EFORMAT, "block %llu at offset %llu: header overruns the "
                              "provenance section", (unsigned long long)i, (unsigned long long)off);
            break;
        }
        uint32_t size = rd32be(buf + off + V21_B_SIZE), ms = rd32be(buf + off + V21_B_META_SIZE);
        if (size < MAIF21_BLOCK_HEADER_SIZE || !in_bounds(off, size, po)) {
            rc = maif_set_err(err, errcap, MAIF_EFORMAT, "block %llu at offset %llu: size %u out of range",
                              (unsigned long long)i, (unsigned long long)off, size);
            break;
        }
        if (ms > size - MAIF21_BLOCK_HEADER_SIZE) {
            rc = maif_set_err(err, errcap, MAIF_EFORMAT, "block %llu at offset %llu: metadata_size %u exceeds "
                              "the block", (unsigned long long)i, (unsigned long long)off, ms);
            break;
        }
        m->blocks[i] = (v21_block){off, size, ms};
        off += size;
        i++;
    }
    if (rc == MAIF_OK && i != n)
        rc = maif_set_err(err, errcap, MAIF_EFORMAT, "block_count says %llu blocks, %llu found",
                          (unsigned long long)n, (unsigned long long)i);
    if (rc != MAIF_OK) {
        maif21_close(m);
        return rc;
    }

    /* agent_did: the bytes up to the first NUL (at most 64). */
    const uint8_t *did = buf + V21_H_AGENT_DID;
    size_t dl = 0;
    while (dl < V21_DID_LEN && did[dl]) dl++;
    memcpy(m->agent, did, dl);
    m->agent[dl] = 0;
    read_signer(m);
    *out = m;
    return MAIF_OK;
}

void maif21_close(maif21 *m)
{
    if (!m) return;
    maif_free(m->blocks);
    maif_free(m);
}

uint64_t maif21_count(const maif21 *m) { return m ? m->n : 0; }

int maif21_block(const maif21 *m, uint64_t i, maif_block *out)
{
    if (!m || !out) return MAIF_EINVAL;
    if (i >= m->n) return MAIF_ENOTFOUND;
    const v21_block *b = &m->blocks[i];
    const uint8_t *h = m->buf + b->offset;
    memset(out, 0, sizeof *out);
    out->index = i;
    out->offset = b->offset;
    out->type = rd32be(h + V21_B_TYPE);
    out->flags = rd32be(h + V21_B_FLAGS);
    out->timestamp_us = rd64be(h + V21_B_TIMESTAMP);
    memcpy(out->id, h + V21_B_ID, MAIF_ID_BYTES);
    out->payload = h + MAIF21_BLOCK_HEADER_SIZE;
    out->payload_size = b->size - MAIF21_BLOCK_HEADER_SIZE - b->meta_size;
    out->meta = b->meta_size ? (const char *)out->payload + out->payload_size : NULL;
    out->meta_size = b->meta_size;
    memcpy(out->content_hash, h + V21_B_HASH, MAIF_HASH_BYTES);
    return MAIF_OK;
}

int maif21_info(const maif21 *m, maif_info *out)
{
    if (!m || !out) return MAIF_EINVAL;
    memset(out, 0, sizeof *out);
    out->format = MAIF_FORMAT_V21;
    out->version_major = 2;
    out->version_minor = 1;
    out->file_size = m->len;
    out->block_count = m->n;
    out->commit_count = 1;
    out->created_us = rd64be(m->buf + V21_H_CREATED);
    out->modified_us = rd64be(m->buf + V21_H_MODIFIED);
    memcpy(out->file_id, m->buf + V21_H_FILE_ID, MAIF_ID_BYTES);
    out->agent = m->agent;
    if (m->has_signer) memcpy(out->signer, m->signer, MAIF_PUBKEY_BYTES);
    memcpy(out->merkle_root, m->buf + V21_H_MERKLE, MAIF_HASH_BYTES);
    out->converted_from = "";
    return MAIF_OK;
}

int maif21_record(const maif21 *m, uint64_t i, maif_record *out)
{
    if (!m || !out) return MAIF_EINVAL;
    memset(out, 0, sizeof *out);
    out->block_index = -1;
    if (i == 0) {
        *out = (maif_record){"header", 0, MAIF21_HEADER_SIZE, -1, 0};
        return MAIF_OK;
    }
    i--;
    if (i < m->n) {
        const v21_block *b = &m->blocks[i];
        *out = (maif_record){"block", b->offset, b->size, (int64_t)i, rd32be(m->buf + b->offset + V21_B_TYPE)};
        return MAIF_OK;
    }
    switch (i - m->n) {
    case 0: *out = (maif_record){"provenance", m->prov_off, m->sec_off - m->prov_off, -1, 0}; return MAIF_OK;
    case 1: *out = (maif_record){"security", m->sec_off, m->index_off - m->sec_off, -1, 0}; return MAIF_OK;
    case 2:
        *out = (maif_record){"index", m->index_off, m->n * MAIF21_INDEX_ENTRY_SIZE, -1, 0};
        return MAIF_OK;
    case 3: *out = (maif_record){"footer", m->len - MAIF21_FOOTER_SIZE, MAIF21_FOOTER_SIZE, -1, 0}; return MAIF_OK;
    default: return MAIF_ENOTFOUND;
    }
}
