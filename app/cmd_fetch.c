/* papertrader fetch: download closed historical candles from an exchange's
 * REST API into a CSV that `backtest` and `check` read (header
 * timestamp,open,high,low,close,volume; epoch ms). Uses the REST client
 * synchronously: this command has no event loop. The file is written to
 * FILE.part and renamed at the end, so a failed run never leaves a file
 * that looks complete. */
#include "commands.h"
#include "feed.h"
#include "ops.h"
#include "pt_core.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out)
{
    fprintf(out,
            "usage: papertrader fetch --exchange VENUE --symbol SYM --interval 1m\n"
            "                         --since DATE [--until DATE] -o FILE [--rest-url URL]\n"
            "                         [--mark | --funding]\n"
            "                         [--ca-file PEM] [--max-retry-after SECONDS]\n"
            "                         [--connect-timeout SECONDS] [--quiet]\n"
            "  VENUE: %s (papertrader exchanges).\n"
            "  Downloads closed candles in [since, until) to FILE as CSV. Without --until it\n"
            "  stops at the exchange's last closed candle; it says so when it stops short of\n"
            "  --until. An exchange that cannot be reached is given up after --connect-timeout\n"
            "  seconds (default 15); a refused request shows the exchange's own message.\n"
            "  Columns: timestamp,open,high,low,close,volume (epoch ms). DATE is an ISO date/time\n"
            "  (2024-01-02, 2024-01-02T03:04:05Z) or epoch milliseconds. --rest-url replaces\n"
            "  the scheme, host and port of the exchange's REST API (the path is added).\n"
            "  HTTP 429/418 honour Retry-After (clamped to --max-retry-after, default 600).\n"
            "  Perpetual venues (binance-futures): --mark writes the mark-price klines instead\n"
            "  (same columns, volume 0; e.g. BTCUSDT-mark.csv for backtest --mark), --funding the\n"
            "  funding history: columns ts,symbol,rate,mark_price, one row per funding time in\n"
            "  [since, until) (--interval not needed; e.g. BTCUSDT-funding.csv for --funding).\n"
            "  Exit 0 done, 1 network/exchange failure, 2 usage error.\n",
            feed_adapter_names());
}

static int parse_date(const char *s, int64_t *ms)
{
    size_t n = strlen(s);
    int digits = n > 0;
    for (size_t i = 0; i < n; i++)
        digits &= s[i] >= '0' && s[i] <= '9';
    if (digits)
        return pt_parse_int64(s, n, ms, NULL); /* epoch ms, as documented */
    pt_time_kind k = PT_TIME_UNKNOWN;
    return pt_parse_time(s, n, &k, NULL, ms, NULL);
}

typedef struct writer {
    FILE *f;
    uint64_t rows;
    int64_t last_ts;
    ops_progress bar;          /* how far in [since, until) the rows are */
    int64_t since, until;
} writer;

static int write_row(void *ud, const pt_candle *c)
{
    writer *w = ud;
    char v[5][32];
    const double d[5] = {c->open, c->high, c->low, c->close, c->volume};
    for (int i = 0; i < 5; i++)
        pt_format_double(d[i], v[i], sizeof v[i]);
    if (fprintf(w->f, "%lld,%s,%s,%s,%s,%s\n", (long long)c->ts_ms, v[0], v[1], v[2], v[3], v[4]) < 0)
        return PT_EIO;
    w->rows++;
    w->last_ts = c->ts_ms;
    if (w->bar.on) {
        char at[40] = "at ";
        pt_format_iso_ms(c->ts_ms, at + 3, sizeof at - 3);
        ops_progress_update(&w->bar, (double)(c->ts_ms - w->since), (double)(w->until - w->since), at);
    }
    return PT_OK;
}

/* one funding settlement -> a funding file row (feed_funding_format) */
static int write_funding(void *ud, const feed_funding *f)
{
    writer *w = ud;
    char line[160];
    int n = feed_funding_format(f, line, sizeof line);
    if (n < 0 || fputs(line, w->f) < 0)
        return PT_EIO;
    w->rows++;
    w->last_ts = f->ts_ms;
    if (w->bar.on) {
        char at[40] = "at ";
        pt_format_iso_ms(f->ts_ms, at + 3, sizeof at - 3);
        ops_progress_update(&w->bar, (double)(f->ts_ms - w->since), (double)(w->until - w->since), at);
    }
    return PT_OK;
}

