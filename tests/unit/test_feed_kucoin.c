/* feed adapters of issue 17, second batch: KuCoin spot and Bybit USDT linear.
 * KuCoin fixtures are the example messages of its docs (the // comments the
 * docs put inside their JSON removed, which is not JSON otherwise):
 *   https://www.kucoin.com/docs-new/3470071w0 (candles push)
 *   https://www.kucoin.com/docs-new/websocket-api/base-info/introduction
 *     (welcome, ping, pong, subscribe, ack)
 *   https://www.kucoin.com/docs-new/websocket-api/base-info/get-public-token-spot-margin
 *   https://www.kucoin.com/docs/rest/spot-trading/market-data/get-klines
 *     (the rows; the docs show them without the {"code","data"} envelope)
 * The socket error message is shaped from the code table of
 * https://www.kucoin.com/docs-new/error-code/websocket (no example there). */
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

static feed_msg_kind kc(const char *msg, int64_t ival)
{
    feed_adapter_kucoin.parse(msg, strlen(msg), ival, &po);
    return po.kind;
}

static const char kc_push_doc[] =
    "{\n\"topic\": \"/market/candles:BTC-USDT_1hour\",\n\"type\": \"message\",\n\"subject\": \"trade.candles.update\",\n"
    "\"data\": {\n\"symbol\": \"BTC-USDT\",\n\"candles\": [\n\"1729839600\",\n\"67644.9\",\n\"67437.6\",\n"
    "\"67724.8\",\n\"67243.8\",\n\"44.88321441\",\n\"3027558.991928447\"\n],\n\"time\": 1729842192785164840\n}\n}";

static const char kc_token_doc[] =
    "{\n  \"code\": \"200000\",\n  \"data\": {\n    \"token\": \"2neAiuYvAU61ZDXANAGAsiL4-iAExhsBXZxftpOeh_55i3Ysy2q2LEs"
    "EWU64mdzUOPusi34M_wGoSf7iNyEWJ4aBZXpWhrmY9jKtqkdWoFa75w3istPvPtiYB9J6i9GjsxUuhPw3BlrzazF6ghq4L_u0MhKxG3x8TeN4aVbNiYo"
    "=.mvnekBb8DJegZIgYLs2FBQ==\",\n    \"instanceServers\": [\n      {\n        \"endpoint\": \"wss://ws-api-spot."
    "kucoin.com/\",\n        \"encrypt\": true,\n        \"protocol\": \"websocket\",\n        \"pingInterval\": 18000,\n"
    "        \"pingTimeout\": 10000\n      }\n    ]\n  }\n}";

static const char kc_rest_doc[] =
    "{\"code\":\"200000\",\"data\":[\n  [\n    \"1545904980\",\n    \"0.058\",\n    \"0.049\",\n    \"0.058\",\n"
    "    \"0.049\",\n    \"0.018\",\n    \"0.000945\"\n  ],\n"
    "  [\"1545904920\", \"0.058\", \"0.072\", \"0.072\", \"0.058\", \"0.103\", \"0.006986\"]\n]}";

static void test_kucoin_registered(void **st)
{
    (void)st;
    char b[16];
    assert_ptr_equal(feed_adapter_find("kucoin"), &feed_adapter_kucoin);
    assert_int_equal(feed_adapter_kucoin.interval_name(60000, b, sizeof b), PT_OK);
    assert_string_equal(b, "1min");
    assert_int_equal(feed_adapter_kucoin.interval_name(8 * 3600000, b, sizeof b), PT_OK);
    assert_string_equal(b, "8hour");
    assert_int_equal(feed_adapter_kucoin.interval_name(1000, b, sizeof b), PT_EUNSUPPORTED);
    assert_false(feed_adapter_kucoin.has_closed_flag);
    assert_true(feed_adapter_kucoin.subscribe_on_welcome);
    assert_string_equal(feed_adapter_kucoin.token_path, "/api/v1/bullet-public");
    assert_int_equal(feed_adapter_kucoin.rest_max_limit, 1500);
}

