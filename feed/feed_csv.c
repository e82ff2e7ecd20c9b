/* CSV candle reader: a pull API (feed_csv_next) over libcsv's push callbacks.
 *
 * How it streams: 64 KiB read() chunks; each chunk is cut into physical
 * lines (ending in '\n', "\r\n" or a lone '\r') and fed to libcsv one line at
 * a time. libcsv tracks no line numbers (csv_parse(3) reports none), so
 * we count them here, and feeding line by line tells us on which line each
 * record started. Rows only end at a line end, so one line yields at most one
 * row and the ready queue stays tiny. A record longer than max_line is cut
 * off before libcsv sees more of it: its field buffer, our only growing
 * allocation, stays below max_line.
 *
 * Interval look-ahead (feed_csv_opts.interval_out): one pass over the input,
 * so a FIFO or a pipe works. While the header is read, every byte read() is
 * also kept in a look-ahead buffer; a quiet probe reader then parses that
 * buffer and reads on from the same descriptor (appending) up to FEED_PROBE_ROWS
 * rows or FEED_PROBE_BYTES; this reader then takes its next bytes from the buffer
 * before the descriptor, so it sees exactly the bytes a plain read would.
 */
#include "feed.h"
#include "feed_csv_internal.h"

#include <csv.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOG_FIRST 20   /* default reject handler logs this many, then counts */
#define CSV_OPTS (CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL)

#define REQUIRED_MASK ((1u << R_TIME) | (1u << R_OPEN) | (1u << R_HIGH) | (1u << R_LOW) | \
                       (1u << R_CLOSE) | (1u << R_VOLUME))

static const char *const role_canon[R__N] = {"timestamp", "open",   "high",  "low",
                                             "close",     "volume", "symbol"};

/* Header names (after normalising, see norm_name) -> role. Several spellings
 * of the time column exist; the highest prio wins if a file has two. */
static const struct {
    const char *name;
    uint8_t role, prio;
} header_names[] = {
    {"timestamp", R_TIME, 5}, {"datetime", R_TIME, 4}, {"open_time", R_TIME, 3},
    {"time", R_TIME, 2},      {"date", R_TIME, 1},     {"open", R_OPEN, 1},
    {"high", R_HIGH, 1},      {"low", R_LOW, 1},       {"close", R_CLOSE, 1},
    {"volume", R_VOLUME, 1},  {"symbol", R_SYMBOL, 1},
};


const char *feed_reject_name(feed_reject_kind k)
{
    static const char *const names[] = {
#define FEED_REJ_NAME_(name, text) text,
        FEED_REJECT_MAP(FEED_REJ_NAME_)
#undef FEED_REJ_NAME_
    };
    return (unsigned)k < FEED_REJ__COUNT ? names[k] : "unknown";
}

/* printable copy of at most REJ_TEXT_MAX bytes, for messages */
static void printable(char *dst, const void *src, size_t len)
{
    const unsigned char *s = src;
    size_t n = len < REJ_TEXT_MAX ? len : REJ_TEXT_MAX;
    for (size_t i = 0; i < n; i++)
        dst[i] = s[i] >= 0x20 && s[i] < 0x7f ? (char)s[i] : '?';
    dst[n] = '\0';
}

static pt_candle *tail_slot(feed_csv *r) { return &r->q[(r->qhead + r->qcount) % QCAP]; }

static void report(feed_csv *r, uint64_t line, const char *field, feed_reject_kind kind,
                   const char *reason, const char *text)
{
    r->stats.rows_rejected++;
    r->stats.by_kind[kind]++;
    feed_reject rej = {r->path, line, field, kind, reason, text};
    if (r->opts.rejects_out)
        ++*r->opts.rejects_out;
    if (r->opts.on_reject)
        r->opts.on_reject(&rej, r->opts.ud);
    else if (r->stats.rows_rejected <= LOG_FIRST)
        pt_warn("%s:%llu: field '%s': %s ('%s')%s", r->path, (unsigned long long)line, field,
                reason, text,
                r->stats.rows_rejected == LOG_FIRST ? " (further rejects only counted)" : "");
}

/* the first error of a row wins; reported when the row ends */
static void row_error(feed_csv *r, feed_reject_kind kind, const char *field, const char *reason,
                      const void *text, size_t len)
{
    if (r->row_err)
        return;
    r->row_err = 1;
    r->err_kind = kind;
    r->err_field = field;
    r->err_reason = reason;
    printable(r->err_text, text, len);
}

