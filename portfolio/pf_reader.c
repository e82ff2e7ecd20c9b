/* Ledger reading for resume: torn-tail repair and the strict trades.csv
 * reader (replay check: initial cash + fills reproduces cash_after). */
#include "pf_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TAIL_MAX (1 << 20) /* a torn row is one row; more is not a torn tail */

long pf_ledger_repair_tail(const char *path)
{
    long rc;
    int tfd = -1;
    char *buf = NULL;
    char tpath[PATH_MAX];
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        pt_err_log("portfolio: repair %s: %s", path, strerror(e));
        return e == ENOENT ? PT_ENOENT : PT_EIO;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        rc = PT_EIO;
        goto fail;
    }
    off_t size = st.st_size;
    off_t from = size > TAIL_MAX ? size - TAIL_MAX : 0;
    size_t n = (size_t)(size - from);
    buf = malloc(n + 1);
    if (!buf) {
        rc = PT_ENOMEM;
        goto fail;
    }
    if (n && pread(fd, buf, n, from) != (ssize_t)n) {
        pt_err_log("portfolio: repair %s: short read", path);
        rc = PT_EIO;
        goto fail;
    }
    if (n == 0 || buf[n - 1] == '\n') {
        rc = 0;
        goto fail; /* nothing torn */
    }
    size_t keep = n;
    while (keep > 0 && buf[keep - 1] != '\n')
        keep--;
    if (keep == 0 && from > 0) {
        pt_err_log("portfolio: repair %s: last line longer than %d bytes; not a torn row", path,
                   TAIL_MAX);
        rc = PT_ECORRUPT;
        goto fail;
    }
    size_t torn = n - keep;
    if (snprintf(tpath, sizeof tpath, "%s.torn", path) >= (int)sizeof tpath) {
        rc = PT_EINVAL;
        goto fail;
    }
    tfd = open(tpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (tfd < 0) {
        pt_err_log("portfolio: repair: open %s: %s", tpath, strerror(errno));
        rc = pf_errno_code(errno);
        goto fail;
    }
    rc = pf_write_all(tfd, buf + keep, torn, tpath);
    if (rc)
        goto fail;
    /* the torn bytes are safe before the original loses them */
    if (fsync(tfd) != 0 || ftruncate(fd, from + (off_t)keep) != 0 || fsync(fd) != 0) {
        pt_err_log("portfolio: repair %s: %s", path, strerror(errno));
        rc = pf_errno_code(errno);
        goto fail;
    }
    pt_warn("portfolio: %s: moved %zu torn bytes to %s", path, torn, tpath);
    rc = (long)torn;
fail:
    if (tfd >= 0)
        close(tfd);
    close(fd);
    free(buf);
    return rc;
}

/* ------------------------------------------------------------ reader */
#define REC_CAP 4096
#define NF 14

typedef struct rdr {
    FILE *fp;
    const char *path;
    uint64_t line; /* current line (1-based) */
} rdr;

/* Reads one RFC 4180 record into buf; fields[] point into it. Returns 1, 0
 * at clean EOF, or a negative pt_err (logged). */
static int read_record(rdr *r, char *buf, char **fields, int *nf)
{
    size_t o = 0;
    int n = 0, inq = 0, after_q = 0, any = 0, c;
    fields[0] = buf;
    while ((c = getc(r->fp)) != EOF) {
        any = 1;
        if (o + 2 >= REC_CAP) {
            pt_err_log("portfolio: %s:%llu: record longer than %d bytes", r->path,
                       (unsigned long long)r->line, REC_CAP);
            return PT_EPARSE;
        }
        if (inq) {
            if (c == '"') {
                int d = getc(r->fp);
                if (d == '"') {
                    buf[o++] = '"';
                    continue;
                }
                if (d != EOF)
                    ungetc(d, r->fp);
                inq = 0;
                after_q = 1;
                continue;
            }
            if (c == '\n')
                r->line++;
            buf[o++] = (char)c;
            continue;
        }
        if (c == ',' || c == '\n') {
            buf[o++] = '\0';
            after_q = 0;
            if (++n > NF) {
                pt_err_log("portfolio: %s:%llu: more than %d fields", r->path,
                           (unsigned long long)r->line, NF);
                return PT_EPARSE;
            }
            if (c == '\n') {
                *nf = n;
                return 1;
            }
            fields[n] = buf + o;
            continue;
        }
        if (c == '"' && fields[n] == buf + o && !after_q) {
            inq = 1;
            continue;
        }
        if (c == '"' || c == '\r' || after_q) {
            pt_err_log("portfolio: %s:%llu: field %d: stray quote or CR", r->path,
                       (unsigned long long)r->line, n + 1);
            return PT_EPARSE;
        }
        buf[o++] = (char)c;
    }
    if (ferror(r->fp)) {
        pt_err_log("portfolio: read %s: %s", r->path, strerror(errno));
        return PT_EIO;
    }
    if (!any)
        return 0;
    pt_err_log("portfolio: %s:%llu: last line is torn (no newline)", r->path,
               (unsigned long long)r->line);
    return PT_ECORRUPT;
}

