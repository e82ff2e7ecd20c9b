/* core: the few things every module shares — the error enum, the candle
 * type, logging, strict number and time parsing, a monotonic clock.
 *
 * Owns: nothing with a lifetime; every function here is reentrant except the
 * logger's global sink (set once at start, written from the loop thread and
 * any worker under its own mutex).
 * Must never: depend on any other papertrader module, or allocate on a
 * per-candle path.
 */
#ifndef PT_CORE_H
#define PT_CORE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PT_VERSION "0.1.0"

/* ------------------------------------------------------------------ errors
 * One enum for the whole program, 0 for success (libuv/curl style). Negative
 * values so that functions returning a count can return an error too. */
#define PT_ERRNO_MAP(X)                                                       \
    X(PT_OK, 0, "success")                                                    \
    X(PT_EOF, -1, "end of input")                                             \
    X(PT_ENOMEM, -2, "out of memory")                                         \
    X(PT_EIO, -3, "input/output error")                                       \
    X(PT_EINVAL, -4, "invalid argument")                                      \
    X(PT_EPARSE, -5, "parse error")                                           \
    X(PT_ERANGE, -6, "value out of range")                                    \
    X(PT_ENOENT, -7, "no such file or item")                                  \
    X(PT_EFULL, -8, "buffer or queue full")                                   \
    X(PT_ESTATE, -9, "invalid state")                                         \
    X(PT_ECORRUPT, -10, "corrupt data")                                       \
    X(PT_ENET, -11, "network error")                                          \
    X(PT_ETIMEOUT, -12, "timed out")                                          \
    X(PT_ERATELIMIT, -13, "rate limited")                                     \
    X(PT_EQUALITY, -14, "data quality below threshold")                       \
    X(PT_EUSAGE, -15, "usage error")                                          \
    X(PT_EUNSUPPORTED, -16, "not supported")                                  \
    X(PT_EBUSY, -17, "resource busy or locked")                               \
    X(PT_ENOSPC, -18, "no space left on device")

typedef enum pt_err {
#define PT_ERR_ENUM_(name, val, text) name = val,
    PT_ERRNO_MAP(PT_ERR_ENUM_)
#undef PT_ERR_ENUM_
} pt_err;

/* Static text for an error code; never NULL ("unknown error" for others). */
const char *pt_strerror(int err);
/* The enum's name ("PT_EPARSE"); never NULL. */
const char *pt_errname(int err);

/* Process exit codes, documented in the README and `papertrader --help`. */
enum pt_exit {
    PT_EXIT_OK = 0,
    PT_EXIT_FAILURE = 1, /* runtime failure: I/O error on output, network gone */
    PT_EXIT_USAGE = 2,   /* bad flags, bad config */
    PT_EXIT_INPUT = 3,   /* input file missing, unreadable, or not candles */
    PT_EXIT_QUALITY = 4, /* data read but its quality is below --min-quality */
    PT_EXIT_CORRUPT = 5, /* durable state is corrupt in the middle; refusing to start */
    PT_EXIT_LOCKED = 6,  /* state dir locked by another process */
    PT_EXIT_RESTART_LOOP = 7, /* the session failed on its last starts; a human must look */
};

/* ------------------------------------------------------------------ candle */
#define PT_SYMBOL_MAX 32 /* including NUL; longer symbols are rejected */

typedef struct pt_candle {
    int64_t ts_ms; /* open time, epoch milliseconds, UTC */
    double open, high, low, close, volume;
    char symbol[PT_SYMBOL_MAX]; /* NUL-terminated, printable ASCII */
    uint8_t closed;             /* 1 = final bar; 0 = in-progress update (live only) */
    uint64_t line;              /* source line (CSV) or message number (stream); 0 = unknown */
} pt_candle;

/* ------------------------------------------------------------------ logging
 * Levels like syslog. Output goes to stderr (colour only on a terminal and
 * never with NO_COLOR) and to the optional file sinks configured by the
 * operations layer. Thread-safe. */
typedef enum pt_log_level {
    PT_LOG_ERROR = 0,
    PT_LOG_WARN = 1,
    PT_LOG_INFO = 2,
    PT_LOG_DEBUG = 3,
} pt_log_level;

void pt_log_set_level(pt_log_level lvl);
pt_log_level pt_log_get_level(void);
/* A hook the ops layer installs to also write lines to files; may be NULL.
 * Called with the fully formatted line (no trailing newline), under the
 * logger's mutex. */
