/*
 * model_use.c — USE-lite: loads the TF.js graph model (model.json's
 * weightsManifest and the float32 shards) and runs its forward pass.
 *
 * What the graph computes (read from dist/model.json; docs/EMBEDDERS.md
 * has the op-by-op account), per sentence of T <= 128 token ids:
 *   x    = 2 * E[id] + timing(pos)           E: [V, d0]; the graph adds the
 *          embedding once in Encode/Scatter and again in AddTimingSignal;
 *          timing = [sin(pos * inv), cos(pos * inv)] with inv from the model
 *   layer 0 (width d0 in, d1 out):
 *     r  = x W_dense + b                     (AdjustResidualInput)
 *     h  = LN(x); q,k,v = split(h W_qkv + b); 4 heads of d0/4
 *     x  = concat_heads(softmax(q s k^T) v) W_o + b + r
 *     x  = x + W2 relu(W1 LN(x) + b1) + b2   (FFN)
 *   layer 1 (width d1): the same without the residual projection
 *   y    = l2_normalize(tanh(mean_t(x) W_t + b_t))
 *          (the last FFN's W2 is linear, so it runs on the mean of the
 *          hidden rows: one row a sentence instead of one a token)
 * LN is layer norm with epsilon from the graph (1e-6). Padding never takes
 * part: every sentence attends only to its own tokens.
 *
 * The dense layers are matrix products over all tokens of a batch at once
 * (use_gemm.c: cblas_sgemm from OpenBLAS, which picks AVX2/AVX-512 kernels
 * at run time, or for few rows an AVX2 or AVX-512 kernel over weights
 * packed at load time; those products are >95% of the arithmetic);
 * attention, layer norm and relu go through use_gemm.c's vector loops.
 */
#include "semantic/model_use.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "semantic/use_gemm.h"
#include "semantic/use_tokenizer.h"
#include "util/alloc.h"
#include "util/common.h"

#define PA "module_apply_default/Encoder_en/KonaTransformer/"
#define PM "module/Encoder_en/KonaTransformer/"
#define NLAYERS 2
/* tokens of one batch pass (bounds the scratch memory: ~40 KB a token) */
#define BATCH_TOKENS 1024
/* sentences of one batch pass */
#define MAX_SENTS 64

typedef struct {
    size_t din, heads, depth, ffn;
    float qscale;
    const float *ln_s, *ln_b, *b_qkv, *b_o;
    const float *fln_s, *fln_b, *b1, *b2;
    const float *b_res;  /* layer 0 only: din -> d1 */
    use_matrix w_qkv, w_o, w1, w2, w_res;
} use_layer;

struct sem_use {
    use_tokenizer *tok;
    float *weights;       /* all tensors, 4-byte aligned copies */
    size_t nvocab_rows, d0, d1, dout, maxlen;
    float ln_eps, l2_eps;
    const float *emb, *inv_timescale, *b_t;
    use_matrix w_t;
    int simd;             /* small batches through the packed kernel */
    int isa;              /* vector loops: use_gemm_isa() if simd, else USE_ISA_NONE */
    use_layer layer[NLAYERS];
    /* scratch, grown on demand */
    float *scratch;
    size_t scratch_tokens;
    int32_t *ids;
    size_t ids_cap;
};

/* ---- loading ------------------------------------------------------------ */

typedef struct {
    const char *name;
    size_t ndim;
    size_t shape[4];
    int is_int;
    size_t offset;  /* in 4-byte elements */
    size_t count;
} tensor_info;

typedef struct {
    tensor_info *t;
    size_t n;
    const uint32_t *raw; /* weights as 32-bit words */
} manifest;

static const tensor_info *find_tensor(const manifest *mf, const char *name)
{
    for (size_t i = 0; i < mf->n; i++)
        if (strcmp(mf->t[i].name, name) == 0) return &mf->t[i];
    return NULL;
}

/* Finds a float tensor of the given shape (ndim dims; 0 in want = any,
 * written back). */
static int get_f32(const manifest *mf, const char *name, size_t ndim, size_t *want, const tensor_info **out)
{
    const tensor_info *t = find_tensor(mf, name);
    if (!t) return maif_set_last_err(MAIF_EFORMAT, "model.json: no tensor %s", name);
    if (t->is_int) return maif_set_last_err(MAIF_EFORMAT, "model.json: tensor %s is not float32", name);
    if (t->ndim != ndim) return maif_set_last_err(MAIF_EFORMAT, "model.json: tensor %s has %zu dimensions, expected %zu", name, t->ndim, ndim);
    for (size_t i = 0; i < ndim; i++) {
        if (want[i] && t->shape[i] != want[i])
            return maif_set_last_err(MAIF_EFORMAT, "model.json: tensor %s: dimension %zu is %zu, expected %zu", name, i, t->shape[i], want[i]);
        if (t->shape[i] == 0 || t->shape[i] > SEM_USE_MAX_DIM * 8)
            return maif_set_last_err(MAIF_ELIMIT, "model.json: tensor %s: dimension %zu is %zu", name, i, t->shape[i]);
        want[i] = t->shape[i];
    }
    *out = t;
    return 0;
}

