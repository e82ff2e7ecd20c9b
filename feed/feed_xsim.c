/* feed: the exchange simulator's server -- market loading, the simulated
 * clock, the per-series event schedule, fan-out to bounded per-client
 * queues, HTTP plumbing and the connection-level faults. The wire formats
 * live in feed_xsim_proto.c (one const table per exchange).
 *
 * lws rules followed: one thread; writes only from WRITEABLE callbacks;
 * timers are lws_sul, cancelled in CLOSED; pings come from the vhost's
 * retry/idle policy; the vhost listens on 127.0.0.1 with IPv6 disabled;
 * CLOSED without an ESTABLISHED is ignored (lws calls CLOSED for a
 * connection that never got going too). */
#include "feed_xsim_internal.h"
#include "feed.h"
#include "portfolio.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ helpers */
int64_t feed_xsim_sim_now(const feed_xsim *x)
{
    double wall_ms = (double)(pt_mono_ns() - x->start_mono_ns) / 1e6;
    return x->start_sim_ms + (int64_t)floor(wall_ms * x->speed);
}

int feed_xsim_port(const feed_xsim *x) { return x && x->vh ? lws_get_vhost_listen_port(x->vh) : -1; }

/* `until=DUR`: the faults end DUR (wall time) after the simulator started,
 * so a test can watch a session recover. */
static int faults_over(const feed_xsim *x)
{
    return x->faults.until_ms && (pt_mono_ns() - x->start_mono_ns) / 1000000 >= x->faults.until_ms;
}

int feed_xsim_roll(const feed_xsim *x, feed_xsim_fault f, uint64_t a, uint64_t b)
{
    double p = x->faults.p[f];
    return p > 0 && !faults_over(x) && feed_xsim_u01(x->seed, 0xfa000 + (uint64_t)f, a, b) < p;
}

void feed_xsim_count_fault(feed_xsim *x, feed_xsim_fault f, const char *fmt, ...)
{
    char what[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    x->st.faults[f]++;
    pt_info("xsim: fault %s #%llu: %s", feed_xsim_fault_name(f), (unsigned long long)x->st.faults[f], what);
}

int feed_xsim_find_series(const feed_xsim *x, const char *name, int lower)
{
    for (size_t i = 0; i < x->n_series; i++)
        if (!strcmp(lower ? x->series[i].lower : x->series[i].sym, name))
            return (int)i;
    return -1;
}

/* ------------------------------------------------------------ markets */
static int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b) != 0 && (a < 0) != (b < 0)); }

static int syn_after(const feed_xsim *x, size_t s, int64_t ts, feed_xsim_bar *out)
{
    int64_t t = -floor_div(-ts, x->interval_ms) * x->interval_ms;
    feed_xsim_synth_bar(x->seed, x->series[s].sym, t, x->interval_ms, 1.0, out);
    return PT_OK;
}

static int syn_before(const feed_xsim *x, size_t s, int64_t ts, feed_xsim_bar *out)
{
    int64_t t = floor_div(ts, x->interval_ms) * x->interval_ms;
    feed_xsim_synth_bar(x->seed, x->series[s].sym, t, x->interval_ms, 1.0, out);
    return PT_OK;
}

static void syn_partial(const feed_xsim *x, size_t s, const feed_xsim_bar *fin, double frac, feed_xsim_bar *out)
{
    feed_xsim_synth_bar(x->seed, x->series[s].sym, fin->ts_ms, x->interval_ms, frac, out);
}

static const xs_market_ops market_synth = {"synthetic", syn_after, syn_before, syn_partial};

