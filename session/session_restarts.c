/* Restart-loop guard (docs/durability.md "Restart loops"). A session that
 * dies again and again soon after it starts (a poison message, a full disk, a
 * bug) would be restarted for ever by systemd, in silence. DIR/.restarts
 * holds the number of consecutive starts in DIR that ended neither cleanly
 * nor after [session] restart_healthy_s seconds of uptime; once that number
 * reaches [session] restart_limit, the next start is refused with
 * PT_EXIT_RESTART_LOOP (the unit's RestartPreventExitStatus stops systemd),
 * an error line and an error notification. Deleting the file, a clean stop
 * or a healthy uptime resets the count.
 *
 * Operations only: nothing here reaches the engine, the ledger or the
 * recording; uptime is the monotonic clock of this process. */
#include "session_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SL_RESTART_FILE ".restarts"

static void restarts_path(const session *s, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/" SL_RESTART_FILE, s->outdir);
}

static long read_count(const char *path)
{
    char buf[32] = "";
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    char *end = NULL;
    long v = n > 0 ? strtol(buf, &end, 10) : 0;
    return v > 0 && end && (*end == '\n' || !*end) ? v : 0; /* damaged: start counting again */
}

int sl_restart_enter(session *s)
{
    char path[4200];
    restarts_path(s, path, sizeof path);
    long limit = (long)ops_config_get_num(s->o->cfg, "session", "restart_limit", 5);
    long failed = read_count(path);
    if (limit > 0 && failed >= limit) {
        pt_err_log("session: %s: the last %ld starts ended within %.0f s without a clean stop; not starting "
                   "again (restart loop). Read errors.log, fix the cause, then delete %s",
                   s->outdir, failed, ops_config_get_num(s->o->cfg, "session", "restart_healthy_s", 600), path);
        sl_observe_error(s, "restart loop: %ld failed starts in a row in %s; the session stays down until %s "
                             "is deleted", failed, s->outdir, path);
        return PT_EBUSY;
    }
    char line[32];
    int n = snprintf(line, sizeof line, "%ld\n", failed + 1);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int rc = fd < 0 || pt_write_all(fd, line, (size_t)n) || fdatasync(fd) ? PT_EIO : PT_OK;
    if (rc)
        pt_err_log("session: write %s: %s", path, strerror(errno));
    if (fd >= 0)
        close(fd);
    s->restart_armed = rc == PT_OK;
    return rc;
}

void sl_restart_healthy(session *s)
{
    if (!s->restart_armed)
        return;
    s->restart_armed = 0;
    char path[4200];
    restarts_path(s, path, sizeof path);
    if (unlink(path) && errno != ENOENT)
        pt_warn("session: remove %s: %s", path, strerror(errno));
}

void sl_restart_poll(session *s, int64_t now_mono)
{
    double healthy_s = ops_config_get_num(s->o->cfg, "session", "restart_healthy_s", 600);
    if (s->restart_armed && now_mono - s->t0_mono >= (int64_t)(healthy_s * 1000))
        sl_restart_healthy(s);
}
