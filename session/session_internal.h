/* Internals of session/: the live session state shared by the loop
 * (session_live.c), its observers (session_dash.c, session_ops.c) and its
 * durable side (session_resume.c, session_restarts.c), plus the small JSON
 * helpers of both clocks. Loop thread only. */
#ifndef PT_SESSION_INTERNAL_H
#define PT_SESSION_INTERNAL_H

#include "feed.h"
#include "session.h"
#include "sim.h"
#include "wss.h"

#include <libwebsockets.h>

#define SL_CANDLES 500   /* closed candles kept per symbol for the snapshot */
#define SL_TRADES 200    /* recent trades in the snapshot */
#define SL_EQUITY 1000   /* equity points; decimated 2:1 when full */
#define SL_ORDERS 256    /* open orders tracked for the snapshot */
#define SL_ALERTS 50     /* recent alerts in the snapshot (the page lists 50) */
#define SL_QEVENTS 50    /* recent quality events in the snapshot */

typedef struct session session;
typedef struct session_observer session_observer;

typedef struct sl_sym {
    char name[PT_SYMBOL_MAX];
    int rec_fd;                 /* candles/<name>.csv */
    pt_candle ring[SL_CANDLES]; /* closed, oldest at head */
    double ind[SL_CANDLES][SIM_MAX_INDICATORS];
    int n_ind[SL_CANDLES];
    size_t head, count;
    pt_candle partial;
    int has_partial;
    int64_t last_closed_ts;     /* INT64_MIN: none */
    int64_t last_candle_mono;   /* 0: none */
    double quality;             /* last score; -1 none */
    uint64_t by_verdict[3];
    wss_metric *unused_;
    feed_sym_status status;     /* session_ops.c, once a second: what /health and the page say */
    char status_why[128];       /* its reason ("" = none) */
    int stale_ticks;            /* consecutive ops ticks that saw it stale */
    uint64_t seen_issue[QI__COUNT]; /* the checker's counts at the last candle: what is new */
    uint64_t seen_missing;
} sl_sym;

typedef struct sl_trade {
    uint64_t seq, order_id;
    int64_t ts;
    char symbol[PT_SYMBOL_MAX];
    char reason[24];
    int side;
    double qty, price, fee, pnl;
} sl_trade;

typedef struct sl_order {
    uint64_t id;
    int64_t ts;
    char symbol[PT_SYMBOL_MAX];
    char type[16];
    int side;
    double qty;
} sl_order;

/* an alert or a quality event kept for the snapshot (wall clock: display only) */
typedef struct sl_note {
    int64_t ts, t;             /* wall clock at publish; candle time (quality) */
    char level[8], kind[24];
    char symbol[PT_SYMBOL_MAX];
    char msg[200];
} sl_note;

typedef struct sl_ring {
    size_t head, count;
} sl_ring;

typedef struct sl_point {
    int64_t t;
    double equity, drawdown;
} sl_point;

struct session {
    const session_live_config *cfg;
    const session_opts *o;
    char outdir[4096];
    struct lws_context *cx;
    feed_live *feed;
    feed_perp_rec *perp_rec;   /* perp venues: DIR/marks/, DIR/funding/ (feed.h) */
    feed_xsim *xsim;
    wss_server *wss;
    sim_engine *eng;
    struct session_ledger *lg; /* session_ledger.c: resume-aware trades.csv + portfolio.csv */
    int lock_fd, order_fd;     /* session_resume.c: DIR/.lock, candles/.order; -1 = none */
    int replaying;             /* 1 while sl_resume_replay feeds recorded candles */
    int rec_dirty;             /* recording written since its last fdatasync */
    uint64_t replayed;         /* candles replayed at resume */
    size_t n_controls;         /* rows in controls.csv (resume: those replayed) */
    pf_metrics *m;
    int io_err;        /* first output error: stops the session */
    sl_sym sym[SESSION_MAX_SYMBOLS];
    int n_sym;
    sl_trade trades[SL_TRADES];
    size_t tr_head, tr_count;
    sl_order orders[SL_ORDERS];
    int n_orders;
    sl_note alog[SL_ALERTS], qlog[SL_QEVENTS];
    sl_ring al, ql;
    sl_point equity[SL_EQUITY];
    size_t eq_count, eq_every, eq_skip;
    double cash, eq_now, dd_now;
    lws_sorted_usec_list_t sul_poll, sul_hb;
    int64_t t0_mono, poll_due_mono, lag_ms, lag_max_ms;
    int logs_open;     /* ops_log_open succeeded: closed last */
    int stopping;      /* 1: intake stopped, shutting down */
    const char *stop_why;
    feed_conn_state fstate;
    feed_live_stats fs_last;  /* feed stats kept after feed_live_free */
    uint64_t closed, partials, alerts;
    int64_t day, last_ts;         /* UTC day (event time) of the day-PnL base */
    double day_equity;
    wss_metric *m_candles, *m_quality, *m_equity, *m_cash, *m_open, *m_trades, *m_reconn,
        *m_backfills, *m_rest, *m_ratew, *m_lag, *m_closed_sym;
    const session_observer *const *obs; /* the observers, in call order (session_live.c) */
    size_t n_obs;
    struct sl_ops *ops; /* session_ops.c's own state: health registry + notifier; NULL until started */
    int restart_armed;  /* session_restarts.c: this start is counted in DIR/.restarts */
    /* warm-up (docs/durability.md): candles the feed fetches first; where trading starts
       (0 = everywhere); session.json, kept to add trade_from_ms to it once known */
    int warm_n;
    int64_t trade_from_ms;
    cJSON *ses;
};

