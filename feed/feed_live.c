/* feed: the exchange WebSocket client on a shared lws_context. One thread
 * (the lws loop) owns everything here; the REST worker only hands results
 * back through feed_rest_worker + lws_cancel_service (the one thread-safe
 * lws call, per its documentation).
 *
 * Failure handling, as libwebsockets 4.1.6 behaves:
 * reconnect on CONNECTION_ERROR, CLIENT_CLOSED and CLOSED_CLIENT_HTTP (a
 * handshake that never completes arrives as the last one);
 * lws validity pings via retry_and_idle_policy; our own size cap
 * with close 1009 (lws has none); http_proxy unset; the vhost gets
 * DO_SSL_GLOBAL_INIT too. Backoff is our
 * full-jitter one (feed_backoff.c), reset only after healthy_ms of data. */
#include "feed_live_internal.h"

#include <libwebsockets.h>
#include <stdlib.h>
#include <string.h>

struct feed_live {
    struct lws_context *cx;
    struct lws_vhost *vh;
    const feed_adapter *ad;
    feed_live_config cfg;
    feed_live_callbacks cb;
    feed_perp_callbacks pcb;
    void *ud;
    char url_buf[1280];     /* lws_parse_uri cuts this one up (a token URL too) */
    const char *host;
    int port, ssl;
    char path[4096];
    char sub[4096];
    size_t sub_len, sub_off; /* sub_off: the next message to send */
    int sub_pending;
    int ping_pending;       /* the adapter's keepalive text goes out from the next WRITEABLE */
    int64_t last_ping_ms;   /* mono */
    int64_t ping_every_ms;  /* the adapter's, or what its connect token says */
    int token_pending, token_ready; /* token venues: a token job is queued / the URL is fresh */
    uint64_t token_seq;     /* connectId of the next token */
    feed_series *ser;
    feed_perp_series *perp; /* perpetual venues: one per series, same order */
    size_t n_ser;
    struct lws *wsi;
    lws_sorted_usec_list_t sul_connect, sul_tick;
    int connect_scheduled, closing, planned_close;
    feed_conn_state state;
    int attempt;
    uint64_t rng;
    int64_t connected_ms, last_msg_ms; /* mono */
    int64_t not_live_since;   /* mono ms the stream left live (or started); 0 while live */
    int64_t exch_now_ms; /* latest exchange time seen (event time or bar time); 0 = none */
    int64_t exch_seen_mono; /* when it was seen */
    char *rx;
    size_t rx_n, rx_cap;
    int rx_skip;            /* rest of an oversized/binary message is ignored */
    uint16_t close_status;  /* nonzero: close with it from the next WRITEABLE */
    uint32_t utf8;          /* pt_utf8_check state across the message's fragments */
    feed_rest_worker *rest;
    int inflight;
    int resume_pending;     /* start_after_ts given: the first backfill waits for the exchange's clock */
    lws_retry_bo_t retry;
    feed_live_stats st;
};

static const char *const conn_names[] = {"idle", "connecting", "backfilling", "live", "stale", "waiting"};
const char *feed_conn_name(feed_conn_state s)
{
    return (unsigned)s < sizeof conn_names / sizeof conn_names[0] ? conn_names[s] : "unknown";
}

static void set_state(feed_live *f, feed_conn_state s, const char *why)
{
    if (f->state == s)
        return;
    f->state = s;
    if (s == FEED_CONN_LIVE || s == FEED_CONN_BACKFILLING)
        f->not_live_since = 0;
    else if (!f->not_live_since)
        f->not_live_since = pt_mono_ms();
    /* live <-> backfilling flips once per data gap: a replay of a gappy file
     * would flood the log; the first 20 are logged, then every 100th
     * (counted in backfills/gaps either way) */
    int flip = s == FEED_CONN_BACKFILLING || (s == FEED_CONN_LIVE && !strcmp(why, "backfill done"));
    if (!flip || f->st.backfills <= 20 || f->st.backfills % 100 == 0)
        pt_info("feed: %s %s (%s)", f->ad->name, feed_conn_name(s), why);
    if (f->cb.on_state)
        f->cb.on_state(f->ud, s, why);
}

static void do_connect(lws_sorted_usec_list_t *sul);

/* No-closed-flag venues: the bar in progress is final only if its last push
 * was seen. After a lost message (a drop, a lost connection) that is
 * unknown, so the bar is forgotten: a later push of it starts it again
 * (pushes carry the whole state), else the gap check of the next close
 * fetches it by REST. */
static void forget_open_bars(feed_live *f)
{
    for (size_t i = 0; !f->ad->has_closed_flag && i < f->n_ser; i++)
        f->ser[i].has_open_bar = 0;
}

/* queue the subscription: its '\0'-separated messages go one per WRITEABLE */
static void start_subscribe(feed_live *f, struct lws *wsi)
{
    if (!f->sub_len || !wsi)
        return;
    f->sub_pending = 1, f->sub_off = 0;
    lws_callback_on_writable(wsi);
}

