/* Dashboard glue of the live session: the wss callbacks (health,
 * metrics_refresh, snapshot, control), the bounded rings behind the
 * snapshot, and the events published from engine hooks and feed callbacks.
 * Event shapes: docs/protocol.md. Loop thread only. */
#include "session.h"
#include "ops.h"
#include "session_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define SL_CLOSE_GRACE_MS 400 /* loop time for the 1001 close frames to leave */

/* Publishes obj (consumed). Nothing is published while no server runs. */
static void publish(session *s, wss_kind kind, const char *key, cJSON *obj)
{
    if (s->wss && obj) {
        char *t = cJSON_PrintUnformatted(obj);
        if (t)
            wss_publish(s->wss, kind, key, t, strlen(t));
        free(t);
    }
    cJSON_Delete(obj);
}

static cJSON *bar_json(const session *s, const pt_candle *c, int partial)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "symbol", c->symbol);
    char iv[16] = "";
    pt_interval_format(s->o->interval_ms, iv, sizeof iv);
    cJSON_AddStringToObject(o, "interval", iv);
    sl_json_num(o, "t", (double)c->ts_ms);
    sl_json_num(o, "o", c->open);
    sl_json_num(o, "h", c->high);
    sl_json_num(o, "l", c->low);
    sl_json_num(o, "c", c->close);
    sl_json_num(o, "v", c->volume);
    cJSON_AddBoolToObject(o, "closed", !partial);
    if (partial)
        cJSON_AddTrueToObject(o, "partial");
    return o;
}

static void add_ind(const session *s, cJSON *bar, const double *v, int n)
{
    const sim_strategy_ops *st = s->o->eng.strategy;
    cJSON *ind = cJSON_AddObjectToObject(bar, "ind");
    for (int i = 0; i < n && i < st->n_indicators; i++)
        sl_json_num(ind, st->indicator_names[i], v[i]);
}

static cJSON *quality_json(const sl_sym *y)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "symbol", y->name);
    sl_json_num(o, "score", y->quality < 0 ? 100 : y->quality);
    cJSON_AddStringToObject(o, "level", quality_level(y->quality < 0 ? 100 : y->quality));
    cJSON_AddArrayToObject(o, "issues");
    return o;
}

/* A bounded ring of notes: the slot to fill (the oldest once full). */
static sl_note *note_slot(sl_note *v, sl_ring *r, size_t cap)
{
    sl_note *n = &v[(r->head + r->count) % cap];
    if (r->count == cap)
        r->head = (r->head + 1) % cap;
    else
        r->count++;
    memset(n, 0, sizeof *n);
    n->ts = pt_wall_ms();
    return n;
}

static cJSON *note_json(const sl_note *n)
{
    cJSON *o = cJSON_CreateObject();
    if (*n->kind)
        cJSON_AddStringToObject(o, "kind", n->kind);
    if (*n->level)
        cJSON_AddStringToObject(o, "level", n->level);
    if (*n->symbol)
        cJSON_AddStringToObject(o, "symbol", n->symbol);
    cJSON_AddStringToObject(o, "msg", n->msg);
    if (n->t)
        sl_json_num(o, "t", (double)n->t);
    sl_json_num(o, "ts", (double)n->ts);
    return o;
}

/* What each quality issue means, in words, with the candle's values
 * (quality/quality.h QUALITY_ISSUE_MAP). */
static int issue_words(quality_issue i, const pt_candle *c, double prev, uint64_t missing, char *b, size_t n)
{
    switch (i) {
    case QI_GAP:
        return snprintf(b, n, "gap: %llu candle%s missing before this one", (unsigned long long)missing,
                        missing == 1 ? "" : "s");
    case QI_OUTLIER_RETURN:
        return snprintf(b, n, "unusual move: close %.10g after %.10g (%+.2f %%)", c->close, prev,
                        prev > 0 ? (c->close / prev - 1) * 100 : 0.0);
    case QI_OUTLIER_RANGE:
        return snprintf(b, n, "unusual range: high %.10g, low %.10g", c->high, c->low);
    case QI_OUTLIER_VOLUME: return snprintf(b, n, "unusual volume: %.10g", c->volume);
    case QI_SPIKE: return snprintf(b, n, "spike and revert: high %.10g, low %.10g, close %.10g", c->high, c->low, c->close);
    case QI_STALE: return snprintf(b, n, "stale: a long run of identical zero-volume candles");
    case QI_ZERO_VOLUME: return snprintf(b, n, "zero volume at close %.10g", c->close);
    case QI_FLAT: return snprintf(b, n, "flat candle: open = high = low = close = %.10g", c->close);
    case QI_DUPLICATE: return snprintf(b, n, "duplicate of the candle already seen");
    case QI_CONFLICT: return snprintf(b, n, "conflicts with the candle already seen for this time");
    case QI_OUT_OF_ORDER: return snprintf(b, n, "out of order: older than the last candle");
    case QI_MISALIGNED: return snprintf(b, n, "open time not on the interval grid");
    case QI_FUTURE: return snprintf(b, n, "open time in the future");
    case QI_NEGATIVE_VOLUME: return snprintf(b, n, "negative volume %.10g", c->volume);
    case QI_OHLC_INCONSISTENT:
        return snprintf(b, n, "inconsistent prices: open %.10g high %.10g low %.10g close %.10g", c->open,
                        c->high, c->low, c->close);
    default: return snprintf(b, n, "%s", quality_issue_name(i));
    }
}

