/* Indicators: Tulip reference vectors (parsed at run time), exact SMA over
 * a long random run checked with integer arithmetic, crossover rules,
 * windowed max/min against brute force, non-finite input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "indicators.h"
#include "sim.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ oracle */

#define MAXV 64
#define MAXS 6
typedef struct oracle_block {
    char name[32];
    double opt[4];
    int n_opt;
    int n_series, len[MAXS];
    double s[MAXS][MAXV];
} oracle_block;

static int parse_series(const char *line, double *out)
{
    int n = 0;
    const char *p = line + 1;
    while (*p && *p != '}') {
        const char *e = p;
        while (*e && *e != ',' && *e != '}')
            e++;
        double v;
        if (n >= MAXV || pt_parse_decimal(p, (size_t)(e - p), &v, NULL))
            return -1;
        out[n++] = v;
        p = *e == ',' ? e + 1 : e;
    }
    return n;
}

/* Calls fn for every block; returns the number of blocks or -1. */
static int oracle_each(void (*fn)(const oracle_block *, int *), int *checked)
{
    const char *dir = getenv("PT_SHARED_DATA");
    char path[1024], line[4096];
    assert_non_null(dir);
    snprintf(path, sizeof path, "%s/oracles/tulipindicators_tests_untest.txt", dir);
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("cannot open %s", path);
    oracle_block b;
    int have = 0, blocks = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        if (line[0] == '{' && have) {
            if (b.n_series < MAXS) {
                int n = parse_series(line, b.s[b.n_series]);
                assert_true(n >= 0); /* "{}" is an empty output series */
                b.len[b.n_series++] = n;
            }
        } else if (line[0] && line[0] != '#' && line[0] != '{') {
            if (have) {
                fn(&b, checked);
                blocks++;
            }
            memset(&b, 0, sizeof b);
            char *save = NULL, *tok = strtok_r(line, " ", &save);
            snprintf(b.name, sizeof b.name, "%s", tok);
            while ((tok = strtok_r(NULL, " ", &save)) && b.n_opt < 4)
                assert_int_equal(pt_parse_decimal(tok, strlen(tok), &b.opt[b.n_opt++], NULL), 0);
            have = 1;
        }
    }
    if (have) {
        fn(&b, checked);
        blocks++;
    }
    fclose(f);
    return blocks;
}

/* Compare got[i] (one value per input) with the Tulip output series: output
 * j belongs to input n_in - n_out + j; earlier inputs must be NAN. */
static void check_series(const char *what, const double *got, int n_in, const double *want, int n_out)
{
    int start = n_in - n_out;
    for (int i = 0; i < n_in; i++) {
        if (i < start) {
            if (!isnan(got[i]))
                fail_msg("%s: input %d: %g before warm-up (want NAN)", what, i, got[i]);
        } else if (!(fabs(got[i] - want[i - start]) <= 0.001)) {
            fail_msg("%s: input %d: got %.6f want %.3f", what, i, got[i], want[i - start]);
        }
    }
}

enum { K_SMA, K_EMA, K_RSI, K_BBANDS, K_MACD, K_MAX, K_MIN, K_ATR, K_STDDEV, K_COUNT };
static const char *const knames[K_COUNT] = {"sma", "ema", "rsi", "bbands", "macd",
                                            "max", "min", "atr", "stddev"};

