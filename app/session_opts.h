/* app/session_opts: the options shared by the live commands (run, demo,
 * backtest --serve): engine flags with the same names and ranges as
 * `papertrader backtest`, feed and server flags, and the config layering
 * defaults < --config FILE < environment < flags (ops/ops.h, docs/config.md).
 *
 * Ownership: sess_opts_parse() fills a caller-owned sess_opts; strings in it
 * point into argv or into o->cfg and stay valid until sess_opts_free(). */
#ifndef PT_APP_SESSION_OPTS_H
#define PT_APP_SESSION_OPTS_H

#include "ops.h"
#include "sim.h"

#define SESS_MAX_PARAMS 32
#define SESS_MAX_SYMBOLS 64

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
    double duration_s;         /* 0 = until a signal */
    /* simulator flags (demo, serve) */
    double speed;
    const char *faults;
    int updates;
    int64_t seed;
    int64_t backoff_base_ms, backoff_cap_ms, stale_after_ms;
    /* positional arguments (serve: FILEs) */
    char **rest;
    int n_rest;
} sess_opts;

/* What a command accepts besides the shared engine/feed/server flags. */
enum { SESS_F_SIM = 1, SESS_F_FILES = 2 };

/* Returns 0, or an exit code (PT_EXIT_USAGE after printing why). */
int sess_opts_parse(sess_opts *o, const char *cmd, int flags, int argc, char **argv);
void sess_opts_free(sess_opts *o);
/* The shared part of the --help text. */
void sess_opts_usage(FILE *out, int flags);

#endif
