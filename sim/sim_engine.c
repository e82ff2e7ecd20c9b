/* sim_engine: the one engine for backtest and live. Owns per-symbol state
 * (quality checker, strategy instance, open orders, position, risk
 * counters), cash, and the session-wide risk state. It sees candles only
 * through sim_engine_on_candle and decides on event time only. The ledger
 * files and metrics belong to portfolio/, fed through the hooks by the
 * session (app/cmd_backtest.c, the live session later).
 *
 * Order of work per candle (sim/README.md; one engine for backtest and live):
 *   quality -> fills of this symbol's resting orders -> protective exits
 *   -> mark to close -> risk bookkeeping -> strategy -> new orders.
 */
#include "feed.h"
#include "sim_engine_internal.h"
#include "sim_ext_internal.h"
#include "sim_perp_internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const type_names[] = {"market", "limit", "stop", "stop_limit"};

const char *sim_order_type_name(sim_order_type t)
{
    return (unsigned)t < 4 ? type_names[t] : "unknown";
}

void sim_engine_config_default(sim_engine_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->cash = 10000;
    cfg->taker_fee_bps = 10;
    cfg->maker_fee_bps = 10;
    cfg->slippage_bps = 0;
    cfg->sizing.kind = SIM_SIZE_ALL_IN;
    cfg->atr_period = 14;
    cfg->atr_mult = 2;
    cfg->min_quality = 60;
    cfg->breaker_failures = 3;
    cfg->breaker_recovery = 100;
    cfg->max_symbols = 64;
    cfg->max_open_orders = 16;
    quality_config_default(&cfg->quality);
    cfg->perp.leverage = 1;
    cfg->perp.liq_fee_bps = 50;
}

/* ------------------------------------------------------------ events */

void sim_eng_alert(sim_engine *e, int64_t ts, const char *sym, const char *kind, const char *fmt,
                   ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char when[32];
    pt_format_iso_ms(ts, when, sizeof when);
    pt_info("%s %s%s%s: %s", when, kind, sym ? " " : "", sym ? sym : "", msg);
    if (e->hooks.on_alert) {
        sim_alert a = {ts, sym, kind, msg};
        e->hooks.on_alert(e->ud, &a);
    }
}

static void order_event(sim_engine *e, const sim_symbol *s, const sim_order *o, int64_t ts,
                        sim_order_status status, const char *reason)
{
    if (!e->hooks.on_order)
        return;
    sim_order_event ev = {o->id,           ts,  s->name,        o->px.type,
                          o->px.side,      status, o->qty,      o->px.limit_price,
                          o->px.stop_price, reason ? reason : o->reason};
    e->hooks.on_order(e->ud, &ev);
}

static void block(sim_engine *e, const sim_symbol *s, int64_t ts, sim_block_reason r)
{
    e->st.blocks[r]++;
    if (r == SIM_BLOCK_QUALITY)
        e->st.quality_blocks++;
    /* Log the first few of each reason; the counters carry the rest. */
    if (e->st.blocks[r] <= 3)
        sim_eng_alert(e, ts, s->name, "risk_block", "entry blocked: %s%s", sim_block_name(r),
              e->st.blocks[r] == 3 ? " (further blocks of this kind counted, not logged)" : "");
}

/* ------------------------------------------------------------ portfolio */

const pf_portfolio *sim_engine_portfolio(const sim_engine *e) { return e->pf; }

static void remove_order(sim_symbol *s, int i)
{
    /* keep submission order: fills on one candle go oldest first */
    memmove(&s->orders[i], &s->orders[i + 1], (size_t)(s->n_orders - i - 1) * sizeof s->orders[0]);
    s->n_orders--;
}

void sim_eng_cancel_orders(sim_engine *e, sim_symbol *s, int64_t ts, int entries_only,
                           const char *why)
{
    for (int i = s->n_orders - 1; i >= 0; i--) {
        sim_order *o = &s->orders[i];
        int entry = o->intent == SIM_INTENT_ENTER_LONG || o->intent == SIM_INTENT_ENTER_SHORT;
        if (entries_only && !entry)
            continue;
        order_event(e, s, o, ts, SIM_ORDER_CANCELLED, why);
        e->st.cancels++;
        remove_order(s, i);
    }
}

/* Book a fill of signed quantity dq (buy > 0) at price in the portfolio;
 * mirrors the position and runs the per-symbol loss streak. */
