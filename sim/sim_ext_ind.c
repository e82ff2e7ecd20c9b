/* sim_ext_ind: the indicators an external strategy names in ready,
 * computed per symbol with sim/indicators exactly as the built-ins compute
 * them (sim/strategies.c), on accepted candles only. Values of candles read
 * ahead for a batch are kept in a ring until the engine reaches them, so
 * every candle updates the state exactly once, in order. */
#include "sim_ext_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct ind_one {
    sim_ind_sma sma;  /* sma, bollinger (with sd) */
    sim_ind_ema ema;
    sim_ind_rsi rsi;
    sim_ind_atr atr;
    sim_ind_macd macd;
    sim_ind_extreme hi, lo; /* donchian */
} ind_one;

struct sim_ext_ind_state {
    int n;
    sim_ext_ind_kind kind[SIM_EXT_MAX_IND];
    double k[SIM_EXT_MAX_IND];
    ind_one v[];
};

static const char *const kind_names[SIM_EXT__KINDS] = {"sma", "ema", "rsi", "atr",
                                                       "bollinger", "donchian", "macd"};
static const char *const outputs[SIM_EXT__KINDS][3] = {
    [SIM_EXT_BOLLINGER] = {"lower", "middle", "upper"},
    [SIM_EXT_DONCHIAN] = {"upper", "lower", "middle"},
    [SIM_EXT_MACD] = {"macd", "signal", "hist"},
};

int sim_ext_ind_kind_parse(const char *name, sim_ext_ind_kind *out)
{
    for (int i = 0; i < SIM_EXT__KINDS; i++)
        if (!strcmp(name, kind_names[i])) {
            *out = (sim_ext_ind_kind)i;
            return PT_OK;
        }
    return PT_ENOENT;
}

int sim_ext_ind_outputs(sim_ext_ind_kind k) { return outputs[k][0] ? 3 : 1; }

/* Each kind's periods when a strategy names none (docs/strategy-protocol.md
 * "Indicators"); -1: it must name it; 0: the kind has no such period. */
static const int period_defaults[SIM_EXT__KINDS][3] = {
    [SIM_EXT_SMA] = {-1}, [SIM_EXT_EMA] = {-1},      [SIM_EXT_RSI] = {14},
    [SIM_EXT_ATR] = {14}, [SIM_EXT_BOLLINGER] = {20}, [SIM_EXT_DONCHIAN] = {20},
    [SIM_EXT_MACD] = {12, 26, 9},
};

int sim_ext_ind_default(sim_ext_ind_kind k, int i) { return period_defaults[k][i]; }

const char *sim_ext_ind_output_name(sim_ext_ind_kind k, int i)
{
    return outputs[k][0] && i >= 0 && i < 3 ? outputs[k][i] : "";
}

void sim_ext_ind_free(sim_ext_ind_state *s)
{
    if (!s)
        return;
    for (int i = 0; i < s->n; i++) {
        sim_ind_sma_free(&s->v[i].sma);
        sim_ind_extreme_free(&s->v[i].hi);
        sim_ind_extreme_free(&s->v[i].lo);
    }
    free(s);
}

static int init_one(ind_one *o, const sim_ext_ind_spec *sp)
{
    switch (sp->kind) {
    case SIM_EXT_SMA: return sim_ind_sma_init(&o->sma, sp->p[0], 0);
    case SIM_EXT_BOLLINGER: return sim_ind_sma_init(&o->sma, sp->p[0], 1);
    case SIM_EXT_EMA: return sim_ind_ema_init(&o->ema, sp->p[0]);
    case SIM_EXT_RSI: return sim_ind_rsi_init(&o->rsi, sp->p[0]);
    case SIM_EXT_ATR: return sim_ind_atr_init(&o->atr, sp->p[0]);
    case SIM_EXT_MACD: return sim_ind_macd_init(&o->macd, sp->p[0], sp->p[1], sp->p[2]);
    case SIM_EXT_DONCHIAN: {
        int rc = sim_ind_extreme_init(&o->hi, sp->p[0], 0);
        return rc ? rc : sim_ind_extreme_init(&o->lo, sp->p[0], 1);
    }
    default: return PT_EINVAL;
    }
}

int sim_ext_ind_new(const sim_ext_ind_spec *specs, int n, sim_ext_ind_state **out)
{
    sim_ext_ind_state *s = calloc(1, sizeof *s + (size_t)n * sizeof s->v[0]);
    *out = NULL;
    if (!s)
        return PT_ENOMEM;
    for (int i = 0; i < n; i++) {
        s->kind[i] = specs[i].kind;
        s->k[i] = specs[i].k;
        s->n = i + 1;
        int rc = init_one(&s->v[i], &specs[i]);
        if (rc) {
            pt_err_log("strategy indicator '%s' (%s): invalid periods", specs[i].name,
                       kind_names[specs[i].kind]);
            sim_ext_ind_free(s);
            return rc;
        }
    }
    *out = s;
    return PT_OK;
}

