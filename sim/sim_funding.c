/* sim_funding: the funding-rate file of a perp backtest (docs/futures.md
 * "Funding file"): CSV, a header with at least ts and rate, optional symbol
 * and mark_price; ts as the candle reader takes it (epoch s/ms/us or ISO);
 * rows strictly increasing per symbol with no interval longer than the
 * funding period (a gap). Strict: the first bad row stops the load with
 * "path:line: field: reason"; nothing is skipped. */
#include "sim_perp_internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUND_LINE_MAX 4096
#define FUND_MAX_ROWS 1000000 /* ~900 years of 8h funding: a bound, not a limit */

enum { COL_TS, COL_RATE, COL_SYMBOL, COL_MARK, COL__N };
static const char *const col_names[COL__N] = {"ts", "rate", "symbol", "mark_price"};

static int bad(const char *path, uint64_t line, const char *field, const char *why)
{
    pt_err_log("%s:%llu: %s: %s", path, (unsigned long long)line, field, why);
    return PT_EPARSE;
}

/* Splits line (no quotes allowed: every field is a number or a symbol). */
static int split(char *line, char **f, int cap)
{
    int n = 0;
    for (char *p = line;; p++) {
        if (n == cap)
            return -1;
        f[n++] = p;
        p = strchr(p, ',');
        if (!p)
            return n;
        *p = 0;
    }
}

static int header(const char *path, char *line, int *col)
{
    char *f[32];
    int n = split(line, f, 32);
    for (int k = 0; k < COL__N; k++)
        col[k] = -1;
    /* the time column: ts, or a name the candle reader takes for it */
    static const char *const ts_alias[] = {"timestamp", "time", "date", "open_time", "datetime"};
    for (int i = 0; i < n; i++) {
        for (int k = 0; k < COL__N; k++)
            if (!strcmp(f[i], col_names[k]))
                col[k] = i;
        for (size_t a = 0; a < sizeof ts_alias / sizeof ts_alias[0]; a++)
            if (!strcmp(f[i], ts_alias[a]) && col[COL_TS] < 0)
                col[COL_TS] = i;
    }
    if (n < 0 || col[COL_TS] < 0 || col[COL_RATE] < 0)
        return bad(path, 1, "header", "want at least the columns ts,rate (optional symbol, mark_price)");
    return PT_OK;
}

static int symbol_index(sim_funding *fs, const char *name)
{
    for (int i = 0; i < fs->n_symbols; i++)
        if (!strcmp(fs->symbols[i], name))
            return i;
    if (fs->n_symbols == SIM_FUNDING_SYMBOLS)
        return -1;
    snprintf(fs->symbols[fs->n_symbols], PT_SYMBOL_MAX, "%s", name);
    fs->last_ts[fs->n_symbols] = INT64_MIN;
    return fs->n_symbols++;
}

