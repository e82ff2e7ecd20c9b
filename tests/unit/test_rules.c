/* trading rules (docs/rules.md): exact decimals and rounding on awkward
 * grids, refusals, rules.json round trip, the venues' metadata answers, the
 * [symbol.NAME] config section, and the engine applying them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "feed.h"
#include "ops.h"
#include "portfolio.h"
#include "sim.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pf_dec D(const char *t)
{
    pf_dec d;
    assert_int_equal(pf_dec_parse(t, &d, NULL), PT_OK);
    return d;
}

static void test_dec_parse_format(void **st)
{
    (void)st;
    const char *in[] = {"0.00100000", "5", "1.5", "0.5", "10.00000000", "0.00000001", "100", "0.1"};
    const char *out[] = {"0.001", "5", "1.5", "0.5", "10", "0.00000001", "100", "0.1"};
    char b[40];
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        pf_dec_format(D(in[i]), b, sizeof b);
        assert_string_equal(b, out[i]);
    }
    assert_int_equal(D("0.00001").m, 1);
    assert_int_equal(D("0.00001").e, 5);
    pf_dec d;
    const char *why = NULL;
    const char *bad[] = {"", ".", "-1", "1e-5", "0", "0.000", "abc", "1.2.3", "0.0000000000000000001"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(pf_dec_parse(bad[i], &d, &why), PT_EINVAL);
        assert_non_null(why);
    }
}

/* Every result is a grid point (k * step as the nearest double) and the
 * largest one not above x: checked against an exact decimal walk. */
static void test_round_awkward_steps(void **st)
{
    (void)st;
    pf_dec s5 = D("0.00001"), s1 = D("0.1");
    /* 0.1 + 0.2 and 0.3 both round to 0.3 on a 0.1 grid: no float drift */
    assert_true(pf_dec_round(0.1 + 0.2, s1, 0) == 0.3);
    assert_true(pf_dec_round(0.3, s1, 0) == 0.3);
    assert_true(pf_dec_round(0.3, s1, 1) == 0.3);
    assert_true(pf_dec_round(0.29999, s1, 0) == 0.2);
    assert_true(pf_dec_round(0.29999, s1, 1) == 0.3);
    assert_true(pf_dec_round(1.00001, s5, 0) == 1.00001);
    assert_true(pf_dec_round(1.000019999, s5, 0) == 1.00001);
    assert_true(pf_dec_round(1.000010001, s5, 1) == 1.00002);
    assert_true(pf_dec_round(0.000009, s5, 0) == 0);
    /* many sums of steps: each lands back on its own grid point */
    double acc = 0;
    for (int k = 1; k <= 100000; k++) {
        acc += 0.00001;
        double want = (double)k / 100000.0;
        assert_true(pf_dec_round(acc, s5, 0) == want || pf_dec_round(acc, s5, 0) == (double)(k - 1) / 100000.0);
        assert_true(pf_dec_round(want, s5, 0) == want);
        assert_true(pf_dec_round(want, s5, 1) == want);
    }
    /* steps above 1 and a grid finer than the double: untouched */
    assert_true(pf_dec_round(629541.8, D("100"), 0) == 629500);
    assert_true(pf_dec_round(1e12 + 0.5, D("0.00000001"), 0) == 1e12 + 0.5);
    assert_true(pf_dec_round(5.0, (pf_dec){0, 0}, 0) == 5.0);
}

static void test_check(void **st)
{
    (void)st;
    pf_rules r;
    memset(&r, 0, sizeof r);
    r.step = D("0.0001"), r.min_qty = D("0.001"), r.min_notional = D("5");
    char why[200];
    assert_int_equal(pf_rules_check(&r, 0.01, 1000, why, sizeof why), PT_OK);
    assert_int_equal(pf_rules_check(&r, 0.0009, 100000, why, sizeof why), PT_ERANGE);
    assert_non_null(strstr(why, "min_qty"));
    assert_int_equal(pf_rules_check(&r, 0.002, 1000, why, sizeof why), PT_ERANGE);
    assert_non_null(strstr(why, "order value 2 is below the minimum order value 5"));
    assert_int_equal(pf_rules_check(&r, 0, 1000, why, sizeof why), PT_ERANGE);
    assert_non_null(strstr(why, "lot step 0.0001"));
}

