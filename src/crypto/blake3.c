/*
 * blake3.c — BLAKE3 in its plain hash mode, written from the specification
 * (O'Connor, Aumasson, Neves, Wilcox-O'Hearn, "BLAKE3", 2020): the
 * compression function, the chunk state, and the incremental tree.
 *
 * The input is cut into 1024-byte chunks, each hashed as a chain of 64-byte
 * blocks; chunk chaining values are combined pairwise into a binary tree
 * whose left subtrees are complete. The context keeps a stack of the CVs of
 * complete subtrees: before the CV of chunk number k is pushed, the stack is
 * merged down to popcount(k) entries. Merging is lazy (a subtree is merged
 * only when later input exists), so no node that might be the root is ever
 * finalized early; the root alone gets the ROOT flag, at final.
 *
 * Long contiguous inputs go through the kernels of blake3_impl.h: whole
 * aligned subtrees (up to SUBTREE_MAX chunks) are hashed 8 or 4 chunks at
 * a time, then their parents 8 or 4 at a time, down to the two children of
 * the subtree, pushed as two entries (the subtree may be the whole input,
 * hence the root, which only final may compress). The kernel is chosen once
 * from the CPU; the portable one is plain C11. What no kernel can batch
 * (the blocks of a single or partial chunk, parents merged one by one, the
 * root, a lone input) goes through one compression at a time: SSE4.1's
 * row-wise one from level 2 up, the portable one at level 1.
 */
#include <string.h>

#include "crypto/blake3.h"
#include "crypto/blake3_impl.h"

const uint32_t maif_b3_iv[8] = {0x6A09E667u, 0xBB67AE85u, 0x3C6EF372u, 0xA54FF53Au,
                                0x510E527Fu, 0x9B05688Cu, 0x1F83D9ABu, 0x5BE0CD19u};


/* Chunks per subtree hashed by the kernels in one go (a power of two >= 8):
 * 256 chunks are 256 KiB of input; their CVs take 8 KiB of stack. */
#define SUBTREE_MAX 256

/* ---- the compression function (portable) */

static inline uint32_t rotr32(uint32_t x, unsigned n)
{
    return (x >> n) | (x << (32 - n));
}

static inline uint32_t load32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void store32(uint8_t *p, uint32_t w)
{
    p[0] = (uint8_t)w;
    p[1] = (uint8_t)(w >> 8);
    p[2] = (uint8_t)(w >> 16);
    p[3] = (uint8_t)(w >> 24);
}

#define G(a, b, c, d, x, y)              \
    do {                                 \
        v[a] = v[a] + v[b] + (x);        \
        v[d] = rotr32(v[d] ^ v[a], 16);  \
        v[c] = v[c] + v[d];              \
        v[b] = rotr32(v[b] ^ v[c], 12);  \
        v[a] = v[a] + v[b] + (y);        \
        v[d] = rotr32(v[d] ^ v[a], 8);   \
        v[c] = v[c] + v[d];              \
        v[b] = rotr32(v[b] ^ v[c], 7);   \
    } while (0)

/* cv := the first 8 words of compress(cv, m, counter, block_len, flags):
 * all this mode's 32-byte output needs. */
static void compress(uint32_t cv[8], const uint32_t m[16], uint64_t counter, uint32_t block_len, uint32_t flags)
{
    uint32_t v[16] = {cv[0], cv[1], cv[2], cv[3], cv[4], cv[5], cv[6], cv[7],
                      maif_b3_iv[0], maif_b3_iv[1], maif_b3_iv[2], maif_b3_iv[3],
                      (uint32_t)counter, (uint32_t)(counter >> 32), block_len, flags};
    /* unrolled, so that every message index is a constant */
#define S(R, i) m[maif_b3_sched[R][i]]
#define ROUND(R)                            \
    G(0, 4, 8, 12, S(R, 0), S(R, 1));       \
    G(1, 5, 9, 13, S(R, 2), S(R, 3));       \
    G(2, 6, 10, 14, S(R, 4), S(R, 5));      \
    G(3, 7, 11, 15, S(R, 6), S(R, 7));      \
    G(0, 5, 10, 15, S(R, 8), S(R, 9));      \
    G(1, 6, 11, 12, S(R, 10), S(R, 11));    \
    G(2, 7, 8, 13, S(R, 12), S(R, 13));     \
    G(3, 4, 9, 14, S(R, 14), S(R, 15))
    ROUND(0);
    ROUND(1);
    ROUND(2);
    ROUND(3);
    ROUND(4);
    ROUND(5);
    ROUND(6);
#undef ROUND
#undef S
    for (int i = 0; i < 8; i++) cv[i] = v[i] ^ v[i + 8];
}

