/* pf_margin: linear perpetual-futures accounting (portfolio.h "perp",
 * docs/futures.md): leverage brackets, margin, Binance's liquidation price,
 * liquidation with the bankruptcy cap, funding. */
#include "pf_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Binance BTCUSDT's tiers as its USD-M liquidation FAQ lists them (notional
 * cap, max leverage, maintenance margin rate %); the FAQ's examples (264,000
 * USDT -> 1 %, 500,000 USDT -> maintenance amount 1,300) fall out of it. */
static const double default_tiers[][3] = {
    {50000, 125, 0.4},   {250000, 100, 0.5},    {1000000, 50, 1.0},    {10000000, 20, 2.5},
    {20000000, 10, 5.0}, {50000000, 5, 10.0},   {100000000, 4, 12.5},  {200000000, 3, 15.0},
    {300000000, 2, 25.0}, {500000000, 1, 50.0},
};

static void derive_cum(pf_brackets *b)
{
    b->cum[0] = 0;
    for (int i = 1; i < b->n; i++)
        b->cum[i] = b->cum[i - 1] + b->cap[i - 1] * (b->mmr[i] - b->mmr[i - 1]);
}

void pf_brackets_default(pf_brackets *out)
{
    memset(out, 0, sizeof *out);
    out->n = (int)(sizeof default_tiers / sizeof default_tiers[0]);
    for (int i = 0; i < out->n; i++) {
        out->cap[i] = default_tiers[i][0];
        out->max_leverage[i] = default_tiers[i][1];
        out->mmr[i] = default_tiers[i][2] / 100.0;
    }
    derive_cum(out);
}

static int tier_bad(const pf_brackets *b, int i, char *why, size_t cap)
{
    const char *w = NULL;
    if (!(b->cap[i] > 0) || (i && !(b->cap[i] > b->cap[i - 1])))
        w = "caps must be > 0 and increasing";
    else if (!(b->max_leverage[i] >= 1) || !isfinite(b->max_leverage[i]) ||
             (i && b->max_leverage[i] > b->max_leverage[i - 1]))
        w = "max leverage must be >= 1 and not increase";
    else if (!(b->mmr[i] > 0 && b->mmr[i] < 1) || (i && b->mmr[i] < b->mmr[i - 1]))
        w = "maintenance margin rate must be in (0, 100) % and not decrease";
    if (w)
        snprintf(why, cap, "tier %d: %s", i + 1, w);
    return w != NULL;
}

int pf_brackets_parse(const char *text, pf_brackets *out, char *why, size_t cap)
{
    memset(out, 0, sizeof *out);
    const char *p = text ? text : "";
    while (*p) {
        if (out->n == PF_MAX_BRACKETS) {
            snprintf(why, cap, "more than %d tiers", PF_MAX_BRACKETS);
            return PT_EINVAL;
        }
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        double v[3];
        const char *f = p, *stop = p;
        for (int k = 0; k < 3 && stop; k++, f = stop + 1) {
            stop = k < 2 ? memchr(f, ':', len - (size_t)(f - p)) : p + len;
            size_t fl = stop ? (size_t)(stop - f) : 0;
            if (k == 0 && fl == 3 && !strncmp(f, "inf", 3))
                v[0] = INFINITY;
            else if (stop && pt_parse_decimal(f, fl, &v[k], NULL))
                stop = NULL;
        }
        if (!stop) {
            snprintf(why, cap, "tier %d '%.*s': want CAP:MAX_LEVERAGE:MMR_PERCENT", out->n + 1, (int)len, p);
            return PT_EINVAL;
        }
        out->cap[out->n] = v[0];
        out->max_leverage[out->n] = v[1];
        out->mmr[out->n] = v[2] / 100.0;
        if (tier_bad(out, out->n, why, cap))
            return PT_EINVAL;
        out->n++;
        p = end ? end + 1 : p + len;
    }
    if (!out->n) {
        snprintf(why, cap, "no tiers");
        return PT_EINVAL;
    }
    derive_cum(out);
    return PT_OK;
}

int pf_bracket_of(const pf_brackets *b, double notional)
{
    for (int i = 0; i < b->n; i++)
        if (notional <= b->cap[i])
            return i;
    return b->n - 1;
}

double pf_brackets_max_notional(const pf_brackets *b, double lev)
{
    double r = 0;
    for (int i = 0; i < b->n && b->max_leverage[i] >= lev; i++)
        r = b->cap[i];
    return r;
}

