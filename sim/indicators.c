/* Incremental indicators; definitions and references in indicators.h. */
#include "indicators.h"
#include "sim.h"

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void count_inc(int *count)
{
    if (*count < INT_MAX) /* saturate: only thresholds up to the period matter */
        (*count)++;
}

/* ------------------------------------------------------------ exact sum */

void sim_ind_xsum_reset(sim_ind_xsum *s)
{
    s->n = 0;
}

/* One pass of Shewchuk's grow-expansion with zero elimination, as in
 * CPython's math.fsum (Modules/mathmodule.c): each step an exact two-sum.
 * Adds x to the n partials src, writes the non-zero low parts to dst (dst
 * may be src: slot i <= j is written after src[j] is read) and returns how
 * many; *top gets the final high word. */
static int grow(const double *src, int n, double x, double *dst, double *top)
{
    int i = 0;
    for (int j = 0; j < n; j++) {
        double y = src[j];
        if (fabs(x) < fabs(y)) {
            double t = x;
            x = y;
            y = t;
        }
        double hi = x + y;
        double lo = y - (hi - x);
        if (lo != 0.0)
            dst[i++] = lo;
        x = hi;
    }
    *top = x;
    return i;
}

/* Works on a copy so that an overflow leaves *s unchanged; in place (the
 * same operations, so the same partials) when the add cannot fail: room for
 * one more partial, and magnitudes (partials sum to < 2 |top|) far from
 * overflow. */
int sim_ind_xsum_add(sim_ind_xsum *s, double x)
{
    double top;
    if (!isfinite(x))
        return PT_EINVAL;
    if (x == 0.0)
        return PT_OK;
    if (s->n < SIM_IND_XSUM_CAP && fabs(x) <= 0x1p1020 &&
        (s->n == 0 || fabs(s->p[s->n - 1]) <= 0x1p1020)) {
        int i = grow(s->p, s->n, x, s->p, &top);
        if (top != 0.0)
            s->p[i++] = top;
        s->n = i;
        return PT_OK;
    }
    double tmp[SIM_IND_XSUM_CAP];
    int i = grow(s->p, s->n, x, tmp, &top);
    if (!isfinite(top))
        return PT_ERANGE;
    if (top != 0.0) {
        if (i >= SIM_IND_XSUM_CAP)
            return PT_ERANGE;
        tmp[i++] = top;
    }
    memcpy(s->p, tmp, (size_t)i * sizeof tmp[0]);
    s->n = i;
    return PT_OK;
}

/* CPython's fsum rounding: sum from the top until the sum becomes inexact,
 * then fix up a half-way case using the sign of the next partial. */
double sim_ind_xsum_round(const sim_ind_xsum *s)
{
    int n = s->n;
    double hi = 0.0, lo = 0.0;
    if (n == 0)
        return 0.0;
    hi = s->p[--n];
    while (n > 0) {
        double x = hi, y = s->p[--n];
        hi = x + y;
        double yr = hi - x;
        lo = y - yr;
        if (lo != 0.0)
            break;
    }
    if (n > 0 && ((lo < 0.0 && s->p[n - 1] < 0.0) || (lo > 0.0 && s->p[n - 1] > 0.0))) {
        double y = lo * 2.0, x = hi + y, yr = x - hi;
        if (y == yr)
            hi = x;
    }
    return hi;
}

int sim_ind_xsum_sign(const sim_ind_xsum *s)
{
    /* partials are non-zero, non-overlapping and increasing: the top one
     * outweighs all others together */
    if (s->n == 0)
        return 0;
    return s->p[s->n - 1] > 0.0 ? 1 : -1;
}

/* The remainder S - n*q as an expansion: n*q is split with fma into two
 * doubles (exactly), added negated to a copy of S. rc != 0 when an add
 * failed (overflow, too many partials); rd is the remainder rounded once. */
typedef struct xsum_rem {
    sim_ind_xsum t;
    int rc;
    double rd;
} xsum_rem;

