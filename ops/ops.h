/* ops: what lets papertrader run unattended — log files with rotation,
 * signal handling for graceful shutdown and log reopen, process health
 * figures. Config loading and notifications live here too.
 *
 * Owns: the log file descriptors (opened by ops_log_open, closed by
 * ops_log_close) and the process-wide signal flags.
 * Must never: block the event loop for longer than one write(2); touch
 * engine state.
 */
#ifndef PT_OPS_H
#define PT_OPS_H

#include "pt_core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------- log files */
typedef struct ops_log_config {
    const char *dir;      /* folder for papertrader.log and errors.log */
    long max_bytes;       /* rotate a file when it would pass this size (default 10 MiB) */
    int max_files;        /* keep name.1 .. name.N (default 5) */
    pt_log_level level;   /* file level (stderr keeps pt_log_set_level) */
} ops_log_config;

/* Installs a pt_log sink writing every line to DIR/papertrader.log and
 * warnings and errors also to DIR/errors.log, rotating by size
 * (papertrader.log -> .1 -> .2 ... up to max_files). PT_EIO if the folder or
 * files cannot be opened (logged to stderr). Call ops_log_close() at exit. */
int ops_log_open(const ops_log_config *cfg);
/* Reopen the files (for logrotate after SIGHUP); safe to call any time. */
void ops_log_reopen(void);
void ops_log_close(void);

/* -------------------------------------------------------------- signals
 * SIGINT/SIGTERM set a stop request (the second one makes
 * ops_signal_stop_count() return 2: exit at once after syncing the ledger);
 * SIGHUP sets a reopen request. The handlers only set flags; the event
 * loop polls them (async-signal-safe by construction). */
void ops_signal_install(void);
int ops_signal_stop_count(void);
int ops_signal_take_reopen(void); /* 1 once per SIGHUP */
/* Optional: an fd-free wake-up hook called from the handler (must be
 * async-signal-safe, e.g. lws_cancel_service is NOT: use a pipe). */

/* ---------------------------------------------------------------- config
 * Precedence, lowest first: defaults < INI file < environment
 * PAPERTRADER_<SECTION>_<KEY> < command-line flags (ops_config_set with
 * origin "flag --x"). Errors are logged once with file:line (or the
 * variable / flag) and the key, and counted; loading goes on so every error
 * is reported in one run. Strings returned by the getters belong to the
 * config and stay valid until the key is set again or the config is freed.
 * Documented in docs/config.md; data/papertrader.example.ini is annotated. */
#include <stdio.h>
typedef struct ops_config ops_config;

int ops_config_new(ops_config **out);  /* defaults filled in */
void ops_config_free(ops_config *cfg); /* NULL: no-op */
int ops_config_load_file(ops_config *cfg, const char *path);
int ops_config_apply_env(ops_config *cfg, char **envp);
int ops_config_set(ops_config *cfg, const char *section, const char *key, const char *value,
                   const char *origin);
const char *ops_config_get(const ops_config *cfg, const char *section, const char *key);
/* Where the value came from: "default", "file.ini:12", "env PAPERTRADER_X",
 * "flag --x"; NULL if unset. Valid until the next set or free. */
const char *ops_config_origin(const ops_config *cfg, const char *section, const char *key);
double ops_config_get_num(const ops_config *cfg, const char *section, const char *key, double def);
int ops_config_get_bool(const ops_config *cfg, const char *section, const char *key);
/* The allowed range of a numeric key (the one table: flags that stand for
 * a key check against it too); PT_ENOENT for an unknown or non-numeric key. */
/* [symbol.NAME] sections: the i-th NAME (first-set order) or NULL past the
 * last; read its keys with ops_config_get(cfg, "symbol.NAME", key). Valid
 * until ops_config_free. The keys are the schema's "symbol.*" rows. */
const char *ops_config_symbol_at(const ops_config *cfg, int i);
/* "K=V" strings for the [strategy] parameters; returns the count */
int ops_config_strategy_params(const ops_config *cfg, char (*kv)[64], int cap);
int ops_config_errors(const ops_config *cfg);
/* Effective config as INI with each value's origin; secrets shown as ***. */
void ops_config_print(const ops_config *cfg, FILE *out);
/* Reads the first line of a secret file; refuses a file readable by group
 * or others (PT_EINVAL), never logs the content. */
