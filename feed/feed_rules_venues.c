/* feed_rules_venues: each venue's trading-rules metadata request and its
 * answer -> pf_rules (docs/rules.md). Pure functions; the adapters point at
 * them (struct feed_adapter .rules_url / .rules_parse), feed_rules.c fetches.
 * Every field is the venue's own decimal text, parsed exactly (pf_dec). */
#include "feed_live_internal.h"
#include "portfolio.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

static const char *str_of(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* One rule from venue text; a missing or "0" value leaves it unset (a venue
 * writes 0 for "no limit"), anything else unparsable is an error. */
static int rule(pf_rules_set *out, const char *sym, const char *key, const char *text, const char *field,
                char *err, size_t cap)
{
    if (!text || pf_dec_parse(text, &(pf_dec){0}, NULL) != PT_OK) {
        int zero = text && strspn(text, "0.") == strlen(text) && text[0];
        if (!text || zero)
            return PT_OK;
        snprintf(err, cap, "%s %s: '%.40s' is not a decimal", sym, field, text);
        return PT_EPARSE;
    }
    const char *why = NULL;
    if (pf_rules_set_field(out, sym, key, text, &why)) {
        snprintf(err, cap, "%s %s: %s", sym, field, why);
        return PT_EFULL;
    }
    return PT_OK;
}

static int wanted(const char *sym, const char *const *syms, size_t n)
{
    for (size_t i = 0; sym && i < n; i++)
        if (!strcmp(sym, syms[i]))
            return 1;
    return 0;
}

/* Every wanted symbol got a record, else PT_ENOENT naming the first missing. */
static int all_found(const pf_rules_set *out, const char *const *syms, size_t n, char *err, size_t cap)
{
    for (size_t i = 0; i < n; i++)
        if (!pf_rules_find(out, syms[i])) {
            snprintf(err, cap, "the answer has no rules for %s", syms[i]);
            return PT_ENOENT;
        }
    return PT_OK;
}

/* A venue's error object: {"code":-1121,"msg":"Invalid symbol."} (Binance),
 * {"errorCode":205,"error":"..."} (Bitvavo). */
static int venue_error(const cJSON *root, char *err, size_t cap)
{
    const char *m = str_of(root, "msg") ? str_of(root, "msg") : str_of(root, "error");
    if (!cJSON_IsObject(root) || !m)
        return 0;
    snprintf(err, cap, "%s", m);
    return 1;
}

/* ------------------------------------------------------------- Binance
 * GET /api/v3/exchangeInfo?symbols=["BTCUSDT","BNBBTC"]
 * https://developers.binance.com/docs/binance-spot-api-docs/rest-api/general-endpoints#exchange-information
 * filters (https://developers.binance.com/docs/binance-spot-api-docs/filters):
 * PRICE_FILTER.tickSize, LOT_SIZE.stepSize / minQty, NOTIONAL.minNotional
 * (the newer filter) or MIN_NOTIONAL.minNotional (the older one). */
int feed_rules_url_binance(const char *base, const char *const *syms, size_t n, char *buf, size_t cap)
{
    size_t w = (size_t)snprintf(buf, cap, "%s/api/v3/exchangeInfo?symbols=%%5B", base);
    for (size_t i = 0; i < n && w < cap; i++) /* [ " , ] percent-encoded: curl wants a valid URL */
        w += (size_t)snprintf(buf + w, cap - w, "%s%%22%s%%22", i ? "%2C" : "", syms[i]);
    if (w < cap)
        w += (size_t)snprintf(buf + w, cap - w, "%%5D");
    return w < cap ? PT_OK : PT_EFULL;
}

static int bn_filters(const cJSON *s, const char *sym, pf_rules_set *out, char *err, size_t cap)
{
    const cJSON *f;
    int rc = PT_OK;
    cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(s, "filters"))
    {
        const char *t = str_of(f, "filterType");
        if (!t)
            continue;
        if (!strcmp(t, "PRICE_FILTER"))
            rc = rule(out, sym, "tick_size", str_of(f, "tickSize"), "PRICE_FILTER.tickSize", err, cap);
        else if (!strcmp(t, "LOT_SIZE"))
            rc = rule(out, sym, "lot_step", str_of(f, "stepSize"), "LOT_SIZE.stepSize", err, cap) ||
                 rule(out, sym, "min_qty", str_of(f, "minQty"), "LOT_SIZE.minQty", err, cap);
        else if (!strcmp(t, "NOTIONAL") || !strcmp(t, "MIN_NOTIONAL"))
            rc = rule(out, sym, "min_notional", str_of(f, "minNotional"), "minNotional", err, cap);
        if (rc)
            return PT_EPARSE;
    }
    return PT_OK;
}

