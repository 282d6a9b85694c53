/*
 * dp.h — the differential-privacy engine's internals (dp.c: exact
 * samplers and parameter parsing; dp_query.c: queries and the ledger).
 */
#ifndef MAIF_DP_H
#define MAIF_DP_H

#include <stdint.h>

#include "maif.h"

/* The samplers without argument checks (the callers keep the limits of
 * maif_dp_sample_laplace / maif_dp_sample_gaussian). Return 0. */
int dp_laplace(uint64_t s, uint64_t t, int64_t *out);
int dp_gaussian(uint64_t num, uint64_t den, int64_t *out);

/* Denominator of the discrete Gaussian's sigma^2 in queries. */
#define DP_SIGMA2_DEN 256u
/* Grid steps per clamping bound: a sum's sensitivity is at most 2^7 steps. */
#define DP_GRID_BITS 6

#endif
