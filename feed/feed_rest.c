/* feed: REST kline backfill with libcurl. One easy handle reused for every
 * request (connection reuse), a token bucket per exchange, Retry-After on
 * 429/418 (Binance rest-api limits: "A Retry-After header is sent with a
 * 418 or 429"), jittered backoff on other failures, a circuit breaker, and
 * timeouts on everything (docs/feed.md).
 *
 * feed_rest_fetch blocks: call it from `papertrader fetch` or from the
 * worker thread in this file, never from the lws loop (it would stall it).
 * The worker hands results back through a bounded queue + a wake hook
 * (lws_cancel_service in feed_live.c). */
#include "feed_live_internal.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct feed_rest {
    feed_rest_config cfg;
    char base[256];
    CURL *h;
    feed_token_bucket tb;
    feed_breaker br;
    uint64_t rng;
    int64_t ban_until_ms; /* mono: after 429/418 no request before this */
    char *body;
    size_t body_n, body_cap;
    pt_candle *rows;
    size_t rows_cap;
    feed_funding *fund;     /* funding pages (perpetual venues), else NULL */
    size_t fund_cap;
    pthread_mutex_t mu; /* guards the counters below (read by the loop) */
    feed_live_stats st;
    char exch_err[256]; /* the exchange's text of the last 4xx */
};

static int default_sleep(void *ud, int64_t ms)
{
    (void)ud;
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) && errno == EINTR) {
    }
    return 0;
}

static size_t on_body(char *p, size_t sz, size_t nm, void *ud)
{
    feed_rest *r = ud;
    size_t n = sz * nm;
    /* MAXFILESIZE only helps when Content-Length is sent; bound here too */
    if (r->body_n + n + 1 > r->body_cap)
        return 0; /* -> CURLE_WRITE_ERROR */
    memcpy(r->body + r->body_n, p, n);
    r->body_n += n;
    r->body[r->body_n] = '\0';
    return n;
}

int feed_rest_new(const feed_rest_config *cfg, feed_rest **out)
{
    *out = NULL;
    if (!cfg || !cfg->ad)
        return PT_EINVAL;
    feed_rest *r = calloc(1, sizeof *r);
    if (!r)
        return PT_ENOMEM;
    r->cfg = *cfg;
    feed_rest_config *c = &r->cfg;
    if (c->max_attempts <= 0) c->max_attempts = 6;
    if (c->max_retry_after_ms <= 0) c->max_retry_after_ms = 600000;
    if (c->backoff_base_ms <= 0) c->backoff_base_ms = 500;
    if (c->backoff_cap_ms <= 0) c->backoff_cap_ms = 30000;
    if (c->connect_timeout_s <= 0) c->connect_timeout_s = 10;
    if (c->give_up_after_ms > 0 && c->connect_timeout_s * 1000 > c->give_up_after_ms)
        c->connect_timeout_s = (long)((c->give_up_after_ms + 999) / 1000);
    if (c->total_timeout_s <= 0) c->total_timeout_s = 30;
    if (c->max_body <= 0) c->max_body = 8L << 20;
    if (!c->sleep_ms) c->sleep_ms = default_sleep;
    const char *base = c->base_url ? c->base_url : c->ad->rest_url;
    size_t bl = strlen(base);
    while (bl && base[bl - 1] == '/')
        bl--; /* the adapter adds the path */
    int rc = PT_EINVAL;
    if (bl == 0 || bl >= sizeof r->base || (strncmp(base, "http://", 7) && strncmp(base, "https://", 8))) {
        pt_err_log("feed: REST base URL '%s' must be http(s)://host[:port]", base);
        goto fail;
    }
    memcpy(r->base, base, bl);
    feed_tb_init(&r->tb, c->bucket_capacity > 0 ? c->bucket_capacity : 10,
                 c->bucket_per_sec > 0 ? c->bucket_per_sec : 5);
    r->rng = c->seed ? c->seed : (uint64_t)pt_mono_ns();
    r->body_cap = (size_t)c->max_body + 1;
    r->rows_cap = (size_t)c->ad->rest_max_limit;
    r->body = malloc(r->body_cap);
    r->rows = calloc(r->rows_cap, sizeof *r->rows);
    r->fund_cap = c->ad->funding_parse ? (size_t)c->ad->funding_max_limit : 0;
    r->fund = r->fund_cap ? calloc(r->fund_cap, sizeof *r->fund) : NULL;
    rc = PT_ENOMEM;
    if (!r->body || !r->rows || (r->fund_cap && !r->fund) || pthread_mutex_init(&r->mu, NULL))
        goto fail;
    curl_global_init(CURL_GLOBAL_DEFAULT); /* refcounted; before any worker thread */
    r->h = curl_easy_init();
    if (!r->h)
        goto fail;
    CURL *h = r->h;
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, c->connect_timeout_s);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, c->total_timeout_s);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 64L); /* bytes/s: slow drip */
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 10L);
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)c->max_body);
    /* only the scheme the base URL names; no redirects to elsewhere */
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, strncmp(r->base, "https", 5) ? "http" : "https");
    curl_easy_setopt(h, CURLOPT_NOPROXY, "127.0.0.1,localhost,::1"); /* loopback never via a proxy */
    curl_easy_setopt(h, CURLOPT_USERAGENT, "papertrader/" PT_VERSION);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
    if (c->ca_file)
        curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
    *out = r;
    return PT_OK;
