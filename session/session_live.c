/* The live paper session: one lws context, one thread (every callback and
 * timer of feed, dashboard and engine on it). Candle flow: feed_live closed candle -> recorder
 * (write(2) to candles/<SYMBOL>.csv) -> engine -> hooks -> ledger + dashboard.
 * The recording comes first so `backtest` on it replays exactly what the
 * engine saw (the parity guarantee, docs/session.md). Nothing here that
 * reaches the ledger reads the wall clock: event time only. */
#include "ops.h"
#include "session_internal.h"
#include "session.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SL_POLL_US (150 * LWS_US_PER_MS) /* signal poll period: bounds shutdown latency */

/* ------------------------------------------------------------ ledger
 * session_ledger.c: with --resume it verifies the recorded rows while the
 * recorded candles are replayed, then appends (docs/durability.md). */
static int sl_ledger_open(session *s)
{
    session_ledger_options lo = {s->o->resuming, s->o->fsync_every ? PF_SYNC_EVERY_FILL : PF_SYNC_NONE, 0, 0,
                                 s->o->eng.perp.on};
    const char *env = getenv("PT_CRASH_AFTER_FILLS"); /* test hook, as backtest's */
    int64_t v;
    const char *why;
    if (env && !pt_parse_int64(env, strlen(env), &v, &why) && v > 0)
        lo.crash_after_fills = (uint64_t)v;
    return session_ledger_open(s->outdir, &lo, &s->lg);
}
static int sl_ledger_close(session *s, int complete)
{
    int rc = session_ledger_close(s->lg, complete);
    s->lg = NULL;
    return rc;
}

/* ------------------------------------------------------------ helpers */
static void fail_output(session *s, int rc, const char *what)
{
    if (!s->io_err) {
        s->io_err = rc ? rc : PT_EIO;
        pt_err_log("session: %s failed (%s); stopping the session", what, pt_strerror(s->io_err));
    }
}

static sl_sym *sym_find(session *s, const char *name)
{
    for (int i = 0; i < s->n_sym; i++)
        if (!strcmp(s->sym[i].name, name))
            return &s->sym[i];
    return NULL;
}

/* ------------------------------------------------------------ engine hooks */
static void h_candle(void *ud, const pt_candle *c, quality_verdict v, double score, const sim_signal *sig)
{
    session *s = ud;
    sl_sym *y = sym_find(s, c->symbol);
    if (v != QUALITY_REJECT)
        pf_metrics_price(s->m, c->symbol, c->close);
    sl_observe_candle(s, y, c, v, score, sig);
}

static void h_order(void *ud, const sim_order_event *ev) { sl_observe_order(ud, ev); }

static void h_fill(void *ud, const pf_fill *f, const pf_fill_result *r)
{
    session *s = ud;
    /* the recording, then the ledger: nothing learns of a fill before it is
     * durable, and a durable fill always has the candles that explain it */
    int rc = s->io_err ? PT_OK : sl_rec_sync(s);
    if (!rc && !s->io_err)
        rc = session_ledger_fill(s->lg, f, r);
    if (rc)
        fail_output(s, rc, rc == PT_ECORRUPT ? "trades.csv verification" : "trades.csv write");
    pf_metrics_fill(s->m, f->fee, r);
    if (!s->replaying)
        pt_info("fill: %s %s %.8g @ %.8g fee %.6g (%s) cash %.2f", f->symbol, pf_side_name(f->side), f->qty,
                f->price, f->fee, f->reason ? f->reason : "", r->cash_after);
    s->cash = r->cash_after; /* the dashboard's figures; the row moves them on */
    sl_observe_fill(s, f, r);
}

static void h_row(void *ud, const pf_snapshot *row)
{
    session *s = ud;
    pf_metrics_snapshot(s->m, row);
    int rc = s->io_err ? PT_OK : session_ledger_row(s->lg, row);
    if (rc)
        fail_output(s, rc, "portfolio.csv write");
    int64_t day = row->ts_ms / 86400000;
    if (day != s->day) { /* day PnL on event time (UTC days), like the daily-loss rule */
        s->day = day;
        s->day_equity = s->day_equity > 0 && s->eq_now > 0 ? s->eq_now : row->equity;
    }
    s->eq_now = row->equity;
    s->dd_now = row->drawdown;
    s->cash = row->cash;
    sl_observe_row(s, row);
}

