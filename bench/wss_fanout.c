/* wss_fanout: a stand-in session for the dashboard server. Creates an lws
 * context + wss_new() on --port and publishes a synthetic paper session
 * (partial and closed candles with indicator values, orders, trades,
 * portfolio, quality, alerts) at --rate partial updates per second. Used by
 * bench/bench_fanout.sh and the node tests until the real session exists.
 * Prints "READY <port>" on stdout once listening, and a JSON stats line on
 * exit (SIGINT/SIGTERM or --duration). */
#include <libwebsockets.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "pt_core.h"
#include "wss.h"

#define MAX_SYMS 8
#define HIST 300      /* closed candles kept per symbol for the snapshot */
#define TRADES_KEPT 100
#define EQUITY_KEPT 600
#define T0_MS 1700000040000LL
#define BAR_MS 60000LL

typedef struct bar { int64_t t; double o, h, l, c, v, fast, slow; } bar;

typedef struct sym {
    char name[64];
    bar hist[HIST];
    int nhist, hhead;
    bar cur;
    double qty, avg, score;
    uint64_t candles;
} sym;

static struct app {
    struct lws_context *cx;
    wss_server *srv;
    lws_sorted_usec_list_t sul;
    sym s[MAX_SYMS];
    int nsym, trade_every, paused, pad;
    double rate, cash, peak;
    int64_t start_ns, sent_partials, candle_ms, last_candle_ns, duration_ms, bar_t;
    uint64_t trade_id, order_id, nbars, rng;
    char trades[TRADES_KEPT][320];
    int ntrades, thead;
    struct { int64_t t; double eq, dd; } eq[EQUITY_KEPT];
    int neq, eqhead;
    wss_metric *m_candles, *m_score, *m_equity, *m_cash, *m_pos, *m_trades, *m_reconn, *m_backfill,
        *m_rest, *m_ratelimit;
    char *padbuf;
} A;

static volatile sig_atomic_t g_stop;
static void on_signal(int sig) { (void)sig; g_stop = 1; }

static double rnd(void) /* xorshift: deterministic, no libc state */
{
    A.rng ^= A.rng << 13;
    A.rng ^= A.rng >> 7;
    A.rng ^= A.rng << 17;
    return (double)(A.rng >> 11) / 9007199254740992.0;
}

static int64_t wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static double equity(void)
{
    double e = A.cash;
    for (int i = 0; i < A.nsym; i++)
        e += A.s[i].qty * A.s[i].cur.c;
    return e;
}

static const char *level_of(double score)
{
    return score >= 90 ? "good" : score >= 70 ? "fair" : score >= 50 ? "poor" : "bad";
}

static void publish(wss_kind k, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void publish(wss_kind k, const char *key, const char *fmt, ...)
{
    static char *buf;
    static size_t cap;
    if (!buf) {
        cap = 16384 + (size_t)A.pad;
        if (!(buf = malloc(cap)))
            return;
    }
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, cap, fmt, ap);
    va_end(ap);
    if (n > 0 && (size_t)n < cap)
        wss_publish(A.srv, k, key, buf, (size_t)n);
    else
        fprintf(stderr, "wss_fanout: event too large (%d bytes), not published\n", n);
}

static void partial(sym *s)
{
    bar *b = &s->cur;
    b->c *= 1.0 + (rnd() - 0.5) * 0.002;
    b->h = fmax(b->h, b->c);
    b->l = fmin(b->l, b->c);
    b->v += rnd();
    publish(WSS_CANDLE_PARTIAL, s->name,
            "{\"symbol\":\"%s\",\"interval\":\"1m\",\"t\":%lld,\"o\":%.2f,\"h\":%.2f,\"l\":%.2f,"
            "\"c\":%.2f,\"v\":%.4f,\"closed\":false,\"pub_us\":%lld%s%s%s}",
            s->name, (long long)b->t, b->o, b->h, b->l, b->c, b->v, (long long)wall_us(),
            A.pad ? ",\"pad\":\"" : "", A.pad ? A.padbuf : "", A.pad ? "\"" : "");
}

