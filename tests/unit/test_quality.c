/* quality: every rule on crafted sequences, the score and the gate, and the
 * real candle files of /work/shared/data against the counts in its README. */
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
#include "quality.h"
#include "quality_internal.h"

#define MIN_MS 60000LL
#define BIT(i) (1u << (i))

static pt_candle mk(int64_t ts, double o, double h, double l, double c, double v)
{
    pt_candle k;
    memset(&k, 0, sizeof k);
    k.ts_ms = ts;
    k.open = o;
    k.high = h;
    k.low = l;
    k.close = c;
    k.volume = v;
    k.closed = 1;
    snprintf(k.symbol, sizeof k.symbol, "TEST");
    return k;
}

/* A bar around price p: open p, close p*(1+r), a small wick. */
static pt_candle bar(int64_t ts, double p, double r, double v)
{
    double c = p * (1.0 + r);
    double hi = (c > p ? c : p) * 1.0002, lo = (c < p ? c : p) * 0.9998;
    return mk(ts, p, hi, lo, c, v);
}

static quality_checker *new_qc(int64_t interval, int window)
{
    quality_config cfg;
    quality_config_default(&cfg);
    cfg.interval_ms = interval;
    if (window > 0)
        cfg.window = window;
    quality_checker *qc = quality_new(&cfg);
    assert_non_null(qc);
    return qc;
}

static quality_result check(quality_checker *qc, pt_candle c)
{
    quality_result r;
    memset(&r, 0xff, sizeof r);
    quality_verdict v = quality_check(qc, &c, 0, &r);
    assert_int_equal(v, r.verdict);
    return r;
}

/* Deterministic pseudo-random in [-1, 1). */
static double rnd(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(*s >> 11) / 4503599627370496.0 - 1.0;
}

/* n calm bars (returns of at most +-amp) starting at ts0; returns the last close. */
static double feed_series(quality_checker *qc, int64_t ts0, int n, double p, double amp, uint64_t seed)
{
    for (int i = 0; i < n; i++) {
        double r = amp * rnd(&seed);
        quality_result res = check(qc, bar(ts0 + i * MIN_MS, p, r, 100.0 + 10 * rnd(&seed)));
        assert_int_not_equal(res.verdict, QUALITY_REJECT);
        p *= 1.0 + r;
    }
    return p;
}

static void test_names_and_config(void **st)
{
    (void)st;
    assert_string_equal(quality_issue_name(QI_NONFINITE), "non_finite");
    assert_string_equal(quality_issue_name(QI_FLAT), "flat");
    assert_string_equal(quality_issue_name(QI__COUNT), "unknown");
    assert_string_equal(quality_verdict_name(QUALITY_ACCEPT_FLAGGED), "accept_flagged");
    quality_config cfg;
    quality_config_default(&cfg);
    assert_int_equal(cfg.window, 500);
    assert_true(cfg.min_score == 60.0);
    cfg.window = 0;
    assert_null(quality_new(&cfg));
    quality_config_default(&cfg);
    cfg.outlier_window = 1;
    assert_null(quality_new(&cfg));
    quality_config_default(&cfg);
    cfg.interval_ms = -5;
    assert_null(quality_new(&cfg));
    quality_free(NULL);
    quality_free(quality_new(NULL));
}

