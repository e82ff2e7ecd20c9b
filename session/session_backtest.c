/* The backtest clock (session.h): candle files, merged by event time or in
 * a live recording's order, drive the engine; portfolio/ books the result
 * through the session ledger (trades.csv, portfolio.csv), then report.json
 * and report.html. Same inputs and options give byte-identical trades.csv,
 * portfolio.csv and report.json: nothing here that reaches those files reads
 * the wall clock. --resume re-runs from the first candle with the options
 * recorded in session.json, parsed by the command's own parser. */
#include "ops.h"
#include "session.h"
#include "session_internal.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct bt_ctx {
    session_ledger *sl;
    pf_metrics *m;
    int io_err;
    uint64_t candles;
    ops_progress progress;
    int rows_every, rows_change; /* --portfolio-rows */
    uint64_t rows_seen;
    pf_snapshot last_row; /* the last row written (rows_change) */
    session_report_run *report; /* report.html fed during the run; NULL: read back at the end */
    uint64_t reader_rejects; /* CSV rows the reader dropped (counted by feed_csv) */
} bt_ctx;

/* ------------------------------------------------------------ hooks */

static void h_candle(void *ud, const pt_candle *c, quality_verdict v, double score,
                     const sim_signal *sig)
{
    (void)score, (void)sig;
    bt_ctx *x = ud;
    if (v != QUALITY_REJECT)
        pf_metrics_price(x->m, c->symbol, c->close);
    session_report_run_candle(x->report, c);
    /* progress: a terminal only (progress.h); looked at every 64k candles */
    if (x->progress.on && (++x->candles & 0xffff) == 0) {
        char when[48] = "candles, at ";
        pt_format_iso_ms(c->ts_ms, when + 12, sizeof when - 12);
        ops_progress_update(&x->progress, (double)x->candles, 0, when);
    }
}

/* The ledger first: nothing learns of a fill before it is durable. After a
 * ledger error the run loop stops feeding the engine. */
static void h_fill(void *ud, const pf_fill *f, const pf_fill_result *r)
{
    bt_ctx *x = ud;
    if (!x->io_err)
        x->io_err = session_ledger_fill(x->sl, f, r);
    if (!x->io_err)
        pf_metrics_fill(x->m, f->fee, r);
}

/* --portfolio-rows change: a value other than the time and the quality
 * score moved since the last row written. */
static int row_changed(const pf_snapshot *a, const pf_snapshot *b)
{
    return a->cash != b->cash || a->positions_value != b->positions_value || a->equity != b->equity ||
           a->realized_pnl != b->realized_pnl || a->unrealized_pnl != b->unrealized_pnl ||
           a->fees != b->fees || a->high_water != b->high_water || a->drawdown != b->drawdown ||
           a->open_positions != b->open_positions;
}

/* Whether this snapshot becomes a portfolio.csv row; the metrics and the
 * report see every snapshot either way. */
static int keep_row(bt_ctx *x, const pf_snapshot *s)
{
    uint64_t i = x->rows_seen++;
    if (x->rows_change) {
        if (i && !row_changed(s, &x->last_row))
            return 0;
        x->last_row = *s;
        return 1;
    }
    return x->rows_every <= 1 || i % (uint64_t)x->rows_every == 0;
}

static void h_row(void *ud, const pf_snapshot *s)
{
    bt_ctx *x = ud;
    if (!x->io_err && keep_row(x, s))
        x->io_err = session_ledger_row(x->sl, s);
    if (!x->io_err) {
        pf_metrics_snapshot(x->m, s);
        session_report_run_row(x->report, s->ts_ms, s->equity, s->drawdown);
    }
}

/* ------------------------------------------------------------ perp inputs */

static void h_funding(void *ud, const sim_funding_event *ev)
{
    bt_ctx *x = ud;
    if (!x->io_err)
        x->io_err = session_ledger_funding(x->sl, ev->ts_ms, ev->symbol, ev->rate, ev->mark_price,
                                           ev->position_qty, ev->payment);
}

/* --mark FILE: read like a candle file; rows without a symbol column get
 * --symbol or the one candle file's symbol. */
static int open_marks(const session_backtest_config *o, feed_source *out)
{
    char sym[PT_SYMBOL_MAX];
    feed_csv_opts co;
    memset(&co, 0, sizeof co);
    co.symbol = o->symbol;
    if (!co.symbol && o->nfiles == 1) {
        feed_csv_path_symbol(o->files[0], sym);
        co.symbol = sym;
    }
    return feed_source_csv(o->mark, &co, out);
}

