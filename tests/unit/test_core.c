/* core: strict numbers, timestamps, intervals, formatting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pt_core.h"

static int dec(const char *s, double *v) { return pt_parse_decimal(s, strlen(s), v, NULL); }

static void test_decimal_accepts(void **st)
{
    (void)st;
    double v;
    assert_int_equal(dec("1.5", &v), PT_OK);
    assert_true(v == 1.5);
    assert_int_equal(dec("-0.00012", &v), PT_OK);
    assert_true(v == -0.00012);
    assert_int_equal(dec(".5", &v), PT_OK);
    assert_true(v == 0.5);
    assert_int_equal(dec("3602.00", &v), PT_OK);
    assert_true(v == 3602.0);
    assert_int_equal(dec("1e-05", &v), PT_OK);
    assert_true(v == 1e-05);
    /* more digits than the fast path holds: must equal strtod */
    assert_int_equal(dec("0.123456789012345678901", &v), PT_OK);
    assert_true(v == strtod("0.123456789012345678901", NULL));
}

static void test_decimal_rejects(void **st)
{
    (void)st;
    const char *bad[] = {"",   "abc",  "12abc", "1_000", "+5",  "0x1p3", " 12", "12 ",
                         "nan", "NaN", "inf",   "-Infinity", "1e400", "1e-400", "1,5", "-",
                         ".",  "1e",   "1.5\r", "--1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        double v = 0;
        const char *why = NULL;
        int rc = pt_parse_decimal(bad[i], strlen(bad[i]), &v, &why);
        if (rc == PT_OK)
            fail_msg("accepted '%s'", bad[i]);
        assert_non_null(why);
    }
}

static void test_decimal_fast_path_matches_strtod(void **st)
{
    (void)st;
    srand(7);
    char buf[64];
    for (int i = 0; i < 200000; i++) {
        double x = (double)rand() / RAND_MAX * pow(10, rand() % 12 - 6);
        snprintf(buf, sizeof buf, "%.*f", rand() % 12, x);
        double a, b = strtod(buf, NULL);
        assert_int_equal(dec(buf, &a), PT_OK);
        if (a != b)
            fail_msg("%s: %.17g vs strtod %.17g", buf, a, b);
    }
}

static void test_int64(void **st)
{
    (void)st;
    int64_t v;
    assert_int_equal(pt_parse_int64("9223372036854775807", 19, &v, NULL), PT_OK);
    assert_int_equal(pt_parse_int64("9223372036854775808", 19, &v, NULL), PT_ERANGE);
    assert_int_equal(pt_parse_int64("99999999999999999999999", 23, &v, NULL), PT_ERANGE);
    assert_int_equal(pt_parse_int64("12a", 3, &v, NULL), PT_EPARSE);
}

static int64_t tparse(const char *s, pt_time_kind *k, const pt_tz *tz, int *rc)
{
    int64_t ms = 0;
    *rc = pt_parse_time(s, strlen(s), k, tz, &ms, NULL);
    return ms;
}

static void test_time_units_and_iso(void **st)
{
    (void)st;
    int rc;
    pt_time_kind k = PT_TIME_UNKNOWN;
    assert_true(tparse("1509836520000", &k, NULL, &rc) == 1509836520000LL);
    assert_int_equal(rc, PT_OK);
    assert_int_equal(k, PT_TIME_EPOCH_MS);
    k = PT_TIME_UNKNOWN;
    assert_true(tparse("1509836520", &k, NULL, &rc) == 1509836520000LL);
    assert_int_equal(k, PT_TIME_EPOCH_S);
    k = PT_TIME_UNKNOWN;
    assert_true(tparse("1509836520000000", &k, NULL, &rc) == 1509836520000LL);
    assert_int_equal(k, PT_TIME_EPOCH_US);
    k = PT_TIME_UNKNOWN;
    assert_true(tparse("2017-11-04T23:02:00Z", &k, NULL, &rc) == 1509836520000LL);
    assert_int_equal(k, PT_TIME_ISO_UTC);
    k = PT_TIME_UNKNOWN;
    assert_true(tparse("2017-11-05T00:02:00+01:00", &k, NULL, &rc) == 1509836520000LL);
    k = PT_TIME_UNKNOWN;
    assert_true(tparse("2017-11-04 23:02:00.000", &k, NULL, &rc) == 1509836520000LL);
    assert_int_equal(k, PT_TIME_ISO_NAIVE);
    pt_tz tz;
    assert_int_equal(pt_tz_parse("Europe/Berlin", &tz), PT_OK);
    k = PT_TIME_UNKNOWN;
    assert_true(tparse("2006-01-02T09:01:00", &k, &tz, &rc) == 1136188860000LL);
    assert_int_equal(pt_tz_parse("+01:00", &tz), PT_OK);
    k = PT_TIME_UNKNOWN;
    assert_true(tparse("2006-01-02T09:01:00", &k, &tz, &rc) == 1136188860000LL);
    assert_int_equal(pt_tz_parse("Not/AZone", &tz), PT_EINVAL);
}

