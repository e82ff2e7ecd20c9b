/* feed (live part) internals: the exchange adapter interface, the pure
 * backoff / circuit-breaker / token-bucket / Retry-After helpers, the
 * per-symbol merge (dedupe, order, backfill buffer) and the REST client.
 * Not a public header: only the feed sources and the unit tests include it.
 *
 * Ownership: every struct here is caller-allocated unless a _new() says
 * otherwise; nothing keeps pointers to its arguments past the call except
 * feed_rest (it keeps the adapter, a static table). */
#ifndef PT_FEED_LIVE_INTERNAL_H
#define PT_FEED_LIVE_INTERNAL_H

#include "feed.h"

#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------- adapters */
typedef enum feed_msg_kind {
    FEED_MSG_DROP = 0,  /* malformed / unwanted: see reason */
    FEED_MSG_CANDLE,    /* out.candles[0..n) */
    FEED_MSG_ACK,       /* subscription ack */
    FEED_MSG_PING,      /* application-level ping: reply with out.reply */
    FEED_MSG_SHUTDOWN,  /* server announces a close: reconnect now */
    FEED_MSG_WELCOME,   /* the connection is usable (KuCoin): subscribe now */
    FEED_MSG_MARK,      /* out.mark (perpetual venues' mark price update) */
    FEED_MSG_IGNORE,    /* valid but uninteresting (other event types); keep last */
} feed_msg_kind;

#define FEED_PARSE_MAX 8 /* candles per message (Bitvavo sends an array) */

typedef struct feed_parse_out {
    feed_msg_kind kind;
    feed_drop_reason reason; /* kind == DROP */
    char detail[120];        /* DROP: what and which field; exchange error text */
    size_t n;
    pt_candle candles[FEED_PARSE_MAX];
    int64_t event_ms;        /* exchange event time; 0 = none */
    feed_mark mark;          /* kind == MARK */
} feed_parse_out;

/* One exchange protocol. All functions are pure and thread-safe; buffers
 * are the caller's. Functions return PT_OK, PT_EFULL (buffer too small) or
 * PT_EUNSUPPORTED (interval the exchange does not name). */
