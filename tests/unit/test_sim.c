/* sim: fill model rules, sizing, risk limits, and the engine's invariants
 * with a scripted strategy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

static pt_candle K(int64_t ts, double o, double h, double l, double c)
{
    pt_candle k;
    memset(&k, 0, sizeof k);
    k.ts_ms = ts;
    k.open = o, k.high = h, k.low = l, k.close = c, k.volume = 100;
    k.closed = 1;
    snprintf(k.symbol, sizeof k.symbol, "AAA");
    return k;
}

static sim_fill_result ev(sim_order_type t, int side, double lim, double stop, const pt_candle *c,
                          double slip, double *px, int *maker)
{
    sim_order_px o = {t, side, lim, stop, 0};
    return sim_fill_eval(&o, c, slip, px, maker);
}

/* ------------------------------------------------------------ fill rules */

static void test_market(void **st)
{
    (void)st;
    pt_candle c = K(0, 100, 110, 95, 105);
    double px;
    int mk;
    assert_int_equal(ev(SIM_ORDER_MARKET, 1, 0, 0, &c, 0, &px, &mk), SIM_FILL_YES);
    assert_true(px == 100 && mk == 0);
    /* 50 bps slippage against a buyer, against a seller */
    ev(SIM_ORDER_MARKET, 1, 0, 0, &c, 50, &px, &mk);
    assert_true(fabs(px - 100.5) < 1e-12);
    ev(SIM_ORDER_MARKET, -1, 0, 0, &c, 50, &px, &mk);
    assert_true(fabs(px - 99.5) < 1e-12);
    /* slippage never leaves the traded range */
    pt_candle flat = K(0, 100, 100.1, 100, 100);
    ev(SIM_ORDER_MARKET, 1, 0, 0, &flat, 500, &px, &mk);
    assert_true(px == 100.1);
    ev(SIM_ORDER_MARKET, -1, 0, 0, &flat, 500, &px, &mk);
    assert_true(px == 100);
}

static void test_limit(void **st)
{
    (void)st;
    double px;
    int mk;
    pt_candle c = K(0, 100, 110, 95, 105);
    /* buy limit inside the range fills at the limit, as maker */
    assert_int_equal(ev(SIM_ORDER_LIMIT, 1, 97, 0, &c, 50, &px, &mk), SIM_FILL_YES);
    assert_true(px == 97 && mk == 1);
    /* buy limit below the low: no fill */
    assert_int_equal(ev(SIM_ORDER_LIMIT, 1, 94.99, 0, &c, 0, &px, &mk), SIM_FILL_NONE);
    /* gapped through in the order's favour: the open, better than the limit */
    pt_candle gap = K(0, 90, 92, 88, 91);
    assert_int_equal(ev(SIM_ORDER_LIMIT, 1, 97, 0, &gap, 0, &px, &mk), SIM_FILL_YES);
    assert_true(px == 90);
    /* sell limit: touched, gapped, missed */
    assert_int_equal(ev(SIM_ORDER_LIMIT, -1, 108, 0, &c, 0, &px, &mk), SIM_FILL_YES);
    assert_true(px == 108);
    pt_candle up = K(0, 120, 125, 119, 121);
    assert_int_equal(ev(SIM_ORDER_LIMIT, -1, 108, 0, &up, 0, &px, &mk), SIM_FILL_YES);
    assert_true(px == 120);
    assert_int_equal(ev(SIM_ORDER_LIMIT, -1, 110.01, 0, &c, 0, &px, &mk), SIM_FILL_NONE);
    /* exactly at the extreme counts as reached */
    assert_int_equal(ev(SIM_ORDER_LIMIT, 1, 95, 0, &c, 0, &px, &mk), SIM_FILL_YES);
    assert_true(px == 95);
}

