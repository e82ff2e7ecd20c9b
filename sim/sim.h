/* sim: the engine. Strategies (this section), then orders, fills, risk and
 * the session that drives them in backtest and live mode (engine section).
 *
 * Owns: strategy instances per symbol, open orders, risk state.
 * Must never: read the wall clock for a decision (event time only), touch a
 * socket or a file other than through portfolio/ and the caller's sinks.
 */
#ifndef PT_SIM_H
#define PT_SIM_H

#include "pt_core.h"
#include "sim_strategy.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------ strategies */

/* Built-in strategies by name; NULL if unknown. The tables are static. */
const sim_strategy_ops *sim_strategy_builtin(const char *name);
size_t sim_strategy_builtin_count(void);
const sim_strategy_ops *sim_strategy_builtin_at(size_t i);

/* A built-in name, or a path to a shared library (contains '/' or ends in
 * ".so") exporting SIM_STRATEGY_ENTRY. On success *dl_handle is the dlopen
 * handle (NULL for built-ins) that the caller releases with
 * sim_strategy_unload() after every instance is freed. Errors are logged
 * with the path and dlerror(): PT_ENOENT, PT_EINVAL (ABI mismatch). */
int sim_strategy_load(const char *name_or_path, const sim_strategy_ops **ops, void **dl_handle);
void sim_strategy_unload(void *dl_handle); /* NULL: no-op */

/* Fill values[0..n_params) from defaults, then apply "K=V" overrides.
 * Unknown key, non-number, out of range or non-integer for an integer
 * parameter: PT_EINVAL with a message in err naming the key and the range. */
int sim_strategy_params(const sim_strategy_ops *ops, const char *const *kv, int n_kv,
                        double *values, char *err, size_t errcap);

/* ---------------------------------------------------------------- engine */
/* (engine API follows: sim_engine_*) */

#ifdef __cplusplus
}
#endif
#endif
