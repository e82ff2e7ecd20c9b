/* feed adapters, venues of issue 17 (Bybit spot, OKX spot): the parsers on the
 * verbatim example messages of the venue's public docs, the subscribe/REST
 * requests they build, and broken variants (each dropped with a reason).
 * Sources, per fixture:
 *   https://bybit-exchange.github.io/docs/v5/websocket/public/kline
 *   https://bybit-exchange.github.io/docs/v5/ws/connect
 *   https://bybit-exchange.github.io/docs/v5/market/kline
 *   https://www.okx.com/docs-v5/en/ (#overview-websocket-overview,
 *   #public-data-websocket-candlesticks-channel, #order-book-trading-market-data-get-candlesticks) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feed_live_internal.h"

static feed_parse_out po;

static feed_msg_kind by(const char *msg, int64_t ival)
{
    feed_adapter_bybit.parse(msg, strlen(msg), ival, &po);
    return po.kind;
}

/* v5/websocket/public/kline "Response Example", verbatim */
static const char by_kline_doc[] =
    "{\n\"topic\": \"kline.5.BTCUSDT\",\n\"data\": [\n{\n\"start\": 1672324800000,\n\"end\": 1672325099999,\n"
    "\"interval\": \"5\",\n\"open\": \"16649.5\",\n\"close\": \"16677\",\n\"high\": \"16677\",\n\"low\": \"16608\",\n"
    "\"volume\": \"2.081\",\n\"turnover\": \"34666.4005\",\n\"confirm\": false,\n\"timestamp\": 1672324988882\n}\n],\n"
    "\"ts\": 1672324988882,\n\"type\": \"snapshot\"\n}";

/* v5/market/kline "Response Example", verbatim */
static const char by_rest_doc[] =
    "{\n    \"retCode\": 0,\n    \"retMsg\": \"OK\",\n    \"result\": {\n        \"symbol\": \"BTCUSD\",\n"
    "        \"category\": \"inverse\",\n        \"list\": [\n            [\n                \"1670608800000\",\n"
    "                \"17071\",\n                \"17073\",\n                \"17027\",\n                \"17055.5\",\n"
    "                \"268611\",\n                \"15.74462667\"\n            ],\n            [\n"
    "                \"1670605200000\",\n                \"17071.5\",\n                \"17071.5\",\n"
    "                \"17061\",\n                \"17071\",\n                \"4177\",\n                \"0.24469757\"\n"
    "            ],\n            [\n                \"1670601600000\",\n                \"17086.5\",\n"
    "                \"17088\",\n                \"16978\",\n                \"17071.5\",\n                \"6356\",\n"
    "                \"0.37288112\"\n            ]\n        ]\n    },\n    \"retExtInfo\": {},\n"
    "    \"time\": 1672025956592\n}";

static void test_bybit_registered(void **st)
{
    (void)st;
    assert_ptr_equal(feed_adapter_find("bybit"), &feed_adapter_bybit);
    char b[8];
    assert_int_equal(feed_adapter_bybit.interval_name(60000, b, sizeof b), PT_OK);
    assert_string_equal(b, "1");
    assert_int_equal(feed_adapter_bybit.interval_name(86400000, b, sizeof b), PT_OK);
    assert_string_equal(b, "D");
    assert_int_equal(feed_adapter_bybit.interval_name(1000, b, sizeof b), PT_EUNSUPPORTED); /* no 1s */
    /* v5/ws/connect: {"op":"ping"}, "every 20 seconds" */
    assert_non_null(strstr(feed_adapter_bybit.ping_text, "\"op\":\"ping\""));
    assert_int_equal(feed_adapter_bybit.ping_every_ms, 20000);
    assert_true(feed_adapter_bybit.has_closed_flag);
}

static void test_bybit_kline_doc(void **st)
{
    (void)st;
    assert_int_equal(by(by_kline_doc, 300000), FEED_MSG_CANDLE);
    assert_int_equal(po.n, 1);
    const pt_candle *c = &po.candles[0];
    assert_string_equal(c->symbol, "BTCUSDT");
    assert_int_equal(c->ts_ms, 1672324800000LL);
    assert_true(c->open == 16649.5 && c->high == 16677 && c->low == 16608 && c->close == 16677);
    assert_true(c->volume == 2.081);
    assert_int_equal(c->closed, 0); /* confirm false: still open */
    assert_int_equal(po.event_ms, 1672324988882LL);
    /* the same bar with confirm=true is final */
    char closed[sizeof by_kline_doc + 8];
    snprintf(closed, sizeof closed, "%s", by_kline_doc);
    char *p = strstr(closed, "\"confirm\": false");
    memcpy(p, "\"confirm\": true ", 16);
    assert_int_equal(by(closed, 300000), FEED_MSG_CANDLE);
    assert_int_equal(po.candles[0].closed, 1);
    /* subscribed 1m, got 5: dropped */
    assert_int_equal(by(by_kline_doc, 60000), FEED_MSG_DROP);
    assert_int_equal(po.reason, FEED_DROP_WRONG_INTERVAL);
}

