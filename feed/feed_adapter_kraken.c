/* feed: Kraken spot adapter (WebSocket v2 + REST). Every fact below is from
 * Kraken's public API docs:
 *   WS ohlc:   https://docs.kraken.com/exchange/api-reference/spot-websocket-v2/ohlc
 *   WS status, heartbeat, ping:
 *              https://docs.kraken.com/exchange/api-reference/spot-websocket-v2/status
 *              https://docs.kraken.com/exchange/api-reference/spot-websocket-v2/heartbeat
 *              https://docs.kraken.com/exchange/api-reference/spot-websocket-v2/ping
 *   REST OHLC: https://docs.kraken.com/api/docs/rest-api/get-ohlc-data
 * Symbols: the v2 socket names pairs "BTC/USD"; inside papertrader the
 * pair is "BTC-USD" (a '/' cannot name a candle file), mapped both ways
 * here; both spellings are accepted from the user. */
#include "feed_live_internal.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* ohlc "interval": integer minutes, one of 1 5 15 30 60 240 1440 10080
 * 21600 (ohlc doc, request parameters; the same set for REST OHLC) */
#define M 60000LL
static const ival_name kr_ivals[] = {
    {M, "1"},         {5 * M, "5"},       {15 * M, "15"},       {30 * M, "30"},      {60 * M, "60"},
    {240 * M, "240"}, {1440 * M, "1440"}, {10080 * M, "10080"}, {21600 * M, "21600"},
};

static int kr_interval(int64_t ms, char *buf, size_t cap)
{
    return feed_interval_lookup(kr_ivals, sizeof kr_ivals / sizeof kr_ivals[0], ms, buf, cap);
}

/* "BTC-USD" or "BTC/USD" -> the venue's "BTC/USD" (sep '/') or ours (sep '-') */
static int kr_map(const char *in, char sep, char *out, size_t cap)
{
    pt_candle probe;
    size_t n = in ? strlen(in) : 0;
    if (feed_candle_set_symbol(&probe, in) || n >= cap || !strpbrk(in, "-/"))
        return PT_EINVAL;
    for (size_t i = 0; i <= n; i++)
        out[i] = in[i] == '-' || in[i] == '/' ? sep : in[i];
    return PT_OK;
}

static int kr_ws_path(const char *const *syms, size_t n, int64_t interval_ms, char *buf, size_t cap)
{
    (void)syms, (void)n, (void)interval_ms;
    int w = snprintf(buf, cap, "/v2"); /* wss://ws.kraken.com/v2 (ohlc doc, endpoint) */
    return w < 0 || (size_t)w >= cap ? PT_EFULL : PT_OK;
}

static int kr_subscribe(const char *const *syms, size_t n, int64_t interval_ms, char *buf, size_t cap,
                        size_t *len)
{
    char iv[8], ws[PT_SYMBOL_MAX];
    int rc = kr_interval(interval_ms, iv, sizeof iv);
    if (rc)
        return rc;
    /* snapshot false: history comes from REST (the snapshot would be many
     * bars in one message, the bar in progress among them) */
    size_t w = (size_t)snprintf(buf, cap, "{\"method\":\"subscribe\",\"params\":{\"channel\":\"ohlc\","
                                          "\"interval\":%s,\"snapshot\":false,\"symbol\":[", iv);
    for (size_t i = 0; i < n; i++) {
        if (kr_map(syms[i], '/', ws, sizeof ws))
            return PT_EINVAL;
        if (w + strlen(ws) + 8 >= cap)
            return PT_EFULL;
        w += (size_t)snprintf(buf + w, cap - w, "%s\"%s\"", i ? "," : "", ws);
    }
    if (w + 4 >= cap)
        return PT_EFULL;
    w += (size_t)snprintf(buf + w, cap - w, "]}}");
    *len = w;
    return PT_OK;
}

/* RFC 3339 with up to nanoseconds ("2023-10-04T16:25:00.000000000Z") -> ms */
static int kr_time(const cJSON *it, int64_t *ms)
{
    pt_time_kind k = PT_TIME_ISO_UTC;
    const char *why = NULL;
    if (!cJSON_IsString(it) || !it->valuestring)
        return PT_EPARSE;
    return pt_parse_time(it->valuestring, strlen(it->valuestring), &k, NULL, ms, &why);
}

/* v2 sends prices and volume as JSON numbers (ohlc doc, response fields) */
static int kr_number(const cJSON *it, int allow_zero, double *v)
{
    if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble) || it->valuedouble < 0 ||
        (!allow_zero && it->valuedouble <= 0))
        return PT_ERANGE;
    *v = it->valuedouble;
    return PT_OK;
}