static void rem_init(xsum_rem *r, const sim_ind_xsum *s, double n, double q)
{
    double p = n * q, e = fma(n, q, -p);
    r->t.n = s->n;
    memcpy(r->t.p, s->p, (size_t)s->n * sizeof s->p[0]);
    r->rc = sim_ind_xsum_add(&r->t, -p) || sim_ind_xsum_add(&r->t, -e);
    r->rd = r->rc ? 0.0 : sim_ind_xsum_round(&r->t);
}

/* sign(S - n*m) for m = q + h (h a power of two or 0), exactly; 2 when the
 * exact expansion overflows. The expansion is S - p - e - n*h, built one add
 * at a time; the first two adds are shared through r (they only depend on
 * q). Shortcut: round-to-nearest is monotone and nh = n*h is a double, so
 * rd > nh implies S - n*q > nh and rd < nh the reverse; it is taken only
 * where the last add could not fail (bounded magnitudes, room for one more
 * partial), else (and on rd == nh) the add is done as before. */
static int rem_sign(const xsum_rem *r, double n, double h)
{
    if (r->rc)
        return 2;
    double nh = n * h;
    int n_t = r->t.n;
    if (n_t < SIM_IND_XSUM_CAP && fabs(nh) <= 0x1p1020 &&
        (n_t == 0 || fabs(r->t.p[n_t - 1]) <= 0x1p1020) && r->rd != nh)
        return r->rd > nh ? 1 : -1;
    sim_ind_xsum u;
    u.n = n_t;
    memcpy(u.p, r->t.p, (size_t)n_t * sizeof u.p[0]);
    if (sim_ind_xsum_add(&u, -n * h))
        return 2;
    return sim_ind_xsum_sign(&u);
}

static int mantissa_even(double v)
{
    uint64_t b;
    memcpy(&b, &v, sizeof b);
    return (b & 1u) == 0;
}

/* nextafter(q, +-INFINITY) by the bits for finite normal q (the same
 * doubles: one step of the magnitude, away from or towards zero). */
static void neighbours(double q, double *up, double *dn)
{
    if (!(fabs(q) >= 0x1p-1021) || !isfinite(q)) {
        *up = nextafter(q, INFINITY);
        *dn = nextafter(q, -INFINITY);
        return;
    }
    uint64_t b, bu, bd;
    memcpy(&b, &q, sizeof b);
    bu = q > 0.0 ? b + 1 : b - 1;
    bd = q > 0.0 ? b - 1 : b + 1;
    memcpy(up, &bu, sizeof bu);
    memcpy(dn, &bd, sizeof bd);
}

/* Sign of S - n*(q + h) when a double-double image of S settles it
 * exactly, else 0 (undecided). S = t1 + t2 + rest with |rest| <= rb;
 * n*q = p + e exactly (fma), n*h = nh exactly (h a power of two, n an
 * integer < 2^53, all far from under/overflow: the caller checks). t1 - p
 * is split exactly (two-sum); the remaining five-term sum has a rounding
 * error below 4u * sum|terms| (Higham, recursive summation, u = 2^-53);
 * 2^-49 of it plus rb is a safe margin. */
static int div_sign_fast(double t1, double t2, double rb, double p, double e, double nh)
{
    double a = t1 - p, bp = a - t1;
    double ae = (t1 - (a - bp)) + (-p - bp);
    double d = (((a + t2) - e) - nh) + ae;
    double bound = (fabs(a) + fabs(t2) + fabs(e) + fabs(nh) + fabs(ae)) * 0x1p-49 + rb;
    return d > bound ? 1 : d < -bound ? -1 : 0;
}

/* The common case of sim_ind_xsum_div without building expansions (perf):
 * 1 and *out = q when S/n lies certainly strictly between the midpoints
 * around a candidate q, i.e. q = RN(S/n), the value the exact loop below
 * converges to from any start within an ulp or two; 0 when undecided (ties,
 * near-ties, extreme magnitudes, many partials): the caller then runs the
 * exact loop, so the result is the same double either way. */
