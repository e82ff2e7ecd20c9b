/* Unit tests for ws_server's pure parts: metrics exposition, Origin/Host
 * policy, token compare, message queue bounds and coalescing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pt_core.h"
#include "wss.h"
#include "wss_internal.h"

static void test_metrics_render(void **state)
{
    (void)state;
    wss_metrics *m = wss_metrics_new();
    wss_metric *c = wss_metrics_counter(m, "pt_candles_total", "Candles by verdict.\nSecond \\ line", "symbol,verdict");
    wss_metric *g = wss_metrics_gauge(m, "pt_equity", "Equity.", NULL);
    assert_non_null(c);
    assert_non_null(g);
    const char *lv[2] = {"BTC\"USD\\T\nx", "ok"};
    assert_int_equal(wss_metric_add(c, lv, 2), PT_OK);
    assert_int_equal(wss_metric_add(c, lv, 1.5), PT_OK);
    assert_int_equal(wss_metric_set(g, NULL, 10000.25), PT_OK);
    wss_buf b;
    wss_buf_init(&b, 1 << 16);
    assert_int_equal(wss_metrics_render(m, &b), PT_OK);
    const char *want =
        "# HELP pt_candles_total Candles by verdict.\\nSecond \\\\ line\n"
        "# TYPE pt_candles_total counter\n"
        "pt_candles_total{symbol=\"BTC\\\"USD\\\\T\\nx\",verdict=\"ok\"} 3.5\n"
        "# HELP pt_equity Equity.\n"
        "# TYPE pt_equity gauge\n"
        "pt_equity 10000.25\n";
    assert_string_equal(b.p, want);
    wss_buf_free(&b);
    wss_metrics_free(m);
}

static void test_metrics_refuse_bad(void **state)
{
    (void)state;
    wss_metrics *m = wss_metrics_new();
    assert_null(wss_metrics_gauge(m, "9bad", "x", NULL));
    assert_null(wss_metrics_gauge(m, "has space", "x", NULL));
    assert_null(wss_metrics_gauge(m, "ok_name", "x", "__reserved"));
    assert_null(wss_metrics_gauge(m, "ok_name2", "x", "a-b"));
    wss_metric *g = wss_metrics_gauge(m, "pt_q", "x", "symbol");
    assert_non_null(g);
    assert_null(wss_metrics_gauge(m, "pt_q", "dup", NULL));
    const char *lv[1] = {"A"};
    assert_int_equal(wss_metric_set(g, lv, 1), PT_OK);
    assert_int_equal(wss_metric_set(g, lv, NAN), PT_EINVAL);
    assert_int_equal(wss_metric_set(g, lv, INFINITY), PT_EINVAL);
    assert_int_equal(wss_metric_set(g, NULL, 1), PT_EINVAL); /* labels required */
    wss_metric *c = wss_metrics_counter(m, "pt_c_total", "x", NULL);
    assert_int_equal(wss_metric_add(c, NULL, 5), PT_OK);
    assert_int_equal(wss_metric_add(c, NULL, -1), PT_EINVAL);
    assert_int_equal(wss_metric_set(c, NULL, 4), PT_EINVAL);
    assert_int_equal(wss_metric_set(c, NULL, 6), PT_OK);
    /* series bound: new label sets past it are refused, old ones still update */
    char name[16];
    int rc = PT_OK, n = 0;
    while (rc == PT_OK && n < 10000) {
        snprintf(name, sizeof name, "s%d", n++);
        const char *v[1] = {name};
        rc = wss_metric_set(g, v, 1);
    }
    assert_int_equal(rc, PT_EFULL);
    assert_true(n < 10000);
    assert_int_equal(wss_metric_set(g, lv, 2), PT_OK);
    wss_metrics_free(m);
    wss_metrics_free(NULL);
}

static void test_buf_bound(void **state)
{
    (void)state;
    wss_buf b;
    wss_buf_init(&b, 8);
    assert_int_equal(wss_buf_append(&b, "1234567", 7), PT_OK);
    assert_int_equal(wss_buf_append(&b, "8", 1), PT_EFULL);
    assert_int_equal(b.len, 7);
    assert_string_equal(b.p, "1234567");
    wss_buf_free(&b);
}

