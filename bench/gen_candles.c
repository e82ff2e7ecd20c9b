/* gen_candles: deterministic candle CSV generator for benchmarks and
 * stress tests. Same arguments -> same bytes (fixed PRNG, no libm, no
 * clock), so figures from different machines compare.
 *
 *   gen_candles --rows N [--seed S] [--interval 1m] [--start MS]
 *               [--faults RATE] -o FILE|-
 *
 * Prices: multiplicative random walk (about 0.1% per 1m bar, scaled by
 * sqrt(interval)), 4 decimals; high/low extend past open/close by a
 * random wick; ~1% flat bars. Volume: heavy-tailed, ~1% bursts of 20x.
 * Header `timestamp,open,high,low,close,volume`, epoch-ms open times,
 * the layout of ../shared/data.
 *
 * --faults RATE (0..1): each row, with that probability, gets one fault:
 * a bad number ("12abc"/"nan"/empty in a price field), an OHLC
 * inconsistency (high below the body), a duplicate (row written twice),
 * or a gap (1..5 bars skipped). The counts go to stderr.
 *
 * Writes through one fixed 1 MiB buffer: constant memory at any N. */
#include "pt_core.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GEN_BUF (1u << 20)
#define PX_SCALE 10000 /* 4 decimals */

typedef struct gen_rng {
    uint64_t s;
} gen_rng;

