/*
 * test_identity.c — X.509 identities through the public API: certificate
 * requests for each key algorithm, attaching a chain (and refusing one for
 * another key or over the bounds), maif_verify_chains's findings, and
 * revocation by CRLs (maif_verify_chains_crl), and trusted timestamps
 * (maif_timestamp_query, maif_writer_add_timestamp, maif_verify_identities).
 * The CA and the TSA are made with the openssl CLI (skipped without it).
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const int algs[] = {MAIF_SIG_ED25519, MAIF_SIG_RSA_PSS, MAIF_SIG_P256};

static int sh(const char *dir, const char *cmd)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "cd '%s' && %s >/dev/null 2>&1", dir, cmd);
    return system(buf);
}

static void make_ca(const char *dir)
{
    static const char ext[] = "[ca]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n"
                              "[leaf]\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                              "[nods]\nkeyUsage=critical,keyEncipherment\n";
    char *p = tu_path(dir, "ext.cnf");
    assert_int_equal(tu_write(p, ext, sizeof ext - 1), 0);
    free(p);
    assert_int_equal(sh(dir, "openssl genpkey -algorithm ec -pkeyopt ec_paramgen_curve:P-256 -out root.key"), 0);
    assert_int_equal(sh(dir, "openssl req -x509 -new -key root.key -subj /CN=Unit-Root -days 30 -out root.pem"), 0);
}

static uint8_t *issue(const char *dir, const maif_key *k, const char *ext, size_t *len)
{
    char csr[16384];
    size_t n = 0;
    assert_int_equal(maif_key_csr(k, "/CN=unit/O=Test", csr, sizeof csr, &n), MAIF_OK);
    assert_int_equal(strlen(csr), n);
    char *p = tu_path(dir, "k.csr");
    assert_int_equal(tu_write(p, csr, n), 0);
    free(p);
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "openssl x509 -req -in k.csr -CA root.pem -CAkey root.key -set_serial %d -days 30 -extfile ext.cnf "
             "-extensions %s -out k.pem",
             rand() % 100000 + 1, ext);
    assert_int_equal(sh(dir, cmd), 0);
    p = tu_path(dir, "k.pem");
    uint8_t *pem = tu_read(p, len);
    free(p);
    assert_non_null(pem);
    return pem;
}

static maif_report *check(const char *path, const char *dir)
{
    char *rp = tu_path(dir, "root.pem");
    size_t rl;
    uint8_t *roots = tu_read(rp, &rl);
    maif_report *rep = NULL;
    assert_int_equal(maif_verify_chains(path, roots, rl, &rep), MAIF_OK);
    free(roots);
    free(rp);
    return rep;
}

static void test_csr_attach_verify(void **state)
{
    tu_fixture *f = *state;
    if (system("command -v openssl >/dev/null 2>&1") != 0) skip();
    make_ca(f->dir);
    for (size_t a = 0; a < 3; a++) {
        maif_key *k = NULL;
        assert_int_equal(maif_key_generate_alg(&k, algs[a], a == 1 ? 2048 : 0), MAIF_OK);
        size_t n;
        uint8_t *pem = issue(f->dir, k, "leaf", &n);
        unlink(f->path);
        maif_writer *w = NULL;
        assert_int_equal(maif_writer_create(&w, f->path, k, NULL, NULL), MAIF_OK);
        uint8_t id[MAIF_ID_BYTES];
        assert_int_equal(maif_writer_add_chain(w, pem, n, id), MAIF_OK);
        assert_int_equal(maif_writer_add_chain(w, "junk", 4, id), MAIF_EFORMAT);
        assert_int_equal(maif_writer_commit(w), MAIF_OK);
        assert_int_equal(maif_writer_close(w), MAIF_OK);
        maif_report *rep = check(f->path, f->dir);
        if (!maif_report_ok(rep)) tu_dump_report(rep);
        assert_true(maif_report_ok(rep));
        maif_report_free(rep);
        /* another signer without a chain: one finding */
        maif_key *k2 = NULL;
        assert_int_equal(maif_key_generate(&k2), MAIF_OK);
        assert_int_equal(maif_writer_open(&w, f->path, k2, NULL), MAIF_OK);
        tu_add_simple(w, MAIF_TYPE_TEXT, "x", 1, NULL, NULL);
        /* the first key's chain is not for k2 */
        assert_int_equal(maif_writer_add_chain(w, pem, n, id), MAIF_EKEY);
        assert_int_equal(maif_writer_commit(w), MAIF_OK);
        assert_int_equal(maif_writer_close(w), MAIF_OK);
        rep = check(f->path, f->dir);
        assert_false(maif_report_ok(rep));
        assert_true(tu_has_code(rep, "identity-no-chain", MAIF_SEV_ERROR));
        assert_int_equal(maif_report_count(rep), 1);
        maif_report_free(rep);
        maif_key_free(k2);
        free(pem);
        maif_key_free(k);
    }
    /* a leaf without digitalSignature */
    size_t n;
    uint8_t *pem = issue(f->dir, f->key, "nods", &n);
    unlink(f->path);
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->key, NULL, NULL), MAIF_OK);
    assert_int_equal(maif_writer_add_chain(w, pem, n, NULL), MAIF_OK);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    maif_report *rep = check(f->path, f->dir);
    assert_true(tu_has_code(rep, "identity-key-usage", MAIF_SEV_ERROR));
    maif_report_free(rep);
    free(pem);
}

