/* papertrader config check FILE: validate a config file (with the
 * environment applied, as a session would see it) and print the effective
 * config with the origin of every value. Exit 0 valid, 2 invalid. */
#include "commands.h"
#include "ops.h"
#include "sim.h"
#include "pt_core.h"
#include "session.h"

#include <stdio.h>
#include <string.h>

extern char **environ;

static void usage(FILE *out)
{
    fprintf(out, "usage: papertrader config check [--no-env] FILE\n"
                 "       papertrader config keys\n"
                 "  Validates FILE (INI: [session] [feed] [strategy] [risk] [quality] [server]\n"
                 "  [notify] [log]), applies PAPERTRADER_<SECTION>_<KEY> environment overrides\n"
                 "  unless --no-env, checks [strategy] as the strategy itself would (name,\n"
                 "  parameters, their ranges and relations), and prints the effective config\n"
                 "  with each value's origin.\n"
                 "  Exit 0 when valid, 2 when not (every error is named with file:line).\n"
                 "  `config keys` prints the schema, one key a line, tab-separated: key, flag,\n"
                 "  commands taking the flag, type, min, max, default, help (docs/config.md).\n");
}

/* The one table of options (ops_config.c's schema), for people and tests. */
static int print_keys(void)
{
    ops_config_key_info k;
    printf("# key\tflag\tcommands\ttype\tmin\tmax\tdefault\thelp\n");
    for (size_t i = 0; !ops_config_key_at(i, &k); i++) {
        int ranged = !strcmp(k.type, "number") || !strcmp(k.type, "integer");
        const char *cmds = k.cmds == (OPS_CMD_BACKTEST | OPS_CMD_SESSION) ? "backtest,run,demo"
                           : k.cmds == OPS_CMD_SESSION                    ? "run,demo"
                           : k.cmds == OPS_CMD_BACKTEST                   ? "backtest"
                                                                          : "-";
        printf("%s.%s\t%s%s\t%s\t%s%s%s%s\t", k.section, k.key, k.flag ? "--" : "-", k.flag ? k.flag : "",
               cmds, k.type, k.choices ? "(" : "", k.choices ? k.choices : "", k.choices ? ")" : "");
        if (ranged)
            printf("%.15g\t%.15g", k.min, k.max);
        else
            printf("-\t-");
        printf("\t%s\t%s\n", k.def ? k.def : "-", k.help);
    }
    return PT_EXIT_OK;
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
    if (argc == 2 && !strcmp(argv[1], "keys"))
        return print_keys();
    if (argc < 2 || strcmp(argv[1], "check")) {
        fprintf(stderr, "papertrader config: want 'check FILE' or 'keys'\n");
        return app_usage_hint("config");
    }
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--no-env"))
            use_env = 0;
        else if (argv[i][0] == '-' || file) {
            fprintf(stderr, "papertrader config: unexpected argument '%s'\n", argv[i]);
            return app_usage_hint("config");
        } else
            file = argv[i];
    }
    if (!file) {
        fprintf(stderr, "papertrader config: check wants a FILE\n");
        return app_usage_hint("config");
    }
    ops_config *cfg = NULL;
    if (ops_config_new(&cfg))
        return PT_EXIT_FAILURE;
    int rc = ops_config_load_file(cfg, file);
    if (use_env)
        ops_config_apply_env(cfg, environ);
    int code = PT_EXIT_OK, errors = ops_config_errors(cfg);
    if (!rc || errors) /* a file that could not be read has no [strategy] to check */
        errors += session_strategy_check(cfg, NULL);
    if (rc || errors) {
        fprintf(stderr, "papertrader config: %s is not valid (%d error%s)\n", file, errors ? errors : 1,
                errors == 1 ? "" : "s");
        code = PT_EXIT_USAGE;
    } else if (check_external_strategy(cfg, file)) {
        code = PT_EXIT_USAGE;
    } else {
        ops_config_print(cfg, stdout);
    }
    ops_config_free(cfg);
    return code;
}
