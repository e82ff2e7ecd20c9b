/* The candle interval of a CSV input: the most common step in its first
 * rows, read through the reader's own look-ahead (feed_csv.c, top comment),
 * so the input is read once and a FIFO or a pipe works. Here: the look-ahead
 * byte source and the step count. */
#include "feed_csv_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PROBE_SYMBOLS 64 /* per-symbol last stamps kept; later symbols ignored */

/* Appends up to CHUNK bytes of r's descriptor to its look-ahead: the
 * count, 0 at the end of the input or past FEED_PROBE_BYTES, -1 with errno. */
static ssize_t ahead_grow(feed_csv *r)
{
    if (r->ahead_len >= FEED_PROBE_BYTES)
        return 0;
    if (r->ahead_cap - r->ahead_len < CHUNK) {
        size_t cap = r->ahead_cap ? 2 * r->ahead_cap : 2 * CHUNK;
        if (cap > FEED_PROBE_BYTES + CHUNK) /* the most one read past the cap can need */
            cap = FEED_PROBE_BYTES + CHUNK;
        unsigned char *b = realloc(r->ahead, cap);
        if (!b) {
            errno = ENOMEM;
            return -1;
        }
        r->ahead = b;
        r->ahead_cap = cap;
    }
    ssize_t n;
    do
        n = read(r->fd, r->ahead + r->ahead_len, CHUNK);
    while (n < 0 && errno == EINTR);
    if (n > 0)
        r->ahead_len += (size_t)n;
    return n;
}

/* The next bytes into r->buf: look-ahead first, then the descriptor. A
 * probe reads its tee's look-ahead and grows it; a capturing reader grows
 * its own (past FEED_PROBE_BYTES it stops capturing: no probe then). */
ssize_t feed_csv_src_read(feed_csv *r)
{
    feed_csv *t = r->tee ? r->tee : r;
    size_t *pos = r->tee ? &r->tee_pos : &r->ahead_pos;
    if (!r->tee && !r->capture && r->ahead && r->ahead_pos == r->ahead_len) {
        free(r->ahead); /* all given out: back to constant memory */
        r->ahead = NULL;
        r->ahead_len = r->ahead_cap = r->ahead_pos = 0;
    }
    if (*pos == t->ahead_len && (r->tee || r->capture)) {
        ssize_t n = ahead_grow(t);
        if (n < 0 || (n == 0 && (r->tee || t->ahead_len < FEED_PROBE_BYTES)))
            return n;
        if (n == 0)
            r->capture = 0;
    }
    if (*pos == t->ahead_len) {
        ssize_t n;
        do
            n = read(r->fd, r->buf, CHUNK);
        while (n < 0 && errno == EINTR);
        return n;
    }
    size_t n = t->ahead_len - *pos < CHUNK ? t->ahead_len - *pos : CHUNK;
    memcpy(r->buf, t->ahead + *pos, n);
    *pos += n;
    return (ssize_t)n;
}

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