static void test_bad_input(void **state)
{
    tu_fixture *f = *state;
    char buf[64];
    size_t n = 0;
    assert_int_equal(maif_key_csr(f->key, "CN=x", buf, sizeof buf, &n), MAIF_EINVAL);
    assert_int_equal(maif_key_csr(f->key, "/CN", buf, sizeof buf, &n), MAIF_EINVAL);
    assert_int_equal(maif_key_csr(f->key, "/CN=x", buf, sizeof buf, &n), MAIF_ELIMIT);
    assert_true(n > sizeof buf);
    assert_int_equal(maif_key_csr(NULL, "/CN=x", buf, sizeof buf, &n), MAIF_EINVAL);
    tu_write_one(f->path, f->key, "t", NULL);
    maif_report *rep = NULL;
    assert_int_equal(maif_verify_chains(f->path, "not a cert", 10, &rep), MAIF_EFORMAT);
    assert_null(rep);
    assert_int_equal(maif_verify_chains(f->path, "", 0, &rep), MAIF_EFORMAT);
    assert_int_equal(maif_verify_chains(NULL, "x", 1, &rep), MAIF_EINVAL);
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_open(&w, f->path, f->key, NULL), MAIF_OK);
    assert_int_equal(maif_writer_add_chain(w, "", 0, NULL), MAIF_EFORMAT);
    static uint8_t big[300 << 10];
    memset(big, 'A', sizeof big);
    assert_int_equal(maif_writer_add_chain(w, big, sizeof big, NULL), MAIF_ELIMIT);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
}

static uint8_t *file_bytes(const char *dir, const char *name, size_t *n)
{
    char *p = tu_path(dir, name);
    uint8_t *b = tu_read(p, n);
    free(p);
    assert_non_null(b);
    return b;
}

/* Revocation: a leaf issued through an `openssl ca` database, revoked for
 * keyCompromise, then listed in the CRL the root issues. */
