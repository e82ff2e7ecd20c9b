/* feed: exchange simulator internals shared by feed_xsim.c (server, clock,
 * fan-out) and feed_xsim_proto.c (the per-exchange wire formats). Not for
 * other modules. All of it lives on the lws service thread. */
#ifndef PT_FEED_XSIM_INTERNAL_H
#define PT_FEED_XSIM_INTERNAL_H

#include "feed_xsim.h"

#include <libwebsockets.h>

#define XS_MAX_SUBS 64            /* streams per connection */
#define XS_SUB_NAME 96            /* bytes, NUL included */
#define XS_QSLOTS 1024            /* queued messages per client */
#define XS_QBYTES (8u << 20)      /* queued bytes per client (oversize is 2 MiB) */
#define XS_RX_MAX 65536           /* largest client message we accept */
#define XS_MAX_ROWS 2000000       /* CSV rows in memory, all files */
#define XS_EVENTS_PER_TICK 512    /* catch-up bound per series per timer tick */
#define XS_OOO_HIST 4             /* closed bars kept per series for "ooo" */
#define XS_OVERSIZE (2u << 20)

typedef struct xs_msg {
    unsigned char *buf; /* LWS_PRE headroom + payload */
    size_t len;
} xs_msg;

typedef struct xs_sub {
    char name[XS_SUB_NAME]; /* as the client spelled it */
    int sym;                /* series index, -1 = accepted but silent */
    int kind;               /* XS_KIND_*: what the stream carries */
} xs_sub;
#define XS_KIND_CANDLE 0
#define XS_KIND_MARK_1S 1   /* binance-futures <symbol>@markPrice@1s */
#define XS_KIND_MARK_3S 2   /* binance-futures <symbol>@markPrice */

typedef struct xs_client {
    struct feed_xsim *x;
    struct lws *wsi;
    struct xs_client *next;
    int established, combined, close_after_flush, killed;
    uint64_t id;
    int64_t connected_ms;   /* monotonic */
    int64_t stall_logged;   /* stall cycle last logged, -1 none */
    int nsubs;
    xs_sub subs[XS_MAX_SUBS];
    xs_msg q[XS_QSLOTS];
    unsigned qhead, qlen;
    size_t qbytes;
    lws_sorted_usec_list_t sul_drop, sul_shutdown;
    unsigned char *rx;      /* fragment reassembly */
    size_t rxlen;
    int rx_too_big;
    /* HTTP */
    unsigned char *body;    /* LWS_PRE headroom + body */
    size_t body_len, body_off;
} xs_client;

typedef struct xs_series {
    char sym[PT_SYMBOL_MAX];
    char lower[PT_SYMBOL_MAX];
    feed_xsim_bar *rows; /* CSV: sorted by ts, unique; NULL = synthetic */
    size_t n, cap;
    /* stream cursor */
    int live;            /* 0 = replay finished */
    feed_xsim_bar cur;   /* final state of the bar in progress */
    int next_step;       /* next update index (1..steps-1) */
    feed_xsim_bar hist[XS_OOO_HIST];
    int nhist;
    int64_t mark_next;   /* binance-futures: sim time of the next mark update */
} xs_series;

struct feed_xsim;
typedef struct xs_market_ops {
    const char *name;
    /* first bar with open >= ts (PT_OK) or PT_EOF */
    int (*at_or_after)(const struct feed_xsim *x, size_t s, int64_t ts, feed_xsim_bar *out);
    /* last bar with open <= ts (PT_OK) or PT_EOF */
    int (*at_or_before)(const struct feed_xsim *x, size_t s, int64_t ts, feed_xsim_bar *out);
    /* in-progress state of a final bar at frac of its interval */
    void (*partial)(const struct feed_xsim *x, size_t s, const feed_xsim_bar *fin, double frac,
                    feed_xsim_bar *out);
} xs_market_ops;

