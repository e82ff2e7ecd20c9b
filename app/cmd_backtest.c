/* papertrader backtest: the command line of the backtest clock. Parses the
 * options (after the --config layers, session_backtest_config_args) into a
 * session_backtest_config and hands it to session/ (session_backtest_run,
 * or session_backtest_resume with this parser for the recorded options).
 * Nothing here trades or writes a file. */
#include "commands.h"
#include "ops.h"
#include "pt_core.h"
#include "session.h"
#include "sim.h"

#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BT_MAX_FILES SESSION_BACKTEST_MAX_FILES
#define BT_MAX_PARAMS 32
#define BT_MAX_REC (SESSION_BACKTEST_MAX_ARGS / 2) /* recorded options (session.json "args") */

typedef struct bt_opts {
    const char *strategy, *symbol, *out, *resume, *controls, *order;
    const char *params[BT_MAX_PARAMS];
    int n_params, json, quiet, force, no_report;
    int trade_from_given; /* --trade-from: else a recording's session.json may say it */
    int rows_every;  /* --portfolio-rows N: every Nth row (1 = every row) */
    int rows_change; /* --portfolio-rows change: only rows that differ */
    sim_engine_config cfg;
    const char *sizing_text;
    const char *funding, *mark; /* perp: --funding FILE, --mark FILE */
    const char *symbol_leverage; /* --symbol-leverage SYMBOL=N,... */
    int64_t funding_interval_ms;
    char funding_abs[PATH_MAX], mark_abs[PATH_MAX];
    /* durability: not recorded in session.json, allowed with --resume */
    pf_sync_policy sync;
    uint64_t crash_after; /* hidden test hook --crash-after-fills N */
    /* every option that shapes the result, as given (long_opts index and
     * argument): session.json keeps them so that --resume re-runs the same */
    int rec_opt[BT_MAX_REC];
    const char *rec_arg[BT_MAX_REC];
    int n_rec;
    char strategy_abs[PATH_MAX], controls_abs[PATH_MAX], order_abs[PATH_MAX], rules_abs[PATH_MAX];
    const char *rules_file;  /* --rules FILE (docs/rules.md) */
    pf_rules_set rule_keys;  /* --rule SYMBOL:KEY=VALUE */
    pf_rules_set rules;      /* app_backtest_parse: what the engine trades with; n == 0: none */
    /* the recorded options as session.json "args" strings (to_config) */
    char flags[BT_MAX_REC][64];
    const char *args[2 * BT_MAX_REC];
} bt_opts;


