/* papertrader check: a data-quality report for candle CSV files.
 *
 * Wires feed/ (CSV reader) to quality/ (one checker per symbol) and prints
 * what they found: counts per issue and reject kind, the first examples of
 * each with file:line, the score over time and a verdict. It judges nothing
 * itself: every rule lives in quality/, every parse rule in feed/.
 *
 * Exit (worst over all files; severity 0 < 4 < 3 < 1):
 *   0 usable, 4 final score below --min-quality (or --strict and something
 *   was rejected, or no candle at all), 3 file missing/unreadable/no header/
 *   missing column, 2 usage error, 1 output write failure or out of memory.
 *
 * --json prints ONE document on stdout (docs/check-json.md has the full
 * description; keep both in sync):
 * { "version": 1, "min_quality": 60, "strict": false, "usable": true,
 *   "exit_code": 0,
 *   "files": [ {
 *     "file": "a.csv", "status": "ok" | "error", "error": "...",  (error only)
 *     "exit_code": 0, "usable": true,
 *     "time_format": "epoch_ms", "interval": "1m", "interval_ms": 60000,
 *     "interval_source": "given" | "detected" | "learned" | "unknown",
 *     "has_symbol_column": false, "lines": 13682, "bytes": 978000,
 *     "rows_read": 13681, "rows_ok": 13681, "rows_rejected": 0,
 *     "rows_skipped": 0,               (other symbols than --symbol, or past
 *                                       the symbol limit)
 *     "rejects": { "bad_number": 0, ... every feed reject kind },
 *     "reject_examples": [ { "kind", "location": "a.csv:5", "line",
 *                            "field", "reason", "text" } ],
 *     "symbols": [ {
 *       "symbol": "X", "candles": n, "accepted": n, "flagged": n,
 *       "rejected": n, "first_time": ISO|null, "last_time": ISO|null,
 *       "first_ms", "last_ms", "gaps": n, "missing_bars": n,
 *       "interval_ms": n (used by the checker),
 *       "issues": { "non_finite": 0, ... every quality issue },
 *       "issue_examples": [ { "issue", "location", "line", "time" } ],
 *       "score": { "final", "final_level", "worst", "worst_level",
 *                  "worst_time", "candles_below_min" },
 *       "usable": true } ] } ] }
 */
#include "commands.h"
#include "ops.h"
#include "feed.h"
#include "pt_core.h"
#include "quality.h"

#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define CHECK_EXAMPLES 5      /* first examples kept per issue / reject kind */
#define CHECK_MAX_SYMBOLS 256 /* per file; more are counted as skipped */

typedef struct check_opts {
    int64_t interval_ms; /* 0 = detect */
    const char *symbol;
    pt_tz tz;
    int have_tz;
    double min_quality;
    int json, strict, verbose, quiet;
    int64_t now_ms; /* for the quality "future" check: a file stamped after
                       the moment we run is suspect, so the wall clock is right here */
} check_opts;

typedef struct rej_example {
    uint64_t line;
    char field[32], reason[80], text[48];
} rej_example;

typedef struct issue_example {
    uint64_t line;
    int64_t ts_ms;
} issue_example;

typedef struct sym_report {
    char symbol[PT_SYMBOL_MAX];
    quality_checker *qc;
    uint64_t below_min;
    uint8_t n_ex[QI__COUNT];
    issue_example ex[QI__COUNT][CHECK_EXAMPLES];
} sym_report;

typedef struct file_report {
    const char *path;
    const check_opts *o;
    int err; /* PT_OK, or why the file could not be read (fully) */
    int64_t interval_ms;
    const char *interval_src;
    feed_csv_stats stats;
    uint8_t n_rex[FEED_REJ__COUNT];
    rej_example rex[FEED_REJ__COUNT][CHECK_EXAMPLES];
    sym_report *syms;
    size_t n_syms, cap_syms, cur;
    uint64_t pending_rejects; /* rejected rows seen before any checker existed */
    uint64_t skipped;
    int exit_code;
} file_report;

