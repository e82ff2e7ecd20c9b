/* feed: Binance USD-M futures (binance-futures, issue 16): the parsers on the
 * verbatim example messages of the public docs, the requests the adapter
 * builds, broken variants (each dropped with a reason), and the perpetual
 * state (feed_perp.c: order, mark bars, the funding rule). Sources, under
 * https://developers.binance.com/docs/derivatives/usds-margined-futures/ :
 *   websocket-market-streams/Kline-Candlestick-Streams (kline example)
 *   websocket-market-streams/Mark-Price-Stream (markPriceUpdate example)
 *   market-data/rest-api/Mark-Price-Kline-Candlestick-Data (rows; volume "0 ")
 *   market-data/rest-api/Get-Funding-Rate-History (rows)
 * and the error body {"code":-1121,"msg":"Invalid symbol."} of the general
 * info page. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "feed_live_internal.h"

#define AD feed_adapter_binance_futures

static feed_parse_out po;

static feed_msg_kind bf(const char *msg, int64_t ival)
{
    AD.parse(msg, strlen(msg), ival, &po);
    return po.kind;
}

/* Kline-Candlestick-Streams "Response Example", verbatim (comments removed) */
static const char kline_doc[] =
    "{\n  \"e\": \"kline\",\n  \"E\": 1638747660000,\n  \"s\": \"BTCUSDT\",\n  \"k\": {\n    \"t\": 1638747660000,\n"
    "    \"T\": 1638747719999,\n    \"s\": \"BTCUSDT\",\n    \"i\": \"1m\",\n    \"f\": 100,\n    \"L\": 200,\n"
    "    \"o\": \"0.0010\",\n    \"c\": \"0.0020\",\n    \"h\": \"0.0025\",\n    \"l\": \"0.0015\",\n"
    "    \"v\": \"1000\",\n    \"n\": 100,\n    \"x\": false,\n    \"q\": \"1.0000\",\n    \"V\": \"500\",\n"
    "    \"Q\": \"0.500\",\n    \"B\": \"123456\"\n  }\n}";

/* Mark-Price-Stream "Response Example", verbatim (comments removed) */
static const char mark_doc[] =
    "  {\n    \"e\": \"markPriceUpdate\",\n    \"E\": 1562305380000,\n    \"s\": \"BTCUSDT\",\n"
    "    \"p\": \"11794.15000000\",\n    \"i\": \"11784.62659091\",\n    \"P\": \"11784.25641265\",\n"
    "    \"r\": \"0.00038167\",\n    \"T\": 1562306400000\n  }";

/* Mark-Price-Kline-Candlestick-Data "Response Example", verbatim (comments removed) */
static const char mklines_doc[] =
    "[\n  [\n    1591256460000,\n    \"9653.29201333\",\n    \"9654.56401333\",\n    \"9653.07367333\",\n"
    "    \"9653.07367333\",\n    \"0 \",\n    1591256519999,\n    \"0\",\n    60,\n    \"0\",\n    \"0\",\n    \"0\"\n  ]\n]";

/* Get-Funding-Rate-History "Response Example", verbatim (comments removed) */
static const char funding_doc[] =
    "[\n  {\n    \"symbol\": \"BTCUSDT\",\n    \"fundingRate\": \"-0.03750000\",\n    \"fundingTime\": 1570608000000,\n"
    "    \"markPrice\": \"34287.54619963\"\n  },\n  {\n    \"symbol\": \"BTCUSDT\",\n"
    "    \"fundingRate\": \"0.00010000\",\n    \"fundingTime\": 1570636800000,\n"
    "    \"markPrice\": \"34287.54619963\"\n  }\n]";

