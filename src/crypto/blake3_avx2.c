/*
 * blake3_avx2.c — the BLAKE3 compression function on 8 inputs at once
 * (AVX2). The state is transposed: __m256i v[i] holds state word i of all
 * 8 inputs, one per 32-bit lane, so each G step is one vector instruction
 * for the 8 inputs; message words are loaded 8 rows of 32 bytes at a time
 * and transposed 8x8 the same way. Rotations by 16 and 8 are byte shuffles
 * (vpshufb), by 12 and 7 two shifts and an or. The G functions are
 * written one after the other (not step-interleaved), which keeps fewer
 * temporaries alive; the small array loops carry unroll pragmas so that at
 * -O2 GCC keeps the arrays in registers (measured: both matter, ~25% each
 * on this kernel). Compiled with a target
 * attribute (as src/semantic/vec.c) so the binary runs on any x86-64; it
 * is called only when the CPU has AVX2 (blake3.c).
 */
#include "crypto/blake3_impl.h"

#ifdef MAIF_B3_X86
#include <immintrin.h>

#define AVX2 __attribute__((target("avx2"), always_inline)) static inline
/* GCC's register allocator spills the 16 state vectors far less with one
 * allocation region for the whole function: measured 2.8 -> 3.8 GB/s for
 * this kernel on 1 MiB (Zen 3, GCC 12). Clang needs no hint. */
#if defined(__clang__) || !defined(__GNUC__)
#define KERNEL_ATTR __attribute__((target("avx2")))
#else
#define KERNEL_ATTR __attribute__((target("avx2"), optimize("ira-region=one")))
#endif

AVX2 __m256i rot16(__m256i x)
{
    const __m256i m = _mm256_setr_epi8(2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13,
                                       2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13);
    return _mm256_shuffle_epi8(x, m);
}

AVX2 __m256i rot8(__m256i x)
{
    const __m256i m = _mm256_setr_epi8(1, 2, 3, 0, 5, 6, 7, 4, 9, 10, 11, 8, 13, 14, 15, 12,
                                       1, 2, 3, 0, 5, 6, 7, 4, 9, 10, 11, 8, 13, 14, 15, 12);
    return _mm256_shuffle_epi8(x, m);
}

AVX2 __m256i rot12(__m256i x)
{
    return _mm256_or_si256(_mm256_srli_epi32(x, 12), _mm256_slli_epi32(x, 20));
}

AVX2 __m256i rot7(__m256i x)
{
    return _mm256_or_si256(_mm256_srli_epi32(x, 7), _mm256_slli_epi32(x, 25));
}

/* One quarter-round on state words a, b, c, d with message words x, y. */
AVX2 void g8(__m256i v[16], int a, int b, int c, int d, __m256i x, __m256i y)
{
    v[a] = _mm256_add_epi32(_mm256_add_epi32(v[a], x), v[b]);
    v[d] = rot16(_mm256_xor_si256(v[d], v[a]));
    v[c] = _mm256_add_epi32(v[c], v[d]);
    v[b] = rot12(_mm256_xor_si256(v[b], v[c]));
    v[a] = _mm256_add_epi32(_mm256_add_epi32(v[a], y), v[b]);
    v[d] = rot8(_mm256_xor_si256(v[d], v[a]));
    v[c] = _mm256_add_epi32(v[c], v[d]);
    v[b] = rot7(_mm256_xor_si256(v[b], v[c]));
}

/* One round: the four column G functions, then the four diagonal ones. */
AVX2 void round8(__m256i v[16], const __m256i m[16], int r)
{
    const uint8_t *s = maif_b3_sched[r];
    g8(v, 0, 4, 8, 12, m[s[0]], m[s[1]]);
    g8(v, 1, 5, 9, 13, m[s[2]], m[s[3]]);
    g8(v, 2, 6, 10, 14, m[s[4]], m[s[5]]);
    g8(v, 3, 7, 11, 15, m[s[6]], m[s[7]]);
    g8(v, 0, 5, 10, 15, m[s[8]], m[s[9]]);
    g8(v, 1, 6, 11, 12, m[s[10]], m[s[11]]);
    g8(v, 2, 7, 8, 13, m[s[12]], m[s[13]]);
    g8(v, 3, 4, 9, 14, m[s[14]], m[s[15]]);
}

