/*
 * test_blake3.c — BLAKE3-256 (src/crypto/blake3.c): the official test
 * vectors' inputs (byte i = i % 251) at the lengths that exercise every
 * tree shape, byte for byte against hashes computed by b3sum 1.2.0 (the
 * reference Rust implementation); every implementation this CPU has
 * (portable, SSE4.1, AVX2) against them and against each other on random
 * lengths split into random update() calls, every length up to two
 * chunks and more; the kernels (8-wide, 4-wide, 4-input row-wise, one
 * block) against each other; final does not disturb the context; and,
 * when b3sum is installed, random files of odd sizes hashed by both;
 * threads hashing at once.
 */
#include "testutil.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto/blake3.h"
#include "crypto/blake3_impl.h"

static const struct {
    size_t len;
    const char *hex;
} kat[] = {
    {0, "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"},
    {1, "2d3adedff11b61f14c886e35afa036736dcd87a74d27b5c1510225d0f592e213"},
    {2, "7b7015bb92cf0b318037702a6cdd81dee41224f734684c2c122cd6359cb1ee63"},
    {3, "e1be4d7a8ab5560aa4199eea339849ba8e293d55ca0a81006726d184519e647f"},
    {4, "f30f5ab28fe047904037f77b6da4fea1e27241c5d132638d8bedce9d40494f32"},
    {5, "b40b44dfd97e7a84a996a91af8b85188c66c126940ba7aad2e7ae6b385402aa2"},
    {6, "06c4e8ffb6872fad96f9aaca5eee1553eb62aed0ad7198cef42e87f6a616c844"},
    {7, "3f8770f387faad08faa9d8414e9f449ac68e6ff0417f673f602a646a891419fe"},
    {8, "2351207d04fc16ade43ccab08600939c7c1fa70a5c0aaca76063d04c3228eaeb"},
    {63, "e9bc37a594daad83be9470df7f7b3798297c3d834ce80ba85d6e207627b7db7b"},
    {64, "4eed7141ea4a5cd4b788606bd23f46e212af9cacebacdc7d1f4c6dc7f2511b98"},
    {65, "de1e5fa0be70df6d2be8fffd0e99ceaa8eb6e8c93a63f2d8d1c30ecb6b263dee"},
    {127, "d81293fda863f008c09e92fc382a81f5a0b4a1251cba1634016a0f86a6bd640d"},
    {128, "f17e570564b26578c33bb7f44643f539624b05df1a76c81f30acd548c44b45ef"},
    {129, "683aaae9f3c5ba37eaaf072aed0f9e30bac0865137bae68b1fde4ca2aebdcb12"},
    {1023, "10108970eeda3eb932baac1428c7a2163b0e924c9a9e25b35bba72b28f70bd11"},
    {1024, "42214739f095a406f3fc83deb889744ac00df831c10daa55189b5d121c855af7"},
    {1025, "d00278ae47eb27b34faecf67b4fe263f82d5412916c1ffd97c8cb7fb814b8444"},
    {2048, "e776b6028c7cd22a4d0ba182a8bf62205d2ef576467e838ed6f2529b85fba24a"},
    {2049, "5f4d72f40d7a5f82b15ca2b2e44b1de3c2ef86c426c95c1af0b6879522563030"},
    {3072, "b98cb0ff3623be03326b373de6b9095218513e64f1ee2edd2525c7ad1e5cffd2"},
    {3073, "7124b49501012f81cc7f11ca069ec9226cecb8a2c850cfe644e327d22d3e1cd3"},
    {4096, "015094013f57a5277b59d8475c0501042c0b642e531b0a1c8f58d2163229e969"},
    {4097, "9b4052b38f1c5fc8b1f9ff7ac7b27cd242487b3d890d15c96a1c25b8aa0fb995"},
    {5120, "9cadc15fed8b5d854562b26a9536d9707cadeda9b143978f319ab34230535833"},
    {5121, "628bd2cb2004694adaab7bbd778a25df25c47b9d4155a55f8fbd79f2fe154cff"},
    {6144, "3e2e5b74e048f3add6d21faab3f83aa44d3b2278afb83b80b3c35164ebeca205"},
    {6145, "f1323a8631446cc50536a9f705ee5cb619424d46887f3c376c695b70e0f0507f"},
    {7168, "61da957ec2499a95d6b8023e2b0e604ec7f6b50e80a9678b89d2628e99ada77a"},
    {7169, "a003fc7a51754a9b3c7fae0367ab3d782dccf28855a03d435f8cfe74605e7817"},
    {8192, "aae792484c8efe4f19e2ca7d371d8c467ffb10748d8a5a1ae579948f718a2a63"},
    {8193, "bab6c09cb8ce8cf459261398d2e7aef35700bf488116ceb94a36d0f5f1b7bc3b"},
    {16384, "f875d6646de28985646f34ee13be9a576fd515f76b5b0a26bb324735041ddde4"},
    {31744, "62b6960e1a44bcc1eb1a611a8d6235b6b4b78f32e7abc4fb4c6cdcce94895c47"},
    {102400, "bc3e3d41a1146b069abffad3c0d44860cf664390afce4d9661f7902e7943e085"},
    {1048576, "74cb441fd087764ca9c3694da742ebe30cbeb3060a17009ca81825c7a8d10343"},
};
#define NKAT (sizeof kat / sizeof kat[0])
#define KAT_MAX 1048576

