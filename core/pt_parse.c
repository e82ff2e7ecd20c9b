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

int pt_parse_decimal(const char *s, size_t len, double *out, const char **why)
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

int pt_parse_int64(const char *s, size_t len, int64_t *out, const char **why)
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
