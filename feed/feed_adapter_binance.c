/* feed: Binance spot adapter (primary). Follows the Binance spot API docs,
 * web-socket-streams.md (kline payload, combined streams, serverShutdown)
 * and rest-api.md (klines):
 * https://github.com/binance/binance-spot-api-docs. The helpers every
 * adapter shares are in feed_adapter_util.c. */
#include "feed_live_internal.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------- Binance */
#define M 60000LL
static const ival_name bn_ivals[] = {
    {1000, "1s"},     {M, "1m"},           {3 * M, "3m"},       {5 * M, "5m"},   {15 * M, "15m"},
    {30 * M, "30m"},  {60 * M, "1h"},      {120 * M, "2h"},     {240 * M, "4h"}, {360 * M, "6h"},
    {480 * M, "8h"},  {720 * M, "12h"},    {1440 * M, "1d"},    {4320 * M, "3d"}, {10080 * M, "1w"},
};

int feed_binance_interval(int64_t ms, int with_1s, char *buf, size_t cap)
{
    const ival_name *t = with_1s ? bn_ivals : bn_ivals + 1; /* bn_ivals[0] is 1s */
    size_t n = sizeof bn_ivals / sizeof bn_ivals[0] - (with_1s ? 0 : 1);
    return feed_interval_lookup(t, n, ms, buf, cap);
}

static int bn_interval(int64_t ms, char *buf, size_t cap) { return feed_binance_interval(ms, 1, buf, cap); }

int feed_binance_upper(const char *symbol, char *out, size_t cap)
{
    pt_candle probe;
    size_t n = symbol ? strlen(symbol) : 0;
    if (feed_candle_set_symbol(&probe, symbol) || n >= cap)
        return PT_EINVAL;
    for (size_t i = 0; i <= n; i++)
        out[i] = (char)toupper((unsigned char)symbol[i]);
    return PT_OK;
}

static int bn_ws_path(const char *const *syms, size_t n, int64_t interval_ms, char *buf, size_t cap)
{
    char iv[8];
    int rc = bn_interval(interval_ms, iv, sizeof iv);
    if (rc)
        return rc;
    /* combined stream: one connection for many symbols, each event wrapped
     * in {"stream":..,"data":..} (web-socket-streams.md) */
    size_t w = (size_t)snprintf(buf, cap, "/stream?streams=");
    for (size_t i = 0; i < n; i++) {
        pt_candle probe;
        if (feed_candle_set_symbol(&probe, syms[i]))
            return PT_EINVAL;
        if (w + strlen(syms[i]) + strlen(iv) + 10 >= cap)
            return PT_EFULL;
        if (i)
            buf[w++] = '/';
        for (const char *p = syms[i]; *p; p++)
            buf[w++] = (char)tolower((unsigned char)*p); /* stream names are lowercase */
        w += (size_t)snprintf(buf + w, cap - w, "@kline_%s", iv);
    }
    return PT_OK;
}

static int bn_subscribe(const char *const *syms, size_t n, int64_t interval_ms, char *buf, size_t cap,
                        size_t *len)
{
    (void)syms, (void)n, (void)interval_ms, (void)buf, (void)cap;
    *len = 0; /* streams are named in the URL */
    return PT_OK;
}

static void bn_parse_kline(const cJSON *ev, int64_t interval_ms, int (*interval_fn)(int64_t, char *, size_t),
                           feed_parse_out *out)
{
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(ev, "k");
    if (!cJSON_IsObject(k)) {
        feed_drop(out, FEED_DROP_SCHEMA, "kline without object k");
        return;
    }
    const cJSON *E = cJSON_GetObjectItemCaseSensitive(ev, "E");
    if (E && feed_json_time(E, &out->event_ms)) {
        feed_drop(out, FEED_DROP_BAD_TIME, "field E: not a time");
        return;
    }
    pt_candle *c = &out->candles[0];
    memset(c, 0, sizeof *c);
    if (feed_json_time(cJSON_GetObjectItemCaseSensitive(k, "t"), &c->ts_ms)) {
        feed_drop(out, FEED_DROP_BAD_TIME, "field k.t: missing or out of range");
        return;
    }
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(k, "s");
    if (!cJSON_IsString(s) || feed_candle_set_symbol(c, s->valuestring)) {
        feed_drop(out, FEED_DROP_SCHEMA, "field k.s: missing or not a symbol");
        return;
    }
    const cJSON *i = cJSON_GetObjectItemCaseSensitive(k, "i");
    char want[8];
    if (!cJSON_IsString(i) || interval_fn(interval_ms, want, sizeof want) || strcmp(want, i->valuestring)) {
        feed_drop(out, FEED_DROP_WRONG_INTERVAL, "field k.i: not the subscribed interval");
        return;
    }
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(k, "x");
    if (!cJSON_IsBool(x)) {
        feed_drop(out, FEED_DROP_SCHEMA, "field k.x: missing or not a boolean");
        return;
    }
    const cJSON *it[5] = {cJSON_GetObjectItemCaseSensitive(k, "o"), cJSON_GetObjectItemCaseSensitive(k, "h"),
                          cJSON_GetObjectItemCaseSensitive(k, "l"), cJSON_GetObjectItemCaseSensitive(k, "c"),
                          cJSON_GetObjectItemCaseSensitive(k, "v")};
    if (feed_fill_ohlcv(c, it, out))
        return;
    c->closed = cJSON_IsTrue(x) ? 1 : 0;
    out->kind = FEED_MSG_CANDLE;
    out->n = 1;
}

