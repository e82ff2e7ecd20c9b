/* feed_xsim_rules: the simulator's trading-rules metadata (Binance
 * /api/v3/exchangeInfo, Bitvavo /v2/markets, Bybit /v5/market/instruments-info,
 * OKX /api/v5/public/instruments, Kraken /0/public/AssetPairs, Coinbase
 * /api/v3/brokerage/market/products[/{id}]; docs/exchange-sim.md), with the
 * REST faults of the other endpoints (429/418, and "malformed": a body cut
 * in half). The rules come from each symbol's market, overridden by the
 * configured ones (feed_xsim_config.rules), from the first bar at or after
 * the simulation's start:
 *   tick_size  10^-d, d = the decimals of the first bar's prices (at most 8)
 *   lot_step   10^-(k+1), k = the first close's order of magnitude (BTC at
 *              30000 -> 0.00001 as on Binance; 0.0016 -> 100)
 *   min_qty    one lot step
 *   min_notional 1 (quote) */
#include "feed_xsim_internal.h"
#include "portfolio.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int decimals_of(double v)
{
    char b[40];
    pf_format_double(v, b, sizeof b);
    const char *dot = strchr(b, '.');
    int d = dot && !strpbrk(b, "eE") ? (int)strlen(dot + 1) : 8;
    return d > 8 ? 8 : d;
}

/* 10^-e as a count of decimals, for the venues that write one (Bitvavo,
 * Kraken); a step that is no power of ten -> 0 */
static int decimals_count(pf_dec d)
{
    return d.m == 1 ? d.e : 0;
}

static void derive(const feed_xsim *x, size_t s, pf_rules *r)
{
    feed_xsim_bar b;
    memset(r, 0, sizeof *r);
    snprintf(r->symbol, sizeof r->symbol, "%s", x->series[s].sym);
    r->min_notional = (pf_dec){1, 0};
    if (x->market->at_or_after(x, s, x->start_sim_ms, &b) || !(b.c > 0))
        return;
    int d = 0;
    const double px[4] = {b.o, b.h, b.l, b.c};
    for (int i = 0; i < 4; i++)
        if (decimals_of(px[i]) > d)
            d = decimals_of(px[i]);
    r->tick = (pf_dec){1, d};
    int k = (int)floor(log10(b.c) + 0.5), e = k + 1;
    r->step = e >= 0 ? (pf_dec){1, e > 18 ? 18 : e} : (pf_dec){(int64_t)pow(10, -e > 15 ? 15 : -e), 0};
    r->min_qty = r->step;
}

/* The rules of series s: derived, then the configured fields on top. */
static void rules_of(const feed_xsim *x, size_t s, pf_rules *r)
{
    derive(x, s, r);
    const pf_rules *o = pf_rules_find(x->rules, x->series[s].sym);
    if (!o)
        return;
    const pf_dec *src[4] = {&o->tick, &o->step, &o->min_qty, &o->min_notional};
    pf_dec *dst[4] = {&r->tick, &r->step, &r->min_qty, &r->min_notional};
    for (int i = 0; i < 4; i++)
        if (src[i]->m)
            *dst[i] = *src[i];
}

/* 429/418 as for klines, or a malformed (cut) body; 1 if injected. */
static int fault(feed_xsim *x, int *status, char **body, size_t *len, char *hdrs, size_t hcap, const char *err429)
{
    if (feed_xsim_rest_fault(x, status, hdrs, hcap) >= 0)
        return feed_xsim_body(body, len, err429) == PT_OK;
    if (!feed_xsim_roll(x, FEED_XSIM_F_MALFORMED, x->rest_counter, 7))
        return 0;
    feed_xsim_count_fault(x, FEED_XSIM_F_MALFORMED, "REST request %llu: metadata body cut short",
                          (unsigned long long)x->rest_counter);
    *status = 200;
    return feed_xsim_body(body, len, "{\"symbols\":[{\"symbol\":") == PT_OK;
}

static void dec_add(cJSON *o, const char *k, pf_dec d)
{
    char b[40];
    pf_dec_format(d, b, sizeof b);
    cJSON_AddStringToObject(o, k, b[0] ? b : "0");
}

static int answer(cJSON *root, int *status, char **body, size_t *len)
{
    char *t = root ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    if (!t)
        return PT_ENOMEM;
    *status = 200;
    *body = t;
    *len = strlen(t);
    return PT_OK;
}

