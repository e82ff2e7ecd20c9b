/* mystrat: an example strategy plugin, built as <build>/examples/libmystrat.so.
 *
 *   papertrader backtest --strategy ./build/examples/libmystrat.so \
 *       --param lookback=20 --param threshold_pct=1.5 data.csv
 *
 * Rule (momentum): enter long when the close is more than threshold_pct
 * percent above the close `lookback` candles ago; exit when it is below
 * that close. It includes only sim_strategy.h (and pt_core.h for the candle
 * type) and links against nothing from papertrader.
 */
#include "sim_strategy.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* Per-symbol state: a ring of the last `lookback` closes. */
typedef struct mystrat {
    int lookback, count, head;
    double threshold;
    double closes[]; /* lookback entries */
} mystrat;

static int my_create(const double *v, void **state, char *err, size_t errcap)
{
    /* v[] is already range-checked against params[] below; check only what
     * involves more than one parameter here. */
    int lookback = (int)v[0];
    mystrat *s = calloc(1, sizeof *s + (size_t)lookback * sizeof s->closes[0]);
    if (!s) {
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    s->lookback = lookback;
    s->threshold = v[1] / 100.0;
    *state = s;
    return 0;
}

static int my_on_candle(void *state, const pt_candle *c, const sim_position_view *pos,
                        sim_signal *out)
{
    mystrat *s = state;
    out->n_orders = 0;
    out->n_indicators = 1;
    out->indicators[0] = NAN;
    if (!isfinite(c->close) || c->close <= 0)
        return -1; /* the engine counts this against the symbol */
    if (s->count == s->lookback) {
        double past = s->closes[s->head]; /* the close `lookback` candles ago */
        double mom = c->close / past - 1.0;
        out->indicators[0] = mom * 100.0;
        if (mom > s->threshold && pos->qty == 0) {
            out->orders[0] = (sim_order_request){.intent = SIM_INTENT_ENTER_LONG,
                                                 .type = SIM_ORDER_MARKET,
                                                 .reason = "momentum up"};
            out->n_orders = 1;
        } else if (mom < 0 && pos->qty > 0) {
            out->orders[0] = (sim_order_request){.intent = SIM_INTENT_EXIT_LONG,
                                                 .type = SIM_ORDER_MARKET,
                                                 .reason = "momentum gone"};
            out->n_orders = 1;
        }
        s->closes[s->head] = c->close;
        s->head = (s->head + 1) % s->lookback;
    } else {
        s->closes[s->count++] = c->close;
    }
    return 0;
}

static void my_free(void *state)
{
    free(state);
}

static const sim_param_spec my_params[] = {
    {"lookback", 10, 1, 1000, 1, "compare with the close this many candles ago"},
    {"threshold_pct", 1.0, 0, 100, 0, "enter when the close is up more than this percent"},
};
static const char *const my_indicators[] = {"momentum_pct"};

static const sim_strategy_ops my_ops = {
    .abi = SIM_STRATEGY_ABI,
    .name = "mystrat",
    .description = "example plugin: buy on momentum over threshold_pct, sell when it turns negative",
    .params = my_params,
    .n_params = 2,
    .indicator_names = my_indicators,
    .n_indicators = 1,
    .create = my_create,
    .on_candle = my_on_candle,
    .free = my_free,
};

/* The one exported symbol papertrader looks up (SIM_STRATEGY_ENTRY). */
__attribute__((visibility("default"))) const sim_strategy_ops *papertrader_strategy_v1(void);
const sim_strategy_ops *papertrader_strategy_v1(void)
{
    return &my_ops;
}
