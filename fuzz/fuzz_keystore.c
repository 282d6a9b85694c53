/*
 * fuzz_keystore.c — the keystore of shreddable blocks and its master file
 * from hostile bytes (FORMAT.md §5.10): "MKS1" keystores, "MKM1" master
 * files and "MKP1" token master files. The input is
 *   master length (u16 LE) ‖ master file ‖ keystore file
 * written to a fresh directory, then opened two ways: plain
 * (maif_keystore_open: an MKP1 file asks for a PIN), and with a token
 * whose module does not exist (an MKP1 file is parsed and checked up to
 * loading the module; the module path the file names is never loaded).
 * A failure must leave no keystore and be one of the documented codes; a
 * keystore that opens must hold at most 2^20 keys and rekey or close
 * cleanly. Any broken promise aborts.
 */
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void put(const char *path, const uint8_t *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    CHECK(n == 0 || fwrite(p, 1, n, f) == n);
    CHECK(fclose(f) == 0);
}

static int documented(int rc)
{
    return rc == MAIF_EKEY || rc == MAIF_EFORMAT || rc == MAIF_EVERIFY || rc == MAIF_EACCESS ||
           rc == MAIF_ENOTFOUND || rc == MAIF_EINVAL || rc == MAIF_EIO || rc == MAIF_ENOMEM;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    size_t ml = (size_t)data[0] | (size_t)data[1] << 8;
    if (ml > size - 2) ml = size - 2;
    char shm[] = "/dev/shm/fuzz-ks.XXXXXX", tmp[] = "/tmp/fuzz-ks.XXXXXX";
    char *dir = fuzz_tmpdir(shm, tmp), ks_path[4200], m_path[4200];
    snprintf(ks_path, sizeof ks_path, "%s/a.keystore", dir);
    snprintf(m_path, sizeof m_path, "%s/a.master", dir);
    put(m_path, data + 2, ml);
    put(ks_path, data + 2 + ml, size - 2 - ml);

    const maif_keystore_token bad_module = {"/nonexistent/no-such-module.so", NULL, "0000"};
    const maif_keystore_token *ways[2] = {NULL, &bad_module};
    for (int w = 0; w < 2; w++) {
        maif_keystore *ks = (maif_keystore *)(uintptr_t)1;
        int rc = maif_keystore_open_token(&ks, ks_path, m_path, ways[w], 0);
        if (rc != MAIF_OK) {
            CHECK(ks == NULL);
            CHECK(documented(rc));
            CHECK(maif_last_errmsg()[0] != 0);
            continue;
        }
        CHECK(ks != NULL);
        CHECK(maif_keystore_count(ks) <= (1u << 20));
        maif_keystore_close(ks);
    }
    /* one that opens plainly also survives a rekey (files rewritten) */
    maif_keystore *ks = NULL;
    if (maif_keystore_open(&ks, ks_path, m_path, 0) == MAIF_OK) {
        size_t n = maif_keystore_count(ks);
        CHECK(maif_keystore_rekey(ks) == MAIF_OK);
        maif_keystore_close(ks);
        ks = NULL;
        CHECK(maif_keystore_open(&ks, ks_path, m_path, 0) == MAIF_OK);
        CHECK(maif_keystore_count(ks) == n);
        maif_keystore_close(ks);
    }
    remove_tree(dir);
    return 0;
}