static void usage(FILE *out)
{
    fprintf(out,
            "usage: papertrader backtest [options] FILE...\n"
            "  Replays candle CSV files through the engine, in event-time order across files,\n"
            "  with one portfolio for all symbols. Writes trades.csv, portfolio.csv,\n"
            "  report.json, session.json and report.html into --out, prints the metrics.\n"
            "options:\n"
            "  --strategy NAME|PATH      strategy (default sma_cross): a built-in, a PATH.so plugin,\n"
            "                            or a program: PATH.py, PATH.mjs, any executable\n"
            "                            (docs/strategy-protocol.md); --param K=V sets a parameter\n"
            "  --strategy-timeout MS     a program's answer deadline (default 0: wait)\n"
            "  --symbol S                symbol for a single file without a symbol column\n"
            "  --cash N                  starting cash (default 10000)\n"
            "  --fee-bps N               taker and maker fee (default 10); --maker-fee-bps N\n"
            "  --slippage-bps N          taker slippage (default 0)\n"
            "  --sizing all-in|quote:N|percent:P|risk:P   (default all-in)\n"
            "  --atr-period N --atr-mult K   stop distance for risk sizing (14, 2)\n"
            "  --min-quality N           quality gate for new entries, 0 = off (default 60)\n"
            "  --max-positions N  --max-exposure-pct P  --daily-loss-pct P\n"
            "  --max-drawdown-pct P  --cooldown-losses N:CANDLES  --max-participation-pct P\n"
            "  --min-notional N          smallest entry in quote (default 0.01 %% of --cash)\n"
            "  --allow-short  --close-at-end\n"
            "  --market spot|perp        perp: linear perpetual futures (docs/futures.md) with\n"
            "                            --leverage N  --margin isolated|cross  --brackets T\n"
            "                            --liquidation-fee-bps N  --funding FILE  --mark FILE\n"
            "                            --funding-interval 8h (longer between funding rows: a gap)\n"
            "  --out DIR                 output folder (default logs/<UTC time>-backtest, e.g.\n"
            "                            logs/20261204T020628Z-backtest); one that holds an\n"
            "                            earlier run is refused unless --force\n"
            "  --json                    print report.json instead of the table\n"
            "  --portfolio-rows every|change|N   portfolio.csv rows: every candle (default), only\n"
            "                            when a value changes, or every Nth; metrics see all\n"
            "  --no-report               no report.html (papertrader report DIR writes it later)\n"
            "  --quiet                   no log lines on stderr\n"
            "  --fsync every|none        fdatasync trades.csv after every fill (default none: a\n"
            "                            backtest is re-derivable; live sessions default to every;\n"
            "                            fill = every)\n"
            "  --serve [--speed X]       replay FILEs through the live path and the dashboard\n"
            "                            (papertrader backtest --serve --help)\n"
            "  --controls FILE           replay a live session's operator controls (its controls.csv)\n"
            "  --order FILE              replay a live session's candles in its order (candles/.order)\n"
            "  --trade-from TIME         candles before TIME only warm the strategy (default: a live\n"
            "                            recording's DIR/session.json trade_from_ms; 0 = off)\n"
            "  --resume DIR              carry on an interrupted backtest in DIR with the inputs\n"
            "                            and options kept in DIR/session.json (docs/durability.md)\n"
            "  --config FILE             INI config: [session] [strategy] [risk] [quality] keys\n"
            "                            (defaults < file < PAPERTRADER_* env < flags; docs/config.md)\n"
            "exit: 0 ok, 1 output error, 2 bad options, 3 input file missing or not candles,\n"
            "      5 DIR's ledger is corrupt (refusing to resume), 6 DIR locked by another process\n");
}