/* ------------------------------------------------------------ outputs */

/* Everything --resume needs: "args" (every result-shaping option as given,
 * paths absolute) and "files" (absolute) are what it re-parses; the other
 * keys describe the effective configuration for people and tools. */
static cJSON *session_json(const session_backtest_config *o, const sim_engine_config *c, char **files,
                           int nfiles)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "command", "backtest");
    cJSON_AddStringToObject(j, "version", PT_VERSION);
    cJSON *a = cJSON_AddArrayToObject(j, "args");
    for (int i = 0; i < o->n_args; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(o->args[i]));
    cJSON *f = cJSON_AddArrayToObject(j, "files");
    for (int i = 0; i < nfiles; i++)
        cJSON_AddItemToArray(f, cJSON_CreateString(files[i]));
    if (o->symbol)
        cJSON_AddStringToObject(j, "symbol", o->symbol);
    sl_json_engine(j, o->strategy, c, o->sizing_text ? o->sizing_text : "all-in");
    sl_json_num(j, "min_notional", c->min_notional);
    sl_json_num(j, "cooldown_losses", c->cooldown_losses);
    sl_json_num(j, "cooldown_candles", c->cooldown_candles);
    sl_json_num(j, "max_participation_pct", c->max_participation_pct);
    sl_json_num(j, "atr_period", c->atr_period);
    sl_json_num(j, "atr_mult", c->atr_mult);
    cJSON_AddBoolToObject(j, "allow_short", c->allow_short);
    cJSON_AddBoolToObject(j, "close_at_end", c->close_at_end);
    return j;
}

static void print_table(const pf_metrics_result *mr, const sim_engine *e)
{
    const sim_engine_stats *s = sim_engine_get_stats(e);
    pf_metrics_print_table(mr, stdout);
    printf("%-22s %llu\n", "rejected candles", (unsigned long long)s->rejected);
    printf("%-22s %llu\n", "quality blocks", (unsigned long long)s->quality_blocks);
    for (int i = 0; i < SIM_BLOCK__COUNT; i++)
        if (i != SIM_BLOCK_QUALITY && s->blocks[i])
            printf("%-22s %llu (%s)\n", "risk blocks", (unsigned long long)s->blocks[i],
                   sim_block_name((sim_block_reason)i));
    if (s->strategy_failures)
        printf("%-22s %llu (breaker opened %llu times)\n", "strategy failures",
               (unsigned long long)s->strategy_failures, (unsigned long long)s->breaker_opens);
}

/* ------------------------------------------------------------ inputs */

/* order: a live session's candles/.order (its processing order), or NULL
 * for the k-way merge by event time. *bar_ms: the first file's interval,
 * from its reader's look-ahead (each input is read once: FIFOs work). */
static int open_sources(char **files, int n, const char *symbol, const char *order, uint64_t *rejects,
                        int64_t *bar_ms, feed_source *out)
{
    feed_source srcs[SESSION_BACKTEST_MAX_FILES];
    feed_csv_opts co;
    memset(&co, 0, sizeof co);
    co.symbol = symbol;
    co.rejects_out = rejects; /* for report.html: rows the reader dropped */
    for (int i = 0; i < n; i++) {
        co.interval_out = i == 0 ? bar_ms : NULL;
        int rc = feed_source_csv(files[i], &co, &srcs[i]);
        if (rc) {
            for (int k = 0; k < i; k++)
                feed_source_free(&srcs[k]);
            return rc;
        }
    }
    if (order) /* takes the sources, also on failure */
        return feed_source_ordered(srcs, (size_t)n, order, out);
    if (n == 1) {
        *out = srcs[0];
        return PT_OK;
    }
    return feed_source_merge(srcs, (size_t)n, out); /* takes the sources, also on failure */
}

/* ------------------------------------------------------------ resume */

/* --resume DIR before the lock: a missing folder is a missing input (3).
 * Returns -1 to go on. */
static int resume_precheck(const char *dir)
{
    struct stat st;
    if (stat(dir, &st)) {
        fprintf(stderr, "papertrader backtest: --resume %s: %s\n", dir,
                errno == ENOENT ? "no such folder" : strerror(errno));
        return PT_EXIT_INPUT;
    }
    if (!S_ISDIR(st.st_mode)) {
        fprintf(stderr, "papertrader backtest: --resume %s: not a folder\n", dir);
        return PT_EXIT_USAGE;
    }
    return -1;
}

