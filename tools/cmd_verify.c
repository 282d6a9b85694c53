/*
 * cmd_verify.c — `maif verify FILE [--pubkey PUBFILE]... [--ca ROOTS.pem [--crl CRLS.pem]] [--tsa-ca TSA.pem]
 * [--deep] [--recompute] [--json]`.
 *
 * The library decides; this command only reports. One extra guard lives
 * here: when keys are pinned, a report that is "ok" but names a signer
 * outside the pinned set (or no signer at all) still fails, so a library
 * that forgot to flag an untrusted signer cannot make the CLI say OK.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const char *sev_name(int s)
{
    switch (s) {
    case MAIF_SEV_INFO: return "info";
    case MAIF_SEV_WARNING: return "warning";
    default: return "error";
    }
}

static void print_finding(const char *path, int sev, const char *section, int64_t block, int64_t offset,
                          const char *msg)
{
    cli_put_clean(stdout, path, strlen(path));
    section = section ? section : "file";
    printf(": %s: [", sev_name(sev));
    if (block >= 0 && strcmp(section, "block") == 0) printf("block %lld", (long long)block);
    else if (block >= 0) printf("%s, block %lld", section, (long long)block);
    else printf("%s", section);
    if (offset >= 0) printf(" @0x%llx", (unsigned long long)offset);
    printf("] ");
    if (msg) cli_put_clean(stdout, msg, strlen(msg));
    fputc('\n', stdout);
}

static json_t *finding_json(int sev, const char *code, const char *section, int64_t block, int64_t offset,
                            const char *msg)
{
    json_t *o = json_object();
    if (!o) return NULL;
    json_object_set_new(o, "severity", json_string(sev_name(sev)));
    json_object_set_new(o, "code", cli_json_string(code ? code : "", code ? strlen(code) : 0));
    json_object_set_new(o, "section", cli_json_string(section ? section : "file", strlen(section ? section : "file")));
    json_object_set_new(o, "block", block >= 0 ? json_integer((json_int_t)block) : json_null());
    json_object_set_new(o, "offset", offset >= 0 ? json_integer((json_int_t)offset) : json_null());
    json_object_set_new(o, "message", cli_json_string(msg ? msg : "", msg ? strlen(msg) : 0));
    return o;
}

/* --deep: findings of the decode pass (the library's report covers the
 * stored bytes; this pass undoes every block's codec and cipher). */
typedef struct deep_finding {
    int sev;
    int64_t block, offset;
    char msg[300];
} deep_finding;

typedef struct deep {
    deep_finding *f;
    size_t n, cap;
    size_t errors;
    unsigned long long decoded; /* blocks decoded */
} deep;

static void deep_add(deep *d, int sev, int64_t block, int64_t offset, const char *msg)
{
    if (sev >= MAIF_SEV_ERROR) d->errors++;
    if (d->n == d->cap) {
        size_t nc = d->cap ? d->cap * 2 : 16;
        deep_finding *p = realloc(d->f, nc * sizeof *p);
        if (!p) return; /* counted above; not listed */
        d->f = p;
        d->cap = nc;
    }
    deep_finding *f = &d->f[d->n++];
    f->sev = sev;
    f->block = block;
    f->offset = offset;
    snprintf(f->msg, sizeof f->msg, "%s", msg);
}

/* A maif_write_fn that keeps nothing: deep_decode counts the decoded
 * bytes (the stages' own checks, zstd's checksum and the ciphers' tags,
 * are what find damage; the count is checked against decoded_size). */
static int deep_count(void *ctx, const void *buf, size_t n)
{
    (void)buf;
    *(uint64_t *)ctx += n;
    return 0;
}

/* Decodes every data block of path; a block that does not is a "decode"
 * finding: an error, or a warning when this library or this process
 * cannot undo a stage (unknown codec, no key). Each block goes through
 * maif_reader_block_decode_to and its bytes are counted, not kept: a
 * plain, chunk-sealed, zstd or dictionary-zstd block is decoded in one
 * streaming pass in bounded memory, whatever its size; lz4 and
 * shuffle-zstd blocks are decoded whole inside the library (at most
 * 64 MiB, FORMAT.md §8), and those alone are held to the input limit. */
