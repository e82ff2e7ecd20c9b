/* report_data: reads a backtest output folder for the report
 * (report_internal.h): report.json, session.json, the ledger CSVs streamed
 * with libcsv into bounded buffers, and the input candle files named in
 * session.json through feed/'s reader, exactly as the backtest read them.
 * Must never: write anything, or hold more than the caps in session.h. */
#include "report_internal.h"

#include "feed.h"

#include <csv.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RH_COLS 32            /* CSV columns looked at per row */
#define RH_FIELD_MAX 256      /* bytes kept per field (longer text is cut) */
#define RH_JSON_MAX (4u << 20)  /* report.json / session.json */
#define RH_FILES_MAX 64       /* input files read from session.json (a note says 64) */
#define RH_BAD_LOG 5          /* bad rows logged per file; all are counted */

/* ------------------------------------------------------------ small files */
int session_report_slurp(const char *path, size_t max, int optional, char **out, size_t *len)
{
    int rc = PT_EIO;
    char *buf = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        rc = errno == ENOENT ? PT_ENOENT : PT_EIO;
        if (!(optional && rc == PT_ENOENT))
            pt_err_log("report: cannot read %s: %s", path, strerror(errno));
        goto fail;
    }
    size_t n = 0, cap = 1 << 16;
    if (!(buf = malloc(cap + 1)))
        goto nomem;
    size_t got;
    while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n < cap)
            continue;
        if (cap >= max) {
            pt_err_log("report: %s is larger than %zu bytes", path, max);
            rc = PT_ERANGE;
            goto fail;
        }
        cap = cap * 2 > max ? max : cap * 2;
        char *nb = realloc(buf, cap + 1);
        if (!nb)
            goto nomem;
        buf = nb;
    }
    if (ferror(f)) {
        pt_err_log("report: cannot read %s: %s", path, strerror(errno));
        goto fail;
    }
    buf[n] = 0;
    fclose(f);
    *out = buf;
    *len = n;
    return PT_OK;
nomem:
    rc = PT_ENOMEM;
    pt_err_log("report: %s: out of memory", path);
fail:
    if (f)
        fclose(f);
    free(buf);
    return rc;
}

static cJSON *read_json(const char *path, int required, int *rc)
{
    char *text = NULL;
    size_t len;
    *rc = session_report_slurp(path, RH_JSON_MAX, !required, &text, &len);
    if (*rc)
        return NULL;
    cJSON *j = cJSON_ParseWithOpts(text, NULL, 1);
    if (!j || !cJSON_IsObject(j)) {
        if (required)
            pt_err_log("report: %s: not a JSON object", path);
        else
            pt_warn("report: %s: not a JSON object (ignored)", path);
        cJSON_Delete(j);
        j = NULL;
        *rc = PT_ECORRUPT;
    }
    free(text);
    return j;
}

/* ------------------------------------------------------------ CSV stream */
typedef struct rh_csv rh_csv;
typedef int (*rh_row_fn)(rh_csv *c, void *ud); /* 0 ok, else a bad row */
struct rh_csv {
    const char *path;
    const char *const *want; /* header names needed, in the order fld() uses */
    int nwant, map[RH_COLS], col, header_done, bad_header;
    char f[RH_COLS][RH_FIELD_MAX];
    size_t flen[RH_COLS];
    uint64_t line, rows, bad;
    const char *why;         /* set by the row callback for a bad row */
    int why_field;
    rh_row_fn on_row;
    void *ud;
};

static void csv_field(void *s, size_t len, void *data)
{
    rh_csv *c = data;
    if (c->col < RH_COLS) {
        size_t n = len < RH_FIELD_MAX - 1 ? len : RH_FIELD_MAX - 1;
        memcpy(c->f[c->col], s, n);
        c->f[c->col][n] = 0;
        c->flen[c->col] = n;
    }
    c->col++;
}

