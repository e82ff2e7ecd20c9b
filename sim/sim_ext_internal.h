/* External strategies (docs/strategy-protocol.md): a child process that
 * speaks JSON Lines on its stdin/stdout. Shared by the files below and
 * nothing outside sim/:
 *   sim_ext_proc.c    the child: spawn in a closed environment, pipes, the
 *                     bounded stdout line reader, stderr to the log, reaping;
 *   sim_ext.c         the protocol: hello/ready, one candle, end;
 *   sim_ext_batch.c   batches (rows or columns) and resumes of a batch;
 *   sim_ext_out.c     the messages to the strategy, in a bounded buffer;
 *   sim_ext_msg.c     ready and answers decoded (orders as sim_order_request);
 *   sim_ext_ind.c     the indicators a strategy asks for, computed with
 *                     sim/indicators (the values the built-ins use);
 *   sim_ext_tf.c      higher timeframes: closed base candles aggregated;
 *   sim_engine_ext.c  the engine's side: decisions, the quiet rule, read-ahead.
 * Loop thread only, like the engine. Every bound is a define below and is
 * listed in docs/strategy-protocol.md "Bounds".
 */
#ifndef PT_SIM_EXT_INTERNAL_H
#define PT_SIM_EXT_INTERNAL_H

#include "indicators.h"
#include "sim_internal.h"

#include <sched.h>
#include <sys/types.h>

#define SIM_EXT_TAG 0x45585431      /* ops.abi of an external strategy's table ("EXT1") */
#define SIM_EXT_MAX_IND 32          /* indicators a strategy may ask for */
#define SIM_EXT_MAX_ORDERS 16       /* orders in one answer */
#define SIM_EXT_LINE_MAX 65536      /* bytes of one line from the strategy's stdout */
#define SIM_EXT_ERR_LINE 512        /* bytes of one stderr line as logged (cut) */
#define SIM_EXT_ERR_TOTAL 65536     /* stderr bytes logged per child; the rest is counted */
#define SIM_EXT_MSG_MAX (1 << 20)   /* bytes of one message to the strategy (a batch) */
#define SIM_EXT_BATCH_MAX 256       /* candles in one batch */
#define SIM_EXT_REASONS 64          /* distinct reason texts kept; more become "strategy" */
#define SIM_EXT_REASON_LEN 48       /* bytes of one reason (cut) */
#define SIM_EXT_NAME_LEN 64         /* strategy, parameter and indicator names */
#define SIM_EXT_HELP_LEN 160        /* parameter help and the description */
#define SIM_EXT_DESCRIBE_MS 10000   /* ready in describe mode (strategies PATH, config check) */
#define SIM_EXT_END_MS 2000         /* exit after end before SIGKILL */
#define SIM_EXT_CUT 120             /* bytes of offending text quoted in an error */
#define SIM_EXT_MAX_TF 4            /* timeframes above the session's interval */

/* ------------------------------------------------------------ the child */
typedef struct sim_ext_proc {
    pid_t pid;            /* 0 when none */
    int in, out, err;     /* pipe ends, -1 when closed */
    char *buf;            /* stdout bytes read, not consumed [SIM_EXT_LINE_MAX + 1] */
    size_t len, line_len; /* line_len: length of the line handed out last (consumed next) */
    char ebuf[SIM_EXT_ERR_LINE];
    size_t elen, elogged, edropped;
    int eskip;            /* inside an over-long stderr line */
    int status_known, status; /* waitpid status once reaped */
    char tag[SIM_EXT_NAME_LEN]; /* stderr prefix: the strategy's name */
} sim_ext_proc;

/* Start argv (argv[0] searched on PATH when it has no '/') with pipes and a
 * closed environment (docs/strategy-protocol.md "The child"). pin_cpu >= 0:
 * pin the child to that CPU. PT_OK or PT_EIO (logged). */
int sim_ext_proc_start(sim_ext_proc *p, const char *const *argv, const char *tag, int pin_cpu);
/* Write all of msg, then (want_line) wait for one complete stdout line;
 * stderr is logged meanwhile. timeout_ms <= 0: no deadline. On PT_OK with
 * want_line, *line is NUL-terminated (newline removed), valid until the
 * next call. Errors, with a reason in why (cap bytes): PT_EIO (exited,
 * crashed, closed its stdout), PT_ETIMEOUT, PT_EFULL (line too long). */
int sim_ext_proc_xchg(sim_ext_proc *p, const char *msg, size_t len, int want_line, int timeout_ms,
                      char **line, size_t *line_len, char *why, size_t cap);
