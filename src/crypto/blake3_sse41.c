/*
 * blake3_sse41.c — the BLAKE3 compression function on 4 inputs at once
 * (SSE4.1), the layout of blake3_avx2.c at half the width: __m128i v[i]
 * holds state word i of the 4 inputs; message words are loaded in rows of
 * 16 bytes and transposed 4x4. Used for groups of 4 inputs on CPUs without
 * AVX2 (with it, blake3_avx2.c's 4-input row-wise kernel is faster).
 *
 * Also one compression on its own (maif_b3_compress_sse41), for what no
 * kernel can batch: inputs of one chunk, the last partial chunk, parents
 * folded one at a time. There the state is held the other way round, as 4
 * rows of 4 words: G runs on the 4 columns at once, three rows are rotated
 * so that the diagonals stand in columns, G runs again and the rotation is
 * undone. The message stays in registers: each round's words are the
 * previous round's shuffled (permute_msg). Measured on this machine (Zen 3
 * at ~3.1 GHz, GCC 12, best of 15 runs of 300k chained compressions), one
 * compression took ~95 ns with the words gathered by _mm_setr_epi32 or
 * inserts, ~82 ns from a table built by scalar moves, ~80 ns with
 * permute_msg, ~76 ns once g_rows' adds were kept in order; the portable
 * one ~115 ns (from bench_blake3's 1 KiB row). The floor is the G chain:
 * 14 dependent instructions per half round, ~200 cycles a block.
 */
#include "crypto/blake3_impl.h"

#ifdef MAIF_B3_X86
#include <immintrin.h>

#define SSE41 __attribute__((target("sse4.1"), always_inline)) static inline
/* One register-allocation region, as in blake3_avx2.c. */
#if defined(__clang__) || !defined(__GNUC__)
#define KERNEL_ATTR __attribute__((target("sse4.1")))
#else
#define KERNEL_ATTR __attribute__((target("sse4.1"), optimize("ira-region=one")))
#endif

SSE41 __m128i rot16(__m128i x)
{
    const __m128i m = _mm_setr_epi8(2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13);
    return _mm_shuffle_epi8(x, m);
}

SSE41 __m128i rot8(__m128i x)
{
    const __m128i m = _mm_setr_epi8(1, 2, 3, 0, 5, 6, 7, 4, 9, 10, 11, 8, 13, 14, 15, 12);
    return _mm_shuffle_epi8(x, m);
}

SSE41 __m128i rot12(__m128i x)
{
    return _mm_or_si128(_mm_srli_epi32(x, 12), _mm_slli_epi32(x, 20));
}

SSE41 __m128i rot7(__m128i x)
{
    return _mm_or_si128(_mm_srli_epi32(x, 7), _mm_slli_epi32(x, 25));
}

/* One quarter-round on state words a, b, c, d with message words x, y. */
SSE41 void g4(__m128i v[16], int a, int b, int c, int d, __m128i x, __m128i y)
{
    v[a] = _mm_add_epi32(_mm_add_epi32(v[a], x), v[b]);
    v[d] = rot16(_mm_xor_si128(v[d], v[a]));
    v[c] = _mm_add_epi32(v[c], v[d]);
    v[b] = rot12(_mm_xor_si128(v[b], v[c]));
    v[a] = _mm_add_epi32(_mm_add_epi32(v[a], y), v[b]);
    v[d] = rot8(_mm_xor_si128(v[d], v[a]));
    v[c] = _mm_add_epi32(v[c], v[d]);
    v[b] = rot7(_mm_xor_si128(v[b], v[c]));
}

/* One round: the four column G functions, then the four diagonal ones. */
SSE41 void round4(__m128i v[16], const __m128i m[16], int r)
{
    const uint8_t *s = maif_b3_sched[r];
    g4(v, 0, 4, 8, 12, m[s[0]], m[s[1]]);
    g4(v, 1, 5, 9, 13, m[s[2]], m[s[3]]);
    g4(v, 2, 6, 10, 14, m[s[4]], m[s[5]]);
    g4(v, 3, 7, 11, 15, m[s[6]], m[s[7]]);
    g4(v, 0, 5, 10, 15, m[s[8]], m[s[9]]);
    g4(v, 1, 6, 11, 12, m[s[10]], m[s[11]]);
    g4(v, 2, 7, 8, 13, m[s[12]], m[s[13]]);
    g4(v, 3, 4, 9, 14, m[s[14]], m[s[15]]);
}