int feed_rules_parse_binance(const char *body, size_t len, const char *const *syms, size_t n,
                             pf_rules_set *out, char *err, size_t cap)
{
    cJSON *root = cJSON_ParseWithLength(body, len);
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "symbols"), *s;
    int rc = PT_OK;
    if (!cJSON_IsArray(arr)) {
        rc = venue_error(root, err, cap) ? PT_EINVAL : PT_EPARSE;
        if (rc == PT_EPARSE)
            snprintf(err, cap, "%s", root ? "no \"symbols\" array" : "not valid JSON");
        goto done;
    }
    cJSON_ArrayForEach(s, arr)
    {
        const char *sym = str_of(s, "symbol");
        if (wanted(sym, syms, n) && (rc = bn_filters(s, sym, out, err, cap)))
            goto done;
    }
    rc = all_found(out, syms, n, err, cap);
done:
    cJSON_Delete(root);
    return rc;
}

/* ------------------------------------------------------------- Bitvavo
 * GET /v2/markets (all markets; an array)
 * https://docs.bitvavo.com/docs/rest-api/get-markets
 * tickSize since API v2.12.0, which made pricePrecision null
 * (https://docs.bitvavo.com/releases/v2.12.0); quantityDecimals = the
 * amount's decimals (lot step 10^-quantityDecimals); minOrderInBaseAsset,
 * minOrderInQuoteAsset. An older answer's pricePrecision counts significant
 * digits, which is no fixed tick: no tick then (docs/rules.md). */
int feed_rules_url_bitvavo(const char *base, const char *const *syms, size_t n, char *buf, size_t cap)
{
    (void)syms, (void)n;
    return snprintf(buf, cap, "%s/v2/markets", base) < (int)cap ? PT_OK : PT_EFULL;
}

/* A count of decimals d (a JSON number 0..18) -> 10^-d as text ("1", "0.1",
 * "0.001"); 1 if v is such a number. */
static int pow10_text(const cJSON *v, char step[32])
{
    step[0] = '\0';
    if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 18 || v->valuedouble != (int)v->valuedouble)
        return 0;
    int d = (int)v->valuedouble, w = 0;
    if (d > 0)
        w = snprintf(step, 32, "0.");
    for (int i = 1; i < d; i++)
        step[w++] = '0';
    memcpy(step + w, "1", 2);
    return 1;
}

static int bv_market(const cJSON *m, const char *sym, pf_rules_set *out, char *err, size_t cap)
{
    char step[32];
    pow10_text(cJSON_GetObjectItemCaseSensitive(m, "quantityDecimals"), step);
    if (rule(out, sym, "tick_size", str_of(m, "tickSize"), "tickSize", err, cap) ||
        rule(out, sym, "lot_step", step[0] ? step : NULL, "quantityDecimals", err, cap) ||
        rule(out, sym, "min_qty", str_of(m, "minOrderInBaseAsset"), "minOrderInBaseAsset", err, cap) ||
        rule(out, sym, "min_notional", str_of(m, "minOrderInQuoteAsset"), "minOrderInQuoteAsset", err, cap))
        return PT_EPARSE;
    return PT_OK;
}

int feed_rules_parse_bitvavo(const char *body, size_t len, const char *const *syms, size_t n,
                             pf_rules_set *out, char *err, size_t cap)
{
    cJSON *root = cJSON_ParseWithLength(body, len);
    int rc = PT_OK;
    if (!cJSON_IsArray(root) && !str_of(root, "market")) { /* ?market=X answers one object */
        rc = venue_error(root, err, cap) ? PT_EINVAL : PT_EPARSE;
        if (rc == PT_EPARSE)
            snprintf(err, cap, "%s", root ? "not an array of markets" : "not valid JSON");
        goto done;
    }
    if (!cJSON_IsArray(root)) {
        if (wanted(str_of(root, "market"), syms, n))
            rc = bv_market(root, str_of(root, "market"), out, err, cap);
    } else {
        const cJSON *m;
        cJSON_ArrayForEach(m, root)
        {
            const char *sym = str_of(m, "market");
            if (wanted(sym, syms, n) && (rc = bv_market(m, sym, out, err, cap)))
                break;
        }
    }
    if (!rc)
        rc = all_found(out, syms, n, err, cap);
done:
    cJSON_Delete(root);
    return rc;
}