static void csv_row(int term, void *data)
{
    rh_csv *c = data;
    int ncol = c->col < RH_COLS ? c->col : RH_COLS;
    c->col = 0;
    c->line++; /* our writers never put a newline inside a field */
    if (c->bad_header)
        return;
    if (!c->header_done) {
        c->header_done = 1;
        for (int w = 0; w < c->nwant; w++) {
            c->map[w] = -1;
            for (int k = 0; k < ncol; k++)
                if (!strcmp(c->f[k], c->want[w]))
                    c->map[w] = k;
            if (c->map[w] < 0) {
                pt_err_log("report: %s:1: no column \"%s\"", c->path, c->want[w]);
                c->bad_header = 1;
            }
        }
        return;
    }
    c->rows++;
    c->why = "missing field";
    c->why_field = -1;
    int bad = 0;
    for (int w = 0; w < c->nwant && !bad; w++)
        if (c->map[w] >= ncol) {
            bad = 1;
            c->why_field = w;
        }
    if (!bad)
        bad = c->on_row(c, c->ud);
    if (bad && c->bad++ < RH_BAD_LOG)
        pt_warn("report: %s:%llu: %s%s%s (row skipped)", c->path, (unsigned long long)c->line,
                c->why_field >= 0 ? c->want[c->why_field] : "", c->why_field >= 0 ? ": " : "",
                c->why);
}

static const char *fld(rh_csv *c, int w, size_t *len)
{
    *len = c->flen[c->map[w]];
    return c->f[c->map[w]];
}

static int fnum(rh_csv *c, int w, double *out)
{
    size_t n;
    const char *s = fld(c, w, &n);
    if (pt_parse_decimal(s, n, out, &c->why)) {
        c->why_field = w;
        return 1;
    }
    return 0;
}

static int fint(rh_csv *c, int w, int64_t *out)
{
    size_t n;
    const char *s = fld(c, w, &n);
    if (pt_parse_int64(s, n, out, &c->why)) {
        c->why_field = w;
        return 1;
    }
    return 0;
}

/* A missing file is PT_ENOENT (not logged: the caller decides). */
static int csv_stream(rh_csv *c)
{
    struct csv_parser p;
    char buf[1 << 16];
    FILE *f = fopen(c->path, "rb");
    if (!f)
        return errno == ENOENT ? PT_ENOENT : PT_EIO;
    int rc = PT_ENOMEM;
    if (csv_init(&p, CSV_APPEND_NULL) != 0)
        goto done;
    size_t n;
    rc = PT_OK;
    while (!c->bad_header && (n = fread(buf, 1, sizeof buf, f)) > 0)
        if (csv_parse(&p, buf, n, csv_field, csv_row, c) != n) {
            pt_err_log("report: %s: %s", c->path, csv_strerror(csv_error(&p)));
            rc = PT_EPARSE;
            break;
        }
    if (ferror(f)) {
        pt_err_log("report: cannot read %s: %s", c->path, strerror(errno));
        rc = PT_EIO;
    }
    csv_fini(&p, csv_field, csv_row, c);
    csv_free(&p);
    if (!rc && c->bad_header)
        rc = PT_EPARSE;
done:
    fclose(f);
    return rc;
}

/* ------------------------------------------------------------ equity curve */
static void eq_push(rh_eq *e)
{
    if (e->n == SESSION_REPORT_EQ_POINTS) {
        for (size_t i = 0; i < e->n / 2; i++) {
            rh_pt a = e->p[2 * i], b = e->p[2 * i + 1];
            e->p[i] = (rh_pt){b.t, b.eq, a.dd > b.dd ? a.dd : b.dd};
        }
        e->n /= 2;
        e->stride *= 2;
    }
    e->p[e->n++] = e->acc;
    e->in_bucket = 0;
}

void session_report_eq_add(rh_eq *e, int64_t t, double eq, double dd)
{
    if (!e->in_bucket)
        e->acc = (rh_pt){t, eq, dd};
    e->acc.t = t;
    e->acc.eq = eq;
    if (dd > e->acc.dd)
        e->acc.dd = dd;
    e->rows++;
    if (++e->in_bucket >= e->stride)
        eq_push(e);
}

enum { PF_TS, PF_EQ, PF_DD };
static int eq_row(rh_csv *c, void *ud)
{
    int64_t t;
    double eq, dd;
    if (fint(c, PF_TS, &t) || fnum(c, PF_EQ, &eq) || fnum(c, PF_DD, &dd))
        return 1;
    session_report_eq_add(ud, t, eq, dd);
    return 0;
}