/* A finished backtest (report.json is written last) has nothing left to do. */
static int resume_finished(const char *dir)
{
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/report.json", dir) >= (int)sizeof path || access(path, F_OK))
        return 0;
    fprintf(stderr, "papertrader backtest: --resume %s: this backtest is complete (report.json is there); "
                    "nothing to resume\n", dir);
    return 1;
}

/* --resume DIR: rebuild the original command line from DIR/session.json.
 * *argv_out (malloc'd; its strings live in *doc) is the caller's to free. */
static int load_session(const char *dir, cJSON **doc, char ***argv_out, int *argc_out)
{
    *doc = session_json_read(dir);
    if (!*doc && errno != EINVAL) {
        fprintf(stderr, "papertrader backtest: --resume: cannot read %s/session.json: %s (not a session "
                        "folder?)\n", dir, strerror(errno));
        return PT_EXIT_USAGE;
    }
    const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(*doc, "command");
    const cJSON *args = cJSON_GetObjectItemCaseSensitive(*doc, "args");
    if (cJSON_IsString(cmd) && strcmp(cmd->valuestring, "backtest")) { /* another kind of session */
        fprintf(stderr, "papertrader backtest: --resume %s: it holds a `%s` session, not a backtest "
                        "(papertrader %s --resume %s carries it on)\n", dir, cmd->valuestring,
                !strcmp(cmd->valuestring, "demo") ? "demo" : "run", dir);
        return PT_EXIT_USAGE;
    }
    const cJSON *files = cJSON_GetObjectItemCaseSensitive(*doc, "files");
    int na = cJSON_GetArraySize(args), nf = cJSON_GetArraySize(files), k = 1;
    char **av = NULL;
    if (!cJSON_IsString(cmd) || strcmp(cmd->valuestring, "backtest") || !cJSON_IsArray(args) ||
        !cJSON_IsArray(files) || nf < 1 || nf > SESSION_BACKTEST_MAX_FILES || na > SESSION_BACKTEST_MAX_ARGS ||
        !(av = calloc((size_t)(na + nf + 2), sizeof *av)))
        goto bad;
    av[0] = "backtest";
    const cJSON *it;
    cJSON_ArrayForEach(it, args) {
        if (!cJSON_IsString(it))
            goto bad;
        av[k++] = it->valuestring;
    }
    cJSON_ArrayForEach(it, files) {
        if (!cJSON_IsString(it))
            goto bad;
        av[k++] = it->valuestring;
    }
    *argv_out = av;
    *argc_out = k;
    return 0;
bad:
    free(av);
    fprintf(stderr, "papertrader backtest: %s/session.json: not a resumable backtest session (want "
                    "\"command\": \"backtest\", \"args\" and \"files\")\n", dir);
    return PT_EXIT_CORRUPT;
}

/* session.json keeps absolute input paths: a resume may start elsewhere. */
static int write_session(const char *dir, const session_backtest_config *o, const sim_engine_config *c,
                         char **files, int nfiles)
{
    char *abs[SESSION_BACKTEST_MAX_FILES];
    for (int i = 0; i < nfiles; i++)
        abs[i] = realpath(files[i], NULL);
    char *names[SESSION_BACKTEST_MAX_FILES];
    for (int i = 0; i < nfiles; i++)
        names[i] = abs[i] ? abs[i] : files[i];
    cJSON *ses = session_json(o, c, names, nfiles);
    int rc = ses ? session_write_json(dir, "session.json", ses) : PT_ENOMEM;
    cJSON_Delete(ses);
    for (int i = 0; i < nfiles; i++)
        free(abs[i]);
    return rc;
}

static int ledger_exit(int rc) { return rc == PT_ECORRUPT ? PT_EXIT_CORRUPT : PT_EXIT_FAILURE; }

/* ------------------------------------------------------------ run */

/* One run's state: one cleanup path (bt_free) for every exit. */
typedef struct bt_run {
    const session_backtest_config *c;
    sim_engine_config eng; /* c->cfg with the strategy loaded */
    const char *resume;    /* the folder resumed, or NULL */
    char outdir[4096];
    int lock_fd;
    void *dl;
    sim_engine *e;
    session_controls *ctl;
    feed_source src, marks;
    sim_funding *fund;
    pf_rules_set rules; /* what the engine trades with; n == 0: none */
    int64_t bar_ms;
    bt_ctx x;
    cJSON *rep;
} bt_run;

