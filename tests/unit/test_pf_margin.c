/* portfolio perp accounting (portfolio/pf_margin.c, docs/futures.md):
 * brackets, Binance's liquidation price, the bankruptcy cap, funding, and
 * property tests (equity identity; no free money from rounding) over seeded
 * random fills, marks and funding in isolated and cross margin. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "portfolio.h"

static pf_portfolio *perp(double cash, double lev, pf_margin_mode m)
{
    pf_options o = {.market = PF_PERP, .margin = m, .leverage = lev, .liq_fee_rate = 0.005};
    pf_portfolio *pf = NULL;
    assert_int_equal(pf_new(cash, &o, &pf), PT_OK);
    return pf;
}

static int fill(pf_portfolio *pf, const char *sym, pf_side side, double qty, double price, double fee_rate,
                pf_fill_result *r)
{
    pf_fill f = {1, sym, side, qty, price, qty * price * fee_rate, 1, "market", "signal", 100};
    return pf_apply_fill(pf, &f, r);
}

static void test_brackets(void **state)
{
    (void)state;
    pf_brackets b;
    pf_brackets_default(&b);
    /* the maintenance amounts Binance's FAQ lists, derived from the rates */
    const double cum[] = {0, 50, 1300, 16300, 266300, 1266300, 2516300, 5016300, 25016300, 100016300};
    assert_int_equal(b.n, 10);
    for (int i = 0; i < b.n; i++)
        assert_true(fabs(b.cum[i] - cum[i]) < 1e-6);
    assert_int_equal(pf_bracket_of(&b, 264000), 2); /* the FAQ's 264,000 USDT -> 1 % */
    assert_true(fabs(b.mmr[pf_bracket_of(&b, 264000)] - 0.01) < 1e-15);
    assert_true(pf_brackets_max_notional(&b, 125) == 50000);
    assert_true(pf_brackets_max_notional(&b, 20) == 10000000);
    assert_true(pf_brackets_max_notional(&b, 126) == 0);
    char why[160];
    assert_int_equal(pf_brackets_parse("10000:50:1,inf:10:5", &b, why, sizeof why), PT_OK);
    assert_true(isinf(b.cap[1]) && fabs(b.cum[1] - 400) < 1e-9);
    assert_int_equal(pf_brackets_parse("10000:50:1,20000:60:2", &b, why, sizeof why), PT_EINVAL);
    assert_non_null(strstr(why, "tier 2"));
    assert_int_equal(pf_brackets_parse("10000:50", &b, why, sizeof why), PT_EINVAL);
    assert_int_equal(pf_brackets_parse("", &b, why, sizeof why), PT_EINVAL);
}

static void test_liquidation_price(void **state)
{
    (void)state;
    pf_portfolio *pf = perp(10000, 10, PF_ISOLATED);
    pf_fill_result r;
    assert_int_equal(fill(pf, "BTC", PF_BUY, 10, 100, 0.001, &r), PT_OK);
    assert_true(fabs(r.margin - 100) < 1e-12);
    assert_true(fabs(pf_cash(pf) - 9899) < 1e-9);
    /* (q*EP - WB - cum) / (q*(1 - mmr)) = 900 / 9.96 */
    assert_true(fabs(r.liquidation_price - 900 / 9.96) < 1e-9);
    assert_true(fabs(pf_equity(pf) - (pf_cash(pf) + pf_total_margin(pf) + pf_unrealized_pnl(pf))) < 1e-9);
    assert_int_equal(fill(pf, "ETH", PF_SELL, 10, 100, 0.001, &r), PT_OK);
    assert_true(fabs(r.liquidation_price - 1100 / 10.04) < 1e-9); /* short: (WB + q*EP) / (q*(1 + mmr)) */
    /* leverage 1 long: no positive price liquidates it */
    assert_int_equal(pf_set_leverage(pf, "SOL", 1), PT_OK);
    assert_int_equal(fill(pf, "SOL", PF_BUY, 1, 100, 0, &r), PT_OK);
    assert_true(r.liquidation_price == 0);
    assert_int_equal(pf_set_leverage(pf, "SOL", 2), PT_ESTATE); /* open position */
    assert_int_equal(pf_set_leverage(pf, "ADA", 126), PT_EINVAL);
    pf_free(pf);
}

static void test_bankruptcy(void **state)
{
    (void)state;
    pf_portfolio *pf = perp(1000, 10, PF_ISOLATED);
    pf_fill_result r;
    assert_int_equal(fill(pf, "BTC", PF_BUY, 10, 100, 0, &r), PT_OK);
    double cash0 = pf_cash(pf);
    pf_fill f = {2, "BTC", PF_SELL, 0, 80, 0, 0, "market", "liquidation", 100};
    assert_int_equal(pf_liquidate(pf, &f, &r), PT_OK); /* a gap to 80: 100 past the margin */
    assert_true(f.qty == 10 && f.side == PF_SELL && f.fee == 0);
    assert_true(fabs(r.realized_pnl + 100) < 1e-9);         /* the margin, no more */
    assert_true(fabs(r.bankruptcy_loss - 100) < 1e-9);
    assert_true(fabs(pf_cash(pf) - cash0) < 1e-9 && pf_cash(pf) >= 0);
    assert_true(fabs(pf_bankruptcy_loss(pf) - 100) < 1e-9);
    assert_int_equal(pf_liquidation_count(pf), 1);
    assert_int_equal(pf_liquidate(pf, &f, &r), PT_ENOENT); /* flat */
    pf_free(pf);
}