static const quality_counts *engine_counts(const session *s, const char *sym)
{
    size_t n = sim_engine_symbol_count(s->eng);
    for (size_t i = 0; i < n; i++)
        if (!strcmp(sim_engine_symbol_at(s->eng, i), sym)) {
            const quality_checker *qc = sim_engine_quality_at(s->eng, i);
            return qc ? quality_get_counts(qc) : NULL;
        }
    return NULL;
}

/* The issues this candle added to the checker's counts, one event each,
 * kept for the snapshot and added to q's "issues". */
static void quality_events(session *s, sl_sym *y, const pt_candle *c, quality_verdict v, double prev, cJSON *q)
{
    const quality_counts *qc = engine_counts(s, y->name);
    if (!qc)
        return;
    cJSON *is = cJSON_GetObjectItem(q, "issues");
    uint64_t missing = qc->missing_bars - y->seen_missing;
    y->seen_missing = qc->missing_bars;
    for (int i = 0; i < QI__COUNT; i++) {
        if (qc->by_issue[i] == y->seen_issue[i])
            continue;
        y->seen_issue[i] = qc->by_issue[i];
        if (v == QUALITY_ACCEPT)
            continue;
        sl_note *n = note_slot(s->qlog, &s->ql, SL_QEVENTS);
        char w[160];
        issue_words((quality_issue)i, c, prev, missing, w, sizeof w);
        snprintf(n->kind, sizeof n->kind, "%s", quality_issue_name((quality_issue)i));
        snprintf(n->symbol, sizeof n->symbol, "%s", y->name);
        snprintf(n->msg, sizeof n->msg, "%s (candle %s)", w, v == QUALITY_REJECT ? "rejected" : "kept, flagged");
        n->t = c->ts_ms;
        cJSON_AddItemToArray(is, note_json(n));
    }
}

static void dash_candle(session *s, sl_sym *y, const pt_candle *c, quality_verdict v, double score,
                        const sim_signal *sig)
{
    if (!y)
        return;
    double prev = y->count ? y->ring[(y->head + y->count - 1) % SL_CANDLES].close : NAN;
    size_t slot = (y->head + y->count) % SL_CANDLES;
    if (y->count == SL_CANDLES)
        y->head = (y->head + 1) % SL_CANDLES;
    else
        y->count++;
    y->ring[slot] = *c;
    y->n_ind[slot] = sig ? sig->n_indicators : 0;
    if (sig)
        memcpy(y->ind[slot], sig->indicators, sizeof y->ind[slot]);
    y->by_verdict[v]++;
    double old = y->quality;
    y->quality = score;
    cJSON *q = quality_json(y);
    quality_events(s, y, c, v, prev, q);
    if (!s->wss) {
        cJSON_Delete(q);
        return;
    }
    cJSON *bar = bar_json(s, c, 0);
    if (bar && sig)
        add_ind(s, bar, sig->indicators, sig->n_indicators);
    publish(s, WSS_CANDLE, NULL, bar);
    if (old != score || v != QUALITY_ACCEPT)
        publish(s, WSS_QUALITY, y->name, q);
    else
        cJSON_Delete(q);
}

static void dash_partial(session *s, const pt_candle *c)
{
    if (s->wss)
        publish(s, WSS_CANDLE_PARTIAL, c->symbol, bar_json(s, c, 1));
}

static const char *status_word(sim_order_status st)
{
    switch (st) {
    case SIM_ORDER_NEW: return "new";
    case SIM_ORDER_PARTIAL: return "open";
    case SIM_ORDER_FILLED: return "filled";
    case SIM_ORDER_REJECTED: return "rejected";
    default: return "cancelled";
    }
}