static void test_kucoin_push_doc(void **st)
{
    (void)st;
    assert_int_equal(kc(kc_push_doc, 60000), FEED_MSG_DROP); /* 1hour pushed, 1min subscribed */
    assert_int_equal(po.reason, FEED_DROP_WRONG_INTERVAL);
    assert_int_equal(kc(kc_push_doc, 3600000), FEED_MSG_CANDLE);
    assert_int_equal(po.n, 1);
    const pt_candle *c = &po.candles[0];
    assert_string_equal(c->symbol, "BTC-USDT");
    assert_int_equal(c->ts_ms, 1729839600000LL); /* seconds on the wire */
    /* the wire order is open, close, high, low */
    assert_true(c->open == 67644.9 && c->close == 67437.6 && c->high == 67724.8 && c->low == 67243.8);
    assert_true(c->volume == 44.88321441);
    assert_int_equal(c->closed, 0); /* no closed flag: always the bar in progress */
    assert_int_equal(po.event_ms, 1729842192785LL); /* data.time is ns */
}

static void test_kucoin_control_doc(void **st)
{
    (void)st;
    assert_int_equal(kc("{\n  \"id\": \"hQvf8jkno\",\n  \"type\": \"welcome\"\n}", 60000), FEED_MSG_WELCOME);
    assert_int_equal(kc("{\n  \"id\": \"1545910590801\",\n  \"type\": \"pong\"\n}", 60000), FEED_MSG_IGNORE);
    assert_int_equal(kc("{\n  \"id\": \"1545910660739\",\n  \"type\": \"ack\"\n}", 60000), FEED_MSG_ACK);
    assert_int_equal(kc("{\"id\":\"1545910660739\",\"type\":\"error\",\"code\":404,\"data\":\"topic does not exist\"}",
                        60000),
                     FEED_MSG_DROP);
    assert_int_equal(po.reason, FEED_DROP_EXCHANGE_ERROR);
    assert_string_equal(po.detail, "exchange error 404: topic does not exist"); /* the venue's words */
    /* other topics are valid but not ours */
    assert_int_equal(kc("{\"type\":\"message\",\"topic\":\"/market/ticker:BTC-USDT\",\"data\":{}}", 60000),
                     FEED_MSG_IGNORE);
}

static void test_kucoin_broken(void **st)
{
    (void)st;
    char m[sizeof kc_push_doc];
    assert_int_equal(kc("{\"id\":\"1\"}", 60000), FEED_MSG_DROP);
    assert_int_equal(po.reason, FEED_DROP_SCHEMA);
    assert_int_equal(kc("[1,2]", 60000), FEED_MSG_DROP);
    assert_int_equal(kc("{\"type\":\"welcome\"} x", 60000), FEED_MSG_DROP);
    assert_int_equal(po.reason, FEED_DROP_INVALID_JSON);
    snprintf(m, sizeof m, "%s", kc_push_doc);
    memcpy(strstr(m, "1729839600"), "9999999999", 10); /* year 2286 */
    assert_int_equal(kc(m, 3600000), FEED_MSG_DROP);
    assert_int_equal(po.reason, FEED_DROP_BAD_TIME);
    snprintf(m, sizeof m, "%s", kc_push_doc);
    memcpy(strstr(m, "\"67724.8\""), "\"-7724.8\"", 9);
    assert_int_equal(kc(m, 3600000), FEED_MSG_DROP);
    assert_int_equal(po.reason, FEED_DROP_BAD_NUMBER);
    assert_non_null(strstr(po.detail, "high"));
    assert_int_equal(kc("{\"type\":\"message\",\"topic\":\"/market/candles:BTC-USDT_1min\",\"data\":{\"symbol\":"
                        "\"BTC-USDT\",\"candles\":[\"1729839600\",\"1\"]}}",
                        60000),
                     FEED_MSG_DROP);
    assert_int_equal(po.reason, FEED_DROP_SCHEMA);
    assert_int_equal(kc("{\"type\":\"message\",\"topic\":\"/market/candles:BTC-USDT_1min\",\"data\":{\"candles\":[]}}",
                        60000),
                     FEED_MSG_DROP);
}

