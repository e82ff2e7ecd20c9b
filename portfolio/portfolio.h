/* portfolio: cash, positions, PnL, the durable ledger files (trades.csv,
 * portfolio.csv) and performance metrics.
 *
 * Owns: the pf_portfolio (cash + up to PF_MAX_SYMBOLS positions), the ledger
 * file descriptors, the metrics accumulators.
 * Must never: decide anything (the engine decides, we book), read the wall
 * clock, allocate per fill or per candle, or retry an fsync that failed.
 *
 * Cash accounting (both directions, fees always debited):
 *   buy  qty@price: cash -= qty*price + fee
 *   sell qty@price: cash += qty*price - fee
 * A short position has negative qty: opening it credits the proceeds to cash,
 * buying it back debits cash. Position value = qty * last mark (negative for
 * shorts), so at every moment
 *   equity = cash + sum(qty_i * mark_i) = initial_cash + realized + unrealized
 * with realized = sum of fill realized_pnl (fees included) and
 * unrealized = sum(qty_i * (mark_i - avg_price_i)).
 * avg_price is the volume-weighted entry price WITHOUT fees; fees are booked
 * as realized PnL of the fill that pays them (an opening fill realizes -fee).
 *
 * Threading: none; one owner thread (the engine's loop).
 */
#ifndef PT_PORTFOLIO_H
#define PT_PORTFOLIO_H

#include "pt_core.h"

#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PF_MAX_SYMBOLS 64 /* positions/symbols per portfolio (bounded table) */

typedef enum pf_side { PF_BUY = 1, PF_SELL = 2 } pf_side;
const char *pf_side_name(pf_side s); /* "buy" / "sell" / "?" ; static text */

/* One executed fill as the engine reports it. All strings are borrowed for
 * the duration of the call only (we copy what we keep). */
typedef struct pf_fill {
    int64_t ts_ms;          /* event time (candle time of the fill), epoch ms */
    const char *symbol;     /* non-empty, < PT_SYMBOL_MAX bytes */
    pf_side side;
    double qty;             /* > 0, finite */
    double price;           /* > 0, finite */
    double fee;             /* >= 0, in cash currency */
    uint64_t order_id;
    const char *order_type; /* "market", "limit", "stop", ... (NULL -> "") */
    const char *reason;     /* "signal", "stop_loss", "take_profit", "trailing_stop",
                               "kill_switch", "end_of_data" (NULL -> "") */
    double quality;         /* quality score at decision (0..100) */
} pf_fill;

/* What one fill did. */
typedef struct pf_fill_result {
    uint64_t seq;            /* 1-based fill sequence within this portfolio */
    double realized_pnl;     /* of this fill: closed_qty*(price-avg)*dir - fee */
    double cash_after;
    double qty_after;        /* signed position after the fill */
    double avg_price_after;  /* 0 when flat */
    /* perp (zero on spot): the position after the fill */
    double fee_charged;      /* the fee booked: f->fee, less what a bankrupt
                                liquidation could not pay (see pf_liquidate) */
    double bankruptcy_loss;  /* loss past the margin this fill did not book */
    double leverage, margin, liquidation_price;
    int round_trip_closed;   /* 1 when this fill took the position to flat (or
                                flipped it): a round trip ended */
    double round_trip_pnl;   /* when round_trip_closed: realized PnL of the whole
                                round trip, entry and exit fees included */
} pf_fill_result;

/* A read-only view of one position (copied out). */
typedef struct pf_position {
    char symbol[PT_SYMBOL_MAX];
    double qty;          /* signed: > 0 long, < 0 short, 0 flat */
    double avg_price;    /* 0 when flat */
    double last_price;   /* last pf_mark (or last fill price if never marked) */
    double first_price;  /* first price seen (for buy-and-hold) */
    double realized_pnl; /* lifetime, fees included */
    double fees;         /* lifetime fees on this symbol */
} pf_position;

