/* feed: Binance spot adapter (primary), plus the JSON helpers every adapter
 * shares. Follows binance-spot-api-docs web-socket-streams.md (kline
 * payload, combined streams, serverShutdown) and rest-api.md (klines):
 * see /work/shared/notes/exchange-protocols.md section 1.
 *
 * cJSON facts that shape this file (notes section 7, robustness 5b):
 * trailing garbage is accepted unless checked (we check the parse end),
 * 1e999 becomes inf, valueint saturates (we never use it), duplicate keys
 * take the first occurrence (accepted, documented in docs/feed.md). */
#include "feed_live_internal.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------- shared helpers */
static const char *const drop_names[] = {
#define FEED_DROP_NAME_(name, text) text,
    FEED_DROP_MAP(FEED_DROP_NAME_)
#undef FEED_DROP_NAME_
};

const char *feed_drop_name(feed_drop_reason r)
{
    return (unsigned)r < FEED_DROP__COUNT ? drop_names[r] : "unknown";
}

void feed_drop(feed_parse_out *out, feed_drop_reason r, const char *fmt, ...)
{
    out->kind = FEED_MSG_DROP;
    out->reason = r;
    out->n = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->detail, sizeof out->detail, fmt, ap);
    va_end(ap);
}

cJSON *feed_json_parse(const char *msg, size_t len, feed_parse_out *out)
{
    memset(out, 0, sizeof *out);
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(msg, len, &end, 0);
    if (!root) {
        size_t at = end && end >= msg ? (size_t)(end - msg) : 0;
        feed_drop(out, FEED_DROP_INVALID_JSON, "invalid JSON near byte %zu", at);
        return NULL;
    }
    /* require_null_terminated semantics without needing a NUL inside len:
     * only whitespace may follow the value */
    for (const char *p = end; p && p < msg + len; p++) {
        if (!isspace((unsigned char)*p)) {
            cJSON_Delete(root);
            feed_drop(out, FEED_DROP_INVALID_JSON, "trailing garbage at byte %zu", (size_t)(p - msg));
            return NULL;
        }
    }
    return root;
}

/* 2000-01-01 .. 2100-01-01: anything else is a unit mix-up or garbage */
#define FEED_TIME_MIN 946684800000LL
#define FEED_TIME_MAX 4102444800000LL

int feed_json_time(const cJSON *it, int64_t *ms)
{
    int64_t v;
    if (cJSON_IsNumber(it)) {
        double d = it->valuedouble; /* exact to 2^53; never valueint (saturates) */
        if (!isfinite(d) || d != floor(d) || d < (double)FEED_TIME_MIN || d > (double)FEED_TIME_MAX)
            return PT_ERANGE;
        v = (int64_t)d;
    } else if (cJSON_IsString(it) && it->valuestring) {
        if (pt_parse_int64(it->valuestring, strlen(it->valuestring), &v, NULL))
            return PT_EPARSE;
        if (v < FEED_TIME_MIN || v > FEED_TIME_MAX)
            return PT_ERANGE;
    } else {
        return PT_EPARSE;
    }
    *ms = v;
    return PT_OK;
}

int feed_json_price(const cJSON *it, int allow_zero, double *v)
{
    /* prices are strings on the wire (both exchanges); a JSON number is not
     * the documented form and would hide float rounding, so it is refused */
    if (!cJSON_IsString(it) || !it->valuestring)
        return PT_EPARSE;
    if (pt_parse_decimal(it->valuestring, strlen(it->valuestring), v, NULL))
        return PT_EPARSE;
    if (!isfinite(*v) || *v < 0 || (!allow_zero && *v <= 0) || signbit(*v))
        return PT_ERANGE;
    return PT_OK;
}

int feed_candle_set_symbol(pt_candle *c, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n >= PT_SYMBOL_MAX)
        return PT_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '/')
            return PT_EINVAL;
    memcpy(c->symbol, s, n + 1);
    return PT_OK;
}