static void deep_decode(const char *path, deep *d)
{
    maif_reader *r = NULL;
    if (maif_reader_open(&r, path) != MAIF_OK) return; /* the report says why */
    uint64_t n = maif_reader_count(r), limit = cli_payload_limit();
    char msg[300];
    for (uint64_t i = 0; i < n; i++) {
        maif_block b;
        if (maif_reader_block(r, i, &b) != MAIF_OK) continue; /* reported by verify */
        size_t ds = 0;
        uint64_t got = 0;
        int rc = maif_reader_block_decoded_size(r, i, &ds);
        int whole = b.codec != 0 && b.codec != MAIF_CODEC_ZSTD && b.codec != MAIF_CODEC_ZSTD_DICT;
        if (rc == MAIF_OK && whole && ds > limit) {
            snprintf(msg, sizeof msg, "decoded size %zu is over the limit of %llu bytes (MAIF_INPUT_LIMIT)", ds,
                     (unsigned long long)limit);
            deep_add(d, MAIF_SEV_ERROR, (int64_t)i, (int64_t)b.offset, msg);
            continue;
        }
        if (rc == MAIF_OK) rc = maif_reader_block_decode_to(r, i, deep_count, &got);
        if (rc == MAIF_OK && got != ds) {
            snprintf(msg, sizeof msg, "decodes to %llu bytes, not the %zu its record says", (unsigned long long)got,
                     ds);
            deep_add(d, MAIF_SEV_ERROR, (int64_t)i, (int64_t)b.offset, msg);
            continue;
        }
        if (rc == MAIF_OK) {
            d->decoded++;
            continue;
        }
        const char *det = rc == MAIF_ENOMEM ? "out of memory" : maif_reader_errmsg(r);
        /* encrypted without a key here, or a stage this build lacks: the
         * stored bytes verified, so this is not damage */
        int warn = rc == MAIF_EUNSUPPORTED || rc == MAIF_EKEY || rc == MAIF_EACCESS;
        snprintf(msg, sizeof msg, "%s: %s", rc == MAIF_EACCESS ? "encrypted, not decoded without its key" : "does not decode",
                 det && *det ? det : maif_strerror(rc));
        deep_add(d, warn ? MAIF_SEV_WARNING : MAIF_SEV_ERROR, (int64_t)i, (int64_t)b.offset, msg);
    }
    maif_reader_close(r);
}

/* --recompute: every embedding that names its model and source is
 * computed again from the source's text with that model, here; one that
 * differs (cosine below 0.9999) is an error [recompute] (a poisoned or
 * stale vector); one whose model or source cannot be had here (not
 * installed, sealed) is a warning. */
