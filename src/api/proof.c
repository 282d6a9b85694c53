/*
 * proof.c — the public maif_proof: gathering inclusion and consistency
 * proofs from a reader's image, their JSON form, and checking them without
 * the artifact.
 *
 * A proof holds, per commit it rests on, the bytes that make the commit's
 * signature checkable on their own: the record hash before the commit, the
 * commit's 112-byte header and its payload. The fields a reader of the JSON
 * wants (seq, blocks, merkle_root, signer, signature, record_hash) are
 * repeated beside them for legibility, and maif_proof_check requires each
 * to equal what the bytes say, so they cannot be edited apart.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "api/api.h"
#include "crypto/crypto.h"
#include "format/native/native_proof.h"
#include "util/alloc.h"
#include "util/common.h"
#include "util/options.h"

#define PROOF_INCLUSION_TAG   "maif-inclusion-v1"
#define PROOF_CONSISTENCY_TAG "maif-consistency-v1"
/* The largest commit payload: 64 segments, 64 frontier hashes and the
 * largest signature area (version 2, FORMAT.md §5.5.1). */
#define COMMIT_PAYLOAD_MAX (NC_FIXED + NAT_MAX_SEGMENTS * NC_SEG_SIZE + NAT_MAX_FRONTIER * 32 + NC_SIGAREA_MAX + NAT_TAIL_SIZE)

typedef struct pcommit {
    uint64_t seq, blocks;
    uint8_t merkle[32], signer[32], record_hash[32]; /* as claimed; checked against the bytes */
    int alg;                                         /* MAIF_SIG_*, as claimed */
    uint8_t sig[NAT_SIG_LEN_MAX], pk[NAT_SIG_PK_MAX];
    size_t sig_len, pk_len;
    uint8_t prev[32];                                         /* record hash before the commit */
    uint8_t hdr[NAT_REC_HEADER];
    uint8_t payload[COMMIT_PAYLOAD_MAX];
    size_t payload_size;
} pcommit;

struct maif_proof {
    int kind;                  /* MAIF_PROOF_* */
    uint64_t block;            /* inclusion: the leaf index */
    uint64_t size1, size2;     /* consistency: old and new tree sizes; inclusion: size2 only */
    uint8_t leaf_rh[32];       /* inclusion: the block's record hash */
    uint8_t root1[32], root2[32];
    uint32_t npath;            /* <= NAT_PROOF_MAX_CONSISTENCY (inclusion <= NAT_PROOF_MAX_INCLUSION) */
    uint8_t path[NAT_PROOF_MAX_CONSISTENCY][32];
    pcommit c[2];              /* [0] the old commit (consistency), [1] the commit proved against */
};

/* ------------------------------------------------------------ gathering */

typedef struct gather {
    nat_view v;
    nat_merkle fr; /* the frontier of the commit proved against */
    nat_proof_image im;
    const maif_reader *r;
    char err[400];
} gather;

static int gather_open(gather *g, const maif_reader *r, const char *what)
{
    memset(g, 0, sizeof *g);
    g->r = r;
    if (maif_crypto_init()) return maif_set_last_err(MAIF_ENOMEM, "crypto initialisation failed");
    if (maif_reader_format(r) != MAIF_FORMAT_NATIVE) {
        snprintf(g->err, sizeof g->err, "%s: proofs need a native artifact (this is MAIF 2.1; convert it first)", what);
        return maif_reader_fail(r, MAIF_EUNSUPPORTED, g->err);
    }
    const uint8_t *base;
    size_t size;
    maif_reader_image(r, &base, &size);
    int rc = nat_view_open(&g->v, base, size, g->err, sizeof g->err);
    if (rc) return maif_reader_fail(r, rc, g->err);
    g->im.v = &g->v;
    g->im.base = base;
    g->im.size = size;
    return MAIF_OK;
}

