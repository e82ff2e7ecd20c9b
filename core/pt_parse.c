/* Strict number parsing and round-trip formatting.
 *
 * Why not plain strtod: it accepts "nan", "inf", "0x1p3", " 12", "+5" and
 * the "12" of "12abc" (strtod(3)), all wrong for candle data. We check the
 * grammar first, then convert. The fast path (Clinger 1990): a decimal with
 * at most 15 significant digits and a power-of-ten scale of at most 22 is
 * exactly m / 10^k or m * 10^k in one correctly rounded IEEE operation, so it
 * gives the same double as strtod; up to 19 plain digits take one exact
 * 128-bit division (exact_div_pow10); anything else goes to strtod. */
#include "pt_core.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const double pow10_exact[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                     1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                     1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* 5^k exactly (k <= 27: below 2^63), for the exact conversions below. */
typedef unsigned __int128 fmt_u128;

static const uint64_t pow5_u64[28] = {
    1ULL, 5ULL, 25ULL, 125ULL, 625ULL, 3125ULL, 15625ULL, 78125ULL, 390625ULL, 1953125ULL,
    9765625ULL, 48828125ULL, 244140625ULL, 1220703125ULL, 6103515625ULL, 30517578125ULL,
    152587890625ULL, 762939453125ULL, 3814697265625ULL, 19073486328125ULL, 95367431640625ULL,
    476837158203125ULL, 2384185791015625ULL, 11920928955078125ULL, 59604644775390625ULL,
    298023223876953125ULL, 1490116119384765625ULL, 7450580596923828125ULL,
};

/* w / 10^k correctly rounded to nearest, ties to even (what glibc strtod
 * returns), for 1 <= w < 2^64 and k <= 27 (a normal result): one 128-by-64
 * bit division gives >= 65 quotient bits, the remainder is the sticky bit.
 * Not inlined: it would cost the short prices' path a bigger prologue. */
static __attribute__((noinline)) double exact_div_pow10(uint64_t w, int k)
{
    int lz = __builtin_clzll(w);
    fmt_u128 n = (fmt_u128)w << (64 + lz); /* w 2^(64+lz), top bit 127 */
    uint64_t d = pow5_u64[k];
    fmt_u128 q = n / d;
    int sticky = n - q * d != 0;
    uint64_t qh = (uint64_t)(q >> 64);
    int shift = 64 + (64 - __builtin_clzll(qh)) - 53; /* keep 53 bits; qh >= 1 */
    uint64_t m = (uint64_t)(q >> shift);
    fmt_u128 rem = q & (((fmt_u128)1 << shift) - 1), half = (fmt_u128)1 << (shift - 1);
    m += rem > half || (rem == half && (sticky || (m & 1)));
    if (m == (1ULL << 53)) {
        m >>= 1;
        shift++;
    }
    /* value = m 2^(shift - 64 - lz - k), m in [2^52, 2^53) */
    uint64_t bits = ((uint64_t)(shift - 64 - lz - k + 1075) << 52) | (m - (1ULL << 52));
    double v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

static int set_why(const char **why, const char *text, int rc)
{
    if (why)
        *why = text;
    return rc;
}

/* The full grammar and conversion; pt_parse_decimal hands it everything its
 * fast path does not settle. */
static int parse_decimal_full(const char *s, size_t len, double *out, const char **why)
{
    if (len == 0)
        return set_why(why, "empty", PT_EPARSE);
    if (len > 64)
        return set_why(why, "too long for a number", PT_EPARSE);
    size_t i = 0;
    int neg = 0;
    if (s[0] == '-') {
        neg = 1;
        i = 1;
    }
    uint64_t mant = 0;
    int sig = 0;       /* significant digits taken into mant */
    int dropped = 0;   /* digits beyond what mant holds exactly */
    int frac_digits = 0;
    int int_digits = 0, dec_digits = 0;
    for (; i < len && s[i] >= '0' && s[i] <= '9'; i++, int_digits++) {
        if (sig < 19) {
            mant = mant * 10 + (uint64_t)(s[i] - '0');
            if (mant)
                sig++;
        } else {
            dropped++;
        }
    }
    if (i < len && s[i] == '.') {
        i++;
        for (; i < len && s[i] >= '0' && s[i] <= '9'; i++, dec_digits++) {
            if (sig < 19) {
                mant = mant * 10 + (uint64_t)(s[i] - '0');
                if (mant)
                    sig++;
                frac_digits++;
            } else {
                dropped++;
            }
        }
    }
    if (int_digits + dec_digits == 0)
        return set_why(why, "not a number", PT_EPARSE);
    long exp10 = 0;
    int has_exp = 0;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        has_exp = 1;
        i++;
        int eneg = 0;
        if (i < len && (s[i] == '+' || s[i] == '-')) {
            eneg = s[i] == '-';
            i++;
        }
        size_t estart = i;
        for (; i < len && s[i] >= '0' && s[i] <= '9'; i++)
            if (exp10 < 100000)
                exp10 = exp10 * 10 + (s[i] - '0');
        if (i == estart)
            return set_why(why, "not a number", PT_EPARSE);
        if (eneg)
            exp10 = -exp10;
    }
    if (i != len)
        return set_why(why, "not a number", PT_EPARSE);

    /* fast path: exact mantissa (no dropped digits), <= 2^53, small scale */
    long scale = exp10 - frac_digits;
    if (!dropped && mant <= (1ULL << 53) && scale >= -22 && scale <= 22) {
        double v = (double)mant;
        v = scale < 0 ? v / pow10_exact[-scale] : v * pow10_exact[scale];
        *out = neg ? -v : v;
        return PT_OK;
    }
    (void)has_exp;
    char buf[80];
    memcpy(buf, s, len);
    buf[len] = '\0';
    errno = 0;
    char *end = NULL;
    double v = strtod(buf, &end);
    if (end != buf + len)
        return set_why(why, "not a number", PT_EPARSE);
    if (errno == ERANGE || !isfinite(v))
        return set_why(why, "out of range", PT_ERANGE);
    *out = v;
    return PT_OK;
}

