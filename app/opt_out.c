/* opt_out: from results.csv to the ranking, best.json and the terminal
 * (optimize.h). Reads results.csv back rather than keeping rows in memory,
 * so `optimize`, `optimize --resume` and `optimize reduce` share one path. */
#include "optimize.h"
#include "session.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_COLS 4096

/* One column per objective, one table: names and report.json keys. */
static const struct {
    const char *name, *column;
} objectives[OPT_OBJ__COUNT] = {
    {"sharpe", "sharpe"},     {"sortino", "sortino"},
    {"calmar", "calmar"},     {"return", "total_return"},
    {"profit_factor", "profit_factor"}, {"expectancy", "expectancy"},
};

int opt_objective_parse(const char *name)
{
    for (int i = 0; i < OPT_OBJ__COUNT; i++)
        if (!strcmp(name, objectives[i].name))
            return i;
    return -1;
}

const char *opt_objective_name(opt_objective o) { return objectives[o].name; }

/* Splits a CSV line in place (quotes honoured); returns the field count. */
static int split_csv(char *s, char **f, int max)
{
    int n = 0;
    while (n < max) {
        char *w = s;
        f[n++] = s;
        if (*s == '"') {
            for (s++;; s++) {
                if (!*s)
                    break;
                if (*s == '"' && s[1] == '"')
                    *w++ = '"', s++;
                else if (*s == '"')
                    s++;
                if (*s == ',' || !*s)
                    break;
                *w++ = *s;
            }
        } else {
            while (*s && *s != ',')
                *w++ = *s++;
        }
        int more = *s == ',';
        *w = 0;
        if (!more)
            break;
        s++;
    }
    return n;
}

static int column(char **f, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(f[i], name))
            return i;
    return -1;
}

typedef struct ranked {
    opt_rank_row *rows;
    uint64_t n;
    uint64_t *rank;     /* row numbers, best first */
    char *header;       /* the header line */
    int obj_col, trades_col;
} ranked;

static int by_rank(const void *a, const void *b, void *ud)
{
    const opt_rank_row *r = ud;
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    double ox = r[x].obj, oy = r[y].obj;
    int nx = isnan(ox), ny = isnan(oy);
    if (nx != ny)
        return nx - ny;
    if (!nx && ox != oy)
        return ox > oy ? -1 : 1;
    return x < y ? -1 : x > y;
}

static double field_num(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    return *s && !*end ? v : NAN;
}

/* One pass over the rows for the objective (and col); then the text of
 * the best OPT_LINES_KEPT rows only, read back by offset. */
static int read_results(const char *path, opt_objective objective, uint64_t min_trades,
                        const char *col, ranked *rk)
{
    char *line = NULL, *fl[MAX_COLS];
    size_t cap = 0;
    ssize_t len;
    FILE *in = fopen(path, "r");
    if (!in || (len = getline(&line, &cap, in)) < 1) {
        fprintf(stderr, "papertrader optimize: cannot read %s\n", path);
        if (in)
            fclose(in);
        free(line);
        return 1;
    }
    off_t at = len;
    line[strcspn(line, "\n")] = 0;
    rk->header = strdup(line);
    int nc = split_csv(line, fl, MAX_COLS), cc = col ? column(fl, nc, col) : -1;
    rk->obj_col = column(fl, nc, objectives[objective].column);
    rk->trades_col = column(fl, nc, "trades");
    uint64_t capr = 0;
    int oom = 0;
    while ((len = getline(&line, &cap, in)) > 0) {
        if (rk->n == capr) {
            capr = capr ? capr * 2 : 1024;
            opt_rank_row *nr = realloc(rk->rows, capr * sizeof *nr);
            if (!nr) {
                oom = 1;
                break;
            }
            rk->rows = nr;
        }
        line[strcspn(line, "\n")] = 0;
        opt_rank_row *r = &rk->rows[rk->n];
        r->i = rk->n, r->off = at, r->line = NULL;
        at += len;
        int n = split_csv(line, fl, MAX_COLS);
        r->obj = rk->obj_col >= 0 && rk->obj_col < n ? field_num(fl[rk->obj_col]) : NAN;
        r->col = cc >= 0 && cc < n ? field_num(fl[cc]) : NAN;
        double tr = rk->trades_col >= 0 && rk->trades_col < n ? field_num(fl[rk->trades_col]) : 0;
        if (!(tr >= (double)min_trades))
            r->obj = NAN;
        rk->n++;
    }
    rk->rank = malloc((size_t)(rk->n + 1) * sizeof *rk->rank);
    int rc = oom || !rk->rank || !rk->header || rk->obj_col < 0;
    for (uint64_t i = 0; !rc && i < rk->n; i++)
        rk->rank[i] = i;
    if (!rc)
        qsort_r(rk->rank, (size_t)rk->n, sizeof *rk->rank, by_rank, rk->rows);
    for (uint64_t r = 0; !rc && r < rk->n && r < OPT_LINES_KEPT; r++) {
        opt_rank_row *row = &rk->rows[rk->rank[r]];
        rc = fseeko(in, row->off, SEEK_SET) || getline(&line, &cap, in) < 1;
        if (!rc) {
            line[strcspn(line, "\n")] = 0;
            rc = !(row->line = strdup(line));
        }
    }
    fclose(in);
    free(line);
    return rc;
}