int ops_config_read_secret_file(const char *path, char *buf, size_t cap);
/* all-in | quote:N | percent:P | risk:P */
int ops_config_check_sizing(const char *text, char *why, size_t cap);

/* The schema is the one table of options: every key with its range and
 * help, and for the engine, feed, server and log keys the command-line flag
 * and the commands that take it. Commands derive their flags, ranges and
 * --config keys from it, so a value is accepted or refused alike by a flag,
 * a file and the environment. All strings are static. */
#define OPS_CMD_BACKTEST 1u /* backtest */
#define OPS_CMD_SESSION 2u  /* run, demo, backtest --serve */
typedef struct ops_config_key_info {
    const char *section, *key;
    const char *flag; /* "max-positions", or NULL: no flag */
    const char *help, *def, *type; /* def NULL: unset; type "number", "integer", "bool", ... */
    const char *choices;           /* type "choice": "a|b|old=a" (old: an accepted alias) */
    double min, max;               /* number and integer: the accepted range */
    unsigned cmds;                 /* OPS_CMD_* that take the flag */
    int takes_value;               /* 0: the flag is a switch (bool) */
} ops_config_key_info;
/* Row i of the schema (0..); PT_ENOENT past the end. */
int ops_config_key_at(size_t i, ops_config_key_info *out);
/* The key behind a command's flag; PT_ENOENT when cmd has no such flag. */
int ops_config_flag_key(const char *flag, unsigned cmd, ops_config_key_info *out);
/* Checks text as a value of [section] key exactly as ops_config_set would;
 * on success writes its canonical form (an alias resolved) into canon
 * (ccap may be 0), else a reason into why. PT_ENOENT: no such key. */
int ops_config_check_value(const char *section, const char *key, const char *text, char *canon, size_t ccap,
                           char *why, size_t cap);


/* --------------------------------------------------------- notifications
 * Webhook notifier (docs/notifications.md): generic JSON POST, Slack
 * ({"text"}), Discord ({"content"}) and the Telegram Bot API
 * (POST {base}/bot<TOKEN>/sendMessage). One worker thread owns libcurl;
 * ops_notify_post() formats, locks a mutex, applies aggregation and the
 * per-category rate limit, pushes onto a bounded priority queue and returns
 * (it never does I/O). Full queue: the lowest-priority, oldest message is
 * dropped (or the new one if it is the lowest) and counted. Failed requests
 * are retried with exponential backoff up to max_attempts; a 429's
 * Retry-After is honoured (capped at backoff_cap_ms). The Telegram token is
 * never logged: logged URLs show /bot***. Thread-safe. */
typedef enum ops_notify_category {
    OPS_NOTIFY_STATUS = 0, /* start, stop, quality, feed up/down */
    OPS_NOTIFY_TRADE = 1,
    OPS_NOTIFY_ERROR = 2,
    OPS_NOTIFY_NCAT = 3
} ops_notify_category;

typedef enum ops_notify_priority {
    OPS_PRIO_LOW = 0,
    OPS_PRIO_NORMAL = 1,
    OPS_PRIO_HIGH = 2,
    OPS_PRIO_CRITICAL = 3, /* exempt from rate limits (still aggregated) */
} ops_notify_priority;

typedef enum ops_notify_kind {
    OPS_HOOK_JSON = 0, /* {"source","category","priority","title","text","count","ts"} */
    OPS_HOOK_SLACK,    /* {"text": "*title*\ntext"} */
    OPS_HOOK_DISCORD,  /* {"content": "**title**\ntext"} */
    OPS_HOOK_TELEGRAM, /* {"chat_id": ..., "text": ...} to {url}/bot<token>/sendMessage */
} ops_notify_kind;

