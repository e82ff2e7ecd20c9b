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
    uint64_t *rejects_out;   /* NULL, or incremented per rejected row (on top of the above);
                                shared by every reader given the same opts */
    int64_t *interval_out;   /* NULL, or feed_csv_open stores the most common step (ms)
                                between rows of one symbol in the first 2000 rows (at
                                most 1 MiB), 0 for fewer than two rows. Read once: the
                                rows come from a look-ahead of the same stream that
                                feed_csv_next then reads first, so FIFOs and pipes work;
                                their rejects are reported when feed_csv_next reaches
                                them. Written during the call only. */
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
/* The symbol rows get when the file has no symbol column: opts.symbol, else
 * the file's stem ("data/BTCUSDT.csv" -> "BTCUSDT"). Valid until free. */
const char *feed_csv_default_symbol(const feed_csv *r);
/* The same rule from a path alone, into out (PT_SYMBOL_MAX bytes). */
void feed_csv_path_symbol(const char *path, char *out);
void feed_csv_free(feed_csv *r);

/* Opens path with interval_out (above), closes it and returns the most
 * common positive step between consecutive rows of one symbol, in ms.
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
 * together in event time. Takes ownership of the n sources (copied), also
 * when it fails (they are freed then). A source's own row order is kept. */
int feed_source_merge(const feed_source *srcs, size_t n, feed_source *out);
/* A live session's recording replayed in the order its engine saw it:
 * each line of order_path (DIR/candles/.order) names the symbol whose
 * source gives the next candle. Takes ownership of the n sources (also on
 * failure). PT_EOF at the end of the order (rows past it were recorded but
 * never processed) or when a named symbol has no row left (logged);
 * PT_EPARSE for a name no source has (file:line logged). */
int feed_source_ordered(const feed_source *srcs, size_t n, const char *order_path, feed_source *out);
void feed_source_free(feed_source *src); /* NULL or empty: no-op */

/* ======================================================= live feed (live)
 * Exchange WebSocket client + REST backfill. One adapter per exchange
 * protocol (a const table, feed_live_internal.h). Everything here runs on the
 * lws service thread except the REST worker inside; see docs/feed.md.
 *
 * Ownership: feed_live_new() returns a feed the caller frees with
 * feed_live_free() (NULL is a no-op) BEFORE lws_context_destroy(). The config
 * is copied. Candles passed to callbacks are borrowed for the call only. */
struct lws_context;

/* Why a live message (or REST row) was dropped. */
#define FEED_DROP_MAP(X)                                                       \
    X(FEED_DROP_INVALID_JSON, "invalid_json")                                  \
    X(FEED_DROP_SCHEMA, "schema")             /* wrong shape / missing key */  \
    X(FEED_DROP_BAD_NUMBER, "bad_number")     /* price not a finite > 0 */     \
    X(FEED_DROP_BAD_TIME, "bad_time")         /* time missing or absurd */     \
    X(FEED_DROP_WRONG_SYMBOL, "wrong_symbol") /* not subscribed */             \
    X(FEED_DROP_WRONG_INTERVAL, "wrong_interval")                              \
    X(FEED_DROP_BINARY, "binary")             /* binary frame */               \
    X(FEED_DROP_TOO_BIG, "too_big")           /* over max_msg_bytes */         \
    X(FEED_DROP_EXCHANGE_ERROR, "exchange_error") /* error frame */             \
    X(FEED_DROP_BAD_UTF8, "bad_utf8")         /* text not UTF-8: close 1007 */

typedef enum feed_drop_reason {
#define FEED_DROP_ENUM_(name, text) name,
    FEED_DROP_MAP(FEED_DROP_ENUM_)
#undef FEED_DROP_ENUM_
    FEED_DROP__COUNT
} feed_drop_reason;
const char *feed_drop_name(feed_drop_reason r);

typedef enum feed_breaker_state {
    FEED_BREAKER_CLOSED = 0, /* requests flow */
    FEED_BREAKER_OPEN,       /* no requests until the open period ends */
    FEED_BREAKER_HALF_OPEN,  /* one probe in flight */
} feed_breaker_state;
const char *feed_breaker_name(feed_breaker_state s);

typedef enum feed_conn_state {
    FEED_CONN_IDLE = 0,
    FEED_CONN_CONNECTING,
    FEED_CONN_BACKFILLING, /* connected; REST gap fill in progress */
    FEED_CONN_LIVE,
    FEED_CONN_STALE,       /* silent past stale_after: reconnecting */
    FEED_CONN_WAITING,     /* backoff before the next attempt */
} feed_conn_state;
const char *feed_conn_name(feed_conn_state s);