/* Point-in-time totals; what a portfolio.csv row holds. */
typedef struct pf_snapshot {
    int64_t ts_ms;          /* closed candle time */
    double cash;
    double positions_value; /* sum qty*mark (shorts negative) */
    double equity;          /* cash + positions_value */
    double realized_pnl;    /* lifetime, fees included */
    double unrealized_pnl;
    double fees;            /* lifetime fees */
    double high_water;      /* max equity over snapshots (>= initial cash) */
    double drawdown;        /* (high_water - equity) / high_water, 0..1 (> 1 only if equity < 0) */
    int open_positions;
    double quality;         /* engine-supplied score for this candle time */
    /* perp (zero on spot): portfolio.csv's extra columns */
    double margin;             /* initial margin of the open positions */
    double maintenance_margin; /* at the marks */
    double funding;            /* lifetime net funding, received > 0 */
} pf_snapshot;

/* ---------------------------------------------------- perp: brackets
 * Leverage brackets (Binance USD-M style): tier i covers position notional
 * (cap[i-1], cap[i]] (the first from 0); max_leverage, maintenance margin
 * rate mmr (fraction). The maintenance amount cum of each tier is derived,
 * never given: cum[0] = 0, cum[i] = cum[i-1] + cap[i-1] * (mmr[i] - mmr[i-1])
 * (https://www.binance.com/en/support/faq/b3c689c1f50a44cabb3a84e663b81d93),
 * so maintenance margin = notional * mmr - cum is continuous across tiers. */
#define PF_MAX_BRACKETS 16
typedef struct pf_brackets {
    int n;
    double cap[PF_MAX_BRACKETS];          /* strictly increasing; last may be INFINITY */
    double max_leverage[PF_MAX_BRACKETS]; /* non-increasing, >= 1 */
    double mmr[PF_MAX_BRACKETS];          /* non-decreasing, in (0, 1) */
    double cum[PF_MAX_BRACKETS];          /* derived by pf_brackets_parse / _default */
} pf_brackets;

/* The built-in table (docs/futures.md): Binance BTCUSDT's published tiers. */
void pf_brackets_default(pf_brackets *out);
/* "CAP:MAXLEV:MMR_PCT,..." (e.g. "50000:125:0.4,250000:100:0.5"); the last
 * CAP may be "inf". PT_EINVAL with the reason in why (cap bytes). */
int pf_brackets_parse(const char *text, pf_brackets *out, char *why, size_t cap);
/* Tier index for a notional (the last tier past its cap). */
int pf_bracket_of(const pf_brackets *b, double notional);
/* Largest notional a position may have at leverage lev: the cap of the last
 * tier whose max_leverage >= lev; 0 when lev is above every tier's. */
double pf_brackets_max_notional(const pf_brackets *b, double lev);

typedef enum pf_market { PF_SPOT = 0, PF_PERP = 1 } pf_market;
typedef enum pf_margin_mode { PF_ISOLATED = 0, PF_CROSS = 1 } pf_margin_mode;

typedef struct pf_options {
    int allow_short; /* 0: a sell larger than the long position is PT_EINVAL */
    /* perp (docs/futures.md); market 0 = spot, the rest ignored */
    pf_market market;
    pf_margin_mode margin;
    double leverage;          /* default per position, >= 1 (0 = 1) */
    double liq_fee_rate;      /* liquidation fee, fraction of notional */
    const pf_brackets *brackets; /* copied; NULL = pf_brackets_default */
} pf_options;

typedef struct pf_portfolio pf_portfolio;

/* initial_cash > 0 and finite. opts may be NULL (long only). The caller
 * frees with pf_free. PT_EINVAL / PT_ENOMEM. */
int pf_new(double initial_cash, const pf_options *opts, pf_portfolio **out);
void pf_free(pf_portfolio *pf); /* NULL: no-op */

/* Book one fill. Validates the fill (PT_EINVAL, logged with symbol and
 * order id); PT_ERANGE if a buy that opens or adds to a long would leave
 * cash < 0 (nothing changes then); PT_EINVAL for a sell past flat when
 * shorts are off; PT_EFULL when the symbol table is full. out may be NULL. */
