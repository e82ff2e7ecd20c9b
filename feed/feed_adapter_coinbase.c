/* feed: Coinbase Advanced Trade adapter (public market data, no auth). Facts
 * from Coinbase's public docs:
 *   [ws]   https://docs.cdp.coinbase.com/coinbase-app/advanced-trade-apis/websocket/websocket-overview
 *          endpoint wss://advanced-trade-ws.coinbase.com, subscribe within
 *          5 s, one channel per subscribe message, {"type":"error","message"}
 *   [chan] https://docs.cdp.coinbase.com/coinbase-app/advanced-trade-apis/websocket/websocket-channels
 *          candles: "grouped into five-minute buckets, with updates every
 *          second" (no granularity option, no closed flag, start in unix
 *          seconds, prices as strings); heartbeats every second ("most
 *          channels close within 60-90 seconds if no updates are sent");
 *          acks on the "subscriptions" channel
 *   [rest] https://docs.cdp.coinbase.com/api-reference/advanced-trade-api/rest-api/public/get-public-product-candles
 *          GET /api/v3/brokerage/market/products/{product_id}/candles
 *          ?start=&end=(unix s)&granularity=ONE_MINUTE..., at most 350
 *          candles per request, {"candles":[{"start","low","high","open",
 *          "close","volume"}]} newest first
 * Live candles are 5m only: the socket has no other bucket. Building other
 * intervals from market_trades is not done (docs/feed.md, Coinbase). */
#include "feed_live_internal.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#define M 60000LL
/* [rest] granularity enum */
static const ival_name cb_ivals[] = {
    {M, "ONE_MINUTE"},       {5 * M, "FIVE_MINUTE"}, {15 * M, "FIFTEEN_MINUTE"}, {30 * M, "THIRTY_MINUTE"},
    {60 * M, "ONE_HOUR"},    {120 * M, "TWO_HOUR"},  {360 * M, "SIX_HOUR"},      {1440 * M, "ONE_DAY"},
};

static int cb_interval(int64_t ms, char *buf, size_t cap)
{
    return feed_interval_lookup(cb_ivals, sizeof cb_ivals / sizeof cb_ivals[0], ms, buf, cap);
}

/* product ids are BASE-QUOTE in capitals ("BTC-USD"); lowercase is raised */
static int cb_product(const char *in, char *out, size_t cap)
{
    pt_candle probe;
    size_t n = in ? strlen(in) : 0;
    if (feed_candle_set_symbol(&probe, in) || n >= cap || !strchr(in, '-') || in[0] == '-' || in[n - 1] == '-')
        return PT_EINVAL;
    for (size_t i = 0; i <= n; i++)
        out[i] = in[i] >= 'a' && in[i] <= 'z' ? (char)(in[i] - 'a' + 'A') : in[i];
    return PT_OK;
}

static int cb_ws_path(const char *const *syms, size_t n, int64_t interval_ms, char *buf, size_t cap)
{
    (void)syms, (void)n, (void)interval_ms;
    int w = snprintf(buf, cap, "/");
    return w < 0 || (size_t)w >= cap ? PT_EFULL : PT_OK;
}

/* two messages, NUL-separated (feed_live sends them one by one): candles
 * for every product, then heartbeats ([ws] one channel per message) */
static int cb_subscribe(const char *const *syms, size_t n, int64_t interval_ms, char *buf, size_t cap,
                        size_t *len)
{
    static const char hb[] = "{\"type\":\"subscribe\",\"channel\":\"heartbeats\"}";
    char id[PT_SYMBOL_MAX];
    if (interval_ms != 5 * M)
        return PT_EUNSUPPORTED;
    size_t w = (size_t)snprintf(buf, cap, "{\"type\":\"subscribe\",\"channel\":\"candles\",\"product_ids\":[");
    for (size_t i = 0; i < n; i++) {
        if (cb_product(syms[i], id, sizeof id))
            return PT_EINVAL;
        if (w + strlen(id) + 8 >= cap)
            return PT_EFULL;
        w += (size_t)snprintf(buf + w, cap - w, "%s\"%s\"", i ? "," : "", id);
    }
    if (w + 4 + sizeof hb >= cap)
        return PT_EFULL;
    w += (size_t)snprintf(buf + w, cap - w, "]}");
    memcpy(buf + w + 1, hb, sizeof hb); /* after the NUL snprintf wrote */
    *len = w + 1 + sizeof hb - 1;
    return PT_OK;
}