/* session_live.c */
int sl_time_complete(const session *s, int64_t ts);
/* Feed stats now, or the last ones once the feed is closed. */
void sl_feed_stats(const session *s, feed_live_stats *out);

/* ------------------------------------------------------------ observers
 * What watches a session without steering it: the dashboard
 * (session_dash.c) and ops (session_ops.c: health registry, notifier). The
 * session calls them through this table, in table order, via the
 * sl_observe_* dispatchers (session_observe.c), never by name; an observer
 * never calls another one (the dashboard's /health asks sl_observe_health
 * for the others' parts). Every member may be NULL. An observer must never
 * decide anything, write a ledger or recording file, or feed the engine.
 * Loop thread only. */
struct session_observer {
    const char *name;
    int replay; /* 1: also sees the events of a resume replay (rebuilds its view) */
    int (*start)(session *s);  /* after the lock and the log, before the ledger: PT_OK or an error */
    int (*serve)(session *s);  /* the loop's context exists, before the feed starts: PT_OK or an error */
    int (*metrics_init)(session *s, wss_metrics *reg); /* the dashboard's registry, once it is up */
    void (*on_candle)(session *s, sl_sym *y, const pt_candle *c, quality_verdict v, double score,
                      const sim_signal *sig);
    void (*on_partial)(session *s, const pt_candle *c);
    void (*on_engine_ms)(session *s, double ms); /* the engine's time for one closed candle */
    void (*on_order)(session *s, const sim_order_event *ev);
    void (*on_fill)(session *s, const pf_fill *f, const pf_fill_result *r);
    void (*on_row)(session *s, const pf_snapshot *row);
    /* an alert to show; a: the engine's own (NULL for the session's: feed state, ...) */
    void (*on_alert)(session *s, const char *level, const char *symbol, const char *msg, const sim_alert *a);
    void (*on_feed_state)(session *s, feed_conn_state st, const char *reason);
    void (*on_error)(session *s, const char *text);    /* a refusal before the loop runs */
    void (*poll)(session *s, int64_t now_mono);         /* from the 150 ms poll */
    int (*heartbeat)(session *s, const char *line);     /* 1: it logged the line */
    void (*health)(session *s, cJSON *obj);             /* adds its members to /health */
    void (*metrics)(session *s);                        /* fills its /metrics families */
    void (*stop)(session *s);                           /* intake stopped, before report.json */
    void (*end)(session *s);                            /* report written, before the 1001 close */
    void (*free)(session *s);                           /* last; safe after a failed start */
};

extern const session_observer sl_dash_observer; /* session_dash.c */
extern const session_observer sl_ops_observer;  /* session_ops.c */

/* session_observe.c: each calls the member of every observer in s->obs
 * (skipping those without it, and during a replay those without .replay).
 * start, serve, metrics_init: the first error stops (the later observers
 * are not called; free still runs for all). heartbeat: logged with pt_info when no observer took it. */
int sl_observe_start(session *s);
int sl_observe_serve(session *s);
int sl_observe_metrics_init(session *s, wss_metrics *reg);
void sl_observe_candle(session *s, sl_sym *y, const pt_candle *c, quality_verdict v, double score,
                       const sim_signal *sig);
