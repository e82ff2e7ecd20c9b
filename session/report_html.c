/* report_html: the self-contained backtest report (session.h).
 * report_data.c reads the folder into bounded buffers; this file writes the
 * page in one pass: skeleton, inlined CSS and JS, and a JSON data block in
 * which every '<' is written as \u003c, so no data can close the script tag
 * or open an HTML comment (HTML 4.12.1.3 "restrictions for contents of
 * script elements"); JSON.parse reads it back unchanged. */
#include "report_internal.h"

#include "wss.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* ------------------------------------------------------------ output */
/* JSON text into the data block: '<' becomes \u003c (see the top). */
static void put_json_text(FILE *o, const char *s)
{
    for (const char *p; (p = strchr(s, '<')); s = p + 1) {
        fwrite(s, 1, (size_t)(p - s), o);
        fputs("\\u003c", o);
    }
    fputs(s, o);
}

static void put_json(FILE *o, const cJSON *j)
{
    char *t = j ? cJSON_PrintUnformatted(j) : NULL;
    put_json_text(o, t ? t : "null");
    free(t);
}

static void put_str(FILE *o, const char *s)
{
    cJSON *j = cJSON_CreateString(s);
    put_json(o, j);
    cJSON_Delete(j);
}

static void put_num(FILE *o, double v)
{
    char b[40];
    if (!isfinite(v)) {
        fputs("null", o);
        return;
    }
    pt_format_double(v, b, sizeof b);
    fputs(b, o);
}

static void put_i64(FILE *o, int64_t v) { fprintf(o, "%lld", (long long)v); }

/* "key":[v,v,...]: elem(i) is element i (of a ring or a plain array). */
#define PUT_ARRAY(o, key, count, elem, put)                                                   \
    do {                                                                                     \
        fputs("\"" key "\":[", o);                                                           \
        for (size_t i_ = 0; i_ < (count); i_++) {                                            \
            if (i_)                                                                          \
                fputc(',', o);                                                               \
            put(o, elem(i_));                                                                \
        }                                                                                    \
        fputc(']', o);                                                                       \
    } while (0)

static void put_equity(FILE *o, const rh_eq *e, uint64_t bad)
{
    fprintf(o, "{\"rows\":%llu,\"bad_rows\":%llu,\"stride\":%llu,\"cap\":%d,",
            (unsigned long long)e->rows, (unsigned long long)bad,
            (unsigned long long)e->stride, SESSION_REPORT_EQ_POINTS);
#define EQ_T(i) e->p[i].t
#define EQ_V(i) e->p[i].eq
#define EQ_D(i) e->p[i].dd
    PUT_ARRAY(o, "t", e->n, EQ_T, put_i64);
    fputc(',', o);
    PUT_ARRAY(o, "eq", e->n, EQ_V, put_num);
    fputc(',', o);
    PUT_ARRAY(o, "dd", e->n, EQ_D, put_num);
    fputc('}', o);
}

static void put_candles(FILE *o, const rh_candles *cs)
{
    fprintf(o, "{\"cap\":%d,\"max_symbols\":%d,\"skipped\":%llu,\"rejected\":%llu,\"errors\":",
            SESSION_REPORT_CANDLES, SESSION_REPORT_SYMBOLS, (unsigned long long)cs->skipped,
            (unsigned long long)cs->rejected);
    put_json(o, cs->errors);
    fputs(",\"series\":[", o);
    for (size_t k = 0; k < cs->ns; k++) {
        const rh_series *s = &cs->s[k];
        fputs(k ? ",{\"symbol\":" : "{\"symbol\":", o);
        put_str(o, s->sym);
        fprintf(o, ",\"total\":%llu,", (unsigned long long)s->total);
#define BAR(i) s->b[(s->head + (i)) % SESSION_REPORT_CANDLES]
#define BAR_T(i) BAR(i).t
#define BAR_O(i) BAR(i).o
#define BAR_H(i) BAR(i).h
#define BAR_L(i) BAR(i).l
#define BAR_C(i) BAR(i).c
        PUT_ARRAY(o, "t", s->n, BAR_T, put_i64);
        fputc(',', o);
        PUT_ARRAY(o, "o", s->n, BAR_O, put_num);
        fputc(',', o);
        PUT_ARRAY(o, "h", s->n, BAR_H, put_num);
        fputc(',', o);
        PUT_ARRAY(o, "l", s->n, BAR_L, put_num);
        fputc(',', o);
        PUT_ARRAY(o, "c", s->n, BAR_C, put_num);
        fputc('}', o);
    }
    fputs("]}", o);
}