static int load_commit(gather *g, uint64_t seq, pcommit *pc)
{
    nat_commit_ref ref;
    int rc = nat_proof_commit(&g->v, g->im.base, g->im.size, seq, &ref, g->err, sizeof g->err);
    if (rc) return maif_reader_fail(g->r, rc, g->err);
    if (ref.payload_size > COMMIT_PAYLOAD_MAX) return maif_reader_fail(g->r, MAIF_EFORMAT, "commit payload too large");
    if (nat_merkle_load(&g->fr, ref.c.blocks, (const uint8_t(*)[32])ref.c.frontier, ref.c.nfrontier))
        return maif_reader_fail(g->r, MAIF_EFORMAT, "commit frontier does not match its block count");
    pc->seq = ref.c.seq;
    pc->blocks = ref.c.blocks;
    memcpy(pc->merkle, ref.c.merkle, 32);
    memcpy(pc->signer, ref.c.signer, 32);
    if (ref.c.sig_len > sizeof pc->sig || ref.c.pk_len > sizeof pc->pk)
        return maif_reader_fail(g->r, MAIF_EFORMAT, "commit signature area too large");
    pc->alg = ref.c.alg;
    memcpy(pc->sig, ref.c.sig, ref.c.sig_len);
    pc->sig_len = ref.c.sig_len;
    memcpy(pc->pk, ref.c.pk, ref.c.pk_len);
    pc->pk_len = ref.c.pk_len;
    memcpy(pc->record_hash, ref.c.record_hash, 32);
    memcpy(pc->prev, ref.prev_hash, 32);
    memcpy(pc->hdr, ref.hdr, NAT_REC_HEADER);
    memcpy(pc->payload, ref.payload, (size_t)ref.payload_size);
    pc->payload_size = (size_t)ref.payload_size;
    return MAIF_OK;
}

static int path_fail(gather *g, int rc)
{
    snprintf(g->err, sizeof g->err, "cannot read a block record hash for the proof (%s)", maif_strerror(rc));
    return maif_reader_fail(g->r, rc, g->err);
}

static int nodes_fail(gather *g)
{
    return maif_reader_fail(g->r, MAIF_EVERIFY,
                            "the artifact's Merkle nodes or blocks do not lead to the commit's signed root: it is "
                            "damaged (maif verify says where); no proof given");
}

int maif_reader_prove_inclusion(maif_reader *r, uint64_t block, uint64_t commit, maif_proof **out)
{
    if (!r || !out) return maif_set_last_err(MAIF_EINVAL, "maif_reader_prove_inclusion: NULL argument");
    *out = NULL;
    gather g;
    int rc = gather_open(&g, r, "prove");
    if (rc) return rc;
    maif_proof *p = maif_calloc(1, sizeof *p);
    if (!p) {
        rc = maif_reader_fail(r, MAIF_ENOMEM, "out of memory");
        goto done;
    }
    rc = load_commit(&g, commit == MAIF_COMMIT_LAST ? g.v.last.seq : commit, &p->c[1]);
    if (rc) goto done;
    if (block >= p->c[1].blocks) {
        snprintf(g.err, sizeof g.err, "block %llu is not in the tree of commit %llu (%llu blocks)",
                 (unsigned long long)block, (unsigned long long)p->c[1].seq, (unsigned long long)p->c[1].blocks);
        rc = maif_reader_fail(r, MAIF_ENOTFOUND, g.err);
        goto done;
    }
    p->kind = MAIF_PROOF_INCLUSION;
    p->block = block;
    p->size2 = p->c[1].blocks;
    memcpy(p->root2, p->c[1].merkle, 32);
    uint64_t off;
    rc = nat_view_block_offset(&g.v, g.im.base, block, &off);
    if (rc || off > g.im.size || g.im.size - off < NAT_REC_HEADER) {
        rc = path_fail(&g, MAIF_EFORMAT);
        goto done;
    }
    memcpy(p->leaf_rh, g.im.base + off + NR_RECORD_HASH, 32);
    nat_tree_src src = {nat_proof_image_leaf, nat_proof_image_node, &g.im, nat_proof_image_span};
    rc = nat_proof_inclusion_path_src(&src, &g.fr, block, p->size2, p->path, &p->npath);
    if (rc) {
        rc = path_fail(&g, rc);
    } else {
        /* the stored nodes are an index: a path they make must still lead to the signed root */
        uint8_t leaf[32];
        nat_merkle_leaf(p->leaf_rh, leaf);
        if (!nat_proof_check_inclusion(leaf, block, p->size2, (const uint8_t(*)[32])p->path, p->npath, p->root2))
            rc = nodes_fail(&g);
    }
done:
    nat_view_free(&g.v);
    if (rc) maif_free(p);
    else *out = p;
    return rc;
}

