/* papertrader exchange-sim: serve a simulated exchange (Binance spot or
 * Bitvavo market data: WebSocket stream + REST candles, one port) on
 * 127.0.0.1 from a seeded synthetic market or CSV files, with fault
 * injection. The simulator itself is feed/feed_xsim*.c; this file parses
 * options and runs the lws loop. See docs/exchange-sim.md. */
#include "commands.h"
#include "feed.h"
#include "feed_xsim.h"
#include "portfolio.h"
#include "ops.h"
#include "pt_core.h"
#include "wss.h"

#include <getopt.h>
#include <libwebsockets.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out)
{
    fprintf(out,
            "usage: papertrader exchange-sim [--protocol VENUE] [--port N] [--speed X]\n"
            "                                [--funding every=8h,rate=R]\n"
            "                                [--symbols A,B] [--faults SPEC] [--interval 1m] [--seed N]\n"
            "                                [--start DATE] [--updates N] [--ping SECONDS]\n"
            "                                [--max-clients N] [--duration SECONDS] [FILE...]\n"
            "  VENUE: %s (default binance; papertrader exchanges).\n"
            "  Serves the exchange's WebSocket stream and REST candles on ws://127.0.0.1:PORT\n"
            "  (binance: /ws/<stream>, /stream?streams=a/b, /ws + SUBSCRIBE, GET /api/v3/klines;\n"
            "   bitvavo: /v2/ + subscribe action, GET /v2/{market}/candles;\n"
            "   bybit: /v5/public/spot + op subscribe, GET /v5/market/kline;\n"
            "   okx: /ws/v5/business + op subscribe, GET /api/v5/market/history-candles;\n"
            "   kraken: /v2 + ohlc subscribe, GET /0/public/OHLC; series BTC-USD, wire BTC/USD;\n"
            "   bybit-linear: /v5/public/linear, category=linear; kucoin: POST /api/v1/bullet-public,\n"
            "   /?token= + welcome + type subscribe, GET /api/v1/market/candles;\n"
            "   binance-futures: as binance plus <sym>@markPrice[@1s], [/market]/stream, GET\n"
            "   /fapi/v1/klines, markPriceKlines, fundingRate, premiumIndex, exchangeInfo).\n"
            "  --funding (binance-futures): funding every DUR from 00:00 UTC (default 8h), rate R\n"
            "  fixed (default: seeded per symbol and time, -0.0002..0.0004).\n"
            "  FILEs are candle CSVs (one symbol each: symbol column, else --symbols in order,\n"
            "  else the file name); without files a seeded synthetic market (a pure function of\n"
            "  seed, symbol and time) serves --symbols (default: the venue's own, docs/exchange-sim.md).\n"
            "  --port 0 (default) picks a free port; stdout then gets one line 'listening port=N'.\n"
            "  --speed 60 = one 1m candle per second. --updates in-progress messages per candle\n"
            "  (default 4, 0 = none). --ping server ping period (default 20 s).\n"
            "  --start: simulated start (default: first CSV row, or 2024-01-01 + seed%%365 days).\n"
            "  --rules FILE  trading rules served by the metadata endpoints over the ones derived from\n"
            "                the market (rules.json, docs/rules.md)\n"
            "  --faults SPEC, comma-separated key=value:\n"
            "    drop=DUR            abrupt close (no close frame) DUR after each connect\n"
            "    shutdown=DUR        serverShutdown event then a close frame, DUR after connect\n"
            "    stall=DUR[@EVERY]   no data for DUR after every EVERY (default 60s) of connection\n"
            "    dup=P ooo=P skip=P  per closed candle: re-send it / send an older one / never send it\n"
            "    malformed=P oversize=P  per message: extra truncated JSON / extra 2 MiB frame\n"
            "    http429=P http418=P per REST request, with Retry-After: retry=DUR (default 1s)\n"
            "    nohandshake=P       per TCP connection: accept, never answer\n"
            "    DUR: 500ms, 30s, 2m, 1h (bare number = seconds); P: probability 0..1.\n"
            "    Decisions are deterministic per --seed; each fault is logged, counters at exit.\n"
            "  SIGINT/SIGTERM stop cleanly (exit 0). Exit 2 usage, 3 input files, 1 runtime.\n",
            feed_adapter_names());
}