static void schedule_retry(feed_live *f, const char *why)
{
    forget_open_bars(f);
    f->wsi = NULL;
    f->token_ready = 0; /* a token venue asks for a fresh token before the next connect */
    if (f->closing || f->connect_scheduled)
        return;
    snprintf(f->st.last_error, sizeof f->st.last_error, "%s", why);
    int64_t d;
    if (f->planned_close) {
        d = 0; /* serverShutdown / 24 h rotation is routine, not a failure (F2) */
        f->planned_close = 0;
    } else {
        d = feed_backoff_delay(f->cfg.backoff_base_ms, f->cfg.backoff_cap_ms, f->attempt, feed_rng_next(&f->rng));
        if (f->attempt < 1000)
            f->attempt++;
    }
    /* log the first few, then every 10th: a dead exchange must not flood the log */
    if (f->attempt <= 5 || f->attempt % 10 == 0)
        pt_warn("feed: %s %s; reconnect attempt %d in %lld ms", f->ad->name, why, f->attempt, (long long)d);
    f->connect_scheduled = 1;
    set_state(f, FEED_CONN_WAITING, why);
    lws_sul_schedule(f->cx, 0, &f->sul_connect, do_connect, d * LWS_US_PER_MS);
}

/* Token venues (KuCoin): the token comes from the REST worker thread, so
 * the loop never blocks on it; drain_rest connects when it is there. */
static void request_token(feed_live *f)
{
    char id[32];
    if (f->token_pending)
        return;
    snprintf(id, sizeof id, "pt%llu", (unsigned long long)++f->token_seq);
    set_state(f, FEED_CONN_CONNECTING, "connect token");
    if (!f->rest || feed_rest_worker_submit_token(f->rest, id)) {
        schedule_retry(f, "REST queue full: no connect token");
        return;
    }
    f->token_pending = 1;
}

static void do_connect(lws_sorted_usec_list_t *sul)
{
    feed_live *f = lws_container_of(sul, feed_live, sul_connect);
    f->connect_scheduled = 0;
    if (f->closing || f->wsi)
        return;
    if (f->ad->token_path && !f->token_ready) {
        request_token(f);
        return;
    }
    struct lws_client_connect_info i;
    memset(&i, 0, sizeof i);
    i.context = f->cx;
    i.vhost = f->vh;
    i.address = f->host;
    i.host = f->host;
    i.origin = f->host;
    i.port = f->port;
    i.path = f->path;
    i.ssl_connection = f->ssl ? LCCSCF_USE_SSL : 0;
    i.local_protocol_name = "pt-feed";
    i.retry_and_idle_policy = &f->retry;
    i.opaque_user_data = f;
    i.pwsi = &f->wsi;
    set_state(f, FEED_CONN_CONNECTING, "connecting");
    if (!lws_client_connect_via_info(&i)) { /* lws resolves the name right here */
        char why[160];
        snprintf(why, sizeof why, "DNS lookup or connect failed for %s:%d", f->host, f->port);
        schedule_retry(f, why);
    }
}

static void emit(void *ud, const pt_candle *c)
{
    feed_live *f = ud;
    pt_candle out = *c;
    out.line = f->st.msgs;
    if (f->cb.on_candle)
        f->cb.on_candle(f->ud, &out);
}

static feed_series *series_of(feed_live *f, const char *sym)
{
    for (size_t i = 0; i < f->n_ser; i++)
        if (!strcmp(f->ser[i].symbol, sym))
            return &f->ser[i];
    return NULL;
}

/* to == 0 means "up to now" on the EXCHANGE's clock: the open of the bar in
 * progress at the latest event seen, so REST never hands over that bar as
 * final, however far the feed's time is from our wall clock (a simulator at
 * --speed 600, a replay of last year). Before any event: the wall clock. */
static void start_backfill(feed_live *f, feed_series *s, int64_t from, int64_t to)
{
    if (to == 0 && f->exch_now_ms > 0)
        to = f->exch_now_ms - f->exch_now_ms % s->interval_ms;
    feed_series_begin_backfill(s);
    f->st.backfills++;
    int rest = f->rest && f->cfg.backfill; /* a token venue has a worker without backfill */
    if (!rest || feed_rest_worker_submit(f->rest, s->symbol, s->interval_ms, from, to)) {
        if (rest)
            pt_warn("feed: %s backfill queue full; gap left open", s->symbol);
        f->st.backfill_failures += rest;
        feed_series_end_backfill(s, NULL, 0, 0, 0, emit, f);
        return;
    }
    f->inflight++;
    set_state(f, FEED_CONN_BACKFILLING, "backfill");
}

static int parse_token_url(feed_live *f, const char *url);

static void on_token(feed_live *f, const feed_rest_result *r)
{
    f->token_pending = 0;
    if (f->closing || f->wsi || f->connect_scheduled)
        return;
    if (r->rc || parse_token_url(f, r->url)) {
        /* the venue's own words ({"code","msg"}) when it refused */
        char why[sizeof f->st.last_error];
        snprintf(why, sizeof why, "%s connect token: %.100s", f->ad->name,
                 r->err[0] ? r->err : pt_strerror(r->rc ? r->rc : PT_EINVAL));
        schedule_retry(f, why); /* logs it (the first few, then every 10th) */
        return;
    }
    f->token_ready = 1;
    f->ping_every_ms = r->ping_ms > 0 ? r->ping_ms : f->ad->ping_every_ms;
    f->connect_scheduled = 1;
    lws_sul_schedule(f->cx, 0, &f->sul_connect, do_connect, 1);
}

