/*
 * native_spool.h — payloads parked in a sealed anonymous temporary file
 * while their size is not known yet (native_spool.c); internal.
 */
#ifndef MAIF_FORMAT_NATIVE_SPOOL_H
#define MAIF_FORMAT_NATIVE_SPOOL_H

#include <stddef.h>
#include <stdint.h>

typedef struct nat_spool nat_spool;

/* An empty spool: an O_TMPFILE (0600, never linked) in near's directory
 * (near: a file path, or NULL), else in $TMPDIR, else /tmp, its contents
 * sealed under a random key held in locked memory. Errors: MAIF_ENOMEM,
 * MAIF_EIO (no temporary file could be made; a message goes to err). */
int nat_spool_open(nat_spool **out, const char *near, char *err, size_t errcap);
/* Appends n bytes. Errors (sticky): MAIF_EIO (nat_spool_errno says why),
 * MAIF_ESTATE (after rewind). */
int nat_spool_write(nat_spool *s, const void *data, size_t n);
/* Ends writing (or restarts reading) at the first byte. */
int nat_spool_rewind(nat_spool *s);
uint64_t nat_spool_size(const nat_spool *s);
int nat_spool_errno(const nat_spool *s);
/* A maif_read_fn over a rewound spool: its bytes in order, then 0.
 * Errors: MAIF_EIO, MAIF_EVERIFY (the file was changed or cut under us). */
int64_t nat_spool_read(void *ctx, void *buf, size_t cap);
/* Closes (and so deletes) the spool and wipes its key; NULL is a no-op. */
void nat_spool_close(nat_spool *s);
/* Compresses from's bytes into to as one zstd frame (codec 1: content
 * size pledged and recorded, checksum on) at level (0: the default), or,
 * with dict (a maif_zdict), as codec 3's magicless frame with that
 * dictionary (its own level), then rewinds to for reading.
 * Errors: MAIF_ENOMEM, those of the spools. */
struct maif_zdict;
int nat_spool_zstd(nat_spool *from, nat_spool *to, int level, struct maif_zdict *dict, char *err, size_t errcap);

#endif
