/* feed: Bitvavo adapter (secondary). Follows https://docs.bitvavo.com
 * (candles subscription, REST candles) and the official SDKs
 * (https://github.com/bitvavo): wire event "candle"
 * (doc page says "candles"; both accepted), open time as integer or string,
 * prices as strings, no closed flag (feed_series infers the close), REST
 * /v2/{market}/candles newest first (feed_rest_parse_rows sorts). */
#include "feed_live_internal.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#define M 60000LL
static const ival_name bv_ivals[] = {
    {M, "1m"},        {5 * M, "5m"},   {15 * M, "15m"}, {30 * M, "30m"},  {60 * M, "1h"},   {120 * M, "2h"},
    {240 * M, "4h"},  {360 * M, "6h"}, {480 * M, "8h"}, {720 * M, "12h"}, {1440 * M, "1d"},
};

static int bv_interval(int64_t ms, char *buf, size_t cap)
{
    return feed_interval_lookup(bv_ivals, sizeof bv_ivals / sizeof bv_ivals[0], ms, buf, cap);
}

static int bv_ws_path(const char *const *syms, size_t n, int64_t interval_ms, char *buf, size_t cap)
{
    (void)syms, (void)n, (void)interval_ms;
    int w = snprintf(buf, cap, "/v2/");
    return w < 0 || (size_t)w >= cap ? PT_EFULL : PT_OK;
}

static int bv_subscribe(const char *const *syms, size_t n, int64_t interval_ms, char *buf, size_t cap,
                        size_t *len)
{
    char iv[8];
    int rc = bv_interval(interval_ms, iv, sizeof iv);
    if (rc)
        return rc;
    /* one message for all markets: a subscription costs 1 weight point
     * regardless of market count (docs rate-limits) */
    size_t w = (size_t)snprintf(buf, cap, "{\"action\":\"subscribe\",\"channels\":[{\"name\":\"candles\","
                                          "\"interval\":[\"%s\"],\"markets\":[",
                                iv);
    for (size_t i = 0; i < n; i++) {
        pt_candle probe;
        if (feed_candle_set_symbol(&probe, syms[i]))
            return PT_EINVAL;
        if (w + strlen(syms[i]) + 8 >= cap)
            return PT_EFULL;
        w += (size_t)snprintf(buf + w, cap - w, "%s\"%s\"", i ? "," : "", syms[i]);
    }
    if (w + 4 >= cap)
        return PT_EFULL;
    w += (size_t)snprintf(buf + w, cap - w, "]}]}");
    *len = w;
    return PT_OK;
}

static void bv_parse_candles(const cJSON *root, int64_t interval_ms, feed_parse_out *out)
{
    const cJSON *mk = cJSON_GetObjectItemCaseSensitive(root, "market");
    const cJSON *iv = cJSON_GetObjectItemCaseSensitive(root, "interval");
    const cJSON *rows = cJSON_GetObjectItemCaseSensitive(root, "candle");
    if (!cJSON_IsString(mk) || !cJSON_IsArray(rows)) {
        feed_drop(out, FEED_DROP_SCHEMA, "candle event without market or candle array");
        return;
    }
    char want[8];
    if (!cJSON_IsString(iv) || bv_interval(interval_ms, want, sizeof want) || strcmp(want, iv->valuestring)) {
        feed_drop(out, FEED_DROP_WRONG_INTERVAL, "field interval: not the subscribed interval");
        return;
    }
    size_t n = 0;
    const cJSON *row;
    cJSON_ArrayForEach(row, rows)
    {
        if (n >= FEED_PARSE_MAX) {
            feed_drop(out, FEED_DROP_SCHEMA, "more than %d candles in one event", FEED_PARSE_MAX);
            return;
        }
        if (feed_adapter_parse_row(row, mk->valuestring, &out->candles[n], out))
            return; /* one bad row drops the event: it is one update */
        out->candles[n].closed = 0; /* no closed flag on Bitvavo */
        n++;
    }
    if (n == 0) {
        feed_drop(out, FEED_DROP_SCHEMA, "empty candle array");
        return;
    }
    out->kind = FEED_MSG_CANDLE;
    out->n = n;
}

static void bv_parse(const char *msg, size_t len, int64_t interval_ms, feed_parse_out *out)
{
    cJSON *root = feed_json_parse(msg, len, out);
    if (!root)
        return;
    if (!cJSON_IsObject(root)) {
        feed_drop(out, FEED_DROP_SCHEMA, "message is not an object");
        goto done;
    }
    const cJSON *ec = cJSON_GetObjectItemCaseSensitive(root, "errorCode");
    if (ec) {
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(root, "error");
        feed_drop(out, FEED_DROP_EXCHANGE_ERROR, "exchange error %g: %.80s",
                  cJSON_IsNumber(ec) ? ec->valuedouble : 0.0, cJSON_IsString(e) ? e->valuestring : "?");
        goto done;
    }
    const cJSON *ev = cJSON_GetObjectItemCaseSensitive(root, "event");
    if (!cJSON_IsString(ev)) {
        /* action replies ({"action":..,"response":..}) carry no event */
        if (cJSON_GetObjectItemCaseSensitive(root, "action"))
            out->kind = FEED_MSG_IGNORE;
        else
            feed_drop(out, FEED_DROP_SCHEMA, "field event: missing");
        goto done;
    }
    if (!strcmp(ev->valuestring, "candle") || !strcmp(ev->valuestring, "candles"))
        bv_parse_candles(root, interval_ms, out);
    else if (!strcmp(ev->valuestring, "subscribed"))
        out->kind = FEED_MSG_ACK;
    else
        out->kind = FEED_MSG_IGNORE;
done:
    cJSON_Delete(root);
}

static int bv_rest_url(const char *base, const char *symbol, int64_t interval_ms, int64_t start_ms,
                       int64_t end_ms, int limit, char *buf, size_t cap)
{
    char iv[8];
    pt_candle probe;
    int rc = bv_interval(interval_ms, iv, sizeof iv);
    if (rc)
        return rc;
    if (feed_candle_set_symbol(&probe, symbol))
        return PT_EINVAL;
    int w = snprintf(buf, cap, "%s/v2/%s/candles?interval=%s&start=%lld&end=%lld&limit=%d", base, symbol, iv,
                     (long long)start_ms, (long long)end_ms, limit);
    return w < 0 || (size_t)w >= cap ? PT_EFULL : PT_OK;
}

const feed_adapter feed_adapter_bitvavo = {
    .name = "bitvavo",
    .ws_url = "wss://ws.bitvavo.com",
    .rest_url = "https://api.bitvavo.com",
    .has_closed_flag = 0,
    .rest_max_limit = 1440,
    .update_period_ms = 10000, /* per trade; quiet markets are silent for long */
    .market = "spot",
    .history_bars = 0,
    .finality = "next bar or interval end (exchange clock); no closed flag",
    .interval_name = bv_interval,
    .ws_path = bv_ws_path,
    .subscribe = bv_subscribe,
    .parse = bv_parse,
    .rest_url_for = bv_rest_url,
    .rules_url = feed_rules_url_bitvavo,
    .rules_parse = feed_rules_parse_bitvavo,
};