static void test_registered(void **st)
{
    (void)st;
    assert_ptr_equal(feed_adapter_find("binance-futures"), &AD);
    assert_true(feed_exchange_is_perp("binance-futures"));
    assert_false(feed_exchange_is_perp("binance")); /* spot only: a perp session is refused */
    assert_false(feed_exchange_is_perp("bybit"));
    assert_false(feed_exchange_is_perp("nope"));
    assert_false(feed_exchange_is_perp(NULL));
    char b[8];
    assert_int_equal(AD.interval_name(60000, b, sizeof b), PT_OK);
    assert_string_equal(b, "1m");
    assert_int_equal(AD.interval_name(8 * 3600000LL, b, sizeof b), PT_OK);
    assert_string_equal(b, "8h");
    assert_int_equal(AD.interval_name(1000, b, sizeof b), PT_EUNSUPPORTED); /* USD-M has no 1s */
    assert_int_equal(feed_adapter_binance.interval_name(1000, b, sizeof b), PT_OK); /* spot does */
}

static void test_kline_doc(void **st)
{
    (void)st;
    assert_int_equal(bf(kline_doc, 60000), FEED_MSG_CANDLE);
    assert_int_equal(po.n, 1);
    const pt_candle *c = &po.candles[0];
    assert_string_equal(c->symbol, "BTCUSDT");
    assert_int_equal(c->ts_ms, 1638747660000LL);
    assert_true(c->open == 0.001 && c->close == 0.002 && c->high == 0.0025 && c->low == 0.0015 && c->volume == 1000);
    assert_int_equal(c->closed, 0);
    assert_int_equal(po.event_ms, 1638747660000LL);
    assert_int_equal(bf(kline_doc, 300000), FEED_MSG_DROP); /* subscribed 5m */
    assert_int_equal(po.reason, FEED_DROP_WRONG_INTERVAL);
    char wrapped[1024];
    snprintf(wrapped, sizeof wrapped, "{\"stream\":\"btcusdt@kline_1m\",\"data\":%s}", kline_doc);
    assert_int_equal(bf(wrapped, 60000), FEED_MSG_CANDLE);
}

static void test_mark_doc(void **st)
{
    (void)st;
    assert_int_equal(bf(mark_doc, 60000), FEED_MSG_MARK);
    const feed_mark *m = &po.mark;
    assert_string_equal(m->symbol, "BTCUSDT");
    assert_int_equal(m->event_ms, 1562305380000LL);
    assert_true(m->mark_price == 11794.15 && m->index_price == 11784.62659091);
    assert_true(m->funding_rate == 0.00038167);
    assert_int_equal(m->next_funding_ms, 1562306400000LL);
    assert_int_equal(po.event_ms, m->event_ms);
    char wrapped[1024];
    snprintf(wrapped, sizeof wrapped, "{\"stream\":\"btcusdt@markPrice@1s\",\"data\":%s}", mark_doc);
    assert_int_equal(bf(wrapped, 60000), FEED_MSG_MARK);
    /* spot's parser does not know the event: valid but uninteresting */
    feed_adapter_binance.parse(mark_doc, strlen(mark_doc), 60000, &po);
    assert_int_equal(po.kind, FEED_MSG_IGNORE);
}

/* one field of mark_doc replaced: dropped with the reason */
static void broken(const char *from, const char *to, feed_drop_reason want)
{
    char buf[1024];
    const char *at = strstr(mark_doc, from);
    assert_non_null(at);
    snprintf(buf, sizeof buf, "%.*s%s%s", (int)(at - mark_doc), mark_doc, to, at + strlen(from));
    assert_int_equal(bf(buf, 60000), FEED_MSG_DROP);
    assert_int_equal(po.reason, want);
    assert_non_null(memchr(po.detail, 0, sizeof po.detail));
}

static void test_mark_broken_fields(void **st)
{
    (void)st;
    broken("\"p\": \"11794.15000000\"", "\"p\": 11794.15", FEED_DROP_BAD_NUMBER);   /* number, not a string */
    broken("\"p\": \"11794.15000000\"", "\"p\": \"-1\"", FEED_DROP_BAD_NUMBER);
    broken("\"i\": \"11784.62659091\"", "\"i\": \"x\"", FEED_DROP_BAD_NUMBER);
    broken("\"r\": \"0.00038167\"", "\"r\": \"1.5\"", FEED_DROP_BAD_NUMBER);       /* |r| >= 1 */
    broken("\"T\": 1562306400000", "\"T\": 0", FEED_DROP_BAD_TIME);              /* delivery: T 0 */
    broken("\"E\": 1562305380000", "\"E\": \"soon\"", FEED_DROP_BAD_TIME);
    broken("\"s\": \"BTCUSDT\"", "\"s\": \"BTC USDT\"", FEED_DROP_SCHEMA);
    /* a negative rate is normal: shorts pay longs */
    char neg[1024];
    const char *at = strstr(mark_doc, "0.00038167");
    snprintf(neg, sizeof neg, "%.*s-%s", (int)(at - mark_doc), mark_doc, at);
    assert_int_equal(bf(neg, 60000), FEED_MSG_MARK);
    assert_true(po.mark.funding_rate == -0.00038167);
}

