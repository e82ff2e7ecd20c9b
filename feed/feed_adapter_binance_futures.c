/* feed: Binance USD-M (USDT-margined) perpetual futures adapter,
 * "binance-futures". The envelope, kline payload and serverShutdown are
 * spot's (feed_adapter_binance.c); this file adds what the USD-M docs say
 * differs. Every fact below is from
 * https://developers.binance.com/docs/derivatives/usds-margined-futures/ :
 *   [ws]     websocket-market-streams (base wss://fstream.binance.com;
 *            /stream?streams=a/b combined, {"stream","data"} wrapping;
 *            lowercase symbols; 24 h connections; at most 200 streams per
 *            connection; the server pings every 3 minutes) and
 *            websocket-market-streams/Important-WebSocket-Change-Notice
 *            (routed bases: @markPrice is "market" data, served only under
 *            wss://fstream.binance.com/market; legacy unrouted URLs retired
 *            2026-04-23, so the default base carries /market)
 *   [kline]  websocket-market-streams/Kline-Candlestick-Streams
 *            (<symbol>@kline_<interval>, every 250 ms, intervals 1m..1M: no 1s;
 *            payload as spot, k.x = closed)
 *   [mark]   websocket-market-streams/Mark-Price-Stream
 *            (<symbol>@markPrice every 3 s or @markPrice@1s; e
 *            "markPriceUpdate", E event time, s, p mark, i index, P estimated
 *            settle, r funding rate, T next funding time)
 *   [klines] market-data/rest-api/Kline-Candlestick-Data (GET /fapi/v1/klines;
 *            limit default 500, max 1500; weight 5 for [500, 1000], 10 above:
 *            pages of 1000 cost least per row)
 *   [mklines] market-data/rest-api/Mark-Price-Kline-Candlestick-Data
 *            (GET /fapi/v1/markPriceKlines; rows as klines, volume "Ignore")
 *   [fund]   market-data/rest-api/Get-Funding-Rate-History (GET
 *            /fapi/v1/fundingRate; startTime/endTime INCLUSIVE, limit default
 *            100, max 1000, ascending; rows {symbol, fundingRate, fundingTime,
 *            markPrice}; weight: 500 per 5 min per IP shared with fundingInfo)
 *   [premium] market-data/rest-api/Mark-Price (GET /fapi/v1/premiumIndex)
 *   [info]   market-data/rest-api/Exchange-Information (GET
 *            /fapi/v1/exchangeInfo; symbols[].contractType "PERPETUAL", status)
 *   [errors] error bodies {"code":-1121,"msg":"Invalid symbol."} (as spot).
 * Leverage brackets (account/rest-api/Notional-and-Leverage-Brackets, GET
 * /fapi/v1/leverageBracket) are USER_DATA: a signed request with an API key.
 * papertrader holds no keys, so brackets come from the config / defaults of
 * the engine, never from this adapter (docs/feed.md). */
#include "feed_live_internal.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int bf_interval(int64_t ms, char *buf, size_t cap) { return feed_binance_interval(ms, 0, buf, cap); }

static int bf_ws_path(const char *const *syms, size_t n, int64_t interval_ms, char *buf, size_t cap)
{
    char iv[8];
    int rc = bf_interval(interval_ms, iv, sizeof iv);
    if (rc)
        return rc;
    if (n * 2 > 200) /* [ws] 200 streams per connection: kline + mark per symbol */
        return PT_EFULL;
    size_t w = (size_t)snprintf(buf, cap, "/stream?streams=");
    for (size_t i = 0; i < n; i++) {
        char low[PT_SYMBOL_MAX];
        if (feed_binance_upper(syms[i], low, sizeof low))
            return PT_EINVAL;
        for (char *p = low; *p; p++)
            *p = (char)tolower((unsigned char)*p); /* [ws] lowercase */
        int k = snprintf(buf + w, cap > w ? cap - w : 0, "%s%s@kline_%s/%s@markPrice@1s", i ? "/" : "", low, iv, low);
        if (k < 0 || w + (size_t)k >= cap)
            return PT_EFULL;
        w += (size_t)k;
    }
    return PT_OK;
}

static int bf_subscribe(const char *const *syms, size_t n, int64_t interval_ms, char *buf, size_t cap,
                        size_t *len)
{
    (void)syms, (void)n, (void)interval_ms, (void)buf, (void)cap;
    *len = 0; /* streams are named in the URL */
    return PT_OK;
}

