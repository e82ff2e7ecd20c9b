/* feed: Bybit spot and USDT linear adapters (v5 public API; the linear one
 * at the end differs only in the category). Every fact below is from the
 * Bybit v5 docs:
 *   [conn]  https://bybit-exchange.github.io/docs/v5/ws/connect
 *           (endpoint wss://stream.bybit.com/v5/public/spot; "Spot can input
 *           up to 10 args for each subscription request"; args <= 21,000
 *           characters; ping {"req_id": "100001", "op": "ping"}, "we recommend
 *           that you send the ping heartbeat packet every 20 seconds"; pong and
 *           subscription response shapes)
 *   [kline] https://bybit-exchange.github.io/docs/v5/websocket/public/kline
 *           (topic kline.{interval}.{symbol}; "If confirm=true, this means
 *           that the candle has closed"; intervals 1 3 5 15 30 60 120 240 360
 *           720 D W M; push frequency 1-60s; ts = system time of the data)
 *   [rest]  https://bybit-exchange.github.io/docs/v5/market/kline
 *           (GET /v5/market/kline?category=spot&symbol&interval&start&end&limit,
 *           limit [1, 1000]; result.list rows [startTime, open, high, low,
 *           close, volume, turnover], "Sort in reverse by startTime")
 *   [codes] https://bybit-exchange.github.io/docs/v5/error (retCode 10006
 *           "Too many visits"); https://bybit-exchange.github.io/docs/v5/rate-limit
 *           (an IP over the limit gets HTTP 403 "access too frequent")
 * Finality: the confirm flag, on the exchange's clock (a closed bar proves
 * its close time passed: feed_live.c). Symbols are Bybit's own (BTCUSDT):
 * uppercase, no separator; lowercase input is sent uppercased. */
#include "feed_live_internal.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#define M 60000LL
#define BY_MAX_ARGS 10 /* [conn] spot: args per subscription request */

static const ival_name by_ivals[] = {
    {M, "1"},        {3 * M, "3"},     {5 * M, "5"},     {15 * M, "15"},    {30 * M, "30"},
    {60 * M, "60"},  {120 * M, "120"}, {240 * M, "240"}, {360 * M, "360"},  {720 * M, "720"},
    {1440 * M, "D"}, {10080 * M, "W"}, /* M (month) has no fixed length: not offered */
};

static int by_interval(int64_t ms, char *buf, size_t cap)
{
    return feed_interval_lookup(by_ivals, sizeof by_ivals / sizeof by_ivals[0], ms, buf, cap);
}

/* [conn] one endpoint per category: /v5/public/spot, /v5/public/linear */
static int by_ws_path_cat(const char *cat, char *buf, size_t cap)
{
    int w = snprintf(buf, cap, "/v5/public/%s", cat);
    return w < 0 || (size_t)w >= cap ? PT_EFULL : PT_OK;
}

static int by_ws_path(const char *const *syms, size_t n, int64_t interval_ms, char *buf, size_t cap)
{
    (void)syms, (void)n, (void)interval_ms;
    return by_ws_path_cat("spot", buf, cap);
}

static int by_ws_path_linear(const char *const *syms, size_t n, int64_t interval_ms, char *buf, size_t cap)
{
    (void)syms, (void)n, (void)interval_ms;
    return by_ws_path_cat("linear", buf, cap);
}

/* symbol as Bybit spells it: uppercase [rest] ("BTCUSDT") */
static int by_upper(const char *sym, char *out, size_t cap)
{
    return feed_symbol_upper(sym, 0, out, cap);
}

static int by_subscribe(const char *const *syms, size_t n, int64_t interval_ms, char *buf, size_t cap,
                        size_t *len)
{
    char iv[8], up[PT_SYMBOL_MAX];
    int rc = by_interval(interval_ms, iv, sizeof iv);
    if (rc)
        return rc;
    if (n > BY_MAX_ARGS) {
        pt_err_log("feed: bybit spot takes at most %d topics per subscribe request (%zu symbols given)",
                   BY_MAX_ARGS, n);
        return PT_EFULL;
    }
    size_t w = (size_t)snprintf(buf, cap, "{\"req_id\":\"pt-sub\",\"op\":\"subscribe\",\"args\":[");
    for (size_t i = 0; i < n; i++) {
        if (by_upper(syms[i], up, sizeof up))
            return PT_EINVAL;
        if (w + strlen(up) + strlen(iv) + 16 >= cap)
            return PT_EFULL;
        w += (size_t)snprintf(buf + w, cap - w, "%s\"kline.%s.%s\"", i ? "," : "", iv, up);
    }
    if (w + 3 >= cap)
        return PT_EFULL;
    w += (size_t)snprintf(buf + w, cap - w, "]}");
    *len = w;
    return PT_OK;
}

