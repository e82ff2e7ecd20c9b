/* optimize: `papertrader optimize` (app/cmd_optimize.c), `papertrader
 * walk-forward` (app/cmd_walkforward.c) and their parts.
 *
 *   opt_space.c   --grid / --random: the parameter space and its canonical
 *                 order (first --grid outermost), bad input refused up front
 *   opt_eval.c    the candles of a run, read once, and one evaluation: the
 *                 backtest's engine and metrics over them, as a CSV row
 *   opt_pool.c    bounded fork()ed workers, an fdatasync'ed journal of
 *                 finished rows, the merge into canonical order
 *   opt_out.c     results.csv -> ranking, best.json, stdout top 10
 *   opt_html.c    report.html (ranked table, heatmap, sensitivity)
 *   opt_cluster.c `optimize plan|run|reduce` (docs/optimize.md)
 *   opt_util.c    hash, whole-file read, crash-safe file replacement
 *   cmd_walkforward.c `papertrader walk-forward` over the same parts
 *
 * Columns of results.csv and the rules: docs/optimize.md.
 * Ownership is stated per function; *_free(NULL) is a no-op. */
#ifndef PT_APP_OPTIMIZE_H
#define PT_APP_OPTIMIZE_H

#include "session.h"
#include "sim.h"

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define OPT_MAX_COMBOS 1000000u /* a grid larger than this needs --random */
#define OPT_MAX_VALUES 100000   /* values of one --grid axis */
#define OPT_MAX_JOBS 256
#define OPT_MAX_CANDLES 50000000u
#define OPT_MEMO_BYTES (512u << 20) /* per worker: recorded indicator series (sim_memo_enable) */

/* ------------------------------------------------------------ space */

typedef struct opt_axis {
    int param;       /* index into the strategy's params */
    int n;
    double *v;       /* n values, in the order given */
} opt_axis;

typedef struct opt_space {
    const sim_strategy_ops *ops;
    double base[SIM_MAX_PARAMS]; /* defaults + --param */
    int n_axes;
    opt_axis ax[SIM_MAX_PARAMS];
    uint64_t combos;             /* product of the axes' sizes */
    uint64_t n_eval;             /* evaluations after --random and constraints */
    uint64_t *combo;             /* n_eval combination numbers, ascending */
    uint64_t skipped;            /* combinations the strategy's create() refused */
} opt_space;

/* grids: the --grid texts; random_n 0 = the whole grid. Checks everything
 * (unknown or repeated parameter, --param clash, empty or inverted range,
 * step <= 0, values outside the parameter's range, > OPT_MAX_COMBOS without
 * --random) and prints the reason naming the flag. Returns 0 or exit 2. */
int opt_space_build(opt_space *sp, const sim_strategy_ops *ops, const char *const *params,
                    int n_params, const char *const *grids, int n_grids, uint64_t random_n,
                    uint64_t seed);
/* The parameter values of evaluation i (0 <= i < n_eval). */
void opt_space_values(const opt_space *sp, uint64_t i, double *values);
void opt_space_free(opt_space *sp);

/* ------------------------------------------------------------ evaluation */

typedef struct opt_data opt_data;

/* Reads the inputs of s once (the backtest's reader, merge and --order) into
 * memory. *out is the caller's (opt_data_free). Returns 0 or exit 3. */
int opt_data_load(const session_backtest_config *s, opt_data **out);
uint64_t opt_data_candles(const opt_data *d);
void opt_data_free(opt_data *d);

/* Candles [from, to) of d as their own backtest (walk-forward folds): the
 * engine checks quality itself from a fresh checker, as `backtest` on just
 * those rows would. The whole data (from 0, to n) replays the recorded
 * verdicts instead. tap, when set, also sees every fill and portfolio row. */