typedef struct xs_proto {
    const char *name;
    const char *default_symbols;
    /* is this a WebSocket path of the exchange? sets combined; PT_OK or PT_ENOENT */
    int (*ws_path)(struct feed_xsim *x, xs_client *c, const char *uri, const char *args);
    /* raw event payload for one bar state into buf; returns its length or < 0 */
    int (*event)(const struct feed_xsim *x, size_t s, const feed_xsim_bar *b, int closed, int64_t event_ms,
                 char *buf, size_t cap);
    /* wraps a raw payload for a combined-stream client; NULL = never */
    int (*wrap)(const char *stream, const char *raw, size_t len, char *buf, size_t cap);
    /* one complete text message from a client */
    void (*on_message)(struct feed_xsim *x, xs_client *c, const char *msg, size_t len);
    /* REST: fills a status, a body (malloc'd) and extra headers as
     * "name:\0value\0...\0" in hdrs[hcap]; PT_ENOENT = not an API path (404) */
    int (*rest)(struct feed_xsim *x, struct lws *wsi, const char *uri, int *status, char **body, size_t *len,
                char *hdrs, size_t hcap);
    /* serverShutdown-style notice before a planned close; NULL = none */
    int (*shutdown_notice)(const struct feed_xsim *x, int combined, char *buf, size_t cap);
    /* sent once a client is connected (KuCoin's welcome); NULL = nothing */
    void (*on_open)(struct feed_xsim *x, xs_client *c);
    /* "skip" drops the whole bar (every update), not only its close: on a
     * venue without a closed flag the last update sent is the bar's final
     * state, so a lost close is not a fault the venue can have; a bar the
     * stream never shows (a gap REST fills) is */
    int skip_whole_bar;
    /* streams besides candles (marks): runs what is due at sim time now,
     * returns the next due sim time; NULL = none */
    int64_t (*tick)(struct feed_xsim *x, int64_t now);
} xs_proto;

struct feed_xsim {
    struct lws_context *cx;
    struct lws_vhost *vh;
    const xs_proto *proto;
    const xs_market_ops *market;
    feed_xsim_faults faults;
    lws_retry_bo_t retry;
    struct lws_protocols protocols[2];
    double speed;
    int64_t interval_ms;
    char interval_name[16];
    int steps;           /* events per bar: updates + 1 */
    uint64_t seed;
    int max_clients;
    int64_t start_sim_ms, start_mono_ns;
    xs_series *series;
    size_t n_series;
    xs_client *clients;
    uint64_t next_client_id, rest_counter, conn_counter;
    int64_t weight_minute, weight_used;
    struct lws *held[256];  /* "nohandshake" sockets */
    int n_held;
    lws_sorted_usec_list_t sul_tick;
    char *scratch, *scratch2; /* event formatting */
    int64_t funding_ms;       /* binance-futures funding period */
    int funding_fixed;        /* 1: every rate is funding_rate */
    double funding_rate;
    feed_xsim_stats st;
    struct pf_rules_set *rules; /* configured rules (copy) or NULL */
};

extern const xs_proto feed_xsim_proto_binance;
extern const xs_proto feed_xsim_proto_bitvavo;
extern const xs_proto feed_xsim_proto_bybit;
extern const xs_proto feed_xsim_proto_okx;
extern const xs_proto feed_xsim_proto_bybit_linear;
extern const xs_proto feed_xsim_proto_kucoin;
extern const xs_proto feed_xsim_proto_kraken;
extern const xs_proto feed_xsim_proto_coinbase;
extern const xs_proto feed_xsim_proto_binance_futures;

/* binance-futures (feed_xsim_proto_bnfut.c): the config's funding spec; the
 * REST endpoints; the mark stream tick; a bar as mark-price kline */
int feed_xsim_funding_parse(struct feed_xsim *x, const char *spec, char *why, size_t cap);
int feed_xsim_bnf_rest(struct feed_xsim *x, struct lws *wsi, const char *uri, int *status, char **body, size_t *len,
                       char *hdrs, size_t hcap);
int64_t feed_xsim_bnf_tick(struct feed_xsim *x, int64_t now);
void feed_xsim_mark_bar(const struct feed_xsim *x, size_t s, const feed_xsim_bar *b, feed_xsim_bar *out);
/* Binance klines REST (spot and USD-M): rows of [start, end], limit as the
 * venue allows; mark = mark-price klines */
