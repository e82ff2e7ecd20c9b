/* feed: CSV reader (the cases of feed/README.md), interval probe, and the
 * real files of /work/shared/data. Sources and the merge: test_feed_source.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "feed.h"

#define MAXC 64

static char tmpdir[256];
static int tmpseq;

typedef struct got {
    int n, nrej, rc;
    pt_candle c[MAXC];
    struct {
        uint64_t line;
        feed_reject_kind kind;
        char field[32], reason[80], text[48];
    } rej[MAXC];
    feed_csv_stats st;
} got;

static void collect(const feed_reject *r, void *ud)
{
    got *g = ud;
    assert_non_null(r->file);
    assert_true(strlen(r->text) <= 40);
    if (g->nrej < MAXC) {
        g->rej[g->nrej].line = r->line;
        g->rej[g->nrej].kind = r->kind;
        snprintf(g->rej[g->nrej].field, sizeof g->rej[0].field, "%s", r->field);
        snprintf(g->rej[g->nrej].reason, sizeof g->rej[0].reason, "%s", r->reason);
        snprintf(g->rej[g->nrej].text, sizeof g->rej[0].text, "%s", r->text);
    }
    g->nrej++;
}

static const char *fixture(const char *name)
{
    static char path[512];
    const char *src = getenv("PT_SOURCE_DIR");
    snprintf(path, sizeof path, "%s/tests/fixtures/csv/%s", src ? src : "..", name);
    if (!src)
        snprintf(path, sizeof path, "fixtures/csv/%s", name); /* ctest runs in tests/ */
    return path;
}

static const char *data_file(const char *name)
{
    static char path[512];
    const char *d = getenv("PT_SHARED_DATA");
    snprintf(path, sizeof path, "%s/%s", d ? d : "/work/shared/data", name);
    return path;
}

static const char *tmp_write(const char *name, const void *bytes, size_t len)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%d_%s", tmpdir, tmpseq++, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, len, f), len);
    fclose(f);
    return path;
}
#define TMP(name, lit) tmp_write(name, lit, sizeof(lit) - 1)

/* Reads a whole file; returns open's error or 0. g->rc is the final next(). */
static int read_all(const char *path, const feed_csv_opts *o, got *g)
{
    memset(g, 0, sizeof *g);
    feed_csv_opts opts = o ? *o : (feed_csv_opts){0};
    opts.on_reject = collect;
    opts.ud = g;
    feed_csv *r = NULL;
    int rc = feed_csv_open(path, &opts, &r);
    if (rc) {
        assert_null(r);
        return rc;
    }
    pt_candle c;
    while ((g->rc = feed_csv_next(r, &c)) == PT_OK) {
        if (g->n < MAXC)
            g->c[g->n] = c;
        g->n++;
    }
    g->st = *feed_csv_get_stats(r);
    assert_int_equal(g->st.rows_ok, (uint64_t)g->n);
    assert_int_equal(g->st.rows_rejected, (uint64_t)g->nrej);
    feed_csv_free(r);
    return 0;
}

#define HDR "timestamp,open,high,low,close,volume\n"

/* ---------------------------------------------------------- C1-C5 */

static void test_c01_empty(void **st)
{
    (void)st;
    got g;
    assert_int_equal(read_all(fixture("c01_empty.csv"), NULL, &g), PT_EPARSE);
    assert_int_equal(read_all(TMP("blank.csv", "\n\r\n\n"), NULL, &g), PT_EPARSE);
}

static void test_c02_header_only(void **st)
{
    (void)st;
    got g;
    assert_int_equal(read_all(fixture("c02_header_only.csv"), NULL, &g), PT_OK);
    assert_int_equal(g.rc, PT_EOF);
    assert_int_equal(g.n, 0);
    assert_int_equal(g.st.lines, 1);
    /* no newline after the header either */
    assert_int_equal(read_all(TMP("h.csv", "timestamp,open,high,low,close,volume"), NULL, &g),
                     PT_OK);
    assert_int_equal(g.n, 0);
    assert_int_equal(g.rc, PT_EOF);
}

static char logged[4096];
static int nlogged;
static void log_capture(pt_log_level lvl, const char *line, void *ud)
{
    (void)lvl;
    (void)ud;
    nlogged++;
    size_t have = strlen(logged);
    snprintf(logged + have, sizeof logged - have, "%s\n", line);
}

