/* feed: OKX spot adapter (v5 API). Facts from the OKX v5 docs,
 * https://www.okx.com/docs-v5/en/ :
 *   [ws]    #overview-websocket-overview: "The connection will break
 *           automatically if the subscription is not established or data has
 *           not been pushed for more than 30 seconds"; keep it with the text
 *           'ping' within N < 30 s, answered 'pong'; "the total length of
 *           multiple channels cannot exceed 64 KB"; the notice event
 *           (code 64008) before a service-upgrade close.
 *   [candle] #public-data-websocket-candlesticks-channel: business endpoint
 *           wss://ws.okx.com:8443/ws/v5/business, {"op":"subscribe","args":
 *           [{"channel":"candle1m","instId":"BTC-USDT"}]}, push rows
 *           [ts, o, h, l, c, vol, volCcy, volCcyQuote, confirm], all strings,
 *           ts = opening time, confirm "0" uncompleted / "1" completed; the
 *           subscribe and error (60012 "Invalid request: ...") replies.
 *   [rest]  #public-data-rest-api-get-candlesticks-history: GET
 *           /api/v5/market/history-candles?instId&bar&after&before&limit,
 *           after = "records earlier than the requested ts", before = "newer
 *           than", limit max 100, newest first, {"code":"0","msg":"","data"}.
 *   [codes] #error-code-rest-api-public: 50011 rate limit (HTTP 429), 51001
 *           "Instrument ID does not exist".
 * Finality: the confirm field, on the exchange's clock (the bar's own times;
 * OKX sends no event time with candles). Bars of 6 h and more use the
 * "utc" names (6Hutc, 1Dutc): the plain ones open on Hong Kong time.
 * Symbols are OKX instIds (BTC-USDT): uppercase with a dash. */
#include "feed_live_internal.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#define M 60000LL
static const ival_name ok_ivals[] = {
    {M, "1m"},          {3 * M, "3m"},        {5 * M, "5m"},       {15 * M, "15m"},
    {30 * M, "30m"},    {60 * M, "1H"},       {120 * M, "2H"},     {240 * M, "4H"},
    {360 * M, "6Hutc"}, {720 * M, "12Hutc"},  {1440 * M, "1Dutc"}, {10080 * M, "1Wutc"},
};

static int ok_interval(int64_t ms, char *buf, size_t cap)
{
    return feed_interval_lookup(ok_ivals, sizeof ok_ivals / sizeof ok_ivals[0], ms, buf, cap);
}

static int ok_ws_path(const char *const *syms, size_t n, int64_t interval_ms, char *buf, size_t cap)
{
    (void)syms, (void)n, (void)interval_ms;
    int w = snprintf(buf, cap, "/ws/v5/business"); /* [candle] */
    return w < 0 || (size_t)w >= cap ? PT_EFULL : PT_OK;
}

/* instId as OKX spells it: "BTC-USDT" (uppercase, one dash) */
static int ok_inst(const char *sym, char *out, size_t cap)
{
    return feed_symbol_upper(sym, 1, out, cap);
}

static int ok_subscribe(const char *const *syms, size_t n, int64_t interval_ms, char *buf, size_t cap,
                        size_t *len)
{
    char iv[8], id[PT_SYMBOL_MAX];
    int rc = ok_interval(interval_ms, iv, sizeof iv);
    if (rc)
        return rc;
    size_t w = (size_t)snprintf(buf, cap, "{\"op\":\"subscribe\",\"args\":[");
    for (size_t i = 0; i < n; i++) {
        if (ok_inst(syms[i], id, sizeof id))
            return PT_EINVAL;
        if (w + strlen(id) + strlen(iv) + 40 >= cap)
            return PT_EFULL; /* far below the 64 KB of [ws] */
        w += (size_t)snprintf(buf + w, cap - w, "%s{\"channel\":\"candle%s\",\"instId\":\"%s\"}", i ? "," : "", iv, id);
    }
    if (w + 3 >= cap)
        return PT_EFULL;
    w += (size_t)snprintf(buf + w, cap - w, "]}");
    *len = w;
    return PT_OK;
}

static void ok_parse_candles(const cJSON *arg, const cJSON *data, int64_t interval_ms, feed_parse_out *out)
{
    char want[16];
    const cJSON *ch = cJSON_GetObjectItemCaseSensitive(arg, "channel");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(arg, "instId");
    if (!cJSON_IsString(ch) || strncmp(ch->valuestring, "candle", 6)) {
        out->kind = FEED_MSG_IGNORE; /* another channel */
        return;
    }
    if (ok_interval(interval_ms, want, sizeof want) || strcmp(ch->valuestring + 6, want)) {
        feed_drop(out, FEED_DROP_WRONG_INTERVAL, "field arg.channel: not the subscribed interval");
        return;
    }
    if (!cJSON_IsString(id) || !cJSON_IsArray(data) || cJSON_GetArraySize(data) == 0) {
        feed_drop(out, FEED_DROP_SCHEMA, "candle push without arg.instId or data rows");
        return;
    }
    size_t n = 0;
    const cJSON *row;
    cJSON_ArrayForEach(row, data)
    {
        if (n >= FEED_PARSE_MAX) {
            feed_drop(out, FEED_DROP_SCHEMA, "more than %d candles in one push", FEED_PARSE_MAX);
            return;
        }
        if (feed_adapter_parse_row(row, id->valuestring, &out->candles[n], out))
            return;
        const cJSON *cf = cJSON_GetArrayItem(row, 8);
        if (!cJSON_IsString(cf) || (strcmp(cf->valuestring, "0") && strcmp(cf->valuestring, "1"))) {
            feed_drop(out, FEED_DROP_SCHEMA, "field data[8] (confirm): not \"0\" or \"1\"");
            return;
        }
        out->candles[n++].closed = cf->valuestring[0] == '1'; /* [candle] */
    }
    out->kind = FEED_MSG_CANDLE;
    out->n = n;
}