/* "1688998200": unix seconds as a digit string -> ms */
static int cb_start(const cJSON *it, int64_t *ms)
{
    int64_t s;
    if (!cJSON_IsString(it) || !it->valuestring ||
        pt_parse_int64(it->valuestring, strlen(it->valuestring), &s, NULL) || s < 946684800LL || s > 4102444800LL)
        return PT_EPARSE;
    *ms = s * 1000;
    return PT_OK;
}

/* one {"start","high","low","open","close","volume"[,"product_id"]} bucket */
static int cb_bucket(const cJSON *b, const char *symbol, int64_t interval_ms, pt_candle *c, feed_parse_out *out)
{
    static const char *const names[5] = {"open", "high", "low", "close", "volume"};
    const cJSON *it[5];
    memset(c, 0, sizeof *c);
    if (!cJSON_IsObject(b)) {
        feed_drop(out, FEED_DROP_SCHEMA, "candle is not an object");
        return PT_EPARSE;
    }
    if (cb_start(cJSON_GetObjectItemCaseSensitive(b, "start"), &c->ts_ms) || c->ts_ms % interval_ms) {
        feed_drop(out, FEED_DROP_BAD_TIME, "field start: not unix seconds on the interval grid");
        return PT_EPARSE;
    }
    for (int i = 0; i < 5; i++)
        it[i] = cJSON_GetObjectItemCaseSensitive(b, names[i]);
    if (feed_fill_ohlcv(c, it, out))
        return PT_EPARSE;
    if (feed_candle_set_symbol(c, symbol)) {
        feed_drop(out, FEED_DROP_SCHEMA, "field product_id: missing or bad");
        return PT_EPARSE;
    }
    c->closed = 0; /* no closed flag: final by the next bucket or the interval end */
    return PT_OK;
}

/* Keeps the newest FEED_PARSE_MAX buckets, ascending (a snapshot may hold
 * more; older ones come from REST). */
static void cb_keep(feed_parse_out *out, const pt_candle *c)
{
    size_t at = out->n;
    if (out->n == FEED_PARSE_MAX) {
        if (c->ts_ms <= out->candles[0].ts_ms)
            return;
        memmove(&out->candles[0], &out->candles[1], (FEED_PARSE_MAX - 1) * sizeof *c);
        at = FEED_PARSE_MAX - 1;
        out->n--;
    }
    while (at > 0 && out->candles[at - 1].ts_ms > c->ts_ms)
        out->candles[at] = out->candles[at - 1], at--;
    out->candles[at] = *c;
    out->n++;
}

static void cb_parse_candles(const cJSON *root, int64_t interval_ms, feed_parse_out *out)
{
    const cJSON *evs = cJSON_GetObjectItemCaseSensitive(root, "events"), *ev, *b;
    if (interval_ms != 5 * M) {
        feed_drop(out, FEED_DROP_WRONG_INTERVAL, "candles channel: five-minute buckets, not the subscribed interval");
        return;
    }
    if (!cJSON_IsArray(evs)) {
        feed_drop(out, FEED_DROP_SCHEMA, "field events: missing");
        return;
    }
    out->n = 0;
    cJSON_ArrayForEach(ev, evs)
    {
        const cJSON *cs = cJSON_GetObjectItemCaseSensitive(ev, "candles");
        if (!cJSON_IsArray(cs)) {
            feed_drop(out, FEED_DROP_SCHEMA, "field events[].candles: missing");
            return;
        }
        cJSON_ArrayForEach(b, cs)
        {
            const cJSON *pid = cJSON_GetObjectItemCaseSensitive(b, "product_id");
            pt_candle c;
            if (cb_bucket(b, cJSON_IsString(pid) ? pid->valuestring : "", interval_ms, &c, out))
                return;
            cb_keep(out, &c);
        }
    }
    out->kind = out->n ? FEED_MSG_CANDLE : FEED_MSG_IGNORE;
}

