/* Strict number parsing and round-trip formatting.
 *
 * Why not plain strtod: it accepts "nan", "inf", "0x1p3", " 12", "+5" and
 * the "12" of "12abc" (../shared/notes/robustness.md 5a, C8/C9). We check the
 * grammar first, then convert. The fast path (Clinger 1990): a decimal with
 * at most 15 significant digits and a power-of-ten scale of at most 22 is
 * exactly m / 10^k or m * 10^k in one correctly rounded IEEE operation, so it
 * gives the same double as strtod; anything else goes to strtod. */
#include "pt_core.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const double pow10_exact[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                     1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                     1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

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
 * take its exact branch this computes the very same operation. Everything
 * else (exponent, more digits, any bad byte, a mantissa above 2^53) goes to
 * parse_decimal_full, so accept/reject and the reason are unchanged. */
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
    if (digits == 0 || digits > 19 || mant > (1ULL << 53) || frac > 22)
        return parse_decimal_full(s, len, out, why);
    double v = (double)mant;
    if (frac)
        v /= pow10_exact[frac];
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

int pt_format_double(double v, char *buf, size_t cap)
{
    if (!isfinite(v))
        return snprintf(buf, cap, "%s", "nan");
    if (v == 0)
        return snprintf(buf, cap, "0");
    /* 15 significant digits round-trip most values a human typed; fall
     * back to 16 and 17 (always exact) for results of arithmetic. */
    for (int prec = 15; prec <= 16; prec++) {
        int n = snprintf(buf, cap, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            return n;
    }
    return snprintf(buf, cap, "%.17g", v);
}