static int get_scalar(const manifest *mf, const char *name, int is_int, double *v)
{
    const tensor_info *t = find_tensor(mf, name);
    if (!t) return maif_set_last_err(MAIF_EFORMAT, "model.json: no tensor %s", name);
    if (t->count != 1 || t->is_int != is_int) return maif_set_last_err(MAIF_EFORMAT, "model.json: tensor %s is not a %s scalar", name, is_int ? "int32" : "float32");
    uint32_t w = mf->raw[t->offset];
    if (is_int) *v = (double)(int32_t)w;
    else {
        float f;
        memcpy(&f, &w, 4);
        *v = f;
    }
    if (!isfinite(*v)) return maif_set_last_err(MAIF_EFORMAT, "model.json: tensor %s is not finite", name);
    return 0;
}

static int bad_dim(size_t v) { return v == 0 || v > SEM_USE_MAX_DIM; }

/* Reads weightsManifest into mf (names borrowed from root). Checks the
 * total against weights_len. */
static int parse_manifest(json_t *root, size_t weights_len, manifest *mf, json_t **paths_out)
{
    json_t *wm = json_object_get(root, "weightsManifest");
    if (!json_is_array(wm) || json_array_size(wm) == 0 || json_array_size(wm) > SEM_USE_MAX_SHARDS)
        return maif_set_last_err(MAIF_EFORMAT, "model.json: weightsManifest missing or not a (small) array");
    size_t total = 0;
    for (size_t g = 0; g < json_array_size(wm); g++) {
        json_t *ws = json_object_get(json_array_get(wm, g), "weights");
        if (!json_is_array(ws)) return maif_set_last_err(MAIF_EFORMAT, "model.json: weightsManifest[%zu].weights is not an array", g);
        total += json_array_size(ws);
    }
    if (total == 0 || total > 4096) return maif_set_last_err(MAIF_ELIMIT, "model.json: %zu tensors (limit 4096)", total);
    mf->t = maif_calloc(total, sizeof *mf->t);
    if (!mf->t) return maif_set_last_err(MAIF_ENOMEM, "out of memory");
    uint64_t off = 0;  /* bytes */
    size_t npaths = 0;
    for (size_t g = 0; g < json_array_size(wm); g++) {
        json_t *grp = json_array_get(wm, g), *ws = json_object_get(grp, "weights");
        json_t *paths = json_object_get(grp, "paths");
        if (!json_is_array(paths) || json_array_size(paths) == 0) return maif_set_last_err(MAIF_EFORMAT, "model.json: weightsManifest[%zu].paths missing", g);
        npaths += json_array_size(paths);
        if (npaths > SEM_USE_MAX_SHARDS) return maif_set_last_err(MAIF_ELIMIT, "model.json: more than %d shards", SEM_USE_MAX_SHARDS);
        if (paths_out && g == 0) *paths_out = paths;
        for (size_t i = 0; i < json_array_size(ws); i++) {
            json_t *w = json_array_get(ws, i);
            const char *name = json_string_value(json_object_get(w, "name"));
            const char *dtype = json_string_value(json_object_get(w, "dtype"));
            json_t *shape = json_object_get(w, "shape");
            if (!name || !dtype || !json_is_array(shape))
                return maif_set_last_err(MAIF_EFORMAT, "model.json: weight %zu: name, dtype or shape missing", mf->n);
            if (json_object_get(w, "quantization"))
                return maif_set_last_err(MAIF_EUNSUPPORTED, "model.json: weight %s is quantized (not supported)", name);
            tensor_info *t = &mf->t[mf->n];
            t->name = name;
            if (strcmp(dtype, "float32") == 0) t->is_int = 0;
            else if (strcmp(dtype, "int32") == 0) t->is_int = 1;
            else return maif_set_last_err(MAIF_EUNSUPPORTED, "model.json: weight %s has dtype %s", name, dtype);
            t->ndim = json_array_size(shape);
            if (t->ndim > 4) return maif_set_last_err(MAIF_EFORMAT, "model.json: weight %s has %zu dimensions", name, t->ndim);
            uint64_t cnt = 1;
            for (size_t d = 0; d < t->ndim; d++) {
                json_t *v = json_array_get(shape, d);
                if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > (json_int_t)SEM_USE_MAX_WEIGHT_BYTES)
                    return maif_set_last_err(MAIF_EFORMAT, "model.json: weight %s: bad dimension", name);
                t->shape[d] = (size_t)json_integer_value(v);
                if (!mul_ok(cnt, t->shape[d], &cnt) || cnt > SEM_USE_MAX_WEIGHT_BYTES / 4)
                    return maif_set_last_err(MAIF_ELIMIT, "model.json: weight %s is too large", name);
            }
            t->count = (size_t)cnt;
            t->offset = (size_t)(off / 4);
            off += cnt * 4;
            if (off > SEM_USE_MAX_WEIGHT_BYTES) return maif_set_last_err(MAIF_ELIMIT, "model.json: weights exceed %u bytes", SEM_USE_MAX_WEIGHT_BYTES);
            mf->n++;
        }
    }
    if (weights_len != SIZE_MAX && off != weights_len)
        return maif_set_last_err(MAIF_EFORMAT, "weights: %zu bytes, model.json describes %llu", weights_len, (unsigned long long)off);
    return 0;
}

