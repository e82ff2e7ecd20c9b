/* backtest_setup: the backtest's own option parsing and input opening, for
 * commands that run the backtest's engine many times (app/cmd_optimize.c).
 * Same flags, same checks, same messages as `papertrader backtest`, so an
 * evaluation and `backtest` with the same flags configure the same engine.
 *
 * Ownership: backtest_setup_parse allocates *out; every pointer in it
 * (strings, files, args) stays valid until backtest_setup_free (NULL: no-op).
 * The strategy is not loaded: cfg.strategy is NULL (sim_strategy_load). */
#ifndef PT_APP_BACKTEST_SETUP_H
#define PT_APP_BACKTEST_SETUP_H

#include "feed.h"
#include "sim.h"

typedef struct backtest_setup {
    sim_engine_config cfg;             /* engine flags applied; strategy NULL */
    const char *strategy;              /* name, or absolute path of a .so */
    const char *symbol, *order, *controls; /* NULL when not given */
    const char *const *params;         /* the --param K=V texts */
    int n_params;
    char **files;                      /* FILE... as given */
    int nfiles;
    const char *const *args;           /* result-shaping flags and arguments as given */
    int n_args;                        /* (session.json "args" of a backtest) */
    int quiet;
} backtest_setup;

/* argv[0] is the caller's command name; --config FILE is honoured. Returns
 * 0, or an exit code after printing why (--resume is refused: the caller
 * has its own). */
int backtest_setup_parse(int argc, char **argv, backtest_setup **out);
/* The input candles as `backtest` reads them (k-way merge, or --order), each
 * file read once. *rejects counts the rows the readers dropped; *bar_ms is
 * the first file's interval (0 if unknown). PT_OK or the reader's error
 * (logged with the path). */
int backtest_setup_open(const backtest_setup *s, uint64_t *rejects, int64_t *bar_ms, feed_source *out);
void backtest_setup_free(backtest_setup *s);

/* app/backtest_warm.c: the "trade_from_ms" of the live session whose
 * recording the inputs are (FILE or --order under DIR/candles/, with
 * DIR/session.json), or 0. from gets that session.json's path. */
int64_t backtest_recorded_trade_from(char *const *files, int nfiles, const char *order, char *from, size_t cap);

#endif