/* Fills o,h,l,c,v from five string items; names the bad field. */
static int fill_ohlcv(pt_candle *c, const cJSON *const it[5], feed_parse_out *out)
{
    static const char *const names[5] = {"open", "high", "low", "close", "volume"};
    double *dst[5] = {&c->open, &c->high, &c->low, &c->close, &c->volume};
    for (int i = 0; i < 5; i++) {
        int rc = feed_json_price(it[i], i == 4, dst[i]);
        if (rc) {
            feed_drop(out, FEED_DROP_BAD_NUMBER, "field %s: %s", names[i],
                      rc == PT_ERANGE ? "not finite and positive" : "not a decimal string");
            return rc;
        }
    }
    return PT_OK;
}

/* One REST/Bitvavo row [open_ms, "o","h","l","c","v", ...]. */
static int parse_row(const cJSON *row, const char *symbol, pt_candle *c, feed_parse_out *out)
{
    memset(c, 0, sizeof *c);
    if (!cJSON_IsArray(row) || cJSON_GetArraySize(row) < 6) {
        feed_drop(out, FEED_DROP_SCHEMA, "row is not an array of >= 6 items");
        return PT_EPARSE;
    }
    if (feed_json_time(cJSON_GetArrayItem(row, 0), &c->ts_ms)) {
        feed_drop(out, FEED_DROP_BAD_TIME, "field open_time: missing or out of range");
        return PT_EPARSE;
    }
    const cJSON *it[5];
    for (int i = 0; i < 5; i++)
        it[i] = cJSON_GetArrayItem(row, i + 1);
    if (fill_ohlcv(c, it, out))
        return PT_EPARSE;
    if (feed_candle_set_symbol(c, symbol)) {
        feed_drop(out, FEED_DROP_SCHEMA, "bad symbol");
        return PT_EPARSE;
    }
    c->closed = 1;
    return PT_OK;
}

int feed_adapter_parse_row(const cJSON *row, const char *symbol, pt_candle *c, feed_parse_out *out)
{
    return parse_row(row, symbol, c, out);
}

static int cmp_ts(const void *a, const void *b)
{
    int64_t x = ((const pt_candle *)a)->ts_ms, y = ((const pt_candle *)b)->ts_ms;
    return x < y ? -1 : x > y;
}

int feed_rest_parse_rows(const char *body, size_t len, const char *symbol, pt_candle *out, size_t cap,
                         size_t *n, uint64_t drops[FEED_DROP__COUNT])
{
    feed_parse_out po;
    *n = 0;
    cJSON *root = feed_json_parse(body, len, &po);
    if (!root) {
        drops[po.reason]++;
        pt_warn("feed: REST %s: %s", symbol, po.detail);
        return PT_EPARSE;
    }
    int rc = PT_OK;
    if (!cJSON_IsArray(root)) {
        drops[FEED_DROP_SCHEMA]++;
        pt_warn("feed: REST %s: body is not a JSON array", symbol);
        rc = PT_EPARSE;
        goto out;
    }
    size_t k = 0, row_no = 0;
    const cJSON *row;
    cJSON_ArrayForEach(row, root)
    {
        row_no++;
        if (k >= cap) {
            pt_warn("feed: REST %s: more than %zu rows", symbol, cap);
            rc = PT_EFULL;
            goto out;
        }
        if (parse_row(row, symbol, &out[k], &po)) {
            drops[po.reason]++;
            pt_warn("feed: REST %s row %zu dropped: %s", symbol, row_no, po.detail);
            continue;
        }
        k++;
    }
    /* exchanges differ in order (Bitvavo newest first) and rows may overlap:
     * normalise to ascending and unique by open time (first kept) */
    qsort(out, k, sizeof *out, cmp_ts);
    size_t w = 0;
    for (size_t i = 0; i < k; i++)
        if (w == 0 || out[i].ts_ms != out[w - 1].ts_ms)
            out[w++] = out[i];
    *n = w;
out:
    cJSON_Delete(root);
    return rc;
}

int feed_interval_lookup(const ival_name *table, size_t n, int64_t ms, char *buf, size_t cap)
{
    const ival_name *t = table;
    for (size_t i = 0; i < n; i++) {
        if (t[i].ms == ms) {
            int w = snprintf(buf, cap, "%s", t[i].name);
            return w < 0 || (size_t)w >= cap ? PT_EFULL : PT_OK;
        }
    }
    return PT_EUNSUPPORTED;
}

