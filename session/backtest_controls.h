/* backtest --controls FILE: replays a live session's operator controls
 * (DIR/controls.csv, written by app/session_dash.c: boundary_ts,
 * boundary_time, action, symbol) so that `backtest` on a session's recording
 * reproduces its manual fills too (docs/session.md "Parity").
 *
 * Ownership: backtest_controls_load allocates *out (bounded:
 * BACKTEST_CONTROLS_MAX rows); free with backtest_controls_free (NULL: no-op). */
#ifndef PT_APP_BACKTEST_CONTROLS_H
#define PT_APP_BACKTEST_CONTROLS_H

#include "sim.h"

#include <stdint.h>

/* Rows a controls.csv may hold: the replay's bound, and the live session
 * refuses a control past it (app/session_dash.c), so every recorded control
 * replays. */
#define BACKTEST_CONTROLS_MAX 10000

typedef struct backtest_controls backtest_controls;

/* PT_OK; PT_EIO unreadable; PT_EPARSE with "FILE:LINE: field: why" logged. */
int backtest_controls_load(const char *path, backtest_controls **out);
/* Queues in the engine every recorded control with a boundary before ts:
 * call before pushing a candle at ts, and with INT64_MAX before
 * sim_engine_finish. Returns PT_OK or the engine's refusal (logged). */
int backtest_controls_apply(backtest_controls *c, sim_engine *e, int64_t ts);
/* Rows loaded (0 for NULL). */
size_t backtest_controls_count(const backtest_controls *c);
void backtest_controls_free(backtest_controls *c);

#endif