/* ------------------------------------------------------------ collecting */

static void file_report_clear(file_report *fr)
{
    for (size_t i = 0; i < fr->n_syms; i++)
        quality_free(fr->syms[i].qc);
    free(fr->syms);
    fr->syms = NULL;
    fr->n_syms = fr->cap_syms = 0;
}

/* Rejected rows carry no symbol: they count against the symbol being read
 * when they appear (the only one in a file without a symbol column). */
static void on_reject(const feed_reject *r, void *ud)
{
    file_report *fr = ud;
    if ((unsigned)r->kind < FEED_REJ__COUNT && fr->n_rex[r->kind] < CHECK_EXAMPLES) {
        rej_example *e = &fr->rex[r->kind][fr->n_rex[r->kind]++];
        e->line = r->line;
        snprintf(e->field, sizeof e->field, "%s", r->field ? r->field : "row");
        snprintf(e->reason, sizeof e->reason, "%s", r->reason ? r->reason : "");
        snprintf(e->text, sizeof e->text, "%s", r->text ? r->text : "");
    }
    if (fr->n_syms)
        quality_note_rejected_row(fr->syms[fr->cur].qc);
    else
        fr->pending_rejects++;
}

/* The report slot for a symbol, created on first sight; NULL = skip. */
static sym_report *sym_get(file_report *fr, const char *symbol, int *oom)
{
    if (fr->n_syms && !strcmp(fr->syms[fr->cur].symbol, symbol))
        return &fr->syms[fr->cur];
    for (size_t i = 0; i < fr->n_syms; i++)
        if (!strcmp(fr->syms[i].symbol, symbol)) {
            fr->cur = i;
            return &fr->syms[i];
        }
    if (fr->n_syms == CHECK_MAX_SYMBOLS)
        return NULL;
    if (fr->n_syms == fr->cap_syms) {
        size_t cap = fr->cap_syms ? fr->cap_syms * 2 : 4;
        sym_report *n = realloc(fr->syms, cap * sizeof *n);
        if (!n)
            goto fail;
        fr->syms = n;
        fr->cap_syms = cap;
    }
    quality_config cfg;
    quality_config_default(&cfg);
    cfg.interval_ms = fr->interval_ms;
    cfg.min_score = fr->o->min_quality;
    sym_report *s = &fr->syms[fr->n_syms];
    memset(s, 0, sizeof *s);
    snprintf(s->symbol, sizeof s->symbol, "%s", symbol);
    if (!(s->qc = quality_new(&cfg)))
        goto fail;
    fr->cur = fr->n_syms++;
    for (; fr->pending_rejects; fr->pending_rejects--)
        quality_note_rejected_row(s->qc);
    return s;
fail:
    pt_err_log("check: %s: out of memory for symbol '%s'", fr->path, symbol);
    *oom = 1;
    return NULL;
}

static void note_flags(sym_report *s, const pt_candle *c, uint32_t flags)
{
    for (int i = 0; i < QI__COUNT; i++) {
        if (!(flags & (1u << i)) || s->n_ex[i] >= CHECK_EXAMPLES)
            continue;
        issue_example *e = &s->ex[i][s->n_ex[i]++];
        e->line = c->line;
        e->ts_ms = c->ts_ms;
    }
}

static int sym_usable(const file_report *fr, const sym_report *s)
{
    const quality_counts *q = quality_get_counts(s->qc);
    if (q->by_verdict[QUALITY_ACCEPT] + q->by_verdict[QUALITY_ACCEPT_FLAGGED] == 0)
        return 0;
    if (fr->o->strict && (q->by_verdict[QUALITY_REJECT] || fr->stats.rows_rejected))
        return 0;
    return quality_score(s->qc) >= fr->o->min_quality;
}