#define OPS_NOTIFY_MAX_TARGETS 4
typedef struct ops_notify_target {
    ops_notify_kind kind;
    char url[512];     /* full hook URL; Telegram: API base (default https://api.telegram.org) */
    char chat_id[64];  /* Telegram only */
    char token[256];   /* Telegram only; secret, never logged */
} ops_notify_target;

/* Zero fields take the defaults in brackets. */
typedef struct ops_notify_config {
    ops_notify_target targets[OPS_NOTIFY_MAX_TARGETS];
    int n_targets;                 /* 0: posts are accepted and discarded (counted as dropped) */
    int per_hour[OPS_NOTIFY_NCAT]; /* token bucket size and refill per rate_window_ms
                                      [status 10, trade 100, error 30]; <0 mutes the category */
    int queue_cap;                 /* [64], at most 4096 */
    int max_attempts;              /* per target [4], at most 20 */
    long backoff_base_ms;          /* [1000] doubled per attempt */
    long backoff_cap_ms;           /* [60000] also caps Retry-After */
    long timeout_ms;               /* whole request [10000] */
    long aggregate_window_ms;      /* repeats of one title within it become one summary [600000] */
    long flush_deadline_ms;        /* ops_notifier_free() waits at most this long [5000] */
    long rate_window_ms;           /* [3600000]; tests shorten it */
} ops_notify_config;

typedef struct ops_notify_stats {
    uint64_t posted;       /* accepted by ops_notify_post */
    uint64_t sent;         /* deliveries that got a 2xx (per target) */
    uint64_t failed;       /* deliveries given up after max_attempts or a 4xx */
    uint64_t retries;      /* extra attempts made */
    uint64_t dropped;      /* queue full, no targets, or shut down before delivery */
    uint64_t rate_limited; /* refused by a category's bucket */
    uint64_t aggregated;   /* folded into a pending summary */
    uint64_t queue_depth;  /* messages waiting now (in flight excluded) */
} ops_notify_stats;

typedef struct ops_notifier ops_notifier;

/* Fills cfg from [notify]: webhook_url, slack_url, discord_url,
 * telegram_chat_id + telegram_token (or telegram_token_file, read with
 * ops_config_read_secret_file), telegram_api_url, *_per_hour, queue_size,
 * timeout_s. PT_EINVAL (logged) if Telegram is half configured. */
int ops_notify_config_from(const ops_config *c, ops_notify_config *cfg);
/* Copies cfg (the caller may free it at once) and starts the worker. */
int ops_notifier_new(const ops_notify_config *cfg, ops_notifier **out);
/* Flushes queued messages and pending summaries until flush_deadline_ms,
 * aborts a request still running after it, joins the worker. NULL: no-op. */
void ops_notifier_free(ops_notifier *n); /* a second SIGINT/SIGTERM cuts the flush short */
/* PT_OK queued or aggregated; PT_ERATELIMIT; PT_EFULL (dropped);
 * PT_ESTATE after shutdown began. title <= 127 bytes, text <= 1023 (cut). */
