/* portfolio: fills and PnL, invariants on random fills, ledger files and
 * their error paths, torn-tail repair, metrics on crafted series. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "portfolio.h"

#include <cjson/cJSON.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static pf_fill mk(const char *sym, pf_side side, double qty, double price, double fee)
{
    pf_fill f = {1700000000000LL, sym, side, qty, price, fee, 1, "market", "signal", 90};
    return f;
}

static void check_identities(const pf_portfolio *pf)
{
    double eq = pf_equity(pf);
    assert_true(eq == pf_cash(pf) + pf_positions_value(pf));
    double alt = pf_initial_cash(pf) + pf_realized_pnl(pf) + pf_unrealized_pnl(pf);
    assert_true(fabs(eq - alt) <= 1e-9 * (fabs(eq) + pf_initial_cash(pf)));
    double dd = pf_drawdown(pf);
    assert_true(dd >= 0 && (eq < 0 || dd <= 1 + 1e-12)); /* > 1 only below zero equity */
}

static char *tmpdir_new(void)
{
    char *d = strdup("/tmp/pf_test_XXXXXX");
    assert_non_null(mkdtemp(d));
    return d;
}

static void rm_rf(char *d)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", d);
    assert_int_equal(system(cmd), 0);
    free(d);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    char *b = calloc(1, 1 << 22);
    size_t n = fread(b, 1, (1 << 22) - 1, fp);
    fclose(fp);
    if (len)
        *len = n;
    return b;
}

/* ------------------------------------------------------------ fills */
static void test_long_avg_partial_fees(void **st)
{
    (void)st;
    pf_portfolio *pf;
    assert_int_equal(pf_new(1000, NULL, &pf), PT_OK);
    pf_fill_result r;
    pf_fill f = mk("BTC", PF_BUY, 1, 100, 1);
    assert_int_equal(pf_apply_fill(pf, &f, &r), PT_OK);
    assert_true(r.realized_pnl == -1 && r.cash_after == 899 && r.seq == 1);
    f = mk("BTC", PF_BUY, 1, 110, 1);
    assert_int_equal(pf_apply_fill(pf, &f, &r), PT_OK);
    assert_true(r.avg_price_after == 105 && r.qty_after == 2 && r.cash_after == 788);
    check_identities(pf);
    assert_int_equal(pf_mark(pf, "BTC", 120), PT_OK);
    assert_true(pf_unrealized_pnl(pf) == 30 && pf_equity(pf) == 1028);
    f = mk("BTC", PF_SELL, 1, 120, 1); /* partial close: +15 gross, -1 fee */
    assert_int_equal(pf_apply_fill(pf, &f, &r), PT_OK);
    assert_true(r.realized_pnl == 14 && r.qty_after == 1 && r.avg_price_after == 105);
    assert_int_equal(r.round_trip_closed, 0);
    check_identities(pf);
    f = mk("BTC", PF_SELL, 1, 90, 0.5);
    assert_int_equal(pf_apply_fill(pf, &f, &r), PT_OK);
    assert_true(r.realized_pnl == -15.5 && r.qty_after == 0 && r.avg_price_after == 0);
    assert_int_equal(r.round_trip_closed, 1);
    assert_true(r.round_trip_pnl == -3.5); /* -1 -1 +14 -15.5 */
    assert_true(pf_cash(pf) == 996.5 && pf_equity(pf) == 996.5 && pf_fees(pf) == 3.5);
    assert_int_equal(pf_open_positions(pf), 0);
    pf_position p;
    assert_int_equal(pf_get_position(pf, "BTC", &p), PT_OK);
    assert_true(p.realized_pnl == -3.5 && p.first_price == 100);
    assert_int_equal(pf_get_position(pf, "ETH", &p), PT_ENOENT);
    assert_string_equal(p.symbol, "ETH");
    assert_int_equal((int)pf_fill_count(pf), 4);
    pf_free(pf);
    pf_free(NULL);
}

