/* papertrader backtest: replay candle files through the engine (sim/) and
 * book the result with portfolio/ (ledger files, metrics, report). This
 * file only parses options and wires modules; every decision is in sim/.
 * Same inputs and options give byte-identical trades.csv, portfolio.csv and
 * report.json: nothing here that reaches those files reads the wall clock. */
#include "session.h"
#include "commands.h"
#include "feed.h"
#include "ops.h"
#include "portfolio.h"
#include "ops_progress.h"
#include "pt_core.h"
#include "sim.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BT_MAX_FILES 64
#define BT_MAX_PARAMS 32
#define BT_MAX_REC 160            /* recorded options (session.json "args") */

typedef struct bt_opts {
    const char *strategy, *symbol, *out, *resume, *controls, *order;
    const char *params[BT_MAX_PARAMS];
    int n_params, json, quiet, force, no_report;
    int trade_from_given; /* --trade-from: else a recording's session.json may say it */
    int rows_every;  /* --portfolio-rows N: every Nth row (1 = every row) */
    int rows_change; /* --portfolio-rows change: only rows that differ */
    sim_engine_config cfg;
    const char *sizing_text;
    /* durability: not recorded in session.json, allowed with --resume */
    pf_sync_policy sync;
    uint64_t crash_after; /* hidden test hook --crash-after-fills N */
    /* every option that shapes the result, as given (long_opts index and
     * argument): session.json keeps them so that --resume re-runs the same */
    int rec_opt[BT_MAX_REC];
    const char *rec_arg[BT_MAX_REC];
    int n_rec;
    char strategy_abs[PATH_MAX], controls_abs[PATH_MAX], order_abs[PATH_MAX];
} bt_opts;

typedef struct bt_ctx {
    session_ledger *sl;
    pf_metrics *m;
    int io_err;
    uint64_t candles;
    progress progress;
    int rows_every, rows_change; /* --portfolio-rows (bt_opts) */
    uint64_t rows_seen;
    pf_snapshot last_row; /* the last row written (rows_change) */
    session_report_run *report; /* report.html fed during the run; NULL: read back at the end */
    uint64_t reader_rejects; /* CSV rows the reader dropped (counted by feed_csv) */
} bt_ctx;

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
    O_NOREPORT, O_STIMEOUT, O_TRADEFROM,
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

/* Returns 0, or an exit code. */
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
        case O_CONFIG: break; /* read before parsing: backtest_config.h */
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

/* ------------------------------------------------------------ hooks */

static void h_candle(void *ud, const pt_candle *c, quality_verdict v, double score,
                     const sim_signal *sig)
{
    (void)score, (void)sig;
    bt_ctx *x = ud;
    if (v != QUALITY_REJECT)
        pf_metrics_price(x->m, c->symbol, c->close);
    session_report_run_candle(x->report, c);
    /* progress: a terminal only (progress.h); looked at every 64k candles */
    if (x->progress.on && (++x->candles & 0xffff) == 0) {
        char when[48] = "candles, at ";
        pt_format_iso_ms(c->ts_ms, when + 12, sizeof when - 12);
        progress_update(&x->progress, (double)x->candles, 0, when);
    }
}

/* The ledger first: nothing learns of a fill before it is durable. After a
 * ledger error the run loop stops feeding the engine. */
static void h_fill(void *ud, const pf_fill *f, const pf_fill_result *r)
{
    bt_ctx *x = ud;
    if (!x->io_err)
        x->io_err = session_ledger_fill(x->sl, f, r);
    if (!x->io_err)
        pf_metrics_fill(x->m, f->fee, r);
}

/* --portfolio-rows change: a value other than the time and the quality
 * score moved since the last row written. */
static int row_changed(const pf_snapshot *a, const pf_snapshot *b)
{
    return a->cash != b->cash || a->positions_value != b->positions_value || a->equity != b->equity ||
           a->realized_pnl != b->realized_pnl || a->unrealized_pnl != b->unrealized_pnl ||
           a->fees != b->fees || a->high_water != b->high_water || a->drawdown != b->drawdown ||
           a->open_positions != b->open_positions;
}

/* Whether this snapshot becomes a portfolio.csv row; the metrics and the
 * report see every snapshot either way. */
