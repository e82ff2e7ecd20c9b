/* session/: the folder helpers every command shares (default name, one
 * lock with its exit codes, the "holds a run" refusal, session.json written
 * and read back) and the observer dispatch of the live session (table order,
 * replay filter, first error ends a start, heartbeat fallback). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "session.h"
#include "session_internal.h"

static char tmpdir[256];

static int setup_dir(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/pt_test_session_XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_dir(void **state)
{
    (void)state;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static void touch(const char *dir, const char *name)
{
    char p[1100]; /* dir (512) + name: never cut */
    int n = snprintf(p, sizeof p, "%s/%s", dir, name);
    assert_true(n > 0 && (size_t)n < sizeof p);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs("x\n", f);
    fclose(f);
}

static void test_default_dir(void **state)
{
    (void)state;
    char buf[128];
    session_default_dir(buf, sizeof buf, "backtest");
    /* logs/YYYYMMDDTHHMMSSZ-backtest: one format for every command */
    assert_int_equal(strlen(buf), strlen("logs/20261204T020628Z-backtest"));
    assert_memory_equal(buf, "logs/", 5);
    assert_int_equal(buf[13], 'T');
    assert_int_equal(buf[20], 'Z');
    assert_string_equal(buf + 21, "-backtest");
    for (int i = 5; i < 20; i++)
        if (i != 13)
            assert_true(buf[i] >= '0' && buf[i] <= '9');
    session_default_dir(buf, sizeof buf, "walk-forward");
    assert_string_equal(buf + 21, "-walk-forward");
}

static void test_lock(void **state)
{
    (void)state;
    char dir[512];
    snprintf(dir, sizeof dir, "%s/a/b", tmpdir);
    int fd = -1, fd2 = -1;
    assert_int_equal(session_dir_lock("test", dir, 0, &fd), PT_EXIT_FAILURE); /* missing, not created */
    assert_int_equal(session_dir_lock("test", dir, 1, &fd), 0);
    assert_true(fd >= 0);
    char p[600], pid[32] = "";
    snprintf(p, sizeof p, "%s/.lock", dir);
    FILE *f = fopen(p, "r");
    assert_non_null(f);
    assert_non_null(fgets(pid, sizeof pid, f));
    fclose(f);
    assert_int_equal(atol(pid), (long)getpid());
    /* a second open of the lock file is a second holder (flock is per open
     * file description): refused with the lock's exit code */
    assert_int_equal(session_dir_lock("test", dir, 1, &fd2), PT_EXIT_LOCKED);
    assert_int_equal(fd2, -1);
    session_unlock(fd);
    assert_int_equal(session_dir_lock("test", dir, 0, &fd2), 0);
    session_unlock(fd2);
    session_unlock(-1); /* no-op */
}

static void test_holds_run(void **state)
{
    (void)state;
    char dir[512];
    snprintf(dir, sizeof dir, "%s/run", tmpdir);
    assert_int_equal(mkdir(dir, 0755), 0);
    touch(dir, "notes.txt");
    assert_int_equal(session_dir_holds_run(dir), 0);
    assert_int_equal(session_dir_refuse_run("test", dir, 1), 0);
    touch(dir, "trades.csv");
    assert_int_equal(session_dir_holds_run(dir), 1);
    assert_int_equal(session_dir_refuse_run("test", dir, 1), PT_EXIT_USAGE);
    snprintf(dir, sizeof dir, "%s/run2", tmpdir);
    assert_int_equal(mkdir(dir, 0755), 0);
    touch(dir, "session.json");
    assert_int_equal(session_dir_refuse_run("test", dir, 0), PT_EXIT_USAGE);
}

static void test_session_json(void **state)
{
    (void)state;
    char dir[512];
    snprintf(dir, sizeof dir, "%s/json", tmpdir);
    assert_int_equal(mkdir(dir, 0755), 0);
    errno = 0;
    assert_null(session_json_read(dir));
    assert_int_equal(errno, ENOENT);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "command", "backtest");
    sl_json_num(j, "cash", 1000);
    sl_json_num(j, "nan", NAN);
    assert_int_equal(session_write_json(dir, "session.json", j), PT_OK);
    cJSON_Delete(j);
    assert_int_equal(session_write_json(dir, "x.json", NULL), PT_ENOMEM);
    cJSON *r = session_json_read(dir);
    assert_non_null(r);
    assert_string_equal(cJSON_GetObjectItem(r, "command")->valuestring, "backtest");
    assert_true(cJSON_GetObjectItem(r, "cash")->valuedouble == 1000);
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(r, "nan")));
    cJSON_Delete(r);
    char p[600];
    snprintf(p, sizeof p, "%s/.session.json.tmp", dir);
    assert_int_equal(access(p, F_OK), -1); /* the temp file was renamed away */
    touch(dir, "session.json"); /* "x\n": not JSON */
    errno = 0;
    assert_null(session_json_read(dir));
    assert_int_equal(errno, EINVAL);
}