static void test_c03_columns(void **st)
{
    (void)st;
    got g;
    logged[0] = '\0';
    pt_log_set_sink(log_capture, NULL);
    assert_int_equal(read_all(fixture("c03_missing_volume.csv"), NULL, &g), PT_EPARSE);
    pt_log_set_sink(NULL, NULL);
    assert_non_null(strstr(logged, "missing required column 'volume'"));
    assert_non_null(strstr(logged, "c03_missing_volume.csv:1"));

    assert_int_equal(read_all(fixture("c03_reordered.csv"), NULL, &g), PT_OK);
    assert_int_equal(g.n, 2);
    assert_int_equal(g.c[1].ts_ms, 1700000060000);
    assert_true(g.c[1].open == 4 && g.c[1].high == 6 && g.c[1].low == 3 && g.c[1].close == 5.5 &&
                g.c[1].volume == 20);
    assert_int_equal(g.c[1].line, 3);
    assert_int_equal(g.c[0].closed, 1);

    /* names with units, case-insensitive, extra column */
    assert_int_equal(read_all(fixture("header_units.csv"), NULL, &g), PT_OK);
    assert_int_equal(g.n, 1);
    assert_true(g.c[0].open == 1 && g.c[0].volume == 10);
    /* other time column names */
    const char *names[] = {"time", "date", "open_time", "datetime", "Open Time"};
    for (size_t i = 0; i < 5; i++) {
        char buf[200];
        int n = snprintf(buf, sizeof buf, "%s,open,high,low,close,volume\n1700000000,1,2,0.5,1,3\n",
                         names[i]);
        assert_int_equal(read_all(tmp_write("t.csv", buf, (size_t)n), NULL, &g), PT_OK);
        assert_int_equal(g.n, 1);
        assert_int_equal(g.c[0].ts_ms, 1700000000000);
    }
    /* no header at all: a data row where the header should be */
    assert_int_equal(read_all(TMP("nohdr.csv", "1700000000000,1,2,0.5,1.5,10\n"), NULL, &g),
                     PT_EPARSE);
}

static void test_c04_extra_and_empty(void **st)
{
    (void)st;
    got g;
    const char csv[] = "timestamp,open,high,low,close,volume,extra\n"
                       "1700000000000,1,2,0.5,1.5,10,zz\n"  /* 2 ok */
                       "1700000060000,1,2,0.5,1.5,10,\n"    /* 3 ok: empty extra */
                       "1700000120000,1,2,0.5,1.5,10,a,b,\n" /* 4 more fields than the header */
                       "1700000180000,1,2,0.5,1.5,,x\n"     /* 5 empty volume */
                       "1700000240000,1,2,0.5\n"            /* 6 too few fields */
                       "1700000300000,1,2,0.5,1.5,10\n";    /* 7 ok, no extra */
    assert_int_equal(read_all(TMP("c04.csv", csv), NULL, &g), PT_OK);
    assert_int_equal(g.n, 3);
    assert_int_equal(g.nrej, 3);
    /* issue 11: a row with more fields than the header is shifted or two
     * rows merged; its values cannot be trusted */
    assert_int_equal(g.rej[0].line, 4);
    assert_int_equal(g.rej[0].kind, FEED_REJ_BAD_CSV);
    assert_string_equal(g.rej[0].field, "row");
    assert_string_equal(g.rej[0].reason, "9 fields, the header has 7");
    assert_int_equal(g.rej[1].line, 5);
    assert_int_equal(g.rej[1].kind, FEED_REJ_MISSING_FIELD);
    assert_string_equal(g.rej[1].field, "volume");
    assert_int_equal(g.rej[2].line, 6);
    assert_int_equal(g.rej[2].kind, FEED_REJ_MISSING_FIELD);
    assert_string_equal(g.rej[2].field, "close");
    assert_int_equal(g.st.by_kind[FEED_REJ_MISSING_FIELD], 2);
    assert_int_equal(g.c[2].line, 7);
}

static void test_c05_bom(void **st)
{
    (void)st;
    got g;
    assert_int_equal(read_all(fixture("c05_bom.csv"), NULL, &g), PT_OK);
    assert_int_equal(g.n, 1);
    assert_int_equal(g.c[0].ts_ms, 1700000000000);
}

/* ---------------------------------------------------------- C6-C9 */

