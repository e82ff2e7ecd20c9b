/* core: naive local times around DST changes (issue 11 item 7; core/pt_time.c
 * pt_parse_time_after). Europe/Paris 2024: 2024-03-31 02:00..02:59 does not
 * exist (a clear error, later rows unaffected); 2024-10-27 02:00..02:59
 * happens twice (+02:00 then +01:00), read in order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "pt_core.h"

static int64_t utc(const char *iso)
{
    pt_time_kind k = PT_TIME_UNKNOWN;
    int64_t ms = 0;
    assert_int_equal(pt_parse_time(iso, strlen(iso), &k, NULL, &ms, NULL), PT_OK);
    return ms;
}

/* parses s in Paris after prev; returns rc, *ms the time */
static int paris(const char *s, int64_t prev, int64_t *ms, const char **why)
{
    pt_tz tz;
    assert_int_equal(pt_tz_parse("Europe/Paris", &tz), PT_OK);
    pt_time_kind k = PT_TIME_UNKNOWN;
    return pt_parse_time_after(s, strlen(s), &k, &tz, prev, ms, why);
}

static void test_spring_gap(void **st)
{
    (void)st;
    int64_t ms = 0, prev = utc("2024-03-31T00:59:00Z");
    const char *why = NULL;
    assert_int_equal(paris("2024-03-31 01:59:00", prev, &ms, &why), PT_OK); /* the edge: still +01:00 */
    assert_int_equal(ms, utc("2024-03-31T00:59:00Z"));
    assert_int_equal(paris("2024-03-31 02:00:00", ms, &ms, &why), PT_ERANGE); /* first missing minute */
    assert_non_null(strstr(why, "does not exist"));
    assert_int_equal(paris("2024-03-31 02:59:00", prev, &ms, &why), PT_ERANGE); /* last missing minute */
    assert_int_equal(paris("2024-03-31 03:00:00", prev, &ms, &why), PT_OK); /* +02:00 from here */
    assert_int_equal(ms, utc("2024-03-31T01:00:00Z"));
    assert_int_equal(paris("2024-03-31 03:00:00", INT64_MIN, &ms, &why), PT_OK);
    assert_int_equal(ms, utc("2024-03-31T01:00:00Z"));
}

static void test_fall_back_twice(void **st)
{
    (void)st;
    int64_t ms = 0, t = 0;
    assert_int_equal(paris("2024-10-27 01:59:00", INT64_MIN, &t, NULL), PT_OK);
    assert_int_equal(t, utc("2024-10-26T23:59:00Z"));
    /* first pass, +02:00 */
    assert_int_equal(paris("2024-10-27 02:00:00", t, &t, NULL), PT_OK);
    assert_int_equal(t, utc("2024-10-27T00:00:00Z"));
    assert_int_equal(paris("2024-10-27 02:59:00", t, &t, NULL), PT_OK);
    assert_int_equal(t, utc("2024-10-27T00:59:00Z"));
    /* second pass, +01:00: 02:00 again would go back: the later instant */
    assert_int_equal(paris("2024-10-27 02:00:00", t, &t, NULL), PT_OK);
    assert_int_equal(t, utc("2024-10-27T01:00:00Z"));
    assert_int_equal(paris("2024-10-27 02:59:00", t, &t, NULL), PT_OK);
    assert_int_equal(t, utc("2024-10-27T01:59:00Z"));
    assert_int_equal(paris("2024-10-27 03:00:00", t, &t, NULL), PT_OK);
    assert_int_equal(t, utc("2024-10-27T02:00:00Z"));
    /* the same minute for a second symbol right after: equal is not back */
    assert_int_equal(paris("2024-10-27 02:30:00", utc("2024-10-27T00:30:00Z"), &ms, NULL), PT_OK);
    assert_int_equal(ms, utc("2024-10-27T00:30:00Z"));
    /* no row before: the first instant */
    assert_int_equal(paris("2024-10-27 02:30:00", INT64_MIN, &ms, NULL), PT_OK);
    assert_int_equal(ms, utc("2024-10-27T00:30:00Z"));
    /* seconds and ms ride along; a leap second is not a gap */
    assert_int_equal(paris("2024-10-27 02:30:15.250", t, &ms, NULL), PT_OK);
    assert_int_equal(ms, utc("2024-10-27T01:30:15.250Z"));
    assert_int_equal(paris("2024-06-30 23:59:60", INT64_MIN, &ms, NULL), PT_OK);
    assert_int_equal(ms, utc("2024-06-30T22:00:00Z"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spring_gap),
        cmocka_unit_test(test_fall_back_twice),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