/* first row index with ts >= t */
static size_t csv_lower(const xs_series *se, int64_t t)
{
    size_t lo = 0, hi = se->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (se->rows[mid].ts_ms < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int csv_after(const feed_xsim *x, size_t s, int64_t ts, feed_xsim_bar *out)
{
    const xs_series *se = &x->series[s];
    size_t i = csv_lower(se, ts);
    if (i >= se->n)
        return PT_EOF;
    *out = se->rows[i];
    return PT_OK;
}

static int csv_before(const feed_xsim *x, size_t s, int64_t ts, feed_xsim_bar *out)
{
    const xs_series *se = &x->series[s];
    size_t i = ts == INT64_MAX ? se->n : csv_lower(se, ts + 1);
    if (i == 0)
        return PT_EOF;
    *out = se->rows[i - 1];
    return PT_OK;
}

static void csv_partial(const feed_xsim *x, size_t s, const feed_xsim_bar *fin, double frac, feed_xsim_bar *out)
{
    (void)x;
    (void)s;
    feed_xsim_partial(fin, frac, out);
}

static const xs_market_ops market_csv = {"csv", csv_after, csv_before, csv_partial};

int feed_xsim_state_at(const feed_xsim *x, size_t s, const feed_xsim_bar *fin, int64_t now, feed_xsim_bar *out)
{
    if (fin->ts_ms > now)
        return PT_EOF;
    if (fin->ts_ms + x->interval_ms <= now) {
        *out = *fin;
        return PT_OK;
    }
    /* same quantisation as the stream's updates, so REST shows what was sent */
    int64_t k = (now - fin->ts_ms) * x->steps / x->interval_ms;
    x->market->partial(x, s, fin, (double)k / x->steps, out);
    return PT_OK;
}

/* ------------------------------------------------------------ CSV load */
static int cmp_bar(const void *a, const void *b)
{
    const feed_xsim_bar *p = a, *q = b;
    return p->ts_ms < q->ts_ms ? -1 : p->ts_ms > q->ts_ms;
}

static xs_series *series_get(feed_xsim *x, const char *sym)
{
    int i = feed_xsim_find_series(x, sym, 0);
    if (i >= 0)
        return &x->series[i];
    if (x->n_series >= FEED_XSIM_MAX_SYMBOLS)
        return NULL;
    xs_series *se = &x->series[x->n_series++];
    memset(se, 0, sizeof *se);
    snprintf(se->sym, sizeof se->sym, "%s", sym);
    return se;
}

static void bar_from_candle(const pt_candle *c, int64_t interval_ms, feed_xsim_bar *b)
{
    memset(b, 0, sizeof *b);
    b->ts_ms = c->ts_ms;
    b->o = c->open, b->h = c->high, b->l = c->low, b->c = c->close, b->v = c->volume;
    double vwap = (b->o + b->h + b->l + b->c) / 4;
    b->q = b->v * vwap;
    b->tv = b->v / 2; /* CSV has no taker split: half, documented */
    b->tq = b->q / 2;
    int64_t max_trades = interval_ms / 60 - 1;
    b->n = b->v > 0 ? 1 + (int64_t)fmin(b->q / 1000.0, (double)(max_trades > 1 ? max_trades - 1 : 0)) : 0;
    b->first_id = b->n ? c->ts_ms / 60 : -1;
    b->last_id = b->n ? b->first_id + b->n - 1 : -1;
}

static int load_csv(feed_xsim *x, const feed_xsim_config *cfg)
{
    size_t total = 0;
    for (size_t f = 0; f < cfg->n_files; f++) {
        feed_csv_opts o = {.symbol = f < cfg->n_symbols ? cfg->symbols[f] : NULL};
        feed_csv *r = NULL;
        int rc = feed_csv_open(cfg->files[f], &o, &r);
        if (rc)
            return rc;
        pt_candle c;
        while ((rc = feed_csv_next(r, &c)) == PT_OK) {
            xs_series *se = series_get(x, c.symbol);
            if (!se || ++total > XS_MAX_ROWS) {
                pt_err_log("%s:%llu: %s", cfg->files[f], (unsigned long long)c.line,
                           se ? "more than 2000000 rows in all files" : "more than 64 symbols");
                feed_csv_free(r);
                return PT_EFULL;
            }
            if (se->n == se->cap) {
                size_t nc = se->cap ? se->cap * 2 : 1024;
                feed_xsim_bar *nr = realloc(se->rows, nc * sizeof *nr);
                if (!nr) {
                    feed_csv_free(r);
                    return PT_ENOMEM;
                }
                se->rows = nr, se->cap = nc;
            }
            bar_from_candle(&c, x->interval_ms, &se->rows[se->n++]);
        }
        feed_csv_free(r);
        if (rc != PT_EOF)
            return rc;
    }
    for (size_t i = 0; i < x->n_series; i++) {
        xs_series *se = &x->series[i];
        size_t w = 0, dups = 0;
        qsort(se->rows, se->n, sizeof *se->rows, cmp_bar); /* files may hold out-of-order rows */
        for (size_t k = 0; k < se->n; k++) {
            if (w && se->rows[w - 1].ts_ms == se->rows[k].ts_ms) {
                dups++;
                continue;
            }
            se->rows[w++] = se->rows[k];
        }
        se->n = w;
        if (dups)
            pt_warn("xsim: %s: %zu duplicate open times dropped (one bar per time on the wire)", se->sym, dups);
        pt_info("xsim: %s: %zu candles from CSV", se->sym, se->n);
    }
    if (!x->n_series) {
        pt_err_log("xsim: no candles in the CSV files");
        return PT_EPARSE;
    }
    return PT_OK;
}

/* ------------------------------------------------------------ queues */
static void client_kill(feed_xsim *x, xs_client *c, const char *why)
{
    if (c->killed)
        return;
    c->killed = 1;
    pt_info("xsim: client %llu: closing abruptly (%s)", (unsigned long long)c->id, why);
    /* hard close, no close frame: the peer sees 1006 like a cut TCP link */
    lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    (void)x;
}

int feed_xsim_send(feed_xsim *x, xs_client *c, const char *msg, size_t len)
{
    if (c->killed)
        return -1;
    if (c->qlen >= XS_QSLOTS || c->qbytes + len > XS_QBYTES) {
        x->st.slow_client_drops++;
        client_kill(x, c, "send queue full: client too slow");
        return -1;
    }
    unsigned char *b = malloc(LWS_PRE + len);
    if (!b) {
        client_kill(x, c, "out of memory");
        return -1;
    }
    memcpy(b + LWS_PRE, msg, len);
    xs_msg *m = &c->q[(c->qhead + c->qlen++) % XS_QSLOTS];
    m->buf = b, m->len = len;
    c->qbytes += len;
    lws_callback_on_writable(c->wsi);
    return 0;
}

static void queue_clear(xs_client *c)
{
    for (; c->qlen; c->qlen--, c->qhead = (c->qhead + 1) % XS_QSLOTS)
        free(c->q[c->qhead].buf);
    c->qbytes = 0;
}

/* 1 while the client is inside a "stall" window (cycle: every P s of
 * connection time, then D s of silence) */
static int client_stalled(feed_xsim *x, xs_client *c)
{
    const feed_xsim_faults *f = &x->faults;
    if (!f->stall_ms || faults_over(x))
        return 0;
    int64_t el = pt_mono_ms() - c->connected_ms, cyc = f->stall_every_ms + f->stall_ms;
    if (el % cyc < f->stall_every_ms)
        return 0;
    if (c->stall_logged != el / cyc) {
        c->stall_logged = el / cyc;
        feed_xsim_count_fault(x, FEED_XSIM_F_STALL, "client %llu silent for %lld ms", (unsigned long long)c->id,
                              (long long)f->stall_ms);
    }
    return 1;
}

/* one message for every client with a stream of kind on series s */
static void fanout_kind(feed_xsim *x, size_t s, int kind, const char *raw, size_t len, int data)
{
    for (xs_client *c = x->clients; c; c = c->next) {
        for (int i = 0; i < c->nsubs; i++) {
            if (c->subs[i].sym != (int)s || c->subs[i].kind != kind)
                continue;
            if (data && client_stalled(x, c)) {
                x->st.stalled_msgs++;
                break;
            }
            if (c->combined && x->proto->wrap) {
                int n = x->proto->wrap(c->subs[i].name, raw, len, x->scratch2, XS_OVERSIZE + 256);
                if (n > 0)
                    feed_xsim_send(x, c, x->scratch2, (size_t)n);
            } else {
                feed_xsim_send(x, c, raw, len);
            }
            break; /* one copy per client even if subscribed twice */
        }
    }
}

static void fanout(feed_xsim *x, size_t s, const char *raw, size_t len, int data)
{
    fanout_kind(x, s, XS_KIND_CANDLE, raw, len, data);
}

void feed_xsim_fanout(feed_xsim *x, size_t s, int kind, const char *raw, size_t len)
{
    fanout_kind(x, s, kind, raw, len, 1);
}

/* ------------------------------------------------------------ schedule */
static void emit(feed_xsim *x, size_t s, const feed_xsim_bar *b, int closed, int64_t ev_ms, uint64_t step)
{
    xs_series *se = &x->series[s];
    int n = x->proto->event(x, s, b, closed, ev_ms, x->scratch, XS_OVERSIZE);
    if (n <= 0)
        return;
    uint64_t key = feed_xsim_hash_str(se->sym);
    if (feed_xsim_roll(x, FEED_XSIM_F_MALFORMED, key ^ step, (uint64_t)b->ts_ms)) {
        feed_xsim_count_fault(x, FEED_XSIM_F_MALFORMED, "%s bar %lld: truncated JSON", se->sym, (long long)b->ts_ms);
        fanout(x, s, x->scratch, (size_t)n / 2, 1);
    }
    if (feed_xsim_roll(x, FEED_XSIM_F_OVERSIZE, key ^ step, (uint64_t)b->ts_ms)) {
        feed_xsim_count_fault(x, FEED_XSIM_F_OVERSIZE, "%s bar %lld: %u byte frame", se->sym, (long long)b->ts_ms,
                              XS_OVERSIZE);
        char *big = malloc(XS_OVERSIZE);
        if (big) {
            int h = snprintf(big, XS_OVERSIZE, "{\"e\":\"kline\",\"E\":%lld,\"pad\":\"", (long long)ev_ms);
            memset(big + h, 'x', XS_OVERSIZE - (size_t)h - 2);
            memcpy(big + XS_OVERSIZE - 2, "\"}", 2);
            fanout(x, s, big, XS_OVERSIZE, 1);
            free(big);
        }
    }
    fanout(x, s, x->scratch, (size_t)n, 1);
    if (closed)
        x->st.closed_sent++;
    else
        x->st.updates_sent++;
}

static void close_bar(feed_xsim *x, size_t s)
{
    xs_series *se = &x->series[s];
    const feed_xsim_bar *b = &se->cur;
    uint64_t key = feed_xsim_hash_str(se->sym);
    int64_t ev = b->ts_ms + x->interval_ms; /* E just after T, like the exchange */
    if (feed_xsim_roll(x, FEED_XSIM_F_SKIP, key, (uint64_t)b->ts_ms))
        feed_xsim_count_fault(x, FEED_XSIM_F_SKIP, "%s bar %lld: closed message not sent", se->sym,
                              (long long)b->ts_ms);
    else
        emit(x, s, b, 1, ev, (uint64_t)x->steps);
    if (feed_xsim_roll(x, FEED_XSIM_F_DUP, key, (uint64_t)b->ts_ms)) {
        feed_xsim_count_fault(x, FEED_XSIM_F_DUP, "%s bar %lld sent again", se->sym, (long long)b->ts_ms);
        emit(x, s, b, 1, ev, 1000);
    }
    if (se->nhist && feed_xsim_roll(x, FEED_XSIM_F_OOO, key, (uint64_t)b->ts_ms)) {
        const feed_xsim_bar *old = &se->hist[0];
        feed_xsim_count_fault(x, FEED_XSIM_F_OOO, "%s bar %lld sent after %lld", se->sym, (long long)old->ts_ms,
                              (long long)b->ts_ms);
        emit(x, s, old, 1, ev, 1001);
    }
    if (se->nhist == XS_OOO_HIST)
        memmove(se->hist, se->hist + 1, sizeof se->hist[0] * (XS_OOO_HIST - 1)), se->nhist--;
    se->hist[se->nhist++] = *b;
}

/* runs every due event of one series in order; returns the next due time */
static int64_t run_series(feed_xsim *x, size_t s, int64_t now)
{
    xs_series *se = &x->series[s];
    const int64_t iv = x->interval_ms;
    for (int budget = XS_EVENTS_PER_TICK; se->live && budget > 0; budget--) {
        feed_xsim_bar *b = &se->cur;
        if (now >= b->ts_ms + iv) { /* boundary passed: the close, never skipped by catch-up */
            close_bar(x, s);
            if (x->market->at_or_after(x, s, b->ts_ms + 1, b)) {
                se->live = 0;
                pt_info("xsim: %s: replay finished", se->sym);
                return INT64_MAX;
            }
            se->next_step = 1;
            continue;
        }
        int64_t k = now >= b->ts_ms ? (now - b->ts_ms) * x->steps / iv : 0;
        if (k >= se->next_step) { /* only the newest due update: stale ones are useless */
            feed_xsim_bar part;
            x->market->partial(x, s, b, (double)k / x->steps, &part);
            if (!x->proto->skip_whole_bar ||
                !feed_xsim_roll(x, FEED_XSIM_F_SKIP, feed_xsim_hash_str(se->sym), (uint64_t)b->ts_ms))
                emit(x, s, &part, 0, b->ts_ms + iv * k / x->steps, (uint64_t)k);
            se->next_step = (int)k + 1;
        }
        break;
    }
    if (!se->live)
        return INT64_MAX;
    const feed_xsim_bar *b = &se->cur;
    if (now >= b->ts_ms + iv)
        return now; /* budget spent: come back at once */
    return se->next_step < x->steps ? b->ts_ms + iv * se->next_step / x->steps : b->ts_ms + iv;
}

static void on_tick(lws_sorted_usec_list_t *sul)
{
    feed_xsim *x = lws_container_of(sul, feed_xsim, sul_tick);
    int64_t now = feed_xsim_sim_now(x), next = INT64_MAX;
    for (size_t s = 0; s < x->n_series; s++) {
        int64_t d = run_series(x, s, now);
        next = d < next ? d : next;
    }
    if (x->proto->tick) {
        int64_t d = x->proto->tick(x, now);
        next = d < next ? d : next;
    }
    /* sleep until the next due event in wall time, 1 ms .. 250 ms */
    double wait_ms = next == INT64_MAX ? 250.0 : (double)(next - now) / x->speed;
    int64_t us = (int64_t)(wait_ms * 1000.0);
    us = us < 1000 ? 1000 : us > 250000 ? 250000 : us;
    lws_sul_schedule(x->cx, 0, &x->sul_tick, on_tick, us);
}

/* ------------------------------------------------------------ client faults */
static void on_drop(lws_sorted_usec_list_t *sul)
{
    xs_client *c = lws_container_of(sul, xs_client, sul_drop);
    if (faults_over(c->x))
        return;
    feed_xsim_count_fault(c->x, FEED_XSIM_F_DROP, "client %llu cut", (unsigned long long)c->id);
    client_kill(c->x, c, "drop fault");
}

static void on_shutdown(lws_sorted_usec_list_t *sul)
{
    xs_client *c = lws_container_of(sul, xs_client, sul_shutdown);
    feed_xsim *x = c->x;
    if (faults_over(x))
        return;
    char buf[256];
    int n = x->proto->shutdown_notice ? x->proto->shutdown_notice(x, c->combined, buf, sizeof buf) : 0;
    feed_xsim_count_fault(x, FEED_XSIM_F_SHUTDOWN, "client %llu: planned close", (unsigned long long)c->id);
    if (n > 0)
        feed_xsim_send(x, c, buf, (size_t)n);
    c->close_after_flush = 1;
    lws_callback_on_writable(c->wsi);
}

/* ------------------------------------------------------------ lws callback */
static void http_reset(xs_client *c)
{
    free(c->body);
    c->body = NULL;
    c->body_len = c->body_off = 0;
}

static int http_begin(feed_xsim *x, xs_client *c, struct lws *wsi, const char *uri)
{
    int status = 200;
    char *body = NULL;
    size_t len = 0;
    x->st.rest_requests++;
    char hdrs[512];
    hdrs[0] = 0;
    int rc = x->proto->rest(x, wsi, uri, &status, &body, &len, hdrs, sizeof hdrs - 1);
    if (rc == PT_ENOENT || !body) {
        free(body);
        static const char nf[] = "{\"code\":-1,\"msg\":\"not found\"}";
        body = strdup(nf);
        len = body ? sizeof nf - 1 : 0;
        status = 404;
        hdrs[0] = 0;
    }
    if (status != 200)
        x->st.rest_errors++;
    http_reset(c);
    c->body = (unsigned char *)body;
    c->body_len = len;
    unsigned char hb[LWS_PRE + 1024], *start = hb + LWS_PRE, *p = start, *end = hb + sizeof hb - 1;
    if (lws_add_http_common_headers(wsi, (unsigned)status, "application/json;charset=UTF-8", len, &p, end))
        return -1;
    const char *h = hdrs; /* "name:\0value\0" pairs, ended by "\0" */
    while (*h) {
        const char *v = h + strlen(h) + 1;
        if (lws_add_http_header_by_name(wsi, (const unsigned char *)h, (const unsigned char *)v, (int)strlen(v), &p,
                                        end))
            return -1;
        h = v + strlen(v) + 1;
    }
    if (lws_finalize_write_http_header(wsi, start, &p, end))
        return -1;
    lws_callback_on_writable(wsi);
    return 0;
}

static int http_write(xs_client *c, struct lws *wsi)
{
    if (!c->body)
        return 0;
    unsigned char buf[LWS_PRE + 16384];
    size_t n = c->body_len - c->body_off;
    int last = n <= 16384;
    if (!last)
        n = 16384;
    memcpy(buf + LWS_PRE, c->body + c->body_off, n);
    if (lws_write(wsi, buf + LWS_PRE, n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) < (int)n)
        return -1;
    c->body_off += n;
    if (!last) {
        lws_callback_on_writable(wsi);
        return 0;
    }
    http_reset(c);
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static int ws_writable(xs_client *c, struct lws *wsi)
{
    while (c->qlen && !lws_send_pipe_choked(wsi)) {
        xs_msg *m = &c->q[c->qhead];
        int w = lws_write(wsi, m->buf + LWS_PRE, m->len, LWS_WRITE_TEXT);
        c->x->st.ws_msgs++;
        c->x->st.ws_bytes += m->len;
        c->qbytes -= m->len;
        free(m->buf);
        c->qhead = (c->qhead + 1) % XS_QSLOTS;
        c->qlen--;
        if (w < (int)m->len)
            return -1;
    }
    if (c->qlen) {
        lws_callback_on_writable(wsi);
    } else if (c->close_after_flush) {
        lws_close_reason(wsi, LWS_CLOSE_STATUS_GOINGAWAY, (unsigned char *)"server shutdown", 15);
        return -1;
    }
    return 0;
}

static void ws_receive(feed_xsim *x, xs_client *c, struct lws *wsi, const void *in, size_t len)
{
    if (lws_is_first_fragment(wsi))
        c->rxlen = 0, c->rx_too_big = 0;
    if (c->rxlen + len > XS_RX_MAX)
        c->rx_too_big = 1;
    if (!c->rx_too_big) {
        if (!c->rx)
            c->rx = malloc(XS_RX_MAX + 1);
        if (!c->rx)
            return;
        memcpy(c->rx + c->rxlen, in, len);
        c->rxlen += len;
    }
    if (!lws_is_final_fragment(wsi))
        return;
    if (c->rx_too_big) {
        pt_warn("xsim: client %llu: message over %d bytes ignored", (unsigned long long)c->id, XS_RX_MAX);
        return;
    }
    if (lws_frame_is_binary(wsi))
        return;
    x->proto->on_message(x, c, (const char *)c->rx, c->rxlen);
}

static int hold_socket(feed_xsim *x, struct lws *wsi)
{
    uint64_t n = ++x->conn_counter;
    if (!feed_xsim_roll(x, FEED_XSIM_F_NOHANDSHAKE, n, 0))
        return 0;
    if (x->n_held >= (int)(sizeof x->held / sizeof x->held[0]))
        return -1; /* bound: close instead of holding more */
    x->held[x->n_held++] = wsi;
    feed_xsim_count_fault(x, FEED_XSIM_F_NOHANDSHAKE, "connection %llu held without a reply",
                          (unsigned long long)n);
    lws_rx_flow_control(wsi, 0); /* never read the request */
    lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
    return 0;
}

static int xs_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    struct lws_vhost *vh = lws_get_vhost(wsi);
    feed_xsim *x = vh ? lws_vhost_user(vh) : NULL;
    xs_client *c = user;
    char uri[256];
    if (!x)
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    switch (reason) {
    case LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED:
        return hold_socket(x, wsi);
    case LWS_CALLBACK_WSI_DESTROY:
        for (int i = 0; i < x->n_held; i++)
            if (x->held[i] == wsi)
                x->held[i] = x->held[--x->n_held];
        return 0;
    case LWS_CALLBACK_HTTP: /* GET, or a POST without a body (KuCoin's token) */
        if (lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) <= 0 &&
            lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_POST_URI) <= 0)
            return lws_return_http_status(wsi, HTTP_STATUS_METHOD_NOT_ALLOWED, NULL) ||
                   lws_http_transaction_completed(wsi) ? -1 : 0;
        c->x = x;
        return http_begin(x, c, wsi, uri);
    case LWS_CALLBACK_HTTP_BODY_COMPLETION: /* a POST's (empty) body is in: now the reply may go */
        lws_callback_on_writable(wsi);
        return 0;
    case LWS_CALLBACK_HTTP_WRITEABLE:
        return http_write(c, wsi);
    case LWS_CALLBACK_CLOSED_HTTP:
        if (c)
            http_reset(c);
        return 0;
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: {
        if (lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) <= 0)
            return 1;
        if (x->st.clients_now >= (uint64_t)x->max_clients) {
            x->st.clients_refused++;
            pt_warn("xsim: refusing a client: %d connected (--max-clients)", x->max_clients);
            return 1;
        }
        return 0;
    }
    case LWS_CALLBACK_ESTABLISHED: {
        char args[1024];
        memset(c, 0, sizeof *c);
        c->x = x, c->wsi = wsi, c->id = ++x->next_client_id, c->connected_ms = pt_mono_ms(), c->stall_logged = -1;
        args[0] = 0;
        if (lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) <= 0)
            return -1;
        if (lws_hdr_copy_fragment(wsi, args, sizeof args, WSI_TOKEN_HTTP_URI_ARGS, 0) < 0)
            args[0] = 0;
        if (x->proto->ws_path(x, c, uri, args)) {
            pt_warn("xsim: unknown WebSocket path '%s'", uri);
            return -1;
        }
        c->established = 1;
        c->next = x->clients, x->clients = c;
        x->st.clients_now++, x->st.clients_total++;
        pt_info("xsim: client %llu connected on %s%s%s (%d streams)", (unsigned long long)c->id, uri,
                args[0] ? "?" : "", args, c->nsubs);
        if (x->faults.drop_ms)
            lws_sul_schedule(x->cx, 0, &c->sul_drop, on_drop, x->faults.drop_ms * 1000);
        if (x->faults.shutdown_ms)
            lws_sul_schedule(x->cx, 0, &c->sul_shutdown, on_shutdown, x->faults.shutdown_ms * 1000);
        if (x->proto->on_open)
            x->proto->on_open(x, c);
        return 0;
    }
    case LWS_CALLBACK_RECEIVE:
        ws_receive(x, c, wsi, in, len);
        return 0;
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return c->established ? ws_writable(c, wsi) : 0;
    case LWS_CALLBACK_CLOSED:
        if (!c || !c->established)
            return 0;
        lws_sul_cancel(&c->sul_drop);
        lws_sul_cancel(&c->sul_shutdown);
        for (xs_client **pp = &x->clients; *pp; pp = &(*pp)->next)
            if (*pp == c) {
                *pp = c->next;
                break;
            }
        queue_clear(c);
        free(c->rx);
        c->rx = NULL;
        c->established = 0;
        x->st.clients_now--;
        pt_info("xsim: client %llu disconnected", (unsigned long long)c->id);
        return 0;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

