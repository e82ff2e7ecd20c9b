/* sim_perp: the engine's perpetual-futures steps (docs/futures.md): mark
 * candles, funding events, liquidation and margin-based entry sizing. The
 * accounting itself is portfolio/pf_margin.c; this file decides when. */
#include "feed.h"
#include "sim_perp_internal.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

int sim_market_parse(const char *text, int *perp)
{
    if (text && (!strcmp(text, "spot") || !strcmp(text, "perp"))) {
        *perp = !strcmp(text, "perp");
        return PT_OK;
    }
    return PT_EINVAL;
}

int sim_margin_parse(const char *text, pf_margin_mode *out)
{
    if (text && (!strcmp(text, "isolated") || !strcmp(text, "cross"))) {
        *out = !strcmp(text, "cross") ? PF_CROSS : PF_ISOLATED;
        return PT_OK;
    }
    return PT_EINVAL;
}

int sim_symbol_leverage_parse(const char *text, double max, sim_perp_config *p, char *why, size_t cap)
{
    p->n_symbol_leverage = 0;
    for (const char *t = text ? text : ""; *t;) {
        size_t n = strcspn(t, ","), eq = strcspn(t, "=");
        double v = 0;
        if (eq >= n || eq == 0 || eq >= PT_SYMBOL_MAX || p->n_symbol_leverage == PF_MAX_SYMBOLS ||
            pt_parse_decimal(t + eq + 1, n - eq - 1, &v, NULL) || !(v >= 1 && v <= max)) {
            snprintf(why, cap, "'%.*s': want SYMBOL=LEVERAGE with leverage 1 to %g (at most %d symbols)",
                     (int)n, t, max, PF_MAX_SYMBOLS);
            return PT_EINVAL;
        }
        snprintf(p->symbol_leverage[p->n_symbol_leverage].symbol, PT_SYMBOL_MAX, "%.*s", (int)eq, t);
        p->symbol_leverage[p->n_symbol_leverage++].leverage = v;
        t += n + (t[n] == ',');
    }
    return PT_OK;
}

/* A new symbol's leverage (sim_engine.c's symbol_get calls it). */
void sim_perp_symbol_new(sim_engine *e, const char *name)
{
    const sim_perp_config *p = &e->cfg.perp;
    for (int i = 0; p->on && i < p->n_symbol_leverage; i++)
        if (!strcmp(p->symbol_leverage[i].symbol, name))
            pf_set_leverage(e->pf, name, p->symbol_leverage[i].leverage);
}

static int input_error(sim_engine *e, const char *path, uint64_t line, const char *field, const char *fmt,
                       const char *a, const char *b)
{
    char msg[256];
    snprintf(msg, sizeof msg, fmt, a, b);
    pt_err_log("%s:%llu: %s: %s", path, (unsigned long long)line, field, msg);
    e->input_dead = 1;
    return PT_EPARSE;
}

/* ------------------------------------------------------------ marks */

static sim_mark_slot *mark_slot(sim_engine *e, const char *sym, int add)
{
    for (int i = 0; i < e->n_marks; i++)
        if (!strcmp(e->mark[i].c.symbol, sym))
            return &e->mark[i];
    if (!add || e->n_marks == PF_MAX_SYMBOLS)
        return NULL;
    sim_mark_slot *m = &e->mark[e->n_marks++];
    memset(m, 0, sizeof *m);
    snprintf(m->c.symbol, sizeof m->c.symbol, "%s", sym);
    m->last_ts = INT64_MIN;
    return m;
}

int sim_engine_on_mark(sim_engine *e, const pt_candle *mark)
{
    const char *path = e->marks_path ? e->marks_path : "mark";
    sim_mark_slot *m = mark_slot(e, mark->symbol, 1);
    if (!m)
        return input_error(e, path, mark->line, "symbol", "%s: more mark symbols than %s", mark->symbol,
                           "the symbol table holds");
    if (mark->ts_ms <= m->last_ts) {
        char when[32];
        pt_format_iso_ms(mark->ts_ms, when, sizeof when);
        return input_error(e, path, mark->line, "ts", "%s: mark candle at %s is not after the previous one "
                           "of this symbol (a mark file must be in time order)", mark->symbol, when);
    }
    m->c = *mark;
    m->last_ts = mark->ts_ms;
    return PT_OK;
}