/* a signed decimal string (funding rates go negative); |r| < 1 */
static int bf_rate(const cJSON *it, double *v)
{
    if (!cJSON_IsString(it) || !it->valuestring || !it->valuestring[0])
        return PT_EPARSE;
    if (pt_parse_decimal(it->valuestring, strlen(it->valuestring), v, NULL) || !isfinite(*v) || fabs(*v) >= 1)
        return PT_ERANGE;
    return PT_OK;
}

/* [mark] one markPriceUpdate -> out->mark */
static void bf_mark(const cJSON *ev, const char *type, feed_parse_out *out)
{
    if (strcmp(type, "markPriceUpdate")) {
        out->kind = FEED_MSG_IGNORE;
        return;
    }
    feed_mark *m = &out->mark;
    pt_candle probe;
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(ev, "s");
    const cJSON *i = cJSON_GetObjectItemCaseSensitive(ev, "i");
    if (feed_json_time(cJSON_GetObjectItemCaseSensitive(ev, "E"), &m->event_ms)) {
        feed_drop(out, FEED_DROP_BAD_TIME, "field E: missing or out of range");
        return;
    }
    if (!cJSON_IsString(s) || feed_candle_set_symbol(&probe, s->valuestring)) {
        feed_drop(out, FEED_DROP_SCHEMA, "field s: missing or not a symbol");
        return;
    }
    memcpy(m->symbol, probe.symbol, sizeof m->symbol);
    if (feed_json_price(cJSON_GetObjectItemCaseSensitive(ev, "p"), 0, &m->mark_price)) {
        feed_drop(out, FEED_DROP_BAD_NUMBER, "field p: mark price not a positive decimal string");
        return;
    }
    if (i && feed_json_price(i, 0, &m->index_price)) {
        feed_drop(out, FEED_DROP_BAD_NUMBER, "field i: index price not a positive decimal string");
        return;
    }
    /* [mark] a delivery contract shows r "" and T 0: not a perpetual */
    if (bf_rate(cJSON_GetObjectItemCaseSensitive(ev, "r"), &m->funding_rate)) {
        feed_drop(out, FEED_DROP_BAD_NUMBER, "field r: funding rate not a decimal in (-1, 1) (not a perpetual?)");
        return;
    }
    if (feed_json_time(cJSON_GetObjectItemCaseSensitive(ev, "T"), &m->next_funding_ms)) {
        feed_drop(out, FEED_DROP_BAD_TIME, "field T: next funding time missing or out of range");
        return;
    }
    out->event_ms = m->event_ms;
    out->kind = FEED_MSG_MARK;
}

static void bf_parse(const char *msg, size_t len, int64_t interval_ms, feed_parse_out *out)
{
    feed_binance_parse(msg, len, interval_ms, bf_interval, bf_mark, out);
}

static int bf_url(const char *base, const char *path, const char *symbol, int64_t interval_ms, int64_t start_ms,
                  int64_t end_ms, int limit, char *buf, size_t cap)
{
    char iv[8], up[PT_SYMBOL_MAX];
    int rc = bf_interval(interval_ms, iv, sizeof iv);
    if (rc)
        return rc;
    if (feed_binance_upper(symbol, up, sizeof up))
        return PT_EINVAL;
    int w = snprintf(buf, cap, "%s%s?symbol=%s&interval=%s&startTime=%lld&endTime=%lld&limit=%d", base, path, up, iv,
                     (long long)start_ms, (long long)end_ms, limit);
    return w < 0 || (size_t)w >= cap ? PT_EFULL : PT_OK;
}

static int bf_rest_url(const char *base, const char *symbol, int64_t interval_ms, int64_t start_ms, int64_t end_ms,
                       int limit, char *buf, size_t cap)
{
    return bf_url(base, "/fapi/v1/klines", symbol, interval_ms, start_ms, end_ms, limit, buf, cap); /* [klines] */
}

static int bf_mark_url(const char *base, const char *symbol, int64_t interval_ms, int64_t start_ms, int64_t end_ms,
                       int limit, char *buf, size_t cap)
{
    return bf_url(base, "/fapi/v1/markPriceKlines", symbol, interval_ms, start_ms, end_ms, limit, buf, cap);
}