/* ------------------------------------------------------------ lifecycle */
static void xs_finalize(struct lws_vhost *vh, void *arg);

static int start_clock(feed_xsim *x, const feed_xsim_config *cfg)
{
    if (cfg->start_ms) {
        x->start_sim_ms = cfg->start_ms;
    } else if (x->market == &market_csv) {
        x->start_sim_ms = INT64_MAX;
        for (size_t i = 0; i < x->n_series; i++)
            if (x->series[i].n && x->series[i].rows[0].ts_ms < x->start_sim_ms)
                x->start_sim_ms = x->series[i].rows[0].ts_ms;
    } else { /* 2024-01-01 plus seed-many days: fixed per seed */
        x->start_sim_ms = 1704067200000LL + (int64_t)(x->seed % 365) * 86400000LL;
    }
    if (x->market == &market_synth)
        x->start_sim_ms = floor_div(x->start_sim_ms, x->interval_ms) * x->interval_ms;
    for (size_t s = 0; s < x->n_series; s++) {
        xs_series *se = &x->series[s];
        se->live = !x->market->at_or_after(x, s, x->start_sim_ms, &se->cur);
        se->next_step = 1;
        se->mark_next = x->start_sim_ms - x->start_sim_ms % 1000 + 1000;
    }
    x->start_mono_ns = pt_mono_ns();
    lws_sul_schedule(x->cx, 0, &x->sul_tick, on_tick, 1000);
    return PT_OK;
}

