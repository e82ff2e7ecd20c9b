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
 * and is compiled against this header (see examples/). ABI 2 (below) raises
 * the caps to those of external strategies (64 parameters, 32 indicators,
 * 16 orders per candle) and hands the plugin the engine's indicator
 * library; a plugin exports papertrader_strategy_v2 instead. A v1 plugin
 * still loads, unchanged: the v1 types below never change layout.
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

/* ------------------------------------------------------------------ ABI 2
 * docs/strategies.md "C plugins, ABI 2". Same rules as ABI 1 (closed
 * candles in event-time order, borrowed candle and view), with: */
#define SIM_STRATEGY_ABI_2 2
#define SIM_MAX_ORDERS_V2 16
#define SIM_MAX_INDICATORS_V2 32

typedef struct sim_signal_v2 {
    int n_orders;
    sim_order_request orders[SIM_MAX_ORDERS_V2];
    int n_indicators; /* dashboard values, NAN when not yet warm */
    double indicators[SIM_MAX_INDICATORS_V2];
} sim_signal_v2;

/* One indicator of the engine's library (opaque): the exact values the
 * built-ins and external strategies get. Owned by whoever made it with
 * indicator_new; freed with indicator_free (NULL: no-op). */
typedef struct sim_indicator sim_indicator;

/* The engine's side, handed to create(); valid until the engine is freed,
 * so the state may keep the pointer. */
typedef struct sim_host {
    int abi; /* SIM_STRATEGY_ABI_2 */
    /* kind: "sma", "ema", "rsi", "atr", "bollinger", "donchian", "macd";
     * p[3]: its periods as docs/strategy-protocol.md "Indicators" lists
     * them (period | fast, slow, signal), 0 = that kind's default; k: the
     * bollinger width (0 = 2). 0, or PT_EINVAL for an unknown kind or a bad
     * period, PT_ENOMEM. */
    int (*indicator_new)(const char *kind, const int p[3], double k, sim_indicator **out);
    /* Feed one closed candle; out[0..indicator_outputs) receive the values
     * after it (NAN until warm): sma/ema/rsi/atr one; bollinger upper,
     * middle, lower; donchian upper, lower, middle (of the candles before
     * this one); macd macd, signal, hist. 0, or PT_EINVAL on a non-finite
     * input. */
    int (*indicator_update)(sim_indicator *ind, const pt_candle *c, double out[3]);
    int (*indicator_outputs)(const sim_indicator *ind);
    void (*indicator_free)(sim_indicator *ind);
} sim_host;

typedef struct sim_strategy_ops_v2 {
    int abi; /* SIM_STRATEGY_ABI_2 */
    const char *name;
    const char *description;
    const sim_param_spec *params;
    int n_params; /* 0..SIM_MAX_PARAMS */
    const char *const *indicator_names;
    int n_indicators; /* 0..SIM_MAX_INDICATORS_V2 */
    int (*create)(const sim_host *host, const double *values, void **state, char *err,
                  size_t errcap);
    /* out arrives zeroed; orders beyond out->n_orders are ignored */
    int (*on_candle)(void *state, const pt_candle *c, const sim_position_view *pos,
                     sim_signal_v2 *out);
    void (*free)(void *state);
} sim_strategy_ops_v2;

typedef const sim_strategy_ops_v2 *(*sim_strategy_entry_v2_fn)(void);
#define SIM_STRATEGY_ENTRY_V2 "papertrader_strategy_v2"

#ifdef __cplusplus
}
#endif
#endif
