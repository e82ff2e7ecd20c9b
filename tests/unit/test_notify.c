/* ops notifier against a node HTTP peer (tests/peers/hook_server.mjs):
 * priority order, rate limit, aggregation, retries (500, 429 Retry-After),
 * payload shapes, a hanging target, token redaction, config mapping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ops.h"

/* ------------------------------------------------------------ the peer */
#define MAX_REQ 256
static struct {
    pid_t pid;
    int out_fd, in_fd;
    int port;
    char buf[1 << 16];
    size_t len;
    cJSON *req[MAX_REQ];
    int n;
} peer = {.pid = -1};

/* Reads what the peer printed so far (waiting at most wait_ms for more). */
static void peer_pump(int wait_ms)
{
    struct pollfd p = {.fd = peer.out_fd, .events = POLLIN};
    while (poll(&p, 1, wait_ms) > 0) {
        ssize_t r = read(peer.out_fd, peer.buf + peer.len, sizeof peer.buf - 1 - peer.len);
        if (r <= 0)
            return;
        peer.len += (size_t)r;
        peer.buf[peer.len] = '\0';
        char *nl;
        while ((nl = strchr(peer.buf, '\n')) != NULL) {
            *nl = '\0';
            cJSON *j = cJSON_Parse(peer.buf);
            if (j && peer.port == 0 && cJSON_GetObjectItem(j, "port")) {
                peer.port = cJSON_GetObjectItem(j, "port")->valueint;
                cJSON_Delete(j);
            } else if (j && peer.n < MAX_REQ) {
                peer.req[peer.n++] = j;
            } else {
                cJSON_Delete(j);
            }
            size_t used = (size_t)(nl - peer.buf) + 1;
            memmove(peer.buf, nl + 1, peer.len - used + 1);
            peer.len -= used;
        }
        wait_ms = 0;
    }
}

static const char *jstr(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItem(o, k);
    return cJSON_IsString(v) ? v->valuestring : "";
}

/* The requests whose path contains tag, in arrival order. */
static int peer_find(const char *tag, cJSON **out, int cap)
{
    int k = 0;
    for (int i = 0; i < peer.n && k < cap; i++)
        if (strstr(jstr(peer.req[i], "path"), tag))
            out[k++] = peer.req[i];
    return k;
}

static int peer_wait(const char *tag, int want, int timeout_ms, cJSON **out, int cap)
{
    int64_t end = pt_mono_ms() + timeout_ms;
    int k;
    while ((k = peer_find(tag, out, cap)) < want && pt_mono_ms() < end)
        peer_pump(50);
    return k;
}

static int setup_peer(void **st)
{
    (void)st;
    if (system("node --version >/dev/null 2>&1") != 0 || access("peers/hook_server.mjs", R_OK) != 0)
        return 0; /* tests skip */
    int o[2], i[2];
    if (pipe(o) || pipe(i))
        return -1;
    peer.pid = fork();
    if (peer.pid == 0) {
        dup2(o[1], 1);
        dup2(i[0], 0);
        close(o[0]), close(o[1]), close(i[0]), close(i[1]);
        execlp("node", "node", "peers/hook_server.mjs", (char *)NULL);
        _exit(127);
    }
    close(o[1]);
    close(i[0]);
    peer.out_fd = o[0];
    peer.in_fd = i[1];
    int64_t end = pt_mono_ms() + 10000;
    while (!peer.port && pt_mono_ms() < end)
        peer_pump(100);
    return peer.port ? 0 : -1;
}

static int teardown_peer(void **st)
{
    (void)st;
    if (peer.pid > 0) {
        close(peer.in_fd);
        close(peer.out_fd);
        kill(peer.pid, SIGTERM);
        waitpid(peer.pid, NULL, 0);
    }
    for (int i = 0; i < peer.n; i++)
        cJSON_Delete(peer.req[i]);
    return 0;
}

#define NEED_PEER()                                                                                                    \
    do {                                                                                                               \
        if (!peer.port)                                                                                                \
            skip();                                                                                                    \
    } while (0)

static ops_notify_config one_target(ops_notify_kind kind, const char *path)
{
    ops_notify_config c;
    memset(&c, 0, sizeof c);
    c.n_targets = 1;
    c.targets[0].kind = kind;
    snprintf(c.targets[0].url, sizeof c.targets[0].url, "http://127.0.0.1:%d%s", peer.port, path);
    c.backoff_base_ms = 50;
    c.timeout_ms = 5000;
    return c;
}

static cJSON *body_of(const cJSON *req)
{
    return cJSON_Parse(jstr(req, "body"));
}

