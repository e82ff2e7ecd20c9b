/* papertrader optimize: a parameter search over the backtest's engine
 * (docs/optimize.md). This file parses the command line, records the run
 * (session.json) and wires the parts of optimize.h together. */
#include "commands.h"
#include "optimize.h"
#include "session.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <sched.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SESSION_MAX (64u << 20)

static void usage(FILE *out)
{
    fprintf(out,
            "usage: papertrader optimize --strategy NAME|PATH [--grid K=FROM:TO:STEP | --grid "
            "K=V1,V2,...]...\n"
            "           [--random N --seed S] [--objective sharpe|sortino|calmar|return|"
            "profit_factor|expectancy]\n"
            "           [--min-trades N] [--jobs N] [--out DIR] [backtest engine flags] FILE...\n"
            "       papertrader optimize --resume DIR [--jobs N]\n"
            "       papertrader optimize plan ... --tasks N --out DIR\n"
            "       papertrader optimize run DIR [--task-index I] [--jobs N]\n"
            "       papertrader optimize reduce DIR\n"
            "  Runs the backtest's engine once per parameter set over candles read once, on\n"
            "  --jobs worker processes (default: the number of cores). Writes DIR/results.csv\n"
            "  (parameters, then every metric of report.json), best.json, session.json and\n"
            "  report.html; prints the top 10 and the best set's backtest command.\n"
            "  Combinations the strategy refuses (sma_cross fast >= slow) are skipped and counted.\n"
            "  --random N --seed S   N distinct combinations of the grid drawn with seed S\n"
            "  --objective X         ranking (default sharpe); --min-trades N: fewer trades rank last\n"
            "  --resume DIR          carry on a killed run; ends with the same results.csv\n"
            "  Every flag of `papertrader backtest` that shapes the result applies to each run\n"
            "  (--param K=V fixes a parameter). Cluster use (plan/run/reduce): docs/optimize.md.\n"
            "exit: 0 ok, 1 runtime failure, 2 bad options, 3 input missing or changed\n");
}

/* ------------------------------------------------------------ own flags */

enum { F_GRID, F_RANDOM, F_SEED, F_OBJECTIVE, F_MIN_TRADES, F_JOBS, F_OUT, F_RESUME, F_TASKS,
       F_TASK_INDEX, F_TRAIN, F_TESTW, F_STEP, F_ANCHORED };
static const struct {
    const char *name;
    int recorded; /* shapes the results: kept in session.json / plan.json */
    int value;    /* takes a value */
} own_flags[] = {
    {"grid", 1, 1},  {"random", 1, 1}, {"seed", 1, 1},   {"objective", 1, 1}, {"min-trades", 1, 1},
    {"jobs", 0, 1},  {"out", 0, 1},    {"resume", 0, 1}, {"tasks", 0, 1},     {"task-index", 0, 1},
    {"train", 1, 1}, {"test", 1, 1},   {"step", 1, 1},   {"anchored", 1, 0},
};
#define N_OWN ((int)(sizeof own_flags / sizeof own_flags[0]))

static int count_flag(const char *flag, const char *v, uint64_t lo, uint64_t hi, uint64_t *out)
{
    int64_t n;
    const char *why = "out of range";
    if (pt_parse_int64(v, strlen(v), &n, &why) || n < (int64_t)lo || (uint64_t)n > hi) {
        fprintf(stderr, "papertrader optimize: --%s '%s': %s (allowed %llu..%llu)\n", flag, v, why,
                (unsigned long long)lo, (unsigned long long)hi);
        return 2;
    }
    *out = (uint64_t)n;
    return 0;
}