static int exit_for_err(int err)
{
    return err == PT_ENOMEM ? PT_EXIT_FAILURE : PT_EXIT_INPUT;
}

/* The reader has already logged the detail (line, column name); this is the
 * one-line summary per file. */
static const char *err_text(int err)
{
    switch (err) {
    case PT_ENOENT: return "no such file";
    case PT_EIO: return "cannot read (unreadable, a directory, or a read error)";
    case PT_EPARSE: return "not candle CSV (empty, no header, or a required column missing)";
    default: return pt_strerror(err);
    }
}

/* Reads one file through feed -> quality; fills fr. Never prints the
 * report: that is the reporter's job. */
static void check_file(file_report *fr)
{
    const check_opts *o = fr->o;
    feed_csv_opts fo = {0};
    fo.symbol = o->symbol;
    fo.tz = o->have_tz ? &o->tz : NULL;
    fo.on_reject = on_reject;
    fo.ud = fr;
    feed_csv *r = NULL;
    int oom = 0;

    fr->interval_ms = o->interval_ms;
    fr->interval_src = "given";
    int64_t detected = 0; /* from the reader's look-ahead: the input is read once */
    fo.interval_out = fr->interval_ms ? NULL : &detected;
    int rc = feed_csv_open(fr->path, &fo, &r);
    if (rc) {
        fr->err = rc;
        goto done;
    }
    if (!fr->interval_ms) { /* 0: fewer than two rows, let quality learn */
        fr->interval_ms = detected;
        fr->interval_src = detected ? "detected" : "unknown";
    }
    const int filter = o->symbol != NULL;
    struct stat fst;
    double size = stat(fr->path, &fst) ? 0 : (double)fst.st_size;
    ops_progress bar;
    ops_progress_begin(&bar, fr->path, o->quiet);
    for (uint64_t n = 0;; n++) {
        pt_candle c;
        if (bar.on && (n & 0xffff) == 0)
            ops_progress_update(&bar, (double)feed_csv_get_stats(r)->bytes, size, NULL);
        rc = feed_csv_next(r, &c);
        if (rc == PT_EOF)
            break;
        if (rc) {
            fr->err = rc; /* logged by the reader with the offset */
            break;
        }
        if (filter && feed_csv_get_stats(r)->has_symbol_column && strcmp(c.symbol, o->symbol)) {
            fr->skipped++;
            continue;
        }
        sym_report *s = sym_get(fr, c.symbol, &oom);
        if (!s) {
            if (oom) {
                fr->err = PT_ENOMEM;
                break;
            }
            fr->skipped++;
            continue;
        }
        quality_result res;
        quality_check(s->qc, &c, o->now_ms, &res);
        if (res.score < o->min_quality)
            s->below_min++;
        if (res.flags)
            note_flags(s, &c, res.flags);
    }
    ops_progress_end(&bar);
    fr->stats = *feed_csv_get_stats(r);
    if (!strcmp(fr->interval_src, "unknown") && fr->n_syms) {
        int64_t learned = quality_get_counts(fr->syms[0].qc)->interval_ms;
        if (learned > 0) {
            fr->interval_ms = learned;
            fr->interval_src = "learned";
        }
    }
done:
    feed_csv_free(r);
    if (fr->err) {
        fr->exit_code = exit_for_err(fr->err);
        fprintf(stderr, "papertrader check: %s: %s\n", fr->path, err_text(fr->err));
        return;
    }
    fr->exit_code = fr->n_syms ? PT_EXIT_OK : PT_EXIT_QUALITY;
    for (size_t i = 0; i < fr->n_syms; i++)
        if (!sym_usable(fr, &fr->syms[i]))
            fr->exit_code = PT_EXIT_QUALITY;
}

/* ------------------------------------------------------------- reporters
 * Interchangeable: text for people, JSON for programs. */
