/* report_html: DIR/report.html, one self-contained page for a backtest
 * output folder (equity, drawdown, candles with trade markers, metrics).
 * The chart library, web/report.js and web/report.css are inlined, the data
 * is embedded as JSON, so the file opens from disk with no server and makes
 * no network request (its Content-Security-Policy forbids them).
 *
 * Reads DIR/report.json (required), DIR/session.json, DIR/trades.csv,
 * DIR/portfolio.csv and the input candle files named in session.json.
 * Memory is bounded: the CSVs are streamed; the equity curve is decimated to
 * at most REPORT_EQ_POINTS points, the chart keeps the last REPORT_CANDLES
 * candles of at most REPORT_SYMBOLS symbols and the last REPORT_TRADES
 * trades; the page says when a cap applied.
 *
 * Must never: touch the ledger files (read only), or put text from a user
 * file into the page other than through JSON (the page renders it with
 * textContent).
 *
 * Files: report_data.c reads the folder, report_html.c writes the page
 * (shared types in report_internal.h), cmd_report.c is `papertrader report`,
 * web/report.js + web/report.css are the page's own code.
 */
#ifndef PT_APP_REPORT_HTML_H
#define PT_APP_REPORT_HTML_H

#include "pt_core.h"

#include <stdint.h>

#define REPORT_EQ_POINTS 4000
#define REPORT_CANDLES 20000
#define REPORT_SYMBOLS 8
#define REPORT_TRADES 10000

/* Writes out_dir/report.html atomically (out_dir/.report.html.tmp, fsync,
 * rename). vendor_js_path: lightweight-charts' standalone build; NULL =
 * wss_default_vendor_js(). The page's own files come from
 * wss_default_web_dir(). Returns PT_OK, PT_ENOENT (no report.json),
 * PT_ECORRUPT (report.json does not parse), PT_ERANGE (too big), PT_EIO
 * (write error or a missing asset), PT_EINVAL (an asset holds its own end
 * tag), PT_ENOSPC, PT_ENOMEM; logged once with the path. Missing or bad candle files and bad
 * CSV rows are warnings: the page still gets written and says so. */
int app_report_html_write(const char *out_dir, const char *vendor_js_path);

/* The same page for a run in progress: the backtest feeds every candle and
 * portfolio row as the engine sees them (a bounded ring copy and a
 * decimation step each), so portfolio.csv and the input files are not read
 * back at the end (they were ~40 % of a backtest's time). report.json,
 * session.json and trades.csv are still read from out_dir by _write.
 * Ownership: _new allocates; _free (NULL: no-op) frees; a failed candle
 * copy (out of memory) makes _write fall back to reading the folder. */
typedef struct app_report_run app_report_run;
int app_report_run_new(app_report_run **out);
void app_report_run_candle(app_report_run *r, const pt_candle *c);
void app_report_run_row(app_report_run *r, int64_t ts, double equity, double drawdown);
/* Input rows the run's reader rejected (the page notes them). */
void app_report_run_rejected(app_report_run *r, uint64_t rows);
int app_report_run_write(app_report_run *r, const char *out_dir, const char *vendor_js_path);
void app_report_run_free(app_report_run *r);

#endif
