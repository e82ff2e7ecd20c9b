/* papertrader walk-forward: optimize on a training window, trade the best
 * set on the following test window, move on (docs/optimize.md
 * "Walk-forward"). Each window is its own backtest over those candles
 * (opt_range); the test windows are chained (cash carries over, positions
 * close at each window's end) into the out-of-sample trades and equity. */
#include "commands.h"
#include "optimize.h"
#include "session.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EULER_GAMMA 0.5772156649015329

static void usage(FILE *out)
{
    fprintf(out,
            "usage: papertrader walk-forward --train DUR --test DUR [--step DUR] [--anchored]\n"
            "           --strategy NAME|PATH [--grid ...]... [--random N --seed S] [--objective X]\n"
            "           [--min-trades N] [--jobs N] [--out DIR] [backtest engine flags] FILE...\n"
            "  Per fold: every parameter set on the training window (DIR/folds/K_train.csv), the\n"
            "  best by --objective traded on the test window that follows. Writes folds.csv,\n"
            "  oos_trades.csv, oos_portfolio.csv and walkforward.json (in-sample vs out-of-sample\n"
            "  degradation, Deflated Sharpe Ratio of the chosen sets). DUR: 30d, 12h, 2w, ...\n"
            "  --step DUR (default --test): how far each fold moves; --anchored: every training\n"
            "  window starts at the first candle. docs/optimize.md \"Walk-forward\".\n"
            "exit: 0 ok, 1 runtime failure, 2 bad options or a fold longer than the data, 3 input\n");
}

typedef struct wf_fold {
    int64_t train0, train1, test0, test1;
} wf_fold;

typedef struct wf_out {
    opt_atomic trades, port;
    int fold;
    double last_equity;
    uint64_t n_ret;
    double *ret; /* stitched per-bar returns (for skew and kurtosis) */
    double *eq;  /* stitched equity and its times, for report.html */
    int64_t *ts;
    uint64_t n_eq, cap;
} wf_out;

static void iso(int64_t ms, char *b, size_t cap) { pt_format_iso_ms(ms, b, cap); }

static void num(FILE *f, double v)
{
    if (isfinite(v)) {
        char b[40];
        pt_format_double(v, b, sizeof b);
        fputs(b, f);
    }
}

static void tap_fill(void *ud, const pf_fill *f, const pf_fill_result *r)
{
    wf_out *o = ud;
    char t[32];
    iso(f->ts_ms, t, sizeof t);
    fprintf(o->trades.f, "%d,%s,%s,%s,", o->fold, t, f->symbol, f->side == PF_BUY ? "buy" : "sell");
    num(o->trades.f, f->qty), fputc(',', o->trades.f);
    num(o->trades.f, f->price), fputc(',', o->trades.f);
    num(o->trades.f, f->fee), fputc(',', o->trades.f);
    num(o->trades.f, r->realized_pnl);
    fprintf(o->trades.f, ",%s\n", f->reason ? f->reason : "");
}

static void tap_row(void *ud, const pf_snapshot *s)
{
    wf_out *o = ud;
    char t[32];
    iso(s->ts_ms, t, sizeof t);
    fprintf(o->port.f, "%d,%s,", o->fold, t);
    num(o->port.f, s->equity), fputc(',', o->port.f);
    num(o->port.f, s->cash), fputc(',', o->port.f);
    fprintf(o->port.f, "%d\n", s->open_positions);
    if (o->last_equity > 0 && o->n_ret < o->cap) /* one return per bar, across folds */
        o->ret[o->n_ret++] = s->equity / o->last_equity - 1;
    if (o->n_eq < o->cap)
        o->eq[o->n_eq] = s->equity, o->ts[o->n_eq++] = s->ts_ms;
    o->last_equity = s->equity;
}

/* ------------------------------------------------------------ statistics */

static double norm_cdf(double x) { return 0.5 * erfc(-x / sqrt(2.0)); }

/* Acklam's rational approximation of the normal quantile (rel. error
 * < 1.2e-9), https://web.archive.org/web/2015/http://home.online.no/~pjacklam/notes/invnorm/ */