static void test_rejects_values(void **st)
{
    (void)st;
    quality_checker *qc = new_qc(MIN_MS, 0);
    struct {
        pt_candle c;
        quality_issue want;
    } cases[] = {
        {mk(0, NAN, 1, 1, 1, 1), QI_NONFINITE},
        {mk(0, 1, INFINITY, 1, 1, 1), QI_NONFINITE},
        {mk(0, 1, 1, 1, 1, NAN), QI_NONFINITE},
        {mk(0, 1, 1, 0, 1, 1), QI_BAD_PRICE},
        {mk(0, -1, 1, -2, 1, 1), QI_BAD_PRICE},
        {mk(0, 1, 1, 1, 1, -1), QI_NEGATIVE_VOLUME},
        {mk(0, 2, 1.5, 1, 1, 1), QI_OHLC_INCONSISTENT}, /* high < open */
        {mk(0, 1, 2, 1.5, 2, 1), QI_OHLC_INCONSISTENT}, /* low > open */
        {mk(0, 1, 2, 1, 3, 1), QI_OHLC_INCONSISTENT},   /* close > high */
        {mk(0, 1, 2, 3, 1.5, 1), QI_OHLC_INCONSISTENT}, /* low > high */
    };
    size_t n = sizeof cases / sizeof cases[0];
    for (size_t i = 0; i < n; i++) {
        quality_result r = check(qc, cases[i].c);
        assert_int_equal(r.verdict, QUALITY_REJECT);
        assert_true(r.flags & BIT(cases[i].want));
    }
    const quality_counts *k = quality_get_counts(qc);
    assert_int_equal(k->by_issue[QI_NONFINITE], 3);
    assert_int_equal(k->by_issue[QI_BAD_PRICE], 2);
    assert_int_equal(k->by_issue[QI_NEGATIVE_VOLUME], 1);
    assert_int_equal(k->by_issue[QI_OHLC_INCONSISTENT], 4);
    assert_int_equal(k->by_verdict[QUALITY_REJECT], n);
    assert_int_equal(k->candles, n);
    /* nothing accepted: time state untouched, a valid bar at ts 0 is fine */
    quality_result r = check(qc, mk(0, 1, 1, 1, 1, 1));
    assert_int_not_equal(r.verdict, QUALITY_REJECT);
    assert_true(fabs(quality_score(qc) - 100.0 / 11.0) < 1e-9); /* 10 rejects + 1 good */
    quality_free(qc);
}

static void test_duplicate_conflict(void **st)
{
    (void)st;
    quality_checker *qc = new_qc(MIN_MS, 0);
    pt_candle a = mk(MIN_MS, 10, 11, 9, 10.5, 5);
    assert_int_equal(check(qc, a).verdict, QUALITY_ACCEPT);
    quality_result r = check(qc, a);
    assert_int_equal(r.verdict, QUALITY_REJECT);
    assert_true(r.flags == BIT(QI_DUPLICATE));
    pt_candle b = a;
    b.close = 10.7;
    r = check(qc, b);
    assert_int_equal(r.verdict, QUALITY_REJECT);
    assert_true(r.flags == BIT(QI_CONFLICT));
    /* first kept: a is still the reference, so a again is a duplicate */
    assert_true(check(qc, a).flags == BIT(QI_DUPLICATE));
    const quality_counts *k = quality_get_counts(qc);
    assert_int_equal(k->by_issue[QI_DUPLICATE], 2);
    assert_int_equal(k->by_issue[QI_CONFLICT], 1);
    /* a conflict costs more than a duplicate */
    quality_checker *q1 = new_qc(MIN_MS, 0), *q2 = new_qc(MIN_MS, 0);
    check(q1, a);
    check(q2, a);
    check(q1, a);
    check(q2, b);
    assert_true(quality_score(q1) > quality_score(q2));
    quality_free(q1);
    quality_free(q2);
    quality_free(qc);
}

static void test_out_of_order(void **st)
{
    (void)st;
    quality_checker *qc = new_qc(MIN_MS, 0);
    assert_int_not_equal(check(qc, mk(0, 1, 1, 1, 1, 1)).verdict, QUALITY_REJECT);
    assert_int_not_equal(check(qc, mk(MIN_MS, 1, 1, 1, 1, 1)).verdict, QUALITY_REJECT);
    quality_result r = check(qc, mk(0, 2, 2, 2, 2, 1)); /* older: out of order, not conflict */
    assert_int_equal(r.verdict, QUALITY_REJECT);
    assert_true(r.flags == BIT(QI_OUT_OF_ORDER));
    const quality_counts *k = quality_get_counts(qc);
    assert_int_equal(k->last_ts_ms, MIN_MS); /* time never moves back */
    r = check(qc, mk(2 * MIN_MS, 1, 1, 1, 1, 1));
    assert_int_not_equal(r.verdict, QUALITY_REJECT);
    assert_int_equal(r.gap_missing, 0);
    assert_int_equal(k->gaps, 0);
    assert_int_equal(k->by_issue[QI_OUT_OF_ORDER], 1);
    quality_free(qc);
}

