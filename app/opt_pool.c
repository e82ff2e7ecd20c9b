/* opt_pool: evaluations on bounded fork()ed workers (optimize.h).
 *
 * The candles are in memory before the fork, so every worker shares them
 * copy-on-write. Worker w takes todo[w], todo[w + jobs], ... and sends
 * "H,<header>" once, then "K,<row>" per evaluation K through its pipe. The
 * parent alone appends the lines to the journal, fdatasync()s after every
 * batch, and at the end writes the rows in K order: the output does not
 * depend on jobs, on scheduling, or on how many resumes it took. */
#include "optimize.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define LINE_MAX_BYTES (1u << 20)

typedef struct journal {
    int fd;
    char path[PATH_MAX];
    off_t size;
    char *header;     /* "H" line's text, malloc'd */
    uint64_t *off;    /* per evaluation: 1 + offset of its line, 0 = not done */
    uint64_t first, count, done;
} journal;

/* ------------------------------------------------------------ journal */

/* One line of the journal (no newline). Returns 0, or -1 if it is not one. */
static int journal_line(journal *jn, char *line, off_t at)
{
    if (!strncmp(line, "H,", 2)) {
        if (jn->header)
            return strcmp(jn->header, line + 2) ? -1 : 0;
        return (jn->header = strdup(line + 2)) ? 0 : -1;
    }
    char *end;
    errno = 0;
    unsigned long long k = strtoull(line, &end, 10);
    if (errno || end == line || *end != ',' || !jn->header || k < jn->first ||
        k - jn->first >= jn->count)
        return -1;
    if (!jn->off[k - jn->first])
        jn->done++;
    jn->off[k - jn->first] = (uint64_t)at + 1;
    return 0;
}

/* Reads what an earlier run recorded; a torn or foreign tail is cut off
 * (those evaluations are simply done again). */
