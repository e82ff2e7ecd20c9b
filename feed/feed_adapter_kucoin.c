/* feed: KuCoin spot adapter (classic API). Facts from KuCoin's docs:
 *   [token] https://www.kucoin.com/docs-new/websocket-api/base-info/get-public-token-spot-margin
 *           (POST /api/v1/bullet-public, no authentication; {"code":"200000",
 *           "data":{"token", "instanceServers":[{"endpoint","encrypt",
 *           "protocol","pingInterval","pingTimeout"}]}}; pingInterval and
 *           pingTimeout in ms, 18000 / 10000 in the example; "It is
 *           recommended to use a dynamic URL, as the URL may change")
 *   [intro] https://www.kucoin.com/docs-new/websocket-api/base-info/introduction
 *           (connect <endpoint>?token=xxx&connectId=xxxxx; "The connection
 *           will only be available once the welcome message has been
 *           received" {"id","type":"welcome"}; ping {"id","type":"ping"} every
 *           pingInterval, answered {"id","type":"pong"}; subscribe {"id",
 *           "type":"subscribe","topic","response":true} acked {"id","type":"ack"};
 *           the token is valid 24 h)
 *   [kline] https://www.kucoin.com/docs-new/3470071w0 (topic
 *           /market/candles:{symbol}_{type}; types 1min 3min 15min 30min
 *           1hour 2hour 4hour 6hour 8hour 12hour 1day 1week; data.candles
 *           [start time (s), open, close, high, low, volume, amount], all
 *           strings; data.time labelled "now(us)" but 19 digits, i.e. ns)
 *   [rest]  https://www.kucoin.com/docs/rest/spot-trading/market-data/get-klines
 *           (GET /api/v1/market/candles?type&symbol&startAt&endAt, seconds;
 *           rows as [kline], newest first; "at most 1500 pieces of data";
 *           types as [kline] plus 5min and 1month)
 *   [codes] https://www.kucoin.com/docs-new/error-code/websocket (socket
 *           error codes: 400 topic is invalid, 404 topic does not exist, 509
 *           "exceed max subscription count limitation of 100 per time");
 *           https://www.kucoin.com/apidoc/project-6000000/doc-338149 (over the
 *           rate limit: "http code:429, error code:429000")
 * Finality: KuCoin sends no closed flag. A bar is final when a newer bar of
 * the symbol starts, or when the exchange's clock (data.time, extrapolated)
 * passes its close plus close_grace (feed_live.c, as Bitvavo). Symbols are
 * KuCoin's own (BTC-USDT): uppercase with one dash, both ways.
 * Not verified: 5min on the socket (the [kline] list omits it, [rest] names
 * it); several symbols in one topic, comma separated, for candles (shown in
 * [intro] for tickers and in the futures candle docs). */
#include "feed_live_internal.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define M 60000LL
#define KC_MAX_TOPICS 100 /* [codes] 509: 100 per subscription */
#define KC_OK "200000"

static const ival_name kc_ivals[] = {
    {M, "1min"},         {3 * M, "3min"},      {5 * M, "5min"},      {15 * M, "15min"},   {30 * M, "30min"},
    {60 * M, "1hour"},   {120 * M, "2hour"},   {240 * M, "4hour"},   {360 * M, "6hour"},  {480 * M, "8hour"},
    {720 * M, "12hour"}, {1440 * M, "1day"},   {10080 * M, "1week"}, /* 1month: no fixed length */
};

static int kc_interval(int64_t ms, char *buf, size_t cap)
{
    return feed_interval_lookup(kc_ivals, sizeof kc_ivals / sizeof kc_ivals[0], ms, buf, cap);
}

/* the path comes with the token's endpoint; this only checks the symbols */
static int kc_ws_path(const char *const *syms, size_t n, int64_t interval_ms, char *buf, size_t cap)
{
    char s[PT_SYMBOL_MAX];
    (void)interval_ms;
    for (size_t i = 0; i < n; i++)
        if (feed_symbol_upper(syms[i], 1, s, sizeof s)) {
            pt_err_log("feed: kucoin symbol '%s': KuCoin names markets BASE-QUOTE (BTC-USDT)", syms[i] ? syms[i] : "");
            return PT_EINVAL;
        }
    if (cap)
        buf[0] = '\0';
    return cap ? PT_OK : PT_EFULL;
}

