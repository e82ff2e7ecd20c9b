/* Fast round-trip double -> text for the per-candle ledger rows.
 *
 * Why: pt_format_double costs 2-3 snprintf + strtod (~1.5-3 us here); a
 * portfolio.csv row has 6-8 numbers. Exact method, 128-bit integers only:
 * write v = f / 2^s (f the 53-bit significand). The decimal m / 10^k reads
 * back (strtod, round-to-nearest) as v iff it lies strictly inside v's
 * rounding interval: |m/10^k - f/2^s| < 2^-s / 2, i.e.
 * |m 2^(s+1) - 2 f 10^k| < 10^k (half that below a power of two, where the
 * lower gap halves). Dividing by 2^k (10^k = 2^k 5^k) keeps every product
 * below 2^120 for 1e-6 <= |v| < 1e15 (s <= 73, k <= 25). The smallest such
 * k with m = round(v 10^k) is the shortest fixed-point text. Anything else
 * (huge, tiny) falls back to pt_format_double. */
#include "pf_internal.h"

#include <math.h>
#include <string.h>

typedef unsigned __int128 u128;

/* "00" .. "99": two digits per division */
static const char digit_pairs[201] = "00010203040506070809101112131415161718192021222324"
                                     "25262728293031323334353637383940414243444546474849"
                                     "50515253545556575859606162636465666768697071727374"
                                     "75767778798081828384858687888990919293949596979899";

int pf_utoa_rev(char *end, uint64_t u)
{
    char *p = end;
    uint32_t v;
    while (u >= 100000000) { /* 8 digits at a time in 32-bit arithmetic */
        v = (uint32_t)(u % 100000000);
        u /= 100000000;
        /* two independent 4-digit halves, each two pairs (perf: shorter
         * dependency chains, 2-byte moves) */
        uint32_t hi = v / 10000, lo = v % 10000;
        p -= 8;
        memcpy(p, &digit_pairs[2 * (hi / 100)], 2);
        memcpy(p + 2, &digit_pairs[2 * (hi % 100)], 2);
        memcpy(p + 4, &digit_pairs[2 * (lo / 100)], 2);
        memcpy(p + 6, &digit_pairs[2 * (lo % 100)], 2);
    }
    v = (uint32_t)u;
    while (v >= 100) {
        const char *d = &digit_pairs[2 * (v % 100)];
        v /= 100;
        *--p = d[1];
        *--p = d[0];
    }
    if (v >= 10) {
        *--p = digit_pairs[2 * v + 1];
        *--p = digit_pairs[2 * v];
    } else {
        *--p = (char)('0' + v);
    }
    return (int)(end - p);
}

/* m / 10^k in fixed point, trailing fraction zeros dropped. At most 29
 * bytes with the NUL (sign, "0.", k <= 25 digits), always 32 written: the
 * pieces move by fixed-size copies within scratch buffers, which compile to
 * a few wide moves instead of libc calls (perf); callers have cap >= 32. */
static int emit(char *buf, int neg, uint64_t u, int k)
{
    while (k > 0 && u % 10 == 0) {
        u /= 10;
        k--;
    }
    char dig[48]; /* digits end at dig + 24; 24-byte reads stay inside */
    int nd = pf_utoa_rev(dig + 24, u);
    const char *d = dig + 24 - nd;
    char out[64];
    size_t o = 0;
    if (neg)
        out[o++] = '-';
    if (nd <= k) { /* 0.000ddd */
        out[o++] = '0';
        out[o++] = '.';
        memset(out + o, '0', 32); /* k - nd <= 25 */
        o += (size_t)(k - nd);
        memcpy(out + o, d, 24);
        o += (size_t)nd;
    } else {
        memcpy(out + o, d, 24);
        o += (size_t)(nd - k);
        if (k) {
            out[o++] = '.';
            memcpy(out + o, d + nd - k, 24);
            o += (size_t)k;
        }
    }
    out[o] = '\0';
    memcpy(buf, out, 32);
    return (int)o;
}

/* 5^k for k <= 26 (all below 2^64): a table, not a loop of 128-bit
 * multiplies. */
static const uint64_t pow5_tab[27] = {
    1ULL, 5ULL, 25ULL,
    125ULL, 625ULL, 3125ULL,
    15625ULL, 78125ULL, 390625ULL,
    1953125ULL, 9765625ULL, 48828125ULL,
    244140625ULL, 1220703125ULL, 6103515625ULL,
    30517578125ULL, 152587890625ULL, 762939453125ULL,
    3814697265625ULL, 19073486328125ULL, 95367431640625ULL,
    476837158203125ULL, 2384185791015625ULL, 11920928955078125ULL,
    59604644775390625ULL, 298023223876953125ULL, 1490116119384765625ULL,
};

/* Does m = round(a 10^k) read back as a? 1 yes (m set), 0 no, 2 m too large.
 * a = f / 2^s. */