void sim_engine_set_marks(sim_engine *e, struct feed_source *src, const char *path)
{
    e->marks = src;
    e->marks_path = path;
}

static int pull_marks(sim_engine *e, int64_t upto)
{
    while (e->marks && !e->mark_eof) {
        if (!e->mark_have) {
            int rc = e->marks->ops->next(e->marks->self, &e->mark_next);
            if (rc == PT_EOF) {
                e->mark_eof = 1;
                break;
            }
            if (rc) { /* the reader logged path and reason */
                e->input_dead = 1;
                return PT_EPARSE;
            }
            e->mark_have = 1;
        }
        if (e->mark_next.ts_ms > upto)
            break;
        e->mark_have = 0;
        if (sim_engine_on_mark(e, &e->mark_next))
            return PT_EPARSE;
    }
    return PT_OK;
}

/* c's mark candle, or c itself (counted when marks are in use). */
static void mark_for(sim_engine *e, const pt_candle *c, pt_candle *mk)
{
    sim_mark_slot *m = mark_slot(e, c->symbol, 0);
    if (m && m->c.ts_ms == c->ts_ms) {
        *mk = m->c;
        return;
    }
    if (e->marks || e->n_marks)
        e->marks_missing++;
    *mk = *c;
}

/* ------------------------------------------------------------ funding */

void sim_engine_set_funding_hook(sim_engine *e, sim_funding_fn fn, void *ud)
{
    e->on_funding = fn;
    e->funding_ud = ud;
}

int sim_engine_on_funding(sim_engine *e, const char *symbol, int64_t ts_ms, double rate, double mark)
{
    if (!e->cfg.perp.on)
        return PT_EINVAL;
    pf_funding_result fr;
    int rc = pf_apply_funding(e->pf, symbol, ts_ms, rate, mark, &fr);
    if (rc)
        return rc;
    e->funding_applied++;
    if (e->on_funding) {
        sim_funding_event ev = {ts_ms, symbol, rate, fr.mark_price, fr.position_qty, fr.payment};
        e->on_funding(e->funding_ud, &ev);
    }
    return PT_OK;
}

/* The funding file's symbol for s, on its first candle at time t. */
static int funding_symbol(sim_engine *e, sim_symbol *s, int64_t t)
{
    const sim_funding *fs = e->cfg.perp.funding;
    s->fund_sym = -1;
    for (int i = 0; i < fs->n_symbols; i++)
        if (!strcmp(fs->symbols[i], s->name) || (!strcmp(fs->symbols[i], "*") && !e->fund_wild))
            s->fund_sym = i;
    if (s->fund_sym < 0)
        return input_error(e, fs->path, 1, "symbol", "no funding rows for %s (the file is for %s; give "
                           "one with a symbol column for several symbols)", s->name,
                           fs->n_symbols ? fs->symbols[0] : "nothing");
    e->fund_wild |= !strcmp(fs->symbols[s->fund_sym], "*");
    /* rows before the data are history; the first one due must not be late */
    while (s->fund_next < fs->n &&
           (fs->rows[s->fund_next].symbol != s->fund_sym || fs->rows[s->fund_next].ts_ms < t))
        s->fund_next++;
    int64_t first = s->fund_next < fs->n ? fs->rows[s->fund_next].ts_ms : INT64_MAX;
    if (fs->period_ms > 0 && first - t > fs->period_ms) {
        char a[32] = "never", b[32];
        if (first != INT64_MAX)
            pt_format_iso_ms(first, a, sizeof a);
        pt_format_iso_ms(t, b, sizeof b);
        return input_error(e, fs->path, s->fund_next < fs->n ? fs->rows[s->fund_next].line : 1, "ts",
                           "gap: funding starts at %s, more than the funding period after the first "
                           "candle at %s", a, b);
    }
    return PT_OK;
}

static int funding_due(sim_engine *e, sim_symbol *s, const pt_candle *c)
{
    const sim_funding *fs = e->cfg.perp.funding;
    if (!fs)
        return PT_OK;
    if (s->fund_sym == -2 && funding_symbol(e, s, c->ts_ms))
        return PT_EPARSE;
    while (s->fund_next < fs->n) {
        const sim_funding_row *r = &fs->rows[s->fund_next];
        if (r->symbol != s->fund_sym) {
            s->fund_next++;
            continue;
        }
        if (r->ts_ms > c->ts_ms)
            break;
        s->fund_next++;
        if (c->ts_ms >= e->cfg.trade_from_ms) /* warm-up candles hold no position */
            sim_engine_on_funding(e, s->name, r->ts_ms, r->rate, r->mark);
    }
    return PT_OK;
}

