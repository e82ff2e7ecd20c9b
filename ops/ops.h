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

#ifdef __cplusplus
}
#endif
#endif
