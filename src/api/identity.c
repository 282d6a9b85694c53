/*
 * identity.c — signer identities: certificate requests for maif keys,
 * certificate chains attached to an artifact, and their verification to a
 * root the caller trusts (docs/IDENTITIES.md).
 *
 * A chain is a block of type X5CH whose payload is the chain (PEM, or DER
 * certificates back to back), leaf first. It belongs to the signer of the
 * commit that seals it: only that signer could have put it there, so the
 * binding needs no extra signature. Verification walks the commits from the
 * last one back through their links (O(commits), no block is decoded but
 * the chains), and checks each commit's signer against the chains that
 * signer attached, at the commit's own timestamp.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "api/identity.h"
#include "crypto/crypto.h"
#include "crypto/x509.h"
#include "format/native/native.h"
#include "format/native/native_writer.h"
#include "report/report.h"
#include "util/alloc.h"
#include "util/common.h"

#define CHAIN_BLOCKS_MAX 256 /* chain blocks one verification looks at */

int maif_key_csr(const maif_key *key, const char *subject, char *out, size_t cap, size_t *len)
{
    if (!key || !subject || !out || !len) return maif_set_last_err(MAIF_EINVAL, "maif_key_csr: NULL argument");
    return mx_csr(key, subject, out, cap, len);
}

int maif_writer_add_chain(maif_writer *w, const void *chain, size_t len, uint8_t id_out[MAIF_ID_BYTES])
{
    if (!w || !chain) return maif_set_last_err(MAIF_EINVAL, "maif_writer_add_chain: NULL argument");
    if (!w->key) return maif_set_last_err(MAIF_ESTATE, "%s: opened without a key; cannot attach a chain", w->path);
    mx_chain *c = NULL;
    int rc = mx_chain_parse(chain, len, &c);
    if (rc) return rc;
    size_t pk_len = 0;
    const uint8_t *pk = maif_key_spki(w->key, &pk_len);
    char subj[512];
    if (!mx_chain_leaf_matches(c, maif_key_alg(w->key), pk, pk_len)) {
        rc = maif_set_last_err(MAIF_EKEY, "the chain's leaf certificate (%s) is not for the signing key",
                               mx_chain_leaf_subject(c, subj, sizeof subj));
        mx_chain_free(c);
        return rc;
    }
    mx_chain_free(c);
    maif_block_spec spec = {.type = MAIF_TYPE_CHAIN, .payload = chain, .payload_size = len};
    return maif_writer_add(w, &spec, id_out);
}


typedef struct ichain {
    uint64_t block;
    size_t owner; /* index of the sealing commit */
    mx_chain *c;
    int matches;  /* the leaf is the owner's key */
} ichain;

static int cmp_seq(const void *a, const void *b)
{
    const icommit *x = a, *y = b;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int id_load_commits(const uint8_t *base, uint64_t size, icommit **out, size_t *n, char *err, size_t errcap)
{
    nat_view v;
    int rc = nat_view_open(&v, base, size, err, errcap);
    if (rc) return rc;
    uint64_t count = v.commits;
    nat_view_free(&v);
    if (count == 0 || count > size / NAT_REC_HEADER)
        return maif_set_err(err, errcap, MAIF_EFORMAT, "commit count %llu is implausible", (unsigned long long)count);
    icommit *cs = maif_calloc((size_t)count, sizeof *cs);
    if (!cs) return maif_set_err(err, errcap, MAIF_ENOMEM, "out of memory for %llu commits", (unsigned long long)count);
    nat_view v2;
    rc = nat_view_open(&v2, base, size, err, errcap);
    uint64_t off = rc ? 0 : v2.last.off, k = 0;
    if (!rc) nat_view_free(&v2);
    while (!rc && k < count) {
        nat_rec r;
        nat_commit c;
        int torn;
        rc = nat_rec_parse(base, size, off, &r, &torn, err, errcap);
        if (!rc) rc = nat_commit_parse(base, &r, &c, err, errcap);
        if (rc) break;
        icommit *ic = &cs[k++];
        ic->seq = c.seq;
        ic->blocks = c.blocks;
        ic->ts = c.timestamp;
        memcpy(ic->signer, c.signer, 32);
        ic->alg = c.alg;
        ic->pk = c.pk;
        ic->pk_len = c.pk_len;
        uint8_t msg[48];
        memcpy(msg, NAT_SIG_DOMAIN, 16);
        memcpy(msg + 16, r.hdr + NR_RECORD_HASH, 32);
        maif_sha256(msg, sizeof msg, ic->imprint);
        if (c.seq == 0) break;
        if (c.prev >= off) {
            rc = maif_set_err(err, errcap, MAIF_EFORMAT, "commit %llu: its back link does not point back",
                              (unsigned long long)c.seq);
            break;
        }
        off = c.prev;
    }
    if (rc) {
        maif_free(cs);
        return rc;
    }
    qsort(cs, (size_t)k, sizeof *cs, cmp_seq);
    for (size_t i = 0; i < k; i++) cs[i].first = i ? cs[i - 1].blocks : 0;
    *out = cs;
    *n = (size_t)k;
    return MAIF_OK;
}

static size_t sealing_commit(const icommit *cs, size_t n, uint64_t block)
{
    size_t lo = 0, hi = n; /* first commit with blocks > block */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cs[mid].blocks > block) hi = mid;
        else lo = mid + 1;
    }
    return lo;
}