typedef struct check_reporter {
    void *(*begin)(const check_opts *o);
    void (*file)(void *st, const file_report *fr);
    void (*end)(void *st, int exit_code); /* frees st */
} check_reporter;

static const char *fmt_time(int64_t ms, char buf[32])
{
    if (ms == INT64_MIN || ms == INT64_MAX || pt_format_iso_ms(ms, buf, 32) < 0)
        return NULL;
    return buf;
}

static const char *tkind(const file_report *fr)
{
    return pt_time_kind_name(fr->stats.time_kind);
}

static void interval_text(const file_report *fr, char *buf, size_t cap)
{
    if (fr->interval_ms <= 0 || pt_interval_format(fr->interval_ms, buf, cap) < 0)
        snprintf(buf, cap, "unknown");
}

/* -- text */
static void *text_begin(const check_opts *o)
{
    static int dummy;
    (void)o;
    return &dummy;
}

static void text_symbol(const file_report *fr, const sym_report *s)
{
    const quality_counts *q = quality_get_counts(s->qc);
    char a[32], b[32];
    /* first/last are of accepted candles: meaningless when there is none */
    const int any = q->by_verdict[QUALITY_ACCEPT] + q->by_verdict[QUALITY_ACCEPT_FLAGGED] > 0;
    const char *first = any ? fmt_time(q->first_ts_ms, a) : NULL;
    const char *last = any ? fmt_time(q->last_ts_ms, b) : NULL;
    printf("  symbol %s\n", s->symbol);
    printf("    span      %s .. %s\n", first ? first : "-", last ? last : "-");
    printf("    candles   %llu: %llu accepted, %llu flagged, %llu rejected\n",
           (unsigned long long)q->candles, (unsigned long long)q->by_verdict[QUALITY_ACCEPT],
           (unsigned long long)q->by_verdict[QUALITY_ACCEPT_FLAGGED],
           (unsigned long long)q->by_verdict[QUALITY_REJECT]);
    printf("    gaps      %llu (%llu missing bars)\n", (unsigned long long)q->gaps,
           (unsigned long long)q->missing_bars);
    printf("    issues   ");
    for (int i = 0; i < QI__COUNT; i++)
        printf("%s %s %llu", i && i % 4 == 0 ? "\n             " : "", quality_issue_name(i),
               (unsigned long long)q->by_issue[i]);
    printf("\n");
    for (int i = 0; i < QI__COUNT; i++) {
        if (!s->n_ex[i])
            continue;
        printf("    first %s:", quality_issue_name(i));
        for (int k = 0; k < s->n_ex[i]; k++)
            printf("%s %s:%llu (%s)", k ? "," : "", fr->path, (unsigned long long)s->ex[i][k].line,
                   fmt_time(s->ex[i][k].ts_ms, a) ? a : "?");
        printf("\n");
    }
    const char *worst = any ? fmt_time(q->worst_ts_ms, a) : NULL;
    double final = quality_score(s->qc);
    printf("    score     final %.1f (%s); worst %.1f (%s) at %s; %llu candle%s below %g\n", final,
           quality_level(final), q->worst_score, quality_level(q->worst_score), worst ? worst : "-",
           (unsigned long long)s->below_min, s->below_min == 1 ? "" : "s", fr->o->min_quality);
    printf("    verdict   %s\n", sym_usable(fr, s) ? "usable" : "NOT usable");
}

