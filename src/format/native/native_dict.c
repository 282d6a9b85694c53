/*
 * native_dict.c — zstd dictionaries stored in a native artifact
 * (docs/FORMAT.md §5.6.2): a ZDIC block holds one, stored as is; a block
 * of codec 3 names it by block number in its dict_ref extension.
 *
 * Why a number: it finds the block in O(1) through the index (no id
 * table), it never changes in an append-only file, and it costs 1 to 8
 * bytes a block (blocks worth a dictionary are small: an id would cost 16
 * more). A reader checks that the block comes before the one that uses
 * it, that it is a ZDIC block stored as is, and that its payload still
 * matches its content hash (the chain covers the hash, so the dictionary
 * is covered too) before zstd sees a byte of it. Loading is bounded by zdict.h
 * (MAIF_ZDICT_MAX) before any allocation.
 *
 * Readers keep the dictionaries they loaded (nat_dicts, a few per view,
 * shared by threads under a mutex, never evicted while the view lives);
 * writers own the one they compress with.
 */
#include <string.h>

#include "codec/codecs.h"
#include "codec/zdict.h"
#include "crypto/crypto.h"
#include "format/native/native.h"
#include "format/native/native_writer.h"
#include "util/alloc.h"
#include "util/common.h"

void nat_dicts_init(nat_dicts *c)
{
    memset(c, 0, sizeof *c);
    pthread_mutex_init(&c->lock, NULL);
}

void nat_dicts_free(nat_dicts *c)
{
    if (!c) return;
    for (int i = 0; i < c->n; i++) maif_zdict_free(c->e[i].d);
    c->n = 0;
    pthread_mutex_destroy(&c->lock);
}

int nat_dict_load(const uint8_t *base, const nat_view *v, uint64_t index, int level, maif_zdict **out, char *err,
                  size_t errcap)
{
    *out = NULL;
    if (index >= v->last.blocks)
        return maif_set_err(err, errcap, MAIF_ENOTFOUND, "dictionary block %llu does not exist",
                            (unsigned long long)index);
    uint64_t off;
    if (nat_view_block_offset(v, base, index, &off))
        return maif_set_err(err, errcap, MAIF_EFORMAT, "dictionary block %llu: index entry is damaged",
                            (unsigned long long)index);
    maif_block b;
    int rc = nat_block_view(base, v->committed, off, index, &b, err, errcap);
    if (rc) return rc;
    if (b.type != NAT_TYPE_ZDICT || b.codec || b.cipher)
        return maif_set_err(err, errcap, MAIF_EFORMAT, "block %llu is not a dictionary stored as is",
                            (unsigned long long)index);
    if (b.payload_size > MAIF_ZDICT_MAX)
        return maif_set_err(err, errcap, MAIF_ELIMIT, "dictionary block %llu: %zu bytes, over the limit of %u",
                            (unsigned long long)index, b.payload_size, MAIF_ZDICT_MAX);
    uint8_t h[MAIF_HASH_BYTES];
    maif_chash(v->hdr.hash_alg, b.payload, b.payload_size, h);
    if (memcmp(h, b.content_hash, MAIF_HASH_BYTES) != 0)
        return maif_set_err(err, errcap, MAIF_EFORMAT, "dictionary block %llu: content hash mismatch",
                            (unsigned long long)index);
    char zerr[160];
    rc = maif_zdict_load(b.payload, b.payload_size, level, out, zerr, sizeof zerr);
    if (rc) return maif_set_err(err, errcap, rc, "dictionary block %llu: %s", (unsigned long long)index, zerr);
    return MAIF_OK;
}

int nat_dicts_get(nat_dicts *c, const uint8_t *base, const nat_view *v, uint64_t index, const void **out,
                  maif_zdict **owned, char *err, size_t errcap)
{
    *out = NULL;
    *owned = NULL;
    if (c) {
        pthread_mutex_lock(&c->lock);
        for (int i = 0; i < c->n; i++)
            if (c->e[i].index == index) {
                *out = c->e[i].d;
                pthread_mutex_unlock(&c->lock);
                return MAIF_OK;
            }
        pthread_mutex_unlock(&c->lock);
    }
    maif_zdict *d;
    int rc = nat_dict_load(base, v, index, 0, &d, err, errcap);
    if (rc) return rc;
    if (c) {
        pthread_mutex_lock(&c->lock);
        for (int i = 0; i < c->n; i++)
            if (c->e[i].index == index) { /* another thread loaded it meanwhile */
                *out = c->e[i].d;
                pthread_mutex_unlock(&c->lock);
                maif_zdict_free(d);
                return MAIF_OK;
            }
        if (c->n < NAT_DICTS_CACHED) {
            c->e[c->n].index = index;
            c->e[c->n].d = d;
            c->n++;
            *out = d;
            pthread_mutex_unlock(&c->lock);
            return MAIF_OK;
        }
        pthread_mutex_unlock(&c->lock);
    }
    *out = d;
    *owned = d;
    return MAIF_OK;
}

/* ---- writer */

void nat_writer_dict_stages(maif_writer *w)
{
    if (w->dict) {
        w->stages.dict = w->dict;
        w->stages.dict_ref = w->dict_ref;
        w->stages.dict_ref_len = w->dict_ref_len;
    } else {
        w->stages.dict = NULL;
        w->stages.dict_ref = NULL;
        w->stages.dict_ref_len = 0;
    }
}

