/* feed: the exchange simulator speaking KuCoin spot (classic API), as
 * documented in feed/feed_adapter_kucoin.c's sources: POST
 * /api/v1/bullet-public -> {"code":"200000","data":{"token",
 * "instanceServers":[{"endpoint",...,"pingInterval","pingTimeout"}]}}, the
 * socket at <endpoint>?token=..&connectId=.. opening with {"id","type":
 * "welcome"}, {"type":"ping"} -> {"type":"pong"}, {"type":"subscribe",
 * "topic":"/market/candles:SYM_type[,SYM_type]"} -> {"type":"ack"}, pushes
 * {"type":"message","topic","subject":"trade.candles.update","data":{"symbol",
 * "candles":[start_s, o, c, h, l, v, amount],"time":ns}}, and GET
 * /api/v1/market/candles (seconds, newest first, at most 1500 rows).
 * Ours, in KuCoin's envelopes (the docs give no texts for them): the error
 * texts of a bad topic ({"type":"error","code":404,"data":..}) and of a bad
 * REST parameter (HTTP 400 {"code":"400100","msg":..}); a bad token closes
 * the handshake. A REST 429 or 418 fault is HTTP 429 {"code":"429000",
 * "msg":"Too Many Requests"} (KuCoin has no 418), the token endpoint
 * included. No closed flag: skip_whole_bar. */
#include "feed_xsim_internal.h"
#include "feed_live_internal.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KC_TOKEN "pt-xsim-token"
#define KC_MAX_ROWS 1500

static int kc_ws_path(feed_xsim *x, xs_client *c, const char *uri, const char *args)
{
    (void)x;
    c->combined = 0;
    const char *t = strstr(args, "token=");
    /* "/" and the token this simulator hands out (KuCoin: 401 token is invalid) */
    return !strcmp(uri, "/") && t && (t == args || t[-1] == '&') && !strncmp(t + 6, KC_TOKEN, strlen(KC_TOKEN))
               ? PT_OK
               : PT_ENOENT;
}

static void kc_send(feed_xsim *x, xs_client *c, const char *id, const char *type)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", id);
    cJSON_AddStringToObject(o, "type", type);
    feed_xsim_send_json(x, c, o);
}

static void kc_open(feed_xsim *x, xs_client *c)
{
    char id[32];
    snprintf(id, sizeof id, "pt%llx", (unsigned long long)c->id);
    kc_send(x, c, id, "welcome");
}

static const char *kc_iv(const feed_xsim *x, char *buf, size_t cap)
{
    return feed_adapter_kucoin.interval_name(x->interval_ms, buf, cap) ? "?" : buf;
}

static int kc_row(const feed_xsim_bar *b, char *buf, size_t cap)
{
    char o[32], h[32], l[32], c[32], v[32], q[32];
    feed_xsim_num(b->o, 1, o, sizeof o), feed_xsim_num(b->h, 1, h, sizeof h), feed_xsim_num(b->l, 1, l, sizeof l);
    feed_xsim_num(b->c, 1, c, sizeof c), feed_xsim_num(b->v, 1, v, sizeof v), feed_xsim_num(b->q, 1, q, sizeof q);
    return snprintf(buf, cap, "[\"%lld\",\"%s\",\"%s\",\"%s\",\"%s\",\"%s\",\"%s\"]", (long long)(b->ts_ms / 1000), o, c,
                    h, l, v, q);
}

static int kc_event(const feed_xsim *x, size_t s, const feed_xsim_bar *b, int closed, int64_t ev, char *buf,
                    size_t cap)
{
    (void)closed; /* no closed flag on KuCoin */
    char iv[16], row[320];
    kc_row(b, row, sizeof row);
    return snprintf(buf, cap,
                    "{\"type\":\"message\",\"topic\":\"/market/candles:%s_%s\",\"subject\":\"trade.candles.update\","
                    "\"data\":{\"symbol\":\"%s\",\"candles\":%s,\"time\":%lld000000}}",
                    x->series[s].sym, kc_iv(x, iv, sizeof iv), x->series[s].sym, row, (long long)ev);
}

static void kc_error(feed_xsim *x, xs_client *c, const cJSON *id, int code, const char *text)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", cJSON_IsString(id) ? id->valuestring : "");
    cJSON_AddStringToObject(o, "type", "error");
    cJSON_AddNumberToObject(o, "code", code);
    cJSON_AddStringToObject(o, "data", text);
    feed_xsim_send_json(x, c, o);
}

/* "SYM_type": series index, or < 0 */
static int kc_item_sym(const feed_xsim *x, const char *it, size_t n)
{
    char name[XS_SUB_NAME], iv[16];
    const char *us = memchr(it, '_', n);
    if (!us || n >= sizeof name || strlen(kc_iv(x, iv, sizeof iv)) != n - (size_t)(us - it) - 1 ||
        memcmp(us + 1, iv, n - (size_t)(us - it) - 1))
        return -1;
    memcpy(name, it, (size_t)(us - it));
    name[us - it] = 0;
    return feed_xsim_find_series(x, name, 0);
}