static void drain_rest(feed_live *f)
{
    feed_rest_result r;
    while (f->rest && feed_rest_worker_poll(f->rest, &r) == PT_OK) {
        if (r.token) {
            on_token(f, &r);
            continue;
        }
        feed_series *s = series_of(f, r.symbol);
        f->inflight--;
        f->st.backfilled_candles += r.n;
        if (r.rc)
            f->st.backfill_failures++;
        if (s) {
            int refetch = s->overflowed;
            /* rows fetched before a failure are still closed and valid */
            if (feed_series_end_backfill(s, r.rows, r.n, 1, r.rc ? 0 : r.end_ms, emit, f)) {
                f->st.gaps++;
                start_backfill(f, s, s->gap_from, s->gap_to);
            } else if (refetch && s->last_ts != INT64_MIN)
                start_backfill(f, s, s->last_ts + s->interval_ms, 0);
        }
        free(r.rows);
    }
    if (f->inflight == 0 && f->state == FEED_CONN_BACKFILLING)
        set_state(f, f->wsi ? FEED_CONN_LIVE : FEED_CONN_WAITING, "backfill done");
}

static void on_closed_candle(feed_live *f, feed_series *s, const pt_candle *c)
{
    feed_offer o = feed_series_offer(s, c, emit, f);
    if (o == FEED_OFFER_OVERFLOW)
        f->st.buffer_overflows++;
    else if (o == FEED_OFFER_GAP) {
        f->st.gaps++;
        if (f->st.gaps <= 20 || f->st.gaps % 100 == 0) /* counted either way */
            pt_warn("feed: %s gap of %lld bars before message %llu; backfilling (gap %llu)", s->symbol,
                    (long long)((s->gap_to - s->gap_from) / s->interval_ms), (unsigned long long)f->st.msgs,
                    (unsigned long long)f->st.gaps);
        s->backfilling = 0; /* start_backfill sets it again */
        start_backfill(f, s, s->gap_from, s->gap_to);
    }
}

/* A resumed feed (start_after_ts): the bars after the last consumed one, up
 * to the exchange's bar in progress, fetched once the first message tells
 * the exchange's time: right also for a simulator far from our wall clock.
 * A series whose first bar already opened a gap backfill is covered by it. */
static void resume_backfill(feed_live *f)
{
    f->resume_pending = 0;
    for (size_t i = 0; f->cfg.backfill && i < f->n_ser; i++) {
        feed_series *s = &f->ser[i];
        int64_t to = f->exch_now_ms - f->exch_now_ms % s->interval_ms;
        if (s->last_ts != INT64_MIN && !s->backfilling && s->last_ts + s->interval_ms < to)
            start_backfill(f, s, s->last_ts + s->interval_ms, to);
    }
}

/* Warm-up: at the first candle message each fresh series starts
 * warmup_candles bars before the bar in progress by the message's own bar
 * times (an event time may run ahead of the bars: a replaying peer); the
 * resume backfill (or a gap backfill its first closed bar opens) fetches
 * them. */
static void warmup_start(feed_live *f, const feed_parse_out *po)
{
    int64_t iv = f->cfg.interval_ms, to = INT64_MAX;
    for (size_t k = 0; k < po->n; k++) {
        int64_t open = po->candles[k].closed ? po->candles[k].ts_ms + iv : po->candles[k].ts_ms;
        if (open < to)
            to = open;
    }
    to -= to % iv;
    f->st.warmup_until_ms = to;
    for (size_t i = 0; i < f->n_ser; i++)
        if (f->ser[i].last_ts == INT64_MIN)
            f->ser[i].last_ts = f->ser[i].st.last_closed_ts = to - (int64_t)(f->cfg.warmup_candles + 1) * iv;
    pt_info("feed: warm-up: %d bars before %lld per symbol", f->cfg.warmup_candles, (long long)to);
}

/* A mark update (perpetual venues): order, mark bar, funding event, all by
 * the exchange's clock (feed_perp.c), then the callbacks. */
static void on_mark(feed_live *f, const feed_mark *m, int64_t now)
{
    feed_series *s = series_of(f, m->symbol);
    if (!s || !f->perp) {
        f->st.dropped[FEED_DROP_WRONG_SYMBOL]++;
        return;
    }
    feed_perp_series *p = &f->perp[s - f->ser];
    if (m->event_ms > f->exch_now_ms)
        f->exch_now_ms = m->event_ms, f->exch_seen_mono = now;
    f->last_msg_ms = now; /* data: feeds the watchdog */
    feed_perp_step st;
    feed_perp_offer(p, m, &st);
    if (!st.mark_ok)
        return;
    f->st.marks++;
    if (f->pcb.on_mark)
        f->pcb.on_mark(f->ud, m);
    if (st.bar_closed) {
        f->st.mark_bars++;
        if (f->pcb.on_mark_bar)
            f->pcb.on_mark_bar(f->ud, &st.bar);
    }
    if (st.gap) {
        f->st.funding_gaps += (uint64_t)st.gap;
        pt_warn("feed: %s: %d funding time(s) before %lld passed while the mark stream was away; their rates are "
                "in `papertrader fetch --funding`", m->symbol, st.gap, (long long)m->next_funding_ms);
    }
    if (st.funding) {
        f->st.fundings++;
        pt_info("feed: %s funding at %lld: rate %.8g, mark %.8g", st.fund.symbol, (long long)st.fund.ts_ms,
                st.fund.rate, st.fund.mark_price);
        if (f->pcb.on_funding)
            f->pcb.on_funding(f->ud, &st.fund);
    }
}