static void apply_fill(sim_engine *e, sim_symbol *s, uint64_t oid, sim_order_type type,
                       int64_t ts, double dq, double price, int maker, const char *reason)
{
    double rate = (maker ? e->cfg.maker_fee_bps : e->cfg.taker_fee_bps) / 10000.0;
    double q = fabs(dq);
    pf_fill f = {ts,   s->name, dq > 0 ? PF_BUY : PF_SELL, q, price, q * price * rate, oid,
                 sim_order_type_name(type), reason, quality_score(s->qc)};
    pf_fill_result r;
    int rc = pf_apply_fill(e->pf, &f, &r);
    if (rc) { /* the engine sized it, so this is a bug, not bad input: count it */
        e->st.rejected_orders++;
        pt_err_log("engine: portfolio refused fill of order %llu on %s: %s",
                   (unsigned long long)oid, s->name, pt_strerror(rc));
        return;
    }
    f.fee = r.fee_charged; /* perp: a bankrupt close pays what is left */
    sim_eng_after_fill(e, s, &f, &r);
}

void sim_eng_after_fill(sim_engine *e, sim_symbol *s, const pf_fill *f, const pf_fill_result *r_)
{
    const pf_fill_result r = *r_;
    int64_t ts = f->ts_ms;
    s->qty = r.qty_after;
    s->avg_price = r.avg_price_after;
    e->st.fills++;
    if (s->qty == 0) {
        s->sl = s->tp = s->trail_pct = s->trail_stop = s->trail_extreme = 0;
        s->protect_armed = 0;
    }
    if (r.round_trip_closed) {
        if (r.round_trip_pnl >= 0) {
            s->consec_losses = 0;
        } else if (e->cfg.cooldown_losses > 0 && ++s->consec_losses >= e->cfg.cooldown_losses) {
            s->cooldown_left = e->cfg.cooldown_candles;
            s->consec_losses = 0;
            sim_eng_alert(e, ts, s->name, "cooldown", "%d consecutive losses: no entries for %d candles",
                  e->cfg.cooldown_losses, e->cfg.cooldown_candles);
        }
    }
    if (e->hooks.on_fill)
        e->hooks.on_fill(e->ud, f, &r);
}

/* Entry quantity for a fill at price, after sizing, cash, exposure and
 * volume caps. 0 means nothing to do (the caller counts why). */
static double entry_qty(sim_engine *e, sim_symbol *s, const sim_order *o, double price, int maker,
                        sim_block_reason *why)
{
    double fee = (maker ? e->cfg.maker_fee_bps : e->cfg.taker_fee_bps) / 10000.0;
    if (e->cfg.perp.on)
        return sim_perp_entry_qty(e, s, o->qty, price, fee, why);
    double equity = pf_equity(e->pf), cash = pf_cash(e->pf);
    double q = o->qty > 0 ? o->qty
                          : sim_size_entry(&e->cfg.sizing, cash, equity, price, fee, s->atr.value,
                                           e->cfg.atr_mult);
    /* the portfolio's own bound is exact after rounding (no rejected all-in) */
    double affordable = o->px.side > 0 ? pf_max_buy_qty(e->pf, price, fee)
                                       : sim_qty_for_budget(cash, price, fee);
    *why = SIM_BLOCK_NO_CASH;
    if (q > affordable)
        q = affordable;
    if (e->cfg.max_exposure_pct > 0) {
        double room = equity * e->cfg.max_exposure_pct / 100.0 - fabs(s->qty) * price;
        double cap = room > 0 ? room / price : 0;
        if (q > cap) {
            q = cap;
            *why = SIM_BLOCK_MAX_EXPOSURE;
        }
    }
    double floor = e->cfg.min_notional > 0 ? e->cfg.min_notional : e->cfg.cash * 1e-4;
    if (q * price < floor)
        return 0; /* dust: the caller counts *why */
    return q > 0 ? q : 0;
}

/* ------------------------------------------------------------ fills */