static cJSON *order_json(const sl_order *od, const char *status)
{
    cJSON *o = cJSON_CreateObject();
    sl_json_num(o, "id", (double)od->id);
    cJSON_AddStringToObject(o, "symbol", od->symbol);
    cJSON_AddStringToObject(o, "side", od->side > 0 ? "buy" : "sell");
    cJSON_AddStringToObject(o, "type", od->type);
    sl_json_num(o, "qty", od->qty);
    cJSON_AddStringToObject(o, "status", status);
    sl_json_num(o, "t", (double)od->ts);
    return o;
}

static void dash_order(session *s, const sim_order_event *ev)
{
    sl_order od = {.id = ev->id, .ts = ev->ts_ms, .side = ev->side, .qty = ev->qty};
    snprintf(od.symbol, sizeof od.symbol, "%s", ev->symbol ? ev->symbol : "");
    snprintf(od.type, sizeof od.type, "%s", sim_order_type_name(ev->type));
    int i;
    for (i = 0; i < s->n_orders && s->orders[i].id != ev->id; i++)
        ;
    int open = ev->status == SIM_ORDER_NEW || ev->status == SIM_ORDER_PARTIAL;
    if (open && i == s->n_orders && s->n_orders < SL_ORDERS)
        s->orders[s->n_orders++] = od;
    else if (open && i < s->n_orders)
        s->orders[i] = od;
    else if (!open && i < s->n_orders)
        s->orders[i] = s->orders[--s->n_orders];
    publish(s, WSS_ORDER, NULL, order_json(&od, status_word(ev->status)));
}

static cJSON *trade_json(const sl_trade *t)
{
    cJSON *o = cJSON_CreateObject();
    sl_json_num(o, "id", (double)t->seq);
    sl_json_num(o, "order_id", (double)t->order_id);
    cJSON_AddStringToObject(o, "symbol", t->symbol);
    cJSON_AddStringToObject(o, "side", t->side == PF_BUY ? "buy" : "sell");
    sl_json_num(o, "qty", t->qty);
    sl_json_num(o, "price", t->price);
    sl_json_num(o, "fee", t->fee);
    sl_json_num(o, "pnl", t->pnl);
    sl_json_num(o, "t", (double)t->ts);
    cJSON_AddStringToObject(o, "reason", t->reason);
    return o;
}

static void dash_fill(session *s, const pf_fill *f, const pf_fill_result *r)
{
    sl_trade t = {.seq = r->seq, .order_id = f->order_id, .ts = f->ts_ms, .side = f->side, .qty = f->qty,
                  .price = f->price, .fee = f->fee, .pnl = r->realized_pnl};
    snprintf(t.symbol, sizeof t.symbol, "%s", f->symbol);
    snprintf(t.reason, sizeof t.reason, "%s", f->reason ? f->reason : "");
    s->trades[(s->tr_head + s->tr_count) % SL_TRADES] = t;
    if (s->tr_count == SL_TRADES)
        s->tr_head = (s->tr_head + 1) % SL_TRADES;
    else
        s->tr_count++;
    publish(s, WSS_TRADE, NULL, trade_json(&t));
}

static cJSON *positions_json(const session *s)
{
    const pf_portfolio *pf = sim_engine_portfolio(s->eng);
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < pf_symbol_count(pf); i++) {
        pf_position p;
        if (pf_position_at(pf, i, &p) || p.qty == 0)
            continue;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "symbol", p.symbol);
        sl_json_num(o, "qty", p.qty);
        sl_json_num(o, "avg_price", p.avg_price);
        sl_json_num(o, "last", p.last_price);
        sl_json_num(o, "upnl", p.qty * (p.last_price - p.avg_price));
        if (s->o->eng.perp.on) { /* docs/futures.md; margin ratio = maintenance / (margin + upnl) */
            double bal = pf_margin_of(pf, i) + p.qty * (p.last_price - p.avg_price);
            sl_json_num(o, "leverage", pf_leverage_of(pf, i));
            sl_json_num(o, "margin", pf_margin_of(pf, i));
            sl_json_num(o, "margin_ratio", bal > 0 ? pf_maintenance_margin(pf, i) / bal : 1);
            sl_json_num(o, "liquidation_price", pf_liquidation_price(pf, i));
        }
        cJSON_AddItemToArray(a, o);
    }
    return a;
}

