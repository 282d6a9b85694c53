/*
 * native_ops.c — the native format's operations table (format/format.h):
 * what the API layer calls to read, list, verify and write native files.
 *
 * The reading side is a thin state over nat_view (native_read.c) plus the
 * two facts the file header's JSON carries (agent, converted_from) and the
 * record listing for `maif ls --all`, built on first use. That listing is
 * the only state written after open: it is built under a mutex and
 * published with a release store, so a state serves many threads at once. The writing side
 * is conversion: every block of a source goes through the ordinary writer,
 * borrowed, so a whole artifact is written and hashed on every core.
 */
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "format/format.h"
#include "format/native/native.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/common.h"
#include "util/pyjson.h"

typedef struct nat_state {
    const uint8_t *base; /* the image (borrowed) */
    uint64_t size;
    nat_view v;
    char *agent;          /* header "agent" (owned), or NULL */
    char *converted_from; /* header "converted_from" as JSON text (owned), or NULL */
    pthread_mutex_t recs_lock;     /* held while the listing is built */
    _Atomic(maif_record *) recs;   /* record listing, built on first nat_ops_record;
                                      set (release) only once nrecs is final */
    uint64_t nrecs;
    nat_dicts dicts;      /* zstd dictionaries loaded for codec-3 blocks (native_dict.c) */
} nat_state;

static void header_meta(nat_state *s)
{
    const nat_header *h = &s->v.hdr;
    if (!h->meta_size) return;
    json_t *o = json_loadb(h->meta, h->meta_size, JSON_REJECT_DUPLICATES, NULL);
    if (!o) return;
    const char *a = json_string_value(json_object_get(o, "agent"));
    if (a) s->agent = maif_strdup(a);
    json_t *cf = json_object_get(o, "converted_from");
    if (cf) {
        maif_buf b = {0};
        if (maif_json_dump(cf, MAIF_JSON_COMPACT, &b) == MAIF_OK) s->converted_from = maif_buf_steal(&b, NULL);
        maif_buf_free(&b);
    }
    json_decref(o);
}

static void nat_ops_close(void *state)
{
    nat_state *s = state;
    if (!s) return;
    nat_view_free(&s->v);
    nat_dicts_free(&s->dicts);
    maif_free(s->agent);
    maif_free(s->converted_from);
    maif_free(atomic_load_explicit(&s->recs, memory_order_relaxed));
    pthread_mutex_destroy(&s->recs_lock);
    maif_free(s);
}

static int nat_ops_open_after(void **state, const uint8_t *base, uint64_t size, uint64_t from, char *err,
                              size_t errcap)
{
    nat_state *s = maif_calloc(1, sizeof *s);
    if (!s) return maif_set_err(err, errcap, MAIF_ENOMEM, "out of memory");
    s->base = base;
    s->size = size;
    int rc = from ? nat_view_open_after(&s->v, base, size, from, err, errcap)
                  : nat_view_open(&s->v, base, size, err, errcap);
    if (rc) {
        maif_free(s);
        return rc;
    }
    pthread_mutex_init(&s->recs_lock, NULL);
    nat_dicts_init(&s->dicts);
    header_meta(s);
    *state = s;
    return MAIF_OK;
}

static int nat_ops_open(void **state, const uint8_t *base, uint64_t size, char *err, size_t errcap)
{
    return nat_ops_open_after(state, base, size, 0, err, errcap);
}

static uint64_t nat_ops_count(const void *state) { return ((const nat_state *)state)->v.last.blocks; }

static int nat_ops_block(const void *state, uint64_t i, maif_block *out, char *err, size_t errcap)
{
    const nat_state *s = state;
    uint64_t off;
    if (nat_view_block_offset(&s->v, s->base, i, &off))
        return maif_set_err(err, errcap, MAIF_EFORMAT, "block %llu: index entry is damaged", (unsigned long long)i);
    return nat_block_view(s->base, s->v.committed, off, i, out, err, errcap);
}

static int nat_ops_decode_to(const void *state, uint64_t i, const void *keyring,
                             int (*sink)(void *ctx, const void *data, size_t n, const uint8_t *stored_done), void *ctx,
                             char *err, size_t errcap)
{
    nat_state *s = (nat_state *)state;
    uint64_t off;
    if (nat_view_block_offset(&s->v, s->base, i, &off))
        return maif_set_err(err, errcap, MAIF_EFORMAT, "block %llu: index entry is damaged", (unsigned long long)i);
    return nat_block_decode_to(s->base, s->v.committed, off, i, keyring, &s->dicts, &s->v, sink, ctx, err, errcap);
}

static int nat_ops_decode(const void *state, uint64_t i, const void *keyring, void *dst, size_t cap, size_t *size, char *err,
                          size_t errcap)
{
    nat_state *s = (nat_state *)state; /* only its dictionary cache changes, under its lock */
    uint64_t off;
    if (nat_view_block_offset(&s->v, s->base, i, &off))
        return maif_set_err(err, errcap, MAIF_EFORMAT, "block %llu: index entry is damaged", (unsigned long long)i);
    return nat_block_decode(s->base, s->v.committed, off, i, keyring, &s->dicts, &s->v, dst, cap, size, err, errcap);
}

