/* feed: the interval look-ahead (feed_csv_opts.interval_out, feed/feed_csv.c).
 * The input is read once: the same rows, line numbers, rejects and byte
 * counts as a plain read, from a regular file and from a pipe written in
 * small pieces, with the look-ahead at and past its 1 MiB cap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "feed.h"

typedef struct seen {
    uint64_t rows, rejects, sum_lines, sum_ts, first_rej_line;
    int64_t interval;
    feed_csv_stats st;
} seen;

static void on_rej(const feed_reject *r, void *ud)
{
    seen *s = ud;
    if (!s->rejects++)
        s->first_rej_line = r->line;
}

/* Every row of path; interval: ask for the look-ahead. */
static void read_all(const char *path, int interval, seen *s)
{
    memset(s, 0, sizeof *s);
    feed_csv_opts o = {0};
    o.on_reject = on_rej;
    o.ud = s;
    o.symbol = "SYM";
    s->interval = -1;
    o.interval_out = interval ? &s->interval : NULL;
    feed_csv *r = NULL;
    assert_int_equal(feed_csv_open(path, &o, &r), PT_OK);
    pt_candle c;
    int rc;
    while ((rc = feed_csv_next(r, &c)) == PT_OK) {
        s->rows++;
        s->sum_lines += c.line;
        s->sum_ts += (uint64_t)c.ts_ms;
    }
    assert_int_equal(rc, PT_EOF);
    s->st = *feed_csv_get_stats(r);
    feed_csv_free(r);
}

/* n rows a minute apart, each padded with pad bytes in an ignored column;
 * row bad (1-based) has a non-number in open. */
static char *make_csv(int n, size_t pad, int bad, size_t *len)
{
    size_t cap = 64 + (size_t)n * (pad + 64);
    char *b = malloc(cap), *padding = malloc(pad + 1);
    assert_non_null(b);
    assert_non_null(padding);
    memset(padding, 'x', pad);
    padding[pad] = 0;
    size_t k = (size_t)snprintf(b, cap, "timestamp,open,high,low,close,volume,note\n");
    for (int i = 1; i <= n; i++)
        k += (size_t)snprintf(b + k, cap - k, "%lld,%s,2,0.5,1.5,10,%s\n",
                              1700000000000LL + 60000LL * i, i == bad ? "oops" : "1", padding);
    free(padding);
    *len = k;
    return b;
}

static const char *write_file(const char *bytes, size_t len)
{
    static char path[] = "/tmp/pt_lookahead_XXXXXX";
    memcpy(path + sizeof path - 7, "XXXXXX", 6);
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, bytes, len), (ssize_t)len);
    close(fd);
    return path;
}

/* A pipe whose writer (a child) sends bytes in pieces of step; the path
 * names the read end. */
static pid_t pipe_writer(const char *bytes, size_t len, size_t step, char *path, size_t cap)
{
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        for (size_t off = 0; off < len;) {
            size_t n = len - off < step ? len - off : step;
            ssize_t w = write(p[1], bytes + off, n);
            if (w <= 0)
                _exit(1);
            off += (size_t)w;
        }
        _exit(0);
    }
    close(p[1]);
    snprintf(path, cap, "/dev/fd/%d", p[0]);
    return pid;
}

static void same(const seen *a, const seen *b)
{
    assert_int_equal(a->rows, b->rows);
    assert_int_equal(a->rejects, b->rejects);
    assert_int_equal(a->first_rej_line, b->first_rej_line);
    assert_int_equal(a->sum_lines, b->sum_lines);
    assert_int_equal(a->sum_ts, b->sum_ts);
    assert_int_equal(a->st.lines, b->st.lines);
    assert_int_equal(a->st.bytes, b->st.bytes);
}

static void check_case(int n, size_t pad, int bad, size_t step)
{
    size_t len;
    char *csv = make_csv(n, pad, bad, &len);
    const char *file = write_file(csv, len);
    seen plain, ahead, piped;
    read_all(file, 0, &plain);
    assert_int_equal(plain.interval, -1); /* not asked: not written */
    assert_int_equal(plain.rows, (uint64_t)(n - (bad > 0)));
    assert_int_equal(plain.rejects, bad > 0);
    read_all(file, 1, &ahead);
    same(&plain, &ahead);
    assert_int_equal(ahead.interval, 60000);
    char path[64];
    int fd;
    pid_t pid = pipe_writer(csv, len, step, path, sizeof path);
    read_all(path, 1, &piped);
    sscanf(path, "/dev/fd/%d", &fd);
    close(fd);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    same(&plain, &piped);
    assert_int_equal(piped.interval, 60000);
    unlink(file);
    free(csv);
}

static void test_small_pipe_pieces(void **st)
{
    (void)st;
    check_case(3000, 0, 1500, 7); /* 2000 rows of look-ahead, 7-byte reads */
}

static void test_lookahead_cap(void **st)
{
    (void)st;
    /* ~600-byte rows: 1 MiB holds ~1700 rows, under 2000: the cap decides,
     * and the rows past the cut are read from the descriptor, none lost */
    check_case(2500, 560, 2200, 4096);
    /* the bad row inside the look-ahead: reported once, by the reader */
    check_case(2500, 560, 10, 65536);
}

static void test_few_rows(void **st)
{
    (void)st;
    size_t len;
    char *csv = make_csv(1, 0, 0, &len);
    const char *file = write_file(csv, len);
    seen s;
    read_all(file, 1, &s);
    assert_int_equal(s.interval, 0); /* fewer than two rows */
    assert_int_equal(s.rows, 1);
    int64_t ms = 0;
    assert_int_equal(feed_csv_detect_interval(file, NULL, &ms), PT_ERANGE);
    unlink(file);
    free(csv);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_small_pipe_pieces),
        cmocka_unit_test(test_lookahead_cap),
        cmocka_unit_test(test_few_rows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
