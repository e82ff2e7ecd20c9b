/* feed: the exchange simulator's wire formats, one const table per
 * exchange. Shapes follow the exchanges' public API docs
 * (https://github.com/binance/binance-spot-api-docs, https://docs.bitvavo.com):
 * Binance stream paths and SUBSCRIBE, the kline payload, serverShutdown,
 * nested errors, klines REST (429/418, X-MBX-USED-WEIGHT-1M); Bitvavo
 * subscribe/ack, the candle event (wire form), errors, candles REST (newest
 * first). */
#include "feed_xsim_internal.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ shared */
static void hdr_add(char *h, size_t cap, const char *name, const char *val)
{
    size_t w = 0;
    while (h[w]) /* skip existing pairs */
        w += strlen(h + w) + 1, w += strlen(h + w) + 1;
    size_t nl = strlen(name) + 1, vl = strlen(val) + 1;
    if (w + nl + vl + 1 > cap)
        return;
    memcpy(h + w, name, nl);
    memcpy(h + w + nl, val, vl);
    h[w + nl + vl] = 0;
}

/* value of key=... in the query string, or NULL. Every argument is read
 * into a scratch buffer first: an argument too long for the caller's buffer
 * ("symbol=UNITTESTBTC" while looking for "interval" in 16 bytes) must not
 * end the search (lws_hdr_copy_fragment answers -1 for both "too long" and
 * "no such fragment"). */
static const char *arg_get(struct lws *wsi, const char *key, char *buf, size_t cap)
{
    size_t kl = strlen(key);
    char frag[512];
    for (int i = 0; i < 32; i++) {
        int n = lws_hdr_copy_fragment(wsi, frag, (int)sizeof frag, WSI_TOKEN_HTTP_URI_ARGS, i);
        if (n < 0) {
            if (lws_hdr_fragment_length(wsi, WSI_TOKEN_HTTP_URI_ARGS, i) > 0)
                continue; /* longer than any value we read */
            return NULL;
        }
        if ((size_t)n > kl && !strncmp(frag, key, kl) && frag[kl] == '=') {
            if ((size_t)n - kl - 1 >= cap)
                return NULL;
            memcpy(buf, frag + kl + 1, (size_t)n - kl); /* with its NUL */
            return buf;
        }
    }
    return NULL;
}

static int arg_int(struct lws *wsi, const char *key, int64_t *out)
{
    char buf[64];
    const char *v = arg_get(wsi, key, buf, sizeof buf);
    if (!v)
        return 0;
    return pt_parse_int64(v, strlen(v), out, NULL) || *out < 0 ? -1 : 1;
}

static int body_set(char **body, size_t *len, const char *text)
{
    *body = strdup(text);
    *len = *body ? strlen(text) : 0;
    return PT_OK;
}

/* "%.8f", trimmed of trailing zeros for Bitvavo (it sends "3377.7") */
static void num(double v, int trim, char *b, size_t cap)
{
    snprintf(b, cap, "%.8f", v);
    if (!trim)
        return;
    char *e = b + strlen(b) - 1;
    while (e > b && *e == '0')
        *e-- = 0;
    if (*e == '.')
        *e = 0;
}

/* The REST fault roll every protocol shares: the injected kind (counted,
 * Retry-After added to hdrs) or -1; the caller writes its venue's body. */
static int rest_fault_roll(feed_xsim *x, int *status, char *hdrs, size_t hcap)
{
    uint64_t n = ++x->rest_counter;
    char ra[24];
    int f = feed_xsim_roll(x, FEED_XSIM_F_HTTP418, n, 0)   ? FEED_XSIM_F_HTTP418
            : feed_xsim_roll(x, FEED_XSIM_F_HTTP429, n, 0) ? FEED_XSIM_F_HTTP429
                                                           : -1;
    if (f < 0)
        return -1;
    *status = f == FEED_XSIM_F_HTTP418 ? 418 : 429;
    snprintf(ra, sizeof ra, "%lld", (long long)x->faults.retry_after_s);
    hdr_add(hdrs, hcap, "retry-after:", ra);
    feed_xsim_count_fault(x, (feed_xsim_fault)f, "REST request %llu answered %d, Retry-After %s",
                          (unsigned long long)n, *status, ra);
    return f;
}

