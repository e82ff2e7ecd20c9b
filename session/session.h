/* session: the wiring of the engine into a run, for every command that
 * trades (backtest, run, demo, backtest --serve, optimize, walk-forward),
 * and the session folder they all write. The one public header of
 * session/ (session/README.md says what the module owns and must never
 * do; docs/session.md draws the picture):
 *  - the folder: default name, lock, "holds a run" refusal, atomic small
 *    files, session.json read back (session_dir.c);
 *  - the resume-aware ledger of trades.csv and portfolio.csv
 *    (session_ledger.c);
 *  - the options of the live commands and the live clock: session_live_run
 *    (session_opts.c, session_live.c; the dashboard and ops attach to it as
 *    observers, session_internal.h);
 *  - the backtest clock's parts: config layering, recorded controls, a
 *    recording's warm-up boundary (backtest_*.c), and report.html
 *    (report_*.c);
 *  - the [strategy] check shared by `config check` and every engine command
 *    (strategy_check.c).
 * Must never: include anything from app/ (the command line fills these
 * structures and calls in; nothing here calls back), or decide a trade
 * (sim/ does). */
#ifndef PT_SESSION_H
#define PT_SESSION_H

#include "feed.h"
#include "feed_xsim.h"
#include "ops.h"
#include "portfolio.h"
#include "pt_core.h"
#include "sim.h"

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* ================================================================ folder and ledger */
/* session_ledger: the resume-aware ledger of a session folder (backtest and
 * live run share it), plus the folder lock and atomic small-file writes.
 * docs/durability.md describes the whole scheme.
 *
 * Resume is replay: the engine is deterministic and event-time only, so a
 * resumed session re-runs from the first candle with the same options. The
 * ledger then VERIFIES the first N fills / M portfolio rows (those already
 * in DIR) byte for byte instead of writing them, and appends the rest:
 *  - a trades.csv row that differs from the replay: PT_ECORRUPT, logged as
 *    "DIR/trades.csv:LINE: ..." (corrupt journal or different inputs);
 *  - a portfolio.csv row that differs: portfolio.csv is a derived snapshot
 *    (docs/durability.md), so the rest of it is moved to portfolio.csv.stale
 *    and rebuilt from the replay, with a warning.
 * Bytes are compared with rows formatted by portfolio/'s own writer: each
 * replayed row is written to a scratch ledger in DIR/.replay (kept small by
 * punching it empty every 1 MiB) and read back.
 *
 * Owns: the pf_ledger of DIR, the scratch ledger, read fds on the recorded
 * files. Must never: decide anything, or write a recorded row twice.
 * Threading: one owner thread. */

typedef struct session_ledger session_ledger;

typedef struct session_ledger_options {
    int resume;            /* 1: keep DIR's rows (repair torn tails, verify by replay) */
    pf_sync_policy sync;   /* fdatasync per fill (default) or none */
    int batch_portfolio;   /* buffer portfolio.csv rows (64 KiB) */
    uint64_t crash_after_fills; /* test hook: _exit(137) right after fill seq N
                                   is written (and synced); 0 = off */
    int perp;              /* perp columns and DIR/funding.csv (portfolio.h) */
} session_ledger_options;

/* DIR must exist and be locked by the caller (session_lock). With resume:
 * repairs torn tails (bytes to X.torn, logged), reads trades.csv strictly
 * (seq must be 1,2,3...), logs "recovered N trades from journal, resumed at
 * candle T". PT_ECORRUPT (logged with file:line), PT_EIO, PT_ENOSPC,
 * PT_ENOMEM. The caller frees with session_ledger_close. */
int session_ledger_open(const char *dir, const session_ledger_options *o, session_ledger **out);
/* One fill / one portfolio row, in engine order. Returns the sticky error
 * (PT_ECORRUPT on a verify mismatch, PT_EIO/PT_ENOSPC on a write error):
 * after any error the caller must stop trading. */
int session_ledger_fill(session_ledger *sl, const pf_fill *f, const pf_fill_result *r);
int session_ledger_row(session_ledger *sl, const pf_snapshot *s);
/* perp: one DIR/funding.csv row (never verified: a perp session does not resume). */
int session_ledger_funding(session_ledger *sl, int64_t ts_ms, const char *symbol, double rate, double mark,
                           double qty, double payment);