static void put_trades(FILE *o, const rh_trades *tr, uint64_t rows, uint64_t bad)
{
    fprintf(o, "{\"rows\":%llu,\"bad_rows\":%llu,\"cap\":%d,\"list\":[",
            (unsigned long long)rows, (unsigned long long)bad, SESSION_REPORT_TRADES);
    for (size_t i = 0; i < tr->n; i++) {
        const rh_trade *t = &tr->v[(tr->head + i) % SESSION_REPORT_TRADES];
        fputs(i ? ",{\"t\":" : "{\"t\":", o);
        put_i64(o, t->t);
        fputs(",\"symbol\":", o);
        put_str(o, t->sym);
        fputs(",\"side\":", o);
        put_str(o, t->side);
        fputs(",\"type\":", o);
        put_str(o, t->type);
        fputs(",\"reason\":", o);
        put_str(o, t->reason);
        fputs(",\"qty\":", o);
        put_num(o, t->qty);
        fputs(",\"price\":", o);
        put_num(o, t->price);
        fputs(",\"fee\":", o);
        put_num(o, t->fee);
        fputs(",\"pnl\":", o);
        put_num(o, t->pnl);
        fputc('}', o);
    }
    fputs("]}", o);
}

/* An inlined asset must not contain its own end tag (it would end early).
 * The file at path, else (missing or unreadable) the copy built into the
 * executable under builtin (wss_builtin_file), with a warning. */
static int put_asset(FILE *o, const char *path, const char *builtin, const char *end_tag)
{
    char *text = NULL;
    size_t len;
    const char *body;
    int rc = session_report_slurp(path, RH_ASSET_MAX, 0, &text, &len);
    if (rc == PT_ENOMEM)
        return rc;
    if (rc) {
        const unsigned char *b = wss_builtin_file(builtin, &len);
        if (!b) /* an install problem, not bad input */
            return PT_EIO;
        pt_warn("report: %s unreadable: using the built-in %s", path, builtin);
        body = (const char *)b;
    } else {
        body = text;
    }
    size_t tl = strlen(end_tag);
    for (const char *p = body, *end = body + len; p + 2 <= end && (p = memmem(p, (size_t)(end - p), "</", 2)); p += 2)
        if ((size_t)(end - p) >= tl && !strncasecmp(p, end_tag, tl)) {
            pt_err_log("report: %s contains \"%s\": cannot be inlined", path, end_tag);
            free(text);
            return PT_EINVAL;
        }
    fwrite(body, 1, len, o);
    free(text);
    return PT_OK;
}

static const char PAGE_HEAD[] =
    "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    /* the file must work offline: forbid every fetch, allow only inline code */
    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
    "script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:\">\n"
    "<title>papertrader backtest report</title>\n<style>\n";
static const char PAGE_BODY[] =
    "</style></head><body>\n"
    "<header><h1>papertrader backtest report</h1><p id=\"meta\" class=\"muted\"></p></header>\n"
    "<main>\n"
    "<section class=\"card\"><h2>Metrics</h2><table id=\"metrics\"><tbody></tbody></table></section>\n"
    "<section class=\"card\"><h2>Session</h2><dl id=\"session\" class=\"kv\"></dl>"
    "<ul id=\"notes\" class=\"notes\"></ul></section>\n"
    "<section class=\"card wide\"><h2>Equity</h2><div id=\"equity-chart\" class=\"chart\"></div>"
    "<h2>Drawdown</h2><div id=\"dd-chart\" class=\"chart small\"></div></section>\n"
    "<section class=\"card wide\"><div class=\"card-head\"><h2>Candles and trades</h2>"
    "<select id=\"symbol\" aria-label=\"symbol\"></select></div>"
    "<div id=\"candle-chart\" class=\"chart\"></div></section>\n"
    "<section class=\"card wide\"><h2>Trades</h2><div class=\"scroll\"><table id=\"trades\">"
    "<thead><tr><th>time (UTC)</th><th>symbol</th><th>side</th><th>qty</th><th>price</th>"
    "<th>fee</th><th>realized PnL</th><th>type</th><th>reason</th></tr></thead>"
    "<tbody></tbody></table></div></section>\n"
    "</main>\n<script type=\"application/json\" id=\"pt-data\">";

