/* Shared option parsing of the live commands; see session.h. Flags that
 * have a config key are written into the layered config with origin
 * "flag --x" (so `defaults < file < env < flags` is one mechanism, and the
 * config validates ranges once); the rest go straight to the engine config. */
#include "session.h"

#include "feed.h"
#include "portfolio.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

/* Flags with a config key come from ops_config.c's schema (the rows for
 * OPS_CMD_SESSION: the engine flags keep backtest's names, so the same
 * options give the same engine); the option's index there is ch - F_CFG0. */
#define SESSION_MAX_CFG_FLAGS 64
enum {
    F_CONFIG = 1, F_PARAM, F_COOL, F_QUIET, F_DURATION, F_NODASH,
    F_SPEED, F_FAULTS, F_UPDATES, F_SEED, F_SET, F_RESUME, F_STATEDIR, F_FORCE, F_WARMUP, F_CFG0 = 1000,
};

#define SESSION_MAX_ARGS 256       /* recorded args + command-line overrides */

/* Options that do not shape the result: the only ones `--resume DIR` takes
 * besides what DIR/session.json records (docs/durability.md). */
static const char *const override_flags[] = {
    "config", "host", "port", "token-file", "log-dir", "heartbeat", "quiet", "duration",
    "no-dashboard", "fsync", "resume", "state-dir", "force", "web-dir",
};

static int is_override(const char *name, size_t n)
{
    for (size_t i = 0; i < sizeof override_flags / sizeof override_flags[0]; i++)
        if (strlen(override_flags[i]) == n && !strncmp(override_flags[i], name, n))
            return 1;
    return 0;
}

