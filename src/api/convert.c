/*
 * convert.c — converting between formats, after verifying the source.
 *
 * Signatures cannot carry over: the output is signed with the caller's
 * key. So conversion must never be a way to launder an artifact that is
 * not intact (or not signed by a pinned key) into one that verifies
 * (issue 15). The source is mapped once by the public reader and that
 * same image is verified, so what is checked is what is converted; a
 * failed verification refuses with MAIF_EVERIFY unless the caller forces
 * it, and then the output says its source did not verify: the native
 * header's converted_from note (format/format.h: source_note), or for
 * 2.1, which has no free-form header field, one extra trailing META block.
 * That mark is carried through later conversions ("origin_verified"), so
 * a second, unforced hop from the (intact, freshly signed) forced output
 * does not wash it off.
 *
 * Block types, payloads, metadata, timestamps and ids are carried over;
 * the blocks are handed to the target format's writer as a block source
 * (format/format.h).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "crypto/crypto.h"
#include "util/alloc.h"
#include "util/common.h"
#include "util/options.h"

#define NOTE_CODES_MAX 32 /* distinct finding codes recorded in a forced output */

/* Verdict on a report: NULL if the source may be converted, else the
 * message (and code) of the first reason it may not. */
static const maif_finding *first_error(const maif_report *rep)
{
    for (size_t i = 0; i < maif_report_count(rep); i++) {
        const maif_finding *f = maif_report_finding(rep, i);
        if (f && f->severity >= MAIF_SEV_ERROR) return f;
    }
    return NULL;
}

/* With keys pinned, a report without errors must still name a signer and
 * only pinned ones (the CLI's verify applies the same guard). */
static const char *pin_problem(const maif_report *rep, const maif_options *opt)
{
    if (maif_opt(opt, MAIF_OPT_TRUSTED_KEYS) == 0) return NULL;
    size_t n = maif_report_signer_count(rep);
    if (n == 0) return "no signer found, but signer keys are pinned";
    for (size_t i = 0; i < n; i++) {
        uint8_t pk[MAIF_PUBKEY_BYTES];
        int pinned = 0;
        if (maif_report_signer(rep, i, pk, &pinned) != MAIF_OK || !pinned)
            return "signer is not one of the pinned keys";
    }
    return NULL;
}

/* Appends code to the array of distinct codes (bounded). */
static void add_code(json_t *codes, const char *code)
{
    if (!code || json_array_size(codes) >= NOTE_CODES_MAX) return;
    for (size_t k = 0; k < json_array_size(codes); k++)
        if (strcmp(json_string_value(json_array_get(codes, k)), code) == 0) return;
    json_array_append_new(codes, json_string(code));
}

static void add_codes_from(json_t *codes, const json_t *arr)
{
    size_t k;
    json_t *v;
    json_array_foreach(arr, k, v) if (json_is_string(v)) add_code(codes, json_string_value(v));
}

/* What the output records about where it came from, as compact JSON, or
 * NULL in *out when there is nothing to record:
 *  - "verified": false and "findings" (distinct error codes) when this
 *    source did not verify and the conversion was forced;
 *  - "origin_verified": false and "origin_findings" when the source is
 *    itself the output of such a conversion (its converted_from says so),
 *    so that converting once more does not wash the mark off. */
static int origin_note(const maif_report *rep, int failed, const char *pin, const maif_info *info, char **out)
{
    *out = NULL;
    json_t *up = info->converted_from && info->converted_from[0] ? json_loads(info->converted_from, 0, NULL) : NULL;
    int upstream = json_is_object(up) && (json_is_false(json_object_get(up, "verified")) ||
                                          json_is_false(json_object_get(up, "origin_verified")));
    if (!failed && !upstream) {
        json_decref(up);
        return MAIF_OK;
    }
    json_t *o = json_object(), *codes = json_array(), *ocodes = json_array();
    if (o && codes && ocodes) {
        if (failed) {
            for (size_t i = 0; i < maif_report_count(rep); i++) {
                const maif_finding *f = maif_report_finding(rep, i);
                if (f && f->severity >= MAIF_SEV_ERROR) add_code(codes, f->code);
            }
            if (pin) add_code(codes, "untrusted-signer");
            json_object_set_new(o, "verified", json_false());
            json_object_set(o, "findings", codes);
        }
        if (upstream) {
            add_codes_from(ocodes, json_object_get(up, "findings"));
            add_codes_from(ocodes, json_object_get(up, "origin_findings"));
            json_object_set_new(o, "origin_verified", json_false());
            json_object_set(o, "origin_findings", ocodes);
        }
        *out = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    }
    json_decref(codes);
    json_decref(ocodes);
    json_decref(o);
    json_decref(up);
    return *out ? MAIF_OK : maif_set_last_err(MAIF_ENOMEM, "out of memory");
}

/* A 2.1 output: the source's blocks, then one META block holding the note. */
typedef struct noted_source {
    const maif_block_source *inner;
    char *payload; /* {"converted_from":{...source facts..., "verified":false, ...}} */
    uint8_t id[MAIF_ID_BYTES];
    uint64_t timestamp_us;
} noted_source;

static int noted_block(void *ctx, uint64_t i, maif_block *out)
{
    noted_source *ns = ctx;
    if (i < ns->inner->count) return ns->inner->block(ns->inner->ctx, i, out);
    memset(out, 0, sizeof *out);
    out->index = i;
    out->type = MAIF_TYPE_META;
    out->timestamp_us = ns->timestamp_us;
    memcpy(out->id, ns->id, MAIF_ID_BYTES);
    out->payload = (const uint8_t *)ns->payload;
    out->payload_size = strlen(ns->payload);
    return MAIF_OK;
}