/* [mklines] the volume column is "Ignore" ("0 " in the doc's example) */
static int bf_mark_parse(const char *body, size_t len, const char *symbol, pt_candle *out, size_t cap, size_t *n,
                         uint64_t drops[FEED_DROP__COUNT], char *err, size_t errcap)
{
    (void)err, (void)errcap;
    *n = 0;
    cJSON *root = feed_rest_json(body, len, symbol, drops);
    if (!root)
        return PT_EPARSE;
    int rc = feed_rest_rows_with(root, symbol, feed_adapter_parse_mark_row, out, cap, n, drops);
    cJSON_Delete(root);
    return rc;
}

static int bf_funding_url(const char *base, const char *symbol, int64_t start_ms, int64_t end_ms, int limit,
                          char *buf, size_t cap)
{
    char up[PT_SYMBOL_MAX];
    if (feed_binance_upper(symbol, up, sizeof up))
        return PT_EINVAL;
    int w = snprintf(buf, cap, "%s/fapi/v1/fundingRate?symbol=%s&startTime=%lld&endTime=%lld&limit=%d", base, up,
                     (long long)start_ms, (long long)end_ms, limit); /* [fund] */
    return w < 0 || (size_t)w >= cap ? PT_EFULL : PT_OK;
}

/* [fund] one {symbol, fundingRate, fundingTime, markPrice} row; markPrice
 * may be absent or "" in old rows (0 = unknown) */
static int bf_funding_row(const cJSON *row, const char *symbol, feed_funding *f, feed_parse_out *po)
{
    memset(f, 0, sizeof *f);
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(row, "symbol");
    const cJSON *mp = cJSON_GetObjectItemCaseSensitive(row, "markPrice");
    if (!cJSON_IsObject(row)) {
        feed_drop(po, FEED_DROP_SCHEMA, "row is not an object");
        return PT_EPARSE;
    }
    if (feed_json_time(cJSON_GetObjectItemCaseSensitive(row, "fundingTime"), &f->ts_ms)) {
        feed_drop(po, FEED_DROP_BAD_TIME, "field fundingTime: missing or out of range");
        return PT_EPARSE;
    }
    if (bf_rate(cJSON_GetObjectItemCaseSensitive(row, "fundingRate"), &f->rate)) {
        feed_drop(po, FEED_DROP_BAD_NUMBER, "field fundingRate: not a decimal in (-1, 1)");
        return PT_EPARSE;
    }
    if (cJSON_IsString(mp) && mp->valuestring[0] && feed_json_price(mp, 0, &f->mark_price)) {
        feed_drop(po, FEED_DROP_BAD_NUMBER, "field markPrice: not a positive decimal string");
        return PT_EPARSE;
    }
    if (cJSON_IsString(s) && strcasecmp(s->valuestring, symbol)) {
        feed_drop(po, FEED_DROP_WRONG_SYMBOL, "field symbol: %.20s, not the one asked for", s->valuestring);
        return PT_EPARSE;
    }
    snprintf(f->symbol, sizeof f->symbol, "%s", symbol);
    return PT_OK;
}

static int bf_funding_parse(const char *body, size_t len, const char *symbol, feed_funding *out, size_t cap,
                            size_t *n, uint64_t drops[FEED_DROP__COUNT], char *err, size_t errcap)
{
    (void)err, (void)errcap;
    *n = 0;
    cJSON *root = feed_rest_json(body, len, symbol, drops);
    if (!root)
        return PT_EPARSE;
    int rc = PT_OK;
    size_t k = 0, row_no = 0;
    const cJSON *row;
    feed_parse_out po;
    if (!cJSON_IsArray(root)) {
        drops[FEED_DROP_SCHEMA]++;
        pt_warn("feed: REST %s: funding body is not a JSON array", symbol);
        rc = PT_EPARSE;
    }
    const cJSON *rows = rc ? NULL : root;
    cJSON_ArrayForEach(row, rows)
    {
        row_no++;
        if (k >= cap) {
            rc = PT_EFULL;
            break;
        }
        if (bf_funding_row(row, symbol, &out[k], &po)) {
            drops[po.reason]++;
            pt_warn("feed: REST %s funding row %zu dropped: %s", symbol, row_no, po.detail);
            continue;
        }
        if (k && out[k].ts_ms <= out[k - 1].ts_ms) { /* [fund] ascending: anything else is not trusted */
            drops[FEED_DROP_SCHEMA]++;
            pt_warn("feed: REST %s funding row %zu dropped: fundingTime not after the previous row", symbol, row_no);
            continue;
        }
        k++;
    }
    *n = k;
    cJSON_Delete(root);
    return rc;
}

