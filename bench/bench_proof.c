/*
 * bench_proof.c — what gathering a proof costs, with the Merkle node
 * records (FORMAT.md §5.13) and, as the baseline in the same run, without
 * them: the leaves-only path every file had before them (and files without
 * node records still take).
 *
 * usage: bench_proof DIR [MAX_BLOCKS]
 *
 * For n = 1 000, 10 000, 100 000 and 1 000 000 blocks (up to MAX_BLOCKS,
 * default 1 000 000): an artifact of n 64-byte blocks committed every 1 000
 * blocks, loaded into memory, and the same written without node records
 * (for its size only). On the image:
 *   - an inclusion proof of block 0 (in the largest perfect subtree of the
 *     frontier: the old path's worst case) and of block n/2, gathered with
 *     the stored nodes and with the leaves only (nat_proof_inclusion_path);
 *   - a consistency proof from commit 1 (1 000 blocks) to the last;
 *   - the public call (maif_reader_prove_inclusion of block 0, which also
 *     finds the commit and checks the path against its root).
 * Each figure is the median over repetitions (at least 3, up to 0.3 s);
 * "records" and "bytes" are what the gatherer looked up, counted by the
 * image functions the library uses (record headers, index entries, node
 * hashes; directory search steps, 16 bytes each, not counted).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "benchutil.h"
#include "format/native/native_proof.h"
#include "format/native/native_writer.h"

#define PAYLOAD 64
#define BATCH   1000

typedef struct cost {
    double us;
    uint64_t reads, bytes;
    uint32_t len;
} cost;

typedef struct img {
    uint8_t *b;
    uint64_t n;
    nat_view v;
    nat_merkle fr;
} img;

static void make(const char *path, uint64_t n, maif_key *key, unsigned flags)
{
    maif_writer *w = NULL;
    bu_check(nat_writer_create(&w, path, key, NULL, 0, MAIF_W_OVERWRITE | flags), "writer create", maif_last_errmsg());
    uint8_t p[PAYLOAD];
    maif_block_spec s = {.type = MAIF_TYPE_TEXT, .payload = p, .payload_size = PAYLOAD};
    for (uint64_t i = 0; i < n; i++) {
        bu_fill(p, sizeof p, i);
        bu_check(maif_writer_add(w, &s, NULL), "add", maif_writer_errmsg(w));
        if ((i + 1) % BATCH == 0) bu_check(maif_writer_commit(w), "commit", maif_writer_errmsg(w));
    }
    bu_check(maif_writer_commit(w), "commit", maif_writer_errmsg(w));
    bu_check(maif_writer_close(w), "close", NULL);
}

static void load(const char *path, img *m)
{
    m->n = bu_file_size(path);
    m->b = malloc((size_t)m->n);
    FILE *f = fopen(path, "rb");
    if (!m->b || !f || fread(m->b, 1, (size_t)m->n, f) != m->n) {
        fprintf(stderr, "bench_proof: cannot read %s\n", path);
        exit(1);
    }
    fclose(f);
    char err[200];
    bu_check(nat_view_open(&m->v, m->b, m->n, err, sizeof err), "view", err);
    bu_check(nat_merkle_load(&m->fr, m->v.last.blocks, (const uint8_t(*)[32])m->v.last.frontier, m->v.last.nfrontier),
             "frontier", NULL);
}

/* kind 0: inclusion of block b; 1: consistency from b blocks to the end. */
static cost measure(img *m, int kind, uint64_t b, int nodes)
{
    nat_proof_image im = {&m->v, m->b, m->n, 0, 0};
    nat_tree_src src = {nat_proof_image_leaf, nodes ? nat_proof_image_node : NULL, &im, nodes ? nat_proof_image_span : NULL};
    uint8_t path[NAT_PROOF_MAX_CONSISTENCY][32];
    double t[1000];
    size_t k = 0;
    double start = bu_now();
    cost c = {0};
    while (k < 1000 && (k < 3 || bu_now() - start < 0.3)) {
        im.reads = im.bytes = 0;
        double a = bu_now();
        int rc = kind == 0 ? nat_proof_inclusion_path_src(&src, &m->fr, b, m->v.last.blocks, path, &c.len)
                           : nat_proof_consistency_path_src(&src, &m->fr, b, m->v.last.blocks, path, &c.len);
        t[k++] = (bu_now() - a) * 1e6;
        bu_check(rc, "gather", NULL);
    }
    c.us = bu_median(t, k);
    c.reads = im.reads;
    c.bytes = im.bytes;
    return c;
}

static void row(const char *what, uint64_t n, const cost *a, const cost *o)
{
    char label[96];
    snprintf(label, sizeof label, "%s, %llu blocks", what, (unsigned long long)n);
    bu_report(label, a->us, "us", "leaves only", o->us, "");
    bu_note("  path %u hashes; read with nodes: %llu records, %llu bytes; leaves only: %llu records, %llu bytes",
            a->len, (unsigned long long)a->reads, (unsigned long long)a->bytes, (unsigned long long)o->reads,
            (unsigned long long)o->bytes);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_proof DIR [MAX_BLOCKS]\n");
        return 2;
    }
    uint64_t max = argc > 2 ? strtoull(argv[2], NULL, 10) : 1000000;
    maif_key *key = bu_key();
    for (uint64_t n = 1000; n <= max; n *= 10) {
        char name[64];
        snprintf(name, sizeof name, "proof-%llu.maif", (unsigned long long)n);
        char *path = bu_path(argv[1], name);
        make(path, n, key, NAT_W_NO_NODES);
        uint64_t plain = bu_file_size(path);
        make(path, n, key, 0);
        uint64_t size = bu_file_size(path);
        bu_note("%llu blocks of %d bytes, committed every %d: %llu bytes, %llu without node records (+%.2f bytes a "
                "block)",
                (unsigned long long)n, PAYLOAD, BATCH, (unsigned long long)size, (unsigned long long)plain,
                (double)(size - plain) / (double)n);
        img m;
        load(path, &m);
        cost a = measure(&m, 0, 0, 1), o = measure(&m, 0, 0, 0), o0 = o;
        row("inclusion of block 0", n, &a, &o);
        a = measure(&m, 0, n / 2, 1), o = measure(&m, 0, n / 2, 0);
        row("inclusion of block n/2", n, &a, &o);
        if (n > BATCH) {
            a = measure(&m, 1, BATCH, 1), o = measure(&m, 1, BATCH, 0);
            row("consistency 1000 -> n", n, &a, &o);
        }
        /* the public call: commit lookup, path, and its check against the root */
        maif_reader *r = NULL;
        bu_check(maif_reader_open(&r, path), "open", maif_last_errmsg());
        double t[200];
        size_t k = 0;
        double start = bu_now();
        while (k < 200 && (k < 3 || bu_now() - start < 0.3)) {
            maif_proof *p = NULL;
            double s = bu_now();
            bu_check(maif_reader_prove_inclusion(r, 0, MAIF_COMMIT_LAST, &p), "prove", maif_last_errmsg());
            t[k++] = (bu_now() - s) * 1e6;
            maif_proof_free(p);
        }
        char label[96];
        snprintf(label, sizeof label, "maif_reader_prove_inclusion, %llu blocks", (unsigned long long)n);
        bu_report(label, bu_median(t, k), "us", "leaves-only gathering", o0.us, "");
        maif_reader_close(r);
        nat_view_free(&m.v);
        free(m.b);
        remove(path);
        free(path);
    }
    maif_key_free(key);
    return 0;
}
