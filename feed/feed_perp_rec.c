/* feed: the recording of a live perpetual session's marks and funding, in
 * the files a backtest reads (docs/feed.md "Perpetuals: marks and funding"):
 * DIR/marks/<SYMBOL>.csv (closed mark-price bars, the candle format `fetch`
 * writes) and DIR/funding/<SYMBOL>.csv (FEED_FUNDING_HEADER rows). Rows go
 * out with write(2) as they arrive (a killed process loses nothing the
 * kernel has); feed_perp_rec_sync makes them durable. Opening an existing
 * file (a resumed session) drops a torn last line and remembers the last
 * time, so only newer rows are appended: never a duplicate. */
#include "feed_live_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define REC_TAIL 4096 /* bytes read back to find the last row (rows are < 200 bytes) */

typedef struct rec_file {
    int fd;
    int64_t last_ts; /* INT64_MIN: no row yet */
    int dirty;
    char path[1024];
} rec_file;

struct feed_perp_rec {
    size_t n;
    char (*sym)[PT_SYMBOL_MAX];
    rec_file *marks, *funding; /* per symbol */
};

/* the last complete row's leading time; a torn tail is cut off */
static int rec_tail(rec_file *f)
{
    struct stat st;
    if (fstat(f->fd, &st))
        return PT_EIO;
    off_t from = st.st_size > REC_TAIL ? st.st_size - REC_TAIL : 0;
    char buf[REC_TAIL + 1];
    ssize_t got = pread(f->fd, buf, (size_t)(st.st_size - from), from);
    if (got < 0)
        return PT_EIO;
    buf[got] = '\0';
    char *end = strrchr(buf, '\n');
    if (!end)
        return PT_OK; /* empty: the header goes out below */
    if (end + 1 != buf + got) {
        pt_warn("%s: cutting a torn last line (%zd bytes)", f->path, (ssize_t)(buf + got - end - 1));
        if (ftruncate(f->fd, from + (end + 1 - buf)))
            return PT_EIO;
    }
    *end = '\0';
    char *line = strrchr(buf, '\n');
    line = line ? line + 1 : buf;
    int64_t t;
    if (line[0] >= '0' && line[0] <= '9' && !pt_parse_int64(line, strcspn(line, ","), &t, NULL))
        f->last_ts = t;
    return PT_OK;
}

static int rec_open(rec_file *f, const char *dir, const char *sub, const char *sym, const char *header)
{
    char d[1024];
    f->fd = -1;
    f->last_ts = INT64_MIN;
    if (snprintf(d, sizeof d, "%s/%s", dir, sub) >= (int)sizeof d ||
        snprintf(f->path, sizeof f->path, "%s/%s.csv", d, sym) >= (int)sizeof f->path)
        return PT_ERANGE;
    int rc = pt_mkdirs(d);
    if (rc)
        return rc;
    f->fd = open(f->path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (f->fd < 0) {
        pt_err_log("%s: cannot open: %s", f->path, strerror(errno));
        return PT_EIO;
    }
    if ((rc = rec_tail(f)))
        return rc;
    struct stat st;
    if (fstat(f->fd, &st) || (st.st_size == 0 && pt_write_all(f->fd, header, strlen(header)))) {
        pt_err_log("%s: cannot write the header: %s", f->path, strerror(errno));
        return PT_EIO;
    }
    return PT_OK;
}

void feed_perp_rec_free(feed_perp_rec *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++) {
        if (r->marks && r->marks[i].fd >= 0)
            close(r->marks[i].fd);
        if (r->funding && r->funding[i].fd >= 0)
            close(r->funding[i].fd);
    }
    free(r->sym);
    free(r->marks);
    free(r->funding);
    free(r);
}

int feed_perp_rec_open(const char *dir, const char *const *symbols, size_t n, feed_perp_rec **out)
{
    *out = NULL;
    feed_perp_rec *r = calloc(1, sizeof *r);
    if (!r)
        return PT_ENOMEM;
    r->sym = calloc(n ? n : 1, sizeof *r->sym);
    r->marks = calloc(n ? n : 1, sizeof *r->marks);
    r->funding = calloc(n ? n : 1, sizeof *r->funding);
    int rc = r->sym && r->marks && r->funding ? PT_OK : PT_ENOMEM;
    for (size_t i = 0; !rc && i < n; i++) {
        r->marks[i].fd = r->funding[i].fd = -1;
        r->n = i + 1; /* free closes what this one opened */
        snprintf(r->sym[i], sizeof r->sym[i], "%s", symbols[i]);
        if (!(rc = rec_open(&r->marks[i], dir, "marks", symbols[i], "timestamp,open,high,low,close,volume\n")))
            rc = rec_open(&r->funding[i], dir, "funding", symbols[i], FEED_FUNDING_HEADER);
    }
    if (rc) {
        feed_perp_rec_free(r);
        return rc;
    }
    *out = r;
    return PT_OK;
}

static rec_file *rec_of(feed_perp_rec *r, rec_file *files, const char *sym)
{
    for (size_t i = 0; i < r->n; i++)
        if (!strcasecmp(r->sym[i], sym)) /* the venue spells symbols uppercase */
            return &files[i];
    return NULL;
}

static int rec_put(rec_file *f, int64_t ts, const char *line, size_t len)
{
    if (!f || ts <= f->last_ts)
        return PT_OK; /* not ours, or recorded before a resume */
    if (pt_write_all(f->fd, line, len)) {
        pt_err_log("%s: write failed: %s", f->path, strerror(errno));
        return PT_EIO;
    }
    f->last_ts = ts;
    f->dirty = 1;
    return PT_OK;
}

int feed_perp_rec_mark_bar(feed_perp_rec *r, const pt_candle *bar)
{
    char v[4][32], line[200];
    const double d[4] = {bar->open, bar->high, bar->low, bar->close};
    for (int i = 0; i < 4; i++)
        pt_format_double(d[i], v[i], sizeof v[i]);
    int n = snprintf(line, sizeof line, "%lld,%s,%s,%s,%s,0\n", (long long)bar->ts_ms, v[0], v[1], v[2], v[3]);
    if (n < 0 || n >= (int)sizeof line)
        return PT_EFULL;
    return rec_put(rec_of(r, r->marks, bar->symbol), bar->ts_ms, line, (size_t)n);
}

int feed_perp_rec_funding(feed_perp_rec *r, const feed_funding *f)
{
    char line[200];
    feed_funding g = *f;
    rec_file *file = rec_of(r, r->funding, f->symbol);
    if (file) /* the session's spelling of the symbol, as in candles/ */
        snprintf(g.symbol, sizeof g.symbol, "%s", r->sym[file - r->funding]);
    int n = feed_funding_format(&g, line, sizeof line);
    return n < 0 ? n : rec_put(file, f->ts_ms, line, (size_t)n);
}

int feed_perp_rec_sync(feed_perp_rec *r)
{
    int rc = PT_OK;
    for (size_t i = 0; r && i < r->n; i++) {
        rec_file *fs[2] = {&r->marks[i], &r->funding[i]};
        for (int k = 0; k < 2; k++) {
            if (!fs[k]->dirty)
                continue;
            if (fdatasync(fs[k]->fd)) {
                pt_err_log("%s: fdatasync failed: %s", fs[k]->path, strerror(errno));
                rc = PT_EIO;
            }
            fs[k]->dirty = 0;
        }
    }
    return rc;
}
