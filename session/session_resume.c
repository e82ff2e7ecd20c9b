/* Lock, session.json, candle recorder and `run --resume` of a live session
 * folder; see session_internal.h and docs/durability.md "Live sessions".
 * Resume is replay (as for backtest): the engine is deterministic on event
 * time, so cash, positions, open orders, risk state and warm indicators come
 * back by feeding it the recorded candles again, in the recorded order. */
#include "session.h"
#include "portfolio.h"
#include "session_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char REC_HEADER[] = "timestamp,open,high,low,close,volume\n";
#define REC_LINE_MAX 256 /* sl_rec_append never writes a longer row */

/* One recording (or .order) read line by line; offsets for cutting. */
typedef struct rec_reader {
    FILE *f;
    char path[PATH_MAX];
    uint64_t line;  /* of the last line read */
    off_t next_off; /* offset of the next line */
} rec_reader;

static void rec_path(const session *s, const char *name, char *out, size_t cap)
{
    snprintf(out, cap, "%s/candles/%s", s->outdir, name);
}

/* ------------------------------------------------------------ lock, session.json */
int sl_state_lock(session *s)
{
    const session_opts *o = s->o;
    int rc = session_dir_lock(s->cfg->mode, s->outdir, 1, &s->lock_fd);
    if (rc)
        return rc;
    /* after the lock: a folder in use says so (exit 6) before anything about its contents */
    if (!o->resume_dir && o->out && !o->force &&
        (rc = session_dir_refuse_run(o->cmd, s->outdir, (o->flags & SESSION_F_RESUME) != 0)))
        return rc;
    static const char *const old[] = {"session.json", "controls.csv"};
    for (size_t i = 0; !s->o->resuming && i < sizeof old / sizeof old[0]; i++) { /* a new session: see the header */
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", s->outdir, old[i]);
        if (unlink(path) && errno != ENOENT) {
            pt_err_log("cannot remove the old %s: %s", path, strerror(errno));
            return PT_EXIT_FAILURE;
        }
    }
    return 0;
}

int sl_state_write_session(session *s, cJSON *ses)
{
    cJSON *args = session_opts_args_json(s->o);
    if (!ses || !args) {
        cJSON_Delete(args);
        pt_err_log("%s/session.json: cannot build it (out of memory)", s->outdir);
        return PT_ENOMEM;
    }
    cJSON_AddItemToObject(ses, "args", args);
    return session_write_json(s->outdir, "session.json", ses);
}

/* ------------------------------------------------------------ recorder */
int sl_rec_open(session *s)
{
    char dir[4200], path[4400];
    snprintf(dir, sizeof dir, "%s/candles", s->outdir);
    if (mkdir(dir, 0755) && errno != EEXIST) {
        pt_err_log("cannot create %s: %s", dir, strerror(errno));
        return PT_EIO;
    }
    const int fresh = s->o->resuming ? 0 : O_TRUNC;
    for (int i = 0; i < s->n_sym; i++) {
        sl_sym *y = &s->sym[i];
        snprintf(path, sizeof path, "%s/%s.csv", dir, y->name);
        y->rec_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | fresh, 0644);
        struct stat st;
        if (y->rec_fd < 0 || fstat(y->rec_fd, &st) ||
            (st.st_size == 0 && pt_write_all(y->rec_fd, REC_HEADER, sizeof REC_HEADER - 1))) {
            pt_err_log("%s: cannot write: %s", path, strerror(errno));
            return PT_EIO;
        }
    }
    rec_path(s, ".order", path, sizeof path);
    s->order_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | fresh, 0644);
    if (s->order_fd < 0) {
        pt_err_log("%s: cannot open: %s", path, strerror(errno));
        return PT_EIO;
    }
    /* the new names themselves survive a power loss: fsync both folders */
    const char *dirs[2] = {dir, s->outdir};
    for (int i = 0; i < 2; i++) {
        int dfd = open(dirs[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0 || (fsync(dfd) && errno != EINVAL)) {
            pt_err_log("%s: cannot fsync the folder: %s", dirs[i], strerror(errno));
            if (dfd >= 0)
                close(dfd);
            return PT_EIO;
        }
        close(dfd);
    }
    return PT_OK;
}