static void compress_bytes(uint32_t cv[8], const uint8_t block[64], uint64_t counter, uint32_t block_len,
                           uint32_t flags)
{
    uint32_t m[16];
    for (int i = 0; i < 16; i++) m[i] = load32(block + 4 * i);
    compress(cv, m, counter, block_len, flags);
}

/* ---- one compression at the chosen level */

enum { IMPL_PORTABLE = 1, IMPL_SSE41 = 2, IMPL_AVX2 = 3 };

/* compress_bytes, by the SSE4.1 row-wise compression from level 2 up (the
 * AVX2 level too: one block has no use for more than 4 lanes). */
static inline void compress_block(int level, uint32_t cv[8], const uint8_t block[64], uint64_t counter,
                                  uint32_t block_len, uint32_t flags)
{
#ifdef MAIF_B3_X86
    if (level >= IMPL_SSE41) {
        maif_b3_compress_sse41(cv, block, counter, block_len, flags);
        return;
    }
#else
    (void)level;
#endif
    compress_bytes(cv, block, counter, block_len, flags);
}

/* compress, likewise. */
static inline void compress_words(int level, uint32_t cv[8], const uint32_t m[16], uint64_t counter,
                                  uint32_t block_len, uint32_t flags)
{
#ifdef MAIF_B3_X86
    if (level >= IMPL_SSE41) { /* x86 is little-endian: m's bytes are the block */
        maif_b3_compress_sse41(cv, m, counter, block_len, flags);
        return;
    }
#else
    (void)level;
#endif
    compress(cv, m, counter, block_len, flags);
}

/* The kernels' contract, one input after the other, one compression at a
 * time (at the given level). */
static void hash_many_serial(int level, const uint8_t *const *inputs, size_t n, size_t blocks, uint64_t counter,
                             int inc, uint32_t flags, uint32_t fstart, uint32_t fend, uint8_t *out)
{
    for (size_t k = 0; k < n; k++) {
        uint32_t cv[8];
        memcpy(cv, maif_b3_iv, sizeof cv);
        for (size_t b = 0; b < blocks; b++) {
            uint32_t f = flags | (b == 0 ? fstart : 0) | (b + 1 == blocks ? fend : 0);
            compress_block(level, cv, inputs[k] + 64 * b, counter + (inc ? k : 0), 64, f);
        }
        for (int i = 0; i < 8; i++) store32(out + 32 * k + 4 * i, cv[i]);
    }
}

/* ---- choosing the kernels */

static const char *const impl_name[4] = {"", "portable", "sse41", "avx2"};

static int g_best;   /* 0 until detected; every thread computes the same value (benign race) */
static int g_forced; /* 0, or what maif_blake3_force_impl chose */

static int impl_supported(int which)
{
    if (which == IMPL_PORTABLE) return 1;
#ifdef MAIF_B3_X86
    __builtin_cpu_init();
    if (which == IMPL_SSE41) return __builtin_cpu_supports("sse4.1");
    if (which == IMPL_AVX2) return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("sse4.1");
#endif
    return 0;
}

static int impl_level(void)
{
    int f = __atomic_load_n(&g_forced, __ATOMIC_RELAXED);
    if (f) return f;
    int b = __atomic_load_n(&g_best, __ATOMIC_RELAXED);
    if (b) return b;
    b = impl_supported(IMPL_AVX2) ? IMPL_AVX2 : impl_supported(IMPL_SSE41) ? IMPL_SSE41 : IMPL_PORTABLE;
    __atomic_store_n(&g_best, b, __ATOMIC_RELAXED);
    return b;
}