static void test_errors_and_control(void **st)
{
    (void)st;
    assert_int_equal(bf("{\"code\":-1121,\"msg\":\"Invalid symbol.\"}", 60000), FEED_MSG_DROP);
    assert_int_equal(po.reason, FEED_DROP_EXCHANGE_ERROR);
    assert_non_null(strstr(po.detail, "Invalid symbol."));
    assert_int_equal(bf("{\"result\":null,\"id\":1}", 60000), FEED_MSG_ACK);
    assert_int_equal(bf("{\"e\":\"serverShutdown\",\"E\":1700000000000}", 60000), FEED_MSG_SHUTDOWN);
    assert_int_equal(bf("{\"e\":\"aggTrade\",\"E\":1700000000000}", 60000), FEED_MSG_IGNORE);
    assert_int_equal(bf("{\"e\":\"markPriceUpdate\"", 60000), FEED_MSG_DROP);
    assert_int_equal(po.reason, FEED_DROP_INVALID_JSON);
}

static void test_requests(void **st)
{
    (void)st;
    char b[512];
    const char *syms[] = {"BTCUSDT", "ethusdt"};
    assert_int_equal(AD.ws_path(syms, 2, 60000, b, sizeof b), PT_OK);
    assert_string_equal(b, "/stream?streams=btcusdt@kline_1m/btcusdt@markPrice@1s/ethusdt@kline_1m/ethusdt@markPrice@1s");
    assert_string_equal(AD.ws_url, "wss://fstream.binance.com/market");
    assert_int_equal(AD.ws_path(syms, 2, 1000, b, sizeof b), PT_EUNSUPPORTED);
    const char *bad[] = {"BTC USDT"};
    assert_int_equal(AD.ws_path(bad, 1, 60000, b, sizeof b), PT_EINVAL);
    assert_int_equal(AD.ws_path(syms, 2, 60000, b, 20), PT_EFULL);
    assert_int_equal(AD.rest_url_for("https://fapi.binance.com", "btcusdt", 60000, 1, 2, 1000, b, sizeof b), PT_OK);
    assert_string_equal(b, "https://fapi.binance.com/fapi/v1/klines?symbol=BTCUSDT&interval=1m&startTime=1&endTime=2&limit=1000");
    assert_int_equal(AD.mark_url_for("http://h:1", "BTCUSDT", 3600000, 5, 6, 1000, b, sizeof b), PT_OK);
    assert_string_equal(b, "http://h:1/fapi/v1/markPriceKlines?symbol=BTCUSDT&interval=1h&startTime=5&endTime=6&limit=1000");
    assert_int_equal(AD.funding_url_for("http://h:1", "BTCUSDT", 5, 6, 1000, b, sizeof b), PT_OK);
    assert_string_equal(b, "http://h:1/fapi/v1/fundingRate?symbol=BTCUSDT&startTime=5&endTime=6&limit=1000");
    assert_int_equal(AD.funding_max_limit, 1000);
}

