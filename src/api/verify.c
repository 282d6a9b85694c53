/*
 * verify.c — the public verifier: maps the file, recognises the format and
 * hands the image to that format's strict verifier, with the public
 * options reduced to the verify settings the formats take (report.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/api.h"
#include "crypto/crypto.h"
#include "report/report.h"
#include "util/common.h"
#include "util/options.h"

static maif_verify_options verify_settings(const maif_options *opt)
{
    maif_verify_options v = {0};
    v.trusted = maif_opt_trusted(opt, &v.trusted_count);
    v.threads = (unsigned)maif_opt(opt, MAIF_OPT_THREADS);
    return v;
}

int maif_verify_mem(const void *buf, size_t size, const maif_options *opt, maif_report **out)
{
    if (!out || (!buf && size)) return maif_set_last_err(MAIF_EINVAL, "maif_verify_mem: NULL argument");
    *out = NULL;
    if (maif_crypto_init()) return maif_set_last_err(MAIF_ENOMEM, "crypto initialisation failed");
    maif_report *rep = maif_report_new();
    if (!rep) return maif_set_last_err(MAIF_ENOMEM, "out of memory");
    const uint8_t *b = buf;
    const maif_format_ops *ops = maif_format_detect(b, size);
    if (ops) {
        maif_verify_options v = verify_settings(opt);
        maif_report_set_format(rep, ops->id);
        ops->verify(b, size, &v, rep);
    } else {
        maif_report_add(rep, MAIF_SEV_ERROR, "format", "file", -1, 0,
                        size ? "not a MAIF artifact (unrecognised magic)" : "empty file");
    }
    *out = rep;
    return MAIF_OK;
}

int maif_verify_file(const char *path, const maif_options *opt, maif_report **out)
{
    if (!out || !path) return maif_set_last_err(MAIF_EINVAL, "maif_verify_file: NULL argument");
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        int rc = errno == ENOENT ? MAIF_ENOTFOUND : MAIF_EIO;
        return maif_set_last_err(rc, "%s: %s", path, strerror(errno));
    }
    struct stat st = {0};
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        int dir = S_ISDIR(st.st_mode);
        close(fd);
        return maif_set_last_err(MAIF_EIO, "%s: %s", path, dir ? "is a directory" : "not a regular file");
    }
    if (st.st_size == 0) {
        close(fd);
        return maif_verify_mem("", 0, opt, out);
    }
    void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (m == MAP_FAILED) return maif_set_last_err(MAIF_EIO, "%s: mmap: %s", path, strerror(errno));
    madvise(m, (size_t)st.st_size, MADV_SEQUENTIAL);
    int rc = maif_verify_mem(m, (size_t)st.st_size, opt, out);
    munmap(m, (size_t)st.st_size);
    return rc;
}
