/* sim: the engine. Strategies (this section), then orders, fills, risk and
 * the session that drives them in backtest and live mode (engine section).
 *
 * Owns: strategy instances per symbol, open orders, risk state.
 * Must never: read the wall clock for a decision (event time only), touch a
 * socket or a file other than through portfolio/ and the caller's sinks.
 */
#ifndef PT_SIM_H
#define PT_SIM_H

#include "pt_core.h"
#include "portfolio.h"
#include "quality.h"
#include "sim_strategy.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------ strategies */

/* Built-in strategies by name; NULL if unknown. The tables are static. */
const sim_strategy_ops *sim_strategy_builtin(const char *name);
size_t sim_strategy_builtin_count(void);
const sim_strategy_ops *sim_strategy_builtin_at(size_t i);

/* A built-in name, a path to a shared library (contains '/' or ends in
 * ".so") exporting SIM_STRATEGY_ENTRY_V2 or SIM_STRATEGY_ENTRY, or an external strategy: a ".py"
 * (run with python3), ".mjs"/".js" (node) or any other executable file
 * path, spoken to over docs/strategy-protocol.md (loading runs it once in
 * "describe" mode for its name and parameters). On success *dl_handle
 * (NULL for built-ins) is released by the caller with sim_strategy_unload()
 * after the engine is freed; *ops stays valid until then. Errors are
 * logged with the path and the reason: PT_ENOENT, PT_EINVAL (ABI mismatch,
 * a strategy that does not answer hello), PT_EIO. */
int sim_strategy_load(const char *name_or_path, const sim_strategy_ops **ops, void **dl_handle);
void sim_strategy_unload(void *dl_handle); /* NULL: no-op */
/* One symbol's strategy state from a table of any kind (built-in, plugin of
 * ABI 1 or 2, external): 0, or nonzero with the strategy's reason in err.
 * Free it with sim_strategy_free_state (NULL state: no-op for built-ins). */
int sim_strategy_create(const sim_strategy_ops *ops, const double *values, void **state, char *err,
                        size_t errcap);
void sim_strategy_free_state(const sim_strategy_ops *ops, void *state);
/* 1 if name_or_path names an external strategy program (.py, .mjs, .js, or
 * an executable file path that is not a .so). */
int sim_strategy_is_external(const char *name_or_path);

/* Does the strategy ever go short? 1 (a symmetric built-in, or an external
 * strategy whose ready says "shorts":true), 0 (never), -1 (a .so plugin:
 * unknown). With allow_short set and a 0, sim_strategy_warn_short logs one
 * warning saying --allow-short changes nothing for it. */
int sim_strategy_shorts(const sim_strategy_ops *ops);
void sim_strategy_warn_short(const sim_strategy_ops *ops, int allow_short);

/* Fill values[0..n_params) from defaults, then apply "K=V" overrides.
 * Unknown key, non-number, out of range or non-integer for an integer
 * parameter: PT_EINVAL with a message in err naming the key and the range. */
int sim_strategy_params(const sim_strategy_ops *ops, const char *const *kv, int n_kv,
                        double *values, char *err, size_t errcap);

/* Indicator memo for a process that runs the engine many times over the
 * same candles (app/opt_pool.c workers): the first SMA of a period fed a
 * given input sequence records its means, later ones replay them while
 * their inputs are bit-identical to the recorded ones (checked at every
 * update) and compute by themselves, exactly, from the first difference on.
 * Results are the same bytes as without it. At most max_bytes are kept
 * (16 bytes per recorded update); process-wide and not thread-safe, like
 * the engine. Off unless called. */
void sim_memo_enable(size_t max_bytes);

