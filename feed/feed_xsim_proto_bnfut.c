/* feed: the exchange simulator's Binance USD-M futures side -- the mark
 * price stream with funding, and the /fapi REST endpoints -- as documented
 * under https://developers.binance.com/docs/derivatives/usds-margined-futures/
 * (websocket-market-streams/Mark-Price-Stream; market-data/rest-api/
 * Kline-Candlestick-Data, Mark-Price-Kline-Candlestick-Data,
 * Get-Funding-Rate-History, Mark-Price, Exchange-Information). The kline
 * stream and the envelope are spot's (feed_xsim_proto.c).
 *
 * The synthetic perpetual: the mark is the trade price of the bar state at
 * that moment times (1 + a premium fixed per bar, within +-0.1 %); funding
 * times every `every` (default 8 h) from 00:00 UTC; the rate of funding time
 * T is `rate` when given, else a pure function of seed, symbol and T in
 * [-0.0002, 0.0004] (8 decimals, as the venue shows). A mark update goes out
 * every simulated second: to @markPrice@1s streams each time, to @markPrice
 * (3 s) when E is a multiple of 3000. Faults: malformed and dup roll for
 * marks too; the connection and REST faults are the shared ones. */
#include "feed_xsim_internal.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BNF_KLINE_MAX 1500   /* Kline-Candlestick-Data: max 1500 */
#define BNF_FUNDING_MAX 1000 /* Get-Funding-Rate-History: max 1000, default 100 */
#define BNF_MARKS_PER_TICK 512

int feed_xsim_funding_parse(feed_xsim *x, const char *spec, char *why, size_t cap)
{
    x->funding_ms = 8 * 3600000LL;
    x->funding_fixed = 0;
    char buf[128];
    snprintf(buf, sizeof buf, "%s", spec ? spec : "");
    char *save = NULL;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        const char *v = strchr(t, '=');
        if (v && !strncmp(t, "every=", 6)) {
            if (pt_interval_parse(v + 1, &x->funding_ms) || x->funding_ms < 60000 || x->funding_ms > 86400000 ||
                86400000 % x->funding_ms) {
                snprintf(why, cap, "every=%s: a period from 1m to 24h that divides a day", v + 1);
                return PT_EINVAL;
            }
        } else if (v && !strncmp(t, "rate=", 5)) {
            if (pt_parse_decimal(v + 1, strlen(v + 1), &x->funding_rate, NULL) || !isfinite(x->funding_rate) ||
                fabs(x->funding_rate) >= 0.1) {
                snprintf(why, cap, "rate=%s: a decimal in (-0.1, 0.1)", v + 1);
                return PT_EINVAL;
            }
            x->funding_fixed = 1;
        } else {
            snprintf(why, cap, "'%s': expected every=DUR or rate=R", t);
            return PT_EINVAL;
        }
    }
    return PT_OK;
}

static double premium(const feed_xsim *x, size_t s, int64_t bar_ts)
{
    return (feed_xsim_u01(x->seed, feed_xsim_hash_str(x->series[s].sym), (uint64_t)bar_ts, 0x3a11) - 0.5) * 0.002;
}

void feed_xsim_mark_bar(const feed_xsim *x, size_t s, const feed_xsim_bar *b, feed_xsim_bar *out)
{
    double k = 1 + premium(x, s, b->ts_ms);
    memset(out, 0, sizeof *out);
    out->ts_ms = b->ts_ms;
    out->o = b->o * k, out->h = b->h * k, out->l = b->l * k, out->c = b->c * k;
    out->first_id = out->last_id = -1;
}

/* the mark at sim time t: the bar state then, as mark; PT_EOF past the data */
static int mark_at(const feed_xsim *x, size_t s, int64_t t, double *mark, double *index)
{
    feed_xsim_bar fin, st;
    if (x->market->at_or_before(x, s, t, &fin) || feed_xsim_state_at(x, s, &fin, t, &st))
        return PT_EOF;
    *index = st.c;
    *mark = st.c * (1 + premium(x, s, fin.ts_ms));
    return PT_OK;
}