static void fill_orders(sim_engine *e, sim_symbol *s, const pt_candle *c)
{
    for (int i = 0; i < s->n_orders;) {
        sim_order *o = &s->orders[i];
        double price;
        int maker;
        sim_fill_result r = sim_fill_eval(&o->px, c, e->cfg.slippage_bps, &price, &maker);
        if (r == SIM_FILL_TRIGGERED)
            o->px.triggered = 1;
        if (r != SIM_FILL_YES) {
            if (o->tif_left > 0 && --o->tif_left == 0) {
                order_event(e, s, o, c->ts_ms, SIM_ORDER_EXPIRED, "time_in_force");
                e->st.expired++;
                remove_order(s, i);
                continue;
            }
            i++;
            continue;
        }
        int entry = o->intent == SIM_INTENT_ENTER_LONG || o->intent == SIM_INTENT_ENTER_SHORT;
        if (entry && s->qty != 0 && (s->qty > 0) != (o->px.side > 0)) {
            i++; /* a reversal: waits until the exit before it has filled */
            continue;
        }
        double q;
        sim_block_reason why = SIM_BLOCK_NO_CASH;
        if (entry)
            q = entry_qty(e, s, o, price, maker, &why);
        else /* exits: the position as it is now, or what is left of it */
            q = (o->qty > 0 && o->qty < fabs(s->qty)) ? o->qty : fabs(s->qty);
        double want = q;
        if (e->cfg.max_participation_pct > 0) {
            double cap = c->volume * e->cfg.max_participation_pct / 100.0;
            if (q > cap)
                q = cap;
        }
        /* only the volume cap leaves a rest open; the lot step's rounding
         * down is the whole order (its rest could never fill: no cash) */
        int capped = q < want;
        if (entry && want > 0 && sim_rules_qty(e, s, o, price, c->ts_ms, &q)) {
            order_event(e, s, o, c->ts_ms, SIM_ORDER_REJECTED, "order_rules");
            e->st.rejected_orders++;
            remove_order(s, i);
            continue;
        }
        if (!(q > 0)) {
            if (entry && want <= 0) {
                block(e, s, c->ts_ms, why);
                order_event(e, s, o, c->ts_ms, SIM_ORDER_REJECTED, sim_block_name(why));
                e->st.rejected_orders++;
                remove_order(s, i);
            } else if (!entry && s->qty == 0) {
                order_event(e, s, o, c->ts_ms, SIM_ORDER_CANCELLED, "no_position");
                e->st.cancels++;
                remove_order(s, i);
            } else {
                i++; /* volume cap on a zero-volume bar: stays open */
            }
            continue;
        }
        int was_flat = s->qty == 0;
        apply_fill(e, s, o->id, o->px.type, c->ts_ms, o->px.side * q, price, maker, o->reason);
        if (entry && was_flat) {
            s->sl = o->stop_loss;
            s->tp = o->take_profit;
            s->trail_pct = o->trailing_pct;
            s->trail_extreme = price;
            s->trail_stop = 0;
            s->protect_armed = 0;
        }
        if (capped && q < want) { /* partial: the rest stays open with a fixed size */
            o->qty = want - q;
            order_event(e, s, o, c->ts_ms, SIM_ORDER_PARTIAL, "volume_cap");
            i++;
        } else {
            o->qty = q;
            order_event(e, s, o, c->ts_ms, SIM_ORDER_FILLED, NULL);
            remove_order(s, i);
        }
    }
}

static void protect(sim_engine *e, sim_symbol *s, const pt_candle *c)
{
    if (s->qty == 0)
        return;
    int side = s->qty > 0 ? 1 : -1;
    if (s->protect_armed) {
        double price;
        const char *why;
        if (sim_protect_eval(side, s->sl, s->tp, s->trail_stop, c, e->cfg.slippage_bps, &price,
                             &why)) {
            int maker = !strcmp(why, "take_profit");
            apply_fill(e, s, 0, maker ? SIM_ORDER_LIMIT : SIM_ORDER_STOP, c->ts_ms, -s->qty,
                       price, maker, why);
            sim_eng_cancel_orders(e, s, c->ts_ms, 0, "position_closed");
            return;
        }
    }
    /* Arm for the next candle; the trailing level uses this bar's extreme
     * only from the next bar on (no look-ahead inside a bar). */
    s->protect_armed = 1;
    if (s->trail_pct > 0)
        s->trail_stop = sim_trail_update(side, s->trail_pct, &s->trail_extreme, c);
}

/* ------------------------------------------------------------ strategy */

