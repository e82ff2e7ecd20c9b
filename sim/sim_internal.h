/* sim internals: the pure fill model (sim_orders.c) and risk arithmetic
 * (sim_risk.c) that the engine (sim_engine.c) composes. Pure functions of
 * their arguments so the unit tests can pin every rule; no allocation, no
 * I/O, no clock. The rules are written out in sim/README.md.
 */
#ifndef PT_SIM_INTERNAL_H
#define PT_SIM_INTERNAL_H

#include "sim.h"

#include <stdint.h>

/* Writes a parameter/plugin error into err (cap bytes, may be NULL);
 * returns PT_EINVAL so callers can `return sim_errf(...)`. */
int sim_errf(char *err, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* strategy_v2.c: ABI-2 plugins. The v2 table behind a wrapped one, or NULL;
 * a table's check (0, or PT_EINVAL with err); the wrapper the engine uses
 * (*out freed with free() after the engine). */
const sim_strategy_ops_v2 *sim_v2_of(const sim_strategy_ops *ops);
int sim_v2_validate(const sim_strategy_ops_v2 *o, const char *origin, char *err, size_t cap);
int sim_v2_wrap(const sim_strategy_ops_v2 *o, sim_strategy_ops **out);

/* 1 if the fill model can use r: prices finite and >= 0, trailing below
 * 100 %, a known type, the prices its type needs > 0 (sim_engine.c). */
int sim_request_valid(const sim_order_request *r);

/* ------------------------------------------------------------ fill model */

/* A resting order as the fill model sees it. side: +1 buy, -1 sell. */
typedef struct sim_order_px {
    sim_order_type type;
    int side;
    double limit_price; /* LIMIT, STOP_LIMIT */
    double stop_price;  /* STOP, STOP_LIMIT */
    int triggered;      /* STOP_LIMIT whose stop fired on an earlier candle */
} sim_order_px;

typedef enum sim_fill_result {
    SIM_FILL_NONE = 0,      /* stays open */
    SIM_FILL_YES = 1,       /* filled at *price */
    SIM_FILL_TRIGGERED = 2, /* STOP_LIMIT fired but its limit was not reachable
                               on this candle: rests as a limit from the next */
} sim_fill_result;

/* Clamp p into the candle's traded range [low, high]: no fill ever uses a
 * price the candle did not trade. */
double sim_clamp_range(double p, const pt_candle *c);

/* Decide whether o fills on candle c (the candle after the decision) and at
 * what price, slippage (bps, taker orders only) included and clamped.
 * *maker is set to 1 for fills that rested as limits (maker fee). */
sim_fill_result sim_fill_eval(const sim_order_px *o, const pt_candle *c, double slippage_bps,
                              double *price, int *maker);

/* Protective exits attached to a position (side +1 long, -1 short). 0 means
 * none. trail_stop is the current trailing level (0 = none). Stop-loss and
 * trailing stop are checked before take-profit: when one candle touches
 * both, the stop wins (we cannot know the path inside a bar, so assume the
 * worse one). Returns 1 with *price and *reason ("stop_loss",
 * "trailing_stop", "take_profit") when the position exits on c. */
int sim_protect_eval(int side, double stop_loss, double take_profit, double trail_stop,
                     const pt_candle *c, double slippage_bps, double *price, const char **reason);

/* Trailing level after candle c: ratchets with the extreme in the
 * position's favour, never loosens. extreme is updated in place. */
double sim_trail_update(int side, double trail_pct, double *extreme, const pt_candle *c);

/* ------------------------------------------------------------------ sizing */

/* Quantity to buy with a fill price and a fee rate (fraction, 0.001 = 10
 * bps) so that qty*price*(1+fee) <= budget, never negative, with the
 * floating-point guard described in README (step down by ulps). */
double sim_qty_for_budget(double budget, double price, double fee);

/* Target entry quantity for the sizing rule, capped by what the cash pays
 * for (including the fee). atr <= 0 or NaN with SIM_SIZE_RISK gives 0. */
double sim_size_entry(const sim_sizing *s, double cash, double equity, double price, double fee,
                      double atr, double atr_mult);

/* ------------------------------------------------------------------ ATR
 * Wilder's ATR (the classic: first value is the mean of the first n true
 * ranges, then smoothed); NaN until warm. O(1) per candle. */
typedef struct sim_atr {
    int n, count;
    double prev_close, sum, value;
} sim_atr;

void sim_atr_init(sim_atr *a, int period);
double sim_atr_update(sim_atr *a, const pt_candle *c);

/* ------------------------------------------------------------------ risk */

/* Session-wide risk bookkeeping (per-symbol parts live in the engine). */
typedef struct sim_risk_state {
    double peak_equity;
    double day_start_equity;
    int64_t day; /* UTC day index of the current candle */
    int daily_blocked;
    int killed; /* max drawdown kill switch fired: flatten, no more entries */
} sim_risk_state;

void sim_risk_init(sim_risk_state *r, double equity);
/* Account for a new equity mark at event time ts_ms. Returns a bitmask of
 * events that fired on this mark: SIM_RISK_EV_DAILY, SIM_RISK_EV_KILL. */
#define SIM_RISK_EV_DAILY 1
#define SIM_RISK_EV_KILL 2
int sim_risk_mark(sim_risk_state *r, const sim_engine_config *cfg, int64_t ts_ms, double equity);

#endif