static void portfolio(void)
{
    double eq = equity();
    A.peak = fmax(A.peak, eq);
    double dd = A.peak > 0 ? (A.peak - eq) / A.peak : 0;
    int i = (A.eqhead + A.neq) % EQUITY_KEPT;
    if (A.neq == EQUITY_KEPT)
        A.eqhead = (A.eqhead + 1) % EQUITY_KEPT;
    else
        A.neq++;
    A.eq[i].t = A.bar_t;
    A.eq[i].eq = eq;
    A.eq[i].dd = dd;
    char pos[2048] = "";
    size_t o = 0;
    for (int k = 0; k < A.nsym; k++) {
        sym *s = &A.s[k];
        if (s->qty == 0)
            continue;
        o += (size_t)snprintf(pos + o, sizeof pos - o,
                              "%s{\"symbol\":\"%s\",\"qty\":%.6f,\"avg_price\":%.2f,\"last\":%.2f,\"upnl\":%.2f}",
                              o ? "," : "", s->name, s->qty, s->avg, s->cur.c, (s->cur.c - s->avg) * s->qty);
    }
    publish(WSS_PORTFOLIO, NULL,
            "{\"t\":%lld,\"equity\":%.2f,\"cash\":%.2f,\"drawdown\":%.6f,\"positions\":[%s]}",
            (long long)A.bar_t, eq, A.cash, dd, pos);
}

static void trade(sym *s)
{
    const char *side = s->qty > 0 ? "sell" : "buy";
    double qty = s->qty > 0 ? s->qty : floor(2000.0 / s->cur.c * 1e6) / 1e6;
    double px = s->cur.c, fee = qty * px * 0.001, pnl = s->qty > 0 ? (px - s->avg) * qty - fee : -fee;
    uint64_t oid = ++A.order_id;
    publish(WSS_ORDER, s->name,
            "{\"id\":%llu,\"symbol\":\"%s\",\"side\":\"%s\",\"type\":\"market\",\"qty\":%.6f,\"status\":\"new\",\"t\":%lld}",
            (unsigned long long)oid, s->name, side, qty, (long long)A.bar_t);
    publish(WSS_ORDER, s->name,
            "{\"id\":%llu,\"symbol\":\"%s\",\"side\":\"%s\",\"type\":\"market\",\"qty\":%.6f,\"status\":\"filled\",\"t\":%lld}",
            (unsigned long long)oid, s->name, side, qty, (long long)A.bar_t);
    if (s->qty > 0) {
        A.cash += qty * px - fee;
        s->qty = 0;
    } else {
        A.cash -= qty * px + fee;
        s->qty = qty;
        s->avg = px;
    }
    int i = (A.thead + A.ntrades) % TRADES_KEPT;
    if (A.ntrades == TRADES_KEPT)
        A.thead = (A.thead + 1) % TRADES_KEPT;
    else
        A.ntrades++;
    snprintf(A.trades[i], sizeof A.trades[i],
             "{\"id\":%llu,\"order_id\":%llu,\"symbol\":\"%s\",\"side\":\"%s\",\"qty\":%.6f,\"price\":%.2f,"
             "\"fee\":%.4f,\"pnl\":%.2f,\"t\":%lld,\"reason\":\"sma cross\"}",
             (unsigned long long)++A.trade_id, (unsigned long long)oid, s->name, side, qty, px, fee,
             pnl, (long long)A.bar_t);
    publish(WSS_TRADE, s->name, "%s", A.trades[i]);
    wss_metric_add(A.m_trades, NULL, 1);
}

static double sma(sym *s, int n, double cur)
{
    double sum = cur;
    int k = 1;
    for (int i = s->nhist - 1; i >= 0 && k < n; i--, k++)
        sum += s->hist[(s->hhead + i) % HIST].c;
    return sum / k;
}

