/*
 * bench_sign.c — signing and verifying a commit, per algorithm (Ed25519,
 * RSA-PSS 3072, ECDSA P-256), beside OpenSSL's EVP doing the same in the
 * same process, and beside `openssl speed` from bench/run.sh (same
 * machine, same run; passed in as BASE_SPEED_<ALG>_{SIGN,VERIFY}_US).
 *
 * usage: bench_sign DIR
 *
 * maif sign: maif_key_sign_any over the 48-byte commit message (domain ‖
 * record hash), what the writer calls once per commit (Ed25519 through
 * libsodium; the others through EVP with the key kept decoded).
 * maif verify: maif_sig_verify as the verifier calls it once per commit,
 * which decodes and checks the public key from the commit every time (the
 * key travels in the commit). EVP baseline: EVP_DigestSign/Verify with the
 * same parameters and a key decoded once. Also the cost of a whole commit
 * (maif_writer_commit of one 1 KiB block, not durable) per algorithm,
 * beside Ed25519's. Each figure is the median over BENCH_REPS (default 3)
 * rounds of N operations.
 */
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "benchutil.h"
#include "crypto/crypto.h"
#include "crypto/key_impl.h"

static const struct {
    int alg;
    const char *name, *env;
    int n;
} algs[] = {
    {MAIF_SIG_ED25519, "ed25519", "ED25519", 4000},
    {MAIF_SIG_RSA_PSS, "rsa-pss 3072", "RSA3072", 300},
    {MAIF_SIG_P256, "p256", "P256", 3000},
};

static EVP_PKEY *evp_of(const maif_key *k)
{
    EVP_PKEY *p = maif_key_to_evp(k);
    if (!p) bu_check(-1, "key to EVP", "");
    return p;
}

/* One EVP sign or verify; returns 1 on success. */
static int evp_op(EVP_PKEY *p, int alg, int verify, const uint8_t *msg, size_t n, uint8_t *sig, size_t *sl)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pc = NULL;
    const EVP_MD *md = alg == MAIF_SIG_ED25519 ? NULL : EVP_sha256();
    int ok = verify ? EVP_DigestVerifyInit(ctx, &pc, md, NULL, p) == 1 : EVP_DigestSignInit(ctx, &pc, md, NULL, p) == 1;
    if (ok && alg == MAIF_SIG_RSA_PSS)
        ok = EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING) == 1 &&
             EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, 32) == 1 && EVP_PKEY_CTX_set_rsa_mgf1_md(pc, EVP_sha256()) == 1;
    if (ok) ok = verify ? EVP_DigestVerify(ctx, sig, *sl, msg, n) == 1 : EVP_DigestSign(ctx, sig, sl, msg, n) == 1;
    EVP_MD_CTX_free(ctx);
    return ok;
}

