/* feed adapters: the exchanges' documented messages verbatim
 * (kline payload, serverShutdown, nested errors; Bitvavo subscribe/ack,
 * candle event, errors, REST candles) and malformed ones; each bad one is
 * dropped with a reason, never crashes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "feed_live_internal.h"

static feed_parse_out po;

static feed_msg_kind parse(const feed_adapter *ad, const char *msg, int64_t ival)
{
    ad->parse(msg, strlen(msg), ival, &po);
    return po.kind;
}
#define BN(m) parse(&feed_adapter_binance, (m), 60000)
#define BV(m) parse(&feed_adapter_bitvavo, (m), 60000)

static void test_find(void **st)
{
    (void)st;
    assert_ptr_equal(feed_adapter_find("binance"), &feed_adapter_binance);
    assert_ptr_equal(feed_adapter_find("bitvavo"), &feed_adapter_bitvavo);
    assert_null(feed_adapter_find("nosuchvenue"));
    assert_null(feed_adapter_find(NULL));
    char b[8];
    assert_int_equal(feed_adapter_binance.interval_name(60000, b, sizeof b), PT_OK);
    assert_string_equal(b, "1m");
    assert_int_equal(feed_adapter_binance.interval_name(7, b, sizeof b), PT_EUNSUPPORTED);
    assert_int_equal(feed_adapter_bitvavo.interval_name(1000, b, sizeof b), PT_EUNSUPPORTED);
}

static void test_binance_verbatim(void **st)
{
    (void)st;
    /* raw stream, wire (python-binance #834) */
    assert_int_equal(parse(&feed_adapter_binance,
        "{\"e\":\"kline\",\"E\":1621399903598,\"s\":\"BNBBTC\",\"k\":{\"t\":1621399860000,\"T\":1621399919999,\"s\":\"BNBBTC\",\"i\":\"1m\",\"f\":144143234,\"L\":144143776,\"o\":\"0.01074300\",\"c\":\"0.01067600\",\"h\":\"0.01074400\",\"l\":\"0.01065900\",\"v\":\"990.68000000\",\"n\":543,\"x\":false,\"q\":\"10.59152789\",\"V\":\"330.24000000\",\"Q\":\"3.53024252\",\"B\":\"0\"}}",
        60000), FEED_MSG_CANDLE);
    assert_int_equal(po.n, 1);
    assert_int_equal(po.candles[0].ts_ms, 1621399860000LL);
    assert_string_equal(po.candles[0].symbol, "BNBBTC");
    assert_true(po.candles[0].open == 0.010743 && po.candles[0].close == 0.010676);
    assert_true(po.candles[0].high == 0.010744 && po.candles[0].low == 0.010659);
    assert_true(po.candles[0].volume == 990.68);
    assert_int_equal(po.candles[0].closed, 0);
    assert_int_equal(po.event_ms, 1621399903598LL);
    /* combined stream, wire (unicorn #40) */
    assert_int_equal(BN("{\"stream\":\"btcusdt@kline_1m\",\"data\":{\"e\":\"kline\",\"E\":1582279449867,\"s\":\"BTCUSDT\",\"k\":{\"t\":1582279440000,\"T\":1582279499999,\"s\":\"BTCUSDT\",\"i\":\"1m\",\"f\":250359015,\"L\":250359050,\"o\":\"9660.88000000\",\"c\":\"9660.46000000\",\"h\":\"9661.44000000\",\"l\":\"9660.46000000\",\"v\":\"5.26631100\",\"n\":36,\"x\":false,\"q\":\"50876.23472509\",\"V\":\"1.03570800\",\"Q\":\"10005.97234818\",\"B\":\"0\"}}}"),
                     FEED_MSG_CANDLE);
    assert_string_equal(po.candles[0].symbol, "BTCUSDT");
    assert_true(po.candles[0].open == 9660.88);
    /* closed, no trades, no "B" key, 1s interval */
    assert_int_equal(parse(&feed_adapter_binance,
        "{\"e\":\"kline\",\"E\":1682244928001,\"s\":\"ETHUSDT\",\"k\":{\"t\":1682244927000,\"T\":1682244927999,\"s\":\"ETHUSDT\",\"i\":\"1s\",\"f\":-1,\"L\":-1,\"o\":\"1870.76000000\",\"c\":\"1870.76000000\",\"h\":\"1870.76000000\",\"l\":\"1870.76000000\",\"v\":\"0.00000000\",\"n\":0,\"x\":true,\"q\":\"0.00000000\",\"V\":\"0.00000000\",\"Q\":\"0.00000000\"}}",
        1000), FEED_MSG_CANDLE);
    assert_int_equal(po.candles[0].closed, 1);
    assert_true(po.candles[0].volume == 0.0);
    /* acks, errors (flat and nested), shutdown (raw and combined) */
    assert_int_equal(BN("{\"result\": null, \"id\": 1}"), FEED_MSG_ACK);
    assert_int_equal(BN("{\"error\":{\"code\":2,\"msg\":\"Invalid request: invalid stream\"},\"id\":1}"), FEED_MSG_DROP);
    assert_int_equal(po.reason, FEED_DROP_EXCHANGE_ERROR);
    assert_non_null(strstr(po.detail, "invalid stream"));
    assert_int_equal(BN("{\"code\": 0, \"msg\": \"Unknown property\",\"id\": 5}"), FEED_MSG_DROP);
    assert_int_equal(po.reason, FEED_DROP_EXCHANGE_ERROR);
    assert_int_equal(BN("{ \"e\": \"serverShutdown\", \"E\": 1770123456789 }"), FEED_MSG_SHUTDOWN);
    assert_int_equal(BN("{ \"stream\": \"!serverShutdown\", \"data\": { \"e\": \"serverShutdown\", \"E\": 1770123456789 } }"),
                     FEED_MSG_SHUTDOWN);
    assert_int_equal(BN("{\"e\":\"aggTrade\",\"E\":1}"), FEED_MSG_IGNORE);
}

