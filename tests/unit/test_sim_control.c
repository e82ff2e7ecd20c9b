/* sim: operator controls (pause, resume, close_position, flatten) with a
 * strategy that wants to be long whenever it is flat. Pins the boundary
 * rule: a control decided at the close of t acts from t+1 on, like a
 * strategy decision, and a replay that queues it at the same boundary
 * trades the same. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

/* ------------------------------------------------------------ strategy
 * Enters (market, or a resting limit at g_limit_px) whenever flat with no
 * order waiting; attaches a stop-loss at g_sl_frac of the close. */
static double g_sl_frac, g_limit_px;

static int st_create(const double *v, void **state, char *err, size_t cap)
{
    (void)v, (void)err, (void)cap;
    *state = calloc(1, 1);
    return *state ? 0 : -1;
}
static int st_on_candle(void *state, const pt_candle *c, const sim_position_view *pos,
                        sim_signal *out)
{
    (void)state;
    if (pos->qty != 0 || pos->open_orders)
        return 0;
    sim_order_request rq = {SIM_INTENT_ENTER_LONG, SIM_ORDER_MARKET, 0, 0, 0, 0, 0, 0, "signal"};
    rq.stop_loss = g_sl_frac > 0 ? c->close * g_sl_frac : 0;
    if (g_limit_px > 0) {
        rq.type = SIM_ORDER_LIMIT;
        rq.limit_price = g_limit_px;
    }
    out->orders[out->n_orders++] = rq;
    return 0;
}
static void st_free(void *state) { free(state); }
static const sim_strategy_ops long_ops = {SIM_STRATEGY_ABI, "long", "test", NULL, 0, NULL, 0,
                                          st_create, st_on_candle, st_free};

/* ------------------------------------------------------------ recorder */
#define MAXF 64
typedef struct rec {
    int fills, alerts, control_alerts;
    pf_fill f[MAXF];
    char reason[MAXF][24];
    char sym[MAXF][PT_SYMBOL_MAX];
} rec;

static void on_fill(void *ud, const pf_fill *f, const pf_fill_result *r)
{
    (void)r;
    rec *x = ud;
    if (x->fills < MAXF) {
        x->f[x->fills] = *f;
        snprintf(x->reason[x->fills], sizeof x->reason[0], "%s", f->reason);
        snprintf(x->sym[x->fills], sizeof x->sym[0], "%s", f->symbol);
        x->f[x->fills].reason = x->reason[x->fills];
        x->f[x->fills].symbol = x->sym[x->fills];
    }
    x->fills++;
}
static void on_alert(void *ud, const sim_alert *a)
{
    rec *x = ud;
    x->alerts++;
    x->control_alerts += !strcmp(a->kind, "control");
}
static const sim_hooks hooks = {NULL, NULL, on_fill, NULL, on_alert};

static sim_engine *engine(rec *r, double sl_frac, double limit_px)
{
    g_sl_frac = sl_frac;
    g_limit_px = limit_px;
    memset(r, 0, sizeof *r);
    sim_engine_config cfg;
    sim_engine_config_default(&cfg);
    cfg.taker_fee_bps = cfg.maker_fee_bps = 0;
    cfg.cash = 1000;
    cfg.min_quality = 0;
    cfg.sizing.kind = SIM_SIZE_QUOTE;
    cfg.sizing.value = 400; /* two symbols can be long at once */
    cfg.strategy = &long_ops;
    sim_engine *e = NULL;
    assert_int_equal(sim_engine_new(&cfg, &hooks, r, &e), PT_OK);
    return e;
}

static void push(sim_engine *e, const char *sym, int64_t i, double o, double h, double l, double c)
{
    pt_candle k;
    memset(&k, 0, sizeof k);
    k.ts_ms = i * 60000;
    k.open = o, k.high = h, k.low = l, k.close = c, k.volume = 100;
    k.closed = 1;
    snprintf(k.symbol, sizeof k.symbol, "%s", sym);
    assert_int_equal(sim_engine_on_candle(e, &k), PT_OK);
}
static void flat(sim_engine *e, const char *sym, int64_t i, double p) { push(e, sym, i, p, p, p, p); }

static int buys_after(const rec *r, int64_t ts)
{
    int n = 0;
    for (int i = 0; i < r->fills && i < MAXF; i++)
        n += r->f[i].side == PF_BUY && r->f[i].ts_ms > ts;
    return n;
}

static double qty_of(const sim_engine *e, const char *sym)
{
    const pf_portfolio *pf = sim_engine_portfolio(e);
    pf_position p;
    for (int i = 0; i < pf_symbol_count(pf); i++)
        if (!pf_position_at(pf, i, &p) && !strcmp(p.symbol, sym))
            return p.qty;
    return 0;
}

/* ------------------------------------------------------------ tests */

