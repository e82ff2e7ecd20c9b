/* session_ledger: the resume-aware ledger of a session folder (backtest and
 * live run share it), plus the folder lock and atomic small-file writes.
 * docs/durability.md describes the whole scheme.
 *
 * Resume is replay: the engine is deterministic and event-time only, so a
 * resumed session re-runs from the first candle with the same options. The
 * ledger then VERIFIES the first N fills / M portfolio rows (those already
 * in DIR) byte for byte instead of writing them, and appends the rest:
 *  - a trades.csv row that differs from the replay: PT_ECORRUPT, logged as
 *    "DIR/trades.csv:LINE: ..." (corrupt journal or different inputs);
 *  - a portfolio.csv row that differs: portfolio.csv is a derived snapshot
 *    (docs/durability.md), so the rest of it is moved to portfolio.csv.stale
 *    and rebuilt from the replay, with a warning.
 * Bytes are compared with rows formatted by portfolio/'s own writer: each
 * replayed row is written to a scratch ledger in DIR/.replay (kept small by
 * punching it empty every 1 MiB) and read back.
 *
 * Owns: the pf_ledger of DIR, the scratch ledger, read fds on the recorded
 * files. Must never: decide anything, or write a recorded row twice.
 * Threading: one owner thread. */
#ifndef PT_APP_SESSION_LEDGER_H
#define PT_APP_SESSION_LEDGER_H

#include "portfolio.h"

#include <cjson/cJSON.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct session_ledger session_ledger;

typedef struct session_ledger_options {
    int resume;            /* 1: keep DIR's rows (repair torn tails, verify by replay) */
    pf_sync_policy sync;   /* fdatasync per fill (default) or none */
    int batch_portfolio;   /* buffer portfolio.csv rows (64 KiB) */
    uint64_t crash_after_fills; /* test hook: _exit(137) right after fill seq N
                                   is written (and synced); 0 = off */
} session_ledger_options;

/* DIR must exist and be locked by the caller (session_lock). With resume:
 * repairs torn tails (bytes to X.torn, logged), reads trades.csv strictly
 * (seq must be 1,2,3...), logs "recovered N trades from journal, resumed at
 * candle T". PT_ECORRUPT (logged with file:line), PT_EIO, PT_ENOSPC,
 * PT_ENOMEM. The caller frees with session_ledger_close. */
int session_ledger_open(const char *dir, const session_ledger_options *o, session_ledger **out);
/* One fill / one portfolio row, in engine order. Returns the sticky error
 * (PT_ECORRUPT on a verify mismatch, PT_EIO/PT_ENOSPC on a write error):
 * after any error the caller must stop trading. */
int session_ledger_fill(session_ledger *sl, const pf_fill *f, const pf_fill_result *r);
int session_ledger_row(session_ledger *sl, const pf_snapshot *s);
/* The sticky error's one line saying which file and why
 * ("DIR/trades.csv:17: ...", "cannot write DIR/trades.csv: ..."; "" while
 * healthy). */
const char *session_ledger_error_text(const session_ledger *sl);
/* Recorded rows found at open (0 without resume). */
uint64_t session_ledger_recovered_fills(const session_ledger *sl);
/* A live resume (`run --resume`): the recorded input is replayed, then the
 * session goes on with new input. Call once the replay of the recorded
 * candles is done: a recorded fill it did not reproduce is PT_ECORRUPT
 * (logged with DIR/trades.csv:LINE); surplus portfolio rows (the previous
 * run's shutdown rows) move to portfolio.csv.stale; from here on every row
 * is appended. Returns the sticky error. */
int session_ledger_end_replay(session_ledger *sl);
/* End of the session. complete = 1 when the replay reached the end of its
 * input: recorded fills never reproduced are then PT_ECORRUPT, surplus
 * portfolio rows are moved aside. After a trades.csv mismatch, portfolio.csv
 * is cut back to its size at open (files as found). Syncs and closes both
 * files, removes the scratch. Returns the first error. NULL: PT_OK. */
int session_ledger_close(session_ledger *sl, int complete);

/* flock(2) DIR/.lock (created, holds our PID). PT_OK with *fd_out to keep
 * open for the session's life; PT_EBUSY if another process holds it (*holder:
 * its PID, always a live process, from /proc/locks or the PID it wrote; 0 if
 * neither names a live one within 0.5 s; nothing logged); PT_EIO otherwise
 * (logged). A dead holder's lock is free (the kernel drops it): taken. */
int session_lock(const char *dir, int *fd_out, long *holder);
void session_unlock(int fd); /* < 0: no-op */
/* "PID 123", or "a process whose PID is unknown" for holder 0: the text
 * after "locked by" in the exit-6 message. Written to buf (>= 48 bytes). */
const char *session_holder_text(long holder, char *buf, size_t cap);

/* The default output folder of every command: logs/<UTC, ISO 8601 basic>-
 * <mode>, e.g. logs/20261204T020628Z-backtest (scripts/run-default.sh uses
 * the same). The wall clock names the folder only, never its contents. */
void session_default_dir(char *buf, size_t cap, const char *mode);
/* 1 when DIR already holds a run (session.json or trades.csv): --out
 * refuses it unless --force. */
int session_dir_holds_run(const char *dir);

/* The bytes [at, EOF) of path move to path+suffix (replacing it; synced
 * first), then path is cut at `at`. PT_EIO / PT_ENOSPC, logged. */
int session_move_tail(const char *path, off_t at, const char *suffix);

/* DIR/name <- text, crash-safe: DIR/.name.tmp, fsync, rename, fsync DIR.
 * PT_EIO / PT_ENOSPC, logged with the path and strerror. */
int session_write_atomic(const char *dir, const char *name, const char *text);
/* The same for a JSON document (pretty-printed, newline-terminated); j NULL
 * is PT_ENOMEM (a failed build upstream). j stays the caller's. */
int session_write_json(const char *dir, const char *name, const cJSON *j);
/* DIR/session.json parsed (at most SESSION_JSON_MAX bytes, nothing after the
 * document), or NULL with errno set: ENOENT and the like when it cannot be
 * opened, EINVAL when it is too big or not JSON. The caller cJSON_Delete()s. */
#define SESSION_JSON_MAX (1 << 20)
cJSON *session_json_read(const char *dir);

#endif