int feed_xsim_new(struct lws_context *cx, const feed_xsim_config *cfg, feed_xsim **out)
{
    *out = NULL;
    char why[160];
    feed_xsim *x = calloc(1, sizeof *x);
    int rc = PT_ENOMEM;
    if (!x)
        return PT_ENOMEM;
    x->cx = cx;
    x->proto = !cfg->protocol || !strcmp(cfg->protocol, "binance") ? &feed_xsim_proto_binance
               : !strcmp(cfg->protocol, "bitvavo")                  ? &feed_xsim_proto_bitvavo
               : !strcmp(cfg->protocol, "bybit")                    ? &feed_xsim_proto_bybit
               : !strcmp(cfg->protocol, "okx")                      ? &feed_xsim_proto_okx
               : !strcmp(cfg->protocol, "bybit-linear")             ? &feed_xsim_proto_bybit_linear
               : !strcmp(cfg->protocol, "kucoin")                   ? &feed_xsim_proto_kucoin
               : !strcmp(cfg->protocol, "kraken")                   ? &feed_xsim_proto_kraken
               : !strcmp(cfg->protocol, "coinbase")                 ? &feed_xsim_proto_coinbase
               : !strcmp(cfg->protocol, "binance-futures")          ? &feed_xsim_proto_binance_futures
                                                                    : NULL;
    x->speed = cfg->speed > 0 ? cfg->speed : 1.0;
    x->seed = cfg->seed;
    x->max_clients = cfg->max_clients > 0 ? cfg->max_clients : 64;
    if (cfg->rules && (x->rules = malloc(sizeof *x->rules)))
        *x->rules = *cfg->rules;
    x->steps = cfg->updates < 0 ? 1 : (cfg->updates ? cfg->updates : 4) + 1;
    x->interval_ms = cfg->interval_ms;
    if (!x->proto || cfg->n_files > FEED_XSIM_MAX_FILES || cfg->n_symbols > FEED_XSIM_MAX_SYMBOLS ||
        x->steps > 1000 || !isfinite(x->speed) || x->speed > 1e6) {
        pt_err_log("xsim: bad config (protocol '%s', speed, updates <= 999, <= 64 files/symbols)",
                   cfg->protocol ? cfg->protocol : "");
        rc = PT_EINVAL;
        goto fail;
    }
    if (feed_xsim_faults_parse(cfg->faults, &x->faults, why, sizeof why)) {
        pt_err_log("xsim: --faults: %s", why);
        rc = PT_EINVAL;
        goto fail;
    }
    if (feed_xsim_funding_parse(x, cfg->funding, why, sizeof why)) {
        pt_err_log("xsim: --funding: %s", why);
        rc = PT_EINVAL;
        goto fail;
    }
    if (!x->interval_ms && cfg->n_files &&
        feed_csv_detect_interval(cfg->files[0], &(feed_csv_opts){0}, &x->interval_ms))
        x->interval_ms = 0;
    if (!x->interval_ms)
        x->interval_ms = 60000;
    if (pt_interval_format(x->interval_ms, x->interval_name, sizeof x->interval_name) < 0 ||
        x->interval_ms % 4 || x->interval_ms < 1000) {
        pt_err_log("xsim: interval of %lld ms has no exchange name", (long long)x->interval_ms);
        rc = PT_EINVAL;
        goto fail;
    }
    x->series = calloc(FEED_XSIM_MAX_SYMBOLS, sizeof *x->series);
    x->scratch = malloc(XS_OVERSIZE + 256);
    x->scratch2 = malloc(XS_OVERSIZE + 256);
    if (!x->series || !x->scratch || !x->scratch2)
        goto fail;
    if (cfg->n_files) {
        x->market = &market_csv;
        if ((rc = load_csv(x, cfg)))
            goto fail;
    } else {
        x->market = &market_synth;
        char list[1024];
        snprintf(list, sizeof list, "%s", x->proto->default_symbols);
        size_t n = cfg->n_symbols;
        char *save = NULL;
        for (size_t i = 0; i < (n ? n : 8); i++) {
            const char *sym = n ? cfg->symbols[i] : strtok_r(i ? NULL : list, ",", &save);
            if (!sym)
                break;
            if (!*sym || strlen(sym) >= PT_SYMBOL_MAX || strpbrk(sym, "@/\"\\ ")) {
                pt_err_log("xsim: bad symbol '%s'", sym);
                rc = PT_EINVAL;
                goto fail;
            }
            series_get(x, sym);
        }
    }
    for (size_t i = 0; i < x->n_series; i++) {
        xs_series *se = &x->series[i];
        for (size_t k = 0; k < sizeof se->lower && se->sym[k]; k++)
            se->lower[k] = (char)(se->sym[k] >= 'A' && se->sym[k] <= 'Z' ? se->sym[k] + 32 : se->sym[k]);
    }

    int ping = cfg->ping_secs > 0 ? cfg->ping_secs : 20;
    x->retry = (lws_retry_bo_t){.secs_since_valid_ping = (uint16_t)ping,
                                .secs_since_valid_hangup = (uint16_t)(ping * 3)};
    x->protocols[0] = (struct lws_protocols){
        .name = "xsim", .callback = xs_callback, .per_session_data_size = sizeof(xs_client), .rx_buffer_size = 65536};
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.vhost_name = "xsim";
    info.port = cfg->port;
    info.iface = "127.0.0.1";
    info.protocols = x->protocols;
    info.options = LWS_SERVER_OPTION_DISABLE_IPV6 | LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.retry_and_idle_policy = &x->retry;
    info.user = x;
    info.finalize = xs_finalize;
    info.finalize_arg = x;
    x->vh = lws_create_vhost(cx, &info);
    if (!x->vh) {
        pt_err_log("xsim: cannot listen on 127.0.0.1:%d (port in use?)", cfg->port);
        rc = PT_EIO;
        goto fail;
    }
    if ((rc = start_clock(x, cfg)))
        goto fail;
    char t0[32];
    pt_format_iso_ms(x->start_sim_ms, t0, sizeof t0);
    pt_info("xsim: %s protocol, %s market, %zu symbols, interval %s, speed %g, start %s, seed %llu",
            x->proto->name, x->market->name, x->n_series, x->interval_name, x->speed, t0,
            (unsigned long long)x->seed);
    *out = x;
    return PT_OK;
fail:
    feed_xsim_free(x);
    return rc;
}

