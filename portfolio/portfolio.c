/* portfolio book: cash, positions, PnL (accounting rules in portfolio.h). */
#include "pf_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *pf_side_name(pf_side s)
{
    return s == PF_BUY ? "buy" : s == PF_SELL ? "sell" : "?";
}

int pf_new(double initial_cash, const pf_options *opts, pf_portfolio **out)
{
    *out = NULL;
    if (!isfinite(initial_cash) || initial_cash <= 0) {
        pt_err_log("portfolio: initial cash must be > 0 (got %g)", initial_cash);
        return PT_EINVAL;
    }
    pf_portfolio *pf = calloc(1, sizeof *pf);
    if (!pf)
        return PT_ENOMEM;
    pf->initial_cash = pf->cash = pf->high_water = initial_cash;
    pf->allow_short = opts ? opts->allow_short : 0;
    if (opts && opts->market == PF_PERP) {
        pf->perp = 1;
        pf->allow_short = 1; /* a perp is two-sided by nature */
        pf->cross = opts->margin == PF_CROSS;
        pf->leverage = opts->leverage > 0 ? opts->leverage : 1;
        pf->liq_fee_rate = opts->liq_fee_rate;
        if (opts->brackets)
            pf->br = *opts->brackets;
        else
            pf_brackets_default(&pf->br);
        if (!(pf->leverage >= 1) || pf->leverage > pf->br.max_leverage[0] || !(pf->liq_fee_rate >= 0)) {
            pt_err_log("portfolio: leverage %g must be 1 to %g (the first bracket's maximum)",
                       pf->leverage, pf->br.max_leverage[0]);
            free(pf);
            return PT_EINVAL;
        }
    }
    *out = pf;
    return PT_OK;
}

void pf_free(pf_portfolio *pf)
{
    free(pf);
}

static int find(const pf_portfolio *pf, const char *symbol)
{
    for (int i = 0; i < pf->n; i++)
        if (strcmp(pf->pos[i].symbol, symbol) == 0)
            return i;
    return -1;
}

static int symbol_ok(const char *symbol)
{
    if (!symbol || !symbol[0])
        return 0;
    size_t len = strnlen(symbol, PT_SYMBOL_MAX);
    return len < PT_SYMBOL_MAX;
}

int pf_symbol_id(pf_portfolio *pf, const char *symbol)
{
    if (!symbol_ok(symbol)) {
        pt_err_log("portfolio: bad symbol (empty or >= %d bytes)", PT_SYMBOL_MAX);
        return PT_EINVAL;
    }
    int i = find(pf, symbol);
    if (i >= 0)
        return i;
    if (pf->n >= PF_MAX_SYMBOLS) {
        pt_err_log("portfolio: symbol table full (%d), cannot add %s", PF_MAX_SYMBOLS, symbol);
        return PT_EFULL;
    }
    pf_pos *p = &pf->pos[pf->n];
    memset(p, 0, sizeof *p);
    memcpy(p->symbol, symbol, strlen(symbol) + 1);
    return pf->n++;
}

int pf_mark_id(pf_portfolio *pf, int id, double close)
{
    if (id < 0 || id >= pf->n || !isfinite(close) || close <= 0) {
        pt_err_log("portfolio: bad mark (id %d, close %g)", id, close);
        return PT_EINVAL;
    }
    pf_pos *p = &pf->pos[id];
    if (p->first_price == 0)
        p->first_price = close;
    p->last_price = close;
    return PT_OK;
}

int pf_mark(pf_portfolio *pf, const char *symbol, double close)
{
    int id = pf_symbol_id(pf, symbol);
    return id < 0 ? id : pf_mark_id(pf, id, close);
}

static int fill_invalid(const pf_fill *f, const char *why)
{
    pt_err_log("portfolio: fill rejected (symbol %s, order %llu): %s",
               symbol_ok(f->symbol) ? f->symbol : "?", (unsigned long long)f->order_id, why);
    return PT_EINVAL;
}