#define RECOMPUTE_MODELS 8
static void recompute(const char *path, deep *d, unsigned long long *done)
{
    maif_reader *r = NULL;
    if (maif_reader_open(&r, path) != MAIF_OK) return;
    struct { char model[256]; maif_embedder *e; int failed; } cache[RECOMPUTE_MODELS];
    size_t nc = 0;
    float *v = NULL;
    size_t vcap = 0;
    char msg[300];
    uint64_t n = maif_reader_count(r);
    for (uint64_t i = 0; i < n; i++) {
        maif_block b;
        if (maif_reader_block(r, i, &b) != MAIF_OK || b.type != MAIF_TYPE_EMBEDDING || !b.meta) continue;
        json_t *m = json_loadb(b.meta, b.meta_size, 0, NULL);
        const char *model = json_string_value(json_object_get(m, "model")),
                   *src = json_string_value(json_object_get(m, "source_block"));
        uint8_t sid[MAIF_ID_BYTES];
        uint64_t si;
        if (!model || !src || strlen(model) >= sizeof cache[0].model || maif_unhex(src, sid, sizeof sid) ||
            maif_reader_find(r, sid, &si) != MAIF_OK) {
            json_decref(m);
            continue; /* not bound to a source this file holds: verify says what it must */
        }
        size_t k = 0;
        while (k < nc && strcmp(cache[k].model, model) != 0) k++;
        if (k == nc && nc < RECOMPUTE_MODELS) {
            snprintf(cache[nc].model, sizeof cache[nc].model, "%s", model);
            cache[nc].e = NULL;
            /* "hashed" alone means uniform weights: not the artifact's latest IDF table */
            cache[nc].failed = maif_embedder_open(&cache[nc].e, model, strcmp(model, "hashed") ? r : NULL) != MAIF_OK;
            nc++;
        }
        maif_embedder *e = k < nc && !cache[k].failed ? cache[k].e : NULL;
        if (!e) {
            snprintf(msg, sizeof msg, "not recomputed: model %.100s is not available here", model);
            deep_add(d, MAIF_SEV_WARNING, (int64_t)i, (int64_t)b.offset, msg);
            json_decref(m);
            continue;
        }
        size_t tn = 0, got = 0, vn = 0;
        char *text = NULL;
        int rc = maif_reader_block_decoded_size(r, si, &tn);
        if (rc == MAIF_OK && tn > (16u << 20)) rc = MAIF_ELIMIT;
        if (rc == MAIF_OK && !(text = malloc(tn ? tn : 1))) rc = MAIF_ENOMEM;
        if (rc == MAIF_OK) rc = maif_reader_block_decode(r, si, text, tn, &got);
        size_t dim = maif_embedder_dim(e);
        if (rc == MAIF_OK && dim > vcap) {
            float *nv = realloc(v, 2 * dim * sizeof *nv);
            if (!nv) rc = MAIF_ENOMEM;
            else v = nv, vcap = dim;
        }
        if (rc == MAIF_OK) rc = maif_embedder_embed(e, text, got, v);
        if (rc == MAIF_OK) rc = maif_reader_block_decoded_size(r, i, &vn);
        if (rc == MAIF_OK && vn != dim * sizeof(float)) {
            snprintf(msg, sizeof msg, "does not match its source block %llu: %zu values where model %.100s gives %zu",
                     (unsigned long long)si, vn / sizeof(float), model, dim);
            deep_add(d, MAIF_SEV_ERROR, (int64_t)i, (int64_t)b.offset, msg);
        } else if (rc == MAIF_OK && (rc = maif_reader_block_decode(r, i, v + dim, dim * sizeof(float), &got)) == MAIF_OK) {
            double dot = 0, na = 0, nb = 0;
            for (size_t j = 0; j < dim; j++) {
                dot += (double)v[j] * v[dim + j];
                na += (double)v[j] * v[j];
                nb += (double)v[dim + j] * v[dim + j];
            }
            double cosv = na > 0 && nb > 0 ? dot / sqrt(na * nb) : (na == nb ? 1 : 0);
            (*done)++;
            if (cosv < 0.9999) {
                snprintf(msg, sizeof msg,
                         "does not match its source block %llu under model %.100s: cosine %.4f (a poisoned or stale vector)",
                         (unsigned long long)si, model, cosv);
                deep_add(d, MAIF_SEV_ERROR, (int64_t)i, (int64_t)b.offset, msg);
            }
        }
        if (rc != MAIF_OK && rc != MAIF_EFORMAT) {
            snprintf(msg, sizeof msg, "not recomputed: %s", rc == MAIF_EACCESS ? "its source is sealed" : maif_strerror(rc));
            deep_add(d, MAIF_SEV_WARNING, (int64_t)i, (int64_t)b.offset, msg);
        }
        free(text);
        json_decref(m);
    }
    for (size_t k = 0; k < nc; k++) maif_embedder_close(cache[k].e);
    free(v);
    maif_reader_close(r);
}

/* Reads a --ca, --crl or --tsa-ca file (at most 1 MiB). Prints the error;
 * 0 or an exit code. */
static int read_ca(const char *path, uint8_t **out, size_t *n)
{
    return cli_read_file(path, 1u << 20, "over 1 MiB; not a certificate or CRL file", out, n);
}