static void close_bars(void)
{
    for (int k = 0; k < A.nsym; k++) {
        sym *s = &A.s[k];
        bar *b = &s->cur;
        b->fast = sma(s, 9, b->c);
        b->slow = sma(s, 21, b->c);
        publish(WSS_CANDLE, s->name,
                "{\"symbol\":\"%s\",\"interval\":\"1m\",\"t\":%lld,\"o\":%.2f,\"h\":%.2f,\"l\":%.2f,"
                "\"c\":%.2f,\"v\":%.4f,\"closed\":true,\"ind\":{\"sma9\":%.2f,\"sma21\":%.2f}}",
                s->name, (long long)b->t, b->o, b->h, b->l, b->c, b->v, b->fast, b->slow);
        int i = (s->hhead + s->nhist) % HIST;
        if (s->nhist == HIST)
            s->hhead = (s->hhead + 1) % HIST;
        else
            s->nhist++;
        s->hist[i] = *b;
        s->candles++;
        const char *verdict[1] = {"ok"};
        const char *lv[2] = {s->name, verdict[0]};
        wss_metric_add(A.m_candles, lv, 1);
        /* quality wanders; an occasional "gap" issue drops it */
        int gap = rnd() < 0.1;
        s->score = fmin(100, fmax(0, s->score + (gap ? -25 : 4)));
        const char *lvs[1] = {s->name};
        wss_metric_set(A.m_score, lvs, s->score);
        publish(WSS_QUALITY, s->name,
                "{\"symbol\":\"%s\",\"score\":%.1f,\"level\":\"%s\",\"issues\":[%s]}", s->name,
                s->score, level_of(s->score),
                gap ? "{\"kind\":\"gap\",\"msg\":\"1 missing bar (backfilled)\"}" : "");
        if (gap && s->score < 70)
            publish(WSS_ALERT, NULL, "{\"level\":\"warn\",\"symbol\":\"%s\",\"msg\":\"%s quality %.0f: entries paused\"}",
                    s->name, s->name, s->score);
    }
    A.nbars++;
    A.bar_t += BAR_MS;
    if (!A.paused && A.trade_every > 0 && A.nbars % (uint64_t)A.trade_every == 0)
        trade(&A.s[(A.nbars / (uint64_t)A.trade_every) % (uint64_t)A.nsym]);
    for (int k = 0; k < A.nsym; k++) {
        bar *b = &A.s[k].cur;
        double c = b->c;
        *b = (bar){.t = A.bar_t, .o = c, .h = c, .l = c, .c = c};
    }
    portfolio();
}

static void tick(lws_sorted_usec_list_t *sul)
{
    int64_t now = pt_mono_ns();
    double el = (double)(now - A.start_ns) / 1e9;
    int64_t due = (int64_t)(A.rate * el) - A.sent_partials;
    if (due > 2000)
        due = 2000; /* bounded burst after a stall */
    for (int64_t i = 0; i < due; i++, A.sent_partials++)
        partial(&A.s[A.sent_partials % A.nsym]);
    if ((now - A.last_candle_ns) / 1000000 >= A.candle_ms) {
        A.last_candle_ns = now;
        close_bars();
    }
    if (A.duration_ms && el * 1000 >= (double)A.duration_ms)
        g_stop = 1;
    lws_sul_schedule(A.cx, 0, sul, tick, 1000);
}

/* ---------------------------------------------------------- callbacks */
static int cb_health(void *ud, cJSON *o)
{
    (void)ud;
    cJSON_AddStringToObject(o, "status", "ok");
    cJSON_AddStringToObject(o, "mode", "synthetic");
    cJSON *f = cJSON_AddObjectToObject(o, "feeds");
    for (int k = 0; f && k < A.nsym; k++) {
        cJSON *s = cJSON_AddObjectToObject(f, A.s[k].name);
        cJSON_AddStringToObject(s, "state", "live");
        cJSON_AddNumberToObject(s, "last_candle_age_s", (double)(pt_mono_ns() - A.last_candle_ns) / 1e9);
        cJSON_AddNumberToObject(s, "quality", A.s[k].score);
        cJSON_AddNumberToObject(s, "reconnects", 0);
    }
    cJSON_AddStringToObject(o, "circuit_breaker", A.paused ? "open" : "closed");
    cJSON_AddNumberToObject(o, "msgs_per_s", A.rate);
    cJSON *e = cJSON_AddObjectToObject(o, "errors");
    cJSON_AddNumberToObject(e, "candles_rejected", 0);
    return 0;
}

