/* The built-in strategies. Rules are documented exactly in docs/strategies.md;
 * keep the two in step. Every strategy here:
 *  - goes long: ENTER_LONG (market) only when flat (pos->qty == 0),
 *    EXIT_LONG (market) only when long (pos->qty > 0);
 *  - if its rule is symmetric (sma_cross, ema_cross, donchian, macd: the
 *    `shorting` table) and the session allows shorts, also goes short on
 *    the down signal and reverses (exit, then entry) on the opposite one;
 *  - emits nothing until its indicators are warm;
 *  - returns PT_EINVAL on a non-finite candle or indicator value instead of
 *    emitting anything (the engine's circuit breaker counts it).
 * State is per symbol, allocated in create and released in free. */
#include "indicators.h"
#include "sim.h"
#include "sim_internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* ------------------------------------------------------------ helpers */


static int candle_finite(const pt_candle *c)
{
    return isfinite(c->open) && isfinite(c->high) && isfinite(c->low) && isfinite(c->close);
}

static void sig_begin(sim_signal *out, int n_ind)
{
    out->n_orders = 0;
    out->n_indicators = n_ind;
    for (int i = 0; i < SIM_MAX_INDICATORS; i++)
        out->indicators[i] = NAN;
}

static void sig_market(sim_signal *out, sim_intent intent, const char *reason)
{
    if (out->n_orders >= SIM_MAX_ORDERS)
        return;
    sim_order_request *o = &out->orders[out->n_orders++];
    *o = (sim_order_request){.intent = intent, .type = SIM_ORDER_MARKET, .reason = reason};
}

/* Long-only position rule shared by all built-ins. */
static void act(sim_signal *out, const sim_position_view *pos, int enter, int leave,
                const char *why_enter, const char *why_exit)
{
    if (enter && pos->qty == 0.0)
        sig_market(out, SIM_INTENT_ENTER_LONG, why_enter);
    else if (leave && pos->qty > 0.0)
        sig_market(out, SIM_INTENT_EXIT_LONG, why_exit);
}

/* A symmetric rule (pos->allow_short): the up signal enters long, or exits
 * a short and reverses; the down signal the mirror image. The engine fills
 * the entry once the exit has filled (a position never flips in one order).
 * Without shorts it is exactly act(). */
static void act_both(sim_signal *out, const sim_position_view *pos, int up, int down,
                     const char *why_up, const char *why_down)
{
    if (!pos->allow_short) {
        act(out, pos, up, down, why_up, why_down);
        return;
    }
    if (up && pos->qty <= 0.0) {
        if (pos->qty < 0.0)
            sig_market(out, SIM_INTENT_EXIT_SHORT, why_up);
        sig_market(out, SIM_INTENT_ENTER_LONG, why_up);
    } else if (down && pos->qty >= 0.0) {
        if (pos->qty > 0.0)
            sig_market(out, SIM_INTENT_EXIT_LONG, why_down);
        sig_market(out, SIM_INTENT_ENTER_SHORT, why_down);
    }
}

/* NAN unless warm; -1 if warm but not finite (overflow: a failure). */
static int show(sim_signal *out, int i, int warm, double v)
{
    if (!warm)
        return 0;
    out->indicators[i] = v;
    return isfinite(v) ? 0 : -1;
}

/* ------------------------------------------------------------ sma_cross / ema_cross */

typedef struct xover_state {
    int use_ema;
    sim_ind_sma fs, ss;
    sim_ind_ema fe, se;
    sim_ind_cross cross;
} xover_state;

static void xover_free(void *p)
{
    xover_state *s = p;
    if (!s)
        return;
    sim_ind_sma_free(&s->fs);
    sim_ind_sma_free(&s->ss);
    free(s);
}

static int xover_create(const double *v, void **state, char *err, size_t cap, int use_ema)
{
    int fast = (int)v[0], slow = (int)v[1], rc;
    *state = NULL;
    if (fast >= slow)
        return sim_errf(err, cap, "fast (%d) must be < slow (%d)", fast, slow);
    xover_state *s = calloc(1, sizeof *s);
    if (!s)
        return PT_ENOMEM;
    s->use_ema = use_ema;
    if (use_ema)
        rc = sim_ind_ema_init(&s->fe, fast) || sim_ind_ema_init(&s->se, slow) ? PT_EINVAL : PT_OK;
    else if ((rc = sim_ind_sma_init(&s->fs, fast, 0)) == PT_OK)
        rc = sim_ind_sma_init(&s->ss, slow, 0);
    if (rc) {
        xover_free(s);
        return rc == PT_ENOMEM ? rc : sim_errf(err, cap, "invalid periods %d/%d", fast, slow);
    }
    *state = s;
    return PT_OK;
}