/* The sticky error's one line saying which file and why
 * ("DIR/trades.csv:17: ...", "cannot write DIR/trades.csv: ..."; "" while
 * healthy). */
const char *session_ledger_error_text(const session_ledger *sl);
/* Recorded rows found at open (0 without resume). */
uint64_t session_ledger_recovered_fills(const session_ledger *sl);
/* A live resume (`run --resume`): the recorded input is replayed, then the
 * session goes on with new input. Call once the replay of the recorded
 * candles is done: a recorded fill it did not reproduce is PT_ECORRUPT
 * (logged with DIR/trades.csv:LINE); surplus portfolio rows (the previous
 * run's shutdown rows) move to portfolio.csv.stale; from here on every row
 * is appended. Returns the sticky error. */
int session_ledger_end_replay(session_ledger *sl);
/* End of the session. complete = 1 when the replay reached the end of its
 * input: recorded fills never reproduced are then PT_ECORRUPT, surplus
 * portfolio rows are moved aside. After a trades.csv mismatch, portfolio.csv
 * is cut back to its size at open (files as found). Syncs and closes both
 * files, removes the scratch. Returns the first error. NULL: PT_OK. */
int session_ledger_close(session_ledger *sl, int complete);

/* The one folder lock of every command (D10: one process per folder): DIR
 * created first when create, then flock(2) of DIR/.lock (created, holds our
 * PID). Returns 0 with *lock_fd to keep open for the run's life
 * (session_unlock); PT_EXIT_LOCKED after "papertrader CMD: DIR: state dir
 * locked by PID N" on stderr, N always a live process (from /proc/locks or
 * the PID it wrote; "a process whose PID is unknown" when neither names one
 * within 0.5 s); PT_EXIT_FAILURE otherwise (logged). A dead holder's lock is
 * free (the kernel drops it): taken. */
int session_dir_lock(const char *cmd, const char *dir, int create, int *lock_fd);
void session_unlock(int fd); /* < 0: no-op */

/* The default output folder of every command: logs/<UTC, ISO 8601 basic>-
 * <mode>, e.g. logs/20261204T020628Z-backtest (scripts/run-default.sh uses
 * the same). The wall clock names the folder only, never its contents. */
void session_default_dir(char *buf, size_t cap, const char *mode);
/* 1 when DIR already holds a run (session.json or trades.csv): --out
 * refuses it unless --force. */
int session_dir_holds_run(const char *dir);
/* A new run's --out DIR, after the lock (a folder in use says so first,
 * exit 6): 0 when DIR holds no run, else PT_EXIT_USAGE after saying so
 * ("--force overwrites it", and with resumable ", --resume DIR carries it
 * on"). The caller skips it with --force. */
int session_dir_refuse_run(const char *cmd, const char *dir, int resumable);


/* DIR/name <- text, crash-safe: DIR/.name.tmp, fsync, rename, fsync DIR.
 * PT_EIO / PT_ENOSPC, logged with the path and strerror. */
int session_write_atomic(const char *dir, const char *name, const char *text);
/* The same for a JSON document (pretty-printed, newline-terminated); j NULL
 * is PT_ENOMEM (a failed build upstream). j stays the caller's. */
int session_write_json(const char *dir, const char *name, const cJSON *j);
/* DIR/session.json parsed (at most SESSION_JSON_MAX bytes, nothing after the
 * document), or NULL with errno set: ENOENT and the like when it cannot be
 * opened, EINVAL when it is too big or not JSON. The caller cJSON_Delete()s. */
#define SESSION_JSON_MAX (1 << 20)
cJSON *session_json_read(const char *dir);

/* ================================================================ live options */
/* session_opts.c: the options shared by the live commands (run, demo,
 * backtest --serve): engine flags with the same names and ranges as
 * `papertrader backtest`, feed and server flags, and the config layering
 * defaults < --config FILE < environment < flags (ops/ops.h, docs/config.md).
 *
 * Resume (`run --resume DIR`, `run --state-dir DIR`, docs/durability.md): the
 * engine and feed options come from DIR/session.json ("args", written by
 * session_opts_args_json at the first start), not from the command line.
 *
 * Ownership: session_opts_parse() fills a caller-owned session_opts; strings in it
 * point into argv, o->cfg or the loaded session.json and stay valid until
 * session_opts_free(). */