static void test_rest_docs(void **st)
{
    (void)st;
    pt_candle rows[4];
    feed_funding fr[4];
    size_t n = 0;
    uint64_t drops[FEED_DROP__COUNT] = {0};
    char err[64] = "";
    assert_int_equal(AD.mark_parse(mklines_doc, strlen(mklines_doc), "BTCUSDT", rows, 4, &n, drops, err, sizeof err),
                     PT_OK);
    assert_int_equal(n, 1); /* "0 " in the volume column: ignored, as the docs say */
    assert_int_equal(rows[0].ts_ms, 1591256460000LL);
    assert_true(rows[0].open == 9653.29201333 && rows[0].high == 9654.56401333 && rows[0].close == 9653.07367333);
    assert_true(rows[0].volume == 0 && rows[0].closed == 1);
    /* the trade klines parser would have refused that row (volume "0 ") */
    assert_int_equal(feed_rest_parse_rows(mklines_doc, strlen(mklines_doc), "BTCUSDT", rows, 4, &n, drops), PT_OK);
    assert_int_equal(n, 0);
    assert_int_equal(AD.funding_parse(funding_doc, strlen(funding_doc), "BTCUSDT", fr, 4, &n, drops, err, sizeof err),
                     PT_OK);
    assert_int_equal(n, 2);
    assert_int_equal(fr[0].ts_ms, 1570608000000LL);
    assert_true(fr[0].rate == -0.0375 && fr[0].mark_price == 34287.54619963);
    assert_true(fr[1].rate == 0.0001);
    assert_string_equal(fr[1].symbol, "BTCUSDT");
    memset(drops, 0, sizeof drops);
    static const char old_row[] = "[{\"symbol\":\"BTCUSDT\",\"fundingRate\":\"0.0001\",\"fundingTime\":1570608000000,"
                                  "\"markPrice\":\"\"},{\"symbol\":\"ETHUSDT\",\"fundingRate\":\"0.0001\","
                                  "\"fundingTime\":1570636800000},{\"fundingRate\":\"x\",\"fundingTime\":1570665600000}]";
    assert_int_equal(AD.funding_parse(old_row, strlen(old_row), "BTCUSDT", fr, 4, &n, drops, err, sizeof err), PT_OK);
    assert_int_equal(n, 1); /* empty markPrice kept as unknown; the other symbol and the bad rate dropped */
    assert_true(fr[0].mark_price == 0);
    assert_int_equal(drops[FEED_DROP_WRONG_SYMBOL], 1);
    assert_int_equal(drops[FEED_DROP_BAD_NUMBER], 1);
    static const char e1121[] = "{\"code\":-1121,\"msg\":\"Invalid symbol.\"}";
    assert_int_equal(AD.funding_parse(e1121, strlen(e1121), "X", fr, 4, &n, drops, err, sizeof err), PT_EPARSE);
    assert_int_equal(AD.funding_parse(funding_doc, strlen(funding_doc), "BTCUSDT", fr, 1, &n, drops, err, sizeof err),
                     PT_EFULL);
    char line[160];
    feed_funding f = {.symbol = "BTCUSDT", .ts_ms = 1570608000000LL, .rate = -0.0375, .mark_price = 34287.54619963};
    int w = feed_funding_format(&f, line, sizeof line);
    assert_int_equal(w, (int)strlen(line));
    assert_string_equal(line, "1570608000000,BTCUSDT,-0.0375,34287.54619963\n");
    f.mark_price = 0;
    feed_funding_format(&f, line, sizeof line);
    assert_string_equal(line, "1570608000000,BTCUSDT,-0.0375,\n");
    assert_int_equal(feed_funding_format(&f, line, 8), PT_EFULL);
    f.rate = -0.00005; /* plain decimals, never 5e-05 */
    feed_funding_format(&f, line, sizeof line);
    assert_string_equal(line, "1570608000000,BTCUSDT,-0.00005,\n");
    f.rate = 0;
    feed_funding_format(&f, line, sizeof line);
    assert_string_equal(line, "1570608000000,BTCUSDT,0,\n");
}

/* Exchange-Information "Response Example" (one symbol, trimmed of filters) and
 * Mark-Price "Response Example", verbatim (comments removed) */