/* The strategy and its parameters, checked as a whole (relations such as
 * fast < slow pass the ranges and fail create()). 0 or PT_EXIT_USAGE. */
static int bt_strategy(bt_run *r)
{
    const session_backtest_config *c = r->c;
    char err[256] = "";
    if (sim_strategy_load(c->strategy, &r->eng.strategy, &r->dl)) {
        fprintf(stderr, "papertrader backtest: unknown strategy '%s' "
                        "(papertrader strategies lists them)\n", c->strategy);
        return PT_EXIT_USAGE;
    }
    if (sim_strategy_params(r->eng.strategy, c->params, c->n_params, r->eng.params, err, sizeof err)) {
        fprintf(stderr, "papertrader backtest: %s\n", err);
        return PT_EXIT_USAGE;
    }
    sim_strategy_warn_short(r->eng.strategy, r->eng.allow_short);
    void *probe = NULL;
    if (sim_strategy_create(r->eng.strategy, r->eng.params, &probe, err, sizeof err)) {
        fprintf(stderr, "papertrader backtest: %s: %s\n", c->strategy, err);
        return PT_EXIT_USAGE;
    }
    sim_strategy_free_state(r->eng.strategy, probe);
    return 0;
}

/* The inputs, then the folder: locked (exit 6 first), refused when --out
 * holds another run, session.json before the first fill. 0 or an exit code. */
static int bt_inputs_and_folder(bt_run *r)
{
    const session_backtest_config *c = r->c;
    if (open_sources(c->files, c->nfiles, c->symbol, c->order, &r->x.reader_rejects, &r->bar_ms, &r->src))
        return PT_EXIT_INPUT; /* the reader logged path and reason */
    if (!c->trade_from_given) { /* a live recording: its warm-up candles warm here too */
        char from[4200];
        r->eng.trade_from_ms = session_recorded_trade_from(c->files, c->nfiles, c->order, from, sizeof from);
        if (r->eng.trade_from_ms > 0) {
            char when[32];
            pt_format_iso_ms(r->eng.trade_from_ms, when, sizeof when);
            pt_info("backtest: %s: warm-up until %s, no trading before it (--trade-from 0: trade from the "
                    "first candle)", from, when);
        }
    }
    if (session_rules_backtest(c->rules_file, c->rule_keys, c->files, c->nfiles, c->order, &r->rules))
        return PT_EXIT_INPUT; /* logged with the file and field */
    r->eng.rules = r->rules.n ? &r->rules : NULL;
    if (r->resume)
        return 0; /* locked and read by session_backtest_resume */
    if (c->out)
        snprintf(r->outdir, sizeof r->outdir, "%s", c->out);
    else
        session_default_dir(r->outdir, sizeof r->outdir, "backtest");
    int code = session_dir_lock("backtest", r->outdir, 1, &r->lock_fd);
    if (!code && c->out && !c->force)
        code = session_dir_refuse_run("backtest", r->outdir, 1);
    if (!code && write_session(r->outdir, c, &r->eng, c->files, c->nfiles))
        code = PT_EXIT_FAILURE;
    char rp[PATH_MAX + 16]; /* what it traded with, beside its outputs */
    snprintf(rp, sizeof rp, "%s/rules.json", r->outdir);
    if (!code && r->rules.n && pf_rules_write(rp, &r->rules))
        code = PT_EXIT_FAILURE;
    return code;
}

/* Ledger (resume = replay: it verifies the recorded rows, appends the
 * rest), metrics, report feed and engine. 0 or an exit code. */