/* At the end: a funding file that stops more than a funding period before
 * a symbol's last candle took the rest as zero. The rows are written by
 * then, so this is a warning and report.json's funding_ends_early. */
void sim_perp_finish(sim_engine *e)
{
    const sim_funding *fs = e->cfg.perp.funding;
    for (int i = 0; fs && fs->period_ms > 0 && i < e->n_syms; i++) {
        const sim_symbol *s = &e->syms[i];
        if (s->fund_sym < 0 || s->last_ts - fs->last_ts[s->fund_sym] <= fs->period_ms)
            continue;
        char a[32], b[32];
        pt_format_iso_ms(fs->last_ts[s->fund_sym], a, sizeof a);
        pt_format_iso_ms(s->last_ts, b, sizeof b);
        pt_warn("%s: funding for %s ends at %s, more than the funding period before its last candle at %s: "
                "funding after it was taken as zero", fs->path, s->name, a, b);
        e->funding_ends_early++;
    }
}

/* ------------------------------------------------------------ liquidation */

static void liquidate(sim_engine *e, sim_symbol *s, int64_t ts, double price, double lp)
{
    pf_fill f = {ts, s->name, PF_SELL, 0, price, 0, 0, "market", "liquidation", quality_score(s->qc)};
    pf_fill_result r;
    if (pf_liquidate(e->pf, &f, &r))
        return;
    sim_eng_after_fill(e, s, &f, &r);
    sim_eng_cancel_orders(e, s, ts, 0, "liquidation");
    sim_eng_alert(e, ts, s->name, "liquidation",
                  "position of %.10g liquidated at %.10g (liquidation price %.10g), fee %.10g, pnl %.10g%s",
                  f.qty, price, lp, f.fee, r.realized_pnl,
                  r.bankruptcy_loss > 0 ? " past bankruptcy: the loss beyond the margin is bankruptcy_loss" : "");
}

int sim_perp_before(sim_engine *e, sim_symbol *s, const pt_candle *c, pt_candle *mk)
{
    if (pull_marks(e, c->ts_ms))
        return PT_EPARSE;
    if (s->fund_sym == -2 && e->marks && e->n_marks && !mark_slot(e, s->name, 0))
        return input_error(e, e->marks_path, e->mark_next.line, "symbol",
                           "no mark candles for %s at or before its first candle (the file is for %s)",
                           s->name, e->mark[0].c.symbol);
    if (funding_due(e, s, c))
        return PT_EPARSE;
    s->fund_sym = s->fund_sym == -2 ? -1 : s->fund_sym;
    mark_for(e, c, mk);
    double qty = s->qty, lp = pf_liquidation_price(e->pf, s->pf_id);
    /* a gap through the liquidation price fills at the open, as stops do */
    if (lp > 0 && ((qty > 0 && mk->open <= lp) || (qty < 0 && mk->open >= lp)))
        liquidate(e, s, c->ts_ms, mk->open, lp);
    return PT_OK;
}

int sim_perp_liq_first(const sim_engine *e, const sim_symbol *s)
{
    if (s->qty == 0 || !s->protect_armed)
        return 1;
    double lp = pf_liquidation_price(e->pf, s->pf_id), stop = s->sl;
    if (s->trail_stop > 0 && (stop <= 0 || (s->qty > 0 ? s->trail_stop > stop : s->trail_stop < stop)))
        stop = s->trail_stop;
    return !(stop > 0 && lp > 0 && (s->qty > 0 ? stop > lp : stop < lp));
}

void sim_perp_liq_check(sim_engine *e, sim_symbol *s, const pt_candle *mk)
{
    double lp = pf_liquidation_price(e->pf, s->pf_id);
    if (!(lp > 0))
        return;
    if (s->qty > 0 && mk->low <= lp)
        liquidate(e, s, mk->ts_ms, mk->open <= lp ? mk->open : lp, lp);
    else if (s->qty < 0 && mk->high >= lp)
        liquidate(e, s, mk->ts_ms, mk->open >= lp ? mk->open : lp, lp);
}