typedef struct opt_tap {
    void (*fill)(void *ud, const pf_fill *f, const pf_fill_result *r);
    void (*row)(void *ud, const pf_snapshot *s);
    void *ud;
} opt_tap;
typedef struct opt_range {
    uint64_t from, to;
    const opt_tap *tap; /* NULL: none */
} opt_range;

/* First candle index with ts_ms >= ts (n if none); the data's time span. */
uint64_t opt_data_index_at(const opt_data *d, int64_t ts);
void opt_data_span(const opt_data *d, int64_t *first_ts, int64_t *last_ts, int64_t *bar_ms);

/* One evaluation: the engine of `backtest` with cfg (strategy set) and
 * values over d (range NULL: all of it). *header and *row (malloc'd, the
 * caller frees; no newline) are the metric columns of report.json
 * flattened (docs/optimize.md). controls: the --controls file or NULL.
 * PT_OK or an error (logged). */
int opt_eval_run(const opt_data *d, const sim_engine_config *cfg, const double *values,
                 const char *controls, const opt_range *range, char **header, char **row);

/* ------------------------------------------------------------ pool */

/* Evaluates evaluations [first, first + count) of sp on `jobs` workers.
 * Finished rows go to dir/journal_name ("K,row" lines, appended and
 * fdatasync'ed, a torn last line dropped on the next open); rows already
 * there are not redone. Then writes dir/out_name (header + rows in
 * canonical order) atomically. Returns 0 or an exit code (printed). */
typedef struct opt_job {
    const opt_space *sp;
    const opt_data *data;
    const sim_engine_config *cfg; /* strategy set */
    const char *controls;
    const opt_range *range;       /* NULL: the whole data */
    uint64_t first, count;
    int jobs;
    const char *dir, *journal_name, *out_name;
    int progress;                 /* 1: a progress line on stderr */
} opt_job;

int opt_pool_run(const opt_job *j);

/* ------------------------------------------------------------ outputs */

typedef enum opt_objective {
    OPT_OBJ_SHARPE = 0, OPT_OBJ_SORTINO, OPT_OBJ_CALMAR, OPT_OBJ_RETURN,
    OPT_OBJ_PROFIT_FACTOR, OPT_OBJ_EXPECTANCY, OPT_OBJ__COUNT
} opt_objective;

/* "sharpe" ... -> OPT_OBJ_*; -1 if unknown. */
int opt_objective_parse(const char *name);
const char *opt_objective_name(opt_objective o);

typedef struct opt_finish {
    const opt_space *sp;
    opt_objective objective;
    uint64_t min_trades;
    const char *dir;              /* holds results.csv; best.json and report.html go there */
    const session_backtest_config *setup;  /* for the best set's command line */
    const char *const *files_abs; /* setup->nfiles absolute paths */
} opt_finish;

/* Reads dir/results.csv, ranks it, writes best.json and report.html, prints
 * the top 10 and the best set's `papertrader backtest` command. 0 or exit. */
int opt_finish_run(const opt_finish *f);

/* Per row of a results.csv-format file: the objective (NAN when not
 * eligible) and the column col (NAN when absent); *best the best row
 * (UINT64_MAX: none). *obj and *colv are the caller's (free). 0 or 1. */
int opt_rank_file(const char *path, opt_objective o, uint64_t min_trades, const char *col,
                  double **obj, double **colv, uint64_t *n, uint64_t *best);

/* report.html from the ranked rows (opt_out.c hands them over). */
#define OPT_LINES_KEPT 200 /* ranked rows whose text is kept (table, best, top 10) */
typedef struct opt_rank_row {
    uint64_t i;          /* evaluation number */
    double obj;          /* NAN when not eligible */
    double col;          /* opt_rank_file's extra column */
    off_t off;           /* of the row in results.csv */
    char *line;          /* the row's text for the best OPT_LINES_KEPT ranks, else NULL
                            (owned by the caller): memory stays flat in the rows */
} opt_rank_row;
int opt_html_write(const char *dir, const opt_finish *f, const char *header,
                   const opt_rank_row *rows, uint64_t n, const uint64_t *rank);

