/* app/session_live: the live paper session. One libwebsockets context and
 * one thread own everything: the exchange feed (feed_live), optionally the
 * in-process exchange simulator (feed_xsim, for demo and backtest --serve),
 * the engine (sim), the ledger and candle recorder, the dashboard server
 * (wss), the heartbeat and signal-poll timers. See docs/session.md for the
 * event flow and the shutdown order.
 *
 * Outputs in OUT: trades.csv, portfolio.csv (ledger), candles/<SYMBOL>.csv
 * (every closed candle the engine processed, written before it reaches the
 * engine), report.json, session.json, papertrader.log, errors.log.
 *
 * Ownership: the config is borrowed for the call; everything the session
 * creates is freed before session_live_run() returns. */
#ifndef PT_APP_SESSION_LIVE_H
#define PT_APP_SESSION_LIVE_H

#include "feed_xsim.h"
#include "session_opts.h"

typedef struct session_live_config {
    const sess_opts *o;
    const char *mode;               /* "run", "demo", "serve": messages and the default out dir */
    const feed_xsim_config *xsim;   /* non-NULL: start this simulator on the same context and
                                       point the feed at it (ws_url/rest_url from its port) */
    int64_t end_ts_ms;              /* > 0: stop by itself once every symbol has a closed
                                       candle at or after this open time (serve) */
} session_live_config;

/* Runs until SIGINT/SIGTERM, --duration, end_ts_ms, or a fatal output
 * error. Returns a process exit code (enum pt_exit): 0 after a clean stop. */
int session_live_run(const session_live_config *cfg);

#endif
