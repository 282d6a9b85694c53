/*
 * fuzz_index.c — the vector-index reader on arbitrary bytes, two ways.
 * As a VIDX payload: the O(1) header check, then searches from several
 * queries with small and large beams, with and without a filter (with
 * int8 and PQ codes too: the PQ sub-space count, layout version and
 * centroid count are header fields, the codebooks a sized section). As an
 * artifact image: open it, open its index (latest VIDX block, the tail),
 * and search by vector, by text and both. Nothing may crash, hang, read
 * outside the input, leak, or allocate in proportion to a stored count:
 * the hostile-index bugs of hnswlib #673, faiss #5400, Chroma #7011 and
 * usearch #776 are what this guards against.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "maif.h"
#include "semantic/hnsw.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int odd_filter(void *ctx, uint32_t i)
{
    (void)ctx;
    return i & 1;
}

static void as_payload(const uint8_t *data, size_t size)
{
    uint8_t *p = malloc(size ? size : 1); /* malloc: aligned, as the map's payloads are */
    if (!p) return;
    memcpy(p, data, size);
    sem_hnsw h;
    char err[256];
    if (sem_hnsw_view(&h, p, size, err, sizeof err) == MAIF_OK) {
        float *q = calloc(h.dim, sizeof *q);
        sem_hit out[16];
        sem_scratch s = {0};
        size_t n;
        for (uint32_t t = 0; q && t < 4; t++) {
            for (uint32_t d = 0; d < h.dim; d++) q[d] = (float)((d * 7 + t * 3) % 5) - 2.0f;
            if (t < h.n && h.quant == SEM_QUANT_NONE) memcpy(q, sem_node_vec(&h, t), h.dim * sizeof *q);
            if (t < h.n && h.quant == SEM_QUANT_PQ) sem_pq_decode(h.pqcb, h.dim, h.pq_m, sem_node_codes(&h, t), q);
            (void)sem_hnsw_search(&h, sem_kernels_best(), q, 1 + t * 5, t & 1 ? 8 : 64, t & 2 ? odd_filter : NULL,
                                  NULL, &s, out, &n, err, sizeof err);
        }
        sem_scratch_free(&s);
        free(q);
    }
    free(p);
}

static void as_artifact(const uint8_t *data, size_t size)
{
    maif_reader *r = NULL;
    if (maif_reader_open_mem(&r, data, size) != MAIF_OK) return;
    maif_index *ix = NULL;
    if (maif_index_open(&ix, r, NULL) == MAIF_OK) {
        maif_index_info info;
        maif_search *s = NULL;
        if (maif_index_get_info(ix, &info) == MAIF_OK && maif_search_create(&s) == MAIF_OK) {
            if (info.dimensions) {
                float *q = calloc(info.dimensions, sizeof *q);
                if (q) {
                    q[0] = 1.0f;
                    if (maif_search_set_vector(s, q, info.dimensions) == MAIF_OK) (void)!maif_search_run(s, ix);
                    free(q);
                }
            }
            if (maif_search_set_text(s, "hello world", 11) == MAIF_OK) {
                (void)!maif_search_set(s, MAIF_SEARCH_MODE, MAIF_MODE_TEXT);
                (void)!maif_search_run(s, ix);
                (void)!maif_search_set(s, MAIF_SEARCH_MODE, MAIF_MODE_HYBRID);
                (void)!maif_search_where(s, "n>=0");
                (void)!maif_search_run(s, ix);
            }
            maif_search_hit h;
            for (size_t i = 0; i < maif_search_count(s); i++) (void)!maif_search_result(s, i, &h);
        }
        maif_search_free(s);
        maif_index_close(ix);
    }
    maif_reader_close(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size >= 8 && memcmp(data, SEM_VIDX_MAGIC, 8) == 0) as_payload(data, size);
    else as_artifact(data, size);
    return 0;
}