static int parse_int64_full(const char *s, size_t len, int64_t *out, const char **why)
{
    if (len == 0)
        return set_why(why, "empty", PT_EPARSE);
    size_t i = 0;
    int neg = 0;
    if (s[0] == '-') {
        neg = 1;
        i = 1;
    }
    if (i == len)
        return set_why(why, "not an integer", PT_EPARSE);
    uint64_t v = 0;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return set_why(why, "not an integer", PT_EPARSE);
        uint64_t d = (uint64_t)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return set_why(why, "out of range", PT_ERANGE);
        v = v * 10 + d;
    }
    if (!neg && v > (uint64_t)INT64_MAX)
        return set_why(why, "out of range", PT_ERANGE);
    if (neg && v > (uint64_t)INT64_MAX + 1)
        return set_why(why, "out of range", PT_ERANGE);
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return PT_OK;
}

/* Fast path for the common plain form -?digits[.digits] with at most 19
 * digits in all: then no digit is dropped, mant holds them all exactly and
 * the scale is minus the fraction digits, so where parse_decimal_full would
 * take its exact branch this computes the very same operation, and where it
 * would call strtod (a mantissa above 2^53: the 16-17 digit numbers of our
 * own CSV outputs, read back by the report) exact_div_pow10 gives strtod's
 * correctly rounded result. Everything else (exponent, more digits, any bad
 * byte) goes to parse_decimal_full, so accept/reject and the reason are
 * unchanged. */
