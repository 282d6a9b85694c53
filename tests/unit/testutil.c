/*
 * testutil.c — see testutil.h.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "testutil.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

char *tu_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char *p = NULL;
    if (asprintf(&p, "%s/maif-test-XXXXXX", base && *base ? base : "/tmp") < 0) return NULL;
    if (!mkdtemp(p)) {
        free(p);
        return NULL;
    }
    return p;
}

void tu_rmtree(const char *dir)
{
    if (!dir) return;
    char *cmd = NULL;
    if (asprintf(&cmd, "rm -rf '%s'", dir) >= 0) {
        if (system(cmd) != 0) { /* best effort */
        }
        free(cmd);
    }
}

char *tu_path(const char *dir, const char *name)
{
    char *p = NULL;
    if (asprintf(&p, "%s/%s", dir, name) < 0) return NULL;
    return p;
}

uint8_t *tu_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    uint8_t *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n + 65536 + 1 > cap) {
            cap = (n + 65536 + 1) * 2;
            uint8_t *p = realloc(buf, cap);
            if (!p) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = p;
        }
        size_t got = fread(buf + n, 1, 65536, f);
        n += got;
        if (got == 0) break;
    }
    fclose(f);
    buf[n] = 0;
    if (len) *len = n;
    return buf;
}

int tu_write(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = fwrite(data, 1, len, f);
    return (fclose(f) == 0 && w == len) ? 0 : -1;
}

const char *tu_samples_dir(void)
{
    const char *d = getenv("MAIF_SAMPLES");
    return d && *d ? d : "tests/data/v21";
}

/* ---- the native-format tests' fixture and helpers */

int tu_setup(void **state)
{
    tu_fixture *f = calloc(1, sizeof *f);
    if (!f) return -1;
    f->dir = tu_tmpdir();
    f->path = tu_path(f->dir, "a.maif");
    if (!f->dir || !f->path || maif_key_generate(&f->key) != MAIF_OK) return -1;
    *state = f;
    return 0;
}

int tu_teardown(void **state)
{
    tu_fixture *f = *state;
    maif_key_free(f->key);
    tu_rmtree(f->dir);
    free(f->dir);
    free(f->path);
    free(f);
    return 0;
}

/* Deterministic bytes for (seed): splitmix64 words. */
void tu_pattern(uint8_t *p, size_t n, uint64_t seed)
{
    uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
    for (size_t i = 0; i < n; i += 8) {
        uint64_t z = (x += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        z ^= z >> 31;
        size_t k = n - i < 8 ? n - i : 8;
        memcpy(p + i, &z, k);
    }
}

void tu_xorshift_fill(uint8_t *p, size_t n, uint64_t seed)
{
    uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        p[i] = (uint8_t)x;
    }
}

uint8_t *tu_pattern_new(size_t n, uint64_t seed)
{
    uint8_t *p = malloc(n + 1);
    assert_non_null(p);
    tu_pattern(p, n, seed);
    return p;
}

int tu_check_pattern(const uint8_t *p, size_t n, uint64_t seed)
{
    uint8_t *e = malloc(n ? n : 1);
    assert_non_null(e);
    tu_pattern(e, n, seed);
    int ok = memcmp(e, p, n) == 0;
    free(e);
    return ok;
}

uint64_t tu_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t tu_file_size(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return (uint64_t)st.st_size;
}

int tu_has_code(const maif_report *r, const char *code, int severity)
{
    for (size_t i = 0; i < maif_report_count(r); i++) {
        const maif_finding *f = maif_report_finding(r, i);
        if (strcmp(f->code, code) == 0 && (severity < 0 || f->severity == severity)) return 1;
    }
    return 0;
}

void tu_dump_report(const maif_report *r)
{
    for (size_t i = 0; i < maif_report_count(r); i++) {
        const maif_finding *f = maif_report_finding(r, i);
        print_message("  [%d] %s %s block=%lld off=%lld %s\n", f->severity, f->code, f->section,
                      (long long)f->block, (long long)f->offset, f->message);
    }
}

/* Verifies the file and asserts it is ok with no warnings or errors. */
uint64_t tu_assert_verifies_clean(const char *path)
{
    maif_report *rep = NULL;
    assert_int_equal(maif_verify_file(path, NULL, &rep), MAIF_OK);
    for (size_t i = 0; i < maif_report_count(rep); i++)
        if (maif_report_finding(rep, i)->severity != MAIF_SEV_INFO) {
            tu_dump_report(rep);
            fail_msg("%s: unexpected finding", path);
        }
    assert_true(maif_report_ok(rep));
    uint64_t blocks = maif_report_blocks(rep);
    maif_report_free(rep);
    return blocks;
}

