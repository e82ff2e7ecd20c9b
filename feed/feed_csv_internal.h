/* feed CSV internals shared by feed_csv.c (the reader and its look-ahead)
 * and feed_csv_interval.c (the interval probe). Not a public header: only
 * feed/ includes it. */
#ifndef PT_FEED_CSV_INTERNAL_H
#define PT_FEED_CSV_INTERNAL_H

#include "feed.h"

/* The interval probe reads at most this many rows and bytes of look-ahead
 * (feed_csv_opts.interval_out): the memory a reader holds beyond its 64 KiB
 * chunk until the look-ahead is parsed. */
#define FEED_PROBE_ROWS 2000
#define FEED_PROBE_BYTES (1024 * 1024)

/* on_reject for a probe: its rows are reported when the real reader reads them */
void feed_csv_probe_quiet(const feed_reject *rej, void *ud);
/* The most common positive step between consecutive rows of one symbol in
 * the next FEED_PROBE_ROWS rows of r, in ms; PT_ERANGE for fewer than two. */
int feed_csv_interval_of(feed_csv *r, int64_t *interval_ms);

#endif