static int64_t next_funding(const feed_xsim *x, int64_t e) { return (e / x->funding_ms + 1) * x->funding_ms; }

static double rate_of(const feed_xsim *x, size_t s, int64_t T)
{
    if (x->funding_fixed)
        return x->funding_rate;
    double u = feed_xsim_u01(x->seed, feed_xsim_hash_str(x->series[s].sym), (uint64_t)T, 0xf0d1);
    return round((0.0001 + (u - 0.5) * 0.0006) * 1e8) / 1e8;
}

/* Mark-Price-Stream payload at event time e */
static int mark_event(const feed_xsim *x, size_t s, int64_t e, char *buf, size_t cap)
{
    double mark, index;
    if (mark_at(x, s, e, &mark, &index))
        return -1;
    char p[32], i[32];
    feed_xsim_num(mark, 0, p, sizeof p);
    feed_xsim_num(index, 0, i, sizeof i);
    int64_t T = next_funding(x, e);
    return snprintf(buf, cap, "{\"e\":\"markPriceUpdate\",\"E\":%lld,\"s\":\"%s\",\"p\":\"%s\",\"P\":\"%s\",\"i\":\"%s\","
                    "\"r\":\"%.8f\",\"T\":%lld}", (long long)e, x->series[s].sym, p, p, i, rate_of(x, s, T),
                    (long long)T);
}

static void send_mark(feed_xsim *x, size_t s, int64_t e)
{
    int n = mark_event(x, s, e, x->scratch, XS_OVERSIZE);
    if (n <= 0)
        return;
    uint64_t key = feed_xsim_hash_str(x->series[s].sym) ^ 0x3a11;
    int kinds[2] = {XS_KIND_MARK_1S, e % 3000 == 0 ? XS_KIND_MARK_3S : -1};
    if (feed_xsim_roll(x, FEED_XSIM_F_MALFORMED, key, (uint64_t)e)) {
        feed_xsim_count_fault(x, FEED_XSIM_F_MALFORMED, "%s mark %lld: truncated JSON", x->series[s].sym, (long long)e);
        feed_xsim_fanout(x, s, XS_KIND_MARK_1S, x->scratch, (size_t)n / 2);
    }
    for (int k = 0; k < 2; k++)
        if (kinds[k] >= 0)
            feed_xsim_fanout(x, s, kinds[k], x->scratch, (size_t)n);
    if (feed_xsim_roll(x, FEED_XSIM_F_DUP, key, (uint64_t)e)) {
        feed_xsim_count_fault(x, FEED_XSIM_F_DUP, "%s mark %lld sent again", x->series[s].sym, (long long)e);
        feed_xsim_fanout(x, s, XS_KIND_MARK_1S, x->scratch, (size_t)n);
    }
    x->st.marks_sent++;
}

int64_t feed_xsim_bnf_tick(feed_xsim *x, int64_t now)
{
    int64_t next = INT64_MAX;
    for (size_t s = 0; s < x->n_series; s++) {
        xs_series *se = &x->series[s];
        if (now - se->mark_next > 1000LL * BNF_MARKS_PER_TICK)
            se->mark_next = now - now % 1000; /* far behind (a stalled loop): stale marks are useless */
        for (int budget = BNF_MARKS_PER_TICK; se->live && se->mark_next <= now && budget > 0; budget--) {
            send_mark(x, s, se->mark_next);
            se->mark_next += 1000;
        }
        if (se->live && se->mark_next < next)
            next = se->mark_next;
    }
    return next;
}

/* ------------------------------------------------------------ REST */
static int bnf_error(int *status, char **body, size_t *len, int code, const char *msg)
{
    char t[256];
    *status = 400;
    snprintf(t, sizeof t, "{\"code\":%d,\"msg\":\"%s\"}", code, msg);
    return feed_xsim_body(body, len, t);
}

