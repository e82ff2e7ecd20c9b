/* feed: the exchange simulator speaking OKX v5, as documented in
 * https://www.okx.com/docs-v5/en/ (#overview-websocket-overview: text
 * "ping" -> "pong"; #public-data-websocket-candlesticks-channel: business
 * endpoint /ws/v5/business, subscribe with {"channel","instId"} args, one
 * {"event":"subscribe","arg":..} reply per arg, {"event":"error","code":
 * "60012","msg":"Invalid request: .."}, push rows [ts,o,h,l,c,vol,volCcy,
 * volCcyQuote,confirm]; #public-data-rest-api-get-candlesticks-history:
 * GET /api/v5/market/history-candles, after/before exclusive, limit <= 100,
 * newest first; #error-code-rest-api-public: 51001 "Instrument ID does not
 * exist", 50011 with HTTP 429). OKX has no 418: that fault is a 429 too. */
#include "feed_xsim_internal.h"
#include "feed_live_internal.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int ok_ws_path(feed_xsim *x, xs_client *c, const char *uri, const char *args)
{
    (void)x, (void)args;
    c->combined = 0;
    return !strcmp(uri, "/ws/v5/business") ? PT_OK : PT_ENOENT;
}

/* "candle1m", "candle1Dutc": the adapter's table */
static const char *ok_iv(const feed_xsim *x, char *buf, size_t cap)
{
    return feed_adapter_okx.interval_name(x->interval_ms, buf, cap) ? "?" : buf;
}

static void ok_row(const feed_xsim_bar *b, int closed, char *buf, size_t cap)
{
    char o[32], h[32], l[32], c[32], v[32], q[32];
    feed_xsim_num(b->o, 1, o, sizeof o), feed_xsim_num(b->h, 1, h, sizeof h), feed_xsim_num(b->l, 1, l, sizeof l);
    feed_xsim_num(b->c, 1, c, sizeof c), feed_xsim_num(b->v, 1, v, sizeof v), feed_xsim_num(b->q, 1, q, sizeof q);
    snprintf(buf, cap, "[\"%lld\",\"%s\",\"%s\",\"%s\",\"%s\",\"%s\",\"%s\",\"%s\",\"%d\"]", (long long)b->ts_ms, o, h, l,
             c, v, v, q, closed ? 1 : 0); /* spot: vol and volCcy are both base currency */
}

static int ok_event(const feed_xsim *x, size_t s, const feed_xsim_bar *b, int closed, int64_t ev, char *buf,
                    size_t cap)
{
    (void)ev; /* no event time on OKX candle pushes */
    char iv[16], row[320];
    ok_row(b, closed, row, sizeof row);
    return snprintf(buf, cap, "{\"arg\":{\"channel\":\"candle%s\",\"instId\":\"%s\"},\"data\":[%s]}",
                    ok_iv(x, iv, sizeof iv), x->series[s].sym, row);
}

static void ok_error(feed_xsim *x, xs_client *c, const char *code, const char *msg, size_t len)
{
    char conn[40], text[300];
    snprintf(conn, sizeof conn, "%llx", (unsigned long long)c->id);
    snprintf(text, sizeof text, "Invalid request: %.*s", (int)(len < 200 ? len : 200), msg);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "event", "error");
    cJSON_AddStringToObject(o, "code", code);
    cJSON_AddStringToObject(o, "msg", text);
    cJSON_AddStringToObject(o, "connId", conn);
    feed_xsim_send_json(x, c, o);
}

/* series index for a {"channel":"candle<iv>","instId":..} arg, or < 0 */
static int ok_arg_sym(const feed_xsim *x, const cJSON *a)
{
    char iv[16];
    const cJSON *ch = cJSON_GetObjectItemCaseSensitive(a, "channel"), *id = cJSON_GetObjectItemCaseSensitive(a, "instId");
    if (!cJSON_IsString(ch) || !cJSON_IsString(id) || strncmp(ch->valuestring, "candle", 6) ||
        strcmp(ch->valuestring + 6, ok_iv(x, iv, sizeof iv)) || strlen(id->valuestring) >= XS_SUB_NAME)
        return -1;
    return feed_xsim_find_series(x, id->valuestring, 0);
}