static const char info_doc[] =
    "{\"exchangeFilters\": [],\"rateLimits\": [{\"interval\": \"MINUTE\",\"intervalNum\": 1,\"limit\": 2400,"
    "\"rateLimitType\": \"REQUEST_WEIGHT\"}],\"serverTime\": 1565613908500,\"symbols\": [{\"symbol\": \"BLZUSDT\","
    "\"pair\": \"BLZUSDT\",\"contractType\": \"PERPETUAL\",\"deliveryDate\": 4133404800000,\"onboardDate\": 1598252400000,"
    "\"status\": \"TRADING\",\"baseAsset\": \"BLZ\",\"quoteAsset\": \"USDT\",\"marginAsset\": \"USDT\"},"
    "{\"symbol\": \"BTCUSDT_240628\",\"contractType\": \"CURRENT_QUARTER\",\"status\": \"TRADING\"},"
    "{\"symbol\": \"OLDUSDT\",\"contractType\": \"PERPETUAL\",\"status\": \"SETTLING\"}],\"timezone\": \"UTC\"}";
static const char premium_doc[] =
    "{\n    \"symbol\": \"BTCUSDT\",\n    \"markPrice\": \"11793.63104562\",\n    \"indexPrice\": \"11781.80495970\",\n"
    "    \"estimatedSettlePrice\": \"11781.16138815\",\n    \"lastFundingRate\": \"0.00038246\",\n"
    "    \"nextFundingTime\": 1597392000000,\n    \"interestRate\": \"0.00010000\",\n    \"time\": 1597370495002\n}";

static void test_market_and_info(void **st)
{
    (void)st;
    char why[160];
    assert_int_equal(feed_check_market("binance", "spot", why, sizeof why), PT_OK);
    assert_int_equal(feed_check_market("binance-futures", "perp", why, sizeof why), PT_OK);
    assert_int_equal(feed_check_market("okx", "perp", why, sizeof why), PT_EINVAL);
    assert_string_equal(why, "--market perp needs a perpetual-futures exchange (binance-futures); 'okx' is spot only");
    assert_int_equal(feed_check_market("binance", "margin", why, sizeof why), PT_EINVAL);
    assert_int_equal(AD.info_check(info_doc, strlen(info_doc), "blzusdt", why, sizeof why), PT_OK);
    assert_int_equal(AD.info_check(info_doc, strlen(info_doc), "BTCUSDT_240628", why, sizeof why), PT_EINVAL);
    assert_string_equal(why, "BTCUSDT_240628 is CURRENT_QUARTER, not a perpetual");
    assert_int_equal(AD.info_check(info_doc, strlen(info_doc), "OLDUSDT", why, sizeof why), PT_EINVAL);
    assert_string_equal(why, "OLDUSDT is not trading (status SETTLING)");
    assert_int_equal(AD.info_check(info_doc, strlen(info_doc), "ETHUSDT", why, sizeof why), PT_EINVAL);
    assert_string_equal(why, "ETHUSDT is not listed on binance-futures");
    assert_int_equal(AD.info_check("[]", 2, "ETHUSDT", why, sizeof why), PT_EPARSE);
    feed_mark m;
    assert_int_equal(feed_bnf_premium_parse(premium_doc, strlen(premium_doc), &m, why, sizeof why), PT_OK);
    assert_string_equal(m.symbol, "BTCUSDT");
    assert_true(m.mark_price == 11793.63104562 && m.index_price == 11781.8049597 && m.funding_rate == 0.00038246);
    assert_int_equal(m.next_funding_ms, 1597392000000LL);
    assert_int_equal(m.event_ms, 1597370495002LL);
    assert_int_equal(feed_bnf_premium_parse("{\"symbol\":\"BTCUSDT\"}", 20, &m, why, sizeof why), PT_EPARSE);
    assert_string_equal(why, "premiumIndex: field markPrice missing or bad");
}

/* ------------------------------------------------------------ perpetual state */
#define H 3600000LL
#define T0 1704067200000LL /* 2024-01-01, a funding time */

static feed_mark mk(int64_t e, double p, double r, int64_t T)
{
    feed_mark m = {.symbol = "BTCUSDT", .event_ms = e, .mark_price = p, .funding_rate = r, .next_funding_ms = T};
    return m;
}