static int load_layer(sem_use *m, const manifest *mf, int L, size_t din)
{
    use_layer *ly = &m->layer[L];
    char nm[512];
    const tensor_info *t;
    size_t s1[1], s2[2], s4[4];
    int rc;
    ly->din = din;
#define F32(field, fmt, nd, shp, ...) do { \
        snprintf(nm, sizeof nm, fmt, L); \
        if ((rc = get_f32(mf, nm, nd, shp, &t))) return rc; \
        ly->field = (const float *)(m->weights + t->offset); } while (0)
#define MAT(field, fmt, nd, shp, rows, cols) do { \
        snprintf(nm, sizeof nm, fmt, L); \
        if ((rc = get_f32(mf, nm, nd, shp, &t))) return rc; \
        if (use_matrix_init(&ly->field, m->weights + t->offset, rows, cols)) return maif_set_last_err(MAIF_ENOMEM, "out of memory"); } while (0)
    s1[0] = din; F32(ln_s, PA "Encode/Layer_%d/TransformerLayer/layer_prepostprocess/layer_norm/layer_norm_scale/ConcatPartitions/concat", 1, s1);
    s1[0] = din; F32(ln_b, PA "Encode/Layer_%d/TransformerLayer/layer_prepostprocess/layer_norm/layer_norm_bias/ConcatPartitions/concat", 1, s1);
    s4[0] = 1; s4[1] = 1; s4[2] = din; s4[3] = 3 * din;
    MAT(w_qkv, PM "Encode/Layer_%d/TransformerLayer/MultiheadAttention/qkv_transform_single/kernel/part_0", 4, s4, din, 3 * din);
    s1[0] = 3 * din; F32(b_qkv, PA "Encode/Layer_%d/TransformerLayer/MultiheadAttention/qkv_transform_single/bias/ConcatPartitions/concat", 1, s1);
    s4[0] = 1; s4[1] = 1; s4[2] = din; s4[3] = m->d1;
    MAT(w_o, PM "Encode/Layer_%d/TransformerLayer/MultiheadAttention/output_transform_single/kernel/part_0", 4, s4, din, m->d1);
    s1[0] = m->d1; F32(b_o, PA "Encode/Layer_%d/TransformerLayer/MultiheadAttention/output_transform_single/bias/ConcatPartitions/concat", 1, s1);
    s1[0] = m->d1; F32(fln_s, PA "Encode/Layer_%d/TransformerLayer/FFN/layer_prepostprocess/layer_norm/layer_norm_scale/ConcatPartitions/concat", 1, s1);
    s1[0] = m->d1; F32(fln_b, PA "Encode/Layer_%d/TransformerLayer/FFN/layer_prepostprocess/layer_norm/layer_norm_bias/ConcatPartitions/concat", 1, s1);
    s2[0] = m->d1; s2[1] = 0;
    snprintf(nm, sizeof nm, PA "Encode/TransformerStack/Layer_%d/TransformerLayer/FFN/conv1/Tensordot/Reshape_1", L);
    if ((rc = get_f32(mf, nm, 2, s2, &t))) return rc;
    ly->ffn = s2[1];
    if (bad_dim(ly->ffn)) return maif_set_last_err(MAIF_ELIMIT, "model.json: FFN width %zu", ly->ffn);
    if (use_matrix_init(&ly->w1, m->weights + t->offset, m->d1, ly->ffn)) return maif_set_last_err(MAIF_ENOMEM, "out of memory");
    s1[0] = ly->ffn; F32(b1, PA "Encode/Layer_%d/TransformerLayer/FFN/conv1/bias/ConcatPartitions/concat", 1, s1);
    s2[0] = ly->ffn; s2[1] = m->d1; MAT(w2, PA "Encode/TransformerStack/Layer_%d/TransformerLayer/FFN/conv2/Tensordot/Reshape_1", 2, s2, ly->ffn, m->d1);
    s1[0] = m->d1; F32(b2, PA "Encode/Layer_%d/TransformerLayer/FFN/conv2/bias/ConcatPartitions/concat", 1, s1);
    if (L == 0) {
        s2[0] = din; s2[1] = m->d1; MAT(w_res, PA "Encode/Layer_%d/TransformerLayer/dense/kernel/ConcatPartitions/concat", 2, s2, din, m->d1);
        s1[0] = m->d1; F32(b_res, PA "Encode/Layer_%d/TransformerLayer/dense/bias/ConcatPartitions/concat", 1, s1);
    }