static void test_crl(void **state)
{
    tu_fixture *f = *state;
    if (system("command -v openssl >/dev/null 2>&1") != 0) skip();
    make_ca(f->dir);
    static const char cnf[] = "[ca]\ndefault_ca = d\n[d]\ndatabase = index.txt\nnew_certs_dir = .\n"
                              "serial = serial\ncrlnumber = crlnumber\ndefault_md = sha256\ndefault_crl_days = 7\n"
                              "policy = p\nunique_subject = no\n[p]\ncommonName = supplied\n";
    char *cp = tu_path(f->dir, "ca.cnf");
    assert_int_equal(tu_write(cp, cnf, sizeof cnf - 1), 0);
    free(cp);
    static const char *const files[][2] = {{"index.txt", ""}, {"serial", "1000\n"}, {"crlnumber", "01\n"}};
    for (size_t i = 0; i < 3; i++) {
        char *fp = tu_path(f->dir, files[i][0]);
        assert_int_equal(tu_write(fp, files[i][1], strlen(files[i][1])), 0);
        free(fp);
    }
    char csr[16384];
    size_t n = 0;
    assert_int_equal(maif_key_csr(f->key, "/CN=unit-crl", csr, sizeof csr, &n), MAIF_OK);
    char *kp = tu_path(f->dir, "k.csr");
    assert_int_equal(tu_write(kp, csr, n), 0);
    free(kp);
    assert_int_equal(sh(f->dir, "openssl ca -batch -config ca.cnf -cert root.pem -keyfile root.key -in k.csr "
                                "-out k.pem -extfile ext.cnf -extensions leaf -days 30 -notext"),
                     0);
    assert_int_equal(sh(f->dir, "openssl ca -batch -config ca.cnf -cert root.pem -keyfile root.key -gencrl "
                                "-out clean.crl"),
                     0);
    size_t pn, rl, cl;
    uint8_t *pem = file_bytes(f->dir, "k.pem", &pn), *roots = file_bytes(f->dir, "root.pem", &rl);
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_create(&w, f->path, f->key, NULL, NULL), MAIF_OK);
    assert_int_equal(maif_writer_add_chain(w, pem, pn, NULL), MAIF_OK);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    maif_report *rep = NULL;
    uint8_t *crl = file_bytes(f->dir, "clean.crl", &cl);
    assert_int_equal(maif_verify_chains_crl(f->path, roots, rl, crl, cl, &rep), MAIF_OK);
    if (!maif_report_ok(rep)) tu_dump_report(rep);
    assert_true(maif_report_ok(rep));
    assert_int_equal(maif_report_count(rep), 0);
    maif_report_free(rep);
    free(crl);
    /* revoked */
    assert_int_equal(sh(f->dir, "openssl ca -batch -config ca.cnf -cert root.pem -keyfile root.key -revoke k.pem "
                                "-crl_reason keyCompromise && openssl ca -batch -config ca.cnf -cert root.pem "
                                "-keyfile root.key -gencrl -out revoked.crl"),
                     0);
    crl = file_bytes(f->dir, "revoked.crl", &cl);
    assert_int_equal(maif_verify_chains_crl(f->path, roots, rl, crl, cl, &rep), MAIF_OK);
    assert_false(maif_report_ok(rep));
    assert_true(tu_has_code(rep, "identity-revoked", MAIF_SEV_ERROR));
    assert_int_equal(maif_report_count(rep), 1);
    maif_report_free(rep);
    /* without CRLs, the same chain passes; malformed CRLs are refused */
    assert_int_equal(maif_verify_chains_crl(f->path, roots, rl, NULL, 0, &rep), MAIF_OK);
    assert_true(maif_report_ok(rep));
    maif_report_free(rep);
    assert_int_equal(maif_verify_chains_crl(f->path, roots, rl, "not a CRL", 9, &rep), MAIF_EFORMAT);
    assert_null(rep);
    assert_int_equal(maif_verify_chains_crl(f->path, roots, rl, crl, 0, &rep), MAIF_EFORMAT);
    /* a root certificate given as a CRL */
    assert_int_equal(maif_verify_chains_crl(f->path, roots, rl, roots, rl, &rep), MAIF_EFORMAT);
    /* every allocation failing in turn: MAIF_ENOMEM or the same verdict */
    for (uint64_t k = 1;; k++) {
        rep = NULL;
        tu_alloc_install();
        tu_alloc_fail(k, 0);
        int rc = maif_verify_chains_crl(f->path, roots, rl, crl, cl, &rep);
        int fired = tu_alloc_fired();
        tu_alloc_uninstall();
        if (rc == MAIF_OK) assert_true(tu_has_code(rep, "identity-revoked", MAIF_SEV_ERROR));
        else assert_int_equal(rc, MAIF_ENOMEM);
        maif_report_free(rep);
        if (!fired) break;
    }
    free(crl);
    free(roots);
    free(pem);
}