/* Binance's symbol object: the three filters we read, in its shape. */
static void bn_symbol(const feed_xsim *x, size_t s, cJSON *arr)
{
    pf_rules r;
    rules_of(x, s, &r);
    cJSON *o = cJSON_CreateObject(), *fl = cJSON_AddArrayToObject(o, "filters"), *f;
    cJSON_AddStringToObject(o, "symbol", r.symbol);
    cJSON_AddStringToObject(o, "status", "TRADING");
    cJSON_AddItemToArray(fl, f = cJSON_CreateObject());
    cJSON_AddStringToObject(f, "filterType", "PRICE_FILTER");
    dec_add(f, "minPrice", r.tick), dec_add(f, "maxPrice", (pf_dec){0, 0}), dec_add(f, "tickSize", r.tick);
    cJSON_AddItemToArray(fl, f = cJSON_CreateObject());
    cJSON_AddStringToObject(f, "filterType", "LOT_SIZE");
    dec_add(f, "minQty", r.min_qty), dec_add(f, "maxQty", (pf_dec){9000000, 0}), dec_add(f, "stepSize", r.step);
    cJSON_AddItemToArray(fl, f = cJSON_CreateObject());
    cJSON_AddStringToObject(f, "filterType", "NOTIONAL");
    dec_add(f, "minNotional", r.min_notional);
    cJSON_AddBoolToObject(f, "applyMinToMarket", 1);
    cJSON_AddItemToArray(arr, o);
}

int feed_xsim_rules_binance(feed_xsim *x, struct lws *wsi, int *status, char **body, size_t *len, char *hdrs,
                            size_t hcap)
{
    if (fault(x, status, body, len, hdrs, hcap, "{\"code\":-1003,\"msg\":\"Too much request weight used.\"}"))
        return PT_OK;
    char want[2048];
    const char *q = feed_xsim_arg(wsi, "symbols", want, sizeof want);
    cJSON *list = q ? cJSON_Parse(q) : NULL, *it;
    cJSON *root = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(root, "symbols");
    cJSON_AddStringToObject(root, "timezone", "UTC");
    if (q && !cJSON_IsArray(list)) {
        cJSON_Delete(list), cJSON_Delete(root);
        *status = 400;
        return feed_xsim_body(body, len, "{\"code\":-1100,\"msg\":\"Illegal characters found in parameter 'symbols'.\"}");
    }
    cJSON_ArrayForEach(it, list)
    {
        int s = cJSON_IsString(it) ? feed_xsim_find_series(x, it->valuestring, 0) : -1;
        if (s < 0) { /* Binance refuses the whole request */
            cJSON_Delete(list), cJSON_Delete(root);
            *status = 400;
            return feed_xsim_body(body, len, "{\"code\":-1121,\"msg\":\"Invalid symbol.\"}");
        }
        bn_symbol(x, (size_t)s, arr);
    }
    for (size_t s = 0; !q && s < x->n_series; s++)
        bn_symbol(x, s, arr);
    cJSON_Delete(list);
    return answer(root, status, body, len);
}

int feed_xsim_rules_bitvavo(feed_xsim *x, struct lws *wsi, int *status, char **body, size_t *len, char *hdrs,
                            size_t hcap)
{
    (void)wsi;
    if (fault(x, status, body, len, hdrs, hcap, "{\"errorCode\":110,\"error\":\"Rate limit exceeded.\"}"))
        return PT_OK;
    cJSON *root = cJSON_CreateArray();
    for (size_t s = 0; s < x->n_series; s++) {
        pf_rules r;
        rules_of(x, s, &r);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "market", r.symbol);
        cJSON_AddStringToObject(o, "status", "trading");
        cJSON_AddNullToObject(o, "pricePrecision"); /* null since v2.12.0 */
        dec_add(o, "minOrderInBaseAsset", r.min_qty);
        dec_add(o, "minOrderInQuoteAsset", r.min_notional);
        cJSON_AddNumberToObject(o, "quantityDecimals", decimals_count(r.step));
        dec_add(o, "tickSize", r.tick);
        cJSON_AddItemToArray(root, o);
    }
    return answer(root, status, body, len);
}

