/* feed CSV internals shared by feed_csv.c (the reader) and
 * feed_csv_interval.c (its look-ahead source and the interval probe). Not a
 * public header: only feed/ includes it. */
#ifndef PT_FEED_CSV_INTERNAL_H
#define PT_FEED_CSV_INTERNAL_H

#include "feed.h"

#include <csv.h>
#include <sys/types.h>

#define CHUNK (64 * 1024)
#define QCAP 4         /* one line gives at most one row; fill stops at one */
#define MAX_COLS 256   /* columns read; a known column past this is a header error */
#define REJ_TEXT_MAX 40

enum role { R_TIME, R_OPEN, R_HIGH, R_LOW, R_CLOSE, R_VOLUME, R_SYMBOL, R__N, R_IGNORE = 255 };

struct feed_csv {
    char *path;
    int fd;
    int is_reg;
    uint64_t size_at_open; /* regular files: to detect truncation */
    unsigned char *buf;
    size_t len, pos;
    int chunk_cr, chunk_nul; /* this chunk holds a '\r' / a NUL byte */
    int eof, done, err, summary_logged;
    struct csv_parser p;

    feed_csv_opts opts;
    pt_tz tz;
    size_t max_line;
    pt_time_kind kind, row_kind;
    char default_symbol[PT_SYMBOL_MAX];

    /* physical lines */
    uint64_t line;   /* 1-based number of the line being read */
    size_t line_len; /* bytes of it seen so far */
    int cr_pending;  /* last chunk ended in '\r': a leading '\n' is its LF */
    int skipping;    /* after "line too long": drop bytes up to the line end */

    /* the row being parsed */
    int at_row_start;
    uint64_t row_line;
    size_t row_bytes;
    unsigned field_idx, seen;
    int row_err;
    feed_reject_kind err_kind;
    const char *err_field, *err_reason;
    char err_text[REJ_TEXT_MAX + 1];

    /* header */
    int header_done;
    unsigned required;
    int role_col[R__N];
    uint8_t role_prio[R__N];
    char role_name[R__N][32];
    uint8_t roles[MAX_COLS];
    unsigned n_cols;     /* fields in the header (all of them, past MAX_COLS too) */
    const char *hdr_err; /* first header problem (static text), logged at its end */
    char hdr_name[32];
    unsigned hdr_col, hdr_col2;
    char extra_reason[64]; /* "more fields than the header" with the counts */
    int64_t last_ts;       /* the last accepted row's time: a repeated local hour reads in order */

    /* ready rows; the tail slot is written in place by the callbacks */
    pt_candle q[QCAP];
    unsigned qhead, qcount;

    feed_csv_stats stats;

    /* look-ahead (see the top): ahead[ahead_pos..ahead_len) not read yet */
    unsigned char *ahead;
    size_t ahead_len, ahead_cap, ahead_pos;
    int capture;   /* keep what read() returns in ahead (header, then the probe) */
    feed_csv *tee; /* set in a probe: reads tee's look-ahead, then tee's fd */
    size_t tee_pos;
};

/* The interval probe reads at most this many rows and bytes of look-ahead
 * (feed_csv_opts.interval_out): the memory a reader holds beyond its 64 KiB
 * chunk until the look-ahead is parsed. */
#define FEED_PROBE_ROWS 2000
#define FEED_PROBE_BYTES (1024 * 1024)

/* The next bytes into r->buf (up to CHUNK): r's look-ahead first, then its
 * descriptor; a probe (r->tee) reads its tee's. read(2)'s result. */
ssize_t feed_csv_src_read(feed_csv *r);
/* on_reject for a probe: its rows are reported when the real reader reads them */
void feed_csv_probe_quiet(const feed_reject *rej, void *ud);
/* The most common positive step between consecutive rows of one symbol in
 * the next FEED_PROBE_ROWS rows of r, in ms; PT_ERANGE for fewer than two. */
int feed_csv_interval_of(feed_csv *r, int64_t *interval_ms);

#endif