fail:
    feed_rest_free(r);
    return rc;
}

void feed_rest_free(feed_rest *r)
{
    if (!r)
        return;
    if (r->h) {
        curl_easy_cleanup(r->h);
        curl_global_cleanup();
        pthread_mutex_destroy(&r->mu);
    }
    free(r->body);
    free(r->rows);
    free(r->fund);
    free(r);
}

static void count(feed_rest *r, uint64_t *field)
{
    pthread_mutex_lock(&r->mu);
    (*field)++;
    pthread_mutex_unlock(&r->mu);
}

/* Sleeps until every gate is open: ban (Retry-After), breaker, bucket. */
static int wait_gates(feed_rest *r)
{
    for (;;) {
        int64_t now = pt_mono_ms(), wait = 0;
        if (now < r->ban_until_ms)
            wait = r->ban_until_ms - now;
        else if (r->br.state == FEED_BREAKER_OPEN && now < r->br.until_ms)
            wait = r->br.until_ms - now; /* peek first: allow() would claim the probe */
        else if ((wait = feed_tb_take(&r->tb, now, 1)) == 0) {
            if (feed_breaker_allow(&r->br, now, &wait))
                return PT_OK;
        } else
            count(r, &r->st.rate_limit_waits);
        if (wait < 1)
            wait = 1;
        if (r->cfg.sleep_ms(r->cfg.sleep_ud, wait))
            return PT_EBUSY; /* shutting down */
    }
}

static void failed(feed_rest *r, int attempt, int breaker)
{
    if (breaker)
        feed_breaker_record(&r->br, pt_mono_ms(), 0, feed_rng_next(&r->rng));
    int64_t d = feed_backoff_delay(r->cfg.backoff_base_ms, r->cfg.backoff_cap_ms, attempt, feed_rng_next(&r->rng));
    int64_t until = pt_mono_ms() + d;
    if (until > r->ban_until_ms)
        r->ban_until_ms = until;
}

/* One page with retries. Rows land in r->rows[0..*n). */
int feed_rest_lat_bucket(double ms)
{
    int b = 0;
    for (double edge = 1; b < FEED_REST_LAT_BUCKETS - 1 && ms >= edge; edge *= 2)
        b++;
    return b;
}

double feed_rest_lat_mid_ms(int bucket)
{
    return bucket <= 0 ? 0.5 : ldexp(1.0, bucket - 1) * 1.41421356;
}

static void timed(feed_rest *r, int64_t t0_ns, int ok)
{
    int b = feed_rest_lat_bucket((double)(pt_mono_ns() - t0_ns) / 1e6);
    pthread_mutex_lock(&r->mu);
    (ok ? r->st.rest_lat_ok : r->st.rest_lat_failed)[b]++;
    pthread_mutex_unlock(&r->mu);
}

/* The message of an exchange's error body: Binance {"code","msg"}, Bitvavo
 * {"errorCode","error"}, Bybit {"retCode","retMsg"}; else the body's first line, cut. */