/* One instrument object in the Bybit / OKX shape. */
static cJSON *inst_json(const feed_xsim *x, size_t s, int okx)
{
    pf_rules r;
    rules_of(x, s, &r);
    cJSON *o = cJSON_CreateObject();
    if (okx) {
        cJSON_AddStringToObject(o, "instId", r.symbol);
        cJSON_AddStringToObject(o, "instType", "SPOT");
        cJSON_AddStringToObject(o, "state", "live");
        dec_add(o, "tickSz", r.tick), dec_add(o, "lotSz", r.step), dec_add(o, "minSz", r.min_qty);
        return o;
    }
    cJSON_AddStringToObject(o, "symbol", r.symbol);
    cJSON_AddStringToObject(o, "status", "Trading");
    cJSON *lf = cJSON_AddObjectToObject(o, "lotSizeFilter"), *pf = cJSON_AddObjectToObject(o, "priceFilter");
    dec_add(lf, "basePrecision", r.step), dec_add(lf, "minOrderQty", r.min_qty);
    dec_add(lf, "minOrderAmt", r.min_notional), dec_add(pf, "tickSize", r.tick);
    return o;
}

/* Bybit /v5/market/instruments-info and OKX /api/v5/public/instruments:
 * every series, or the one named by symbol / instId. */
static int inst_answer(feed_xsim *x, struct lws *wsi, int okx, int *status, char **body, size_t *len, char *hdrs,
                       size_t hcap)
{
    if (fault(x, status, body, len, hdrs, hcap,
              okx ? "{\"code\":\"50011\",\"msg\":\"Too Many Requests\",\"data\":[]}"
                  : "{\"retCode\":10006,\"retMsg\":\"Too many visits!\",\"result\":{}}"))
        return PT_OK;
    char want[64];
    const char *one = feed_xsim_arg(wsi, okx ? "instId" : "symbol", want, sizeof want);
    int s1 = one ? feed_xsim_find_series(x, one, 0) : -1;
    cJSON *root = cJSON_CreateObject(), *list;
    if (okx) {
        cJSON_AddStringToObject(root, "code", one && s1 < 0 ? "51001" : "0");
        cJSON_AddStringToObject(root, "msg", one && s1 < 0 ? "Instrument ID does not exist" : "");
        list = cJSON_AddArrayToObject(root, "data");
    } else {
        cJSON_AddNumberToObject(root, "retCode", one && s1 < 0 ? 10001 : 0);
        cJSON_AddStringToObject(root, "retMsg", one && s1 < 0 ? "params error: symbol invalid" : "OK");
        cJSON *res = cJSON_AddObjectToObject(root, "result");
        cJSON_AddStringToObject(res, "category", "spot");
        list = cJSON_AddArrayToObject(res, "list");
    }
    for (size_t s = 0; s < x->n_series; s++)
        if (!one || (int)s == s1)
            cJSON_AddItemToArray(list, inst_json(x, s, okx));
    return answer(root, status, body, len);
}

int feed_xsim_rules_bybit(feed_xsim *x, struct lws *wsi, int *status, char **body, size_t *len, char *hdrs,
                          size_t hcap)
{
    return inst_answer(x, wsi, 0, status, body, len, hdrs, hcap);
}

int feed_xsim_rules_okx(feed_xsim *x, struct lws *wsi, int *status, char **body, size_t *len, char *hdrs,
                        size_t hcap)
{
    return inst_answer(x, wsi, 1, status, body, len, hdrs, hcap);
}

/* Kraken's pair object (get-tradable-asset-pairs), keyed by altname. */
static void kr_pair(const feed_xsim *x, size_t s, cJSON *res)
{
    pf_rules r;
    char alt[PT_SYMBOL_MAX], ws[PT_SYMBOL_MAX];
    rules_of(x, s, &r);
    size_t a = 0;
    for (const char *p = r.symbol; *p; p++)
        if (*p != '-')
            alt[a++] = *p;
    alt[a] = '\0';
    snprintf(ws, sizeof ws, "%s", r.symbol);
    for (char *p = ws; *p; p++)
        *p = *p == '-' ? '/' : *p;
    cJSON *o = cJSON_AddObjectToObject(res, alt);
    cJSON_AddStringToObject(o, "altname", alt);
    cJSON_AddStringToObject(o, "wsname", ws);
    cJSON_AddNumberToObject(o, "pair_decimals", decimals_count(r.tick));
    cJSON_AddNumberToObject(o, "lot_decimals", decimals_count(r.step));
    cJSON_AddNumberToObject(o, "lot_multiplier", 1);
    dec_add(o, "ordermin", r.min_qty), dec_add(o, "costmin", r.min_notional), dec_add(o, "tick_size", r.tick);
    cJSON_AddStringToObject(o, "status", "online");
}