static void reset_row(feed_csv *r)
{
    r->field_idx = 0;
    r->seen = 0;
    r->row_err = 0;
    r->row_kind = r->kind;
}

/* Drops the partial record: csv_fini without callbacks resets libcsv, and
 * STRICT_FINI is lifted for the call since it refuses to reset inside an
 * open quote. */
static void discard_row(feed_csv *r)
{
    csv_set_opts(&r->p, CSV_STRICT | CSV_APPEND_NULL);
    csv_fini(&r->p, NULL, NULL, NULL);
    csv_set_opts(&r->p, CSV_OPTS);
    reset_row(r);
    r->at_row_start = 1;
}

/* ------------------------------------------------------------- header */

/* "Close (USD)" -> "close", "Open Time" -> "open_time": lower case, spaces
 * and '-' as '_', a unit suffix in () or [] dropped. 0 if it does not fit. */
static size_t norm_name(const char *s, size_t len, char *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < len && s[i] != '(' && s[i] != '['; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        else if (c == ' ' || c == '-' || c == '\t')
            c = '_';
        if (c == '_' && (n == 0 || out[n - 1] == '_'))
            continue; /* no leading or doubled separators */
        if (n + 1 >= cap)
            return 0;
        out[n++] = c;
    }
    while (n && out[n - 1] == '_')
        n--;
    out[n] = '\0';
    return n;
}

static void header_problem(feed_csv *r, const char *what, const char *name, unsigned col,
                           unsigned col2)
{
    if (r->hdr_err)
        return;
    r->hdr_err = what;
    snprintf(r->hdr_name, sizeof r->hdr_name, "%s", name);
    r->hdr_col = col + 1;
    r->hdr_col2 = col2 + 1;
}

static void header_field(feed_csv *r, const char *s, size_t len)
{
    unsigned col = r->field_idx++;
    char name[32];
    if (!norm_name(s, len, name, sizeof name))
        return;
    for (size_t i = 0; i < sizeof header_names / sizeof header_names[0]; i++) {
        if (strcmp(name, header_names[i].name) != 0)
            continue;
        unsigned role = header_names[i].role;
        if (col >= MAX_COLS) { /* would read as missing: say why */
            header_problem(r, "past the column cap", name, col, col);
            return;
        }
        /* the same name twice: which one holds the data is a guess */
        if (r->role_col[role] >= 0 && header_names[i].prio == r->role_prio[role]) {
            header_problem(r, "twice", name, (unsigned)r->role_col[role], col);
            return;
        }
        if (r->role_col[role] < 0 || header_names[i].prio > r->role_prio[role]) {
            r->role_col[role] = (int)col;
            r->role_prio[role] = header_names[i].prio;
            memcpy(r->role_name[role], name, sizeof name);
        }
        return;
    }
}

static void header_end(feed_csv *r)
{
    char missing[128] = "";
    size_t mlen = 0;
    r->n_cols = r->field_idx;
    if (r->hdr_err && r->hdr_col == r->hdr_col2) {
        pt_err_log("%s:%llu: header: column '%s' is column %u; at most %d columns are read",
                   r->path, (unsigned long long)r->row_line, r->hdr_name, r->hdr_col, MAX_COLS);
        r->err = PT_EPARSE;
        return;
    }
    if (r->hdr_err) {
        pt_err_log("%s:%llu: header: column '%s' appears twice (columns %u and %u)", r->path,
                   (unsigned long long)r->row_line, r->hdr_name, r->hdr_col, r->hdr_col2);
        r->err = PT_EPARSE;
        return;
    }
    for (unsigned role = 0; role < R_SYMBOL; role++)
        if (r->role_col[role] < 0)
            mlen += (size_t)snprintf(missing + mlen, sizeof missing - mlen, "%s'%s'",
                                     mlen ? ", " : "", role_canon[role]);
    if (mlen) {
        pt_err_log("%s:%llu: missing required column %s (header needs a time column named "
                   "timestamp/time/date/open_time/datetime, and open, high, low, close, volume)",
                   r->path, (unsigned long long)r->row_line, missing);
        r->err = PT_EPARSE;
        return;
    }
    for (unsigned role = 0; role < R__N; role++) {
        if (r->role_col[role] < 0)
            continue;
        r->roles[r->role_col[role]] = (uint8_t)role;
        r->required |= 1u << role;
    }
    r->stats.has_symbol_column = r->role_col[R_SYMBOL] >= 0;
    r->header_done = 1;
}