static int probe(uint64_t f, int s, int k, uint64_t *mout)
{
    u128 p5 = pow5_tab[k];
    u128 x = (u128)f * p5; /* a * 10^k = x * 2^(k-s) */
    u128 m = k >= s ? x << (k - s) : (x + ((u128)1 << (s - k - 1))) >> (s - k);
    if (m >> 59)
        return 2;
    u128 lhs, rhs, tol;
    if (k <= s + 1) { /* |m 2^(s+1-k) - 2 x| < 5^k */
        lhs = m << (s + 1 - k);
        rhs = x << 1;
        tol = p5;
    } else { /* |m - 2 x 2^(k-s-1)| < 5^k 2^(k-s-1) */
        lhs = m;
        rhs = x << (k - s);
        tol = p5 << (k - s - 1);
    }
    u128 diff = lhs > rhs ? lhs - rhs : rhs - lhs;
    if (f == (1ULL << 52))
        diff <<= 1; /* the gap below a power of two is half as wide */
    *mout = (uint64_t)m;
    return m != 0 && diff < tol;
}

/* Shortest fixed form for 1e-6 <= a < 1e15, or -1. "passes" is monotone in
 * k (a finer grid has a nearer point), and so is "m too large", so the
 * smallest k that is either is unique: any search finds the same k.
 * Most ledger values need 16 or 17 significant digits, so probe first at
 * the k giving ~16 digits and its neighbour (2 probes instead of 6); where
 * that does not settle it, bisect below or redo the plain search. */
static int exact128(double a, char *buf, int neg)
{
    /* a = f / 2^s straight from the bits (a is normal here: >= 1e-6) */
    uint64_t bits;
    memcpy(&bits, &a, sizeof bits);
    uint64_t f = (bits & ((1ULL << 52) - 1)) | (1ULL << 52);
    int s = 1075 - (int)((bits >> 52) & 0x7ff);
    if (s < 1 || s > 73)
        return -1;
    /* a in [2^e2, 2^(e2+1)): floor(e2 log10 2) is floor(log10 a) or one less,
     * so g gives 16 or 17 digits, a 10^g < 1e17 (no overflow in probe) */
    int e2 = 52 - s;
    int g = 15 - (e2 >= 0 ? e2 * 1233 >> 12 : -((-e2 * 1233 + 4095) >> 12));
    g = g < 0 ? 0 : g > 24 ? 24 : g;
    uint64_t m, mm;
    int lo, hi, p_hi;
    int p = probe(f, s, g, &m);
    if (!p) {
        /* m < 2^59 at g: probing g + 1 is safe; 17 digits always pass */
        if ((p = probe(f, s, g + 1, &m)) == 0) {
            lo = 0; /* not expected: the plain search of [0, 26) */
            hi = 26;
            p_hi = 0;
        } else {
            lo = hi = g + 1;
            p_hi = p;
        }
    } else { /* the answer is g or below: [0, g), first g - 1 and g - 2 (15 digits) */
        lo = 0;
        hi = g;
        p_hi = p;
    }
    int steps = hi == 26 ? 2 : 0;
    int mid = steps ? (lo + hi) / 2 : hi - 1;
    while (lo < hi) {
        if ((p = probe(f, s, mid, &mm)) != 0) {
            hi = mid;
            p_hi = p;
            m = mm;
        } else {
            lo = mid + 1;
        }
        mid = ++steps < 2 ? hi - 1 : (lo + hi) / 2;
    }
    if (lo > 25 || p_hi != 1)
        return -1;
    return emit(buf, neg, m, lo);
}

/* Ledger rows repeat values row after row (cash while in a position, equity
 * while flat), and the tiny leftovers (cash 1e-12 after an all-in buy) take
 * pt_format_double's 3 snprintf + 2 strtod (~10k instructions). Small
 * direct-mapped memos of this pure function: one for the fast path, one of
 * its own for the slow fallback so that the per-row values cannot evict the
 * costly entries. Per thread, so concurrent callers stay safe; bounded, never
 * freed, same bytes out. */
typedef struct memo_entry {
    uint64_t bits;
    int n; /* 0: empty */
    char text[32];
} memo_entry;
static _Thread_local memo_entry memo_fast[16], memo_slow[4];

static int memo_get(const memo_entry *e, uint64_t bits, char *buf)
{
    if (!e->n || e->bits != bits)
        return 0;
    memcpy(buf, e->text, sizeof e->text); /* fixed size: inlined; cap >= 32 */
    return e->n;
}

static int memo_put(memo_entry *e, uint64_t bits, const char *buf, int n)
{
    if (n > 0 && n < (int)sizeof e->text) {
        e->bits = bits;
        e->n = n;
        memcpy(e->text, buf, sizeof e->text); /* fixed size: inlined; cap >= 32 */
    }
    return n;
}

int pf_format_double(double v, char *buf, size_t cap)
{
    if (cap < 32)
        return pt_format_double(v, buf, cap);
    if (v == 0) { /* flat positions: a third of the ledger's numbers */
        buf[0] = '0'; /* what pt_format_double writes for 0 and -0 */
        buf[1] = '\0';
        return 1;
    }
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    uint64_t h = bits * 0x9E3779B97F4A7C15ULL; /* Fibonacci hashing: top bits */
    int n;
    double a = fabs(v);
    if (isfinite(v) && a < 1e15 && a >= 1e-6) {
        memo_entry *e = &memo_fast[h >> 60];
        if ((n = memo_get(e, bits, buf)) > 0)
            return n;
        if ((n = exact128(a, buf, v < 0)) > 0)
            return memo_put(e, bits, buf, n);
    }
    memo_entry *e = &memo_slow[h >> 62];
    if ((n = memo_get(e, bits, buf)) > 0)
        return n;
    return memo_put(e, bits, buf, pt_format_double(v, buf, cap));
}
