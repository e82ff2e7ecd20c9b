/* sim_ext_msg: what an external strategy says: ready (its name, parameters,
 * indicators, options) and answers (orders with the meaning of
 * sim_order_request). Field names are the contract of
 * docs/strategy-protocol.md; unknown fields are ignored so strategies may
 * add their own. */
#include "sim_ext_internal.h"

#include <cjson/cJSON.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int bad(char *why, size_t cap, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int bad(char *why, size_t cap, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, cap, fmt, ap);
    va_end(ap);
    return rc;
}

/* A name: 1..SIM_EXT_NAME_LEN-1 printable characters, no '=' or '"'. */
static int name_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (!n || n >= SIM_EXT_NAME_LEN)
        return 0;
    for (; *s; s++)
        if (*s <= 0x20 || *s > 0x7e || *s == '=' || *s == '"' || *s == '\\')
            return 0;
    return 1;
}

static double num_or(const cJSON *o, const char *k, double def, int *ok)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!v || cJSON_IsNull(v))
        return def;
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
        *ok = 0;
    return cJSON_IsNumber(v) ? v->valuedouble : def;
}

/* ------------------------------------------------------------ ready */

static int ready_params(sim_ext *x, const cJSON *arr, char *why, size_t cap)
{
    int n = cJSON_GetArraySize(arr);
    if (!cJSON_IsArray(arr) || n > SIM_MAX_PARAMS)
        return bad(why, cap, PT_EINVAL, "\"params\" must be a list of at most %d", SIM_MAX_PARAMS);
    for (int i = 0; i < n; i++) {
        const cJSON *p = cJSON_GetArrayItem(arr, i);
        const cJSON *nm = cJSON_GetObjectItemCaseSensitive(p, "name");
        const cJSON *hp = cJSON_GetObjectItemCaseSensitive(p, "help");
        const cJSON *in = cJSON_GetObjectItemCaseSensitive(p, "integer");
        if (!cJSON_IsString(nm) || !name_ok(nm->valuestring))
            return bad(why, cap, PT_EINVAL, "parameter %d: \"name\" must be a short name", i);
        int ok = 1;
        sim_param_spec *s = &x->params[i];
        snprintf(x->pname[i], sizeof x->pname[i], "%s", nm->valuestring);
        snprintf(x->phelp[i], sizeof x->phelp[i], "%s", cJSON_IsString(hp) ? hp->valuestring : "");
        s->name = x->pname[i];
        s->help = x->phelp[i];
        s->min = num_or(p, "min", -DBL_MAX, &ok);
        s->max = num_or(p, "max", DBL_MAX, &ok);
        s->def = num_or(p, "default", s->min > 0 ? s->min : s->max < 0 ? s->max : 0, &ok);
        s->integer = cJSON_IsTrue(in);
        if (!ok || s->min > s->def || s->def > s->max || (s->integer && s->def != floor(s->def)))
            return bad(why, cap, PT_EINVAL, "parameter '%s': default %g not in [%g, %g]%s", s->name,
                       s->def, s->min, s->max, s->integer ? " or not a whole number" : "");
        for (int j = 0; j < i; j++)
            if (!strcmp(x->pname[j], s->name))
                return bad(why, cap, PT_EINVAL, "parameter '%s' declared twice", s->name);
    }
    x->ops.n_params = n;
    return PT_OK;
}

static int param_index(const sim_ext *x, const char *name)
{
    for (int i = 0; i < x->ops.n_params; i++)
        if (!strcmp(x->pname[i], name))
            return i;
    return -1;
}

/* A period: a whole number, or the name of a parameter (resolved at start). */
static int ind_field(sim_ext *x, const cJSON *o, const char *k, int def, int *val, int *ref)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    *ref = -1;
    *val = def;
    if (!v)
        return def >= 0;
    if (cJSON_IsString(v))
        return (*ref = param_index(x, v->valuestring)) >= 0;
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < 1 ||
        v->valuedouble > 1000000)
        return 0;
    *val = (int)v->valuedouble;
    return 1;
}

static const char *const period_keys[SIM_EXT__KINDS][3] = {
    [SIM_EXT_SMA] = {"period"},           [SIM_EXT_EMA] = {"period"},
    [SIM_EXT_RSI] = {"period"},           [SIM_EXT_ATR] = {"period"},
    [SIM_EXT_BOLLINGER] = {"period"},     [SIM_EXT_DONCHIAN] = {"period"},
    [SIM_EXT_MACD] = {"fast", "slow", "signal"},
};