void feed_xsim_log_summary(const feed_xsim *x)
{
    if (!x)
        return;
    char buf[512];
    size_t w = 0;
    for (int f = 0; f < FEED_XSIM_F__COUNT; f++)
        w += (size_t)snprintf(buf + w, sizeof buf - w, " %s=%llu", feed_xsim_fault_name(f),
                              (unsigned long long)x->st.faults[f]);
    pt_info("xsim: summary: clients=%llu refused=%llu slow_drops=%llu msgs=%llu closed=%llu updates=%llu "
            "marks=%llu stalled_msgs=%llu rest=%llu rest_errors=%llu faults:%s",
            (unsigned long long)x->st.clients_total, (unsigned long long)x->st.clients_refused,
            (unsigned long long)x->st.slow_client_drops, (unsigned long long)x->st.ws_msgs,
            (unsigned long long)x->st.closed_sent, (unsigned long long)x->st.updates_sent,
            (unsigned long long)x->st.marks_sent,
            (unsigned long long)x->st.stalled_msgs, (unsigned long long)x->st.rest_requests,
            (unsigned long long)x->st.rest_errors, buf);
}

/* the memory goes when lws finalises the vhost: connections still closing
 * call back into x until then */
static void xs_release(feed_xsim *x)
{
    lws_sul_cancel(&x->sul_tick);
    for (xs_client *c = x->clients; c; c = c->next) {
        lws_sul_cancel(&c->sul_drop);
        lws_sul_cancel(&c->sul_shutdown);
        queue_clear(c);
        free(c->rx);
        c->rx = NULL;
    }
    for (size_t i = 0; x->series && i < x->n_series; i++)
        free(x->series[i].rows);
    free(x->series);
    free(x->scratch);
    free(x->scratch2);
    free(x->rules);
    free(x);
}

static void xs_finalize(struct lws_vhost *vh, void *arg)
{
    (void)vh;
    xs_release(arg);
}

void feed_xsim_free(feed_xsim *x)
{
    if (!x)
        return;
    lws_sul_cancel(&x->sul_tick);
    if (!x->vh) {
        xs_release(x);
        return;
    }
    feed_xsim_log_summary(x);
    lws_vhost_destroy(x->vh); /* closes the clients; xs_finalize frees x */
}

void feed_xsim_get_stats(const feed_xsim *x, feed_xsim_stats *out)
{
    if (x)
        *out = x->st;
    else
        memset(out, 0, sizeof *out);
}