static double norm_quantile(double p)
{
    static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                               1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00};
    static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                               6.680131188771972e+01, -1.328068155288572e+01};
    static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                               -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00};
    static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                               3.754408661907416e+00};
    if (p <= 0 || p >= 1)
        return p <= 0 ? -INFINITY : INFINITY;
    if (p < 0.02425 || p > 1 - 0.02425) {
        double q = sqrt(-2 * log(p < 0.5 ? p : 1 - p));
        double x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
                   ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
        return p < 0.5 ? x : -x;
    }
    double q = p - 0.5, r = q * q;
    return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
           (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/* Bailey and Lopez de Prado (2014), "The Deflated Sharpe Ratio", eq. 2 and
 * the expected maximum Sharpe of n_trials with variance var_sr (per bar):
 * DSR = PSR(SR0) of the per-bar returns r[0..n). */
static double deflated_sharpe(const double *r, uint64_t n, double n_trials, double var_sr,
                              double *sr0_out)
{
    double m = 0, s2 = 0, s3 = 0, s4 = 0;
    for (uint64_t i = 0; i < n; i++)
        m += r[i];
    m /= (double)n;
    for (uint64_t i = 0; i < n; i++) {
        double d = r[i] - m;
        s2 += d * d, s3 += d * d * d, s4 += d * d * d * d;
    }
    double var = s2 / (double)n, sd = sqrt(var);
    double sr = m / sqrt(s2 / (double)(n - 1)), skew = s3 / (double)n / (var * sd);
    double kurt = s4 / (double)n / (var * var);
    double sr0 = 0;
    if (n_trials >= 2 && var_sr > 0)
        sr0 = sqrt(var_sr) * ((1 - EULER_GAMMA) * norm_quantile(1 - 1 / n_trials) +
                              EULER_GAMMA * norm_quantile(1 - 1 / (n_trials * M_E)));
    *sr0_out = sr0;
    double den = 1 - skew * sr + (kurt - 1) / 4 * sr * sr;
    if (n < 3 || !(sd > 0) || !(den > 0))
        return NAN;
    return norm_cdf((sr - sr0) * sqrt((double)n - 1) / sqrt(den));
}

/* ------------------------------------------------------------ folds */

static int make_folds(const opt_cli *c, int64_t t0, int64_t t_end, wf_fold **out, int *n)
{
    int64_t step = c->step_ms ? c->step_ms : c->test_ms;
    int cap = 0;
    *n = 0;
    *out = NULL;
    if (step < c->test_ms) {
        fprintf(stderr, "papertrader walk-forward: --step shorter than --test: the test windows "
                        "would overlap and the out-of-sample trades count twice\n");
        return 2;
    }
    for (int64_t k = 0;; k++) {
        wf_fold f = {c->anchored ? t0 : t0 + k * step, t0 + k * step + c->train_ms, 0, 0};
        f.test0 = f.train1, f.test1 = f.train1 + c->test_ms;
        if (f.test1 > t_end || *n >= 10000)
            break;
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            wf_fold *nf = realloc(*out, (size_t)cap * sizeof *nf);
            if (!nf)
                return 1;
            *out = nf;
        }
        (*out)[(*n)++] = f;
    }
    if (*n == 0) {
        fprintf(stderr, "papertrader walk-forward: a fold (--train + --test = %.1f days) is longer "
                        "than the data (%.1f days)\n", (double)(c->train_ms + c->test_ms) / 864e5,
                (double)(t_end - t0) / 864e5);
        return 2;
    }
    return 0;
}

typedef struct wf_run {
    opt_ctx *x;
    opt_data *data;
    const char *dir;
    wf_out o;
    opt_atomic folds_at;
    FILE *folds;      /* folds_at.f */
    double is_sum, oos_sum, var_acc, var_sq;
    uint64_t var_n;
    int n_ok;
    double cash;
} wf_run;