#undef F32
#undef MAT
    double v;
    snprintf(nm, sizeof nm, PA "Encode/TransformerStack/Layer_%d/TransformerLayer/MultiheadAttention/split_heads/split_last_dimension/Reshape/shape/3", L);
    if ((rc = get_scalar(mf, nm, 1, &v))) return rc;
    if (v < 1 || v > (double)din || din % (size_t)v) return maif_set_last_err(MAIF_EFORMAT, "model.json: layer %d: head depth %g does not divide %zu", L, v, din);
    ly->depth = (size_t)v;
    ly->heads = din / ly->depth;
    snprintf(nm, sizeof nm, PA "Encode/TransformerStack/Layer_%d/TransformerLayer/MultiheadAttention/mul/y", L);
    if ((rc = get_scalar(mf, nm, 0, &v))) return rc;
    ly->qscale = (float)v;
    return 0;
}

static int load_model(sem_use *m, const manifest *mf)
{
    const tensor_info *t;
    size_t s1[1], s2[2];
    int rc;
    double v;
    s2[0] = 0; s2[1] = 0;
    if ((rc = get_f32(mf, "module/Embeddings_en", 2, s2, &t))) return rc;
    m->nvocab_rows = s2[0];
    m->d0 = s2[1];
    m->emb = m->weights + t->offset;
    if (bad_dim(m->d0) || m->d0 % 2) return maif_set_last_err(MAIF_EFORMAT, "model.json: embedding width %zu", m->d0);
    s2[0] = 1; s2[1] = m->d0 / 2;
    if ((rc = get_f32(mf, PA "Encode/TransformerStack/Layer_0/AddTimingSignal/TimingSignal/ExpandDims_1", 2, s2, &t))) return rc;
    m->inv_timescale = m->weights + t->offset;
    s2[0] = m->d0; s2[1] = 0;
    if ((rc = get_f32(mf, PA "Encode/Layer_0/TransformerLayer/dense/kernel/ConcatPartitions/concat", 2, s2, &t))) return rc;
    m->d1 = s2[1];
    if (bad_dim(m->d1)) return maif_set_last_err(MAIF_ELIMIT, "model.json: width %zu", m->d1);
    if ((rc = load_layer(m, mf, 0, m->d0)) || (rc = load_layer(m, mf, 1, m->d1))) return rc;
    s2[0] = m->d1; s2[1] = 0;
    if ((rc = get_f32(mf, "module/Encoder_en/hidden_layers/tanh_layer_0/weights", 2, s2, &t))) return rc;
    m->dout = s2[1];
    if (bad_dim(m->dout)) return maif_set_last_err(MAIF_ELIMIT, "model.json: output width %zu", m->dout);
    if (use_matrix_init(&m->w_t, m->weights + t->offset, m->d1, m->dout)) return maif_set_last_err(MAIF_ENOMEM, "out of memory");
    s1[0] = m->dout;
    if ((rc = get_f32(mf, "module/Encoder_en/hidden_layers/tanh_layer_0/bias", 1, s1, &t))) return rc;
    m->b_t = m->weights + t->offset;
    if ((rc = get_scalar(mf, PA "Encode/TransformerStack/Layer_1/TransformerLayer/FFN/layer_prepostprocess/layer_norm/Cast/x", 0, &v))) return rc;
    m->ln_eps = (float)v;
    if ((rc = get_scalar(mf, "module_apply_default/Encoder_en/hidden_layers/l2_normalize/Maximum/y", 0, &v))) return rc;
    m->l2_eps = (float)v;
    if ((rc = get_scalar(mf, PA "ClipToMaxLength/Less/y", 1, &v))) return rc;
    if (v < 1 || v > SEM_USE_MAX_TOKENS) return maif_set_last_err(MAIF_ELIMIT, "model.json: maximum length %g (limit %d)", v, SEM_USE_MAX_TOKENS);
    m->maxlen = (size_t)v;
    if (m->ln_eps < 0 || m->l2_eps < 0) return maif_set_last_err(MAIF_EFORMAT, "model.json: negative epsilon");
    return 0;
}

static int check_topology(json_t *root)
{
    /* The forward pass is fixed C code; the graph must be the one it was
     * written from. Its output node names that graph. */
    json_t *nodes = json_object_get(json_object_get(root, "modelTopology"), "node");
    if (!json_is_array(nodes)) return maif_set_last_err(MAIF_EFORMAT, "model.json: modelTopology.node missing");
    for (size_t i = 0; i < json_array_size(nodes); i++) {
        const char *n = json_string_value(json_object_get(json_array_get(nodes, i), "name"));
        if (n && strcmp(n, "module_apply_default/Encoder_en/hidden_layers/l2_normalize") == 0) return 0;
    }
    return maif_set_last_err(MAIF_EFORMAT, "model.json: not the USE-lite graph (no l2_normalize output node)");
}