static void exchange_text(const char *body, char *out, size_t cap)
{
    cJSON *j = cJSON_Parse(body);
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "msg");
    if (!cJSON_IsString(m))
        m = cJSON_GetObjectItemCaseSensitive(j, "retMsg"); /* Bybit v5 */
    if (!cJSON_IsString(m))
        m = cJSON_GetObjectItemCaseSensitive(j, "message"); /* Coinbase {"error":"NOT_FOUND","message"} */
    if (!cJSON_IsString(m))
        m = cJSON_GetObjectItemCaseSensitive(j, "error");
    if (cJSON_IsString(m))
        snprintf(out, cap, "%.200s", m->valuestring);
    else
        snprintf(out, cap, "%.*s", (int)strcspn(body, "\r\n") < 200 ? (int)strcspn(body, "\r\n") : 200, body);
    cJSON_Delete(j);
}

const char *feed_rest_exchange_error(const feed_rest *r) { return r->exch_err; }

/* Network failures of this page past the give-up budget (the next backoff
 * included): 1 when it is time to stop. */
static int out_of_budget(const feed_rest *r, int64_t first_fail_ms)
{
    int64_t budget = r->cfg.give_up_after_ms;
    return budget > 0 && first_fail_ms > 0 && r->ban_until_ms - first_fail_ms > budget;
}

/* A 200 body -> rows (r->rows or r->fund, their count in n), PT_EINVAL /
 * PT_ERATELIMIT (the venue refused: its text in err) or another code
 * (unusable body: retried). ud: the parser's own (the token's URL). */
typedef int (*page_parse_fn)(feed_rest *r, const char *symbol, void *ud, size_t *n, uint64_t drops[FEED_DROP__COUNT],
                             char *err, size_t errcap);

static int parse_candles(feed_rest *r, const char *symbol, void *ud, size_t *n, uint64_t drops[FEED_DROP__COUNT],
                         char *err, size_t errcap)
{
    (void)ud;
    const feed_adapter *ad = r->cfg.ad;
    if (r->cfg.mark)
        return ad->mark_parse(r->body, r->body_n, symbol, r->rows, r->rows_cap, n, drops, err, errcap);
    return ad->rest_parse ? ad->rest_parse(r->body, r->body_n, symbol, r->rows, r->rows_cap, n, drops, err, errcap)
                          : feed_rest_parse_rows(r->body, r->body_n, symbol, r->rows, r->rows_cap, n, drops);
}

static int parse_funding(feed_rest *r, const char *symbol, void *ud, size_t *n, uint64_t drops[FEED_DROP__COUNT],
                         char *err, size_t errcap)
{
    (void)ud;
    return r->cfg.ad->funding_parse(r->body, r->body_n, symbol, r->fund, r->fund_cap, n, drops, err, errcap);
}