/* ---------------------------------------------------------------- engine */
/* (engine API follows: sim_engine_*)
 *
 * One engine, two clocks: it consumes closed candles pushed one at a time
 * (sim_engine_on_candle, live) or drained from any feed_source
 * (backtest's loop over a feed_source) and never asks where they came from.
 * Event time only. Per candle: quality check -> fill this symbol's pending
 * orders -> attached stop-loss / take-profit / trailing -> mark to close ->
 * risk bookkeeping -> strategy -> new orders (which fill no earlier than
 * the next candle of that symbol). Fill rules: sim/README.md.
 *
 * Ownership: sim_engine_new() copies the config (strings in it are
 * borrowed and must outlive the engine: strategy ops, out paths); the
 * engine owns its portfolio, quality checkers and strategy instances and
 * frees them in sim_engine_free() (NULL is a no-op). Pointers passed to
 * hooks are borrowed for the duration of the call. */

struct feed_source;

typedef enum sim_sizing_kind {
    SIM_SIZE_ALL_IN = 0, /* all the cash, fee included */
    SIM_SIZE_QUOTE,      /* value = quote amount per entry */
    SIM_SIZE_PERCENT,    /* value = percent of equity per entry */
    SIM_SIZE_RISK,       /* value = percent of equity risked over atr_mult * ATR */
} sim_sizing_kind;

typedef struct sim_sizing {
    sim_sizing_kind kind;
    double value;
} sim_sizing;

/* "all-in", "quote:N", "percent:P", "risk:P"; PT_EINVAL otherwise. */
int sim_sizing_parse(const char *text, sim_sizing *out);

/* Closed candles the strategy needs before it can act (its warm-up, from
 * its parameters): built-ins by their table in sim/sim_warmup.c, an
 * external strategy by "warmup":N in its ready (describe mode), else by the
 * engine indicators it asks for, a plugin 0 (unknown: give --warmup). With risk sizing the ATR's period counts too. At most
 * SIM_WARMUP_MAX. `run` fetches this many before its first live candle. */
#define SIM_WARMUP_MAX 10000
int sim_strategy_warmup(const sim_strategy_ops *ops, const double *params, const sim_sizing *sizing,
                        int atr_period);

/* Why an entry was blocked. Names are stable (report.json keys). */
#define SIM_BLOCK_MAP(X)                                  \
    X(SIM_BLOCK_QUALITY, "quality_gate")                  \
    X(SIM_BLOCK_MAX_POSITIONS, "max_positions")           \
    X(SIM_BLOCK_MAX_EXPOSURE, "max_exposure")             \
    X(SIM_BLOCK_DAILY_LOSS, "daily_loss")                 \
    X(SIM_BLOCK_DRAWDOWN, "max_drawdown")                 \
    X(SIM_BLOCK_COOLDOWN, "cooldown")                     \
    X(SIM_BLOCK_BREAKER, "circuit_breaker")               \
    X(SIM_BLOCK_NO_SHORT, "short_disabled")               \
    X(SIM_BLOCK_ORDER_LIMIT, "order_limit")               \
    X(SIM_BLOCK_NO_CASH, "insufficient_cash")              \
    X(SIM_BLOCK_PAUSED, "paused")

typedef enum sim_block_reason {
#define SIM_BLOCK_ENUM_(name, text) name,
    SIM_BLOCK_MAP(SIM_BLOCK_ENUM_)
#undef SIM_BLOCK_ENUM_
    SIM_BLOCK__COUNT
} sim_block_reason;

const char *sim_block_name(sim_block_reason r);

/* An external strategy's session (docs/strategy-protocol.md). */
typedef struct sim_ext_options {
    int live;            /* hello "mode": "live", else "backtest" */
    int timeout_ms;      /* per answer; 0 = wait (backtest default) */
    int64_t interval_ms; /* the session's candle interval (hello, candles); 0 = 1m */
    const char *const *symbols; /* known before the first candle (live); may be NULL */
    int n_symbols;
    int allow_short;     /* hello "allow_short"; the engine copies cfg.allow_short */
} sim_ext_options;

/* ------------------------------------------------------------------ perp
 * Linear perpetuals (docs/futures.md). The funding file of a backtest:
 * loaded whole (bounded at 1e6 rows), strict, errors "path:line: field:
 * reason" (PT_EPARSE), PT_ENOENT/PT_EIO for the file. default_symbol names
 * the rows of a file without a symbol column (NULL: the one symbol the run
 * trades). period_ms > 0: consecutive rows of a symbol further apart than
 * this are a gap (PT_EPARSE). Freed by the caller after the engine. */