static void test_stop(void **st)
{
    (void)st;
    double px;
    int mk;
    pt_candle c = K(0, 100, 110, 95, 105);
    /* buy stop above the market triggers on the high, at the stop, taker */
    assert_int_equal(ev(SIM_ORDER_STOP, 1, 0, 106, &c, 0, &px, &mk), SIM_FILL_YES);
    assert_true(px == 106 && mk == 0);
    assert_int_equal(ev(SIM_ORDER_STOP, 1, 0, 111, &c, 0, &px, &mk), SIM_FILL_NONE);
    /* gapped through: the open, which is worse */
    pt_candle gap = K(0, 115, 118, 112, 117);
    assert_int_equal(ev(SIM_ORDER_STOP, 1, 0, 106, &gap, 0, &px, &mk), SIM_FILL_YES);
    assert_true(px == 115);
    /* sell stop: touched and gapped down */
    assert_int_equal(ev(SIM_ORDER_STOP, -1, 0, 96, &c, 0, &px, &mk), SIM_FILL_YES);
    assert_true(px == 96);
    pt_candle down = K(0, 90, 91, 85, 86);
    assert_int_equal(ev(SIM_ORDER_STOP, -1, 0, 96, &down, 0, &px, &mk), SIM_FILL_YES);
    assert_true(px == 90);
    /* slippage on a stop, clamped to the low */
    assert_int_equal(ev(SIM_ORDER_STOP, -1, 0, 95.2, &c, 100, &px, &mk), SIM_FILL_YES);
    assert_true(px == 95);
}

static void test_stop_limit(void **st)
{
    (void)st;
    double px;
    int mk;
    pt_candle c = K(0, 100, 110, 95, 105);
    /* fires at 106, within limit 107: fills at the trigger */
    assert_int_equal(ev(SIM_ORDER_STOP_LIMIT, 1, 107, 106, &c, 0, &px, &mk), SIM_FILL_YES);
    assert_true(px == 106);
    /* gaps to 115 over limit 107: triggered, rests as a limit */
    pt_candle gap = K(0, 115, 118, 112, 117);
    sim_order_px o = {SIM_ORDER_STOP_LIMIT, 1, 107, 106, 0};
    assert_int_equal(sim_fill_eval(&o, &gap, 0, &px, &mk), SIM_FILL_TRIGGERED);
    o.triggered = 1;
    pt_candle back = K(0, 109, 110, 104, 105);
    assert_int_equal(sim_fill_eval(&o, &back, 0, &px, &mk), SIM_FILL_YES);
    assert_true(px == 107 && mk == 1);
    /* not reached at all */
    assert_int_equal(ev(SIM_ORDER_STOP_LIMIT, 1, 120, 111, &c, 0, &px, &mk), SIM_FILL_NONE);
}

static void test_protect(void **st)
{
    (void)st;
    double px;
    const char *why;
    pt_candle both = K(0, 100, 112, 90, 101);
    /* both touched: the stop-loss wins */
    assert_int_equal(sim_protect_eval(1, 95, 110, 0, &both, 0, &px, &why), 1);
    assert_string_equal(why, "stop_loss");
    assert_true(px == 95);
    pt_candle up = K(0, 100, 112, 99, 111);
    assert_int_equal(sim_protect_eval(1, 95, 110, 0, &up, 0, &px, &why), 1);
    assert_string_equal(why, "take_profit");
    assert_true(px == 110);
    /* take-profit gapped through: the better open */
    pt_candle gapup = K(0, 115, 116, 113, 114);
    assert_int_equal(sim_protect_eval(1, 95, 110, 0, &gapup, 0, &px, &why), 1);
    assert_true(px == 115);
    /* stop-loss gapped through: the worse open */
    pt_candle gapdn = K(0, 80, 82, 79, 81);
    assert_int_equal(sim_protect_eval(1, 95, 110, 0, &gapdn, 0, &px, &why), 1);
    assert_true(px == 80);
    /* neither */
    pt_candle in = K(0, 100, 105, 96, 101);
    assert_int_equal(sim_protect_eval(1, 95, 110, 0, &in, 0, &px, &why), 0);
    /* the tighter trailing stop beats the stop-loss */
    assert_int_equal(sim_protect_eval(1, 95, 0, 97, &in, 0, &px, &why), 1);
    assert_string_equal(why, "trailing_stop");
    assert_true(px == 97);
    /* short: stop above, take-profit below */
    assert_int_equal(sim_protect_eval(-1, 111, 91, 0, &both, 0, &px, &why), 1);
    assert_string_equal(why, "stop_loss");
    assert_true(px == 111);
}