static void test_misaligned(void **st)
{
    (void)st;
    quality_checker *qc = new_qc(MIN_MS, 0);
    quality_result r = check(qc, mk(30000, 1, 1, 1, 1, 1)); /* ts % interval != 0 */
    assert_int_equal(r.verdict, QUALITY_REJECT);
    assert_true(r.flags == BIT(QI_MISALIGNED));
    assert_int_not_equal(check(qc, mk(MIN_MS, 1, 1, 1, 1, 1)).verdict, QUALITY_REJECT);
    r = check(qc, mk(2 * MIN_MS + 1, 1, 1, 1, 1, 1));
    assert_true(r.flags & BIT(QI_MISALIGNED));
    assert_int_equal(quality_get_counts(qc)->by_issue[QI_MISALIGNED], 2);
    quality_free(qc);

    /* weekly bars open on Monday (2024-01-01), not on the epoch's Thursday:
     * the grid of intervals >= 1 day is anchored at the first bar */
    const int64_t week = 7 * 86400000LL, mon = 1704067200000LL;
    assert_true(mon % week != 0);
    qc = new_qc(week, 0);
    assert_int_not_equal(check(qc, mk(mon, 1, 1, 1, 1, 1)).verdict, QUALITY_REJECT);
    assert_int_not_equal(check(qc, mk(mon + week, 1, 1, 1, 1, 1)).verdict, QUALITY_REJECT);
    r = check(qc, mk(mon + 2 * week + 86400000LL, 1, 1, 1, 1, 1));
    assert_true(r.flags & BIT(QI_MISALIGNED));
    quality_free(qc);
}

static void test_gap(void **st)
{
    (void)st;
    quality_checker *qc = new_qc(MIN_MS, 0);
    check(qc, mk(0, 1, 1, 1, 1, 1));
    /* ts 0 then 3 intervals later: bars 1 and 2 are missing */
    quality_result r = check(qc, mk(3 * MIN_MS, 1, 1, 1, 1, 1));
    assert_int_equal(r.verdict, QUALITY_ACCEPT_FLAGGED);
    assert_true(r.flags & BIT(QI_GAP));
    assert_int_equal(r.gap_missing, 2);
    r = check(qc, mk(4 * MIN_MS, 1, 1, 1, 1, 1));
    assert_false(r.flags & BIT(QI_GAP));
    assert_int_equal(r.gap_missing, 0);
    r = check(qc, mk(10 * MIN_MS, 1, 1, 1, 1, 1));
    assert_int_equal(r.gap_missing, 5);
    const quality_counts *k = quality_get_counts(qc);
    assert_int_equal(k->gaps, 2);
    assert_int_equal(k->missing_bars, 7);
    assert_int_equal(k->by_issue[QI_GAP], 2);
    /* score: gap penalty 0.25 per missing bar, capped at 4 bars = 1.0:
     * penalties 0, 0.5, 0, 1.0 over 4 candles */
    assert_true(fabs(quality_score(qc) - 100.0 * (1.0 - 1.5 / 4.0)) < 1e-9);
    quality_free(qc);
}

static void test_future(void **st)
{
    (void)st;
    quality_checker *qc = new_qc(MIN_MS, 0);
    const int64_t now = 1699999980000LL; /* aligned to the minute */
    pt_candle c = mk(now, 1, 1, 1, 1, 1);
    quality_result r;
    assert_int_not_equal(quality_check(qc, &c, now, &r), QUALITY_REJECT);
    c.ts_ms = now + MIN_MS; /* within interval + tolerance */
    assert_int_not_equal(quality_check(qc, &c, now + 1, &r), QUALITY_REJECT);
    c.ts_ms = now + 3 * MIN_MS;
    assert_int_equal(quality_check(qc, &c, now, &r), QUALITY_REJECT);
    assert_true(r.flags == BIT(QI_FUTURE));
    assert_int_not_equal(quality_check(qc, &c, 0, &r), QUALITY_REJECT); /* 0 disables */
    assert_int_equal(quality_get_counts(qc)->by_issue[QI_FUTURE], 1);
    /* absurd timestamps never overflow the arithmetic (UBSan checks) */
    c.ts_ms = INT64_MAX;
    assert_int_equal(quality_check(qc, &c, 0, &r), QUALITY_REJECT);
    assert_true(r.flags == BIT(QI_FUTURE));
    c.ts_ms = INT64_MIN;
    assert_int_equal(quality_check(qc, &c, INT64_MAX, &r), QUALITY_REJECT);
    assert_true(r.flags == BIT(QI_OUT_OF_ORDER));
    quality_free(qc);
}

