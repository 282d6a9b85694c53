/*
 * blake3.h — BLAKE3-256 (the plain hash mode of the BLAKE3 specification:
 * no key, no key derivation, the default 32-byte output), written here from
 * the specification. A portable C11 implementation, and on x86-64 AVX2
 * (8 chunks at once, or 4 as two pairs of row-wise states) and SSE4.1 (4
 * chunks at once; one block at a time with the state as 4 rows, for short
 * inputs, partial chunks and lone parents) paths chosen once at run time
 * from the CPU; every path gives the same bytes.
 *
 * The context is a complete type of fixed size (about 1.9 KiB): callers put
 * it on the stack or in a struct. Nothing here allocates. Functions are
 * thread-safe on distinct contexts (except maif_blake3_force_impl).
 */
#ifndef MAIF_BLAKE3_H
#define MAIF_BLAKE3_H

#include <stddef.h>
#include <stdint.h>

#define MAIF_BLAKE3_BYTES 32
#define MAIF_BLAKE3_BLOCK_LEN 64
#define MAIF_BLAKE3_CHUNK_LEN 1024
/* Deepest stack of subtree chaining values: 2^64 bytes are 2^54 chunks,
 * and one more entry is held back until the next input shows it is no root. */
#define MAIF_BLAKE3_MAX_DEPTH 55

typedef struct maif_blake3_ctx {
    uint32_t cv[8];         /* chaining value of the current chunk so far (the IV at its start) */
    uint64_t chunk_counter; /* index of the current chunk = whole chunks hashed before it */
    uint8_t buf[MAIF_BLAKE3_BLOCK_LEN]; /* the current chunk's pending block, buf_len bytes */
    uint8_t buf_len;        /* 0..64; a full block stays here until more input shows it is not the last */
    uint8_t blocks_done;    /* blocks of the current chunk compressed so far (0..15) */
    uint8_t stack_len;      /* entries in cv_stack, <= MAIF_BLAKE3_MAX_DEPTH */
    uint32_t cv_stack[MAIF_BLAKE3_MAX_DEPTH][8]; /* CVs of complete subtrees, none of them the root */
} maif_blake3_ctx;

void maif_blake3_init(maif_blake3_ctx *c);
/* Any split of the input gives the same hash. n may be 0 (data may then be NULL). */
void maif_blake3_update(maif_blake3_ctx *c, const void *data, size_t n);
/* The hash of everything given so far. Does not modify c: more updates may
 * follow and final may be called again. */
void maif_blake3_final(const maif_blake3_ctx *c, uint8_t out[MAIF_BLAKE3_BYTES]);
/* One shot. */
void maif_blake3(const void *data, size_t n, uint8_t out[MAIF_BLAKE3_BYTES]);

/* "avx2", "sse41" or "portable": what hashing uses on this CPU (or what
 * maif_blake3_force_impl chose). */
const char *maif_blake3_impl(void);
/* Testing only: 0 = best for this CPU (the default), 1 = portable,
 * 2 = SSE4.1, 3 = AVX2. Returns 0, or -1 when this CPU (or build) cannot
 * (the choice is then unchanged). Not thread-safe against concurrent
 * hashing. */
int maif_blake3_force_impl(int which);

#endif