static int kr_bar(const cJSON *d, int64_t interval_ms, pt_candle *c, feed_parse_out *out)
{
    static const char *const names[5] = {"open", "high", "low", "close", "volume"};
    double *dst[5] = {&c->open, &c->high, &c->low, &c->close, &c->volume};
    char local[PT_SYMBOL_MAX];
    memset(c, 0, sizeof *c);
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(d, "symbol");
    if (!cJSON_IsString(s) || kr_map(s->valuestring, '-', local, sizeof local) || feed_candle_set_symbol(c, local)) {
        feed_drop(out, FEED_DROP_SCHEMA, "field data.symbol: missing or not a pair");
        return PT_EPARSE;
    }
    const cJSON *iv = cJSON_GetObjectItemCaseSensitive(d, "interval");
    if (!cJSON_IsNumber(iv) || iv->valuedouble * (double)M != (double)interval_ms) {
        feed_drop(out, FEED_DROP_WRONG_INTERVAL, "field data.interval: not the subscribed interval");
        return PT_EPARSE;
    }
    /* interval_begin is the bar's open; timestamp (its end) is deprecated */
    if (kr_time(cJSON_GetObjectItemCaseSensitive(d, "interval_begin"), &c->ts_ms) || c->ts_ms % interval_ms) {
        feed_drop(out, FEED_DROP_BAD_TIME, "field data.interval_begin: missing or not an RFC 3339 bar open");
        return PT_EPARSE;
    }
    for (int i = 0; i < 5; i++)
        if (kr_number(cJSON_GetObjectItemCaseSensitive(d, names[i]), i == 4, dst[i])) {
            feed_drop(out, FEED_DROP_BAD_NUMBER, "field data.%s: not a finite positive number", names[i]);
            return PT_ERANGE;
        }
    c->closed = 0; /* no closed flag: final when a later interval_begin comes or the interval ends */
    return PT_OK;
}

static void kr_parse_ohlc(const cJSON *root, int64_t interval_ms, feed_parse_out *out)
{
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data"), *d;
    const cJSON *ts = cJSON_GetObjectItemCaseSensitive(root, "timestamp");
    if (!cJSON_IsArray(data)) {
        feed_drop(out, FEED_DROP_SCHEMA, "ohlc message without data array");
        return;
    }
    if (ts && kr_time(ts, &out->event_ms)) {
        feed_drop(out, FEED_DROP_BAD_TIME, "field timestamp: not RFC 3339");
        return;
    }
    size_t n = 0;
    cJSON_ArrayForEach(d, data)
    {
        if (n >= FEED_PARSE_MAX) {
            feed_drop(out, FEED_DROP_SCHEMA, "more than %d bars in one message", FEED_PARSE_MAX);
            return;
        }
        if (kr_bar(d, interval_ms, &out->candles[n], out))
            return;
        n++;
    }
    if (!n) {
        out->kind = FEED_MSG_IGNORE; /* an empty snapshot is valid */
        return;
    }
    out->kind = FEED_MSG_CANDLE;
    out->n = n;
}

static void kr_parse(const char *msg, size_t len, int64_t interval_ms, feed_parse_out *out)
{
    cJSON *root = feed_json_parse(msg, len, out);
    if (!root)
        return;
    if (!cJSON_IsObject(root)) {
        feed_drop(out, FEED_DROP_SCHEMA, "message is not an object");
        goto done;
    }
    /* request replies: {"method","success",...}; a refusal carries "error"
     * with the venue's text ("Currency pair not supported XBT/USD") */
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(root, "error");
    const cJSON *method = cJSON_GetObjectItemCaseSensitive(root, "method");
    const cJSON *ch = cJSON_GetObjectItemCaseSensitive(root, "channel");
    if (err || cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(root, "success"))) {
        feed_drop(out, FEED_DROP_EXCHANGE_ERROR, "exchange error: %.100s",
                  cJSON_IsString(err) ? err->valuestring : "?");
    } else if (cJSON_IsString(method)) {
        out->kind = !strcmp(method->valuestring, "subscribe") ? FEED_MSG_ACK : FEED_MSG_IGNORE; /* pong too */
    } else if (!cJSON_IsString(ch)) {
        feed_drop(out, FEED_DROP_SCHEMA, "field channel: missing");
    } else if (!strcmp(ch->valuestring, "ohlc")) {
        kr_parse_ohlc(root, interval_ms, out);
    } else {
        out->kind = FEED_MSG_IGNORE; /* heartbeat (1/s when idle), status */
    }
done:
    cJSON_Delete(root);
}

static int kr_rest_url(const char *base, const char *symbol, int64_t interval_ms, int64_t start_ms,
                       int64_t end_ms, int limit, char *buf, size_t cap)
{
    (void)end_ms, (void)limit; /* no end and no limit: up to 720 rows since `since` */
    char iv[8], ws[PT_SYMBOL_MAX], *sl;
    int rc = kr_interval(interval_ms, iv, sizeof iv);
    if (rc)
        return rc;
    if (kr_map(symbol, '/', ws, sizeof ws))
        return PT_EINVAL;
    sl = strchr(ws, '/');
    *sl = 0;
    /* since: unix seconds, exclusive; one second early so start is included */
    int w = snprintf(buf, cap, "%s/0/public/OHLC?pair=%s%%2F%s&interval=%s&since=%lld", base, ws, sl + 1, iv,
                     (long long)(start_ms / 1000 - 1));
    return w < 0 || (size_t)w >= cap ? PT_EFULL : PT_OK;
}

