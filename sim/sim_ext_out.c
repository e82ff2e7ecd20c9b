/* sim_ext_out.c: the messages the engine writes to a strategy (docs/
 * strategy-protocol.md), built in x->msg and bounded by SIM_EXT_MSG_MAX: a
 * message that would not fit sets x->mfull and is refused before sending. */
#include "sim_ext_internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ messages out */

void sim_ext_num(char *buf, size_t cap, double v)
{
    if (isfinite(v))
        pt_format_double(v, buf, cap);
    else
        snprintf(buf, cap, "null");
}

void sim_ext_mb_reset(sim_ext *x) { x->mlen = 0, x->mfull = 0; }

void sim_ext_mb_put(sim_ext *x, const char *s, size_t n)
{
    if (x->mfull || x->mlen + n + 1 > SIM_EXT_MSG_MAX) {
        x->mfull = 1;
        return;
    }
    if (x->mlen + n + 1 > x->mcap) {
        size_t cap = x->mcap ? x->mcap * 2 : 4096;
        while (cap < x->mlen + n + 1)
            cap *= 2;
        char *m = realloc(x->msg, cap);
        if (!m) {
            x->mfull = 1;
            return;
        }
        x->msg = m, x->mcap = cap;
    }
    memcpy(x->msg + x->mlen, s, n);
    x->mlen += n;
    x->msg[x->mlen] = '\0';
}