void session_opts_usage(FILE *out, int flags)
{
    fprintf(out,
            "session options (same engine flags as `papertrader backtest`):\n"
            "  --config FILE             INI config (defaults < file < PAPERTRADER_* env < flags)\n"
            "  --strategy NAME|PATH      built-in, PATH.so plugin or program (.py, .mjs, executable;\n"
            "                            docs/strategy-protocol.md); --param K=V sets a parameter\n"
            "  --cash N  --fee-bps N  --maker-fee-bps N  --slippage-bps N\n"
            "  --sizing all-in|quote:N|percent:P|risk:P  --atr-period N --atr-mult K\n"
            "  --min-quality N  --max-positions N  --max-exposure-pct P  --daily-loss-pct P\n"
            "  --max-drawdown-pct P  --cooldown-losses N:CANDLES  --max-participation-pct P\n"
            "  --min-notional N          smallest entry in quote (default 0.01 %% of --cash)\n"
            "  --allow-short  --close-at-end\n"
            "  --out DIR                 outputs (default logs/<UTC time>-<mode>)\n"
            "  --host H --port N         dashboard (default 127.0.0.1:8765; --port 0 = a free port)\n"
            "  --token-file FILE         dashboard access token from FILE (mode 0600; unlocks control)\n"
            "  --web-dir DIR             dashboard files (default: installed or built-in copy)\n"
            "  --no-dashboard            no dashboard server\n"
            "  --heartbeat S             heartbeat log line period in seconds (default 60, 0 = off)\n"
            "  --duration S              stop after S seconds (default: until Ctrl-C)\n"
            "  --fsync every|none        ledger durability (default every; fill = every)\n"
            "  --log-dir DIR             papertrader.log + errors.log (default: the --out folder)\n"
            "  --quiet                   no log lines on stderr\n"
            "  --force                   overwrite an --out folder that holds an earlier run\n"
            "  --set SECTION.KEY=VALUE   any config key, as a flag (papertrader config check)\n");
    if (flags & SESSION_F_RESUME)
        fprintf(out, "resume (docs/durability.md):\n"
                     "  --resume DIR              carry on the session in DIR with the options kept in\n"
                     "                            DIR/session.json; only --config --host --port --token-file\n"
                     "                            --log-dir --heartbeat --quiet --duration --no-dashboard\n"
                     "                            --fsync may be added\n"
                     "  --state-dir DIR           resume DIR if it holds a session, else start one there\n"
                     "                            with the given options (for services)\n"
                     "warm-up (docs/durability.md):\n"
                     "  --warmup N                closed candles per symbol fetched over REST at the start\n"
                     "                            and fed to the strategy without trading (default: what\n"
                     "                            the strategy needs, e.g. sma_cross slow; 0 = off; a\n"
                     "                            resume never warms again)\n");
    if (flags & SESSION_F_SIM)
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

static int split_symbols(session_opts *o, const char *list)
{
    snprintf(o->symbuf, sizeof o->symbuf, "%s", list ? list : "");
    o->n_symbols = 0;
    char *save = NULL;
    for (char *t = strtok_r(o->symbuf, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
        if (o->n_symbols == SESSION_MAX_SYMBOLS || strlen(t) >= PT_SYMBOL_MAX)
            return -1;
        feed_symbol_local(o->exchange, t); /* the venue's own name ("BTC/USD") is taken too */
        o->symbols[o->n_symbols++] = t;
    }
    return 0;
}

/* [session] market, leverage, margin, brackets, liquidation_fee_bps
 * (docs/futures.md); the schema checked each word and range already. */
static int to_engine_perp(session_opts *o)
{
    sim_perp_config *p = &o->eng.perp;
    char why[160];
    const char *br = ops_config_get(o->cfg, "session", "brackets");
    sim_market_parse(ops_config_get(o->cfg, "session", "market"), &p->on);
    sim_margin_parse(ops_config_get(o->cfg, "session", "margin"), &p->margin);
    p->leverage = ops_config_get_num(o->cfg, "session", "leverage", 1);
    p->liq_fee_bps = ops_config_get_num(o->cfg, "session", "liquidation_fee_bps", p->liq_fee_bps);
    if (br && pf_brackets_parse(br, &p->brackets, why, sizeof why)) {
        fprintf(stderr, "papertrader %s: brackets '%s': %s\n", o->cmd, br, why);
        return -1;
    }
    pf_brackets def;
    pf_brackets_default(&def);
    double max = (p->brackets.n ? &p->brackets : &def)->max_leverage[0];
    if (p->on && p->leverage > max) {
        fprintf(stderr, "papertrader %s: leverage %g: above the brackets' maximum of %g\n", o->cmd, p->leverage, max);
        return -1;
    }
    if (sim_symbol_leverage_parse(ops_config_get(o->cfg, "session", "symbol_leverage"), max, p, why, sizeof why)) {
        fprintf(stderr, "papertrader %s: symbol_leverage %s\n", o->cmd, why);
        return -1;
    }
    if (p->on)
        pt_info("%s: perp market, leverage %g, %s margin; funding is taken as zero (no funding feed here)",
                o->cmd, p->leverage, p->margin == PF_CROSS ? "cross" : "isolated");
    return 0;
}

/* Engine config from the layered config (flags already in it). */
static int to_engine(session_opts *o, int fee_flag, int maker_flag, int exposure_flag)
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
    e->min_notional = ops_config_get_num(c, "risk", "min_notional", 0);
    e->cooldown_losses = (int)ops_config_get_num(c, "risk", "cooldown_losses", 0);
    e->cooldown_candles = (int)ops_config_get_num(c, "risk", "cooldown_candles", 0);
    e->atr_period = (int)ops_config_get_num(c, "risk", "atr_period", e->atr_period);
    e->atr_mult = ops_config_get_num(c, "risk", "atr_mult", e->atr_mult);
    e->max_participation_pct = ops_config_get_num(c, "risk", "max_participation_pct", 0);
    return to_engine_perp(o);
}

static int load_strategy(session_opts *o, void **dl)
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
    sim_strategy_warn_short(o->eng.strategy, o->eng.allow_short);
    void *probe = NULL; /* ranges pass but the set may be inconsistent (fast >= slow) */
    if (sim_strategy_create(o->eng.strategy, o->eng.params, &probe, err, sizeof err)) {
        fprintf(stderr, "papertrader %s: %s: %s\n", o->cmd, o->strategy, err);
        return -1;
    }
    sim_strategy_free_state(o->eng.strategy, probe);
    return 0;
}

