/* The [strategy] section of a config checked as the engine would take it:
 * the name loads, every parameter is the strategy's and in its range, and
 * the set passes the strategy's own create() (relations such as fast <
 * slow). Each error is logged once with where the value came from
 * (file:line, environment variable or flag). Used by `config check`,
 * `backtest --config` and the live commands. */
#ifndef PT_APP_STRATEGY_CHECK_H
#define PT_APP_STRATEGY_CHECK_H

#include "ops.h"

/* Overrides given on the command line (borrowed for the call): name NULL
 * keeps the config's; kv are "K=V" --param values, later ones win. */
typedef struct strategy_overrides {
    const char *name;
    const char *const *kv;
    int n_kv;
} strategy_overrides;

/* Returns the number of errors found (0: the strategy would start). */
int strategy_check(const ops_config *c, const strategy_overrides *over);

/* Fills over from argv's --strategy and --param (both "--x V" and
 * "--x=V" forms, up to "--"); kv_buf holds cap entries. */
void strategy_overrides_scan(int argc, char **argv, strategy_overrides *over, const char **kv_buf, int cap);

#endif