static int div_fast(const sim_ind_xsum *s, double n, double *out)
{
    int k = s->n;
    if (k < 1 || k > 8 || !(n > 1.0 && n < 0x1p53))
        return 0;
    double t1 = s->p[k - 1], t2 = k >= 2 ? s->p[k - 2] : 0.0, rb = 0.0;
    if (!(fabs(t1) >= 0x1p-700 && fabs(t1) <= 0x1p700))
        return 0;
    for (int i = 0; i < k - 2; i++)
        rb += fabs(s->p[i]);
    rb *= 1.0 + 0x1p-48; /* k <= 8 terms: covers the rounding of the sum */
    /* candidate: (t1 + t2) / n to about an ulp; t1 - n*q0 is exact (fma) */
    double q0 = t1 / n;
    double q = q0 + (fma(-n, q0, t1) + t2) / n;
    double aq = fabs(q);
    if (!(aq >= 0x1p-800 && aq <= 0x1p800))
        return 0;
    double up, dn;
    neighbours(q, &up, &dn);
    double p = n * q, e = fma(n, q, -p);
    if (div_sign_fast(t1, t2, rb, p, e, n * ((up - q) / 2)) >= 0)
        return 0; /* at or above the upper midpoint, or undecided */
    if (div_sign_fast(t1, t2, rb, p, e, -n * ((q - dn) / 2)) <= 0)
        return 0;
    *out = q;
    return 1;
}

double sim_ind_xsum_div(const sim_ind_xsum *s, double n)
{
    double q;
    if (div_fast(s, n, &q))
        return q;
    q = sim_ind_xsum_round(s);
    if (n == 1.0 || !isfinite(q))
        return q;
    q /= n; /* within an ulp or two of the exact quotient; fix it up below */
    for (int iter = 0; iter < 4; iter++) {
        double up, dn;
        neighbours(q, &up, &dn);
        xsum_rem r;
        rem_init(&r, s, n, q);
        int c = rem_sign(&r, n, (up - q) / 2); /* vs midpoint above */
        if (c == 2)
            return q;
        if (c > 0) {
            q = up;
            continue;
        }
        if (c == 0)
            return mantissa_even(q) ? q : up;
        c = rem_sign(&r, n, -(q - dn) / 2); /* vs midpoint below */
        if (c == 2)
            return q;
        if (c < 0) {
            q = dn;
            continue;
        }
        if (c == 0)
            return mantissa_even(q) ? q : dn;
        return q;
    }
    return q;
}

/* ------------------------------------------------------------ window */

static int window_init(sim_ind_window *w, int period)
{
    memset(w, 0, sizeof *w);
    if (period < 1)
        return PT_EINVAL;
    w->v = calloc((size_t)period, sizeof *w->v);
    if (!w->v)
        return PT_ENOMEM;
    w->period = period;
    return PT_OK;
}

/* Stores x; returns 1 and the evicted value in *old once the ring is full. */
static int window_push(sim_ind_window *w, double x, double *old)
{
    if (w->count < w->period) {
        w->v[w->count++] = x;
        return 0;
    }
    *old = w->v[w->head];
    w->v[w->head] = x;
    if (++w->head == w->period) /* no division on the per-candle path */
        w->head = 0;
    return 1;
}

/* ------------------------------------------------------------ sma memo
 * sim_memo_enable (sim.h). A series is keyed by period and first input; an
 * instance replays it (MEMO_READ) while each input equals the recorded
 * one, else rebuilds its exact sums from its window (it kept the window up
 * to date) and goes on computing; one instance at a time extends a series
 * (MEMO_RECORD). Plain means only (want_sd == 0). */
#define MEMO_MAX_SERIES 256
enum { MEMO_OFF = 0, MEMO_UNBOUND, MEMO_READ, MEMO_RECORD };

typedef struct sim_ind_memo_series {
    int period;
    double x0;
    double *x, *mean;
    size_t n, cap;
    int recording;
} sim_ind_memo_series;

static struct {
    size_t budget, used;
    int n;
    sim_ind_memo_series *s[MEMO_MAX_SERIES];
} memo;

void sim_memo_enable(size_t max_bytes) { memo.budget = max_bytes; }

