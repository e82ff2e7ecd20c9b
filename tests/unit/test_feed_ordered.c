/* feed: feed_source_ordered, a live recording replayed in the order of its
 * candles/.order file (docs/durability.md "Live sessions"): the named order
 * is kept across symbols, a torn last .order line and a symbol with no row
 * left end the replay (PT_EOF), an unknown name is PT_EPARSE, a missing
 * .order fails at creation, and the sources are owned (freed) in every
 * path; run under ASan to catch leaks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feed.h"

static char tmpdir[] = "/tmp/pt_ordered_XXXXXX";

static const char *tmp_path(const char *name)
{
    static char path[2][512];
    static int k;
    k ^= 1;
    snprintf(path[k], sizeof path[k], "%s/%s", tmpdir, name);
    return path[k];
}

static void write_file(const char *name, const char *text)
{
    FILE *f = fopen(tmp_path(name), "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

/* One-minute bars T1..T3. AAA: 3 rows at T1, T2, T3 (close 1, 2, 3); BBB: 2 rows at
 * T1, T2 (close 11, 12). Both carry a symbol column. */
#define T1 1700000060000LL
#define T2 1700000120000LL
#define T3 1700000180000LL
static void write_recording(void)
{
    write_file("AAA.csv", "timestamp,symbol,open,high,low,close,volume\n"
                          "1700000060000,AAA,1,1,1,1,5\n"
                          "1700000120000,AAA,2,2,2,2,5\n"
                          "1700000180000,AAA,3,3,3,3,5\n");
    write_file("BBB.csv", "timestamp,symbol,open,high,low,close,volume\n"
                          "1700000060000,BBB,11,11,11,11,5\n"
                          "1700000120000,BBB,12,12,12,12,5\n");
}

/* Opens the ordered source over AAA.csv, BBB.csv and `order_name`. */
static int open_ordered(const char *order_name, feed_source *out)
{
    feed_source srcs[2];
    feed_csv_opts opts = {0};
    assert_int_equal(feed_source_csv(tmp_path("AAA.csv"), &opts, &srcs[0]), PT_OK);
    assert_int_equal(feed_source_csv(tmp_path("BBB.csv"), &opts, &srcs[1]), PT_OK);
    return feed_source_ordered(srcs, 2, tmp_path(order_name), out);
}

static void expect(feed_source *s, const char *sym, int64_t ts, double close)
{
    pt_candle c;
    assert_int_equal(s->ops->next(s->self, &c), PT_OK);
    assert_string_equal(c.symbol, sym);
    assert_int_equal(c.ts_ms, ts);
    assert_true(c.close == close);
}

static int next_rc(feed_source *s)
{
    pt_candle c;
    return s->ops->next(s->self, &c);
}

static void test_order_kept(void **st)
{
    (void)st;
    write_recording();
    /* not time order: BBB's 2000 before AAA's 2000, AAA lagging at the end */
    write_file("order_all", "BBB\nAAA\nBBB\nAAA\nAAA\n");
    feed_source s;
    assert_int_equal(open_ordered("order_all", &s), PT_OK);
    expect(&s, "BBB", T1, 11);
    expect(&s, "AAA", T1, 1);
    expect(&s, "BBB", T2, 12);
    expect(&s, "AAA", T2, 2);
    expect(&s, "AAA", T3, 3);
    assert_int_equal(next_rc(&s), PT_EOF);
    assert_int_equal(next_rc(&s), PT_EOF); /* stays at the end */
    feed_source_free(&s);
    assert_null(s.ops);
    feed_source_free(&s); /* again: no-op */
}

static void test_rows_past_order_unprocessed(void **st)
{
    (void)st;
    write_recording();
    /* rows recorded but never named in .order are not given out */
    write_file("order_short", "AAA\nBBB\n");
    feed_source s;
    assert_int_equal(open_ordered("order_short", &s), PT_OK);
    expect(&s, "AAA", T1, 1);
    expect(&s, "BBB", T1, 11);
    assert_int_equal(next_rc(&s), PT_EOF);
    feed_source_free(&s);

    /* an empty .order: nothing was processed */
    write_file("order_empty", "");
    assert_int_equal(open_ordered("order_empty", &s), PT_OK);
    assert_int_equal(next_rc(&s), PT_EOF);
    feed_source_free(&s);
}

static void test_torn_last_line(void **st)
{
    (void)st;
    write_recording();
    /* the kill landed in the middle of writing "AAA\n": AAA has rows left,
     * but the torn name must not be taken as a processed candle */
    write_file("order_torn", "AAA\nBBB\nAA");
    feed_source s;
    assert_int_equal(open_ordered("order_torn", &s), PT_OK);
    expect(&s, "AAA", T1, 1);
    expect(&s, "BBB", T1, 11);
    assert_int_equal(next_rc(&s), PT_EOF);
    feed_source_free(&s);

    /* a complete name without its newline is torn as well */
    write_file("order_torn2", "BBB\nAAA");
    assert_int_equal(open_ordered("order_torn2", &s), PT_OK);
    expect(&s, "BBB", T1, 11);
    assert_int_equal(next_rc(&s), PT_EOF);
    feed_source_free(&s);
}