const feed_adapter *feed_adapter_find(const char *name)
{
    static const feed_adapter *const all[] = {&feed_adapter_binance, &feed_adapter_bitvavo};
    for (size_t i = 0; name && i < sizeof all / sizeof all[0]; i++)
        if (!strcmp(all[i]->name, name))
            return all[i];
    return NULL;
}

/* ------------------------------------------------------------- Binance */
#define M 60000LL
static const ival_name bn_ivals[] = {
    {1000, "1s"},     {M, "1m"},           {3 * M, "3m"},       {5 * M, "5m"},   {15 * M, "15m"},
    {30 * M, "30m"},  {60 * M, "1h"},      {120 * M, "2h"},     {240 * M, "4h"}, {360 * M, "6h"},
    {480 * M, "8h"},  {720 * M, "12h"},    {1440 * M, "1d"},    {4320 * M, "3d"}, {10080 * M, "1w"},
};

static int bn_interval(int64_t ms, char *buf, size_t cap)
{
    return feed_interval_lookup(bn_ivals, sizeof bn_ivals / sizeof bn_ivals[0], ms, buf, cap);
}

static int bn_ws_path(const char *const *syms, size_t n, int64_t interval_ms, char *buf, size_t cap)
{
    char iv[8];
    int rc = bn_interval(interval_ms, iv, sizeof iv);
    if (rc)
        return rc;
    /* combined stream: one connection for many symbols, each event wrapped
     * in {"stream":..,"data":..} (web-socket-streams.md) */
    size_t w = (size_t)snprintf(buf, cap, "/stream?streams=");
    for (size_t i = 0; i < n; i++) {
        pt_candle probe;
        if (feed_candle_set_symbol(&probe, syms[i]))
            return PT_EINVAL;
        if (w + strlen(syms[i]) + strlen(iv) + 10 >= cap)
            return PT_EFULL;
        if (i)
            buf[w++] = '/';
        for (const char *p = syms[i]; *p; p++)
            buf[w++] = (char)tolower((unsigned char)*p); /* stream names are lowercase */
        w += (size_t)snprintf(buf + w, cap - w, "@kline_%s", iv);
    }
    return PT_OK;
}

static int bn_subscribe(const char *const *syms, size_t n, int64_t interval_ms, char *buf, size_t cap,
                        size_t *len)
{
    (void)syms, (void)n, (void)interval_ms, (void)buf, (void)cap;
    *len = 0; /* streams are named in the URL */
    return PT_OK;
}

static void bn_parse_kline(const cJSON *ev, int64_t interval_ms, feed_parse_out *out)
{
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(ev, "k");
    if (!cJSON_IsObject(k)) {
        feed_drop(out, FEED_DROP_SCHEMA, "kline without object k");
        return;
    }
    const cJSON *E = cJSON_GetObjectItemCaseSensitive(ev, "E");
    if (E && feed_json_time(E, &out->event_ms)) {
        feed_drop(out, FEED_DROP_BAD_TIME, "field E: not a time");
        return;
    }
    pt_candle *c = &out->candles[0];
    memset(c, 0, sizeof *c);
    if (feed_json_time(cJSON_GetObjectItemCaseSensitive(k, "t"), &c->ts_ms)) {
        feed_drop(out, FEED_DROP_BAD_TIME, "field k.t: missing or out of range");
        return;
    }
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(k, "s");
    if (!cJSON_IsString(s) || feed_candle_set_symbol(c, s->valuestring)) {
        feed_drop(out, FEED_DROP_SCHEMA, "field k.s: missing or not a symbol");
        return;
    }
    const cJSON *i = cJSON_GetObjectItemCaseSensitive(k, "i");
    char want[8];
    if (!cJSON_IsString(i) || bn_interval(interval_ms, want, sizeof want) || strcmp(want, i->valuestring)) {
        feed_drop(out, FEED_DROP_WRONG_INTERVAL, "field k.i: not the subscribed interval");
        return;
    }
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(k, "x");
    if (!cJSON_IsBool(x)) {
        feed_drop(out, FEED_DROP_SCHEMA, "field k.x: missing or not a boolean");
        return;
    }
    const cJSON *it[5] = {cJSON_GetObjectItemCaseSensitive(k, "o"), cJSON_GetObjectItemCaseSensitive(k, "h"),
                          cJSON_GetObjectItemCaseSensitive(k, "l"), cJSON_GetObjectItemCaseSensitive(k, "c"),
                          cJSON_GetObjectItemCaseSensitive(k, "v")};
    if (fill_ohlcv(c, it, out))
        return;
    c->closed = cJSON_IsTrue(x) ? 1 : 0;
    out->kind = FEED_MSG_CANDLE;
    out->n = 1;
}