static int fetch_page(feed_rest *r, const char *url, const char *symbol, int post, page_parse_fn parse, void *ud,
                      size_t *n)
{
    int rc = PT_ENET;
    curl_easy_setopt(r->h, CURLOPT_HTTPGET, 1L);
    if (post) /* [token] of feed_adapter_kucoin.c: an empty POST */
        curl_easy_setopt(r->h, CURLOPT_POSTFIELDS, "");
    int64_t first_fail = 0;
    for (int attempt = 0; attempt < r->cfg.max_attempts; attempt++) {
        if ((rc = wait_gates(r)))
            return rc;
        r->body_n = 0;
        r->body[0] = '\0';
        curl_easy_setopt(r->h, CURLOPT_URL, url);
        int64_t t0 = pt_mono_ns();
        CURLcode cc = curl_easy_perform(r->h);
        long status = 0;
        curl_easy_getinfo(r->h, CURLINFO_RESPONSE_CODE, &status);
        timed(r, t0, cc == CURLE_OK && status == 200); /* latency and error rate (health) */
        if (cc != CURLE_OK) {
            count(r, &r->st.rest_net_err);
            pt_warn("feed: REST %s attempt %d: %s", symbol, attempt + 1, curl_easy_strerror(cc));
            if (!first_fail)
                first_fail = t0 / 1000000;
            failed(r, attempt, 1);
            rc = cc == CURLE_OPERATION_TIMEDOUT ? PT_ETIMEOUT : PT_ENET;
            if (out_of_budget(r, first_fail)) {
                pt_err_log("feed: REST %s: %s; giving up within the %lld s budget", symbol,
                           curl_easy_strerror(cc), (long long)(r->cfg.give_up_after_ms / 1000));
                return rc;
            }
            continue;
        }
        if (status == 429 || status == 418 || (status && status == r->cfg.ad->rate_limit_status)) {
            curl_off_t ra = 0;
            curl_easy_getinfo(r->h, CURLINFO_RETRY_AFTER, &ra);
            int clamped = 0;
            int64_t wait = feed_retry_after_ms((long long)ra, r->cfg.max_retry_after_ms, attempt,
                                               r->cfg.backoff_base_ms, r->cfg.backoff_cap_ms,
                                               feed_rng_next(&r->rng), &clamped);
            count(r, &r->st.rest_rate_limited);
            pt_warn("feed: REST %s: HTTP %ld, Retry-After %lld s -> waiting %lld ms%s", symbol, status,
                    (long long)ra, (long long)wait, clamped ? " (clamped to the maximum)" : "");
            /* after a 418 (ban) or 429, nothing goes out before the wait */
            r->ban_until_ms = pt_mono_ms() + wait;
            feed_breaker_record(&r->br, pt_mono_ms(), 1, 0); /* the server answered: not a breaker failure */
            rc = PT_ERATELIMIT;
            continue;
        }
        if (status != 200) {
            count(r, &r->st.rest_http_err);
            pt_warn("feed: REST %s: HTTP %ld: %.120s", symbol, status, r->body);
            if (status >= 400 && status < 500) {
                exchange_text(r->body, r->exch_err, sizeof r->exch_err);
                feed_breaker_record(&r->br, pt_mono_ms(), 1, 0);
                return PT_EINVAL; /* bad symbol / interval: retrying will not help */
            }
            failed(r, attempt, 1);
            rc = PT_ENET;
            continue;
        }
        char venue_err[sizeof r->exch_err] = "";
        uint64_t drops[FEED_DROP__COUNT] = {0};
        rc = parse(r, symbol, ud, n, drops, venue_err, sizeof venue_err);
        pthread_mutex_lock(&r->mu);
        for (int i = 0; i < FEED_DROP__COUNT; i++)
            r->st.dropped[i] += drops[i];
        pthread_mutex_unlock(&r->mu);
        if (rc == PT_EINVAL || rc == PT_ERATELIMIT) { /* the venue refused inside a 200 body */
            pt_warn("feed: REST %s: %s", symbol, venue_err);
            snprintf(r->exch_err, sizeof r->exch_err, "%s", venue_err);
            count(r, rc == PT_EINVAL ? &r->st.rest_http_err : &r->st.rest_rate_limited);
            if (rc == PT_EINVAL)
                return rc;
            failed(r, attempt, 0);
            continue;
        }
        if (rc) {
            /* truncated body / HTML with 200: commit nothing, retry */
            count(r, &r->st.rest_parse_err);
            failed(r, attempt, 1);
            rc = PT_EPARSE;
            continue;
        }
        count(r, &r->st.rest_ok);
        feed_breaker_record(&r->br, pt_mono_ms(), 1, 0);
        return PT_OK;
    }
    pt_err_log("feed: REST %s: giving up after %d attempts (%s)", symbol, r->cfg.max_attempts, pt_strerror(rc));
    return rc;
}