/* The implementations to run: maif_blake3_force_impl arguments 1..3. */
static const char *const impl_names[4] = {"", "portable", "sse41", "avx2"};

static uint64_t rng(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void to_hex(const uint8_t h[32], char out[65])
{
    for (int i = 0; i < 32; i++) snprintf(out + 2 * i, 3, "%02x", h[i]);
}

static uint8_t *kat_input(void)
{
    uint8_t *p = malloc(KAT_MAX);
    assert_non_null(p);
    for (size_t i = 0; i < KAT_MAX; i++) p[i] = (uint8_t)(i % 251);
    return p;
}

/* Hashes p[0..n) with update() calls of sizes drawn from seed (1-byte
 * pieces, pieces around the block and chunk sizes, and large ones). */
static void hash_split(const uint8_t *p, size_t n, uint64_t seed, uint8_t out[32])
{
    maif_blake3_ctx c;
    maif_blake3_init(&c);
    uint64_t s = seed | 1;
    size_t at = 0;
    while (at < n) {
        size_t k;
        switch (rng(&s) % 6) {
        case 0: k = 1; break;
        case 1: k = rng(&s) % 64 + 1; break;
        case 2: k = 1024 - rng(&s) % 3 + rng(&s) % 3; break;
        case 3: k = rng(&s) % 4096; break;
        case 4: k = rng(&s) % 70000; break;
        default: k = (size_t)1 << (rng(&s) % 18); break;
        }
        if (k > n - at) k = n - at;
        maif_blake3_update(&c, p + at, k);
        at += k;
    }
    maif_blake3_final(&c, out);
}

static void test_kat_all_impls(void **state)
{
    (void)state;
    uint8_t *in = kat_input();
    int ran = 0;
    for (int which = 1; which <= 3; which++) {
        if (maif_blake3_force_impl(which) != 0) continue;
        assert_string_equal(maif_blake3_impl(), impl_names[which]);
        ran++;
        for (size_t i = 0; i < NKAT; i++) {
            uint8_t h[32];
            char hex[65];
            maif_blake3(in, kat[i].len, h);
            to_hex(h, hex);
            if (strcmp(hex, kat[i].hex) != 0)
                fail_msg("%s, %zu bytes: %s, want %s", impl_names[which], kat[i].len, hex, kat[i].hex);
            /* incremental, random splits */
            for (uint64_t seed = 1; seed <= 3; seed++) {
                hash_split(in, kat[i].len, seed * 7919 + i, h);
                to_hex(h, hex);
                if (strcmp(hex, kat[i].hex) != 0)
                    fail_msg("%s, %zu bytes split (seed %llu): %s", impl_names[which], kat[i].len,
                             (unsigned long long)seed, hex);
            }
        }
    }
    assert_int_equal(maif_blake3_force_impl(0), 0);
    assert_true(ran >= 1);
    free(in);
}

/* Threads hashing at once (the first of them racing for the CPU
 * detection, as this test runs first) each get the KATs' hashes. */
typedef struct hash_job {
    const uint8_t *in;
    int bad;
    int which; /* thread number: picks the lengths */
} hash_job;

static void *hash_thread(void *arg)
{
    hash_job *j = arg;
    for (size_t i = (size_t)j->which; i < NKAT; i += 2) {
        uint8_t h[32];
        char hex[65];
        maif_blake3(j->in, kat[i].len, h);
        to_hex(h, hex);
        if (strcmp(hex, kat[i].hex) != 0) j->bad++;
        hash_split(j->in, kat[i].len, (uint64_t)i + 1, h);
        to_hex(h, hex);
        if (strcmp(hex, kat[i].hex) != 0) j->bad++;
    }
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    uint8_t *in = kat_input();
    pthread_t t[4];
    hash_job jobs[4];
    for (int k = 0; k < 4; k++) {
        jobs[k] = (hash_job){in, 0, k % 2};
        assert_int_equal(pthread_create(&t[k], NULL, hash_thread, &jobs[k]), 0);
    }
    for (int k = 0; k < 4; k++) {
        assert_int_equal(pthread_join(t[k], NULL), 0);
        assert_int_equal(jobs[k].bad, 0);
    }
    free(in);
}

/* Byte by byte across several chunk boundaries, and in pieces of the
 * chunk size off by one either way. */
static void test_small_updates(void **state)
{
    (void)state;
    uint8_t *in = kat_input();
    uint8_t h[32];
    char hex[65];
    for (size_t i = 0; i < NKAT; i++) {
        if (kat[i].len > 8193) continue;
        maif_blake3_ctx c;
        maif_blake3_init(&c);
        for (size_t j = 0; j < kat[i].len; j++) maif_blake3_update(&c, in + j, 1);
        maif_blake3_final(&c, h);
        to_hex(h, hex);
        assert_string_equal(hex, kat[i].hex);
    }
    for (size_t piece = 1023; piece <= 1025; piece++) {
        maif_blake3_ctx c;
        maif_blake3_init(&c);
        for (size_t at = 0; at < 102400; at += piece)
            maif_blake3_update(&c, in + at, 102400 - at < piece ? 102400 - at : piece);
        maif_blake3_final(&c, h);
        to_hex(h, hex);
        assert_string_equal(hex, "bc3e3d41a1146b069abffad3c0d44860cf664390afce4d9661f7902e7943e085");
    }
    free(in);
}

/* final leaves the context as it was: hashing more afterwards gives the
 * hash of the whole input, and final twice gives the same bytes. */
static void test_final_is_pure(void **state)
{
    (void)state;
    uint8_t *in = kat_input();
    uint8_t h[32], h2[32];
    char hex[65];
    maif_blake3_ctx c;
    maif_blake3_init(&c);
    maif_blake3_update(&c, NULL, 0);
    maif_blake3_final(&c, h);
    to_hex(h, hex);
    assert_string_equal(hex, "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262");
    size_t marks[] = {1, 1023, 1024, 1025, 2048, 4096, 4097, 8192, 16384, 31744, 102400, 1048576};
    size_t at = 0;
    for (size_t m = 0; m < sizeof marks / sizeof marks[0]; m++) {
        maif_blake3_update(&c, in + at, marks[m] - at);
        at = marks[m];
        maif_blake3_ctx before;
        memcpy(&before, &c, sizeof c);
        maif_blake3_final(&c, h);
        maif_blake3_final(&c, h2);
        assert_memory_equal(h, h2, 32);
        assert_memory_equal(&before, &c, sizeof c);
        maif_blake3(in, at, h2);
        assert_memory_equal(h, h2, 32);
        for (size_t i = 0; i < NKAT; i++)
            if (kat[i].len == at) {
                to_hex(h, hex);
                assert_string_equal(hex, kat[i].hex);
            }
    }
    free(in);
}

/* Every implementation against the portable one on random lengths up to
 * ~300 KiB of random bytes, one shot and split at random. */
static void test_impls_agree(void **state)
{
    (void)state;
    const size_t max = 300 * 1024 + 77;
    uint8_t *in = malloc(max);
    assert_non_null(in);
    uint64_t s = 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < max; i++) in[i] = (uint8_t)(rng(&s) >> 24);
    for (int round = 0; round < 60; round++) {
        size_t n = round < 10 ? (size_t)rng(&s) % 4096 : (size_t)(rng(&s) % (max + 1));
        size_t off = (size_t)(rng(&s) % 7); /* unaligned inputs too */
        if (n + off > max) n = max - off;
        uint64_t seed = rng(&s);
        uint8_t want[32], h[32];
        assert_int_equal(maif_blake3_force_impl(1), 0);
        maif_blake3(in + off, n, want);
        hash_split(in + off, n, seed, h);
        assert_memory_equal(h, want, 32);
        for (int which = 2; which <= 3; which++) {
            if (maif_blake3_force_impl(which) != 0) continue;
            maif_blake3(in + off, n, h);
            if (memcmp(h, want, 32) != 0) fail_msg("%s differs from portable at %zu bytes", impl_names[which], n);
            hash_split(in + off, n, seed, h);
            if (memcmp(h, want, 32) != 0)
                fail_msg("%s split differs from portable at %zu bytes", impl_names[which], n);
        }
    }
    assert_int_equal(maif_blake3_force_impl(0), 0);
    free(in);
}