int pf_apply_fill(pf_portfolio *pf, const pf_fill *f, pf_fill_result *out);

/* Largest qty buyable at price with fee = qty*price*fee_rate such that the
 * buy passes the cash check above (exact after rounding). 0 if none. */
double pf_max_buy_qty(const pf_portfolio *pf, double price, double fee_rate);

/* Update the last price of a symbol (registers it if new; PT_EFULL when the
 * table is full, PT_EINVAL for a bad price or symbol). */
int pf_mark(pf_portfolio *pf, const char *symbol, double close);
/* Faster form for the per-candle path: id from pf_symbol_id (stable for the
 * portfolio's life). */
int pf_symbol_id(pf_portfolio *pf, const char *symbol); /* >=0 id, or PT_EFULL/PT_EINVAL */
int pf_mark_id(pf_portfolio *pf, int id, double close);

double pf_cash(const pf_portfolio *pf);
double pf_initial_cash(const pf_portfolio *pf);
double pf_equity(const pf_portfolio *pf);          /* cash + positions at last marks */
double pf_positions_value(const pf_portfolio *pf);
double pf_realized_pnl(const pf_portfolio *pf);
double pf_unrealized_pnl(const pf_portfolio *pf);
double pf_fees(const pf_portfolio *pf);
/* Drawdown now: (max(high_water, equity) - equity) / that; 0..1. */
double pf_drawdown(const pf_portfolio *pf);
int pf_open_positions(const pf_portfolio *pf);     /* positions with qty != 0 */
uint64_t pf_fill_count(const pf_portfolio *pf);
/* Copy the position of symbol into *out: PT_OK, or PT_ENOENT (never seen;
 * *out is then a flat position with that name). */
int pf_get_position(const pf_portfolio *pf, const char *symbol, pf_position *out);
/* Signed qty of symbol (0 if unknown); cheap. */
double pf_position_qty(const pf_portfolio *pf, const char *symbol);
/* Iterate: symbols ever seen, in first-seen order, i in [0, pf_symbol_count). */
int pf_symbol_count(const pf_portfolio *pf);
int pf_position_at(const pf_portfolio *pf, int i, pf_position *out);

/* Totals at a closed candle time; updates the high-water mark (call once per
 * closed candle time, after marking every symbol of that time). */
void pf_snapshot_take(pf_portfolio *pf, int64_t ts_ms, double quality, pf_snapshot *out);

/* ------------------------------------------------------------ perp
 * Linear (USDT-margined) perpetuals, docs/futures.md. Accounting:
 *   opening/adding q at p: margin += q*p/leverage; cash -= q*p/leverage + fee
 *   reducing c of |qty|:   released = margin*c/|qty|;
 *                          cash += released + c*(p-avg)*side - fee
 *   positions_value = sum(margin + qty*(mark-avg));  equity = cash + that
 * so equity = cash + margin + unrealized PnL at every moment. A reduce whose
 * loss exceeds what it releases (isolated: its margin; cross: every cash and
 * margin and unrealized PnL) books no more than that: the fee is cut first,
 * the rest of the shortfall is bankruptcy_loss (the exchange's insurance
 * fund), and the margin balance never goes negative (cross: cash alone may,
 * while other positions' unrealized profit covers it). Marks (pf_mark*) are mark prices here.
 * The live session calls pf_apply_funding at each funding event and pf_mark
 * with the mark price; the engine wraps both (sim.h sim_engine_on_funding,
 * sim_engine_on_mark). */
/* Leverage of one symbol's future positions (registers it). PT_EINVAL for
 * lev < 1 or above the first bracket's max_leverage; PT_ESTATE while a
 * position is open (Binance refuses it too). */
int pf_set_leverage(pf_portfolio *pf, const char *symbol, double lev);
double pf_leverage_of(const pf_portfolio *pf, int id);
/* Largest qty a new or added position can take at price (margin + fee out
 * of cash, notional within the bracket cap for its leverage). 0 if none. */