int feed_xsim_bn_klines(struct feed_xsim *x, struct lws *wsi, int max_limit, int mark, int *status, char **body,
                        size_t *len, char *hdrs, size_t hcap);

/* feed_xsim.c services for the protocol code */
int64_t feed_xsim_sim_now(const struct feed_xsim *x);
/* the newest bar state visible at sim time now for REST (final, or the
 * current open bar's quantised partial state); PT_EOF if none */
int feed_xsim_state_at(const struct feed_xsim *x, size_t s, const feed_xsim_bar *fin, int64_t now,
                       feed_xsim_bar *out);
int feed_xsim_find_series(const struct feed_xsim *x, const char *name, int lower);
/* queue a text message for one client (copied); 0 or -1 if the client was dropped */
int feed_xsim_send(struct feed_xsim *x, xs_client *c, const char *msg, size_t len);
/* 1 with probability p for the given (kind, a, b): deterministic per seed */
int feed_xsim_roll(const struct feed_xsim *x, feed_xsim_fault f, uint64_t a, uint64_t b);
void feed_xsim_count_fault(struct feed_xsim *x, feed_xsim_fault f, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* feed_xsim_proto.c helpers for the per-venue protocol files */
struct cJSON;
const char *feed_xsim_arg(struct lws *wsi, const char *key, char *buf, size_t cap); /* query value or NULL */
int feed_xsim_arg_int(struct lws *wsi, const char *key, int64_t *out); /* 0 absent, 1 ok, -1 bad */
int feed_xsim_body(char **body, size_t *len, const char *text);        /* strdup'd body */
void feed_xsim_num(double v, int trim, char *b, size_t cap);           /* "%.8f", trim zeros */
/* REST 418/429 roll: the kind injected (status set, counted, Retry-After in hdrs) or -1 */
int feed_xsim_rest_fault(struct feed_xsim *x, int *status, char *hdrs, size_t hcap);
/* bar states with open in [lo, hi] visible now: ascending from lo, else newest first */
size_t feed_xsim_collect(const struct feed_xsim *x, size_t s, int64_t lo, int64_t hi, size_t limit, int from_start,
                         feed_xsim_bar *out);
int feed_xsim_sub_add(struct feed_xsim *x, xs_client *c, const char *name, int sym);
/* one message for every client with a stream of kind on series s (wrapped for combined clients) */
void feed_xsim_fanout(struct feed_xsim *x, size_t s, int kind, const char *raw, size_t len);
void feed_xsim_sub_del(xs_client *c, const char *name);
void feed_xsim_send_json(struct feed_xsim *x, xs_client *c, struct cJSON *o); /* sends and frees o */
/* feed_xsim_rules.c: the trading-rules metadata answers (same contract as
 * xs_proto.rest for their path) */
int feed_xsim_rules_binance(struct feed_xsim *x, struct lws *wsi, int *status, char **body, size_t *len,
                            char *hdrs, size_t hcap);
int feed_xsim_rules_bitvavo(struct feed_xsim *x, struct lws *wsi, int *status, char **body, size_t *len,
                            char *hdrs, size_t hcap);
int feed_xsim_rules_bybit(struct feed_xsim *x, struct lws *wsi, int *status, char **body, size_t *len,
                          char *hdrs, size_t hcap);
int feed_xsim_rules_okx(struct feed_xsim *x, struct lws *wsi, int *status, char **body, size_t *len,
                        char *hdrs, size_t hcap);
int feed_xsim_rules_kraken(struct feed_xsim *x, struct lws *wsi, int *status, char **body, size_t *len,
                           char *hdrs, size_t hcap);
/* id: the product of .../products/{id}, or NULL for the list */
int feed_xsim_rules_coinbase(struct feed_xsim *x, struct lws *wsi, const char *id, int *status, char **body,
                             size_t *len, char *hdrs, size_t hcap);

#endif
