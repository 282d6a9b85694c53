/*
 * native_writer.h — the writer's handle, shared by the two files that make
 * up the native writer; internal.
 *
 * native_open.c brings a writer into being and ends it (create, open,
 * recover, close); native_write.c appends batches to it (add, index,
 * commit, rollback). Both work on every field of struct maif_writer, so
 * the struct lives here rather than in either file, together with the two
 * helpers that set the handle's error message.
 */
#ifndef MAIF_NATIVE_WRITER_H
#define MAIF_NATIVE_WRITER_H

#include <stdint.h>

#include "codec/codec.h"
#include "format/format.h"
#include "format/native/native.h"
#include "util/buf.h"
#include "crypto/hasher.h"
#include "io/io.h"

#define ID_POOL     (256u * MAIF_ID_BYTES) /* random bytes fetched at once for block ids */

/* The queue of group commits and asynchronous appends (native_group.c). */
typedef struct nat_group nat_group;

struct maif_writer {
    maif_io_file *f;      /* read-write, exclusive lock held */
    const maif_io *io;    /* the methods f came from */
    int unpublished;      /* created with NAT_W_UNPUBLISHED and not yet named */
    char *path;
    const maif_key *key;  /* borrowed */
    uint8_t pk[32];
    uint8_t file_id[MAIF_ID_BYTES]; /* the header's: bound into every sealed payload's associated data */
    unsigned flags;
    int dead;             /* an I/O error left the file in an unknown state */
    char err[512];

    /* committed state: what a reader opening now would see */
    uint64_t c_end;       /* end of the last commit record = start of the batch */
    uint64_t c_blocks;
    uint64_t c_seq_next;  /* sequence number of the next commit */
    uint64_t c_last_off;  /* offset of the last commit record */
    uint8_t c_chain[32];  /* record_hash of the last commit */
    nat_merkle c_merkle;
    nat_seg seg[NAT_MAX_SEGMENTS];
    uint32_t nseg;
    maif_buf rebuild;     /* when the stored index was damaged: all committed offsets; else empty */
    int rebuild_index;

    /* pending batch */
    uint64_t pos;         /* logical end of file, buffered bytes included */
    uint8_t chain[32];    /* record_hash of the last record appended */
    nat_merkle merkle;
    maif_buf pend;        /* u64 offsets of the batch's blocks */
    maif_buf nodes;       /* the Merkle nodes (height >= 7) the batch's blocks completed, in
                             node-record order (FORMAT.md §5.13): written after its index leaf */
    int nodes_lost;       /* out of memory collecting them: this batch gets no node record */
    maif_buf wbuf;        /* bytes not yet written; wbuf[0] belongs at file offset wbuf_off */
    uint64_t wbuf_off;
    maif_buf meta;        /* scratch: canonical metadata */
    /* blocks added with maif_writer_add_borrowed whose payloads are neither
     * written nor hashed yet (native_write.c: drain); their records are
     * holes in the file until then */
    maif_buf bor;         /* struct borrowed entries, in append order */
    maif_buf bor_em;      /* their ext ‖ metadata bytes, back to back */
    uint64_t bor_bytes;   /* payload bytes they hold */
    uint8_t *arena;       /* NAT_ARENA bytes for copies of large payloads (maif_writer_add)
                             waiting in bor; allocated on first use, kept until close */
    size_t arena_used;
    maif_buf seals;       /* maif_stage_seal of the blocks in bor whose sealing drain does */
    int arena_hashing;    /* the hasher may be hashing blocks in the arena (defer_seal) */
    /* small records in wbuf whose content hashes the helper thread is
     * computing; they are chained (record hash, Merkle tree) by settle() */
    maif_hasher *hasher;  /* NULL until the first small record, or for good */
    int hasher_off;       /* 1: one CPU, or the helper could not start */
    int hash_alg;         /* MAIF_HASH_*: the file's content hash (header flag) */
    maif_buf hpend;       /* struct hrec entries, in append order */
    /* Block ids are random but not secret; one getrandom() per 256 ids
     * instead of one per block (the syscall cost more than hashing 1 KiB). */
    uint8_t id_pool[ID_POOL];
    uint32_t id_pool_used; /* bytes of id_pool handed out; ID_POOL: empty */
    int meta_trusted;     /* set by maif_writer_add_draft around one add: spec->meta_json
                             was serialised canonically by the draft and is copied as is */
    /* payload stages (codec/codec.h) for the blocks added from now on;
     * 0/0 (the default) stores payloads as they are, with no copy */
    maif_stage_config stages;
    uint8_t stage_key_id[MAIF_KEY_ID_MAX]; /* stages.key_id points here */
    maif_stage_scratch stage_scratch;      /* the encoded bytes of the block being added */
    struct maif_zdict *dict;  /* the dictionary codec 3 compresses with (owned), or NULL */
    uint8_t dict_ref[NAT_EXT_DICT_REF_MAX]; /* its block number, shortest little-endian: the dict_ref extension */
    uint8_t dict_ref_len;
    uint64_t dict_index;  /* that block number */
    nat_group *group;     /* commit queue shared by threads (native_group.c); set at alloc */
    const struct nat_encoded *pre; /* set around one nat_writer_add_encoded: prepare takes
                                      the stages' output from it instead of encoding */
    /* the artifact's access policy as a write gate (native_gate.c): asked
     * by prepare before every block, whatever the add path */
    int gate_state;       /* 0: not established for the committed state; 1: established */
    int gate_polyblock;   /* the pending batch adds a policy block: re-establish after commit */
    maif_write_gate_fn gate_fn; /* NULL: no policy */
    void *gate_ctx;
    void (*gate_free)(void *ctx);
};

