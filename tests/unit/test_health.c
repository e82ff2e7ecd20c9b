/* ops health: score formula and level boundaries, stale alarm, error ring
 * bound, latency quantiles, JSON / Prometheus / log rendering. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"

static int64_t fake_now;
static int64_t fake_clock(void)
{
    return fake_now;
}

static char logbuf[1 << 15];
static size_t loglen;
static void capture(pt_log_level lvl, const char *line, void *ud)
{
    (void)lvl, (void)ud;
    int k = snprintf(logbuf + loglen, sizeof logbuf - loglen, "%s\n", line);
    if (k > 0 && (size_t)k < sizeof logbuf - loglen)
        loglen += (size_t)k;
}
static int count_in_log(const char *needle)
{
    int n = 0;
    for (const char *p = logbuf; (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}
static int setup(void **st)
{
    (void)st;
    loglen = 0;
    logbuf[0] = '\0';
    fake_now = 1000000;
    pt_log_set_sink(capture, NULL);
    return 0;
}
static int teardown(void **st)
{
    (void)st;
    pt_log_set_sink(NULL, NULL);
    return 0;
}

static void test_score_formula(void **st)
{
    (void)st;
    ops_health_inputs in = {.monitored = 5, .has_feed = 1, .feed_state = OPS_HS_UP, .rss_kb = 1000,
                            .rss_limit_kb = 1048576};
    assert_int_equal(ops_health_score_calc(&in), 100);
    in.stale = 1; /* 40 * 1/5 = 8 */
    assert_int_equal(ops_health_score_calc(&in), 92);
    in.recent_errors = 1; /* 2 per error */
    assert_int_equal(ops_health_score_calc(&in), 90);
    assert_int_equal(ops_health_level_of(ops_health_score_calc(&in)), OPS_LEVEL_EXCELLENT);
    in.recent_errors = 2;
    assert_int_equal(ops_health_score_calc(&in), 88);
    assert_int_equal(ops_health_level_of(ops_health_score_calc(&in)), OPS_LEVEL_GOOD);
    in.recent_errors = 100; /* capped at 10 */
    assert_int_equal(ops_health_score_calc(&in), 82);
    in.feed_state = OPS_HS_DEGRADED; /* 15 */
    assert_int_equal(ops_health_score_calc(&in), 67);
    assert_int_equal(ops_health_level_of(67), OPS_LEVEL_FAIR);
    in.rest_error_rate = 0.25; /* 40 * 0.25 = 10 */
    assert_int_equal(ops_health_score_calc(&in), 57);
    assert_int_equal(ops_health_level_of(57), OPS_LEVEL_POOR);
    in.rest_error_rate = 1.0; /* capped at 20 */
    assert_int_equal(ops_health_score_calc(&in), 47);
    in.feed_state = OPS_HS_DOWN; /* 35 */
    assert_int_equal(ops_health_score_calc(&in), 27);
    assert_int_equal(ops_health_level_of(27), OPS_LEVEL_CRITICAL);
    in.stale = 5;
    in.rss_kb = 2 * in.rss_limit_kb; /* everything bad: clamped at 0 */
    assert_int_equal(ops_health_score_calc(&in), 0);

    /* memory alone: nothing below half the budget, then 40 per budget, capped at 20 */
    ops_health_inputs m = {.rss_limit_kb = 1000, .rss_kb = 500};
    assert_int_equal(ops_health_score_calc(&m), 100);
    m.rss_kb = 750;
    assert_int_equal(ops_health_score_calc(&m), 90);
    m.rss_kb = 5000;
    assert_int_equal(ops_health_score_calc(&m), 80);
    /* feed state only counts when a feed is registered; unknown costs 10 */
    ops_health_inputs f = {.feed_state = OPS_HS_DOWN};
    assert_int_equal(ops_health_score_calc(&f), 100);
    f.has_feed = 1;
    f.feed_state = OPS_HS_UNKNOWN;
    assert_int_equal(ops_health_score_calc(&f), 90);
    /* feed faults in the window: 4 per lost connection (max 20), 0.5 per bad message (max 20) */
    ops_health_inputs ff = {.has_feed = 1, .feed_state = OPS_HS_UP, .feed_disconnects = 2, .feed_bad_msgs = 10};
    assert_int_equal(ops_health_score_calc(&ff), 87);
    ff.feed_disconnects = 6, ff.feed_bad_msgs = 248; /* issue 15: 248 malformed, drops: not "excellent" */
    assert_int_equal(ops_health_score_calc(&ff), 60);
    assert_int_equal(ops_health_level_of(60), OPS_LEVEL_FAIR);
    /* rounding: 10.5 penalty -> 89.5 rounds to 90 */
    ops_health_inputs r = {.rest_error_rate = 0.2625};
    assert_int_equal(ops_health_score_calc(&r), 90);
    r.rest_error_rate = 0.275;
    assert_int_equal(ops_health_score_calc(&r), 89);

    const int edges[][2] = {{100, OPS_LEVEL_EXCELLENT}, {90, OPS_LEVEL_EXCELLENT}, {89, OPS_LEVEL_GOOD},
                            {75, OPS_LEVEL_GOOD},       {74, OPS_LEVEL_FAIR},      {60, OPS_LEVEL_FAIR},
                            {59, OPS_LEVEL_POOR},       {40, OPS_LEVEL_POOR},      {39, OPS_LEVEL_CRITICAL},
                            {0, OPS_LEVEL_CRITICAL}};
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++)
        assert_int_equal(ops_health_level_of(edges[i][0]), edges[i][1]);
    assert_string_equal(ops_health_level_name(OPS_LEVEL_FAIR), "fair");
}