void sim_ext_mb_printf(sim_ext *x, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    sim_ext_mb_put(x, tmp, n < 0 ? 0 : (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* A JSON string: names and symbols are printable ASCII; escape the two
 * characters JSON needs. */
static void mb_str(sim_ext *x, const char *s)
{
    sim_ext_mb_put(x, "\"", 1);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            sim_ext_mb_put(x, "\\", 1);
        sim_ext_mb_put(x, s, 1);
    }
    sim_ext_mb_put(x, "\"", 1);
}

static void mb_num(sim_ext *x, const char *key, double v)
{
    char b[40];
    sim_ext_num(b, sizeof b, v);
    sim_ext_mb_printf(x, "%s\"%s\":%s", key[0] == ',' ? "," : "", key + (key[0] == ','), b);
}

static void put_pos(sim_ext *x, const sim_position_view *pos)
{
    mb_num(x, "qty", pos->qty);
    mb_num(x, ",avg_price", pos->avg_price);
    sim_ext_mb_printf(x, ",\"open_orders\":%d}", pos->open_orders);
}

/* ,"portfolio":{"cash":..,"equity":..,"positions":{"SYM":{position},...}} */
static void put_portfolio(sim_ext *x, const sim_ext_pf *pf)
{
    sim_ext_mb_put(x, ",\"portfolio\":{", 14);
    mb_num(x, "cash", pf->cash);
    mb_num(x, ",equity", pf->equity);
    sim_ext_mb_put(x, ",\"positions\":{", 14);
    for (int i = 0; i < pf->n; i++) {
        sim_ext_mb_printf(x, "%s", i ? "," : "");
        mb_str(x, pf->pos[i].symbol);
        sim_ext_mb_put(x, ":{", 2);
        put_pos(x, &pf->pos[i].pos);
    }
    sim_ext_mb_put(x, "}}", 2);
}

static void put_indicators(sim_ext *x, const double *vals);

/* A candle message; hi: a higher-timeframe candle (its interval and base
 * candle count, no indicators), else a base candle with vals. */
void sim_ext_put_candle(sim_ext *x, const pt_candle *c, const sim_position_view *pos,
                       const double *vals, const sim_ext_hi *hi)
{
    sim_ext_mb_put(x, "{\"type\":\"candle\",\"symbol\":", 26);
    mb_str(x, c->symbol);
    sim_ext_mb_printf(x, ",\"interval\":\"%s\",\"ts\":%lld", hi ? x->tf_name[hi->tf] : x->interval,
              (long long)c->ts_ms);
    if (hi)
        sim_ext_mb_printf(x, ",\"count\":%d", hi->count);
    mb_num(x, ",open", c->open);
    mb_num(x, ",high", c->high);
    mb_num(x, ",low", c->low);
    mb_num(x, ",close", c->close);
    mb_num(x, ",volume", c->volume);
    sim_ext_mb_put(x, ",\"position\":{", 13);
    put_pos(x, pos);
    sim_ext_mb_put(x, ",\"indicators\":{", 15);
    if (vals)
        put_indicators(x, vals);
    sim_ext_mb_put(x, "}", 1);
    if (x->portfolio && x->pf)
        put_portfolio(x, x->pf);
    sim_ext_mb_put(x, "}", 1);
}

/* "name":value or "name":{"out":value,...} for each indicator asked for */
static void put_indicators(sim_ext *x, const double *vals)
{
    for (int i = 0; i < x->n_ind; i++) {
        const sim_ext_ind_spec *sp = &x->ind[i];
        int n = sim_ext_ind_outputs(sp->kind);
        sim_ext_mb_printf(x, "%s", i ? "," : "");
        mb_str(x, sp->name);
        sim_ext_mb_put(x, n > 1 ? ":{" : ":", n > 1 ? 2 : 1);
        for (int k = 0; k < n; k++) {
            char b[40];
            sim_ext_num(b, sizeof b, vals[i * 3 + k]);
            if (n > 1)
                sim_ext_mb_printf(x, "%s\"%s\":", k ? "," : "", sim_ext_ind_output_name(sp->kind, k));
            sim_ext_mb_printf(x, "%s", b);
        }
        if (n > 1)
            sim_ext_mb_put(x, "}", 1);
    }
}

void sim_ext_put_hello(sim_ext *x, const char *mode, const double *values)
{
    sim_ext_mb_reset(x);
    sim_ext_mb_printf(x, "{\"type\":\"hello\",\"protocol\":%d,\"mode\":\"%s\",\"params\":{",
              SIM_EXT_PROTOCOL, mode);
    for (int i = 0; values && i < x->ops.n_params; i++) {
        char b[40];
        sim_ext_num(b, sizeof b, values[i]);
        sim_ext_mb_printf(x, "%s", i ? "," : "");
        mb_str(x, x->params[i].name);
        sim_ext_mb_printf(x, ":%s", b);
    }
    sim_ext_mb_put(x, "},\"symbols\":[", 13);
    for (int i = 0; i < x->opt.n_symbols; i++) {
        sim_ext_mb_printf(x, "%s", i ? "," : "");
        mb_str(x, x->opt.symbols[i]);
    }
    sim_ext_mb_printf(x, "],\"interval\":\"%s\",\"allow_short\":%s}\n", x->interval,
              x->opt.allow_short ? "true" : "false");
}

static const char *const column_names[5] = {"open", "high", "low", "close", "volume"};

static double column_value(const pt_candle *c, int f)
{
    const double v[5] = {c->open, c->high, c->low, c->close, c->volume};
    return v[f];
}

/* ,"open":[v0,v1,...] (f indexes column_names) over the batch's candles */
static void put_column(sim_ext *x, int f)
{
    sim_ext_mb_printf(x, ",\"%s\":[", column_names[f]);
    for (int i = 0; i < x->bn; i++) {
        char b[40];
        sim_ext_num(b, sizeof b, column_value(&x->bcand[i], f));
        sim_ext_mb_printf(x, "%s%s", i ? "," : "", b);
    }
    sim_ext_mb_put(x, "]", 1);
}

/* "positions":[{...},...]: each batch symbol's view (bsym_view), in symbols order */
static void put_positions(sim_ext *x)
{
    sim_ext_mb_put(x, ",\"positions\":[", 14);
    for (int j = 0; j < x->n_bsym; j++) {
        sim_ext_mb_put(x, j ? ",{" : "{", j ? 2 : 1);
        put_pos(x, &x->bsym_view[j]);
    }
    sim_ext_mb_put(x, "]", 1);
}

/* One indicator's values over the batch: a list, or {"out":[...],...} */
static void put_indicator_column(sim_ext *x, int k, const double *const *vals)
{
    const sim_ext_ind_spec *sp = &x->ind[k];
    int outs = sim_ext_ind_outputs(sp->kind);
    sim_ext_mb_printf(x, "%s", k ? "," : "");
    mb_str(x, sp->name);
    sim_ext_mb_put(x, outs > 1 ? ":{" : ":[", 2);
    for (int o = 0; o < outs; o++) {
        if (outs > 1)
            sim_ext_mb_printf(x, "%s\"%s\":[", o ? "," : "", sim_ext_ind_output_name(sp->kind, o));
        for (int i = 0; i < x->bn; i++) {
            char b[40];
            sim_ext_num(b, sizeof b, vals[i][k * 3 + o]);
            sim_ext_mb_printf(x, "%s%s", i ? "," : "", b);
        }
        sim_ext_mb_put(x, "]", 1);
    }
    if (outs > 1)
        sim_ext_mb_put(x, "}", 1);
}

/* docs/strategy-protocol.md "Columnar batches": one list per field; a
 * symbol's position is the same on every candle of a batch (the cut rule). */
void sim_ext_put_columns(sim_ext *x, const double *const *vals)
{
    const pt_candle *c = x->bcand;
    sim_ext_mb_printf(x, "{\"type\":\"batch\",\"interval\":\"%s\",\"n\":%d,\"symbols\":[", x->interval,
                      x->bn);
    for (int j = 0; j < x->n_bsym; j++) {
        sim_ext_mb_put(x, j ? "," : "", j ? 1 : 0);
        mb_str(x, c[x->bsym_first[j]].symbol);
    }
    sim_ext_mb_put(x, "],\"sym\":[", 9);
    for (int i = 0; i < x->bn; i++)
        sim_ext_mb_printf(x, "%s%d", i ? "," : "", x->bsym[i]);
    sim_ext_mb_put(x, "],\"ts\":[", 8);
    for (int i = 0; i < x->bn; i++)
        sim_ext_mb_printf(x, "%s%lld", i ? "," : "", (long long)c[i].ts_ms);
    sim_ext_mb_put(x, "]", 1);
    for (int f = 0; f < 5; f++)
        put_column(x, f);
    put_positions(x);
    sim_ext_mb_put(x, ",\"indicators\":{", 15);
    for (int k = 0; k < x->n_ind; k++)
        put_indicator_column(x, k, vals);
    sim_ext_mb_put(x, "}}", 2);
}

void sim_ext_put_resume(sim_ext *x, int from)
{
    sim_ext_mb_printf(x, "{\"type\":\"resume\",\"from\":%d", from);
    put_positions(x);
    sim_ext_mb_put(x, "}", 1);
}
