/* feed live part: backoff bounds and jitter, circuit breaker states, token
 * bucket, Retry-After policy, and the merge contract (each closed candle
 * exactly once, in order, across backfills, duplicates and disorder). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <libwebsockets.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "feed_live_internal.h"

static void test_backoff_bounds(void **st)
{
    (void)st;
    uint64_t rng = 42;
    const int64_t base = 10, cap = 300;
    int64_t maxseen[12] = {0};
    for (int n = 0; n < 12; n++) {
        int64_t bound = base << n;
        if (bound > cap)
            bound = cap;
        for (int i = 0; i < 2000; i++) {
            int64_t d = feed_backoff_delay(base, cap, n, feed_rng_next(&rng));
            assert_true(d >= 0 && d <= bound);
            if (d > maxseen[n])
                maxseen[n] = d;
        }
        assert_true(maxseen[n] >= bound * 9 / 10); /* the range is really used */
    }
    /* mean after saturation ~ cap/2 (full jitter) */
    double sum = 0;
    const int N = 20000;
    for (int i = 0; i < N; i++)
        sum += (double)feed_backoff_delay(base, cap, 50, feed_rng_next(&rng));
    double mean = sum / N;
    assert_true(mean > cap / 2.0 * 0.9 && mean < cap / 2.0 * 1.1);
    /* huge attempt numbers do not overflow */
    assert_true(feed_backoff_delay(500, 30000, 100000, UINT64_MAX) <= 30000);
    /* edge values */
    assert_true(feed_backoff_delay(0, 0, 0, 12345) <= 1);
}

static void test_breaker(void **st)
{
    (void)st;
    feed_breaker b = {.threshold = 3, .open_ms = 1000};
    int64_t wait;
    for (int i = 0; i < 2; i++) {
        assert_true(feed_breaker_allow(&b, 0, &wait));
        feed_breaker_record(&b, 0, 0, 7);
        assert_int_equal(b.state, FEED_BREAKER_CLOSED);
    }
    assert_true(feed_breaker_allow(&b, 0, &wait));
    feed_breaker_record(&b, 100, 0, 7); /* third failure opens */
    assert_int_equal(b.state, FEED_BREAKER_OPEN);
    assert_true(b.until_ms >= 100 + 750 && b.until_ms <= 100 + 1250); /* jittered +-25 % */
    assert_false(feed_breaker_allow(&b, 200, &wait));
    assert_int_equal(wait, b.until_ms - 200);
    /* due: exactly one probe */
    assert_true(feed_breaker_allow(&b, b.until_ms, &wait));
    assert_int_equal(b.state, FEED_BREAKER_HALF_OPEN);
    assert_false(feed_breaker_allow(&b, b.until_ms, &wait));
    /* probe fails -> open again with a new period */
    int64_t t = b.until_ms;
    feed_breaker_record(&b, t, 0, 99);
    assert_int_equal(b.state, FEED_BREAKER_OPEN);
    assert_true(b.until_ms > t);
    assert_true(feed_breaker_allow(&b, b.until_ms + 1, &wait));
    feed_breaker_record(&b, b.until_ms + 1, 1, 0); /* probe succeeds -> closed */
    assert_int_equal(b.state, FEED_BREAKER_CLOSED);
    assert_int_equal(b.failures, 0);
    assert_int_equal(b.opens, 2);
    assert_string_equal(feed_breaker_name(FEED_BREAKER_HALF_OPEN), "half_open");
}

static void test_token_bucket(void **st)
{
    (void)st;
    feed_token_bucket tb;
    feed_tb_init(&tb, 3, 2); /* burst 3, 2 per second */
    for (int i = 0; i < 3; i++)
        assert_int_equal(feed_tb_take(&tb, 1000, 1), 0);
    int64_t w = feed_tb_take(&tb, 1000, 1);
    assert_true(w >= 490 && w <= 510);
    assert_int_equal(feed_tb_take(&tb, 1500, 1), 0); /* refilled one */
    assert_true(feed_tb_take(&tb, 1500, 1) > 0);
    assert_int_equal(feed_tb_take(&tb, 100000, 1), 0); /* long idle: capped at burst */
    assert_int_equal(feed_tb_take(&tb, 100000, 1), 0);
    assert_int_equal(feed_tb_take(&tb, 100000, 1), 0);
    assert_true(feed_tb_take(&tb, 100000, 1) > 0);
    assert_true(feed_tb_take(&tb, 50000, 1) > 0); /* clock going back adds nothing */
    /* steady rate: over 10 s no more than burst + 20 requests pass */
    feed_tb_init(&tb, 3, 2);
    int passed = 0;
    for (int64_t t = 0; t <= 10000; t += 10)
        passed += feed_tb_take(&tb, t, 1) == 0;
    assert_true(passed >= 22 && passed <= 23);
}