static void test_short_and_flip(void **st)
{
    (void)st;
    pf_portfolio *pf;
    pf_options o = {.allow_short = 1};
    assert_int_equal(pf_new(1000, &o, &pf), PT_OK);
    pf_fill_result r;
    pf_fill f = mk("ETH", PF_SELL, 2, 50, 0); /* proceeds credited */
    assert_int_equal(pf_apply_fill(pf, &f, &r), PT_OK);
    assert_true(r.cash_after == 1100 && r.qty_after == -2 && r.avg_price_after == 50);
    pf_mark(pf, "ETH", 40);
    assert_true(pf_positions_value(pf) == -80 && pf_equity(pf) == 1020);
    assert_true(pf_unrealized_pnl(pf) == 20);
    check_identities(pf);
    f = mk("ETH", PF_BUY, 3, 40, 3); /* buy back 2 (debited), flip to long 1 */
    assert_int_equal(pf_apply_fill(pf, &f, &r), PT_OK);
    assert_true(r.cash_after == 977 && r.qty_after == 1 && r.avg_price_after == 40);
    assert_int_equal(r.round_trip_closed, 1);
    assert_true(r.round_trip_pnl == 18);  /* 20 gross - 2/3 of the fee */
    assert_true(r.realized_pnl == 17);    /* 20 - whole fee */
    f = mk("ETH", PF_SELL, 1, 41, 0);
    assert_int_equal(pf_apply_fill(pf, &f, &r), PT_OK);
    assert_true(r.round_trip_closed && r.round_trip_pnl == 0); /* +1 gross - 1 fee */
    check_identities(pf);
    pf_free(pf);

    /* long-only: a sell past flat is refused and changes nothing */
    assert_int_equal(pf_new(1000, NULL, &pf), PT_OK);
    f = mk("ETH", PF_BUY, 1, 10, 0);
    assert_int_equal(pf_apply_fill(pf, &f, NULL), PT_OK);
    f = mk("ETH", PF_SELL, 2, 10, 0);
    pt_log_set_stderr(0);
    assert_int_equal(pf_apply_fill(pf, &f, NULL), PT_EINVAL);
    pt_log_set_stderr(1);
    assert_true(pf_position_qty(pf, "ETH") == 1 && pf_cash(pf) == 990);
    pf_free(pf);
}

static void test_rejects(void **st)
{
    (void)st;
    pf_portfolio *pf;
    pt_log_set_stderr(0);
    assert_int_equal(pf_new(0, NULL, &pf), PT_EINVAL);
    assert_int_equal(pf_new(100, NULL, &pf), PT_OK);
    pf_fill f = mk("X", PF_BUY, 1, 100, 0.01); /* 100.01 > 100 */
    assert_int_equal(pf_apply_fill(pf, &f, NULL), PT_ERANGE);
    assert_true(pf_cash(pf) == 100 && pf_fill_count(pf) == 0);
    double q = pf_max_buy_qty(pf, 3, 0.001);
    assert_true(q > 33.29 && q < 33.31);
    f = mk("X", PF_BUY, q, 3, q * 3 * 0.001);
    assert_int_equal(pf_apply_fill(pf, &f, NULL), PT_OK);
    assert_true(pf_cash(pf) >= 0 && pf_cash(pf) < 1e-9);
    const pf_fill bad[] = {mk("X", PF_BUY, 0, 1, 0), mk("X", PF_BUY, 1, NAN, 0),
                           mk("X", PF_BUY, 1, 1, -1), mk("X", (pf_side)7, 1, 1, 0),
                           mk("", PF_BUY, 1, 1, 0), mk("X", PF_SELL, INFINITY, 1, 0),
                           mk("0123456789012345678901234567890123", PF_BUY, 1, 1, 0)};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(pf_apply_fill(pf, &bad[i], NULL), PT_EINVAL);
    assert_int_equal(pf_mark(pf, "X", -1), PT_EINVAL);
    /* bounded symbol table */
    char sym[16];
    for (int i = 1; i < PF_MAX_SYMBOLS; i++) {
        snprintf(sym, sizeof sym, "S%d", i);
        assert_int_equal(pf_mark(pf, sym, 1), PT_OK);
    }
    assert_int_equal(pf_mark(pf, "ONE_TOO_MANY", 1), PT_EFULL);
    assert_int_equal(pf_symbol_count(pf), PF_MAX_SYMBOLS);
    pf_free(pf);
    pt_log_set_stderr(1);
}