struct feed_adapter {
    const char *name;
    const char *ws_url;      /* default base */
    const char *rest_url;    /* default base */
    int has_closed_flag;     /* 0: bar final by next-bar / time (Bitvavo) */
    int rest_max_limit;      /* rows per REST call */
    int64_t update_period_ms; /* typical in-progress update cadence */
    const char *market;      /* "spot" or "perp" (papertrader exchanges) */
    int history_bars;        /* REST reaches this many bars back; 0 = unlimited */
    const char *finality;    /* how a bar becomes final, one line (docs/feed.md) */
    char venue_sep;          /* base/quote separator of the venue's names ('/'), mapped to '-'; 0 none */
    int64_t ws_interval_ms;  /* the one interval the socket streams (Coinbase 5m); 0 = every interval_name */
    int (*interval_name)(int64_t ms, char *buf, size_t cap);
    /* path+query to append to the ws base ("/stream?streams=...") */
    int (*ws_path)(const char *const *syms, size_t n, int64_t interval_ms, char *buf, size_t cap);
    /* subscribe message(s) sent once established, several separated by
     * '\0' (one lws_write each); *len = 0 if none needed */
    int (*subscribe)(const char *const *syms, size_t n, int64_t interval_ms, char *buf, size_t cap,
                     size_t *len);
    /* one text message -> out (always filled; never fails) */
    void (*parse)(const char *msg, size_t len, int64_t interval_ms, feed_parse_out *out);
    /* full REST URL for [start, end] (ms, inclusive) */
    int (*rest_url_for)(const char *base, const char *symbol, int64_t interval_ms, int64_t start_ms,
                        int64_t end_ms, int limit, char *buf, size_t cap);
    /* application-level keepalive sent every ping_every_ms while connected;
     * NULL = none (lws protocol pings only) */
    const char *ping_text;
    int64_t ping_every_ms;
    /* REST body -> rows as feed_rest_parse_rows; NULL = that one. A venue
     * error inside the body: its text in err, PT_EINVAL (do not retry) or
     * PT_ERATELIMIT (wait, retry) */
    int (*rest_parse)(const char *body, size_t len, const char *symbol, pt_candle *out, size_t cap, size_t *n,
                      uint64_t drops[FEED_DROP__COUNT], char *err, size_t errcap);
    int rate_limit_status; /* HTTP status the venue answers for a rate limit besides 429/418; 0 none */
    /* Pre-connect token (KuCoin): POST rest base + token_path before every
     * connect; token_parse turns the reply into the ws URL to open and the
     * ping cadence (0 = keep ping_every_ms), or the venue's text in err with
     * PT_EINVAL / PT_ERATELIMIT as rest_parse. NULL = connect to ws_url. */
    const char *token_path;
    int (*token_parse)(const char *body, size_t len, const char *connect_id, char *url, size_t cap,
                       int64_t *ping_ms, char *err, size_t errcap);
    int subscribe_on_welcome; /* send the subscription after FEED_MSG_WELCOME, not at connect */
    /* trading rules (feed_rules.c, docs/rules.md); NULL = the venue has none
     * here. URL of the metadata request for the symbols; its answer ->
     * one record per symbol (PT_OK; PT_ENOENT: a symbol missing, the rest
     * kept; PT_EINVAL: the venue's error text in err; PT_EPARSE) */
    int (*rules_url)(const char *base, const char *const *syms, size_t n, char *buf, size_t cap);
    int (*rules_parse)(const char *body, size_t len, const char *const *syms, size_t n,
                       struct pf_rules_set *out, char *err, size_t errcap);
    /* Perpetual venues (perp = 1); NULL/0 elsewhere. mark_url_for: mark-price
     * klines, as rest_url_for; mark_parse: its body (no volume: 0). */
    int perp;
    int (*mark_url_for)(const char *base, const char *symbol, int64_t interval_ms, int64_t start_ms,
                        int64_t end_ms, int limit, char *buf, size_t cap);
    int (*mark_parse)(const char *body, size_t len, const char *symbol, pt_candle *out, size_t cap, size_t *n,
                      uint64_t drops[FEED_DROP__COUNT], char *err, size_t errcap);
    /* funding history [start, end] (ms, inclusive), at most funding_max_limit rows */
    int (*funding_url_for)(const char *base, const char *symbol, int64_t start_ms, int64_t end_ms, int limit,
                           char *buf, size_t cap);
    int (*funding_parse)(const char *body, size_t len, const char *symbol, feed_funding *out, size_t cap,
                         size_t *n, uint64_t drops[FEED_DROP__COUNT], char *err, size_t errcap);
    int funding_max_limit;
    /* exchange info: path (GET, no parameters) and the check that symbol is a
     * trading perpetual in its body (PT_OK, or PT_EINVAL with why) */
    const char *info_path;
    int (*info_check)(const char *body, size_t len, const char *symbol, char *why, size_t cap);
};

/* feed_rules_venues.c: the venues' rules hooks */
int feed_rules_url_binance(const char *base, const char *const *syms, size_t n, char *buf, size_t cap);
int feed_rules_parse_binance(const char *body, size_t len, const char *const *syms, size_t n,
                             struct pf_rules_set *out, char *err, size_t cap);
int feed_rules_url_bitvavo(const char *base, const char *const *syms, size_t n, char *buf, size_t cap);
int feed_rules_url_bybit(const char *base, const char *const *syms, size_t n, char *buf, size_t cap);
int feed_rules_parse_bybit(const char *body, size_t len, const char *const *syms, size_t n,
                           struct pf_rules_set *out, char *err, size_t cap);
int feed_rules_url_okx(const char *base, const char *const *syms, size_t n, char *buf, size_t cap);
int feed_rules_parse_okx(const char *body, size_t len, const char *const *syms, size_t n,
                         struct pf_rules_set *out, char *err, size_t cap);
int feed_rules_parse_bitvavo(const char *body, size_t len, const char *const *syms, size_t n,
                             struct pf_rules_set *out, char *err, size_t cap);
int feed_rules_url_kraken(const char *base, const char *const *syms, size_t n, char *buf, size_t cap);
int feed_rules_parse_kraken(const char *body, size_t len, const char *const *syms, size_t n,
                            struct pf_rules_set *out, char *err, size_t cap);