static void test_learned_interval(void **st)
{
    (void)st;
    const int64_t iv = 5 * MIN_MS;
    quality_checker *qc = new_qc(0, 0);
    /* steps: 3 iv (2 missing), then 1 iv, 2 iv (1 missing), then 1 iv ... */
    int64_t ts[20];
    int n = 0;
    int64_t t = 1515560100000LL;
    ts[n++] = t;
    ts[n++] = t += 3 * iv;
    ts[n++] = t += iv;
    ts[n++] = t += 2 * iv;
    while (n < 20)
        ts[n++] = t += iv;
    for (int i = 0; i < 20; i++)
        assert_int_not_equal(check(qc, mk(ts[i], 1, 1, 1, 1, 1)).verdict, QUALITY_REJECT);
    const quality_counts *k = quality_get_counts(qc);
    assert_int_equal(k->interval_ms, iv);
    assert_int_equal(k->gaps, 2);
    assert_int_equal(k->missing_bars, 3);
    /* the learned gaps are in the score: penalties 0.5 + 0.25 over 20 */
    assert_true(fabs(quality_score(qc) - 100.0 * (1.0 - 0.75 / 20.0)) < 1e-9);
    /* after learning, gaps and alignment are judged on the learned grid */
    quality_result r = check(qc, mk(t + 3 * iv, 1, 1, 1, 1, 1));
    assert_int_equal(r.gap_missing, 2);
    r = check(qc, mk(t + 3 * iv + MIN_MS, 1, 1, 1, 1, 1));
    assert_true(r.flags & BIT(QI_MISALIGNED));
    assert_int_equal(k->gaps, 3);
    assert_int_equal(k->missing_bars, 5);
    quality_free(qc);
}

static void test_outlier_calm_jump(void **st)
{
    (void)st;
    const double jumps[] = {5.0, 1.10};
    for (int j = 0; j < 2; j++) {
        quality_checker *qc = new_qc(MIN_MS, 0);
        double p = feed_series(qc, 0, 80, 100.0, 0.0005, 7);
        double c = p * jumps[j];
        quality_result r = check(qc, mk(80 * MIN_MS, p, c * 1.0002, p * 0.9998, c, 100));
        assert_int_equal(r.verdict, QUALITY_ACCEPT_FLAGGED); /* accepted: it may be real */
        assert_true(r.flags & BIT(QI_OUTLIER_RETURN));
        assert_true(quality_score(qc) < 100.0);
        quality_free(qc);
    }
}

static void test_outlier_volatile_not_flagged(void **st)
{
    (void)st;
    quality_checker *qc = new_qc(MIN_MS, 0);
    double p = feed_series(qc, 0, 80, 100.0, 0.03, 11); /* returns up to +-3% */
    quality_result r = check(qc, bar(80 * MIN_MS, p, 0.10, 100));
    assert_false(r.flags & (BIT(QI_OUTLIER_RETURN) | BIT(QI_OUTLIER_RANGE) | BIT(QI_SPIKE)));
    quality_free(qc);
    /* and the same 10% move in a calm series is flagged (the test can fail) */
    qc = new_qc(MIN_MS, 0);
    p = feed_series(qc, 0, 80, 100.0, 0.0005, 11);
    r = check(qc, bar(80 * MIN_MS, p, 0.10, 100));
    assert_true(r.flags & BIT(QI_OUTLIER_RETURN));
    quality_free(qc);
}

static void test_flat_then_tiny_move(void **st)
{
    (void)st;
    quality_checker *qc = new_qc(MIN_MS, 0);
    for (int i = 0; i < 80; i++)
        check(qc, mk(i * MIN_MS, 100, 100, 100, 100, 50));
    quality_result r = check(qc, mk(80 * MIN_MS, 100, 100.1, 100, 100.1, 50)); /* +0.1% */
    assert_false(r.flags & (BIT(QI_OUTLIER_RETURN) | BIT(QI_OUTLIER_RANGE)));
    assert_int_equal(r.verdict, QUALITY_ACCEPT); /* not even flat any more */
    /* flat bars are informational: the score stays at 100 */
    assert_true(quality_score(qc) == 100.0);
    assert_int_equal(quality_get_counts(qc)->by_issue[QI_FLAT], 80);
    /* but a 5x jump after that calm is flagged */
    r = check(qc, mk(81 * MIN_MS, 100.1, 500.5, 100.1, 500.5, 50));
    assert_true(r.flags & BIT(QI_OUTLIER_RETURN));
    quality_free(qc);
}