static int parse_list(char *s, const char **out, size_t cap, size_t *n)
{
    *n = 0;
    char *save = NULL;
    for (char *t = strtok_r(s, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (*n >= cap)
            return -1;
        out[(*n)++] = t;
    }
    return 0;
}

static int parse_start(const char *s, int64_t *ms)
{
    size_t n = strlen(s);
    int digits = n > 0;
    for (size_t i = 0; i < n; i++)
        digits &= s[i] >= '0' && s[i] <= '9';
    if (digits)
        return pt_parse_int64(s, n, ms, NULL);
    pt_time_kind k = PT_TIME_UNKNOWN;
    return pt_parse_time(s, n, &k, NULL, ms, NULL);
}

static int int_opt(const char *name, const char *v, int64_t lo, int64_t hi, int64_t *out)
{
    if (pt_parse_int64(v, strlen(v), out, NULL) || *out < lo || *out > hi) {
        fprintf(stderr, "papertrader exchange-sim: --%s '%s' must be an integer in %lld..%lld\n", name, v,
                (long long)lo, (long long)hi);
        return -1;
    }
    return 0;
}

int cmd_exchange_sim(int argc, char **argv)
{
    if (app_wants_help(argc, argv)) {
        usage(stdout);
        return PT_EXIT_OK;
    }
    static const struct option opts[] = {
        {"protocol", required_argument, NULL, 'P'}, {"port", required_argument, NULL, 'p'},
        {"speed", required_argument, NULL, 'x'},    {"symbols", required_argument, NULL, 's'},
        {"faults", required_argument, NULL, 'f'},   {"interval", required_argument, NULL, 'i'},
        {"seed", required_argument, NULL, 'S'},     {"start", required_argument, NULL, 't'},
        {"updates", required_argument, NULL, 'u'},  {"ping", required_argument, NULL, 'g'},
        {"max-clients", required_argument, NULL, 'm'}, {"duration", required_argument, NULL, 'd'},
        {"rules", required_argument, NULL, 'R'}, /* docs/rules.md */
        {"funding", required_argument, NULL, 'F'},
        {NULL, 0, NULL, 0},
    };
    static const char *syms[FEED_XSIM_MAX_SYMBOLS];
    char symbuf[2048] = "";
    feed_xsim_config cfg = {.protocol = "binance", .speed = 1};
    static pf_rules_set rules;
    int64_t v, duration_s = 0;
    int ch;
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (ch) {
        case 'P': cfg.protocol = optarg; break;
        case 'f': cfg.faults = optarg; break;
        case 'F': cfg.funding = optarg; break;
        case 'p':
            if (int_opt("port", optarg, 0, 65535, &v))
                return PT_EXIT_USAGE;
            cfg.port = (int)v;
            break;
        case 'x':
            if (pt_parse_decimal(optarg, strlen(optarg), &cfg.speed, NULL) || !(cfg.speed > 0) || cfg.speed > 1e6) {
                fprintf(stderr, "papertrader exchange-sim: --speed '%s' must be a number in (0, 1e6]\n", optarg);
                return PT_EXIT_USAGE;
            }
            break;
        case 's':
            snprintf(symbuf, sizeof symbuf, "%s", optarg);
            if (parse_list(symbuf, syms, FEED_XSIM_MAX_SYMBOLS, &cfg.n_symbols) || !cfg.n_symbols) {
                fprintf(stderr, "papertrader exchange-sim: --symbols: 1..%d comma-separated names\n",
                        FEED_XSIM_MAX_SYMBOLS);
                return PT_EXIT_USAGE;
            }
            cfg.symbols = syms;
            break;
        case 'i':
            if (pt_interval_parse(optarg, &cfg.interval_ms)) {
                fprintf(stderr, "papertrader exchange-sim: --interval '%s' is not an interval (1m, 5m, 1h)\n", optarg);
                return PT_EXIT_USAGE;
            }
            break;
        case 'S':
            if (int_opt("seed", optarg, 0, INT64_MAX, &v))
                return PT_EXIT_USAGE;
            cfg.seed = (uint64_t)v;
            break;
        case 't':
            if (parse_start(optarg, &cfg.start_ms) || cfg.start_ms <= 0) {
                fprintf(stderr, "papertrader exchange-sim: --start '%s' is not an ISO date/time or epoch ms\n", optarg);
                return PT_EXIT_USAGE;
            }
            break;
        case 'u':
            if (int_opt("updates", optarg, 0, 999, &v))
                return PT_EXIT_USAGE;
            cfg.updates = v ? (int)v : -1;
            break;
        case 'g':
            if (int_opt("ping", optarg, 1, 3600, &v))
                return PT_EXIT_USAGE;
            cfg.ping_secs = (int)v;
            break;
        case 'm':
            if (int_opt("max-clients", optarg, 1, 1000, &v))
                return PT_EXIT_USAGE;
            cfg.max_clients = (int)v;
            break;
        case 'd':
            if (int_opt("duration", optarg, 1, 86400 * 365, &duration_s))
                return PT_EXIT_USAGE;
            break;
        case 'R': /* served over the rules derived from the market */
            if (pf_rules_read(optarg, &rules))
                return PT_EXIT_INPUT;
            cfg.rules = &rules;
            break;
        default:
            fprintf(stderr, "papertrader exchange-sim: unknown or incomplete option '%s'\n", argv[optind - 1]);
            return app_usage_hint("exchange-sim");
        }
    }
    if (!feed_adapter_find(cfg.protocol)) { /* every adapter has its simulator protocol */
        fprintf(stderr, "papertrader exchange-sim: --protocol '%s' (%s)\n", cfg.protocol, feed_adapter_names());
        return PT_EXIT_USAGE;
    }
    feed_xsim_faults fl;
    char why[160];
    if (feed_xsim_faults_parse(cfg.faults, &fl, why, sizeof why)) {
        fprintf(stderr, "papertrader exchange-sim: --faults: %s\n", why);
        return PT_EXIT_USAGE;
    }
    cfg.files = (const char *const *)(argv + optind);
    cfg.n_files = (size_t)(argc - optind);
    if (cfg.n_files > FEED_XSIM_MAX_FILES) {
        fprintf(stderr, "papertrader exchange-sim: at most %d files\n", FEED_XSIM_MAX_FILES);
        return PT_EXIT_USAGE;
    }

    struct lws_context *cx = wss_context_new(); /* logs a failure */
    if (!cx)
        return PT_EXIT_FAILURE;
    feed_xsim *x = NULL;
    int rc = feed_xsim_new(cx, &cfg, &x);
    if (rc) {
        lws_context_destroy(cx);
        return rc == PT_EINVAL                                        ? PT_EXIT_USAGE
               : rc == PT_ENOENT || rc == PT_EPARSE || rc == PT_EFULL ? PT_EXIT_INPUT
                                                                      : PT_EXIT_FAILURE;
    }
    int port = feed_xsim_port(x);
    const int bn = !strncmp(cfg.protocol, "binance", 7), by = !strcmp(cfg.protocol, "bybit"), ok = !strcmp(cfg.protocol, "okx");
    const int bl = !strcmp(cfg.protocol, "bybit-linear"), kc = !strcmp(cfg.protocol, "kucoin");
    printf("exchange-sim listening on ws://127.0.0.1:%d%s (REST http://127.0.0.1:%d%s)\n", port,
           bn ? "/stream?streams=..." : by ? "/v5/public/spot" : ok ? "/ws/v5/business" : bl ? "/v5/public/linear"
           : kc ? "/?token=..." : "/v2/", port,
           bn ? (cfg.protocol[7] ? "/fapi/v1/klines" : "/api/v3/klines") : by || bl ? "/v5/market/kline"
           : ok ? "/api/v5/market/history-candles" : kc ? "/api/v1/market/candles" : "/v2/{market}/candles");
    printf("listening port=%d\n", port);
    fflush(stdout);

    ops_signal_install();
    int64_t t_end = duration_s ? pt_mono_ms() + duration_s * 1000 : INT64_MAX;
    while (!ops_signal_stop_count() && pt_mono_ms() < t_end)
        if (lws_service(cx, 0) < 0)
            break;
    pt_info("xsim: stopping");
    feed_xsim_free(x);
    lws_context_destroy(cx);
    return PT_EXIT_OK;
}