typedef struct feed_live_config {
    const char *exchange;    /* "binance" | "binance-futures" | "bitvavo" | "bybit" | "okx" */
    const char *ws_url;      /* base, e.g. "wss://stream.binance.com:9443"; NULL = adapter default */
    const char *rest_url;    /* base (scheme://host[:port]); NULL = adapter default */
    const char *const *symbols; /* exchange spelling ("BTCUSDT", "BTC-EUR") */
    size_t n_symbols;        /* 1..FEED_LIVE_MAX_SYMBOLS */
    int64_t interval_ms;     /* must have an exchange name (60000 = "1m") */
    int64_t backoff_base_ms; /* 0 = 500 */
    int64_t backoff_cap_ms;  /* 0 = 30000 */
    int64_t healthy_ms;      /* valid data this long resets the backoff; 0 = 60000 */
    int64_t stale_after_ms;  /* no data -> stale + reconnect; 0 = 3 x update period (>= 10 s) */
    size_t max_msg_bytes;    /* 0 = 1 MiB; bigger -> close 1009 */
    const char *ca_file;     /* extra CA (tests); NULL = system CAs only */
    int64_t close_grace_ms;  /* no-closed-flag exchanges: bar final at open+interval+grace; 0 = 5000 */
    int ping_secs;           /* lws validity ping; 0 = 20 */
    int hangup_secs;         /* no pong this long -> hang up; 0 = 30 */
    int backfill;            /* 1 (default when set by caller) = REST gap fill; 0 = off */
    size_t max_buffered;     /* live closed candles held during a backfill; 0 = 4096 */
    double rest_per_sec;     /* REST token bucket refill; 0 = 5/s (Binance's weight budget). A
                                simulator at --speed X compresses time: its caller scales this */
    const int64_t *start_after_ts; /* NULL, or per symbol (n_symbols): the last closed open
                                time already consumed (a resumed session); INT64_MIN = none.
                                The series start there: the first connect backfills the
                                bars after it; live bars up to it count as duplicates.
                                Borrowed for the call. */
    int warmup_candles;      /* > 0 (needs backfill): a series without start_after_ts starts this
                                many bars before the exchange's bar in progress at the first
                                message, backfilled like a resume; stats.warmup_until_ms says
                                where the warm-up ends. Bounded by FEED_MAX_BACKFILL. */
} feed_live_config;
#define FEED_LIVE_MAX_SYMBOLS 64

/* Perpetual futures (binance-futures): the exchange's mark price stream,
 * judged on the exchange's clock only (event times E and funding times T,
 * never our wall clock). docs/feed.md "Perpetuals: marks and funding". */
typedef struct feed_mark {
    char symbol[PT_SYMBOL_MAX];
    int64_t event_ms;        /* E: exchange time of this update */
    double mark_price;       /* p */
    double index_price;      /* i; 0 when the message has none */
    double funding_rate;     /* r: the rate announced for next_funding_ms */
    int64_t next_funding_ms; /* T: the next funding time */
} feed_mark;

/* A funding settlement: at ts_ms (a funding time T) every open position of
 * symbol pays (long, rate > 0) or receives notional-at-mark x rate. */
typedef struct feed_funding {
    char symbol[PT_SYMBOL_MAX];
    int64_t ts_ms;     /* funding time T (exchange clock, ms UTC) */
    double rate;       /* the rate last announced for T */
    double mark_price; /* the last mark at or before T; 0 = unknown */
} feed_funding;

typedef struct feed_live_callbacks {
    /* c->closed = 1: final bar, strictly increasing ts per symbol, once.
     * c->closed = 0: in-progress update of the newest bar. */
    void (*on_candle)(void *ud, const pt_candle *c);
    /* connection state changes; reason is a short static/borrowed text */
    void (*on_state)(void *ud, feed_conn_state st, const char *reason);
} feed_live_callbacks;

/* Perpetual venues only: set with feed_live_set_perp_callbacks (NULL members
 * = not wanted). Every pointer is borrowed for the call.
 * on_mark: each mark update in event-time order per symbol (older or
 * repeated ones are dropped). on_mark_bar: a closed mark-price bar of the
 * feed's interval (closed = 1, ts = open time, volume 0), built from the
 * updates whose E falls in [ts, ts+interval), delivered once the first update
 * at or past its end arrives: the live twin of a `fetch --mark` row.
 * on_funding: once per funding time T, when the first update with E >= T
 * announces the next T; strictly increasing T per symbol. */