static void test_spike_revert(void **st)
{
    (void)st;
    quality_checker *qc = new_qc(MIN_MS, 0);
    double p = feed_series(qc, 0, 80, 100.0, 0.0005, 3);
    quality_result r1 = check(qc, mk(80 * MIN_MS, p, p * 5, p, p * 5, 100));
    quality_result r2 = check(qc, mk(81 * MIN_MS, p * 5, p * 5, p, p, 100));
    assert_true(r1.flags & BIT(QI_OUTLIER_RETURN));
    assert_false(r1.flags & BIT(QI_SPIKE));
    assert_true(r2.flags & BIT(QI_SPIKE));
    assert_false(r2.flags & BIT(QI_OUTLIER_RETURN));
    assert_int_equal(quality_get_counts(qc)->by_issue[QI_SPIKE], 1);
    quality_free(qc);
    /* a jump that stays (a level shift) is no spike */
    qc = new_qc(MIN_MS, 0);
    p = feed_series(qc, 0, 80, 100.0, 0.0005, 3);
    check(qc, mk(80 * MIN_MS, p, p * 5, p, p * 5, 100));
    r2 = check(qc, bar(81 * MIN_MS, p * 5, 0.0001, 100));
    assert_false(r2.flags & BIT(QI_SPIKE));
    quality_free(qc);
}

static void test_range_and_volume_outliers(void **st)
{
    (void)st;
    quality_checker *qc = new_qc(MIN_MS, 0);
    double p = feed_series(qc, 0, 80, 100.0, 0.0005, 5);
    quality_result r = check(qc, mk(80 * MIN_MS, p, p * 1.5, p * 0.999, p, 100)); /* wick */
    assert_true(r.flags & BIT(QI_OUTLIER_RANGE));
    assert_false(r.flags & BIT(QI_OUTLIER_RETURN));
    r = check(qc, bar(81 * MIN_MS, p, 0.0001, 100.0 * 1e6));
    assert_true(r.flags & BIT(QI_OUTLIER_VOLUME));
    r = check(qc, bar(82 * MIN_MS, p, 0.0001, 100.0 * 3)); /* 3x volume is normal */
    assert_false(r.flags & BIT(QI_OUTLIER_VOLUME));
    quality_free(qc);
}

static void test_stale_and_zero_volume(void **st)
{
    (void)st;
    quality_checker *qc = new_qc(MIN_MS, 0);
    check(qc, mk(0, 1, 1.1, 0.9, 1, 10));
    int stale = 0;
    for (int i = 1; i <= 40; i++) {
        quality_result r = check(qc, mk(i * MIN_MS, 1, 1, 1, 1, 0));
        assert_true(r.flags & BIT(QI_ZERO_VOLUME));
        assert_true(r.flags & BIT(QI_FLAT));
        assert_int_equal(r.verdict, QUALITY_ACCEPT_FLAGGED);
        if (r.flags & BIT(QI_STALE)) {
            assert_true(i >= 30); /* default stale_run 30: bars 30..40 */
            stale++;
        }
    }
    assert_int_equal(stale, 11);
    /* 11 stale bars x 0.5 over 41 candles */
    assert_true(fabs(quality_score(qc) - 100.0 * (1.0 - 5.5 / 41.0)) < 1e-9);
    /* a traded bar ends the run */
    assert_false(check(qc, mk(41 * MIN_MS, 1, 1, 1, 1, 3)).flags & BIT(QI_STALE));
    assert_false(check(qc, mk(42 * MIN_MS, 1, 1, 1, 1, 0)).flags & BIT(QI_STALE));
    quality_free(qc);
}

static void test_score_formula_and_bounds(void **st)
{
    (void)st;
    quality_checker *qc = new_qc(MIN_MS, 10);
    assert_true(quality_score(qc) == 100.0); /* no data: nothing wrong yet */
    for (int i = 0; i < 10; i++)
        check(qc, mk(i * MIN_MS, 1, 1, 1, 1, 1));
    assert_true(quality_score(qc) == 100.0);
    quality_note_rejected_row(qc); /* 9 good + 1 reject in a window of 10 */
    assert_true(fabs(quality_score(qc) - 90.0) < 1e-9);
    for (int i = 0; i < 30; i++)
        quality_note_rejected_row(qc);
    assert_true(quality_score(qc) == 0.0);
    const quality_counts *k = quality_get_counts(qc);
    assert_int_equal(k->by_issue[QI_ROW_REJECTED], 31);
    assert_int_equal(k->candles, 41);
    /* the window slides: 10 good bars bring it back to 100 */
    for (int i = 10; i < 20; i++)
        check(qc, mk(i * MIN_MS, 1, 1, 1, 1, 1));
    assert_true(quality_score(qc) == 100.0);
    assert_true(k->worst_score == 0.0);
    quality_free(qc);
}

