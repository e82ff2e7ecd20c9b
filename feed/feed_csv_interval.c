/* The candle interval of a CSV input: the most common step in its first
 * rows, read through the reader's own look-ahead (feed_csv.c), so the input
 * is read once and a FIFO or a pipe works. */
#include "feed_csv_internal.h"

#include <stdlib.h>
#include <string.h>

#define PROBE_SYMBOLS 64 /* per-symbol last stamps kept; later symbols ignored */

void feed_csv_probe_quiet(const feed_reject *rej, void *ud)
{
    (void)rej;
    (void)ud;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* the most common step; ties go to the smaller one */
static int64_t mode_step(int64_t *steps, size_t nsteps)
{
    qsort(steps, nsteps, sizeof *steps, cmp_i64);
    size_t best = 0, best_n = 0;
    for (size_t i = 0, j; i < nsteps; i = j) {
        for (j = i; j < nsteps && steps[j] == steps[i]; j++)
            ;
        if (j - i > best_n) {
            best_n = j - i;
            best = i;
        }
    }
    return steps[best];
}

int feed_csv_interval_of(feed_csv *r, int64_t *interval_ms)
{
    int64_t *steps = NULL;
    struct {
        char sym[PT_SYMBOL_MAX];
        int64_t last;
    } *last = NULL;
    size_t nsteps = 0, nsyms = 0;
    int rc = PT_ENOMEM;
    if (!(steps = malloc(FEED_PROBE_ROWS * sizeof *steps)) ||
        !(last = calloc(PROBE_SYMBOLS, sizeof *last)))
        goto done;
    pt_candle c;
    for (int i = 0; i < FEED_PROBE_ROWS && (rc = feed_csv_next(r, &c)) == PT_OK; i++) {
        size_t k = 0;
        while (k < nsyms && strcmp(last[k].sym, c.symbol) != 0)
            k++;
        if (k == nsyms) {
            if (nsyms == PROBE_SYMBOLS)
                continue;
            memcpy(last[nsyms].sym, c.symbol, sizeof c.symbol);
            last[nsyms++].last = c.ts_ms;
            continue;
        }
        if (c.ts_ms > last[k].last)
            steps[nsteps++] = c.ts_ms - last[k].last;
        last[k].last = c.ts_ms;
    }
    if (rc != PT_OK && rc != PT_EOF)
        goto done;
    rc = PT_ERANGE;
    if (nsteps) {
        *interval_ms = mode_step(steps, nsteps);
        rc = PT_OK;
    }
done:
    free(steps);
    free(last);
    return rc;
}

int feed_csv_detect_interval(const char *path, const feed_csv_opts *opts, int64_t *interval_ms)
{
    if (!path || !interval_ms)
        return PT_EINVAL;
    feed_csv_opts o = {0};
    if (opts)
        o = *opts;
    o.on_reject = feed_csv_probe_quiet;
    o.rejects_out = NULL;
    int64_t ms = 0;
    o.interval_out = &ms;
    feed_csv *r = NULL;
    int rc = feed_csv_open(path, &o, &r);
    feed_csv_free(r);
    if (rc == PT_OK && ms <= 0)
        rc = PT_ERANGE;
    if (rc == PT_OK)
        *interval_ms = ms;
    return rc;
}