/* ------------------------------------------------------------ random + replay */
static uint64_t rng = 88172645463325252ULL;
static double urand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}

typedef struct replay {
    double cash;
    uint64_t rows;
    double realized;
} replay;

static int replay_cb(const pf_trade_row *row, void *ud)
{
    replay *rp = ud;
    const pf_fill *f = &row->fill;
    double notional = f->qty * f->price;
    rp->cash = f->side == PF_BUY ? rp->cash - notional - f->fee : rp->cash + notional - f->fee;
    rp->realized += row->realized_pnl;
    rp->rows++;
    if (row->seq != rp->rows || rp->cash != row->cash_after)
        return 99;
    return 0;
}

static void test_random_invariants_and_replay(void **st)
{
    (void)st;
    char *dir = tmpdir_new();
    pf_ledger *lg;
    pf_ledger_options lo = {.sync = PF_SYNC_NONE, .batch_portfolio = 1};
    assert_int_equal(pf_ledger_open(dir, &lo, &lg), PT_OK);
    pf_portfolio *pf;
    pf_options o = {.allow_short = 1};
    const double cash0 = 10000;
    assert_int_equal(pf_new(cash0, &o, &pf), PT_OK);
    const char *syms[] = {"BTC-EUR", "ETH,EUR", "SOL"};
    double px[] = {100, 20, 3};
    int rejected = 0, fills = 0;
    pt_log_set_stderr(0);
    for (int i = 0; i < 10000; i++) {
        int s = (int)(urand() * 3);
        px[s] *= 1 + (urand() - 0.5) * 0.02;
        assert_int_equal(pf_mark(pf, syms[s], px[s]), PT_OK);
        check_identities(pf);
        pf_fill f = mk(syms[s], urand() < 0.5 ? PF_BUY : PF_SELL, 0, px[s], 0);
        f.ts_ms += (int64_t)i * 60000;
        f.order_id = (uint64_t)i;
        double held = pf_position_qty(pf, syms[s]);
        if (urand() < 0.3 && held != 0) { /* close exactly */
            f.side = held > 0 ? PF_SELL : PF_BUY;
            f.qty = fabs(held);
        } else {
            f.qty = urand() * 2000 / px[s];
        }
        f.fee = f.qty * f.price * 0.001;
        double cash_before = pf_cash(pf);
        pf_fill_result r;
        int rc = pf_apply_fill(pf, &f, &r);
        if (rc == PT_ERANGE) {
            rejected++;
            assert_true(pf_cash(pf) == cash_before);
            continue;
        }
        assert_int_equal(rc, PT_OK);
        fills++;
        assert_int_equal(pf_ledger_fill(lg, &f, &r), PT_OK);
        check_identities(pf);
        if (i % 7 == 0) {
            pf_snapshot sn;
            pf_snapshot_take(pf, f.ts_ms, 80, &sn);
            assert_true(sn.equity == sn.cash + sn.positions_value);
            assert_true(sn.drawdown >= 0 && sn.high_water >= sn.equity);
            assert_int_equal(pf_ledger_snapshot(lg, &sn), PT_OK);
        }
    }
    pt_log_set_stderr(1);
    assert_true(rejected > 0 && fills > 5000);
    assert_int_equal(pf_ledger_close(lg), PT_OK);
    char path[600];
    snprintf(path, sizeof path, "%s/trades.csv", dir);
    replay rp = {cash0, 0, 0};
    assert_int_equal(pf_trades_read(path, replay_cb, &rp), PT_OK);
    assert_int_equal((int)rp.rows, fills);
    assert_true(rp.cash == pf_cash(pf)); /* bit-exact */
    assert_true(fabs(rp.realized - pf_realized_pnl(pf)) < 1e-6);
    pf_free(pf);
    rm_rf(dir);
}