/* In place: row i of x[0..4) becomes column i (4x4 32-bit words). */
SSE41 void transpose4(__m128i x[4])
{
    __m128i t0 = _mm_unpacklo_epi32(x[0], x[1]), t1 = _mm_unpackhi_epi32(x[0], x[1]);
    __m128i t2 = _mm_unpacklo_epi32(x[2], x[3]), t3 = _mm_unpackhi_epi32(x[2], x[3]);
    x[0] = _mm_unpacklo_epi64(t0, t2);
    x[1] = _mm_unpackhi_epi64(t0, t2);
    x[2] = _mm_unpacklo_epi64(t1, t3);
    x[3] = _mm_unpackhi_epi64(t1, t3);
}

KERNEL_ATTR void maif_b3_hash4_sse41(const uint8_t *const inputs[4], size_t blocks,
                                     uint64_t counter, int inc, uint32_t flags,
                                     uint32_t fstart, uint32_t fend, uint8_t *out)
{
    __m128i h[8], m[16], v[16];
#pragma GCC unroll 16
    for (int i = 0; i < 8; i++) h[i] = _mm_set1_epi32((int)maif_b3_iv[i]);
    uint32_t lo[4], hi[4];
#pragma GCC unroll 16
    for (int k = 0; k < 4; k++) {
        uint64_t c = counter + (inc ? (uint64_t)k : 0);
        lo[k] = (uint32_t)c;
        hi[k] = (uint32_t)(c >> 32);
    }
    const __m128i clo = _mm_loadu_si128((const __m128i *)lo), chi = _mm_loadu_si128((const __m128i *)hi);
    for (size_t b = 0; b < blocks; b++) {
        __m128i r[16]; /* r[4 q + k]: words 4q..4q+3 of input k */
#pragma GCC unroll 16
        for (int k = 0; k < 4; k++)
#pragma GCC unroll 16
            for (int q = 0; q < 4; q++) r[4 * q + k] = _mm_loadu_si128((const __m128i *)(inputs[k] + 64 * b + 16 * q));
#pragma GCC unroll 16
        for (int q = 0; q < 4; q++) {
            transpose4(r + 4 * q);
#pragma GCC unroll 16
            for (int j = 0; j < 4; j++) m[4 * q + j] = r[4 * q + j];
        }
        uint32_t f = flags | (b == 0 ? fstart : 0) | (b + 1 == blocks ? fend : 0);
#pragma GCC unroll 16
        for (int i = 0; i < 8; i++) v[i] = h[i];
#pragma GCC unroll 16
        for (int i = 0; i < 4; i++) v[8 + i] = _mm_set1_epi32((int)maif_b3_iv[i]);
        v[12] = clo;
        v[13] = chi;
        v[14] = _mm_set1_epi32(64);
        v[15] = _mm_set1_epi32((int)f);
        round4(v, m, 0);
        round4(v, m, 1);
        round4(v, m, 2);
        round4(v, m, 3);
        round4(v, m, 4);
        round4(v, m, 5);
        round4(v, m, 6);
#pragma GCC unroll 16
        for (int i = 0; i < 8; i++) h[i] = _mm_xor_si128(v[i], v[i + 8]);
    }
    transpose4(h);     /* row k: words 0..3 of input k's CV (x86 is little-endian) */
    transpose4(h + 4); /* row k: words 4..7 */
#pragma GCC unroll 16
    for (int k = 0; k < 4; k++) {
        _mm_storeu_si128((__m128i *)(out + 32 * k), h[k]);
        _mm_storeu_si128((__m128i *)(out + 32 * k + 16), h[4 + k]);
    }
}

/* ---- one compression, the state as rows */

/* G on the four columns of the rows a, b, c, d at once; x and y hold the
 * message words of the four G functions, one per lane. */