int feed_rest_fetch(feed_rest *r, const char *symbol, int64_t interval_ms, int64_t start_ms, int64_t end_ms,
                    feed_fetch_fn fn, void *ud)
{
    if (interval_ms <= 0)
        return PT_EINVAL;
    /* [start, end) on the exchange's clock; a bar is final once its close
     * time is at or before end (the caller knows the exchange's time: the
     * live feed passes the open of the bar in progress). No end: now. */
    if (end_ms <= 0)
        end_ms = pt_wall_ms();
    /* align up: klines are identified by open time on interval boundaries */
    if (start_ms % interval_ms)
        start_ms += interval_ms - ((start_ms % interval_ms) + interval_ms) % interval_ms;
    int64_t span = (int64_t)r->cfg.ad->rest_max_limit * interval_ms;
    char url[1024];
    /* open_ended: the newest row of each page is held back until a later
     * page shows the exchange has more; when a window comes back empty the
     * held row is the exchange's bar in progress and is dropped */
    pt_candle held;
    int have_held = 0, seen = 0;
    r->exch_err[0] = '\0';
    while (start_ms < end_ms) {
        /* windows by time, not by rows: exchanges that omit empty bars
         * (Bitvavo) still advance (rest-api.md: startTime = last + interval) */
        int64_t win_end = start_ms + span - 1;
        if (win_end > end_ms - 1)
            win_end = end_ms - 1;
        int rc = (r->cfg.mark ? r->cfg.ad->mark_url_for : r->cfg.ad->rest_url_for)(
            r->base, symbol, interval_ms, start_ms, win_end, r->cfg.ad->rest_max_limit, url, sizeof url);
        if (rc)
            return rc;
        size_t n = 0;
        if ((rc = fetch_page(r, url, symbol, 0, parse_candles, NULL, &n)))
            return rc;
        int in_window = 0;
        for (size_t i = 0; i < n; i++) {
            const pt_candle *c = &r->rows[i];
            if (c->ts_ms < start_ms || c->ts_ms > win_end)
                continue; /* outside what we asked for */
            if (c->ts_ms + interval_ms > end_ms)
                return have_held ? fn(ud, &held) : PT_OK; /* the still-open bar: not final */
            in_window = 1;
            if (have_held && (rc = fn(ud, &held)))
                return rc;
            have_held = 0;
            if (r->cfg.open_ended)
                held = *c, have_held = 1;
            else if ((rc = fn(ud, c)))
                return rc;
        }
        seen |= in_window;
        if (r->cfg.open_ended && seen && !in_window) {
            pt_info("feed: REST %s: nothing newer from the exchange; stopping at its last closed candle", symbol);
            return PT_OK; /* the held row was the bar in progress */
        }
        start_ms = win_end + 1;
    }
    return have_held ? fn(ud, &held) : PT_OK;
}

typedef struct page_token {
    const char *connect_id;
    char *url;
    size_t cap;
    int64_t *ping_ms;
} page_token;

static int parse_token(feed_rest *r, const char *symbol, void *ud, size_t *n, uint64_t drops[FEED_DROP__COUNT],
                       char *err, size_t errcap)
{
    (void)symbol, (void)drops;
    page_token *t = ud;
    *n = 0;
    return r->cfg.ad->token_parse(r->body, r->body_n, t->connect_id, t->url, t->cap, t->ping_ms, err, errcap);
}

int feed_rest_token(feed_rest *r, const char *connect_id, char *url, size_t cap, int64_t *ping_ms)
{
    char u[512];
    if (!r->cfg.ad->token_path || !r->cfg.ad->token_parse)
        return PT_EUNSUPPORTED;
    if (snprintf(u, sizeof u, "%s%s", r->base, r->cfg.ad->token_path) >= (int)sizeof u)
        return PT_EFULL;
    r->exch_err[0] = '\0';
    *ping_ms = 0;
    page_token t = {.connect_id = connect_id, .url = url, .cap = cap, .ping_ms = ping_ms};
    size_t n;
    return fetch_page(r, u, "connect token", 1, parse_token, &t, &n);
}

static int parse_json_only(feed_rest *r, const char *symbol, void *ud, size_t *n, uint64_t drops[FEED_DROP__COUNT],
                           char *err, size_t errcap)
{
    (void)ud, (void)err, (void)errcap;
    *n = 0;
    cJSON *j = feed_rest_json(r->body, r->body_n, symbol, drops); /* a 200 with HTML: retried */
    cJSON_Delete(j);
    return j ? PT_OK : PT_EPARSE;
}

int feed_rest_get_body(feed_rest *r, const char *url, const char *what, const char **body, size_t *len)
{
    size_t n;
    r->exch_err[0] = '\0';
    int rc = fetch_page(r, url, what, 0, parse_json_only, NULL, &n);
    *body = rc ? NULL : r->body;
    *len = rc ? 0 : r->body_n;
    return rc;
}