static void test_bybit_control_doc(void **st)
{
    (void)st;
    /* v5/ws/connect pong examples (spot, linear/inverse, option/spread) and
     * the public spot subscription response, verbatim */
    assert_int_equal(by("{\n    \"success\": true,\n    \"ret_msg\": \"pong\",\n    \"conn_id\": "
                        "\"0970e817-426e-429a-a679-ff7f55e0b16a\",\n    \"op\": \"ping\"\n}",
                        60000),
                     FEED_MSG_IGNORE);
    assert_int_equal(by("{\n    \"success\": true,\n    \"ret_msg\": \"pong\",\n    \"conn_id\": "
                        "\"465772b1-7630-4fdc-a492-e003e6f0f260\",\n    \"req_id\": \"\",\n    \"op\": \"ping\"\n}",
                        60000),
                     FEED_MSG_IGNORE);
    assert_int_equal(by("{\n    \"args\": [\n        \"1672916271846\"\n    ],\n    \"op\": \"pong\"\n}", 60000),
                     FEED_MSG_IGNORE);
    assert_int_equal(by("{\n    \"success\": true,\n    \"ret_msg\": \"subscribe\",\n    \"conn_id\": "
                        "\"2324d924-aa4d-45b0-a858-7b8be29ab52b\",\n    \"req_id\": \"10001\",\n    \"op\": \"subscribe\"\n}",
                        60000),
                     FEED_MSG_ACK);
    /* a refusal: the documented reply fields with success false (the docs
     * show no failure example); the venue's text is quoted */
    assert_int_equal(by("{\"success\":false,\"ret_msg\":\"Invalid topic :[kline.1.NOPE]\",\"conn_id\":\"x\","
                        "\"req_id\":\"pt-sub\",\"op\":\"subscribe\"}",
                        60000),
                     FEED_MSG_DROP);
    assert_int_equal(po.reason, FEED_DROP_EXCHANGE_ERROR);
    assert_non_null(strstr(po.detail, "Invalid topic :[kline.1.NOPE]"));
}

static void test_bybit_broken(void **st)
{
    (void)st;
    static const struct {
        const char *msg;
        feed_drop_reason why;
    } bad[] = {
        {"{\"topic\":\"kline.1.BTCUSDT\",\"data\":[{\"start\":1672324800000", FEED_DROP_INVALID_JSON},
        {"[1,2]", FEED_DROP_SCHEMA},
        {"{\"type\":\"snapshot\"}", FEED_DROP_SCHEMA},
        {"{\"topic\":\"kline.1\",\"data\":[]}", FEED_DROP_SCHEMA},
        {"{\"topic\":\"kline.1.BTCUSDT\",\"data\":[]}", FEED_DROP_SCHEMA},
        {"{\"topic\":\"kline.1.BTCUSDT\",\"data\":[{\"start\":1672324800000,\"interval\":\"1\",\"open\":\"1\","
         "\"close\":\"1\",\"high\":\"1\",\"low\":\"1\",\"volume\":\"1\"}]}",
         FEED_DROP_SCHEMA}, /* no confirm */
        {"{\"topic\":\"kline.1.BTCUSDT\",\"data\":[{\"start\":1672324800000,\"interval\":\"1\",\"open\":1,"
         "\"close\":\"1\",\"high\":\"1\",\"low\":\"1\",\"volume\":\"1\",\"confirm\":true}]}",
         FEED_DROP_BAD_NUMBER}, /* price as a JSON number */
        {"{\"topic\":\"kline.1.BTCUSDT\",\"data\":[{\"start\":\"soon\",\"interval\":\"1\",\"open\":\"1\","
         "\"close\":\"1\",\"high\":\"1\",\"low\":\"1\",\"volume\":\"1\",\"confirm\":true}]}",
         FEED_DROP_BAD_TIME},
        {"{\"topic\":\"kline.1.BTC\\\"X\",\"data\":[{\"start\":1672324800000,\"interval\":\"1\",\"open\":\"1\","
         "\"close\":\"1\",\"high\":\"1\",\"low\":\"1\",\"volume\":\"1\",\"confirm\":true}]}",
         FEED_DROP_SCHEMA}, /* symbol with a quote */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(by(bad[i].msg, 60000), FEED_MSG_DROP);
        assert_int_equal(po.reason, bad[i].why);
        assert_non_null(memchr(po.detail, '\0', sizeof po.detail));
    }
    assert_int_equal(by("{\"topic\":\"publicTrade.BTCUSDT\",\"data\":[]}", 60000), FEED_MSG_IGNORE);
}

