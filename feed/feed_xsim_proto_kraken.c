/* feed: the exchange simulator speaking Kraken WebSocket v2 and REST, as
 * documented in
 *   https://docs.kraken.com/exchange/api-reference/spot-websocket-v2/ohlc (subscribe,
 *     one ack or refusal per symbol, update),
 *   https://docs.kraken.com/exchange/api-reference/spot-websocket-v2/ping,
 *   https://docs.kraken.com/api/docs/rest-api/get-ohlc-data (REST OHLC, up
 *     to 720 newest rows, the last one not committed, errors in "error"
 *     with HTTP 200),
 *   https://docs.kraken.com/exchange/guides/general/errors (error format).
 * Series are named "BTC-USD"; the wire says "BTC/USD". The 429 fault is an
 * HTTP 429, the 418 fault Kraken's own form: HTTP 200 with
 * "EAPI:Rate limit exceeded" in "error" (Kraken has no 418). */
#include "feed_xsim_internal.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int kr_series(const feed_xsim *x, const char *wire)
{
    char n[PT_SYMBOL_MAX];
    size_t l = strlen(wire);
    if (l >= sizeof n || !strchr(wire, '/'))
        return -1;
    for (size_t i = 0; i <= l; i++)
        n[i] = wire[i] == '/' ? '-' : wire[i];
    return feed_xsim_find_series(x, n, 0);
}

static void kr_wire(const char *sym, char *out, size_t cap)
{
    snprintf(out, cap, "%s", sym);
    for (char *p = out; *p; p++)
        if (*p == '-')
            *p = '/';
}

/* RFC 3339 with nanoseconds, as Kraken writes interval_begin */
static void kr_iso(int64_t ms, char *buf, size_t cap)
{
    char t[32];
    pt_format_iso_ms(ms, t, sizeof t); /* ...SS.mmmZ */
    snprintf(buf, cap, "%.23s000000Z", t);
}

static int kr_ws_path(feed_xsim *x, xs_client *c, const char *uri, const char *args)
{
    (void)x, (void)args;
    c->combined = 0;
    return !strcmp(uri, "/v2") ? PT_OK : PT_ENOENT;
}

static int kr_event(const feed_xsim *x, size_t s, const feed_xsim_bar *b, int closed, int64_t ev, char *buf,
                    size_t cap)
{
    (void)closed; /* no closed flag on Kraken */
    char sym[PT_SYMBOL_MAX], t0[40], t1[40], now[40];
    kr_wire(x->series[s].sym, sym, sizeof sym);
    kr_iso(b->ts_ms, t0, sizeof t0), kr_iso(b->ts_ms + x->interval_ms, t1, sizeof t1), kr_iso(ev, now, sizeof now);
    return snprintf(buf, cap,
                    "{\"channel\":\"ohlc\",\"type\":\"update\",\"timestamp\":\"%s\",\"data\":[{\"symbol\":\"%s\","
                    "\"open\":%.8f,\"high\":%.8f,\"low\":%.8f,\"close\":%.8f,\"trades\":%lld,\"volume\":%.8f,"
                    "\"vwap\":%.8f,\"interval_begin\":\"%s\",\"interval\":%lld,\"timestamp\":\"%s\"}]}",
                    now, sym, b->o, b->h, b->l, b->c, (long long)b->n, b->v, b->c, t0,
                    (long long)(x->interval_ms / 60000), t1);
}

static void kr_reply(feed_xsim *x, xs_client *c, const char *method, const char *sym, const char *err,
                     const cJSON *req_id)
{
    char t[40];
    kr_iso(feed_xsim_sim_now(x), t, sizeof t);
    cJSON *o = cJSON_CreateObject();
    if (err)
        cJSON_AddStringToObject(o, "error", err);
    cJSON_AddStringToObject(o, "method", method);
    if (!err && strcmp(method, "pong")) {
        cJSON *r = cJSON_AddObjectToObject(o, "result");
        cJSON_AddStringToObject(r, "channel", "ohlc");
        cJSON_AddNumberToObject(r, "interval", (double)(x->interval_ms / 60000));
        cJSON_AddBoolToObject(r, "snapshot", 0);
        cJSON_AddStringToObject(r, "symbol", sym);
    }
    if (req_id)
        cJSON_AddItemToObject(o, "req_id", cJSON_Duplicate(req_id, 1));
    if (strcmp(method, "pong"))
        cJSON_AddBoolToObject(o, "success", !err);
    if (err && sym)
        cJSON_AddStringToObject(o, "symbol", sym);
    cJSON_AddStringToObject(o, "time_in", t);
    cJSON_AddStringToObject(o, "time_out", t);
    feed_xsim_send_json(x, c, o);
}

/* one reply per symbol (ohlc doc, subscribe response) */
static void kr_subscribe(feed_xsim *x, xs_client *c, const char *method, const cJSON *syms, const cJSON *rid)
{
    const cJSON *s;
    char why[160];
    cJSON_ArrayForEach(s, syms)
    {
        const char *w = cJSON_IsString(s) ? s->valuestring : "";
        int k = kr_series(x, w);
        snprintf(why, sizeof why, "Currency pair not supported %.40s", w);
        if (k < 0)
            kr_reply(x, c, method, w, why, rid);
        else if (method[0] == 'u')
            feed_xsim_sub_del(c, w), kr_reply(x, c, method, w, NULL, rid);
        else if (feed_xsim_sub_add(x, c, w, k))
            kr_reply(x, c, method, w, "Exceeded subscription limit", rid);
        else
            kr_reply(x, c, method, w, NULL, rid);
    }
}