int feed_rest_fetch_funding(feed_rest *r, const char *symbol, int64_t start_ms, int64_t end_ms, feed_funding_fn fn,
                            void *ud)
{
    if (!r->fund)
        return PT_EUNSUPPORTED;
    if (end_ms <= 0)
        end_ms = pt_wall_ms();
    char url[1024];
    r->exch_err[0] = '\0';
    /* pages by rows: the venue answers the first `limit` settlements from
     * startTime (Get-Funding-Rate-History); the next page starts after the
     * last one, so each page moves forward or the loop ends */
    while (start_ms < end_ms) {
        int rc = r->cfg.ad->funding_url_for(r->base, symbol, start_ms, end_ms - 1, (int)r->fund_cap, url, sizeof url);
        size_t n = 0;
        if (rc || (rc = fetch_page(r, url, symbol, 0, parse_funding, NULL, &n)))
            return rc;
        int64_t last = INT64_MIN;
        for (size_t i = 0; i < n; i++) {
            const feed_funding *f = &r->fund[i];
            if (f->ts_ms < start_ms || f->ts_ms >= end_ms)
                continue; /* outside what we asked for */
            if ((rc = fn(ud, f)))
                return rc;
            last = f->ts_ms;
        }
        if (n < r->fund_cap || last == INT64_MIN)
            return PT_OK;
        start_ms = last + 1;
    }
    return PT_OK;
}

void feed_rest_stats(const feed_rest *r, feed_live_stats *st)
{
    feed_rest *m = (feed_rest *)r; /* the mutex, not the data, is mutated */
    pthread_mutex_lock(&m->mu);
    st->rest_ok += r->st.rest_ok;
    st->rest_http_err += r->st.rest_http_err;
    st->rest_net_err += r->st.rest_net_err;
    st->rest_rate_limited += r->st.rest_rate_limited;
    st->rest_parse_err += r->st.rest_parse_err;
    st->rate_limit_waits += r->st.rate_limit_waits;
    for (int i = 0; i < FEED_REST_LAT_BUCKETS; i++) {
        st->rest_lat_ok[i] += r->st.rest_lat_ok[i];
        st->rest_lat_failed[i] += r->st.rest_lat_failed[i];
    }
    for (int i = 0; i < FEED_DROP__COUNT; i++)
        st->dropped[i] += r->st.dropped[i];
    st->breaker = r->br.state;
    pthread_mutex_unlock(&m->mu);
}

/* ------------------------------------------------------ synchronous fetch */
/* what = 'c' candles, 'm' mark klines, 'f' funding: a client for it, or why not */
static int fetch_open(const feed_fetch_opts *o, int what, feed_rest **out)
{
    *out = NULL;
    const feed_adapter *ad = feed_adapter_find(o->exchange);
    if (!ad) {
        pt_err_log("feed: unknown exchange '%s' (%s)", o->exchange ? o->exchange : "", feed_adapter_names());
        return PT_EUNSUPPORTED;
    }
    if (what != 'c' && !ad->perp) {
        pt_err_log("feed: %s is a spot exchange: no %s (a perpetual venue has them: binance-futures)", ad->name,
                   what == 'm' ? "mark-price klines" : "funding history");
        return PT_EUNSUPPORTED;
    }
    char iv[16];
    if (what != 'f' && ad->interval_name(o->interval_ms, iv, sizeof iv)) {
        pt_err_log("feed: %s has no interval of %lld ms", ad->name, (long long)o->interval_ms);
        return PT_EUNSUPPORTED;
    }
    feed_rest_config rc_cfg = {.ad = ad,
                               .base_url = o->rest_url,
                               .ca_file = o->ca_file,
                               .max_attempts = o->max_attempts,
                               .max_retry_after_ms = o->max_retry_after_ms,
                               .give_up_after_ms = o->give_up_after_ms > 0 ? o->give_up_after_ms : 15000,
                               .open_ended = o->until_ms <= 0,
                               .mark = what == 'm'};
    return feed_rest_new(&rc_cfg, out);
}

/* history: never past our clock (the bar still open is left out) */
static int64_t fetch_until(const feed_fetch_opts *o)
{
    int64_t now = pt_wall_ms();
    return o->until_ms > 0 && o->until_ms < now ? o->until_ms : now;
}

static void fetch_close(feed_rest *r, const feed_fetch_opts *o, feed_live_stats *stats)
{
    if (o->err && o->err_cap)
        snprintf(o->err, o->err_cap, "%s", feed_rest_exchange_error(r));
    if (stats)
        feed_rest_stats(r, stats);
    feed_rest_free(r);
}