int ops_notify_post(ops_notifier *n, ops_notify_category cat, ops_notify_priority prio, const char *title,
                    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void ops_notifier_stats(ops_notifier *n, ops_notify_stats *out);

/* The events the issue names, each with a fixed category, priority and
 * title (a const table in ops_notify.c); detail is free text. */
typedef enum ops_notify_event {
    OPS_EV_START = 0,
    OPS_EV_STOP,
    OPS_EV_TRADE,
    OPS_EV_DAILY_LOSS_LIMIT,
    OPS_EV_QUALITY_LOW,
    OPS_EV_QUALITY_OK,
    OPS_EV_FEED_DOWN, /* breaker open */
    OPS_EV_FEED_UP,   /* breaker closed */
    OPS_EV_ERROR,
    OPS_EV_COUNT
} ops_notify_event;
int ops_notify_event_post(ops_notifier *n, ops_notify_event ev, const char *detail);
/* Copies url into buf with any "/bot<token>" path segment shown as "/bot***". */
void ops_notify_redact_url(const char *url, char *buf, size_t cap);

/* ---------------------------------------------------------------- health
 * A registry of components (feed, backfill, engine, server, notifier, ...)
 * with heartbeats, an error ring, counters, a state, REST latency, process
 * RSS and CPU, and a 0-100 score (formula in docs/health.md). Thread-safe
 * (one mutex); every call is O(components + ring), no I/O except logging. */
typedef struct ops_latency ops_latency;
/* A fixed ring of the last cap samples (cap 1..65536). Not thread-safe on
 * its own (the health registry locks around its own recorder). */
int ops_latency_new(int cap, ops_latency **out);
void ops_latency_free(ops_latency *l); /* NULL: no-op */
void ops_latency_record(ops_latency *l, double ms, int ok);
/* Nearest-rank quantile (q in [0,1]) of the samples in the ring; NAN if empty. */
double ops_latency_quantile(const ops_latency *l, double q);
double ops_latency_error_rate(const ops_latency *l); /* failed / samples in ring; 0 if empty */
size_t ops_latency_count(const ops_latency *l);     /* samples in ring */
uint64_t ops_latency_total(const ops_latency *l);   /* samples ever recorded */

typedef enum ops_health_state {
    OPS_HS_UNKNOWN = 0, /* registered, no state set yet (connecting) */
    OPS_HS_UP,
    OPS_HS_DEGRADED,
    OPS_HS_DOWN,
} ops_health_state;

typedef enum ops_health_level {
    OPS_LEVEL_CRITICAL = 0, /* < 40 */
    OPS_LEVEL_POOR,         /* 40-59 */
    OPS_LEVEL_FAIR,         /* 60-74 */
    OPS_LEVEL_GOOD,         /* 75-89 */
    OPS_LEVEL_EXCELLENT,    /* 90-100 */
} ops_health_level;

/* The score's inputs; ops_health_score_calc is the pure formula. */
typedef struct ops_health_inputs {
    int monitored;          /* components with a heartbeat period */
    int stale;              /* of those, not beaten within stale_periods periods */
    double rest_error_rate; /* 0..1 over the latency ring */
    int recent_errors;      /* component errors in the last 10 minutes */
    int has_feed;           /* a component named "feed" is registered */
    ops_health_state feed_state;
    long rss_kb, rss_limit_kb;
    int feed_disconnects;   /* connections lost within fault_window_ms */
    int feed_bad_msgs;      /* feed messages dropped as malformed within fault_window_ms */
} ops_health_inputs;
int ops_health_score_calc(const ops_health_inputs *in);
ops_health_level ops_health_level_of(int score);
const char *ops_health_level_name(ops_health_level lvl); /* "excellent" ... "critical" */

typedef struct ops_health_config {
    int error_ring;     /* recent errors kept [32], 1..1024 */
    int stale_periods;  /* [3] */
    long rss_limit_kb;  /* memory budget for the score [1048576 = 1 GiB] */
    int latency_ring;   /* REST latency samples kept [1024] */
    int64_t fault_window_ms; /* feed faults count in the score this long [600000] */
    int64_t (*clock_ms)(void); /* the clock of every now_ms [pt_mono_ms]; used by the log calls */
} ops_health_config;

typedef struct ops_health ops_health;
#define OPS_HEALTH_MAX_COMPONENTS 16
#define OPS_HEALTH_MAX_COUNTERS 8 /* per component */

typedef struct ops_health_error {
    int64_t ts_ms;   /* now_ms as passed by the caller (the registry's clock) */
    int64_t wall_ms; /* pt_wall_ms() when recorded, for display */
    int comp;
    char text[160];
} ops_health_error_rec;

int ops_health_new(const ops_health_config *cfg, ops_health **out); /* cfg NULL: defaults */
void ops_health_free(ops_health *h);                                  /* NULL: no-op */
/* Returns the component id (>= 0) or PT_EFULL / PT_EINVAL. period_ms 0:
 * no heartbeat expected (never stale). Registering a name again returns its id. */
int ops_health_register(ops_health *h, const char *name, int64_t period_ms);
/* now_ms: one clock for every call on a registry (the session uses
 * pt_mono_ms for beats/staleness; error stamps are passed separately). */
void ops_health_beat(ops_health *h, int comp, int64_t now_ms);
void ops_health_set_state(ops_health *h, int comp, ops_health_state st, const char *text);
void ops_health_error(ops_health *h, int comp, int64_t now_ms, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Named counter (add) or gauge (set) of a component; at most
 * OPS_HEALTH_MAX_COUNTERS names each, name <= 31 bytes ([a-z0-9_]). */
void ops_health_counter_add(ops_health *h, int comp, const char *name, double delta);
void ops_health_gauge_set(ops_health *h, int comp, const char *name, double value);
/* One REST call's latency and outcome. */
void ops_health_rest(ops_health *h, double ms, int ok);
/* Feed faults seen since the previous call (the session calls it once a
 * second): they lower the score for fault_window_ms, then age out. */
void ops_health_feed_faults(ops_health *h, int64_t now_ms, uint64_t disconnects, uint64_t bad_msgs);
/* Samples RSS and CPU time; CPU % is over the time since the previous sample. */
void ops_health_sample(ops_health *h, int64_t now_ms);
/* Checks heartbeats: logs (and notifies, if a notifier is attached) each
 * component that turned stale or recovered; returns the stale count. */
int ops_health_check(ops_health *h, int64_t now_ms);
int ops_health_is_stale(ops_health *h, int comp, int64_t now_ms);
/* Copies the newest errors (newest first) into out; returns how many. */
int ops_health_errors(ops_health *h, ops_health_error_rec *out, int cap);
uint64_t ops_health_errors_total(ops_health *h, int comp); /* comp < 0: all */
/* Gathers the inputs and computes the score (inputs copied to *in if non-NULL). */
int ops_health_score(ops_health *h, int64_t now_ms, ops_health_inputs *in);
/* Borrowed; must outlive the registry or be detached with NULL. Its stats
 * go into the JSON and Prometheus output, stale alarms go to it. */
void ops_health_attach_notifier(ops_health *h, ops_notifier *n);
/* Adds score, level, components, rest, process, recent_errors (and
 * notifier) to obj. PT_ENOMEM on allocation failure. */
#include <cjson/cJSON.h>
int ops_health_to_json(ops_health *h, int64_t now_ms, cJSON *obj);
/* Prometheus text format 0.0.4 lines (papertrader_health_score,
 * papertrader_component_up{component}, papertrader_errors_total{component},
 * papertrader_rest_latency_seconds{quantile}, ...) into buf; *len = bytes
 * written. PT_EFULL if cap is too small (buf then holds whole lines only). */
int ops_health_prometheus(ops_health *h, int64_t now_ms, char *buf, size_t cap, size_t *len);
/* The log calls read the registry's clock_ms. One info line: score, level, stale components, rss, cpu, extra text. */
void ops_health_log_heartbeat(ops_health *h, const char *extra);
/* A short block (several info lines): per component state, beats, errors;
 * REST latency; the last few errors; notifier stats. */
void ops_health_log_report(ops_health *h);

/* ---------------------------------------------------------------- progress (ops_progress.c) */
/* A progress bar on stderr for long commands (check, backtest, fetch): only
 * when stderr is a terminal and not --quiet, only after the first second, at
 * most 5 redraws a second; nothing on stdout, nothing in any output file.
 * The wall clock paces the drawing only. */
typedef struct ops_progress {
    int on;
    const char *label; /* borrowed: lives as long as the progress */
    int64_t t0_ms, last_ms, after_ms;
    int drawn;
} ops_progress;

/* on: isatty(2) && !quiet, worked out here when quiet is given. The first
 * draw waits 1 s (PT_PROGRESS_AFTER_MS overrides it: tests set 0, so they
 * never race the clock). */
void ops_progress_begin(ops_progress *p, const char *label, int quiet);
/* done of total (total 0: unknown, a count only); what: a short note ("at
 * 2024-01-02T03:04Z"), or NULL. Cheap when nothing is due. */
void ops_progress_update(ops_progress *p, double done, double total, const char *what);
/* Clears the line if anything was drawn. */
void ops_progress_end(ops_progress *p);

#ifdef __cplusplus
}
#endif

#endif