static void test_origin_host(void **state)
{
    (void)state;
    const char *extra[] = {"https://dash.example:8443"};
    assert_true(wss_origin_allowed("http://127.0.0.1:8765", 8765, NULL, 0));
    assert_true(wss_origin_allowed("http://localhost:8765", 8765, NULL, 0));
    assert_true(wss_origin_allowed("http://[::1]:8765", 8765, NULL, 0));
    assert_false(wss_origin_allowed("http://localhost:8766", 8765, NULL, 0));
    assert_false(wss_origin_allowed("http://localhost", 8765, NULL, 0));
    assert_false(wss_origin_allowed("http://evil.example:8765", 8765, NULL, 0));
    assert_false(wss_origin_allowed("http://localhost.evil.example:8765", 8765, NULL, 0));
    assert_false(wss_origin_allowed("https://127.0.0.1:8765", 8765, NULL, 0));
    assert_false(wss_origin_allowed("http://127.0.0.1:8765/x", 8765, NULL, 0));
    assert_false(wss_origin_allowed("null", 8765, NULL, 0));
    assert_false(wss_origin_allowed("", 8765, NULL, 0));
    assert_false(wss_origin_allowed(NULL, 8765, NULL, 0));
    assert_true(wss_origin_allowed("https://dash.example:8443", 8765, extra, 1));
    assert_false(wss_origin_allowed("https://dash.example:8444", 8765, extra, 1));

    assert_true(wss_host_allowed("127.0.0.1:8765", "127.0.0.1", 8765));
    assert_true(wss_host_allowed("localhost:8765", "127.0.0.1", 8765));
    assert_true(wss_host_allowed("[::1]:8765", "127.0.0.1", 8765));
    assert_false(wss_host_allowed("localhost:1234", "127.0.0.1", 8765));
    assert_false(wss_host_allowed("rebind.evil.example:8765", "127.0.0.1", 8765));
    assert_false(wss_host_allowed("localhost", "127.0.0.1", 8765));
    assert_false(wss_host_allowed("127.0.0.1:8765x", "127.0.0.1", 8765));
    /* the port in its exact form only (issue 11 item 5) */
    assert_false(wss_host_allowed("127.0.0.1:034837", "127.0.0.1", 34837));
    assert_false(wss_host_allowed("127.0.0.1:08765", "127.0.0.1", 8765));
    assert_false(wss_host_allowed("127.0.0.1:+8765", "127.0.0.1", 8765));
    assert_false(wss_host_allowed("127.0.0.1: 8765", "127.0.0.1", 8765));
    assert_false(wss_host_allowed("127.0.0.1:", "127.0.0.1", 8765));
    assert_false(wss_host_allowed("127.0.0.1:0", "127.0.0.1", 0));
    assert_true(wss_host_allowed("127.0.0.1:65535", "127.0.0.1", 65535));
    assert_false(wss_host_allowed("127.0.0.1:65536", "127.0.0.1", 65536));
    assert_false(wss_host_allowed("127.0.0.1:000065535", "127.0.0.1", 65535));
    assert_true(wss_host_allowed("[::1]:1", "127.0.0.1", 1));
    assert_false(wss_host_allowed("[::1]:01", "127.0.0.1", 1));
    assert_false(wss_host_allowed("", "127.0.0.1", 8765));
    assert_false(wss_host_allowed(NULL, "127.0.0.1", 8765));
    assert_true(wss_host_allowed("192.168.1.5:8765", "192.168.1.5", 8765));
    assert_false(wss_host_allowed("192.168.1.6:8765", "192.168.1.5", 8765));
    assert_false(wss_host_allowed("0.0.0.0:8765", "0.0.0.0", 8765));
    assert_true(wss_is_loopback_host("localhost"));
    assert_false(wss_is_loopback_host("0.0.0.0"));
}

static void test_token(void **state)
{
    (void)state;
    assert_true(wss_token_equal("s3cret-token", "s3cret-token"));
    assert_false(wss_token_equal("s3cret-token", "s3cret-tokeN"));
    assert_false(wss_token_equal("s3cret-token", "s3cret"));
    assert_false(wss_token_equal("s3cret-token", "s3cret-token-longer"));
    assert_false(wss_token_equal("s3cret-token", ""));
    assert_false(wss_token_equal("s3cret-token", NULL));
    assert_false(wss_token_equal(NULL, "x"));
    assert_false(wss_token_equal("", ""));
}

static wss_msg *mk(int kind, const char *key, const char *text)
{
    wss_msg *m = wss_msg_new(text, strlen(text));
    m->kind = (uint8_t)kind;
    m->coalesce = kind == WSS_CANDLE_PARTIAL || kind == WSS_PORTFOLIO;
    m->ckey = m->coalesce ? wss_coalesce_key(kind, key) : 0;
    return m;
}

static void push_drop(wss_queue *q, wss_msg *m, int want)
{
    assert_int_equal(wss_queue_push(q, m), want);
    wss_msg_unref(m);
}

static void expect_pop(wss_queue *q, const char *text)
{
    wss_msg *m = wss_queue_pop(q);
    assert_non_null(m);
    assert_string_equal((const char *)wss_msg_payload(m), text);
    wss_msg_unref(m);
}