/* ------------------------------------------------------------ context */

#define OPT_MAX_ARGS 1024

/* optimize's own flags (everything else goes to the backtest's parser). */
typedef struct opt_cli {
    const char *grids[SIM_MAX_PARAMS + 1];
    int n_grids;
    uint64_t random_n, seed;
    int objective, jobs;
    uint64_t min_trades, tasks;
    long task_index;                 /* -1 = not given */
    int64_t train_ms, test_ms, step_ms; /* walk-forward; 0 = not given */
    int anchored;
    const char *out, *resume;
    char *rest[OPT_MAX_ARGS];        /* "optimize" + the backtest's flags and FILE... */
    int n_rest;
    const char *rec[OPT_MAX_ARGS];   /* result-shaping own flags and values, as given */
    int n_rec;
} opt_cli;

/* One parsed run: flags, engine setup, strategy, space, inputs' hash. */
typedef struct opt_ctx {
    opt_cli cli;
    session_backtest_config *setup;
    void *dl;                        /* strategy's dlopen handle */
    opt_space sp;
    char *files_abs[64];
    char hash[17];                   /* hex FNV-1a of args and input bytes */
    struct cJSON *inputs;            /* [{"path","bytes","hash"}] */
    struct cJSON *doc;               /* session.json / plan.json the argv came from */
    char **argv_mem;
} opt_ctx;

/* argv[0] is "optimize"/"plan"/...: own flags, the backtest's flags, FILE...
 * Everything is checked and the inputs hashed before any work. 0 or exit. */
int opt_ctx_prepare(opt_ctx *x, int argc, char **argv);
/* The same from a recorded document (session.json / plan.json "args" and
 * "files"); refuses (exit 3) when the inputs' hash differs from "hash". */
int opt_ctx_from_doc(opt_ctx *x, const char *path, const char *command);
/* The document's common part: command, version, args, files, hash, inputs. */
struct cJSON *opt_ctx_doc(const opt_ctx *x, const char *command);
void opt_ctx_free(opt_ctx *x);
/* --jobs default: the CPUs this process may run on (sched_getaffinity). */
int opt_default_jobs(void);

/* One field of a results row by column name (NAN if absent or empty). */
double opt_csv_field(const char *header, const char *row, const char *name);

/* optimize plan | run | reduce (opt_cluster.c). argv[0] is the verb. */
int opt_cluster_plan(int argc, char **argv);
int opt_cluster_run(int argc, char **argv);
int opt_cluster_reduce(int argc, char **argv);

/* walk-forward's report.html: folds.csv's text, walkforward.json's
 * document, the stitched equity (n points, decimated on the page). */
int opt_html_walkforward(const char *dir, const char *folds_csv, const struct cJSON *summary,
                         const double *equity, const int64_t *ts, uint64_t n);

/* ------------------------------------------------------------ helpers */

/* dir/name written crash-safe: _begin opens dir/.name.tmp (at->f); _end
 * with failed == 0 flushes, fsyncs, renames and fsyncs dir, else removes
 * the temp file. Both return 0 or 1 (printed with the path). */
typedef struct opt_atomic {
    FILE *f;
    char tmp[4096], dst[4096], dir[4096];
} opt_atomic;
int opt_atomic_begin(opt_atomic *at, const char *dir, const char *name);
int opt_atomic_end(opt_atomic *at, int failed);

/* FNV-1a 64 over bytes, chained from h (start with OPT_HASH_SEED). */
#define OPT_HASH_SEED 1469598103934665603ull
uint64_t opt_hash(uint64_t h, const void *p, size_t n);
/* Whole file into a NUL-terminated malloc'd buffer (bounded by cap);
 * NULL with errno on failure. */
char *opt_read_file(const char *path, size_t cap, size_t *len);

#endif