int cmd_fetch(int argc, char **argv)
{
    if (app_wants_help(argc, argv)) {
        usage(stdout);
        return PT_EXIT_OK;
    }
    static const struct option opts[] = {
        {"exchange", required_argument, NULL, 'e'}, {"symbol", required_argument, NULL, 's'},
        {"interval", required_argument, NULL, 'i'}, {"since", required_argument, NULL, 'S'},
        {"until", required_argument, NULL, 'U'},    {"output", required_argument, NULL, 'o'},
        {"rest-url", required_argument, NULL, 'r'}, {"ca-file", required_argument, NULL, 'c'},
        {"max-retry-after", required_argument, NULL, 'm'}, {"connect-timeout", required_argument, NULL, 'T'},
        {"quiet", no_argument, NULL, 'q'},
        {"mark", no_argument, NULL, 'M'}, {"funding", no_argument, NULL, 'F'},
        {NULL, 0, NULL, 0},
    };
    feed_fetch_opts fo = {.exchange = "binance"};
    const char *out = NULL, *since = NULL, *until = NULL, *interval = NULL;
    int64_t max_ra = 600, connect_s = 15;
    char exch_err[256] = "";
    int quiet = 0, funding = 0;
    int ch;
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
        switch (ch) {
        case 'e': fo.exchange = optarg; break;
        case 's': fo.symbol = optarg; break;
        case 'i': interval = optarg; break;
        case 'S': since = optarg; break;
        case 'U': until = optarg; break;
        case 'o': out = optarg; break;
        case 'r': fo.rest_url = optarg; break;
        case 'c': fo.ca_file = optarg; break;
        case 'm':
            if (pt_parse_int64(optarg, strlen(optarg), &max_ra, NULL) || max_ra < 1) {
                fprintf(stderr, "papertrader fetch: --max-retry-after '%s' is not a positive integer\n", optarg);
                return PT_EXIT_USAGE;
            }
            break;
        case 'q': quiet = 1; break;
        case 'M': fo.mark = 1; break;
        case 'F': funding = 1; break;
        case 'T':
            if (pt_parse_int64(optarg, strlen(optarg), &connect_s, NULL) || connect_s < 1 || connect_s > 3600) {
                fprintf(stderr, "papertrader fetch: --connect-timeout '%s' is not 1..3600 seconds\n", optarg);
                return app_usage_hint("fetch");
            }
            break;
        default:
            fprintf(stderr, "papertrader fetch: unknown or incomplete option '%s'\n", argv[optind - 1]);
            return app_usage_hint("fetch");
        }
    }
    if (optind < argc || !fo.symbol || (!interval && !funding) || !since || !out || (funding && fo.mark)) {
        fprintf(stderr, "papertrader fetch: %s\n",
                optind < argc            ? "unexpected argument"
                : funding && fo.mark     ? "--mark and --funding are two downloads: one per run"
                                         : "--symbol, --interval, --since and -o are required");
        return app_usage_hint("fetch");
    }
    if (!feed_adapter_find(fo.exchange)) {
        fprintf(stderr, "papertrader fetch: unknown exchange '%s' (%s)\n", fo.exchange, feed_adapter_names());
        return PT_EXIT_USAGE;
    }
    if ((funding || fo.mark) && !feed_exchange_is_perp(fo.exchange)) {
        fprintf(stderr, "papertrader fetch: --%s: %s is a spot exchange (perpetuals: binance-futures)\n",
                funding ? "funding" : "mark", fo.exchange);
        return PT_EXIT_USAGE;
    }
    if (interval && pt_interval_parse(interval, &fo.interval_ms)) {
        fprintf(stderr, "papertrader fetch: --interval '%s' is not an interval (1m, 5m, 1h, 1d)\n", interval);
        return PT_EXIT_USAGE;
    }
    const char *bad = parse_date(since, &fo.since_ms) ? since
                      : (until && parse_date(until, &fo.until_ms)) ? until : NULL;
    if (bad) {
        fprintf(stderr, "papertrader fetch: --%s '%s' is not an ISO date/time or epoch ms\n",
                bad == since ? "since" : "until", bad);
        return PT_EXIT_USAGE;
    }
    if (until && fo.until_ms <= fo.since_ms) {
        fprintf(stderr, "papertrader fetch: --until must be after --since\n");
        return PT_EXIT_USAGE;
    }
    fo.max_retry_after_ms = max_ra * 1000;
    fo.give_up_after_ms = connect_s * 1000;
    fo.err = exch_err;
    fo.err_cap = sizeof exch_err;

    char part[4096];
    if (snprintf(part, sizeof part, "%s.part", out) >= (int)sizeof part) {
        fprintf(stderr, "papertrader fetch: output path too long\n");
        return PT_EXIT_USAGE;
    }
    writer w = {.f = fopen(part, "w"), .last_ts = INT64_MIN};
    if (!w.f) {
        perror(part);
        return PT_EXIT_FAILURE;
    }
    fputs(funding ? FEED_FUNDING_HEADER : "timestamp,open,high,low,close,volume\n", w.f);
    w.since = fo.since_ms;
    w.until = until ? fo.until_ms : pt_wall_ms();
    ops_progress_begin(&w.bar, "fetch", quiet);
    feed_live_stats st;
    memset(&st, 0, sizeof st);
    const char *one[] = {fo.symbol};
    char why[160] = "";
    int rc = funding || fo.mark ? feed_check_perp_symbols(&fo, one, 1, why, sizeof why) : PT_OK; /* a perpetual? */
    if (rc) {
        ops_progress_end(&w.bar);
        fclose(w.f);
        remove(part);
        fprintf(stderr, "papertrader fetch: %s\n", why);
        return PT_EXIT_FAILURE;
    }
    rc = funding ? feed_fetch_funding(&fo, write_funding, &w, &st) : feed_fetch_history(&fo, write_row, &w, &st);
    ops_progress_end(&w.bar);
    int io = fclose(w.f);
    if (rc == PT_EUNSUPPORTED) {
        remove(part);
        return PT_EXIT_USAGE;
    }
    if (rc || io) {
        if (exch_err[0])
            fprintf(stderr, "papertrader fetch: the exchange refused the request: %s\n", exch_err);
        fprintf(stderr, "papertrader fetch: %s after %llu candles (%s kept for inspection)\n",
                rc == PT_EINVAL && exch_err[0] ? "refused" : rc ? pt_strerror(rc) : "write error",
                (unsigned long long)w.rows, part);
        return PT_EXIT_FAILURE;
    }
    if (rename(part, out)) {
        perror(out);
        return PT_EXIT_FAILURE;
    }
    char a[32] = "-", b[32] = "-";
    if (w.rows) {
        pt_format_iso_ms(w.last_ts, b, sizeof b);
        pt_format_iso_ms(fo.since_ms, a, sizeof a);
    }
    const char *what = funding ? "funding rows" : fo.mark ? "mark candles" : "candles";
    fprintf(stderr, "papertrader fetch: %llu %s %s .. %s -> %s (%llu requests, %llu rate-limited)\n",
            (unsigned long long)w.rows, what, a, b, out, (unsigned long long)st.rest_ok,
            (unsigned long long)st.rest_rate_limited);
    if (!w.rows)
        fprintf(stderr, "papertrader fetch: warning: no %s in the range\n", what);
    int64_t reached = w.rows ? w.last_ts + fo.interval_ms : fo.since_ms;
    if (until && reached < fo.until_ms && !funding) { /* funding times are hours apart: no "short" to judge */
        char at[32], want[32];
        pt_format_iso_ms(reached, at, sizeof at);
        pt_format_iso_ms(fo.until_ms, want, sizeof want);
        fprintf(stderr, "papertrader fetch: stopped at %s, short of --until %s: the exchange has no later "
                        "closed candles\n", at, want);
    }
    return PT_EXIT_OK;
}