static void ranked_free(ranked *rk)
{
    for (uint64_t i = 0; i < rk->n; i++)
        free(rk->rows[i].line);
    free(rk->rows);
    free(rk->rank);
    free(rk->header);
}

/* A word for a POSIX shell: bare when safe, else single-quoted. */
static void shell_word(FILE *o, const char *s)
{
    if (*s && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                        "-_./=:,+%@") == strlen(s)) {
        fputs(s, o);
        return;
    }
    fputc('\'', o);
    for (; *s; s++)
        *s == '\'' ? fputs("'\\''", o) : fputc(*s, o);
    fputc('\'', o);
}

/* The best row's `papertrader backtest` command line (malloc'd). */
static char *command_line(const opt_finish *f, char **fields)
{
    char *text = NULL;
    size_t n = 0;
    FILE *o = open_memstream(&text, &n);
    if (!o)
        return NULL;
    fputs("papertrader backtest", o);
    for (int i = 0; i < f->setup->n_args; i++)
        fputc(' ', o), shell_word(o, f->setup->args[i]);
    for (int a = 0; a < f->sp->n_axes; a++) {
        int p = f->sp->ax[a].param;
        fprintf(o, " --param %s=", f->sp->ops->params[p].name);
        shell_word(o, fields[p]);
    }
    for (int i = 0; i < f->setup->nfiles; i++)
        fputc(' ', o), shell_word(o, f->files_abs[i]);
    fclose(o);
    return text;
}

static cJSON *row_object(char **names, char **vals, int n)
{
    cJSON *o = cJSON_CreateObject();
    for (int i = 0; o && i < n; i++) {
        double v = field_num(vals[i]);
        if (!*vals[i])
            cJSON_AddNullToObject(o, names[i]);
        else if (!isnan(v))
            cJSON_AddNumberToObject(o, names[i], v);
        else if (!strcmp(vals[i], "true") || !strcmp(vals[i], "false"))
            cJSON_AddBoolToObject(o, names[i], vals[i][0] == 't');
        else
            cJSON_AddStringToObject(o, names[i], vals[i]);
    }
    return o;
}

static int write_best(const opt_finish *f, const ranked *rk, const opt_rank_row *best)
{
    cJSON *j = cJSON_CreateObject();
    char *hdr = strdup(rk->header), *line = best ? strdup(best->line) : NULL;
    char *names[MAX_COLS], *vals[MAX_COLS], *cmd = NULL;
    int nc = hdr ? split_csv(hdr, names, MAX_COLS) : 0;
    cJSON_AddStringToObject(j, "objective", objectives[f->objective].name);
    cJSON_AddNumberToObject(j, "min_trades", (double)f->min_trades);
    cJSON_AddNumberToObject(j, "evaluations", (double)rk->n);
    if (best && line && split_csv(line, vals, MAX_COLS) == nc) {
        cJSON_AddNumberToObject(j, "evaluation", (double)best->i);
        cJSON_AddNumberToObject(j, "value", best->obj);
        int np = f->sp->ops->n_params;
        cJSON_AddItemToObject(j, "params", row_object(names, vals, np));
        cJSON_AddItemToObject(j, "metrics", row_object(names + np, vals + np, nc - np));
        cmd = command_line(f, vals);
        cJSON_AddStringToObject(j, "command", cmd ? cmd : "");
    } else {
        cJSON_AddNullToObject(j, "value");
        cJSON_AddStringToObject(j, "note", "no parameter set has a defined objective with "
                                           "enough trades (--min-trades)");
    }
    int rc = session_write_json(f->dir, "best.json", j) ? 1 : 0;
    if (!rc && cmd)
        printf("best: %s\n", cmd);
    cJSON_Delete(j);
    free(hdr), free(line), free(cmd);
    return rc;
}

/* A field for the terminal: numbers to 6 significant digits (results.csv
 * keeps them exact). */
static void print_cell(int width, const char *v)
{
    double x = field_num(v);
    if (isnan(x))
        printf(" %*s", width, *v ? v : "n/a");
    else
        printf(" %*.6g", width, x);
}

