/* Strategy registry: built-ins by name, plugins via dlopen, external
 * strategies (sim_ext.c), parameters. */
#include "sim_ext_internal.h"

#include <dlfcn.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What sim_strategy_load hands out as *dl_handle. */
typedef struct strategy_lib {
    void *dl;    /* a plugin's dlopen handle */
    sim_ext *ext; /* an external strategy's table and child */
    sim_strategy_ops *v2; /* an ABI-2 plugin's wrapped table */
} strategy_lib;

static int lib_wrap(void *dl, sim_ext *ext, sim_strategy_ops *v2, void **out)
{
    strategy_lib *l = malloc(sizeof *l);
    if (!l) {
        if (dl)
            dlclose(dl);
        sim_ext_free(ext);
        free(v2);
        return PT_ENOMEM;
    }
    *l = (strategy_lib){dl, ext, v2};
    *out = l;
    return PT_OK;
}

const sim_strategy_ops *sim_strategy_builtin(const char *name)
{
    for (size_t i = 0; name && i < sim_builtin_strategy_count; i++)
        if (!strcmp(sim_builtin_strategies[i]->name, name))
            return sim_builtin_strategies[i];
    return NULL;
}

size_t sim_strategy_builtin_count(void)
{
    return sim_builtin_strategy_count;
}

const sim_strategy_ops *sim_strategy_builtin_at(size_t i)
{
    return i < sim_builtin_strategy_count ? sim_builtin_strategies[i] : NULL;
}

int sim_errf(char *err, size_t cap, const char *fmt, ...)
{
    if (err && cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, cap, fmt, ap);
        va_end(ap);
    }
    return PT_EINVAL;
}

int sim_strategy_validate(const sim_strategy_ops *ops, const char *origin, char *err,
                          size_t errcap)
{
    if (!ops)
        return sim_errf(err, errcap, "%s: entry point returned NULL", origin);
    if (ops->abi != SIM_STRATEGY_ABI)
        return sim_errf(err, errcap, "%s: strategy ABI %d, this papertrader needs %d (rebuild it against sim_strategy.h)",
                    origin, ops->abi, SIM_STRATEGY_ABI);
    if (!ops->name || !ops->name[0])
        return sim_errf(err, errcap, "%s: strategy has no name", origin);
    if (!ops->create || !ops->on_candle || !ops->free)
        return sim_errf(err, errcap, "%s: strategy '%s' lacks create, on_candle or free", origin,
                    ops->name);
    if (ops->n_params < 0 || ops->n_params > SIM_MAX_PARAMS || (ops->n_params && !ops->params))
        return sim_errf(err, errcap, "%s: strategy '%s' declares %d parameters (0..%d, table required)",
                    origin, ops->name, ops->n_params, SIM_MAX_PARAMS);
    if (ops->n_indicators < 0 || ops->n_indicators > SIM_MAX_INDICATORS ||
        (ops->n_indicators && !ops->indicator_names))
        return sim_errf(err, errcap, "%s: strategy '%s' declares %d indicators (0..%d, names required)",
                    origin, ops->name, ops->n_indicators, SIM_MAX_INDICATORS);
    for (int i = 0; i < ops->n_indicators; i++)
        if (!ops->indicator_names[i])
            return sim_errf(err, errcap, "%s: strategy '%s' indicator %d has no name", origin,
                        ops->name, i);
    for (int i = 0; i < ops->n_params; i++) {
        const sim_param_spec *p = &ops->params[i];
        if (!p->name || !p->name[0] || strchr(p->name, '='))
            return sim_errf(err, errcap, "%s: strategy '%s' parameter %d has no valid name", origin,
                        ops->name, i);
        if (!isfinite(p->min) || !isfinite(p->max) || !isfinite(p->def) || p->min > p->def ||
            p->def > p->max || (p->integer && p->def != floor(p->def)))
            return sim_errf(err, errcap, "%s: strategy '%s' parameter '%s': default %g not in [%g, %g]",
                        origin, ops->name, p->name, p->def, p->min, p->max);
    }
    return PT_OK;
}

int sim_strategy_is_external(const char *name_or_path)
{
    return sim_ext_is_external(name_or_path);
}

int sim_strategy_shorts(const sim_strategy_ops *ops)
{
    const sim_ext *x = sim_ext_of(ops);
    if (x)
        return x->shorts;
    for (size_t i = 0; i < sim_builtin_strategy_count; i++)
        if (sim_builtin_strategies[i] == ops)
            return sim_builtin_shorts(ops);
    return -1; /* a v1 plugin cannot say */
}

void sim_strategy_warn_short(const sim_strategy_ops *ops, int allow_short)
{
    if (allow_short && sim_strategy_shorts(ops) == 0)
        pt_warn("--allow-short: strategy %s never goes short (long only); the option changes "
                "nothing for it%s", ops->name,
                sim_ext_of(ops) ? " (an external strategy says \"shorts\":true in ready)" : "");
}

/* An ABI-2 plugin (sim_strategy.h): checked, then wrapped for the engine.
 * Owns h: closed on failure. */
static int load_v2(void *h, void *sym, const char *path, const sim_strategy_ops **ops,
                   void **dl_handle)
{
    char err[256];
    sim_strategy_entry_v2_fn entry;
    memcpy(&entry, &sym, sizeof entry); /* ISO C forbids casting void* to a function pointer */
    const sim_strategy_ops_v2 *o = entry();
    sim_strategy_ops *w = NULL;
    int rc = sim_v2_validate(o, path, err, sizeof err);
    if (rc)
        pt_err_log("strategy plugin %s", err);
    else
        rc = sim_v2_wrap(o, &w);
    if (rc) {
        dlclose(h);
        return rc;
    }
    *ops = w;
    return lib_wrap(h, NULL, w, dl_handle); /* closes h and frees w on failure */
}