void feed_binance_parse(const char *msg, size_t len, int64_t interval_ms,
                        int (*interval_fn)(int64_t, char *, size_t), feed_bn_event_fn extra, feed_parse_out *out)
{
    cJSON *root = feed_json_parse(msg, len, out);
    if (!root)
        return;
    const cJSON *ev = root;
    if (!cJSON_IsObject(root)) {
        feed_drop(out, FEED_DROP_SCHEMA, "message is not an object");
        goto done;
    }
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(root, "error");
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(root, "code");
    if (err || code) {
        /* nested {"error":{"code","msg"}} on the wire, flat in the doc table */
        const cJSON *src = cJSON_IsObject(err) ? err : root;
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(src, "msg");
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(src, "code");
        feed_drop(out, FEED_DROP_EXCHANGE_ERROR, "exchange error %g: %.80s",
                  cJSON_IsNumber(c) ? c->valuedouble : 0.0, cJSON_IsString(m) ? m->valuestring : "?");
        goto done;
    }
    if (cJSON_GetObjectItemCaseSensitive(root, "result") && cJSON_GetObjectItemCaseSensitive(root, "id")) {
        out->kind = FEED_MSG_ACK;
        goto done;
    }
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data");
    if (cJSON_GetObjectItemCaseSensitive(root, "stream")) {
        if (!cJSON_IsObject(data)) {
            feed_drop(out, FEED_DROP_SCHEMA, "combined stream without object data");
            goto done;
        }
        ev = data;
    }
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(ev, "e");
    if (!cJSON_IsString(e)) {
        feed_drop(out, FEED_DROP_SCHEMA, "field e: missing event type");
        goto done;
    }
    if (!strcmp(e->valuestring, "kline"))
        bn_parse_kline(ev, interval_ms, interval_fn, out);
    else if (!strcmp(e->valuestring, "serverShutdown"))
        out->kind = FEED_MSG_SHUTDOWN;
    else if (extra)
        extra(ev, e->valuestring, out);
    else
        out->kind = FEED_MSG_IGNORE;
done:
    cJSON_Delete(root);
}

static void bn_parse(const char *msg, size_t len, int64_t interval_ms, feed_parse_out *out)
{
    feed_binance_parse(msg, len, interval_ms, bn_interval, NULL, out);
}

static int bn_rest_url(const char *base, const char *symbol, int64_t interval_ms, int64_t start_ms,
                       int64_t end_ms, int limit, char *buf, size_t cap)
{
    char iv[8], up[PT_SYMBOL_MAX];
    int rc = bn_interval(interval_ms, iv, sizeof iv);
    if (rc)
        return rc;
    /* rest-api.md: symbol UPPERCASE, interval case-sensitive, limit <= 1000 */
    if (feed_binance_upper(symbol, up, sizeof up))
        return PT_EINVAL;
    int w = snprintf(buf, cap, "%s/api/v3/klines?symbol=%s&interval=%s&startTime=%lld&endTime=%lld&limit=%d",
                     base, up, iv, (long long)start_ms, (long long)end_ms, limit);
    return w < 0 || (size_t)w >= cap ? PT_EFULL : PT_OK;
}

const feed_adapter feed_adapter_binance = {
    .name = "binance",
    .ws_url = "wss://stream.binance.com:9443",
    .rest_url = "https://api.binance.com",
    .has_closed_flag = 1,
    .rest_max_limit = 1000,
    .update_period_ms = 2000,
    .market = "spot",
    .history_bars = 0,
    .finality = "explicit closed flag k.x (exchange clock)",
    .interval_name = bn_interval,
    .ws_path = bn_ws_path,
    .subscribe = bn_subscribe,
    .parse = bn_parse,
    .rest_url_for = bn_rest_url,
    .rules_url = feed_rules_url_binance,
    .rules_parse = feed_rules_parse_binance,
};
