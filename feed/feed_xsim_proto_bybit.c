/* feed: the exchange simulator speaking Bybit v5 spot, as documented in
 * https://bybit-exchange.github.io/docs/v5/ws/connect (endpoint
 * /v5/public/spot, {"op":"subscribe","args":[...]} with at most 10 args per
 * request, {"op":"ping"} and the spot pong, the subscription response),
 * https://bybit-exchange.github.io/docs/v5/websocket/public/kline (topic
 * kline.{interval}.{symbol}, the data item, confirm) and
 * https://bybit-exchange.github.io/docs/v5/market/kline (GET
 * /v5/market/kline, result.list newest first, limit <= 1000). The error
 * texts for a bad topic or parameter are ours in Bybit's envelope: the docs
 * show only the shape ({"success":false,"ret_msg":..} on the socket,
 * {"retCode","retMsg"} on REST). Faults as for every protocol; a REST 429
 * is answered the Bybit way: retCode 10006 "Too many visits!" in a 200, a
 * 418 as HTTP 403 "access too frequent" (the IP limit,
 * https://bybit-exchange.github.io/docs/v5/rate-limit). */
#include "feed_xsim_internal.h"
#include "feed_live_internal.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BY_MAX_ARGS 10

/* the category this simulator serves: spot, or linear (USDT perpetuals) */
static const char *by_cat(const feed_xsim *x)
{
    return x->proto == &feed_xsim_proto_bybit_linear ? "linear" : "spot";
}

static int by_ws_path(feed_xsim *x, xs_client *c, const char *uri, const char *args)
{
    char want[32];
    (void)args;
    c->combined = 0;
    snprintf(want, sizeof want, "/v5/public/%s", by_cat(x));
    return !strcmp(uri, want) ? PT_OK : PT_ENOENT;
}

/* the venue's interval name ("1", "60", "D"): the adapter's table */
static const char *by_iv(const feed_xsim *x, char *buf, size_t cap)
{
    return feed_adapter_bybit.interval_name(x->interval_ms, buf, cap) ? "?" : buf;
}

static int by_event(const feed_xsim *x, size_t s, const feed_xsim_bar *b, int closed, int64_t ev, char *buf,
                    size_t cap)
{
    char iv[8], o[32], h[32], l[32], c[32], v[32], q[32];
    by_iv(x, iv, sizeof iv);
    feed_xsim_num(b->o, 1, o, sizeof o), feed_xsim_num(b->h, 1, h, sizeof h), feed_xsim_num(b->l, 1, l, sizeof l);
    feed_xsim_num(b->c, 1, c, sizeof c), feed_xsim_num(b->v, 1, v, sizeof v), feed_xsim_num(b->q, 1, q, sizeof q);
    return snprintf(buf, cap,
                    "{\"topic\":\"kline.%s.%s\",\"data\":[{\"start\":%lld,\"end\":%lld,\"interval\":\"%s\","
                    "\"open\":\"%s\",\"close\":\"%s\",\"high\":\"%s\",\"low\":\"%s\",\"volume\":\"%s\","
                    "\"turnover\":\"%s\",\"confirm\":%s,\"timestamp\":%lld}],\"ts\":%lld,\"type\":\"snapshot\"}",
                    iv, x->series[s].sym, (long long)b->ts_ms, (long long)(b->ts_ms + x->interval_ms - 1), iv, o, c,
                    h, l, v, q, closed ? "true" : "false", (long long)ev, (long long)ev);
}

static void by_reply(feed_xsim *x, xs_client *c, int ok, const char *msg, const char *op, const cJSON *req_id)
{
    char conn[40];
    snprintf(conn, sizeof conn, "pt-xsim-%llu", (unsigned long long)c->id);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "success", ok);
    cJSON_AddStringToObject(o, "ret_msg", msg);
    cJSON_AddStringToObject(o, "conn_id", conn);
    if (cJSON_IsString(req_id))
        cJSON_AddStringToObject(o, "req_id", req_id->valuestring);
    cJSON_AddStringToObject(o, "op", op);
    feed_xsim_send_json(x, c, o);
}