/* In place: row i of x[0..8) becomes column i (8x8 32-bit words). */
AVX2 void transpose8(__m256i x[8])
{
    __m256i t0 = _mm256_unpacklo_epi32(x[0], x[1]), t1 = _mm256_unpackhi_epi32(x[0], x[1]);
    __m256i t2 = _mm256_unpacklo_epi32(x[2], x[3]), t3 = _mm256_unpackhi_epi32(x[2], x[3]);
    __m256i t4 = _mm256_unpacklo_epi32(x[4], x[5]), t5 = _mm256_unpackhi_epi32(x[4], x[5]);
    __m256i t6 = _mm256_unpacklo_epi32(x[6], x[7]), t7 = _mm256_unpackhi_epi32(x[6], x[7]);
    __m256i u0 = _mm256_unpacklo_epi64(t0, t2), u1 = _mm256_unpackhi_epi64(t0, t2);
    __m256i u2 = _mm256_unpacklo_epi64(t1, t3), u3 = _mm256_unpackhi_epi64(t1, t3);
    __m256i u4 = _mm256_unpacklo_epi64(t4, t6), u5 = _mm256_unpackhi_epi64(t4, t6);
    __m256i u6 = _mm256_unpacklo_epi64(t5, t7), u7 = _mm256_unpackhi_epi64(t5, t7);
    x[0] = _mm256_permute2x128_si256(u0, u4, 0x20);
    x[1] = _mm256_permute2x128_si256(u1, u5, 0x20);
    x[2] = _mm256_permute2x128_si256(u2, u6, 0x20);
    x[3] = _mm256_permute2x128_si256(u3, u7, 0x20);
    x[4] = _mm256_permute2x128_si256(u0, u4, 0x31);
    x[5] = _mm256_permute2x128_si256(u1, u5, 0x31);
    x[6] = _mm256_permute2x128_si256(u2, u6, 0x31);
    x[7] = _mm256_permute2x128_si256(u3, u7, 0x31);
}

KERNEL_ATTR void maif_b3_hash8_avx2(const uint8_t *const inputs[8], size_t blocks,
                                    uint64_t counter, int inc, uint32_t flags,
                                    uint32_t fstart, uint32_t fend, uint8_t *out)
{
    __m256i h[8], m[16], v[16];
#pragma GCC unroll 16
    for (int i = 0; i < 8; i++) h[i] = _mm256_set1_epi32((int)maif_b3_iv[i]);
    uint32_t lo[8], hi[8];
#pragma GCC unroll 16
    for (int k = 0; k < 8; k++) {
        uint64_t c = counter + (inc ? (uint64_t)k : 0);
        lo[k] = (uint32_t)c;
        hi[k] = (uint32_t)(c >> 32);
    }
    const __m256i clo = _mm256_loadu_si256((const __m256i *)lo), chi = _mm256_loadu_si256((const __m256i *)hi);
    for (size_t b = 0; b < blocks; b++) {
#pragma GCC unroll 16
        for (int k = 0; k < 8; k++) {
            m[k] = _mm256_loadu_si256((const __m256i *)(inputs[k] + 64 * b));
            m[8 + k] = _mm256_loadu_si256((const __m256i *)(inputs[k] + 64 * b + 32));
        }
        transpose8(m);
        transpose8(m + 8);
        uint32_t f = flags | (b == 0 ? fstart : 0) | (b + 1 == blocks ? fend : 0);
#pragma GCC unroll 16
        for (int i = 0; i < 8; i++) v[i] = h[i];
#pragma GCC unroll 16
        for (int i = 0; i < 4; i++) v[8 + i] = _mm256_set1_epi32((int)maif_b3_iv[i]);
        v[12] = clo;
        v[13] = chi;
        v[14] = _mm256_set1_epi32(64);
        v[15] = _mm256_set1_epi32((int)f);
        round8(v, m, 0);
        round8(v, m, 1);
        round8(v, m, 2);
        round8(v, m, 3);
        round8(v, m, 4);
        round8(v, m, 5);
        round8(v, m, 6);
#pragma GCC unroll 16
        for (int i = 0; i < 8; i++) h[i] = _mm256_xor_si256(v[i], v[i + 8]);
    }
    transpose8(h); /* row k: the 8 words of input k's CV (x86 is little-endian) */
#pragma GCC unroll 16
    for (int k = 0; k < 8; k++) _mm256_storeu_si256((__m256i *)(out + 32 * k), h[k]);
}