int feed_rules_url_coinbase(const char *base, const char *const *syms, size_t n, char *buf, size_t cap);
int feed_rules_parse_coinbase(const char *body, size_t len, const char *const *syms, size_t n,
                              struct pf_rules_set *out, char *err, size_t cap);

extern const feed_adapter feed_adapter_binance;
extern const feed_adapter feed_adapter_binance_futures;
extern const feed_adapter feed_adapter_bitvavo;
extern const feed_adapter feed_adapter_bybit;
extern const feed_adapter feed_adapter_okx;
extern const feed_adapter feed_adapter_bybit_linear;
extern const feed_adapter feed_adapter_kucoin;
extern const feed_adapter feed_adapter_kraken;
extern const feed_adapter feed_adapter_coinbase;
/* i-th adapter of the registry (feed_adapter_util.c), NULL past the last */
const feed_adapter *feed_adapter_at(size_t i);

/* REST kline body -> candles (ascending, deduped by open time, rows with a
 * bad field dropped and counted in drops[]). Rows are Binance/Bitvavo style
 * arrays [open_ms, "o","h","l","c","v", ...]; either order accepted.
 * PT_EPARSE for invalid JSON / not an array (nothing committed), PT_EFULL
 * if more rows than cap. */
int feed_rest_parse_rows(const char *body, size_t len, const char *symbol, pt_candle *out, size_t cap,
                         size_t *n, uint64_t drops[FEED_DROP__COUNT]);
/* The same for an already parsed JSON array of rows (a venue that wraps its
 * rows in an envelope). */
struct cJSON;
int feed_rest_rows(const struct cJSON *arr, const char *symbol, pt_candle *out, size_t cap, size_t *n,
                   uint64_t drops[FEED_DROP__COUNT]);
/* The same with the venue's own row parser (KuCoin: [time_s, o, c, h, l, ...]);
 * row_fn fills one closed candle or drops it through out (reason, detail). */
typedef int (*feed_row_fn)(const struct cJSON *row, const char *symbol, pt_candle *c, feed_parse_out *out);
int feed_rest_rows_with(const struct cJSON *arr, const char *symbol, feed_row_fn row_fn, pt_candle *out, size_t cap,
                        size_t *n, uint64_t drops[FEED_DROP__COUNT]);
/* sorts rows[0..n) ascending, keeps the first of equal open times; new n */
size_t feed_rest_rows_normalise(pt_candle *rows, size_t n);

/* Shared JSON helpers for adapters (feed_adapter_util.c). */
struct cJSON;
struct cJSON *feed_json_parse(const char *msg, size_t len, feed_parse_out *out);
/* A REST body as JSON, or NULL after counting the drop and logging it with
 * the symbol (the caller returns PT_EPARSE). The caller cJSON_Delete()s. */
struct cJSON *feed_rest_json(const char *body, size_t len, const char *symbol, uint64_t drops[FEED_DROP__COUNT]);
int feed_json_time(const struct cJSON *it, int64_t *ms); /* number or digit string */
int feed_json_price(const struct cJSON *it, int allow_zero, double *v);
/* o,h,l,c,v from five string items (feed_json_price); a bad one is dropped
 * naming its field. */