static int open_common(sem_use **out, json_t *root, const char *vocab_json, size_t vocab_len, const uint8_t *weights, size_t wlen)
{
    manifest mf = { 0 };
    sem_use *m = NULL;
    int rc;
    if ((rc = check_topology(root))) goto fail;
    if ((rc = parse_manifest(root, wlen, &mf, NULL))) goto fail;
    m = maif_calloc(1, sizeof *m);
    if (!m || !(m->weights = maif_malloc(wlen ? wlen : 4))) { rc = maif_set_last_err(MAIF_ENOMEM, "out of memory"); goto fail; }
    m->simd = 1;
    m->isa = use_gemm_isa();
    memcpy(m->weights, weights, wlen);
    mf.raw = (const uint32_t *)m->weights;
    if ((rc = load_model(m, &mf))) goto fail;
    /* float weights must be finite: a NaN would poison every vector silently */
    for (size_t i = 0; i < mf.n; i++) {
        if (mf.t[i].is_int) continue;
        const float *f = m->weights + mf.t[i].offset;
        for (size_t j = 0; j < mf.t[i].count; j++)
            if (!isfinite(f[j])) { rc = maif_set_last_err(MAIF_EFORMAT, "model.json: tensor %s holds a NaN or infinity", mf.t[i].name); goto fail; }
    }
    if ((rc = use_tokenizer_new(&m->tok, vocab_json, vocab_len, 6))) goto fail;
    if (use_tokenizer_size(m->tok) > m->nvocab_rows) {
        rc = maif_set_last_err(MAIF_EFORMAT, "vocab.json has %zu pieces, the embedding table %zu rows", use_tokenizer_size(m->tok), m->nvocab_rows);
        goto fail;
    }
    maif_free(mf.t);
    *out = m;
    return 0;
fail:
    maif_free(mf.t);
    sem_use_close(m);
    return rc;
}

int sem_use_open_mem(sem_use **out, const char *model_json, size_t model_len, const char *vocab_json,
                     size_t vocab_len, const uint8_t *weights, size_t weights_len)
{
    if (!out) return maif_set_last_err(MAIF_EINVAL, "sem_use_open_mem: NULL argument");
    *out = NULL;
    if (!model_json || !vocab_json || (!weights && weights_len)) return maif_set_last_err(MAIF_EINVAL, "sem_use_open_mem: NULL argument");
    if (model_len > SEM_USE_MAX_JSON_BYTES) return maif_set_last_err(MAIF_ELIMIT, "model.json: %zu bytes, limit %u", model_len, SEM_USE_MAX_JSON_BYTES);
    if (weights_len > SEM_USE_MAX_WEIGHT_BYTES) return maif_set_last_err(MAIF_ELIMIT, "weights: %zu bytes, limit %u", weights_len, SEM_USE_MAX_WEIGHT_BYTES);
    json_error_t jerr;
    json_t *root = json_loadb(model_json, model_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) return maif_set_last_err(MAIF_EFORMAT, "model.json: line %d: %s", jerr.line, jerr.text);
    int rc = open_common(out, root, vocab_json, vocab_len, weights, weights_len);
    json_decref(root);
    return rc;
}

/* Reads a whole file of at most max bytes into a maif_malloc'ed buffer. */
static int read_file(const char *path, size_t max, uint8_t **data, size_t *len)
{
    *data = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return maif_set_last_err(errno == ENOENT ? MAIF_ENOTFOUND : MAIF_EIO, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) { fclose(f); return maif_set_last_err(MAIF_EIO, "%s: not a regular file", path); }
    if ((uint64_t)st.st_size > max) { fclose(f); return maif_set_last_err(MAIF_ELIMIT, "%s: %lld bytes, limit %zu", path, (long long)st.st_size, max); }
    size_t n = (size_t)st.st_size;
    uint8_t *b = maif_malloc(n ? n : 1);
    if (!b) { fclose(f); return maif_set_last_err(MAIF_ENOMEM, "out of memory"); }
    if (n && fread(b, 1, n, f) != n) { fclose(f); maif_free(b); return maif_set_last_err(MAIF_EIO, "%s: short read", path); }
    fclose(f);
    *data = b;
    *len = n;
    return 0;
}