static int bad(const rdr *r, uint64_t line, const char *field, const char *why)
{
    pt_err_log("portfolio: %s:%llu: %s: %s", r->path, (unsigned long long)line, field, why);
    return PT_EPARSE;
}

static int num(const rdr *r, uint64_t line, const char *field, const char *s, double *out)
{
    const char *why = NULL;
    return pt_parse_decimal(s, strlen(s), out, &why) ? bad(r, line, field, why) : PT_OK;
}

static int u64(const rdr *r, uint64_t line, const char *field, const char *s, uint64_t *out)
{
    const char *why = "negative";
    int64_t v;
    if (pt_parse_int64(s, strlen(s), &v, &why) || v < 0)
        return bad(r, line, field, why);
    *out = (uint64_t)v;
    return PT_OK;
}

static int parse_row(const rdr *r, uint64_t line, char **f, pf_trade_row *row)
{
    const char *why = NULL;
    memset(row, 0, sizeof *row);
    row->line = line;
    pf_fill *x = &row->fill;
    if (pt_parse_int64(f[0], strlen(f[0]), &x->ts_ms, &why))
        return bad(r, line, "ts", why);
    char iso[32];
    pt_format_iso_ms(x->ts_ms, iso, sizeof iso);
    if (strcmp(iso, f[1]) != 0)
        return bad(r, line, "time", "does not match ts");
    if (!f[2][0] || strlen(f[2]) >= PT_SYMBOL_MAX)
        return bad(r, line, "symbol", "empty or too long");
    x->symbol = f[2];
    if (strcmp(f[3], "buy") == 0)
        x->side = PF_BUY;
    else if (strcmp(f[3], "sell") == 0)
        x->side = PF_SELL;
    else
        return bad(r, line, "side", "not buy or sell");
    int rc;
    if ((rc = num(r, line, "qty", f[4], &x->qty)) || (rc = num(r, line, "price", f[5], &x->price)) ||
        (rc = num(r, line, "fee", f[6], &x->fee)) ||
        (rc = u64(r, line, "order_id", f[7], &x->order_id)) ||
        (rc = num(r, line, "realized_pnl", f[10], &row->realized_pnl)) ||
        (rc = num(r, line, "cash_after", f[11], &row->cash_after)) ||
        (rc = num(r, line, "quality", f[12], &x->quality)) ||
        (rc = u64(r, line, "seq", f[13], &row->seq)))
        return rc;
    x->order_type = f[8];
    x->reason = f[9];
    return PT_OK;
}

int pf_trades_read(const char *path, pf_trade_cb cb, void *ud)
{
    rdr r = {fopen(path, "re"), path, 1};
    if (!r.fp) {
        int e = errno;
        pt_err_log("portfolio: open %s: %s", path, strerror(e));
        return e == ENOENT ? PT_ENOENT : PT_EIO;
    }
    char *buf = malloc(REC_CAP);
    int rc = buf ? PT_OK : PT_ENOMEM;
    char *f[NF + 1];
    int nf = 0;
    if (rc)
        goto done;
    /* header: must be exactly ours */
    rc = read_record(&r, buf, f, &nf);
    if (rc <= 0) {
        if (rc == 0)
            pt_err_log("portfolio: %s: empty file (no header)", path);
        rc = rc ? rc : PT_EPARSE;
        goto done;
    }
    {
        char hdr[256];
        pf_row h = {hdr, 0, sizeof hdr, 0};
        for (int i = 0; i < nf; i++) {
            if (i)
                pf_row_put(&h, ",", 1);
            pf_row_put(&h, f[i], strlen(f[i]));
        }
        pf_row_put(&h, "\n", 1);
        if (h.over || h.n != strlen(pf_trades_header) || memcmp(hdr, pf_trades_header, h.n)) {
            rc = bad(&r, 1, "header", "not a papertrader trades.csv header");
            goto done;
        }
    }
    r.line++;
    for (;;) {
        uint64_t start = r.line;
        rc = read_record(&r, buf, f, &nf);
        if (rc <= 0)
            break;
        r.line++;
        if (nf != NF) {
            rc = bad(&r, start, "row", "wrong number of fields (want 14)");
            break;
        }
        pf_trade_row row;
        rc = parse_row(&r, start, f, &row);
        if (rc)
            break;
        rc = cb(&row, ud);
        if (rc)
            break;
    }
done:
    free(buf);
    fclose(r.fp);
    return rc;
}
