/*
 * dp.c — exact noise for differential privacy, in integers only.
 *
 * Floating-point Laplace noise leaks the value it hides through the
 * pattern of representable doubles (Mironov 2012), so nothing here uses
 * floating point: the discrete Laplace (two-sided geometric) and the
 * discrete Gaussian are drawn with the algorithms of Canonne, Kamath and
 * Steinke, "The Discrete Gaussian for Differential Privacy" (NeurIPS
 * 2020): Bernoulli(exp(-gamma)) for a rational gamma from Bernoulli(p)
 * draws of rational p, which come from uniform integers by rejection. The
 * randomness is libsodium's randombytes (the OS's CSPRNG).
 *
 * Sizes: rationals are unsigned 128-bit; the callers' limits (documented
 * in maif.h) keep every product below 2^128. Two truncations, both of
 * events less likely than exp(-16000): a Bernoulli(exp(-gamma)) with
 * gamma > 2^14 returns 0 without drawing, and a Laplace draw beyond
 * 2^62 is drawn again.
 *
 * Timing: the loops run a random number of times that depends on the
 * value drawn (larger |noise| takes longer on average), so the run time
 * of a query says something about its noise. See
 * docs/PRIVACY_ANALYTICS.md ("Timing channel").
 */
#include <string.h>

#include <sodium.h>

#include "crypto/crypto.h"
#include "privacy/dp.h"
#include "util/common.h"

typedef unsigned __int128 u128;

#define GAMMA_INT_MAX ((u128)1 << 14)

/* ------------------------------------------------------------ parsing */

int maif_dp_parse(const char *s, unsigned scale, uint64_t max, uint64_t *out)
{
    if (!s || !out || scale > 18) return maif_set_last_err(MAIF_EINVAL, "maif_dp_parse: bad argument");
    *out = 0;
    const char *p = s;
    u128 m = 0;
    int digits = 0, frac = 0, seen_point = 0, sig = 0;
    for (; *p; p++) {
        if (*p >= '0' && *p <= '9') {
            digits++;
            if (m == 0 && *p == '0') {
                if (seen_point) frac++;
                continue;
            }
            if (++sig > 36) return maif_set_last_err(MAIF_EINVAL, "'%.40s': too many digits", s);
            m = m * 10 + (u128)(*p - '0');
            if (seen_point) frac++;
        } else if (*p == '.' && !seen_point) {
            seen_point = 1;
        } else {
            break;
        }
    }
    long exp = 0;
    if (digits > 0 && (*p == 'e' || *p == 'E')) {
        p++;
        int neg = 0;
        if (*p == '+' || *p == '-') neg = *p++ == '-';
        int ed = 0;
        while (*p >= '0' && *p <= '9' && ed < 4) exp = exp * 10 + (*p++ - '0'), ed++;
        if (ed == 0 || ed == 4) return maif_set_last_err(MAIF_EINVAL, "'%.40s' is not a decimal number", s);
        if (neg) exp = -exp;
    }
    if (digits == 0 || *p) return maif_set_last_err(MAIF_EINVAL, "'%.40s' is not a positive decimal number", s);
    if (m == 0) return maif_set_last_err(MAIF_EINVAL, "'%.40s' must be greater than zero", s);
    long shift = exp - frac + (long)scale; /* value in units = m * 10^shift */
    while (shift < 0 && m % 10 == 0) m /= 10, shift++;
    if (shift < 0)
        return maif_set_last_err(MAIF_EINVAL, "'%.40s' has more than %u digits after the point", s, scale);
    for (; shift > 0; shift--) {
        if (m > (u128)max) break;
        m *= 10;
    }
    if (shift > 0 || m > (u128)max) return maif_set_last_err(MAIF_EINVAL, "'%.40s' is too large", s);
    *out = (uint64_t)m;
    return 0;
}

/* ------------------------------------------------------------ sampling */

static u128 rand128(void)
{
    u128 r;
    randombytes_buf(&r, sizeof r);
    return r;
}

/* uniform in [0, n), n >= 1, by rejection on the bit length of n - 1 */
static u128 uniform(u128 n)
{
    if (n <= 1) return 0;
    u128 top = n - 1, mask = top;
    for (int sh = 1; sh < 128; sh <<= 1) mask |= mask >> sh;
    for (;;) {
        u128 r = rand128() & mask;
        if (r < n) return r;
    }
}

