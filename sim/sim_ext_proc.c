/* sim_ext_proc: the external strategy's child process. Closed environment
 * (only the variables in env_keep, no inherited descriptors but the three
 * pipes, own process group so a terminal's ^C reaches papertrader only,
 * killed with papertrader), bounded lines, stderr to the log with the
 * strategy's name, always reaped. */
#include "sim_ext_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The variables a child may see; everything else stays with papertrader. */
static const char *const env_keep[] = {"PATH",   "HOME",      "LANG",    "LC_ALL",  "TZ",
                                       "TMPDIR", "PYTHONPATH", "NODE_PATH", "PT_SDK_TRACE"};
#define ENV_KEEP (sizeof env_keep / sizeof env_keep[0])

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* In the child between fork and exec: async-signal-safe calls only. */
static void child_exec(const char *const *argv, int in, int out, int err, char *const *envp)
{
    if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
        _exit(126);
    for (int fd = 3; fd < 1024; fd++)
        close(fd);
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core); /* a crashing strategy leaves no core file behind */
    signal(SIGPIPE, SIG_DFL);
    execvpe(argv[0], (char *const *)argv, envp);
    _exit(127);
}

static int env_build(char **envp, char *store, size_t cap)
{
    int n = 0;
    size_t used = 0;
    for (size_t i = 0; i < ENV_KEEP; i++) {
        const char *v = getenv(env_keep[i]);
        if (!v)
            continue;
        int w = snprintf(store + used, cap - used, "%s=%s", env_keep[i], v);
        if (w < 0 || (size_t)w >= cap - used)
            continue; /* an absurdly long variable is not passed */
        envp[n++] = store + used;
        used += (size_t)w + 1;
    }
    /* a strategy must not leave bytecode caches in the user's tree */
    envp[n++] = (char *)"PYTHONDONTWRITEBYTECODE=1";
    envp[n] = NULL;
    return n;
}

int sim_ext_proc_start(sim_ext_proc *p, const char *const *argv, const char *tag, int pin_cpu)
{
    int pin[2] = {-1, -1}, pout[2] = {-1, -1}, perr[2] = {-1, -1};
    char store[8192];
    char *envp[ENV_KEEP + 2];
    memset(p, 0, sizeof *p);
    p->in = p->out = p->err = -1;
    snprintf(p->tag, sizeof p->tag, "%s", tag);
    p->buf = malloc(SIM_EXT_LINE_MAX + 1);
    env_build(envp, store, sizeof store);
    if (!p->buf || pipe2(pin, O_CLOEXEC) || pipe2(pout, O_CLOEXEC) || pipe2(perr, O_CLOEXEC)) {
        pt_err_log("strategy %s: cannot create pipes: %s", tag, strerror(errno));
        goto fail;
    }
    /* a child that dies mid-write must give EPIPE, not kill papertrader */
    signal(SIGPIPE, SIG_IGN);
    pid_t pid = fork();
    if (pid < 0) {
        pt_err_log("strategy %s: cannot fork: %s", tag, strerror(errno));
        goto fail;
    }
    if (pid == 0) {
        if (pin_cpu >= 0) {
            cpu_set_t set;
            CPU_ZERO(&set);
            CPU_SET(pin_cpu, &set);
            sched_setaffinity(0, sizeof set, &set);
        }
        child_exec(argv, pin[0], pout[1], perr[1], envp);
    }
    p->pid = pid;
    close(pin[0]), close(pout[1]), close(perr[1]);
    p->in = pin[1], p->out = pout[0], p->err = perr[0];
    fcntl(p->in, F_SETFL, O_NONBLOCK);
    fcntl(p->out, F_SETFL, O_NONBLOCK);
    fcntl(p->err, F_SETFL, O_NONBLOCK);
    return PT_OK;
fail:
    for (int i = 0; i < 2; i++)
        close_fd(&pin[i]), close_fd(&pout[i]), close_fd(&perr[i]);
    free(p->buf);
    p->buf = NULL;
    return PT_EIO;
}

/* ------------------------------------------------------------ stderr */

static void err_line(sim_ext_proc *p, int cut)
{
    if (p->elogged < SIM_EXT_ERR_TOTAL) {
        p->elogged += p->elen;
        pt_info("strategy %s: %.*s%s", p->tag, (int)p->elen, p->ebuf, cut ? " [line cut]" : "");
    } else {
        p->edropped += p->elen;
    }
    p->elen = 0;
}

/* Drain what stderr has now; 0 at EOF (the fd is closed then). */
static void err_read(sim_ext_proc *p)
{
    char tmp[4096];
    ssize_t r;
    while ((r = read(p->err, tmp, sizeof tmp)) > 0) {
        for (ssize_t i = 0; i < r; i++) {
            if (tmp[i] == '\n') {
                if (!p->eskip)
                    err_line(p, 0);
                p->eskip = 0;
            } else if (p->eskip) {
                continue; /* the rest of an over-long line */
            } else if (p->elen < sizeof p->ebuf) {
                p->ebuf[p->elen++] = tmp[i] >= 0x20 || tmp[i] == '\t' ? tmp[i] : '?';
            } else { /* over-long: log the cut line once, skip to its end */
                err_line(p, 1);
                p->eskip = 1;
            }
        }
    }
    if (r == 0 || (errno != EAGAIN && errno != EINTR)) { /* EOF or a real error */
        if (p->elen)
            err_line(p, 0);
        close_fd(&p->err);
    }
}