const char *maif_blake3_impl(void)
{
    return impl_name[impl_level()];
}

int maif_blake3_force_impl(int which)
{
    if (which < 0 || which > IMPL_AVX2) return -1;
    if (which && !impl_supported(which)) return -1;
    __atomic_store_n(&g_forced, which, __ATOMIC_RELAXED);
    return 0;
}

/* Runs the widest kernels the level allows over inputs[0..n), the rest
 * one compression at a time; same contract as the kernels. */
static void hash_many(int level, const uint8_t *const *inputs, size_t n, size_t blocks, uint64_t counter, int inc,
                      uint32_t flags, uint32_t fstart, uint32_t fend, uint8_t *out)
{
#ifdef MAIF_B3_X86
    if (level >= IMPL_AVX2)
        for (; n >= 8; n -= 8, inputs += 8, out += 8 * 32, counter += inc ? 8 : 0)
            maif_b3_hash8_avx2(inputs, blocks, counter, inc, flags, fstart, fend, out);
    if (level >= IMPL_SSE41) {
        /* 4 at a time: with AVX2, two pairs of row-wise states (measured
         * ~1.4x the SSE4.1 kernel on 4 chunks) */
        void (*hash4)(const uint8_t *const *, size_t, uint64_t, int, uint32_t, uint32_t, uint32_t, uint8_t *) =
            level >= IMPL_AVX2 ? maif_b3_hash4_rows_avx2 : maif_b3_hash4_sse41;
        for (; n >= 4; n -= 4, inputs += 4, out += 4 * 32, counter += inc ? 4 : 0)
            hash4(inputs, blocks, counter, inc, flags, fstart, fend, out);
        if (n >= 2) { /* 2 or 3 left: one 4-wide pass (the last input repeated) beats 2 or 3 single ones */
            const uint8_t *in4[4] = {inputs[0], inputs[1], inputs[n - 1], inputs[n - 1]};
            uint8_t out4[4 * 32];
            hash4(in4, blocks, counter, inc, flags, fstart, fend, out4);
            memcpy(out, out4, n * 32);
            return;
        }
    }
#else
    (void)level;
#endif
    hash_many_serial(level, inputs, n, blocks, counter, inc, flags, fstart, fend, out);
}

/* ---- the tree */

static void load_cv(uint32_t cv[8], const uint8_t *p)
{
    for (int i = 0; i < 8; i++) cv[i] = load32(p + 4 * i);
}

static void parent_cv(uint32_t out[8], const uint32_t left[8], const uint32_t right[8], uint32_t extra_flags)
{
    uint32_t m[16];
    memcpy(m, left, 32);
    memcpy(m + 8, right, 32);
    memcpy(out, maif_b3_iv, 32);
    compress_words(impl_level(), out, m, 0, 64, MAIF_B3_PARENT | extra_flags);
}

static void chunk_reset(maif_blake3_ctx *c, uint64_t counter)
{
    memcpy(c->cv, maif_b3_iv, sizeof c->cv);
    c->chunk_counter = counter;
    c->buf_len = 0;
    c->blocks_done = 0;
}

static size_t chunk_len(const maif_blake3_ctx *c)
{
    return (size_t)c->blocks_done * MAIF_BLAKE3_BLOCK_LEN + c->buf_len;
}

/* Adds p[0..n) to the current chunk; n <= the room left in it. A full
 * block is compressed only once more bytes follow it (it may be the
 * chunk's last, which takes CHUNK_END). */