static int journal_open(journal *jn, const char *dir, const char *name)
{
    snprintf(jn->path, sizeof jn->path, "%s/%s", dir, name);
    jn->off = calloc((size_t)jn->count + 1, sizeof *jn->off);
    jn->fd = jn->off ? open(jn->path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644) : -1;
    FILE *f = jn->fd >= 0 ? fdopen(dup(jn->fd), "r") : NULL;
    if (!f) {
        fprintf(stderr, "papertrader optimize: %s: %s\n", jn->path, strerror(errno));
        return 1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    off_t at = 0;
    while ((n = getline(&line, &cap, f)) > 0 && line[n - 1] == '\n') {
        line[n - 1] = 0;
        if (journal_line(jn, line, at))
            break;
        at += n;
    }
    free(line);
    fclose(f);
    jn->size = at;
    if (ftruncate(jn->fd, at)) {
        fprintf(stderr, "papertrader optimize: %s: %s\n", jn->path, strerror(errno));
        return 1;
    }
    return 0;
}

static int journal_append(journal *jn, const char *line, size_t n)
{
    off_t at = jn->size;
    if (pt_write_all(jn->fd, line, n) || pt_write_all(jn->fd, "\n", 1)) {
        fprintf(stderr, "papertrader optimize: %s: %s\n", jn->path, strerror(errno));
        return 1;
    }
    jn->size += (off_t)n + 1;
    return journal_line(jn, (char *)line, at) ? 1 : 0;
}

static void journal_close(journal *jn)
{
    if (jn->fd >= 0)
        close(jn->fd);
    free(jn->header);
    free(jn->off);
}

/* The rows in K order, header first, into dir/name atomically (streamed:
 * memory stays flat in the number of rows). */
static int journal_emit(const journal *jn, const char *dir, const char *name)
{
    char *line = NULL;
    size_t lcap = 0;
    opt_atomic at;
    FILE *f = fopen(jn->path, "r");
    int rc = !f || opt_atomic_begin(&at, dir, name);
    if (!rc)
        fprintf(at.f, "%s\n", jn->header);
    for (uint64_t k = 0; !rc && k < jn->count; k++) {
        if (fseeko(f, (off_t)(jn->off[k] - 1), SEEK_SET) || getline(&line, &lcap, f) < 2)
            rc = 1;
        else
            fputs(strchr(line, ',') + 1, at.f);
    }
    if (rc && f)
        fprintf(stderr, "papertrader optimize: %s: cannot read the journal back\n", jn->path);
    if (f)
        fclose(f);
    free(line);
    return opt_atomic_end(&at, rc) || rc;
}

/* ------------------------------------------------------------ workers */

typedef struct worker {
    pid_t pid;
    int fd;
    char *buf;
    size_t n, cap;
} worker;

/* "K,p1,p2,...,metrics" for evaluation k. */
static int eval_line(const opt_job *j, uint64_t k, int fd, int with_header)
{
    double v[SIM_MAX_PARAMS];
    opt_space_values(j->sp, k, v);
    char *hdr = NULL, *row = NULL;
    int rc = opt_eval_run(j->data, j->cfg, v, j->controls, j->range, &hdr, &row);
    if (rc) {
        fprintf(stderr, "papertrader optimize: evaluation %llu failed: %s\n",
                (unsigned long long)k, pt_strerror(rc));
        return 1;
    }
    char *text = NULL;
    size_t n = 0;
    FILE *m = open_memstream(&text, &n);
    if (m) {
        const sim_strategy_ops *ops = j->sp->ops;
        if (with_header) {
            fputs("H", m);
            for (int i = 0; i < ops->n_params; i++)
                fprintf(m, ",%s", ops->params[i].name);
            fprintf(m, ",%s\n", hdr);
        }
        fprintf(m, "%llu", (unsigned long long)k);
        for (int i = 0; i < ops->n_params; i++) {
            char num[40];
            pt_format_double(v[i], num, sizeof num);
            fprintf(m, ",%s", num);
        }
        fprintf(m, ",%s\n", row);
        rc = fclose(m);
    }
    rc = !m || rc || pt_write_all(fd, text, n);
    free(text), free(hdr), free(row);
    return rc;
}

static void worker_main(const opt_job *j, const uint64_t *todo, uint64_t n, int w, int jobs,
                        int fd)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* a killed parent takes its workers along */
    if (getppid() == 1)
        _exit(1);
    /* hold nothing of the parent's: its flock on the folder must end with it */
    for (int f = 3; f < 1024; f++)
        if (f != fd)
            close(f);
    pt_log_set_level(PT_LOG_WARN); /* per-run risk notes would drown the terminal */
    sim_memo_enable(OPT_MEMO_BYTES); /* every run here sees the same candles */
    int first = 1;
    for (uint64_t i = (uint64_t)w; i < n; i += (uint64_t)jobs) {
        if (eval_line(j, todo[i], fd, first))
            _exit(1);
        first = 0;
    }
    _exit(0);
}

/* Complete lines out of w's buffer into the journal. */
static int drain_lines(worker *w, journal *jn)
{
    size_t start = 0;
    for (size_t i = 0; i < w->n; i++) {
        if (w->buf[i] != '\n')
            continue;
        w->buf[i] = 0;
        if (journal_append(jn, w->buf + start, i - start)) {
            fprintf(stderr, "papertrader optimize: a worker sent a row that does not fit the "
                            "journal (header differs?)\n");
            return 1;
        }
        start = i + 1;
    }
    memmove(w->buf, w->buf + start, w->n - start);
    w->n -= start;
    return 0;
}

/* 1 when the pipe is done (EOF), -1 on error, 0 to go on. */
static int worker_read(worker *w, journal *jn)
{
    if (w->cap - w->n < 65536) {
        size_t cap = w->cap ? w->cap * 2 : 131072;
        char *nb = cap <= LINE_MAX_BYTES * 2 ? realloc(w->buf, cap) : NULL;
        if (!nb)
            return -1;
        w->buf = nb, w->cap = cap;
    }
    ssize_t r = read(w->fd, w->buf + w->n, w->cap - w->n);
    if (r < 0)
        return errno == EINTR ? 0 : -1;
    if (r == 0)
        return 1;
    w->n += (size_t)r;
    return drain_lines(w, jn) ? -1 : 0;
}

