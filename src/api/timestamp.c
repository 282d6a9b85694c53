/*
 * timestamp.c — trusted timestamps for commits (RFC 3161; docs/IDENTITIES.md,
 * FORMAT.md block type TSTK).
 *
 * A commit's timestamp is its signer's own claim. A time-stamp authority
 * (TSA) can vouch for when a commit existed: maif_timestamp_query makes the
 * request for the last commit's signed message, the TSA answers with a
 * signed token, and maif_writer_add_timestamp stores the token as a TSTK
 * block. A valid token over commit k proves that commit k, and through the
 * hash chain every byte before it, existed at the token's time, so the
 * identity checks can tell a commit made before a certificate's revocation
 * from one backdated after it (identity.c).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/identity.h"
#include "crypto/crypto.h"
#include "crypto/tsa.h"
#include "format/native/native_writer.h"
#include "report/report.h"
#include "util/alloc.h"
#include "util/common.h"

#define TS_BLOCKS_MAX 4096 /* time-stamp blocks one verification looks at */
#define TS_CLOCK_SLACK 300 /* seconds a commit's claimed time may run ahead of its TSA's */

/* The commits of the native artifact at path (the reader stays open: cs
 * points into its image). */
static int commits_of(const char *path, maif_reader **r, icommit **cs, size_t *nc)
{
    int rc = maif_reader_open(r, path);
    if (rc) return rc;
    if (maif_reader_format(*r) != MAIF_FORMAT_NATIVE) {
        maif_reader_close(*r);
        *r = NULL;
        return maif_set_last_err(MAIF_EUNSUPPORTED, "%s: trusted timestamps are a native-format feature", path);
    }
    const uint8_t *base;
    size_t size;
    maif_reader_image(*r, &base, &size);
    char err[300];
    rc = id_load_commits(base, size, cs, nc, err, sizeof err);
    if (rc) {
        maif_reader_close(*r);
        *r = NULL;
        return maif_set_last_err(rc, "%s: %s", path, err);
    }
    return MAIF_OK;
}

int maif_timestamp_query(const char *path, uint8_t *out, size_t cap, size_t *len)
{
    if (!path || !len || (!out && cap)) return maif_set_last_err(MAIF_EINVAL, "maif_timestamp_query: NULL argument");
    *len = 0;
    maif_reader *r = NULL;
    icommit *cs = NULL;
    size_t nc = 0;
    int rc = commits_of(path, &r, &cs, &nc);
    if (rc) return rc;
    uint8_t *der = NULL;
    size_t n = 0;
    rc = mx_ts_query(cs[nc - 1].imprint, &der, &n);
    maif_free(cs);
    maif_reader_close(r);
    if (rc) return rc;
    *len = n;
    if (n > cap) rc = maif_set_last_err(MAIF_ELIMIT, "the request takes %zu bytes; %zu given", n, cap);
    else memcpy(out, der, n);
    maif_free(der);
    return rc;
}

int maif_writer_add_timestamp(maif_writer *w, const void *resp, size_t len, uint64_t *commit_seq,
                              uint8_t id_out[MAIF_ID_BYTES])
{
    if (!w || !resp) return maif_set_last_err(MAIF_EINVAL, "maif_writer_add_timestamp: NULL argument");
    uint8_t *tok = NULL, imprint[32];
    size_t tl = 0;
    int64_t when = 0;
    int rc = mx_ts_token(resp, len, &tok, &tl);
    if (!rc) rc = mx_ts_info(tok, tl, imprint, &when);
    maif_reader *r = NULL;
    icommit *cs = NULL;
    size_t nc = 0;
    if (!rc) rc = commits_of(w->path, &r, &cs, &nc);
    size_t k = nc;
    for (size_t i = 0; !rc && i < nc && k == nc; i++)
        if (memcmp(cs[i].imprint, imprint, 32) == 0) k = i;
    if (!rc && k == nc)
        rc = maif_set_last_err(MAIF_EINVAL, "the time-stamp token is for none of %s's commits (it stamps another "
                                            "digest)", w->path);
    if (!rc && commit_seq) *commit_seq = cs[k].seq;
    maif_free(cs);
    maif_reader_close(r);
    if (!rc) {
        maif_block_spec spec = {.type = MAIF_TYPE_TIMESTAMP, .payload = tok, .payload_size = tl};
        rc = maif_writer_add(w, &spec, id_out);
    }
    maif_free(tok);
    return rc;
}