static int nat_ops_content_hash(const void *state) { return ((const nat_state *)state)->v.hdr.hash_alg; }

static int nat_ops_info(const void *state, maif_info *out)
{
    const nat_state *s = state;
    memset(out, 0, sizeof *out);
    out->format = MAIF_FORMAT_NATIVE;
    out->version_major = rd16le(s->base + NH_READ_VER);
    out->version_minor = 0;
    out->file_size = s->v.committed;
    out->torn_bytes = s->v.torn;
    out->block_count = s->v.last.blocks;
    out->commit_count = s->v.commits;
    out->created_us = s->v.hdr.created;
    out->modified_us = s->v.last.timestamp;
    memcpy(out->file_id, s->v.hdr.file_id, MAIF_ID_BYTES);
    out->agent = s->agent ? s->agent : "";
    memcpy(out->signer, s->v.last.signer, MAIF_PUBKEY_BYTES);
    memcpy(out->merkle_root, s->v.last.merkle, MAIF_HASH_BYTES);
    out->converted_from = s->converted_from ? s->converted_from : "";
    return MAIF_OK;
}

static int build_records(nat_state *s, char *err, size_t errcap)
{
    uint64_t cap = 64, n = 0, blocks = 0;
    maif_record *recs = maif_malloc(cap * sizeof *recs);
    if (!recs) return maif_set_err(err, errcap, MAIF_ENOMEM, "out of memory");
    uint64_t off = s->v.hdr.header_size;
    while (off < s->v.committed) {
        nat_rec rec;
        int torn;
        if (nat_rec_parse(s->base, s->v.committed, off, &rec, &torn, err, errcap) != MAIF_OK) {
            maif_free(recs);
            return MAIF_EFORMAT;
        }
        if (n == cap) {
            maif_record *p = maif_realloc(recs, 2 * cap * sizeof *recs);
            if (!p) {
                maif_free(recs);
                return maif_set_err(err, errcap, MAIF_ENOMEM, "out of memory");
            }
            recs = p;
            cap *= 2;
        }
        int is_block = memcmp(rec.tag, NAT_TAG_BLOCK, 4) == 0;
        const char *kind = is_block                                 ? "block"
                           : memcmp(rec.tag, NAT_TAG_INDEX, 4) == 0 ? "index"
                           : memcmp(rec.tag, NAT_TAG_DIR, 4) == 0   ? "directory"
                           : memcmp(rec.tag, NAT_TAG_NODES, 4) == 0 ? "nodes"
                                                                    : "commit";
        recs[n++] = (maif_record){kind, off, rec.end - off, is_block ? (int64_t)blocks++ : -1, rec.type};
        off = rec.end;
    }
    s->nrecs = n;
    atomic_store_explicit(&s->recs, recs, memory_order_release);
    return MAIF_OK;
}

static int nat_ops_record(void *state, uint64_t i, maif_record *out, char *err, size_t errcap)
{
    nat_state *s = state;
    if (i == 0) {
        *out = (maif_record){"header", 0, s->v.hdr.header_size, -1, 0};
        return MAIF_OK;
    }
    const maif_record *recs = atomic_load_explicit(&s->recs, memory_order_acquire);
    if (!recs) { /* the first call builds; callers on other threads wait for it */
        pthread_mutex_lock(&s->recs_lock);
        int rc = atomic_load_explicit(&s->recs, memory_order_relaxed) ? MAIF_OK : build_records(s, err, errcap);
        pthread_mutex_unlock(&s->recs_lock);
        if (rc) return rc;
        recs = atomic_load_explicit(&s->recs, memory_order_acquire);
    }
    if (i - 1 >= s->nrecs) return MAIF_ENOTFOUND;
    *out = recs[i - 1];
    return MAIF_OK;
}

/* The output header: the agent, and where the artifact came from (who had
 * signed it, its file id and Merkle root), since signatures cannot carry
 * over. */
