/*
 * convert.c — converting between formats.
 *
 * The source is opened through the public reader, so whatever a reader
 * can open can be converted; its blocks are handed to the target format's
 * writer as a block source (format/format.h). Block types, payloads,
 * metadata, timestamps and ids are carried over; signatures cannot be (the
 * output is signed with the caller's key), so a native output records in
 * its header where it came from and who had signed it.
 */
#include <stdio.h>

#include "api/api.h"
#include "util/common.h"

int maif_convert(const char *in_path, const char *out_path, int to_format, const maif_key *key, char *errbuf,
                 size_t errbuf_cap)
{
    const maif_format_ops *to = maif_format_by_id(to_format);
    if (!in_path || !out_path || !key || !to)
        return maif_set_err(errbuf, errbuf_cap, MAIF_EINVAL, "invalid arguments");
    maif_reader *r = NULL;
    int rc = maif_reader_open(&r, in_path, errbuf, errbuf_cap);
    if (rc) return rc;
    maif_info info;
    maif_block_source src;
    rc = maif_reader_source(r, &info, &src);
    if (rc) maif_set_err(errbuf, errbuf_cap, rc, "cannot read the source's header");
    else rc = to->write_from(&src, out_path, key, errbuf, errbuf_cap);
    maif_reader_close(r);
    return rc;
}
