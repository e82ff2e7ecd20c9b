/* Strategies: registry, parameter validation, each built-in on crafted
 * series, exact ties on real integer prices, plugin loading. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "indicators.h"
#include "sim.h"

#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ harness */

static void *make(const sim_strategy_ops *ops, const char *const *kv, int n_kv)
{
    double v[SIM_MAX_PARAMS];
    char err[256];
    void *st = NULL;
    assert_non_null(ops);
    if (sim_strategy_params(ops, kv, n_kv, v, err, sizeof err))
        fail_msg("params: %s", err);
    if (ops->create(v, &st, err, sizeof err))
        fail_msg("create: %s", err);
    return st;
}

static pt_candle candle(int i, double close, double spread)
{
    pt_candle c = {.ts_ms = 60000LL * i, .open = close, .high = close + spread,
                   .low = close - spread, .close = close, .volume = 1, .closed = 1};
    snprintf(c.symbol, sizeof c.symbol, "TEST");
    return c;
}

/* Feeds closes and returns one char per candle: '.' nothing, 'E' enter long,
 * 'X' exit long. The position follows the orders (filled at once), or stays
 * at fixed_qty when that is >= 0. */
static double fixed_qty = -1;
static void run(const sim_strategy_ops *ops, void *st, const double *closes, int n, double spread,
                char *got, sim_signal *last)
{
    sim_position_view pos = {.qty = fixed_qty > 0 ? fixed_qty : 0};
    for (int i = 0; i < n; i++) {
        pt_candle c = candle(i, closes[i], spread);
        sim_signal out;
        memset(&out, 0x5a, sizeof out); /* the strategy must reset it */
        assert_int_equal(ops->on_candle(st, &c, &pos, &out), 0);
        assert_int_equal(out.n_indicators, ops->n_indicators);
        assert_true(out.n_orders >= 0 && out.n_orders <= 1);
        got[i] = '.';
        if (out.n_orders == 1) {
            assert_int_equal(out.orders[0].type, SIM_ORDER_MARKET);
            assert_non_null(out.orders[0].reason);
            if (out.orders[0].intent == SIM_INTENT_ENTER_LONG) {
                assert_true(pos.qty == 0);
                got[i] = 'E', pos.qty = 1;
            } else {
                assert_int_equal(out.orders[0].intent, SIM_INTENT_EXIT_LONG);
                assert_true(pos.qty > 0);
                got[i] = 'X', pos.qty = 0;
            }
        }
        if (fixed_qty >= 0)
            pos.qty = fixed_qty;
        if (last)
            last[i] = out;
    }
    got[n] = 0;
}

static void expect(const char *name, const char *const *kv, int n_kv, const double *closes,
                   int n, double spread, const char *want)
{
    const sim_strategy_ops *ops = sim_strategy_builtin(name);
    char got[256];
    void *st = make(ops, kv, n_kv);
    run(ops, st, closes, n, spread, got, NULL);
    ops->free(st);
    if (strcmp(got, want))
        fail_msg("%s: got %s want %s", name, got, want);
}

/* ------------------------------------------------------------ registry */

static void test_registry(void **st)
{
    (void)st;
    const char *need[] = {"sma_cross", "ema_cross", "rsi", "bollinger", "donchian", "macd"};
    char err[256];
    assert_true(sim_strategy_builtin_count() >= 6);
    for (size_t i = 0; i < sizeof need / sizeof need[0]; i++)
        assert_non_null(sim_strategy_builtin(need[i]));
    for (size_t i = 0; i < sim_strategy_builtin_count(); i++) {
        const sim_strategy_ops *o = sim_strategy_builtin_at(i);
        if (sim_strategy_validate(o, "builtin", err, sizeof err))
            fail_msg("%s", err);
        assert_ptr_equal(sim_strategy_builtin(o->name), o);
        const sim_strategy_ops *l = NULL;
        void *h = (void *)1;
        assert_int_equal(sim_strategy_load(o->name, &l, &h), 0);
        assert_ptr_equal(l, o);
        assert_null(h);
    }
    assert_null(sim_strategy_builtin_at(sim_strategy_builtin_count()));
    assert_null(sim_strategy_builtin("nope"));
    const sim_strategy_ops *l = NULL;
    void *h = NULL;
    pt_log_set_stderr(0);
    assert_int_equal(sim_strategy_load("nope", &l, &h), PT_ENOENT);
    pt_log_set_stderr(1);
    sim_strategy_unload(NULL);
}

