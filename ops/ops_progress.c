/* Progress bar on stderr (progress.h). */
#include "ops.h"

#include "pt_core.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define PROGRESS_WIDTH 30

void ops_progress_begin(ops_progress *p, const char *label, int quiet)
{
    *p = (ops_progress){.on = !quiet && isatty(2), .label = label, .after_ms = 1000};
    p->t0_ms = p->on ? pt_mono_ms() : 0;
    const char *e = getenv("PT_PROGRESS_AFTER_MS");
    if (e && *e >= '0' && *e <= '9')
        p->after_ms = strtol(e, NULL, 10);
}

void ops_progress_update(ops_progress *p, double done, double total, const char *what)
{
    if (!p->on)
        return;
    int64_t now = pt_mono_ms();
    if (now - p->t0_ms < p->after_ms || (p->drawn && now - p->last_ms < 200))
        return;
    p->last_ms = now;
    p->drawn = 1;
    if (total > 0) {
        double f = done / total;
        f = f < 0 ? 0 : f > 1 ? 1 : f;
        char bar[PROGRESS_WIDTH + 1];
        int full = (int)(f * PROGRESS_WIDTH);
        for (int i = 0; i < PROGRESS_WIDTH; i++)
            bar[i] = i < full ? '#' : '.';
        bar[PROGRESS_WIDTH] = '\0';
        fprintf(stderr, "\r%s [%s] %3.0f%%%s%s\033[K", p->label, bar, f * 100, what ? " " : "", what ? what : "");
    } else {
        fprintf(stderr, "\r%s %.0f%s%s\033[K", p->label, done, what ? " " : "", what ? what : "");
    }
}

void ops_progress_end(ops_progress *p)
{
    if (p->on && p->drawn)
        fprintf(stderr, "\r\033[K");
    p->drawn = 0;
}