static void test_retry_after(void **st)
{
    (void)st;
    int cl;
    assert_int_equal(feed_retry_after_ms(2, 600000, 0, 500, 30000, 1, &cl), 2000);
    assert_int_equal(cl, 0);
    assert_int_equal(feed_retry_after_ms(999999999, 600000, 0, 500, 30000, 1, &cl), 600000);
    assert_int_equal(cl, 1);
    assert_int_equal(feed_retry_after_ms(1, 600000, 0, 500, 30000, 1, &cl), 1000);
    /* missing (curl gives 0) or negative: jittered backoff, at least 1 s */
    uint64_t rng = 5;
    for (int a = 0; a < 20; a++) {
        int64_t d = feed_retry_after_ms(0, 600000, a, 500, 30000, feed_rng_next(&rng), &cl);
        assert_true(d >= 1000 && d <= 30000);
        d = feed_retry_after_ms(-5, 600000, a, 500, 30000, feed_rng_next(&rng), &cl);
        assert_true(d >= 1000 && d <= 30000);
    }
    /* a max below 1 s is raised to 1 s */
    assert_int_equal(feed_retry_after_ms(5, 10, 0, 500, 30000, 1, &cl), 1000);
}

/* ---------------------------------------------------------------- merge */
static int64_t got[256];
static size_t n_got;
static void sink(void *ud, const pt_candle *c)
{
    (void)ud;
    assert_int_equal(c->closed, 1);
    if (n_got < 256)
        got[n_got++] = c->ts_ms;
}
static pt_candle bar(int64_t i)
{
    pt_candle c;
    memset(&c, 0, sizeof c);
    strcpy(c.symbol, "BTCUSDT");
    c.ts_ms = 1700000000000LL + i * 60000;
    c.open = c.high = c.low = c.close = (double)(100 + i);
    c.closed = 1;
    return c;
}
static void expect_series(int64_t from, int64_t to)
{
    assert_int_equal(n_got, (size_t)(to - from + 1));
    for (size_t i = 0; i < n_got; i++)
        assert_true(got[i] == bar(from + (int64_t)i).ts_ms);
}

static void test_merge_dup_order(void **st)
{
    (void)st;
    feed_series s;
    n_got = 0;
    assert_int_equal(feed_series_init(&s, "BTCUSDT", 60000, 8), PT_OK);
    for (int i = 0; i < 5; i++) {
        pt_candle c = bar(i);
        assert_int_equal(feed_series_offer(&s, &c, sink, NULL), FEED_OFFER_EMIT);
    }
    /* after a reconnect: the last 3 re-sent, plus one never seen and older */
    for (int i = 2; i < 5; i++) {
        pt_candle c = bar(i);
        assert_int_equal(feed_series_offer(&s, &c, sink, NULL), FEED_OFFER_DUPLICATE);
    }
    pt_candle old = bar(-3);
    assert_int_equal(feed_series_offer(&s, &old, sink, NULL), FEED_OFFER_OUT_OF_ORDER);
    assert_int_equal(s.st.duplicates, 3);
    assert_int_equal(s.st.out_of_order, 1);
    expect_series(0, 4);
    feed_series_free(&s);
    feed_series_free(NULL);
}

static void test_merge_gap_backfill(void **st)
{
    (void)st;
    feed_series s;
    n_got = 0;
    assert_int_equal(feed_series_init(&s, "BTCUSDT", 60000, 8), PT_OK);
    pt_candle c = bar(0);
    feed_series_offer(&s, &c, sink, NULL);
    c = bar(5); /* 1..4 missed */
    assert_int_equal(feed_series_offer(&s, &c, sink, NULL), FEED_OFFER_GAP);
    assert_true(s.gap_from == bar(1).ts_ms && s.gap_to == bar(5).ts_ms);
    c = bar(6); /* arrives while the backfill runs */
    assert_int_equal(feed_series_offer(&s, &c, sink, NULL), FEED_OFFER_BUFFERED);
    c = bar(6);
    assert_int_equal(feed_series_offer(&s, &c, sink, NULL), FEED_OFFER_DUPLICATE);
    expect_series(0, 0);
    /* REST returns 1..5 (overlapping the buffered 5) plus an old row */
    pt_candle rows[6] = {bar(0), bar(1), bar(2), bar(3), bar(4), bar(5)};
    rows[5].close = 999; /* REST wins a tie */
    assert_int_equal(feed_series_end_backfill(&s, rows, 6, 1, bar(5).ts_ms, sink, NULL), 0);
    expect_series(0, 6);
    assert_int_equal(s.backfilling, 0);
    assert_int_equal(s.st.gaps, 0);
    c = bar(7);
    assert_int_equal(feed_series_offer(&s, &c, sink, NULL), FEED_OFFER_EMIT);
    expect_series(0, 7);
    feed_series_free(&s);
}