static int entry_allowed(sim_engine *e, sim_symbol *s, int64_t ts, int adds_position)
{
    sim_block_reason r;
    if (e->risk.killed)
        r = SIM_BLOCK_DRAWDOWN;
    else if (e->paused)
        r = SIM_BLOCK_PAUSED;
    else if (e->risk.daily_blocked)
        r = SIM_BLOCK_DAILY_LOSS;
    else if (s->cooldown_left > 0)
        r = SIM_BLOCK_COOLDOWN;
    else if (!quality_gate_allows_entry(s->qc, e->cfg.min_quality))
        r = SIM_BLOCK_QUALITY;
    else if (adds_position && e->cfg.max_positions > 0 &&
             pf_open_positions(e->pf) >= e->cfg.max_positions)
        r = SIM_BLOCK_MAX_POSITIONS;
    else
        return 1;
    block(e, s, ts, r);
    return 0;
}

static int price_ok(double p) { return isfinite(p) && p >= 0; }

static int exit_waiting(const sim_symbol *s)
{
    for (int i = 0; i < s->n_orders; i++)
        if (s->orders[i].intent == SIM_INTENT_EXIT_LONG || s->orders[i].intent == SIM_INTENT_EXIT_SHORT)
            return 1;
    return 0;
}

void sim_eng_submit(sim_engine *e, sim_symbol *s, const pt_candle *c, const sim_order_request *rq,
                    double qty)
{
    if (c->ts_ms < e->cfg.trade_from_ms)
        return; /* warm-up: the strategy decides, nothing is acted on */
    int side;
    switch (rq->intent) {
    case SIM_INTENT_CANCEL_ALL:
        sim_eng_cancel_orders(e, s, c->ts_ms, 0, rq->reason ? rq->reason : "strategy");
        return;
    case SIM_INTENT_ENTER_SHORT:
        if (!e->cfg.allow_short) {
            block(e, s, c->ts_ms, SIM_BLOCK_NO_SHORT);
            return;
        }
        /* fall through */
    case SIM_INTENT_ENTER_LONG:
        side = rq->intent == SIM_INTENT_ENTER_LONG ? 1 : -1;
        /* opposite position open: only behind an exit that is waiting (a
         * reversal; fill_orders holds the entry until the exit filled) */
        if (s->qty != 0 && (s->qty > 0) != (side > 0) && !exit_waiting(s))
            return;
        if (!entry_allowed(e, s, c->ts_ms, s->qty == 0))
            return;
        break;
    case SIM_INTENT_EXIT_LONG:
    case SIM_INTENT_EXIT_SHORT:
        side = rq->intent == SIM_INTENT_EXIT_LONG ? -1 : 1;
        /* an exit also withdraws entries still waiting */
        sim_eng_cancel_orders(e, s, c->ts_ms, 1, "exit_signal");
        if (s->qty == 0 || (s->qty > 0) == (side > 0))
            return;
        break;
    default:
        return;
    }
    if (s->n_orders >= e->cfg.max_open_orders) {
        block(e, s, c->ts_ms, SIM_BLOCK_ORDER_LIMIT);
        return;
    }
    sim_order *o = &s->orders[s->n_orders++];
    memset(o, 0, sizeof *o);
    o->id = ++e->next_order_id;
    o->px.type = rq->type;
    o->px.side = side;
    o->px.limit_price = rq->limit_price;
    o->px.stop_price = rq->stop_price;
    o->intent = rq->intent;
    o->qty = qty;
    o->stop_loss = rq->stop_loss;
    o->take_profit = rq->take_profit;
    o->trailing_pct = rq->trailing_pct;
    o->tif_left = rq->tif_candles > 0 ? rq->tif_candles : 0;
    o->reason = rq->reason ? rq->reason : "signal";
    sim_rules_prices(e, s, o);
    e->st.orders++;
    order_event(e, s, o, c->ts_ms, SIM_ORDER_NEW, NULL);
}

int sim_request_valid(const sim_order_request *r)
{
    return price_ok(r->limit_price) && price_ok(r->stop_price) && price_ok(r->stop_loss) &&
           price_ok(r->take_profit) && price_ok(r->trailing_pct) && r->trailing_pct < 100 &&
           (unsigned)r->type <= SIM_ORDER_STOP_LIMIT &&
           !((r->type == SIM_ORDER_LIMIT || r->type == SIM_ORDER_STOP_LIMIT) && !(r->limit_price > 0)) &&
           !((r->type == SIM_ORDER_STOP || r->type == SIM_ORDER_STOP_LIMIT) && !(r->stop_price > 0));
}

