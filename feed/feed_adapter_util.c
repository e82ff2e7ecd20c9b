/* feed: the helpers every exchange adapter shares (feed_adapter_binance.c,
 * feed_adapter_bitvavo.c): drop reasons, strict JSON parsing, time and price
 * fields, REST kline rows, interval names, the adapter table.
 *
 * cJSON facts that shape these (docs/feed.md): trailing garbage is accepted
 * unless checked (we check the parse end), 1e999 becomes inf, valueint
 * saturates (we never use it), duplicate keys take the first occurrence
 * (accepted, documented in docs/feed.md). */
#include "feed_live_internal.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int feed_symbol_upper(const char *sym, int dash, char *out, size_t cap)
{
    pt_candle probe;
    size_t n = sym ? strlen(sym) : 0;
    const char *d = sym ? strchr(sym, '-') : NULL;
    if (feed_candle_set_symbol(&probe, sym) || n >= cap || strpbrk(sym, dash ? "_/" : "-_/"))
        return PT_EINVAL;
    if (dash && (!d || d == sym || !d[1]))
        return PT_EINVAL;
    for (size_t i = 0; i <= n; i++)
        out[i] = (char)toupper((unsigned char)sym[i]);
    return PT_OK;
}

/* Fills o,h,l,c,v from five string items; names the bad field. */
int feed_fill_ohlcv(pt_candle *c, const cJSON *const it[5], feed_parse_out *out)
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

/* One REST/Bitvavo row [open_ms, "o","h","l","c","v", ...]; no_volume:
 * the volume column is ignored and 0 (mark-price klines). */
static int parse_row(const cJSON *row, const char *symbol, int no_volume, pt_candle *c, feed_parse_out *out)
{
    static char zero_txt[] = "0";
    cJSON zero;
    memset(&zero, 0, sizeof zero);
    zero.type = cJSON_String;
    zero.valuestring = zero_txt;
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
        it[i] = i == 4 && no_volume ? &zero : cJSON_GetArrayItem(row, i + 1);
    if (feed_fill_ohlcv(c, it, out))
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
    return parse_row(row, symbol, 0, c, out);
}

int feed_adapter_parse_mark_row(const cJSON *row, const char *symbol, pt_candle *c, feed_parse_out *out)
{
    return parse_row(row, symbol, 1, c, out);
}

static int cmp_ts(const void *a, const void *b)
{
    int64_t x = ((const pt_candle *)a)->ts_ms, y = ((const pt_candle *)b)->ts_ms;
    return x < y ? -1 : x > y;
}

/* exchanges differ in order (Bitvavo newest first) and rows may overlap:
 * normalise to ascending and unique by open time (first kept) */
size_t feed_rest_rows_normalise(pt_candle *out, size_t k)
{
    qsort(out, k, sizeof *out, cmp_ts);
    size_t w = 0;
    for (size_t i = 0; i < k; i++)
        if (w == 0 || out[i].ts_ms != out[w - 1].ts_ms)
            out[w++] = out[i];
    return w;
}

int feed_rest_rows(const cJSON *arr, const char *symbol, pt_candle *out, size_t cap, size_t *n,
                   uint64_t drops[FEED_DROP__COUNT])
{
    return feed_rest_rows_with(arr, symbol, feed_adapter_parse_row, out, cap, n, drops);
}

int feed_rest_rows_with(const cJSON *arr, const char *symbol, feed_row_fn row_fn, pt_candle *out, size_t cap,
                        size_t *n, uint64_t drops[FEED_DROP__COUNT])
{
    feed_parse_out po;
    *n = 0;
    if (!cJSON_IsArray(arr)) {
        drops[FEED_DROP_SCHEMA]++;
        pt_warn("feed: REST %s: body is not a JSON array", symbol);
        return PT_EPARSE;
    }
    size_t k = 0, row_no = 0;
    const cJSON *row;
    cJSON_ArrayForEach(row, arr)
    {
        row_no++;
        if (k >= cap) {
            pt_warn("feed: REST %s: more than %zu rows", symbol, cap);
            return PT_EFULL;
        }
        if (row_fn(row, symbol, &out[k], &po)) {
            drops[po.reason]++;
            pt_warn("feed: REST %s row %zu dropped: %s", symbol, row_no, po.detail);
            continue;
        }
        k++;
    }
    *n = feed_rest_rows_normalise(out, k);
    return PT_OK;
}

