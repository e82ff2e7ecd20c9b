/* opt_html: report.html of an optimize run (optimize.h): the ranked table,
 * a heatmap over any two parameters and each parameter's sensitivity,
 * drawn by web/optimize.js from an embedded JSON block. Self-contained like
 * the backtest's page (session/report_html.c): CSS and JS inlined, a CSP that
 * forbids every fetch, every '<' in the data written as \u003c. */
#include "optimize.h"
#include "wss.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HTML_TOP_ROWS OPT_LINES_KEPT /* ranked rows in the table */
#define HTML_POINTS 200000    /* rows in the heatmap and sensitivity */
#define HTML_ASSET_MAX (1 << 20)
#define HTML_EQ_POINTS 4000   /* walk-forward equity curve points */

static void put_json(FILE *o, const cJSON *j)
{
    char *t = j ? cJSON_PrintUnformatted(j) : NULL;
    for (const char *s = t ? t : "null", *p; *s; s = p + 1) {
        if (!(p = strchr(s, '<'))) {
            fputs(s, o);
            break;
        }
        fwrite(s, 1, (size_t)(p - s), o);
        fputs("\\u003c", o);
    }
    free(t);
}

static int put_asset(FILE *o, const char *name, const char *end_tag)
{
    char path[4096];
    size_t len;
    snprintf(path, sizeof path, "%s/%s", wss_default_web_dir(), name);
    char *t = opt_read_file(path, HTML_ASSET_MAX, &len);
    int bad = !t;
    for (const char *p = t; !bad && (p = strstr(p, "</")); p += 2)
        bad = !strncasecmp(p, end_tag, strlen(end_tag));
    if (bad)
        fprintf(stderr, "papertrader optimize: %s: missing or cannot be inlined\n", path);
    else
        fwrite(t, 1, len, o);
    free(t);
    return bad;
}

/* A results.csv row as a JSON array of strings. */
static cJSON *row_array(const char *line)
{
    cJSON *a = cJSON_CreateArray();
    char *l = strdup(line), *s = l;
    while (a && s) { /* fields never hold a quote in the grid or metric columns */
        char *c = strchr(s, ',');
        if (c)
            *c = 0;
        cJSON_AddItemToArray(a, cJSON_CreateString(s));
        s = c ? c + 1 : NULL;
    }
    free(l);
    return a;
}

static cJSON *data_json(const opt_finish *f, const char *header, const opt_rank_row *rows,
                        uint64_t n, const uint64_t *rank)
{
    const opt_space *sp = f->sp;
    cJSON *d = cJSON_CreateObject(), *g = cJSON_AddArrayToObject(d, "grid");
    cJSON_AddStringToObject(d, "strategy", sp->ops->name);
    cJSON_AddStringToObject(d, "objective", opt_objective_name(f->objective));
    cJSON_AddNumberToObject(d, "min_trades", (double)f->min_trades);
    cJSON_AddNumberToObject(d, "evaluations", (double)n);
    cJSON_AddNumberToObject(d, "skipped", (double)sp->skipped);
    cJSON_AddItemToObject(d, "header", row_array(header));
    for (int a = 0; a < sp->n_axes; a++)
        cJSON_AddItemToArray(g, cJSON_CreateNumber(sp->ax[a].param));
    cJSON *top = cJSON_AddArrayToObject(d, "top"), *pts = cJSON_AddArrayToObject(d, "points");
    for (uint64_t r = 0; r < n && r < HTML_TOP_ROWS && rows[rank[r]].line; r++)
        cJSON_AddItemToArray(top, row_array(rows[rank[r]].line));
    for (uint64_t i = 0; i < n && i < HTML_POINTS; i++) { /* [value per grid axis..., objective] */
        double v[SIM_MAX_PARAMS];
        opt_space_values(sp, i, v);
        cJSON *p = cJSON_CreateArray();
        for (int a = 0; a < sp->n_axes; a++)
            cJSON_AddItemToArray(p, cJSON_CreateNumber(v[sp->ax[a].param]));
        cJSON_AddItemToArray(p, isnan(rows[i].obj) ? cJSON_CreateNull()
                                                    : cJSON_CreateNumber(rows[i].obj));
        cJSON_AddItemToArray(pts, p);
    }
    cJSON_AddNumberToObject(d, "points_cap", HTML_POINTS);
    return d;
}

static const char PAGE_HEAD[] =
    "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
    "script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:\">\n"
    "<title>papertrader %s report</title>\n<style>\n";
