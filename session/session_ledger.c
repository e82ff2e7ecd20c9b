/* Resume-aware ledger wiring (see session.h and docs/durability.md).
 *
 * Write ordering (docs/durability.md "Write ordering"): a fill row is write()n
 * and fdatasync()ed (portfolio/ does both) before session_ledger_fill
 * returns, so nothing downstream (metrics, dashboard) learns of a fill that
 * is not on disk. Small files are replaced with temp + fsync + rename +
 * fsync(dir), the only order that survives a power cut on ext4/xfs. */
#include "session.h"

#include "pt_core.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SL_LINE_MAX 1024        /* portfolio/ rows never exceed this (ROW_CAP) */
#define SL_RBUF 65536           /* read buffer per recorded file */
#define SL_PUNCH (1 << 20)      /* scratch files are emptied every 1 MiB */

/* Sequential line reader over a recorded file (bounded buffer). */
typedef struct sl_reader {
    int fd;
    char *buf;
    size_t len, pos;
    off_t buf_off;  /* file offset of buf[0] */
    uint64_t line;  /* 1-based number of the last line returned */
} sl_reader;

/* One ledger file: trades.csv or portfolio.csv. */
typedef struct sl_stream {
    const char *name;
    char path[PATH_MAX];
    uint64_t recorded;   /* complete rows found at open */
    uint64_t seen;       /* rows the engine produced so far */
    int64_t last_ts;     /* of the last recorded row */
    off_t size_at_open;
    sl_reader rd;
    int scratch_fd;      /* read/write fd on the scratch copy */
    off_t scratch_off, next_punch;
    char header[SL_LINE_MAX];
    size_t header_len;
} sl_stream;

struct session_ledger {
    char dir[PATH_MAX], scratch_dir[PATH_MAX];
    pf_ledger *lg, *scratch;
    sl_stream t, p;
    int err, trades_mismatch;
    char err_text[PATH_MAX + 128];
    uint64_t crash_after;
};

static int fail_code(int e) { return (e == ENOSPC || e == EDQUOT) ? PT_ENOSPC : PT_EIO; }

static int set_err(session_ledger *sl, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int set_err(session_ledger *sl, int rc, const char *fmt, ...)
{
    if (rc && !sl->err) {
        sl->err = rc;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(sl->err_text, sizeof sl->err_text, fmt, ap);
        va_end(ap);
    }
    return rc;
}

static int fsync_dir(const char *dir)
{
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || fsync(dfd) != 0) {
        int e = errno;
        pt_err_log("fsync dir %s: %s", dir, strerror(e));
        if (dfd >= 0)
            close(dfd);
        return fail_code(e);
    }
    close(dfd);
    return PT_OK;
}

/* ------------------------------------------------------------ reader */

static int rd_open(sl_reader *r, const char *path, off_t from)
{
    r->fd = open(path, O_RDONLY | O_CLOEXEC);
    r->buf = malloc(SL_RBUF);
    r->len = r->pos = 0;
    r->buf_off = from;
    r->line = 1; /* the header */
    if (r->fd < 0 || !r->buf || lseek(r->fd, from, SEEK_SET) != from) {
        pt_err_log("read %s: %s", path, r->buf ? strerror(errno) : "out of memory");
        return r->buf ? PT_EIO : PT_ENOMEM;
    }
    return PT_OK;
}

static void rd_close(sl_reader *r)
{
    if (r->fd >= 0)
        close(r->fd);
    free(r->buf);
    r->fd = -1;
    r->buf = NULL;
}

/* 1 with the next line (with its '\n') and its file offset; 0 at EOF (a
 * last line without '\n' is ignored: tails are repaired before reading);
 * PT_EIO, or PT_ECORRUPT for a line longer than the buffer. */
static int rd_next(sl_reader *r, const char **line, size_t *n, off_t *at)
{
    for (;;) {
        char *s = r->buf + r->pos;
        char *nl = memchr(s, '\n', r->len - r->pos);
        if (nl) {
            *line = s;
            *n = (size_t)(nl - s) + 1;
            *at = r->buf_off + (off_t)r->pos;
            r->pos += *n;
            r->line++;
            return 1;
        }
        memmove(r->buf, s, r->len - r->pos);
        r->buf_off += (off_t)r->pos;
        r->len -= r->pos;
        r->pos = 0;
        if (r->len == SL_RBUF)
            return PT_ECORRUPT;
        ssize_t k = read(r->fd, r->buf + r->len, SL_RBUF - r->len);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return PT_EIO;
        if (k == 0)
            return 0;
        r->len += (size_t)k;
    }
}