int feed_fetch_funding(const feed_fetch_opts *o, feed_funding_fn fn, void *ud, feed_live_stats *stats)
{
    feed_rest *r = NULL;
    int rc = fetch_open(o, 'f', &r);
    if (rc)
        return rc;
    rc = feed_rest_fetch_funding(r, o->symbol, o->since_ms, fetch_until(o), fn, ud);
    fetch_close(r, o, stats);
    return rc;
}

int feed_check_perp_symbols(const feed_fetch_opts *o, const char *const *symbols, size_t n, char *why, size_t cap)
{
    feed_rest *r = NULL;
    int rc = fetch_open(o, 'f', &r);
    if (rc)
        return rc;
    char url[512];
    const char *body = NULL;
    size_t len = 0;
    snprintf(url, sizeof url, "%s%s", r->base, r->cfg.ad->info_path);
    rc = feed_rest_get_body(r, url, "exchange info", &body, &len);
    if (rc && r->exch_err[0])
        snprintf(why, cap, "exchange info refused: %s", r->exch_err);
    else if (rc)
        snprintf(why, cap, "exchange info: %s", pt_strerror(rc));
    for (size_t i = 0; !rc && i < n; i++)
        rc = r->cfg.ad->info_check(body, len, symbols[i], why, cap);
    feed_rest_free(r);
    return rc;
}

int feed_fetch_history(const feed_fetch_opts *o, feed_fetch_fn fn, void *ud, feed_live_stats *stats)
{
    feed_rest *r = NULL;
    int rc = fetch_open(o, o->mark ? 'm' : 'c', &r);
    if (rc)
        return rc;
    rc = feed_rest_fetch(r, o->symbol, o->interval_ms, o->since_ms, fetch_until(o), fn, ud);
    fetch_close(r, o, stats);
    return rc;
}

/* ------------------------------------------------------------ worker thread
 * Bounded queues both ways; the loop thread submits and polls, the worker
 * blocks in curl. wake() (lws_cancel_service) is the only call into lws
 * from this thread: the one lws API that is thread-safe. */
#define FEED_RQ 16
#define FEED_MAX_BACKFILL 100000 /* candles per job: ~69 days of 1m bars */

typedef struct rest_job {
    char symbol[PT_SYMBOL_MAX]; /* token job: the connectId */
    int64_t interval_ms, start_ms, end_ms;
    int token;
} rest_job;

struct feed_rest_worker {
    feed_rest *r;
    pthread_t th;
    int started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop;
    rest_job jobs[FEED_RQ];
    size_t j_head, j_n;
    feed_rest_result res[FEED_RQ];
    size_t r_head, r_n;
    void (*wake)(void *ud);
    void *wake_ud;
};

/* interruptible sleep for the worker: wakes early on stop */
static int worker_sleep(void *ud, int64_t ms)
{
    feed_rest_worker *w = ud;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&w->mu);
    while (!w->stop && pthread_cond_timedwait(&w->cv, &w->mu, &ts) != ETIMEDOUT) {
    }
    int stop = w->stop;
    pthread_mutex_unlock(&w->mu);
    return stop;
}

typedef struct collect {
    pt_candle *rows;
    size_t n, cap;
} collect;

static int collect_row(void *ud, const pt_candle *c)
{
    collect *k = ud;
    if (k->n == k->cap) {
        if (k->cap >= FEED_MAX_BACKFILL)
            return PT_EFULL;
        size_t nc = k->cap ? k->cap * 2 : 256;
        pt_candle *p = realloc(k->rows, nc * sizeof *p);
        if (!p)
            return PT_ENOMEM;
        k->rows = p;
        k->cap = nc;
    }
    k->rows[k->n++] = *c;
    return PT_OK;
}

static void worker_fetch(feed_rest_worker *w, const rest_job *job, feed_rest_result *res)
{
    collect k = {0};
    int64_t end = job->end_ms > 0 ? job->end_ms : pt_wall_ms();
    int rc = feed_rest_fetch(w->r, job->symbol, job->interval_ms, job->start_ms, end, collect_row, &k);
    *res = (feed_rest_result){.rows = k.rows, .n = k.n, .rc = rc, .start_ms = job->start_ms, .end_ms = end};
    memcpy(res->symbol, job->symbol, sizeof res->symbol);
}

static void worker_token(feed_rest_worker *w, const rest_job *job, feed_rest_result *res)
{
    memset(res, 0, sizeof *res);
    res->token = 1;
    res->rc = feed_rest_token(w->r, job->symbol, res->url, sizeof res->url, &res->ping_ms);
    snprintf(res->err, sizeof res->err, "%s", feed_rest_exchange_error(w->r));
}