static void text_file(void *st, const file_report *fr)
{
    (void)st;
    printf("== %s\n", fr->path);
    if (fr->err && !fr->stats.lines) {
        printf("  error     %s (exit %d)\n\n", err_text(fr->err), fr->exit_code);
        return;
    }
    char iv[32];
    interval_text(fr, iv, sizeof iv);
    printf("  format    timestamps %s, interval %s%s%s%s, %s\n", tkind(fr), iv,
           fr->interval_ms > 0 ? " (" : "", fr->interval_ms > 0 ? fr->interval_src : "",
           fr->interval_ms > 0 ? ")" : "",
           fr->stats.has_symbol_column ? "symbol column" : "no symbol column");
    printf("  rows      %llu read: %llu candles, %llu rejected, %llu skipped (%llu lines, %llu bytes)\n",
           (unsigned long long)(fr->stats.rows_ok + fr->stats.rows_rejected),
           (unsigned long long)fr->stats.rows_ok, (unsigned long long)fr->stats.rows_rejected,
           (unsigned long long)fr->skipped, (unsigned long long)fr->stats.lines,
           (unsigned long long)fr->stats.bytes);
    printf("  rejects  ");
    for (int k = 0; k < FEED_REJ__COUNT; k++)
        printf(" %s %llu", feed_reject_name(k), (unsigned long long)fr->stats.by_kind[k]);
    printf("\n");
    for (int k = 0; k < FEED_REJ__COUNT; k++)
        for (int i = 0; i < fr->n_rex[k]; i++) {
            const rej_example *e = &fr->rex[k][i];
            printf("    %s:%llu: %s: %s: %s \"%s\"\n", fr->path, (unsigned long long)e->line,
                   feed_reject_name(k), e->field, e->reason, e->text);
        }
    printf("  symbols   ");
    for (size_t i = 0; i < fr->n_syms; i++)
        printf("%s%s", i ? ", " : "", fr->syms[i].symbol);
    printf("%s\n", fr->n_syms ? "" : "(none: no candle was accepted)");
    for (size_t i = 0; i < fr->n_syms; i++)
        text_symbol(fr, &fr->syms[i]);
    if (fr->err)
        printf("  error     %s: report covers the rows before it\n", err_text(fr->err));
    printf("  verdict   %s (exit %d)\n\n", fr->exit_code == PT_EXIT_OK ? "usable" : "NOT usable",
           fr->exit_code);
}

static void text_end(void *st, int exit_code)
{
    (void)st;
    printf("verdict: %s (exit %d)\n", exit_code == PT_EXIT_OK ? "usable" : "NOT usable", exit_code);
}

/* -- json */
typedef struct json_state {
    cJSON *root, *files;
    int oom;
} json_state;

static void *json_begin(const check_opts *o)
{
    json_state *j = calloc(1, sizeof *j);
    if (!j)
        return NULL;
    j->root = cJSON_CreateObject();
    if (j->root) {
        cJSON_AddNumberToObject(j->root, "version", 1);
        cJSON_AddNumberToObject(j->root, "min_quality", o->min_quality);
        cJSON_AddBoolToObject(j->root, "strict", o->strict);
        j->files = cJSON_AddArrayToObject(j->root, "files");
    }
    if (!j->root || !j->files)
        j->oom = 1;
    return j;
}

static void jnum(cJSON *o, const char *k, double v) { cJSON_AddNumberToObject(o, k, v); }

static void jtime(cJSON *o, const char *k, int64_t ms)
{
    char b[32];
    if (fmt_time(ms, b))
        cJSON_AddStringToObject(o, k, b);
    else
        cJSON_AddNullToObject(o, k);
}