static sim_ind_memo_series *memo_series(int period, double x0)
{
    for (int i = 0; i < memo.n; i++)
        if (memo.s[i]->period == period && memo.s[i]->x0 == x0)
            return memo.s[i];
    if (memo.n == MEMO_MAX_SERIES)
        return NULL;
    sim_ind_memo_series *m = calloc(1, sizeof *m);
    if (m) {
        m->period = period, m->x0 = x0;
        memo.s[memo.n++] = m;
    }
    return m;
}

static int memo_append(sim_ind_memo_series *m, double x, double mean)
{
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 4096;
        if (memo.used + (cap - m->cap) * 2 * sizeof(double) > memo.budget)
            return -1;
        double *nx = realloc(m->x, cap * sizeof *nx);
        if (nx)
            m->x = nx;
        double *nm = nx ? realloc(m->mean, cap * sizeof *nm) : NULL;
        if (!nm)
            return -1;
        m->mean = nm;
        memo.used += (cap - m->cap) * 2 * sizeof(double);
        m->cap = cap;
    }
    m->x[m->n] = x, m->mean[m->n] = mean;
    m->n++;
    return 0;
}

static void memo_stop(sim_ind_sma *s)
{
    if (s->memo_mode == MEMO_RECORD)
        s->memo->recording = 0;
    s->memo_mode = MEMO_OFF;
}

/* ------------------------------------------------------------ sma */

static int sq_add(sim_ind_xsum *s, double x, double sign)
{
    double p = x * x, e = fma(x, x, -p); /* x*x == p + e exactly */
    int rc = sim_ind_xsum_add(s, sign * p);
    return rc ? rc : sim_ind_xsum_add(s, sign * e);
}

int sim_ind_sma_init(sim_ind_sma *s, int period, int want_sd)
{
    memset(s, 0, sizeof *s);
    s->mean = s->sd = NAN;
    s->want_sd = want_sd;
    s->memo_mode = memo.budget && !want_sd ? MEMO_UNBOUND : MEMO_OFF;
    return window_init(&s->w, period);
}

/* Rebuild the sums from the window alone: used when the expansion grew past
 * its bound (history of values long gone can leave extra partials). */
static int sma_rebuild(sim_ind_sma *s)
{
    sim_ind_xsum_reset(&s->sum);
    sim_ind_xsum_reset(&s->sumsq);
    for (int i = 0; i < s->w.count; i++) {
        if (sim_ind_xsum_add(&s->sum, s->w.v[i]))
            return PT_ERANGE;
        if (s->want_sd && sq_add(&s->sumsq, s->w.v[i], 1.0))
            return PT_ERANGE;
    }
    return PT_OK;
}

static int sma_compute(sim_ind_sma *s, double x);
static int sma_rebuild(sim_ind_sma *s);

/* 1 when the update was served from the memo. */
static int memo_replay(sim_ind_sma *s, double x)
{
    if (s->memo_mode == MEMO_UNBOUND) {
        s->memo = memo_series(s->w.period, x);
        s->memo_mode = s->memo ? MEMO_READ : MEMO_OFF;
    }
    if (s->memo_mode != MEMO_READ)
        return 0;
    sim_ind_memo_series *m = s->memo;
    if (s->memo_k < m->n && m->x[s->memo_k] == x) {
        double old;
        window_push(&s->w, x, &old);
        s->mean = m->mean[s->memo_k++];
        return 1;
    }
    /* a different input, or the end of what is recorded: exact sums from
     * the window, then compute (and extend the series if nobody does) */
    s->memo_mode = s->memo_k == m->n && !m->recording ? MEMO_RECORD : MEMO_OFF;
    if (s->memo_mode == MEMO_RECORD)
        m->recording = 1;
    if (sma_rebuild(s))
        memo_stop(s);
    return 0;
}

int sim_ind_sma_update(sim_ind_sma *s, double x)
{
    if (!isfinite(x) || !s->w.v)
        return PT_EINVAL;
    if (s->memo_mode && memo_replay(s, x))
        return PT_OK;
    int rc = sma_compute(s, x);
    if (s->memo_mode == MEMO_RECORD) {
        if (rc || memo_append(s->memo, x, s->mean))
            memo_stop(s);
        else
            s->memo_k++;
    }
    return rc;
}