/* ------------------------------------------------------------ file surgery */

/* Move the bytes [at, EOF) of path to path+suffix (replacing it), then cut
 * path at `at`; the copy is durable before the original loses the bytes. */
static int move_tail(const char *path, off_t at, const char *suffix)
{
    char aside[PATH_MAX + 16], buf[8192];
    int rc = PT_EIO, fd = -1, afd = -1;
    snprintf(aside, sizeof aside, "%s%s", path, suffix);
    fd = open(path, O_RDWR | O_CLOEXEC);
    afd = open(aside, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || afd < 0 || lseek(fd, at, SEEK_SET) != at)
        goto fail;
    for (;;) {
        ssize_t k = read(fd, buf, sizeof buf);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0 || (k > 0 && pt_write_all(afd, buf, (size_t)k)))
            goto fail;
        if (k == 0)
            break;
    }
    if (fsync(afd) || ftruncate(fd, at) || fsync(fd))
        goto fail;
    rc = PT_OK;
fail:
    if (rc)
        rc = fail_code(errno), pt_err_log("moving the tail of %s to %s: %s", path, aside,
                                          strerror(errno));
    if (fd >= 0)
        close(fd);
    if (afd >= 0)
        close(afd);
    return rc;
}

int session_move_tail(const char *path, off_t at, const char *suffix) { return move_tail(path, at, suffix); }

/* ------------------------------------------------------------ open */

typedef struct count_ctx {
    uint64_t rows;
    int64_t last_ts;
    const char *path;
} count_ctx;

/* pf_trades_read callback: seq must run 1, 2, 3... (catches swapped,
 * dropped and duplicated lines that still parse). */
static int count_trade(const pf_trade_row *row, void *ud)
{
    count_ctx *c = ud;
    if (row->seq != c->rows + 1) {
        pt_err_log("%s:%llu: seq %llu, expected %llu", c->path, (unsigned long long)row->line,
                   (unsigned long long)row->seq, (unsigned long long)(c->rows + 1));
        return PT_ECORRUPT;
    }
    c->rows++;
    c->last_ts = row->fill.ts_ms;
    return 0;
}

static off_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : -1;
}

/* Scratch ledger in DIR/.replay: portfolio/ formats the replayed rows there
 * and writes the headers we compare against. */
static int scratch_open(session_ledger *sl)
{
    if (snprintf(sl->scratch_dir, sizeof sl->scratch_dir, "%s/.replay", sl->dir) >=
        (int)sizeof sl->scratch_dir)
        return PT_EINVAL;
    if (mkdir(sl->scratch_dir, 0755) && errno != EEXIST) {
        pt_err_log("mkdir %s: %s", sl->scratch_dir, strerror(errno));
        return fail_code(errno);
    }
    pf_ledger_options so = {PF_SYNC_NONE, 0, 0, 0};
    int rc = pf_ledger_open(sl->scratch_dir, &so, &sl->scratch);
    if (rc)
        return rc;
    sl_stream *ss[2] = {&sl->t, &sl->p};
    const char *paths[2] = {pf_ledger_trades_path(sl->scratch),
                            pf_ledger_portfolio_path(sl->scratch)};
    for (int i = 0; i < 2; i++) {
        sl_stream *s = ss[i];
        s->scratch_fd = open(paths[i], O_RDWR | O_CLOEXEC);
        ssize_t k = s->scratch_fd < 0 ? -1 : pread(s->scratch_fd, s->header, sizeof s->header, 0);
        char *nl = k > 0 ? memchr(s->header, '\n', (size_t)k) : NULL;
        if (!nl) {
            pt_err_log("read %s: %s", paths[i], k < 0 ? strerror(errno) : "no header");
            return PT_EIO;
        }
        s->header_len = (size_t)(nl - s->header) + 1;
        s->scratch_off = (off_t)s->header_len;
        s->next_punch = SL_PUNCH;
    }
    return PT_OK;
}

/* Count the complete rows of portfolio.csv and note the last row's time. A
 * header that is not ours: the whole file is moved aside (D9: the snapshot
 * is derived data and is rebuilt from the replay). */