/* The commits' imprints, sorted, for the lookup of each token. */
typedef struct ient {
    uint8_t imprint[32];
    size_t k;
} ient;

static int cmp_ient(const void *a, const void *b) { return memcmp(a, b, 32); }

static size_t find_commit(const ient *e, size_t nc, const uint8_t imprint[32])
{
    size_t lo = 0, hi = nc;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = memcmp(e[mid].imprint, imprint, 32);
        if (c == 0) return e[mid].k;
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return nc;
}

int id_timestamps(maif_reader *r, const mx_store *tsa, const icommit *cs, size_t nc, int64_t *existed_by,
                  maif_report *rep)
{
    for (size_t k = 0; k < nc; k++) existed_by[k] = INT64_MAX;
    ient *order = maif_malloc((nc ? nc : 1) * sizeof *order);
    if (!order) return maif_set_last_err(MAIF_ENOMEM, "out of memory");
    for (size_t k = 0; k < nc; k++) {
        memcpy(order[k].imprint, cs[k].imprint, 32);
        order[k].k = k;
    }
    qsort(order, nc, sizeof *order, cmp_ient);
    uint64_t nb = maif_reader_count(r), seen = 0;
    for (uint64_t i = 0; i < nb; i++) {
        maif_block b;
        if (maif_reader_block(r, i, &b) != MAIF_OK || b.type != MAIF_TYPE_TIMESTAMP) continue;
        if (++seen > TS_BLOCKS_MAX) {
            maif_report_add(rep, MAIF_SEV_ERROR, "timestamp-invalid", "block", (int64_t)i, (int64_t)b.offset,
                            "more than %d time-stamp blocks; the rest are not read", TS_BLOCKS_MAX);
            break;
        }
        if (b.codec || b.cipher) {
            maif_report_add(rep, MAIF_SEV_ERROR, "timestamp-invalid", "block", (int64_t)i, (int64_t)b.offset,
                            "time-stamp block %llu is compressed or encrypted; tokens are stored plain",
                            (unsigned long long)i);
            continue;
        }
        char who[512], why[600], t1[32], t2[32];
        uint8_t imprint[32];
        int64_t when = 0;
        if (mx_ts_info(b.payload, b.payload_size, imprint, &when) != MAIF_OK) {
            maif_report_add(rep, MAIF_SEV_ERROR, "timestamp-invalid", "block", (int64_t)i, (int64_t)b.offset,
                            "time-stamp block %llu: %s", (unsigned long long)i, maif_last_errmsg());
            continue;
        }
        if (mx_ts_verify(tsa, b.payload, b.payload_size, who, sizeof who, why, sizeof why) != MX_OK) {
            maif_report_add(rep, MAIF_SEV_ERROR, "timestamp-invalid", "block", (int64_t)i, (int64_t)b.offset,
                            "time-stamp block %llu (TSA %s): %s", (unsigned long long)i, who, why);
            continue;
        }
        size_t k = find_commit(order, nc, imprint);
        if (k == nc) {
            maif_report_add(rep, MAIF_SEV_ERROR, "timestamp-no-commit", "block", (int64_t)i, (int64_t)b.offset,
                            "time-stamp block %llu stamps none of the artifact's commits", (unsigned long long)i);
            continue;
        }
        if (when < existed_by[k]) existed_by[k] = when;
        mx_fmt_unix(when, t1, sizeof t1);
        maif_report_add(rep, MAIF_SEV_INFO, "timestamp", "block", (int64_t)i, (int64_t)b.offset,
                        "time-stamp block %llu: commit %llu, and everything before it, existed by %s (TSA %s)",
                        (unsigned long long)i, (unsigned long long)cs[k].seq, t1, who);
        int64_t claimed = (int64_t)(cs[k].ts / 1000000u);
        if (claimed > when + TS_CLOCK_SLACK) {
            mx_fmt_unix(claimed, t2, sizeof t2);
            maif_report_add(rep, MAIF_SEV_WARNING, "timestamp-clock", "commit", -1, -1,
                            "commit %llu claims %s, after its TSA saw it (%s): the signer's clock ran ahead",
                            (unsigned long long)cs[k].seq, t2, t1);
        }
    }
    maif_free(order);
    /* a commit existed by the time any later commit did: the chain links it */
    for (size_t k = nc; k-- > 1;)
        if (existed_by[k] < existed_by[k - 1]) existed_by[k - 1] = existed_by[k];
    return maif_report_oom(rep) ? maif_set_last_err(MAIF_ENOMEM, "out of memory while recording findings") : MAIF_OK;
}
