/*
 * fuzz_v21.c — the MAIF 2.1 parser and strict verifier on arbitrary bytes.
 * Opens the image, walks every block, record and the header facts, checks
 * that every view handed out lies inside the input, then verifies into a
 * report. Invariants (abort on failure): views stay in bounds; a file the
 * verifier passes must also open; a file that does not open is never
 * passed. Nothing may crash, hang or leak.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "format/v21/v21.h"
#include "report/report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int inside(const uint8_t *data, size_t size, const void *p, size_t n)
{
    const uint8_t *q = p;
    return n == 0 || (q >= data && q <= data + size && n <= (size_t)(data + size - q));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    maif21 *m = NULL;
    char err[256];
    int opened = maif21_open(&m, data, size, err, sizeof err) == MAIF_OK;
    if (opened) {
        maif_info info;
        if (maif21_info(m, &info) != MAIF_OK || info.block_count != maif21_count(m)) abort();
        if (strlen(info.agent) > 64) abort();
        for (uint64_t i = 0; i < maif21_count(m); i++) {
            maif_block b;
            if (maif21_block(m, i, &b) != MAIF_OK) abort();
            if (!inside(data, size, b.payload, b.payload_size) || !inside(data, size, b.meta, b.meta_size)) abort();
        }
        maif_block b;
        if (maif21_block(m, maif21_count(m), &b) != MAIF_ENOTFOUND) abort();
        maif_record rec;
        uint64_t i = 0;
        while (maif21_record(m, i, &rec) == MAIF_OK) {
            if (rec.offset > size || rec.size > size - rec.offset) abort();
            i++;
        }
        if (i != maif21_count(m) + 5) abort();
        maif21_close(m);
    }
    maif_report *rep = maif_report_new();
    if (!rep) return 0;
    maif21_verify(data, size, NULL, rep);
    if (maif_report_ok(rep) && !opened) abort(); /* and so an unopenable file never passes */
    maif_report_free(rep);
    return 0;
}
