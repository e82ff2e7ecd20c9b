#!/usr/bin/env bash
# optimize: every row of results.csv equals the report.json of `backtest`
# with that parameter set and the same engine flags, for every built-in
# strategy (names and parameters read from `papertrader strategies`).
set -u
. "$(dirname "$0")/lib.bash"
DATA="$PT_SHARED_DATA/freqtrade_ADA-BTC_5m.csv"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
ENGINE=(--fee-bps 7 --slippage-bps 2 --sizing percent:50 --cash 5000)

# row N of results.csv (1-based) against DIR/report.json, field by field
compare() {
  node -e '
    const fs = require("fs");
    const [csv, rep, n] = process.argv.slice(1);
    const split = (l) => l.match(/("([^"]|"")*"|[^,]*)(,|$)/g).slice(0, -1)
      .map((f) => f.replace(/,$/, "").replace(/^"(.*)"$/, "$1").replace(/""/g, "\""));
    const lines = fs.readFileSync(csv, "utf8").trim().split("\n");
    const head = split(lines[0]), row = split(lines[+n]);
    const flat = {};
    const walk = (o, p) => { for (const k of Object.keys(o)) { const key = p ? p + "." + k : k;
      if (o[k] !== null && typeof o[k] === "object") walk(o[k], key); else flat[key] = o[k]; } };
    walk(JSON.parse(fs.readFileSync(rep, "utf8")), "");
    const bad = [];
    let metrics = 0;
    head.forEach((h, i) => {
      if (!(h in flat)) return; /* a parameter column */
      metrics++;
      const v = flat[h], c = row[i];
      const same = v === null ? c === "" : typeof v === "number" ? Number(c) === v && c !== "" : String(v) === c;
      if (!same) bad.push(h + ": csv " + c + " json " + v);
    });
    if (metrics !== Object.keys(flat).length) bad.push("columns " + metrics + " vs report.json " + Object.keys(flat).length);
    if (bad.length) { console.log(bad.join("\n")); process.exit(1); }
  ' "$1" "$2" "$3"
}

col_of() { awk -F, -v n="$2" 'NR==1{for(i=1;i<=NF;i++)if($i==n)c=i} NR==2{print $c}' "$1"; }
run_pt strategies
LIST=$OUT
mapfile -t NAMES < <(grep -E '^[a-z_]+$' <<<"$LIST")
[ "${#NAMES[@]}" -ge 6 ] && ok "strategies lists ${#NAMES[@]} built-ins" || bad "strategy list" "$OUT"
for s in "${NAMES[@]}"; do
  # first two parameters and their defaults: "  fast   default 10   integer [...]"
  mapfile -t PARAMS < <(awk -v s="$s" '$0==s{on=1;next} /^[a-z]/{on=0} on&&$2=="default"{print $1, $3, $4}' <<<"$LIST" | head -2)
  GRID=()
  for p in "${PARAMS[@]}"; do
    read -r name def kind <<<"$p"
    if [ "$kind" = integer ]; then GRID+=(--grid "$name=$def,$((def + 2))"); else GRID+=(--grid "$name=$def,$(node -e "console.log($def*1.1)")"); fi
  done
  run_pt optimize --strategy "$s" "${GRID[@]}" "${ENGINE[@]}" --jobs 2 --quiet --out "$T/$s" "$DATA"
  expect_exit 0 "$s: optimize ${GRID[*]}"
  rows=$(($(wc -l <"$T/$s/results.csv") - 1))
  [ "$rows" -ge 1 ] || bad "$s: no rows"
  for r in $(seq 1 "$rows"); do
    line=$(sed -n "$((r + 1))p" "$T/$s/results.csv")
    args=()
    IFS=, read -ra F <<<"$line"
    for i in "${!PARAMS[@]}"; do
      read -r name _ <<<"${PARAMS[$i]}"
      col=$(head -1 "$T/$s/results.csv" | tr , '\n' | grep -nx "$name" | cut -d: -f1)
      args+=(--param "$name=${F[$((col - 1))]}")
    done
    run_pt backtest --strategy "$s" "${args[@]}" "${ENGINE[@]}" --quiet --out "$T/$s-bt$r" "$DATA"
    if [ "$RC" -ne 0 ]; then bad "$s row $r: backtest exit $RC" "$ERR"; continue; fi
    if d=$(compare "$T/$s/results.csv" "$T/$s-bt$r/report.json" "$r"); then
      ok "$s row $r (${args[*]}) equals backtest's report.json"
    else
      bad "$s row $r (${args[*]}) differs from backtest" "$d"
    fi
  done
done