static char *v21_note_payload(const maif_info *in, const char *note)
{
    char hex[2 * MAIF_PUBKEY_BYTES + 1];
    json_t *o = json_object(), *cf = json_loads(note, 0, NULL);
    char *s = NULL;
    if (o && json_is_object(cf)) {
        json_object_set_new(cf, "format", json_string(in->format == MAIF_FORMAT_V21 ? "2.1" : "native"));
        json_object_set_new(cf, "file_id", json_string(maif_hex(in->file_id, MAIF_ID_BYTES, hex)));
        json_object_set_new(cf, "signer", json_string(maif_hex(in->signer, MAIF_PUBKEY_BYTES, hex)));
        json_object_set_new(cf, "merkle_root", json_string(maif_hex(in->merkle_root, MAIF_HASH_BYTES, hex)));
        json_object_set(o, "converted_from", cf);
        s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    }
    json_decref(cf);
    json_decref(o);
    return s;
}

static int write_out(maif_reader *r, const maif_format_ops *to, const char *out_path, const maif_key *key,
                     const char *note, int hash_alg)
{
    maif_info info;
    maif_block_source src;
    char err[512] = "";
    int rc = maif_reader_source(r, &info, &src);
    if (rc) return maif_set_last_err(rc, "cannot read the source's header: %s", maif_reader_errmsg(r));
    src.hash_alg = hash_alg;
    if (!note) {
        rc = to->write_from(&src, out_path, key, err, sizeof err);
    } else if (to->id == MAIF_FORMAT_NATIVE) {
        src.source_note = note;
        rc = to->write_from(&src, out_path, key, err, sizeof err);
    } else {
        noted_source ns = {.inner = &src, .payload = v21_note_payload(&info, note), .timestamp_us = maif_now_us()};
        if (!ns.payload) return maif_set_last_err(MAIF_ENOMEM, "out of memory");
        maif_random(ns.id, sizeof ns.id);
        maif_block_source outer = src;
        outer.ctx = &ns;
        outer.count = src.count + 1;
        outer.block = noted_block;
        rc = to->write_from(&outer, out_path, key, err, sizeof err);
        maif_free(ns.payload);
    }
    if (rc) maif_set_last_err(rc, "%s: %s", out_path, err[0] ? err : maif_strerror(rc));
    return rc;
}

int maif_convert(const char *in_path, const char *out_path, int to_format, const maif_key *key,
                 const maif_options *opt, maif_report **report)
{
    if (report) *report = NULL;
    const maif_format_ops *to = maif_format_by_id(to_format);
    if (!in_path || !out_path || !key)
        return maif_set_last_err(MAIF_EINVAL, "maif_convert: missing input path, output path or key");
    if (!to) return maif_set_last_err(MAIF_EINVAL, "maif_convert: unknown target format %d", to_format);
    if (to->id != MAIF_FORMAT_NATIVE && maif_opt(opt, MAIF_OPT_CONTENT_HASH) != MAIF_HASH_SHA256)
        return maif_set_last_err(MAIF_EINVAL, "maif_convert: %s files hash their blocks with SHA-256 only", to->name);
    maif_reader *r = NULL;
    char open_err[512] = "";
    int orc = maif_reader_open(&r, in_path);
    if (orc && orc != MAIF_EFORMAT && orc != MAIF_EVERSION) return orc; /* missing, unreadable: no verdict */
    if (orc) snprintf(open_err, sizeof open_err, "%s", maif_last_errmsg());

    /* Verify what will be converted: the reader's own image, or (when the
     * reader cannot even parse it) the file, for the findings. */
    maif_report *rep = NULL;
    int rc;
    if (r) {
        const uint8_t *base;
        size_t size;
        maif_reader_image(r, &base, &size);
        rc = maif_verify_mem(base, size, opt, &rep);
    } else {
        rc = maif_verify_file(in_path, opt, &rep);
    }
    if (rc) {
        maif_reader_close(r);
        return rc;
    }
    const maif_finding *bad = first_error(rep);
    const char *pin = bad ? NULL : pin_problem(rep, opt);
    int force = maif_opt(opt, MAIF_OPT_CONVERT_FORCE) != 0;
    char *note = NULL;
    if ((bad || pin) && !force) {
        size_t nerr = 0;
        for (size_t i = 0; i < maif_report_count(rep); i++) {
            const maif_finding *f = maif_report_finding(rep, i);
            nerr += f && f->severity >= MAIF_SEV_ERROR;
        }
        if (bad)
            rc = maif_set_last_err(MAIF_EVERIFY, "%s: does not verify (%zu error%s; first: %s: %s); not converted",
                                   in_path, nerr, nerr == 1 ? "" : "s", bad->code ? bad->code : "error",
                                   bad->message ? bad->message : "");
        else
            rc = maif_set_last_err(MAIF_EVERIFY, "%s: %s; not converted", in_path, pin);
    } else if (orc) {
        rc = maif_set_last_err(orc, "%s", open_err); /* forced, but nothing is readable */
    } else {
        maif_info info;
        rc = maif_reader_info(r, &info);
        if (rc == MAIF_OK) rc = origin_note(rep, bad || pin, pin, &info, &note);
        if (rc == MAIF_OK) rc = write_out(r, to, out_path, key, note, (int)maif_opt(opt, MAIF_OPT_CONTENT_HASH));
    }
    maif_free(note);
    maif_reader_close(r);
    if (report) *report = rep;
    else maif_report_free(rep);
    return rc;
}
