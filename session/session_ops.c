/* Operations glue of the live session: the health registry (ops_health) and
 * the webhook notifier (ops_notifier) fed from the session's hooks, the feed
 * stats and the 150 ms poll. What is reported where: docs/health.md
 * ("What the session reports") and docs/notifications.md ("Session events").
 *
 * Loop thread only, except what ops/ does on its own worker (the notifier
 * does the I/O; ops_notify_post never blocks). Nothing here touches engine
 * state: it reads stats and counts. Secrets: the notifier keeps its own copy
 * of the config; nothing here prints a URL or token. */
#include "ops.h"
#include "session_internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OPS_TICK_MS 1000          /* beats, process sample, stale check, feed diffs */
#define OPS_BEAT_PERIOD_MS 2000   /* loop-driven components: stale after 3 x 2 s without a tick */
#define OPS_REPORT_S_DEF 3600     /* [log] report_interval_s default: hourly (docs/health.md) */
#define OPS_RPM_WINDOW_MS 60000   /* REST calls per minute: calls in the last full minute */
#define OPS_ERRTEXT 160

struct sl_ops {
    ops_health *h;
    ops_notifier *n;
    int c_feed, c_backfill, c_engine, c_server, c_notifier;
    int announced;                 /* start posted (on the first poll, once the loop runs) */
    int stopped;                   /* stop posted */
    int64_t next_tick, next_report, rpm_mark_mono;
    int64_t report_ms;             /* [log] report_interval_s, in ms */
    uint64_t rpm_mark_calls;       /* REST calls at rpm_mark_mono */
    feed_live_stats prev;          /* feed stats of the previous tick, for deltas */
    int64_t feed_bad_since;        /* mono ms the feed left live; 0 while live */
    int feed_down_posted, breaker_open, io_err_seen, stale_degraded;
    uint64_t strat_fail_prev, fills, wins, losses;
    double realized, proc_ms_sum, proc_ms_max;
    uint64_t proc_n;
    unsigned char quality_low[SESSION_MAX_SYMBOLS];
    wss_metric *m_score, *m_level, *m_up, *m_err, *m_val, *m_lat, *m_errratio, *m_rss, *m_cpu, *m_notif,
        *m_qdepth;
};

static uint64_t rest_calls(const feed_live_stats *f)
{
    return f->rest_ok + f->rest_http_err + f->rest_net_err + f->rest_parse_err + f->rest_rate_limited;
}
static uint64_t rest_failed(const feed_live_stats *f)
{
    return f->rest_http_err + f->rest_net_err + f->rest_parse_err;
}

/* ------------------------------------------------------------ start / stop */
static int ops_start(session *s)
{
    struct sl_ops *p = calloc(1, sizeof *p);
    if (!p)
        return PT_ENOMEM;
    s->ops = p;
    /* the schema bounds it (1..86400 s); the default covers a config without it */
    p->report_ms = (int64_t)ops_config_get_num(s->o->cfg, "log", "report_interval_s", OPS_REPORT_S_DEF) * 1000;
    if (p->report_ms <= 0)
        p->report_ms = OPS_REPORT_S_DEF * 1000;
    ops_notify_config nc;
    memset(&nc, 0, sizeof nc);
    ops_health_config hc = {
        .fault_window_ms = (int64_t)ops_config_get_num(s->o->cfg, "log", "health_window_s", 600) * 1000};
    int rc = ops_health_new(&hc, &p->h);
    if (!rc)
        rc = ops_notify_config_from(s->o->cfg, &nc); /* logs a half-configured Telegram */
    if (!rc)
        rc = ops_notifier_new(&nc, &p->n);
    int targets = nc.n_targets;
    memset(&nc, 0, sizeof nc); /* the token copy lives in the notifier only */
    if (rc)
        return rc;
    ops_health_attach_notifier(p->h, p->n);
    /* the feed beats on traffic: stale after the feed's own silence limit */
    int64_t feed_period = s->o->stale_after_ms > 3000 ? s->o->stale_after_ms / 3 : 1000;
    p->c_feed = ops_health_register(p->h, "feed", feed_period);
    p->c_backfill = ops_health_register(p->h, "backfill", 0); /* on demand: no heartbeat */
    p->c_engine = ops_health_register(p->h, "engine", OPS_BEAT_PERIOD_MS);
    p->c_server = s->o->port >= 0 ? ops_health_register(p->h, "server", OPS_BEAT_PERIOD_MS) : -1;
    p->c_notifier = ops_health_register(p->h, "notifier", OPS_BEAT_PERIOD_MS);
    if (p->c_feed < 0 || p->c_backfill < 0 || p->c_engine < 0 || p->c_notifier < 0)
        return PT_EINVAL;
    ops_health_set_state(p->h, p->c_backfill, OPS_HS_UP, "idle");
    ops_health_set_state(p->h, p->c_engine, OPS_HS_UP, "running");
    if (p->c_server >= 0)
        ops_health_set_state(p->h, p->c_server, OPS_HS_UP, "listening");
    ops_health_set_state(p->h, p->c_notifier, targets ? OPS_HS_UP : OPS_HS_UNKNOWN,
                         targets ? "" : "off: no [notify] target");
    ops_health_sample(p->h, pt_mono_ms());
    return PT_OK;
}