/* splitmix64: tiny, good enough for synthetic prices, fully determined by the seed */
static uint64_t rng_next(gen_rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double rng_unit(gen_rng *r) { return (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0); }

/* approximately N(0,1): Irwin-Hall with 12 uniforms (no libm needed) */
static double rng_normal(gen_rng *r)
{
    double s = 0;
    for (int i = 0; i < 12; i++)
        s += rng_unit(r);
    return s - 6.0;
}

typedef struct gen_out {
    FILE *f;
    char *buf;
    size_t len;
    int failed;
} gen_out;

static void out_flush(gen_out *o)
{
    if (o->len && fwrite(o->buf, 1, o->len, o->f) != o->len)
        o->failed = 1;
    o->len = 0;
}

static void out_str(gen_out *o, const char *s, size_t n)
{
    if (o->len + n > GEN_BUF)
        out_flush(o);
    memcpy(o->buf + o->len, s, n);
    o->len += n;
}

static void out_u64(gen_out *o, uint64_t v)
{
    char t[24];
    int n = 0;
    do {
        t[sizeof t - 1 - n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    out_str(o, t + sizeof t - n, (size_t)n);
}

/* fixed point with 4 decimals, trailing zeros trimmed ("101.5", "3") */
static void out_fixed(gen_out *o, int64_t v)
{
    if (v < 0) {
        out_str(o, "-", 1);
        v = -v;
    }
    out_u64(o, (uint64_t)(v / PX_SCALE));
    int frac = (int)(v % PX_SCALE);
    if (!frac)
        return;
    char t[6] = {'.'};
    int n = 1;
    for (int d = PX_SCALE / 10; d && frac; d /= 10) {
        t[n++] = (char)('0' + frac / d);
        frac %= d;
    }
    out_str(o, t, (size_t)n);
}

typedef struct gen_args {
    int64_t rows, interval_ms, start_ms;
    uint64_t seed;
    double faults;
    const char *out;
} gen_args;

enum { F_BAD_NUMBER, F_OHLC, F_DUPLICATE, F_GAP, F__COUNT };
static const char *const fault_names[F__COUNT] = {"bad_number", "ohlc_inconsistent", "duplicate",
                                                  "gap"};

static void usage(FILE *f)
{
    fprintf(f, "usage: gen_candles --rows N [--seed S] [--interval 1m] [--start MS] [--faults RATE] "
               "-o FILE|-\n");
}

static int parse_args(int argc, char **argv, gen_args *a)
{
    static const struct option lo[] = {
        {"rows", required_argument, NULL, 'n'},   {"seed", required_argument, NULL, 's'},
        {"interval", required_argument, NULL, 'i'}, {"start", required_argument, NULL, 't'},
        {"faults", required_argument, NULL, 'f'}, {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    int64_t v;
    for (int c; (c = getopt_long(argc, argv, "o:h", lo, NULL)) != -1;) {
        size_t len = optarg ? strlen(optarg) : 0;
        switch (c) {
        case 'n':
            if (pt_parse_int64(optarg, len, &a->rows, NULL) || a->rows < 1)
                goto bad;
            break;
        case 's':
            if (pt_parse_int64(optarg, len, &v, NULL) || v < 0)
                goto bad;
            a->seed = (uint64_t)v;
            break;
        case 'i':
            if (pt_interval_parse(optarg, &a->interval_ms) || a->interval_ms <= 0)
                goto bad;
            break;
        case 't':
            if (pt_parse_int64(optarg, len, &a->start_ms, NULL) || a->start_ms < 0)
                goto bad;
            break;
        case 'f':
            if (pt_parse_decimal(optarg, len, &a->faults, NULL) || a->faults < 0 || a->faults > 1)
                goto bad;
            break;
        case 'o':
            a->out = optarg;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            goto usage;
        }
    }
    if (!a->rows || !a->out || optind != argc)
        goto usage;
    return 0;
bad:
    fprintf(stderr, "gen_candles: bad value '%s' for %s\n", optarg, argv[optind - 1]);
usage:
    usage(stderr);
    return 2;
}

int main(int argc, char **argv)
{
    gen_args a = {.interval_ms = 60000, .start_ms = 1700000000000, .seed = 42};
    int rc = parse_args(argc, argv, &a);
    if (rc)
        return rc;
    a.start_ms -= a.start_ms % a.interval_ms; /* aligned bars */

    gen_out o = {0};
    o.buf = malloc(GEN_BUF);
    o.f = strcmp(a.out, "-") ? fopen(a.out, "w") : stdout;
    if (!o.buf || !o.f) {
        fprintf(stderr, "gen_candles: cannot open %s\n", a.out);
        free(o.buf);
        return 1;
    }
    gen_rng r = {a.seed};
    /* per-bar volatility ~0.1% at 1m, sqrt-scaled: sigma^2 grows with time */
    double sigma = 0.001;
    for (int64_t k = 60000; k * 4 <= a.interval_ms; k *= 4)
        sigma *= 2;
    double px = 100.0;
    uint64_t nfault[F__COUNT] = {0};
    int64_t ts = a.start_ms;
    const char *hdr = "timestamp,open,high,low,close,volume\n";
    out_str(&o, hdr, strlen(hdr));

    for (int64_t i = 0; i < a.rows; i++, ts += a.interval_ms) {
        int fault = -1;
        if (a.faults > 0 && rng_unit(&r) < a.faults)
            fault = (int)(rng_next(&r) % F__COUNT);
        if (fault == F_GAP)
            ts += a.interval_ms * (int64_t)(1 + rng_next(&r) % 5);

        int64_t op = (int64_t)(px * PX_SCALE + 0.5), hi, lo, cl;
        int64_t vol;
        if (rng_unit(&r) < 0.01) { /* a flat bar: one trade or none */
            hi = lo = cl = op;
            vol = (int64_t)(rng_unit(&r) * 2 * PX_SCALE);
        } else {
            px *= 1.0 + sigma * rng_normal(&r);
            if (px < 0.01)
                px = 0.01;
            cl = (int64_t)(px * PX_SCALE + 0.5);
            int64_t body_hi = op > cl ? op : cl, body_lo = op < cl ? op : cl;
            double wick = px * sigma * PX_SCALE;
            hi = body_hi + (int64_t)(wick * rng_unit(&r) * 1.5);
            lo = body_lo - (int64_t)(wick * rng_unit(&r) * 1.5);
            if (lo < 1)
                lo = 1;
            double z = rng_normal(&r);
            double v = 50.0 * (1.0 + z * z * 3.0) * (rng_unit(&r) < 0.01 ? 20.0 : 1.0);
            vol = (int64_t)(v * PX_SCALE);
        }
        if (fault == F_OHLC)
            hi = (op < cl ? op : cl) - 1 - (int64_t)(rng_next(&r) % 100);

        int64_t f[5] = {op, hi, lo, cl, vol};
        int bad_field = fault == F_BAD_NUMBER ? (int)(rng_next(&r) % 4) : -1;
        static const char *const bad_text[3] = {"12abc", "nan", ""};
        const char *bad = bad_field >= 0 ? bad_text[rng_next(&r) % 3] : NULL;
        for (int copy = 0; copy < (fault == F_DUPLICATE ? 2 : 1); copy++) {
            out_u64(&o, (uint64_t)ts);
            for (int k = 0; k < 5; k++) {
                out_str(&o, ",", 1);
                if (k == bad_field)
                    out_str(&o, bad, strlen(bad));
                else
                    out_fixed(&o, f[k]);
            }
            out_str(&o, "\n", 1);
        }
        if (fault >= 0)
            nfault[fault]++;
    }
    out_flush(&o);
    int failed = o.failed || fflush(o.f) != 0;
    if (o.f != stdout && fclose(o.f) != 0)
        failed = 1;
    free(o.buf);
    if (failed) {
        fprintf(stderr, "gen_candles: write error on %s\n", a.out);
        return 1;
    }
    if (a.faults > 0) {
        fprintf(stderr, "gen_candles: %lld rows, faults:", (long long)a.rows);
        for (int k = 0; k < F__COUNT; k++)
            fprintf(stderr, " %s %llu", fault_names[k], (unsigned long long)nfault[k]);
        fprintf(stderr, "\n");
    }
    return 0;
}