/* Establishes (once per committed state) and applies the artifact's write
 * gate to spec (native_gate.c). MAIF_OK, or MAIF_EACCESS with the reason
 * as the writer's message. cipher is the one the writer would seal with. */
int nat_writer_gate_check(maif_writer *w, const maif_block_spec *spec, int cipher);
/* Forgets the gate (commit of a policy block, close). */
void nat_writer_gate_reset(maif_writer *w);

/* A block whose stages (codec, cipher) a worker has run ahead of the
 * writer, with the content hash of the stored bytes (native_group.c). The
 * spec it belongs to must name its block id (the associated data binds
 * it), and the writer's stages must be the ones it was encoded with. */
typedef struct nat_encoded {
    maif_stage_out out;             /* stored bytes: the payload, or in the worker's scratch */
    uint8_t tlv[NAT_EXT_BUILD_MAX]; /* the TLVs the stages appended */
    uint16_t tlv_len;
    uint8_t content_hash[32];
} nat_encoded;

/* As maif_writer_add of spec (spec->id set), with e's stored bytes and
 * content hash: only the chain is computed here. */
int nat_writer_add_encoded(maif_writer *w, const maif_block_spec *spec, const nat_encoded *e,
                           uint8_t id_out[MAIF_ID_BYTES]);

#define NAT_ARENA (16u << 20)

/* Sets the stages the next blocks go through (cfg NULL: none/none); the
 * key id is copied. Not part of the public API: the public way to choose
 * a codec is maif_writer_set_codec (which keeps the cipher); engines and
 * tests that register stages use this.
 * Errors: MAIF_EINVAL, MAIF_EUNSUPPORTED (an id not registered). */
int nat_writer_set_stages(maif_writer *w, const maif_stage_config *cfg);

/* Points w->stages' dictionary fields at w->dict (or clears them);
 * native_dict.c. Called whenever the stages are replaced. */
void nat_writer_dict_stages(maif_writer *w);
/* After a rollback: forgets a dictionary that was added in the discarded
 * batch (its block number is free again); codec 3 falls back to zstd. */
void nat_writer_dict_rollback(maif_writer *w);