static void test_queue_coalesce(void **state)
{
    (void)state;
    wss_queue q;
    assert_int_equal(wss_queue_init(&q, 8, 1 << 20), PT_OK);
    push_drop(&q, mk(WSS_CANDLE_PARTIAL, "BTC", "btc1"), PT_OK);
    push_drop(&q, mk(WSS_TRADE, "BTC", "trade1"), PT_OK);
    push_drop(&q, mk(WSS_CANDLE_PARTIAL, "ETH", "eth1"), PT_OK);
    push_drop(&q, mk(WSS_CANDLE_PARTIAL, "BTC", "btc2"), 1);   /* replaces btc1 in place */
    push_drop(&q, mk(WSS_TRADE, "BTC", "trade2"), PT_OK);      /* trades never merge */
    push_drop(&q, mk(WSS_PORTFOLIO, NULL, "pf1"), PT_OK);      /* other kind, same key space */
    assert_int_equal(q.count, 5);
    expect_pop(&q, "btc2");
    expect_pop(&q, "trade1");
    /* btc's entry left the queue: the next btc update is queued anew */
    push_drop(&q, mk(WSS_CANDLE_PARTIAL, "BTC", "btc3"), PT_OK);
    push_drop(&q, mk(WSS_CANDLE_PARTIAL, "ETH", "eth2"), 1);
    expect_pop(&q, "eth2");
    expect_pop(&q, "trade2");
    expect_pop(&q, "pf1");
    expect_pop(&q, "btc3");
    assert_null(wss_queue_pop(&q));
    assert_int_equal(q.bytes, 0);
    wss_queue_free(&q);
}

static void test_queue_bounds(void **state)
{
    (void)state;
    wss_queue q;
    assert_int_equal(wss_queue_init(&q, 4, 1 << 20), PT_OK);
    for (int i = 0; i < 4; i++)
        push_drop(&q, mk(WSS_TRADE, "X", "t"), PT_OK);
    push_drop(&q, mk(WSS_TRADE, "X", "t"), PT_EFULL);
    /* coalescing into a queued entry still works when full */
    wss_queue_free(&q);

    assert_int_equal(wss_queue_init(&q, 100, 10), PT_OK); /* byte bound */
    push_drop(&q, mk(WSS_TRADE, "X", "123456"), PT_OK);
    push_drop(&q, mk(WSS_TRADE, "X", "12345"), PT_EFULL);
    push_drop(&q, mk(WSS_CANDLE_PARTIAL, "X", "1234"), PT_OK);
    push_drop(&q, mk(WSS_CANDLE_PARTIAL, "X", "12345"), PT_EFULL); /* replacement would exceed */
    push_drop(&q, mk(WSS_CANDLE_PARTIAL, "X", "abcd"), 1);
    assert_int_equal(q.bytes, 10);
    expect_pop(&q, "123456");
    expect_pop(&q, "abcd");
    wss_queue_free(&q);
}

static void test_queue_shared_refs(void **state)
{
    (void)state;
    /* one message in two queues: freed only after both release it (ASan
     * would flag a use-after-free or a leak) */
    wss_queue a, b;
    assert_int_equal(wss_queue_init(&a, 4, 1 << 20), PT_OK);
    assert_int_equal(wss_queue_init(&b, 4, 1 << 20), PT_OK);
    wss_msg *m = mk(WSS_TRADE, "X", "shared");
    assert_int_equal(wss_queue_push(&a, m), PT_OK);
    assert_int_equal(wss_queue_push(&b, m), PT_OK);
    assert_int_equal(m->refs, 3);
    wss_msg_unref(m);
    expect_pop(&a, "shared");
    assert_int_equal(m->refs, 1);
    wss_queue_free(&a);
    wss_queue_free(&b);
}

static void test_files(void **state)
{
    (void)state;
    wss_files f;
    const char *src = getenv("PT_SOURCE_DIR");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/web", src ? src : "..");
    assert_int_equal(wss_files_load(&f, dir, NULL), PT_OK);
    assert_non_null(wss_files_find(&f, "/"));
    assert_non_null(wss_files_find(&f, "/app.js"));
    assert_null(wss_files_find(&f, "/../web/app.js"));
    assert_null(wss_files_find(&f, "//app.js"));
    assert_null(wss_files_find(&f, "/%2e%2e/etc/passwd"));
    assert_null(wss_files_find(&f, "/README.md"));
    wss_files_free(&f);
    /* no folder: the built-in copy (ws_server/embed.cmake), never a failure */
    assert_int_equal(wss_files_load(&f, "/nonexistent-dir", "/nonexistent.js"), PT_OK);
    assert_non_null(wss_files_find(&f, "/"));
    assert_non_null(wss_files_find(&f, "/app.js"));
    assert_non_null(wss_files_find(&f, "/fmt.js"));
    assert_non_null(wss_files_find(&f, "/vendor/lightweight-charts.js"));
    assert_null(wss_files_find(&f, "/README.md"));
    wss_files_free(&f);
}

int main(void)
{
    pt_log_set_stderr(0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metrics_render), cmocka_unit_test(test_metrics_refuse_bad),
        cmocka_unit_test(test_buf_bound),      cmocka_unit_test(test_origin_host),
        cmocka_unit_test(test_token),          cmocka_unit_test(test_queue_coalesce),
        cmocka_unit_test(test_queue_bounds),   cmocka_unit_test(test_queue_shared_refs),
        cmocka_unit_test(test_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