static int own_value(opt_cli *c, int f, const char *v)
{
    uint64_t n = 0;
    int rc = 0;
    switch (f) {
    case F_GRID:
        if (c->n_grids >= SIM_MAX_PARAMS) {
            fprintf(stderr, "papertrader optimize: at most %d --grid\n", SIM_MAX_PARAMS);
            return 2;
        }
        c->grids[c->n_grids++] = v;
        break;
    case F_RANDOM: rc = count_flag("random", v, 1, OPT_MAX_COMBOS, &c->random_n); break;
    case F_SEED: rc = count_flag("seed", v, 0, INT64_MAX, &c->seed); break;
    case F_OBJECTIVE:
        if ((c->objective = opt_objective_parse(v)) < 0) {
            fprintf(stderr, "papertrader optimize: --objective '%s': want sharpe, sortino, calmar, "
                            "return, profit_factor or expectancy\n", v);
            rc = 2;
        }
        break;
    case F_MIN_TRADES: rc = count_flag("min-trades", v, 0, INT64_MAX, &c->min_trades); break;
    case F_JOBS:
        rc = count_flag("jobs", v, 1, OPT_MAX_JOBS, &n);
        c->jobs = (int)n;
        break;
    case F_OUT: c->out = v; break;
    case F_RESUME: c->resume = v; break;
    case F_TASKS: rc = count_flag("tasks", v, 1, 100000, &c->tasks); break;
    case F_TASK_INDEX:
        rc = count_flag("task-index", v, 0, 99999, &n);
        c->task_index = (long)n;
        break;
    case F_TRAIN:
    case F_TESTW:
    case F_STEP: {
        int64_t *ms = f == F_TRAIN ? &c->train_ms : f == F_TESTW ? &c->test_ms : &c->step_ms;
        if (pt_interval_parse(v, ms)) {
            fprintf(stderr, "papertrader walk-forward: --%s '%s': want a duration like 30d, 12h, "
                            "2w\n", own_flags[f].name, v);
            rc = 2;
        }
        break;
    }
    case F_ANCHORED: c->anchored = 1; break;
    }
    return rc;
}

static int own_flag(const char *a, const char **val)
{
    if (strncmp(a, "--", 2))
        return -1;
    size_t n = strcspn(a + 2, "=");
    for (int f = 0; f < N_OWN; f++)
        if (strlen(own_flags[f].name) == n && !strncmp(a + 2, own_flags[f].name, n)) {
            *val = a[2 + n] == '=' ? a + 3 + n : NULL;
            return f;
        }
    return -1;
}

/* Own flags out of argv; the rest (argv[0] first) is the backtest's. */
int opt_default_jobs(void)
{ /* the CPUs this process may run on (taskset, cgroup cpusets, Slurm's binding) */
    cpu_set_t set;
    long n = sched_getaffinity(0, sizeof set, &set) ? sysconf(_SC_NPROCESSORS_ONLN) : CPU_COUNT(&set);
    return n < 1 ? 1 : n > OPT_MAX_JOBS ? OPT_MAX_JOBS : (int)n;
}

static int split_args(opt_cli *c, int argc, char **argv)
{
    c->jobs = opt_default_jobs();
    c->task_index = -1;
    if (argc > OPT_MAX_ARGS - 1) {
        fprintf(stderr, "papertrader optimize: more than %d arguments\n", OPT_MAX_ARGS - 1);
        return 2;
    }
    c->rest[c->n_rest++] = argv[0];
    int files = 0;
    for (int i = 1; i < argc; i++) {
        const char *val = NULL;
        int f = files ? -1 : own_flag(argv[i], &val);
        files |= !strcmp(argv[i], "--");
        if (f < 0) {
            c->rest[c->n_rest++] = argv[i];
            continue;
        }
        if (!own_flags[f].value)
            val = NULL;
        else if (!val && (val = i + 1 < argc ? argv[++i] : NULL) == NULL) {
            fprintf(stderr, "papertrader optimize: --%s wants a value\n", own_flags[f].name);
            return 2;
        }
        int rc = own_value(c, f, val);
        if (rc)
            return rc;
        if (own_flags[f].recorded) {
            static char names[N_OWN][24];
            snprintf(names[f], sizeof names[f], "--%s", own_flags[f].name);
            c->rec[c->n_rec++] = names[f];
            if (val)
                c->rec[c->n_rec++] = val;
        }
    }
    return 0;
}

