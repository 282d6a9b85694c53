/*
 * fuzz_tidx.c — the full-text index reader (TIDX, FORMAT.md §5.14) on
 * arbitrary bytes, two ways. As a TIDX payload: the constant-time header
 * check, the full check, term look-ups by binary search (found and not),
 * every posting list and document they reach, the skipped blocks. As an
 * artifact image: open it, find its latest TIDX, and search by text (text
 * and hybrid modes, with a filter), which either uses the index or falls
 * back to the scan and says why. Nothing may crash, hang, read outside
 * the input, leak, or allocate in proportion to a stored count.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "maif.h"
#include "semantic/textidx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void as_payload(const uint8_t *data, size_t size)
{
    uint8_t *p = malloc(size ? size : 1); /* malloc: aligned, as the map's payloads are */
    if (!p) return;
    memcpy(p, data, size);
    sem_tidx t;
    char err[300];
    if (sem_tidx_view(&t, p, size, err, sizeof err) == MAIF_OK) {
        (void)sem_tidx_check(&t, err, sizeof err);
        static const char *const words[] = {"a", "bbb", "cat", "ccc", "kkk", "run", "zzz", "\xc3\xa9t\xc3\xa9"};
        for (size_t i = 0; i < sizeof words / sizeof *words; i++) {
            uint32_t term, df;
            if (sem_tidx_find(&t, (const uint8_t *)words[i], (int)strlen(words[i]), &term, err, sizeof err) ||
                term == UINT32_MAX)
                continue;
            sem_tidx_cur c;
            if (sem_tidx_postings(&t, term, &df, &c, err, sizeof err)) continue;
            while (sem_tidx_next(&t, &c, err, sizeof err) == 1) {
                uint64_t b;
                uint32_t l;
                (void)sem_tidx_doc(&t, c.ord, &b, &l, err, sizeof err);
            }
        }
        for (uint32_t i = 0; i < t.nterms && i < 64; i++) { /* postings by number, sorted or not */
            uint32_t df;
            sem_tidx_cur c;
            if (sem_tidx_postings(&t, i, &df, &c, err, sizeof err)) continue;
            while (sem_tidx_next(&t, &c, err, sizeof err) == 1) {}
        }
        for (uint32_t i = 0; i < t.nskip && i < 64; i++) {
            uint64_t b;
            (void)sem_tidx_skipped(&t, i, &b, err, sizeof err);
        }
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
            static const char *const qs[] = {"bbb ccc", "cats running", "kkk"};
            for (size_t q = 0; q < 3; q++) {
                if (maif_search_set_text(s, qs[q], strlen(qs[q])) != MAIF_OK) continue;
                (void)!maif_search_set(s, MAIF_SEARCH_MODE, q == 2 ? MAIF_MODE_HYBRID : MAIF_MODE_TEXT);
                if (q == 1) (void)!maif_search_where(s, "n>=0");
                (void)!maif_search_run(s, ix);
                maif_search_hit h;
                for (size_t i = 0; i < maif_search_count(s); i++) (void)!maif_search_result(s, i, &h);
            }
        }
        maif_search_free(s);
        maif_index_close(ix);
    }
    maif_reader_close(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size >= 8 && memcmp(data, "MAIFTIX1", 8) == 0) as_payload(data, size);
    else as_artifact(data, size);
    return 0;
}