#define SESSION_MAX_PARAMS 32
#define SESSION_MAX_SYMBOLS 64
#define SESSION_STRATEGY_TIMEOUT_MS 5000 /* an external strategy's answer deadline, live */

typedef struct session_opts {
    const char *cmd;           /* "run", "demo", "backtest --serve" (messages) */
    ops_config *cfg;           /* layered config; owned */
    sim_engine_config eng;     /* after session_opts_parse */
    const char *strategy;      /* name or path */
    char sizing_text[64];
    const char *params[SESSION_MAX_PARAMS * 2];
    char cfg_params[SESSION_MAX_PARAMS][64]; /* [strategy] K=V from the config */
    int n_params;
    char symbuf[2048];
    const char *symbols[SESSION_MAX_SYMBOLS];
    int n_symbols;
    int64_t interval_ms;
    const char *exchange, *ws_url, *rest_url, *ca_file, *out, *host, *log_dir, *token;
    int port;                  /* dashboard; 0 = a free port, -1 = off */
    int fsync_every;
    int heartbeat_s;
    int quiet;
    int force; /* --force: an --out that holds an earlier run is overwritten */
    int flags; /* SESSION_F_* the command accepts */
    double duration_s;         /* 0 = until a signal */
    /* simulator flags (demo, serve) */
    double speed;
    const char *faults;
    int updates;
    int64_t seed;
    int64_t backoff_base_ms, backoff_cap_ms, stale_after_ms;
    /* resume: --resume DIR (must hold session.json) or --state-dir DIR (resume if it
       does, else start a new session there) */
    const char *resume_dir;
    int state_dir;             /* 1: given as --state-dir */
    int warmup;                /* run --warmup N; -1 = the strategy's own (sim_strategy_warmup) */
    int resuming;              /* 1: options were loaded from resume_dir/session.json */
    cJSON *resume_doc;         /* owned: the loaded session.json */
    char **resume_argv;        /* owned array; strings in resume_doc or argv */
    /* positional arguments (serve: FILEs) */
    char **rest;
    int n_rest;
} session_opts;

/* What a command accepts besides the shared engine/feed/server flags. */
enum { SESSION_F_SIM = 1, SESSION_F_FILES = 2, SESSION_F_RESUME = 4 };

/* Returns 0, or an exit code (PT_EXIT_USAGE after printing why; with
 * SESSION_F_RESUME also PT_EXIT_CORRUPT for a session.json that does not parse). */
int session_opts_parse(session_opts *o, const char *cmd, int flags, int argc, char **argv);
void session_opts_free(session_opts *o);
/* The "args" of session.json: every engine and feed option as effective
 * values (flags and --set), enough to rebuild the same session_opts without the
 * config file or the environment. NULL when out of memory. Caller frees. */
cJSON *session_opts_args_json(const session_opts *o);
/* The shared part of the --help text. */
void session_opts_usage(FILE *out, int flags);

/* ================================================================ the live clock */
/* session_live.c: the live paper session. One libwebsockets context and
 * one thread own everything: the exchange feed (feed_live), optionally the
 * in-process exchange simulator (feed_xsim, for demo and backtest --serve),
 * the engine (sim), the ledger and candle recorder, the dashboard server
 * (wss), the heartbeat and signal-poll timers. See docs/session.md for the
 * event flow and the shutdown order.
 *
 * Outputs in OUT: trades.csv, portfolio.csv (ledger), candles/<SYMBOL>.csv
 * (every closed candle the engine processed, written before it reaches the
 * engine), report.json, session.json, papertrader.log, errors.log.
 *
 * Ownership: the config is borrowed for the call; everything the session
 * creates is freed before session_live_run() returns. */

typedef struct session_live_config {
    const session_opts *o;
    const char *mode;               /* "run", "demo", "serve": messages and the default out dir */
    const feed_xsim_config *xsim;   /* non-NULL: start this simulator on the same context and
                                       point the feed at it (ws_url/rest_url from its port) */
    int64_t end_ts_ms;              /* > 0: stop by itself once every symbol has a closed
                                       candle at or after this open time (serve) */
} session_live_config;