static void on_message(feed_live *f, const char *msg, size_t len)
{
    feed_parse_out po;
    f->st.msgs++;
    f->st.bytes += len;
    f->ad->parse(msg, len, f->cfg.interval_ms, &po);
    int64_t now = pt_mono_ms();
    switch (po.kind) {
    case FEED_MSG_DROP:
        f->st.dropped[po.reason]++;
        /* an error reply (refused subscription, bad symbol) answers a
         * request of ours; no bar update was lost with it */
        if (po.reason != FEED_DROP_EXCHANGE_ERROR)
            forget_open_bars(f);
        if (po.reason == FEED_DROP_EXCHANGE_ERROR) /* the venue's own words, for the status */
            snprintf(f->st.last_error, sizeof f->st.last_error, "%s", po.detail);
        if (f->st.dropped[po.reason] <= 20)
            pt_warn("feed: %s message %llu dropped (%s): %s", f->ad->name, (unsigned long long)f->st.msgs,
                    feed_drop_name(po.reason), po.detail);
        return;
    case FEED_MSG_SHUTDOWN:
        pt_info("feed: %s announced shutdown; reconnecting", f->ad->name);
        f->planned_close = 1;
        if (f->wsi)
            lws_set_timeout(f->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
        return;
    case FEED_MSG_WELCOME: /* the venue says the connection is usable: subscribe */
        if (f->ad->subscribe_on_welcome)
            start_subscribe(f, f->wsi);
        return;
    case FEED_MSG_CANDLE:
        break;
    case FEED_MSG_MARK:
        on_mark(f, &po.mark, now);
        return;
    default:
        return;
    }
    if (po.event_ms > f->exch_now_ms)
        f->exch_now_ms = po.event_ms, f->exch_seen_mono = now;
    if (f->cfg.warmup_candles > 0 && !f->st.warmup_until_ms && po.n > 0)
        warmup_start(f, &po);
    for (size_t k = 0; k < po.n; k++) {
        pt_candle *c = &po.candles[k];
        /* a closed bar proves its close time passed; an open one its open time */
        int64_t seen = c->closed ? c->ts_ms + f->cfg.interval_ms : c->ts_ms;
        if (seen > f->exch_now_ms)
            f->exch_now_ms = seen, f->exch_seen_mono = now;
        feed_series *s = series_of(f, c->symbol);
        if (!s) {
            f->st.dropped[FEED_DROP_WRONG_SYMBOL]++;
            continue;
        }
        /* data (not pings) feeds the watchdog and the healthy timer */
        f->last_msg_ms = s->st.last_msg_mono_ms = now;
        if (f->attempt && now - f->connected_ms >= f->cfg.healthy_ms)
            f->attempt = 0;
        pt_candle closed;
        if (c->closed)
            on_closed_candle(f, s, c);
        else if (!f->ad->has_closed_flag && feed_series_update_open(s, c, &closed))
            on_closed_candle(f, s, &closed);
        if (!c->closed && !s->backfilling && (s->last_ts == INT64_MIN || c->ts_ms > s->last_ts)) {
            s->st.updates++;
            emit(f, c);
        }
    }
    if (f->resume_pending && f->exch_now_ms > 0)
        resume_backfill(f);
}

/* The exchange's time now, extrapolated at real-time rate from the latest
 * event: never ahead of a feed that runs faster (a simulator), so a bar is
 * never closed early by our clock. Before any event: the wall clock. */
static int64_t exchange_clock(const feed_live *f, int64_t mono_now)
{
    return f->exch_now_ms > 0 ? f->exch_now_ms + (mono_now - f->exch_seen_mono) : pt_wall_ms();
}

static void tick(lws_sorted_usec_list_t *sul)
{
    feed_live *f = lws_container_of(sul, feed_live, sul_tick);
    int64_t now = pt_mono_ms();
    drain_rest(f); /* insurance: wakeups coalesce */
    if (f->wsi && (f->state == FEED_CONN_LIVE || f->state == FEED_CONN_BACKFILLING) &&
        now - f->last_msg_ms > f->cfg.stale_after_ms) {
        f->st.stale_events++;
        set_state(f, FEED_CONN_STALE, "no data within stale_after");
        lws_set_timeout(f->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    }
    if (f->ad->ping_text && f->wsi && f->state != FEED_CONN_CONNECTING &&
        now - f->last_ping_ms >= f->ping_every_ms) { /* venue keepalive (adapter's cited cadence or the token's) */
        f->last_ping_ms = now;
        f->ping_pending = 1;
        lws_callback_on_writable(f->wsi);
    }
    if (!f->ad->has_closed_flag) {
        pt_candle c;
        for (size_t i = 0; i < f->n_ser; i++)
            if (feed_series_close_due(&f->ser[i], exchange_clock(f, now), f->cfg.close_grace_ms, &c))
                on_closed_candle(f, &f->ser[i], &c);
    }
    if (!f->wsi && !f->connect_scheduled && !f->closing && !f->token_pending)
        schedule_retry(f, "supervisor: no connection");
    lws_sul_schedule(f->cx, 0, &f->sul_tick, tick, 1000 * LWS_US_PER_MS);
}

/* Ask for a close with `status` from the writeable callback. lws 4.1.6's
 * client parser (lib/roles/ws/client-parser-ws.c, lws_ws_client_rx_sm) does
 * not reset its rx buffer head when CLIENT_RECEIVE returns nonzero; the rest
 * of a frame longer than rx_buffer_size is then written past that buffer
 * (heap overflow, issue 11). So RECEIVE always returns 0: the rest of the
 * message is skipped and the close goes out from WRITEABLE, at which point
 * lws parses whatever still arrives with a sane buffer and no callback. */
static void request_close(feed_live *f, struct lws *wsi, uint16_t status)
{
    f->rx_skip = 1;
    if (!f->close_status) {
        f->close_status = status;
        lws_callback_on_writable(wsi);
    }
}

static int rx_append(feed_live *f, const char *in, size_t len)
{
    if (f->rx_n + len + 1 > f->rx_cap) {
        size_t nc = f->rx_cap ? f->rx_cap : 16384;
        while (nc < f->rx_n + len + 1)
            nc *= 2;
        char *p = realloc(f->rx, nc);
        if (!p)
            return PT_ENOMEM;
        f->rx = p;
        f->rx_cap = nc;
    }
    memcpy(f->rx + f->rx_n, in, len);
    f->rx_n += len;
    f->rx[f->rx_n] = '\0';
    return PT_OK;
}

static void on_receive(feed_live *f, struct lws *wsi, const char *in, size_t len)
{
    int final = lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi);
    if (lws_is_first_fragment(wsi)) {
        f->rx_n = 0;
        f->utf8 = 0;
        f->rx_skip = f->close_status != 0;
        if (lws_frame_is_binary(wsi)) {
            f->st.dropped[FEED_DROP_BINARY]++;
            f->rx_skip = 1;
        }
    }
    if (!f->rx_skip) {
        /* lws does not cap messages: count across fragments (W7, F14) */
        if (f->rx_n + len > f->cfg.max_msg_bytes) {
            f->st.oversized++;
            f->st.dropped[FEED_DROP_TOO_BIG]++;
            pt_warn("feed: %s message over %zu bytes; closing 1009", f->ad->name, f->cfg.max_msg_bytes);
            request_close(f, wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE);
        } else if (pt_utf8_check(&f->utf8, in, len) || (final && f->utf8)) {
            /* RFC 6455 8.1; ours, not lws's: see wss_context_new */
            f->st.dropped[FEED_DROP_BAD_UTF8]++;
            pt_warn("feed: %s message is not UTF-8; closing 1007", f->ad->name);
            request_close(f, wsi, LWS_CLOSE_STATUS_INVALID_PAYLOAD);
        } else if (rx_append(f, in, len)) {
            pt_err_log("feed: %s out of memory for a %zu byte message; closing", f->ad->name, f->rx_n + len);
            request_close(f, wsi, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION);
        }
    }
    if (final) {
        if (!f->rx_skip)
            on_message(f, f->rx, f->rx_n);
        f->rx_n = 0;
        f->rx_skip = 0;
    }
}

/* What a person is told about a lost or failed connection (issue 15: DNS,
 * refused, handshake timeout, HTTP status); lws's texts are in
 * lib/core-net/client/ and lib/roles/http/client/ of 4.1.6. */
static const char *close_reason(feed_live *f, struct lws *wsi, enum lws_callback_reasons reason, void *in)
{
    static char buf[160];
    const char *t = in ? (const char *)in : "";
    if (reason == LWS_CALLBACK_CLIENT_CLOSED)
        return "closed by the exchange";
    if (reason == LWS_CALLBACK_CLOSED_CLIENT_HTTP)
        return "handshake timeout: the exchange accepted the connection but never answered";
    unsigned status = lws_http_client_http_response(wsi);
    if (status && status != 101)
        snprintf(buf, sizeof buf, "HTTP %u on the WebSocket upgrade from %s:%d", status, f->host, f->port);
    else if (!strcmp(t, "Unable to connect"))
        snprintf(buf, sizeof buf, "connection refused or unreachable: %s:%d", f->host, f->port);
    else
        snprintf(buf, sizeof buf, "%s", t[0] ? t : "connection error");
    return buf;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    (void)user;
    feed_live *f = lws_get_opaque_user_data(wsi);
    if (reason == LWS_CALLBACK_EVENT_WAIT_CANCELLED) {
        /* reaches every protocol of every vhost, also spuriously: idempotent */
        f = lws_get_vhost(wsi) ? lws_vhost_user(lws_get_vhost(wsi)) : NULL;
        if (f && !f->closing)
            drain_rest(f);
        return 0;
    }
    if (!f)
        return 0;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        f->st.connects++;
        if (f->st.connects > 1)
            f->st.reconnects++;
        f->connected_ms = f->last_msg_ms = f->last_ping_ms = pt_mono_ms();
        f->ping_pending = 0;
        f->rx_n = 0;
        f->rx_skip = 0;
        f->close_status = 0;
        set_state(f, FEED_CONN_LIVE, "established");
        if (!f->ad->subscribe_on_welcome)
            start_subscribe(f, wsi);
        /* reconnect: fetch what was missed since the last closed bar */
        for (size_t i = 0; f->cfg.backfill && i < f->n_ser; i++) {
            feed_series *s = &f->ser[i];
            if (s->last_ts != INT64_MIN && !s->backfilling && !f->resume_pending)
                start_backfill(f, s, s->last_ts + s->interval_ms, 0);
        }
        break;
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        if (f->close_status) {
            const char *why = f->close_status == LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE ? "message too big"
                              : f->close_status == LWS_CLOSE_STATUS_INVALID_PAYLOAD ? "invalid UTF-8"
                                                                                     : "out of memory";
            lws_close_reason(wsi, (enum lws_close_status)f->close_status, (unsigned char *)why, strlen(why));
            return -1;
        }
        if (f->sub_pending) { /* one message per WRITEABLE; they are '\0'-separated */
            unsigned char buf[LWS_PRE + sizeof f->sub];
            size_t ml = strnlen(f->sub + f->sub_off, f->sub_len - f->sub_off);
            memcpy(buf + LWS_PRE, f->sub + f->sub_off, ml);
            if (lws_write(wsi, buf + LWS_PRE, ml, LWS_WRITE_TEXT) < (int)ml)
                return -1;
            f->sub_off += ml + 1;
            f->sub_pending = f->sub_off < f->sub_len;
            if (f->sub_pending) {
                lws_callback_on_writable(wsi);
                break;
            }
        }
        if (f->ping_pending && !f->sub_pending) {
            size_t pl = strlen(f->ad->ping_text);
            unsigned char buf[LWS_PRE + 64];
            if (pl > sizeof buf - LWS_PRE)
                return -1;
            memcpy(buf + LWS_PRE, f->ad->ping_text, pl);
            if (lws_write(wsi, buf + LWS_PRE, pl, LWS_WRITE_TEXT) < (int)pl)
                return -1;
            f->ping_pending = 0;
        }
        break;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        on_receive(f, wsi, in, len);
        break;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
    case LWS_CALLBACK_CLIENT_CLOSED:
    case LWS_CALLBACK_CLOSED_CLIENT_HTTP: /* handshake never answered */
        if (wsi != f->wsi && f->wsi)
            break;
        lws_set_opaque_user_data(wsi, NULL);
        schedule_retry(f, close_reason(f, wsi, reason, in));
        break;
    default:
        break;
    }
    return 0;
}

