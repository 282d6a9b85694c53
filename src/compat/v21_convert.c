/*
 * v21_convert.c — maif21_write_from: the 2.1 writer fed through the public
 * reader API, so any artifact the reader opens (native or 2.1) can be
 * written as 2.1. Kept apart from v21_write.c so that code which writes
 * from a parsed 2.1 image does not pull in the reader.
 */
#include "compat/v21_internal.h"
#include "util/common.h"

static int reader_block(void *ctx, uint64_t i, maif_block *out) { return maif_reader_block(ctx, i, out); }

int maif21_write_from(maif_reader *src, const char *path, const maif_key *key, const char *agent_id, char *err,
                      size_t errcap)
{
    if (!src) return maif_set_err(err, errcap, MAIF_EINVAL, "no source reader");
    maif_info info;
    int rc = maif_reader_info(src, &info);
    if (rc != MAIF_OK) return maif_set_err(err, errcap, rc, "cannot read the source's header: %s", maif_strerror(rc));
    int is21 = info.format == MAIF_FORMAT_V21;
    v21_source s = {
        .ctx = src,
        .count = maif_reader_count(src),
        .block = reader_block,
        .created_us = info.created_us,
        .agent_did = is21 ? info.agent : NULL,
        .agent = is21 ? NULL : info.agent,
    };
    return v21_write(&s, path, key, agent_id, err, errcap);
}