static void wait_idle(ops_notifier *n)
{
    ops_notify_stats s;
    int64_t end = pt_mono_ms() + 5000;
    do {
        ops_notifier_stats(n, &s);
        if (s.queue_depth == 0)
            return;
        usleep(1000);
    } while (pt_mono_ms() < end);
    fail_msg("queue never drained");
}

/* The peer logs a request before curl has its answer: poll the stats. */
static ops_notify_stats wait_stat(ops_notifier *n, size_t field, uint64_t want)
{
    ops_notify_stats s;
    int64_t end = pt_mono_ms() + 5000;
    do {
        ops_notifier_stats(n, &s);
        if (*(uint64_t *)((char *)&s + field) >= want)
            break;
        usleep(1000);
    } while (pt_mono_ms() < end);
    return s;
}
#define WAIT_STAT(n, f, want) wait_stat(n, offsetof(ops_notify_stats, f), want)

/* ------------------------------------------------------------- the tests */

static void test_priority_order(void **st)
{
    (void)st;
    NEED_PEER();
    ops_notify_config c = one_target(OPS_HOOK_JSON, "/plan/prio/hold400");
    ops_notifier *n = NULL;
    assert_int_equal(ops_notifier_new(&c, &n), PT_OK);
    assert_int_equal(ops_notify_post(n, OPS_NOTIFY_STATUS, OPS_PRIO_NORMAL, "first", "held 400 ms"), PT_OK);
    wait_idle(n); /* the worker holds "first" in flight; the next four queue together */
    assert_int_equal(ops_notify_post(n, OPS_NOTIFY_STATUS, OPS_PRIO_LOW, "low", "x"), PT_OK);
    assert_int_equal(ops_notify_post(n, OPS_NOTIFY_STATUS, OPS_PRIO_NORMAL, "normal", "x"), PT_OK);
    assert_int_equal(ops_notify_post(n, OPS_NOTIFY_ERROR, OPS_PRIO_CRITICAL, "crit", "x"), PT_OK);
    assert_int_equal(ops_notify_post(n, OPS_NOTIFY_TRADE, OPS_PRIO_HIGH, "high", "x"), PT_OK);
    cJSON *r[8];
    assert_int_equal(peer_wait("/plan/prio/", 5, 5000, r, 8), 5);
    const char *want[] = {"first", "crit", "high", "normal", "low"};
    for (int i = 0; i < 5; i++) {
        cJSON *b = body_of(r[i]);
        assert_non_null(b);
        assert_string_equal(jstr(b, "title"), want[i]);
        cJSON_Delete(b);
    }
    cJSON *b = body_of(r[1]);
    assert_string_equal(jstr(b, "priority"), "critical");
    assert_string_equal(jstr(b, "category"), "error");
    assert_string_equal(jstr(b, "source"), "papertrader");
    cJSON_Delete(b);
    ops_notify_stats s = WAIT_STAT(n, sent, 5);
    assert_int_equal(s.sent, 5);
    assert_int_equal(s.posted, 5);
    ops_notifier_free(n);
}

static void test_rate_limit(void **st)
{
    (void)st;
    NEED_PEER();
    ops_notify_config c = one_target(OPS_HOOK_JSON, "/rate");
    c.per_hour[OPS_NOTIFY_TRADE] = 3;
    ops_notifier *n = NULL;
    assert_int_equal(ops_notifier_new(&c, &n), PT_OK);
    for (int i = 0; i < 3; i++)
        assert_int_equal(ops_notify_post(n, OPS_NOTIFY_TRADE, OPS_PRIO_NORMAL, "trade", "buy %d", i), PT_OK);
    assert_int_equal(ops_notify_post(n, OPS_NOTIFY_TRADE, OPS_PRIO_NORMAL, "trade", "buy 3"), PT_ERATELIMIT);
    /* other categories have their own buckets */
    assert_int_equal(ops_notify_post(n, OPS_NOTIFY_STATUS, OPS_PRIO_NORMAL, "status", "ok"), PT_OK);
    ops_notify_stats s;
    ops_notifier_stats(n, &s);
    assert_int_equal(s.rate_limited, 1);
    ops_notifier_free(n); /* flushes */
    cJSON *r[8];
    peer_pump(100);
    assert_int_equal(peer_find("/rate", r, 8), 4);
}

