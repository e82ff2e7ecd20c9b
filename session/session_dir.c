/* The session folder (docs/session.md "Outputs"): its default name, the
 * lock that keeps it one process's, and session.json read back. Every
 * command that writes a folder (backtest, run, demo, backtest --serve,
 * optimize, walk-forward, report) opens it through session_dir_open, so a
 * folder in use, a missing folder and a folder holding another run say so
 * the same way everywhere. */
#include "session.h"
#include "session_internal.h"

#include "pt_core.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/sysmacros.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SL_LOCK_PID_TRIES 50 /* x 10 ms: wait for a live holder to be known */

/* ------------------------------------------------------------ lock, files */

static long read_pid(int fd)
{
    char buf[32];
    ssize_t k = pread(fd, buf, sizeof buf - 1, 0);
    if (k <= 0 || buf[k - 1] != '\n')
        return 0;
    int64_t v;
    const char *why;
    return pt_parse_int64(buf, (size_t)k - 1, &v, &why) ? 0 : (long)v;
}

/* The PID /proc/locks gives for the flock on fd's file (the process that
 * took it; waiters, "->" lines, are skipped), 0 if not listed. */
static long flock_holder(int fd)
{
    struct stat st;
    FILE *f = fstat(fd, &st) ? NULL : fopen("/proc/locks", "re");
    char line[256];
    long pid = 0;
    while (f && !pid && fgets(line, sizeof line, f)) {
        long p;
        unsigned maj, min;
        unsigned long long ino;
        if (sscanf(line, "%*d: FLOCK %*s %*s %ld %x:%x:%llu", &p, &maj, &min, &ino) == 4 &&
            ino == (unsigned long long)st.st_ino && maj == major(st.st_dev) && min == minor(st.st_dev))
            pid = p;
    }
    if (f)
        fclose(f);
    return pid;
}

static int alive(long pid) { return pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM); }

/* Who holds the flock: the kernel's word first, then the PID the holder
 * wrote (a new holder may not have replaced a dead one's PID yet); only a
 * live process is named. */
static long live_holder(int fd)
{
    long p = flock_holder(fd);
    if (!alive(p))
        p = read_pid(fd);
    return alive(p) ? p : 0;
}

static int lock_take(const char *dir, int *fd_out, long *holder)
{
    char path[PATH_MAX];
    *fd_out = -1;
    *holder = 0;
    if (snprintf(path, sizeof path, "%s/.lock", dir) >= (int)sizeof path)
        return PT_EINVAL;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        pt_err_log("open %s: %s", path, strerror(errno));
        return PT_EIO;
    }
    /* flock, not fcntl locks: those vanish when any fd of the file closes.
     * The kernel drops a flock when its holder dies, so a held lock has a
     * live holder: name it (waiting briefly for a new holder to say who it
     * is), and take the lock if it goes away meanwhile. */
    for (int i = 0; flock(fd, LOCK_EX | LOCK_NB) != 0; i++) {
        int e = errno;
        if (e != EWOULDBLOCK) {
            pt_err_log("flock %s: %s", path, strerror(e));
            close(fd);
            return PT_EIO;
        }
        if ((*holder = live_holder(fd)) || i == SL_LOCK_PID_TRIES) {
            close(fd);
            return PT_EBUSY;
        }
        nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
    }
    /* write over, then cut: the file never reads as empty */
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (pwrite(fd, pid, (size_t)n, 0) != n || ftruncate(fd, n)) {
        pt_err_log("write %s: %s", path, strerror(errno));
        close(fd);
        return PT_EIO;
    }
    *fd_out = fd;
    return PT_OK;
}

static const char *holder_text(long holder, char *buf, size_t cap)
{
    if (holder > 0)
        snprintf(buf, cap, "PID %ld", holder);
    else
        snprintf(buf, cap, "a process whose PID is unknown");
    return buf;
}