/* one [time_s,"o","h","l","c","vwap","volume",count] row -> closed candle */
static int kr_rest_row(const cJSON *row, const char *symbol, pt_candle *c, feed_parse_out *po)
{
    const cJSON *t = cJSON_GetArrayItem(row, 0), *it[5];
    for (int i = 0; i < 4; i++)
        it[i] = cJSON_GetArrayItem(row, i + 1);
    it[4] = cJSON_GetArrayItem(row, 6); /* [5] is vwap */
    memset(c, 0, sizeof *c);
    if (!cJSON_IsNumber(t) || !isfinite(t->valuedouble) || t->valuedouble != floor(t->valuedouble) ||
        t->valuedouble < 946684800.0 || t->valuedouble > 4102444800.0) {
        feed_drop(po, FEED_DROP_BAD_TIME, "field time: not whole unix seconds");
        return PT_EPARSE;
    }
    c->ts_ms = (int64_t)t->valuedouble * 1000;
    if (feed_fill_ohlcv(c, it, po))
        return PT_EPARSE;
    if (feed_candle_set_symbol(c, symbol)) {
        feed_drop(po, FEED_DROP_SCHEMA, "bad symbol");
        return PT_EPARSE;
    }
    c->closed = 1;
    return PT_OK;
}

/* {"error":[],"result":{"<pair>":[row,...],"last":N}}. Errors come in
 * "error" with HTTP 200 ("EQuery:Unknown asset pair"; format:
 * https://docs.kraken.com/exchange/guides/general/errors); the pair key may
 * differ from the request (XXBTZUSD), so the first array wins. */
static int kr_rest_parse(const char *body, size_t len, const char *symbol, pt_candle *out, size_t cap,
                         size_t *n, uint64_t drops[FEED_DROP__COUNT], char *err, size_t err_cap)
{
    feed_parse_out po;
    *n = 0;
    cJSON *root = feed_rest_json(body, len, symbol, drops);
    if (!root)
        return PT_EPARSE;
    int rc = PT_EPARSE;
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(root, "error"), *row;
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(root, "result"), *rows = cJSON_IsObject(res) ? res->child : NULL;
    while (rows && !cJSON_IsArray(rows)) /* the first array member: the pair's rows */
        rows = rows->next;
    size_t k = 0, row_no = 0;
    if (cJSON_IsArray(e) && cJSON_GetArraySize(e) > 0) {
        const cJSON *e0 = cJSON_GetArrayItem(e, 0);
        const char *t = cJSON_IsString(e0) ? e0->valuestring : "?";
        snprintf(err, err_cap, "kraken: %.200s", t);
        /* the rate-limit texts of https://docs.kraken.com/exchange/guides/rest/ratelimits */
        rc = !strncmp(t, "EAPI:Rate limit", 15) || !strncmp(t, "EGeneral:Too many requests", 26) ? PT_ERATELIMIT
                                                                                                    : PT_EINVAL;
        goto done;
    }
    if (!rows) {
        drops[FEED_DROP_SCHEMA]++;
        pt_warn("feed: REST %s: body without result rows", symbol);
        goto done;
    }
    cJSON_ArrayForEach(row, rows)
    {
        row_no++;
        if (k == cap) { /* more rows than the caller's buffer */
            pt_warn("feed: REST %s: more than %zu rows", symbol, cap);
            rc = PT_EFULL;
            goto done;
        }
        if (kr_rest_row(row, symbol, &out[k], &po)) {
            drops[po.reason]++;
            pt_warn("feed: REST %s row %zu dropped: %s", symbol, row_no, po.detail);
            continue;
        }
        k++;
    }
    *n = feed_rest_rows_normalise(out, k);
    rc = PT_OK;
done:
    cJSON_Delete(root);
    return rc;
}

const feed_adapter feed_adapter_kraken = {
    .name = "kraken",
    .ws_url = "wss://ws.kraken.com",
    .rest_url = "https://api.kraken.com",
    .has_closed_flag = 0,
    .rest_max_limit = 720, /* "Returns up to 720 of the most recent entries" (get-ohlc-data) */
    .update_period_ms = 10000, /* updates only on trades; heartbeat 1/s otherwise */
    .market = "spot",
    .history_bars = 720, /* "older data cannot be retrieved, regardless of the value of since" */
    .finality = "next interval_begin or interval end (exchange clock); no closed flag",
    .venue_sep = '/',
    .interval_name = kr_interval,
    .ws_path = kr_ws_path,
    .subscribe = kr_subscribe,
    .parse = kr_parse,
    .rest_url_for = kr_rest_url,
    .rest_parse = kr_rest_parse,
    .rules_url = feed_rules_url_kraken,
    .rules_parse = feed_rules_parse_kraken,
};