static void *worker_main(void *arg)
{
    feed_rest_worker *w = arg;
    for (;;) {
        pthread_mutex_lock(&w->mu);
        while (!w->stop && w->j_n == 0)
            pthread_cond_wait(&w->cv, &w->mu);
        if (w->stop) {
            pthread_mutex_unlock(&w->mu);
            break;
        }
        rest_job job = w->jobs[w->j_head];
        w->j_head = (w->j_head + 1) % FEED_RQ;
        w->j_n--;
        pthread_mutex_unlock(&w->mu);

        feed_rest_result res;
        if (job.token)
            worker_token(w, &job, &res);
        else
            worker_fetch(w, &job, &res);
        pthread_mutex_lock(&w->mu);
        /* result slots == job slots and submit checks both, so this fits */
        w->res[(w->r_head + w->r_n) % FEED_RQ] = res;
        w->r_n++;
        pthread_mutex_unlock(&w->mu);
        if (w->wake)
            w->wake(w->wake_ud);
    }
    return NULL;
}

int feed_rest_worker_new(const feed_rest_config *cfg, void (*wake)(void *), void *wake_ud,
                         feed_rest_worker **out)
{
    *out = NULL;
    feed_rest_worker *w = calloc(1, sizeof *w);
    if (!w)
        return PT_ENOMEM;
    w->wake = wake;
    w->wake_ud = wake_ud;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    feed_rest_config c = *cfg;
    c.sleep_ms = worker_sleep;
    c.sleep_ud = w;
    int rc = feed_rest_new(&c, &w->r);
    if (rc)
        goto fail;
    rc = PT_ENOMEM;
    if (pthread_create(&w->th, NULL, worker_main, w))
        goto fail;
    w->started = 1;
    *out = w;
    return PT_OK;
fail:
    feed_rest_worker_free(w);
    return rc;
}

static int worker_submit(feed_rest_worker *w, const rest_job *job)
{
    int rc = PT_EFULL;
    pthread_mutex_lock(&w->mu);
    if (w->j_n + w->r_n < FEED_RQ) {
        w->jobs[(w->j_head + w->j_n) % FEED_RQ] = *job;
        w->j_n++;
        pthread_cond_broadcast(&w->cv);
        rc = PT_OK;
    }
    pthread_mutex_unlock(&w->mu);
    return rc;
}

int feed_rest_worker_submit(feed_rest_worker *w, const char *symbol, int64_t interval_ms, int64_t start_ms,
                            int64_t end_ms)
{
    rest_job j = {.interval_ms = interval_ms, .start_ms = start_ms, .end_ms = end_ms};
    snprintf(j.symbol, sizeof j.symbol, "%s", symbol);
    return worker_submit(w, &j);
}

int feed_rest_worker_submit_token(feed_rest_worker *w, const char *connect_id)
{
    rest_job j = {.token = 1};
    snprintf(j.symbol, sizeof j.symbol, "%s", connect_id);
    return worker_submit(w, &j);
}

int feed_rest_worker_poll(feed_rest_worker *w, feed_rest_result *out)
{
    int rc = PT_EOF;
    pthread_mutex_lock(&w->mu);
    if (w->r_n) {
        *out = w->res[w->r_head];
        w->r_head = (w->r_head + 1) % FEED_RQ;
        w->r_n--;
        rc = PT_OK;
    }
    pthread_mutex_unlock(&w->mu);
    return rc;
}

void feed_rest_worker_stats(feed_rest_worker *w, feed_live_stats *st)
{
    feed_rest_stats(w->r, st);
}

void feed_rest_worker_free(feed_rest_worker *w)
{
    if (!w)
        return;
    if (w->started) {
        pthread_mutex_lock(&w->mu);
        w->stop = 1;
        pthread_cond_broadcast(&w->cv);
        pthread_mutex_unlock(&w->mu);
        pthread_join(w->th, NULL); /* a running curl call ends by its timeout */
    }
    for (size_t i = 0; i < w->r_n; i++)
        free(w->res[(w->r_head + i) % FEED_RQ].rows);
    feed_rest_free(w->r);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    free(w);
}