/* The values the built-ins read after the same update (sim/strategies.c). */
static int update_one(ind_one *o, sim_ext_ind_kind kind, double k, const pt_candle *c, double *v)
{
    int rc;
    v[0] = v[1] = v[2] = NAN;
    switch (kind) {
    case SIM_EXT_SMA:
    case SIM_EXT_BOLLINGER:
        if ((rc = sim_ind_sma_update(&o->sma, c->close)) || !sim_ind_sma_ready(&o->sma))
            return rc;
        if (kind == SIM_EXT_SMA) {
            v[0] = o->sma.mean;
        } else {
            v[0] = o->sma.mean - k * o->sma.sd, v[1] = o->sma.mean, v[2] = o->sma.mean + k * o->sma.sd;
        }
        return PT_OK;
    case SIM_EXT_EMA:
        if ((rc = sim_ind_ema_update(&o->ema, c->close)) == PT_OK && sim_ind_ema_ready(&o->ema))
            v[0] = o->ema.value;
        return rc;
    case SIM_EXT_RSI:
        rc = sim_ind_rsi_update(&o->rsi, c->close);
        v[0] = o->rsi.value;
        return rc;
    case SIM_EXT_ATR:
        rc = sim_ind_atr_update(&o->atr, c->high, c->low, c->close);
        v[0] = o->atr.value;
        return rc;
    case SIM_EXT_MACD:
        if ((rc = sim_ind_macd_update(&o->macd, c->close)) == PT_OK && sim_ind_macd_ready(&o->macd))
            v[0] = o->macd.macd, v[1] = o->macd.signal, v[2] = o->macd.hist;
        return rc;
    case SIM_EXT_DONCHIAN:
        /* the channel of the candles BEFORE this one, as donchian uses it */
        v[0] = o->hi.value, v[1] = o->lo.value;
        v[2] = isnan(v[0]) || isnan(v[1]) ? NAN : (v[0] + v[1]) / 2;
        if ((rc = sim_ind_extreme_update(&o->hi, c->high)))
            return rc;
        return sim_ind_extreme_update(&o->lo, c->low);
    default:
        return PT_EINVAL;
    }
}

int sim_ext_ind_update(sim_ext_ind_state *s, const pt_candle *c, double *vals)
{
    if (!isfinite(c->open) || !isfinite(c->high) || !isfinite(c->low) || !isfinite(c->close))
        return PT_EINVAL;
    for (int i = 0; i < s->n; i++) {
        int rc = update_one(&s->v[i], s->kind[i], s->k[i], c, vals + 3 * i);
        if (rc)
            return rc;
    }
    return PT_OK;
}

/* ------------------------------------------------------------ per strategy */

int sim_ext_ind_resolve(sim_ext *x, const double *values)
{
    for (int i = 0; i < x->n_ind; i++) {
        for (int k = 0; k < 3; k++)
            if (x->pref[i][k] >= 0)
                x->ind[i].p[k] = (int)values[x->pref[i][k]];
        if (x->kref[i] >= 0)
            x->ind[i].k = values[x->kref[i]];
    }
    sim_ext_ind_state *probe; /* bad periods fail at start, not at the first candle */
    int rc = sim_ext_ind_new(x->ind, x->n_ind, &probe);
    sim_ext_ind_free(probe);
    if (!rc && !x->syms)
        x->syms = calloc(SIM_EXT_MAX_SYMS, sizeof *x->syms);
    if (!rc && !x->ahead && x->batch)
        x->ahead = malloc(sizeof(double) * SIM_EXT_BATCH_MAX * SIM_EXT_MAX_IND * 3);
    return rc ? rc : (!x->syms || (x->batch && !x->ahead)) ? PT_ENOMEM : PT_OK;
}

void sim_ext_ind_reset(sim_ext *x)
{
    for (int i = 0; i < x->n_syms; i++)
        sim_ext_ind_free(x->syms[i].ind);
    free(x->syms);
    free(x->ahead);
    x->syms = NULL, x->ahead = NULL;
    x->n_syms = x->ahead_n = x->ahead_head = 0;
}

static sim_ext_ind_state *sym_state(sim_ext *x, const char *name)
{
    for (int i = 0; i < x->n_syms; i++)
        if (!strcmp(x->syms[i].name, name))
            return x->syms[i].ind;
    if (x->n_syms >= SIM_EXT_MAX_SYMS)
        return NULL;
    sim_ext_sym *s = &x->syms[x->n_syms];
    if (sim_ext_ind_new(x->ind, x->n_ind, &s->ind))
        return NULL;
    snprintf(s->name, sizeof s->name, "%s", name);
    x->n_syms++;
    return s->ind;
}

static int compute(sim_ext *x, const pt_candle *c, double *vals)
{
    sim_ext_ind_state *s = sym_state(x, c->symbol);
    return s ? sim_ext_ind_update(s, c, vals) : PT_EFULL;
}

#define AHEAD_SLOT(x, i) ((x)->ahead + (size_t)(((x)->ahead_head + (i)) % SIM_EXT_BATCH_MAX) * SIM_EXT_MAX_IND * 3)

double *sim_ext_ind_current(sim_ext *x, const pt_candle *c)
{
    if (x->ahead_n) { /* computed when it was read ahead for a batch */
        memcpy(x->cur, AHEAD_SLOT(x, 0), sizeof x->cur);
        x->ahead_head = (x->ahead_head + 1) % SIM_EXT_BATCH_MAX;
        x->ahead_n--;
        return x->cur;
    }
    return compute(x, c, x->cur) ? NULL : x->cur;
}

double *sim_ext_ind_ahead(sim_ext *x, const pt_candle *c, int j)
{
    if (j - 1 < x->ahead_n)
        return AHEAD_SLOT(x, j - 1);
    if (j - 1 != x->ahead_n || x->ahead_n >= SIM_EXT_BATCH_MAX)
        return NULL;
    double *v = AHEAD_SLOT(x, x->ahead_n);
    if (compute(x, c, v))
        return NULL;
    x->ahead_n++;
    return v;
}

void sim_ext_ind_dash(const sim_ext *x, const double *vals, sim_signal *sig)
{
    int d = 0;
    for (int i = 0; i < x->n_ind && d < SIM_MAX_INDICATORS; i++)
        for (int k = 0; k < sim_ext_ind_outputs(x->ind[i].kind) && d < SIM_MAX_INDICATORS; k++)
            sig->indicators[d++] = vals[3 * i + k];
    sig->n_indicators = d;
}