static const char PAGE_BODY[] =
    "</style></head><body>\n"
    "<header><h1>papertrader optimize report</h1><p id=\"meta\" class=\"muted\"></p></header>\n"
    "<main>\n"
    "<section class=\"card wide\"><h2>Ranked parameter sets</h2><div class=\"scroll\">"
    "<table id=\"ranked\"><thead></thead><tbody></tbody></table></div></section>\n"
    "<section class=\"card wide\"><div class=\"card-head\"><h2>Heatmap</h2><span>"
    "<select id=\"hx\" aria-label=\"x parameter\"></select> "
    "<select id=\"hy\" aria-label=\"y parameter\"></select></span></div>"
    "<p class=\"muted\">best objective over the other parameters</p>"
    "<div class=\"scroll\"><table id=\"heatmap\"></table></div></section>\n"
    "<section class=\"card wide\"><h2>Sensitivity</h2><p class=\"muted\">objective per value of "
    "each parameter: mean and best over the other parameters</p><div id=\"sensitivity\"></div>"
    "</section>\n</main>\n<script type=\"application/json\" id=\"pt-data\">";

/* The page: head, inlined CSS, body, the data block, the inlined script. */
static int write_page(const char *dir, const char *what, const char *body, const cJSON *d,
                      const char *script)
{
    opt_atomic at;
    if (opt_atomic_begin(&at, dir, "report.html"))
        return 1;
    int bad = !d;
    fprintf(at.f, PAGE_HEAD, what);
    bad = bad || put_asset(at.f, "report.css", "</style");
    fputs(body, at.f);
    put_json(at.f, d);
    fputs("</script>\n<script>\n", at.f);
    bad = bad || put_asset(at.f, script, "</script");
    fputs("\n</script>\n</body></html>\n", at.f);
    return opt_atomic_end(&at, bad) || bad;
}

int opt_html_write(const char *dir, const opt_finish *f, const char *header,
                   const opt_rank_row *rows, uint64_t n, const uint64_t *rank)
{
    cJSON *d = data_json(f, header, rows, n, rank);
    int rc = write_page(dir, "optimize", PAGE_BODY, d, "optimize.js");
    cJSON_Delete(d);
    return rc;
}

static const char WF_BODY[] =
    "</style></head><body>\n"
    "<header><h1>papertrader walk-forward report</h1><p id=\"meta\" class=\"muted\"></p></header>\n"
    "<main>\n"
    "<section class=\"card\"><h2>Summary</h2><table id=\"summary\"><tbody></tbody></table></section>\n"
    "<section class=\"card\"><h2>In-sample vs out-of-sample objective per fold</h2>"
    "<div id=\"is-oos\"></div></section>\n"
    "<section class=\"card wide\"><h2>Out-of-sample equity (stitched)</h2><div id=\"equity\"></div>"
    "</section>\n"
    "<section class=\"card wide\"><h2>Folds</h2><div class=\"scroll\"><table id=\"folds\">"
    "<thead></thead><tbody></tbody></table></div></section>\n"
    "</main>\n<script type=\"application/json\" id=\"pt-data\">";

/* CSV text -> array of arrays of strings (fields hold no quotes here). */
static cJSON *csv_json(const char *text)
{
    cJSON *a = cJSON_CreateArray();
    char *t = strdup(text ? text : ""), *save = NULL;
    for (char *l = t ? strtok_r(t, "\n", &save) : NULL; l; l = strtok_r(NULL, "\n", &save))
        cJSON_AddItemToArray(a, row_array(l));
    free(t);
    return a;
}

int opt_html_walkforward(const char *dir, const char *folds_csv, const cJSON *summary,
                         const double *equity, const int64_t *ts, uint64_t n)
{
    cJSON *d = cJSON_CreateObject();
    cJSON_AddItemToObject(d, "folds", csv_json(folds_csv));
    cJSON_AddItemToObject(d, "summary", cJSON_Duplicate(summary, 1));
    cJSON *t = cJSON_AddArrayToObject(d, "t"), *e = cJSON_AddArrayToObject(d, "equity");
    uint64_t step = n / HTML_EQ_POINTS + 1; /* decimated: the page stays small */
    for (uint64_t i = 0; i < n; i += step) {
        cJSON_AddItemToArray(t, cJSON_CreateNumber((double)ts[i]));
        cJSON_AddItemToArray(e, cJSON_CreateNumber(equity[i]));
    }
    int rc = write_page(dir, "walk-forward", WF_BODY, d, "walkforward.js");
    cJSON_Delete(d);
    return rc;
}