static double commit_us(const char *dir, maif_key *k, int n)
{
    char *path = bu_path(dir, "sign.maif");
    maif_writer *w = NULL;
    bu_check(maif_writer_create(&w, path, k, NULL, bu_writer_options(0)), "create", path);
    uint8_t block[1024];
    bu_fill(block, sizeof block, 9);
    maif_block_spec spec = {.type = MAIF_TYPE_BINARY, .payload = block, .payload_size = sizeof block};
    double t0 = bu_now();
    for (int i = 0; i < n; i++) {
        bu_check(maif_writer_add(w, &spec, NULL), "add", path);
        bu_check(maif_writer_commit(w), "commit", path);
    }
    double t = (bu_now() - t0) / n * 1e6;
    bu_check(maif_writer_close(w), "close", path);
    free(path);
    return t;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: bench_sign DIR\n");
        return 2;
    }
    int reps = (int)(bu_env_double("BENCH_REPS") > 0 ? bu_env_double("BENCH_REPS") : 3);
    const char *e = getenv("BENCH_REPS");
    if (e) reps = atoi(e) > 0 ? atoi(e) : 3;
    double ed_commit = -1;
    uint8_t msg[48];
    bu_fill(msg, sizeof msg, 1);
    for (size_t a = 0; a < sizeof algs / sizeof algs[0]; a++) {
        maif_key *k = NULL;
        bu_check(maif_key_generate_alg(&k, algs[a].alg, 0), "keygen", algs[a].name);
        EVP_PKEY *p = evp_of(k);
        size_t pkl;
        const uint8_t *pk = maif_key_spki(k, &pkl);
        uint8_t sig[1024];
        size_t sl = 0;
        int n = algs[a].n;
        double ms[16], es[16], mv[16], ev[16];
        if (reps > 16) reps = 16;
        for (int r = 0; r < reps; r++) {
            double t0 = bu_now();
            for (int i = 0; i < n; i++) bu_check(maif_key_sign_any(k, msg, sizeof msg, sig, sizeof sig, &sl), "sign", "");
            ms[r] = (bu_now() - t0) / n * 1e6;
            t0 = bu_now();
            for (int i = 0; i < n; i++) {
                size_t l = sizeof sig;
                if (!evp_op(p, algs[a].alg, 0, msg, sizeof msg, sig, &l)) bu_check(-1, "EVP sign", "");
            }
            es[r] = (bu_now() - t0) / n * 1e6;
            bu_check(maif_key_sign_any(k, msg, sizeof msg, sig, sizeof sig, &sl), "sign", "");
            t0 = bu_now();
            for (int i = 0; i < n; i++)
                if (!maif_sig_verify(algs[a].alg, pk, pkl, msg, sizeof msg, sig, sl)) bu_check(-1, "verify", "");
            mv[r] = (bu_now() - t0) / n * 1e6;
            /* the EVP baseline verifies what it signed (ECDSA: DER) */
            size_t l = sizeof sig;
            if (!evp_op(p, algs[a].alg, 0, msg, sizeof msg, sig, &l)) bu_check(-1, "EVP sign", "");
            t0 = bu_now();
            for (int i = 0; i < n; i++)
                if (!evp_op(p, algs[a].alg, 1, msg, sizeof msg, sig, &l)) bu_check(-1, "EVP verify", "");
            ev[r] = (bu_now() - t0) / n * 1e6;
        }
        char lab[96], base[96], env[96];
        snprintf(lab, sizeof lab, "sign %s (commit msg)", algs[a].name);
        bu_report(lab, bu_median(ms, (size_t)reps), "us", "OpenSSL EVP in-process", bu_median(es, (size_t)reps), "");
        snprintf(env, sizeof env, "BASE_SPEED_%s_SIGN_US", algs[a].env);
        if (bu_env_double(env) > 0)
            bu_report(lab, bu_median(ms, (size_t)reps), "us", "openssl speed", bu_env_double(env), "");
        snprintf(lab, sizeof lab, "verify %s (key from commit)", algs[a].name);
        bu_report(lab, bu_median(mv, (size_t)reps), "us", "OpenSSL EVP, key decoded once", bu_median(ev, (size_t)reps), "");
        snprintf(env, sizeof env, "BASE_SPEED_%s_VERIFY_US", algs[a].env);
        if (bu_env_double(env) > 0)
            bu_report(lab, bu_median(mv, (size_t)reps), "us", "openssl speed", bu_env_double(env), "");
        double c[16];
        int nc = algs[a].alg == MAIF_SIG_RSA_PSS ? 200 : 1000;
        for (int r = 0; r < reps; r++) c[r] = commit_us(argv[1], k, nc);
        double cm = bu_median(c, (size_t)reps);
        if (algs[a].alg == MAIF_SIG_ED25519) ed_commit = cm;
        snprintf(lab, sizeof lab, "commit of 1 KiB, %s", algs[a].name);
        snprintf(base, sizeof base, "same with ed25519");
        bu_report(lab, cm, "us", base, algs[a].alg == MAIF_SIG_ED25519 ? -1 : ed_commit, "");
        EVP_PKEY_free(p);
        maif_key_free(k);
    }
    return 0;
}