void tu_assert_verifies(const char *path)
{
    maif_report *rep = NULL;
    assert_int_equal(maif_verify_file(path, NULL, &rep), MAIF_OK);
    assert_true(maif_report_ok(rep));
    maif_report_free(rep);
}

void tu_add_simple(maif_writer *w, uint32_t type, const void *p, size_t n, const char *meta, uint8_t id[16])
{
    maif_block_spec s = {.type = type, .payload = p, .payload_size = n, .meta_json = meta,
                         .meta_size = meta ? strlen(meta) : 0};
    assert_int_equal(maif_writer_add(w, &s, id), MAIF_OK);
}

void tu_add_text(maif_writer *w, const char *t) { tu_add_simple(w, MAIF_TYPE_TEXT, t, strlen(t), NULL, NULL); }

uint8_t *tu_last_payload(const char *path, uint32_t type, size_t *size, uint64_t *block)
{
    maif_reader *r = NULL;
    assert_int_equal(maif_reader_open(&r, path), MAIF_OK);
    uint8_t *p = NULL;
    for (uint64_t i = maif_reader_count(r); i-- > 0 && !p;) {
        maif_block b;
        assert_int_equal(maif_reader_block(r, i, &b), MAIF_OK);
        if (b.type != type) continue;
        assert_int_equal(b.codec, 0);
        assert_int_equal(b.cipher, 0);
        p = malloc(b.payload_size ? b.payload_size : 1);
        assert_non_null(p);
        memcpy(p, b.payload, b.payload_size);
        *size = b.payload_size;
        *block = i;
    }
    maif_reader_close(r);
    assert_non_null(p);
    return p;
}

maif_writer *tu_create_one(const char *path, const maif_key *key, const char *text, const char *meta)
{
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, path, key, NULL, NULL), MAIF_OK);
    tu_add_simple(w, MAIF_TYPE_TEXT, text, strlen(text), meta, NULL);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    return w;
}

void tu_write_one(const char *path, const maif_key *key, const char *text, const char *meta)
{
    assert_int_equal(maif_writer_close(tu_create_one(path, key, text, meta)), MAIF_OK);
}
void tu_append_one(const char *path, const maif_key *key, uint32_t type, const void *p, size_t n)
{
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_open(&w, path, key, NULL), MAIF_OK);
    tu_add_simple(w, type, p, n, NULL, NULL);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
}

static cpu_set_t pinned_from; /* the CPU set before tu_cpu_pin_one */

int tu_cpu_pin_one(void)
{
    assert_int_equal(sched_getaffinity(0, sizeof pinned_from, &pinned_from), 0);
    int cpu = 0;
    while (!CPU_ISSET(cpu, &pinned_from)) cpu++;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    assert_int_equal(sched_setaffinity(0, sizeof one, &one), 0);
    return CPU_COUNT(&pinned_from);
}

void tu_cpu_unpin(void)
{
    assert_int_equal(sched_setaffinity(0, sizeof pinned_from, &pinned_from), 0);
}

const maif_options *tu_flag(int option)
{
    static maif_options *made[8]; /* by id; reachable until exit */
    if (option < 0 || option >= 8) return NULL;
    if (!made[option]) {
        maif_options *o = NULL;
        if (maif_options_create(&o) != MAIF_OK) return NULL;
        if (maif_options_set(o, option, 1) != MAIF_OK) {
            maif_options_free(o);
            return NULL;
        }
        made[option] = o;
    }
    return made[option];
}

maif_options *tu_verify_options(const void *keys, size_t nkeys, unsigned threads)
{
    maif_options *o = NULL;
    assert_int_equal(maif_options_create(&o), MAIF_OK);
    for (size_t i = 0; i < nkeys; i++)
        assert_int_equal(maif_options_add_trusted_key(o, (const uint8_t *)keys + i * MAIF_PUBKEY_BYTES), MAIF_OK);
    assert_int_equal(maif_options_set(o, MAIF_OPT_THREADS, threads), MAIF_OK);
    return o;
}

/* ---- Nth-failure allocator: counters are atomic, the writer's helper
 * threads allocate too */