SSE41 void g_rows(__m128i *a, __m128i *b, __m128i *c, __m128i *d, __m128i x, __m128i y)
{
    /* a + x is computed before b is ready: b, the end of the longest
     * chain, then costs one add. The empty asm stops GCC from
     * reassociating it into a + (x + b), two adds after b (measured ~5%). */
    __m128i ax = _mm_add_epi32(*a, x);
    __asm__("" : "+x"(ax));
    *a = _mm_add_epi32(ax, *b);
    *d = rot16(_mm_xor_si128(*d, *a));
    *c = _mm_add_epi32(*c, *d);
    *b = rot12(_mm_xor_si128(*b, *c));
    __m128i ay = _mm_add_epi32(*a, y);
    __asm__("" : "+x"(ay));
    *a = _mm_add_epi32(ay, *b);
    *d = rot8(_mm_xor_si128(*d, *a));
    *c = _mm_add_epi32(*c, *d);
    *b = rot7(_mm_xor_si128(*b, *c));
}

/* One round on the message words of its G functions, in the order their
 * lanes take them: x1 the columns' first words, y1 their second words, x2
 * and y2 the same for the diagonals. Lane i of the
 * columns step is G(v[i], v[4+i], v[8+i], v[12+i]). For the diagonals,
 * rows a, c, d are rotated (by 3, 1, 2 lanes to the left) rather than b:
 * b is the last row G finishes, so it stays put and the next G need not
 * wait for a shuffle of it. Lane i then holds v[(i+3)%4], v[4+i],
 * v[8+(i+1)%4], v[12+(i+2)%4]: the diagonal that starts at v[(i+3)%4],
 * the spec's G function 4 + (i+3)%4. */
SSE41 void round_rows(__m128i *a, __m128i *b, __m128i *c, __m128i *d, __m128 x1, __m128 y1, __m128 x2, __m128 y2)
{
    g_rows(a, b, c, d, _mm_castps_si128(x1), _mm_castps_si128(y1));
    *a = _mm_shuffle_epi32(*a, _MM_SHUFFLE(2, 1, 0, 3));
    *c = _mm_shuffle_epi32(*c, _MM_SHUFFLE(0, 3, 2, 1));
    *d = _mm_shuffle_epi32(*d, _MM_SHUFFLE(1, 0, 3, 2));
    g_rows(a, b, c, d, _mm_castps_si128(x2), _mm_castps_si128(y2));
    *a = _mm_shuffle_epi32(*a, _MM_SHUFFLE(0, 3, 2, 1));
    *c = _mm_shuffle_epi32(*c, _MM_SHUFFLE(2, 1, 0, 3));
    *d = _mm_shuffle_epi32(*d, _MM_SHUFFLE(1, 0, 3, 2));
}

/* The next round's message vectors from this round's (each round's
 * schedule is the previous one permuted by the spec's permutation), in
 * round_rows' lane order: x1 the columns' first words (schedule slots 0,
 * 2, 4, 6), y1 their second words (1, 3, 5, 7), x2 and y2 the diagonals'
 * (14, 8, 10, 12 and 15, 9, 11, 13). Derived from the permutation: x1'
 * takes x1[1] y1[1] y1[3] x1[2]; y1' x1[3] x2[2] x1[0] y2[3]; x2' y2[0]
 * y1[0] x2[3] y2[1]; y2' x2[1] y2[2] y1[2] x2[0]. */
SSE41 void permute_msg(__m128 *x1, __m128 *y1, __m128 *x2, __m128 *y2)
{
    __m128 a = _mm_shuffle_ps(*x1, *y1, _MM_SHUFFLE(3, 1, 2, 1));
    __m128 b = _mm_shuffle_ps(*x1, _mm_blend_ps(*x2, *y2, 0x8), _MM_SHUFFLE(3, 2, 0, 3));
    __m128 c = _mm_shuffle_ps(_mm_unpacklo_ps(*y2, *y1), _mm_blend_ps(*x2, *y2, 0x2), _MM_SHUFFLE(1, 3, 1, 0));
    __m128 d = _mm_shuffle_ps(_mm_blend_ps(*x2, *y2, 0x4), _mm_blend_ps(*y1, *x2, 0x1), _MM_SHUFFLE(0, 2, 2, 1));
    *x1 = _mm_castsi128_ps(_mm_shuffle_epi32(_mm_castps_si128(a), _MM_SHUFFLE(1, 3, 2, 0)));
    *y1 = _mm_castsi128_ps(_mm_shuffle_epi32(_mm_castps_si128(b), _MM_SHUFFLE(3, 1, 2, 0)));
    *x2 = c;
    *y2 = d;
}

