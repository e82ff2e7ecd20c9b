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
double ops_config_get_num(const ops_config *cfg, const char *section, const char *key, double def);
int ops_config_get_bool(const ops_config *cfg, const char *section, const char *key);
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

#ifdef __cplusplus
}
#endif
#endif