static void dash_row(session *s, const pf_snapshot *row)
{
    /* bounded equity curve: keep every eq_every-th row; when full, halve */
    if (s->eq_skip++ % s->eq_every == 0) {
        if (s->eq_count == SL_EQUITY) {
            for (size_t i = 0; i < SL_EQUITY / 2; i++)
                s->equity[i] = s->equity[2 * i];
            s->eq_count = SL_EQUITY / 2;
            s->eq_every *= 2;
        }
        s->equity[s->eq_count++] = (sl_point){row->ts_ms, row->equity, row->drawdown};
    }
    if (!s->wss)
        return;
    cJSON *o = cJSON_CreateObject();
    sl_json_num(o, "t", (double)row->ts_ms);
    sl_json_num(o, "equity", row->equity);
    sl_json_num(o, "cash", row->cash);
    sl_json_num(o, "drawdown", row->drawdown);
    sl_json_num(o, "realized_pnl", row->realized_pnl);
    sl_json_num(o, "unrealized_pnl", row->unrealized_pnl);
    cJSON_AddBoolToObject(o, "paused", sim_engine_paused(s->eng));
    cJSON_AddItemToObject(o, "positions", positions_json(s));
    publish(s, WSS_PORTFOLIO, "portfolio", o);
}

/* Kept for the snapshot (the page lists alerts raised before it opened)
 * and published; extra (consumed) is added to the published object. */
static void alert_add(session *s, const char *level, const char *symbol, const char *msg, const char *key,
                      cJSON *extra)
{
    s->alerts++;
    sl_note *n = note_slot(s->alog, &s->al, SL_ALERTS);
    snprintf(n->level, sizeof n->level, "%s", level);
    snprintf(n->symbol, sizeof n->symbol, "%s", symbol ? symbol : "");
    snprintf(n->msg, sizeof n->msg, "%s", msg ? msg : "");
    if (!s->wss) {
        cJSON_Delete(extra);
        return;
    }
    cJSON *o = note_json(n);
    if (extra)
        cJSON_AddItemToObject(o, key, extra);
    publish(s, WSS_ALERT, NULL, o);
}

static void dash_alert(session *s, const char *level, const char *symbol, const char *msg, const sim_alert *a)
{
    (void)a;
    alert_add(s, level, symbol, msg, NULL, NULL);
}

/* The "session ended" alert, then the 1001 close frames (queued after it:
 * wss_close_all flushes first) and a bounded loop service so they leave. */
static void dash_end(session *s)
{
    if (!s->wss)
        return;
    const char *why = s->stop_why ? s->stop_why : "stopped";
    char msg[160];
    snprintf(msg, sizeof msg, "session ended (%s) after %llu candles", why, (unsigned long long)s->closed);
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "reason", why);
    sl_json_num(e, "candles", (double)s->closed);
    alert_add(s, "info", NULL, msg, "session_end", e);
    wss_close_all(s->wss, 1001);
    int64_t until = pt_mono_ms() + SL_CLOSE_GRACE_MS;
    while (pt_mono_ms() < until && ops_signal_stop_count() < 2)
        if (lws_service(s->cx, 0) < 0)
            break;
}

/* ------------------------------------------------------------ callbacks */
static int cb_health(void *ud, cJSON *obj)
{
    session *s = ud;
    feed_live_stats fs;
    sl_feed_stats(s, &fs);
    int64_t now = pt_mono_ms();
    const char *status = s->stopping ? "down" : fs.state == FEED_CONN_LIVE ? "ok" : "degraded";
    cJSON_AddStringToObject(obj, "status", status);
    cJSON_AddStringToObject(obj, "mode", s->cfg->mode);
    sl_json_num(obj, "session_uptime_s", (double)(now - s->t0_mono) / 1000.0);
    cJSON_AddStringToObject(obj, "feed_state", feed_conn_name(fs.state));
    cJSON *fe = cJSON_AddObjectToObject(obj, "feeds");
    for (int i = 0; i < s->n_sym; i++) {
        const sl_sym *y = &s->sym[i];
        cJSON *o = cJSON_AddObjectToObject(fe, y->name);
        cJSON_AddStringToObject(o, "state", feed_conn_name(fs.state));
        cJSON_AddStringToObject(o, "status", feed_sym_status_name(y->status)); /* docs/health.md */
        cJSON_AddStringToObject(o, "reason", y->status_why);
        if (y->last_candle_mono)
            sl_json_num(o, "last_candle_age_s", (double)(now - y->last_candle_mono) / 1000.0);
        else
            cJSON_AddNullToObject(o, "last_candle_age_s");
        if (y->quality < 0) /* no candle scored yet: unknown, not "excellent" */
            cJSON_AddNullToObject(o, "quality");
        else
            sl_json_num(o, "quality", y->quality);
        sl_json_num(o, "reconnects", (double)fs.reconnects);
        sl_json_num(o, "candles", (double)(y->by_verdict[0] + y->by_verdict[1] + y->by_verdict[2]));
    }
    cJSON_AddStringToObject(obj, "circuit_breaker", feed_breaker_name(fs.breaker));
    sl_json_num(obj, "errors", (double)(fs.backfill_failures + fs.rest_http_err + fs.rest_net_err + (s->io_err != 0)));
    sl_json_num(obj, "candles", (double)s->closed);
    sl_json_num(obj, "equity", s->eq_now);
    cJSON_AddBoolToObject(obj, "entries_paused", sim_engine_paused(s->eng));
    sl_json_num(obj, "controls_pending", sim_engine_controls_pending(s->eng));
    sl_observe_health(s, obj); /* ops: score, level, components, rest, process, recent_errors, notifier */
    return PT_OK;
}

