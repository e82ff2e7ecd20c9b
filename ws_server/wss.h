/* ws_server: the local dashboard server — HTTP (dashboard files, /health,
 * /metrics, /api/state) and the live WebSocket event stream, on one port of
 * a libwebsockets context owned by the session.
 *
 * Threading: every function here must be called from the lws service thread
 * (the one thread that owns all state, docs/session.md). Nothing blocks:
 * the dashboard files are read into memory by wss_new(), and slow clients
 * are coalesced, then dropped (docs/faults.md).
 *
 * Lifetime: wss_new() creates a vhost on the caller's context. Shut down
 * with wss_close_all(srv, 1001), service the loop briefly so the close
 * frames leave, lws_context_destroy(cx), THEN wss_free(srv): lws calls back
 * into srv while it destroys the vhost. wss_free(NULL) is a no-op.
 *
 * Wire protocol: docs/protocol.md (version WSS_PROTOCOL_VERSION).
 */
#ifndef WSS_H
#define WSS_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#ifdef __cplusplus
extern "C" {
#endif

#define WSS_PROTOCOL_VERSION 1

struct lws_context;
typedef struct wss_server wss_server;

/* ---------------------------------------------------------------- buffer
 * A growable byte buffer with a hard bound (max). Appends past max fail with
 * PT_EFULL and leave the buffer unchanged. The owner frees p with
 * wss_buf_free(). */
typedef struct wss_buf {
    char *p;    /* NUL-terminated when len > 0 */
    size_t len, cap, max;
} wss_buf;

void wss_buf_init(wss_buf *b, size_t max);
int wss_buf_append(wss_buf *b, const void *data, size_t n);
int wss_buf_printf(wss_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void wss_buf_free(wss_buf *b);

/* --------------------------------------------------------------- metrics
 * A registry of counters and gauges with labels, rendered in the Prometheus
 * text exposition format 0.0.4 (HELP/TYPE once per family, escaped label
 * values). Non-finite values are refused (PT_EINVAL) so a scrape never shows
 * NaN. Families and series live until wss_metrics_free(); the returned
 * wss_metric pointers are borrowed from the registry. */
typedef struct wss_metrics wss_metrics;
typedef struct wss_metric wss_metric;

wss_metrics *wss_metrics_new(void);
void wss_metrics_free(wss_metrics *m);
/* label_names: comma separated ("symbol,verdict") or NULL. Returns NULL on a
 * bad name, a duplicate family, or past the family bound (logged). A
 * label-less family starts with one sample of value 0. */
wss_metric *wss_metrics_counter(wss_metrics *m, const char *name, const char *help,
                                const char *label_names);
wss_metric *wss_metrics_gauge(wss_metrics *m, const char *name, const char *help,
                              const char *label_names);
/* A summary: its samples are set with label_values {"0.5"}, {"0.99"}, ...
 * (the label is "quantile"); NAME_sum and NAME_count come from
 * wss_metric_summary_totals (rendered once set). */
wss_metric *wss_metrics_summary(wss_metrics *m, const char *name, const char *help);
int wss_metric_summary_totals(wss_metric *mt, double sum, double count);
/* label_values: one string per label name, in order (NULL when none).
 * Counters only go up: add() refuses a negative delta, set() on a counter a
 * smaller value. PT_EFULL past the per-family series bound. */
int wss_metric_set(wss_metric *mt, const char *const *label_values, double v);
int wss_metric_add(wss_metric *mt, const char *const *label_values, double delta);
int wss_metrics_render(const wss_metrics *m, wss_buf *out);

/* ------------------------------------------------------------- the server */
typedef enum wss_kind {
    WSS_CANDLE_PARTIAL = 0, /* in-progress candle: coalesced per key (latest wins) */
    WSS_CANDLE,             /* closed candle */
    WSS_QUALITY,            /* quality score: coalesced per key */
    WSS_ORDER,              /* never dropped for a client that keeps up */
    WSS_TRADE,              /* never dropped for a client that keeps up */
    WSS_PORTFOLIO,          /* equity/cash/positions: coalesced per key */
    WSS_HEALTH,             /* heartbeat: coalesced */
    WSS_ALERT,
    WSS_KIND_COUNT
} wss_kind;

/* What the session supplies. Every callback runs on the loop thread, must
 * not block, and may be NULL. The cJSON objects are owned by the server;
 * callbacks only add members to them. Return 0 or a pt_err. */
typedef struct wss_callbacks {
    /* Adds session fields to /health and the heartbeat: "status" ("ok",
     * "degraded", "down"), "feeds" {symbol: {state, last_candle_age_s,
     * quality, reconnects}}, "circuit_breaker", "errors". */
    int (*health)(void *ud, cJSON *obj);
    /* Refreshes gauges in the registry just before /metrics renders it. */
    int (*metrics_refresh)(void *ud, wss_metrics *reg);
    /* Fills the snapshot for a new client and /api/state: "symbols",
     * "candles" {symbol: [...]}, "positions", "orders", "trades", "equity",
     * "quality", "indicators". */
    int (*snapshot)(void *ud, cJSON *data);
    /* An authenticated control message ("pause", "resume", "close_position",
     * "flatten"); msg is the parsed message, borrowed for the call. Return 0
     * to acknowledge or a pt_err; *why (static text) explains a refusal. */
    int (*control)(void *ud, const char *cmd, const cJSON *msg, const char **why);
} wss_callbacks;

typedef struct wss_config {
    const char *host;        /* bind address; NULL = "127.0.0.1" */
    int port;                /* 0 = 8765 */
    const char *web_dir;     /* dashboard files; NULL = wss_default_web_dir() */
    const char *vendor_js;   /* lightweight-charts standalone build; NULL = default */
    const char *token;       /* access token for control + non-loopback; NULL = none */
    const char *const *origins; /* extra allowed Origins ("https://host:port"), n_origins */
    size_t n_origins;
    int max_clients;         /* 0 = 32 */
    size_t max_inbound;      /* bytes per inbound message; 0 = 4096 */
    size_t queue_msgs;       /* per-client queue bound; 0 = 4096 */
    size_t queue_bytes;      /* per-client queued bytes bound; 0 = 8 MiB */
    int heartbeat_ms;        /* health event period; 0 = 2000, <0 = off */
} wss_config;

const char *wss_default_web_dir(void);
const char *wss_default_vendor_js(void);
/* A file of the dashboard built into the executable ("report.js",
 * "vendor/lightweight-charts.js"): static, never freed; NULL if none. What
 * is served when the web folder or the chart library cannot be read. */
const unsigned char *wss_builtin_file(const char *name, size_t *len);

/* The process's one lws context, fit for wss_new and for feed clients:
 * explicit vhosts, TLS initialised (wss:// feeds). UTF-8 validation is NOT
 * lws's (it overruns its rx buffer when it fails mid-frame, see
 * wss_server.c): the server and the feed do it themselves. lws logs errors
 * only. NULL on failure (logged). The caller lws_context_destroy()s. */
struct lws_context *wss_context_new(void);

/* Creates the listening vhost on cx (context made with EXPLICIT_VHOSTS).
 * Refuses (PT_EINVAL) a non-loopback host without a token; PT_EIO if the
 * port cannot be bound or the files cannot be read. cfg strings are copied. */
int wss_new(struct lws_context *cx, const wss_config *cfg, const wss_callbacks *cb, void *ud,
            wss_server **out);
void wss_free(wss_server *srv);

/* Publishes one event to every client: wraps json (one JSON value, len
 * bytes, trusted from the session) in the envelope once; the same bytes go
 * to all clients. key: the coalescing key (the symbol) or NULL. Returns the
 * event's seq (>0) or a pt_err. */
int64_t wss_publish(wss_server *srv, wss_kind kind, const char *key, const char *json, size_t len);

/* Sends a close frame with code to every client (1001 on shutdown), after
 * what is already queued for it (bounded: 2 s, then lws drops it). */
void wss_close_all(wss_server *srv, int code);

/* The registry that /metrics renders; the server registers its own wss_*
 * families in it. Borrowed until wss_free. */
wss_metrics *wss_metrics_registry(wss_server *srv);

typedef struct wss_stats {
    int clients;
    uint64_t clients_dropped, messages_sent, events_published, coalesced;
    uint64_t rejected_origin, rejected_host, rejected_full;
} wss_stats;
void wss_get_stats(const wss_server *srv, wss_stats *st);
/* The port actually bound. */
int wss_port(const wss_server *srv);

#ifdef __cplusplus
}
#endif
#endif