/* GET /0/public/AssetPairs[?pair=A,B]: an unknown pair refuses the whole
 * request (HTTP 200, "error"), as the OHLC endpoint does here; the 418
 * fault is HTTP 200 with "EAPI:Rate limit exceeded". */
int feed_xsim_rules_kraken(feed_xsim *x, struct lws *wsi, int *status, char **body, size_t *len, char *hdrs,
                           size_t hcap)
{
    if (fault(x, status, body, len, hdrs, hcap, "{\"error\":[\"EAPI:Rate limit exceeded\"],\"result\":{}}")) {
        if (*status == 418) /* Kraken has no 418: its own form, as for OHLC (feed_xsim_proto_kraken.c) */
            *status = 200;
        return PT_OK;
    }
    char want[1024];
    const char *q = feed_xsim_arg(wsi, "pair", want, sizeof want);
    cJSON *root = cJSON_CreateObject(), *res;
    cJSON_AddArrayToObject(root, "error");
    res = cJSON_AddObjectToObject(root, "result");
    char *save = NULL;
    for (char *tok = q ? strtok_r(want, ",", &save) : NULL; tok; tok = strtok_r(NULL, ",", &save)) {
        for (char *p = tok; *p; p++)
            *p = *p == '/' ? '-' : *p;
        int s = feed_xsim_find_series(x, tok, 0);
        if (s < 0) {
            cJSON_Delete(root);
            *status = 200;
            return feed_xsim_body(body, len, "{\"error\":[\"EQuery:Unknown asset pair\"]}");
        }
        kr_pair(x, (size_t)s, res);
    }
    for (size_t s = 0; !q && s < x->n_series; s++)
        kr_pair(x, s, res);
    return answer(root, status, body, len);
}

static cJSON *cb_product(const feed_xsim *x, size_t s)
{
    pf_rules r;
    rules_of(x, s, &r);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "product_id", r.symbol);
    dec_add(o, "base_increment", r.step), dec_add(o, "quote_increment", r.tick);
    dec_add(o, "quote_min_size", r.min_notional), dec_add(o, "base_min_size", r.min_qty);
    cJSON_AddStringToObject(o, "status", "online");
    cJSON_AddBoolToObject(o, "trading_disabled", 0);
    cJSON_AddStringToObject(o, "product_type", "SPOT");
    return o;
}

/* Every product_ids=X of the query (repeated key) -> series in list; -1 if
 * one is unknown, else how many were named. */
static int cb_named(feed_xsim *x, struct lws *wsi, cJSON *list)
{
    char frag[96];
    int named = 0;
    for (int i = 0; lws_hdr_copy_fragment(wsi, frag, sizeof frag, WSI_TOKEN_HTTP_URI_ARGS, i) > 0; i++) {
        if (strncmp(frag, "product_ids=", 12))
            continue;
        int s = feed_xsim_find_series(x, frag + 12, 0);
        if (s < 0)
            return -1;
        cJSON_AddItemToArray(list, cb_product(x, (size_t)s));
        named++;
    }
    return named;
}

/* GET /api/v3/brokerage/market/products/{id} (id non-NULL) or
 * /api/v3/brokerage/market/products[?product_ids=A&product_ids=B]. */
int feed_xsim_rules_coinbase(feed_xsim *x, struct lws *wsi, const char *id, int *status, char **body, size_t *len,
                             char *hdrs, size_t hcap)
{
    static const char nf[] = "{\"error\":\"NOT_FOUND\",\"error_details\":\"ProductID is invalid\","
                             "\"message\":\"ProductID is invalid\"}";
    if (fault(x, status, body, len, hdrs, hcap,
              "{\"error\":\"RESOURCE_EXHAUSTED\",\"error_details\":\"Too many requests\",\"message\":\"Too many requests\"}"))
        return PT_OK;
    int s = id ? feed_xsim_find_series(x, id, 0) : 0;
    cJSON *root = id ? NULL : cJSON_CreateObject(), *list = root ? cJSON_AddArrayToObject(root, "products") : NULL;
    int named = id ? 0 : cb_named(x, wsi, list);
    if (s < 0 || named < 0) {
        cJSON_Delete(root);
        *status = 404;
        return feed_xsim_body(body, len, nf);
    }
    if (id)
        return answer(cb_product(x, (size_t)s), status, body, len);
    for (size_t k = 0; !named && k < x->n_series; k++)
        cJSON_AddItemToArray(list, cb_product(x, k));
    cJSON_AddNumberToObject(root, "num_products", cJSON_GetArraySize(list));
    return answer(root, status, body, len);
}