/* ---- 4 inputs as 2 pairs of row-wise states
 *
 * The row-wise compression of blake3_sse41.c with 256-bit rows: the low
 * 128 bits hold one input's row, the high 128 bits another's (every
 * shuffle used stays within its 128-bit half). One compression so laid
 * out is bound by the latency of its G chain and leaves most execution
 * ports idle, so two pairs run side by side: 4 inputs in about the time
 * of one. Used for the 2..7 inputs left after the 8-wide kernel. */

AVX2 void g_rows2(__m256i *a, __m256i *b, __m256i *c, __m256i *d, __m256i x, __m256i y)
{
    __m256i ax = _mm256_add_epi32(*a, x);
    __asm__("" : "+x"(ax)); /* a + x before b is ready, as blake3_sse41.c's g_rows */
    *a = _mm256_add_epi32(ax, *b);
    *d = rot16(_mm256_xor_si256(*d, *a));
    *c = _mm256_add_epi32(*c, *d);
    *b = rot12(_mm256_xor_si256(*b, *c));
    __m256i ay = _mm256_add_epi32(*a, y);
    __asm__("" : "+x"(ay));
    *a = _mm256_add_epi32(ay, *b);
    *d = rot8(_mm256_xor_si256(*d, *a));
    *c = _mm256_add_epi32(*c, *d);
    *b = rot7(_mm256_xor_si256(*b, *c));
}

/* One round, laid out as blake3_sse41.c's round_rows (rows a, c, d rotate
 * for the diagonals; x1, y1, x2, y2 in its lane order). */
AVX2 void round_rows2(__m256i *a, __m256i *b, __m256i *c, __m256i *d, __m256 x1, __m256 y1, __m256 x2, __m256 y2)
{
    g_rows2(a, b, c, d, _mm256_castps_si256(x1), _mm256_castps_si256(y1));
    *a = _mm256_shuffle_epi32(*a, _MM_SHUFFLE(2, 1, 0, 3));
    *c = _mm256_shuffle_epi32(*c, _MM_SHUFFLE(0, 3, 2, 1));
    *d = _mm256_shuffle_epi32(*d, _MM_SHUFFLE(1, 0, 3, 2));
    g_rows2(a, b, c, d, _mm256_castps_si256(x2), _mm256_castps_si256(y2));
    *a = _mm256_shuffle_epi32(*a, _MM_SHUFFLE(0, 3, 2, 1));
    *c = _mm256_shuffle_epi32(*c, _MM_SHUFFLE(2, 1, 0, 3));
    *d = _mm256_shuffle_epi32(*d, _MM_SHUFFLE(1, 0, 3, 2));
}

/* blake3_sse41.c's permute_msg on both halves. */
AVX2 void permute_msg2(__m256 *x1, __m256 *y1, __m256 *x2, __m256 *y2)
{
    __m256 a = _mm256_shuffle_ps(*x1, *y1, _MM_SHUFFLE(3, 1, 2, 1));
    __m256 b = _mm256_shuffle_ps(*x1, _mm256_blend_ps(*x2, *y2, 0x88), _MM_SHUFFLE(3, 2, 0, 3));
    __m256 c = _mm256_shuffle_ps(_mm256_unpacklo_ps(*y2, *y1), _mm256_blend_ps(*x2, *y2, 0x22),
                                 _MM_SHUFFLE(1, 3, 1, 0));
    __m256 d = _mm256_shuffle_ps(_mm256_blend_ps(*x2, *y2, 0x44), _mm256_blend_ps(*y1, *x2, 0x11),
                                 _MM_SHUFFLE(0, 2, 2, 1));
    *x1 = _mm256_castsi256_ps(_mm256_shuffle_epi32(_mm256_castps_si256(a), _MM_SHUFFLE(1, 3, 2, 0)));
    *y1 = _mm256_castsi256_ps(_mm256_shuffle_epi32(_mm256_castps_si256(b), _MM_SHUFFLE(3, 1, 2, 0)));
    *x2 = c;
    *y2 = d;
}

/* 16 bytes of p (low half) and of q (high half). */
AVX2 __m256 load2(const uint8_t *p, const uint8_t *q)
{
    __m256i lo = _mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)p));
    return _mm256_castsi256_ps(_mm256_inserti128_si256(lo, _mm_loadu_si128((const __m128i *)q), 1));
}

