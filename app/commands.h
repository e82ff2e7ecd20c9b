/* app: the `papertrader` command line. One file per subcommand
 * (cmd_<name>.c) exporting `int cmd_<name>(int argc, char **argv)` that
 * returns a process exit code (enum pt_exit). argv[0] is the subcommand
 * name, so getopt_long works as usual.
 *
 * Must never: hold engine logic. Commands parse options, wire modules
 * together and print results; everything else lives in the modules. */
#ifndef PT_APP_COMMANDS_H
#define PT_APP_COMMANDS_H

/* X(name-in-cli, function, one-line summary) */
#define PT_COMMAND_MAP(X)                                                              \
    X("check", cmd_check, "data-quality report for candle CSV files")                  \
    X("backtest", cmd_backtest, "replay candle files through the engine")              \
    X("optimize", cmd_optimize, "parameter search over the backtest engine, on every core") \
    X("walk-forward", cmd_walk_forward, "re-optimise on rolling windows, trade the next window") \
    X("strategies", cmd_strategies, "list built-in strategies and their parameters")   \
    X("run", cmd_run, "live paper session against an exchange stream")                 \
    X("demo", cmd_demo, "built-in exchange simulator + live session + dashboard")      \
    X("exchange-sim", cmd_exchange_sim, "serve a simulated exchange on loopback")      \
    X("fetch", cmd_fetch, "download historical candles to CSV")                        \
    X("exchanges", cmd_exchanges, "list the venues with their intervals, history and finality") \
    X("config", cmd_config, "validate a config file and print the effective config")  \
    X("report", cmd_report, "write report.html for a backtest output folder")

#define PT_CMD_DECL_(cli, fn, help) int fn(int argc, char **argv);
PT_COMMAND_MAP(PT_CMD_DECL_)
#undef PT_CMD_DECL_

/* backtest's own option parsing, for commands that run the backtest's
 * engine many times (optimize, walk-forward): same flags, same checks, same
 * messages as `papertrader backtest`, so an evaluation and `backtest` with
 * the same flags configure the same engine. argv[0] is the caller's command
 * name; --config FILE is honoured; --resume is refused (the caller has its
 * own). Returns 0 with *out (every pointer in it valid until
 * app_backtest_free; NULL: no-op), or an exit code after printing why. */
struct session_backtest_config;
int app_backtest_parse(int argc, char **argv, struct session_backtest_config **out);
void app_backtest_free(struct session_backtest_config *c);

/* `backtest --serve`: app/cmd_serve.c (strips --serve itself). */
int app_backtest_serve(int argc, char **argv);

/* Shared by subcommands: true if argv has -h/--help (before any "--"). */
int app_wants_help(int argc, char **argv);

/* The one ending of a usage error: a hint to --help on stderr (not the
 * whole help); returns PT_EXIT_USAGE. cmd NULL: the top level. */
int app_usage_hint(const char *cmd);

/* The demo's market: the shipped sample data/freqtrade_UNITTEST-BTC_1m.csv is
 * Freqtrade's UNITTEST/BTC test pair (an altcoin quoted in BTC, ~0.0016), so
 * the demo streams it under that name, Binance style (quote BTC). */
#define PT_SAMPLE_SYMBOL "UNITTESTBTC"

#endif