/* ------------------------------------------------------------ positions */

static double lev_of(const pf_portfolio *pf, const pf_pos *p)
{
    return p->leverage > 0 ? p->leverage : pf->leverage;
}

double pf_leverage_of(const pf_portfolio *pf, int id)
{
    return id >= 0 && id < pf->n ? lev_of(pf, &pf->pos[id]) : pf->leverage;
}

int pf_set_leverage(pf_portfolio *pf, const char *symbol, double lev)
{
    if (!isfinite(lev) || lev < 1 || lev > pf->br.max_leverage[0]) {
        pt_err_log("portfolio: leverage %g for %s: want 1 to %g (the first bracket's maximum)", lev,
                   symbol ? symbol : "?", pf->br.max_leverage[0]);
        return PT_EINVAL;
    }
    int id = pf_symbol_id(pf, symbol);
    if (id < 0)
        return id;
    if (pf->pos[id].qty != 0)
        return PT_ESTATE;
    pf->pos[id].leverage = lev;
    return PT_OK;
}

double pf_margin_of(const pf_portfolio *pf, int id)
{
    return id >= 0 && id < pf->n && pf->pos[id].qty != 0 ? pf->pos[id].margin : 0;
}

double pf_total_margin(const pf_portfolio *pf)
{
    double m = 0;
    for (int i = 0; i < pf->n; i++)
        m += pf_margin_of(pf, i);
    return m;
}

double pf_maintenance_margin(const pf_portfolio *pf, int id)
{
    if (id < 0 || id >= pf->n || pf->pos[id].qty == 0)
        return 0;
    double n = fabs(pf->pos[id].qty) * pf->pos[id].last_price;
    int t = pf_bracket_of(&pf->br, n);
    return n * pf->br.mmr[t] - pf->br.cum[t];
}

double pf_total_maintenance(const pf_portfolio *pf)
{
    double m = 0;
    for (int i = 0; i < pf->n; i++)
        m += pf_maintenance_margin(pf, i);
    return m;
}

static double upnl_of(const pf_pos *p)
{
    return p->qty != 0 ? p->qty * (p->last_price - p->avg_price) : 0;
}

double pf_perp_positions_value(const pf_portfolio *pf)
{
    double v = 0;
    for (int i = 0; i < pf->n; i++)
        if (pf->pos[i].qty != 0)
            v += pf->pos[i].margin + upnl_of(&pf->pos[i]);
    return v;
}

double pf_perp_max_open_qty(const pf_portfolio *pf, int id, double price, double fee_rate)
{
    const pf_pos *p = id >= 0 && id < pf->n ? &pf->pos[id] : NULL;
    double lev = p ? lev_of(pf, p) : pf->leverage;
    if (!isfinite(price) || price <= 0 || !(fee_rate >= 0) || pf->cash <= 0)
        return 0;
    double q = pf->cash / (price * (1 / lev + fee_rate));
    double room = pf_brackets_max_notional(&pf->br, lev) - (p ? fabs(p->qty) * price : 0);
    if (q * price > room)
        q = room > 0 ? room / price : 0;
    /* step down until the booking arithmetic of pf_perp_fill fits */
    for (int i = 0; i < 64 && q > 0; i++) {
        double notional = q * price;
        if (pf->cash - notional / lev - notional * fee_rate >= 0)
            return q;
        q = nextafter(q, 0);
    }
    return 0;
}

/* Binance's one-way formula with WB' = WB - TMM1 + UPNL1 (isolated: the
 * position's margin); the tier is the one q*LP falls in (the FAQ's note). */
static double liq_price(const pf_brackets *b, double wb, double q, double side, double ep)
{
    double fallback = 0;
    for (int i = 0; i < b->n; i++) {
        double lp = (wb + b->cum[i] - side * q * ep) / (q * b->mmr[i] - side * q);
        if (i == 0)
            fallback = lp;
        double n = q * lp, lo = i ? b->cap[i - 1] : 0;
        if ((i == 0 || n > lo) && (n <= b->cap[i] || i == b->n - 1))
            return lp > 0 && isfinite(lp) ? lp : 0;
    }
    return fallback > 0 && isfinite(fallback) ? fallback : 0;
}