static void test_names(void **st)
{
    (void)st;
    for (int i = 0; i < SIM_CTL__COUNT; i++) {
        sim_control_action a;
        assert_int_equal(sim_control_parse(sim_control_name((sim_control_action)i), &a), PT_OK);
        assert_int_equal(a, i);
    }
    sim_control_action a;
    assert_int_equal(sim_control_parse("close", &a), PT_EINVAL);
    assert_int_equal(sim_control_parse(NULL, &a), PT_EINVAL);
    assert_string_equal(sim_block_name(SIM_BLOCK_PAUSED), "paused");
}

/* Paused: no entry (counted "paused"), a waiting entry is withdrawn, but
 * the stop-loss still exits. */
static void test_pause_blocks_entries_not_exits(void **st)
{
    (void)st;
    rec r;
    sim_engine *e = engine(&r, 0.9, 0);
    flat(e, "AAA", 0, 100);                 /* entry decided */
    flat(e, "AAA", 1, 100);                 /* filled at the open */
    assert_int_equal(r.fills, 1);
    int64_t b = -1;
    assert_int_equal(sim_engine_control(e, SIM_CTL_PAUSE, NULL, &b, NULL), PT_OK);
    assert_int_equal(b, 60000);             /* the close it was decided at */
    assert_int_equal(sim_engine_paused(e), 0); /* not before that boundary is complete */
    assert_int_equal(sim_engine_controls_pending(e), 1);
    push(e, "AAA", 2, 100, 101, 80, 85);    /* stop-loss at 90 fires while paused */
    assert_int_equal(sim_engine_paused(e), 1);
    assert_int_equal(sim_engine_controls_pending(e), 0);
    assert_int_equal(r.fills, 2);
    assert_string_equal(r.reason[1], "stop_loss");
    assert_true(r.f[1].price == 90);
    const sim_engine_stats *s = sim_engine_get_stats(e);
    assert_int_equal(s->blocks[SIM_BLOCK_PAUSED], 1); /* flat again: the entry is blocked */
    for (int i = 3; i < 8; i++)
        flat(e, "AAA", i, 90);
    assert_int_equal(buys_after(&r, 60000), 0);
    assert_int_equal(s->blocks[SIM_BLOCK_PAUSED], 6);
    assert_int_equal(r.control_alerts, 1);
    sim_engine_free(e);

    /* an entry decided at the pause boundary is cancelled, never filled */
    e = engine(&r, 0, 0);
    flat(e, "AAA", 0, 100);
    assert_int_equal(sim_engine_control(e, SIM_CTL_PAUSE, NULL, NULL, NULL), PT_OK);
    flat(e, "AAA", 1, 100);
    assert_int_equal(r.fills, 0);
    assert_true(sim_engine_get_stats(e)->cancels >= 1);
    sim_engine_free(e);
}

static void test_resume(void **st)
{
    (void)st;
    rec r;
    sim_engine *e = engine(&r, 0, 0);
    assert_int_equal(sim_engine_control(e, SIM_CTL_PAUSE, NULL, NULL, NULL), PT_OK);
    for (int i = 0; i < 4; i++)
        flat(e, "AAA", i, 100);
    assert_int_equal(sim_engine_paused(e), 1);
    assert_int_equal(r.fills, 0);
    int64_t b;
    assert_int_equal(sim_engine_control(e, SIM_CTL_RESUME, NULL, &b, NULL), PT_OK);
    assert_int_equal(b, 3 * 60000);
    flat(e, "AAA", 4, 100);                 /* resumed before this candle: entry decided */
    assert_int_equal(sim_engine_paused(e), 0);
    assert_int_equal(r.fills, 0);
    flat(e, "AAA", 5, 101);                 /* and filled at the next open */
    assert_int_equal(r.fills, 1);
    assert_true(r.f[0].side == PF_BUY && r.f[0].ts_ms == 5 * 60000 && r.f[0].price == 101);
    sim_engine_free(e);
}