static const struct lws_protocols feed_protocols[] = {
    {.name = "pt-feed", .callback = callback, .rx_buffer_size = 65536},
    {.name = NULL},
};

/* scheme, host and port of a ws(s):// URL into f; *path: the rest, after the host's '/' */
static int parse_host(feed_live *f, const char *url, const char **path)
{
    if (snprintf(f->url_buf, sizeof f->url_buf, "%s", url) >= (int)sizeof f->url_buf)
        return PT_EINVAL;
    const char *prot = NULL, *ads = NULL;
    if (lws_parse_uri(f->url_buf, &prot, &ads, &f->port, path) || !ads || !*ads)
        return PT_EINVAL;
    f->ssl = !strcmp(prot, "wss");
    if (!f->ssl && strcmp(prot, "ws"))
        return PT_EINVAL;
    f->host = ads;
    return PT_OK;
}

static int parse_ws_url(feed_live *f, const char *url)
{
    const char *p = NULL;
    if (parse_host(f, url, &p))
        return PT_EINVAL;
    size_t pl = strlen(p);
    while (pl && p[pl - 1] == '/')
        pl--;
    while (pl && *p == '/')
        p++, pl--;
    int w = snprintf(f->path, sizeof f->path, "%s%.*s", pl ? "/" : "", (int)pl, p);
    if (w < 0 || (size_t)w >= sizeof f->path)
        return PT_EINVAL;
    return f->ad->ws_path(f->cfg.symbols, f->cfg.n_symbols, f->cfg.interval_ms, f->path + w,
                          sizeof f->path - (size_t)w);
}