int maif_reader_prove_consistency(maif_reader *r, uint64_t from, uint64_t to, maif_proof **out)
{
    if (!r || !out) return maif_set_last_err(MAIF_EINVAL, "maif_reader_prove_consistency: NULL argument");
    *out = NULL;
    gather g;
    int rc = gather_open(&g, r, "prove");
    if (rc) return rc;
    maif_proof *p = maif_calloc(1, sizeof *p);
    if (!p) {
        rc = maif_reader_fail(r, MAIF_ENOMEM, "out of memory");
        goto done;
    }
    if (to == MAIF_COMMIT_LAST) to = g.v.last.seq;
    if (from > to) {
        snprintf(g.err, sizeof g.err, "commit %llu comes after commit %llu: nothing to prove",
                 (unsigned long long)from, (unsigned long long)to);
        rc = maif_reader_fail(r, MAIF_EINVAL, g.err);
        goto done;
    }
    rc = load_commit(&g, from, &p->c[0]);
    if (!rc) rc = load_commit(&g, to, &p->c[1]); /* last: g.fr is to's frontier */
    if (rc) goto done;
    p->kind = MAIF_PROOF_CONSISTENCY;
    p->size1 = p->c[0].blocks;
    p->size2 = p->c[1].blocks;
    memcpy(p->root1, p->c[0].merkle, 32);
    memcpy(p->root2, p->c[1].merkle, 32);
    if (p->size1 > p->size2) {
        rc = maif_reader_fail(r, MAIF_EFORMAT, "the older commit counts more blocks than the newer");
        goto done;
    }
    if (p->size1 > 0 && p->size1 < p->size2) {
        nat_tree_src src = {nat_proof_image_leaf, nat_proof_image_node, &g.im, nat_proof_image_span};
        rc = nat_proof_consistency_path_src(&src, &g.fr, p->size1, p->size2, p->path, &p->npath);
        if (rc) rc = path_fail(&g, rc);
        else if (!nat_proof_check_consistency(p->size1, p->size2, p->root1, p->root2, (const uint8_t(*)[32])p->path,
                                              p->npath))
            rc = nodes_fail(&g);
    }
done:
    nat_view_free(&g.v);
    if (rc) maif_free(p);
    else *out = p;
    return rc;
}

int maif_proof_kind(const maif_proof *p) { return p ? p->kind : 0; }

void maif_proof_free(maif_proof *p) { maif_free(p); }

/* ----------------------------------------------------------------- JSON */

static json_t *jhex(const uint8_t *b, size_t n)
{
    char *s = maif_malloc(2 * n + 1);
    if (!s) return NULL;
    maif_hex(b, n, s);
    json_t *j = json_string(s);
    maif_free(s);
    return j;
}