static void test_bybit_requests(void **st)
{
    (void)st;
    char buf[512];
    size_t len = 0;
    const char *two[] = {"BTCUSDT", "ethusdt"};
    assert_int_equal(feed_adapter_bybit.subscribe(two, 2, 60000, buf, sizeof buf, &len), PT_OK);
    assert_string_equal(buf, "{\"req_id\":\"pt-sub\",\"op\":\"subscribe\",\"args\":[\"kline.1.BTCUSDT\",\"kline.1.ETHUSDT\"]}");
    assert_int_equal(len, strlen(buf));
    const char *eleven[11];
    for (int i = 0; i < 11; i++)
        eleven[i] = "BTCUSDT";
    assert_int_equal(feed_adapter_bybit.subscribe(eleven, 11, 60000, buf, sizeof buf, &len), PT_EFULL); /* 10 args */
    assert_int_equal(feed_adapter_bybit.subscribe(two, 2, 1000, buf, sizeof buf, &len), PT_EUNSUPPORTED);
    const char *dash[] = {"BTC-USDT"};
    assert_int_equal(feed_adapter_bybit.subscribe(dash, 1, 60000, buf, sizeof buf, &len), PT_EINVAL);
    assert_int_equal(feed_adapter_bybit.ws_path(two, 2, 60000, buf, sizeof buf), PT_OK);
    assert_string_equal(buf, "/v5/public/spot");
    assert_int_equal(feed_adapter_bybit.rest_url_for("http://h", "btcusdt", 3600000, 1, 2, 1000, buf, sizeof buf),
                     PT_OK);
    assert_string_equal(buf, "http://h/v5/market/kline?category=spot&symbol=BTCUSDT&interval=60&start=1&end=2&limit=1000");
}

static int rest(const char *body, pt_candle *rows, size_t *n, char *err, size_t errcap)
{
    uint64_t drops[FEED_DROP__COUNT] = {0};
    return feed_adapter_bybit.rest_parse(body, strlen(body), "BTCUSD", rows, 8, n, drops, err, errcap);
}

static void test_bybit_rest_doc(void **st)
{
    (void)st;
    pt_candle rows[8];
    size_t n = 0;
    char err[256] = "";
    assert_int_equal(rest(by_rest_doc, rows, &n, err, sizeof err), PT_OK);
    assert_int_equal(n, 3); /* newest first on the wire, ascending out */
    assert_int_equal(rows[0].ts_ms, 1670601600000LL);
    assert_true(rows[0].open == 17086.5 && rows[0].high == 17088 && rows[0].low == 16978 && rows[0].close == 17071.5);
    assert_int_equal(rows[2].ts_ms, 1670608800000LL);
    assert_true(rows[2].close == 17055.5 && rows[2].volume == 268611);
    assert_int_equal(rows[2].closed, 1);
    /* in-body refusals, quoted; 10006 is the rate limit (v5/error) */
    assert_int_equal(rest("{\"retCode\":10001,\"retMsg\":\"Not supported symbols\",\"result\":{},\"retExtInfo\":{},"
                          "\"time\":1}", rows, &n, err, sizeof err),
                     PT_EINVAL);
    assert_string_equal(err, "bybit retCode 10001: Not supported symbols");
    assert_int_equal(rest("{\"retCode\":10006,\"retMsg\":\"Too many visits!\",\"result\":{}}", rows, &n, err,
                          sizeof err),
                     PT_ERATELIMIT);
    assert_int_equal(rest("{\"retCode\":0,\"retMsg\":\"OK\",\"result\":{\"list\":[[\"16706", rows, &n, err, sizeof err),
                     PT_EPARSE); /* truncated */
    assert_int_equal(rest("{\"retMsg\":\"OK\"}", rows, &n, err, sizeof err), PT_EPARSE);
    assert_int_equal(rest("{\"retCode\":0,\"result\":{}}", rows, &n, err, sizeof err), PT_EPARSE);
}

/* ------------------------------------------------------------------ OKX */
static feed_msg_kind okx(const char *msg, int64_t ival)
{
    feed_adapter_okx.parse(msg, strlen(msg), ival, &po);
    return po.kind;
}