static int ready_one_ind(sim_ext *x, const cJSON *o, int i, char *why, size_t cap)
{
    sim_ext_ind_spec *sp = &x->ind[i];
    const cJSON *nm = cJSON_GetObjectItemCaseSensitive(o, "name");
    const cJSON *kd = cJSON_GetObjectItemCaseSensitive(o, "kind");
    if (!cJSON_IsString(kd) || sim_ext_ind_kind_parse(kd->valuestring, &sp->kind))
        return bad(why, cap, PT_EINVAL,
                   "indicator %d: \"kind\" must be sma, ema, rsi, atr, bollinger, donchian or macd", i);
    const char *name = cJSON_IsString(nm) ? nm->valuestring : kd->valuestring;
    if (!name_ok(name))
        return bad(why, cap, PT_EINVAL, "indicator %d: \"name\" must be a short name", i);
    snprintf(sp->name, sizeof sp->name, "%s", name);
    for (int j = 0; j < i; j++)
        if (!strcmp(x->ind[j].name, sp->name))
            return bad(why, cap, PT_EINVAL, "indicator '%s' declared twice", sp->name);
    for (int k = 0; k < 3; k++) {
        x->pref[i][k] = -1;
        if (period_keys[sp->kind][k] &&
            !ind_field(x, o, period_keys[sp->kind][k], sim_ext_ind_default(sp->kind, k), &sp->p[k],
                       &x->pref[i][k]))
            return bad(why, cap, PT_EINVAL,
                       "indicator '%s': \"%s\" must be a whole number >= 1 or a parameter's name",
                       sp->name, period_keys[sp->kind][k]);
    }
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(o, "k");
    x->kref[i] = cJSON_IsString(k) ? param_index(x, k->valuestring) : -1;
    sp->k = cJSON_IsNumber(k) ? k->valuedouble : 2;
    if ((cJSON_IsString(k) && x->kref[i] < 0) || !(sp->k > 0) || !isfinite(sp->k))
        return bad(why, cap, PT_EINVAL, "indicator '%s': \"k\" must be a number > 0 or a parameter's name",
                   sp->name);
    return PT_OK;
}

static int ready_indicators(sim_ext *x, const cJSON *arr, char *why, size_t cap)
{
    int n = cJSON_GetArraySize(arr);
    if (!cJSON_IsArray(arr) || n > SIM_EXT_MAX_IND)
        return bad(why, cap, PT_EINVAL, "\"indicators\" must be a list of at most %d",
                   SIM_EXT_MAX_IND);
    for (int i = 0; i < n; i++) {
        int rc = ready_one_ind(x, cJSON_GetArrayItem(arr, i), i, why, cap);
        if (rc)
            return rc;
    }
    x->n_ind = n;
    /* the dashboard shows the first scalar outputs */
    int d = 0;
    for (int i = 0; i < n && d < SIM_MAX_INDICATORS; i++)
        for (int k = 0; k < sim_ext_ind_outputs(x->ind[i].kind) && d < SIM_MAX_INDICATORS; k++) {
            int multi = sim_ext_ind_outputs(x->ind[i].kind) > 1;
            snprintf(x->dash_store[d], sizeof x->dash_store[d], "%s%s%s", x->ind[i].name,
                     multi ? "." : "", multi ? sim_ext_ind_output_name(x->ind[i].kind, k) : "");
            x->dash_names[d] = x->dash_store[d];
            d++;
        }
    x->ops.n_indicators = d;
    return PT_OK;
}

/* Options this papertrader does not have yet are refused, not ignored. */
static int ready_options(sim_ext *x, const cJSON *r, char *why, size_t cap)
{
    const cJSON *sc = cJSON_GetObjectItemCaseSensitive(r, "scope");
    const cJSON *tf = cJSON_GetObjectItemCaseSensitive(r, "timeframes");
    if (sc && !(cJSON_IsString(sc) && (!strcmp(sc->valuestring, "symbol") ||
                                       !strcmp(sc->valuestring, "portfolio"))))
        return bad(why, cap, PT_EINVAL, "\"scope\" must be \"symbol\" or \"portfolio\"");
    x->portfolio = sc && !strcmp(sc->valuestring, "portfolio");
    if (tf && !cJSON_IsArray(tf))
        return bad(why, cap, PT_EINVAL, "\"timeframes\" must be a list of intervals");
    int rc = sim_ext_tf_parse(x, tf, why, cap);
    if (rc)
        return rc;
    /* higher candles interleave with the base ones: one candle per message */
    x->batch = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "batch")) && !x->n_tf &&
               !x->portfolio;
    /* the columnar form and resumes are opt-in: a strategy written against
     * the row form keeps getting it */
    x->columns = x->batch && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "columns"));
    x->resume = x->columns && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "resume"));
    x->shorts = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "shorts"));
    const cJSON *wu = cJSON_GetObjectItemCaseSensitive(r, "warmup");
    if (wu && !(cJSON_IsNumber(wu) && wu->valuedouble >= 0 && wu->valuedouble <= SIM_WARMUP_MAX &&
                wu->valuedouble == (int)wu->valuedouble))
        return bad(why, cap, PT_EINVAL, "\"warmup\": want a whole number of candles in [0, %d]", SIM_WARMUP_MAX);
    x->warmup = wu ? (int)wu->valuedouble : 0;
    return PT_OK;
}