static void test_c06_line_endings(void **st)
{
    (void)st;
    got g;
    assert_int_equal(read_all(fixture("c06_mixed_eol.csv"), NULL, &g), PT_OK);
    assert_int_equal(g.nrej, 0);
    assert_int_equal(g.n, 4);
    const double closes[] = {1.5, 1.25, 1.75, 1.5};
    for (int i = 0; i < 4; i++) {
        assert_true(g.c[i].close == closes[i]);
        assert_true(g.c[i].volume == 10 + i);
        assert_int_equal(g.c[i].line, (uint64_t)i + 2);
    }
    assert_int_equal(g.st.lines, 5);
    /* a CR inside a quoted value never silently becomes part of a number */
    assert_int_equal(read_all(TMP("cr.csv", HDR "1700000000000,1,2,0.5,\"1.5\r\",10\n"), NULL, &g),
                     PT_OK);
    assert_int_equal(g.n, 0);
    assert_int_equal(g.rej[0].kind, FEED_REJ_BAD_NUMBER);
    assert_string_equal(g.rej[0].field, "close");
}

/* CRLF split exactly at the 64 KiB read boundary: one line, not two */
static void test_c06_crlf_across_chunks(void **st)
{
    (void)st;
    const char *hdr = "timestamp,open,high,low,close,volume\r\n";
    size_t cap = 200000, len = strlen(hdr);
    char *buf = malloc(cap);
    memcpy(buf, hdr, len);
    int rows = 0;
    while (len < 65536 - 40) {
        len += (size_t)sprintf(buf + len, "%lld,1,2,0.5,1.5,10\r\n", 1700000000000LL + rows * 60000LL);
        rows++;
    }
    /* pad the next row's volume so that its '\r' is the chunk's last byte */
    int pre = sprintf(buf + len, "%lld,1,2,0.5,1.5,", 1700000000000LL + rows * 60000LL);
    len += (size_t)pre;
    while (len < 65535)
        buf[len++] = '1';
    buf[len++] = '\r';
    buf[len++] = '\n';
    rows++;
    len += (size_t)sprintf(buf + len, "%lld,1,2,0.5,1.5,7\r\n", 1700000000000LL + rows * 60000LL);
    rows++;
    got g;
    assert_int_equal(read_all(tmp_write("split.csv", buf, len), NULL, &g), PT_OK);
    free(buf);
    assert_int_equal(g.nrej, 0);
    assert_int_equal(g.n, rows);
    assert_int_equal(g.st.lines, (uint64_t)rows + 1);
}

static void test_c07_quotes(void **st)
{
    (void)st;
    got g;
    assert_int_equal(read_all(fixture("c07_quotes.csv"), NULL, &g), PT_OK);
    assert_int_equal(g.n, 3);
    assert_true(g.c[0].open == 1.5);
    assert_int_equal(g.nrej, 1);
    assert_int_equal(g.rej[0].line, 3);
    assert_int_equal(g.rej[0].kind, FEED_REJ_BAD_NUMBER);
    assert_string_equal(g.rej[0].field, "open");
    assert_string_equal(g.rej[0].text, "1,5");
    /* the quoted newline: the row starts on line 4, the next on line 6 */
    assert_int_equal(g.c[1].line, 4);
    assert_int_equal(g.c[2].line, 6);
    assert_int_equal(g.st.lines, 6);

    assert_int_equal(read_all(fixture("c07_unterminated.csv"), NULL, &g), PT_OK);
    assert_int_equal(g.rc, PT_EOF);
    assert_int_equal(g.n, 1);
    assert_int_equal(g.nrej, 1);
    assert_int_equal(g.rej[0].kind, FEED_REJ_BAD_CSV);
    assert_int_equal(g.rej[0].line, 3);

    /* blanks around a value are kept on the libcsv path too (a quote elsewhere
     * on the line sends it there), so " 12" is not a number there either */
    assert_int_equal(read_all(TMP("qs.csv", HDR "1700000000000, 12,2,0.5,1.5,\"10\"\n"
                                                "1700000060000,12,2,0.5,1.5 ,\"10\"\n"
                                                "1700000120000,12,2,0.5,1.5,\"10\"\n"),
                              NULL, &g),
                     PT_OK);
    assert_int_equal(g.n, 1);
    assert_int_equal(g.nrej, 2);
    assert_string_equal(g.rej[0].field, "open");
    assert_string_equal(g.rej[1].field, "close");
    assert_string_equal(g.rej[1].text, "1.5 ");

    /* stray quote in an unquoted field: that line only */
    assert_int_equal(read_all(TMP("q.csv", HDR "1700000000000,2\"x,2,0.5,1.5,10\n"
                                               "1700000060000,1,2,0.5,1.5,10\n"),
                              NULL, &g),
                     PT_OK);
    assert_int_equal(g.n, 1);
    assert_int_equal(g.rej[0].kind, FEED_REJ_BAD_CSV);
    assert_int_equal(g.rej[0].line, 2);
    assert_int_equal(g.c[0].line, 3);
}