static void *g_dl; /* one strategy library per process; released by session_opts_free */

#define N_LONGOPTS (SESSION_MAX_CFG_FLAGS + 20)

static void build_longopts(struct option *lo, int flags)
{
    size_t n = 0;
    ops_config_key_info k;
    for (size_t i = 0; !ops_config_key_at(i, &k) && n < SESSION_MAX_CFG_FLAGS; i++)
        if (k.flag && (k.cmds & OPS_CMD_SESSION))
            lo[n++] = (struct option){k.flag, k.takes_value ? required_argument : no_argument, NULL,
                                      F_CFG0 + (int)i};
    lo[n++] = (struct option){"config", required_argument, NULL, F_CONFIG};
    lo[n++] = (struct option){"param", required_argument, NULL, F_PARAM};
    lo[n++] = (struct option){"cooldown-losses", required_argument, NULL, F_COOL};
    lo[n++] = (struct option){"quiet", no_argument, NULL, F_QUIET};
    lo[n++] = (struct option){"force", no_argument, NULL, F_FORCE};
    lo[n++] = (struct option){"duration", required_argument, NULL, F_DURATION};
    lo[n++] = (struct option){"no-dashboard", no_argument, NULL, F_NODASH};
    if (flags & SESSION_F_SIM) {
        lo[n++] = (struct option){"speed", required_argument, NULL, F_SPEED};
        lo[n++] = (struct option){"faults", required_argument, NULL, F_FAULTS};
        lo[n++] = (struct option){"updates", required_argument, NULL, F_UPDATES};
        lo[n++] = (struct option){"seed", required_argument, NULL, F_SEED};
    }
    lo[n++] = (struct option){"set", required_argument, NULL, F_SET};
    if (flags & SESSION_F_RESUME) {
        lo[n++] = (struct option){"resume", required_argument, NULL, F_RESUME};
        lo[n++] = (struct option){"state-dir", required_argument, NULL, F_STATEDIR};
        lo[n++] = (struct option){"warmup", required_argument, NULL, F_WARMUP};
    }
    lo[n] = (struct option){NULL, 0, NULL, 0};
}

/* --set SECTION.KEY=VALUE into the flag layer. */
static int set_flag(session_opts *o, const char *arg)
{
    char sec[64], key[64];
    const char *dot = strchr(arg, '.'), *eq = strchr(arg, '=');
    if (!dot || !eq || dot > eq || (size_t)(dot - arg) >= sizeof sec || (size_t)(eq - dot - 1) >= sizeof key) {
        fprintf(stderr, "papertrader %s: --set wants SECTION.KEY=VALUE, not '%s'\n", o->cmd, arg);
        return -1;
    }
    snprintf(sec, sizeof sec, "%.*s", (int)(dot - arg), arg);
    snprintf(key, sizeof key, "%.*s", (int)(eq - dot - 1), dot + 1);
    return ops_config_set(o->cfg, sec, key, eq + 1, "flag --set") != PT_OK ? -1 : 0;
}

/* One parse of argv into o (cleared first). *engine_given: an option that is
 * not in override_flags was seen. */