/* one [kline] data item -> candle */
static int by_item(const cJSON *it, const char *sym, const char *want_iv, pt_candle *c, feed_parse_out *out)
{
    memset(c, 0, sizeof *c);
    if (!cJSON_IsObject(it)) {
        feed_drop(out, FEED_DROP_SCHEMA, "data item is not an object");
        return PT_EPARSE;
    }
    if (feed_json_time(cJSON_GetObjectItemCaseSensitive(it, "start"), &c->ts_ms)) {
        feed_drop(out, FEED_DROP_BAD_TIME, "field data.start: missing or out of range");
        return PT_EPARSE;
    }
    const cJSON *iv = cJSON_GetObjectItemCaseSensitive(it, "interval");
    if (!cJSON_IsString(iv) || strcmp(iv->valuestring, want_iv)) {
        feed_drop(out, FEED_DROP_WRONG_INTERVAL, "field data.interval: not the subscribed interval");
        return PT_EPARSE;
    }
    const cJSON *cf = cJSON_GetObjectItemCaseSensitive(it, "confirm");
    if (!cJSON_IsBool(cf)) {
        feed_drop(out, FEED_DROP_SCHEMA, "field data.confirm: missing or not a boolean");
        return PT_EPARSE;
    }
    const cJSON *f[5] = {cJSON_GetObjectItemCaseSensitive(it, "open"), cJSON_GetObjectItemCaseSensitive(it, "high"),
                         cJSON_GetObjectItemCaseSensitive(it, "low"), cJSON_GetObjectItemCaseSensitive(it, "close"),
                         cJSON_GetObjectItemCaseSensitive(it, "volume")};
    if (feed_fill_ohlcv(c, f, out))
        return PT_EPARSE;
    if (feed_candle_set_symbol(c, sym)) {
        feed_drop(out, FEED_DROP_SCHEMA, "field topic: bad symbol");
        return PT_EPARSE;
    }
    c->closed = cJSON_IsTrue(cf) ? 1 : 0; /* [kline] confirm */
    return PT_OK;
}

static void by_parse_kline(const cJSON *root, const char *topic, int64_t interval_ms, feed_parse_out *out)
{
    char want[8], iv[8], sym[PT_SYMBOL_MAX];
    const char *dot = strchr(topic + 6, '.'); /* after "kline." */
    if (by_interval(interval_ms, want, sizeof want) || !dot || (size_t)(dot - topic - 6) >= sizeof iv ||
        strlen(dot + 1) >= sizeof sym) {
        feed_drop(out, FEED_DROP_SCHEMA, "field topic: not kline.{interval}.{symbol}");
        return;
    }
    memcpy(iv, topic + 6, (size_t)(dot - topic - 6));
    iv[dot - topic - 6] = 0;
    snprintf(sym, sizeof sym, "%s", dot + 1);
    if (strcmp(iv, want)) {
        feed_drop(out, FEED_DROP_WRONG_INTERVAL, "field topic: not the subscribed interval");
        return;
    }
    const cJSON *ts = cJSON_GetObjectItemCaseSensitive(root, "ts");
    if (ts && feed_json_time(ts, &out->event_ms)) {
        feed_drop(out, FEED_DROP_BAD_TIME, "field ts: not a time");
        return;
    }
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data"), *it;
    size_t n = 0;
    if (!cJSON_IsArray(data) || cJSON_GetArraySize(data) == 0) {
        feed_drop(out, FEED_DROP_SCHEMA, "field data: missing or empty array");
        return;
    }
    cJSON_ArrayForEach(it, data)
    {
        if (n >= FEED_PARSE_MAX) {
            feed_drop(out, FEED_DROP_SCHEMA, "more than %d candles in one message", FEED_PARSE_MAX);
            return;
        }
        if (by_item(it, sym, want, &out->candles[n], out))
            return;
        n++;
    }
    out->kind = FEED_MSG_CANDLE;
    out->n = n;
}

static void by_parse(const char *msg, size_t len, int64_t interval_ms, feed_parse_out *out)
{
    cJSON *root = feed_json_parse(msg, len, out);
    if (!root)
        return;
    if (!cJSON_IsObject(root)) {
        feed_drop(out, FEED_DROP_SCHEMA, "message is not an object");
        goto done;
    }
    const cJSON *topic = cJSON_GetObjectItemCaseSensitive(root, "topic");
    const cJSON *op = cJSON_GetObjectItemCaseSensitive(root, "op");
    if (cJSON_IsString(topic)) {
        if (!strncmp(topic->valuestring, "kline.", 6))
            by_parse_kline(root, topic->valuestring, interval_ms, out);
        else
            out->kind = FEED_MSG_IGNORE;
    } else if (cJSON_IsString(op)) {
        /* [conn] replies: {"success","ret_msg","conn_id","req_id","op"} */
        const cJSON *ok = cJSON_GetObjectItemCaseSensitive(root, "success");
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(root, "ret_msg");
        if (cJSON_IsFalse(ok))
            feed_drop(out, FEED_DROP_EXCHANGE_ERROR, "exchange error (op %.20s): %.80s", op->valuestring,
                      cJSON_IsString(m) ? m->valuestring : "?");
        else if (!strcmp(op->valuestring, "subscribe"))
            out->kind = FEED_MSG_ACK;
        else
            out->kind = FEED_MSG_IGNORE; /* pong ("op":"ping" or "pong") and others */
    } else {
        feed_drop(out, FEED_DROP_SCHEMA, "field topic / op: missing");
    }
done:
    cJSON_Delete(root);
}