typedef struct feed_perp_callbacks {
    void (*on_mark)(void *ud, const feed_mark *m);
    void (*on_mark_bar)(void *ud, const pt_candle *bar);
    void (*on_funding)(void *ud, const feed_funding *f);
} feed_perp_callbacks;

typedef struct feed_live_symbol_stats {
    char symbol[PT_SYMBOL_MAX];
    int64_t last_closed_ts; /* INT64_MIN = none yet */
    int64_t last_msg_mono_ms; /* 0 = never */
    uint64_t closed, updates, duplicates, out_of_order, gaps, gap_candles;
} feed_live_symbol_stats;

#define FEED_REST_LAT_BUCKETS 20
/* A duration's bucket in rest_lat_*, and a representative duration of a
 * bucket (its geometric middle), for percentiles downstream. */
int feed_rest_lat_bucket(double ms);
double feed_rest_lat_mid_ms(int bucket);

typedef struct feed_live_stats {
    uint64_t msgs, bytes;
    uint64_t dropped[FEED_DROP__COUNT];
    uint64_t duplicates, out_of_order, gaps;
    uint64_t connects, reconnects, stale_events, oversized;
    uint64_t backfills, backfilled_candles, backfill_failures, buffer_overflows;
    uint64_t rest_ok, rest_http_err, rest_net_err, rest_rate_limited, rest_parse_err;
    uint64_t rate_limit_waits;
    /* REST request durations (curl perform, per attempt) by outcome:
     * bucket 0 < 1 ms, bucket i in [2^(i-1), 2^i) ms, the last one open. */
    uint64_t rest_lat_ok[FEED_REST_LAT_BUCKETS], rest_lat_failed[FEED_REST_LAT_BUCKETS];
    feed_breaker_state breaker;
    feed_conn_state state;
    int backoff_attempt;
    int64_t last_msg_age_ms; /* -1 = never */
    int64_t not_live_ms;     /* how long the stream has been away from live; 0 while live */
    int64_t exchange_now_ms; /* the exchange's clock now (from its event times); 0 = unknown yet */
    int64_t close_grace_ms;  /* how late a bar may close: 0 where the venue flags closed bars */
    char last_error[128];    /* why the last connection failed or closed, or the last exchange
                                error text; "" = none yet */
    size_t n_symbols;
    feed_live_symbol_stats sym[FEED_LIVE_MAX_SYMBOLS];
    int64_t warmup_until_ms; /* warmup_candles: open time of the first bar after the warm-up
                                (the exchange's bar in progress at the first message); 0 = not yet */
    /* perpetual venues: mark updates passed on, closed mark bars, funding
     * events, and funding times the stream skipped (a settlement missed
     * while disconnected: logged, not invented) */
    uint64_t marks, mark_bars, fundings, funding_gaps;
} feed_live_stats;

typedef struct feed_live feed_live;

/* What a person should be told about one symbol's data (issue 15): a pure
 * function of the stats, so /health, the dashboard and the log agree.
 *   connecting    never had data yet (or connected, no closed candle yet)
 *   live          connected and this symbol's last closed candle is recent
 *   stale         connected but no closed candle within 2 intervals on the
 *                 exchange's clock (plus the stats' close_grace_ms)
 *   reconnecting  had data, the stream is away from live for less than down_after_ms
 *   down          away from live for down_after_ms or more (or never up by then)
 * The reason is stats->last_error when there is one. */
#define FEED_SYM_STATUS_MAP(X)                                                 \
    X(FEED_SYM_CONNECTING, "connecting")                                       \
    X(FEED_SYM_LIVE, "live")                                                   \
    X(FEED_SYM_STALE, "stale")                                                 \
    X(FEED_SYM_RECONNECTING, "reconnecting")                                   \
    X(FEED_SYM_DOWN, "down")
typedef enum feed_sym_status {
#define FEED_SYM_ENUM_(name, text) name,
    FEED_SYM_STATUS_MAP(FEED_SYM_ENUM_)
#undef FEED_SYM_ENUM_
} feed_sym_status;
const char *feed_sym_status_name(feed_sym_status s);
feed_sym_status feed_sym_status_of(const feed_live_stats *st, size_t sym, int64_t interval_ms,
                                   int64_t down_after_ms);

