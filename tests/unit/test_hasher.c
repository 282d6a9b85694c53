/*
 * test_hasher.c — the background SHA-256 queue (src/util/hasher.c) that
 * the writer uses for small payloads: results equal one-shot SHA-256
 * whatever the mix of queue lengths, sizes and pauses (so the helper both
 * spins and sleeps); call jobs run once each before the wait returns; a
 * full queue refuses a push until a wait; stopping with jobs queued
 * finishes them.
 */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/crypto.h"
#include "crypto/hasher.h"

#define CAP 64

static uint64_t rng(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void nap_us(long us)
{
    struct timespec ts = {0, us * 1000};
    nanosleep(&ts, NULL);
}

static void test_results_match(void **state)
{
    (void)state;
    maif_hasher *h = maif_hasher_start(CAP);
    assert_non_null(h);
    uint8_t *data = malloc(1 << 20);
    assert_non_null(data);
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < (1u << 20); i++) data[i] = (uint8_t)rng(&seed);
    uint8_t out[CAP][32], want[32];
    size_t off[CAP], len[CAP];
    for (int round = 0; round < 400; round++) {
        size_t n = 1 + rng(&seed) % CAP;
        memset(out, 0, sizeof out);
        for (size_t k = 0; k < n; k++) {
            len[k] = rng(&seed) % (round % 10 == 0 ? 65536 : 2048);
            off[k] = rng(&seed) % ((1u << 20) - len[k] + 1);
            assert_int_equal(maif_hasher_push(h, data + off[k], len[k], out[k]), 0);
            if (round % 50 == 7) nap_us(200); /* let the helper go to sleep */
        }
        assert_int_equal(maif_hasher_pending(h), n);
        maif_hasher_wait(h);
        assert_int_equal(maif_hasher_pending(h), 0);
        for (size_t k = 0; k < n; k++) {
            maif_sha256(data + off[k], len[k], want);
            assert_memory_equal(out[k], want, 32);
        }
        if (round % 100 == 3) nap_us(2000);
    }
    maif_hasher_wait(h); /* nothing queued: returns at once */
    maif_hasher_stop(h);
    free(data);
}

static void bump(void *arg) { ++*(int *)arg; }

/* Call jobs mixed with hash jobs: each runs exactly once, before the wait
 * returns; they share the queue's capacity. */
static void test_call_jobs(void **state)
{
    (void)state;
    maif_hasher *h = maif_hasher_start(8);
    assert_non_null(h);
    static uint8_t buf[1000], out[4][32], want[32];
    maif_sha256(buf, sizeof buf, want);
    int calls[4] = {0};
    for (int round = 0; round < 200; round++) {
        for (int k = 0; k < 4; k++) {
            assert_int_equal(maif_hasher_push(h, buf, sizeof buf, out[k]), 0);
            assert_int_equal(maif_hasher_push_call(h, bump, &calls[k]), 0);
        }
        assert_int_equal(maif_hasher_push_call(h, bump, &calls[0]), -1); /* 8 queued: full */
        maif_hasher_wait(h);
        for (int k = 0; k < 4; k++) {
            assert_int_equal(calls[k], round + 1);
            assert_memory_equal(out[k], want, 32);
        }
        if (round % 50 == 0) nap_us(1000);
    }
    maif_hasher_stop(h);
}

static void test_full_queue_and_stop(void **state)
{
    (void)state;
    assert_null(maif_hasher_start(0));
    assert_null(maif_hasher_start(48)); /* not a power of two */
    maif_hasher *h = maif_hasher_start(8);
    assert_non_null(h);
    static uint8_t buf[4096], out[9][32];
    for (int k = 0; k < 8; k++) assert_int_equal(maif_hasher_push(h, buf, sizeof buf, out[k]), 0);
    assert_int_equal(maif_hasher_push(h, buf, sizeof buf, out[8]), -1);
    maif_hasher_wait(h);
    assert_int_equal(maif_hasher_push(h, buf, sizeof buf, out[8]), 0);
    uint8_t want[32];
    maif_sha256(buf, sizeof buf, want);
    /* stop with a job still queued: it is finished, then the thread joins */
    maif_hasher_stop(h);
    for (int k = 0; k < 9; k++) assert_memory_equal(out[k], want, 32);
    maif_hasher_stop(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_results_match),
        cmocka_unit_test(test_call_jobs),
        cmocka_unit_test(test_full_queue_and_stop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