/* fault answers on REST; 1 if one was injected */
static int rest_fault(feed_xsim *x, int binance, int *status, char **body, size_t *len, char *hdrs, size_t hcap)
{
    char txt[256];
    int f = rest_fault_roll(x, status, hdrs, hcap);
    if (f < 0)
        return 0;
    long long until = (long long)(pt_wall_ms() + x->faults.retry_after_s * 1000);
    if (binance && f == FEED_XSIM_F_HTTP418)
        snprintf(txt, sizeof txt, "{\"code\":-1003,\"msg\":\"Way too much request weight used; IP banned until %lld. "
                 "Please use WebSocket Streams for live updates to avoid bans.\"}", until);
    else if (binance)
        snprintf(txt, sizeof txt, "{\"code\":-1003,\"msg\":\"Too much request weight used; current limit is 6000 "
                 "request weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid polling the API.\"}");
    else if (f == FEED_XSIM_F_HTTP418)
        snprintf(txt, sizeof txt, "{\"errorCode\":105,\"error\":\"Your IP or API key has been banned for not "
                 "respecting the rate limit. The ban expires at %lld.\"}", until);
    else
        snprintf(txt, sizeof txt, "{\"errorCode\":110,\"error\":\"Rate limit exceeded.\"}");
    return body_set(body, len, txt) == PT_OK;
}

/* Up to limit bar states visible at sim time now with open in [lo, hi]:
 * ascending from lo when from_start, else the newest ones (newest first). */
static size_t collect(const feed_xsim *x, size_t s, int64_t lo, int64_t hi, size_t limit, int from_start,
                      feed_xsim_bar *out)
{
    int64_t now = feed_xsim_sim_now(x);
    if (hi > now)
        hi = now;
    size_t n = 0;
    feed_xsim_bar b;
    int ok = from_start ? x->market->at_or_after(x, s, lo, &b) : x->market->at_or_before(x, s, hi, &b);
    while (!ok && n < limit && b.ts_ms >= lo && b.ts_ms <= hi) {
        if (feed_xsim_state_at(x, s, &b, now, &out[n]) == PT_OK)
            n++;
        ok = from_start ? x->market->at_or_after(x, s, b.ts_ms + 1, &b) : x->market->at_or_before(x, s, b.ts_ms - 1, &b);
    }
    return n;
}

/* ------------------------------------------------------------ subscriptions */
static int sub_find(const xs_client *c, const char *name)
{
    for (int i = 0; i < c->nsubs; i++)
        if (!strcmp(c->subs[i].name, name))
            return i;
    return -1;
}

static int sub_add_kind(xs_client *c, const char *name, int sym, int kind)
{
    if (sub_find(c, name) >= 0)
        return PT_OK;
    if (c->nsubs >= XS_MAX_SUBS || strlen(name) >= XS_SUB_NAME)
        return PT_EFULL;
    xs_sub *s = &c->subs[c->nsubs++];
    snprintf(s->name, sizeof s->name, "%s", name);
    s->sym = sym;
    s->kind = kind;
    return PT_OK;
}

static int sub_add(feed_xsim *x, xs_client *c, const char *name, int sym)
{
    (void)x;
    return sub_add_kind(c, name, sym, XS_KIND_CANDLE);
}

static void sub_del(xs_client *c, const char *name)
{
    int i = sub_find(c, name);
    if (i >= 0)
        c->subs[i] = c->subs[--c->nsubs];
}

static int bn_stream_sym(const feed_xsim *x, const char *name);

/* "<symbol>@kline_<interval>" (and on binance-futures "<symbol>@markPrice"
 * and "<symbol>@markPrice@1s"): series index, -1 if well formed but not
 * served (Binance accepts those silently and sends nothing, notes 1.5),
 * -2 if not a stream name at all. *kind: what the stream carries. */
static int bn_stream_kind(const feed_xsim *x, const char *name, int *kind)
{
    *kind = XS_KIND_CANDLE;
    const char *m = strstr(name, "@markPrice");
    if (m && x->proto == &feed_xsim_proto_binance_futures && (!strcmp(m, "@markPrice") || !strcmp(m, "@markPrice@1s"))) {
        char sym[PT_SYMBOL_MAX];
        if ((size_t)(m - name) >= sizeof sym || m == name)
            return -1;
        memcpy(sym, name, (size_t)(m - name));
        sym[m - name] = 0;
        for (const char *p = sym; *p; p++)
            if (!isprint((unsigned char)*p) || isupper((unsigned char)*p) || *p == '"' || *p == '/')
                return -2;
        *kind = m[10] ? XS_KIND_MARK_1S : XS_KIND_MARK_3S;
        return feed_xsim_find_series(x, sym, 1);
    }
    return bn_stream_sym(x, name);
}

