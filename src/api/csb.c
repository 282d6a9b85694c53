/*
 * csb.c — CSB, cryptographic semantic binding (docs/CSB.md): an embedding
 * carries a commitment to the content it embeds, the model that made it
 * and its own values; the verifier recomputes it for every bound
 * embedding, so a vector moved onto another source, altered, or labelled
 * with another model is reported, whoever re-signed the file.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "crypto/crypto.h"
#include "report/report.h"
#include "util/alloc.h"
#include "util/common.h"

static const char csb_domain[] = "maif-csb-v1";

int maif_csb_commit(const uint8_t source_hash[MAIF_HASH_BYTES], const char *model,
                    const uint8_t model_hash[MAIF_HASH_BYTES], const float *v, size_t dim, uint8_t out[MAIF_HASH_BYTES])
{
    if (!source_hash || !model || !model_hash || !v || !out || dim == 0 || dim > 65536)
        return maif_set_last_err(MAIF_EINVAL, "maif_csb_commit: bad argument");
    size_t ml = strlen(model);
    if (ml > 4096) return maif_set_last_err(MAIF_EINVAL, "maif_csb_commit: model id over 4096 bytes");
    maif_sha256_ctx *c = maif_sha256_new();
    if (!c) return maif_set_last_err(MAIF_ENOMEM, "out of memory");
    uint8_t n4[4] = {(uint8_t)ml, (uint8_t)(ml >> 8), (uint8_t)(ml >> 16), (uint8_t)(ml >> 24)};
    uint8_t n8[8];
    for (int i = 0; i < 8; i++) n8[i] = (uint8_t)((uint64_t)dim >> (8 * i));
    maif_sha256_update(c, csb_domain, sizeof csb_domain); /* with its NUL */
    maif_sha256_update(c, source_hash, MAIF_HASH_BYTES);
    maif_sha256_update(c, model_hash, MAIF_HASH_BYTES);
    maif_sha256_update(c, n4, 4);
    maif_sha256_update(c, model, ml);
    maif_sha256_update(c, n8, 8);
    maif_sha256_update(c, v, dim * sizeof *v); /* float32 little-endian (the library's hosts) */
    maif_sha256_final(c, out);
    maif_sha256_free(c);
    return 0;
}

static int hex32(json_t *v, uint8_t out[32]) { return json_is_string(v) && json_string_length(v) == 64 && maif_unhex(json_string_value(v), out, 32) == 0; }

/* A block's decoded bytes (malloc'd) and their SHA-256, or MAIF_EACCESS for a sealed block. */
static int decoded(maif_reader *r, uint64_t i, const maif_block *b, uint8_t **data, size_t *n)
{
    *data = NULL;
    *n = 0;
    if (!b->codec && !b->cipher) return 0;
    if (b->cipher) return MAIF_EACCESS;
    size_t sz = 0;
    int rc = maif_reader_block_decoded_size(r, i, &sz);
    if (rc) return rc;
    if (sz > ((size_t)256 << 20)) return MAIF_ELIMIT;
    if (!(*data = maif_malloc(sz ? sz : 1))) return MAIF_ENOMEM;
    rc = maif_reader_block_decode(r, i, *data, sz, n);
    if (rc) {
        maif_free(*data);
        *data = NULL;
    }
    return rc;
}

void maif_csb_check(const uint8_t *base, size_t size, maif_report *rep)
{
    maif_reader *r = NULL;
    if (maif_reader_open_mem(&r, base, size) != MAIF_OK) return; /* the format verifier has said why */
    uint64_t n = maif_reader_count(r);
    for (uint64_t i = 0; i < n; i++) {
        maif_block b;
        if (maif_reader_block(r, i, &b) != MAIF_OK || b.type != MAIF_TYPE_EMBEDDING || !b.meta ||
            !memmem(b.meta, b.meta_size, "\"csb\"", 5))
            continue;
        json_t *m = json_loadb(b.meta, b.meta_size, 0, NULL);
        uint8_t csb[32], mh[32], src_id[16], sh[32], got[32];
        json_t *model = json_object_get(m, "model"), *src = json_object_get(m, "source_block");
        uint64_t si;
        maif_block sb;
        if (!m || !hex32(json_object_get(m, "csb"), csb) || !hex32(json_object_get(m, "model_hash"), mh) ||
            !json_is_string(model) || !json_is_string(src) || json_string_length(src) != 32 ||
            maif_unhex(json_string_value(src), src_id, 16)) {
            maif_report_add(rep, MAIF_SEV_ERROR, "csb", "block", (int64_t)i, (int64_t)b.offset,
                            "embedding block %llu: malformed binding (csb, model_hash, model and source_block are "
                            "required together)", (unsigned long long)i);
            json_decref(m);
            continue;
        }
        if (maif_reader_find(r, src_id, &si) != MAIF_OK || maif_reader_block(r, si, &sb) != MAIF_OK) {
            maif_report_add(rep, MAIF_SEV_ERROR, "csb", "block", (int64_t)i, (int64_t)b.offset,
                            "embedding block %llu: bound to source block %s, which the artifact does not hold",
                            (unsigned long long)i, json_string_value(src));
            json_decref(m);
            continue;
        }
        uint8_t *sdata = NULL, *vdata = NULL;
        size_t sn = 0, vn = 0;
        int rc = decoded(r, si, &sb, &sdata, &sn);
        if (rc == MAIF_EACCESS) {
            maif_report_add(rep, MAIF_SEV_INFO, "csb-unchecked", "block", (int64_t)i, (int64_t)b.offset,
                            "embedding block %llu: its source (block %llu) is sealed; the binding is not checked "
                            "without its key", (unsigned long long)i, (unsigned long long)si);
            json_decref(m);
            continue;
        }
        if (!rc) rc = decoded(r, i, &b, &vdata, &vn);
        if (!rc) {
            if (sdata) maif_sha256(sdata, sn, sh);
            else if (maif_reader_content_hash(r) == MAIF_HASH_SHA256)
                memcpy(sh, sb.content_hash, 32); /* stored as is: its content hash is the SHA-256 of its bytes */
            else maif_sha256(sb.payload, sb.payload_size, sh);
            const uint8_t *vec = vdata ? vdata : b.payload;
            size_t vlen = vdata ? vn : b.payload_size;
            float *fv = maif_malloc(vlen ? vlen : 1);
            if (!fv) rc = MAIF_ENOMEM;
            else {
                memcpy(fv, vec, vlen);
                rc = vlen % 4 || vlen == 0 ? MAIF_EFORMAT : maif_csb_commit(sh, json_string_value(model), mh, fv, vlen / 4, got);
                maif_free(fv);
            }
        }
        if (rc == 0 && memcmp(got, csb, 32) != 0)
            maif_report_add(rep, MAIF_SEV_ERROR, "csb", "block", (int64_t)i, (int64_t)b.offset,
                            "embedding block %llu: the binding does not match: its vector, its model (%.100s) or its "
                            "source (block %llu) is not what was bound", (unsigned long long)i,
                            json_string_value(model), (unsigned long long)si);
        else if (rc)
            maif_report_add(rep, MAIF_SEV_ERROR, "csb", "block", (int64_t)i, (int64_t)b.offset,
                            "embedding block %llu: cannot check its binding: %s", (unsigned long long)i,
                            maif_strerror(rc));
        maif_free(sdata);
        maif_free(vdata);
        json_decref(m);
    }
    maif_reader_close(r);
}