/* Every length up to a little past two chunks (every class the single
 * compression sees: 0, 1..63, 64, 65..1023, 1024 and the partial last
 * chunk after whole ones), and a few past 3 and 4 chunks: each
 * implementation gives the portable one's hash, one shot (aligned and
 * not) and split at random. */
static void test_every_length_impls_agree(void **state)
{
    (void)state;
    const size_t lens_max = 2 * 1024 + 80;
    const size_t extra[] = {3071, 3072, 3073, 4095, 4096, 4097, 5119};
    const size_t max = 5119 + 8;
    uint8_t *in = malloc(max);
    assert_non_null(in);
    uint64_t s = 0x2545f4914f6cdd1dull;
    for (size_t i = 0; i < max; i++) in[i] = (uint8_t)(rng(&s) >> 32);
    size_t nlen = lens_max + 1 + sizeof extra / sizeof extra[0];
    for (size_t li = 0; li < nlen; li++) {
        size_t n = li <= lens_max ? li : extra[li - lens_max - 1];
        size_t off = n % 5; /* unaligned inputs too */
        uint8_t want[32], h[32];
        assert_int_equal(maif_blake3_force_impl(1), 0);
        maif_blake3(in + off, n, want);
        for (int which = 2; which <= 3; which++) {
            if (maif_blake3_force_impl(which) != 0) continue;
            maif_blake3(in + off, n, h);
            if (memcmp(h, want, 32) != 0) fail_msg("%s differs from portable at %zu bytes", impl_names[which], n);
            hash_split(in + off, n, n * 31 + (size_t)which, h);
            if (memcmp(h, want, 32) != 0)
                fail_msg("%s split differs from portable at %zu bytes", impl_names[which], n);
        }
    }
    assert_int_equal(maif_blake3_force_impl(0), 0);
    free(in);
}