int sim_ext_ready_parse(sim_ext *x, const char *line, size_t len, char *why, size_t cap)
{
    cJSON *r = cJSON_ParseWithLength(line, len);
    const cJSON *ty = cJSON_GetObjectItemCaseSensitive(r, "type");
    const cJSON *er = cJSON_GetObjectItemCaseSensitive(r, "error");
    const cJSON *nm = cJSON_GetObjectItemCaseSensitive(r, "name");
    const cJSON *ds = cJSON_GetObjectItemCaseSensitive(r, "description");
    const cJSON *ps = cJSON_GetObjectItemCaseSensitive(r, "params");
    const cJSON *is = cJSON_GetObjectItemCaseSensitive(r, "indicators");
    int rc = PT_EPARSE, had = x->ops.n_params;
    char before[SIM_MAX_PARAMS][SIM_EXT_NAME_LEN];
    memcpy(before, x->pname, sizeof before);
    if (!cJSON_IsObject(r) || !cJSON_IsString(ty) || strcmp(ty->valuestring, "ready"))
        bad(why, cap, rc, "expected {\"type\":\"ready\",...} after hello");
    else if (cJSON_IsString(er))
        rc = bad(why, cap, PT_EINVAL, "refused to start: %.160s", er->valuestring);
    else if (nm && !(cJSON_IsString(nm) && name_ok(nm->valuestring)))
        rc = bad(why, cap, PT_EINVAL, "\"name\" must be a short name without spaces");
    else if (!(rc = ps ? ready_params(x, ps, why, cap) : (x->ops.n_params = 0, PT_OK)) &&
             !(rc = is ? ready_indicators(x, is, why, cap) : (x->n_ind = 0, PT_OK)))
        rc = ready_options(x, r, why, cap);
    if (!rc && x->described && (had != x->ops.n_params || memcmp(before, x->pname, sizeof before)))
        rc = bad(why, cap, PT_EINVAL, "declared other parameters than in describe mode");
    if (!rc && cJSON_IsString(nm))
        snprintf(x->name, sizeof x->name, "%s", nm->valuestring);
    if (!rc)
        snprintf(x->desc, sizeof x->desc, "%s",
                 cJSON_IsString(ds) ? ds->valuestring : "external strategy");
    cJSON_Delete(r);
    return rc;
}

/* ------------------------------------------------------------ answers */

static const char *const intents[] = {"", "enter_long", "exit_long", "enter_short", "exit_short",
                                      "cancel_all"};
static const char *const types[] = {"market", "limit", "stop", "stop_limit"};

static int pick(const char *s, const char *const *names, int n)
{
    for (int i = 0; s && i < n; i++)
        if (!strcmp(s, names[i]))
            return i;
    return -1;
}

/* Reasons stay valid for the engine's orders and events: interned. */
static const char *intern(sim_ext *x, const char *s)
{
    char cut[SIM_EXT_REASON_LEN];
    snprintf(cut, sizeof cut, "%s", s);
    for (char *p = cut; *p; p++)
        if (*p < 0x20 || *p > 0x7e || *p == ',' || *p == '"')
            *p = ' '; /* reasons land in CSV columns */
    for (int i = 0; i < x->n_reasons; i++)
        if (!strcmp(x->reasons[i], cut))
            return x->reasons[i];
    if (x->n_reasons >= SIM_EXT_REASONS)
        return "strategy";
    memcpy(x->reasons[x->n_reasons], cut, sizeof cut);
    return x->reasons[x->n_reasons++];
}

/* A symbol the strategy has had a candle of (the engine knows it). */
static int seen(const sim_ext *x, const char *s)
{
    for (int i = 0; i < x->n_syms; i++)
        if (!strcmp(x->syms[i].name, s))
            return 1;
    return 0;
}

