/* Timestamps: epoch integers (unit by magnitude), ISO-8601 (RFC 3339 subset
 * plus the naive "YYYY-MM-DD[T ]HH:MM[:SS[.fff]]" that spreadsheets and
 * backtrader write), interval names, time zones for naive stamps.
 * Civil-date arithmetic: H. Hinnant, "chrono-Compatible Low-Level Date
 * Algorithms" (days_from_civil / civil_from_days), exact for all years. */
#include "pt_core.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* Bounds for a plausible candle: after 1970-01-02 and before 2100-01-01 for
 * epoch integers; ISO may go back to 1900 (index histories). */
#define PT_TIME_MIN_EPOCH_MS 86400000LL
#define PT_TIME_MIN_ISO_MS (-2208988800000LL) /* 1900-01-01 */
#define PT_TIME_MAX_MS 4102444800000LL        /* 2100-01-01 */

static int set_why(const char **why, const char *text, int rc)
{
    if (why)
        *why = text;
    return rc;
}

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int is_leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static int days_in_month(int64_t y, unsigned m)
{
    static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : dm[m - 1];
}

const char *pt_time_kind_name(pt_time_kind k)
{
    switch (k) {
    case PT_TIME_EPOCH_S:
        return "epoch seconds";
    case PT_TIME_EPOCH_MS:
        return "epoch milliseconds";
    case PT_TIME_EPOCH_US:
        return "epoch microseconds";
    case PT_TIME_ISO_UTC:
        return "ISO-8601 UTC (Z)";
    case PT_TIME_ISO_OFFSET:
        return "ISO-8601 with offset";
    case PT_TIME_ISO_NAIVE:
        return "ISO-8601 naive";
    default:
        return "unknown";
    }
}

static int digits(const char *s, size_t n, int *out)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

/* "+HH:MM", "+HHMM", "+HH" -> seconds east; returns bytes used or -1 */
static int parse_offset(const char *s, size_t len, int *off_s)
{
    if (len < 3 || (s[0] != '+' && s[0] != '-'))
        return -1;
    int hh, mm = 0;
    if (digits(s + 1, 2, &hh))
        return -1;
    size_t used = 3;
    if (len >= 6 && s[3] == ':') {
        if (digits(s + 4, 2, &mm))
            return -1;
        used = 6;
    } else if (len >= 5) {
        if (digits(s + 3, 2, &mm))
            return -1;
        used = 5;
    }
    if (hh > 23 || mm > 59)
        return -1;
    *off_s = (s[0] == '-' ? -1 : 1) * (hh * 3600 + mm * 60);
    return (int)used;
}

int pt_tz_parse(const char *text, pt_tz *out)
{
    memset(out, 0, sizeof *out);
    if (!text || !*text || strlen(text) >= sizeof out->name)
        return PT_EINVAL;
    snprintf(out->name, sizeof out->name, "%s", text);
    if (!strcmp(text, "UTC") || !strcmp(text, "Z") || !strcmp(text, "utc")) {
        out->is_fixed = 1;
        return PT_OK;
    }
    int off;
    if (parse_offset(text, strlen(text), &off) == (int)strlen(text)) {
        out->is_fixed = 1;
        out->offset_s = off;
        return PT_OK;
    }
    /* IANA name: must exist in the system zoneinfo, no path tricks */
    if (strstr(text, "..") || text[0] == '/')
        return PT_EINVAL;
    char path[160];
    snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", text);
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return PT_EINVAL;
    out->is_fixed = 0;
    return PT_OK;
}

/* The instants (epoch seconds, ascending) a naive civil minute has in an
 * IANA zone, through mktime: 0 in a DST gap (spring forward), 2 in the hour
 * a fall-back repeats (DST first), else 1. Asked with tm_isdst 1 and 0 in
 * turn; an answer counts only if mktime kept the fields as given. */
static int iana_instants(const pt_tz *tz, int64_t y, unsigned mo, unsigned d, int h, int mi,
                         int64_t out[2])
{
    static char current[64];
    if (strcmp(current, tz->name) != 0) {
        setenv("TZ", tz->name, 1);
        tzset();
        snprintf(current, sizeof current, "%s", tz->name);
    }
    int n = 0;
    for (int dst = 1; dst >= 0; dst--) {
        struct tm tm = {0};
        tm.tm_year = (int)y - 1900;
        tm.tm_mon = (int)mo - 1;
        tm.tm_mday = (int)d;
        tm.tm_hour = h;
        tm.tm_min = mi;
        tm.tm_isdst = dst;
        time_t t = mktime(&tm); /* seconds 0: -1 is always an error */
        if (t == (time_t)-1 || tm.tm_year != (int)y - 1900 || tm.tm_mon != (int)mo - 1 ||
            tm.tm_mday != (int)d || tm.tm_hour != h || tm.tm_min != mi || tm.tm_isdst != dst)
            continue;
        if (n == 0 || out[0] != (int64_t)t)
            out[n++] = (int64_t)t;
    }
    if (n == 2 && out[0] > out[1]) {
        int64_t x = out[0];
        out[0] = out[1];
        out[1] = x;
    }
    return n;
}