static void test_merge_backfill_fail_and_overflow(void **st)
{
    (void)st;
    feed_series s;
    n_got = 0;
    assert_int_equal(feed_series_init(&s, "BTCUSDT", 60000, 2), PT_OK);
    pt_candle c = bar(0);
    feed_series_offer(&s, &c, sink, NULL);
    feed_series_begin_backfill(&s); /* reconnect */
    c = bar(3);
    assert_int_equal(feed_series_offer(&s, &c, sink, NULL), FEED_OFFER_BUFFERED);
    c = bar(2); /* out of order inside the buffer: sorted in */
    assert_int_equal(feed_series_offer(&s, &c, sink, NULL), FEED_OFFER_BUFFERED);
    c = bar(4);
    assert_int_equal(feed_series_offer(&s, &c, sink, NULL), FEED_OFFER_OVERFLOW);
    assert_int_equal(s.overflowed, 1);
    /* the fetch failed: buffered candles still go out once, the hole counted */
    assert_int_equal(feed_series_end_backfill(&s, NULL, 0, 0, 0, sink, NULL), 0);
    assert_int_equal(n_got, 3);
    assert_true(got[1] == bar(2).ts_ms && got[2] == bar(3).ts_ms);
    assert_int_equal(s.st.gaps, 1);
    assert_int_equal(s.st.gap_candles, 1);
    feed_series_free(&s);
}

/* A reconnect while a gap backfill runs: bars lost on the stream after the
 * range REST was asked for must be fetched too, not skipped as a gap. */
static void test_merge_hole_past_coverage(void **st)
{
    (void)st;
    feed_series s;
    n_got = 0;
    assert_int_equal(feed_series_init(&s, "BTCUSDT", 60000, 8), PT_OK);
    pt_candle c = bar(0);
    feed_series_offer(&s, &c, sink, NULL);
    c = bar(3); /* 1..2 missed: backfill [1, 3) */
    assert_int_equal(feed_series_offer(&s, &c, sink, NULL), FEED_OFFER_GAP);
    c = bar(7); /* 4..6 lost in a reconnect while the fetch runs */
    assert_int_equal(feed_series_offer(&s, &c, sink, NULL), FEED_OFFER_BUFFERED);
    pt_candle rows[2] = {bar(1), bar(2)};
    assert_int_equal(feed_series_end_backfill(&s, rows, 2, 1, bar(3).ts_ms, sink, NULL), 1);
    expect_series(0, 3);
    assert_true(s.gap_from == bar(4).ts_ms && s.gap_to == bar(7).ts_ms);
    assert_int_equal(s.backfilling, 1);
    assert_int_equal(s.buf_n, 1);
    pt_candle more[3] = {bar(4), bar(5), bar(6)};
    assert_int_equal(feed_series_end_backfill(&s, more, 3, 1, bar(7).ts_ms, sink, NULL), 0);
    expect_series(0, 7);
    assert_int_equal(s.st.gaps, 0);
    /* a hole INSIDE the covered range is a bar the exchange lacks: counted, not refetched */
    feed_series_begin_backfill(&s);
    c = bar(10);
    feed_series_offer(&s, &c, sink, NULL);
    pt_candle some[1] = {bar(8)};
    assert_int_equal(feed_series_end_backfill(&s, some, 1, 1, bar(10).ts_ms, sink, NULL), 0);
    assert_int_equal(s.st.gaps, 1);
    assert_int_equal(s.backfilling, 0);
    feed_series_free(&s);
}

static void test_rest_latency_buckets(void **st)
{
    (void)st;
    assert_int_equal(feed_rest_lat_bucket(0.2), 0);
    assert_int_equal(feed_rest_lat_bucket(1.0), 1);
    assert_int_equal(feed_rest_lat_bucket(1.9), 1);
    assert_int_equal(feed_rest_lat_bucket(2.0), 2);
    assert_int_equal(feed_rest_lat_bucket(150), 8); /* [128, 256) */
    assert_int_equal(feed_rest_lat_bucket(1e12), FEED_REST_LAT_BUCKETS - 1);
    for (int b = 1; b < FEED_REST_LAT_BUCKETS - 1; b++) /* the middle falls in its own bucket */
        assert_int_equal(feed_rest_lat_bucket(feed_rest_lat_mid_ms(b)), b);
}