/* the whole URL a connect token named: its path and query are kept */
static int parse_token_url(feed_live *f, const char *url)
{
    const char *p = NULL;
    if (parse_host(f, url, &p))
        return PT_EINVAL;
    int w = snprintf(f->path, sizeof f->path, "/%s", p);
    return w < 0 || (size_t)w >= sizeof f->path ? PT_EINVAL : PT_OK;
}

static void wake(void *ud)
{
    lws_cancel_service(((feed_live *)ud)->cx); /* the one thread-safe lws call */
}

int feed_live_new(struct lws_context *cx, const feed_live_config *cfg, const feed_live_callbacks *cb, void *ud,
                  feed_live **out)
{
    *out = NULL;
    const feed_adapter *ad = cfg ? feed_adapter_find(cfg->exchange) : NULL;
    if (!ad) {
        pt_err_log("feed: unknown exchange '%s' (%s)", cfg && cfg->exchange ? cfg->exchange : "", feed_adapter_names());
        return PT_EUNSUPPORTED;
    }
    if (!cx || cfg->n_symbols == 0 || cfg->n_symbols > FEED_LIVE_MAX_SYMBOLS || !cfg->symbols) {
        pt_err_log("feed: need 1..%d symbols and a context", FEED_LIVE_MAX_SYMBOLS);
        return PT_EINVAL;
    }
    char iv[16];
    if (ad->interval_name(cfg->interval_ms, iv, sizeof iv)) {
        pt_err_log("feed: %s has no interval of %lld ms", ad->name, (long long)cfg->interval_ms);
        return PT_EUNSUPPORTED;
    }
    if (ad->ws_interval_ms && cfg->interval_ms != ad->ws_interval_ms) {
        char want[16];
        pt_interval_format(ad->ws_interval_ms, want, sizeof want);
        pt_err_log("feed: %s streams only %s candles (its socket has no other bucket, docs/feed.md); other "
                   "intervals: papertrader fetch", ad->name, want);
        return PT_EUNSUPPORTED;
    }
    feed_live *f = calloc(1, sizeof *f);
    if (!f)
        return PT_ENOMEM;
    int rc = PT_EINVAL;
    f->cx = cx;
    f->ad = ad;
    f->cfg = *cfg;
    f->ud = ud;
    if (cb)
        f->cb = *cb;
    feed_live_config *c = &f->cfg;
    if (c->backoff_base_ms <= 0) c->backoff_base_ms = 500;
    if (c->backoff_cap_ms <= 0) c->backoff_cap_ms = 30000;
    if (c->healthy_ms <= 0) c->healthy_ms = 60000;
    if (c->stale_after_ms <= 0) c->stale_after_ms = ad->update_period_ms * 3 > 10000 ? ad->update_period_ms * 3 : 10000;
    if (c->max_msg_bytes == 0) c->max_msg_bytes = 1u << 20;
    if (c->close_grace_ms <= 0) c->close_grace_ms = 5000;
    if (c->ping_secs <= 0) c->ping_secs = 20;
    if (c->hangup_secs <= 0) c->hangup_secs = 30;
    f->rng = (uint64_t)pt_mono_ns() ^ (uint64_t)(uintptr_t)f;
    f->st.last_msg_age_ms = -1;
    f->ping_every_ms = ad->ping_every_ms;
    if (ad->token_path && c->ws_url)
        pt_info("feed: %s: --ws-url not used: the connect token names the server", ad->name);
    if ((rc = parse_ws_url(f, c->ws_url ? c->ws_url : ad->ws_url))) {
        pt_err_log("feed: bad ws url '%s' or symbols (%s)", c->ws_url ? c->ws_url : ad->ws_url, pt_strerror(rc));
        goto fail;
    }
    if ((rc = ad->subscribe(c->symbols, c->n_symbols, c->interval_ms, f->sub, sizeof f->sub, &f->sub_len))) {
        pt_err_log("feed: %s cannot subscribe to %s%s (%s)", ad->name, c->symbols[0], c->n_symbols > 1 ? ", ..." : "",
                   rc == PT_EINVAL ? "not a symbol name of this venue; its naming: docs/feed.md" : pt_strerror(rc));
        goto fail;
    }
    rc = PT_ENOMEM;
    f->ser = calloc(c->n_symbols, sizeof *f->ser);
    f->perp = ad->perp ? calloc(c->n_symbols, sizeof *f->perp) : NULL;
    if (!f->ser || (ad->perp && !f->perp))
        goto fail;
    for (size_t i = 0; i < c->n_symbols; i++, f->n_ser++) {
        if ((rc = feed_series_init(&f->ser[i], c->symbols[i], c->interval_ms, c->max_buffered))) {
            pt_err_log("feed: bad symbol '%s'", c->symbols[i]);
            goto fail;
        }
        if (f->perp)
            feed_perp_init(&f->perp[i], f->ser[i].symbol, c->interval_ms);
        if (c->start_after_ts && c->start_after_ts[i] != INT64_MIN) { /* resume: carry on from there */
            f->ser[i].last_ts = f->ser[i].st.last_closed_ts = c->start_after_ts[i];
            f->resume_pending = 1;
        }
        f->resume_pending |= c->warmup_candles > 0 && c->backfill;
    }
    f->cfg.symbols = NULL; /* borrowed; the series keep copies */
    f->cfg.start_after_ts = NULL;
    if (c->backfill || ad->token_path) {
        feed_rest_config rcfg = {.ad = ad, .base_url = c->rest_url, .ca_file = c->ca_file,
                                 .backoff_base_ms = c->backoff_base_ms, .backoff_cap_ms = c->backoff_cap_ms,
                                 .bucket_per_sec = c->rest_per_sec,
                                 .bucket_capacity = c->rest_per_sec > 5 ? 2 * c->rest_per_sec : 0};
        if ((rc = feed_rest_worker_new(&rcfg, wake, f, &f->rest)))
            goto fail;
    }
    /* lws routes even loopback through http_proxy and ignores no_proxy:
     * the feed never uses a proxy */
    unsetenv("http_proxy");
    unsetenv("HTTP_PROXY");
    f->retry.secs_since_valid_ping = (uint16_t)c->ping_secs;
    f->retry.secs_since_valid_hangup = (uint16_t)c->hangup_secs;
    struct lws_context_creation_info vi;
    memset(&vi, 0, sizeof vi);
    vi.port = CONTEXT_PORT_NO_LISTEN;
    vi.vhost_name = "pt-feed";
    vi.protocols = feed_protocols;
    vi.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT; /* else wss: "SSL_new failed" */
    vi.client_ssl_ca_filepath = c->ca_file;
    vi.user = f;
    vi.timeout_secs = 10; /* handshake: a silent peer must not hold a connect forever */
    vi.connect_timeout_secs = 10;
    rc = PT_EIO;
    f->vh = lws_create_vhost(cx, &vi);
    if (!f->vh) {
        pt_err_log("feed: cannot create the client vhost");
        goto fail;
    }
    lws_sul_schedule(cx, 0, &f->sul_connect, do_connect, 1);
    f->connect_scheduled = 1;
    lws_sul_schedule(cx, 0, &f->sul_tick, tick, 1000 * LWS_US_PER_MS);
    *out = f;
    return PT_OK;
fail:
    feed_live_free(f);
    return rc;
}