/* Forgets the deferred blocks (and so the copies in the arena). */
void nat_writer_bor_release(maif_writer *w);
/* Stops the hashing helper (if any); for close. */
void nat_writer_stop_hasher(maif_writer *w);

/* Group commit (native_group.c): the queue is made with the writer and
 * ended by close, which first waits for queued asynchronous appends.
 * queue bounds the asynchronous requests (0: MAIF_ASYNC_QUEUE_DEFAULT). */
int nat_group_init(maif_writer *w, size_t queue);
/* As maif_writer_commit, but a durable writer skips the fsync after the
 * commit record (the batch itself is synced before it): the caller syncs
 * (native_group.c overlaps it with the next group's work). The writer's
 * committed state already includes the batch when it returns. */
int nat_writer_commit_nosync(maif_writer *w);
/* MAIF_OPT_ASYNC_QUEUE (0: keep) and MAIF_OPT_WORKERS (0: the usable CPUs). */
void nat_group_config(maif_writer *w, size_t queue, unsigned workers);
int nat_group_close(maif_writer *w);

/* Formats the handle's error message and returns code. */
int nat_writer_fail(maif_writer *w, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Marks the writer dead after a failed I/O call (what) that returned the
 * errno value e, and returns MAIF_EIO (MAIF_ENOMEM for ENOMEM) with
 * "<path>: <what>: <strerror(e)>" as its message. */
int nat_writer_io_fail(maif_writer *w, const char *what, int e);
/* Maps the committed part of w's file ([0, w->c_end)) and opens a view
 * of it: on success *map and *v are set and the caller ends with
 * w->io->unmap(w->io, *map, w->c_end); on failure nothing stays mapped
 * and the error is on the handle. */
int nat_writer_view_committed(maif_writer *w, const void **map, nat_view *v);
/* Best effort: cuts the file back to the end of the last commit, after an
 * I/O error left uncommitted bytes behind it. */
void nat_writer_cut_uncommitted(maif_writer *w);

/* ---- for the streaming add (native_stream.c); the rest of the batch
 * path stays private to native_write.c */
/* Checks spec and builds its record but for payload and hashes (prepare;
 * spec's payload fields are ignored). With a cipher on, plan (its in_size
 * set to the payload's size) receives the planned seal and the header the
 * stored size; without plan a cipher is refused, and a codec too unless
 * plan->coded says the payload went through it already (its decoded_size,
 * codec and in_size set: maif_stage_plan_coded). */
int nat_writer_prepare(maif_writer *w, const maif_block_spec *spec, uint8_t hdr[NAT_REC_HEADER],
                       uint8_t ext[NAT_EXT_BUILD_MAX], uint16_t *ext_size, uint32_t *meta_size,
                       uint8_t id[MAIF_ID_BYTES], maif_stage_seal *plan);
/* Writes and chains everything appended so far (deferred payloads, queued
 * hashes, the buffer): afterwards the next record starts at w->pos, which
 * equals w->wbuf_off, and w->chain covers every record before it. */
int nat_writer_settle_all(maif_writer *w);
/* Payloads that cannot stream as they arrive (no size announced, or a
 * zstd codec) are read whole up to n bytes and spooled past that
 * (native_stream.c; 1 MiB by default). For tests. */
void nat_stream_set_spool_min(uint64_t n);
/* Adds a record to the chain (and a block to the Merkle tree); hdr holds
 * its content hash and receives its record hash. */
void nat_writer_chain(maif_writer *w, uint8_t *hdr, const uint8_t *ext, uint16_t ext_size, const uint8_t *meta,
                      uint32_t meta_size);
/* Writes n bytes at off; on failure the writer is dead (MAIF_EIO). */
int nat_writer_pwrite(maif_writer *w, const void *p, size_t n, uint64_t off);
/* Truncates the file to off; on failure the writer is dead (MAIF_EIO). */
int nat_writer_cut(maif_writer *w, uint64_t off);

#endif