/* ------------------------------------------------------------ context */

static int hash_file(const char *path, uint64_t *h, uint64_t *bytes)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "papertrader optimize: %s: %s\n", path, strerror(errno));
        return 3;
    }
    static char chunk[1 << 16];
    size_t n;
    *bytes = 0;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        *h = opt_hash(*h, chunk, n);
        *bytes += n;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad)
        fprintf(stderr, "papertrader optimize: %s: read error\n", path);
    return bad ? 3 : 0;
}

/* The hash covers the recorded arguments and every input byte. */
static int hash_inputs(opt_ctx *x)
{
    uint64_t h = OPT_HASH_SEED;
    for (int i = 0; i < x->cli.n_rec; i++)
        h = opt_hash(h, x->cli.rec[i], strlen(x->cli.rec[i]) + 1);
    for (int i = 0; i < x->setup->n_args; i++)
        h = opt_hash(h, x->setup->args[i], strlen(x->setup->args[i]) + 1);
    x->inputs = cJSON_CreateArray();
    for (int i = 0; i < x->setup->nfiles; i++) {
        uint64_t fh = OPT_HASH_SEED, bytes;
        int rc = hash_file(x->files_abs[i], &fh, &bytes);
        if (rc)
            return rc;
        char hex[17];
        snprintf(hex, sizeof hex, "%016llx", (unsigned long long)fh);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "path", x->files_abs[i]);
        cJSON_AddNumberToObject(o, "bytes", (double)bytes);
        cJSON_AddStringToObject(o, "hash", hex);
        cJSON_AddItemToArray(x->inputs, o);
        h = opt_hash(h, &fh, sizeof fh);
    }
    snprintf(x->hash, sizeof x->hash, "%016llx", (unsigned long long)h);
    return 0;
}

static int has_strategy_flag(const session_backtest_config *s)
{
    for (int i = 0; i < s->n_args; i++)
        if (!strcmp(s->args[i], "--strategy"))
            return 1;
    return 0;
}

int opt_ctx_prepare(opt_ctx *x, int argc, char **argv)
{
    int rc = split_args(&x->cli, argc, argv);
    if (!rc)
        rc = app_backtest_parse(x->cli.n_rest, x->cli.rest, &x->setup);
    if (rc)
        return rc;
    session_backtest_config *s = x->setup;
    if (!has_strategy_flag(s)) {
        fprintf(stderr, "papertrader optimize: --strategy NAME|PATH is required\n");
        return 2;
    }
    if (s->quiet)
        pt_log_set_stderr(0);
    if (sim_strategy_load(s->strategy, &s->cfg.strategy, &x->dl)) {
        fprintf(stderr, "papertrader optimize: unknown strategy '%s' (papertrader strategies lists "
                        "them)\n", s->strategy);
        return 2;
    }
    rc = opt_space_build(&x->sp, s->cfg.strategy, s->params, s->n_params, x->cli.grids,
                         x->cli.n_grids, x->cli.random_n, x->cli.seed);
    if (rc)
        return rc;
    for (int i = 0; i < s->nfiles; i++)
        if (!(x->files_abs[i] = realpath(s->files[i], NULL))) {
            fprintf(stderr, "papertrader optimize: %s: %s\n", s->files[i], strerror(errno));
            return 3;
        }
    return hash_inputs(x);
}

