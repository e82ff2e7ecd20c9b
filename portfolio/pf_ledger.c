/* Ledger writer: trades.csv and portfolio.csv with exact durability.
 *
 * Plain write(2)/fdatasync(2) on our own fds so that every error is seen
 * where it happens (stdio would defer it to fflush/fclose). After a failed
 * fsync the kernel may have dropped the dirty pages and cleared the error
 * ("fsyncgate", PostgreSQL 2018), so a retry could falsely succeed: the
 * ledger turns the first error sticky and refuses every later write. */
#include "pf_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PBUF_CAP 65536
#define ROW_CAP 1024
#define TEXT_MAX 128 /* bound for order_type / reason */

const char pf_trades_header[] = "ts,time,symbol,side,qty,price,fee,order_id,order_type,reason,"
                                "realized_pnl,cash_after,quality,seq\n";
const char pf_portfolio_header[] = "ts,time,cash,positions_value,equity,realized_pnl,"
                                   "unrealized_pnl,drawdown,open_positions,quality\n";
/* perp: the same columns, then these at the end (docs/futures.md) */
static const char trades_header_perp[] = "ts,time,symbol,side,qty,price,fee,order_id,order_type,reason,"
                                         "realized_pnl,cash_after,quality,seq,leverage,margin,"
                                         "liquidation_price\n";
static const char portfolio_header_perp[] = "ts,time,cash,positions_value,equity,realized_pnl,"
                                            "unrealized_pnl,drawdown,open_positions,quality,margin,"
                                            "maintenance_margin,funding\n";
static const char funding_header[] = "ts,time,symbol,rate,mark_price,position_qty,payment\n";

struct pf_ledger {
    int fd_t, fd_p, fd_f; /* fd_f: funding.csv, perp only (else -1) */
    int perp;
    char path_f[PATH_MAX];
    int err;
    pf_sync_policy sync;
    int batch;
    char path_t[PATH_MAX], path_p[PATH_MAX];
    int64_t iso_day;    /* day cached in iso_prefix, or INT64_MIN */
    char iso_prefix[16]; /* "YYYY-MM-DDT" */
    size_t plen;
    char pbuf[PBUF_CAP];
};

int pf_errno_code(int e)
{
    return (e == ENOSPC || e == EDQUOT) ? PT_ENOSPC : PT_EIO;
}

int pf_write_all(int fd, const char *p, size_t n, const char *path)
{
    if (pt_write_all(fd, p, n) == 0)
        return PT_OK;
    int e = errno;
    pt_err_log("portfolio: write %s: %s", path, strerror(e));
    return pf_errno_code(e);
}

static int sync_fd(int fd, const char *path)
{
    if (fdatasync(fd) != 0) {
        int e = errno;
        pt_err_log("portfolio: fdatasync %s: %s", path, strerror(e));
        return pf_errno_code(e);
    }
    return PT_OK;
}

/* ------------------------------------------------------------ row building */
void pf_row_put(pf_row *r, const char *s, size_t n)
{
    if (r->over || r->n + n >= r->cap) {
        r->over = 1;
        return;
    }
    memcpy(r->p + r->n, s, n);
    r->n += n;
}

/* row_num / row_i64 copy a fixed 32 or 24 bytes when the row has
 * that much room (short numbers, a few wide moves instead of a memcpy call
 * per field: perf); only the first n count, the rest is overwritten by the
 * next field or never written out. Otherwise pf_row_put as before. */
static inline void row_num(pf_row *r, double v)
{
    char tmp[40];
    int n = pf_format_double(v, tmp, sizeof tmp);
    if (!r->over && n >= 0 && n < 32 && r->n + 32 < r->cap) {
        memcpy(r->p + r->n, tmp, 32);
        r->n += (size_t)n;
        return;
    }
    pf_row_put(r, tmp, (size_t)n);
}

static inline void row_i64(pf_row *r, int64_t v)
{
    char tmp[64]; /* digits end at tmp + 32: a 24-byte read from the first stays inside */
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    int n = pf_utoa_rev(tmp + 32, u);
    if (v < 0)
        tmp[32 - 1 - n++] = '-';
    const char *d = tmp + 32 - n;
    if (!r->over && r->n + 24 < r->cap) { /* n <= 20 */
        memcpy(r->p + r->n, d, 24);
        r->n += (size_t)n;
        return;
    }
    pf_row_put(r, d, (size_t)n);
}

