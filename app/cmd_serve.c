/* `papertrader backtest --serve [--speed X] FILE...` (called from
 * cmd_backtest.c) and the replay half of `papertrader demo`: the built-in
 * exchange simulator serves the FILEs on a free loopback port and a live
 * session consumes them through the real feed path (WebSocket + REST), so
 * the dashboard shows a recording as if it were live. The session stops by
 * itself once every symbol's last candle was processed. */
#include "commands.h"
#include "feed.h"
#include "session.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

int app_backtest_serve(int argc, char **argv);
int app_live_replay(const char *mode, int argc, char **argv, const char *default_file, double default_speed);

/* One rule for the symbol of a file, the backtest's (feed/README.md): its
 * symbol column when it has one (the first row's), else the --symbols name
 * given for it, else the file's stem. The simulator serves the rows under
 * the same names, so the session subscribes to what is served. *last: the
 * last open time of that symbol (the session ends there). A --symbols name
 * that contradicts the column is a usage error (PT_EINVAL, logged). */
static int file_symbol(const char *path, const char *given, char *sym, size_t cap, int64_t *last)
{
    feed_csv *r = NULL;
    feed_csv_opts co = {.symbol = given};
    int rc = feed_csv_open(path, &co, &r);
    pt_candle c;
    *last = 0;
    *sym = 0;
    while (!rc && (rc = feed_csv_next(r, &c)) == PT_OK) {
        if (!*sym)
            snprintf(sym, cap, "%s", c.symbol);
        if (!strcmp(c.symbol, sym) && c.ts_ms > *last)
            *last = c.ts_ms;
    }
    if (rc == PT_EOF) {
        rc = PT_OK;
        if (!*sym)
            snprintf(sym, cap, "%s", feed_csv_default_symbol(r));
        if (given && strcmp(given, sym)) {
            pt_err_log("%s: its symbol column says %s; --symbols names it %s", path, sym, given);
            rc = PT_EINVAL;
        }
    }
    feed_csv_free(r);
    return rc;
}

int app_live_replay(const char *mode, int argc, char **argv, const char *default_file, double default_speed);

int app_live_replay(const char *mode, int argc, char **argv, const char *default_file, double default_speed)
{
    static char names[SESSION_MAX_SYMBOLS][PT_SYMBOL_MAX];
    static const char *files[SESSION_MAX_SYMBOLS];
    static char sample[4096];
    session_opts o;
    int code = session_opts_parse(&o, mode, SESSION_F_SIM | SESSION_F_FILES, argc, argv);
    if (code) {
        if (code == PT_EXIT_USAGE)
            fprintf(stderr, "(papertrader %s --help lists the options)\n", mode);
        goto out;
    }
    int nf = o.n_rest;
    if (nf > SESSION_MAX_SYMBOLS) {
        fprintf(stderr, "papertrader %s: at most %d files\n", mode, SESSION_MAX_SYMBOLS);
        code = PT_EXIT_USAGE;
        goto out;
    }
    for (int i = 0; i < nf; i++)
        files[i] = o.rest[i];
    if (!nf && default_file) { /* the shipped sample: installed share/, the source tree, the cwd */
        if (!*pt_shared_file(default_file, "", sample, sizeof sample))
            snprintf(sample, sizeof sample, "%s/../%s", PT_WEB_DIR, default_file);
        files[nf++] = access(sample, R_OK) == 0 ? sample : default_file;
        if (!o.n_symbols)
            o.symbols[o.n_symbols++] = PT_SAMPLE_SYMBOL;
    }
    if (!nf) {
        fprintf(stderr, "papertrader %s: give one or more candle files\n", mode);
        code = PT_EXIT_USAGE;
        goto out;
    }
    if (o.n_symbols && o.n_symbols != nf) {
        fprintf(stderr, "papertrader %s: --symbols needs one name per file (%d files)\n", mode, nf);
        code = PT_EXIT_USAGE;
        goto out;
    }
    int64_t end = INT64_MAX, iv = 0;
    for (int i = 0; i < nf; i++) {
        int64_t t;
        int rc = file_symbol(files[i], o.n_symbols ? o.symbols[i] : NULL, names[i], sizeof names[i], &t);
        if (rc) {
            code = rc == PT_EINVAL ? PT_EXIT_USAGE : PT_EXIT_INPUT;
            goto out;
        }
        if (t < end)
            end = t;
    }
    for (int i = 0; i < nf; i++)
        o.symbols[i] = names[i];
    o.n_symbols = nf;
    if (!feed_csv_detect_interval(files[0], &(feed_csv_opts){.symbol = o.symbols[0]}, &iv) && iv > 0)
        o.interval_ms = iv;
    if (o.speed == 1 && default_speed > 0) /* session_opts default: not given */
        o.speed = default_speed;
    feed_xsim_config xc = {
        .protocol = o.exchange, .speed = o.speed, .symbols = o.symbols, .n_symbols = (size_t)o.n_symbols,
        .files = files, .n_files = (size_t)nf, .interval_ms = o.interval_ms, .seed = (uint64_t)o.seed,
        .faults = o.faults, .updates = o.updates,
    };
    o.ws_url = o.rest_url = NULL; /* the simulator's port replaces them */
    session_live_config sc = {.o = &o, .mode = mode, .xsim = &xc, .end_ts_ms = end};
    code = session_live_run(&sc);
out:
    session_opts_free(&o);
    return code;
}

int app_backtest_serve(int argc, char **argv)
{
    if (app_wants_help(argc, argv)) {
        printf("usage: papertrader backtest --serve [--speed X] [options] FILE...\n"
               "  Replays recorded candle files through the live path: the built-in exchange\n"
               "  simulator serves them at --speed (default 60: one 1m candle per second), a live\n"
               "  paper session trades them, and the dashboard shows it as if live. Stops at the\n"
               "  end of the data. Outputs as `papertrader run`.\n");
        session_opts_usage(stdout, SESSION_F_SIM | SESSION_F_FILES);
        return PT_EXIT_OK;
    }
    /* argv is backtest's: drop --serve so the shared parser sees only its flags */
    char *av[256];
    int ac = 0;
    for (int i = 0; i < argc && ac < 255; i++)
        if (strcmp(argv[i], "--serve"))
            av[ac++] = argv[i];
    av[ac] = NULL;
    return app_live_replay("serve", ac, av, NULL, 60);
}