int sem_use_open(sem_use **out, const char *model_dir)
{
    if (!out) return maif_set_last_err(MAIF_EINVAL, "sem_use_open: NULL argument");
    *out = NULL;
    if (!model_dir) return maif_set_last_err(MAIF_EINVAL, "sem_use_open: NULL argument");
    char dir[4096], path[4096 + 300];
    struct stat st;
    snprintf(dir, sizeof dir, "%s", model_dir);
    snprintf(path, sizeof path, "%s/model.json", dir);
    if (stat(path, &st) != 0) {
        snprintf(dir, sizeof dir, "%s/dist", model_dir);
        snprintf(path, sizeof path, "%s/model.json", dir);
        if (stat(path, &st) != 0) return maif_set_last_err(MAIF_ENOTFOUND, "%s: no model.json (nor dist/model.json)", model_dir);
    }
    uint8_t *mj = NULL, *vj = NULL, *w = NULL;
    size_t mlen = 0, vlen = 0;
    json_t *root = NULL;
    int rc;
    if ((rc = read_file(path, SEM_USE_MAX_JSON_BYTES, &mj, &mlen))) goto done;
    snprintf(path, sizeof path, "%s/vocab.json", dir);
    if ((rc = read_file(path, SEM_USE_MAX_JSON_BYTES, &vj, &vlen))) goto done;
    json_error_t jerr;
    root = json_loadb((const char *)mj, mlen, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) { rc = maif_set_last_err(MAIF_EFORMAT, "%s/model.json: line %d: %s", dir, jerr.line, jerr.text); goto done; }
    /* the shards, in manifest order, concatenated */
    json_t *wm = json_object_get(root, "weightsManifest");
    if (!json_is_array(wm) || json_array_size(wm) == 0 || json_array_size(wm) > SEM_USE_MAX_SHARDS) {
        rc = maif_set_last_err(MAIF_EFORMAT, "model.json: weightsManifest missing or not a (small) array");
        goto done;
    }
    size_t wlen = 0, nshards = 0;
    for (size_t g = 0; g < json_array_size(wm); g++) {
        json_t *paths = json_object_get(json_array_get(wm, g), "paths");
        if (!json_is_array(paths)) { rc = maif_set_last_err(MAIF_EFORMAT, "model.json: weightsManifest[%zu].paths missing", g); goto done; }
        for (size_t i = 0; i < json_array_size(paths); i++) {
            const char *p = json_string_value(json_array_get(paths, i));
            if (!p || !*p || strchr(p, '/') || strcmp(p, "..") == 0 || strlen(p) > 255) {
                rc = maif_set_last_err(MAIF_EFORMAT, "model.json: shard path %zu is not a plain file name", i);
                goto done;
            }
            if (++nshards > SEM_USE_MAX_SHARDS) { rc = maif_set_last_err(MAIF_ELIMIT, "model.json: more than %d shards", SEM_USE_MAX_SHARDS); goto done; }
            snprintf(path, sizeof path, "%s/%s", dir, p);
            uint8_t *sd;
            size_t sl;
            if ((rc = read_file(path, SEM_USE_MAX_WEIGHT_BYTES - wlen, &sd, &sl))) goto done;
            uint8_t *nw = maif_realloc(w, wlen + sl + 1);
            if (!nw) { maif_free(sd); rc = maif_set_last_err(MAIF_ENOMEM, "out of memory"); goto done; }
            w = nw;
            memcpy(w + wlen, sd, sl);
            wlen += sl;
            maif_free(sd);
        }
    }
    rc = open_common(out, root, (const char *)vj, vlen, w, wlen);
done:
    json_decref(root);
    maif_free(mj);
    maif_free(vj);
    maif_free(w);
    return rc;
}

size_t sem_use_dim(const sem_use *m) { return m ? m->dout : 0; }

int sem_use_set_simd(sem_use *m, int on)
{
    if (!m) return 0;
    m->simd = on ? 1 : 0;
    m->isa = m->simd ? use_gemm_isa() : USE_ISA_NONE;
    return m->simd && use_gemm_have_simd();
}

void sem_use_close(sem_use *m)
{
    if (!m) return;
    use_tokenizer_free(m->tok);
    for (int L = 0; L < NLAYERS; L++) {
        use_layer *ly = &m->layer[L];
        use_matrix_free(&ly->w_qkv);
        use_matrix_free(&ly->w_o);
        use_matrix_free(&ly->w1);
        use_matrix_free(&ly->w2);
        use_matrix_free(&ly->w_res);
    }
    use_matrix_free(&m->w_t);
    maif_free(m->weights);
    maif_free(m->scratch);
    maif_free(m->ids);
    maif_free(m);
}

long sem_use_tokenize(sem_use *m, const char *text, size_t len, int32_t *ids, size_t cap)
{
    if (!m || (!text && len) || (!ids && cap)) return maif_set_last_err(MAIF_EINVAL, "sem_use_tokenize: NULL argument");
    long n = use_tokenizer_encode(m->tok, text ? text : "", len, ids, cap);
    if (n > (long)m->maxlen) n = (long)m->maxlen;  /* ClipToMaxLength */
    return n;
}

/* ---- forward pass ------------------------------------------------------- */