static int scan_portfolio(sl_stream *s)
{
    char head[SL_LINE_MAX];
    int fd = open(s->path, O_RDONLY | O_CLOEXEC);
    ssize_t k = fd < 0 ? -1 : pread(fd, head, s->header_len, 0);
    if (fd >= 0)
        close(fd);
    if (k != (ssize_t)s->header_len || memcmp(head, s->header, s->header_len)) {
        pt_warn("%s:1: not a portfolio.csv header; rebuilding it from the journal "
                "(old content in %s.stale)", s->path, s->path);
        return move_tail(s->path, 0, ".stale");
    }
    sl_reader r;
    int rc = rd_open(&r, s->path, (off_t)s->header_len);
    const char *line;
    size_t n;
    off_t at;
    while (rc == PT_OK && (rc = rd_next(&r, &line, &n, &at)) == 1) {
        rc = PT_OK;
        s->recorded++;
        const char *comma = memchr(line, ',', n);
        const char *why;
        if (!comma || pt_parse_int64(line, (size_t)(comma - line), &s->last_ts, &why))
            s->last_ts = 0; /* garbage shows up as a mismatch during the replay */
    }
    rd_close(&r);
    if (rc == PT_ECORRUPT)
        pt_err_log("%s:%llu: line longer than %d bytes", s->path,
                   (unsigned long long)r.line + 1, SL_RBUF);
    return rc < 0 ? rc : PT_OK;
}

static int recover(session_ledger *sl)
{
    sl_stream *ss[2] = {&sl->t, &sl->p};
    for (int i = 0; i < 2; i++) { /* torn tails first: kill -9 mid-write, power cut */
        if (file_size(ss[i]->path) < 0)
            continue;
        long moved = pf_ledger_repair_tail(ss[i]->path);
        if (moved < 0)
            return (int)moved;
        if (moved > 0)
            pt_warn("%s: repaired a torn last line: %ld bytes moved to %s.torn", ss[i]->path,
                    moved, ss[i]->path);
    }
    int rc = scratch_open(sl);
    if (rc)
        return rc;
    if (file_size(sl->t.path) > 0) {
        count_ctx c = {0, 0, sl->t.path};
        rc = pf_trades_read(sl->t.path, count_trade, &c);
        if (rc)
            return rc == PT_ENOMEM || rc == PT_EIO ? rc : PT_ECORRUPT;
        sl->t.recorded = c.rows;
        sl->t.last_ts = c.last_ts;
    } else if (file_size(sl->t.path) < 0) {
        pt_warn("%s: no journal; the session starts from scratch", sl->t.path);
    }
    if (file_size(sl->p.path) > 0) {
        rc = scan_portfolio(&sl->p);
        if (rc)
            return rc;
    } else if (sl->t.recorded) {
        pt_warn("%s: missing; rebuilding it from the journal", sl->p.path);
    }
    sl->p.size_at_open = file_size(sl->p.path);
    for (int i = 0; i < 2; i++)
        if (ss[i]->recorded && (rc = rd_open(&ss[i]->rd, ss[i]->path, (off_t)ss[i]->header_len)))
            return rc;
    int64_t t = sl->t.last_ts > sl->p.last_ts ? sl->t.last_ts : sl->p.last_ts;
    char when[40] = "start";
    if (sl->t.recorded || sl->p.recorded)
        pt_format_iso_ms(t, when, sizeof when);
    pt_info("recovered %llu trades from journal, resumed at candle %s (%llu portfolio rows to "
            "verify)", (unsigned long long)sl->t.recorded, when,
            (unsigned long long)sl->p.recorded);
    return PT_OK;
}

