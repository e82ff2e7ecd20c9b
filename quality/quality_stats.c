/* quality: rolling median / MAD window (see quality_internal.h). */
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

/* First index i with sorted[i] >= x. */
static int lower_bound(const double *a, int n, double x)
{
    int lo = 0, hi = n;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (a[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

void quality_rwin_push(quality_rwin *w, double x)
{
    if (w->cap == 0)
        return;
    if (w->n == w->cap) {
        double old = w->ring[w->head];
        /* old is bitwise one of the sorted values: lower_bound finds it */
        int i = lower_bound(w->sorted, w->n, old);
        if (i >= w->n)
            i = w->n - 1; /* unreachable with finite input; stay in bounds */
        memmove(&w->sorted[i], &w->sorted[i + 1], (size_t)(w->n - i - 1) * sizeof(double));
        w->n--;
        w->ring[w->head] = x;
        w->head = (w->head + 1) % w->cap;
    } else {
        w->ring[(w->head + w->n) % w->cap] = x;
    }
    int j = lower_bound(w->sorted, w->n, x);
    memmove(&w->sorted[j + 1], &w->sorted[j], (size_t)(w->n - j) * sizeof(double));
    w->sorted[j] = x;
    w->n++;
}

double quality_rwin_median(const quality_rwin *w)
{
    if (w->n == 0)
        return 0.0;
    if (w->n % 2)
        return w->sorted[w->n / 2];
    return 0.5 * (w->sorted[w->n / 2 - 1] + w->sorted[w->n / 2]);
}

double quality_rwin_mad(const quality_rwin *w, double median)
{
    int n = w->n;
    if (n == 0)
        return 0.0;
    /* Deviations left of the median grow going down, right of it going up:
     * merge the two ascending runs and stop at the middle element(s). */
    int l = lower_bound(w->sorted, n, median) - 1; /* last < median */
    int r = l + 1;
    int k_lo = (n - 1) / 2, k_hi = n / 2;
    double d_lo = 0.0, d_hi = 0.0;
    for (int k = 0; k <= k_hi; k++) {
        double d;
        if (l < 0)
            d = w->sorted[r++] - median;
        else if (r >= n)
            d = median - w->sorted[l--];
        else if (median - w->sorted[l] <= w->sorted[r] - median)
            d = median - w->sorted[l--];
        else
            d = w->sorted[r++] - median;
        if (k == k_lo)
            d_lo = d;
        if (k == k_hi)
            d_hi = d;
    }
    return 0.5 * (d_lo + d_hi);
}

double quality_rwin_z(const quality_rwin *w, double x, double min_scale, int min_n)
{
    if (w->n < min_n)
        return 0.0;
    double med = quality_rwin_median(w);
    double scale = QUALITY_MAD_TO_SIGMA * quality_rwin_mad(w, med);
    if (!(scale > min_scale))
        scale = min_scale;
    return (x - med) / scale;
}