void session_unlock(int fd)
{
    if (fd >= 0)
        close(fd); /* releases the flock; the PID file stays (stale PIDs are harmless) */
}

void session_default_dir(char *buf, size_t cap, const char *mode)
{
    time_t t = (time_t)(pt_wall_ms() / 1000);
    struct tm tm;
    char stamp[32] = "";
    if (gmtime_r(&t, &tm))
        strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
    snprintf(buf, cap, "logs/%s-%s", stamp, mode);
}

int session_dir_holds_run(const char *dir)
{
    static const char *const marks[] = {"session.json", "trades.csv"};
    char path[PATH_MAX];
    for (size_t i = 0; i < sizeof marks / sizeof marks[0]; i++)
        if (snprintf(path, sizeof path, "%s/%s", dir, marks[i]) < (int)sizeof path && !access(path, F_OK))
            return 1;
    return 0;
}

cJSON *session_json_read(const char *dir)
{
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/session.json", dir) >= (int)sizeof path) {
        errno = ENAMETOOLONG;
        return NULL;
    }
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char *buf = malloc(SESSION_JSON_MAX + 1);
    size_t n = buf ? fread(buf, 1, SESSION_JSON_MAX + 1, f) : 0;
    fclose(f);
    cJSON *doc = NULL;
    if (buf && n <= SESSION_JSON_MAX) {
        buf[n] = 0;
        doc = cJSON_ParseWithOpts(buf, NULL, 1);
    }
    free(buf);
    if (!doc)
        errno = EINVAL;
    return doc;
}

int session_dir_lock(const char *cmd, const char *dir, int create, int *lock_fd)
{
    long pid = 0;
    int rc = create && pt_mkdirs(dir) ? PT_EIO : lock_take(dir, lock_fd, &pid);
    if (rc == PT_EBUSY) {
        char who[48];
        fprintf(stderr, "papertrader %s: %s: state dir locked by %s\n", cmd, dir,
                holder_text(pid, who, sizeof who));
        return PT_EXIT_LOCKED;
    }
    return rc ? PT_EXIT_FAILURE : 0; /* logged by pt_mkdirs / lock_take */
}

int session_dir_refuse_run(const char *cmd, const char *dir, int resumable)
{
    if (!session_dir_holds_run(dir))
        return 0;
    fprintf(stderr, "papertrader %s: --out %s holds an earlier run (session.json); --force overwrites it", cmd,
            dir);
    if (resumable)
        fprintf(stderr, ", --resume %s carries it on", dir);
    fputc('\n', stderr);
    return PT_EXIT_USAGE;
}

void sl_json_num(cJSON *o, const char *k, double v)
{
    if (isfinite(v))
        cJSON_AddNumberToObject(o, k, v);
    else
        cJSON_AddNullToObject(o, k);
}

void sl_json_engine(cJSON *j, const char *strategy, const sim_engine_config *c, const char *sizing)
{
    cJSON_AddStringToObject(j, "strategy", strategy);
    cJSON *p = cJSON_AddObjectToObject(j, "params");
    for (int i = 0; i < c->strategy->n_params; i++)
        sl_json_num(p, c->strategy->params[i].name, c->params[i]);
    sl_json_num(j, "cash", c->cash);
    sl_json_num(j, "taker_fee_bps", c->taker_fee_bps);
    sl_json_num(j, "maker_fee_bps", c->maker_fee_bps);
    sl_json_num(j, "slippage_bps", c->slippage_bps);
    cJSON_AddStringToObject(j, "sizing", sizing);
    sl_json_num(j, "min_quality", c->min_quality);
    sl_json_num(j, "max_positions", c->max_positions);
    sl_json_num(j, "max_exposure_pct", c->max_exposure_pct);
    sl_json_num(j, "daily_loss_pct", c->daily_loss_pct);
    sl_json_num(j, "max_drawdown_pct", c->max_drawdown_pct);
}