static void test_params(void **st)
{
    (void)st;
    const sim_strategy_ops *o = sim_strategy_builtin("sma_cross");
    double v[SIM_MAX_PARAMS];
    char err[256];
    assert_int_equal(sim_strategy_params(o, NULL, 0, v, err, sizeof err), 0);
    assert_true(v[0] == 10 && v[1] == 30);
    const char *ok[] = {"slow=50", "fast=5", "fast=7"};
    assert_int_equal(sim_strategy_params(o, ok, 3, v, err, sizeof err), 0);
    assert_true(v[0] == 7 && v[1] == 50); /* later overrides earlier */

    struct {
        const char *kv, *msg1, *msg2;
    } bad[] = {
        {"fats=3", "unknown parameter 'fats'", "known: fast, slow"},
        {"fast=abc", "'fast'", "[1, 1000]"},
        {"fast=", "'fast'", "[1, 1000]"},
        {"fast=1e3x", "'fast'", "[1, 1000]"},
        {"fast=0", "'fast' = 0 out of range", "[1, 1000]"},
        {"slow=20000", "'slow'", "[2, 10000]"},
        {"fast=2.5", "'fast' = 2.5 must be a whole number", "[1, 1000]"},
        {"fast=nan", "'fast'", "[1, 1000]"},
        {"fast", "not KEY=VALUE", "sma_cross"},
        {"=3", "not KEY=VALUE", "sma_cross"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = 0;
        assert_int_equal(sim_strategy_params(o, &bad[i].kv, 1, v, err, sizeof err), PT_EINVAL);
        if (!strstr(err, bad[i].msg1) || !strstr(err, bad[i].msg2))
            fail_msg("'%s': message '%s' lacks '%s' / '%s'", bad[i].kv, err, bad[i].msg1, bad[i].msg2);
    }
    /* non-integer allowed where declared so */
    const sim_strategy_ops *b = sim_strategy_builtin("bollinger");
    const char *k[] = {"k=1.5"};
    assert_int_equal(sim_strategy_params(b, k, 1, v, err, sizeof err), 0);
    assert_true(v[1] == 1.5);
}

static void test_cross_param_validation(void **st)
{
    (void)st;
    struct {
        const char *name;
        const char *kv[2];
        const char *msg;
    } bad[] = {
        {"sma_cross", {"fast=30", "slow=10"}, "fast (30) must be < slow (10)"},
        {"sma_cross", {"fast=20", "slow=20"}, "must be < slow"},
        {"ema_cross", {"fast=26", "slow=12"}, "must be < slow"},
        {"macd", {"fast=26", "slow=12"}, "must be < slow"},
        {"rsi", {"buy_below=70", "sell_above=30"}, "buy_below (70) must be < sell_above (30)"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const sim_strategy_ops *o = sim_strategy_builtin(bad[i].name);
        double v[SIM_MAX_PARAMS];
        char err[256] = "";
        void *s = (void *)1;
        assert_int_equal(sim_strategy_params(o, bad[i].kv, 2, v, err, sizeof err), 0);
        assert_int_not_equal(o->create(v, &s, err, sizeof err), 0);
        assert_null(s);
        if (!strstr(err, bad[i].msg))
            fail_msg("%s: '%s' lacks '%s'", bad[i].name, err, bad[i].msg);
    }
}

/* ------------------------------------------------------------ crossovers */

static void test_sma_cross_rules(void **st)
{
    (void)st;
    /* fast=1 slow=2: fast - slow = (c[i] - c[i-1]) / 2, warm from candle 1.
     * 1: -0.5 first sign, no cross; 2: tie carries '-'; 3: cross up;
     * 4: tie; 5: cross down; 6: cross up; 7: up again (no cross) */
    const char *p12[] = {"fast=1", "slow=2"};
    expect("sma_cross", p12, 2, (double[]){5, 4, 4, 6, 6, 3, 7, 8}, 8, 0, "...E.XE.");
    /* the first difference after warm-up is not a cross, however large */
    expect("sma_cross", p12, 2, (double[]){5, 6, 7, 8, 9}, 5, 0, ".....");
    /* nothing before the slow SMA is warm: 1/3 with an early rise */
    const char *p13[] = {"fast=1", "slow=3"};
    expect("sma_cross", p13, 2, (double[]){5, 4, 6, 6, 3, 2, 9}, 7, 0, "......E");
    /* a cross up while long, a cross down while flat: no orders */
    fixed_qty = 1;
    expect("sma_cross", p12, 2, (double[]){5, 4, 6, 5, 7, 4}, 6, 0, "...X.X");
    fixed_qty = 0;
    expect("sma_cross", p12, 2, (double[]){5, 4, 6, 5, 7, 4}, 6, 0, "..E.E.");
    fixed_qty = -1;
    expect("sma_cross", p12, 2, (double[]){5, 4, 6, 5, 7, 4}, 6, 0, "..EXEX");
}

static void test_sma_cross_indicators_nan_until_warm(void **st)
{
    (void)st;
    const sim_strategy_ops *o = sim_strategy_builtin("sma_cross");
    const char *kv[] = {"fast=2", "slow=3"};
    void *s = make(o, kv, 2);
    sim_signal sig[4];
    char got[8];
    run(o, s, (double[]){1, 2, 3, 4}, 4, 0, got, sig);
    o->free(s);
    assert_true(isnan(sig[0].indicators[0]) && isnan(sig[0].indicators[1]));
    assert_true(sig[1].indicators[0] == 1.5 && isnan(sig[1].indicators[1]));
    assert_true(sig[2].indicators[0] == 2.5 && sig[2].indicators[1] == 2.0);
    assert_true(sig[3].indicators[0] == 3.5 && sig[3].indicators[1] == 3.0);
}

static void test_ema_cross(void **st)
{
    (void)st;
    /* fast=1 (the close), slow=2 (alpha 2/3): 1: tie; 2: 4 vs 4.33 first
     * sign; 3: 6 vs 5.44 cross up; 4: 3 vs 3.81 cross down */
    const char *kv[] = {"fast=1", "slow=2"};
    expect("ema_cross", kv, 2, (double[]){5, 5, 4, 6, 3}, 5, 0, "...EX");
}

static void test_rsi(void **st)
{
    (void)st;
    /* period 2: rsi at 2 is 0 (< 30, enter), at 3 is 50, at 4 is 75 (> 70) */
    const char *kv[] = {"period=2", "buy_below=30", "sell_above=70"};
    expect("rsi", kv, 3, (double[]){10, 9, 8, 9, 10, 11}, 6, 0, "..E.X.");
}

static void test_bollinger(void **st)
{
    (void)st;
    /* period 3, k 1: 2: flat band, close == lower (no entry); 3: mean 9,
     * sd sqrt(2), lower 7.59 > 7 enter; 4: close 10 >= middle 9 exit */
    const char *kv[] = {"period=3", "k=1"};
    expect("bollinger", kv, 2, (double[]){10, 10, 10, 7, 10, 10}, 6, 0, "...EX.");
}

static void test_donchian(void **st)
{
    (void)st;
    /* entry 3, exit 2, high/low = close +- 0.5: 3: 11 > 10.5 enter; 4: still
     * above, already long; 5: 9 < min low of candles 3-4 (10.5) exit */
    const char *kv[] = {"entry=3", "exit=2"};
    expect("donchian", kv, 2, (double[]){10, 10, 10, 11, 12, 9, 9}, 7, 0.5, "...E.X.");
    /* no breakout before `entry` previous candles exist */
    expect("donchian", kv, 2, (double[]){10, 12, 14, 14}, 4, 0.5, "....");
}

static void test_macd(void **st)
{
    (void)st;
    /* fall, rise, fall: one cross up in the rise, one cross down in the
     * second fall; the histogram is macd - signal */
    double c[120];
    for (int i = 0; i < 120; i++)
        c[i] = i < 40 ? 200 - i : i < 80 ? 160 + (i - 40) : 200 - (i - 80);
    const sim_strategy_ops *o = sim_strategy_builtin("macd");
    const char *kv[] = {"fast=3", "slow=6", "signal=3"};
    void *s = make(o, kv, 3);
    sim_signal sig[120];
    char got[128];
    run(o, s, c, 120, 0, got, sig);
    o->free(s);
    int e = -1, x = -1, n = 0;
    for (int i = 0; i < 120; i++) {
        if (got[i] == 'E')
            e = i, n++;
        if (got[i] == 'X')
            x = i, n++;
        if (i < 6 - 1 + 3 - 1)
            assert_true(isnan(sig[i].indicators[2]));
        else
            assert_true(sig[i].indicators[2] == sig[i].indicators[0] - sig[i].indicators[1]);
    }
    assert_int_equal(n, 2);
    assert_true(e >= 40 && e < 45);
    assert_true(x >= 80 && x < 85);
}

static void test_nonfinite_candle(void **st)
{
    (void)st;
    for (size_t i = 0; i < sim_strategy_builtin_count(); i++) {
        const sim_strategy_ops *o = sim_strategy_builtin_at(i);
        void *s = make(o, NULL, 0);
        sim_position_view pos = {0};
        sim_signal out;
        pt_candle c = candle(0, 10, 1);
        assert_int_equal(o->on_candle(s, &c, &pos, &out), 0);
        c.close = NAN;
        assert_int_not_equal(o->on_candle(s, &c, &pos, &out), 0);
        assert_int_equal(out.n_orders, 0);
        c = candle(1, 10, 1);
        c.high = INFINITY;
        assert_int_not_equal(o->on_candle(s, &c, &pos, &out), 0);
        o->free(s);
    }
}

/* ------------------------------------------------------------ real data */

/* backtrader's integer prices: with 10/30 SMAs fast == slow happens; the
 * exact SMA must report a tie exactly when 30*sum(fast) == 10*sum(slow). */
static void test_backtrader_ties_exact(void **st)
{
    (void)st;
    char path[1024], line[256];
    const char *dir = getenv("PT_SHARED_DATA");
    assert_non_null(dir);
    snprintf(path, sizeof path, "%s/backtrader_index-future_2006_1m.csv", dir);
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("cannot open %s", path);
    const sim_strategy_ops *o = sim_strategy_builtin("sma_cross");
    void *s = make(o, NULL, 0);
    static int64_t closes[40000];
    int n = 0, ties = 0, trades = 0;
    sim_position_view pos = {0};
    assert_non_null(fgets(line, sizeof line, f)); /* header */
    while (fgets(line, sizeof line, f) && n < 40000) {
        char *fld[6];
        int k = 0;
        for (char *save = NULL, *t = strtok_r(line, ",\n", &save); t && k < 6;
             t = strtok_r(NULL, ",\n", &save))
            fld[k++] = t;
        assert_int_equal(k, 6);
        double close;
        assert_int_equal(pt_parse_decimal(fld[4], strlen(fld[4]), &close, NULL), 0);
        assert_true(close == floor(close));
        closes[n] = (int64_t)close;
        pt_candle c = candle(n, close, 0);
        sim_signal out;
        assert_int_equal(o->on_candle(s, &c, &pos, &out), 0);
        n++;
        if (out.n_orders) {
            trades++;
            pos.qty = out.orders[0].intent == SIM_INTENT_ENTER_LONG ? 1 : 0;
        }
        if (n < 30)
            continue;
        int64_t sf = 0, ss = 0;
        for (int i = n - 30; i < n; i++)
            ss += closes[i], sf += i >= n - 10 ? closes[i] : 0;
        int tie = (out.indicators[0] - out.indicators[1]) == 0.0;
        assert_int_equal(tie, 3 * sf == ss);
        assert_int_equal(out.indicators[0] > out.indicators[1], 3 * sf > ss);
        ties += tie;
    }
    fclose(f);
    o->free(s);
    assert_true(n > 30000);
    assert_true(ties > 100);
    assert_true(trades > 10);
}

/* ------------------------------------------------------------ plugins */

static void test_plugin_load(void **st)
{
    (void)st;
    char path[1024];
    const char *bd = getenv("PT_BUILD_DIR");
    assert_non_null(bd);
    snprintf(path, sizeof path, "%s/examples/libmystrat.so", bd);
    const sim_strategy_ops *o = NULL;
    void *h = NULL;
    assert_int_equal(sim_strategy_load(path, &o, &h), 0);
    assert_non_null(o);
    assert_non_null(h);
    assert_string_equal(o->name, "mystrat");
    /* lookback 2, threshold 15%: 2: 11/10 = +10%; 3: 12/10 enter;
     * 4: 12/11 still up; 5: 11/12 < 0 exit */
    const char *kv[] = {"lookback=2", "threshold_pct=15"};
    void *s = make(o, kv, 2);
    char got[16];
    run(o, s, (double[]){10, 10, 11, 12, 12, 11}, 6, 0, got, NULL);
    o->free(s);
    assert_string_equal(got, "...E.X");
    sim_strategy_unload(h);
}

static void test_plugin_failures(void **st)
{
    (void)st;
    const sim_strategy_ops *o = (void *)1;
    void *h = (void *)1;
    char path[1024], err[256];
    pt_log_set_stderr(0);
    /* missing file */
    assert_int_equal(sim_strategy_load("/nonexistent/libnope.so", &o, &h), PT_ENOENT);
    assert_null(o);
    assert_null(h);
    assert_int_equal(sim_strategy_load("libnope-in-cwd.so", &o, &h), PT_ENOENT);
    /* a real shared library without the entry point */
    Dl_info info;
    assert_int_not_equal(dladdr((void *)(uintptr_t)&_cmocka_run_group_tests, &info), 0);
    snprintf(path, sizeof path, "%s", info.dli_fname);
    assert_non_null(strchr(path, '/'));
    assert_int_equal(sim_strategy_load(path, &o, &h), PT_EINVAL);
    assert_null(h);
    pt_log_set_stderr(1);
    /* wrong ABI and missing functions are refused by the structural check
     * that sim_strategy_load applies to every plugin table */
    sim_strategy_ops bad = *sim_strategy_builtin("sma_cross");
    bad.abi = SIM_STRATEGY_ABI + 1;
    assert_int_equal(sim_strategy_validate(&bad, "x.so", err, sizeof err), PT_EINVAL);
    assert_non_null(strstr(err, "ABI"));
    bad.abi = SIM_STRATEGY_ABI;
    bad.on_candle = NULL;
    assert_int_equal(sim_strategy_validate(&bad, "x.so", err, sizeof err), PT_EINVAL);
    bad = *sim_strategy_builtin("sma_cross");
    bad.n_params = SIM_MAX_PARAMS + 1;
    assert_int_equal(sim_strategy_validate(&bad, "x.so", err, sizeof err), PT_EINVAL);
    bad = *sim_strategy_builtin("sma_cross");
    sim_param_spec ps[2] = {{"fast", 0, 1, 10, 1, ""}, {"slow", 5, 1, 10, 1, ""}};
    bad.params = ps;
    assert_int_equal(sim_strategy_validate(&bad, "x.so", err, sizeof err), PT_EINVAL);
    assert_non_null(strstr(err, "'fast'"));
    assert_int_equal(sim_strategy_validate(NULL, "x.so", err, sizeof err), PT_EINVAL);
}

/* --allow-short: the symmetric built-ins short on the down signal and
 * reverse (exit first) on the opposite one; rsi and bollinger never short;
 * without allow_short every built-in emits exactly what it did long-only. */
static void both_sides(const char *name, int allow, char *got, int n)
{
    const sim_strategy_ops *ops = sim_strategy_builtin(name);
    void *st = make(ops, NULL, 0);
    sim_position_view pos = {.allow_short = allow};
    for (int i = 0; i < n; i++) {
        /* a slow wave with a faster ripple: crosses and breakouts both ways */
        double close = 100 + 10 * sin(i / 9.0) + 2 * sin(i / 2.3);
        pt_candle c = candle(i, close, 0.5);
        sim_signal out;
        assert_int_equal(ops->on_candle(st, &c, &pos, &out), 0);
        got[i] = '.';
        for (int k = 0; k < out.n_orders; k++) {
            sim_intent in = out.orders[k].intent;
            if (in == SIM_INTENT_EXIT_LONG || in == SIM_INTENT_EXIT_SHORT) {
                /* long-only: a lone exit; with shorts: a reversal's first half */
                assert_true(allow && sim_strategy_shorts(ops) == 1 ? k == 0 && out.n_orders == 2
                                                                : in == SIM_INTENT_EXIT_LONG);
                assert_true(in == SIM_INTENT_EXIT_LONG ? pos.qty > 0 : pos.qty < 0);
                pos.qty = 0;
                got[i] = 'x';
            } else if (in == SIM_INTENT_ENTER_LONG || in == SIM_INTENT_ENTER_SHORT) {
                assert_true(pos.qty == 0);
                pos.qty = in == SIM_INTENT_ENTER_LONG ? 1 : -1;
                got[i] = out.n_orders == 2 ? (pos.qty > 0 ? 'L' : 'S') : (pos.qty > 0 ? 'l' : 's');
            }
        }
        assert_true(out.n_orders <= (allow ? 2 : 1));
    }
    got[n] = 0;
    ops->free(st);
}

static void test_allow_short(void **unused)
{
    (void)unused;
    enum { N = 600 };
    static const char *const sym[] = {"sma_cross", "ema_cross", "macd", "donchian"};
    static const char *const never[] = {"rsi", "bollinger"};
    char a[N + 1], b[N + 1];
    for (int i = 0; i < 4; i++) {
        assert_int_equal(sim_strategy_shorts(sim_strategy_builtin(sym[i])), 1);
        both_sides(sym[i], 1, a, N);
        both_sides(sym[i], 0, b, N);
        assert_non_null(strchr(a, 'S')); /* reversed into a short */
        assert_non_null(strchr(a, 'L')); /* and back into a long */
        assert_null(strchr(a, 'x'));     /* never a lone exit: always reverses */
        assert_null(strchr(b, 's'));
        assert_null(strchr(b, 'S'));
        assert_non_null(strchr(b, 'l'));
        assert_string_not_equal(a, b);
    }
    for (int i = 0; i < 2; i++) {
        assert_int_equal(sim_strategy_shorts(sim_strategy_builtin(never[i])), 0);
        both_sides(never[i], 1, a, N);
        both_sides(never[i], 0, b, N);
        assert_string_equal(a, b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry),
        cmocka_unit_test(test_params),
        cmocka_unit_test(test_cross_param_validation),
        cmocka_unit_test(test_sma_cross_rules),
        cmocka_unit_test(test_sma_cross_indicators_nan_until_warm),
        cmocka_unit_test(test_ema_cross),
        cmocka_unit_test(test_rsi),
        cmocka_unit_test(test_bollinger),
        cmocka_unit_test(test_donchian),
        cmocka_unit_test(test_macd),
        cmocka_unit_test(test_allow_short),
        cmocka_unit_test(test_nonfinite_candle),
        cmocka_unit_test(test_backtrader_ties_exact),
        cmocka_unit_test(test_plugin_load),
        cmocka_unit_test(test_plugin_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
