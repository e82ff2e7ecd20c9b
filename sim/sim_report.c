/* The engine's counters as JSON, for report.json of backtests and live
 * sessions alike (one shape: docs/session.md, docs/strategies.md). */
#include "sim.h"
#include "sim_engine_internal.h"

#include <cjson/cJSON.h>
#include <math.h>

static int num(cJSON *o, const char *k, double v)
{
    return (isfinite(v) ? cJSON_AddNumberToObject(o, k, v) : cJSON_AddNullToObject(o, k)) != NULL;
}

int sim_engine_stats_to_json(const sim_engine *e, cJSON *en)
{
    const sim_engine_stats *s = sim_engine_get_stats(e);
    int ok = cJSON_AddStringToObject(en, "strategy", e->cfg.strategy->name) != NULL;
    ok &= num(en, "candles_in", (double)s->candles) & num(en, "candles_accepted", (double)s->accepted) &
          num(en, "candles_flagged", (double)s->flagged) & num(en, "rejected_candles", (double)s->rejected) &
          num(en, "quality_blocks", (double)s->quality_blocks) & num(en, "orders", (double)s->orders) &
          num(en, "cancelled", (double)s->cancels) & num(en, "expired", (double)s->expired) &
          num(en, "rejected_orders", (double)s->rejected_orders) &
          num(en, "strategy_failures", (double)s->strategy_failures) &
          num(en, "breaker_opens", (double)s->breaker_opens);
    ok &= cJSON_AddBoolToObject(en, "kill_switch", s->killed) != NULL;
    if (e->cfg.trade_from_ms > 0) /* only then: reports of runs without warm-up keep their bytes */
        ok &= num(en, "warmup_candles", (double)s->warmup) & num(en, "trade_from_ms", (double)e->cfg.trade_from_ms);
    if (e->rules) /* only then: reports of runs without rules keep their bytes */
        ok &= num(en, "rules_refused", (double)s->rules_refused) &
              num(en, "rules_rounded", (double)s->rules_rounded);
    cJSON *rb = cJSON_AddObjectToObject(en, "risk_blocks");
    ok &= rb != NULL;
    for (int i = 0; rb && i < SIM_BLOCK__COUNT; i++)
        ok &= num(rb, sim_block_name((sim_block_reason)i), (double)s->blocks[i]);
    cJSON *q = cJSON_AddObjectToObject(en, "quality");
    ok &= q != NULL;
    for (size_t i = 0; q && i < sim_engine_symbol_count(e); i++) {
        const quality_counts *qc = quality_get_counts(sim_engine_quality_at(e, i));
        cJSON *sq = cJSON_AddObjectToObject(q, sim_engine_symbol_at(e, i));
        ok &= sq && num(sq, "score", qc->score) && num(sq, "worst_score", qc->worst_score) &&
              num(sq, "rejected", (double)qc->by_verdict[QUALITY_REJECT]) && num(sq, "gaps", (double)qc->gaps);
    }
    return ok ? PT_OK : PT_ENOMEM;
}