static json_t *commit_json(const pcommit *c)
{
    json_t *o = json_object();
    if (!o) return NULL;
    int bad = 0;
    bad |= json_object_set_new(o, "seq", json_integer((json_int_t)c->seq));
    bad |= json_object_set_new(o, "blocks", json_integer((json_int_t)c->blocks));
    bad |= json_object_set_new(o, "merkle_root", jhex(c->merkle, 32));
    bad |= json_object_set_new(o, "signer", jhex(c->signer, 32));
    bad |= json_object_set_new(o, "alg", json_string(maif_sig_alg_name(c->alg)));
    bad |= json_object_set_new(o, "public_key", jhex(c->pk, c->pk_len));
    bad |= json_object_set_new(o, "signature", jhex(c->sig, c->sig_len));
    bad |= json_object_set_new(o, "record_hash", jhex(c->record_hash, 32));
    bad |= json_object_set_new(o, "prev_record_hash", jhex(c->prev, 32));
    bad |= json_object_set_new(o, "header", jhex(c->hdr, NAT_REC_HEADER));
    bad |= json_object_set_new(o, "payload", jhex(c->payload, c->payload_size));
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

int maif_proof_json(const maif_proof *p, char *dst, size_t cap, size_t *len)
{
    if (!p || !len || (!dst && cap)) return maif_set_last_err(MAIF_EINVAL, "maif_proof_json: bad argument");
    json_t *o = json_object(), *path = json_array();
    int bad = !o || !path;
    for (uint32_t i = 0; !bad && i < p->npath; i++) bad |= json_array_append_new(path, jhex(p->path[i], 32));
    if (!bad) bad |= json_object_set_new(o, "path", path);
    else json_decref(path);
    if (!bad && p->kind == MAIF_PROOF_INCLUSION) {
        bad |= json_object_set_new(o, "proof", json_string(PROOF_INCLUSION_TAG));
        bad |= json_object_set_new(o, "block", json_integer((json_int_t)p->block));
        bad |= json_object_set_new(o, "tree_size", json_integer((json_int_t)p->size2));
        bad |= json_object_set_new(o, "leaf_record_hash", jhex(p->leaf_rh, 32));
        bad |= json_object_set_new(o, "root", jhex(p->root2, 32));
        bad |= json_object_set_new(o, "commit", commit_json(&p->c[1]));
    } else if (!bad) {
        bad |= json_object_set_new(o, "proof", json_string(PROOF_CONSISTENCY_TAG));
        bad |= json_object_set_new(o, "from_size", json_integer((json_int_t)p->size1));
        bad |= json_object_set_new(o, "to_size", json_integer((json_int_t)p->size2));
        bad |= json_object_set_new(o, "from_root", jhex(p->root1, 32));
        bad |= json_object_set_new(o, "to_root", jhex(p->root2, 32));
        bad |= json_object_set_new(o, "from_commit", commit_json(&p->c[0]));
        bad |= json_object_set_new(o, "to_commit", commit_json(&p->c[1]));
    }
    char *s = bad ? NULL : json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    if (!s) return maif_set_last_err(MAIF_ENOMEM, "out of memory");
    size_t n = strlen(s);
    *len = n;
    int rc = MAIF_OK;
    if (n + 1 > cap) rc = maif_set_last_err(MAIF_ELIMIT, "proof JSON needs %zu bytes", n + 1);
    else memcpy(dst, s, n + 1);
    json_malloc_t jm;
    json_free_t jf;
    json_get_alloc_funcs(&jm, &jf); /* json_dumps allocated through jansson's functions */
    jf(s);
    return rc;
}

/* --------------------------------------------------------------- parse */

static int want_u64(json_t *o, const char *ctx, const char *key, uint64_t *v)
{
    json_t *j = json_object_get(o, key);
    if (!json_is_integer(j) || json_integer_value(j) < 0)
        return maif_set_last_err(MAIF_EJSON, "proof: %s\"%s\" must be a non-negative integer", ctx, key);
    *v = (uint64_t)json_integer_value(j);
    return MAIF_OK;
}

static int want_hex(json_t *o, const char *ctx, const char *key, uint8_t *out, size_t n)
{
    json_t *j = json_object_get(o, key);
    if (!json_is_string(j) || json_string_length(j) != 2 * n || maif_unhex(json_string_value(j), out, n))
        return maif_set_last_err(MAIF_EJSON, "proof: %s\"%s\" must be %zu hex digits", ctx, key, 2 * n);
    return MAIF_OK;
}

/* A hex string of 2..2*max digits into out; *n receives the bytes. */
static int want_hexvar(json_t *o, const char *ctx, const char *key, uint8_t *out, size_t max, size_t *n)
{
    json_t *j = json_object_get(o, key);
    size_t len = json_is_string(j) ? json_string_length(j) : 0;
    if (!json_is_string(j) || len == 0 || len % 2 || len / 2 > max || maif_unhex(json_string_value(j), out, len / 2))
        return maif_set_last_err(MAIF_EJSON, "proof: %s\"%s\" must be an even number of hex digits, 2 to %zu", ctx,
                                 key, 2 * max);
    *n = len / 2;
    return MAIF_OK;
}

/* "alg", "public_key" and "signature". A proof made before other
 * algorithms were covered has neither of the first two: it is Ed25519,
 * and its key is the signer field. */
static int parse_sig(json_t *o, const char *ctx, pcommit *c)
{
    json_t *a = json_object_get(o, "alg");
    if (!a) {
        c->alg = MAIF_SIG_ED25519;
        if (json_object_get(o, "public_key"))
            return maif_set_last_err(MAIF_EJSON, "proof: %s\"public_key\" without \"alg\"", ctx);
        memcpy(c->pk, c->signer, 32);
        c->pk_len = 32;
    } else {
        const char *name = json_string_value(a);
        c->alg = !name                           ? 0
                 : strcmp(name, "ed25519") == 0  ? MAIF_SIG_ED25519
                 : strcmp(name, "rsa-pss") == 0  ? MAIF_SIG_RSA_PSS
                 : strcmp(name, "p256") == 0     ? MAIF_SIG_P256
                                                 : 0;
        if (!c->alg)
            return maif_set_last_err(MAIF_EJSON, "proof: %s\"alg\" must be \"ed25519\", \"rsa-pss\" or \"p256\"",
                                     ctx);
        int rc = want_hexvar(o, ctx, "public_key", c->pk, sizeof c->pk, &c->pk_len);
        if (rc) return rc;
    }
    return want_hexvar(o, ctx, "signature", c->sig, sizeof c->sig, &c->sig_len);
}

static int parse_commit(json_t *root, const char *key, pcommit *c)
{
    json_t *o = json_object_get(root, key);
    if (!json_is_object(o)) return maif_set_last_err(MAIF_EJSON, "proof: \"%s\" must be an object", key);
    char ctx[40];
    snprintf(ctx, sizeof ctx, "%s.", key);
    int rc = want_u64(o, ctx, "seq", &c->seq);
    if (!rc) rc = want_u64(o, ctx, "blocks", &c->blocks);
    if (!rc) rc = want_hex(o, ctx, "merkle_root", c->merkle, 32);
    if (!rc) rc = want_hex(o, ctx, "signer", c->signer, 32);
    if (!rc) rc = parse_sig(o, ctx, c);
    if (!rc) rc = want_hex(o, ctx, "record_hash", c->record_hash, 32);
    if (!rc) rc = want_hex(o, ctx, "prev_record_hash", c->prev, 32);
    if (!rc) rc = want_hex(o, ctx, "header", c->hdr, NAT_REC_HEADER);
    if (rc) return rc;
    json_t *pl = json_object_get(o, "payload");
    size_t n = json_is_string(pl) ? json_string_length(pl) : 0;
    if (!json_is_string(pl) || n % 2 || n / 2 > COMMIT_PAYLOAD_MAX ||
        maif_unhex(json_string_value(pl), c->payload, n / 2))
        return maif_set_last_err(MAIF_EJSON, "proof: %s\"payload\" must be an even number of hex digits, at most %d",
                                 ctx, 2 * COMMIT_PAYLOAD_MAX);
    c->payload_size = n / 2;
    return MAIF_OK;
}

static int parse_into(maif_proof *p, json_t *o)
{
    if (!json_is_object(o)) return maif_set_last_err(MAIF_EJSON, "proof: not a JSON object");
    const char *tag = json_string_value(json_object_get(o, "proof"));
    if (!tag || (strcmp(tag, PROOF_INCLUSION_TAG) && strcmp(tag, PROOF_CONSISTENCY_TAG)))
        return maif_set_last_err(MAIF_EJSON, "proof: \"proof\" must be \"%s\" or \"%s\"", PROOF_INCLUSION_TAG,
                                 PROOF_CONSISTENCY_TAG);
    p->kind = strcmp(tag, PROOF_INCLUSION_TAG) == 0 ? MAIF_PROOF_INCLUSION : MAIF_PROOF_CONSISTENCY;
    json_t *path = json_object_get(o, "path");
    size_t max = p->kind == MAIF_PROOF_INCLUSION ? NAT_PROOF_MAX_INCLUSION : NAT_PROOF_MAX_CONSISTENCY;
    if (!json_is_array(path) || json_array_size(path) > max)
        return maif_set_last_err(MAIF_EJSON, "proof: \"path\" must be an array of at most %zu hashes", max);
    p->npath = (uint32_t)json_array_size(path);
    for (uint32_t i = 0; i < p->npath; i++) {
        json_t *h = json_array_get(path, i);
        if (!json_is_string(h) || json_string_length(h) != 64 || maif_unhex(json_string_value(h), p->path[i], 32))
            return maif_set_last_err(MAIF_EJSON, "proof: \"path\"[%u] must be 64 hex digits", i);
    }
    int rc;
    if (p->kind == MAIF_PROOF_INCLUSION) {
        rc = want_u64(o, "", "block", &p->block);
        if (!rc) rc = want_u64(o, "", "tree_size", &p->size2);
        if (!rc) rc = want_hex(o, "", "leaf_record_hash", p->leaf_rh, 32);
        if (!rc) rc = want_hex(o, "", "root", p->root2, 32);
        if (!rc) rc = parse_commit(o, "commit", &p->c[1]);
        return rc;
    }
    rc = want_u64(o, "", "from_size", &p->size1);
    if (!rc) rc = want_u64(o, "", "to_size", &p->size2);
    if (!rc) rc = want_hex(o, "", "from_root", p->root1, 32);
    if (!rc) rc = want_hex(o, "", "to_root", p->root2, 32);
    if (!rc) rc = parse_commit(o, "from_commit", &p->c[0]);
    if (!rc) rc = parse_commit(o, "to_commit", &p->c[1]);
    return rc;
}

int maif_proof_parse(maif_proof **out, const char *json, size_t len)
{
    if (!out || (!json && len)) return maif_set_last_err(MAIF_EINVAL, "maif_proof_parse: NULL argument");
    *out = NULL;
    if (len > MAIF_PROOF_JSON_MAX)
        return maif_set_last_err(MAIF_ELIMIT, "proof: %zu bytes, over the limit of %d", len, MAIF_PROOF_JSON_MAX);
    json_error_t je;
    json_t *o = json_loadb(json ? json : "", len, JSON_REJECT_DUPLICATES, &je);
    if (!o) return maif_set_last_err(MAIF_EJSON, "proof: not valid JSON (line %d: %s)", je.line, je.text);
    maif_proof *p = maif_calloc(1, sizeof *p);
    if (!p) {
        json_decref(o);
        return maif_set_last_err(MAIF_ENOMEM, "out of memory");
    }
    int rc = parse_into(p, o);
    json_decref(o);
    if (rc) {
        maif_free(p);
        return rc;
    }
    *out = p;
    return MAIF_OK;
}

/* --------------------------------------------------------------- check */

static int check_commit(const pcommit *pc, const char *name, const maif_options *opt)
{
    nat_commit c;
    char err[300];
    int rc = nat_proof_commit_check(pc->prev, pc->hdr, pc->payload, pc->payload_size, &c, err, sizeof err);
    if (rc) return maif_set_last_err(MAIF_EVERIFY, "%s: %s", name, err);
    const char *field = c.seq != pc->seq                            ? "seq"
                        : c.blocks != pc->blocks                    ? "blocks"
                        : memcmp(c.merkle, pc->merkle, 32)          ? "merkle_root"
                        : memcmp(c.signer, pc->signer, 32)          ? "signer"
                        : (int)c.alg != pc->alg                     ? "alg"
                        : c.pk_len != pc->pk_len || memcmp(c.pk, pc->pk, pc->pk_len) ? "public_key"
                        : c.sig_len != pc->sig_len || memcmp(c.sig, pc->sig, pc->sig_len) ? "signature"
                        : memcmp(c.record_hash, pc->record_hash, 32) ? "record_hash"
                                                                    : NULL;
    if (field) return maif_set_last_err(MAIF_EVERIFY, "%s: \"%s\" does not match the commit's bytes", name, field);
    size_t nk = 0;
    const uint8_t *keys = opt ? maif_opt_trusted(opt, &nk) : NULL;
    if (nk) {
        size_t i = 0;
        while (i < nk && memcmp(keys + 32 * i, c.signer, 32) != 0) i++;
        if (i == nk) {
            char hex[65];
            return maif_set_last_err(MAIF_EVERIFY, "%s: signer %s is not pinned", name, maif_hex(c.signer, 32, hex));
        }
    }
    return MAIF_OK;
}

int maif_proof_check(const maif_proof *p, const maif_options *opt)
{
    if (!p) return maif_set_last_err(MAIF_EINVAL, "maif_proof_check: NULL argument");
    if (maif_crypto_init()) return maif_set_last_err(MAIF_ENOMEM, "crypto initialisation failed");
    const pcommit *c1 = &p->c[1];
    if (p->kind == MAIF_PROOF_INCLUSION) {
        int rc = check_commit(c1, "commit", opt);
        if (rc) return rc;
        if (p->size2 != c1->blocks)
            return maif_set_last_err(MAIF_EVERIFY, "tree_size %llu is not the commit's %llu blocks",
                                     (unsigned long long)p->size2, (unsigned long long)c1->blocks);
        if (memcmp(p->root2, c1->merkle, 32))
            return maif_set_last_err(MAIF_EVERIFY, "root is not the commit's Merkle root");
        if (p->block >= p->size2)
            return maif_set_last_err(MAIF_EVERIFY, "block %llu is outside a tree of %llu blocks",
                                     (unsigned long long)p->block, (unsigned long long)p->size2);
        uint8_t leaf[32];
        nat_merkle_leaf(p->leaf_rh, leaf);
        if (!nat_proof_check_inclusion(leaf, p->block, p->size2, (const uint8_t(*)[32])p->path, p->npath, p->root2))
            return maif_set_last_err(MAIF_EVERIFY,
                                     "audit path (%u hashes) does not lead from block %llu to the commit's Merkle root",
                                     p->npath, (unsigned long long)p->block);
        return MAIF_OK;
    }
    if (p->kind != MAIF_PROOF_CONSISTENCY) return maif_set_last_err(MAIF_EINVAL, "maif_proof_check: not a proof");
    const pcommit *c0 = &p->c[0];
    int rc = check_commit(c0, "from_commit", opt);
    if (!rc) rc = check_commit(c1, "to_commit", opt);
    if (rc) return rc;
    if (c0->seq > c1->seq)
        return maif_set_last_err(MAIF_EVERIFY, "from_commit %llu comes after to_commit %llu",
                                 (unsigned long long)c0->seq, (unsigned long long)c1->seq);
    if (p->size1 != c0->blocks || p->size2 != c1->blocks)
        return maif_set_last_err(MAIF_EVERIFY, "from_size/to_size (%llu/%llu) are not the commits' block counts",
                                 (unsigned long long)p->size1, (unsigned long long)p->size2);
    if (memcmp(p->root1, c0->merkle, 32) || memcmp(p->root2, c1->merkle, 32))
        return maif_set_last_err(MAIF_EVERIFY, "from_root/to_root are not the commits' Merkle roots");
    if (!nat_proof_check_consistency(p->size1, p->size2, p->root1, p->root2, (const uint8_t(*)[32])p->path, p->npath))
        return maif_set_last_err(MAIF_EVERIFY,
                                 "consistency path (%u hashes) does not prove a tree of %llu blocks a prefix of %llu",
                                 p->npath, (unsigned long long)p->size1, (unsigned long long)p->size2);
    return MAIF_OK;
}

/* ------------------------------------------------------ bare RFC checks */

int maif_merkle_check_inclusion(const uint8_t leaf_hash[MAIF_HASH_BYTES], uint64_t index, uint64_t size,
                                const uint8_t *path, size_t len, const uint8_t root[MAIF_HASH_BYTES])
{
    if (!leaf_hash || !root || (!path && len) || len > NAT_PROOF_MAX_CONSISTENCY)
        return maif_set_last_err(MAIF_EINVAL, "maif_merkle_check_inclusion: bad argument");
    if (maif_crypto_init()) return maif_set_last_err(MAIF_ENOMEM, "crypto initialisation failed");
    if (!nat_proof_check_inclusion(leaf_hash, index, size, (const uint8_t(*)[32])path, (uint32_t)len, root))
        return maif_set_last_err(MAIF_EVERIFY, "inclusion proof of leaf %llu in a tree of %llu does not check",
                                 (unsigned long long)index, (unsigned long long)size);
    return MAIF_OK;
}

int maif_merkle_check_consistency(uint64_t size1, uint64_t size2, const uint8_t root1[MAIF_HASH_BYTES],
                                  const uint8_t root2[MAIF_HASH_BYTES], const uint8_t *path, size_t len)
{
    if (!root1 || !root2 || (!path && len) || len > NAT_PROOF_MAX_CONSISTENCY)
        return maif_set_last_err(MAIF_EINVAL, "maif_merkle_check_consistency: bad argument");
    if (maif_crypto_init()) return maif_set_last_err(MAIF_ENOMEM, "crypto initialisation failed");
    if (!nat_proof_check_consistency(size1, size2, root1, root2, (const uint8_t(*)[32])path, (uint32_t)len))
        return maif_set_last_err(MAIF_EVERIFY, "consistency proof from %llu to %llu leaves does not check",
                                 (unsigned long long)size1, (unsigned long long)size2);
    return MAIF_OK;
}