static int bn_stream_sym(const feed_xsim *x, const char *name)
{
    size_t n = strlen(name);
    if (!n || n >= XS_SUB_NAME || !strchr(name, '@'))
        return -2;
    for (size_t i = 0; i < n; i++)
        if (!isprint((unsigned char)name[i]) || isupper((unsigned char)name[i]) || name[i] == '"' || name[i] == '/')
            return -2;
    const char *k = strstr(name, "@kline_");
    if (!k || strcmp(k + 7, x->interval_name))
        return -1;
    char sym[PT_SYMBOL_MAX];
    if ((size_t)(k - name) >= sizeof sym)
        return -1;
    memcpy(sym, name, (size_t)(k - name));
    sym[k - name] = 0;
    return feed_xsim_find_series(x, sym, 1);
}

/* ------------------------------------------------------------ Binance */
static int bn_ws_path(feed_xsim *x, xs_client *c, const char *uri, const char *args)
{
    char list[1024];
    if (x->proto == &feed_xsim_proto_binance_futures && !strncmp(uri, "/market/", 8))
        uri += 7; /* the routed base of market data (feed_adapter_binance_futures.c [ws]) */
    if (!strcmp(uri, "/ws") || !strcmp(uri, "/ws/")) {
        c->combined = 0;
        return PT_OK;
    }
    if (!strncmp(uri, "/ws/", 4)) {
        c->combined = 0;
        snprintf(list, sizeof list, "%s", uri + 4);
    } else if (!strcmp(uri, "/stream") || !strcmp(uri, "/stream/")) {
        c->combined = 1;
        list[0] = 0;
        if (!strncmp(args, "streams=", 8))
            snprintf(list, sizeof list, "%s", args + 8);
    } else {
        return PT_ENOENT;
    }
    char *save = NULL;
    for (char *t = strtok_r(list, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
        int kind, sym = bn_stream_kind(x, t, &kind);
        if (sym < -1 || sub_add_kind(c, t, sym, kind))
            return PT_ENOENT;
    }
    return PT_OK;
}

static int bn_event(const feed_xsim *x, size_t s, const feed_xsim_bar *b, int closed, int64_t ev, char *buf,
                    size_t cap)
{
    const char *sym = x->series[s].sym;
    char o[32], h[32], l[32], c[32], v[32], q[32], tv[32], tq[32];
    num(b->o, 0, o, sizeof o), num(b->h, 0, h, sizeof h), num(b->l, 0, l, sizeof l), num(b->c, 0, c, sizeof c);
    num(b->v, 0, v, sizeof v), num(b->q, 0, q, sizeof q), num(b->tv, 0, tv, sizeof tv), num(b->tq, 0, tq, sizeof tq);
    return snprintf(buf, cap,
                    "{\"e\":\"kline\",\"E\":%lld,\"s\":\"%s\",\"k\":{\"t\":%lld,\"T\":%lld,\"s\":\"%s\",\"i\":\"%s\","
                    "\"f\":%lld,\"L\":%lld,\"o\":\"%s\",\"c\":\"%s\",\"h\":\"%s\",\"l\":\"%s\",\"v\":\"%s\",\"n\":%lld,"
                    "\"x\":%s,\"q\":\"%s\",\"V\":\"%s\",\"Q\":\"%s\",\"B\":\"0\"}}",
                    (long long)ev, sym, (long long)b->ts_ms, (long long)(b->ts_ms + x->interval_ms - 1), sym,
                    x->interval_name, (long long)b->first_id, (long long)b->last_id, o, c, h, l, v, (long long)b->n,
                    closed ? "true" : "false", q, tv, tq);
}

static int bn_wrap(const char *stream, const char *raw, size_t len, char *buf, size_t cap)
{
    int h = snprintf(buf, cap, "{\"stream\":\"%s\",\"data\":", stream);
    if (h < 0 || (size_t)h + len + 2 > cap)
        return -1;
    memcpy(buf + h, raw, len);
    buf[h + (int)len] = '}';
    return h + (int)len + 1;
}

static int bn_shutdown(const feed_xsim *x, int combined, char *buf, size_t cap)
{
    long long now = (long long)feed_xsim_sim_now(x);
    return combined ? snprintf(buf, cap, "{\"stream\":\"!serverShutdown\",\"data\":{\"e\":\"serverShutdown\",\"E\":%lld}}",
                               now)
                    : snprintf(buf, cap, "{\"e\":\"serverShutdown\",\"E\":%lld}", now);
}

static void send_json(feed_xsim *x, xs_client *c, cJSON *o)
{
    char *t = o ? cJSON_PrintUnformatted(o) : NULL;
    if (t)
        feed_xsim_send(x, c, t, strlen(t));
    free(t);
    cJSON_Delete(o);
}

static void bn_error(feed_xsim *x, xs_client *c, int code, const char *msg, const cJSON *id)
{
    cJSON *o = cJSON_CreateObject(), *e = cJSON_AddObjectToObject(o, "error");
    cJSON_AddNumberToObject(e, "code", code);
    cJSON_AddStringToObject(e, "msg", msg);
    cJSON_AddItemToObject(o, "id", id ? cJSON_Duplicate(id, 1) : cJSON_CreateNull());
    send_json(x, c, o);
}

static int bn_id_ok(const cJSON *id)
{
    if (cJSON_IsNull(id))
        return 1;
    if (cJSON_IsNumber(id))
        return id->valuedouble >= 0 && id->valuedouble <= 9007199254740992.0 &&
               id->valuedouble == (double)(int64_t)id->valuedouble;
    if (!cJSON_IsString(id) || strlen(id->valuestring) > 36)
        return 0;
    for (const char *p = id->valuestring; *p; p++)
        if (!isalnum((unsigned char)*p))
            return 0;
    return 1;
}

static void bn_message(feed_xsim *x, xs_client *c, const char *msg, size_t len)
{
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(msg, len, &end, 0);
    while (root && end && end < msg + len && isspace((unsigned char)*end))
        end++;
    if (!root || end != msg + len) {
        bn_error(x, c, 3, "Invalid JSON: expected value at line 1 column 1", NULL);
        cJSON_Delete(root);
        return;
    }
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(root, "id");
    const cJSON *method = cJSON_GetObjectItemCaseSensitive(root, "method");
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(root, "params");
    char why[256];
    if (!cJSON_IsObject(root) || !id || !bn_id_ok(id)) {
        bn_error(x, c, 2, !id ? "Invalid request: missing field `id`" : "Invalid request: request ID must be an "
                 "unsigned integer or an alphanumeric string of at most 36 characters", NULL);
    } else if (!cJSON_IsString(method)) {
        bn_error(x, c, 2, "Invalid request: missing field `method`", id);
    } else if (!strcmp(method->valuestring, "SUBSCRIBE") || !strcmp(method->valuestring, "UNSUBSCRIBE")) {
        int sub = method->valuestring[0] == 'S', bad = !cJSON_IsArray(params);
        const cJSON *p;
        int kind;
        cJSON_ArrayForEach(p, params) bad |= !cJSON_IsString(p) || bn_stream_kind(x, p->valuestring, &kind) < -1;
        if (bad) {
            bn_error(x, c, 2, "Invalid request: invalid stream", id);
        } else {
            cJSON_ArrayForEach(p, params)
            {
                if (!sub)
                    sub_del(c, p->valuestring);
                else {
                    int sym = bn_stream_kind(x, p->valuestring, &kind);
                    bad |= sub_add_kind(c, p->valuestring, sym, kind) != PT_OK;
                }
            }
            if (bad) {
                snprintf(why, sizeof why, "Invalid request: more than %d streams on this connection", XS_MAX_SUBS);
                bn_error(x, c, 2, why, id);
            } else {
                cJSON *o = cJSON_CreateObject();
                cJSON_AddNullToObject(o, "result");
                cJSON_AddItemToObject(o, "id", cJSON_Duplicate(id, 1));
                send_json(x, c, o);
            }
        }
    } else if (!strcmp(method->valuestring, "LIST_SUBSCRIPTIONS")) {
        cJSON *o = cJSON_CreateObject(), *r = cJSON_AddArrayToObject(o, "result");
        for (int i = 0; i < c->nsubs; i++)
            cJSON_AddItemToArray(r, cJSON_CreateString(c->subs[i].name));
        cJSON_AddItemToObject(o, "id", cJSON_Duplicate(id, 1));
        send_json(x, c, o);
    } else if (!strcmp(method->valuestring, "SET_PROPERTY") || !strcmp(method->valuestring, "GET_PROPERTY")) {
        int set = method->valuestring[0] == 'S';
        const cJSON *k = cJSON_GetArrayItem(params, 0), *v = cJSON_GetArrayItem(params, 1);
        if (!cJSON_IsString(k) || strcmp(k->valuestring, "combined") || (set && !cJSON_IsBool(v))) {
            bn_error(x, c, 0, "Unknown property", id);
        } else {
            if (set)
                c->combined = cJSON_IsTrue(v);
            cJSON *o = cJSON_CreateObject();
            if (set)
                cJSON_AddNullToObject(o, "result");
            else
                cJSON_AddBoolToObject(o, "result", c->combined);
            cJSON_AddItemToObject(o, "id", cJSON_Duplicate(id, 1));
            send_json(x, c, o);
        }
    } else {
        snprintf(why, sizeof why, "Invalid request: unknown variant `%.40s`, expected one of `SUBSCRIBE`, "
                 "`UNSUBSCRIBE`, `LIST_SUBSCRIPTIONS`, `SET_PROPERTY`, `GET_PROPERTY`", method->valuestring);
        bn_error(x, c, 2, why, id);
    }
    cJSON_Delete(root);
}

static int bn_rest(feed_xsim *x, struct lws *wsi, const char *uri, int *status, char **body, size_t *len,
                   char *hdrs, size_t hcap)
{
    if (!strcmp(uri, "/api/v3/exchangeInfo"))
        return feed_xsim_rules_binance(x, wsi, status, body, len, hdrs, hcap);
    if (strcmp(uri, "/api/v3/klines"))
        return PT_ENOENT;
    return feed_xsim_bn_klines(x, wsi, 1000, 0, status, body, len, hdrs, hcap); /* max 1000 (rest-api.md) */
}

int feed_xsim_bn_klines(feed_xsim *x, struct lws *wsi, int max_limit, int mark, int *status, char **body,
                        size_t *len, char *hdrs, size_t hcap)
{
    int64_t minute = pt_wall_ms() / 60000;
    if (minute != x->weight_minute)
        x->weight_minute = minute, x->weight_used = 0;
    x->weight_used += 2; /* klines weight (rest-api.md) */
    char wt[24], sym[64], iv[16], err[160];
    snprintf(wt, sizeof wt, "%lld", (long long)x->weight_used);
    hdr_add(hdrs, hcap, "x-mbx-used-weight-1m:", wt);
    if (rest_fault(x, 1, status, body, len, hdrs, hcap))
        return PT_OK;
    *status = 400;
    int64_t start = 0, end = INT64_MAX, limit = 500;
    const char *bad = NULL;
    int has_start = arg_int(wsi, "startTime", &start), has_end = arg_int(wsi, "endTime", &end);
    int has_limit = arg_int(wsi, "limit", &limit);
    bad = has_start < 0 ? "startTime" : has_end < 0 ? "endTime" : has_limit < 0 ? "limit" : NULL;
    if (!arg_get(wsi, "symbol", sym, sizeof sym) || !arg_get(wsi, "interval", iv, sizeof iv)) {
        snprintf(err, sizeof err, "{\"code\":-1102,\"msg\":\"Mandatory parameter '%s' was not sent, was empty/null, "
                 "or malformed.\"}", arg_get(wsi, "symbol", sym, sizeof sym) ? "interval" : "symbol");
        return body_set(body, len, err);
    }
    const char *sv = arg_get(wsi, "symbol", sym, sizeof sym);
    int s = feed_xsim_find_series(x, sv, 0);
    if (s < 0)
        return body_set(body, len, "{\"code\":-1121,\"msg\":\"Invalid symbol.\"}");
    if (strcmp(arg_get(wsi, "interval", iv, sizeof iv), x->interval_name))
        return body_set(body, len, "{\"code\":-1120,\"msg\":\"Invalid interval.\"}");
    if (bad || (has_limit && limit < 1)) {
        snprintf(err, sizeof err, "{\"code\":-1100,\"msg\":\"Illegal characters found in parameter '%s'; legal "
                 "range is '^[0-9]{1,20}$'.\"}", bad ? bad : "limit");
        return body_set(body, len, err);
    }
    if (limit > max_limit)
        limit = max_limit;
    feed_xsim_bar *rows = malloc((size_t)limit * sizeof *rows);
    char *out = malloc((size_t)limit * 320 + 8);
    if (!rows || !out) {
        free(rows), free(out);
        return PT_ENOMEM;
    }
    size_t n = collect(x, (size_t)s, has_start ? start : INT64_MIN, end, (size_t)limit, has_start, rows);
    size_t w = 0;
    out[w++] = '[';
    for (size_t k = 0; k < n; k++) {
        const feed_xsim_bar *b = &rows[has_start ? k : n - 1 - k]; /* always ascending */
        feed_xsim_bar mb;
        if (mark) /* Mark-Price-Kline-Candlestick-Data: prices of the mark, the rest "Ignore" */
            feed_xsim_mark_bar(x, (size_t)s, b, &mb), b = &mb;
        char o[32], h[32], l[32], c[32], v[32], q[32], tv[32], tq[32];
        num(b->o, 0, o, sizeof o), num(b->h, 0, h, sizeof h), num(b->l, 0, l, sizeof l), num(b->c, 0, c, sizeof c);
        num(b->v, 0, v, sizeof v), num(b->q, 0, q, sizeof q), num(b->tv, 0, tv, sizeof tv), num(b->tq, 0, tq, sizeof tq);
        w += (size_t)snprintf(out + w, 320, "%s[%lld,\"%s\",\"%s\",\"%s\",\"%s\",\"%s\",%lld,\"%s\",%lld,\"%s\",\"%s\",\"0\"]",
                              k ? "," : "", (long long)b->ts_ms, o, h, l, c, v,
                              (long long)(b->ts_ms + x->interval_ms - 1), q, (long long)b->n, tv, tq);
    }
    out[w++] = ']';
    out[w] = 0;
    free(rows);
    *status = 200;
    *body = out;
    *len = w;
    return PT_OK;
}

const xs_proto feed_xsim_proto_binance = {
    .name = "binance",
    .default_symbols = "BTCUSDT,ETHUSDT",
    .ws_path = bn_ws_path,
    .event = bn_event,
    .wrap = bn_wrap,
    .on_message = bn_message,
    .rest = bn_rest,
    .shutdown_notice = bn_shutdown,
};

/* USD-M futures: spot's streams, envelope and kline payload (identical in
 * the USD-M docs, feed_adapter_binance_futures.c), plus the mark stream and
 * the /fapi REST endpoints (feed_xsim_proto_bnfut.c) */
const xs_proto feed_xsim_proto_binance_futures = {
    .name = "binance-futures",
    .default_symbols = "BTCUSDT,ETHUSDT",
    .ws_path = bn_ws_path,
    .event = bn_event,
    .wrap = bn_wrap,
    .on_message = bn_message,
    .rest = feed_xsim_bnf_rest,
    .shutdown_notice = bn_shutdown,
    .tick = feed_xsim_bnf_tick,
};

/* ------------------------------------------------------------ Bitvavo */
static int bv_ws_path(feed_xsim *x, xs_client *c, const char *uri, const char *args)
{
    (void)x, (void)args;
    c->combined = 0;
    return !strcmp(uri, "/v2") || !strcmp(uri, "/v2/") ? PT_OK : PT_ENOENT;
}

static int bv_event(const feed_xsim *x, size_t s, const feed_xsim_bar *b, int closed, int64_t ev, char *buf,
                    size_t cap)
{
    (void)closed, (void)ev; /* no closed flag, no event time on Bitvavo */
    char o[32], h[32], l[32], c[32], v[32];
    num(b->o, 1, o, sizeof o), num(b->h, 1, h, sizeof h), num(b->l, 1, l, sizeof l), num(b->c, 1, c, sizeof c);
    num(b->v, 1, v, sizeof v);
    return snprintf(buf, cap,
                    "{\"event\":\"candle\",\"market\":\"%s\",\"interval\":\"%s\",\"candle\":[[%lld,\"%s\",\"%s\","
                    "\"%s\",\"%s\",\"%s\"]]}",
                    x->series[s].sym, x->interval_name, (long long)b->ts_ms, o, h, l, c, v);
}

static void bv_error(feed_xsim *x, xs_client *c, const char *action, int code, const char *msg)
{
    cJSON *o = cJSON_CreateObject();
    if (action)
        cJSON_AddStringToObject(o, "action", action);
    cJSON_AddNumberToObject(o, "errorCode", code);
    cJSON_AddStringToObject(o, "error", msg);
    send_json(x, c, o);
}

static void bv_message(feed_xsim *x, xs_client *c, const char *msg, size_t len)
{
    const char *end = NULL;
    char why[160];
    cJSON *root = cJSON_ParseWithLengthOpts(msg, len, &end, 0);
    while (root && end && end < msg + len && isspace((unsigned char)*end))
        end++;
    const cJSON *action = cJSON_GetObjectItemCaseSensitive(root, "action");
    if (!root || end != msg + len || !cJSON_IsObject(root)) {
        bv_error(x, c, NULL, 102, "Invalid JSON.");
    } else if (!cJSON_IsString(action) ||
               (strcmp(action->valuestring, "subscribe") && strcmp(action->valuestring, "unsubscribe") &&
                strcmp(action->valuestring, "getTime"))) {
        bv_error(x, c, cJSON_IsString(action) ? action->valuestring : "unknown", 415,
                 "Invalid action. Please check the request.");
    } else if (!strcmp(action->valuestring, "getTime")) {
        cJSON *o = cJSON_CreateObject(), *r;
        cJSON_AddStringToObject(o, "action", "getTime");
        r = cJSON_AddObjectToObject(o, "response");
        cJSON_AddNumberToObject(r, "time", (double)feed_xsim_sim_now(x));
        send_json(x, c, o);
    } else {
        int sub = action->valuestring[0] == 's';
        const cJSON *chs = cJSON_GetObjectItemCaseSensitive(root, "channels"), *ch, *m;
        why[0] = 0;
        if (!cJSON_IsArray(chs) || !cJSON_GetArraySize(chs))
            snprintf(why, sizeof why, "channels parameter is invalid.");
        cJSON_ArrayForEach(ch, chs) /* validate all first: one bad market rejects the message (notes 2.5) */
        {
            const cJSON *nm = cJSON_GetObjectItemCaseSensitive(ch, "name");
            const cJSON *ivs = cJSON_GetObjectItemCaseSensitive(ch, "interval");
            const cJSON *mks = cJSON_GetObjectItemCaseSensitive(ch, "markets");
            if (!why[0] && (!cJSON_IsString(nm) || strcmp(nm->valuestring, "candles")))
                snprintf(why, sizeof why, "channel.name parameter is invalid.");
            int iv_ok = 0;
            cJSON_ArrayForEach(m, ivs) iv_ok |= cJSON_IsString(m) && !strcmp(m->valuestring, x->interval_name);
            if (!why[0] && !iv_ok)
                snprintf(why, sizeof why, "interval parameter is invalid.");
            if (!why[0] && (!cJSON_IsArray(mks) || !cJSON_GetArraySize(mks)))
                snprintf(why, sizeof why, "market parameter is invalid.");
            cJSON_ArrayForEach(m, mks) if (!why[0] && (!cJSON_IsString(m) || feed_xsim_find_series(x, m->valuestring, 0) < 0))
                snprintf(why, sizeof why, "market parameter %.40s is invalid.", cJSON_IsString(m) ? m->valuestring : "");
        }
        if (why[0]) {
            bv_error(x, c, action->valuestring, 205, why);
        } else {
            int bad = 0;
            cJSON_ArrayForEach(ch, chs)
            {
                cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(ch, "markets"))
                {
                    if (!sub)
                        sub_del(c, m->valuestring);
                    else
                        bad |= sub_add(x, c, m->valuestring, feed_xsim_find_series(x, m->valuestring, 0)) != PT_OK;
                }
            }
            if (bad) {
                bv_error(x, c, action->valuestring, 205, "too many markets on this connection.");
            } else { /* the ack lists every subscription on the socket (notes 2.1, wire) */
                cJSON *o = cJSON_CreateObject(), *subs, *cd, *arr;
                cJSON_AddStringToObject(o, "event", sub ? "subscribed" : "unsubscribed");
                subs = cJSON_AddObjectToObject(o, "subscriptions");
                cd = cJSON_AddObjectToObject(subs, "candles");
                arr = cJSON_AddArrayToObject(cd, x->interval_name);
                for (int i = 0; i < c->nsubs; i++)
                    cJSON_AddItemToArray(arr, cJSON_CreateString(c->subs[i].name));
                send_json(x, c, o);
            }
        }
    }
    cJSON_Delete(root);
}