#define KL(t, o, i, x) "{\"e\":\"kline\",\"E\":1621399903598,\"s\":\"BNBBTC\",\"k\":{\"t\":" t ",\"s\":\"BNBBTC\",\"i\":\"" i "\",\"o\":" o ",\"c\":\"1\",\"h\":\"1\",\"l\":\"1\",\"v\":\"1\",\"x\":" x "}}"

static void expect_drop(const char *msg, feed_drop_reason r)
{
    if (BN(msg) != FEED_MSG_DROP || po.reason != r)
        fail_msg("msg %.60s: kind %d reason %s (%s), wanted %s", msg, po.kind, feed_drop_name(po.reason),
                 po.detail, feed_drop_name(r));
}

static void test_binance_malformed(void **st)
{
    (void)st;
    assert_int_equal(BN(KL("1621399860000", "\"1.5\"", "1m", "true")), FEED_MSG_CANDLE); /* the control */
    /* W1 invalid JSON, trailing garbage */
    expect_drop("{\"e\":", FEED_DROP_INVALID_JSON);
    expect_drop(KL("1621399860000", "\"1.5\"", "1m", "true") "x", FEED_DROP_INVALID_JSON);
    expect_drop("", FEED_DROP_INVALID_JSON);
    /* W2 wrong shape */
    expect_drop("[1,2,3]", FEED_DROP_SCHEMA);
    expect_drop("{\"e\":\"kline\",\"E\":1621399903598}", FEED_DROP_SCHEMA);
    expect_drop("{\"e\":\"kline\",\"k\":[]}", FEED_DROP_SCHEMA);
    expect_drop("{\"e\":\"kline\",\"k\":{\"s\":\"BNBBTC\",\"i\":\"1m\",\"o\":\"1\",\"x\":true}}", FEED_DROP_BAD_TIME);
    expect_drop("{\"stream\":\"x\",\"data\":5}", FEED_DROP_SCHEMA);
    expect_drop("{\"noevent\":1}", FEED_DROP_SCHEMA);
    expect_drop(KL("1621399860000", "\"1.5\"", "1m", "\"yes\""), FEED_DROP_SCHEMA);
    /* W3 number where a string is documented; string where a number is */
    expect_drop(KL("1621399860000", "1.5", "1m", "true"), FEED_DROP_BAD_NUMBER);
    expect_drop(KL("\"1621399860000x\"", "\"1.5\"", "1m", "true"), FEED_DROP_BAD_TIME);
    /* W4 number edge cases */
    expect_drop(KL("1e999", "\"1.5\"", "1m", "true"), FEED_DROP_BAD_TIME);
    expect_drop(KL("123456789012345678901234567890", "\"1.5\"", "1m", "true"), FEED_DROP_BAD_TIME);
    expect_drop(KL("1621399860000.5", "\"1.5\"", "1m", "true"), FEED_DROP_BAD_TIME);
    expect_drop(KL("1621399860000", "\"1e999\"", "1m", "true"), FEED_DROP_BAD_NUMBER);
    expect_drop(KL("1621399860000", "\"-0\"", "1m", "true"), FEED_DROP_BAD_NUMBER);
    expect_drop(KL("1621399860000", "\"0\"", "1m", "true"), FEED_DROP_BAD_NUMBER);
    expect_drop(KL("1621399860000", "\"nan\"", "1m", "true"), FEED_DROP_BAD_NUMBER);
    expect_drop(KL("1621399860000", "\"-1.5\"", "1m", "true"), FEED_DROP_BAD_NUMBER);
    expect_drop(KL("1621399860", "\"1.5\"", "1m", "true"), FEED_DROP_BAD_TIME); /* seconds, not ms */
    /* W5 duplicate keys: cJSON keeps the first (documented) */
    assert_int_equal(BN("{\"e\":\"kline\",\"k\":{\"t\":1621399860000,\"t\":5,\"s\":\"BNBBTC\",\"i\":\"1m\",\"o\":\"1\",\"c\":\"1\",\"h\":\"1\",\"l\":\"1\",\"v\":\"1\",\"x\":true}}"),
                     FEED_MSG_CANDLE);
    assert_int_equal(po.candles[0].ts_ms, 1621399860000LL);
    /* W6 deep nesting */
    char *deep = malloc(1200 * 2 + 1);
    for (int i = 0; i < 1200; i++) {
        deep[i] = '[';
        deep[1200 + i] = ']';
    }
    deep[2400] = 0;
    expect_drop(deep, FEED_DROP_INVALID_JSON);
    free(deep);
    /* W12 wrong interval; bad symbol text */
    expect_drop(KL("1621399860000", "\"1.5\"", "5m", "true"), FEED_DROP_WRONG_INTERVAL);
    expect_drop("{\"e\":\"kline\",\"k\":{\"t\":1621399860000,\"s\":\"BN B\\u0000\",\"i\":\"1m\",\"o\":\"1\",\"c\":\"1\",\"h\":\"1\",\"l\":\"1\",\"v\":\"1\",\"x\":true}}",
                FEED_DROP_SCHEMA);
    /* W13 event time far in the future: accepted by open time if sane */
    assert_int_equal(BN("{\"e\":\"kline\",\"E\":4000000000000,\"k\":{\"t\":1621399860000,\"s\":\"BNBBTC\",\"i\":\"1m\",\"o\":\"1\",\"c\":\"1\",\"h\":\"1\",\"l\":\"1\",\"v\":\"1\",\"x\":true}}"),
                     FEED_MSG_CANDLE);
    /* not NUL-terminated input: parse stays inside len */
    const char *m = KL("1621399860000", "\"1.5\"", "1m", "true") "GARBAGE";
    feed_adapter_binance.parse(m, strlen(m) - 7, 60000, &po);
    assert_int_equal(po.kind, FEED_MSG_CANDLE);
}