static void test_file_round_trip(void **st)
{
    (void)st;
    pf_rules_set a, b;
    memset(&a, 0, sizeof a);
    snprintf(a.source, sizeof a.source, "binance metadata");
    assert_int_equal(pf_rules_set_field(&a, "BTCUSDT", "tick_size", "0.01000000", NULL), PT_OK);
    assert_int_equal(pf_rules_set_field(&a, "BTCUSDT", "lot_step", "0.00001000", NULL), PT_OK);
    assert_int_equal(pf_rules_set_field(&a, "ETHBTC", "min_notional", "0.0001", NULL), PT_OK);
    assert_int_equal(pf_rules_set_field(&a, "ETHBTC", "nope", "1", NULL), PT_EINVAL);
    char dir[] = "/tmp/pt_rules_XXXXXX", path[64];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/rules.json", dir);
    assert_int_equal(pf_rules_write(path, &a), PT_OK);
    assert_int_equal(pf_rules_read(path, &b), PT_OK);
    assert_int_equal(b.n, 2);
    assert_string_equal(b.source, "binance metadata");
    const pf_rules *rb = pf_rules_find(&b, "BTCUSDT");
    assert_true(rb->tick.m == 1 && rb->tick.e == 2 && rb->step.m == 1 && rb->step.e == 5 && !rb->min_qty.m);
    assert_int_equal(pf_rules_find(&b, "ETHBTC")->min_notional.m, 1);
    /* a bad field names itself */
    FILE *f = fopen(path, "w");
    fputs("{\"symbols\":{\"X\":{\"tick_size\":\"-1\"}}}", f);
    fclose(f);
    assert_int_equal(pf_rules_read(path, &b), PT_EINVAL);
    f = fopen(path, "w");
    fputs("{\"symbols\":[", f);
    fclose(f);
    assert_int_equal(pf_rules_read(path, &b), PT_EPARSE);
    unlink(path);
    assert_int_equal(pf_rules_read(path, &b), PT_ENOENT);
    rmdir(dir);
}

/* The filter objects of https://developers.binance.com/docs/binance-spot-api-docs/filters
 * (PRICE_FILTER, LOT_SIZE, MIN_NOTIONAL and NOTIONAL examples) inside the
 * exchangeInfo shape of rest-api general-endpoints. */
static const char bn_info[] =
    "{\"timezone\":\"UTC\",\"serverTime\":1565246363776,\"rateLimits\":[],\"exchangeFilters\":[],"
    "\"symbols\":[{\"symbol\":\"ETHBTC\",\"status\":\"TRADING\",\"baseAsset\":\"ETH\",\"filters\":["
    "{\"filterType\":\"PRICE_FILTER\",\"minPrice\":\"0.00000100\",\"maxPrice\":\"100000.00000000\","
    "\"tickSize\":\"0.00000100\"},"
    "{\"filterType\":\"LOT_SIZE\",\"minQty\":\"0.00100000\",\"maxQty\":\"100000.00000000\",\"stepSize\":\"0.00100000\"},"
    "{\"filterType\":\"MIN_NOTIONAL\",\"minNotional\":\"0.00100000\",\"applyToMarket\":true,\"avgPriceMins\":5}]},"
    "{\"symbol\":\"BTCUSDT\",\"status\":\"TRADING\",\"filters\":["
    "{\"filterType\":\"PRICE_FILTER\",\"minPrice\":\"0.01000000\",\"maxPrice\":\"1000000.00000000\","
    "\"tickSize\":\"0.01000000\"},"
    "{\"filterType\":\"LOT_SIZE\",\"minQty\":\"0.00001000\",\"maxQty\":\"9000.00000000\",\"stepSize\":\"0.00001000\"},"
    "{\"filterType\":\"NOTIONAL\",\"minNotional\":\"10.00000000\",\"applyMinToMarket\":false,"
    "\"maxNotional\":\"10000.00000000\",\"applyMaxToMarket\":false,\"avgPriceMins\":5}]}]}";