/* ------------------------------------------------------------ ledger */
typedef struct first_row {
    char symbol[64], reason[64], order_type[64];
    pf_fill f;
    int n;
} first_row;

static int first_cb(const pf_trade_row *row, void *ud)
{
    first_row *fr = ud;
    if (fr->n++ == 0) {
        fr->f = row->fill;
        snprintf(fr->symbol, sizeof fr->symbol, "%s", row->fill.symbol);
        snprintf(fr->reason, sizeof fr->reason, "%s", row->fill.reason);
        snprintf(fr->order_type, sizeof fr->order_type, "%s", row->fill.order_type);
    }
    return 0;
}

static void write_one(const char *dir, pf_sync_policy sync, int append)
{
    pf_ledger *lg;
    pf_ledger_options lo = {.sync = sync, .append = append};
    assert_int_equal(pf_ledger_open(dir, &lo, &lg), PT_OK);
    pf_fill f = mk("A,\"B\"", PF_BUY, 0.5, 100.25, 0.1);
    f.order_id = 7;
    f.reason = "x\ny";
    f.quality = 87.5;
    pf_fill_result r = {.seq = 1, .realized_pnl = -0.1, .cash_after = 1000 - 50.125 - 0.1};
    assert_int_equal(pf_ledger_fill(lg, &f, &r), PT_OK);
    pf_snapshot s = {.ts_ms = 1700000060000LL, .cash = 949.775, .positions_value = 50.0625,
                     .equity = 949.775 + 50.0625, .realized_pnl = -0.1, .drawdown = 1e-5,
                     .open_positions = 1, .quality = 100};
    assert_int_equal(pf_ledger_snapshot(lg, &s), PT_OK);
    assert_int_equal(pf_ledger_close(lg), PT_OK);
}

static void test_ledger_format_and_readback(void **st)
{
    (void)st;
    char *dir = tmpdir_new();
    char path[600], ppath[600];
    snprintf(path, sizeof path, "%s/trades.csv", dir);
    snprintf(ppath, sizeof ppath, "%s/portfolio.csv", dir);
    write_one(dir, PF_SYNC_EVERY_FILL, 0);
    char *t = slurp(path, NULL);
    char cash[40];
    pt_format_double(1000 - 50.125 - 0.1, cash, sizeof cash);
    char want[1024];
    snprintf(want, sizeof want,
             "ts,time,symbol,side,qty,price,fee,order_id,order_type,reason,realized_pnl,"
             "cash_after,quality,seq\n"
             "1700000000000,2023-11-14T22:13:20.000Z,\"A,\"\"B\"\"\",buy,0.5,100.25,0.1,7,"
             "market,\"x\ny\",-0.1,%s,87.5,1\n",
             cash);
    assert_string_equal(t, want);
    free(t);
    t = slurp(ppath, NULL);
    assert_string_equal(t, "ts,time,cash,positions_value,equity,realized_pnl,unrealized_pnl,"
                           "drawdown,open_positions,quality\n"
                           "1700000060000,2023-11-14T22:14:20.000Z,949.775,50.0625,999.8375,"
                           "-0.1,0,0.00001,1,100\n");
    free(t);
    first_row fr = {0};
    assert_int_equal(pf_trades_read(path, first_cb, &fr), PT_OK);
    assert_int_equal(fr.n, 1);
    assert_string_equal(fr.symbol, "A,\"B\"");
    assert_string_equal(fr.reason, "x\ny");
    assert_string_equal(fr.order_type, "market");
    assert_true(fr.f.qty == 0.5 && fr.f.price == 100.25 && fr.f.fee == 0.1 && fr.f.quality == 87.5);

    /* sync policy none gives the same bytes; append keeps one header */
    size_t n1, n2;
    free(slurp(path, &n1));
    write_one(dir, PF_SYNC_NONE, 1);
    t = slurp(path, &n2);
    assert_int_equal((int)n2, (int)(2 * n1 - strlen("ts,time,symbol,side,qty,price,fee,order_id,"
                                                    "order_type,reason,realized_pnl,cash_after,"
                                                    "quality,seq\n")));
    free(t);
    fr.n = 0;
    assert_int_equal(pf_trades_read(path, first_cb, &fr), PT_OK);
    assert_int_equal(fr.n, 2);
    rm_rf(dir);
}