/* ------------------------------------------------------------- rows */

static int symbol_ok(const char *s, size_t len)
{
    if (len == 0 || len >= PT_SYMBOL_MAX)
        return 0;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
            return 0;
    return 1;
}

static void on_field(void *data, size_t len, void *ud)
{
    feed_csv *r = ud;
    const char *s = data;
    if (!r->header_done) {
        header_field(r, s, len);
        return;
    }
    unsigned col = r->field_idx++;
    if (col >= MAX_COLS || r->row_err)
        return;
    unsigned role = r->roles[col];
    if (role == R_IGNORE)
        return;
    r->seen |= 1u << role;
    pt_candle *c = tail_slot(r);
    const char *why = NULL;
    if (len == 0) {
        row_error(r, role == R_SYMBOL ? FEED_REJ_BAD_SYMBOL : FEED_REJ_MISSING_FIELD,
                  r->role_name[role], "empty", s, 0);
        return;
    }
    switch (role) {
    case R_TIME: {
        pt_time_kind k = r->kind;
        if (pt_parse_time_after(s, len, &k, &r->tz, r->last_ts, &c->ts_ms, &why) != PT_OK)
            row_error(r, FEED_REJ_BAD_TIME, r->role_name[role], why, s, len);
        else
            r->row_kind = k;
        return;
    }
    case R_SYMBOL:
        if (!symbol_ok(s, len)) {
            row_error(r, FEED_REJ_BAD_SYMBOL, r->role_name[role],
                      "not 1..31 printable ASCII characters", s, len);
            return;
        }
        memcpy(c->symbol, s, len);
        c->symbol[len] = '\0';
        return;
    default: {
        /* open..volume are consecutive doubles in pt_candle */
        double *dst = &c->open + (role - R_OPEN);
        if (pt_parse_decimal(s, len, dst, &why) != PT_OK)
            row_error(r, FEED_REJ_BAD_NUMBER, r->role_name[role], why, s, len);
        return;
    }
    }
}

static void on_row(int term, void *ud)
{
    (void)term;
    feed_csv *r = ud;
    if (!r->header_done) {
        header_end(r);
        reset_row(r);
        return;
    }
    if (!r->row_err && r->field_idx > r->n_cols) { /* a shifted or merged row */
        snprintf(r->extra_reason, sizeof r->extra_reason, "%u fields, the header has %u",
                 r->field_idx, r->n_cols);
        row_error(r, FEED_REJ_BAD_CSV, "row", r->extra_reason, "", 0);
    }
    if (!r->row_err && (r->seen & r->required) != r->required) {
        unsigned role = 0;
        while (r->seen & (1u << role))
            role++;
        row_error(r, FEED_REJ_MISSING_FIELD, r->role_name[role], "too few fields", "", 0);
    }
    if (r->row_err) {
        report(r, r->row_line, r->err_field, r->err_kind, r->err_reason, r->err_text);
    } else {
        pt_candle *c = tail_slot(r);
        if (r->role_col[R_SYMBOL] < 0)
            memcpy(c->symbol, r->default_symbol, sizeof c->symbol);
        c->closed = 1;
        c->line = r->row_line;
        r->last_ts = c->ts_ms;
        if (r->kind == PT_TIME_UNKNOWN) /* pinned by the first good row */
            r->kind = r->stats.time_kind = r->row_kind;
        r->qcount++;
        r->stats.rows_ok++;
    }
    reset_row(r);
}

/* ------------------------------------------------------------- lines */

static void end_line(feed_csv *r)
{
    r->line++;
    r->stats.lines++;
    r->line_len = 0;
}

/* A record error outside the callbacks (too long, quoting): fatal in the
 * header, else one reject and the rest of the line skipped. */
static void record_error(feed_csv *r, feed_reject_kind kind, const char *reason,
                         const unsigned char *s, size_t n, int term)
{
    char text[REJ_TEXT_MAX + 1];
    printable(text, s, n);
    if (!r->header_done) {
        pt_err_log("%s:%llu: header: %s ('%s')", r->path, (unsigned long long)r->row_line, reason,
                   text);
        r->err = PT_EPARSE;
        return;
    }
    report(r, r->row_line, "row", kind, reason, text);
    discard_row(r);
    if (term)
        end_line(r);
    else
        r->skipping = 1;
}