static void post(session *s, ops_notify_event ev, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void post(session *s, ops_notify_event ev, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (s->ops) /* refusals are counted (and logged) by the notifier */
        ops_notify_event_post(s->ops->n, ev, text);
}

static void ops_error(session *s, const char *text) { post(s, OPS_EV_ERROR, "%s", text); }

static void ops_stop(session *s)
{
    struct sl_ops *p = s->ops;
    if (!p || p->stopped)
        return;
    p->stopped = 1;
    const pf_portfolio *pf = sim_engine_portfolio(s->eng);
    double eq = pf_equity(pf);
    if (p->announced) /* no "stopped" for a session that never said "started" */
        post(s, OPS_EV_STOP, "%s stopped (%s): %llu candles, %llu fills, equity %.2f, pnl %+.2f", s->cfg->mode,
             s->stop_why ? s->stop_why : "loop ended", (unsigned long long)s->closed,
             (unsigned long long)pf_fill_count(pf), eq, eq - s->o->eng.cash);
    ops_health_sample(p->h, pt_mono_ms());
    pt_info("final health report:");
    ops_health_log_report(p->h);
}

static void ops_free(session *s)
{
    struct sl_ops *p = s->ops;
    if (!p)
        return;
    ops_health_attach_notifier(p->h, NULL);
    ops_notifier_free(p->n); /* flushes, bounded by flush_deadline_ms or a second signal */
    ops_health_free(p->h);
    free(p);
    s->ops = NULL;
}

/* ------------------------------------------------------------ engine */
static void ops_engine_ms(session *s, double ms)
{
    struct sl_ops *p = s->ops;
    if (!p)
        return;
    p->proc_ms_sum += ms;
    p->proc_n++;
    if (ms > p->proc_ms_max)
        p->proc_ms_max = ms;
}

static void ops_candle(session *s, sl_sym *y, const pt_candle *c, quality_verdict v, double score,
                       const sim_signal *sig)
{
    (void)y, (void)sig;
    static const char *const ctr[3] = {"candles_accepted", "candles_flagged", "candles_rejected"};
    struct sl_ops *p = s->ops;
    if (!p)
        return;
    if ((unsigned)v < 3)
        ops_health_counter_add(p->h, p->c_feed, ctr[v], 1);
    double min_q = s->o->eng.min_quality;
    int i;
    for (i = 0; i < s->n_sym && strcmp(s->sym[i].name, c->symbol); i++)
        ;
    if (min_q <= 0 || i == s->n_sym || !isfinite(score))
        return;
    /* one message per crossing, not per candle (aggregation would fold the rest anyway) */
    if (score < min_q && !p->quality_low[i]) {
        p->quality_low[i] = 1;
        post(s, OPS_EV_QUALITY_LOW, "%s quality %.0f below %.0f: new entries blocked", c->symbol, score, min_q);
    } else if (score >= min_q && p->quality_low[i]) {
        p->quality_low[i] = 0;
        post(s, OPS_EV_QUALITY_OK, "%s quality %.0f back at or above %.0f", c->symbol, score, min_q);
    }
}

static void ops_fill(session *s, const pf_fill *f, const pf_fill_result *r)
{
    struct sl_ops *p = s->ops;
    if (!p)
        return;
    p->fills++;
    p->realized += r->realized_pnl;
    if (r->round_trip_closed)
        r->round_trip_pnl > 0 ? p->wins++ : p->losses++;
    char when[32];
    pt_format_iso_ms(f->ts_ms, when, sizeof when);
    post(s, OPS_EV_TRADE, "%s %s %.8g @ %.8g fee %.4g pnl %+.2f (%s) at %s", f->symbol, pf_side_name(f->side),
         f->qty, f->price, f->fee, r->realized_pnl, f->reason ? f->reason : "", when);
}

static void ops_alert(session *s, const char *level, const char *symbol, const char *text, const sim_alert *a)
{
    (void)level, (void)symbol, (void)text; /* the session's own alerts are for the page only */
    struct sl_ops *p = s->ops;
    if (!p || !a || !a->kind)
        return;
    const char *sym = a->symbol ? a->symbol : "", *msg = a->message ? a->message : "";
    if (!strcmp(a->kind, "daily_loss")) {
        post(s, OPS_EV_DAILY_LOSS_LIMIT, "%s", msg);
    } else if (!strcmp(a->kind, "kill_switch")) {
        ops_health_error(p->h, p->c_engine, pt_mono_ms(), "kill switch: %.120s", msg);
        post(s, OPS_EV_ERROR, "kill switch: %s", msg);
    } else if (!strcmp(a->kind, "liquidation")) { /* docs/futures.md: never silent */
        post(s, OPS_EV_ERROR, "liquidation %s: %s", sym, msg);
    } else if (!strcmp(a->kind, "circuit_breaker") && strstr(msg, "open")) {
        ops_health_error(p->h, p->c_engine, pt_mono_ms(), "strategy breaker %s: %.100s", sym, msg);
    } else if (!strcmp(a->kind, "strategy_restart") || !strcmp(a->kind, "strategy_down")) {
        post(s, OPS_EV_ERROR, "%s", msg); /* docs/strategy-protocol.md "Failure" */
    }
}

/* ------------------------------------------------------------ feed */
static void ops_feed_state(session *s, feed_conn_state st, const char *reason)
{
    struct sl_ops *p = s->ops;
    if (!p)
        return;
    static const ops_health_state map[] = {
        [FEED_CONN_IDLE] = OPS_HS_UNKNOWN,        [FEED_CONN_CONNECTING] = OPS_HS_UNKNOWN,
        [FEED_CONN_BACKFILLING] = OPS_HS_UP,      [FEED_CONN_LIVE] = OPS_HS_UP,
        [FEED_CONN_STALE] = OPS_HS_DEGRADED,      [FEED_CONN_WAITING] = OPS_HS_DOWN,
    };
    ops_health_state hs = (unsigned)st < sizeof map / sizeof map[0] ? map[st] : OPS_HS_UNKNOWN;
    char text[96];
    snprintf(text, sizeof text, "%s%s%.60s", feed_conn_name(st), reason && *reason ? ": " : "",
             reason ? reason : "");
    ops_health_set_state(p->h, p->c_feed, hs, text);
    if (st == FEED_CONN_LIVE || st == FEED_CONN_BACKFILLING)
        p->feed_bad_since = 0;
    else if (!p->feed_bad_since && st != FEED_CONN_IDLE)
        p->feed_bad_since = pt_mono_ms();
}

static uint64_t dropped_msgs(const feed_live_stats *f)
{
    uint64_t n = 0;
    for (int r = 0; r < FEED_DROP__COUNT; r++)
        n += f->dropped[r];
    return n;
}

/* Each symbol's status (feed_sym_status_of), logged and shown when it
 * changes; a stale symbol degrades the feed component. */
static void status_tick(session *s, const feed_live_stats *fs)
{
    struct sl_ops *p = s->ops;
    int64_t down_after = s->o->stale_after_ms > 0 ? s->o->stale_after_ms : 30000;
    int stale = 0;
    for (int i = 0; i < s->n_sym; i++) {
        sl_sym *y = &s->sym[i];
        feed_sym_status st = feed_sym_status_of(fs, (size_t)i, s->o->interval_ms, down_after);
        /* stale only when seen on two ticks in a row: a fast replay (demo at 7200x) crosses a
         * natural gap of a few bars, or catches up after a backfill, within one tick */
        y->stale_ticks = st == FEED_SYM_STALE ? y->stale_ticks + 1 : 0;
        if (st == FEED_SYM_STALE && y->stale_ticks < 2)
            continue;
        char why[128] = "";
        if (st == FEED_SYM_STALE)
            snprintf(why, sizeof why, "no closed candle for more than 2 intervals");
        else if (st != FEED_SYM_LIVE)
            snprintf(why, sizeof why, "%s", fs->last_error);
        stale += st == FEED_SYM_STALE;
        if (st == y->status && !strcmp(why, y->status_why))
            continue;
        int bad = st != FEED_SYM_LIVE && st != FEED_SYM_CONNECTING;
        pt_log(bad ? PT_LOG_WARN : PT_LOG_INFO, "feed: %s %s%s%s", y->name, feed_sym_status_name(st),
               why[0] ? ": " : "", why);
        if (st != y->status && (bad || y->status != FEED_SYM_CONNECTING)) {
            char msg[192];
            snprintf(msg, sizeof msg, "feed %s%s%s", feed_sym_status_name(st), why[0] ? ": " : "", why);
            sl_observe_alert(s, bad ? "warn" : "info", y->name, msg, NULL);
        }
        y->status = st;
        snprintf(y->status_why, sizeof y->status_why, "%s", why);
    }
    int up = fs->state == FEED_CONN_LIVE || fs->state == FEED_CONN_BACKFILLING;
    if (up && (stale > 0) != p->stale_degraded) /* the connection's own changes: ops_feed_state */
        ops_health_set_state(p->h, p->c_feed, stale ? OPS_HS_DEGRADED : OPS_HS_UP,
                             stale ? "a symbol has no recent closed candle" : "live");
    p->stale_degraded = up && stale > 0;
}

/* Feed and REST figures from the stats deltas since the previous tick. */
static void feed_tick(session *s, int64_t now)
{
    struct sl_ops *p = s->ops;
    feed_live_stats fs;
    sl_feed_stats(s, &fs);
    const feed_live_stats *o = &p->prev;
    ops_health_feed_faults(p->h, now, fs.reconnects - o->reconnects, dropped_msgs(&fs) - dropped_msgs(o));
    status_tick(s, &fs);
    if (fs.msgs != o->msgs)
        ops_health_beat(p->h, p->c_feed, now);
    ops_health_gauge_set(p->h, p->c_feed, "messages", (double)fs.msgs);
    ops_health_gauge_set(p->h, p->c_feed, "reconnects", (double)fs.reconnects);
    ops_health_gauge_set(p->h, p->c_feed, "gaps", (double)fs.gaps);
    ops_health_gauge_set(p->h, p->c_feed, "duplicates", (double)(fs.duplicates + fs.out_of_order));
    if (fs.stale_events > o->stale_events)
        ops_health_error(p->h, p->c_feed, now, "feed silent past the stale limit: reconnecting");
    int b = p->c_backfill;
    ops_health_gauge_set(p->h, b, "backfills", (double)fs.backfills);
    ops_health_gauge_set(p->h, b, "backfilled_candles", (double)fs.backfilled_candles);
    ops_health_gauge_set(p->h, b, "failures", (double)fs.backfill_failures);
    ops_health_gauge_set(p->h, b, "rest_ok", (double)fs.rest_ok);
    ops_health_gauge_set(p->h, b, "rest_failed", (double)rest_failed(&fs));
    ops_health_gauge_set(p->h, b, "rest_rate_limited", (double)fs.rest_rate_limited);
    ops_health_gauge_set(p->h, b, "rate_limit_waits", (double)fs.rate_limit_waits);
    if (now - p->rpm_mark_mono >= OPS_RPM_WINDOW_MS) {
        ops_health_gauge_set(p->h, b, "rest_calls_per_min", (double)(rest_calls(&fs) - p->rpm_mark_calls));
        p->rpm_mark_calls = rest_calls(&fs);
        p->rpm_mark_mono = now;
    }
    if (fs.backfill_failures > o->backfill_failures) {
        ops_health_error(p->h, b, now, "backfill failed (%llu so far)", (unsigned long long)fs.backfill_failures);
        ops_health_set_state(p->h, b, OPS_HS_DEGRADED, "last backfill failed");
        post(s, OPS_EV_ERROR, "REST backfill failed: the gap stays open");
    } else if (fs.backfills > o->backfills) {
        ops_health_set_state(p->h, b, OPS_HS_UP, "last backfill ok");
    }
    /* REST latency and error rate: the new samples of each duration bucket
     * (bounded per tick: the rate limiter keeps them few anyway) */
    for (int k = 0; k < FEED_REST_LAT_BUCKETS; k++) {
        for (uint64_t n = fs.rest_lat_ok[k] - o->rest_lat_ok[k]; n && n <= 1000; n--)
            ops_health_rest(p->h, feed_rest_lat_mid_ms(k), 1);
        for (uint64_t n = fs.rest_lat_failed[k] - o->rest_lat_failed[k]; n && n <= 1000; n--)
            ops_health_rest(p->h, feed_rest_lat_mid_ms(k), 0);
    }
    if (rest_failed(&fs) > rest_failed(o))
        ops_health_error(p->h, b, now, "%llu REST call(s) failed",
                         (unsigned long long)(rest_failed(&fs) - rest_failed(o)));
    /* feed down/up: the REST breaker opening, or the stream away from live
     * longer than the feed's own silence limit (routine reconnects stay quiet) */
    int open = fs.breaker == FEED_BREAKER_OPEN;
    if (open != p->breaker_open) {
        p->breaker_open = open;
        if (open)
            ops_health_error(p->h, b, now, "REST circuit breaker open");
    }
    int64_t limit = s->o->stale_after_ms > 0 ? s->o->stale_after_ms : 30000;
    int down = open || (p->feed_bad_since && now - p->feed_bad_since >= limit);
    if (down && !p->feed_down_posted) {
        p->feed_down_posted = 1;
        post(s, OPS_EV_FEED_DOWN, "%s feed %s (REST breaker %s)", s->o->exchange ? s->o->exchange : "exchange",
             feed_conn_name(fs.state), feed_breaker_name(fs.breaker));
    } else if (!down && p->feed_down_posted && !p->feed_bad_since) {
        p->feed_down_posted = 0;
        post(s, OPS_EV_FEED_UP, "%s feed live again", s->o->exchange ? s->o->exchange : "exchange");
    }
    p->prev = fs;
}

static void engine_tick(session *s, int64_t now)
{
    struct sl_ops *p = s->ops;
    const sim_engine_stats *st = sim_engine_get_stats(s->eng);
    const pf_portfolio *pf = sim_engine_portfolio(s->eng);
    int e = p->c_engine;
    ops_health_beat(p->h, e, now); /* the engine runs on this loop: the tick is its liveness */
    uint64_t blocks = 0;
    for (int i = 0; i < SIM_BLOCK__COUNT; i++)
        blocks += st->blocks[i];
    uint64_t rt = p->wins + p->losses;
    ops_health_gauge_set(p->h, e, "orders", (double)st->orders);
    ops_health_gauge_set(p->h, e, "fills", (double)pf_fill_count(pf));
    ops_health_gauge_set(p->h, e, "win_rate_pct", rt ? 100.0 * (double)p->wins / (double)rt : 0);
    ops_health_gauge_set(p->h, e, "pnl", pf_equity(pf) - s->o->eng.cash);
    ops_health_gauge_set(p->h, e, "realized_pnl", p->realized);
    ops_health_gauge_set(p->h, e, "entry_blocks", (double)blocks);
    ops_health_gauge_set(p->h, e, "candle_ms_avg", p->proc_n ? p->proc_ms_sum / (double)p->proc_n : 0);
    ops_health_gauge_set(p->h, e, "candle_ms_max", p->proc_ms_max);
    if (st->strategy_failures > p->strat_fail_prev) {
        ops_health_error(p->h, e, now, "strategy failed on %llu candle(s)",
                         (unsigned long long)(st->strategy_failures - p->strat_fail_prev));
        p->strat_fail_prev = st->strategy_failures;
    }
    if (s->io_err && !p->io_err_seen) {
        p->io_err_seen = 1;
        ops_health_error(p->h, e, now, "output error: %s", pt_strerror(s->io_err));
        ops_health_set_state(p->h, e, OPS_HS_DOWN, "output error");
        post(s, OPS_EV_ERROR, "output error (%s): the session stops", pt_strerror(s->io_err));
    }
}

static void server_notifier_tick(session *s, int64_t now)
{
    struct sl_ops *p = s->ops;
    if (p->c_server >= 0 && s->wss) {
        wss_stats ws;
        wss_get_stats(s->wss, &ws);
        ops_health_beat(p->h, p->c_server, now);
        ops_health_gauge_set(p->h, p->c_server, "clients", ws.clients);
        ops_health_gauge_set(p->h, p->c_server, "clients_dropped", (double)ws.clients_dropped);
        ops_health_gauge_set(p->h, p->c_server, "events_published", (double)ws.events_published);
        ops_health_gauge_set(p->h, p->c_server, "loop_lag_ms", (double)s->lag_ms);
    }
    ops_notify_stats ns;
    ops_notifier_stats(p->n, &ns);
    ops_health_beat(p->h, p->c_notifier, now);
    ops_health_gauge_set(p->h, p->c_notifier, "sent", (double)ns.sent);
    ops_health_gauge_set(p->h, p->c_notifier, "failed", (double)ns.failed);
    ops_health_gauge_set(p->h, p->c_notifier, "dropped", (double)ns.dropped);
    ops_health_gauge_set(p->h, p->c_notifier, "rate_limited", (double)ns.rate_limited);
    ops_health_gauge_set(p->h, p->c_notifier, "queue_depth", (double)ns.queue_depth);
}

/* From the 150 ms signal poll: the work runs once per OPS_TICK_MS. */
static void ops_poll(session *s, int64_t now)
{
    struct sl_ops *p = s->ops;
    if (!p || now < p->next_tick)
        return;
    if (!p->announced) {
        p->announced = 1;
        p->rpm_mark_mono = now;
        p->next_report = now + p->report_ms;
        char iv[16] = "";
        pt_interval_format(s->o->interval_ms, iv, sizeof iv);
        post(s, OPS_EV_START, "%s: %d symbol(s) from %s (first %s), %s candles, strategy %s, cash %.2f",
             s->cfg->mode, s->n_sym, s->o->exchange ? s->o->exchange : "exchange", s->sym[0].name, iv,
             s->o->strategy ? s->o->strategy : "", s->o->eng.cash);
    }
    p->next_tick = now + OPS_TICK_MS;
    feed_tick(s, now);
    engine_tick(s, now);
    server_notifier_tick(s, now);
    ops_health_sample(p->h, now);
    ops_health_check(p->h, now); /* logs and notifies a component turning stale */
    if (now >= p->next_report) {
        p->next_report = now + p->report_ms;
        ops_health_log_report(p->h);
    }
}

/* ------------------------------------------------------------ log */
static int ops_heartbeat(session *s, const char *line)
{
    if (!s->ops)
        return 0;
    ops_health_log_heartbeat(s->ops->h, line); /* one line: the health summary, then the session's */
    return 1;
}

/* ------------------------------------------------------------ /health */
/* Adds the registry's members to the /health object. Keys the session or
 * the server already writes (uptime_s comes from the server) stay theirs:
 * a JSON object must not repeat a key. */
static void ops_health_part(session *s, cJSON *obj)
{
    if (!s->ops)
        return;
    cJSON *tmp = cJSON_CreateObject();
    if (!tmp || ops_health_to_json(s->ops->h, pt_mono_ms(), tmp)) {
        cJSON_Delete(tmp);
        return;
    }
    cJSON *it;
    while ((it = tmp->child)) {
        cJSON_DetachItemViaPointer(tmp, it);
        if (!strcmp(it->string, "uptime_s") || cJSON_GetObjectItemCaseSensitive(obj, it->string))
            cJSON_Delete(it);
        else
            cJSON_AddItemToObject(obj, it->string, it); /* the key string is copied again */
    }
    cJSON_Delete(tmp);
}

/* ------------------------------------------------------------ /metrics
 * The wss registry renders /metrics, so the health families of
 * docs/health.md are registered there and filled from the same JSON that
 * /health shows (one source of truth). The REST latency is a summary
 * (quantiles 0.5 and 0.99, _sum, _count). */
static int ops_metrics_init(session *s, wss_metrics *r)
{
    struct sl_ops *p = s->ops;
    if (!p)
        return PT_OK;
    p->m_score = wss_metrics_gauge(r, "papertrader_health_score", "Overall health score 0-100 (docs/health.md).", NULL);
    p->m_level = wss_metrics_gauge(r, "papertrader_health_level",
                                   "Health level: 4 excellent, 3 good, 2 fair, 1 poor, 0 critical.", NULL);
    p->m_up = wss_metrics_gauge(r, "papertrader_component_up", "1 if the component beats in time and is not down.",
                                "component");
    p->m_err = wss_metrics_counter(r, "papertrader_errors_total", "Errors recorded per component.", "component");
    p->m_val = wss_metrics_gauge(r, "papertrader_component_value", "Named counters and gauges of a component.",
                                 "component,name");
    p->m_lat = wss_metrics_summary(r, "papertrader_rest_latency_seconds", "REST call latency over the recent samples.");
    p->m_errratio = wss_metrics_gauge(r, "papertrader_rest_error_ratio", "Failed share of the recent REST calls.", NULL);
    p->m_rss = wss_metrics_gauge(r, "papertrader_process_resident_memory_bytes", "Resident set size.", NULL);
    p->m_cpu = wss_metrics_gauge(r, "papertrader_process_cpu_percent", "CPU use over the last sampling interval.", NULL);
    p->m_notif = wss_metrics_counter(r, "papertrader_notifications_total", "Notifications by outcome.", "result");
    p->m_qdepth = wss_metrics_gauge(r, "papertrader_notify_queue_depth", "Notifications waiting to be sent.", NULL);
    if (!p->m_score || !p->m_level || !p->m_up || !p->m_err || !p->m_val || !p->m_lat || !p->m_errratio ||
        !p->m_rss || !p->m_cpu || !p->m_notif || !p->m_qdepth)
        return PT_ENOMEM;
    return PT_OK;
}

static double jnum(const cJSON *o, const char *k, double def)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : def;
}