/* Runs until SIGINT/SIGTERM, --duration, end_ts_ms, or a fatal output
 * error. Returns a process exit code (enum pt_exit): 0 after a clean stop. */
int session_live_run(const session_live_config *cfg);

/* ================================================================ the backtest clock */
/* A backtest: candle files drive the engine (session_backtest.c). The
 * command line (app/cmd_backtest.c) fills the config; optimize and
 * walk-forward fill the same one and run the engine many times themselves
 * (session_backtest_open). Same inputs and options give byte-identical
 * trades.csv, portfolio.csv and report.json.
 *
 * Ownership: every pointer in the config is the caller's and must stay
 * valid for the call. The strategy is loaded here: cfg.strategy is NULL. */
#define SESSION_BACKTEST_MAX_FILES 64
#define SESSION_BACKTEST_MAX_ARGS 320 /* session.json "args" strings */

typedef struct session_backtest_config {
    sim_engine_config cfg;             /* engine flags applied; strategy NULL */
    const char *strategy;              /* name, or absolute path of a .so */
    const char *symbol, *order, *controls; /* NULL when not given */
    const char *const *params;         /* the --param K=V texts */
    int n_params;
    char **files;                      /* FILE... as given */
    int nfiles;
    const char *const *args;           /* result-shaping flags and arguments as given */
    int n_args;                        /* (session.json "args" of a backtest) */
    int quiet;
    /* the run's own (session_backtest_run) */
    const char *out;                   /* --out; NULL: session_default_dir(.., "backtest") */
    const char *sizing_text;           /* --sizing as given (session.json); NULL: all-in */
    int json, force, no_report;
    int trade_from_given;              /* --trade-from: else a recording's session.json may say it */
    int rows_every, rows_change;       /* --portfolio-rows N / change */
    pf_sync_policy sync;               /* --fsync: a backtest defaults to none (re-derivable) */
    uint64_t crash_after;              /* test hook --crash-after-fills N (or PT_CRASH_AFTER_FILLS) */
    const char *funding, *mark;        /* perp: --funding FILE, --mark FILE (docs/futures.md); NULL: none */
    int64_t funding_interval_ms;       /* --funding-interval */
    const char *rules_file;            /* --rules FILE (docs/rules.md); NULL: none */
    const pf_rules_set *rule_keys;     /* --rule SYMBOL:KEY=VALUE on top (an empty set: none) */
} session_backtest_config;

/* A new backtest into c->out. Returns a process exit code (enum pt_exit):
 * 2 bad strategy or parameters, 3 missing or unusable input, 5 ledger
 * corrupt, 6 folder locked, 1 output error. */
int session_backtest_run(const session_backtest_config *c);
/* --resume DIR: the command's own parser, given DIR/session.json's "args"
 * and "files" as an argv (argv[0] "backtest"); fills *c (pointers may point
 * into argv, valid for the run). 0, or nonzero when they do not parse. */
typedef int (*session_backtest_parse_fn)(int argc, char **argv, session_backtest_config *c, void *ud);
/* Locks DIR, reads session.json (a live session's folder, a missing one or
 * a finished backtest say so), parses it with parse and runs it again from
 * the first candle; now gives the options that do not shape the result
 * (quiet, json, sync, crash_after). Returns a process exit code. */
int session_backtest_resume(const char *dir, const session_backtest_config *now, session_backtest_parse_fn parse,
                            void *ud);
/* The input candles as `backtest` reads them (k-way merge, or --order), each
 * file read once. *rejects counts the rows the readers dropped; *bar_ms is
 * the first file's interval (0 if unknown). PT_OK or the reader's error
 * (logged with the path). */
int session_backtest_open(const session_backtest_config *c, uint64_t *rejects, int64_t *bar_ms, feed_source *out);

/* session/backtest_warm.c: the "trade_from_ms" of the live session whose
 * recording the inputs are (FILE or --order under DIR/candles/, with
 * DIR/session.json), or 0. from gets that session.json's path. */
int64_t session_recorded_trade_from(char *const *files, int nfiles, const char *order, char *from, size_t cap);
/* 1 with DIR in dir when path is DIR/candles/NAME (a live recording), else 0. */
int session_recording_dir_of(const char *path, char *dir, size_t cap);