/* ------------------------------------------------------------ trades */
enum { TR_TS, TR_SYM, TR_SIDE, TR_QTY, TR_PRICE, TR_FEE, TR_TYPE, TR_REASON, TR_PNL };
static void copy_field(rh_csv *c, int w, char *dst, size_t cap)
{
    size_t n;
    const char *s = fld(c, w, &n);
    snprintf(dst, cap, "%.*s", (int)n, s);
}

static int trade_row(rh_csv *c, void *ud)
{
    rh_trades *tr = ud;
    rh_trade t;
    if (fint(c, TR_TS, &t.t) || fnum(c, TR_QTY, &t.qty) || fnum(c, TR_PRICE, &t.price) ||
        fnum(c, TR_FEE, &t.fee) || fnum(c, TR_PNL, &t.pnl))
        return 1;
    copy_field(c, TR_SYM, t.sym, sizeof t.sym);
    copy_field(c, TR_SIDE, t.side, sizeof t.side);
    copy_field(c, TR_TYPE, t.type, sizeof t.type);
    copy_field(c, TR_REASON, t.reason, sizeof t.reason);
    size_t at = (tr->head + tr->n) % SESSION_REPORT_TRADES;
    if (tr->n == SESSION_REPORT_TRADES)
        tr->head = (tr->head + 1) % SESSION_REPORT_TRADES;
    else
        tr->n++;
    tr->v[at] = t;
    return 0;
}

/* ------------------------------------------------------------ candles */
static void count_reject(const feed_reject *r, void *ud)
{
    (void)r;
    ((rh_candles *)ud)->rejected++; /* the backtest already reported them */
}

int session_report_candle_add(rh_candles *cs, const pt_candle *c)
{
    rh_series *s = NULL;
    for (size_t i = 0; i < cs->ns && !s; i++)
        if (!strcmp(cs->s[i].sym, c->symbol))
            s = &cs->s[i];
    if (!s) {
        if (cs->ns == SESSION_REPORT_SYMBOLS) {
            cs->skipped++;
            return PT_OK;
        }
        s = &cs->s[cs->ns];
        if (!(s->b = malloc(SESSION_REPORT_CANDLES * sizeof *s->b)))
            return PT_ENOMEM;
        cs->ns++;
        snprintf(s->sym, sizeof s->sym, "%s", c->symbol);
    }
    size_t at = (s->head + s->n) % SESSION_REPORT_CANDLES;
    if (s->n == SESSION_REPORT_CANDLES)
        s->head = (s->head + 1) % SESSION_REPORT_CANDLES;
    else
        s->n++;
    s->b[at] = (rh_bar){c->ts_ms, c->open, c->high, c->low, c->close};
    s->total++;
    return PT_OK;
}

static void candle_error(rh_candles *cs, const char *path, const char *why)
{
    char msg[1200];
    snprintf(msg, sizeof msg, "%.1000s: %s", path, why);
    pt_warn("report: candles from %s: %s (chart left out)", path, why);
    cJSON_AddItemToArray(cs->errors, cJSON_CreateString(msg));
}

/* One candle file into cs; symbol NULL: the file's own (column or name). */
static int read_candle_file(const char *path, const char *symbol, rh_candles *cs)
{
    feed_csv_opts co = {.symbol = symbol, .on_reject = count_reject, .ud = cs};
    feed_source src = {0};
    int rc = feed_source_csv(path, &co, &src);
    pt_candle c;
    while (!rc && (rc = src.ops->next(src.self, &c)) == PT_OK)
        rc = session_report_candle_add(cs, &c);
    feed_source_free(&src);
    if (rc == PT_ENOMEM)
        return rc;
    if (rc != PT_EOF)
        candle_error(cs, path, pt_strerror(rc));
    return PT_OK;
}

/* The input files exactly as the backtest read them (session.json "files");
 * for a live session (no "files"), its recording: DIR/candles/<SYMBOL>.csv
 * for each of session.json's "symbols". */