/* A number flag: strict, finite, within [lo, hi]. */
static int num(const char *flag, const char *text, double lo, double hi, double *out)
{
    double v;
    const char *why = "out of range";
    if (pt_parse_decimal(text, strlen(text), &v, &why) || v < lo || v > hi) {
        fprintf(stderr, "papertrader backtest: %s '%s': %s (allowed %g..%g)\n", flag, text, why,
                lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

/* A value of config key [section] key given as --flag: ops_config.c's schema
 * is the one table of ranges (shared with run, demo, --config and env). */
static int key_num(const char *flag, const char *section, const char *key, const char *text, double *out)
{
    char why[160];
    if (ops_config_check_value(section, key, text, NULL, 0, why, sizeof why)) {
        fprintf(stderr, "papertrader backtest: --%s '%s': %s\n", flag, text, why);
        return -1;
    }
    return pt_parse_decimal(text, strlen(text), out, NULL) ? -1 : 0;
}

/* An engine flag, by its row in the schema. */
static int eng_num(const char *flag, const char *text, double *out)
{
    ops_config_key_info k;
    if (ops_config_flag_key(flag, OPS_CMD_BACKTEST, &k)) {
        fprintf(stderr, "papertrader backtest: --%s: no such engine option\n", flag);
        return -1;
    }
    return key_num(flag, k.section, k.key, text, out);
}

static int eng_int(const char *flag, const char *text, int *out)
{
    double v;
    if (eng_num(flag, text, &v))
        return -1;
    *out = (int)v;
    return 0;
}

enum {
    O_STRATEGY = 256, O_PARAM, O_CASH, O_FEE, O_MAKER, O_SLIP, O_SIZING, O_MINQ, O_OUT, O_JSON,
    O_CONFIG, O_SYMBOL, O_MAXPOS, O_MAXEXP, O_DAILY, O_MAXDD, O_COOL, O_PART, O_SHORT, O_CLOSE,
    O_QUIET, O_ATRP, O_ATRM, O_RESUME, O_FSYNC, O_CRASH, O_CONTROLS, O_ORDER, O_MINNOT, O_FORCE, O_ROWS,
    O_NOREPORT, O_STIMEOUT, O_TRADEFROM, O_MARKET, O_LEVERAGE, O_MARGIN, O_BRACKETS, O_LIQFEE,
    O_FUNDING, O_MARK, O_FUNDINT, O_SYMLEV,
    O_RULES, O_RULE,
};

static const struct option long_opts[] = {
    {"strategy", required_argument, 0, O_STRATEGY},
    {"param", required_argument, 0, O_PARAM},
    {"cash", required_argument, 0, O_CASH},
    {"fee-bps", required_argument, 0, O_FEE},
    {"maker-fee-bps", required_argument, 0, O_MAKER},
    {"slippage-bps", required_argument, 0, O_SLIP},
    {"sizing", required_argument, 0, O_SIZING},
    {"min-quality", required_argument, 0, O_MINQ},
    {"out", required_argument, 0, O_OUT},
    {"json", no_argument, 0, O_JSON},
    {"config", required_argument, 0, O_CONFIG},
    {"symbol", required_argument, 0, O_SYMBOL},
    {"max-positions", required_argument, 0, O_MAXPOS},
    {"max-exposure-pct", required_argument, 0, O_MAXEXP},
    {"daily-loss-pct", required_argument, 0, O_DAILY},
    {"max-drawdown-pct", required_argument, 0, O_MAXDD},
    {"min-notional", required_argument, 0, O_MINNOT},
    {"cooldown-losses", required_argument, 0, O_COOL},
    {"max-participation-pct", required_argument, 0, O_PART},
    {"allow-short", no_argument, 0, O_SHORT},
    {"close-at-end", no_argument, 0, O_CLOSE},
    {"quiet", no_argument, 0, O_QUIET},
    {"atr-period", required_argument, 0, O_ATRP},
    {"atr-mult", required_argument, 0, O_ATRM},
    {"resume", required_argument, 0, O_RESUME},
    {"fsync", required_argument, 0, O_FSYNC},
    {"crash-after-fills", required_argument, 0, O_CRASH}, /* hidden: tests only */
    {"controls", required_argument, 0, O_CONTROLS},
    {"order", required_argument, 0, O_ORDER},
    {"force", no_argument, 0, O_FORCE},
    {"portfolio-rows", required_argument, 0, O_ROWS},
    {"no-report", no_argument, 0, O_NOREPORT},
    {"strategy-timeout", required_argument, 0, O_STIMEOUT},
    {"trade-from", required_argument, 0, O_TRADEFROM},
    {"market", required_argument, 0, O_MARKET},
    {"leverage", required_argument, 0, O_LEVERAGE},
    {"margin", required_argument, 0, O_MARGIN},
    {"brackets", required_argument, 0, O_BRACKETS},
    {"liquidation-fee-bps", required_argument, 0, O_LIQFEE},
    {"funding", required_argument, 0, O_FUNDING},
    {"mark", required_argument, 0, O_MARK},
    {"funding-interval", required_argument, 0, O_FUNDINT},
    {"symbol-leverage", required_argument, 0, O_SYMLEV},
    {"rules", required_argument, 0, O_RULES},
    {"rule", required_argument, 0, O_RULE}, /* [symbol.NAME] keys (backtest_config.c) */
    {0, 0, 0, 0},
};

/* Options that do not change the result: never recorded, allowed with --resume. */
static int presentation_opt(int ch)
{
    return ch == O_OUT || ch == O_JSON || ch == O_QUIET || ch == O_RESUME || ch == O_FSYNC ||
           ch == O_CRASH || ch == O_CONFIG || ch == O_FORCE || ch == O_NOREPORT;
}

/* A strategy given as a path is recorded absolute (resume may run elsewhere). */
static const char *strategy_arg(bt_opts *o, const char *arg)
{
    size_t n = strlen(arg);
    if ((strchr(arg, '/') || (n > 3 && !strcmp(arg + n - 3, ".so")) || sim_strategy_is_external(arg)) &&
        realpath(arg, o->strategy_abs))
        return o->strategy_abs;
    return arg;
}

/* A perp flag (docs/futures.md), checked against its schema row. 0 or -1. */
static int perp_opt(bt_opts *o, int ch, const char *flag, const char *text)
{
    sim_perp_config *p = &o->cfg.perp;
    char why[160] = "";
    ops_config_key_info k;
    if (ops_config_flag_key(flag, OPS_CMD_BACKTEST, &k) ||
        ops_config_check_value(k.section, k.key, text, NULL, 0, why, sizeof why)) {
        fprintf(stderr, "papertrader backtest: --%s '%s': %s\n", flag, text, why);
        return -1;
    }
    switch (ch) {
    case O_MARKET: return sim_market_parse(text, &p->on) ? -1 : 0;
    case O_MARGIN: return sim_margin_parse(text, &p->margin) ? -1 : 0;
    case O_LEVERAGE: return key_num(flag, k.section, k.key, text, &p->leverage);
    case O_LIQFEE: return key_num(flag, k.section, k.key, text, &p->liq_fee_bps);
    case O_FUNDINT: return pt_interval_parse(text, &o->funding_interval_ms) ? -1 : 0;
    case O_FUNDING: o->funding = realpath(text, o->funding_abs) ? o->funding_abs : text; return 0;
    case O_MARK: o->mark = realpath(text, o->mark_abs) ? o->mark_abs : text; return 0;
    case O_SYMLEV: o->symbol_leverage = text; return 0; /* checked with the brackets: perp_check */
    default: break;
    }
    if (pf_brackets_parse(text, &p->brackets, why, sizeof why)) {
        fprintf(stderr, "papertrader backtest: --brackets '%s': %s\n", text, why);
        return -1;
    }
    return 0;
}

/* The perp options together: leverage within the brackets, files only on a perp. */
static int perp_check(bt_opts *o)
{
    sim_perp_config *p = &o->cfg.perp;
    pf_brackets def;
    pf_brackets_default(&def);
    const pf_brackets *b = p->brackets.n ? &p->brackets : &def;
    if (!p->on && (o->funding || o->mark)) {
        fprintf(stderr, "papertrader backtest: --funding and --mark need --market perp\n");
        return -1;
    }
    if (p->on && p->leverage > b->max_leverage[0]) {
        fprintf(stderr, "papertrader backtest: --leverage %g: above the brackets' maximum of %g (%s)\n",
                p->leverage, b->max_leverage[0], p->brackets.n ? "--brackets" : "the built-in table, docs/futures.md");
        return -1;
    }
    char why[200];
    if (sim_symbol_leverage_parse(o->symbol_leverage, b->max_leverage[0], p, why, sizeof why)) {
        fprintf(stderr, "papertrader backtest: --symbol-leverage %s\n", why);
        return -1;
    }
    return 0;
}

static int parse_opts(int argc, char **argv, bt_opts *o)
{
    sim_engine_config *c = &o->cfg;
    int ch, idx = -1, maker_set = 0;
    opterr = 0;
    optind = 0; /* full getopt reset: argv may be a different vector (resume) */
    while ((ch = getopt_long(argc, argv, "", long_opts, &idx)) != -1) {
        int bad = 0;
        switch (ch) {
        case O_STRATEGY: o->strategy = optarg = (char *)strategy_arg(o, optarg); break;
        case O_PARAM:
            if (o->n_params >= BT_MAX_PARAMS || !strchr(optarg, '=')) {
                fprintf(stderr, "papertrader backtest: --param wants K=V (at most %d)\n",
                        BT_MAX_PARAMS);
                bad = 1;
            } else {
                o->params[o->n_params++] = optarg;
            }
            break;
        case O_CASH: bad = eng_num("cash", optarg, &c->cash); break;
        case O_FEE:
            bad = eng_num("fee-bps", optarg, &c->taker_fee_bps);
            if (!maker_set)
                c->maker_fee_bps = c->taker_fee_bps;
            break;
        case O_MAKER:
            bad = eng_num("maker-fee-bps", optarg, &c->maker_fee_bps);
            maker_set = 1;
            break;
        case O_SLIP: bad = eng_num("slippage-bps", optarg, &c->slippage_bps); break;
        case O_SIZING:
            o->sizing_text = optarg;
            if (sim_sizing_parse(optarg, &c->sizing)) {
                fprintf(stderr, "papertrader backtest: --sizing '%s': want all-in, quote:N, "
                                "percent:P or risk:P (P in (0, 100])\n", optarg);
                bad = 1;
            }
            break;
        case O_MINQ: bad = eng_num("min-quality", optarg, &c->min_quality); break;
        case O_OUT: o->out = optarg; break;
        case O_JSON: o->json = 1; break;
        case O_CONFIG: break; /* read before parsing: session_backtest_config_args */
        case O_SYMBOL: o->symbol = optarg; break;
        case O_MAXPOS: bad = eng_int("max-positions", optarg, &c->max_positions); break;
        case O_MAXEXP: bad = eng_num("max-exposure-pct", optarg, &c->max_exposure_pct); break;
        case O_DAILY: bad = eng_num("daily-loss-pct", optarg, &c->daily_loss_pct); break;
        case O_MAXDD: bad = eng_num("max-drawdown-pct", optarg, &c->max_drawdown_pct); break;
        case O_MINNOT: bad = eng_num("min-notional", optarg, &c->min_notional); break;
        case O_PART: bad = eng_num("max-participation-pct", optarg, &c->max_participation_pct); break;
        case O_ATRP: bad = eng_int("atr-period", optarg, &c->atr_period); break;
        case O_ATRM: bad = eng_num("atr-mult", optarg, &c->atr_mult); break;
        case O_STIMEOUT: { /* the live key's range; a backtest's default is "wait" (0) */
            double v = 0;
            bad = key_num("strategy-timeout", "session", "strategy_timeout_ms", optarg, &v);
            c->ext.timeout_ms = (int)v;
            break;
        }
        case O_COOL: {
            char *colon = strchr(optarg, ':');
            if (!colon) {
                fprintf(stderr, "papertrader backtest: --cooldown-losses wants N:CANDLES\n");
                bad = 1;
                break;
            }
            *colon = 0;
            double n = 0, candles = 0;
            bad = key_num("cooldown-losses", "risk", "cooldown_losses", optarg, &n) ||
                  key_num("cooldown-losses", "risk", "cooldown_candles", colon + 1, &candles);
            c->cooldown_losses = (int)n;
            c->cooldown_candles = (int)candles;
            *colon = ':';
            break;
        }
        case O_SHORT: c->allow_short = 1; break;
        case O_CLOSE: c->close_at_end = 1; break;
        case O_QUIET: o->quiet = 1; break;
        case O_FORCE: o->force = 1; break;
        case O_NOREPORT: o->no_report = 1; break;
        case O_ROWS:
            o->rows_change = !strcmp(optarg, "change");
            o->rows_every = 1;
            if (!o->rows_change && strcmp(optarg, "every")) {
                double v = 0;
                bad = num("--portfolio-rows", optarg, 1, 1e9, &v) || v != floor(v);
                if (bad)
                    fprintf(stderr, "papertrader backtest: --portfolio-rows wants every, change or a whole "
                                    "number N >= 1\n");
                o->rows_every = (int)v;
            }
            break;
        case O_RESUME: o->resume = optarg; break;
        case O_TRADEFROM: {
            pt_time_kind k = PT_TIME_UNKNOWN;
            c->trade_from_ms = 0;
            bad = strcmp(optarg, "0") &&
                  (pt_parse_time(optarg, strlen(optarg), &k, NULL, &c->trade_from_ms, NULL) != PT_OK ||
                   c->trade_from_ms < 0);
            if (bad)
                fprintf(stderr, "papertrader backtest: --trade-from '%s': want an ISO time or epoch ms "
                                "(0 = trade from the first candle)\n", optarg);
            o->trade_from_given = 1;
            break;
        }
        case O_CONTROLS: /* recorded absolute, like a strategy path */
            o->controls = optarg = realpath(optarg, o->controls_abs) ? o->controls_abs : optarg;
            break;
        case O_RULES: /* recorded absolute, like a strategy path */
            o->rules_file = optarg = realpath(optarg, o->rules_abs) ? o->rules_abs : optarg;
            break;
        case O_RULE: bad = session_rules_arg(optarg, &o->rule_keys) != PT_OK; break;
        case O_ORDER:
            o->order = optarg = realpath(optarg, o->order_abs) ? o->order_abs : optarg;
            break;
        case O_FSYNC: { /* the words of run's --fsync ([session] fsync) */
            char word[16], why[160];
            if (ops_config_check_value("session", "fsync", optarg, word, sizeof word, why, sizeof why)) {
                fprintf(stderr, "papertrader backtest: --fsync '%s': %s\n", optarg, why);
                bad = 1;
            } else {
                o->sync = strcmp(word, "none") ? PF_SYNC_EVERY_FILL : PF_SYNC_NONE;
            }
            break;
        }
        case O_MARKET: case O_LEVERAGE: case O_MARGIN: case O_BRACKETS: case O_LIQFEE:
        case O_FUNDING: case O_MARK: case O_FUNDINT: case O_SYMLEV:
            bad = perp_opt(o, ch, long_opts[idx].name, optarg);
            optarg = ch == O_FUNDING ? (char *)o->funding : ch == O_MARK ? (char *)o->mark : optarg;
            break;
        case O_CRASH: {
            double v = 0;
            bad = num("--crash-after-fills", optarg, 1, 1e15, &v);
            o->crash_after = (uint64_t)v;
            break;
        }
        default:
            fprintf(stderr, "papertrader backtest: unknown or incomplete option '%s'\n",
                    argv[optind - 1]);
            bad = 1;
        }
        if (bad)
            return PT_EXIT_USAGE;
        if (!presentation_opt(ch)) {
            if (o->n_rec >= BT_MAX_REC) {
                fprintf(stderr, "papertrader backtest: more than %d options\n", BT_MAX_REC);
                return PT_EXIT_USAGE;
            }
            o->rec_opt[o->n_rec] = idx;
            o->rec_arg[o->n_rec++] = long_opts[idx].has_arg ? optarg : NULL;
        }
    }
    int nfiles = argc - optind;
    if (perp_check(o))
        return PT_EXIT_USAGE;
    if (o->resume) {
        if (nfiles || o->n_rec) {
            fprintf(stderr, "papertrader backtest: --resume DIR takes its inputs and options "
                            "from DIR/session.json (only --quiet, --json and --fsync may be "
                            "added)\n");
            return PT_EXIT_USAGE;
        }
        return 0;
    }
    if (nfiles < 1 || nfiles > BT_MAX_FILES) {
        fprintf(stderr, "papertrader backtest: give 1 to %d candle files\n", BT_MAX_FILES);
        return PT_EXIT_USAGE;
    }
    if (o->symbol && nfiles > 1) {
        fprintf(stderr, "papertrader backtest: --symbol applies to a single file\n");
        return PT_EXIT_USAGE;
    }
    return 0;
}

static void opts_init(bt_opts *o)
{
    memset(o, 0, sizeof *o);
    sim_engine_config_default(&o->cfg);
    o->strategy = "sma_cross";
    o->sync = PF_SYNC_NONE; /* a backtest is re-derivable: docs/durability.md */
    o->funding_interval_ms = 8 * 3600000LL; /* Binance's usual funding period */
}

/* D10: one process per session folder. Returns 0 or an exit code. */
/* The parsed options as the session module takes them; pointers into o and
 * argv (files: argv + optind, after parse_opts). */
static void to_config(bt_opts *o, char **files, int nfiles, session_backtest_config *c)
{
    memset(c, 0, sizeof *c);
    c->cfg = o->cfg;
    c->strategy = o->strategy;
    c->symbol = o->symbol, c->order = o->order, c->controls = o->controls;
    c->params = o->params, c->n_params = o->n_params;
    c->files = files, c->nfiles = nfiles;
    for (int i = 0; i < o->n_rec; i++) {
        snprintf(o->flags[i], sizeof o->flags[i], "--%s", long_opts[o->rec_opt[i]].name);
        o->args[c->n_args++] = o->flags[i];
        if (o->rec_arg[i])
            o->args[c->n_args++] = o->rec_arg[i];
    }
    c->args = o->args;
    c->quiet = o->quiet;
    c->out = o->out;
    c->sizing_text = o->sizing_text;
    c->json = o->json, c->force = o->force, c->no_report = o->no_report;
    c->trade_from_given = o->trade_from_given;
    c->rows_every = o->rows_every, c->rows_change = o->rows_change;
    c->sync = o->sync;
    c->crash_after = o->crash_after;
    c->funding = o->funding, c->mark = o->mark;
    c->funding_interval_ms = o->funding_interval_ms;
    c->rules_file = o->rules_file;
    c->rule_keys = &o->rule_keys;
}

/* --resume: session.json's recorded command line, parsed as the first time
 * (session_backtest_parse_fn; ud: a bt_opts to fill). */
static int reparse(int argc, char **argv, session_backtest_config *c, void *ud)
{
    bt_opts *o = ud;
    opts_init(o);
    if (parse_opts(argc, argv, o) || o->resume)
        return 1;
    to_config(o, argv + optind, argc - optind, c);
    return 0;
}

int cmd_backtest(int argc, char **argv)
{
    /* --serve replays the files through the live path (simulator + live
     * session + dashboard): a different command behind the same name */
    for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
        if (!strcmp(argv[i], "--serve"))
            return app_backtest_serve(argc, argv);
    if (app_wants_help(argc, argv)) {
        usage(stdout);
        return PT_EXIT_OK;
    }
    session_backtest_argv *ca = NULL;
    int code = session_backtest_config_args(argc, argv, &ca);
    if (code)
        return code;
    argc = ca->argc, argv = ca->argv; /* config keys first: the flags win */
    bt_opts *o = malloc(2 * sizeof *o); /* [1]: the recorded options of a resume */
    if (!o) {
        session_backtest_config_free(ca);
        return PT_EXIT_FAILURE;
    }
    opts_init(o);
    code = parse_opts(argc, argv, o);
    if (code == PT_EXIT_USAGE)
        app_usage_hint("backtest");
    if (!code) {
        session_backtest_config c;
        to_config(o, argv + optind, argc - optind, &c);
        code = o->resume ? session_backtest_resume(o->resume, &c, reparse, &o[1]) : session_backtest_run(&c);
    }
    free(o);
    session_backtest_config_free(ca);
    return code;
}

/* ------------------------------------------------------------ commands.h: optimize's parser */

typedef struct bt_setup_box {
    session_backtest_config pub; /* first: the public pointer is the box */
    bt_opts o;
    session_backtest_argv *ca;
} bt_setup_box;

int app_backtest_parse(int argc, char **argv, session_backtest_config **out)
{
    *out = NULL;
    bt_setup_box *b = calloc(1, sizeof *b);
    if (!b)
        return PT_EXIT_FAILURE;
    int code = session_backtest_config_args(argc, argv, &b->ca);
    if (!code) {
        opts_init(&b->o);
        code = parse_opts(b->ca->argc, b->ca->argv, &b->o);
    }
    if (!code && b->o.resume) {
        fprintf(stderr, "papertrader: --resume is not a flag of the engine here\n");
        code = PT_EXIT_USAGE;
    }
    if (!code && (b->o.funding || b->o.mark)) { /* never a silent zero: only backtest reads them yet */
        fprintf(stderr, "papertrader: --funding and --mark are read by backtest only (not here yet)\n");
        code = PT_EXIT_USAGE;
    }
    if (!code && session_rules_backtest(b->o.rules_file, &b->o.rule_keys, b->ca->argv + optind,
                                        b->ca->argc - optind, b->o.order, &b->o.rules))
        code = PT_EXIT_INPUT;
    if (code) {
        app_backtest_free(&b->pub);
        return code;
    }
    to_config(&b->o, b->ca->argv + optind, b->ca->argc - optind, &b->pub);
    b->pub.cfg.rules = b->o.rules.n ? &b->o.rules : NULL; /* the box lives as long as pub */
    *out = &b->pub;
    return 0;
}

void app_backtest_free(session_backtest_config *c)
{
    if (!c)
        return;
    bt_setup_box *b = (bt_setup_box *)c;
    session_backtest_config_free(b->ca);
    free(b);
}