static void ok_message(feed_xsim *x, xs_client *c, const char *msg, size_t len)
{
    if (len == 4 && !memcmp(msg, "ping", 4)) {
        feed_xsim_send(x, c, "pong", 4);
        return;
    }
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(msg, len, &end, 0);
    const cJSON *op = cJSON_GetObjectItemCaseSensitive(root, "op");
    const cJSON *args = cJSON_GetObjectItemCaseSensitive(root, "args"), *a;
    int bad = !cJSON_IsString(op) || (strcmp(op->valuestring, "subscribe") && strcmp(op->valuestring, "unsubscribe")) ||
              !cJSON_IsArray(args) || !cJSON_GetArraySize(args);
    cJSON_ArrayForEach(a, args) bad |= ok_arg_sym(x, a) < 0;
    if (bad) { /* one bad arg rejects the request, quoted back as OKX does */
        ok_error(x, c, "60012", msg, len);
        cJSON_Delete(root);
        return;
    }
    int sub = !strcmp(op->valuestring, "subscribe");
    cJSON_ArrayForEach(a, args)
    {
        const char *id = cJSON_GetObjectItemCaseSensitive(a, "instId")->valuestring;
        if (!sub)
            feed_xsim_sub_del(c, id);
        else if (feed_xsim_sub_add(x, c, id, ok_arg_sym(x, a))) {
            ok_error(x, c, "60012", msg, len);
            break;
        }
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "event", op->valuestring);
        cJSON_AddItemToObject(o, "arg", cJSON_Duplicate(a, 1));
        cJSON_AddStringToObject(o, "connId", "a4d3ae55");
        feed_xsim_send_json(x, c, o);
    }
    cJSON_Delete(root);
}

static int ok_body_err(char **body, size_t *len, const char *code, const char *msg)
{
    char t[200];
    snprintf(t, sizeof t, "{\"code\":\"%s\",\"msg\":\"%s\",\"data\":[]}", code, msg);
    return feed_xsim_body(body, len, t);
}

static int ok_rest(feed_xsim *x, struct lws *wsi, const char *uri, int *status, char **body, size_t *len, char *hdrs,
                   size_t hcap)
{
    if (!strcmp(uri, "/api/v5/public/instruments"))
        return feed_xsim_rules_okx(x, wsi, status, body, len, hdrs, hcap);
    if (strcmp(uri, "/api/v5/market/history-candles"))
        return PT_ENOENT;
    char id[64], bar[16], want[16];
    if (feed_xsim_rest_fault(x, status, hdrs, hcap) >= 0) {
        *status = 429;
        return ok_body_err(body, len, "50011", "Too Many Requests");
    }
    *status = 200;
    int64_t after = INT64_MAX, before = INT64_MIN, limit = 100;
    int a = feed_xsim_arg_int(wsi, "after", &after), b = feed_xsim_arg_int(wsi, "before", &before);
    int l = feed_xsim_arg_int(wsi, "limit", &limit);
    const char *iv = feed_xsim_arg(wsi, "instId", id, sizeof id);
    int s = iv ? feed_xsim_find_series(x, iv, 0) : -1;
    if (s < 0)
        return ok_body_err(body, len, "51001", "Instrument ID does not exist");
    const char *bs = feed_xsim_arg(wsi, "bar", bar, sizeof bar);
    if (!bs || strcmp(bs, ok_iv(x, want, sizeof want)))
        return ok_body_err(body, len, "51000", "Parameter bar error");
    if (a < 0 || b < 0 || l < 0 || limit < 1 || limit > 100)
        return ok_body_err(body, len, "51000", "Parameter limit error");
    feed_xsim_bar *rows = malloc((size_t)limit * sizeof *rows);
    char *out = malloc((size_t)limit * 330 + 64);
    if (!rows || !out) {
        free(rows), free(out);
        return PT_ENOMEM;
    }
    size_t n = feed_xsim_collect(x, (size_t)s, before == INT64_MIN ? INT64_MIN : before + 1,
                                 after == INT64_MAX ? INT64_MAX : after - 1, (size_t)limit, 0, rows);
    int64_t now = feed_xsim_sim_now(x);
    size_t w = (size_t)snprintf(out, 64, "{\"code\":\"0\",\"msg\":\"\",\"data\":[");
    for (size_t k = 0; k < n; k++) { /* newest first */
        char row[320];
        ok_row(&rows[k], rows[k].ts_ms + x->interval_ms <= now, row, sizeof row);
        w += (size_t)snprintf(out + w, 330, "%s%s", k ? "," : "", row);
    }
    w += (size_t)snprintf(out + w, 8, "]}");
    free(rows);
    *body = out;
    *len = w;
    return PT_OK;
}

const xs_proto feed_xsim_proto_okx = {
    .name = "okx",
    .default_symbols = "BTC-USDT,ETH-USDT",
    .ws_path = ok_ws_path,
    .event = ok_event,
    .wrap = NULL,
    .on_message = ok_message,
    .rest = ok_rest,
    .shutdown_notice = NULL,
};