static void h_alert(void *ud, const sim_alert *a)
{
    session *s = ud;
    pt_warn("alert %s%s%s: %s", a->kind, a->symbol ? " " : "", a->symbol ? a->symbol : "", a->message);
    sl_observe_alert(s, "warn", a->symbol, a->message, a);
}

/* ------------------------------------------------------------ feed callbacks */
/* True when every subscribed symbol has its candle at ts (that time is
 * complete: its portfolio row may go out, a control queued at ts applies). */
int sl_time_complete(const session *s, int64_t ts)
{
    if (s->n_sym < s->o->n_symbols)
        return 0;
    for (int i = 0; i < s->n_sym; i++)
        if (s->sym[i].last_closed_ts < ts)
            return 0;
    return 1;
}

static void process_closed(session *s, sl_sym *y, const pt_candle *c);

/* The first closed candle of a warming session: the feed knows where the
 * warm-up ends. session.json says so before any candle is recorded, so a
 * resume or a backtest of the recording warms on the same candles. */
static int warm_boundary(session *s)
{
    feed_live_stats fs;
    feed_live_get_stats(s->feed, &fs);
    s->warm_n = 0; /* once */
    if (fs.warmup_until_ms <= 0)
        return PT_OK;
    s->trade_from_ms = fs.warmup_until_ms;
    sim_engine_set_trade_from(s->eng, s->trade_from_ms);
    cJSON_DeleteItemFromObjectCaseSensitive(s->ses, "args"); /* sl_state_write_session adds it again */
    if (!cJSON_AddNumberToObject(s->ses, "trade_from_ms", (double)s->trade_from_ms))
        return PT_ENOMEM;
    char when[32];
    pt_format_iso_ms(s->trade_from_ms, when, sizeof when);
    pt_info("session: warm-up ends at %s: candles before it only warm the strategy", when);
    return sl_state_write_session(s, s->ses);
}

static void on_feed_candle(void *ud, const pt_candle *c)
{
    session *s = ud;
    if (s->stopping || s->io_err)
        return; /* intake stopped: nothing more reaches the engine or the recording */
    sl_sym *y = sym_find(s, c->symbol);
    if (!y) {
        pt_warn("session: candle for unknown symbol %s ignored", c->symbol);
        return;
    }
    if (!c->closed) {
        s->partials++;
        y->partial = *c;
        y->has_partial = 1;
        sl_observe_partial(s, c);
        return;
    }
    int rc = s->warm_n > 0 ? warm_boundary(s) : PT_OK;
    if (rc) {
        fail_output(s, rc, "session.json (warm-up)");
        return;
    }
    rc = sl_rec_append(s, y, c);
    if (rc) {
        fail_output(s, rc, "candle recording");
        return;
    }
    process_closed(s, y, c);
}

/* A closed candle that is on disk: the engine, then the row flush. The
 * resume replay (session_resume.c) comes through here too. */
static void process_closed(session *s, sl_sym *y, const pt_candle *c)
{
    y->last_closed_ts = c->ts_ms;
    y->last_candle_mono = pt_mono_ms();
    y->has_partial = 0;
    s->closed++;
    s->last_ts = c->ts_ms;
    int64_t t0 = pt_mono_ns();
    sim_engine_on_candle(s->eng, c);
    sl_observe_engine_ms(s, (double)(pt_mono_ns() - t0) / 1e6); /* ops: the health registry's timing */
    /* every symbol has this time: its portfolio row is final now */
    if (sl_time_complete(s, c->ts_ms))
        sim_engine_flush_row(s->eng);
    if (s->cfg->end_ts_ms > 0 && sl_time_complete(s, s->cfg->end_ts_ms) && !s->stopping) {
        s->stop_why = "end of data";
        s->stopping = 1;
    }
}

void sl_feed_stats(const session *s, feed_live_stats *out)
{
    if (s->feed)
        feed_live_get_stats(s->feed, out);
    else
        *out = s->fs_last;
}

static void on_feed_state(void *ud, feed_conn_state st, const char *reason)
{
    session *s = ud;
    (void)reason; /* the feed logs its own transitions */
    s->fstate = st;
    sl_observe_feed_state(s, st, reason);
    if (st == FEED_CONN_STALE)
        sl_observe_alert(s, "warn", NULL, "feed stale: reconnecting", NULL);
}

