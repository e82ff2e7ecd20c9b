/* backtest --config FILE: config file and environment as leading flags
 * (backtest_config.h). */
#include "backtest_config.h"

#include "ops.h"
#include "pt_core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

#define BC_MAX_DERIVED 64
#define BC_ARG 192

/* Engine keys with the backtest flag each one stands for (the same table
 * of names as app/session_opts.c's, limited to what shapes a backtest). */
static const struct {
    const char *flag, *section, *key;
    int is_bool;
} engine_keys[] = {
    {"strategy", "strategy", "name", 0},
    {"cash", "session", "cash", 0},
    {"fee-bps", "session", "fee_bps", 0},
    {"maker-fee-bps", "session", "maker_fee_bps", 0},
    {"slippage-bps", "session", "slippage_bps", 0},
    {"sizing", "session", "sizing", 0},
    {"allow-short", "session", "allow_short", 1},
    {"close-at-end", "session", "close_at_end", 1},
    {"out", "session", "out", 0},
    {"min-quality", "quality", "min_quality", 0},
    {"max-positions", "risk", "max_positions", 0},
    {"max-exposure-pct", "risk", "max_exposure_pct", 0},
    {"daily-loss-pct", "risk", "daily_loss_pct", 0},
    {"max-drawdown-pct", "risk", "max_drawdown_pct", 0},
    {"min-notional", "risk", "min_notional", 0},
};

struct bc_store {
    backtest_argv a;
    char derived[BC_MAX_DERIVED][BC_ARG];
};

void backtest_config_free(backtest_argv *a)
{
    if (a)
        free(a->argv);
    free(a); /* a is the first member of its bc_store */
}

static const char *find_config(int argc, char **argv)
{
    for (int i = 1; i < argc && strcmp(argv[i], "--"); i++) {
        if (!strcmp(argv[i], "--config") && i + 1 < argc)
            return argv[i + 1];
        if (!strncmp(argv[i], "--config=", 9))
            return argv[i] + 9;
    }
    return NULL;
}

static int set_by_user(const ops_config *c, const char *section, const char *key)
{
    const char *origin = ops_config_origin(c, section, key);
    return origin && strcmp(origin, "default");
}

int backtest_config_args(int argc, char **argv, backtest_argv **out)
{
    int code = PT_EXIT_FAILURE, n = 0;
    ops_config *c = NULL;
    struct bc_store *st = calloc(1, sizeof *st);
    char kv[32][64];
    if (!st || ops_config_new(&c))
        goto fail;
    const char *file = find_config(argc, argv);
    code = PT_EXIT_USAGE;
    /* errors are logged by ops_config with file:line and a suggestion */
    if (file && (ops_config_load_file(c, file) || ops_config_errors(c))) {
        fprintf(stderr, "papertrader backtest: config %s rejected\n", file);
        goto fail;
    }
    if (ops_config_apply_env(c, environ) || ops_config_errors(c)) {
        fprintf(stderr, "papertrader backtest: PAPERTRADER_* environment rejected\n");
        goto fail;
    }
    for (size_t i = 0; i < sizeof engine_keys / sizeof engine_keys[0]; i++) {
        if (!set_by_user(c, engine_keys[i].section, engine_keys[i].key))
            continue;
        const char *v = ops_config_get(c, engine_keys[i].section, engine_keys[i].key);
        if (engine_keys[i].is_bool && !ops_config_get_bool(c, engine_keys[i].section, engine_keys[i].key))
            continue;
        if (engine_keys[i].is_bool)
            snprintf(st->derived[n++], BC_ARG, "--%s", engine_keys[i].flag);
        else if (snprintf(st->derived[n++], BC_ARG, "--%s=%s", engine_keys[i].flag, v) >= BC_ARG) {
            fprintf(stderr, "papertrader backtest: [%s] %s is too long\n", engine_keys[i].section,
                    engine_keys[i].key);
            goto fail;
        }
    }
    if (set_by_user(c, "risk", "cooldown_losses") || set_by_user(c, "risk", "cooldown_candles")) {
        int losses = (int)ops_config_get_num(c, "risk", "cooldown_losses", 0);
        int candles = (int)ops_config_get_num(c, "risk", "cooldown_candles", 0);
        if (losses > 0 && candles > 0)
            snprintf(st->derived[n++], BC_ARG, "--cooldown-losses=%d:%d", losses, candles);
    }
    int np = ops_config_strategy_params(c, kv, 32);
    for (int i = 0; i < np && n < BC_MAX_DERIVED; i++)
        if (snprintf(st->derived[n++], BC_ARG, "--param=%.63s", kv[i]) < 0)
            goto fail;
    code = PT_EXIT_FAILURE;
    st->a.argv = calloc((size_t)(argc + n + 1), sizeof *st->a.argv);
    if (!st->a.argv)
        goto fail;
    st->a.argv[0] = argv[0];
    for (int i = 0; i < n; i++)
        st->a.argv[1 + i] = st->derived[i];
    for (int i = 1; i < argc; i++)
        st->a.argv[n + i] = argv[i];
    st->a.argc = argc + n;
    ops_config_free(c);
    *out = &st->a;
    return 0;
fail:
    ops_config_free(c);
    backtest_config_free(st ? &st->a : NULL);
    return code;
}