static int parse_pass(session_opts *o, const char *cmd, int flags, int argc, char **argv, int *engine_given)
{
    struct option lo[N_LONGOPTS];
    build_longopts(lo, flags);
    *engine_given = 0;
    memset(o, 0, sizeof *o);
    o->cmd = cmd;
    o->speed = 1;
    o->warmup = -1;
    sim_engine_config_default(&o->eng);
    if (ops_config_new(&o->cfg))
        return PT_EXIT_FAILURE;
    const char *file = find_config(argc, argv);
    if (file && ops_config_load_file(o->cfg, file) && !ops_config_errors(o->cfg)) {
        fprintf(stderr, "papertrader %s: cannot read config %s\n", cmd, file);
        return PT_EXIT_USAGE;
    }
    ops_config_apply_env(o->cfg, environ);
    /* flags without a config key (the switch below) go straight to o */
    double v = 0;
    int fee_flag = 0, maker_flag = 0, exposure_flag = 0, nodash = 0;
    const char *flag_params[SESSION_MAX_PARAMS];
    int n_flag_params = 0;
    int ch, bad = 0;
    optind = 0; /* full getopt reset: the second pass of a resume parses another vector */
    opterr = 0;
    int li = -1;
    while (!bad && (ch = getopt_long(argc, argv, "", lo, &li)) != -1) {
        if (ch != '?' && li >= 0 && !is_override(lo[li].name, strlen(lo[li].name)))
            *engine_given = 1;
        li = -1;
        ops_config_key_info k;
        if (ch >= F_CFG0 && !ops_config_key_at((size_t)(ch - F_CFG0), &k)) {
            char origin[64];
            snprintf(origin, sizeof origin, "flag --%s", k.flag);
            bad = ops_config_set(o->cfg, k.section, k.key, k.takes_value ? optarg : "true", origin) != PT_OK;
            fee_flag |= !strcmp(k.flag, "fee-bps");
            maker_flag |= !strcmp(k.flag, "maker-fee-bps");
            exposure_flag |= !strcmp(k.flag, "max-exposure-pct");
            continue;
        }
        switch (ch) {
        case F_CONFIG: break; /* loaded above */
        case F_PARAM:
            if (n_flag_params >= SESSION_MAX_PARAMS || !strchr(optarg, '=')) {
                fprintf(stderr, "papertrader %s: --param wants K=V (at most %d)\n", cmd, SESSION_MAX_PARAMS);
                bad = 1;
            } else {
                flag_params[n_flag_params++] = optarg;
            }
            break;
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
        case F_FORCE: o->force = 1; break;
        case F_SET: bad = set_flag(o, optarg); break;
        case F_RESUME:
        case F_STATEDIR:
            if (o->resume_dir) {
                fprintf(stderr, "papertrader %s: give one --resume or --state-dir\n", cmd);
                bad = 1;
            }
            o->resume_dir = optarg;
            o->state_dir = ch == F_STATEDIR;
            break;
        case F_NODASH: nodash = 1; break;
        case F_WARMUP:
            bad = num_flag(cmd, "warmup", optarg, 0, SIM_WARMUP_MAX, &v) || v != floor(v);
            o->warmup = (int)v;
            break;
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
    if (!(flags & SESSION_F_FILES) && o->n_rest) {
        fprintf(stderr, "papertrader %s: unexpected argument '%s'\n", cmd, o->rest[0]);
        return PT_EXIT_USAGE;
    }
    /* [strategy] K=V from the config first, flags override (later wins) */
    int nc = ops_config_strategy_params(o->cfg, o->cfg_params, SESSION_MAX_PARAMS);
    for (int i = 0; i < nc && i < SESSION_MAX_PARAMS; i++)
        o->params[o->n_params++] = o->cfg_params[i];
    for (int i = 0; i < n_flag_params; i++)
        o->params[o->n_params++] = flag_params[i];
    const char *name_origin = ops_config_origin(o->cfg, "strategy", "name");
    if (nc > 0 || (name_origin && strcmp(name_origin, "default") && strncmp(name_origin, "flag ", 5))) {
        /* a [strategy] from a file or env: errors name their line */
        session_strategy_overrides over = {NULL, flag_params, n_flag_params};
        if (session_strategy_check(o->cfg, &over))
            return PT_EXIT_USAGE;
    }
    if (to_engine(o, fee_flag, maker_flag, exposure_flag))
        return PT_EXIT_USAGE;
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
                SESSION_MAX_SYMBOLS, PT_SYMBOL_MAX);
        return PT_EXIT_USAGE;
    }
    /* an external strategy (docs/strategy-protocol.md) learns the session */
    o->eng.ext = (sim_ext_options){
        1, (int)ops_config_get_num(c, "session", "strategy_timeout_ms", SESSION_STRATEGY_TIMEOUT_MS),
        o->interval_ms, o->symbols, o->n_symbols, o->eng.allow_short};
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

/* DIR/session.json, parsed (bounded). NULL after printing why. */
static cJSON *load_session_json(const char *cmd, const char *dir)
{
    cJSON *doc = session_json_read(dir);
    if (!doc)
        fprintf(stderr, "papertrader %s: %s/session.json: %s\n", cmd, dir,
                errno == EINVAL ? "not valid JSON (or over 1 MiB)" : strerror(errno));
    return doc;
}

/* Command-line options a resume keeps (override_flags, without --resume and
 * --state-dir), appended to av. Returns the new count or -1 if too many. */
static int keep_overrides(int flags, int argc, char **argv, char **av, int k)
{
    struct option lo[N_LONGOPTS];
    build_longopts(lo, flags);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2))
            continue;
        size_t n = strcspn(a + 2, "=");
        int has_arg = 0;
        for (const struct option *p = lo; p->name; p++)
            if (strlen(p->name) == n && !strncmp(p->name, a + 2, n))
                has_arg = p->has_arg == required_argument && !a[2 + n];
        int keep = is_override(a + 2, n) && strncmp(a + 2, "resume", n) && strncmp(a + 2, "state-dir", n);
        for (int j = 0; j <= has_arg && i + j < argc; j++) {
            if (keep && k >= SESSION_MAX_ARGS)
                return -1;
            if (keep)
                av[k++] = argv[i + j];
        }
        i += has_arg;
    }
    av[k] = NULL;
    return k;
}