static int keep_row(bt_ctx *x, const pf_snapshot *s)
{
    uint64_t i = x->rows_seen++;
    if (x->rows_change) {
        if (i && !row_changed(s, &x->last_row))
            return 0;
        x->last_row = *s;
        return 1;
    }
    return x->rows_every <= 1 || i % (uint64_t)x->rows_every == 0;
}

static void h_row(void *ud, const pf_snapshot *s)
{
    bt_ctx *x = ud;
    if (!x->io_err && keep_row(x, s))
        x->io_err = session_ledger_row(x->sl, s);
    if (!x->io_err) {
        pf_metrics_snapshot(x->m, s);
        session_report_run_row(x->report, s->ts_ms, s->equity, s->drawdown);
    }
}

/* ------------------------------------------------------------ outputs */

/* Replaced atomically (temp, fsync, rename, fsync dir): a crash leaves the
 * old file or the new one, never a half. */
static void add_num(cJSON *o, const char *k, double v)
{
    if (isfinite(v))
        cJSON_AddNumberToObject(o, k, v);
    else
        cJSON_AddNullToObject(o, k);
}

/* The engine's own counts next to portfolio's metrics. */
/* Everything --resume needs: "args" (every result-shaping option as given,
 * paths absolute) and "files" (absolute) are what it re-parses; the other
 * keys describe the effective configuration for people and tools. */
static cJSON *session_json(const bt_opts *o, char **files, int nfiles)
{
    const sim_engine_config *c = &o->cfg;
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "command", "backtest");
    cJSON_AddStringToObject(j, "version", PT_VERSION);
    cJSON *a = cJSON_AddArrayToObject(j, "args");
    for (int i = 0; i < o->n_rec; i++) {
        char flag[64];
        snprintf(flag, sizeof flag, "--%s", long_opts[o->rec_opt[i]].name);
        cJSON_AddItemToArray(a, cJSON_CreateString(flag));
        if (o->rec_arg[i])
            cJSON_AddItemToArray(a, cJSON_CreateString(o->rec_arg[i]));
    }
    cJSON *f = cJSON_AddArrayToObject(j, "files");
    for (int i = 0; i < nfiles; i++)
        cJSON_AddItemToArray(f, cJSON_CreateString(files[i]));
    if (o->symbol)
        cJSON_AddStringToObject(j, "symbol", o->symbol);
    cJSON_AddStringToObject(j, "strategy", o->strategy);
    cJSON *p = cJSON_AddObjectToObject(j, "params");
    for (int i = 0; i < c->strategy->n_params; i++)
        add_num(p, c->strategy->params[i].name, c->params[i]);
    add_num(j, "cash", c->cash);
    add_num(j, "taker_fee_bps", c->taker_fee_bps);
    add_num(j, "maker_fee_bps", c->maker_fee_bps);
    add_num(j, "slippage_bps", c->slippage_bps);
    cJSON_AddStringToObject(j, "sizing", o->sizing_text ? o->sizing_text : "all-in");
    add_num(j, "min_quality", c->min_quality);
    add_num(j, "max_positions", c->max_positions);
    add_num(j, "max_exposure_pct", c->max_exposure_pct);
    add_num(j, "daily_loss_pct", c->daily_loss_pct);
    add_num(j, "max_drawdown_pct", c->max_drawdown_pct);
    add_num(j, "min_notional", c->min_notional);
    add_num(j, "cooldown_losses", c->cooldown_losses);
    add_num(j, "cooldown_candles", c->cooldown_candles);
    add_num(j, "max_participation_pct", c->max_participation_pct);
    add_num(j, "atr_period", c->atr_period);
    add_num(j, "atr_mult", c->atr_mult);
    cJSON_AddBoolToObject(j, "allow_short", c->allow_short);
    cJSON_AddBoolToObject(j, "close_at_end", c->close_at_end);
    return j;
}

static void print_table(const pf_metrics_result *mr, const sim_engine *e)
{
    const sim_engine_stats *s = sim_engine_get_stats(e);
    pf_metrics_print_table(mr, stdout);
    printf("%-22s %llu\n", "rejected candles", (unsigned long long)s->rejected);
    printf("%-22s %llu\n", "quality blocks", (unsigned long long)s->quality_blocks);
    for (int i = 0; i < SIM_BLOCK__COUNT; i++)
        if (i != SIM_BLOCK_QUALITY && s->blocks[i])
            printf("%-22s %llu (%s)\n", "risk blocks", (unsigned long long)s->blocks[i],
                   sim_block_name((sim_block_reason)i));
    if (s->strategy_failures)
        printf("%-22s %llu (breaker opened %llu times)\n", "strategy failures",
               (unsigned long long)s->strategy_failures, (unsigned long long)s->breaker_opens);
}

