/* libFuzzer target: core's strict number and time parsers (core/pt_parse.c,
 * core/pt_time.c), which every CSV field, REST row and config value goes
 * through. Seeds: leading blanks, trailing garbage, nan/inf/hex, huge
 * exponents (corpus/fuzz_core_parse/); csv.dict holds their tokens.
 *
 * Properties (differential where there is an oracle):
 *  - pt_parse_decimal accepts only finite values, and each accepted value
 *    equals strtod's correctly rounded result for the same text;
 *  - pt_parse_int64 agrees with strtoll on the texts it accepts;
 *  - pt_format_double round-trips through strtod exactly;
 *  - an accepted time, formatted with pt_format_iso_ms, parses back to the
 *    same millisecond;
 *  - pt_interval_format(pt_interval_parse(x)) parses back to the same ms. */
#include <errno.h>

#include "fuzz_util.h"

FUZZ_QUIET_INITIALIZE /* log lines off: findings are crashes and FUZZ_CHECKs */

static void check_decimal(const char *s, size_t len)
{
    double v = 0;
    const char *why = NULL;
    int rc = pt_parse_decimal(s, len, &v, &why);
    if (rc != PT_OK) {
        FUZZ_CHECK(rc == PT_EPARSE || rc == PT_ERANGE);
        FUZZ_CHECK(why != NULL);
        return;
    }
    FUZZ_CHECK(isfinite(v));
    FUZZ_CHECK(memchr(s, '\0', len) == NULL);
    char buf[80];
    FUZZ_CHECK(len < sizeof buf);
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *end = NULL;
    double ref = strtod(buf, &end);
    FUZZ_CHECK(end == buf + len);
    FUZZ_CHECK(ref == v && signbit(ref) == signbit(v));

    char out[32];
    int n = pt_format_double(v, out, sizeof out);
    FUZZ_CHECK(n > 0 && (size_t)n < sizeof out && strlen(out) == (size_t)n);
    FUZZ_CHECK(strtod(out, NULL) == v);
}

static void check_int64(const char *s, size_t len)
{
    int64_t v = 0;
    if (pt_parse_int64(s, len, &v, NULL) != PT_OK)
        return;
    /* leading zeros make any length valid: compare on a heap copy */
    char *buf = fuzz_strndup((const uint8_t *)s, len);
    errno = 0;
    char *end = NULL;
    long long ref = strtoll(buf, &end, 10);
    FUZZ_CHECK(errno == 0 && end == buf + len && ref == v);
    free(buf);
}

static void check_time(const char *s, size_t len, pt_time_kind kind, const pt_tz *tz)
{
    int64_t ms = 0;
    pt_time_kind k = kind;
    if (pt_parse_time(s, len, &k, tz, &ms, NULL) != PT_OK)
        return;
    FUZZ_CHECK(k != PT_TIME_UNKNOWN);
    FUZZ_CHECK(kind == PT_TIME_UNKNOWN || k == kind);
    if (ms < -62167219200000LL || ms > 253402300799999LL)
        return; /* outside years 0..9999: pt_format_iso_ms clamps */
    char iso[32];
    FUZZ_CHECK(pt_format_iso_ms(ms, iso, sizeof iso) > 0);
    pt_time_kind k2 = PT_TIME_UNKNOWN;
    int64_t back = 0;
    FUZZ_CHECK(pt_parse_time(iso, strlen(iso), &k2, NULL, &back, NULL) == PT_OK);
    FUZZ_CHECK(back == ms);
}

static void check_interval(const char *s)
{
    int64_t ms = 0;
    if (pt_interval_parse(s, &ms) != PT_OK)
        return;
    FUZZ_CHECK(ms > 0);
    char buf[32];
    if (pt_interval_format(ms, buf, sizeof buf) != PT_OK)
        return;
    int64_t back = 0;
    FUZZ_CHECK(pt_interval_parse(buf, &back) == PT_OK && back == ms);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* exact-size copy: the parsers take (s, len) and must not read past it */
    char *s = malloc(size ? size : 1);
    if (!s)
        abort();
    memcpy(s, data, size);
    check_decimal(s, size);
    check_int64(s, size);

    static const pt_time_kind kinds[] = {PT_TIME_UNKNOWN, PT_TIME_EPOCH_S,  PT_TIME_EPOCH_MS,
                                         PT_TIME_EPOCH_US, PT_TIME_ISO_UTC, PT_TIME_ISO_OFFSET,
                                         PT_TIME_ISO_NAIVE};
    pt_tz zones[2];
    FUZZ_CHECK(pt_tz_parse("+02:00", &zones[0]) == PT_OK);
    FUZZ_CHECK(pt_tz_parse("Europe/Amsterdam", &zones[1]) == PT_OK); /* DST gaps and folds */
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        check_time(s, size, kinds[i], i % 3 ? &zones[i % 3 - 1] : NULL);
    free(s);

    /* the NUL-terminated APIs, on a short prefix */
    char *z = fuzz_strndup(data, size < 80 ? size : 80);
    check_interval(z);
    pt_tz tz;
    if (pt_tz_parse(z, &tz) == PT_OK) {
        FUZZ_CHECK(memchr(tz.name, '\0', sizeof tz.name) != NULL);
        FUZZ_CHECK(!tz.is_fixed || (tz.offset_s > -86400 && tz.offset_s < 86400));
    }
    free(z);
    return 0;
}