/* The top 10: rank, the grid's parameters, the objective and a few metrics. */
static void print_top(const opt_finish *f, const ranked *rk)
{
    static const char *const show[] = {"total_return", "max_drawdown", "trades"};
    char *hdr = strdup(rk->header), *names[MAX_COLS], *vals[MAX_COLS];
    if (!hdr)
        return;
    int nc = split_csv(hdr, names, MAX_COLS), cols[3];
    for (int k = 0; k < 3; k++)
        cols[k] = column(names, nc, show[k]);
    printf("%-5s", "rank");
    for (int a = 0; a < f->sp->n_axes; a++)
        printf(" %12s", f->sp->ops->params[f->sp->ax[a].param].name);
    printf(" %14s %14s %14s %8s\n", objectives[f->objective].name, show[0], show[1], show[2]);
    for (uint64_t r = 0; r < rk->n && r < 10; r++) {
        const opt_rank_row *row = &rk->rows[rk->rank[r]];
        char *l = strdup(row->line);
        if (!l || split_csv(l, vals, MAX_COLS) != nc) {
            free(l);
            continue;
        }
        printf("%-5llu", (unsigned long long)r + 1);
        for (int a = 0; a < f->sp->n_axes; a++)
            printf(" %12s", vals[f->sp->ax[a].param]);
        print_cell(14, isnan(row->obj) ? "" : vals[rk->obj_col]);
        for (int k = 0; k < 3; k++)
            print_cell(k == 2 ? 8 : 14, cols[k] >= 0 ? vals[cols[k]] : "");
        printf("\n");
        free(l);
    }
    free(hdr);
}

int opt_finish_run(const opt_finish *f)
{
    ranked rk = {0};
    char path[4096];
    snprintf(path, sizeof path, "%s/results.csv", f->dir);
    int rc = read_results(path, f->objective, f->min_trades, NULL, &rk);
    if (rc) {
        fprintf(stderr, "papertrader optimize: %s/results.csv: not an optimize result\n", f->dir);
        ranked_free(&rk);
        return 1;
    }
    print_top(f, &rk);
    printf("evaluations: %llu, skipped by %s's constraints: %llu, ranked by %s (>= %llu trades)\n",
           (unsigned long long)rk.n, f->sp->ops->name, (unsigned long long)f->sp->skipped,
           objectives[f->objective].name, (unsigned long long)f->min_trades);
    const opt_rank_row *best = rk.n && !isnan(rk.rows[rk.rank[0]].obj) ? &rk.rows[rk.rank[0]] : NULL;
    if (!best)
        printf("no parameter set has a defined %s with >= %llu trades\n",
               objectives[f->objective].name, (unsigned long long)f->min_trades);
    rc = write_best(f, &rk, best);
    if (!rc && opt_html_write(f->dir, f, rk.header, rk.rows, rk.n, rk.rank))
        fprintf(stderr, "papertrader optimize: %s/report.html not written (reason above)\n", f->dir);
    printf("output: %s\n", f->dir);
    ranked_free(&rk);
    return rc || fflush(stdout);
}

int opt_rank_file(const char *path, opt_objective o, uint64_t min_trades, const char *col,
                  double **obj, double **colv, uint64_t *n, uint64_t *best)
{
    ranked rk = {0};
    int rc = read_results(path, o, min_trades, col, &rk);
    *obj = rc ? NULL : malloc((size_t)(rk.n + 1) * sizeof **obj);
    *colv = rc ? NULL : malloc((size_t)(rk.n + 1) * sizeof **colv);
    rc = rc || !*obj || !*colv;
    for (uint64_t i = 0; !rc && i < rk.n; i++)
        (*obj)[i] = rk.rows[i].obj, (*colv)[i] = rk.rows[i].col;
    *n = rk.n;
    *best = !rc && rk.n && !isnan(rk.rows[rk.rank[0]].obj) ? rk.rank[0] : UINT64_MAX;
    if (rc)
        fprintf(stderr, "papertrader optimize: %s: not a results file\n", path);
    ranked_free(&rk);
    return rc;
}

double opt_csv_field(const char *header, const char *row, const char *name)
{
    char *h = strdup(header), *r = strdup(row);
    double v = NAN;
    if (h && r) {
        char *hn[MAX_COLS], *rv[MAX_COLS];
        int nh = split_csv(h, hn, MAX_COLS), nr = split_csv(r, rv, MAX_COLS), c = column(hn, nh, name);
        if (c >= 0 && c < nr)
            v = field_num(rv[c]);
    }
    free(h), free(r);
    return v;
}