/* Second pass of a resume: the recorded args, then the allowed overrides. */
static int parse_resumed(session_opts *o, const char *cmd, int flags, int argc, char **argv)
{
    const char *dir = o->resume_dir;
    int state_dir = o->state_dir, code = PT_EXIT_CORRUPT, eng;
    cJSON *doc = load_session_json(cmd, dir);
    char **av = calloc(SESSION_MAX_ARGS + 2, sizeof *av);
    const cJSON *cm = cJSON_GetObjectItemCaseSensitive(doc, "command");
    const cJSON *args = cJSON_GetObjectItemCaseSensitive(doc, "args"), *it;
    int k = 0;
    if (!doc || !av)
        goto fail;
    if (cJSON_IsString(cm) && strcmp(cm->valuestring, cmd)) { /* another kind of folder */
        fprintf(stderr, "papertrader %s: --resume %s: it holds a `%s` %s, not a `%s` session "
                        "(papertrader %s --resume %s carries it on)\n", cmd, dir, cm->valuestring,
                strcmp(cm->valuestring, "backtest") ? "session" : "run", cmd, cm->valuestring, dir);
        code = PT_EXIT_USAGE;
        goto fail;
    }
    if (!cJSON_IsString(cm) || !cJSON_IsArray(args) ||
        cJSON_GetArraySize(args) > SESSION_MAX_ARGS / 2) {
        fprintf(stderr, "papertrader %s: %s/session.json: not a resumable `%s` session (want \"command\": "
                        "\"%s\" and \"args\")\n", cmd, dir, cmd, cmd);
        goto fail;
    }
    av[k++] = (char *)cmd;
    cJSON_ArrayForEach(it, args) {
        if (!cJSON_IsString(it)) {
            fprintf(stderr, "papertrader %s: %s/session.json: \"args\" must hold strings\n", cmd, dir);
            goto fail;
        }
        av[k++] = it->valuestring;
    }
    if ((k = keep_overrides(flags, argc, argv, av, k)) < 0) {
        fprintf(stderr, "papertrader %s: too many options\n", cmd);
        code = PT_EXIT_USAGE;
        goto fail;
    }
    ops_config_free(o->cfg); /* the first pass's; parse_pass starts afresh */
    sim_strategy_unload(g_dl);
    g_dl = NULL;
    if ((code = parse_pass(o, cmd, flags & ~SESSION_F_RESUME, k, av, &eng))) {
        fprintf(stderr, "papertrader %s: %s/session.json: its \"args\" do not parse (above)\n", cmd, dir);
        code = code == PT_EXIT_USAGE ? PT_EXIT_CORRUPT : code;
        o->resume_doc = doc, o->resume_argv = av; /* freed by session_opts_free */
        return code;
    }
    o->resume_dir = dir;
    o->state_dir = state_dir;
    o->resuming = 1;
    o->out = dir;
    o->resume_doc = doc;
    o->resume_argv = av;
    return 0;
fail:
    cJSON_Delete(doc);
    free(av);
    return code;
}