static void check_block(const oracle_block *b, int *checked)
{
    int k = -1;
    for (int i = 0; i < K_COUNT; i++)
        if (!strcmp(b->name, knames[i]))
            k = i;
    if (k < 0)
        return;
    const double *in = b->s[0];
    int n = b->len[0], p = (int)b->opt[0];
    double g[3][MAXV];
    char what[64];
    snprintf(what, sizeof what, "%s %g", b->name, b->opt[0]);
    for (int i = 0; i < n; i++)
        g[0][i] = g[1][i] = g[2][i] = NAN;
    if (k == K_SMA || k == K_STDDEV || k == K_BBANDS) {
        sim_ind_sma s;
        assert_int_equal(sim_ind_sma_init(&s, p, 1), 0);
        for (int i = 0; i < n; i++) {
            assert_int_equal(sim_ind_sma_update(&s, in[i]), 0);
            double sd = s.sd, m = s.mean;
            if (k == K_SMA)
                g[0][i] = m;
            else if (k == K_STDDEV)
                g[0][i] = sd;
            else
                g[0][i] = m - b->opt[1] * sd, g[1][i] = m, g[2][i] = m + b->opt[1] * sd;
        }
        sim_ind_sma_free(&s);
    } else if (k == K_EMA) {
        sim_ind_ema e;
        assert_int_equal(sim_ind_ema_init(&e, p), 0);
        for (int i = 0; i < n; i++) {
            assert_int_equal(sim_ind_ema_update(&e, in[i]), 0);
            g[0][i] = e.value;
        }
    } else if (k == K_RSI) {
        sim_ind_rsi r;
        assert_int_equal(sim_ind_rsi_init(&r, p), 0);
        for (int i = 0; i < n; i++) {
            assert_int_equal(sim_ind_rsi_update(&r, in[i]), 0);
            g[0][i] = r.value;
        }
    } else if (k == K_MACD) {
        sim_ind_macd m;
        assert_int_equal(sim_ind_macd_init(&m, p, (int)b->opt[1], (int)b->opt[2]), 0);
        for (int i = 0; i < n; i++) {
            assert_int_equal(sim_ind_macd_update(&m, in[i]), 0);
            g[0][i] = m.macd, g[1][i] = m.signal, g[2][i] = m.hist;
        }
    } else if (k == K_MAX || k == K_MIN) {
        sim_ind_extreme e;
        assert_int_equal(sim_ind_extreme_init(&e, p, k == K_MIN), 0);
        for (int i = 0; i < n; i++) {
            assert_int_equal(sim_ind_extreme_update(&e, in[i]), 0);
            g[0][i] = e.value;
        }
        sim_ind_extreme_free(&e);
    } else if (k == K_ATR) {
        sim_ind_atr a;
        assert_int_equal(b->n_series, 4);
        assert_int_equal(sim_ind_atr_init(&a, p), 0);
        for (int i = 0; i < n; i++) {
            assert_int_equal(sim_ind_atr_update(&a, b->s[0][i], b->s[1][i], b->s[2][i]), 0);
            g[0][i] = a.value;
        }
        check_series(what, g[0], n, b->s[3], b->len[3]);
        checked[k]++;
        return;
    }
    int n_out = b->n_series - 1;
    assert_true(n_out >= 1 && n_out <= 3);
    for (int o = 0; o < n_out; o++)
        check_series(what, g[o], n, b->s[1 + o], b->len[1 + o]);
    checked[k]++;
}

static void test_tulip_oracle(void **st)
{
    (void)st;
    int checked[K_COUNT] = {0};
    int blocks = oracle_each(check_block, checked);
    assert_true(blocks > 50);
    for (int i = 0; i < K_COUNT; i++)
        if (checked[i] != 1)
            fail_msg("oracle block '%s' checked %d times (want 1)", knames[i], checked[i]);
}

/* ------------------------------------------------------------ exact SMA */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rng(void)
{
    uint64_t x = rng_state; /* xorshift64* */
    x ^= x >> 12, x ^= x << 25, x ^= x >> 27;
    rng_state = x;
    return x * 0x2545F4914F6CDD1Dull;
}

/* Is x the correctly rounded (ties to even) value of S / n (1; 2 when S / n
 * was exactly half-way; 0 when not), where
 * S = s_int * 2^-20 exactly? Decided in 128-bit integers: scale by 2^L so
 * that x, its neighbours and the midpoints are integers. */
static int is_rounded_mean(double x, __int128 s_int, int n)
{
    if (x == 0.0)
        return s_int == 0;
    int ex;
    frexp(x, &ex);
    int L = 56 - ex > 20 ? 56 - ex : 20;
    double lo = nextafter(x, -INFINITY), hi = nextafter(x, INFINITY);
    __int128 X = (__int128)ldexp(x, L), LO = (__int128)ldexp(lo, L), HI = (__int128)ldexp(hi, L);
    __int128 T = 2 * s_int * ((__int128)1 << (L - 20)); /* 2*n*mean, scaled */
    __int128 mlo = (__int128)n * (X + LO), mhi = (__int128)n * (X + HI);
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    int even = (bits & 1) == 0;
    if (T < mlo || T > mhi)
        return 0;
    if (T == mlo || T == mhi)
        return even ? 2 : 0; /* exactly half-way: ties to even */
    return 1;
}

static void run_exact(int period, int updates, int *ties)
{
    sim_ind_sma s;
    int64_t *ring = calloc((size_t)period, sizeof *ring);
    __int128 sum = 0;
    assert_non_null(ring);
    assert_int_equal(sim_ind_sma_init(&s, period, 0), 0);
    for (int i = 0; i < updates; i++) {
        /* a random 53-bit integer, sign and magnitude varied: values k*2^-20
         * span 2^-20 .. 2^33 so window sums need several partials */
        int64_t k = (int64_t)(rng() >> 11) >> (rng() % 40);
        if (rng() & 1)
            k = -k;
        double v = ldexp((double)k, -20);
        if (i >= period)
            sum -= ring[i % period];
        ring[i % period] = k;
        sum += k;
        assert_int_equal(sim_ind_sma_update(&s, v), 0);
        if (i + 1 < period) {
            assert_true(isnan(s.mean));
            continue;
        }
        int r = is_rounded_mean(s.mean, sum, period);
        if (!r)
            fail_msg("period %d update %d: mean %.17g is not the rounded exact mean", period, i, s.mean);
        *ties += r == 2; /* exact mean half-way between two doubles */
    }
    free(ring);
    sim_ind_sma_free(&s);
}