static void ok_parse(const char *msg, size_t len, int64_t interval_ms, feed_parse_out *out)
{
    if (len == 4 && !memcmp(msg, "pong", 4)) { /* [ws]: plain text, not JSON */
        memset(out, 0, sizeof *out);
        out->kind = FEED_MSG_IGNORE;
        return;
    }
    cJSON *root = feed_json_parse(msg, len, out);
    if (!root)
        return;
    const cJSON *ev = cJSON_GetObjectItemCaseSensitive(root, "event");
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(root, "code");
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(root, "msg");
    if (!cJSON_IsObject(root)) {
        feed_drop(out, FEED_DROP_SCHEMA, "message is not an object");
    } else if (cJSON_IsString(ev) && !strcmp(ev->valuestring, "error")) {
        feed_drop(out, FEED_DROP_EXCHANGE_ERROR, "exchange error %.12s: %.80s",
                  cJSON_IsString(code) ? code->valuestring : "?", cJSON_IsString(m) ? m->valuestring : "?");
    } else if (cJSON_IsString(ev) && !strcmp(ev->valuestring, "notice")) {
        out->kind = FEED_MSG_SHUTDOWN; /* [ws] 64008: closing soon for an upgrade */
    } else if (cJSON_IsString(ev)) {
        out->kind = !strcmp(ev->valuestring, "subscribe") ? FEED_MSG_ACK : FEED_MSG_IGNORE;
    } else if (cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(root, "arg"))) {
        ok_parse_candles(cJSON_GetObjectItemCaseSensitive(root, "arg"), cJSON_GetObjectItemCaseSensitive(root, "data"),
                         interval_ms, out);
    } else {
        feed_drop(out, FEED_DROP_SCHEMA, "field event / arg: missing");
    }
    cJSON_Delete(root);
}

static int ok_rest_url(const char *base, const char *symbol, int64_t interval_ms, int64_t start_ms, int64_t end_ms,
                       int limit, char *buf, size_t cap)
{
    char iv[8], id[PT_SYMBOL_MAX];
    int rc = ok_interval(interval_ms, iv, sizeof iv);
    if (rc)
        return rc;
    if (ok_inst(symbol, id, sizeof id))
        return PT_EINVAL;
    /* [rest] after/before are exclusive: [start, end] is (start-1, end+1) */
    int w = snprintf(buf, cap, "%s/api/v5/market/history-candles?instId=%s&bar=%s&after=%lld&before=%lld&limit=%d",
                     base, id, iv, (long long)end_ms + 1, (long long)start_ms - 1, limit);
    return w < 0 || (size_t)w >= cap ? PT_EFULL : PT_OK;
}

static int ok_rest_parse(const char *body, size_t len, const char *symbol, pt_candle *out, size_t cap, size_t *n,
                         uint64_t drops[FEED_DROP__COUNT], char *err, size_t errcap)
{
    *n = 0;
    cJSON *root = feed_rest_json(body, len, symbol, drops);
    if (!root)
        return PT_EPARSE;
    int rc = PT_EPARSE;
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(root, "code");
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(root, "msg");
    if (!cJSON_IsString(code)) {
        drops[FEED_DROP_SCHEMA]++;
        pt_warn("feed: REST %s: body without code", symbol);
    } else if (strcmp(code->valuestring, "0")) {
        snprintf(err, errcap, "okx code %.12s: %.200s", code->valuestring, cJSON_IsString(msg) ? msg->valuestring : "?");
        rc = !strcmp(code->valuestring, "50011") ? PT_ERATELIMIT : PT_EINVAL; /* [codes] */
    } else {
        rc = feed_rest_rows(cJSON_GetObjectItemCaseSensitive(root, "data"), symbol, out, cap, n, drops);
    }
    cJSON_Delete(root);
    return rc;
}

const feed_adapter feed_adapter_okx = {
    .name = "okx",
    .ws_url = "wss://ws.okx.com:8443",
    .rest_url = "https://www.okx.com",
    .has_closed_flag = 1,     /* [candle] confirm */
    .rest_max_limit = 100,    /* [rest] */
    .update_period_ms = 5000, /* pushes while trading; the server cuts at 30 s of silence [ws] */
    .market = "spot",
    .history_bars = 0,
    .finality = "explicit closed flag confirm (exchange clock)",
    .interval_name = ok_interval,
    .ws_path = ok_ws_path,
    .subscribe = ok_subscribe,
    .parse = ok_parse,
    .rest_url_for = ok_rest_url,
    .ping_text = "ping",      /* [ws] */
    .ping_every_ms = 20000,   /* [ws]: N < 30 s */
    .rest_parse = ok_rest_parse,
    .rate_limit_status = 0,   /* 429 like the others */
    .rules_url = feed_rules_url_okx,
    .rules_parse = feed_rules_parse_okx,
};