/* A failed strategy: SIGKILL now and reap (a hung one must not linger). */
void sim_ext_proc_kill(sim_ext_proc *p);
/* Close stdin, wait up to SIM_EXT_END_MS for the exit (logging stderr),
 * then SIGKILL; always reaps. Returns the exit code, or -1 if killed or
 * signalled. Idempotent. */
int sim_ext_proc_stop(sim_ext_proc *p);

/* ------------------------------------------------------------ indicators */
typedef enum sim_ext_ind_kind {
    SIM_EXT_SMA = 0,
    SIM_EXT_EMA,
    SIM_EXT_RSI,
    SIM_EXT_ATR,
    SIM_EXT_BOLLINGER, /* lower, middle, upper */
    SIM_EXT_DONCHIAN,  /* upper, lower, middle (of the candles before this one) */
    SIM_EXT_MACD,      /* macd, signal, hist */
    SIM_EXT__KINDS
} sim_ext_ind_kind;

typedef struct sim_ext_ind_spec {
    char name[SIM_EXT_NAME_LEN];
    sim_ext_ind_kind kind;
    int p[3];   /* periods: period | fast, slow, signal */
    double k;   /* bollinger width */
} sim_ext_ind_spec;

/* Per-symbol state of every requested indicator. */
typedef struct sim_ext_ind_state sim_ext_ind_state;

/* Kind by name ("sma", ...): PT_OK or PT_ENOENT. */
int sim_ext_ind_kind_parse(const char *name, sim_ext_ind_kind *out);
int sim_ext_ind_outputs(sim_ext_ind_kind k); /* 1 or 3 */
/* Period i of kind k when none is named: -1 required, 0 none (unused) */
int sim_ext_ind_default(sim_ext_ind_kind k, int i);
const char *sim_ext_ind_output_name(sim_ext_ind_kind k, int i);
/* n specs; PT_ENOMEM or PT_EINVAL (bad period, logged with the name). */
int sim_ext_ind_new(const sim_ext_ind_spec *specs, int n, sim_ext_ind_state **out);
void sim_ext_ind_free(sim_ext_ind_state *s);
/* Update with an accepted candle; vals receives 3 values per spec (NAN
 * until warm, unused outputs NAN). PT_EINVAL on a non-finite input. */
int sim_ext_ind_update(sim_ext_ind_state *s, const pt_candle *c, double *vals);

/* ------------------------------------------------------------ the strategy */
#define SIM_EXT_PROTOCOL 1

/* An order from an answer: the request plus its quantity (0 = the
 * session's sizing for entries, the whole position for exits). */
typedef struct sim_ext_order {
    sim_order_request rq;
    double qty;
    char symbol[PT_SYMBOL_MAX]; /* scope portfolio: the symbol ordered; "" = the candle's */
} sim_ext_order;

/* Scope portfolio: cash, equity and every symbol's position, borrowed from
 * the engine for one decision. */
typedef struct sim_ext_pfpos {
    const char *symbol;
    sim_position_view pos;
} sim_ext_pfpos;

typedef struct sim_ext_pf {
    double cash, equity;
    int n;
    const sim_ext_pfpos *pos;
} sim_ext_pf;

/* The engine's view of the state around one candle, for batching. */
typedef struct sim_ext_view {
    sim_position_view pos;
    int quiet; /* nothing of the engine's own can change a position before
                  the strategy's next order (sim_engine.c engine_quiet) */
    const sim_ext_pf *pf; /* scope portfolio only, else NULL */
} sim_ext_view;

/* The backtest's read-ahead (sim_engine_lookahead): the candles the engine
 * will be pushed next, in order, and the engine's view of a symbol. */
typedef struct sim_ext_peek {
    void *ud;
    /* i-th candle after the current one, *accepted = it will pass the
     * quality check; NULL past the end of what can be read ahead */
    const pt_candle *(*at)(void *ud, int i, int *accepted);
    void (*view)(void *ud, const char *symbol, sim_position_view *out);
} sim_ext_peek;

/* A higher-timeframe candle being built or handed out (sim_ext_tf.c):
 * c.ts_ms is its period's start, count the base candles in it. */
typedef struct sim_ext_hi {
    pt_candle c;
    int count, tf, after;
} sim_ext_hi;

typedef struct sim_ext_tfsym {
    char name[PT_SYMBOL_MAX];
    sim_ext_hi agg[SIM_EXT_MAX_TF];
} sim_ext_tfsym;

struct cJSON; /* cjson/cJSON.h, for sim_ext_tf_parse */