/* A request with a price the fill model cannot use is a strategy failure;
 * so is a count out of its cap (ABI 1: SIM_MAX_*, ABI 2: SIM_MAX_*_V2). */
static int signal_valid(int n_orders, const sim_order_request *orders, int max_orders,
                        int n_ind, const double *ind, int max_ind)
{
    if (n_orders < 0 || n_orders > max_orders || n_ind < 0 || n_ind > max_ind)
        return 0;
    for (int i = 0; i < n_ind; i++)
        if (isinf(ind[i]))
            return 0;
    for (int i = 0; i < n_orders; i++)
        if (!sim_request_valid(&orders[i]))
            return 0;
    return 1;
}

/* An ABI-2 plugin decides: its orders are submitted here (all of them);
 * sig, for the dashboard, gets the first ones and the first values. 1 when
 * it did; 0 on a failure, *rc its return (0: it returned an invalid signal). */
static int decide_v2(sim_engine *e, const sim_strategy_ops_v2 *v2, sim_symbol *s, const pt_candle *c,
                     const sim_position_view *view, sim_signal *sig, int *rc)
{
    sim_signal_v2 out;
    memset(&out, 0, sizeof out);
    *rc = v2->on_candle(s->strat, c, view, &out);
    if (*rc || !signal_valid(out.n_orders, out.orders, SIM_MAX_ORDERS_V2, out.n_indicators,
                             out.indicators, SIM_MAX_INDICATORS_V2))
        return 0;
    for (int i = 0; i < out.n_orders; i++)
        sim_eng_submit(e, s, c, &out.orders[i], 0);
    for (int i = 0; i < out.n_orders && i < SIM_MAX_ORDERS; i++)
        sig->orders[sig->n_orders++] = out.orders[i];
    for (int i = 0; i < out.n_indicators && i < SIM_MAX_INDICATORS; i++)
        sig->indicators[sig->n_indicators++] = out.indicators[i];
    return 1;
}

static int run_strategy(sim_engine *e, sim_symbol *s, const pt_candle *c, sim_signal *sig)
{
    if (e->ext && e->cfg.ext.live && sim_ext_rs_tick(e, s, c))
        pt_warn("strategy %s: no memory to keep candles for a restart", e->cfg.strategy->name);
    if (s->breaker_left > 0) {
        if (--s->breaker_left == 0)
            sim_eng_alert(e, c->ts_ms, s->name, "circuit_breaker", "closed again after recovery");
        return 0;
    }
    int rc;
    if (e->ext) { /* orders already submitted; a failure was logged with the text */
        if (sim_eng_ext_decide(e, s, c, sig) == PT_OK) {
            s->failures = 0;
            return 2;
        }
        e->st.strategy_failures++;
        if (!e->cfg.ext.live) /* a backtest stops: its rows so far stay as written */
            e->ext_dead = 1;
        else /* live: the child is gone; sim_ext_restart.c starts it again */
            sim_ext_rs_failed(e, c);
        return 0;
    } else {
        sim_position_view view = {s->qty, s->avg_price, s->n_orders, e->cfg.allow_short};
        const sim_strategy_ops_v2 *v2 = sim_v2_of(e->cfg.strategy);
        memset(sig, 0, sizeof *sig);
        e->st.strategy_calls++;
        if (v2 && decide_v2(e, v2, s, c, &view, sig, &rc)) {
            s->failures = 0;
            return 2; /* orders already submitted */
        }
        if (!v2 && (rc = e->cfg.strategy->on_candle(s->strat, c, &view, sig)) == 0 &&
            signal_valid(sig->n_orders, sig->orders, SIM_MAX_ORDERS, sig->n_indicators,
                         sig->indicators, SIM_MAX_INDICATORS)) {
            s->failures = 0;
            return 1;
        }
    }
    e->st.strategy_failures++;
    char when[32];
    pt_format_iso_ms(c->ts_ms, when, sizeof when);
    pt_warn("strategy %s failed on %s at %s (line %llu): %s", e->cfg.strategy->name, s->name, when,
            (unsigned long long)c->line, rc ? "nonzero return" : "invalid signal");
    if (++s->failures >= e->cfg.breaker_failures) {
        s->failures = 0;
        s->breaker_left = e->cfg.breaker_recovery;
        e->st.breaker_opens++;
        e->st.blocks[SIM_BLOCK_BREAKER]++;
        sim_eng_alert(e, c->ts_ms, s->name, "circuit_breaker",
              "opened after %d failures: strategy paused for %d candles", e->cfg.breaker_failures,
              e->cfg.breaker_recovery);
    }
    return 0;
}