static cJSON *json_symbol(const file_report *fr, const sym_report *s)
{
    const quality_counts *q = quality_get_counts(s->qc);
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    char loc[4200];
    cJSON_AddStringToObject(o, "symbol", s->symbol);
    jnum(o, "candles", (double)q->candles);
    jnum(o, "accepted", (double)q->by_verdict[QUALITY_ACCEPT]);
    jnum(o, "flagged", (double)q->by_verdict[QUALITY_ACCEPT_FLAGGED]);
    jnum(o, "rejected", (double)q->by_verdict[QUALITY_REJECT]);
    const int any = q->by_verdict[QUALITY_ACCEPT] + q->by_verdict[QUALITY_ACCEPT_FLAGGED] > 0;
    jtime(o, "first_time", any ? q->first_ts_ms : INT64_MIN);
    jtime(o, "last_time", any ? q->last_ts_ms : INT64_MIN);
    if (any) {
        jnum(o, "first_ms", (double)q->first_ts_ms);
        jnum(o, "last_ms", (double)q->last_ts_ms);
    } else {
        cJSON_AddNullToObject(o, "first_ms");
        cJSON_AddNullToObject(o, "last_ms");
    }
    jnum(o, "gaps", (double)q->gaps);
    jnum(o, "missing_bars", (double)q->missing_bars);
    jnum(o, "interval_ms", (double)q->interval_ms);
    cJSON *iss = cJSON_AddObjectToObject(o, "issues");
    cJSON *exs = cJSON_AddArrayToObject(o, "issue_examples");
    for (int i = 0; i < QI__COUNT && iss && exs; i++) {
        jnum(iss, quality_issue_name(i), (double)q->by_issue[i]);
        for (int k = 0; k < s->n_ex[i]; k++) {
            cJSON *e = cJSON_CreateObject();
            if (!e)
                break;
            snprintf(loc, sizeof loc, "%s:%llu", fr->path, (unsigned long long)s->ex[i][k].line);
            cJSON_AddStringToObject(e, "issue", quality_issue_name(i));
            cJSON_AddStringToObject(e, "location", loc);
            jnum(e, "line", (double)s->ex[i][k].line);
            jtime(e, "time", s->ex[i][k].ts_ms);
            cJSON_AddItemToArray(exs, e);
        }
    }
    cJSON *sc = cJSON_AddObjectToObject(o, "score");
    if (sc) {
        double final = quality_score(s->qc);
        jnum(sc, "final", final);
        cJSON_AddStringToObject(sc, "final_level", quality_level(final));
        jnum(sc, "worst", q->worst_score);
        cJSON_AddStringToObject(sc, "worst_level", quality_level(q->worst_score));
        jtime(sc, "worst_time", any ? q->worst_ts_ms : INT64_MIN);
        jnum(sc, "candles_below_min", (double)s->below_min);
    }
    cJSON_AddBoolToObject(o, "usable", sym_usable(fr, s));
    return o;
}

static void json_file(void *st, const file_report *fr)
{
    json_state *j = st;
    if (!j || j->oom)
        return;
    cJSON *o = cJSON_CreateObject();
    if (!o || !cJSON_AddItemToArray(j->files, o)) {
        cJSON_Delete(o);
        j->oom = 1;
        return;
    }
    char buf[4200];
    cJSON_AddStringToObject(o, "file", fr->path);
    cJSON_AddStringToObject(o, "status", fr->err ? "error" : "ok");
    if (fr->err)
        cJSON_AddStringToObject(o, "error", err_text(fr->err));
    jnum(o, "exit_code", fr->exit_code);
    cJSON_AddBoolToObject(o, "usable", fr->exit_code == PT_EXIT_OK);
    cJSON_AddStringToObject(o, "time_format", tkind(fr));
    interval_text(fr, buf, sizeof buf);
    cJSON_AddStringToObject(o, "interval", buf);
    jnum(o, "interval_ms", (double)fr->interval_ms);
    cJSON_AddStringToObject(o, "interval_source", fr->interval_src ? fr->interval_src : "unknown");
    cJSON_AddBoolToObject(o, "has_symbol_column", fr->stats.has_symbol_column);
    jnum(o, "lines", (double)fr->stats.lines);
    jnum(o, "bytes", (double)fr->stats.bytes);
    jnum(o, "rows_read", (double)(fr->stats.rows_ok + fr->stats.rows_rejected));
    jnum(o, "rows_ok", (double)fr->stats.rows_ok);
    jnum(o, "rows_rejected", (double)fr->stats.rows_rejected);
    jnum(o, "rows_skipped", (double)fr->skipped);
    cJSON *rej = cJSON_AddObjectToObject(o, "rejects");
    cJSON *rex = cJSON_AddArrayToObject(o, "reject_examples");
    for (int k = 0; k < FEED_REJ__COUNT && rej && rex; k++) {
        jnum(rej, feed_reject_name(k), (double)fr->stats.by_kind[k]);
        for (int i = 0; i < fr->n_rex[k]; i++) {
            const rej_example *e = &fr->rex[k][i];
            cJSON *x = cJSON_CreateObject();
            if (!x)
                break;
            snprintf(buf, sizeof buf, "%s:%llu", fr->path, (unsigned long long)e->line);
            cJSON_AddStringToObject(x, "kind", feed_reject_name(k));
            cJSON_AddStringToObject(x, "location", buf);
            jnum(x, "line", (double)e->line);
            cJSON_AddStringToObject(x, "field", e->field);
            cJSON_AddStringToObject(x, "reason", e->reason);
            cJSON_AddStringToObject(x, "text", e->text);
            cJSON_AddItemToArray(rex, x);
        }
    }
    cJSON *syms = cJSON_AddArrayToObject(o, "symbols");
    for (size_t i = 0; i < fr->n_syms && syms; i++) {
        cJSON *s = json_symbol(fr, &fr->syms[i]);
        if (!s) {
            j->oom = 1;
            break;
        }
        cJSON_AddItemToArray(syms, s);
    }
}