/* ------------------------------------------------------------ main */

/* order: a live session's candles/.order (its processing order), or NULL
 * for the k-way merge by event time. *bar_ms: the first file's interval,
 * from its reader's look-ahead (each input is read once: FIFOs work). */
static int open_sources(char **files, int n, const char *symbol, const char *order, uint64_t *rejects,
                        int64_t *bar_ms, feed_source *out)
{
    feed_source srcs[BT_MAX_FILES];
    feed_csv_opts co;
    memset(&co, 0, sizeof co);
    co.symbol = symbol;
    co.rejects_out = rejects; /* for report.html: rows the reader dropped */
    for (int i = 0; i < n; i++) {
        co.interval_out = i == 0 ? bar_ms : NULL;
        int rc = feed_source_csv(files[i], &co, &srcs[i]);
        if (rc) {
            for (int k = 0; k < i; k++)
                feed_source_free(&srcs[k]);
            return rc;
        }
    }
    if (order) /* takes the sources, also on failure */
        return feed_source_ordered(srcs, (size_t)n, order, out);
    if (n == 1) {
        *out = srcs[0];
        return PT_OK;
    }
    return feed_source_merge(srcs, (size_t)n, out); /* takes the sources, also on failure */
}

static void opts_init(bt_opts *o)
{
    memset(o, 0, sizeof *o);
    sim_engine_config_default(&o->cfg);
    o->strategy = "sma_cross";
    o->sync = PF_SYNC_NONE; /* a backtest is re-derivable: docs/durability.md */
}

/* --resume DIR before the lock: a missing folder is a missing input (3).
 * Returns -1 to go on. */
static int resume_precheck(const char *dir)
{
    struct stat st;
    if (stat(dir, &st)) {
        fprintf(stderr, "papertrader backtest: --resume %s: %s\n", dir,
                errno == ENOENT ? "no such folder" : strerror(errno));
        return PT_EXIT_INPUT;
    }
    if (!S_ISDIR(st.st_mode)) {
        fprintf(stderr, "papertrader backtest: --resume %s: not a folder\n", dir);
        return PT_EXIT_USAGE;
    }
    return -1;
}

/* A finished backtest (report.json is written last) has nothing left to do. */
static int resume_finished(const char *dir)
{
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/report.json", dir) >= (int)sizeof path || access(path, F_OK))
        return 0;
    fprintf(stderr, "papertrader backtest: --resume %s: this backtest is complete (report.json is there); "
                    "nothing to resume\n", dir);
    return 1;
}

/* --resume DIR: rebuild the original command line from DIR/session.json.
 * *argv_out (malloc'd; its strings live in *doc) is the caller's to free. */
static int load_session(const char *dir, cJSON **doc, char ***argv_out, int *argc_out)
{
    *doc = session_json_read(dir);
    if (!*doc && errno != EINVAL) {
        fprintf(stderr, "papertrader backtest: --resume: cannot read %s/session.json: %s (not a session "
                        "folder?)\n", dir, strerror(errno));
        return PT_EXIT_USAGE;
    }
    const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(*doc, "command");
    const cJSON *args = cJSON_GetObjectItemCaseSensitive(*doc, "args");
    if (cJSON_IsString(cmd) && strcmp(cmd->valuestring, "backtest")) { /* another kind of session */
        fprintf(stderr, "papertrader backtest: --resume %s: it holds a `%s` session, not a backtest "
                        "(papertrader %s --resume %s carries it on)\n", dir, cmd->valuestring,
                !strcmp(cmd->valuestring, "demo") ? "demo" : "run", dir);
        return PT_EXIT_USAGE;
    }
    const cJSON *files = cJSON_GetObjectItemCaseSensitive(*doc, "files");
    int na = cJSON_GetArraySize(args), nf = cJSON_GetArraySize(files), k = 1;
    char **av = NULL;
    if (!cJSON_IsString(cmd) || strcmp(cmd->valuestring, "backtest") || !cJSON_IsArray(args) ||
        !cJSON_IsArray(files) || nf < 1 || nf > BT_MAX_FILES || na > 2 * BT_MAX_REC ||
        !(av = calloc((size_t)(na + nf + 2), sizeof *av)))
        goto bad;
    av[0] = "backtest";
    const cJSON *it;
    cJSON_ArrayForEach(it, args) {
        if (!cJSON_IsString(it))
            goto bad;
        av[k++] = it->valuestring;
    }
    cJSON_ArrayForEach(it, files) {
        if (!cJSON_IsString(it))
            goto bad;
        av[k++] = it->valuestring;
    }
    *argv_out = av;
    *argc_out = k;
    return 0;
bad:
    free(av);
    fprintf(stderr, "papertrader backtest: %s/session.json: not a resumable backtest session (want "
                    "\"command\": \"backtest\", \"args\" and \"files\")\n", dir);
    return PT_EXIT_CORRUPT;
}

