/* The strategy interface: the one header a user needs to write a strategy in
 * C, built in or loaded from a shared library (`--strategy ./libmine.so`).
 *
 * A strategy is a const table of functions with per-symbol state. It sees
 * closed candles only, in event-time order, never the future, and answers
 * with order requests. The engine owns fills, sizing and risk; a strategy
 * never touches cash or the ledger.
 *
 * Ownership: create() allocates the state, free() releases it (the engine
 * calls it exactly once per successful create). The candle and the view
 * passed to on_candle are borrowed for the duration of the call.
 *
 * A plugin exports one function:
 *     const sim_strategy_ops *papertrader_strategy_v1(void);
 * and is compiled against this header (see examples/).
 */
#ifndef PT_SIM_STRATEGY_H
#define PT_SIM_STRATEGY_H

#include "pt_core.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SIM_STRATEGY_ABI 1
#define SIM_MAX_PARAMS 64 /* engine-side array only: a larger cap keeps ABI 1 (plugins read values[0..n_params)) */
#define SIM_MAX_ORDERS 4
#define SIM_MAX_INDICATORS 4

typedef struct sim_param_spec {
    const char *name; /* "fast" */
    double def, min, max;
    int integer;      /* 1: must be a whole number */
    const char *help;
} sim_param_spec;

typedef enum sim_order_type {
    SIM_ORDER_MARKET = 0,
    SIM_ORDER_LIMIT,
    SIM_ORDER_STOP,
    SIM_ORDER_STOP_LIMIT,
} sim_order_type;

typedef enum sim_intent {
    SIM_INTENT_NONE = 0,
    SIM_INTENT_ENTER_LONG,  /* open or add to a long; subject to the quality gate and risk */
    SIM_INTENT_EXIT_LONG,   /* close the long; never blocked */
    SIM_INTENT_ENTER_SHORT, /* only when shorting is enabled */
    SIM_INTENT_EXIT_SHORT,
    SIM_INTENT_CANCEL_ALL,  /* cancel this symbol's open orders */
} sim_intent;

typedef struct sim_order_request {
    sim_intent intent;
    sim_order_type type;
    double limit_price;   /* LIMIT, STOP_LIMIT */
    double stop_price;    /* STOP, STOP_LIMIT */
    double stop_loss;     /* absolute price to attach to the position, 0 = none */
    double take_profit;   /* absolute price, 0 = none */
    double trailing_pct;  /* trailing stop distance in percent, 0 = none */
    int tif_candles;      /* 0 = good till cancelled */
    const char *reason;   /* static text, e.g. "signal" */
} sim_order_request;

typedef struct sim_signal {
    int n_orders;
    sim_order_request orders[SIM_MAX_ORDERS];
    /* indicator values after this candle, for the dashboard and debugging;
     * NAN when not yet warm */
    int n_indicators;
    double indicators[SIM_MAX_INDICATORS];
} sim_signal;

/* What the strategy may know about its position on this symbol. */
typedef struct sim_position_view {
    double qty;          /* > 0 long, < 0 short, 0 flat */
    double avg_price;
    int open_orders;
    /* 1: the session allows shorts (--allow-short). Last, so ABI 1 holds:
     * the engine owns the view, a v1 plugin reads only the fields before. */
    int allow_short;
} sim_position_view;

typedef struct sim_strategy_ops {
    int abi;                     /* SIM_STRATEGY_ABI */
    const char *name;            /* "sma_cross" */
    const char *description;
    const sim_param_spec *params;
    int n_params;
    const char *const *indicator_names; /* n_indicators entries, e.g. {"fast", "slow"} */
    int n_indicators;
    /* values[i] is params[i] after defaults and --param overrides, already
     * range-checked by the engine. Returns 0, or nonzero with a message in
     * err (e.g. "fast must be < slow"). */
    int (*create)(const double *values, void **state, char *err, size_t errcap);
    /* Called once per closed, accepted candle. Returns 0, or nonzero on a
     * failure the engine counts against this symbol's circuit breaker. */
    int (*on_candle)(void *state, const pt_candle *c, const sim_position_view *pos,
                     sim_signal *out);
    void (*free)(void *state);
} sim_strategy_ops;

typedef const sim_strategy_ops *(*sim_strategy_entry_fn)(void);
#define SIM_STRATEGY_ENTRY "papertrader_strategy_v1"

#ifdef __cplusplus
}
#endif
#endif