static void test_aggregation(void **st)
{
    (void)st;
    NEED_PEER();
    ops_notify_config c = one_target(OPS_HOOK_JSON, "/agg");
    c.aggregate_window_ms = 300;
    ops_notifier *n = NULL;
    assert_int_equal(ops_notifier_new(&c, &n), PT_OK);
    for (int i = 0; i < 5; i++)
        assert_int_equal(ops_notify_event_post(n, OPS_EV_FEED_DOWN, "connection refused"), PT_OK);
    /* a different text is a different message */
    assert_int_equal(ops_notify_event_post(n, OPS_EV_FEED_DOWN, "timeout"), PT_OK);
    cJSON *r[8];
    assert_int_equal(peer_wait("/agg", 3, 5000, r, 8), 3);
    ops_notify_stats s;
    ops_notifier_stats(n, &s);
    assert_int_equal(s.aggregated, 4);
    ops_notifier_free(n);
    peer_pump(100);
    assert_int_equal(peer_find("/agg", r, 8), 3);
    cJSON *b = body_of(r[2]);
    assert_string_equal(jstr(b, "title"), "feed down (x5 in 300 ms)");
    assert_string_equal(jstr(b, "text"), "connection refused");
    assert_int_equal(cJSON_GetObjectItem(b, "count")->valueint, 5);
    cJSON_Delete(b);
    b = body_of(r[0]);
    assert_string_equal(jstr(b, "title"), "feed down");
    assert_int_equal(cJSON_GetObjectItem(b, "count")->valueint, 1);
    cJSON_Delete(b);
}

static void test_retry_after_500(void **st)
{
    (void)st;
    NEED_PEER();
    ops_notify_config c = one_target(OPS_HOOK_JSON, "/plan/r500/500-503-200");
    ops_notifier *n = NULL;
    assert_int_equal(ops_notifier_new(&c, &n), PT_OK);
    assert_int_equal(ops_notify_post(n, OPS_NOTIFY_ERROR, OPS_PRIO_HIGH, "boom", "x"), PT_OK);
    cJSON *r[8];
    assert_int_equal(peer_wait("/plan/r500/", 3, 5000, r, 8), 3);
    ops_notifier_free(n);
    assert_int_equal((int)cJSON_GetObjectItem(r[0], "status")->valueint, 500);
    assert_int_equal((int)cJSON_GetObjectItem(r[2], "status")->valueint, 200);
    /* backoff doubles: 50 ms then 100 ms (server-side arrival times) */
    double t0 = cJSON_GetObjectItem(r[0], "t")->valuedouble, t1 = cJSON_GetObjectItem(r[1], "t")->valuedouble,
           t2 = cJSON_GetObjectItem(r[2], "t")->valuedouble;
    assert_true(t1 - t0 >= 45);
    assert_true(t2 - t1 >= 95);
}

static void test_429_retry_after(void **st)
{
    (void)st;
    NEED_PEER();
    ops_notify_config c = one_target(OPS_HOOK_SLACK, "/plan/r429/429ra1-200");
    ops_notifier *n = NULL;
    assert_int_equal(ops_notifier_new(&c, &n), PT_OK);
    assert_int_equal(ops_notify_post(n, OPS_NOTIFY_STATUS, OPS_PRIO_NORMAL, "hello", "x"), PT_OK);
    cJSON *r[8];
    assert_int_equal(peer_wait("/plan/r429/", 2, 6000, r, 8), 2);
    ops_notify_stats s = WAIT_STAT(n, sent, 1);
    ops_notifier_free(n);
    double dt = cJSON_GetObjectItem(r[1], "t")->valuedouble - cJSON_GetObjectItem(r[0], "t")->valuedouble;
    assert_true(dt >= 990); /* Retry-After: 1 beats the 50 ms backoff */
    assert_int_equal(s.retries, 1);
}