static void bn_parse(const char *msg, size_t len, int64_t interval_ms, feed_parse_out *out)
{
    cJSON *root = feed_json_parse(msg, len, out);
    if (!root)
        return;
    const cJSON *ev = root;
    if (!cJSON_IsObject(root)) {
        feed_drop(out, FEED_DROP_SCHEMA, "message is not an object");
        goto done;
    }
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(root, "error");
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(root, "code");
    if (err || code) {
        /* nested {"error":{"code","msg"}} on the wire, flat in the doc table */
        const cJSON *src = cJSON_IsObject(err) ? err : root;
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(src, "msg");
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(src, "code");
        feed_drop(out, FEED_DROP_EXCHANGE_ERROR, "exchange error %g: %.80s",
                  cJSON_IsNumber(c) ? c->valuedouble : 0.0, cJSON_IsString(m) ? m->valuestring : "?");
        goto done;
    }
    if (cJSON_GetObjectItemCaseSensitive(root, "result") && cJSON_GetObjectItemCaseSensitive(root, "id")) {
        out->kind = FEED_MSG_ACK;
        goto done;
    }
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data");
    if (cJSON_GetObjectItemCaseSensitive(root, "stream")) {
        if (!cJSON_IsObject(data)) {
            feed_drop(out, FEED_DROP_SCHEMA, "combined stream without object data");
            goto done;
        }
        ev = data;
    }
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(ev, "e");
    if (!cJSON_IsString(e)) {
        feed_drop(out, FEED_DROP_SCHEMA, "field e: missing event type");
        goto done;
    }
    if (!strcmp(e->valuestring, "kline"))
        bn_parse_kline(ev, interval_ms, out);
    else if (!strcmp(e->valuestring, "serverShutdown"))
        out->kind = FEED_MSG_SHUTDOWN;
    else
        out->kind = FEED_MSG_IGNORE;
done:
    cJSON_Delete(root);
}

static int bn_rest_url(const char *base, const char *symbol, int64_t interval_ms, int64_t start_ms,
                       int64_t end_ms, int limit, char *buf, size_t cap)
{
    char iv[8];
    pt_candle probe;
    int rc = bn_interval(interval_ms, iv, sizeof iv);
    if (rc)
        return rc;
    if (feed_candle_set_symbol(&probe, symbol))
        return PT_EINVAL;
    /* rest-api.md: symbol UPPERCASE, interval case-sensitive, limit <= 1000 */
    char up[PT_SYMBOL_MAX];
    size_t n = strlen(symbol);
    for (size_t i = 0; i <= n; i++)
        up[i] = (char)toupper((unsigned char)symbol[i]);
    int w = snprintf(buf, cap, "%s/api/v3/klines?symbol=%s&interval=%s&startTime=%lld&endTime=%lld&limit=%d",
                     base, up, iv, (long long)start_ms, (long long)end_ms, limit);
    return w < 0 || (size_t)w >= cap ? PT_EFULL : PT_OK;
}

const feed_adapter feed_adapter_binance = {
    .name = "binance",
    .ws_url = "wss://stream.binance.com:9443",
    .rest_url = "https://api.binance.com",
    .has_closed_flag = 1,
    .rest_max_limit = 1000,
    .update_period_ms = 2000,
    .interval_name = bn_interval,
    .ws_path = bn_ws_path,
    .subscribe = bn_subscribe,
    .parse = bn_parse,
    .rest_url_for = bn_rest_url,
};
