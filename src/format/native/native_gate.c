/*
 * native_gate.c — the artifact's access policy, enforced on every add.
 *
 * A policy block (type POLY) states the level rules writers must obey
 * (FORMAT.md §5.11). Parsing it and checking the signatures that make it
 * the current one belong to the privacy engine, a layer above, so the
 * engine registers a loader (format.h) and the writer calls it. The
 * writer itself only finds out whether the committed artifact holds a
 * policy block at all, by a pass over the block headers on the first add
 * after open and after each commit of a policy block (about 26 ms per
 * million blocks, page cache warm; the next writer of the same artifact in
 * the process passes only over the blocks added since): an artifact
 * without one costs that pass and nothing per block. Fail-closed: a policy block
 * with no loader linked (a static program without the privacy engine), or
 * policy blocks that establish no current policy, refuse every add but
 * control blocks' (MAIF_EACCESS).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "format/format.h"
#include "format/native/native.h"
#include "format/native/native_writer.h"

static _Atomic(maif_write_gate_loader) g_loader;

void maif_write_gate_register(maif_write_gate_loader loader) { atomic_store(&g_loader, loader); }
maif_write_gate_loader maif_write_gate_loader_get(void) { return atomic_load(&g_loader); }

void nat_writer_gate_reset(maif_writer *w)
{
    if (w->gate_free && w->gate_ctx) w->gate_free(w->gate_ctx);
    w->gate_fn = NULL;
    w->gate_ctx = NULL;
    w->gate_free = NULL;
    w->gate_state = 0;
}

static int is_control(uint32_t type)
{
    return type == MAIF_TYPE_KEYWRAP || type == MAIF_TYPE_AUDIT || type == MAIF_TYPE_ERASURE ||
           type == MAIF_TYPE_POLICY;
}

/* What a pass found, remembered for the next writer of the same artifact
 * in this process (a server opens one per request): blocks [0, blocks) of
 * the history that ends with the commit record at commit_off, whose record
 * hash is chain, hold no POLY block. The chain hash covers every record
 * before it, so a file whose commit at that offset has that hash has the
 * same first blocks, whatever its name; a copy that went another way
 * since does not match and is scanned whole. */
#define MEMO_SLOTS 8
typedef struct scan_memo {
    uint8_t file_id[MAIF_ID_BYTES];
    uint64_t blocks, commit_off;
    uint8_t chain[32];
    int used;
} scan_memo;
static scan_memo g_memo[MEMO_SLOTS];
static unsigned g_memo_next;
static pthread_mutex_t g_memo_mu = PTHREAD_MUTEX_INITIALIZER;

/* Blocks of w's committed history known to hold no POLY block. */
static uint64_t memo_start(maif_writer *w)
{
    scan_memo m = {0};
    pthread_mutex_lock(&g_memo_mu);
    for (unsigned i = 0; i < MEMO_SLOTS; i++)
        if (g_memo[i].used && !memcmp(g_memo[i].file_id, w->file_id, MAIF_ID_BYTES) &&
            g_memo[i].blocks <= w->c_blocks && g_memo[i].blocks > m.blocks && g_memo[i].commit_off < w->c_end)
            m = g_memo[i];
    pthread_mutex_unlock(&g_memo_mu);
    if (!m.used) return 0;
    uint8_t hdr[NAT_REC_HEADER];
    if (w->io->read(w->f, hdr, sizeof hdr, m.commit_off) || hdr[NR_KIND] != NAT_KIND_COMMIT ||
        memcmp(hdr + NR_RECORD_HASH, m.chain, 32) != 0)
        return 0;
    return m.blocks;
}

static void memo_put(maif_writer *w)
{
    pthread_mutex_lock(&g_memo_mu);
    unsigned slot = g_memo_next;
    for (unsigned i = 0; i < MEMO_SLOTS; i++)
        if (g_memo[i].used && !memcmp(g_memo[i].file_id, w->file_id, MAIF_ID_BYTES)) slot = i;
    if (slot == g_memo_next) g_memo_next = (g_memo_next + 1) % MEMO_SLOTS;
    scan_memo *m = &g_memo[slot];
    memcpy(m->file_id, w->file_id, MAIF_ID_BYTES);
    m->blocks = w->c_blocks;
    m->commit_off = w->c_last_off;
    memcpy(m->chain, w->c_chain, 32);
    m->used = 1;
    pthread_mutex_unlock(&g_memo_mu);
}

/* 1 if a committed block has type POLY, 0 if none, or a MAIF_E* code. */
static int has_policy_block(maif_writer *w)
{
    if (w->c_blocks == 0) return 0;
    uint64_t from = memo_start(w);
    if (from == w->c_blocks) return 0;
    const void *map = NULL;
    nat_view v;
    int rc = nat_writer_view_committed(w, &map, &v);
    if (rc) return rc;
    const uint8_t *base = map;
    char err[300];
    int found = 0;
    for (uint64_t i = from; i < v.last.blocks && !found; i++) {
        uint64_t off;
        nat_rec r;
        if (nat_view_block_offset(&v, base, i, &off) || nat_block_rec(base, v.committed, off, i, &r, err, sizeof err))
            continue; /* a damaged record is not a policy (the loader's reader sees the same) */
        found = r.type == MAIF_TYPE_POLICY;
    }
    nat_view_free(&v);
    w->io->unmap(w->io, map, w->c_end);
    if (!found) memo_put(w);
    return found;
}

int nat_writer_gate_check(maif_writer *w, const maif_block_spec *spec, int cipher)
{
    if (spec->type == MAIF_TYPE_POLICY) w->gate_polyblock = 1;
    if (is_control(spec->type)) return MAIF_OK; /* the policy's own rule: control blocks always pass */
    /* a file still being built under no name (a conversion copying its
     * source) has no readers, and its path names another file */
    if (w->unpublished) return MAIF_OK;
    if (!w->gate_state) {
        int has = has_policy_block(w);
        if (has < 0) return has;
        if (has) {
            maif_write_gate_loader load = maif_write_gate_loader_get();
            if (!load)
                return nat_writer_fail(w, MAIF_EACCESS,
                                       "%s: the artifact has an access policy and this program has no privacy "
                                       "engine to enforce it (access denied)",
                                       w->path);
            char why[256] = "";
            int rc = load(w->path, &w->gate_fn, &w->gate_ctx, &w->gate_free, why, sizeof why);
            if (rc) {
                nat_writer_gate_reset(w);
                return nat_writer_fail(w, rc, "%s: %s", w->path, why[0] ? why : maif_strerror(rc));
            }
        }
        w->gate_state = 1;
    }
    if (!w->gate_fn) return MAIF_OK;
    char why[256] = "";
    int rc = w->gate_fn(w->gate_ctx, spec, cipher, w->pk, why, sizeof why);
    if (rc) return nat_writer_fail(w, rc, "%s: %s (block not added)", w->path, why[0] ? why : maif_strerror(rc));
    return MAIF_OK;
}
