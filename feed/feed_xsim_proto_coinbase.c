/* feed: the exchange simulator speaking Coinbase Advanced Trade market data,
 * as documented in
 *   https://docs.cdp.coinbase.com/coinbase-app/advanced-trade-apis/websocket/websocket-overview
 *     (one channel per subscribe, {"type":"error","message"}),
 *   https://docs.cdp.coinbase.com/coinbase-app/advanced-trade-apis/websocket/websocket-channels
 *     (candles: five-minute buckets, start in unix seconds, strings; acks on
 *     the "subscriptions" channel),
 *   https://docs.cdp.coinbase.com/api-reference/advanced-trade-api/rest-api/public/get-public-product-candles
 *     (GET /api/v3/brokerage/market/products/{id}/candles, start/end unix s,
 *     granularity, at most 350 buckets, newest first).
 * Not simulated: the per-second heartbeats (the subscription is acked, no
 * heartbeat is sent: the feed ignores them), sequence_num per connection
 * (always 0). Error texts are ours in Coinbase's {"error","message"} shape
 * (the docs show the shape). The 418 fault is a 429 too (Coinbase has no 418). */
#include "feed_xsim_internal.h"
#include "feed_live_internal.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CB_MAX_ROWS 350
#define CB_PATH "/api/v3/brokerage/market/products/"

static int cb_ws_path(feed_xsim *x, xs_client *c, const char *uri, const char *args)
{
    (void)x, (void)args;
    c->combined = 0;
    return !strcmp(uri, "/") ? PT_OK : PT_ENOENT;
}

static void cb_bucket(const feed_xsim_bar *b, const char *product, char *buf, size_t cap)
{
    char o[32], h[32], l[32], c[32], v[32];
    feed_xsim_num(b->o, 1, o, sizeof o), feed_xsim_num(b->h, 1, h, sizeof h), feed_xsim_num(b->l, 1, l, sizeof l);
    feed_xsim_num(b->c, 1, c, sizeof c), feed_xsim_num(b->v, 1, v, sizeof v);
    snprintf(buf, cap, "{\"start\":\"%lld\",\"high\":\"%s\",\"low\":\"%s\",\"open\":\"%s\",\"close\":\"%s\","
             "\"volume\":\"%s\"%s%s%s}", (long long)(b->ts_ms / 1000), h, l, o, c, v, product ? ",\"product_id\":\"" : "",
             product ? product : "", product ? "\"" : "");
}

static void cb_iso(int64_t ms, char *buf, size_t cap)
{
    char t[32];
    pt_format_iso_ms(ms, t, sizeof t); /* ...SS.mmmZ */
    snprintf(buf, cap, "%.23s000000Z", t);
}

static int cb_event(const feed_xsim *x, size_t s, const feed_xsim_bar *b, int closed, int64_t ev, char *buf,
                    size_t cap)
{
    (void)closed; /* no closed flag on Coinbase */
    char row[400], t[40];
    cb_bucket(b, x->series[s].sym, row, sizeof row);
    cb_iso(ev, t, sizeof t);
    return snprintf(buf, cap, "{\"channel\":\"candles\",\"client_id\":\"\",\"timestamp\":\"%s\",\"sequence_num\":0,"
                    "\"events\":[{\"type\":\"update\",\"candles\":[%s]}]}", t, row);
}

static void cb_error(feed_xsim *x, xs_client *c, const char *text)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", "error");
    cJSON_AddStringToObject(o, "message", text);
    feed_xsim_send_json(x, c, o);
}

/* {"channel":"subscriptions",...,"events":[{"subscriptions":{"candles":[ids]}}]} */
static void cb_ack(feed_xsim *x, xs_client *c, int heartbeats)
{
    char t[40];
    cb_iso(feed_xsim_sim_now(x), t, sizeof t);
    cJSON *o = cJSON_CreateObject(), *evs = cJSON_AddArrayToObject(o, "events"), *ev = cJSON_CreateObject();
    cJSON *subs = cJSON_AddObjectToObject(ev, "subscriptions"), *ids = cJSON_AddArrayToObject(subs, "candles");
    for (int i = 0; i < c->nsubs; i++)
        cJSON_AddItemToArray(ids, cJSON_CreateString(c->subs[i].name));
    if (heartbeats)
        cJSON_AddItemToArray(cJSON_AddArrayToObject(subs, "heartbeats"), cJSON_CreateString("heartbeats"));
    cJSON_AddItemToArray(evs, ev);
    cJSON_AddStringToObject(o, "channel", "subscriptions");
    cJSON_AddStringToObject(o, "client_id", "");
    cJSON_AddStringToObject(o, "timestamp", t);
    cJSON_AddNumberToObject(o, "sequence_num", 0);
    feed_xsim_send_json(x, c, o);
}

static void cb_candles(feed_xsim *x, xs_client *c, int sub, const cJSON *ids)
{
    const cJSON *id;
    char why[160];
    if (x->interval_ms != 300000) {
        cb_error(x, c, "candles: this simulator does not serve five-minute buckets (--interval 5m)");
        return;
    }
    cJSON_ArrayForEach(id, ids)
    {
        int k = cJSON_IsString(id) && strlen(id->valuestring) < XS_SUB_NAME ? feed_xsim_find_series(x, id->valuestring, 0)
                                                                             : -1;
        snprintf(why, sizeof why, "Failed to subscribe: unknown product_id %.40s",
                 cJSON_IsString(id) ? id->valuestring : "?");
        if (k < 0) {
            cb_error(x, c, why);
            return;
        }
        if (!sub)
            feed_xsim_sub_del(c, id->valuestring);
        else if (feed_xsim_sub_add(x, c, id->valuestring, k)) {
            cb_error(x, c, "Failed to subscribe: too many products");
            return;
        }
    }
    cb_ack(x, c, 0);
}