static void test_funding_rule(void **st)
{
    (void)st;
    feed_perp_series s;
    feed_perp_step o;
    feed_perp_init(&s, "BTCUSDT", 60000);
    feed_mark m = mk(T0 + 8 * H - 2000, 100, 0.0001, T0 + 8 * H);
    feed_perp_offer(&s, &m, &o);
    assert_true(o.mark_ok && !o.funding && !o.bar_closed);
    m = mk(T0 + 8 * H - 1000, 101, 0.0002, T0 + 8 * H); /* the rate announced last wins */
    feed_perp_offer(&s, &m, &o);
    assert_false(o.funding);
    m = mk(T0 + 8 * H - 1000, 999, 0.9, T0 + 8 * H); /* repeated E (a reconnect): dropped */
    feed_perp_offer(&s, &m, &o);
    assert_false(o.mark_ok);
    m = mk(T0 + 8 * H + 1000, 103, 0.0005, T0 + 16 * H); /* past T, the next T announced: settlement */
    feed_perp_offer(&s, &m, &o);
    assert_true(o.mark_ok && o.funding);
    assert_int_equal(o.fund.ts_ms, T0 + 8 * H);
    assert_true(o.fund.rate == 0.0002 && o.fund.mark_price == 101); /* last mark at or before T */
    assert_string_equal(o.fund.symbol, "BTCUSDT");
    assert_int_equal(o.gap, 0);
    assert_true(o.bar_closed); /* the bar of T-1s closed when an update of a later bar came */
    assert_int_equal(o.bar.ts_ms, T0 + 8 * H - 60000);
    assert_true(o.bar.open == 100 && o.bar.high == 101 && o.bar.low == 100 && o.bar.close == 101 && o.bar.closed == 1);
    m = mk(T0 + 8 * H + 2000, 104, 0.0005, T0 + 16 * H);
    feed_perp_offer(&s, &m, &o);
    assert_false(o.funding); /* once per T */
    /* an update exactly at T counts as "at or before T" for the mark */
    m = mk(T0 + 16 * H, 110, 0.0007, T0 + 16 * H);
    feed_perp_offer(&s, &m, &o);
    assert_false(o.funding);
    m = mk(T0 + 16 * H + 1000, 111, 0.0001, T0 + 24 * H);
    feed_perp_offer(&s, &m, &o);
    assert_true(o.funding && o.fund.ts_ms == T0 + 16 * H && o.fund.rate == 0.0007 && o.fund.mark_price == 110);
    /* away for two settlements: the next one after coming back is the one
     * announced last; the ones between are a counted gap, not invented */
    m = mk(T0 + 40 * H + 1000, 120, 0.0003, T0 + 48 * H);
    feed_perp_offer(&s, &m, &o);
    assert_true(o.funding && o.fund.ts_ms == T0 + 24 * H);
    assert_int_equal(o.gap, 2); /* 32 h and 40 h */
    /* an older announcement never moves T back */
    m = mk(T0 + 40 * H + 2000, 121, 0.5, T0 + 40 * H);
    feed_perp_offer(&s, &m, &o);
    assert_true(o.mark_ok && !o.funding);
    assert_int_equal(s.ann_T, T0 + 48 * H);
}

