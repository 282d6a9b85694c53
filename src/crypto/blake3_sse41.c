/*
 * blake3_sse41.c — the BLAKE3 compression function on 4 inputs at once
 * (SSE4.1), the layout of blake3_avx2.c at half the width: __m128i v[i]
 * holds state word i of the 4 inputs; message words are loaded in rows of
 * 16 bytes and transposed 4x4. Used for groups of 4 inputs on CPUs without
 * AVX2, and for the 4..7 inputs left after the 8-wide kernel with it.
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
#endif
