/* sim engine internals shared by sim_engine.c (the per-candle pipeline) and
 * sim_control.c (operator controls). Not part of the public API (sim.h);
 * nothing outside sim/ includes this. Loop thread only, like the engine. */
#ifndef PT_SIM_ENGINE_INTERNAL_H
#define PT_SIM_ENGINE_INTERNAL_H

#include "sim_internal.h"

/* Pending controls: a live session and a replay of the same candles only
 * ever hold one boundary's controls (the rest applied before the candle
 * after it), so the per-boundary cap bounds the queue too. */
#define SIM_CTL_QUEUE SIM_CONTROLS_PER_CANDLE

typedef struct sim_order {
    uint64_t id;
    sim_order_px px;
    sim_intent intent;
    double qty; /* 0 = size at fill time (entries) / whole position (exits) */
    double stop_loss, take_profit, trailing_pct;
    int tif_left; /* candles left; 0 = good till cancelled */
    const char *reason;
} sim_order;

typedef struct sim_symbol {
    char name[PT_SYMBOL_MAX];
    quality_checker *qc;
    void *strat;
    sim_order *orders; /* [cfg.max_open_orders] */
    int n_orders;
    int pf_id;            /* symbol id in the portfolio */
    double qty, avg_price; /* mirrors of the portfolio position after each fill */
    double sl, tp, trail_pct, trail_extreme, trail_stop;
    int protect_armed; /* protections bite from the candle after the entry fill */
    double last_close;
    int64_t last_ts;
    sim_atr atr;
    int consec_losses, cooldown_left;
    int failures, breaker_left;
    /* perp (sim_perp.c) */
    int fund_sym;       /* its symbol index in the funding file; -1 none, -2 not looked up */
    size_t fund_next;   /* next funding row to look at */
    const pf_rules *rules; /* into e->rules; NULL = none for this symbol */
} sim_symbol;

/* The newest mark candle of a symbol (sim_perp.c). */
typedef struct sim_mark_slot {
    pt_candle c;
    int64_t last_ts;
} sim_mark_slot;

/* An operator control waiting for its candle boundary (sim_control.c). */
typedef struct sim_ctl_pending {
    sim_control_action action;
    char symbol[PT_SYMBOL_MAX];
    int64_t boundary; /* applies after every candle with ts <= boundary */
} sim_ctl_pending;

struct sim_engine {
    sim_engine_config cfg;
    sim_hooks hooks;
    void *ud;
    sim_symbol *syms; /* [cfg.max_symbols] */
    int n_syms, last_sym;
    pf_portfolio *pf;
    int64_t row_ts;
    int row_pending;
    uint64_t next_order_id;
    sim_risk_state risk;
    sim_engine_stats st;
    int finished, full_logged;
    /* operator controls */
    int64_t event_ts; /* newest accepted candle time; INT64_MIN before the first */
    int paused;       /* entries blocked (SIM_BLOCK_PAUSED) */
    sim_ctl_pending ctl[SIM_CTL_QUEUE];
    int n_ctl;
    int64_t ctl_last_b; /* boundary of the newest queued control */
    int ctl_last_n;     /* controls queued at ctl_last_b (applied or not) */
    /* an external strategy (sim_engine_ext.c), borrowed from the table */
    struct sim_ext *ext;
    int ext_dead; /* backtest: it failed; every candle now returns PT_ESTATE */
    struct sim_ext_restart *ext_rs; /* live: restarts and the candles to re-warm from */
    /* perp (sim_perp.c) */
    sim_funding_fn on_funding;
    void *funding_ud;
    struct feed_source *marks;
    const char *marks_path;
    pt_candle mark_next;
    int mark_have, mark_eof, n_marks;
    sim_mark_slot mark[PF_MAX_SYMBOLS];
    int fund_wild; /* the "*" rows of a funding file belong to a symbol now */
    uint64_t marks_missing, funding_applied, funding_ends_early;
    int input_dead; /* a bad mark or funding input: every candle now returns PT_EPARSE */
    pf_rules_set *rules; /* the engine's copy of cfg.rules; NULL = none */
};

/* sim_engine.c, for sim_control.c */
void sim_eng_alert(sim_engine *e, int64_t ts, const char *sym, const char *kind, const char *fmt,
                   ...) __attribute__((format(printf, 5, 6)));
/* Cancel the symbol's orders (entries only if entries_only), reason why. */
void sim_eng_cancel_orders(sim_engine *e, sim_symbol *s, int64_t ts, int entries_only,
                           const char *why);
/* Cancel every order of s and, if a position is open, queue a market exit
 * (fills at the symbol's next candle open, like a strategy exit). */
void sim_eng_market_exit(sim_engine *e, sim_symbol *s, int64_t ts, const char *reason);

/* Queue one order request (sizing: qty 0 = the session's rule). */
void sim_eng_submit(sim_engine *e, sim_symbol *s, const pt_candle *c, const sim_order_request *rq,
                    double qty);
/* sim_engine_ext.c: an external strategy decides on candle c and its
 * orders are submitted; PT_OK or its failure (logged there). */
int sim_eng_ext_decide(sim_engine *e, sim_symbol *s, const pt_candle *c, sim_signal *sig);
/* sim_ext_restart.c (live only): at each candle of s given to the strategy,
 * before it decides: restart a failed strategy when its backoff is over
 * (alerts strategy_restart / strategy_down), then remember c to re-warm
 * from. PT_OK, or PT_ENOMEM. sim_ext_rs_free(NULL) is a no-op. */
typedef struct sim_ext_restart sim_ext_restart;
int sim_ext_rs_tick(sim_engine *e, sim_symbol *s, const pt_candle *c);
/* The strategy failed on c (live): every symbol's breaker opens until the
 * restart (alert circuit_breaker). */
void sim_ext_rs_failed(sim_engine *e, const pt_candle *c);
void sim_ext_rs_free(sim_ext_restart *r);

/* After the portfolio booked f (r): mirror the position, loss streak,
 * cooldown, hook. sim_engine.c, for sim_perp.c. */
void sim_eng_after_fill(sim_engine *e, sim_symbol *s, const pf_fill *f, const pf_fill_result *r);

/* sim_rules.c, for sim_engine.c: the rules of s's symbol (after a new
 * symbol or new rules); limit/stop prices of a new order onto the tick;
 * an entry's quantity onto the lot step, 1 if the rules refuse it (alert
 * raised, counted; the caller rejects the order). */
void sim_rules_attach(sim_engine *e, sim_symbol *s);
void sim_rules_prices(sim_engine *e, const sim_symbol *s, sim_order *o);
int sim_rules_qty(sim_engine *e, const sim_symbol *s, const sim_order *o, double price, int64_t ts,
                  double *q);

/* sim_control.c, for sim_engine.c: apply queued controls whose boundary is
 * before `before` (event time), oldest first. */
void sim_ctl_apply_due(sim_engine *e, int64_t before);

#endif