/* Round 0's message vectors of the blocks at p (low half) and q (high). */
AVX2 void load_msg2(const uint8_t *p, const uint8_t *q, __m256 *x1, __m256 *y1, __m256 *x2, __m256 *y2)
{
    __m256 m0 = load2(p, q), m1 = load2(p + 16, q + 16), m2 = load2(p + 32, q + 32), m3 = load2(p + 48, q + 48);
    *x1 = _mm256_shuffle_ps(m0, m1, _MM_SHUFFLE(2, 0, 2, 0));
    *y1 = _mm256_shuffle_ps(m0, m1, _MM_SHUFFLE(3, 1, 3, 1));
    __m256i t2 = _mm256_castps_si256(_mm256_shuffle_ps(m2, m3, _MM_SHUFFLE(2, 0, 2, 0)));
    __m256i t3 = _mm256_castps_si256(_mm256_shuffle_ps(m2, m3, _MM_SHUFFLE(3, 1, 3, 1)));
    *x2 = _mm256_castsi256_ps(_mm256_shuffle_epi32(t2, _MM_SHUFFLE(2, 1, 0, 3)));
    *y2 = _mm256_castsi256_ps(_mm256_shuffle_epi32(t3, _MM_SHUFFLE(2, 1, 0, 3)));
}

KERNEL_ATTR void maif_b3_hash4_rows_avx2(const uint8_t *const inputs[4], size_t blocks, uint64_t counter, int inc,
                                         uint32_t flags, uint32_t fstart, uint32_t fend, uint8_t *out)
{
    const __m256i iv0 = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)maif_b3_iv));
    const __m256i iv1 = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(maif_b3_iv + 4)));
    __m256i h0[2] = {iv0, iv0}, h1[2] = {iv1, iv1}; /* pair q: inputs 2q (low) and 2q + 1 (high) */
    uint32_t lo[4], hi[4];
#pragma GCC unroll 16
    for (int k = 0; k < 4; k++) {
        uint64_t c = counter + (inc ? (uint64_t)k : 0);
        lo[k] = (uint32_t)c;
        hi[k] = (uint32_t)(c >> 32);
    }
    for (size_t b = 0; b < blocks; b++) {
        int f = (int)(flags | (b == 0 ? fstart : 0) | (b + 1 == blocks ? fend : 0));
        __m256i va[2], vb[2], vc[2], vd[2];
        __m256 x1[2], y1[2], x2[2], y2[2];
#pragma GCC unroll 16
        for (int q = 0; q < 2; q++) {
            load_msg2(inputs[2 * q] + 64 * b, inputs[2 * q + 1] + 64 * b, &x1[q], &y1[q], &x2[q], &y2[q]);
            va[q] = h0[q];
            vb[q] = h1[q];
            vc[q] = iv0;
            vd[q] = _mm256_setr_epi32((int)lo[2 * q], (int)hi[2 * q], 64, f, (int)lo[2 * q + 1], (int)hi[2 * q + 1],
                                      64, f);
        }
#pragma GCC unroll 16
        for (int r = 0; r < 7; r++)
#pragma GCC unroll 16
            for (int q = 0; q < 2; q++) {
                if (r > 0) permute_msg2(&x1[q], &y1[q], &x2[q], &y2[q]);
                round_rows2(&va[q], &vb[q], &vc[q], &vd[q], x1[q], y1[q], x2[q], y2[q]);
            }
#pragma GCC unroll 16
        for (int q = 0; q < 2; q++) {
            h0[q] = _mm256_xor_si256(va[q], vc[q]);
            h1[q] = _mm256_xor_si256(vb[q], vd[q]);
        }
    }
#pragma GCC unroll 16
    for (int q = 0; q < 2; q++) { /* x86 is little-endian: the rows are the CVs' bytes */
        _mm_storeu_si128((__m128i *)(out + 64 * q), _mm256_castsi256_si128(h0[q]));
        _mm_storeu_si128((__m128i *)(out + 64 * q + 16), _mm256_castsi256_si128(h1[q]));
        _mm_storeu_si128((__m128i *)(out + 64 * q + 32), _mm256_extracti128_si256(h0[q], 1));
        _mm_storeu_si128((__m128i *)(out + 64 * q + 48), _mm256_extracti128_si256(h1[q], 1));
    }
}
#endif