static void expect_bad_open(const char *const *vals, size_t n)
{
    char *buf = malloc(64 * n + 64);
    size_t len = (size_t)sprintf(buf, HDR);
    for (size_t i = 0; i < n; i++)
        len += (size_t)sprintf(buf + len, "%lld,%s,2,0.5,1.5,10\n", 1700000000000LL + (long long)i,
                               vals[i]);
    len += (size_t)sprintf(buf + len, "1700000999000,1,2,0.5,1.5,10\n");
    got g;
    assert_int_equal(read_all(tmp_write("bad.csv", buf, len), NULL, &g), PT_OK);
    free(buf);
    assert_int_equal(g.n, 1);
    assert_int_equal(g.nrej, (int)n);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(g.rej[i].line, i + 2);
        assert_string_equal(g.rej[i].field, "open");
        assert_true(g.rej[i].kind == FEED_REJ_BAD_NUMBER ||
                    ((vals[i][0] == '\0' || !strcmp(vals[i], "\"\"")) && g.rej[i].kind == FEED_REJ_MISSING_FIELD));
    }
}

static void test_c08_bad_numbers(void **st)
{
    (void)st;
    const char *v[] = {"abc", "12abc", "1_000", "+5", "0x1p3", " 12", "12 ", "", "\"\"", "1.2.3",
                       "\" 12\"", "\t12", "--1"};
    expect_bad_open(v, sizeof v / sizeof v[0]);
}

static void test_c09_non_finite(void **st)
{
    (void)st;
    const char *v[] = {"nan", "NaN", "inf", "-Infinity", "1e400", "1e-400"};
    expect_bad_open(v, sizeof v / sizeof v[0]);
}

/* ---------------------------------------------------------- C10-C16 */

static void test_c10_c15_pass_through(void **st)
{
    (void)st;
    got g;
    const char csv[] = HDR "1700000120000,-1,2,0.5,1.5,-10\n" /* negative price and volume */
                           "1700000060000,0,0,0,0,0\n"        /* out of order, zero */
                           "1700000060000,5,1,9,7,1\n"        /* duplicate stamp, high < low */
                           "1700009999000,1,2,0.5,1.5,10\n";  /* gap */
    assert_int_equal(read_all(TMP("pass.csv", csv), NULL, &g), PT_OK);
    assert_int_equal(g.nrej, 0);
    assert_int_equal(g.n, 4);
    assert_int_equal(g.c[0].ts_ms, 1700000120000);
    assert_int_equal(g.c[1].ts_ms, 1700000060000);
    assert_int_equal(g.c[2].ts_ms, 1700000060000);
    assert_true(g.c[0].open == -1 && g.c[0].volume == -10 && g.c[2].high == 1 && g.c[2].low == 9);
}

static void test_c16_timestamps(void **st)
{
    (void)st;
    got g;
    struct {
        const char *stamp;
        pt_time_kind kind;
        int64_t ms;
    } ok[] = {
        {"1700000000", PT_TIME_EPOCH_S, 1700000000000},
        {"1700000000123", PT_TIME_EPOCH_MS, 1700000000123},
        {"1700000000123456", PT_TIME_EPOCH_US, 1700000000123},
        {"2023-11-14T22:13:20Z", PT_TIME_ISO_UTC, 1700000000000},
        {"2023-11-14T23:13:20+01:00", PT_TIME_ISO_OFFSET, 1700000000000},
        {"2023-11-14T22:13:20", PT_TIME_ISO_NAIVE, 1700000000000},
        {"2023-11-14 22:13:20.5", PT_TIME_ISO_NAIVE, 1700000000500},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        char buf[256];
        int n = snprintf(buf, sizeof buf, HDR "%s,1,2,0.5,1.5,10\n", ok[i].stamp);
        assert_int_equal(read_all(tmp_write("t.csv", buf, (size_t)n), NULL, &g), PT_OK);
        assert_int_equal(g.n, 1);
        assert_int_equal(g.c[0].ts_ms, ok[i].ms);
        assert_int_equal(g.st.time_kind, ok[i].kind);
    }
    /* naive stamps in a given zone */
    pt_tz tz;
    assert_int_equal(pt_tz_parse("+02:00", &tz), PT_OK);
    feed_csv_opts o = {.tz = &tz};
    assert_int_equal(read_all(TMP("tz.csv", HDR "2023-11-15T00:13:20,1,2,0.5,1.5,10\n"), &o, &g),
                     PT_OK);
    assert_int_equal(g.c[0].ts_ms, 1700000000000);

    /* absurd ones; the kind is pinned by the first good row (seconds), so a
     * later millisecond stamp is out of range, not silently reinterpreted */
    const char csv[] = HDR "0,1,2,0.5,1.5,10\n"
                           "-1700000000,1,2,0.5,1.5,10\n"
                           "1700000000,1,2,0.5,1.5,10\n"
                           "4102444800,1,2,0.5,1.5,10\n" /* 2100-01-01 */
                           "1700000060000,1,2,0.5,1.5,10\n"
                           "2023-11-14T22:13:20Z,1,2,0.5,1.5,10\n"
                           "12:00,1,2,0.5,1.5,10\n"
                           "1700000060,1,2,0.5,1.5,10\n";
    assert_int_equal(read_all(TMP("absurd.csv", csv), NULL, &g), PT_OK);
    assert_int_equal(g.n, 2);
    assert_int_equal(g.nrej, 6);
    assert_int_equal(g.st.by_kind[FEED_REJ_BAD_TIME], 6);
    assert_string_equal(g.rej[0].field, "timestamp");
    assert_int_equal(g.st.time_kind, PT_TIME_EPOCH_S);
    assert_int_equal(g.c[1].ts_ms, 1700000060000);
    /* forced kind */
    o = (feed_csv_opts){.time_kind = PT_TIME_EPOCH_S};
    assert_int_equal(read_all(TMP("forced.csv", HDR "1700000000000,1,2,0.5,1.5,10\n"), &o, &g),
                     PT_OK);
    assert_int_equal(g.n, 0);
    assert_int_equal(g.rej[0].kind, FEED_REJ_BAD_TIME);
}