static void test_parse_binance(void **st)
{
    (void)st;
    const char *syms[] = {"BTCUSDT", "ETHBTC"};
    pf_rules_set s;
    char err[200];
    memset(&s, 0, sizeof s);
    assert_int_equal(feed_rules_parse("binance", bn_info, strlen(bn_info), syms, 2, &s, err, sizeof err), PT_OK);
    const pf_rules *b = pf_rules_find(&s, "BTCUSDT"), *e = pf_rules_find(&s, "ETHBTC");
    assert_non_null(b);
    assert_non_null(e);
    char t[40];
    pf_dec_format(b->tick, t, sizeof t), assert_string_equal(t, "0.01");
    pf_dec_format(b->step, t, sizeof t), assert_string_equal(t, "0.00001");
    pf_dec_format(b->min_notional, t, sizeof t), assert_string_equal(t, "10");
    pf_dec_format(e->min_notional, t, sizeof t), assert_string_equal(t, "0.001");
    pf_dec_format(e->tick, t, sizeof t), assert_string_equal(t, "0.000001");
    /* a symbol the answer lacks; the venue's refusal quoted; garbage */
    const char *more[] = {"BTCUSDT", "NOPE"};
    memset(&s, 0, sizeof s);
    assert_int_equal(feed_rules_parse("binance", bn_info, strlen(bn_info), more, 2, &s, err, sizeof err), PT_ENOENT);
    assert_non_null(strstr(err, "NOPE"));
    assert_non_null(pf_rules_find(&s, "BTCUSDT"));
    const char refused[] = "{\"code\":-1121,\"msg\":\"Invalid symbol.\"}";
    assert_int_equal(feed_rules_parse("binance", refused, strlen(refused), syms, 2, &s, err, sizeof err), PT_EINVAL);
    assert_string_equal(err, "Invalid symbol.");
    assert_int_equal(feed_rules_parse("binance", bn_info, 40, syms, 2, &s, err, sizeof err), PT_EPARSE);
    assert_int_equal(feed_rules_parse("nosuch", bn_info, 1, syms, 2, &s, err, sizeof err), PT_EUNSUPPORTED);
}

/* The fields of https://docs.bitvavo.com/docs/rest-api/get-markets as
 * documented (tickSize since v2.12.0, pricePrecision null). */
static const char bv_markets[] =
    "[{\"market\":\"BTC-EUR\",\"status\":\"trading\",\"base\":\"BTC\",\"quote\":\"EUR\",\"pricePrecision\":null,"
    "\"minOrderInBaseAsset\":\"0.0001\",\"minOrderInQuoteAsset\":\"5\",\"maxOrderInBaseAsset\":\"1000000000\","
    "\"maxOrderInQuoteAsset\":\"1000000000\",\"quantityDecimals\":8,\"notionalDecimals\":2,\"tickSize\":\"1.00\","
    "\"maxOpenOrders\":100,\"feeCategory\":\"A\",\"orderTypes\":[\"market\",\"limit\"]},"
    "{\"market\":\"SHIB-EUR\",\"status\":\"trading\",\"pricePrecision\":5,\"minOrderInBaseAsset\":\"1\","
    "\"minOrderInQuoteAsset\":\"5\",\"quantityDecimals\":0}]";

static void test_parse_bitvavo(void **st)
{
    (void)st;
    const char *syms[] = {"BTC-EUR", "SHIB-EUR"};
    pf_rules_set s;
    char err[200], t[40];
    memset(&s, 0, sizeof s);
    assert_int_equal(feed_rules_parse("bitvavo", bv_markets, strlen(bv_markets), syms, 2, &s, err, sizeof err),
                     PT_OK);
    const pf_rules *b = pf_rules_find(&s, "BTC-EUR"), *h = pf_rules_find(&s, "SHIB-EUR");
    pf_dec_format(b->tick, t, sizeof t), assert_string_equal(t, "1");
    pf_dec_format(b->step, t, sizeof t), assert_string_equal(t, "0.00000001");
    pf_dec_format(b->min_qty, t, sizeof t), assert_string_equal(t, "0.0001");
    pf_dec_format(b->min_notional, t, sizeof t), assert_string_equal(t, "5");
    /* an older answer: significant digits are no tick */
    assert_int_equal(h->tick.m, 0);
    pf_dec_format(h->step, t, sizeof t), assert_string_equal(t, "1");
    const char refused[] = "{\"errorCode\":205,\"error\":\"market parameter is invalid.\"}";
    assert_int_equal(feed_rules_parse("bitvavo", refused, strlen(refused), syms, 2, &s, err, sizeof err),
                     PT_EINVAL);
    assert_string_equal(err, "market parameter is invalid.");
}

/* The shapes of https://bybit-exchange.github.io/docs/v5/market/instrument
 * (spot) and https://www.okx.com/docs-v5/en/#public-data-rest-api-get-instruments. */
