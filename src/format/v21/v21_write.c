/*
 * v21_write.c — writing MAIF 2.1 files.
 *
 * A 2.1 header names the offsets of sections that come after the blocks,
 * and the provenance section depends only on the blocks' hashes, so the
 * writer works in two passes: first it canonicalises every block's metadata
 * and computes the hashes, the Merkle root, the provenance and security
 * JSON and so every offset; then it streams header, blocks, sections, index
 * and footer to a temporary file in one sequential pass (hashing as it goes
 * for the footer), fsyncs and renames it into place. Payloads are never
 * copied except into the buffer that holds one block's signed message
 * (pure Ed25519 needs the whole message at once).
 *
 * Choices the reference leaves open:
 *  - A block type 2.1 has no kind name for (JSON, or any other printable
 *    four-character code) keeps its type code and is logged in provenance
 *    as "add_binary_block": the type survives a round trip, and a 2.1
 *    reader that does not know the code still treats it as opaque bytes.
 *    The verifier (v21_common.c's v21_kind) expects exactly this.
 *  - Type codes that are not four printable ASCII characters, supersedes
 *    links, compressed or encrypted blocks cannot be expressed in 2.1:
 *    MAIF_EUNSUPPORTED.
 *  - The agent: the agent_id argument if given; else a 2.1 source's DID;
 *    else the source's agent id; else "anonymous".
 *  - file_id and creator_id are random version-4 UUIDs, as the original
 *    writer makes them.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "format/v21/v21_internal.h"
#include "crypto/crypto.h"
#include "io/io.h"
#include "util/alloc.h"
#include "util/common.h"
#include "util/pyjson.h"

#define DID_PREFIX "did:maif:"
#define OUTBUF_SIZE (1u << 16)

typedef struct wblock {
    maif_buf meta;       /* Python-form metadata ("{}" when none) */
    uint32_t size;       /* whole block */
    uint8_t id[MAIF_ID_BYTES];
} wblock;

/* Sequential output with the footer hash kept on the fly. */
typedef struct out {
    maif_io_file *f;      /* the new file (unnamed until published) */
    uint64_t flushed;     /* bytes written to f */
    int err;              /* errno of the failed write, or 0 */
    maif_sha256_ctx *sha;
    uint8_t buf[OUTBUF_SIZE];
    size_t n;
    uint64_t total;
    int failed;
} out_t;

static int out_flush(out_t *o)
{
    int e = o->n ? o->f->io->write(o->f, o->buf, o->n, o->flushed) : 0;
    if (e) {
        o->failed = 1;
        o->err = e;
        return MAIF_EIO;
    }
    o->flushed += o->n;
    o->n = 0;
    return MAIF_OK;
}

static int out_put(out_t *o, const void *p, size_t n, int hashed)
{
    if (o->failed) return MAIF_EIO;
    if (hashed && n) maif_sha256_update(o->sha, p, n);
    const uint8_t *s = p;
    o->total += n;
    while (n) {
        size_t k = sizeof o->buf - o->n < n ? sizeof o->buf - o->n : n;
        memcpy(o->buf + o->n, s, k);
        o->n += k;
        s += k;
        n -= k;
        if (o->n == sizeof o->buf && out_flush(o)) return MAIF_EIO;
    }
    return MAIF_OK;
}

static void uuid4(uint8_t id[MAIF_ID_BYTES])
{
    maif_random(id, MAIF_ID_BYTES);
    id[6] = (uint8_t)((id[6] & 0x0f) | 0x40);
    id[8] = (uint8_t)((id[8] & 0x3f) | 0x80);
}

static uint64_t tick(uint64_t *last)
{
    uint64_t t = maif_now_us();
    if (t < *last) t = *last;
    *last = t;
    return t;
}

static void sig_field(uint8_t f[V21_SIG_FIELD], const uint8_t sig[MAIF_SIGNATURE_BYTES])
{
    memset(f, 0, V21_SIG_FIELD);
    memcpy(f, V21_SIG_TAG, V21_SIG_TAG_LEN);
    memcpy(f + V21_SIG_TAG_LEN, sig, MAIF_SIGNATURE_BYTES);
}

/* Appends one provenance entry (ordered as 2.1 writes it) to arr and sets
 * prev_hex to its entry_hash. Takes ownership of meta. */