/* The in-sample search of fold k: DIR/folds/K_train.csv; the best row. */
static int fold_search(wf_run *w, int k, const wf_fold *f, uint64_t *best, char **best_line,
                       char **header)
{
    char fdir[PATH_MAX], name[64], journal[64], path[PATH_MAX + 64];
    snprintf(fdir, sizeof fdir, "%s/folds", w->dir);
    snprintf(name, sizeof name, "%d_train.csv", k);
    snprintf(journal, sizeof journal, ".%d_train.journal", k);
    opt_range r = {opt_data_index_at(w->data, f->train0), opt_data_index_at(w->data, f->train1), NULL};
    opt_job j = {&w->x->sp, w->data, &w->x->setup->cfg, w->x->setup->controls, &r, 0,
                 w->x->sp.n_eval, w->x->cli.jobs, fdir, journal, name, 0};
    if (pt_mkdirs(fdir) || opt_pool_run(&j))
        return 1;
    snprintf(path, sizeof path, "%s/%s", fdir, name);
    double *obj = NULL, *sharpe = NULL, ppy = 365.25 * 864e5;
    int64_t a, b, bar;
    uint64_t n;
    opt_data_span(w->data, &a, &b, &bar);
    int rc = opt_rank_file(path, (opt_objective)w->x->cli.objective, w->x->cli.min_trades, "sharpe",
                           &obj, &sharpe, &n, best);
    for (uint64_t i = 0; !rc && i < n; i++) /* every trial's per-bar Sharpe, for the DSR */
        if (isfinite(sharpe[i])) {
            double s = sharpe[i] / sqrt(ppy / (double)bar);
            w->var_acc += s, w->var_sq += s * s, w->var_n++;
        }
    free(obj), free(sharpe);
    FILE *in = rc ? NULL : fopen(path, "r");
    size_t cap = 0;
    *header = NULL, *best_line = NULL;
    if (in && getline(header, &cap, in) > 0)
        for (uint64_t i = 0; *best != UINT64_MAX && i <= *best; i++) {
            cap = 0;
            free(*best_line);
            *best_line = NULL;
            if (getline(best_line, &cap, in) <= 0)
                break;
        }
    if (in)
        fclose(in);
    if (*header)
        (*header)[strcspn(*header, "\n")] = 0;
    if (*best_line)
        (*best_line)[strcspn(*best_line, "\n")] = 0;
    return rc || !*header;
}

static void fold_row(wf_run *w, int k, const wf_fold *f, const double *v, const char *ih,
                     const char *il, const char *oh, const char *ol)
{
    const sim_strategy_ops *ops = w->x->sp.ops;
    const char *obj = opt_objective_name((opt_objective)w->x->cli.objective);
    const char *col = !strcmp(obj, "return") ? "total_return" : obj;
    char t[4][32];
    iso(f->train0, t[0], 32), iso(f->train1, t[1], 32), iso(f->test0, t[2], 32), iso(f->test1, t[3], 32);
    fprintf(w->folds, "%d,%s,%s,%s,%s", k, t[0], t[1], t[2], t[3]);
    for (int p = 0; p < ops->n_params; p++) {
        fputc(',', w->folds);
        if (v)
            num(w->folds, v[p]);
    }
    double is = il ? opt_csv_field(ih, il, col) : NAN, oos = ol ? opt_csv_field(oh, ol, col) : NAN;
    const double vals[] = {is, oos, il ? opt_csv_field(ih, il, "total_return") : NAN,
                           ol ? opt_csv_field(oh, ol, "total_return") : NAN,
                           il ? opt_csv_field(ih, il, "sharpe") : NAN,
                           ol ? opt_csv_field(oh, ol, "sharpe") : NAN,
                           ol ? opt_csv_field(oh, ol, "trades") : NAN,
                           ol ? opt_csv_field(oh, ol, "max_drawdown") : NAN,
                           ol ? opt_csv_field(oh, ol, "end_equity") : NAN, is - oos};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        fputc(',', w->folds);
        num(w->folds, vals[i]);
    }
    fputc('\n', w->folds);
    if (isfinite(is) && isfinite(oos))
        w->is_sum += is, w->oos_sum += oos, w->n_ok++;
}

/* Fold k: search, then the best set on the test window, chained on cash. */
static int run_fold(wf_run *w, int k, const wf_fold *f)
{
    uint64_t best;
    char *ih = NULL, *il = NULL, *oh = NULL, *ol = NULL;
    int rc = fold_search(w, k, f, &best, &il, &ih);
    double v[SIM_MAX_PARAMS];
    if (!rc && best != UINT64_MAX && il) {
        opt_space_values(&w->x->sp, best, v);
        sim_engine_config cfg = w->x->setup->cfg;
        cfg.cash = w->cash, cfg.close_at_end = 1; /* the next window starts flat */
        opt_tap tap = {tap_fill, tap_row, &w->o};
        opt_range r = {opt_data_index_at(w->data, f->test0), opt_data_index_at(w->data, f->test1),
                       &tap};
        w->o.fold = k;
        rc = opt_eval_run(w->data, &cfg, v, w->x->setup->controls, &r, &oh, &ol);
        if (!rc)
            w->cash = opt_csv_field(oh, ol, "end_equity");
    }
    if (!rc)
        fold_row(w, k, f, best != UINT64_MAX && il ? v : NULL, ih, il, oh, ol);
    free(ih), free(il), free(oh), free(ol);
    return rc;
}