static void test_bitvavo(void **st)
{
    (void)st;
    /* SDK README form (integer ms, event "candle") */
    assert_int_equal(parse(&feed_adapter_bitvavo,
        "{ \"event\": \"candle\", \"market\": \"BTC-EUR\", \"interval\": \"1h\", \"candle\": [ [ 1545217200000, \"3377.7\", \"3384.4\", \"3377.7\", \"3384.4\", \"0.00593012\" ] ] }",
        3600000), FEED_MSG_CANDLE);
    assert_int_equal(po.n, 1);
    assert_int_equal(po.candles[0].ts_ms, 1545217200000LL);
    assert_string_equal(po.candles[0].symbol, "BTC-EUR");
    assert_true(po.candles[0].high == 3384.4 && po.candles[0].volume == 0.00593012);
    assert_int_equal(po.candles[0].closed, 0);
    /* docs page form (string time, event "candles") */
    assert_int_equal(parse(&feed_adapter_bitvavo,
        "{\"event\": \"candles\", \"market\": \"BTC-EUR\", \"interval\": \"1h\", \"candle\": [[\"1538784000000\", \"4999\", \"5012\", \"4999\", \"5012\", \"0.45\"]]}",
        3600000), FEED_MSG_CANDLE);
    assert_int_equal(po.candles[0].ts_ms, 1538784000000LL);
    assert_int_equal(BV("{\"event\": \"subscribed\", \"subscriptions\": {\"candles\": {\"1h\": [\"BTC-EUR\"]}}}"), FEED_MSG_ACK);
    assert_int_equal(BV("{\"action\":\"subscribe\",\"errorCode\":205,\"error\":\"market parameter NOPE-EUR is invalid.\"}"),
                     FEED_MSG_DROP);
    assert_int_equal(po.reason, FEED_DROP_EXCHANGE_ERROR);
    assert_int_equal(BV("{\"errorCode\":102,\"error\":\"Invalid JSON.\"}"), FEED_MSG_DROP);
    assert_int_equal(BV("{\"action\":\"getTime\",\"response\":{\"time\":1}}"), FEED_MSG_IGNORE);
    assert_int_equal(BV("{\"event\":\"ticker\"}"), FEED_MSG_IGNORE);
    /* malformed */
    assert_int_equal(BV("{\"event\":\"candle\",\"market\":\"BTC-EUR\",\"interval\":\"5m\",\"candle\":[[1545217200000,\"1\",\"1\",\"1\",\"1\",\"1\"]]}"), FEED_MSG_DROP);
    assert_int_equal(po.reason, FEED_DROP_WRONG_INTERVAL);
    assert_int_equal(BV("{\"event\":\"candle\",\"market\":\"BTC-EUR\",\"interval\":\"1m\",\"candle\":[[1545217200000,\"1\",\"1\",\"1\",\"1\"]]}"), FEED_MSG_DROP);
    assert_int_equal(po.reason, FEED_DROP_SCHEMA);
    assert_int_equal(BV("{\"event\":\"candle\",\"market\":\"BTC-EUR\",\"interval\":\"1m\",\"candle\":[[1545217200000,\"1\",\"x\",\"1\",\"1\",\"1\"]]}"), FEED_MSG_DROP);
    assert_int_equal(po.reason, FEED_DROP_BAD_NUMBER);
    assert_int_equal(BV("{\"event\":\"candle\",\"market\":\"BTC-EUR\",\"interval\":\"1m\",\"candle\":[]}"), FEED_MSG_DROP);
    assert_int_equal(BV("{\"event\":\"candle\"}"), FEED_MSG_DROP);
    assert_int_equal(po.reason, FEED_DROP_SCHEMA);
    assert_int_equal(BV("{} x"), FEED_MSG_DROP);
    assert_int_equal(po.reason, FEED_DROP_INVALID_JSON);
}

