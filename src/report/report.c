/*
 * report.c — verification findings. Findings own their message text; codes
 * and section names are static strings.
 */
#include "report/report.h"
#include "util/alloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/common.h"

struct maif_report {
    maif_finding *f;   /* nf findings, capacity cap */
    size_t nf, cap;
    size_t errors;     /* findings with severity ERROR */
    int overflowed;    /* the "too-many" finding has been added */
    int unpinned_told; /* the "signer-not-pinned" info was added */
    int oom;           /* an allocation failed: findings may be missing or spurious */
    int format;
    uint64_t blocks;
    struct {
        uint8_t pk[MAIF_PUBKEY_BYTES];
        int pinned;
        int alg;
    } signers[16];
    size_t nsigners;
};

static const char oom_msg[] = "out of memory while recording findings";

maif_report *maif_report_new(void) { return maif_calloc(1, sizeof(maif_report)); }

void maif_report_free(maif_report *rep)
{
    if (!rep) return;
    for (size_t i = 0; i < rep->nf; i++)
        if (rep->f[i].message != oom_msg) maif_free((char *)rep->f[i].message);
    maif_free(rep->f);
    maif_free(rep);
}

static void push(maif_report *rep, maif_finding fd)
{
    if (rep->nf == rep->cap) {
        size_t cap = rep->cap ? rep->cap * 2 : 16;
        maif_finding *p = maif_realloc(rep->f, cap * sizeof *p);
        if (!p) {
            if (fd.message != oom_msg) maif_free((char *)fd.message);
            rep->errors++;
            rep->oom = 1;
            return;
        }
        rep->f = p;
        rep->cap = cap;
    }
    rep->f[rep->nf++] = fd;
    if (fd.severity == MAIF_SEV_ERROR) rep->errors++;
}

void maif_report_add(maif_report *rep, int severity, const char *code, const char *section, int64_t block,
                     int64_t offset, const char *fmt, ...)
{
    if (!rep) return;
    if (rep->nf >= MAIF_REPORT_MAX_FINDINGS) {
        if (severity == MAIF_SEV_ERROR) rep->errors++;
        if (!rep->overflowed) {
            rep->overflowed = 1;
            char *m = maif_strdup("too many findings; the rest are not listed");
            push(rep, (maif_finding){MAIF_SEV_ERROR, "too-many", "file", -1, -1, m ? m : oom_msg});
        }
        return;
    }
    char *msg = NULL;
    va_list ap;
    va_start(ap, fmt);
    msg = maif_vasprintf(fmt, ap);
    va_end(ap);
    if (!msg || strcmp(code, "memory") == 0 || strcmp(code, "no-memory") == 0) rep->oom = 1;
    push(rep, (maif_finding){severity, code, section, block, offset, msg ? msg : oom_msg});
}

void maif_report_set_format(maif_report *rep, int format) { rep->format = format; }
int maif_report_oom(const maif_report *rep) { return rep->oom; }
void maif_report_set_blocks(maif_report *rep, uint64_t n) { rep->blocks = n; }
size_t maif_report_errors(const maif_report *rep) { return rep->errors; }

int maif_report_signer_seen(maif_report *rep, const maif_verify_options *opt, const uint8_t pk[MAIF_PUBKEY_BYTES],
                            int alg, const char *section, int64_t offset)
{
    int pinned = 0;
    size_t ntrusted = opt && opt->trusted ? opt->trusted_count : 0;
    for (size_t i = 0; i < ntrusted; i++)
        if (memcmp(opt->trusted + (size_t)i * MAIF_PUBKEY_BYTES, pk, MAIF_PUBKEY_BYTES) == 0) pinned = 1;
    size_t i = 0;
    for (; i < rep->nsigners; i++)
        if (memcmp(rep->signers[i].pk, pk, MAIF_PUBKEY_BYTES) == 0) break;
    int first = i == rep->nsigners;
    if (first && rep->nsigners < sizeof rep->signers / sizeof rep->signers[0]) {
        memcpy(rep->signers[i].pk, pk, MAIF_PUBKEY_BYTES);
        rep->signers[i].pinned = pinned;
        rep->signers[i].alg = alg;
        rep->nsigners++;
    }
    char hex[2 * MAIF_PUBKEY_BYTES + 1];
    if (ntrusted && !pinned) {
        if (first)
            maif_report_add(rep, MAIF_SEV_ERROR, "untrusted-signer", section, -1, offset,
                            "signed by %s key %s, which is not one of the trusted keys",
                            maif_sig_alg_name(alg), maif_hex(pk, MAIF_PUBKEY_BYTES, hex));
        return 0;
    }
    if (!ntrusted && !rep->unpinned_told) {
        rep->unpinned_told = 1;
        maif_report_add(rep, MAIF_SEV_INFO, "signer-not-pinned", section, -1, offset,
                        "signature checked against the %s key the file names (%s); the signer is not pinned "
                        "(use --pubkey to require a trusted key)",
                        maif_sig_alg_name(alg), maif_hex(pk, MAIF_PUBKEY_BYTES, hex));
    }
    return 1;
}

int maif_report_ok(const maif_report *rep) { return rep && rep->errors == 0; }
size_t maif_report_count(const maif_report *rep) { return rep ? rep->nf : 0; }
const maif_finding *maif_report_finding(const maif_report *rep, size_t i)
{
    return rep && i < rep->nf ? &rep->f[i] : NULL;
}
int maif_report_format(const maif_report *rep) { return rep ? rep->format : 0; }
uint64_t maif_report_blocks(const maif_report *rep) { return rep ? rep->blocks : 0; }
size_t maif_report_signer_count(const maif_report *rep) { return rep ? rep->nsigners : 0; }
int maif_report_signer_alg(const maif_report *rep, size_t i)
{
    return rep && i < rep->nsigners ? rep->signers[i].alg : 0;
}

int maif_report_signer(const maif_report *rep, size_t i, uint8_t pk[MAIF_PUBKEY_BYTES], int *pinned)
{
    if (!pk) return maif_set_last_err(MAIF_EINVAL, "maif_report_signer: pk is NULL");
    if (!rep || i >= rep->nsigners)
        return maif_set_last_err(MAIF_ENOTFOUND, "no signer %zu (the report names %zu)", i, rep ? rep->nsigners : 0);
    memcpy(pk, rep->signers[i].pk, MAIF_PUBKEY_BYTES);
    if (pinned) *pinned = rep->signers[i].pinned;
    return MAIF_OK;
}
