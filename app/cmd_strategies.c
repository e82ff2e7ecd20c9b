/* papertrader strategies: list the built-in strategies (or describe one, or a
 * plugin) with their parameters, defaults, ranges and indicators. */
#include "commands.h"
#include "pt_core.h"
#include "sim.h"

#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

static void usage(FILE *out)
{
    fprintf(out,
            "usage: papertrader strategies [--json] [NAME | PATH.so | PATH.py | PROGRAM]\n"
            "  Lists the built-in strategies with their parameters (default, range) and the\n"
            "  indicator values they report. With NAME, a plugin PATH.so or a strategy\n"
            "  program (PATH.py, PATH.mjs, any executable), describes that one.\n"
            "  Parameters are set with --param K=V (backtest, run) or as keys of [strategy].\n"
            "  --json   machine-readable output\n"
            "A strategy in Python (docs/strategies.md, SDK in sdk/python/papertrader.py):\n"
            "  write   a class with params, indicators and on_candle (examples/strategies/sma_cross.py)\n"
            "  check   papertrader strategies my.py   (runs it once: name, parameters, ranges)\n"
            "  test    papertrader.replay(MyStrategy, \"candles.csv\") in a unit test, no engine\n"
            "  sweep   papertrader optimize --strategy my.py --grid fast=5:20:5 FILE.csv\n"
            "          (walk-forward for out-of-sample folds; docs/optimize.md)\n"
            "  run     papertrader backtest --strategy my.py --param fast=5 FILE.csv\n"
            "          (also run, demo, backtest --serve; protocol: docs/strategy-protocol.md)\n"
            "Rules of each strategy: docs/strategies.md.\n");
}

static void print_text(const sim_strategy_ops *o, int plugin)
{
    char d[32], lo[32], hi[32];
    printf("%s%s\n  %s\n", o->name, plugin == 2 ? " (external)" : plugin ? " (plugin)" : "",
           o->description ? o->description : "");
    for (int i = 0; i < o->n_params; i++) {
        const sim_param_spec *p = &o->params[i];
        pt_format_double(p->def, d, sizeof d);
        pt_format_double(p->min, lo, sizeof lo);
        pt_format_double(p->max, hi, sizeof hi);
        char range[80];
        snprintf(range, sizeof range, "%s [%s, %s]", p->integer ? "integer" : "number", lo, hi);
        printf("  %-14s default %-8s %-22s %s\n", p->name, d, range, p->help ? p->help : "");
    }
    printf("  indicators:");
    for (int i = 0; i < o->n_indicators; i++)
        printf("%s %s", i ? "," : "", o->indicator_names[i]);
    printf("%s\n\n", o->n_indicators ? "" : " none");
}

static cJSON *to_json(const sim_strategy_ops *o, int plugin)
{
    cJSON *j = cJSON_CreateObject(), *ps = cJSON_CreateArray(), *is = cJSON_CreateArray();
    if (!j || !ps || !is) {
        cJSON_Delete(j);
        cJSON_Delete(ps);
        cJSON_Delete(is);
        return NULL;
    }
    cJSON_AddStringToObject(j, "name", o->name);
    cJSON_AddStringToObject(j, "description", o->description ? o->description : "");
    cJSON_AddBoolToObject(j, "builtin", !plugin);
    if (plugin == 2)
        cJSON_AddBoolToObject(j, "external", 1);
    for (int i = 0; i < o->n_params; i++) {
        const sim_param_spec *p = &o->params[i];
        cJSON *x = cJSON_CreateObject();
        cJSON_AddStringToObject(x, "name", p->name);
        cJSON_AddNumberToObject(x, "default", p->def);
        cJSON_AddNumberToObject(x, "min", p->min);
        cJSON_AddNumberToObject(x, "max", p->max);
        cJSON_AddBoolToObject(x, "integer", p->integer);
        cJSON_AddStringToObject(x, "help", p->help ? p->help : "");
        cJSON_AddItemToArray(ps, x);
    }
    for (int i = 0; i < o->n_indicators; i++)
        cJSON_AddItemToArray(is, cJSON_CreateString(o->indicator_names[i]));
    cJSON_AddItemToObject(j, "params", ps);
    cJSON_AddItemToObject(j, "indicators", is);
    return j;
}

int cmd_strategies(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"json", no_argument, 0, 'j'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int json = 0, c, rc = PT_EXIT_OK;
    const sim_strategy_ops *one = NULL;
    void *dl = NULL;
    cJSON *root = NULL;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "jh", longopts, NULL)) != -1) {
        switch (c) {
        case 'j': json = 1; break;
        case 'h': usage(stdout); return PT_EXIT_OK;
        default:
            fprintf(stderr, "papertrader strategies: unknown or incomplete option '%s'\n", argv[optind - 1]);
            return app_usage_hint("strategies");
        }
    }
    if (argc - optind > 1) {
        fprintf(stderr, "papertrader strategies: give at most one NAME or PATH.so\n");
        return app_usage_hint("strategies");
    }
    if (argc - optind == 1 && sim_strategy_load(argv[optind], &one, &dl) != PT_OK)
        return PT_EXIT_USAGE; /* the loader logged why, with the path */
    int kind = !dl ? 0 : sim_strategy_is_external(argv[optind]) ? 2 : 1;
    size_t n = one ? 1 : sim_strategy_builtin_count();
    if (json) {
        root = cJSON_CreateObject();
        cJSON *arr = root ? cJSON_AddArrayToObject(root, "strategies") : NULL;
        for (size_t i = 0; arr && i < n; i++) {
            cJSON *x = to_json(one ? one : sim_strategy_builtin_at(i), kind);
            if (!x)
                break;
            cJSON_AddItemToArray(arr, x);
        }
        char *text = arr && cJSON_GetArraySize(arr) == (int)n ? cJSON_Print(root) : NULL;
        if (!text) {
            fprintf(stderr, "papertrader strategies: out of memory\n");
            rc = PT_EXIT_FAILURE;
            goto out;
        }
        printf("%s\n", text);
        free(text);
    } else {
        for (size_t i = 0; i < n; i++)
            print_text(one ? one : sim_strategy_builtin_at(i), kind);
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "papertrader strategies: cannot write to stdout\n");
        rc = PT_EXIT_FAILURE;
    }
out:
    cJSON_Delete(root);
    sim_strategy_unload(dl);
    return rc;
}
