/* Clocks and process figures. */
#include "pt_core.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <stdio.h>

int64_t pt_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int64_t pt_mono_ms(void) { return pt_mono_ns() / 1000000LL; }

int64_t pt_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000LL + ts.tv_nsec / 1000000LL;
}

static long status_field_kb(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    char line[256];
    long kb = -1;
    size_t klen = strlen(key);
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
            kb = strtol(line + klen + 1, NULL, 10);
            break;
        }
    }
    fclose(f);
    return kb;
}

long pt_rss_peak_kb(void) { return status_field_kb("VmHWM"); }
long pt_rss_now_kb(void) { return status_field_kb("VmRSS"); }

const char *pt_shared_file(const char *rel, const char *fallback, char *buf, size_t cap)
{
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = 0;
            int w = snprintf(buf, cap, "%s/../share/papertrader/%s", exe, rel);
            if (w > 0 && (size_t)w < cap && access(buf, R_OK) == 0)
                return buf;
        }
    }
    snprintf(buf, cap, "%s", fallback);
    return buf;
}

int pt_write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (w == 0)
                errno = EIO;
            return -1;
        }
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

int pt_mkdirs(const char *path)
{
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return PT_ERANGE;
    for (char *p = buf + 1;; p++) {
        if (*p == '/' || !*p) {
            char save = *p;
            *p = 0;
            if (mkdir(buf, 0755) && errno != EEXIST) {
                pt_err_log("cannot create %s: %s", buf, strerror(errno));
                return PT_EIO;
            }
            *p = save;
            if (!save)
                break;
        }
    }
    return PT_OK;
}