static void test_format_double_roundtrip(void **st)
{
    (void)st;
    char b[40];
    const struct {
        double v;
        const char *s;
    } fixed[] = {{0.1, "0.1"}, {100, "100"}, {-2.5, "-2.5"}, {0, "0"}, {123456.789, "123456.789"},
                 {0.000001, "0.000001"}, {1e-5, "0.00001"}, {-0.3, "-0.3"}};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        pf_format_double(fixed[i].v, b, sizeof b);
        assert_string_equal(b, fixed[i].s);
    }
    for (int i = 0; i < 200000; i++) {
        double v;
        if (i % 3 == 0) {
            uint64_t bits = (uint64_t)(urand() * 9007199254740992.0) << 11 ^ (uint64_t)(urand() * 2048);
            memcpy(&v, &bits, sizeof v);
            if (!isfinite(v))
                continue;
        } else if (i % 3 == 1) {
            v = round(urand() * 1e8) / pow(10, (int)(urand() * 10)) * (urand() < 0.5 ? -1 : 1);
        } else {
            v = (urand() - 0.5) * pow(10, (int)(urand() * 30) - 12);
        }
        int n = pf_format_double(v, b, sizeof b);
        assert_true(n > 0 && n < 32 && (size_t)n == strlen(b));
        assert_true(strtod(b, NULL) == v);
    }
    /* results of arithmetic (17-digit noise), near powers of two, never
     * longer in significant digits than %.17g */
    double acc = 0.001;
    for (int i = 0; i < 200000; i++) {
        acc = acc * 1.0001 + 0.1;
        double vs[] = {acc, -acc, nextafter(ldexp(1, i % 60 - 9), 0), ldexp(1, i % 60 - 9),
                       nextafter(ldexp(1, i % 60 - 9), 1e300)};
        for (size_t j = 0; j < sizeof vs / sizeof vs[0]; j++) {
            pf_format_double(vs[j], b, sizeof b);
            assert_true(strtod(b, NULL) == vs[j]);
            int digits = 0, lead = 1;
            for (const char *q = b; *q && *q != 'e'; q++) {
                if (*q >= '1' && *q <= '9')
                    lead = 0;
                digits += !lead && *q >= '0' && *q <= '9';
            }
            assert_true(digits <= 17);
        }
    }
}

/* find the fd the ledger uses for path (via /proc/self/fd) */
static int fd_of(const char *path)
{
    char link[64], target[600];
    for (int fd = 3; fd < 1024; fd++) {
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(link, target, sizeof target - 1);
        if (n <= 0)
            continue;
        target[n] = '\0';
        if (strcmp(target, path) == 0)
            return fd;
    }
    return -1;
}