static void test_urls(void **st)
{
    (void)st;
    const char *syms[] = {"BTCUSDT", "ETHUSDT"};
    char b[512];
    size_t n;
    assert_int_equal(feed_adapter_binance.ws_path(syms, 2, 60000, b, sizeof b), PT_OK);
    assert_string_equal(b, "/stream?streams=btcusdt@kline_1m/ethusdt@kline_1m");
    assert_int_equal(feed_adapter_binance.subscribe(syms, 2, 60000, b, sizeof b, &n), PT_OK);
    assert_int_equal(n, 0);
    const char *bad[] = {"BTC&x=1"};
    assert_int_equal(feed_adapter_binance.ws_path(bad, 1, 60000, b, sizeof b), PT_EINVAL);
    assert_int_equal(feed_adapter_binance.ws_path(syms, 2, 60000, b, 20), PT_EFULL);
    assert_int_equal(feed_adapter_binance.rest_url_for("http://h:1", "btcusdt", 60000, 10, 20, 1000, b, sizeof b), PT_OK);
    assert_string_equal(b, "http://h:1/api/v3/klines?symbol=BTCUSDT&interval=1m&startTime=10&endTime=20&limit=1000");
    const char *mk[] = {"BTC-EUR", "ETH-EUR"};
    assert_int_equal(feed_adapter_bitvavo.subscribe(mk, 2, 60000, b, sizeof b, &n), PT_OK);
    assert_string_equal(b, "{\"action\":\"subscribe\",\"channels\":[{\"name\":\"candles\",\"interval\":[\"1m\"],"
                           "\"markets\":[\"BTC-EUR\",\"ETH-EUR\"]}]}");
    assert_int_equal(n, strlen(b));
    assert_int_equal(feed_adapter_bitvavo.rest_url_for("https://api.bitvavo.com", "BTC-EUR", 60000, 10, 20, 1440, b, sizeof b), PT_OK);
    assert_string_equal(b, "https://api.bitvavo.com/v2/BTC-EUR/candles?interval=1m&start=10&end=20&limit=1440");
}

