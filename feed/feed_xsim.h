/* feed: the built-in exchange simulator (internal header of the feed
 * module; `papertrader exchange-sim` and `papertrader demo` use it).
 *
 * A loopback server speaking the Binance spot or Bitvavo market-data
 * protocol (WebSocket stream + REST candles on one port) over a seeded
 * synthetic market or recorded CSV files, faster than real time, with
 * fault injection. Message shapes follow the exchanges' public API docs
 * (Binance spot, Bitvavo; see feed_xsim_proto.c); the behaviour is
 * documented in docs/exchange-sim.md.
 *
 * Threads: everything runs on the lws service thread of the caller's
 * context (created with DO_SSL_GLOBAL_INIT | EXPLICIT_VHOSTS).
 * Ownership: feed_xsim_new() copies the config (strings included) and
 * returns a simulator the caller frees with feed_xsim_free() (NULL is a
 * no-op) BEFORE lws_context_destroy(). Must never: block the loop, listen
 * on anything but 127.0.0.1, or hold more than its bounds (clients, queue
 * slots and bytes per client, rows per CSV).
 */
#ifndef PT_FEED_XSIM_H
#define PT_FEED_XSIM_H

#include "pt_core.h"

#ifdef __cplusplus
extern "C" {
#endif

struct lws_context;

/* ------------------------------------------------------------ faults */
/* X(enum, spec key, kind) kind: 'p' probability, 'd' duration/period */
#define FEED_XSIM_FAULT_MAP(X)                                                 \
    X(FEED_XSIM_F_DROP, "drop")               /* abrupt close every N s */   \
    X(FEED_XSIM_F_STALL, "stall")             /* silent D s every P s */      \
    X(FEED_XSIM_F_DUP, "dup")                 /* re-send a closed candle */   \
    X(FEED_XSIM_F_OOO, "ooo")                 /* send an older closed one */  \
    X(FEED_XSIM_F_SKIP, "skip")               /* never send the close */      \
    X(FEED_XSIM_F_MALFORMED, "malformed")     /* invalid JSON message */      \
    X(FEED_XSIM_F_OVERSIZE, "oversize")       /* 2 MiB text frame */          \
    X(FEED_XSIM_F_HTTP429, "http429")         /* REST 429 + Retry-After */    \
    X(FEED_XSIM_F_HTTP418, "http418")         /* REST 418 + Retry-After */    \
    X(FEED_XSIM_F_NOHANDSHAKE, "nohandshake") /* accept TCP, never answer */  \
    X(FEED_XSIM_F_SHUTDOWN, "shutdown")       /* serverShutdown + close every N s */

typedef enum feed_xsim_fault {
#define FEED_XSIM_F_ENUM_(name, key) name,
    FEED_XSIM_FAULT_MAP(FEED_XSIM_F_ENUM_)
#undef FEED_XSIM_F_ENUM_
    FEED_XSIM_F__COUNT
} feed_xsim_fault;

const char *feed_xsim_fault_name(feed_xsim_fault f);

typedef struct feed_xsim_faults {
    double p[FEED_XSIM_F__COUNT];   /* probabilities in [0,1] (0 = off) */
    int64_t drop_ms;                /* 0 = off */
    int64_t shutdown_ms;            /* 0 = off */
    int64_t stall_ms, stall_every_ms; /* stall_ms 0 = off; every default 60 s */
    int64_t retry_after_s;          /* Retry-After on 429/418; default 1 */
    int64_t until_ms;               /* every fault stops this long after the start; 0 = never */
} feed_xsim_faults;

/* Parses "drop=30s,stall=5s@60s,dup=0.05,...,retry=2" (grammar in
 * docs/exchange-sim.md). Durations take ms/s/m/h suffixes (bare = s).
 * NULL or "" = no faults. PT_EINVAL with a reason in why[cap]. */
int feed_xsim_faults_parse(const char *spec, feed_xsim_faults *out, char *why, size_t cap);

/* ------------------------------------------------------------ market */
/* One bar with every field the protocols carry. */
typedef struct feed_xsim_bar {
    int64_t ts_ms;               /* open time */
    double o, h, l, c, v;        /* base volume */
    double q, tv, tq;            /* quote volume, taker buy base/quote */
    int64_t n, first_id, last_id; /* trades; ids -1 when n == 0 */
} feed_xsim_bar;

/* Deterministic synthetic market: the bar for (seed, symbol, open time,
 * interval) is a pure function (hash-based multi-scale noise, so REST and
 * stream always agree); open = previous close; prices > 0, OHLC
 * consistent. frac in [0,1] gives the in-progress state at that fraction
 * of the interval (1 = final); every partial state is inside the final
 * one's range. */
void feed_xsim_synth_bar(uint64_t seed, const char *symbol, int64_t ts_ms, int64_t interval_ms, double frac,
                         feed_xsim_bar *out);
/* In-progress view of a known final bar (CSV mode): close moves linearly
 * from open, volumes scale with frac. */
void feed_xsim_partial(const feed_xsim_bar *final, double frac, feed_xsim_bar *out);

/* Hash helpers shared by the market and the fault decisions: a uniform
 * [0,1) that is a pure function of its inputs (splitmix64). */
uint64_t feed_xsim_hash_str(const char *s);
double feed_xsim_u01(uint64_t seed, uint64_t a, uint64_t b, uint64_t c);

/* ------------------------------------------------------------ server */
#define FEED_XSIM_MAX_SYMBOLS 64
#define FEED_XSIM_MAX_FILES 64

typedef struct feed_xsim_config {
    const char *protocol;        /* "binance" (default) | "binance-futures" | "bitvavo" | "bybit" | "okx" */
    int port;                    /* 0 = a free port (see feed_xsim_port) */
    double speed;                /* simulated ms per wall ms; 0 = 1 */
    const char *const *symbols;  /* exchange spelling; CSV: names in file order */
    size_t n_symbols;
    const char *const *files;    /* CSV files, one symbol each; 0 = synthetic */
    size_t n_files;
    int64_t interval_ms;         /* 0 = 60000 (CSV: detected when 0) */
    uint64_t seed;
    int64_t start_ms;            /* 0 = derived (seed / first CSV row) */
    const char *faults;          /* spec or NULL */
    int ping_secs;               /* server ping period; 0 = 20 */
    int updates;                 /* in-progress updates per candle; 0 = 4, -1 = none */
    int max_clients;             /* 0 = 64 */
    const struct pf_rules_set *rules; /* trading rules served by the metadata endpoints over the
                                 ones derived from the market (docs/exchange-sim.md); NULL =
                                 derived only. Copied. */
    const char *funding;         /* binance-futures: "every=8h,rate=R" (both optional): funding
                                    times every DUR from 00:00 UTC (default 8h); rate R fixed,
                                    else a pure function of seed, symbol and time. NULL = defaults */
} feed_xsim_config;

typedef struct feed_xsim_stats {
    uint64_t faults[FEED_XSIM_F__COUNT];
    uint64_t marks_sent; /* binance-futures mark price updates (all streams) */
    uint64_t clients_now, clients_total, clients_refused, slow_client_drops;
    uint64_t ws_msgs, ws_bytes, closed_sent, updates_sent, stalled_msgs;
    uint64_t rest_requests, rest_errors;
} feed_xsim_stats;

typedef struct feed_xsim feed_xsim;

/* Loads the market, creates the listening vhost on 127.0.0.1 (IPv6 off)
 * and starts the clock. PT_EINVAL bad config or fault spec (logged),
 * PT_ENOENT/PT_EIO/PT_EPARSE CSV errors, PT_EFULL too many rows,
 * PT_EIO the port cannot be bound, PT_ENOMEM. */
int feed_xsim_new(struct lws_context *cx, const feed_xsim_config *cfg, feed_xsim **out);
int feed_xsim_port(const feed_xsim *x);
void feed_xsim_get_stats(const feed_xsim *x, feed_xsim_stats *out);
/* One stderr summary line of the counters (also done by free). */
void feed_xsim_log_summary(const feed_xsim *x);
/* Closes every client and the vhost; loop thread. */
void feed_xsim_free(feed_xsim *x);

#ifdef __cplusplus
}
#endif
#endif