int feed_fill_ohlcv(pt_candle *c, const struct cJSON *const it[5], feed_parse_out *out);
void feed_drop(feed_parse_out *out, feed_drop_reason r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int feed_candle_set_symbol(pt_candle *c, const char *s);
/* A symbol as the venue spells it, uppercased into out: dash = 1 wants one
 * inner dash (OKX, KuCoin "BTC-USDT"), 0 no separator (Bybit "BTCUSDT"). */
int feed_symbol_upper(const char *sym, int dash, char *out, size_t cap);
/* one [open_ms, "o","h","l","c","v", ...] row -> closed candle */
int feed_adapter_parse_row(const struct cJSON *row, const char *symbol, pt_candle *c, feed_parse_out *out);
/* the same with the volume column ignored and 0 (mark-price klines) */
int feed_adapter_parse_mark_row(const struct cJSON *row, const char *symbol, pt_candle *c, feed_parse_out *out);
typedef struct ival_name {
    int64_t ms;
    const char *name;
} ival_name;
int feed_interval_lookup(const ival_name *table, size_t n, int64_t ms, char *buf, size_t cap);

/* Binance's message envelope shared by spot and USD-M futures
 * (feed_adapter_binance.c): errors, acks, combined-stream wrapping, kline,
 * serverShutdown. Any other event type goes to extra (NULL: IGNORE).
 * interval_fn names the subscribed interval. */
typedef void (*feed_bn_event_fn)(const struct cJSON *ev, const char *type, feed_parse_out *out);
void feed_binance_parse(const char *msg, size_t len, int64_t interval_ms,
                        int (*interval_fn)(int64_t, char *, size_t), feed_bn_event_fn extra, feed_parse_out *out);
/* Binance's interval names; spot has 1s, USD-M futures does not. */
int feed_binance_interval(int64_t ms, int with_1s, char *buf, size_t cap);
/* "BTCUSDT" for a valid symbol in any case; PT_EINVAL otherwise */
int feed_binance_upper(const char *symbol, char *out, size_t cap);

/* ------------------------------------------------- perpetuals (feed_perp.c)
 * Per-symbol state over the mark stream: order, mark bars, funding events,
 * all on the exchange's clock. Pure; the live feed owns one per symbol. */
typedef struct feed_perp_series {
    char symbol[PT_SYMBOL_MAX];
    int64_t interval_ms;
    int64_t last_event_ms;  /* newest E accepted; INT64_MIN none */
    int64_t ann_T;          /* funding time being announced; 0 none */
    double ann_rate;        /* the latest rate announced for ann_T */
    double mark_le;         /* the last mark with E <= ann_T */
    int64_t period_ms;      /* last seen gap between funding times; 0 unknown */
    pt_candle bar;          /* mark bar in progress */
    int has_bar;
} feed_perp_series;

typedef struct feed_perp_step {
    int mark_ok;            /* 0: older than or equal to the last update: dropped */
    int bar_closed;         /* bar holds a closed mark bar */
    pt_candle bar;
    int funding;            /* fund holds a settlement */
    feed_funding fund;
    int gap;                /* funding times skipped before this one (missed while away) */
} feed_perp_step;

/* Mark-Price (premiumIndex) body of one symbol -> m (event_ms = "time").
 * PT_OK or PT_EPARSE with why (feed_adapter_binance_futures.c). */
int feed_bnf_premium_parse(const char *body, size_t len, feed_mark *m, char *why, size_t cap);

void feed_perp_init(feed_perp_series *s, const char *symbol, int64_t interval_ms);
void feed_perp_offer(feed_perp_series *s, const feed_mark *m, feed_perp_step *out);

/* ------------------------------------------------------ backoff & limits */
/* splitmix64 step: deterministic RNG for jitter, seedable in tests. */
uint64_t feed_rng_next(uint64_t *state);

/* Full jitter (Brooker 2015): uniform in [0, min(cap, base * 2^attempt)],
 * rnd is any 64-bit random value. */
int64_t feed_backoff_delay(int64_t base_ms, int64_t cap_ms, int attempt, uint64_t rnd);

typedef struct feed_breaker {
    feed_breaker_state state;
    int failures;           /* consecutive */
    int threshold;          /* failures that open it; 0 = 5 */
    int64_t open_ms;        /* base open period; 0 = 60000; jittered +-25 % */
    int64_t until_ms;       /* OPEN: earliest probe time */
    int probe_out;          /* HALF_OPEN: the one probe is in flight */
    uint64_t opens;
} feed_breaker;
/* 1 if a request may go now (moves OPEN -> HALF_OPEN when due; in HALF_OPEN
 * only one caller gets 1 until feed_breaker_record). *wait_ms = time until
 * the next chance when 0 is returned. */
int feed_breaker_allow(feed_breaker *b, int64_t now_ms, int64_t *wait_ms);
void feed_breaker_record(feed_breaker *b, int64_t now_ms, int ok, uint64_t rnd);

typedef struct feed_token_bucket {
    double capacity;     /* burst */
    double per_sec;      /* refill rate */
    double tokens;
    int64_t last_ms;     /* INT64_MIN = not started (full) */
} feed_token_bucket;
void feed_tb_init(feed_token_bucket *tb, double capacity, double per_sec);
/* 0 and tokens taken, or the ms to wait until cost tokens are there. */
int64_t feed_tb_take(feed_token_bucket *tb, int64_t now_ms, double cost);

/* Wait after a 429/418. header_s: CURLINFO_RETRY_AFTER seconds (<= 0 when
 * missing or unparsable, as curl reports it). Present -> clamped to
 * [1000, max_ms] (*clamped = 1 if it was cut); missing -> full-jitter
 * backoff from attempt (at least 1000). */
int64_t feed_retry_after_ms(long long header_s, int64_t max_ms, int attempt, int64_t base_ms,
                            int64_t cap_ms, uint64_t rnd, int *clamped);

/* ------------------------------------------------- per-symbol merge logic
 * The contract: each closed candle reaches the consumer exactly once, in
 * strictly increasing open time. Live closed candles that arrive while a
 * backfill is running are buffered (bounded) and merged afterwards. */
#define FEED_RECENT 64 /* remembered open times for duplicate detection */

typedef enum feed_offer {
    FEED_OFFER_EMIT = 0,
    FEED_OFFER_DUPLICATE,
    FEED_OFFER_OUT_OF_ORDER,
    FEED_OFFER_BUFFERED,
    FEED_OFFER_GAP,       /* buffered; caller must start a backfill for [gap_from, gap_to] */
    FEED_OFFER_OVERFLOW,  /* buffer full: dropped; a later backfill recovers it */
} feed_offer;

typedef struct feed_series {
    char symbol[PT_SYMBOL_MAX];
    int64_t interval_ms;
    int64_t last_ts;           /* last emitted closed open time; INT64_MIN none */
    int64_t recent[FEED_RECENT];
    size_t recent_n, recent_pos;
    int backfilling;
    int64_t gap_from, gap_to;  /* valid after FEED_OFFER_GAP */
    pt_candle *buf;            /* pending live closed candles, ascending */
    size_t buf_n, buf_cap;
    int overflowed;            /* buffer dropped something: refetch after */
    /* no-closed-flag exchanges: the newest in-progress bar */
    pt_candle open_bar;
    int has_open_bar;
    feed_live_symbol_stats st;
} feed_series;

typedef void (*feed_emit_fn)(void *ud, const pt_candle *c);

int feed_series_init(feed_series *s, const char *symbol, int64_t interval_ms, size_t buf_cap);
void feed_series_free(feed_series *s);
/* A live closed candle. Emits through fn when in order. */
feed_offer feed_series_offer(feed_series *s, const pt_candle *c, feed_emit_fn fn, void *ud);
/* Marks a backfill as running (live closed candles get buffered). */
void feed_series_begin_backfill(feed_series *s);
/* Backfill result (ascending rows; ok = 0 when the fetch failed): emits
 * the rows newer than the cursor, then the buffer. covered_to (exclusive;
 * 0 = unknown) is how far REST answered: a hole in the buffer inside that
 * range is a bar the exchange does not have (no trades: Bitvavo omits them)
 * and is counted as a gap; a hole at or past covered_to was never asked for
 * (bars lost while this backfill ran, e.g. a reconnect), so the merge stops
 * there, keeps the rest buffered, sets gap_from/gap_to and returns 1: the
 * caller starts another backfill. Otherwise leaves backfill mode, returns 0. */
int feed_series_end_backfill(feed_series *s, const pt_candle *rows, size_t n, int ok, int64_t covered_to,
                             feed_emit_fn fn, void *ud);
/* No-closed-flag exchanges: an in-progress update. If it starts a newer
 * bar, the previous bar is closed (returned in *closed, 1). */
int feed_series_update_open(feed_series *s, const pt_candle *c, pt_candle *closed);
/* Time-based close: the open bar is final when now >= open+interval+grace. */
int feed_series_close_due(feed_series *s, int64_t now_ms, int64_t grace_ms, pt_candle *closed);

/* ------------------------------------------------------------ REST client */
typedef struct feed_rest feed_rest;

typedef struct feed_rest_config {
    const feed_adapter *ad;
    const char *base_url;       /* NULL = adapter default */
    const char *ca_file;        /* NULL = system CAs */
    int max_attempts;           /* per page; 0 = 6 */
    int64_t max_retry_after_ms; /* 0 = 600000 */
    int64_t backoff_base_ms, backoff_cap_ms; /* 0 = 500 / 30000 */
    long connect_timeout_s, total_timeout_s; /* 0 = 10 / 30 */
    long max_body;              /* bytes; 0 = 8 MiB */
    double bucket_capacity, bucket_per_sec; /* 0 = 10 / 5 per s */
    /* sleep hook (worker: interruptible); returns nonzero to abort */
    int (*sleep_ms)(void *ud, int64_t ms);
    void *sleep_ud;
    uint64_t seed;              /* jitter RNG; 0 = from the clock */
    int64_t give_up_after_ms;   /* network failures of one page: stop after this long; 0 = attempts only */
    int open_ended;             /* no end given: stop at the exchange's newest bar (feed_rest_fetch) */
    int mark;                   /* feed_rest_fetch gets mark-price klines (ad->mark_url_for) */
} feed_rest_config;

int feed_rest_new(const feed_rest_config *cfg, feed_rest **out);
void feed_rest_free(feed_rest *r);
/* Closed candles of symbol in [start, end) (end <= 0: now), pages of the
 * adapter's limit, retries with Retry-After / backoff / breaker. fn gets
 * each candle once, ascending; nonzero from fn stops (returned as is). */
int feed_rest_fetch(feed_rest *r, const char *symbol, int64_t interval_ms, int64_t start_ms,
                    int64_t end_ms, feed_fetch_fn fn, void *ud);
/* Funding settlements of symbol with start <= T < end (end <= 0: now),
 * ascending, once; pages of ad->funding_max_limit rows, the same retries.
 * PT_EUNSUPPORTED for a venue without funding. */
int feed_rest_fetch_funding(feed_rest *r, const char *symbol, int64_t start_ms, int64_t end_ms, feed_funding_fn fn,
                            void *ud);
/* One GET of url with the page retries; the body stays valid until the
 * next request on r. PT_OK, or the errors of feed_rest_fetch. */
int feed_rest_get_body(feed_rest *r, const char *url, const char *what, const char **body, size_t *len);
/* The exchange's own text of the last refused request ("Invalid symbol."),
 * "" if none. Valid until the next fetch or feed_rest_free. */
const char *feed_rest_exchange_error(const feed_rest *r);
/* POST the adapter's token_path (retries, backoff, breaker, bucket as a
 * page): the ws URL and ping cadence from its token_parse. Blocks: the
 * worker thread only. The venue's text via feed_rest_exchange_error. */
int feed_rest_token(feed_rest *r, const char *connect_id, char *url, size_t cap, int64_t *ping_ms);
/* Counters (rest_*, rate_limit_waits, breaker) merged into st. */
void feed_rest_stats(const feed_rest *r, feed_live_stats *st);

/* A feed_rest on its own thread. submit/poll/stats/free: loop thread.
 * wake(ud) is called from the worker after each result is queued. */
typedef struct feed_rest_worker feed_rest_worker;
typedef struct feed_rest_result {
    char symbol[PT_SYMBOL_MAX];
    int64_t start_ms;
    int64_t end_ms;  /* exclusive end the fetch covered when rc == PT_OK */
    pt_candle *rows; /* ascending; the poller frees it with free() */
    size_t n;
    int rc;          /* PT_OK or why the fetch stopped (rows so far kept) */
    int token;       /* a connect-token job (feed_rest_worker_submit_token): url / ping_ms / err, no rows */
    char url[1024];
    int64_t ping_ms;
    char err[256];   /* the venue's text when rc != PT_OK */
} feed_rest_result;
int feed_rest_worker_new(const feed_rest_config *cfg, void (*wake)(void *), void *wake_ud,
                         feed_rest_worker **out);
/* PT_EFULL when 16 jobs+results are pending */
int feed_rest_worker_submit(feed_rest_worker *w, const char *symbol, int64_t interval_ms, int64_t start_ms,
                            int64_t end_ms);
/* A connect token (adapter token_path), queued like a fetch; PT_EFULL as above */
int feed_rest_worker_submit_token(feed_rest_worker *w, const char *connect_id);
int feed_rest_worker_poll(feed_rest_worker *w, feed_rest_result *out); /* PT_OK or PT_EOF */
void feed_rest_worker_stats(feed_rest_worker *w, feed_live_stats *st);
void feed_rest_worker_free(feed_rest_worker *w); /* stops, joins; NULL ok */

#endif