static int sma_compute(sim_ind_sma *s, double x)
{
    double old = 0.0;
    int rc = PT_OK;
    int evicted = window_push(&s->w, x, &old);
    if (evicted)
        rc = sim_ind_xsum_add(&s->sum, -old);
    if (!rc)
        rc = sim_ind_xsum_add(&s->sum, x);
    if (!rc && s->want_sd) {
        if (evicted)
            rc = sq_add(&s->sumsq, old, -1.0);
        if (!rc)
            rc = sq_add(&s->sumsq, x, 1.0);
    }
    if (rc && (rc = sma_rebuild(s)) != PT_OK) {
        pt_err_log("sma(%d): exact sum exceeds %d partials", s->w.period, SIM_IND_XSUM_CAP);
        s->mean = s->sd = NAN;
        return rc;
    }
    if (s->w.count < s->w.period)
        return PT_OK;
    s->mean = sim_ind_xsum_div(&s->sum, s->w.period);
    if (s->want_sd) {
        double var = sim_ind_xsum_div(&s->sumsq, s->w.period) - s->mean * s->mean;
        s->sd = var > 0.0 ? sqrt(var) : 0.0;
    }
    return PT_OK;
}

int sim_ind_sma_ready(const sim_ind_sma *s)
{
    return s->w.period > 0 && s->w.count >= s->w.period;
}

void sim_ind_sma_free(sim_ind_sma *s)
{
    if (!s)
        return;
    memo_stop(s);
    free(s->w.v);
    s->w.v = NULL;
}

/* ------------------------------------------------------------ ema */

int sim_ind_ema_init(sim_ind_ema *e, int period)
{
    memset(e, 0, sizeof *e);
    e->value = NAN;
    if (period < 1)
        return PT_EINVAL;
    e->period = period;
    e->alpha = 2.0 / ((double)period + 1.0);
    return PT_OK;
}

int sim_ind_ema_update(sim_ind_ema *e, double x)
{
    if (!isfinite(x) || e->period < 1)
        return PT_EINVAL;
    e->value = e->count == 0 ? x : (x - e->value) * e->alpha + e->value;
    count_inc(&e->count);
    return PT_OK;
}

int sim_ind_ema_ready(const sim_ind_ema *e)
{
    return e->period > 0 && e->count >= e->period;
}

/* ------------------------------------------------------------ rsi */

int sim_ind_rsi_init(sim_ind_rsi *r, int period)
{
    memset(r, 0, sizeof *r);
    r->value = NAN;
    if (period < 1)
        return PT_EINVAL;
    r->period = period;
    return PT_OK;
}

static double rsi_of(double up, double down)
{
    double s = up + down;
    return s > 0.0 ? 100.0 * (up / s) : 50.0;
}

int sim_ind_rsi_update(sim_ind_rsi *r, double x)
{
    if (!isfinite(x) || r->period < 1)
        return PT_EINVAL;
    if (r->count > 0) {
        double d = x - r->prev;
        double up = d > 0.0 ? d : 0.0, down = d < 0.0 ? -d : 0.0;
        if (r->count <= r->period) { /* the first `period` moves: simple mean */
            r->up += up;
            r->down += down;
            if (r->count == r->period) {
                r->up /= r->period;
                r->down /= r->period;
                r->value = rsi_of(r->up, r->down);
            }
        } else { /* Wilder smoothing */
            double per = 1.0 / r->period;
            r->up = (up - r->up) * per + r->up;
            r->down = (down - r->down) * per + r->down;
            r->value = rsi_of(r->up, r->down);
        }
    }
    r->prev = x;
    count_inc(&r->count);
    return PT_OK;
}

/* ------------------------------------------------------------ macd */

int sim_ind_macd_init(sim_ind_macd *m, int fast, int slow, int signal)
{
    memset(m, 0, sizeof *m);
    m->macd = m->signal = m->hist = NAN;
    if (sim_ind_ema_init(&m->fast, fast) || sim_ind_ema_init(&m->slow, slow) || signal < 1)
        return PT_EINVAL;
    m->signal_period = signal;
    m->signal_alpha = 2.0 / ((double)signal + 1.0);
    return PT_OK;
}