double pf_perp_max_open_qty(const pf_portfolio *pf, int id, double price, double fee_rate);
/* Binance's liquidation price of the position of id (one-way mode; the
 * tier is the one the position's notional at that price falls in, per the
 * FAQ above); 0 when flat or when no positive price liquidates it. cross:
 * WB = cash + every margin, other positions' maintenance margin and
 * unrealized PnL at their last marks. */
double pf_liquidation_price(const pf_portfolio *pf, int id);
/* Maintenance margin of id at its mark (0 flat), and of all positions. */
double pf_maintenance_margin(const pf_portfolio *pf, int id);
double pf_total_maintenance(const pf_portfolio *pf);
double pf_margin_of(const pf_portfolio *pf, int id);
double pf_total_margin(const pf_portfolio *pf);
/* Close the whole position of f->symbol as a liquidation at f->price (sets
 * f->side, f->qty and f->fee to what was booked), with
 * fee = qty*price*liq_fee_rate (f->fee is ignored), capped as above.
 * out->fee_charged is the fee booked. PT_ENOENT when flat. */
int pf_liquidate(pf_portfolio *pf, pf_fill *f, pf_fill_result *out);

typedef struct pf_funding_result {
    double position_qty; /* signed, at the funding time */
    double mark_price;
    double payment;      /* received > 0, paid < 0: -qty * mark * rate */
    double cash_after;
} pf_funding_result;
/* One funding event: payment = -qty * mark * rate (a long pays a positive
 * rate, a short receives it), into cash and realized PnL (and the round
 * trip's PnL). A payment larger than the cash comes out of the position's
 * margin; past that it is bankruptcy_loss. mark <= 0 or NaN: the last
 * mark. A flat symbol pays nothing (out->payment 0). PT_EINVAL bad rate. */
int pf_apply_funding(pf_portfolio *pf, const char *symbol, int64_t ts_ms, double rate, double mark,
                     pf_funding_result *out);
double pf_funding_total(const pf_portfolio *pf);    /* net, received > 0 */
double pf_funding_paid(const pf_portfolio *pf);     /* sum of payments < 0, as a positive number */
double pf_funding_received(const pf_portfolio *pf); /* sum of payments > 0 */
double pf_bankruptcy_loss(const pf_portfolio *pf);
uint64_t pf_liquidation_count(const pf_portfolio *pf);

/* ------------------------------------------------------------------ ledger
 * DIR/trades.csv: ts,time,symbol,side,qty,price,fee,order_id,order_type,
 *   reason,realized_pnl,cash_after,quality,seq     (seq: 1-based fill number)
 * DIR/portfolio.csv: ts,time,cash,positions_value,equity,realized_pnl,
 *   unrealized_pnl,drawdown,open_positions,quality
 * RFC 4180 (CRLF-free: rows end in "\n"; fields with , " CR LF are quoted),
 * numbers via pt_format_double (round-trip). Plain write(2), no stdio.
 * trades.csv: each row is write()n before pf_ledger_fill returns, then
 * fdatasync()ed when sync == PF_SYNC_EVERY_FILL (default): a fill reported
 * as booked survives a power cut. PF_SYNC_NONE skips fdatasync (benchmarks,
 * tests; a crash of the process still loses nothing, a power cut may).
 * portfolio.csv: each row write()n at once (or batched in a 64 KiB buffer if
 * batch_portfolio), fdatasync at pf_ledger_close.
 * Any write/fsync error: logged once with file name and strerror, returns
 * PT_ENOSPC (ENOSPC/EDQUOT) or PT_EIO, and the ledger refuses every later
 * write with the same code (fsyncgate: never retry fsync on the same fd). */
typedef enum pf_sync_policy { PF_SYNC_EVERY_FILL = 0, PF_SYNC_NONE = 1 } pf_sync_policy;