/* Per-symbol indicator state (sim_ext_ind.c). */
typedef struct sim_ext_sym {
    char name[PT_SYMBOL_MAX];
    sim_ext_ind_state *ind;
} sim_ext_sym;

typedef struct sim_ext {
    sim_strategy_ops ops; /* first: sim_ext_of() casts the table back */
    sim_param_spec params[SIM_MAX_PARAMS];
    char pname[SIM_MAX_PARAMS][SIM_EXT_NAME_LEN], phelp[SIM_MAX_PARAMS][SIM_EXT_HELP_LEN];
    const char *dash_names[SIM_MAX_INDICATORS]; /* first scalar outputs, for the dashboard */
    char dash_store[SIM_MAX_INDICATORS][SIM_EXT_NAME_LEN + 8];
    char path[4096], name[SIM_EXT_NAME_LEN], desc[SIM_EXT_HELP_LEN];
    int batch, batch_off; /* asked for batches in ready; PT_STRATEGY_BATCH=0 */
    int columns, resume;  /* ready "columns":true, "resume":true (with columns only) */
    int warmup;           /* "warmup":N in ready: closed candles it needs before it can act */
    int shorts;           /* ready "shorts":true: it may go short */
    int portfolio;        /* ready "scope":"portfolio": every symbol, one instance */
    const sim_ext_pf *pf; /* the decision's portfolio view (put_candle) */
    int64_t tf_ms[SIM_EXT_MAX_TF]; /* higher timeframes asked for, in ready's order */
    char tf_name[SIM_EXT_MAX_TF][16];
    int n_tf;
    sim_ext_tfsym *tfsyms; /* [SIM_EXT_MAX_SYMS], lazily */
    int n_tfsyms;
    sim_ext_hi hi[2 * SIM_EXT_MAX_TF]; /* closed by the candle being decided */
    int n_hi;
    /* indicators as asked for (periods may name parameters: pref >= 0) */
    sim_ext_ind_spec ind[SIM_EXT_MAX_IND];
    int pref[SIM_EXT_MAX_IND][3];
    int kref[SIM_EXT_MAX_IND];
    int n_ind;
    sim_ext_sym *syms; /* [SIM_EXT_MAX_SYMS] */
    int n_syms;
    double *ahead;      /* indicator values of read-ahead candles [BATCH_MAX][MAX_IND*3] */
    int ahead_head, ahead_n;
    double cur[SIM_EXT_MAX_IND * 3];
    sim_ext_proc proc;
    sim_ext_options opt;
    char interval[16];
    int described, running, dead, pinned;
    cpu_set_t old_mask;
    char reasons[SIM_EXT_REASONS][SIM_EXT_REASON_LEN];
    int n_reasons;
    char *msg; /* the message being built, bounded by SIM_EXT_MSG_MAX */
    size_t mlen, mcap;
    int mfull;
    /* the last batch: its candles and views, and the answer; bn candles,
     * answers known for [bnext, n_known); a columnar batch's symbols are
     * those of the candles bsym_first[0..n_bsym), with one view each */
    pt_candle bcand[SIM_EXT_BATCH_MAX];
    sim_position_view bview[SIM_EXT_BATCH_MAX];
    int bn, bnext, n_known, known_at, n_known_orders;
    int bsym[SIM_EXT_BATCH_MAX], bsym_first[SIM_EXT_BATCH_MAX], n_bsym;
    sim_position_view bsym_view[SIM_EXT_BATCH_MAX];
    int bsize; /* candles to put in the next batch (adapts, 8..SIM_EXT_BATCH_MAX) */
    sim_ext_order known[SIM_EXT_MAX_ORDERS];
    sim_ext_peek peek;
} sim_ext;

#define SIM_EXT_MAX_SYMS PF_MAX_SYMBOLS

/* sim_ext_tf.c: higher timeframes. ready's "timeframes" (PT_OK or an error
 * with the reason in why); fold an accepted base candle: x->hi[0..n_hi)
 * then holds the higher candles it closed, after = 0 to be sent before it
 * (period ended by a gap), 1 after it (it ended the period). */
int sim_ext_tf_parse(sim_ext *x, const struct cJSON *timeframes, char *why, size_t cap);
void sim_ext_tf_fold(sim_ext *x, const pt_candle *c);
void sim_ext_tf_free(sim_ext *x);
/* sim_ext.c: send one higher candle (x->hi[i]) and decode its answer. */
int sim_ext_higher(sim_ext *x, const sim_ext_hi *h, const sim_ext_view *v, sim_ext_order *reqs,
                   int *n);

/* sim_ext.c */
sim_ext *sim_ext_of(const sim_strategy_ops *ops); /* NULL unless external */
/* Is name_or_path an external strategy (.py, .mjs/.js, or an executable
 * file path that is not a .so)? */