int session_ledger_open(const char *dir, const session_ledger_options *o, session_ledger **out)
{
    *out = NULL;
    session_ledger *sl = calloc(1, sizeof *sl);
    if (!sl)
        return PT_ENOMEM;
    sl->t.name = "trades.csv";
    sl->p.name = "portfolio.csv";
    sl->t.rd.fd = sl->p.rd.fd = sl->t.scratch_fd = sl->p.scratch_fd = -1;
    sl->p.size_at_open = -1;
    sl->crash_after = o->crash_after_fills;
    int rc = PT_EINVAL;
    if (snprintf(sl->dir, sizeof sl->dir, "%s", dir) >= (int)sizeof sl->dir ||
        snprintf(sl->t.path, sizeof sl->t.path, "%s/trades.csv", dir) >= (int)sizeof sl->t.path ||
        snprintf(sl->p.path, sizeof sl->p.path, "%s/portfolio.csv", dir) >= (int)sizeof sl->p.path) {
        pt_err_log("session dir path too long: %s", dir);
        goto fail;
    }
    if (o->resume && (rc = recover(sl)))
        goto fail;
    pf_ledger_options lo = {o->sync, o->resume, o->batch_portfolio, o->perp};
    if ((rc = pf_ledger_open(dir, &lo, &sl->lg)))
        goto fail;
    *out = sl;
    return PT_OK;
fail:
    session_ledger_close(sl, 0);
    return rc;
}

/* ------------------------------------------------------------ rows */

/* Compare the row the scratch ledger just wrote with the next recorded
 * row. 0 equal, 1 different (*at = its offset), or a pt_err. */
static int verify_next(sl_stream *s, off_t *at)
{
    char got[SL_LINE_MAX];
    ssize_t k = pread(s->scratch_fd, got, sizeof got, s->scratch_off);
    char *nl = k > 0 ? memchr(got, '\n', (size_t)k) : NULL;
    if (!nl) {
        pt_err_log("replay scratch for %s unreadable", s->path);
        return PT_EIO;
    }
    size_t n = (size_t)(nl - got) + 1;
    s->scratch_off += (off_t)n;
    if (s->scratch_off >= s->next_punch) { /* bound the scratch's disk use */
        if (ftruncate(s->scratch_fd, 0))
            return fail_code(errno);
        s->next_punch = s->scratch_off + SL_PUNCH;
    }
    const char *rec;
    size_t rn;
    int rc = rd_next(&s->rd, &rec, &rn, at);
    if (rc < 0)
        return rc;
    if (rc == 0 || rn != n || memcmp(rec, got, n)) {
        if (rc == 0)
            *at = s->rd.buf_off + (off_t)s->rd.len;
        pt_warn("%s:%llu: recorded  %.*s", s->path, (unsigned long long)s->rd.line,
                rc ? (int)rn - 1 : 5, rc ? rec : "(eof)");
        pt_warn("%s:%llu: replayed  %.*s", s->path, (unsigned long long)s->rd.line, (int)n - 1,
                got);
        return 1;
    }
    return 0;
}

static void maybe_crash(session_ledger *sl, uint64_t seq)
{
    if (sl->crash_after && seq == sl->crash_after) {
        fprintf(stderr, "papertrader: test hook: exiting after fill %llu\n",
                (unsigned long long)seq);
        _exit(137); /* no atexit, no flush: as close to SIGKILL as a hook gets */
    }
}

int session_ledger_funding(session_ledger *sl, int64_t ts_ms, const char *symbol, double rate, double mark,
                           double qty, double payment)
{
    if (sl->err)
        return sl->err;
    int rc = pf_ledger_funding(sl->lg, ts_ms, symbol, rate, mark, qty, payment);
    return rc ? set_err(sl, rc, "cannot write %s/funding.csv: %s", sl->dir, pt_strerror(rc)) : PT_OK;
}

int session_ledger_fill(session_ledger *sl, const pf_fill *f, const pf_fill_result *r)
{
    if (sl->err)
        return sl->err;
    sl_stream *s = &sl->t;
    if (++s->seen <= s->recorded) {
        off_t at = 0;
        int rc = pf_ledger_fill(sl->scratch, f, r);
        if (!rc)
            rc = verify_next(s, &at);
        if (rc == 1) {
            sl->trades_mismatch = 1;
            pt_err_log("%s:%llu: recorded fill differs from the replay (corrupt journal, or "
                       "the inputs/options changed); refusing to continue", s->path,
                       (unsigned long long)s->rd.line);
            return set_err(sl, PT_ECORRUPT, "%s:%llu: recorded fill differs from the replay",
                           s->path, (unsigned long long)s->rd.line);
        }
        return set_err(sl, rc, "%s: verifying the journal: %s", s->path, pt_strerror(rc));
    }
    int rc = pf_ledger_fill(sl->lg, f, r);
    if (rc)
        return set_err(sl, rc, "cannot write %s: %s", s->path, pt_strerror(rc));
    maybe_crash(sl, r->seq);
    return PT_OK;
}

