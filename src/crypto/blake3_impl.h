/*
 * blake3_impl.h — what the BLAKE3 paths share (blake3.c, blake3_sse41.c,
 * blake3_avx2.c): the constants of the specification and the "hash many"
 * kernels that compress whole inputs of equal length side by side.
 */
#ifndef MAIF_BLAKE3_IMPL_H
#define MAIF_BLAKE3_IMPL_H

#include <stddef.h>
#include <stdint.h>

/* Domain flags (BLAKE3 specification, table 3). */
#define MAIF_B3_CHUNK_START 1u
#define MAIF_B3_CHUNK_END   2u
#define MAIF_B3_PARENT      4u
#define MAIF_B3_ROOT        8u

/* The IV (the first 32 bits of the fractional parts of the square roots of
 * the first 8 primes, as SHA-256's). */
extern const uint32_t maif_b3_iv[8];
/* Message word order of round r: the identity, then each round the
 * specification's permutation applied once more. Static, so that each
 * kernel's unrolled rounds index the message with constants. */
static const uint8_t maif_b3_sched[7][16] = {
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
    {2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8},
    {3, 4, 10, 12, 13, 2, 7, 14, 6, 5, 9, 0, 11, 15, 8, 1},
    {10, 7, 12, 9, 14, 3, 13, 15, 4, 0, 11, 2, 5, 8, 1, 6},
    {12, 13, 9, 11, 15, 10, 14, 8, 7, 2, 5, 3, 0, 1, 6, 4},
    {9, 14, 11, 5, 8, 12, 15, 1, 13, 3, 0, 10, 2, 6, 4, 7},
    {11, 15, 5, 0, 1, 9, 8, 6, 14, 10, 2, 12, 3, 4, 7, 13},
};

/*
 * A "hash many" kernel: inputs[0..N) each of `blocks` 64-byte blocks,
 * hashed as chains starting from the IV, block i of input k compressed with
 * counter (counter + k if inc, else counter), block length 64 and flags
 * `flags`, plus fstart on its first block and fend on its last. The final
 * chaining value of input k goes to out + 32 k as 32 little-endian bytes.
 * Whole chunks: blocks 16, inc 1, fstart CHUNK_START, fend CHUNK_END.
 * Parents: blocks 1, inc 0, flags PARENT. N is 8 (AVX2) or 4 (SSE4.1).
 */
void maif_b3_hash8_avx2(const uint8_t *const inputs[8], size_t blocks, uint64_t counter, int inc, uint32_t flags,
                        uint32_t fstart, uint32_t fend, uint8_t *out);
/* The same contract for 4 inputs with AVX2: two pairs of row-wise states
 * (blake3_avx2.c); about twice the SSE4.1 kernel's rate on 4 inputs. */
void maif_b3_hash4_rows_avx2(const uint8_t *const inputs[4], size_t blocks, uint64_t counter, int inc, uint32_t flags,
                             uint32_t fstart, uint32_t fend, uint8_t *out);
void maif_b3_hash4_sse41(const uint8_t *const inputs[4], size_t blocks, uint64_t counter, int inc, uint32_t flags,
                         uint32_t fstart, uint32_t fend, uint8_t *out);
/* One compression on its own (SSE4.1, the state as 4 rows): cv := the
 * first 8 words of compress(cv, block, counter, block_len, flags), block
 * being 64 bytes whose little-endian words are the message (so on x86 a
 * uint32_t[16] serves as well). The portable compression's equal. */
void maif_b3_compress_sse41(uint32_t cv[8], const void *block, uint64_t counter, uint32_t block_len,
                            uint32_t flags);
/* `blocks` whole blocks at p compressed one after the other into cv, each
 * with block length 64 and the counter, the first with first_flags, the
 * others with no flags (the middle of a chunk; a chunk's last block, which
 * takes CHUNK_END, is never among them). */
void maif_b3_compress_blocks_sse41(uint32_t cv[8], const uint8_t *p, size_t blocks, uint64_t counter,
                                   uint32_t first_flags);

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define MAIF_B3_X86 1
#endif

#endif
