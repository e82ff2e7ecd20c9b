/* powerloss_shim: LD_PRELOAD library for the simulated power loss test
 * (SQLite test6.c style; docs/durability.md
 * "Power loss"). Test-only: never linked into the product.
 *
 * For files under $PT_POWERLOSS_DIR it appends a journal of what a power
 * cut could NOT take away to $PT_POWERLOSS_DIR/.powerloss, one short text
 * line per event (appended with O_APPEND, so a kill -9 loses no record):
 *   S <size> <path>        fsync/fdatasync of a file returned 0: its first
 *                          <size> bytes are durable
 *   D <path>               fsync of a directory returned 0: the entries
 *                          created/renamed in it so far are durable
 *   C <path>               a new file or directory was created (its entry
 *                          is durable only after a D of its parent)
 *   R <old> <new> <keep>   rename(old, new); the replaced <new> (if any)
 *                          was hard-linked to <keep> first ("-": none), so
 *                          an undo can put it back
 * tests/integration/power_loss.sh turns the journal into "what the disk
 * holds after the cut". write/pwrite/close need no record: written bytes
 * are not durable until a sync, and the test reads the sizes from disk.
 * Paths are resolved through /proc/self/fd, so every open variant is
 * covered for syncs; creations are seen through open/openat/creat/mkdir.
 * Bounds: paths up to PATH_MAX, one line per event. Not thread-aware beyond
 * what O_APPEND gives (papertrader writes its ledger from one thread). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

static char g_dir[PATH_MAX];
static size_t g_dir_len;
static int g_jfd = -1;
static unsigned g_keep_seq;

typedef int (*open_fn)(const char *, int, ...);
typedef int (*openat_fn)(int, const char *, int, ...);
typedef int (*fd_fn)(int);
typedef int (*rename_fn)(const char *, const char *);
typedef int (*renameat_fn)(int, const char *, int, const char *);
typedef int (*renameat2_fn)(int, const char *, int, const char *, unsigned);
typedef int (*mkdir_fn)(const char *, mode_t);

#define REAL(name, type) ((type)real_sym(#name))

static void *real_sym(const char *name)
{
    void *p = dlsym(RTLD_NEXT, name);
    if (!p) {
        fprintf(stderr, "powerloss_shim: no %s\n", name);
        _exit(99);
    }
    return p;
}

/* Open the journal once; the directory is canonical so /proc paths match. */
static int active(void)
{
    if (g_jfd >= 0)
        return 1;
    const char *d = getenv("PT_POWERLOSS_DIR");
    if (!d || !*d || !realpath(d, g_dir))
        return 0;
    g_dir_len = strlen(g_dir);
    char j[PATH_MAX + 16];
    snprintf(j, sizeof j, "%s/.powerloss", g_dir);
    g_jfd = REAL(open, open_fn)(j, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    return g_jfd >= 0;
}

/* Under the directory (or the directory itself), and not our own files. */
static int watched(const char *abs)
{
    if (strncmp(abs, g_dir, g_dir_len) != 0 || (abs[g_dir_len] != '/' && abs[g_dir_len] != '\0'))
        return 0;
    return strncmp(abs + g_dir_len, "/.powerloss", 11) != 0;
}

/* Absolute, canonical form of path (relative to dirfd); the last component
 * need not exist. 0 on success. */
static int absolute(int dirfd, const char *path, char *out)
{
    char base[PATH_MAX], tmp[PATH_MAX * 2];
    if (path[0] == '/') {
        snprintf(tmp, sizeof tmp, "%s", path);
    } else {
        if (dirfd == AT_FDCWD) {
            if (!getcwd(base, sizeof base))
                return -1;
        } else {
            char link[64];
            snprintf(link, sizeof link, "/proc/self/fd/%d", dirfd);
            ssize_t k = readlink(link, base, sizeof base - 1);
            if (k <= 0)
                return -1;
            base[k] = '\0';
        }
        snprintf(tmp, sizeof tmp, "%s/%s", base, path);
    }
    char *slash = strrchr(tmp, '/');
    char parent[PATH_MAX];
    *slash = '\0';
    if (!realpath(tmp[0] ? tmp : "/", parent))
        return -1;
    int n = snprintf(out, PATH_MAX, "%s/%s", strcmp(parent, "/") ? parent : "", slash + 1);
    return n < 0 || n >= PATH_MAX ? -1 : 0;
}

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note(const char *fmt, ...)
{
    char line[3 * PATH_MAX + 64];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n > 0 && n < (int)sizeof line) {
        int e = errno;
        if (write(g_jfd, line, (size_t)n) != n)
            fprintf(stderr, "powerloss_shim: journal write failed\n");
        errno = e;
    }
}