static void test_sma_exact_random(void **st)
{
    (void)st;
    int ties = 0;
    run_exact(37, 1000000, &ties);
    run_exact(4, 200000, &ties);
    run_exact(1000, 100000, &ties);
    run_exact(1, 10000, &ties);
    assert_true(ties > 0);
}

/* Rounding once: (a + b + c) / 3 where naive double sums round twice. */
static void test_sma_no_drift_simple(void **st)
{
    (void)st;
    sim_ind_sma s;
    assert_int_equal(sim_ind_sma_init(&s, 3, 0), 0);
    /* a huge value passing through the window must leave no residue */
    double seq[] = {1e16, 1.0, 1.0, 1.0, 1.0, 1.0};
    for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++)
        assert_int_equal(sim_ind_sma_update(&s, seq[i]), 0);
    assert_true(s.mean == 1.0);
    /* 0.1 + 0.2 + 0.3 in any order: one value */
    sim_ind_sma a, b;
    assert_int_equal(sim_ind_sma_init(&a, 3, 0), 0);
    assert_int_equal(sim_ind_sma_init(&b, 3, 0), 0);
    double x[] = {0.1, 0.2, 0.3}, y[] = {0.3, 0.1, 0.2};
    for (int i = 0; i < 3; i++) {
        sim_ind_sma_update(&a, x[i]);
        sim_ind_sma_update(&b, y[i]);
    }
    assert_true(a.mean == b.mean);
    sim_ind_sma_free(&a);
    sim_ind_sma_free(&b);
    sim_ind_sma_free(&s);
}

/* ------------------------------------------------------------ crossover */

static void run_cross(const double *d, int n, const int *want)
{
    sim_ind_cross c = {0};
    for (int i = 0; i < n; i++) {
        int got = sim_ind_cross_update(&c, d[i]);
        if (got != want[i])
            fail_msg("step %d (d=%g): got %d want %d", i, d[i], got, want[i]);
    }
}

static void test_cross_rules(void **st)
{
    (void)st;
    /* first non-zero difference is not a cross, even after ties */
    run_cross((double[]){1, 1, -1}, 3, (int[]){0, 0, -1});
    run_cross((double[]){0, 0, -1, 1}, 4, (int[]){0, 0, 0, 1});
    /* a tie carries the previous sign: - 0 0 + is a cross up on the + */
    run_cross((double[]){-1, 0, 0, 2}, 4, (int[]){0, 0, 0, 1});
    /* - 0 - is no cross; + 0 + is no cross */
    run_cross((double[]){-1, 0, -1, 0, 1}, 5, (int[]){0, 0, 0, 0, 1});
    run_cross((double[]){1, 0, 1, 0, -3, 0, -1, 5}, 8, (int[]){0, 0, 0, 0, -1, 0, 0, 1});
    /* touching zero and going back is not a cross */
    run_cross((double[]){-1, 0, -1, -2, 0, 0, -5}, 7, (int[]){0, 0, 0, 0, 0, 0, 0});
}

/* ------------------------------------------------------------ max/min, atr */

static void test_extreme_brute(void **st)
{
    (void)st;
    enum { N = 20000, P = 7 };
    static double v[N];
    sim_ind_extreme mx, mn;
    assert_int_equal(sim_ind_extreme_init(&mx, P, 0), 0);
    assert_int_equal(sim_ind_extreme_init(&mn, P, 1), 0);
    for (int i = 0; i < N; i++) {
        v[i] = (double)(rng() % 50); /* many equal values */
        assert_int_equal(sim_ind_extreme_update(&mx, v[i]), 0);
        assert_int_equal(sim_ind_extreme_update(&mn, v[i]), 0);
        if (i + 1 < P) {
            assert_true(isnan(mx.value) && isnan(mn.value));
            continue;
        }
        double hi = v[i], lo = v[i];
        for (int j = i - P + 1; j <= i; j++)
            hi = fmax(hi, v[j]), lo = fmin(lo, v[j]);
        assert_true(mx.value == hi);
        assert_true(mn.value == lo);
    }
    sim_ind_extreme_free(&mx);
    sim_ind_extreme_free(&mn);
    sim_ind_extreme_free(&mx); /* twice: no-op */
}