int session_opts_parse(session_opts *o, const char *cmd, int flags, int argc, char **argv)
{
    int eng = 0, code = parse_pass(o, cmd, flags, argc, argv, &eng);
    o->flags = flags; /* an --out that holds a run is refused after the lock (sl_state_lock) */
    if (code || !o->resume_dir)
        return code;
    if (o->out && strcmp(o->out, o->resume_dir)) {
        fprintf(stderr, "papertrader %s: --out and --%s name different folders\n", cmd,
                o->state_dir ? "state-dir" : "resume");
        return PT_EXIT_USAGE;
    }
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/session.json", o->resume_dir);
    if (access(path, F_OK)) { /* nothing to resume */
        if (o->state_dir) {
            o->out = o->resume_dir; /* a new session in the state dir */
            return 0;
        }
        int missing = access(o->resume_dir, F_OK) != 0; /* no folder at all: a missing input */
        fprintf(stderr, "papertrader %s: --resume %s: %s (`--state-dir DIR` starts a new session when "
                        "there is none)\n", cmd, o->resume_dir,
                missing ? "no such folder" : "no session.json there: not a session folder");
        return missing ? PT_EXIT_INPUT : PT_EXIT_USAGE;
    }
    if (eng && !o->state_dir) {
        fprintf(stderr, "papertrader %s: --resume DIR takes its engine and feed options from "
                        "DIR/session.json (only --config --host --port --token-file --log-dir --heartbeat "
                        "--quiet --duration --no-dashboard --fsync may be added)\n", cmd);
        return PT_EXIT_USAGE;
    }
    if (eng)
        fprintf(stderr, "papertrader %s: resuming %s: its session.json options apply; engine and feed "
                        "options on the command line are ignored\n", cmd, o->resume_dir);
    return parse_resumed(o, cmd, flags, argc, argv);
}

void session_opts_free(session_opts *o)
{
    if (!o)
        return;
    ops_config_free(o->cfg);
    o->cfg = NULL;
    cJSON_Delete(o->resume_doc);
    o->resume_doc = NULL;
    free(o->resume_argv);
    o->resume_argv = NULL;
    sim_strategy_unload(g_dl);
    g_dl = NULL;
}

/* ------------------------------------------------------------ recording */
static int add_arg(cJSON *a, const char *flag, const char *val)
{
    cJSON *f = cJSON_CreateString(flag), *v = val ? cJSON_CreateString(val) : NULL;
    if (!f || (val && !v)) {
        cJSON_Delete(f);
        cJSON_Delete(v);
        return -1;
    }
    cJSON_AddItemToArray(a, f);
    if (v)
        cJSON_AddItemToArray(a, v);
    return 0;
}

static int add_num_arg(cJSON *a, const char *flag, double v)
{
    char buf[64];
    return pf_format_double(v, buf, sizeof buf) <= 0 ? -1 : add_arg(a, flag, buf); /* returns the length */
}

static int add_set(cJSON *a, const ops_config *c, const char *sec, const char *key)
{
    const char *v = ops_config_get(c, sec, key);
    char buf[256];
    if (!v)
        return 0;
    snprintf(buf, sizeof buf, "%s.%s=%s", sec, key, v);
    return add_arg(a, "--set", buf);
}

/* Effective values, not the layers they came from: a resume must not depend
 * on the config file or the environment of the day. Flags keep backtest's
 * names so a person can read (and re-run) them. */
