/* papertrader run: a live paper session against an exchange stream through
 * the same engine, options and outputs as backtest (session/session_live.c). */
#include "commands.h"
#include "feed.h"
#include "session.h"

#include <stdio.h>

static void usage(FILE *out)
{
    fprintf(out,
            "usage: papertrader run [--config FILE] [--exchange VENUE] [--ws-url URL]\n"
            "                       [--rest-url URL] --symbols A,B [--interval 1m] [options]\n"
            "       papertrader run --resume DIR [--port N ...]\n"
            "       papertrader run --state-dir DIR [options]   (resume DIR, or start there)\n"
            "  VENUE: %s (default binance; papertrader exchanges).\n"
            "  A live paper session: exchange WebSocket (+ REST gap fill) -> quality -> engine ->\n"
            "  ledger, with the dashboard on http://127.0.0.1:8765/. Writes trades.csv,\n"
            "  portfolio.csv, candles/<SYMBOL>.csv (every processed candle), report.json and\n"
            "  session.json into --out; `papertrader backtest` on candles/ with the same options\n"
            "  gives the same trades.csv. --ws-url/--rest-url are base URLs (scheme://host:port).\n"
            "  Ctrl-C / SIGTERM stops cleanly (exit 0); a second one exits at once. After a\n"
            "  crash (kill -9, power cut) --resume DIR replays DIR's recorded candles through the\n"
            "  engine, verifies the ledger and carries on live (docs/durability.md).\n"
            "exit: 0 ok, 1 output error, 2 bad options or no session in DIR, 5 DIR's ledger or\n"
            "      recording is corrupt (refusing to resume), 6 DIR locked by another process\n",
            feed_adapter_names());
    session_opts_usage(out, SESSION_F_RESUME);
}

int cmd_run(int argc, char **argv)
{
    if (app_wants_help(argc, argv)) {
        usage(stdout);
        return PT_EXIT_OK;
    }
    session_opts o;
    int code = session_opts_parse(&o, "run", SESSION_F_RESUME, argc, argv);
    if (!code) {
        session_live_config sc = {.o = &o, .mode = "run"};
        code = session_live_run(&sc);
    } else if (code == PT_EXIT_USAGE) {
        app_usage_hint("run");
    }
    session_opts_free(&o);
    return code;
}
