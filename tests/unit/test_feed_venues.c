/* feed adapters of Kraken and Coinbase (Bybit, OKX: test_feed_venues2.c): each parser on
 * the verbatim example messages of its venue's docs
 * (tests/fixtures/venues/<venue>/, sources in its README.md): data,
 * heartbeat, status, subscribe ack and error, REST body and REST errors;
 * symbol mapping both ways; the venue table `papertrader exchanges` shows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feed_live_internal.h"
#include "ops.h"

static feed_parse_out po;

/* a fixture file (the test runs in tests/), NUL-terminated, the caller frees */
static char *fixture(const char *venue, const char *name, size_t *len)
{
    char path[256];
    snprintf(path, sizeof path, "fixtures/venues/%s/%s", venue, name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *b = calloc(1, 1 << 16);
    assert_non_null(b);
    *len = fread(b, 1, (1 << 16) - 1, f);
    fclose(f);
    return b;
}

static feed_msg_kind kr(const char *name, int64_t ival)
{
    size_t n;
    char *m = fixture("kraken", name, &n);
    feed_adapter_kraken.parse(m, n, ival, &po);
    free(m);
    return po.kind;
}

static void test_kraken_ws(void **st)
{
    (void)st;
    assert_ptr_equal(feed_adapter_find("kraken"), &feed_adapter_kraken);
    assert_int_equal(kr("ws_update.json", 60000), FEED_MSG_CANDLE);
    assert_int_equal(po.n, 1);
    assert_string_equal(po.candles[0].symbol, "BTC-USD"); /* the venue's BTC/USD, ours BTC-USD */
    assert_int_equal(po.candles[0].ts_ms, 1791309960000LL); /* interval_begin 2026-10-06T18:06:00Z */
    assert_int_equal(po.candles[0].closed, 0);
    assert_true(po.candles[0].open == 85754.8 && po.candles[0].low == 85754.7 && po.candles[0].volume == 0.00126522);
    assert_int_equal(po.event_ms, 1791309962264LL); /* message timestamp, truncated to ms */
    /* the update is a 1-minute bar: another subscription interval refuses it */
    assert_int_equal(kr("ws_update.json", 300000), FEED_MSG_DROP);
    assert_int_equal(po.reason, FEED_DROP_WRONG_INTERVAL);
    assert_int_equal(kr("ws_snapshot_doc.json", 300000), FEED_MSG_CANDLE);
    assert_string_equal(po.candles[0].symbol, "ALGO-USD");
    assert_int_equal(po.candles[0].ts_ms, 1696433100000LL);
    assert_int_equal(kr("ws_heartbeat.json", 60000), FEED_MSG_IGNORE);
    assert_int_equal(kr("ws_status.json", 60000), FEED_MSG_IGNORE);
    assert_int_equal(kr("ws_pong.json", 60000), FEED_MSG_IGNORE);
    assert_int_equal(kr("ws_subscribe_ack.json", 60000), FEED_MSG_ACK);
    assert_int_equal(kr("ws_subscribe_error.json", 60000), FEED_MSG_DROP);
    assert_int_equal(po.reason, FEED_DROP_EXCHANGE_ERROR);
    assert_non_null(strstr(po.detail, "Currency pair not supported XBT/USD")); /* quoted as the venue says it */
}

static void test_kraken_malformed(void **st)
{
    (void)st;
    static const struct {
        const char *msg;
        feed_drop_reason why;
    } bad[] = {
        {"{\"channel\":\"ohlc\",\"data\":[{\"symbol\":\"BTC/USD\",\"open\":\"1\",\"high\":1,\"low\":1,\"close\":1,"
         "\"volume\":1,\"interval_begin\":\"2026-10-06T18:06:00Z\",\"interval\":1}]}", FEED_DROP_BAD_NUMBER},
        {"{\"channel\":\"ohlc\",\"data\":[{\"symbol\":\"BTC/USD\",\"open\":1,\"high\":1,\"low\":1,\"close\":1,"
         "\"volume\":1,\"interval_begin\":\"yesterday\",\"interval\":1}]}", FEED_DROP_BAD_TIME},
        {"{\"channel\":\"ohlc\",\"data\":[{\"symbol\":\"BTC/USD\",\"open\":1,\"high\":1,\"low\":1,\"close\":1,"
         "\"volume\":1,\"interval_begin\":\"2026-10-06T18:06:30Z\",\"interval\":1}]}", FEED_DROP_BAD_TIME},
        {"{\"channel\":\"ohlc\",\"data\":[{\"symbol\":\"BTCUSD\",\"open\":1,\"high\":1,\"low\":1,\"close\":1,"
         "\"volume\":1,\"interval_begin\":\"2026-10-06T18:06:00Z\",\"interval\":1}]}", FEED_DROP_SCHEMA},
        {"{\"channel\":\"ohlc\",\"data\":{}}", FEED_DROP_SCHEMA},
        {"{\"type\":\"update\"}", FEED_DROP_SCHEMA},
        {"[1,2]", FEED_DROP_SCHEMA},
        {"{\"channel\":\"ohlc\"", FEED_DROP_INVALID_JSON},
        {"{\"channel\":\"heartbeat\"} x", FEED_DROP_INVALID_JSON},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        feed_adapter_kraken.parse(bad[i].msg, strlen(bad[i].msg), 60000, &po);
        assert_int_equal(po.kind, FEED_MSG_DROP);
        assert_int_equal(po.reason, bad[i].why);
        assert_true(po.detail[0]);
    }
}

static void test_kraken_requests(void **st)
{
    (void)st;
    char buf[512], sub[512];
    size_t n = 0;
    const char *syms[] = {"ALGO-USD", "MATIC/USD"}; /* ours and the venue's spelling */
    assert_int_equal(feed_adapter_kraken.subscribe(syms, 2, 300000, sub, sizeof sub, &n), PT_OK);
    assert_int_equal(n, strlen(sub));
    /* the doc's request, plus snapshot false */
    assert_string_equal(sub, "{\"method\":\"subscribe\",\"params\":{\"channel\":\"ohlc\",\"interval\":5,"
                             "\"snapshot\":false,\"symbol\":[\"ALGO/USD\",\"MATIC/USD\"]}}");
    const char *nodash[] = {"BTCUSD"};
    assert_int_equal(feed_adapter_kraken.subscribe(nodash, 1, 60000, sub, sizeof sub, &n), PT_EINVAL);
    assert_int_equal(feed_adapter_kraken.interval_name(1000, buf, sizeof buf), PT_EUNSUPPORTED);
    assert_int_equal(feed_adapter_kraken.interval_name(21600LL * 60000, buf, sizeof buf), PT_OK);
    assert_int_equal(feed_adapter_kraken.ws_path(syms, 2, 60000, buf, sizeof buf), PT_OK);
    assert_string_equal(buf, "/v2");
    assert_int_equal(feed_adapter_kraken.rest_url_for("http://h", "BTC-USD", 60000, 1791318900000LL, 0, 720, buf,
                                                      sizeof buf), PT_OK);
    assert_string_equal(buf, "http://h/0/public/OHLC?pair=BTC%2FUSD&interval=1&since=1791318899");
}

static void test_kraken_rest(void **st)
{
    (void)st;
    pt_candle rows[4];
    uint64_t drops[FEED_DROP__COUNT] = {0};
    char err[256] = "";
    size_t n = 9, len;
    char *b = fixture("kraken", "rest_ohlc.json", &len);
    assert_int_equal(feed_adapter_kraken.rest_parse(b, len, "BTC-USD", rows, 4, &n, drops, err, sizeof err), PT_OK);
    free(b);
    assert_int_equal(n, 1);
    assert_int_equal(rows[0].ts_ms, 1791318900000LL); /* seconds on the wire */
    assert_true(rows[0].close == 85624.2 && rows[0].volume == 0.56478953); /* volume is [6], [5] is vwap */
    assert_string_equal(rows[0].symbol, "BTC-USD");
    b = fixture("kraken", "rest_error_pair.json", &len);
    assert_int_equal(feed_adapter_kraken.rest_parse(b, len, "X-Y", rows, 4, &n, drops, err, sizeof err), PT_EINVAL);
    free(b);
    assert_string_equal(err, "kraken: EQuery:Unknown asset pair");
    b = fixture("kraken", "rest_error_args.json", &len);
    assert_int_equal(feed_adapter_kraken.rest_parse(b, len, "X-Y", rows, 4, &n, drops, err, sizeof err), PT_EINVAL);
    free(b);
    assert_string_equal(err, "kraken: EGeneral:Invalid arguments");
    static const char limit[] = "{\"error\":[\"EAPI:Rate limit exceeded\"],\"result\":{}}";
    assert_int_equal(feed_adapter_kraken.rest_parse(limit, strlen(limit), "X-Y", rows, 4, &n, drops, err, sizeof err),
                     PT_ERATELIMIT); /* wait and retry, not a refusal */
    assert_string_equal(err, "kraken: EAPI:Rate limit exceeded");
    static const char html[] = "<html>busy</html>", noarr[] = "{\"error\":[],\"result\":{\"last\":1}}";
    assert_int_equal(feed_adapter_kraken.rest_parse(html, strlen(html), "X-Y", rows, 4, &n, drops, err, sizeof err),
                     PT_EPARSE);
    assert_int_equal(feed_adapter_kraken.rest_parse(noarr, strlen(noarr), "X-Y", rows, 4, &n, drops, err,
                                                    sizeof err), PT_EPARSE);
    static const char mixed[] = "{\"error\":[],\"result\":{\"XXBTZUSD\":[[1791318960,\"2\",\"2\",\"2\",\"2\",\"2\","
                                "\"1\",3],[1791318900,\"1\",\"1\",\"1\",\"1\",\"1\",\"x\",3],[17,\"1\",\"1\",\"1\","
                                "\"1\",\"1\",\"1\",1]],\"last\":1791318960}}";
    memset(drops, 0, sizeof drops);
    assert_int_equal(feed_adapter_kraken.rest_parse(mixed, strlen(mixed), "BTC-USD", rows, 4, &n, drops, err,
                                                    sizeof err), PT_OK);
    assert_int_equal(n, 1); /* the pair key differs from the request: still read */
    assert_int_equal(drops[FEED_DROP_BAD_NUMBER] + drops[FEED_DROP_BAD_TIME], 2);
}

static feed_msg_kind cb(const char *name, int64_t ival)
{
    size_t n;
    char *m = fixture("coinbase", name, &n);
    feed_adapter_coinbase.parse(m, n, ival, &po);
    free(m);
    return po.kind;
}

static void test_coinbase_ws(void **st)
{
    (void)st;
    const int64_t m5 = 300000;
    assert_ptr_equal(feed_adapter_find("coinbase"), &feed_adapter_coinbase);
    assert_int_equal(cb("ws_candles_doc.json", m5), FEED_MSG_CANDLE);
    assert_int_equal(po.n, 1);
    assert_string_equal(po.candles[0].symbol, "ETH-USD");
    assert_int_equal(po.candles[0].ts_ms, 1688998200000LL); /* start: unix seconds */
    assert_int_equal(po.candles[0].closed, 0);
    assert_true(po.candles[0].open == 1867.38 && po.candles[0].high == 1867.72 && po.candles[0].low == 1865.63 &&
                po.candles[0].close == 1866.81 && po.candles[0].volume == 0.20269406);
    assert_int_equal(po.event_ms, 1686341975396LL); /* message timestamp, ns cut to ms */
    /* five-minute buckets only: a 1m feed refuses them */
    assert_int_equal(cb("ws_candles_doc.json", 60000), FEED_MSG_DROP);
    assert_int_equal(po.reason, FEED_DROP_WRONG_INTERVAL);
    assert_int_equal(cb("ws_heartbeats_doc.json", m5), FEED_MSG_IGNORE);
    assert_int_equal(cb("ws_subscriptions.json", m5), FEED_MSG_ACK);
    assert_int_equal(cb("ws_error.json", m5), FEED_MSG_DROP);
    assert_int_equal(po.reason, FEED_DROP_EXCHANGE_ERROR);
    assert_non_null(strstr(po.detail, "Failed to subscribe")); /* the venue's words */
    static const struct {
        const char *msg;
        feed_drop_reason why;
    } bad[] = {
        {"{\"channel\":\"candles\",\"events\":[{\"candles\":[{\"start\":\"1688998230\",\"high\":\"1\",\"low\":\"1\","
         "\"open\":\"1\",\"close\":\"1\",\"volume\":\"1\",\"product_id\":\"ETH-USD\"}]}]}", FEED_DROP_BAD_TIME},
        {"{\"channel\":\"candles\",\"events\":[{\"candles\":[{\"start\":\"1688998200\",\"high\":1,\"low\":\"1\","
         "\"open\":\"1\",\"close\":\"1\",\"volume\":\"1\",\"product_id\":\"ETH-USD\"}]}]}", FEED_DROP_BAD_NUMBER},
        {"{\"channel\":\"candles\",\"events\":[{\"candles\":[{\"start\":\"1688998200\",\"high\":\"1\",\"low\":\"1\","
         "\"open\":\"1\",\"close\":\"1\",\"volume\":\"1\"}]}]}", FEED_DROP_SCHEMA},
        {"{\"channel\":\"candles\",\"events\":{}}", FEED_DROP_SCHEMA},
        {"{\"channel\":\"candles\",\"timestamp\":\"soon\",\"events\":[]}", FEED_DROP_BAD_TIME},
        {"{\"events\":[]}", FEED_DROP_SCHEMA},
        {"{\"channel\":\"candles\"", FEED_DROP_INVALID_JSON},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        feed_adapter_coinbase.parse(bad[i].msg, strlen(bad[i].msg), m5, &po);
        assert_int_equal(po.kind, FEED_MSG_DROP);
        assert_int_equal(po.reason, bad[i].why);
    }
}

/* a snapshot with more buckets than one parse holds: the newest, ascending */
static void test_coinbase_snapshot(void **st)
{
    (void)st;
    char msg[4096];
    size_t w = (size_t)snprintf(msg, sizeof msg, "{\"channel\":\"candles\",\"events\":[{\"type\":\"snapshot\",\"candles\":[");
    for (int i = 0; i < 12; i++) /* newest first, as REST sends them */
        w += (size_t)snprintf(msg + w, sizeof msg - w, "%s{\"start\":\"%d\",\"high\":\"2\",\"low\":\"1\",\"open\":\"1\","
                              "\"close\":\"2\",\"volume\":\"3\",\"product_id\":\"BTC-USD\"}", i ? "," : "",
                              1700000100 - i * 300);
    snprintf(msg + w, sizeof msg - w, "]}]}");
    feed_adapter_coinbase.parse(msg, strlen(msg), 300000, &po);
    assert_int_equal(po.kind, FEED_MSG_CANDLE);
    assert_int_equal(po.n, FEED_PARSE_MAX);
    for (size_t i = 0; i < po.n; i++)
        assert_int_equal(po.candles[i].ts_ms, (1700000100LL - (int64_t)(FEED_PARSE_MAX - 1 - i) * 300) * 1000);
}

static void test_coinbase_requests(void **st)
{
    (void)st;
    char buf[512], sub[512];
    size_t n = 0;
    const char *syms[] = {"ETH-USD", "btc-usd"};
    assert_int_equal(feed_adapter_coinbase.subscribe(syms, 2, 300000, sub, sizeof sub, &n), PT_OK);
    /* two messages, NUL-separated: one channel per subscribe */
    assert_string_equal(sub, "{\"type\":\"subscribe\",\"channel\":\"candles\",\"product_ids\":[\"ETH-USD\",\"BTC-USD\"]}");
    assert_string_equal(sub + strlen(sub) + 1, "{\"type\":\"subscribe\",\"channel\":\"heartbeats\"}");
    assert_int_equal(n, strlen(sub) + 1 + strlen(sub + strlen(sub) + 1));
    assert_int_equal(feed_adapter_coinbase.subscribe(syms, 2, 60000, sub, sizeof sub, &n), PT_EUNSUPPORTED);
    const char *nodash[] = {"BTCUSD"};
    assert_int_equal(feed_adapter_coinbase.subscribe(nodash, 1, 300000, sub, sizeof sub, &n), PT_EINVAL);
    assert_int_equal(feed_adapter_coinbase.interval_name(60000, buf, sizeof buf), PT_OK);
    assert_string_equal(buf, "ONE_MINUTE");
    assert_int_equal(feed_adapter_coinbase.interval_name(1000, buf, sizeof buf), PT_EUNSUPPORTED);
    assert_int_equal(feed_adapter_coinbase.rest_url_for("http://h", "BTC-USD", 60000, 1712188800000LL,
                                                        1712188800000LL + 349 * 60000, 350, buf, sizeof buf), PT_OK);
    assert_string_equal(buf, "http://h/api/v3/brokerage/market/products/BTC-USD/candles?start=1712188800&end=1712209740"
                             "&granularity=ONE_MINUTE");
}

static void test_coinbase_rest(void **st)
{
    (void)st;
    pt_candle rows[4];
    uint64_t drops[FEED_DROP__COUNT] = {0};
    char err[256] = "";
    size_t n = 9, len;
    char *b = fixture("coinbase", "rest_candles.json", &len);
    assert_int_equal(feed_adapter_coinbase.rest_parse(b, len, "BTC-USD", rows, 4, &n, drops, err, sizeof err), PT_OK);
    free(b);
    assert_int_equal(n, 2);
    assert_int_equal(rows[0].ts_ms, 1712188800000LL); /* newest first on the wire, ascending here */
    assert_int_equal(rows[1].ts_ms, 1712192400000LL);
    assert_true(rows[1].low == 66055.14 && rows[1].high == 66331.99 && rows[1].volume == 355.82896243);
    assert_int_equal(rows[1].closed, 1);
    assert_int_equal(feed_adapter_coinbase.rest_parse(b = fixture("coinbase", "rest_candles.json", &len), len,
                                                      "BTC-USD", rows, 1, &n, drops, err, sizeof err), PT_EFULL);
    free(b);
    b = fixture("coinbase", "rest_error.json", &len); /* comes with a 4xx: feed_rest quotes "message" */
    assert_int_equal(feed_adapter_coinbase.rest_parse(b, len, "X-Y", rows, 4, &n, drops, err, sizeof err), PT_EPARSE);
    free(b);
    assert_int_equal(n, 0);
}

static void test_venue_table(void **st)
{
    (void)st;
    feed_venue v;
    size_t i = 0, kraken = 0;
    for (; feed_venue_at(i, &v) == PT_OK; i++) {
        assert_non_null(feed_adapter_find(v.name));
        assert_true(v.n_intervals > 0 && v.market && v.finality && v.rest_page > 0);
        if (!strcmp(v.name, "kraken")) {
            kraken = 1;
            assert_int_equal(v.history_bars, 720);
            assert_int_equal(v.n_intervals, 9);
            assert_int_equal(v.closed_flag, 0);
        }
        if (!strcmp(v.name, "coinbase"))
            assert_int_equal(v.live_interval_ms, 300000);
    }
    assert_true(i >= 5 && kraken);
    assert_non_null(strstr(feed_adapter_names(), "kraken"));
}

/* [feed] exchange keeps its own list (ops does not depend on feed): it must
 * name exactly the registry's venues, in its order */
static void test_config_enum_is_registry(void **st)
{
    (void)st;
    ops_config_key_info k;
    char want[256] = "", got[256];
    size_t w = 0;
    const feed_adapter *a;
    for (size_t i = 0; (a = feed_adapter_at(i)); i++)
        w += (size_t)snprintf(want + w, sizeof want - w, "%s%s", i ? "|" : "", a->name);
    int found = 0;
    for (size_t i = 0; ops_config_key_at(i, &k) == PT_OK; i++)
        if (!strcmp(k.section, "feed") && !strcmp(k.key, "exchange")) {
            snprintf(got, sizeof got, "%s", k.choices);
            found = 1;
        }
    assert_true(found);
    assert_string_equal(got, want);
    /* and the message list is the same names */
    snprintf(got, sizeof got, "%s", feed_adapter_names());
    for (char *p = got; (p = strstr(p, ", ")); p++)
        memmove(p, p + 1, strlen(p + 1) + 1), *p = '|';
    assert_string_equal(got, want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kraken_ws),   cmocka_unit_test(test_kraken_malformed),
        cmocka_unit_test(test_kraken_requests), cmocka_unit_test(test_kraken_rest),
        cmocka_unit_test(test_coinbase_ws), cmocka_unit_test(test_coinbase_snapshot),
        cmocka_unit_test(test_coinbase_requests), cmocka_unit_test(test_coinbase_rest),
        cmocka_unit_test(test_venue_table), cmocka_unit_test(test_config_enum_is_registry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