static void cb_message(feed_xsim *x, xs_client *c, const char *msg, size_t len)
{
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(msg, len, &end, 0);
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(root, "type");
    const cJSON *ch = cJSON_GetObjectItemCaseSensitive(root, "channel");
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(root, "product_ids");
    int sub = cJSON_IsString(type) && !strcmp(type->valuestring, "subscribe");
    if (!cJSON_IsString(type) || (!sub && strcmp(type->valuestring, "unsubscribe")) || !cJSON_IsString(ch))
        cb_error(x, c, "Failed to parse the request: type and channel are required");
    else if (!strcmp(ch->valuestring, "heartbeats"))
        cb_ack(x, c, 1);
    else if (strcmp(ch->valuestring, "candles") || !cJSON_IsArray(ids) || !cJSON_GetArraySize(ids))
        cb_error(x, c, "Failed to subscribe: this simulator serves candles (with product_ids) and heartbeats");
    else
        cb_candles(x, c, sub, ids);
    cJSON_Delete(root);
}

static int cb_body_err(char **body, size_t *len, const char *err, const char *msg)
{
    char t[300];
    snprintf(t, sizeof t, "{\"error\":\"%s\",\"error_details\":\"%s\",\"message\":\"%s\"}", err, msg, msg);
    return feed_xsim_body(body, len, t);
}

/* the buckets of [start, end] (unix s, inclusive) visible now, newest first */
static int cb_rows(feed_xsim *x, int s, int64_t start, int64_t end, char **body, size_t *len)
{
    feed_xsim_bar *rows = malloc(CB_MAX_ROWS * sizeof *rows);
    char *out = malloc(CB_MAX_ROWS * 400 + 64);
    if (!rows || !out) {
        free(rows), free(out);
        return PT_ENOMEM;
    }
    size_t n = feed_xsim_collect(x, (size_t)s, start * 1000, end * 1000, CB_MAX_ROWS, 0, rows);
    size_t w = (size_t)snprintf(out, 64, "{\"candles\":[");
    for (size_t k = 0; k < n; k++) {
        char row[400];
        cb_bucket(&rows[k], NULL, row, sizeof row);
        w += (size_t)snprintf(out + w, 400, "%s%s", k ? "," : "", row);
    }
    w += (size_t)snprintf(out + w, 8, "]}");
    free(rows);
    *body = out;
    *len = w;
    return PT_OK;
}

static int cb_rest(feed_xsim *x, struct lws *wsi, const char *uri, int *status, char **body, size_t *len,
                   char *hdrs, size_t hcap)
{
    char id[64], g[24], want[24];
    if (!strcmp(uri, "/api/v3/brokerage/market/products")) /* trading rules (feed_xsim_rules.c) */
        return feed_xsim_rules_coinbase(x, wsi, NULL, status, body, len, hdrs, hcap);
    const char *slash = strncmp(uri, CB_PATH, strlen(CB_PATH)) ? NULL : strchr(uri + strlen(CB_PATH), '/');
    if (!slash && !strncmp(uri, CB_PATH, strlen(CB_PATH)) && uri[strlen(CB_PATH)] && strlen(uri) - strlen(CB_PATH) < sizeof id)
        return feed_xsim_rules_coinbase(x, wsi, uri + strlen(CB_PATH), status, body, len, hdrs, hcap);
    if (!slash || strcmp(slash, "/candles") || (size_t)(slash - uri) - strlen(CB_PATH) >= sizeof id)
        return PT_ENOENT;
    snprintf(id, sizeof id, "%.*s", (int)((size_t)(slash - uri) - strlen(CB_PATH)), uri + strlen(CB_PATH));
    if (feed_xsim_rest_fault(x, status, hdrs, hcap) >= 0) {
        *status = 429;
        return cb_body_err(body, len, "RESOURCE_EXHAUSTED", "Too many requests");
    }
    int64_t start = 0, end = 0;
    int a = feed_xsim_arg_int(wsi, "start", &start), b = feed_xsim_arg_int(wsi, "end", &end);
    const char *gv = feed_xsim_arg(wsi, "granularity", g, sizeof g);
    int s = feed_xsim_find_series(x, id, 0);
    *status = 400;
    if (s < 0) {
        *status = 404;
        return cb_body_err(body, len, "NOT_FOUND", "ProductID is invalid");
    }
    if (!gv || feed_adapter_coinbase.interval_name(x->interval_ms, want, sizeof want) || strcmp(gv, want))
        return cb_body_err(body, len, "INVALID_ARGUMENT", "granularity is not the simulator's interval");
    if (a != 1 || b != 1 || end < start)
        return cb_body_err(body, len, "INVALID_ARGUMENT", "start and end are required unix seconds");
    if ((end - start) * 1000 / x->interval_ms >= CB_MAX_ROWS)
        return cb_body_err(body, len, "INVALID_ARGUMENT", "requested more than 350 candles");
    *status = 200;
    return cb_rows(x, s, start, end, body, len);
}

const xs_proto feed_xsim_proto_coinbase = {
    .name = "coinbase",
    .default_symbols = "BTC-USD,ETH-USD",
    .ws_path = cb_ws_path,
    .event = cb_event,
    .wrap = NULL,
    .on_message = cb_message,
    .rest = cb_rest,
    .shutdown_notice = NULL,
    .skip_whole_bar = 1,
};