static void kc_subscribe(feed_xsim *x, xs_client *c, const cJSON *root, const cJSON *id, int sub)
{
    const cJSON *topic = cJSON_GetObjectItemCaseSensitive(root, "topic");
    char why[200];
    const char *t = cJSON_IsString(topic) ? topic->valuestring : "";
    if (strncmp(t, "/market/candles:", 16)) {
        snprintf(why, sizeof why, "topic %.80s is not found", t);
        kc_error(x, c, id, 404, why);
        return;
    }
    for (int pass = 0; pass < 2; pass++) { /* check all first: one bad item rejects the request */
        for (const char *p = t + 16; *p;) {
            size_t n = strcspn(p, ",");
            int s = kc_item_sym(x, p, n);
            if (!pass && s < 0) {
                snprintf(why, sizeof why, "topic /market/candles:%.*s is not found", (int)(n < 60 ? n : 60), p);
                kc_error(x, c, id, 404, why);
                return;
            }
            if (pass) {
                char name[XS_SUB_NAME];
                snprintf(name, sizeof name, "%.*s", (int)n, p);
                if (!sub)
                    feed_xsim_sub_del(c, name);
                else if (feed_xsim_sub_add(x, c, name, s)) {
                    kc_error(x, c, id, 509, "exceed max subscription count limitation of 300 per session");
                    return;
                }
            }
            p += n + (p[n] == ',');
        }
    }
    const cJSON *resp = cJSON_GetObjectItemCaseSensitive(root, "response");
    if (cJSON_IsTrue(resp))
        kc_send(x, c, cJSON_IsString(id) ? id->valuestring : "", "ack");
}

static void kc_message(feed_xsim *x, xs_client *c, const char *msg, size_t len)
{
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(msg, len, &end, 0);
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(root, "type");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(root, "id");
    const char *ty = cJSON_IsString(type) ? type->valuestring : "";
    if (!strcmp(ty, "ping"))
        kc_send(x, c, cJSON_IsString(id) ? id->valuestring : "", "pong");
    else if (!strcmp(ty, "subscribe") || !strcmp(ty, "unsubscribe"))
        kc_subscribe(x, c, root, id, ty[0] == 's');
    else
        kc_error(x, c, id, 415, "command type is invalid"); /* [codes] of the adapter */
    cJSON_Delete(root);
}

static int kc_body_err(int *status, char **body, size_t *len, int http, const char *code, const char *msg)
{
    char t[240];
    *status = http;
    snprintf(t, sizeof t, "{\"code\":\"%s\",\"msg\":\"%s\"}", code, msg);
    return feed_xsim_body(body, len, t);
}

static int kc_token(struct lws *wsi, char **body, size_t *len)
{
    char host[128], t[512];
    if (lws_hdr_copy(wsi, host, sizeof host, WSI_TOKEN_HOST) <= 0 || strpbrk(host, "\"\\"))
        snprintf(host, sizeof host, "127.0.0.1");
    snprintf(t, sizeof t,
             "{\"code\":\"200000\",\"data\":{\"token\":\"" KC_TOKEN "\",\"instanceServers\":[{\"endpoint\":\"ws://%s/\","
             "\"encrypt\":false,\"protocol\":\"websocket\",\"pingInterval\":18000,\"pingTimeout\":10000}]}}",
             host);
    return feed_xsim_body(body, len, t);
}

static int kc_rows(const feed_xsim *x, size_t s, int64_t lo, int64_t hi, char **body, size_t *len)
{
    feed_xsim_bar *rows = malloc(KC_MAX_ROWS * sizeof *rows);
    char *out = malloc(KC_MAX_ROWS * 330 + 64);
    if (!rows || !out) {
        free(rows), free(out);
        return PT_ENOMEM;
    }
    size_t n = feed_xsim_collect(x, s, lo, hi, KC_MAX_ROWS, 0, rows); /* newest first */
    size_t w = (size_t)snprintf(out, 64, "{\"code\":\"200000\",\"data\":[");
    for (size_t k = 0; k < n; k++) {
        char row[320];
        kc_row(&rows[k], row, sizeof row);
        w += (size_t)snprintf(out + w, 330, "%s%s", k ? "," : "", row);
    }
    w += (size_t)snprintf(out + w, 8, "]}");
    free(rows);
    *body = out;
    *len = w;
    return PT_OK;
}

static int kc_rest(feed_xsim *x, struct lws *wsi, const char *uri, int *status, char **body, size_t *len, char *hdrs,
                   size_t hcap)
{
    int token = !strcmp(uri, "/api/v1/bullet-public") && lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0;
    if (!token && strcmp(uri, "/api/v1/market/candles"))
        return PT_ENOENT;
    if (feed_xsim_rest_fault(x, status, hdrs, hcap) >= 0)
        return kc_body_err(status, body, len, 429, "429000", "Too Many Requests");
    *status = 200;
    if (token)
        return kc_token(wsi, body, len);
    char sym[64], ty[16], want[16];
    int64_t start = 0, end = 0;
    int a = feed_xsim_arg_int(wsi, "startAt", &start), b = feed_xsim_arg_int(wsi, "endAt", &end);
    const char *sv = feed_xsim_arg(wsi, "symbol", sym, sizeof sym);
    const char *tv = feed_xsim_arg(wsi, "type", ty, sizeof ty);
    int s = sv ? feed_xsim_find_series(x, sv, 0) : -1;
    if (s < 0)
        return kc_body_err(status, body, len, 400, "400100", "This pair is not provided at present");
    if (!tv || strcmp(tv, kc_iv(x, want, sizeof want)))
        return kc_body_err(status, body, len, 400, "400100", "Unsupported type");
    if (a < 0 || b < 0 || start < 0 || end < 0)
        return kc_body_err(status, body, len, 400, "400100", "startAt or endAt invalid");
    /* seconds; 0 = unbounded (the docs' default) */
    return kc_rows(x, (size_t)s, start * 1000, end ? end * 1000 : INT64_MAX, body, len);
}

const xs_proto feed_xsim_proto_kucoin = {
    .name = "kucoin",
    .default_symbols = "BTC-USDT,ETH-USDT",
    .ws_path = kc_ws_path,
    .event = kc_event,
    .wrap = NULL,
    .on_message = kc_message,
    .rest = kc_rest,
    .shutdown_notice = NULL,
    .on_open = kc_open,
    .skip_whole_bar = 1,
};