static void kr_message(feed_xsim *x, xs_client *c, const char *msg, size_t len)
{
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(msg, len, &end, 0);
    while (root && end && end < msg + len && isspace((unsigned char)*end))
        end++;
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(root, "method");
    const cJSON *rid = cJSON_GetObjectItemCaseSensitive(root, "req_id");
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(root, "params");
    const cJSON *ch = cJSON_GetObjectItemCaseSensitive(p, "channel"), *iv = cJSON_GetObjectItemCaseSensitive(p, "interval");
    const cJSON *syms = cJSON_GetObjectItemCaseSensitive(p, "symbol");
    if (!root || end != msg + len || !cJSON_IsObject(root) || !cJSON_IsString(m))
        kr_reply(x, c, "unknown", NULL, "Malformed request", NULL);
    else if (!strcmp(m->valuestring, "ping"))
        kr_reply(x, c, "pong", NULL, NULL, rid);
    else if (strcmp(m->valuestring, "subscribe") && strcmp(m->valuestring, "unsubscribe"))
        kr_reply(x, c, m->valuestring, NULL, "Method not found", rid);
    else if (!cJSON_IsString(ch) || strcmp(ch->valuestring, "ohlc") || !cJSON_IsArray(syms))
        kr_reply(x, c, m->valuestring, NULL, "Channel or symbol field is missing or invalid", rid);
    else if (!cJSON_IsNumber(iv) || iv->valuedouble * 60000.0 != (double)x->interval_ms)
        kr_reply(x, c, m->valuestring, NULL, "Unsupported field: 'interval' for this channel", rid);
    else
        kr_subscribe(x, c, m->valuestring, syms, rid);
    cJSON_Delete(root);
}

#define KR_ROWS 720 /* "Returns up to 720 of the most recent entries" (get-ohlc-data) */

/* the 720 newest rows after since, the bar in progress last */
static int kr_rows(feed_xsim *x, int s, const char *wire, int64_t since, char **body, size_t *len)
{
    feed_xsim_bar *rows = malloc(KR_ROWS * sizeof *rows);
    char *out = malloc(KR_ROWS * 200 + 256);
    if (!rows || !out) {
        free(rows), free(out);
        return PT_ENOMEM;
    }
    size_t n = feed_xsim_collect(x, (size_t)s, (since + 1) * 1000, INT64_MAX, KR_ROWS, 0, rows), w = 0;
    w += (size_t)snprintf(out, 200, "{\"error\":[],\"result\":{\"%.60s\":[", wire);
    for (size_t k = 0; k < n; k++) {
        const feed_xsim_bar *b = &rows[n - 1 - k];
        char o[32], h[32], l[32], c[32], v[32];
        feed_xsim_num(b->o, 0, o, sizeof o), feed_xsim_num(b->h, 0, h, sizeof h);
        feed_xsim_num(b->l, 0, l, sizeof l), feed_xsim_num(b->c, 0, c, sizeof c), feed_xsim_num(b->v, 0, v, sizeof v);
        w += (size_t)snprintf(out + w, 200, "%s[%lld,\"%s\",\"%s\",\"%s\",\"%s\",\"%s\",\"%s\",%lld]", k ? "," : "",
                              (long long)(b->ts_ms / 1000), o, h, l, c, c, v, (long long)b->n);
    }
    w += (size_t)snprintf(out + w, 64, "],\"last\":%lld}}", n ? (long long)(rows[0].ts_ms / 1000) : (long long)since);
    free(rows);
    *body = out;
    *len = w;
    return PT_OK;
}

static int kr_rest(feed_xsim *x, struct lws *wsi, const char *uri, int *status, char **body, size_t *len,
                   char *hdrs, size_t hcap)
{
    if (!strcmp(uri, "/0/public/AssetPairs"))
        return feed_xsim_rules_kraken(x, wsi, status, body, len, hdrs, hcap);
    if (strcmp(uri, "/0/public/OHLC"))
        return PT_ENOENT;
    int f = feed_xsim_rest_fault(x, status, hdrs, hcap);
    if (f >= 0) {
        *status = f == FEED_XSIM_F_HTTP418 ? 200 : 429;
        return feed_xsim_body(body, len, "{\"error\":[\"EAPI:Rate limit exceeded\"],\"result\":{}}");
    }
    *status = 200; /* Kraken answers errors with 200 and "error" */
    char pair[64];
    int64_t iv = 1, since = 0;
    /* lws hands over the query decoded ("BTC/USD") */
    const char *pv = feed_xsim_arg(wsi, "pair", pair, sizeof pair);
    int s = pv ? kr_series(x, pv) : -1;
    if (s < 0)
        return feed_xsim_body(body, len, "{\"error\":[\"EQuery:Unknown asset pair\"]}");
    if (feed_xsim_arg_int(wsi, "interval", &iv) < 0 || iv * 60000 != x->interval_ms ||
        feed_xsim_arg_int(wsi, "since", &since) < 0)
        return feed_xsim_body(body, len, "{\"error\":[\"EGeneral:Invalid arguments\"]}");
    return kr_rows(x, s, pv, since, body, len);
}

const xs_proto feed_xsim_proto_kraken = {
    .name = "kraken",
    .default_symbols = "BTC-USD,ETH-USD",
    .ws_path = kr_ws_path,
    .event = kr_event,
    .wrap = NULL,
    .on_message = kr_message,
    .rest = kr_rest,
    .shutdown_notice = NULL,
    .skip_whole_bar = 1,
};