/* y[n x W.n] = x[n x W.k] W + b */
static void dense(const sem_use *m, const float *x, size_t n, const use_matrix *W, const float *b, float *y)
{
    for (size_t i = 0; i < n; i++) memcpy(y + i * W->n, b, W->n * sizeof *y);
    use_gemm_acc(x, n, W, y, m->simd);
}

/* Multi-head self-attention of each sentence over its own tokens.
 * qkv: [n x 3din]; ctx: [n x din]; p: scratch of maxlen floats; isa: the
 * vector kernels (use_dot, use_axpy). */
static void attention(const use_layer *ly, const float *qkv, const size_t *start, size_t nsent, float *ctx, float *p,
                      int isa)
{
    size_t din = ly->din, dd = ly->depth, w = 3 * din;
    for (size_t s = 0; s < nsent; s++) {
        size_t t0 = start[s], T = start[s + 1] - t0;
        for (size_t h = 0; h < ly->heads; h++) {
            for (size_t i = 0; i < T; i++) {
                const float *q = qkv + (t0 + i) * w + h * dd;
                float mx = -INFINITY;
                for (size_t j = 0; j < T; j++) {
                    float acc = ly->qscale * use_dot(q, qkv + (t0 + j) * w + din + h * dd, dd, isa);
                    p[j] = acc;
                    if (acc > mx) mx = acc;
                }
                float sum = 0;
                for (size_t j = 0; j < T; j++) { p[j] = expf(p[j] - mx); sum += p[j]; }
                float inv = 1.0f / sum;
                float *c = ctx + (t0 + i) * din + h * dd;
                memset(c, 0, dd * sizeof *c);
                for (size_t j = 0; j < T; j++) use_axpy(p[j] * inv, qkv + (t0 + j) * w + 2 * din + h * dd, c, dd, isa);
            }
        }
    }
}

/* f = relu(LN(x) W1 + b1), the FFN's hidden rows; h: scratch */
static void ffn_hidden(const sem_use *m, const use_layer *ly, const float *x, size_t n, float *h, float *f)
{
    use_layer_norm(x, n, m->d1, ly->fln_s, ly->fln_b, m->ln_eps, h, m->isa);
    dense(m, h, n, &ly->w1, ly->b1, f);
    use_relu(f, n * ly->ffn, m->isa);
}

static void ffn(const sem_use *m, const use_layer *ly, float *x, size_t n, float *h, float *f)
{
    ffn_hidden(m, ly, x, n, h, f);
    /* x += f W2 + b2 */
    for (size_t i = 0; i < n; i++) use_axpy(1.0f, ly->b2, x + i * m->d1, m->d1, m->isa);
    use_gemm_acc(f, n, &ly->w2, x, m->simd);
}

static size_t widest(const sem_use *m)
{
    size_t w = m->d1;
    for (int L = 0; L < NLAYERS; L++) {
        if (3 * m->layer[L].din > w) w = 3 * m->layer[L].din;
        if (m->layer[L].ffn > w) w = m->layer[L].ffn;
    }
    return w;
}

/* Runs sentences [start[s], start[s+1]) of ids (ntok in all; nsent <=
 * MAX_SENTS); out gets nsent * dout floats. */
