/* Regression driver for the fuzz targets when libFuzzer is not linked (gcc,
 * or clang without PT_FUZZ): runs LLVMFuzzerTestOneInput once over each file
 * named on the command line, like `fuzz_x FILE...` does with libFuzzer.
 * Directories are walked one level deep. A crash or sanitizer report aborts
 * the process, which is the failure signal; exit 0 means every input ran.
 *
 * Each input is copied into a buffer of exactly its size, so ASan catches a
 * read one past the end as libFuzzer would. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

#define REGRESS_MAX_INPUT (4u << 20) /* libFuzzer's default -max_len is far smaller */

static int run_file(const char *path, unsigned *count)
{
    int rc = 1;
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    struct stat st;
    if (!f || fstat(fileno(f), &st) != 0) {
        fprintf(stderr, "regress: %s: %s\n", path, strerror(errno));
        goto fail;
    }
    if (st.st_size > (off_t)REGRESS_MAX_INPUT) {
        fprintf(stderr, "regress: %s: larger than %u bytes\n", path, REGRESS_MAX_INPUT);
        goto fail;
    }
    size_t n = (size_t)st.st_size;
    /* malloc(0) may return NULL; keep a distinct 1-byte block, pass size 0 */
    if (!(buf = malloc(n ? n : 1)) || fread(buf, 1, n, f) != n) {
        fprintf(stderr, "regress: %s: short read\n", path);
        goto fail;
    }
    LLVMFuzzerTestOneInput(buf, n);
    (*count)++;
    rc = 0;
fail:
    free(buf);
    if (f)
        fclose(f);
    return rc;
}

static int run_path(const char *path, unsigned *count)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "regress: %s: %s\n", path, strerror(errno));
        return 1;
    }
    if (!S_ISDIR(st.st_mode))
        return run_file(path, count);
    DIR *d = opendir(path);
    if (!d) {
        fprintf(stderr, "regress: %s: %s\n", path, strerror(errno));
        return 1;
    }
    int bad = 0;
    struct dirent *e;
    char sub[4096];
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
        struct stat es;
        if (stat(sub, &es) == 0 && S_ISREG(es.st_mode))
            bad |= run_file(sub, count);
    }
    closedir(d);
    return bad;
}

int main(int argc, char **argv)
{
    if (LLVMFuzzerInitialize)
        LLVMFuzzerInitialize(&argc, &argv);
    int bad = 0;
    unsigned count = 0;
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-') /* libFuzzer flags (-runs=, -timeout=) mean nothing here */
            continue;
        bad |= run_path(argv[i], &count);
    }
    fprintf(stderr, "regress: %s: %u inputs replayed%s\n", argv[0], count, bad ? ", with errors" : "");
    return bad ? 1 : 0;
}