/* ---------------------------------------------------------- C17-C19 */

static const char *write_long_line_file(size_t long_len, int newline_after)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/long_%d.csv", tmpdir, tmpseq++);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(HDR "1700000000000,1,2,0.5,1.5,10\n", f);
    char block[4096];
    memset(block, '7', sizeof block);
    for (size_t done = 0; done < long_len; done += sizeof block)
        fwrite(block, 1, sizeof block, f);
    if (newline_after)
        fputs("\n1700000060000,1,2,0.5,1.5,10\n", f);
    fclose(f);
    return path;
}

static void test_c17_long_line(void **st)
{
    (void)st;
    long before = pt_rss_peak_kb();
    got g;
    assert_int_equal(read_all(write_long_line_file(10u << 20, 1), NULL, &g), PT_OK);
    assert_int_equal(g.n, 2);
    assert_int_equal(g.nrej, 1);
    assert_int_equal(g.rej[0].kind, FEED_REJ_LINE_TOO_LONG);
    assert_int_equal(g.rej[0].line, 3);
    assert_non_null(strstr(g.rej[0].reason, "4096"));
    assert_int_equal(g.c[1].line, 4);
    assert_int_equal(g.st.lines, 4);
    /* at the end of the file, no newline */
    assert_int_equal(read_all(write_long_line_file(10u << 20, 0), NULL, &g), PT_OK);
    assert_int_equal(g.n, 1);
    assert_int_equal(g.st.by_kind[FEED_REJ_LINE_TOO_LONG], 1);
    long grew = pt_rss_peak_kb() - before;
    assert_true(grew < 2048); /* a buffered 10 MB line would show here */

    /* the limit is configurable */
    feed_csv_opts o = {.max_line = 40};
    assert_int_equal(read_all(TMP("ml.csv", HDR "1700000000000,1,2,0.5,1.5,10\n"
                                                "1700000060000,1,2,0.5,1.5,10.00000000000000\n"),
                              &o, &g),
                     PT_OK);
    assert_int_equal(g.n, 1);
    assert_int_equal(g.rej[0].kind, FEED_REJ_LINE_TOO_LONG);
    assert_int_equal(g.rej[0].line, 3);
}

