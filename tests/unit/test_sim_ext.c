/* External strategies' engine side: the indicators a strategy asks for
 * (sim_ext_ind.c) are bit for bit the values the built-ins report for the
 * same candles; numbers on the wire round-trip; a program path is told
 * apart from built-ins and plugins. The child itself is exercised by
 * tests/integration/ext_strategy.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "sim_ext_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define N 3000

/* A random walk with real-looking highs and lows, some flat stretches
 * (ties for crossovers, zero moves for RSI). */
static void walk(pt_candle *c, int n)
{
    uint64_t s = 0x9e3779b97f4a7c15ULL;
    double px = 100;
    for (int i = 0; i < n; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        double r = (double)(s >> 11) / 9007199254740992.0;
        double step = (i / 200) % 5 == 4 ? 0 : (r - 0.5) * 0.8;
        double o = px;
        px = px + step;
        memset(&c[i], 0, sizeof c[i]);
        snprintf(c[i].symbol, sizeof c[i].symbol, "TEST");
        c[i].ts_ms = 1600000000000LL + i * 60000LL;
        c[i].open = o;
        c[i].close = px;
        c[i].high = (o > px ? o : px) + r * 0.3;
        c[i].low = (o < px ? o : px) - (1 - r) * 0.3;
        c[i].volume = 1 + r;
        c[i].closed = 1;
    }
}

static int same(double a, double b)
{
    return (isnan(a) && isnan(b)) || !memcmp(&a, &b, sizeof a);
}

/* Run built-in `name` with default params and the ext indicator spec; the
 * built-in's reported indicator i must equal output map[i] of the ext. lag:
 * compare the ext's value one candle later (donchian reports the channel
 * after the update, the ext sends the channel before the candle). */
static void compare(const char *name, const sim_ext_ind_spec *specs, int n_specs, const int *map,
                    int n_map, int lag)
{
    static pt_candle c[N];
    walk(c, N);
    const sim_strategy_ops *ops = sim_strategy_builtin(name);
    assert_non_null(ops);
    double values[SIM_MAX_PARAMS];
    char err[128];
    assert_int_equal(sim_strategy_params(ops, NULL, 0, values, err, sizeof err), PT_OK);
    void *st = NULL;
    assert_int_equal(ops->create(values, &st, err, sizeof err), PT_OK);
    sim_ext_ind_state *x = NULL;
    assert_int_equal(sim_ext_ind_new(specs, n_specs, &x), PT_OK);
    sim_position_view pos = {0, 0, 0, 0};
    static double prev[N][SIM_MAX_INDICATORS];
    int warm = 0;
    for (int t = 0; t < N; t++) {
        sim_signal sig;
        double v[SIM_EXT_MAX_IND * 3];
        ops->on_candle(st, &c[t], &pos, &sig);
        assert_int_equal(sim_ext_ind_update(x, &c[t], v), PT_OK);
        for (int i = 0; i < n_map; i++) {
            prev[t][i] = sig.indicators[i];
            if (t < lag)
                continue;
            double want = prev[t - lag][i];
            if (!same(want, v[map[i]])) {
                fprintf(stderr, "%s indicator %d at %d: built-in %.17g, ext %.17g\n", name, i, t,
                        want, v[map[i]]);
                fail();
            }
            warm += !isnan(want);
        }
    }
    assert_true(warm > N / 2); /* the comparison covered warm values, not just NaNs */
    sim_ext_ind_free(x);
    ops->free(st);
}

static void test_sma_ema_like_crosses(void **state)
{
    (void)state;
    sim_ext_ind_spec sma[2] = {{"fast", SIM_EXT_SMA, {10}, 2}, {"slow", SIM_EXT_SMA, {30}, 2}};
    sim_ext_ind_spec ema[2] = {{"fast", SIM_EXT_EMA, {12}, 2}, {"slow", SIM_EXT_EMA, {26}, 2}};
    int map[2] = {0, 3};
    compare("sma_cross", sma, 2, map, 2, 0);
    compare("ema_cross", ema, 2, map, 2, 0);
}

static void test_rsi_bollinger_macd(void **state)
{
    (void)state;
    sim_ext_ind_spec rsi = {"rsi", SIM_EXT_RSI, {14}, 2};
    sim_ext_ind_spec bb = {"bb", SIM_EXT_BOLLINGER, {20}, 2};
    sim_ext_ind_spec m = {"m", SIM_EXT_MACD, {12, 26, 9}, 2};
    int one[1] = {0}, three[3] = {0, 1, 2};
    compare("rsi", &rsi, 1, one, 1, 0);
    compare("bollinger", &bb, 1, three, 3, 0);
    compare("macd", &m, 1, three, 3, 0);
}