#ifdef MAIF_B3_X86
/* The one-block compression (SSE4.1 rows) and the run of blocks after
 * it, against the hash of the same input through the portable
 * implementation: a chunk of 16 blocks whose counter has a high word, via
 * maif_b3_compress_blocks_sse41 for blocks 0..14 and
 * maif_b3_compress_sse41 for the last, equals what the 4-wide kernel
 * computes for that chunk (the kernels are checked against the portable
 * path above). */
static void test_single_block_kernel(void **state)
{
    (void)state;
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("sse4.1")) skip();
    uint8_t *in = kat_input();
    const uint64_t counters[] = {0, 1, (1ull << 32) - 1, 1ull << 32, (1ull << 40) + 5};
    for (size_t k = 0; k < sizeof counters / sizeof counters[0]; k++) {
        const uint8_t *p = in + 3 + 1024 * k; /* unaligned */
        const uint8_t *four[4] = {p, p, p, p};
        uint8_t want[128], got[32];
        maif_b3_hash4_sse41(four, 16, counters[k], 0, 0, MAIF_B3_CHUNK_START, MAIF_B3_CHUNK_END, want);
        uint32_t cv[8];
        memcpy(cv, maif_b3_iv, 32);
        maif_b3_compress_blocks_sse41(cv, p, 15, counters[k], MAIF_B3_CHUNK_START);
        maif_b3_compress_sse41(cv, p + 15 * 64, counters[k], 64, MAIF_B3_CHUNK_END);
        for (int i = 0; i < 8; i++)
            for (int b = 0; b < 4; b++) got[4 * i + b] = (uint8_t)(cv[i] >> (8 * b));
        assert_memory_equal(got, want, 32);
        /* one block at a time gives the same */
        memcpy(cv, maif_b3_iv, 32);
        for (int b = 0; b < 16; b++)
            maif_b3_compress_sse41(cv, p + 64 * b, counters[k], 64,
                                   (b == 0 ? MAIF_B3_CHUNK_START : 0) | (b == 15 ? MAIF_B3_CHUNK_END : 0));
        for (int i = 0; i < 8; i++)
            for (int b = 0; b < 4; b++) got[4 * i + b] = (uint8_t)(cv[i] >> (8 * b));
        assert_memory_equal(got, want, 32);
    }
    free(in);
}
#else
static void test_single_block_kernel(void **state)
{
    (void)state;
    skip();
}
#endif