static int kc_subscribe(const char *const *syms, size_t n, int64_t interval_ms, char *buf, size_t cap, size_t *len)
{
    char iv[8], s[PT_SYMBOL_MAX];
    int rc = kc_interval(interval_ms, iv, sizeof iv);
    if (rc)
        return rc;
    if (n > KC_MAX_TOPICS) {
        pt_err_log("feed: kucoin takes at most %d topics per subscribe request (%zu symbols given)", KC_MAX_TOPICS, n);
        return PT_EFULL;
    }
    size_t w = (size_t)snprintf(buf, cap, "{\"id\":\"pt-sub\",\"type\":\"subscribe\",\"topic\":\"/market/candles:");
    for (size_t i = 0; i < n; i++) {
        if (feed_symbol_upper(syms[i], 1, s, sizeof s))
            return PT_EINVAL;
        if (w + strlen(s) + strlen(iv) + 40 >= cap)
            return PT_EFULL;
        w += (size_t)snprintf(buf + w, cap - w, "%s%s_%s", i ? "," : "", s, iv);
    }
    w += (size_t)snprintf(buf + w, cap - w, "\",\"privateChannel\":false,\"response\":true}");
    *len = w;
    return PT_OK;
}

/* "1729839600" (seconds, a digit string) -> ms */
static int kc_seconds(const cJSON *it, int64_t *ms)
{
    int64_t v;
    if (!cJSON_IsString(it) || pt_parse_int64(it->valuestring, strlen(it->valuestring), &v, NULL) ||
        v < 946684800LL || v > 4102444800LL) /* 2000 .. 2100, as feed_json_time */
        return PT_ERANGE;
    *ms = v * 1000;
    return PT_OK;
}

/* [kline]/[rest] row [time_s, open, close, high, low, volume, amount] -> closed candle */
static int kc_row(const cJSON *row, const char *symbol, pt_candle *c, feed_parse_out *out)
{
    memset(c, 0, sizeof *c);
    if (!cJSON_IsArray(row) || cJSON_GetArraySize(row) < 6) {
        feed_drop(out, FEED_DROP_SCHEMA, "candles: not an array of >= 6 items");
        return PT_EPARSE;
    }
    if (kc_seconds(cJSON_GetArrayItem(row, 0), &c->ts_ms)) {
        feed_drop(out, FEED_DROP_BAD_TIME, "field candles[0] (start time, s): missing or out of range");
        return PT_EPARSE;
    }
    const cJSON *it[5] = {cJSON_GetArrayItem(row, 1), cJSON_GetArrayItem(row, 3), cJSON_GetArrayItem(row, 4),
                          cJSON_GetArrayItem(row, 2), cJSON_GetArrayItem(row, 5)}; /* o h l c v */
    if (feed_fill_ohlcv(c, it, out))
        return PT_EPARSE;
    if (feed_candle_set_symbol(c, symbol)) {
        feed_drop(out, FEED_DROP_SCHEMA, "bad symbol");
        return PT_EPARSE;
    }
    c->closed = 1;
    return PT_OK;
}

/* data.time: ns on spot, ms on futures (both documented examples): by size */
static int kc_event_ms(const cJSON *t, int64_t *ms)
{
    if (!cJSON_IsNumber(t) || !isfinite(t->valuedouble) || t->valuedouble < 0)
        return PT_EPARSE;
    double d = t->valuedouble;
    d = d > 1e17 ? d / 1e6 : d > 1e14 ? d / 1e3 : d;
    cJSON ms_item = {.type = cJSON_Number, .valuedouble = floor(d)};
    return feed_json_time(&ms_item, ms);
}