typedef struct pf_ledger_options {
    pf_sync_policy sync;
    int append;          /* 1: keep existing rows (resume); the header must
                            match exactly or PT_ECORRUPT; 0: truncate */
    int batch_portfolio; /* 1: buffer portfolio.csv rows (flushed when full,
                            at pf_ledger_flush and at close) */
    int perp;            /* 1: perp columns at the end of both files
                            (trades: leverage,margin,liquidation_price;
                            portfolio: margin,maintenance_margin,funding) and
                            DIR/funding.csv (pf_ledger_funding) */
} pf_ledger_options;

typedef struct pf_ledger pf_ledger;

/* Opens/creates DIR/trades.csv and DIR/portfolio.csv (DIR must exist),
 * writes the headers when a file is new/empty. opts NULL = defaults.
 * Caller closes with pf_ledger_close. PT_EIO/PT_ENOSPC/PT_ECORRUPT/PT_ENOENT. */
int pf_ledger_open(const char *dir, const pf_ledger_options *opts, pf_ledger **out);
int pf_ledger_fill(pf_ledger *lg, const pf_fill *f, const pf_fill_result *r);
int pf_ledger_snapshot(pf_ledger *lg, const pf_snapshot *s);
int pf_ledger_flush(pf_ledger *lg); /* write batched portfolio rows now */
/* perp: one DIR/funding.csv row (ts,time,symbol,rate,mark_price,
 * position_qty,payment), fdatasync()ed like a fill. PT_EINVAL without perp. */
int pf_ledger_funding(pf_ledger *lg, int64_t ts_ms, const char *symbol, double rate, double mark,
                      double position_qty, double payment);
/* Flush, fdatasync both files (unless PF_SYNC_NONE), close, free. Returns
 * the first error seen during the ledger's life or at close. NULL: PT_OK. */
int pf_ledger_close(pf_ledger *lg);
/* Sticky error of the ledger (PT_OK while healthy). */
int pf_ledger_error(const pf_ledger *lg);
/* Paths (valid until close). */
const char *pf_ledger_trades_path(const pf_ledger *lg);
const char *pf_ledger_portfolio_path(const pf_ledger *lg);

/* Torn-tail repair for resume: if the file's last byte is not '\n', move the
 * bytes after the last '\n' to PATH.torn (replacing it), truncate the file
 * there and fsync both. Returns the number of bytes moved (0 if none) or a
 * negative pt_err (PT_ENOENT, PT_EIO). */
long pf_ledger_repair_tail(const char *path);

/* One parsed trades.csv row. Strings point into the reader's buffer and
 * stay valid only during the callback. */
typedef struct pf_trade_row {
    pf_fill fill;
    double realized_pnl;
    double cash_after;
    uint64_t seq;
    uint64_t line; /* 1-based file line */
} pf_trade_row;
/* Return 0 to continue, non-zero to stop (pf_trades_read returns it). */
typedef int (*pf_trade_cb)(const pf_trade_row *row, void *ud);
/* Strict reader: header must be exactly ours, every row 14 fields, numbers
 * parsed with pt_parse_decimal/int64, time must equal ts formatted, a last
 * line without '\n' is PT_ECORRUPT (repair it first). Errors are logged as
 * "path:line: field: reason". Returns PT_OK, a pt_err, or the callback's
 * non-zero value. */
int pf_trades_read(const char *path, pf_trade_cb cb, void *ud);

/* ------------------------------------------------------------------ rules
 * The exchange's trading rules per symbol (docs/rules.md): price tick, lot
 * step, minimum quantity and minimum order value (quote). Values are exact
 * decimals m * 10^-e as the exchange writes them ("0.00001000" -> 1, 5), so
 * that rounding is decided on the decimal grid, never on float drift: a grid
 * point n*m*10^-e becomes the double nearest to it ((double)(n*m) / 10^e,
 * both exact, one correctly rounded division), and x rounds down to the
 * largest grid point whose double is <= x (up: the smallest >= x). A grid
 * finer than the double's own resolution at x (n*m > 2^53) leaves x as it is.
 * A set is a plain value (no pointers): copy it, keep it on the stack. */