static void test_c18_bytes_and_symbols(void **st)
{
    (void)st;
    got g;
    const char nul[] = HDR "1700000000000,1,2\0,0.5,1.5,10\n"
                           "1700000060000,1,2,0.5,1.5,10\n";
    assert_int_equal(read_all(tmp_write("nul.csv", nul, sizeof nul - 1), NULL, &g), PT_OK);
    assert_int_equal(g.n, 1);
    assert_int_equal(g.rej[0].kind, FEED_REJ_BAD_BYTES);
    assert_int_equal(g.rej[0].line, 2);

    const char sym[] = "symbol,timestamp,open,high,low,close,volume\n"
                       "BTC\xC3\x28,1700000000000,1,2,0.5,1.5,10\n"  /* invalid UTF-8 */
                       ",1700000000000,1,2,0.5,1.5,10\n"             /* empty */
                       "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345,1700000000000,1,2,0.5,1.5,10\n" /* 32 */
                       "ABCDEFGHIJKLMNOPQRSTUVWXYZ01234,1700000000000,1,2,0.5,1.5,10\n"  /* 31 */
                       "BTC EUR,1700000000000,1,2,0.5,1.5,10\n";
    assert_int_equal(read_all(TMP("sym.csv", sym), NULL, &g), PT_OK);
    assert_int_equal(g.n, 1);
    assert_string_equal(g.c[0].symbol, "ABCDEFGHIJKLMNOPQRSTUVWXYZ01234");
    assert_int_equal(g.st.by_kind[FEED_REJ_BAD_SYMBOL], 4);
    assert_string_equal(g.rej[0].field, "symbol");
    assert_string_equal(g.rej[0].text, "BTC?(");
    assert_int_equal(g.st.has_symbol_column, 1);
}

static void test_c19_no_final_newline(void **st)
{
    (void)st;
    got g;
    assert_int_equal(read_all(TMP("nofinal.csv", HDR "1700000000000,1,2,0.5,1.5,10\n"
                                                     "1700000060000,1,2,0.5,1.5,12.5"),
                              NULL, &g),
                     PT_OK);
    assert_int_equal(g.n, 2);
    assert_true(g.c[1].volume == 12.5);
    assert_int_equal(g.st.lines, 3);
}

/* ---------------------------------------------------------- C20-C22 */

static const char *write_rows(const char *name, int rows)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(HDR, f);
    for (int i = 0; i < rows; i++)
        fprintf(f, "%lld,%d.25,%d.5,%d,%d.125,%d\n", 1500000000000LL + i * 60000LL, i % 1000,
                i % 1000 + 1, i % 1000, i % 1000, i);
    fclose(f);
    return path;
}

static uint64_t count_rows(const char *path, long *peak_kb)
{
    feed_csv *r;
    assert_int_equal(feed_csv_open(path, NULL, &r), PT_OK);
    pt_candle c;
    uint64_t n = 0;
    int64_t last = 0;
    while (feed_csv_next(r, &c) == PT_OK) {
        assert_true(c.ts_ms > last);
        last = c.ts_ms;
        n++;
    }
    assert_int_equal(feed_csv_get_stats(r)->rows_rejected, 0);
    feed_csv_free(r);
    *peak_kb = pt_rss_peak_kb();
    return n;
}

static void test_c20_constant_memory(void **st)
{
    (void)st;
#if defined(__SANITIZE_ADDRESS__)
    const int big = 200000; /* keep the sanitizer run short */
#else
    const int big = 1000000;
#endif
    long small_peak, big_peak;
    const char *p = write_rows("small.csv", 10000);
    assert_int_equal(count_rows(p, &small_peak), 10000);
    unlink(p);
    p = write_rows("big.csv", big);
    assert_int_equal(count_rows(p, &big_peak), (uint64_t)big);
    unlink(p);
    assert_true(big_peak - small_peak < 1024);
}

static void test_c21_files(void **st)
{
    (void)st;
    feed_csv *r = NULL;
    assert_int_equal(feed_csv_open("/nonexistent/x.csv", NULL, &r), PT_ENOENT);
    assert_int_equal(feed_csv_open(tmpdir, NULL, &r), PT_EIO);
    assert_null(r);
    if (geteuid() != 0) {
        const char *p = TMP("noread.csv", HDR);
        chmod(p, 0);
        assert_int_equal(feed_csv_open(p, NULL, &r), PT_EIO);
    }

    /* a FIFO streams */
    char fifo[512];
    snprintf(fifo, sizeof fifo, "%s/fifo.csv", tmpdir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        alarm(10);
        FILE *f = fopen(fifo, "w");
        fputs(HDR, f);
        for (int i = 0; i < 5000; i++)
            fprintf(f, "%lld,1,2,0.5,1.5,%d\n", 1700000000000LL + i * 60000LL, i);
        fclose(f);
        _exit(0);
    }
    got g;
    assert_int_equal(read_all(fifo, NULL, &g), PT_OK);
    int status;
    waitpid(pid, &status, 0);
    assert_int_equal(g.rc, PT_EOF);
    assert_int_equal(g.n, 5000);

    /* truncated while being read */
    const char *p = write_rows("trunc.csv", 8000);
    assert_int_equal(feed_csv_open(p, NULL, &r), PT_OK);
    pt_candle c;
    assert_int_equal(feed_csv_next(r, &c), PT_OK);
    assert_int_equal(truncate(p, 100000), 0);
    int rc;
    logged[0] = '\0';
    pt_log_set_sink(log_capture, NULL);
    while ((rc = feed_csv_next(r, &c)) == PT_OK)
        ;
    pt_log_set_sink(NULL, NULL);
    assert_int_equal(rc, PT_EIO);
    assert_int_equal(feed_csv_next(r, &c), PT_EIO); /* sticky */
    assert_non_null(strstr(logged, "truncated"));
    assert_non_null(strstr(logged, "100000"));
    feed_csv_free(r);
}