static int bt_engine(bt_run *r)
{
    const session_backtest_config *c = r->c;
    uint64_t crash_after = c->crash_after;
    if (!crash_after) { /* the test hook also comes from the environment */
        const char *env = getenv("PT_CRASH_AFTER_FILLS");
        int64_t v;
        const char *why;
        if (env && !pt_parse_int64(env, strlen(env), &v, &why) && v > 0)
            crash_after = (uint64_t)v;
    }
    session_ledger_options lo = {r->resume != NULL, c->sync, 1, crash_after, r->eng.perp.on};
    int rc = session_ledger_open(r->outdir, &lo, &r->x.sl);
    if (rc) {
        if (rc == PT_ECORRUPT)
            fprintf(stderr, "papertrader backtest: refusing to resume %s: its ledger is corrupt "
                            "(file:line above); files left as they are\n", r->outdir);
        return ledger_exit(rc);
    }
    if (r->bar_ms <= 0)
        r->bar_ms = 60000;
    if (pf_metrics_new(r->bar_ms, r->eng.cash, &r->x.m))
        return PT_EXIT_FAILURE;
    ops_progress_begin(&r->x.progress, "backtest", c->quiet);
    r->x.rows_every = c->rows_every;
    r->x.rows_change = c->rows_change;
    if (!c->no_report && session_report_run_new(&r->x.report))
        r->x.report = NULL; /* the report reads the folder back instead */
    const sim_hooks hooks = {h_candle, NULL, h_fill, h_row, NULL};
    r->eng.ext.interval_ms = r->bar_ms;
    if (c->funding && sim_funding_load(c->funding, c->symbol, c->funding_interval_ms, &r->fund))
        return PT_EXIT_INPUT; /* logged with file:line */
    if (r->fund)
        pt_info("backtest: %s: %zu funding rows", c->funding, sim_funding_count(r->fund));
    if (c->mark && open_marks(c, &r->marks))
        return PT_EXIT_INPUT;
    r->eng.perp.funding = r->fund;
    if (r->eng.perp.on && !r->fund)
        pt_info("backtest: --market perp without --funding: funding is taken as zero");
    if (sim_engine_new(&r->eng, &hooks, &r->x, &r->e) || (!c->controls && sim_engine_lookahead(r->e, &r->src)))
        return PT_EXIT_FAILURE;
    sim_engine_set_funding_hook(r->e, h_funding, &r->x);
    if (c->mark)
        sim_engine_set_marks(r->e, &r->marks, c->mark);
    if (c->controls && session_controls_load(c->controls, &r->ctl))
        return PT_EXIT_INPUT;
    return 0;
}

/* Every candle through the engine, recorded controls at their boundaries.
 * A ledger error stops trading at once; so does a failed external strategy
 * (logged with the candle and its text), keeping every row written. */
static int bt_loop(bt_run *r)
{
    pt_candle cd;
    int rc = PT_OK;
    while (!r->x.io_err && (rc = r->src.ops->next(r->src.self, &cd)) == PT_OK) {
        if (session_controls_apply(r->ctl, r->e, cd.ts_ms))
            return PT_EXIT_INPUT;
        int erc = sim_engine_on_candle(r->e, &cd);
        if (erc == PT_EPARSE) { /* a bad funding or mark row, logged with file:line */
            fprintf(stderr, "papertrader backtest: stopped: bad perp input (above); the rows written so "
                            "far are kept in %s\n", r->outdir);
            return PT_EXIT_INPUT;
        }
        if (erc == PT_ESTATE) {
            fprintf(stderr, "papertrader backtest: stopped: the strategy failed (above); the "
                            "rows written so far are kept in %s\n", r->outdir);
            return PT_EXIT_FAILURE;
        }
    }
    ops_progress_end(&r->x.progress);
    if (!r->x.io_err && rc != PT_EOF)
        return PT_EXIT_INPUT;
    if (!r->x.io_err && session_controls_apply(r->ctl, r->e, INT64_MAX))
        return PT_EXIT_INPUT;
    if (!r->x.io_err)
        sim_engine_finish(r->e);
    if (r->x.io_err) {
        fprintf(stderr, "papertrader backtest: %s: %s\n",
                r->x.io_err == PT_ECORRUPT ? "refusing to resume" : "stopped trading",
                session_ledger_error_text(r->x.sl));
        if (r->x.io_err != PT_ECORRUPT)
            fprintf(stderr, "papertrader backtest: every complete row is kept; on a healthy disk "
                            "run: papertrader backtest --resume %s\n", r->outdir);
        return ledger_exit(r->x.io_err);
    }
    if (sim_engine_get_stats(r->e)->accepted == 0) {
        fprintf(stderr, "papertrader backtest: no usable candles in the input\n");
        return PT_EXIT_INPUT;
    }
    return 0;
}

/* Ledger closed, report.json (last: it marks the run complete), report.html,
 * the metrics on stdout. 0 or an exit code. */