static ops_health *new_registry(int ring)
{
    ops_health_config c = {.error_ring = ring, .clock_ms = fake_clock, .rss_limit_kb = 1L << 40};
    ops_health *h = NULL;
    assert_int_equal(ops_health_new(&c, &h), PT_OK);
    return h;
}

static void test_stale_alarm(void **st)
{
    (void)st;
    ops_health *h = new_registry(8);
    int feed = ops_health_register(h, "feed", 1000);
    int eng = ops_health_register(h, "engine", 0); /* no period: never stale */
    assert_true(feed >= 0 && eng >= 0 && feed != eng);
    assert_int_equal(ops_health_register(h, "feed", 1000), feed);
    assert_int_equal(ops_health_register(h, "Bad Name", 1), PT_EINVAL);
    ops_health_beat(h, feed, fake_now);
    ops_health_set_state(h, feed, OPS_HS_UP, "connected");
    assert_int_equal(ops_health_check(h, fake_now + 3000), 0); /* exactly 3 periods: still fine */
    assert_int_equal(ops_health_check(h, fake_now + 3001), 1);
    assert_int_equal(ops_health_check(h, fake_now + 9000), 1);
    assert_int_equal(count_in_log("component feed is stale"), 1); /* logged once, not per check */
    assert_true(ops_health_is_stale(h, feed, fake_now + 3001));
    assert_false(ops_health_is_stale(h, eng, fake_now + 1000000));
    ops_health_inputs in;
    int s = ops_health_score(h, fake_now + 9000, &in);
    assert_int_equal(in.monitored, 1);
    assert_int_equal(in.stale, 1);
    assert_int_equal(in.feed_state, OPS_HS_DOWN); /* a stale feed counts as down */
    assert_int_equal(s, 100 - 40 - 35);
    ops_health_beat(h, feed, fake_now + 9500);
    assert_int_equal(ops_health_check(h, fake_now + 9600), 0);
    assert_int_equal(count_in_log("component feed is beating again"), 1);
    assert_int_equal(ops_health_score(h, fake_now + 9600, NULL), 100);
    /* never beaten: stale 3 periods after registration */
    int bf = ops_health_register(h, "backfill", 100);
    assert_false(ops_health_is_stale(h, bf, fake_now + 300));
    assert_true(ops_health_is_stale(h, bf, fake_now + 301));
    ops_health_free(h);
    ops_health_free(NULL);
}

static void test_error_ring_bound(void **st)
{
    (void)st;
    ops_health *h = new_registry(4);
    int feed = ops_health_register(h, "feed", 0);
    int srv = ops_health_register(h, "server", 0);
    for (int i = 0; i < 10; i++)
        ops_health_error(h, i % 3 ? feed : srv, fake_now + i, "e%d", i);
    ops_health_error(h, 99, fake_now, "unknown component is ignored");
    ops_health_error_rec out[16];
    assert_int_equal(ops_health_errors(h, out, 16), 4);
    assert_string_equal(out[0].text, "e9");
    assert_string_equal(out[3].text, "e6");
    assert_int_equal(out[0].comp, srv); /* 9 % 3 == 0 */
    assert_int_equal(ops_health_errors(h, out, 2), 2);
    assert_int_equal(ops_health_errors_total(h, -1), 10);
    assert_int_equal(ops_health_errors_total(h, srv), 4);
    assert_int_equal(ops_health_errors_total(h, feed), 6);
    /* only the ring's errors of the last 10 minutes count in the score */
    ops_health_inputs in;
    ops_health_score(h, fake_now + 10, &in);
    assert_int_equal(in.recent_errors, 4);
    ops_health_score(h, fake_now + 600000 + 8, &in);
    assert_int_equal(in.recent_errors, 2);
    /* long texts are cut, not overflowed */
    char big[400];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    ops_health_error(h, feed, fake_now, "%s", big);
    assert_int_equal(ops_health_errors(h, out, 1), 1);
    assert_int_equal(strlen(out[0].text), sizeof out[0].text - 1);
    ops_health_free(h);
}