cJSON *opt_ctx_doc(const opt_ctx *x, const char *command)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "command", command);
    cJSON_AddStringToObject(j, "version", PT_VERSION);
    cJSON *a = cJSON_AddArrayToObject(j, "args");
    for (int i = 0; i < x->cli.n_rec; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(x->cli.rec[i]));
    for (int i = 0; i < x->setup->n_args; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(x->setup->args[i]));
    cJSON *f = cJSON_AddArrayToObject(j, "files");
    for (int i = 0; i < x->setup->nfiles; i++)
        cJSON_AddItemToArray(f, cJSON_CreateString(x->files_abs[i]));
    cJSON_AddStringToObject(j, "strategy", x->sp.ops->name);
    cJSON_AddStringToObject(j, "objective", opt_objective_name(x->cli.objective));
    cJSON_AddNumberToObject(j, "min_trades", (double)x->cli.min_trades);
    cJSON_AddNumberToObject(j, "combinations", (double)x->sp.combos);
    cJSON_AddNumberToObject(j, "evaluations", (double)x->sp.n_eval);
    cJSON_AddNumberToObject(j, "skipped", (double)x->sp.skipped);
    cJSON_AddStringToObject(j, "hash", x->hash);
    cJSON_AddItemToObject(j, "inputs", cJSON_Duplicate(x->inputs, 1));
    return j;
}

/* Which input changed (for the refusal). */
static void name_changed(const cJSON *was, const cJSON *now)
{
    const cJSON *a, *b = now ? now->child : NULL;
    cJSON_ArrayForEach(a, was) {
        const cJSON *ha = cJSON_GetObjectItemCaseSensitive(a, "hash");
        const cJSON *hb = b ? cJSON_GetObjectItemCaseSensitive(b, "hash") : NULL;
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(a, "path");
        if (cJSON_IsString(p) && (!cJSON_IsString(ha) || !cJSON_IsString(hb) ||
                                  strcmp(ha->valuestring, hb->valuestring)))
            fprintf(stderr, "papertrader optimize: %s changed since the run was recorded\n",
                    p->valuestring);
        b = b ? b->next : NULL;
    }
}

int opt_ctx_from_doc(opt_ctx *x, const char *path, const char *command)
{
    char *text = opt_read_file(path, SESSION_MAX, NULL);
    if (!text) {
        fprintf(stderr, "papertrader optimize: cannot read %s: %s\n", path, strerror(errno));
        return 2;
    }
    x->doc = cJSON_Parse(text);
    free(text);
    const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(x->doc, "command");
    const cJSON *args = cJSON_GetObjectItemCaseSensitive(x->doc, "args");
    const cJSON *files = cJSON_GetObjectItemCaseSensitive(x->doc, "files");
    const cJSON *hash = cJSON_GetObjectItemCaseSensitive(x->doc, "hash");
    int na = cJSON_GetArraySize(args), nf = cJSON_GetArraySize(files), k = 0;
    if (!cJSON_IsString(cmd) || strcmp(cmd->valuestring, command) || !cJSON_IsString(hash) ||
        na + nf + 1 >= OPT_MAX_ARGS || !(x->argv_mem = calloc((size_t)(na + nf + 2), sizeof(char *)))) {
        fprintf(stderr, "papertrader optimize: %s: not an optimize %s record\n", path, command);
        return 2;
    }
    x->argv_mem[k++] = (char *)command;
    const cJSON *it;
    cJSON_ArrayForEach(it, args) {
        x->argv_mem[k++] = cJSON_IsString(it) ? it->valuestring : "";
    }
    cJSON_ArrayForEach(it, files) {
        x->argv_mem[k++] = cJSON_IsString(it) ? it->valuestring : "";
    }
    int rc = opt_ctx_prepare(x, k, x->argv_mem);
    if (!rc && strcmp(hash->valuestring, x->hash)) {
        name_changed(cJSON_GetObjectItemCaseSensitive(x->doc, "inputs"), x->inputs);
        fprintf(stderr, "papertrader optimize: %s: the inputs differ from when it was written; "
                        "refusing to mix results (start a new run)\n", path);
        rc = 3;
    }
    return rc;
}