static int add_entry(json_t *arr, const maif_key *key, uint64_t ts, const char *aid, const char *did,
                     const char *action, const char *block_hash, char prev_hex[2 * MAIF_HASH_BYTES + 1],
                     json_t *meta)
{
    if (!meta) return MAIF_ENOMEM;
    json_int_t pos = (json_int_t)json_array_size(arr);
    char eh[2 * MAIF_HASH_BYTES + 1];
    int rc = v21_entry_hash((json_int_t)ts, aid, did, action, block_hash, prev_hex, pos, meta, eh);
    if (rc) {
        json_decref(meta);
        return rc;
    }
    uint8_t sig[MAIF_SIGNATURE_BYTES];
    char sighex[2 * MAIF_SIGNATURE_BYTES + 1];
    maif_key_sign(key, eh, strlen(eh), sig);
    maif_hex(sig, sizeof sig, sighex);
    json_t *e = json_object();
    int bad = !e;
    if (e) {
        bad |= json_object_set_new(e, "timestamp", json_integer((json_int_t)ts));
        bad |= json_object_set_new(e, "agent_id", json_string(aid));
        bad |= json_object_set_new(e, "agent_did", json_string(did));
        bad |= json_object_set_new(e, "action", json_string(action));
        bad |= json_object_set_new(e, "block_hash", json_string(block_hash));
        bad |= json_object_set_new(e, "entry_hash", json_string(eh));
        bad |= json_object_set_new(e, "previous_entry_hash", json_string(prev_hex));
        bad |= json_object_set_new(e, "signature", json_string(sighex));
        bad |= json_object_set_new(e, "chain_position", json_integer(pos));
        bad |= json_object_set(e, "metadata", meta);
        bad |= json_array_append_new(arr, e);
    }
    json_decref(meta);
    if (bad) return MAIF_ENOMEM;
    memcpy(prev_hex, eh, sizeof eh);
    return MAIF_OK;
}

/* Frees a half-built object; NULL. */
static json_t *drop(json_t *o)
{
    json_decref(o);
    return NULL;
}

static int printable_type(uint32_t t)
{
    for (int s = 24; s >= 0; s -= 8) {
        unsigned c = (t >> s) & 0xff;
        if (c < 0x20 || c > 0x7e) return 0;
    }
    return 1;
}