/* Fast path for a whole line with no quote character, the common case.
 * libcsv's byte-at-a-time state machine was half of the reader's time, so a
 * quote-free line is split at commas with memchr instead. Same result as
 * libcsv here: no quotes means no escaping, blanks are never trimmed (see
 * never_space), a blank line gives no row, and a line holds one record. */
static void split_plain_line(feed_csv *r, const unsigned char *s, size_t n)
{
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
        n--;
    if (n == 0)
        return;
    const unsigned char *p = s, *end = s + n;
    for (;;) {
        const unsigned char *comma = memchr(p, ',', (size_t)(end - p));
        size_t len = comma ? (size_t)(comma - p) : (size_t)(end - p);
        on_field((void *)p, len, r);
        if (!comma)
            break;
        p = comma + 1;
    }
    on_row(CSV_LF, r);
}

static void feed_line(feed_csv *r, const unsigned char *s, size_t n, int term)
{
    if (r->skipping) {
        r->line_len += n;
        if (term) {
            r->skipping = 0;
            end_line(r);
        }
        return;
    }
    if (r->at_row_start) {
        r->row_line = r->line;
        r->row_bytes = 0;
    }
    if (r->row_bytes + n > r->max_line) {
        char reason[64];
        snprintf(reason, sizeof reason, "line longer than %zu bytes", r->max_line);
        record_error(r, FEED_REJ_LINE_TOO_LONG, reason, s, n, term);
        return;
    }
    r->row_bytes += n;
    r->line_len += n;
    if (r->chunk_nul && r->header_done && memchr(s, '\0', n))
        row_error(r, FEED_REJ_BAD_BYTES, "row", "NUL byte in line", s, n);
    if (term && r->at_row_start && !memchr(s, '"', n)) {
        split_plain_line(r, s, n);
        end_line(r);
        return;
    }
    if (csv_parse(&r->p, s, n, on_field, on_row, r) < n) {
        record_error(r, FEED_REJ_BAD_CSV, "misplaced quote", s, n, term);
        return;
    }
    /* libcsv's public state: still outside a record (blank line, or the
     * record just ended) means the next line starts a row */
    r->at_row_start = r->p.pstate == 0;
    if (term)
        end_line(r);
}

/* Cuts the next physical line out of the chunk and feeds it. */
static void next_line(feed_csv *r)
{
    const unsigned char *start = r->buf + r->pos, *lim = r->buf + r->len;
    if (r->cr_pending) {
        r->cr_pending = 0;
        if (*start == '\n') { /* LF of a CRLF split across chunks */
            if (!r->skipping && csv_parse(&r->p, start, 1, on_field, on_row, r) < 1)
                record_error(r, FEED_REJ_BAD_CSV, "misplaced quote", start, 1, 0);
            r->pos++;
            return;
        }
    }
    const unsigned char *nl = memchr(start, '\n', (size_t)(lim - start));
    const unsigned char *end = nl ? nl + 1 : lim;
    int term = nl != NULL;
    if (r->chunk_cr) {
        const unsigned char *cr = memchr(start, '\r', (size_t)(end - start));
        /* a CR right before the LF is CRLF; any other CR ends a line itself */
        if (cr && !(nl && cr + 1 == nl)) {
            end = cr + 1;
            term = 1;
            r->cr_pending = end == lim;
        }
    }
    r->pos = (size_t)(end - r->buf);
    feed_line(r, start, (size_t)(end - start), term);
}

static int never_space(unsigned char c)
{
    (void)c;
    return 0;
}