int session_ledger_row(session_ledger *sl, const pf_snapshot *snap)
{
    if (sl->err)
        return sl->err;
    sl_stream *s = &sl->p;
    if (++s->seen <= s->recorded) {
        off_t at = 0;
        int rc = pf_ledger_snapshot(sl->scratch, snap);
        if (!rc)
            rc = verify_next(s, &at);
        if (rc != 1)
            return set_err(sl, rc, "%s: verifying: %s", s->path, pt_strerror(rc));
        /* D9: the snapshot is derived; rebuild it from here on */
        pt_warn("%s:%llu: differs from the replay; rebuilding portfolio.csv from here (old "
                "rows in %s.stale)", s->path, (unsigned long long)s->rd.line, s->path);
        if ((rc = move_tail(s->path, at, ".stale")))
            return set_err(sl, rc, "cannot rebuild %s: %s", s->path, pt_strerror(rc));
        s->recorded = s->seen - 1;
        rd_close(&s->rd);
    }
    int rc = pf_ledger_snapshot(sl->lg, snap);
    return set_err(sl, rc, "cannot write %s: %s", s->path, pt_strerror(rc));
}

const char *session_ledger_error_text(const session_ledger *sl) { return sl->err_text; }
uint64_t session_ledger_recovered_fills(const session_ledger *sl) { return sl->t.recorded; }

/* ------------------------------------------------------------ live resume */

int session_ledger_end_replay(session_ledger *sl)
{
    if (sl->err)
        return sl->err;
    if (sl->t.seen < sl->t.recorded) {
        sl->trades_mismatch = 1;
        pt_err_log("%s:%llu: recorded fill %llu was not reproduced by the replay of the recorded "
                   "candles (corrupt journal, or candles/ changed)", sl->t.path,
                   (unsigned long long)sl->t.rd.line + 1, (unsigned long long)sl->t.seen + 1);
        return set_err(sl, PT_ECORRUPT, "%s:%llu: recorded fill not reproduced by the replay",
                       sl->t.path, (unsigned long long)sl->t.rd.line + 1);
    }
    sl_stream *p = &sl->p;
    if (p->seen < p->recorded) {
        /* rows the last run wrote at its shutdown (no new candle behind them) */
        off_t at = p->rd.buf_off + (off_t)p->rd.pos;
        pt_warn("%s:%llu: %llu rows past the end of the replay; moved to %s.stale", p->path,
                (unsigned long long)p->rd.line + 1, (unsigned long long)(p->recorded - p->seen), p->path);
        int rc = pf_ledger_flush(sl->lg);
        if (!rc)
            rc = move_tail(p->path, at, ".stale");
        if (rc)
            return set_err(sl, rc, "cannot rebuild %s: %s", p->path, pt_strerror(rc));
        p->recorded = p->seen;
        rd_close(&p->rd);
    }
    return PT_OK;
}

/* ------------------------------------------------------------ close */

/* After a write error (disk full, EIO) the last row may be half written:
 * cut it off now so the ledger ends at a complete line (D5). Its bytes go
 * to X.torn when the disk takes them; if not, they are dropped: that row was
 * never reported as written, and a resume regenerates it. Best effort. */
static void trim_after_write_error(const sl_stream *s)
{
    if (file_size(s->path) <= 0 || pf_ledger_repair_tail(s->path) >= 0)
        return;
    char buf[SL_LINE_MAX * 2];
    int fd = open(s->path, O_RDWR | O_CLOEXEC);
    off_t size = fd < 0 ? -1 : lseek(fd, 0, SEEK_END);
    off_t from = size > (off_t)sizeof buf ? size - (off_t)sizeof buf : 0;
    ssize_t k = size > 0 ? pread(fd, buf, (size_t)(size - from), from) : -1;
    while (k > 0 && buf[k - 1] != '\n')
        k--;
    if (k > 0 && from + k < size && ftruncate(fd, from + k) == 0) {
        pt_warn("%s: dropped %lld bytes of a half-written row (no room to keep them aside)",
                s->path, (long long)(size - from - k));
        fsync(fd);
    }
    if (fd >= 0)
        close(fd);
    char torn[PATH_MAX + 8];
    snprintf(torn, sizeof torn, "%s.torn", s->path);
    if (file_size(torn) == 0) /* the failed attempt to keep them aside */
        unlink(torn);
}