static int run(int argc, char **argv)
{
    int as_json = 0, deep_on = 0, recompute_on = 0;
    const char *pubs[CLI_PUBKEY_MAX];
    size_t npub = 0;
    const char *ca_path = NULL, *crl_path = NULL, *tsa_path = NULL;
    const cli_opt opts[] = {
        {"--json", CLI_FLAG, &as_json, NULL, NULL, 0, NULL},
        {"--ca", CLI_VALUE, NULL, &ca_path, NULL, 0, NULL},
        {"--crl", CLI_VALUE, NULL, &crl_path, NULL, 0, NULL},
        {"--tsa-ca", CLI_VALUE, NULL, &tsa_path, NULL, 0, NULL},
        {"--deep", CLI_FLAG, &deep_on, NULL, NULL, 0, NULL},
        {"--recompute", CLI_FLAG, &recompute_on, NULL, NULL, 0, NULL},
        {"--pubkey", CLI_MULTI, NULL, NULL, pubs, CLI_PUBKEY_MAX, &npub},
        {0},
    };
    const char *pos[1];
    int np;
    int pr = cli_parse(&cli_cmd_verify, argc, argv, opts, pos, 1, 1, &np);
    if (pr == CLI_PARSE_HELP) return cli_help(&cli_cmd_verify);
    if (pr != CLI_PARSE_OK) return CLI_EXIT_USAGE;
    const char *path = pos[0];

    int ex = cli_check_file(path);
    if (ex) return ex;
    if (crl_path && !ca_path) return cli_usage_err(&cli_cmd_verify, "--crl checks the chains --ca verifies: give --ca");
    uint8_t *ca = NULL, *crl = NULL, *tsa = NULL;
    size_t ca_len = 0, crl_len = 0, tsa_len = 0;
    if (ca_path && (ex = read_ca(ca_path, &ca, &ca_len))) return ex;
    if ((crl_path && (ex = read_ca(crl_path, &crl, &crl_len))) ||
        (tsa_path && (ex = read_ca(tsa_path, &tsa, &tsa_len)))) {
        free(ca);
        free(crl);
        return ex;
    }
    maif_options *opt = NULL;
    if (maif_options_create(&opt) != MAIF_OK) {
        cli_err(path, "out of memory");
        return CLI_EXIT_USAGE;
    }
    ex = cli_pin_pubkeys(opt, pubs, npub);
    if (ex) {
        maif_options_free(opt);
        return ex;
    }
    maif_report *rep = NULL;
    int rc = maif_verify_file(path, opt, &rep);
    maif_options_free(opt);
    if (rc != MAIF_OK) {
        free(ca);
        free(crl);
        free(tsa);
        if (rc == MAIF_ENOTFOUND) {
            cli_err(path, "no such file");
            return CLI_EXIT_USAGE;
        }
        return cli_fail(path, rc, maif_last_errmsg());
    }
    /* --ca / --tsa-ca: the identities and timestamps, a second report whose findings follow the first's */
    maif_report *idrep = NULL;
    if (ca || tsa) {
        if (maif_report_ok(rep)) {
            maif_identity_trust trust = {ca, ca_len, crl, crl_len, tsa, tsa_len};
            rc = maif_verify_identities(path, &trust, &idrep);
            if (rc != MAIF_OK) {
                free(ca);
                free(crl);
                free(tsa);
                maif_report_free(rep);
                if (rc == MAIF_EFORMAT || rc == MAIF_ELIMIT) {
                    const char *m = maif_last_errmsg();
                    cli_err(strncmp(m, "CRLs:", 5) == 0 ? crl_path : strncmp(m, "TSA ", 4) == 0 ? tsa_path : ca_path,
                            "%s", m);
                    return CLI_EXIT_USAGE;
                }
                return cli_fail(path, rc, maif_last_errmsg());
            }
        }
        free(ca);
        free(crl);
        free(tsa);
    }

    /* The guard described at the top of the file. */
    const char *extra = NULL;
    size_t nsig = maif_report_signer_count(rep);
    if (npub && maif_report_ok(rep)) {
        if (nsig == 0) extra = "no signer found, but --pubkey requires one of the given keys";
        for (size_t i = 0; i < nsig && !extra; i++) {
            uint8_t pk[MAIF_PUBKEY_BYTES];
            int pinned = 0;
            if (maif_report_signer(rep, i, pk, &pinned) == MAIF_OK && !pinned)
                extra = "signer is not one of the keys given with --pubkey";
        }
    }
    size_t nf0 = maif_report_count(rep), nf = nf0 + maif_report_count(idrep), errors = 0;
#define FINDING(i) ((i) < nf0 ? maif_report_finding(rep, (i)) : maif_report_finding(idrep, (i) - nf0))
    for (size_t i = 0; i < nf; i++) {
        const maif_finding *f = FINDING(i);
        if (f && f->severity >= MAIF_SEV_ERROR) errors++;
    }
    if (extra) errors++;
    deep dp = {0}, rp = {0};
    unsigned long long recomputed = 0;
    if (deep_on) deep_decode(path, &dp);
    if (recompute_on) recompute(path, &rp, &recomputed);
    errors += rp.errors;
    errors += dp.errors;
    int ok = maif_report_ok(rep) && !extra && dp.errors == 0 && rp.errors == 0 &&
             (!(ca_path || tsa_path) || maif_report_ok(idrep));
    const char *fmt = maif_report_format(rep) ? cli_format_name(maif_report_format(rep)) : NULL;
    unsigned long long blocks = (unsigned long long)maif_report_blocks(rep);
    ex = ok ? CLI_EXIT_OK : CLI_EXIT_VERIFY;

    if (as_json) {
        json_t *doc = json_object(), *signers = json_array(), *findings = json_array();
        if (doc && signers && findings) {
            json_object_set_new(doc, "file", cli_json_string(path, strlen(path)));
            json_object_set_new(doc, "ok", json_boolean(ok));
            json_object_set_new(doc, "format", fmt ? json_string(fmt) : json_null());
            json_object_set_new(doc, "blocks", json_integer((json_int_t)blocks));
            for (size_t i = 0; i < nsig; i++) {
                uint8_t pk[MAIF_PUBKEY_BYTES];
                int pinned = 0;
                char hex[2 * MAIF_PUBKEY_BYTES + 1];
                if (maif_report_signer(rep, i, pk, &pinned) != MAIF_OK) continue;
                json_t *s = json_object();
                json_object_set_new(s, "key", json_string(maif_hex(pk, sizeof pk, hex)));
                json_object_set_new(s, "pinned", json_boolean(pinned));
                json_object_set_new(s, "alg", json_string(maif_sig_alg_name(maif_report_signer_alg(rep, i))));
                json_array_append_new(signers, s);
            }
            for (size_t i = 0; i < nf; i++) {
                const maif_finding *f = FINDING(i);
                if (f)
                    json_array_append_new(findings, finding_json(f->severity, f->code, f->section, f->block,
                                                                 f->offset, f->message));
            }
            if (extra)
                json_array_append_new(findings,
                                      finding_json(MAIF_SEV_ERROR, "untrusted-signer", "commit", -1, -1, extra));
            for (size_t i = 0; i < dp.n; i++)
                json_array_append_new(findings, finding_json(dp.f[i].sev, "decode", "block", dp.f[i].block,
                                                             dp.f[i].offset, dp.f[i].msg));
            for (size_t i = 0; i < rp.n; i++)
                json_array_append_new(findings, finding_json(rp.f[i].sev, "recompute", "block", rp.f[i].block,
                                                             rp.f[i].offset, rp.f[i].msg));
            if (deep_on) json_object_set_new(doc, "decoded", json_integer((json_int_t)dp.decoded));
            if (recompute_on) json_object_set_new(doc, "recomputed", json_integer((json_int_t)recomputed));
            json_object_set(doc, "signers", signers);
            json_object_set(doc, "findings", findings);
        }
        int jr = cli_print_json(doc && signers && findings ? doc : NULL);
        if (jr) ex = jr;
        json_decref(signers);
        json_decref(findings);
        json_decref(doc);
    } else {
        for (size_t i = 0; i < nf; i++) {
            const maif_finding *f = FINDING(i);
            if (f) print_finding(path, f->severity, f->section, f->block, f->offset, f->message);
        }
        if (extra) print_finding(path, MAIF_SEV_ERROR, "commit", -1, -1, extra);
        for (size_t i = 0; i < dp.n; i++)
            print_finding(path, dp.f[i].sev, "decode", dp.f[i].block, dp.f[i].offset, dp.f[i].msg);
        for (size_t i = 0; i < rp.n; i++)
            print_finding(path, rp.f[i].sev, "recompute", rp.f[i].block, rp.f[i].offset, rp.f[i].msg);
        cli_put_clean(stdout, path, strlen(path));
        if (ok && deep_on && (unsigned long long)dp.decoded < blocks)
            printf(": OK (%llu blocks, %llu of them decoded, format %s)\n", blocks, (unsigned long long)dp.decoded,
                   fmt ? fmt : "unknown");
        else if (ok)
            printf(": OK (%llu blocks%s, format %s)\n", blocks, deep_on ? ", every one decoded" : "",
                   fmt ? fmt : "unknown");
        else
            printf(": FAILED (%zu error%s)\n", errors, errors == 1 ? "" : "s");
    }
    free(dp.f);
    free(rp.f);
    maif_report_free(rep);
    maif_report_free(idrep);
    return cli_finish(ex);
}