static int is_path(const char *s)
{
    size_t n = strlen(s);
    return strchr(s, '/') || (n >= 3 && !strcmp(s + n - 3, ".so"));
}

int sim_strategy_load(const char *name_or_path, const sim_strategy_ops **ops, void **dl_handle)
{
    char err[256], path[4096];
    void *h = NULL;
    int rc = PT_EINVAL;
    *ops = NULL;
    *dl_handle = NULL;
    if (!name_or_path || !name_or_path[0]) {
        pt_err_log("strategy: empty name");
        return PT_EINVAL;
    }
    if (sim_ext_is_external(name_or_path)) {
        sim_ext *x;
        if ((rc = sim_ext_load(name_or_path, &x)))
            return rc;
        *ops = sim_ext_table(x);
        return lib_wrap(NULL, x, NULL, dl_handle);
    }
    if (!is_path(name_or_path)) {
        *ops = sim_strategy_builtin(name_or_path);
        if (*ops)
            return PT_OK;
        char names[256] = "";
        for (size_t i = 0; i < sim_builtin_strategy_count; i++)
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? ", " : "",
                     sim_builtin_strategies[i]->name);
        pt_err_log("strategy '%s': unknown (built-ins: %s; a plugin path contains '/' or ends in .so)",
                   name_or_path, names);
        return PT_ENOENT;
    }
    /* a bare "libx.so" would be searched on the library path; mean ./libx.so */
    if (snprintf(path, sizeof path, "%s%s", strchr(name_or_path, '/') ? "" : "./", name_or_path) >=
        (int)sizeof path) {
        pt_err_log("strategy plugin path too long: %.64s...", name_or_path);
        return PT_EINVAL;
    }
    h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        pt_err_log("strategy plugin %s: cannot load: %s", path, dlerror());
        return PT_ENOENT;
    }
    dlerror();
    void *sym = dlsym(h, SIM_STRATEGY_ENTRY_V2);
    if (sym)
        return load_v2(h, sym, path, ops, dl_handle);
    sym = dlsym(h, SIM_STRATEGY_ENTRY);
    if (!sym) {
        const char *why = dlerror();
        pt_err_log("strategy plugin %s: no %s() or %s(): %s", path, SIM_STRATEGY_ENTRY_V2,
                   SIM_STRATEGY_ENTRY, why ? why : "NULL");
        goto fail;
    }
    sim_strategy_entry_fn entry;
    memcpy(&entry, &sym, sizeof entry); /* ISO C forbids casting void* to a function pointer */
    const sim_strategy_ops *o = entry();
    if (sim_strategy_validate(o, path, err, sizeof err)) {
        pt_err_log("strategy plugin %s", err);
        goto fail;
    }
    *ops = o;
    return lib_wrap(h, NULL, NULL, dl_handle);
fail:
    dlclose(h);
    return rc;
}

void sim_strategy_unload(void *dl_handle)
{
    strategy_lib *l = dl_handle;
    if (!l)
        return;
    sim_ext_free(l->ext);
    free(l->v2);
    if (l->dl)
        dlclose(l->dl);
    free(l);
}

static const sim_param_spec *find_param(const sim_strategy_ops *ops, const char *k, size_t klen,
                                        int *idx)
{
    for (int i = 0; i < ops->n_params; i++)
        if (strlen(ops->params[i].name) == klen && !strncmp(ops->params[i].name, k, klen)) {
            *idx = i;
            return &ops->params[i];
        }
    return NULL;
}

int sim_strategy_params(const sim_strategy_ops *ops, const char *const *kv, int n_kv,
                        double *values, char *err, size_t errcap)
{
    if (err && errcap)
        err[0] = '\0';
    for (int i = 0; i < ops->n_params; i++)
        values[i] = ops->params[i].def;
    for (int j = 0; j < n_kv; j++) {
        const char *s = kv[j], *eq = s ? strchr(s, '=') : NULL;
        if (!eq || eq == s)
            return sim_errf(err, errcap, "strategy '%s': parameter '%s' is not KEY=VALUE", ops->name,
                        s ? s : "(null)");
        int idx = -1;
        size_t klen = (size_t)(eq - s);
        const sim_param_spec *p = find_param(ops, s, klen, &idx);
        if (!p) {
            char known[256] = "";
            for (int i = 0; i < ops->n_params; i++)
                snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", i ? ", " : "",
                         ops->params[i].name);
            return sim_errf(err, errcap, "strategy '%s': unknown parameter '%.*s' (known: %s)",
                        ops->name, (int)klen, s, ops->n_params ? known : "none");
        }
        const char *why = NULL;
        double v;
        if (pt_parse_decimal(eq + 1, strlen(eq + 1), &v, &why))
            return sim_errf(err, errcap, "strategy '%s': parameter '%s' = '%s': %s (expected a number in [%g, %g])",
                        ops->name, p->name, eq + 1, why ? why : "not a number", p->min, p->max);
        if (v < p->min || v > p->max)
            return sim_errf(err, errcap, "strategy '%s': parameter '%s' = %g out of range [%g, %g]",
                        ops->name, p->name, v, p->min, p->max);
        if (p->integer && v != floor(v))
            return sim_errf(err, errcap, "strategy '%s': parameter '%s' = %g must be a whole number in [%g, %g]",
                        ops->name, p->name, v, p->min, p->max);
        values[idx] = v;
    }
    return PT_OK;
}