/* [info] symbols[] entry of symbol: a PERPETUAL that is TRADING */
static int bf_info_check(const char *body, size_t len, const char *symbol, char *why, size_t cap)
{
    feed_parse_out po;
    char up[PT_SYMBOL_MAX];
    cJSON *root = feed_json_parse(body, len, &po);
    int rc = PT_EINVAL;
    const cJSON *e, *syms = cJSON_GetObjectItemCaseSensitive(root, "symbols");
    if (feed_binance_upper(symbol, up, sizeof up)) {
        snprintf(why, cap, "'%s' is not a symbol", symbol ? symbol : "");
        goto done;
    }
    if (!cJSON_IsArray(syms)) {
        snprintf(why, cap, "exchange info without a symbols array");
        rc = PT_EPARSE;
        goto done;
    }
    snprintf(why, cap, "%s is not listed on binance-futures", up);
    cJSON_ArrayForEach(e, syms)
    {
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(e, "symbol");
        if (!cJSON_IsString(s) || strcmp(s->valuestring, up))
            continue;
        const cJSON *ct = cJSON_GetObjectItemCaseSensitive(e, "contractType");
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(e, "status");
        const char *ctv = cJSON_IsString(ct) ? ct->valuestring : "?", *stv = cJSON_IsString(st) ? st->valuestring : "?";
        if (strcmp(ctv, "PERPETUAL"))
            snprintf(why, cap, "%s is %.20s, not a perpetual", up, ctv);
        else if (strcmp(stv, "TRADING"))
            snprintf(why, cap, "%s is not trading (status %.20s)", up, stv);
        else
            rc = PT_OK;
        break;
    }
done:
    cJSON_Delete(root);
    return rc;
}

int feed_bnf_premium_parse(const char *body, size_t len, feed_mark *m, char *why, size_t cap)
{
    feed_parse_out po;
    pt_candle probe;
    memset(m, 0, sizeof *m);
    cJSON *root = feed_json_parse(body, len, &po);
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(root, "symbol");
    const char *bad = !root                                                                    ? "not JSON"
                      : !cJSON_IsString(s) || feed_candle_set_symbol(&probe, s->valuestring)  ? "symbol"
                      : feed_json_price(cJSON_GetObjectItemCaseSensitive(root, "markPrice"), 0, &m->mark_price)
                          ? "markPrice"
                      : feed_json_price(cJSON_GetObjectItemCaseSensitive(root, "indexPrice"), 0, &m->index_price)
                          ? "indexPrice"
                      : bf_rate(cJSON_GetObjectItemCaseSensitive(root, "lastFundingRate"), &m->funding_rate)
                          ? "lastFundingRate"
                      : feed_json_time(cJSON_GetObjectItemCaseSensitive(root, "nextFundingTime"), &m->next_funding_ms)
                          ? "nextFundingTime"
                      : feed_json_time(cJSON_GetObjectItemCaseSensitive(root, "time"), &m->event_ms) ? "time"
                                                                                                      : NULL;
    if (!bad)
        memcpy(m->symbol, probe.symbol, sizeof m->symbol);
    else
        snprintf(why, cap, "premiumIndex: field %s missing or bad", bad);
    cJSON_Delete(root);
    return bad ? PT_EPARSE : PT_OK;
}

const feed_adapter feed_adapter_binance_futures = {
    .name = "binance-futures",
    .ws_url = "wss://fstream.binance.com/market", /* [ws] routed base of kline and markPrice */
    .rest_url = "https://fapi.binance.com",
    .has_closed_flag = 1,       /* [kline] k.x */
    .rest_max_limit = 1000,     /* [klines] cheapest weight per row */
    .update_period_ms = 1000,   /* [mark] @markPrice@1s: stale after 10 s of silence */
    .market = "perp",
    .history_bars = 0,
    .finality = "explicit closed flag k.x (exchange clock)",
    .interval_name = bf_interval,
    .ws_path = bf_ws_path,
    .subscribe = bf_subscribe,
    .parse = bf_parse,
    .rest_url_for = bf_rest_url,
    .perp = 1,
    .mark_url_for = bf_mark_url,
    .mark_parse = bf_mark_parse,
    .funding_url_for = bf_funding_url,
    .funding_parse = bf_funding_parse,
    .funding_max_limit = 1000, /* [fund] */
    .info_path = "/fapi/v1/exchangeInfo", /* [info] */
    .info_check = bf_info_check,
};