static void test_rest_rows(void **st)
{
    (void)st;
    pt_candle rows[8];
    size_t n;
    uint64_t drops[FEED_DROP__COUNT] = {0};
    /* Bitvavo REST response verbatim (ccxt fixture): newest first -> ascending */
    const char *bv = "[[1702354080000,\"38766\",\"38766\",\"38766\",\"38766\",\"0.00012865\"],"
                     " [1702354020000,\"38761\",\"38764\",\"38761\",\"38761\",\"0.27526588\"],"
                     " [1702353960000,\"38756\",\"38756\",\"38756\",\"38756\",\"0.01266973\"],"
                     " [1702353900000,\"38750\",\"38766\",\"38750\",\"38766\",\"0.05047192\"],"
                     " [1702353840000,\"38743\",\"38743\",\"38743\",\"38743\",\"0.3114\"]]";
    assert_int_equal(feed_rest_parse_rows(bv, strlen(bv), "BTC-EUR", rows, 8, &n, drops), PT_OK);
    assert_int_equal(n, 5);
    for (size_t i = 1; i < n; i++)
        assert_true(rows[i].ts_ms == rows[i - 1].ts_ms + 60000);
    assert_true(rows[0].open == 38743 && rows[0].closed == 1);
    /* Binance doc row */
    const char *bn = "[[1499040000000,\"0.01634790\",\"0.80000000\",\"0.01575800\",\"0.01577100\",\"148976.11427815\","
                     "1499644799999,\"2434.19055334\",308,\"1756.87402397\",\"28.46694368\",\"0\"]]";
    assert_int_equal(feed_rest_parse_rows(bn, strlen(bn), "BNBBTC", rows, 8, &n, drops), PT_OK);
    assert_int_equal(n, 1);
    assert_true(rows[0].high == 0.8 && rows[0].volume == 148976.11427815);
    /* W15: HTML, truncated, empty, too many, overlapping, a bad row */
    const char *html = "<html>busy</html>";
    assert_int_equal(feed_rest_parse_rows(html, strlen(html), "X", rows, 8, &n, drops), PT_EPARSE);
    assert_int_equal(drops[FEED_DROP_INVALID_JSON], 1);
    const char *trunc = "[[1499040000000,\"1\",\"1\",\"1\",\"1\",\"1\"],[14990400";
    assert_int_equal(feed_rest_parse_rows(trunc, strlen(trunc), "X", rows, 8, &n, drops), PT_EPARSE);
    assert_int_equal(n, 0);
    assert_int_equal(feed_rest_parse_rows("[]", 2, "X", rows, 8, &n, drops), PT_OK);
    assert_int_equal(n, 0);
    assert_int_equal(feed_rest_parse_rows("{}", 2, "X", rows, 8, &n, drops), PT_EPARSE);
    const char *dup = "[[1499040060000,\"1\",\"1\",\"1\",\"1\",\"1\"],[1499040000000,\"2\",\"2\",\"2\",\"2\",\"2\"],"
                      "[1499040060000,\"3\",\"3\",\"3\",\"3\",\"3\"],[1499040120000,\"0\",\"1\",\"1\",\"1\",\"1\"]]";
    memset(drops, 0, sizeof drops);
    assert_int_equal(feed_rest_parse_rows(dup, strlen(dup), "X", rows, 8, &n, drops), PT_OK);
    assert_int_equal(n, 2);
    assert_int_equal(drops[FEED_DROP_BAD_NUMBER], 1);
    assert_true(rows[0].ts_ms == 1499040000000LL && rows[1].ts_ms == 1499040060000LL);
    assert_int_equal(feed_rest_parse_rows(dup, strlen(dup), "X", rows, 2, &n, drops), PT_EFULL);
}

int main(void)
{
    pt_log_set_stderr(0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_find),           cmocka_unit_test(test_binance_verbatim),
        cmocka_unit_test(test_binance_malformed), cmocka_unit_test(test_bitvavo),
        cmocka_unit_test(test_urls),           cmocka_unit_test(test_rest_rows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