int sim_ind_macd_update(sim_ind_macd *m, double x)
{
    if (!isfinite(x) || m->signal_period < 1)
        return PT_EINVAL;
    sim_ind_ema_update(&m->fast, x);
    sim_ind_ema_update(&m->slow, x);
    count_inc(&m->count);
    if (m->count < m->slow.period)
        return PT_OK;
    m->macd = m->fast.value - m->slow.value;
    if (m->count == m->slow.period) /* Tulip: the signal starts at the first macd */
        m->signal = m->macd;
    else
        m->signal = (m->macd - m->signal) * m->signal_alpha + m->signal;
    m->hist = m->macd - m->signal;
    return PT_OK;
}

int sim_ind_macd_ready(const sim_ind_macd *m)
{
    return m->signal_period > 0 && m->count >= m->slow.period - 1 + m->signal_period;
}

/* ------------------------------------------------------------ max / min */

int sim_ind_extreme_init(sim_ind_extreme *e, int period, int is_min)
{
    memset(e, 0, sizeof *e);
    e->value = NAN;
    if (period < 1)
        return PT_EINVAL;
    e->val = calloc((size_t)period, sizeof *e->val);
    e->idx = calloc((size_t)period, sizeof *e->idx);
    if (!e->val || !e->idx) {
        sim_ind_extreme_free(e);
        return PT_ENOMEM;
    }
    e->period = period;
    e->is_min = is_min;
    return PT_OK;
}

int sim_ind_extreme_update(sim_ind_extreme *e, double x)
{
    if (!isfinite(x) || !e->val)
        return PT_EINVAL;
    int cap = e->period;
    /* drop the front once it leaves the window [seen-period+1, seen] */
    while (e->len > 0 && e->idx[e->head] <= e->seen - cap) {
        e->head = (e->head + 1) % cap;
        e->len--;
    }
    /* drop dominated values at the back */
    while (e->len > 0) {
        int back = (e->head + e->len - 1) % cap;
        if (e->is_min ? e->val[back] < x : e->val[back] > x)
            break;
        e->len--;
    }
    int slot = (e->head + e->len) % cap;
    e->val[slot] = x;
    e->idx[slot] = e->seen;
    e->len++;
    e->seen++;
    if (e->seen >= cap)
        e->value = e->val[e->head];
    return PT_OK;
}

void sim_ind_extreme_free(sim_ind_extreme *e)
{
    if (!e)
        return;
    free(e->val);
    free(e->idx);
    e->val = NULL;
    e->idx = NULL;
}

/* ------------------------------------------------------------ atr */

int sim_ind_atr_init(sim_ind_atr *a, int period)
{
    memset(a, 0, sizeof *a);
    a->value = NAN;
    if (period < 1)
        return PT_EINVAL;
    a->period = period;
    return PT_OK;
}

int sim_ind_atr_update(sim_ind_atr *a, double high, double low, double close)
{
    if (!isfinite(high) || !isfinite(low) || !isfinite(close) || a->period < 1)
        return PT_EINVAL;
    double tr = high - low;
    if (a->count > 0) {
        double h = fabs(high - a->prev_close), l = fabs(low - a->prev_close);
        tr = fmax(tr, fmax(h, l));
    }
    if (a->count < a->period) {
        a->sum += tr;
        if (a->count + 1 == a->period)
            a->value = a->sum / a->period;
    } else {
        a->value = (tr - a->value) * (1.0 / a->period) + a->value;
    }
    a->prev_close = close;
    count_inc(&a->count);
    return PT_OK;
}

/* ------------------------------------------------------------ crossover */

int sim_ind_cross_update(sim_ind_cross *c, double d)
{
    int r = 0;
    if (d > 0.0) {
        r = c->last_sign < 0 ? 1 : 0;
        c->last_sign = 1;
    } else if (d < 0.0) {
        r = c->last_sign > 0 ? -1 : 0;
        c->last_sign = -1;
    }
    return r; /* d == 0 (tie) or NaN: no cross, sign carried */
}