static int header_json(const maif_block_source *src, char **out)
{
    const maif_info *in = src->info;
    char hex[65];
    json_t *o = json_object(), *cf = json_object();
    if (!o || !cf) {
        json_decref(o);
        json_decref(cf);
        return MAIF_ENOMEM;
    }
    if (in->agent[0]) json_object_set_new(o, "agent", json_string(maif_strip_did(in->agent)));
    json_object_set_new(o, "created_by", json_string("maif-c/" MAIF_VERSION_STRING));
    json_object_set_new(cf, "format", json_string(in->format == MAIF_FORMAT_V21 ? "2.1" : "native"));
    json_object_set_new(cf, "file_id", json_string(maif_hex(in->file_id, MAIF_ID_BYTES, hex)));
    json_object_set_new(cf, "signer", json_string(maif_hex(in->signer, MAIF_PUBKEY_BYTES, hex)));
    json_object_set_new(cf, "merkle_root", json_string(maif_hex(in->merkle_root, MAIF_HASH_BYTES, hex)));
    json_object_set_new(cf, "modified_us", json_integer((json_int_t)in->modified_us));
    if (src->source_note) {
        json_t *note = json_loads(src->source_note, 0, NULL);
        if (json_is_object(note)) json_object_update(cf, note);
        json_decref(note);
    }
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

/* Adds block i of src, whose view has a codec or cipher, with its payload
 * decoded (bounded by the decoded-size checks of the source). */
static int decoded_add(maif_writer *w, const maif_block_source *src, uint64_t i, maif_block_spec *s, char *err,
                       size_t cap)
{
    size_t n = 0, got = 0;
    int rc = src->decode ? src->decode(src->ctx, i, NULL, 0, &n) : MAIF_EUNSUPPORTED;
    if (rc != MAIF_OK && rc != MAIF_ELIMIT)
        return maif_set_err(err, cap, rc, "block %llu is encoded and cannot be decoded: %s", (unsigned long long)i,
                            maif_strerror(rc));
    uint8_t *buf = maif_malloc(n ? n : 1);
    if (!buf) return maif_set_err(err, cap, MAIF_ENOMEM, "block %llu: out of memory decoding", (unsigned long long)i);
    rc = src->decode(src->ctx, i, buf, n, &got);
    if (rc) {
        maif_free(buf);
        return maif_set_err(err, cap, rc, "block %llu: decoding failed: %s", (unsigned long long)i, maif_strerror(rc));
    }
    s->payload = buf;
    s->payload_size = got;
    if ((rc = maif_writer_add(w, s, NULL)))
        maif_set_err(err, cap, rc, "block %llu: %s", (unsigned long long)i, maif_writer_errmsg(w));
    maif_free(buf);
    return rc;
}

static int nat_ops_write_from(const maif_block_source *src, const char *out_path, const maif_key *key, char *err,
                              size_t cap)
{
    char *hj = NULL;
    int rc = header_json(src, &hj);
    if (rc) return maif_set_err(err, cap, rc, "cannot encode the header");
    /* The output has no name until it is complete (io.h: open_temp), so a
     * conversion that fails or is killed leaves nothing behind. */
    maif_writer *w = NULL;
    rc = nat_writer_create(&w, out_path, key, hj, src->info->created_us,
                           MAIF_W_OVERWRITE | MAIF_W_DURABLE | NAT_W_UNPUBLISHED | NAT_W_EXACT_TIME | /* times as the source has them */
                               (src->hash_alg == MAIF_HASH_BLAKE3 ? MAIF_W_BLAKE3 : 0));
    maif_free(hj);
    if (rc) return maif_set_err(err, cap, rc, "%s", maif_last_errmsg());
    for (uint64_t i = 0; i < src->count && rc == MAIF_OK; i++) {
        maif_block b;
        if ((rc = src->block(src->ctx, i, &b))) {
            maif_set_err(err, cap, rc, "block %llu: unreadable", (unsigned long long)i);
            break;
        }
        maif_block_spec s = {b.type, b.payload, b.payload_size, b.meta, b.meta_size,
                             b.has_supersedes ? b.supersedes : NULL, b.id, b.timestamp_us};
        if (b.codec || b.cipher) {
            /* stored bytes are not the payload: carry the decoded payload
             * over, as a plain block, consumed at once */
            rc = decoded_add(w, src, i, &s, err, cap);
            continue;
        }
        /* the source's views stay valid until after the commit */
        if ((rc = maif_writer_add_borrowed(w, &s, NULL)))
            maif_set_err(err, cap, rc, "block %llu: %s", (unsigned long long)i, maif_writer_errmsg(w));
    }
    if (rc == MAIF_OK && (rc = maif_writer_commit(w))) maif_set_err(err, cap, rc, "%s", maif_writer_errmsg(w));
    if (rc == MAIF_OK && (rc = nat_writer_publish(w, MAIF_W_OVERWRITE)))
        maif_set_err(err, cap, rc, "%s", maif_writer_errmsg(w));
    int crc = maif_writer_close(w);
    if (rc == MAIF_OK && crc) rc = maif_set_err(err, cap, crc, "%s: close failed", out_path);
    return rc;
}

static void nat_ops_verify(const uint8_t *buf, size_t len, const maif_verify_options *opt, maif_report *rep)
{
    nat_verify(buf, len, opt, rep);
}

const maif_format_ops maif_format_native = {
    .id = MAIF_FORMAT_NATIVE,
    .name = "native",
    .detect = nat_detect,
    .open = nat_ops_open,
    .open_after = nat_ops_open_after,
    .close = nat_ops_close,
    .count = nat_ops_count,
    .block = nat_ops_block,
    .decode = nat_ops_decode,
    .decode_to = nat_ops_decode_to,
    .info = nat_ops_info,
    .content_hash = nat_ops_content_hash,
    .record = nat_ops_record,
    .verify = nat_ops_verify,
    .write_from = nat_ops_write_from,
};
