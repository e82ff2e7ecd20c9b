/* quality: rolling median / MAD window (see quality_internal.h).
 *
 * Hot path of `papertrader check` (three windows per candle), so every step
 * below is exact: each function returns bit for bit what the plain
 * definition (sort, take the middle, sort the deviations, take the middle)
 * gives, only with fewer instructions. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pt_core.h"
#include "quality_internal.h"

int quality_rwin_init(quality_rwin *w, int cap)
{
    memset(w, 0, sizeof *w);
    if (cap < 1 || cap > QUALITY_OUTLIER_WINDOW_MAX)
        return PT_EINVAL;
    w->ring = calloc((size_t)cap, sizeof *w->ring);
    w->sorted = calloc((size_t)cap, sizeof *w->sorted);
    if (!w->ring || !w->sorted) {
        quality_rwin_free(w);
        return PT_ENOMEM;
    }
    w->cap = cap;
    return PT_OK;
}

void quality_rwin_free(quality_rwin *w)
{
    if (!w)
        return;
    free(w->ring);
    free(w->sorted);
    memset(w, 0, sizeof *w);
}

/* First index i with !(a[i] < x). Branch-free halving: on random data a
 * branchy search mispredicts about every step, and that was most of the
 * push cost; the select below compiles to a cmov. */
static inline int lower_bound(const double *a, int n, double x)
{
    size_t lo = 0, len = (size_t)n;
    while (len > 1) {
        size_t half = len / 2;
        lo += a[lo + half - 1] < x ? half : 0;
        len -= half;
    }
    return (int)(lo + (len == 1 && a[lo] < x));
}

void quality_rwin_push(quality_rwin *w, double x)
{
    if (w->cap == 0)
        return;
    double *s = w->sorted;
    int j = lower_bound(s, w->n, x);
    if (w->n < w->cap) {
        w->ring[(w->head + w->n) % w->cap] = x;
        memmove(&s[j + 1], &s[j], (size_t)(w->n - j) * sizeof(double));
        s[j] = x;
        w->n++;
        return;
    }
    /* Full: the oldest leaves and x enters in one shift of the values
     * between the two slots. old is bitwise one of the sorted values, so
     * lower_bound finds it. Removing slot i first and then inserting at the
     * lower bound of x would land at j, less one when slot i lay before j
     * (that is exactly when old < x): same array, one memmove. */
    double old = w->ring[w->head];
    w->ring[w->head] = x;
    w->head = w->head + 1 == w->cap ? 0 : w->head + 1;
    int i = lower_bound(s, w->n, old);
    if (i >= w->n)
        i = w->n - 1; /* unreachable with finite input; stay in bounds */
    if (i < j) {
        j--;
        memmove(&s[i], &s[i + 1], (size_t)(j - i) * sizeof(double));
    } else {
        memmove(&s[j + 1], &s[j], (size_t)(i - j) * sizeof(double));
    }
    s[j] = x;
}

double quality_rwin_median(const quality_rwin *w)
{
    if (w->n == 0)
        return 0.0;
    if (w->n % 2)
        return w->sorted[w->n / 2];
    return 0.5 * (w->sorted[w->n / 2 - 1] + w->sorted[w->n / 2]);
}

/* Reference walk: merge the two ascending deviation runs outward from the
 * median. Kept for a non-finite median, where the comparisons below would
 * not order the values. */
static double mad_merge(const double *s, int n, double median)
{
    int l = lower_bound(s, n, median) - 1; /* last < median */
    int r = l + 1;
    int k_lo = (n - 1) / 2, k_hi = n / 2;
    double d_lo = 0.0, d_hi = 0.0;
    for (int k = 0; k <= k_hi; k++) {
        double d;
        if (l < 0)
            d = s[r++] - median;
        else if (r >= n)
            d = median - s[l--];
        else if (median - s[l] <= s[r] - median)
            d = median - s[l--];
        else
            d = s[r++] - median;
        if (k == k_lo)
            d_lo = d;
        if (k == k_hi)
            d_hi = d;
    }
    return 0.5 * (d_lo + d_hi);
}

/* Deviations left of the median, A[t] = median - s[L-1-t], and right of it,
 * B[t] = s[L+t] - median, are both non-decreasing (IEEE subtraction is
 * monotone). The MAD is the middle of their union: the k-th smallest of two
 * sorted runs, found by bisecting how many come from A (O(log n)). Any
 * exact selection returns the same values as the merge walk. */
#define DEV_A(t) (median - s[L - 1 - (t)])
#define DEV_B(t) (s[L + (t)] - median)

double quality_rwin_mad(const quality_rwin *w, double median)
{
    int n = w->n;
    const double *s = w->sorted;
    if (n == 0)
        return 0.0;
    if (!isfinite(median))
        return mad_merge(s, n, median);
    /* L = lower_bound(s, n, median), found by a walk from the middle: for the
     * true median it is at most a few steps (ties) */
    int L = n / 2;
    while (L > 0 && !(s[L - 1] < median))
        L--;
    while (L < n && s[L] < median)
        L++;
    int R = n - L;
    int k = (n - 1) / 2; /* 0-based rank of the lower middle deviation */
    int lo = k + 1 - R > 0 ? k + 1 - R : 0;
    int hi = k + 1 < L ? k + 1 : L;
    while (lo < hi) { /* a = how many of the k+1 smallest come from A */
        int mid = (lo + hi) / 2;
        if (DEV_A(mid) < DEV_B(k - mid))
            lo = mid + 1;
        else
            hi = mid;
    }
    int a = lo, b = k + 1 - a; /* taken from A and from B */
    double d_lo;
    if (a == 0)
        d_lo = DEV_B(b - 1);
    else if (b == 0)
        d_lo = DEV_A(a - 1);
    else {
        double x = DEV_A(a - 1), y = DEV_B(b - 1);
        d_lo = x > y ? x : y;
    }
    if (n % 2)
        return 0.5 * (d_lo + d_lo);
    double d_hi; /* the next one after the k+1 smallest */
    if (a == L)
        d_hi = DEV_B(b);
    else if (b == R)
        d_hi = DEV_A(a);
    else {
        double x = DEV_A(a), y = DEV_B(b);
        d_hi = x < y ? x : y;
    }
    return 0.5 * (d_lo + d_hi);
}

#undef DEV_A
#undef DEV_B

int quality_rwin_beyond(const quality_rwin *w, double x, double min_scale, int min_n, double k)
{
    if (w->n < min_n)
        return 0; /* z = 0 and k > 0 */
    /* Shortcut without the MAD: the scale is at least min_scale > 0, and a
     * correctly rounded division is monotone in the divisor, so
     * |z| = fl(|x - med| / scale) <= fl(|x - med| / min_scale). When that
     * bound is already <= k, z is within +-k whatever the MAD is. Most bars
     * end here. (A NaN bound fails the test and takes the full path.) */
    double med = quality_rwin_median(w);
    if (min_scale > 0.0 && fabs(x - med) / min_scale <= k)
        return 0;
    double scale = QUALITY_MAD_TO_SIGMA * quality_rwin_mad(w, med);
    if (!(scale > min_scale))
        scale = min_scale;
    double z = (x - med) / scale;
    return z > k ? 1 : z < -k ? -1 : 0;
}