static void test_levels(void **st)
{
    (void)st;
    assert_string_equal(quality_level(100), "Excellent");
    assert_string_equal(quality_level(90), "Excellent");
    assert_string_equal(quality_level(89.99), "Good");
    assert_string_equal(quality_level(75), "Good");
    assert_string_equal(quality_level(74.99), "Fair");
    assert_string_equal(quality_level(60), "Fair");
    assert_string_equal(quality_level(59.99), "Poor");
    assert_string_equal(quality_level(40), "Poor");
    assert_string_equal(quality_level(39.99), "Critical");
    assert_string_equal(quality_level(0), "Critical");
}

static void test_gate(void **st)
{
    (void)st;
    quality_checker *qc = new_qc(MIN_MS, 10);
    for (int i = 0; i < 10; i++)
        check(qc, mk(i * MIN_MS, 1, 1, 1, 1, 1));
    assert_true(quality_gate_allows_entry(qc, 60));
    for (int i = 0; i < 4; i++)
        quality_note_rejected_row(qc);
    assert_true(fabs(quality_score(qc) - 60.0) < 1e-9);
    assert_true(quality_gate_allows_entry(qc, 60)); /* at the threshold: allowed */
    quality_note_rejected_row(qc);
    assert_false(quality_gate_allows_entry(qc, 60));
    assert_false(quality_gate_allows_entry(qc, -1)); /* < 0: the configured 60 */
    assert_true(quality_gate_allows_entry(qc, 0)); /* 0 turns the gate off */
    assert_true(quality_gate_allows_entry(qc, 50));
    quality_free(qc);
}

static void test_worst_score(void **st)
{
    (void)st;
    quality_checker *qc = new_qc(MIN_MS, 100);
    /* a reject in the first few candles does not set the worst (window not
     * warm: 50 candles), a later dip does */
    quality_note_rejected_row(qc);
    for (int i = 0; i < 60; i++)
        check(qc, mk(i * MIN_MS, 1, 1, 1, 1, 1));
    const quality_counts *k = quality_get_counts(qc);
    double warm = k->worst_score;
    assert_true(fabs(warm - 98.0) < 1e-9); /* 1 reject in the first 50 */
    for (int i = 0; i < 5; i++)
        quality_note_rejected_row(qc);
    double dip = quality_score(qc);
    for (int i = 60; i < 300; i++)
        check(qc, mk(i * MIN_MS, 1, 1, 1, 1, 1));
    assert_true(quality_score(qc) == 100.0);
    assert_true(fabs(k->worst_score - dip) < 1e-9);
    assert_int_equal(k->worst_ts_ms, 59 * MIN_MS);
    quality_free(qc);
    /* a short stream: worst = the final score */
    qc = new_qc(MIN_MS, 100);
    quality_note_rejected_row(qc);
    check(qc, mk(0, 1, 1, 1, 1, 1));
    assert_true(quality_get_counts(qc)->worst_score == 50.0);
    quality_free(qc);
}

static void test_rwin_matches_bruteforce(void **st)
{
    (void)st;
    quality_rwin w;
    assert_int_equal(quality_rwin_init(&w, 7), PT_OK);
    double hist[200];
    uint64_t s = 42;
    for (int i = 0; i < 200; i++) {
        hist[i] = floor(rnd(&s) * 5); /* many ties */
        quality_rwin_push(&w, hist[i]);
        int n = i + 1 < 7 ? i + 1 : 7;
        double a[7], d[7];
        for (int j = 0; j < n; j++)
            a[j] = hist[i - j];
        for (int x = 0; x < n; x++) /* insertion sort */
            for (int y = x; y > 0 && a[y] < a[y - 1]; y--) {
                double t = a[y];
                a[y] = a[y - 1];
                a[y - 1] = t;
            }
        double med = n % 2 ? a[n / 2] : 0.5 * (a[n / 2 - 1] + a[n / 2]);
        for (int j = 0; j < n; j++)
            d[j] = fabs(a[j] - med);
        for (int x = 0; x < n; x++)
            for (int y = x; y > 0 && d[y] < d[y - 1]; y--) {
                double t = d[y];
                d[y] = d[y - 1];
                d[y - 1] = t;
            }
        double mad = n % 2 ? d[n / 2] : 0.5 * (d[n / 2 - 1] + d[n / 2]);
        assert_true(quality_rwin_median(&w) == med);
        assert_true(quality_rwin_mad(&w, med) == mad);
    }
    quality_rwin_free(&w);
    quality_rwin_free(&w);
}