/* Exchange protocol adapters (const tables, defined in
 * feed_live_internal.h): a name of feed_adapter_names(); NULL if unknown. */
typedef struct feed_adapter feed_adapter;
const feed_adapter *feed_adapter_find(const char *name);
/* Rewrites a venue's own symbol spelling in place into papertrader's (a
 * name that can name a file): Kraken "BTC/USD" -> "BTC-USD"; other names
 * and unknown exchanges are left as they are. */
void feed_symbol_local(const char *exchange, char *sym);
/* "binance, bitvavo, ...": every adapter name in registry order, for
 * messages and help; static storage, valid for the process */
const char *feed_adapter_names(void);

/* What one venue supports, derived from its adapter (papertrader
 * exchanges). Strings are static. */
#define FEED_VENUE_MAX_IVALS 16
typedef struct feed_venue {
    const char *name, *ws_url, *rest_url, *market, *finality;
    int closed_flag;  /* the venue flags a bar final */
    int history_bars; /* REST depth in bars; 0 = unlimited */
    int rest_page;    /* rows per REST call */
    int64_t live_interval_ms; /* the only interval run/demo stream; 0 = every one of intervals_ms */
    int64_t intervals_ms[FEED_VENUE_MAX_IVALS];
    size_t n_intervals;
} feed_venue;
/* i-th venue (0..); PT_EOF past the last */
int feed_venue_at(size_t i, feed_venue *out);
/* 1 if the exchange trades linear perpetuals (marks and funding: a
 * `--market perp` session needs one), 0 spot only or unknown. */
int feed_exchange_is_perp(const char *name);
/* The `--market` x `--exchange` check: PT_OK for market "spot" (any
 * exchange) or "perp" on a perpetual venue; PT_EINVAL otherwise, with the
 * sentence to show in why[cap] ("--market perp needs a perpetual-futures
 * exchange (binance-futures); 'binance' is spot only"). */
int feed_check_market(const char *exchange, const char *market, char *why, size_t cap);

/* Creates the client vhost on cx (created by the caller with
 * DO_SSL_GLOBAL_INIT | EXPLICIT_VHOSTS) and starts connecting at once.
 * Unsets http_proxy/HTTP_PROXY for this process (lws would route even
 * loopback through it; docs/feed.md). PT_EINVAL bad config (logged),
 * PT_EUNSUPPORTED unknown exchange/interval, PT_ENOMEM, PT_EIO vhost. */
int feed_live_new(struct lws_context *cx, const feed_live_config *cfg, const feed_live_callbacks *cb,
                  void *ud, feed_live **out);
/* Perp callbacks (copied; ud as given to feed_live_new). Call right after
 * feed_live_new, before the loop runs; loop thread. PT_EUNSUPPORTED on a
 * spot venue (no marks, no funding). */
int feed_live_set_perp_callbacks(feed_live *f, const feed_perp_callbacks *cb);
/* Snapshot; loop thread only. */
void feed_live_get_stats(const feed_live *f, feed_live_stats *out);
/* Closes the connection and joins the REST worker. Loop thread. */
void feed_live_free(feed_live *f);

/* REST history download (synchronous; for `papertrader fetch`, never the
 * loop thread). Calls on_candle for each closed candle in [since, until),
 * ascending, once. until_ms <= 0 = now. rest_url NULL = adapter default.
 * PT_OK, PT_EUNSUPPORTED, PT_ENET/PT_ERATELIMIT/PT_EPARSE after retries. */
typedef struct feed_fetch_opts {
    const char *exchange, *rest_url, *symbol, *ca_file;
    int64_t interval_ms, since_ms, until_ms;
    int max_attempts;        /* per page; 0 = 6 */
    int64_t max_retry_after_ms; /* 0 = 600000 */
    int64_t give_up_after_ms;   /* a refused/unreachable exchange: give up after this long; 0 = 15000 */
    /* out: the exchange's own text when it refused the request ("Invalid
     * symbol."), "" otherwise; the caller's buffer of err_cap bytes, or NULL */
    char *err;
    size_t err_cap;
    int mark;                /* 1: mark-price klines instead of trade candles (perp venues;
                                volume 0). PT_EUNSUPPORTED on a spot venue */
} feed_fetch_opts;
typedef int (*feed_fetch_fn)(void *ud, const pt_candle *c); /* nonzero stops */
int feed_fetch_history(const feed_fetch_opts *o, feed_fetch_fn fn, void *ud, feed_live_stats *stats);
/* The funding file (fetch --funding; a live perp session's recording):
 * this header, then feed_funding_format rows "ts,symbol,rate,mark_price"
 * (mark_price empty when unknown), ending in '\n'. Returns the length, or
 * PT_EFULL when cap is too small. */