static int bv_rest(feed_xsim *x, struct lws *wsi, const char *uri, int *status, char **body, size_t *len,
                   char *hdrs, size_t hcap)
{
    static const char suffix[] = "/candles";
    size_t ul = strlen(uri);
    if (!strcmp(uri, "/v2/markets"))
        return feed_xsim_rules_bitvavo(x, wsi, status, body, len, hdrs, hcap);
    if (strncmp(uri, "/v2/", 4) || ul <= 4 + sizeof suffix - 1 || strcmp(uri + ul - (sizeof suffix - 1), suffix))
        return PT_ENOENT;
    char market[64], iv[16], err[160], lim[24];
    size_t ml = ul - 4 - (sizeof suffix - 1);
    if (ml >= sizeof market)
        ml = sizeof market - 1;
    memcpy(market, uri + 4, ml);
    market[ml] = 0;
    hdr_add(hdrs, hcap, "bitvavo-ratelimit-limit:", "1000");
    if (rest_fault(x, 0, status, body, len, hdrs, hcap))
        return PT_OK;
    *status = 400;
    int s = strchr(market, '/') ? -1 : feed_xsim_find_series(x, market, 0);
    if (s < 0) {
        snprintf(err, sizeof err, "{\"errorCode\":205,\"error\":\"market parameter %s is invalid.\"}", market);
        return body_set(body, len, err);
    }
    const char *ivs = arg_get(wsi, "interval", iv, sizeof iv);
    if (!ivs || strcmp(ivs, x->interval_name))
        return body_set(body, len, "{\"errorCode\":205,\"error\":\"interval parameter is invalid.\"}");
    int64_t start = INT64_MIN, end = INT64_MAX, limit = 1440;
    int a = arg_int(wsi, "start", &start), b = arg_int(wsi, "end", &end), l = arg_int(wsi, "limit", &limit);
    if (a < 0 || b < 0 || l < 0 || limit < 1 || limit > 1440) {
        snprintf(err, sizeof err, "{\"errorCode\":205,\"error\":\"%s parameter is invalid.\"}",
                 a < 0 ? "start" : b < 0 ? "end" : "limit");
        return body_set(body, len, err);
    }
    feed_xsim_bar *rows = malloc((size_t)limit * sizeof *rows);
    char *out = malloc((size_t)limit * 200 + 8);
    if (!rows || !out) {
        free(rows), free(out);
        return PT_ENOMEM;
    }
    size_t n = collect(x, (size_t)s, start, end, (size_t)limit, 0, rows), w = 0;
    out[w++] = '[';
    for (size_t k = 0; k < n; k++) { /* newest first (notes 2.6) */
        char o[32], h[32], lo[32], c[32], v[32];
        const feed_xsim_bar *r = &rows[k];
        num(r->o, 1, o, sizeof o), num(r->h, 1, h, sizeof h), num(r->l, 1, lo, sizeof lo), num(r->c, 1, c, sizeof c);
        num(r->v, 1, v, sizeof v);
        w += (size_t)snprintf(out + w, 200, "%s[%lld,\"%s\",\"%s\",\"%s\",\"%s\",\"%s\"]", k ? "," : "",
                              (long long)r->ts_ms, o, h, lo, c, v);
    }
    out[w++] = ']';
    out[w] = 0;
    free(rows);
    snprintf(lim, sizeof lim, "%lld", (long long)(1000 - x->rest_counter % 1000));
    hdr_add(hdrs, hcap, "bitvavo-ratelimit-remaining:", lim);
    *status = 200;
    *body = out;
    *len = w;
    return PT_OK;
}