cJSON *session_opts_args_json(const session_opts *o)
{
    const sim_engine_config *e = &o->eng;
    cJSON *a = cJSON_CreateArray();
    char buf[4096], absp[PATH_MAX];
    int bad = !a;
    if (!bad && o->exchange)
        bad |= add_arg(a, "--exchange", o->exchange);
    if (!bad && o->ws_url && *o->ws_url)
        bad |= add_arg(a, "--ws-url", o->ws_url);
    if (!bad && o->rest_url && *o->rest_url)
        bad |= add_arg(a, "--rest-url", o->rest_url);
    if (!bad && o->ca_file && *o->ca_file)
        bad |= add_arg(a, "--ca-file", realpath(o->ca_file, absp) ? absp : o->ca_file);
    size_t n = 0;
    buf[0] = 0;
    for (int i = 0; i < o->n_symbols && n < sizeof buf; i++)
        n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%s", i ? "," : "", o->symbols[i]);
    if (!bad && o->n_symbols)
        bad |= add_arg(a, "--symbols", buf);
    if (!bad && pt_interval_format(o->interval_ms, buf, sizeof buf) > 0) /* returns the length */
        bad |= add_arg(a, "--interval", buf);
    const char *st = o->strategy;
    if ((strchr(st, '/') || (strlen(st) > 3 && !strcmp(st + strlen(st) - 3, ".so"))) && realpath(st, absp))
        st = absp; /* a plugin path: absolute, a resume may start elsewhere */
    if (!bad)
        bad |= add_arg(a, "--strategy", st);
    for (int i = 0; !bad && i < e->strategy->n_params; i++) {
        char v[64];
        bad |= pf_format_double(e->params[i], v, sizeof v) <= 0;
        snprintf(buf, sizeof buf, "%s=%s", e->strategy->params[i].name, v);
        bad |= add_arg(a, "--param", buf);
    }
    if (!bad)
        bad |= add_num_arg(a, "--cash", e->cash) || add_num_arg(a, "--fee-bps", e->taker_fee_bps) ||
               add_num_arg(a, "--maker-fee-bps", e->maker_fee_bps) ||
               add_num_arg(a, "--slippage-bps", e->slippage_bps) || add_arg(a, "--sizing", o->sizing_text) ||
               add_num_arg(a, "--atr-period", e->atr_period) || add_num_arg(a, "--atr-mult", e->atr_mult) ||
               add_num_arg(a, "--max-participation-pct", e->max_participation_pct) ||
               add_num_arg(a, "--min-quality", e->min_quality) ||
               add_num_arg(a, "--daily-loss-pct", e->daily_loss_pct) ||
               add_num_arg(a, "--max-drawdown-pct", e->max_drawdown_pct) ||
               add_num_arg(a, "--min-notional", e->min_notional);
    if (!bad && e->max_positions > 0)
        bad |= add_num_arg(a, "--max-positions", e->max_positions);
    if (!bad && e->max_exposure_pct > 0)
        bad |= add_num_arg(a, "--max-exposure-pct", e->max_exposure_pct);
    if (!bad && e->cooldown_losses > 0) {
        snprintf(buf, sizeof buf, "%d:%d", e->cooldown_losses, e->cooldown_candles);
        bad |= add_arg(a, "--cooldown-losses", buf);
    }
    if (!bad && e->allow_short)
        bad |= add_arg(a, "--allow-short", NULL);
    if (!bad && e->close_at_end)
        bad |= add_arg(a, "--close-at-end", NULL);
    const char *br = ops_config_get(o->cfg, "session", "brackets"),
               *sl = ops_config_get(o->cfg, "session", "symbol_leverage");
    if (!bad && e->perp.on) /* docs/futures.md */
        bad |= add_arg(a, "--market", "perp") || add_num_arg(a, "--leverage", e->perp.leverage) ||
               add_arg(a, "--margin", e->perp.margin == PF_CROSS ? "cross" : "isolated") ||
               add_num_arg(a, "--liquidation-fee-bps", e->perp.liq_fee_bps) ||
               (br && add_arg(a, "--brackets", br)) ||
               (sl && add_arg(a, "--symbol-leverage", sl));
    static const char *const keys[][2] = {
        {"quality", "window"}, {"feed", "backoff_base_ms"}, {"feed", "backoff_cap_ms"},
        {"feed", "stale_after_s"}, {"feed", "max_msg_bytes"},
    };
    for (size_t i = 0; !bad && i < sizeof keys / sizeof keys[0]; i++)
        bad |= add_set(a, o->cfg, keys[i][0], keys[i][1]);
    if (bad) {
        cJSON_Delete(a);
        return NULL;
    }
    return a;
}