static int cb_metrics(void *ud, wss_metrics *reg)
{
    session *s = ud;
    (void)reg;
    feed_live_stats fs;
    sl_feed_stats(s, &fs);
    const pf_portfolio *pf = sim_engine_portfolio(s->eng);
    for (int i = 0; i < s->n_sym; i++) {
        const sl_sym *y = &s->sym[i];
        for (int v = 0; v < 3; v++) {
            const char *lv[2] = {y->name, quality_verdict_name((quality_verdict)v)};
            wss_metric_set(s->m_candles, lv, (double)y->by_verdict[v]);
        }
        const char *l1[1] = {y->name};
        wss_metric_set(s->m_quality, l1, y->quality < 0 ? 100 : y->quality);
    }
    wss_metric_set(s->m_equity, NULL, pf_equity(pf));
    wss_metric_set(s->m_cash, NULL, pf_cash(pf));
    wss_metric_set(s->m_open, NULL, pf_open_positions(pf));
    wss_metric_set(s->m_trades, NULL, (double)pf_fill_count(pf));
    wss_metric_set(s->m_reconn, NULL, (double)fs.reconnects);
    wss_metric_set(s->m_backfills, NULL, (double)fs.backfills);
    wss_metric_set(s->m_rest, NULL, (double)(fs.rest_ok + fs.rest_http_err + fs.rest_net_err));
    wss_metric_set(s->m_ratew, NULL, (double)fs.rate_limit_waits);
    wss_metric_set(s->m_lag, NULL, (double)s->lag_ms / 1000.0);
    sl_observe_metrics(s);
    return PT_OK;
}

/* Quote currency of a symbol from its name: after the '-' or '/'
 * (Bitvavo BTC-EUR, UNITTEST-BTC), else a known quote suffix (BTCUSDT). */
static const char *const QUOTES[] = {"USDT", "USDC", "FDUSD", "BUSD", "TUSD", "EUR", "USD", "GBP", "TRY",
                                     "BRL", "BTC", "ETH", "BNB"};
static void quote_of(const char *sym, char *q, size_t n)
{
    const char *sep = strpbrk(sym, "-/");
    size_t len = strlen(sym);
    *q = 0;
    if (sep && sep[1]) {
        snprintf(q, n, "%s", sep + 1);
        return;
    }
    for (size_t i = 0; i < sizeof QUOTES / sizeof QUOTES[0]; i++) {
        size_t k = strlen(QUOTES[i]);
        if (len > k && !strcmp(sym + len - k, QUOTES[i])) {
            snprintf(q, n, "%s", QUOTES[i]);
            return;
        }
    }
}

static void notes_json(cJSON *d, const char *key, const sl_note *v, const sl_ring *r, size_t cap)
{
    cJSON *a = cJSON_AddArrayToObject(d, key);
    for (size_t k = 0; k < r->count; k++)
        cJSON_AddItemToArray(a, note_json(&v[(r->head + k) % cap]));
}

/* strategy and its indicator names, quote currencies, recent alerts and
 * quality events (oldest first) */
