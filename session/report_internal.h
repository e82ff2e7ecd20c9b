/* report_internal.h: shared by session/report_data.c (reads a backtest output
 * folder into bounded buffers) and session/report_html.c (writes the page).
 * Not part of the app's public surface: see session.h. */
#ifndef PT_SESSION_REPORT_INTERNAL_H
#define PT_SESSION_REPORT_INTERNAL_H

#include "session.h"

#include "pt_core.h"

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#define RH_ASSET_MAX (8u << 20) /* an inlined JS/CSS file */

/* Equity curve, bounded streaming decimation: one point per `stride` rows
 * (time and equity of the bucket's last row, its worst drawdown, so the
 * deepest dip stays visible); when the buffer fills, neighbours merge and
 * the stride doubles. */
typedef struct rh_pt { int64_t t; double eq, dd; } rh_pt;
typedef struct rh_eq {
    rh_pt p[SESSION_REPORT_EQ_POINTS], acc;
    size_t n;
    uint64_t stride, in_bucket, rows;
} rh_eq;

typedef struct rh_trade {
    int64_t t;
    double qty, price, fee, pnl;
    char sym[PT_SYMBOL_MAX], side[8], type[16], reason[96];
} rh_trade;
typedef struct rh_trades {
    rh_trade *v; /* ring of SESSION_REPORT_TRADES: the last ones are kept */
    size_t head, n;
} rh_trades;

typedef struct rh_bar { int64_t t; double o, h, l, c; } rh_bar;
typedef struct rh_series {
    char sym[PT_SYMBOL_MAX];
    rh_bar *b; /* ring of SESSION_REPORT_CANDLES: the last ones are kept */
    size_t head, n;
    uint64_t total;
} rh_series;
typedef struct rh_candles {
    rh_series s[SESSION_REPORT_SYMBOLS];
    size_t ns;
    uint64_t skipped, rejected;
    cJSON *errors; /* array of strings: files that could not be read */
} rh_candles;

/* Everything the page shows; owned by the struct (session_report_data_free). */
typedef struct rh_data {
    const char *dir;         /* borrowed from the caller */
    cJSON *report, *session; /* session: an empty object when session.json is absent */
    rh_eq *eq;
    rh_trades tr;
    rh_candles cs;
    uint64_t tr_rows, tr_bad, eq_bad;
    int collected;           /* 1: eq and cs were fed during the run (session_report_collect_*) */
} rh_data;

/* Buffers of an empty rh_data (session_report_read does it when needed). */
int session_report_alloc(rh_data *d);
/* One portfolio row into the decimated curve; one candle into its symbol's
 * ring (PT_ENOMEM possible). Used by the folder reader and by a run. */
void session_report_eq_add(rh_eq *e, int64_t t, double eq, double dd);
int session_report_candle_add(rh_candles *cs, const pt_candle *c);

/* Whole file into a NUL-terminated malloc'd buffer (caller frees) of at most
 * max bytes. PT_ENOENT for a missing file (logged unless optional),
 * PT_ERANGE past max, PT_EIO, PT_ENOMEM. */
int session_report_slurp(const char *path, size_t max, int optional, char **out, size_t *len);

/* Fills d (d->dir set, rest zero) from d->dir. Fails only on a missing or
 * unparsable report.json (PT_ENOENT, PT_ECORRUPT, PT_ERANGE) or PT_ENOMEM;
 * bad or missing ledgers and candle files are warnings recorded in d.
 * Call session_report_data_free(d) in every case. */
int session_report_read(rh_data *d);
void session_report_data_free(rh_data *d);

#endif