static void cb_parse(const char *msg, size_t len, int64_t interval_ms, feed_parse_out *out)
{
    cJSON *root = feed_json_parse(msg, len, out);
    if (!root)
        return;
    const cJSON *ch = cJSON_GetObjectItemCaseSensitive(root, "channel");
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(root, "type");
    const cJSON *ts = cJSON_GetObjectItemCaseSensitive(root, "timestamp");
    pt_time_kind k = PT_TIME_ISO_UTC;
    const char *why = NULL;
    if (!cJSON_IsObject(root)) {
        feed_drop(out, FEED_DROP_SCHEMA, "message is not an object");
    } else if (cJSON_IsString(type) && !strcmp(type->valuestring, "error")) { /* [ws] */
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(root, "message");
        feed_drop(out, FEED_DROP_EXCHANGE_ERROR, "exchange error: %.100s", cJSON_IsString(m) ? m->valuestring : "?");
    } else if (!cJSON_IsString(ch)) {
        feed_drop(out, FEED_DROP_SCHEMA, "field channel: missing");
    } else if (cJSON_IsString(ts) && pt_parse_time(ts->valuestring, strlen(ts->valuestring), &k, NULL,
                                                     &out->event_ms, &why)) {
        feed_drop(out, FEED_DROP_BAD_TIME, "field timestamp: not RFC 3339");
    } else if (!strcmp(ch->valuestring, "candles")) {
        cb_parse_candles(root, interval_ms, out);
    } else {
        out->kind = !strcmp(ch->valuestring, "subscriptions") ? FEED_MSG_ACK : FEED_MSG_IGNORE; /* heartbeats */
    }
    cJSON_Delete(root);
}

static int cb_rest_url(const char *base, const char *symbol, int64_t interval_ms, int64_t start_ms,
                       int64_t end_ms, int limit, char *buf, size_t cap)
{
    (void)limit; /* the window [start, end] holds at most rest_max_limit buckets */
    char g[20], id[PT_SYMBOL_MAX];
    int rc = cb_interval(interval_ms, g, sizeof g);
    if (rc)
        return rc;
    if (cb_product(symbol, id, sizeof id))
        return PT_EINVAL;
    int w = snprintf(buf, cap, "%s/api/v3/brokerage/market/products/%s/candles?start=%lld&end=%lld&granularity=%s",
                     base, id, (long long)(start_ms / 1000), (long long)(end_ms / 1000), g);
    return w < 0 || (size_t)w >= cap ? PT_EFULL : PT_OK;
}

/* [rest] {"candles":[bucket,...]}; errors come with a 4xx (feed_rest) */
static int cb_rest_parse(const char *body, size_t len, const char *symbol, pt_candle *out, size_t cap, size_t *n,
                         uint64_t drops[FEED_DROP__COUNT], char *err, size_t errcap)
{
    (void)err, (void)errcap;
    feed_parse_out po;
    *n = 0;
    cJSON *root = feed_rest_json(body, len, symbol, drops);
    if (!root)
        return PT_EPARSE;
    const cJSON *cs = cJSON_GetObjectItemCaseSensitive(root, "candles"), *b;
    size_t k = 0, row_no = 0;
    int rc = PT_EPARSE;
    if (!cJSON_IsArray(cs)) {
        drops[FEED_DROP_SCHEMA]++;
        pt_warn("feed: REST %s: body without candles", symbol);
        goto done;
    }
    rc = PT_OK;
    cJSON_ArrayForEach(b, cs)
    {
        row_no++;
        if (k == cap) {
            pt_warn("feed: REST %s: more than %zu rows", symbol, cap);
            rc = PT_EFULL;
            goto done;
        }
        /* REST buckets carry no interval of their own: start must sit on a minute */
        if (cb_bucket(b, symbol, M, &out[k], &po)) {
            drops[po.reason]++;
            pt_warn("feed: REST %s row %zu dropped: %s", symbol, row_no, po.detail);
            continue;
        }
        out[k++].closed = 1;
    }
    *n = feed_rest_rows_normalise(out, k);
done:
    cJSON_Delete(root);
    return rc;
}

const feed_adapter feed_adapter_coinbase = {
    .name = "coinbase",
    .ws_url = "wss://advanced-trade-ws.coinbase.com",
    .rest_url = "https://api.coinbase.com",
    .has_closed_flag = 0,
    .rest_max_limit = 350,      /* [rest] */
    .update_period_ms = 20000,  /* [chan] every second while trading; quiet products: stale after 60 s */
    .market = "spot",
    .history_bars = 0,
    .finality = "next bucket or interval end (exchange clock); no closed flag; live 5m only",
    .ws_interval_ms = 5 * M,    /* [chan] five-minute buckets only */
    .interval_name = cb_interval,
    .ws_path = cb_ws_path,
    .subscribe = cb_subscribe,
    .parse = cb_parse,
    .rest_url_for = cb_rest_url,
    .rest_parse = cb_rest_parse,
    .rules_url = feed_rules_url_coinbase,
    .rules_parse = feed_rules_parse_coinbase,
};