static void test_parse_bybit_okx(void **st)
{
    (void)st;
    const char by[] = "{\"retCode\":0,\"retMsg\":\"OK\",\"result\":{\"category\":\"spot\",\"list\":[{\"symbol\":"
                      "\"BTCUSDT\",\"baseCoin\":\"BTC\",\"quoteCoin\":\"USDT\",\"status\":\"Trading\",\"lotSizeFilter\":"
                      "{\"basePrecision\":\"0.000001\",\"quotePrecision\":\"0.00000001\",\"minOrderQty\":\"0.000048\","
                      "\"maxOrderQty\":\"71.73956243\",\"minOrderAmt\":\"1\",\"maxOrderAmt\":\"2000000\"},\"priceFilter\":"
                      "{\"tickSize\":\"0.01\"}}]},\"retExtInfo\":{},\"time\":1701058223355}";
    const char ok[] = "{\"code\":\"0\",\"data\":[{\"instId\":\"BTC-USDT\",\"instType\":\"SPOT\",\"lotSz\":\"0.00000001\","
                      "\"minSz\":\"0.00001\",\"tickSz\":\"0.1\",\"state\":\"live\"}],\"msg\":\"\"}";
    const char *bs[] = {"BTCUSDT"}, *os[] = {"BTC-USDT"};
    pf_rules_set s;
    char err[200], t[40];
    memset(&s, 0, sizeof s);
    assert_int_equal(feed_rules_parse("bybit", by, strlen(by), bs, 1, &s, err, sizeof err), PT_OK);
    const pf_rules *r = pf_rules_find(&s, "BTCUSDT");
    pf_dec_format(r->step, t, sizeof t), assert_string_equal(t, "0.000001");
    pf_dec_format(r->min_qty, t, sizeof t), assert_string_equal(t, "0.000048");
    pf_dec_format(r->min_notional, t, sizeof t), assert_string_equal(t, "1");
    pf_dec_format(r->tick, t, sizeof t), assert_string_equal(t, "0.01");
    memset(&s, 0, sizeof s);
    assert_int_equal(feed_rules_parse("okx", ok, strlen(ok), os, 1, &s, err, sizeof err), PT_OK);
    r = pf_rules_find(&s, "BTC-USDT");
    pf_dec_format(r->step, t, sizeof t), assert_string_equal(t, "0.00000001");
    pf_dec_format(r->tick, t, sizeof t), assert_string_equal(t, "0.1");
    assert_int_equal(r->min_notional.m, 0);
    const char bad[] = "{\"code\":\"51001\",\"msg\":\"Instrument ID does not exist\",\"data\":[]}";
    assert_int_equal(feed_rules_parse("okx", bad, strlen(bad), os, 1, &s, err, sizeof err), PT_EINVAL);
    assert_string_equal(err, "Instrument ID does not exist");
}

static void test_config_symbol_section(void **st)
{
    (void)st;
    ops_config *c;
    assert_int_equal(ops_config_new(&c), PT_OK);
    assert_int_equal(ops_config_set(c, "symbol.BTCUSDT", "tick_size", "0.01", "t"), PT_OK);
    assert_int_equal(ops_config_set(c, "symbol.ETH-EUR", "min_notional", "5", "t"), PT_OK);
    assert_int_equal(ops_config_set(c, "symbol.BTCUSDT", "lot_step", "0.00001", "t"), PT_OK);
    assert_int_equal(ops_config_set(c, "symbol.BTCUSDT", "tick_sise", "0.01", "t"), PT_EINVAL);
    assert_int_equal(ops_config_set(c, "symbol.BTCUSDT", "lot_step", "-1", "t"), PT_EINVAL);
    assert_string_equal(ops_config_symbol_at(c, 0), "BTCUSDT");
    assert_string_equal(ops_config_symbol_at(c, 1), "ETH-EUR");
    assert_null(ops_config_symbol_at(c, 2));
    assert_string_equal(ops_config_get(c, "symbol.BTCUSDT", "lot_step"), "0.00001");
    assert_null(ops_config_get(c, "symbol.ETH-EUR", "lot_step"));
    assert_null(ops_config_get(c, "symbol.XRP", "lot_step"));
    ops_config_free(c);
}

/* ------------------------------------------------------------ engine */
static int g_calls;
static sim_order_request g_rq;
static int one_create(const double *v, void **s, char *e, size_t n)
{
    (void)v, (void)e, (void)n;
    *s = &g_calls;
    return 0;
}
static int one_on_candle(void *s, const pt_candle *c, const sim_position_view *p, sim_signal *out)
{
    (void)s, (void)c, (void)p;
    if (++g_calls == 1)
        out->orders[out->n_orders++] = g_rq;
    return 0;
}
static void one_free(void *s) { (void)s; }
static const sim_strategy_ops one_ops = {SIM_STRATEGY_ABI, "one", "test", NULL, 0, NULL, 0,
                                         one_create,       one_on_candle, one_free};