static void test_payload_shapes(void **st)
{
    (void)st;
    NEED_PEER();
    ops_notify_config c = one_target(OPS_HOOK_TELEGRAM, "/tgbase/");
    snprintf(c.targets[0].token, sizeof c.targets[0].token, "123456:SHAPEtoken");
    snprintf(c.targets[0].chat_id, sizeof c.targets[0].chat_id, "-100200");
    c.targets[1] = one_target(OPS_HOOK_SLACK, "/slackhook").targets[0];
    c.targets[2] = one_target(OPS_HOOK_DISCORD, "/discordhook").targets[0];
    c.n_targets = 3;
    ops_notifier *n = NULL;
    assert_int_equal(ops_notifier_new(&c, &n), PT_OK);
    assert_int_equal(ops_notify_event_post(n, OPS_EV_TRADE, "BUY 0.5 BTCUSDT @ 42000"), PT_OK);
    cJSON *r[4];
    assert_int_equal(peer_wait("/tgbase/", 1, 5000, r, 4), 1);
    assert_string_equal(jstr(r[0], "path"), "/tgbase/bot123456:SHAPEtoken/sendMessage");
    assert_string_equal(jstr(r[0], "method"), "POST");
    assert_string_equal(jstr(r[0], "ctype"), "application/json");
    cJSON *b = body_of(r[0]);
    assert_string_equal(jstr(b, "chat_id"), "-100200");
    assert_string_equal(jstr(b, "text"), "trade\nBUY 0.5 BTCUSDT @ 42000");
    assert_int_equal(cJSON_GetArraySize(b), 2);
    cJSON_Delete(b);
    assert_int_equal(peer_wait("/slackhook", 1, 5000, r, 4), 1);
    b = body_of(r[0]);
    assert_string_equal(jstr(b, "text"), "*trade*\nBUY 0.5 BTCUSDT @ 42000");
    assert_int_equal(cJSON_GetArraySize(b), 1);
    cJSON_Delete(b);
    assert_int_equal(peer_wait("/discordhook", 1, 5000, r, 4), 1);
    b = body_of(r[0]);
    assert_string_equal(jstr(b, "content"), "**trade**\nBUY 0.5 BTCUSDT @ 42000");
    assert_int_equal(cJSON_GetArraySize(b), 1);
    cJSON_Delete(b);
    ops_notify_stats s = WAIT_STAT(n, sent, 3);
    assert_int_equal(s.sent, 3);
    ops_notifier_free(n);
}

static void test_dead_target_does_not_block(void **st)
{
    (void)st;
    NEED_PEER();
    ops_notify_config c = one_target(OPS_HOOK_JSON, "/hang/dead");
    c.timeout_ms = 20000;
    c.flush_deadline_ms = 200;
    c.per_hour[OPS_NOTIFY_STATUS] = 1000;
    ops_notifier *n = NULL;
    assert_int_equal(ops_notifier_new(&c, &n), PT_OK);
    cJSON *r[4];
    assert_int_equal(ops_notify_post(n, OPS_NOTIFY_STATUS, OPS_PRIO_NORMAL, "m0", "x"), PT_OK);
    assert_int_equal(peer_wait("/hang/dead", 1, 5000, r, 4), 1); /* the worker is now stuck on it */
    for (int i = 1; i <= 8; i++)
        assert_int_equal(ops_notify_post(n, OPS_NOTIFY_STATUS, OPS_PRIO_NORMAL, "m", "%d", i), PT_OK);
    ops_notify_stats s;
    ops_notifier_stats(n, &s);
    assert_int_equal(s.queue_depth, 8); /* every post returned while the request hangs */
    assert_int_equal(s.sent, 0);
    ops_notifier_free(n); /* aborts the hanging request at the flush deadline */
}

static void test_queue_full_drops_lowest(void **st)
{
    (void)st;
    NEED_PEER();
    ops_notify_config c = one_target(OPS_HOOK_JSON, "/hang/full");
    c.queue_cap = 2;
    c.flush_deadline_ms = 100;
    ops_notifier *n = NULL;
    assert_int_equal(ops_notifier_new(&c, &n), PT_OK);
    cJSON *r[4];
    assert_int_equal(ops_notify_post(n, OPS_NOTIFY_ERROR, OPS_PRIO_NORMAL, "inflight", "x"), PT_OK);
    assert_int_equal(peer_wait("/hang/full", 1, 5000, r, 4), 1);
    assert_int_equal(ops_notify_post(n, OPS_NOTIFY_ERROR, OPS_PRIO_LOW, "a", "x"), PT_OK);
    assert_int_equal(ops_notify_post(n, OPS_NOTIFY_ERROR, OPS_PRIO_NORMAL, "b", "x"), PT_OK);
    assert_int_equal(ops_notify_post(n, OPS_NOTIFY_ERROR, OPS_PRIO_LOW, "c", "x"), PT_EFULL);
    assert_int_equal(ops_notify_post(n, OPS_NOTIFY_ERROR, OPS_PRIO_HIGH, "d", "x"), PT_OK); /* evicts "a" */
    ops_notify_stats s;
    ops_notifier_stats(n, &s);
    assert_int_equal(s.dropped, 2);
    assert_int_equal(s.queue_depth, 2);
    ops_notifier_free(n);
}

/* ---------------------------------------------------- token never logged */
static char logbuf[1 << 16];
static size_t loglen;
static void capture(pt_log_level lvl, const char *line, void *ud)
{
    (void)lvl, (void)ud;
    int k = snprintf(logbuf + loglen, sizeof logbuf - loglen, "%s\n", line);
    if (k > 0 && (size_t)k < sizeof logbuf - loglen)
        loglen += (size_t)k;
}