static void test_c22_corrupted(void **st)
{
    (void)st;
    const int rows = 20000;
    char path[512];
    snprintf(path, sizeof path, "%s/corrupt.csv", tmpdir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(HDR, f);
    srand(12345);
    int corrupted = 0;
    for (int i = 0; i < rows; i++) {
        char v[6][32];
        snprintf(v[0], 32, "%lld", 1500000000000LL + i * 60000LL);
        for (int k = 1; k < 6; k++)
            snprintf(v[k], 32, "%d.%d", i % 97 + k, i % 10);
        if (rand() % 100 < 5) {
            int k = rand() % 6;
            snprintf(v[k], 32, "%s", k == 0 ? "x" : (rand() & 1) ? "x" : "1.2.3");
            corrupted++;
        }
        fprintf(f, "%s,%s,%s,%s,%s,%s\n", v[0], v[1], v[2], v[3], v[4], v[5]);
    }
    fclose(f);
    got g;
    assert_int_equal(read_all(path, NULL, &g), PT_OK);
    assert_true(corrupted > 500);
    assert_int_equal(g.nrej, corrupted);
    assert_int_equal(g.n, rows - corrupted);
    unlink(path);
}

/* ---------------------------------------------------------- more */

static void test_default_reject_log(void **st)
{
    (void)st;
    char buf[4096];
    size_t len = (size_t)sprintf(buf, HDR);
    for (int i = 0; i < 25; i++)
        len += (size_t)sprintf(buf + len, "%lld,12abc,2,0.5,1.5,10\n", 1700000000000LL + i);
    const char *p = tmp_write("log.csv", buf, len);
    logged[0] = '\0';
    nlogged = 0;
    pt_log_set_sink(log_capture, NULL);
    feed_csv *r;
    assert_int_equal(feed_csv_open(p, NULL, &r), PT_OK);
    pt_candle c;
    assert_int_equal(feed_csv_next(r, &c), PT_EOF);
    pt_log_set_sink(NULL, NULL);
    assert_int_equal(feed_csv_get_stats(r)->rows_rejected, 25);
    assert_int_equal(feed_csv_get_stats(r)->by_kind[FEED_REJ_BAD_NUMBER], 25);
    feed_csv_free(r);
    char want[600];
    snprintf(want, sizeof want, "%s:2: field 'open': not a number ('12abc')", p);
    assert_non_null(strstr(logged, want));
    assert_int_equal(nlogged, 21); /* 20 rows, then one summary */
    assert_non_null(strstr(logged, "25 rows rejected"));
    assert_string_equal(feed_reject_name(FEED_REJ_BAD_TIME), "bad_timestamp");
}

static void test_symbols(void **st)
{
    (void)st;
    got g;
    const char *p = TMP("sym_from_name.csv", HDR "1700000000000,1,2,0.5,1.5,10\n");
    assert_int_equal(read_all(p, NULL, &g), PT_OK);
    assert_string_equal(g.c[0].symbol + strlen(g.c[0].symbol) - strlen("sym_from_name"),
                        "sym_from_name");
    assert_int_equal(g.st.has_symbol_column, 0);
    feed_csv_opts o = {.symbol = "ETH-EUR"};
    assert_int_equal(read_all(p, &o, &g), PT_OK);
    assert_string_equal(g.c[0].symbol, "ETH-EUR");
    o.symbol = "bad symbol";
    feed_csv *r = NULL;
    assert_int_equal(feed_csv_open(p, &o, &r), PT_EINVAL);
    assert_int_equal(read_all(fixture("multi_symbol.csv"), NULL, &g), PT_OK);
    assert_int_equal(g.n, 6);
    assert_string_equal(g.c[1].symbol, "ETH-EUR");
    assert_string_equal(g.c[2].symbol, "BTC-EUR");
}

static void test_detect_interval(void **st)
{
    (void)st;
    int64_t ms = 0;
    assert_int_equal(feed_csv_detect_interval(data_file("freqtrade_ADA-BTC_5m.csv"), NULL, &ms),
                     PT_OK);
    assert_int_equal(ms, 300000);
    assert_int_equal(feed_csv_detect_interval(data_file("backtrader_index-future_2006_1m.csv"),
                                              NULL, &ms),
                     PT_OK);
    assert_int_equal(ms, 60000);
    /* per symbol: BTC steps 1m, ETH steps 5m; interleaved rows must not mix */
    const char csv[] = "symbol,timestamp,open,high,low,close,volume\n"
                       "B,1700000000000,1,2,0.5,1.5,10\nE,1700000000000,1,2,0.5,1.5,10\n"
                       "B,1700000060000,1,2,0.5,1.5,10\nE,1700000300000,1,2,0.5,1.5,10\n"
                       "E,1700000600000,1,2,0.5,1.5,10\nE,1700000900000,1,2,0.5,1.5,10\n";
    assert_int_equal(feed_csv_detect_interval(TMP("iv.csv", csv), NULL, &ms), PT_OK);
    assert_int_equal(ms, 300000);
    assert_int_equal(feed_csv_detect_interval(TMP("one.csv", HDR "1700000000000,1,2,0.5,1.5,10\n"),
                                              NULL, &ms),
                     PT_ERANGE);
    assert_int_equal(feed_csv_detect_interval("/nonexistent.csv", NULL, &ms), PT_ENOENT);
}

static void test_real_files(void **st)
{
    (void)st;
    struct {
        const char *name;
        int rows;
        int64_t first_ms;
        pt_time_kind kind;
    } files[] = {
        {"freqtrade_UNITTEST-BTC_1m.csv", 13681, 1509836520000, PT_TIME_EPOCH_MS},
        {"freqtrade_ADA-BTC_5m.csv", 5720, 1515560100000, PT_TIME_EPOCH_MS},
        {"freqtrade_XRP-ETH_1m.csv", 3560, 1570752000000, PT_TIME_EPOCH_MS},
        {"backtrader_index-future_2006_1m.csv", 30889, 1136192460000, PT_TIME_ISO_NAIVE},
    };
    for (size_t i = 0; i < 4; i++) {
        got g;
        assert_int_equal(read_all(data_file(files[i].name), NULL, &g), PT_OK);
        assert_int_equal(g.rc, PT_EOF);
        assert_int_equal(g.nrej, 0);
        assert_int_equal(g.n, files[i].rows);
        assert_int_equal(g.st.lines, (uint64_t)files[i].rows + 1);
        assert_int_equal(g.c[0].ts_ms, files[i].first_ms);
        assert_int_equal(g.st.time_kind, files[i].kind);
    }
    got g;
    read_all(data_file("backtrader_index-future_2006_1m.csv"), NULL, &g);
    assert_true(g.c[0].open == 3602 && g.c[0].volume == 5699);
    assert_string_equal(g.c[0].symbol, "backtrader_index-future_2006_1m");
}

static int setup(void **st)
{
    (void)st;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/pt_test_feed_XXXXXX");
    if (!mkdtemp(tmpdir))
        return -1;
    pt_log_set_stderr(0);
    return 0;
}

static int teardown(void **st)
{
    (void)st;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_c17_long_line), /* first: its RSS check needs a low peak */
        cmocka_unit_test(test_c01_empty),
        cmocka_unit_test(test_c02_header_only),
        cmocka_unit_test(test_c03_columns),
        cmocka_unit_test(test_c04_extra_and_empty),
        cmocka_unit_test(test_c05_bom),
        cmocka_unit_test(test_c06_line_endings),
        cmocka_unit_test(test_c06_crlf_across_chunks),
        cmocka_unit_test(test_c07_quotes),
        cmocka_unit_test(test_c08_bad_numbers),
        cmocka_unit_test(test_c09_non_finite),
        cmocka_unit_test(test_c10_c15_pass_through),
        cmocka_unit_test(test_c16_timestamps),
        cmocka_unit_test(test_c18_bytes_and_symbols),
        cmocka_unit_test(test_c19_no_final_newline),
        cmocka_unit_test(test_c20_constant_memory),
        cmocka_unit_test(test_c21_files),
        cmocka_unit_test(test_c22_corrupted),
        cmocka_unit_test(test_default_reject_log),
        cmocka_unit_test(test_symbols),
        cmocka_unit_test(test_detect_interval),
        cmocka_unit_test(test_real_files),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