static void test_close_position(void **st)
{
    (void)st;
    rec r;
    sim_engine *e = engine(&r, 0, 0);
    const char *why = NULL;
    assert_int_equal(sim_engine_control(e, SIM_CTL_CLOSE, "AAA", NULL, &why), PT_ENOENT);
    assert_non_null(why);
    assert_int_equal(sim_engine_control(e, SIM_CTL_CLOSE, NULL, NULL, &why), PT_EINVAL);
    assert_int_equal(sim_engine_control(e, SIM_CTL_CLOSE, "", NULL, &why), PT_EINVAL);
    /* two symbols at the same times; the close of BBB is asked for between
     * AAA@t2 and BBB@t2: it must not fill on BBB@t2 (same close), only on t3 */
    for (int i = 0; i < 2; i++) {
        flat(e, "AAA", i, 100);
        flat(e, "BBB", i, 50);
    }
    assert_true(qty_of(e, "AAA") > 0 && qty_of(e, "BBB") > 0);
    flat(e, "AAA", 2, 100);
    assert_int_equal(sim_engine_control(e, SIM_CTL_CLOSE, "BBB", NULL, NULL), PT_OK);
    int before = r.fills;
    push(e, "BBB", 2, 60, 61, 59, 60);
    assert_int_equal(r.fills, before);      /* nothing on the decision candle */
    flat(e, "AAA", 3, 100);
    push(e, "BBB", 3, 70, 72, 69, 71);      /* market exit at this open */
    assert_int_equal(r.fills, before + 1);
    assert_string_equal(r.reason[before], "manual_close");
    assert_true(r.f[before].side == PF_SELL && r.f[before].price == 70);
    assert_true(qty_of(e, "BBB") == 0 && qty_of(e, "AAA") > 0);
    /* unknown symbol */
    assert_int_equal(sim_engine_control(e, SIM_CTL_CLOSE, "ZZZ", NULL, &why), PT_ENOENT);
    sim_engine_free(e);
}

static void test_flatten(void **st)
{
    (void)st;
    rec r;
    /* AAA trades with market orders; BBB only rests a limit far below */
    sim_engine *e = engine(&r, 0, 0);
    flat(e, "AAA", 0, 100);
    flat(e, "BBB", 0, 50);
    flat(e, "AAA", 1, 100);
    flat(e, "BBB", 1, 50);
    assert_true(qty_of(e, "AAA") > 0 && qty_of(e, "BBB") > 0);
    g_limit_px = 1; /* from now on an entry rests as a limit that never fills */
    assert_int_equal(sim_engine_control(e, SIM_CTL_CLOSE, "BBB", NULL, NULL), PT_OK);
    flat(e, "AAA", 2, 100);
    flat(e, "BBB", 2, 50);
    flat(e, "AAA", 3, 100);
    flat(e, "BBB", 3, 55);                   /* BBB closed; its strategy rests a limit entry */
    assert_true(qty_of(e, "BBB") == 0);
    uint64_t cancels = sim_engine_get_stats(e)->cancels;
    int64_t b;
    assert_int_equal(sim_engine_control(e, SIM_CTL_FLATTEN, NULL, &b, NULL), PT_OK);
    assert_int_equal(b, 3 * 60000);
    sim_engine_flush_row(e);                 /* time 3 complete: applies now */
    assert_int_equal(sim_engine_controls_pending(e), 0);
    assert_true(sim_engine_get_stats(e)->cancels > cancels); /* BBB's waiting limit entry */
    int before = r.fills;
    push(e, "AAA", 4, 120, 121, 119, 120);
    assert_int_equal(r.fills, before + 1);
    assert_string_equal(r.reason[before], "flatten");
    assert_true(r.f[before].price == 120 && r.f[before].ts_ms == 4 * 60000);
    assert_true(qty_of(e, "AAA") == 0 && qty_of(e, "BBB") == 0);
    assert_int_equal(pf_open_positions(sim_engine_portfolio(e)), 0);
    sim_engine_free(e);
}

/* A replay that queues the live controls at their boundaries (what
 * DIR/controls.csv records) produces the same fills. */
static void test_replay_parity(void **st)
{
    (void)st;
    static const struct { int at; sim_control_action a; const char *sym; } plan[] = {
        {3, SIM_CTL_PAUSE, NULL},  {6, SIM_CTL_CLOSE, "AAA"}, {9, SIM_CTL_RESUME, NULL},
        {12, SIM_CTL_FLATTEN, NULL}, {15, SIM_CTL_CLOSE, "BBB"},
    };
    const int np = (int)(sizeof plan / sizeof plan[0]);
    int64_t bound[8];
    rec live, rep;
    sim_engine *e = engine(&live, 0.8, 0);
    for (int i = 0, k = 0; i < 20; i++) {
        double p = 100 + 10 * sin(i * 0.7);
        flat(e, "AAA", i, p);
        if (k < np && plan[k].at == i && plan[k].sym && !strcmp(plan[k].sym, "BBB")) {
            /* asked between the two symbols of one time */
            assert_int_equal(sim_engine_control(e, plan[k].a, plan[k].sym, &bound[k], NULL), PT_OK);
            k++;
        }
        flat(e, "BBB", i, p / 2);
        if (k < np && plan[k].at == i) {
            assert_int_equal(sim_engine_control(e, plan[k].a, plan[k].sym, &bound[k], NULL), PT_OK);
            k++;
        }
    }
    sim_engine_finish(e);
    sim_engine_free(e);
    assert_true(live.fills > 4);

    e = engine(&rep, 0.8, 0);
    for (int i = 0, k = 0; i < 20; i++) {
        while (k < np && bound[k] < i * 60000) {
            assert_int_equal(sim_engine_control_at(e, plan[k].a, plan[k].sym, bound[k], NULL), PT_OK);
            k++;
        }
        double p = 100 + 10 * sin(i * 0.7);
        flat(e, "AAA", i, p);
        flat(e, "BBB", i, p / 2);
    }
    sim_engine_finish(e);
    sim_engine_free(e);
    assert_int_equal(rep.fills, live.fills);
    for (int i = 0; i < live.fills && i < MAXF; i++) {
        assert_true(live.f[i].ts_ms == rep.f[i].ts_ms && live.f[i].price == rep.f[i].price &&
                    live.f[i].qty == rep.f[i].qty && live.f[i].side == rep.f[i].side);
        assert_string_equal(live.reason[i], rep.reason[i]);
        assert_string_equal(live.sym[i], rep.sym[i]);
    }
    int manual = 0, flat_n = 0;
    for (int i = 0; i < live.fills && i < MAXF; i++) {
        manual += !strcmp(live.reason[i], "manual_close");
        flat_n += !strcmp(live.reason[i], "flatten");
    }
    assert_true(manual >= 1 && flat_n >= 1);
}