/* ------------------------------------------------------------ timers */
static void heartbeat(session *s)
{
    feed_live_stats fs;
    sl_feed_stats(s, &fs);
    const pf_portfolio *pf = sim_engine_portfolio(s->eng);
    double eq = pf_equity(pf), q = 100;
    for (int i = 0; i < s->n_sym; i++)
        if (s->sym[i].quality >= 0 && s->sym[i].quality < q)
            q = s->sym[i].quality;
    sl_observe_heartbeat(s, "up %llds candles %llu feed %s reconnects %llu backfills %llu equity %.2f "
            "day_pnl %.2f quality %.0f positions %d trades %llu lag %lldms",
            (long long)((pt_mono_ms() - s->t0_mono) / 1000), (unsigned long long)s->closed,
            feed_conn_name(fs.state), (unsigned long long)fs.reconnects, (unsigned long long)fs.backfills, eq,
            s->day_equity > 0 ? eq - s->day_equity : 0.0, q, pf_open_positions(pf),
            (unsigned long long)pf_fill_count(pf), (long long)s->lag_max_ms);
    s->lag_max_ms = 0;
}

static void hb_cb(lws_sorted_usec_list_t *sul)
{
    session *s = lws_container_of(sul, session, sul_hb);
    heartbeat(s);
    lws_sul_schedule(s->cx, 0, &s->sul_hb, hb_cb, (lws_usec_t)s->o->heartbeat_s * LWS_US_PER_SEC);
}

static void poll_cb(lws_sorted_usec_list_t *sul)
{
    session *s = lws_container_of(sul, session, sul_poll);
    int64_t now = pt_mono_ms();
    s->lag_ms = now > s->poll_due_mono ? now - s->poll_due_mono : 0; /* event-loop lag */
    if (s->lag_ms > s->lag_max_ms)
        s->lag_max_ms = s->lag_ms;
    sl_observe_poll(s, now);
    sl_restart_poll(s, now);
    if (ops_signal_take_reopen())
        ops_log_reopen();
    if (!s->stopping && ops_signal_stop_count()) {
        s->stop_why = "signal";
        s->stopping = 1;
    }
    if (!s->stopping && s->o->duration_s > 0 && now - s->t0_mono >= (int64_t)(s->o->duration_s * 1000)) {
        s->stop_why = "duration reached";
        s->stopping = 1;
    }
    if (!s->stopping && s->io_err) {
        s->stop_why = "output error";
        s->stopping = 1;
    }
    s->poll_due_mono = now + SL_POLL_US / LWS_US_PER_MS;
    lws_sul_schedule(s->cx, 0, &s->sul_poll, poll_cb, SL_POLL_US);
}

/* ------------------------------------------------------------ report */
static cJSON *report_json(session *s, const feed_live_stats *fs)
{
    pf_metrics_result mr;
    pf_metrics_compute(s->m, &mr);
    cJSON *rep = pf_metrics_to_json(&mr);
    if (!rep)
        return NULL;
    sim_engine_stats_to_json(s->eng, cJSON_AddObjectToObject(rep, "engine"));
    cJSON *se = cJSON_AddObjectToObject(rep, "session");
    cJSON_AddStringToObject(se, "mode", s->cfg->mode);
    cJSON_AddStringToObject(se, "stop_reason", s->stop_why ? s->stop_why : "");
    sl_json_num(se, "uptime_s", (double)(pt_mono_ms() - s->t0_mono) / 1000.0);
    sl_json_num(se, "candles_recorded", (double)s->closed);
    cJSON *fe = cJSON_AddObjectToObject(rep, "feed");
    sl_json_num(fe, "messages", (double)fs->msgs);
    sl_json_num(fe, "connects", (double)fs->connects);
    sl_json_num(fe, "reconnects", (double)fs->reconnects);
    sl_json_num(fe, "stale_events", (double)fs->stale_events);
    sl_json_num(fe, "duplicates", (double)fs->duplicates);
    sl_json_num(fe, "out_of_order", (double)fs->out_of_order);
    sl_json_num(fe, "gaps", (double)fs->gaps);
    sl_json_num(fe, "backfills", (double)fs->backfills);
    sl_json_num(fe, "backfilled_candles", (double)fs->backfilled_candles);
    sl_json_num(fe, "backfill_failures", (double)fs->backfill_failures);
    sl_json_num(fe, "rest_ok", (double)fs->rest_ok);
    sl_json_num(fe, "rest_rate_limited", (double)fs->rest_rate_limited);
    sl_json_num(fe, "rate_limit_waits", (double)fs->rate_limit_waits);
    if (feed_exchange_is_perp(s->o->exchange)) { /* perpetual venues (feed.h feed_perp_callbacks) */
        sl_json_num(fe, "marks", (double)fs->marks);
        sl_json_num(fe, "mark_bars", (double)fs->mark_bars);
        sl_json_num(fe, "fundings", (double)fs->fundings);
        sl_json_num(fe, "funding_gaps", (double)fs->funding_gaps);
    }
    cJSON *dr = cJSON_AddObjectToObject(fe, "dropped");
    for (int i = 0; i < FEED_DROP__COUNT; i++)
        sl_json_num(dr, feed_drop_name((feed_drop_reason)i), (double)fs->dropped[i]);
    return rep;
}

