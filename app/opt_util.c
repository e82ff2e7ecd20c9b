/* opt_util: small helpers of the optimize files (optimize.h). */
#include "optimize.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

uint64_t opt_hash(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

char *opt_read_file(const char *path, size_t cap, size_t *len)
{
    FILE *f = fopen(path, "r");
    char *b = f ? malloc(cap + 1) : NULL;
    size_t n = b ? fread(b, 1, cap + 1, f) : 0;
    int bad = !b || ferror(f) || n > cap;
    if (f)
        fclose(f);
    if (bad) {
        free(b);
        if (!errno || n > cap)
            errno = EFBIG;
        return NULL;
    }
    b[n] = 0;
    if (len)
        *len = n;
    return b;
}

int opt_atomic_begin(opt_atomic *at, const char *dir, const char *name)
{
    at->f = NULL;
    if (snprintf(at->tmp, sizeof at->tmp, "%s/.%s.tmp", dir, name) >= (int)sizeof at->tmp ||
        snprintf(at->dst, sizeof at->dst, "%s/%s", dir, name) >= (int)sizeof at->dst) {
        fprintf(stderr, "papertrader optimize: %s: path too long\n", dir);
        return 1;
    }
    snprintf(at->dir, sizeof at->dir, "%s", dir);
    if (!(at->f = fopen(at->tmp, "w"))) {
        fprintf(stderr, "papertrader optimize: %s: %s\n", at->tmp, strerror(errno));
        return 1;
    }
    return 0;
}

int opt_atomic_end(opt_atomic *at, int failed)
{
    if (!at->f)
        return 1;
    int bad = failed || fflush(at->f) || ferror(at->f) || fsync(fileno(at->f));
    bad |= fclose(at->f) != 0;
    at->f = NULL;
    if (!bad && rename(at->tmp, at->dst))
        bad = 1;
    if (bad) {
        if (!failed)
            fprintf(stderr, "papertrader optimize: %s: %s\n", at->dst, strerror(errno));
        unlink(at->tmp);
        return 1;
    }
    int dfd = open(at->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) { /* the rename itself survives a crash */
        fsync(dfd);
        close(dfd);
    }
    return 0;
}