int pf_apply_fill(pf_portfolio *pf, const pf_fill *f, pf_fill_result *out)
{
    if (f->side != PF_BUY && f->side != PF_SELL)
        return fill_invalid(f, "side must be buy or sell");
    if (!isfinite(f->qty) || f->qty <= 0)
        return fill_invalid(f, "qty must be > 0");
    if (!isfinite(f->price) || f->price <= 0)
        return fill_invalid(f, "price must be > 0");
    if (!isfinite(f->fee) || f->fee < 0)
        return fill_invalid(f, "fee must be >= 0");
    if (!symbol_ok(f->symbol))
        return fill_invalid(f, "bad symbol");
    int id = find(pf, f->symbol);
    if (pf->perp)
        return pf_perp_fill(pf, id, f, 0, out);
    double qty0 = id >= 0 ? pf->pos[id].qty : 0;
    double dir = f->side == PF_BUY ? 1.0 : -1.0;
    double qty1 = qty0 + dir * f->qty;
    double notional = f->qty * f->price;
    double cash1 = f->side == PF_BUY ? pf->cash - notional - f->fee : pf->cash + notional - f->fee;
    /* A sell that crosses flat when shorts are off: the engine must never
     * send it; a float residue of a full close is the engine's to round. */
    if (f->side == PF_SELL && qty1 < 0 && !pf->allow_short)
        return fill_invalid(f, "sell larger than the long position and shorts are disabled");
    /* The cash check applies to buys that open or add to a long; buying back
     * a short may take cash below zero (we never refuse to close). */
    if (f->side == PF_BUY && qty1 > 0 && cash1 < 0) {
        pt_err_log("portfolio: fill rejected (symbol %s, order %llu): buy of %g@%g + fee %g "
                   "needs more cash than %.17g",
                   f->symbol, (unsigned long long)f->order_id, f->qty, f->price, f->fee, pf->cash);
        return PT_ERANGE;
    }
    if (id < 0) {
        id = pf_symbol_id(pf, f->symbol);
        if (id < 0)
            return id;
    }
    pf_pos *p = &pf->pos[id];
    double realized = -f->fee;
    int closed = 0;
    double rt_pnl = 0;
    if (qty0 != 0 && (qty0 > 0) != (dir > 0)) {
        /* reducing, closing or flipping */
        double close_qty = fmin(f->qty, fabs(qty0));
        double fee_close = f->fee * (close_qty / f->qty);
        double gross = close_qty * (f->price - p->avg_price) * (qty0 > 0 ? 1.0 : -1.0);
        realized = gross - f->fee;
        p->rt_pnl += gross - fee_close;
        if (close_qty == fabs(qty0)) {
            closed = 1;
            rt_pnl = p->rt_pnl;
            p->rt_pnl = -(f->fee - fee_close); /* the flipped remainder's fee */
            p->avg_price = close_qty < f->qty ? f->price : 0;
            qty1 = close_qty < f->qty ? dir * (f->qty - close_qty) : 0;
        }
    } else {
        /* opening or adding: volume-weighted average entry */
        double aq0 = fabs(qty0), aq1 = aq0 + f->qty;
        p->avg_price = (aq0 * p->avg_price + f->qty * f->price) / aq1;
        p->rt_pnl -= f->fee;
    }
    p->qty = qty1;
    p->realized += realized;
    p->fees += f->fee;
    if (p->first_price == 0)
        p->first_price = f->price;
    if (p->last_price == 0)
        p->last_price = f->price;
    pf->cash = cash1;
    pf->realized += realized;
    pf->fees += f->fee;
    pf->fills++;
    if (out) {
        memset(out, 0, sizeof *out);
        out->fee_charged = f->fee;
        out->seq = pf->fills;
        out->realized_pnl = realized;
        out->cash_after = cash1;
        out->qty_after = p->qty;
        out->avg_price_after = p->qty != 0 ? p->avg_price : 0;
        out->round_trip_closed = closed;
        out->round_trip_pnl = rt_pnl;
    }
    return PT_OK;
}

double pf_max_buy_qty(const pf_portfolio *pf, double price, double fee_rate)
{
    if (!isfinite(price) || price <= 0 || !isfinite(fee_rate) || fee_rate < 0 || pf->cash <= 0)
        return 0;
    double q = pf->cash / (price * (1 + fee_rate));
    /* Nudge down until the exact booking arithmetic fits (a few ulps). */
    for (int i = 0; i < 64 && q > 0; i++) {
        double notional = q * price;
        if (pf->cash - notional - notional * fee_rate >= 0)
            return q;
        q = nextafter(q, 0);
    }
    return 0;
}