static cJSON *session_json(session *s, const char *ws_url, const char *rest_url)
{
    const session_opts *o = s->o;
    const sim_engine_config *c = &o->eng;
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "command", s->cfg->mode);
    cJSON_AddStringToObject(j, "version", PT_VERSION);
    cJSON_AddStringToObject(j, "exchange", o->exchange);
    cJSON_AddStringToObject(j, "ws_url", ws_url ? ws_url : "");
    cJSON_AddStringToObject(j, "rest_url", rest_url ? rest_url : "");
    cJSON *sy = cJSON_AddArrayToObject(j, "symbols");
    for (int i = 0; i < o->n_symbols; i++)
        cJSON_AddItemToArray(sy, cJSON_CreateString(o->symbols[i]));
    sl_json_num(j, "interval_ms", (double)o->interval_ms);
    sl_json_engine(j, o->strategy, c, o->sizing_text);
    cJSON_AddBoolToObject(j, "allow_short", c->allow_short);
    cJSON_AddBoolToObject(j, "close_at_end", c->close_at_end);
    if (s->warm_n > 0)
        sl_json_num(j, "warmup_candles", s->warm_n);
    return j;
}

/* ------------------------------------------------------------ run */
static void default_outdir(session *s)
{
    if (s->o->out) {
        snprintf(s->outdir, sizeof s->outdir, "%s", s->o->out);
        return;
    }
    session_default_dir(s->outdir, sizeof s->outdir, s->cfg->mode);
}

static void on_mark_bar(void *ud, const pt_candle *bar)
{
    session *s = ud;
    if (!s->stopping && !s->io_err && feed_perp_rec_mark_bar(s->perp_rec, bar))
        fail_output(s, PT_EIO, "mark recording");
}

static void on_funding(void *ud, const feed_funding *f)
{
    session *s = ud;
    if (!s->stopping && !s->io_err && feed_perp_rec_funding(s->perp_rec, f))
        fail_output(s, PT_EIO, "funding recording");
}

static int start_feed(session *s, const char *ws_url, const char *rest_url)
{
    const session_opts *o = s->o;
    int64_t after[SESSION_MAX_SYMBOLS]; /* resume: each series carries on after its last recorded bar */
    for (int i = 0; i < s->n_sym; i++)
        after[i] = s->sym[i].last_closed_ts;
    feed_live_config fc = {
        .exchange = o->exchange, .ws_url = ws_url, .rest_url = rest_url, .start_after_ts = after,
        .symbols = o->symbols, .n_symbols = (size_t)o->n_symbols, .interval_ms = o->interval_ms,
        .backoff_base_ms = o->backoff_base_ms, .backoff_cap_ms = o->backoff_cap_ms,
        .stale_after_ms = o->stale_after_ms, .ca_file = o->ca_file, .backfill = 1, .warmup_candles = s->warm_n,
        /* the built-in simulator runs --speed times faster: so may its REST calls
         * (gaps in a replayed file each cost one), else they pace the session */
        .rest_per_sec = s->xsim ? fmin(1000.0, 5.0 * fmax(1.0, o->speed)) : 0,
    };
    const feed_live_callbacks cb = {on_feed_candle, on_feed_state};
    int rc = feed_live_new(s->cx, &fc, &cb, s, &s->feed);
    if (rc || !feed_exchange_is_perp(o->exchange))
        return rc;
    /* perp venues: record marks and funding for the replay (docs/feed.md) */
    const feed_perp_callbacks pcb = {.on_mark_bar = on_mark_bar, .on_funding = on_funding};
    if (!(rc = feed_perp_rec_open(s->outdir, o->symbols, (size_t)o->n_symbols, &s->perp_rec)))
        rc = feed_live_set_perp_callbacks(s->feed, &pcb);
    return rc;
}