/* ---------------------------------------------------------------- real files */
typedef struct file_run {
    uint64_t rows;
    quality_counts k;
} file_run;

static const char *data_dir(void)
{
    const char *d = getenv("PT_SHARED_DATA");
    return d && *d ? d : "/work/shared/data";
}

/* Tiny loader: sscanf per line. corrupt_rate > 0 corrupts rows whose
 * per-row uniform draw is below it (nested sets across rates): odd ones as
 * unparsable rows, even ones as a negative price. */
static int run_file(const char *name, int64_t interval, double corrupt_rate, file_run *out,
                    double *mean_score)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", data_dir(), name);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    quality_checker *qc = new_qc(interval, 0);
    char line[256];
    uint64_t lineno = 0, seed = 99;
    double sum = 0;
    pt_time_kind kind = PT_TIME_UNKNOWN;
    memset(out, 0, sizeof *out);
    while (fgets(line, sizeof line, f)) {
        if (++lineno == 1)
            continue; /* header */
        char ts[64];
        pt_candle c = mk(0, 0, 0, 0, 0, 0);
        assert_int_equal(sscanf(line, "%63[^,],%lf,%lf,%lf,%lf,%lf", ts, &c.open, &c.high, &c.low,
                                &c.close, &c.volume),
                         6);
        assert_int_equal(pt_parse_time(ts, strlen(ts), &kind, NULL, &c.ts_ms, NULL), PT_OK);
        c.line = lineno;
        out->rows++;
        double u = 0.5 * (rnd(&seed) + 1.0);
        if (u < corrupt_rate) {
            if (lineno % 2) {
                quality_note_rejected_row(qc);
                sum += quality_score(qc);
                continue;
            }
            c.low = -c.low;
        }
        quality_result r;
        quality_check(qc, &c, 0, &r);
        sum += r.score;
    }
    fclose(f);
    out->k = *quality_get_counts(qc);
    if (mean_score)
        *mean_score = sum / (double)out->rows;
    quality_free(qc);
    return 0;
}

static void expect_clean(const file_run *r, const char *name)
{
    print_message("%s: rows %llu gaps %llu missing %llu flat %llu zero-vol %llu outliers r/g/v "
                  "%llu/%llu/%llu spikes %llu stale %llu score %.2f (%s) worst %.2f\n",
                  name, (unsigned long long)r->rows, (unsigned long long)r->k.gaps,
                  (unsigned long long)r->k.missing_bars, (unsigned long long)r->k.by_issue[QI_FLAT],
                  (unsigned long long)r->k.by_issue[QI_ZERO_VOLUME],
                  (unsigned long long)r->k.by_issue[QI_OUTLIER_RETURN],
                  (unsigned long long)r->k.by_issue[QI_OUTLIER_RANGE],
                  (unsigned long long)r->k.by_issue[QI_OUTLIER_VOLUME],
                  (unsigned long long)r->k.by_issue[QI_SPIKE],
                  (unsigned long long)r->k.by_issue[QI_STALE], r->k.score,
                  quality_level(r->k.score), r->k.worst_score);
    assert_int_equal(r->k.by_verdict[QUALITY_REJECT], 0);
    assert_int_equal(r->k.candles, r->rows);
    assert_true(r->k.score >= 60.0);
    assert_true(r->k.worst_score <= r->k.score);
}

static void real_file(const char *name, int64_t interval, file_run *r)
{
    if (run_file(name, interval, 0, r, NULL) != 0) {
        print_message("skipping: %s/%s not readable\n", data_dir(), name);
        skip();
    }
    expect_clean(r, name);
}

static void test_real_unittest_btc(void **st)
{
    (void)st;
    file_run r;
    real_file("freqtrade_UNITTEST-BTC_1m.csv", MIN_MS, &r);
    assert_int_equal(r.rows, 13681);
    assert_int_equal(r.k.gaps, 538);
    assert_int_equal(r.k.missing_bars, 717);
    assert_int_equal(r.k.by_issue[QI_FLAT], 1935);
    assert_int_equal(r.k.by_issue[QI_ZERO_VOLUME], 0);
    assert_true(r.k.score >= 75.0); /* Good or Excellent */
    /* learned interval gives the same counts */
    file_run l;
    real_file("freqtrade_UNITTEST-BTC_1m.csv", 0, &l);
    assert_int_equal(l.k.interval_ms, MIN_MS);
    assert_int_equal(l.k.gaps, 538);
    assert_int_equal(l.k.missing_bars, 717);
}