/* The chunk counter's high word in the kernels (reached only past 4 TiB of
 * input): 8 chunks whose counters cross 2^32 give the same CVs from the
 * AVX2 kernel as from two SSE4.1 passes, and differ from the CVs of the
 * counters truncated to 32 bits. */
static void test_kernel_counter_high_word(void **state)
{
    (void)state;
#ifdef MAIF_B3_X86
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("sse4.1")) skip();
    uint8_t *in = kat_input();
    const uint8_t *p[8];
    for (int k = 0; k < 8; k++) p[k] = in + 1024 * k;
    const uint64_t c = (1ull << 32) - 3;
    uint8_t a[256], b[256], t[256];
    maif_b3_hash8_avx2(p, 16, c, 1, 0, MAIF_B3_CHUNK_START, MAIF_B3_CHUNK_END, a);
    maif_b3_hash4_sse41(p, 16, c, 1, 0, MAIF_B3_CHUNK_START, MAIF_B3_CHUNK_END, b);
    maif_b3_hash4_sse41(p + 4, 16, c + 4, 1, 0, MAIF_B3_CHUNK_START, MAIF_B3_CHUNK_END, b + 128);
    assert_memory_equal(a, b, 256);
    /* the AVX2 4-input row-wise kernel too, on whole chunks and on
     * parents, counters incremented or not */
    maif_b3_hash4_rows_avx2(p, 16, c, 1, 0, MAIF_B3_CHUNK_START, MAIF_B3_CHUNK_END, t);
    assert_memory_equal(a, t, 128);
    maif_b3_hash4_rows_avx2(p + 4, 16, c + 4, 1, 0, MAIF_B3_CHUNK_START, MAIF_B3_CHUNK_END, t + 128);
    assert_memory_equal(a + 128, t + 128, 128);
    for (int inc = 0; inc <= 1; inc++) {
        const uint8_t *q[4] = {in + 5, in + 200, in + 4096 + 1, in + 77};
        maif_b3_hash4_sse41(q, 1, c, inc, MAIF_B3_PARENT, 0, 0, b);
        maif_b3_hash4_rows_avx2(q, 1, c, inc, MAIF_B3_PARENT, 0, 0, t);
        assert_memory_equal(b, t, 128);
        maif_b3_hash4_sse41(q, 3, c + 1, inc, 0, MAIF_B3_CHUNK_START, MAIF_B3_CHUNK_END, b);
        maif_b3_hash4_rows_avx2(q, 3, c + 1, inc, 0, MAIF_B3_CHUNK_START, MAIF_B3_CHUNK_END, t);
        assert_memory_equal(b, t, 128);
    }
    for (int k = 0; k < 8; k++) { /* chunk k alone, its counter cut to 32 bits */
        const uint8_t *one[4] = {p[k], p[k], p[k], p[k]};
        maif_b3_hash4_sse41(one, 16, (uint32_t)(c + (uint64_t)k), 0, 0, MAIF_B3_CHUNK_START, MAIF_B3_CHUNK_END, t);
        if (k < 3) assert_memory_equal(a + 32 * k, t, 32); /* below 2^32: the same counter */
        else assert_memory_not_equal(a + 32 * k, t, 32);
    }
    /* the same through the context (a complete type), for every
     * implementation, the portable one included: 20 chunks and 5 bytes
     * hashed as if 2^32 - 3 chunks came before them */
    uint8_t want[32], h[32];
    for (int which = 1; which <= 3; which++) {
        assert_int_equal(maif_blake3_force_impl(which), 0);
        maif_blake3_ctx ctx;
        maif_blake3_init(&ctx);
        ctx.chunk_counter = c;
        maif_blake3_update(&ctx, in, 20 * 1024 + 5);
        maif_blake3_final(&ctx, which == 1 ? want : h);
        if (which > 1) assert_memory_equal(h, want, 32);
    }
    assert_int_equal(maif_blake3_force_impl(0), 0);
    free(in);
