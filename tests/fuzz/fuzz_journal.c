/* libFuzzer target: the durable ledger's read side, as a resume runs it:
 * torn-tail repair (pf_ledger_repair_tail) then the strict trades.csv reader
 * (pf_trades_read) over the input as a whole file. A damaged session folder
 * (disk errors, hand edits, a foreign file) must give a clear error naming
 * path:line:field, never a crash or a row it did not check.
 *
 * Properties: after repair the file ends with '\n' or is empty, and the
 * bytes moved aside are exactly the unterminated tail; every row the reader
 * hands out has finite numbers, a clean symbol, a line inside the file and
 * strictly increasing lines; PT_OK means the whole file was read. */
#include "fuzz_util.h"
#include "portfolio.h"

#include <fcntl.h>
#include <sys/stat.h>

typedef struct seen {
    uint64_t rows, last_line, max_line;
} seen;

static int on_row(const pf_trade_row *r, void *ud)
{
    seen *s = ud;
    FUZZ_CHECK(r->line > s->last_line && r->line <= s->max_line);
    s->last_line = r->line;
    s->rows++;
    FUZZ_CHECK(isfinite(r->fill.qty) && isfinite(r->fill.price) && isfinite(r->fill.fee));
    FUZZ_CHECK(isfinite(r->realized_pnl) && isfinite(r->cash_after));
    FUZZ_CHECK(r->fill.symbol && r->fill.symbol[0] && strlen(r->fill.symbol) < PT_SYMBOL_MAX);
    return 0;
}

FUZZ_QUIET_INITIALIZE

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* a real file: repair truncates and writes PATH.torn beside it */
    char dir[] = "/tmp/fuzz-journal-XXXXXX", path[64], torn[80];
    if (!mkdtemp(dir))
        abort();
    snprintf(path, sizeof path, "%s/trades.csv", dir);
    snprintf(torn, sizeof torn, "%s.torn", path);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || pt_write_all(fd, data, size))
        abort();
    close(fd);
    size_t tail = 0;
    while (tail < size && data[size - 1 - tail] != '\n')
        tail++;
    long moved = pf_ledger_repair_tail(path);
    FUZZ_CHECK(moved >= 0);
    struct stat st;
    FUZZ_CHECK(stat(path, &st) == 0);
    if (tail <= (1u << 20)) { /* the repair's own bound: a bigger tail is not a torn row */
        FUZZ_CHECK((size_t)moved == tail && (size_t)st.st_size == size - tail);
    }
    seen s = {0, 0, 0};
    for (size_t i = 0; i < (size_t)st.st_size; i++)
        s.max_line += data[i] == '\n';
    int rc = pf_trades_read(path, on_row, &s);
    FUZZ_CHECK(rc == PT_OK || rc == PT_ECORRUPT || rc == PT_EPARSE || rc == PT_EIO || rc == PT_ERANGE);
    if (rc == PT_OK) /* the header line, then one row per line */
        FUZZ_CHECK(s.rows + 1 == s.max_line);
    unlink(torn);
    unlink(path);
    rmdir(dir);
    return 0;
}