/* ------------------------------------------------------------ sizing */

/* Sizing sets the margin (the stake), the position is margin x leverage;
 * risk sizing sets the quantity directly (docs/futures.md). */
double sim_perp_entry_qty(sim_engine *e, sim_symbol *s, double order_qty, double price, double fee,
                          sim_block_reason *why)
{
    double lev = pf_leverage_of(e->pf, s->pf_id), equity = pf_equity(e->pf), q = INFINITY;
    const sim_sizing *z = &e->cfg.sizing;
    if (order_qty > 0)
        q = order_qty;
    else if (z->kind == SIM_SIZE_QUOTE)
        q = z->value * lev / price;
    else if (z->kind == SIM_SIZE_PERCENT)
        q = equity * z->value / 100.0 * lev / price;
    else if (z->kind == SIM_SIZE_RISK)
        q = s->atr.value > 0 ? equity * z->value / 100.0 / (e->cfg.atr_mult * s->atr.value) : 0;
    double affordable = pf_perp_max_open_qty(e->pf, s->pf_id, price, fee);
    *why = SIM_BLOCK_NO_CASH;
    if (!(q <= affordable))
        q = affordable;
    if (e->cfg.max_exposure_pct > 0) { /* of equity, as margin */
        double room = equity * e->cfg.max_exposure_pct / 100.0 - pf_margin_of(e->pf, s->pf_id);
        double cap = room > 0 ? room * lev / price : 0;
        if (q > cap) {
            q = cap;
            *why = SIM_BLOCK_MAX_EXPOSURE;
        }
    }
    double floor = e->cfg.min_notional > 0 ? e->cfg.min_notional : e->cfg.cash * 1e-4;
    return q > 0 && q * price >= floor ? q : 0;
}

/* ------------------------------------------------------------ report */

int sim_engine_perp_to_json(const sim_engine *e, cJSON *o)
{
    const sim_perp_config *p = &e->cfg.perp;
    const pf_portfolio *pf = e->pf;
    char src[4200];
    const char *base = p->funding ? strrchr(p->funding->path, '/') : NULL; /* no absolute path in outputs */
    snprintf(src, sizeof src, "%s",
             !p->funding ? "none (funding taken as zero)" : base ? base + 1 : p->funding->path);
    if (!cJSON_AddStringToObject(o, "market", "perp") ||
        !cJSON_AddStringToObject(o, "margin", p->margin == PF_CROSS ? "cross" : "isolated") ||
        !cJSON_AddNumberToObject(o, "leverage", p->leverage) ||
        !cJSON_AddNumberToObject(o, "liquidation_fee_bps", p->liq_fee_bps) ||
        !cJSON_AddStringToObject(o, "funding_source", src) ||
        !cJSON_AddNumberToObject(o, "funding_events", (double)e->funding_applied) ||
        !cJSON_AddNumberToObject(o, "funding_paid", pf_funding_paid(pf)) ||
        !cJSON_AddNumberToObject(o, "funding_received", pf_funding_received(pf)) ||
        !cJSON_AddNumberToObject(o, "funding_net", pf_funding_total(pf)) ||
        !cJSON_AddNumberToObject(o, "liquidations", (double)pf_liquidation_count(pf)) ||
        !cJSON_AddNumberToObject(o, "bankruptcy_loss", pf_bankruptcy_loss(pf)) ||
        !cJSON_AddNumberToObject(o, "marks_missing", (double)e->marks_missing) ||
        !cJSON_AddNumberToObject(o, "funding_ends_early", (double)e->funding_ends_early))
        return PT_ENOMEM;
    return PT_OK;
}

const char *sim_engine_perp_summary(const sim_engine *e, char *buf, size_t cap)
{
    const pf_portfolio *pf = e->pf;
    if (!e->cfg.perp.funding)
        snprintf(buf, cap, "none: no --funding file, funding taken as zero; liquidations %llu",
                 (unsigned long long)pf_liquidation_count(pf));
    else
        snprintf(buf, cap, "paid %.2f, received %.2f (%llu events); liquidations %llu, bankruptcy loss %.2f",
                 pf_funding_paid(pf), pf_funding_received(pf), (unsigned long long)e->funding_applied,
                 (unsigned long long)pf_liquidation_count(pf), pf_bankruptcy_loss(pf));
    return buf;
}