/* How many candles to warm on: `run` only, a fresh session only (a resume
 * replays its recorded warm-up: trade_from_ms in session.json); --warmup N
 * or the strategy's own need (sim_strategy_warmup). */
static void warm_plan(session *s)
{
    const session_opts *o = s->o;
    if (o->resuming) {
        const cJSON *tf = cJSON_GetObjectItemCaseSensitive(o->resume_doc, "trade_from_ms");
        if (cJSON_IsNumber(tf) && tf->valuedouble > 0)
            sim_engine_set_trade_from(s->eng, s->trade_from_ms = (int64_t)tf->valuedouble);
        return;
    }
    if (strcmp(s->cfg->mode, "run"))
        return;
    s->warm_n = o->warmup >= 0 ? o->warmup
                               : sim_strategy_warmup(o->eng.strategy, o->eng.params, &o->eng.sizing,
                                                     o->eng.atr_period);
    if (s->warm_n > 0)
        pt_info("session: warm-up of %d candles per symbol (%s)", s->warm_n,
                o->warmup >= 0 ? "--warmup" : "the strategy's need");
}

/* The trading rules (session_rules.c) into the engine, cached in the
 * session folder before the first candle. */
static int apply_rules(session *s, const char *rest_url, struct lws_context *cx)
{
    const session_opts *o = s->o;
    pf_rules_set rules;
    session_rules_live_in in = {o->cfg,      o->exchange, rest_url,  o->ca_file, (const char *const *)o->symbols,
                        o->n_symbols, s->outdir,  o->resuming, cx};
    int rc = session_rules_live(&in, &rules);
    return rc ? rc : rules.n ? sim_engine_set_rules(s->eng, &rules) : PT_OK;
}

static int exit_code_of(int rc)
{
    return rc == PT_EINVAL || rc == PT_EUNSUPPORTED ? PT_EXIT_USAGE
           : rc == PT_ENOENT || rc == PT_EPARSE     ? PT_EXIT_INPUT
                                                    : PT_EXIT_FAILURE;
}

/* ops first: it starts before the restart guard and registers the health
 * families the dashboard's /metrics shows. */
static const session_observer *const observers[] = {&sl_ops_observer, &sl_dash_observer};

static session *live_new(const session_live_config *cfg)
{
    const session_opts *o = cfg->o;
    session *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->cfg = cfg;
    s->o = o;
    s->eq_every = 1;
    s->fstate = FEED_CONN_IDLE;
    s->lock_fd = s->order_fd = -1;
    s->obs = observers;
    s->n_obs = sizeof observers / sizeof observers[0];
    for (int i = 0; i < o->n_symbols; i++) {
        sl_sym *y = &s->sym[s->n_sym++];
        snprintf(y->name, sizeof y->name, "%s", o->symbols[i]);
        y->rec_fd = -1;
        y->last_closed_ts = INT64_MIN;
        y->quality = -1;
    }
    default_outdir(s);
    return s;
}

/* Resume found a ledger or recording that does not add up: files left as found. */
static int refuse(const session *s, int rc)
{
    if (rc == PT_ECORRUPT)
        fprintf(stderr, "papertrader %s: refusing to resume %s: its recorded state is corrupt or does not match "
                        "session.json (file:line in the log above); files left as they are\n", s->cfg->mode,
                s->outdir);
    return rc == PT_ECORRUPT ? PT_EXIT_CORRUPT : PT_EXIT_FAILURE;
}

/* The folder (lock first: one process per folder, before anything in it
 * changes), the log, the observers, the ledger and the engine; with
 * --resume the recorded candles replayed. 0 or an exit code. */