/* A venue envelope's error: Bybit retCode != 0 (retMsg), OKX code != "0"
 * (msg). 1 with the text in err. */
static int envelope_error(const cJSON *root, char *err, size_t cap)
{
    const cJSON *rc = cJSON_GetObjectItemCaseSensitive(root, "retCode");
    const char *okx = str_of(root, "code");
    if (cJSON_IsNumber(rc) && rc->valuedouble != 0) {
        snprintf(err, cap, "%s", str_of(root, "retMsg") ? str_of(root, "retMsg") : "retCode != 0");
        return 1;
    }
    if (okx && strcmp(okx, "0")) {
        snprintf(err, cap, "%s", str_of(root, "msg") && *str_of(root, "msg") ? str_of(root, "msg") : okx);
        return 1;
    }
    return 0;
}

/* One list of instrument objects -> rules, by the venue's field names. */
typedef struct inst_fields {
    const char *id, *tick, *step, *min_qty, *min_notional; /* "a.b" = object a's key b */
} inst_fields;

static const char *path_of(const cJSON *o, const char *path)
{
    const char *dot = strchr(path, '.');
    if (!dot)
        return str_of(o, path);
    char head[32];
    snprintf(head, sizeof head, "%.*s", (int)(dot - path), path);
    return str_of(cJSON_GetObjectItemCaseSensitive(o, head), dot + 1);
}

/* One instrument object, if wanted -> its record. */
static int instrument(const cJSON *it, const inst_fields *f, const char *const *syms, size_t n, pf_rules_set *out,
                      char *err, size_t cap)
{
    const char *sym = str_of(it, f->id);
    if (!wanted(sym, syms, n))
        return PT_OK;
    if (rule(out, sym, "tick_size", path_of(it, f->tick), f->tick, err, cap) ||
        rule(out, sym, "lot_step", path_of(it, f->step), f->step, err, cap) ||
        rule(out, sym, "min_qty", path_of(it, f->min_qty), f->min_qty, err, cap) ||
        (f->min_notional && rule(out, sym, "min_notional", path_of(it, f->min_notional), f->min_notional, err, cap)))
        return PT_EPARSE;
    return PT_OK;
}

static int instruments(const cJSON *list, const inst_fields *f, const char *const *syms, size_t n,
                       pf_rules_set *out, char *err, size_t cap)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, list)
    {
        if (instrument(it, f, syms, n, out, err, cap))
            return PT_EPARSE;
    }
    return all_found(out, syms, n, err, cap);
}

static int envelope_rules(const char *body, size_t len, const char *list_path, const inst_fields *f,
                          const char *const *syms, size_t n, pf_rules_set *out, char *err, size_t cap)
{
    cJSON *root = cJSON_ParseWithLength(body, len);
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(root, list_path);
    if (cJSON_IsObject(list)) /* Bybit: result.list */
        list = cJSON_GetObjectItemCaseSensitive(list, "list");
    int rc = PT_EPARSE;
    if (envelope_error(root, err, cap))
        rc = PT_EINVAL;
    else if (!cJSON_IsArray(list))
        snprintf(err, cap, "%s", root ? "no instrument list" : "not valid JSON");
    else
        rc = instruments(list, f, syms, n, out, err, cap);
    cJSON_Delete(root);
    return rc;
}

/* ------------------------------------------------------------- Bybit (spot)
 * GET /v5/market/instruments-info?category=spot[&symbol=X]
 * https://bybit-exchange.github.io/docs/v5/market/instrument :
 * result.list[].priceFilter.tickSize, lotSizeFilter.basePrecision (the
 * quantity step of spot), .minOrderQty, .minOrderAmt (quote). One symbol
 * per request names it; several ask for the whole spot list. */
int feed_rules_url_bybit(const char *base, const char *const *syms, size_t n, char *buf, size_t cap)
{
    int w = n == 1 ? snprintf(buf, cap, "%s/v5/market/instruments-info?category=spot&symbol=%s", base, syms[0])
                   : snprintf(buf, cap, "%s/v5/market/instruments-info?category=spot", base);
    return w < (int)cap ? PT_OK : PT_EFULL;
}

int feed_rules_parse_bybit(const char *body, size_t len, const char *const *syms, size_t n, pf_rules_set *out,
                           char *err, size_t cap)
{
    static const inst_fields f = {"symbol", "priceFilter.tickSize", "lotSizeFilter.basePrecision",
                                  "lotSizeFilter.minOrderQty", "lotSizeFilter.minOrderAmt"};
    return envelope_rules(body, len, "result", &f, syms, n, out, err, cap);
}