typedef struct seen {
    int fills, alerts, rejected;
    double qty, limit;
    char alert[256];
} seen;
static void s_fill(void *ud, const pf_fill *f, const pf_fill_result *r)
{
    (void)r;
    ((seen *)ud)->fills++, ((seen *)ud)->qty = f->qty;
}
static void s_order(void *ud, const sim_order_event *ev)
{
    seen *x = ud;
    if (ev->status == SIM_ORDER_NEW)
        x->limit = ev->limit_price;
    x->rejected += ev->status == SIM_ORDER_REJECTED;
}
static void s_alert(void *ud, const sim_alert *a)
{
    seen *x = ud;
    if (!strcmp(a->kind, "order_rules"))
        x->alerts++, snprintf(x->alert, sizeof x->alert, "%s", a->message);
}

static seen run(const pf_rules_set *rules, sim_order_request rq, double cash, const char *sizing)
{
    sim_engine_config cfg;
    sim_engine_config_default(&cfg);
    cfg.strategy = &one_ops;
    cfg.min_quality = 0;
    cfg.cash = cash;
    cfg.rules = rules;
    assert_int_equal(sim_sizing_parse(sizing, &cfg.sizing), PT_OK);
    g_calls = 0;
    g_rq = rq;
    seen x;
    memset(&x, 0, sizeof x);
    const sim_hooks h = {NULL, s_order, s_fill, NULL, s_alert};
    sim_engine *e;
    assert_int_equal(sim_engine_new(&cfg, &h, &x, &e), PT_OK);
    for (int i = 0; i < 3; i++) {
        pt_candle k;
        memset(&k, 0, sizeof k);
        k.ts_ms = 60000LL * i, k.open = 30000.123, k.high = 30100, k.low = 29000, k.close = 30000.5;
        k.volume = 1000, k.closed = 1;
        snprintf(k.symbol, sizeof k.symbol, "BTCUSDT");
        sim_engine_on_candle(e, &k);
    }
    sim_engine_free(e);
    return x;
}

static void test_engine_applies_rules(void **st)
{
    (void)st;
    pf_rules_set r;
    memset(&r, 0, sizeof r);
    pf_rules_set_field(&r, "BTCUSDT", "tick_size", "0.1", NULL);
    pf_rules_set_field(&r, "BTCUSDT", "lot_step", "0.00001", NULL);
    pf_rules_set_field(&r, "BTCUSDT", "min_notional", "10", NULL);
    sim_order_request mkt = {.intent = SIM_INTENT_ENTER_LONG, .type = SIM_ORDER_MARKET, .reason = "t"};
    /* all-in: the quantity lands on the lot step, below what the cash pays */
    seen a = run(&r, mkt, 10000, "all-in"), none = run(NULL, mkt, 10000, "all-in");
    assert_int_equal(a.fills, 1);
    assert_true(a.qty == pf_dec_round(none.qty, (pf_dec){1, 5}, 0) && a.qty < none.qty);
    assert_true(a.qty * 100000 == floor(a.qty * 100000 + 0.5));
    /* 9 quote: below the minimum order value, refused with the alert */
    seen b = run(&r, mkt, 10000, "quote:9");
    assert_int_equal(b.fills, 0);
    assert_int_equal(b.alerts, 1);
    assert_int_equal(b.rejected, 1);
    assert_non_null(strstr(b.alert, "below the minimum order value 10 (min_notional)"));
    /* a buy limit at 29999.97 rests at 29999.9 (down: never pays more), a sell-side take-profit rounds up */
    sim_order_request lim = {.intent = SIM_INTENT_ENTER_LONG, .type = SIM_ORDER_LIMIT, .limit_price = 29999.97,
                             .reason = "t"};
    seen c = run(&r, lim, 10000, "quote:1000");
    assert_true(c.limit == 29999.9);
    /* without rules nothing moves */
    seen d = run(NULL, lim, 10000, "quote:9");
    assert_true(d.limit == 29999.97);
    assert_int_equal(d.fills, 1);
    assert_int_equal(d.alerts, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dec_parse_format), cmocka_unit_test(test_round_awkward_steps),
        cmocka_unit_test(test_check),            cmocka_unit_test(test_file_round_trip),
        cmocka_unit_test(test_parse_binance),    cmocka_unit_test(test_parse_bitvavo),
        cmocka_unit_test(test_parse_bybit_okx),  cmocka_unit_test(test_config_symbol_section),
        cmocka_unit_test(test_engine_applies_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
