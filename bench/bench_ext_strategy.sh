#!/usr/bin/env bash
# An external strategy's cost: examples/strategies/sma_cross.py (Python SDK)
# against the in-process built-in sma_cross on generated candles, batched and
# one-candle lockstep, pinned to one core and not; candles/s, protocol cost
# per candle (wall time over the built-in's, per candle), peak RSS of
# papertrader and of the Python child. Every run's trades.csv must equal the
# built-in's (else the script fails).
# Usage: bench/bench_ext_strategy.sh [BUILD_DIR] [ROWS...]  (default: build, 1000000)
# Lockstep runs use ROWS/10 candles (about 8k candles/s: minutes otherwise).
# Not a test: figures depend on the machine and its load.
NAME=bench_ext_strategy
. "$(dirname "$0")/lib.bash" "$@"
[ "${#@}" -gt 1 ] || SIZES=(1000000)
PY=examples/strategies/sma_cross.py
export PYTHONPATH="$PWD/sdk/python"

# wall µs and peak RSS (KiB) of papertrader and of its child, by polling /proc
run_measured() { # OUTDIR ENV... -- ARGS...
  local out=$1; shift
  local envs=()
  while [ "$1" != "--" ]; do envs+=("$1"); shift; done; shift
  rm -rf "$out"
  local t0 t1 pid ph=0 ch=0 v c
  t0=$(date +%s%N)
  env "${envs[@]}" "$BIN" backtest --quiet --out "$out" "$@" >/dev/null 2>&1 &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    v=$(awk '/^VmHWM:/{print $2}' "/proc/$pid/status" 2>/dev/null || true)
    [ -n "$v" ] && [ "$v" -gt "$ph" ] && ph=$v
    for c in $(cat "/proc/$pid/task/$pid/children" 2>/dev/null); do
      v=$(awk '/^VmHWM:/{print $2}' "/proc/$c/status" 2>/dev/null || true)
      [ -n "$v" ] && [ "$v" -gt "$ch" ] && ch=$v
    done
    sleep 0.05
  done
  wait "$pid" || { echo "$NAME: backtest failed ($*)" >&2; exit 1; }
  t1=$(date +%s%N)
  echo "$(( (t1 - t0) / 1000 )) $ph $ch"
}

printf '%-26s %9s %12s %12s %9s %9s\n' variant candles candles/s "us/candle+" parentMB childMB
for n in "${SIZES[@]}"; do
  for rows in "$n" $((n / 10)); do
    f="$tmp/c_$rows.csv"
    "$GEN" --rows "$rows" --seed 42 -o "$f"
    read -r tb pb _ < <(run_measured "$tmp/b" PT_X=1 -- "$f")
    printf '%-26s %9s %12s %12s %9s %9s\n' "built-in sma_cross" "$rows" $(( rows * 1000000 / tb )) - \
      "$(awk -v k="$pb" 'BEGIN{printf "%.1f", k/1024}')" -
    for v in "batched pinned:1:1" "batched not-pinned:1:0" "lockstep pinned:0:1" "lockstep not-pinned:0:0"; do
      IFS=: read -r label batch pin <<<"$v"
      # batched on the full size, lockstep on the tenth
      if { [ "$batch" = 1 ] && [ "$rows" != "$n" ]; } || { [ "$batch" = 0 ] && [ "$rows" = "$n" ]; }; then
        continue
      fi
      read -r t p c < <(run_measured "$tmp/x" PT_STRATEGY_BATCH=$batch PT_STRATEGY_PIN=$pin -- \
        --strategy "$PY" "$f")
      cmp -s "$tmp/b/trades.csv" "$tmp/x/trades.csv" || { echo "$NAME: $label trades differ" >&2; exit 1; }
      printf '%-26s %9s %12s %12s %9s %9s\n' "python $label" "$rows" $(( rows * 1000000 / t )) \
        "$(awk -v a="$t" -v b="$tb" -v r="$rows" 'BEGIN{printf "%.2f", (a-b)/r}')" \
        "$(awk -v k="$p" 'BEGIN{printf "%.1f", k/1024}')" "$(awk -v k="$c" 'BEGIN{printf "%.1f", k/1024}')"
    done
    rm -f "$f"
  done
done