double pf_liquidation_price(const pf_portfolio *pf, int id)
{
    if (!pf->perp || id < 0 || id >= pf->n || pf->pos[id].qty == 0)
        return 0;
    const pf_pos *p = &pf->pos[id];
    double wb = p->margin;
    if (pf->cross) {
        wb = pf->cash + pf_total_margin(pf);
        for (int i = 0; i < pf->n; i++)
            if (i != id && pf->pos[i].qty != 0)
                wb += upnl_of(&pf->pos[i]) - pf_maintenance_margin(pf, i);
    }
    return liq_price(&pf->br, wb, fabs(p->qty), p->qty > 0 ? 1.0 : -1.0, p->avg_price);
}

/* ------------------------------------------------------------ booking */

/* Cross margin balance without the unrealized PnL of skip (-1: all of it). */
static double cross_balance(const pf_portfolio *pf, int skip)
{
    double b = pf->cash;
    for (int i = 0; i < pf->n; i++)
        if (pf->pos[i].qty != 0)
            b += pf->pos[i].margin + (i != skip ? upnl_of(&pf->pos[i]) : 0);
    return b;
}

/* What the closing part of a fill gives back to cash, capped so that no
 * margin balance goes below zero: the fee is cut first, the rest is
 * shortfall. room: what may absorb a loss besides the released margin
 * (cross: cash, the other margins and their unrealized PnL; isolated:
 * nothing). */
static double close_back(double released, double gross, double fee, double room, double *fee_paid,
                         double *shortfall)
{
    double have = released + gross + room;
    *shortfall = 0;
    *fee_paid = fee;
    if (have >= fee)
        return released + gross - fee;
    *fee_paid = have > 0 ? have : 0;
    *shortfall = have < 0 ? -have : 0;
    return -room; /* the wallet ends at exactly zero */
}

static void fill_out(const pf_portfolio *pf, int id, double realized, double fee_paid, double shortfall,
                     int closed, double rt, pf_fill_result *out)
{
    const pf_pos *p = &pf->pos[id];
    out->seq = pf->fills;
    out->realized_pnl = realized;
    out->cash_after = pf->cash;
    out->qty_after = p->qty;
    out->avg_price_after = p->qty != 0 ? p->avg_price : 0;
    out->round_trip_closed = closed;
    out->round_trip_pnl = rt;
    out->fee_charged = fee_paid;
    out->bankruptcy_loss = shortfall;
    out->leverage = lev_of(pf, p);
    out->margin = p->qty != 0 ? p->margin : 0;
    out->liquidation_price = pf_liquidation_price(pf, id);
}

int pf_perp_fill(pf_portfolio *pf, int id, const pf_fill *f, int liquidation, pf_fill_result *out)
{
    const pf_pos zero = {0};
    const pf_pos *p0 = id >= 0 ? &pf->pos[id] : &zero;
    double dir = f->side == PF_BUY ? 1.0 : -1.0, qty0 = p0->qty;
    double lev = id >= 0 ? lev_of(pf, p0) : pf->leverage;
    double close_q = 0, open_q = f->qty;
    if (qty0 != 0 && (qty0 > 0) != (dir > 0)) {
        close_q = fmin(f->qty, fabs(qty0));
        open_q = f->qty - close_q;
    }
    if (liquidation && open_q > 0)
        return PT_EINVAL;
    double fee_close = open_q > 0 ? f->fee * (close_q / f->qty) : f->fee, fee_open = f->fee - fee_close;
    double released = 0, back = 0, fee_paid = 0, shortfall = 0;
    if (close_q > 0) {
        released = close_q == fabs(qty0) ? p0->margin : p0->margin * (close_q / fabs(qty0));
        double gross = close_q * (f->price - p0->avg_price) * (qty0 > 0 ? 1.0 : -1.0);
        double room = pf->cross ? cross_balance(pf, id) - released : 0;
        back = close_back(released, gross, fee_close, room, &fee_paid, &shortfall);
    }
    double m_add = open_q * f->price / lev;
    double cash1 = pf->cash + back - m_add - fee_open;
    if (open_q > 0 && cash1 < 0) {
        pt_err_log("portfolio: fill rejected (symbol %s, order %llu): margin %.17g + fee %g needs more "
                   "cash than %.17g", f->symbol, (unsigned long long)f->order_id, m_add, fee_open,
                   pf->cash + back);
        return PT_ERANGE;
    }
    if (id < 0 && (id = pf_symbol_id(pf, f->symbol)) < 0)
        return id;
    pf_pos *p = &pf->pos[id];
    double realized = back - released - fee_open, rt = 0;
    int closed = close_q > 0 && close_q == fabs(qty0);
    if (close_q > 0) {
        p->rt_pnl += back - released;
        p->margin -= released;
    }
    if (closed) {
        rt = p->rt_pnl;
        p->rt_pnl = 0;
        p->qty = 0;
        p->avg_price = 0;
        p->margin = 0; /* exactly: released was all of it */
    } else if (close_q > 0) {
        p->qty = qty0 + dir * close_q;
    }
    if (open_q > 0) {
        double aq0 = fabs(p->qty), aq1 = aq0 + open_q;
        p->avg_price = (aq0 * p->avg_price + open_q * f->price) / aq1;
        p->qty = dir * aq1;
        p->margin += m_add;
        p->rt_pnl -= fee_open;
    }
    fee_paid += fee_open;
    p->realized += realized;
    p->fees += fee_paid;
    if (p->first_price == 0)
        p->first_price = f->price;
    if (p->last_price == 0)
        p->last_price = f->price;
    pf->cash = cash1;
    pf->realized += realized;
    pf->fees += fee_paid;
    pf->bankruptcy_loss += shortfall;
    pf->liquidations += liquidation != 0;
    pf->fills++;
    if (out)
        fill_out(pf, id, realized, fee_paid, shortfall, closed, rt, out);
    return PT_OK;
}