static int sma_cross_create(const double *v, void **state, char *err, size_t cap)
{
    return xover_create(v, state, err, cap, 0);
}

static int ema_cross_create(const double *v, void **state, char *err, size_t cap)
{
    return xover_create(v, state, err, cap, 1);
}

static int xover_on_candle(void *p, const pt_candle *c, const sim_position_view *pos,
                           sim_signal *out)
{
    xover_state *s = p;
    double f, sl;
    int fw, sw, rc;
    sig_begin(out, 2);
    if (!candle_finite(c))
        return PT_EINVAL;
    if (s->use_ema) {
        if ((rc = sim_ind_ema_update(&s->fe, c->close)) || (rc = sim_ind_ema_update(&s->se, c->close)))
            return rc;
        f = s->fe.value, sl = s->se.value;
        fw = sim_ind_ema_ready(&s->fe), sw = sim_ind_ema_ready(&s->se);
    } else {
        if ((rc = sim_ind_sma_update(&s->fs, c->close)) || (rc = sim_ind_sma_update(&s->ss, c->close)))
            return rc;
        f = s->fs.mean, sl = s->ss.mean;
        fw = sim_ind_sma_ready(&s->fs), sw = sim_ind_sma_ready(&s->ss);
    }
    if (show(out, 0, fw, f) || show(out, 1, sw, sl))
        return PT_EINVAL;
    if (!fw || !sw)
        return PT_OK; /* nothing before both lines are warm */
    int x = sim_ind_cross_update(&s->cross, f - sl);
    act_both(out, pos, x > 0, x < 0, "cross up", "cross down");
    return PT_OK;
}

static const char *const xover_ind[] = {"fast", "slow"};

static const sim_param_spec sma_cross_params[] = {
    {"fast", 10, 1, 1000, 1, "fast SMA period (candles)"},
    {"slow", 30, 2, 10000, 1, "slow SMA period (candles); must be > fast"},
};

static const sim_strategy_ops sma_cross_ops = {
    .abi = SIM_STRATEGY_ABI,
    .name = "sma_cross",
    .description = "buy when the fast SMA crosses above the slow SMA, sell when it crosses below",
    .params = sma_cross_params,
    .n_params = 2,
    .indicator_names = xover_ind,
    .n_indicators = 2,
    .create = sma_cross_create,
    .on_candle = xover_on_candle,
    .free = xover_free,
};

static const sim_param_spec ema_cross_params[] = {
    {"fast", 12, 1, 1000, 1, "fast EMA period (candles)"},
    {"slow", 26, 2, 10000, 1, "slow EMA period (candles); must be > fast"},
};

static const sim_strategy_ops ema_cross_ops = {
    .abi = SIM_STRATEGY_ABI,
    .name = "ema_cross",
    .description = "buy when the fast EMA crosses above the slow EMA, sell when it crosses below",
    .params = ema_cross_params,
    .n_params = 2,
    .indicator_names = xover_ind,
    .n_indicators = 2,
    .create = ema_cross_create,
    .on_candle = xover_on_candle,
    .free = xover_free,
};

/* ------------------------------------------------------------ rsi */

typedef struct rsi_state {
    sim_ind_rsi rsi;
    double buy_below, sell_above;
} rsi_state;

static void plain_free(void *p)
{
    free(p);
}

static int rsi_create(const double *v, void **state, char *err, size_t cap)
{
    *state = NULL;
    if (v[1] >= v[2])
        return sim_errf(err, cap, "buy_below (%g) must be < sell_above (%g)", v[1], v[2]);
    rsi_state *s = calloc(1, sizeof *s);
    if (!s)
        return PT_ENOMEM;
    if (sim_ind_rsi_init(&s->rsi, (int)v[0])) {
        free(s);
        return sim_errf(err, cap, "invalid period %g", v[0]);
    }
    s->buy_below = v[1];
    s->sell_above = v[2];
    *state = s;
    return PT_OK;
}

static int rsi_on_candle(void *p, const pt_candle *c, const sim_position_view *pos,
                         sim_signal *out)
{
    rsi_state *s = p;
    int rc;
    sig_begin(out, 1);
    if (!candle_finite(c))
        return PT_EINVAL;
    if ((rc = sim_ind_rsi_update(&s->rsi, c->close)))
        return rc;
    int warm = !isnan(s->rsi.value);
    if (show(out, 0, warm, s->rsi.value))
        return PT_EINVAL;
    if (warm)
        act(out, pos, s->rsi.value < s->buy_below, s->rsi.value > s->sell_above, "rsi oversold",
            "rsi overbought");
    return PT_OK;
}