static void note_sync(int fd)
{
    char link[64], path[PATH_MAX];
    struct stat st;
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t k = readlink(link, path, sizeof path - 1);
    if (k <= 0 || fstat(fd, &st) != 0)
        return;
    path[k] = '\0';
    if (!watched(path))
        return;
    if (S_ISDIR(st.st_mode))
        note("D %s\n", path);
    else if (S_ISREG(st.st_mode))
        note("S %lld %s\n", (long long)st.st_size, path);
}

/* ------------------------------------------------------------ creation */

/* An O_CREAT open: learn whether it creates the file (O_EXCL first). */
static int open_common(int dirfd, const char *path, int flags, mode_t mode)
{
    openat_fn real = REAL(openat, openat_fn);
    char abs[PATH_MAX];
    if (!(flags & O_CREAT) || !active() || absolute(dirfd, path, abs) || !watched(abs))
        return real(dirfd, path, flags, mode);
    if (!(flags & O_EXCL)) {
        int fd = real(dirfd, path, flags | O_EXCL, mode);
        if (fd >= 0) {
            note("C %s\n", abs);
            return fd;
        }
        if (errno != EEXIST)
            return fd;
        return real(dirfd, path, flags, mode);
    }
    int fd = real(dirfd, path, flags, mode);
    if (fd >= 0)
        note("C %s\n", abs);
    return fd;
}

static mode_t mode_arg(int flags, va_list ap)
{
    return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? (mode_t)va_arg(ap, int) : 0;
}

int open(const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t m = mode_arg(flags, ap);
    va_end(ap);
    return open_common(AT_FDCWD, path, flags, m);
}

int open64(const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t m = mode_arg(flags, ap);
    va_end(ap);
    return open_common(AT_FDCWD, path, flags, m);
}

int openat(int dirfd, const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t m = mode_arg(flags, ap);
    va_end(ap);
    return open_common(dirfd, path, flags, m);
}

int openat64(int dirfd, const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t m = mode_arg(flags, ap);
    va_end(ap);
    return open_common(dirfd, path, flags, m);
}

int creat(const char *path, mode_t mode)
{
    return open_common(AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode);
}

int mkdir(const char *path, mode_t mode)
{
    int rc = REAL(mkdir, mkdir_fn)(path, mode);
    char abs[PATH_MAX];
    if (rc == 0 && active() && !absolute(AT_FDCWD, path, abs) && watched(abs))
        note("C %s\n", abs);
    return rc;
}

/* fopen() and friends go through glibc-internal open calls that a preload
 * does not see; papertrader's ledger and session files use open(2). */

/* ------------------------------------------------------------ sync */

int fsync(int fd)
{
    int rc = REAL(fsync, fd_fn)(fd);
    if (rc == 0 && active())
        note_sync(fd);
    return rc;
}

int fdatasync(int fd)
{
    int rc = REAL(fdatasync, fd_fn)(fd);
    if (rc == 0 && active())
        note_sync(fd);
    return rc;
}

/* ------------------------------------------------------------ rename */

static int rename_common(int ofd, const char *oldp, int nfd, const char *newp, unsigned flags,
                         int use2)
{
    char a[PATH_MAX], b[PATH_MAX], keep[PATH_MAX + 32] = "-";
    int on = active() && !absolute(ofd, oldp, a) && !absolute(nfd, newp, b) &&
             (watched(a) || watched(b));
    if (on && access(b, F_OK) == 0) {
        /* keep the replaced file's inode so an undo can restore it */
        snprintf(keep, sizeof keep, "%s/.powerloss.keep.%d.%u", g_dir, (int)getpid(), g_keep_seq++);
        if (link(b, keep) != 0)
            snprintf(keep, sizeof keep, "-");
    }
    int rc = use2 ? REAL(renameat2, renameat2_fn)(ofd, oldp, nfd, newp, flags)
                  : REAL(renameat, renameat_fn)(ofd, oldp, nfd, newp);
    if (on && rc == 0)
        note("R %s %s %s\n", a, b, keep);
    else if (on && strcmp(keep, "-"))
        unlink(keep);
    return rc;
}

int rename(const char *oldp, const char *newp)
{
    return rename_common(AT_FDCWD, oldp, AT_FDCWD, newp, 0, 0);
}

int renameat(int ofd, const char *oldp, int nfd, const char *newp)
{
    return rename_common(ofd, oldp, nfd, newp, 0, 0);
}

int renameat2(int ofd, const char *oldp, int nfd, const char *newp, unsigned flags)
{
    return rename_common(ofd, oldp, nfd, newp, flags, 1);
}