/* The message vectors of round 0 from the block's 16 words. */
SSE41 void load_msg(const uint8_t *p, __m128 *x1, __m128 *y1, __m128 *x2, __m128 *y2)
{
    __m128 m0 = _mm_castsi128_ps(_mm_loadu_si128((const __m128i *)p));
    __m128 m1 = _mm_castsi128_ps(_mm_loadu_si128((const __m128i *)(p + 16)));
    __m128 m2 = _mm_castsi128_ps(_mm_loadu_si128((const __m128i *)(p + 32)));
    __m128 m3 = _mm_castsi128_ps(_mm_loadu_si128((const __m128i *)(p + 48)));
    *x1 = _mm_shuffle_ps(m0, m1, _MM_SHUFFLE(2, 0, 2, 0)); /* words 0 2 4 6 */
    *y1 = _mm_shuffle_ps(m0, m1, _MM_SHUFFLE(3, 1, 3, 1)); /* 1 3 5 7 */
    __m128i t2 = _mm_castps_si128(_mm_shuffle_ps(m2, m3, _MM_SHUFFLE(2, 0, 2, 0))); /* 8 10 12 14 */
    __m128i t3 = _mm_castps_si128(_mm_shuffle_ps(m2, m3, _MM_SHUFFLE(3, 1, 3, 1))); /* 9 11 13 15 */
    *x2 = _mm_castsi128_ps(_mm_shuffle_epi32(t2, _MM_SHUFFLE(2, 1, 0, 3))); /* 14 8 10 12 */
    *y2 = _mm_castsi128_ps(_mm_shuffle_epi32(t3, _MM_SHUFFLE(2, 1, 0, 3))); /* 15 9 11 13 */
}

/* One compression of the block at p (little-endian words: x86's) into the
 * chaining value held as rows *h0 (words 0..3) and *h1 (4..7). */
SSE41 void compress_rows(__m128i *h0, __m128i *h1, const uint8_t *p, uint64_t counter, uint32_t block_len,
                         uint32_t flags)
{
    __m128 x1, y1, x2, y2;
    load_msg(p, &x1, &y1, &x2, &y2);
    __m128i a = *h0, b = *h1, c = _mm_loadu_si128((const __m128i *)maif_b3_iv);
    __m128i d = _mm_setr_epi32((int)(uint32_t)counter, (int)(uint32_t)(counter >> 32), (int)block_len, (int)flags);
    round_rows(&a, &b, &c, &d, x1, y1, x2, y2);
#pragma GCC unroll 16
    for (int r = 1; r < 7; r++) {
        permute_msg(&x1, &y1, &x2, &y2);
        round_rows(&a, &b, &c, &d, x1, y1, x2, y2);
    }
    *h0 = _mm_xor_si128(a, c);
    *h1 = _mm_xor_si128(b, d);
}

__attribute__((target("sse4.1"))) void maif_b3_compress_sse41(uint32_t cv[8], const void *block, uint64_t counter,
                                                              uint32_t block_len, uint32_t flags)
{
    __m128i h0 = _mm_loadu_si128((const __m128i *)cv), h1 = _mm_loadu_si128((const __m128i *)(cv + 4));
    compress_rows(&h0, &h1, block, counter, block_len, flags);
    _mm_storeu_si128((__m128i *)cv, h0);
    _mm_storeu_si128((__m128i *)(cv + 4), h1);
}

__attribute__((target("sse4.1"))) void maif_b3_compress_blocks_sse41(uint32_t cv[8], const uint8_t *p, size_t blocks,
                                                                     uint64_t counter, uint32_t first_flags)
{
    __m128i h0 = _mm_loadu_si128((const __m128i *)cv), h1 = _mm_loadu_si128((const __m128i *)(cv + 4));
    for (size_t i = 0; i < blocks; i++) compress_rows(&h0, &h1, p + 64 * i, counter, 64, i ? 0 : first_flags);
    _mm_storeu_si128((__m128i *)cv, h0);
    _mm_storeu_si128((__m128i *)(cv + 4), h1);
}
#endif
