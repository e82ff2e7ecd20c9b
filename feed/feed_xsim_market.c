/* feed: the exchange simulator's pure parts -- the seeded synthetic market
 * and the fault-spec parser. No I/O, no state: unit-tested directly
 * (tests/unit/test_xsim.c).
 *
 * Market model: log price = log base + sum of 10 octaves of hash-based
 * value noise (piecewise linear between knots 4^o sub-steps apart, the
 * amplitude growing with sqrt(scale) like a random walk). Being a pure
 * function of (seed, symbol, time), any candle can be computed on its own,
 * so REST history and the live stream agree without storing anything. */
#include "feed_xsim.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define SUB 4      /* path knots per candle at the finest octave */
#define OCTAVES 10 /* coarsest scale 4^9 sub-steps (~45 days of 1m bars) */

static const char *const fault_names[] = {
#define FEED_XSIM_F_NAME_(name, key) key,
    FEED_XSIM_FAULT_MAP(FEED_XSIM_F_NAME_)
#undef FEED_XSIM_F_NAME_
};

const char *feed_xsim_fault_name(feed_xsim_fault f)
{
    return (unsigned)f < FEED_XSIM_F__COUNT ? fault_names[f] : "unknown";
}

/* ------------------------------------------------------------------ hash */
static uint64_t mix64(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint64_t feed_xsim_hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; s && *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

double feed_xsim_u01(uint64_t seed, uint64_t a, uint64_t b, uint64_t c)
{
    uint64_t h = mix64(mix64(mix64(seed ^ 0x5eed) ^ a) ^ b) ^ c;
    return (double)(mix64(h) >> 11) * (1.0 / 9007199254740992.0);
}

/* ---------------------------------------------------------------- market */
typedef struct sym_params {
    uint64_t key;
    double base, tick, vol_base, amp0;
} sym_params;

static void sym_setup(uint64_t seed, const char *symbol, int64_t interval_ms, sym_params *sp)
{
    static const struct {
        const char *prefix;
        double price;
    } known[] = {{"BTC", 40000}, {"ETH", 2200}, {"BNB", 300}, {"SOL", 100}, {"XRP", 0.6}, {"ADA", 0.45},
                 {"DOGE", 0.08}};
    sp->key = feed_xsim_hash_str(symbol);
    sp->base = 0;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (!strncmp(symbol, known[i].prefix, strlen(known[i].prefix)))
            sp->base = known[i].price;
    if (sp->base <= 0) /* 0.1 .. 1000, fixed per seed+symbol */
        sp->base = pow(10.0, -1.0 + 4.0 * feed_xsim_u01(seed, sp->key, 1, 0));
    /* about 6 significant digits, like an exchange's tick size */
    sp->tick = pow(10.0, floor(log10(sp->base)) - 5);
    if (sp->tick < 1e-8)
        sp->tick = 1e-8;
    sp->vol_base = 2.0e5 / sp->base; /* ~200k quote units per 1m bar */
    /* ~0.1 % std per 1m candle, scaling with sqrt(interval) */
    sp->amp0 = 0.0005 * sqrt((double)interval_ms / 60000.0);
}

/* log(price / base) at time t (ms); piecewise linear between unit knots */
static double log_path(uint64_t seed, const sym_params *sp, double unit_ms, int64_t t)
{
    double x = (double)t / unit_ms, sum = 0, scale = 1, amp = sp->amp0;
    for (int o = 0; o < OCTAVES; o++) {
        double k = floor(x / scale), fr = x / scale - k;
        double a = 2 * feed_xsim_u01(seed, sp->key, (uint64_t)o, (uint64_t)(int64_t)k) - 1;
        double b = 2 * feed_xsim_u01(seed, sp->key, (uint64_t)o, (uint64_t)(int64_t)(k + 1)) - 1;
        sum += amp * (a + (b - a) * fr);
        scale *= SUB;
        amp *= 2; /* sqrt(4) */
    }
    return sum;
}

static double round_to(double v, double tick)
{
    double r = floor(v / tick + 0.5) * tick;
    return r < tick ? tick : r;
}

static double round8(double v)
{
    return floor(v * 1e8 + 0.5) / 1e8;
}

void feed_xsim_synth_bar(uint64_t seed, const char *symbol, int64_t ts_ms, int64_t interval_ms, double frac,
                         feed_xsim_bar *out)
{
    sym_params sp;
    if (interval_ms < SUB)
        interval_ms = SUB;
    sym_setup(seed, symbol, interval_ms, &sp);
    if (!(frac >= 0))
        frac = 0;
    if (frac > 1)
        frac = 1;
    double unit = (double)interval_ms / SUB;
    double lo = 0, hi = 0, first = 0, last = 0;
    /* knots up to frac, plus the point at frac itself; the path is linear
     * between knots (and exp is monotone), so partial extremes stay inside
     * the final bar's */
    for (int j = 0; j <= SUB; j++) {
        double f = (double)j / SUB;
        if (f > frac)
            f = frac;
        double lp = log_path(seed, &sp, unit, ts_ms + (int64_t)llround(f * (double)interval_ms));
        if (j == 0)
            first = lo = hi = lp;
        lo = lp < lo ? lp : lo;
        hi = lp > hi ? lp : hi;
        last = lp;
        if (f >= frac)
            break;
    }
    double wu = sp.amp0 * 0.8 * feed_xsim_u01(seed, sp.key, 101, (uint64_t)ts_ms);
    double wd = sp.amp0 * 0.8 * feed_xsim_u01(seed, sp.key, 102, (uint64_t)ts_ms);
    memset(out, 0, sizeof *out);
    out->ts_ms = ts_ms;
    out->o = round_to(sp.base * exp(first), sp.tick);
    out->c = round_to(sp.base * exp(last), sp.tick);
    out->h = round_to(sp.base * exp(hi + wu * frac), sp.tick);
    out->l = round_to(sp.base * exp(lo - wd * frac), sp.tick);
    /* rounding is monotone, so these only guard exotic ties */
    if (out->h < out->o || out->h < out->c)
        out->h = out->o > out->c ? out->o : out->c;
    if (out->l > out->o || out->l > out->c)
        out->l = out->o < out->c ? out->o : out->c;

    /* volume: lognormal-ish activity, busier when the price moves */
    double g = feed_xsim_u01(seed, sp.key, 103, (uint64_t)ts_ms) + feed_xsim_u01(seed, sp.key, 104, (uint64_t)ts_ms) +
               feed_xsim_u01(seed, sp.key, 105, (uint64_t)ts_ms) - 1.5;
    double full_log_ret = log_path(seed, &sp, unit, ts_ms + interval_ms) - first;
    double vfull = sp.vol_base * sqrt((double)interval_ms / 60000.0) * exp(0.9 * g) *
                   (1 + 200 * fabs(full_log_ret));
    int64_t max_trades = interval_ms / 60 - 1; /* keeps trade ids of bars apart */
    if (max_trades < 1)
        max_trades = 1;
    int64_t nfull = 1 + (int64_t)(vfull * sp.base / 2000.0);
    if (nfull > max_trades)
        nfull = max_trades;
    out->v = round8(vfull * frac);
    out->n = (int64_t)floor((double)nfull * frac);
    double vwap = (out->o + out->h + out->l + out->c) / 4;
    double taker = 0.3 + 0.4 * feed_xsim_u01(seed, sp.key, 106, (uint64_t)ts_ms);
    out->q = round8(out->v * vwap);
    out->tv = round8(out->v * taker);
    out->tq = round8(out->q * taker);
    if (out->n > 0) {
        out->first_id = ts_ms / 60;
        out->last_id = out->first_id + out->n - 1;
    } else {
        out->first_id = out->last_id = -1;
    }
}

void feed_xsim_partial(const feed_xsim_bar *fin, double frac, feed_xsim_bar *out)
{
    if (!(frac >= 0))
        frac = 0;
    if (frac > 1)
        frac = 1;
    *out = *fin;
    if (frac >= 1)
        return;
    out->c = fin->o + (fin->c - fin->o) * frac;
    out->h = out->o > out->c ? out->o : out->c;
    out->l = out->o < out->c ? out->o : out->c;
    out->v = fin->v * frac;
    out->q = fin->q * frac;
    out->tv = fin->tv * frac;
    out->tq = fin->tq * frac;
    out->n = (int64_t)floor((double)fin->n * frac);
    if (fin->first_id >= 0 && out->n > 0) {
        out->last_id = out->first_id + out->n - 1;
    } else {
        out->first_id = out->last_id = -1;
    }
}

/* ---------------------------------------------------------------- faults */
static int parse_duration(const char *s, size_t len, int64_t *ms)
{
    static const struct {
        const char *suf;
        double mul;
    } units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}};
    double mul = 1000, v;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        size_t n = strlen(units[i].suf);
        if (len > n && !memcmp(s + len - n, units[i].suf, n) && (s[len - n - 1] >= '0' && s[len - n - 1] <= '9')) {
            mul = units[i].mul;
            len -= n;
            break;
        }
    }
    if (pt_parse_decimal(s, len, &v, NULL) || v <= 0 || v * mul > 86400000.0 * 7)
        return PT_EINVAL;
    *ms = (int64_t)llround(v * mul);
    return *ms > 0 ? PT_OK : PT_EINVAL;
}

