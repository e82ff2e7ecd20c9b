/* Logger: one formatted line per call, stamped with the wall clock (log
 * lines are the one place the wall clock is allowed). A mutex keeps lines
 * whole when a worker thread logs. */
#include "pt_core.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static pt_log_level log_level = PT_LOG_INFO;
static pt_log_sink_fn log_sink;
static void *log_sink_ud;
static int log_to_stderr = 1;
static int log_colour = -1; /* -1: decide on first use */

static const char *const level_names[] = {"ERROR", "WARN", "INFO", "DEBUG"};
static const char *const level_colours[] = {"\033[31m", "\033[33m", "\033[0m", "\033[2m"};

void pt_log_set_level(pt_log_level lvl) { log_level = lvl; }
pt_log_level pt_log_get_level(void) { return log_level; }
void pt_log_set_stderr(int enabled) { log_to_stderr = enabled; }

void pt_log_set_sink(pt_log_sink_fn fn, void *ud)
{
    pthread_mutex_lock(&log_mu);
    log_sink = fn;
    log_sink_ud = ud;
    pthread_mutex_unlock(&log_mu);
}

void pt_logv(pt_log_level lvl, const char *fmt, va_list ap)
{
    if (lvl > log_level)
        return;
    char line[2048];
    int64_t now = pt_wall_ms();
    char stamp[32];
    pt_format_iso_ms(now, stamp, sizeof stamp);
    int n = snprintf(line, sizeof line, "%s %-5s ", stamp, level_names[lvl]);
    if (n < 0)
        return;
    vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    /* strip a trailing newline the caller may have added */
    size_t len = strlen(line);
    while (len && line[len - 1] == '\n')
        line[--len] = '\0';

    pthread_mutex_lock(&log_mu);
    if (log_colour < 0)
        log_colour = isatty(STDERR_FILENO) && getenv("NO_COLOR") == NULL;
    if (log_to_stderr) {
        if (log_colour)
            fprintf(stderr, "%s%s\033[0m\n", level_colours[lvl], line);
        else
            fprintf(stderr, "%s\n", line);
    }
    if (log_sink)
        log_sink(lvl, line, log_sink_ud);
    pthread_mutex_unlock(&log_mu);
}

void pt_log(pt_log_level lvl, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pt_logv(lvl, fmt, ap);
    va_end(ap);
}