/* A signer already reported, and for which problems (1 << (MX_* + 1)). */
typedef struct told {
    uint8_t signer[32];
    unsigned mask;
} told;

static const char *short_hex(const uint8_t *id, char buf[17])
{
    maif_hex(id, 8, buf);
    return buf;
}

int maif_verify_chains(const char *path, const void *roots, size_t roots_len, maif_report **out)
{
    return maif_verify_chains_crl(path, roots, roots_len, NULL, 0, out);
}

int maif_verify_chains_crl(const char *path, const void *roots, size_t roots_len, const void *crl_data,
                           size_t crl_len, maif_report **out)
{
    if (!out) return maif_set_last_err(MAIF_EINVAL, "maif_verify_chains: out is NULL");
    *out = NULL;
    if (!path || !roots) return maif_set_last_err(MAIF_EINVAL, "maif_verify_chains: NULL argument");
    maif_identity_trust t = {roots, roots_len, crl_data, crl_len, NULL, 0};
    return maif_verify_identities(path, &t, out);
}

int maif_verify_identities(const char *path, const maif_identity_trust *t, maif_report **out)
{
    if (!out) return maif_set_last_err(MAIF_EINVAL, "maif_verify_identities: out is NULL");
    *out = NULL;
    if (!path || !t || (!t->roots && !t->tsa_roots) || (t->crls && !t->roots))
        return maif_set_last_err(MAIF_EINVAL, "maif_verify_identities: a path, and roots or TSA roots (CRLs go "
                                              "with roots)");
    mx_store *store = NULL, *tsa = NULL;
    mx_crls *crls = NULL;
    int rc = t->roots ? mx_store_load(t->roots, t->roots_len, &store) : MAIF_OK;
    if (!rc && t->crls) rc = mx_crls_load(t->crls, t->crls_len, &crls);
    if (!rc && t->tsa_roots) {
        rc = mx_store_load(t->tsa_roots, t->tsa_roots_len, &tsa);
        if (rc == MAIF_EFORMAT || rc == MAIF_ELIMIT) {
            char why[300];
            snprintf(why, sizeof why, "%s", maif_last_errmsg());
            rc = maif_set_last_err(rc, "TSA %s", why);
        }
    }
    if (rc) {
        mx_store_free(store);
        mx_store_free(tsa);
        mx_crls_free(crls);
        return rc;
    }
    maif_reader *r = NULL;
    rc = maif_reader_open(&r, path);
    if (rc) {
        mx_store_free(store);
        mx_store_free(tsa);
        mx_crls_free(crls);
        return rc;
    }
    if (maif_reader_format(r) != MAIF_FORMAT_NATIVE) {
        maif_reader_close(r);
        mx_store_free(store);
        mx_store_free(tsa);
        mx_crls_free(crls);
        return maif_set_last_err(MAIF_EUNSUPPORTED, "%s: certificate chains and timestamps are a native-format "
                                                    "feature", path);
    }
    maif_report *rep = maif_report_new();
    const uint8_t *base;
    size_t size;
    maif_reader_image(r, &base, &size);
    icommit *cs = NULL;
    size_t nc = 0;
    ichain *ch = NULL;
    size_t nch = 0;
    int64_t *existed_by = NULL;
    told *seen = NULL;
    char err[300];
    if (!rep) rc = maif_set_last_err(MAIF_ENOMEM, "out of memory");
    if (!rc && (rc = id_load_commits(base, size, &cs, &nc, err, sizeof err)) != MAIF_OK)
        maif_set_last_err(rc, "%s: %s", path, err);
    if (!rc && !(ch = maif_calloc(CHAIN_BLOCKS_MAX, sizeof *ch))) rc = maif_set_last_err(MAIF_ENOMEM, "out of memory");
    if (!rc && !(existed_by = maif_malloc(nc * sizeof *existed_by)))
        rc = maif_set_last_err(MAIF_ENOMEM, "out of memory");
    if (rc) goto out;
    maif_report_set_format(rep, MAIF_FORMAT_NATIVE);
    uint64_t nb = maif_reader_count(r);
    maif_report_set_blocks(rep, nb);
    for (size_t k = 0; k < nc; k++) existed_by[k] = INT64_MAX;
    if (tsa && (rc = id_timestamps(r, tsa, cs, nc, existed_by, rep)) != MAIF_OK) goto out;
    /* A commit that adds only time-stamp blocks vouches for nothing but
     * tokens, each signed by its TSA and checked above: its signer's
     * revocation does not fail it (else the commit that stores the last
     * token, made after it, would). */
    for (size_t k = 0; tsa && k < nc; k++) {
        int only = cs[k].blocks > cs[k].first;
        for (uint64_t i = cs[k].first; only && i < cs[k].blocks; i++) {
            maif_block b;
            only = maif_reader_block(r, i, &b) == MAIF_OK && b.type == MAIF_TYPE_TIMESTAMP;
        }
        if (only) existed_by[k] = INT64_MIN;
    }
    if (!store) goto out; /* timestamps only */
    for (size_t i = 0; i < mx_crls_count(crls); i++) { /* a CRL past its nextUpdate may miss revocations */
        char why[700];
        if (mx_crl_stale(crls, i, (int64_t)time(NULL), why, sizeof why))
            maif_report_add(rep, MAIF_SEV_WARNING, "identity-crl-stale", "crl", (int64_t)i, -1, "CRL %zu: %s", i + 1,
                            why);
    }

    /* the chain blocks, each parsed once and tied to its sealing commit */
    for (uint64_t i = 0; i < nb; i++) {
        maif_block b;
        if (maif_reader_block(r, i, &b) != MAIF_OK || b.type != MAIF_TYPE_CHAIN) continue;
        if (nch == CHAIN_BLOCKS_MAX) {
            maif_report_add(rep, MAIF_SEV_ERROR, "identity-chain", "block", (int64_t)i, (int64_t)b.offset,
                            "more than %d certificate chain blocks; the rest are not read", CHAIN_BLOCKS_MAX);
            break;
        }
        if (b.codec || b.cipher) {
            maif_report_add(rep, MAIF_SEV_ERROR, "identity-chain", "block", (int64_t)i, (int64_t)b.offset,
                            "chain block %llu is compressed or encrypted; chains are stored plain",
                            (unsigned long long)i);
            continue;
        }
        ichain *x = &ch[nch];
        x->block = i;
        x->owner = sealing_commit(cs, nc, i);
        if (x->owner >= nc) continue; /* not committed: cannot happen for a reader's blocks */
        int prc = mx_chain_parse(b.payload, b.payload_size, &x->c);
        if (prc == MAIF_ENOMEM) {
            rc = prc;
            goto out;
        }
        if (prc != MAIF_OK) {
            maif_report_add(rep, MAIF_SEV_ERROR, "identity-chain", "block", (int64_t)i, (int64_t)b.offset,
                            "chain block %llu: %s", (unsigned long long)i, maif_last_errmsg());
            continue;
        }
        const icommit *o = &cs[x->owner];
        x->matches = mx_chain_leaf_matches(x->c, o->alg, o->pk, o->pk_len);
        if (!x->matches) {
            char subj[512], hx[17];
            maif_report_add(rep, MAIF_SEV_ERROR, "identity-key-mismatch", "block", (int64_t)i, (int64_t)b.offset,
                            "chain block %llu: the leaf certificate (%s) is not for the key of commit %llu's signer "
                            "(%s %s...)",
                            (unsigned long long)i, mx_chain_leaf_subject(x->c, subj, sizeof subj),
                            (unsigned long long)o->seq, maif_sig_alg_name(o->alg), short_hex(o->signer, hx));
        }
        nch++;
    }

    /* every commit's signer, at the commit's time; one finding per signer and problem */
    seen = maif_calloc(nc, sizeof *seen);
    size_t nseen = 0;
    if (!seen) {
        rc = maif_set_last_err(MAIF_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t k = 0; k < nc; k++) {
        const icommit *c = &cs[k];
        size_t s = 0;
        while (s < nseen && memcmp(seen[s].signer, c->signer, 32) != 0) s++;
        if (s == nseen) memcpy(seen[nseen++].signer, c->signer, 32);
        int have = 0, best = -1, best_rank = 3;
        char detail[1200] = "", first_detail[1200] = "";
        for (size_t j = 0; j < nch && best != MX_OK; j++) {
            if (!ch[j].c || !ch[j].matches || memcmp(cs[ch[j].owner].signer, c->signer, 32) != 0) continue;
            have = 1;
            int v = mx_chain_verify(store, crls, ch[j].c, c->ts, existed_by[k], detail, sizeof detail);
            /* a valid chain wins, then one revoked only after the commit, then the first failure */
            int rank = v == MX_OK ? 0 : v == MX_REVOKED_LATER ? 1 : 2;
            if (rank < best_rank) {
                best = v;
                best_rank = rank;
                snprintf(first_detail, sizeof first_detail, "%s", detail);
            }
        }
        char hx[17];
        unsigned bit = !have ? 1u : 1u << (best + 1);
        if (have && best == MX_OK) continue;
        if (seen[s].mask & bit) continue;
        seen[s].mask |= bit;
        if (!have) {
            maif_report_add(rep, MAIF_SEV_ERROR, "identity-no-chain", "commit", -1, -1,
                            "commit %llu: its %s signer %s... attached no certificate chain for its key",
                            (unsigned long long)c->seq, maif_sig_alg_name(c->alg), short_hex(c->signer, hx));
            continue;
        }
        static const char *const codes[] = {"",
                                            "identity-expired",
                                            "identity-not-yet-valid",
                                            "identity-key-usage",
                                            "identity-unknown-issuer",
                                            "identity-chain-too-long",
                                            "identity-invalid",
                                            "identity-revoked",
                                            "identity-crl-missing",
                                            "identity-revoked-later"};
        maif_report_add(rep, best == MX_REVOKED_LATER ? MAIF_SEV_WARNING : MAIF_SEV_ERROR, codes[best], "commit", -1,
                        -1, "commit %llu (signer %s...): %s", (unsigned long long)c->seq, short_hex(c->signer, hx),
                        first_detail);
    }
    if (maif_report_oom(rep)) rc = maif_set_last_err(MAIF_ENOMEM, "out of memory while recording findings");
out:
    for (size_t j = 0; ch && j < nch; j++) mx_chain_free(ch[j].c);
    maif_free(seen);
    maif_free(existed_by);
    maif_free(ch);
    maif_free(cs);
    maif_reader_close(r);
    mx_store_free(store);
    mx_store_free(tsa);
    mx_crls_free(crls);
    if (rc) {
        maif_report_free(rep);
        return rc;
    }
    *out = rep;
    return MAIF_OK;
}
