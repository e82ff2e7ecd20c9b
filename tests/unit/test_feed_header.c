/* feed: header and row shape at their edges (issue 11 item 7): a column
 * name twice, a known column at the 256-column cap and one past it, rows
 * with more fields than the header. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "feed.h"

static char path[] = "/tmp/pt_hdr_XXXXXX";

static const char *write_tmp(const char *text)
{
    memcpy(path + sizeof path - 7, "XXXXXX", 6);
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static int rejects;
static char last_reason[80];
static void on_rej(const feed_reject *r, void *ud)
{
    (void)ud;
    rejects++;
    snprintf(last_reason, sizeof last_reason, "%s", r->reason);
}

/* open's result; *rows: rows read when it opened */
static int read_csv(const char *text, int *rows)
{
    feed_csv_opts o = {.on_reject = on_rej};
    feed_csv *r = NULL;
    rejects = 0;
    *rows = 0;
    int rc = feed_csv_open(write_tmp(text), &o, &r);
    pt_candle c;
    while (!rc && feed_csv_next(r, &c) == PT_OK)
        ++*rows;
    feed_csv_free(r);
    unlink(path);
    return rc;
}

static void test_duplicate_column(void **st)
{
    (void)st;
    int n;
    assert_int_equal(read_csv("timestamp,open,high,low,close,volume,close\n1700000000000,1,2,0.5,1.5,10,9\n", &n),
                     PT_EPARSE);
    assert_int_equal(read_csv("timestamp,open,open,high,low,close,volume\n1700000000000,1,1,2,0.5,1.5,10\n", &n),
                     PT_EPARSE);
    /* different spellings of the time column keep their priority rule */
    assert_int_equal(read_csv("date,timestamp,open,high,low,close,volume\nx,1700000000000,1,2,0.5,1.5,10\n", &n), PT_OK);
    assert_int_equal(n, 1);
    /* unknown columns may repeat: they are not read */
    assert_int_equal(read_csv("timestamp,open,high,low,close,volume,note,note\n1700000000000,1,2,0.5,1.5,10,a,b\n", &n),
                     PT_OK);
    assert_int_equal(n, 1);
}

/* a header with ncols columns, volume the last; one row of nfields fields */
static char *wide(int ncols, int nfields)
{
    size_t cap = 64 + (size_t)(ncols + nfields) * 8;
    char *b = malloc(cap);
    assert_non_null(b);
    size_t k = (size_t)snprintf(b, cap, "timestamp,open,high,low,close");
    for (int i = 6; i < ncols; i++)
        k += (size_t)snprintf(b + k, cap - k, ",x%d", i);
    k += (size_t)snprintf(b + k, cap - k, ",volume\n1700000000000,1,2,0.5,1.5");
    for (int i = 6; i < nfields; i++)
        k += (size_t)snprintf(b + k, cap - k, ",0");
    snprintf(b + k, cap - k, ",10\n");
    return b;
}

static void test_column_cap(void **st)
{
    (void)st;
    int n;
    char *t = wide(256, 256); /* volume is column 256: read */
    assert_int_equal(read_csv(t, &n), PT_OK);
    assert_int_equal(n, 1);
    free(t);
    t = wide(257, 257); /* volume is column 257: a header error, not "missing" */
    assert_int_equal(read_csv(t, &n), PT_EPARSE);
    free(t);
    /* wide rows are fine when every known column is within the cap */
    t = malloc(8192);
    size_t k = (size_t)snprintf(t, 8192, "timestamp,open,high,low,close,volume");
    for (int i = 0; i < 300; i++)
        k += (size_t)snprintf(t + k, 8192 - k, ",n%d", i);
    k += (size_t)snprintf(t + k, 8192 - k, "\n1700000000000,1,2,0.5,1.5,10");
    for (int i = 0; i < 300; i++)
        k += (size_t)snprintf(t + k, 8192 - k, ",0");
    snprintf(t + k, 8192 - k, "\n");
    assert_int_equal(read_csv(t, &n), PT_OK);
    assert_int_equal(n, 1);
    assert_int_equal(rejects, 0);
    free(t);
}

static void test_row_field_count(void **st)
{
    (void)st;
    int n;
    const char *hdr = "timestamp,open,high,low,close,volume\n";
    char buf[256];
    snprintf(buf, sizeof buf, "%s1700000000000,1,2,0.5,1.5,10\n1700000060000,1,2,0.5,1.5,10,\n", hdr);
    assert_int_equal(read_csv(buf, &n), PT_OK);
    assert_int_equal(n, 1); /* as many fields as the header: kept; one more: rejected */
    assert_int_equal(rejects, 1);
    assert_string_equal(last_reason, "7 fields, the header has 6");
    snprintf(buf, sizeof buf, "%s1700000000000,1,2,0.5,\"1,5\",10\n", hdr);
    assert_int_equal(read_csv(buf, &n), PT_OK); /* a quoted comma is one field */
    assert_int_equal(rejects, 1);
    assert_int_equal(n, 0); /* "1,5" is not a number: its own reject */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_duplicate_column),
        cmocka_unit_test(test_column_cap),
        cmocka_unit_test(test_row_field_count),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
