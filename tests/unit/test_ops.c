/* ops: log files, rotation, reopen; signal flags. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ops.h"

static long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

static int count_lines(const char *path, const char *needle)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[4096];
    int n = 0;
    while (fgets(line, sizeof line, f))
        if (!needle || strstr(line, needle))
            n++;
    fclose(f);
    return n;
}

static void test_log_files_and_rotation(void **st)
{
    (void)st;
    char dir[] = "/tmp/pt_ops_XXXXXX";
    assert_non_null(mkdtemp(dir));
    ops_log_config cfg = {.dir = dir, .max_bytes = 4096, .max_files = 3, .level = PT_LOG_DEBUG};
    pt_log_set_stderr(0);
    assert_int_equal(ops_log_open(&cfg), PT_OK);
    for (int i = 0; i < 400; i++)
        pt_info("line %d with some padding to make it longer than a few bytes", i);
    pt_warn("a warning that also goes to errors.log");
    ops_log_close();
    pt_log_set_stderr(1);

    char p[512];
    snprintf(p, sizeof p, "%s/papertrader.log", dir);
    assert_true(file_size(p) > 0 && file_size(p) <= 4096);
    for (int i = 1; i <= 3; i++) {
        snprintf(p, sizeof p, "%s/papertrader.log.%d", dir, i);
        assert_true(file_size(p) > 0 && file_size(p) <= 4096);
    }
    snprintf(p, sizeof p, "%s/papertrader.log.4", dir);
    assert_int_equal(file_size(p), -1); /* bounded: only max_files generations */
    snprintf(p, sizeof p, "%s/errors.log", dir);
    assert_int_equal(count_lines(p, NULL), 1);
    assert_int_equal(count_lines(p, "WARN"), 1);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_reopen_after_move(void **st)
{
    (void)st;
    char dir[] = "/tmp/pt_ops_XXXXXX";
    assert_non_null(mkdtemp(dir));
    ops_log_config cfg = {.dir = dir, .max_bytes = 1 << 20, .max_files = 2, .level = PT_LOG_INFO};
    pt_log_set_stderr(0);
    assert_int_equal(ops_log_open(&cfg), PT_OK);
    pt_info("before");
    char p[512], moved[600];
    snprintf(p, sizeof p, "%s/papertrader.log", dir);
    snprintf(moved, sizeof moved, "%s/moved.log", dir);
    assert_int_equal(rename(p, moved), 0); /* what logrotate does */
    pt_info("still old fd");
    ops_log_reopen();
    pt_info("after");
    pt_debug("filtered by level");
    ops_log_close();
    pt_log_set_stderr(1);
    assert_int_equal(count_lines(moved, NULL), 2);
    assert_int_equal(count_lines(p, NULL), 1);
    assert_int_equal(count_lines(p, "after"), 1);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_signals(void **st)
{
    (void)st;
    ops_signal_install();
    assert_int_equal(ops_signal_stop_count(), 0);
    raise(SIGHUP);
    assert_int_equal(ops_signal_take_reopen(), 1);
    assert_int_equal(ops_signal_take_reopen(), 0);
    raise(SIGTERM);
    assert_int_equal(ops_signal_stop_count(), 1);
    raise(SIGINT);
    raise(SIGINT);
    assert_int_equal(ops_signal_stop_count(), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_log_files_and_rotation),
        cmocka_unit_test(test_reopen_after_move),
        cmocka_unit_test(test_signals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
