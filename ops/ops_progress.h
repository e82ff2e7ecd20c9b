/* A progress bar on stderr for long commands (check, backtest, fetch): only
 * when stderr is a terminal and not --quiet, only after the first second, at
 * most 5 redraws a second; nothing on stdout, nothing in any output file.
 * The wall clock paces the drawing only. */
#ifndef PT_APP_PROGRESS_H
#define PT_APP_PROGRESS_H

#include <stdint.h>

typedef struct progress {
    int on;
    const char *label; /* borrowed: lives as long as the progress */
    int64_t t0_ms, last_ms, after_ms;
    int drawn;
} progress;

/* on: isatty(2) && !quiet, worked out here when quiet is given. The first
 * draw waits 1 s (PT_PROGRESS_AFTER_MS overrides it: tests set 0, so they
 * never race the clock). */
void progress_begin(progress *p, const char *label, int quiet);
/* done of total (total 0: unknown, a count only); what: a short note ("at
 * 2024-01-02T03:04Z"), or NULL. Cheap when nothing is due. */
void progress_update(progress *p, double done, double total, const char *what);
/* Clears the line if anything was drawn. */
void progress_end(progress *p);

#endif
