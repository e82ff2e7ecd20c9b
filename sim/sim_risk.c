/* sim_risk: sizing rules, ATR for risk sizing, and the session-wide limits
 * (daily loss, max drawdown kill switch). Per-symbol limits (cooldown,
 * circuit breaker, exposure) are applied by the engine with these inputs.
 * Rules: sim/README.md ("Risk"). */
#include "sim_internal.h"

#include <math.h>
#include <string.h>

static const char *const block_names[] = {
#define SIM_BLOCK_NAME_(name, text) text,
    SIM_BLOCK_MAP(SIM_BLOCK_NAME_)
#undef SIM_BLOCK_NAME_
};

const char *sim_block_name(sim_block_reason r)
{
    return (unsigned)r < SIM_BLOCK__COUNT ? block_names[r] : "unknown";
}

int sim_sizing_parse(const char *text, sim_sizing *out)
{
    static const struct {
        const char *prefix;
        sim_sizing_kind kind;
        double max;
    } kinds[] = {
        {"quote:", SIM_SIZE_QUOTE, 1e15},
        {"percent:", SIM_SIZE_PERCENT, 100},
        {"risk:", SIM_SIZE_RISK, 100},
    };
    if (!text)
        return PT_EINVAL;
    if (!strcmp(text, "all-in")) {
        out->kind = SIM_SIZE_ALL_IN;
        out->value = 0;
        return PT_OK;
    }
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        size_t n = strlen(kinds[i].prefix);
        if (strncmp(text, kinds[i].prefix, n))
            continue;
        double v;
        if (pt_parse_decimal(text + n, strlen(text + n), &v, NULL) || !(v > 0) ||
            v > kinds[i].max)
            return PT_EINVAL;
        out->kind = kinds[i].kind;
        out->value = v;
        return PT_OK;
    }
    return PT_EINVAL;
}

void sim_atr_init(sim_atr *a, int period)
{
    memset(a, 0, sizeof *a);
    a->n = period > 0 ? period : 14;
    a->value = NAN;
}

double sim_atr_update(sim_atr *a, const pt_candle *c)
{
    double tr = c->high - c->low;
    if (a->count > 0) {
        double up = fabs(c->high - a->prev_close), dn = fabs(c->low - a->prev_close);
        if (up > tr)
            tr = up;
        if (dn > tr)
            tr = dn;
    }
    a->prev_close = c->close;
    a->count++;
    if (a->count < a->n) {
        a->sum += tr;
    } else if (a->count == a->n) {
        a->value = (a->sum + tr) / a->n;
    } else {
        a->value = (a->value * (a->n - 1) + tr) / a->n;
    }
    return a->value;
}

void sim_risk_init(sim_risk_state *r, double equity)
{
    memset(r, 0, sizeof *r);
    r->peak_equity = equity;
    r->day_start_equity = equity;
    r->day = INT64_MIN;
}

static int64_t utc_day(int64_t ts_ms)
{
    int64_t d = ts_ms / 86400000;
    return (ts_ms < 0 && ts_ms % 86400000) ? d - 1 : d;
}

int sim_risk_mark(sim_risk_state *r, const sim_engine_config *cfg, int64_t ts_ms, double equity)
{
    int ev = 0;
    int64_t day = utc_day(ts_ms);
    if (day != r->day) {
        /* a new UTC day: the loss limit re-arms from this mark */
        r->day = day;
        r->day_start_equity = equity;
        r->daily_blocked = 0;
    }
    if (equity > r->peak_equity)
        r->peak_equity = equity;
    if (cfg->daily_loss_pct > 0 && !r->daily_blocked &&
        equity <= r->day_start_equity * (1.0 - cfg->daily_loss_pct / 100.0)) {
        r->daily_blocked = 1;
        ev |= SIM_RISK_EV_DAILY;
    }
    if (cfg->max_drawdown_pct > 0 && !r->killed && r->peak_equity > 0 &&
        equity <= r->peak_equity * (1.0 - cfg->max_drawdown_pct / 100.0)) {
        r->killed = 1;
        ev |= SIM_RISK_EV_KILL;
    }
    return ev;
}