/* Naive civil time in an IANA zone -> epoch seconds. A repeated time takes
 * its first instant unless that is before prev_ms (the row before it in
 * the file): then the second, so both passes of a fall-back hour read in
 * order. */
static int iana_to_epoch(const pt_tz *tz, int64_t y, unsigned mo, unsigned d, int h, int mi, int s,
                         int ms, int64_t prev_ms, int64_t *secs)
{
    int64_t t[2];
    int n = iana_instants(tz, y, mo, d, h, mi, t);
    if (n == 0)
        return PT_ERANGE;
    *secs = t[0] + s;
    if (n == 2 && (t[0] + s) * 1000 + ms < prev_ms)
        *secs = t[1] + s;
    return PT_OK;
}

static int parse_iso(const char *s, size_t len, pt_time_kind *kind, const pt_tz *tz,
                     int64_t prev_ms, int64_t *out_ms, const char **why)
{
    int y, mo, d, h = 0, mi = 0, sec = 0, ms = 0;
    if (len < 10 || s[4] != '-' || s[7] != '-' || digits(s, 4, &y) || digits(s + 5, 2, &mo) ||
        digits(s + 8, 2, &d))
        return set_why(why, "not a timestamp", PT_EPARSE);
    size_t i = 10;
    if (i < len && (s[i] == 'T' || s[i] == ' ')) {
        if (len < i + 6 || s[i + 3] != ':' || digits(s + i + 1, 2, &h) || digits(s + i + 4, 2, &mi))
            return set_why(why, "bad time of day", PT_EPARSE);
        i += 6;
        if (i < len && s[i] == ':') {
            if (len < i + 3 || digits(s + i + 1, 2, &sec))
                return set_why(why, "bad seconds", PT_EPARSE);
            i += 3;
            if (i < len && (s[i] == '.' || s[i] == ',')) {
                i++;
                int nd = 0;
                while (i < len && s[i] >= '0' && s[i] <= '9') {
                    if (nd < 3)
                        ms = ms * 10 + (s[i] - '0');
                    nd++;
                    i++;
                }
                if (nd == 0)
                    return set_why(why, "bad fraction", PT_EPARSE);
                for (; nd < 3; nd++)
                    ms *= 10;
            }
        }
    }
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, (unsigned)mo) || h > 23 || mi > 59 ||
        sec > 60)
        return set_why(why, "date or time out of range", PT_ERANGE);
    pt_time_kind k;
    int off = 0;
    if (i == len) {
        k = PT_TIME_ISO_NAIVE;
    } else if (s[i] == 'Z' || s[i] == 'z') {
        if (i + 1 != len)
            return set_why(why, "trailing characters", PT_EPARSE);
        k = PT_TIME_ISO_UTC;
    } else {
        int used = parse_offset(s + i, len - i, &off);
        if (used < 0 || i + (size_t)used != len)
            return set_why(why, "bad zone offset", PT_EPARSE);
        k = PT_TIME_ISO_OFFSET;
    }
    int64_t secs;
    if (k == PT_TIME_ISO_NAIVE && tz && !tz->is_fixed) {
        if (iana_to_epoch(tz, y, (unsigned)mo, (unsigned)d, h, mi, sec, ms, prev_ms, &secs))
            return set_why(why, "local time that does not exist in the zone (skipped by a DST change)",
                           PT_ERANGE);
    } else {
        if (k == PT_TIME_ISO_NAIVE && tz)
            off = tz->offset_s;
        secs = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + sec -
               off;
    }
    int64_t t = secs * 1000 + ms;
    if (t < PT_TIME_MIN_ISO_MS || t >= PT_TIME_MAX_MS)
        return set_why(why, "timestamp out of range (before 1900 or after 2099)", PT_ERANGE);
    /* the kind class (ISO) is pinned, the zone flavour may vary row to row */
    if (*kind == PT_TIME_UNKNOWN)
        *kind = k;
    *out_ms = t;
    return PT_OK;
}

/* An epoch integer v (already parsed) -> ms, with the kind pinned or
 * detected from its magnitude. */