static int one_order(sim_ext *x, const cJSON *o, int i, const char *symbol, sim_ext_order *out,
                     char *why, size_t cap)
{
    const cJSON *in = cJSON_GetObjectItemCaseSensitive(o, "intent");
    const cJSON *ty = cJSON_GetObjectItemCaseSensitive(o, "type");
    const cJSON *sy = cJSON_GetObjectItemCaseSensitive(o, "symbol");
    const cJSON *re = cJSON_GetObjectItemCaseSensitive(o, "reason");
    int intent = cJSON_IsString(in) ? pick(in->valuestring, intents, 6) : -1;
    int type = ty ? (cJSON_IsString(ty) ? pick(ty->valuestring, types, 4) : -1) : 0;
    if (!cJSON_IsObject(o) || intent <= 0)
        return bad(why, cap, PT_EINVAL, "order %d: unknown \"intent\" (enter_long, exit_long, enter_short, exit_short, cancel_all)", i);
    if (type < 0)
        return bad(why, cap, PT_EINVAL, "order %d: unknown \"type\" (market, limit, stop, stop_limit)", i);
    if (x->portfolio && sy && !(cJSON_IsString(sy) && seen(x, sy->valuestring)))
        return bad(why, cap, PT_EINVAL, "order %d: unknown symbol %s%.32s%s (a strategy of scope \"portfolio\" orders a symbol it has had a candle of)",
                   i, cJSON_IsString(sy) ? "'" : "", cJSON_IsString(sy) ? sy->valuestring : "(not a string)",
                   cJSON_IsString(sy) ? "'" : "");
    if (!x->portfolio && sy && !(cJSON_IsString(sy) && !strcmp(sy->valuestring, symbol)))
        return bad(why, cap, PT_EINVAL, "order %d: unknown symbol %s%.32s%s (a strategy of scope \"symbol\" orders the candle's symbol %s)",
                   i, cJSON_IsString(sy) ? "'" : "", cJSON_IsString(sy) ? sy->valuestring : "(not a string)",
                   cJSON_IsString(sy) ? "'" : "", symbol);
    int ok = 1;
    sim_order_request *r = &out->rq;
    memset(out, 0, sizeof *out);
    r->intent = (sim_intent)intent;
    r->type = (sim_order_type)type;
    out->qty = num_or(o, "qty", 0, &ok);
    r->limit_price = num_or(o, "limit_price", 0, &ok);
    r->stop_price = num_or(o, "stop_price", 0, &ok);
    r->stop_loss = num_or(o, "stop_loss", 0, &ok);
    r->take_profit = num_or(o, "take_profit", 0, &ok);
    r->trailing_pct = num_or(o, "trailing_pct", 0, &ok);
    double tif = num_or(o, "tif_candles", 0, &ok);
    if (!ok || !(out->qty >= 0) || tif < 0 || tif > INT_MAX || tif != floor(tif))
        return bad(why, cap, PT_EINVAL, "order %d: numbers must be finite, qty >= 0, tif_candles a whole number >= 0", i);
    r->tif_candles = (int)tif;
    if (x->portfolio && sy)
        snprintf(out->symbol, sizeof out->symbol, "%s", sy->valuestring);
    r->reason = cJSON_IsString(re) && re->valuestring[0] ? intern(x, re->valuestring) : "signal";
    if (!sim_request_valid(r))
        return bad(why, cap, PT_EINVAL, "order %d: invalid prices (each >= 0, trailing_pct < 100, limit/stop_limit need limit_price > 0, stop/stop_limit need stop_price > 0)", i);
    return PT_OK;
}

int sim_ext_answer_parse(sim_ext *x, const char *line, size_t len, const char *symbol,
                         int batch_n, sim_ext_order *reqs, int *n, int *at, char *why,
                         size_t cap)
{
    cJSON *r = cJSON_ParseWithLength(line, len);
    const cJSON *os = cJSON_GetObjectItemCaseSensitive(r, "orders");
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(r, "at");
    int k = cJSON_GetArraySize(os), rc = PT_OK;
    *n = 0;
    *at = -1;
    if (!cJSON_IsObject(r) || !cJSON_IsArray(os))
        rc = bad(why, cap, PT_EPARSE, "answer is not {\"orders\":[...]}");
    else if (k > SIM_EXT_MAX_ORDERS)
        rc = bad(why, cap, PT_EINVAL, "%d orders in one answer (at most %d)", k, SIM_EXT_MAX_ORDERS);
    else if (batch_n == 1)
        *at = 0;
    else if (k && !(cJSON_IsNumber(a) && a->valuedouble == floor(a->valuedouble) &&
                    a->valuedouble >= 0 && a->valuedouble < batch_n))
        rc = bad(why, cap, PT_EINVAL, "a batch answer with orders needs \"at\": 0..%d", batch_n - 1);
    else
        *at = k ? (int)a->valuedouble : -1;
    if (!rc && batch_n > 1 && *at >= 0)
        symbol = x->bcand[*at].symbol;
    for (int i = 0; !rc && i < k; i++)
        rc = one_order(x, cJSON_GetArrayItem(os, i), i, symbol, &reqs[i], why, cap);
    if (!rc)
        *n = k;
    cJSON_Delete(r);
    return rc;
}
