/* sim_orders: the fill model. Pure functions; the rules, with the reasoning
 * behind each, are in sim/README.md ("Fill model"). A decision taken at the
 * close of candle t is evaluated here against candle t+1 only. */
#include "sim_internal.h"

#include <math.h>

double sim_clamp_range(double p, const pt_candle *c)
{
    if (p < c->low)
        return c->low;
    if (p > c->high)
        return c->high;
    return p;
}

/* Taker slippage moves the price against the trader, then back into the bar. */
static double slip(double p, int side, double slippage_bps, const pt_candle *c)
{
    return sim_clamp_range(p * (1.0 + side * slippage_bps / 10000.0), c);
}

/* A limit fills when the range reaches it: at the open when the bar opened
 * through it in the order's favour, else at the limit. */
static int limit_hits(int side, double limit, const pt_candle *c, double *price)
{
    if (side > 0) {
        if (c->open <= limit) {
            *price = c->open;
            return 1;
        }
        if (c->low <= limit) {
            *price = limit;
            return 1;
        }
    } else {
        if (c->open >= limit) {
            *price = c->open;
            return 1;
        }
        if (c->high >= limit) {
            *price = limit;
            return 1;
        }
    }
    return 0;
}

/* A stop triggers when the range reaches it: at the open when the bar
 * gapped through it (the worse price), else at the stop. A buy stop sits
 * above the market, a sell stop below. */
static int stop_hits(int side, double stop, const pt_candle *c, double *price)
{
    if (side > 0) {
        if (c->open >= stop) {
            *price = c->open;
            return 1;
        }
        if (c->high >= stop) {
            *price = stop;
            return 1;
        }
    } else {
        if (c->open <= stop) {
            *price = c->open;
            return 1;
        }
        if (c->low <= stop) {
            *price = stop;
            return 1;
        }
    }
    return 0;
}

sim_fill_result sim_fill_eval(const sim_order_px *o, const pt_candle *c, double slippage_bps,
                              double *price, int *maker)
{
    double p = 0;
    *maker = 0;
    switch (o->type) {
    case SIM_ORDER_MARKET:
        *price = slip(c->open, o->side, slippage_bps, c);
        return SIM_FILL_YES;
    case SIM_ORDER_LIMIT:
        if (!limit_hits(o->side, o->limit_price, c, &p))
            return SIM_FILL_NONE;
        *price = p;
        *maker = 1;
        return SIM_FILL_YES;
    case SIM_ORDER_STOP:
        if (!stop_hits(o->side, o->stop_price, c, &p))
            return SIM_FILL_NONE;
        *price = slip(p, o->side, slippage_bps, c);
        return SIM_FILL_YES;
    case SIM_ORDER_STOP_LIMIT:
        if (o->triggered) {
            if (!limit_hits(o->side, o->limit_price, c, &p))
                return SIM_FILL_NONE;
            *price = p;
            *maker = 1;
            return SIM_FILL_YES;
        }
        if (!stop_hits(o->side, o->stop_price, c, &p))
            return SIM_FILL_NONE;
        /* Fired at p. We cannot know the path after p inside the bar, so it
         * fills on this bar only when p itself is within the limit; else it
         * rests as a limit from the next bar. */
        if ((o->side > 0 && p <= o->limit_price) || (o->side < 0 && p >= o->limit_price)) {
            *price = p;
            return SIM_FILL_YES; /* taker: it crossed when it fired */
        }
        return SIM_FILL_TRIGGERED;
    }
    return SIM_FILL_NONE;
}

int sim_protect_eval(int side, double stop_loss, double take_profit, double trail_stop,
                     const pt_candle *c, double slippage_bps, double *price, const char **reason)
{
    int exit_side = -side;
    double p = 0;
    /* The tighter of stop-loss and trailing stop is the one hit first. */
    double stop = stop_loss;
    const char *why = "stop_loss";
    if (trail_stop > 0 && (stop <= 0 || (side > 0 ? trail_stop > stop : trail_stop < stop))) {
        stop = trail_stop;
        why = "trailing_stop";
    }
    if (stop > 0 && stop_hits(exit_side, stop, c, &p)) {
        *price = slip(p, exit_side, slippage_bps, c);
        *reason = why;
        return 1;
    }
    if (take_profit > 0 && limit_hits(exit_side, take_profit, c, &p)) {
        *price = p;
        *reason = "take_profit";
        return 1;
    }
    return 0;
}

double sim_trail_update(int side, double trail_pct, double *extreme, const pt_candle *c)
{
    if (trail_pct <= 0)
        return 0;
    if (side > 0) {
        if (c->high > *extreme)
            *extreme = c->high;
        return *extreme * (1.0 - trail_pct / 100.0);
    }
    if (*extreme <= 0 || c->low < *extreme)
        *extreme = c->low;
    return *extreme * (1.0 + trail_pct / 100.0);
}

double sim_qty_for_budget(double budget, double price, double fee)
{
    if (!(budget > 0) || !(price > 0) || !isfinite(budget) || !isfinite(price))
        return 0;
    double q = budget / (price * (1.0 + fee));
    /* Rounding may make the cost, computed as the ledger does (notional +
     * notional * fee), exceed the budget by an ulp or so: step q down until
     * it does not (bounded: a few steps at most). */
    for (int i = 0; i < 64 && q > 0 && q * price + q * price * fee > budget; i++)
        q = nextafter(q, 0.0) - q * 1e-15;
    return q > 0 ? q : 0;
}

double sim_size_entry(const sim_sizing *s, double cash, double equity, double price, double fee,
                      double atr, double atr_mult)
{
    double budget = cash, q;
    switch (s->kind) {
    case SIM_SIZE_ALL_IN:
        return sim_qty_for_budget(cash, price, fee);
    case SIM_SIZE_QUOTE:
        budget = s->value;
        break;
    case SIM_SIZE_PERCENT:
        budget = equity * s->value / 100.0;
        break;
    case SIM_SIZE_RISK:
        if (!(atr > 0) || !(atr_mult > 0) || !isfinite(atr))
            return 0;
        /* risk P% of equity over a stop atr_mult*ATR away */
        q = equity * s->value / 100.0 / (atr_mult * atr);
        budget = q * price * (1.0 + fee);
        break;
    }
    if (budget > cash)
        budget = cash;
    return sim_qty_for_budget(budget, price, fee);
}