typedef struct sim_funding sim_funding;
int sim_funding_load(const char *path, const char *default_symbol, int64_t period_ms, sim_funding **out);
void sim_funding_free(sim_funding *fs); /* NULL: no-op */
size_t sim_funding_count(const sim_funding *fs);

typedef struct sim_perp_config {
    int on;                     /* 1: market perp; 0 (default): spot, the rest ignored */
    pf_margin_mode margin;      /* isolated (default) or cross */
    double leverage;            /* default 1; per symbol: symbol_leverage below */
    double liq_fee_bps;         /* liquidation fee on notional, default 50 */
    pf_brackets brackets;       /* n == 0: pf_brackets_default */
    const sim_funding *funding; /* borrowed, outlives the engine; NULL: funding taken as zero */
    int n_symbol_leverage;      /* per-symbol leverage over `leverage` */
    struct {
        char symbol[PT_SYMBOL_MAX];
        double leverage;
    } symbol_leverage[PF_MAX_SYMBOLS];
} sim_perp_config;

/* "SYMBOL=N,..." into p->symbol_leverage (each N in [1, max]); PT_EINVAL
 * with the reason in why. */
int sim_symbol_leverage_parse(const char *text, double max, sim_perp_config *p, char *why, size_t cap);

/* "spot"/"perp", "isolated"/"cross": PT_OK or PT_EINVAL. */
int sim_market_parse(const char *text, int *perp);
int sim_margin_parse(const char *text, pf_margin_mode *out);

typedef struct sim_engine_config {
    double cash;            /* starting cash (quote), default 10000 */
    double taker_fee_bps;   /* market, stop, protective exits; default 10 */
    double maker_fee_bps;   /* limit fills; default 10 */
    double slippage_bps;    /* taker orders only; default 0 */
    double max_participation_pct; /* fill at most this % of a candle's volume; 0 = off */
    double min_notional;    /* smallest entry (quote); below: blocked as insufficient_cash.
                               0 (default) = 0.01 % of cash: all-in on the last
                               crumbs of cash must not book 1e-24-unit dust fills */
    sim_sizing sizing;      /* default all-in */
    int atr_period;         /* risk sizing, default 14 */
    double atr_mult;        /* risk sizing stop distance in ATRs, default 2 */
    int allow_short;        /* default 0: long only */
    int close_at_end;       /* sim_engine_finish closes open positions */
    double min_quality;     /* gate for new entries; 0 = off (default 60) */
    int max_positions;      /* 0 = unlimited */
    double max_exposure_pct; /* per symbol, of equity; 0 = off */
    double daily_loss_pct;  /* 0 = off */
    double max_drawdown_pct; /* 0 = off */
    int cooldown_losses;    /* consecutive losing trades on a symbol; 0 = off */
    int cooldown_candles;
    int breaker_failures;   /* strategy failures that open the breaker (default 3) */
    int breaker_recovery;   /* candles the breaker stays open (default 100) */
    int max_symbols;        /* default 64 */
    int max_open_orders;    /* per symbol, default 16 */
    quality_config quality; /* per-symbol checker config */
    const sim_strategy_ops *strategy; /* required */
    double params[SIM_MAX_PARAMS];    /* after sim_strategy_params */
    sim_ext_options ext;              /* only read for an external strategy */
    /* optional: the recorded quality results of a symbol (quality.h
     * "replay"), replayed instead of checking; NULL (or a NULL answer):
     * checked live. app/opt_eval.c checks candles once for every run. */
    const quality_tape *(*quality_replay)(void *ud, const char *symbol);
    void *quality_replay_ud;
    /* warm-up (docs/durability.md): a candle that opens before this time
     * reaches the quality checker and the strategy but never trades: no
     * order, fill, portfolio row or hook. 0 (default) = none. */
    int64_t trade_from_ms;
    sim_perp_config perp;
    /* the exchange's trading rules (portfolio.h "rules", docs/rules.md),
     * copied by sim_engine_new; NULL (default) = none: nothing is rounded
     * or refused, the outputs are those of a run without rules */
    const pf_rules_set *rules;
} sim_engine_config;