static void test_kucoin_requests(void **st)
{
    (void)st;
    char buf[512];
    size_t len = 0;
    const char *two[] = {"BTC-USDT", "eth-usdt"};
    assert_int_equal(feed_adapter_kucoin.subscribe(two, 2, 60000, buf, sizeof buf, &len), PT_OK);
    assert_string_equal(buf, "{\"id\":\"pt-sub\",\"type\":\"subscribe\",\"topic\":\"/market/candles:BTC-USDT_1min,"
                             "ETH-USDT_1min\",\"privateChannel\":false,\"response\":true}");
    assert_int_equal(len, strlen(buf));
    const char *nodash[] = {"BTCUSDT"};
    assert_int_equal(feed_adapter_kucoin.subscribe(nodash, 1, 60000, buf, sizeof buf, &len), PT_EINVAL);
    assert_int_equal(feed_adapter_kucoin.ws_path(nodash, 1, 60000, buf, sizeof buf), PT_EINVAL);
    assert_int_equal(feed_adapter_kucoin.subscribe(two, 2, 1000, buf, sizeof buf, &len), PT_EUNSUPPORTED);
    assert_string_equal(feed_adapter_kucoin.ping_text, "{\"id\":\"pt-ping\",\"type\":\"ping\"}");
    /* [start, end] ms -> seconds, start rounded up */
    assert_int_equal(feed_adapter_kucoin.rest_url_for("http://h", "btc-usdt", 60000, 1566703297001LL, 1566789757999LL,
                                                      1500, buf, sizeof buf),
                     PT_OK);
    assert_string_equal(buf, "http://h/api/v1/market/candles?type=1min&symbol=BTC-USDT&startAt=1566703298&endAt=1566789757");
}

static int rest(const char *body, pt_candle *rows, size_t *n, char *err, size_t errcap)
{
    uint64_t drops[FEED_DROP__COUNT] = {0};
    return feed_adapter_kucoin.rest_parse(body, strlen(body), "BTC-USDT", rows, 8, n, drops, err, errcap);
}

static void test_kucoin_rest_doc(void **st)
{
    (void)st;
    pt_candle rows[8];
    size_t n = 0;
    char err[256] = "";
    assert_int_equal(rest(kc_rest_doc, rows, &n, err, sizeof err), PT_OK);
    assert_int_equal(n, 2); /* newest first on the wire, ascending out */
    assert_int_equal(rows[0].ts_ms, 1545904920000LL);
    assert_true(rows[0].open == 0.058 && rows[0].close == 0.072 && rows[0].high == 0.072 && rows[0].low == 0.058);
    assert_true(rows[1].volume == 0.018 && rows[1].closed == 1);
    assert_int_equal(rest("{\"code\":\"400100\",\"msg\":\"This pair is not provided at present\"}", rows, &n, err,
                          sizeof err),
                     PT_EINVAL);
    assert_string_equal(err, "kucoin code 400100: This pair is not provided at present");
    assert_int_equal(rest("{\"code\":\"429000\",\"msg\":\"Too Many Requests\"}", rows, &n, err, sizeof err),
                     PT_ERATELIMIT);
    assert_int_equal(rest("{\"code\":200000,\"data\":[]}", rows, &n, err, sizeof err), PT_EPARSE);
    assert_int_equal(rest("{\"code\":\"200000\",\"data\":[[\"15459", rows, &n, err, sizeof err), PT_EPARSE);
}