int pf_liquidate(pf_portfolio *pf, pf_fill *f, pf_fill_result *out)
{
    int id = -1;
    for (int i = 0; i < pf->n && f->symbol; i++)
        if (!strcmp(pf->pos[i].symbol, f->symbol))
            id = i;
    if (!pf->perp || id < 0 || pf->pos[id].qty == 0)
        return PT_ENOENT;
    if (!isfinite(f->price) || f->price <= 0)
        return PT_EINVAL;
    const pf_pos *p = &pf->pos[id];
    f->side = p->qty > 0 ? PF_SELL : PF_BUY;
    f->qty = fabs(p->qty);
    f->fee = f->qty * f->price * pf->liq_fee_rate;
    int rc = pf_perp_fill(pf, id, f, 1, out);
    if (!rc && out)
        f->fee = out->fee_charged;
    return rc;
}

/* ------------------------------------------------------------ funding */

int pf_apply_funding(pf_portfolio *pf, const char *symbol, int64_t ts_ms, double rate, double mark,
                     pf_funding_result *out)
{
    (void)ts_ms; /* event time is the caller's to record (funding.csv) */
    memset(out, 0, sizeof *out);
    if (!isfinite(rate) || fabs(rate) >= 1) {
        pt_err_log("portfolio: funding rate %g for %s is not a rate", rate, symbol ? symbol : "?");
        return PT_EINVAL;
    }
    int id = -1;
    for (int i = 0; i < pf->n && symbol; i++)
        if (!strcmp(pf->pos[i].symbol, symbol))
            id = i;
    pf_pos *p = id >= 0 ? &pf->pos[id] : NULL;
    out->mark_price = isfinite(mark) && mark > 0 ? mark : p ? p->last_price : 0;
    out->cash_after = pf->cash;
    if (!p || p->qty == 0)
        return PT_OK;
    double pay = -p->qty * out->mark_price * rate;
    pf->cash += pay;
    if (pay < 0 && pf->cash < 0 && !pf->cross) { /* the rest out of the position's margin */
        double take = fmin(-pf->cash, p->margin);
        p->margin -= take;
        pf->cash += take;
    }
    double floor = pf->cross ? pf->cash - cross_balance(pf, -1) : 0; /* margin balance 0 */
    if (pf->cash < floor) { /* past every margin: the shortfall is not booked */
        pf->bankruptcy_loss += floor - pf->cash;
        pay += floor - pf->cash;
        pf->cash = floor;
    }
    p->realized += pay;
    p->rt_pnl += pay;
    p->funding += pay;
    pf->realized += pay;
    pf->funding += pay;
    if (pay < 0)
        pf->funding_paid -= pay;
    else
        pf->funding_received += pay;
    pf->funding_events++;
    out->position_qty = p->qty;
    out->payment = pay;
    out->cash_after = pf->cash;
    return PT_OK;
}

double pf_funding_total(const pf_portfolio *pf) { return pf->funding; }
double pf_funding_paid(const pf_portfolio *pf) { return pf->funding_paid; }
double pf_funding_received(const pf_portfolio *pf) { return pf->funding_received; }
double pf_bankruptcy_loss(const pf_portfolio *pf) { return pf->bankruptcy_loss; }
uint64_t pf_liquidation_count(const pf_portfolio *pf) { return pf->liquidations; }