void sim_engine_config_default(sim_engine_config *cfg);

/* Events for the hooks. */
typedef enum sim_order_status {
    SIM_ORDER_NEW = 0,
    SIM_ORDER_PARTIAL,
    SIM_ORDER_FILLED,
    SIM_ORDER_CANCELLED,
    SIM_ORDER_EXPIRED,
    SIM_ORDER_REJECTED,
} sim_order_status;

const char *sim_order_type_name(sim_order_type t);

typedef struct sim_order_event {
    uint64_t id;
    int64_t ts_ms;  /* event time of the candle that caused this event */
    const char *symbol;
    sim_order_type type;
    int side;       /* +1 buy, -1 sell */
    sim_order_status status;
    double qty;     /* 0 while sized at fill time */
    double limit_price, stop_price;
    const char *reason;
} sim_order_event;

typedef struct sim_alert {
    int64_t ts_ms;
    const char *symbol; /* NULL for session-wide */
    const char *kind;   /* "risk_block", "circuit_breaker", "kill_switch", "daily_loss", ... */
    const char *message;
} sim_alert;

/* Optional observers (any member may be NULL). The live dashboard and the
 * backtest command subscribe here; hooks must not call back into the engine. */
typedef struct sim_hooks {
    void (*on_candle)(void *ud, const pt_candle *c, quality_verdict v, double score,
                      const sim_signal *sig); /* sig NULL when the strategy did not run */
    void (*on_order)(void *ud, const sim_order_event *ev);
    /* a fill as booked in the engine's portfolio (reason: "signal",
     * "stop_loss", "take_profit", "trailing_stop", "end_of_data", "kill_switch",
     * "manual_close", "flatten") */
    void (*on_fill)(void *ud, const pf_fill *f, const pf_fill_result *r);
    /* once per closed candle time, after every symbol of that time was
     * marked (emitted when event time moves on, and by sim_engine_finish) */
    void (*on_portfolio_row)(void *ud, const pf_snapshot *row);
    void (*on_alert)(void *ud, const sim_alert *a);
} sim_hooks;

typedef struct sim_engine_stats {
    uint64_t candles;          /* pushed */
    uint64_t accepted, rejected, flagged;
    uint64_t strategy_calls, strategy_failures, breaker_opens;
    uint64_t orders, fills, cancels, expired, rejected_orders;
    uint64_t blocks[SIM_BLOCK__COUNT];
    uint64_t quality_blocks;   /* == blocks[SIM_BLOCK_QUALITY] */
    int64_t first_ts_ms, last_ts_ms; /* of accepted candles */
    int killed;
    uint64_t warmup;           /* candles before trade_from_ms (not in accepted/rejected) */
    uint64_t rules_refused;    /* entries refused by the trading rules (alert "order_rules") */
    uint64_t rules_rounded;    /* quantities and prices moved onto the lot step / tick */
} sim_engine_stats;

typedef struct sim_engine sim_engine;

/* Creates the engine and one strategy instance per symbol lazily (on the
 * first candle of each). PT_EINVAL for a bad config (logged). */
int sim_engine_new(const sim_engine_config *cfg, const sim_hooks *hooks, void *ud,
                   sim_engine **out);
void sim_engine_free(sim_engine *e);
/* Replaces the trading rules (copied; NULL = none), e.g. once a live
 * session fetched them, before its first candle. PT_ENOMEM. */
int sim_engine_set_rules(sim_engine *e, const pf_rules_set *rules);
/* The rules in force (NULL = none); valid until the next set_rules / free. */
const pf_rules_set *sim_engine_rules(const sim_engine *e);
/* Sets cfg.trade_from_ms (warm-up) before the first candle at or after it. */
void sim_engine_set_trade_from(sim_engine *e, int64_t ts_ms);