void nat_writer_dict_rollback(maif_writer *w)
{
    if (!w->dict || w->dict_index < w->c_blocks) return;
    maif_stage_scratch_drop_state(&w->stage_scratch);
    maif_zdict_free(w->dict);
    w->dict = NULL;
    if (w->stages.codec == MAIF_CODEC_ZSTD_DICT) w->stages.codec = MAIF_CODEC_ZSTD;
    nat_writer_dict_stages(w);
}

/* Makes d (owned from now on) the writer's dictionary, block index, and
 * compresses the next blocks with it (codec 3). */
static void install(maif_writer *w, maif_zdict *d, uint64_t index, int level)
{
    maif_stage_scratch_drop_state(&w->stage_scratch); /* a context may still reference the old tables */
    maif_zdict_free(w->dict);
    w->dict = d;
    w->dict_index = index;
    uint8_t n = 0;
    do { /* little-endian, shortest form */
        w->dict_ref[n] = (uint8_t)(index >> (8 * n));
        n++;
    } while (n < NAT_EXT_DICT_REF_MAX && index >> (8 * n));
    w->dict_ref_len = n;
    w->stages.codec = MAIF_CODEC_ZSTD_DICT;
    w->stages.level = level;
    nat_writer_dict_stages(w);
}

int maif_writer_add_dict(maif_writer *w, const void *dict, size_t n, int level, uint8_t id_out[MAIF_ID_BYTES])
{
    if (!w) return maif_set_last_err(MAIF_EINVAL, "maif_writer_add_dict: writer is NULL");
    if (!dict) return nat_writer_fail(w, MAIF_EINVAL, "maif_writer_add_dict: no dictionary");
    if (w->dead) return nat_writer_fail(w, MAIF_ESTATE, "%s: writer failed earlier; reopen the artifact", w->path);
    if (w->stages.cipher)
        return nat_writer_fail(w, MAIF_EINVAL,
                               "a dictionary is stored in the clear: add it before turning encryption on");
    maif_zdict *d;
    char zerr[160];
    int rc = maif_zdict_load(dict, n, level, &d, zerr, sizeof zerr);
    if (rc) return nat_writer_fail(w, rc, "dictionary: %s", zerr);
    uint64_t index = maif_writer_count(w);
    uint8_t id[MAIF_ID_BYTES];
    maif_block_spec sp = {.type = NAT_TYPE_ZDICT, .payload = dict, .payload_size = n};
    maif_stage_config saved = w->stages; /* the dictionary itself is stored as is */
    memset(&w->stages, 0, sizeof w->stages);
    rc = maif_writer_add(w, &sp, id);
    w->stages = saved;
    if (rc) {
        maif_zdict_free(d);
        return rc;
    }
    install(w, d, index, level);
    if (id_out) memcpy(id_out, id, MAIF_ID_BYTES);
    return MAIF_OK;
}

int maif_writer_use_dict(maif_writer *w, const uint8_t id[MAIF_ID_BYTES], int level)
{
    if (!w) return maif_set_last_err(MAIF_EINVAL, "maif_writer_use_dict: writer is NULL");
    if (w->dead) return nat_writer_fail(w, MAIF_ESTATE, "%s: writer failed earlier; reopen the artifact", w->path);
    if (level && (level < MAIF_ZSTD_LEVEL_MIN || level > MAIF_ZSTD_LEVEL_MAX))
        return nat_writer_fail(w, MAIF_EINVAL, "zstd level %d out of range", level);
    const void *map = NULL;
    nat_view v;
    int rc = nat_writer_view_committed(w, &map, &v);
    if (rc) return rc;
    const uint8_t *base = map;
    char err[300];
    rc = MAIF_ENOTFOUND;
    uint64_t found = 0;
    for (uint64_t i = v.last.blocks; i-- > 0;) { /* the latest first */
        uint64_t off;
        nat_rec r;
        if (nat_view_block_offset(&v, base, i, &off) || nat_block_rec(base, v.committed, off, i, &r, err, sizeof err))
            continue; /* a damaged entry is not a dictionary */
        if (id ? memcmp(r.hdr + NR_ID, id, MAIF_ID_BYTES) == 0 : r.type == NAT_TYPE_ZDICT) {
            found = i;
            rc = MAIF_OK;
            break;
        }
    }
    maif_zdict *d = NULL;
    if (rc == MAIF_OK) {
        rc = nat_dict_load(base, &v, found, level, &d, err, sizeof err);
        if (rc) rc = nat_writer_fail(w, rc, "%s: %s", w->path, err);
    } else {
        char hex[2 * MAIF_ID_BYTES + 1];
        rc = id ? nat_writer_fail(w, rc, "%s: no committed block with id %s", w->path, maif_hex(id, MAIF_ID_BYTES, hex))
                : nat_writer_fail(w, rc, "%s: no committed dictionary in the artifact", w->path);
    }
    nat_view_free(&v);
    w->io->unmap(w->io, map, w->c_end);
    if (rc) return rc;
    install(w, d, found, level);
    return MAIF_OK;
}
