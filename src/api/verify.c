/*
 * verify.c — the public verifier: maps the file, recognises the format and
 * hands the image to that format's strict verifier, with the public
 * options reduced to the verify settings the formats take (report.h).
 */
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "crypto/crypto.h"
#include "io/io.h"
#include "report/report.h"
#include "util/alloc.h"
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
        unsigned long fails = maif_alloc_failures();
        maif_report_set_format(rep, ops->id);
        ops->verify(b, size, &v, rep);
        if (ops->id == MAIF_FORMAT_NATIVE && maif_report_ok(rep)) maif_csb_check(b, size, rep);
        /* a verdict reached short of memory is no verdict */
        if (maif_report_oom(rep) || maif_alloc_failures() != fails) {
            maif_report_free(rep);
            return maif_set_last_err(MAIF_ENOMEM, "out of memory while verifying");
        }
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
    maif_io_mapped m;
    char e[400];
    int rc = maif_io_map_file(NULL, path, MAIF_IO_MAP_SEQUENTIAL, &m, e, sizeof e);
    if (rc) return maif_set_last_err(rc, "%s", e);
    rc = maif_verify_mem(m.base, (size_t)m.size, opt, out);
    maif_io_unmap_file(&m);
    return rc;
}