static void snapshot_extras(session *s, cJSON *d)
{
    const sim_strategy_ops *st = s->o->eng.strategy;
    cJSON *so = cJSON_AddObjectToObject(d, "strategy");
    cJSON_AddStringToObject(so, "name", st->name);
    cJSON *in = cJSON_AddObjectToObject(d, "indicators"), *names = cJSON_AddArrayToObject(in, "names");
    for (int i = 0; i < st->n_indicators; i++)
        cJSON_AddItemToArray(names, cJSON_CreateString(st->indicator_names[i]));
    cJSON *mk = cJSON_AddObjectToObject(d, "markets");
    for (int i = 0; i < s->n_sym; i++) {
        char q[PT_SYMBOL_MAX];
        quote_of(s->sym[i].name, q, sizeof q);
        cJSON *m = cJSON_AddObjectToObject(mk, s->sym[i].name);
        if (*q)
            cJSON_AddStringToObject(m, "quote", q);
        const pf_rules *r = pf_rules_find(sim_engine_rules(s->eng), s->sym[i].name);
        if (r) /* the page formats with the exchange's tick and lot step (docs/rules.md) */
            pf_rules_add_json(r, m);
    }
    notes_json(d, "alerts", s->alog, &s->al, SL_ALERTS);
    notes_json(d, "quality_events", s->qlog, &s->ql, SL_QEVENTS);
}

static int cb_snapshot(void *ud, cJSON *d)
{
    session *s = ud;
    char iv[16] = "";
    pt_interval_format(s->o->interval_ms, iv, sizeof iv);
    cJSON *sy = cJSON_AddArrayToObject(d, "symbols");
    cJSON_AddStringToObject(d, "interval", iv);
    cJSON *cs = cJSON_AddObjectToObject(d, "candles"), *pa = cJSON_AddObjectToObject(d, "partial");
    cJSON *qu = cJSON_AddObjectToObject(d, "quality");
    for (int i = 0; i < s->n_sym; i++) {
        const sl_sym *y = &s->sym[i];
        cJSON_AddItemToArray(sy, cJSON_CreateString(y->name));
        cJSON *a = cJSON_AddArrayToObject(cs, y->name);
        for (size_t k = 0; k < y->count; k++) {
            size_t at = (y->head + k) % SL_CANDLES;
            cJSON *b = bar_json(s, &y->ring[at], 0);
            add_ind(s, b, y->ind[at], y->n_ind[at]);
            cJSON_AddItemToArray(a, b);
        }
        if (y->has_partial)
            cJSON_AddItemToObject(pa, y->name, bar_json(s, &y->partial, 1));
        cJSON_AddItemToObject(qu, y->name, quality_json(y));
    }
    cJSON_AddItemToObject(d, "positions", positions_json(s));
    cJSON *od = cJSON_AddArrayToObject(d, "orders");
    for (int i = 0; i < s->n_orders; i++)
        cJSON_AddItemToArray(od, order_json(&s->orders[i], "open"));
    cJSON *tr = cJSON_AddArrayToObject(d, "trades");
    for (size_t k = 0; k < s->tr_count; k++)
        cJSON_AddItemToArray(tr, trade_json(&s->trades[(s->tr_head + k) % SL_TRADES]));
    cJSON *eq = cJSON_AddArrayToObject(d, "equity");
    for (size_t k = 0; k < s->eq_count; k++) {
        cJSON *p = cJSON_CreateObject();
        sl_json_num(p, "t", (double)s->equity[k].t);
        sl_json_num(p, "equity", s->equity[k].equity);
        sl_json_num(p, "drawdown", s->equity[k].drawdown);
        cJSON_AddItemToArray(eq, p);
    }
    cJSON *pf = cJSON_AddObjectToObject(d, "portfolio");
    sl_json_num(pf, "equity", pf_equity(sim_engine_portfolio(s->eng)));
    sl_json_num(pf, "cash", pf_cash(sim_engine_portfolio(s->eng)));
    cJSON_AddBoolToObject(d, "paused", sim_engine_paused(s->eng));
    sl_json_num(d, "controls_pending", sim_engine_controls_pending(s->eng));
    snapshot_extras(s, d);
    return PT_OK;
}

/* ------------------------------------------------------------ control
 * Operator controls (docs/protocol.md "Control"). The engine queues each at
 * the candle boundary it was decided at (sim.h "operator controls");
 * DIR/controls.csv records that boundary so the session's manual fills can
 * be explained and replayed (sim/README.md "Operator controls"). */


/* One row per accepted control. Controls are rare: open, append, fdatasync,
 * close each time (no state kept in the session). */