static const sim_param_spec rsi_params[] = {
    {"period", 14, 2, 1000, 1, "Wilder RSI period (candles)"},
    {"buy_below", 30, 0, 100, 0, "enter long when RSI < this"},
    {"sell_above", 70, 0, 100, 0, "exit when RSI > this; must be > buy_below"},
};
static const char *const rsi_ind[] = {"rsi"};

static const sim_strategy_ops rsi_ops = {
    .abi = SIM_STRATEGY_ABI,
    .name = "rsi",
    .description = "buy when Wilder's RSI is below buy_below, sell when it is above sell_above",
    .params = rsi_params,
    .n_params = 3,
    .indicator_names = rsi_ind,
    .n_indicators = 1,
    .create = rsi_create,
    .on_candle = rsi_on_candle,
    .free = plain_free,
};

/* ------------------------------------------------------------ bollinger */

typedef struct boll_state {
    sim_ind_sma sma; /* with population standard deviation */
    double k;
} boll_state;

static void boll_free(void *p)
{
    boll_state *s = p;
    if (!s)
        return;
    sim_ind_sma_free(&s->sma);
    free(s);
}

static int boll_create(const double *v, void **state, char *err, size_t cap)
{
    *state = NULL;
    boll_state *s = calloc(1, sizeof *s);
    if (!s)
        return PT_ENOMEM;
    int rc = sim_ind_sma_init(&s->sma, (int)v[0], 1);
    if (rc) {
        boll_free(s);
        return rc == PT_ENOMEM ? rc : sim_errf(err, cap, "invalid period %g", v[0]);
    }
    s->k = v[1];
    *state = s;
    return PT_OK;
}

static int boll_on_candle(void *p, const pt_candle *c, const sim_position_view *pos,
                          sim_signal *out)
{
    boll_state *s = p;
    int rc;
    sig_begin(out, 3);
    if (!candle_finite(c))
        return PT_EINVAL;
    if ((rc = sim_ind_sma_update(&s->sma, c->close)))
        return rc;
    int warm = sim_ind_sma_ready(&s->sma);
    double mid = s->sma.mean, lower = mid - s->k * s->sma.sd, upper = mid + s->k * s->sma.sd;
    if (show(out, 0, warm, lower) || show(out, 1, warm, mid) || show(out, 2, warm, upper))
        return PT_EINVAL;
    if (warm)
        act(out, pos, c->close < lower, c->close >= mid, "below lower band", "back to middle");
    return PT_OK;
}

static const sim_param_spec boll_params[] = {
    {"period", 20, 2, 1000, 1, "SMA / standard deviation window (candles)"},
    {"k", 2, 0.1, 10, 0, "band width in population standard deviations"},
};
static const char *const boll_ind[] = {"lower", "middle", "upper"};

static const sim_strategy_ops boll_ops = {
    .abi = SIM_STRATEGY_ABI,
    .name = "bollinger",
    .description = "mean reversion: buy when close < lower band, sell when close >= middle band",
    .params = boll_params,
    .n_params = 2,
    .indicator_names = boll_ind,
    .n_indicators = 3,
    .create = boll_create,
    .on_candle = boll_on_candle,
    .free = boll_free,
};

/* ------------------------------------------------------------ donchian */

typedef struct donch_state {
    sim_ind_extreme hi, lo; /* highest high of `entry`, lowest low of `exit` candles */
} donch_state;

static void donch_free(void *p)
{
    donch_state *s = p;
    if (!s)
        return;
    sim_ind_extreme_free(&s->hi);
    sim_ind_extreme_free(&s->lo);
    free(s);
}

static int donch_create(const double *v, void **state, char *err, size_t cap)
{
    *state = NULL;
    donch_state *s = calloc(1, sizeof *s);
    if (!s)
        return PT_ENOMEM;
    int rc = sim_ind_extreme_init(&s->hi, (int)v[0], 0);
    if (!rc)
        rc = sim_ind_extreme_init(&s->lo, (int)v[1], 1);
    if (rc) {
        donch_free(s);
        return rc == PT_ENOMEM ? rc : sim_errf(err, cap, "invalid periods %g/%g", v[0], v[1]);
    }
    *state = s;
    return PT_OK;
}

