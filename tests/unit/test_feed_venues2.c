/* feed adapters, venues of issue 17 (Bybit spot): the parsers on the
 * verbatim example messages of the venue's public docs, the subscribe/REST
 * requests they build, and broken variants (each dropped with a reason).
 * Sources, per fixture:
 *   https://bybit-exchange.github.io/docs/v5/websocket/public/kline
 *   https://bybit-exchange.github.io/docs/v5/ws/connect
 *   https://bybit-exchange.github.io/docs/v5/market/kline */
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bybit_registered), cmocka_unit_test(test_bybit_kline_doc),
        cmocka_unit_test(test_bybit_control_doc), cmocka_unit_test(test_bybit_broken),
        cmocka_unit_test(test_bybit_requests),   cmocka_unit_test(test_bybit_rest_doc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