int feed_xsim_faults_parse(const char *spec, feed_xsim_faults *out, char *why, size_t cap)
{
    memset(out, 0, sizeof *out);
    out->retry_after_s = 1;
    out->stall_every_ms = 60000;
    if (why && cap)
        why[0] = 0;
    const char *p = spec;
    while (p && *p) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        const char *eq = memchr(p, '=', n);
        if (!eq || eq == p || eq + 1 == p + n) {
            snprintf(why, cap, "'%.*s' is not key=value", (int)(n > 40 ? 40 : n), p);
            return PT_EINVAL;
        }
        size_t kl = (size_t)(eq - p), vl = n - kl - 1;
        const char *v = eq + 1;
        int f = -1;
        for (int i = 0; i < FEED_XSIM_F__COUNT; i++)
            if (strlen(fault_names[i]) == kl && !memcmp(fault_names[i], p, kl))
                f = i;
        int rc = PT_OK;
        if (kl == 5 && !memcmp(p, "retry", 5)) {
            int64_t ms;
            rc = parse_duration(v, vl, &ms);
            out->retry_after_s = (ms + 999) / 1000;
        } else if (kl == 5 && !memcmp(p, "until", 5)) {
            rc = parse_duration(v, vl, &out->until_ms);
        } else if (f == FEED_XSIM_F_DROP || f == FEED_XSIM_F_SHUTDOWN) {
            rc = parse_duration(v, vl, f == FEED_XSIM_F_DROP ? &out->drop_ms : &out->shutdown_ms);
        } else if (f == FEED_XSIM_F_STALL) {
            const char *at = memchr(v, '@', vl);
            rc = parse_duration(v, at ? (size_t)(at - v) : vl, &out->stall_ms);
            if (!rc && at)
                rc = parse_duration(at + 1, vl - (size_t)(at - v) - 1, &out->stall_every_ms);
        } else if (f >= 0) {
            double d;
            rc = pt_parse_decimal(v, vl, &d, NULL) || d < 0 || d > 1 ? PT_EINVAL : PT_OK;
            if (!rc)
                out->p[f] = d;
        } else {
            snprintf(why, cap, "unknown fault '%.*s'", (int)(kl > 20 ? 20 : kl), p);
            return PT_EINVAL;
        }
        if (rc) {
            snprintf(why, cap, "bad value '%.*s' for %.*s (%s)", (int)(vl > 20 ? 20 : vl), v, (int)kl, p,
                     f == FEED_XSIM_F_DROP || f == FEED_XSIM_F_STALL || f == FEED_XSIM_F_SHUTDOWN || f < 0
                         ? "a duration like 30s, 500ms, 2m"
                         : "a probability 0..1");
            return PT_EINVAL;
        }
        p = end ? end + 1 : NULL;
    }
    return PT_OK;
}
