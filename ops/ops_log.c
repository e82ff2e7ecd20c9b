/* Log files with size-based rotation, and reopen for logrotate.
 *
 * Runs inside pt_log's mutex (the sink contract), so no locking here. Each
 * line is one write(2) with O_APPEND, so a crash never interleaves or tears
 * more than the last line. Rotation renames name -> name.1 -> ... and drops
 * the oldest, like logrotate's "rotate N". */
#include "ops.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct log_file {
    char path[PATH_MAX];
    int fd;
    long size;
} log_file;

static struct {
    int open;
    ops_log_config cfg;
    char dir[PATH_MAX - 32]; /* room for the file names */
    log_file all, errors;
} L = {.all = {.fd = -1}, .errors = {.fd = -1}};

static int lf_open(log_file *f)
{
    f->fd = open(f->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (f->fd < 0)
        return PT_EIO;
    struct stat st;
    f->size = fstat(f->fd, &st) == 0 ? (long)st.st_size : 0;
    return PT_OK;
}

static void lf_close(log_file *f)
{
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
}

static void lf_rotate(log_file *f)
{
    char from[PATH_MAX + 16], to[PATH_MAX + 16];
    lf_close(f);
    for (int i = L.cfg.max_files - 1; i >= 1; i--) {
        snprintf(from, sizeof from, "%s.%d", f->path, i);
        snprintf(to, sizeof to, "%s.%d", f->path, i + 1);
        rename(from, to); /* missing generations are fine */
    }
    snprintf(to, sizeof to, "%s.1", f->path);
    rename(f->path, to);
    lf_open(f);
}

static void lf_write(log_file *f, const char *line)
{
    if (f->fd < 0)
        return;
    size_t len = strlen(line);
    char buf[2200];
    if (len > sizeof buf - 2)
        len = sizeof buf - 2;
    memcpy(buf, line, len);
    buf[len++] = '\n';
    if (f->size > 0 && f->size + (long)len > L.cfg.max_bytes)
        lf_rotate(f);
    if (f->fd < 0)
        return;
    ssize_t n = write(f->fd, buf, len);
    if (n > 0)
        f->size += n;
}

static void ops_log_sink(pt_log_level lvl, const char *line, void *ud)
{
    (void)ud;
    if (lvl > L.cfg.level)
        return;
    lf_write(&L.all, line);
    if (lvl <= PT_LOG_WARN)
        lf_write(&L.errors, line);
}

int ops_log_open(const ops_log_config *cfg)
{
    if (!cfg || !cfg->dir)
        return PT_EINVAL;
    ops_log_close();
    L.cfg = *cfg;
    if (L.cfg.max_bytes <= 0)
        L.cfg.max_bytes = 10L * 1024 * 1024;
    if (L.cfg.max_files <= 0)
        L.cfg.max_files = 5;
    if (strlen(cfg->dir) >= sizeof L.dir) {
        fprintf(stderr, "papertrader: log folder path too long: %s\n", cfg->dir);
        return PT_EINVAL;
    }
    snprintf(L.dir, sizeof L.dir, "%s", cfg->dir);
    L.cfg.dir = L.dir;
    if (mkdir(L.dir, 0750) != 0 && errno != EEXIST) {
        fprintf(stderr, "papertrader: cannot create log folder %s: %s\n", L.dir, strerror(errno));
        return PT_EIO;
    }
    snprintf(L.all.path, sizeof L.all.path, "%s/papertrader.log", L.dir);
    snprintf(L.errors.path, sizeof L.errors.path, "%s/errors.log", L.dir);
    if (lf_open(&L.all) || lf_open(&L.errors)) {
        fprintf(stderr, "papertrader: cannot open log files in %s: %s\n", L.dir, strerror(errno));
        lf_close(&L.all);
        lf_close(&L.errors);
        return PT_EIO;
    }
    L.open = 1;
    pt_log_set_sink(ops_log_sink, NULL);
    return PT_OK;
}

void ops_log_reopen(void)
{
    if (!L.open)
        return;
    /* under the logger's lock: swap the sink out while files change */
    pt_log_set_sink(NULL, NULL);
    lf_close(&L.all);
    lf_close(&L.errors);
    lf_open(&L.all);
    lf_open(&L.errors);
    pt_log_set_sink(ops_log_sink, NULL);
}

void ops_log_close(void)
{
    if (!L.open)
        return;
    pt_log_set_sink(NULL, NULL);
    lf_close(&L.all);
    lf_close(&L.errors);
    L.open = 0;
}