const cli_command cli_cmd_verify = {
    "verify", run, "check every hash and signature",
    "usage: maif verify FILE [--pubkey PUBFILE]... [--ca ROOTS.pem [--crl CRLS.pem]] [--tsa-ca TSA.pem]\n"
    "                   [--deep] [--recompute] [--json]\n"
    "\n"
    "Verifies every byte of FILE (native or MAIF 2.1): content hashes, the hash\n"
    "chain, the index, Merkle roots and commit signatures. Prints one line per\n"
    "finding,\n"
    "  FILE: SEVERITY: [SECTION block N @0xOFFSET] MESSAGE\n"
    "(\"block N\" and \"@0xOFFSET\" only when they apply; SEVERITY is info,\n"
    "warning or error), then a last line:\n"
    "  FILE: OK (N blocks, format native|2.1)    or    FILE: FAILED (K errors)\n"
    "Without --pubkey the file is checked against the key it names, and an\n"
    "info finding says the signer is not pinned. With --pubkey (repeatable, up\n"
    "to 256; a .pub file or a secret key file) every signer must be one of the\n"
    "given keys.\n"
    "--ca ROOTS  also requires every commit's signer to have attached (`maif\n"
    "         cert`) a certificate chain valid to one of these roots (PEM or DER)\n"
    "         at the commit's time, whose leaf allows digitalSignature; one\n"
    "         error finding per signer and problem (codes identity-*: no-chain,\n"
    "         expired, not-yet-valid, key-usage, unknown-issuer, chain-too-long,\n"
    "         invalid, chain, key-mismatch). A malformed ROOTS file: exit 2.\n"
    "--crl CRLS  (with --ca) also checks revocation: every certificate of a\n"
    "         signer's path below the root must be absent from the newest CRL\n"
    "         (PEM or DER, up to 256) of its issuer that the issuer's key\n"
    "         verifies. Errors: identity-crl-missing (no such CRL for an issuer),\n"
    "         identity-revoked (revoked at or before the commit's time, or for a\n"
    "         key compromise at any time: a stolen key can backdate). Warnings:\n"
    "         identity-revoked-later (revoked for another reason after the\n"
    "         commit's time, which is the signer's claim), identity-crl-stale (a\n"
    "         CRL past its nextUpdate). Full CRLs from the CA itself only: no\n"
    "         delta or indirect CRLs, no OCSP, nothing is fetched. A malformed\n"
    "         CRLS file: exit 2.\n"
    "--tsa-ca TSA  also checks the trusted timestamps (`maif timestamp`): each\n"
    "         token's signature and its TSA's certificate (timeStamping usage,\n"
    "         to one of these roots at the token's time), and that it stamps a\n"
    "         commit of FILE: an info finding \"timestamp\" per token (which\n"
    "         commit existed by when), errors timestamp-invalid and\n"
    "         timestamp-no-commit, a warning timestamp-clock (a commit claiming\n"
    "         a time over 5 minutes after its TSA saw it). With --ca and --crl, a\n"
    "         commit stamped before its certificate's revocation (and before\n"
    "         the entry's invalidity date) is not failed by it.\n"
    "--deep   also decodes every block (undoes its compression): the checks\n"
    "         above cover the stored bytes, this that they decode to the size\n"
    "         the record says. A block that does not is an error finding\n"
    "         [decode, block N @0xOFFSET] (JSON code \"decode\"); one this\n"
    "         library cannot undo (unknown codec, no key) is a warning. The\n"
    "         last line then reads \"OK (N blocks, every one decoded, ...)\".\n"
    "--recompute  also computes every embedding that names its model and\n"
    "         source block again, from the source, with that model (when it is\n"
    "         installed here): one that differs (cosine below 0.9999) is an error\n"
    "         [recompute, block N] (a poisoned or stale vector); one whose model\n"
    "         or source is not available here (not installed, sealed) a warning.\n"
    "         Bound embeddings (CSB, docs/CSB.md) are checked by every verify.\n"
    "--json   one JSON object {\"file\",\"ok\",\"format\" (\"native\", \"2.1\" or null),\n"
    "         \"blocks\",\"signers\":[{\"key\",\"pinned\",\"alg\"}],\"findings\":[{\"severity\",\n"
    "         \"code\",\"section\",\"block\" (or null),\"offset\" (or null),\"message\"}]}\n"
    "\n"
    "exit codes: 0 intact and trusted; 1 not intact, untrusted signer, or too\n"
    "damaged to parse; 2 usage error, missing/unreadable file, bad key file.\n",
};