static int record_control(session *s, sim_control_action a, const char *sym, int64_t b)
{
    char path[sizeof s->outdir + 16], line[192], ts[24] = "", when[32] = "";
    snprintf(path, sizeof path, "%s/controls.csv", s->outdir);
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644), rc = PT_OK;
    if (fd < 0) {
        pt_err_log("session: %s: %s", path, strerror(errno));
        return PT_EIO;
    }
    if (b != INT64_MIN) { /* empty: before the first candle */
        snprintf(ts, sizeof ts, "%lld", (long long)b);
        pt_format_iso_ms(b, when, sizeof when);
    }
    off_t end = lseek(fd, 0, SEEK_END);
    int n = snprintf(line, sizeof line, "%s%s,%s,%s,%s\n",
                     end == 0 ? "boundary_ts,boundary_time,action,symbol\n" : "", ts, when,
                     sim_control_name(a), sym ? sym : "");
    if (n <= 0 || n >= (int)sizeof line || pt_write_all(fd, line, (size_t)n))
        rc = errno == ENOSPC ? PT_ENOSPC : PT_EIO;
    if (rc == PT_OK && fdatasync(fd))
        rc = PT_EIO;
    if (rc)
        pt_err_log("session: %s: write failed: %s", path, strerror(errno));
    close(fd);
    return rc;
}

#define DASH_STR_(x) #x
#define DASH_STR(x) DASH_STR_(x) /* a cap in a refusal text */

/* Only an authenticated client gets here (wss checks the token). */
static int cb_control(void *ud, const char *cmd, const cJSON *msg, const char **why)
{
    session *s = ud;
    sim_control_action a;
    const char *sym = NULL;
    if (sim_control_parse(cmd, &a)) {
        *why = "unknown cmd: want pause, resume, close_position or flatten";
        return PT_EINVAL;
    }
    if (s->stopping || s->io_err) {
        *why = "the session is stopping";
        return PT_ESTATE;
    }
    if (a == SIM_CTL_CLOSE) {
        const cJSON *j = cJSON_GetObjectItemCaseSensitive(msg, "symbol");
        if (!cJSON_IsString(j) || !*j->valuestring) {
            *why = "close_position needs a \"symbol\"";
            return PT_EINVAL;
        }
        sym = j->valuestring;
    }
    if (s->n_controls >= SESSION_CONTROLS_MAX) { /* the replay reads no more */
        *why = "controls.csv is full (at most " DASH_STR(SESSION_CONTROLS_MAX) " controls per session)";
        return PT_EFULL;
    }
    int64_t b;
    int rc = sim_engine_control(s->eng, a, sym, &b, why);
    if (rc)
        return rc;
    s->n_controls++;
    /* The control is queued: without its record a replay cannot explain the
     * fills, so a failed record stops the session like any output error. */
    if ((rc = record_control(s, a, sym, b))) {
        if (!s->io_err)
            s->io_err = rc;
        pt_err_log("session: controls.csv write failed (%s); stopping the session", pt_strerror(rc));
    }
    if (sl_time_complete(s, b))
        sim_engine_flush_row(s->eng); /* applies the queued control now */
    char when[48] = "before the first candle", text[192];
    if (b != INT64_MIN) {
        memcpy(when, "after the candle at ", 21);
        pt_format_iso_ms(b, when + 20, sizeof when - 20);
    }
    int pending = sim_engine_controls_pending(s->eng);
    snprintf(text, sizeof text, "control %s%s%s accepted: %s %s", cmd, sym ? " " : "", sym ? sym : "",
             pending ? "applies" : "applied", when);
    pt_info("%s", text);
    cJSON *c = cJSON_CreateObject(); /* the result every dashboard sees, and the new state */
    cJSON_AddStringToObject(c, "cmd", cmd);
    sl_json_num(c, "boundary", b == INT64_MIN ? NAN : (double)b);
    cJSON_AddBoolToObject(c, "paused", sim_engine_paused(s->eng));
    sl_json_num(c, "pending", pending);
    alert_add(s, "info", sym, text, "control", c);
    return PT_OK;
}

/* --port 0: ask the kernel for a free loopback port (wss treats 0 as 8765). */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t n = sizeof a;
    if (fd >= 0 && !bind(fd, (struct sockaddr *)&a, sizeof a) && !getsockname(fd, (struct sockaddr *)&a, &n))
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

/* The access token: [server] token (or PAPERTRADER_SERVER_TOKEN) if set,
 * else the first line of [server] token_file / --token-file, which must not
 * be readable by group or others (docs/config.md "Secrets"). */
static int dash_token(const session_opts *o, char *tok, size_t cap)
{
    const char *file = ops_config_get(o->cfg, "server", "token_file");
    if (o->token && *o->token) {
        snprintf(tok, cap, "%s", o->token);
        return PT_OK;
    }
    if (!file || !*file)
        return PT_OK;
    int rc = ops_config_read_secret_file(file, tok, cap); /* logs why */
    if (rc) {
        const char *why = rc == PT_EINVAL ? "readable by others (group or world): chmod 600 it"
                          : rc == PT_ENOENT ? "no such file" : "cannot read it";
        fprintf(stderr, "papertrader %s: --token-file %s: %s (the token file must hold the token on its first "
                        "line and have mode 0600)\n", o->cmd, file, why);
        return PT_EINVAL;
    }
    if (!*tok) {
        fprintf(stderr, "papertrader %s: --token-file %s: the first line is empty\n", o->cmd, file);
        return PT_EINVAL;
    }
    return PT_OK;
}