static int donch_on_candle(void *p, const pt_candle *c, const sim_position_view *pos,
                           sim_signal *out)
{
    donch_state *s = p;
    int rc;
    sig_begin(out, 2);
    if (!candle_finite(c))
        return PT_EINVAL;
    /* the channel of the candles BEFORE this one: a close can break it */
    double upper = s->hi.value, lower = s->lo.value;
    int enter = !isnan(upper) && c->close > upper;
    int leave = !isnan(lower) && c->close < lower;
    if ((rc = sim_ind_extreme_update(&s->hi, c->high)) || (rc = sim_ind_extreme_update(&s->lo, c->low)))
        return rc;
    show(out, 0, !isnan(s->hi.value), s->hi.value);
    show(out, 1, !isnan(s->lo.value), s->lo.value);
    act_both(out, pos, enter, leave, "breakout up", "breakdown");
    return PT_OK;
}

static const sim_param_spec donch_params[] = {
    {"entry", 20, 1, 1000, 1, "enter when close > highest high of the previous N candles"},
    {"exit", 10, 1, 1000, 1, "exit when close < lowest low of the previous N candles"},
};
static const char *const donch_ind[] = {"upper", "lower"};

static const sim_strategy_ops donch_ops = {
    .abi = SIM_STRATEGY_ABI,
    .name = "donchian",
    .description = "breakout: buy above the entry-candle high channel, sell below the exit-candle low",
    .params = donch_params,
    .n_params = 2,
    .indicator_names = donch_ind,
    .n_indicators = 2,
    .create = donch_create,
    .on_candle = donch_on_candle,
    .free = donch_free,
};

/* ------------------------------------------------------------ macd */

typedef struct macd_state {
    sim_ind_macd m;
    sim_ind_cross cross;
} macd_state;

static int macd_create(const double *v, void **state, char *err, size_t cap)
{
    *state = NULL;
    if (v[0] >= v[1])
        return sim_errf(err, cap, "fast (%g) must be < slow (%g)", v[0], v[1]);
    macd_state *s = calloc(1, sizeof *s);
    if (!s)
        return PT_ENOMEM;
    if (sim_ind_macd_init(&s->m, (int)v[0], (int)v[1], (int)v[2])) {
        free(s);
        return sim_errf(err, cap, "invalid periods %g/%g/%g", v[0], v[1], v[2]);
    }
    *state = s;
    return PT_OK;
}

static int macd_on_candle(void *p, const pt_candle *c, const sim_position_view *pos,
                          sim_signal *out)
{
    macd_state *s = p;
    int rc;
    sig_begin(out, 3);
    if (!candle_finite(c))
        return PT_EINVAL;
    if ((rc = sim_ind_macd_update(&s->m, c->close)))
        return rc;
    int warm = sim_ind_macd_ready(&s->m);
    if (show(out, 0, warm, s->m.macd) || show(out, 1, warm, s->m.signal) ||
        show(out, 2, warm, s->m.hist))
        return PT_EINVAL;
    if (!warm)
        return PT_OK;
    int x = sim_ind_cross_update(&s->cross, s->m.macd - s->m.signal);
    act_both(out, pos, x > 0, x < 0, "macd cross up", "macd cross down");
    return PT_OK;
}

static const sim_param_spec macd_params[] = {
    {"fast", 12, 1, 1000, 1, "fast EMA period"},
    {"slow", 26, 2, 10000, 1, "slow EMA period; must be > fast"},
    {"signal", 9, 1, 1000, 1, "signal EMA period (of the macd line)"},
};
static const char *const macd_ind[] = {"macd", "signal", "hist"};

static const sim_strategy_ops macd_ops = {
    .abi = SIM_STRATEGY_ABI,
    .name = "macd",
    .description = "buy when the MACD line crosses above its signal line, sell when it crosses below",
    .params = macd_params,
    .n_params = 3,
    .indicator_names = macd_ind,
    .n_indicators = 3,
    .create = macd_create,
    .on_candle = macd_on_candle,
    .free = plain_free,
};

/* ------------------------------------------------------------ table */

const sim_strategy_ops *const sim_builtin_strategies[] = {
    &sma_cross_ops, &ema_cross_ops, &rsi_ops, &boll_ops, &donch_ops, &macd_ops,
};
const size_t sim_builtin_strategy_count =
    sizeof sim_builtin_strategies / sizeof sim_builtin_strategies[0];

/* The built-ins whose rule is symmetric (act_both): they go short too. */
static const sim_strategy_ops *const shorting[] = {&sma_cross_ops, &ema_cross_ops, &donch_ops,
                                                   &macd_ops};

int sim_builtin_shorts(const sim_strategy_ops *ops)
{
    for (size_t i = 0; i < sizeof shorting / sizeof shorting[0]; i++)
        if (shorting[i] == ops)
            return 1;
    return 0;
}