static void ops_metrics(session *s)
{
    struct sl_ops *p = s->ops;
    if (!p || !p->m_score)
        return;
    cJSON *j = cJSON_CreateObject();
    if (!j || ops_health_to_json(p->h, pt_mono_ms(), j)) {
        cJSON_Delete(j);
        return;
    }
    int score = (int)jnum(j, "score", 0);
    wss_metric_set(p->m_score, NULL, score);
    wss_metric_set(p->m_level, NULL, (double)ops_health_level_of(score));
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(j, "components"))
    {
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "name"));
        if (!name)
            continue;
        const char *l1[1] = {name};
        wss_metric_set(p->m_up, l1, cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "up")));
        wss_metric_set(p->m_err, l1, jnum(c, "errors", 0));
        const cJSON *v;
        cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(c, "counters"))
        {
            if (cJSON_IsNumber(v)) {
                const char *l2[2] = {name, v->string};
                wss_metric_set(p->m_val, l2, v->valuedouble);
            }
        }
    }
    const cJSON *rest = cJSON_GetObjectItemCaseSensitive(j, "rest");
    static const char *const qk[2] = {"p50_ms", "p99_ms"}, *const qv[2] = {"0.5", "0.99"};
    for (int i = 0; i < 2; i++) {
        const cJSON *q = cJSON_GetObjectItemCaseSensitive(rest, qk[i]);
        if (cJSON_IsNumber(q)) { /* no samples: no series rather than NaN */
            const char *l[1] = {qv[i]};
            wss_metric_set(p->m_lat, l, q->valuedouble / 1000.0);
        }
    }
    if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(rest, "sum_ms")))
        wss_metric_summary_totals(p->m_lat, jnum(rest, "sum_ms", 0) / 1000.0, jnum(rest, "total", 0));
    wss_metric_set(p->m_errratio, NULL, jnum(rest, "error_rate", 0));
    const cJSON *proc = cJSON_GetObjectItemCaseSensitive(j, "process");
    wss_metric_set(p->m_rss, NULL, jnum(proc, "rss_kb", 0) * 1024.0);
    wss_metric_set(p->m_cpu, NULL, jnum(proc, "cpu_pct", 0));
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(j, "notifier");
    static const char *const res[] = {"sent", "failed", "dropped", "rate_limited", "aggregated"};
    for (size_t i = 0; n && i < sizeof res / sizeof res[0]; i++) {
        const char *l[1] = {res[i]};
        wss_metric_set(p->m_notif, l, jnum(n, res[i], 0));
    }
    wss_metric_set(p->m_qdepth, NULL, jnum(n, "queue_depth", 0));
    cJSON_Delete(j);
}

/* Not .replay: a resume replay neither notifies nor times again what the
 * previous run already reported. */
const session_observer sl_ops_observer = {
    .name = "ops",
    .start = ops_start,
    .metrics_init = ops_metrics_init,
    .on_candle = ops_candle,
    .on_engine_ms = ops_engine_ms,
    .on_fill = ops_fill,
    .on_alert = ops_alert,
    .on_feed_state = ops_feed_state,
    .on_error = ops_error,
    .poll = ops_poll,
    .heartbeat = ops_heartbeat,
    .health = ops_health_part,
    .metrics = ops_metrics,
    .stop = ops_stop,
    .free = ops_free,
};