void opt_ctx_free(opt_ctx *x)
{
    opt_space_free(&x->sp);
    app_backtest_free(x->setup);
    sim_strategy_unload(x->dl);
    for (int i = 0; i < 64; i++)
        free(x->files_abs[i]);
    cJSON_Delete(x->inputs);
    cJSON_Delete(x->doc);
    free(x->argv_mem);
}

/* ------------------------------------------------------------ main */

/* New run: refuse a folder that holds one; record session.json first. */
static int start_run(const opt_ctx *x, const char *dir)
{
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/session.json", dir);
    if (!access(path, F_OK)) {
        fprintf(stderr, "papertrader optimize: %s already holds a run (optimize --resume %s "
                        "carries it on)\n", dir, dir);
        return 2;
    }
    cJSON *j = opt_ctx_doc(x, "optimize");
    int rc = session_write_json(dir, "session.json", j) ? 1 : 0;
    cJSON_Delete(j);
    return rc;
}

int cmd_optimize(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "plan"))
        return opt_cluster_plan(argc - 1, argv + 1);
    if (argc > 1 && !strcmp(argv[1], "run"))
        return opt_cluster_run(argc - 1, argv + 1);
    if (argc > 1 && !strcmp(argv[1], "reduce"))
        return opt_cluster_reduce(argc - 1, argv + 1);
    if (app_wants_help(argc, argv)) {
        usage(stdout);
        return 0;
    }
    opt_ctx x = {0};
    opt_cli first = {0};
    char dir[PATH_MAX];
    int lock_fd = -1, rc = split_args(&first, argc, argv);
    if (!rc && first.resume) {
        char path[PATH_MAX + 16];
        snprintf(dir, sizeof dir, "%s", first.resume);
        snprintf(path, sizeof path, "%s/session.json", dir);
        if (first.n_rest > 1 || first.n_rec) {
            fprintf(stderr, "papertrader optimize: --resume DIR takes its inputs and flags from "
                            "DIR/session.json (only --jobs may be added)\n");
            rc = 2;
        }
        if (!rc && !(rc = session_dir_lock("optimize", dir, 1, &lock_fd)))
            rc = opt_ctx_from_doc(&x, path, "optimize");
        x.cli.jobs = first.jobs;
    } else if (!rc) {
        rc = opt_ctx_prepare(&x, argc, argv);
        if (!rc && x.cli.out)
            snprintf(dir, sizeof dir, "%s", x.cli.out);
        else if (!rc)
            session_default_dir(dir, sizeof dir, "optimize");
        if (!rc && !(rc = session_dir_lock("optimize", dir, 1, &lock_fd)))
            rc = start_run(&x, dir);
    }
    opt_data *data = NULL;
    if (!rc)
        rc = opt_data_load(x.setup, &data);
    if (!rc && !x.setup->quiet) {
        fprintf(stderr, "optimize: %llu evaluations (%llu skipped by %s's constraints) over %llu "
                        "candles on %d workers\n", (unsigned long long)x.sp.n_eval,
                (unsigned long long)x.sp.skipped, x.sp.ops->name,
                (unsigned long long)opt_data_candles(data), x.cli.jobs);
    }
    if (!rc) {
        opt_job j = {&x.sp, data, &x.setup->cfg, x.setup->controls, NULL, 0, x.sp.n_eval, x.cli.jobs,
                     dir, ".journal.csv", "results.csv", isatty(2) && !x.setup->quiet};
        rc = opt_pool_run(&j);
    }
    opt_data_free(data);
    if (!rc) {
        opt_finish f = {&x.sp, (opt_objective)x.cli.objective, x.cli.min_trades, dir, x.setup,
                        (const char *const *)x.files_abs};
        rc = opt_finish_run(&f);
    }
    if (rc == 2)
        fprintf(stderr, "(papertrader optimize --help lists the options)\n");
    session_unlock(lock_fd);
    opt_ctx_free(&x);
    return rc;
}
