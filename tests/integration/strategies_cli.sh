#!/usr/bin/env bash
# papertrader strategies: lists every built-in with parameters and defaults,
# --json is valid and complete, describes one built-in or a plugin, and
# refuses unknown names and unloadable plugins with exit 2.
set -u
. "$(dirname "$0")/lib.bash"

run_pt strategies
expect_exit 0 "lists strategies"
for s in sma_cross ema_cross rsi bollinger donchian macd; do
  expect_out "^$s" "lists $s"
done
expect_out "fast .*default 10 .*integer \[1, 1000\]" "sma_cross fast default and range"
expect_out "slow .*default 30 " "sma_cross slow default"

run_pt strategies --json
expect_exit 0 "--json exits 0"
if node -e '
  const j = JSON.parse(require("fs").readFileSync(0, "utf8"));
  const by = Object.fromEntries(j.strategies.map(s => [s.name, s]));
  for (const n of ["sma_cross","ema_cross","rsi","bollinger","donchian","macd"]) if (!by[n]) throw n;
  const f = by.sma_cross.params.find(p => p.name === "fast");
  if (f.default !== 10 || f.min !== 1 || f.integer !== true) throw "fast";
  if (by.sma_cross.params.find(p => p.name === "slow").default !== 30) throw "slow";
  if (by.bollinger.indicators.join() !== "lower,middle,upper") throw "indicators";
' <<<"$OUT"; then ok "--json parses and holds defaults"; else bad "--json content" "$OUT"; fi

run_pt strategies rsi
expect_exit 0 "describes one built-in"
expect_out "buy_below" "rsi parameters"
expect_no_out "sma_cross" "only the one asked for"

plugin="$PT_BUILD_DIR/examples/libmystrat.so"
run_pt strategies --json "$plugin"
expect_exit 0 "describes a plugin"
expect_out '"name":[[:space:]]*"mystrat"' "plugin name"
expect_out '"builtin":[[:space:]]*false' "marked as plugin"

run_pt strategies no_such_strategy
expect_exit 2 "unknown name exits 2"
expect_err "no_such_strategy" "names the unknown strategy"
expect_err "sma_cross" "lists the built-ins"

run_pt strategies /nonexistent/libx.so
expect_exit 2 "missing plugin exits 2"
expect_err "/nonexistent/libx.so" "names the plugin path"

run_pt strategies --bogus
expect_exit 2 "unknown option exits 2"
run_pt strategies --help
expect_exit 0 "--help exits 0"
expect_out "usage: papertrader strategies" "usage text"

finish