static uint64_t ta_count, ta_nth;
static int ta_persist, ta_fired;

static int ta_fail_now(void)
{
    uint64_t n = __atomic_add_fetch(&ta_count, 1, __ATOMIC_SEQ_CST);
    uint64_t nth = __atomic_load_n(&ta_nth, __ATOMIC_SEQ_CST);
    if (nth && (n == nth || (ta_persist && n > nth))) {
        __atomic_store_n(&ta_fired, 1, __ATOMIC_SEQ_CST);
        return 1;
    }
    return 0;
}

static void *ta_malloc(void *user, size_t n)
{
    (void)user;
    return ta_fail_now() ? NULL : malloc(n);
}

static void *ta_realloc(void *user, void *p, size_t n)
{
    (void)user;
    return ta_fail_now() ? NULL : realloc(p, n);
}

static void ta_free(void *user, void *p)
{
    (void)user;
    free(p);
}

void tu_alloc_install(void)
{
    static const maif_allocator a = {ta_malloc, ta_realloc, ta_free, NULL};
    tu_alloc_fail(0, 0);
    (void)!maif_allocator_set(&a);
}

void tu_alloc_uninstall(void)
{
    tu_alloc_fail(0, 0);
    (void)!maif_allocator_set(NULL);
}

void tu_alloc_fail(uint64_t n, int persist)
{
    __atomic_store_n(&ta_nth, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&ta_count, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&ta_fired, 0, __ATOMIC_SEQ_CST);
    ta_persist = persist;
    __atomic_store_n(&ta_nth, n, __ATOMIC_SEQ_CST);
}

uint64_t tu_alloc_count(void) { return __atomic_load_n(&ta_count, __ATOMIC_SEQ_CST); }
int tu_alloc_fired(void) { return __atomic_load_n(&ta_fired, __ATOMIC_SEQ_CST); }

int tu_keysrc_lookup(const maif_keysrc *self, const uint8_t *id, size_t id_len, const uint8_t **key)
{
    (void)id, (void)id_len;
    *key = ((const tu_keysrc *)self)->key;
    return *key ? MAIF_OK : MAIF_EACCESS;
}

char *tu_record(int i, int nl, size_t *n)
{
    static const char *ev[] = {"login", "logout", "search", "upload", "delete"};
    char *s = malloc(400);
    assert_non_null(s);
    int k = snprintf(s, 400,
                     "{\"user\":\"user-%d\",\"event\":\"%s\",\"status\":\"ok\",\"ip\":\"10.%d.%d.%d\",\"agent\":"
                     "\"Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101\",\"note\":\"session %d of region eu-west-%d\"}%s",
                     i * 7919 % 1000, ev[i % 5], i % 11, i % 251, i % 13, i, i % 4, nl ? "\n" : "");
    *n = (size_t)k;
    return s;
}

uint8_t *tu_dict_train(size_t cap, int nl, size_t *len)
{
    enum { NREC = 600 };
    size_t total = 0, sizes[NREC];
    char *all = malloc(NREC * 400);
    assert_non_null(all);
    for (int i = 0; i < NREC; i++) {
        char *r = tu_record(i, nl, &sizes[i]);
        memcpy(all + total, r, sizes[i]);
        total += sizes[i];
        free(r);
    }
    uint8_t *d = malloc(cap);
    assert_non_null(d);
    assert_int_equal(maif_dict_train(d, cap, all, sizes, NREC, len), MAIF_OK);
    free(all);
    return d;
}

int64_t tu_mem_read(void *ctx, void *buf, size_t cap)
{
    tu_mem_src *s = ctx;
    if (s->fail_at && s->at >= s->fail_at) return MAIF_EIO;
    size_t k = s->n - s->at;
    if (k > cap) k = cap;
    if (s->step && k > s->step) k = s->step;
    memcpy(buf, s->p + s->at, k);
    s->at += k;
    return (int64_t)k;
}

maif_keyring *tu_keyring_self(const maif_key *key)
{
    maif_keyring *kr = NULL;
    assert_int_equal(maif_keyring_create(&kr), MAIF_OK);
    uint8_t pk[MAIF_PUBKEY_BYTES];
    maif_key_public(key, pk);
    assert_int_equal(maif_keyring_add_recipient(kr, pk), MAIF_OK);
    assert_int_equal(maif_keyring_add_identity(kr, key), MAIF_OK);
    return kr;
}