static int read_chunk(feed_csv *r)
{
    ssize_t n = feed_csv_src_read(r);
    if (n < 0) {
        pt_err_log("%s: read error at byte %llu: %s", r->path, (unsigned long long)r->stats.bytes,
                   strerror(errno));
        return PT_EIO;
    }
    r->pos = 0;
    r->len = (size_t)n;
    if (n == 0) {
        r->eof = 1;
        if (r->is_reg && r->stats.bytes < r->size_at_open) {
            pt_err_log("%s: file truncated while being read: end of data at byte %llu, "
                       "expected %llu bytes",
                       r->path, (unsigned long long)r->stats.bytes,
                       (unsigned long long)r->size_at_open);
            return PT_EIO;
        }
        return PT_OK;
    }
    if (r->stats.bytes == 0 && n >= 3 && !memcmp(r->buf, "\xEF\xBB\xBF", 3))
        r->pos = 3; /* UTF-8 BOM */
    r->stats.bytes += (uint64_t)n;
    r->chunk_cr = memchr(r->buf, '\r', r->len) != NULL;
    r->chunk_nul = memchr(r->buf, '\0', r->len) != NULL;
    /* libcsv trims blanks around unquoted fields by default, which would
     * accept " 12" as 12. A space function that says "never"
     * stops that but costs a call per byte, so only chunks with blanks pay. */
    int blanks = memchr(r->buf, ' ', r->len) || memchr(r->buf, '\t', r->len);
    csv_set_space_func(&r->p, blanks ? never_space : NULL);
    return PT_OK;
}

static void finish(feed_csv *r)
{
    r->done = 1;
    if (r->line_len)
        r->stats.lines++; /* last line without a newline */
    if (r->skipping)
        return;
    if (csv_fini(&r->p, on_field, on_row, r) != 0) {
        char text[] = "";
        if (!r->header_done) {
            pt_err_log("%s:%llu: header: unterminated quote", r->path,
                       (unsigned long long)r->row_line);
            r->err = PT_EPARSE;
            return;
        }
        report(r, r->row_line, "row", FEED_REJ_BAD_CSV, "unterminated quote at end of file", text);
        discard_row(r);
    }
}

/* Feeds lines until a row is ready (or, before the header is read, until
 * it is), the input ends, or an error. */
static int fill(feed_csv *r)
{
    while (!r->err && !r->done && r->qcount == 0) {
        if (r->pos == r->len) {
            if (r->eof) {
                finish(r);
                break;
            }
            int rc = read_chunk(r);
            if (rc) {
                r->err = rc;
                break;
            }
            continue;
        }
        int had_header = r->header_done;
        next_line(r);
        if (!had_header && r->header_done)
            break;
    }
    if (r->done && !r->summary_logged && !r->opts.on_reject &&
        r->stats.rows_rejected > LOG_FIRST) {
        r->summary_logged = 1;
        pt_warn("%s: %llu rows rejected in all (first %d logged)", r->path,
                (unsigned long long)r->stats.rows_rejected, LOG_FIRST);
    }
    return r->err;
}

/* ------------------------------------------------------------- public */

static void derive_symbol(const char *path, char *out)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    size_t n = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    if (n >= PT_SYMBOL_MAX)
        n = PT_SYMBOL_MAX - 1;
    for (size_t i = 0; i < n; i++)
        out[i] = (unsigned char)base[i] > 0x20 && (unsigned char)base[i] < 0x7f ? base[i] : '_';
    out[n] = '\0';
    if (n == 0)
        snprintf(out, PT_SYMBOL_MAX, "csv");
}

void feed_csv_path_symbol(const char *path, char *out)
{
    derive_symbol(path, out);
}

static int open_file(feed_csv *r)
{
    r->fd = open(r->path, O_RDONLY | O_CLOEXEC);
    if (r->fd < 0) {
        int e = errno;
        pt_err_log("%s: cannot open: %s", r->path, strerror(e));
        return e == ENOENT || e == ENOTDIR ? PT_ENOENT : PT_EIO;
    }
    struct stat st;
    if (fstat(r->fd, &st) != 0) {
        pt_err_log("%s: cannot stat: %s", r->path, strerror(errno));
        return PT_EIO;
    }
    if (S_ISDIR(st.st_mode)) {
        pt_err_log("%s: cannot read: %s (EISDIR)", r->path, strerror(EISDIR));
        return PT_EIO;
    }
    r->is_reg = S_ISREG(st.st_mode);
    r->size_at_open = r->is_reg ? (uint64_t)st.st_size : 0;
    return PT_OK;
}