/* Trusted timestamps: the request for the last commit, a TSA of our own
 * (`openssl ts -reply`) answering it, the token stored, and
 * maif_verify_identities checking it; the errors of each call. */
static void test_timestamps(void **state)
{
    tu_fixture *f = *state;
    if (system("command -v openssl >/dev/null 2>&1") != 0) skip();
    static const char ext[] = "[tsa]\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                              "extendedKeyUsage=critical,timeStamping\n";
    static const char cnf[] = "[tsa]\ndefault_tsa = t\n[t]\nserial = ./tsaserial\nsigner_cert = ./tsa.pem\n"
                              "certs = ./tsa.pem\nsigner_key = ./tsa.key\nsigner_digest = sha256\n"
                              "default_policy = 1.2.3.4.1\ndigests = sha256\ness_cert_id_alg = sha256\n";
    static const char *const files[][2] = {{"tsaext.cnf", ext}, {"tsa.cnf", cnf}, {"tsaserial", "01\n"}};
    for (size_t i = 0; i < 3; i++) {
        char *fp = tu_path(f->dir, files[i][0]);
        assert_int_equal(tu_write(fp, files[i][1], strlen(files[i][1])), 0);
        free(fp);
    }
    assert_int_equal(sh(f->dir, "openssl genpkey -algorithm ec -pkeyopt ec_paramgen_curve:P-256 -out tr.key && "
                                "openssl req -x509 -new -key tr.key -subj /CN=Unit-TSA-Root -days 30 -out tr.pem && "
                                "openssl genpkey -algorithm ec -pkeyopt ec_paramgen_curve:P-256 -out tsa.key && "
                                "openssl req -new -key tsa.key -subj /CN=Unit-TSA -out tsa.csr && "
                                "openssl x509 -req -in tsa.csr -CA tr.pem -CAkey tr.key -set_serial 9 -days 30 "
                                "-extfile tsaext.cnf -extensions tsa -out tsa.pem"),
                     0);
    tu_write_one(f->path, f->key, "to be stamped", NULL);
    uint8_t q[2048];
    size_t qn = 0;
    assert_int_equal(maif_timestamp_query(f->path, q, 8, &qn), MAIF_ELIMIT);
    assert_true(qn > 8);
    assert_int_equal(maif_timestamp_query(f->path, q, sizeof q, &qn), MAIF_OK);
    char *qp = tu_path(f->dir, "q.tsq");
    assert_int_equal(tu_write(qp, q, qn), 0);
    free(qp);
    assert_int_equal(sh(f->dir, "openssl ts -reply -config tsa.cnf -queryfile q.tsq -out r.tsr"), 0);
    size_t rn, tl;
    uint8_t *resp = file_bytes(f->dir, "r.tsr", &rn), *troot = file_bytes(f->dir, "tr.pem", &tl);
    maif_writer *w = NULL;
    assert_int_equal(maif_writer_open(&w, f->path, f->key, NULL), MAIF_OK);
    uint64_t seq = 99;
    assert_int_equal(maif_writer_add_timestamp(w, "junk", 4, &seq, NULL), MAIF_EFORMAT);
    assert_int_equal(maif_writer_add_timestamp(w, resp, rn, &seq, NULL), MAIF_OK);
    assert_int_equal(seq, 1);
    assert_int_equal(maif_writer_commit(w), MAIF_OK);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    maif_identity_trust t = {NULL, 0, NULL, 0, troot, tl};
    maif_report *rep = NULL;
    assert_int_equal(maif_verify_identities(f->path, &t, &rep), MAIF_OK);
    if (!maif_report_ok(rep)) tu_dump_report(rep);
    assert_true(maif_report_ok(rep));
    assert_true(tu_has_code(rep, "timestamp", MAIF_SEV_INFO));
    maif_report_free(rep);
    /* another artifact's commit is refused; so are bad arguments and bad roots */
    char *other = tu_path(f->dir, "other.maif");
    tu_write_one(other, f->key, "another artifact", NULL);
    assert_int_equal(maif_writer_open(&w, other, f->key, NULL), MAIF_OK);
    assert_int_equal(maif_writer_add_timestamp(w, resp, rn, NULL, NULL), MAIF_EINVAL);
    assert_int_equal(maif_writer_close(w), MAIF_OK);
    maif_identity_trust none = {NULL, 0, NULL, 0, NULL, 0};
    assert_int_equal(maif_verify_identities(f->path, &none, &rep), MAIF_EINVAL);
    maif_identity_trust crl_only = {NULL, 0, "x", 1, troot, tl};
    assert_int_equal(maif_verify_identities(f->path, &crl_only, &rep), MAIF_EINVAL);
    maif_identity_trust bad = {NULL, 0, NULL, 0, "not a cert", 10};
    assert_int_equal(maif_verify_identities(f->path, &bad, &rep), MAIF_EFORMAT);
    assert_non_null(strstr(maif_last_errmsg(), "TSA"));
    assert_int_equal(maif_timestamp_query(NULL, q, sizeof q, &qn), MAIF_EINVAL);
    /* every allocation failing in turn: MAIF_ENOMEM or the same verdict */
    for (uint64_t k = 1;; k++) {
        rep = NULL;
        tu_alloc_install();
        tu_alloc_fail(k, 0);
        int rc = maif_verify_identities(f->path, &t, &rep);
        int fired = tu_alloc_fired();
        tu_alloc_uninstall();
        if (rc == MAIF_OK) assert_true(tu_has_code(rep, "timestamp", MAIF_SEV_INFO) && maif_report_ok(rep));
        else assert_int_equal(rc, MAIF_ENOMEM);
        maif_report_free(rep);
        if (!fired) break;
    }
    free(other);
    free(resp);
    free(troot);
}