const xs_proto feed_xsim_proto_bitvavo = {
    .name = "bitvavo",
    .default_symbols = "BTC-EUR,ETH-EUR",
    .ws_path = bv_ws_path,
    .event = bv_event,
    .wrap = NULL,
    .on_message = bv_message,
    .rest = bv_rest,
    .shutdown_notice = NULL,
};

/* ------------------------------------------------------------ shared with
 * the per-venue protocol files (feed_xsim_proto_*.c, feed_xsim_internal.h) */
const char *feed_xsim_arg(struct lws *wsi, const char *key, char *buf, size_t cap)
{
    return arg_get(wsi, key, buf, cap);
}
int feed_xsim_arg_int(struct lws *wsi, const char *key, int64_t *out) { return arg_int(wsi, key, out); }
int feed_xsim_body(char **body, size_t *len, const char *text) { return body_set(body, len, text); }
void feed_xsim_num(double v, int trim, char *b, size_t cap) { num(v, trim, b, cap); }
int feed_xsim_rest_fault(feed_xsim *x, int *status, char *hdrs, size_t hcap)
{
    return rest_fault_roll(x, status, hdrs, hcap);
}
size_t feed_xsim_collect(const feed_xsim *x, size_t s, int64_t lo, int64_t hi, size_t limit, int from_start,
                         feed_xsim_bar *out)
{
    return collect(x, s, lo, hi, limit, from_start, out);
}
int feed_xsim_sub_add(feed_xsim *x, xs_client *c, const char *name, int sym) { return sub_add(x, c, name, sym); }
void feed_xsim_sub_del(xs_client *c, const char *name) { sub_del(c, name); }
void feed_xsim_send_json(feed_xsim *x, xs_client *c, cJSON *o) { send_json(x, c, o); }