#define FEED_FUNDING_HEADER "ts,symbol,rate,mark_price\n"
int feed_funding_format(const feed_funding *f, char *buf, size_t cap);
/* The recording of a live perp session (feed_perp_rec.c): DIR/marks/<SYM>.csv
 * (closed mark bars, candle format, volume 0) and DIR/funding/<SYM>.csv
 * (FEED_FUNDING_HEADER), the files `backtest --mark` / `--funding` read.
 * Open creates them (and the folders) or, for a resumed session, cuts a
 * torn last line and remembers each file's last time: rows not newer are
 * skipped (PT_OK), so a resume never duplicates. Rows of a symbol not
 * opened are skipped. Rows are written (write(2)) at once; _sync makes
 * them durable. The caller frees with _free (NULL ok). */
typedef struct feed_perp_rec feed_perp_rec;
int feed_perp_rec_open(const char *dir, const char *const *symbols, size_t n, feed_perp_rec **out);
int feed_perp_rec_mark_bar(feed_perp_rec *r, const pt_candle *bar); /* PT_OK, PT_EIO */
int feed_perp_rec_funding(feed_perp_rec *r, const feed_funding *f);  /* PT_OK, PT_EIO */
int feed_perp_rec_sync(feed_perp_rec *r);
void feed_perp_rec_free(feed_perp_rec *r);
/* Funding history of o->symbol: each settlement with since <= T < until,
 * ascending, once (interval_ms is not used). Same bounds, retries and
 * errors as feed_fetch_history; PT_EUNSUPPORTED on a spot venue. */
typedef int (*feed_funding_fn)(void *ud, const feed_funding *f); /* nonzero stops */
int feed_fetch_funding(const feed_fetch_opts *o, feed_funding_fn fn, void *ud, feed_live_stats *stats);
/* Startup check of a perp session (synchronous, before the loop runs): asks
 * the venue's exchange info whether each symbol is a perpetual contract
 * that is trading. o: exchange, rest_url, ca_file, bounds (symbol, times
 * unused). PT_OK; PT_EINVAL with why ("BTCUSDT_240628 is CURRENT_QUARTER,
 * not a perpetual"); PT_EUNSUPPORTED spot venue; network errors as fetch. */
int feed_check_perp_symbols(const feed_fetch_opts *o, const char *const *symbols, size_t n, char *why, size_t cap);

/* ----------------------------------------------------- trading rules
 * The exchange's tick, lot step, minimum quantity and minimum order value
 * per symbol from its metadata endpoint (the adapter's rules hooks;
 * docs/rules.md). Synchronous, like feed_fetch_history: never on the loop
 * thread (a session runs it on a thread of its own). out is the caller's
 * (portfolio.h), filled for the symbols found; out->source names the venue
 * and endpoint. PT_OK; PT_EUNSUPPORTED (the venue has no rules here),
 * PT_ENOENT (a symbol missing from the answer; the others kept), PT_EINVAL
 * (the venue refused: its text in err), PT_ENET / PT_ERATELIMIT after
 * max_attempts, PT_EPARSE (malformed answer). err: why, in words. */
struct pf_rules_set;
typedef struct feed_rules_opts {
    const char *exchange, *rest_url, *ca_file; /* rest_url NULL = adapter default */
    const char *const *symbols;
    size_t n_symbols;
    int max_attempts;   /* 0 = 3 */
    int64_t timeout_ms; /* per attempt; 0 = 10000 */
    char *err;          /* the caller's buffer of err_cap bytes, or NULL */
    size_t err_cap;
} feed_rules_opts;
int feed_rules_fetch(const feed_rules_opts *o, struct pf_rules_set *out);
/* One answer of that endpoint -> out (tests, tools). Same codes. */
int feed_rules_parse(const char *exchange, const char *body, size_t len, const char *const *symbols, size_t n,
                     struct pf_rules_set *out, char *err, size_t err_cap);

#ifdef __cplusplus
}
#endif
#endif