int sl_rec_append(session *s, sl_sym *y, const pt_candle *c)
{
    char line[REC_LINE_MAX], f[5][32], ord[PT_SYMBOL_MAX + 1];
    const double v[5] = {c->open, c->high, c->low, c->close, c->volume};
    for (int i = 0; i < 5; i++)
        pf_format_double(v[i], f[i], sizeof f[i]);
    int n = snprintf(line, sizeof line, "%lld,%s,%s,%s,%s,%s\n", (long long)c->ts_ms, f[0], f[1], f[2],
                     f[3], f[4]);
    if (n <= 0 || n >= (int)sizeof line || pt_write_all(y->rec_fd, line, (size_t)n)) {
        pt_err_log("candles/%s.csv: write failed: %s", y->name, strerror(errno));
        return PT_EIO;
    }
    int k = snprintf(ord, sizeof ord, "%s\n", y->name);
    if (pt_write_all(s->order_fd, ord, (size_t)k)) {
        pt_err_log("candles/.order: write failed: %s", strerror(errno));
        return PT_EIO;
    }
    s->rec_dirty = 1;
    return PT_OK;
}

int sl_rec_sync(session *s)
{
    if (!s->rec_dirty || !s->o->fsync_every)
        return PT_OK;
    for (int i = 0; i < s->n_sym; i++)
        if (s->sym[i].rec_fd >= 0 && fdatasync(s->sym[i].rec_fd) && errno != EINVAL) {
            pt_err_log("candles/%s.csv: fdatasync failed: %s", s->sym[i].name, strerror(errno));
            return PT_EIO;
        }
    if (s->order_fd >= 0 && fdatasync(s->order_fd) && errno != EINVAL) {
        pt_err_log("candles/.order: fdatasync failed: %s", strerror(errno));
        return PT_EIO;
    }
    s->rec_dirty = 0;
    return PT_OK;
}

int sl_state_close(session *s)
{
    int rc = PT_OK;
    for (int i = 0; i < s->n_sym; i++) {
        if (s->sym[i].rec_fd >= 0 && fdatasync(s->sym[i].rec_fd) && errno != EINVAL)
            rc = PT_EIO;
        if (s->sym[i].rec_fd >= 0)
            close(s->sym[i].rec_fd);
        s->sym[i].rec_fd = -1;
    }
    if (s->order_fd >= 0 && fdatasync(s->order_fd) && errno != EINVAL)
        rc = PT_EIO;
    if (s->order_fd >= 0)
        close(s->order_fd);
    s->order_fd = -1;
    return rc;
}

/* ------------------------------------------------------------ resume */
static int repair(const char *path)
{
    struct stat st;
    if (stat(path, &st))
        return PT_OK; /* never created: nothing recorded */
    long moved = pf_ledger_repair_tail(path);
    if (moved < 0)
        return (int)moved;
    if (moved > 0)
        pt_warn("%s: dropped a torn last line (%ld bytes, kept in %s.torn)", path, moved, path);
    return PT_OK;
}

int sl_resume_repair(session *s)
{
    char path[4400];
    int rc = PT_OK;
    for (int i = 0; !rc && i < s->n_sym; i++) {
        rec_path(s, s->sym[i].name, path, sizeof path);
        strncat(path, ".csv", sizeof path - strlen(path) - 1);
        rc = repair(path);
    }
    rec_path(s, ".order", path, sizeof path);
    return rc ? rc : repair(path);
}

/* Next line without its '\n' into buf: 1, 0 at EOF, PT_ECORRUPT if too long. */
static int rd_line(rec_reader *r, char *buf, size_t cap)
{
    if (!r->f || !fgets(buf, (int)cap, r->f))
        return 0;
    size_t n = strlen(buf);
    r->line++;
    if (!n || buf[n - 1] != '\n') {
        pt_err_log("%s:%llu: line too long", r->path, (unsigned long long)r->line);
        return PT_ECORRUPT;
    }
    buf[n - 1] = 0;
    r->next_off += (off_t)n;
    return 1;
}