int pt_parse_decimal(const char *s, size_t len, double *out, const char **why)
{
    if (len == 0 || len > 21)
        return parse_decimal_full(s, len, out, why);
    const unsigned char *p = (const unsigned char *)s, *end = p + len, *dot = NULL;
    int neg = *p == '-';
    p += neg;
    uint64_t mant = 0; /* may wrap past 19 digits: then unused */
    unsigned d;
    /* digits, then after one '.' digits: two tight loops rather than one
     * testing for the dot on every byte (4-byte SWAR measured slower on
     * prices this short) */
    for (; p < end && (d = (unsigned)*p - '0') < 10; p++)
        mant = mant * 10 + d;
    if (p < end) {
        if (*p != '.')
            return parse_decimal_full(s, len, out, why);
        dot = p++;
        for (; p < end && (d = (unsigned)*p - '0') < 10; p++)
            mant = mant * 10 + d;
        if (p < end)
            return parse_decimal_full(s, len, out, why);
    }
    size_t digits = len - (size_t)neg - (dot != NULL);
    size_t frac = dot ? (size_t)(end - dot - 1) : 0;
    if (digits == 0 || digits > 19 || frac > 22)
        return parse_decimal_full(s, len, out, why);
    double v;
    if (mant > (1ULL << 53)) {
        v = exact_div_pow10(mant, (int)frac);
    } else {
        v = (double)mant;
        if (frac)
            v /= pow10_exact[frac];
    }
    *out = neg ? -v : v;
    return PT_OK;
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/* Eight ASCII digits at once (SWAR, as in fast_float's
 * parse_eight_digits_unrolled): 1 and the value if all 8 bytes are '0'..'9'. */
static int eight_digits(const char *s, uint64_t *v)
{
    uint64_t c;
    memcpy(&c, s, 8);
    if ((((c & 0xF0F0F0F0F0F0F0F0ULL) | (((c + 0x0606060606060606ULL) & 0xF0F0F0F0F0F0F0F0ULL) >> 4))) !=
        0x3333333333333333ULL)
        return 0;
    c -= 0x3030303030303030ULL;
    c = c * 10 + (c >> 8);
    c = (((c & 0x000000FF000000FFULL) * 0x000F424000000064ULL) +
         (((c >> 16) & 0x000000FF000000FFULL) * 0x0000271000000001ULL)) >> 32;
    *v = (uint32_t)c;
    return 1;
}
#else
static int eight_digits(const char *s, uint64_t *v)
{
    (void)s;
    (void)v;
    return 0; /* the byte loop below does it */
}
#endif

/* Up to 18 digits cannot overflow: the common case (epoch milliseconds) skips
 * the per-digit bound check, and takes its first 8 digits in one step. */
int pt_parse_int64(const char *s, size_t len, int64_t *out, const char **why)
{
    if (len >= 1) {
        size_t i = s[0] == '-';
        if (i < len && len - i <= 18) {
            uint64_t v = 0;
            if (len - i >= 8 && eight_digits(s + i, &v))
                i += 8;
            for (; i < len; i++) {
                unsigned d = (unsigned)(unsigned char)s[i] - '0';
                if (d > 9)
                    return set_why(why, "not an integer", PT_EPARSE);
                v = v * 10 + d;
            }
            *out = s[0] == '-' ? (int64_t)(0 - v) : (int64_t)v;
            return PT_OK;
        }
    }
    return parse_int64_full(s, len, out, why);
}

/* Exact fast path of pt_format_double for 1e-4 <= |v| < 1e14, where "%.Pg"
 * (P = 15..17) always prints fixed-point: the text is D / 10^k with
 * k = P - 1 - floor(log10 |v|) and D = |v| 10^k rounded half to even (glibc
 * printf's rule in the default rounding mode), trailing zeros dropped. The
 * strtod round-trip test becomes an exact interval test. With |v| = f / 2^s
 * (6 <= s <= 66) and k <= 22 every product fits 128 bits. Why: report.html
 * formats ~0.6 numbers a candle at ~5,600 instructions each through
 * snprintf + strtod (perf4: the largest item left in `backtest` in core).
 * Proven byte-identical by a differential run over >100M values. */

/* floor(f / 2^s 10^k) (k >= 0); *x = f 5^k, so that the value is x 2^(k-s) */
static fmt_u128 scaled_floor(uint64_t f, int s, int k, fmt_u128 *x)
{
    *x = (fmt_u128)f * pow5_u64[k];
    return k >= s ? *x << (k - s) : *x >> (s - k);
}

/* D = f / 2^s 10^k rounded half to even */
static uint64_t scaled_round(uint64_t f, int s, int k, fmt_u128 *x)
{
    fmt_u128 q = scaled_floor(f, s, k, x);
    if (k < s) {
        fmt_u128 rem = *x - (q << (s - k)), half = (fmt_u128)1 << (s - k - 1);
        q += rem > half || (rem == half && (q & 1));
    }
    return (uint64_t)q;
}

/* Does strtod (round to nearest, ties to even) read D / 10^k back as f / 2^s?
 * |D / 10^k - f / 2^s| against half the gap to the neighbour on that side
 * (the gap below a power of two is half as wide); times 10^k 2^(s+1) / 2^k. */
static int reads_back(uint64_t f, int s, int k, uint64_t D, fmt_u128 x)
{
    fmt_u128 lhs, rhs, tol;
    if (k <= s + 1) {
        lhs = (fmt_u128)D << (s + 1 - k);
        rhs = x << 1;
        tol = pow5_u64[k];
    } else {
        lhs = D;
        rhs = x << (k - s);
        tol = (fmt_u128)pow5_u64[k] << (k - s - 1);
    }
    int below = lhs < rhs;
    fmt_u128 diff = below ? rhs - lhs : lhs - rhs;
    if (below && f == (1ULL << 52))
        diff <<= 1;
    return diff < tol || (diff == tol && !(f & 1)); /* a tie goes to even */
}

/* D / 10^k in fixed point without trailing fraction zeros (what %g does);
 * D < 10^18, k <= 20: at most 24 bytes with the NUL. */
static int emit_fixed(char *buf, int neg, uint64_t D, int k)
{
    while (k > 0 && D % 10 == 0) {
        D /= 10;
        k--;
    }
    char tmp[24], *e = tmp + sizeof tmp, *p = e;
    do {
        *--p = (char)('0' + D % 10);
        D /= 10;
    } while (D);
    int nd = (int)(e - p);
    char *o = buf;
    if (neg)
        *o++ = '-';
    if (nd <= k) {
        *o++ = '0';
        *o++ = '.';
        memset(o, '0', (size_t)(k - nd));
        o += k - nd;
        memcpy(o, p, (size_t)nd);
        o += nd;
    } else {
        memcpy(o, p, (size_t)(nd - k));
        o += nd - k;
        if (k) {
            *o++ = '.';
            memcpy(o, p + nd - k, (size_t)k);
            o += k;
        }
    }
    *o = '\0';
    return (int)(o - buf);
}

/* The bytes of the snprintf/strtod loop below for 1e-4 <= |v| < 1e14, or -1.
 * buf has room for 32. */
static int format_fixed_fast(double v, char *buf)
{
    double a = fabs(v);
    if (!(a >= 1e-4 && a < 1e14))
        return -1;
    uint64_t bits;
    memcpy(&bits, &a, sizeof bits);
    uint64_t f = (bits & ((1ULL << 52) - 1)) | (1ULL << 52);
    int s = 1075 - (int)(bits >> 52); /* a = f / 2^s, 6 <= s <= 66 */
    /* X = floor(log10 a): start from floor(e2 log10 2) (X or X - 1 for
     * a in [2^e2, 2^(e2+1))) and settle it exactly: 10^16 <= a 10^(16-X) < 10^17 */
    int e2 = 52 - s;
    int X = e2 >= 0 ? (e2 * 1233) >> 12 : -((-e2 * 1233 + 4095) >> 12);
    fmt_u128 x;
    for (int tries = 0;; tries++) {
        if (tries > 3 || X < -6 || X > 13)
            return -1; /* not expected */
        fmt_u128 q = scaled_floor(f, s, 16 - X, &x);
        if (q >= (fmt_u128)100000000000000000ULL)
            X++;
        else if (q < (fmt_u128)10000000000000000ULL)
            X--;
        else
            break;
    }
    if (X < -4)
        return -1; /* not expected: a >= 1e-4 */
    int neg = v < 0;
    for (int prec = 15; prec <= 16; prec++) {
        int k = prec - 1 - X;
        uint64_t D = scaled_round(f, s, k, &x);
        if (reads_back(f, s, k, D, x))
            return emit_fixed(buf, neg, D, k);
    }
    return emit_fixed(buf, neg, scaled_round(f, s, 16 - X, &x), 16 - X); /* %.17g */
}

int pt_format_double(double v, char *buf, size_t cap)
{
    if (!isfinite(v))
        return snprintf(buf, cap, "%s", "nan");
    if (v == 0)
        return snprintf(buf, cap, "0");
    if (cap >= 32) {
        int n = format_fixed_fast(v, buf);
        if (n > 0)
            return n;
    }
    /* 15 significant digits round-trip most values a human typed; fall
     * back to 16 and 17 (always exact) for results of arithmetic. */
    for (int prec = 15; prec <= 16; prec++) {
        int n = snprintf(buf, cap, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            return n;
    }
    return snprintf(buf, cap, "%.17g", v);
}

/* state: bits 0-7 continuation bytes still owed, 8-15 / 16-23 the range the
 * next one must fall in (RFC 3629 section 4's table narrows only the first). */
int pt_utf8_check(uint32_t *state, const void *p, size_t n)
{
    const unsigned char *b = p;
    uint32_t need = *state & 0xff, lo = (*state >> 8) & 0xff, hi = (*state >> 16) & 0xff;
    for (size_t i = 0; i < n; i++) {
        unsigned c = b[i];
        if (need) {
            if (c < lo || c > hi)
                return PT_EPARSE;
            need--, lo = 0x80, hi = 0xbf;
            continue;
        }
        if (c < 0x80)
            continue;
        lo = 0x80, hi = 0xbf;
        if (c >= 0xc2 && c <= 0xdf)
            need = 1;
        else if (c >= 0xe0 && c <= 0xef)
            need = 2, lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
        else if (c >= 0xf0 && c <= 0xf4)
            need = 3, lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
        else
            return PT_EPARSE;
    }
    *state = need ? need | lo << 8 | hi << 16 : 0;
    return PT_OK;
}