/* Bernoulli(num / den), 0 <= num <= den, den >= 1 */
static int bern_frac(u128 num, u128 den) { return uniform(den) < num; }

/* Bernoulli(exp(-num/den)) for num <= den (CKS20 Algorithm 1, first case) */
static int bern_exp_le1(u128 num, u128 den)
{
    u128 k = 1;
    for (;;) {
        if (den > ~(u128)0 / (k)) return (int)(k & 1); /* den*k would overflow: P(A=1) < 2^-100, taken as 0 */
        if (!bern_frac(num, den * k)) break;
        k++;
    }
    return (int)(k & 1);
}

/* Bernoulli(exp(-num/den)), any num >= 0 (CKS20 Algorithm 1) */
static int bern_exp(u128 num, u128 den)
{
    u128 whole = num / den;
    if (whole > GAMMA_INT_MAX) return 0;
    for (u128 i = 0; i < whole; i++)
        if (!bern_exp_le1(1, 1)) return 0;
    return bern_exp_le1(num % den, den);
}

int dp_laplace(uint64_t s, uint64_t t, int64_t *out)
{
    for (;;) {
        u128 u = uniform(t);
        if (!bern_exp(u, t)) continue;
        u128 v = 0;
        while (bern_exp(1, 1)) v++;
        u128 x = u + (u128)t * v;
        u128 y = x / s;
        if (y >= ((u128)1 << 62)) continue;
        int b = bern_frac(1, 2);
        if (b && y == 0) continue;
        *out = b ? -(int64_t)y : (int64_t)y;
        return 0;
    }
}

int maif_dp_sample_laplace(uint64_t s, uint64_t t, int64_t *out)
{
    if (!out || s == 0 || t == 0 || s > ((uint64_t)1 << 62) || t > ((uint64_t)1 << 62) ||
        (u128)t > ((u128)s << 40))
        return maif_set_last_err(MAIF_EINVAL, "maif_dp_sample_laplace: s and t must be 1..2^62 with t/s <= 2^40");
    if (maif_crypto_init()) return maif_set_last_err(MAIF_ENOMEM, "crypto initialisation failed");
    return dp_laplace(s, t, out);
}

static uint64_t isqrt_u64(uint64_t x)
{
    uint64_t r = 0;
    for (uint64_t bit = (uint64_t)1 << 62; bit; bit >>= 2) {
        if (x >= r + bit) {
            x -= r + bit;
            r = (r >> 1) + bit;
        } else {
            r >>= 1;
        }
    }
    return r;
}

int dp_gaussian(uint64_t num, uint64_t den, int64_t *out)
{
    uint64_t t = isqrt_u64(num / den) + 1; /* floor(sigma) + 1 */
    u128 d = (u128)2 * num * den * t * t;  /* gamma = (|y| t den - num)^2 / d */
    for (;;) {
        int64_t y;
        dp_laplace(1, t, &y);
        uint64_t ay = y < 0 ? (uint64_t)(-(y + 1)) + 1 : (uint64_t)y;
        if (ay > ((uint64_t)1 << 40)) continue;
        u128 a = (u128)ay * t * den, n = a > num ? a - num : (u128)num - a;
        if (n >> 64) continue; /* gamma >= 2^128 / d >= 2^14: accepted with probability < exp(-16000) */
        if (bern_exp(n * n, d)) {
            *out = y;
            return 0;
        }
    }
}

int maif_dp_sample_gaussian(uint64_t num, uint64_t den, int64_t *out)
{
    if (!out || num == 0 || den == 0 || den > ((uint64_t)1 << 16) || num > ((uint64_t)1 << 56) ||
        (u128)num > ((u128)den << 40))
        return maif_set_last_err(MAIF_EINVAL,
                                 "maif_dp_sample_gaussian: sigma^2 = num/den with num 1..2^56, den 1..2^16, at most 2^40");
    if (maif_crypto_init()) return maif_set_last_err(MAIF_ENOMEM, "crypto initialisation failed");
    return dp_gaussian(num, den, out);
}
