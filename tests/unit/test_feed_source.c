/* feed: candle sources, the CSV source and the k-way merge (order by
 * (ts_ms, source index), a source's own order kept, errors passed on). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feed.h"

static const char *data_file(const char *name)
{
    static char path[512];
    const char *d = getenv("PT_SHARED_DATA");
    snprintf(path, sizeof path, "%s/%s", d ? d : "/work/shared/data", name);
    return path;
}

/* ---------------------------------------------------------- sources */

typedef struct fake {
    const int64_t *ts;
    int n, i, fail_at;
    int *freed;
} fake;

static int fake_next(void *self, pt_candle *out)
{
    fake *f = self;
    if (f->i == f->fail_at)
        return PT_EIO;
    if (f->i == f->n)
        return PT_EOF;
    memset(out, 0, sizeof *out);
    out->ts_ms = f->ts[f->i];
    out->line = (uint64_t)f->i++;
    snprintf(out->symbol, sizeof out->symbol, "S%d", f->n);
    return PT_OK;
}
static void fake_free(void *self) { ++*((fake *)self)->freed; }
static const feed_source_ops fake_ops = {"fake", fake_next, fake_free};

static void test_merge_order(void **st)
{
    (void)st;
    /* source 1 has an out-of-order row (5 after 30): it stays in place */
    static const int64_t a[] = {10, 20, 20, 40}, b[] = {10, 15, 30, 5, 50}, c[1] = {0};
    int freed = 0;
    fake fa = {a, 4, 0, -1, &freed}, fb = {b, 5, 0, -1, &freed}, fc = {c, 0, 0, -1, &freed};
    feed_source srcs[3] = {{&fake_ops, &fa}, {&fake_ops, &fb}, {&fake_ops, &fc}};
    feed_source m;
    assert_int_equal(feed_source_merge(srcs, 3, &m), PT_OK);
    const int64_t want_ts[] = {10, 10, 15, 20, 20, 30, 5, 40, 50};
    const char *want_sym[] = {"S4", "S5", "S5", "S4", "S4", "S5", "S5", "S4", "S5"};
    pt_candle out;
    for (size_t i = 0; i < 9; i++) {
        assert_int_equal(m.ops->next(m.self, &out), PT_OK);
        assert_int_equal(out.ts_ms, want_ts[i]);
        assert_string_equal(out.symbol, want_sym[i]);
    }
    assert_int_equal(m.ops->next(m.self, &out), PT_EOF);
    feed_source_free(&m);
    assert_int_equal(freed, 3);
    assert_null(m.ops);
    feed_source_free(&m); /* again: no-op */
    feed_source_free(NULL);

    /* an error in one source is passed on */
    freed = 0;
    fa = (fake){a, 4, 0, 2, &freed};
    feed_source one = {&fake_ops, &fa};
    assert_int_equal(feed_source_merge(&one, 1, &m), PT_OK);
    assert_int_equal(m.ops->next(m.self, &out), PT_OK);
    assert_int_equal(m.ops->next(m.self, &out), PT_OK);
    assert_int_equal(m.ops->next(m.self, &out), PT_EIO);
    feed_source_free(&m);
    assert_int_equal(freed, 1);
}

static void test_merge_csv_files(void **st)
{
    (void)st;
    const char *names[] = {"freqtrade_UNITTEST-BTC_1m.csv", "freqtrade_ADA-BTC_5m.csv",
                           "freqtrade_XRP-ETH_1m.csv"};
    feed_source srcs[3];
    for (int i = 0; i < 3; i++)
        assert_int_equal(feed_source_csv(data_file(names[i]), NULL, &srcs[i]), PT_OK);
    assert_string_equal(srcs[0].ops->name, "csv");
    feed_source m;
    assert_int_equal(feed_source_merge(srcs, 3, &m), PT_OK);
    pt_candle c;
    int n = 0, rc;
    int64_t last = 0;
    while ((rc = m.ops->next(m.self, &c)) == PT_OK) {
        assert_true(c.ts_ms >= last);
        last = c.ts_ms;
        n++;
    }
    assert_int_equal(rc, PT_EOF);
    assert_int_equal(n, 13681 + 5720 + 3560);
    feed_source_free(&m);
    feed_source bad;
    assert_int_equal(feed_source_csv("/nonexistent.csv", NULL, &bad), PT_ENOENT);
}

int main(void)
{
    pt_log_set_stderr(0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_merge_order),
        cmocka_unit_test(test_merge_csv_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