/* Push one closed candle (closed == 0 is ignored). Returns PT_OK, or
 * PT_EFULL for a symbol past max_symbols (counted, logged once). */
int sim_engine_on_candle(sim_engine *e, const pt_candle *c);
/* An external strategy that stopped answering (exited, crashed, timed
 * out, malformed answer) makes sim_engine_on_candle return PT_ESTATE from
 * then on in a backtest (the error was logged once, with the strategy, the
 * candle and the text); a live engine counts it against the circuit
 * breaker instead. */
/* Backtest read-ahead for an external strategy that asked for batches:
 * wraps *src in place so the engine may look at the candles it will be
 * pushed next (docs/strategy-protocol.md "Batches"). Call after
 * sim_engine_new, only when nothing else (operator controls) acts between
 * candles. The wrapper belongs to *src (feed_source_free releases it): free
 * the engine first. No-op (PT_OK) for other strategies. PT_ENOMEM. */
int sim_engine_lookahead(sim_engine *e, struct feed_source *src);
/* End of data: with close_at_end, close every open position at its last
 * close (reason end_of_data); otherwise they stay open, marked to the last
 * close. Idempotent. */
int sim_engine_finish(sim_engine *e);

const sim_engine_stats *sim_engine_get_stats(const sim_engine *e);
/* The counters above, per-reason blocks and per-symbol quality added to en
 * (a cJSON object, the caller's): report.json's "engine". PT_ENOMEM. */
struct cJSON;
int sim_engine_stats_to_json(const sim_engine *e, struct cJSON *en);
/* The engine's book (cash, positions, marks): read only, valid until
 * sim_engine_free. */
const pf_portfolio *sim_engine_portfolio(const sim_engine *e);
/* Emit the pending portfolio row now (a live session calls this when a
 * candle time is complete; the backtest relies on time moving on). */
void sim_engine_flush_row(sim_engine *e);
/* ------------------------------------------------------ operator controls
 * Manual controls from the dashboard (docs/protocol.md), decided like a
 * strategy decision at a candle close boundary so that the fill model's rule
 * "a decision at the close of t fills no earlier than t+1" holds and a
 * replay that applies the same controls at the same boundaries trades the
 * same (sim/README.md "Operator controls"):
 *   pause   new entries are blocked (counted as block reason "paused") and
 *           waiting entry orders are cancelled; the strategy still runs and
 *           exits, stop-losses, take-profits and trailing stops go on;
 *   resume  entries allowed again;
 *   close   one symbol: its orders are cancelled and a market exit (reason
 *           "manual_close") fills at that symbol's next candle open;
 *   flatten every symbol: all orders cancelled, market exits (reason
 *           "flatten"). Flatten does not pause: pause first to stay flat.
 * A control asked for now gets boundary T = the newest accepted candle time
 * (INT64_MIN before the first candle) and is queued; it applies when T is
 * complete: at sim_engine_flush_row() (a live session calls it once every
 * symbol has T) or before the first candle with a time after T, whichever
 * comes first, and at sim_engine_finish(). At most SIM_CONTROLS_PER_CANDLE
 * controls share one boundary, counted whether they applied at once or
 * waited; the next one at that boundary is refused (PT_EFULL). The live
 * session and every replay (resume, backtest --controls) queue through the
 * same check, so whatever a session recorded replays. Each applied control
 * raises an alert of kind "control". */
#define SIM_CONTROLS_PER_CANDLE 16
typedef enum sim_control_action {
    SIM_CTL_PAUSE = 0,
    SIM_CTL_RESUME,
    SIM_CTL_CLOSE,   /* "close_position": needs a symbol */
    SIM_CTL_FLATTEN,
    SIM_CTL__COUNT
} sim_control_action;

/* Wire/CSV names: "pause", "resume", "close_position", "flatten". */
const char *sim_control_name(sim_control_action a);
/* PT_OK and *out, or PT_EINVAL for an unknown name. */
int sim_control_parse(const char *name, sim_control_action *out);