static void scratch_remove(session_ledger *sl)
{
    sl_stream *ss[2] = {&sl->t, &sl->p};
    for (int i = 0; i < 2; i++)
        if (ss[i]->scratch_fd >= 0)
            close(ss[i]->scratch_fd);
    if (!sl->scratch)
        return;
    char tp[PATH_MAX], pp[PATH_MAX];
    snprintf(tp, sizeof tp, "%s", pf_ledger_trades_path(sl->scratch));
    snprintf(pp, sizeof pp, "%s", pf_ledger_portfolio_path(sl->scratch));
    pf_ledger_close(sl->scratch);
    unlink(tp);
    unlink(pp);
    rmdir(sl->scratch_dir);
}

int session_ledger_close(session_ledger *sl, int complete)
{
    if (!sl)
        return PT_OK;
    if (complete && !sl->err && sl->t.seen < sl->t.recorded) {
        sl->trades_mismatch = 1;
        pt_err_log("%s:%llu: recorded fill %llu was not reproduced by the replay (corrupt "
                   "journal, or the inputs/options changed)", sl->t.path,
                   (unsigned long long)sl->t.rd.line + 1, (unsigned long long)sl->t.seen + 1);
        set_err(sl, PT_ECORRUPT, "%s:%llu: recorded fill not reproduced by the replay",
                sl->t.path, (unsigned long long)sl->t.rd.line + 1);
    }
    int rc = sl->lg ? pf_ledger_close(sl->lg) : PT_OK;
    sl->lg = NULL;
    if (rc)
        set_err(sl, rc, "closing the ledger in %s: %s", sl->dir, pt_strerror(rc));
    if (complete && !sl->err && sl->p.seen < sl->p.recorded) {
        off_t at = sl->p.rd.buf_off + (off_t)sl->p.rd.pos;
        pt_warn("%s:%llu: rows past the end of the replay; moved to %s.stale", sl->p.path,
                (unsigned long long)sl->p.rd.line + 1, sl->p.path);
        set_err(sl, move_tail(sl->p.path, at, ".stale"), "cannot rebuild %s", sl->p.path);
    }
    if (sl->err == PT_ENOSPC || sl->err == PT_EIO) {
        trim_after_write_error(&sl->t);
        trim_after_write_error(&sl->p);
    }
    if (sl->trades_mismatch && sl->p.size_at_open >= 0 &&
        file_size(sl->p.path) > sl->p.size_at_open && truncate(sl->p.path, sl->p.size_at_open))
        pt_warn("%s: could not restore its size: %s", sl->p.path, strerror(errno));
    rd_close(&sl->t.rd);
    rd_close(&sl->p.rd);
    scratch_remove(sl);
    rc = sl->err;
    free(sl);
    return rc;
}

/* ------------------------------------------------------------ small files */
int session_write_atomic(const char *dir, const char *name, const char *text)
{
    char tmp[PATH_MAX], dst[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, name) >= (int)sizeof tmp ||
        snprintf(dst, sizeof dst, "%s/%s", dir, name) >= (int)sizeof dst)
        return PT_EINVAL;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || pt_write_all(fd, text, strlen(text)) || fsync(fd)) {
        int e = errno;
        pt_err_log("cannot write %s: %s", tmp, strerror(e));
        if (fd >= 0)
            close(fd);
        unlink(tmp);
        return fail_code(e);
    }
    if (close(fd) || rename(tmp, dst)) {
        int e = errno;
        pt_err_log("cannot replace %s: %s", dst, strerror(e));
        unlink(tmp);
        return fail_code(e);
    }
    return fsync_dir(dir);
}

int session_write_json(const char *dir, const char *name, const cJSON *j)
{
    char *text = j ? cJSON_Print(j) : NULL; /* temp + fsync + rename: old or new, never half */
    size_t n = text ? strlen(text) : 0;
    char *line = text ? realloc(text, n + 2) : NULL;
    if (!line) {
        free(text);
        pt_err_log("cannot write %s/%s: out of memory", dir, name);
        return PT_ENOMEM;
    }
    memcpy(line + n, "\n", 2);
    int rc = session_write_atomic(dir, name, line);
    free(line);
    return rc;
}