/* RFC 4180 section 2.6/2.7: quote fields holding , " CR LF; double quotes. */
void pf_row_text(pf_row *r, const char *s)
{
    size_t n = strlen(s);
    if (strcspn(s, ",\"\r\n") == n) {
        pf_row_put(r, s, n);
        return;
    }
    pf_row_put(r, "\"", 1);
    for (const char *q = s; *q; q++) {
        if (*q == '"')
            pf_row_put(r, "\"", 1);
        pf_row_put(r, q, 1);
    }
    pf_row_put(r, "\"", 1);
}

/* ISO time with the date part cached per day (snprintf per row is slow). */
static void row_time(pf_ledger *lg, pf_row *r, int64_t ms)
{
    int64_t day = ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
    if (day != lg->iso_day) {
        char full[32];
        pt_format_iso_ms(ms, full, sizeof full);
        size_t tpos = strcspn(full, "T");
        if (tpos + 1 >= sizeof lg->iso_prefix) { /* absurd year: no cache */
            pf_row_put(r, full, strlen(full));
            return;
        }
        memcpy(lg->iso_prefix, full, tpos + 1);
        lg->iso_prefix[tpos + 1] = '\0';
        lg->iso_day = day;
    }
    int64_t rem = ms - day * 86400000;
    int h = (int)(rem / 3600000), mi = (int)(rem / 60000 % 60), s = (int)(rem / 1000 % 60),
        msr = (int)(rem % 1000);
    char t[13] = {(char)('0' + h / 10), (char)('0' + h % 10), ':', (char)('0' + mi / 10),
                  (char)('0' + mi % 10), ':', (char)('0' + s / 10), (char)('0' + s % 10), '.',
                  (char)('0' + msr / 100), (char)('0' + msr / 10 % 10), (char)('0' + msr % 10),
                  'Z'};
    pf_row_put(r, lg->iso_prefix, strlen(lg->iso_prefix));
    pf_row_put(r, t, sizeof t);
}

/* ------------------------------------------------------------ open / close */
static int check_existing(int fd, const char *path, const char *header)
{
    struct stat st;
    if (fstat(fd, &st) != 0) {
        pt_err_log("portfolio: stat %s: %s", path, strerror(errno));
        return PT_EIO;
    }
    if (st.st_size == 0)
        return 1; /* empty: write the header */
    size_t hl = strlen(header);
    char buf[256];
    ssize_t n = pread(fd, buf, hl, 0);
    if (n != (ssize_t)hl || memcmp(buf, header, hl) != 0) {
        pt_err_log("portfolio: %s:1: header differs from \"%.*s\"; refusing to append", path,
                   (int)hl - 1, header);
        return PT_ECORRUPT;
    }
    char last;
    if (pread(fd, &last, 1, st.st_size - 1) != 1 || last != '\n') {
        pt_err_log("portfolio: %s: last line is torn (no newline); repair the tail first", path);
        return PT_ECORRUPT;
    }
    return 0;
}

static int open_one(const char *dir, const char *name, const char *header, int append,
                    char *path, int *fd_out)
{
    *fd_out = -1;
    int n = snprintf(path, PATH_MAX, "%s/%s", dir, name);
    if (n < 0 || n >= PATH_MAX) {
        pt_err_log("portfolio: ledger path too long: %s/%s", dir, name);
        return PT_EINVAL;
    }
    int flags = O_RDWR | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC);
    int fd = open(path, flags, 0644);
    if (fd < 0) {
        int e = errno;
        pt_err_log("portfolio: open %s: %s", path, strerror(e));
        return e == ENOENT ? PT_ENOENT : pf_errno_code(e);
    }
    *fd_out = fd;
    int need_header = 1;
    if (append) {
        need_header = check_existing(fd, path, header);
        if (need_header < 0)
            return need_header;
    }
    return need_header ? pf_write_all(fd, header, strlen(header), path) : PT_OK;
}