/* ------------------------------------------------------------ lifecycle */

static sim_symbol *symbol_get(sim_engine *e, const char *name)
{
    if (e->n_syms && !strcmp(e->syms[e->last_sym].name, name))
        return &e->syms[e->last_sym];
    for (int i = 0; i < e->n_syms; i++)
        if (!strcmp(e->syms[i].name, name)) {
            e->last_sym = i;
            return &e->syms[i];
        }
    if (e->n_syms >= e->cfg.max_symbols) {
        if (!e->full_logged++)
            pt_err_log("engine: symbol %s ignored: more than %d symbols", name, e->cfg.max_symbols);
        return NULL;
    }
    sim_symbol *s = &e->syms[e->n_syms];
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "%s", name);
    s->fund_sym = -2;
    char err[160] = "";
    s->orders = calloc((size_t)e->cfg.max_open_orders, sizeof *s->orders);
    const quality_tape *tape =
        e->cfg.quality_replay ? e->cfg.quality_replay(e->cfg.quality_replay_ud, name) : NULL;
    s->qc = tape ? quality_new_replay(tape) : quality_new(&e->cfg.quality);
    if (!s->orders || !s->qc)
        goto fail;
    if (sim_strategy_create(e->cfg.strategy, e->cfg.params, &s->strat, err, sizeof err)) {
        pt_err_log("engine: strategy %s for %s: %s", e->cfg.strategy->name, name, err);
        goto fail;
    }
    sim_atr_init(&s->atr, e->cfg.atr_period);
    sim_rules_attach(e, s);
    s->pf_id = pf_symbol_id(e->pf, name);
    if (s->pf_id < 0) {
        pt_err_log("engine: portfolio cannot track %s: %s", name, pt_strerror(s->pf_id));
        sim_strategy_free_state(e->cfg.strategy, s->strat);
        goto fail;
    }
    sim_perp_symbol_new(e, name);
    e->last_sym = e->n_syms++;
    return s;
fail:
    free(s->orders);
    quality_free(s->qc);
    memset(s, 0, sizeof *s);
    return NULL;
}

int sim_engine_new(const sim_engine_config *cfg, const sim_hooks *hooks, void *ud, sim_engine **out)
{
    *out = NULL;
    if (!cfg->strategy || !cfg->strategy->on_candle || !cfg->strategy->create ||
        !(cfg->cash > 0) || !isfinite(cfg->cash) || cfg->max_symbols < 1 ||
        cfg->max_symbols > PF_MAX_SYMBOLS || cfg->max_open_orders < 1 ||
        cfg->taker_fee_bps < 0 || cfg->maker_fee_bps < 0 || cfg->slippage_bps < 0 || cfg->breaker_failures < 1 || cfg->breaker_recovery < 0 || !(cfg->min_notional >= 0)) {
        pt_err_log("engine: invalid configuration (strategy, cash > 0, limits >= 1, fees >= 0)");
        return PT_EINVAL;
    }
    sim_engine *e = calloc(1, sizeof *e);
    if (!e)
        return PT_ENOMEM;
    e->cfg = *cfg;
    if (hooks)
        e->hooks = *hooks;
    e->ud = ud;
    e->syms = calloc((size_t)cfg->max_symbols, sizeof *e->syms);
    const sim_perp_config *pc = &cfg->perp;
    if (pc->on)
        e->cfg.allow_short = 1; /* a perp is two-sided: the symmetric built-ins short */
    pf_options po = {e->cfg.allow_short, pc->on ? PF_PERP : PF_SPOT, pc->margin, pc->leverage,
                     pc->liq_fee_bps / 10000.0, pc->brackets.n ? &pc->brackets : NULL};
    int rc = e->syms ? pf_new(cfg->cash, &po, &e->pf) : PT_ENOMEM;
    if (rc) {
        free(e->syms);
        free(e);
        return rc;
    }
    sim_risk_init(&e->risk, cfg->cash);
    e->event_ts = INT64_MIN;
    if (cfg->rules && sim_engine_set_rules(e, cfg->rules)) {
        sim_engine_free(e);
        return PT_ENOMEM;
    }
    e->ext = sim_ext_of(cfg->strategy);
    sim_ext_options xo = cfg->ext;
    xo.allow_short = e->cfg.allow_short;
    if (e->ext && (rc = sim_ext_start(e->ext, &xo, cfg->params))) {
        e->ext = NULL;
        sim_engine_free(e);
        return rc;
    }
    *out = e;
    return PT_OK;
}