static void chunk_update(maif_blake3_ctx *c, const uint8_t *p, size_t n)
{
    int level = impl_level();
    while (n) {
        if (c->buf_len == MAIF_BLAKE3_BLOCK_LEN) {
            compress_block(level, c->cv, c->buf, c->chunk_counter, 64, c->blocks_done ? 0 : MAIF_B3_CHUNK_START);
            c->blocks_done++;
            c->buf_len = 0;
        }
        if (c->buf_len == 0 && n > MAIF_BLAKE3_BLOCK_LEN) {
            /* whole blocks with more bytes after them, straight from p */
#ifdef MAIF_B3_X86
            if (level >= IMPL_SSE41) { /* the CV stays in registers from block to block */
                size_t blocks = (n - 1) / MAIF_BLAKE3_BLOCK_LEN;
                maif_b3_compress_blocks_sse41(c->cv, p, blocks, c->chunk_counter,
                                              c->blocks_done ? 0 : MAIF_B3_CHUNK_START);
                c->blocks_done = (uint8_t)(c->blocks_done + blocks);
                p += 64 * blocks;
                n -= 64 * blocks;
            }
#endif
            for (; n > MAIF_BLAKE3_BLOCK_LEN; p += 64, n -= 64) {
                compress_block(level, c->cv, p, c->chunk_counter, 64, c->blocks_done ? 0 : MAIF_B3_CHUNK_START);
                c->blocks_done++;
            }
        }
        size_t take = MAIF_BLAKE3_BLOCK_LEN - c->buf_len;
        if (take > n) take = n;
        memcpy(c->buf + c->buf_len, p, take);
        c->buf_len = (uint8_t)(c->buf_len + take);
        p += take;
        n -= take;
    }
}

/* The CV of the current chunk's last block with extra_flags (0, or ROOT). */
static void chunk_cv(const maif_blake3_ctx *c, uint32_t out[8], uint32_t extra_flags)
{
    uint8_t block[MAIF_BLAKE3_BLOCK_LEN] = {0};
    memcpy(block, c->buf, c->buf_len);
    memcpy(out, c->cv, 32);
    uint32_t flags = MAIF_B3_CHUNK_END | (c->blocks_done ? 0 : MAIF_B3_CHUNK_START) | extra_flags;
    compress_block(impl_level(), out, block, c->chunk_counter, c->buf_len, flags);
}

/* Merges the stack down to popcount(chunks_before) entries, once input
 * beyond the first chunks_before chunks exists: the subtrees complete by
 * then are known not to be the root. */
static void merge_stack(maif_blake3_ctx *c, uint64_t chunks_before)
{
    unsigned keep = (unsigned)__builtin_popcountll(chunks_before);
    while (c->stack_len > keep) {
        uint32_t *l = c->cv_stack[c->stack_len - 2], *r = c->cv_stack[c->stack_len - 1];
        parent_cv(l, l, r, 0);
        c->stack_len--;
    }
}

/* Pushes the CV of the subtree that starts at chunk `chunks_before`. */
static void push_cv(maif_blake3_ctx *c, const uint32_t cv[8], uint64_t chunks_before)
{
    merge_stack(c, chunks_before);
    memcpy(c->cv_stack[c->stack_len++], cv, 32);
}

/* The two child CVs (left ‖ right, 64 bytes) of the subtree of `chunks`
 * whole chunks at p (2 <= chunks <= SUBTREE_MAX, a power of two), whose
 * first chunk has number counter. */
static void subtree_children(int level, const uint8_t *p, size_t chunks, uint64_t counter, uint8_t out[64])
{
    const uint8_t *in[SUBTREE_MAX] = {0};
    uint8_t a[SUBTREE_MAX * 32], b[SUBTREE_MAX / 2 * 32];
    for (size_t i = 0; i < chunks; i++) in[i] = p + i * MAIF_BLAKE3_CHUNK_LEN;
    hash_many(level, in, chunks, MAIF_BLAKE3_CHUNK_LEN / 64, counter, 1, 0, MAIF_B3_CHUNK_START, MAIF_B3_CHUNK_END,
              a);
    uint8_t *cur = a, *next = b;
    for (size_t n = chunks / 2; n > 1; n /= 2) { /* n parents of the 2n CVs in cur */
        for (size_t i = 0; i < n; i++) in[i] = cur + 64 * i;
        hash_many(level, in, n, 1, 0, 0, MAIF_B3_PARENT, 0, 0, next);
        uint8_t *t = cur;
        cur = next;
        next = t;
    }
    memcpy(out, cur, 64);
}