int sim_ext_is_external(const char *name_or_path);
/* Describe: start, hello mode "describe", ready, end. *out owns its table
 * (sim_ext_table); free with sim_ext_free. Errors logged. */
int sim_ext_load(const char *path, sim_ext **out);
const sim_strategy_ops *sim_ext_table(const sim_ext *x);
void sim_ext_free(sim_ext *x); /* NULL: no-op; stops a running child */
/* Run: start again in backtest/live mode with the resolved parameter values
 * (the engine's cfg.params, checked against ready by sim_strategy_params).
 * PT_OK or an error (logged). */
int sim_ext_start(sim_ext *x, const sim_ext_options *opt, const double *values);
/* One accepted candle: orders into reqs[SIM_EXT_MAX_ORDERS], *n of them;
 * reason strings stay valid until sim_ext_free. sig receives the first
 * SIM_MAX_INDICATORS indicator values (dashboard). PT_OK or a failure,
 * logged once with the strategy's name, the candle and the text; every
 * later call fails with PT_ESTATE. */
int sim_ext_decide(sim_ext *x, const pt_candle *c, const sim_ext_view *v, sim_ext_order *reqs,
                   int *n, sim_signal *sig);
/* Send end, wait for the exit, reap. Idempotent. */
void sim_ext_stop(sim_ext *x);
void sim_ext_set_peek(sim_ext *x, const sim_ext_peek *pk);
/* Send x->msg, read one answer (batch_n 1: a single candle; else *at is
 * the batch index acted at, -1 none). Failures logged via sim_ext_fail. */
int sim_ext_ask(sim_ext *x, const pt_candle *c, int batch_n, sim_ext_order *reqs, int *n, int *at);
/* Log a failure once (strategy, candle, text cut), kill the child; rc back. */
int sim_ext_fail(sim_ext *x, const pt_candle *c, int rc, const char *text, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* sim_ext_batch.c: the answer for c from a batch. *used = 0: no batch
 * applies (lockstep, and the last batch is forgotten); else the answer is
 * in reqs/n, or rc is a failure (logged). */
int sim_ext_batch_decide(sim_ext *x, const pt_candle *c, const sim_ext_view *v, const double *vals,
                         sim_ext_order *reqs, int *n, int *used);

/* sim_ext_out.c: messages to the strategy, built in x->msg. */
void sim_ext_mb_reset(sim_ext *x);
void sim_ext_mb_put(sim_ext *x, const char *s, size_t n);
void sim_ext_mb_printf(sim_ext *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* hi: a higher-timeframe candle (no indicators), else a base candle with vals */
void sim_ext_put_candle(sim_ext *x, const pt_candle *c, const sim_position_view *pos,
                        const double *vals, const sim_ext_hi *hi);
void sim_ext_put_hello(sim_ext *x, const char *mode, const double *values);
/* The columnar batch of x->bcand/bview[0..bn) with indicator rows vals[i] */
void sim_ext_put_columns(sim_ext *x, const double *const *vals);
/* {"type":"resume","from":from,"positions":[bsym_view...]} */
void sim_ext_put_resume(sim_ext *x, int from);
/* Shortest round-trip number; "null" for a non-finite one. */
void sim_ext_num(char *buf, size_t cap, double v);

/* sim_ext_msg.c: ready and answers. Errors: PT_EPARSE / PT_EINVAL /
 * PT_EUNSUPPORTED with the reason in why. */
int sim_ext_ready_parse(sim_ext *x, const char *line, size_t len, char *why, size_t cap);
/* batch_n: 1 for a single candle; *at: the batch index acted at, -1 none. */
int sim_ext_answer_parse(sim_ext *x, const char *line, size_t len, const char *symbol,
                         int batch_n, sim_ext_order *reqs, int *n, int *at, char *why,
                         size_t cap);

/* sim_ext_ind.c: the engine-side indicators of x->ind. */
int sim_ext_ind_resolve(sim_ext *x, const double *values); /* periods from params; logged */
void sim_ext_ind_reset(sim_ext *x);                         /* frees every symbol's state */
/* Values for the candle being decided (computed now, or earlier for a
 * batch); NULL on a non-finite input. */
double *sim_ext_ind_current(sim_ext *x, const pt_candle *c);
/* Values of the j-th (j >= 1) candle of the batch being built. */
double *sim_ext_ind_ahead(sim_ext *x, const pt_candle *c, int j);
void sim_ext_ind_dash(const sim_ext *x, const double *vals, sim_signal *sig);

#endif