static int cb_metrics(void *ud, wss_metrics *reg)
{
    (void)ud;
    (void)reg;
    int open = 0;
    for (int k = 0; k < A.nsym; k++)
        open += A.s[k].qty != 0;
    wss_metric_set(A.m_equity, NULL, equity());
    wss_metric_set(A.m_cash, NULL, A.cash);
    wss_metric_set(A.m_pos, NULL, open);
    return 0;
}

static cJSON *bar_json(const bar *b, int with_ind)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "t", (double)b->t);
    cJSON_AddNumberToObject(o, "o", b->o);
    cJSON_AddNumberToObject(o, "h", b->h);
    cJSON_AddNumberToObject(o, "l", b->l);
    cJSON_AddNumberToObject(o, "c", b->c);
    cJSON_AddNumberToObject(o, "v", b->v);
    if (with_ind) {
        cJSON *i = cJSON_AddObjectToObject(o, "ind");
        cJSON_AddNumberToObject(i, "sma9", b->fast);
        cJSON_AddNumberToObject(i, "sma21", b->slow);
    }
    return o;
}

static int cb_snapshot(void *ud, cJSON *d)
{
    (void)ud;
    cJSON *syms = cJSON_AddArrayToObject(d, "symbols"), *cs = cJSON_AddObjectToObject(d, "candles");
    cJSON *partials = cJSON_AddObjectToObject(d, "partial"), *q = cJSON_AddObjectToObject(d, "quality");
    cJSON_AddStringToObject(d, "interval", "1m");
    cJSON *pos = cJSON_AddArrayToObject(d, "positions");
    for (int k = 0; k < A.nsym; k++) {
        sym *s = &A.s[k];
        cJSON_AddItemToArray(syms, cJSON_CreateString(s->name));
        cJSON *arr = cJSON_AddArrayToObject(cs, s->name);
        for (int i = 0; i < s->nhist; i++)
            cJSON_AddItemToArray(arr, bar_json(&s->hist[(s->hhead + i) % HIST], 1));
        cJSON_AddItemToObject(partials, s->name, bar_json(&s->cur, 0));
        cJSON *qs = cJSON_AddObjectToObject(q, s->name);
        cJSON_AddStringToObject(qs, "symbol", s->name);
        cJSON_AddNumberToObject(qs, "score", s->score);
        cJSON_AddStringToObject(qs, "level", level_of(s->score));
        cJSON_AddArrayToObject(qs, "issues");
        if (s->qty) {
            cJSON *p = cJSON_CreateObject();
            cJSON_AddStringToObject(p, "symbol", s->name);
            cJSON_AddNumberToObject(p, "qty", s->qty);
            cJSON_AddNumberToObject(p, "avg_price", s->avg);
            cJSON_AddNumberToObject(p, "last", s->cur.c);
            cJSON_AddNumberToObject(p, "upnl", (s->cur.c - s->avg) * s->qty);
            cJSON_AddItemToArray(pos, p);
        }
    }
    cJSON_AddArrayToObject(d, "orders"); /* market orders fill at once: none open */
    cJSON *tr = cJSON_AddArrayToObject(d, "trades");
    for (int i = 0; i < A.ntrades; i++)
        cJSON_AddItemToArray(tr, cJSON_Parse(A.trades[(A.thead + i) % TRADES_KEPT]));
    cJSON *eq = cJSON_AddArrayToObject(d, "equity");
    for (int i = 0; i < A.neq; i++) {
        cJSON *p = cJSON_CreateObject();
        int j = (A.eqhead + i) % EQUITY_KEPT;
        cJSON_AddNumberToObject(p, "t", (double)A.eq[j].t);
        cJSON_AddNumberToObject(p, "equity", A.eq[j].eq);
        cJSON_AddNumberToObject(p, "drawdown", A.eq[j].dd);
        cJSON_AddItemToArray(eq, p);
    }
    cJSON *pf = cJSON_AddObjectToObject(d, "portfolio");
    cJSON_AddNumberToObject(pf, "equity", equity());
    cJSON_AddNumberToObject(pf, "cash", A.cash);
    cJSON_AddStringToObject(d, "strategy", "sma_cross(9,21)");
    return 0;
}

