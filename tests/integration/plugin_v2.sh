#!/usr/bin/env bash
# C plugins of ABI 2 (sim/sim_strategy.h, docs/strategies.md): the example
# sma_cross_v2, on the engine's indicator library handed to create(), gives
# the built-in sma_cross's trades.csv and portfolio.csv byte for byte on
# every shared file; a v1 plugin still loads; the v2 caps hold at their
# edge (64 parameters, 32 indicators, 16 orders in one candle) and one past
# them is a clear error. The caps plugin is compiled here with cc, against
# sim_strategy.h alone, as a user would.
set -u
. "$(dirname "$0")/lib.bash"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
V2="$PT_BUILD_DIR/examples/libsma_cross_v2.so"
V1="$PT_BUILD_DIR/examples/libmystrat.so"
files=()
[ -d "${PT_SHARED_DATA:-}" ] && for f in "$PT_SHARED_DATA"/*.csv; do files+=("$f"); done
[ ${#files[@]} -gt 0 ] || files=("$PT_SOURCE_DIR/data/freqtrade_UNITTEST-BTC_1m.csv")

same() { # label dir-a dir-b
  if [ -s "$2/trades.csv" ] && cmp -s "$2/trades.csv" "$3/trades.csv" && cmp -s "$2/portfolio.csv" "$3/portfolio.csv"
  then ok "$1"; else bad "$1" "$(diff "$2/trades.csv" "$3/trades.csv" 2>&1 | head -4)"; fi
}

n=0
for f in "${files[@]}"; do
  for p in "" "--param fast=5 --param slow=21"; do
    n=$((n + 1))
    run_pt backtest --quiet --out "$T/b$n" $p "$f"
    run_pt backtest --quiet --out "$T/v$n" --strategy "$V2" $p "$f"
    expect_exit 0 "sma_cross_v2 $p on $(basename "$f")"
    same "sma_cross_v2 = built-in sma_cross $p on $(basename "$f")" "$T/b$n" "$T/v$n"
  done
done
F="${files[0]}"

run_pt strategies "$V2"
expect_exit 0 "strategies describes a v2 plugin"
expect_out "sma_cross_v2 (plugin)" "by its name"
expect_out "indicators: fast, slow" "with its indicators"
run_pt backtest --quiet --out "$T/refuse" --strategy "$V2" --param fast=40 "$F"
expect_exit 2 "a parameter set its create() refuses"
expect_err "fast (40) must be < slow (30)" "with its reason"
run_pt backtest --quiet --out "$T/abi1" --strategy "$V1" "$F"
expect_exit 0 "a v1 plugin still loads and runs"

# ---------------------------------------------------------------- caps
cat >"$T/caps.c" <<'C'
#include "sim_strategy.h"
#include <stdio.h>
#include <stdlib.h>
#ifndef N_PARAMS
#define N_PARAMS 64
#endif
#ifndef N_IND
#define N_IND 32
#endif
#ifndef N_ORDERS
#define N_ORDERS 16
#endif
typedef struct st { const sim_host *h; sim_indicator *ind[N_IND]; int n; } st;
static sim_param_spec params[N_PARAMS];
static char pnames[N_PARAMS][8];
static const char *inames[N_IND];
static char istore[N_IND][8];
static void st_free(void *p) { st *s = p; if (!s) return; for (int i = 0; i < N_IND; i++) s->h->indicator_free(s->ind[i]); free(s); }
static int st_create(const sim_host *h, const double *v, void **out, char *err, size_t cap) {
  st *s = calloc(1, sizeof *s);
  if (!s) return -1;
  s->h = h;
  for (int i = 0; i < N_IND; i++) {
    int p[3] = {2 + i % 5, 0, 0};
    static const char *kinds[] = {"sma", "ema", "rsi", "atr", "bollinger", "donchian", "macd"};
    if (h->indicator_new(kinds[i % 7], i % 7 == 6 ? NULL : p, 0, &s->ind[i])) {
      snprintf(err, cap, "indicator %d", i); st_free(s); return -1;
    }
  }
  (void)v; *out = s; return 0;
}
static int st_candle(void *p, const pt_candle *c, const sim_position_view *pos, sim_signal_v2 *out) {
  st *s = p; double v[3];
  for (int i = 0; i < N_IND; i++) {
    if (s->h->indicator_update(s->ind[i], c, v)) return -1;
    out->indicators[out->n_indicators++] = v[0];
  }
  if (++s->n == 40 && pos->open_orders == 0)
    for (int k = 0; k < N_ORDERS; k++)  /* resting limits far below: every one stays open */
      out->orders[out->n_orders++] = (sim_order_request){.intent = SIM_INTENT_ENTER_LONG,
        .type = SIM_ORDER_LIMIT, .limit_price = c->close * (0.5 - 0.01 * k), .reason = "cap"};
  return 0;
}
static sim_strategy_ops_v2 ops = {SIM_STRATEGY_ABI_2, "caps_v2", "caps", params, N_PARAMS, inames, N_IND,
                                  st_create, st_candle, st_free};
const sim_strategy_ops_v2 *papertrader_strategy_v2(void);
const sim_strategy_ops_v2 *papertrader_strategy_v2(void) {
  for (int i = 0; i < N_PARAMS; i++) {
    snprintf(pnames[i], sizeof pnames[i], "p%d", i);
    params[i] = (sim_param_spec){pnames[i], i, 0, 1000, 1, "a parameter"};
  }
  for (int i = 0; i < N_IND; i++) { snprintf(istore[i], sizeof istore[i], "i%d", i); inames[i] = istore[i]; }
  return &ops;
}
C
build_caps() { # name extra-cflags...
  local name=$1; shift
  cc -shared -fPIC -O1 -Wall -Wextra -Werror -I"$PT_SOURCE_DIR/sim" -I"$PT_SOURCE_DIR/core" "$@" \
    -o "$T/lib$name.so" "$T/caps.c" || bad "compile $name"
}
build_caps caps
build_caps caps_ind -DN_IND=33
build_caps caps_par -DN_PARAMS=65
build_caps caps_ord -DN_ORDERS=17
run_pt backtest --quiet --sizing quote:10 --out "$T/caps" --strategy "$T/libcaps.so" --param p63=7 "$F"
expect_exit 0 "64 parameters, 32 indicators, 16 orders in one candle"
if grep -q '"orders":[[:space:]]*16' "$T/caps/report.json"; then ok "all 16 orders reached the engine"
else bad "all 16 orders reached the engine" "$(grep -o '"orders":[^,]*' "$T/caps/report.json")"; fi
run_pt backtest --out "$T/ci" --strategy "$T/libcaps_ind.so" "$F"
expect_exit 2 "33 indicators: refused"
expect_err "declares 33 indicators (0..32, names required)" "names the cap"
run_pt backtest --out "$T/cp" --strategy "$T/libcaps_par.so" "$F"
expect_exit 2 "65 parameters: refused"
expect_err "declares 65 parameters (0..64" "names the cap"
run_pt backtest --sizing quote:10 --out "$T/co" --strategy "$T/libcaps_ord.so" "$F"
expect_err "strategy caps_v2 failed on .*: invalid signal" \
  "17 orders in one candle: a strategy failure, named"
if grep -q '"strategy_failures":[[:space:]]*[1-9]' "$T/co/report.json"; then ok "and counted"
else bad "and counted" "$(grep -o '"strategy_failures":[^,]*' "$T/co/report.json")"; fi
finish
