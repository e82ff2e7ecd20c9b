/* feed: where candles come from. This header is the CSV replay part and the
 * generic candle-source interface; the live exchange parts have their own
 * section below (added by the live-feed work).
 *
 * Owns: the open file, the libcsv parser and a small fixed row buffer per
 * reader. Constant memory whatever the file size.
 * Must never: judge data quality (that is quality/), keep more than one row
 * of history, or stop a file because of one bad row.
 *
 * Ownership: feed_csv_open() returns a reader the caller frees with
 * feed_csv_free() (NULL is a no-op). Strings inside a feed_reject passed to
 * the callback are borrowed and valid only during the callback.
 */
#ifndef PT_FEED_H
#define PT_FEED_H

#include "pt_core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Why a row was rejected before it became a candle. */
#define FEED_REJECT_MAP(X)                                                     \
    X(FEED_REJ_BAD_NUMBER, "bad_number")     /* not a finite decimal */      \
    X(FEED_REJ_BAD_TIME, "bad_timestamp")    /* unparsable or absurd time */ \
    X(FEED_REJ_MISSING_FIELD, "missing_field") /* too few fields / empty */  \
    X(FEED_REJ_LINE_TOO_LONG, "line_too_long")                               \
    X(FEED_REJ_BAD_CSV, "bad_csv")           /* quoting error */              \
    X(FEED_REJ_BAD_SYMBOL, "bad_symbol")     /* empty, too long, non-ASCII */ \
    X(FEED_REJ_BAD_BYTES, "bad_bytes")       /* NUL byte in a line */

typedef enum feed_reject_kind {
#define FEED_REJ_ENUM_(name, text) name,
    FEED_REJECT_MAP(FEED_REJ_ENUM_)
#undef FEED_REJ_ENUM_
    FEED_REJ__COUNT
} feed_reject_kind;

const char *feed_reject_name(feed_reject_kind k);

typedef struct feed_reject {
    const char *file;   /* path as given */
    uint64_t line;      /* 1-based physical line number */
    const char *field;  /* column name ("open") or "row" */
    feed_reject_kind kind;
    const char *reason; /* "not a number", "line longer than 4096 bytes" */
    const char *text;   /* the offending value, printable, at most 40 chars */
} feed_reject;

typedef void (*feed_reject_fn)(const feed_reject *r, void *ud);

typedef struct feed_csv_opts {
    const char *symbol;      /* symbol for files without a symbol column;
                                NULL = derived from the file name */
    const pt_tz *tz;         /* zone for naive ISO stamps; NULL = UTC */
    pt_time_kind time_kind;  /* PT_TIME_UNKNOWN = detect from the first row */
    feed_reject_fn on_reject; /* NULL = log the first 20 with pt_warn, count all */
    void *ud;
    size_t max_line;         /* bytes; 0 = 4096 */
} feed_csv_opts;

typedef struct feed_csv_stats {
    uint64_t lines;          /* physical lines read, header included */
    uint64_t rows_ok;        /* rows turned into candles */
    uint64_t rows_rejected;  /* sum of by_kind */
    uint64_t by_kind[FEED_REJ__COUNT];
    uint64_t bytes;
    pt_time_kind time_kind;  /* detected or forced */
    int has_symbol_column;
} feed_csv_stats;

typedef struct feed_csv feed_csv;

/* Opens and reads the header. Errors (logged once, with the path):
 * PT_ENOENT missing file, PT_EIO unreadable / a directory, PT_EPARSE empty
 * file, no header, or a missing required column (named in the log). */
int feed_csv_open(const char *path, const feed_csv_opts *opts, feed_csv **out);
/* Next accepted row as a candle (closed = 1, line set). PT_OK, PT_EOF at
 * the end, PT_EIO on a read error or truncation (logged with the offset).
 * Rejected rows are reported through on_reject and skipped. */
int feed_csv_next(feed_csv *r, pt_candle *out);
const feed_csv_stats *feed_csv_get_stats(const feed_csv *r);
const char *feed_csv_path(const feed_csv *r);
void feed_csv_free(feed_csv *r);

/* Reads up to the first 2000 rows of a file (separate open) and returns the
 * most common positive step between consecutive rows of one symbol, in ms.
 * PT_ENOENT/PT_EIO/PT_EPARSE as feed_csv_open; PT_ERANGE if fewer than two
 * rows. Rejected rows in the probe are not reported. */
int feed_csv_detect_interval(const char *path, const feed_csv_opts *opts, int64_t *interval_ms);

/* --------------------------------------------------------- candle sources
 * The engine consumes any of these and never asks where candles came from.
 * Const tables of functions, like curl's connection filters. */
typedef struct feed_source_ops {
    const char *name;
    /* PT_OK with *out filled, PT_EOF when done, or an error */
    int (*next)(void *self, pt_candle *out);
    void (*free)(void *self);
} feed_source_ops;

typedef struct feed_source {
    const feed_source_ops *ops;
    void *self;
} feed_source;

/* A source over one CSV file; the source owns the reader. */
int feed_source_csv(const char *path, const feed_csv_opts *opts, feed_source *out);
/* k-way merge of n sources by (ts_ms, source index): all symbols advance
 * together in event time. Takes ownership of the n sources (copied). */
int feed_source_merge(const feed_source *srcs, size_t n, feed_source *out);
void feed_source_free(feed_source *src); /* NULL or empty: no-op */

#ifdef __cplusplus
}
#endif
#endif
