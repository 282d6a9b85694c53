/*
 * hashed.c — the built-in embedder: no model, nothing to download.
 *
 * A text is split into words (runs of ASCII letters and digits, lower-cased,
 * and bytes >= 0x80, so UTF-8 words stay whole). Its features are every
 * word, every pair of neighbouring words, and every character trigram of
 * each word padded with boundary marks ("^ca", "cat", "at$"), which gives
 * some robustness to inflection and typos. Each feature is hashed once to
 * 64 bits: 16 bits pick its IDF bucket, 8 bits its dimension, one bit its
 * sign (the signed "hashing trick", so collisions cancel on average). The
 * vector is the sum of class weight x IDF, L2-normalised.
 *
 * IDF is learned from the artifact's own texts (sem_hashed_learn) and
 * stored in an HIDF block, so the weights that embedded the blocks embed
 * the queries too. One pass, one hash per feature, no allocation: the
 * speed is bound by the byte loop (bench_index measures MB/s).
 */
#include <math.h>
#include <string.h>

#include "semantic/embed.h"
#include "semantic/vec.h"
#include "util/alloc.h"
#include "util/common.h"

#define W_WORD   1.0f
#define W_BIGRAM 0.8f
#define W_TRI    0.4f

static inline uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

/* 1 for bytes that belong to words; lower-cases ASCII into *c. */
static inline int word_byte(uint8_t *c)
{
    uint8_t b = *c;
    if (b >= 'A' && b <= 'Z') {
        *c = (uint8_t)(b + 32);
        return 1;
    }
    return (b >= 'a' && b <= 'z') || (b >= '0' && b <= '9') || b >= 0x80;
}

typedef struct feat_sink {
    const float *idf; /* embed: weights (NULL uniform) */
    float *out;       /* embed: the vector */
    uint32_t *stamp;  /* learn: last document that counted a bucket */
    uint32_t *df;     /* learn: document frequencies */
    uint32_t doc;     /* learn: this document's stamp */
} feat_sink;

/* h must be well mixed already (mix64, or tri_hash for trigrams). */
static inline void emit(feat_sink *s, uint64_t h, float w)
{
    uint32_t bucket = (uint32_t)(h & (SEM_HASHED_BUCKETS - 1));
    if (s->out) {
        float v = w * (s->idf ? s->idf[bucket] : 1.0f);
        s->out[(h >> 16) & (SEM_HASHED_DIM - 1)] += (h >> 32) & 1 ? v : -v;
    } else if (s->stamp[bucket] != s->doc) {
        s->stamp[bucket] = s->doc;
        s->df[bucket]++;
    }
}

/* Trigrams are the most frequent feature (one a byte): one multiply and
 * a fold instead of the full mix; the 24-bit input leaves 40 bits of
 * product to spread. */
static inline uint64_t tri_hash(uint32_t tri)
{
    uint64_t x = ((uint64_t)tri | 0x3000000000ULL) * 0x9E3779B97F4A7C15ULL;
    return x ^ (x >> 29);
}

static inline void features(feat_sink *s, const char *text, size_t len)
{
    const uint8_t *p = (const uint8_t *)text;
    uint64_t prev = 0;
    size_t i = 0;
    while (i < len) {
        uint8_t c = p[i];
        if (!word_byte(&c)) {
            i++;
            continue;
        }
        /* a word: FNV-1a over its bytes, trigrams over ^word$ as we go */
        uint64_t h = 0xcbf29ce484222325ULL;
        uint32_t tri = '^';
        size_t wl = 0;
        while (i < len) {
            c = p[i];
            if (!word_byte(&c)) break;
            h = (h ^ c) * 0x100000001b3ULL;
            tri = ((tri << 8) | c) & 0xFFFFFF;
            if (++wl >= 2) emit(s, tri_hash(tri), W_TRI);
            i++;
        }
        tri = ((tri << 8) | '$') & 0xFFFFFF;
        emit(s, tri_hash(tri), W_TRI);
        emit(s, mix64(h ^ 0x01), W_WORD);
        if (prev) emit(s, mix64((prev * 0x9E3779B97F4A7C15ULL) ^ h ^ 0x02), W_BIGRAM);
        prev = h;
    }
}

void sem_hashed_embed(const float *idf, const char *text, size_t len, float *out)
{
    memset(out, 0, SEM_HASHED_DIM * sizeof *out);
    feat_sink s = {idf, out, NULL, NULL, 0};
    features(&s, text, len);
    sem_normalize(out, SEM_HASHED_DIM);
}

int sem_hashed_learn(maif_reader *r, float **idf_out, uint64_t *docs_out)
{
    *idf_out = NULL;
    uint32_t *stamp = maif_calloc(SEM_HASHED_BUCKETS, sizeof *stamp);
    uint32_t *df = maif_calloc(SEM_HASHED_BUCKETS, sizeof *df);
    float *idf = maif_malloc(SEM_HASHED_BUCKETS * sizeof *idf);
    if (!stamp || !df || !idf) {
        maif_free(stamp);
        maif_free(df);
        maif_free(idf);
        return maif_set_last_err(MAIF_ENOMEM, "learning IDF: out of memory");
    }
    uint64_t n = maif_reader_count(r), docs = 0;
    feat_sink s = {NULL, NULL, stamp, df, 0};
    for (uint64_t i = 0; i < n; i++) {
        maif_block b;
        if (maif_reader_block(r, i, &b) != MAIF_OK || b.type != MAIF_TYPE_TEXT) continue;
        const char *t;
        size_t tl;
        char *owned = NULL;
        if (sem_block_text(r, i, &t, &tl, &owned) != MAIF_OK) continue; /* encrypted: not ours to read */
        s.doc = (uint32_t)(docs + 1) ? (uint32_t)(docs + 1) : 1;
        features(&s, t, tl);
        maif_free(owned);
        docs++;
    }
    /* smoothed IDF, as scikit-learn's: ln((1 + N) / (1 + df)) + 1 */
    for (uint32_t b = 0; b < SEM_HASHED_BUCKETS; b++)
        idf[b] = (float)(log((1.0 + (double)docs) / (1.0 + df[b])) + 1.0);
    maif_free(stamp);
    maif_free(df);
    *idf_out = idf;
    *docs_out = docs;
    return MAIF_OK;
}