static void kc_parse_candle(const cJSON *root, const char *topic, int64_t interval_ms, feed_parse_out *out)
{
    char want[8];
    const char *us = strrchr(topic, '_');
    if (kc_interval(interval_ms, want, sizeof want) || !us || strcmp(us + 1, want)) {
        feed_drop(out, FEED_DROP_WRONG_INTERVAL, "field topic: not the subscribed interval");
        return;
    }
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data");
    const cJSON *sym = cJSON_GetObjectItemCaseSensitive(data, "symbol");
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(data, "time");
    if (!cJSON_IsString(sym)) {
        feed_drop(out, FEED_DROP_SCHEMA, "field data.symbol: missing");
        return;
    }
    if (t && kc_event_ms(t, &out->event_ms)) {
        feed_drop(out, FEED_DROP_BAD_TIME, "field data.time: not a time");
        return;
    }
    if (kc_row(cJSON_GetObjectItemCaseSensitive(data, "candles"), sym->valuestring, &out->candles[0], out))
        return;
    out->candles[0].closed = 0; /* [kline]: no closed flag, the bar in progress */
    out->kind = FEED_MSG_CANDLE;
    out->n = 1;
}

static void kc_parse(const char *msg, size_t len, int64_t interval_ms, feed_parse_out *out)
{
    cJSON *root = feed_json_parse(msg, len, out);
    if (!root)
        return;
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(root, "type");
    const cJSON *topic = cJSON_GetObjectItemCaseSensitive(root, "topic");
    const char *ty = cJSON_IsString(type) ? type->valuestring : NULL;
    if (!cJSON_IsObject(root) || !ty) {
        feed_drop(out, FEED_DROP_SCHEMA, "field type: missing");
    } else if (!strcmp(ty, "message")) {
        if (cJSON_IsString(topic) && !strncmp(topic->valuestring, "/market/candles:", 16))
            kc_parse_candle(root, topic->valuestring, interval_ms, out);
        else
            out->kind = FEED_MSG_IGNORE; /* another topic */
    } else if (!strcmp(ty, "error")) {
        /* [codes] {"id","type":"error","code":404,"data":"topic ... is not found"} */
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(root, "code");
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(root, "data");
        feed_drop(out, FEED_DROP_EXCHANGE_ERROR, "exchange error %.0f: %.80s",
                  cJSON_IsNumber(code) ? code->valuedouble : -1, cJSON_IsString(d) ? d->valuestring : "?");
    } else if (!strcmp(ty, "welcome")) {
        out->kind = FEED_MSG_WELCOME; /* [intro] */
    } else {
        out->kind = !strcmp(ty, "ack") ? FEED_MSG_ACK : FEED_MSG_IGNORE; /* pong, notice, ... */
    }
    cJSON_Delete(root);
}

static int kc_rest_url(const char *base, const char *symbol, int64_t interval_ms, int64_t start_ms, int64_t end_ms,
                       int limit, char *buf, size_t cap)
{
    char iv[8], s[PT_SYMBOL_MAX];
    (void)limit; /* [rest] takes no limit: 1500 rows at most */
    int rc = kc_interval(interval_ms, iv, sizeof iv);
    if (rc)
        return rc;
    if (feed_symbol_upper(symbol, 1, s, sizeof s))
        return PT_EINVAL;
    /* seconds: [start, end] ms -> [ceil(start), floor(end)] s */
    int w = snprintf(buf, cap, "%s/api/v1/market/candles?type=%s&symbol=%s&startAt=%lld&endAt=%lld", base, iv, s,
                     (long long)((start_ms + 999) / 1000), (long long)(end_ms / 1000));
    return w < 0 || (size_t)w >= cap ? PT_EFULL : PT_OK;
}

/* {"code":"200000",...} or the venue's error: its text in err */
static int kc_envelope(const cJSON *root, char *err, size_t errcap)
{
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(root, "code");
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(root, "msg");
    if (!cJSON_IsString(code)) {
        snprintf(err, errcap, "kucoin: reply without code");
        return PT_EPARSE;
    }
    if (!strcmp(code->valuestring, KC_OK))
        return PT_OK;
    snprintf(err, errcap, "kucoin code %.12s: %.200s", code->valuestring, cJSON_IsString(msg) ? msg->valuestring : "?");
    return !strcmp(code->valuestring, "429000") ? PT_ERATELIMIT : PT_EINVAL; /* [codes] */
}