static void test_bounds_and_state(void **st)
{
    (void)st;
    rec r;
    sim_engine *e = engine(&r, 0, 0);
    flat(e, "AAA", 5, 100);
    const char *why = NULL;
    assert_int_equal(sim_engine_control_at(e, SIM_CTL_PAUSE, NULL, 60000, &why), PT_EINVAL);
    int i;
    for (i = 0; i < 100; i++)
        if (sim_engine_control(e, i % 2 ? SIM_CTL_RESUME : SIM_CTL_PAUSE, NULL, NULL, &why))
            break;
    assert_true(i > 0 && i < 100); /* bounded queue */
    assert_int_equal(sim_engine_control(e, SIM_CTL_PAUSE, NULL, NULL, &why), PT_EFULL);
    assert_int_equal(sim_engine_control(e, (sim_control_action)42, NULL, NULL, &why), PT_EINVAL);
    sim_engine_flush_row(e);
    assert_int_equal(sim_engine_controls_pending(e), 0);
    assert_int_equal(sim_engine_paused(e), i % 2); /* the last one applied wins */
    sim_engine_finish(e);
    assert_int_equal(sim_engine_control(e, SIM_CTL_FLATTEN, NULL, NULL, &why), PT_ESTATE);
    sim_engine_free(e);
}

/* The cap counts every control at one boundary, applied at once (time
 * complete, as live) or queued (as a replay): the same number passes on
 * both paths, so whatever a live session accepted replays. */
static void test_per_candle_cap(void **st)
{
    (void)st;
    rec r;
    sim_engine *e = engine(&r, 0, 0);
    flat(e, "AAA", 5, 100);
    const char *why = NULL;
    for (int i = 0; i < SIM_CONTROLS_PER_CANDLE; i++) {
        assert_int_equal(sim_engine_control(e, i % 2 ? SIM_CTL_RESUME : SIM_CTL_PAUSE, NULL, NULL, &why), PT_OK);
        sim_engine_flush_row(e); /* live: the candle time is complete, applies now */
    }
    assert_int_equal(sim_engine_controls_pending(e), 0);
    assert_int_equal(sim_engine_control(e, SIM_CTL_PAUSE, NULL, NULL, &why), PT_EFULL);
    assert_non_null(strstr(why, "at most 16"));
    flat(e, "AAA", 6, 100); /* a new boundary: controls again */
    assert_int_equal(sim_engine_control(e, SIM_CTL_PAUSE, NULL, NULL, &why), PT_OK);
    sim_engine_free(e);

    /* replay: the same number queued at one recorded boundary, one over refused */
    e = engine(&r, 0, 0);
    flat(e, "AAA", 5, 100);
    for (int i = 0; i < SIM_CONTROLS_PER_CANDLE; i++)
        assert_int_equal(sim_engine_control_at(e, SIM_CTL_RESUME, NULL, 5 * 60000, &why), PT_OK);
    assert_int_equal(sim_engine_control_at(e, SIM_CTL_RESUME, NULL, 5 * 60000, &why), PT_EFULL);
    assert_int_equal(sim_engine_controls_pending(e), SIM_CONTROLS_PER_CANDLE);
    flat(e, "AAA", 6, 100);
    assert_int_equal(sim_engine_controls_pending(e), 0);
    sim_engine_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_pause_blocks_entries_not_exits),
        cmocka_unit_test(test_resume),
        cmocka_unit_test(test_close_position),
        cmocka_unit_test(test_flatten),
        cmocka_unit_test(test_replay_parity),
        cmocka_unit_test(test_bounds_and_state),
        cmocka_unit_test(test_per_candle_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