/* candlesticks channel "Push Data Example" (candle1D) */
static const char okx_push_doc[] =
    "{\n    \"arg\": {\n        \"channel\": \"candle1D\",\n        \"instId\": \"BTC-USDT\"\n    },\n"
    "    \"data\": [\n        [\n            \"1597026383085\",\n            \"8533.02\",\n"
    "            \"8553.74\",\n            \"8527.17\",\n            \"8548.26\",\n            \"45247\",\n"
    "            \"529.5858061\",\n            \"5529.5858061\",\n            \"0\"\n        ]\n    ]\n}";

/* "Get candlesticks" Response Example: newest first, two rows with one ts */
static const char okx_rest_doc[] =
    "{\n    \"code\":\"0\",\n    \"msg\":\"\",\n    \"data\":[\n     [\n        \"1597026383085\",\n"
    "        \"3.721\",\n        \"3.743\",\n        \"3.677\",\n        \"3.708\",\n        \"8422410\",\n"
    "        \"22698348.04828491\",\n        \"12698348.04828491\",\n        \"0\"\n    ],\n    [\n"
    "        \"1597026383085\",\n        \"3.731\",\n        \"3.799\",\n        \"3.494\",\n        \"3.72\",\n"
    "        \"24912403\",\n        \"67632347.24399722\",\n        \"37632347.24399722\",\n        \"1\"\n    ]\n"
    "    ]\n}";

static void test_okx_push_doc(void **st)
{
    (void)st;
    assert_ptr_equal(feed_adapter_find("okx"), &feed_adapter_okx);
    /* we subscribe 1Dutc (UTC days), the doc example is candle1D (Hong Kong days) */
    assert_int_equal(okx(okx_push_doc, 86400000), FEED_MSG_DROP);
    assert_int_equal(po.reason, FEED_DROP_WRONG_INTERVAL);
    char m[sizeof okx_push_doc];
    snprintf(m, sizeof m, "%s", okx_push_doc);
    memcpy(strstr(m, "candle1D"), "candle1m", 8);
    assert_int_equal(okx(m, 60000), FEED_MSG_CANDLE);
    assert_int_equal(po.n, 1);
    const pt_candle *c = &po.candles[0];
    assert_string_equal(c->symbol, "BTC-USDT");
    assert_int_equal(c->ts_ms, 1597026383085LL);
    assert_true(c->open == 8533.02 && c->high == 8553.74 && c->low == 8527.17 && c->close == 8548.26);
    assert_true(c->volume == 45247);
    assert_int_equal(c->closed, 0); /* confirm "0": uncompleted */
    memcpy(strstr(m, "\"0\"\n"), "\"1\"", 3);
    assert_int_equal(okx(m, 60000), FEED_MSG_CANDLE);
    assert_int_equal(po.candles[0].closed, 1);
}

static void test_okx_control_doc(void **st)
{
    (void)st;
    assert_int_equal(okx("pong", 60000), FEED_MSG_IGNORE); /* text, not JSON */
    assert_int_equal(okx("{\n    \"event\": \"subscribe\",\n    \"arg\": {\n        \"channel\": \"candle1D\",\n"
                         "        \"instId\": \"BTC-USDT\"\n    },\n    \"connId\": \"a4d3ae55\"\n}",
                         60000),
                     FEED_MSG_ACK);
    assert_int_equal(okx("{\n    \"event\": \"error\",\n    \"code\": \"60012\",\n    \"msg\": \"Invalid request: "
                         "{\\\"op\\\": \\\"subscribe\\\", \\\"argss\\\":[{ \\\"channel\\\" : \\\"candle1D\\\", "
                         "\\\"instId\\\" : \\\"BTC-USD-191227\\\"}]}\",\n    \"connId\": \"a4d3ae55\"\n}",
                         60000),
                     FEED_MSG_DROP);
    assert_int_equal(po.reason, FEED_DROP_EXCHANGE_ERROR);
    assert_non_null(strstr(po.detail, "60012: Invalid request: {\"op\": \"subscribe\""));
    assert_int_equal(okx("{\n    \"event\": \"notice\",\n    \"code\": \"64008\",\n    \"msg\": \"The connection "
                         "will soon be closed for a service upgrade. Please reconnect.\",\n    \"connId\": \"a4d3ae55\"\n}",
                         60000),
                     FEED_MSG_SHUTDOWN);
    assert_int_equal(okx("ping", 60000), FEED_MSG_DROP); /* only the server's pong is text */
    assert_int_equal(po.reason, FEED_DROP_INVALID_JSON);
    /* broken pushes */
    assert_int_equal(okx("{\"arg\":{\"channel\":\"candle1m\",\"instId\":\"BTC-USDT\"},\"data\":[[\"1597026383085\","
                         "\"1\",\"1\",\"1\",\"1\",\"1\"]]}",
                         60000),
                     FEED_MSG_DROP); /* no confirm */
    assert_int_equal(po.reason, FEED_DROP_SCHEMA);
    assert_int_equal(okx("{\"arg\":{\"channel\":\"candle1m\",\"instId\":\"BTC-USDT\"},\"data\":[]}", 60000),
                     FEED_MSG_DROP);
    assert_int_equal(okx("{\"arg\":{\"channel\":\"tickers\",\"instId\":\"BTC-USDT\"},\"data\":[{}]}", 60000),
                     FEED_MSG_IGNORE);
}