int feed_live_set_perp_callbacks(feed_live *f, const feed_perp_callbacks *cb)
{
    if (!f->perp)
        return PT_EUNSUPPORTED;
    f->pcb = *cb;
    return PT_OK;
}

void feed_live_get_stats(const feed_live *f, feed_live_stats *out)
{
    *out = f->st;
    out->state = f->state;
    out->backoff_attempt = f->attempt;
    int64_t now = pt_mono_ms();
    out->last_msg_age_ms = f->last_msg_ms ? now - f->last_msg_ms : -1;
    out->not_live_ms = f->not_live_since ? now - f->not_live_since : 0;
    out->exchange_now_ms = f->exch_now_ms ? exchange_clock(f, now) : 0;
    out->close_grace_ms = f->ad->has_closed_flag ? 0 : f->cfg.close_grace_ms;
    out->n_symbols = f->n_ser;
    out->duplicates = out->out_of_order = 0;
    for (size_t i = 0; i < f->n_ser; i++) {
        out->sym[i] = f->ser[i].st;
        out->duplicates += f->ser[i].st.duplicates;
        out->out_of_order += f->ser[i].st.out_of_order;
    }
    if (f->rest)
        feed_rest_worker_stats(f->rest, out);
}

void feed_live_free(feed_live *f)
{
    if (!f)
        return;
    f->closing = 1;
    if (f->cx) {
        lws_sul_cancel(&f->sul_connect);
        lws_sul_cancel(&f->sul_tick);
    }
    if (f->wsi) {
        struct lws *w = f->wsi;
        f->wsi = NULL;
        lws_set_opaque_user_data(w, NULL);
        lws_set_timeout(w, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_SYNC);
    }
    if (f->vh)
        lws_vhost_destroy(f->vh);
    feed_rest_worker_free(f->rest); /* joins; a running request ends by its timeout */
    for (size_t i = 0; i < f->n_ser; i++)
        feed_series_free(&f->ser[i]);
    free(f->ser);
    free(f->perp);
    free(f->rx);
    free(f);
}