static void test_ledger_errors(void **st)
{
    (void)st;
    pt_log_set_stderr(0);
    pf_ledger *lg;
    assert_int_equal(pf_ledger_open("/nonexistent/pf", NULL, &lg), PT_ENOENT);
    assert_null(lg);
    assert_true(pf_ledger_open("/proc", NULL, &lg) < 0); /* not creatable, even as root */
    char *dir = tmpdir_new();
    if (geteuid() != 0) { /* root ignores directory permissions */
        chmod(dir, 0555);
        assert_int_equal(pf_ledger_open(dir, NULL, &lg), PT_EIO);
        chmod(dir, 0755);
    }
    /* disk full at open: trades.csv is /dev/full */
    char path[600];
    snprintf(path, sizeof path, "%s/trades.csv", dir);
    assert_int_equal(symlink("/dev/full", path), 0);
    assert_int_equal(pf_ledger_open(dir, NULL, &lg), PT_ENOSPC);
    unlink(path);
    /* disk full mid-run: swap the fd under the ledger; the error is sticky */
    pf_ledger_options lo = {.sync = PF_SYNC_EVERY_FILL};
    assert_int_equal(pf_ledger_open(dir, &lo, &lg), PT_OK);
    int fd = fd_of(pf_ledger_trades_path(lg));
    assert_true(fd >= 0);
    int full = open("/dev/full", O_WRONLY);
    assert_true(full >= 0);
    assert_true(dup2(full, fd) == fd);
    close(full);
    pf_fill f = mk("BTC", PF_BUY, 1, 1, 0);
    pf_fill_result r = {.seq = 1};
    assert_int_equal(pf_ledger_fill(lg, &f, &r), PT_ENOSPC);
    assert_int_equal(pf_ledger_error(lg), PT_ENOSPC);
    pf_snapshot s = {0};
    assert_int_equal(pf_ledger_snapshot(lg, &s), PT_ENOSPC);
    assert_int_equal(pf_ledger_fill(lg, &f, &r), PT_ENOSPC);
    assert_int_equal(pf_ledger_close(lg), PT_ENOSPC);
    assert_int_equal(pf_ledger_close(NULL), PT_OK);
    /* batched portfolio rows hit the error at flush */
    lo.batch_portfolio = 1;
    assert_int_equal(pf_ledger_open(dir, &lo, &lg), PT_OK);
    fd = fd_of(pf_ledger_portfolio_path(lg));
    full = open("/dev/full", O_WRONLY);
    assert_true(dup2(full, fd) == fd);
    close(full);
    assert_int_equal(pf_ledger_snapshot(lg, &s), PT_OK);
    assert_int_equal(pf_ledger_flush(lg), PT_ENOSPC);
    assert_int_equal(pf_ledger_close(lg), PT_ENOSPC);
    /* append refuses a foreign header and a torn tail */
    FILE *fp = fopen(path, "w");
    fputs("a,b\n1,2\n", fp);
    fclose(fp);
    lo.append = 1;
    assert_int_equal(pf_ledger_open(dir, &lo, &lg), PT_ECORRUPT);
    rm_rf(dir);
    pt_log_set_stderr(1);
}

static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static int count_cb(const pf_trade_row *row, void *ud)
{
    (void)row;
    ++*(int *)ud;
    return 0;
}