static void test_okx_requests(void **st)
{
    (void)st;
    char buf[512], b[16];
    size_t len = 0;
    const char *two[] = {"BTC-USDT", "eth-usdt"};
    assert_int_equal(feed_adapter_okx.subscribe(two, 2, 60000, buf, sizeof buf, &len), PT_OK);
    assert_string_equal(buf, "{\"op\":\"subscribe\",\"args\":[{\"channel\":\"candle1m\",\"instId\":\"BTC-USDT\"},"
                             "{\"channel\":\"candle1m\",\"instId\":\"ETH-USDT\"}]}");
    const char *nodash[] = {"BTCUSDT"};
    assert_int_equal(feed_adapter_okx.subscribe(nodash, 1, 60000, buf, sizeof buf, &len), PT_EINVAL);
    assert_int_equal(feed_adapter_okx.interval_name(3600000, b, sizeof b), PT_OK);
    assert_string_equal(b, "1H");
    assert_int_equal(feed_adapter_okx.interval_name(86400000, b, sizeof b), PT_OK);
    assert_string_equal(b, "1Dutc");
    assert_string_equal(feed_adapter_okx.ping_text, "ping");
    assert_true(feed_adapter_okx.ping_every_ms < 30000);
    assert_int_equal(feed_adapter_okx.rest_url_for("http://h", "BTC-USDT", 60000, 1000, 2000, 100, buf, sizeof buf), PT_OK);
    assert_string_equal(buf, "http://h/api/v5/market/history-candles?instId=BTC-USDT&bar=1m&after=2001&before=999&limit=100");
}

static void test_okx_rest_doc(void **st)
{
    (void)st;
    pt_candle rows[8];
    size_t n = 0;
    char err[256] = "";
    uint64_t drops[FEED_DROP__COUNT] = {0};
    assert_int_equal(feed_adapter_okx.rest_parse(okx_rest_doc, strlen(okx_rest_doc), "BTC-USDT", rows, 8, &n, drops, err,
                                                 sizeof err),
                     PT_OK);
    assert_int_equal(n, 1); /* the example repeats one ts: the first row is kept */
    assert_int_equal(rows[0].ts_ms, 1597026383085LL);
    assert_true(rows[0].open == 3.721 && rows[0].close == 3.708);
    static const char e51001[] = "{\"code\":\"51001\",\"msg\":\"Instrument ID does not exist\",\"data\":[]}";
    assert_int_equal(feed_adapter_okx.rest_parse(e51001, strlen(e51001), "X-Y", rows, 8, &n, drops, err, sizeof err),
                     PT_EINVAL);
    assert_string_equal(err, "okx code 51001: Instrument ID does not exist");
    static const char e50011[] = "{\"msg\":\"Too Many Requests\",\"code\":\"50011\"}";
    assert_int_equal(feed_adapter_okx.rest_parse(e50011, strlen(e50011), "X-Y", rows, 8, &n, drops, err, sizeof err),
                     PT_ERATELIMIT);
    assert_int_equal(feed_adapter_okx.rest_parse("{\"code\":0}", 10, "X-Y", rows, 8, &n, drops, err, sizeof err),
                     PT_EPARSE); /* code must be a string */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bybit_registered), cmocka_unit_test(test_bybit_kline_doc),
        cmocka_unit_test(test_bybit_control_doc), cmocka_unit_test(test_bybit_broken),
        cmocka_unit_test(test_bybit_requests),   cmocka_unit_test(test_bybit_rest_doc),
        cmocka_unit_test(test_okx_push_doc),     cmocka_unit_test(test_okx_control_doc),
        cmocka_unit_test(test_okx_requests),     cmocka_unit_test(test_okx_rest_doc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