static int cb_control(void *ud, const char *cmd, const cJSON *msg, const char **why)
{
    (void)ud;
    (void)msg;
    if (!strcmp(cmd, "pause"))
        A.paused = 1;
    else if (!strcmp(cmd, "resume"))
        A.paused = 0;
    else if (!strcmp(cmd, "flatten")) {
        for (int k = 0; k < A.nsym; k++)
            if (A.s[k].qty > 0)
                trade(&A.s[k]);
    } else {
        *why = "unknown command";
        return PT_EINVAL;
    }
    return 0;
}

/* ---------------------------------------------------------------- main */
static const char *arg(int argc, char **argv, const char *name, const char *def)
{
    for (int i = 1; i + 1 < argc; i++)
        if (!strcmp(argv[i], name))
            return argv[i + 1];
    return def;
}

static long num(int argc, char **argv, const char *name, long def)
{
    const char *v = arg(argc, argv, name, NULL);
    int64_t x;
    if (!v)
        return def;
    if (pt_parse_int64(v, strlen(v), &x, NULL)) {
        fprintf(stderr, "wss_fanout: %s: not an integer: %s\n", name, v);
        exit(PT_EXIT_USAGE);
    }
    return (long)x;
}

int main(int argc, char **argv)
{
    static const char *names[] = {"BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT",
                                  "XRPUSDT", "ADAUSDT", "DOGEUSDT", "AVAXUSDT"};
    static const double px[] = {37000, 2050, 58, 240, 0.61, 0.38, 0.079, 21};
    int rc = PT_EXIT_FAILURE;
    if (argc < 2 || !arg(argc, argv, "--port", NULL)) {
        fprintf(stderr, "usage: wss_fanout --port N [--host H] [--rate N] [--symbols N] [--candle-ms N]\n"
                        "  [--duration-ms N] [--trade-every N] [--token T] [--web DIR] [--vendor FILE]\n"
                        "  [--max-clients N] [--queue-msgs N] [--queue-bytes N] [--pad N] [--heartbeat-ms N]\n"
                        "  [--name0 S]   (the first symbol's name: tests publish hostile strings with it;\n"
                        "                 no '\"' or '\\': the driver formats JSON by hand)\n");
        return PT_EXIT_USAGE;
    }
    pt_log_set_level(getenv("WSS_DEBUG") ? PT_LOG_DEBUG : PT_LOG_WARN);
    A.rate = (double)num(argc, argv, "--rate", 50);
    A.nsym = (int)num(argc, argv, "--symbols", 3);
    A.nsym = A.nsym < 1 ? 1 : A.nsym > MAX_SYMS ? MAX_SYMS : A.nsym;
    A.candle_ms = num(argc, argv, "--candle-ms", 1000);
    A.duration_ms = num(argc, argv, "--duration-ms", 0);
    A.trade_every = (int)num(argc, argv, "--trade-every", 2);
    A.pad = (int)num(argc, argv, "--pad", 0);
    A.cash = A.peak = 10000;
    A.rng = 0x9E3779B97F4A7C15ull;
    A.bar_t = T0_MS;
    if (A.pad > 0) {
        A.pad = A.pad > 65536 ? 65536 : A.pad;
        A.padbuf = malloc((size_t)A.pad + 1);
        memset(A.padbuf, 'x', (size_t)A.pad);
        A.padbuf[A.pad] = '\0';
    }
    const char *name0 = arg(argc, argv, "--name0", NULL);
    if (name0 && (strpbrk(name0, "\"\\") || strlen(name0) >= sizeof A.s[0].name)) {
        fprintf(stderr, "wss_fanout: --name0 must be < 64 bytes without '\"' or '\\'\n");
        return PT_EXIT_USAGE;
    }
    for (int k = 0; k < A.nsym; k++) {
        snprintf(A.s[k].name, sizeof A.s[k].name, "%s", k == 0 && name0 ? name0 : names[k]);
        A.s[k].cur = (bar){.t = A.bar_t, .o = px[k], .h = px[k], .l = px[k], .c = px[k]};
        A.s[k].score = 100;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);

    if (!(A.cx = wss_context_new())) /* logged */
        return PT_EXIT_FAILURE;
    wss_config cfg = {
        .host = arg(argc, argv, "--host", NULL),
        .port = (int)num(argc, argv, "--port", 8765),
        .web_dir = arg(argc, argv, "--web", NULL),
        .vendor_js = arg(argc, argv, "--vendor", NULL),
        .token = arg(argc, argv, "--token", NULL),
        .max_clients = (int)num(argc, argv, "--max-clients", 0),
        .queue_msgs = (size_t)num(argc, argv, "--queue-msgs", 0),
        .queue_bytes = (size_t)num(argc, argv, "--queue-bytes", 0),
        .heartbeat_ms = (int)num(argc, argv, "--heartbeat-ms", 0),
    };
    wss_callbacks cb = {.health = cb_health, .metrics_refresh = cb_metrics, .snapshot = cb_snapshot,
                        .control = cb_control};
    int err = wss_new(A.cx, &cfg, &cb, NULL, &A.srv);
    if (err) {
        fprintf(stderr, "wss_fanout: wss_new: %s\n", pt_strerror(err));
        rc = err == PT_EINVAL ? PT_EXIT_USAGE : PT_EXIT_FAILURE;
        goto done;
    }
    wss_metrics *reg = wss_metrics_registry(A.srv);
    A.m_candles = wss_metrics_counter(reg, "papertrader_candles_total", "Candles checked, by symbol and verdict.", "symbol,verdict");
    A.m_score = wss_metrics_gauge(reg, "papertrader_quality_score", "Data-quality score 0-100.", "symbol");
    A.m_equity = wss_metrics_gauge(reg, "papertrader_equity", "Portfolio equity in quote currency.", NULL);
    A.m_cash = wss_metrics_gauge(reg, "papertrader_cash", "Cash in quote currency.", NULL);
    A.m_pos = wss_metrics_gauge(reg, "papertrader_open_positions", "Open positions.", NULL);
    A.m_trades = wss_metrics_counter(reg, "papertrader_trades_total", "Trades filled.", NULL);
    A.m_reconn = wss_metrics_counter(reg, "papertrader_feed_reconnects_total", "Feed reconnects.", NULL);
    A.m_backfill = wss_metrics_counter(reg, "papertrader_feed_backfills_total", "REST backfills.", NULL);
    A.m_rest = wss_metrics_counter(reg, "papertrader_rest_calls_total", "REST calls.", NULL);
    A.m_ratelimit = wss_metrics_counter(reg, "papertrader_rest_rate_limit_waits_total", "Waits for a rate limit.", NULL);
    printf("READY %d\n", wss_port(A.srv));
    fflush(stdout);

    A.start_ns = A.last_candle_ns = pt_mono_ns();
    lws_sul_schedule(A.cx, 0, &A.sul, tick, 1000);
    while (!g_stop && lws_service(A.cx, 0) >= 0)
        ;
    lws_sul_cancel(&A.sul);
    wss_close_all(A.srv, 1001);
    for (int64_t end = pt_mono_ms() + 300; pt_mono_ms() < end;)
        lws_service(A.cx, 0);
    rc = PT_EXIT_OK;
done:;
    wss_stats st;
    wss_get_stats(A.srv, &st);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("{\"published\":%llu,\"sent\":%llu,\"dropped\":%llu,\"coalesced\":%llu,\"rss_peak_kb\":%ld,"
           "\"cpu_s\":%.3f}\n",
           (unsigned long long)st.events_published, (unsigned long long)st.messages_sent,
           (unsigned long long)st.clients_dropped, (unsigned long long)st.coalesced, pt_rss_peak_kb(),
           (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
               (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
    fflush(stdout);
    lws_context_destroy(A.cx);
    wss_free(A.srv);
    free(A.padbuf);
    return rc;
}