static void test_donchian_is_the_channel_before(void **state)
{
    (void)state;
    /* built-in defaults: entry 20 (highs), exit 10 (lows) */
    sim_ext_ind_spec d[2] = {{"hi", SIM_EXT_DONCHIAN, {20}, 2}, {"lo", SIM_EXT_DONCHIAN, {10}, 2}};
    int map[2] = {0, 4}; /* hi.upper, lo.lower */
    compare("donchian", d, 2, map, 2, 1);
}

static void test_atr_matches_library(void **state)
{
    (void)state;
    static pt_candle c[N];
    walk(c, N);
    sim_ext_ind_spec a = {"atr", SIM_EXT_ATR, {14}, 2};
    sim_ext_ind_state *x = NULL;
    assert_int_equal(sim_ext_ind_new(&a, 1, &x), PT_OK);
    sim_ind_atr ref;
    assert_int_equal(sim_ind_atr_init(&ref, 14), PT_OK);
    for (int t = 0; t < N; t++) {
        double v[3];
        assert_int_equal(sim_ext_ind_update(x, &c[t], v), PT_OK);
        sim_ind_atr_update(&ref, c[t].high, c[t].low, c[t].close);
        assert_true(same(v[0], ref.value));
    }
    pt_candle bad = c[0];
    bad.close = NAN;
    double v[3];
    assert_int_equal(sim_ext_ind_update(x, &bad, v), PT_EINVAL);
    sim_ext_ind_free(x);
}

static void test_bad_period_refused(void **state)
{
    (void)state;
    sim_ext_ind_spec s = {"x", SIM_EXT_SMA, {0}, 2};
    sim_ext_ind_state *x = (sim_ext_ind_state *)&s;
    assert_int_not_equal(sim_ext_ind_new(&s, 1, &x), PT_OK);
    assert_null(x);
    sim_ext_ind_kind k;
    assert_int_equal(sim_ext_ind_kind_parse("bollinger", &k), PT_OK);
    assert_int_equal(k, SIM_EXT_BOLLINGER);
    assert_int_equal(sim_ext_ind_kind_parse("vwap", &k), PT_ENOENT);
}

static void test_numbers_round_trip(void **state)
{
    (void)state;
    const double v[] = {0.1, 1.0 / 3, 0.00162008, 6291968.452019845, 1e-300, 123456789012345678.0,
                        -2.5, 5e-324, 1.7976931348623157e308};
    char b[40];
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        sim_ext_num(b, sizeof b, v[i]);
        assert_true(strtod(b, NULL) == v[i]);
    }
    sim_ext_num(b, sizeof b, NAN);
    assert_string_equal(b, "null");
    sim_ext_num(b, sizeof b, INFINITY);
    assert_string_equal(b, "null");
}

static void test_external_paths(void **state)
{
    (void)state;
    assert_true(sim_strategy_is_external("my.py"));
    assert_true(sim_strategy_is_external("dir/x.mjs"));
    assert_true(sim_strategy_is_external("/bin/sh")); /* any executable path */
    assert_false(sim_strategy_is_external("sma_cross"));
    assert_false(sim_strategy_is_external("./libmystrat.so"));
    assert_false(sim_strategy_is_external("./no/such/program"));
    assert_false(sim_strategy_is_external(NULL));
}

/* A program's warm-up: "warmup" in ready, else its engine indicators'. */
static const sim_strategy_ops *load_ready(const char *ready, char *path, void **dl)
{
    snprintf(path, 64, "/tmp/pt_warm_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fprintf(f, "#!/bin/sh\nread line\necho '%s'\nread line\n", ready);
    fclose(f);
    chmod(path, 0700);
    const sim_strategy_ops *ops = NULL;
    assert_int_equal(sim_strategy_load(path, &ops, dl), PT_OK);
    return ops;
}

static void test_external_warmup(void **state)
{
    (void)state;
    char path[64];
    void *dl = NULL;
    const sim_strategy_ops *ops = load_ready("{\"type\":\"ready\",\"warmup\":7}", path, &dl);
    assert_int_equal(sim_strategy_warmup(ops, NULL, NULL, 14), 7);
    sim_strategy_unload(dl);
    unlink(path);
    ops = load_ready("{\"type\":\"ready\",\"params\":[{\"name\":\"n\",\"default\":12,\"min\":1,\"max\":100,"
                     "\"integer\":true}],\"indicators\":[{\"name\":\"m\",\"kind\":\"sma\",\"period\":\"n\"}]}",
                     path, &dl);
    double v[1] = {20};
    assert_int_equal(sim_strategy_warmup(ops, v, NULL, 14), 21);
    sim_strategy_unload(dl);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sma_ema_like_crosses),
        cmocka_unit_test(test_rsi_bollinger_macd),
        cmocka_unit_test(test_donchian_is_the_channel_before),
        cmocka_unit_test(test_atr_matches_library),
        cmocka_unit_test(test_bad_period_refused),
        cmocka_unit_test(test_numbers_round_trip),
        cmocka_unit_test(test_external_paths),
        cmocka_unit_test(test_external_warmup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
