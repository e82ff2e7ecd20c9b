/* opt_cluster: `optimize plan | run | reduce`, the same search split into
 * tasks that an existing scheduler runs (a Slurm job array, a Kubernetes
 * Indexed Job, an AWS Batch array job) on a shared folder. No cluster code
 * of our own: a task is one process that reads DIR/plan.json and writes
 * DIR/tasks/I.csv atomically; reduce checks completeness and concatenates,
 * giving the results.csv of one machine (docs/optimize.md). */
#include "optimize.h"
#include "session.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ERR(code, ...) (fprintf(stderr, "papertrader optimize: " __VA_ARGS__), fputc('\n', stderr), code)

static void task_range(uint64_t n, uint64_t tasks, uint64_t i, uint64_t *first, uint64_t *count)
{
    *first = i * n / tasks;
    *count = (i + 1) * n / tasks - *first;
}

int opt_cluster_plan(int argc, char **argv)
{
    opt_ctx x = {0};
    int rc = opt_ctx_prepare(&x, argc, argv);
    if (!rc && (!x.cli.tasks || !x.cli.out))
        rc = ERR(2, "plan wants --tasks N and --out DIR");
    if (!rc && x.cli.tasks > x.sp.n_eval)
        rc = ERR(2, "--tasks %llu: more than the %llu evaluations", (unsigned long long)x.cli.tasks,
                 (unsigned long long)x.sp.n_eval);
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/plan.json", x.cli.out ? x.cli.out : ".");
    if (!rc && !access(path, F_OK))
        rc = ERR(2, "%s exists: plan into a new folder", path);
    if (!rc && pt_mkdirs(x.cli.out))
        rc = 1;
    if (!rc) {
        cJSON *j = opt_ctx_doc(&x, "optimize-plan");
        cJSON_AddNumberToObject(j, "tasks", (double)x.cli.tasks);
        cJSON *tl = cJSON_AddArrayToObject(j, "task_list");
        for (uint64_t i = 0; i < x.cli.tasks; i++) {
            uint64_t first, count;
            task_range(x.sp.n_eval, x.cli.tasks, i, &first, &count);
            cJSON *t = cJSON_CreateObject();
            cJSON_AddNumberToObject(t, "index", (double)i);
            cJSON_AddNumberToObject(t, "first", (double)first);
            cJSON_AddNumberToObject(t, "count", (double)count);
            cJSON_AddItemToArray(tl, t);
        }
        cJSON *pn = cJSON_AddArrayToObject(j, "params");
        for (int p = 0; p < x.sp.ops->n_params; p++)
            cJSON_AddItemToArray(pn, cJSON_CreateString(x.sp.ops->params[p].name));
        cJSON *ev = cJSON_AddArrayToObject(j, "evaluations");
        for (uint64_t i = 0; i < x.sp.n_eval; i++) {
            double v[SIM_MAX_PARAMS];
            opt_space_values(&x.sp, i, v);
            cJSON_AddItemToArray(ev, cJSON_CreateDoubleArray(v, x.sp.ops->n_params));
        }
        rc = session_write_json(x.cli.out, "plan.json", j) ? 1 : 0;
        cJSON_Delete(j);
    }
    if (!rc)
        printf("plan: %llu evaluations in %llu tasks (%llu skipped by %s's constraints): %s\n"
               "run: papertrader optimize run %s --task-index I   (I = 0..%llu)\n",
               (unsigned long long)x.sp.n_eval, (unsigned long long)x.cli.tasks,
               (unsigned long long)x.sp.skipped, x.sp.ops->name, path, x.cli.out,
               (unsigned long long)x.cli.tasks - 1);
    opt_ctx_free(&x);
    return rc;
}

/* DIR and the flags after it: `run DIR [--task-index I] [--jobs N]`. */
static int verb_args(int argc, char **argv, const char **dir, opt_cli *c)
{
    c->jobs = opt_default_jobs();
    c->task_index = -1;
    *dir = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        const char *why = "out of range";
        int64_t t;
        if ((!strcmp(a, "--task-index") || !strcmp(a, "--jobs")) && v) {
            if (pt_parse_int64(v, strlen(v), &t, &why) || t < 0 || t > 99999 ||
                (a[2] == 'j' && (t < 1 || t > OPT_MAX_JOBS)))
                return ERR(2, "%s '%s': %s", a, v, why);
            if (a[2] == 'j')
                c->jobs = (int)t;
            else
                c->task_index = (long)t;
            i++;
        } else if (a[0] != '-' && !*dir) {
            *dir = a;
        } else {
            return ERR(2, "%s: unknown or incomplete option '%s' (run DIR [--task-index I] "
                          "[--jobs N]; reduce DIR)", argv[0], a);
        }
    }
    return *dir ? 0 : ERR(2, "%s wants the plan folder DIR", argv[0]);
}

/* The flag, else the array index a scheduler gives its task. */
static int task_index(const opt_cli *c, long *out)
{
    static const char *const envs[] = {"SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX",
                                       "AWS_BATCH_JOB_ARRAY_INDEX"};
    if (c->task_index >= 0) {
        *out = c->task_index;
        return 0;
    }
    for (size_t i = 0; i < sizeof envs / sizeof envs[0]; i++) {
        const char *e = getenv(envs[i]);
        int64_t v;
        if (!e)
            continue;
        if (pt_parse_int64(e, strlen(e), &v, NULL) || v < 0 || v > 99999)
            return ERR(2, "%s='%s': not a task index", envs[i], e);
        *out = (long)v;
        return 0;
    }
    return ERR(2, "run wants --task-index I (or SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX, "
                  "AWS_BATCH_JOB_ARRAY_INDEX)");
}

