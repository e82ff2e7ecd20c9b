/* sim_ext_tf: higher timeframes for an external strategy (docs/strategy-
 * protocol.md "Higher timeframes"). Closed, accepted base candles are folded
 * per symbol into UTC-aligned higher candles; a higher candle is handed out
 * only once its period has closed: right after the base candle that ends
 * its period, or, when the period's last base candles are missing, right
 * before the first base candle of a later period. Never an unfinished one. */
#include "sim_ext_internal.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY_MS 86400000LL

int sim_ext_tf_parse(sim_ext *x, const cJSON *tf, char *why, size_t cap)
{
    int64_t base = x->opt.interval_ms > 0 ? x->opt.interval_ms : 60000;
    x->n_tf = 0;
    for (int i = 0; i < cJSON_GetArraySize(tf); i++) {
        const cJSON *t = cJSON_GetArrayItem(tf, i);
        int64_t ms;
        if (!cJSON_IsString(t) || pt_interval_parse(t->valuestring, &ms) || ms <= 0 ||
            DAY_MS % ms) {
            snprintf(why, cap, "\"timeframes\" %d: not an interval that divides a day (1m, 5m, 15m, 1h, 4h, 1d, ...)", i);
            return PT_EINVAL;
        }
        /* describe mode does not know the session's interval yet */
        if (x->described && ms != base && (ms < base || ms % base)) {
            snprintf(why, cap, "\"timeframes\": %s is not a multiple of the session's interval %s",
                     t->valuestring, x->interval);
            return PT_EUNSUPPORTED;
        }
        if (x->described && ms == base)
            continue; /* the session's own candles: nothing to aggregate */
        int dup = 0;
        for (int j = 0; j < x->n_tf; j++)
            dup |= x->tf_ms[j] == ms;
        if (dup)
            continue;
        if (x->n_tf >= SIM_EXT_MAX_TF) {
            snprintf(why, cap, "\"timeframes\": at most %d above the session's interval", SIM_EXT_MAX_TF);
            return PT_EINVAL;
        }
        x->tf_ms[x->n_tf] = ms;
        pt_interval_format(ms, x->tf_name[x->n_tf], sizeof x->tf_name[0]);
        x->n_tf++;
    }
    return PT_OK;
}

static sim_ext_tfsym *tf_sym(sim_ext *x, const char *name)
{
    for (int i = 0; i < x->n_tfsyms; i++)
        if (!strcmp(x->tfsyms[i].name, name))
            return &x->tfsyms[i];
    if (!x->tfsyms && !(x->tfsyms = calloc(SIM_EXT_MAX_SYMS, sizeof *x->tfsyms)))
        return NULL;
    if (x->n_tfsyms >= SIM_EXT_MAX_SYMS)
        return NULL;
    sim_ext_tfsym *s = &x->tfsyms[x->n_tfsyms++];
    snprintf(s->name, sizeof s->name, "%s", name);
    return s;
}

static void emit(sim_ext *x, sim_ext_hi *a, int tf, int after)
{
    sim_ext_hi *h = &x->hi[x->n_hi++]; /* room: at most one per timeframe and phase */
    *h = *a;
    h->tf = tf;
    h->after = after;
    a->count = 0;
}

void sim_ext_tf_fold(sim_ext *x, const pt_candle *c)
{
    int64_t base = x->opt.interval_ms > 0 ? x->opt.interval_ms : 60000;
    x->n_hi = 0;
    sim_ext_tfsym *s = x->n_tf ? tf_sym(x, c->symbol) : NULL;
    if (!s || !isfinite(c->open) || !isfinite(c->high) || !isfinite(c->low) ||
        !isfinite(c->close) || !isfinite(c->volume))
        return; /* a non-finite candle fails the strategy (sim_ext_decide) */
    for (int j = 0; j < x->n_tf; j++) {
        int64_t p = x->tf_ms[j], start = c->ts_ms - ((c->ts_ms % p) + p) % p;
        sim_ext_hi *a = &s->agg[j];
        if (a->count && a->c.ts_ms != start) /* its period is over: base candles missing */
            emit(x, a, j, 0);
        if (!a->count) {
            a->c = *c;
            a->c.ts_ms = start;
        } else {
            a->c.high = fmax(a->c.high, c->high);
            a->c.low = fmin(a->c.low, c->low);
            a->c.close = c->close;
            a->c.volume += c->volume;
        }
        a->count++;
        if (c->ts_ms + base >= start + p) /* c ends the period */
            emit(x, a, j, 1);
    }
}

void sim_ext_tf_free(sim_ext *x)
{
    free(x->tfsyms);
    x->tfsyms = NULL;
    x->n_tfsyms = x->n_hi = 0;
}