/* A row as sl_rec_append writes it; 1 with *c, 0 at EOF, PT_ECORRUPT. */
static int rd_candle(rec_reader *r, const char *symbol, pt_candle *c)
{
    char buf[REC_LINE_MAX + 2], *p = buf;
    int rc = rd_line(r, buf, sizeof buf);
    if (rc <= 0)
        return rc;
    static const char *const names[6] = {"timestamp", "open", "high", "low", "close", "volume"};
    double v[5];
    memset(c, 0, sizeof *c);
    for (int i = 0; i < 6; i++) {
        size_t n = strcspn(p, ",");
        const char *why = i < 5 && p[n] != ',' ? "missing" : "extra field";
        int bad = (i < 5) != (p[n] == ',') ||
                  (i == 0 ? pt_parse_int64(p, n, &c->ts_ms, &why) : pt_parse_decimal(p, n, &v[i - 1], &why));
        if (bad) {
            pt_err_log("%s:%llu: field %s: %s", r->path, (unsigned long long)r->line, names[i],
                       why ? why : "bad");
            return PT_ECORRUPT;
        }
        p += n + (p[n] == ',');
    }
    c->open = v[0], c->high = v[1], c->low = v[2], c->close = v[3], c->volume = v[4];
    snprintf(c->symbol, sizeof c->symbol, "%s", symbol);
    c->closed = 1;
    c->line = r->line;
    return 1;
}

static int rd_open(rec_reader *r, const char *path, const char *header)
{
    if (snprintf(r->path, sizeof r->path, "%s", path) >= (int)sizeof r->path) {
        pt_err_log("%s: path too long", path);
        return PT_EINVAL;
    }
    r->f = fopen(path, "r");
    if (!r->f && errno != ENOENT)
        pt_err_log("%s: cannot read: %s", path, strerror(errno));
    if (!r->f)
        return errno == ENOENT ? PT_OK : PT_EIO; /* missing: no rows */
    char buf[REC_LINE_MAX + 2];
    int rc = header ? rd_line(r, buf, sizeof buf) : 1;
    if (rc == 0) /* empty: the header was never written */
        return PT_OK;
    if (rc < 0 || (header && (strlen(buf) != strlen(header) - 1 || strncmp(buf, header, strlen(buf))))) {
        pt_err_log("%s:1: not a candle recording header", path);
        return PT_ECORRUPT;
    }
    return PT_OK;
}

static sl_sym *find_sym(session *s, const char *name, int *idx)
{
    for (int i = 0; i < s->n_sym; i++)
        if (!strcmp(s->sym[i].name, name))
            return *idx = i, &s->sym[i];
    return NULL;
}

/* Rows the engine never saw (recorded, killed before their .order line):
 * aside to X.unprocessed; the feed fetches those bars again. */
static int cut_unprocessed(rec_reader *r)
{
    struct stat st;
    if (!r->f || stat(r->path, &st) || st.st_size <= r->next_off)
        return PT_OK;
    pt_warn("%s: %lld bytes from line %llu were recorded but never processed; moved to %s.unprocessed",
            r->path, (long long)(st.st_size - r->next_off), (unsigned long long)r->line + 1, r->path);
    return session_move_tail(r->path, r->next_off, ".unprocessed");
}