static void test_funding(void **state)
{
    (void)state;
    pf_portfolio *pf = perp(1000, 5, PF_ISOLATED);
    pf_fill_result r;
    pf_funding_result fr;
    assert_int_equal(fill(pf, "BTC", PF_SELL, 2, 100, 0, &r), PT_OK);
    assert_int_equal(pf_apply_funding(pf, "BTC", 5, 0.001, 110, &fr), PT_OK);
    assert_true(fabs(fr.payment - 0.22) < 1e-12 && fr.position_qty == -2); /* a short receives */
    assert_int_equal(pf_apply_funding(pf, "BTC", 6, -0.001, 0, &fr), PT_OK); /* last mark: 100 */
    assert_true(fabs(fr.payment + 0.2) < 1e-12 && fr.mark_price == 100);
    assert_int_equal(pf_apply_funding(pf, "ETH", 6, 0.001, 0, &fr), PT_OK); /* flat */
    assert_true(fr.payment == 0);
    assert_true(fabs(pf_funding_received(pf) - 0.22) < 1e-12 && fabs(pf_funding_paid(pf) - 0.2) < 1e-12);
    assert_int_equal(pf_apply_funding(pf, "BTC", 7, 1.5, 0, &fr), PT_EINVAL);
    /* a payment larger than the cash comes out of the margin */
    pf_portfolio *p2 = perp(100, 5, PF_ISOLATED);
    assert_int_equal(fill(p2, "BTC", PF_BUY, 5, 100, 0, &r), PT_OK); /* margin 100, cash 0 */
    assert_int_equal(pf_apply_funding(p2, "BTC", 5, 0.01, 100, &fr), PT_OK);
    assert_true(fabs(fr.payment + 5) < 1e-12 && pf_cash(p2) == 0 && fabs(pf_total_margin(p2) - 95) < 1e-12);
    pf_free(p2);
    pf_free(pf);
}

/* xorshift: same seed, same sequence */
static uint64_t rng = 88172645463325252ull;
static double urand(void)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}

/* Random fills, marks, funding and liquidations. The test keeps its own
 * book in long double (gross PnL per close, fees booked, funding,
 * shortfalls) and checks after every step: equity = cash + margin +
 * unrealized; cash = initial + realized - margin (no money from nowhere);
 * isolated: cash >= 0 and every margin >= 0. */
static void property_run(pf_margin_mode mode)
{
    const char *syms[3] = {"A", "B", "C"};
    pf_portfolio *pf = perp(10000, 1 + (int)(urand() * 20), mode);
    long double ext = 10000; /* initial + what the book says it booked */
    for (int step = 0; step < 4000; step++) {
        const char *s = syms[(int)(urand() * 3)];
        double px = 50 + urand() * 100, k = urand();
        pf_position p;
        pf_get_position(pf, s, &p);
        pf_fill_result r;
        if (k < 0.35) {
            pf_mark(pf, s, px);
        } else if (k < 0.45) {
            pf_funding_result fr;
            assert_int_equal(pf_apply_funding(pf, s, step, (urand() - 0.5) * 0.01, px, &fr), PT_OK);
            ext += fr.payment;
        } else if (k < 0.5 && p.qty != 0) {
            pf_fill f = {step, s, PF_BUY, 0, px, 0, 0, "market", "liquidation", 100};
            assert_int_equal(pf_liquidate(pf, &f, &r), PT_OK);
            ext += r.realized_pnl;
        } else {
            pf_side side = urand() < 0.5 ? PF_BUY : PF_SELL;
            int closing = p.qty != 0 && (p.qty > 0) != (side == PF_BUY);
            double q = closing ? fabs(p.qty) * (urand() < 0.5 ? 1 : urand()) : urand() * 10;
            if (!(q > 0))
                continue;
            int rc = fill(pf, s, side, q, px, 0.0004, &r);
            if (rc == PT_ERANGE)
                continue; /* not enough cash for the margin: nothing changed */
            assert_int_equal(rc, PT_OK);
            ext += r.realized_pnl;
        }
        double eq = pf_equity(pf), cash = pf_cash(pf), m = pf_total_margin(pf);
        double scale = 1e-9 * (fabs(eq) + m + 10000);
        assert_true(fabs(eq - (cash + m + pf_unrealized_pnl(pf))) < scale);
        assert_true(fabsl((long double)cash - (ext - m)) < scale);
        assert_true(fabs(pf_realized_pnl(pf) - (double)(ext - 10000)) < scale);
        if (mode == PF_ISOLATED)
            assert_true(cash >= -scale);
        for (int i = 0; i < 3; i++)
            assert_true(pf_margin_of(pf, pf_symbol_id(pf, syms[i])) >= -scale);
    }
    pf_free(pf);
}

static void test_property_isolated(void **state)
{
    (void)state;
    for (int i = 0; i < 20; i++)
        property_run(PF_ISOLATED);
}

static void test_property_cross(void **state)
{
    (void)state;
    for (int i = 0; i < 20; i++)
        property_run(PF_CROSS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_brackets),          cmocka_unit_test(test_liquidation_price),
        cmocka_unit_test(test_bankruptcy),        cmocka_unit_test(test_funding),
        cmocka_unit_test(test_property_isolated), cmocka_unit_test(test_property_cross),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
