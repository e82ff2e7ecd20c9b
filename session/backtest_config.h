/* backtest --config FILE: the config layers of docs/config.md for a backtest.
 *
 * The engine keys that the file or the PAPERTRADER_* environment set become
 * command-line flags placed BEFORE the user's own, so flags still win and
 * session.json records the effective values (a --resume never needs the
 * file again). Keys without an engine meaning ([feed], [server], ...) are
 * validated like everywhere else and otherwise ignored.
 *
 * Ownership: *out is malloc'd and owns the derived flag strings; argv's own
 * strings stay borrowed. Free with backtest_config_free (NULL: no-op). */
#ifndef PT_APP_BACKTEST_CONFIG_H
#define PT_APP_BACKTEST_CONFIG_H

typedef struct backtest_argv {
    int argc;
    char **argv;   /* argv[0], derived flags, then the caller's argv[1..] */
} backtest_argv;

/* Returns 0, or an exit code after printing why (bad file: file:line). */
int backtest_config_args(int argc, char **argv, backtest_argv **out);
void backtest_config_free(backtest_argv *a);

#endif