static int row(sim_funding *fs, const char *path, uint64_t ln, char *line, const int *col,
               const char *default_symbol, pt_time_kind *kind)
{
    char *f[32];
    int n = split(line, f, 32);
    for (int k = 0; k < COL__N; k++)
        if (col[k] >= n)
            return bad(path, ln, col_names[k], "missing (fewer fields than the header)");
    sim_funding_row r = {0};
    const char *why = "not a time";
    if (pt_parse_time(f[col[COL_TS]], strlen(f[col[COL_TS]]), kind, NULL, &r.ts_ms, &why))
        return bad(path, ln, "ts", why);
    if (pt_parse_decimal(f[col[COL_RATE]], strlen(f[col[COL_RATE]]), &r.rate, &why) || !(fabs(r.rate) < 1))
        return bad(path, ln, "rate", "want a number between -1 and 1");
    if (col[COL_MARK] >= 0 && f[col[COL_MARK]][0] &&
        (pt_parse_decimal(f[col[COL_MARK]], strlen(f[col[COL_MARK]]), &r.mark, &why) || !(r.mark > 0)))
        return bad(path, ln, "mark_price", "want a price > 0 (or empty)");
    /* no symbol column: the given symbol, else "*" = the one traded symbol */
    const char *sym = col[COL_SYMBOL] >= 0 ? f[col[COL_SYMBOL]] : default_symbol ? default_symbol : "*";
    if (!sym || !sym[0] || strlen(sym) >= PT_SYMBOL_MAX)
        return bad(path, ln, "symbol", "empty or too long");
    int si = symbol_index(fs, sym);
    if (si < 0)
        return bad(path, ln, "symbol", "too many symbols");
    int64_t prev = fs->last_ts[si];
    if (prev != INT64_MIN && r.ts_ms <= prev)
        return bad(path, ln, "ts", "not after the previous row of this symbol");
    if (prev != INT64_MIN && fs->period_ms > 0 && r.ts_ms - prev > fs->period_ms) {
        char msg[160], a[32], b[32];
        pt_format_iso_ms(prev, a, sizeof a);
        pt_format_iso_ms(r.ts_ms, b, sizeof b);
        snprintf(msg, sizeof msg, "gap: %s to %s is longer than the funding period of %lld min", a, b,
                 (long long)(fs->period_ms / 60000));
        return bad(path, ln, "ts", msg);
    }
    fs->last_ts[si] = r.ts_ms;
    r.symbol = si;
    r.line = ln;
    fs->rows[fs->n++] = r;
    return PT_OK;
}

static int load(sim_funding *fs, FILE *fp, const char *path, const char *default_symbol)
{
    char line[FUND_LINE_MAX + 2];
    int col[COL__N];
    uint64_t ln = 0;
    pt_time_kind kind = PT_TIME_UNKNOWN;
    int rc = PT_OK;
    while (!rc && fgets(line, sizeof line, fp)) {
        ln++;
        size_t len = strlen(line);
        if (len && line[len - 1] == '\n')
            line[--len] = 0;
        else if (!feof(fp))
            return bad(path, ln, "row", "line longer than 4096 bytes");
        if (len && line[len - 1] == '\r')
            line[--len] = 0;
        if (ln == 1) {
            rc = header(path, line, col);
        } else if (len == 0) {
            continue;
        } else if (fs->n == fs->cap) {
            size_t cap = fs->cap ? fs->cap * 2 : 1024;
            sim_funding_row *nr = cap <= FUND_MAX_ROWS ? realloc(fs->rows, cap * sizeof *nr) : NULL;
            if (!nr)
                return bad(path, ln, "row", "more rows than the bound of 1000000");
            fs->rows = nr;
            fs->cap = cap;
            rc = row(fs, path, ln, line, col, default_symbol, &kind);
        } else {
            rc = row(fs, path, ln, line, col, default_symbol, &kind);
        }
    }
    if (!rc && ferror(fp)) {
        pt_err_log("%s: read error: %s", path, strerror(errno));
        rc = PT_EIO;
    }
    if (!rc && ln == 0)
        rc = bad(path, 1, "header", "empty file");
    return rc;
}

int sim_funding_load(const char *path, const char *default_symbol, int64_t period_ms, sim_funding **out)
{
    *out = NULL;
    FILE *fp = fopen(path, "r");
    if (!fp) {
        pt_err_log("%s: %s", path, strerror(errno));
        return errno == ENOENT ? PT_ENOENT : PT_EIO;
    }
    sim_funding *fs = calloc(1, sizeof *fs);
    int rc = fs ? PT_OK : PT_ENOMEM;
    if (fs) {
        fs->period_ms = period_ms;
        snprintf(fs->path, sizeof fs->path, "%s", path);
        rc = load(fs, fp, path, default_symbol);
    }
    fclose(fp);
    if (rc) {
        sim_funding_free(fs);
        return rc;
    }
    *out = fs;
    return PT_OK;
}

void sim_funding_free(sim_funding *fs)
{
    if (!fs)
        return;
    free(fs->rows);
    free(fs);
}

size_t sim_funding_count(const sim_funding *fs) { return fs ? fs->n : 0; }
