/* Fast round-trip double -> text for the per-candle ledger rows.
 *
 * Why: pt_format_double costs 2-3 snprintf + strtod (~1.5-3 us here); a
 * portfolio.csv row has 6-8 numbers. Exact method, 128-bit integers only:
 * write v = f / 2^s (f the 53-bit significand). The decimal m / 10^k reads
 * back (strtod, round-to-nearest) as v iff it lies strictly inside v's
 * rounding interval: |m/10^k - f/2^s| < 2^-s / 2, i.e.
 * |m 2^(s+1) - 2 f 10^k| < 10^k (half that below a power of two, where the
 * lower gap halves). Dividing by 2^k (10^k = 2^k 5^k) keeps every product
 * below 2^120 for 1e-6 <= |v| < 1e15 (s <= 73, k <= 25). The smallest such
 * k with m = round(v 10^k) is the shortest fixed-point text. Anything else
 * (huge, tiny) falls back to pt_format_double. */
#include "portfolio.h"

#include <math.h>
#include <string.h>

typedef unsigned __int128 u128;

static int emit(char *buf, int neg, uint64_t u, int k)
{
    while (k > 0 && u % 10 == 0) {
        u /= 10;
        k--;
    }
    char dig[24];
    int nd = 0;
    do {
        dig[nd++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    size_t o = 0;
    if (neg)
        buf[o++] = '-';
    if (nd <= k) { /* 0.000ddd */
        buf[o++] = '0';
        buf[o++] = '.';
        for (int z = 0; z < k - nd; z++)
            buf[o++] = '0';
        while (nd)
            buf[o++] = dig[--nd];
    } else {
        while (nd > k)
            buf[o++] = dig[--nd];
        if (k) {
            buf[o++] = '.';
            while (nd)
                buf[o++] = dig[--nd];
        }
    }
    buf[o] = '\0';
    return (int)o;
}

static u128 pow5(int k)
{
    u128 p = 1;
    while (k--)
        p *= 5;
    return p;
}

/* Does m = round(a 10^k) read back as a? 1 yes (m set), 0 no, 2 m too large.
 * a = f / 2^s. */
static int probe(uint64_t f, int s, int k, uint64_t *mout)
{
    u128 p5 = pow5(k);
    u128 x = (u128)f * p5; /* a * 10^k = x * 2^(k-s) */
    u128 m = k >= s ? x << (k - s) : (x + ((u128)1 << (s - k - 1))) >> (s - k);
    if (m >> 59)
        return 2;
    u128 lhs, rhs, tol;
    if (k <= s + 1) { /* |m 2^(s+1-k) - 2 x| < 5^k */
        lhs = m << (s + 1 - k);
        rhs = x << 1;
        tol = p5;
    } else { /* |m - 2 x 2^(k-s-1)| < 5^k 2^(k-s-1) */
        lhs = m;
        rhs = x << (k - s);
        tol = p5 << (k - s - 1);
    }
    u128 diff = lhs > rhs ? lhs - rhs : rhs - lhs;
    if (f == (1ULL << 52))
        diff <<= 1; /* the gap below a power of two is half as wide */
    *mout = (uint64_t)m;
    return m != 0 && diff < tol;
}

/* Shortest fixed form for 1e-6 <= a < 1e15, or -1. "passes" is monotone in
 * k (a finer grid has a nearer point), and so is "m too large", so a binary
 * search over k finds the smallest k that is either. */
static int exact128(double a, char *buf, int neg)
{
    int exp2;
    double mant = frexp(a, &exp2); /* a = mant * 2^exp2, mant in [0.5, 1) */
    uint64_t f = (uint64_t)ldexp(mant, 53);
    int s = 53 - exp2;
    if (s < 1 || s > 73)
        return -1;
    int lo = 0, hi = 26; /* smallest k in [lo, hi) with probe != 0; 26 = none */
    uint64_t m;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (probe(f, s, mid, &m))
            hi = mid;
        else
            lo = mid + 1;
    }
    if (lo > 25 || probe(f, s, lo, &m) != 1)
        return -1;
    return emit(buf, neg, m, lo);
}

int pf_format_double(double v, char *buf, size_t cap)
{
    if (cap < 32 || !isfinite(v) || v == 0)
        return pt_format_double(v, buf, cap);
    double a = fabs(v);
    if (a >= 1e15 || a < 1e-6)
        return pt_format_double(v, buf, cap);
    int n = exact128(a, buf, v < 0);
    return n > 0 ? n : pt_format_double(v, buf, cap);
}
