/* backtest --config FILE: config file and environment as leading flags
 * (session.h). */
#include "session.h"

#include "ops.h"
#include "portfolio.h"
#include "pt_core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

#define BC_MAX_DERIVED 64
#define BC_ARG 192

/* The order the derived flags are recorded in (session.json "args"), as it
 * was before they came from the schema: same config, same bytes. A NULL key:
 * the section's keys in schema order, but "out". */
static const struct {
    const char *section, *key;
} derive_order[] = {{"strategy", NULL}, {"session", NULL}, {"session", "out"}, {"quality", NULL}, {"risk", NULL}};

struct bc_store {
    session_backtest_argv a;
    char derived[BC_MAX_DERIVED][BC_ARG];
};

void session_backtest_config_free(session_backtest_argv *a)
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

/* [symbol.NAME] KEY = V as --rule=NAME:KEY=V (session_rules.c). */
static int derive_rules(const ops_config *c, struct bc_store *st, int *n)
{
    const char *name, *key;
    char section[64];
    for (int i = 0; (name = ops_config_symbol_at(c, i)); i++) {
        snprintf(section, sizeof section, "symbol.%s", name);
        for (size_t k = 0; (key = pf_rules_key(k)); k++) {
            const char *v = ops_config_get(c, section, key);
            if (v && (*n >= BC_MAX_DERIVED - 32 ||
                      snprintf(st->derived[(*n)++], BC_ARG, "--rule=%s:%s=%s", name, key, v) >= BC_ARG)) {
                fprintf(stderr, "papertrader backtest: too many or too long [symbol.*] keys\n");
                return -1;
            }
        }
    }
    return 0;
}

int session_backtest_config_args(int argc, char **argv, session_backtest_argv **out)
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
    /* a [strategy] from the file or env is checked here, with the lines of
     * its values, and with the command line's --strategy/--param on top */
    if (set_by_user(c, "strategy", "name") || ops_config_strategy_params(c, kv, 32) > 0) {
        const char *over_kv[32];
        session_strategy_overrides over;
        session_strategy_overrides_scan(argc, argv, &over, over_kv, 32);
        if (session_strategy_check(c, &over)) {
            fprintf(stderr, "papertrader backtest: [strategy] of %s rejected\n",
                    file ? file : "the PAPERTRADER_* environment");
            goto fail;
        }
    }
    /* the keys with a backtest flag (ops_config.c's schema), as that flag */
    for (size_t o = 0; o < sizeof derive_order / sizeof derive_order[0]; o++) {
        ops_config_key_info k;
        for (size_t i = 0; !ops_config_key_at(i, &k); i++) {
            if (!(k.cmds & OPS_CMD_BACKTEST) || !set_by_user(c, k.section, k.key) ||
                strcmp(k.section, derive_order[o].section) ||
                (derive_order[o].key ? strcmp(k.key, derive_order[o].key) : !strcmp(k.key, "out")))
                continue;
            const char *v = ops_config_get(c, k.section, k.key);
            if (!k.takes_value && !ops_config_get_bool(c, k.section, k.key))
                continue;
            if (n == BC_MAX_DERIVED - 1 - 32) /* room for cooldown and the [strategy] parameters */
                break;
            if (!k.takes_value)
                snprintf(st->derived[n++], BC_ARG, "--%s", k.flag);
            else if (snprintf(st->derived[n++], BC_ARG, "--%s=%s", k.flag, v) >= BC_ARG) {
                fprintf(stderr, "papertrader backtest: [%s] %s is too long\n", k.section, k.key);
                goto fail;
            }
        }
    }
    if (set_by_user(c, "risk", "cooldown_losses") || set_by_user(c, "risk", "cooldown_candles")) {
        int losses = (int)ops_config_get_num(c, "risk", "cooldown_losses", 0);
        int candles = (int)ops_config_get_num(c, "risk", "cooldown_candles", 0);
        if (losses > 0 && candles > 0)
            snprintf(st->derived[n++], BC_ARG, "--cooldown-losses=%d:%d", losses, candles);
    }
    if (derive_rules(c, st, &n))
        goto fail;
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
    session_backtest_config_free(st ? &st->a : NULL);
    return code;
}