/* Queue a control at the current boundary (*boundary_ts receives it; may be
 * NULL). symbol: required for SIM_CTL_CLOSE (copied), ignored otherwise.
 * Errors (nothing queued, a message for the operator in *why, static text,
 * may be NULL): PT_EINVAL missing symbol or bad action, PT_ENOENT unknown
 * symbol or nothing to close (flat, no orders), PT_ESTATE after
 * sim_engine_finish, PT_EFULL SIM_CONTROLS_PER_CANDLE already at this
 * boundary. */
int sim_engine_control(sim_engine *e, sim_control_action a, const char *symbol,
                       int64_t *boundary_ts, const char **why);
/* Replay: queue a control recorded at boundary_ts (DIR/controls.csv); call it
 * before pushing the first candle with a time after boundary_ts. Same
 * errors, plus PT_EINVAL for a boundary before the current one or before a
 * queued one (no validation of the symbol's position: the replay decides
 * exactly what the live session decided). */
int sim_engine_control_at(sim_engine *e, sim_control_action a, const char *symbol,
                          int64_t boundary_ts, const char **why);
/* 1 while entries are paused (after the pause applied, before a resume). */
int sim_engine_paused(const sim_engine *e);
/* Controls queued and not applied yet. */
int sim_engine_controls_pending(const sim_engine *e);

/* ------------------------------------------------------ perp events
 * What the live side (a USD-M feed) and the backtest both call; loop thread
 * only, like every engine call. Strings are borrowed for the call. */
typedef struct sim_funding_event {
    int64_t ts_ms;       /* funding time */
    const char *symbol;
    double rate, mark_price;
    double position_qty; /* signed, at the funding time */
    double payment;      /* received > 0, paid < 0 */
} sim_funding_event;
typedef void (*sim_funding_fn)(void *ud, const sim_funding_event *ev);
/* Observer of every funding event (funding.csv); NULL to clear. */
void sim_engine_set_funding_hook(sim_engine *e, sim_funding_fn fn, void *ud);
/* One funding event now: the position held now pays or receives
 * qty * mark * rate (mark <= 0: the last mark). A backtest with a funding
 * file needs no calls: the engine applies each row before the first candle
 * of its symbol at or after its time. PT_EINVAL (not perp, bad rate). */
int sim_engine_on_funding(sim_engine *e, const char *symbol, int64_t ts_ms, double rate, double mark);
/* The mark-price candle of a symbol (same ts as the trade candle it goes
 * with, pushed before it): high/low are the mark's range for the
 * liquidation check inside that candle, close the mark after it. Without
 * one a candle's own prices are the mark. Strictly increasing ts per symbol
 * or PT_EPARSE ("path:line: ts: ..." with the candle's line). */
int sim_engine_on_mark(sim_engine *e, const pt_candle *mark);
/* Backtest: pull mark candles from src (borrowed; outlives the engine)
 * before each trade candle, up to its time. path names it in errors. */
void sim_engine_set_marks(sim_engine *e, struct feed_source *src, const char *path);
/* report.json "perp": market, margin, leverage, funding paid/received/net,
 * funding events, liquidations, bankruptcy_loss, marks missing, symbols
 * whose funding file ended over a period before their data (funding_ends_early), and
 * "funding_source": the file or "none (funding taken as zero)". */
int sim_engine_perp_to_json(const sim_engine *e, struct cJSON *obj);
/* One line for stdout ("funding: ..."); buf >= 160 bytes. */
const char *sim_engine_perp_summary(const sim_engine *e, char *buf, size_t cap);

/* Per-symbol quality checker (NULL if the symbol never appeared), for reports. */
size_t sim_engine_symbol_count(const sim_engine *e);
const char *sim_engine_symbol_at(const sim_engine *e, size_t i);
const quality_checker *sim_engine_quality_at(const sim_engine *e, size_t i);

#ifdef __cplusplus
}
#endif
#endif