static int by_rest_url_cat(const char *cat, const char *base, const char *symbol, int64_t interval_ms,
                           int64_t start_ms, int64_t end_ms, int limit, char *buf, size_t cap)
{
    char iv[8], up[PT_SYMBOL_MAX];
    int rc = by_interval(interval_ms, iv, sizeof iv);
    if (rc)
        return rc;
    if (by_upper(symbol, up, sizeof up))
        return PT_EINVAL;
    int w = snprintf(buf, cap, "%s/v5/market/kline?category=%s&symbol=%s&interval=%s&start=%lld&end=%lld&limit=%d",
                     base, cat, up, iv, (long long)start_ms, (long long)end_ms, limit);
    return w < 0 || (size_t)w >= cap ? PT_EFULL : PT_OK;
}

static int by_rest_url(const char *base, const char *symbol, int64_t interval_ms, int64_t start_ms,
                       int64_t end_ms, int limit, char *buf, size_t cap)
{
    return by_rest_url_cat("spot", base, symbol, interval_ms, start_ms, end_ms, limit, buf, cap);
}

static int by_rest_url_linear(const char *base, const char *symbol, int64_t interval_ms, int64_t start_ms,
                              int64_t end_ms, int limit, char *buf, size_t cap)
{
    return by_rest_url_cat("linear", base, symbol, interval_ms, start_ms, end_ms, limit, buf, cap);
}

/* [rest] {"retCode":0,"retMsg":"OK","result":{"symbol","category","list":[...]},...} */
static int by_rest_parse(const char *body, size_t len, const char *symbol, pt_candle *out, size_t cap, size_t *n,
                         uint64_t drops[FEED_DROP__COUNT], char *err, size_t errcap)
{
    *n = 0;
    cJSON *root = feed_rest_json(body, len, symbol, drops);
    if (!root)
        return PT_EPARSE;
    int rc = PT_EPARSE;
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(root, "retCode");
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(root, "retMsg");
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(root, "result");
    if (!cJSON_IsNumber(code)) {
        drops[FEED_DROP_SCHEMA]++;
        pt_warn("feed: REST %s: body without retCode", symbol);
    } else if (code->valuedouble != 0) {
        snprintf(err, errcap, "bybit retCode %.0f: %.200s", code->valuedouble,
                 cJSON_IsString(msg) ? msg->valuestring : "?");
        rc = code->valuedouble == 10006 ? PT_ERATELIMIT : PT_EINVAL; /* [codes] */
    } else {
        rc = feed_rest_rows(cJSON_GetObjectItemCaseSensitive(res, "list"), symbol, out, cap, n, drops);
    }
    cJSON_Delete(root);
    return rc;
}

const feed_adapter feed_adapter_bybit = {
    .name = "bybit",
    .ws_url = "wss://stream.bybit.com",
    .rest_url = "https://api.bybit.com",
    .has_closed_flag = 1,          /* [kline] confirm */
    .rest_max_limit = 1000,        /* [rest] */
    .update_period_ms = 30000,     /* [kline] 1-60 s: stale after 90 s */
    .market = "spot",
    .history_bars = 0,
    .finality = "explicit closed flag confirm (exchange clock)",
    .interval_name = by_interval,
    .ws_path = by_ws_path,
    .subscribe = by_subscribe,
    .parse = by_parse,
    .rest_url_for = by_rest_url,
    .ping_text = "{\"req_id\":\"pt-ping\",\"op\":\"ping\"}", /* [conn] */
    .ping_every_ms = 20000,                                   /* [conn] */
    .rest_parse = by_rest_parse,
    .rate_limit_status = 403,      /* [codes] rate-limit page */
    .rules_url = feed_rules_url_bybit,
    .rules_parse = feed_rules_parse_bybit,
};

/* USDT perpetuals: the same v5 protocol on the linear category ([conn]
 * wss://stream.bybit.com/v5/public/linear, [rest] category=linear). The
 * 10-args cap of [conn] is stated for spot; kept here too (unverified for
 * linear, where the docs name only the 21,000-character args limit). */
const feed_adapter feed_adapter_bybit_linear = {
    .name = "bybit-linear",
    .ws_url = "wss://stream.bybit.com",
    .rest_url = "https://api.bybit.com",
    .has_closed_flag = 1,
    .rest_max_limit = 1000,
    .update_period_ms = 30000,
    .market = "perp",
    .history_bars = 0,
    .finality = "explicit closed flag confirm (exchange clock)",
    .interval_name = by_interval,
    .ws_path = by_ws_path_linear,
    .subscribe = by_subscribe,
    .parse = by_parse,
    .rest_url_for = by_rest_url_linear,
    .ping_text = "{\"req_id\":\"pt-ping\",\"op\":\"ping\"}",
    .ping_every_ms = 20000,
    .rest_parse = by_rest_parse,
    .rate_limit_status = 403,
};