static const char *const sym_status_names[] = {
#define FEED_SYM_NAME_(name, text) text,
    FEED_SYM_STATUS_MAP(FEED_SYM_NAME_)
#undef FEED_SYM_NAME_
};
const char *feed_sym_status_name(feed_sym_status s)
{
    return (unsigned)s < sizeof sym_status_names / sizeof sym_status_names[0] ? sym_status_names[s] : "unknown";
}

feed_sym_status feed_sym_status_of(const feed_live_stats *st, size_t sym, int64_t interval_ms,
                                   int64_t down_after_ms)
{
    const feed_live_symbol_stats *y = sym < st->n_symbols ? &st->sym[sym] : NULL;
    int up = st->state == FEED_CONN_LIVE || st->state == FEED_CONN_BACKFILLING;
    if (!up) {
        if (st->not_live_ms >= down_after_ms)
            return FEED_SYM_DOWN;
        return st->connects ? FEED_SYM_RECONNECTING : FEED_SYM_CONNECTING;
    }
    if (!y || y->last_closed_ts == INT64_MIN)
        return FEED_SYM_CONNECTING;
    int64_t closed_at = y->last_closed_ts + interval_ms; /* its close time on the exchange's clock */
    if (st->exchange_now_ms && st->exchange_now_ms - closed_at > 2 * interval_ms + st->close_grace_ms)
        return FEED_SYM_STALE;
    return FEED_SYM_LIVE;
}
