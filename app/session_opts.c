/* Shared option parsing of the live commands; see session_opts.h. Flags that
 * have a config key are written into the layered config with origin
 * "flag --x" (so `defaults < file < env < flags` is one mechanism, and the
 * config validates ranges once); the rest go straight to the engine config. */
#include "session_opts.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

typedef struct flag_key {
    const char *flag, *section, *key;
    int has_arg;
} flag_key;

/* Engine flags keep backtest's names (cmd_backtest.c) so the same options
 * give the same engine; feed/server/log flags map to docs/config.md keys. */
static const flag_key cfg_flags[] = {
    {"exchange", "feed", "exchange", 1},     {"ws-url", "feed", "ws_url", 1},
    {"rest-url", "feed", "rest_url", 1},     {"symbols", "feed", "symbols", 1},
    {"interval", "feed", "interval", 1},     {"ca-file", "feed", "ca_file", 1},
    {"strategy", "strategy", "name", 1},     {"cash", "session", "cash", 1},
    {"fee-bps", "session", "fee_bps", 1},    {"maker-fee-bps", "session", "maker_fee_bps", 1},
    {"slippage-bps", "session", "slippage_bps", 1}, {"sizing", "session", "sizing", 1},
    {"allow-short", "session", "allow_short", 0},   {"close-at-end", "session", "close_at_end", 0},
    {"out", "session", "out", 1},            {"fsync", "session", "fsync", 1},
    {"min-quality", "quality", "min_quality", 1},   {"max-positions", "risk", "max_positions", 1},
    {"max-exposure-pct", "risk", "max_exposure_pct", 1},
    {"daily-loss-pct", "risk", "daily_loss_pct", 1},
    {"max-drawdown-pct", "risk", "max_drawdown_pct", 1},
    {"host", "server", "host", 1},           {"port", "server", "port", 1},
    {"token-file", "server", "token_file", 1}, {"log-dir", "log", "dir", 1},
    {"heartbeat", "log", "heartbeat_s", 1},
};
#define N_CFG_FLAGS (sizeof cfg_flags / sizeof cfg_flags[0])

enum {
    F_CONFIG = 1, F_PARAM, F_ATRP, F_ATRM, F_PART, F_COOL, F_QUIET, F_DURATION, F_NODASH,
    F_SPEED, F_FAULTS, F_UPDATES, F_SEED, F_CFG0 = 100,
};

void sess_opts_usage(FILE *out, int flags)
{
    fprintf(out,
            "session options (same engine flags as `papertrader backtest`):\n"
            "  --config FILE             INI config (defaults < file < PAPERTRADER_* env < flags)\n"
            "  --strategy NAME|PATH.so   strategy (default sma_cross); --param K=V sets a parameter\n"
            "  --cash N  --fee-bps N  --maker-fee-bps N  --slippage-bps N\n"
            "  --sizing all-in|quote:N|percent:P|risk:P  --atr-period N --atr-mult K\n"
            "  --min-quality N  --max-positions N  --max-exposure-pct P  --daily-loss-pct P\n"
            "  --max-drawdown-pct P  --cooldown-losses N:CANDLES  --max-participation-pct P\n"
            "  --allow-short  --close-at-end\n"
            "  --out DIR                 outputs (default logs/<UTC time>-<mode>)\n"
            "  --host H --port N         dashboard (default 127.0.0.1:8765; --port 0 = a free port)\n"
            "  --no-dashboard            no dashboard server\n"
            "  --heartbeat S             heartbeat log line period in seconds (default 60, 0 = off)\n"
            "  --duration S              stop after S seconds (default: until Ctrl-C)\n"
            "  --fsync every|none        ledger durability (default every)\n"
            "  --log-dir DIR             papertrader.log + errors.log (default: the --out folder)\n"
            "  --quiet                   no log lines on stderr\n");
    if (flags & SESS_F_SIM)
        fprintf(out, "simulator options:\n"
                     "  --speed X                 simulated ms per wall ms\n"
                     "  --faults SPEC             fault injection (papertrader exchange-sim --help)\n"
                     "  --updates N               in-progress updates per candle (default 4)\n"
                     "  --seed N                  synthetic market seed\n");
}

static int num_flag(const char *cmd, const char *flag, const char *text, double lo, double hi,
                    double *out)
{
    double v;
    const char *why = "out of range";
    if (pt_parse_decimal(text, strlen(text), &v, &why) || v < lo || v > hi) {
        fprintf(stderr, "papertrader %s: --%s '%s': %s (allowed %g..%g)\n", cmd, flag, text, why, lo,
                hi);
        return -1;
    }
    *out = v;
    return 0;
}