typedef struct pf_dec {
    int64_t m; /* 0 = not set */
    int e;     /* decimals, 0..18 */
} pf_dec;

typedef struct pf_rules {
    char symbol[PT_SYMBOL_MAX];
    pf_dec tick;         /* price step */
    pf_dec step;         /* quantity step (lot size) */
    pf_dec min_qty;      /* smallest quantity */
    pf_dec min_notional; /* smallest qty * price, quote */
} pf_rules;

typedef struct pf_rules_set {
    int n;
    pf_rules r[PF_MAX_SYMBOLS];
    char source[64]; /* where they came from ("binance exchangeInfo", "config", a file name) */
} pf_rules_set;

/* "0.00100000", "5", "1.5": PT_OK with *out (trailing zeros dropped); a
 * sign, an exponent, more than 18 decimals or 18 digits, or 0 is PT_EINVAL
 * with a static reason in *why (may be NULL). */
int pf_dec_parse(const char *text, pf_dec *out, const char **why);
/* The decimal as text ("0.001"); cap >= 40. "" for an unset one. */
int pf_dec_format(pf_dec d, char *buf, size_t cap);
double pf_dec_value(pf_dec d); /* 0 for unset */
/* x on d's grid: the largest point <= x (up = 0) or the smallest >= x
 * (up = 1); x itself when d is unset, x is not finite or the grid is finer
 * than x's resolution. */
double pf_dec_round(double x, pf_dec d, int up);

/* The symbol's rules or NULL. */
const pf_rules *pf_rules_find(const pf_rules_set *set, const char *symbol);
/* The config/file keys of the fields, i = 0..: "tick_size", "lot_step",
 * "min_qty", "min_notional", then NULL. */
const char *pf_rules_key(size_t i);
/* Set one field by its config key ("tick_size", "lot_step", "min_qty",
 * "min_notional") from text. PT_EINVAL (reason in why, static), PT_EFULL
 * (more than PF_MAX_SYMBOLS symbols). */
int pf_rules_set_field(pf_rules_set *set, const char *symbol, const char *key, const char *text,
                       const char **why);
/* Every field src has set overrides dst's (per symbol). PT_EFULL. */
int pf_rules_merge(pf_rules_set *dst, const pf_rules_set *src);

/* The session's rules.json: {"version":1,"source":..,"symbols":{"BTCUSDT":
 * {"tick_size":"0.01","lot_step":"0.00001","min_qty":"0.00001",
 * "min_notional":"5","price_decimals":2,"qty_decimals":5}}} (unset fields
 * left out; symbols in set order). Written to PATH.tmp, fsynced, renamed.
 * PT_EIO/PT_ENOMEM. */
int pf_rules_write(const char *path, const pf_rules_set *set);
/* Reads that file (the *_decimals keys are ignored: they follow from the
 * steps). Errors are logged as "path: symbols.X.field: reason":
 * PT_ENOENT, PT_EIO, PT_EPARSE, PT_EINVAL, PT_EFULL. */
int pf_rules_read(const char *path, pf_rules_set *out);
/* The same object as cJSON (the caller owns it); NULL on ENOMEM. */
struct cJSON *pf_rules_to_json(const pf_rules_set *set);
/* One symbol's object of that file (its keys added to o): for the dashboard. */
int pf_rules_add_json(const pf_rules *r, struct cJSON *o);

/* Why an order breaks a rule: PT_OK, or PT_ERANGE with a sentence in why
 * ("quantity 0.00004 is below the minimum quantity 0.0001 (min_qty)"). */
int pf_rules_check(const pf_rules *r, double qty, double price, char *why, size_t cap);