int pf_ledger_open(const char *dir, const pf_ledger_options *opts, pf_ledger **out)
{
    *out = NULL;
    pf_ledger_options def = {0};
    if (!opts)
        opts = &def;
    pf_ledger *lg = calloc(1, sizeof *lg);
    if (!lg)
        return PT_ENOMEM;
    lg->fd_t = lg->fd_p = lg->fd_f = -1;
    lg->perp = opts->perp;
    lg->sync = opts->sync;
    lg->batch = opts->batch_portfolio;
    lg->iso_day = INT64_MIN;
    int rc = open_one(dir, "trades.csv", lg->perp ? trades_header_perp : pf_trades_header, opts->append,
                      lg->path_t, &lg->fd_t);
    if (rc)
        goto fail;
    rc = open_one(dir, "portfolio.csv", lg->perp ? portfolio_header_perp : pf_portfolio_header,
                  opts->append, lg->path_p, &lg->fd_p);
    if (!rc && lg->perp)
        rc = open_one(dir, "funding.csv", funding_header, opts->append, lg->path_f, &lg->fd_f);
    if (rc)
        goto fail;
    /* New files: make the headers and the directory entries durable now. */
    if (lg->sync == PF_SYNC_EVERY_FILL) {
        rc = sync_fd(lg->fd_t, lg->path_t);
        if (!rc)
            rc = sync_fd(lg->fd_p, lg->path_p);
        if (!rc && lg->fd_f >= 0)
            rc = sync_fd(lg->fd_f, lg->path_f);
        int dfd = rc ? -1 : open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            if (fsync(dfd) != 0)
                pt_warn("portfolio: fsync dir %s: %s", dir, strerror(errno));
            close(dfd);
        }
        if (rc)
            goto fail;
    }
    *out = lg;
    return PT_OK;
fail:
    if (lg->fd_t >= 0)
        close(lg->fd_t);
    if (lg->fd_p >= 0)
        close(lg->fd_p);
    if (lg->fd_f >= 0)
        close(lg->fd_f);
    free(lg);
    return rc;
}

static int set_err(pf_ledger *lg, int rc)
{
    if (rc && !lg->err)
        lg->err = rc;
    return rc;
}

int pf_ledger_flush(pf_ledger *lg)
{
    if (lg->err)
        return lg->err;
    if (lg->plen == 0)
        return PT_OK;
    int rc = pf_write_all(lg->fd_p, lg->pbuf, lg->plen, lg->path_p);
    lg->plen = 0;
    return set_err(lg, rc);
}

int pf_ledger_close(pf_ledger *lg)
{
    if (!lg)
        return PT_OK;
    pf_ledger_flush(lg);
    if (!lg->err && lg->sync != PF_SYNC_NONE) {
        set_err(lg, sync_fd(lg->fd_t, lg->path_t));
        if (!lg->err)
            set_err(lg, sync_fd(lg->fd_p, lg->path_p));
        if (!lg->err && lg->fd_f >= 0)
            set_err(lg, sync_fd(lg->fd_f, lg->path_f));
    }
    if (lg->fd_f >= 0 && close(lg->fd_f) != 0)
        set_err(lg, PT_EIO);
    if (close(lg->fd_t) != 0)
        set_err(lg, PT_EIO);
    if (close(lg->fd_p) != 0)
        set_err(lg, PT_EIO);
    int rc = lg->err;
    free(lg);
    return rc;
}

int pf_ledger_error(const pf_ledger *lg) { return lg->err; }
const char *pf_ledger_trades_path(const pf_ledger *lg) { return lg->path_t; }
const char *pf_ledger_portfolio_path(const pf_ledger *lg) { return lg->path_p; }