#else
    skip();
#endif
}

static void test_impl_choice(void **state)
{
    (void)state;
    const char *best = maif_blake3_impl();
    assert_true(strcmp(best, "avx2") == 0 || strcmp(best, "sse41") == 0 || strcmp(best, "portable") == 0);
    assert_int_equal(maif_blake3_force_impl(1), 0);
    assert_string_equal(maif_blake3_impl(), "portable");
    assert_int_equal(maif_blake3_force_impl(4), -1);
    assert_int_equal(maif_blake3_force_impl(-1), -1);
    assert_string_equal(maif_blake3_impl(), "portable");
    assert_int_equal(maif_blake3_force_impl(0), 0);
    assert_string_equal(maif_blake3_impl(), best);
    /* the default is the widest implementation available */
    if (maif_blake3_force_impl(3) == 0) assert_string_equal(best, "avx2");
    else if (maif_blake3_force_impl(2) == 0) assert_string_equal(best, "sse41");
    else assert_string_equal(best, "portable");
    assert_int_equal(maif_blake3_force_impl(0), 0);
#if defined(__x86_64__)
    /* the kernels are built on x86-64: what the CPU has is what is used */
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2")) assert_string_equal(best, "avx2");
    else if (__builtin_cpu_supports("sse4.1")) assert_string_equal(best, "sse41");
#endif
}

/* Random files of odd sizes: b3sum (the reference) and maif_blake3 agree. */
static void test_against_b3sum(void **state)
{
    (void)state;
    if (system("command -v b3sum >/dev/null 2>&1") != 0) {
        print_message("b3sum not installed (scripts/install-deps.sh): skipped\n");
        skip();
    }
    char *dir = tu_tmpdir();
    char *path = tu_path(dir, "in.bin");
    const size_t sizes[] = {0, 1, 63, 64, 65, 1023, 1025, 8191, 65537, 262143, 1048575, 3 * 1048576 + 17,
                            (size_t)9 * 1048576 - 1};
    uint64_t s = 12345;
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        size_t n = sizes[k];
        uint8_t *buf = malloc(n + 1);
        assert_non_null(buf);
        tu_xorshift_fill(buf, n, rng(&s));
        assert_int_equal(tu_write(path, buf, n), 0);
        char cmd[512], line[128] = {0};
        snprintf(cmd, sizeof cmd, "b3sum --no-names '%s'", path);
        FILE *f = popen(cmd, "r");
        assert_non_null(f);
        assert_non_null(fgets(line, sizeof line, f));
        assert_int_equal(pclose(f), 0);
        line[64] = 0;
        uint8_t h[32];
        char hex[65];
        for (int which = 1; which <= 3; which++) {
            if (maif_blake3_force_impl(which) != 0) continue;
            maif_blake3(buf, n, h);
            to_hex(h, hex);
            if (strcmp(hex, line) != 0) fail_msg("%s, %zu random bytes: %s, b3sum %s", impl_names[which], n, hex, line);
        }
        maif_blake3_force_impl(0);
        free(buf);
    }
    unlink(path);
    free(path);
    tu_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_threads),       cmocka_unit_test(test_kat_all_impls),
        cmocka_unit_test(test_small_updates), cmocka_unit_test(test_final_is_pure),
        cmocka_unit_test(test_impls_agree),   cmocka_unit_test(test_impl_choice),
        cmocka_unit_test(test_kernel_counter_high_word), cmocka_unit_test(test_against_b3sum),
        cmocka_unit_test(test_every_length_impls_agree), cmocka_unit_test(test_single_block_kernel),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
