/*
 * convert.c — converting between the native format and MAIF 2.1.
 *
 * Both directions go through the public reader, so whatever a reader can
 * open can be converted. Block types, payloads, metadata, timestamps and
 * ids are carried over; signatures cannot be (the output is signed with
 * the caller's key), so a native output records in its header where it
 * came from and who had signed it.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compat/v21.h"
#include "format/native.h"
#include "util/common.h"
#include "util/pyjson.h"

static const char *strip_did(const char *agent)
{
    return strncmp(agent, "did:maif:", 9) == 0 ? agent + 9 : agent;
}

static int header_json(const maif_info *in, char **out)
{
    char hex[65];
    json_t *o = json_object(), *cf = json_object();
    if (!o || !cf) {
        json_decref(o);
        json_decref(cf);
        return MAIF_ENOMEM;
    }
    if (in->agent[0]) json_object_set_new(o, "agent", json_string(strip_did(in->agent)));
    json_object_set_new(o, "created_by", json_string("maif-c/" MAIF_VERSION_STRING));
    json_object_set_new(cf, "format", json_string(in->format == MAIF_FORMAT_V21 ? "2.1" : "native"));
    json_object_set_new(cf, "file_id", json_string(maif_hex(in->file_id, MAIF_ID_BYTES, hex)));
    json_object_set_new(cf, "signer", json_string(maif_hex(in->signer, MAIF_PUBKEY_BYTES, hex)));
    json_object_set_new(cf, "merkle_root", json_string(maif_hex(in->merkle_root, MAIF_HASH_BYTES, hex)));
    json_object_set_new(cf, "modified_us", json_integer((json_int_t)in->modified_us));
    json_object_set_new(o, "converted_from", cf);
    maif_buf b = {0};
    int rc = maif_json_dump(o, MAIF_JSON_COMPACT, &b);
    json_decref(o);
    if (rc) {
        maif_buf_free(&b);
        return rc;
    }
    *out = maif_buf_steal(&b, NULL);
    return *out ? MAIF_OK : MAIF_ENOMEM;
}

static int to_native(maif_reader *r, const char *out_path, const maif_key *key, char *err, size_t cap)
{
    maif_info info;
    int rc = maif_reader_info(r, &info);
    if (rc) return maif_set_err(err, cap, rc, "cannot read the source's header");
    char *hj = NULL;
    if ((rc = header_json(&info, &hj))) return maif_set_err(err, cap, rc, "cannot encode the header");
    char *tmp = NULL;
    if (asprintf(&tmp, "%s.converting", out_path) < 0) {
        free(hj);
        return MAIF_ENOMEM;
    }
    maif_writer *w = NULL;
    rc = nat_writer_create(&w, tmp, key, hj, info.created_us, MAIF_W_OVERWRITE | MAIF_W_DURABLE);
    free(hj);
    if (rc) {
        maif_set_err(err, cap, rc, "%s: %s", out_path, maif_last_errmsg());
        free(tmp);
        return rc;
    }
    uint64_t n = maif_reader_count(r);
    for (uint64_t i = 0; i < n && rc == MAIF_OK; i++) {
        maif_block b;
        if ((rc = maif_reader_block(r, i, &b))) {
            maif_set_err(err, cap, rc, "block %llu: %s", (unsigned long long)i, maif_reader_errmsg(r));
            break;
        }
        maif_block_spec s = {b.type, b.payload, b.payload_size, b.meta, b.meta_size,
                             b.has_supersedes ? b.supersedes : NULL, b.id, b.timestamp_us};
        /* the reader's views stay mapped until after the commit */
        if ((rc = maif_writer_add_borrowed(w, &s, NULL)))
            maif_set_err(err, cap, rc, "block %llu: %s", (unsigned long long)i, maif_writer_errmsg(w));
    }
    if (rc == MAIF_OK && (rc = maif_writer_commit(w))) maif_set_err(err, cap, rc, "%s", maif_writer_errmsg(w));
    int crc = maif_writer_close(w);
    if (rc == MAIF_OK && crc) rc = maif_set_err(err, cap, crc, "%s: close failed", tmp);
    if (rc == MAIF_OK && rename(tmp, out_path) != 0) rc = maif_set_err(err, cap, MAIF_EIO, "%s: rename failed", out_path);
    if (rc == MAIF_OK) maif_fsync_dir_of(out_path);
    if (rc) unlink(tmp);
    free(tmp);
    return rc;
}

int maif_convert(const char *in_path, const char *out_path, int to_format, const maif_key *key, char *errbuf,
                 size_t errbuf_cap)
{
    if (!in_path || !out_path || !key || (to_format != MAIF_FORMAT_NATIVE && to_format != MAIF_FORMAT_V21))
        return maif_set_err(errbuf, errbuf_cap, MAIF_EINVAL, "invalid arguments");
    maif_reader *r = NULL;
    int rc = maif_reader_open(&r, in_path, errbuf, errbuf_cap);
    if (rc) return rc;
    if (to_format == MAIF_FORMAT_NATIVE) {
        rc = to_native(r, out_path, key, errbuf, errbuf_cap);
    } else {
        maif_info info;
        rc = maif_reader_info(r, &info);
        if (rc == MAIF_OK)
            rc = maif21_write_from(r, out_path, key, info.agent[0] ? strip_did(info.agent) : NULL, errbuf, errbuf_cap);
    }
    maif_reader_close(r);
    return rc;
}