static void test_torn_tail_and_reader_errors(void **st)
{
    (void)st;
    pt_log_set_stderr(0);
    char *dir = tmpdir_new();
    write_one(dir, PF_SYNC_NONE, 0);
    char path[600], torn[620];
    snprintf(path, sizeof path, "%s/trades.csv", dir);
    snprintf(torn, sizeof torn, "%s.torn", path);
    size_t n0;
    char *orig = slurp(path, &n0);
    assert_int_equal(pf_ledger_repair_tail(path), 0);
    FILE *fp = fopen(path, "a");
    fputs("1700000000000,2023-11-14T22:13:20.000Z,BTC,bu", fp);
    fclose(fp);
    int n = 0;
    assert_int_equal(pf_trades_read(path, count_cb, &n), PT_ECORRUPT);
    pf_ledger *lg;
    pf_ledger_options lo = {.sync = PF_SYNC_NONE, .append = 1};
    assert_int_equal(pf_ledger_open(dir, &lo, &lg), PT_ECORRUPT);
    assert_int_equal(pf_ledger_repair_tail(path), 45);
    char *now = slurp(path, NULL);
    assert_string_equal(now, orig);
    char *t = slurp(torn, NULL);
    assert_string_equal(t, "1700000000000,2023-11-14T22:13:20.000Z,BTC,bu");
    free(now);
    free(t);
    free(orig);
    n = 0;
    assert_int_equal(pf_trades_read(path, count_cb, &n), PT_OK);
    assert_int_equal(n, 1);
    assert_int_equal(pf_ledger_open(dir, &lo, &lg), PT_OK);
    assert_int_equal(pf_ledger_close(lg), PT_OK);
    snprintf(torn, sizeof torn, "%s/missing.csv", dir);
    assert_int_equal(pf_ledger_repair_tail(torn), PT_ENOENT);
    assert_int_equal(pf_trades_read(torn, count_cb, &n), PT_ENOENT);

    /* strict reader: each bad row is a parse error */
    const char *hdr = "ts,time,symbol,side,qty,price,fee,order_id,order_type,reason,"
                      "realized_pnl,cash_after,quality,seq\n";
    const char *good = "1700000000000,2023-11-14T22:13:20.000Z,X,buy,1,2,0,1,market,signal,0,8,90,1\n";
    const char *bad[] = {
        "1700000000000,2023-11-14T22:13:21.000Z,X,buy,1,2,0,1,market,signal,0,8,90,1\n", /* time */
        "1700000000000,2023-11-14T22:13:20.000Z,X,hold,1,2,0,1,market,signal,0,8,90,1\n",
        "1700000000000,2023-11-14T22:13:20.000Z,X,buy,1x,2,0,1,market,signal,0,8,90,1\n",
        "1700000000000,2023-11-14T22:13:20.000Z,X,buy,1,nan,0,1,market,signal,0,8,90,1\n",
        "1700000000000,2023-11-14T22:13:20.000Z,X,buy,1,2,0,1,market,signal,0,8,90\n",
        "1700000000000,2023-11-14T22:13:20.000Z,X,buy,1,2,0,-1,market,signal,0,8,90,1\n",
        "1700000000000,2023-11-14T22:13:20.000Z,X\"Y,buy,1,2,0,1,market,signal,0,8,90,1\n",
        "\n",
    };
    char text[1024];
    snprintf(text, sizeof text, "%s%s", hdr, good);
    write_file(path, text);
    n = 0;
    assert_int_equal(pf_trades_read(path, count_cb, &n), PT_OK);
    assert_int_equal(n, 1);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(text, sizeof text, "%s%s%s", hdr, good, bad[i]);
        write_file(path, text);
        assert_int_equal(pf_trades_read(path, count_cb, &n), PT_EPARSE);
    }
    write_file(path, "ts,time\n");
    assert_int_equal(pf_trades_read(path, count_cb, &n), PT_EPARSE);
    rm_rf(dir);
    pt_log_set_stderr(1);
}