static void test_real_ada_btc(void **st)
{
    (void)st;
    file_run r;
    real_file("freqtrade_ADA-BTC_5m.csv", 5 * MIN_MS, &r);
    assert_int_equal(r.rows, 5720);
    assert_int_equal(r.k.gaps, 5);
    assert_int_equal(r.k.missing_bars, 40);
    assert_int_equal(r.k.by_issue[QI_FLAT], 2);
    assert_true(r.k.score >= 75.0);
    file_run l;
    real_file("freqtrade_ADA-BTC_5m.csv", 0, &l);
    assert_int_equal(l.k.interval_ms, 5 * MIN_MS);
    assert_int_equal(l.k.gaps, 5);
    assert_int_equal(l.k.missing_bars, 40);
}

static void test_real_xrp_eth(void **st)
{
    (void)st;
    file_run r;
    real_file("freqtrade_XRP-ETH_1m.csv", MIN_MS, &r);
    assert_int_equal(r.rows, 3560);
    assert_int_equal(r.k.gaps, 0);
    assert_int_equal(r.k.missing_bars, 0);
    assert_int_equal(r.k.by_issue[QI_ZERO_VOLUME], 1091);
    assert_int_equal(r.k.by_issue[QI_FLAT], 2054);
    assert_true(r.k.score >= 75.0);
}

static void test_real_backtrader_sessions(void **st)
{
    (void)st;
    file_run r;
    real_file("backtrader_index-future_2006_1m.csv", MIN_MS, &r);
    assert_int_equal(r.rows, 30889);
    /* README: 725 intra-session + 31 overnight + 8 weekend + 1 other */
    assert_int_equal(r.k.gaps, 725 + 31 + 8 + 1);
    assert_int_equal(r.k.by_issue[QI_FLAT], 5736);
    /* overnight gaps are capped, so session data is not Critical */
    assert_true(r.k.worst_score >= 60.0);
}

static void test_score_monotone_in_corruption(void **st)
{
    (void)st;
    const double rates[] = {0.0, 0.01, 0.02, 0.05, 0.10};
    double fin[5], mean[5];
    file_run r;
    for (int i = 0; i < 5; i++) {
        if (run_file("freqtrade_UNITTEST-BTC_1m.csv", MIN_MS, rates[i], &r, &mean[i]) != 0)
            skip();
        fin[i] = r.k.score;
        print_message("corruption %.0f%%: rejects %llu final %.2f mean %.2f\n", rates[i] * 100,
                      (unsigned long long)r.k.by_verdict[QUALITY_REJECT], fin[i], mean[i]);
        if (i > 0) {
            assert_true(fin[i] < fin[i - 1]);
            assert_true(mean[i] < mean[i - 1]);
        }
    }
    assert_true(mean[0] - mean[3] >= 5.0); /* 5% corrupted rows: clearly lower */
}

int main(void)
{
    pt_log_set_stderr(0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_and_config),
        cmocka_unit_test(test_rejects_values),
        cmocka_unit_test(test_duplicate_conflict),
        cmocka_unit_test(test_out_of_order),
        cmocka_unit_test(test_misaligned),
        cmocka_unit_test(test_gap),
        cmocka_unit_test(test_future),
        cmocka_unit_test(test_learned_interval),
        cmocka_unit_test(test_outlier_calm_jump),
        cmocka_unit_test(test_outlier_volatile_not_flagged),
        cmocka_unit_test(test_flat_then_tiny_move),
        cmocka_unit_test(test_spike_revert),
        cmocka_unit_test(test_range_and_volume_outliers),
        cmocka_unit_test(test_stale_and_zero_volume),
        cmocka_unit_test(test_score_formula_and_bounds),
        cmocka_unit_test(test_levels),
        cmocka_unit_test(test_gate),
        cmocka_unit_test(test_worst_score),
        cmocka_unit_test(test_rwin_matches_bruteforce),
        cmocka_unit_test(test_real_unittest_btc),
        cmocka_unit_test(test_real_ada_btc),
        cmocka_unit_test(test_real_xrp_eth),
        cmocka_unit_test(test_real_backtrader_sessions),
        cmocka_unit_test(test_score_monotone_in_corruption),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