static void test_latency_quantiles(void **st)
{
    (void)st;
    ops_latency *l = NULL;
    assert_int_equal(ops_latency_new(0, &l), PT_EINVAL);
    assert_int_equal(ops_latency_new(100, &l), PT_OK);
    assert_true(isnan(ops_latency_quantile(l, 0.5)));
    assert_true(ops_latency_error_rate(l) == 0);
    /* 1..100 in a shuffled order */
    for (int i = 0; i < 100; i++)
        ops_latency_record(l, (double)((i * 37) % 100 + 1), i % 10 != 0);
    assert_true(ops_latency_quantile(l, 0.5) == 50);
    assert_true(ops_latency_quantile(l, 0.99) == 99);
    assert_true(ops_latency_quantile(l, 1.0) == 100);
    assert_true(ops_latency_quantile(l, 0.0) == 1);
    assert_true(fabs(ops_latency_error_rate(l) - 0.1) < 1e-12);
    ops_latency_record(l, NAN, 1); /* ignored */
    ops_latency_record(l, -1, 1);  /* ignored */
    assert_int_equal(ops_latency_total(l), 100);
    /* the ring keeps the last 100: 101..200 */
    for (int i = 101; i <= 200; i++)
        ops_latency_record(l, i, 1);
    assert_int_equal(ops_latency_count(l), 100);
    assert_int_equal(ops_latency_total(l), 200);
    assert_true(ops_latency_quantile(l, 0.5) == 150);
    assert_true(ops_latency_quantile(l, 0.99) == 199);
    assert_true(ops_latency_error_rate(l) == 0);
    ops_latency_free(l);
    ops_latency_free(NULL);
}

static void test_render(void **st)
{
    (void)st;
    ops_health *h = new_registry(8);
    int feed = ops_health_register(h, "feed", 1000);
    int eng = ops_health_register(h, "engine", 1000);
    ops_health_beat(h, feed, fake_now);
    ops_health_beat(h, eng, fake_now + 5000);
    ops_health_set_state(h, feed, OPS_HS_UP, "connected");
    ops_health_counter_add(h, feed, "candles", 3);
    ops_health_counter_add(h, feed, "candles", 4);
    ops_health_gauge_set(h, eng, "open_positions", 2);
    ops_health_error(h, feed, fake_now, "parse error at message 7");
    for (int i = 1; i <= 100; i++)
        ops_health_rest(h, i, i > 10);
    ops_health_sample(h, fake_now + 5000);
    int64_t now = fake_now + 5000; /* feed stale, engine fresh */

    cJSON *o = cJSON_CreateObject();
    assert_int_equal(ops_health_to_json(h, now, o), PT_OK);
    int score = cJSON_GetObjectItem(o, "score")->valueint;
    assert_int_equal(score, ops_health_score(h, now, NULL));
    assert_int_equal(score, 100 - 20 - 35 - 2 - 4); /* stale 1/2, feed down, 1 error, rest 10% */
    assert_string_equal(cJSON_GetObjectItem(o, "level")->valuestring, "critical"); /* 39 */
    cJSON *comps = cJSON_GetObjectItem(o, "components");
    assert_int_equal(cJSON_GetArraySize(comps), 2);
    cJSON *f = cJSON_GetArrayItem(comps, 0);
    assert_string_equal(cJSON_GetObjectItem(f, "name")->valuestring, "feed");
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(f, "up")));
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(f, "stale")));
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(f, "counters"), "candles")->valueint, 7);
    cJSON *rest = cJSON_GetObjectItem(o, "rest");
    assert_true(cJSON_GetObjectItem(rest, "p50_ms")->valuedouble == 50);
    assert_true(cJSON_GetObjectItem(rest, "p99_ms")->valuedouble == 99);
    cJSON *errs = cJSON_GetObjectItem(o, "recent_errors");
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(errs, 0), "text")->valuestring,
                        "parse error at message 7");
    assert_true(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "process"), "rss_kb")->valuedouble > 0);
    cJSON_Delete(o);

    char buf[8192];
    size_t len = 0;
    assert_int_equal(ops_health_prometheus(h, now, buf, sizeof buf, &len), PT_OK);
    assert_int_equal(strlen(buf), len);
    char want[64];
    snprintf(want, sizeof want, "\npapertrader_health_score %d\n", score);
    assert_non_null(strstr(buf, want));
    assert_non_null(strstr(buf, "# TYPE papertrader_health_score gauge\n"));
    assert_non_null(strstr(buf, "\npapertrader_component_up{component=\"feed\"} 0\n"));
    assert_non_null(strstr(buf, "\npapertrader_component_up{component=\"engine\"} 1\n"));
    assert_non_null(strstr(buf, "\npapertrader_errors_total{component=\"feed\"} 1\n"));
    assert_non_null(strstr(buf, "\npapertrader_rest_latency_seconds{quantile=\"0.5\"} 0.05\n"));
    assert_non_null(strstr(buf, "\npapertrader_rest_latency_seconds{quantile=\"0.99\"} 0.099\n"));
    assert_non_null(strstr(buf, "\npapertrader_rest_latency_seconds_count 100\n"));
    assert_non_null(strstr(buf, "papertrader_component_value{component=\"feed\",name=\"candles\"} 7\n"));
    /* too small: whole lines only, and says so */
    char small[200];
    assert_int_equal(ops_health_prometheus(h, now, small, sizeof small, &len), PT_EFULL);
    assert_true(len < sizeof small && len > 0 && small[len - 1] == '\n');

    loglen = 0;
    fake_now = now;
    ops_health_log_heartbeat(h, "equity 10123.5");
    assert_int_equal(count_in_log("heartbeat: health"), 1);
    assert_int_equal(count_in_log("stale feed,"), 1);
    assert_int_equal(count_in_log("equity 10123.5"), 1);
    ops_health_log_report(h);
    assert_int_equal(count_in_log("health report: score"), 1);
    assert_int_equal(count_in_log("parse error at message 7"), 1);
    assert_int_equal(count_in_log("rest       100 calls"), 1);
    ops_health_free(h);
}

