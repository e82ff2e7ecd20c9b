/* papertrader report DIR: (re)writes DIR/report.html for an existing
 * backtest output folder (session.h). Holds DIR's lock while it reads,
 * so it never reports a half-written ledger of a running backtest. */
#include "commands.h"
#include "pt_core.h"
#include "session.h"

#include <getopt.h>
#include <stdio.h>
#include <sys/stat.h>

static void usage(FILE *out)
{
    fprintf(out,
            "usage: papertrader report [options] DIR\n"
            "  Writes DIR/report.html for the backtest output folder DIR (trades.csv,\n"
            "  portfolio.csv, report.json, session.json and the input candle files): one\n"
            "  self-contained page with the equity curve, drawdown, candles with trade\n"
            "  markers and the metrics table. It opens from disk with no server.\n"
            "options:\n"
            "  --vendor-js PATH   lightweight-charts standalone build to inline\n"
            "                     (default: the one the dashboard uses)\n"
            "  --quiet            no log lines on stderr\n"
            "exit: 0 ok, 1 write failure, 2 bad options, 3 DIR is not a backtest output folder,\n"
            "      6 DIR locked by a running backtest\n");
}

int cmd_report(int argc, char **argv)
{
    static const struct option opts[] = {
        {"vendor-js", required_argument, 0, 'v'},
        {"quiet", no_argument, 0, 'q'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    if (app_wants_help(argc, argv)) {
        usage(stdout);
        return PT_EXIT_OK;
    }
    const char *vendor = NULL;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'v') {
            vendor = optarg;
        } else if (c == 'q') {
            pt_log_set_stderr(0);
        } else {
            fprintf(stderr, "papertrader report: unknown or incomplete option '%s'\n", argv[optind - 1]);
            return app_usage_hint("report");
        }
    }
    if (argc - optind != 1) {
        fprintf(stderr, "papertrader report: want exactly one DIR\n");
        return app_usage_hint("report");
    }
    const char *dir = argv[optind];
    struct stat st;
    if (stat(dir, &st) || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "papertrader report: %s: not a directory\n", dir);
        return PT_EXIT_INPUT;
    }
    char rj[4096];
    snprintf(rj, sizeof rj, "%s/report.json", dir);
    if (stat(rj, &st)) { /* before the lock: never leave a .lock in a stray folder */
        fprintf(stderr, "papertrader report: %s: no report.json (not a finished backtest "
                        "output folder)\n", dir);
        return PT_EXIT_INPUT;
    }
    int fd = -1;
    int rc = session_dir_lock("report", dir, 0, &fd); /* a backtest still writing it: exit 6 */
    if (rc)
        return rc;
    rc = session_report_html_write(dir, vendor);
    session_unlock(fd);
    if (rc == PT_ENOENT || rc == PT_ECORRUPT || rc == PT_ERANGE) {
        fprintf(stderr, "papertrader report: %s: not a complete backtest output folder "
                        "(see above)\n", dir);
        return PT_EXIT_INPUT;
    }
    if (rc)
        return PT_EXIT_FAILURE;
    printf("%s/report.html\n", dir);
    return fflush(stdout) ? PT_EXIT_FAILURE : PT_EXIT_OK;
}