/* series of ?symbol=, or an error body (mandatory here: see docs/exchange-sim.md) */
static int bnf_symbol(feed_xsim *x, struct lws *wsi, int *status, char **body, size_t *len)
{
    char sym[64];
    if (!feed_xsim_arg(wsi, "symbol", sym, sizeof sym)) {
        bnf_error(status, body, len, -1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.");
        return -1;
    }
    int s = feed_xsim_find_series(x, sym, 0);
    if (s < 0)
        bnf_error(status, body, len, -1121, "Invalid symbol.");
    return s;
}

/* Get-Funding-Rate-History: settlements T <= now in [startTime, endTime]
 * (inclusive), the first `limit` from startTime; without startTime the most
 * recent `limit` up to endTime; ascending */
static int bnf_funding(feed_xsim *x, struct lws *wsi, int *status, char **body, size_t *len)
{
    int s = bnf_symbol(x, wsi, status, body, len);
    if (s < 0)
        return PT_OK;
    int64_t start = 0, end = INT64_MAX, limit = 100, now = feed_xsim_sim_now(x), P = x->funding_ms;
    int a = feed_xsim_arg_int(wsi, "startTime", &start), b = feed_xsim_arg_int(wsi, "endTime", &end);
    int l = feed_xsim_arg_int(wsi, "limit", &limit);
    if (a < 0 || b < 0 || l < 0 || limit < 1)
        return bnf_error(status, body, len, -1100, "Illegal characters found in a parameter.");
    limit = limit > BNF_FUNDING_MAX ? BNF_FUNDING_MAX : limit;
    if (end > now)
        end = now;
    int64_t first = a ? (start + P - 1) / P * P : (end / P - limit + 1) * P;
    if (first < P)
        first = P;
    char *out = malloc((size_t)limit * 160 + 8);
    if (!out)
        return PT_ENOMEM;
    size_t w = 0;
    int64_t n = 0;
    out[w++] = '[';
    for (int64_t T = first; T <= end && n < limit; T += P) {
        double mark, index;
        char mp[32] = "";
        if (mark_at(x, (size_t)s, T, &mark, &index))
            continue; /* before the CSV's first bar: no mark, no settlement */
        feed_xsim_num(mark, 0, mp, sizeof mp);
        w += (size_t)snprintf(out + w, 160, "%s{\"symbol\":\"%s\",\"fundingRate\":\"%.8f\",\"fundingTime\":%lld,"
                              "\"markPrice\":\"%s\"}", n ? "," : "", x->series[s].sym, rate_of(x, (size_t)s, T),
                              (long long)T, mp);
        n++;
    }
    out[w++] = ']';
    out[w] = 0;
    *status = 200;
    *body = out;
    *len = w;
    return PT_OK;
}

/* Mark-Price (premiumIndex) of series s at sim time now into o */
static void bnf_premium_obj(feed_xsim *x, size_t s, int64_t now, cJSON *o)
{
    double mark = 0, index = 0;
    char p[32], i[32], r[16];
    mark_at(x, s, now, &mark, &index);
    feed_xsim_num(mark, 0, p, sizeof p);
    feed_xsim_num(index, 0, i, sizeof i);
    int64_t T = next_funding(x, now);
    snprintf(r, sizeof r, "%.8f", rate_of(x, s, T));
    cJSON_AddStringToObject(o, "symbol", x->series[s].sym);
    cJSON_AddStringToObject(o, "markPrice", p);
    cJSON_AddStringToObject(o, "indexPrice", i);
    cJSON_AddStringToObject(o, "estimatedSettlePrice", p);
    cJSON_AddStringToObject(o, "lastFundingRate", r);
    cJSON_AddNumberToObject(o, "nextFundingTime", (double)T);
    cJSON_AddStringToObject(o, "interestRate", "0.00010000");
    cJSON_AddNumberToObject(o, "time", (double)now);
}

static int bnf_json(cJSON *o, int *status, char **body, size_t *len)
{
    char *t = o ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    if (!t)
        return PT_ENOMEM;
    *status = 200;
    *body = t;
    *len = strlen(t);
    return PT_OK;
}

static int bnf_premium(feed_xsim *x, struct lws *wsi, int *status, char **body, size_t *len)
{
    char sym[64];
    int64_t now = feed_xsim_sim_now(x);
    if (feed_xsim_arg(wsi, "symbol", sym, sizeof sym)) { /* one object, else an array of all */
        int s = bnf_symbol(x, wsi, status, body, len);
        if (s < 0)
            return PT_OK;
        cJSON *o = cJSON_CreateObject();
        bnf_premium_obj(x, (size_t)s, now, o);
        return bnf_json(o, status, body, len);
    }
    cJSON *arr = cJSON_CreateArray();
    for (size_t s = 0; s < x->n_series; s++) {
        cJSON *o = cJSON_CreateObject();
        bnf_premium_obj(x, s, now, o);
        cJSON_AddItemToArray(arr, o);
    }
    return bnf_json(arr, status, body, len);
}

/* Exchange-Information: the fields a client of perpetuals reads */
static int bnf_info(feed_xsim *x, int *status, char **body, size_t *len)
{
    cJSON *o = cJSON_CreateObject(), *syms;
    cJSON_AddStringToObject(o, "timezone", "UTC");
    cJSON_AddNumberToObject(o, "serverTime", (double)feed_xsim_sim_now(x));
    cJSON_AddArrayToObject(o, "exchangeFilters");
    syms = cJSON_AddArrayToObject(o, "symbols");
    for (size_t s = 0; s < x->n_series; s++) {
        const char *sym = x->series[s].sym;
        size_t n = strlen(sym);
        int usdt = n > 4 && !strcmp(sym + n - 4, "USDT");
        char base[PT_SYMBOL_MAX];
        snprintf(base, sizeof base, "%.*s", (int)(usdt ? n - 4 : n), sym);
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "symbol", sym);
        cJSON_AddStringToObject(e, "pair", sym);
        cJSON_AddStringToObject(e, "contractType", "PERPETUAL");
        cJSON_AddNumberToObject(e, "deliveryDate", 4133404800000.0);
        cJSON_AddStringToObject(e, "status", "TRADING");
        cJSON_AddStringToObject(e, "baseAsset", base);
        cJSON_AddStringToObject(e, "quoteAsset", usdt ? "USDT" : "?");
        cJSON_AddStringToObject(e, "marginAsset", usdt ? "USDT" : "?");
        cJSON_AddNumberToObject(e, "pricePrecision", 8);
        cJSON_AddArrayToObject(e, "filters");
        cJSON_AddItemToArray(syms, e);
    }
    return bnf_json(o, status, body, len);
}

