/* app/session_resume: the durable side of a live session folder (run, demo,
 * backtest --serve; docs/durability.md "Live sessions"):
 *  - the folder lock (one process per DIR) and session.json, written
 *    atomically before the first candle, with "args" (sess_opts_args_json);
 *  - the candle recorder: candles/<SYMBOL>.csv plus candles/.order, one
 *    symbol name per processed candle, so the order the engine saw candles
 *    across symbols is on disk (the files alone cannot say it: after a
 *    backfill one symbol's bars arrive ahead of another's);
 *  - `run --resume DIR`: repair torn tails, replay the recorded candles in
 *    .order through the engine (the ledger verifies the recorded fills),
 *    drop recorded rows the engine never saw (the feed fetches them again).
 *
 * Must never: write a recorded row twice, or let the engine see a candle
 * before its row and its .order line are written. Loop thread only; every fd
 * it opens lives in the session and is closed by sl_state_close. */
#ifndef PT_APP_SESSION_RESUME_H
#define PT_APP_SESSION_RESUME_H

#include "session_internal.h"

/* Called for each replayed candle, as the live path calls it after recording. */
typedef void (*sl_closed_fn)(session *s, sl_sym *y, const pt_candle *c);

/* flock DIR/.lock. A new (not resumed) session then removes an old
 * DIR/session.json (and controls.csv) before any file is cut, so a crash before the new one is
 * written cannot pair old options with new files. Returns 0 or an exit code:
 * PT_EXIT_LOCKED (printed "state dir locked by PID N"), PT_EXIT_FAILURE. */
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

#endif