static int load_plan(opt_ctx *x, const char *dir, uint64_t *tasks)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/plan.json", dir);
    int rc = opt_ctx_from_doc(x, path, "optimize-plan");
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(x->doc, "tasks");
    if (!rc && (!cJSON_IsNumber(t) || t->valuedouble < 1 || t->valuedouble > (double)x->sp.n_eval))
        rc = ERR(2, "%s: \"tasks\" missing or out of range", path);
    if (!rc)
        *tasks = (uint64_t)t->valuedouble;
    return rc;
}

int opt_cluster_run(int argc, char **argv)
{
    opt_ctx x = {0};
    opt_cli c = {0};
    const char *dir;
    long idx = -1;
    uint64_t tasks = 0;
    int lock_fd = -1, rc = verb_args(argc, argv, &dir, &c);
    if (!rc)
        rc = task_index(&c, &idx);
    if (!rc)
        rc = load_plan(&x, dir, &tasks);
    if (!rc && (uint64_t)idx >= tasks)
        rc = ERR(2, "task index %ld: the plan has tasks 0..%llu", idx, (unsigned long long)tasks - 1);
    char tdir[PATH_MAX], lock[PATH_MAX + 32], name[32], done[PATH_MAX + 32];
    snprintf(tdir, sizeof tdir, "%s/tasks", dir);
    snprintf(lock, sizeof lock, "%s/.%ld", tdir, idx);
    snprintf(name, sizeof name, "%ld.csv", idx);
    snprintf(done, sizeof done, "%s/%s", tdir, name);
    if (!rc && !(rc = session_dir_lock("optimize", lock, 1, &lock_fd)) && !access(done, F_OK)) {
        printf("task %ld: already done (%s)\n", idx, done);
        goto out;
    }
    opt_data *data = NULL;
    if (!rc)
        rc = opt_data_load(x.setup, &data);
    if (!rc) {
        uint64_t first, count;
        task_range(x.sp.n_eval, tasks, (uint64_t)idx, &first, &count);
        char journal[64];
        snprintf(journal, sizeof journal, ".%ld/journal.csv", idx);
        opt_job j = {&x.sp, data, &x.setup->cfg, x.setup->controls, NULL, first, count, c.jobs,
                     tdir, journal, name, 0};
        rc = opt_pool_run(&j);
        if (!rc)
            printf("task %ld: %llu evaluations -> %s\n", idx, (unsigned long long)count, done);
    }
    opt_data_free(data);
out:
    session_unlock(lock_fd);
    opt_ctx_free(&x);
    return rc;
}

/* Missing task indexes in Slurm's --array= syntax ("3,5-7"). */
static void print_missing(const unsigned char *have, uint64_t n)
{
    fprintf(stderr, "papertrader optimize: reduce: tasks missing; rerun them with --array=");
    int comma = 0;
    for (uint64_t i = 0; i < n; i++) {
        if (have[i])
            continue;
        uint64_t j = i;
        while (j + 1 < n && !have[j + 1])
            j++;
        fprintf(stderr, comma ? ",%llu" : "%llu", (unsigned long long)i);
        if (j > i)
            fprintf(stderr, "-%llu", (unsigned long long)j);
        comma = 1;
        i = j;
    }
    fputc('\n', stderr);
}

/* tasks/0.csv, 1.csv, ... into results.csv: one header, rows in order. */
static int concat_tasks(const char *dir, uint64_t tasks)
{
    opt_atomic at;
    char *line = NULL, *header = NULL;
    size_t cap = 0;
    int rc = opt_atomic_begin(&at, dir, "results.csv");
    for (uint64_t i = 0; !rc && i < tasks; i++) {
        char path[PATH_MAX + 64];
        snprintf(path, sizeof path, "%s/tasks/%llu.csv", dir, (unsigned long long)i);
        FILE *f = fopen(path, "r");
        ssize_t n = f ? getline(&line, &cap, f) : -1;
        if (n < 1 || (header && strcmp(header, line)))
            rc = ERR(1, "%s: missing, empty or a different header", path);
        if (!rc && !header && (header = strdup(line)))
            fputs(header, at.f);
        while (!rc && (n = getline(&line, &cap, f)) > 0)
            fputs(line, at.f);
        if (f)
            fclose(f);
    }
    free(line);
    free(header);
    return opt_atomic_end(&at, rc) || rc;
}

int opt_cluster_reduce(int argc, char **argv)
{
    opt_ctx x = {0};
    opt_cli c = {0};
    const char *dir;
    uint64_t tasks = 0;
    unsigned char *have = NULL;
    int lock_fd = -1, missing = 0, rc = verb_args(argc, argv, &dir, &c);
    if (!rc)
        rc = load_plan(&x, dir, &tasks);
    if (!rc && !(have = calloc((size_t)tasks, 1)))
        rc = 1;
    for (uint64_t i = 0; !rc && i < tasks; i++) {
        char path[PATH_MAX + 64];
        snprintf(path, sizeof path, "%s/tasks/%llu.csv", dir, (unsigned long long)i);
        have[i] = !access(path, R_OK);
        missing += !have[i];
    }
    if (!rc && missing) {
        print_missing(have, tasks);
        rc = 3;
    }
    if (!rc)
        rc = session_dir_lock("optimize", dir, 1, &lock_fd);
    if (!rc)
        rc = concat_tasks(dir, tasks);
    if (!rc) {
        opt_finish f = {&x.sp, (opt_objective)x.cli.objective, x.cli.min_trades, dir, x.setup,
                        (const char *const *)x.files_abs};
        rc = opt_finish_run(&f);
    }
    free(have);
    session_unlock(lock_fd);
    opt_ctx_free(&x);
    return rc;
}