/* Pre-scan: the file layer goes under the env and flag layers. */
static const char *find_config(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--"))
            break;
        if (!strcmp(argv[i], "--config") && i + 1 < argc)
            return argv[i + 1];
        if (!strncmp(argv[i], "--config=", 9))
            return argv[i] + 9;
    }
    return NULL;
}

static int split_symbols(sess_opts *o, const char *list)
{
    snprintf(o->symbuf, sizeof o->symbuf, "%s", list ? list : "");
    o->n_symbols = 0;
    char *save = NULL;
    for (char *t = strtok_r(o->symbuf, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
        if (o->n_symbols == SESS_MAX_SYMBOLS || strlen(t) >= PT_SYMBOL_MAX)
            return -1;
        o->symbols[o->n_symbols++] = t;
    }
    return 0;
}

/* Engine config from the layered config (flags already in it). */
static int to_engine(sess_opts *o, int fee_flag, int maker_flag, int exposure_flag)
{
    const ops_config *c = o->cfg;
    sim_engine_config *e = &o->eng;
    e->cash = ops_config_get_num(c, "session", "cash", e->cash);
    e->taker_fee_bps = ops_config_get_num(c, "session", "fee_bps", e->taker_fee_bps);
    e->maker_fee_bps = ops_config_get_num(c, "session", "maker_fee_bps", e->maker_fee_bps);
    if (fee_flag && !maker_flag) /* backtest: --fee-bps sets both unless maker is given */
        e->maker_fee_bps = e->taker_fee_bps;
    e->slippage_bps = ops_config_get_num(c, "session", "slippage_bps", e->slippage_bps);
    snprintf(o->sizing_text, sizeof o->sizing_text, "%s", ops_config_get(c, "session", "sizing"));
    if (sim_sizing_parse(o->sizing_text, &e->sizing)) {
        fprintf(stderr, "papertrader %s: sizing '%s' is not valid\n", o->cmd, o->sizing_text);
        return -1;
    }
    e->allow_short = ops_config_get_bool(c, "session", "allow_short");
    e->close_at_end = ops_config_get_bool(c, "session", "close_at_end");
    e->min_quality = ops_config_get_num(c, "quality", "min_quality", e->min_quality);
    e->quality.window = (int)ops_config_get_num(c, "quality", "window", e->quality.window);
    e->max_positions = (int)ops_config_get_num(c, "risk", "max_positions", 0);
    if (e->max_positions >= PF_MAX_SYMBOLS) /* the schema default 64 = every symbol = off */
        e->max_positions = 0;
    e->max_exposure_pct = ops_config_get_num(c, "risk", "max_exposure_pct", 0);
    if (!exposure_flag && e->max_exposure_pct >= 100) /* schema default 100 = off, as backtest */
        e->max_exposure_pct = 0;
    e->daily_loss_pct = ops_config_get_num(c, "risk", "daily_loss_pct", 0);
    e->max_drawdown_pct = ops_config_get_num(c, "risk", "max_drawdown_pct", 0);
    e->cooldown_losses = (int)ops_config_get_num(c, "risk", "cooldown_losses", 0);
    e->cooldown_candles = (int)ops_config_get_num(c, "risk", "cooldown_candles", 0);
    return 0;
}

static int load_strategy(sess_opts *o, void **dl)
{
    char err[256] = "";
    o->strategy = ops_config_get(o->cfg, "strategy", "name");
    if (sim_strategy_load(o->strategy, &o->eng.strategy, dl)) {
        fprintf(stderr, "papertrader %s: unknown strategy '%s' (papertrader strategies lists them)\n",
                o->cmd, o->strategy);
        return -1;
    }
    if (sim_strategy_params(o->eng.strategy, o->params, o->n_params, o->eng.params, err, sizeof err)) {
        fprintf(stderr, "papertrader %s: %s\n", o->cmd, err);
        return -1;
    }
    void *probe = NULL; /* ranges pass but the set may be inconsistent (fast >= slow) */
    if (o->eng.strategy->create(o->eng.params, &probe, err, sizeof err)) {
        fprintf(stderr, "papertrader %s: %s: %s\n", o->cmd, o->strategy, err);
        return -1;
    }
    o->eng.strategy->free(probe);
    return 0;
}

static void *g_dl; /* one strategy library per process; released by sess_opts_free */

int sess_opts_parse(sess_opts *o, const char *cmd, int flags, int argc, char **argv)
{
    struct option lo[N_CFG_FLAGS + 16];
    size_t n = 0;
    for (size_t i = 0; i < N_CFG_FLAGS; i++)
        lo[n++] = (struct option){cfg_flags[i].flag, cfg_flags[i].has_arg ? required_argument : no_argument,
                                  NULL, F_CFG0 + (int)i};
    lo[n++] = (struct option){"config", required_argument, NULL, F_CONFIG};
    lo[n++] = (struct option){"param", required_argument, NULL, F_PARAM};
    lo[n++] = (struct option){"atr-period", required_argument, NULL, F_ATRP};
    lo[n++] = (struct option){"atr-mult", required_argument, NULL, F_ATRM};
    lo[n++] = (struct option){"max-participation-pct", required_argument, NULL, F_PART};
    lo[n++] = (struct option){"cooldown-losses", required_argument, NULL, F_COOL};
    lo[n++] = (struct option){"quiet", no_argument, NULL, F_QUIET};
    lo[n++] = (struct option){"duration", required_argument, NULL, F_DURATION};
    lo[n++] = (struct option){"no-dashboard", no_argument, NULL, F_NODASH};
    if (flags & SESS_F_SIM) {
        lo[n++] = (struct option){"speed", required_argument, NULL, F_SPEED};
        lo[n++] = (struct option){"faults", required_argument, NULL, F_FAULTS};
        lo[n++] = (struct option){"updates", required_argument, NULL, F_UPDATES};
        lo[n++] = (struct option){"seed", required_argument, NULL, F_SEED};
    }
    lo[n] = (struct option){NULL, 0, NULL, 0};

    memset(o, 0, sizeof *o);
    o->cmd = cmd;
    o->speed = 1;
    sim_engine_config_default(&o->eng);
    if (ops_config_new(&o->cfg))
        return PT_EXIT_FAILURE;
    const char *file = find_config(argc, argv);
    if (file && ops_config_load_file(o->cfg, file) && !ops_config_errors(o->cfg)) {
        fprintf(stderr, "papertrader %s: cannot read config %s\n", cmd, file);
        return PT_EXIT_USAGE;
    }
    ops_config_apply_env(o->cfg, environ);
    /* engine flags without a config key are applied after the config */
    double atr_mult = NAN, part = NAN, v;
    int atr_period = 0, fee_flag = 0, maker_flag = 0, exposure_flag = 0, nodash = 0;
    const char *flag_params[SESS_MAX_PARAMS];
    int n_flag_params = 0;
    int ch, bad = 0;
    optind = 1;
    opterr = 0;
    while (!bad && (ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        if (ch >= F_CFG0 && ch < F_CFG0 + (int)N_CFG_FLAGS) {
            const flag_key *k = &cfg_flags[ch - F_CFG0];
            char origin[64];
            snprintf(origin, sizeof origin, "flag --%s", k->flag);
            bad = ops_config_set(o->cfg, k->section, k->key, k->has_arg ? optarg : "true", origin) != PT_OK;
            fee_flag |= !strcmp(k->flag, "fee-bps");
            maker_flag |= !strcmp(k->flag, "maker-fee-bps");
            exposure_flag |= !strcmp(k->flag, "max-exposure-pct");
            continue;
        }
        switch (ch) {
        case F_CONFIG: break; /* loaded above */
        case F_PARAM:
            if (n_flag_params >= SESS_MAX_PARAMS || !strchr(optarg, '=')) {
                fprintf(stderr, "papertrader %s: --param wants K=V (at most %d)\n", cmd, SESS_MAX_PARAMS);
                bad = 1;
            } else {
                flag_params[n_flag_params++] = optarg;
            }
            break;
        case F_ATRP:
            bad = num_flag(cmd, "atr-period", optarg, 1, 10000, &v) || v != floor(v);
            atr_period = (int)v;
            break;
        case F_ATRM: bad = num_flag(cmd, "atr-mult", optarg, 1e-6, 1000, &atr_mult); break;
        case F_PART: bad = num_flag(cmd, "max-participation-pct", optarg, 0, 100, &part); break;
        case F_COOL: {
            char a[32], *colon = strchr(optarg, ':');
            if (!colon || (size_t)(colon - optarg) >= sizeof a) {
                fprintf(stderr, "papertrader %s: --cooldown-losses wants N:CANDLES\n", cmd);
                bad = 1;
                break;
            }
            snprintf(a, sizeof a, "%.*s", (int)(colon - optarg), optarg);
            bad = ops_config_set(o->cfg, "risk", "cooldown_losses", a, "flag --cooldown-losses") ||
                  ops_config_set(o->cfg, "risk", "cooldown_candles", colon + 1, "flag --cooldown-losses");
            break;
        }
        case F_QUIET: o->quiet = 1; break;
        case F_NODASH: nodash = 1; break;
        case F_DURATION: bad = num_flag(cmd, "duration", optarg, 0.1, 86400.0 * 365, &o->duration_s); break;
        case F_SPEED: bad = num_flag(cmd, "speed", optarg, 1e-3, 1e6, &o->speed); break;
        case F_FAULTS: o->faults = optarg; break;
        case F_UPDATES:
            bad = num_flag(cmd, "updates", optarg, 0, 999, &v) || v != floor(v);
            o->updates = v > 0 ? (int)v : -1;
            break;
        case F_SEED:
            bad = num_flag(cmd, "seed", optarg, 0, 9e15, &v) || v != floor(v);
            o->seed = (int64_t)v;
            break;
        default:
            fprintf(stderr, "papertrader %s: unknown or incomplete option '%s'\n", cmd, argv[optind - 1]);
            bad = 1;
        }
    }
    if (bad || ops_config_errors(o->cfg))
        return PT_EXIT_USAGE; /* the reason is printed or logged (with file:line) */
    o->rest = argv + optind;
    o->n_rest = argc - optind;
    if (!(flags & SESS_F_FILES) && o->n_rest) {
        fprintf(stderr, "papertrader %s: unexpected argument '%s'\n", cmd, o->rest[0]);
        return PT_EXIT_USAGE;
    }
    /* [strategy] K=V from the config first, flags override (later wins) */
    int nc = ops_config_strategy_params(o->cfg, o->cfg_params, SESS_MAX_PARAMS);
    for (int i = 0; i < nc && i < SESS_MAX_PARAMS; i++)
        o->params[o->n_params++] = o->cfg_params[i];
    for (int i = 0; i < n_flag_params; i++)
        o->params[o->n_params++] = flag_params[i];
    if (to_engine(o, fee_flag, maker_flag, exposure_flag))
        return PT_EXIT_USAGE;
    if (atr_period)
        o->eng.atr_period = atr_period;
    if (!isnan(atr_mult))
        o->eng.atr_mult = atr_mult;
    if (!isnan(part))
        o->eng.max_participation_pct = part;
    if (load_strategy(o, &g_dl))
        return PT_EXIT_USAGE;

    const ops_config *c = o->cfg;
    o->exchange = ops_config_get(c, "feed", "exchange");
    o->ws_url = ops_config_get(c, "feed", "ws_url");
    o->rest_url = ops_config_get(c, "feed", "rest_url");
    o->ca_file = ops_config_get(c, "feed", "ca_file");
    if (pt_interval_parse(ops_config_get(c, "feed", "interval"), &o->interval_ms))
        o->interval_ms = 60000;
    if (split_symbols(o, ops_config_get(c, "feed", "symbols"))) {
        fprintf(stderr, "papertrader %s: --symbols: at most %d names of < %d bytes\n", cmd,
                SESS_MAX_SYMBOLS, PT_SYMBOL_MAX);
        return PT_EXIT_USAGE;
    }
    o->backoff_base_ms = (int64_t)ops_config_get_num(c, "feed", "backoff_base_ms", 500);
    o->backoff_cap_ms = (int64_t)ops_config_get_num(c, "feed", "backoff_cap_ms", 30000);
    o->stale_after_ms = (int64_t)ops_config_get_num(c, "feed", "stale_after_s", 30) * 1000;
    o->out = ops_config_get(c, "session", "out");
    o->fsync_every = strcmp(ops_config_get(c, "session", "fsync"), "none") != 0;
    o->host = ops_config_get(c, "server", "host");
    o->port = nodash ? -1 : (int)ops_config_get_num(c, "server", "port", 8765);
    o->token = ops_config_get(c, "server", "token");
    o->log_dir = ops_config_get(c, "log", "dir");
    o->heartbeat_s = (int)ops_config_get_num(c, "log", "heartbeat_s", 60);
    return 0;
}

void sess_opts_free(sess_opts *o)
{
    if (!o)
        return;
    ops_config_free(o->cfg);
    o->cfg = NULL;
    sim_strategy_unload(g_dl);
    g_dl = NULL;
}