static int reap(worker *ws, int n, int failed)
{
    for (int i = 0; i < n; i++) {
        if (ws[i].pid <= 0)
            continue;
        int st = 0;
        if (failed)
            kill(ws[i].pid, SIGKILL);
        while (waitpid(ws[i].pid, &st, 0) < 0 && errno == EINTR)
            ;
        if (!WIFEXITED(st) || WEXITSTATUS(st))
            failed = 1;
        if (ws[i].fd >= 0)
            close(ws[i].fd);
        free(ws[i].buf);
    }
    return failed;
}

static int spawn(const opt_job *j, const uint64_t *todo, uint64_t n, worker *ws, int jobs)
{
    fflush(stdout), fflush(stderr); /* nothing buffered gets written twice */
    for (int w = 0; w < jobs; w++) {
        int p[2];
        if (pipe2(p, O_CLOEXEC))
            return 1;
        pid_t pid = fork();
        if (pid < 0) {
            close(p[0]), close(p[1]);
            return 1;
        }
        if (pid == 0)
            worker_main(j, todo, n, w, jobs, p[1]);
        close(p[1]);
        ws[w].pid = pid, ws[w].fd = p[0];
    }
    return 0;
}

static void progress(const journal *jn, uint64_t total)
{
    fprintf(stderr, "\r  %llu/%llu evaluations", (unsigned long long)jn->done,
            (unsigned long long)total);
}

static int run_workers(const opt_job *j, journal *jn, const uint64_t *todo, uint64_t n)
{
    int jobs = (uint64_t)j->jobs < n ? j->jobs : (int)n;
    worker ws[OPT_MAX_JOBS];
    memset(ws, 0, sizeof ws);
    for (int i = 0; i < OPT_MAX_JOBS; i++)
        ws[i].fd = -1;
    int failed = spawn(j, todo, n, ws, jobs), open_pipes = jobs;
    while (!failed && open_pipes > 0) {
        struct pollfd pf[OPT_MAX_JOBS];
        for (int i = 0; i < jobs; i++)
            pf[i] = (struct pollfd){ws[i].fd, POLLIN, 0};
        if (poll(pf, (nfds_t)jobs, -1) < 0) {
            failed = errno != EINTR;
            continue;
        }
        for (int i = 0; i < jobs && !failed; i++) {
            if (ws[i].fd < 0 || !(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            int r = worker_read(&ws[i], jn);
            failed = r < 0;
            if (r == 1) {
                close(ws[i].fd);
                ws[i].fd = -1;
                open_pipes--;
            }
        }
        if (!failed && fdatasync(jn->fd)) {
            fprintf(stderr, "papertrader optimize: %s: fdatasync: %s\n", jn->path, strerror(errno));
            failed = 1;
        }
        if (j->progress)
            progress(jn, jn->count);
    }
    if (j->progress)
        fprintf(stderr, "\r%60s\r", "");
    return reap(ws, jobs, failed);
}

int opt_pool_run(const opt_job *j)
{
    journal jn = {.fd = -1, .first = j->first, .count = j->count};
    uint64_t *todo = NULL, n = 0;
    int rc = journal_open(&jn, j->dir, j->journal_name);
    if (!rc && !(todo = malloc((size_t)(j->count + 1) * sizeof *todo)))
        rc = 1;
    for (uint64_t k = 0; !rc && k < j->count; k++)
        if (!jn.off[k])
            todo[n++] = j->first + k;
    if (!rc && n && run_workers(j, &jn, todo, n)) {
        fprintf(stderr, "papertrader optimize: a worker failed (reason above); every finished "
                        "evaluation is kept in %s\n", jn.path);
        rc = 1;
    }
    if (!rc && jn.done != j->count) {
        fprintf(stderr, "papertrader optimize: %llu evaluations missing after the run\n",
                (unsigned long long)(j->count - jn.done));
        rc = 1;
    }
    if (!rc)
        rc = journal_emit(&jn, j->dir, j->out_name);
    free(todo);
    journal_close(&jn);
    return rc;
}