void sl_observe_partial(session *s, const pt_candle *c);
void sl_observe_engine_ms(session *s, double ms);
void sl_observe_order(session *s, const sim_order_event *ev);
void sl_observe_fill(session *s, const pf_fill *f, const pf_fill_result *r);
void sl_observe_row(session *s, const pf_snapshot *row);
void sl_observe_alert(session *s, const char *level, const char *symbol, const char *msg, const sim_alert *a);
void sl_observe_feed_state(session *s, feed_conn_state st, const char *reason);
void sl_observe_error(session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sl_observe_poll(session *s, int64_t now_mono);
void sl_observe_heartbeat(session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sl_observe_health(session *s, cJSON *obj);
void sl_observe_metrics(session *s);
void sl_observe_stop(session *s);
void sl_observe_end(session *s);
void sl_observe_free(session *s);

/* session_restarts.c: the restart-loop guard (docs/durability.md). enter()
 * after sl_observe_start: PT_EBUSY = refuse (logged, notified), PT_EIO = the
 * count could not be written; healthy() on a clean stop; poll() from the
 * 150 ms poll resets the count once the uptime is healthy. */
int sl_restart_enter(session *s);
void sl_restart_healthy(session *s);
void sl_restart_poll(session *s, int64_t now_mono);

/* session_resume.c: the durable side of a live session folder (run, demo,
 * backtest --serve; docs/durability.md "Live sessions"):
 *  - the folder lock (one process per DIR) and session.json, written
 *    atomically before the first candle, with "args" (session_opts_args_json);
 *  - the candle recorder: candles/<SYMBOL>.csv plus candles/.order, one
 *    symbol name per processed candle, so the order the engine saw candles
 *    across symbols is on disk (the files alone cannot say it: after a
 *    backfill one symbol's bars arrive ahead of another's);
 *  - `run --resume DIR`: repair torn tails, replay the recorded candles in
 *    .order through the engine (the ledger verifies the recorded fills),
 *    drop recorded rows the engine never saw (the feed fetches them again).
 * Must never: write a recorded row twice, or let the engine see a candle
 * before its row and its .order line are written. Loop thread only; every fd
 * it opens lives in the session and is closed by sl_state_close. */
/* Called for each replayed candle, as the live path calls it after recording. */
typedef void (*sl_closed_fn)(session *s, sl_sym *y, const pt_candle *c);

/* DIR created and locked (session_dir_lock), then a new --out that holds an
 * earlier run refused unless --force (session_dir_refuse_run). A new (not
 * resumed) session then removes an old DIR/session.json (and controls.csv)
 * before any file is cut, so a crash before the new one is written cannot
 * pair old options with new files. Returns 0 or an exit code: PT_EXIT_LOCKED
 * (printed "state dir locked by PID N"), PT_EXIT_USAGE, PT_EXIT_FAILURE. */
int sl_state_lock(session *s);
/* With o->resuming: torn last lines of the recordings and of .order move to
 * X.torn (counted, logged). PT_OK, PT_EIO. Before the ledger opens. */
int sl_resume_repair(session *s);
/* With o->resuming: replays .order, with DIR/controls.csv queued at its
 * recorded boundaries (PT_ECORRUPT with file:line on anything that does not
 * add up), cuts unprocessed rows to X.unprocessed, then
 * session_ledger_end_replay. Hooks fire as live; ops/notifications are off
 * meanwhile. Returns PT_OK or the first error (s->io_err for the ledger). */
int sl_resume_replay(session *s, sl_closed_fn fn);
/* Opens candles/<SYM>.csv (new: truncated + header; resumed: appended) and
 * candles/.order. PT_OK or PT_EIO (logged). */
int sl_rec_open(session *s);
/* One closed candle: its row, then its .order line, each one write(2). */
int sl_rec_append(session *s, sl_sym *y, const pt_candle *c);
/* With --fsync every: fdatasync the recording and candles/.order if written
 * since the last call. Called before a fill reaches trades.csv, so a fill
 * that survives a power loss always has the candles that explain it
 * (docs/durability.md "Power loss"). PT_EIO (logged). */
int sl_rec_sync(session *s);
/* session.json (ses, plus "args" from the options) written atomically. */
int sl_state_write_session(session *s, cJSON *ses);
/* Syncs and closes the recordings and .order (the lock stays: the caller
 * unlocks last with session_unlock(s->lock_fd)). Idempotent. PT_EIO if a
 * sync failed. */
int sl_state_close(session *s);

/* The bytes [at, EOF) of path move to path+suffix (replacing it; synced
 * first), then path is cut at `at`. PT_EIO / PT_ENOSPC, logged. */
int session_move_tail(const char *path, off_t at, const char *suffix);

/* session_dir.c: a number member, or null when it is not finite (JSON has
 * no NaN): report.json, session.json and the dashboard's events. */
void sl_json_num(cJSON *o, const char *k, double v);
/* The engine part of session.json that backtest and the live commands
 * share, in its one key order: strategy, params, cash, fees, slippage,
 * sizing, min_quality and the risk limits (each command adds its own after). */
void sl_json_engine(cJSON *j, const char *strategy, const sim_engine_config *c, const char *sizing);

#endif
