/* papertrader demo: the built-in exchange simulator and a live session
 * against it, in one process and one lws context (what `make run` starts).
 * By default it replays the shipped sample data/freqtrade_UNITTEST-BTC_1m.csv
 * fast enough to finish in about two minutes; --speed/--duration change that,
 * --synthetic serves the seeded synthetic market instead. */
#include "commands.h"
#include "feed.h"
#include "session.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#ifndef PT_SAMPLE_CSV
#define PT_SAMPLE_CSV "data/freqtrade_UNITTEST-BTC_1m.csv"
#endif

static void usage(FILE *out)
{
    fprintf(out,
            "usage: papertrader demo [--speed X] [--faults SPEC] [--port N] [--out DIR] [options] [FILE...]\n"
            "  Starts the exchange simulator on a free loopback port and a paper session against\n"
            "  it, prints the dashboard URL, and stops at the end of the data (or --duration,\n"
            "  or Ctrl-C). Without FILEs it replays " PT_SAMPLE_CSV " at --speed\n"
            "  (default 7200: one 1m candle every ~8 ms, about two minutes). Symbol: " PT_SAMPLE_SYMBOL
            " (the sample is\n  Freqtrade's UNITTEST/BTC test market: an altcoin quoted in BTC, ~0.0016).\n");
    session_opts_usage(out, SESSION_F_SIM);
}

int app_live_replay(const char *mode, int argc, char **argv, const char *default_file, double default_speed);

int cmd_demo(int argc, char **argv)
{
    if (app_wants_help(argc, argv)) {
        usage(stdout);
        return PT_EXIT_OK;
    }
    return app_live_replay("demo", argc, argv, PT_SAMPLE_CSV, 7200);
}
