/* quality internals: the rolling robust-statistics window used by the
 * outlier rules. Not part of the public API.
 *
 * A quality_rwin holds the last `cap` samples twice: in arrival order (a
 * ring, to know which one leaves) and sorted (for the median and MAD).
 * Push is one O(log cap) search plus one memmove on a tiny array (cap <=
 * QUALITY_OUTLIER_WINDOW_MAX), median O(1), MAD O(log cap) by selecting the
 * middle of the two sorted deviation runs either side of the median. Memory
 * is allocated once by quality_rwin_init. */
#ifndef PT_QUALITY_INTERNAL_H
#define PT_QUALITY_INTERNAL_H

#include <stddef.h>

#define QUALITY_OUTLIER_WINDOW_MAX 1000
/* 1.4826 * MAD estimates the standard deviation of normal data. */
#define QUALITY_MAD_TO_SIGMA 1.4826

typedef struct quality_rwin {
    int cap, n, head;
    double *ring;   /* cap slots; oldest at head once full */
    double *sorted; /* n slots, ascending */
} quality_rwin;

/* PT_OK or PT_ENOMEM. */
int quality_rwin_init(quality_rwin *w, int cap);
void quality_rwin_free(quality_rwin *w); /* zeroes *w; safe twice */
void quality_rwin_push(quality_rwin *w, double x); /* x must be finite */
double quality_rwin_median(const quality_rwin *w); /* 0 when empty */
double quality_rwin_mad(const quality_rwin *w, double median); /* 0 when empty */

/* Sign of the robust z of x, (x - median) / max(1.4826 * MAD, min_scale),
 * when |z| > k (k > 0), else 0 (also when the window holds fewer than min_n
 * samples): +1 iff z > k, -1 iff z < -k, exactly. Skips the MAD when even
 * the floor scale keeps |z| within k. */
int quality_rwin_beyond(const quality_rwin *w, double x, double min_scale, int min_n, double k);

#endif