static int bt_finish(bt_run *r)
{
    const session_backtest_config *c = r->c;
    int rc = session_ledger_close(r->x.sl, 1);
    r->x.sl = NULL;
    if (rc)
        return ledger_exit(rc);
    pf_metrics_result mr;
    pf_metrics_compute(r->x.m, &mr);
    if (!(r->rep = pf_metrics_to_json(&mr)))
        return PT_EXIT_FAILURE;
    sim_engine_stats_to_json(r->e, cJSON_AddObjectToObject(r->rep, "engine"));
    if (r->eng.perp.on)
        sim_engine_perp_to_json(r->e, cJSON_AddObjectToObject(r->rep, "perp"));
    if (session_write_json(r->outdir, "report.json", r->rep))
        return PT_EXIT_FAILURE;
    session_report_run_rejected(r->x.report, r->x.reader_rejects);
    if (!c->no_report && session_report_run_write(r->x.report, r->outdir, NULL)) /* logged; the backtest is complete */
        pt_warn("backtest: %s/report.html not written (papertrader report %s retries)", r->outdir, r->outdir);
    if (c->json) {
        char *t = cJSON_Print(r->rep);
        if (t)
            puts(t);
        free(t);
    } else {
        print_table(&mr, r->e);
        if (r->eng.perp.on) {
            char fs[200];
            printf("%-22s %s\n", "funding", sim_engine_perp_summary(r->e, fs, sizeof fs));
        }
        printf("%-22s %s\n", "output", r->outdir);
    }
    return fflush(stdout) ? PT_EXIT_FAILURE : PT_EXIT_OK;
}

static void bt_free(bt_run *r)
{
    cJSON_Delete(r->rep);
    sim_engine_free(r->e);
    session_ledger_close(r->x.sl, 0);
    pf_metrics_free(r->x.m);
    feed_source_free(&r->src);
    feed_source_free(&r->marks);
    sim_funding_free(r->fund);
    sim_strategy_unload(r->dl);
    session_unlock(r->lock_fd);
    session_controls_free(r->ctl);
    session_report_run_free(r->x.report);
}

/* resume: the folder, already locked (lock_fd, handed over) and read. */
static int bt_run_in(const session_backtest_config *c, const char *resume, int lock_fd)
{
    bt_run r;
    memset(&r, 0, sizeof r);
    r.c = c;
    r.eng = c->cfg;
    r.resume = resume;
    r.lock_fd = lock_fd;
    if (resume)
        snprintf(r.outdir, sizeof r.outdir, "%s", resume);
    if (c->quiet)
        pt_log_set_stderr(0);
    int code = bt_strategy(&r);
    if (!code)
        code = bt_inputs_and_folder(&r);
    if (!code)
        code = bt_engine(&r);
    if (!code)
        code = bt_loop(&r);
    if (!code)
        code = bt_finish(&r);
    bt_free(&r);
    return code;
}

int session_backtest_run(const session_backtest_config *c) { return bt_run_in(c, NULL, -1); }

int session_backtest_resume(const char *dir, const session_backtest_config *now, session_backtest_parse_fn parse,
                            void *ud)
{
    cJSON *doc = NULL;
    char **argv = NULL;
    int lock_fd = -1, argc = 0, code;
    /* lock first: a second process must not even read */
    if ((code = resume_precheck(dir)) >= 0 || (code = session_dir_lock("backtest", dir, 0, &lock_fd)) ||
        (code = load_session(dir, &doc, &argv, &argc)))
        goto done;
    if (resume_finished(dir)) {
        code = PT_EXIT_OK;
        goto done;
    }
    session_backtest_config c;
    if (parse(argc, argv, &c, ud)) {
        fprintf(stderr, "papertrader backtest: %s/session.json: its \"args\" do not parse\n", dir);
        code = PT_EXIT_CORRUPT;
        goto done;
    }
    if (c.cfg.perp.on) {
        fprintf(stderr, "papertrader backtest: --resume of a perp backtest is not supported yet; "
                        "run it again with --force\n");
        code = PT_EXIT_USAGE;
        goto done;
    }
    c.quiet = now->quiet; /* the options that do not shape the result: today's */
    c.json = now->json;
    c.sync = now->sync;
    c.crash_after = now->crash_after;
    code = bt_run_in(&c, dir, lock_fd);
    lock_fd = -1; /* unlocked by the run */
done:
    session_unlock(lock_fd);
    free(argv);
    cJSON_Delete(doc);
    return code;
}

int session_backtest_open(const session_backtest_config *c, uint64_t *rejects, int64_t *bar_ms, feed_source *out)
{
    return open_sources(c->files, c->nfiles, c->symbol, c->order, rejects, bar_ms, out);
}