/* ------------------------------------------------------------ observers */
static char calls[512];

static void note(const char *who, const char *what)
{
    size_t n = strlen(calls);
    snprintf(calls + n, sizeof calls - n, "%s.%s ", who, what);
}

static int a_start(session *s) { (void)s; note("a", "start"); return PT_OK; }
static int b_start(session *s) { (void)s; note("b", "start"); return PT_EIO; }
static int c_start(session *s) { (void)s; note("c", "start"); return PT_OK; }
static void a_candle(session *s, sl_sym *y, const pt_candle *c, quality_verdict v, double q, const sim_signal *g)
{
    (void)s, (void)y, (void)c, (void)v, (void)q, (void)g;
    note("a", "candle");
}
static void b_candle(session *s, sl_sym *y, const pt_candle *c, quality_verdict v, double q, const sim_signal *g)
{
    (void)s, (void)y, (void)c, (void)v, (void)q, (void)g;
    note("b", "candle");
}
static void a_alert(session *s, const char *level, const char *sym, const char *msg, const sim_alert *al)
{
    (void)s, (void)sym, (void)al;
    note("a", level);
    note("a", msg);
}
static int b_heartbeat(session *s, const char *line) { (void)s; note("b", line); return 1; }
static void a_free(session *s) { (void)s; note("a", "free"); }
static void c_free(session *s) { (void)s; note("c", "free"); }

static const session_observer obs_a = {.name = "a", .replay = 1, .start = a_start, .on_candle = a_candle,
                                       .on_alert = a_alert, .free = a_free};
static const session_observer obs_b = {.name = "b", .start = b_start, .on_candle = b_candle,
                                       .heartbeat = b_heartbeat};
static const session_observer obs_c = {.name = "c", .start = c_start, .free = c_free};

static void test_observer_dispatch(void **state)
{
    (void)state;
    static const session_observer *const table[] = {&obs_a, &obs_b, &obs_c};
    session *s = calloc(1, sizeof *s);
    assert_non_null(s);
    s->obs = table;
    s->n_obs = 3;
    pt_candle c;
    memset(&c, 0, sizeof c);

    calls[0] = 0; /* table order; the first error ends the round */
    assert_int_equal(sl_observe_start(s), PT_EIO);
    assert_string_equal(calls, "a.start b.start ");

    calls[0] = 0; /* a member an observer lacks is skipped */
    sl_observe_candle(s, NULL, &c, QUALITY_ACCEPT, 100, NULL);
    sl_observe_partial(s, &c);
    sl_observe_alert(s, "warn", NULL, "stale", NULL);
    assert_string_equal(calls, "a.candle b.candle a.warn a.stale ");

    calls[0] = 0; /* a resume replay reaches only observers with .replay */
    s->replaying = 1;
    sl_observe_candle(s, NULL, &c, QUALITY_ACCEPT, 100, NULL);
    sl_observe_heartbeat(s, "up %d", 1);
    assert_string_equal(calls, "a.candle ");

    calls[0] = 0; /* free reaches everyone, replay or not */
    sl_observe_free(s);
    assert_string_equal(calls, "a.free c.free ");
    assert_int_equal(s->replaying, 1);

    calls[0] = 0;
    s->replaying = 0;
    sl_observe_heartbeat(s, "up %d", 2);
    assert_string_equal(calls, "b.up 2 ");
    s->n_obs = 0; /* no observer: nothing to call, nothing fails */
    assert_int_equal(sl_observe_start(s), PT_OK);
    sl_observe_heartbeat(s, "alone"); /* logged by the session itself */
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_dir),
        cmocka_unit_test(test_lock),
        cmocka_unit_test(test_holds_run),
        cmocka_unit_test(test_session_json),
        cmocka_unit_test(test_observer_dispatch),
    };
    return cmocka_run_group_tests(tests, setup_dir, remove_dir);
}