/* Every allocation of maif_writer_add_chain and maif_verify_chains fails
 * in turn: each call succeeds or says MAIF_ENOMEM, never a false finding,
 * never a leak. */
static void test_alloc_sweep(void **state)
{
    tu_fixture *f = *state;
    if (system("command -v openssl >/dev/null 2>&1") != 0) skip();
    make_ca(f->dir);
    size_t n;
    uint8_t *pem = issue(f->dir, f->key, "leaf", &n);
    char *rp = tu_path(f->dir, "root.pem");
    size_t rl;
    uint8_t *roots = tu_read(rp, &rl);
    for (uint64_t k = 1;; k++) {
        unlink(f->path);
        maif_writer *w = NULL;
        assert_int_equal(maif_writer_create(&w, f->path, f->key, NULL, NULL), MAIF_OK);
        tu_alloc_install();
        tu_alloc_fail(k, 0);
        int rc = maif_writer_add_chain(w, pem, n, NULL);
        int fired = tu_alloc_fired();
        tu_alloc_uninstall();
        assert_true(rc == MAIF_OK || rc == MAIF_ENOMEM);
        if (rc == MAIF_OK) assert_int_equal(maif_writer_commit(w), MAIF_OK);
        assert_int_equal(maif_writer_close(w), MAIF_OK);
        if (!fired) break;
    }
    for (uint64_t k = 1;; k++) {
        maif_report *rep = NULL;
        tu_alloc_install();
        tu_alloc_fail(k, 0);
        int rc = maif_verify_chains(f->path, roots, rl, &rep);
        int fired = tu_alloc_fired();
        tu_alloc_uninstall();
        if (rc == MAIF_OK) {
            if (!maif_report_ok(rep)) tu_dump_report(rep);
            assert_true(maif_report_ok(rep));
        } else {
            assert_int_equal(rc, MAIF_ENOMEM);
            assert_null(rep);
        }
        maif_report_free(rep);
        if (!fired) {
            assert_int_equal(rc, MAIF_OK);
            break;
        }
    }
    free(roots);
    free(rp);
    free(pem);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_csr_attach_verify, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_bad_input, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_alloc_sweep, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_crl, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_timestamps, tu_setup, tu_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