/* "kline.<iv>.<SYMBOL>": series index, -1 served by no series, -2 not a kline topic */
static int by_topic_sym(const feed_xsim *x, const char *t)
{
    char iv[8], want[8];
    const char *dot = strncmp(t, "kline.", 6) ? NULL : strchr(t + 6, '.');
    if (!dot || (size_t)(dot - t - 6) >= sizeof iv || strlen(t) >= XS_SUB_NAME)
        return -2;
    memcpy(iv, t + 6, (size_t)(dot - t - 6));
    iv[dot - t - 6] = 0;
    if (strcmp(iv, by_iv(x, want, sizeof want)))
        return -1;
    return feed_xsim_find_series(x, dot + 1, 0);
}

static void by_subscribe(feed_xsim *x, xs_client *c, const cJSON *root, const char *op, const cJSON *req_id)
{
    const cJSON *args = cJSON_GetObjectItemCaseSensitive(root, "args"), *a;
    char why[160];
    int sub = !strcmp(op, "subscribe");
    if (!cJSON_IsArray(args) || cJSON_GetArraySize(args) == 0 || cJSON_GetArraySize(args) > BY_MAX_ARGS) {
        snprintf(why, sizeof why, "args must be 1..%d topics", BY_MAX_ARGS);
        by_reply(x, c, 0, why, op, req_id);
        return;
    }
    cJSON_ArrayForEach(a, args) /* one bad topic rejects the request */
    {
        if (!cJSON_IsString(a) || by_topic_sym(x, a->valuestring) < 0) {
            snprintf(why, sizeof why, "Invalid topic :[%.60s]", cJSON_IsString(a) ? a->valuestring : "");
            by_reply(x, c, 0, why, op, req_id);
            return;
        }
    }
    cJSON_ArrayForEach(a, args)
    {
        if (!sub)
            feed_xsim_sub_del(c, a->valuestring);
        else if (feed_xsim_sub_add(x, c, a->valuestring, by_topic_sym(x, a->valuestring))) {
            by_reply(x, c, 0, "too many topics on this connection", op, req_id);
            return;
        }
    }
    by_reply(x, c, 1, op, op, req_id); /* spot: ret_msg "subscribe" */
}

static void by_message(feed_xsim *x, xs_client *c, const char *msg, size_t len)
{
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(msg, len, &end, 0);
    const cJSON *op = cJSON_GetObjectItemCaseSensitive(root, "op");
    const cJSON *req_id = cJSON_GetObjectItemCaseSensitive(root, "req_id");
    if (!root || !cJSON_IsObject(root) || !cJSON_IsString(op))
        by_reply(x, c, 0, "request is not {\"op\":..} JSON", "", NULL);
    else if (!strcmp(op->valuestring, "ping"))
        by_reply(x, c, 1, "pong", "ping", NULL); /* the spot pong carries no req_id */
    else if (!strcmp(op->valuestring, "subscribe") || !strcmp(op->valuestring, "unsubscribe"))
        by_subscribe(x, c, root, op->valuestring, req_id);
    else
        by_reply(x, c, 0, "handler not found", op->valuestring, req_id);
    cJSON_Delete(root);
}

static int by_error(char **body, size_t *len, int code, const char *msg)
{
    char t[256];
    snprintf(t, sizeof t, "{\"retCode\":%d,\"retMsg\":\"%s\",\"result\":{},\"retExtInfo\":{},\"time\":%lld}", code,
             msg, (long long)pt_wall_ms());
    return feed_xsim_body(body, len, t);
}