/* session.json keeps absolute input paths: a resume may start elsewhere. */
static int write_session(const char *dir, const bt_opts *o, char **files, int nfiles)
{
    char *abs[BT_MAX_FILES];
    for (int i = 0; i < nfiles; i++)
        abs[i] = realpath(files[i], NULL);
    char *names[BT_MAX_FILES];
    for (int i = 0; i < nfiles; i++)
        names[i] = abs[i] ? abs[i] : files[i];
    cJSON *ses = session_json(o, names, nfiles);
    int rc = ses ? session_write_json(dir, "session.json", ses) : PT_ENOMEM;
    cJSON_Delete(ses);
    for (int i = 0; i < nfiles; i++)
        free(abs[i]);
    return rc;
}

static int ledger_exit(int rc) { return rc == PT_ECORRUPT ? PT_EXIT_CORRUPT : PT_EXIT_FAILURE; }

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
    bt_opts o;
    opts_init(&o);
    code = parse_opts(argc, argv, &o);
    if (code) {
        if (code == PT_EXIT_USAGE)
            app_usage_hint("backtest");
        session_backtest_config_free(ca);
        return code;
    }
    char **files = argv + optind;
    int nfiles = argc - optind;

    void *dl = NULL;
    sim_engine *e = NULL;
    session_controls *ctl = NULL;
    feed_source src = {0};
    bt_ctx x;
    memset(&x, 0, sizeof x);
    cJSON *rep = NULL, *sdoc = NULL;
    char **rargv = NULL;
    int lock_fd = -1, rargc = 0;
    char outdir[4096], err[256] = "";

    if (o.resume) { /* lock first: a second process must not even read */
        snprintf(outdir, sizeof outdir, "%s", o.resume);
        if ((code = resume_precheck(outdir)) >= 0 || (code = session_dir_lock("backtest", outdir, 0, &lock_fd)) ||
            (code = load_session(outdir, &sdoc, &rargv, &rargc)))
            goto done;
        if (resume_finished(outdir)) {
            code = PT_EXIT_OK;
            goto done;
        }
        bt_opts keep = o;
        opts_init(&o);
        if (parse_opts(rargc, rargv, &o) || o.resume) {
            fprintf(stderr, "papertrader backtest: %s/session.json: its \"args\" do not parse\n",
                    outdir);
            code = PT_EXIT_CORRUPT;
            goto done;
        }
        o.resume = keep.resume;
        o.quiet = keep.quiet;
        o.json = keep.json;
        o.sync = keep.sync;
        o.crash_after = keep.crash_after;
        files = rargv + optind;
        nfiles = rargc - optind;
    }
    if (o.quiet)
        pt_log_set_stderr(0);
    if (!o.crash_after) { /* the test hook also comes from the environment */
        const char *env = getenv("PT_CRASH_AFTER_FILLS");
        int64_t v;
        const char *why;
        if (env && !pt_parse_int64(env, strlen(env), &v, &why) && v > 0)
            o.crash_after = (uint64_t)v;
    }

    code = PT_EXIT_USAGE;
    if (sim_strategy_load(o.strategy, &o.cfg.strategy, &dl)) {
        fprintf(stderr, "papertrader backtest: unknown strategy '%s' "
                        "(papertrader strategies lists them)\n", o.strategy);
        goto done;
    }
    if (sim_strategy_params(o.cfg.strategy, o.params, o.n_params, o.cfg.params, err, sizeof err)) {
        fprintf(stderr, "papertrader backtest: %s\n", err);
        goto done;
    }
    sim_strategy_warn_short(o.cfg.strategy, o.cfg.allow_short);
    { /* parameters that pass ranges may still be inconsistent (fast >= slow) */
        void *probe = NULL;
        if (o.cfg.strategy->create(o.cfg.params, &probe, err, sizeof err)) {
            fprintf(stderr, "papertrader backtest: %s: %s\n", o.strategy, err);
            goto done;
        }
        o.cfg.strategy->free(probe);
    }
    int64_t bar_ms = 0;
    int rc = open_sources(files, nfiles, o.symbol, o.order, &x.reader_rejects, &bar_ms, &src);
    if (rc) {
        code = PT_EXIT_INPUT; /* the reader logged path and reason */
        goto done;
    }
    if (!o.trade_from_given) { /* a live recording: its warm-up candles warm here too */
        char from[4200];
        if ((o.cfg.trade_from_ms = session_recorded_trade_from(files, nfiles, o.order, from, sizeof from)) > 0) {
            char when[32];
            pt_format_iso_ms(o.cfg.trade_from_ms, when, sizeof when);
            pt_info("backtest: %s: warm-up until %s, no trading before it (--trade-from 0: trade from the "
                    "first candle)", from, when);
        }
    }
    if (o.resume) {
        /* outdir set above */
    } else if (o.out) {
        snprintf(outdir, sizeof outdir, "%s", o.out);
    } else {
        session_default_dir(outdir, sizeof outdir, "backtest");
    }
    code = PT_EXIT_FAILURE;
    if (!o.resume) { /* the session's inputs are durable before its first fill */
        if ((code = session_dir_lock("backtest", outdir, 1, &lock_fd)))
            goto done; /* a folder in use says so (exit 6) before anything about its contents */
        if (o.out && !o.force && (code = session_dir_refuse_run("backtest", outdir, 1)))
            goto done;
        code = PT_EXIT_FAILURE;
        if (write_session(outdir, &o, files, nfiles))
            goto done;
    }
    /* resume = replay: the ledger verifies the recorded rows, appends the rest */
    session_ledger_options lo = {o.resume != NULL, o.sync, 1, o.crash_after};
    if ((rc = session_ledger_open(outdir, &lo, &x.sl))) {
        code = ledger_exit(rc);
        if (rc == PT_ECORRUPT)
            fprintf(stderr, "papertrader backtest: refusing to resume %s: its ledger is corrupt "
                            "(file:line above); files left as they are\n", outdir);
        goto done;
    }
    if (bar_ms <= 0)
        bar_ms = 60000;
    if (pf_metrics_new(bar_ms, o.cfg.cash, &x.m))
        goto done;
    progress_begin(&x.progress, "backtest", o.quiet);
    x.rows_every = o.rows_every;
    x.rows_change = o.rows_change;
    if (!o.no_report && session_report_run_new(&x.report))
        x.report = NULL; /* the report reads the folder back instead */
    const sim_hooks hooks = {h_candle, NULL, h_fill, h_row, NULL};
    o.cfg.ext.interval_ms = bar_ms;
    if (sim_engine_new(&o.cfg, &hooks, &x, &e) || (!o.controls && sim_engine_lookahead(e, &src)))
        goto done;
    if (o.controls && session_controls_load(o.controls, &ctl)) {
        code = PT_EXIT_INPUT;
        goto done;
    }
    pt_candle c;
    while (!x.io_err && (rc = src.ops->next(src.self, &c)) == PT_OK) {
        if (session_controls_apply(ctl, e, c.ts_ms)) { /* recorded operator controls */
            code = PT_EXIT_INPUT;
            goto done;
        }
        /* a ledger error stops trading at once; so does a failed external strategy
         * (logged with the candle and its text), keeping every row written */
        if (sim_engine_on_candle(e, &c) == PT_ESTATE) {
            fprintf(stderr, "papertrader backtest: stopped: the strategy failed (above); the "
                            "rows written so far are kept in %s\n", outdir);
            code = PT_EXIT_FAILURE;
            goto done;
        }
    }
    progress_end(&x.progress);
    if (!x.io_err && rc != PT_EOF) {
        code = PT_EXIT_INPUT;
        goto done;
    }
    if (!x.io_err && session_controls_apply(ctl, e, INT64_MAX)) {
        code = PT_EXIT_INPUT;
        goto done;
    }
    if (!x.io_err)
        sim_engine_finish(e);
    if (x.io_err) {
        fprintf(stderr, "papertrader backtest: %s: %s\n",
                x.io_err == PT_ECORRUPT ? "refusing to resume" : "stopped trading",
                session_ledger_error_text(x.sl));
        if (x.io_err != PT_ECORRUPT)
            fprintf(stderr, "papertrader backtest: every complete row is kept; on a healthy disk "
                            "run: papertrader backtest --resume %s\n", outdir);
        code = ledger_exit(x.io_err);
        goto done;
    }
    if (sim_engine_get_stats(e)->accepted == 0) {
        fprintf(stderr, "papertrader backtest: no usable candles in the input\n");
        code = PT_EXIT_INPUT;
        goto done;
    }
    rc = session_ledger_close(x.sl, 1);
    x.sl = NULL;
    if (rc) {
        code = ledger_exit(rc);
        goto done;
    }
    pf_metrics_result mr;
    pf_metrics_compute(x.m, &mr);
    rep = pf_metrics_to_json(&mr);
    if (!rep)
        goto done;
    sim_engine_stats_to_json(e, cJSON_AddObjectToObject(rep, "engine"));
    if (session_write_json(outdir, "report.json", rep))
        goto done;
    session_report_run_rejected(x.report, x.reader_rejects);
    if (!o.no_report && session_report_run_write(x.report, outdir, NULL)) /* logged; the backtest is complete */
        pt_warn("backtest: %s/report.html not written (papertrader report %s retries)", outdir,
                outdir);
    if (o.json) {
        char *t = cJSON_Print(rep);
        if (t)
            puts(t);
        free(t);
    } else {
        print_table(&mr, e);
        printf("%-22s %s\n", "output", outdir);
    }
    code = fflush(stdout) ? PT_EXIT_FAILURE : PT_EXIT_OK;