int sl_resume_replay(session *s, sl_closed_fn fn)
{
    rec_reader rd[SESSION_MAX_SYMBOLS], ord;
    memset(rd, 0, sizeof rd);
    memset(&ord, 0, sizeof ord);
    char path[4400], name[PT_SYMBOL_MAX + 2];
    int rc = PT_OK;
    for (int i = 0; !rc && i < s->n_sym; i++) {
        rec_path(s, s->sym[i].name, path, sizeof path);
        strncat(path, ".csv", sizeof path - strlen(path) - 1);
        rc = rd_open(&rd[i], path, REC_HEADER);
        rd[i].next_off = rd[i].f ? ftello(rd[i].f) : 0;
    }
    rec_path(s, ".order", path, sizeof path);
    if (!rc && (rc = rd_open(&ord, path, NULL)) == PT_OK && !ord.f) {
        for (int i = 0; i < s->n_sym && !rc; i++) /* rows but no order: not ours to guess */
            if (rd[i].f) {
                struct stat st;
                if (!stat(rd[i].path, &st) && st.st_size > (off_t)sizeof REC_HEADER - 1) {
                    pt_err_log("%s: missing, but %s holds candles", path, rd[i].path);
                    rc = PT_ECORRUPT;
                }
            }
    }
    session_controls *ctl = NULL; /* operator controls, queued at their recorded boundaries */
    snprintf(path, sizeof path, "%s/controls.csv", s->outdir);
    if (!rc && access(path, F_OK) == 0 && session_controls_load(path, &ctl))
        rc = PT_ECORRUPT; /* file:line logged */
    s->n_controls = session_controls_count(ctl);
    s->replaying = 1; /* observers without .replay hear nothing of it (session_observe.c) */
    off_t ord_cut = -1; /* .order lines past the durable recording start here */
    off_t line_off = 0; /* start of the .order line being replayed */
    while (!rc && !s->io_err && (line_off = ord.next_off, rc = rd_line(&ord, name, sizeof name)) == 1) {
        rc = PT_OK;
        int i = 0;
        sl_sym *y = find_sym(s, name, &i);
        pt_candle c;
        if (!y) {
            pt_err_log("%s:%llu: '%s' is not a symbol of this session", ord.path, (unsigned long long)ord.line,
                       name);
            rc = PT_ECORRUPT;
            break;
        }
        int got = rd_candle(&rd[i], y->name, &c);
        if (got == 0) {
            /* .order reached the disk, the row it names did not (a power
             * loss between the two writes). No fill can depend on it: a fill
             * syncs both first (sl_rec_sync). The ledger check below still
             * refuses if a recorded fill is not reproduced. */
            pt_warn("%s:%llu: %s has no recorded candle left (%s ends at line %llu): the rest of the order "
                    "was never made durable; moved to %s.unprocessed", ord.path, (unsigned long long)ord.line,
                    name, rd[i].path, (unsigned long long)rd[i].line, ord.path);
            ord_cut = line_off;
            rc = PT_OK;
            break;
        } else if (got == 1 && y->last_closed_ts != INT64_MIN && c.ts_ms <= y->last_closed_ts)
            pt_err_log("%s:%llu: timestamp %lld not after the previous row", rd[i].path,
                       (unsigned long long)rd[i].line, (long long)c.ts_ms);
        if (got != 1 || (y->last_closed_ts != INT64_MIN && c.ts_ms <= y->last_closed_ts)) {
            rc = got < 0 ? got : PT_ECORRUPT;
            break;
        }
        if (session_controls_apply(ctl, s->eng, c.ts_ms)) {
            rc = PT_ECORRUPT;
            break;
        }
        fn(s, y, &c);
        s->replayed++;
    }
    /* controls decided after the last recorded candle: queued as live did */
    if (!rc && !s->io_err && session_controls_apply(ctl, s->eng, INT64_MAX))
        rc = PT_ECORRUPT;
    session_controls_free(ctl);
    s->replaying = 0;
    if (!rc && s->io_err)
        rc = s->io_err;
    for (int i = 0; !rc && i < s->n_sym; i++)
        rc = cut_unprocessed(&rd[i]);
    if (!rc && ord_cut >= 0)
        rc = session_move_tail(ord.path, ord_cut, ".unprocessed");
    if (!rc)
        rc = session_ledger_end_replay(s->lg);
    if (!rc)
        pt_info("resume: replayed %llu recorded candles of %d symbols; %llu recorded fills verified; the "
                "feed carries on after them", (unsigned long long)s->replayed, s->n_sym,
                (unsigned long long)session_ledger_recovered_fills(s->lg));
    for (int i = 0; i < s->n_sym; i++)
        if (rd[i].f)
            fclose(rd[i].f);
    if (ord.f)
        fclose(ord.f);
    return rc;
}
