/* app/session_opts: the options shared by the live commands (run, demo,
 * backtest --serve): engine flags with the same names and ranges as
 * `papertrader backtest`, feed and server flags, and the config layering
 * defaults < --config FILE < environment < flags (ops/ops.h, docs/config.md).
 *
 * Resume (`run --resume DIR`, `run --state-dir DIR`, docs/durability.md): the
 * engine and feed options come from DIR/session.json ("args", written by
 * sess_opts_args_json at the first start), not from the command line.
 *
 * Ownership: sess_opts_parse() fills a caller-owned sess_opts; strings in it
 * point into argv, o->cfg or the loaded session.json and stay valid until
 * sess_opts_free(). */
#ifndef PT_APP_SESSION_OPTS_H
#define PT_APP_SESSION_OPTS_H

#include "ops.h"
#include "sim.h"

#include <cjson/cJSON.h>

#define SESS_MAX_PARAMS 32
#define SESS_MAX_SYMBOLS 64
#define SESS_STRATEGY_TIMEOUT_MS 5000 /* an external strategy's answer deadline, live */

typedef struct sess_opts {
    const char *cmd;           /* "run", "demo", "backtest --serve" (messages) */
    ops_config *cfg;           /* layered config; owned */
    sim_engine_config eng;     /* after sess_opts_parse */
    const char *strategy;      /* name or path */
    char sizing_text[64];
    const char *params[SESS_MAX_PARAMS * 2];
    char cfg_params[SESS_MAX_PARAMS][64]; /* [strategy] K=V from the config */
    int n_params;
    char symbuf[2048];
    const char *symbols[SESS_MAX_SYMBOLS];
    int n_symbols;
    int64_t interval_ms;
    const char *exchange, *ws_url, *rest_url, *ca_file, *out, *host, *log_dir, *token;
    int port;                  /* dashboard; 0 = a free port, -1 = off */
    int fsync_every;
    int heartbeat_s;
    int quiet;
    int force; /* --force: an --out that holds an earlier run is overwritten */
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
} sess_opts;

/* What a command accepts besides the shared engine/feed/server flags. */
enum { SESS_F_SIM = 1, SESS_F_FILES = 2, SESS_F_RESUME = 4 };

/* Returns 0, or an exit code (PT_EXIT_USAGE after printing why; with
 * SESS_F_RESUME also PT_EXIT_CORRUPT for a session.json that does not parse). */
int sess_opts_parse(sess_opts *o, const char *cmd, int flags, int argc, char **argv);
void sess_opts_free(sess_opts *o);
/* The "args" of session.json: every engine and feed option as effective
 * values (flags and --set), enough to rebuild the same sess_opts without the
 * config file or the environment. NULL when out of memory. Caller frees. */
cJSON *sess_opts_args_json(const sess_opts *o);
/* The shared part of the --help text. */
void sess_opts_usage(FILE *out, int flags);

#endif
