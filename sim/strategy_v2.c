/* strategy_v2: C plugins of ABI 2 (sim_strategy.h, docs/strategies.md "C
 * plugins, ABI 2"). The engine keeps one table type, sim_strategy_ops: a
 * v2 plugin's table is wrapped in one (tagged, like an external strategy's)
 * and the calls that differ go through sim_strategy_create /
 * sim_strategy_free_state here and the engine's v2 decision path. The host
 * table hands the plugin sim/indicators, through the same code external
 * strategies get (sim_ext_ind.c), so values are the built-ins' own. */
#include "sim_ext_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SIM_V2_TAG 0x32565450 /* ops.abi of a wrapped v2 table ("PTV2") */

typedef struct sim_v2 {
    sim_strategy_ops ops; /* first: sim_v2_of casts back */
    const sim_strategy_ops_v2 *v2;
} sim_v2;

struct sim_indicator {
    sim_ext_ind_state *st;
    sim_ext_ind_kind kind;
};

/* ------------------------------------------------------------ host */

static int host_new(const char *kind, const int p[3], double k, sim_indicator **out)
{
    sim_ext_ind_spec sp = {.k = k > 0 ? k : 2};
    *out = NULL;
    if (!kind || sim_ext_ind_kind_parse(kind, &sp.kind) || !isfinite(k) || k < 0)
        return PT_EINVAL;
    snprintf(sp.name, sizeof sp.name, "%s", kind);
    for (int i = 0; i < 3; i++) {
        int def = sim_ext_ind_default(sp.kind, i);
        sp.p[i] = p && p[i] ? p[i] : def;
        if (def && sp.p[i] < 1)
            return PT_EINVAL; /* a period the kind needs, missing or < 1 */
    }
    sim_indicator *ind = calloc(1, sizeof *ind);
    if (!ind)
        return PT_ENOMEM;
    ind->kind = sp.kind;
    int rc = sim_ext_ind_new(&sp, 1, &ind->st);
    if (rc) {
        free(ind);
        return rc;
    }
    *out = ind;
    return PT_OK;
}

static int host_update(sim_indicator *ind, const pt_candle *c, double out[3])
{
    return sim_ext_ind_update(ind->st, c, out);
}

static int host_outputs(const sim_indicator *ind) { return sim_ext_ind_outputs(ind->kind); }

static void host_free(sim_indicator *ind)
{
    if (!ind)
        return;
    sim_ext_ind_free(ind->st);
    free(ind);
}

static const sim_host host = {SIM_STRATEGY_ABI_2, host_new, host_update, host_outputs, host_free};

/* ------------------------------------------------------------ the wrapper */

/* Never called: the engine and sim_strategy_create take the v2 path. */
static int v2_create(const double *v, void **state, char *err, size_t cap)
{
    (void)v, (void)state;
    return sim_errf(err, cap, "internal: an ABI 2 table is created through sim_strategy_create");
}

static int v2_on_candle(void *st, const pt_candle *c, const sim_position_view *p, sim_signal *o)
{
    (void)st, (void)c, (void)p, (void)o;
    return PT_EUNSUPPORTED;
}

static void v2_free(void *st) { (void)st; }

const sim_strategy_ops_v2 *sim_v2_of(const sim_strategy_ops *ops)
{
    return ops && ops->abi == SIM_V2_TAG ? ((const sim_v2 *)(const void *)ops)->v2 : NULL;
}

int sim_v2_validate(const sim_strategy_ops_v2 *o, const char *origin, char *err, size_t cap)
{
    if (!o)
        return sim_errf(err, cap, "%s: entry point returned NULL", origin);
    if (o->abi != SIM_STRATEGY_ABI_2)
        return sim_errf(err, cap, "%s: %s() returned a table of ABI %d, not %d", origin,
                        SIM_STRATEGY_ENTRY_V2, o->abi, SIM_STRATEGY_ABI_2);
    /* the rest are the v1 rules with the v2 caps: check them on the v1 view */
    sim_strategy_ops v1 = {SIM_STRATEGY_ABI, o->name, o->description, o->params, o->n_params,
                           o->indicator_names, 0, v2_create, v2_on_candle, v2_free};
    if (!o->create || !o->on_candle || !o->free)
        return sim_errf(err, cap, "%s: strategy '%s' lacks create, on_candle or free", origin,
                        o->name ? o->name : "?");
    if (o->n_indicators < 0 || o->n_indicators > SIM_MAX_INDICATORS_V2 ||
        (o->n_indicators && !o->indicator_names))
        return sim_errf(err, cap, "%s: strategy '%s' declares %d indicators (0..%d, names required)",
                        origin, o->name ? o->name : "?", o->n_indicators, SIM_MAX_INDICATORS_V2);
    for (int i = 0; i < o->n_indicators; i++)
        if (!o->indicator_names[i])
            return sim_errf(err, cap, "%s: strategy '%s' indicator %d has no name", origin,
                            o->name ? o->name : "?", i);
    return sim_strategy_validate(&v1, origin, err, cap);
}

int sim_v2_wrap(const sim_strategy_ops_v2 *o, sim_strategy_ops **out)
{
    sim_v2 *w = calloc(1, sizeof *w);
    *out = NULL;
    if (!w)
        return PT_ENOMEM;
    /* the dashboard shows the first SIM_MAX_INDICATORS values */
    int shown = o->n_indicators < SIM_MAX_INDICATORS ? o->n_indicators : SIM_MAX_INDICATORS;
    w->ops = (sim_strategy_ops){SIM_V2_TAG,      o->name,   o->description, o->params,
                                o->n_params,     o->indicator_names, shown, v2_create,
                                v2_on_candle,    v2_free};
    w->v2 = o;
    *out = &w->ops;
    return PT_OK;
}

/* ------------------------------------------------------------ dispatch */

int sim_strategy_create(const sim_strategy_ops *ops, const double *values, void **state, char *err,
                        size_t cap)
{
    const sim_strategy_ops_v2 *v2 = sim_v2_of(ops);
    return v2 ? v2->create(&host, values, state, err, cap) : ops->create(values, state, err, cap);
}

void sim_strategy_free_state(const sim_strategy_ops *ops, void *state)
{
    const sim_strategy_ops_v2 *v2 = sim_v2_of(ops);
    if (v2)
        v2->free(state);
    else if (ops->free)
        ops->free(state);
}