/* ------------------------------------------------------------- OKX (spot)
 * GET /api/v5/public/instruments?instType=SPOT[&instId=X]
 * https://www.okx.com/docs-v5/en/#public-data-rest-api-get-instruments :
 * data[].tickSz, lotSz, minSz; spot has no minimum order value field. */
int feed_rules_url_okx(const char *base, const char *const *syms, size_t n, char *buf, size_t cap)
{
    int w = n == 1 ? snprintf(buf, cap, "%s/api/v5/public/instruments?instType=SPOT&instId=%s", base, syms[0])
                   : snprintf(buf, cap, "%s/api/v5/public/instruments?instType=SPOT", base);
    return w < (int)cap ? PT_OK : PT_EFULL;
}

int feed_rules_parse_okx(const char *body, size_t len, const char *const *syms, size_t n, pf_rules_set *out,
                         char *err, size_t cap)
{
    static const inst_fields f = {"instId", "tickSz", "lotSz", "minSz", NULL};
    return envelope_rules(body, len, "data", &f, syms, n, out, err, cap);
}

/* ------------------------------------------------------------- Kraken (spot)
 * GET /0/public/AssetPairs?pair=BTC/USD,ETH/USD
 * https://docs.kraken.com/api/docs/rest-api/get-tradable-asset-pairs :
 * {"error":[],"result":{"<pair name>":{"altname","wsname","pair_decimals",
 * "lot_decimals","ordermin","costmin","tick_size","status",...}}}; errors in
 * "error" with HTTP 200 as for OHLC
 * (https://docs.kraken.com/exchange/guides/general/errors). tick_size, else
 * 10^-pair_decimals (an answer without tick_size); lot step 10^-lot_decimals;
 * ordermin (base), costmin (quote). Our "BTC-USD" is the pair whose wsname is
 * "BTC/USD", or whose key or altname is "BTCUSD", or, asked alone, the one
 * pair answered (Kraken keys some pairs by its own asset codes, "XXBTZUSD"
 * with wsname "XBT/USD":
 * https://support.kraken.com/hc/en-us/articles/360000920306-API-symbols-and-tickers). */
int feed_rules_url_kraken(const char *base, const char *const *syms, size_t n, char *buf, size_t cap)
{
    size_t w = (size_t)snprintf(buf, cap, "%s/0/public/AssetPairs?pair=", base);
    for (size_t i = 0; i < n && w < cap; i++) {
        if (i)
            w += (size_t)snprintf(buf + w, cap - w, ",");
        for (const char *p = syms[i]; *p && w < cap; p++) /* '/' percent-encoded, as for OHLC */
            w += *p == '-' || *p == '/' ? (size_t)snprintf(buf + w, cap - w, "%%2F")
                                        : (size_t)snprintf(buf + w, cap - w, "%c", *p);
    }
    return w < cap ? PT_OK : PT_EFULL;
}

/* Is the pair (key k, object o) our symbol sym? */
static int kr_is(const char *sym, const char *k, const cJSON *o)
{
    char wire[PT_SYMBOL_MAX], flat[PT_SYMBOL_MAX];
    size_t a = 0, b = 0;
    for (const char *p = sym; *p && a + 1 < sizeof wire; p++) {
        wire[a++] = *p == '-' ? '/' : *p;
        if (*p != '-' && *p != '/')
            flat[b++] = *p;
    }
    wire[a] = flat[b] = '\0';
    const char *ws = str_of(o, "wsname"), *alt = str_of(o, "altname");
    return (ws && !strcmp(ws, wire)) || (alt && !strcmp(alt, flat)) || !strcmp(k, flat) || !strcmp(k, sym);
}

static int kr_pair(const cJSON *o, const char *sym, pf_rules_set *out, char *err, size_t cap)
{
    char step[32], tick[32];
    const cJSON *ld = cJSON_GetObjectItemCaseSensitive(o, "lot_decimals");
    const cJSON *pd = cJSON_GetObjectItemCaseSensitive(o, "pair_decimals");
    if (!cJSON_IsObject(o) || (ld && !pow10_text(ld, step)) || (pd && !pow10_text(pd, tick))) {
        snprintf(err, cap, "%s: %s", sym, cJSON_IsObject(o) ? "lot_decimals / pair_decimals not an integer 0..18"
                                                            : "the pair is not an object");
        return PT_EPARSE;
    }
    const char *ts = str_of(o, "tick_size");
    if (rule(out, sym, "tick_size", ts ? ts : pd ? tick : NULL, ts ? "tick_size" : "pair_decimals", err, cap) ||
        rule(out, sym, "lot_step", ld ? step : NULL, "lot_decimals", err, cap) ||
        rule(out, sym, "min_qty", str_of(o, "ordermin"), "ordermin", err, cap) ||
        rule(out, sym, "min_notional", str_of(o, "costmin"), "costmin", err, cap))
        return PT_EPARSE;
    return PT_OK;
}