static int open_outputs(wf_run *w)
{
    const sim_strategy_ops *ops = w->x->sp.ops;
    w->folds = NULL;
    if (opt_atomic_begin(&w->o.trades, w->dir, "oos_trades.csv") ||
        opt_atomic_begin(&w->o.port, w->dir, "oos_portfolio.csv"))
        return 1;
    fputs("fold,time,symbol,side,qty,price,fee,realized_pnl,reason\n", w->o.trades.f);
    fputs("fold,time,equity,cash,open_positions\n", w->o.port.f);
    if (opt_atomic_begin(&w->folds_at, w->dir, "folds.csv"))
        return 1;
    w->folds = w->folds_at.f;
    fputs("fold,train_start,train_end,test_start,test_end", w->folds);
    for (int p = 0; p < ops->n_params; p++)
        fprintf(w->folds, ",%s", ops->params[p].name);
    fputs(",is_objective,oos_objective,is_total_return,oos_total_return,is_sharpe,oos_sharpe,"
          "oos_trades,oos_max_drawdown,oos_end_equity,degradation\n", w->folds);
    return 0;
}

/* Every output or none (temp files removed on failure). */
static int close_outputs(wf_run *w, int failed)
{
    int rc = opt_atomic_end(&w->o.trades, failed);
    rc |= opt_atomic_end(&w->o.port, failed || rc);
    rc |= opt_atomic_end(&w->folds_at, failed || rc);
    return rc;
}

static int summary(wf_run *w, int n_folds, int64_t bar_ms)
{
    double sr0, ppy = 365.25 * 864e5 / (double)bar_ms, var = NAN;
    if (w->var_n > 1) {
        double m = w->var_acc / (double)w->var_n;
        var = (w->var_sq - (double)w->var_n * m * m) / (double)(w->var_n - 1);
    }
    double dsr = deflated_sharpe(w->o.ret, w->o.n_ret, (double)w->x->sp.n_eval, var, &sr0);
    double m = 0, s2 = 0;
    for (uint64_t i = 0; i < w->o.n_ret; i++)
        m += w->o.ret[i];
    m = w->o.n_ret ? m / (double)w->o.n_ret : NAN;
    for (uint64_t i = 0; i < w->o.n_ret; i++)
        s2 += (w->o.ret[i] - m) * (w->o.ret[i] - m);
    double sharpe = w->o.n_ret > 1 ? m / sqrt(s2 / (double)(w->o.n_ret - 1)) * sqrt(ppy) : NAN;
    double start = w->x->setup->cfg.cash, mis = w->is_sum / w->n_ok, moos = w->oos_sum / w->n_ok;
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "objective", opt_objective_name((opt_objective)w->x->cli.objective));
    cJSON_AddNumberToObject(j, "folds", n_folds);
    cJSON_AddNumberToObject(j, "trials", (double)w->x->sp.n_eval);
#define ADD(k, v) (isfinite(v) ? cJSON_AddNumberToObject(j, k, v) : cJSON_AddNullToObject(j, k))
    ADD("mean_is_objective", mis);
    ADD("mean_oos_objective", moos);
    ADD("degradation", mis - moos);
    ADD("efficiency", moos / mis);
    ADD("oos_total_return", w->cash / start - 1);
    ADD("oos_sharpe", sharpe);
    ADD("oos_bars", (double)w->o.n_ret);
    ADD("trial_sharpe_variance", var);
    ADD("expected_max_sharpe", sr0);
    ADD("deflated_sharpe_ratio", dsr);
#undef ADD
    int rc = session_write_json(w->dir, "walkforward.json", j) ? 1 : 0;
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/folds.csv", w->dir);
    char *folds = rc ? NULL : opt_read_file(path, 64u << 20, NULL);
    if (!folds || opt_html_walkforward(w->dir, folds, j, w->o.eq, w->o.ts, w->o.n_eq))
        fprintf(stderr, "papertrader walk-forward: %s/report.html not written\n", w->dir);
    free(folds);
    printf("walk-forward: %d folds, %llu sets each, ranked by %s\n", n_folds,
           (unsigned long long)w->x->sp.n_eval,
           opt_objective_name((opt_objective)w->x->cli.objective));
    printf("  in-sample mean %.6g, out-of-sample mean %.6g (degradation %.6g)\n", mis, moos,
           mis - moos);
    printf("  out-of-sample: total return %.4f %%, Sharpe %.4g, Deflated Sharpe Ratio %.4f\n",
           (w->cash / start - 1) * 100, sharpe, dsr);
    printf("output: %s\n", w->dir);
    cJSON_Delete(j);
    return rc;
}