/* ----------------------------------------------------------------- metrics
 * Formulas (risk-free rate 0; bars are closed candle times; a year is 365
 * days because crypto trades every day; ppy = year_ms / bar_ms):
 *   r_i           = equity_i / equity_{i-1} - 1 (equity_0 = start_equity)
 *   total_return  = end / start - 1
 *   CAGR          = (end/start)^(1/years) - 1, years = candles*bar_ms/year_ms
 *   Sharpe        = mean(r) / stdev(r) * sqrt(ppy)        (sample stdev, n-1)
 *   Sortino       = mean(r) / sqrt(sum(min(r,0)^2)/n) * sqrt(ppy)
 *   Calmar        = CAGR / max_drawdown
 *   max_drawdown  = max over bars of (peak - equity)/peak; its duration is
 *                   bars from that episode's peak to recovery (equity >= peak)
 *                   or to the last bar if not recovered
 *   exposure      = % of candles with an open position
 *   win_rate      = wins / round trips (pnl > 0 is a win)
 *   profit_factor = gross wins / |gross losses|
 *   expectancy    = mean round-trip pnl
 *   buy_and_hold  = equal-weighted mean over symbols of last/first price - 1
 *                   (prices passed to pf_metrics_price)
 * Undefined values (no bars, zero stdev, no losses, ...) are NAN: JSON null,
 * "n/a" in the table. Same inputs give the same bytes. */
typedef struct pf_metrics pf_metrics;

typedef struct pf_metrics_result {
    int64_t start_ms, end_ms; /* first and last bar time */
    int64_t bar_ms;
    uint64_t candles;
    double start_equity, end_equity;
    double total_return, cagr, sharpe, sortino, calmar;
    double max_drawdown;            /* fraction 0..1 (> 1 only if equity < 0) */
    uint64_t max_drawdown_bars;     /* duration of the max drawdown episode */
    int64_t max_drawdown_peak_ms;   /* time of that episode's peak */
    uint64_t trades;                /* round trips */
    uint64_t wins, losses;
    uint64_t fills;
    double win_rate, profit_factor, expectancy, avg_win, avg_loss;
    double exposure;                /* 0..1 (> 1 only if equity < 0) */
    double fees;
    double buy_and_hold;
    int bh_symbols;                 /* symbols in buy_and_hold */
} pf_metrics_result;

/* bar_ms > 0; start_equity > 0 (the initial cash). Caller frees. */
int pf_metrics_new(int64_t bar_ms, double start_equity, pf_metrics **out);
void pf_metrics_free(pf_metrics *m); /* NULL: no-op */
/* One closed candle time. */
void pf_metrics_bar(pf_metrics *m, int64_t ts_ms, double equity, int in_market);
/* Convenience: bar from a snapshot (in_market = open_positions > 0). */
void pf_metrics_snapshot(pf_metrics *m, const pf_snapshot *s);
/* One fill (counts fills and fees; a closed round trip counts a trade). */
void pf_metrics_fill(pf_metrics *m, double fee, const pf_fill_result *r);
/* One closed round trip by hand (pf_metrics_fill does this for you). */
void pf_metrics_trade(pf_metrics *m, double pnl);
/* Close price for buy-and-hold (first call per symbol = entry). PT_EFULL
 * past PF_MAX_SYMBOLS symbols (that symbol is then ignored). */
int pf_metrics_price(pf_metrics *m, const char *symbol, double close);
void pf_metrics_compute(const pf_metrics *m, pf_metrics_result *out);
/* New cJSON object with every field above (NAN -> null); caller owns it
 * (cJSON_Delete) and may add keys. NULL on ENOMEM. */
struct cJSON *pf_metrics_to_json(const pf_metrics_result *r);
/* Aligned two-column table, one metric per line. */
void pf_metrics_print_table(const pf_metrics_result *r, FILE *fp);

/* Fast round-trip double -> text (same contract as pt_format_double: strtod
 * reads it back to the same double; at most 32 bytes incl NUL, cap >= 32).
 * Fixed notation via integer arithmetic when exact, else pt_format_double. */
int pf_format_double(double v, char *buf, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