static void json_end(void *st, int exit_code)
{
    json_state *j = st;
    if (!j)
        return;
    char *text = NULL;
    if (!j->oom) {
        cJSON_AddBoolToObject(j->root, "usable", exit_code == PT_EXIT_OK);
        cJSON_AddNumberToObject(j->root, "exit_code", exit_code);
        text = cJSON_Print(j->root);
    }
    if (text)
        printf("%s\n", text);
    else
        fprintf(stderr, "papertrader check: out of memory building the JSON report\n");
    cJSON_free(text);
    cJSON_Delete(j->root);
    free(j);
}

static const check_reporter text_reporter = {text_begin, text_file, text_end};
static const check_reporter json_reporter = {json_begin, json_file, json_end};

/* ------------------------------------------------------------ command */

static void usage(FILE *out)
{
    fprintf(out,
            "usage: papertrader check [options] FILE...\n"
            "  Data-quality report for candle CSV files: counts per issue and per rejected-row\n"
            "  kind with the first %d examples (file:line), gaps and missing bars, the score\n"
            "  (worst window and final) and a verdict.\n"
            "options:\n"
            "  --interval I       bar interval (1m, 5m, 1h, ...); default: detected per file\n"
            "  --symbol S         symbol for files without a symbol column; with one, check only S\n"
            "  --tz ZONE          zone of timestamps without offset (UTC, +02:00, Europe/Paris)\n"
            "  --min-quality N    usable when the final score is >= N (0..100, default 60)\n"
            "  --strict           any rejected row or candle makes the data not usable\n"
            "  --json             one JSON document on stdout (docs/check-json.md)\n"
            "  --verbose          also log every warning of the reader and the checker\n"
            "  --quiet            no progress bar (shown on a terminal for long files)\n"
            "  -h, --help         this text\n"
            "exit: 0 usable, 4 not usable (score below --min-quality, no candle, --strict),\n"
            "      3 a file missing/unreadable/without header or column, 2 usage error.\n"
            "      With several files the worst wins (0 < 4 < 3).\n",
            CHECK_EXAMPLES);
}

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "papertrader check: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n");
    return app_usage_hint("check");
}

static int severity(int code)
{
    switch (code) {
    case PT_EXIT_OK: return 0;
    case PT_EXIT_QUALITY: return 1;
    case PT_EXIT_INPUT: return 2;
    default: return 3;
    }
}

enum { OPT_INTERVAL = 256, OPT_SYMBOL, OPT_TZ, OPT_MINQ, OPT_JSON, OPT_STRICT, OPT_VERBOSE, OPT_QUIET };