int cmd_walk_forward(int argc, char **argv)
{
    if (app_wants_help(argc, argv)) {
        usage(stdout);
        return 0;
    }
    opt_ctx x = {0};
    wf_run w = {.x = &x};
    wf_fold *folds = NULL;
    char dir[PATH_MAX], path[PATH_MAX + 32];
    int n_folds = 0, lock_fd = -1, rc, resume = 0;
    /* --resume DIR: inputs and flags from DIR/session.json; the finished
     * in-sample evaluations are in each fold's journal (folds/.K_train.journal) */
    for (int i = 1; i + 1 < argc && !resume; i++)
        resume = !strcmp(argv[i], "--resume") ? i : 0;
    if (resume) {
        snprintf(dir, sizeof dir, "%s", argv[resume + 1]);
        snprintf(path, sizeof path, "%s/session.json", dir);
        rc = argc != 3 && !(argc == 5 && !strcmp(argv[resume == 1 ? 3 : 1], "--jobs")) ? 2 : 0;
        if (rc)
            fprintf(stderr, "papertrader walk-forward: --resume DIR takes its inputs and flags "
                            "from DIR/session.json (only --jobs may be added)\n");
        if (!rc && !(rc = session_dir_lock("walk-forward", dir, 1, &lock_fd)))
            rc = opt_ctx_from_doc(&x, path, "walk-forward");
        long jobs = 0;
        for (int i = 1; i + 1 < argc; i++)
            if (!strcmp(argv[i], "--jobs"))
                jobs = strtol(argv[i + 1], NULL, 10);
        if (jobs >= 1 && jobs <= OPT_MAX_JOBS)
            x.cli.jobs = (int)jobs;
    } else {
        rc = opt_ctx_prepare(&x, argc, argv);
        if (x.cli.out)
            snprintf(dir, sizeof dir, "%s", x.cli.out);
        else
            session_default_dir(dir, sizeof dir, "walk-forward");
    }
    if (!rc && (!x.cli.train_ms || !x.cli.test_ms)) {
        fprintf(stderr, "papertrader walk-forward: --train DUR and --test DUR are required\n");
        rc = 2;
    }
    w.dir = dir;
    if (!rc)
        rc = opt_data_load(x.setup, &w.data);
    int64_t t0 = 0, t1 = 0, bar = 0;
    if (!rc) {
        opt_data_span(w.data, &t0, &t1, &bar);
        rc = make_folds(&x.cli, t0, t1 + bar, &folds, &n_folds);
    }
    snprintf(path, sizeof path, "%s/session.json", dir);
    if (!rc && !resume && !access(path, F_OK)) {
        fprintf(stderr, "papertrader walk-forward: %s already holds a run (walk-forward --resume "
                        "%s carries it on)\n", dir, dir);
        rc = 2;
    }
    if (!rc && !resume && !(rc = session_dir_lock("walk-forward", dir, 1, &lock_fd))) {
        cJSON *j = opt_ctx_doc(&x, "walk-forward");
        rc = session_write_json(dir, "session.json", j) ? 1 : 0;
        cJSON_Delete(j);
    }
    w.cash = x.setup ? x.setup->cfg.cash : 0;
    w.o.cap = w.data ? opt_data_candles(w.data) + 1 : 0;
    if (!rc && (!(w.o.ret = malloc(w.o.cap * sizeof *w.o.ret)) ||
                !(w.o.eq = malloc(w.o.cap * sizeof *w.o.eq)) ||
                !(w.o.ts = malloc(w.o.cap * sizeof *w.o.ts))))
        rc = 1;
    int opened = !rc;
    if (!rc)
        rc = open_outputs(&w);
    for (int k = 0; !rc && k < n_folds; k++)
        rc = run_fold(&w, k, &folds[k]);
    if (opened)
        rc |= close_outputs(&w, rc);
    if (!rc && w.n_ok == 0)
        fprintf(stderr, "papertrader walk-forward: no fold had a set with a defined objective\n");
    if (!rc)
        rc = summary(&w, n_folds, bar);
    if (rc == 2)
        fprintf(stderr, "(papertrader walk-forward --help lists the options)\n");
    free(folds);
    free(w.o.ret), free(w.o.eq), free(w.o.ts);
    opt_data_free(w.data);
    session_unlock(lock_fd);
    opt_ctx_free(&x);
    return rc;
}