static void test_open_bar_close(void **st)
{
    (void)st;
    feed_series s;
    assert_int_equal(feed_series_init(&s, "BTC-EUR", 60000, 4), PT_OK);
    pt_candle c = bar(0), out;
    c.closed = 0;
    assert_int_equal(feed_series_update_open(&s, &c, &out), 0);
    c.close = 5;
    assert_int_equal(feed_series_update_open(&s, &c, &out), 0);
    pt_candle old = bar(-1);
    assert_int_equal(feed_series_update_open(&s, &old, &out), 0); /* older: ignored */
    c = bar(1);
    c.closed = 0;
    assert_int_equal(feed_series_update_open(&s, &c, &out), 1); /* next bar closes the previous */
    assert_true(out.ts_ms == bar(0).ts_ms && out.close == 5 && out.closed == 1);
    /* time-based close with grace */
    assert_int_equal(feed_series_close_due(&s, bar(2).ts_ms + 4999, 5000, &out), 0);
    assert_int_equal(feed_series_close_due(&s, bar(2).ts_ms + 5000, 5000, &out), 1);
    assert_true(out.ts_ms == bar(1).ts_ms);
    assert_int_equal(feed_series_close_due(&s, bar(9).ts_ms, 5000, &out), 0); /* nothing open */
    feed_series_free(&s);
    assert_int_equal(feed_series_init(&s, "bad symbol", 60000, 4), PT_EINVAL);
}


/* ------------------------------------------------- feed_live end to end
 * feed_live against a node peer (tests/peers/fake_binance_ws.mjs) that
 * drops the TCP connection twice, skips bars (only on REST) and re-sends
 * closed bars after each reconnect: every closed bar arrives exactly once,
 * in order. Bounded to 20 s; skipped when node is missing. */
typedef struct live_ctx {
    int64_t ts[256];
    size_t n, updates;
    int n_states;
} live_ctx;

static void live_candle(void *ud, const pt_candle *c)
{
    live_ctx *x = ud;
    if (!c->closed) {
        x->updates++;
        return;
    }
    if (x->n < 256)
        x->ts[x->n++] = c->ts_ms;
}
static void live_state(void *ud, feed_conn_state st, const char *why)
{
    (void)st, (void)why;
    ((live_ctx *)ud)->n_states++;
}

static pid_t spawn_peer(int *out_fd, int *in_fd)
{
    int o[2], i[2];
    if (pipe(o) || pipe(i))
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(o[1], 1);
        dup2(i[0], 0);
        close(o[0]), close(o[1]), close(i[0]), close(i[1]);
        execlp("node", "node", "peers/fake_binance_ws.mjs", "40", "40", "10,25", "3", (char *)NULL);
        _exit(127);
    }
    close(o[1]);
    close(i[0]);
    *out_fd = o[0];
    *in_fd = i[1];
    return pid;
}