int feed_xsim_bnf_rest(feed_xsim *x, struct lws *wsi, const char *uri, int *status, char **body, size_t *len,
                       char *hdrs, size_t hcap)
{
    int kl = !strcmp(uri, "/fapi/v1/klines"), mk = !strcmp(uri, "/fapi/v1/markPriceKlines");
    if (kl || mk)
        return feed_xsim_bn_klines(x, wsi, BNF_KLINE_MAX, mk, status, body, len, hdrs, hcap);
    int fr = !strcmp(uri, "/fapi/v1/fundingRate"), pi = !strcmp(uri, "/fapi/v1/premiumIndex");
    int ei = !strcmp(uri, "/fapi/v1/exchangeInfo");
    if (!fr && !pi && !ei)
        return PT_ENOENT; /* leverageBracket & co are signed (USER_DATA): not simulated */
    int f = feed_xsim_rest_fault(x, status, hdrs, hcap);
    if (f >= 0) /* the same refusal texts as spot's Binance (feed_xsim_proto.c) */
        return feed_xsim_body(body, len, f == FEED_XSIM_F_HTTP418
                                             ? "{\"code\":-1003,\"msg\":\"Way too much request weight used; IP banned.\"}"
                                             : "{\"code\":-1003,\"msg\":\"Too much request weight used.\"}");
    return fr ? bnf_funding(x, wsi, status, body, len) : pi ? bnf_premium(x, wsi, status, body, len)
                                                            : bnf_info(x, status, body, len);
}