/* Kraken's "error" array: its strings joined in err; 1 if any. */
static int kr_error(const cJSON *errs, char *err, size_t cap)
{
    const cJSON *e;
    size_t w = 0;
    err[0] = '\0';
    cJSON_ArrayForEach(e, errs)
    {
        if (w < cap)
            w += (size_t)snprintf(err + w, cap - w, "%s%s", w ? "; " : "", cJSON_IsString(e) ? e->valuestring : "?");
    }
    return w > 0;
}

int feed_rules_parse_kraken(const char *body, size_t len, const char *const *syms, size_t n, pf_rules_set *out,
                            char *err, size_t cap)
{
    cJSON *root = cJSON_ParseWithLength(body, len);
    const cJSON *errs = cJSON_GetObjectItemCaseSensitive(root, "error");
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(root, "result"), *p;
    int rc = PT_EPARSE;
    if (cJSON_IsArray(errs) && kr_error(errs, err, cap))
        rc = PT_EINVAL;
    else if (!cJSON_IsArray(errs) || !cJSON_IsObject(res))
        snprintf(err, cap, "%s", !root ? "not valid JSON" : cJSON_IsArray(errs) ? "no \"result\" object" : "no \"error\" array");
    else {
        rc = PT_OK;
        int alone = n == 1 && cJSON_GetArraySize(res) == 1;
        cJSON_ArrayForEach(p, res)
        {
            for (size_t i = 0; i < n && !rc; i++)
                if (!pf_rules_find(out, syms[i]) && (alone || kr_is(syms[i], p->string, p)))
                    rc = kr_pair(p, syms[i], out, err, cap);
        }
        if (!rc)
            rc = all_found(out, syms, n, err, cap);
    }
    cJSON_Delete(root);
    return rc;
}

/* ------------------------------------------------------------- Coinbase
 * Advanced Trade, public (no auth). One product:
 * GET /api/v3/brokerage/market/products/{product_id} -> the product object
 * https://docs.cdp.coinbase.com/api-reference/advanced-trade-api/rest-api/public/get-public-product
 * several: GET /api/v3/brokerage/market/products?product_ids=A&product_ids=B
 * -> {"products":[...]}
 * https://docs.cdp.coinbase.com/api-reference/advanced-trade-api/rest-api/public/list-public-products
 * Strings: quote_increment (tick), base_increment (lot step), base_min_size,
 * quote_min_size. Errors: {"error":"NOT_FOUND","message":"..."}. */
int feed_rules_url_coinbase(const char *base, const char *const *syms, size_t n, char *buf, size_t cap)
{
    size_t w = (size_t)snprintf(buf, cap, "%s/api/v3/brokerage/market/products%s%s", base, n == 1 ? "/" : "",
                                n == 1 ? syms[0] : "");
    for (size_t i = 0; n > 1 && i < n && w < cap; i++)
        w += (size_t)snprintf(buf + w, cap - w, "%cproduct_ids=%s", i ? '&' : '?', syms[i]);
    return w < cap ? PT_OK : PT_EFULL;
}

int feed_rules_parse_coinbase(const char *body, size_t len, const char *const *syms, size_t n, pf_rules_set *out,
                              char *err, size_t cap)
{
    static const inst_fields f = {"product_id", "quote_increment", "base_increment", "base_min_size",
                                  "quote_min_size"};
    cJSON *root = cJSON_ParseWithLength(body, len);
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(root, "products");
    const char *msg = str_of(root, "message") ? str_of(root, "message") : str_of(root, "error");
    int rc = PT_EPARSE;
    if (cJSON_IsArray(list))
        rc = instruments(list, &f, syms, n, out, err, cap);
    else if (str_of(root, "product_id")) /* the one-product answer */
        rc = instrument(root, &f, syms, n, out, err, cap) ? PT_EPARSE : all_found(out, syms, n, err, cap);
    else if (cJSON_IsObject(root) && msg && str_of(root, "error"))
        snprintf(err, cap, "%s", msg), rc = PT_EINVAL;
    else
        snprintf(err, cap, "%s", root ? "no \"products\" array or product" : "not valid JSON");
    cJSON_Delete(root);
    return rc;
}