# several symbols (one portfolio, k-way merge) and a file with bad rows,
# duplicates and gaps: the quality verdicts replayed by every evaluation
# must be the ones the backtest's own checker gives
"$PT_BUILD_DIR/bench/gen_candles" --rows 20000 --seed 9 --faults 0.02 -o "$T/faulty.csv" 2>/dev/null
for set in multi faulty; do
  if [ $set = multi ]; then FILES=("$PT_SHARED_DATA/freqtrade_XRP-ETH_1m.csv" "$PT_SHARED_DATA/freqtrade_UNITTEST-BTC_1m.csv")
  else FILES=("$T/faulty.csv"); fi
  run_pt optimize --strategy sma_cross --grid fast=8,12 --grid slow=30 --max-positions 1 --quiet --out "$T/$set" "${FILES[@]}"
  expect_exit 0 "$set: optimize"
  for r in 1 2; do
    fast=$(sed -n "$((r + 1))p" "$T/$set/results.csv" | cut -d, -f1)
    run_pt backtest --strategy sma_cross --param fast="$fast" --param slow=30 --max-positions 1 --quiet --out "$T/$set-bt$r" "${FILES[@]}"
    if d=$(compare "$T/$set/results.csv" "$T/$set-bt$r/report.json" "$r"); then
      ok "$set row $r (fast=$fast) equals backtest's report.json"
    else
      bad "$set row $r differs from backtest" "$d"
    fi
  done
done
# an external strategy (examples/mystrat.c as a .so), swept on 2 workers
so="$PT_BUILD_DIR/examples/libmystrat.so"
run_pt optimize --strategy "$so" --grid lookback=5,10 --grid threshold_pct=0.5,1 "${ENGINE[@]}" --quiet --out "$T/so" "$DATA"
expect_exit 0 "external strategy: optimize"
for r in 1 2 3 4; do
  IFS=, read -r lb th _ <<<"$(sed -n "$((r + 1))p" "$T/so/results.csv")"
  run_pt backtest --strategy "$so" --param lookback="$lb" --param threshold_pct="$th" "${ENGINE[@]}" --quiet --out "$T/so-bt$r" "$DATA"
  if d=$(compare "$T/so/results.csv" "$T/so-bt$r/report.json" "$r"); then
    ok "external row $r (lookback=$lb threshold_pct=$th) equals backtest's report.json"
  else
    bad "external row $r differs from backtest" "$d"
  fi
done
# a Python strategy (examples/strategies/sma_cross.py), swept on 2 workers: each
# row equals backtest's report.json, and the built-in's grid row for row (every
# evaluation starts its engine indicators afresh: they once carried over)
PY="$PT_SOURCE_DIR/examples/strategies/sma_cross.py"
export PYTHONPATH="$PT_SOURCE_DIR/sdk/python"
run_pt optimize --strategy "$PY" --grid fast=5,10 --grid slow=30,40 "${ENGINE[@]}" --jobs 2 --quiet --out "$T/py" "$DATA"
expect_exit 0 "Python strategy: optimize"
run_pt optimize --strategy sma_cross --grid fast=5,10 --grid slow=30,40 "${ENGINE[@]}" --jobs 2 --quiet --out "$T/pyb" "$DATA"
if cmp -s <(sed 's/sma_cross_py/sma_cross/' "$T/py/results.csv") "$T/pyb/results.csv"; then
  ok "Python sma_cross's results.csv = the built-in's (but the name)"
else bad "Python sma_cross's results.csv = the built-in's" "$(diff <(sed 's/sma_cross_py/sma_cross/' "$T/py/results.csv") "$T/pyb/results.csv" | head -4)"; fi
for r in 1 4; do
  IFS=, read -r fa sl _ <<<"$(sed -n "$((r + 1))p" "$T/py/results.csv")"
  run_pt backtest --strategy "$PY" --param fast="$fa" --param slow="$sl" "${ENGINE[@]}" --quiet --out "$T/py-bt$r" "$DATA"
  if d=$(compare "$T/py/results.csv" "$T/py-bt$r/report.json" "$r"); then
    ok "Python row $r (fast=$fa slow=$sl) equals backtest's report.json"
  else
    bad "Python row $r differs from backtest" "$d"
  fi
done
# --controls (a live session's operator controls) applies to every evaluation
cat >"$T/controls.csv" <<CTL
boundary_ts,boundary_time,action,symbol
1516000000000,,pause,
1516600000000,,resume,
1517000000000,,flatten,
CTL
run_pt optimize --strategy sma_cross --grid fast=8,12 --grid slow=30 --controls "$T/controls.csv" --quiet --out "$T/ctl" "$DATA"
expect_exit 0 "--controls: optimize"
for r in 1 2; do
  fast=$(sed -n "$((r + 1))p" "$T/ctl/results.csv" | cut -d, -f1)
  run_pt backtest --strategy sma_cross --param fast="$fast" --param slow=30 --controls "$T/controls.csv" --quiet --out "$T/ctl-bt$r" "$DATA"
  if d=$(compare "$T/ctl/results.csv" "$T/ctl-bt$r/report.json" "$r"); then
    ok "--controls row $r (fast=$fast) equals backtest's report.json"
  else
    bad "--controls row $r differs from backtest" "$d"
  fi
done
[ "$(col_of "$T/ctl/results.csv" engine.risk_blocks.paused)" != 0 ] && ok "--controls: the pause blocked entries" ||
  bad "--controls had no effect"
grep -q 'rejected_candles' "$T/faulty/results.csv" && [ "$(sed -n 2p "$T/faulty/results.csv" | cut -d, -f34)" != 0 ] &&
  ok "the faulty file has rejected candles in the comparison" || bad "faulty file: no rejected candles"
finish