typedef void (*pt_log_sink_fn)(pt_log_level lvl, const char *line, void *ud);
void pt_log_set_sink(pt_log_sink_fn fn, void *ud);
void pt_log_set_stderr(int enabled); /* tests and --quiet turn stderr off */
void pt_log(pt_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void pt_logv(pt_log_level lvl, const char *fmt, va_list ap);
#define pt_err_log(...) pt_log(PT_LOG_ERROR, __VA_ARGS__)
#define pt_warn(...) pt_log(PT_LOG_WARN, __VA_ARGS__)
#define pt_info(...) pt_log(PT_LOG_INFO, __VA_ARGS__)
#define pt_debug(...) pt_log(PT_LOG_DEBUG, __VA_ARGS__)

/* ------------------------------------------------------------------ numbers
 * Strict parsers: the whole [s, s+len) must be the number, no leading or
 * trailing space, no sign '+', no hex, no inf/nan, no exponent unless
 * allow_exponent; result finite and in range. They never read past len, so
 * s need not be NUL-terminated. Return PT_OK or PT_EPARSE / PT_ERANGE and
 * write a static reason ("not a number", "not finite", ...) to *why if
 * why != NULL. */
int pt_parse_decimal(const char *s, size_t len, double *out, const char **why);
int pt_parse_int64(const char *s, size_t len, int64_t *out, const char **why);

/* Shortest text that strtod reads back to the same double ("%.17g" trimmed);
 * writes at most 32 bytes including NUL into buf, returns its length. Used
 * by every CSV and JSON writer so numbers round-trip. */
int pt_format_double(double v, char *buf, size_t cap);

/* Incremental UTF-8 validation (RFC 3629 section 4: no overlong forms, no
 * surrogates, nothing past U+10FFFF) over the fragments of one message:
 * *state starts at 0 and carries an unfinished sequence from one call to the
 * next; the message is valid when every call returned PT_OK and *state is 0
 * after the last one. PT_EPARSE at the first byte that cannot be valid. */
int pt_utf8_check(uint32_t *state, const void *p, size_t n);

/* ------------------------------------------------------------------ time */
typedef enum pt_time_kind {
    PT_TIME_UNKNOWN = 0,
    PT_TIME_EPOCH_S,
    PT_TIME_EPOCH_MS,
    PT_TIME_EPOCH_US,
    PT_TIME_ISO_UTC,    /* ends in Z */
    PT_TIME_ISO_OFFSET, /* +HH:MM / -HHMM */
    PT_TIME_ISO_NAIVE,  /* no zone: UTC unless a zone is given */
} pt_time_kind;

const char *pt_time_kind_name(pt_time_kind k);

/* A time zone for naive timestamps: fixed offset or an IANA name resolved
 * through the C library (TZ database). */
typedef struct pt_tz {
    int is_fixed;           /* 1: offset_s applies; 0: iana name */
    int offset_s;           /* seconds east of UTC */
    char name[64];          /* "UTC", "+02:00", "Europe/Amsterdam" */
} pt_tz;
/* Accepts "UTC", "Z", "+HH:MM", "-HHMM", or an IANA name that exists under
 * /usr/share/zoneinfo. PT_EINVAL otherwise. */
int pt_tz_parse(const char *text, pt_tz *out);

/* Parse one timestamp field. If *kind is PT_TIME_UNKNOWN it is detected
 * (integers: magnitude decides s/ms/us; else ISO-8601) and written back, so
 * a reader can pin the kind per file after the first row. tz applies to
 * naive ISO only (NULL = UTC). Result in epoch ms. */
int pt_parse_time(const char *s, size_t len, pt_time_kind *kind, const pt_tz *tz, int64_t *out_ms,
                  const char **why);
/* The same for a row that follows one at prev_ms (INT64_MIN: none). Naive
 * ISO in an IANA zone only: a local time that does not exist (the hour a
 * spring-forward skips) is PT_ERANGE; one that exists twice (the hour a
 * fall-back repeats) is its first instant unless that is before prev_ms,
 * then its second, so the two passes of the hour read in order. */
int pt_parse_time_after(const char *s, size_t len, pt_time_kind *kind, const pt_tz *tz,
                        int64_t prev_ms, int64_t *out_ms, const char **why);

/* "2024-01-02T03:04:05.000Z" (24 chars + NUL); cap >= 25. */
int pt_format_iso_ms(int64_t ms, char *buf, size_t cap);

/* Interval text "1s","1m","5m","1h","1d","1w" <-> ms. */
int pt_interval_parse(const char *text, int64_t *out_ms);
/* Writes the shortest name ("1m", "90s" if no unit fits exactly). */
int pt_interval_format(int64_t ms, char *buf, size_t cap);

/* CLOCK_MONOTONIC in ms / ns: timeouts and backoff, never decisions. */
int64_t pt_mono_ms(void);
int64_t pt_mono_ns(void);
/* Wall clock epoch ms: pacing and log stamps only. */
int64_t pt_wall_ms(void);

/* Peak and current RSS of this process in KiB (from /proc/self/status). */
long pt_rss_peak_kb(void);
long pt_rss_now_kb(void);

/* write(2) until all n bytes are out, retrying EINTR. 0, or -1 with errno
 * (EIO for a write that returns 0). Logs nothing: callers name the file. */
int pt_write_all(int fd, const void *p, size_t n);
/* mkdir -p (mode 0755). PT_OK, PT_ERANGE (path too long), PT_EIO (logged
 * with the folder and strerror). */
int pt_mkdirs(const char *path);

/* A shipped file: <dir of this executable>/../share/papertrader/<rel> when
 * that exists (an installed layout, `cmake --install`), else fallback (the
 * source tree, compiled in). Writes into buf; returns buf. */
const char *pt_shared_file(const char *rel, const char *fallback, char *buf, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
