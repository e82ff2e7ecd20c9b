/* sim_warmup: how many closed candles a strategy needs before it can act,
 * from its parameters. `run` fetches that many over REST and feeds them
 * without trading (docs/durability.md, warm-up). One row per built-in: the
 * parameters that set its longest lookback, combined by max or sum, plus
 * the candles its rule needs beyond them (a previous value, a difference).
 * Over-warming costs only a few REST rows; under-warming trades cold. */
#include "sim.h"
#include "sim_ext_internal.h"

#include <string.h>

typedef struct warm_rule {
    const char *strategy;
    const char *param[2]; /* NULL: unused */
    int sum;              /* 1: param[0] + param[1], else the larger */
    int extra;
} warm_rule;

static const warm_rule rules[] = {
    {"sma_cross", {"slow", NULL}, 0, 0},          /* both SMAs full; the cross starts on the last */
    {"ema_cross", {"slow", NULL}, 0, 0},
    {"rsi", {"period", NULL}, 0, 1},              /* period differences need period + 1 closes */
    {"bollinger", {"period", NULL}, 0, 0},
    {"donchian", {"entry", "exit"}, 0, 1},        /* channels of the previous N candles */
    {"macd", {"slow", "signal"}, 1, 0},           /* the signal EMA runs on the macd line */
};

static double param_of(const sim_strategy_ops *ops, const double *params, const char *name)
{
    for (int i = 0; name && i < ops->n_params; i++)
        if (!strcmp(ops->params[i].name, name))
            return params[i];
    return 0;
}

static int builtin_warmup(const sim_strategy_ops *ops, const double *params)
{
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
        const warm_rule *r = &rules[i];
        if (strcmp(r->strategy, ops->name) || sim_strategy_builtin(ops->name) != ops)
            continue;
        double a = param_of(ops, params, r->param[0]), b = param_of(ops, params, r->param[1]);
        return (int)(r->sum ? a + b : a > b ? a : b) + r->extra;
    }
    return 0;
}

/* "warmup" from ready, else what its engine indicators need: the sum of a
 * spec's periods (macd: slow + signal, fast over-counted) plus one. */
static int ext_warmup(const sim_ext *x, const double *params)
{
    if (x->warmup)
        return x->warmup;
    int n = 0; /* the longest of them: every indicator must be warm */
    for (int i = 0; i < x->n_ind; i++) {
        int need = 1;
        for (int k = 0; k < 3; k++)
            need += x->pref[i][k] >= 0 && params ? (int)params[x->pref[i][k]] : x->ind[i].p[k];
        if (need > n)
            n = need;
    }
    return n;
}

int sim_strategy_warmup(const sim_strategy_ops *ops, const double *params, const sim_sizing *sizing,
                        int atr_period)
{
    if (!ops)
        return 0;
    const sim_ext *x = sim_ext_of(ops);
    int n = x ? ext_warmup(x, params) : builtin_warmup(ops, params);
    if (sizing && sizing->kind == SIM_SIZE_RISK && atr_period + 1 > n)
        n = atr_period + 1; /* the ATR needs period true ranges */
    return n < 0 ? 0 : n > SIM_WARMUP_MAX ? SIM_WARMUP_MAX : n;
}