static int epoch_to_ms(int64_t v, pt_time_kind *kind, int64_t *out_ms, const char **why)
{
    pt_time_kind k = *kind;
    if (k >= PT_TIME_ISO_UTC)
        return set_why(why, "epoch number in an ISO-8601 column", PT_EPARSE);
    if (v <= 0)
        return set_why(why, "timestamp not positive", PT_ERANGE);
    if (k == PT_TIME_UNKNOWN)
        k = v < 100000000000LL ? PT_TIME_EPOCH_S
            : v < 100000000000000LL ? PT_TIME_EPOCH_MS
                                    : PT_TIME_EPOCH_US;
    int64_t ms;
    if (k == PT_TIME_EPOCH_S)
        ms = v > PT_TIME_MAX_MS ? PT_TIME_MAX_MS : v * 1000;
    else if (k == PT_TIME_EPOCH_MS)
        ms = v;
    else
        ms = v / 1000;
    if (ms < PT_TIME_MIN_EPOCH_MS || ms >= PT_TIME_MAX_MS)
        return set_why(why, "timestamp out of range (before 1970-01-02 or after 2099)",
                       PT_ERANGE);
    *kind = k;
    *out_ms = ms;
    return PT_OK;
}

int pt_parse_time(const char *s, size_t len, pt_time_kind *kind, const pt_tz *tz, int64_t *out_ms,
                  const char **why)
{
    return pt_parse_time_after(s, len, kind, tz, INT64_MIN, out_ms, why);
}

int pt_parse_time_after(const char *s, size_t len, pt_time_kind *kind, const pt_tz *tz,
                        int64_t prev_ms, int64_t *out_ms, const char **why)
{
    if (len == 0)
        return set_why(why, "empty", PT_EPARSE);
    /* Fast path, the common case (perf): up to 18 bytes without a sign are
     * accepted by pt_parse_int64 exactly when all are digits, the case the
     * general path below parses the same way; anything else (ISO text, a
     * sign, a bad byte) is left to the general path. */
    int64_t v;
    if (len <= 18 && s[0] != '-' && pt_parse_int64(s, len, &v, NULL) == PT_OK)
        return epoch_to_ms(v, kind, out_ms, why);
    int is_int = 1;
    for (size_t i = 0; i < len && is_int; i++)
        if ((s[i] < '0' || s[i] > '9') && !(i == 0 && s[i] == '-'))
            is_int = 0;
    if (is_int) {
        /* the epoch-in-ISO-column check comes before the number's own
         * errors, as it always did */
        if (*kind >= PT_TIME_ISO_UTC)
            return set_why(why, "epoch number in an ISO-8601 column", PT_EPARSE);
        int rc = pt_parse_int64(s, len, &v, why);
        if (rc)
            return rc;
        return epoch_to_ms(v, kind, out_ms, why);
    }
    pt_time_kind k = *kind;
    if (k != PT_TIME_UNKNOWN && k < PT_TIME_ISO_UTC)
        return set_why(why, "ISO-8601 text in an epoch column", PT_EPARSE);
    return parse_iso(s, len, kind, tz, prev_ms, out_ms, why);
}

int pt_format_iso_ms(int64_t ms, char *buf, size_t cap)
{
    /* clamp to years 0..9999 so the arithmetic below can never overflow */
    if (ms < -62167219200000LL)
        ms = -62167219200000LL;
    if (ms > 253402300799999LL)
        ms = 253402300799999LL;
    int64_t days = ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
    int64_t rem = ms - days * 86400000;
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    int h = (int)(rem / 3600000), mi = (int)(rem / 60000 % 60), s = (int)(rem / 1000 % 60),
        msr = (int)(rem % 1000);
    return snprintf(buf, cap, "%04lld-%02u-%02uT%02d:%02d:%02d.%03dZ", (long long)y, m, d, h, mi, s,
                    msr);
}

int pt_interval_parse(const char *text, int64_t *out_ms)
{
    if (!text)
        return PT_EINVAL;
    size_t len = strlen(text);
    if (len < 2 || len > 12)
        return PT_EINVAL;
    int64_t n;
    if (pt_parse_int64(text, len - 1, &n, NULL) || n <= 0 || n > 100000)
        return PT_EINVAL;
    int64_t unit;
    switch (text[len - 1]) {
    case 's':
        unit = 1000;
        break;
    case 'm':
        unit = 60000;
        break;
    case 'h':
        unit = 3600000;
        break;
    case 'd':
        unit = 86400000;
        break;
    case 'w':
        unit = 7 * 86400000LL;
        break;
    default:
        return PT_EINVAL;
    }
    *out_ms = n * unit;
    return PT_OK;
}

int pt_interval_format(int64_t ms, char *buf, size_t cap)
{
    static const struct {
        int64_t unit;
        char c;
    } units[] = {{7 * 86400000LL, 'w'}, {86400000, 'd'}, {3600000, 'h'}, {60000, 'm'}, {1000, 's'}};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (ms > 0 && ms % units[i].unit == 0)
            return snprintf(buf, cap, "%lld%c", (long long)(ms / units[i].unit), units[i].c);
    return snprintf(buf, cap, "%lldms", (long long)ms);
}