/* ------------------------------------------------------------ reaping */

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Wait up to ms for the child to exit, then SIGKILL it; always reaps. */
static void reap(sim_ext_proc *p, int ms)
{
    if (!p->pid || p->status_known)
        return;
    int64_t end = pt_mono_ms() + ms;
    for (;;) {
        pid_t r = waitpid(p->pid, &p->status, WNOHANG);
        if (r == p->pid || (r < 0 && errno != EINTR))
            break;
        if (pt_mono_ms() >= end) {
            kill(p->pid, SIGKILL);
            while (waitpid(p->pid, &p->status, 0) < 0 && errno == EINTR)
                ;
            break;
        }
        if (p->err >= 0)
            err_read(p);
        sleep_ms(2);
    }
    p->status_known = 1;
}

static void exit_text(const sim_ext_proc *p, char *why, size_t cap)
{
    if (WIFEXITED(p->status))
        snprintf(why, cap, "strategy exited with status %d", WEXITSTATUS(p->status));
    else if (WIFSIGNALED(p->status))
        snprintf(why, cap, "strategy was killed by signal %d (%s)", WTERMSIG(p->status),
                 strsignal(WTERMSIG(p->status)));
    else
        snprintf(why, cap, "strategy ended");
}

/* ------------------------------------------------------------ exchange */

/* A complete line in buf? Hands it out and remembers to consume it. */
static int take_line(sim_ext_proc *p, char **line, size_t *line_len)
{
    char *nl = memchr(p->buf, '\n', p->len);
    if (!nl)
        return 0;
    size_t n = (size_t)(nl - p->buf);
    p->line_len = n + 1;
    if (n && p->buf[n - 1] == '\r')
        n--;
    p->buf[n] = '\0';
    *line = p->buf;
    *line_len = n;
    return 1;
}

static int out_read(sim_ext_proc *p, char *why, size_t cap)
{
    for (;;) {
        if (p->len >= SIM_EXT_LINE_MAX) {
            p->buf[p->len] = '\0'; /* the caller quotes its start */
            snprintf(why, cap, "line longer than %d bytes", SIM_EXT_LINE_MAX);
            return PT_EFULL;
        }
        ssize_t r = read(p->out, p->buf + p->len, SIM_EXT_LINE_MAX - p->len);
        if (r > 0) {
            p->len += (size_t)r;
            if (memchr(p->buf + p->len - (size_t)r, '\n', (size_t)r))
                return PT_OK;
            continue;
        }
        if (r < 0 && (errno == EAGAIN || errno == EINTR))
            return PT_OK;
        close_fd(&p->out); /* EOF: the strategy closed its stdout or ended */
        reap(p, 500);
        exit_text(p, why, cap);
        return PT_EIO;
    }
}

int sim_ext_proc_xchg(sim_ext_proc *p, const char *msg, size_t len, int want_line, int timeout_ms,
                      char **line, size_t *line_len, char *why, size_t cap)
{
    if (p->line_len) { /* consume the previous answer */
        memmove(p->buf, p->buf + p->line_len, p->len - p->line_len);
        p->len -= p->line_len;
        p->line_len = 0;
    }
    if (p->out < 0 || p->in < 0) {
        snprintf(why, cap, "strategy is not running");
        return PT_EIO;
    }
    if (want_line && memchr(p->buf, '\n', p->len)) { /* exactly one line per message */
        p->buf[p->len - 1] = '\0';
        snprintf(why, cap, "more than one answer line to the previous message");
        return PT_EPARSE;
    }
    int64_t end = timeout_ms > 0 ? pt_mono_ms() + timeout_ms : INT64_MAX;
    size_t done = 0;
    for (;;) {
        if (done == len && (!want_line || take_line(p, line, line_len)))
            return PT_OK;
        struct pollfd fds[3] = {{p->out, POLLIN, 0}, {p->err, POLLIN, 0},
                                {done < len ? p->in : -1, POLLOUT, 0}};
        int64_t left = end == INT64_MAX ? -1 : end - pt_mono_ms();
        if (end != INT64_MAX && left <= 0) {
            snprintf(why, cap, "no answer within %d ms (the answer deadline)", timeout_ms);
            return PT_ETIMEOUT;
        }
        if (poll(fds, 3, left > 1000000 ? 1000000 : (int)left) < 0 && errno != EINTR) {
            snprintf(why, cap, "poll: %s", strerror(errno));
            return PT_EIO;
        }
        if (fds[1].revents)
            err_read(p);
        if (fds[2].revents) {
            ssize_t w = write(p->in, msg + done, len - done);
            if (w > 0)
                done += (size_t)w;
            else if (w < 0 && errno != EAGAIN && errno != EINTR) {
                close_fd(&p->in); /* EPIPE: it stopped reading; its exit status says why */
                reap(p, 500);
                exit_text(p, why, cap);
                return PT_EIO;
            }
        }
        if (fds[0].revents) {
            int rc = out_read(p, why, cap);
            if (rc)
                return rc;
        }
    }
}

void sim_ext_proc_kill(sim_ext_proc *p)
{
    if (p->pid && !p->status_known)
        kill(p->pid, SIGKILL);
    reap(p, SIM_EXT_END_MS); /* SIGKILL'ed: returns at once */
}

int sim_ext_proc_stop(sim_ext_proc *p)
{
    if (!p->pid)
        return 0;
    close_fd(&p->in); /* EOF on its stdin: a well-behaved strategy exits now */
    reap(p, SIM_EXT_END_MS);
    if (p->err >= 0)
        err_read(p);
    if (p->elen)
        err_line(p, 0);
    if (p->edropped)
        pt_warn("strategy %s: %zu further stderr bytes not logged (bound %d)", p->tag, p->edropped,
                SIM_EXT_ERR_TOTAL);
    close_fd(&p->out);
    close_fd(&p->err);
    free(p->buf);
    p->buf = NULL;
    p->pid = 0;
    return WIFEXITED(p->status) ? WEXITSTATUS(p->status) : -1;
}