static int write_page(FILE *o, const rh_data *d, const char *vendor, const char *web)
{
    char path[4096];
    int rc;
    fputs(PAGE_HEAD, o);
    snprintf(path, sizeof path, "%s/report.css", web);
    if ((rc = put_asset(o, path, "report.css", "</style")))
        return rc;
    fputs(PAGE_BODY, o);
    fputs("{\"version\":1,\"dir\":", o);
    put_str(o, d->dir);
    fputs(",\"metrics\":", o);
    put_json(o, d->report);
    fputs(",\"session\":", o);
    put_json(o, d->session);
    fputs(",\"equity\":", o);
    put_equity(o, d->eq, d->eq_bad);
    fputs(",\"trades\":", o);
    put_trades(o, &d->tr, d->tr_rows, d->tr_bad);
    fputs(",\"candles\":", o);
    put_candles(o, &d->cs);
    fputs("}</script>\n<script>\n", o);
    if ((rc = put_asset(o, vendor, "vendor/lightweight-charts.js", "</script")))
        return rc;
    fputs("\n</script>\n<script>\n", o);
    snprintf(path, sizeof path, "%s/fmt.js", web); /* the formatter shared with the dashboard */
    if ((rc = put_asset(o, path, "fmt.js", "</script")))
        return rc;
    fputs("\n</script>\n<script>\n", o);
    snprintf(path, sizeof path, "%s/report.js", web);
    if ((rc = put_asset(o, path, "report.js", "</script")))
        return rc;
    fputs("\n</script>\n</body></html>\n", o);
    return PT_OK;
}

/* out_dir/report.html via a temp file, fsync and rename: a reader sees the
 * old page or the new one, never half of one. */
static int write_atomic(const rh_data *d, const char *vendor)
{
    char tmp[4096], dst[4096];
    if (snprintf(tmp, sizeof tmp, "%s/.report.html.tmp", d->dir) >= (int)sizeof tmp ||
        snprintf(dst, sizeof dst, "%s/report.html", d->dir) >= (int)sizeof dst) {
        pt_err_log("report: %s: path too long", d->dir);
        return PT_EINVAL;
    }
    FILE *o = fopen(tmp, "wb");
    if (!o) {
        pt_err_log("report: cannot create %s: %s", tmp, strerror(errno));
        return PT_EIO;
    }
    int rc = write_page(o, d, vendor, wss_default_web_dir());
    int werr = ferror(o) || fflush(o) || fsync(fileno(o));
    int err = errno;
    if (fclose(o) && !werr) {
        werr = 1;
        err = errno;
    }
    if (!rc && werr) {
        pt_err_log("report: cannot write %s: %s", tmp, strerror(err));
        rc = err == ENOSPC ? PT_ENOSPC : PT_EIO;
    }
    if (!rc && rename(tmp, dst)) {
        pt_err_log("report: cannot rename %s to %s: %s", tmp, dst, strerror(errno));
        rc = PT_EIO;
    }
    if (rc) {
        unlink(tmp);
        return rc;
    }
    int dfd = open(d->dir, O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) { /* the rename itself survives a crash */
        fsync(dfd);
        close(dfd);
    }
    return PT_OK;
}

int session_report_html_write(const char *out_dir, const char *vendor_js_path)
{
    rh_data d = {.dir = out_dir};
    int rc = session_report_read(&d);
    if (!rc)
        rc = write_atomic(&d, vendor_js_path ? vendor_js_path : wss_default_vendor_js());
    session_report_data_free(&d);
    return rc;
}

/* ------------------------------------------------------------ during a run */
struct session_report_run {
    rh_data d;
    int oom;
};

int session_report_run_new(session_report_run **out)
{
    session_report_run *r = calloc(1, sizeof *r);
    if (!r || session_report_alloc(&r->d)) {
        session_report_run_free(r);
        return PT_ENOMEM;
    }
    r->d.collected = 1;
    *out = r;
    return PT_OK;
}

void session_report_run_candle(session_report_run *r, const pt_candle *c)
{
    if (r && !r->oom && session_report_candle_add(&r->d.cs, c))
        r->oom = 1;
}

void session_report_run_row(session_report_run *r, int64_t ts, double equity, double drawdown)
{
    if (r)
        session_report_eq_add(r->d.eq, ts, equity, drawdown);
}

void session_report_run_rejected(session_report_run *r, uint64_t rows)
{
    if (r)
        r->d.cs.rejected = rows;
}

int session_report_run_write(session_report_run *r, const char *out_dir, const char *vendor_js_path)
{
    if (!r || r->oom)
        return session_report_html_write(out_dir, vendor_js_path);
    r->d.dir = out_dir;
    int rc = session_report_read(&r->d);
    if (!rc)
        rc = write_atomic(&r->d, vendor_js_path ? vendor_js_path : wss_default_vendor_js());
    return rc;
}

void session_report_run_free(session_report_run *r)
{
    if (!r)
        return;
    session_report_data_free(&r->d);
    free(r);
}