static int forward(sem_use *m, const int32_t *ids, const size_t *start, size_t nsent, float *out)
{
    size_t ntok = start[nsent], W = widest(m);
    /* x0 [ntok x d0] | x [ntok x d1] | h [ntok x d1] | big [ntok x W] | ctx [ntok x d1] |
     * pf [MAX_SENTS x W] | p [maxlen] */
    size_t per = m->d0 + 3 * m->d1 + W;
    size_t need = ntok > nsent ? ntok : nsent;  /* h also holds the pooled rows */
    if (need > m->scratch_tokens || !m->scratch) {
        size_t cap = need < 16 ? 16 : need;
        float *s = maif_malloc((cap * per + MAX_SENTS * W + m->maxlen) * sizeof *s);
        if (!s) return maif_set_last_err(MAIF_ENOMEM, "out of memory");
        maif_free(m->scratch);
        m->scratch = s;
        m->scratch_tokens = cap;
    }
    float *x0 = m->scratch, *x = x0 + need * m->d0, *h = x + need * m->d1, *big = h + need * m->d1;
    float *ctx = big + need * W, *pf = ctx + need * m->d1, *p = pf + MAX_SENTS * W;
    size_t d0 = m->d0, half = d0 / 2;
    for (size_t s = 0; s < nsent; s++)
        for (size_t t = start[s]; t < start[s + 1]; t++) {
            const float *e = m->emb + (size_t)ids[t] * d0;
            float *xr = x0 + t * d0, pos = (float)(t - start[s]);
            for (size_t j = 0; j < half; j++) {
                float a = pos * m->inv_timescale[j];
                xr[j] = (e[j] + sinf(a)) + e[j];
                xr[half + j] = (e[half + j] + cosf(a)) + e[half + j];
            }
        }
    for (int L = 0; L < NLAYERS; L++) {
        const use_layer *ly = &m->layer[L];
        const float *xin = L == 0 ? x0 : x;
        use_layer_norm(xin, ntok, ly->din, ly->ln_s, ly->ln_b, m->ln_eps, h, m->isa);
        dense(m, h, ntok, &ly->w_qkv, ly->b_qkv, big);
        attention(ly, big, start, nsent, ctx, p, m->isa);
        if (L == 0) {
            dense(m, x0, ntok, &ly->w_res, ly->b_res, x);  /* residual, projected */
        }
        for (size_t i = 0; i < ntok; i++) use_axpy(1.0f, ly->b_o, x + i * m->d1, m->d1, m->isa);
        use_gemm_acc(ctx, ntok, &ly->w_o, x, m->simd);
        if (L + 1 < NLAYERS) ffn(m, ly, x, ntok, h, big);
        else ffn_hidden(m, ly, x, ntok, h, big);
    }
    /* The output is mean_t(x + f W2 + b2) over each sentence's tokens: the
     * mean goes through the (linear) W2, so that product runs on one
     * pooled row a sentence instead of every token: mean(x) + b2 +
     * mean(f) W2. An empty sentence pools to zeros, as in the graph. */
    const use_layer *last = &m->layer[NLAYERS - 1];
    size_t F = last->ffn;
    for (size_t s = 0; s < nsent; s++) {
        size_t T = start[s + 1] - start[s];
        float *hp = h + s * m->d1, *fp = pf + s * F;  /* h is free now: pooled rows */
        memset(hp, 0, m->d1 * sizeof *hp);
        memset(fp, 0, F * sizeof *fp);
        if (T == 0) continue;
        for (size_t t = start[s]; t < start[s + 1]; t++) {
            use_axpy(1.0f, x + t * m->d1, hp, m->d1, m->isa);
            use_axpy(1.0f, big + t * F, fp, F, m->isa);
        }
        float inv = 1.0f / (float)T;
        for (size_t j = 0; j < m->d1; j++) hp[j] = hp[j] * inv + last->b2[j];
        for (size_t j = 0; j < F; j++) fp[j] *= inv;
    }
    if (nsent > 0) {
        use_gemm_acc(pf, nsent, &last->w2, h, m->simd);
        dense(m, h, nsent, &m->w_t, m->b_t, out);
    }
    for (size_t s = 0; s < nsent; s++) {
        float *o = out + s * m->dout, ss = 0;
        for (size_t j = 0; j < m->dout; j++) { o[j] = tanhf(o[j]); ss += o[j] * o[j]; }
        float r = 1.0f / sqrtf(ss > m->l2_eps ? ss : m->l2_eps);
        for (size_t j = 0; j < m->dout; j++) o[j] *= r;
        /* finite weights can still overflow float32 (a hostile model):
         * say so rather than hand out NaN */
        if (!isfinite(ss) || !isfinite(r))
            return maif_set_last_err(MAIF_EFORMAT, "the model's weights overflow float32 on this text (NaN or infinity)");
    }
    return 0;
}

int sem_use_embed_batch(sem_use *m, const char *const *texts, const size_t *lens, size_t n, float *out)
{
    if (!m || (n && (!texts || !lens || !out))) return maif_set_last_err(MAIF_EINVAL, "sem_use_embed_batch: NULL argument");
    size_t done = 0;
    while (done < n) {
        /* tokenize as many sentences as fit in one pass */
        size_t cap_needed = BATCH_TOKENS + m->maxlen;
        if (m->ids_cap < cap_needed) {
            int32_t *ni = maif_realloc(m->ids, cap_needed * sizeof *ni);
            if (!ni) return maif_set_last_err(MAIF_ENOMEM, "out of memory");
            m->ids = ni;
            m->ids_cap = cap_needed;
        }
        size_t start[MAX_SENTS + 1], ns = 0, ntok = 0;
        start[0] = 0;
        while (done + ns < n && ns < MAX_SENTS) {
            if (!texts[done + ns] && lens[done + ns]) return maif_set_last_err(MAIF_EINVAL, "sem_use_embed_batch: NULL text");
            long k = sem_use_tokenize(m, texts[done + ns] ? texts[done + ns] : "", lens[done + ns], m->ids + ntok, m->maxlen);
            if (k < 0) return (int)k;
            ntok += (size_t)k;
            start[++ns] = ntok;
            if (ntok >= BATCH_TOKENS) break;
        }
        int rc = forward(m, m->ids, start, ns, out + done * m->dout);
        if (rc) return rc;
        done += ns;
    }
    return 0;
}

int sem_use_embed(sem_use *m, const char *text, size_t len, float *out)
{
    if (!m || (!text && len) || !out) return maif_set_last_err(MAIF_EINVAL, "sem_use_embed: NULL argument");
    const char *t = text ? text : "";
    return sem_use_embed_batch(m, &t, &len, 1, out);
}