static void test_mark_bars(void **st)
{
    (void)st;
    feed_perp_series s;
    feed_perp_step o;
    feed_perp_init(&s, "ETHUSDT", 60000);
    const double p[] = {10, 12, 9, 11};
    for (int i = 0; i < 4; i++) { /* 4 updates in the minute from T0 */
        feed_mark m = mk(T0 + i * 15000, p[i], 0.0001, T0 + 8 * H);
        feed_perp_offer(&s, &m, &o);
        assert_false(o.bar_closed);
    }
    feed_mark m = mk(T0 + 3 * 60000 + 5, 13, 0.0001, T0 + 8 * H); /* two minutes without updates */
    feed_perp_offer(&s, &m, &o);
    assert_true(o.bar_closed);
    assert_string_equal(o.bar.symbol, "ETHUSDT");
    assert_int_equal(o.bar.ts_ms, T0);
    assert_true(o.bar.open == 10 && o.bar.high == 12 && o.bar.low == 9 && o.bar.close == 11 && o.bar.volume == 0);
    assert_int_equal(s.bar.ts_ms, T0 + 3 * 60000); /* no bar invented for the silent minutes */
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

/* the recording: headers, rows, a torn last line cut on reopen, no duplicate after a resume */
static void test_recorder(void **st)
{
    (void)st;
    char dir[] = "/tmp/pt-usdm-rec-XXXXXX", path[256];
    assert_non_null(mkdtemp(dir));
    const char *syms[] = {"BTCUSDT"};
    feed_perp_rec *r = NULL;
    assert_int_equal(feed_perp_rec_open(dir, syms, 1, &r), PT_OK);
    pt_candle b = {.symbol = "BTCUSDT", .ts_ms = T0, .open = 10, .high = 12, .low = 9, .close = 11.5, .closed = 1};
    feed_funding f = {.symbol = "BTCUSDT", .ts_ms = T0, .rate = 0.0001, .mark_price = 10};
    assert_int_equal(feed_perp_rec_mark_bar(r, &b), PT_OK);
    assert_int_equal(feed_perp_rec_funding(r, &f), PT_OK);
    pt_candle other = b;
    snprintf(other.symbol, sizeof other.symbol, "ETHUSDT");
    assert_int_equal(feed_perp_rec_mark_bar(r, &other), PT_OK); /* not opened: skipped */
    assert_int_equal(feed_perp_rec_sync(r), PT_OK);
    feed_perp_rec_free(r);
    snprintf(path, sizeof path, "%s/marks/BTCUSDT.csv", dir);
    assert_string_equal(slurp(path), "timestamp,open,high,low,close,volume\n1704067200000,10,12,9,11.5,0\n");
    FILE *tear = fopen(path, "ab"); /* a crash mid-row */
    fputs("1704067260000,10,1", tear);
    fclose(tear);
    assert_int_equal(feed_perp_rec_open(dir, syms, 1, &r), PT_OK);
    assert_int_equal(feed_perp_rec_mark_bar(r, &b), PT_OK); /* already recorded: skipped */
    b.ts_ms += 60000;
    assert_int_equal(feed_perp_rec_mark_bar(r, &b), PT_OK);
    assert_int_equal(feed_perp_rec_funding(r, &f), PT_OK); /* skipped */
    f.ts_ms += 8 * H;
    assert_int_equal(feed_perp_rec_funding(r, &f), PT_OK);
    feed_perp_rec_free(r);
    assert_string_equal(slurp(path), "timestamp,open,high,low,close,volume\n1704067200000,10,12,9,11.5,0\n"
                                     "1704067260000,10,12,9,11.5,0\n");
    snprintf(path, sizeof path, "%s/funding/BTCUSDT.csv", dir);
    assert_string_equal(slurp(path), "ts,symbol,rate,mark_price\n1704067200000,BTCUSDT,0.0001,10\n"
                                     "1704096000000,BTCUSDT,0.0001,10\n");
    feed_perp_rec_free(NULL);
    char bad[300];
    snprintf(bad, sizeof bad, "%s/marks/BTCUSDT.csv/x", dir); /* a file where a folder must be */
    assert_int_not_equal(feed_perp_rec_open(bad, syms, 1, &r), PT_OK);
    assert_null(r);
    static const char *const made[] = {"marks/BTCUSDT.csv", "funding/BTCUSDT.csv", "marks", "funding", ""};
    for (size_t i = 0; i < sizeof made / sizeof made[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, made[i]);
        assert_int_equal(i < 2 ? unlink(path) : rmdir(path), 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registered),    cmocka_unit_test(test_kline_doc),
        cmocka_unit_test(test_mark_doc),      cmocka_unit_test(test_mark_broken_fields),
        cmocka_unit_test(test_errors_and_control), cmocka_unit_test(test_requests),
        cmocka_unit_test(test_rest_docs),     cmocka_unit_test(test_funding_rule),
        cmocka_unit_test(test_mark_bars),     cmocka_unit_test(test_market_and_info),
        cmocka_unit_test(test_recorder),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
