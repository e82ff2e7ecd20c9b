/* sim internal: incremental technical indicators (sim_ind_*), used by the
 * built-in strategies and by the engine (ATR for risk sizing).
 *
 * Every update is O(1) (amortized O(1) for the windowed max/min) and never
 * allocates; *_init allocates the window once and *_free releases it
 * (*_free on a zeroed or already freed struct is a no-op). Values are NAN
 * until the indicator is warm. Updates reject a non-finite input with
 * PT_EINVAL and leave the state unchanged.
 *
 * Definitions follow Tulip Indicators (tulipindicators.org) so that the
 * reference vectors in tulipindicators tests/untest.txt apply:
 *   sma, stddev (population), bbands: window of `period`, first value at the
 *     period-th input; the SMA is the correctly rounded mean of the window
 *     (exact running sum, see sim_ind_xsum) so it never drifts and equal
 *     window means compare equal.
 *   ema: alpha = 2/(period+1), seeded with the first input.
 *   rsi: Wilder; the first value (after period+1 inputs) uses the simple
 *     mean of the first `period` up/down moves, then Wilder smoothing
 *     (alpha = 1/period). Flat series (no moves at all) give 50.
 *   macd: fast and slow EMAs seeded with the first input; macd is defined
 *     from the slow-th input; the signal EMA is seeded with that first macd.
 *     (Tulip replaces 2/13 and 2/27 by 0.15 and 0.075 for 12/26; we do not.)
 *   atr: Wilder; true range of the first candle is high-low; first value is
 *     the mean of the first `period` true ranges, then alpha = 1/period.
 *   max/min: highest/lowest of the last `period` inputs.
 */
#ifndef PT_SIM_INDICATORS_H
#define PT_SIM_INDICATORS_H

#include "pt_core.h"
#include "sim_strategy.h"

#include <stddef.h>

/* ------------------------------------------------------------ exact sum
 * A Shewchuk expansion (non-overlapping partials, increasing magnitude, as
 * in Python's math.fsum): the exact value of a running sum of doubles, with
 * add and remove (add of -x). The number of partials is bounded by the bit
 * span of the values involved (2-3 for prices); past SIM_IND_XSUM_CAP the
 * add fails with PT_ERANGE. */
#define SIM_IND_XSUM_CAP 96
typedef struct sim_ind_xsum {
    int n;
    double p[SIM_IND_XSUM_CAP];
} sim_ind_xsum;

void sim_ind_xsum_reset(sim_ind_xsum *s);
int sim_ind_xsum_add(sim_ind_xsum *s, double x);
/* The exact sum rounded once to nearest (ties to even). */
double sim_ind_xsum_round(const sim_ind_xsum *s);
/* Sign of the exact sum: -1, 0, 1. */
int sim_ind_xsum_sign(const sim_ind_xsum *s);
/* The exact quotient sum/n rounded once to nearest (ties to even); n > 0
 * and an integer below 2^53. */
double sim_ind_xsum_div(const sim_ind_xsum *s, double n);

/* ------------------------------------------------------------ window
 * Ring of the last `period` inputs, shared by the windowed indicators. */
typedef struct sim_ind_window {
    double *v;
    int period, count, head; /* head: slot of the oldest value once full */
} sim_ind_window;

/* ------------------------------------------------------------ sma / stddev */
struct sim_ind_memo_series;
typedef struct sim_ind_sma {
    sim_ind_window w;
    sim_ind_xsum sum;
    sim_ind_xsum sumsq; /* only with want_sd: x*x kept exactly (fma split) */
    int want_sd;
    double mean, sd; /* NAN until warm */
    /* sim_memo_enable (sim.h): the recorded series this one replays or
     * records, and how far; memo_mode 0 = computing by itself */
    struct sim_ind_memo_series *memo;
    size_t memo_k;
    int memo_mode;
} sim_ind_sma;

int sim_ind_sma_init(sim_ind_sma *s, int period, int want_sd); /* PT_ENOMEM, PT_EINVAL */
int sim_ind_sma_update(sim_ind_sma *s, double x);
int sim_ind_sma_ready(const sim_ind_sma *s);
void sim_ind_sma_free(sim_ind_sma *s);

/* ------------------------------------------------------------ ema */
typedef struct sim_ind_ema {
    int period, count;
    double alpha, value; /* value is defined from the first input (Tulip seeding) */
} sim_ind_ema;

int sim_ind_ema_init(sim_ind_ema *e, int period);
int sim_ind_ema_update(sim_ind_ema *e, double x);
/* Warm once `period` inputs were seen (the seed has mostly washed out). */
int sim_ind_ema_ready(const sim_ind_ema *e);

/* ------------------------------------------------------------ rsi */
typedef struct sim_ind_rsi {
    int period, count;
    double prev, up, down, value;
} sim_ind_rsi;

int sim_ind_rsi_init(sim_ind_rsi *r, int period);
int sim_ind_rsi_update(sim_ind_rsi *r, double x);

/* ------------------------------------------------------------ macd */
typedef struct sim_ind_macd {
    sim_ind_ema fast, slow;
    int signal_period, count;
    double signal_alpha;
    double macd, signal, hist; /* NAN until defined (see top) */
} sim_ind_macd;

int sim_ind_macd_init(sim_ind_macd *m, int fast, int slow, int signal);
int sim_ind_macd_update(sim_ind_macd *m, double x);
/* Warm once the signal line has `signal` values behind it. */
int sim_ind_macd_ready(const sim_ind_macd *m);

/* ------------------------------------------------------------ max / min
 * Monotonic deque over the window: amortized O(1). */
typedef struct sim_ind_extreme {
    double *val;
    long long *idx;
    int period, is_min, head, len;
    long long seen;
    double value; /* NAN until `period` inputs */
} sim_ind_extreme;

int sim_ind_extreme_init(sim_ind_extreme *e, int period, int is_min);
int sim_ind_extreme_update(sim_ind_extreme *e, double x);
void sim_ind_extreme_free(sim_ind_extreme *e);

/* ------------------------------------------------------------ atr */
typedef struct sim_ind_atr {
    int period, count;
    double prev_close, sum, value; /* value NAN until `period` candles */
} sim_ind_atr;

int sim_ind_atr_init(sim_ind_atr *a, int period);
int sim_ind_atr_update(sim_ind_atr *a, double high, double low, double close);

/* ------------------------------------------------------------ crossover
 * Exact crossover of a difference d = fast - slow: a cross up is the update
 * where d > 0 and the last non-zero d before it was < 0; a tie (d == 0)
 * carries the previous sign; the first non-zero d has no previous sign and
 * is not a cross. Returns +1 (up), -1 (down) or 0. */
typedef struct sim_ind_cross {
    int last_sign;
} sim_ind_cross;

int sim_ind_cross_update(sim_ind_cross *c, double d);

/* ------------------------------------------------------------ registry glue
 * The built-in strategy tables (strategies.c), listed by the registry
 * (strategy_registry.c). */
extern const sim_strategy_ops *const sim_builtin_strategies[];
extern const size_t sim_builtin_strategy_count;
/* 1 if ops is a built-in whose rule is symmetric (it shorts), else 0. */
int sim_builtin_shorts(const sim_strategy_ops *ops);

/* Structural check of a strategy table (ABI, required functions, parameter
 * specs); origin names it in the message. 0 or PT_EINVAL with err set. */
int sim_strategy_validate(const sim_strategy_ops *ops, const char *origin, char *err,
                          size_t errcap);

#endif