static void test_kucoin_token_doc(void **st)
{
    (void)st;
    char url[1024], err[256] = "";
    int64_t ping = 0;
    const feed_adapter *a = &feed_adapter_kucoin;
    assert_int_equal(a->token_parse(kc_token_doc, strlen(kc_token_doc), "pt1", url, sizeof url, &ping, err, sizeof err),
                     PT_OK);
    assert_int_equal(ping, 18000);
    assert_int_equal(strncmp(url, "wss://ws-api-spot.kucoin.com/?token=2neAiuYvAU61", 48), 0);
    assert_non_null(strstr(url, "FBQ==&connectId=pt1"));
    static const char refused[] = "{\"code\":\"400100\",\"msg\":\"Unsupported request\"}";
    assert_int_equal(a->token_parse(refused, strlen(refused), "pt1", url, sizeof url, &ping, err, sizeof err), PT_EINVAL);
    assert_string_equal(err, "kucoin code 400100: Unsupported request");
    static const char busy[] = "{\"code\":\"429000\",\"msg\":\"Too Many Requests\"}";
    assert_int_equal(a->token_parse(busy, strlen(busy), "pt1", url, sizeof url, &ping, err, sizeof err), PT_ERATELIMIT);
    /* a token that would split the query, a missing server, not JSON */
    static const char amp[] = "{\"code\":\"200000\",\"data\":{\"token\":\"a&b\",\"instanceServers\":[{\"endpoint\":"
                              "\"wss://h/\"}]}}";
    assert_int_equal(a->token_parse(amp, strlen(amp), "pt1", url, sizeof url, &ping, err, sizeof err), PT_EPARSE);
    static const char nosrv[] = "{\"code\":\"200000\",\"data\":{\"token\":\"abc\",\"instanceServers\":[]}}";
    assert_int_equal(a->token_parse(nosrv, strlen(nosrv), "pt1", url, sizeof url, &ping, err, sizeof err), PT_EPARSE);
    assert_int_equal(a->token_parse("<html>", 6, "pt1", url, sizeof url, &ping, err, sizeof err), PT_EPARSE);
}

/* the finality rule the adapter relies on (feed_live_merge.c): a newer bar
 * closes the open one; an older or repeated push is counted, never closes */
static void test_no_flag_finality(void **st)
{
    (void)st;
    feed_series s;
    pt_candle a = {.ts_ms = 120000, .open = 1, .high = 2, .low = 1, .close = 2, .volume = 5}, closed;
    snprintf(a.symbol, sizeof a.symbol, "BTC-USDT");
    assert_int_equal(feed_series_init(&s, "BTC-USDT", 60000, 16), PT_OK);
    assert_int_equal(feed_series_update_open(&s, &a, &closed), 0);
    assert_int_equal(feed_series_update_open(&s, &a, &closed), 0); /* the same push again */
    assert_int_equal(s.st.duplicates, 1);
    pt_candle old = a;
    old.ts_ms = 60000;
    assert_int_equal(feed_series_update_open(&s, &old, &closed), 0);
    assert_int_equal(s.st.out_of_order, 1);
    pt_candle b = a;
    b.ts_ms = 180000;
    assert_int_equal(feed_series_update_open(&s, &b, &closed), 1);
    assert_int_equal(closed.ts_ms, 120000);
    assert_int_equal(closed.closed, 1);
    feed_series_free(&s);
}

static void test_bybit_linear(void **st)
{
    (void)st;
    char buf[512];
    const char *one[] = {"BTCUSDT"};
    const feed_adapter *a = feed_adapter_find("bybit-linear");
    assert_ptr_equal(a, &feed_adapter_bybit_linear);
    assert_int_equal(a->ws_path(one, 1, 60000, buf, sizeof buf), PT_OK);
    assert_string_equal(buf, "/v5/public/linear");
    assert_int_equal(a->rest_url_for("http://h", "btcusdt", 60000, 1, 2, 1000, buf, sizeof buf), PT_OK);
    assert_string_equal(buf, "http://h/v5/market/kline?category=linear&symbol=BTCUSDT&interval=1&start=1&end=2&limit=1000");
    assert_int_equal(feed_adapter_bybit.ws_path(one, 1, 60000, buf, sizeof buf), PT_OK);
    assert_string_equal(buf, "/v5/public/spot"); /* spot unchanged */
    assert_ptr_equal(a->parse, feed_adapter_bybit.parse);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kucoin_registered), cmocka_unit_test(test_kucoin_push_doc),
        cmocka_unit_test(test_kucoin_control_doc), cmocka_unit_test(test_kucoin_broken),
        cmocka_unit_test(test_kucoin_requests),   cmocka_unit_test(test_kucoin_rest_doc),
        cmocka_unit_test(test_kucoin_token_doc),  cmocka_unit_test(test_no_flag_finality),
        cmocka_unit_test(test_bybit_linear),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