/* ================================================================ trading rules */
/* session_rules.c: where a session's trading rules come from (docs/rules.md):
 * a saved file (--rules FILE / [session] rules), the exchange's metadata
 * (live sessions), the [symbol.NAME] keys of the config on top; and the
 * session folder's cache DIR/rules.json that a resume and a replay read.
 * The rules themselves and their arithmetic are portfolio/'s (pf_rules),
 * the fetch feed/'s (feed_rules_fetch). */
struct lws_context;

/* [symbol.NAME] keys of c over *out (merged field by field). PT_OK, or
 * PT_EINVAL after logging "[symbol.X] key = 'v' (origin): why". */
int session_rules_config(const ops_config *c, pf_rules_set *out);

typedef struct session_rules_live_in {
    const ops_config *cfg;      /* [session] rules, [symbol.NAME] */
    const char *exchange, *rest_url, *ca_file;
    const char *const *symbols;
    int n_symbols;
    const char *outdir;         /* DIR: DIR/rules.json */
    int resuming;               /* 1: DIR/rules.json only, never a fetch */
    struct lws_context *cx;     /* serviced while the fetch runs (an in-process simulator answers) */
} session_rules_live_in;

/* A live session's rules, before its first candle: resuming, the cache (or
 * none if the session had none); else the file or the exchange's metadata
 * (a failed fetch is one warning: the session goes on with the config's
 * rules or none, and says which), the config's keys on top, cached in
 * DIR/rules.json when there are any. PT_OK, or an error for a bad file or
 * key (logged). */
int session_rules_live(const session_rules_live_in *in, pf_rules_set *out);

/* backtest --rule SYMBOL:KEY=VALUE (a [symbol.NAME] key of the config, as
 * backtest_config.c derives it) into keys. PT_EINVAL after printing why. */
int session_rules_arg(const char *arg, pf_rules_set *keys);
/* A backtest's rules: the --rules file (NULL: none), else the rules.json of
 * the live session whose recording the inputs are (DIR/candles/...), then
 * the --rule keys on top. out->n == 0: none. PT_OK or the file's error. */
int session_rules_backtest(const char *file, const pf_rules_set *keys, char *const *files, int nfiles,
                         const char *order, pf_rules_set *out);

/* ================================================================ backtest --config */
/* backtest --config FILE: the config layers of docs/config.md for a backtest.
 *
 * The engine keys that the file or the PAPERTRADER_* environment set become
 * command-line flags placed BEFORE the user's own, so flags still win and
 * session.json records the effective values (a --resume never needs the
 * file again). Keys without an engine meaning ([feed], [server], ...) are
 * validated like everywhere else and otherwise ignored.
 *
 * Ownership: *out is malloc'd and owns the derived flag strings; argv's own
 * strings stay borrowed. Free with session_backtest_config_free (NULL: no-op). */

typedef struct session_backtest_argv {
    int argc;
    char **argv;   /* argv[0], derived flags, then the caller's argv[1..] */
} session_backtest_argv;

/* Returns 0, or an exit code after printing why (bad file: file:line). */
int session_backtest_config_args(int argc, char **argv, session_backtest_argv **out);
void session_backtest_config_free(session_backtest_argv *a);

/* ================================================================ recorded operator controls */
/* backtest --controls FILE: replays a live session's operator controls
 * (DIR/controls.csv, written by session/session_dash.c: boundary_ts,
 * boundary_time, action, symbol) so that `backtest` on a session's recording
 * reproduces its manual fills too (docs/session.md "Parity").
 *
 * Ownership: session_controls_load allocates *out (bounded:
 * SESSION_CONTROLS_MAX rows); free with session_controls_free (NULL: no-op). */

/* Rows a controls.csv may hold: the replay's bound, and the live session
 * refuses a control past it (session/session_dash.c), so every recorded control
 * replays. */
#define SESSION_CONTROLS_MAX 10000

typedef struct session_controls session_controls;

/* PT_OK; PT_EIO unreadable; PT_EPARSE with "FILE:LINE: field: why" logged. */
int session_controls_load(const char *path, session_controls **out);
/* Queues in the engine every recorded control with a boundary before ts:
 * call before pushing a candle at ts, and with INT64_MAX before
 * sim_engine_finish. Returns PT_OK or the engine's refusal (logged). */