static void test_registry_bounds(void **st)
{
    (void)st;
    ops_health *h = new_registry(4);
    char name[16];
    for (int i = 0; i < OPS_HEALTH_MAX_COMPONENTS; i++) {
        snprintf(name, sizeof name, "c%d", i);
        assert_int_equal(ops_health_register(h, name, 0), i);
    }
    assert_int_equal(ops_health_register(h, "one_more", 0), PT_EFULL);
    for (int i = 0; i < OPS_HEALTH_MAX_COUNTERS + 3; i++) {
        snprintf(name, sizeof name, "k%d", i);
        ops_health_counter_add(h, 0, name, 1);
    }
    ops_health_beat(h, -1, 0); /* bad ids are ignored */
    ops_health_beat(h, 1000, 0);
    cJSON *o = cJSON_CreateObject();
    assert_int_equal(ops_health_to_json(h, fake_now, o), PT_OK);
    cJSON *c0 = cJSON_GetArrayItem(cJSON_GetObjectItem(o, "components"), 0);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(c0, "counters")), OPS_HEALTH_MAX_COUNTERS);
    cJSON_Delete(o);
    ops_health_free(h);
}

static void test_feed_faults_window(void **st)
{
    (void)st;
    ops_health *h = NULL;
    ops_health_config c = {.fault_window_ms = 10000, .clock_ms = fake_clock};
    fake_now = 1000;
    assert_int_equal(ops_health_new(&c, &h), PT_OK);
    int feed = ops_health_register(h, "feed", 0);
    ops_health_set_state(h, feed, OPS_HS_UP, "live");
    assert_int_equal(ops_health_score(h, fake_now, NULL), 100);
    ops_health_feed_faults(h, fake_now, 3, 40); /* 12 + 20 */
    ops_health_feed_faults(h, fake_now, 0, 0);  /* nothing new: no entry */
    ops_health_inputs in;
    assert_int_equal(ops_health_score(h, fake_now, &in), 68);
    assert_int_equal(in.feed_disconnects, 3);
    assert_int_equal(in.feed_bad_msgs, 40);
    fake_now += 10000; /* still inside the window at its edge */
    assert_int_equal(ops_health_score(h, fake_now, NULL), 68);
    fake_now += 1; /* aged out: recovered */
    assert_int_equal(ops_health_score(h, fake_now, &in), 100);
    assert_int_equal(in.feed_disconnects + in.feed_bad_msgs, 0);
    for (int i = 0; i < 5000; i++) /* past the ring: bounded, the newest kept */
        ops_health_feed_faults(h, fake_now + i, 1, 0);
    assert_int_equal(ops_health_score(h, fake_now + 4999, &in), 80);
    assert_true(in.feed_disconnects > 0 && in.feed_disconnects <= 4096);
    ops_health_free(h);
}

int main(void)
{
    pt_log_set_stderr(getenv("PT_TEST_VERBOSE") != NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_score_formula, setup, teardown),
        cmocka_unit_test_setup_teardown(test_feed_faults_window, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_alarm, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_ring_bound, setup, teardown),
        cmocka_unit_test_setup_teardown(test_latency_quantiles, setup, teardown),
        cmocka_unit_test_setup_teardown(test_render, setup, teardown),
        cmocka_unit_test_setup_teardown(test_registry_bounds, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
