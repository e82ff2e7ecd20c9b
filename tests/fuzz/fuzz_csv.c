/* libFuzzer target: the CSV candle reader (feed/feed_csv.c, libcsv under it)
 * over the input as a whole file, then the accepted candles through the
 * quality checker, as `papertrader check` does. Seeds: the broken CSV shapes
 * of tests/fixtures/csv (corpus/fuzz_csv/).
 *
 * Properties: every candle is finite with a clean symbol and a line number
 * inside the file; every reject names a field and carries at most 40
 * printable bytes of text; the counters add up; nothing reads past the
 * input (ASan). */
#include "feed.h"
#include "fuzz_util.h"
#include "quality.h"

typedef struct reject_seen {
    uint64_t n;
    uint64_t max_line;
} reject_seen;

static void on_reject(const feed_reject *r, void *ud)
{
    reject_seen *s = ud;
    s->n++;
    FUZZ_CHECK(r->kind < FEED_REJ__COUNT);
    FUZZ_CHECK(r->field && r->field[0] && r->reason && r->reason[0]);
    FUZZ_CHECK(r->line >= 1 && r->line <= s->max_line);
    if (r->text) {
        size_t n = strlen(r->text);
        FUZZ_CHECK(n <= 40); /* feed.h: "printable, at most 40 chars" */
        for (size_t i = 0; i < n; i++)
            FUZZ_CHECK((unsigned char)r->text[i] >= 0x20 && (unsigned char)r->text[i] < 0x7f);
    }
}

FUZZ_QUIET_INITIALIZE /* log lines off: findings are crashes and FUZZ_CHECKs */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    int fd = fuzz_memfile(data, size, path, sizeof path);
    /* physical lines can never exceed newline count + 1 (CR-only files
     * count CRs as line ends too) */
    uint64_t max_line = 1;
    for (size_t i = 0; i < size; i++)
        max_line += data[i] == '\n' || data[i] == '\r';
    reject_seen seen = {0, max_line};
    feed_csv_opts opts = {.symbol = "FUZZ", .on_reject = on_reject, .ud = &seen};
    feed_csv *r = NULL;
    quality_checker *qc = NULL;

    if (feed_csv_open(path, &opts, &r) != PT_OK)
        goto done;
    quality_config qcfg;
    quality_config_default(&qcfg);
    qcfg.window = 50;
    qcfg.outlier_window = 20;
    qc = quality_new(&qcfg);
    FUZZ_CHECK(qc != NULL);

    pt_candle c;
    int rc;
    uint64_t ok = 0;
    while ((rc = feed_csv_next(r, &c)) == PT_OK) {
        fuzz_check_candle(&c);
        FUZZ_CHECK(c.line >= 1 && c.line <= max_line);
        FUZZ_CHECK(c.closed == 1);
        ok++;
        quality_result qr;
        quality_check(qc, &c, 0, &qr);
        FUZZ_CHECK(isfinite(qr.score) && qr.score >= 0 && qr.score <= 100);
    }
    FUZZ_CHECK(rc == PT_EOF || rc == PT_EIO || rc == PT_EPARSE);
    const feed_csv_stats *st = feed_csv_get_stats(r);
    FUZZ_CHECK(st->rows_ok == ok);
    uint64_t sum = 0;
    for (int k = 0; k < FEED_REJ__COUNT; k++)
        sum += st->by_kind[k];
    FUZZ_CHECK(sum == st->rows_rejected);
    FUZZ_CHECK(seen.n == st->rows_rejected);
    FUZZ_CHECK(st->bytes <= size);

    /* the interval probe (a second open of the same bytes) */
    int64_t ival = 0;
    if (feed_csv_detect_interval(path, &opts, &ival) == PT_OK)
        FUZZ_CHECK(ival > 0);
done:
    quality_free(qc);
    feed_csv_free(r);
    close(fd);
    return 0;
}