int v21_write(const v21_source *src, const char *path, const maif_key *key, const char *agent_id, char *err,
              size_t errcap)
{
    if (!src || !path || !key) return maif_set_err(err, errcap, MAIF_EINVAL, "missing source, path or key");
    if (maif_key_is_hardware(key))
        return maif_set_err(err, errcap, MAIF_EUNSUPPORTED, "MAIF 2.1 output cannot be signed on a PKCS#11 token");
    if (maif_key_alg(key) != MAIF_SIG_ED25519)
        return maif_set_err(err, errcap, MAIF_EUNSUPPORTED, "MAIF 2.1 signs with Ed25519 only; this key is %s",
                            maif_sig_alg_name(maif_key_alg(key)));
    if (maif_crypto_init() != MAIF_OK) return maif_set_err(err, errcap, MAIF_ENOMEM, "crypto initialisation failed");
    const uint64_t n = src->count;
    if (n > UINT32_MAX)
        return maif_set_err(err, errcap, MAIF_ELIMIT, "%" PRIu64 " blocks: MAIF 2.1 holds at most 2^32-1", n);

    /* The agent and its DID. */
    char *aid = NULL, *did = NULL;
    if (agent_id && *agent_id) {
        aid = maif_strdup(agent_id);
    } else if (src->agent_did && *src->agent_did) {
        const char *d = src->agent_did;
        aid = maif_strdup(strncmp(d, DID_PREFIX, strlen(DID_PREFIX)) == 0 ? d + strlen(DID_PREFIX) : d);
    } else if (src->agent && *src->agent) {
        const char *a = src->agent;
        aid = maif_strdup(strncmp(a, DID_PREFIX, strlen(DID_PREFIX)) == 0 ? a + strlen(DID_PREFIX) : a);
    } else {
        aid = maif_strdup("anonymous");
    }
    if (!aid || !(did = maif_asprintf(DID_PREFIX "%s", aid))) {
        maif_free(aid);
        return maif_set_err(err, errcap, MAIF_ENOMEM, "out of memory");
    }

    int rc = MAIF_OK;
    wblock *wb = maif_calloc(n ? n : 1, sizeof *wb);
    uint8_t *hashes = maif_malloc(n ? n * MAIF_HASH_BYTES : 1), *merkle_tmp = maif_malloc(n ? n * MAIF_HASH_BYTES : 1);
    json_t *prov = json_array();
    maif_buf pj = {0}, sj = {0};
    uint8_t *msg = NULL;
    size_t msg_cap = 0;
    out_t *o = NULL;
    if (!wb || !hashes || !merkle_tmp || !prov) {
        rc = maif_set_err(err, errcap, MAIF_ENOMEM, "out of memory");
        goto done;
    }

    /* Pass 1: metadata, sizes, hashes. */
    uint64_t off = MAIF21_HEADER_SIZE;
    for (uint64_t i = 0; i < n; i++) {
        maif_block bk;
        if ((rc = src->block(src->ctx, i, &bk)) != MAIF_OK) {
            maif_set_err(err, errcap, rc, "block %" PRIu64 ": cannot be read (%s)", i, maif_strerror(rc));
            goto done;
        }
        if (bk.has_supersedes) {
            rc = maif_set_err(err, errcap, MAIF_EUNSUPPORTED,
                              "block %" PRIu64 " supersedes another block; MAIF 2.1 cannot record supersedes links", i);
            goto done;
        }
        if (bk.codec || bk.cipher) {
            rc = maif_set_err(err, errcap, MAIF_EUNSUPPORTED,
                              "block %" PRIu64 " is encrypted; MAIF 2.1 cannot hold encryption, and writing its "
                              "plaintext would strip it", i);
            goto done;
        }
        if (!printable_type(bk.type)) {
            rc = maif_set_err(err, errcap, MAIF_EUNSUPPORTED,
                              "block %" PRIu64 ": type 0x%08x is not four printable characters", i, bk.type);
            goto done;
        }
        if (!bk.meta || bk.meta_size == 0) {
            rc = maif_buf_append(&wb[i].meta, "{}", 2);
        } else {
            char jerr[160] = "";
            rc = maif_json_canonicalize(bk.meta, bk.meta_size, MAIF_JSON_PY, &wb[i].meta, jerr, sizeof jerr);
            if (rc != MAIF_OK) {
                maif_set_err(err, errcap, rc, "block %" PRIu64 ": metadata: %s", i, jerr[0] ? jerr : maif_strerror(rc));
                goto done;
            }
        }
        if (rc != MAIF_OK) {
            maif_set_err(err, errcap, rc, "out of memory");
            goto done;
        }
        if (bk.type == MAIF_TYPE_EMBEDDING) {
            json_t *em = json_loadb((const char *)wb[i].meta.data, wb[i].meta.len, JSON_ALLOW_NUL, NULL);
            int fits = v21_embedding_fits(bk.payload_size, em);
            json_decref(em);
            if (!fits) {
                rc = maif_set_err(err, errcap, MAIF_EUNSUPPORTED,
                                  "block %" PRIu64 ": an embedding of %zu bytes that is not whole float32 rows of "
                                  "its \"dimensions\" (and \"count\"); MAIF 2.1 requires them", i, bk.payload_size);
                goto done;
            }
        }
        uint64_t size = (uint64_t)MAIF21_BLOCK_HEADER_SIZE + bk.payload_size + wb[i].meta.len;
        if (size > UINT32_MAX || !add_ok(off, size, &off)) {
            rc = maif_set_err(err, errcap, MAIF_ELIMIT, "block %" PRIu64 ": %zu payload bytes exceed the 2.1 block size "
                              "limit (4 GiB)", i, bk.payload_size);
            goto done;
        }
        wb[i].size = (uint32_t)size;
        memcpy(wb[i].id, bk.id, MAIF_ID_BYTES);
        int nonempty = !(wb[i].meta.len == 2 && memcmp(wb[i].meta.data, "{}", 2) == 0);
        v21_content_hash(bk.payload, bk.payload_size, wb[i].meta.data, wb[i].meta.len, nonempty,
                         hashes + i * MAIF_HASH_BYTES);
    }
    const uint64_t po = off;
    uint8_t root[MAIF_HASH_BYTES];
    memcpy(merkle_tmp, hashes, n * MAIF_HASH_BYTES);
    v21_merkle(merkle_tmp, n, root);

    /* Provenance: genesis, one add_* per block, finalize. */
    uint8_t file_id[MAIF_ID_BYTES], creator_id[MAIF_ID_BYTES];
    uuid4(file_id);
    uuid4(creator_id);
    uint64_t created = src->created_us ? src->created_us : maif_now_us(), last = created;
    char prev[2 * MAIF_HASH_BYTES + 1] = "", hex[2 * MAIF_HASH_BYTES + 1], idhex[2 * MAIF_ID_BYTES + 1];
    {
        char *seed = NULL;
        if (!(seed = maif_asprintf("genesis:%s:%" PRIu64, aid, created))) {
            rc = maif_set_err(err, errcap, MAIF_ENOMEM, "out of memory");
            goto done;
        }
        uint8_t gh[MAIF_HASH_BYTES];
        maif_sha256(seed, strlen(seed), gh);
        maif_free(seed);
        json_t *gm = json_object();
        if (gm && (json_object_set_new(gm, "file_id", json_string(maif_hex(file_id, MAIF_ID_BYTES, idhex))) ||
                   json_object_set_new(gm, "creator_id", json_string(maif_hex(creator_id, MAIF_ID_BYTES, idhex))) ||
                   json_object_set_new(gm, "format_version", json_string("2.1")) ||
                   json_object_set_new(gm, "key_algorithm", json_string("Ed25519"))))
            gm = drop(gm); /* out of memory: add_entry says so */
        rc = add_entry(prov, key, created, aid, did, "genesis", maif_hex(gh, sizeof gh, hex), prev, gm);
    }
    for (uint64_t i = 0; rc == MAIF_OK && i < n; i++) {
        maif_block bk;
        if ((rc = src->block(src->ctx, i, &bk)) != MAIF_OK) break;
        char action[32];
        snprintf(action, sizeof action, "add_%s_block", v21_kind(bk.type));
        json_t *bm = json_object();
        if (bm && (json_object_set_new(bm, "block_id", json_string(maif_hex(wb[i].id, MAIF_ID_BYTES, idhex))) ||
                   json_object_set_new(bm, "size", json_integer((json_int_t)bk.payload_size))))
            bm = drop(bm);
        rc = add_entry(prov, key, tick(&last), aid, did, action, maif_hex(hashes + i * MAIF_HASH_BYTES, MAIF_HASH_BYTES, hex),
                       prev, bm);
    }
    if (rc == MAIF_OK) {
        json_t *fm = json_object();
        if (fm && json_object_set_new(fm, "block_count", json_integer((json_int_t)n))) fm = drop(fm);
        rc = add_entry(prov, key, tick(&last), aid, did, "finalize", maif_hex(root, sizeof root, hex), prev, fm);
    }
    if (rc == MAIF_OK) rc = v21_json_dump_ordered(prov, &pj);
    if (rc != MAIF_OK) {
        maif_set_err(err, errcap, rc, "cannot build the provenance section (agent id must be UTF-8): %s",
                     maif_strerror(rc));
        goto done;
    }

    /* Security section. */
    uint8_t pk[MAIF_PUBKEY_BYTES];
    char pkhex[2 * MAIF_PUBKEY_BYTES + 1];
    maif_key_public(key, pk);
    uint64_t signed_at = tick(&last);
    {
        json_t *s = json_object();
        if (!s) {
            rc = maif_set_err(err, errcap, MAIF_ENOMEM, "out of memory");
            goto done;
        }
        int bad = json_object_set_new(s, "signer_id", json_string(aid));
        bad |= json_object_set_new(s, "signer_did", json_string(did));
        bad |= json_object_set_new(s, "public_key", json_string(maif_hex(pk, sizeof pk, pkhex)));
        bad |= json_object_set_new(s, "key_algorithm", json_string("Ed25519"));
        bad |= json_object_set_new(s, "signature_algorithm", json_string("Ed25519"));
        bad |= json_object_set_new(s, "signed_at", json_integer((json_int_t)signed_at));
        rc = bad ? MAIF_ENOMEM : v21_json_dump_ordered(s, &sj);
        json_decref(s);
        if (rc != MAIF_OK) {
            maif_set_err(err, errcap, rc, "cannot build the security section");
            goto done;
        }
    }
    if (pj.len > UINT32_MAX || sj.len > UINT32_MAX) {
        rc = maif_set_err(err, errcap, MAIF_ELIMIT, "provenance section too large for MAIF 2.1");
        goto done;
    }
    const uint64_t so = po + 4 + pj.len, io = so + 4 + sj.len;

    /* Header. */
    uint8_t hdr[MAIF21_HEADER_SIZE] = {0};
    memcpy(hdr + V21_H_MAGIC, "MAIF", 4);
    wr16be(hdr + V21_H_VMAJOR, 2);
    wr16be(hdr + V21_H_VMINOR, 1);
    wr32be(hdr + V21_H_FLAGS, V21_HEADER_FLAGS);
    wr64be(hdr + V21_H_CREATED, created);
    wr64be(hdr + V21_H_MODIFIED, tick(&last));
    memcpy(hdr + V21_H_FILE_ID, file_id, MAIF_ID_BYTES);
    memcpy(hdr + V21_H_CREATOR_ID, creator_id, MAIF_ID_BYTES);
    size_t dl = strlen(did);
    memcpy(hdr + V21_H_AGENT_DID, did, dl < V21_DID_LEN ? dl : V21_DID_LEN);
    wr32be(hdr + V21_H_BLOCK_COUNT, (uint32_t)n);
    wr64be(hdr + V21_H_PROV_OFF, po);
    wr64be(hdr + V21_H_SEC_OFF, so);
    wr64be(hdr + V21_H_INDEX_OFF, io);
    memcpy(hdr + V21_H_MERKLE, root, MAIF_HASH_BYTES);
    uint8_t sig[MAIF_SIGNATURE_BYTES];
    maif_key_sign(key, hdr, V21_H_SIGNED_LEN, sig);
    sig_field(hdr + V21_H_SIGNATURE, sig);

    /* Pass 2: stream everything out. */
    o = maif_calloc(1, sizeof *o);
    if (!o || !(o->sha = maif_sha256_new())) {
        rc = maif_set_err(err, errcap, MAIF_ENOMEM, "out of memory");
        goto done;
    }
    maif_sha256_init(o->sha);
    /* unnamed until complete (io.h: open_temp): a killed writer leaves nothing */
    const maif_io *vfs = maif_io_default();
    int ioe = vfs->open_temp(vfs, path, &o->f);
    if (ioe) {
        rc = maif_set_err(err, errcap, maif_io_code(ioe), "cannot create a temporary file beside %s: %s", path,
                          strerror(ioe));
        goto done;
    }
    out_put(o, hdr, sizeof hdr, 1);
    uint8_t *index = maif_malloc(n ? n * MAIF21_INDEX_ENTRY_SIZE : 1);
    if (!index) {
        rc = maif_set_err(err, errcap, MAIF_ENOMEM, "out of memory");
        goto done;
    }
    off = MAIF21_HEADER_SIZE;
    for (uint64_t i = 0; i < n; i++) {
        maif_block bk;
        if ((rc = src->block(src->ctx, i, &bk)) != MAIF_OK) {
            maif_free(index);
            maif_set_err(err, errcap, rc, "block %" PRIu64 ": cannot be read", i);
            goto done;
        }
        uint8_t bh[MAIF21_BLOCK_HEADER_SIZE] = {0};
        wr32be(bh + V21_B_SIZE, wb[i].size);
        wr32be(bh + V21_B_TYPE, bk.type);
        wr32be(bh + V21_B_FLAGS, V21_BLOCK_FLAGS);
        wr32be(bh + V21_B_VERSION, V21_BLOCK_VERSION);
        wr64be(bh + V21_B_TIMESTAMP, bk.timestamp_us);
        memcpy(bh + V21_B_ID, wb[i].id, MAIF_ID_BYTES);
        if (i) memcpy(bh + V21_B_PREV, hashes + (i - 1) * MAIF_HASH_BYTES, MAIF_HASH_BYTES);
        memcpy(bh + V21_B_HASH, hashes + i * MAIF_HASH_BYTES, MAIF_HASH_BYTES);
        wr32be(bh + V21_B_META_SIZE, (uint32_t)wb[i].meta.len);
        size_t need = V21_B_SIGNED_PREFIX + bk.payload_size + wb[i].meta.len;
        if (need > msg_cap) {
            uint8_t *p = maif_realloc(msg, need);
            if (!p) {
                maif_free(index);
                rc = maif_set_err(err, errcap, MAIF_ENOMEM, "out of memory");
                goto done;
            }
            msg = p;
            msg_cap = need;
        }
        v21_block_prefix(bh, msg);
        if (bk.payload_size) memcpy(msg + V21_B_SIGNED_PREFIX, bk.payload, bk.payload_size);
        memcpy(msg + V21_B_SIGNED_PREFIX + bk.payload_size, wb[i].meta.data, wb[i].meta.len);
        maif_key_sign(key, msg, need, sig);
        sig_field(bh + V21_B_SIGNATURE, sig);
        out_put(o, bh, sizeof bh, 1);
        if (bk.payload_size) out_put(o, bk.payload, bk.payload_size, 1);
        out_put(o, wb[i].meta.data, wb[i].meta.len, 1);
        uint8_t *e = index + i * MAIF21_INDEX_ENTRY_SIZE;
        wr64be(e, off);
        wr64be(e + 8, wb[i].size);
        wr32be(e + 16, bk.type);
        wr32be(e + 20, V21_BLOCK_FLAGS);
        off += wb[i].size;
    }
    uint8_t l4[4];
    wr32be(l4, (uint32_t)pj.len);
    out_put(o, l4, 4, 1);
    out_put(o, pj.data, pj.len, 1);
    wr32be(l4, (uint32_t)sj.len);
    out_put(o, l4, 4, 1);
    out_put(o, sj.data, sj.len, 1);
    out_put(o, index, n * MAIF21_INDEX_ENTRY_SIZE, 1);
    maif_free(index);
    uint8_t foot[MAIF21_FOOTER_SIZE] = {0};
    memcpy(foot, V21_FOOTER_MAGIC, 4);
    wr64be(foot + 4, io + n * MAIF21_INDEX_ENTRY_SIZE + MAIF21_FOOTER_SIZE);
    maif_sha256_final(o->sha, foot + 12);
    out_put(o, foot, sizeof foot, 0);
    if (o->failed || out_flush(o) != MAIF_OK || (o->err = vfs->sync(o->f, MAIF_IO_SYNC_FULL))) {
        rc = maif_set_err(err, errcap, o->err == ENOMEM ? MAIF_ENOMEM : MAIF_EIO, "cannot write %s: %s", path,
                          strerror(o->err ? o->err : EIO));
        goto done;
    }
    if ((ioe = vfs->publish(o->f, path, 1))) {
        rc = maif_set_err(err, errcap, maif_io_code(ioe), "cannot put %s in place: %s", path, strerror(ioe));
        goto done;
    }
    (void)vfs->sync_dir(vfs, path);

done:
    if (o) {
        if (o->f && o->f->io->close(o->f) && rc == MAIF_OK) /* an unpublished file vanishes */
            rc = maif_set_err(err, errcap, MAIF_EIO, "cannot close %s", path);
        maif_sha256_free(o->sha);
        maif_free(o);
    }
    if (wb)
        for (uint64_t i = 0; i < n; i++) maif_buf_free(&wb[i].meta);
    maif_free(wb);
    maif_free(hashes);
    maif_free(merkle_tmp);
    maif_free(msg);
    json_decref(prov);
    maif_buf_free(&pj);
    maif_buf_free(&sj);
    maif_free(aid);
    maif_free(did);
    return rc;
}

static int v21_src_block(void *ctx, uint64_t i, maif_block *out) { return maif21_block(ctx, i, out); }

int maif21_write_from_v21(const maif21 *m, const char *path, const maif_key *key, const char *agent_id, char *err,
                          size_t errcap)
{
    if (!m) return maif_set_err(err, errcap, MAIF_EINVAL, "no source");
    v21_source s = {
        .ctx = (void *)m,
        .count = m->n,
        .block = v21_src_block,
        .created_us = rd64be(m->buf + V21_H_CREATED),
        .agent_did = m->agent,
    };
    return v21_write(&s, path, key, agent_id, err, errcap);
}