done:
    cJSON_Delete(rep);
    sim_engine_free(e);
    session_ledger_close(x.sl, 0);
    pf_metrics_free(x.m);
    feed_source_free(&src);
    sim_strategy_unload(dl);
    session_unlock(lock_fd);
    free(rargv);
    cJSON_Delete(sdoc);
    session_backtest_config_free(ca);
    session_controls_free(ctl);
    session_report_run_free(x.report);
    return code;
}

/* ------------------------------------------------------------ session_backtest_setup.h */

typedef struct bt_setup_box {
    session_backtest_setup pub; /* first: the public pointer is the box */
    bt_opts o;
    session_backtest_argv *ca;
    const char *args[2 * BT_MAX_REC];
    char flags[BT_MAX_REC][64];
} bt_setup_box;

int session_backtest_setup_parse(int argc, char **argv, session_backtest_setup **out)
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
    if (code) {
        session_backtest_setup_free(&b->pub);
        return code;
    }
    const bt_opts *o = &b->o;
    session_backtest_setup *s = &b->pub;
    s->cfg = o->cfg;
    s->strategy = o->strategy;
    s->symbol = o->symbol, s->order = o->order, s->controls = o->controls;
    s->params = o->params, s->n_params = o->n_params;
    s->files = b->ca->argv + optind, s->nfiles = b->ca->argc - optind;
    for (int i = 0; i < o->n_rec; i++) {
        snprintf(b->flags[i], sizeof b->flags[i], "--%s", long_opts[o->rec_opt[i]].name);
        b->args[s->n_args++] = b->flags[i];
        if (o->rec_arg[i])
            b->args[s->n_args++] = o->rec_arg[i];
    }
    s->args = b->args;
    s->quiet = o->quiet;
    *out = s;
    return 0;
}

int session_backtest_setup_open(const session_backtest_setup *s, uint64_t *rejects, int64_t *bar_ms, feed_source *out)
{
    return open_sources(s->files, s->nfiles, s->symbol, s->order, rejects, bar_ms, out);
}

void session_backtest_setup_free(session_backtest_setup *s)
{
    if (!s)
        return;
    bt_setup_box *b = (bt_setup_box *)s;
    session_backtest_config_free(b->ca);
    free(b);
}
