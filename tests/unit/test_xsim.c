/* Exchange simulator: the synthetic market (pure function of seed, symbol
 * and time; OHLC consistent; positive; realistic scale) and the fault-spec
 * parser. The server is covered by tests/integration/xsim_*.mjs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "feed_xsim.h"

#include <math.h>
#include <string.h>

#define T0 1704067200000LL
#define IV 60000LL

static void test_same_seed_same_candles(void **state)
{
    (void)state;
    for (int i = 0; i < 200; i++) {
        feed_xsim_bar a, b;
        int64_t t = T0 + i * IV * 37;
        feed_xsim_synth_bar(1, "BTCUSDT", t, IV, 1.0, &a);
        feed_xsim_synth_bar(1, "BTCUSDT", t, IV, 1.0, &b);
        assert_memory_equal(&a, &b, sizeof a);
    }
    /* other seed or symbol: another market */
    feed_xsim_bar a, b, c;
    int differ_seed = 0, differ_sym = 0;
    for (int i = 0; i < 50; i++) {
        feed_xsim_synth_bar(1, "BTCUSDT", T0 + i * IV, IV, 1.0, &a);
        feed_xsim_synth_bar(2, "BTCUSDT", T0 + i * IV, IV, 1.0, &b);
        feed_xsim_synth_bar(1, "BTCEUR", T0 + i * IV, IV, 1.0, &c);
        differ_seed += a.c != b.c;
        differ_sym += a.c != c.c;
    }
    assert_true(differ_seed > 40);
    assert_true(differ_sym > 40);
}

static void test_ohlc_consistent_positive_continuous(void **state)
{
    (void)state;
    const char *syms[] = {"BTCUSDT", "ETHUSDT", "ZZZ-EUR", "DOGEUSDT"};
    for (size_t s = 0; s < 4; s++) {
        feed_xsim_bar prev, b;
        double sumsq = 0;
        int n = 3000;
        feed_xsim_synth_bar(7, syms[s], T0, IV, 1.0, &prev);
        for (int i = 1; i <= n; i++) {
            feed_xsim_synth_bar(7, syms[s], T0 + i * IV, IV, 1.0, &b);
            assert_true(b.o > 0 && b.h > 0 && b.l > 0 && b.c > 0 && b.v > 0);
            assert_true(b.h >= b.o && b.h >= b.c && b.l <= b.o && b.l <= b.c);
            assert_true(b.n >= 1 && b.last_id == b.first_id + b.n - 1 && b.first_id > prev.last_id);
            assert_true(b.q > 0 && b.tv <= b.v && b.tq <= b.q);
            assert_true(b.o == prev.c); /* open = previous close, exactly */
            double r = log(b.c / b.o);
            sumsq += r * r;
            prev = b;
        }
        double sd = sqrt(sumsq / n);
        /* realistic 1m volatility: roughly 0.03 % .. 0.5 % per candle */
        assert_true(sd > 0.0003 && sd < 0.005);
    }
}

static void test_partial_inside_final(void **state)
{
    (void)state;
    for (int i = 0; i < 300; i++) {
        feed_xsim_bar fin, p, csv;
        int64_t t = T0 + i * IV;
        feed_xsim_synth_bar(3, "ETHUSDT", t, IV, 1.0, &fin);
        for (int k = 0; k <= 5; k++) {
            feed_xsim_synth_bar(3, "ETHUSDT", t, IV, k / 5.0, &p);
            assert_true(p.o == fin.o && p.h <= fin.h && p.l >= fin.l && p.v <= fin.v && p.n <= fin.n);
            assert_true(p.h >= p.o && p.h >= p.c && p.l <= p.o && p.l <= p.c && p.l > 0);
            feed_xsim_partial(&fin, k / 5.0, &csv);
            assert_true(csv.h <= fin.h && csv.l >= fin.l && csv.o == fin.o);
        }
        feed_xsim_synth_bar(3, "ETHUSDT", t, IV, 1.0, &p);
        assert_memory_equal(&p, &fin, sizeof p);
    }
}

static void test_fault_spec_ok(void **state)
{
    (void)state;
    feed_xsim_faults f;
    char why[160];
    assert_int_equal(feed_xsim_faults_parse(NULL, &f, why, sizeof why), PT_OK);
    assert_int_equal(f.drop_ms, 0);
    assert_int_equal(f.retry_after_s, 1);
    assert_int_equal(feed_xsim_faults_parse("drop=30s,stall=5s@60s,dup=0.05,ooo=0.02,skip=0.01,malformed=0.01,"
                                            "oversize=0.001,http429=0.1,http418=0.01,nohandshake=1,retry=2,"
                                            "shutdown=2m",
                                            &f, why, sizeof why),
                     PT_OK);
    assert_int_equal(f.drop_ms, 30000);
    assert_int_equal(f.stall_ms, 5000);
    assert_int_equal(f.stall_every_ms, 60000);
    assert_int_equal(f.shutdown_ms, 120000);
    assert_int_equal(f.retry_after_s, 2);
    assert_true(f.p[FEED_XSIM_F_DUP] == 0.05 && f.p[FEED_XSIM_F_NOHANDSHAKE] == 1.0);
    assert_true(f.p[FEED_XSIM_F_HTTP429] == 0.1 && f.p[FEED_XSIM_F_OVERSIZE] == 0.001);
    assert_int_equal(feed_xsim_faults_parse("drop=500ms,stall=2", &f, why, sizeof why), PT_OK);
    assert_int_equal(f.drop_ms, 500);
    assert_int_equal(f.stall_ms, 2000);
    assert_string_equal(feed_xsim_fault_name(FEED_XSIM_F_HTTP418), "http418");
}

static void test_fault_spec_bad(void **state)
{
    (void)state;
    const char *bad[] = {"dup=1.5", "dup=-0.1", "dup=abc", "drop=0", "drop=-3s", "drop=xs", "frob=1", "dup",
                         "=1", "dup=", "stall=5s@", "drop=30s,,dup=1", "dup=nan", "drop=1e9h", "retry=0"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        feed_xsim_faults f;
        char why[160] = "";
        assert_int_equal(feed_xsim_faults_parse(bad[i], &f, why, sizeof why), PT_EINVAL);
        assert_true(why[0] != 0);
    }
}

static void test_u01_pure(void **state)
{
    (void)state;
    double sum = 0;
    for (uint64_t i = 0; i < 10000; i++) {
        double u = feed_xsim_u01(5, 1, 2, i);
        assert_true(u >= 0 && u < 1);
        assert_true(u == feed_xsim_u01(5, 1, 2, i));
        sum += u;
    }
    assert_true(fabs(sum / 10000 - 0.5) < 0.02);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_seed_same_candles), cmocka_unit_test(test_ohlc_consistent_positive_continuous),
        cmocka_unit_test(test_partial_inside_final),   cmocka_unit_test(test_fault_spec_ok),
        cmocka_unit_test(test_fault_spec_bad),         cmocka_unit_test(test_u01_pure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