void sim_engine_free(sim_engine *e)
{
    if (!e)
        return;
    sim_ext_rs_free(e->ext_rs);
    if (e->ext) { /* end, reap; the read-ahead belongs to the source */
        sim_ext_stop(e->ext);
        sim_ext_set_peek(e->ext, &(sim_ext_peek){0});
    }
    for (int i = 0; i < e->n_syms; i++) {
        if (e->syms[i].strat)
            sim_strategy_free_state(e->cfg.strategy, e->syms[i].strat);
        quality_free(e->syms[i].qc);
        free(e->syms[i].orders);
    }
    free(e->syms);
    pf_free(e->pf);
    free(e->rules);
    free(e);
}

void sim_eng_market_exit(sim_engine *e, sim_symbol *s, int64_t ts, const char *reason)
{
    sim_eng_cancel_orders(e, s, ts, 0, reason);
    if (s->qty == 0)
        return;
    sim_order *o = &s->orders[s->n_orders++]; /* room: every order was just cancelled */
    memset(o, 0, sizeof *o);
    o->id = ++e->next_order_id;
    o->px.type = SIM_ORDER_MARKET;
    o->px.side = s->qty > 0 ? -1 : 1;
    o->intent = s->qty > 0 ? SIM_INTENT_EXIT_LONG : SIM_INTENT_EXIT_SHORT;
    o->reason = reason;
    e->st.orders++;
    order_event(e, s, o, ts, SIM_ORDER_NEW, NULL);
}

static void kill_switch(sim_engine *e, int64_t ts)
{
    sim_eng_alert(e, ts, NULL, "kill_switch",
          "drawdown reached %.2f%%: flattening all positions, no new entries",
          e->cfg.max_drawdown_pct);
    e->st.killed = 1;
    /* flatten: market exits on each symbol's next candle */
    for (int i = 0; i < e->n_syms; i++)
        sim_eng_market_exit(e, &e->syms[i], ts, "kill_switch");
}

void sim_engine_flush_row(sim_engine *e)
{
    /* event time T is complete: controls queued at boundary T apply now */
    if (e->n_ctl && e->event_ts != INT64_MIN)
        sim_ctl_apply_due(e, e->event_ts + 1);
    if (!e->row_pending)
        return;
    e->row_pending = 0;
    /* the row's quality is the weakest symbol's score at that time */
    double q = 100;
    for (int i = 0; i < e->n_syms; i++) {
        double si = quality_score(e->syms[i].qc);
        if (si < q)
            q = si;
    }
    pf_snapshot snap;
    pf_snapshot_take(e->pf, e->row_ts, q, &snap);
    if (e->hooks.on_portfolio_row)
        e->hooks.on_portfolio_row(e->ud, &snap);
}

/* Risk bookkeeping on the equity after this candle. */
static void mark(sim_engine *e, int64_t ts)
{
    int ev = sim_risk_mark(&e->risk, &e->cfg, ts, pf_equity(e->pf));
    if (ev & SIM_RISK_EV_DAILY) {
        e->st.blocks[SIM_BLOCK_DAILY_LOSS]++;
        sim_eng_alert(e, ts, NULL, "daily_loss", "equity down %.2f%% today: no new entries until 00:00 UTC",
              e->cfg.daily_loss_pct);
    }
    if (ev & SIM_RISK_EV_KILL)
        kill_switch(e, ts);
    e->row_ts = ts;
    e->row_pending = 1;
}

void sim_engine_set_trade_from(sim_engine *e, int64_t ts_ms) { e->cfg.trade_from_ms = ts_ms; }

/* A warm-up candle: the indicators move, nothing trades or is reported. */
static int warm_candle(sim_engine *e, sim_symbol *s, const pt_candle *c, quality_verdict v)
{
    e->st.warmup++;
    if (v == QUALITY_REJECT)
        return PT_OK;
    s->last_close = c->close;
    s->last_ts = c->ts_ms;
    sim_atr_update(&s->atr, c);
    sim_signal sig;
    run_strategy(e, s, c, &sig);
    return e->ext_dead ? PT_ESTATE : PT_OK;
}

