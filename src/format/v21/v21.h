/*
 * v21.h — MAIF 2.1 files (the original Python implementation's format).
 * Layout: ../shared/reference/MAIF-2.1.md, restated in docs/FORMAT.md.
 *
 * The parser works on a borrowed byte image (usually the reader's memory
 * map) and never copies payloads: blocks come out as views into it.
 * Every stored length and offset is bounded by the image size before use,
 * and nothing is allocated from a stored count before that count has been
 * checked against the bytes that could hold it.
 */
#ifndef MAIF_V21_H
#define MAIF_V21_H

#include <stddef.h>
#include <stdint.h>

#include "maif.h"
#include "report/report.h"

#define MAIF21_HEADER_SIZE       444
#define MAIF21_BLOCK_HEADER_SIZE 372
#define MAIF21_INDEX_ENTRY_SIZE  24
#define MAIF21_FOOTER_SIZE       48

/* 1 if buf starts like a MAIF 2.x file ("MAIF", version_major 2). */
int maif21_detect(const uint8_t *buf, size_t len);

typedef struct maif21 maif21;

/* Parses the structure (header, blocks, sections, index, footer). Does not
 * check hashes or signatures. buf must outlive the handle.
 * Errors: MAIF_EFORMAT, MAIF_EVERSION, MAIF_ENOMEM; err gets one line. */
int maif21_open(maif21 **out, const uint8_t *buf, size_t len, char *err, size_t errcap);
void maif21_close(maif21 *m);
uint64_t maif21_count(const maif21 *m);
/* Block i as a borrowed view; flags are the 2.1 block flags. */
int maif21_block(const maif21 *m, uint64_t i, maif_block *out);
/* Header facts; agent is the header's agent DID. */
int maif21_info(const maif21 *m, maif_info *out);
/* Record listing for `ls --all`: header, blocks, provenance, security,
 * index, footer in file order. MAIF_ENOTFOUND past the end. */
int maif21_record(const maif21 *m, uint64_t i, maif_record *out);

/* Strict verification (every rule in docs/FORMAT.md's 2.1 part). Adds
 * findings to rep; a file too damaged to parse gets an error finding. */
void maif21_verify(const uint8_t *buf, size_t len, const maif_verify_options *opt, maif_report *rep);

#endif
