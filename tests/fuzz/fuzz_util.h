/* Helpers shared by the fuzz targets (header-only: every fuzz_*.c is its own
 * executable). Failures of a property are reported with FUZZ_CHECK, which
 * aborts: libFuzzer and the regression driver both treat that as a crash and
 * keep the input. */
#ifndef PT_FUZZ_UTIL_H
#define PT_FUZZ_UTIL_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "pt_core.h"

#define FUZZ_CHECK(cond)                                                                       \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #cond);      \
            abort();                                                                           \
        }                                                                                      \
    } while (0)

/* Quiet logging: the targets log on almost every input, and a terminal full
 * of warnings slows libFuzzer down tenfold. The formatting still runs. */
static inline void fuzz_quiet_logs(void)
{
    pt_log_set_stderr(0);
    pt_log_set_level(PT_LOG_DEBUG);
}

/* The input as a NUL-terminated heap string (bytes after an embedded NUL
 * are simply not seen by C-string APIs). Caller frees. */
static inline char *fuzz_strndup(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        abort();
    memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* The input as a file path for APIs that open a path: a memfd (no disk, no
 * cleanup needed when the process dies) reached through /proc/self/fd.
 * Returns the fd (close it when done) and fills path. */
static inline int fuzz_memfile(const uint8_t *data, size_t size, char *path, size_t cap)
{
    int fd = memfd_create("fuzz-input", MFD_CLOEXEC);
    if (fd < 0) {
        perror("memfd_create");
        abort();
    }
    size_t off = 0;
    while (off < size) {
        ssize_t w = write(fd, data + off, size - off);
        if (w <= 0) {
            perror("write memfd");
            abort();
        }
        off += (size_t)w;
    }
    snprintf(path, cap, "/proc/self/fd/%d", fd);
    return fd;
}

/* Invariants every candle that leaves a parser must satisfy. */
static inline void fuzz_check_candle(const pt_candle *c)
{
    FUZZ_CHECK(isfinite(c->open) && isfinite(c->high) && isfinite(c->low) && isfinite(c->close) &&
               isfinite(c->volume));
    FUZZ_CHECK(memchr(c->symbol, '\0', sizeof c->symbol) != NULL);
    for (const char *p = c->symbol; *p; p++)
        FUZZ_CHECK(*p > 0x20 && *p < 0x7f); /* printable ASCII, no space (pt_core.h) */
}

/* The usual LLVMFuzzerInitialize of a target: nothing but quiet logs. */
#define FUZZ_QUIET_INITIALIZE                                                                      \
    int LLVMFuzzerInitialize(int *argc, char ***argv)                                              \
    {                                                                                              \
        (void)argc;                                                                                \
        (void)argv;                                                                                \
        fuzz_quiet_logs();                                                                         \
        return 0;                                                                                  \
    }

#endif