static int by_rows(const feed_xsim *x, size_t s, int64_t start, int64_t end, int64_t limit, char **body,
                   size_t *len)
{
    feed_xsim_bar *rows = malloc((size_t)limit * sizeof *rows);
    char *out = malloc((size_t)limit * 200 + 256);
    if (!rows || !out) {
        free(rows), free(out);
        return PT_ENOMEM;
    }
    size_t n = feed_xsim_collect(x, s, start, end, (size_t)limit, 0, rows); /* newest first, as Bybit */
    size_t w = (size_t)snprintf(out, 256, "{\"retCode\":0,\"retMsg\":\"OK\",\"result\":{\"symbol\":\"%s\","
                                          "\"category\":\"%s\",\"list\":[", x->series[s].sym, by_cat(x));
    for (size_t k = 0; k < n; k++) {
        char o[32], h[32], l[32], c[32], v[32], q[32];
        const feed_xsim_bar *b = &rows[k];
        feed_xsim_num(b->o, 1, o, sizeof o), feed_xsim_num(b->h, 1, h, sizeof h), feed_xsim_num(b->l, 1, l, sizeof l);
        feed_xsim_num(b->c, 1, c, sizeof c), feed_xsim_num(b->v, 1, v, sizeof v), feed_xsim_num(b->q, 1, q, sizeof q);
        w += (size_t)snprintf(out + w, 200, "%s[\"%lld\",\"%s\",\"%s\",\"%s\",\"%s\",\"%s\",\"%s\"]", k ? "," : "",
                              (long long)b->ts_ms, o, h, l, c, v, q);
    }
    w += (size_t)snprintf(out + w, 128, "]},\"retExtInfo\":{},\"time\":%lld}", (long long)feed_xsim_sim_now(x));
    free(rows);
    *body = out;
    *len = w;
    return PT_OK;
}

static int by_rest(feed_xsim *x, struct lws *wsi, const char *uri, int *status, char **body, size_t *len,
                   char *hdrs, size_t hcap)
{
    if (!strcmp(uri, "/v5/market/instruments-info"))
        return feed_xsim_rules_bybit(x, wsi, status, body, len, hdrs, hcap);
    if (strcmp(uri, "/v5/market/kline"))
        return PT_ENOENT;
    char cat[16], sym[64], iv[16], want[8];
    int f = feed_xsim_rest_fault(x, status, hdrs, hcap);
    if (f == FEED_XSIM_F_HTTP418) {
        *status = 403;
        return feed_xsim_body(body, len, "access too frequent");
    }
    *status = 200; /* Bybit answers parameter errors in a 200 with a retCode */
    if (f == FEED_XSIM_F_HTTP429)
        return by_error(body, len, 10006, "Too many visits!");
    int64_t start = 0, end = INT64_MAX, limit = 200; /* default 200 */
    int a = feed_xsim_arg_int(wsi, "start", &start), b = feed_xsim_arg_int(wsi, "end", &end);
    int l = feed_xsim_arg_int(wsi, "limit", &limit);
    const char *cv = feed_xsim_arg(wsi, "category", cat, sizeof cat);
    const char *sv = feed_xsim_arg(wsi, "symbol", sym, sizeof sym);
    const char *iv_s = feed_xsim_arg(wsi, "interval", iv, sizeof iv);
    int s = sv ? feed_xsim_find_series(x, sv, 0) : -1;
    if (!cv || strcmp(cv, by_cat(x)))
        return by_error(body, len, 10001, "params error: category is not the one served");
    if (s < 0)
        return by_error(body, len, 10001, "Not supported symbols");
    if (!iv_s || strcmp(iv_s, by_iv(x, want, sizeof want)))
        return by_error(body, len, 10001, "params error: interval invalid");
    if (a < 0 || b < 0 || l < 0 || limit < 1 || limit > 1000) /* limit [1, 1000] */
        return by_error(body, len, 10001, "params error: start, end or limit invalid");
    return by_rows(x, (size_t)s, start, end, limit, body, len);
}

const xs_proto feed_xsim_proto_bybit = {
    .name = "bybit",
    .default_symbols = "BTCUSDT,ETHUSDT",
    .ws_path = by_ws_path,
    .event = by_event,
    .wrap = NULL,
    .on_message = by_message,
    .rest = by_rest,
    .shutdown_notice = NULL, /* Bybit documents no close notice */
};

/* USDT perpetuals: the same protocol on /v5/public/linear and category=linear */
const xs_proto feed_xsim_proto_bybit_linear = {
    .name = "bybit-linear",
    .default_symbols = "BTCUSDT,ETHUSDT",
    .ws_path = by_ws_path,
    .event = by_event,
    .wrap = NULL,
    .on_message = by_message,
    .rest = by_rest,
    .shutdown_notice = NULL,
};