void maif_blake3_init(maif_blake3_ctx *c)
{
    chunk_reset(c, 0);
    c->stack_len = 0;
}

void maif_blake3_update(maif_blake3_ctx *c, const void *data, size_t n)
{
    const uint8_t *p = data;
    if (n == 0) return;
    size_t have = chunk_len(c);
    if (have > 0) {
        size_t take = MAIF_BLAKE3_CHUNK_LEN - have;
        if (take > n) take = n;
        chunk_update(c, p, take);
        p += take;
        n -= take;
        if (n == 0) return;
        uint32_t cv[8]; /* the chunk is full and more input follows: not the root */
        chunk_cv(c, cv, 0);
        push_cv(c, cv, c->chunk_counter);
        chunk_reset(c, c->chunk_counter + 1);
    }
    int level = n > MAIF_BLAKE3_CHUNK_LEN ? impl_level() : IMPL_PORTABLE;
    while (n > MAIF_BLAKE3_CHUNK_LEN) {
        /* the largest aligned subtree of whole chunks that the input holds */
        uint64_t chunks = (uint64_t)(n / MAIF_BLAKE3_CHUNK_LEN), k = c->chunk_counter;
        uint64_t sub = 1;
        while (sub * 2 <= chunks && sub * 2 <= SUBTREE_MAX) sub *= 2;
        while (k & (sub - 1)) sub /= 2;
        if (sub == 1) { /* more input follows this chunk: its CV is no root */
            uint8_t out[32];
            uint32_t cv[8];
            hash_many(level, &p, 1, MAIF_BLAKE3_CHUNK_LEN / 64, k, 1, 0, MAIF_B3_CHUNK_START, MAIF_B3_CHUNK_END, out);
            load_cv(cv, out);
            push_cv(c, cv, k);
        } else {
            uint8_t out[64];
            uint32_t l[8], r[8];
            subtree_children(level, p, (size_t)sub, k, out);
            load_cv(l, out);
            load_cv(r, out + 32);
            push_cv(c, l, k);
            push_cv(c, r, k + sub / 2);
        }
        p += sub * MAIF_BLAKE3_CHUNK_LEN;
        n -= sub * MAIF_BLAKE3_CHUNK_LEN;
        c->chunk_counter = k + sub;
    }
    if (n == 0) return; /* ended on a subtree pushed as its two children */
    chunk_update(c, p, n);
    /* the current chunk holds bytes: what precedes it is complete and no
     * root, so final can fold the stack right to left */
    merge_stack(c, c->chunk_counter);
}

void maif_blake3_final(const maif_blake3_ctx *c, uint8_t out[MAIF_BLAKE3_BYTES])
{
    uint32_t cv[8];
    if (c->stack_len == 0) {
        chunk_cv(c, cv, MAIF_B3_ROOT);
    } else {
        /* Fold right to left: the node under construction is the right
         * child of every subtree left on the stack. */
        size_t i = c->stack_len;
        uint32_t right[8];
        if (chunk_len(c) > 0) {
            chunk_cv(c, right, 0);
        } else { /* the input ended on a subtree pushed as its two children */
            i -= 2;
            if (i == 0) {
                parent_cv(cv, c->cv_stack[0], c->cv_stack[1], MAIF_B3_ROOT);
                goto done;
            }
            parent_cv(right, c->cv_stack[i], c->cv_stack[i + 1], 0);
        }
        while (i > 1) {
            i--;
            parent_cv(right, c->cv_stack[i], right, 0);
        }
        parent_cv(cv, c->cv_stack[0], right, MAIF_B3_ROOT);
    }
done:
    for (int j = 0; j < 8; j++) store32(out + 4 * j, cv[j]);
}

void maif_blake3(const void *data, size_t n, uint8_t out[MAIF_BLAKE3_BYTES])
{
    maif_blake3_ctx c;
    maif_blake3_init(&c);
    maif_blake3_update(&c, data, n);
    maif_blake3_final(&c, out);
}