double pf_cash(const pf_portfolio *pf) { return pf->cash; }
double pf_initial_cash(const pf_portfolio *pf) { return pf->initial_cash; }
double pf_realized_pnl(const pf_portfolio *pf) { return pf->realized; }
double pf_fees(const pf_portfolio *pf) { return pf->fees; }
uint64_t pf_fill_count(const pf_portfolio *pf) { return pf->fills; }
int pf_symbol_count(const pf_portfolio *pf) { return pf->n; }

double pf_positions_value(const pf_portfolio *pf)
{
    if (pf->perp)
        return pf_perp_positions_value(pf);
    double v = 0;
    for (int i = 0; i < pf->n; i++)
        if (pf->pos[i].qty != 0)
            v += pf->pos[i].qty * pf->pos[i].last_price;
    return v;
}

double pf_unrealized_pnl(const pf_portfolio *pf)
{
    double v = 0;
    for (int i = 0; i < pf->n; i++)
        if (pf->pos[i].qty != 0)
            v += pf->pos[i].qty * (pf->pos[i].last_price - pf->pos[i].avg_price);
    return v;
}

double pf_equity(const pf_portfolio *pf)
{
    return pf->cash + pf_positions_value(pf);
}

static double dd_of(double hw, double eq)
{
    double peak = hw > eq ? hw : eq;
    return peak > 0 ? (peak - eq) / peak : 0;
}

double pf_drawdown(const pf_portfolio *pf)
{
    return dd_of(pf->high_water, pf_equity(pf));
}

int pf_open_positions(const pf_portfolio *pf)
{
    int n = 0;
    for (int i = 0; i < pf->n; i++)
        n += pf->pos[i].qty != 0;
    return n;
}

static void copy_pos(const pf_pos *p, pf_position *out)
{
    memcpy(out->symbol, p->symbol, sizeof out->symbol);
    out->qty = p->qty;
    out->avg_price = p->qty != 0 ? p->avg_price : 0;
    out->last_price = p->last_price;
    out->first_price = p->first_price;
    out->realized_pnl = p->realized;
    out->fees = p->fees;
}

int pf_get_position(const pf_portfolio *pf, const char *symbol, pf_position *out)
{
    int i = symbol ? find(pf, symbol) : -1;
    if (i < 0) {
        memset(out, 0, sizeof *out);
        if (symbol_ok(symbol))
            memcpy(out->symbol, symbol, strlen(symbol) + 1);
        return PT_ENOENT;
    }
    copy_pos(&pf->pos[i], out);
    return PT_OK;
}

double pf_position_qty(const pf_portfolio *pf, const char *symbol)
{
    int i = symbol ? find(pf, symbol) : -1;
    return i < 0 ? 0 : pf->pos[i].qty;
}

int pf_position_at(const pf_portfolio *pf, int i, pf_position *out)
{
    if (i < 0 || i >= pf->n)
        return PT_ENOENT;
    copy_pos(&pf->pos[i], out);
    return PT_OK;
}

void pf_snapshot_take(pf_portfolio *pf, int64_t ts_ms, double quality, pf_snapshot *out)
{
    double pv = 0, upnl = 0;
    int open = 0;
    for (int i = 0; i < pf->n; i++) {
        const pf_pos *p = &pf->pos[i];
        if (p->qty == 0)
            continue;
        pv += pf->perp ? p->margin + p->qty * (p->last_price - p->avg_price) : p->qty * p->last_price;
        upnl += p->qty * (p->last_price - p->avg_price);
        open++;
    }
    double eq = pf->cash + pv;
    if (eq > pf->high_water)
        pf->high_water = eq;
    out->ts_ms = ts_ms;
    out->cash = pf->cash;
    out->positions_value = pv;
    out->equity = eq;
    out->realized_pnl = pf->realized;
    out->unrealized_pnl = upnl;
    out->fees = pf->fees;
    out->high_water = pf->high_water;
    out->drawdown = dd_of(pf->high_water, eq);
    out->open_positions = open;
    out->quality = quality;
    out->margin = pf->perp ? pf_total_margin(pf) : 0;
    out->maintenance_margin = pf->perp ? pf_total_maintenance(pf) : 0;
    out->funding = pf->funding;
}