static void test_time_rejects(void **st)
{
    (void)st;
    const char *bad[] = {"0", "-5", "2100-01-01T00:00:00Z", "2017-13-01", "2017-02-30",
                         "2017-11-04T25:00", "abc", "2017-11-04Tx", "4102444800000"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        pt_time_kind k = PT_TIME_UNKNOWN;
        int rc;
        tparse(bad[i], &k, NULL, &rc);
        if (rc == PT_OK)
            fail_msg("accepted '%s'", bad[i]);
    }
    /* pinned kind: an ISO row in an epoch file is an error */
    pt_time_kind k = PT_TIME_EPOCH_MS;
    int rc;
    tparse("2017-11-04T23:02:00Z", &k, NULL, &rc);
    assert_int_not_equal(rc, PT_OK);
}

static void test_format(void **st)
{
    (void)st;
    char buf[40];
    pt_format_iso_ms(1509836520123LL, buf, sizeof buf);
    assert_string_equal(buf, "2017-11-04T23:02:00.123Z");
    pt_format_double(0.1 + 0.2, buf, sizeof buf);
    assert_true(strtod(buf, NULL) == 0.1 + 0.2);
    pt_format_double(0.0107, buf, sizeof buf);
    assert_string_equal(buf, "0.0107");
    int64_t ms;
    assert_int_equal(pt_interval_parse("5m", &ms), PT_OK);
    assert_true(ms == 300000);
    assert_int_equal(pt_interval_parse("0m", &ms), PT_EINVAL);
    assert_int_equal(pt_interval_parse("m", &ms), PT_EINVAL);
    pt_interval_format(3600000, buf, sizeof buf);
    assert_string_equal(buf, "1h");
    assert_string_equal(pt_strerror(PT_EPARSE), "parse error");
    assert_string_equal(pt_errname(PT_ENOENT), "PT_ENOENT");
}

/* Reference for pt_utf8_check, written the long way: decode each sequence to
 * its code point, then apply RFC 3629's rules (shortest form, no surrogates,
 * at most U+10FFFF). 1 = valid. */
static int utf8_reference(const unsigned char *b, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned c = b[i];
        size_t len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
        if (!len || i + len > n)
            return 0;
        uint32_t cp = len == 1 ? c : len == 2 ? c & 0x1f : len == 3 ? c & 0x0f : c & 0x07;
        for (size_t k = 1; k < len; k++) {
            if ((b[i + k] & 0xc0) != 0x80)
                return 0;
            cp = cp << 6 | (b[i + k] & 0x3f);
        }
        static const uint32_t min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < min_cp[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += len;
    }
    return 1;
}

static int utf8_split(const unsigned char *b, size_t n, size_t cut)
{
    uint32_t st = 0;
    if (pt_utf8_check(&st, b, cut) || pt_utf8_check(&st, b + cut, n - cut))
        return 0;
    return st == 0;
}

static void test_utf8(void **state)
{
    (void)state;
    static const struct { const char *s; int ok; } v[] = {
        {"plain ascii", 1}, {"\xc3\xa9t\xc3\xa9", 1}, {"\xe2\x82\xac", 1}, {"\xf0\x9f\x98\x80", 1},
        {"\xf4\x8f\xbf\xbf", 1}, {"\xed\x9f\xbf", 1}, {"\xee\x80\x80", 1},
        {"\xc3\x28", 0}, {"\xc0\xaf", 0}, {"\xe0\x80\xaf", 0}, {"\xed\xa0\x80", 0},
        {"\xf4\x90\x80\x80", 0}, {"\xf5\x80\x80\x80", 0}, {"\xff", 0}, {"\x80", 0}, {"\xe2\x82", 0},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        size_t n = strlen(v[i].s);
        assert_int_equal(utf8_reference((const unsigned char *)v[i].s, n), v[i].ok);
        for (size_t cut = 0; cut <= n; cut++) /* every split point, as fragments arrive */
            assert_int_equal(utf8_split((const unsigned char *)v[i].s, n, cut), v[i].ok);
    }
    uint64_t x = 88172645463325252ull;
    unsigned char b[12];
    for (int t = 0; t < 200000; t++) { /* random strings biased to lead and continuation bytes */
        size_t n = (size_t)(t % 12);
        for (size_t k = 0; k < n; k++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            static const unsigned char pick[] = {0x41, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc2, 0xdf,
                                                 0xe0, 0xe1, 0xed, 0xef, 0xf0, 0xf3, 0xf4, 0xf5, 0xff};
            b[k] = x & 0x100 ? (unsigned char)x : pick[(x >> 9) % sizeof pick];
        }
        assert_int_equal(utf8_split(b, n, (size_t)(x >> 40) % (n + 1)), utf8_reference(b, n));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decimal_accepts),
        cmocka_unit_test(test_decimal_rejects),
        cmocka_unit_test(test_decimal_fast_path_matches_strtod),
        cmocka_unit_test(test_int64),
        cmocka_unit_test(test_time_units_and_iso),
        cmocka_unit_test(test_time_rejects),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
