/*
 * acam.c — ACAM, adaptive cross-modal attention (docs/ACAM.md): an item
 * (an image, a sound, any block) is known through several text-space
 * embeddings of what is said about it (its caption, its metadata, the
 * blocks related to it), each from a source with a trust weight. For a
 * query, each source is scored by a mix of scaled dot product and cosine
 * similarity; the attention weights are a softmax of those scores plus the
 * log of each source's trust; the item's joint representation is the
 * weighted sum of its sources, and its score the cosine between the query
 * and that joint vector. Everything is deterministic: no sampling, no
 * learned parameters, sums in a fixed order in double precision.
 */
#include <math.h>
#include <string.h>

#include "maif.h"
#include "util/alloc.h"
#include "util/common.h"

static int finite_vec(const float *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i])) return 0;
    return 1;
}

void maif_acam_defaults(maif_acam_params *p)
{
    if (!p) return;
    p->mix = 0.5f;
    p->temperature = 0.1f;
}

int maif_acam_fuse(const float *query, size_t dim, const maif_acam_source *src, size_t n, const maif_acam_params *params,
                   float *weights, float *joint, float *score)
{
    maif_acam_params p;
    maif_acam_defaults(&p);
    if (params) p = *params;
    if (!query || !src || !weights || !score || dim == 0 || n == 0)
        return maif_set_last_err(MAIF_EINVAL, "maif_acam_fuse: NULL argument, no dimensions or no sources");
    if (dim > MAIF_ACAM_DIM_MAX || n > MAIF_ACAM_SOURCES_MAX)
        return maif_set_last_err(MAIF_ELIMIT, "maif_acam_fuse: at most %u dimensions and %u sources", MAIF_ACAM_DIM_MAX,
                                 MAIF_ACAM_SOURCES_MAX);
    if (!(p.mix >= 0 && p.mix <= 1) || !(p.temperature > 0 && p.temperature <= 100))
        return maif_set_last_err(MAIF_EINVAL, "maif_acam_fuse: mix must be in [0, 1] and temperature in (0, 100]");
    if (!finite_vec(query, dim)) return maif_set_last_err(MAIF_EINVAL, "maif_acam_fuse: the query is not finite");
    double qn = 0;
    for (size_t k = 0; k < dim; k++) qn += (double)query[k] * query[k];
    qn = sqrt(qn);
    double logits[MAIF_ACAM_SOURCES_MAX], top = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        if (!src[i].vec || !finite_vec(src[i].vec, dim))
            return maif_set_last_err(MAIF_EINVAL, "maif_acam_fuse: source %zu is missing or not finite", i);
        if (!(src[i].trust > 0 && src[i].trust <= 1))
            return maif_set_last_err(MAIF_EINVAL, "maif_acam_fuse: source %zu has trust %g (want (0, 1])", i,
                                     (double)src[i].trust);
        double dot = 0, vn = 0;
        for (size_t k = 0; k < dim; k++) {
            dot += (double)query[k] * src[i].vec[k];
            vn += (double)src[i].vec[k] * src[i].vec[k];
        }
        vn = sqrt(vn);
        double cosv = qn > 0 && vn > 0 ? dot / (qn * vn) : 0;
        double s = p.mix * dot / sqrt((double)dim) + (1 - p.mix) * cosv;
        logits[i] = s / p.temperature + log((double)src[i].trust);
        if (logits[i] > top) top = logits[i];
    }
    double sum = 0;
    for (size_t i = 0; i < n; i++) sum += exp(logits[i] - top);
    for (size_t i = 0; i < n; i++) weights[i] = (float)(exp(logits[i] - top) / sum);
    /* the joint representation, and its cosine with the query */
    double jn = 0, dot = 0;
    for (size_t k = 0; k < dim; k++) {
        double v = 0;
        for (size_t i = 0; i < n; i++) v += (double)weights[i] * src[i].vec[k];
        if (joint) joint[k] = (float)v;
        jn += v * v;
        dot += v * query[k];
    }
    *score = qn > 0 && jn > 0 ? (float)(dot / (qn * sqrt(jn))) : 0.0f;
    return 0;
}