cJSON *feed_rest_json(const char *body, size_t len, const char *symbol, uint64_t drops[FEED_DROP__COUNT])
{
    feed_parse_out po;
    cJSON *root = feed_json_parse(body, len, &po);
    if (!root) {
        drops[po.reason]++;
        pt_warn("feed: REST %s: %s", symbol, po.detail);
    }
    return root;
}

int feed_rest_parse_rows(const char *body, size_t len, const char *symbol, pt_candle *out, size_t cap,
                         size_t *n, uint64_t drops[FEED_DROP__COUNT])
{
    *n = 0;
    cJSON *root = feed_rest_json(body, len, symbol, drops);
    if (!root)
        return PT_EPARSE;
    int rc = feed_rest_rows(root, symbol, out, cap, n, drops);
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

/* the registry: every adapter, in the order `papertrader exchanges` lists them */
static const feed_adapter *const all[] = {&feed_adapter_binance, &feed_adapter_bitvavo, &feed_adapter_bybit, &feed_adapter_okx, &feed_adapter_kraken, &feed_adapter_coinbase,
                                         &feed_adapter_bybit_linear, &feed_adapter_kucoin, &feed_adapter_binance_futures};
#define N_ADAPTERS (sizeof all / sizeof all[0])

const feed_adapter *feed_adapter_at(size_t i)
{
    return i < N_ADAPTERS ? all[i] : NULL;
}

const feed_adapter *feed_adapter_find(const char *name)
{
    for (size_t i = 0; name && i < N_ADAPTERS; i++)
        if (!strcmp(all[i]->name, name))
            return all[i];
    return NULL;
}

void feed_symbol_local(const char *exchange, char *sym)
{
    const feed_adapter *a = feed_adapter_find(exchange);
    for (char *p = sym; a && a->venue_sep && *p; p++)
        if (*p == a->venue_sep)
            *p = '-';
}

const char *feed_adapter_names(void)
{
    static char names[256];
    if (!names[0])
        for (size_t i = 0, w = 0; i < N_ADAPTERS && w < sizeof names; i++)
            w += (size_t)snprintf(names + w, sizeof names - w, "%s%s", i ? ", " : "", all[i]->name);
    return names;
}

/* candidate bar lengths probed through each adapter's interval_name */
static const int64_t probe_ms[] = {1000, 60000, 180000, 300000, 900000, 1800000, 3600000, 7200000, 14400000,
                                   21600000, 28800000, 43200000, 86400000, 259200000, 604800000, 1296000000};

int feed_venue_at(size_t i, feed_venue *out)
{
    if (i >= N_ADAPTERS)
        return PT_EOF;
    const feed_adapter *a = all[i];
    char iv[16];
    memset(out, 0, sizeof *out);
    out->name = a->name, out->ws_url = a->ws_url, out->rest_url = a->rest_url, out->market = a->market;
    out->finality = a->finality, out->closed_flag = a->has_closed_flag, out->history_bars = a->history_bars;
    out->rest_page = a->rest_max_limit, out->live_interval_ms = a->ws_interval_ms;
    for (size_t k = 0; k < sizeof probe_ms / sizeof probe_ms[0] && out->n_intervals < FEED_VENUE_MAX_IVALS; k++)
        if (!a->interval_name(probe_ms[k], iv, sizeof iv))
            out->intervals_ms[out->n_intervals++] = probe_ms[k];
    return PT_OK;
}

int feed_exchange_is_perp(const char *name)
{
    const feed_adapter *ad = feed_adapter_find(name);
    return ad && ad->perp;
}

int feed_check_market(const char *exchange, const char *market, char *why, size_t cap)
{
    if (market && !strcmp(market, "spot"))
        return PT_OK;
    if (!market || strcmp(market, "perp")) {
        snprintf(why, cap, "--market '%s': spot or perp", market ? market : "");
        return PT_EINVAL;
    }
    if (feed_exchange_is_perp(exchange))
        return PT_OK;
    snprintf(why, cap, "--market perp needs a perpetual-futures exchange (binance-futures); '%s' is %s",
             exchange ? exchange : "", feed_adapter_find(exchange) ? "spot only" : "not an exchange");
    return PT_EINVAL;
}