static void test_live_reconnect_backfill(void **st)
{
    (void)st;
    if (access("peers/fake_binance_ws.mjs", R_OK) || system("node --version >/dev/null 2>&1")) {
        skip();
    }
    int ofd = -1, ifd = -1;
    pid_t pid = spawn_peer(&ofd, &ifd);
    assert_true(pid > 0);
    char line[256] = {0};
    size_t k = 0;
    while (k + 1 < sizeof line && read(ofd, line + k, 1) == 1 && line[k] != '\n')
        k++;
    int ws_port = 0, rest_port = 0, n = 0;
    long long t0 = 0;
    assert_int_equal(sscanf(line, "{\"ws\":%d,\"rest\":%d,\"t0\":%lld,\"n\":%d}", &ws_port, &rest_port, &t0, &n), 4);

    struct lws_context_creation_info ci;
    memset(&ci, 0, sizeof ci);
    ci.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT | LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
    ci.port = CONTEXT_PORT_NO_LISTEN;
    lws_set_log_level(LLL_ERR, NULL);
    struct lws_context *cx = lws_create_context(&ci);
    assert_non_null(cx);
    char ws[64], rest[64];
    snprintf(ws, sizeof ws, "ws://127.0.0.1:%d", ws_port);
    snprintf(rest, sizeof rest, "http://127.0.0.1:%d", rest_port);
    const char *syms[] = {"BTCUSDT"};
    feed_live_config cfg = {.exchange = "binance", .ws_url = ws, .rest_url = rest, .symbols = syms,
                            .n_symbols = 1, .interval_ms = 1000, .backoff_base_ms = 20, .backoff_cap_ms = 200,
                            .stale_after_ms = 5000, .backfill = 1};
    live_ctx x = {0};
    feed_live_callbacks cb = {.on_candle = live_candle, .on_state = live_state};
    feed_live *f = NULL;
    setenv("http_proxy", "http://127.0.0.1:9", 1); /* must not break loopback */
    assert_int_equal(feed_live_new(cx, &cfg, &cb, &x, &f), PT_OK);
    int64_t deadline = pt_mono_ms() + 20000;
    while (x.n < (size_t)n && pt_mono_ms() < deadline)
        lws_service(cx, 0);
    feed_live_stats fs;
    feed_live_get_stats(f, &fs);
    feed_live_free(f);
    lws_context_destroy(cx);
    close(ifd);
    close(ofd);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);

    assert_int_equal(x.n, (size_t)n);
    for (size_t i = 0; i < x.n; i++)
        assert_true(x.ts[i] == t0 + (int64_t)i * 1000);
    assert_true(fs.reconnects >= 2);
    assert_true(fs.backfills >= 2);
    assert_true(fs.backfilled_candles >= 6);
    assert_true(fs.duplicates >= 2);
    assert_int_equal(fs.dropped[FEED_DROP_INVALID_JSON], 0);
    assert_true(fs.rest_ok >= 2);
    assert_true(x.n_states >= 4);
}

/* feed_sym_status_of: what /health and the page call each state (feed.h). */
static void test_symbol_status(void **st)
{
    (void)st;
    feed_live_stats s;
    memset(&s, 0, sizeof s);
    s.n_symbols = 1;
    s.sym[0].last_closed_ts = INT64_MIN;
    const int64_t iv = 60000, down = 30000;
    s.state = FEED_CONN_CONNECTING, s.not_live_ms = 29999;
    assert_int_equal(feed_sym_status_of(&s, 0, iv, down), FEED_SYM_CONNECTING);
    s.not_live_ms = 30000; /* never up within the limit */
    assert_int_equal(feed_sym_status_of(&s, 0, iv, down), FEED_SYM_DOWN);
    s.state = FEED_CONN_LIVE, s.not_live_ms = 0, s.connects = 1; /* connected, no candle yet */
    assert_int_equal(feed_sym_status_of(&s, 0, iv, down), FEED_SYM_CONNECTING);
    s.sym[0].last_closed_ts = 0, s.exchange_now_ms = iv + 2 * iv; /* closed at 60 s; now 180 s: edge */
    assert_int_equal(feed_sym_status_of(&s, 0, iv, down), FEED_SYM_LIVE);
    s.exchange_now_ms++;
    assert_int_equal(feed_sym_status_of(&s, 0, iv, down), FEED_SYM_STALE);
    s.close_grace_ms = 5000; /* a venue without a closed flag closes bars late */
    assert_int_equal(feed_sym_status_of(&s, 0, iv, down), FEED_SYM_LIVE);
    s.state = FEED_CONN_WAITING, s.not_live_ms = 100;
    assert_int_equal(feed_sym_status_of(&s, 0, iv, down), FEED_SYM_RECONNECTING);
    s.not_live_ms = down;
    assert_int_equal(feed_sym_status_of(&s, 0, iv, down), FEED_SYM_DOWN);
    assert_string_equal(feed_sym_status_name(FEED_SYM_RECONNECTING), "reconnecting");
    assert_int_equal(feed_sym_status_of(&s, 5, iv, down), FEED_SYM_DOWN); /* out of range: not live */
}

int main(void)
{
    pt_log_set_stderr(getenv("PT_TEST_LOG") != NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backoff_bounds),       cmocka_unit_test(test_breaker),
        cmocka_unit_test(test_token_bucket),         cmocka_unit_test(test_retry_after),
        cmocka_unit_test(test_merge_dup_order),      cmocka_unit_test(test_merge_gap_backfill),
        cmocka_unit_test(test_merge_backfill_fail_and_overflow),
        cmocka_unit_test(test_merge_hole_past_coverage), cmocka_unit_test(test_rest_latency_buckets),
        cmocka_unit_test(test_open_bar_close),
        cmocka_unit_test(test_live_reconnect_backfill),
        cmocka_unit_test(test_symbol_status),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
