/* sma_cross_v2: the built-in sma_cross as an ABI-2 plugin, on the engine's
 * own indicator library (sim_host), built as <build>/examples/libsma_cross_v2.so.
 *
 *   papertrader backtest --strategy ./build/examples/libsma_cross_v2.so \
 *       --param fast=5 --param slow=21 data.csv
 *
 * Same decisions as `--strategy sma_cross` (long only), so the same
 * trades.csv: both SMAs warm first, then a cross of fast - slow (a tie
 * carries the previous sign, the first sign is no cross); enter long when
 * flat on a cross up, exit when long on a cross down. It includes only
 * sim_strategy.h and links against nothing from papertrader: the host
 * table handed to create() is the library.
 */
#include "sim_strategy.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct cross_state {
    const sim_host *host;
    sim_indicator *fast, *slow;
    int last_sign; /* of fast - slow, 0 before the first non-zero */
} cross_state;

static void cross_free(void *state)
{
    cross_state *s = state;
    if (!s)
        return;
    s->host->indicator_free(s->fast);
    s->host->indicator_free(s->slow);
    free(s);
}

static int cross_create(const sim_host *host, const double *v, void **state, char *err,
                        size_t errcap)
{
    if (v[0] >= v[1]) {
        snprintf(err, errcap, "fast (%g) must be < slow (%g)", v[0], v[1]);
        return -1;
    }
    cross_state *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    s->host = host;
    const int pf[3] = {(int)v[0]}, ps[3] = {(int)v[1]};
    if (host->indicator_new("sma", pf, 0, &s->fast) || host->indicator_new("sma", ps, 0, &s->slow)) {
        snprintf(err, errcap, "invalid periods");
        cross_free(s);
        return -1;
    }
    *state = s;
    return 0;
}

static void order(sim_signal_v2 *out, sim_intent intent, const char *reason)
{
    out->orders[out->n_orders++] =
        (sim_order_request){.intent = intent, .type = SIM_ORDER_MARKET, .reason = reason};
}

static int cross_on_candle(void *state, const pt_candle *c, const sim_position_view *pos,
                           sim_signal_v2 *out)
{
    cross_state *s = state;
    double f[3], sl[3];
    if (s->host->indicator_update(s->fast, c, f) || s->host->indicator_update(s->slow, c, sl))
        return -1; /* a non-finite candle: the engine counts it */
    out->n_indicators = 2;
    out->indicators[0] = f[0], out->indicators[1] = sl[0];
    if (isnan(f[0]) || isnan(sl[0]))
        return 0; /* nothing before both lines are warm */
    double d = f[0] - sl[0];
    int sign = d > 0 ? 1 : d < 0 ? -1 : 0, cross = 0;
    if (sign && s->last_sign && sign != s->last_sign)
        cross = sign;
    if (sign)
        s->last_sign = sign;
    if (cross > 0 && pos->qty == 0)
        order(out, SIM_INTENT_ENTER_LONG, "cross up");
    else if (cross < 0 && pos->qty > 0)
        order(out, SIM_INTENT_EXIT_LONG, "cross down");
    return 0;
}

static const sim_param_spec cross_params[] = {
    {"fast", 10, 1, 1000, 1, "fast SMA period (candles)"},
    {"slow", 30, 2, 10000, 1, "slow SMA period (candles); must be > fast"},
};
static const char *const cross_indicators[] = {"fast", "slow"};

static const sim_strategy_ops_v2 cross_ops = {
    .abi = SIM_STRATEGY_ABI_2,
    .name = "sma_cross_v2",
    .description = "sma_cross on the engine's indicator library (ABI 2 example)",
    .params = cross_params,
    .n_params = 2,
    .indicator_names = cross_indicators,
    .n_indicators = 2,
    .create = cross_create,
    .on_candle = cross_on_candle,
    .free = cross_free,
};

const sim_strategy_ops_v2 *papertrader_strategy_v2(void);
const sim_strategy_ops_v2 *papertrader_strategy_v2(void) { return &cross_ops; }