static int kc_rest_parse(const char *body, size_t len, const char *symbol, pt_candle *out, size_t cap, size_t *n,
                         uint64_t drops[FEED_DROP__COUNT], char *err, size_t errcap)
{
    *n = 0;
    cJSON *root = feed_rest_json(body, len, symbol, drops);
    if (!root)
        return PT_EPARSE;
    int rc = kc_envelope(root, err, errcap);
    if (rc == PT_EPARSE) {
        drops[FEED_DROP_SCHEMA]++;
        pt_warn("feed: REST %s: body without code", symbol);
    } else if (rc == PT_OK) {
        rc = feed_rest_rows_with(cJSON_GetObjectItemCaseSensitive(root, "data"), symbol, kc_row, out, cap, n, drops);
    }
    cJSON_Delete(root);
    return rc;
}

/* a token is passed as is in the query: refuse anything that would end or
 * split it (KuCoin's are base64 with '.', '-', '_', '=') */
static int kc_token_ok(const char *t)
{
    return t[0] && strlen(t) < 600 && !t[strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
                                                "-_.=+/~")];
}

/* an endpoint we can hand to lws: ws(s)://, nothing that ends or splits it */
static int kc_endpoint_ok(const char *e)
{
    return (!strncmp(e, "wss://", 6) || !strncmp(e, "ws://", 5)) && strlen(e) < 400 && !strpbrk(e, " \t\r\n\"#<>\\");
}

static int kc_token_parse(const char *body, size_t len, const char *connect_id, char *url, size_t cap,
                          int64_t *ping_ms, char *err, size_t errcap)
{
    feed_parse_out po;
    cJSON *root = feed_json_parse(body, len, &po);
    if (!root) {
        snprintf(err, errcap, "kucoin bullet-public: %s", po.detail);
        return PT_EPARSE;
    }
    int rc = kc_envelope(root, err, errcap);
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data");
    const cJSON *tok = cJSON_GetObjectItemCaseSensitive(data, "token");
    const cJSON *srv = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(data, "instanceServers"), 0);
    const cJSON *ep = cJSON_GetObjectItemCaseSensitive(srv, "endpoint");
    const cJSON *pi = cJSON_GetObjectItemCaseSensitive(srv, "pingInterval");
    if (rc == PT_OK && (!cJSON_IsString(tok) || !kc_token_ok(tok->valuestring) || !cJSON_IsString(ep) ||
                        !kc_endpoint_ok(ep->valuestring))) {
        snprintf(err, errcap, "kucoin bullet-public: no usable data.token / instanceServers[0].endpoint");
        rc = PT_EPARSE;
    }
    if (rc == PT_OK) {
        int w = snprintf(url, cap, "%s%stoken=%s&connectId=%s", ep->valuestring, strchr(ep->valuestring, '?') ? "&" : "?",
                         tok->valuestring, connect_id);
        rc = w < 0 || (size_t)w >= cap ? PT_EFULL : PT_OK;
        /* [token] pingInterval ms; outside 1 s .. 10 min it is not believed */
        *ping_ms = cJSON_IsNumber(pi) && pi->valuedouble >= 1000 && pi->valuedouble <= 600000 ? (int64_t)pi->valuedouble : 0;
    }
    cJSON_Delete(root);
    return rc;
}

const feed_adapter feed_adapter_kucoin = {
    .name = "kucoin",
    .ws_url = "wss://ws-api-spot.kucoin.com", /* [token] example; the token's endpoint is used */
    .rest_url = "https://api.kucoin.com",
    .has_closed_flag = 0,        /* [kline]: none; next bar or the exchange's clock */
    .rest_max_limit = 1500,      /* [rest] */
    .update_period_ms = 10000,   /* pushes on trades; quiet markets are slower (stale_after covers it) */
    .market = "spot",
    .history_bars = 0,           /* [rest] names no depth limit (not verified) */
    .finality = "next bar or bar end + grace (exchange clock data.time); no closed flag",
    .interval_name = kc_interval,
    .ws_path = kc_ws_path,
    .subscribe = kc_subscribe,
    .parse = kc_parse,
    .rest_url_for = kc_rest_url,
    .ping_text = "{\"id\":\"pt-ping\",\"type\":\"ping\"}", /* [intro] */
    .ping_every_ms = 18000,                                 /* [token] example; the reply's pingInterval wins */
    .rest_parse = kc_rest_parse,
    .rate_limit_status = 0,      /* 429 [codes] */
    .token_path = "/api/v1/bullet-public",
    .token_parse = kc_token_parse,
    .subscribe_on_welcome = 1,   /* [intro] */
};