static int read_candles(const char *dir, const cJSON *ses, rh_candles *cs)
{
    const cJSON *files = cJSON_GetObjectItemCaseSensitive(ses, "files");
    const cJSON *syms = cJSON_GetObjectItemCaseSensitive(ses, "symbols");
    const cJSON *sym = cJSON_GetObjectItemCaseSensitive(ses, "symbol");
    const int live = !cJSON_IsArray(files);
    const cJSON *list = live ? syms : files, *f;
    int nf = 0, rc = PT_OK;
    cJSON_ArrayForEach(f, list) {
        if (!cJSON_IsString(f))
            continue;
        char path[4096];
        if (live)
            snprintf(path, sizeof path, "%s/candles/%s.csv", dir, f->valuestring);
        else
            snprintf(path, sizeof path, "%s", f->valuestring);
        if (nf++ == RH_FILES_MAX) {
            candle_error(cs, path, "this and later input files are past the report's cap of 64 files");
            break;
        }
        if ((rc = read_candle_file(path, live ? f->valuestring : cJSON_IsString(sym) ? sym->valuestring : NULL, cs)))
            break;
    }
    return rc;
}

static int series_by_symbol(const void *a, const void *b)
{
    return strcmp(((const rh_series *)a)->sym, ((const rh_series *)b)->sym);
}

/* ------------------------------------------------------------ all */
static int read_ledgers(rh_data *d, int collected)
{
    static const char *const pf_cols[] = {"ts", "equity", "drawdown"};
    static const char *const tr_cols[] = {"ts",  "symbol",     "side",  "qty",         "price",
                                          "fee", "order_type", "reason", "realized_pnl"};
    char path[4096];
    snprintf(path, sizeof path, "%s/portfolio.csv", d->dir);
    rh_csv *c = calloc(1, sizeof *c);
    if (!c)
        return PT_ENOMEM;
    int rc;
    if (!collected) { /* a run fed the curve row by row: no need to read it back */
        *c = (rh_csv){.path = path, .want = pf_cols, .nwant = 3, .on_row = eq_row, .ud = d->eq};
        rc = csv_stream(c);
        if (rc == PT_ENOENT)
            pt_warn("report: %s is missing (no equity curve)", path);
        d->eq_bad = c->bad;
    }
    if (d->eq->in_bucket)
        eq_push(d->eq);

    snprintf(path, sizeof path, "%s/trades.csv", d->dir);
    *c = (rh_csv){.path = path, .want = tr_cols, .nwant = 9, .on_row = trade_row, .ud = &d->tr};
    rc = csv_stream(c);
    if (rc == PT_ENOENT)
        pt_warn("report: %s is missing (no trades)", path);
    d->tr_rows = c->rows;
    d->tr_bad = c->bad;
    free(c);
    return PT_OK; /* bad or missing ledgers are shown as such, not fatal */
}

int session_report_alloc(rh_data *d)
{
    d->eq = calloc(1, sizeof *d->eq);
    d->tr.v = malloc(SESSION_REPORT_TRADES * sizeof *d->tr.v);
    d->cs.errors = cJSON_CreateArray();
    if (!d->eq || !d->tr.v || !d->cs.errors) {
        pt_err_log("report: out of memory");
        return PT_ENOMEM;
    }
    d->eq->stride = 1;
    return PT_OK;
}

int session_report_read(rh_data *d)
{
    char path[4096];
    int rc = d->eq ? PT_OK : session_report_alloc(d);
    if (rc)
        return rc;
    snprintf(path, sizeof path, "%s/report.json", d->dir);
    if (!(d->report = read_json(path, 1, &rc)))
        return rc;
    snprintf(path, sizeof path, "%s/session.json", d->dir);
    if (!(d->session = read_json(path, 0, &rc)) && !(d->session = cJSON_CreateObject()))
        return PT_ENOMEM;
    if ((rc = read_ledgers(d, d->collected)))
        return rc;
    if (!d->collected && (rc = read_candles(d->dir, d->session, &d->cs)))
        return rc;
    /* one order whichever way the candles came (file by file, or as a run
     * met the symbols): by name */
    qsort(d->cs.s, d->cs.ns, sizeof d->cs.s[0], series_by_symbol);
    return PT_OK;
}

void session_report_data_free(rh_data *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->cs.ns; i++)
        free(d->cs.s[i].b);
    cJSON_Delete(d->cs.errors);
    cJSON_Delete(d->report);
    cJSON_Delete(d->session);
    free(d->tr.v);
    free(d->eq);
}