static int parse_args(int argc, char **argv, check_opts *o)
{
    static const struct option longopts[] = {
        {"interval", required_argument, NULL, OPT_INTERVAL},
        {"symbol", required_argument, NULL, OPT_SYMBOL},
        {"tz", required_argument, NULL, OPT_TZ},
        {"min-quality", required_argument, NULL, OPT_MINQ},
        {"json", no_argument, NULL, OPT_JSON},
        {"strict", no_argument, NULL, OPT_STRICT},
        {"verbose", no_argument, NULL, OPT_VERBOSE},
        {"quiet", no_argument, NULL, OPT_QUIET},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *why = NULL;
    opterr = 0;
    optind = 1;
    for (;;) {
        int c = getopt_long(argc, argv, ":h", longopts, NULL);
        if (c == -1)
            break;
        switch (c) {
        case OPT_INTERVAL:
            if (pt_interval_parse(optarg, &o->interval_ms) || o->interval_ms <= 0)
                return usage_error("bad --interval '%s' (want e.g. 1m, 5m, 1h, 1d)", optarg);
            break;
        case OPT_SYMBOL:
            if (!*optarg || strlen(optarg) >= PT_SYMBOL_MAX)
                return usage_error("bad --symbol '%s' (1..31 characters)", optarg);
            o->symbol = optarg;
            break;
        case OPT_TZ:
            if (pt_tz_parse(optarg, &o->tz))
                return usage_error("bad --tz '%s' (want UTC, +HH:MM or an IANA zone name)", optarg);
            o->have_tz = 1;
            break;
        case OPT_MINQ:
            if (pt_parse_decimal(optarg, strlen(optarg), &o->min_quality, &why) ||
                o->min_quality < 0 || o->min_quality > 100)
                return usage_error("bad --min-quality '%s' (a number from 0 to 100)", optarg);
            break;
        case OPT_JSON:
            o->json = 1;
            break;
        case OPT_STRICT:
            o->strict = 1;
            break;
        case OPT_VERBOSE:
            o->verbose = 1;
            break;
        case OPT_QUIET:
            o->quiet = 1;
            break;
        case 'h':
            usage(stdout);
            return -1;
        case ':':
            return usage_error("option '%s' needs a value", argv[optind - 1]);
        default:
            return usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return usage_error("%s", "no FILE given");
    return PT_EXIT_OK;
}

int cmd_check(int argc, char **argv)
{
    check_opts o = {0};
    o.min_quality = 60;
    int rc = parse_args(argc, argv, &o);
    if (rc)
        return rc < 0 ? PT_EXIT_OK : rc;
    o.now_ms = pt_wall_ms();
    /* the report already lists every problem with file:line; per-candle
     * warnings from the checker would repeat them without the file name */
    if (!o.verbose && pt_log_get_level() > PT_LOG_ERROR)
        pt_log_set_level(PT_LOG_ERROR);

    const check_reporter *rep = o.json ? &json_reporter : &text_reporter;
    void *st = rep->begin(&o);
    int code = st ? PT_EXIT_OK : PT_EXIT_FAILURE;
    /* one report at a time: memory stays per file, not per run */
    file_report *fr = malloc(sizeof *fr);
    if (!fr)
        code = PT_EXIT_FAILURE;
    for (int i = optind; i < argc && fr && st; i++) {
        memset(fr, 0, sizeof *fr);
        fr->path = argv[i];
        fr->o = &o;
        check_file(fr);
        rep->file(st, fr);
        if (severity(fr->exit_code) > severity(code))
            code = fr->exit_code;
        file_report_clear(fr);
    }
    free(fr);
    if (st)
        rep->end(st, code);
    if (fflush(stdout) || ferror(stdout)) {
        fprintf(stderr, "papertrader check: cannot write the report to stdout\n");
        code = PT_EXIT_FAILURE;
    }
    return code;
}