static int dash_start(session *s)
{
    const session_opts *o = s->o;
    if (o->port < 0)
        return PT_OK;
    char tok[256] = "";
    int rc = dash_token(o, tok, sizeof tok);
    if (rc)
        return rc;
    const char *web = ops_config_get(o->cfg, "server", "web_dir");
    wss_config wc = {.host = o->host, .port = o->port, .token = *tok ? tok : NULL, .web_dir = web && *web ? web : NULL};
    /* [server] allowed_origins = a,b (docs/config.md): copied by wss_new */
    char obuf[1024] = "";
    const char *origins[16];
    const char *ol = ops_config_get(o->cfg, "server", "allowed_origins");
    snprintf(obuf, sizeof obuf, "%s", ol ? ol : "");
    for (char *save = NULL, *t = strtok_r(obuf, ", ", &save); t && wc.n_origins < 16; t = strtok_r(NULL, ", ", &save))
        origins[wc.n_origins++] = t;
    wc.origins = origins;
    wc.max_clients = (int)ops_config_get_num(o->cfg, "server", "max_clients", 0);
    const wss_callbacks cb = {cb_health, cb_metrics, cb_snapshot, cb_control};
    rc = PT_EIO;
    for (int attempt = 0; attempt < 5 && rc; attempt++) { /* a free port can be taken meanwhile */
        if (!o->port && (wc.port = free_port()) <= 0)
            break;
        rc = wss_new(s->cx, &wc, &cb, s, &s->wss); /* copies the token */
        if (o->port)
            break;
    }
    explicit_bzero(tok, sizeof tok);
    if (rc)
        return rc;
    wss_metrics *r = wss_metrics_registry(s->wss);
    s->m_candles = wss_metrics_counter(r, "papertrader_candles_total", "Closed candles by quality verdict.", "symbol,verdict");
    s->m_quality = wss_metrics_gauge(r, "papertrader_quality_score", "Data-quality score 0-100.", "symbol");
    s->m_equity = wss_metrics_gauge(r, "papertrader_equity", "Portfolio equity (quote).", NULL);
    s->m_cash = wss_metrics_gauge(r, "papertrader_cash", "Cash (quote).", NULL);
    s->m_open = wss_metrics_gauge(r, "papertrader_open_positions", "Open positions.", NULL);
    s->m_trades = wss_metrics_counter(r, "papertrader_fills_total", "Fills booked.", NULL);
    s->m_reconn = wss_metrics_counter(r, "papertrader_feed_reconnects_total", "Exchange reconnects.", NULL);
    s->m_backfills = wss_metrics_counter(r, "papertrader_feed_backfills_total", "REST gap fills.", NULL);
    s->m_rest = wss_metrics_counter(r, "papertrader_rest_calls_total", "REST requests.", NULL);
    s->m_ratew = wss_metrics_counter(r, "papertrader_rest_rate_limit_waits_total", "Waits for a rate limit.", NULL);
    s->m_lag = wss_metrics_gauge(r, "papertrader_event_loop_lag_seconds", "Lateness of the 150 ms poll timer.", NULL);
    if (!s->m_candles || !s->m_quality || !s->m_equity || !s->m_cash || !s->m_open || !s->m_trades ||
        !s->m_reconn || !s->m_backfills || !s->m_rest || !s->m_ratew || !s->m_lag)
        return PT_ENOMEM;
    return sl_observe_metrics_init(s, r); /* ops: the health families of docs/health.md */
}

static void dash_free(session *s)
{
    wss_free(s->wss); /* after lws_context_destroy: lws calls into it while destroying */
    s->wss = NULL;
}

/* .replay: the resume replay rebuilds the rings, trades and equity curve
 * the page shows (nothing is published: the server is not up yet). */
const session_observer sl_dash_observer = {
    .name = "dashboard",
    .replay = 1,
    .serve = dash_start,
    .on_candle = dash_candle,
    .on_partial = dash_partial,
    .on_order = dash_order,
    .on_fill = dash_fill,
    .on_row = dash_row,
    .on_alert = dash_alert,
    .end = dash_end,
    .free = dash_free,
};
