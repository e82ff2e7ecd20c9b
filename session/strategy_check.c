/* [strategy] of a config, checked with file:line (session.h). */
#include "session.h"

#include "pt_core.h"
#include "sim.h"

#include <stdio.h>
#include <string.h>

#define SC_MAX_KV 64

/* Where K of "K=V" came from: the override flag, else the config's origin. */
static const char *kv_origin(const ops_config *c, const char *kv, int is_flag)
{
    char key[64];
    snprintf(key, sizeof key, "%.*s", (int)strcspn(kv, "="), kv);
    const char *o = is_flag ? NULL : ops_config_origin(c, "strategy", key);
    return o ? o : "flag --param";
}

int session_strategy_check(const ops_config *c, const session_strategy_overrides *over)
{
    const char *name = over && over->name ? over->name : ops_config_get(c, "strategy", "name");
    const char *where = over && over->name ? "flag --strategy" : ops_config_origin(c, "strategy", "name");
    const sim_strategy_ops *ops = NULL;
    void *dl = NULL;
    if (!name || sim_strategy_load(name, &ops, &dl)) {
        pt_err_log("%s: [strategy] name = '%s': unknown strategy (papertrader strategies lists them)",
                   where ? where : "default", name ? name : "");
        return 1;
    }
    char cfg_kv[SC_MAX_KV][64], err[256];
    const char *kv[SC_MAX_KV];
    int is_flag[SC_MAX_KV], n = ops_config_strategy_params(c, cfg_kv, SC_MAX_KV), errors = 0;
    for (int i = 0; i < n; i++)
        kv[i] = cfg_kv[i], is_flag[i] = 0;
    for (int i = 0; over && i < over->n_kv && n < SC_MAX_KV; i++)
        kv[n] = over->kv[i], is_flag[n++] = 1;
    double values[SIM_MAX_PARAMS];
    for (int i = 0; i < n; i++) /* one at a time: each error names its own line */
        if (sim_strategy_params(ops, &kv[i], 1, values, err, sizeof err)) {
            pt_err_log("%s: [strategy] %s", kv_origin(c, kv[i], is_flag[i]), err);
            errors++;
        }
    void *probe = NULL;
    if (!errors && sim_strategy_params(ops, kv, n, values, err, sizeof err) == PT_OK) {
        if (sim_strategy_create(ops, values, &probe, err, sizeof err)) {
            /* a relation between values: name every line that set one */
            char lines[512] = "";
            for (int i = 0; i < n; i++) {
                size_t used = strlen(lines);
                snprintf(lines + used, sizeof lines - used, "%s%s", used ? ", " : "",
                         kv_origin(c, kv[i], is_flag[i]));
            }
            pt_err_log("%s: [strategy] %s: %s", lines[0] ? lines : (where ? where : "default"), name, err);
            errors++;
        } else {
            sim_strategy_free_state(ops, probe);
        }
    }
    sim_strategy_unload(dl);
    return errors;
}

void session_strategy_overrides_scan(int argc, char **argv, session_strategy_overrides *over, const char **kv_buf, int cap)
{
    *over = (session_strategy_overrides){NULL, kv_buf, 0};
    for (int i = 1; i < argc && strcmp(argv[i], "--"); i++) {
        const char *v = NULL;
        int is_param = !strncmp(argv[i], "--param", 7), is_strategy = !strncmp(argv[i], "--strategy", 10);
        const char *rest = argv[i] + (is_param ? 7 : is_strategy ? 10 : 0);
        if (!is_param && !is_strategy)
            continue;
        if (!*rest && i + 1 < argc)
            v = argv[++i];
        else if (*rest == '=')
            v = rest + 1;
        if (!v)
            continue;
        if (is_strategy)
            over->name = v;
        else if (over->n_kv < cap)
            kv_buf[over->n_kv++] = v;
    }
}