static void test_no_row_left(void **st)
{
    (void)st;
    write_recording();
    /* BBB has 2 rows; the 3rd BBB line has none left: stop there */
    write_file("order_over", "BBB\nBBB\nAAA\nBBB\nAAA\n");
    feed_source s;
    assert_int_equal(open_ordered("order_over", &s), PT_OK);
    expect(&s, "BBB", T1, 11);
    expect(&s, "BBB", T2, 12);
    expect(&s, "AAA", T1, 1);
    assert_int_equal(next_rc(&s), PT_EOF);
    feed_source_free(&s); /* AAA's unread rows and its primed head are freed */
}

static void test_unknown_name(void **st)
{
    (void)st;
    write_recording();
    write_file("order_unknown", "AAA\nCCC\nBBB\n");
    feed_source s;
    assert_int_equal(open_ordered("order_unknown", &s), PT_OK);
    expect(&s, "AAA", T1, 1);
    assert_int_equal(next_rc(&s), PT_EPARSE);
    feed_source_free(&s);

    /* names are exact: no prefix or case match */
    write_file("order_prefix", "AA\n");
    assert_int_equal(open_ordered("order_prefix", &s), PT_OK);
    assert_int_equal(next_rc(&s), PT_EPARSE);
    feed_source_free(&s);
    write_file("order_case", "aaa\n");
    assert_int_equal(open_ordered("order_case", &s), PT_OK);
    assert_int_equal(next_rc(&s), PT_EPARSE);
    feed_source_free(&s);
}

/* A source that counts how often it is freed (ownership on failure). */
typedef struct counted {
    int *freed;
} counted;
static int counted_next(void *self, pt_candle *out)
{
    (void)self;
    (void)out;
    return PT_EOF;
}
static void counted_free(void *self) { ++*((counted *)self)->freed; }
static const feed_source_ops counted_ops = {"counted", counted_next, counted_free};

/* CRLF from an editor is fine; a line longer than any symbol mid-file is
 * corruption (PT_EPARSE), not a torn tail */
static void test_crlf_and_long_line(void **st)
{
    (void)st;
    write_recording();
    write_file("order_crlf", "AAA\r\nBBB\r\n");
    feed_source s;
    assert_int_equal(open_ordered("order_crlf", &s), PT_OK);
    expect(&s, "AAA", T1, 1);
    assert_int_equal(next_rc(&s), PT_OK);
    feed_source_free(&s);
    write_file("order_long", "AAA\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\nBBB\n");
    assert_int_equal(open_ordered("order_long", &s), PT_OK);
    expect(&s, "AAA", T1, 1);
    assert_int_equal(next_rc(&s), PT_EPARSE);
    feed_source_free(&s);
}

static void test_missing_order(void **st)
{
    (void)st;
    write_recording();
    feed_source s = {&counted_ops, NULL};
    /* CSV sources: ASan reports a leak if they are not freed */
    assert_int_not_equal(open_ordered("no_such_order", &s), PT_OK);
    assert_null(s.ops);
    assert_null(s.self);
    feed_source_free(&s); /* the failed out is safe to free */

    /* counted sources: each is freed exactly once */
    int freed = 0;
    counted c1 = {&freed}, c2 = {&freed}, c3 = {&freed};
    feed_source srcs[3] = {{&counted_ops, &c1}, {&counted_ops, &c2}, {&counted_ops, &c3}};
    assert_int_equal(feed_source_ordered(srcs, 3, tmp_path("no_such_order"), &s), PT_ENOENT);
    assert_int_equal(freed, 3);

    /* and on success they are freed by feed_source_free, once */
    freed = 0;
    write_file("order_one", "X\n");
    assert_int_equal(feed_source_ordered(srcs, 3, tmp_path("order_one"), &s), PT_OK);
    assert_int_equal(freed, 0);
    assert_int_equal(next_rc(&s), PT_EPARSE); /* no source has a row, so no name */
    feed_source_free(&s);
    assert_int_equal(freed, 3);

    /* bad arguments: nothing taken, nothing freed */
    freed = 0;
    assert_int_equal(feed_source_ordered(srcs, 0, tmp_path("order_one"), &s), PT_EINVAL);
    assert_int_equal(feed_source_ordered(srcs, 3, NULL, &s), PT_EINVAL);
    assert_int_equal(freed, 0);
}

static void test_free_unread(void **st)
{
    (void)st;
    write_recording();
    write_file("order_all2", "AAA\nBBB\nAAA\nBBB\nAAA\n");
    feed_source s;
    /* freed before the first next(): nothing primed yet */
    assert_int_equal(open_ordered("order_all2", &s), PT_OK);
    feed_source_free(&s);
    /* freed half way */
    assert_int_equal(open_ordered("order_all2", &s), PT_OK);
    expect(&s, "AAA", T1, 1);
    expect(&s, "BBB", T1, 11);
    feed_source_free(&s);
}

static int setup(void **st)
{
    (void)st;
    if (!mkdtemp(tmpdir))
        return -1;
    pt_log_set_stderr(0);
    return 0;
}

static int teardown(void **st)
{
    (void)st;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_kept),
        cmocka_unit_test(test_rows_past_order_unprocessed),
        cmocka_unit_test(test_torn_last_line),
        cmocka_unit_test(test_no_row_left),
        cmocka_unit_test(test_unknown_name),
        cmocka_unit_test(test_crlf_and_long_line),
        cmocka_unit_test(test_missing_order),
        cmocka_unit_test(test_free_unread),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