static int live_prepare(session *s)
{
    const session_opts *o = s->o;
    int rc, code = sl_state_lock(s);
    if (code)
        return code;
    const char *ld = o->log_dir && strcmp(o->log_dir, "logs") ? o->log_dir : s->outdir;
    ops_log_config lc = {.dir = ld, .level = PT_LOG_INFO};
    if (ops_log_open(&lc))
        return PT_EXIT_FAILURE;
    s->logs_open = 1;
    if (o->quiet)
        pt_log_set_stderr(0);
    if ((rc = sl_observe_start(s))) /* ops: before the restart guard, which notifies */
        return exit_code_of(rc);
    if (!strcmp(s->cfg->mode, "run") && (rc = sl_restart_enter(s))) /* only `run` resumes its folder */
        return rc == PT_EBUSY ? PT_EXIT_RESTART_LOOP : PT_EXIT_FAILURE;
    if (o->resuming && sl_resume_repair(s))
        return PT_EXIT_FAILURE;
    if ((rc = sl_ledger_open(s)))
        return refuse(s, rc);
    if (pf_metrics_new(o->interval_ms, o->eng.cash, &s->m))
        return PT_EXIT_FAILURE;
    const sim_hooks hooks = {h_candle, h_order, h_fill, h_row, h_alert};
    if (sim_engine_new(&o->eng, &hooks, s, &s->eng))
        return PT_EXIT_FAILURE;
    warm_plan(s);
    if (o->resuming && (rc = apply_rules(s, NULL, NULL))) /* before the replay: it trades with them */
        return refuse(s, rc);
    s->cash = o->eng.cash; /* dashboard values; the replay moves them on */
    s->eq_now = o->eng.cash;
    /* resume = replay: the engine's whole state comes back from the recorded
     * candles, the ledger verifies the recorded fills (docs/durability.md) */
    if (o->resuming && (rc = sl_resume_replay(s, process_closed)))
        return refuse(s, rc);
    return sl_rec_open(s) ? PT_EXIT_FAILURE : 0;
}

/* The loop's context: the simulator (demo, serve), session.json, the
 * observers' servers, the feed; then the lines a person needs first.
 * 0 or an exit code. */
static int live_connect(session *s)
{
    const session_opts *o = s->o;
    char ws_url[256] = "", rest_url[256] = "";
    const char *wsu = o->ws_url, *restu = o->rest_url;
    int rc;
    if (!(s->cx = wss_context_new())) /* logged */
        return PT_EXIT_FAILURE;
    if (s->cfg->xsim) {
        if ((rc = feed_xsim_new(s->cx, s->cfg->xsim, &s->xsim)))
            return exit_code_of(rc);
        int port = feed_xsim_port(s->xsim);
        snprintf(ws_url, sizeof ws_url, "ws://127.0.0.1:%d", port);
        snprintf(rest_url, sizeof rest_url, "http://127.0.0.1:%d", port);
        wsu = ws_url, restu = rest_url;
    }
    if (!o->resuming && (rc = apply_rules(s, restu, s->cx)))
        return exit_code_of(rc);
    if (!o->resuming) { /* the session's inputs are durable before its first candle */
        s->ses = session_json(s, wsu, restu);
        if (sl_state_write_session(s, s->ses))
            return PT_EXIT_FAILURE;
    }
    if ((rc = sl_observe_serve(s))) /* the dashboard */
        return exit_code_of(rc);
    if ((rc = start_feed(s, wsu, restu)))
        return exit_code_of(rc);
    /* before the lines below: a script may signal as soon as it reads them */
    ops_signal_install();
    /* the three lines a person needs first (stdout, flushed: scripts read them) */
    if (s->wss)
        printf("dashboard: http://%s:%d/\n", o->host ? o->host : "127.0.0.1", wss_port(s->wss));
    else
        printf("dashboard: off\n");
    printf("output: %s\n", s->outdir);
    if (o->resuming)
        printf("resumed: %llu candles replayed, %llu fills verified\n", (unsigned long long)s->replayed,
               (unsigned long long)session_ledger_recovered_fills(s->lg));
    printf("exchange: %s %s (rest %s)\n", o->exchange, wsu ? wsu : "(default)", restu ? restu : "(default)");
    fflush(stdout);
    pt_info("session %s: %d symbols, interval %lld ms, strategy %s, out %s", s->cfg->mode, o->n_symbols,
            (long long)o->interval_ms, o->strategy, s->outdir);
    return 0;
}

static void live_loop(session *s)
{
    s->t0_mono = pt_mono_ms();
    s->poll_due_mono = s->t0_mono + SL_POLL_US / LWS_US_PER_MS;
    lws_sul_schedule(s->cx, 0, &s->sul_poll, poll_cb, SL_POLL_US);
    if (s->o->heartbeat_s > 0)
        lws_sul_schedule(s->cx, 0, &s->sul_hb, hb_cb, (lws_usec_t)s->o->heartbeat_s * LWS_US_PER_SEC);
    while (!s->stopping)
        if (lws_service(s->cx, 0) < 0)
            break;
}