int sim_engine_on_candle(sim_engine *e, const pt_candle *c)
{
    if (e->ext_dead)
        return PT_ESTATE;
    if (e->input_dead)
        return PT_EPARSE;
    if (!c->closed)
        return PT_OK;
    e->st.candles++;
    if (e->row_pending && c->ts_ms != e->row_ts)
        sim_engine_flush_row(e);
    /* operator controls decided at an earlier boundary apply before this
     * candle, like a strategy decision at that close (sim_control.c) */
    if (e->n_ctl)
        sim_ctl_apply_due(e, c->ts_ms);
    sim_symbol *s = symbol_get(e, c->symbol);
    if (!s)
        return PT_EFULL;
    quality_result qr;
    quality_verdict v = quality_check(s->qc, c, 0, &qr);
    if (c->ts_ms < e->cfg.trade_from_ms)
        return warm_candle(e, s, c, v);
    if (v == QUALITY_REJECT) {
        /* invalid data never reaches fills or the strategy */
        e->st.rejected++;
        if (e->hooks.on_candle)
            e->hooks.on_candle(e->ud, c, v, qr.score, NULL);
        return PT_OK;
    }
    e->st.accepted++;
    e->st.flagged += v == QUALITY_ACCEPT_FLAGGED;
    if (e->st.accepted == 1)
        e->st.first_ts_ms = c->ts_ms;
    e->st.last_ts_ms = c->ts_ms;
    if (c->ts_ms > e->event_ts)
        e->event_ts = c->ts_ms;

    pt_candle mk = *c; /* perp: the mark candle (sim_perp.c) */
    if (e->cfg.perp.on && sim_perp_before(e, s, c, &mk))
        return PT_EPARSE;
    fill_orders(e, s, c);
    if (e->cfg.perp.on && sim_perp_liq_first(e, s))
        sim_perp_liq_check(e, s, &mk);
    protect(e, s, c);
    if (e->cfg.perp.on)
        sim_perp_liq_check(e, s, &mk);
    s->last_close = c->close;
    s->last_ts = c->ts_ms;
    pf_mark_id(e->pf, s->pf_id, mk.close);
    sim_atr_update(&s->atr, c);
    if (s->cooldown_left > 0)
        s->cooldown_left--;
    mark(e, c->ts_ms);

    sim_signal sig;
    int ran = run_strategy(e, s, c, &sig);
    for (int i = 0; ran == 1 && i < sig.n_orders; i++) /* external: submitted by run_strategy */
        sim_eng_submit(e, s, c, &sig.orders[i], 0);
    if (e->hooks.on_candle)
        e->hooks.on_candle(e->ud, c, v, qr.score, ran ? &sig : NULL);
    return e->ext_dead ? PT_ESTATE : PT_OK;
}

int sim_engine_finish(sim_engine *e)
{
    if (e->finished)
        return PT_OK;
    e->finished = 1;
    if (e->n_ctl) /* nothing fills after the end: apply the state (pause) and the cancels */
        sim_ctl_apply_due(e, INT64_MAX);
    for (int i = 0; i < e->n_syms && e->cfg.close_at_end; i++) {
        sim_symbol *s = &e->syms[i];
        sim_eng_cancel_orders(e, s, s->last_ts, 0, "end_of_data");
        if (s->qty != 0) /* at the last close, no slippage: documented in README */
            apply_fill(e, s, 0, SIM_ORDER_MARKET, s->last_ts, -s->qty, s->last_close, 0,
                       "end_of_data");
    }
    if (e->cfg.perp.on)
        sim_perp_finish(e);
    sim_engine_flush_row(e);
    return PT_OK;
}

const sim_engine_stats *sim_engine_get_stats(const sim_engine *e) { return &e->st; }

size_t sim_engine_symbol_count(const sim_engine *e) { return (size_t)e->n_syms; }

const char *sim_engine_symbol_at(const sim_engine *e, size_t i)
{
    return i < (size_t)e->n_syms ? e->syms[i].name : NULL;
}

const quality_checker *sim_engine_quality_at(const sim_engine *e, size_t i)
{
    return i < (size_t)e->n_syms ? e->syms[i].qc : NULL;
}