static void test_trailing(void **st)
{
    (void)st;
    double ext = 100;
    pt_candle a = K(0, 100, 110, 99, 108), b = K(0, 108, 109, 100, 101);
    assert_true(fabs(sim_trail_update(1, 10, &ext, &a) - 99) < 1e-9);
    /* a lower high never loosens the level */
    assert_true(fabs(sim_trail_update(1, 10, &ext, &b) - 99) < 1e-9);
    assert_true(sim_trail_update(1, 0, &ext, &b) == 0);
}

/* ------------------------------------------------------------ sizing */

static void test_sizing(void **st)
{
    (void)st;
    sim_sizing s;
    assert_int_equal(sim_sizing_parse("all-in", &s), PT_OK);
    assert_int_equal(s.kind, SIM_SIZE_ALL_IN);
    assert_int_equal(sim_sizing_parse("quote:250", &s), PT_OK);
    assert_true(s.kind == SIM_SIZE_QUOTE && s.value == 250);
    assert_int_equal(sim_sizing_parse("percent:20", &s), PT_OK);
    assert_int_equal(sim_sizing_parse("risk:1", &s), PT_OK);
    const char *bad[] = {"", "all", "quote:", "quote:-1", "percent:101", "risk:abc", "risk:0"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(sim_sizing_parse(bad[i], &s), PT_EINVAL);

    /* all-in: never more than the cash, and within rounding of all of it */
    const double prices[] = {0.00162008, 3602, 1.0 / 3, 7e-5, 123456.789};
    for (size_t i = 0; i < 5; i++) {
        sim_sizing all = {SIM_SIZE_ALL_IN, 0};
        double q = sim_size_entry(&all, 10000, 10000, prices[i], 0.001, NAN, 2);
        double cost = q * prices[i] + q * prices[i] * 0.001;
        assert_true(cost <= 10000);
        assert_true(cost > 10000 * (1 - 1e-9));
    }
    sim_sizing quote = {SIM_SIZE_QUOTE, 500};
    assert_true(fabs(sim_size_entry(&quote, 10000, 10000, 50, 0, NAN, 2) - 10) < 1e-9);
    /* capped by cash */
    assert_true(fabs(sim_size_entry(&quote, 100, 10000, 50, 0, NAN, 2) - 2) < 1e-9);
    sim_sizing pct = {SIM_SIZE_PERCENT, 25};
    assert_true(fabs(sim_size_entry(&pct, 10000, 8000, 10, 0, NAN, 2) - 200) < 1e-9);
    /* risk 1% of 10000 = 100 over 2 * ATR 5 = 10 per unit -> 10 units */
    sim_sizing risk = {SIM_SIZE_RISK, 1};
    assert_true(fabs(sim_size_entry(&risk, 10000, 10000, 50, 0, 5, 2) - 10) < 1e-9);
    assert_true(sim_size_entry(&risk, 10000, 10000, 50, 0, NAN, 2) == 0); /* not warm */
    assert_true(sim_qty_for_budget(0, 10, 0) == 0);
    assert_true(sim_qty_for_budget(10, 0, 0) == 0);
}

static void test_atr(void **st)
{
    (void)st;
    sim_atr a;
    sim_atr_init(&a, 3);
    pt_candle c1 = K(0, 10, 12, 9, 11);  /* TR 3 */
    pt_candle c2 = K(0, 11, 13, 11, 12); /* TR max(2, |13-11|, 0) = 2 */
    pt_candle c3 = K(0, 12, 12, 8, 9);   /* TR max(4, 0, 4) = 4 */
    pt_candle c4 = K(0, 9, 15, 9, 14);   /* TR max(6, 6, 0) = 6 */
    assert_true(isnan(sim_atr_update(&a, &c1)));
    assert_true(isnan(sim_atr_update(&a, &c2)));
    assert_true(fabs(sim_atr_update(&a, &c3) - 3) < 1e-12);
    assert_true(fabs(sim_atr_update(&a, &c4) - (3 * 2 + 6) / 3.0) < 1e-12);
}

static void test_risk_limits(void **st)
{
    (void)st;
    sim_engine_config cfg;
    sim_engine_config_default(&cfg);
    cfg.daily_loss_pct = 5;
    cfg.max_drawdown_pct = 20;
    sim_risk_state r;
    sim_risk_init(&r, 1000);
    const int64_t day = 86400000;
    assert_int_equal(sim_risk_mark(&r, &cfg, 10 * day, 1000), 0);
    assert_int_equal(sim_risk_mark(&r, &cfg, 10 * day + 60000, 960), 0);
    assert_int_equal(sim_risk_mark(&r, &cfg, 10 * day + 120000, 950), SIM_RISK_EV_DAILY);
    assert_int_equal(r.daily_blocked, 1);
    assert_int_equal(sim_risk_mark(&r, &cfg, 10 * day + 180000, 940), 0); /* fires once */
    /* the next UTC day re-arms */
    assert_int_equal(sim_risk_mark(&r, &cfg, 11 * day, 940), 0);
    assert_int_equal(r.daily_blocked, 0);
    assert_int_equal(sim_risk_mark(&r, &cfg, 11 * day + 1, 800) & SIM_RISK_EV_KILL,
                     SIM_RISK_EV_KILL);
    assert_int_equal(r.killed, 1);
}

/* ------------------------------------------------------------ engine
 * A scripted strategy: the test sets what it answers on each call. */
typedef struct script_step {
    const char *symbol;
    int call; /* 1-based call number on that symbol */
    sim_order_request rq;
    int fail;
} script_step;

static const script_step *g_script;
static int g_nscript;

typedef struct script_state {
    int calls;
} script_state;

static int sc_create(const double *v, void **state, char *err, size_t cap)
{
    (void)v, (void)err, (void)cap;
    *state = calloc(1, sizeof(script_state));
    return *state ? 0 : -1;
}
static int sc_on_candle(void *state, const pt_candle *c, const sim_position_view *pos,
                        sim_signal *out)
{
    (void)pos;
    script_state *s = state;
    s->calls++;
    for (int i = 0; i < g_nscript; i++) {
        if (strcmp(g_script[i].symbol, c->symbol) || g_script[i].call != s->calls)
            continue;
        if (g_script[i].fail)
            return 1;
        if (out->n_orders < SIM_MAX_ORDERS)
            out->orders[out->n_orders++] = g_script[i].rq;
    }
    return 0;
}
static void sc_free(void *state) { free(state); }
static const sim_strategy_ops script_ops = {SIM_STRATEGY_ABI, "script", "test", NULL, 0, NULL, 0,
                                            sc_create,        sc_on_candle, sc_free};

typedef struct rec {
    int fills, rows, alerts;
    pf_fill last_fill[16];
    char reasons[16][24];
    double equity_err; /* max |equity - cash - positions| seen */
} rec;

static void on_fill(void *ud, const pf_fill *f, const pf_fill_result *r)
{
    (void)r;
    rec *x = ud;
    if (x->fills < 16) {
        x->last_fill[x->fills] = *f;
        snprintf(x->reasons[x->fills], sizeof x->reasons[0], "%s", f->reason);
    }
    x->fills++;
}
static void on_row(void *ud, const pf_snapshot *s)
{
    rec *x = ud;
    x->rows++;
    double d = fabs(s->equity - s->cash - s->positions_value);
    if (d > x->equity_err)
        x->equity_err = d;
}
static void on_alert(void *ud, const sim_alert *a)
{
    (void)a;
    ((rec *)ud)->alerts++;
}
static const sim_hooks rec_hooks = {NULL, NULL, on_fill, on_row, on_alert};

static sim_engine *engine(sim_engine_config *cfg, rec *r, const script_step *steps, int n)
{
    g_script = steps;
    g_nscript = n;
    memset(r, 0, sizeof *r);
    cfg->strategy = &script_ops;
    cfg->min_quality = 0; /* the gate has its own test */
    sim_engine *e = NULL;
    assert_int_equal(sim_engine_new(cfg, &rec_hooks, r, &e), PT_OK);
    return e;
}

static void cfg0(sim_engine_config *cfg)
{
    sim_engine_config_default(cfg);
    cfg->taker_fee_bps = cfg->maker_fee_bps = 0;
    cfg->cash = 1000;
}

static void push(sim_engine *e, const char *sym, int64_t i, double o, double h, double l, double c)
{
    pt_candle k = K(i * 60000, o, h, l, c);
    snprintf(k.symbol, sizeof k.symbol, "%s", sym);
    assert_int_equal(sim_engine_on_candle(e, &k), PT_OK);
}

#define ENTER(sym, call) {sym, call, {SIM_INTENT_ENTER_LONG, SIM_ORDER_MARKET, 0, 0, 0, 0, 0, 0, "signal"}, 0}
#define EXIT(sym, call) {sym, call, {SIM_INTENT_EXIT_LONG, SIM_ORDER_MARKET, 0, 0, 0, 0, 0, 0, "signal"}, 0}

static void test_engine_next_open(void **st)
{
    (void)st;
    sim_engine_config cfg;
    cfg0(&cfg);
    rec r;
    const script_step steps[] = {ENTER("AAA", 1), EXIT("AAA", 3)};
    sim_engine *e = engine(&cfg, &r, steps, 2);
    push(e, "AAA", 0, 10, 10, 10, 10); /* decision at this close */
    assert_int_equal(r.fills, 0);      /* never on the decision candle */
    push(e, "AAA", 1, 20, 21, 19, 20); /* fills at this open */
    assert_int_equal(r.fills, 1);
    assert_true(r.last_fill[0].price == 20 && r.last_fill[0].ts_ms == 60000);
    assert_true(fabs(r.last_fill[0].qty * 20 - 1000) < 1e-9);
    push(e, "AAA", 2, 25, 26, 24, 25); /* exit decided here */
    push(e, "AAA", 3, 30, 31, 29, 30); /* and filled here */
    assert_int_equal(r.fills, 2);
    assert_true(r.last_fill[1].price == 30 && r.last_fill[1].side == PF_SELL);
    sim_engine_finish(e);
    assert_true(fabs(pf_cash(sim_engine_portfolio(e)) - 1500) < 1e-6);
    assert_true(r.rows == 4);
    assert_true(r.equity_err < 1e-9);
    sim_engine_free(e);
}

/* Warm-up (trade_from_ms): the strategy sees the early candles, nothing it
 * decides on them is acted on, and they make no portfolio row. */
static void test_engine_warmup(void **st)
{
    (void)st;
    sim_engine_config cfg;
    cfg0(&cfg);
    cfg.trade_from_ms = 2 * 60000;
    rec r;
    const script_step steps[] = {ENTER("AAA", 1), ENTER("AAA", 3)};
    sim_engine *e = engine(&cfg, &r, steps, 2);
    push(e, "AAA", 0, 10, 10, 10, 10); /* call 1: an entry, but warming */
    push(e, "AAA", 1, 11, 11, 11, 11);
    assert_int_equal(r.fills, 0);
    assert_int_equal(r.rows, 0);
    push(e, "AAA", 2, 12, 12, 12, 12); /* call 3: tradable */
    push(e, "AAA", 3, 13, 13, 13, 13);
    assert_int_equal(r.fills, 1);
    assert_true(r.last_fill[0].ts_ms == 3 * 60000 && r.last_fill[0].price == 13);
    sim_engine_finish(e);
    assert_int_equal(r.rows, 2);
    assert_int_equal((int)sim_engine_get_stats(e)->warmup, 2);
    assert_int_equal((int)sim_engine_get_stats(e)->accepted, 2);
    sim_engine_free(e);
}

/* What `run` fetches before trading: from each built-in's parameters. */
static void test_strategy_warmup(void **st)
{
    (void)st;
    static const struct { const char *name, *kv[2]; int want; } cases[] = {
        {"sma_cross", {"slow=30", NULL}, 30}, {"ema_cross", {"slow=40", NULL}, 40},
        {"rsi", {"period=14", NULL}, 15},     {"bollinger", {"period=20", NULL}, 20},
        {"donchian", {"entry=20", "exit=25"}, 26}, {"macd", {"slow=26", "signal=9"}, 35},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const sim_strategy_ops *ops = sim_strategy_builtin(cases[i].name);
        double v[SIM_MAX_PARAMS];
        char err[128];
        assert_non_null(ops);
        assert_int_equal(sim_strategy_params(ops, cases[i].kv, cases[i].kv[1] ? 2 : 1, v, err, sizeof err), PT_OK);
        sim_sizing all = {SIM_SIZE_ALL_IN, 0}, risk = {SIM_SIZE_RISK, 1};
        assert_int_equal(sim_strategy_warmup(ops, v, &all, 14), cases[i].want);
        assert_int_equal(sim_strategy_warmup(ops, v, &risk, 50), 51); /* the ATR's period + 1 */
    }
    assert_int_equal(sim_strategy_warmup(&script_ops, NULL, NULL, 14), 0); /* unknown: --warmup */
}

/* All-in on a second symbol with the crumbs the first left: blocked as
 * insufficient cash (min_notional), never a dust fill. */
static void test_engine_no_dust(void **st)
{
    (void)st;
    sim_engine_config cfg;
    cfg0(&cfg);
    cfg.taker_fee_bps = 10;
    rec r;
    const script_step steps[] = {ENTER("AAA", 1), ENTER("BBB", 1)};
    sim_engine *e = engine(&cfg, &r, steps, 2);
    push(e, "AAA", 0, 10, 10, 10, 10);
    push(e, "BBB", 0, 10, 10, 10, 10);
    push(e, "AAA", 1, 20, 21, 19, 20); /* all-in: cash left is a few ulps */
    push(e, "BBB", 1, 20, 21, 19, 20);
    assert_int_equal(r.fills, 1);
    assert_true(pf_cash(sim_engine_portfolio(e)) < 0.1);
    assert_true(sim_engine_get_stats(e)->blocks[SIM_BLOCK_NO_CASH] >= 1);
    sim_engine_free(e);
}

static void test_engine_fees_slippage(void **st)
{
    (void)st;
    sim_engine_config cfg;
    cfg0(&cfg);
    cfg.taker_fee_bps = 10;
    cfg.slippage_bps = 100;
    rec r;
    const script_step steps[] = {ENTER("AAA", 1)};
    sim_engine *e = engine(&cfg, &r, steps, 1);
    push(e, "AAA", 0, 10, 10, 10, 10);
    push(e, "AAA", 1, 20, 30, 19, 20);
    assert_int_equal(r.fills, 1);
    assert_true(fabs(r.last_fill[0].price - 20.2) < 1e-12);
    double cost = r.last_fill[0].qty * r.last_fill[0].price + r.last_fill[0].fee;
    assert_true(cost <= 1000 && cost > 1000 * (1 - 1e-9)); /* all-in, nothing rejected */
    assert_true(fabs(r.last_fill[0].fee - r.last_fill[0].qty * 20.2 * 0.001) < 1e-9);
    assert_true(pf_cash(sim_engine_portfolio(e)) >= 0);
    sim_engine_free(e);
}

static void test_engine_stop_loss_and_close_at_end(void **st)
{
    (void)st;
    sim_engine_config cfg;
    cfg0(&cfg);
    cfg.close_at_end = 1;
    rec r;
    script_step steps[] = {ENTER("AAA", 1), ENTER("AAA", 4)};
    steps[0].rq.stop_loss = 90;
    steps[0].rq.take_profit = 120;
    sim_engine *e = engine(&cfg, &r, steps, 2);
    push(e, "AAA", 0, 100, 100, 100, 100);
    push(e, "AAA", 1, 100, 101, 85, 100); /* entry fill; stops armed from the next bar */
    assert_int_equal(r.fills, 1);
    push(e, "AAA", 2, 100, 125, 80, 100); /* both touched: stop-loss at 90 */
    assert_int_equal(r.fills, 2);
    assert_string_equal(r.reasons[1], "stop_loss");
    assert_true(r.last_fill[1].price == 90);
    push(e, "AAA", 3, 100, 100, 100, 100);
    push(e, "AAA", 4, 50, 50, 50, 50); /* new entry, no protections */
    assert_int_equal(r.fills, 3);
    sim_engine_finish(e);
    assert_int_equal(r.fills, 4);
    assert_string_equal(r.reasons[3], "end_of_data");
    assert_true(pf_open_positions(sim_engine_portfolio(e)) == 0);
    sim_engine_finish(e); /* idempotent */
    assert_int_equal(r.fills, 4);
    sim_engine_free(e);
}

static void test_engine_tif_and_limit(void **st)
{
    (void)st;
    sim_engine_config cfg;
    cfg0(&cfg);
    rec r;
    script_step steps[] = {ENTER("AAA", 1), ENTER("AAA", 4)};
    steps[0].rq.type = SIM_ORDER_LIMIT;
    steps[0].rq.limit_price = 50;
    steps[0].rq.tif_candles = 2;
    steps[1].rq.type = SIM_ORDER_LIMIT;
    steps[1].rq.limit_price = 95;
    sim_engine *e = engine(&cfg, &r, steps, 2);
    push(e, "AAA", 0, 100, 100, 100, 100);
    push(e, "AAA", 1, 100, 101, 99, 100);
    push(e, "AAA", 2, 100, 101, 99, 100); /* expired after 2 candles */
    push(e, "AAA", 3, 100, 101, 40, 100); /* would have filled: gone */
    assert_int_equal(r.fills, 0);
    assert_int_equal(sim_engine_get_stats(e)->expired, 1);
    push(e, "AAA", 4, 100, 101, 99, 100); /* GTC limit 95 placed at close */
    push(e, "AAA", 5, 100, 101, 96, 100);
    assert_int_equal(r.fills, 0);
    push(e, "AAA", 6, 97, 98, 94, 96); /* reached: fills at the limit */
    assert_int_equal(r.fills, 1);
    assert_true(r.last_fill[0].price == 95);
    sim_engine_free(e);
}

static void test_engine_breaker_isolates(void **st)
{
    (void)st;
    sim_engine_config cfg;
    cfg0(&cfg);
    cfg.breaker_failures = 2;
    cfg.breaker_recovery = 3;
    cfg.sizing.kind = SIM_SIZE_QUOTE;
    cfg.sizing.value = 100;
    rec r;
    script_step steps[] = {
        {"BAD", 1, {0}, 1}, {"BAD", 2, {0}, 1}, ENTER("BAD", 3), ENTER("GOOD", 2),
    };
    sim_engine *e = engine(&cfg, &r, steps, 4);
    for (int i = 0; i < 8; i++) {
        push(e, "BAD", i, 10, 10, 10, 10);
        push(e, "GOOD", i, 10, 10, 10, 10);
    }
    const sim_engine_stats *s = sim_engine_get_stats(e);
    assert_int_equal(s->strategy_failures, 2);
    assert_int_equal(s->breaker_opens, 1);
    /* GOOD traded; BAD's 3rd call came only after the breaker closed */
    double q = pf_position_qty(sim_engine_portfolio(e), "GOOD");
    assert_true(fabs(q - 10) < 1e-9);
    assert_true(fabs(pf_position_qty(sim_engine_portfolio(e), "BAD") - 10) < 1e-9);
    assert_int_equal(s->strategy_calls, 8 + 8 - 3);
    sim_engine_free(e);
}

static void test_engine_max_positions_and_short(void **st)
{
    (void)st;
    sim_engine_config cfg;
    cfg0(&cfg);
    cfg.max_positions = 1;
    cfg.sizing.kind = SIM_SIZE_PERCENT;
    cfg.sizing.value = 10;
    rec r;
    script_step steps[] = {ENTER("AAA", 1), ENTER("BBB", 2), ENTER("BBB", 1)};
    steps[2].rq.intent = SIM_INTENT_ENTER_SHORT;
    sim_engine *e = engine(&cfg, &r, steps, 3);
    for (int i = 0; i < 3; i++) {
        push(e, "AAA", i, 10, 10, 10, 10);
        push(e, "BBB", i, 10, 10, 10, 10);
    }
    const sim_engine_stats *s = sim_engine_get_stats(e);
    assert_int_equal(s->blocks[SIM_BLOCK_NO_SHORT], 1);
    assert_int_equal(s->blocks[SIM_BLOCK_MAX_POSITIONS], 1);
    assert_int_equal(pf_open_positions(sim_engine_portfolio(e)), 1);
    sim_engine_free(e);
}

static void test_engine_cooldown(void **st)
{
    (void)st;
    sim_engine_config cfg;
    cfg0(&cfg);
    cfg.cooldown_losses = 2;
    cfg.cooldown_candles = 5;
    rec r;
    const script_step steps[] = {ENTER("AAA", 1), EXIT("AAA", 2), ENTER("AAA", 3),
                                 EXIT("AAA", 4),  ENTER("AAA", 5)};
    sim_engine *e = engine(&cfg, &r, steps, 5);
    /* each round trip buys at 10 and sells at 9 */
    const double opens[] = {10, 10, 9, 10, 9, 10, 10};
    for (int i = 0; i < 7; i++)
        push(e, "AAA", i, opens[i], 10, 9, 10);
    const sim_engine_stats *s = sim_engine_get_stats(e);
    assert_int_equal(r.fills, 4);
    assert_int_equal(s->blocks[SIM_BLOCK_COOLDOWN], 1);
    sim_engine_free(e);
}

static void test_engine_kill_switch(void **st)
{
    (void)st;
    sim_engine_config cfg;
    cfg0(&cfg);
    cfg.max_drawdown_pct = 30;
    rec r;
    const script_step steps[] = {ENTER("AAA", 1), ENTER("AAA", 4)};
    sim_engine *e = engine(&cfg, &r, steps, 2);
    push(e, "AAA", 0, 10, 10, 10, 10);
    push(e, "AAA", 1, 10, 10, 10, 10);
    push(e, "AAA", 2, 10, 10, 6, 6);   /* -40%: kill, flatten at next open */
    push(e, "AAA", 3, 7, 7, 7, 7);
    assert_int_equal(r.fills, 2);
    assert_string_equal(r.reasons[1], "kill_switch");
    assert_true(r.last_fill[1].price == 7);
    push(e, "AAA", 4, 7, 7, 7, 7);     /* entry blocked for good */
    push(e, "AAA", 5, 7, 7, 7, 7);
    assert_int_equal(r.fills, 2);
    assert_true(sim_engine_get_stats(e)->blocks[SIM_BLOCK_DRAWDOWN] >= 1);
    assert_true(sim_engine_get_stats(e)->killed);
    sim_engine_free(e);
}

static void test_engine_participation(void **st)
{
    (void)st;
    sim_engine_config cfg;
    cfg0(&cfg);
    cfg.max_participation_pct = 10; /* volume 100 per bar -> 10 units */
    rec r;
    const script_step steps[] = {ENTER("AAA", 1)};
    sim_engine *e = engine(&cfg, &r, steps, 1);
    push(e, "AAA", 0, 10, 10, 10, 10);
    push(e, "AAA", 1, 10, 10, 10, 10);
    assert_int_equal(r.fills, 1);
    assert_true(fabs(r.last_fill[0].qty - 10) < 1e-9);
    push(e, "AAA", 2, 10, 10, 10, 10);
    assert_int_equal(r.fills, 2);
    assert_true(fabs(pf_position_qty(sim_engine_portfolio(e), "AAA") - 20) < 1e-9);
    sim_engine_free(e);
}

static void test_engine_bad_config(void **st)
{
    (void)st;
    sim_engine_config cfg;
    sim_engine_config_default(&cfg);
    sim_engine *e = (sim_engine *)1;
    assert_int_equal(sim_engine_new(&cfg, NULL, NULL, &e), PT_EINVAL); /* no strategy */
    assert_null(e);
    cfg.strategy = &script_ops;
    cfg.cash = -1;
    assert_int_equal(sim_engine_new(&cfg, NULL, NULL, &e), PT_EINVAL);
    sim_engine_free(NULL);
}

int main(void)
{
    pt_log_set_stderr(0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_market),
        cmocka_unit_test(test_limit),
        cmocka_unit_test(test_stop),
        cmocka_unit_test(test_stop_limit),
        cmocka_unit_test(test_protect),
        cmocka_unit_test(test_trailing),
        cmocka_unit_test(test_sizing),
        cmocka_unit_test(test_atr),
        cmocka_unit_test(test_risk_limits),
        cmocka_unit_test(test_engine_next_open),
        cmocka_unit_test(test_engine_fees_slippage), cmocka_unit_test(test_engine_no_dust),
        cmocka_unit_test(test_engine_stop_loss_and_close_at_end),
        cmocka_unit_test(test_engine_tif_and_limit),
        cmocka_unit_test(test_engine_breaker_isolates),
        cmocka_unit_test(test_engine_max_positions_and_short),
        cmocka_unit_test(test_engine_cooldown),
        cmocka_unit_test(test_engine_kill_switch),
        cmocka_unit_test(test_engine_participation),
        cmocka_unit_test(test_engine_bad_config),
        cmocka_unit_test(test_engine_warmup),
        cmocka_unit_test(test_strategy_warmup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