/* ------------------------------------------------------------ rows */
int pf_ledger_fill(pf_ledger *lg, const pf_fill *f, const pf_fill_result *r)
{
    if (lg->err)
        return lg->err;
    const char *ot = f->order_type ? f->order_type : "";
    const char *rs = f->reason ? f->reason : "";
    if (!f->symbol || strnlen(ot, TEXT_MAX) >= TEXT_MAX || strnlen(rs, TEXT_MAX) >= TEXT_MAX ||
        !isfinite(f->quality) || (f->side != PF_BUY && f->side != PF_SELL)) {
        pt_err_log("portfolio: ledger fill seq %llu: missing symbol, bad side, non-finite quality "
                   "or text longer than %d bytes",
                   (unsigned long long)r->seq, TEXT_MAX - 1);
        return PT_EINVAL; /* the caller's bug; the files stay healthy */
    }
    char buf[ROW_CAP];
    pf_row row = {buf, 0, sizeof buf, 0};
    row_i64(&row, f->ts_ms);
    pf_row_put(&row, ",", 1);
    row_time(lg, &row, f->ts_ms);
    pf_row_put(&row, ",", 1);
    pf_row_text(&row, f->symbol);
    pf_row_put(&row, ",", 1);
    pf_row_text(&row, pf_side_name(f->side));
    const double nums1[] = {f->qty, f->price, f->fee};
    for (size_t i = 0; i < 3; i++) {
        pf_row_put(&row, ",", 1);
        row_num(&row, nums1[i]);
    }
    pf_row_put(&row, ",", 1);
    row_i64(&row, (int64_t)f->order_id);
    pf_row_put(&row, ",", 1);
    pf_row_text(&row, ot);
    pf_row_put(&row, ",", 1);
    pf_row_text(&row, rs);
    const double nums2[] = {r->realized_pnl, r->cash_after, f->quality};
    for (size_t i = 0; i < 3; i++) {
        pf_row_put(&row, ",", 1);
        row_num(&row, nums2[i]);
    }
    pf_row_put(&row, ",", 1);
    row_i64(&row, (int64_t)r->seq);
    const double perp[] = {r->leverage, r->margin, r->liquidation_price};
    for (size_t i = 0; lg->perp && i < 3; i++) {
        pf_row_put(&row, ",", 1);
        row_num(&row, perp[i]);
    }
    pf_row_put(&row, "\n", 1);
    if (row.over || f->order_id > (uint64_t)INT64_MAX) {
        pt_err_log("portfolio: ledger fill seq %llu: row does not fit", (unsigned long long)r->seq);
        return PT_EINVAL;
    }
    int rc = pf_write_all(lg->fd_t, buf, row.n, lg->path_t);
    if (!rc && lg->sync == PF_SYNC_EVERY_FILL)
        rc = sync_fd(lg->fd_t, lg->path_t);
    return set_err(lg, rc);
}

int pf_ledger_snapshot(pf_ledger *lg, const pf_snapshot *s)
{
    if (lg->err)
        return lg->err;
    char buf[ROW_CAP];
    pf_row row = {buf, 0, sizeof buf, 0};
    row_i64(&row, s->ts_ms);
    pf_row_put(&row, ",", 1);
    row_time(lg, &row, s->ts_ms);
    const double nums[] = {s->cash, s->positions_value, s->equity, s->realized_pnl,
                           s->unrealized_pnl, s->drawdown};
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        pf_row_put(&row, ",", 1);
        row_num(&row, nums[i]);
    }
    pf_row_put(&row, ",", 1);
    row_i64(&row, s->open_positions);
    pf_row_put(&row, ",", 1);
    row_num(&row, s->quality);
    const double perp[] = {s->margin, s->maintenance_margin, s->funding};
    for (size_t i = 0; lg->perp && i < 3; i++) {
        pf_row_put(&row, ",", 1);
        row_num(&row, perp[i]);
    }
    pf_row_put(&row, "\n", 1);
    if (row.over)
        return PT_EINVAL;
    if (!lg->batch)
        return set_err(lg, pf_write_all(lg->fd_p, buf, row.n, lg->path_p));
    if (lg->plen + row.n > sizeof lg->pbuf) {
        int rc = pf_ledger_flush(lg);
        if (rc)
            return rc;
    }
    memcpy(lg->pbuf + lg->plen, buf, row.n);
    lg->plen += row.n;
    return PT_OK;
}

int pf_ledger_funding(pf_ledger *lg, int64_t ts_ms, const char *symbol, double rate, double mark,
                      double position_qty, double payment)
{
    if (lg->err)
        return lg->err;
    if (lg->fd_f < 0 || !symbol)
        return PT_EINVAL; /* not a perp ledger: the caller's bug */
    char buf[ROW_CAP];
    pf_row row = {buf, 0, sizeof buf, 0};
    row_i64(&row, ts_ms);
    pf_row_put(&row, ",", 1);
    row_time(lg, &row, ts_ms);
    pf_row_put(&row, ",", 1);
    pf_row_text(&row, symbol);
    const double nums[] = {rate, mark, position_qty, payment};
    for (size_t i = 0; i < 4; i++) {
        pf_row_put(&row, ",", 1);
        row_num(&row, nums[i]);
    }
    pf_row_put(&row, "\n", 1);
    if (row.over)
        return PT_EINVAL;
    int rc = pf_write_all(lg->fd_f, buf, row.n, lg->path_f);
    if (!rc && lg->sync == PF_SYNC_EVERY_FILL)
        rc = sync_fd(lg->fd_f, lg->path_f);
    return set_err(lg, rc);
}