static void test_token_never_logged(void **st)
{
    (void)st;
    NEED_PEER();
    const char *token = "987654:NEVERinLOGS_xyz";
    ops_notify_config c = one_target(OPS_HOOK_TELEGRAM, "/plan/tgfail/500-500-500");
    snprintf(c.targets[0].token, sizeof c.targets[0].token, "%s", token);
    snprintf(c.targets[0].chat_id, sizeof c.targets[0].chat_id, "42");
    c.targets[1] = c.targets[0]; /* and one whose connection is refused */
    snprintf(c.targets[1].url, sizeof c.targets[1].url, "http://127.0.0.1:1");
    c.n_targets = 2;
    c.max_attempts = 2;
    c.backoff_base_ms = 10;
    loglen = 0;
    pt_log_level old = pt_log_get_level();
    pt_log_set_level(PT_LOG_DEBUG);
    pt_log_set_sink(capture, NULL);
    ops_notifier *n = NULL;
    assert_int_equal(ops_notifier_new(&c, &n), PT_OK);
    assert_int_equal(ops_notify_post(n, OPS_NOTIFY_ERROR, OPS_PRIO_HIGH, "boom", "x"), PT_OK);
    cJSON *r[4];
    assert_int_equal(peer_wait("/plan/tgfail/", 2, 5000, r, 4), 2);
    ops_notify_stats s = WAIT_STAT(n, failed, 2);
    ops_notifier_free(n);
    pt_log_set_sink(NULL, NULL);
    pt_log_set_level(old);
    assert_int_equal(s.failed, 2);
    assert_non_null(strstr(logbuf, "bot***")); /* the give-up line was logged ... */
    assert_null(strstr(logbuf, "NEVERinLOGS"));  /* ... without the token */
    assert_non_null(strstr(jstr(r[0], "path"), token)); /* while the request did carry it */

    char red[256];
    ops_notify_redact_url("https://api.telegram.org/bot123:abc/sendMessage", red, sizeof red);
    assert_string_equal(red, "https://api.telegram.org/bot***/sendMessage");
}

static void test_config_from(void **st)
{
    (void)st;
    ops_config *cfg = NULL;
    assert_int_equal(ops_config_new(&cfg), PT_OK);
    ops_notify_config nc;
    assert_int_equal(ops_notify_config_from(cfg, &nc), PT_OK);
    assert_int_equal(nc.n_targets, 0);
    assert_int_equal(nc.per_hour[OPS_NOTIFY_ERROR], 30);
    assert_int_equal(ops_config_set(cfg, "notify", "webhook_url", "http://127.0.0.1:9/h", "test"), PT_OK);
    assert_int_equal(ops_config_set(cfg, "notify", "discord_url", "http://127.0.0.1:9/d", "test"), PT_OK);
    assert_int_equal(ops_config_set(cfg, "notify", "trades_per_hour", "0", "test"), PT_OK);
    assert_int_equal(ops_config_set(cfg, "notify", "telegram_chat_id", "42", "test"), PT_OK);
    assert_int_equal(ops_notify_config_from(cfg, &nc), PT_EINVAL); /* chat id without token */
    assert_int_equal(ops_config_set(cfg, "notify", "telegram_token", "1:tok", "test"), PT_OK);
    assert_int_equal(ops_notify_config_from(cfg, &nc), PT_OK);
    assert_int_equal(nc.n_targets, 3);
    assert_int_equal(nc.targets[0].kind, OPS_HOOK_JSON);
    assert_int_equal(nc.targets[1].kind, OPS_HOOK_DISCORD);
    assert_int_equal(nc.targets[2].kind, OPS_HOOK_TELEGRAM);
    assert_string_equal(nc.targets[2].url, "https://api.telegram.org");
    assert_string_equal(nc.targets[2].token, "1:tok");
    assert_int_equal(nc.per_hour[OPS_NOTIFY_TRADE], -1); /* 0 mutes */
    ops_config_free(cfg);
}

int main(void)
{
    pt_log_set_stderr(getenv("PT_TEST_VERBOSE") != NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_priority_order),
        cmocka_unit_test(test_rate_limit),
        cmocka_unit_test(test_aggregation),
        cmocka_unit_test(test_retry_after_500),
        cmocka_unit_test(test_429_retry_after),
        cmocka_unit_test(test_payload_shapes),
        cmocka_unit_test(test_dead_target_does_not_block),
        cmocka_unit_test(test_queue_full_drops_lowest),
        cmocka_unit_test(test_token_never_logged),
        cmocka_unit_test(test_config_from),
    };
    return cmocka_run_group_tests(tests, setup_peer, teardown_peer);
}