/* docs/session.md "Shutdown order": intake off, engine done, ledger synced,
 * report, dashboard closed with 1001 (the context goes in live_free).
 * Returns the exit code. */
static int live_shutdown(session *s)
{
    pt_info("session: stopping (%s)", s->stop_why ? s->stop_why : "loop ended");
    s->stopping = 1;
    feed_live_get_stats(s->feed, &s->fs_last);
    const feed_live_stats fs = s->fs_last;
    feed_live_free(s->feed); /* closes the exchange connection, joins the REST worker */
    s->feed = NULL;
    if (feed_perp_rec_sync(s->perp_rec))
        fail_output(s, PT_EIO, "mark/funding recording sync");
    sim_engine_finish(s->eng);
    int rc = sl_ledger_close(s, 0); /* flush + fdatasync trades.csv and portfolio.csv */
    if (rc)
        fail_output(s, rc, "ledger close");
    if (sl_state_close(s))
        fail_output(s, PT_EIO, "candle recording sync");
    heartbeat(s);
    sl_observe_stop(s); /* ops: "stop" notification + final health report */
    if (ops_signal_stop_count() < 2) { /* a second signal: exit now, the ledger is synced */
        cJSON *rep = report_json(s, &fs);
        if (session_write_json(s->outdir, "report.json", rep))
            fail_output(s, PT_EIO, "report");
        cJSON_Delete(rep);
        sl_observe_end(s); /* the dashboard: "session ended", then the 1001 close */
    }
    int code = s->io_err ? PT_EXIT_FAILURE : PT_EXIT_OK;
    if (!s->closed && !s->replayed && !s->io_err) { /* no data at all: a failure, and why */
        const char *why = fs.last_error[0] ? fs.last_error : "the exchange sent no closed candle";
        fprintf(stderr, "papertrader %s: session ended with 0 candles: feed %s (%s)\n", s->cfg->mode,
                feed_sym_status_name(s->sym[0].status), why);
        pt_err_log("session: ended with 0 candles: feed %s (%s)", feed_sym_status_name(s->sym[0].status), why);
        code = PT_EXIT_FAILURE;
    }
    if (code == PT_EXIT_OK)
        sl_restart_healthy(s);
    if (!s->io_err)
        printf("session ended (%s): %llu candles, %llu fills, output %s\n", s->stop_why ? s->stop_why : "",
               (unsigned long long)s->closed, (unsigned long long)pf_fill_count(sim_engine_portfolio(s->eng)),
               s->outdir);
    fflush(stdout);
    return code;
}

static void live_free(session *s)
{
    cJSON_Delete(s->ses);
    if (s->cx) {
        lws_sul_cancel(&s->sul_poll);
        lws_sul_cancel(&s->sul_hb);
    }
    feed_live_free(s->feed);
    feed_perp_rec_free(s->perp_rec);
    feed_xsim_free(s->xsim);
    if (s->cx)
        lws_context_destroy(s->cx);
    sl_ledger_close(s, 0);
    sl_state_close(s);
    session_unlock(s->lock_fd); /* last: the folder is ours until everything is closed */
    sim_engine_free(s->eng);
    pf_metrics_free(s->m);
    sl_observe_free(s); /* after the context (lws calls into wss while destroying); ops flushes
                           the notifier (bounded) while the log is still open */
    if (s->logs_open)
        ops_log_close();
    free(s);
}

int session_live_run(const session_live_config *cfg)
{
    const session_opts *o = cfg->o;
    if (o->n_symbols < 1) {
        fprintf(stderr, "papertrader %s: give --symbols A,B (or [feed] symbols)\n", cfg->mode);
        return PT_EXIT_USAGE;
    }
    for (int i = 0; i < o->n_symbols; i++)
        if (strchr(o->symbols[i], '/') || o->symbols[i][0] == '.') {
            fprintf(stderr, "papertrader %s: symbol '%s' cannot name a file\n", cfg->mode, o->symbols[i]);
            return PT_EXIT_USAGE;
        }
    session *s = live_new(cfg);
    if (!s)
        return PT_EXIT_FAILURE;
    int code = live_prepare(s);
    if (!code)
        code = live_connect(s);
    if (!code) {
        live_loop(s);
        code = live_shutdown(s);
    }
    live_free(s);
    return code;
}