/* ------------------------------------------------------------ metrics */
static void test_metrics_known_answers(void **st)
{
    (void)st;
    pf_metrics *m;
    pt_log_set_stderr(0);
    assert_int_equal(pf_metrics_new(0, 100, &m), PT_EINVAL);
    pt_log_set_stderr(1);
    const int64_t day = 86400000;
    assert_int_equal(pf_metrics_new(day, 100, &m), PT_OK);
    const double eq[] = {100, 120, 90, 130};
    const int inm[] = {0, 1, 1, 0};
    for (int i = 0; i < 4; i++)
        pf_metrics_bar(m, 1700000000000LL + i * day, eq[i], inm[i]);
    const double pnl[] = {10, -5, 20, 0};
    for (int i = 0; i < 4; i++) {
        pf_fill_result r = {.round_trip_closed = 1, .round_trip_pnl = pnl[i]};
        pf_metrics_fill(m, 0.25, &r);
        pf_metrics_fill(m, 0.25, NULL);
    }
    assert_int_equal(pf_metrics_price(m, "A", 100), PT_OK);
    assert_int_equal(pf_metrics_price(m, "B", 50), PT_OK);
    assert_int_equal(pf_metrics_price(m, "A", 110), PT_OK);
    assert_int_equal(pf_metrics_price(m, "B", 45), PT_OK);
    pf_metrics_result r;
    pf_metrics_compute(m, &r);
    assert_true(fabs(r.max_drawdown - 0.25) < 1e-15);
    assert_int_equal((int)r.max_drawdown_bars, 2);
    assert_true(r.max_drawdown_peak_ms == 1700000000000LL + day);
    assert_true(fabs(r.total_return - 0.3) < 1e-15);
    assert_int_equal((int)r.candles, 4);
    assert_true(r.exposure == 0.5);
    assert_int_equal((int)r.trades, 4);
    assert_int_equal((int)r.fills, 8);
    assert_true(r.fees == 2);
    assert_true(r.win_rate == 0.5 && r.profit_factor == 6 && r.expectancy == 6.25);
    assert_true(r.avg_win == 15 && r.avg_loss == -5);
    assert_true(fabs(r.buy_and_hold) < 1e-12 && r.bh_symbols == 2);
    /* Sharpe / Sortino / CAGR from the documented formulas, computed here */
    double rets[] = {0, 0.2, 90.0 / 120 - 1, 130.0 / 90 - 1}, mean = 0, var = 0, down = 0;
    for (int i = 0; i < 4; i++)
        mean += rets[i] / 4;
    for (int i = 0; i < 4; i++) {
        var += (rets[i] - mean) * (rets[i] - mean) / 3;
        down += rets[i] < 0 ? rets[i] * rets[i] / 4 : 0;
    }
    assert_true(fabs(r.sharpe - mean / sqrt(var) * sqrt(365)) < 1e-9);
    assert_true(fabs(r.sortino - mean / sqrt(down) * sqrt(365)) < 1e-9);
    double cagr = pow(1.3, 365.0 / 4) - 1;
    assert_true(fabs(r.cagr / cagr - 1) < 1e-9);
    assert_true(fabs(r.calmar - cagr / 0.25) / (cagr / 0.25) < 1e-9);

    /* JSON and table: deterministic, NAN -> null / n/a */
    cJSON *j = pf_metrics_to_json(&r);
    assert_non_null(j);
    assert_true(cJSON_GetObjectItem(j, "max_drawdown")->valuedouble == r.max_drawdown);
    assert_string_equal(cJSON_GetObjectItem(j, "start_ms")->valuestring, "2023-11-14T22:13:20.000Z");
    char *s1 = cJSON_PrintUnformatted(j);
    cJSON *j2 = pf_metrics_to_json(&r);
    char *s2 = cJSON_PrintUnformatted(j2);
    assert_string_equal(s1, s2);
    free(s1);
    free(s2);
    cJSON_Delete(j);
    cJSON_Delete(j2);
    char *tb = NULL;
    size_t tl = 0;
    FILE *mf = open_memstream(&tb, &tl);
    pf_metrics_print_table(&r, mf);
    fclose(mf);
    const char *ln = strstr(tb, "  max drawdown  ");
    assert_non_null(ln);
    assert_true(strstr(ln, "25.00 %") < strchr(ln, '\n'));
    free(tb);
    pf_metrics_free(m);

    /* an unrecovered drawdown lasts to the last bar; a deeper later one wins */
    assert_int_equal(pf_metrics_new(day, 100, &m), PT_OK);
    const double eq2[] = {100, 80, 90, 100, 110, 70, 75};
    for (int i = 0; i < 7; i++)
        pf_metrics_bar(m, i * day, eq2[i], 0);
    pf_metrics_compute(m, &r);
    assert_true(fabs(r.max_drawdown - 40.0 / 110) < 1e-15);
    assert_int_equal((int)r.max_drawdown_bars, 2);
    assert_true(isnan(r.win_rate) && isnan(r.profit_factor) && r.exposure == 0);
    j = pf_metrics_to_json(&r);
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(j, "win_rate")));
    cJSON_Delete(j);
    pf_metrics_free(m);
    pf_metrics_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_long_avg_partial_fees),
        cmocka_unit_test(test_short_and_flip),
        cmocka_unit_test(test_rejects),
        cmocka_unit_test(test_random_invariants_and_replay),
        cmocka_unit_test(test_ledger_format_and_readback),
        cmocka_unit_test(test_format_double_roundtrip),
        cmocka_unit_test(test_ledger_errors),
        cmocka_unit_test(test_torn_tail_and_reader_errors),
        cmocka_unit_test(test_metrics_known_answers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
