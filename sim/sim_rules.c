/* sim_rules: the exchange's trading rules in the order path (docs/rules.md).
 * Exchanges refuse a price off the tick or a quantity off the lot step
 * (Binance PRICE_FILTER / LOT_SIZE, https://developers.binance.com/docs/binance-spot-api-docs/filters);
 * the engine rounds as a careful client would, never in the order's favour:
 *   buy limit down, sell limit up      (never pays more / sells for less than asked)
 *   buy stop up, sell stop down        (never triggers before the asked level)
 *   an entry's stop-loss and take-profit by the side of the exit they are
 *   quantities down to the lot step    (never more than sized)
 * and refuses an entry below min_qty or min_notional with an "order_rules"
 * alert. Exits close what is held: the position is on the step already. */
#include "sim_engine_internal.h"

#include <stdlib.h>
#include <string.h>

int sim_engine_set_rules(sim_engine *e, const pf_rules_set *rules)
{
    free(e->rules);
    e->rules = NULL;
    e->cfg.rules = NULL; /* borrowed by the caller: the copy is what counts */
    if (rules) {
        if (!(e->rules = malloc(sizeof *e->rules)))
            return PT_ENOMEM;
        *e->rules = *rules;
    }
    for (int i = 0; i < e->n_syms; i++)
        sim_rules_attach(e, &e->syms[i]);
    return PT_OK;
}

const pf_rules_set *sim_engine_rules(const sim_engine *e) { return e->rules; }

void sim_rules_attach(sim_engine *e, sim_symbol *s) { s->rules = pf_rules_find(e->rules, s->name); }

/* p onto the tick; up = 1 rounds up. Counts a move. */
static double on_tick(sim_engine *e, const pf_rules *r, double p, int up)
{
    if (!(p > 0))
        return p;
    double q = pf_dec_round(p, r->tick, up);
    e->st.rules_rounded += q != p;
    return q;
}

void sim_rules_prices(sim_engine *e, const sim_symbol *s, sim_order *o)
{
    const pf_rules *r = s->rules;
    if (!r || !r->tick.m)
        return;
    int buy = o->px.side > 0;
    o->px.limit_price = on_tick(e, r, o->px.limit_price, !buy);
    o->px.stop_price = on_tick(e, r, o->px.stop_price, buy);
    /* the protections exit on the other side: a long's stop-loss is a sell
     * stop (down), its take-profit a sell limit (up); a short's the mirror */
    o->stop_loss = on_tick(e, r, o->stop_loss, !buy);
    o->take_profit = on_tick(e, r, o->take_profit, buy);
}

int sim_rules_qty(sim_engine *e, const sim_symbol *s, const sim_order *o, double price, int64_t ts,
                  double *q)
{
    const pf_rules *r = s->rules;
    if (!r)
        return 0;
    double was = *q;
    *q = pf_dec_round(*q, r->step, 0);
    e->st.rules_rounded += *q != was;
    char why[200];
    if (!pf_rules_check(r, *q, price, why, sizeof why))
        return 0;
    /* the first few alerts per session; the counter carries the rest */
    if (++e->st.rules_refused <= 3)
        sim_eng_alert(e, ts, s->name, "order_rules", "%s order %llu refused: %s%s",
                      o->px.side > 0 ? "buy" : "sell", (unsigned long long)o->id, why,
                      e->st.rules_refused == 3 ? " (further refusals counted, not logged)" : "");
    return 1;
}
