/* papertrader config check FILE: validate a config file (with the
 * environment applied, as a session would see it) and print the effective
 * config with the origin of every value. Exit 0 valid, 2 invalid. */
#include "commands.h"
#include "ops.h"
#include "sim.h"
#include "pt_core.h"

#include <stdio.h>
#include <string.h>

extern char **environ;

static void usage(FILE *out)
{
    fprintf(out, "usage: papertrader config check [--no-env] FILE\n"
                 "  Validates FILE (INI: [session] [feed] [strategy] [risk] [quality] [server]\n"
                 "  [notify] [log]), applies PAPERTRADER_<SECTION>_<KEY> environment overrides\n"
                 "  unless --no-env, and prints the effective config with each value's origin.\n"
                 "  Exit 0 when valid, 2 when not (every error is named with file:line).\n");
}

/* An external strategy program is run once (describe) and the [strategy]
 * keys are checked against the parameters it declares (docs/config.md). */
static int check_external_strategy(const ops_config *cfg, const char *file)
{
    const char *name = ops_config_get(cfg, "strategy", "name");
    if (!sim_strategy_is_external(name))
        return 0;
    char kv[64][64], err[256];
    const char *ptr[64];
    double values[SIM_MAX_PARAMS];
    const sim_strategy_ops *ops;
    void *dl = NULL;
    int n = ops_config_strategy_params(cfg, kv, 64), bad = 0;
    for (int i = 0; i < n; i++)
        ptr[i] = kv[i];
    if (sim_strategy_load(name, &ops, &dl)) {
        fprintf(stderr, "papertrader config: %s: [strategy] name: %s does not start as a strategy (above)\n",
                file, name);
        bad = 1;
    } else if (sim_strategy_params(ops, ptr, n, values, err, sizeof err)) {
        fprintf(stderr, "papertrader config: %s: [strategy]: %s\n", file, err);
        bad = 1;
    }
    sim_strategy_unload(dl);
    return bad;
}

int cmd_config(int argc, char **argv)
{
    if (app_wants_help(argc, argv)) {
        usage(stdout);
        return PT_EXIT_OK;
    }
    int use_env = 1;
    const char *file = NULL;
    if (argc < 2 || strcmp(argv[1], "check")) {
        usage(stderr);
        return PT_EXIT_USAGE;
    }
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--no-env"))
            use_env = 0;
        else if (argv[i][0] == '-' || file) {
            fprintf(stderr, "papertrader config: unexpected argument '%s'\n", argv[i]);
            usage(stderr);
            return PT_EXIT_USAGE;
        } else
            file = argv[i];
    }
    if (!file) {
        usage(stderr);
        return PT_EXIT_USAGE;
    }
    ops_config *cfg = NULL;
    if (ops_config_new(&cfg))
        return PT_EXIT_FAILURE;
    int rc = ops_config_load_file(cfg, file);
    if (use_env)
        ops_config_apply_env(cfg, environ);
    int code = PT_EXIT_OK;
    if (rc || ops_config_errors(cfg)) {
        fprintf(stderr, "papertrader config: %s is not valid (%d error%s)\n", file,
                ops_config_errors(cfg) ? ops_config_errors(cfg) : 1,
                ops_config_errors(cfg) == 1 ? "" : "s");
        code = PT_EXIT_USAGE;
    } else if (check_external_strategy(cfg, file)) {
        code = PT_EXIT_USAGE;
    } else {
        ops_config_print(cfg, stdout);
    }
    ops_config_free(cfg);
    return code;
}