static void test_nonfinite_rejected(void **st)
{
    (void)st;
    sim_ind_sma s;
    sim_ind_ema e;
    sim_ind_rsi r;
    sim_ind_atr a;
    sim_ind_macd m;
    sim_ind_extreme x;
    assert_int_equal(sim_ind_sma_init(&s, 2, 1), 0);
    assert_int_equal(sim_ind_ema_init(&e, 2), 0);
    assert_int_equal(sim_ind_rsi_init(&r, 2), 0);
    assert_int_equal(sim_ind_atr_init(&a, 2), 0);
    assert_int_equal(sim_ind_macd_init(&m, 1, 2, 2), 0);
    assert_int_equal(sim_ind_extreme_init(&x, 2, 0), 0);
    for (int i = 0; i < 3; i++) {
        sim_ind_sma_update(&s, 1.0 + i);
        sim_ind_ema_update(&e, 1.0 + i);
        sim_ind_rsi_update(&r, 1.0 + i);
        sim_ind_atr_update(&a, 2.0 + i, 1.0, 1.5);
        sim_ind_macd_update(&m, 1.0 + i);
        sim_ind_extreme_update(&x, 1.0 + i);
    }
    double sm = s.mean, ev = e.value, rv = r.value, av = a.value, mv = m.macd, xv = x.value;
    double bad[] = {NAN, INFINITY, -INFINITY};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(sim_ind_sma_update(&s, bad[i]), PT_EINVAL);
        assert_int_equal(sim_ind_ema_update(&e, bad[i]), PT_EINVAL);
        assert_int_equal(sim_ind_rsi_update(&r, bad[i]), PT_EINVAL);
        assert_int_equal(sim_ind_atr_update(&a, 3.0, bad[i], 2.0), PT_EINVAL);
        assert_int_equal(sim_ind_macd_update(&m, bad[i]), PT_EINVAL);
        assert_int_equal(sim_ind_extreme_update(&x, bad[i]), PT_EINVAL);
    }
    assert_true(s.mean == sm && e.value == ev && r.value == rv && a.value == av && m.macd == mv &&
                x.value == xv);
    /* periods below 1 are refused */
    assert_int_equal(sim_ind_ema_init(&e, 0), PT_EINVAL);
    sim_ind_sma_free(&s);
    sim_ind_extreme_free(&x);
    assert_int_equal(sim_ind_sma_init(&s, 0, 0), PT_EINVAL);
    sim_ind_sma_free(&s);
}

static void test_rsi_flat_is_50(void **st)
{
    (void)st;
    sim_ind_rsi r;
    assert_int_equal(sim_ind_rsi_init(&r, 3), 0);
    for (int i = 0; i < 10; i++)
        assert_int_equal(sim_ind_rsi_update(&r, 5.0), 0);
    assert_true(r.value == 50.0);
}

/* sim_memo_enable: replayed, diverging and re-recorded SMAs give the bits
 * of a plain one. Runs last: the memo stays on for the process. */
static void run_sma(const double *x, int n, int period, double *out)
{
    sim_ind_sma s;
    assert_int_equal(sim_ind_sma_init(&s, period, 0), PT_OK);
    for (int i = 0; i < n; i++) {
        assert_int_equal(sim_ind_sma_update(&s, x[i]), PT_OK);
        out[i] = s.mean;
    }
    sim_ind_sma_free(&s);
}

static void test_sma_memo_same_bits(void **st)
{
    (void)st;
    enum { N = 3000 };
    static double a[N], b[N], plain_a[N], plain_b[N], got[N];
    uint64_t r = 12345;
    for (int i = 0; i < N; i++) {
        r = r * 6364136223846793005ull + 1442695040888963407ull;
        a[i] = 100 + (double)(r >> 40) / 1e4;
        b[i] = i < N / 2 ? a[i] : a[i] + 0.5; /* same start, diverges half-way */
    }
    run_sma(a, N, 17, plain_a);
    run_sma(b, N, 17, plain_b);
    sim_memo_enable(1u << 20);
    for (int round = 0; round < 3; round++) {
        run_sma(a, N / 3, 17, got); /* records a prefix only */
        assert_memory_equal(got, plain_a, sizeof(double) * (N / 3));
        run_sma(a, N, 17, got); /* replays the prefix, then extends the series */
        assert_memory_equal(got, plain_a, sizeof got);
        run_sma(b, N, 17, got); /* replays, then computes from the first difference */
        assert_memory_equal(got, plain_b, sizeof got);
    }
    sim_memo_enable(64); /* a budget too small to record: computes by itself */
    run_sma(b, N, 23, got);
    run_sma(b, N, 23, plain_b);
    assert_memory_equal(got, plain_b, sizeof got);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tulip_oracle),
        cmocka_unit_test(test_sma_exact_random),
        cmocka_unit_test(test_sma_no_drift_simple),
        cmocka_unit_test(test_cross_rules),
        cmocka_unit_test(test_extreme_brute),
        cmocka_unit_test(test_nonfinite_rejected),
        cmocka_unit_test(test_rsi_flat_is_50),
        cmocka_unit_test(test_sma_memo_same_bits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