/* A reader with its options and buffers, nothing read yet. */
static int reader_new(const char *path, const feed_csv_opts *opts, feed_csv **out)
{
    int rc = PT_ENOMEM;
    feed_csv *r = calloc(1, sizeof *r);
    *out = r;
    if (!r)
        return PT_ENOMEM;
    r->fd = -1;
    csv_init(&r->p, CSV_OPTS);
    if (opts)
        r->opts = *opts;
    if (r->opts.tz)
        r->tz = *r->opts.tz;
    else
        pt_tz_parse("UTC", &r->tz);
    r->opts.tz = NULL; /* the copy above is used; the caller's may go away */
    r->max_line = r->opts.max_line ? r->opts.max_line : 4096;
    r->kind = r->stats.time_kind = r->opts.time_kind;
    r->line = 1;
    r->last_ts = INT64_MIN;
    r->at_row_start = 1;
    memset(r->roles, R_IGNORE, sizeof r->roles);
    for (unsigned i = 0; i < R__N; i++) {
        r->role_col[i] = -1;
        memcpy(r->role_name[i], role_canon[i], strlen(role_canon[i]) + 1);
    }
    reset_row(r);
    if (!(r->path = strdup(path)) || !(r->buf = malloc(CHUNK)))
        goto fail;
    if (r->opts.symbol) {
        if (!symbol_ok(r->opts.symbol, strlen(r->opts.symbol))) {
            pt_err_log("%s: symbol '%s' is not 1..31 printable ASCII characters", path,
                       r->opts.symbol);
            rc = PT_EINVAL;
            goto fail;
        }
        snprintf(r->default_symbol, sizeof r->default_symbol, "%s", r->opts.symbol);
    } else {
        derive_symbol(path, r->default_symbol);
    }
    r->opts.symbol = NULL;
    rc = PT_OK;
fail:
    return rc;
}

/* The interval from a quiet probe over r's look-ahead (see the top). */
static int probe_interval(feed_csv *r, int64_t *interval_ms)
{
    feed_csv_opts o = r->opts;
    o.symbol = r->default_symbol;
    o.tz = &r->tz;
    o.time_kind = r->opts.time_kind;
    o.on_reject = feed_csv_probe_quiet;
    o.rejects_out = NULL;
    o.interval_out = NULL;
    feed_csv *p = NULL;
    int rc = reader_new(r->path, &o, &p);
    if (rc == PT_OK) {
        p->tee = r;
        p->is_reg = 0;
        rc = fill(p);
    }
    if (rc == PT_OK && p->header_done)
        rc = feed_csv_interval_of(p, interval_ms);
    feed_csv_free(p); /* its fd is -1: it read r's */
    return rc == PT_ERANGE ? PT_OK : rc;
}

int feed_csv_open(const char *path, const feed_csv_opts *opts, feed_csv **out)
{
    if (!path || !out)
        return PT_EINVAL;
    *out = NULL;
    feed_csv *r = NULL;
    int64_t *interval_out = opts ? opts->interval_out : NULL;
    int rc = reader_new(path, opts, &r);
    if (rc != PT_OK)
        goto fail;
    r->opts.interval_out = NULL; /* the caller's storage: used here only */
    if (interval_out)
        *interval_out = 0;
    if ((rc = open_file(r)) != PT_OK)
        goto fail;
    r->capture = interval_out != NULL;
    rc = fill(r);
    if (rc == PT_OK && !r->header_done) {
        pt_err_log("%s: empty file: no header", path);
        rc = PT_EPARSE;
    }
    if (rc == PT_OK && r->capture)
        rc = probe_interval(r, interval_out);
    r->capture = 0;
    if (rc != PT_OK)
        goto fail;
    *out = r;
    return PT_OK;
fail:
    feed_csv_free(r);
    return rc;
}

int feed_csv_next(feed_csv *r, pt_candle *out)
{
    if (!r || !out)
        return PT_EINVAL;
    if (r->qcount == 0) {
        int rc = fill(r);
        if (rc)
            return rc;
        if (r->qcount == 0)
            return PT_EOF;
    }
    *out = r->q[r->qhead];
    r->qhead = (r->qhead + 1) % QCAP;
    r->qcount--;
    return PT_OK;
}

const feed_csv_stats *feed_csv_get_stats(const feed_csv *r) { return r ? &r->stats : NULL; }
const char *feed_csv_default_symbol(const feed_csv *r) { return r ? r->default_symbol : NULL; }

void feed_csv_free(feed_csv *r)
{
    if (!r)
        return;
    if (r->fd >= 0)
        close(r->fd);
    csv_free(&r->p);
    free(r->ahead);
    free(r->buf);
    free(r->path);
    free(r);
}