int session_controls_apply(session_controls *c, sim_engine *e, int64_t ts);
/* Rows loaded (0 for NULL). */
size_t session_controls_count(const session_controls *c);
void session_controls_free(session_controls *c);

/* ================================================================ report.html */
/* report_html: DIR/report.html, one self-contained page for a backtest
 * output folder (equity, drawdown, candles with trade markers, metrics).
 * The chart library, web/report.js and web/report.css are inlined, the data
 * is embedded as JSON, so the file opens from disk with no server and makes
 * no network request (its Content-Security-Policy forbids them).
 *
 * Reads DIR/report.json (required), DIR/session.json, DIR/trades.csv,
 * DIR/portfolio.csv and the input candle files named in session.json.
 * Memory is bounded: the CSVs are streamed; the equity curve is decimated to
 * at most SESSION_REPORT_EQ_POINTS points, the chart keeps the last SESSION_REPORT_CANDLES
 * candles of at most SESSION_REPORT_SYMBOLS symbols and the last SESSION_REPORT_TRADES
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

#define SESSION_REPORT_EQ_POINTS 4000
#define SESSION_REPORT_CANDLES 20000
#define SESSION_REPORT_SYMBOLS 8
#define SESSION_REPORT_TRADES 10000

/* Writes out_dir/report.html atomically (out_dir/.report.html.tmp, fsync,
 * rename). vendor_js_path: lightweight-charts' standalone build; NULL =
 * wss_default_vendor_js(). The page's own files come from
 * wss_default_web_dir(). Returns PT_OK, PT_ENOENT (no report.json),
 * PT_ECORRUPT (report.json does not parse), PT_ERANGE (too big), PT_EIO
 * (write error or a missing asset), PT_EINVAL (an asset holds its own end
 * tag), PT_ENOSPC, PT_ENOMEM; logged once with the path. Missing or bad candle files and bad
 * CSV rows are warnings: the page still gets written and says so. */
int session_report_html_write(const char *out_dir, const char *vendor_js_path);

/* The same page for a run in progress: the backtest feeds every candle and
 * portfolio row as the engine sees them (a bounded ring copy and a
 * decimation step each), so portfolio.csv and the input files are not read
 * back at the end (they were ~40 % of a backtest's time). report.json,
 * session.json and trades.csv are still read from out_dir by _write.
 * Ownership: _new allocates; _free (NULL: no-op) frees; a failed candle
 * copy (out of memory) makes _write fall back to reading the folder. */
typedef struct session_report_run session_report_run;
int session_report_run_new(session_report_run **out);
void session_report_run_candle(session_report_run *r, const pt_candle *c);
void session_report_run_row(session_report_run *r, int64_t ts, double equity, double drawdown);
/* Input rows the run's reader rejected (the page notes them). */
void session_report_run_rejected(session_report_run *r, uint64_t rows);
int session_report_run_write(session_report_run *r, const char *out_dir, const char *vendor_js_path);
void session_report_run_free(session_report_run *r);

/* ================================================================ the [strategy] check */
/* The [strategy] section of a config checked as the engine would take it:
 * the name loads, every parameter is the strategy's and in its range, and
 * the set passes the strategy's own create() (relations such as fast <
 * slow). Each error is logged once with where the value came from
 * (file:line, environment variable or flag). Used by `config check`,
 * `backtest --config` and the live commands. */

/* Overrides given on the command line (borrowed for the call): name NULL
 * keeps the config's; kv are "K=V" --param values, later ones win. */
typedef struct session_strategy_overrides {
    const char *name;
    const char *const *kv;
    int n_kv;
} session_strategy_overrides;

/* Returns the number of errors found (0: the strategy would start). */
int session_strategy_check(const ops_config *c, const session_strategy_overrides *over);

/* Fills over from argv's --strategy and --param (both "--x V" and
 * "--x=V" forms, up to "--"); kv_buf holds cap entries. */
void session_strategy_overrides_scan(int argc, char **argv, session_strategy_overrides *over, const char **kv_buf, int cap);

#endif
